/*
 * leader.h: one active consumer per pipeline; the others wait as standbys.
 *
 * Design.  The active consumer holds a session-level advisory lock in the
 * source database, on its own connection:
 * pg_try_advisory_lock(hashtextextended('tributary.pipeline:' || name, 0)).
 * A standby tries every retry_ms (about a second); when the active consumer
 * dies its connection drops, PostgreSQL releases the lock, and the standby
 * gets it on its next try.  The replication slot itself can be active on one
 * walsender only; source_pg.c retries "replication slot ... is active for
 * PID" in case the old walsender has not exited yet.
 *
 * The lock is only as good as its connection: trib_leader_check() must be
 * called regularly, and a consumer that has lost the lock must stop
 * streaming (another one may have taken over).
 *
 * Errors: false / -1 with errbuf filled; the dsn is never part of a message.
 */
#ifndef TRIB_LEADER_H
#define TRIB_LEADER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct trib_leader trib_leader;

/* A leader handle for pipeline (nothing is connected yet). */
trib_leader *trib_leader_new(const char *dsn, const char *pipeline);

/* connect_timeout of the lock's connection unless the dsn sets one. */
#define TRIB_LEADER_CONNECT_TIMEOUT_S "10"

/*
 * One try: 1 we hold the lock, 0 another consumer does, -1 an error worth
 * retrying (the server is down, restarting, unreachable), -2 one that is
 * not: the server refused the dsn's role, password or database (pgconn.h).
 * errbuf says which, with libpq's message and the SQLSTATE.
 */
int			trib_leader_try(trib_leader *l, char *errbuf, size_t errlen);

/*
 * Wait until we hold the lock, trying every retry_ms; connection errors are
 * retried too, except those trib_leader_try() reports as -2.  Stops early
 * when *stop becomes true (signal handler) or timeout_ms passes
 * (timeout_ms < 0: no limit).  true when acquired.
 */
bool		trib_leader_acquire(trib_leader *l, int retry_ms, int timeout_ms,
								volatile int *stop, char *errbuf, size_t errlen);

/* Do we still hold it?  Checks the lock connection with a query. */
bool		trib_leader_check(trib_leader *l, char *errbuf, size_t errlen);

/* Release the lock and close its connection; NULL is allowed. */
void		trib_leader_free(trib_leader *l);

#endif							/* TRIB_LEADER_H */
