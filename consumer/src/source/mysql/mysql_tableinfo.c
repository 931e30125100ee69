/*
 * mysql_tableinfo.c: freeing and copying table versions, and their
 * relations (mysql_tableinfo.h).
 */
#include "mysql_tableinfo.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void
trib_my_tableinfo_free(trib_my_tableinfo *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < t->ncols; i++)
		trib_my_colinfo_clear(&t->cols[i]);
	free(t->cols);
	free(t->db);
	free(t->table);
	free(t);
}

void
trib_my_colinfo_clear(trib_my_colinfo *col)
{
	for (int k = 0; k < col->nvalues; k++)
		free(col->values[k]);
	free(col->values);
	free(col->name);
	free(col->data_type);
	free(col->column_type);
	memset(col, 0, sizeof(*col));
}

void
trib_my_colinfo_copy(trib_my_colinfo *dst, const trib_my_colinfo *src)
{
	*dst = *src;
	dst->name = trib_xstrdup(src->name);
	dst->data_type = trib_xstrdup(src->data_type);
	dst->column_type = src->column_type ? trib_xstrdup(src->column_type) : NULL;
	dst->values = src->nvalues ? trib_xcalloc((size_t) src->nvalues, sizeof(char *)) : NULL;
	for (int k = 0; k < src->nvalues; k++)
		dst->values[k] = trib_xstrdup(src->values[k]);
}

trib_my_tableinfo *
trib_my_tableinfo_copy(const trib_my_tableinfo *t)
{
	trib_my_tableinfo *n = trib_xcalloc(1, sizeof(*n));

	n->db = trib_xstrdup(t->db);
	n->table = trib_xstrdup(t->table);
	n->ncols = t->ncols;
	n->cols = trib_xcalloc((size_t) (t->ncols ? t->ncols : 1), sizeof(trib_my_colinfo));
	for (int i = 0; i < t->ncols; i++)
		trib_my_colinfo_copy(&n->cols[i], &t->cols[i]);
	return n;
}

/* See mysql_tableinfo.h. */
void
trib_my_tableinfo_relation(const trib_my_tableinfo *t, trib_relation *rel)
{
	rel->schema = t->db;
	rel->table = t->table;
	rel->ncolumns = t->ncols;
	rel->version = trib_relation_fresh_version();
	rel->columns = trib_xcalloc((size_t) (t->ncols > 0 ? t->ncols : 1), sizeof(trib_column));
	for (int c = 0; c < t->ncols; c++)
	{
		const trib_my_colinfo *ci = &t->cols[c];

		rel->columns[c].name = ci->name;
		rel->columns[c].type = ci->data_type;
		rel->columns[c].decl = ci->column_type;
		rel->columns[c].nullable = ci->nullable;
		rel->columns[c].pk = rel->columns[c].identity = ci->pk_pos > 0;
	}
}
