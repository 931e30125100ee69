/*
 * net.c: the poll(2) loop of net.h.
 *
 * Each turn: poll every socket (the timeout is the nearest parked deadline,
 * or zero when the oplog grew), accept, read what arrived (even on a parked
 * connection, so a client that hangs up is noticed), dispatch every whole
 * message of connections that are not parked, re-dispatch parked requests
 * whose deadline passed or that wait on the oplog after it grew, write what
 * is queued, and drop closed connections.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int listen_fd = -1;
static md_conn_t **conns;
static size_t nconns, capconns;
static int64_t next_conn_id = 1;
static int32_t request_counter = 1;
static bool oplog_grew;
static volatile sig_atomic_t stop_requested;

int32_t md_next_request_id(void)
{
    if (request_counter == INT32_MAX)
        request_counter = 1;
    return request_counter++;
}

/* on_signal: SIGINT/SIGTERM end the loop after the current turn. */
static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

bool md_net_listen(const char *host, int *port, char *errbuf, size_t errlen)
{
    struct sockaddr_in addr;
    socklen_t alen = sizeof addr;
    int one = 1;

    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)*port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        snprintf(errbuf, errlen, "--bind %s: not an IPv4 address", host);
        return false;
    }
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd < 0 || setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listen_fd, 128) < 0 ||
        getsockname(listen_fd, (struct sockaddr *)&addr, &alen) < 0) {
        snprintf(errbuf, errlen, "cannot listen on %s:%d: %s", host, *port, strerror(errno));
        return false;
    }
    *port = ntohs(addr.sin_port);
    return true;
}

/* accept_all: take every pending connection. */
static void accept_all(void)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        int one = 1;
        md_conn_t *c;

        if (fd < 0)
            return;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c = md_xcalloc(1, sizeof *c);
        c->fd = fd;
        c->id = next_conn_id++;
        if (nconns == capconns) {
            capconns = capconns ? capconns * 2 : 16;
            conns = md_xrealloc(conns, capconns * sizeof *conns);
        }
        conns[nconns++] = c;
        md_debug("connection %lld accepted", (long long)c->id);
    }
}

/* read_some: read what the socket has; EOF or an error closes. */
static void read_some(md_conn_t *c)
{
    uint8_t tmp[65536];

    for (;;) {
        ssize_t n = read(c->fd, tmp, sizeof tmp);

        if (n > 0) {
            md_buf_append(&c->in, tmp, (size_t)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        md_debug("connection %lld closed by the client", (long long)c->id);
        c->closing = true;
        return;
    }
}

/* flush: write what is queued, as far as the socket takes it. */
static void flush(md_conn_t *c)
{
    while (!c->closing && md_buf_avail(&c->out)) {
        ssize_t n = write(c->fd, md_buf_head(&c->out), md_buf_avail(&c->out));

        if (n > 0) {
            md_buf_consume(&c->out, (size_t)n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            if (n < 0 && errno != EAGAIN)
                c->closing = true;
            return;
        }
    }
}

/* process: dispatch the whole messages buffered on c while it is free. */
static void process(md_conn_t *c)
{
    while (!c->parked && !c->closing) {
        int64_t len = md_wire_frame_length(md_buf_head(&c->in), md_buf_avail(&c->in));
        md_request_t *req;
        char err[256];

        if (len < 0) {
            md_log("connection %lld: bad message length; closing", (long long)c->id);
            c->closing = true;
            return;
        }
        if (len == 0 || md_buf_avail(&c->in) < (size_t)len)
            return;
        req = md_xcalloc(1, sizeof *req);
        if (!md_wire_parse(md_buf_head(&c->in), (size_t)len, req, err, sizeof err)) {
            md_log("connection %lld: %s; closing", (long long)c->id, err);
            free(req);
            c->closing = true;
            return;
        }
        md_buf_consume(&c->in, (size_t)len);
        md_dispatch(c, req, false);
    }
}

/* wake: re-dispatch parked requests that are due. */
static void wake(void)
{
    bool grew = oplog_grew;
    int64_t now = md_now_ms();

    oplog_grew = false;
    for (size_t i = 0; i < nconns; i++) {
        md_conn_t *c = conns[i];

        if (c->parked && !c->closing &&
            (now >= c->park_deadline_ms || (grew && c->park_on_oplog))) {
            md_request_t *req = c->parked;

            c->parked = NULL;
            md_dispatch(c, req, true);
            process(c);
        }
    }
}

/* free_conn: close the socket and release everything of c. */
static void free_conn(md_conn_t *c)
{
    if (c->parked) {
        md_wire_request_free(c->parked);
        free(c->parked);
    }
    close(c->fd);
    md_buf_free(&c->in);
    md_buf_free(&c->out);
    free(c);
}

/* reap: drop the connections marked closing. */
static void reap(void)
{
    size_t j = 0;

    for (size_t i = 0; i < nconns; i++) {
        if (conns[i]->closing)
            free_conn(conns[i]);
        else
            conns[j++] = conns[i];
    }
    nconns = j;
}

/* poll_timeout: milliseconds until the nearest parked deadline, or -1. */
static int poll_timeout(void)
{
    int64_t now = md_now_ms(), best = -1;

    if (oplog_grew)
        return 0;
    for (size_t i = 0; i < nconns; i++) {
        if (conns[i]->parked) {
            int64_t left = conns[i]->park_deadline_ms - now;

            if (left < 0)
                left = 0;
            if (best < 0 || left < best)
                best = left;
        }
    }
    return best > 60000 ? 60000 : (int)best;
}

void md_net_run(void)
{
    struct pollfd *pfds = NULL;
    size_t cap = 0;
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    while (!stop_requested) {
        size_t n = nconns;

        if (cap < n + 1) {
            cap = (n + 1) * 2;
            pfds = md_xrealloc(pfds, cap * sizeof *pfds);
        }
        pfds[0] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
        for (size_t i = 0; i < n; i++)
            pfds[i + 1] = (struct pollfd){
                .fd = conns[i]->fd,
                .events = (short)(POLLIN | (md_buf_avail(&conns[i]->out) ? POLLOUT : 0))};
        if (poll(pfds, n + 1, poll_timeout()) < 0 && errno != EINTR) {
            md_log("poll: %s", strerror(errno));
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (pfds[i + 1].revents & (POLLIN | POLLHUP | POLLERR))
                read_some(conns[i]);
            process(conns[i]);
        }
        if (pfds[0].revents & POLLIN)
            accept_all();
        wake();
        for (size_t i = 0; i < nconns; i++)
            flush(conns[i]);
        reap();
    }
    free(pfds);
    for (size_t i = 0; i < nconns; i++)
        free_conn(conns[i]);
    free(conns);
    close(listen_fd);
}

void md_conn_send(md_conn_t *c, const md_buf_t *msg)
{
    md_buf_append(&c->out, md_buf_head(msg), md_buf_avail(msg));
}

void md_conn_park(md_conn_t *c, md_request_t *req, int64_t deadline_ms, bool on_oplog)
{
    c->parked = req;
    c->park_deadline_ms = deadline_ms;
    c->park_on_oplog = on_oplog;
}

void md_conn_close(md_conn_t *c)
{
    c->closing = true;
}

void md_net_oplog_grew(void)
{
    oplog_grew = true;
}
