/*
 * sink_kafka.h: the Kafka sink: Debezium-compatible records through an
 * idempotent or transactional librdkafka producer.
 *
 * Design.  Each event becomes one or more records (envelope.h) produced
 * with enable.idempotence=true, acks=all and partitioner=murmur2_random
 * (the Java client's partitioning, so a key lands where a Java producer
 * would put it), keyed by the primary key, with the event id in the header
 * `tributary.id` ("commit_lsn:seq").  Two modes:
 *
 * At-least-once (default).  Delivery reports drive acks.  Each written
 * event gets a write number; an ack tracker (core/ack_tracker.h) turns
 * delivery reports, which arrive out of order across partitions, into a
 * monotonic low watermark: the sink acks the highest position P such that every event
 * written up to P is delivered (O(1) amortised per event; one ack call per
 * advance).  A permanent delivery error (after librdkafka's retries) stops
 * the watermark for good and fails the next write/flush/poll: the pipeline
 * stops without confirming, so nothing is lost.  On restart the pipeline
 * resumes from its own checkpoint store, so events after the last ack may
 * be written again: at-least-once, never reordered per key (idempotence
 * keeps order and drops the producer's own retries); a consumer can drop
 * re-sent copies by `tributary.id`.  durable_position() reports none.
 * A flush that times out with records still in flight (a broker down or
 * slow) is not a failure: it logs a warning and returns true, the records
 * stay queued and are acked when delivered, so an outage shorter than
 * message.timeout.ms (librdkafka's default: 5 minutes) costs a delay,
 * not a restart (and the repeats a restart would bring).
 *
 * Exactly-once (transactional).  With transactional=true the producer has
 * a transactional.id and calls init_transactions() at open, which fences
 * any older instance with the same id and resolves its open transaction.
 * Writes go into a Kafka transaction (begun by trib_kafka_begin() or by
 * the first write).  trib_kafka_commit() waits until every record of the
 * transaction is delivered, then produces a checkpoint record -- key = the
 * checkpoint key (default the transactional.id), value = the position of
 * the last event written -- to the compacted topic
 * `__tributary_checkpoints`, inside the same transaction, then commits
 * (a transaction with a failed record is aborted before it gets a
 * checkpoint).
 * The transaction's records and its checkpoint become visible to
 * read_committed consumers atomically, or not at all.  durable_position()
 * reads the last committed checkpoint (read_committed), so a restarted
 * pipeline resumes the source right after the last committed event:
 * every event is in the committed log exactly once.  Acks are given only
 * after a successful commit (the last position of the transaction).
 * During a snapshot the checkpoint record also carries the copy's
 * progress that counts the rows committed (sink.h snapshot_mark and
 * snapshot_saved, kafka_checkpoint.c), so that a restart resumes the copy
 * after them even when the pipeline's checkpoint store is behind
 * (docs/SNAPSHOT.md, Positions).
 * flush() commits the open transaction, so a pipeline that only knows the
 * generic sink interface gets one Kafka transaction per flush interval.
 * A failed commit aborts the transaction and fails the sink (the pipeline
 * must restart from durable_position()); trib_kafka_abort() aborts on
 * purpose and leaves the sink usable.  Consumers that read with
 * read_uncommitted (Kafka's default!) can see aborted records.  Commit
 * more often than transaction.timeout.ms (60 s by default), or the
 * coordinator aborts the transaction and the commit fails.  The
 * principal needs Write and Describe on the checkpoint topic, Read on it
 * and on the group "tributary-checkpoint-reader" (assign only, no
 * offsets are committed), and the transactional id ACLs.
 *
 * Which position: durable_position() fills `out` with the position of
 * the last event of the last committed transaction; out->opaque belongs
 * to the sink and stays valid until the next call on it.  In
 * at-least-once mode it returns false with an empty errbuf ("none").
 *
 * Secrets.  Properties are passed to rd_kafka_conf_set() untouched; values
 * of properties whose names look secret (password, secret, key material,
 * jaas, token) never appear in errors or log lines.
 *
 * Threading: one thread drives a sink.  Acks are called from inside
 * write/flush/poll/commit/close on that thread.
 */
