/*
 * snapshot_tables.c: the tables a snapshot reads, from the source's
 * catalog, and the queries that read them.
 *
 * Which tables.  What the stream would capture: permanent tables outside
 * the system schemas and tributary's own (tributary, tributary_sink); leaf
 * tables (partitions included), or, with the plugin option
 * publish-via-root, partition roots and plain tables, since then the
 * stream reports a partition's rows under its root.  Then the source's
 * include_tables / exclude_tables, matched here with the plugin's pattern
 * rules.  Unlogged and temporary tables are never decoded, so never read.
 *
 * Columns and types.  Every column that is not dropped, in attnum order,
 * as the plugin's relation record lists them; type trees (domains
 * stripped, array elements, composite attributes) are resolved from
 * pg_type once per column.  money is selected as numeric (the plugin
 * writes money through cash_numeric); int2vector and oidvector, which the
 * plugin treats as arrays but whose text is space separated, as int2[] and
 * oid[].  A domain's final base type and an enum's labels go into the
 * relation's columns as the relation record has them, so that Debezium
 * mode maps snapshot rows as it maps streamed ones.
 *
 * Keys.  The event key is the replica identity key (the primary key under
 * REPLICA IDENTITY DEFAULT, the index columns under USING INDEX), else the
 * primary key, in column order, as pgrecord.c builds it.  The ordering key
 * for chunks is the primary key, else the replica identity index, in index
 * order.
 *
 * All catalog queries bind their values (PQexecParams).
 */
#include "snapshot_tables.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl_tree.h>

#include "errf.h"
#include "event.h"
#include "strbuf.h"

#define MAX_TYPE_DEPTH 16

enum
{
	OID_INT2VECTOR = 22, OID_OIDVECTOR = 30
};

/* ---- patterns ----------------------------------------------------------- */

/* '*' any run, '?' one character; literal: exact comparison. */
static bool
glob(const char *pat, size_t plen, const char *s, bool literal)
{
	const char *star = NULL,
			   *back = NULL;
	const char *pend = pat + plen;

	if (literal)
		return strlen(s) == plen && memcmp(pat, s, plen) == 0;
	while (*s)
	{
		if (pat < pend && *pat == '*')
		{
			star = ++pat;
			back = s;
		}
		else if (pat < pend && (*pat == '?' || *pat == *s))
		{
			pat++;
			s++;
		}
		else if (star)
		{
			pat = star;
			s = ++back;
		}
		else
			return false;
	}
	while (pat < pend && *pat == '*')
		pat++;
	return pat == pend;
}

/*
 * One part of a pattern from *pp up to an unquoted '.' or the end, into
 * out (quotes removed, "" unescaped).  False when malformed.
 */
static bool
pattern_part(const char **pp, trib_strbuf *out, bool *literal)
{
	const char *p = *pp;

	out->len = 0;
	trib_strbuf_add(out, "", 0);
	*literal = *p == '"';
	if (*literal)
	{
		for (p++;; p++)
		{
			if (*p == '\0')
				return false;
			if (*p == '"' && p[1] == '"')
				trib_strbuf_addc(out, *p++);
			else if (*p == '"')
				break;
			else
				trib_strbuf_addc(out, *p);
		}
		p++;
		if (*p != '\0' && *p != '.')
			return false;
	}
	else
		for (; *p && *p != '.'; p++)
		{
			if (*p == '"')
				return false;
			trib_strbuf_addc(out, *p);
		}
	*pp = p;
	return out->len > 0;
}

bool
trib_snaptab_pattern_match(const char *pattern, const char *schema,
						const char *table, bool *bad)
{
	trib_strbuf sp = {0},
				tp = {0};
	bool		sl,
				tl,
				ok,
				match = false;
	const char *p = pattern;

	ok = pattern_part(&p, &sp, &sl) && *p == '.';
	if (ok)
	{
		p++;
		ok = pattern_part(&p, &tp, &tl) && *p == '\0';
	}
	if (ok)
		match = glob(sp.data, sp.len, schema, sl) && glob(tp.data, tp.len, table, tl);
	else
		*bad = true;
	trib_strbuf_free(&sp);
	trib_strbuf_free(&tp);
	return match;
}

