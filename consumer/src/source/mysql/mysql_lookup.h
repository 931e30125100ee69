/*
 * mysql_lookup.h: table lookups in information_schema (mysql_infoschema.h)
 * on a thread of their own, so a stalled server never holds the
 * pipeline's loop.
 *
 * Design.  The decoder asks the schema history for a table's version when
 * a TABLE_MAP event names a table it does not know yet (its first rows,
 * or the first after a DDL), and the history asks its loader.  Asked on
 * the loop, the query held every source of the pipeline while the MySQL
 * server stalled: up to its connect timeout (10 s) or its read timeout
 * (30 s) for a stopped (SIGSTOP) or overloaded server (e2e 103).  So the
 * loader given to the history is trib_my_lookup_load(): the first call for
 * a table hands the question to the thread and fails at once with
 * *errnum TRIB_MY_LOOKUP_PENDING; the caller keeps the event and decodes
 * it again once trib_my_lookup_wait() says an answer is in, and that call
 * takes the answer (the table, "no such table", or the error, whose
 * number the source sorts with trib_my_error_retryable() as before).
 * Decoding a TABLE_MAP changes nothing before its lookup, so doing it
 * again is safe.  One question is in flight at a time; an answer for
 * another table than the one asked next is dropped.
 *
 * The thread owns its own information_schema reader (its own connection,
 * opened on first use and again after it is lost).
 *
 * Stopping.  trib_my_lookup_free() never waits for a query in flight: the
 * thread is then detached and frees everything itself when the query
 * ends (at most its timeouts), or the process exits first.
 */
#ifndef TRIB_MYSQL_LOOKUP_H
#define TRIB_MYSQL_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>

#include "mysql_conn.h"
#include "mysql_tableinfo.h"

/* *errnum of trib_my_lookup_load() while the answer is not in: no MySQL
 * or client error number (those stay below 10000). */
#define TRIB_MY_LOOKUP_PENDING 0xfffffff0u

typedef struct trib_my_lookup trib_my_lookup;

/* A lookup thread for the server conf names (conf copied); NULL with
 * errbuf when the thread could not start. */
trib_my_lookup *trib_my_lookup_new(const trib_my_conn_conf *conf,
								   char *errbuf, size_t errlen);

/* Stop the thread (not waiting for a query in flight) and free. */
void		trib_my_lookup_free(trib_my_lookup *l);

/*
 * The loader for trib_my_history_new() (l as arg), as
 * trib_my_infoschema_load(): true with *out (NULL: no such table), or
 * false with errbuf and *errnum; *errnum TRIB_MY_LOOKUP_PENDING when the
 * question went to the thread, or is still there: call again later.
 */
bool		trib_my_lookup_load(void *l, const char *db, const char *table,
								trib_my_tableinfo **out, unsigned *errnum,
								char *errbuf, size_t errlen);

/* Wait up to timeout_ms (0: do not wait) for the answer to the question
 * in flight; true when there is one to take (or nothing is asked). */
bool		trib_my_lookup_wait(trib_my_lookup *l, int timeout_ms);

/* The stream that asked was dropped: a failed answer, in or still to
 * come, is not handed out (the next stream asks again). */
void		trib_my_lookup_forget(trib_my_lookup *l);

#endif							/* TRIB_MYSQL_LOOKUP_H */
