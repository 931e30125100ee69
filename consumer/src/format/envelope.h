/*
 * envelope.h: Debezium-compatible JSON records (key, value, topic) from an
 * event.
 *
 * Design.  A trib_envelope turns one trib_event into the Kafka records a
 * Debezium PostgreSQL connector would have produced for the same change,
 * as the JsonConverter writes them with schemas.enable=false.  The layout,
 * with complete examples for every op, is in docs/FORMAT.md; in short:
 *
 *   key    the event's primary key object (ev->key, spliced as is) or null
 *   value  {"before":B,"after":A,"source":{...},"op":"c","ts_ms":N,
 *           "transaction":null}
 *   topic  from a pattern, default "${prefix}.${schema}.${table}"
 *
 * Row images and keys are spliced in as the source wrote them, byte for
 * byte: a numeric with 30 digits keeps them all and nothing is re-parsed.
 * Everything else is written straight into one growing buffer (no yajl_gen
 * on the hot path); strings are escaped by a small table-driven escaper
 * that also writes bytes that are not UTF-8 as \u00XX (their Latin-1
 * reading, as the plugin does for SQL_ASCII), so the value is always JSON.
 *
 * The source block is the PostgreSQL connector's: version, connector,
 * name (= the topic prefix), ts_ms (commit time), snapshot ("true",
 * "false", or "last" for a snapshot event with last_in_tx set), db,
 * sequence ("[\"<commit_lsn>\",\"<lsn>\"]" as a string; Debezium puts the
 * previous transaction's commit LSN first, as Debezium mode does from
 * ev->prev_commit_lsn), schema, table, txId (null
 * when 0), lsn (pos.lsn, null when 0), xmin (null), and only when the
 * event has JSON null lists (event.h), json_nulls: {"before":[...],
 * "after":[...]}, each key only when that list exists, so that a consumer
 * can tell a json column's JSON null from SQL NULL (Debezium writes json
 * as a string; here it is embedded and both read null).
 *
 * What one event becomes:
 *   c, u, r    one record
 *   d          one record, then a tombstone (same key, null value) when
 *              tombstones are on and the key is not null
 *   t          one record per truncated table, before/after null, key null
 *              (Debezium's truncate event); the tables are ev->schema and
 *              ev->table, or when ev->table is NULL, the "relations" array
 *              of ev->extra (the plugin's truncate record)
 *   m          one record {"op":"m","ts_ms":N,"source":{...},
 *              "transaction":...,"message":{"prefix":P,"content":C}} with
 *              key {"prefix":P} to the message topic, default
 *              "${prefix}.message" (Debezium's logical decoding message);
 *              C is base64 of the content's bytes.  ev->extra holds the
 *              plugin's message fields: prefix, content, encoding.
 *
 * Unchanged TOAST columns (ev->unchanged) are added to `after` with the
 * placeholder string, by default "__debezium_unavailable_value" as Debezium
 * does (its unavailable.value.placeholder), so consumers written for
 * Debezium treat them the same way.  With a NULL placeholder they are left
 * out of `after` instead (absent, never null).
 *
 * Debezium mode (opts.debezium, `format: debezium`; debezium.h): row
 * images and keys go through the Debezium value encoders, ts_us/ts_ns
 * follow each ts_ms (source's from ev->ts_us, the commit time's
 * microseconds, when the source has them; the envelope's from one
 * microsecond clock reading per event), with schemas_enable key and value are wrapped as
 * {"schema":S,"payload":P}, and with transaction_metadata the records of
 * a transaction are framed by BEGIN/END records on "<prefix>.transaction".
 * Without it (the default) the output is exactly as described above.
 *
 * Ownership: the envelope owns its buffers; the records returned by
 * trib_envelope_encode() point into them (keys of row events point into
 * the event) and stay valid until the next call on the same envelope, its
 * free, or the event's free.  Not thread-safe: one envelope per thread.
 */
#ifndef TRIB_ENVELOPE_H
#define TRIB_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "debezium.h"
#include "event.h"

/* source.version unless the options say otherwise. */
#define TRIB_ENVELOPE_VERSION "tributary-0.1"
#define TRIB_ENVELOPE_DEFAULT_PATTERN "${prefix}.${schema}.${table}"
#define TRIB_ENVELOPE_DEFAULT_MESSAGE_TOPIC "${prefix}.message"
#define TRIB_ENVELOPE_UNAVAILABLE "__debezium_unavailable_value"

/* Kafka's limit on topic names. */
#define TRIB_TOPIC_MAX 249

/* Bytes needed for an event id "0/16B3748:4" with its NUL. */
#define TRIB_ENVELOPE_ID_LEN 48

