/*
 * mongo_snapprog.c: the MongoDB snapshot's progress as JSON text and back
 * (mongo_snapprog.h).  Written with the strbuf and the JSON quoting helper
 * (every string quoted), read with yajl_tree.
 */
#include "mongo_snapprog.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "errf.h"
#include "jsondoc.h"
#include "strbuf.h"
#include "xalloc.h"

/* "key": "text" or "key": null */
static void
add_str(trib_strbuf *b, const char *key, const char *text)
{
	trib_strbuf_printf(b, ",\"%s\":", key);
	if (text)
		trib_jdoc_quote(b, text);
	else
		trib_strbuf_adds(b, "null");
}

char *
trib_mongo_snapprog_to_json(const trib_mongo_snapprog *p)
{
	trib_strbuf b = {0};

	trib_strbuf_adds(&b, "{\"snapshot\":{\"state\":");
	trib_jdoc_quote(&b, p->state);
	trib_strbuf_adds(&b, ",\"mode\":");
	trib_jdoc_quote(&b, p->mode);
	trib_strbuf_printf(&b, ",\"time\":\"%" PRIu32 ".%" PRIu32 "\",\"ranges\":[",
					   (uint32_t) (p->time >> 32), (uint32_t) p->time);
	for (size_t i = 0; i < p->nranges; i++)
	{
		const trib_mongo_range *r = &p->ranges[i];

		trib_strbuf_adds(&b, i ? ",{\"db\":" : "{\"db\":");
		trib_jdoc_quote(&b, r->db);
		add_str(&b, "coll", r->coll);
		trib_strbuf_printf(&b, ",\"keyset\":%s", r->keyset ? "true" : "false");
		add_str(&b, "min", r->min);
		add_str(&b, "max", r->max);
		add_str(&b, "after", r->after);
		trib_strbuf_printf(&b, ",\"rows\":%" PRIu64 ",\"done\":%s}", r->rows,
						   r->done ? "true" : "false");
	}
	trib_strbuf_adds(&b, "]}}");
	return trib_strbuf_finish(&b);
}

/* One range of the "ranges" array; false when a member is wrong. */
static bool
range_of(trib_mongo_snapprog *p, yajl_val o)
{
	const char *kpath[] = {"keyset", NULL};
	const char *rpath[] = {"rows", NULL};
	const char *dpath[] = {"done", NULL};
	yajl_val	rows = yajl_tree_get(o, rpath, yajl_t_number);
	const char *db = trib_jdoc_member_str(o, "db");
	const char *coll = trib_jdoc_member_str(o, "coll");
	const char *after = trib_jdoc_member_str(o, "after");
	trib_mongo_range *r;

	if (!YAJL_IS_OBJECT(o) || !db || !coll || !rows ||
		!YAJL_IS_INTEGER(rows) || YAJL_GET_INTEGER(rows) < 0)
		return false;
	r = trib_mongo_snapprog_add(p, db, coll, yajl_tree_get(o, kpath, yajl_t_true) != NULL,
								trib_jdoc_member_str(o, "min"), trib_jdoc_member_str(o, "max"));
	if (after)
		r->after = trib_xstrdup(after);
	r->rows = (uint64_t) YAJL_GET_INTEGER(rows);
	r->done = yajl_tree_get(o, dpath, yajl_t_true) != NULL;
	return true;
}

/* See mongo_snapprog.h. */
int
trib_mongo_snapprog_from_json(const char *json, trib_mongo_snapprog *out, char *errbuf,
							  size_t errlen)
{
	const char *spath[] = {"snapshot", NULL};
	const char *rpath[] = {"ranges", NULL};
	yajl_val	root = json ? yajl_tree_parse(json, NULL, 0) : NULL;
	yajl_val	s = root ? yajl_tree_get(root, spath, yajl_t_object) : NULL;
	yajl_val	ranges;
	const char *state,
			   *mode,
			   *time;
	int			rc = -1;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
	{
		yajl_tree_free(root);
		return 0;
	}
	state = trib_jdoc_member_str(s, "state");
	mode = trib_jdoc_member_str(s, "mode");
	time = trib_jdoc_member_str(s, "time");
	ranges = yajl_tree_get(s, rpath, yajl_t_array);
	if (!state || !mode || !time || !ranges || strlen(state) >= sizeof(out->state) ||
		strlen(mode) >= sizeof(out->mode))
		goto bad;
	{
		unsigned long t = 0,
					i = 0;

		if (sscanf(time, "%lu.%lu", &t, &i) != 2 || t > UINT32_MAX || i > UINT32_MAX)
			goto bad;
		out->time = (uint64_t) t << 32 | i;
	}
	snprintf(out->state, sizeof(out->state), "%s", state);
	snprintf(out->mode, sizeof(out->mode), "%s", mode);
	for (size_t i = 0; i < YAJL_GET_ARRAY(ranges)->len; i++)
		if (!range_of(out, YAJL_GET_ARRAY(ranges)->values[i]))
			goto bad;
	rc = 1;
	goto done;
bad:
	trib_errf(errbuf, errlen, "checkpoint: the MongoDB snapshot's progress is malformed "
			  "(remove the checkpoint to copy again)");
	trib_mongo_snapprog_clear(out);
done:
	yajl_tree_free(root);
	return rc;
}

/* See mongo_snapprog.h. */
trib_mongo_range *
trib_mongo_snapprog_add(trib_mongo_snapprog *p, const char *db, const char *coll, bool keyset,
						const char *min, const char *max)
{
	trib_mongo_range *r;

	p->ranges = trib_xadd_zeroed(p->ranges, p->nranges, sizeof(*p->ranges));
	r = &p->ranges[p->nranges++];
	r->db = trib_xstrdup(db);
	r->coll = trib_xstrdup(coll);
	r->keyset = keyset;
	r->min = min ? trib_xstrdup(min) : NULL;
	r->max = max ? trib_xstrdup(max) : NULL;
	return r;
}

/* See mongo_snapprog.h. */
void
trib_mongo_snapprog_clear(trib_mongo_snapprog *p)
{
	for (size_t i = 0; i < p->nranges; i++)
	{
		free(p->ranges[i].db);
		free(p->ranges[i].coll);
		free(p->ranges[i].min);
		free(p->ranges[i].max);
		free(p->ranges[i].after);
	}
	free(p->ranges);
	memset(p, 0, sizeof(*p));
}
