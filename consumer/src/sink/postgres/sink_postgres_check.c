/*
 * sink_postgres_check.c: the PostgreSQL sink's part of `tributary check`:
 * is the target reachable, which captured tables exist there or would be
 * created, and per table what `run` will do with it.
 *
 * The captured tables come from the sources' part of the report
 * (check_report.h).  For each, the source's catalog is read again (one
 * query per source, bound array parameters) for its key, replica identity
 * and column types, and the target's for the table and its columns; the
 * report then names, before `run` meets them, the keyless tables whose
 * updates and deletes are skipped or matched on the whole row, deletes
 * without a key, types the target lacks (which stop `run` unless
 * `unknown_types: text`) and composite columns.  Read-only, with the
 * check's timeouts.
 */
#include "sink_postgres_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "check_report.h"
#include "sink_postgres_conf.h"
#include "strbuf.h"

/* The source's columns of the captured tables ($1 schemas, $2 tables):
 * schema, table, replica identity, has a primary key, column, type,
 * NOT NULL, kind ('c' composite or array of composites, 't' other; one
 * level of domain). */
static const char *const pgsink_source_sql =
"SELECT n.nspname, c.relname, c.relreplident, "
"       EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid "
"               AND i.indisprimary), "
"       a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, "
"       CASE WHEN bt.typtype = 'c' OR et.typtype = 'c' THEN 'c' ELSE 't' END "
"FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), "
"               pg_catalog.unnest($2::pg_catalog.text[])) AS x(s, t) "
"JOIN pg_catalog.pg_namespace n ON n.nspname = x.s "
"JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = x.t "
"JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
"     AND NOT a.attisdropped "
"JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid "
"JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN ty.typtype = 'd' THEN ty.typbasetype "
"     ELSE ty.oid END "
"LEFT JOIN pg_catalog.pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A' "
"ORDER BY 1, 2, a.attnum";

/* Does the target have the table ($1 schema, $2 table)? */
static const char *const pgsink_exists_sql =
"SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
"ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 "
"AND c.relkind IN ('r', 'p')";

/* The target table ($1 schema, $2 table): exists, has a primary key, its
 * columns (0x1f-separated, each followed by one). */
static const char *const pgsink_target_sql =
"SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid "
"               AND i.indisprimary), "
"       (SELECT string_agg(a.attname || E'\\x1f', '') FROM pg_catalog.pg_attribute a "
"        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) "
"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
"WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')";

/* A table of the report whose name is printed before its first line. */
typedef struct pgsink_hdr
{
	const char *schema;
	const char *table;
	bool		said;
} pgsink_hdr;

/* Print a line about a table, after its name the first time. */
__attribute__((format(printf, 3, 4)))
static void
table_say(trib_check_report *c, pgsink_hdr *h, const char *fmt,...)
{
	char		buf[1024];
	va_list		ap;

	if (!h->said)
		trib_check_report_say(c, "    %s.%s:", h->schema, h->table);
	h->said = true;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	trib_check_report_say(c, "      %s", buf);
}

