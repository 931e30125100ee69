/*
 * sink_mongodb.h: the MongoDB sink: writes rows as documents into a
 * MongoDB database (libmongoc), exactly once in effect.
 *
 * What an event becomes (collection: the `collection` template over the
 * event's db, schema and table; _id: the event's key, see below):
 *   c, r, u   replace the document with that _id by the row (upsert).  An
 *             update that carries unchanged columns (unchanged TOAST) sets
 *             the columns it has ($set, upsert) and keeps the others.  An
 *             update whose old image has another key deletes the old _id
 *             first (a key move).  A MongoDB source's update without its
 *             document (fullDocument null) applies its updateDescription
 *             to the document with that _id ($set, $unset, $push/$slice;
 *             no upsert: a document the target lacks stays absent).
 *   d         delete by _id (a missing document is no error).
 *   t         delete every document of the listed tables' collections.
 *   m         nothing (the position still advances).
 * A change without a key (a table without a primary key) cannot be
 * addressed by _id: it is skipped and counted with a warning.
 *
 * _id.  A one-column key gives that column's value (converted like the
 * column); a composite key gives a subdocument {col: value, ...} in key
 * order.  Every column stays in the document too.
 *
 * Values (sink_mongodb_doc.c; docs/MONGODB.md has the table): the
 * column's SQL type (ev->rel) picks the BSON type: integers int32/int64,
 * numeric Decimal128 (as a string beyond its 34 digits), floats double,
 * json/jsonb embedded documents, bytea binary, date/timestamp(tz) BSON
 * dates (milliseconds, UTC), arrays arrays, NULL null, the rest strings.
 *
 * Batching and backpressure.  Events are queued and applied as one batch
 * of up to batch_size, or once the oldest is batch_ms old (write, poll),
 * or at flush: consecutive changes of one collection go out as one
 * ordered bulk write, so the order of the source is kept.  write() applies
 * a full batch before it returns, so a slow target slows the pipeline
 * instead of growing the queue.
 *
 * Exactly once.  The position of the batch's last event is stored in the
 * positions collection of the target database ({_id: {pipeline, sink}}).
 * With `transactions` (the default) the batch's writes and the position
 * go into one multi-document transaction, guarded: the transaction first
 * reads the stored position and, if it is at or past the batch (a replay),
 * applies nothing.  mongoc_client_session_with_transaction retries
 * transient errors and unknown commit results.  Without transactions the
 * bulk writes go first and the position after them: a crash between them
 * replays the batch, which changes nothing (replace by _id, deletes of
 * missing documents), and the stored position never moves backwards
 * (events at or before it are dropped before a batch is built).
 * durable_position()
 * reports the stored position at start-up and write() drops events at or
 * before it; acks follow each applied batch.
 *
 * Errors: a batch that fails fails the sink (errbuf names the collection
 * and the server's message, never row values); lost_connection() tells a
 * lost server (the pipeline is rebuilt) from a refusal.
 *
 * Threading: one thread drives a sink.
 */
#ifndef TRIB_SINK_MONGODB_H
#define TRIB_SINK_MONGODB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "event.h"
#include "sink.h"

extern const trib_sink_ops trib_sink_mongodb_ops;

/* How a column's values become BSON (from its SQL type). */
typedef enum trib_mongo_kind
{
	TRIB_MK_TEXT = 0,			/* strings as they are; anything else as JSON */
	TRIB_MK_INT,				/* int32, int64 when larger, Decimal128 beyond */
	TRIB_MK_FLOAT,				/* double ("NaN", "Infinity" too) */
	TRIB_MK_DECIMAL,			/* Decimal128; string beyond 34 digits */
	TRIB_MK_BOOL,
	TRIB_MK_JSON,				/* embedded: objects, arrays, numbers */
	TRIB_MK_BYTEA,				/* binary from base64 or hex (bytea_encoding) */
	TRIB_MK_BLOB,				/* binary from base64 (MySQL's binary types) */
	TRIB_MK_DATE				/* date and timestamps: BSON date, UTC ms */
} trib_mongo_kind;

/* The kind of a SQL type name ("numeric(12,2)", "integer[]", "timestamp
 * with time zone", MySQL's "decimal(10,2)"); *array when it is an array. */
