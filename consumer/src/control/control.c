/*
 * control.c: requests of the control API, from the HTTP server's route
 * hook to a JSON answer; see control.h.
 *
 * libmicrohttpd calls the handler once when the headers are in, once per
 * piece of body and once more at the end.  The first call decides what
 * can be decided without the body: whether the path is an endpoint,
 * whether the method is one it takes (405 with Allow), whether the token
 * is needed and right (401; reads open on loopback are open only to a
 * Host header that names loopback, see bearer.h), and whether an
 * announced body is larger than
 * the limit (413, never read).  A body without a length that grows past
 * the limit is dropped as it arrives and answered 413 at its end.  A body
 * with a NUL byte is 400 (the JSON parser would stop there: a row cut
 * short, or "premature EOF"), and so is a path that is not UTF-8 once
 * decoded (a lineage asset named so was the catalog's error, a 503).  The
 * endpoint runs at the last call.
 *
 * Endpoints are rows of `endpoints` below: path, method, write or read,
 * whether a body is taken, and the function that writes the document.
 * Endpoints with a name in their path (pause, lineage) match a pattern
 * and read the rest of the path themselves.
 */
#include "control.h"
#include "control_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "bearer.h"
#include "log.h"
#include "mhd_reply.h"
#include "strbuf.h"
#include "utf8.h"
#include "xalloc.h"

#define CTL_PREFIX "/api/v1/"

struct trib_control
{
	const trib_config *cfg;
	trib_control_status_fn status;
	void	   *status_arg;
	trib_bearer token;
	bool		reads_open;		/* set once listening; read on the HTTP thread */
	size_t		max_body;
	ctl_ext		ext;			/* pause hook (control_int.h) */
	trib_control_reload_fn reload;	/* POST reload, or NULL */
	void	   *reload_arg;
};

typedef struct ctl_endpoint
{
	const char *path;			/* after /api/v1/; a pattern (ctl_path_match) */
	const char *method;			/* GET (HEAD too) or POST */
	bool		write;			/* needs the token, always */
	ctl_endpoint_fn fn;
} ctl_endpoint;

/* One request in progress (its con_cls). */
typedef struct ctl_request
{
	const ctl_endpoint *ep;
	size_t		body_len;		/* bytes received */
	trib_strbuf body;			/* kept for the endpoints that take one */
	bool		too_big;
} ctl_request;

static void serve_pipeline(trib_control *api, ctl_resp *r);
static void serve_rules(trib_control *api, ctl_resp *r);
static void serve_reload(trib_control *api, ctl_resp *r);

static const ctl_endpoint endpoints[] = {
	{"pipeline", MHD_HTTP_METHOD_GET, false, serve_pipeline},
	{"rules", MHD_HTTP_METHOD_GET, false, serve_rules},
	{"sources/*/pause", MHD_HTTP_METHOD_POST, true, ctl_serve_pause},
	{"sources/*/resume", MHD_HTTP_METHOD_POST, true, ctl_serve_pause},
	{"sinks/*/pause", MHD_HTTP_METHOD_POST, true, ctl_serve_pause},
	{"sinks/*/resume", MHD_HTTP_METHOD_POST, true, ctl_serve_pause},
	{"lineage/flow", MHD_HTTP_METHOD_GET, false, ctl_serve_lineage_flow},
	{"lineage/**/upstream", MHD_HTTP_METHOD_GET, false, ctl_serve_lineage},
	{"lineage/**/downstream", MHD_HTTP_METHOD_GET, false, ctl_serve_lineage},
	{"lineage/**/impact", MHD_HTTP_METHOD_GET, false, ctl_serve_lineage},
	{"quality/check", MHD_HTTP_METHOD_POST, false, ctl_serve_quality},
	{"reload", MHD_HTTP_METHOD_POST, true, serve_reload},
	{NULL, NULL, false, NULL}
};

/* The API; see control.h. */
trib_control *
trib_control_new(const trib_config *cfg, trib_control_status_fn status, void *status_arg)
{
	trib_control *api = trib_xcalloc(1, sizeof(*api));

	api->cfg = cfg;
	api->status = status;
	api->status_arg = status_arg;
	trib_bearer_init(&api->token, cfg->http.token);
	api->max_body = (size_t) cfg->http.max_body_bytes;
	return api;
}

/* Where the server listens; see control.h. */
void
trib_control_listening_on(trib_control *api, const char *address)
{
	bool		open = api->cfg->http.open_reads && trib_bearer_addr_is_loopback(address);

	__atomic_store_n(&api->reads_open, open, __ATOMIC_RELEASE);
	tlog_info("control", "control API on /api/v1/: reads %s; %s",
			  open ? "are open on loopback" : "need the token",
			  api->token.set ? "a token is configured" : "no token configured (http.token)");
}

