/*
 * debezium.h: Debezium's value encodings for `format: debezium` on the
 * Kafka sink (issue 17; docs/FORMAT.md, "Debezium mode").
 *
 * Design.  Row images arrive as the source wrote them (tributary's value
 * types: numeric as a JSON number, times as ISO 8601 strings, json
 * embedded).  In Debezium mode each column value is re-encoded as the
 * Debezium PostgreSQL connector writes it through Kafka Connect's
 * JsonConverter: decimals as base64 of the unscaled two's complement
 * (or string/double), dates as epoch days, times and timestamps as epoch
 * millis or micros, json as a string, and so on, following the connector
 * options below, which keep Debezium's names and defaults.
 *
 * The parts, one file each (debezium_int.h is what lex and row share):
 *   debezium_types.c   a column's SQL type -> trib_dbz_coltype (what to
 *                      encode), per source connector: the mapper table.
 *                      PostgreSQL's and MySQL's (debezium_mysql.c); the
 *                      MongoDB connector maps no columns (its documents
 *                      are strings: debezium_mongo.c)
 *   debezium_values.c  one value -> its Debezium JSON (numbers, binary,
 *                      json, hstore, bits, point)
 *   debezium_time.c    dates, times, timestamps and intervals
 *   debezium_lex.c     a row image -> a Debezium row image, converted
 *                      while yajl lexes it
 *   debezium_row.c     the cache of each relation's column types and
 *                      rendered schemas (invalidated when the relation's
 *                      version changes), the typed TOAST placeholder
 *   debezium_txmeta.c  the BEGIN/END records of the transaction topic
 *   debezium_heartbeat.c  the heartbeat topic's records
 *   debezium_schema.c  the Connect `schema` part (schemas.enable): the
 *                      Value, Key and Envelope structs of a relation
 *   debezium_mongo.c   MongoDB events: documents as strings of the Java
 *                      driver's Extended JSON, the {id} key,
 *                      updateDescription and the Source struct's members
 *
 * Exact arithmetic: precise decimals go through lib/decimal (OpenSSL
 * BIGNUM), never through a double; time values are integer arithmetic.
 *
 * Ownership: a trib_dbz owns its cache; the output goes into the caller's
 * trib_strbuf.  Not thread-safe: one per envelope.
 */
#ifndef TRIB_DEBEZIUM_H
#define TRIB_DEBEZIUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "event.h"
#include "strbuf.h"

/* decimal.handling.mode */
typedef enum trib_dbz_decimal
{
	TRIB_DBZ_DECIMAL_PRECISE = 0,
	TRIB_DBZ_DECIMAL_STRING,
	TRIB_DBZ_DECIMAL_DOUBLE
} trib_dbz_decimal;

/* time.precision.mode */
typedef enum trib_dbz_time
{
	TRIB_DBZ_TIME_ADAPTIVE = 0,
	TRIB_DBZ_TIME_ADAPTIVE_MICROS,	/* adaptive_time_microseconds */
	TRIB_DBZ_TIME_CONNECT
} trib_dbz_time;

/* binary.handling.mode */
typedef enum trib_dbz_binary
{
	TRIB_DBZ_BINARY_BYTES = 0,	/* BYTES: base64 through the JsonConverter */
	TRIB_DBZ_BINARY_BASE64,
	TRIB_DBZ_BINARY_BASE64_URL, /* base64-url-safe */
	TRIB_DBZ_BINARY_HEX
} trib_dbz_binary;

/* interval.handling.mode */
typedef enum trib_dbz_interval
{
	TRIB_DBZ_INTERVAL_NUMERIC = 0,	/* MicroDuration */
	TRIB_DBZ_INTERVAL_STRING	/* io.debezium.time.Interval */
} trib_dbz_interval;

/* hstore.handling.mode */
typedef enum trib_dbz_hstore
{
	TRIB_DBZ_HSTORE_JSON = 0,	/* a string holding a JSON object */
	TRIB_DBZ_HSTORE_MAP			/* a JSON object (Connect MAP) */
} trib_dbz_hstore;

