/*
 * leader_pg.h: the pipeline lock as a PostgreSQL session advisory lock
 * (one kind of core/leader.h).
 *
 * Design.  The active consumer holds, on its own connection,
 * pg_try_advisory_lock(hashtextextended('tributary.pipeline:' || name, 0))
 * in the PostgreSQL source's database, or in the database a non-PostgreSQL
 * source names in `lock_dsn`.  When the consumer dies its connection
 * drops and PostgreSQL releases the lock.  A PostgreSQL source's
 * replication slot is active on one walsender only, which also holds back
 * a standby that took the lock until the old consumer's walsender is gone
 * (source_pg.c retries "replication slot ... is active for PID").
 */
#ifndef TRIB_LEADER_PG_H
#define TRIB_LEADER_PG_H

#include "leader.h"

/* connect_timeout of the lock's connection unless the dsn sets one. */
#define TRIB_LEADER_CONNECT_TIMEOUT_S "10"

/* TCP keepalives and tcp_user_timeout of the lock's connection unless the
 * dsn sets them: an idle connection to a dead peer ends after about
 * 5 + 3 * 2 = 11 s, one with unacknowledged data after 10 s. */
#define TRIB_LEADER_KEEPALIVES_IDLE_S "5"
#define TRIB_LEADER_KEEPALIVES_INTERVAL_S "2"
#define TRIB_LEADER_KEEPALIVES_COUNT "3"
#define TRIB_LEADER_TCP_USER_TIMEOUT_MS "10000"

/* How long a lock query (take, check) waits for the server's answer before
 * the lock counts as lost (the check) or not taken (try_lock), and the
 * connection is dropped. */
#define TRIB_LEADER_QUERY_TIMEOUT_MS 10000

/* A leader handle for pipeline whose lock lives in the database dsn names
 * (nothing is connected yet). */
trib_leader *trib_leader_pg_new(const char *dsn, const char *pipeline);

/* Tests: the deadline of each lock query instead of
 * TRIB_LEADER_QUERY_TIMEOUT_MS. */
void		trib_leader_pg_set_query_timeout(trib_leader *ld, int ms);

/* The value of the libpq connection option keyword on the lock's live
 * connection, in out; false when not connected or not set. */
bool		trib_leader_pg_conn_option(trib_leader *ld, const char *keyword,
									   char *out, size_t outlen);

#endif							/* TRIB_LEADER_PG_H */
