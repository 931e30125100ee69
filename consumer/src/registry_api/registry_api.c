/*
 * registry_api.c: requests of the schema registry API, from the HTTP
 * server's access handler to a handler's answer.
 *
 * libmicrohttpd calls the access handler once when the headers are in,
 * once per piece of body, and once more when the body is complete.  On the
 * first call this file decides what it can without the body: whether the
 * path is the registry's, whether the token is needed and right (reads
 * open on loopback are open only to a Host that names loopback, bearer.h),
 * whether the content type is JSON and whether the announced length
 * exceeds `max_body_bytes` (answered at once: the body is never read).  A body
 * without a length that grows past the limit is dropped as it arrives and
 * answered 413 at its end.  Then the body is parsed (yajl's tree parser,
 * refused with 400 when nested deeper than TRIB_JDOC_MAX_DEPTH, or when it
 * holds a NUL byte or a string with \u0000, which yajl decodes into a C
 * string that would end there: a schema cut short, registered without a
 * word) and the path routed to one of the handlers (registry_api_subjects.c,
 * registry_api_misc.c), which fill a regapi_resp; a 405 names the path's
 * methods in Allow.
 *
 * Paths are split into at most REGAPI_MAX_SEGMENTS segments; the HTTP
 * server decodes every escape but %2F and %25 (lib/urlpath.h), which are
 * decoded in each segment after the split, so a subject may hold any
 * character, '/' included (/subjects/a%2Fb/versions is subject "a/b").
 * A segment that is not UTF-8 once decoded is refused with 400 (the
 * catalog would refuse the text, and say so only as a 500).
 */
#include "registry_api.h"
#include "registry_api_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "bearer.h"
#include "jsondoc.h"
#include "log.h"
#include "mhd_reply.h"
#include "urlpath.h"
#include "utf8.h"
#include "words.h"
#include "xalloc.h"

struct trib_regapi
{
	regapi_store store;
	regapi_cache *cache;
	trib_bearer token;			/* writes need it */
	bool		open_reads;		/* conf: reads may be open on loopback */
	bool		reads_open;		/* reads need no token (set once listening,
								 * read by the HTTP thread: atomic) */
	size_t		max_body;
};

/* One request in progress (*con_cls). */
typedef struct pending
{
	char	   *path;			/* the URL, split in place into segments */
	const char *seg[REGAPI_MAX_SEGMENTS];
	int			nseg;			/* REGAPI_MAX_SEGMENTS + 1: too many */
	trib_strbuf body;
	bool		too_big;
} pending;

/* The first segments of the registry's paths. */
static const char *const roots[] = {"subjects", "schemas", "config", "compatibility", NULL};

/* Create the API the config asks for; see registry_api.h. */
bool
trib_regapi_setup(const trib_config *cfg, trib_regapi **out, char *errbuf, size_t errlen)
{
	const trib_schema_registry_conf *conf = &cfg->schema_registry;
	const char *dsn = trib_config_dsn_or_checkpoint(cfg, conf->dsn);
	trib_regapi *api;

	*out = NULL;
	if (!conf->enabled)
		return true;
	if (!cfg->http.enabled)
	{
		snprintf(errbuf, errlen, "schema_registry.enabled needs the http endpoint "
				 "(http.enabled: true)");
		return false;
	}
	if (dsn == NULL)
	{
		snprintf(errbuf, errlen, "schema_registry needs a dsn (the checkpoint keeps no "
				 "catalog dsn to default to)");
		return false;
	}
	api = trib_xcalloc(1, sizeof(*api));
	api->store.dsn = trib_xstrdup(dsn);
	api->cache = regapi_cache_new();
	trib_bearer_init(&api->token, conf->token);
	api->open_reads = conf->open_reads;
	api->max_body = (size_t) conf->max_body_bytes;
	*out = api;
	return true;
}

/* Where the server listens; see registry_api.h. */
void
trib_regapi_listening_on(trib_regapi *api, const char *address)
{
	bool		loopback = trib_bearer_addr_is_loopback(address);

	__atomic_store_n(&api->reads_open, api->open_reads && loopback, __ATOMIC_RELEASE);
	tlog_info("registry", "schema registry API: writes need the token%s; reads %s",
			  api->token.set ? "" : " (none configured: read-only)",
			  api->open_reads && loopback ? "are open on loopback" : "need the token");
}

