/*
 * http.c: the monitoring endpoint on libmicrohttpd.
 *
 * The listening socket is made here, not by libmicrohttpd, so that exactly
 * one address is bound (the configured host, loopback by default, never a
 * wildcard by accident), the real port is known when port 0 was asked
 * for, and a bind error reads like the rest of our errors.  The socket is
 * handed to the daemon (MHD_OPTION_LISTEN_SOCKET), which runs one internal
 * polling thread and closes the socket when stopped.
 *
 * Every answer is built in full before it is queued (the bodies are small),
 * on the first call of the access handler, which libmicrohttpd allows for
 * requests without a body; libmicrohttpd (0.9.75) then closes the
 * connection after it (Connection: close), so these endpoints are not
 * kept alive.  The route hooks answer once a request is complete, and
 * their connections are.  Every answer goes out through trib_mhd_queue
 * (lib/mhd_reply.h: the Keep-Alive timeout hint).  HEAD gets the same
 * headers without a body (libmicrohttpd drops it).
 *
 * Starvation.  libmicrohttpd stops accepting at its connection limit, so
 * clients that open connections and never finish a request (idle
 * keep-alives, a slow loris, a hundred half-sent requests on loopback)
 * would make a health probe wait in the listen queue until one of them
 * times out.  Two defences.  Idle connections, complete request or not,
 * time out after TRIB_HTTP_IDLE_TIMEOUT_S.  And TRIB_HTTP_RESERVED slots
 * below the limit are kept free: the server tracks its connections
 * (MHD_OPTION_NOTIFY_CONNECTION, all callbacks on its one thread) with
 * whether a request is being served and since when each waits; when a new
 * connection leaves fewer free slots than that, the connection that has
 * waited longest without a request in service is shut down (shutdown(2):
 * libmicrohttpd sees end of file and closes it on its next turn).  A
 * request is in service only once it is complete: while a route hook
 * still receives its body, the connection counts as waiting, so clients
 * that trickle bodies a byte at a time (each byte resets the idle timeout)
 * are evicted like idle ones and cannot fill the server.  A probe that
 * sends its request at once is therefore always accepted, and is the
 * newest, the last to be evicted.
 */
#include "http.h"
#include "urlpath.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "clock.h"
#include "fileio.h"
#include "log.h"
#include "mhd_reply.h"
#include "strbuf.h"
#include "xalloc.h"

/* One open connection, for eviction (see above). */
typedef struct conn_slot
{
	bool		used;
	bool		serving;		/* a request is in service */
	bool		evicted;		/* shut down, not closed yet */
	int			fd;
	int64_t		since_ms;		/* waiting for a request since */
} conn_slot;

struct trib_http
{
	trib_http_opts opts;
	struct MHD_Daemon *daemon;
	int			port;
	char		address[INET6_ADDRSTRLEN];
	unsigned	limit;			/* libmicrohttpd's connection limit */
	conn_slot  *slots;			/* limit of them; HTTP thread only */
	unsigned	open;			/* used slots, evicted ones included */
	char	   *tls_cert;		/* PEM text, or NULL */
	char	   *tls_key;		/* PEM text (wiped when freed), or NULL */
};

#define TRIB_HTTP_MAX_PEM (1024 * 1024)

/* A request a route hook claimed (*con_cls): which one, and its state. */
typedef struct claimed
{
	const trib_http_route *route;
	void	   *state;
} claimed;

/* Defaults: loopback, any port, no callbacks. */
void
trib_http_opts_init(trib_http_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
}

/* Append a route hook. */
bool
trib_http_opts_add_route(trib_http_opts *opts, trib_http_route_fn handle,
						 trib_http_route_done_fn done, void *arg)
{
	if (opts->nroutes == TRIB_HTTP_MAX_ROUTES)
		return false;
	opts->routes[opts->nroutes++] = (trib_http_route) {handle, done, arg};
	return true;
}

