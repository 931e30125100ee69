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

/* See event.h. */
void
trib_column_clear(trib_column *c)
{
	free(c->name);
	free(c->type);
	free(c->items);
	trib_relation_free(c->fields);
	memset(c, 0, sizeof(*c));
}

/* See event.h. */
void
trib_column_copy(trib_column *dst, const trib_column *src)
{
	*dst = *src;
	dst->name = src->name ? trib_xstrdup(src->name) : NULL;
	dst->type = src->type ? trib_xstrdup(src->type) : NULL;
	dst->items = src->items ? trib_xstrdup(src->items) : NULL;
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
