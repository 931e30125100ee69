/*
 * merge.c: merged positions of a pipeline with several sources (merge.h).
 *
 * State: the number of the open group (or of the last one), which source
 * has it open, the event count within it, and per source the stored form
 * ("KEY:SEQ") of the last position it handed out, and of a source that
 * resumes by its opaque position (source.h resume_opaque) that position's
 * opaque text.  The merged opaque text is written with yajl_gen, so
 * source names are escaped whatever they are, and read back with
 * yajl_tree.
 */
#include "merge.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "eventid.h"
#include "jsondoc.h"
#include "xalloc.h"

struct trib_merge
{
	size_t		n;
	const char *const *names;
	const trib_source_ops *const *ops;
	char	  **last;			/* per source: "KEY:SEQ", or NULL */
	char	  **lastop;			/* per source: its opaque text there, kept
								 * for resume_opaque sources, or NULL */
	trib_position *lastpos;		/* per source: the same position (no
								 * opaque), where last is set */
	uint64_t	group;			/* the open (or last) group's number */
	uint64_t	next;			/* the next group's number */
	uint64_t	count;			/* events in the open group */
	int			open;			/* the source with an open group, or -1 */
};

/* Merged positions are ordered by (group, event) alone: core's event-id
 * forms ("M:S"; the gauge is the group number). */
const trib_source_ops trib_merge_pos_ops = {
	.type = "merged",
	.compare = trib_position_cmp,
	.format_id = trib_position_format_id,
	.parse_id = trib_position_parse_id,
	.store_form = trib_position_store_form,
	.gauge = trib_position_gauge,
};

/* ---- the merge ---------------------------------------------------------- */

/* See merge.h. */
trib_merge *
trib_merge_new(size_t n, const char *const *names, const trib_source_ops *const *ops)
{
	trib_merge *m = trib_xcalloc(1, sizeof(*m));

	m->n = n;
	m->names = names;
	m->ops = ops;
	m->last = trib_xcalloc(n ? n : 1, sizeof(char *));
	m->lastop = trib_xcalloc(n ? n : 1, sizeof(char *));
	m->lastpos = trib_xcalloc(n ? n : 1, sizeof(trib_position));
	m->next = 1;
	m->open = -1;
	return m;
}

/* See merge.h. */
void
trib_merge_free(trib_merge *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
	{
		free(m->last[i]);
		free(m->lastop[i]);
	}
	free(m->last);
	free(m->lastop);
	free(m->lastpos);
	free(m);
}

/* See merge.h. */
void
trib_merge_set_next(trib_merge *m, uint64_t next)
{
	m->next = next > 0 ? next : 1;
}

/* Source c's position in its stored form ("KEY:SEQ"), or NULL when it
 * has no ordered part. */
static char *
stored_text(const trib_merge *m, size_t c, const trib_position *pos)
{
	char		key[TRIB_LSN_BUFLEN];
	char		text[TRIB_LSN_BUFLEN + 24];
	uint64_t	seq;

	m->ops[c]->store_form(pos, key, sizeof(key), &seq);
	if (key[0] == '\0')
		return NULL;
	snprintf(text, sizeof(text), "%s:%" PRIu64, key, seq);
	return trib_xstrdup(text);
}

/* Remember source c's position. */
static void
note(trib_merge *m, size_t c, const trib_position *pos)
{
	char	   *text = stored_text(m, c, pos);

	if (text == NULL)
		return;
	free(m->last[c]);
	m->last[c] = text;
	m->lastpos[c] = *pos;
	m->lastpos[c].opaque = NULL;
	if (m->ops[c]->resume_opaque)
	{
		free(m->lastop[c]);
		m->lastop[c] = pos->opaque ? trib_xstrdup(pos->opaque) : NULL;
	}
}

/* The "opaque" member: {"NAME": its opaque text (verbatim JSON), ...} for
 * the sources that resume by it; texts[i] NULL: none for source i. */
static void
gen_opaques(const trib_merge *m, yajl_gen g, const char *const *texts)
{
	bool		any = false;

	for (size_t i = 0; i < m->n; i++)
		any = any || texts[i] != NULL;
	if (!any)
		return;
	yajl_gen_string(g, (const unsigned char *) "opaque", 6);
	yajl_gen_map_open(g);
	for (size_t i = 0; i < m->n; i++)
	{
		if (texts[i] == NULL)
			continue;
		yajl_gen_string(g, (const unsigned char *) m->names[i], strlen(m->names[i]));
		yajl_gen_number(g, texts[i], strlen(texts[i]));	/* verbatim */
	}
	yajl_gen_map_close(g);
}

/* See merge.h. */
void
trib_merge_seed(trib_merge *m, size_t c, const trib_position *pos)
{
	note(m, c, pos);
}

/* See merge.h. */
int
trib_merge_open_source(const trib_merge *m)
{
	return m->open;
}

