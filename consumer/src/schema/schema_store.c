/*
 * schema_store.c: the schema stage's one connection to the registry's
 * catalog, through the extension's SQL API only (find by fingerprint,
 * tributary.check_compatibility, tributary.register_schema,
 * tributary.set_compatibility), so the stage's answers are the SQL
 * functions' answers.
 *
 * Every statement binds its values (PQexecParams); the statements are
 * this file's constants.  The connection is opened on first use; after a
 * failure it is closed, so the next call reconnects.  A connection the
 * server ended while it was idle is opened again at once and the
 * statement sent again (outside the register transaction only; every
 * statement is a read or idempotent), so that the pipeline is not
 * restarted for it.
 */
#include "schema_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "jsondoc.h"
#include "pgconn.h"
#include "strbuf.h"
#include "xalloc.h"

struct trib_schema_store
{
	char	   *dsn;
	PGconn	   *conn;
	bool		lost;			/* the last failure was the connection's */
	bool		in_tx;			/* between BEGIN and COMMIT/ROLLBACK */
};

static const char find_sql[] =
	"SELECT v.id, v.version FROM tributary.schema_versions AS v"
	" WHERE v.subject OPERATOR(pg_catalog.=) $1"
	"   AND v.schema_type OPERATOR(pg_catalog.=) $2"
	"   AND v.fingerprint OPERATOR(pg_catalog.=) $3"
	" ORDER BY v.version LIMIT 1";

/* Each violation with the level it was checked under (the subject's, else
 * the global one), for the stage's error. */
static const char check_sql[] =
	"SELECT c.previous_version, c.path, c.kind, c.message, tributary.compatibility_level($1)"
	"  FROM tributary.check_compatibility($1, $2::jsonb, NULL, $3) AS c";

static const char register_sql[] =
	"SELECT r.id, r.version FROM tributary.register_schema($1, $2::jsonb, $3, $4::jsonb) AS r";

/* The subject's own level, NULL when it follows the global one. */
static const char own_level_sql[] =
	"SELECT (SELECT j.own_compatibility FROM tributary.subjects AS j"
	"         WHERE j.subject OPERATOR(pg_catalog.=) $1)";

static const char set_level_sql[] = "SELECT tributary.set_compatibility($1, $2)";

/* The quarantine (extension 0.6): record a version, and is it waiting? */
static const char quarantine_sql[] = "SELECT tributary.quarantine_schema($1, $2::integer)";
static const char pending_sql[] =
	"SELECT count(*) FROM tributary.schema_quarantine AS q"
	" WHERE q.subject OPERATOR(pg_catalog.=) $1"
	"   AND q.version OPERATOR(pg_catalog.=) $2::integer AND q.accepted_at IS NULL";

static const char accept_sql[] = "SELECT tributary.accept_schema($1, $2::integer)";

/* A migration's target: the version asked for, or the latest ($3 NULL). */
static const char version_sql[] =
	"SELECT v.id, v.version, v.schema FROM tributary.schema_versions AS v"
	" WHERE v.subject OPERATOR(pg_catalog.=) $1"
	"   AND v.schema_type OPERATOR(pg_catalog.=) $2"
	"   AND ($3::integer IS NULL OR v.version OPERATOR(pg_catalog.=) $3::integer)"
	" ORDER BY v.version DESC LIMIT 1";

trib_schema_store *
trib_schema_store_new(const char *dsn)
{
	trib_schema_store *s = trib_xmalloc(sizeof(*s));

	s->dsn = trib_xstrdup(dsn);
	s->conn = NULL;
	s->lost = false;
	s->in_tx = false;
	return s;
}

bool
trib_schema_store_lost(const trib_schema_store *s)
{
	return s->lost;
}

void
trib_schema_store_free(trib_schema_store *s)
{
	if (s == NULL)
		return;
	if (s->conn != NULL)
		PQfinish(s->conn);
	free(s->dsn);
	free(s);
}

/* Connect when not connected. */
static bool
connected(trib_schema_store *s, char *errbuf, size_t errlen)
{
	const char *const keys[] = {"dbname", "application_name", NULL};
	const char *const vals[] = {s->dsn, "tributary-schemas", NULL};
	trib_pq_error err;

	if (s->conn != NULL && PQstatus(s->conn) == CONNECTION_OK)
		return true;
	if (s->conn != NULL)
		PQfinish(s->conn);
	s->conn = trib_pq_connect(keys, vals, 1, &err);
	if (s->conn == NULL)
		snprintf(errbuf, errlen, "schema registry catalog: %s", err.message);
	s->lost = s->conn == NULL && !err.final;
	return s->conn != NULL;
}

