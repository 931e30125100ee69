/*
 * debezium_row.c: a row image in Debezium's encodings (see debezium.h).
 *
 * Design.  A row image is parsed once with yajl_tree (numbers keep their
 * text) and written back member by member, each value through
 * trib_dbz_value with its column's coltype.  The coltypes of a relation
 * are worked out once and cached, keyed by the relation and its version
 * (a source bumps the version when the table changes, event.h), so the
 * per-event cost is the parse and the write.  Members are matched to
 * columns by position first (images list the columns in table order) and
 * by name when that misses (a transform dropped or renamed a column).
 *
 * json/jsonb columns whose null is the JSON literal null (the image's
 * JSON null list) become the string "null", as Debezium writes them; SQL
 * NULL stays null.
 */
#include "debezium.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* The coltypes of one relation version. */
typedef struct relentry
{
	const trib_relation *rel;
	uint32_t	version;
	trib_dbz_coltype *types;
	/* schemas.enable: the rendered schemas, or NULL until asked for */
	char	   *value_schema;
	char	   *key_schema;
} relentry;

struct trib_dbz
{
	trib_dbz_opts opts;
	relentry   *rels;
	size_t		nrels;
	size_t		cap;
};

/* Free what an entry caches. */
static void
relentry_clear(relentry *e)
{
	free(e->types);
	free(e->value_schema);
	free(e->key_schema);
	e->types = NULL;
	e->value_schema = NULL;
	e->key_schema = NULL;
}

/* See debezium.h. */
trib_dbz *
trib_dbz_new(const trib_dbz_opts *o)
{
	trib_dbz   *d = trib_xrealloc(NULL, sizeof(*d));

	memset(d, 0, sizeof(*d));
	d->opts = *o;
	return d;
}

/* See debezium.h. */
void
trib_dbz_free(trib_dbz *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nrels; i++)
		relentry_clear(&d->rels[i]);
	free(d->rels);
	free(d);
}

/* The cache entry of rel, its coltypes worked out on first use and again
 * when the relation's version changes (which drops its schemas). */
static relentry *
rel_entry(trib_dbz *d, trib_dbz_mapper map, const trib_relation *rel)
{
	relentry   *e = NULL;

	for (size_t i = 0; i < d->nrels && e == NULL; i++)
		if (d->rels[i].rel == rel)
			e = &d->rels[i];
	if (e == NULL)
	{
		if (d->nrels == d->cap)
		{
			d->cap = d->cap ? d->cap * 2 : 8;
			d->rels = trib_xrealloc(d->rels, d->cap * sizeof(*d->rels));
		}
		e = &d->rels[d->nrels++];
		memset(e, 0, sizeof(*e));
		e->rel = rel;
	}
	else if (e->version == rel->version && e->types != NULL)
		return e;
	relentry_clear(e);
	e->version = rel->version;
	e->types = trib_xrealloc(NULL, ((size_t) rel->ncolumns + 1) * sizeof(*e->types));
	for (int i = 0; i < rel->ncolumns; i++)
		map(&rel->columns[i], &e->types[i]);
	return e;
}

/* The column index of member `name` (tried at `hint` first), or -1. */
static int
column_of(const trib_relation *rel, const char *name, size_t hint)
{
	if (hint < (size_t) rel->ncolumns && strcmp(rel->columns[hint].name, name) == 0)
		return (int) hint;
	for (int i = 0; i < rel->ncolumns; i++)
		if (strcmp(rel->columns[i].name, name) == 0)
			return i;
	return -1;
}

/* True when `name` is a column entry (a string) of a JSON null list. */
static bool
is_json_null(yajl_val list, const char *name)
{
	for (size_t i = 0; list && YAJL_IS_ARRAY(list) && i < list->u.array.len; i++)
	{
		const char *s = YAJL_GET_STRING(list->u.array.values[i]);

		if (s && strcmp(s, name) == 0)
			return true;
	}
	return false;
}

