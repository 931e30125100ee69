/*
 * sink_postgres.h: the PostgreSQL sink: applies changes to tables of
 * another PostgreSQL database, exactly once.
 *
 * What an event becomes (target table: `schema` option, else the event's
 * schema; same table name):
 *   c, r, u   upsert by primary key: INSERT ... ON CONFLICT (pk) DO UPDATE
 *             SET for the columns present in the row image; columns in
 *             ev->unchanged (unchanged TOAST) are neither inserted nor
 *             updated, so the target keeps their value.  An update whose
 *             old image carries a different key moves the row (UPDATE ...
 *             WHERE old key, else upsert).
 *   d         DELETE by primary key (from the old image, else ev->key);
 *             a delete that carries no key (REPLICA IDENTITY NOTHING) is
 *             skipped and counted (stats, tributary_sink_skipped_changes_total
 *             {reason="no_key"}) with a warning.
 *   t         TRUNCATE of the listed tables that exist in the target (no
 *             CASCADE; RESTART IDENTITY when the source did).
 *   m         nothing (the position still advances).
 *
 * A target table without a primary key: c and r append the row (INSERT);
 * u and d change one row equal to the old image (else ev->key) in every
 * column the image has -- NULL matches NULL, types without an equality
 * (json, xml, composites) compare as text -- found by (tableoid, ctid)
 * with LIMIT 1, so of two equal rows one changes, as in the source.  With
 * no image (REPLICA IDENTITY DEFAULT or NOTHING on a table without a key)
 * they are skipped and counted (reason "no_old_row").
 *
 * Values are bound parameters in text form (PQexecParams), typed with the
 * target column's type OID, never spliced into SQL.  JSON values become
 * PostgreSQL input text: strings as they are, numbers as their exact text,
 * true/false, objects and arrays as JSON text for json/jsonb columns,
 * arrays as array literals (elements quoted) for array columns, bytea from
 * base64 (or hex) to '\x...', ISO 8601 expanded years (-0043, +10000) to
 * PostgreSQL's (0044 BC, 10000), null to NULL -- except in a json/jsonb
 * column that is NOT NULL in the target or the source, where it can only
 * be JSON null.  A composite (or array of composites) column's value is
 * sent as JSON and built by the target with json_populate_record over the
 * table's row type, bytea and date/time fields at any depth rewritten
 * first.  Identifiers are quoted with PQescapeIdentifier.
 *
 * Batching.  Events are queued and applied in one transaction per batch of
 * up to batch_size events, or when the oldest queued event is batch_ms
 * old (checked in write() and poll()), or at flush().  Consecutive upserts
 * of one table with the same columns become one multi-row INSERT (a row
 * whose key is already in the statement starts a new one), consecutive
 * deletes one DELETE ... USING (VALUES ...), and the statements of a batch
 * go out in libpq pipeline mode: a batch costs two round trips whatever
 * its size.  docs in sink_postgres.c give the measurements behind this.
 * A large source transaction may span several batches; each batch is
 * consistent with the position stored with it.
 *
 * Exactly-once.  Each batch's transaction first advances the row
 * (pipeline, sink) of tributary_sink.positions (created if missing) to
 * the batch's last event id, guarded by "only forwards": if the stored id
 * is already at or past it (a replay, or another instance got there
 * first) nothing is applied, the position is read again, and the events it
 * covers are dropped.  durable_position() reports the stored id and write()
 * drops events at or before it, so replaying after a crash changes
 * nothing.  The sink acks the batch's last position after COMMIT.
 *
 * Tables.  The target's own catalog is the schema of record: columns,
 * their types (base types through domains) and the primary key are read
 * once per table and cached.  With create_tables, a missing table is
 * created from ev->rel (columns, types, NOT NULL primary key) and columns
 * of a newer relation version that the table lacks are added (ALTER TABLE
 * ADD COLUMN IF NOT EXISTS).  A type name from the source is used only if
 * the target resolves it (to_regtype) and it contains nothing but
 * letters, digits, spaces, quotes, '_', '.', ',', '(', ')' and '[]';
 * otherwise the target's own rendering of the type (without modifier) is
 * used.  A type the target does not have is an error naming the column,
 * the type and the ways out, or with unknown_as_text a text (text[])
 * column.  Without create_tables, a missing table or column is an error.
 *
 * Errors.  A lost connection is reconnected with backoff for up to
 * retry_ms and the batch retried (idempotent thanks to the position);
 * serialization failures and deadlocks are retried; a statement that
 * cannot update the same row twice falls back to one row per statement;
 * any other error fails the sink with the SQLSTATE, the message and the
 * table.  The message is logged without the row values the server put in
 * it (sink_postgres_errors.c) unless log_row_values is set.
 *
 * Threading: one thread drives a sink; acks are called from write, flush
 * and poll.
 */
#ifndef TRIB_SINK_POSTGRES_H
#define TRIB_SINK_POSTGRES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "sink.h"

