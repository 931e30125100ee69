/*
 * pipeline_int.h: the pipeline's state (struct trib_pipeline, its source
 * and sink slots, the queue of ended transactions), its timings, and what
 * its files share; private to pipeline/.  The files, by concern:
 *   pipeline.c          creation, accessors, finish and free; the design
 *                       of the whole in its top comment
 *   pipeline_open.c     the pipeline lock, the checkpoint store and sinks,
 *                       resume points, starting the sources
 *   pipeline_run.c      the stream loop
 *   pipeline_deliver.c  a source's items to the sinks (the per-event path),
 *                       the sinks' poll, flush and drain
 *   pipeline_advance.c  durable position, checkpoints, confirmations
 *   pipeline_status.c   /metrics gauges, /status, the HTTP endpoints
 *   pipeline_host.c     services to a source's snapshot
 * The small helpers every file uses per event are static inline here.
 */
#ifndef TRIB_PIPELINE_INT_H
#define TRIB_PIPELINE_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline.h"

#include "checkpoint.h"
#include "ckpt_writer.h"
#include "control.h"
#include "erasure.h"
#include "event.h"
#include "http.h"
#include "intern.h"
#include "leader.h"
#include "lineage.h"
#include "merge.h"
#include "metrics.h"
#include "pause.h"
#include "quality_api.h"
#include "registry.h"
#include "registry_api.h"
#include "reload.h"
#include "rules.h"
#include "rules_pool.h"
#include "schema_stage.h"
#include "sink.h"
#include "sink_buffer.h"
#include "source.h"
#include "xalloc.h"

#define POLL_BATCH 512
#define POLL_TIMEOUT_MS TRIB_SOURCE_POLL_MS
#define ACK_POLL_MS 1			/* source wait while sinks owe acks */
#define CHECKPOINT_MS 200
#define DRAIN_TIMEOUT_MS 30000
#define FLUSH_MS 1000			/* flush sinks at least this often when busy */
#define IDLE_FLUSH_MS 100		/* flush once the source was quiet this long */
#define SETTLE_MS 10			/* quiet this long and all acked: checkpoint */
#define SETTLE_EVERY_MS (CHECKPOINT_MS / 2)	/* at most one such save this
											 * often */
#define GAUGE_MS 100			/* refresh /metrics' gauges at least this often
								 * while busy (at once when a turn reads
								 * nothing) */
#define LEADER_RETRY_MS 1000	/* a standby's tries at the pipeline lock */
#define LEADER_CHECK_MS 1000	/* the leader checks it holds the lock at
								 * least this often, and before each flush
								 * when the upstream is not fenced */
#define LEADER_YIELD_MS 2500	/* a consumer that lost the lock tries again
								 * after this at the soonest, so that a
								 * standby takes it */
#define LEADER_TAKEOVER_MS 3000 /* a standby that took the lock waits this
								 * long before writing, fenced or not: by
								 * then the old leader has seen its loss and
								 * stopped */
#define LEADER_REBUILT_MS 2000	/* a pipeline this process builds again
								 * (a reload) within this of the previous
								 * one's clean release takes the lock back
								 * without the takeover wait, retrying every
								 * LEADER_REBUILT_RETRY_MS while the old
								 * session still shows it held; below
								 * LEADER_TAKEOVER_MS, which any other
								 * consumer that took the lock meanwhile
								 * waits before writing */
#define LEADER_REBUILT_RETRY_MS 50
#define KEEPALIVE_MS 1000		/* status updates to a source held by a
								 * pause: well inside a walsender's
								 * wal_sender_timeout even when that is set
								 * as low as 2 s (5 s was not: e2e 86) */
#define RELOAD_ANSWER_MS 1000	/* a reload waits this long at most for the
								 * endpoint's open connections to close */
#define STALL_MS 2000			/* several sources: one silent this long
								 * inside its transaction lets the others
								 * go on (trib_merge_suspend) */

/* A committed transaction whose events are not all durable yet. */
typedef struct pl_pending_tx
{
	size_t		src;			/* its source (index into srcs) */
	trib_position end;			/* the END item's position (the source's) */
	int64_t		ts_ms;			/* commit time */
	int64_t		recv_ms;		/* when the batch with its END was handled
								 * (monotonic; pl_poll_one()) */
	bool		has_last;		/* it has events */
	trib_position last;			/* its last event */
} pl_pending_tx;

