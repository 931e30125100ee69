/*
 * sink_kafka_int.h: what the Kafka sink's files share, private to sink/kafka/.
 *
 * The sink is one state struct (trib_kafka) driven by one thread, split
 * by concern:
 *   sink_kafka.c        the producer: open, write, flush, poll, close, the
 *                       topic handle cache
 *   kafka_client.c      the librdkafka client: configuration (ours, then the
 *                       user's), callbacks (delivery reports feed the ack
 *                       tracker), logs and errors with secrets redacted
 *   kafka_txn.c         transactions: begin, commit with the checkpoint
 *                       record, abort
 *   kafka_checkpoint.c  the checkpoint topic: found or created, the record's
 *                       JSON, read back at start-up (durable_position)
 *   kafka_conf.c        the settings and their key table
 *   kafka_props.c       librdkafka properties: secret names, redaction,
 *                       the producer's own settings (below the client and
 *                       the key table, which both use it)
 *   kafka_wire.c        value_format json_sr and avro: the Confluent framing
 *   kafka_avro.c        value_format avro: a row in Avro binary (avro-c)
 *   kafka_check.c       `tributary check`'s report
 * Nothing outside the folder includes this header, but fuzz/fuzz_checkpoint.c
 * (for kfk_checkpoint_parse and kfk_checkpoint_value_snap).
 */
#ifndef TRIB_SINK_KAFKA_INT_H
#define TRIB_SINK_KAFKA_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "ack_tracker.h"
#include "envelope.h"
#include "kafka_conf.h"
#include "kafka_mock.h"
#include "sink_kafka.h"

typedef struct trib_kafka
{
	trib_sink  *sink;
	const trib_kafka_conf *c;	/* borrowed: outlives the sink */
	trib_kafka_tuning t;		/* defaults filled in */

	trib_kafka_mock *mock;		/* embedded mode */
	rd_kafka_t *rk;
	trib_envelope *env;
	struct kfk_wire *wire;		/* value_format json_sr / avro, else NULL */
	struct trib_intern *topics;	/* name -> rd_kafka_topic_t *, or NULL */
	rd_kafka_topic_t *last_rkt;	/* the last topic_get's, in topics */
	char		last_topic[TRIB_TOPIC_MAX + 1];	/* its name */
	uint64_t	id_lsn;			/* the commit LSN id_text starts with */
	size_t		id_head_len;	/* its "L:" bytes; 0: none yet */
	char		id_text[TRIB_ENVELOPE_ID_LEN];	/* the last event id */
	trib_ack_tracker *trk;
	int			wake[2];		/* at-least-once: a pipe written when
								 * librdkafka's main queue (delivery reports,
								 * errors, logs) becomes non-empty; -1: none */
	atomic_bool wake_pending;	/* a byte of ours is (or is about to be)
								 * in the pipe: set by librdkafka's thread,
								 * cleared by the drain that read it */
	trib_kafka_stats st;

	bool		failed;			/* sticky: every call returns err */
	char		err[512];

	/* transactional mode */
	bool		in_txn;
	bool		txn_has_events;
	uint64_t	txn_events;		/* written in the open transaction */
	uint64_t	txn_gen;		/* number of the open transaction (tags) */
	int64_t		heartbeat_ms;	/* when the last Debezium heartbeat was written */
	bool		txn_failed;		/* a record of it failed for good */
	char		txn_err[256];
	trib_position txn_last;		/* owns opaque */
	bool		have_durable;
	trib_position durable;		/* owns opaque */
	/* a snapshot's progress (sink.h snapshot_mark, kafka_txn.c): the
	 * last one handed in, and the one the durable checkpoint holds */
	char	   *mark_json;		/* owned; NULL none */
	trib_position mark_at;		/* no opaque */
	trib_position mark_counted; /* no opaque */
	char	   *txn_snap;		/* what the commit under way writes; owned */
	trib_position txn_snap_counted;
	char	   *durable_snap;	/* owned; NULL none */
	trib_position durable_snap_counted; /* no opaque */
	const char *ckpt_topic;
	const char *ckpt_key;
	rd_kafka_topic_t *ckpt_rkt;
	int32_t		ckpt_part;
} trib_kafka;