/* The pause hook; see control.h. */
void
trib_control_set_pause(trib_control *api, trib_control_pause_fn fn, void *arg)
{
	api->ext.pause = fn;
	api->ext.pause_arg = arg;
}

/* The quality hook; see control.h. */
void
trib_control_set_quality(trib_control *api, trib_control_quality_fn fn, void *arg)
{
	api->ext.quality = fn;
	api->ext.quality_arg = arg;
}

/* Does the endpoint take a body (the others answer 400 to one)? */
static bool
takes_body(const ctl_endpoint *e)
{
	return e->fn == ctl_serve_quality;
}

/* Free; see control.h. */
void
trib_control_free(trib_control *api)
{
	if (api == NULL)
		return;
	trib_bearer_clear(&api->token);
	free(api);
}

/* Queue r's document (or the error text in it) and free the generator. */
static int
send_resp(struct MHD_Connection *conn, ctl_resp *r, const char *allow)
{
	const unsigned char *buf;
	size_t		len;
	char	   *body;
	struct MHD_Response *m;

	yajl_gen_get_buf(r->g, &buf, &len);
	body = trib_xmalloc(len + 1);
	memcpy(body, buf, len);
	body[len++] = '\n';
	yajl_gen_free(r->g);
	m = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (m == NULL)
	{
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(m, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (r->status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(m, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	if (allow != NULL)
		MHD_add_response_header(m, MHD_HTTP_HEADER_ALLOW, allow);
	return trib_mhd_queue(conn, r->status, m);
}

/* Start an answer. */
static void
resp_init(ctl_resp *r, unsigned status)
{
	memset(r, 0, sizeof(*r));
	r->status = status;
	r->g = yajl_gen_alloc(NULL);
}

/* Make r an error: {"error": msg, "status": N}. */
static void
resp_error(ctl_resp *r, unsigned status, const char *fmt,...)
	__attribute__((format(printf, 3, 4)));

static void
resp_error(ctl_resp *r, unsigned status, const char *fmt,...)
{
	char		msg[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctl_resp_error(r, status, msg);
}

/* See control_int.h. */
void
ctl_resp_error(ctl_resp *r, unsigned status, const char *msg)
{
	yajl_gen_free(r->g);
	r->status = status;
	r->g = yajl_gen_alloc(NULL);
	yajl_gen_map_open(r->g);
	ctl_gen_kv(r->g, "error", msg);
	ctl_gen_str(r->g, "status");
	yajl_gen_integer(r->g, status);
	yajl_gen_map_close(r->g);
}

/* Queue an error answer at once. */
static int
send_error(struct MHD_Connection *conn, unsigned status, const char *allow, const char *msg)
{
	ctl_resp	r;

	resp_init(&r, status);
	resp_error(&r, status, "%s", msg);
	return send_resp(conn, &r, allow);
}

/* GET /api/v1/pipeline */
static void
serve_pipeline(trib_control *api, ctl_resp *r)
{
	char	   *status = api->status != NULL ? api->status(api->status_arg) : NULL;

	if (!ctl_doc_pipeline(r->g, api->cfg, status))
		resp_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "the pipeline's status is not valid JSON");
	free(status);
}

/* GET /api/v1/rules */
static void
serve_rules(trib_control *api, ctl_resp *r)
{
	ctl_doc_rules(r->g, api->cfg);
}

/* POST /api/v1/reload (control_reload.c writes the answer) */
static void
serve_reload(trib_control *api, ctl_resp *r)
{
	r->status = ctl_doc_reload(r->g, api->reload, api->reload_arg);
}

/* Serve reloads; see control.h. */
void
trib_control_on_reload(trib_control *api, trib_control_reload_fn fn, void *arg)
{
	api->reload = fn;
	api->reload_arg = arg;
}

/* The endpoint at `rest` (the path after /api/v1/), or NULL. */
static const ctl_endpoint *
find_endpoint(const char *rest)
{
	for (const ctl_endpoint *e = endpoints; e->path != NULL; e++)
		if (ctl_path_match(e->path, rest))
			return e;
	return NULL;
}

/* Does the method fit the endpoint (HEAD fits GET)? */
static bool
method_ok(const ctl_endpoint *e, const char *method)
{
	return strcmp(method, e->method) == 0 ||
		(strcmp(e->method, MHD_HTTP_METHOD_GET) == 0 &&
		 strcmp(method, MHD_HTTP_METHOD_HEAD) == 0);
}

/* May this request read without the token: reads open on loopback, and
 * its Host names loopback (not a web page rebinding its name to us)? */
static bool
reads_open(trib_control *api, struct MHD_Connection *conn)
{
	return __atomic_load_n(&api->reads_open, __ATOMIC_ACQUIRE) &&
		trib_bearer_host_is_loopback(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
																 MHD_HTTP_HEADER_HOST));
}

/* The checks made before any body is read: 0 to go on, else the MHD result
 * of the answer sent (stored + 1 so that MHD_NO is not 0). */
static int
first_call(trib_control *api, struct MHD_Connection *conn, const char *url,
		   const char *method, ctl_request *q)
{
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
												   MHD_HTTP_HEADER_AUTHORIZATION);
	const char *len = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
												  MHD_HTTP_HEADER_CONTENT_LENGTH);
	char		msg[300];

	q->ep = find_endpoint(url + strlen(CTL_PREFIX));
	if (q->ep == NULL)
	{
		snprintf(msg, sizeof(msg), "no endpoint %.200s (docs/API.md lists them)", url);
		return 1 + send_error(conn, MHD_HTTP_NOT_FOUND, NULL, msg);
	}
	if (!method_ok(q->ep, method))
	{
		bool		get = strcmp(q->ep->method, MHD_HTTP_METHOD_GET) == 0;

		snprintf(msg, sizeof(msg), "%.200s takes %s", url, get ? "GET or HEAD" : q->ep->method);
		return 1 + send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
							  get ? "GET, HEAD" : q->ep->method, msg);
	}
	if ((q->ep->write || !reads_open(api, conn)) && !trib_bearer_ok(&api->token, auth))
		return 1 + send_error(conn, MHD_HTTP_UNAUTHORIZED, NULL, api->token.set
							  ? "this request needs 'Authorization: Bearer <token>' with "
							  "the token of http.token_file (reads are open only on "
							  "loopback, to a Host of localhost or 127.0.0.1)"
							  : "this request needs a token, and none is configured "
							  "(set http.token_file)");
	if (len != NULL && strtoull(len, NULL, 10) > api->max_body)
		return 1 + send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
							  "request body larger than http.max_body_bytes");
	/* a name in the path goes to the catalog, which refuses such text */
	if (!trib_utf8_valid(url, strlen(url)))
		return 1 + send_error(conn, MHD_HTTP_BAD_REQUEST, NULL,
							  "the path is not UTF-8 once percent-decoded");
	return 0;
}

