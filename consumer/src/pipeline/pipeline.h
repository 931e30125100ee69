/*
 * pipeline.h: one running pipeline: its sources, its sinks, positions and
 * checkpoints.  See pipeline.c for the design.  The pipeline knows its
 * source only through source.h's operations and its sinks through
 * sink.h's.
 */
#ifndef TRIB_PIPELINE_H
#define TRIB_PIPELINE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "reload.h"
#include "source.h"

typedef struct trib_pipeline trib_pipeline;

/* Set up everything the config describes; connects nothing yet. */
trib_pipeline *trib_pipeline_new(const trib_config *cfg, char *errbuf,
								 size_t errlen);

/*
 * The phases of a run, in order (cli/runner.c drives them):
 *
 *   trib_pipeline_open    start /health and /metrics, take the pipeline
 *                         lock (waiting as a standby), open the checkpoint
 *                         store and the sinks, and find where to resume.
 *                         1: ready; 0: *stop came first; -1: failed.
 *   the source's snapshot (optional; source.h) through
 *                         trib_pipeline_host(); it may set the state.
 *   trib_pipeline_stream  stream until *stop (SIGTERM/SIGINT) or a fatal
 *                         error.  On stop: drain, make everything durable,
 *                         checkpoint, confirm, return true.  On a fatal
 *                         error: false with errbuf filled; nothing that is
 *                         not durable has been confirmed, so a restart
 *                         loses nothing.
 *   trib_pipeline_finish  after the last phase, with its result: on
 *                         failure, checkpoint what the sinks acknowledged
 *                         (confirming nothing more), count the error and
 *                         set the state "failed".  Returns ok.
 */
int			trib_pipeline_open(trib_pipeline *p, volatile sig_atomic_t *stop,
							   char *errbuf, size_t errlen);
bool		trib_pipeline_stream(trib_pipeline *p, volatile sig_atomic_t *stop,
								 char *errbuf, size_t errlen);
bool		trib_pipeline_finish(trib_pipeline *p, bool ok);

/* The pipeline's sources (opened by trib_pipeline_new; i below
 * trib_pipeline_nsources, in config order), and the services source i's
 * snapshot uses; all belong to the pipeline.  With several sources each
 * source's snapshot writes under merged positions and keeps its progress
 * in its own checkpoint (merge.h). */
size_t		trib_pipeline_nsources(const trib_pipeline *p);
trib_source *trib_pipeline_source(trib_pipeline *p, size_t i);
const trib_source_host *trib_pipeline_host(trib_pipeline *p, size_t i);

/*
 * Take reload requests (reload.h; borrowed, outlives p; before
 * trib_pipeline_open).  trib_pipeline_stream then also returns true, after
 * the same drain and checkpoint as for a stop, once an accepted reload
 * waits and no transaction is half handled; the caller builds the next
 * pipeline from trib_reload_take().
 */
void		trib_pipeline_set_reload(trib_pipeline *p, trib_reload *reload);

/* The state /status and /health report ("stopped", ...). */
void		trib_pipeline_set_state(trib_pipeline *p, const char *state);

/* Current state as a JSON object (for /status); caller frees. */
char	   *trib_pipeline_status_json(trib_pipeline *p);

void		trib_pipeline_free(trib_pipeline *p);

/*
 * After a phase failed: was it a lost connection to the source
 * database (the pipeline lock's session, the catalog checkpoint store), as
 * in a PostgreSQL restart?  Such a pipeline is freed and built again after
 * a backoff (main.c), exactly as if the process had been restarted.
 */
bool		trib_pipeline_retriable(const trib_pipeline *p);

/*
 * The delays of building a retriable pipeline again (main.c): the first
 * source's reconnect backoff, initial and max in ms, as its ops->open set
 * it (source.h backoff_initial_ms, backoff_max_ms); 500 ms when it set
 * none, and max never below initial.  After the pipeline lock was lost,
 * initial is LEADER_YIELD_MS at least: the standbys try first.
 */
void		trib_pipeline_restart_backoff(const trib_pipeline *p, int *initial_ms,
										  int *max_ms);

/*
 * After a phase failed: did the server of the pipeline lock (the first
 * source's, or PostgreSQL's in lock_dsn) refuse the configured login or
 * database for good (pgconn.h)?  Retrying cannot help;
 * main.c exits 2, as for a bad configuration.
 */
bool		trib_pipeline_refused(const trib_pipeline *p);

/*
 * After trib_pipeline_refused(): what to correct, in the words of the
 * server that refused (the lock's: the first source's own, as its ops'
 * login_hint, or PostgreSQL's); static text.
 */
const char *trib_pipeline_refused_hint(const trib_pipeline *p);

#endif							/* TRIB_PIPELINE_H */