/* libmicrohttpd's own messages go to our log, at debug level: once the
 * server runs they tell what clients did (closed early, sent too little,
 * were evicted), which anyone who can connect controls, so at a higher
 * level they would let any local process fill the log.  Failures to start
 * are reported by trib_http_start() itself. */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void) cls;
	trib_log_vwrite(TRIB_LOG_DEBUG, "http", fmt, ap);
}

/* Queue a response with `body` (taken over, malloc'd) and content type. */
static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, const char *type,
	  char *body, size_t len)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r)
	{
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	return trib_mhd_queue(conn, status, r);
}

/* A plain-text reply built with printf. */
static enum MHD_Result
reply_text(struct MHD_Connection *conn, unsigned status, const char *fmt,...)
	__attribute__((format(printf, 3, 4)));

static enum MHD_Result
reply_text(struct MHD_Connection *conn, unsigned status, const char *fmt,...)
{
	trib_strbuf b = {0};
	va_list		ap;
	size_t		len;

	va_start(ap, fmt);
	trib_strbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	len = b.len;
	return reply(conn, status, "text/plain; charset=utf-8", trib_strbuf_finish(&b), len);
}

/* Query iterator: sets *found when the key "ready" is present. */
static enum MHD_Result
find_ready(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void) kind;
	(void) value;
	if (key && strcmp(key, "ready") == 0)
	{
		*(bool *) cls = true;
		return MHD_NO;
	}
	return MHD_YES;
}

/* Run a check callback; missing means `dflt`. */
static bool
run_check(trib_http_check_fn fn, void *arg, bool dflt, char *reason, size_t len)
{
	reason[0] = '\0';
	if (!fn)
	{
		if (!dflt)
			snprintf(reason, len, "no readiness reported");
		return dflt;
	}
	return fn(arg, reason, len);
}

/* /health, /health/live and /health/ready. */
static enum MHD_Result
serve_health(trib_http *h, struct MHD_Connection *conn, bool ready)
{
	char		reason[256];

	if (ready)
	{
		if (run_check(h->opts.ready, h->opts.arg, false, reason, sizeof(reason)))
			return reply_text(conn, MHD_HTTP_OK, "ready\n");
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready%s%s\n",
						  reason[0] ? ": " : "", reason);
	}
	if (run_check(h->opts.live, h->opts.arg, true, reason, sizeof(reason)))
		return reply_text(conn, MHD_HTTP_OK, "ok\n");
	return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "not live%s%s\n",
					  reason[0] ? ": " : "", reason);
}

/* /metrics. */
static enum MHD_Result
serve_metrics(trib_http *h, struct MHD_Connection *conn)
{
	trib_strbuf b = {0};
	size_t		len;

	if (!h->opts.metrics)
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "no metrics\n");
	trib_metrics_render(h->opts.metrics, &b);
	len = b.len;
	return reply(conn, MHD_HTTP_OK, TRIB_METRICS_CONTENT_TYPE, trib_strbuf_finish(&b), len);
}

/* /status. */
static enum MHD_Result
serve_status(trib_http *h, struct MHD_Connection *conn)
{
	char	   *json = h->opts.status ? h->opts.status(h->opts.arg) : NULL;
	trib_strbuf b = {0};
	size_t		len;

	if (!json)
	{
		trib_strbuf_adds(&b, "{\"error\":\"status not available\"}\n");
		len = b.len;
		return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json",
					 trib_strbuf_finish(&b), len);
	}
	trib_strbuf_adds(&b, json);
	free(json);
	if (b.len == 0 || b.data[b.len - 1] != '\n')
		trib_strbuf_addc(&b, '\n');
	len = b.len;
	return reply(conn, MHD_HTTP_OK, "application/json", trib_strbuf_finish(&b), len);
}

/* Shut down the connection that has waited longest without a request in
 * service, if any, other than the new one. */
