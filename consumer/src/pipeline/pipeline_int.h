/*
 * pipeline_int.h: what the snapshot phase (snapshot_run.c) uses of a
 * running pipeline: its config, source, checkpoint store and sinks, and
 * the positions the sinks acknowledged.  Not for other callers.
 *
 * Ownership: everything returned belongs to the pipeline.
 */
#ifndef TRIB_PIPELINE_INT_H
#define TRIB_PIPELINE_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "checkpoint.h"
#include "config.h"
#include "event.h"
#include "pipeline.h"
#include "source_pg.h"

const trib_config *trib_pipeline_config(const trib_pipeline *p);
const trib_source_conf *trib_pipeline_source_conf(const trib_pipeline *p);
trib_source_pg *trib_pipeline_source(trib_pipeline *p);
trib_checkpoint *trib_pipeline_checkpoint(trib_pipeline *p);

/* Write one event to every sink that does not have it yet (caller frees). */
bool		trib_pipeline_deliver(trib_pipeline *p, trib_event *ev,
								  char *errbuf, size_t errlen);

/* The end of a batch of events for the transform rules (uniqueness
 * checks start again). */
void		trib_pipeline_batch_end(trib_pipeline *p);

/* Ask every sink to make what it holds durable, then serve callbacks. */
bool		trib_pipeline_flush(trib_pipeline *p, int timeout_ms,
								char *errbuf, size_t errlen);
bool		trib_pipeline_poll(trib_pipeline *p, int timeout_ms, char *errbuf,
							   size_t errlen);

/* The minimum over the sinks of their durable position. */
bool		trib_pipeline_durable(trib_pipeline *p, trib_position *out);

/* The highest position any sink stores or the checkpoint holds. */
bool		trib_pipeline_stored_max(trib_pipeline *p, trib_position *out);

/* The snapshot phase saved this checkpoint. */
void		trib_pipeline_note_saved(trib_pipeline *p, const trib_position *pos);

void		trib_pipeline_set_state(trib_pipeline *p, const char *state);

/* Do we still hold the pipeline lock? */
bool		trib_pipeline_leader_ok(trib_pipeline *p, char *errbuf, size_t errlen);

/*
 * The snapshot phase (snapshot_run.c), run after the sinks and the
 * checkpoint store are open and before streaming starts.  only: copy and
 * stop whatever the config says (`tributary snapshot`).  Returns 1 when
 * the snapshot is complete or not needed, 0 when *stop interrupted it
 * (progress saved), -1 on error.
 */
int			trib_snapshot_phase(trib_pipeline *p, bool only,
								volatile sig_atomic_t *stop,
								char *errbuf, size_t errlen);

#endif							/* TRIB_PIPELINE_INT_H */