typedef struct trib_envelope_opts
{
	const char *topic_prefix;	/* Debezium topic.prefix; also source.name */
	const char *topic_pattern;	/* NULL: TRIB_ENVELOPE_DEFAULT_PATTERN */
	const char *message_topic;	/* NULL: TRIB_ENVELOPE_DEFAULT_MESSAGE_TOPIC */
	const char *version;		/* source.version; NULL: TRIB_ENVELOPE_VERSION */
	const char *unavailable_value;	/* TOAST placeholder; NULL: omit */
	bool		tombstones;		/* tombstone after each keyed delete */
	bool		transaction_metadata;	/* fill "transaction" (else null) */
	int64_t		(*clock_ms) (void); /* envelope ts_ms; NULL: wall clock */
	/* format: debezium (docs/FORMAT.md, "Debezium mode"): values in
	 * Debezium's encodings, keys too, and ts_us/ts_ns beside each ts_ms;
	 * NULL: tributary's values (the default) */
	const trib_dbz_opts *debezium;
} trib_envelope_opts;

/* One Kafka record.  topic, key and value are each followed by a NUL
 * byte that the lengths do not count. */
typedef struct trib_record
{
	const char *topic;
	const char *key;			/* NULL: null key */
	size_t		key_len;
	const char *value;			/* NULL: tombstone */
	size_t		value_len;
} trib_record;

typedef struct trib_envelope trib_envelope;

/* Defaults: prefix "tributary", tombstones on, Debezium's placeholder,
 * no transaction metadata, default patterns. */
void		trib_envelope_opts_init(trib_envelope_opts *opts);

/* Check the options and compile the patterns.  Returns NULL with errbuf
 * filled on a bad pattern or prefix.  The options are copied. */
trib_envelope *trib_envelope_new(const trib_envelope_opts *opts,
								 char *errbuf, size_t errlen);

/* Free an envelope; NULL is allowed. */
void		trib_envelope_free(trib_envelope *env);

/*
 * The records for one event.  Returns the array (*n records, at least one)
 * or NULL with errbuf filled (unknown op, a topic longer than
 * TRIB_TOPIC_MAX, a malformed `unchanged` or `extra`).  Row images, key
 * and extra are trusted to be valid JSON (the source checks them).
 */
const trib_record *trib_envelope_encode(trib_envelope *env,
										const trib_event *ev, size_t *n,
										char *errbuf, size_t errlen);

/*
 * Debezium mode's open transaction on the transaction topic (its counts so
 * far), as JSON text the caller frees; NULL when none is open (or not in
 * Debezium mode with transaction_metadata).  A sink that commits in the
 * middle of a source transaction stores it with its checkpoint and, after
 * a restart, gives it back with trib_envelope_tx_resume: the transaction
 * then goes on without a second BEGIN, and its END counts all of it.
 * False when state is not such a text (the envelope then starts afresh).
 */
char	   *trib_envelope_tx_state(const trib_envelope *env);
bool		trib_envelope_tx_resume(trib_envelope *env, const char *state);

/*
 * The same through a sink's checkpoint document, so that the sink carries
 * no Debezium state and knows no member of it (debezium_txmeta.c): the first
 * writes the open transaction into g (an open map: a member, or nothing);
 * _read keeps the one a checkpoint document read back holds (replacing
 * any kept before; none when it holds none); _resume continues the kept
 * one once the sink has settled on its durable checkpoint: true when none
 * was kept or it was resumed, false when it could not be (not in Debezium
 * mode with transaction_metadata, or an unreadable text: its BEGIN is then
 * written again).
 */
void		trib_envelope_tx_checkpoint(const trib_envelope *env, yajl_gen g);
void		trib_envelope_tx_checkpoint_read(trib_envelope *env, yajl_val doc);
bool		trib_envelope_tx_checkpoint_resume(trib_envelope *env);

/*
 * The topic of a table: the pattern with ${prefix}, ${source} (the
 * pipeline's name for the source), ${db}, ${schema} and ${table} replaced
 * (NULL values become ""; with the default pattern a NULL schema becomes
 * the db, so schema-less sources get Debezium's prefix.db.table), every
 * character of a value that Kafka does not allow in a topic name
 * ([A-Za-z0-9._-]) replaced by '_' (one '_' per UTF-8 character).  The
 * pattern's own text must use allowed characters only (checked by
 * trib_envelope_new).  False when the result is empty, "." or "..", longer
 * than TRIB_TOPIC_MAX, or longer than outlen - 1.  A routed event
 * (ev->topic set) goes to that topic instead, sanitised the same way.
 */
bool		trib_envelope_topic(const trib_envelope *env, const char *source,
								const char *db, const char *schema,
								const char *table, char *out, size_t outlen,
								char *errbuf, size_t errlen);

/* The event id "commit_lsn:seq" (e.g. "0/16B3748:4"), which the Kafka sink
 * puts in the header tributary.id.  Returns its length. */
size_t		trib_envelope_event_id(const trib_position *pos, char *buf,
								   size_t len);

#endif							/* TRIB_ENVELOPE_H */