/* Free; see registry_api.h. */
void
trib_regapi_free(trib_regapi *api)
{
	if (api == NULL)
		return;
	regapi_store_close(&api->store);
	regapi_cache_free(api->cache);
	OPENSSL_cleanse(api->store.dsn, strlen(api->store.dsn));
	free(api->store.dsn);
	trib_bearer_clear(&api->token);
	free(api);
}

/* Is the path's first segment one of the registry's? */
static bool
is_registry_path(const char *url)
{
	size_t		len;

	while (*url == '/')
		url++;
	len = strcspn(url, "/");
	return trib_words_find_span(roots, url, len) >= 0;
}

/* Split a path into segments. */
static void
split_path(pending *p)
{
	char	   *save = NULL;

	for (char *t = strtok_r(p->path, "/", &save); t != NULL; t = strtok_r(NULL, "/", &save))
	{
		if (p->nseg == REGAPI_MAX_SEGMENTS)
		{
			p->nseg++;
			break;
		}
		trib_url_unescape_segment(t);
		p->seg[p->nseg++] = t;
	}
}

/* Does the request change the catalog? */
static bool
is_write(const char *method, const pending *p)
{
	if (strcmp(method, MHD_HTTP_METHOD_PUT) == 0 || strcmp(method, MHD_HTTP_METHOD_DELETE) == 0)
		return true;
	/* POST /subjects/{s}/versions registers; the other POSTs only read */
	return strcmp(method, MHD_HTTP_METHOD_POST) == 0 && p->nseg == 3 &&
		strcmp(p->seg[0], "subjects") == 0 && strcmp(p->seg[2], "versions") == 0;
}

/* Is the bearer token the configured one?  (bearer.h) */
static bool
token_ok(const trib_regapi *api, struct MHD_Connection *conn)
{
	return trib_bearer_ok(&api->token, MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
																   MHD_HTTP_HEADER_AUTHORIZATION));
}

/* Is the request's content type one a Confluent client sends (or none)? */
static bool
content_type_ok(struct MHD_Connection *conn)
{
	static const char *const accepted[] = {
		REGAPI_CONTENT_TYPE, "application/vnd.schemaregistry+json", "application/json",
		"application/octet-stream", NULL
	};
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
												 MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t		len;

	if (ct == NULL)
		return true;
	len = strcspn(ct, "; \t");
	return trib_words_find_span_ci(accepted, ct, len) >= 0;
}

/* Queue an answer; frees its body. */
static int
send_resp(struct MHD_Connection *conn, regapi_resp *r)
{
	size_t		len = r->body.len;
	char	   *body = trib_strbuf_finish(&r->body);
	struct MHD_Response *m = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);

	if (m == NULL)
	{
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, REGAPI_CONTENT_TYPE);
	MHD_add_response_header(m, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (r->status == 401)
		MHD_add_response_header(m, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	if (r->status == 405 && r->allow != NULL)
		MHD_add_response_header(m, MHD_HTTP_HEADER_ALLOW, r->allow);
	return trib_mhd_queue(conn, r->status, m);
}

/* Queue a Confluent error. */
static int
send_error(struct MHD_Connection *conn, int code, const char *msg)
{
	regapi_resp r = {0};

	regapi_error(&r, code, "%s", msg);
	return send_resp(conn, &r);
}

/* first_call(): no answer yet, read the body. */
#define GO_ON (-2)

/* The checks made before any body is read: GO_ON, or the answer's MHD
 * result. */
static int
first_call(const trib_regapi *api, struct MHD_Connection *conn, const char *method,
		   const pending *p)
{
	const char *len = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
												  MHD_HTTP_HEADER_CONTENT_LENGTH);
	bool		write = is_write(method, p);
	bool		open = __atomic_load_n(&api->reads_open, __ATOMIC_ACQUIRE) &&
		trib_bearer_host_is_loopback(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
																 MHD_HTTP_HEADER_HOST));

	if (write && !api->token.set)
		return send_error(conn, REGAPI_E_UNAUTHORIZED, "Writes are disabled: no "
						  "schema_registry.token is configured");
	if ((write || !open) && !token_ok(api, conn))
		return send_error(conn, REGAPI_E_UNAUTHORIZED, "Unauthorized: this request needs "
						  "'Authorization: Bearer <token>' with the configured token "
						  "(reads are open only on loopback, to a Host of localhost or "
						  "127.0.0.1)");
	if (!content_type_ok(conn))
		return send_error(conn, REGAPI_E_MEDIA_TYPE, "Unsupported content type: send "
						  REGAPI_CONTENT_TYPE " or application/json");
	if (len != NULL && strtoull(len, NULL, 10) > api->max_body)
		return send_error(conn, REGAPI_E_TOO_LARGE, "Request body too large");
	return GO_ON;
}

