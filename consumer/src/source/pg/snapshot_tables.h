/*
 * snapshot_tables.h: which tables a snapshot reads, and how (columns,
 * types, key, queries).  Used by snapshot.c; see snapshot_tables.c.
 * The module's prefix is trib_snaptab_; trib_snapshot_conf is the
 * engine's (snapshot.h), only defined here.
 */
#ifndef TRIB_SNAPSHOT_TABLES_H
#define TRIB_SNAPSHOT_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "event.h"
#include "snapshot_format.h"

/* What a snapshot reads (snapshot.h's engine takes it; defined here,
 * below the engine, so that this file does not include snapshot.h). */
typedef struct trib_snapshot_conf
{
	const char *dsn;			/* the source's; may hold a password */
	const char *source_name;	/* trib_event.source */
	const char *db;				/* trib_event.db (the dsn's dbname) */
	const char *import_snapshot;	/* a name to import, or NULL: export */
	int			workers;		/* parallel connections, >= 1 */
	int			chunk_rows;		/* rows per query */
	size_t		buffer_bytes;	/* queue bound */
	const char *const *include; /* table patterns (NULL-terminated) or NULL */
	const char *const *exclude;
	const char *const *restrict_to; /* snapshot_tables: also must match */
	bool		publish_via_root;	/* plugin option publish-via-root */
	bool		bytea_hex;		/* plugin option bytea-encoding=hex */
	int64_t		ts_ms;			/* ts_ms of every event */
} trib_snapshot_conf;

/* One table as the engine reads it. */
typedef struct trib_snaptab_column
{
	char	   *name;
	char	   *json_key;		/* "name": under the encoding's rules */
	size_t		json_key_len;
	uint32_t	type_oid;
	trib_snapfmt_type *type;
	char	   *expr;			/* select expression (quoted, maybe cast) */
	bool		in_key;			/* part of the event key */
} trib_snaptab_column;

typedef struct trib_snaptab_table
{
	char	   *schema;
	char	   *table;
	char		relkind;
	double		estimate;		/* rows (reltuples), <0 unknown */
	int			ncols;
	trib_snaptab_column *cols;
	int			norder;			/* ordering key columns (0: cursor pass) */
	int		   *order;			/* their column indexes, in index order */
	trib_relation rel;			/* the events' ev->rel */
	/* where to start: */
	bool		skip;			/* already done */
	int			nafter;
	char	  **after;			/* resume after this key (texts) or NULL */
	bool		claimed;		/* a worker took it */
} trib_snaptab_table;

/*
 * Does schema.table match one of the patterns (the plugin's
 * include-tables syntax: "schema.table", '*' and '?' wildcards outside
 * double quotes, a quoted part literal)?  A malformed pattern matches
 * nothing and sets *bad.
 */
bool		trib_snaptab_pattern_match(const char *pattern, const char *schema,
									const char *table, bool *bad);

/*
 * List the tables under conn's current snapshot: the permanent user
 * tables the stream would capture (leaf tables, or partition roots with
 * publish_via_root), filtered by conf->include/exclude, largest first,
 * with their columns, types and key.  *out is a new array of *n entries.
 */
bool		trib_snaptab_load(PGconn *conn, const trib_snapshot_conf *conf,
								  trib_snapfmt_enc enc, trib_snaptab_table **out, int *n,
								  char *errbuf, size_t errlen);

/* The chunk query of a table: first (no key yet) or next (after $1..). */
char	   *trib_snaptab_sql(PGconn *conn, const trib_snaptab_table *t,
								bool next, int limit);

void		trib_snaptab_free(trib_snaptab_table *t, int n);

#endif							/* TRIB_SNAPSHOT_TABLES_H */