/* See merge.h. */
void
trib_merge_begin(trib_merge *m, size_t c)
{
	m->group = m->next++;
	m->count = 0;
	m->open = (int) c;
}

/* See merge.h. */
void
trib_merge_suspend(trib_merge *m)
{
	m->open = -1;
}

/* See merge.h. */
char *
trib_merge_vector(const trib_merge *m, const bool *has_floor, const trib_position *floor)
{
	yajl_gen	g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t		len;
	char	   *out;
	const char **ops = trib_xcalloc(m->n ? m->n : 1, sizeof(char *));

	yajl_gen_map_open(g);
	yajl_gen_string(g, (const unsigned char *) "sources", 7);
	yajl_gen_map_open(g);
	for (size_t i = 0; i < m->n; i++)
	{
		char	   *own = NULL;
		const char *text = m->last[i];

		ops[i] = m->lastop[i];
		if (has_floor != NULL && has_floor[i] &&
			(text == NULL || m->ops[i]->compare(&m->lastpos[i], &floor[i]) < 0))
		{
			text = own = stored_text(m, i, &floor[i]);
			ops[i] = m->ops[i]->resume_opaque ? floor[i].opaque : NULL;
		}
		if (text == NULL)
		{
			ops[i] = NULL;
			continue;
		}
		yajl_gen_string(g, (const unsigned char *) m->names[i], strlen(m->names[i]));
		yajl_gen_string(g, (const unsigned char *) text, strlen(text));
		free(own);
	}
	yajl_gen_map_close(g);
	gen_opaques(m, g, ops);
	free(ops);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	out = trib_xmalloc(len + 1);
	memcpy(out, buf, len);
	out[len] = '\0';
	yajl_gen_free(g);
	return out;
}

/* See merge.h. */
void
trib_merge_event(trib_merge *m, size_t c, const trib_position *pos, trib_position *out)
{
	if (m->open != (int) c)
		trib_merge_begin(m, c);	/* events outside a transaction */
	note(m, c, pos);
	memset(out, 0, sizeof(*out));
	out->commit_lsn = m->group;
	out->end_lsn = m->group;
	out->seq = m->count++;
	out->opaque = trib_merge_vector(m, NULL, NULL);
}

/* See merge.h. */
void
trib_merge_end(trib_merge *m, size_t c, const trib_position *end, trib_position *out)
{
	if (m->open != (int) c)
		trib_merge_begin(m, c);	/* an END without BEGIN or events */
	note(m, c, end);
	memset(out, 0, sizeof(*out));
	out->commit_lsn = m->group;
	out->end_lsn = m->group;
	out->seq = TRIB_SEQ_ALL;
	m->open = -1;
}

/* See merge.h. */
bool
trib_merge_is_merged(const char *opaque)
{
	const char *spath[] = {"sources", NULL};
	yajl_val	root;
	bool		merged;

	if (opaque == NULL || strstr(opaque, "\"sources\"") == NULL)
		return false;
	root = yajl_tree_parse(opaque, NULL, 0);
	merged = root != NULL && yajl_tree_get(root, spath, yajl_t_object) != NULL;
	yajl_tree_free(root);
	return merged;
}

/* See merge.h. */
int
trib_merge_source_pos(const char *opaque, const char *name, const trib_source_ops *ops,
					  trib_position *out, char *errbuf, size_t errlen)
{
	const char *path[] = {"sources", name, NULL};
	const char *opath[] = {"opaque", name, NULL};
	const char *spath[] = {"sources", NULL};
	yajl_val	root = opaque != NULL ? yajl_tree_parse(opaque, NULL, 0) : NULL;
	yajl_val	v;
	int			rc = 0;

	if (root == NULL || yajl_tree_get(root, spath, yajl_t_object) == NULL)
	{
		snprintf(errbuf, errlen, "its stored position was written by a pipeline with one "
				 "source, which does not say how far each source is: a source cannot be "
				 "added to a pipeline whose sinks hold data; run the sources as a new "
				 "pipeline into new sink targets (or remove the sink's stored position "
				 "and its data)");
		yajl_tree_free(root);
		return -1;
	}
	v = yajl_tree_get(root, path, yajl_t_string);
	if (v != NULL)
	{
		rc = ops->parse_id(YAJL_GET_STRING(v), out) ? 1 : -1;
		if (rc < 0)
			snprintf(errbuf, errlen, "its stored position of source %s (\"%s\") cannot be read",
					 name, YAJL_GET_STRING(v));
		out->opaque = NULL;
		v = ops->resume_opaque ? yajl_tree_get(root, opath, yajl_t_object) : NULL;
		if (rc > 0 && v != NULL)
			out->opaque = trib_jdoc_dump(v);
	}
	yajl_tree_free(root);
	return rc;
}