/* Is schema.table selected by include (NULL: all) and exclude? */
static bool
selected(const trib_snapshot_conf *conf, const char *schema, const char *table,
		 char *errbuf, size_t errlen, bool *bad)
{
	const char *const *p;
	bool		in = conf->include == NULL || conf->include[0] == NULL;

	for (p = conf->include; p && *p && !in; p++)
		in = trib_snaptab_pattern_match(*p, schema, table, bad);
	for (p = conf->exclude; p && *p && in; p++)
		if (trib_snaptab_pattern_match(*p, schema, table, bad))
			in = false;
	if (in && conf->restrict_to && conf->restrict_to[0])
	{
		in = false;
		for (p = conf->restrict_to; *p && !in; p++)
			in = trib_snaptab_pattern_match(*p, schema, table, bad);
	}
	if (*bad)
		trib_errf(errbuf, errlen, "snapshot: malformed table pattern in include_tables, exclude_tables or snapshot_tables "
				  "(write schema.table; '*' and '?' are wildcards outside double quotes)");
	return in;
}

/* ---- types -------------------------------------------------------------- */

static trib_snapfmt_type *load_type(PGconn *conn, const char *oid, int depth,
								char *errbuf, size_t errlen);

/* Run a one-parameter catalog query; NULL with errbuf on failure. */
static PGresult *
query1(PGconn *conn, const char *sql, const char *param, char *errbuf, size_t errlen)
{
	PGresult   *res = PQexecParams(conn, sql, 1, NULL, &param, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		trib_errf(errbuf, errlen, "snapshot: catalog query failed: %s", PQerrorMessage(conn));
		PQclear(res);
		return NULL;
	}
	return res;
}

/* The attributes of a composite type (typrelid). */
static bool
load_attrs(PGconn *conn, trib_snapfmt_type *t, const char *relid, int depth,
		   char *errbuf, size_t errlen)
{
	PGresult   *res = query1(conn,
							 "SELECT attname, atttypid::text FROM pg_catalog.pg_attribute "
							 "WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped "
							 "ORDER BY attnum", relid, errbuf, errlen);
	int			i;

	if (res == NULL)
		return false;
	t->nattrs = PQntuples(res);
	t->attr_names = trib_xcalloc(t->nattrs ? (size_t) t->nattrs : 1, sizeof(char *));
	t->attrs = trib_xcalloc(t->nattrs ? (size_t) t->nattrs : 1, sizeof(trib_snapfmt_type *));
	for (i = 0; i < t->nattrs; i++)
	{
		t->attr_names[i] = trib_xstrdup(PQgetvalue(res, i, 0));
		t->attrs[i] = load_type(conn, PQgetvalue(res, i, 1), depth + 1, errbuf, errlen);
		if (t->attrs[i] == NULL)
		{
			PQclear(res);
			return false;
		}
	}
	PQclear(res);
	return true;
}