/* bigint.unsigned.handling.mode (MySQL) */
typedef enum trib_dbz_bigint_unsigned
{
	TRIB_DBZ_BIGINT_LONG = 0,	/* INT64: values above 2^63 - 1 wrap */
	TRIB_DBZ_BIGINT_PRECISE		/* Connect Decimal of scale 0 */
} trib_dbz_bigint_unsigned;

typedef struct trib_dbz_opts
{
	trib_dbz_decimal decimal;
	trib_dbz_time time;
	trib_dbz_binary binary;
	trib_dbz_interval interval;
	trib_dbz_hstore hstore;
	trib_dbz_bigint_unsigned bigint_unsigned;
	int			money_scale;	/* money.fraction.digits, default 2 */
	bool		schemas_enable; /* the Connect schema part (schemas.enable) */
	int			heartbeat_ms;	/* heartbeat.interval.ms; 0: no heartbeats */
} trib_dbz_opts;

/* What a column's values become (from its SQL type). */
typedef enum trib_dbz_kind
{
	TRIB_DBZ_ASIS = 0,			/* the source's value unchanged: integers,
								 * booleans, floats, text-like types */
	TRIB_DBZ_NUMERIC,			/* numeric/decimal; scale < 0: unconstrained */
	TRIB_DBZ_MONEY,
	TRIB_DBZ_BIT1,				/* bit(1): BOOLEAN */
	TRIB_DBZ_BITS,				/* bit(n>1), varbit: io.debezium.data.Bits */
	TRIB_DBZ_BYTEA,
	TRIB_DBZ_JSON,				/* json: a string */
	TRIB_DBZ_JSONB,				/* jsonb: a string in PostgreSQL's jsonb text */
	TRIB_DBZ_HSTORE,
	TRIB_DBZ_POINT,
	TRIB_DBZ_DATE,
	TRIB_DBZ_TIME,
	TRIB_DBZ_TIMETZ,
	TRIB_DBZ_TIMESTAMP,
	TRIB_DBZ_TIMESTAMPTZ,
	TRIB_DBZ_INTERVAL,
	/* MySQL (debezium_mysql.c) */
	TRIB_DBZ_MY_UINT64,			/* bigint unsigned: bigint.unsigned.handling */
	TRIB_DBZ_MY_TIME,			/* time: a signed duration, may pass 24 h */
	TRIB_DBZ_MY_YEAR,			/* year: io.debezium.time.Year */
	TRIB_DBZ_MY_ENUM,			/* io.debezium.data.Enum */
	TRIB_DBZ_MY_SET,			/* io.debezium.data.EnumSet */
	TRIB_DBZ_MY_GEOMETRY		/* io.debezium.data.geometry.Geometry */
} trib_dbz_kind;

typedef struct trib_dbz_coltype
{
	trib_dbz_kind kind;
	int			precision;		/* time(p)/timestamp(p): p, or -1 (none);
								 * timestamptz: its fraction digits */
	int			scale;			/* numeric(p,s): s, or -1 (unconstrained) */
	bool		array;			/* a one- or more-dimensional array of kind */
	/* ASIS: the Connect type of the values when the mapper knows it
	 * ("int16", "double", "string"; MySQL), else NULL: found from the
	 * PostgreSQL type name */
	const char *connect;
	/* MySQL NOT NULL DATE/DATETIME/TIMESTAMP: a null value (the source's
	 * zero date) is the epoch, Debezium's fallback for a required field */
	bool		epoch_for_null;
} trib_dbz_coltype;

/* The PostgreSQL type text a column's values are written as: a domain's
 * base type (trib_column.base_type), else its type; "" when unknown. */
static inline const char *
trib_dbz_pg_type(const trib_column *col)
{
	return col->base_type ? col->base_type : col->type ? col->type : "";
}

/* A source connector's type mapper: one column -> its coltype. */
typedef void (*trib_dbz_mapper) (const trib_column *col, trib_dbz_coltype *out);

/* The mapper for a connector ("postgresql"; NULL is postgresql), or NULL
 * when the connector has no Debezium mode yet (its values pass as is). */
trib_dbz_mapper trib_dbz_mapper_for(const char *connector);

/* PostgreSQL: from the column's format_type text ("numeric(12,2)",
 * "timestamp(3) without time zone", "text[]") and type OID. */
