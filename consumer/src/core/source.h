/*
 * source.h: the interface every source implements; the twin of sink.h.
 *
 * Design.  A source is a struct of function pointers, as PostgreSQL's
 * walreceiver is reached only through WalReceiverFunctionsType and an
 * output plugin through its callbacks: the pipeline never includes an
 * implementation's header.  A source type lives in its own folder under
 * source/ with its settings struct and key table, and registers itself
 * with one line in the registry (registry.h, cli/registry.c).
 *
 * What the pipeline sees.  poll() yields source-neutral items in stream
 * order: a transaction's begin, its events, its end.  Everything a source
 * does to get there stays inside it: for PostgreSQL the replication
 * protocol, keepalives and heartbeats, streamed transactions (buffered
 * until their commit) and prepared ones (held until COMMIT PREPARED), so
 * the pipeline only ever sees ordinary, committed transactions.  An END
 * item carries the transaction's position; once every event before it is
 * durable in every sink (and checkpointed) the pipeline hands that
 * position to confirm(), and the source may then tell its upstream
 * (acknowledge the slot, the binlog, the resume token).  A source may
 * confirm less than it is given (PostgreSQL keeps the slot before the
 * PREPARE of a prepared transaction it still needs).
 *
 * Positions.  trib_position (position.h) is opaque to the pipeline: it
 * orders positions with compare(), writes them with format_id() (the text
 * of logs, /status and event ids) and describe(), shows them as a number
 * with gauge() (/metrics), and hands them to the checkpoint store, which
 * keeps them in its columns with store_form() and reads them back with
 * parse_id().  The pipeline never reads a field of a position; it copies
 * them whole and owns none of their `opaque` texts.  The checkpoint store
 * and the pipeline lock are the pipeline's and know no source type.
 * What a source must put in the fields so that the sinks and the
 * checkpoint stores work unchanged for it is position.h's contract.
 *
 * Snapshot.  The optional snapshot() copies the captured tables as op 'r'
 * events, handed to the pipeline through a trib_source_host (the
 * pipeline's services: deliver, flush, checkpoint), before streaming
 * starts.  The caller of the pipeline's phases (cli/runner.c) runs it.
 *
 * Lifecycle: open (from the source's member of `sources:`, connecting
 * nothing), start (from a resume position), poll ... confirm ..., report,
 * close.  Errors: functions return false (or -1) and fill errbuf; they
 * never exit.  A source keeps its own state in `state`, and is used from
 * one thread.
 */
#ifndef TRIB_SOURCE_H
#define TRIB_SOURCE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

typedef struct trib_source trib_source;
struct trib_plugin_conf;		/* config.h: a member of `sources:` */
struct trib_check_report;		/* check_report.h */
struct trib_metrics;			/* metrics.h */
struct trib_metric;

/* The longest the pipeline waits in poll() while idle, in ms.  A source
 * whose server call blocks (a MongoDB getMore) waits no longer than this
 * per call, so a poll returns about when asked and a stop, a pause or a
 * checkpoint timer is not held up. */
#define TRIB_SOURCE_POLL_MS 100

/* What poll() yields. */
typedef enum trib_source_item_kind
{
	TRIB_ITEM_BEGIN,			/* a transaction begins; nothing to do */
	TRIB_ITEM_EVENT,			/* one change event of the transaction */
	TRIB_ITEM_END				/* the transaction is complete */
} trib_source_item_kind;

typedef struct trib_source_item
{
	trib_source_item_kind kind;
	/* EVENT: the event, borrowed: the source frees it at the next poll()
	 * or at close; the pipeline may rewrite it in place (transforms). */
	trib_event *ev;
	/* END: the transaction's position, what confirm() is later given (for
	 * PostgreSQL commit_lsn, seq TRIB_SEQ_ALL, end_lsn); opaque NULL,
	 * except for a source with resume_opaque (below): then its text to
	 * resume after the whole transaction, borrowed like `ev`. */
	trib_position end;
	int64_t		ts_ms;			/* END: commit time in ms; 0: unknown */
} trib_source_item;

/*
 * The pipeline's services to a source's snapshot (each takes `arg`).  The
 * pipeline defines it; a source calls it only from snapshot().
 */
