/*
 * registry_api.h: a REST API compatible with Confluent Schema Registry,
 * served on the daemon's HTTP endpoint and backed by the catalog.
 *
 * What it is.  The registry's catalog lives in the tributary extension
 * (docs/SCHEMA_REGISTRY.md, sections 4 and 5); this room answers
 * Confluent's REST calls from it, so Confluent's clients and serializers
 * can register, look up and check schemas against tributary:
 * /subjects..., /compatibility/..., /config..., /schemas/... (the full list,
 * error codes and auth are in docs/SCHEMA_REGISTRY.md, section 6).
 *
 * How it plugs in.  pipeline/http.c serves /health and /metrics; it hands
 * every request to trib_regapi_handle() first (its `route` hook), which
 * answers the registry's paths and returns TRIB_REGAPI_NOT_MINE for the
 * rest.  Request bodies are collected here, up to the configured limit.
 * Both callbacks run on the HTTP thread only.
 *
 * Security.  Writes (registering, deleting, setting a level) need
 * `Authorization: Bearer <token>` with the configured token (compared in
 * constant time, never logged).  Reads are open when the server listens on
 * a loopback address and `open_reads` is on, to requests whose Host names
 * loopback (no DNS rebinding, bearer.h); otherwise they need the token
 * too.  Without a token configured the API is read-only.
 *
 * Includes: lib and config only (and libmicrohttpd, libpq, yajl).
 */
#ifndef TRIB_REGISTRY_API_H
#define TRIB_REGISTRY_API_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* trib_regapi_handle(): the path is not the registry's. */
#define TRIB_REGAPI_NOT_MINE (-1)

struct MHD_Connection;
typedef struct trib_regapi trib_regapi;

/*
 * The API the config asks for: *out is NULL when schema_registry is off.
 * Its catalog is schema_registry.dsn, else the checkpoint's dsn.  False
 * with errbuf filled when it is on but has no dsn or no http endpoint.
 * Connects on the first request, not here.  Reads need the token until
 * trib_regapi_listening_on() says the address is loopback.
 */
bool		trib_regapi_setup(const trib_config *cfg, trib_regapi **out, char *errbuf,
							  size_t errlen);

/* The HTTP server listens on `address` (numeric): reads are open when it
 * is a loopback address and open_reads is on. */
void		trib_regapi_listening_on(trib_regapi *api, const char *address);

/*
 * libmicrohttpd's access handler, for the registry's paths: an
 * enum MHD_Result, or TRIB_REGAPI_NOT_MINE (nothing done) for any other
 * path.  `arg` is the trib_regapi.  Keeps per-request state in *con_cls,
 * which trib_regapi_request_done() frees.
 */
int			trib_regapi_handle(void *arg, struct MHD_Connection *conn, const char *url,
							   const char *method, const char *upload_data,
							   size_t *upload_data_size, void **con_cls);

/* A request ended (answered or not): free its state (NULL ok). */
void		trib_regapi_request_done(void *arg, void *request);

/* Close the catalog connection and free; NULL ok.  Call after the HTTP
 * server has stopped. */
void		trib_regapi_free(trib_regapi *api);

#endif							/* TRIB_REGISTRY_API_H */