void		trib_dbz_pg_coltype(const trib_column *col, trib_dbz_coltype *out);

/* MySQL: from the column's DATA_TYPE (`type`) and COLUMN_TYPE (`decl`:
 * "decimal(12,2)", "datetime(3)", "bit(5)", "int(10) unsigned"), as
 * Debezium's MySQL connector maps them (debezium_mysql.c). */
void		trib_dbz_my_coltype(const trib_column *col, trib_dbz_coltype *out);

/* The MySQL kinds' values (debezium_mysql.c): false when v is not what
 * the MySQL source writes for kind t. */
bool		trib_dbz_my_value(const trib_dbz_opts *o, const trib_dbz_coltype *t, yajl_val v,
							  trib_strbuf *out);

/* A null of a coltype with epoch_for_null: the epoch in the kind's
 * encoding (debezium_mysql.c). */
void		trib_dbz_my_epoch(const trib_dbz_coltype *t, trib_strbuf *out);

/* The MySQL kinds' Connect schema members (no braces); decl is the
 * column's COLUMN_TYPE (the members of an enum or set). */
void		trib_dbz_my_schema(trib_strbuf *o, const trib_dbz_opts *opt,
							   const trib_dbz_coltype *t, const char *decl);

/* Defaults: Debezium's (precise, adaptive, bytes, numeric, json, 2). */
void		trib_dbz_opts_init(trib_dbz_opts *o);

/*
 * Append the Debezium JSON of one value v (from a row image) of a column
 * of type t.  False with errbuf filled when v is not what the source
 * writes for that type (errbuf names the value).  Nulls stay null.
 */
bool		trib_dbz_value(const trib_dbz_opts *o, const trib_dbz_coltype *t,
						   yajl_val v, trib_strbuf *out, char *errbuf,
						   size_t errlen);

/*
 * Append a scalar's Debezium JSON straight from its text s[0..n) (a
 * string's contents, or a number's text), for the kinds whose encoders
 * read text (numeric in precise mode, date, timestamp, timestamptz);
 * not an array.  False with nothing written when it does not take the
 * value (another kind or mode, or a text its encoder refuses): the
 * caller then goes through trib_dbz_value, which writes the same bytes
 * or the error.  s[n] must be readable and not a digit, '.', ':' (a NUL,
 * or the closing quote or the delimiter after the token in an image).
 */
bool		trib_dbz_text_value(const trib_dbz_opts *o, const trib_dbz_coltype *t,
								bool is_string, const char *s, size_t n,
								trib_strbuf *out);

/* The temporal encoders (debezium_time.c); s is the source's text (of n
 * bytes where n is given; see trib_dbz_text_value for s[n]). */
bool		trib_dbz_date(const char *s, size_t n, trib_strbuf *out);
bool		trib_dbz_time_value(const trib_dbz_opts *o, int precision,
								const char *s, trib_strbuf *out);
bool		trib_dbz_timetz(const char *s, trib_strbuf *out);

/*
 * ZonedTimestamp: the source's UTC text ("2024-06-01T10:00:00.25Z", a
 * year of 4 digits or signed) with exactly `digits` (0..6) fraction
 * digits, zeros kept, none for 0: Debezium's PostgreSQL connector writes
 * a timestamptz(p) so (6 for timestamptz), its MySQL connector a
 * TIMESTAMP(p), both since 2.2 (DBZ-5996, DBZ-6163).  False when s is not
 * of that form or has more digits ("infinity": the caller's).
 */
bool		trib_dbz_zoned(int digits, const char *s, size_t n, trib_strbuf *out);
bool		trib_dbz_timestamp(const trib_dbz_opts *o, int precision,
							   const char *s, size_t n, trib_strbuf *out);
bool		trib_dbz_interval_value(const trib_dbz_opts *o, const char *s,
									trib_strbuf *out);

/* Append bytes as a JSON string in binary.handling.mode's encoding (bytes
 * and base64: standard base64, as the JsonConverter writes BYTES). */
void		trib_dbz_put_bytes(trib_strbuf *out, trib_dbz_binary mode,
							   const unsigned char *p, size_t n);