typedef struct trib_source_host
{
	void	   *arg;
	const char *pipeline;		/* the pipeline's name */
	/* Transform and write one event to every sink that lacks it; the
	 * caller frees it after. */
	bool		(*deliver) (void *arg, trib_event *ev, char *errbuf, size_t errlen);
	/* A batch of events ends (the transforms' uniqueness checks restart). */
	void		(*batch_end) (void *arg);
	/* Make the sinks flush, then serve their callbacks. */
	bool		(*flush) (void *arg, int timeout_ms, char *errbuf, size_t errlen);
	/* Serve the sinks' callbacks. */
	bool		(*poll) (void *arg, int timeout_ms, char *errbuf, size_t errlen);
	/* The minimum over the sinks of their durable position. */
	bool		(*durable) (void *arg, trib_position *out);
	/* The highest position any sink stores or the checkpoint holds. */
	bool		(*stored_max) (void *arg, trib_position *out);
	/* A snapshot resumes and its checkpoint counts the events up to `to`:
	 * have every sink that can drop what it holds after `to` (sink.h
	 * rewind) do so.  NULL (several sources) or false with errbuf. */
	bool		(*rewind) (void *arg, const trib_position *to, char *errbuf, size_t errlen);
	/* The checkpoint: load (1 found, 0 none, -1 error; *out owns its
	 * opaque) and save (the pipeline then counts it as saved).  load
	 * gives, instead of the checkpoint, the snapshot progress a sink
	 * stored with its data (sink.h snapshot_saved) when it counts more
	 * than the checkpoint and every sink holds what it counts. */
	int			(*load) (void *arg, trib_position *out, char *errbuf, size_t errlen);
	bool		(*save) (void *arg, const trib_position *pos, char *errbuf, size_t errlen);
	/* A snapshot's progress `json` counts the events up to `counted`,
	 * and every event up to `at` was written: hand it to the sinks that
	 * keep it with their data (sink.h snapshot_mark) before a flush.
	 * Returns whether any sink keeps such documents (json NULL: only
	 * asks).  NULL (several sources): none. */
	bool		(*mark) (void *arg, const trib_position *at, const trib_position *counted,
						 const char *json);
	/* The snapshot copied a table (every row of it is delivered): its
	 * relation as the source describes it.  The pipeline has the sinks
	 * create its target when the transforms let the shape be known without
	 * a row (sink.h prepare_table), so an empty table is copied too. */
	bool		(*table_copied) (void *arg, const trib_relation *rel,
								 char *errbuf, size_t errlen);
	/* The state /status and /health report ("snapshot"). */
	void		(*set_state) (void *arg, const char *state);
	/* Do we still hold the pipeline lock? */
	bool		(*leader_ok) (void *arg, char *errbuf, size_t errlen);
	/* For a source that infers its relations, kept after the snapshot and
	 * called from the thread that polls: the relation of the latest
	 * version registered for ev's table (schema_stage.h
	 * trib_schema_stage_registered: 1 with *out, the caller's; 0 none,
	 * errbuf saying why when there is a reason; -1 the catalog failed). 0
	 * without a schema stage. */
	int			(*registered) (void *arg, const trib_event *ev, trib_relation **out,
							   char *errbuf, size_t errlen);
	/* For a source that learns a table's new shape before any row of it
	 * (MySQL: a DDL statement), kept after the snapshot and called from
	 * the thread that polls, before poll() hands out any item after that
	 * position: register ev->rel's shape at ev->pos (schema_stage.h
	 * trib_schema_stage_declare); ev is the caller's, without values.
	 * true without a schema stage; false with errbuf (the catalog). */
	bool		(*declare) (void *arg, const trib_event *ev, char *errbuf, size_t errlen);
} trib_source_host;

/* snapshot()'s results. */
#define TRIB_SNAPSHOT_FAILED (-1)
#define TRIB_SNAPSHOT_STOPPED 0	/* interrupted by *stop; progress saved */
#define TRIB_SNAPSHOT_DONE 1	/* complete or not needed: now stream */
#define TRIB_SNAPSHOT_DONE_STOP 2	/* complete; the source's config (or
									 * `only`) says stop here */

