/*
 * mysql_snapshot.h: the MySQL/MariaDB snapshot engine: a consistent,
 * parallel, chunked read of the captured tables as op 'r' events, and the
 * binlog position the copy is consistent with.
 *
 * Design.  N worker connections each open a REPEATABLE READ transaction
 * WITH CONSISTENT SNAPSHOT; they must all see the same data, and the
 * position must be exactly where that data ends in the binlog:
 *
 *   MariaDB (no lock)  each worker reads its snapshot's binlog position
 *                      (SHOW STATUS LIKE 'binlog_snapshot_%', which the
 *                      server keeps consistent with the transaction's
 *                      view).  When all are equal the workers see the same
 *                      committed transactions; otherwise they roll back and
 *                      try again (a few times), and then fall back to:
 *   a brief lock       FLUSH TABLES WITH READ LOCK on a coordinator
 *                      connection, every worker's START TRANSACTION WITH
 *                      CONSISTENT SNAPSHOT, SHOW MASTER STATUS, UNLOCK
 *                      TABLES (MySQL, which has no binlog_snapshot status,
 *                      and `snapshot_locking: flush`).  Needs RELOAD.
 *
 * The GTID state matching the position is BINLOG_GTID_POS(file, pos) on
 * MariaDB, @@global.gtid_executed under the lock on MySQL.
 *
 * Tables (information_schema.TABLES' base tables outside the system
 * schemas, or the listed ones) are described by information_schema
 * (mysql_infoschema.h) and read one at a time by the workers, largest
 * first, in chunks by primary key:
 *
 *   SELECT <exprs> FROM `db`.`t` WHERE k1 > ? OR (k1 = ? AND k2 > ?)
 *    ORDER BY k1, k2 LIMIT chunk_rows
 *
 * with the previous chunk's last key bound (UNHEX(?) for binary key
 * columns).  A table without a primary key, or whose key has a column
 * kind that does not compare as text (FLOAT, BIT, JSON, GEOMETRY), is
 * read in one pass and, resumed, from its beginning.  Row values are
 * written as the binlog decoder writes them (mysql_snapshot_row.h).
 *
 * A table altered after the consistent point and before its first read
 * cannot be read under that snapshot (ER_TABLE_DEF_CHANGED, or a column
 * gone).  No row of it was queued then, so its worker copies it under a
 * new consistent snapshot of its own, on a new connection, describing it
 * anew; at most a few times, then the copy fails (docs/MYSQL.md, "DDL
 * during the copy", gives the consistency: its rows are as of that later
 * position, and the stream from the first replays the changes between).
 *
 * Chunks go on a queue bounded by buffer_bytes; the pipeline thread takes
 * them with next() (mysql_snapshot_run.c gives them positions).
 *
 * Threading: next() and everything before start() are the pipeline
 * thread's; workers share the queue and the table cursor under a mutex.
 * Errors: the first failure of any worker ends the copy; next() returns
 * -1 with it.  Messages name the table and never the password.
 */
#ifndef TRIB_MYSQL_SNAPSHOT_H
#define TRIB_MYSQL_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "snapshot_feed.h"
#include "mysql_conn.h"
#include "mysql_position.h"
#include "mysql_schema.h"
#include "mysql_snapshot_row.h"

typedef struct trib_my_snap trib_my_snap;

typedef struct trib_my_snap_conf
{
	trib_my_conn_conf conn;
	const char *source_name;	/* trib_event.source */
	const char *const *tables;	/* "db.table" to copy, NULL-terminated; NULL:
								 * every base table outside the system
								 * schemas */
	int			workers;
	int			chunk_rows;
	size_t		buffer_bytes;
	bool		flush_lock;		/* always FLUSH TABLES WITH READ LOCK */
	const char *zero_date;		/* NULL: zero dates are null */
	int64_t		ts_ms;			/* the events' ts_ms */
} trib_my_snap_conf;

/* One table to copy. */
typedef struct trib_my_snap_table
{
	char	   *db;
	char	   *table;
	trib_my_tableinfo *info;	/* owned */
	trib_my_snaprow_kind *kinds;	/* per column */
	int		   *bits;			/* BIT(n)'s n, per column */
	int			npk;			/* key columns used for chunks, 0: one pass */
	int		   *pk;				/* their column indexes, in key order */
	int			nkey;			/* primary key columns (the event key) */
	int		   *key;
	trib_relation rel;			/* trib_event.rel */
	double		estimate;		/* TABLE_ROWS */
	trib_my_tableinfo *at_start;	/* copied under a new snapshot: its
									 * description at the consistent point
									 * (owned), else NULL */
	/* set before start(): */
	bool		skip;			/* already copied */
	int			nafter;			/* resume after this key (texts) */
	char	  **after;
} trib_my_snap_table;

/* The engine's chunks are trib_snapfeed_rows (snapshot_feed.h): one
 * table's rows, in key order; their events are complete but for their
 * position, and borrow db, table, rel and source from the engine. */

trib_my_snap *trib_my_snap_new(const trib_my_snap_conf *conf, char *errbuf, size_t errlen);

/* Connect the workers, take the consistent snapshot and its position,
 * list and describe the tables. */
bool		trib_my_snap_prepare(trib_my_snap *s, char *errbuf, size_t errlen);

/* The binlog position the copy is consistent with (after prepare): the
 * file, the offset, the matching GTID state ("" when unknown), and
 * whether a global read lock was taken to get it. */
const char *trib_my_snap_file(const trib_my_snap *s);
uint64_t	trib_my_snap_pos(const trib_my_snap *s);
const char *trib_my_snap_gtid(const trib_my_snap *s);
bool		trib_my_snap_locked(const trib_my_snap *s);

int			trib_my_snap_ntables(const trib_my_snap *s);
trib_my_snap_table *trib_my_snap_table_at(trib_my_snap *s, int i);

bool		trib_my_snap_start(trib_my_snap *s, char *errbuf, size_t errlen);

/* 1 and *out (the caller's: trib_snapfeed_rows_free), 0 on timeout, 2
 * when every table is read, -1 on error. */
int			trib_my_snap_next(trib_my_snap *s, int timeout_ms, trib_snapfeed_rows **out,
							  char *errbuf, size_t errlen);

/* Stop and join the workers, drop queued chunks. */
void		trib_my_snap_stop(trib_my_snap *s);

/* Stop, disconnect, free; NULL is allowed. */
void		trib_my_snap_free(trib_my_snap *s);

#endif							/* TRIB_MYSQL_SNAPSHOT_H */
