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

/* A leader handle for pipeline whose lock lives in the database dsn names
 * (nothing is connected yet). */
trib_leader *trib_leader_pg_new(const char *dsn, const char *pipeline);

#endif							/* TRIB_LEADER_PG_H */