/* Is `name` one of the 0x1f-separated names in list? */
static bool
in_name_list(const char *list, const char *name)
{
	size_t		n = strlen(name);

	for (const char *p = list; p && *p;)
	{
		const char *e = strchr(p, '\x1f');
		size_t		len = e ? (size_t) (e - p) : strlen(p);

		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

/* Would `run` create the column with a type the target does not have?
 * (the type as the source names it, checked with to_regtype) */
static bool
pgsink_type_missing(PGconn *dst, const char *type)
{
	const char *params[1] = {type};
	PGresult   *r = PQexecParams(dst, "SELECT pg_catalog.to_regtype($1) IS NULL", 1, NULL,
								 params, NULL, NULL, 0);
	bool		missing = PQresultStatus(r) == PGRES_TUPLES_OK &&
		strcmp(PQgetvalue(r, 0, 0), "t") == 0;

	PQclear(r);
	return missing;
}

/* The columns of one table (rows first..end of src): types the target
 * lacks, composites.  (json columns need no note: the plugin's json_nulls
 * tell JSON null from SQL NULL.) */
static void
pgsink_columns(trib_check_report *c, pgsink_hdr *h, PGconn *dst, const trib_pgsink_conf *ps,
			   const PGresult *src, int first, int end, bool exists, const char *tcols)
{
	trib_strbuf comp = {0};

	for (int i = first; i < end; i++)
	{
		const char *col = PQgetvalue(src, i, 4),
				   *type = PQgetvalue(src, i, 5),
				   *kind = PQgetvalue(src, i, 7);
		bool		created = !exists || !in_name_list(tcols, col);
		bool		as_text = false;

		if (created && ps->create_tables && pgsink_type_missing(dst, type))
		{
			as_text = ps->unknown_types == TRIB_UNKNOWN_TYPES_TEXT;
			if (as_text)
				table_say(c, h, "column %s: type %s does not exist in the target; `run` "
						  "creates the column as text (unknown_types: text)", col, type);
			else
			{
				table_say(c, h, "column %s: type %s does not exist in the target; `run` "
						  "would stop: create the type there, set `unknown_types: text`, "
						  "or drop the column with a transform rule", col, type);
				c->problems++;
			}
		}
		if (kind[0] == 'c' && !as_text)
			trib_strbuf_printf(&comp, "%s%s", comp.len ? ", " : "", col);
	}
	if (comp.len)
		table_say(c, h, "composite columns %s: built in the target from their JSON "
				  "(json_populate_record; a json attribute that is JSON null "
				  "arrives as NULL)", comp.data);
	trib_strbuf_free(&comp);
}

/* What `run` does with one table (rows first..end of src): keyless tables,
 * deletes without a key, then its columns. */
static void
pgsink_table(trib_check_report *c, PGconn *dst, const trib_pgsink_conf *ps, const PGresult *src,
			 int first, int end)
{
	const char *table = PQgetvalue(src, first, 1);
	char		ri = PQgetvalue(src, first, 2)[0];
	const char *params[2] = {ps->schema, table};
	PGresult   *r = PQexecParams(dst, pgsink_target_sql, 2, NULL, params, NULL, NULL, 0);
	pgsink_hdr	h = {.schema = ps->schema, .table = table};
	bool		exists,
				keyed;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
	{
		PQclear(r);
		return;
	}
	exists = PQntuples(r) > 0;
	/* a created table is keyed on the source's primary key, else on its
	 * replica identity index */
	keyed = exists ? PQgetvalue(r, 0, 0)[0] == 't'
		: PQgetvalue(src, first, 3)[0] == 't' || ri == 'i';
	if (!keyed && ri == 'f')
		table_say(c, &h, "no primary key, replica identity full: updates and deletes "
				  "change one row equal to the old row in every column");
	else if (!keyed)
		table_say(c, &h, "warning: no primary key and replica identity %s: inserts are "
				  "appended; updates and deletes are skipped and counted "
				  "(tributary_sink_skipped_changes_total); REPLICA IDENTITY FULL applies "
				  "them", ri == 'n' ? "nothing" : ri == 'i' ? "index" : "default");
	else if (ri == 'n')
		table_say(c, &h, "warning: replica identity nothing: deletes carry no key and are "
				  "skipped and counted (tributary_sink_skipped_changes_total)");
	pgsink_columns(c, &h, dst, ps, src, first, end, exists,
				   exists && !PQgetisnull(r, 0, 1) ? PQgetvalue(r, 0, 1) : "");
	PQclear(r);
}

/* Per captured table of one source, what `run` will do with it. */
static void
pgsink_source(trib_check_report *c, PGconn *dst, const trib_pgsink_conf *ps,
			  const trib_check_source *sc)
{
	trib_strbuf schemas = {0},
				tables = {0};
	const char *params[2];
	PGconn	   *src = trib_check_report_pg_open(sc->dsn);
	PGresult   *r;
	int			first = 0;

	if (PQstatus(src) != CONNECTION_OK)
	{
		PQfinish(src);			/* the source's section said why */
		return;
	}
	trib_strbuf_addc(&schemas, '{');
	trib_strbuf_addc(&tables, '{');
	for (size_t i = 0; i < c->ntables; i++)
	{
		if (strcmp(c->tables[i].source, sc->name) != 0)
			continue;
		if (schemas.len > 1)
		{
			trib_strbuf_addc(&schemas, ',');
			trib_strbuf_addc(&tables, ',');
		}
		trib_strbuf_adds(&schemas, "\"");
		trib_strbuf_adds(&tables, "\"");
		for (const char *p = c->tables[i].schema; *p; p++)
			trib_strbuf_printf(&schemas, "%s%c", *p == '"' || *p == '\\' ? "\\" : "", *p);
		for (const char *p = c->tables[i].table; *p; p++)
			trib_strbuf_printf(&tables, "%s%c", *p == '"' || *p == '\\' ? "\\" : "", *p);
		trib_strbuf_adds(&schemas, "\"");
		trib_strbuf_adds(&tables, "\"");
	}
	trib_strbuf_addc(&schemas, '}');
	trib_strbuf_addc(&tables, '}');
	params[0] = schemas.data;
	params[1] = tables.data;
	r = PQexecParams(src, pgsink_source_sql, 2, NULL, params, NULL, NULL, 0);
	for (int i = 1; PQresultStatus(r) == PGRES_TUPLES_OK && i <= PQntuples(r); i++)
		if (i == PQntuples(r) || strcmp(PQgetvalue(r, i, 0), PQgetvalue(r, first, 0)) != 0 ||
			strcmp(PQgetvalue(r, i, 1), PQgetvalue(r, first, 1)) != 0)
		{
			pgsink_table(c, dst, ps, r, first, i);
			first = i;
		}
	PQclear(r);
	PQfinish(src);
	trib_strbuf_free(&schemas);
	trib_strbuf_free(&tables);
}

/* See sink_postgres_int.h. */
void
pgs_check(const struct trib_plugin_conf *conf, trib_check_report *c)
{
	const trib_pgsink_conf *ps = trib_pgsink_conf_of(conf);
	PGconn	   *conn = trib_check_report_pg_connect(c, "target database", ps->dsn);
	int			exist = 0,
				missing = 0;

	if (conn == NULL)
		return;
	if (!c->tables_known)
		trib_check_report_say(c, "  target tables: unknown (the source is not reachable)");
	for (size_t i = 0; i < c->ntables; i++)
	{
		const char *params[2] = {ps->schema, c->tables[i].table};
		PGresult   *r = trib_check_report_pg_query(c, conn, "target table",
												   pgsink_exists_sql, 2, params);

		if (r == NULL)
			break;
		if (PQntuples(r) > 0)
			exist++;
		else
		{
			missing++;
			trib_check_report_say(c, "  %s.%s: missing; %s", ps->schema, c->tables[i].table,
								  ps->create_tables ?
								  "`run` creates it from the source's definition"
								  : "`run` would fail (create_tables: false)");
			c->problems += !ps->create_tables;
		}
		PQclear(r);
	}
	if (c->tables_known)
		trib_check_report_say(c, "  target tables in schema %s: %d exist, %d missing",
							  ps->schema, exist, missing);
	for (size_t i = 0; c->tables_known && i < c->nsources; i++)
		pgsink_source(c, conn, ps, &c->sources[i]);
	PQfinish(conn);
}
