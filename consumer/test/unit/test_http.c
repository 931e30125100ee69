/*
 * test_http.c: the monitoring endpoint over real sockets.
 *
 * Each test starts a server on a free port of 127.0.0.1 (port 0) and talks
 * to it with a tiny blocking HTTP/1.1 client (one request per connection,
 * "Connection: close"), checking status, headers and body of every
 * endpoint; one test keeps a connection alive across an idle gap.  One test proves the default binds the loopback address only:
 * 127.0.0.2 is routed to the loopback interface too, so a server bound to
 * 0.0.0.0 would accept a connection there, and ours must refuse it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <microhttpd.h>

#include "clock.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "mhd_reply.h"

typedef struct reply
{
	int			status;
	char		headers[4096];
	char	   *body;
} reply;

/* The test's view of the pipeline: what the callbacks report. */
typedef struct fake_pipeline
{
	bool		live;
	bool		ready;
	bool		status_ok;
	int			status_calls;
} fake_pipeline;

static bool
live_cb(void *arg, char *reason, size_t len)
{
	fake_pipeline *p = arg;

	if (!p->live)
		snprintf(reason, len, "main loop stalled");
	return p->live;
}

static bool
ready_cb(void *arg, char *reason, size_t len)
{
	fake_pipeline *p = arg;

	if (!p->ready)
		snprintf(reason, len, "standby");
	return p->ready;
}

static char *
status_cb(void *arg)
{
	fake_pipeline *p = arg;

	p->status_calls++;
	if (!p->status_ok)
		return NULL;
	return strdup("{\"pipeline\":\"orders\",\"state\":\"streaming\",\"role\":\"leader\"}");
}

static void set_timeouts(int fd, int ms);

/* Connect to addr:port, within timeout_ms when > 0 (then also the socket's
 * send and receive timeouts); the socket or -1 (errno set). */
static int
connect_within(const char *addr, int port, int timeout_ms)
{
	struct sockaddr_in sa;
	int			fd = socket(AF_INET, SOCK_STREAM, 0);

	if (timeout_ms > 0)
		set_timeouts(fd, timeout_ms);	/* Linux bounds connect() by SO_SNDTIMEO */

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t) port);
	inet_pton(AF_INET, addr, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0)
	{
		int			e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Connect to addr:port; the socket or -1 (errno set). */
static int
connect_to(const char *addr, int port)
{
	return connect_within(addr, port, 0);
}

/*
 * A connection that sends the start of a request and then nothing: the
 * socket, or -1.  Non-blocking, so that a server that has stopped
 * accepting cannot hang the test; the bytes go out when the connection is
 * made within 20 ms.
 */
static int
half_sent(int port)
{
	static const char part[] = "GET /health HTTP/1.1\r\nHost: localhost\r\n";
	struct sockaddr_in sa;
	int			fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t) port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0 && errno != EINPROGRESS)
	{
		close(fd);
		return -1;
	}
	if (poll(&pfd, 1, 20) == 1 && (pfd.revents & POLLOUT))
		(void) !write(fd, part, sizeof(part) - 1);
	return fd;
}