/* Write the members of object img, each converted. */
static bool
write_members(trib_dbz *d, const trib_relation *rel, const trib_dbz_coltype *types,
			  yajl_val img, yajl_val nulls, trib_strbuf *out, char *errbuf, size_t errlen)
{
	trib_strbuf_addc(out, '{');
	for (size_t i = 0; i < img->u.object.len; i++)
	{
		const char *name = img->u.object.keys[i];
		yajl_val	v = img->u.object.values[i];
		int			c = column_of(rel, name, i);
		trib_dbz_coltype asis = {TRIB_DBZ_ASIS, -1, -1, false};
		const trib_dbz_coltype *t = c >= 0 ? &types[c] : &asis;

		if (i)
			trib_strbuf_addc(out, ',');
		trib_dbz_quote(out, name);
		trib_strbuf_addc(out, ':');
		if (YAJL_IS_NULL(v) && (t->kind == TRIB_DBZ_JSON || t->kind == TRIB_DBZ_JSONB) &&
			!t->array && is_json_null(nulls, name))
			trib_strbuf_adds(out, "\"null\"");
		else if (!trib_dbz_value(&d->opts, t, v, out, errbuf, errlen))
		{
			size_t		l = strlen(errbuf);

			snprintf(errbuf + l, errlen > l ? errlen - l : 0, " (column %s.%s.%s)",
					 rel->schema ? rel->schema : "", rel->table ? rel->table : "", name);
			return false;
		}
	}
	trib_strbuf_addc(out, '}');
	return true;
}

/* See debezium.h. */
bool
trib_dbz_row(trib_dbz *d, const char *connector, const trib_relation *rel,
			 const char *image, const char *json_nulls, trib_strbuf *out,
			 char *errbuf, size_t errlen)
{
	trib_dbz_mapper map = trib_dbz_mapper_for(connector);
	yajl_val	img;
	yajl_val	nulls = NULL;
	bool		ok;
	char		perr[128];

	if (rel == NULL || map == NULL)
	{
		trib_strbuf_adds(out, image);
		return true;
	}
	img = yajl_tree_parse(image, perr, sizeof(perr));
	if (img == NULL || !YAJL_IS_OBJECT(img))
	{
		yajl_tree_free(img);
		snprintf(errbuf, errlen, "debezium: row image of %s.%s is not a JSON object",
				 rel->schema ? rel->schema : "", rel->table ? rel->table : "");
		return false;
	}
	if (json_nulls)
		nulls = yajl_tree_parse(json_nulls, NULL, 0);
	errbuf[0] = '\0';
	ok = write_members(d, rel, rel_entry(d, map, rel)->types, img, nulls, out, errbuf, errlen);
	yajl_tree_free(nulls);
	yajl_tree_free(img);
	return ok;
}

/* Which columns the key object names (in_key[i]). */
static void
key_columns(const trib_relation *rel, const char *key_image, bool *in_key)
{
	yajl_val	k = yajl_tree_parse(key_image, NULL, 0);

	for (size_t i = 0; k && YAJL_IS_OBJECT(k) && i < k->u.object.len; i++)
	{
		int			c = column_of(rel, k->u.object.keys[i], i);

		if (c >= 0)
			in_key[c] = true;
	}
	yajl_tree_free(k);
}

/* See debezium.h. */
bool
trib_dbz_schemas(trib_dbz *d, const char *prefix, const char *connector,
				 const trib_relation *rel, const char *key_image,
				 const char **value, const char **key, char *errbuf, size_t errlen)
{
	trib_dbz_mapper map = trib_dbz_mapper_for(connector);
	relentry   *e;

	if (map == NULL || rel == NULL)
	{
		snprintf(errbuf, errlen, "debezium: no Connect schema for %s events%s",
				 connector ? connector : "postgresql", rel ? "" : " without a relation");
		return false;
	}
	e = rel_entry(d, map, rel);
	if (e->value_schema == NULL || (key_image && e->key_schema == NULL))
	{
		trib_strbuf v = {0},
					k = {0};
		bool	   *in_key = trib_xrealloc(NULL, (size_t) rel->ncolumns + 1);

		memset(in_key, 0, (size_t) rel->ncolumns + 1);
		if (key_image)
			key_columns(rel, key_image, in_key);
		trib_dbz_render_schemas(&d->opts, prefix, rel, e->types, key_image ? in_key : NULL,
								&v, &k);
		free(in_key);
		free(e->value_schema);
		e->value_schema = trib_strbuf_finish(&v);
		if (key_image)
		{
			free(e->key_schema);
			e->key_schema = trib_strbuf_finish(&k);
		}
		trib_strbuf_free(&k);
	}
	*value = e->value_schema;
	*key = key_image ? e->key_schema : NULL;
	return true;
}
