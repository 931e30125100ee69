/*
 * leader.h: one active consumer per pipeline; the others wait as standbys.
 *
 * Design.  The active consumer holds a lock named after the pipeline, in a
 * server every consumer of the pipeline reaches, on a connection of its
 * own.  When the consumer dies its connection drops, the server releases
 * the lock, and a standby, trying every second or so, takes it.  Where the
 * lock lives is a small ops table (PostgreSQL's walreceiver style), so
 * that the pipeline never branches on it:
 *
 *   pipeline/leader_pg.c       a PostgreSQL session advisory lock, in the
 *                              PostgreSQL source's database or `lock_dsn`
 *   source/mysql/mysql_leader.c  MySQL/MariaDB GET_LOCK() on the source
 *                              server (a mysql source without `lock_dsn`)
 *
 * A source offers its own lock through source.h's leader(); without one
 * the pipeline takes the PostgreSQL lock in the source's lock_dsn.
 *
 * The lock is only as good as its connection: trib_leader_check() must be
 * called regularly and before anything is committed, and a consumer that
 * has lost the lock must stop writing (another one may have taken over).
 *
 * This file holds the parts every kind shares: the held flag, the standby
 * loop, the messages, and the handle that owns the pipeline's name and the
 * kind's state.  Errors: false / -1 with errbuf filled; no connection
 * string or password is ever part of a message.
 */
#ifndef TRIB_LEADER_H
#define TRIB_LEADER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct trib_leader trib_leader;

/* What a kind of lock implements; `impl` is its own state. */
typedef struct trib_leader_ops
{
	const char *kind;			/* "PostgreSQL advisory lock", for messages */

	/* One try: 1 taken, 0 another consumer holds it, -1 an error worth
	 * retrying (the server is down, restarting, unreachable), -2 one that
	 * is not (the server refused our credentials or database). */
	int			(*try_lock) (void *impl, char *errbuf, size_t errlen);

	/* Do we still hold it?  A query on the lock's connection, which also
	 * proves the connection alive.  false: lost (the connection is
	 * dropped, so the lock is surely released). */
	bool		(*check) (void *impl, char *errbuf, size_t errlen);

	/* Optional, for `tributary check`, without taking the lock: 1 free, 0
	 * held (buf says by whom), -1 error (buf says why). */
	int			(*probe) (void *impl, char *buf, size_t len);

	/* Close the connection (releasing the lock) and free what the kind
	 * put in impl (the handle frees impl itself). */
	void		(*free) (void *impl);
} trib_leader_ops;

/*
 * A leader handle for pipeline (NULL: "tributary") with a new zeroed impl
 * of impl_size bytes, which the handle owns; the kind fills it through
 * trib_leader_impl() before first use.
 */
trib_leader *trib_leader_new(const trib_leader_ops *ops, size_t impl_size, const char *pipeline);

/* The kind's state, for its constructor to fill. */
void	   *trib_leader_impl(trib_leader *l);

/* The pipeline the lock is taken for; lives as long as the handle. */
const char *trib_leader_pipeline(const trib_leader *l);

/* The kind of lock ("MySQL GET_LOCK"). */
const char *trib_leader_kind(const trib_leader *l);

/*
 * One try: 1 we hold the lock, 0 another consumer does, -1 an error worth
 * retrying, -2 one that is not (see try_lock above).  errbuf says which.
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

/* Do we still hold it?  Asks the lock's server. */
bool		trib_leader_check(trib_leader *l, char *errbuf, size_t errlen);

/* See probe above; -1 with "not supported" when the kind has none. */
int			trib_leader_probe(trib_leader *l, char *buf, size_t len);

/* Release the lock and close its connection; NULL is allowed. */
void		trib_leader_free(trib_leader *l);

#endif							/* TRIB_LEADER_H */
