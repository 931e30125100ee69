/*
 * test_api_limits.c: hostile input to the HTTP endpoint's APIs over real
 * sockets: the schema registry API (registry_api/) and the control API
 * (control/) behind the server of pipeline/http.c, on a free port of
 * 127.0.0.1, as pipeline_status.c wires them.
 *
 * What is proved: a body nested deeper than TRIB_JDOC_MAX_DEPTH is
 * refused with 400 before a tree is built (a megabyte of '[' would
 * otherwise recurse in yajl_tree_free until the HTTP thread's stack runs
 * out: the whole daemon down, for anyone who can reach the port); clients
 * trickling request bodies (slowloris) cannot keep a health probe out; a
 * request whose Host is not a loopback name gets no open read (a web page
 * that rebinds its DNS name to 127.0.0.1 reads nothing without the
 * token), while the token, and loopback names, still work; an
 * unreachable catalog is answered to a tokenless reader of either API
 * without libpq's message (it names the socket path), which the daemon's
 * log has instead.
 *
 * The catalogs are never reached: the registry's and lineage's dsn point
 * at a socket directory that does not exist.
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
#include <signal.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "clock.h"
#include "bearer.h"
#include "config.h"
#include "control.h"
#include "http.h"
#include "jsondoc.h"
#include "log.h"
#include "registry_api.h"
#include "strbuf.h"
#include "xalloc.h"

#define TOKEN "0123456789abcdef-test-token"
#define DEAD_SOCKET_DIR "/nonexistent/tributary-test"
#define DEAD_DSN "host=" DEAD_SOCKET_DIR " dbname=none"

/* A server with the registry and control APIs, and what it owns. */
typedef struct server
{
	trib_config cfg;
	trib_source_conf src;
	trib_regapi *regapi;
	trib_control *control;
	trib_http  *http;
	int			port;
} server;

static bool
live_cb(void *arg, char *reason, size_t len)
{
	(void) arg;
	(void) reason;
	(void) len;
	return true;
}

/* Start the server (registry body limit `reg_body`). */
static void
start(server *s, int reg_body)
{
	trib_http_opts o;
	char		err[256];

	memset(s, 0, sizeof(*s));
	s->src.name = "main";
	s->cfg.sources = &s->src;
	s->cfg.nsources = 1;
	s->cfg.http.enabled = true;
	s->cfg.http.open_reads = true;
	s->cfg.http.max_body_bytes = 65536;
	s->cfg.http.token = TOKEN;
	s->cfg.schema_registry.enabled = true;
	s->cfg.schema_registry.dsn = DEAD_DSN;
	s->cfg.schema_registry.open_reads = true;
	s->cfg.schema_registry.max_body_bytes = reg_body;
	s->cfg.schema_registry.token = TOKEN;
	s->cfg.lineage.enabled = true;
	s->cfg.lineage.dsn = DEAD_DSN;
	assert_true(trib_regapi_setup(&s->cfg, &s->regapi, err, sizeof(err)));
	s->control = trib_control_new(&s->cfg, NULL, NULL);
	trib_http_opts_init(&o);
	o.live = live_cb;
	trib_http_opts_add_route(&o, trib_regapi_handle, trib_regapi_request_done, s->regapi);
	trib_http_opts_add_route(&o, trib_control_handle, trib_control_request_done, s->control);
	s->http = trib_http_start(&o, err, sizeof(err));
	if (s->http == NULL)
		print_message("start: %s\n", err);
	assert_non_null(s->http);
	s->port = trib_http_port(s->http);
	trib_regapi_listening_on(s->regapi, trib_http_address(s->http));
	trib_control_listening_on(s->control, trib_http_address(s->http));
}

static void
stop(server *s)
{
	trib_http_stop(s->http);
	trib_control_free(s->control);
	trib_regapi_free(s->regapi);
}

/* Connect to 127.0.0.1:port with send and receive timeouts; -1 on error. */
static int
connect_timed(int port, int timeout_ms)
{
	struct sockaddr_in sa;
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	int			fd = socket(AF_INET, SOCK_STREAM, 0);

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t) port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0)
	{
		close(fd);
		return -1;
	}
	return fd;
}

/* Write all of buf; false on error. */
static bool
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0)
	{
		ssize_t		n = write(fd, buf, len);

		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t) n;
	}
	return true;
}

