/*
 * http_conf.c: the `http` section of pipeline.yaml, owned by the
 * monitoring endpoint (http.h): its key table, the listen address's check
 * and the finish function that splits it into host and port.
 *
 * Design.  The server and its settings live together, so the section's
 * doc text can name the server's limits (TRIB_HTTP_*) and a new setting is
 * one row here.  The loader (config/) cannot include pipeline/, so the
 * section is declared in config_keys.h, as the transform rules' tables
 * are, and the top level's `http` row and the reference reach it there;
 * the settings struct, trib_http_conf, is part of trib_config (config.h).
 *
 * Adding a key: a field in trib_http_conf and one row below; run
 * `make -C consumer doc`.
 */
#include "config.h"
#include "config_keys.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "xalloc.h"

static bool check_listen(const char *value, char *msg, size_t msglen);
static void finish_http(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
						const char *path, void *base, const char *name);

/* A macro's value as a string literal, for the docs. */
#define CK_STR_(x) #x
#define CK_STR(x) CK_STR_(x)

static const ck_key http_keys[] = {
	CK_ROW(trib_http_conf, enabled, CK_BOOL, 0, .def = "true",
		.desc = "serve `/health` and `/metrics`"),
	CK_ROW(trib_http_conf, listen, CK_STRING, 0, .def = "127.0.0.1:8080",
		.check = check_listen, .doc_type = "address:port",
		.desc = "where to listen: `host:port`, `[ipv6]:port`, or a port alone for "
		"127.0.0.1; `0.0.0.0:8080` listens on every interface; port 0 picks a free one"),
	CK_ROW(trib_http_conf, token, CK_STRING, CK_SECRET, .check = ck_check_token,
		.doc_type = "string",
		.desc = "bearer token of the control API (`/api/v1/...`, docs/API.md; use "
		"`token_file`): write endpoints need it, and reads too unless they are open"),
	CK_ROW(trib_http_conf, open_reads, CK_BOOL, 0, .def = "true",
		.desc = "control API reads need no token while the endpoint listens on a "
		"loopback address and the request's Host names loopback (`localhost`, "
		"127.0.0.0/8, `[::1]`: no DNS rebinding); `false`, or any other address: "
		"reads need the token too"),
	CK_ROW(trib_http_conf, max_body_bytes, CK_INT, 0, .def = "65536",
		.min = 1024, .max = 16777216,
		.desc = "largest control API request body; a larger one is answered 413"),
	CK_ROW(trib_http_conf, tls_cert_file, CK_STRING, 0, .doc_type = "path",
		.desc = "PEM certificate (chain) file: with `tls_key_file`, the endpoint speaks "
		"HTTPS only (GnuTLS, through libmicrohttpd)"),
	CK_ROW(trib_http_conf, tls_key_file, CK_STRING, 0, .doc_type = "path",
		.desc = "PEM private key file of `tls_cert_file` (read once at start; keep it "
		"mode 0600)"),
	CK_END_ROW
};

/* See config_keys.h. */
const ck_section ck_http_section = {
	.doc_title = "`http`",
	.what = "the http section",
	.keys = http_keys,
	.finish = finish_http,
	.doc_intro = "The monitoring endpoint. It listens on the loopback interface only "
	"unless told otherwise. It keeps up to " CK_STR(TRIB_HTTP_MAX_CONNECTIONS)
	" connections; one that sends nothing for " CK_STR(TRIB_HTTP_IDLE_TIMEOUT_S)
	" s is closed (every answer says so with a `Keep-Alive: timeout=` header one second "
	"less, so that clients drop an idle connection first), and " CK_STR(TRIB_HTTP_RESERVED) " slots are kept free by closing the "
	"connection idle longest, so idle or half-sent requests cannot keep `/health` "
	"from answering.",
};

/*
 * Parse "host:port", "[v6]:port", ":port" or "port" (host 127.0.0.1).
 * *host is malloc'd (when host is not NULL).
 */
static bool
parse_listen(const char *value, char **host, int *port, char *msg, size_t msglen)
{
	const char *colon = strrchr(value, ':');
	const char *h = value;
	size_t		hlen;
	const char *ps = colon ? colon + 1 : value;
	long		pv = 0;

	if (value[0] == '[')
	{
		const char *close = strchr(value, ']');

		if (close == NULL || close[1] != ':' || close == value + 1)
		{
			snprintf(msg, msglen, "invalid listen address \"%s\" (accepted: host:port, "
					 "[ipv6]:port or a port)", value);
			return false;
		}
		h = value + 1;
		hlen = (size_t) (close - h);
		ps = close + 2;
	}
	else if (colon == NULL)
		hlen = 0;
	else
	{
		hlen = (size_t) (colon - value);
		if (memchr(value, ':', hlen) != NULL)
		{
			snprintf(msg, msglen, "invalid listen address \"%s\": write an IPv6 address "
					 "in brackets, as in [::1]:8080", value);
			return false;
		}
	}
	if (*ps == '\0' || strlen(ps) > 5 || strspn(ps, "0123456789") != strlen(ps) ||
		(pv = strtol(ps, NULL, 10)) > 65535)
	{
		snprintf(msg, msglen, "invalid port in listen address \"%s\" (accepted: 0 to 65535)",
				 value);
		return false;
	}
	for (size_t i = 0; i < hlen; i++)
	{
		if (isspace((unsigned char) h[i]) || h[i] == '/' || h[i] == '[' || h[i] == ']')
		{
			snprintf(msg, msglen, "invalid host in listen address \"%s\"", value);
			return false;
		}
	}
	if (host != NULL)
		*host = hlen ? trib_xstrndup(h, hlen) : trib_xstrdup("127.0.0.1");
	if (port != NULL)
		*port = (int) pv;
	return true;
}

static bool
check_listen(const char *value, char *msg, size_t msglen)
{
	return parse_listen(value, NULL, NULL, msg, msglen);
}

/* Split listen into host and port (validated by check_listen). */
static void
finish_http(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at, const char *path,
			void *base, const char *name)
{
	trib_http_conf *h = base;
	char		msg[256];

	(void) map;
	(void) name;
	if ((h->tls_cert_file == NULL) != (h->tls_key_file == NULL))
		ck_error(c, at, path, "tls_cert_file and tls_key_file go together: give both "
				 "for HTTPS, or neither");
	if (h->listen != NULL)
		parse_listen(h->listen, &h->host, &h->port, msg, sizeof(msg));
}
