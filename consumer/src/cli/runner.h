/*
 * runner.h: one run of a pipeline, phase by phase: open, the source's
 * snapshot, stream.
 *
 * Design.  The pipeline (pipeline.h) knows sinks, positions and
 * checkpoints but not snapshots; the source (source.h) knows how to copy
 * its tables but not the sinks.  The runner, above both, calls the phases
 * in order, so neither calls the other's side (no include cycle between
 * pipeline and snapshot, docs/ARCHITECTURE.md).
 */
#ifndef TRIB_RUNNER_H
#define TRIB_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "pipeline.h"

/*
 * Run p until *stop or a fatal error (errbuf filled, false).  only:
 * `tributary snapshot`: copy, then stop.  *snapshot_complete tells whether
 * the snapshot phase finished (or had nothing to do), which `tributary
 * snapshot` reports.
 */
bool		trib_runner_run(trib_pipeline *p, bool only, bool *snapshot_complete,
							volatile sig_atomic_t *stop, char *errbuf, size_t errlen);

#endif							/* TRIB_RUNNER_H */