/* Append v in decimal (the hot path's integer writer: no printf). */
void		trib_dbz_put_i64(trib_strbuf *out, int64_t v);

/* Append NUL-terminated UTF-8 text s as a JSON string with its quotes
 * (the hot-path escaper of this mode: no allocation). */
void		trib_dbz_quote(trib_strbuf *out, const char *s);

/* The same for the n bytes at s (a NUL among them is written \u0000). */
void		trib_dbz_quote_n(trib_strbuf *out, const char *s, size_t n);

/* Append a yajl tree value as compact JSON (numbers verbatim); with
 * jsonb_style, in PostgreSQL's jsonb text form ({"a": 1, "b": [1, 2]}). */
void		trib_dbz_put_json(trib_strbuf *out, yajl_val v, bool jsonb_style);

typedef struct trib_dbz trib_dbz;

/* A row converter with the options copied; never NULL. */
trib_dbz   *trib_dbz_new(const trib_dbz_opts *o);
void		trib_dbz_free(trib_dbz *d);

/*
 * Append the Debezium form of a row image (a JSON object text) of
 * relation rel to out.  json_nulls is the image's JSON null list
 * (event.h) or NULL: those columns' nulls become the string "null".
 * Without a relation, or for a connector without a mapper, the image is
 * appended unchanged.  Columns the relation does not list pass unchanged.
 */
bool		trib_dbz_row(trib_dbz *d, const char *connector,
						 const trib_relation *rel, const char *image,
						 const char *json_nulls, trib_strbuf *out,
						 char *errbuf, size_t errlen);

/*
 * Append the unchanged-TOAST placeholder (unavailable.value.placeholder)
 * of column `column` of rel as Debezium writes it for the column's type:
 * bytea its UTF-8 bytes in the binary mode's encoding, a text-like array
 * a one-element list of it, any other type the string.
 */
void		trib_dbz_placeholder(trib_dbz *d, const char *connector,
								 const trib_relation *rel, const char *column,
								 const char *placeholder, trib_strbuf *out);

/*
 * The Connect schemas of a relation (debezium_schema.c), rendered once per
 * relation version and cached in d: *value is the Envelope struct
 * "<prefix>.<schema>.<table>.Envelope" (before/after are ".Value"),
 * *key the ".Key" struct of the columns named in key_image (the event's
 * key object), or NULL when key_image is NULL; their lengths in
 * *value_len and *key_len (each may be NULL), kept with them so a record
 * copies them without measuring ~3.5 KB again.  Both stay valid until the
 * relation's version changes or d is freed.  False (errbuf filled) when
 * the connector has no mapper.
 */
bool		trib_dbz_schemas(trib_dbz *d, const char *prefix, const char *connector,
							 const trib_relation *rel, const char *key_image,
							 const char **value, const char **key,
							 size_t *value_len, size_t *key_len,
							 char *errbuf, size_t errlen);

/* Render the schemas (the uncached work of trib_dbz_schemas): the
 * Envelope (with the Source struct of `connector`: MySQL's, else
 * PostgreSQL's) into value, the Key struct of the columns flagged in
 * in_key[] into key. */
void		trib_dbz_render_schemas(const trib_dbz_opts *o, const char *prefix,
									const char *connector, const trib_relation *rel,
									const trib_dbz_coltype *types,
									const bool *in_key, trib_strbuf *value,
									trib_strbuf *key);

/* The transaction being written, for Debezium's transaction topic
 * (debezium_txmeta.c).  Zero-initialise; trib_dbz_tx_clear frees. */
typedef struct trib_dbz_tx
{
	bool		active;
	uint64_t	txid;
	uint64_t	commit_lsn;
	uint64_t	total;			/* records written in the transaction */
	char	  **names;			/* "schema.table" of each data collection */
	uint64_t   *counts;
	size_t		n;
	size_t		cap;
	char	   *restored;		/* read from a checkpoint, not resumed yet */
} trib_dbz_tx;

/* Count one row record of transaction (txid, commit_lsn) of a table;
 * true when it is the first of its transaction (a BEGIN is due). */
bool		trib_dbz_tx_event(trib_dbz_tx *tx, uint64_t txid, uint64_t commit_lsn,
							  const char *schema, const char *table);

