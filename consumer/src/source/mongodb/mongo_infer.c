/*
 * mongo_infer.c: per-collection relations inferred from documents (see
 * mongo_infer.h).  Documents are read with yajl_tree.
 */
#include "mongo_infer.h"

#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "intern.h"
#include "xalloc.h"

/* A collection: its relation versions, newest last. */
typedef struct coll_rels
{
	trib_relation **vers;
	size_t		n;
} coll_rels;

struct trib_mongo_infer
{
	trib_intern *colls;			/* "db\0coll" -> coll_rels */
};

trib_mongo_infer *
trib_mongo_infer_new(void)
{
	trib_mongo_infer *inf = trib_xcalloc(1, sizeof(*inf));

	inf->colls = trib_intern_new();
	return inf;
}

/* The type of a value, or NULL for null. */
static const char *
type_of(yajl_val v)
{
	if (YAJL_IS_STRING(v))
		return "text";
	if (YAJL_IS_INTEGER(v))
		return "bigint";
	if (YAJL_IS_NUMBER(v))
		return "double precision";
	if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
		return "boolean";
	if (YAJL_IS_NULL(v))
		return NULL;
	if (YAJL_IS_OBJECT(v) && YAJL_GET_OBJECT(v)->len == 1)
	{
		const char *k = YAJL_GET_OBJECT(v)->keys[0];

		if (strcmp(k, "$numberLong") == 0)
			return "bigint";
		if (strcmp(k, "$numberDecimal") == 0)
			return "numeric";
		if (strcmp(k, "$numberDouble") == 0)
			return "double precision";
	}
	return "jsonb";
}

/* Two types of one field as one. */
static const char *
widen(const char *a, const char *b)
{
	if (strcmp(a, b) == 0)
		return a;
	if ((!strcmp(a, "bigint") && !strcmp(b, "double precision")) ||
		(!strcmp(b, "bigint") && !strcmp(a, "double precision")))
		return "double precision";
	return "jsonb";
}

/* A copy of rel (a new version's start). */
static trib_relation *
rel_copy(const trib_relation *rel)
{
	trib_relation *r = trib_xcalloc(1, sizeof(*r));

	r->schema = trib_xstrdup(rel->schema);
	r->table = trib_xstrdup(rel->table);
	r->version = rel->version + 1;
	r->ncolumns = rel->ncolumns;
	r->columns = trib_xcalloc((size_t) rel->ncolumns + 1, sizeof(*r->columns));
	for (int i = 0; i < rel->ncolumns; i++)
		trib_column_copy(&r->columns[i], &rel->columns[i]);
	return r;
}

/* Column `name` of r, or -1. */
static int
col_of(const trib_relation *r, const char *name)
{
	for (int i = 0; i < r->ncolumns; i++)
		if (strcmp(r->columns[i].name, name) == 0)
			return i;
	return -1;
}

/* The shape cur has after doc: NULL when doc adds nothing, else a new
 * version (built on a copy of cur). */
static trib_relation *
widened(const trib_relation *cur, yajl_val doc)
{
	trib_relation *next = NULL;

	for (size_t i = 0; i < YAJL_GET_OBJECT(doc)->len; i++)
	{
		const char *name = YAJL_GET_OBJECT(doc)->keys[i];
		const char *t = type_of(YAJL_GET_OBJECT(doc)->values[i]);
		const trib_relation *now = next ? next : cur;
		int			c = col_of(now, name);
		trib_column *col;

		if (t == NULL ||
			(c >= 0 && strcmp(widen(now->columns[c].type, t), now->columns[c].type) == 0))
			continue;			/* null, or nothing new */
		if (next == NULL)
			next = rel_copy(cur);
		if (c < 0)
		{
			next->columns = trib_xrealloc(next->columns,
										  (size_t) (next->ncolumns + 1) * sizeof(*next->columns));
			col = &next->columns[next->ncolumns++];
			memset(col, 0, sizeof(*col));
			col->name = trib_xstrdup(name);
			col->type = trib_xstrdup(t);
			col->pk = strcmp(name, "_id") == 0;
			col->nullable = !col->pk;
			continue;
		}
		col = &next->columns[c];
		t = widen(col->type, t);
		free(col->type);
		col->type = trib_xstrdup(t);
	}
	return next;
}

/* See mongo_infer.h. */
void
trib_mongo_infer_event(trib_mongo_infer *inf, trib_event *ev)
{
	size_t		dl = ev->db ? strlen(ev->db) : 0,
				tl = ev->table ? strlen(ev->table) : 0;
	char	   *key;
	coll_rels **slot;
	coll_rels  *cr;
	const char *text = ev->after ? ev->after : ev->before;
	yajl_val	doc;
	trib_relation *next;

	if (ev->op == TRIB_OP_MESSAGE || ev->table == NULL)
		return;
	key = trib_xcalloc(dl + tl + 2, 1);
	memcpy(key, ev->db ? ev->db : "", dl);
	memcpy(key + dl + 1, ev->table, tl);
	slot = (coll_rels **) trib_intern_value(inf->colls, key, dl + tl + 1);
	free(key);
	if (*slot == NULL)
		*slot = trib_xcalloc(1, sizeof(coll_rels));
	cr = *slot;
	doc = text ? yajl_tree_parse(text, NULL, 0) : NULL;
	if (doc != NULL && YAJL_IS_OBJECT(doc))
	{
		trib_relation empty = {.schema = (char *) (ev->db ? ev->db : ""),
		.table = (char *) ev->table};

		next = widened(cr->n ? cr->vers[cr->n - 1] : &empty, doc);
		if (next != NULL)
		{
			cr->vers = trib_xrealloc(cr->vers, (cr->n + 1) * sizeof(*cr->vers));
			cr->vers[cr->n++] = next;
		}
	}
	yajl_tree_free(doc);
	ev->rel = cr->n ? cr->vers[cr->n - 1] : NULL;
}

/* Free a collection's versions. */
static void
free_coll(void *v)
{
	coll_rels  *cr = v;

	for (size_t i = 0; i < cr->n; i++)
		trib_relation_free(cr->vers[i]);
	free(cr->vers);
	free(cr);
}

/* See mongo_infer.h. */
void
trib_mongo_infer_free(trib_mongo_infer *inf)
{
	if (inf == NULL)
		return;
	trib_intern_each_value(inf->colls, free_coll);
	trib_intern_free(inf->colls);
	free(inf);
}