/* Is the query argument `key` "true"? */
static bool
arg_true(struct MHD_Connection *conn, const char *key)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);

	return v != NULL && strcasecmp(v, "true") == 0;
}

/* Route a complete request to its handler. */
static void
route(const regapi_req *q, regapi_resp *r)
{
	const char *root = q->seg[0];

	if (q->nseg > REGAPI_MAX_SEGMENTS)
		regapi_error(r, REGAPI_E_NOT_FOUND, "HTTP 404 Not Found");
	else if (strcmp(root, "subjects") == 0)
		regapi_subjects(q, r);
	else if (strcmp(root, "compatibility") == 0)
		regapi_compatibility(q, r);
	else if (strcmp(root, "config") == 0)
		regapi_config(q, r);
	else
		regapi_schemas(q, r);
}

/* Does the JSON text hold the escape \u0000 in a string?  yajl decodes it
 * to a NUL byte that ends the C string the tree keeps, so a schema or a
 * type after it would be cut short without a word. */
static bool
has_nul_escape(const char *text)
{
	bool		in_string = false;

	for (const char *c = text; *c != '\0'; c++)
	{
		if (!in_string)
			in_string = *c == '"';
		else if (*c == '"')
			in_string = false;
		else if (*c == '\\' && c[1] != '\0')
		{
			if (c[1] == 'u' && strncmp(c + 2, "0000", 4) == 0)
				return true;
			c++;
		}
	}
	return false;
}

/* The index of the first path segment that is not UTF-8, or -1.  The
 * catalog refuses such text, and a subject is always UTF-8. */
static int
bad_segment(const pending *p)
{
	for (int i = 0; i < p->nseg && i < REGAPI_MAX_SEGMENTS; i++)
		if (!trib_utf8_valid(p->seg[i], strlen(p->seg[i])))
			return i;
	return -1;
}

/* The request is complete: parse the body, serve, queue the answer. */
static int
serve(trib_regapi *api, struct MHD_Connection *conn, const char *method, pending *p)
{
	regapi_req	q = {0};
	regapi_resp r = {0};
	char		err[256];
	int			ret;

	if (p->too_big)
		return send_error(conn, REGAPI_E_TOO_LARGE, "Request body too large");
	if (bad_segment(p) >= 0)
	{
		regapi_error(&r, REGAPI_E_BAD_REQUEST, "Malformed path: segment %d is not valid "
					 "UTF-8 once percent-decoded", bad_segment(p) + 1);
		return send_resp(conn, &r);
	}
	q.method = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 ? MHD_HTTP_METHOD_GET : method;
	memcpy(q.seg, p->seg, sizeof(q.seg));
	q.nseg = p->nseg;
	q.store = &api->store;
	q.cache = api->cache;
	q.deleted = arg_true(conn, "deleted");
	q.permanent = arg_true(conn, "permanent");
	q.verbose = arg_true(conn, "verbose");
	q.default_to_global = arg_true(conn, "defaultToGlobal");
	if (p->body.len > 0)
	{
		if (strlen(p->body.data) != p->body.len)
			return send_error(conn, REGAPI_E_BAD_REQUEST, "Malformed JSON: the body holds a NUL byte");
		if (has_nul_escape(p->body.data))
			return send_error(conn, REGAPI_E_BAD_REQUEST, "Malformed JSON: a string of the "
							  "body holds \\u0000 (a NUL character)");
		q.body = trib_jdoc_parse_bounded(p->body.data, err, sizeof(err));
		if (q.body == NULL)
		{
			regapi_error(&r, REGAPI_E_BAD_REQUEST, "Malformed JSON: %s", err);
			return send_resp(conn, &r);
		}
	}
	route(&q, &r);
	yajl_tree_free(q.body);
	if (r.status == 200 && strcmp(q.method, MHD_HTTP_METHOD_DELETE) == 0)
		regapi_cache_clear(api->cache);	/* a schema may be gone */
	tlog_debug("registry", "%s %s: %u", method, p->seg[0], r.status);
	ret = send_resp(conn, &r);
	return ret;
}