/* Append the key {"id":"<txid>:<commit lsn>"} and the BEGIN or END value
 * (with event_count and data_collections) of the current transaction,
 * wrapped with their Connect schemas when schemas; END forgets it. */
void		trib_dbz_tx_record(trib_dbz_tx *tx, bool end, int64_t ts_ms, bool schemas,
							   trib_strbuf *key, trib_strbuf *value);

void		trib_dbz_tx_clear(trib_dbz_tx *tx);

/* The open transaction's counts as JSON text appended to out
 * ({"txid":N,"commit_lsn":N,"total":N,"collections":[["public.t",N],..]}),
 * for a sink to store with its checkpoint; false (nothing appended) when
 * no transaction is open. */
bool		trib_dbz_tx_save(const trib_dbz_tx *tx, trib_strbuf *out);

/* Continue the transaction trib_dbz_tx_save described (after a restart):
 * its next event asks for no BEGIN and its END counts from there.  False
 * (and no transaction open) when text is not such a description. */
bool		trib_dbz_tx_load(trib_dbz_tx *tx, const char *text);

/*
 * The open transaction in a sink's checkpoint document: the member
 * "dbz_tx" whose string is trib_dbz_tx_save's text.  _gen writes it into
 * g (an open map) when a transaction is open; _read keeps the one of a
 * document read back (none when it has none; it replaces the one kept
 * before); _resume continues the kept one (trib_dbz_tx_load) and forgets
 * it: true when there was none or it was resumed, false when it was not
 * such a text (the transaction's BEGIN is then written again).
 */
void		trib_dbz_tx_checkpoint_gen(const trib_dbz_tx *tx, yajl_gen g);
void		trib_dbz_tx_checkpoint_read(trib_dbz_tx *tx, yajl_val doc);
bool		trib_dbz_tx_checkpoint_resume(trib_dbz_tx *tx);

/* Debezium's heartbeat topic "__debezium-heartbeat.<prefix>" into topic,
 * its key {"serverName":"<prefix>"} and value {"ts_ms":N}, wrapped with
 * their Connect schemas when schemas (debezium_heartbeat.c). */
void		trib_dbz_heartbeat(const char *prefix, int64_t ts_ms, bool schemas,
							   trib_strbuf *topic, trib_strbuf *key,
							   trib_strbuf *value);

/*
 * MongoDB events (debezium_mongo.c), as Debezium's MongoDB connector
 * writes them.  _doc: a document image (the source's relaxed Extended
 * JSON) as the JSON string of its STRICT-mode text (`after`, `before`:
 * `image` names it, and the int64 values that fit in 32 bits are those
 * the event's extra lists under "int64"."<image>", mongo_int64.h; extra
 * may be NULL);
 * _key: the key {"id":"<_id in relaxed mode>"} of a documentKey; _update:
 * the updateDescription struct of the source's extra
 * ({"updateDescription": ...}), null when it has none; _source: the
 * Source struct's own members after `sequence` (",\"collection\":..,
 * \"ord\":..,\"lsid\":..,\"txnNumber\":..,\"wallTime\":.."), from the
 * position's opaque text (its "source" object) and the wall time (0:
 * null).  False (errbuf filled) when a text is not the source's JSON.
 */
bool		trib_dbz_mongo_doc(const char *doc, const char *extra, const char *image,
							   trib_strbuf *out, char *errbuf, size_t errlen);
bool		trib_dbz_mongo_key(const char *document_key, trib_strbuf *out,
							   char *errbuf, size_t errlen);
bool		trib_dbz_mongo_update(const char *extra, trib_strbuf *out, char *errbuf,
								  size_t errlen);
void		trib_dbz_mongo_source(const char *opaque, const char *collection,
								  int64_t wall_ms, trib_strbuf *out);

/* The Connect schemas of a MongoDB collection's records (debezium_schema.c):
 * the Envelope "<prefix>.<db>.<collection>.Envelope" into value, the Key
 * struct {id: string} ".Key" into key. */
void		trib_dbz_mongo_render_schemas(const char *prefix, const char *db,
										  const char *collection, trib_strbuf *value,
										  trib_strbuf *key);

#endif							/* TRIB_DEBEZIUM_H */
