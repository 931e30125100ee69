/*
 * snapshot_run.h: the PostgreSQL source's snapshot phase (snapshot_run.c),
 * behind the source interface's snapshot operation (pg_source_ops.c).
 *
 * Design.  The phase decides from the checkpoint whether to copy, creates
 * the slot when it is new (so that the copy and the stream meet exactly),
 * runs the snapshot engine (snapshot.h) and hands its op 'r' events to the
 * pipeline through `host` (source.h), saving its progress in the
 * checkpoint.  docs/SNAPSHOT.md gives the guarantees.
 */
#ifndef TRIB_SNAPSHOT_RUN_H
#define TRIB_SNAPSHOT_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "pg_source_conf.h"
#include "source.h"
#include "source_pg.h"

/*
 * Run after the sinks and the checkpoint store are open and before
 * streaming starts.  only: copy and stop whatever the config says
 * (`tributary snapshot`).  Returns 1 when the snapshot is complete or not
 * needed, 0 when *stop interrupted it (progress saved), -1 on error.
 */
int			trib_snapshot_run(trib_source_pg *src, const char *source_name,
								   const trib_pg_source_conf *pg,
								   const trib_source_host *host, bool only,
								   volatile sig_atomic_t *stop,
								   char *errbuf, size_t errlen);

#endif							/* TRIB_SNAPSHOT_RUN_H */