/* Set send and receive timeouts on a socket. */
static void
set_timeouts(int fd, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* One request; fills *r (body malloc'd).  False on a socket error. */
static bool request_timed(int port, const char *method, const char *path, int timeout_ms,
						  reply *r);

static bool
request(int port, const char *method, const char *path, reply *r)
{
	return request_timed(port, method, path, 0, r);
}

/* request(), failing when the answer takes longer than timeout_ms (0: no
 * limit): connect, send and every read are bounded. */
static bool
request_timed(int port, const char *method, const char *path, int timeout_ms, reply *r)
{
	char		req[512],
			   *buf = NULL,
			   *sep;
	size_t		len = 0,
				cap = 0;
	int			fd = connect_within("127.0.0.1", port, timeout_ms);
	ssize_t		n;

	memset(r, 0, sizeof(*r));
	if (fd < 0)
		return false;
	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\n"
			 "Connection: close\r\n\r\n", method, path);
	if (write(fd, req, strlen(req)) != (ssize_t) strlen(req))
	{
		close(fd);
		return false;
	}
	for (;;)
	{
		if (len + 4096 > cap)
		{
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap + 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t) n;
	}
	close(fd);
	if (!buf)
		return false;
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.1 %d", &r->status) != 1 || !(sep = strstr(buf, "\r\n\r\n")))
	{
		free(buf);
		return false;
	}
	snprintf(r->headers, sizeof(r->headers), "%.*s", (int) (sep - buf), buf);
	r->body = strdup(sep + 4);
	free(buf);
	return true;
}

/* A started server on 127.0.0.1 and a free port. */
static trib_http *
start(trib_metrics *reg, fake_pipeline *p)
{
	trib_http_opts o;
	trib_http  *h;
	char		err[256];

	trib_http_opts_init(&o);
	o.metrics = reg;
	o.arg = p;
	o.live = live_cb;
	o.ready = ready_cb;
	o.status = status_cb;
	h = trib_http_start(&o, err, sizeof(err));
	if (!h)
		print_message("start: %s\n", err);
	assert_non_null(h);
	return h;
}

/* Expect status and exact body. */
static void
expect(int port, const char *method, const char *path, int status, const char *body)
{
	reply		r;

	assert_true(request(port, method, path, &r));
	if (r.status != status || (body && strcmp(r.body, body) != 0))
	{
		print_message("%s %s: expected %d [%s], got %d [%s]\n", method, path, status,
					  body ? body : "*", r.status, r.body);
		fail();
	}
	free(r.body);
}

static void
test_health_and_readiness(void **state)
{
	fake_pipeline p = {.live = true, .ready = false, .status_ok = true};
	trib_http  *h = start(NULL, &p);
	int			port = trib_http_port(h);

	(void) state;
	assert_true(port > 0);
	expect(port, "GET", "/health", 200, "ok\n");
	expect(port, "GET", "/health/live", 200, "ok\n");
	expect(port, "GET", "/health/ready", 503, "not ready: standby\n");
	expect(port, "GET", "/health?ready", 503, "not ready: standby\n");
	expect(port, "GET", "/health?ready=1", 503, "not ready: standby\n");
	p.ready = true;
	expect(port, "GET", "/health/ready", 200, "ready\n");
	expect(port, "GET", "/health?ready", 200, "ready\n");
	expect(port, "GET", "/health?verbose", 200, "ok\n");
	p.live = false;
	expect(port, "GET", "/health", 503, "not live: main loop stalled\n");
	trib_http_stop(h);
}

static void
test_metrics_endpoint(void **state)
{
	fake_pipeline p = {.live = true};
	trib_metrics *reg = trib_metrics_new();
	trib_http  *h = start(reg, &p);
	trib_metric_family *f = trib_metrics_counter(reg, "tributary_sink_events_total",
												 "Events written to a sink.", "sink");
	reply		r;

	(void) state;
	trib_metric_add(trib_metric_get(f, "kafka"), 5);
	assert_true(request(trib_http_port(h), "GET", "/metrics", &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.headers, "Content-Type: text/plain; version=0.0.4; charset=utf-8"));
	assert_non_null(strstr(r.headers, "Cache-Control: no-store"));
	assert_string_equal(r.body,
						"# HELP tributary_sink_events_total Events written to a sink.\n"
						"# TYPE tributary_sink_events_total counter\n"
						"tributary_sink_events_total{sink=\"kafka\"} 5\n");
	free(r.body);
	/* HEAD: same headers, no body */
	assert_true(request(trib_http_port(h), "HEAD", "/metrics", &r));
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "");
	free(r.body);
	trib_http_stop(h);
	trib_metrics_free(reg);
}

static void
test_status_endpoint(void **state)
{
	fake_pipeline p = {.live = true, .status_ok = true};
	trib_http  *h = start(NULL, &p);
	reply		r;

	(void) state;
	assert_true(request(trib_http_port(h), "GET", "/status", &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.headers, "Content-Type: application/json"));
	assert_string_equal(r.body,
						"{\"pipeline\":\"orders\",\"state\":\"streaming\",\"role\":\"leader\"}\n");
	free(r.body);
	p.status_ok = false;
	expect(trib_http_port(h), "GET", "/status", 503, "{\"error\":\"status not available\"}\n");
	assert_int_equal(p.status_calls, 2);
	/* no registry: /metrics is 404 */
	expect(trib_http_port(h), "GET", "/metrics", 404, "no metrics\n");
	trib_http_stop(h);
}

static void
test_unknown_paths_and_methods(void **state)
{
	fake_pipeline p = {.live = true};
	trib_http  *h = start(NULL, &p);
	reply		r;

	(void) state;
	expect(trib_http_port(h), "GET", "/nope", 404, "not found\n");
	expect(trib_http_port(h), "GET", "/healthz", 404, "not found\n");
	expect(trib_http_port(h), "GET", "/", 200, NULL);
	assert_true(request(trib_http_port(h), "POST", "/health", &r));
	assert_int_equal(r.status, 405);
	assert_non_null(strstr(r.headers, "Allow: GET, HEAD"));
	free(r.body);
	expect(trib_http_port(h), "DELETE", "/status", 405, "method not allowed\n");
	trib_http_stop(h);
}