/* One source and what the pipeline keeps of it. */
typedef struct pl_src_slot
{
	trib_source src;			/* opened when src.state is set */
	const trib_source_conf *conf;
	trib_metric *m_events;		/* its series, looked up once */
	trib_metric *m_dropped;
	/* With several sources (merge.h), per source; else the pipeline's: */
	trib_checkpoint *ckpt;		/* its checkpoint store */
	bool		has_resume;
	trib_position resume;		/* where it starts streaming (several
								 * sources: owns its opaque) */
	bool		has_saved;
	trib_position saved;		/* its last checkpoint */
	bool		has_durable_end;
	trib_position durable_end;	/* END of its newest durable transaction
								 * with events (owns its opaque) */
	bool		has_confirmable;
	trib_position confirmable;	/* END of its last transaction confirmed */
} pl_src_slot;

/* One sink and what the pipeline knows of it. */
typedef struct pl_sink_slot
{
	trib_pipeline *p;
	trib_sink	sink;
	bool		opened;
	int			wake_fd;		/* its wake_fd (sink.h), asked when the
								 * stream starts (pipeline_wake.c); <= 0:
								 * none */
	bool		has_acked;
	trib_position acked;		/* highest durable position */
	bool		has_skip;
	trib_position skip;			/* it already had everything up to here */
	char	   *skip_opaque;	/* skip's opaque text, owned, when the
								 * source resumes by it (keeps_opaque) */
	uint64_t	written;
	bool		dead_letter;	/* receives only the events rules refuse */
	bool		quarantine;		/* receives only quarantined events (the
								 * schema stage's policy) */
	bool		has_written;
	trib_position last_written; /* the last event handed to it */
	trib_metric *m_events;		/* its series, looked up once */
	trib_metric *m_acked_lsn;
	/* several sources: per source, what it already has (its own stored
	 * merged position's, or the source's checkpoint) */
	bool	   *has_cskip;
	trib_position *cskip;
	size_t		ncskip;			/* how many sources it is ahead of yet */
	/* while paused, and after a resume until drained: what it is owed
	 * (sink_buffer.h); its gauges */
	trib_sink_buffer *held;
	trib_metric *m_held_events;
	trib_metric *m_held_bytes;
} pl_sink_slot;

/* Several sources: one source's snapshot services (init_src_hosts). */
typedef struct pl_src_host
{
	trib_pipeline *p;
	size_t		c;
	trib_source_host host;
	bool		started;		/* an event was delivered */
	uint64_t	m0;				/* the first one's merged group */
	trib_position first;		/* and its own position */
} pl_src_host;

struct trib_pipeline
{
	const trib_config *cfg;
	pl_src_slot *srcs;			/* the sources, as configured */
	size_t		nsrcs;
	trib_merge *merge;			/* several sources: their merged stream
								 * (merge.h); NULL with one */
	const char **merge_names;	/* the merge's borrowed arrays */
	const trib_source_ops **merge_ops;
	size_t		next_src;		/* several sources: the one polled first */
	unsigned long long turn;	/* several sources: poll_sources' calls */
	unsigned long long open_turn;	/* the turn poll_open last polled in */
	long long	polled_since;	/* since when (trib_clock_mono_ms()) the
								 * open source has been polled without a
								 * word: its silence (poll_open's) */
	const trib_source_ops *pops;	/* ops of the positions the sinks see:
									 * the source's, or merged ones */
	trib_source_host host;		/* services to the source's snapshot */
	pl_src_host *shosts;			/* several sources: each one's (nsrcs) */
	trib_leader *leader;
	bool		fenced;			/* every source is (source.h) */
	bool		lock_lost;		/* stopped on losing the lock: write nothing
								 * more, not even the checkpoint */
	bool		led;			/* took the lock and may write: past
								 * become_leader's takeover wait */
	long long	last_leader_check;	/* trib_clock_mono_ms() */
	bool		retriable;		/* failed on a lost database connection */
	bool		refused;		/* the source refused the dsn's credentials */
	const char *login_hint;		/* the first source's, when the lock is its
								 * own; NULL: the PostgreSQL lock's */
	trib_checkpoint *ckpt;
	trib_ckpt_writer *ckw;		/* saves ckpt off the loop, or NULL */
	bool		save_now;		/* one source: save without waiting for
								 * CHECKPOINT_MS (it settled) */
	pl_sink_slot *sinks;
	size_t		nsinks;