/*
 * Send a request (headers as given, each ending "\r\n", then the body) and
 * read the answer within timeout_ms: its status (0: none, connection
 * closed or timed out); the body in *body when not NULL (malloc'd).
 */
static int
exchange(int port, const char *method, const char *path, const char *headers,
		 const char *body, size_t body_len, int timeout_ms, char **out)
{
	trib_strbuf req = {0};
	trib_strbuf ans = {0};
	char		buf[4096];
	int			fd = connect_timed(port, timeout_ms);
	int			status = 0;
	ssize_t		n;
	const char *sep;

	if (out != NULL)
		*out = NULL;
	if (fd < 0)
		return 0;
	trib_strbuf_printf(&req, "%s %s HTTP/1.1\r\n%sConnection: close\r\n", method, path,
					   headers);
	if (body != NULL)
		trib_strbuf_printf(&req, "Content-Length: %zu\r\n", body_len);
	trib_strbuf_adds(&req, "\r\n");
	if (body != NULL)
		trib_strbuf_add(&req, body, body_len);
	(void) write_all(fd, req.data, req.len);	/* the server may answer early */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		trib_strbuf_add(&ans, buf, (size_t) n);
	close(fd);
	if (ans.len > 0 && sscanf(ans.data, "HTTP/1.1 %d", &status) != 1)
		status = 0;
	if (out != NULL && ans.len > 0 && (sep = strstr(ans.data, "\r\n\r\n")) != NULL)
		*out = strdup(sep + 4);
	trib_strbuf_free(&req);
	trib_strbuf_free(&ans);
	return status;
}

/* Expect a status (and a body containing `needle` when not NULL). */
static void
expect(int got, char *body, int status, const char *needle, const char *what)
{
	if (got != status || (needle != NULL && (body == NULL || strstr(body, needle) == NULL)))
	{
		print_message("%s: expected %d with \"%s\", got %d [%s]\n", what, status,
					  needle ? needle : "", got, body ? body : "(no body)");
		fail();
	}
	free(body);
}

/* `depth` '[' then as many ']' (malloc'd). */
static char *
nested(size_t depth, size_t *len)
{
	char	   *t = malloc(2 * depth + 1);

	memset(t, '[', depth);
	memset(t + depth, ']', depth);
	t[2 * depth] = '\0';
	*len = 2 * depth;
	return t;
}

#define JSON_CT "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"

/*
 * A body nested past the limit is a 400 naming the limit, at both APIs,
 * before any tree is built; the server is still up after it (a megabyte
 * of nesting used to take the daemon down), and a body nested just within
 * the limit is parsed as before.
 */
static void
test_deep_nesting_is_refused(void **state)
{
	server		s;
	size_t		len;
	char	   *deep = nested(512 * 1024, &len);
	char	   *ok = NULL;
	char	   *body;
	int			got;

	(void) state;
	start(&s, 4 * 1024 * 1024);
	got = exchange(s.port, "POST", "/subjects/x", JSON_CT, deep, len, 20000, &body);
	expect(got, body, 400, "nested deeper than", "registry: 512 Ki levels");
	got = exchange(s.port, "POST", "/api/v1/quality/check", JSON_CT, deep, 65536, 20000, &body);
	expect(got, body, 400, "nested deeper than", "control: 32 Ki levels");
	got = exchange(s.port, "GET", "/health", "Host: localhost\r\n", NULL, 0, 2000, &body);
	expect(got, body, 200, "ok", "health after deep bodies");
	/* within the limit: parsed, then routed (not a JSON error) */
	free(deep);
	deep = nested(TRIB_JDOC_MAX_DEPTH - 1, &len);
	ok = trib_xmalloc(len + 32);
	snprintf(ok, len + 32, "{\"schema\":\"x\",\"a\":%s}", deep);
	got = exchange(s.port, "POST", "/api/v1/quality/check", JSON_CT, ok, strlen(ok), 5000,
				   &body);
	expect(got, body, 400, "not a row", "control: nesting within the limit");
	free(ok);
	free(deep);
	stop(&s);
}

