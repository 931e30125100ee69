/*
 * mysql_leader.h: the pipeline lock in MySQL/MariaDB itself (one kind of
 * core/leader.h), for a pipeline whose first source is a mysql source
 * without `lock_dsn`.
 *
 * Design.  The active consumer holds GET_LOCK(name, 0) on a connection of
 * its own to the source server; a standby tries again every second.  The
 * server releases a user-level lock when its connection ends (the
 * consumer died, or someone ran KILL on the connection), so losing the
 * connection is losing leadership: check() runs
 * `SELECT IS_USED_LOCK(name) = CONNECTION_ID()`, and any error or answer
 * but 1 means lost (the connection is closed then, so a lock that was
 * still ours is surely released).  Auto-reconnect stays off: a silent
 * reconnect would be a new session without the lock.
 *
 * The name: `tributary.pipeline:NAME` when that is at most 64 bytes
 * (MySQL's limit on lock names), else `tributary.pipeline#` followed by
 * the first 45 hex digits of SHA-256(NAME) (64 bytes too).
 */
#ifndef TRIB_MYSQL_LEADER_H
#define TRIB_MYSQL_LEADER_H

#include "leader.h"
#include "mysql_conn.h"

#define TRIB_MY_LOCK_NAME_MAX 64

/* The read timeout of the lock's connection: a lock query (take, check,
 * probe) on a server that stopped answering (frozen, cut off) fails after
 * this long, the lock counting as lost (check) or not taken (try), instead
 * of waiting for TCP.  The connect (TCP, then the server's greeting) and
 * writes wait at most the source's connect_timeout (default 10 s). */
#define TRIB_MY_LOCK_TIMEOUT_S 10

/* The lock's name for pipeline (see above) into out. */
void		trib_my_lock_name(const char *pipeline, char out[TRIB_MY_LOCK_NAME_MAX + 1]);

/* A leader handle whose lock lives on the server conf reaches (its strings
 * are copied; nothing is connected yet). */
trib_leader *trib_my_leader_new(const trib_my_conn_conf *conf, const char *pipeline);

/* Tests: the deadline (seconds) of the lock's connect and of each lock
 * query instead of TRIB_MY_LOCK_TIMEOUT_S. */
void		trib_my_leader_set_timeout(trib_leader *ld, int seconds);

#endif							/* TRIB_MYSQL_LEADER_H */