/* The access handler; see registry_api.h. */
int
trib_regapi_handle(void *arg, struct MHD_Connection *conn, const char *url,
				   const char *method, const char *upload_data, size_t *upload_data_size,
				   void **con_cls)
{
	trib_regapi *api = arg;
	pending    *p = *con_cls;
	int			ret;

	if (p == NULL)
	{
		if (!is_registry_path(url))
			return TRIB_REGAPI_NOT_MINE;
		p = trib_xcalloc(1, sizeof(*p));
		p->path = trib_xstrdup(url);
		split_path(p);
		*con_cls = p;
		ret = first_call(api, conn, method, p);
		return ret != GO_ON ? ret : MHD_YES;
	}
	if (*upload_data_size > 0)
	{
		if (!p->too_big && p->body.len + *upload_data_size <= api->max_body)
			trib_strbuf_add(&p->body, upload_data, *upload_data_size);
		else
		{
			p->too_big = true;
			trib_strbuf_free(&p->body);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	return serve(api, conn, method, p);
}

/* Free a request's state; see registry_api.h. */
void
trib_regapi_request_done(void *arg, void *request)
{
	pending    *p = request;

	(void) arg;
	if (p == NULL)
		return;
	trib_strbuf_free(&p->body);
	free(p->path);
	free(p);
}

/* ---- request helpers for the handlers ---- */

/* A member of the body object as a string. */
const char *
regapi_body_str(const regapi_req *q, const char *key)
{
	yajl_val	v;

	if (q->body == NULL || !YAJL_IS_OBJECT(q->body))
		return NULL;
	for (size_t i = 0; i < q->body->u.object.len; i++)
		if (strcmp(q->body->u.object.keys[i], key) == 0)
		{
			v = q->body->u.object.values[i];
			return YAJL_IS_STRING(v) ? v->u.string : NULL;
		}
	return NULL;
}

/* Is the body's "references" member absent or empty? */
static bool
no_references(const regapi_req *q)
{
	for (size_t i = 0; i < q->body->u.object.len; i++)
		if (strcmp(q->body->u.object.keys[i], "references") == 0)
		{
			yajl_val	v = q->body->u.object.values[i];

			return YAJL_IS_NULL(v) || (YAJL_IS_ARRAY(v) && v->u.array.len == 0);
		}
	return true;
}

/* The schema and type of a body; see registry_api_int.h. */
bool
regapi_body_schema(const regapi_req *q, regapi_resp *r, const char **schema, const char **type)
{
	const char *t;

	if (q->body == NULL || !YAJL_IS_OBJECT(q->body))
	{
		regapi_error(r, REGAPI_E_BAD_REQUEST, "The request body must be a JSON object "
					 "with a \"schema\" string");
		return false;
	}
	*schema = regapi_body_str(q, "schema");
	if (*schema == NULL || (*schema)[0] == '\0')
	{
		regapi_error(r, REGAPI_E_INVALID_SCHEMA, "Empty schema: the body needs a "
					 "\"schema\" string holding the schema document");
		return false;
	}
	t = regapi_body_str(q, "schemaType");
	if (t == NULL)
		t = "AVRO";				/* Confluent's default */
	if (strcasecmp(t, "AVRO") != 0 && strcasecmp(t, "JSON") != 0)
	{
		regapi_error(r, REGAPI_E_INVALID_SCHEMA, "Invalid schema type %s: accepted are "
					 "AVRO and JSON", t);
		return false;
	}
	if (!no_references(q))
	{
		regapi_error(r, REGAPI_E_INVALID_SCHEMA, "Schema references are not supported");
		return false;
	}
	*type = strcasecmp(t, "AVRO") == 0 ? "AVRO" : "JSON";
	return true;
}

/* A version segment; see registry_api_int.h. */
int64_t
regapi_parse_version(const char *text, regapi_resp *r)
{
	char	   *end;
	long long	v;

	if (strcmp(text, "latest") == 0 || strcmp(text, "-1") == 0)
		return 0;
	v = strtoll(text, &end, 10);
	if (text[0] >= '0' && text[0] <= '9' && *end == '\0' && v >= 1 && v <= INT32_MAX)
		return v;
	regapi_error(r, REGAPI_E_INVALID_VERSION, "The specified version '%s' is not a valid "
				 "version id. Allowed values are between [1, 2^31-1] and the string \"latest\"",
				 text);
	return -1;
}