/* Run a statement; NULL with errbuf (and the connection dropped).  A
 * connection found dead when a statement is sent on it outside a
 * transaction (ended by the server while idle: idle_session_timeout, a
 * pooler, pg_terminate_backend) is opened again and the statement sent
 * once more: every statement here is a read or idempotent (registering a
 * schema again returns its version), and the pipeline is then not
 * restarted for it. */
static PGresult *
run(trib_schema_store *s, const char *sql, int nparams, const char *const *params,
	ExecStatusType want, char *errbuf, size_t errlen)
{
	PGresult   *res;
	bool		reused = s->conn != NULL && PQstatus(s->conn) == CONNECTION_OK;

	if (!connected(s, errbuf, errlen))
		return NULL;
	res = PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (reused && !s->in_tx && PQstatus(s->conn) != CONNECTION_OK)
	{
		PQclear(res);
		PQfinish(s->conn);
		s->conn = NULL;
		if (!connected(s, errbuf, errlen))
			return NULL;
		res = PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	}
	s->lost = false;
	if (PQresultStatus(res) == want)
		return res;
	{
		const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);

		snprintf(errbuf, errlen, "schema registry catalog: %s%s%s",
				 msg ? msg : PQerrorMessage(s->conn), detail ? ": " : "",
				 detail ? detail : "");
		errbuf[strcspn(errbuf, "\n")] = '\0';
	}
	PQclear(res);
	if (PQstatus(s->conn) != CONNECTION_OK)
	{
		PQfinish(s->conn);
		s->conn = NULL;
		s->lost = true;
		s->in_tx = false;
	}
	return NULL;
}

/* id and version from row 0. */
static void
id_version(PGresult *res, int64_t *id, int32_t *version)
{
	*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	*version = (int32_t) strtol(PQgetvalue(res, 0, 1), NULL, 10);
}

int
trib_schema_store_find(trib_schema_store *s, const char *subject, const char *schema_type,
					   const char *fingerprint, int64_t *id, int32_t *version,
					   char *errbuf, size_t errlen)
{
	const char *params[] = {subject, schema_type, fingerprint};
	PGresult   *res = run(s, find_sql, 3, params, PGRES_TUPLES_OK, errbuf, errlen);
	int			found;

	if (res == NULL)
		return -1;
	found = PQntuples(res) > 0;
	if (found)
		id_version(res, id, version);
	PQclear(res);
	return found;
}

