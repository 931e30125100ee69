/*
 * erasure_int.h: the parts of the erasure module (erasure.h), private to
 * erasure*.c and their tests.
 *
 *   erasure.c        the guard and the dispatch; requests (source side);
 *                    table descriptions from the source's catalog
 *   erasure_row.c    key rows read back from the stream: checked against
 *                    a table description, rewritten into events (no I/O,
 *                    so it is unit-tested and fuzzed on its own)
 *   erasure_audit.c  the audit log: lines, the subject's HMAC, the file
 */
#ifndef TRIB_ERASURE_INT_H
#define TRIB_ERASURE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <yajl/yajl_tree.h>

#include "config.h"
#include "event.h"
#include "strbuf.h"

/* A target table as the source's catalog describes it (all malloc'd). */
typedef struct er_table
{
	char	   *schema;
	char	   *table;
	int			ncols;
	char	  **cols;			/* names, in column order */
	char	  **types;			/* format_type() of each column */
	int			nkey;
	int		   *key;			/* indexes into cols, in key order: the
								 * replica identity index, else the primary
								 * key; the columns of event keys */
} er_table;

void		er_table_free(er_table *t);

/* A key row: the `after` image of an insert into tributary.erasure_keys. */
typedef struct er_keyrow
{
	yajl_val	doc;			/* the parsed image; owns the rest */
	const char *request_id;		/* digits */
	const char *schema;
	const char *table;
	yajl_val	key;			/* an object */
} er_keyrow;

/*
 * Read a key row from an image.  NULL when it is well-formed, else the
 * reason it is refused (static text); er_keyrow_free() either way.
 */
const char *er_keyrow_read(const char *after, er_keyrow *row);
void		er_keyrow_free(er_keyrow *row);

/*
 * Check the row's key against t (exactly t's key columns, each a non-null
 * scalar) and rewrite ev in place into the delete, or for `anonymize` the
 * update (the key, every other column of t null), of schema.table
 * (strings that outlive ev).  NULL when done; else the reason (static
 * text) and ev is untouched.
 */
const char *er_keyrow_apply(const er_keyrow *row, const er_table *t,
							trib_erasure_action action, trib_event *ev,
							const char *schema, const char *table);

/* ---- the audit log (erasure_audit.c) ------------------------------------- */

typedef struct er_audit er_audit;

/* The audit log of c (its path, mode and subject key); NULL and errbuf
 * when the key or the mode is unusable.  Nothing is opened yet. */
er_audit   *er_audit_new(const trib_erasure_conf *c, char *errbuf, size_t errlen);
void		er_audit_free(er_audit *a);

/* Start a line: {"ts":...,"event":EVENT,"position":"<event id>" */
void		er_audit_begin(trib_strbuf *line, const char *event, const trib_position *pos);

/* Append ,"subject_hmac":"<hex>"; false and errbuf when OpenSSL fails. */
bool		er_audit_subject(er_audit *a, trib_strbuf *line, const char *subject,
							 char *errbuf, size_t errlen);

/*
 * Close the line ('}') and append it to the log (opened and closed each
 * time, so the file may be rotated by moving it); durable: fsync.  false
 * and errbuf when it cannot be written.
 */
bool		er_audit_write(er_audit *a, trib_strbuf *line, bool durable,
						   char *errbuf, size_t errlen);

#endif							/* TRIB_ERASURE_INT_H */