static void
evict_oldest_idle(trib_http *h, const conn_slot *new_one)
{
	conn_slot  *oldest = NULL;

	for (unsigned i = 0; i < h->limit; i++)
	{
		conn_slot  *s = &h->slots[i];

		if (s != new_one && s->used && !s->serving && !s->evicted &&
			(oldest == NULL || s->since_ms < oldest->since_ms))
			oldest = s;
	}
	if (oldest == NULL)
		return;
	oldest->evicted = true;
	shutdown(oldest->fd, SHUT_RDWR);
	tlog_debug("http", "%u connections open: closed the one idle for %lld ms", h->open,
			   (long long) (trib_clock_mono_ms() - oldest->since_ms));
}

/* A connection opened or closed: track it, keep the reserved slots free. */
static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	trib_http  *h = cls;
	conn_slot  *s = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED)
	{
		if (s != NULL)
		{
			s->used = false;
			__atomic_sub_fetch(&h->open, 1, __ATOMIC_RELEASE);
		}
		return;
	}
	for (unsigned i = 0; s == NULL && i < h->limit; i++)
		if (!h->slots[i].used)
			s = &h->slots[i];
	if (s == NULL)
		return;					/* cannot happen: libmicrohttpd keeps the limit */
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD)->connect_fd;
	s->since_ms = trib_clock_mono_ms();
	*socket_context = s;
	if (__atomic_add_fetch(&h->open, 1, __ATOMIC_RELEASE) + TRIB_HTTP_RESERVED > h->limit)
		evict_oldest_idle(h, s);
}

/* A request was answered: its connection waits for the next one. */
static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	conn_slot  *s = info ? info->socket_context : NULL;
	claimed    *c = *con_cls;

	(void) cls;
	(void) code;
	if (c != NULL)
	{
		if (c->route->done != NULL && c->state != NULL)
			c->route->done(c->route->arg, c->state);
		free(c);
	}
	*con_cls = NULL;
	if (s != NULL)
	{
		s->serving = false;
		s->since_ms = trib_clock_mono_ms();
	}
}

/* Mark the connection of a request as serving it. */
static void
note_serving(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	if (info != NULL && info->socket_context != NULL)
		((conn_slot *) info->socket_context)->serving = true;
}

/* Offer a new request to the route hooks in order: the answer of the one
 * that claims it (kept in *con_cls for its later calls), or
 * TRIB_HTTP_NOT_MINE. */
static int
offer_routes(trib_http *h, struct MHD_Connection *conn, const char *url,
			 const char *method, const char *upload_data, size_t *upload_data_size,
			 void **con_cls)
{
	for (unsigned i = 0; i < h->opts.nroutes; i++)
	{
		const trib_http_route *rt = &h->opts.routes[i];
		void	   *state = NULL;
		int			r = rt->handle(rt->arg, conn, url, method, upload_data,
								   upload_data_size, &state);
		claimed    *c;

		if (r == TRIB_HTTP_NOT_MINE)
			continue;
		c = trib_xcalloc(1, sizeof(*c));
		c->route = rt;
		c->state = state;
		*con_cls = c;
		return r;
	}
	return TRIB_HTTP_NOT_MINE;
}

/* The access handler: route one request. */
static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url,
	   const char *method, const char *version, const char *upload_data,
	   size_t *upload_data_size, void **con_cls)
{
	trib_http  *h = cls;
	claimed    *c = *con_cls;
	bool		ready = false;
	int			r;

	(void) version;
	if (c != NULL)
	{
		if (*upload_data_size == 0)
			note_serving(conn);	/* the body is complete */
		return (enum MHD_Result) c->route->handle(c->route->arg, conn, url, method,
												  upload_data, upload_data_size, &c->state);
	}
	r = offer_routes(h, conn, url, method, upload_data, upload_data_size, con_cls);
	if (r != TRIB_HTTP_NOT_MINE)
		return (enum MHD_Result) r;	/* its body, if any, is still to come */
	note_serving(conn);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
		strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (strcmp(url, "/health") == 0)
	{
		MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, find_ready, &ready);
		return serve_health(h, conn, ready);
	}
	if (strcmp(url, "/health/live") == 0)
		return serve_health(h, conn, false);
	if (strcmp(url, "/health/ready") == 0)
		return serve_health(h, conn, true);
	if (strcmp(url, "/metrics") == 0)
		return serve_metrics(h, conn);
	if (strcmp(url, "/status") == 0)
		return serve_status(h, conn);
	if (strcmp(url, "/") == 0)
		return reply_text(conn, MHD_HTTP_OK,
						  "tributary: /health /health/ready /metrics /status /api/v1/\n");
	return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* Resolve host:port, bind and listen; returns the socket or -1. */
