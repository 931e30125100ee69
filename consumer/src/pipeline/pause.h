/*
 * pause.h: pause and resume per source and per sink (docs/API.md,
 * "Pause and resume"), asked through the control API and kept with the
 * checkpoint so that a restart stays paused.
 *
 * What a pause does (pipeline_run.c reads the flags between batches):
 *   source  it is no longer polled: nothing more is read, so its slot (or
 *           binlog position) holds where the checkpoint confirmed it; it
 *           is kept alive with status updates.  With several sources the
 *           others keep flowing; a transaction it has open is finished
 *           first (merge.h).
 *   sink    it is given nothing more: the pipeline goes on reading the
 *           sources and delivering to the other sinks, and holds what
 *           this sink would have been given in its buffer
 *           (sink_buffer.h), up to pause_buffer_mb; once a buffer is that
 *           full no source is read (backpressure) until the sink is
 *           resumed and has drained it.  On resume the sink takes its
 *           buffer in order, then goes on live.  The checkpoint and the
 *           sources' confirmed positions never pass what it acknowledged,
 *           so a restart while it is paused reads its events again (the
 *           other sinks skip what they have).  What it held already is
 *           still flushed and acknowledged.
 *
 * Where it is kept: one record of the checkpoint store (checkpoint.h)
 * beside the sources' own: in the file store the file CHECKPOINT.paused,
 * in the catalog the row of source "~paused" (no source can be named so:
 * names are [a-z0-9_-]) of tributary.source_checkpoints, with no position
 * and the state as its "position" JSON:
 * {"paused_sources":[NAMES],"paused_sinks":[NAMES]}.  A request is
 * answered only once the new state is saved; a name the config no longer
 * has is ignored at load.
 *
 * Threads: trib_pause_request runs on the HTTP thread; the flags are
 * atomics the pipeline's thread reads; the store is used under a mutex.
 * Until trib_pause_open (the pipeline took its lock and loaded its
 * state), requests are answered 503.
 */
#ifndef TRIB_PAUSE_H
#define TRIB_PAUSE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

typedef struct trib_pause trib_pause;

/* The catalog row's source name: no configured source can have it
 * (`tributary check` shows it as the pause state, not as a source). */
#define TRIB_PAUSE_KEY "~paused"

struct trib_metrics;

/* The pause state of cfg's sources and sinks (cfg borrowed); all running.
 * Registers tributary_source_paused{source} and tributary_sink_paused{sink}
 * (1 while paused) in `metrics`. */
trib_pause *trib_pause_new(const trib_config *cfg, struct trib_metrics *metrics);

/* Set those gauges (the pipeline's thread). */
void		trib_pause_update_gauges(trib_pause *ps);

/* Open the store and load the kept state (the pipeline's thread, once it
 * is the leader); false with errbuf filled. */
bool		trib_pause_open(trib_pause *ps, char *errbuf, size_t errlen);

/* Did the last trib_pause_open fail because the stored pause state does
 * not open (sealed: no key, a wrong key, altered), which no retry fixes,
 * rather than on the store itself? */
bool		trib_pause_unreadable(const trib_pause *ps);

/*
 * Pause (paused true) or resume source or sink `name` and save the state:
 * an HTTP status: 200 (*was: whether it was paused), 404 for an unknown
 * name (msg lists the accepted ones), 503 when not open yet or the state
 * could not be saved (msg says which; the store's own message is logged,
 * never put in msg).  trib_control_pause_fn's shape.
 */
unsigned	trib_pause_request(void *ps, bool sink, const char *name, bool paused, bool *was,
							   char *msg, size_t msglen);

/* Is source / sink i (config order) paused? */
bool		trib_pause_source(const trib_pause *ps, size_t i);
bool		trib_pause_sink(const trib_pause *ps, size_t i);

/* Since when (wall-clock ms) source or sink i is paused, or 0. */
long long	trib_pause_since(const trib_pause *ps, bool sink, size_t i);

/* Free; NULL ok.  After the HTTP server stopped. */
void		trib_pause_free(trib_pause *ps);

#endif							/* TRIB_PAUSE_H */
