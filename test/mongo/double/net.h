/*
 * net.h: mongo_double's (a TEST DOUBLE, see ../README.md) single-threaded
 * event loop: one listening socket on 127.0.0.1, non-blocking connections
 * polled with poll(2), and "parked" requests.
 *
 * A connection handles one request at a time, as MongoDB clients expect.
 * A command that must wait (a change stream getMore with awaitData, an
 * awaitable hello, a failCommand blockConnection) parks its request on the
 * connection with a deadline; the loop re-dispatches it when the deadline
 * passes or, when asked, as soon as the oplog grows.  Nothing else of the
 * connection is read meanwhile.
 *
 * The loop calls md_dispatch() (commands.c) for each request; everything
 * else in the double runs inside that call.
 */
#ifndef MD_NET_H
#define MD_NET_H

#include "wire.h"

typedef struct md_conn {
    int fd;
    int64_t id;                 /* connectionId in hello */
    md_buf_t in;
    md_buf_t out;
    bool closing;               /* close now, without sending what is queued */
    md_request_t *parked;       /* owned; NULL when not parked */
    int64_t park_deadline_ms;   /* monotonic */
    bool park_on_oplog;         /* also wake when the oplog grows */
    char app_name[128];         /* client.application.name from the handshake */
    bool handshake_done;
} md_conn_t;

/*
 * md_dispatch: run one request (implemented in commands.c).  It owns req:
 * it frees it, or parks it with md_conn_park().  resumed is true when a
 * parked request is dispatched again.
 */
void md_dispatch(md_conn_t *c, md_request_t *req, bool resumed);

/* md_net_listen: bind host:port (0: a free port); the bound port in *port. */
bool md_net_listen(const char *host, int *port, char *errbuf, size_t errlen);

/* md_net_run: serve until SIGINT or SIGTERM. */
void md_net_run(void);

/* md_conn_send: queue bytes to the client. */
void md_conn_send(md_conn_t *c, const md_buf_t *msg);

/* md_conn_park: keep req (ownership passes) until deadline or oplog growth. */
void md_conn_park(md_conn_t *c, md_request_t *req, int64_t deadline_ms, bool on_oplog);

/* md_conn_close: drop the connection without another reply. */
void md_conn_close(md_conn_t *c);

/* md_net_oplog_grew: wake the requests parked on the oplog (after this turn). */
void md_net_oplog_grew(void);

/* md_next_request_id: a fresh requestID for a reply. */
int32_t md_next_request_id(void);

#endif