typedef struct trib_source_ops
{
	const char *type;			/* "postgres" */

	/* Optional, for messages: where start() begins without a resume
	 * position, in the source's own words ("the slot's position").  NULL:
	 * "the source's own position" (trib_source_origin()). */
	const char *origin;

	/* Optional, for the message that ends the daemon when the source's own
	 * pipeline lock (leader() below) refused our login for good: what to
	 * correct ("the user or password ...").  A lock in PostgreSQL
	 * (lock_dsn) has the pipeline's PostgreSQL wording instead. */
	const char *login_hint;

	/*
	 * true: the source resumes by its opaque position (MongoDB: the
	 * resume token), so the pipeline keeps it (with several sources, in
	 * the merged positions too: merge.h).  The checkpoint is saved with
	 * the opaque text of the END item it stands for (resume_text's for a
	 * checkpoint inside a transaction), and start() is given the opaque
	 * text stored with the resume position (the checkpoint's, or the
	 * sink's own stored position's).  false: opaque texts stay the sinks'
	 * and start() gets none.
	 */
	bool		resume_opaque;

	/*
	 * Optional: the row field whose value the source's stored positions
	 * encode (MongoDB: "_id", which a resume token holds as the event's
	 * documentKey), or NULL.  A masking rule on it leaves the clear value
	 * in the checkpoint store unless checkpoint.encryption_key seals it;
	 * the pipeline warns (trib_checkpoint_key_exposed, checkpoint.h).
	 */
	const char *position_key_field;

	/*
	 * Optional, with resume_opaque: the opaque text that resumes just
	 * after the event at `pos`, inside its transaction (malloc'd; the
	 * caller frees it), or NULL when the source does not know it.  The
	 * pipeline asks for it when it saves a checkpoint inside a
	 * transaction, for increasing positions, so the source may forget the
	 * texts of events before `pos`; those of a confirmed transaction too.
	 */
	char	   *(*resume_text) (trib_source *src, const trib_position *pos);

	/* Validate `conf` (the source's member of `sources:`, whose `conf` is
	 * its own settings struct) and set up; connects nothing.  src->name,
	 * ->pipeline, ->metrics, ->m_lag_bytes, ->erasure and ->needs are set
	 * before.  Sets src->state, ->lock_dsn, ->fenced and the backoff. */
	bool		(*open) (trib_source *src, const struct trib_plugin_conf *conf,
						 char *errbuf, size_t errlen);

	/* Optional: copy the captured tables as op 'r' events through `host`
	 * (see above), before start().  only: copy whatever the config says,
	 * then stop (`tributary snapshot`).  Returns TRIB_SNAPSHOT_*. */
	int			(*snapshot) (trib_source *src, const trib_source_host *host,
							 bool only, volatile sig_atomic_t *stop,
							 char *errbuf, size_t errlen);

	/* Connect and stream after `resume` (a position a sink or the
	 * checkpoint stored), or from the source's own position when NULL. */
	bool		(*start) (trib_source *src, const trib_position *resume,
						  char *errbuf, size_t errlen);

	/* Wait up to timeout_ms (the pipeline asks TRIB_SOURCE_POLL_MS while
	 * idle); fill at most `max` items.  Returns how many (0 on timeout or
	 * while reconnecting), -1 on a fatal error.  Items of the previous call
	 * are released. */
	int			(*poll) (trib_source *src, trib_source_item *items, int max,
						 int timeout_ms, char *errbuf, size_t errlen);

	/* Order of positions: <0, 0, >0. */
	int			(*compare) (const trib_position *a, const trib_position *b);

	/* The position's id ("L:S", "L" for a whole transaction); truncates
	 * to len like snprintf; returns the length. */
	size_t		(*format_id) (const trib_position *pos, char *buf, size_t len);

	/* The inverse of format_id: the position an id names ("L:S", or "L"
	 * for a whole transaction), opaque NULL; false when `id` is not one.
	 * The checkpoint store reads a stored position with it, from its key
	 * and seq written "KEY:SEQ" (see store_form). */
	bool		(*parse_id) (const char *id, trib_position *out);

	/* The checkpoint store's form of a position (pipeline/checkpoint.c):
	 * `key`, the ordered part as an LSN's text ("0/16B3748", what a pg_lsn
	 * column holds; "" when the position has none and only its opaque
	 * part counts), and `seq`, at most INT64_MAX (a bigint column).
	 * parse_id("KEY:SEQ") gives the position back.  key has room for
	 * TRIB_LSN_BUFLEN bytes. */
	void		(*store_form) (const trib_position *pos, char *key, size_t keylen,
							   uint64_t *seq);

	/* The position as one number, for the gauges of /metrics
	 * (tributary_checkpoint_lsn, tributary_sink_acked_lsn): what orders
	 * the stream before seq (PostgreSQL: the commit LSN). */
	double		(*gauge) (const trib_position *pos);

	/* Optional: the position in words for the logs ("event L:S", "the
	 * transaction committed at L"); truncates like snprintf.  NULL: the
	 * pipeline writes format_id's text. */
	size_t		(*describe) (const trib_position *pos, char *buf, size_t len);

	/* Everything up to the transaction that ended at `end` (an END
	 * item's position) is durable and checkpointed. */
	void		(*confirm) (trib_source *src, const trib_position *end);

	/* What the source confirmed upstream, as a position (confirm() may
	 * hold back); zero when nothing yet. */
	void		(*confirmed) (const trib_source *src, trib_position *out);

	/* Tell the upstream now what is confirmed (before a clean stop;
	 * changed_only: only when that moved since the last report). */
	bool		(*report) (trib_source *src, bool changed_only,
						   char *errbuf, size_t errlen);

	/* Refresh the source's gauges (src->m_lag_bytes and its own). */
	void		(*update_metrics) (trib_source *src);

	/* After a failure: did the upstream refuse the credentials for good
	 * (retrying cannot help)? */
	bool		(*refused) (const trib_source *src);

	/* Stop streaming, report a last time, and release everything. */
	void		(*close) (trib_source *src);

	/* Optional: the pipeline lock in the source's own server (leader.h),
	 * for a pipeline whose first source this is, given its settings;
	 * NULL: the pipeline takes the PostgreSQL lock in lock_dsn.  Connects
	 * nothing. */
	struct trib_leader *(*leader) (const struct trib_plugin_conf *conf,
								   const char *pipeline);

	/* Optional, for `tributary check` (never during `run`): report on
	 * `rep` whether the system `conf` names is reachable and what `run`
	 * would do there, read-only, counting what would stop `run` as
	 * problems.  `erasure`: the pipeline has an erasure section. */
	void		(*check) (const struct trib_plugin_conf *conf, bool erasure,
						  struct trib_check_report *rep);
} trib_source_ops;