static int
listen_on(trib_http *h, const char *host, int port, char *errbuf, size_t errlen)
{
	struct addrinfo hints,
			   *res = NULL;
	struct sockaddr_storage ss;
	socklen_t	sslen = sizeof(ss);
	char		portstr[16];
	int			fd,
				rc,
				one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0 || !res)
	{
		snprintf(errbuf, errlen, "http: cannot resolve \"%s\": %s", host, gai_strerror(rc));
		if (res)
			freeaddrinfo(res);
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
	{
		snprintf(errbuf, errlen, "http: socket: %s", strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0 ||
		getsockname(fd, (struct sockaddr *) &ss, &sslen) != 0)
	{
		snprintf(errbuf, errlen, "http: cannot listen on %s:%d: %s", host, port,
				 strerror(errno));
		close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	if (ss.ss_family == AF_INET6)
	{
		struct sockaddr_in6 *a = (struct sockaddr_in6 *) &ss;

		inet_ntop(AF_INET6, &a->sin6_addr, h->address, sizeof(h->address));
		h->port = ntohs(a->sin6_port);
	}
	else
	{
		struct sockaddr_in *a = (struct sockaddr_in *) &ss;

		inet_ntop(AF_INET, &a->sin_addr, h->address, sizeof(h->address));
		h->port = ntohs(a->sin_port);
	}
	return fd;
}

/* The whole of a PEM file (malloc'd), or NULL with errbuf filled; a FIFO
 * or other non-regular file is refused without waiting on it. */
static char *
read_pem(const char *path, const char *what, char *errbuf, size_t errlen)
{
	char		msg[256];
	size_t		len;
	char	   *pem = trib_fileio_read_small(path, TRIB_HTTP_MAX_PEM, &len, msg, sizeof(msg));

	if (pem == NULL)
	{
		snprintf(errbuf, errlen, "http: cannot read the TLS %s %s: %s", what, path, msg);
		return NULL;
	}
	if (len == 0 || strstr(pem, "-----BEGIN ") == NULL)
	{
		snprintf(errbuf, errlen, "http: the TLS %s %s is not a PEM file (up to %d bytes)",
				 what, path, TRIB_HTTP_MAX_PEM);
		OPENSSL_cleanse(pem, len);
		free(pem);
		return NULL;
	}
	return pem;
}

/* Free h and its TLS texts (the key wiped). */
static void
free_server(trib_http *h)
{
	if (h->tls_key != NULL)
		OPENSSL_cleanse(h->tls_key, strlen(h->tls_key));
	free(h->tls_key);
	free(h->tls_cert);
	free(h->slots);
	free(h);
}

/* Read the TLS files when both are set; false with errbuf filled. */
static bool
load_tls(trib_http *h, const trib_http_opts *opts, char *errbuf, size_t errlen)
{
	if ((opts->tls_cert_file == NULL) != (opts->tls_key_file == NULL))
	{
		snprintf(errbuf, errlen, "http: TLS needs both a certificate and a key file");
		return false;
	}
	if (opts->tls_cert_file == NULL)
		return true;
	h->tls_cert = read_pem(opts->tls_cert_file, "certificate", errbuf, errlen);
	if (h->tls_cert != NULL)
		h->tls_key = read_pem(opts->tls_key_file, "key", errbuf, errlen);
	return h->tls_key != NULL;
}

/* Paths are decoded but %2F and %25, which routes that split paths
 * decode per segment (urlpath.h): a registry subject may hold '/'. */
static size_t
unescape_path(void *cls, struct MHD_Connection *conn, char *uri)
{
	(void) cls;
	(void) conn;
	return trib_url_unescape_path(uri);
}

/* libmicrohttpd with our options, TLS when loaded (MHD_OPTION_ARRAY, so
 * the TLS options are added only then). */
static struct MHD_Daemon *
start_daemon(trib_http *h, int fd, unsigned timeout_s)
{
	unsigned	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem tls[] = {
		{MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key},
		{MHD_OPTION_END, 0, NULL}
	};

	if (h->tls_cert != NULL)
		flags |= MHD_USE_TLS;
	else
		tls[0].option = MHD_OPTION_END;
	return MHD_start_daemon(flags, 0, NULL, NULL, handle, h,
							MHD_OPTION_ARRAY, tls,
							MHD_OPTION_EXTERNAL_LOGGER, mhd_log, (void *) NULL,
							MHD_OPTION_LISTEN_SOCKET, (MHD_socket) fd,
							MHD_OPTION_CONNECTION_LIMIT, h->limit,
							MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
							MHD_OPTION_NOTIFY_CONNECTION, on_connection, (void *) h,
							MHD_OPTION_NOTIFY_COMPLETED, on_completed, (void *) h,
							MHD_OPTION_UNESCAPE_CALLBACK, unescape_path, (void *) NULL,
							MHD_OPTION_END);
}

/* Start the server. */
trib_http *
trib_http_start(const trib_http_opts *opts, char *errbuf, size_t errlen)
{
	trib_http  *h;
	const char *host = opts->host && opts->host[0] ? opts->host : TRIB_HTTP_DEFAULT_HOST;
	int			fd;

	if (opts->port < 0 || opts->port > 65535)
	{
		snprintf(errbuf, errlen, "http: port %d out of range", opts->port);
		return NULL;
	}
	h = trib_xcalloc(1, sizeof(*h));
	h->opts = *opts;
	h->opts.host = NULL;		/* not kept: the caller's strings */
	h->opts.tls_cert_file = h->opts.tls_key_file = NULL;
	if (!load_tls(h, opts, errbuf, errlen))
	{
		free_server(h);
		return NULL;
	}
	fd = listen_on(h, host, opts->port, errbuf, errlen);
	if (fd < 0)
	{
		free_server(h);
		return NULL;
	}
	h->limit = opts->max_connections ? opts->max_connections : TRIB_HTTP_MAX_CONNECTIONS;
	if (h->limit <= TRIB_HTTP_RESERVED)
		h->limit = TRIB_HTTP_RESERVED + 1;
	h->slots = trib_xcalloc(h->limit, sizeof(conn_slot));
	h->daemon = start_daemon(h, fd, opts->timeout_s ? opts->timeout_s : TRIB_HTTP_IDLE_TIMEOUT_S);
	if (!h->daemon)
	{
		snprintf(errbuf, errlen, "http: cannot start the server on %s:%d%s", host, h->port,
				 h->tls_cert ? " (is the TLS key the certificate's, both PEM?)" : "");
		close(fd);
		free_server(h);
		return NULL;
	}
	tlog_info("http", "listening on %s%s%s:%d%s", strchr(h->address, ':') ? "[" : "",
			  h->address, strchr(h->address, ':') ? "]" : "", h->port,
			  h->tls_cert ? " (HTTPS)" : "");
	return h;
}

/* The bound port. */
int
trib_http_port(const trib_http *h)
{
	return h->port;
}

/* The bound address. */
const char *
trib_http_address(const trib_http *h)
{
	return h->address;
}

/* See http.h. */
void
trib_http_settle(trib_http *h, int max_ms)
{
	struct timespec step = {0, 20 * 1000000L};

	for (int t = 0; h != NULL && t < max_ms &&
		 __atomic_load_n(&h->open, __ATOMIC_ACQUIRE) > 0; t += 20)
		nanosleep(&step, NULL);
}

/* Stop, join the thread, free. */
void
trib_http_stop(trib_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->daemon);
	free_server(h);
}
