/*
 * mysql_infoschema.h: table descriptions read from information_schema, the
 * loader behind the schema history (mysql_schema.h), and the server's
 * collation ids.
 *
 * Design.  One ordinary connection (not the binlog dump's), opened on
 * first use and again after it is lost, reads a table's columns in ordinal
 * order with their DATA_TYPE, unsigned-ness, collation id, ENUM/SET
 * members (parsed from COLUMN_TYPE, where quotes are doubled), generated
 * flag and place in the primary key.  MariaDB's JSON columns are LONGTEXT
 * with a column CHECK constraint json_valid(`col`), which is how they are
 * recognised; MySQL's have DATA_TYPE json.  Database and table names are
 * bound parameters.
 *
 * A reader's connection is used from one thread at a time: the source's
 * table lookups run on a thread of their own with a reader of its own
 * (mysql_lookup.h), only when a table is first seen or after a DDL; the
 * start's collations and the snapshot use readers of their own.
 *
 * Errors carry the server's (or the client library's) error number along
 * with the message, so the source can tell a lost or refused connection
 * (trib_my_error_retryable(): reconnect and resume) from anything else
 * (a syntax or permission error: fail).
 */
#ifndef TRIB_MYSQL_INFOSCHEMA_H
#define TRIB_MYSQL_INFOSCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "mysql_binlog.h"
#include "mysql_conn.h"
#include "mysql_schema.h"

typedef struct trib_my_infoschema trib_my_infoschema;

/* A reader for the server conf points at (copied; connects lazily). */
trib_my_infoschema *trib_my_infoschema_new(const trib_my_conn_conf *conf);
void		trib_my_infoschema_free(trib_my_infoschema *is);

/* The loader function for trib_my_history_new(is's address as arg);
 * on failure *errnum (may be NULL) is the connect's or the query's error
 * number. */
bool		trib_my_infoschema_load(void *is, const char *db, const char *table,
									trib_my_tableinfo **out, unsigned *errnum,
									char *errbuf, size_t errlen);

/* Teach the decoder every collation id the server knows; false with
 * errbuf and *errnum (as above) when they could not be read. */
bool		trib_my_infoschema_collations(trib_my_infoschema *is,
										  trib_my_decoder *d, unsigned *errnum,
										  char *errbuf, size_t errlen);

#endif							/* TRIB_MYSQL_INFOSCHEMA_H */
