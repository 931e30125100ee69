/*
 * registry_api_store.c: the schema registry API's one connection to the
 * catalog.
 *
 * Every request is answered from the extension's SQL API (register_schema,
 * check_compatibility, set_compatibility, the views), so the REST answers
 * are the SQL functions' answers and the API keeps no state of its own.
 * The connection is opened on the first request and used only by the HTTP
 * thread.  Each statement binds its values (PQexecParams); the only text
 * put into a statement is this file's own, chosen once when connecting.
 *
 * Blocking.  The HTTP thread also serves /health, so a statement may not
 * hang it: the session's statement_timeout is REGAPI_STATEMENT_TIMEOUT_MS
 * and connect_timeout defaults to REGAPI_CONNECT_TIMEOUT_S (the dsn's own
 * wins).  A lost connection (server restart) is closed; the next request
 * reconnects, and a read is retried once at once.
 *
 * Failures.  A failure to reach the catalog (no connection, a lost one, an
 * extension too old to serve) is marked `unavailable` and logged here with
 * libpq's whole message, which names the catalog's host, port or socket
 * path; the answer says only that the catalog is unavailable
 * (registry_api_reply.c), since reads may come without a token.
 *
 * Versions.  Extension 0.5 adds soft deletes: the view
 * tributary.schema_versions_with_deleted (schema_versions plus the
 * soft-deleted versions, with a last column `deleted`) and
 * tributary.delete_subject()/delete_schema_version().  Which of them exist
 * is looked up when connecting.  On 0.4 the relation read instead is a
 * subquery over schema_versions that adds `false AS deleted`, so every
 * query reads the same columns.
 */
#include "registry_api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgconn.h"

#define REGAPI_CONNECT_TIMEOUT_S "5"
#define REGAPI_STATEMENT_TIMEOUT_MS "5000"

#define VERSIONS_WITH_DELETED "tributary.schema_versions_with_deleted"
#define VERSIONS_WITHOUT_DELETED \
	"(SELECT sv.*, false AS deleted FROM tributary.schema_versions AS sv)"

/* Which objects of the SQL API exist. */
static const char features_sql[] =
	"SELECT pg_catalog.to_regclass('tributary.schema_versions') IS NOT NULL,"
	"       pg_catalog.to_regclass('tributary.schema_versions_with_deleted') IS NOT NULL,"
	"       pg_catalog.to_regprocedure('tributary.delete_subject(text,boolean)') IS NOT NULL";

/* Remember a failure for the caller's answer. */
static void
set_failure(regapi_store *s, const char *sqlstate, const char *message, const char *detail)
{
	snprintf(s->sqlstate, sizeof(s->sqlstate), "%s", sqlstate ? sqlstate : "");
	snprintf(s->message, sizeof(s->message), "%s", message ? message : "");
	snprintf(s->detail, sizeof(s->detail), "%s", detail ? detail : "");
	s->unavailable = false;
	/* one line: libpq ends messages with a newline */
	s->message[strcspn(s->message, "\n")] = '\0';
}

/* Look up which parts of the SQL API the installed extension has. */
static bool
read_features(regapi_store *s)
{
	PGresult   *res = PQexec(s->conn, features_sql);
	bool		ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;

	if (!ok)
		set_failure(s, PQresultErrorField(res, PG_DIAG_SQLSTATE),
					PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY), NULL);
	else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
	{
		set_failure(s, "", "the database has no tributary.schema_versions: the registry "
					"needs the tributary extension 0.4 or later (ALTER EXTENSION tributary "
					"UPDATE)", NULL);
		ok = false;
	}
	else
	{
		s->has_deleted = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
		s->has_delete_fns = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
		s->versions_rel = s->has_deleted ? VERSIONS_WITH_DELETED : VERSIONS_WITHOUT_DELETED;
	}
	PQclear(res);
	return ok;
}

/* Open the connection when there is none. */
bool
regapi_store_connect(regapi_store *s)
{
	const char *const kw[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
	const char *const val[] = {REGAPI_CONNECT_TIMEOUT_S, "tributary-registry", s->dsn, NULL};
	trib_pq_error e;
	PGresult   *res;

	if (s->conn != NULL && PQstatus(s->conn) == CONNECTION_OK)
		return true;
	regapi_store_close(s);
	s->conn = trib_pq_connect(kw, val, 1, &e);
	if (s->conn == NULL)
	{
		set_failure(s, "", e.message, NULL);
		s->unavailable = true;
		tlog_warn("registry", "cannot connect to the catalog: %s", e.message);
		return false;
	}
	res = PQexec(s->conn, "SET statement_timeout = " REGAPI_STATEMENT_TIMEOUT_MS);
	PQclear(res);
	if (!read_features(s))
	{
		tlog_warn("registry", "catalog unusable: %s", s->message);
		s->unavailable = true;
		regapi_store_close(s);
		return false;
	}
	return true;
}

/* One try of a statement. */
static PGresult *
exec_once(regapi_store *s, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res;
	ExecStatusType st;

	if (!regapi_store_connect(s))
		return NULL;
	res = PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	set_failure(s, res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL,
				res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
				: PQerrorMessage(s->conn),
				res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL);
	if (s->message[0] == '\0')
		set_failure(s, s->sqlstate, PQerrorMessage(s->conn), NULL);
	s->unavailable = PQstatus(s->conn) != CONNECTION_OK;
	PQclear(res);
	return NULL;
}

/* Run a statement; see registry_api_int.h. */
PGresult *
regapi_exec(regapi_store *s, const char *sql, int nparams, const char *const *params,
			bool retry)
{
	PGresult   *res = exec_once(s, sql, nparams, params);

	if (res == NULL && s->conn != NULL && PQstatus(s->conn) != CONNECTION_OK)
	{
		tlog_warn("registry", "lost the catalog connection: %s", s->message);
		regapi_store_close(s);
		if (retry)
			res = exec_once(s, sql, nparams, params);
	}
	return res;
}

/* Run a statement over schema_versions; see registry_api_int.h. */
PGresult *
regapi_exec_versions(regapi_store *s, const char *sql_fmt, int nparams,
					 const char *const *params, bool retry)
{
	trib_strbuf sql = {0};
	PGresult   *res;

	if (!regapi_store_connect(s))
		return NULL;
	trib_strbuf_printf(&sql, sql_fmt, s->versions_rel);
	res = regapi_exec(s, sql.data, nparams, params, retry);
	trib_strbuf_free(&sql);
	return res;
}

/* Close the connection. */
void
regapi_store_close(regapi_store *s)
{
	if (s != NULL && s->conn != NULL)
	{
		PQfinish(s->conn);
		s->conn = NULL;
	}
}