/* A route hook owning the paths under `prefix` (default /own): answers
 * "PREFIX METHOD\n" (after the second call, so per-request state is
 * kept), counts what it frees. */
typedef struct fake_route
{
	int			allocated;
	int			freed;
	const char *prefix;
} fake_route;

static int
route_cb(void *arg, struct MHD_Connection *conn, const char *url, const char *method,
		 const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	fake_route *fr = arg;
	char		body[64];
	struct MHD_Response *resp;

	const char *prefix = fr->prefix ? fr->prefix : "/own";

	(void) upload_data;
	if (strncmp(url, prefix, strlen(prefix)) != 0)
		return TRIB_HTTP_NOT_MINE;
	if (*con_cls == NULL)
	{
		*con_cls = malloc(1);
		fr->allocated++;
		return MHD_YES;
	}
	*upload_data_size = 0;
	snprintf(body, sizeof(body), "%s %s\n", prefix + 1, method);
	resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
	return trib_mhd_queue(conn, 201, resp);	/* as the real hooks do */
}

static void
route_done_cb(void *arg, void *request)
{
	((fake_route *) arg)->freed++;
	free(request);
}

/* A live server with the route hooks (NULL-terminated) in order. */
static trib_http *
start_routes(fake_pipeline *p, fake_route **routes)
{
	trib_http_opts o;
	trib_http  *h;
	char		err[256];

	trib_http_opts_init(&o);
	o.arg = p;
	o.live = live_cb;
	for (int i = 0; routes[i] != NULL; i++)
		assert_true(trib_http_opts_add_route(&o, route_cb, route_done_cb, routes[i]));
	h = trib_http_start(&o, err, sizeof(err));
	assert_non_null(h);
	return h;
}

static void
test_route_hook_answers_its_paths_first(void **state)
{
	fake_pipeline p = {.live = true};
	fake_route	fr = {0};
	fake_route *routes[] = {&fr, NULL};
	trib_http  *h = start_routes(&p, routes);

	(void) state;
	expect(trib_http_port(h), "GET", "/own/x", 201, "own GET\n");
	expect(trib_http_port(h), "DELETE", "/own", 201, "own DELETE\n");
	expect(trib_http_port(h), "GET", "/health", 200, "ok\n");
	expect(trib_http_port(h), "DELETE", "/status", 405, "method not allowed\n");
	trib_http_stop(h);
	assert_int_equal(fr.allocated, 2);
	assert_int_equal(fr.freed, 2);
}

/* Two route hooks: each request reaches the one owning its path, every
 * later call of it goes there alone, and each frees its own state. */
static void
test_two_route_hooks_each_serve_their_paths(void **state)
{
	fake_pipeline p = {.live = true};
	fake_route	one = {.prefix = "/own"},
				two = {.prefix = "/two"};
	fake_route *routes[] = {&one, &two, NULL};
	trib_http  *h = start_routes(&p, routes);
	trib_http_opts o;

	(void) state;
	expect(trib_http_port(h), "GET", "/two/x", 201, "two GET\n");
	expect(trib_http_port(h), "POST", "/own", 201, "own POST\n");
	expect(trib_http_port(h), "PUT", "/two", 201, "two PUT\n");
	expect(trib_http_port(h), "GET", "/health", 200, "ok\n");
	expect(trib_http_port(h), "GET", "/three", 404, "not found\n");
	trib_http_stop(h);
	assert_int_equal(one.allocated, 1);
	assert_int_equal(one.freed, 1);
	assert_int_equal(two.allocated, 2);
	assert_int_equal(two.freed, 2);
	trib_http_opts_init(&o);
	for (int i = 0; i < TRIB_HTTP_MAX_ROUTES; i++)
		assert_true(trib_http_opts_add_route(&o, route_cb, NULL, &one));
	assert_false(trib_http_opts_add_route(&o, route_cb, NULL, &one));
}

static void
test_default_listens_on_loopback_only(void **state)
{
	fake_pipeline p = {.live = true};
	trib_http  *h = start(NULL, &p);
	int			port = trib_http_port(h);
	int			fd;

	(void) state;
	assert_string_equal(trib_http_address(h), "127.0.0.1");
	fd = connect_to("127.0.0.1", port);
	assert_true(fd >= 0);
	close(fd);
	/* another loopback address reaches a wildcard socket, not ours */
	fd = connect_to("127.0.0.2", port);
	if (fd >= 0)
	{
		close(fd);
		print_message("127.0.0.2:%d accepted a connection: bound to a wildcard?\n", port);
		fail();
	}
	assert_int_equal(errno, ECONNREFUSED);
	trib_http_stop(h);
	/* after stop nothing listens */
	fd = connect_to("127.0.0.1", port);
	assert_true(fd < 0);
}

