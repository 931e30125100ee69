/*
 * registry_api_int.h: what the files of registry_api/ share; nothing
 * outside the folder includes it.
 *
 * Layout.  registry_api.c receives requests from the HTTP server (body,
 * token, content type) and routes them; registry_api_subjects.c serves
 * /subjects, registry_api_misc.c /compatibility, /config and /schemas;
 * registry_api_reply.c builds the JSON answers and Confluent's errors;
 * registry_api_store.c is the one connection to the catalog;
 * registry_api_cache.c keeps schemas by id.
 *
 * A handler gets the parsed request (path segments, body) and fills one
 * regapi_resp: a status and a JSON body.  It never talks to
 * libmicrohttpd; registry_api.c queues the answer.
 */
#ifndef TRIB_REGISTRY_API_INT_H
#define TRIB_REGISTRY_API_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "strbuf.h"

/* Confluent's error codes (the HTTP status is the code / 100 when it has
 * five digits, the code itself otherwise). */
#define REGAPI_E_BAD_REQUEST 400	/* malformed JSON, wrong shape */
#define REGAPI_E_UNAUTHORIZED 40101 /* no or wrong token */
#define REGAPI_E_NOT_FOUND 404		/* no such endpoint */
#define REGAPI_E_SUBJECT_NOT_FOUND 40401
#define REGAPI_E_VERSION_NOT_FOUND 40402
#define REGAPI_E_SCHEMA_NOT_FOUND 40403
#define REGAPI_E_SUBJECT_SOFT_DELETED 40404
#define REGAPI_E_SUBJECT_NOT_SOFT_DELETED 40405
#define REGAPI_E_VERSION_SOFT_DELETED 40406
#define REGAPI_E_VERSION_NOT_SOFT_DELETED 40407
#define REGAPI_E_SUBJECT_NO_CONFIG 40408
#define REGAPI_E_METHOD 405
#define REGAPI_E_INCOMPATIBLE 409
#define REGAPI_E_TOO_LARGE 413
#define REGAPI_E_MEDIA_TYPE 415
#define REGAPI_E_INVALID_SCHEMA 42201
#define REGAPI_E_INVALID_VERSION 42202
#define REGAPI_E_INVALID_LEVEL 42203
#define REGAPI_E_STORE 50001
#define REGAPI_E_UNSUPPORTED 50101	/* the installed extension lacks it */

#define REGAPI_CONTENT_TYPE "application/vnd.schemaregistry.v1+json"
#define REGAPI_MAX_SEGMENTS 6
#define REGAPI_CACHE_SLOTS 4096	/* schemas by id kept in memory */

/* Schemas by id (registry_api_cache.c). */
typedef struct regapi_cache regapi_cache;

/* One answer: status and JSON text. */
typedef struct regapi_resp
{
	unsigned	status;
	trib_strbuf body;
	const char *allow;			/* a 405's Allow header (a literal) */
} regapi_resp;

/* The catalog connection (registry_api_store.c); HTTP thread only. */
typedef struct regapi_store
{
	char	   *dsn;			/* owned; a secret */
	PGconn	   *conn;			/* NULL until the first request */
	bool		has_deleted;	/* schema_versions_with_deleted (0.5) exists */
	bool		has_delete_fns; /* tributary.delete_subject() exists */
	const char *versions_rel;	/* every version, with a `deleted` column */
	/* the last failed statement */
	bool		unavailable;	/* the catalog could not be reached (logged) */
	char		sqlstate[6];
	char		message[512];
	char		detail[2048];
} regapi_store;

/* One parsed request. */
typedef struct regapi_req
{
	const char *method;			/* GET (HEAD is served as GET), POST, ... */
	const char *seg[REGAPI_MAX_SEGMENTS];	/* path segments, into `path` */
	int			nseg;
	yajl_val	body;			/* the parsed JSON body, or NULL */
	bool		deleted;		/* ?deleted=true */
	bool		permanent;		/* ?permanent=true */
	bool		verbose;		/* ?verbose=true */
	bool		default_to_global;	/* ?defaultToGlobal=true */
	regapi_store *store;
	regapi_cache *cache;
} regapi_req;

/* ---- answers (registry_api_reply.c) ---- */

