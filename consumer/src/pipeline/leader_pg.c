/*
 * leader_pg.c: the pipeline lock as a PostgreSQL advisory lock.  See
 * leader_pg.h.
 *
 * The lock key is computed by the server from the pipeline name with a
 * bound parameter, so every consumer, whatever its platform, agrees on it
 * and no SQL is built from strings.  The check query asks pg_locks whether
 * this backend still holds the lock, which also proves the connection is
 * alive.
 *
 * No silent hang.  A lock server that stops answering (a network cut, a
 * frozen host) must end in a lost lock within seconds, not when TCP gives
 * up after about 15 minutes.  So every query on the lock's session is sent
 * asynchronously and waited for with a deadline (TRIB_LEADER_QUERY_TIMEOUT_MS:
 * this also covers a server whose kernel still acknowledges but whose
 * backend is stopped), after which the connection is dropped; and the
 * connection carries libpq TCP keepalives and tcp_user_timeout, so a dead
 * peer also shows as a closed socket.  These defaults come before the dsn
 * among the connection parameters, so the dsn's own settings win.
 */
#include "leader_pg.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "errf.h"
#include "pgconn.h"
#include "xalloc.h"

#define LOCK_KEY_SQL "pg_catalog.hashtextextended('tributary.pipeline:' || $1, 0)"

typedef struct pg_lock
{
	char	   *dsn;
	const char *pipeline;		/* the handle's (trib_leader_pipeline) */
	PGconn	   *conn;
	int			query_timeout_ms;	/* the deadline of each query */
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
	/* the dsn's own settings win over these defaults (it comes after) */
	const char *const kw[] = {"connect_timeout", "keepalives", "keepalives_idle",
		"keepalives_interval", "keepalives_count", "tcp_user_timeout",
	"fallback_application_name", "dbname", NULL};
	const char *const val[] = {TRIB_LEADER_CONNECT_TIMEOUT_S, "1", TRIB_LEADER_KEEPALIVES_IDLE_S,
		TRIB_LEADER_KEEPALIVES_INTERVAL_S, TRIB_LEADER_KEEPALIVES_COUNT,
	TRIB_LEADER_TCP_USER_TIMEOUT_MS, "tributary", l->dsn, NULL};
	trib_pq_error e;

	l->conn = trib_pq_connect(kw, val, 1, &e);
	if (l->conn != NULL)
		return 0;
	trib_errf(errbuf, errlen, "cannot connect to the source database: %s", e.message);
	return e.final ? -2 : -1;
}

/* Wait until a result can be read without blocking: false when the
 * deadline passed (*late) or the connection failed. */
static bool
wait_result(PGconn *conn, int64_t deadline, bool *late)
{
	while (PQisBusy(conn))
	{
		struct pollfd p = {.fd = PQsocket(conn), .events = POLLIN};
		int64_t		left = deadline - trib_clock_mono_ms();
		int			rc;

		if (left <= 0)
			return !(*late = true);
		rc = poll(&p, 1, (int) left);
		if ((rc < 0 && errno != EINTR) || (rc > 0 && !PQconsumeInput(conn)))
			return false;
	}
	return true;
}

/* Run sql, whose $1 is the pipeline's name, on the lock's session, waiting
 * at most l->query_timeout_ms: its (first) result, or NULL (*late when the
 * server did not answer in time). */
static PGresult *
lock_query(const pg_lock *l, const char *sql, bool *late)
{
	const char *params[1] = {l->pipeline};
	int64_t		deadline = trib_clock_mono_ms() + l->query_timeout_ms;
	PGresult   *res = NULL,
			   *r;

	*late = false;
	if (!PQsendQueryParams(l->conn, sql, 1, NULL, params, NULL, NULL, 0))
		return NULL;
	while (wait_result(l->conn, deadline, late) && (r = PQgetResult(l->conn)) != NULL)
	{
		if (res == NULL)
			res = r;
		else
			PQclear(r);
	}
	if (*late)
	{
		PQclear(res);
		return NULL;
	}
	return res;
}

/* Why a query on the lock's session failed, in buf. */
static const char *
query_error(const pg_lock *l, bool late, char *buf, size_t len)
{
	if (late)
	{
		snprintf(buf, len, "the lock server did not answer within %d ms",
				 l->query_timeout_ms);
		return buf;
	}
	return trib_pq_error_text(l->conn, buf, len);
}

/* leader.h try_lock: pg_try_advisory_lock. */
static int
pg_try_lock(void *impl, char *errbuf, size_t errlen)
{
	pg_lock    *l = impl;
	PGresult   *res;
	char		eb[512];
	bool		late;
	int			rc;

	if (l->conn && PQstatus(l->conn) != CONNECTION_OK)
		drop_conn(l);
	if (!l->conn && (rc = connect_lock(l, errbuf, errlen)) < 0)
		return rc;
	res = lock_query(l, "SELECT pg_catalog.pg_try_advisory_lock(" LOCK_KEY_SQL ")", &late);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		trib_errf(errbuf, errlen, "leader: pg_try_advisory_lock failed: %s",
				  query_error(l, late, eb, sizeof(eb)));
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
	bool		ok,
				late;

	if (!l->conn)
		return trib_errf(errbuf, errlen, "leader: not holding the lock");
	res = lock_query(l, "SELECT count(*) FROM pg_catalog.pg_locks "
					 "WHERE locktype = 'advisory' AND pid = pg_catalog.pg_backend_pid() AND granted "
					 "AND ((classid::bigint << 32) | objid::bigint) = " LOCK_KEY_SQL, &late);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		strcmp(PQgetvalue(res, 0, 0), "0") != 0;
	if (!ok)
	{
		trib_errf(errbuf, errlen, "leader: lock lost: %s",
				  PQresultStatus(res) == PGRES_TUPLES_OK ? "not held any more" :
				  query_error(l, late, eb, sizeof(eb)));
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
	l->query_timeout_ms = TRIB_LEADER_QUERY_TIMEOUT_MS;
	return ld;
}

/* See leader_pg.h. */
void
trib_leader_pg_set_query_timeout(trib_leader *ld, int ms)
{
	((pg_lock *) trib_leader_impl(ld))->query_timeout_ms = ms;
}

/* See leader_pg.h. */
bool
trib_leader_pg_conn_option(trib_leader *ld, const char *keyword, char *out, size_t outlen)
{
	pg_lock    *l = trib_leader_impl(ld);
	PQconninfoOption *opts = l->conn ? PQconninfo(l->conn) : NULL;
	bool		found = false;

	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, keyword) == 0 && o->val != NULL)
		{
			snprintf(out, outlen, "%s", o->val);
			found = true;
		}
	PQconninfoFree(opts);
	return found;
}
