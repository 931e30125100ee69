/*
 * event.h: the one internal event type shared by every source and sink.
 *
 * Design.  A source (Postgres today; MySQL binlog and MongoDB change streams
 * later) turns whatever it reads into `trib_event`s; transforms rewrite them;
 * sinks serialise them (the Debezium envelope for Kafka, upserts for
 * Postgres, JSON Lines for files).  Nothing downstream of a source knows
 * which source produced an event except through `connector` and the opaque
 * part of its position.
 *
 * Row images are JSON text (an object: column name -> value), exactly as
 * the source wrote them, so no value is re-formatted on the way: a numeric
 * keeps every digit and a jsonb column stays a JSON object.  Where a
 * transform needs structure it parses with yajl, whose tree keeps every
 * number's original text (yajl_val->u.number.r) and whose generator writes
 * it back unchanged (yajl_gen_number).  jansson and json-c were rejected:
 * both turn 123456789012345678901234567890 into a lossy double or a
 * saturated integer.
 *
 * JSON null.  A json/jsonb value that is the JSON literal null and SQL
 * NULL are both `null` in a row image.  after_json_nulls and
 * before_json_nulls tell them apart, as the plugin's json_nulls and
 * old_json_nulls do (docs/PLUGIN.md): a JSON array whose entries are a
 * column name (that column's null is JSON null) or ["column", i, ...] (an
 * array column: its elements at row-major positions i are JSON null).  An
 * entry says nothing about a value that is not null, so a rule that
 * replaces a value need not touch the lists; one that drops or renames
 * columns keeps them in step (rules_fields.c).
 *
 * Position.  Every event carries the position that makes it unique and
 * ordered within its source (position.h).
 *
 * Image index.  Optional, source-neutral: where each top-level member's
 * name and value lie in `after` and in `key` (trib_image_index below),
 * filled by a source that found them anyway while building those texts
 * (the PostgreSQL record parse: pgrecord_build.c), so that the rules'
 * text path (transform/rules_splice.c) need not scan the images again;
 * only when the pipeline has rules (TRIB_NEED_IMAGE_INDEX below), since
 * it costs every event.  NULL for every other source and for events
 * built by hand.  Each part
 * records the length and trib_image_hash() of the text it describes, and
 * a reader uses a part only when both match the event's current text
 * (trib_image_index_part): a transform that replaces `after` or `key`
 * need not know of the index (the rules' write-back, rules_common.c,
 * forgets it anyway), and a stale index is never used.  Not in the spill
 * files (source/pg/pgprepared.c): an event read back has none, and the
 * rules index its images themselves.
 *
 * Relation.  ev->rel is the table's schema as the source last described
 * it (trib_relation, relation.h, included here for every event user).
 *
 * Ownership: an event owns its row images, key, their index, unchanged,
 * the JSON null lists, extra, pos.opaque and topic; trib_event_free() releases them.
 * The five naming strings (source, connector, db, schema, table) are
 * borrowed and const: they are the same for millions of events, so the
 * source that builds an event points them at strings it owns (the
 * Postgres parser interns them, pgrecord.c) and keeps those alive until
 * the source is freed, which is after every event it produced is gone.  trib_event_free() never frees
 * them.  Whoever builds events by hand (tests, fuzz targets, a future
 * transform that renames a table) points them at storage that outlives the
 * event: a literal, or a string it frees itself after the event.
 */
#ifndef TRIB_EVENT_H
#define TRIB_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "position.h"
#include "relation.h"

/* Debezium's op codes, plus 'm' for logical messages. */
typedef enum trib_op
{
	TRIB_OP_CREATE = 'c',
	TRIB_OP_UPDATE = 'u',
	TRIB_OP_DELETE = 'd',
	TRIB_OP_READ = 'r',			/* snapshot row */
	TRIB_OP_TRUNCATE = 't',
	TRIB_OP_MESSAGE = 'm'
} trib_op;

/* One top-level member of a row image: its name's bytes (inside the
 * quotes) text[name, name + name_len), and its value text[value,
 * value_end), offsets in the image's text. */
typedef struct trib_image_member
{
	uint32_t	name;
	uint32_t	name_len;
	uint32_t	value;
	uint32_t	value_end;
} trib_image_member;

/* One image's part of an index: members m[first, first + n) of the
 * index, for the text of `len` bytes whose trib_image_hash() is `hash`;
 * len UINT32_MAX: no index for this image. */
typedef struct trib_image_part
{
	uint64_t	hash;
	uint32_t	len;
	uint32_t	first;
	uint32_t	n;
} trib_image_part;

#define TRIB_IMAGE_AFTER 0
#define TRIB_IMAGE_KEY 1

/*
 * An index of an event's `after` and `key` (see Image index above), one
 * allocation (free()).  The source vouches for what a part describes:
 * the text is a JSON object as lib/jscan.h accepts it (valid UTF-8, no
 * escapes, no control characters, no comments; whitespace only between
 * tokens), the members listed are all of its top-level members, in
 * order, and their names and values are where the part says.
 */
typedef struct trib_image_index
{
	trib_image_part part[2];	/* TRIB_IMAGE_AFTER, TRIB_IMAGE_KEY */
	uint32_t	nm;				/* members in m, both parts */
	trib_image_member m[];
} trib_image_index;

/* The PostgreSQL source writes held events to spill files field by field
 * (source/pg/pgprepared.c): a new field goes into that format too. */
