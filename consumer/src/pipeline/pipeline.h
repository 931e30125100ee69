/*
 * pipeline.h: one running pipeline: a source, its sinks, positions and
 * checkpoints.  See pipeline.c for the design.
 */
#ifndef TRIB_PIPELINE_H
#define TRIB_PIPELINE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

typedef struct trib_pipeline trib_pipeline;

/* Set up everything the config describes; connects nothing yet. */
trib_pipeline *trib_pipeline_new(const trib_config *cfg, char *errbuf,
								 size_t errlen);

/*
 * Run until *stop becomes non-zero (SIGTERM/SIGINT) or a fatal error.
 * On stop: drain, make everything durable, checkpoint, confirm, return
 * true.  On a fatal error: return false with errbuf filled; nothing that
 * is not durable has been confirmed, so a restart loses nothing.
 */
bool		trib_pipeline_run(trib_pipeline *p, volatile sig_atomic_t *stop,
							  char *errbuf, size_t errlen);

/* `tributary snapshot`: copy the tables, then stop (before run). */
void		trib_pipeline_set_snapshot_only(trib_pipeline *p);

/* Did the snapshot phase finish (or have nothing to do)? */
bool		trib_pipeline_snapshot_complete(const trib_pipeline *p);

/* Current state as a JSON object (for /status); caller frees. */
char	   *trib_pipeline_status_json(trib_pipeline *p);

void		trib_pipeline_free(trib_pipeline *p);

/*
 * After trib_pipeline_run() failed: was it a lost connection to the source
 * database (the pipeline lock's session, the catalog checkpoint store), as
 * in a PostgreSQL restart?  Such a pipeline is freed and built again after
 * a backoff (main.c), exactly as if the process had been restarted.
 */
bool		trib_pipeline_retriable(const trib_pipeline *p);

/*
 * After trib_pipeline_run() failed: did the source database refuse the
 * configured role, password or database (pgconn.h)?  Retrying cannot help;
 * main.c exits 2, as for a bad configuration.
 */
bool		trib_pipeline_refused(const trib_pipeline *p);

#endif							/* TRIB_PIPELINE_H */
