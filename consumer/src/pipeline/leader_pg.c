/*
 * leader_pg.c: the pipeline lock as a PostgreSQL advisory lock.  See
 * leader_pg.h.
 *
 * The lock key is computed by the server from the pipeline name with a
 * bound parameter, so every consumer, whatever its platform, agrees on it
 * and no SQL is built from strings.  The check query asks pg_locks whether
 * this backend still holds the lock, which also proves the connection is
 * alive.
 */
#include "leader_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "errf.h"
#include "pgconn.h"
#include "xalloc.h"

#define LOCK_KEY_SQL "pg_catalog.hashtextextended('tributary.pipeline:' || $1, 0)"

typedef struct pg_lock
{
	char	   *dsn;
	const char *pipeline;		/* the handle's (trib_leader_pipeline) */
	PGconn	   *conn;
} pg_lock;

/* Drop the connection (and with it the lock). */
static void
drop_conn(pg_lock *l)
{
	if (l->conn)
		PQfinish(l->conn);
	l->conn = NULL;
}

/* Connect the lock's session: 0, or -1 / -2 as try_lock. */
static int
connect_lock(pg_lock *l, char *errbuf, size_t errlen)
{
	/* the dsn's own connect_timeout wins over the default (it comes after) */
	const char *const kw[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
	const char *const val[] = {TRIB_LEADER_CONNECT_TIMEOUT_S, "tributary", l->dsn, NULL};
	trib_pq_error e;

	l->conn = trib_pq_connect(kw, val, 1, &e);
	if (l->conn != NULL)
		return 0;
	trib_errf(errbuf, errlen, "cannot connect to the source database: %s", e.message);
	return e.final ? -2 : -1;
}

/* Run sql, whose $1 is the pipeline's name, on the lock's session. */
static PGresult *
lock_query(const pg_lock *l, const char *sql)
{
	const char *params[1] = {l->pipeline};

	return PQexecParams(l->conn, sql, 1, NULL, params, NULL, NULL, 0);
}

/* leader.h try_lock: pg_try_advisory_lock. */
static int
pg_try_lock(void *impl, char *errbuf, size_t errlen)
{
	pg_lock    *l = impl;
	PGresult   *res;
	char		eb[512];
	int			rc;

	if (l->conn && PQstatus(l->conn) != CONNECTION_OK)
		drop_conn(l);
	if (!l->conn && (rc = connect_lock(l, errbuf, errlen)) < 0)
		return rc;
	res = lock_query(l, "SELECT pg_catalog.pg_try_advisory_lock(" LOCK_KEY_SQL ")");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		trib_errf(errbuf, errlen, "leader: pg_try_advisory_lock failed: %s",
				  trib_pq_error_text(l->conn, eb, sizeof(eb)));
		PQclear(res);
		drop_conn(l);
		return -1;
	}
	rc = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return rc;
}

/* leader.h check: does this backend still hold the lock? */
static bool
pg_check(void *impl, char *errbuf, size_t errlen)
{
	pg_lock    *l = impl;
	PGresult   *res;
	char		eb[512];
	bool		ok;

	if (!l->conn)
		return trib_errf(errbuf, errlen, "leader: not holding the lock");
	res = lock_query(l, "SELECT count(*) FROM pg_catalog.pg_locks "
					 "WHERE locktype = 'advisory' AND pid = pg_catalog.pg_backend_pid() AND granted "
					 "AND ((classid::bigint << 32) | objid::bigint) = " LOCK_KEY_SQL);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		strcmp(PQgetvalue(res, 0, 0), "0") != 0;
	if (!ok)
	{
		trib_errf(errbuf, errlen, "leader: lock lost: %s",
				  PQresultStatus(res) == PGRES_TUPLES_OK ? "not held any more" :
				  trib_pq_error_text(l->conn, eb, sizeof(eb)));
		drop_conn(l);
	}
	PQclear(res);
	return ok;
}

/* leader.h free. */
static void
pg_free(void *impl)
{
	pg_lock    *l = impl;

	drop_conn(l);				/* closing the session releases the lock */
	free(l->dsn);
}

static const trib_leader_ops pg_leader_ops = {
	.kind = "PostgreSQL advisory lock",
	.try_lock = pg_try_lock,
	.check = pg_check,
	.free = pg_free,
};

/* See leader_pg.h. */
trib_leader *
trib_leader_pg_new(const char *dsn, const char *pipeline)
{
	trib_leader *ld = trib_leader_new(&pg_leader_ops, sizeof(pg_lock), pipeline);
	pg_lock    *l = trib_leader_impl(ld);

	l->dsn = trib_xstrdup(dsn ? dsn : "");
	l->pipeline = trib_leader_pipeline(ld);
	return ld;
}