/* The type tree of a type OID (text), domains stripped. */
static trib_snapfmt_type *
load_type(PGconn *conn, const char *oid, int depth, char *errbuf, size_t errlen)
{
	char		cur[16];
	PGresult   *res;
	trib_snapfmt_type *t;

	if (depth > MAX_TYPE_DEPTH)
		return trib_errf(errbuf, errlen, "snapshot: types nested too deeply"), NULL;
	snprintf(cur, sizeof(cur), "%s", oid);
	for (;;)
	{
		res = query1(conn,
					 "SELECT typtype::text, typbasetype::text, typelem::text, "
					 "typsubscript = 'pg_catalog.array_subscript_handler'::pg_catalog.regproc, "
					 "typrelid::text, typdelim::text FROM pg_catalog.pg_type WHERE oid = $1::oid",
					 cur, errbuf, errlen);
		if (res == NULL)
			return NULL;
		if (PQntuples(res) != 1)
		{
			PQclear(res);
			return trib_errf(errbuf, errlen, "snapshot: type %s not found", cur), NULL;
		}
		if (strcmp(PQgetvalue(res, 0, 0), "d") != 0)
			break;
		snprintf(cur, sizeof(cur), "%s", PQgetvalue(res, 0, 1));
		PQclear(res);
	}
	t = trib_snapfmt_type_new(trib_snapfmt_kind_of_oid((uint32_t) strtoul(cur, NULL, 10)),
						  (uint32_t) strtoul(cur, NULL, 10));
	if (t->kind == TRIB_SNAPFMT_KIND_STRING && strcmp(PQgetvalue(res, 0, 2), "0") != 0 &&
		strcmp(PQgetvalue(res, 0, 3), "t") == 0)
	{
		t->kind = TRIB_SNAPFMT_KIND_ARRAY;
		t->elem = load_type(conn, PQgetvalue(res, 0, 2), depth + 1, errbuf, errlen);
		if (t->elem)
		{
			/* array_out separates elements with the element type's typdelim */
			PGresult   *d = query1(conn, "SELECT typdelim::text FROM pg_catalog.pg_type WHERE oid = $1::oid",
								   PQgetvalue(res, 0, 2), errbuf, errlen);

			if (d && PQntuples(d) == 1)
				t->delim = PQgetvalue(d, 0, 0)[0];
			PQclear(d);
		}
	}
	else if (t->kind == TRIB_SNAPFMT_KIND_STRING && strcmp(PQgetvalue(res, 0, 0), "c") == 0)
	{
		t->kind = TRIB_SNAPFMT_KIND_COMPOSITE;
		if (!load_attrs(conn, t, PQgetvalue(res, 0, 4), depth, errbuf, errlen))
		{
			PQclear(res);
			trib_snapfmt_type_free(t);
			return NULL;
		}
	}
	PQclear(res);
	if (t->kind == TRIB_SNAPFMT_KIND_ARRAY && t->elem == NULL)
	{
		trib_snapfmt_type_free(t);
		return NULL;
	}
	return t;
}

/* ---- tables ------------------------------------------------------------- */

/* "name": as the plugin writes a member name. */
static char *
json_key(const char *name, trib_snapfmt_enc enc)
{
	trib_strbuf b = {0};

	trib_snapfmt_string(&b, name, strlen(name), enc);
	trib_strbuf_addc(&b, ':');
	return trib_strbuf_finish(&b);
}

/* The quoted identifier, plus a cast where the text must change. */
static char *
column_expr(PGconn *conn, const trib_snaptab_column *c)
{
	char	   *q = PQescapeIdentifier(conn, c->name, strlen(c->name));
	const char *cast = "";
	trib_strbuf b = {0};

	if (q == NULL)
		abort();
	if (c->type->money)
		cast = "::pg_catalog.numeric";
	else if (c->type->kind == TRIB_SNAPFMT_KIND_ARRAY && c->type->elem->money)
		cast = "::pg_catalog.numeric[]";
	else if (c->type->base_oid == OID_INT2VECTOR)
		cast = "::pg_catalog.int2[]";
	else if (c->type->base_oid == OID_OIDVECTOR)
		cast = "::pg_catalog.oid[]";
	trib_strbuf_printf(&b, "%s%s", q, cast);
	PQfreemem(q);
	return trib_strbuf_finish(&b);
}

/*
 * Column i's position in an index (result field f, 1-based, NULL when not
 * in it): pos[position - 1] = i + 1.  Returns 1 when it is in the index.
 */
static int
key_position(PGresult *res, int i, int f, int *pos, int ncols)
{
	int			k;

	if (PQgetisnull(res, i, f))
		return 0;
	k = atoi(PQgetvalue(res, i, f));
	if (k < 1 || k > ncols)
		return 0;
	pos[k - 1] = i + 1;
	return 1;
}

/*
 * A column's domain base type and enum labels, as the plugin's relation
 * record has them (docs/PLUGIN.md): the type, or an array's element,
 * stripped of its domains (the first modifier a domain declares kept);
 * base_type is that type's format_type text (the array of it for an
 * array) when there was a domain, else NULL; labels the JSON array of
 * its enum labels in sort order, else NULL.
 */
