/*
 * control.h: the control API, `/api/v1/...` on the daemon's HTTP endpoint
 * (docs/API.md, docs/openapi.yaml): what a running pipeline is and does,
 * for scripts, dashboards and `tributary ctl`.
 *
 * What it serves today (read endpoints, JSON):
 *   GET /api/v1/pipeline   sources, sinks, rules, positions and state:
 *                          the /status document with the config's names
 *                          and types around it; never row data.
 *   GET /api/v1/rules      the compiled rules in words: name, type,
 *                          selection, fields, and whether a rule uses a
 *                          secret (never the secret, nor a key).
 *   POST /api/v1/sources/{name}/pause|resume, .../sinks/{name}/...
 *                          pause and resume (control_pause.c), through
 *                          the pipeline's hook (trib_control_set_pause).
 *   GET /api/v1/lineage/{asset}/upstream|downstream|impact,
 *   GET /api/v1/lineage/flow
 *                          the lineage catalog's SQL API
 *                          (control_lineage.c).
 *   POST /api/v1/quality/check
 *                          a row in, the quality rules' verdicts out
 *                          (control_quality.c), through the pipeline's
 *                          hook (trib_control_set_quality).
 *   POST /api/v1/reload    re-read the pipeline file (control_reload.c,
 *                          pipeline/reload.h): the outcome, the file's
 *                          fingerprint, the changes or the error.
 * Every other path under /api/v1/ is 404 JSON; other methods 405 JSON with
 * Allow.
 *
 * How it plugs in.  pipeline/http.c offers every request to its route
 * hooks; trib_control_handle() claims the paths under /api/v1/ and
 * answers them; trib_control_request_done() frees what a request kept.
 * A new endpoint is one row in control.c's table and one function.
 *
 * Security.  The token is `http.token` (`http.token_file`), kept as a
 * digest (bearer.h).  Reads are open while the server listens on a
 * loopback address and `http.open_reads` is on, to requests whose Host
 * names loopback (no DNS rebinding, bearer.h); otherwise they need
 * `Authorization: Bearer <token>`, and without a token configured they
 * are refused.  Write endpoints (reload, pause, resume) always need the token.
 * Request bodies beyond `http.max_body_bytes` are answered 413 and never
 * kept; endpoints that take no body answer 400 to one (quality/check
 * alone takes one).
 *
 * Threads: the callbacks run on the HTTP thread; `status` must be safe to
 * call from it (see http.h).
 *
 * Includes: lib and config only (and libmicrohttpd, yajl, libpq for the
 * lineage reads); the pipeline reaches in through hooks (pause, quality).
 */
#ifndef TRIB_CONTROL_H
#define TRIB_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "config_diff.h"

/* trib_control_handle(): not a control API path (same as http.h's). */
#define TRIB_CONTROL_NOT_MINE (-1)

struct MHD_Connection;
typedef struct trib_control trib_control;

/* The /status document (malloc'd JSON, or NULL): http.h's status fn. */
typedef char *(*trib_control_status_fn) (void *arg);

/*
 * The API over `cfg` (borrowed: must outlive it); `status` gives the
 * pipeline's live positions.  Reads need the token until
 * trib_control_listening_on() says the address is loopback.
 */
trib_control *trib_control_new(const trib_config *cfg, trib_control_status_fn status,
							   void *status_arg);

/*
 * Pause (paused true) or resume source (sink false) or sink `name`: an HTTP
 * status, 200 with *was (whether it was paused before), else 404 or 503
 * with msg (pipeline/pause.h's trib_pause_request).  Runs on the HTTP
 * thread.
 */
typedef unsigned (*trib_control_pause_fn) (void *arg, bool sink, const char *name,
										   bool paused, bool *was, char *msg, size_t msglen);

/* The pause and resume endpoints call fn(arg, ...); without it they
 * answer 503. */
void		trib_control_set_pause(trib_control *api, trib_control_pause_fn fn, void *arg);

/*
 * The verdicts of the configured quality rules on `row` (a JSON object's
 * text) of source `source` (NULL: the first) and table schema.table
 * (schema may be NULL): a JSON array (malloc'd), or NULL with *status and
 * msg (pipeline/quality_api.h's trib_quality_api_check).  Runs on the HTTP
 * thread.
 */
typedef char *(*trib_control_quality_fn) (void *arg, const char *source, const char *schema,
										  const char *table, const char *row,
										  unsigned *status, char *msg, size_t msglen);

/* POST /api/v1/quality/check calls fn(arg, ...); without it, 503. */
void		trib_control_set_quality(trib_control *api, trib_control_quality_fn fn, void *arg);
/* POST /api/v1/reload: make a reload request (pipeline/reload.h) into
 * *res; called on the HTTP thread. */
typedef void (*trib_control_reload_fn) (void *arg, trib_reload_result *res);

/* Serve reloads through `fn` (control_reload.c); without it the endpoint
 * answers 409 (a run that cannot reload). */
void		trib_control_on_reload(trib_control *api, trib_control_reload_fn fn, void *arg);

/* The server listens on `address` (numeric). */
void		trib_control_listening_on(trib_control *api, const char *address);

/* libmicrohttpd's access handler for /api/v1/...: an enum MHD_Result, or
 * TRIB_CONTROL_NOT_MINE.  `arg` is the trib_control. */
int			trib_control_handle(void *arg, struct MHD_Connection *conn, const char *url,
								const char *method, const char *upload_data,
								size_t *upload_data_size, void **con_cls);

/* A request ended: free its state (NULL ok). */
void		trib_control_request_done(void *arg, void *request);

/* Free; NULL ok.  Call after the HTTP server has stopped. */
void		trib_control_free(trib_control *api);

#endif							/* TRIB_CONTROL_H */
