/*
 * reload.h: re-reading the pipeline file of a running daemon (SIGHUP,
 * POST /api/v1/reload; docs/OPERATIONS.md "Reloading the configuration").
 *
 * Design.  A request (from the HTTP thread, or from the pipeline's thread
 * after a SIGHUP) loads the file with trib_config_load(), the loader
 * `tributary check` validates with, compares it with the running config
 * (config_diff.h) and answers at once: invalid (the loader's FILE:LINE
 * lines), refused (what cannot change live, and why), unchanged, or
 * accepted.  An accepted config is kept as pending; nothing else changes
 * yet.  The pipeline (pipeline_run.c) sees the pending config between two
 * transactions, stops handling the source's items there, drains the sinks
 * and checkpoints exactly as for SIGTERM, and returns; main.c then builds
 * the pipeline again from the new config, which resumes from the sinks'
 * stored positions and the checkpoint as after any restart.  So every
 * transaction goes wholly through the old rules and sinks or wholly
 * through the new ones, and a crash at any moment of a reload is a crash
 * like any other: nothing lost, nothing repeated.  Should the new config
 * fail to build (a sink that cannot be set up), the old one is built
 * again.
 *
 * Every request is logged under the "audit" component with its outcome,
 * the new file's fingerprint and the running one's (config_diff.h).
 *
 * The HTTP server is part of the pipeline, so it stops and starts again
 * around the switch; with `http.listen` on port 0 it listens again on the
 * port it had (trib_reload_port).
 *
 * Threads: requests take a mutex; trib_reload_signal() is async-signal
 * safe.
 */
#ifndef TRIB_RELOAD_H
#define TRIB_RELOAD_H

#include <stdbool.h>

#include "config.h"
#include "config_diff.h"

typedef struct trib_reload trib_reload;

/* Reloads of the file at `path` (copied). */
trib_reload *trib_reload_new(const char *path);
void		trib_reload_free(trib_reload *r);

/* The config the pipeline runs (borrowed until the next call). */
void		trib_reload_set_current(trib_reload *r, const trib_config *cfg);

/* A SIGHUP came: the pipeline's thread makes the request at its next
 * trib_reload_due() (async-signal safe). */
void		trib_reload_signal(trib_reload *r);

/* Make a request: load, validate, compare, log; *res is the caller's to
 * free with trib_reload_result_free(). */
void		trib_reload_request(trib_reload *r, trib_reload_result *res);
void		trib_reload_result_free(trib_reload_result *res);

/* The pipeline's thread, between items: make a signalled request; true
 * when an accepted config waits to be applied. */
bool		trib_reload_due(trib_reload *r);

/* After the pipeline stopped for it: the accepted config (the caller's),
 * or NULL. */
trib_config *trib_reload_take(trib_reload *r);

/* The port to listen on: `configured`, or when it is 0 the one the
 * previous server of this daemon had (0 at first). */
int			trib_reload_port(trib_reload *r, int configured);
void		trib_reload_note_port(trib_reload *r, int port);

#endif							/* TRIB_RELOAD_H */