int
trib_schema_store_version(trib_schema_store *s, const char *subject, const char *schema_type,
						  int32_t version, int64_t *id, int32_t *out_version, char **doc,
						  char *errbuf, size_t errlen)
{
	char		v[16];
	const char *params[] = {subject, schema_type, v};
	PGresult   *res;
	int			found;

	snprintf(v, sizeof(v), "%d", (int) version);
	if (version == 0)
		params[2] = NULL;
	if ((res = run(s, version_sql, 3, params, PGRES_TUPLES_OK, errbuf, errlen)) == NULL)
		return -1;
	found = PQntuples(res) > 0;
	if (found)
	{
		id_version(res, id, out_version);
		*doc = trib_xstrdup(PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	return found;
}

/* Run a statement with (subject, version) that returns one value. */
static int
subject_version_value(trib_schema_store *s, const char *sql, const char *subject,
					  int32_t version, const char *truth, char *errbuf, size_t errlen)
{
	char		v[16];
	const char *params[] = {subject, v};
	PGresult   *res;
	int			r;

	snprintf(v, sizeof(v), "%d", (int) version);
	if ((res = run(s, sql, 2, params, PGRES_TUPLES_OK, errbuf, errlen)) == NULL)
		return -1;
	r = PQntuples(res) > 0 && strcmp(PQgetvalue(res, 0, 0), truth) == 0 ? 0 : 1;
	PQclear(res);
	return r;
}

int
trib_schema_store_accept(trib_schema_store *s, const char *subject, int32_t version,
						 char *errbuf, size_t errlen)
{
	/* the function answers "t" when this call accepted it */
	int			r = subject_version_value(s, accept_sql, subject, version, "t", errbuf, errlen);

	return r < 0 ? -1 : r == 0;
}

int
trib_schema_store_pending(trib_schema_store *s, const char *subject, int32_t version,
						  char *errbuf, size_t errlen)
{
	/* no row waiting: "0" */
	return subject_version_value(s, pending_sql, subject, version, "0", errbuf, errlen);
}

int
trib_schema_store_check(trib_schema_store *s, const char *subject, const char *schema,
						const char *schema_type, trib_schema_violation_fn fn, void *arg,
						char *errbuf, size_t errlen)
{
	const char *params[] = {subject, schema, schema_type};
	PGresult   *res = run(s, check_sql, 3, params, PGRES_TUPLES_OK, errbuf, errlen);
	int			n;

	if (res == NULL)
		return -1;
	n = PQntuples(res);
	for (int i = 0; i < n; i++)
		fn(arg, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
		   PQgetvalue(res, i, 3), PQgetvalue(res, i, 4));
	PQclear(res);
	return n;
}

/* Run a statement whose rows do not matter. */
static bool
run_ok(trib_schema_store *s, const char *sql, int nparams, const char *const *params,
	   char *errbuf, size_t errlen)
{
	PGresult   *res = run(s, sql, nparams, params, PGRES_TUPLES_OK, errbuf, errlen);

	PQclear(res);
	return res != NULL;
}

/* A statement without rows (BEGIN, COMMIT). */
static bool
command(trib_schema_store *s, const char *sql, char *errbuf, size_t errlen)
{
	PGresult   *res = run(s, sql, 0, NULL, PGRES_COMMAND_OK, errbuf, errlen);

	PQclear(res);
	return res != NULL;
}

/* Register under level NONE in one transaction, then restore the
 * subject's own level (none: it follows the global one again); quarantine:
 * record the version as quarantined in the same transaction, so that a
 * crash never leaves it registered and not quarantined. */
static PGresult *
register_unchecked(trib_schema_store *s, const char *const *params, bool quarantine,
				   char *errbuf, size_t errlen)
{
	PGresult   *own = NULL;
	PGresult   *res = NULL;
	char	   *level = NULL;
	const char *set_none[] = {params[0], "NONE"};

	if (!command(s, "BEGIN", errbuf, errlen))
		return NULL;
	s->in_tx = true;
	own = run(s, own_level_sql, 1, params, PGRES_TUPLES_OK, errbuf, errlen);
	if (own != NULL && !PQgetisnull(own, 0, 0))
		level = trib_xstrdup(PQgetvalue(own, 0, 0));
	if (own != NULL && run_ok(s, set_level_sql, 2, set_none, errbuf, errlen))
	{
		const char *restore[] = {params[0], level};

		res = run(s, register_sql, 4, params, PGRES_TUPLES_OK, errbuf, errlen);
		if (res != NULL && (!run_ok(s, set_level_sql, 2, restore, errbuf, errlen) ||
							(quarantine &&
							 !run_ok(s, quarantine_sql, 2,
									 (const char *const[]) {params[0], PQgetvalue(res, 0, 1)},
									 errbuf, errlen))))
		{
			PQclear(res);
			res = NULL;
		}
	}
	PQclear(own);
	free(level);
	if (res == NULL)
	{
		if (s->conn != NULL)
			PQclear(PQexec(s->conn, "ROLLBACK"));
		s->in_tx = false;
		return NULL;
	}
	if (!command(s, "COMMIT", errbuf, errlen))
	{
		s->in_tx = false;
		PQclear(res);
		return NULL;
	}
	s->in_tx = false;
	return res;
}

bool
trib_schema_store_register(trib_schema_store *s, const char *subject, const char *schema,
						   const char *schema_type, const char *event_id, bool unchecked,
						   bool quarantine, int64_t *id, int32_t *version, char *errbuf,
						   size_t errlen)
{
	trib_strbuf pos = {0};
	PGresult   *res;

	trib_strbuf_adds(&pos, "{\"event_id\":");
	trib_jdoc_quote(&pos, event_id);
	trib_strbuf_addc(&pos, '}');
	{
		const char *params[] = {subject, schema, schema_type, pos.data};

		res = unchecked ? register_unchecked(s, params, quarantine, errbuf, errlen)
			: run(s, register_sql, 4, params, PGRES_TUPLES_OK, errbuf, errlen);
	}
	trib_strbuf_free(&pos);
	if (res == NULL)
		return false;
	id_version(res, id, version);
	PQclear(res);
	return true;
}