#define TRIB_PGSINK_POSITIONS "tributary_sink.positions"

/* How a batch is turned into statements (tests and benchmarks). */
typedef enum trib_pgsink_mode
{
	TRIB_PGSINK_MULTIROW = 0,	/* multi-row statements (default) */
	TRIB_PGSINK_ROW = 1			/* one statement per event */
} trib_pgsink_mode;

typedef struct trib_pgsink_opts
{
	const char *dsn;			/* libpq conninfo or URI; required */
	const char *schema;			/* target schema; NULL or "": the event's */
	bool		create_tables;	/* create missing tables and columns */
	int			batch_size;		/* events per transaction; 0: 1000 */
	int			batch_ms;		/* oldest event's longest wait; <0: 100 */
	const char *pipeline;		/* positions key; NULL: "default" */
	const char *sink_name;		/* positions key; NULL: sink->name, else
								 * "postgres" */
	bool		bytea_hex;		/* the plugin writes bytea as hex */
	int			retry_ms;		/* reconnect/retry budget; 0: 30000; <0:
								 * forever */
	int			max_rows;		/* rows per statement; 0: 1000 */
	trib_pgsink_mode mode;
	bool		no_pipeline;	/* one round trip per statement */
	bool		table_from_route;	/* ev->topic, when set, names the table */
	bool		unknown_as_text;	/* create_tables: a type the target lacks
									 * becomes text (else an error) */
	bool		log_row_values; /* server errors logged as they are (else
								 * row values redacted) */
	struct trib_metrics *metrics;	/* skipped changes are counted here;
									 * NULL: none */
} trib_pgsink_opts;

typedef struct trib_pgsink_stats
{
	uint64_t	events;			/* events accepted by write() */
	uint64_t	skipped;		/* at or before the stored position */
	uint64_t	batches;		/* committed */
	uint64_t	statements;		/* data statements executed */
	uint64_t	rows_upserted;
	uint64_t	rows_deleted;
	uint64_t	truncates;
	uint64_t	reconnects;
	uint64_t	retries;
	uint64_t	tables_created;
	uint64_t	columns_added;
	uint64_t	skipped_no_key; /* deletes without the target's key */
	uint64_t	skipped_no_old_row; /* keyless tables: updates and deletes
									 * without the old row */
	uint64_t	catalog_reads;	/* target tables' columns read from the
								 * catalog */
} trib_pgsink_stats;

extern const trib_sink_ops trib_sink_postgres_ops;

/* Defaults: batch 1000 / 100 ms, mirror schemas, no create. */
void		trib_pgsink_opts_init(trib_pgsink_opts *opts);

/*
 * Connect, create tributary_sink.positions if missing, read the stored
 * position; sets sink->ops and sink->state.  The options are copied.
 */
bool		trib_pgsink_open_opts(trib_sink *sink, const trib_pgsink_opts *opts,
								  char *errbuf, size_t errlen);

/* Counters so far. */
void		trib_pgsink_get_stats(const trib_sink *sink, trib_pgsink_stats *out);

/*
 * Value conversion, exposed for unit tests.  `json` is one JSON value of
 * `len` bytes; kind is 't' (text-like), 'b' (bytea), 'j' (json/jsonb), 'd'
 * (date/timestamp: expanded years), 'a' (array of elem_kind).  Appends the
 * PostgreSQL input text to out (NUL-terminated) and sets *is_null; false
 * with errbuf on malformed JSON or a value PostgreSQL cannot hold.
 */
struct trib_strbuf;
bool		trib_pgsink_value_text(const char *json, size_t len, char kind,
								   char elem_kind, bool bytea_hex,
								   struct trib_strbuf *out, bool *is_null,
								   char *errbuf, size_t errlen);

/* The same for the value of column `name` of a row image whose JSON null
 * list (event.h) is json_nulls (NULL: none): a null the list names is the
 * JSON value null, not SQL NULL (kind 'j'; in arrays, element by element). */
bool		trib_pgsink_column_text(const char *name, const char *json_nulls,
									const char *json, size_t len, char kind,
									char elem_kind, struct trib_strbuf *out,
									bool *is_null, char *errbuf, size_t errlen);

/* The fields of a server error (libpq's PG_DIAG_*); NULL when absent. */
typedef struct trib_pgsink_errfields
{
	const char *severity;
	const char *sqlstate;
	const char *primary;
	const char *detail;
	const char *hint;
	const char *context;
} trib_pgsink_errfields;

/*
 * Append the text of a server error without the row values it may carry
 * ("ERROR:  message DETAIL:  detail HINT:  hint", see
 * sink_postgres_errors.c for what is kept), NUL-terminated; exposed for
 * unit tests.
 */
void		trib_pgsink_error_text(const trib_pgsink_errfields *f,
								   struct trib_strbuf *out);

#endif							/* TRIB_SINK_POSTGRES_H */
