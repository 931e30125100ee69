/*
 * http.h: the monitoring endpoint (libmicrohttpd): health, readiness,
 * Prometheus metrics and a JSON status document.
 *
 * Design.  One libmicrohttpd daemon with its own polling thread serves
 * read-only GET/HEAD requests; nothing it does can block or change the
 * pipeline.  It listens on one address only: 127.0.0.1 unless the config
 * names another host (0.0.0.0 or :: only when written out), and port 0
 * picks a free port (trib_http_port() tells which).
 *
 * Endpoints (every body ends with a newline; Cache-Control: no-store):
 *
 *   /health, /health/live   liveness.  200 "ok" unless the `live` callback
 *                           says otherwise (503 "not live: <reason>").
 *                           Without a callback the answer itself proves
 *                           the process is up.  Meant for restart probes.
 *   /health/ready,          readiness.  200 "ready" when the `ready`
 *   /health?ready           callback says so, else 503 "not ready:
 *                           <reason>".  Without a callback: never ready.
 *                           The pipeline reports ready when it streams as
 *                           the leader with every sink open; a standby is
 *                           live but not ready, so a load balancer or
 *                           Kubernetes sends traffic (and alerts) to the
 *                           leader only.
 *   /metrics                the registry in Prometheus text format 0.0.4
 *                           (TRIB_METRICS_CONTENT_TYPE); 404 without one.
 *   /status                 application/json from the `status` callback
 *                           (pipeline, state, role, sources with positions,
 *                           sinks with acked positions, lag); 503 with
 *                           {"error":...} when it returns NULL.  The
 *                           pipeline writes positions as event ids:
 *                           "L:S", or "L" alone for the whole transaction
 *                           committed at L.
 *   /                       a plain-text list of the endpoints.
 *
 * Anything else is 404; methods other than GET and HEAD get 405 with
 * "Allow: GET, HEAD".  Query strings are ignored except `ready`.  Route
 * hooks (`routes` below: the schema registry API, the control API) see
 * every request first, in order, and answer the paths they own, with any
 * method and a body; the first that claims a request keeps it.
 *
 * Connections.  Up to max_connections are open at once; one that sends
 * nothing for timeout_s (a request half sent, or an idle keep-alive) is
 * closed, and every answer says so ("Keep-Alive: timeout=" one second
 * less, lib/mhd_reply.h: for the route hooks' answers too).  TRIB_HTTP_RESERVED of the slots are kept free: a new connection
 * that would take one of them closes the connection that has waited
 * longest without a request in service.  So idle or half-open connections,
 * however many, cannot keep a health probe out: it is accepted at once
 * and answered as soon as its request arrives.
 *
 * TLS.  With a certificate and key (PEM files) the server speaks HTTPS
 * only, through libmicrohttpd's GnuTLS support; the files are read once
 * at start, and the key's copy is wiped when the server stops.
 *
 * Threading.  The callbacks run on the HTTP thread, concurrently with the
 * pipeline: they must only read state that is safe to read from another
 * thread (atomics, or a snapshot under a mutex).  The metrics registry is
 * thread-safe by itself.  trib_http_stop() returns after the thread has
 * finished every request in progress; no callback runs after it returns.
 */
#ifndef TRIB_HTTP_H
#define TRIB_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "metrics.h"

#define TRIB_HTTP_DEFAULT_HOST "127.0.0.1"
#define TRIB_HTTP_MAX_CONNECTIONS 64	/* open at once */
#define TRIB_HTTP_RESERVED 8		/* kept free for new requests, see below */
/*
 * A connection with nothing to say (an idle keep-alive, a request half
 * sent) is closed after this long; every answer announces one second less
 * ("Keep-Alive: timeout=4", lib/mhd_reply.h) so that clients drop an idle
 * connection before the server does.  It was 3 s, a second defence against
 * slow clients; but the reserved slots (below) already evict the longest
 * waiting connection whenever the server runs short, however young, so the
 * timeout bounds only what an idle socket costs while there is room, and a
 * client trickling a byte at a time resets it anyway.  5 s is what Apache
 * and Node's http server use, and leaves clients a reuse window after the
 * announced timeout's margins (Node's agent: 3 s, undici: 2 s); with 3 s
 * they would reuse a connection for 1 s (Node) or never (undici).
 */
