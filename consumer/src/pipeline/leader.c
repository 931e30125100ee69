/*
 * leader.c: advisory-lock leadership for a pipeline.  See leader.h.
 *
 * The lock key is computed by the server from the pipeline name with a
 * bound parameter, so every consumer, whatever its platform, agrees on it
 * and no SQL is built from strings.  The check query asks pg_locks whether
 * this backend still holds the lock, which also proves the connection is
 * alive.
 */
#include "leader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "clock.h"
#include "errf.h"
#include "pgconn.h"

#define LOCK_KEY_SQL "pg_catalog.hashtextextended('tributary.pipeline:' || $1, 0)"

struct trib_leader
{
	char	   *dsn;
	char	   *pipeline;
	PGconn	   *conn;
	bool		held;
};

/* A new handle. */
trib_leader *
trib_leader_new(const char *dsn, const char *pipeline)
{
	trib_leader *l = calloc(1, sizeof(*l));

	if (!l)
		abort();
	l->dsn = strdup(dsn ? dsn : "");
	l->pipeline = strdup(pipeline ? pipeline : "tributary");
	if (!l->dsn || !l->pipeline)
		abort();
	return l;
}

/* Drop the connection (and with it the lock). */
static void
drop_conn(trib_leader *l)
{
	if (l->conn)
		PQfinish(l->conn);
	l->conn = NULL;
	l->held = false;
}

/* Connect the lock's session: 0, or -1 / -2 as trib_leader_try(). */
static int
connect_lock(trib_leader *l, char *errbuf, size_t errlen)
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

/* One try at the lock. */
int
trib_leader_try(trib_leader *l, char *errbuf, size_t errlen)
{
	const char *params[1] = {l->pipeline};
	PGresult   *res;
	char		eb[512];
	int			rc;

	if (l->held)
		return 1;
	if (l->conn && PQstatus(l->conn) != CONNECTION_OK)
		drop_conn(l);
	if (!l->conn && (rc = connect_lock(l, errbuf, errlen)) < 0)
		return rc;
	res = PQexecParams(l->conn, "SELECT pg_catalog.pg_try_advisory_lock(" LOCK_KEY_SQL ")",
					   1, NULL, params, NULL, NULL, 0);
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
	l->held = rc == 1;
	return rc;
}

/* Wait for the lock. */
bool
trib_leader_acquire(trib_leader *l, int retry_ms, int timeout_ms,
					volatile int *stop, char *errbuf, size_t errlen)
{
	long long	deadline = trib_clock_mono_ms() + timeout_ms;

	if (retry_ms <= 0)
		retry_ms = 1000;
	for (;;)
	{
		int			rc = trib_leader_try(l, errbuf, errlen);

		if (rc == 1)
			return true;
		if (rc == -2)
			return false;
		if (rc == 0)
			trib_errf(errbuf, errlen, "leader: pipeline \"%s\" is active elsewhere", l->pipeline);
		if ((stop && *stop) || (timeout_ms >= 0 && trib_clock_mono_ms() + retry_ms > deadline))
			return false;
		usleep((useconds_t) retry_ms * 1000);
	}
}

/* Do we still hold the lock? */
bool
trib_leader_check(trib_leader *l, char *errbuf, size_t errlen)
{
	const char *params[1] = {l->pipeline};
	PGresult   *res;
	char		eb[512];
	bool		ok;

	if (!l->held || !l->conn)
	{
		trib_errf(errbuf, errlen, "leader: not holding the lock");
		return false;
	}
	res = PQexecParams(l->conn,
					   "SELECT count(*) FROM pg_catalog.pg_locks "
					   "WHERE locktype = 'advisory' AND pid = pg_catalog.pg_backend_pid() AND granted "
					   "AND ((classid::bigint << 32) | objid::bigint) = " LOCK_KEY_SQL,
					   1, NULL, params, NULL, NULL, 0);
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

/* Release and free. */
void
trib_leader_free(trib_leader *l)
{
	if (!l)
		return;
	drop_conn(l);				/* closing the session releases the lock */
	free(l->dsn);
	free(l->pipeline);
	free(l);
}
