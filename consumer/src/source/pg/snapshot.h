/*
 * snapshot.h: the snapshot engine: a consistent, parallel, chunked read of
 * the captured tables of a PostgreSQL database, as op `r` events.
 *
 * Design.  A coordinator connection opens a REPEATABLE READ transaction
 * and either imports a snapshot name (the one CREATE_REPLICATION_SLOT
 * exported, so the copy ends exactly where the slot's stream begins) or
 * exports its own (pg_export_snapshot(), for `snapshot: only` and for a
 * resumed snapshot).  It lists the tables (snapshot_tables.c) under that
 * snapshot.  N worker threads, each with its own connection in a
 * REPEATABLE READ READ ONLY transaction with SET TRANSACTION SNAPSHOT,
 * take tables one at a time (largest first) and read each in chunks by
 * its key:
 *
 *     SELECT <columns> FROM ONLY t WHERE (k1, k2) > ($1, $2)
 *      ORDER BY k1, k2 LIMIT chunk_rows
 *
 * with the previous chunk's last key bound as parameters (identifiers are
 * quoted with PQescapeIdentifier).  The key is the primary key, else the
 * replica identity index; a table with neither is read in one pass
 * through a cursor (and restarted from its beginning when resumed).
 *
 * Workers turn rows into complete events (row images formatted exactly as
 * the output plugin formats them, snapshot_format.c; the event key from
 * the identity/primary key columns; ev->rel a trib_relation shaped like
 * pgrecord.c's) and put each chunk on a queue bounded in bytes; a worker
 * waits while the queue holds more than buffer_bytes.  So memory stays
 * below about buffer_bytes + workers x one chunk.  The single pipeline
 * thread takes chunks with trib_snapshot_next(), gives the events their
 * positions and writes them to the sinks (snapshot_run.c).
 *
 * Threading: trib_snapshot_next() and everything before start() are for
 * one thread (the pipeline's); workers share only the queue and the table
 * cursor, under one mutex.
 *
 * Errors: the first failure of any worker ends the snapshot; next()
 * returns -1 with it.  Messages never contain the dsn.
 */
#ifndef TRIB_SNAPSHOT_H
#define TRIB_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "snapshot_feed.h"
#include "snapshot_format.h"
#include "snapshot_tables.h"	/* trib_snapshot_conf, trib_snaptab_table */

typedef struct trib_snapshot trib_snapshot;

/*
 * A chunk (trib_snapfeed_rows, snapshot_feed.h) of rows of one table, in
 * key order, freed with trib_snapfeed_rows_free().  Its events own their
 * row image and key, but borrow source, connector, db, schema and table
 * from the engine (one copy per engine, not per row), as trib_event_free()
 * expects.
 */

/* Validate and copy conf; connects nothing. */
trib_snapshot *trib_snapshot_new(const trib_snapshot_conf *conf,
								 char *errbuf, size_t errlen);

/*
 * Connect the coordinator, take or import the snapshot, list the tables
 * and their columns and types.  After this the tables can be read and
 * marked (skip, after) before start().
 */
bool		trib_snapshot_prepare(trib_snapshot *s, char *errbuf, size_t errlen);

/* pg_current_wal_lsn() under the coordinator's snapshot (after prepare). */
uint64_t	trib_snapshot_wal_lsn(const trib_snapshot *s);

/* confirmed_flush_lsn of a slot (0 when it does not exist). */
bool		trib_snapshot_slot_lsn(trib_snapshot *s, const char *slot,
								   uint64_t *out, char *errbuf, size_t errlen);

int			trib_snapshot_ntables(const trib_snapshot *s);
trib_snaptab_table *trib_snapshot_table(trib_snapshot *s, int i);

/* Start the workers. */
bool		trib_snapshot_start(trib_snapshot *s, char *errbuf, size_t errlen);

/*
 * Take the next chunk: 1 and *out (the caller's),
 * 0 on timeout, 2 when every table is read and the queue is empty, -1 on
 * error (errbuf).
 */
int			trib_snapshot_next(trib_snapshot *s, int timeout_ms,
							   trib_snapfeed_rows **out, char *errbuf, size_t errlen);

/* Stop the workers (cancel), join them, drop queued chunks. */
void		trib_snapshot_stop(trib_snapshot *s);

/* Stop, disconnect and free everything; NULL is allowed. */
void		trib_snapshot_free(trib_snapshot *s);

#endif							/* TRIB_SNAPSHOT_H */
