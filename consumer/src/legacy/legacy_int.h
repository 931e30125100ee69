/*
 * legacy_int.h: what legacy.c (the format and its translation) and
 * legacy_conn.c (connections: resolving database names, the same-database
 * test, the in-place checks) share.  Internal to those two files.
 */
#ifndef TRIB_LEGACY_INT_H
#define TRIB_LEGACY_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "legacy.h"

/*
 * The connection string of a source_db / dest_db value (malloc'd): a bare
 * database name on the server `base` gives (NULL or "": libpq's defaults)
 * with its dbname replaced, *literal set (the result must not go through
 * ${ENV} expansion); a postgres:// URI or a conninfo (key=value) as
 * written, *literal false.  NULL and `why` for a MongoDB URI or a base
 * libpq cannot parse.  The value itself is never put into `why`.
 */
char	   *lg_resolve_db(const char *value, const char *base, bool *literal,
						  char *why, size_t whylen);

/* Check a server URI (TRIBUTARY_SOURCE_URI, --dest-uri, ...) named `from`:
 * libpq parses it and it is not a MongoDB URI.  Registers its password
 * with the log's redaction.  false and `why` otherwise. */
bool		lg_check_base(const char *uri, const char *from, char *why, size_t whylen);

/* Do two connection strings name the same host, port and database?  (The
 * offline guess; trib_legacy_preflight() finds out for sure.) */
bool		lg_same_db(const char *a, const char *b);

/* Why a step of `type` over these tables (schema.table) cannot rewrite
 * them in place, or NULL. */
const char *lg_in_place_refusal(const char *type, char *const *tables, size_t ntables);

/* A connection string to show a person: key='value' pairs, password
 * '***' (malloc'd). */
char	   *lg_shown(const char *dsn);

#endif							/* TRIB_LEGACY_INT_H */
