/*
 * snapshot_tables.h: which tables a snapshot reads, and how (columns,
 * types, key, queries).  Used by snapshot.c; see snapshot_tables.c.
 */
#ifndef TRIB_SNAPSHOT_TABLES_H
#define TRIB_SNAPSHOT_TABLES_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "snapshot.h"

/*
 * Does schema.table match one of the patterns (the plugin's
 * include-tables syntax: "schema.table", '*' and '?' wildcards outside
 * double quotes, a quoted part literal)?  A malformed pattern matches
 * nothing and sets *bad.
 */
bool		trib_snap_pattern_match(const char *pattern, const char *schema,
									const char *table, bool *bad);

/*
 * List the tables under conn's current snapshot: the permanent user
 * tables the stream would capture (leaf tables, or partition roots with
 * publish_via_root), filtered by conf->include/exclude, largest first,
 * with their columns, types and key.  *out is a new array of *n entries.
 */
bool		trib_snap_tables_load(PGconn *conn, const trib_snapshot_conf *conf,
								  trib_snapenc enc, trib_snap_table **out, int *n,
								  char *errbuf, size_t errlen);

/* The chunk query of a table: first (no key yet) or next (after $1..). */
char	   *trib_snap_table_sql(PGconn *conn, const trib_snap_table *t,
								bool next, int limit);

void		trib_snap_tables_free(trib_snap_table *t, int n);

#endif							/* TRIB_SNAPSHOT_TABLES_H */
