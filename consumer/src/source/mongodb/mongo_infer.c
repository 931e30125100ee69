/*
 * mongo_infer.c: per-collection relations inferred from documents (see
 * mongo_infer.h).  Documents are read with yajl_tree.
 */
#include "mongo_infer.h"

#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "intern.h"
#include "log.h"
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
	const trib_source_host *host;	/* seeds new collections, or NULL */
	bool		unread;			/* the catalog failed once (logged) */
};

trib_mongo_infer *
trib_mongo_infer_new(void)
{
	trib_mongo_infer *inf = trib_xcalloc(1, sizeof(*inf));

	inf->colls = trib_intern_new();
	return inf;
}

/* Is v a plain subdocument (not an Extended JSON value: {"$oid": ...})? */
static bool
plain_object(yajl_val v)
{
	return YAJL_IS_OBJECT(v) &&
		(YAJL_GET_OBJECT(v)->len == 0 || YAJL_GET_OBJECT(v)->keys[0][0] != '$');
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

/* A deep copy of rel, one version on (a new version's start). */
static trib_relation *
rel_copy(const trib_relation *rel)
{
	trib_relation *r = trib_relation_copy(rel);

	r->version++;
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

static bool merge_props(trib_relation *rel, yajl_val obj, bool top);
static bool merge_value(trib_column *col, yajl_val v, bool arrays);

/* The properties of a new object column (fields, empty). */
static trib_relation *
new_fields(void)
{
	trib_relation *f = trib_xcalloc(1, sizeof(*f));

	f->columns = trib_xcalloc(1, sizeof(*f->columns));
	return f;
}

/* Start column col (zeroed) from its first non-null value v. */
static void
init_column(trib_column *col, const char *name, yajl_val v, bool top, bool arrays)
{
	col->name = trib_xstrdup(name);
	col->type = trib_xstrdup(type_of(v));
	col->pk = top && strcmp(name, "_id") == 0;
	col->nullable = !col->pk;
	if (plain_object(v))
	{
		col->fields = new_fields();
		merge_props(col->fields, v, false);
	}
	else if (arrays && YAJL_IS_ARRAY(v))
	{
		col->items = trib_xstrdup("");
		merge_value(col, v, true);
	}
}

/* Widen an array column's item type (and fields) by the items of arr. */
static bool
merge_items(trib_column *col, yajl_val arr)
{
	trib_column item = {.type = col->items,.fields = col->fields};
	bool		changed = false;

	for (size_t i = 0; i < YAJL_GET_ARRAY(arr)->len; i++)
	{
		yajl_val	e = YAJL_GET_ARRAY(arr)->values[i];

		if (type_of(e) == NULL)
			continue;
		if (item.type[0] == '\0')
		{
			free(item.type);
			init_column(&item, "", e, false, false);
			free(item.name);	/* an item has no name */
			changed = true;
		}
		else
			changed = merge_value(&item, e, false) || changed;
	}
	col->items = item.type;
	col->fields = item.fields;
	return changed;
}

/*
 * Widen col by its value v: a new type, new properties of its objects, a
 * new item type of its arrays (with `arrays`; an array in an array is
 * plain jsonb), or a mix of kinds (then the structure is forgotten: plain
 * jsonb).  True when col changed.
 */
static bool
merge_value(trib_column *col, yajl_val v, bool arrays)
{
	const char *t = type_of(v);
	const char *w;
	bool		changed = false;

	if (t == NULL)
		return false;			/* null says nothing */
	w = widen(col->type, t);
	if (strcmp(w, col->type) != 0)
	{
		char	   *n = trib_xstrdup(w);

		free(col->type);
		col->type = n;
		changed = true;
	}
	if (plain_object(v) && col->fields != NULL && col->items == NULL)
		return merge_props(col->fields, v, false) || changed;
	if (arrays && YAJL_IS_ARRAY(v) && col->items != NULL)
		return merge_items(col, v) || changed;
	if (col->fields != NULL || col->items != NULL)
	{
		trib_relation_free(col->fields);
		free(col->items);
		col->fields = NULL;
		col->items = NULL;
		changed = true;
	}
	return changed;
}

/* Widen rel's columns by the object obj's properties (new ones appended,
 * in the order of first appearance): true when rel changed. */
static bool
merge_props(trib_relation *rel, yajl_val obj, bool top)
{
	bool		changed = false;

	for (size_t i = 0; i < YAJL_GET_OBJECT(obj)->len; i++)
	{
		const char *name = YAJL_GET_OBJECT(obj)->keys[i];
		yajl_val	v = YAJL_GET_OBJECT(obj)->values[i];
		int			c = col_of(rel, name);

		if (type_of(v) == NULL)
			continue;			/* a field seen only as null is no column yet */
		if (c >= 0)
		{
			changed = merge_value(&rel->columns[c], v, true) || changed;
			continue;
		}
		rel->columns = trib_xrealloc(rel->columns,
									 (size_t) (rel->ncolumns + 2) * sizeof(*rel->columns));
		memset(&rel->columns[rel->ncolumns], 0, 2 * sizeof(*rel->columns));
		init_column(&rel->columns[rel->ncolumns++], name, v, top, true);
		changed = true;
	}
	return changed;
}

/* The shape cur has after doc: NULL when doc adds nothing, else a new
 * version (built on a copy of cur). */
static trib_relation *
widened(const trib_relation *cur, yajl_val doc)
{
	trib_relation *next = rel_copy(cur);

	if (merge_props(next, doc, true))
		return next;
	trib_relation_free(next);
	return NULL;
}

/* See mongo_infer.h. */
void
trib_mongo_infer_seed_from(trib_mongo_infer *inf, const trib_source_host *host)
{
	if (inf != NULL)
		inf->host = host && host->registered ? host : NULL;
}

/* A collection seen for the first time: its versions, the first one the
 * subject's latest registered version when the host has one to adopt. */
static coll_rels *
new_coll(trib_mongo_infer *inf, const trib_event *ev)
{
	coll_rels  *cr = trib_xcalloc(1, sizeof(coll_rels));
	trib_relation *rel = NULL;
	char		err[512];
	int			rc;

	if (inf->host == NULL)
		return cr;
	rc = inf->host->registered(inf->host->arg, ev, &rel, err, sizeof(err));
	if (rc > 0)
	{
		cr->vers = trib_xmalloc(sizeof(*cr->vers));
		cr->vers[cr->n++] = rel;
		tlog_info("source", "source %s: collection %s.%s: the inferred schema starts from the "
				  "registered one", ev->source, ev->db ? ev->db : "", ev->table);
	}
	else if (rc == 0 && err[0] != '\0')
		tlog_warn("source", "source %s: collection %s.%s: the inferred schema starts from the "
				  "documents seen, not from the registered one: %s", ev->source,
				  ev->db ? ev->db : "", ev->table, err);
	else if (rc < 0 && !inf->unread)
	{
		inf->unread = true;
		tlog_warn("source", "source %s: the schema registry could not be read (%s): inferred "
				  "schemas start from the documents seen until it can", ev->source, err);
	}
	return cr;
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
		*slot = new_coll(inf, ev);
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
