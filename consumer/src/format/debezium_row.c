/*
 * debezium_row.c: the converter's relation cache, the Connect schemas it
 * caches, and the typed TOAST placeholder (see debezium.h).
 *
 * Design.  The coltypes of a relation are worked out once and cached,
 * keyed by the relation and its version (a source bumps the version when
 * the table changes, event.h), with the relation's rendered schemas
 * (schemas.enable) and its column plan: each column's rendered member
 * name, whether an image writes that name as it is, and how its scalars
 * convert under the converter's options (trib_dbz_plan), so that
 * debezium_lex.c's member loop decides nothing per column per event.  The row images themselves are converted in
 * debezium_lex.c.  Members are matched to columns by position first
 * (images list the columns in table order) and by name when that misses
 * (a transform dropped or renamed a column).
 */
#include "debezium_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

/* Free what an entry caches. */
static void
relentry_clear(relentry *e)
{
	free(e->types);
	free(e->members);
	free(e->member_off);
	free(e->name_len);
	free(e->plain);
	free(e->plan);
	free(e->value_schema);
	free(e->key_schema);
	e->types = NULL;
	e->members = NULL;
	e->member_off = NULL;
	e->name_len = NULL;
	e->plain = NULL;
	e->plan = NULL;
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
	trib_strbuf_free(&d->name);
	trib_strbuf_free(&d->val);
	free(d->arena);
	free(d);
}

/* Whether name[0..n) is printable ASCII without '"' or '\' (written in
 * an image as it is). */
static bool
plain_name(const char *name, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		unsigned char ch = (unsigned char) name[i];

		if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\')
			return false;
	}
	return true;
}

/* Render each column's ",\"name\":" once (debezium_int.h, relentry). */
static void
render_members(relentry *e, const trib_relation *rel)
{
	size_t		n = (size_t) rel->ncolumns;
	trib_strbuf m = {0};

	e->member_off = trib_xrealloc(NULL, (n + 1) * sizeof(*e->member_off));
	e->name_len = trib_xrealloc(NULL, (n + 1) * sizeof(*e->name_len));
	e->plain = trib_xrealloc(NULL, (n + 1) * sizeof(*e->plain));
	for (size_t i = 0; i < n; i++)
	{
		e->member_off[i] = m.len;
		e->name_len[i] = strlen(rel->columns[i].name);
		e->plain[i] = plain_name(rel->columns[i].name, e->name_len[i]);
		trib_strbuf_addc(&m, ',');
		trib_dbz_quote(&m, rel->columns[i].name);
		trib_strbuf_addc(&m, ':');
	}
	e->member_off[n] = m.len;
	e->members = trib_strbuf_finish(&m);
}

/* How a top-level scalar of coltype t converts under options o (the
 * choices of debezium_lex.c's scalar handler, made once). */
static unsigned char
plan_of(const trib_dbz_opts *o, const trib_dbz_coltype *t)
{
	if (t->kind == TRIB_DBZ_ASIS)
		return TRIB_DBZ_PLAN_ASIS;
	if (t->array)
		return TRIB_DBZ_PLAN_OTHER;
	switch (t->kind)
	{
		case TRIB_DBZ_NUMERIC:
			return o->decimal == TRIB_DBZ_DECIMAL_PRECISE ? TRIB_DBZ_PLAN_TEXT
				: TRIB_DBZ_PLAN_OTHER;
		case TRIB_DBZ_DATE:
		case TRIB_DBZ_TIMESTAMP:
		case TRIB_DBZ_TIMESTAMPTZ:
			return TRIB_DBZ_PLAN_TEXT;
		default:
			return TRIB_DBZ_PLAN_OTHER;
	}
}

/* See debezium_int.h. */
relentry *
trib_dbz_rel_entry(trib_dbz *d, trib_dbz_mapper map, const trib_relation *rel)
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
	e->plan = trib_xrealloc(NULL, (size_t) rel->ncolumns + 1);
	for (int i = 0; i < rel->ncolumns; i++)
	{
		map(&rel->columns[i], &e->types[i]);
		e->plan[i] = plan_of(&d->opts, &e->types[i]);
	}
	render_members(e, rel);
	return e;
}