static void
test_explicit_hosts_and_errors(void **state)
{
	trib_http_opts o;
	trib_http  *h,
			   *h2;
	char		err[256];

	(void) state;
	trib_http_opts_init(&o);
	o.host = "localhost";
	h = trib_http_start(&o, err, sizeof(err));
	assert_non_null(h);
	assert_true(strcmp(trib_http_address(h), "127.0.0.1") == 0 ||
				strcmp(trib_http_address(h), "::1") == 0);
	/* the same port again: in use */
	o.host = trib_http_address(h);
	o.port = trib_http_port(h);
	h2 = trib_http_start(&o, err, sizeof(err));
	assert_null(h2);
	assert_non_null(strstr(err, "cannot listen on"));
	trib_http_stop(h);
	o.host = "no-such-host.invalid";
	o.port = 0;
	assert_null(trib_http_start(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot resolve"));
	o.host = NULL;
	o.port = 70000;
	assert_null(trib_http_start(&o, err, sizeof(err)));
	trib_http_stop(NULL);
}

/* Metrics updated by a "pipeline" thread while requests are served. */
static void
test_many_requests_while_updating(void **state)
{
	fake_pipeline p = {.live = true, .ready = true, .status_ok = true};
	trib_metrics *reg = trib_metrics_new();
	trib_std_metrics std;
	trib_http  *h;
	int			i;

	(void) state;
	assert_true(trib_metrics_register_std(reg, &std));
	h = start(reg, &p);
	for (i = 0; i < 200; i++)
	{
		reply		r;

		trib_metric_inc(trib_metric_get(std.sink_events, "pg"));
		trib_metric_observe(trib_metric_get(std.ack_latency, "pg"), i * 0.0001);
		assert_true(request(trib_http_port(h), "GET", i % 2 ? "/metrics" : "/status", &r));
		assert_int_equal(r.status, 200);
		free(r.body);
	}
	trib_http_stop(h);
	trib_metrics_free(reg);
}


/*
 * Idle connections that never finish their request must not starve a
 * health probe: with 100 of them open (the server allows max_connections)
 * /health still answers, well within a probe's usual timeout, and again
 * after 100 more; the server serves normally once they are gone.
 */
static void
test_idle_half_sent_requests_do_not_starve_health(void **state)
{
	fake_pipeline p = {.live = true, .ready = true, .status_ok = true};
	trib_http  *h = start(NULL, &p);
	int			port = trib_http_port(h);
	int			idle[200];
	int			n = 0;

	(void) state;
	for (int round = 0; round < 2; round++)
	{
		reply		r;
		int64_t		t0;

		for (int i = 0; i < 100; i++)
			if ((idle[n] = half_sent(port)) >= 0)
				n++;
		t0 = trib_clock_mono_ms();
		if (!request_timed(port, "GET", "/health", 2000, &r) || r.status != 200)
		{
			print_message("round %d: /health did not answer within 2 s with %d idle "
						  "connections (status %d, %lld ms)\n", round, n, r.status,
						  (long long) (trib_clock_mono_ms() - t0));
			fail();
		}
		assert_string_equal(r.body, "ok\n");
		free(r.body);
	}
	for (int i = 0; i < n; i++)
		close(idle[i]);
	expect(port, "GET", "/status", 200, NULL);
	trib_http_stop(h);
}

/* Every answer announces the idle timeout less one second (so clients drop
 * an idle connection first): 200, 404 and 405 alike; a timeout too short
 * to announce (1 s: "timeout=0" would forbid reuse) sends no header. */
static void
test_answers_announce_keep_alive_timeout(void **state)
{
	static const char *const paths[][2] = {
		{"GET", "/health"}, {"GET", "/nowhere"}, {"POST", "/status"}, {"HEAD", "/"},
		{"GET", "/own/x"}, {"PUT", "/own/y"},
	};
	fake_pipeline p = {.live = true};
	fake_route	fr = {0};
	fake_route *routes[] = {&fr, NULL};
	trib_http  *h = start_routes(&p, routes);
	trib_http_opts o;
	char		err[256];
	reply		r;

	(void) state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
	{
		assert_true(request(trib_http_port(h), paths[i][0], paths[i][1], &r));
		if (!strstr(r.headers, "\r\nKeep-Alive: timeout=4"))
		{
			print_message("%s %s: expected \"Keep-Alive: timeout=4\" (%d s - 1), got:\n%s\n",
						  paths[i][0], paths[i][1], TRIB_HTTP_IDLE_TIMEOUT_S, r.headers);
			fail();
		}
		free(r.body);
	}
	trib_http_stop(h);

	trib_http_opts_init(&o);
	o.timeout_s = 1;
	h = trib_http_start(&o, err, sizeof(err));
	assert_non_null(h);
	assert_true(request(trib_http_port(h), "GET", "/health", &r));
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.headers, "Keep-Alive"));
	free(r.body);
	trib_http_stop(h);
}