	/* the transaction being handled and the queue of committed ones */
	bool		tx_has_last;	/* an event of it reached a sink */
	trib_position tx_last;		/* the last one */
	bool		has_offered;
	trib_position last_offered; /* the last event handled, kept or not */
	trib_rules *rules;			/* transforms; empty when none */
	trib_rules_pool *rules_pool;	/* the rules on a batch's events on several
									 * threads (pure rules, no schema stage);
									 * NULL: one event at a time */
	trib_event **pool_evs;		/* the batch's events it takes (POLL_BATCH) */
	trib_erasure *erasure;		/* erasure requests and the guard; never NULL */
	trib_schema_stage *schemas; /* the schema stage, or NULL when off */
	trib_lineage *lineage;		/* lineage recording, or NULL when off */
	pl_sink_slot *dlq;			/* the dead-letter sink, or NULL */
	pl_sink_slot *quar;			/* the quarantine sink (schemas), or NULL */
	pl_pending_tx *queue;
	size_t		qhead,
				qlen,
				qcap;
	size_t		qdurable;		/* entries from the head known durable */
	bool		has_confirmable;
	trib_position confirmable;	/* END of the last entry confirmed */
	bool		has_durable_tx;
	trib_position durable_tx;	/* newest durable transaction with events:
								 * its END position (owns its opaque, as
								 * the queue's ENDs do: keeps_opaque) */
	bool		has_resume;
	trib_position resume;		/* where streaming starts (open; owns its
								 * opaque) */
	bool		has_written;
	trib_position written;		/* last event handed to the sinks */

	bool		has_saved;
	trib_position saved;		/* last checkpoint written */
	long long	last_ckpt_ms;
	long long	last_settle_ms;	/* the last save made because the source
								 * settled (pl_settled) */
	bool		unreported;		/* a busy turn confirmed something that no
								 * idle turn reported yet (pl_turn_wait) */
	uint64_t	events_in;
	char		state[32];

	trib_metrics *metrics;		/* read by the HTTP thread */
	trib_std_metrics m;
	trib_metric *m_ack_latency;	/* looked up once */
	trib_metric *m_receipt_latency;
	trib_http  *http;
	trib_regapi *regapi;		/* schema registry API on http, or NULL */
	trib_control *control;		/* control API on http, or NULL */
	trib_pause *pause;			/* paused sources and sinks (pause.h) */
	bool		streaming;		/* a paused sink's events are held (not in
								 * the snapshot phase) */
	long long	pressed_since;	/* wall ms since a full buffer of a paused
								 * sink stopped the reading, or 0 */
	trib_metric *m_pressed;		/* tributary_pause_backpressure */
	trib_quality_api *quality;	/* quality/check's rules, or NULL */
	long long	last_keepalive; /* the held sources' last status update */
	bool		acks_owed;		/* pl_wait_ms(): a sink owed acks last turn
								 * (its debug line when they all came) */
	int			ack_fd;			/* the turn's ack wake-up: a sink's
								 * descriptor while acks are owed and
								 * every wait can watch it, else -1
								 * (pl_ack_wake_fd) */
	size_t		ack_sink;		/* the sink whose descriptor it was last */
	uint64_t	ack_wakeups;	/* hold()'s sleeps that acks ended (tests) */
	long long	last_gauges;	/* pl_update_gauges()'s last refresh */
	int64_t		batch_ms;		/* the clock when the batch being handled
								 * ended its first transaction, or 0 */
	trib_reload *reload;		/* reloads (reload.h), or NULL */
	bool		in_tx;			/* between a transaction's first item and
								 * its END: no reload applies here */
	trib_intern *snap_reached;	/* snapshot: "schema\0table" of the tables
								 * an event of which reached a sink */
};

/* Order of positions, the source's: <0, 0, >0. */
static inline int
pos_cmp(const trib_pipeline *p, const trib_position *a, const trib_position *b)
{
	return p->pops->compare(a, b);
}

/*
 * Does the pipeline keep source c's opaque positions (source.h
 * resume_opaque)?  With several sources, in its checkpoint and queue and,
 * beside its stored form, in the merged positions (merge.h).
 */
static inline bool
keeps_opaque(const trib_pipeline *p, size_t c)
{
	return p->srcs[c].src.ops->resume_opaque;
}

/* A copy of source c's opaque text when the pipeline keeps them, else
 * NULL. */
static inline char *
kept_opaque(const trib_pipeline *p, size_t c, const char *opaque)
{
	return keeps_opaque(p, c) && opaque != NULL ? trib_xstrdup(opaque) : NULL;
}

/* Is a reload waiting, and is the pipeline between transactions? */
static inline bool
reload_now(trib_pipeline *p)
{
	return p->reload != NULL && !p->in_tx && trib_reload_due(p->reload);
}

/* pipeline.c */
void		pl_describe_pos(const trib_source_ops *ops, const trib_position *pos, char *buf, size_t len);