#define TRIB_HTTP_IDLE_TIMEOUT_S 5

/* A check: true when healthy; otherwise may write a one-line reason. */
typedef bool (*trib_http_check_fn) (void *arg, char *reason, size_t len);

/* The status document: malloc'd JSON text the server frees, or NULL. */
typedef char *(*trib_http_status_fn) (void *arg);

/*
 * Another API on the same server (the schema registry, registry_api.h;
 * the control API, control.h): called first for every request, with
 * libmicrohttpd's access handler arguments; returns an enum MHD_Result, or
 * TRIB_HTTP_NOT_MINE (having set nothing) to leave the request to the
 * next route and then the endpoints above.  Once it has claimed a request
 * every later call of that request reaches it alone.  It may keep state
 * in *con_cls; `done` frees it when the request ends.  Any method may
 * reach it.
 */
#define TRIB_HTTP_NOT_MINE (-1)
struct MHD_Connection;
typedef int (*trib_http_route_fn) (void *arg, struct MHD_Connection *conn, const char *url,
								   const char *method, const char *upload_data,
								   size_t *upload_data_size, void **con_cls);
typedef void (*trib_http_route_done_fn) (void *arg, void *request);

#define TRIB_HTTP_MAX_ROUTES 4

typedef struct trib_http_route
{
	trib_http_route_fn handle;
	trib_http_route_done_fn done;	/* NULL: nothing to free */
	void	   *arg;			/* passed to handle and done */
} trib_http_route;

typedef struct trib_http_opts
{
	const char *host;			/* NULL: TRIB_HTTP_DEFAULT_HOST; a numeric
								 * address or a name (first address used) */
	int			port;			/* 0: any free port */
	trib_metrics *metrics;		/* NULL: /metrics is 404 */
	trib_http_check_fn live;	/* NULL: always live */
	trib_http_check_fn ready;	/* NULL: never ready */
	trib_http_status_fn status; /* NULL: /status is 503 */
	void	   *arg;			/* passed to the callbacks */
	trib_http_route routes[TRIB_HTTP_MAX_ROUTES];	/* tried in order */
	unsigned	nroutes;
	const char *tls_cert_file;	/* both set: HTTPS (PEM files), read at start */
	const char *tls_key_file;
	unsigned	max_connections;	/* 0: TRIB_HTTP_MAX_CONNECTIONS */
	unsigned	timeout_s;		/* idle timeout; 0: TRIB_HTTP_IDLE_TIMEOUT_S */
} trib_http_opts;

typedef struct trib_http trib_http;

/* Zero everything: loopback, port 0, no callbacks. */
void		trib_http_opts_init(trib_http_opts *opts);

/* Append a route hook; false when TRIB_HTTP_MAX_ROUTES are set. */
bool		trib_http_opts_add_route(trib_http_opts *opts, trib_http_route_fn handle,
									 trib_http_route_done_fn done, void *arg);

/*
 * Bind, listen and start serving.  Returns NULL with errbuf filled when
 * the host does not resolve, the address is in use, a TLS file cannot be
 * read or is refused, or the daemon does not start.  The options are copied (the metrics registry and `arg` are not
 * owned and must outlive the server).
 */
trib_http  *trib_http_start(const trib_http_opts *opts, char *errbuf, size_t errlen);

/* The port actually listened on. */
int			trib_http_port(const trib_http *h);

/* The address listened on, numeric ("127.0.0.1", "::1"). */
const char *trib_http_address(const trib_http *h);

/* Stop serving, wait for the thread, close the socket, free; NULL ok. */
void		trib_http_stop(trib_http *h);

/* Wait (at most max_ms) until no connection is open, so that answers
 * already queued (a reload's) reach their clients before
 * trib_http_stop() closes what is left.  NULL is allowed. */
void		trib_http_settle(trib_http *h, int max_ms);

#endif							/* TRIB_HTTP_H */