#define DOMAIN_ENUM_JOIN \
	"LEFT JOIN LATERAL (WITH RECURSIVE " \
	"  top AS (SELECT CASE WHEN t.typelem <> 0 AND t.typlen = -1 THEN t.typelem ELSE t.oid END AS oid, " \
	"                 t.typelem <> 0 AND t.typlen = -1 AS arr " \
	"            FROM pg_catalog.pg_type t WHERE t.oid = a.atttypid), " \
	"  d(oid, typmod, n) AS (SELECT top.oid, -1, 0 FROM top UNION ALL " \
	"    SELECT t.typbasetype, CASE WHEN d.typmod = -1 THEN t.typtypmod ELSE d.typmod END, d.n + 1 " \
	"      FROM d JOIN pg_catalog.pg_type t ON t.oid = d.oid " \
	"     WHERE t.typtype = 'd' AND d.n < " TRIB_STR(MAX_TYPE_DEPTH) ") " \
	"  SELECT CASE WHEN f.n > 0 THEN pg_catalog.format_type(CASE WHEN top.arr THEN " \
	"           (SELECT typarray FROM pg_catalog.pg_type WHERE oid = f.oid) ELSE f.oid END, " \
	"           f.typmod) END AS base_type, " \
	"         (SELECT pg_catalog.json_agg(e.enumlabel ORDER BY e.enumsortorder)::text " \
	"            FROM pg_catalog.pg_enum e WHERE e.enumtypid = f.oid) AS labels " \
	"    FROM top, (SELECT * FROM d ORDER BY n DESC LIMIT 1) f) dt ON true "
#define TRIB_STR_(x) #x
#define TRIB_STR(x) TRIB_STR_(x)

/* Fill rc's enum labels from their JSON array text (the query's). */
static bool
set_enum_labels(trib_column *rc, const char *json, char *errbuf, size_t errlen)
{
	yajl_val	v = yajl_tree_parse(json, NULL, 0);

	if (!YAJL_IS_ARRAY(v))
	{
		yajl_tree_free(v);
		return trib_errf(errbuf, errlen, "snapshot: column %s: cannot read its enum labels",
						 rc->name);
	}
	rc->enum_labels = trib_xcalloc(v->u.array.len ? v->u.array.len : 1, sizeof(char *));
	for (size_t i = 0; i < v->u.array.len; i++)
	{
		const char *l = YAJL_GET_STRING(v->u.array.values[i]);

		rc->enum_labels[rc->nenum_labels++] = trib_xstrdup(l ? l : "");
	}
	yajl_tree_free(v);
	return true;
}

