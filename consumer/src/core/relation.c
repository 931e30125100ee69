/*
 * relation.c: life cycle of a captured table's schema (relation.h): deep
 * copies, clearing and freeing a relation with its columns, nested
 * relations included, and the process-wide fresh relation versions.
 *
 * Allocation failure aborts (xalloc.h), as for events: a source that
 * cannot copy a relation cannot make progress anyway.
 */
#include "relation.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Release what a relation owns (its names and columns) and zero it. */
void
trib_relation_clear(trib_relation *rel)
{
	for (int i = 0; i < rel->ncolumns; i++)
		trib_relation_column_clear(&rel->columns[i]);
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

/* See relation.h. */
void
trib_relation_column_untype(trib_column *c)
{
	free(c->decl);
	free(c->base_type);
	for (int i = 0; i < c->nenum_labels; i++)
		free(c->enum_labels[i]);
	free(c->enum_labels);
	c->decl = NULL;
	c->base_type = NULL;
	c->enum_labels = NULL;
	c->nenum_labels = 0;
}

/* See relation.h. */
void
trib_relation_column_clear(trib_column *c)
{
	trib_relation_column_untype(c);
	free(c->name);
	free(c->type);
	free(c->items);
	trib_relation_free(c->fields);
	memset(c, 0, sizeof(*c));
}

/* See relation.h. */
void
trib_relation_column_copy(trib_column *dst, const trib_column *src)
{
	*dst = *src;
	dst->name = dup_or_null(src->name);
	dst->type = dup_or_null(src->type);
	dst->decl = dup_or_null(src->decl);
	dst->base_type = dup_or_null(src->base_type);
	dst->enum_labels = NULL;
	if (src->nenum_labels > 0)
	{
		dst->enum_labels = trib_xcalloc((size_t) src->nenum_labels, sizeof(char *));
		for (int i = 0; i < src->nenum_labels; i++)
			dst->enum_labels[i] = trib_xstrdup(src->enum_labels[i]);
	}
	dst->items = dup_or_null(src->items);
	dst->fields = src->fields ? trib_relation_copy(src->fields) : NULL;
}

/* See relation.h. */
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
		trib_relation_column_copy(&r->columns[i], &rel->columns[i]);
	return r;
}

/* See relation.h. */
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
