/*
 * schema_seed.c: a relation from a registered JSON Schema (schema_seed.h),
 * read with yajl's tree.
 *
 * Each property's schema is first stripped of its null alternative (a
 * nullable value is `oneOf` [{"type": "null"}, X]); what is left is one
 * type, or a number with its "NaN"/"Infinity" strings.  Objects and arrays
 * recurse by the same rules; the path of the property being read is kept
 * for the error.
 */
#include "schema_seed.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "xalloc.h"

static bool fill_fields(trib_relation *rel, yajl_val obj, const char *path, char *errbuf,
						size_t errlen);

/* Member key of the object v, or NULL. */
static yajl_val
member(yajl_val v, const char *key)
{
	const char *p[] = {key, NULL};

	return YAJL_IS_OBJECT(v) ? yajl_tree_get(v, p, yajl_t_any) : NULL;
}

/* The string member "type" of v, or NULL. */
static const char *
type_word(yajl_val v)
{
	yajl_val	t = member(v, "type");

	return YAJL_IS_STRING(t) ? YAJL_GET_STRING(t) : NULL;
}

/* Is v the string want? */
static bool
is_string(yajl_val v, const char *want)
{
	const char *t = YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;

	return t != NULL && strcmp(t, want) == 0;
}

/* Is the string want in the array arr? */
static bool
lists(yajl_val arr, const char *want)
{
	for (size_t i = 0; YAJL_IS_ARRAY(arr) && i < YAJL_GET_ARRAY(arr)->len; i++)
		if (is_string(YAJL_GET_ARRAY(arr)->values[i], want))
			return true;
	return false;
}

/*
 * The SQL type of the value schema v (null stripped), with *shape set to
 * the object or array schema that carries its structure (else NULL); NULL
 * when v is none of the shapes read.
 */
static const char *
type_of(yajl_val v, yajl_val *shape)
{
	yajl_val	alts = member(v, "oneOf");
	yajl_val	rest[2];
	size_t		n = 0;

	*shape = NULL;
	if (alts == NULL)
	{
		rest[n++] = v;
	}
	else
	{
		if (!YAJL_IS_ARRAY(alts))
			return NULL;
		for (size_t i = 0; i < YAJL_GET_ARRAY(alts)->len; i++)
		{
			yajl_val	a = YAJL_GET_ARRAY(alts)->values[i];
			const char *t = type_word(a);

			if (t != NULL && strcmp(t, "null") == 0)
				continue;
			if (n == 2)
				return NULL;
			rest[n++] = a;
		}
	}
	if (n == 2)
	{
		const char *t0 = type_word(rest[0]),
				   *t1 = type_word(rest[1]);

		if (t0 == NULL || t1 == NULL || strcmp(t0, "number") || strcmp(t1, "string"))
			return NULL;
		return lists(member(rest[1], "enum"), "Infinity") ? "double precision" : "numeric";
	}
	if (n == 0 || !YAJL_IS_OBJECT(rest[0]))
		return NULL;
	{
		const char *t = type_word(rest[0]);

		if (t == NULL)
			return member(rest[0], "oneOf") == NULL ? "jsonb" : NULL;
		if (!strcmp(t, "integer"))
			return "bigint";
		if (!strcmp(t, "number"))
			return "numeric";
		if (!strcmp(t, "string"))
			return "text";
		if (!strcmp(t, "boolean"))
			return "boolean";
		if (!strcmp(t, "object") || !strcmp(t, "array"))
		{
			*shape = rest[0];
			return "jsonb";
		}
	}
	return NULL;
}

/* Fill col's type (and fields, items) from the value schema v. */
static bool
fill_column(trib_column *col, yajl_val v, const char *path, bool arrays, char *errbuf,
			size_t errlen)
{
	yajl_val	shape;
	const char *t = type_of(v, &shape);

	if (t == NULL)
	{
		snprintf(errbuf, errlen, "at %s: not a type an inferred schema has", path);
		return false;
	}
	col->type = trib_xstrdup(t);
	if (shape == NULL)
		return true;
	if (!strcmp(type_word(shape), "object"))
	{
		col->fields = trib_xcalloc(1, sizeof(*col->fields));
		return fill_fields(col->fields, shape, path, errbuf, errlen);
	}
	if (!arrays)
	{
		snprintf(errbuf, errlen, "at %s: an array in an array", path);
		return false;
	}
	{
		yajl_val	items = member(shape, "items");
		trib_column item = {0};
		size_t		pl = strlen(path) + sizeof("/items");
		char	   *ipath = trib_xmalloc(pl);
		bool		ok = true;

		snprintf(ipath, pl, "%s/items", path);
		if (items == NULL)
			item.type = trib_xstrdup("");
		else
			ok = fill_column(&item, items, ipath, false, errbuf, errlen);
		free(ipath);
		col->items = item.type;
		col->fields = item.fields;
		return ok;
	}
}

/* rel's columns from the properties of the object schema obj. */
static bool
fill_fields(trib_relation *rel, yajl_val obj, const char *path, char *errbuf, size_t errlen)
{
	yajl_val	props = member(obj, "properties");
	size_t		n;

	if (props != NULL && !YAJL_IS_OBJECT(props))
	{
		snprintf(errbuf, errlen, "at %s: \"properties\" is not an object", path);
		return false;
	}
	n = props ? YAJL_GET_OBJECT(props)->len : 0;	/* none: empty subdocuments */
	rel->columns = trib_xcalloc(n + 1, sizeof(*rel->columns));
	for (size_t i = 0; i < n; i++)
	{
		const char *name = YAJL_GET_OBJECT(props)->keys[i];
		trib_column *col = &rel->columns[rel->ncolumns++];
		size_t		pl = strlen(path) + strlen(name) + sizeof("/properties/");
		char	   *cpath = trib_xmalloc(pl);
		bool		ok;

		snprintf(cpath, pl, "%s/properties/%s", path, name);
		col->name = trib_xstrdup(name);
		col->pk = lists(member(obj, "required"), name);
		col->nullable = !col->pk;
		ok = fill_column(col, YAJL_GET_OBJECT(props)->values[i], cpath, true, errbuf, errlen);
		free(cpath);
		if (!ok)
			return false;
	}
	return true;
}

/* See schema_seed.h. */
trib_relation *
trib_schema_seed_relation(const char *doc, const char *schema, const char *table,
						  char *errbuf, size_t errlen)
{
	char		perr[256];
	yajl_val	root = yajl_tree_parse(doc, perr, sizeof(perr));
	trib_relation *rel = trib_xcalloc(1, sizeof(*rel));
	bool		ok;

	rel->schema = trib_xstrdup(schema);
	rel->table = trib_xstrdup(table);
	rel->version = 1;
	if (root == NULL)
	{
		snprintf(errbuf, errlen, "not JSON: %s", perr);
		ok = false;
	}
	else if (type_word(root) == NULL || strcmp(type_word(root), "object") != 0)
	{
		snprintf(errbuf, errlen, "at /: not an object schema");
		ok = false;
	}
	else
		ok = fill_fields(rel, root, "", errbuf, errlen);
	yajl_tree_free(root);
	if (!ok)
	{
		trib_relation_free(rel);
		return NULL;
	}
	return rel;
}