/* The depth check itself: strings do not count, escapes do not end them. */
static void
test_depth_check(void **state)
{
	char		err[128];
	size_t		len;
	char	   *t = nested(TRIB_JDOC_MAX_DEPTH + 1, &len);
	yajl_val	v;

	(void) state;
	assert_null(trib_jdoc_parse_bounded(t, err, sizeof(err)));
	assert_non_null(strstr(err, "nested deeper than"));
	t[len - 1] = '\0';
	memmove(t, t + 1, len);		/* one level fewer */
	v = trib_jdoc_parse_bounded(t, err, sizeof(err));
	assert_non_null(v);
	yajl_tree_free(v);
	free(t);
	v = trib_jdoc_parse_bounded("{\"a\":\"[[[[[[[[[[\\\"[[[[[[[[[\"}", err, sizeof(err));
	assert_non_null(v);
	yajl_tree_free(v);
	/* a comment cannot hide the nesting from the count (yajl takes them) */
	t = nested(TRIB_JDOC_MAX_DEPTH + 1, &len);
	{
		trib_strbuf b = {0};

		trib_strbuf_printf(&b, "/* \" */ %s // \"\n", t);
		assert_null(trib_jdoc_parse_bounded(b.data, err, sizeof(err)));
		assert_non_null(strstr(err, "nested deeper than"));
		trib_strbuf_free(&b);
	}
	free(t);
	assert_null(trib_jdoc_parse_bounded("{\"a\":", err, sizeof(err)));
	assert_non_null(strstr(err, "invalid JSON"));
}

/* A connection that sends a request's headers announcing a body of `len`
 * bytes, then one byte of it: the socket, or -1. */