struct trib_source
{
	const trib_source_ops *ops;
	const char *name;			/* from the config */
	const char *pipeline;		/* the pipeline's name */
	bool		erasure;		/* capture the erasure requests too
								 * (the pipeline's `erasure` section) */
	unsigned	needs;			/* TRIB_NEED_* (event.h): what some sink's
								 * records need of the events beyond what
								 * every event carries; 0: nothing */
	struct trib_metrics *metrics;	/* where the source registers its own
									 * series */
	struct trib_metric *m_lag_bytes;	/* the pipeline's lag gauge for it */
	void	   *state;			/* the implementation's own */
	/* set by open: */
	const char *lock_dsn;		/* conninfo of the database that holds the
								 * pipeline lock (PostgreSQL: its own) */
	bool		fenced;			/* the upstream serves one consumer at a time
								 * (PostgreSQL's slot), so a standby that
								 * took the lock cannot read before the old
								 * leader has let go */
	bool		can_wake;		/* poll() also returns, with 0 items, once
								 * wake_fd is readable (or it caps its wait
								 * at 1 ms where it cannot watch it) */
	int			wake_fd;		/* set by the pipeline before each poll:
								 * while acks are owed, the wake_fd
								 * (sink.h) of the sink it waits for;
								 * 0 or less: none */
	int			backoff_initial_ms; /* retrying an unreachable upstream */
	int			backoff_max_ms;
	/* kept by trib_source_confirm_noted (below): */
	trib_position noted;		/* the newest END given to confirm() */
};

/*
 * For a source whose upstream keeps no replica position (MySQL, MongoDB;
 * source.c): confirm() notes `end` in *confirmed when it is later (its
 * opaque part is not kept); confirm_noted is that confirm() with
 * src->noted, confirmed_noted the confirmed() that answers it, and
 * report_nothing is a report() with nothing to send.
 */
void		trib_source_note_confirmed(trib_position *confirmed, const trib_position *end);
void		trib_source_confirm_noted(trib_source *src, const trib_position *end);
void		trib_source_confirmed_noted(const trib_source *src, trib_position *out);
bool		trib_source_report_nothing(trib_source *src, bool changed_only,
									   char *errbuf, size_t errlen);

/* For ops->open given another type's settings: false, errbuf saying
 * "source <name>: not a <ops->type> source". */
bool		trib_source_not_ours(const trib_source *src, char *errbuf, size_t errlen);

/*
 * The end of every ops->open: src->state, ->lock_dsn and the reconnect
 * backoff (initial and max, in ms) from the source's settings.
 */
void		trib_source_opened(trib_source *src, void *state, const char *lock_dsn,
							   int backoff_initial_ms, int backoff_max_ms);

/*
 * The source's own series of a gauge (counter: of a counter) family
 * `name` labelled "source", registered in src->metrics (NULL when the
 * source has no registry).
 */
struct trib_metric *trib_source_metric(const trib_source *src, bool counter, const char *name,
									   const char *help);

/* ops->origin, or the neutral "the source's own position" (static text). */
const char *trib_source_origin(const trib_source_ops *ops);

#endif							/* TRIB_SOURCE_H */
