/*
 * sink.h: the interface every sink implements.
 *
 * Design.  A sink is a struct of function pointers (like pgbouncer's SBufIO
 * or Redis's ae backends).  A sink type lives in its own folder under
 * sink/ with its settings struct and key table, and registers itself with
 * one line in the registry (registry.h, cli/registry.c); sinks.c
 * opens a configured sink through its registered operations, and
 * `tributary check` asks it through `check`.  The pipeline hands each sink
 * events in source order; the sink may batch and send asynchronously, and tells the pipeline
 * through `ack` which position is durable.  The pipeline confirms the
 * source (the replication slot) only up to the minimum position that every
 * sink has acknowledged.
 *
 * Exactly-once in effect.  Each sink stores, atomically with its data, the
 * position of the last event it made durable (the Postgres sink in the same
 * transaction as the rows; the Kafka sink through transactional producing or
 * per-event ids, see docs).  `durable_position` reports it at start-up, and
 * the pipeline resumes the source after the minimum over all sinks.  With
 * checkpoint.encryption_key the opaque part a sink stores is sealed with
 * the key the pipeline hands it in `seal_key` (sink_seal.h).
 *
 * Errors: functions return false and fill errbuf (librdkafka/kcat style);
 * they never exit.  A sink keeps its own state in `state`.
 */
#ifndef TRIB_SINK_H
#define TRIB_SINK_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"

typedef struct trib_sink trib_sink;
struct trib_key;				/* keys.h */
struct trib_plugin_conf;		/* config.h: a member of `sinks:` */
struct trib_check_report;		/* check_report.h */

/* Called by a sink when everything up to `pos` is durable. */
typedef void (*trib_sink_ack_fn) (trib_sink *sink, const trib_position *pos,
								  void *arg);

typedef struct trib_sink_ops
{
	const char *type;			/* "kafka", "postgres", "file", "stdout" */

	/* Start: connect, create what is missing.  `conf` is the sink's
	 * member of `sinks:` (config.h), whose `conf` is the sink's own
	 * settings struct; sink->name, ->pipeline, ->metrics and the ack
	 * callback are set before.  Sets sink->ops and sink->state. */
	bool		(*open) (trib_sink *sink, const struct trib_plugin_conf *conf,
						 char *errbuf, size_t errlen);

	/* The last position this sink made durable, or false when none;
	 * out->opaque is borrowed: the sink's, valid until its next call. */
	bool		(*durable_position) (trib_sink *sink, trib_position *out,
									 char *errbuf, size_t errlen);

	/* Queue one event.  May block when the sink's queue is full.  The
	 * event belongs to the caller and is freed after write() returns: a
	 * sink copies whatever it keeps (payload, position). */
	bool		(*write) (trib_sink *sink, const trib_event *ev,
						  char *errbuf, size_t errlen);

	/* Make everything written so far durable; acks follow.  False means
	 * the sink has failed.  A sink still working on it when timeout_ms
	 * passes (a Kafka broker down, retries under way) may return true:
	 * its acks come later, and the pipeline never checkpoints or
	 * confirms past an ack, so waiting loses nothing. */
	bool		(*flush) (trib_sink *sink, int timeout_ms,
						  char *errbuf, size_t errlen);

	/* Serve callbacks (delivery reports) and timers; returns quickly.
	 * False, with errbuf filled, when the sink has failed for good (a
	 * permanent delivery error, a batch that could not be applied): the
	 * pipeline stops even while the source is idle, instead of learning
	 * of the failure at the next write or flush. */
	bool		(*poll) (trib_sink *sink, int timeout_ms,
						 char *errbuf, size_t errlen);

	/* Optional (NULL: none): a descriptor that becomes readable once
	 * poll() has acknowledgements or an error to hand out, so that the
	 * pipeline can wait for them together with its sources instead of
	 * waking every millisecond to poll.  0 or less: none.  Asked once,
	 * when the stream starts (after open; pipeline_wake.c), so it must
	 * stay the same for the sink's life.  The sink clears it in poll(),
	 * which the pipeline calls on every turn; a spurious wake-up is
	 * harmless. */
	int			(*wake_fd) (trib_sink *sink);

	/* Flush what can be flushed and release everything; with
	 * sink->discard set, write nothing more: drop what is buffered. */
	void		(*close) (trib_sink *sink);

	/* Optional: after a failure, was it a lost connection to a database
	 * (a server restart) rather than a refusal?  The pipeline is then
	 * built again after a backoff instead of the process exiting. */
	bool		(*lost_connection) (trib_sink *sink);

	/* Optional: a table the source will deliver or has delivered, with
	 * the relation its rows have after the transforms (its schema and
	 * table name the source's): create its target now if the sink creates
	 * targets and it is missing, so that a table no row reaches (an empty
	 * table, a sample that selected none) still has one.  Idempotent; a
	 * sink that does not create targets (or is told not to) does nothing.
	 * The Kafka and file sinks have nothing to create and leave it NULL. */
	bool		(*prepare_table) (trib_sink *sink, const trib_relation *rel,
								  char *errbuf, size_t errlen);

	/* Optional: a snapshot resumes, and the rows its checkpoint counts are
	 * the events up to `to` (same commit_lsn as the snapshot's events):
	 * drop every event after `to` this sink holds, if it can, because the
	 * copy sends those rows again under new ids (docs/SNAPSHOT.md,
	 * Positions).  Called before anything is written in this run; the
	 * sink's durable position is then `to` when it was after it.  A sink
	 * that holds nothing after `to` does nothing.  NULL: the sink cannot
	 * drop what it holds (it keeps those rows, at least once). */
	bool		(*rewind) (trib_sink *sink, const trib_position *to,
						   char *errbuf, size_t errlen);

	/* Optional: a snapshot's progress document `json` (snapshot_progress.h)
	 * counts exactly the snapshot's events up to `counted`, and every
	 * event up to `at` (at or after `counted`) has been written; a flush
	 * follows.  A sink that stores its position atomically with its data
	 * keeps the document with that position when its last event is at or
	 * before `at` (the Kafka sink, in the same transaction as the rows),
	 * so that a restart resumes the copy from what it holds
	 * (snapshot_saved).  Returns whether the sink keeps such documents;
	 * called with json NULL only to ask that.  NULL: it keeps none. */
	bool		(*snapshot_mark) (trib_sink *sink, const trib_position *at,
								  const trib_position *counted, const char *json);

	/* Optional: the snapshot progress document stored with the durable
	 * position (snapshot_mark), and the last event it counts, into
	 * *counted; NULL when the durable position has none.  Borrowed: the
	 * sink's, valid until its next call. */
	const char *(*snapshot_saved) (trib_sink *sink, trib_position *counted);

	/* Optional, for `tributary check` (never during `run`): report on
	 * `rep` whether the system `conf` names is reachable and what `run`
	 * would do there, read-only and with short timeouts, counting what
	 * would stop `run` as problems.  The caller printed the sink's
	 * heading line already. */
	void		(*check) (const struct trib_plugin_conf *conf,
						  struct trib_check_report *rep);

	/* Optional: what the records of a sink with settings `conf` need of
	 * an event beyond what every event carries (TRIB_NEED_* of event.h);
	 * the pipeline asks its sources for the union of its sinks' (source.h
	 * trib_source.needs), so a part no sink reads is never computed.
	 * NULL: nothing. */
	unsigned	(*needs) (const struct trib_plugin_conf *conf);
} trib_sink_ops;

