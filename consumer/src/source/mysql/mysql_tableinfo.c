/*
 * mysql_tableinfo.c: freeing and copying table versions
 * (mysql_tableinfo.h).
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