/* The request is complete: run the endpoint. */
static int
serve(trib_control *api, struct MHD_Connection *conn, const char *url, const char *method,
	  ctl_request *q)
{
	ctl_resp	r;

	if (q->too_big)
		return send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
						  "request body larger than http.max_body_bytes");
	if (q->body_len > 0 && !takes_body(q->ep))
		return send_error(conn, MHD_HTTP_BAD_REQUEST, NULL, "this endpoint takes no body");
	if (q->body.len > 0 && memchr(q->body.data, '\0', q->body.len) != NULL)
		return send_error(conn, MHD_HTTP_BAD_REQUEST, NULL, "the body holds a NUL byte");
	resp_init(&r, MHD_HTTP_OK);
	r.cfg = api->cfg;
	r.ext = &api->ext;
	r.conn = conn;
	r.rest = url + strlen(CTL_PREFIX);
	r.body = q->body.data;
	r.body_len = q->body.len;
	q->ep->fn(api, &r);
	tlog_debug("control", "%s %s: %u", method, q->ep->path, r.status);
	return send_resp(conn, &r, NULL);
}

/* The route hook; see control.h. */
int
trib_control_handle(void *arg, struct MHD_Connection *conn, const char *url,
					const char *method, const char *upload_data, size_t *upload_data_size,
					void **con_cls)
{
	trib_control *api = arg;
	ctl_request *q = *con_cls;
	int			sent;

	if (q == NULL)
	{
		if (strncmp(url, CTL_PREFIX, strlen(CTL_PREFIX)) != 0)
			return TRIB_CONTROL_NOT_MINE;
		q = trib_xcalloc(1, sizeof(*q));
		*con_cls = q;
		sent = first_call(api, conn, url, method, q);
		return sent ? sent - 1 : MHD_YES;
	}
	if (*upload_data_size > 0)
	{
		q->body_len += *upload_data_size;
		if (q->body_len > api->max_body)
			q->too_big = true;
		else if (q->ep != NULL && takes_body(q->ep))
			trib_strbuf_add(&q->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return serve(api, conn, url, method, q);
}

/* Free a request's state; see control.h. */
void
trib_control_request_done(void *arg, void *request)
{
	ctl_request *q = request;

	(void) arg;
	if (q != NULL)
		trib_strbuf_free(&q->body);
	free(q);
}