/* ---- kafka_client.c ---------------------------------------------------- */

/* Log through the tuning's function, secrets redacted. */
void		kfk_log(trib_kafka *k, int level, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* Fill errbuf, secrets redacted (k may be NULL before the state exists). */
void		kfk_err(trib_kafka *k, char *errbuf, size_t errlen, const char *fmt,...)
			__attribute__((format(printf, 4, 5)));

/* Make the sink fail for good with this message (the first one wins). */
void		kfk_fail(trib_kafka *k, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/* Copy the sticky error to errbuf; returns false. */
bool		kfk_failed_out(trib_kafka *k, char *errbuf, size_t errlen);

/* False with "kafka: sink not open" when k is NULL or has no producer. */
bool		kfk_is_open(trib_kafka *k, char *errbuf, size_t errlen);

/* An rd_kafka_error_t to errbuf; destroys it. */
void		kfk_error_out(trib_kafka *k, rd_kafka_error_t *error, const char *what,
						  char *errbuf, size_t errlen);

/* Ack when the tracker's watermark moved (at-least-once mode). */
void		kfk_maybe_ack(trib_kafka *k);

/* Set one property; errors never show a secret value. */
bool		kfk_conf_set(trib_kafka *k, rd_kafka_conf_t *conf, const char *name,
						 const char *value, char *errbuf, size_t errlen);

/* The configuration shared by producer and checkpoint reader; the user's
 * properties, applied after ours so that they win. */
rd_kafka_conf_t *kfk_base_conf(trib_kafka *k, const char *bootstrap,
							   char *errbuf, size_t errlen);
bool		kfk_user_conf(trib_kafka *k, rd_kafka_conf_t *conf, char *errbuf, size_t errlen);

/* The producer's configuration: our settings, then the user's. */
rd_kafka_conf_t *kfk_producer_conf(trib_kafka *k, const char *bootstrap,
								   char *errbuf, size_t errlen);

/* ---- sink_kafka.c ------------------------------------------------------ */

/* Copy a position, duplicating its opaque text; release what one owns. */
void		kfk_pos_copy(trib_position *dst, const trib_position *src);
void		kfk_pos_clear(trib_position *p);

/* Enqueue one message, waiting for queue space; false fails the sink. */
bool		kfk_produce(trib_kafka *k, rd_kafka_topic_t *rkt, int32_t partition,
						const void *key, size_t key_len, const void *value,
						size_t value_len, const char *id, size_t id_len, uint64_t tag);

/* The same with the event's schema id and version as two more headers
 * (schema_headers); schema_id 0: none, as kfk_produce. */
bool		kfk_produce_schema(trib_kafka *k, rd_kafka_topic_t *rkt, int32_t partition,
							   const void *key, size_t key_len, const void *value,
							   size_t value_len, const char *id, size_t id_len, uint64_t tag,
							   int64_t schema_id, int32_t schema_version);

/* The sink's flush(): every delivery (or, transactional, a commit). */
bool		kfk_flush(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen);

/* ---- kafka_wire.c ------------------------------------------------------ */

/* Confluent's wire format: a 0 byte, then the schema id, 4 bytes big
 * endian, then the encoded value. */
#define KFK_WIRE_HEADER 5

/* Write the 5-byte header of schema_id into out. */
void		kfk_wire_header(unsigned char *out, int64_t schema_id);

typedef struct kfk_wire kfk_wire;

/* The encoder of a framed key_format or value_format (json_sr, avro);
 * `placeholder` is the unchanged-TOAST string or NULL.  NULL when both
 * are json. */
kfk_wire   *kfk_wire_new(const trib_kafka_conf *c, const char *placeholder);
void		kfk_wire_free(kfk_wire *w);

/*
 * The value to send for record i of ev's records (rec is the JSON one):
 * *value and *len (NULL: a null value), or *skip when the format sends no such
 * record (avro writes a delete as one null value, not the envelope's
 * record and tombstone).  Only row events (c, u, d, r) stamped with a
 * schema id are framed; truncates and messages keep their JSON.  The
 * bytes stay valid until the next call.  false with errbuf: the event
 * cannot be written in this format.
 */
bool		kfk_wire_value(kfk_wire *w, const trib_event *ev, const trib_record *rec,
						   size_t i, const void **value, size_t *len, bool *skip,
						   char *errbuf, size_t errlen);

/*
 * The key to send for ev's record rec: *key and *len, framed with the key
 * schema id the schema stage stamped (schemas.keys) under key_format
 * json_sr or avro; the JSON key as it is otherwise (key_format json, no
 * key schema, not a stamped row event).  The bytes stay valid until the
 * next call.  false with errbuf.
 */
bool		kfk_wire_key(kfk_wire *w, const trib_event *ev, const trib_record *rec,
						 const void **key, size_t *len, char *errbuf, size_t errlen);

/* ---- kafka_avro.c ------------------------------------------------------ */

typedef struct kfk_avro kfk_avro;

/* An encoder of rows, or of keys (the key columns only); placeholder (may
 * be NULL) fills unchanged TOAST columns. */
kfk_avro   *kfk_avro_new(const char *placeholder, bool key);
void		kfk_avro_free(kfk_avro *a);

/* The schema a record is written with: the id (and version, 0 when not
 * known) the framing carries and the document registered under it (event.h,
 * schema_doc); a NULL doc is the relation's own schema, as the stage would
 * register it. */
typedef struct kfk_avro_id
{
	int64_t		id;
	int32_t		version;
	const char *doc;
} kfk_avro_id;

/* The framed Avro binary of row (JSON object text, columns of rel, from
 * a source of type `connector`, whose type mapping it follows) written
 * with the schema registered under id: *out and *len, valid until the
 * next call.  false with errbuf naming the table, the column, the id and
 * version, and for a value that does not fit, the Avro type and the value. */
bool		kfk_avro_encode(kfk_avro *a, const kfk_avro_id *id, const char *connector,
							const trib_relation *rel, const char *row,
							const unsigned char **out, size_t *len, char *errbuf, size_t errlen);

/* ---- kafka_checkpoint.c ------------------------------------------------ */

/* Find (or create) the checkpoint topic and the sink's partition in it. */
bool		kfk_setup_checkpoint(trib_kafka *k, char *errbuf, size_t errlen);

/* The checkpoint record's value for a position, with what env keeps in a
 * checkpoint (envelope.h; env may be NULL: nothing) and a snapshot's
 * progress (snap, counting the events up to *counted; NULL: none) in its
 * "snapshot" member (malloc'd, *len bytes); the opaque part and the
 * progress sealed with sealer's key when it has one (sink_seal.h).  NULL
 * with errbuf if it cannot be written. */
char	   *kfk_checkpoint_value_snap(const trib_sink *sealer, const trib_position *pos,
									  const trib_envelope *env, const char *snap,
									  const trib_position *counted, size_t *len,
									  char *errbuf, size_t errlen);

/* A checkpoint record's value (len bytes, read from the topic: any
 * bytes) back into a position (its opaque malloc'd), and its snapshot
 * progress into *snap (malloc'd; NULL when none) and *counted; what the
 * envelope keeps in it goes back to env (envelope.h) when the record is
 * readable.  False when it is not a checkpoint record. */
bool		kfk_checkpoint_parse(const char *text, size_t len, trib_position *out,
								 trib_envelope *env, char **snap, trib_position *counted);

/* The sink's snapshot_mark() (kafka_txn.c). */
bool		kfk_snapshot_mark(trib_sink *sink, const trib_position *at,
							  const trib_position *counted, const char *json);

/* The sink's snapshot_saved(): the progress the durable checkpoint holds. */
const char *kfk_snapshot_saved(trib_sink *sink, trib_position *counted);

/* The sink's durable_position(): the last committed checkpoint. */
bool		kfk_durable_position(trib_sink *sink, trib_position *out,
								 char *errbuf, size_t errlen);

/* ---- kafka_check.c ----------------------------------------------------- */

/* The sink's check(): the brokers' reachability (sink.h). */
void		kfk_check(const struct trib_plugin_conf *conf, struct trib_check_report *rep);

#endif							/* TRIB_SINK_KAFKA_INT_H */