/* Is column name `col` exactly name[0..n)?  The member's name may hold
 * a NUL (\u0000 in the image): strncmp stops there, so the length is
 * compared on its own, reading col no further than n + 1 bytes. */
static bool
same_name(const char *col, const char *name, size_t n)
{
	return strnlen(col, n + 1) == n && memcmp(col, name, n) == 0;
}

/* See debezium_int.h. */
int
trib_dbz_column_of(const trib_relation *rel, const char *name, size_t n, size_t hint)
{
	const trib_column *c = rel->columns;

	if (hint < (size_t) rel->ncolumns && same_name(c[hint].name, name, n))
		return (int) hint;
	for (int i = 0; i < rel->ncolumns; i++)
		if (same_name(c[i].name, name, n))
			return i;
	return -1;
}

/* The column index of NUL-terminated member `name`, or -1. */
static int
column_of(const trib_relation *rel, const char *name, size_t hint)
{
	return trib_dbz_column_of(rel, name, strlen(name), hint);
}

/* An array of text-like elements (Connect strings): not of the types
 * whose values pass as numbers or booleans. */
static bool
text_array(const trib_column *col)
{
	static const char *const scalar[] = {"smallint", "integer", "bigint", "oid", "real",
	"double precision", "boolean", NULL};
	const char *type = trib_dbz_pg_type(col);

	for (int i = 0; scalar[i]; i++)
		if (strncmp(type, scalar[i], strlen(scalar[i])) == 0 &&
			type[strlen(scalar[i])] == '[')
			return false;
	return true;
}

/* See debezium.h. */
void
trib_dbz_placeholder(trib_dbz *d, const char *connector, const trib_relation *rel,
					 const char *column, const char *placeholder, trib_strbuf *out)
{
	trib_dbz_mapper map = trib_dbz_mapper_for(connector);
	int			c = map && rel ? column_of(rel, column, 0) : -1;
	const trib_dbz_coltype *t = c >= 0 ? &trib_dbz_rel_entry(d, map, rel)->types[c] : NULL;

	if (t && !t->array && t->kind == TRIB_DBZ_BYTEA)
		trib_dbz_put_bytes(out, d->opts.binary, (const unsigned char *) placeholder,
						   strlen(placeholder));
	else if (t && t->array && t->kind == TRIB_DBZ_ASIS && text_array(&rel->columns[c]))
	{
		trib_strbuf_addc(out, '[');
		trib_dbz_quote(out, placeholder);
		trib_strbuf_addc(out, ']');
	}
	else
		trib_dbz_quote(out, placeholder);
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
				 const char **value, const char **key, size_t *value_len,
				 size_t *key_len, char *errbuf, size_t errlen)
{
	trib_dbz_mapper map = trib_dbz_mapper_for(connector);
	relentry   *e;

	if (map == NULL || rel == NULL)
	{
		snprintf(errbuf, errlen, "debezium: no Connect schema for %s events%s",
				 connector ? connector : "postgresql", rel ? "" : " without a relation");
		return false;
	}
	e = trib_dbz_rel_entry(d, map, rel);
	if (e->value_schema == NULL || (key_image && e->key_schema == NULL))
	{
		trib_strbuf v = {0},
					k = {0};
		bool	   *in_key = trib_xrealloc(NULL, (size_t) rel->ncolumns + 1);

		memset(in_key, 0, (size_t) rel->ncolumns + 1);
		if (key_image)
			key_columns(rel, key_image, in_key);
		trib_dbz_render_schemas(&d->opts, prefix, connector, rel, e->types, key_image ? in_key : NULL,
								&v, &k);
		free(in_key);
		free(e->value_schema);
		e->value_schema_len = v.len;
		e->value_schema = trib_strbuf_finish(&v);
		if (key_image)
		{
			free(e->key_schema);
			e->key_schema_len = k.len;
			e->key_schema = trib_strbuf_finish(&k);
		}
		trib_strbuf_free(&k);
	}
	*value = e->value_schema;
	*key = key_image ? e->key_schema : NULL;
	if (value_len)
		*value_len = e->value_schema_len;
	if (key_len)
		*key_len = key_image ? e->key_schema_len : 0;
	return true;
}