/* Columns, types and keys of one table. */
static bool
load_columns(PGconn *conn, trib_snaptab_table *t, const char *relid, trib_snapfmt_enc enc,
			 char *errbuf, size_t errlen)
{
	PGresult   *res = query1(conn,
							 "SELECT a.attname, a.atttypid::text, "
							 "pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, "
							 "coalesce(a.attnum = ANY (pk.indkey), false), "
							 "CASE c.relreplident WHEN 'd' THEN coalesce(a.attnum = ANY (pk.indkey), false) "
							 "  WHEN 'i' THEN coalesce(a.attnum = ANY (ri.indkey), false) ELSE false END, "
							 /* indkey is an int2vector: 0-based once cast to int2[] */
							 "pg_catalog.array_position(pk.indkey::pg_catalog.int2[], a.attnum) "
							 "  - pg_catalog.array_lower(pk.indkey::pg_catalog.int2[], 1) + 1, "
							 "CASE WHEN c.relreplident = 'i' THEN "
							 "  pg_catalog.array_position(ri.indkey::pg_catalog.int2[], a.attnum) "
							 "  - pg_catalog.array_lower(ri.indkey::pg_catalog.int2[], 1) + 1 END "
							 ", dt.base_type, dt.labels "
							 "FROM pg_catalog.pg_attribute a "
							 "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
							 DOMAIN_ENUM_JOIN
							 "LEFT JOIN pg_catalog.pg_index pk ON pk.indrelid = a.attrelid AND pk.indisprimary "
							 "LEFT JOIN pg_catalog.pg_index ri ON ri.indrelid = a.attrelid AND ri.indisreplident "
							 "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped "
							 "ORDER BY a.attnum", relid, errbuf, errlen);
	int			i,
				npk = 0,
				nri = 0,
				nident = 0;
	int		   *pkpos,
			   *ripos;

	if (res == NULL)
		return false;
	t->ncols = PQntuples(res);
	t->cols = trib_xcalloc(t->ncols ? (size_t) t->ncols : 1, sizeof(trib_snaptab_column));
	t->rel.columns = trib_xcalloc(t->ncols ? (size_t) t->ncols : 1, sizeof(trib_column));
	t->rel.ncolumns = t->ncols;
	t->rel.schema = trib_xstrdup(t->schema);
	t->rel.table = trib_xstrdup(t->table);
	t->rel.version = trib_relation_fresh_version();	/* freed before close */
	pkpos = trib_xcalloc((size_t) t->ncols + 1, sizeof(int));
	ripos = trib_xcalloc((size_t) t->ncols + 1, sizeof(int));
	for (i = 0; i < t->ncols; i++)
	{
		trib_snaptab_column *c = &t->cols[i];
		trib_column *rc = &t->rel.columns[i];

		c->name = trib_xstrdup(PQgetvalue(res, i, 0));
		c->json_key = json_key(c->name, enc);
		c->json_key_len = strlen(c->json_key);
		c->type_oid = (uint32_t) strtoul(PQgetvalue(res, i, 1), NULL, 10);
		c->type = load_type(conn, PQgetvalue(res, i, 1), 0, errbuf, errlen);
		rc->name = trib_xstrdup(c->name);
		rc->type = trib_xstrdup(PQgetvalue(res, i, 2));
		rc->type_oid = c->type_oid;
		rc->nullable = strcmp(PQgetvalue(res, i, 3), "t") != 0;
		rc->pk = strcmp(PQgetvalue(res, i, 4), "t") == 0;
		rc->identity = strcmp(PQgetvalue(res, i, 5), "t") == 0;
		if (!PQgetisnull(res, i, 8))
			rc->base_type = trib_xstrdup(PQgetvalue(res, i, 8));
		if (!PQgetisnull(res, i, 9) &&
			!set_enum_labels(rc, PQgetvalue(res, i, 9), errbuf, errlen))
			break;
		if (c->type == NULL)
			break;
		c->expr = column_expr(conn, c);
		npk += key_position(res, i, 6, pkpos, t->ncols);
		nri += key_position(res, i, 7, ripos, t->ncols);
		nident += rc->identity;
	}
	PQclear(res);
	if (i < t->ncols)
	{
		free(pkpos);
		free(ripos);
		return false;
	}
	/* event key: the identity key, else the primary key (column order) */
	for (i = 0; i < t->ncols; i++)
		t->cols[i].in_key = nident > 0 ? t->rel.columns[i].identity : t->rel.columns[i].pk;
	/* ordering key: the primary key, else the replica identity index */
	t->norder = npk > 0 ? npk : nri;
	t->order = trib_xcalloc((size_t) t->norder + 1, sizeof(int));
	for (i = 0; i < t->norder; i++)
		t->order[i] = (npk > 0 ? pkpos[i] : ripos[i]) - 1;
	free(pkpos);
	free(ripos);
	for (i = 0; i < t->norder; i++)
		if (t->order[i] < 0)
			return trib_errf(errbuf, errlen, "snapshot: %s.%s: cannot read its key columns",
							 t->schema, t->table);
	return true;
}

/* Largest first, so the long tables start early. */
static int
by_size(const void *a, const void *b)
{
	const trib_snaptab_table *x = a,
			   *y = b;

	return x->estimate < y->estimate ? 1 : x->estimate > y->estimate ? -1 : 0;
}

