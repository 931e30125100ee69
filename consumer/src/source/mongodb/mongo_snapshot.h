/*
 * mongo_snapshot.h: the MongoDB source's initial snapshot: the documents
 * of the scope's collections as of one cluster time, as op 'r' events,
 * copied in parallel by `_id` ranges and resumable after a crash; the
 * stream then starts just after that cluster time.
 *
 * Design (docs/MONGODB.md, "Initial snapshot").  Deciding: `snapshot:
 * initial` copies when the checkpoint store has no position yet (and no
 * start_at_operation_time is set) or holds an unfinished snapshot;
 * `only` (and `tributary snapshot`) copies, continuing an unfinished copy
 * and making a finished one again, then stops.
 *
 * Consistency.  The cluster time T is taken first (ping's operationTime);
 * every read is at atClusterTime T, which sees exactly the writes at or
 * before T, and the stream opens with startAtOperationTime T + 1 (the
 * next increment), which sees exactly the ones after: each change is in
 * the copy or in the stream, never both, never neither.  Snapshot events
 * are at position (T, n), n from 1 up (above what a sink already stored
 * at T after a restart), so they sort before every streamed change.
 *
 * Parallel.  Each collection is split into at most snapshot_workers
 * `_id` ranges (mongo_snapread.h); that many threads, each with its own
 * client, take ranges one at a time and read them in `_id` order, in
 * chunks of snapshot_chunk_rows documents, onto a queue bounded by
 * snapshot_buffer_mb.  The calling thread alone delivers to the pipeline
 * (trib_source_host), numbering events in queue order.
 *
 * Progress (mongo_snapprog.h) is saved in the checkpoint's opaque part
 * from acknowledged chunks only: when every sink has an event's position,
 * its chunk's last `_id` becomes its range's `after`.  A restart reads
 * each range after it at the same T, so a crash repeats at most the
 * chunks not yet saved (op 'r' events again, which replace the same
 * documents in keyed targets).
 */
#ifndef TRIB_MONGO_SNAPSHOT_H
#define TRIB_MONGO_SNAPSHOT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "intern.h"
#include "mongo_source_conf.h"
#include "source.h"

/*
 * source.h's snapshot() for a MongoDB source named `source`: TRIB_SNAPSHOT_*.
 * Collection names are interned in `names` (they outlive the events);
 * `infer` (or NULL) gives the events their collection's relation;
 * int64_paths: the events mark their int64 values (mongo_snapread.h).
 * *time: the snapshot's cluster time when one is complete (made now or
 * before), else 0: where start() opens the stream when no later position
 * is stored.
 */
struct trib_mongo_infer;
int			trib_mongo_snapshot(const trib_mongo_source_conf *c, const char *source,
								trib_intern *names, struct trib_mongo_infer *infer,
								bool int64_paths, const trib_source_host *host, bool only,
								volatile sig_atomic_t *stop, uint64_t *time, char *errbuf,
								size_t errlen);

#endif							/* TRIB_MONGO_SNAPSHOT_H */