struct trib_sink
{
	const trib_sink_ops *ops;
	char	   *name;			/* from the config */
	trib_sink_ack_fn ack;
	void	   *ack_arg;
	void	   *state;			/* the implementation's own */
	struct trib_metrics *metrics;	/* set before open: where a sink may
									 * register counters of its own; NULL:
									 * none */
	const char *pipeline;		/* set before open: the pipeline's name
								 * (stored positions, default topic
								 * prefix); NULL: none */
	bool		discard;		/* set before close by a pipeline that lost
								 * its lock (another consumer may be writing
								 * already): close() drops what it buffers
								 * instead of writing it */
	struct trib_key *seal_key;	/* set before open: seals the position the
								 * sink stores for itself (sink_seal.h,
								 * checkpoint.encryption_key); NULL: none.
								 * Owned by whoever opened the sink */
	bool		seal_warned;	/* a clear stored position was reported */
};

/*
 * A sink's failure for good (sink.c): once set, every later write, flush
 * and poll reports its message.  A sink keeps one in its state.
 */
typedef struct trib_sink_fault
{
	bool		failed;
	char		msg[1024];
} trib_sink_fault;

/* False with "<what> not open" when fault is NULL (pass NULL when the
 * sink's state is), with the fault's message once it is set; else true. */
bool		trib_sink_usable(const trib_sink_fault *fault, const char *what,
							 char *errbuf, size_t errlen);

/* For ops->open given no settings of its type (the plugin's accessor
 * gave NULL): false, errbuf saying "<type> sink: no configuration". */
bool		trib_sink_no_conf(const char *type, char *errbuf, size_t errlen);

/* Copy the fault's message to errbuf; returns false. */
bool		trib_sink_failed_out(const trib_sink_fault *fault, char *errbuf, size_t errlen);

/* Set the fault (its message from fmt), copy it to errbuf; returns false. */
bool		trib_sink_fail(trib_sink_fault *fault, char *errbuf, size_t errlen,
						   const char *fmt,...) __attribute__((format(printf, 4, 5)));

/* durable_position for a sink that keeps its stored position: false when
 * it has none, else *out is a copy whose `opaque` is borrowed (the sink
 * keeps it). */
bool		trib_sink_report_durable(bool has_durable, const trib_position *durable,
									 trib_position *out);

#endif							/* TRIB_SINK_H */