trib_mongo_kind trib_mongosink_kind(const char *sqltype, bool *array);

/*
 * Append the columns of a row image (a JSON object) to doc, each converted
 * by its column's type in rel (NULL, or a column it lacks: as JSON).
 * bytea_hex: bytea is hex, else base64.  False with errbuf (no values in
 * it) on malformed JSON or a value of the wrong form.
 *
 * trib_mongosink_id appends doc's _id from `key` (a JSON object, the
 * event's key): the value of a one-column key, else a subdocument; with
 * `image` (an old row image), the values of the key's columns are taken
 * from it instead (a key move).
 */
bool		trib_mongosink_row(const char *row, const trib_relation *rel, bool bytea_hex,
							   bson_t *doc, char *errbuf, size_t errlen);
bool		trib_mongosink_id(const char *key, const char *image, const trib_relation *rel,
							  bool bytea_hex, bson_t *doc, char *errbuf, size_t errlen);

/*
 * A MongoDB source's document (relaxed Extended JSON, docs/MONGODB.md)
 * back to BSON by libbson's Extended JSON parser, so that ObjectIds,
 * dates, decimals, binaries and large integers keep their BSON types:
 * every field of `json` but `_id` appended to doc, or (only_id) its `_id`
 * alone (the documentKey's).  `extra` is the event's extra (NULL: none):
 * the int64 values its "int64" member lists for the after image stay
 * int64 (trib_mongosink_int64_marks).  `what` names it in errbuf (no
 * values).
 */
bool		trib_mongosink_ejson(const char *json, const char *what, bool only_id,
								 const char *extra, bson_t *doc, char *errbuf, size_t errlen);

/*
 * sink_mongodb_ejson.c.  json (relaxed Extended JSON) as a new bson_t by
 * yajl's tree, each Extended JSON wrapper through libbson's parser: what
 * trib_mongosink_ejson falls back to when libbson's parser refuses the
 * whole text (it takes no document nested 99 levels deep or more).
 * NULL when json is not an object or a wrapper in it is malformed.
 */
bson_t	   *trib_mongosink_ejson_deep(const char *json);

/*
 * sink_mongodb_ejson.c.  A copy of doc (a new bson_t) with the int32 at
 * each path that extra's "int64".<image> lists (source/mongodb/
 * mongo_int64.h) made an int64; NULL when extra lists none (doc is then
 * right as it is).
 */
bson_t	   *trib_mongosink_int64_marks(const bson_t *doc, const char *extra, const char *image);

/*
 * The update a MongoDB source's update event without its document stands
 * for, from extra's updateDescription: trunc gets {$push: {field: {$each:
 * [], $slice: newSize}}} for truncatedArrays (applied first), update
 * {$set: updatedFields, $unset: {removedField: ""}}; either may stay
 * empty.  *has is false when extra has no updateDescription.  False with
 * errbuf (no values) when it cannot be read.
 */
bool		trib_mongosink_update_desc(const char *extra, bson_t *trunc, bson_t *update,
									   bool *has, char *errbuf, size_t errlen);

/* sink_mongodb_apply.c.  The server's message msg of error `code` as
 * the sink's failure shows it: a duplicate key error (11000, 11001,
 * 12582) without its "dup key: {...}" part, which holds the row's
 * values; any other as it is. */
void		trib_mongosink_server_msg(uint32_t code, const char *msg, char *out,
									  size_t outlen);

/* ISO 8601 date or timestamp (docs/PLUGIN.md) to ms since the epoch
 * (UTC; no zone: UTC; fractions below a millisecond dropped toward the
 * past).  False when it is not one ("infinity"). */
bool		trib_mongosink_date_ms(const char *s, size_t len, int64_t *ms);

/* Counters (tests). */
typedef struct trib_mongosink_stats
{
	uint64_t	events;			/* accepted by write() */
	uint64_t	skipped;		/* at or before the stored position */
	uint64_t	skipped_no_key; /* changes without a key */
	uint64_t	batches;		/* applied */
	uint64_t	replays;		/* batches the stored position covered */
} trib_mongosink_stats;

void		trib_mongosink_get_stats(const trib_sink *sink, trib_mongosink_stats *out);

#endif							/* TRIB_SINK_MONGODB_H */