/* A Confluent error: {"error_code": code, "message": ...}. */
void		regapi_error(regapi_resp *r, int code, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* 405 for a known path and another method, with the methods the path
 * takes (`allow`, a literal: "GET, HEAD") in the Allow header. */
void		regapi_not_allowed(regapi_resp *r, const char *allow);

/* The error for the store's last failure: SQLSTATE 22023/22P02/22004
 * (a refused value) gives `invalid_code`, TS409 gives 409 with the
 * violations, TS401..TS408 (extension 0.5) 40401..40408, anything else
 * 50001 with a fixed message (the catalog's own is logged, never
 * answered: it may name the catalog's host, port or socket path). */
void		regapi_store_error(regapi_resp *r, const regapi_store *s, int invalid_code);

/* A JSON generator and the 200 answer made from it (frees g). */
yajl_gen	regapi_gen(void);
void		regapi_ok(regapi_resp *r, yajl_gen g);

/* yajl_gen helpers. */
void		regapi_gen_str(yajl_gen g, const char *s);
void		regapi_gen_key_str(yajl_gen g, const char *key, const char *value);
void		regapi_gen_key_int(yajl_gen g, const char *key, long long value);

/* ---- the catalog (registry_api_store.c) ---- */

/* Run one statement with bound text parameters (NULL is SQL NULL).
 * Returns the result (tuples or command OK), or NULL with the failure in
 * s->sqlstate/message/detail.  `retry`: after a lost connection,
 * reconnect and run it once more (reads and idempotent writes). */
PGresult   *regapi_exec(regapi_store *s, const char *sql, int nparams,
						const char *const *params, bool retry);

/* Like regapi_exec; the statement's text has one %s where the
 * schema_versions relation (with a `deleted` column) goes. */
PGresult   *regapi_exec_versions(regapi_store *s, const char *sql_fmt, int nparams,
								 const char *const *params, bool retry);

/* Connect when not connected (and learn which parts of the SQL API the
 * extension has); false with the failure in s->message (logged) and
 * s->unavailable set. */
bool		regapi_store_connect(regapi_store *s);

/* Close the connection; NULL ok. */
void		regapi_store_close(regapi_store *s);

/* ---- schemas by id (registry_api_cache.c) ---- */

regapi_cache *regapi_cache_new(void);

/* The cached type and schema of an id (owned by the cache), or false. */
bool		regapi_cache_get(regapi_cache *c, int64_t id, const char **type,
							 const char **schema);

/* Remember an id's type and schema (copied). */
void		regapi_cache_put(regapi_cache *c, int64_t id, const char *type,
							 const char *schema);

/* The rendered answer of GET /schemas/ids/{id} for a cached id (owned by
 * the cache, *len bytes), or NULL when it is not cached or not rendered
 * yet. */
const char *regapi_cache_answer(regapi_cache *c, int64_t id, size_t *len);

/* Keep the rendered answer of a cached id (copied; ignored when the id is
 * not cached). */
void		regapi_cache_set_answer(regapi_cache *c, int64_t id, const char *answer,
									size_t len);

/* Forget every id (after a delete). */
void		regapi_cache_clear(regapi_cache *c);
void		regapi_cache_free(regapi_cache *c);

/* ---- request helpers (registry_api.c) ---- */

/* The body's member `key` as a string, or NULL when absent or not one. */
const char *regapi_body_str(const regapi_req *q, const char *key);

/* The schema and its type from a body {"schema": "...", "schemaType": ...};
 * false with the error answered (42201) when they are missing or the type
 * is not one the catalog knows (JSON, AVRO; absent means AVRO). */
bool		regapi_body_schema(const regapi_req *q, regapi_resp *r, const char **schema,
							   const char **type);

/* A version segment: "latest" or -1 give 0; 1 .. 2^31-1 the number;
 * anything else answers 42202 and returns -1. */
int64_t		regapi_parse_version(const char *text, regapi_resp *r);

/* ---- handlers ---- */

/* The row of a subject's version ("latest" included; soft-deleted ones
 * too when `deleted`): version, id, schema_type, schema, deleted.  NULL
 * with the answer filled (40401, 40402, 42202, or the store's error). */
PGresult   *regapi_find_version(const regapi_req *q, regapi_resp *r, const char *subject,
								const char *version, bool deleted);

/* /subjects... (registry_api_subjects.c). */
void		regapi_subjects(const regapi_req *q, regapi_resp *r);

/* /compatibility..., /config..., /schemas... (registry_api_misc.c). */
void		regapi_compatibility(const regapi_req *q, regapi_resp *r);
void		regapi_config(const regapi_req *q, regapi_resp *r);
void		regapi_schemas(const regapi_req *q, regapi_resp *r);

#endif							/* TRIB_REGISTRY_API_INT_H */
