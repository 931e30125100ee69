/*
 * event.c: life cycle of the internal event type.
 *
 * An event is a flat struct of owned strings plus borrowed naming strings
 * (event.h), so freeing it is a fixed list of free() calls; allocation failure aborts, because a
 * consumer that cannot allocate an event cannot make progress anyway.
 */
#include "event.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* A new zeroed event; aborts on out-of-memory (xalloc.h). */
trib_event *
trib_event_new(void)
{
	return trib_xcalloc(1, sizeof(trib_event));
}

/* Free an event and every string it owns; the naming strings
 * (source ... table) are borrowed and stay. */
void
trib_event_free(trib_event *ev)
{
	if (ev == NULL)
		return;
	trib_event_clear(ev);
	free(ev);
}

/* Release what an event owns and zero it; the struct stays. */
void
trib_event_clear(trib_event *ev)
{
	free(ev->before);
	free(ev->after);
	free(ev->key);
	free(ev->unchanged);
	free(ev->after_json_nulls);
	free(ev->before_json_nulls);
	free(ev->extra);
	free(ev->pos.opaque);
	free(ev->topic);
	free(ev->tags);
	free(ev->error);
	memset(ev, 0, sizeof(*ev));
}

/* *dst = a copy of src (NULL stays NULL); adds its size to *bytes. */
static void
dup_owned(char **dst, const char *src, size_t *bytes)
{
	if (src == NULL)
		return;
	*dst = trib_xstrdup(src);
	*bytes += strlen(src) + 1;
}

/* See event.h. */
size_t
trib_event_copy(const trib_event *ev, trib_event *out)
{
	size_t		bytes = 0;

	*out = *ev;					/* scalars and the borrowed pointers */
	out->before = out->after = out->key = out->unchanged = NULL;
	out->after_json_nulls = out->before_json_nulls = out->extra = NULL;
	out->pos.opaque = out->topic = out->tags = out->error = NULL;
	dup_owned(&out->before, ev->before, &bytes);
	dup_owned(&out->after, ev->after, &bytes);
	dup_owned(&out->key, ev->key, &bytes);
	dup_owned(&out->unchanged, ev->unchanged, &bytes);
	dup_owned(&out->after_json_nulls, ev->after_json_nulls, &bytes);
	dup_owned(&out->before_json_nulls, ev->before_json_nulls, &bytes);
	dup_owned(&out->extra, ev->extra, &bytes);
	dup_owned(&out->pos.opaque, ev->pos.opaque, &bytes);
	trib_position_set_opaque(&out->pos, out->pos.opaque, trib_position_opaque_source(&ev->pos));
	dup_owned(&out->topic, ev->topic, &bytes);
	dup_owned(&out->tags, ev->tags, &bytes);
	dup_owned(&out->error, ev->error, &bytes);
	return bytes;
}

/* Release what a relation owns (its names and columns) and zero it. */
void
trib_relation_clear(trib_relation *rel)
{
	for (int i = 0; i < rel->ncolumns; i++)
		trib_column_clear(&rel->columns[i]);
	free(rel->columns);
	free(rel->schema);
	free(rel->table);
	memset(rel, 0, sizeof(*rel));
}

/* A copy of s or NULL. */
static char *
dup_or_null(const char *s)
{
	return s ? trib_xstrdup(s) : NULL;
}

/* See event.h. */
void
trib_column_clear(trib_column *c)
{
	free(c->name);
	free(c->type);
	free(c->decl);
	free(c->items);
	trib_relation_free(c->fields);
	memset(c, 0, sizeof(*c));
}

/* See event.h. */
void
trib_column_copy(trib_column *dst, const trib_column *src)
{
	*dst = *src;
	dst->name = dup_or_null(src->name);
	dst->type = dup_or_null(src->type);
	dst->decl = dup_or_null(src->decl);
	dst->items = dup_or_null(src->items);
	dst->fields = src->fields ? trib_relation_copy(src->fields) : NULL;
}

/* See event.h. */
trib_relation *
trib_relation_copy(const trib_relation *rel)
{
	trib_relation *r = trib_xcalloc(1, sizeof(*r));

	r->schema = rel->schema ? trib_xstrdup(rel->schema) : NULL;
	r->table = rel->table ? trib_xstrdup(rel->table) : NULL;
	r->version = rel->version;
	r->ncolumns = rel->ncolumns;
	r->columns = trib_xcalloc((size_t) rel->ncolumns + 1, sizeof(trib_column));
	for (int i = 0; i < rel->ncolumns; i++)
		trib_column_copy(&r->columns[i], &rel->columns[i]);
	return r;
}

/* See event.h. */
uint32_t
trib_relation_fresh_version(void)
{
	static atomic_uint next = 0x80000000u;

	return (uint32_t) atomic_fetch_add(&next, 1);
}

/* Free a relation built on the heap and everything it owns. */
void
trib_relation_free(trib_relation *rel)
{
	if (rel == NULL)
		return;
	trib_relation_clear(rel);
	free(rel);
}