/* pipeline_advance.c */
bool		pl_durable_position(trib_pipeline *p, trib_position *out);
bool		pl_collect_saved(trib_pipeline *p, bool wait, char *errbuf, size_t errlen);
bool		pl_advance(trib_pipeline *p, bool force, bool confirm_slot, char *errbuf, size_t errlen);

/* pipeline_deliver.c */
void		pl_note_sink_failure(trib_pipeline *p, pl_sink_slot *s);
int			pl_drain_held(trib_pipeline *p, int max, char *errbuf, size_t errlen);
bool		pl_buffer_full(trib_pipeline *p);
long long	pl_held_ms(const trib_pipeline *p, size_t c);
bool		pl_deliver(trib_pipeline *p, trib_event *ev, size_t c, const trib_position *mp, char *errbuf, size_t errlen);
bool		pl_awaiting_acks(trib_pipeline *p);
int			pl_ack_wake_fd(trib_pipeline *p);
bool		pl_poll_sinks(trib_pipeline *p, int timeout_ms, char *errbuf, size_t errlen);
bool		pl_flush_sinks(trib_pipeline *p, int timeout_ms, char *errbuf, size_t errlen);
bool		pl_drain(trib_pipeline *p, char *errbuf, size_t errlen);
int			pl_poll_one(trib_pipeline *p, size_t c, trib_source_item *items, int timeout_ms, char *errbuf, size_t errlen);

/* pipeline_wake.c: ask every open sink for its wake-up descriptor (at
 * the start of the stream); wait up to timeout_ms for fd (-1: just
 * sleep), true when it became readable (counted in p->ack_wakeups). */
void		pl_wake_open(trib_pipeline *p);
bool		pl_wake_wait(trib_pipeline *p, int fd, int timeout_ms);

/* pipeline_host.c */
void		pl_init_host(trib_pipeline *p);

/*
 * pipeline_open.c.  What this process knows of the pipeline lock's past,
 * for the takeover wait (become_leader): one per process (main.c builds a
 * new pipeline after each reload or failure; only the main thread takes
 * the lock).  The decisions are pure, for test_leader_history.
 */
typedef struct pl_lock_history
{
	bool		contended;		/* saw it held by another consumer, or lost it */
	long long	released_at;	/* trib_clock_mono_ms() of the last clean
								 * release (held to the end, after the sinks
								 * closed: trib_pipeline_free); 0 none, or
								 * lost since */
	char		released[64];	/* the pipeline whose lock that was (a
								 * pipeline name has 53 bytes at most) */
} pl_lock_history;

/* The process's history. */
pl_lock_history *pl_process_lock_history(void);

/* Another consumer held it / we lost it / we released it cleanly at now. */
void		pl_lock_saw_held(pl_lock_history *h);
void		pl_lock_lost(pl_lock_history *h);
void		pl_lock_released(pl_lock_history *h, const char *pipeline, long long now);

/* Pipeline `pipeline` is about to take its lock: a clean release of
 * another pipeline's lock (a legacy file's steps run one after another)
 * is forgotten, since a held lock of this one cannot be that session. */
void		pl_lock_for(pl_lock_history *h, const char *pipeline);

/* Released cleanly less than LEADER_REBUILT_MS ago: a lock that shows held
 * may be our own ending session's (retry soon, not a standby). */
bool		pl_lock_just_released(const pl_lock_history *h, long long now);

/* Taken at now: wait LEADER_TAKEOVER_MS before writing?  Yes after we saw
 * it held by another (held_by_other: a takeover), or when the process
 * was ever contended, unless it released the lock itself just before (a
 * reload). */
bool		pl_lock_takeover_waits(const pl_lock_history *h, bool held_by_other,
								   long long now);

bool		pl_still_leader(trib_pipeline *p, bool now, char *errbuf, size_t errlen);
bool		pl_start_sources(trib_pipeline *p, char *errbuf, size_t errlen);

/* pipeline_run.c (the loop's, exposed to test_pipeline_ack_wake.c): the
 * turn's sleep while no source is read, and how long the turn may wait
 * (sets p->ack_fd) */
int			pl_hold(trib_pipeline *p, int timeout_ms);
int			pl_wait_ms(trib_pipeline *p);
bool		pl_settled(trib_pipeline *p, long long now, long long last_data);
int			pl_turn_wait(trib_pipeline *p, long long last_data);

/* pipeline_status.c */
void		pl_update_gauges(trib_pipeline *p);
void		pl_update_source_metrics(trib_pipeline *p);
bool		pl_start_http(trib_pipeline *p, char *errbuf, size_t errlen);

#endif							/* TRIB_PIPELINE_INT_H */