static int
trickling(int port, const char *path, size_t len)
{
	char		req[512];
	int			fd = connect_timed(port, 200);

	if (fd < 0)
		return -1;
	snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\n" JSON_CT "Content-Length: %zu\r\n\r\n{",
			 path, len);
	if (!write_all(fd, req, strlen(req)))
	{
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Slow loris: a hundred connections each sending a body a byte at a time
 * (more than the server's connection limit, each kept alive by a byte
 * every second, under the idle timeout) must not keep /health out: a probe
 * is answered within 2 s every round.
 */
static void
test_trickled_bodies_do_not_starve_health(void **state)
{
	server		s;
	int			fds[100];
	int			n = 0;

	(void) state;
	start(&s, 1024 * 1024);
	for (int i = 0; i < 100; i++)
		if ((fds[n] = trickling(s.port, i % 2 ? "/subjects/x" : "/api/v1/quality/check",
								60000)) >= 0)
		{
			n++;
			usleep(5 * 1000);	/* each in service before the next */
		}
	for (int round = 0; round < 4; round++)
	{
		char	   *body;
		int64_t		t0 = trib_clock_mono_ms();
		int			got;

		for (int i = 0; i < n; i++)
			if (fds[i] >= 0 && write(fds[i], " ", 1) != 1)
			{
				close(fds[i]);
				fds[i] = -1;
			}
		got = exchange(s.port, "GET", "/health", "Host: localhost\r\n", NULL, 0, 2000, &body);
		if (got != 200)
			print_message("round %d: /health got %d after %lld ms with %d trickling "
						  "connections\n", round, got,
						  (long long) (trib_clock_mono_ms() - t0), n);
		expect(got, body, 200, "ok", "health while bodies trickle");
		usleep(1000 * 1000);
	}
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	stop(&s);
}

/* Host values that name loopback, and some that do not. */
static void
test_host_names(void **state)
{
	static const char *const yes[] = {
		"localhost", "LOCALHOST:8080", "127.0.0.1", "127.0.0.1:8080", "127.1.2.3:1",
		"[::1]", "[::1]:8080", NULL
	};
	static const char *const no[] = {
		"evil.example", "evil.example:8080", "localhost.evil.example", "127.0.0.1.evil.example",
		"127.0.0.256", "127.0.0", "128.0.0.1", "0.0.0.0", "[::2]", "[::1]x", "localhost:",
		"localhost:80x", "", "[::ffff:127.0.0.1]", NULL
	};

	(void) state;
	assert_true(trib_bearer_host_is_loopback(NULL));
	for (int i = 0; yes[i] != NULL; i++)
		if (!trib_bearer_host_is_loopback(yes[i]))
			fail_msg("\"%s\" should name loopback", yes[i]);
	for (int i = 0; no[i] != NULL; i++)
		if (trib_bearer_host_is_loopback(no[i]))
			fail_msg("\"%s\" should not name loopback", no[i]);
}

/*
 * DNS rebinding: a page at evil.example whose name now resolves to
 * 127.0.0.1 sends "Host: evil.example".  Open reads of both APIs are 401
 * to it (the token still works); to "Host: localhost" they are open.
 */
static void
test_open_reads_need_a_loopback_host(void **state)
{
	static const char *const paths[] = {"/subjects", "/api/v1/rules"};
	server		s;
	char	   *body;
	int			got;

	(void) state;
	start(&s, 65536);
	for (int i = 0; i < 2; i++)
	{
		got = exchange(s.port, "GET", paths[i], "Host: evil.example:8080\r\n", NULL, 0, 5000,
					   &body);
		expect(got, body, 401, "Bearer", paths[i]);
		got = exchange(s.port, "GET", paths[i], "Host: evil.example:8080\r\n"
					   "Authorization: Bearer " TOKEN "\r\n", NULL, 0, 5000, &body);
		if (got == 401 || got == 0)
			fail_msg("%s with the token: got %d [%s]", paths[i], got, body ? body : "");
		free(body);
		got = exchange(s.port, "GET", paths[i], "Host: localhost:8080\r\n", NULL, 0, 5000,
					   &body);
		if (got == 401 || got == 0)
			fail_msg("%s to localhost: got %d [%s]", paths[i], got, body ? body : "");
		free(body);
	}
	stop(&s);
}

/* The whole of a file (malloc'd; "" when unreadable). */
static char *
slurp(const char *path)
{
	trib_strbuf b = {0};
	char		buf[4096];
	size_t		n;
	FILE	   *f = fopen(path, "r");

	trib_strbuf_adds(&b, "");
	while (f != NULL && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		trib_strbuf_add(&b, buf, n);
	if (f != NULL)
		fclose(f);
	return trib_strbuf_finish(&b);
}

/*
 * An unreachable catalog, read without a token on loopback: the registry
 * answers 50001 "the schema catalog is unavailable" and the control API's
 * lineage read 503 "the lineage catalog is unavailable"; neither body
 * names the catalog's socket path (libpq's message does), and the
 * daemon's log has libpq's message for both.
 */
static void
test_unreachable_catalog_is_not_described(void **state)
{
	static const struct
	{
		const char *path;
		int			status;
		const char *message;
	}			cases[] = {
		{"/subjects", 500, "{\"error_code\":50001,\"message\":\"the schema catalog is unavailable\"}"},
		{"/subjects/x/versions/latest", 500, "the schema catalog is unavailable"},
		{"/api/v1/lineage/flow", 503, "\"error\":\"the lineage catalog is unavailable\""},
		{"/api/v1/lineage/a/upstream", 503, "the lineage catalog is unavailable"},
	};
	char		logpath[] = "/tmp/test_api_limits_log_XXXXXX";
	char		err[256];
	int			fd = mkstemp(logpath);
	server		s;
	char	   *log;

	(void) state;
	assert_true(fd >= 0);
	close(fd);
	assert_true(trib_log_open(TRIB_LOG_WARN, TRIB_LOG_TEXT, logpath, err, sizeof(err)));
	start(&s, 65536);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char	   *body;
		int			got = exchange(s.port, "GET", cases[i].path, "Host: localhost\r\n", NULL,
								  0, 10000, &body);

		if (body != NULL && strstr(body, DEAD_SOCKET_DIR) != NULL)
			fail_msg("%s: the answer names the catalog's socket: %s", cases[i].path, body);
		expect(got, body, cases[i].status, cases[i].message, cases[i].path);
	}
	stop(&s);
	trib_log_close();
	trib_log_set_level(TRIB_LOG_ERROR);
	log = slurp(logpath);
	unlink(logpath);
	if (strstr(log, "cannot connect to the catalog: ") == NULL ||
		strstr(log, "cannot connect to the lineage catalog: ") == NULL ||
		strstr(log, DEAD_SOCKET_DIR) == NULL)
		fail_msg("the log should have libpq's messages, naming %s; it has:\n%s",
				 DEAD_SOCKET_DIR, log);
	free(log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_depth_check),
		cmocka_unit_test(test_deep_nesting_is_refused),
		cmocka_unit_test(test_trickled_bodies_do_not_starve_health),
		cmocka_unit_test(test_host_names),
		cmocka_unit_test(test_open_reads_need_a_loopback_host),
		cmocka_unit_test(test_unreachable_catalog_is_not_described),
	};

	trib_log_set_level(TRIB_LOG_ERROR);
	signal(SIGPIPE, SIG_IGN);	/* writes to connections the server closed */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
