/*
 * erasure_check.c: the erasure section's part of `tributary check`
 * (erasure.h): whether requests can be taken and the targets read.
 *
 * Design.  On a short-lived connection to the erasure dsn with the
 * check's timeout (check_report.h), read-only catalog queries with bound
 * parameters: the extension has the request and key tables, the role may
 * write the keys (a member of tributary_eraser), and each target table
 * exists, has the column and a key to name its rows, and may be read.
 * What would stop an erasure counts as a problem.
 */
#include "erasure.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "check_report.h"
#include "xalloc.h"

/* One erasure target: the table exists, has a key and is readable. */
static void
check_target(trib_check_report *rep, PGconn *conn, const char *target)
{
	const char *d1 = strchr(target, '.');
	const char *d2 = strrchr(target, '.');
	char	   *schema = trib_xstrndup(target, (size_t) (d1 - target));
	char	   *table = trib_xstrndup(d1 + 1, (size_t) (d2 - d1 - 1));
	const char *p[3] = {schema, table, d2 + 1};
	PGresult   *r = trib_check_report_pg_query(rep, conn, "erasure target",
						  "SELECT c.oid IS NOT NULL, "
						  "  EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid "
						  "    AND a.attname = $3 AND a.attnum > 0 AND NOT a.attisdropped), "
						  "  EXISTS (SELECT FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid "
						  "    AND (i.indisprimary OR i.indisreplident)), "
						  "  c.oid IS NOT NULL AND pg_catalog.has_table_privilege(c.oid, 'SELECT') "
						  "FROM (SELECT pg_catalog.to_regclass(pg_catalog.quote_ident($1) "
						  "  OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) "
						  "  pg_catalog.quote_ident($2))::pg_catalog.oid AS oid) c",
						  3, p);
	const char *why = NULL;

	if (r != NULL)
		why = strcmp(PQgetvalue(r, 0, 0), "t") != 0 ? "no such table"
			: strcmp(PQgetvalue(r, 0, 1), "t") != 0 ? "no such column"
			: strcmp(PQgetvalue(r, 0, 2), "t") != 0 ? "no primary key or replica identity index: "
			"its rows cannot be named"
			: strcmp(PQgetvalue(r, 0, 3), "t") != 0 ? "the role may not read it" : NULL;
	if (r != NULL)
		trib_check_report_say(rep, "  target %s: %s", target, why ? why : "ok");
	rep->problems += why != NULL;
	PQclear(r);
	free(schema);
	free(table);
}

/*
 * Erasure: the extension has the request tables, the erasure dsn's role
 * may write the keys (tributary_eraser) and read every target.
 */
void
trib_erasure_check(const trib_erasure_conf *e, trib_check_report *rep)
{
	PGconn	   *conn;
	PGresult   *r;

	if (e->targets.count == 0)
		return;
	trib_check_report_say(rep, "erasure: requests from tributary.erasure_requests (only tributary_eraser may "
		"insert); logical messages are refused");
	if ((conn = trib_check_report_pg_connect(rep, "database", e->dsn)) == NULL)
		return;
	r = trib_check_report_pg_query(rep, conn, "erasure",
			  "SELECT EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
			  "  ON n.oid = c.relnamespace WHERE n.nspname = 'tributary' "
			  "  AND c.relname = 'erasure_keys'), "
			  "CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'tributary_eraser') "
			  "THEN pg_catalog.pg_has_role('tributary_eraser', 'USAGE') END",
			  0, NULL);
	if (r != NULL && strcmp(PQgetvalue(r, 0, 0), "t") != 0)
	{
		trib_check_report_say(rep, "  erasure tables: missing (the extension needs version 0.3: "
			"ALTER EXTENSION tributary UPDATE)");
		rep->problems++;
	}
	else if (r != NULL && strcmp(PQgetvalue(r, 0, 1), "t") != 0)
	{
		trib_check_report_say(rep, "  role %s: not a member of tributary_eraser, so it cannot write "
			"tributary.erasure_keys (GRANT tributary_eraser TO %s)", PQuser(conn), PQuser(conn));
		rep->problems++;
	}
	else if (r != NULL)
		trib_check_report_say(rep, "  erasure tables: present; role %s may write them", PQuser(conn));
	PQclear(r);
	for (size_t i = 0; i < e->targets.count; i++)
		check_target(rep, conn, e->targets.items[i]);
	PQfinish(conn);
}