/* Send a GET on the open connection fd and read its answer (Content-Length
 * framed): the status, or -1. */
static int
get_on(int fd, const char *path)
{
	char		buf[8192],
				req[256];
	size_t		len = 0;
	const char *sep,
			   *cl;
	int			status;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
	if (write(fd, req, strlen(req)) != (ssize_t) strlen(req))
	{
		print_message("get_on %s: write failed (errno %d)\n", path, errno);
		return -1;
	}
	for (;;)
	{
		ssize_t		n = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (n <= 0)
		{
			print_message("GET %s: the connection ended (read %zd, errno %d) after [%.*s]\n",
						  path, n, errno, (int) len, buf);
			return -1;
		}
		len += (size_t) n;
		buf[len] = '\0';
		if ((sep = strstr(buf, "\r\n\r\n")) != NULL &&
			(cl = strstr(buf, "Content-Length: ")) != NULL && cl < sep &&
			len - (size_t) (sep + 4 - buf) >= strtoul(cl + 16, NULL, 10))
			break;
	}
	return sscanf(buf, "HTTP/1.1 %d", &status) == 1 ? status : -1;
}

/* A kept-alive connection idle for longer than the old 3 s timeout, but
 * less than the announced 4 s, still serves the next request (a route
 * hook's: it answers once the request is complete, so libmicrohttpd keeps
 * the connection; the built-in endpoints answer on the first call, which
 * makes libmicrohttpd 0.9.75 close it). */
static void
test_kept_alive_connection_outlives_old_timeout(void **state)
{
	fake_pipeline p = {.live = true};
	fake_route	fr = {0};
	fake_route *routes[] = {&fr, NULL};
	trib_http  *h = start_routes(&p, routes);
	int			fd = connect_within("127.0.0.1", trib_http_port(h), 2000);

	(void) state;
	assert_true(fd >= 0);
	set_timeouts(fd, 2000);
	assert_int_equal(get_on(fd, "/own/a"), 201);
	usleep(3500 * 1000);
	assert_int_equal(get_on(fd, "/own/b"), 201);
	close(fd);
	trib_http_stop(h);
}

/* An incomplete request is dropped after the idle timeout, 5 s by default
 * (it was 10 s, then 3 s). */
static void
test_incomplete_request_times_out_soon(void **state)
{
	fake_pipeline p = {.live = true};
	trib_http  *h = start(NULL, &p);
	int			fd = half_sent(trib_http_port(h));
	char		c;
	int64_t		t0 = trib_clock_mono_ms();
	ssize_t		got;

	(void) state;
	assert_true(fd >= 0);
	fcntl(fd, F_SETFL, 0);		/* blocking again */
	set_timeouts(fd, 8000);
	got = read(fd, &c, 1);
	if (got != 0 || trib_clock_mono_ms() - t0 < 4000)
	{
		print_message("expected the server to close the connection after about 5 s, "
					  "got read %zd after %lld ms\n", got, (long long) (trib_clock_mono_ms() - t0));
		fail();
	}
	close(fd);
	trib_http_stop(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health_and_readiness),
		cmocka_unit_test(test_metrics_endpoint),
		cmocka_unit_test(test_status_endpoint),
		cmocka_unit_test(test_unknown_paths_and_methods),
		cmocka_unit_test(test_route_hook_answers_its_paths_first),
		cmocka_unit_test(test_two_route_hooks_each_serve_their_paths),
		cmocka_unit_test(test_default_listens_on_loopback_only),
		cmocka_unit_test(test_explicit_hosts_and_errors),
		cmocka_unit_test(test_many_requests_while_updating),
		cmocka_unit_test(test_idle_half_sent_requests_do_not_starve_health),
		cmocka_unit_test(test_incomplete_request_times_out_soon),
		cmocka_unit_test(test_answers_announce_keep_alive_timeout),
		cmocka_unit_test(test_kept_alive_connection_outlives_old_timeout),
	};

	trib_log_set_level(TRIB_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