bool
trib_snaptab_load(PGconn *conn, const trib_snapshot_conf *conf,
					  trib_snapfmt_enc enc, trib_snaptab_table **out, int *n,
					  char *errbuf, size_t errlen)
{
	const char *root = conf->publish_via_root ? "true" : "false";
	PGresult   *res = query1(conn,
							 "SELECT c.oid::text, n.nspname, c.relname, c.relkind::text, "
							 "CASE WHEN c.relkind = 'p' THEN coalesce((SELECT sum(greatest(pc.reltuples, 0)) "
							 "  FROM pg_catalog.pg_partition_tree(c.oid) pt "
							 "  JOIN pg_catalog.pg_class pc ON pc.oid = pt.relid WHERE pt.isleaf), 0) "
							 "  ELSE c.reltuples END::float8 "
							 "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
							 "WHERE c.relpersistence = 'p' "
							 "AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tributary', 'tributary_sink') "
							 "AND n.nspname !~ '^pg_(toast|temp)' "
							 "AND CASE WHEN $1::bool THEN c.relkind IN ('r', 'p') AND NOT c.relispartition "
							 "  ELSE c.relkind = 'r' END "
							 "ORDER BY n.nspname, c.relname", root, errbuf, errlen);
	trib_snaptab_table *t;
	int			i,
				k = 0;
	bool		bad = false;

	if (res == NULL)
		return false;
	t = trib_xcalloc((size_t) PQntuples(res) + 1, sizeof(*t));
	for (i = 0; i < PQntuples(res); i++)
	{
		trib_snaptab_table *e = &t[k];

		if (!selected(conf, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), errbuf, errlen, &bad))
		{
			if (bad)
				break;
			continue;
		}
		e->schema = trib_xstrdup(PQgetvalue(res, i, 1));
		e->table = trib_xstrdup(PQgetvalue(res, i, 2));
		e->relkind = PQgetvalue(res, i, 3)[0];
		e->estimate = atof(PQgetvalue(res, i, 4));
		k++;
		if (!load_columns(conn, e, PQgetvalue(res, i, 0), enc, errbuf, errlen))
		{
			bad = true;
			break;
		}
	}
	PQclear(res);
	if (bad)
	{
		trib_snaptab_free(t, k);
		return false;
	}
	qsort(t, (size_t) k, sizeof(*t), by_size);
	*out = t;
	*n = k;
	return true;
}

/* The ordering columns, quoted and comma-separated. */
static void
add_order_columns(trib_strbuf *b, PGconn *conn, const trib_snaptab_table *t)
{
	for (int i = 0; i < t->norder; i++)
	{
		const char *name = t->cols[t->order[i]].name;
		char	   *q = PQescapeIdentifier(conn, name, strlen(name));

		if (q == NULL)
			abort();
		trib_strbuf_printf(b, "%s%s", i ? ", " : "", q);
		PQfreemem(q);
	}
}

char *
trib_snaptab_sql(PGconn *conn, const trib_snaptab_table *t, bool next, int limit)
{
	trib_strbuf b = {0};
	char	   *qs = PQescapeIdentifier(conn, t->schema, strlen(t->schema));
	char	   *qt = PQescapeIdentifier(conn, t->table, strlen(t->table));
	int			i;

	if (qs == NULL || qt == NULL)
		abort();
	trib_strbuf_adds(&b, "SELECT ");
	for (i = 0; i < t->ncols; i++)
		trib_strbuf_printf(&b, "%s%s", i ? ", " : "", t->cols[i].expr);
	if (t->ncols == 0)
		trib_strbuf_adds(&b, "NULL");
	trib_strbuf_printf(&b, " FROM %s%s.%s", t->relkind == 'p' ? "" : "ONLY ", qs, qt);
	if (t->norder > 0)
	{
		if (next)
		{
			trib_strbuf_adds(&b, " WHERE (");
			add_order_columns(&b, conn, t);
			trib_strbuf_adds(&b, ") > (");
			for (i = 0; i < t->norder; i++)
				trib_strbuf_printf(&b, "%s$%d", i ? ", " : "", i + 1);
			trib_strbuf_adds(&b, ")");
		}
		trib_strbuf_adds(&b, " ORDER BY ");
		add_order_columns(&b, conn, t);
		trib_strbuf_printf(&b, " LIMIT %d", limit);
	}
	PQfreemem(qs);
	PQfreemem(qt);
	return trib_strbuf_finish(&b);
}

void
trib_snaptab_free(trib_snaptab_table *t, int n)
{
	int			i,
				j;

	if (t == NULL)
		return;
	for (i = 0; i < n; i++)
	{
		for (j = 0; j < t[i].ncols; j++)
		{
			free(t[i].cols[j].name);
			free(t[i].cols[j].json_key);
			free(t[i].cols[j].expr);
			trib_snapfmt_type_free(t[i].cols[j].type);
		}
		for (j = 0; t[i].after && j < t[i].nafter; j++)
			free(t[i].after[j]);
		free(t[i].after);
		free(t[i].cols);
		trib_relation_clear(&t[i].rel);
		free(t[i].order);
		free(t[i].schema);
		free(t[i].table);
	}
	free(t);
}