typedef struct trib_event
{
	trib_op		op;
	/* borrowed, never freed with the event (see Ownership above) */
	const char *source;			/* the pipeline's name for the source */
	const char *connector;		/* "postgresql", "mysql", "mongodb" */
	const char *db;
	const char *schema;			/* NULL where the source has none */
	const char *table;			/* table or collection */
	char	   *before;			/* row image (JSON object text) or NULL */
	char	   *after;			/* row image (JSON object text) or NULL */
	char	   *key;			/* primary key: JSON object text, or NULL */
	trib_image_index *image_index;	/* after's and key's members, or NULL
									 * (see Image index above) */
	char	   *unchanged;		/* JSON array of columns not in `after`, or NULL */
	/* JSON null lists: which nulls of `after` / `before` are the JSON
	 * literal null of a json/jsonb column rather than SQL NULL (see JSON
	 * null above); NULL when there are none */
	char	   *after_json_nulls;
	char	   *before_json_nulls;
	char	   *extra;			/* JSON object: truncate relations, message */
	uint64_t	txid;
	int64_t		ts_ms;			/* commit time, ms since the epoch */
	int64_t		ts_us;			/* the same in us where the source has
								 * them (PostgreSQL), else 0 */
	/* PostgreSQL: the commit LSN of the transaction the source delivered
	 * before this event's (Debezium's source.sequence), 0 when unknown;
	 * set when the source hands the event out (pg_source_ops.c) */
	uint64_t	prev_commit_lsn;
	bool		snapshot;		/* produced by a snapshot, not the stream */
	bool		last_in_tx;		/* last event of its transaction */
	trib_position pos;
	char	   *topic;			/* routing result; NULL until routed */
	const trib_relation *rel;	/* table schema, owned by the source (or by
								 * the rules, when they reshape rows); NULL
								 * for messages and where unknown */
	/* Set by transform rules (rules.c), NULL/0 otherwise. */
	char	   *tags;			/* JSON array of quality-rule names, or NULL */
	char	   *error;			/* dead-letter events: why the rule refused it */
	uint8_t		flatten;		/* TRIB_FLAT_*: the Kafka value is the row */
	/* Set by the schema stage (schema/schema_stage.h) after the source,
	 * so not in the spill files; 0 when the stage is off or the event has
	 * no relation. */
	int64_t		schema_id;		/* the registry's global id */
	int32_t		schema_version; /* the version in the table's subject */
	int64_t		key_schema_id;	/* the key's (schemas.keys), else 0 */
	/* The documents registered under schema_id and key_schema_id,
	 * borrowed from the stage (which keeps them until it is freed, after
	 * the sources), NULL when unknown: what the Avro encoder writes with. */
	const char *schema_doc;
	const char *key_schema_doc;
	bool		quarantined;	/* a version not accepted yet: the event
								 * goes to the quarantine sink only */
	/* Set by a pipeline with several sources while its sinks see a merged
	 * position in `pos` (pipeline/merge.h): the source's own position,
	 * borrowed, which the records show.  NULL otherwise. */
	const trib_position *origin;
} trib_event;

/* The source's own position of an event: what its records show. */
static inline const trib_position *
trib_event_origin(const trib_event *ev)
{
	return ev->origin != NULL ? ev->origin : &ev->pos;
}

/* The hash an image index part keeps of its text (n bytes): 64 bits over
 * eight bytes a step, not cryptographic; it tells a replaced text from
 * the one the index describes. */
uint64_t	trib_image_hash(const char *s, size_t n);

/* Part `which` (TRIB_IMAGE_AFTER, TRIB_IMAGE_KEY) of ev's image index when
 * it describes `text` (n bytes: the event's current after or key), else
 * NULL: no index, none for that image, or a text that changed since. */
const trib_image_part *trib_image_index_part(const trib_event *ev, int which,
											 const char *text, size_t n);

/* Forget part `which` of ev's index (a transform replaced that image). */
void		trib_image_index_forget(trib_event *ev, int which);

/* ev->flatten: 0 is the Debezium envelope. */
#define TRIB_FLAT_NONE 0
#define TRIB_FLAT_ROW 1			/* the value is `after` (deletes: rewritten) */
#define TRIB_FLAT_TOMBSTONE 2	/* the value is null */

/*
 * What a sink's records may need of an event beyond what every event
 * carries, which costs a source work per event: a source computes such a
 * part only when some sink of its pipeline needs it (the union of the
 * sinks' sink.h needs(), and what the pipeline's transform rules read,
 * handed to the source as trib_source.needs before open).  Flags, or'ed.
 */
#define TRIB_NEED_INT64_TYPES 0x1u	/* values whose JSON does not tell an
									 * int64 from an int32 are marked as
									 * int64 (MongoDB: extra's "int64",
									 * source/mongodb/mongo_int64.h), for
									 * Debezium's records */
#define TRIB_NEED_IMAGE_INDEX 0x2u	/* the image index of after and key
									 * (trib_image_index above), which the
									 * transform rules read: asked by the
									 * pipeline when it has rules, not by a
									 * sink */

/* A new zeroed event; never NULL (aborts on out-of-memory). */
trib_event *trib_event_new(void);

/* Free an event and everything it owns (not the borrowed naming
 * strings); NULL is allowed. */
void		trib_event_free(trib_event *ev);

/* Release what an event owns and zero it, but not the struct itself (for
 * an event that lives inside another allocation). */
void		trib_event_clear(trib_event *ev);

/* Copy ev into *out (a struct the caller owns): every string ev owns is
 * duplicated, the borrowed ones (naming strings, rel, origin) are shared.
 * Returns the bytes the copy owns (its strings), for memory bounds. */
size_t		trib_event_copy(const trib_event *ev, trib_event *out);

#endif							/* TRIB_EVENT_H */
