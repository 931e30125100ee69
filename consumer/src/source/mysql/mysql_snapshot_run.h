/*
 * mysql_snapshot_run.h: the MySQL source's snapshot phase
 * (mysql_snapshot_run.c), behind the source interface's snapshot
 * operation (mysql_source_ops.c).
 *
 * Design.  As the PostgreSQL source's (docs/SNAPSHOT.md): decide from the
 * checkpoint whether to copy, run the engine (mysql_snapshot.h), hand its
 * op 'r' events to the pipeline through `host` (source.h) and keep the
 * progress in the checkpoint (core/snapshot_progress.h), so that a
 * restart continues the copy.  Where streaming must then start is the
 * snapshot's binlog position, which the phase returns as the position
 * just before it (`*stream_base`): the adapter starts the binlog there.
 */
#ifndef TRIB_MYSQL_SNAPSHOT_RUN_H
#define TRIB_MYSQL_SNAPSHOT_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mysql_schema.h"
#include "mysql_source_conf.h"
#include "source.h"

/*
 * Run after the sinks and the checkpoint store are open and before
 * streaming starts.  only: copy and stop (`tributary snapshot`).  Returns
 * 1 when the copy is complete or not needed, 0 when *stop interrupted it
 * (progress saved), -1 on error.  *stream_base: the snapshot events'
 * commit_lsn (file number << 32 | offset, minus one) when the stream must
 * start right after the snapshot's position; 0 otherwise.  *shapes (with
 * *stream_base): the tables copied under a later snapshot of their own
 * (altered during the copy) as they were at the snapshot's position, for
 * the stream's schema history (NULL-terminated, the caller frees each
 * and the array), or NULL.
 */
int			trib_my_snapshot_run(const char *source_name,
								   const trib_mysql_source_conf *conf,
								   const trib_source_host *host, bool only,
								   volatile sig_atomic_t *stop, uint64_t *stream_base,
								   trib_my_tableinfo ***shapes, char *errbuf, size_t errlen);

#endif							/* TRIB_MYSQL_SNAPSHOT_RUN_H */