#ifndef TRIB_SINK_KAFKA_H
#define TRIB_SINK_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "kafka_conf.h"
#include "kafka_props.h"			/* trib_kafka_secret_property() */
#include "sink.h"

#define TRIB_KAFKA_CHECKPOINT_TOPIC "__tributary_checkpoints"
#define TRIB_KAFKA_ID_HEADER "tributary.id"
/* With schema_headers: the event's schema id and version (decimal). */
#define TRIB_KAFKA_SCHEMA_ID_HEADER "tributary.schema_id"
#define TRIB_KAFKA_SCHEMA_VERSION_HEADER "tributary.schema_version"

/* Log levels are syslog's: 3 error, 4 warning, 6 info, 7 debug. */
typedef void (*trib_kafka_log_fn) (void *arg, int level, const char *msg);

/*
 * What the sink needs beyond its settings (kafka_conf.h), which no key of
 * pipeline.yaml sets: timeouts, the checkpoint topic and key, and where
 * librdkafka's log lines go.  Zero and NULL mean the defaults.  The
 * strings are borrowed and must outlive the sink.
 */
typedef struct trib_kafka_tuning
{
	int			timeout_ms;		/* init/commit/metadata; 0: 30000 */
	int			close_timeout_ms;	/* flush at close; 0: 10000, <0: none */
	const char *checkpoint_topic;	/* NULL: TRIB_KAFKA_CHECKPOINT_TOPIC */
	const char *checkpoint_key; /* NULL: the transactional_id */
	trib_kafka_log_fn log;		/* NULL: silent */
	void	   *log_arg;
} trib_kafka_tuning;

/* Counters, for tests and metrics. */
typedef struct trib_kafka_stats
{
	uint64_t	events;			/* events written */
	uint64_t	records;		/* records produced */
	uint64_t	delivered;		/* delivery reports without error */
	uint64_t	failed;			/* delivery reports with an error */
	uint64_t	acks;			/* ack calls */
	uint64_t	in_flight;		/* events written, not yet acked (in
								 * transactional mode: in the open
								 * transaction) */
	uint64_t	commits;		/* committed transactions */
	uint64_t	aborts;			/* aborted transactions */
} trib_kafka_stats;

/* The sink's operations; open() takes a member of `sinks:` (its conf is
 * a trib_kafka_conf) and sends librdkafka's log lines to the daemon's
 * log. */
extern const trib_sink_ops trib_sink_kafka_ops;

/*
 * Open a sink from settings filled by hand (tests, tools): check them,
 * create the producer (and, transactional, init transactions and find the
 * checkpoint partition); sets sink->ops and sink->state.  `conf` is
 * borrowed, not copied: it must outlive the sink, as a loaded config
 * does.  `tuning` is copied; NULL: defaults.  On failure nothing is left.
 */
bool		trib_kafka_open(trib_sink *sink, const trib_kafka_conf *conf,
							const trib_kafka_tuning *tuning,
							char *errbuf, size_t errlen);

/* Transactional mode: begin a transaction (no-op when one is open). */
bool		trib_kafka_begin(trib_sink *sink, char *errbuf, size_t errlen);

/*
 * Transactional mode: produce the checkpoint record and commit.  On
 * success everything written since begin, and the checkpoint, are visible
 * to read_committed consumers, and the sink acks the last position.  On
 * failure the transaction is aborted, the sink fails, and the pipeline
 * must restart from durable_position().  No-op without an open
 * transaction.  In at-least-once mode this is flush().
 */
bool		trib_kafka_commit(trib_sink *sink, int timeout_ms,
							  char *errbuf, size_t errlen);

/* Transactional mode: abort the open transaction on purpose.  Nothing is
 * acked; the caller rewinds its source to durable_position(). */
bool		trib_kafka_abort(trib_sink *sink, int timeout_ms,
							 char *errbuf, size_t errlen);

/* Counters so far. */
void		trib_kafka_get_stats(const trib_sink *sink, trib_kafka_stats *out);

/* True when the sink has failed for good (a permanent delivery error, a
 * fatal producer error, a failed commit), with the error in errbuf.
 * write(), flush() and poll() return it too. */
bool		trib_kafka_error(const trib_sink *sink, char *errbuf, size_t errlen);

#endif							/* TRIB_SINK_KAFKA_H */
