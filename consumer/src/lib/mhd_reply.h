/*
 * mhd_reply.h: the one way an answer of the HTTP server is queued, so that
 * every answer (the monitoring endpoints, pipeline/http.c; the control
 * API, control/; the schema registry API, registry_api/) tells the client
 * how long an idle kept-alive connection stays open.
 *
 * Design.  The server closes a connection that sends nothing for its idle
 * timeout (pipeline/http.h, TRIB_HTTP_IDLE_TIMEOUT_S).  A client that
 * reuses a kept-alive connection just as the server closes it gets a reset
 * ("socket hang up") for a request that never reached the server.  So each
 * answer carries "Keep-Alive: timeout=N" with N one second below the
 * connection's own timeout (read from libmicrohttpd, which sends no such
 * header itself), as common servers do: Node's http agent then drops an
 * idle socket N - 1 s after its last answer, and undici N - 2 s (their own
 * safety margins), both before the server closes it.  A timeout under 2 s
 * would announce 0, which a client must not reuse at all; then no header
 * is sent.
 */
#ifndef TRIB_MHD_REPLY_H
#define TRIB_MHD_REPLY_H

#include <microhttpd.h>

/* Add the Keep-Alive header to r, queue it on conn with status, and drop
 * the caller's reference to r (libmicrohttpd keeps its own while it
 * sends); libmicrohttpd's result. */
enum MHD_Result trib_mhd_queue(struct MHD_Connection *conn, unsigned status,
							   struct MHD_Response *r);

#endif							/* TRIB_MHD_REPLY_H */
