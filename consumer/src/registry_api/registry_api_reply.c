/*
 * registry_api_reply.c: the JSON answers of the schema registry API and
 * Confluent's error documents.
 *
 * Every body is written with yajl_gen (strings escaped by yajl, never by
 * hand).  An error is {"error_code": N, "message": "..."}, its HTTP status
 * the first three digits of N (40401 -> 404) or N itself (409, 422).
 * Messages from the catalog are PostgreSQL's own when they name the
 * schema problem (409, 404xx, 422xx).  A 50001 says only that the catalog
 * failed or is unavailable: libpq's messages name the catalog's host,
 * port or socket path, and reads may be open to anyone on loopback, so the
 * detail goes to the daemon's log (secrets redacted there) instead.
 */
#include "registry_api_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "utf8.h"

/* The HTTP status of a Confluent error code. */
static unsigned
status_of(int code)
{
	return code >= 10000 ? (unsigned) (code / 100) : (unsigned) code;
}

/* A new generator: compact output, UTF-8 validated. */
yajl_gen
regapi_gen(void)
{
	yajl_gen	g = yajl_gen_alloc(NULL);

	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	return g;
}

/* The generator's text as the 200 answer; frees g. */
void
regapi_ok(regapi_resp *r, yajl_gen g)
{
	const unsigned char *buf;
	size_t		len;

	trib_strbuf_free(&r->body);
	if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
	{
		yajl_gen_free(g);
		regapi_error(r, REGAPI_E_STORE, "the answer could not be written as JSON");
		return;
	}
	trib_strbuf_add(&r->body, (const char *) buf, len);
	r->status = 200;
	yajl_gen_free(g);
}

/* A string value; ill-formed UTF-8 (an error message quoting what a client
 * sent, cut at its limit) is written with U+FFFD in place of each bad byte. */
void
regapi_gen_str(yajl_gen g, const char *s)
{
	char	   *clean;

	if (yajl_gen_string(g, (const unsigned char *) s, strlen(s)) == yajl_gen_status_ok)
		return;
	clean = trib_utf8_scrub(s, strlen(s));
	yajl_gen_string(g, (const unsigned char *) clean, strlen(clean));
	free(clean);
}

/* "key": "value". */
void
regapi_gen_key_str(yajl_gen g, const char *key, const char *value)
{
	regapi_gen_str(g, key);
	regapi_gen_str(g, value);
}

/* "key": number. */
void
regapi_gen_key_int(yajl_gen g, const char *key, long long value)
{
	regapi_gen_str(g, key);
	yajl_gen_integer(g, value);
}

/* {"error_code": code, "message": ...}. */
void
regapi_error(regapi_resp *r, int code, const char *fmt,...)
{
	char		msg[3072];
	va_list		ap;
	yajl_gen	g = regapi_gen();
	const unsigned char *buf;
	size_t		len;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	yajl_gen_map_open(g);
	regapi_gen_key_int(g, "error_code", code);
	regapi_gen_key_str(g, "message", msg);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	trib_strbuf_free(&r->body);
	trib_strbuf_add(&r->body, (const char *) buf, len);
	yajl_gen_free(g);
	r->status = status_of(code);
}

/* 405 with Allow. */
void
regapi_not_allowed(regapi_resp *r, const char *allow)
{
	regapi_error(r, REGAPI_E_METHOD, "HTTP 405 Method Not Allowed: this path takes %s", allow);
	r->allow = allow;
}

/* The answer to the store's last failure. */
void
regapi_store_error(regapi_resp *r, const regapi_store *s, int invalid_code)
{
	if (strcmp(s->sqlstate, "TS409") == 0)
		regapi_error(r, REGAPI_E_INCOMPATIBLE,
					 "Schema being registered is incompatible with an earlier schema: %s%s%s",
					 s->message, s->detail[0] ? "; " : "", s->detail);
	else if (strncmp(s->sqlstate, "TS40", 4) == 0 && s->sqlstate[4] >= '1' &&
			 s->sqlstate[4] <= '8')
		regapi_error(r, 40400 + (s->sqlstate[4] - '0'), "%s", s->message);
	else if (strcmp(s->sqlstate, "22023") == 0 || strcmp(s->sqlstate, "22P02") == 0 ||
			 strcmp(s->sqlstate, "22004") == 0)
		regapi_error(r, invalid_code, "%s", s->message);
	else if (s->unavailable)
		regapi_error(r, REGAPI_E_STORE, "the schema catalog is unavailable");
	else
	{
		/* the store logged an unreachable catalog already; this is a
		 * statement the catalog refused */
		tlog_warn("registry", "the catalog failed a statement (SQLSTATE %s): %s%s%s",
				  s->sqlstate[0] ? s->sqlstate : "none", s->message,
				  s->detail[0] ? "; " : "", s->detail);
		regapi_error(r, REGAPI_E_STORE, "Error in the backend data store");
	}
}
