/*
 * pipeline.c: one pipeline: a source, its sinks, positions and checkpoints.
 *
 * Data flow.  A single thread polls the source (source.h) for a batch of
 * items (a transaction's begin, its events, its end), hands each event to
 * the transforms and then to every sink (sink.h), and lets the sinks serve
 * their callbacks.  Sinks report through `ack` the highest position they
 * have made durable, in the order events were written.  The pipeline
 * knows the source only through its operations: positions are opaque,
 * ordered by the source's compare() and written by its format_id().
 *
 * Positions.  Every event has a position from the source (PostgreSQL: the
 * output plugin's id, commit_lsn and seq).  The pipeline's durable
 * position is the minimum over the sinks of what each has acknowledged.
 * From it follow two things:
 *   - the checkpoint (checkpoint.c), saved at most every CHECKPOINT_MS
 *     (200 ms), sooner (but not twice within CHECKPOINT_MS / 2) once the
 *     source fell silent and every sink acknowledged everything, and at
 *     shutdown, so a restart can resume in the middle of a large
 *     transaction.  With one source it is written by a thread of its own
 *     (ckpt_writer.h: its fsync took 1 to 60 ms, which every commit
 *     arriving meanwhile waited for) and counts as saved once that thread
 *     says so; the save at shutdown is synchronous;
 *   - the source's confirmation: a transaction's END position is handed to
 *     the source's confirm() only once every one of its events is durable
 *     in every sink and checkpointed (a queue of ended transactions,
 *     oldest first).  A transaction is what was handled since the last END
 *     (a PostgreSQL streamed transaction has no begin).  So an event
 *     outside any transaction (a non-transactional message, which
 *     PostgreSQL sends again only while the slot is not confirmed past it)
 *     goes with the transaction after it.  Empty transactions (the
 *     source's heartbeats) are confirmed as soon as everything before them
 *     is, which keeps the source moving while the tables are idle.  The
 *     source may confirm less than it is given: the PostgreSQL source
 *     keeps the slot before the PREPARE of a prepared transaction it still
 *     needs (pg_source_ops.c); the pipeline sees only committed
 *     transactions.
 *
 * Phases.  cli/runner.c calls open (lock, checkpoint store, sinks, resume
 * point), then the source's snapshot through trib_source_host (the
 * services at the bottom of this file), then stream; the pipeline never
 * calls the snapshot itself.
 *
 * Start-up and exactly-once.  Each sink that stores its own position
 * atomically with its data (Postgres: in the same transaction; Kafka in
 * transactional mode: in its checkpoint topic; files: in a sidecar) reports
 * it through durable_position(); for the others the checkpoint stands in.
 * The source resumes after the oldest of these (the plugin's resume-after
 * suppresses everything before it inside PostgreSQL), and the pipeline
 * skips, per sink, the events that sink already has.  So after a crash at
 * any point every sink receives every event once.  A sink without a stored
 * position of its own (Kafka without transactions) may see the events
 * written after the last checkpoint again: at-least-once, with the event id
 * in every record for downstream deduplication (docs/FORMAT.md).
 *
 * Latency.  While a sink owes acknowledgements the source is polled with
 * a 1 ms timeout, so delivery reports are served as they come.  Sinks are
 * flushed once the source was silent for IDLE_FLUSH_MS and at least every
 * FLUSH_MS, with a timeout of 0: a sink starts making its output durable
 * and returns, and its acks come through poll like any other (a Kafka
 * producer's flush waited about 40 ms for its last delivery report, and
 * every commit behind it waited as long: W3's p99 of 50 ms,
 * docs/BENCHMARKS.md).  Sinks that must finish a flush to make anything
 * durable (a Postgres batch, a file, a Kafka transaction) do it whatever
 * the timeout; only the drain at shutdown waits for the acks.  When the
 * loop is idle, the source's report() tells its upstream at once what
 * became confirmed.
 *
 * Pause (pause.h).  A paused source is not polled.  A paused sink is
 * given nothing: write_one() copies what it would have been given into
 * its buffer (sink_buffer.h) and counts it as handed, so durable_position()
 * and with it the checkpoint and the confirmations stay at what that sink
 * acknowledged, while the other sinks go on.  Once a buffer holds
 * pause_buffer_mb, no source is polled (backpressure) until the sink is
 * resumed; the loop then hands it its buffer, a batch a turn, before its
 * live events.  A buffer lost with the process is read again from the
 * source at the next start, and every sink skips what it already has.
 *
 * Errors.  A failing sink (write, flush, or poll while idle) or a fatal
 * source error stops the pipeline without confirming anything that is not
 * durable; what the sinks did acknowledge is checkpointed on the way out,
 * the process exits 1 and a restart resumes from the checkpoint.
 */
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkpoint.h"
#include "ckpt_writer.h"
#include "clock.h"
#include "erasure.h"
#include "http.h"
#include "metrics.h"
#include "event.h"
#include "intern.h"
#include "jsondoc.h"
#include "leader.h"
#include "leader_pg.h"
#include "log.h"
#include "merge.h"
#include "pause.h"
#include "quality_api.h"
#include "registry.h"
#include "control.h"
#include "reload.h"
#include "registry_api.h"
#include "rules.h"
#include "sink_buffer.h"
#include "schema_stage.h"
#include "lineage.h"
#include "sink.h"
#include "sinks.h"
#include "source.h"
#include "strbuf.h"
#include "xalloc.h"

#define POLL_BATCH 512
#define POLL_TIMEOUT_MS 100
#define ACK_POLL_MS 1			/* source wait while sinks owe acks */
#define CHECKPOINT_MS 200
#define DRAIN_TIMEOUT_MS 30000
#define FLUSH_MS 1000			/* flush sinks at least this often when busy */
#define IDLE_FLUSH_MS 100		/* flush once the source was quiet this long */
#define SETTLE_MS 10			/* quiet this long and all acked: checkpoint */
#define LEADER_RETRY_MS 1000	/* a standby's tries at the pipeline lock */
#define LEADER_CHECK_MS 1000	/* the leader checks it holds the lock at
								 * least this often, and before each flush
								 * when the upstream is not fenced */
#define LEADER_TAKEOVER_MS 3000 /* a standby that took the lock waits this
								 * long before writing, unfenced: by then the
								 * old leader has seen its loss and stopped */
#define KEEPALIVE_MS 1000		/* status updates to a source held by a
								 * pause: well inside a walsender's
								 * wal_sender_timeout even when that is set
								 * as low as 2 s (5 s was not: e2e 86) */
#define RELOAD_ANSWER_MS 1000	/* a reload waits this long at most for the
								 * endpoint's open connections to close */

/* A committed transaction whose events are not all durable yet. */
typedef struct pending_tx
{
	size_t		src;			/* its source (index into srcs) */
	trib_position end;			/* the END item's position (the source's) */
	int64_t		ts_ms;			/* commit time */
	bool		has_last;		/* it has events */
	trib_position last;			/* its last event */
} pending_tx;

/* One source and what the pipeline keeps of it. */
typedef struct src_slot
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
} src_slot;

/* One sink and what the pipeline knows of it. */
typedef struct sink_slot
{
	trib_pipeline *p;
	trib_sink	sink;
	bool		opened;
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
} sink_slot;

/* Several sources: one source's snapshot services (init_src_hosts). */
typedef struct src_host
{
	trib_pipeline *p;
	size_t		c;
	trib_source_host host;
	bool		started;		/* an event was delivered */
	uint64_t	m0;				/* the first one's merged group */
	trib_position first;		/* and its own position */
} src_host;

struct trib_pipeline
{
	const trib_config *cfg;
	src_slot   *srcs;			/* the sources, as configured */
	size_t		nsrcs;
	trib_merge *merge;			/* several sources: their merged stream
								 * (merge.h); NULL with one */
	const char **merge_names;	/* the merge's borrowed arrays */
	const trib_source_ops **merge_ops;
	size_t		next_src;		/* several sources: the one polled first */
	const trib_source_ops *pops;	/* ops of the positions the sinks see:
									 * the source's, or merged ones */
	trib_source_host host;		/* services to the source's snapshot */
	src_host   *shosts;			/* several sources: each one's (nsrcs) */
	trib_leader *leader;
	bool		fenced;			/* every source is (source.h) */
	bool		lock_lost;		/* stopped on losing the lock: write nothing
								 * more, not even the checkpoint */
	long long	last_leader_check;	/* trib_clock_mono_ms() */
	bool		retriable;		/* failed on a lost database connection */
	bool		refused;		/* the source refused the dsn's credentials */
	const char *login_hint;		/* the first source's, when the lock is its
								 * own; NULL: the PostgreSQL lock's */
	trib_checkpoint *ckpt;
	trib_ckpt_writer *ckw;		/* saves ckpt off the loop, or NULL */
	bool		save_now;		/* one source: save without waiting for
								 * CHECKPOINT_MS (it settled) */
	sink_slot  *sinks;
	size_t		nsinks;

	/* the transaction being handled and the queue of committed ones */
	bool		tx_has_last;	/* an event of it reached a sink */
	trib_position tx_last;		/* the last one */
	bool		has_offered;
	trib_position last_offered; /* the last event handled, kept or not */
	trib_rules *rules;			/* transforms; empty when none */
	trib_erasure *erasure;		/* erasure requests and the guard; never NULL */
	trib_schema_stage *schemas; /* the schema stage, or NULL when off */
	trib_lineage *lineage;		/* lineage recording, or NULL when off */
	sink_slot  *dlq;			/* the dead-letter sink, or NULL */
	sink_slot  *quar;			/* the quarantine sink (schemas), or NULL */
	pending_tx *queue;
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
	uint64_t	events_in;
	char		state[32];

	trib_metrics *metrics;		/* read by the HTTP thread */
	trib_std_metrics m;
	trib_metric *m_ack_latency;	/* looked up once */
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
	trib_reload *reload;		/* reloads (reload.h), or NULL */
	bool		in_tx;			/* between a transaction's first item and
								 * its END: no reload applies here */
	trib_intern *snap_reached;	/* snapshot: "schema\0table" of the tables
								 * an event of which reached a sink */
};

static void note_sink_failure(trib_pipeline *p, sink_slot *s);

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
static char *
kept_opaque(const trib_pipeline *p, size_t c, const char *opaque)
{
	return keeps_opaque(p, c) && opaque != NULL ? trib_xstrdup(opaque) : NULL;
}

/* A position in words for the logs, by the operations of its kind: their
 * describe(), else its id. */
static void
describe_pos(const trib_source_ops *ops, const trib_position *pos, char *buf, size_t len)
{
	if (ops->describe != NULL)
		ops->describe(pos, buf, len);
	else
		ops->format_id(pos, buf, len);
}

/* A sink's ack: remember the highest durable position. */
static void
on_ack(trib_sink *sink, const trib_position *pos, void *arg)
{
	sink_slot  *s = arg;

	(void) sink;
	if (!s->has_acked || pos_cmp(s->p, pos, &s->acked) > 0)
	{
		trib_metric_set(s->m_acked_lsn, s->p->pops->gauge(pos));
		s->acked = *pos;
		s->acked.opaque = NULL;	/* the sink's */
		s->has_acked = true;
	}
}

/*
 * Open a source from its member of `sources:` through its registered
 * operations (source.h); connects nothing yet.
 */
static bool
make_source(trib_pipeline *p, src_slot *ss, char *errbuf, size_t errlen)
{
	const trib_source_ops *ops = ss->conf->plugin->source_ops;

	if (ops == NULL)
	{
		snprintf(errbuf, errlen, "source %s: type %s cannot be run", ss->conf->name,
				 ss->conf->plugin->type);
		return false;
	}
	ss->src.ops = ops;
	ss->src.name = ss->conf->name;
	ss->src.pipeline = p->cfg->pipeline;
	ss->src.erasure = trib_erasure_enabled(p->erasure);
	ss->src.metrics = p->metrics;
	ss->src.m_lag_bytes = trib_metric_get(p->m.lag_bytes, ss->conf->name);
	return ops->open(&ss->src, ss->conf, errbuf, errlen);
}

/*
 * Open every source; with several, merge their streams (merge.h).  The
 * series per source come first, then each source's own (the order of
 * /metrics).
 */
static bool
make_sources(trib_pipeline *p, char *errbuf, size_t errlen)
{
	trib_metric_family *dropped = trib_metrics_counter(p->metrics,
													   "tributary_rule_dropped_events_total",
													   "Events transform rules dropped (filter, sample, flatten).",
													   "source");
	const char **names = trib_xcalloc(p->nsrcs, sizeof(char *));
	const trib_source_ops **ops = trib_xcalloc(p->nsrcs, sizeof(trib_source_ops *));
	size_t		i;

	for (i = 0; i < p->nsrcs; i++)
	{
		p->srcs[i].conf = &p->cfg->sources[i];
		p->srcs[i].m_events = trib_metric_get(p->m.source_events, p->srcs[i].conf->name);
		p->srcs[i].m_dropped = trib_metric_get(dropped, p->srcs[i].conf->name);
	}
	for (i = 0; i < p->nsrcs; i++)
		if (!make_source(p, &p->srcs[i], errbuf, errlen))
			break;
	if (i == p->nsrcs && p->nsrcs > 1)
	{
		for (i = 0; i < p->nsrcs; i++)
		{
			names[i] = p->srcs[i].src.name;
			ops[i] = p->srcs[i].src.ops;
		}
		p->merge = trib_merge_new(p->nsrcs, names, ops);
		p->merge_names = names;
		p->merge_ops = ops;
		p->pops = &trib_merge_pos_ops;
		return true;
	}
	free(names);
	free(ops);
	p->pops = p->srcs[0].src.ops;
	return i == p->nsrcs;
}

static void init_host(trib_pipeline *p);

/* Every sink's buffer for a pause (sink_buffer.h) and the gauges of what
 * they hold and of the backpressure. */
static void
init_held(trib_pipeline *p)
{
	trib_metric_family *ev = trib_metrics_gauge(p->metrics, "tributary_sink_buffered_events",
												"Events held for the paused sink (or, after "
												"its resume, not yet handed to it).", "sink");
	trib_metric_family *by = trib_metrics_gauge(p->metrics, "tributary_sink_buffered_bytes",
												"Memory those events take, in bytes.", "sink");
	trib_metric_family *bp = trib_metrics_gauge(p->metrics, "tributary_pause_backpressure",
												"1 while no source is read because a paused "
												"sink's buffer is full (pause_buffer_mb).",
												"pipeline");

	for (size_t i = 0; i < p->nsinks; i++)
	{
		p->sinks[i].held = trib_sink_buffer_new();
		p->sinks[i].m_held_events = trib_metric_get(ev, p->cfg->sinks[i].name);
		p->sinks[i].m_held_bytes = trib_metric_get(by, p->cfg->sinks[i].name);
	}
	p->m_pressed = trib_metric_get(bp, p->cfg->pipeline);
}

trib_pipeline *
trib_pipeline_new(const trib_config *cfg, char *errbuf, size_t errlen)
{
	trib_pipeline *p = calloc(1, sizeof(*p));
	size_t		i;

	if (p == NULL)
		abort();
	p->cfg = cfg;
	snprintf(p->state, sizeof(p->state), "starting");
	if (cfg->nsources == 0)
	{
		snprintf(errbuf, errlen, "%s: the pipeline has no source", cfg->path);
		free(p);
		return NULL;
	}
	p->nsrcs = cfg->nsources;
	p->srcs = trib_xcalloc(p->nsrcs, sizeof(src_slot));
	p->metrics = trib_metrics_new();
	if (!trib_metrics_register_std(p->metrics, &p->m))
		abort();
	p->rules = trib_rules_new(cfg, p->metrics, errbuf, errlen);
	if (p->rules != NULL)
		p->erasure = trib_erasure_new(cfg, p->metrics, errbuf, errlen);
	if (p->rules == NULL || p->erasure == NULL)
	{
		trib_pipeline_free(p);
		return NULL;
	}
	p->nsinks = cfg->nsinks;
	p->sinks = calloc(p->nsinks ? p->nsinks : 1, sizeof(sink_slot));
	if (p->sinks == NULL)
		abort();
	for (i = 0; i < p->nsinks; i++)
	{
		p->sinks[i].p = p;
		p->sinks[i].sink.ack = on_ack;
		p->sinks[i].sink.ack_arg = &p->sinks[i];
		p->sinks[i].sink.metrics = p->metrics;
		if (cfg->dead_letter && strcmp(cfg->dead_letter, cfg->sinks[i].name) == 0)
		{
			p->sinks[i].dead_letter = true;
			p->dlq = &p->sinks[i];
		}
		if (cfg->schemas.quarantine && strcmp(cfg->schemas.quarantine, cfg->sinks[i].name) == 0)
		{
			p->sinks[i].quarantine = true;
			p->quar = &p->sinks[i];
		}
	}
	p->qcap = 64;
	p->queue = calloc(p->qcap, sizeof(pending_tx));
	if (p->queue == NULL)
		abort();
	p->m_ack_latency = trib_metric_get(p->m.ack_latency, "all");
	p->pause = trib_pause_new(cfg, p->metrics);
	init_held(p);
	/* after the pipeline's families: the source adds its own (the order
	 * of /metrics) */
	if (!make_sources(p, errbuf, errlen) ||
		!trib_schema_stage_new(cfg, p->metrics, p->srcs[0].src.ops->format_id, &p->schemas,
							   errbuf, errlen) ||
		!trib_lineage_new(cfg, p->rules, p->metrics, &p->lineage, errbuf, errlen))
	{
		trib_pipeline_free(p);
		return NULL;
	}
	init_host(p);
	for (i = 0; i < p->nsinks; i++)
	{
		p->sinks[i].m_events = trib_metric_get(p->m.sink_events, cfg->sinks[i].name);
		p->sinks[i].m_acked_lsn = trib_metric_get(p->m.sink_acked_lsn, cfg->sinks[i].name);
	}
	return p;
}

/* Sleep ms milliseconds, in steps, until *stop. */
static void
pause_ms(int ms, volatile sig_atomic_t *stop)
{
	struct timespec step = {0, 50 * 1000000L};

	for (int t = 0; t < ms && !*stop; t += 50)
		nanosleep(&step, NULL);
}

/* The pipeline lock: the first source's own (MySQL's GET_LOCK) when it
 * offers one, else the PostgreSQL advisory lock in its lock_dsn. */
static trib_leader *
pipeline_lock(trib_pipeline *p)
{
	const src_slot *ss = &p->srcs[0];
	trib_leader *l = NULL;

	if (ss->src.ops->leader != NULL)
		l = ss->src.ops->leader(ss->conf, p->cfg->pipeline);
	p->login_hint = l ? ss->src.ops->login_hint : NULL;
	return l ? l : trib_leader_pg_new(ss->src.lock_dsn, p->cfg->pipeline);
}

/*
 * Take the pipeline lock.  While another consumer holds it, wait as a
 * standby, trying every LEADER_RETRY_MS.  While the lock's server cannot
 * be reached (down, restarting, a wrong host or port), say why each time
 * and try again after the source's reconnect backoff.  When it refuses the
 * connection for good (role, password, database: pgconn.h), fail at once
 * with p->refused set.  A standby that took the lock over waits
 * LEADER_TAKEOVER_MS unless the sources are fenced (source.h): the old
 * leader may not have noticed its loss yet.  false with errbuf empty when
 * stopped.
 */
static bool
become_leader(trib_pipeline *p, volatile sig_atomic_t *stop, char *errbuf, size_t errlen)
{
	const trib_source *src = &p->srcs[0].src;	/* the first source's lock */
	int			delay = src->backoff_initial_ms;
	bool		standby = false;
	bool		held_by_other = false;	/* since we started trying */

	p->fenced = true;
	for (size_t i = 0; i < p->nsrcs; i++)
		p->fenced = p->fenced && p->srcs[i].src.fenced;
	p->leader = pipeline_lock(p);
	while (!*stop)
	{
		int			rc = trib_leader_try(p->leader, errbuf, errlen);

		if (rc == 1)
		{
			p->last_leader_check = trib_clock_mono_ms();
			if (!held_by_other || p->fenced)
				return true;
			tlog_info("pipeline", "took the pipeline lock (%s) over; waiting %d ms for the "
					  "previous consumer to stop writing", trib_leader_kind(p->leader),
					  LEADER_TAKEOVER_MS);
			pause_ms(LEADER_TAKEOVER_MS, stop);
			if (*stop)
				break;
			/* still ours after the wait? */
			if (!trib_leader_check(p->leader, errbuf, errlen))
			{
				p->retriable = true;
				return false;
			}
			return true;
		}
		if (rc == -2)
		{
			p->refused = true;
			return false;
		}
		if (rc == 0)
		{
			if (!standby)
				tlog_info("pipeline", "another consumer runs pipeline %s (%s); waiting as standby",
						  p->cfg->pipeline, trib_leader_kind(p->leader));
			standby = held_by_other = true;
			snprintf(p->state, sizeof(p->state), "standby");
			delay = src->backoff_initial_ms;
			pause_ms(LEADER_RETRY_MS, stop);
			continue;
		}
		standby = false;
		snprintf(p->state, sizeof(p->state), "connecting");
		tlog_warn("pipeline", "source %s: %s; trying again in %d ms", src->name,
				  errbuf, delay);
		pause_ms(delay, stop);
		delay = delay > src->backoff_max_ms / 2 ? src->backoff_max_ms : delay * 2;
	}
	errbuf[0] = '\0';
	return false;
}

/*
 * Do we still hold the pipeline lock?  The server is asked `now`, else
 * once LEADER_CHECK_MS have passed since the last time.  Callers ask now
 * before anything is committed when the upstream is not fenced, so that
 * no other consumer's writes interleave with ours.  false (errbuf filled,
 * p->lock_lost set) when lost.
 */
static bool
still_leader(trib_pipeline *p, bool now, char *errbuf, size_t errlen)
{
	if (!now && trib_clock_mono_ms() - p->last_leader_check < LEADER_CHECK_MS)
		return true;
	p->last_leader_check = trib_clock_mono_ms();
	if (trib_leader_check(p->leader, errbuf, errlen))
		return true;
	tlog_error("pipeline", "lost the pipeline lock; stopping without writing more: %s", errbuf);
	p->lock_lost = true;
	p->retriable = true;
	return false;
}

/*
 * Open each source's checkpoint store: keyed by pipeline and source in the
 * catalog; in the file store, the configured path, or with several
 * sources path.NAME for each.
 */
static bool
open_checkpoints(trib_pipeline *p, char *errbuf, size_t errlen)
{
	const trib_checkpoint_conf *cc = &p->cfg->checkpoint;

	for (size_t i = 0; i < p->nsrcs; i++)
	{
		src_slot   *ss = &p->srcs[i];
		char	   *path = NULL;

		if (cc->store == TRIB_CHECKPOINT_FILE && p->merge != NULL)
		{
			path = trib_xmalloc(strlen(cc->path) + strlen(ss->src.name) + 2);
			sprintf(path, "%s.%s", cc->path, ss->src.name);
		}
		ss->ckpt = trib_checkpoint_open(cc->store == TRIB_CHECKPOINT_FILE ? TRIB_CKPT_FILE : TRIB_CKPT_CATALOG,
										cc->store == TRIB_CHECKPOINT_FILE ?
										(path ? path : cc->path) : cc->dsn,
										p->cfg->pipeline, ss->src.name, ss->src.ops,
										errbuf, errlen);
		free(path);
		if (ss->ckpt == NULL)
		{
			/* the catalog's database is down or restarting: try again later */
			p->retriable = cc->store == TRIB_CHECKPOINT_CATALOG;
			return false;
		}
	}
	p->ckpt = p->srcs[0].ckpt;
	return true;
}

/*
 * Several sources: what the sink already has of each, from the merged
 * position it stored (its opaque names every source's, merge.h).
 */
static bool
sink_source_skips(trib_pipeline *p, sink_slot *s, const char *opaque,
				  char *errbuf, size_t errlen)
{
	char		e[512];

	s->has_cskip = trib_xcalloc(p->nsrcs, sizeof(bool));
	s->cskip = trib_xcalloc(p->nsrcs, sizeof(trib_position));
	for (size_t c = 0; c < p->nsrcs; c++)
	{
		int			r = trib_merge_source_pos(opaque, p->srcs[c].src.name, p->srcs[c].src.ops,
											  &s->cskip[c], e, sizeof(e));

		if (r < 0)
		{
			snprintf(errbuf, errlen, "sink %s: %s", s->sink.name, e);
			return false;
		}
		s->has_cskip[c] = r > 0;
	}
	return true;
}

/* Take the lock, then open the checkpoint store and the sinks. */
static bool
open_all(trib_pipeline *p, volatile sig_atomic_t *stop, char *errbuf, size_t errlen)
{
	size_t		i;

	if (!become_leader(p, stop, errbuf, errlen))
		return false;
	tlog_info("pipeline", "pipeline %s is active", p->cfg->pipeline);

	if (!open_checkpoints(p, errbuf, errlen))
		return false;

	for (i = 0; i < p->nsinks; i++)
	{
		sink_slot  *s = &p->sinks[i];

		if (!trib_sinks_open(&s->sink, &p->cfg->sinks[i], p->cfg, errbuf, errlen))
		{
			note_sink_failure(p, s);
			return false;
		}
		s->opened = true;
		if (s->sink.ops->durable_position)
		{
			char		e[512] = "";

			if (s->sink.ops->durable_position(&s->sink, &s->skip, e, sizeof(e)))
			{
				s->has_skip = true;
				if (p->merge != NULL &&
					!sink_source_skips(p, s, s->skip.opaque, errbuf, errlen))
					return false;
				if (p->merge == NULL && trib_merge_is_merged(s->skip.opaque))
				{
					snprintf(errbuf, errlen, "sink %s: its stored position was written by a "
							 "pipeline with several sources, which does not say where "
							 "source %s alone is: run it as a new pipeline into new sink "
							 "targets (or remove the sink's stored position and its data)",
							 s->sink.name, p->srcs[0].src.name);
					return false;
				}
				free(s->skip_opaque);
				s->skip_opaque = p->merge == NULL ? kept_opaque(p, 0, s->skip.opaque) : NULL;
				s->skip.opaque = NULL;	/* the sink's */
			}
			else if (e[0])
			{
				snprintf(errbuf, errlen, "sink %s: %s", s->sink.name, e);
				note_sink_failure(p, s);
				return false;
			}
		}
	}
	return true;
}

/*
 * Where to resume: the oldest position any sink still needs.  A sink with
 * its own durable position needs what follows it; the others need what
 * follows the checkpoint.  Unknown for one: resume from the slot.
 */
static bool
resume_point(trib_pipeline *p, bool *has, trib_position *out, char *errbuf, size_t errlen)
{
	trib_position ck;
	int			r = trib_checkpoint_load(p->ckpt, &ck, errbuf, errlen);
	bool		have = false;
	size_t		i;
	char	   *ck_opaque = NULL;
	const char *out_opaque = NULL;

	if (r < 0)
		return false;
	if (r > 0)
	{
		/* snapshot progress (the source's snapshot reads it), or what a
		 * resume_opaque source resumes by */
		ck_opaque = kept_opaque(p, 0, ck.opaque);
		free(ck.opaque);
		ck.opaque = NULL;
		p->saved = ck;
		p->has_saved = true;
	}
	for (i = 0; i < p->nsinks; i++)
	{
		sink_slot  *s = &p->sinks[i];
		const trib_position *need;

		if (!s->has_skip && r > 0)
		{
			/* the checkpoint speaks for this sink */
			s->skip = ck;
			free(s->skip_opaque);
			s->skip_opaque = ck_opaque ? trib_xstrdup(ck_opaque) : NULL;
			s->has_skip = true;
		}
		if (!s->has_skip)
		{
			free(ck_opaque);
			return (*has = false, true);
		}
		need = &s->skip;
		if (!have || pos_cmp(p, need, out) < 0)
		{
			*out = *need;
			out_opaque = s->skip_opaque;
			have = true;
		}
	}
	out->opaque = out_opaque ? trib_xstrdup(out_opaque) : NULL;
	free(ck_opaque);
	*has = have;
	return true;
}

/* Several sources: sink s's per-source positions, allocated. */
static void
sink_cskip_alloc(const trib_pipeline *p, sink_slot *s)
{
	if (s->has_cskip != NULL)
		return;
	s->has_cskip = trib_xcalloc(p->nsrcs, sizeof(bool));
	s->cskip = trib_xcalloc(p->nsrcs, sizeof(trib_position));
}

/*
 * Several sources: where each resumes, by the rule of resume_point applied
 * to each: the oldest position of that source any sink still needs.  A
 * sink that stored a merged position needs what follows that source's
 * position in it (everything, when it names none); for the others the
 * source's checkpoint stands in.  Groups are then numbered above every
 * merged position a sink stored.
 */
static bool
resume_sources(trib_pipeline *p, char *errbuf, size_t errlen)
{
	uint64_t	next = 1;
	size_t		i;

	for (i = 0; i < p->nsinks; i++)
		if (p->sinks[i].has_skip && p->sinks[i].skip.commit_lsn >= next)
			next = p->sinks[i].skip.commit_lsn + 1;
	trib_merge_set_next(p->merge, next);
	for (size_t c = 0; c < p->nsrcs; c++)
	{
		src_slot   *ss = &p->srcs[c];
		trib_position ck;
		int			r = trib_checkpoint_load(ss->ckpt, &ck, errbuf, errlen);
		bool		unknown = false;

		if (r < 0)
			return false;
		if (r > 0)
		{
			/* what a resume_opaque source resumes by */
			char	   *o = kept_opaque(p, c, ck.opaque);

			free(ck.opaque);
			ck.opaque = o;
			ss->saved = ck;
			ss->saved.opaque = NULL;
			ss->has_saved = true;
		}
		for (i = 0; i < p->nsinks; i++)
		{
			sink_slot  *s = &p->sinks[i];

			sink_cskip_alloc(p, s);
			if (!s->has_skip && r > 0)
			{
				/* the checkpoint speaks for this sink */
				free(s->cskip[c].opaque);
				s->cskip[c] = ck;
				s->cskip[c].opaque = ck.opaque ? trib_xstrdup(ck.opaque) : NULL;
				s->has_cskip[c] = true;
			}
			if (!s->has_cskip[c])
			{
				unknown = true;
				continue;
			}
			if (!ss->has_resume || ss->src.ops->compare(&s->cskip[c], &ss->resume) < 0)
			{
				free(ss->resume.opaque);
				ss->resume = s->cskip[c];
				ss->resume.opaque = s->cskip[c].opaque ? trib_xstrdup(s->cskip[c].opaque)
					: NULL;
			}
			ss->has_resume = true;
		}
		if (r > 0)
			free(ck.opaque);
		if (unknown)
			ss->has_resume = false;
		if (ss->has_resume)
			trib_merge_seed(p->merge, c, &ss->resume);
		/* the sinks that have more of it than where it resumes */
		for (i = 0; i < p->nsinks; i++)
			if (p->sinks[i].has_cskip[c] &&
				(!ss->has_resume ||
				 ss->src.ops->compare(&p->sinks[i].cskip[c], &ss->resume) > 0))
				p->sinks[i].ncskip++;
			else
				p->sinks[i].has_cskip[c] = false;
	}
	return true;
}

/* Append a committed transaction to the queue. */
static void
queue_push(trib_pipeline *p, const pending_tx *tx)
{
	if (p->qlen == p->qcap)
	{
		pending_tx *n = calloc(p->qcap * 2, sizeof(pending_tx));
		size_t		i;

		if (n == NULL)
			abort();
		for (i = 0; i < p->qlen; i++)
			n[i] = p->queue[(p->qhead + i) % p->qcap];
		free(p->queue);
		p->queue = n;
		p->qhead = 0;
		p->qcap *= 2;
	}
	p->queue[(p->qhead + p->qlen) % p->qcap] = *tx;
	p->qlen++;
}

/* Take the queue's head off once the saved checkpoint covers it: its END
 * becomes *confirmable (without the opaque position, which is freed), to
 * be confirmed to its source. */
static void
queue_pop_confirmed(trib_pipeline *p, trib_position *confirmable,
					bool *has_confirmable)
{
	pending_tx *tx = &p->queue[p->qhead];

	*confirmable = tx->end;
	confirmable->opaque = NULL;
	free(tx->end.opaque);
	*has_confirmable = true;
	p->qhead = (p->qhead + 1) % p->qcap;
	p->qlen--;
	if (p->qdurable > 0)
		p->qdurable--;
}

/* The minimum over sinks of their durable position; false if none yet. */
static bool
durable_position(trib_pipeline *p, trib_position *out)
{
	size_t		i;
	bool		have = false;

	for (i = 0; i < p->nsinks; i++)
	{
		sink_slot  *s = &p->sinks[i];
		const trib_position *d;

		if (p->has_offered && (!s->has_written ||
							   (s->has_acked && pos_cmp(p, &s->acked, &s->last_written) >= 0)))
		{
			/*
			 * Everything handed to this sink is durable, and every later
			 * event was not meant for it (rules dropped it, or it went to
			 * the dead-letter sink only, or the sink had it already): it
			 * is durable up to the last event handled.
			 */
			d = &p->last_offered;
			if (s->has_acked && pos_cmp(p, &s->acked, d) > 0)
				d = &s->acked;
			if (s->has_skip && pos_cmp(p, &s->skip, d) > 0)
				d = &s->skip;
		}
		else if (s->has_acked && (!s->has_skip || pos_cmp(p, &s->acked, &s->skip) >= 0))
			d = &s->acked;
		else if (s->has_skip)
			d = &s->skip;
		else
			return false;
		if (!have || pos_cmp(p, d, out) < 0)
		{
			*out = *d;
			have = true;
		}
	}
	return have;
}

/*
 * Several sources: advance() per source.  A transaction is durable once
 * its last event is (in merged positions, `d`); each source's checkpoint
 * is then the END of its newest durable transaction with events, saved
 * when due, and each source is confirmed up to what its saved checkpoint
 * covers, in queue order.  (A checkpoint inside a large transaction is
 * left to the sinks' own stored positions here.)  A resume_opaque source's
 * checkpoint carries its END's opaque text (its resume token).
 */
static bool
advance_sources(trib_pipeline *p, const trib_position *d, bool force, bool confirm_slot,
				char *errbuf, size_t errlen)
{
	bool		due = force || trib_clock_mono_ms() - p->last_ckpt_ms >= CHECKPOINT_MS;
	size_t		c;

	while (d != NULL && p->qdurable < p->qlen)
	{
		pending_tx *tx = &p->queue[(p->qhead + p->qdurable) % p->qcap];

		if (tx->has_last)
		{
			if (pos_cmp(p, &tx->last, d) > 0)
				break;
			free(p->srcs[tx->src].durable_end.opaque);
			p->srcs[tx->src].durable_end = tx->end;
			p->srcs[tx->src].durable_end.opaque =
				tx->end.opaque ? trib_xstrdup(tx->end.opaque) : NULL;
			p->srcs[tx->src].has_durable_end = true;
			if (tx->ts_ms > 0)
				trib_metric_observe(p->m_ack_latency,
									(double) (trib_clock_wall_ms() - tx->ts_ms) / 1000.0);
		}
		p->qdurable++;
	}
	for (c = 0; due && c < p->nsrcs; c++)
	{
		src_slot   *ss = &p->srcs[c];

		if (!ss->has_durable_end ||
			(ss->has_saved && ss->src.ops->compare(&ss->durable_end, &ss->saved) <= 0))
			continue;
		if (!trib_checkpoint_save(ss->ckpt, &ss->durable_end, errbuf, errlen))
		{
			p->retriable = p->cfg->checkpoint.store == TRIB_CHECKPOINT_CATALOG;
			return false;
		}
		ss->saved = ss->durable_end;
		ss->saved.opaque = NULL;	/* durable_end's */
		ss->has_saved = true;
		p->last_ckpt_ms = trib_clock_mono_ms();
		if (p->lineage != NULL)
		{
			char		id[TRIB_EVENTID_LEN];

			ss->src.ops->format_id(&ss->saved, id, sizeof(id));
			trib_lineage_checkpoint(p->lineage, id);
		}
	}
	while (p->qlen > 0)
	{
		pending_tx *tx = &p->queue[p->qhead];
		src_slot   *ss = &p->srcs[tx->src];

		if (tx->has_last && (p->qdurable == 0 || !ss->has_saved ||
							 ss->src.ops->compare(&tx->end, &ss->saved) > 0))
			break;
		queue_pop_confirmed(p, &ss->confirmable, &ss->has_confirmable);
	}
	for (c = 0; confirm_slot && c < p->nsrcs; c++)
		if (p->srcs[c].has_confirmable)
			p->srcs[c].src.ops->confirm(&p->srcs[c].src, &p->srcs[c].confirmable);
	return true;
}

/* A checkpoint at pos is durable: remember it (and tell lineage). */
static void
checkpoint_saved(trib_pipeline *p, const trib_position *pos)
{
	p->saved = *pos;
	p->saved.opaque = NULL;		/* the writer's or durable_tx's: not kept */
	p->has_saved = true;
	if (p->lineage != NULL)
	{
		char		id[TRIB_EVENTID_LEN];

		p->pops->format_id(pos, id, sizeof(id));
		trib_lineage_checkpoint(p->lineage, id);
	}
}

/* A failed save: stop, retriable when the store is a database. */
static bool
checkpoint_failed(trib_pipeline *p)
{
	p->retriable = p->cfg->checkpoint.store == TRIB_CHECKPOINT_CATALOG;
	return false;
}

/* Take the result of the writer thread's save, if one finished (with
 * `wait`, after waiting for the one in flight). */
static bool
collect_saved(trib_pipeline *p, bool wait, char *errbuf, size_t errlen)
{
	trib_position saved;
	int			r;

	if (p->ckw == NULL)
		return true;
	if (wait)
		trib_ckpt_writer_wait(p->ckw);
	r = trib_ckpt_writer_done(p->ckw, &saved, errbuf, errlen);
	if (r < 0)
		return checkpoint_failed(p);
	if (r > 0)
		checkpoint_saved(p, &saved);
	return true;
}

/*
 * Save a checkpoint at ck: handed to the writer thread (ckpt_writer.h) and
 * taken as saved only once it reports so, or, when `force` (shutdown, the
 * end of a drain), saved here and now, the writer being idle (the caller
 * collected its last save with wait).
 */
static bool
save_checkpoint(trib_pipeline *p, const trib_position *ck, bool force,
				char *errbuf, size_t errlen)
{
	if (force)
	{
		if (!trib_checkpoint_save(p->ckpt, ck, errbuf, errlen))
			return checkpoint_failed(p);
		checkpoint_saved(p, ck);
		p->last_ckpt_ms = trib_clock_mono_ms();
		return true;
	}
	if (p->ckw == NULL && (p->ckw = trib_ckpt_writer_new(p->ckpt, errbuf, errlen)) == NULL)
		return false;
	if (trib_ckpt_writer_offer(p->ckw, ck))
		p->last_ckpt_ms = trib_clock_mono_ms();
	return true;
}

/*
 * The opaque text of a checkpoint inside a transaction, at event `ck`: the
 * source's (source.h resume_text) when the pipeline keeps its opaque
 * positions, else NULL (malloc'd).
 */
static char *
inside_text(trib_pipeline *p, const trib_position *ck)
{
	trib_source *src = &p->srcs[0].src;

	return keeps_opaque(p, 0) && ck->seq != TRIB_SEQ_ALL && src->ops->resume_text != NULL ?
		src->ops->resume_text(src, ck) : NULL;
}

/*
 * Save the checkpoint when due, then confirm to the source the
 * transactions the saved checkpoint covers.  The order matters: the source
 * is never confirmed past the checkpoint, so after a crash the checkpoint
 * is never behind the source and resuming from it loses nothing and
 * repeats nothing.  With confirm_slot false only the checkpoint is saved.
 */
static bool
advance(trib_pipeline *p, bool force, bool confirm_slot, char *errbuf, size_t errlen)
{
	trib_position d;
	bool		have = durable_position(p, &d);
	trib_position ck;
	bool		have_ck = false;
	bool		inside = false;

	if (p->merge != NULL)
		return advance_sources(p, have ? &d : NULL, force, confirm_slot, errbuf, errlen);

	/*
	 * Extend the durable prefix of the queue: each transaction is looked
	 * at once when it becomes durable (its commit-to-ack latency is
	 * observed then), not again at every call.
	 */
	while (have && p->qdurable < p->qlen)
	{
		pending_tx *tx = &p->queue[(p->qhead + p->qdurable) % p->qcap];

		if (tx->has_last)
		{
			if (pos_cmp(p, &tx->last, &d) > 0)
				break;
			free(p->durable_tx.opaque);
			p->durable_tx = tx->end;
			p->durable_tx.opaque = tx->end.opaque ? trib_xstrdup(tx->end.opaque) : NULL;
			p->has_durable_tx = true;
			if (tx->ts_ms > 0)
				trib_metric_observe(p->m_ack_latency,
									(double) (trib_clock_wall_ms() - tx->ts_ms) / 1000.0);
		}
		p->qdurable++;
	}
	/* the newest transaction with events that is wholly durable ... */
	if (p->has_durable_tx)
	{
		ck = p->durable_tx;
		have_ck = true;
	}
	/* ... or, inside a larger transaction, the last durable event */
	if (have && (!have_ck || pos_cmp(p, &d, &ck) > 0))
	{
		ck = d;
		ck.opaque = NULL;		/* inside_text's, when saved */
		have_ck = inside = true;
	}
	if (!collect_saved(p, force, errbuf, errlen))
		return false;
	if (have_ck && (!p->has_saved || pos_cmp(p, &ck, &p->saved) > 0) &&
		(force || p->save_now || trib_clock_mono_ms() - p->last_ckpt_ms >= CHECKPOINT_MS))
	{
		char	   *text = inside ? inside_text(p, &ck) : NULL;
		bool		ok;

		ck.opaque = text ? text : ck.opaque;
		ok = save_checkpoint(p, &ck, force, errbuf, errlen);
		free(text);
		if (!ok)
			return false;
	}

	/*
	 * Confirm what the saved checkpoint covers.  Empty transactions
	 * (heartbeats, the catalog checkpoint's own writes) carry no events;
	 * they go as soon as everything before them has: saving a checkpoint
	 * for them would write to the source and make another one, forever.
	 */
	while (p->qlen > 0)
	{
		pending_tx *tx = &p->queue[p->qhead];

		if (tx->has_last && (!p->has_saved || pos_cmp(p, &tx->last, &p->saved) > 0))
			break;
		/* the queue is in stream order */
		queue_pop_confirmed(p, &p->confirmable, &p->has_confirmable);
	}
	/* the source may hold back (a PostgreSQL PREPARE it still needs) */
	if (confirm_slot && p->has_confirmable)
		p->srcs[0].src.ops->confirm(&p->srcs[0].src, &p->confirmable);
	return true;
}

/* A sink failed: remember whether it lost a database connection. */
static void
note_sink_failure(trib_pipeline *p, sink_slot *s)
{
	if (s->sink.ops && s->sink.ops->lost_connection && s->sink.state &&
		s->sink.ops->lost_connection(&s->sink))
		p->retriable = true;
}

/*
 * Several sources: does sink s have ev (of source c) already?  Once the
 * source passes what the sink had of it, the sink is no longer ahead.
 */
static bool
sink_has_source_event(sink_slot *s, size_t c, const trib_event *ev)
{
	const trib_source_ops *ops = s->p->srcs[c].src.ops;

	if (s->has_cskip == NULL || !s->has_cskip[c])
		return false;
	if (ops->compare(&ev->pos, &s->cskip[c]) < 0)
		return true;
	s->has_cskip[c] = false;
	s->ncskip--;
	return ops->compare(&ev->pos, &s->cskip[c]) == 0;
}

/* Several sources: the merged text sink s stores while it is still ahead
 * of some source (merge.h; malloc'd), or NULL. */
static char *
ahead_text(const sink_slot *s)
{
	return s->ncskip > 0 ? trib_merge_vector(s->p->merge, s->has_cskip, s->cskip) : NULL;
}

/*
 * Several sources: write ev (of source c) to sink s under its merged
 * position `mp`; the records keep the source's own (event.h origin).  A
 * sink still ahead of some source stores its own merged text (merge.h).
 */
static bool
write_merged(sink_slot *s, trib_event *ev, const trib_position *mp,
			 char *errbuf, size_t errlen)
{
	trib_position own = ev->pos;
	char	   *text = ahead_text(s);
	bool		ok;

	ev->pos = *mp;
	if (text != NULL)
	{
		trib_position_set_opaque(&ev->pos, text, 0);
	}
	ev->origin = &own;
	ok = s->sink.ops->write(&s->sink, ev, errbuf, errlen);
	ev->origin = NULL;
	ev->pos = own;
	free(text);
	return ok;
}

/* Is sink s paused (pause.h)? */
static bool
sink_paused(const sink_slot *s)
{
	return trib_pause_sink(s->p->pause, (size_t) (s - s->p->sinks));
}

/* Does sink s take its events into its buffer: paused while streaming,
 * or resumed with a buffer not drained yet (the order is kept)? */
static bool
sink_holds(const sink_slot *s)
{
	return trib_sink_buffer_events(s->held) > 0 || (s->p->streaming && sink_paused(s));
}

/* ev (at position `at`, the one the sink sees) was handed to sink s, or
 * held for it: the sink is durable only once it acknowledged `at`. */
static void
handed(sink_slot *s, const trib_position *at)
{
	s->has_written = true;
	s->last_written = *at;
	s->last_written.opaque = NULL;
}

/* Sink s took ev (its write returned ok), or failed: "sink <name>: why". */
static bool
took(sink_slot *s, bool ok, const char *e, char *errbuf, size_t errlen)
{
	if (!ok)
	{
		snprintf(errbuf, errlen, "sink %s: %s", s->sink.name, e);
		note_sink_failure(s->p, s);
		return false;
	}
	s->written++;
	trib_metric_inc(s->m_events);
	return true;
}

/* Hold ev (at merged position mp, or NULL) for sink s, with the position
 * it would have been written at (write_merged's). */
static void
hold_event(sink_slot *s, const trib_event *ev, const trib_position *mp)
{
	trib_position seen;
	char	   *text;

	if (mp == NULL)
	{
		trib_sink_buffer_push(s->held, ev, NULL);
		handed(s, &ev->pos);
		return;
	}
	seen = *mp;
	if ((text = ahead_text(s)) != NULL)
	{
		trib_position_set_opaque(&seen, text, 0);
	}
	trib_sink_buffer_push(s->held, ev, &seen);
	free(text);
	handed(s, mp);
}

/* Write ev (of source c; `mp` its merged position with several sources,
 * else NULL) to one sink unless it has it already; a sink that holds its
 * events (paused) gets a copy in its buffer instead. */
static bool
write_one(sink_slot *s, trib_event *ev, size_t c, const trib_position *mp,
		  char *errbuf, size_t errlen)
{
	char		e[512];
	bool		ok;

	if (mp == NULL ? s->has_skip && pos_cmp(s->p, &ev->pos, &s->skip) <= 0 :
		sink_has_source_event(s, c, ev))
		return true;
	if (sink_holds(s))
	{
		hold_event(s, ev, mp);
		return true;
	}
	ok = mp == NULL ? s->sink.ops->write(&s->sink, ev, e, sizeof(e)) :
		write_merged(s, ev, mp, e, sizeof(e));
	if (ok)
		handed(s, mp ? mp : &ev->pos);
	return took(s, ok, e, errbuf, errlen);
}

/*
 * Hand each resumed sink up to `max` of the events its buffer holds,
 * oldest first, exactly as they were held (position, origin, last_in_tx).
 * How many; -1 when a sink failed.
 */
static int
drain_held(trib_pipeline *p, int max, char *errbuf, size_t errlen)
{
	int			n = 0;

	for (size_t i = 0; i < p->nsinks; i++)
	{
		sink_slot  *s = &p->sinks[i];
		const trib_event *ev;
		char		e[512];

		if (sink_paused(s))
			continue;
		for (int k = 0; k < max && (ev = trib_sink_buffer_front(s->held)) != NULL; k++, n++)
		{
			if (!took(s, s->sink.ops->write(&s->sink, ev, e, sizeof(e)), e, errbuf, errlen))
				return -1;
			trib_sink_buffer_pop(s->held);
		}
	}
	return n;
}

/* Is a buffer of a sink that holds its events at the bound
 * (pause_buffer_mb)?  Then no source is read. */
static bool
buffer_full(trib_pipeline *p)
{
	uint64_t	bound = (uint64_t) p->cfg->pause_buffer_mb << 20;

	for (size_t i = 0; i < p->nsinks; i++)
		if (sink_holds(&p->sinks[i]) && trib_sink_buffer_bytes(p->sinks[i].held) >= bound)
			return true;
	return false;
}

/* Wall-clock ms since source c is not read (paused itself, or every
 * source while a full buffer holds the reading), or 0 when it is read. */
static long long
held_ms(const trib_pipeline *p, size_t c)
{
	long long	since = trib_pause_since(p->pause, false, c);

	if (p->pressed_since != 0 && (since == 0 || p->pressed_since < since))
		since = p->pressed_since;
	return since == 0 ? 0 : trib_clock_wall_ms() - since + 1;
}

/* Count ev (of source c, at merged position mp or NULL) as handled,
 * whether or not any sink gets it. */
static void
offered(trib_pipeline *p, const trib_event *ev, size_t c, const trib_position *mp)
{
	trib_metric_inc(p->srcs[c].m_events);
	p->events_in++;
	p->has_offered = true;
	p->last_offered = mp ? *mp : ev->pos;
	p->last_offered.opaque = NULL;
}

/*
 * Run the transforms on one change event of source c, then hand it to
 * every sink that does not have it yet (or only to the dead-letter sink).
 * mp: its merged position with several sources (merge.h), else NULL;
 * transforms see the source's own position either way.
 */
static bool
deliver(trib_pipeline *p, trib_event *ev, size_t c, const trib_position *mp,
		char *errbuf, size_t errlen)
{
	trib_verdict v;
	size_t		i;
	char		where[TRIB_EVENTID_LEN + 64];
	const trib_relation *source_rel;

	/*
	 * erasure: requests are handled on the source's values, before any
	 * rule masks them; key rows become the deletes they stand for; forged
	 * erasures and the rest of the catalog never reach a sink
	 */
	switch (trib_erasure_take(p->erasure, ev, errbuf, errlen))
	{
		case TRIB_ERASURE_FAILED:
			return false;
		case TRIB_ERASURE_CONSUMED:
			offered(p, ev, c, mp);
			return true;
		case TRIB_ERASURE_NOT_OURS:
		case TRIB_ERASURE_REWRITTEN:
			break;
	}
	/* the source's shape, before rules reshape it; false: not offered */
	if (!trib_schema_stage_apply(p->schemas, ev, errbuf, errlen))
		return (p->retriable = trib_schema_stage_retriable(p->schemas), false);
	source_rel = ev->rel;		/* lineage: the shape before the rules */
	v = trib_rules_apply(p->rules, ev, errbuf, errlen);

	/*
	 * The event counts as handled (offered()) only once every sink meant
	 * to have it took it: an event refused here, by a rule or by a sink,
	 * must stay after what durable_position() reports, or the checkpoint
	 * saved on the way out would cover it and a restart skip it.
	 */
	switch (v)
	{
		case TRIB_VERDICT_FAIL:
			return false;
		case TRIB_VERDICT_DROP:
			offered(p, ev, c, mp);
			trib_metric_inc(p->srcs[c].m_dropped);
			return true;
		case TRIB_VERDICT_DEAD_LETTER:
			if (p->dlq == NULL)
			{
				snprintf(errbuf, errlen, "%s, and the pipeline has no dead_letter sink",
						 ev->error ? ev->error : "a transform refused an event");
				return false;
			}
			describe_pos(p->srcs[c].src.ops, &ev->pos, where, sizeof(where));
			tlog_warn("transforms", "%s to the dead-letter sink: %s", where, ev->error);
			if (!write_one(p->dlq, ev, c, mp, errbuf, errlen))
				return false;
			break;
		case TRIB_VERDICT_KEEP:
			if (ev->quarantined && p->quar != NULL)
			{
				if (!write_one(p->quar, ev, c, mp, errbuf, errlen))
					return false;
				break;
			}
			trib_lineage_event(p->lineage, ev, source_rel);
			for (i = 0; i < p->nsinks; i++)
				if (!p->sinks[i].dead_letter && !p->sinks[i].quarantine &&
					!write_one(&p->sinks[i], ev, c, mp, errbuf, errlen))
					return false;
			break;
	}
	offered(p, ev, c, mp);
	p->tx_has_last = true;
	p->tx_last = mp ? *mp : ev->pos;
	p->tx_last.opaque = NULL;
	p->has_written = true;
	p->written = p->tx_last;
	return true;
}

/*
 * Are events written that no sink has acknowledged yet?  Then the loop
 * must come back quickly to serve the sinks' delivery reports, rather than
 * wait up to POLL_TIMEOUT_MS for the source (commit-to-ack latency).
 */
static bool
awaiting_acks(trib_pipeline *p)
{
	for (size_t i = 0; i < p->nsinks; i++)
	{
		const sink_slot *s = &p->sinks[i];

		if (sink_paused(s))
			continue;			/* it owes nothing soon: its events wait */
		if (trib_sink_buffer_events(s->held) > 0)
			return true;		/* draining */
		if (s->has_written && (!s->has_acked || pos_cmp(p, &s->acked, &s->last_written) < 0))
			return true;
	}
	return false;
}

/*
 * A transaction ends here: queue it for confirmation with the last event
 * handled since the last one ended, if any reached the sinks (its own, or
 * a non-transactional message before it; file comment).
 */
static void
end_tx(trib_pipeline *p, size_t c, const trib_source_item *it)
{
	pending_tx	tx;

	tx.src = c;
	tx.end = it->end;
	tx.end.opaque = kept_opaque(p, c, it->end.opaque);	/* the queue's */
	tx.ts_ms = it->ts_ms;
	tx.has_last = p->tx_has_last;
	tx.last = p->tx_last;
	queue_push(p, &tx);
	p->tx_has_last = false;
}

/* Process one item from source c. */
static bool
handle(trib_pipeline *p, size_t c, const trib_source_item *it, char *errbuf, size_t errlen)
{
	trib_position mp;
	bool		ok;

	switch (it->kind)
	{
		case TRIB_ITEM_BEGIN:
			p->in_tx = true;

			/*
			 * Nothing else to do: a transaction is what was handled since
			 * the last one ended (a streamed one has no begin), and after
			 * a reconnection the events already handled belong to the
			 * transaction the source begins again.
			 */
			if (p->merge != NULL)
				trib_merge_begin(p->merge, c);
			return true;
		case TRIB_ITEM_END:
			p->in_tx = false;
			if (p->merge != NULL)
				trib_merge_end(p->merge, c, &it->end, &mp);
			end_tx(p, c, it);
			return true;
		case TRIB_ITEM_EVENT:
			p->in_tx = true;
			if (p->merge == NULL)
				return deliver(p, it->ev, c, NULL, errbuf, errlen);
			trib_merge_event(p->merge, c, &it->ev->pos, &mp);
			ok = deliver(p, it->ev, c, &mp, errbuf, errlen);
			free(mp.opaque);
			return ok;
	}
	return true;
}

/* Refresh the gauges of /metrics. */
static void
update_gauges(trib_pipeline *p)
{
	for (size_t c = 0; c < p->nsrcs; c++)
	{
		src_slot   *ss = &p->srcs[c];
		bool		has_saved = p->merge ? ss->has_saved : p->has_saved;
		const trib_position *saved = p->merge ? &ss->saved : &p->saved;
		double		lag_s = 0;

		ss->src.ops->update_metrics(&ss->src);
		/* its oldest transaction not yet confirmed (a bounded look) */
		for (size_t i = 0; i < p->qlen && i < 4096; i++)
		{
			const pending_tx *tx = &p->queue[(p->qhead + i) % p->qcap];

			if (tx->src != c)
				continue;
			if (tx->ts_ms > 0)
				lag_s = (double) (trib_clock_wall_ms() - tx->ts_ms) / 1000.0;
			break;
		}
		/* held by a pause: nothing is read, so it is behind by at least
		 * the time since (pause.h) */
		if ((double) held_ms(p, c) / 1000.0 > lag_s)
			lag_s = (double) held_ms(p, c) / 1000.0;
		trib_metric_set(trib_metric_get(p->m.lag_seconds, ss->src.name), lag_s > 0 ? lag_s : 0);
		trib_metric_set(trib_metric_get(p->m.checkpoint_lsn, ss->src.name),
						has_saved ? ss->src.ops->gauge(saved) : 0);
	}
	trib_metric_set(trib_metric_get(p->m.queue_depth, "transactions"), (double) p->qlen);
	trib_pause_update_gauges(p->pause);
	for (size_t i = 0; i < p->nsinks; i++)
	{
		trib_metric_set(p->sinks[i].m_held_events,
						(double) trib_sink_buffer_events(p->sinks[i].held));
		trib_metric_set(p->sinks[i].m_held_bytes,
						(double) trib_sink_buffer_bytes(p->sinks[i].held));
	}
	trib_metric_set(p->m_pressed, p->pressed_since != 0 ? 1 : 0);
}

static bool
http_ready(void *arg, char *reason, size_t len)
{
	trib_pipeline *p = arg;

	if (strcmp(p->state, "streaming") == 0)
		return true;
	snprintf(reason, len, "pipeline is %s", p->state);
	return false;
}

static char *
http_status(void *arg)
{
	return trib_pipeline_status_json(arg);
}

/* POST /api/v1/reload (control.h): a reload request. */
static void
http_reload(void *arg, trib_reload_result *res)
{
	trib_pipeline *p = arg;

	trib_reload_request(p->reload, res);
}

/* Start /health, /metrics and /status when the config asks for them. */
static bool
start_http(trib_pipeline *p, char *errbuf, size_t errlen)
{
	trib_http_opts o;

	if (!trib_regapi_setup(p->cfg, &p->regapi, errbuf, errlen))
		return false;
	if (!p->cfg->http.enabled)
		return true;
	trib_http_opts_init(&o);
	if (p->regapi != NULL)
		trib_http_opts_add_route(&o, trib_regapi_handle, trib_regapi_request_done, p->regapi);
	p->control = trib_control_new(p->cfg, http_status, p);
	if ((p->quality = trib_quality_api_new(p->cfg, errbuf, errlen)) == NULL)
		return false;
	trib_control_set_pause(p->control, trib_pause_request, p->pause);
	trib_control_set_quality(p->control, trib_quality_api_check, p->quality);
	if (p->reload != NULL)
		trib_control_on_reload(p->control, http_reload, p);
	trib_http_opts_add_route(&o, trib_control_handle, trib_control_request_done, p->control);
	o.host = p->cfg->http.host;
	o.port = trib_reload_port(p->reload, p->cfg->http.port);
	o.tls_cert_file = p->cfg->http.tls_cert_file;
	o.tls_key_file = p->cfg->http.tls_key_file;
	o.metrics = p->metrics;
	o.ready = http_ready;
	o.status = http_status;
	o.arg = p;
	p->http = trib_http_start(&o, errbuf, errlen);
	if (p->http == NULL)
		return false;
	if (p->regapi != NULL)
		trib_regapi_listening_on(p->regapi, trib_http_address(p->http));
	trib_reload_note_port(p->reload, trib_http_port(p->http));
	trib_control_listening_on(p->control, trib_http_address(p->http));
	tlog_info("http", "serving /health, /metrics and /status on %s port %d",
			  trib_http_address(p->http), trib_http_port(p->http));
	return true;
}

/* Call poll (flush false) or flush on every open sink; on the first that
 * fails, note it and return false with "sink <name>: [flush: ]<why>". */
static bool
each_sink(trib_pipeline *p, bool flush, int timeout_ms, char *errbuf, size_t errlen)
{
	size_t		i;
	char		e[512];

	for (i = 0; i < p->nsinks; i++)
	{
		sink_slot  *s = &p->sinks[i];
		bool		(*call) (trib_sink *, int, char *, size_t) =
			flush ? s->sink.ops->flush : s->sink.ops->poll;

		if (s->opened && call && !call(&s->sink, timeout_ms, e, sizeof(e)))
		{
			snprintf(errbuf, errlen, "sink %s: %s%s", s->sink.name,
					 flush ? "flush: " : "", e);
			note_sink_failure(p, s);
			return false;
		}
	}
	return true;
}

/* Serve the sinks' callbacks; false when a sink has failed for good,
 * which stops the pipeline even while the source is idle. */
static bool
poll_sinks(trib_pipeline *p, int timeout_ms, char *errbuf, size_t errlen)
{
	return each_sink(p, false, timeout_ms, errbuf, errlen);
}

/*
 * Ask every sink to make what it holds durable (a file sink's buffer, a
 * Postgres sink's open batch); their acks follow.  Done when the source is
 * idle and at least every FLUSH_MS, so the slot and the checkpoint keep up
 * without flushing per event; timeout_ms 0 there (no waiting for acks),
 * DRAIN_TIMEOUT_MS at shutdown.
 */
static bool
flush_sinks(trib_pipeline *p, int timeout_ms, char *errbuf, size_t errlen)
{
	return each_sink(p, true, timeout_ms, errbuf, errlen);
}

/* Make every sink flush; then confirm and checkpoint what is durable. */
static bool
drain(trib_pipeline *p, char *errbuf, size_t errlen)
{
	if (!still_leader(p, !p->fenced, errbuf, errlen) ||
		!flush_sinks(p, DRAIN_TIMEOUT_MS, errbuf, errlen))
		return false;
	if (!poll_sinks(p, 0, errbuf, errlen) || !advance(p, true, true, errbuf, errlen))
		return false;
	for (size_t c = 0; c < p->nsrcs; c++)
		if (!p->srcs[c].src.ops->report(&p->srcs[c].src, false, errbuf, errlen))
			return false;
	return true;
}

/* See pipeline.h. */
bool
trib_pipeline_finish(trib_pipeline *p, bool ok)
{
	if (!ok && p->ckpt != NULL && !p->lock_lost && p->streaming)
	{
		char		e[512];

		/*
		 * Keep what the sinks did acknowledge (acks are only ever for
		 * durable positions), so a restart repeats less.  Confirm nothing
		 * more: items taken from the source may not have been handled,
		 * among them the end of a transaction the source must stay before
		 * (PostgreSQL: a prepared one; pg_source_ops.c).  Not before
		 * streaming: the snapshot keeps its own progress in the checkpoint
		 * (snapshot_feed.c), and one of its rows' positions saved without
		 * it would read as a finished snapshot and skip the rest.
		 */
		if (!advance(p, true, false, e, sizeof(e)))
			tlog_warn("pipeline", "could not save the checkpoint on the way out: %s", e);
	}
	trib_lineage_run_stop(p->lineage, ok);
	if (!ok)
	{
		trib_metric_inc(trib_metric_get(p->m.errors, "pipeline"));
		snprintf(p->state, sizeof(p->state), "failed");
	}
	return ok;
}

/* Several sources: say where each resumes. */
static void
log_resume_sources(const trib_pipeline *p)
{
	char		where[TRIB_EVENTID_LEN + 64];

	for (size_t c = 0; c < p->nsrcs; c++)
	{
		const src_slot *ss = &p->srcs[c];

		if (!ss->has_resume)
		{
			tlog_info("pipeline", "source %s: starting from %s", ss->src.name,
					  trib_source_origin(ss->src.ops));
			continue;
		}
		describe_pos(ss->src.ops, &ss->resume, where, sizeof(where));
		tlog_info("pipeline", "source %s: resuming after %s", ss->src.name, where);
	}
}

/* See pipeline.h. */
int
trib_pipeline_open(trib_pipeline *p, volatile sig_atomic_t *stop,
				   char *errbuf, size_t errlen)
{
	char		where[TRIB_EVENTID_LEN + 64];

	errbuf[0] = '\0';
	if (!start_http(p, errbuf, errlen))
		return -1;
	if (!open_all(p, stop, errbuf, errlen))
		return *stop && errbuf[0] == '\0' ? 0 : -1;
	if (!trib_pause_open(p->pause, errbuf, errlen))
		return (p->retriable = p->cfg->checkpoint.store == TRIB_CHECKPOINT_CATALOG, -1);
	trib_lineage_run_start(p->lineage);	/* the leader's run, not a standby's */
	if (p->merge != NULL)
		return resume_sources(p, errbuf, errlen) ? (log_resume_sources(p), 1) : -1;
	if (!resume_point(p, &p->has_resume, &p->resume, errbuf, errlen))
		return -1;
	if (p->has_resume)
	{
		describe_pos(p->pops, &p->resume, where, sizeof(where));
		tlog_info("pipeline", "resuming after %s", where);
	}
	else
		tlog_info("pipeline", "starting from %s", trib_source_origin(p->pops));
	return 1;
}

/* See pipeline.h. */
void
trib_pipeline_set_reload(trib_pipeline *p, trib_reload *reload)
{
	p->reload = reload;
}

/* See pipeline.h. */
void
trib_pipeline_set_state(trib_pipeline *p, const char *state)
{
	snprintf(p->state, sizeof(p->state), "%s", state);
}

/* See pipeline.h. */
size_t
trib_pipeline_nsources(const trib_pipeline *p)
{
	return p->nsrcs;
}

/* See pipeline.h. */
trib_source *
trib_pipeline_source(trib_pipeline *p, size_t i)
{
	return &p->srcs[i].src;
}

/* See pipeline.h. */
const trib_source_host *
trib_pipeline_host(trib_pipeline *p, size_t i)
{
	return p->shosts ? &p->shosts[i].host : &p->host;
}

/* Start every source after its resume point. */
static bool
start_sources(trib_pipeline *p, char *errbuf, size_t errlen)
{
	char		e[2048];

	if (p->merge == NULL)
		return p->srcs[0].src.ops->start(&p->srcs[0].src, p->has_resume ? &p->resume : NULL,
										 errbuf, errlen);
	for (size_t c = 0; c < p->nsrcs; c++)
	{
		src_slot   *ss = &p->srcs[c];

		if (!ss->src.ops->start(&ss->src, ss->has_resume ? &ss->resume : NULL, e, sizeof(e)))
		{
			snprintf(errbuf, errlen, "source %s: %s", ss->src.name, e);
			return false;
		}
	}
	return true;
}

/* Is a reload waiting, and is the pipeline between transactions? */
static bool
reload_now(trib_pipeline *p)
{
	return p->reload != NULL && !p->in_tx && trib_reload_due(p->reload);
}

/* Poll source c for up to POLL_BATCH items and handle them: how many, or
 * -1 on an error. */
static int
poll_one(trib_pipeline *p, size_t c, trib_source_item *items, int timeout_ms,
		 char *errbuf, size_t errlen)
{
	trib_source *src = &p->srcs[c].src;
	char		e[2048];
	int			n = src->ops->poll(src, items, POLL_BATCH, timeout_ms, e, sizeof(e));
	bool		ok = true;

	if (n < 0)
	{
		if (p->merge != NULL)
			snprintf(errbuf, errlen, "source %s: %s", src->name, e);
		else
			snprintf(errbuf, errlen, "%s", e);
		return -1;
	}
	/* a reload waits for a transaction boundary; the items after it are
	 * left to the source (it sends them again to the next pipeline) */
	for (int i = 0; i < n && ok && !reload_now(p); i++)
		ok = handle(p, c, &items[i], errbuf, errlen);
	trib_rules_batch_end(p->rules);
	return ok ? n : -1;
}

/*
 * Sources held by a pause (pause.h) are not polled: wait timeout_ms
 * instead, and every KEEPALIVE_MS send each held source a status update
 * so that its server keeps the connection (a walsender's
 * wal_sender_timeout).  0: no items.
 */
static int
hold(trib_pipeline *p, int timeout_ms)
{
	struct timespec t = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};

	if (trib_clock_mono_ms() - p->last_keepalive >= KEEPALIVE_MS)
	{
		p->last_keepalive = trib_clock_mono_ms();
		for (size_t c = 0; c < p->nsrcs; c++)
		{
			char		e[256];

			if (held_ms(p, c) > 0 &&
				!p->srcs[c].src.ops->report(&p->srcs[c].src, false, e, sizeof(e)))
				tlog_debug("pipeline", "source %s (paused): status update: %s",
						   p->srcs[c].src.name, e);
		}
	}
	if (timeout_ms > 0)
		nanosleep(&t, NULL);
	return 0;
}

/*
 * Poll the sources and handle what they yield: the one source; with
 * several, the source whose transaction is open until its END (merge.h),
 * else each in turn from the one after the last served, sharing the wait
 * among them while none has anything; none that a pause holds (pause.h).
 * How many items, or -1.
 */
static int
poll_sources(trib_pipeline *p, trib_source_item *items, int timeout_ms,
			 char *errbuf, size_t errlen)
{
	int			open,
				total = 0;
	size_t		reading = 0;

	if (!buffer_full(p))
		p->pressed_since = 0;
	else if (p->pressed_since == 0)
	{
		p->pressed_since = trib_clock_wall_ms();
		tlog_warn("pipeline", "a paused sink's buffer is full (pause_buffer_mb %d): no "
				  "source is read until it is resumed and drains", p->cfg->pause_buffer_mb);
	}
	if (p->pressed_since != 0 || (p->merge == NULL && trib_pause_source(p->pause, 0)))
		return hold(p, timeout_ms);
	if (p->merge == NULL)
		return poll_one(p, 0, items, timeout_ms, errbuf, errlen);
	open = trib_merge_open_source(p->merge);
	if (open >= 0)				/* a paused source's too: up to its END */
		return poll_one(p, (size_t) open, items, timeout_ms, errbuf, errlen);
	for (size_t c = 0; c < p->nsrcs; c++)
		reading += !trib_pause_source(p->pause, c);
	if (reading == 0)
		return hold(p, timeout_ms);
	hold(p, 0);					/* keep the paused ones alive */
	for (size_t k = 0; k < p->nsrcs; k++)
	{
		size_t		c = (p->next_src + k) % p->nsrcs;
		int			wait = total > 0 ? 0 : (timeout_ms + (int) reading - 1) / (int) reading;
		int			n;

		if (trib_pause_source(p->pause, c))
			continue;
		n = poll_one(p, c, items, wait, errbuf, errlen);

		if (n < 0)
			return -1;
		total += n;
		if (trib_merge_open_source(p->merge) >= 0)
		{
			p->next_src = (c + 1) % p->nsrcs;	/* after its END */
			return total;
		}
	}
	p->next_src = (p->next_src + 1) % p->nsrcs;
	return total;
}

/* See pipeline.h. */
bool
trib_pipeline_stream(trib_pipeline *p, volatile sig_atomic_t *stop,
					 char *errbuf, size_t errlen)
{
	trib_source_item items[POLL_BATCH];
	long long	last_flush = trib_clock_mono_ms();
	long long	last_data = trib_clock_mono_ms();
	uint64_t	unflushed = 0;
	char		id[TRIB_EVENTID_LEN];

	/* the snapshot's events are durable (settled) and belong to no
	 * transaction of the stream */
	p->tx_has_last = false;
	if (!start_sources(p, errbuf, errlen))
		return false;
	snprintf(p->state, sizeof(p->state), "streaming");
	p->streaming = true;

	while (!*stop && !reload_now(p))
	{
		/* a resumed sink takes what it is owed first, a batch a turn */
		int			held = drain_held(p, POLL_BATCH, errbuf, errlen);
		/* short waits while acks or a checkpoint's result are due */
		int			n = held < 0 ? -1 : poll_sources(p, items,
									 awaiting_acks(p) ||
									 (p->ckw && trib_ckpt_writer_busy(p->ckw)) ?
									 ACK_POLL_MS : POLL_TIMEOUT_MS,
									 errbuf, errlen);
		bool		settled = false;

		if (n < 0)
			return false;
		unflushed += n + held;
		if (n > 0)
			last_data = trib_clock_mono_ms();
		if (unflushed > 0 && (trib_clock_mono_ms() - last_data >= IDLE_FLUSH_MS ||
							  trib_clock_mono_ms() - last_flush >= FLUSH_MS))
		{
			if (!still_leader(p, !p->fenced, errbuf, errlen))
				return false;
			/* no wait: acks come through poll_sinks below (a wait here
			 * held every commit behind it: W3's tail) */
			if (!flush_sinks(p, 0, errbuf, errlen))
				return false;
			last_flush = trib_clock_mono_ms();
			unflushed = 0;
		}
		/* the source fell silent and every sink has everything: save the
		 * checkpoint (and so confirm) now rather than at the next tick */
		settled = trib_clock_mono_ms() - last_data >= SETTLE_MS && !awaiting_acks(p) &&
			trib_clock_mono_ms() - p->last_ckpt_ms >= CHECKPOINT_MS / 2;
		/* one source: due now, saved by the writer thread all the same
		 * (a synchronous save would hold the next commit) */
		p->save_now = settled && p->merge == NULL;
		if (!poll_sinks(p, 0, errbuf, errlen) ||
			!advance(p, settled && p->merge != NULL, true, errbuf, errlen))
			return false;
		/* idle: tell the upstream at once what became confirmed, rather
		 * than at the source's next status interval (a broken connection
		 * is the source's to notice and repair on its next poll) */
		if (n == 0)
			for (size_t c = 0; c < p->nsrcs; c++)
			{
				char		e[256];

				if (!p->srcs[c].src.ops->report(&p->srcs[c].src, true, e, sizeof(e)))
					tlog_debug("pipeline", "source %s: status update: %s",
							   p->srcs[c].src.name, e);
			}
		update_gauges(p);
		if (trib_log_reopen_pending())
		{
			char		e[256];

			if (!trib_log_reopen(e, sizeof(e)))
				tlog_error("pipeline", "could not reopen the log: %s", e);
		}
		if (!still_leader(p, false, errbuf, errlen))
			return false;
	}
	snprintf(p->state, sizeof(p->state), "draining");
	if (*stop)
		tlog_info("pipeline", "stopping: draining the sinks");
	else
	{
		tlog_info("pipeline", "reloading at a transaction boundary: draining the sinks");
		trib_http_settle(p->http, RELOAD_ANSWER_MS);	/* the reload's answer */
	}
	if (!drain(p, errbuf, errlen))
		return false;
	for (size_t c = 0; p->merge != NULL && c < p->nsrcs; c++)
	{
		p->srcs[c].src.ops->format_id(&p->srcs[c].saved, id, sizeof(id));
		tlog_info("pipeline", "source %s: checkpoint %s", p->srcs[c].src.name, id);
	}
	if (p->merge != NULL)
		tlog_info("pipeline", "stopped cleanly");
	else
	{
		p->pops->format_id(&p->saved, id, sizeof(id));
		tlog_info("pipeline", "stopped cleanly; checkpoint %s", id);
	}
	snprintf(p->state, sizeof(p->state), "stopped");
	return true;
}

/* One "name":"value" member of the status object (the value quoted and
 * escaped: names come from the config and may hold any character). */
static void
status_str(trib_strbuf *b, const char *sep, const char *name, const char *value)
{
	trib_strbuf_printf(b, "%s\"%s\":", sep, name);
	trib_jdoc_quote(b, value);
}

/* ,"paused":B,"paused_since":"ISO"|null of source (sink false) or sink i. */
static void
status_paused(trib_strbuf *b, const trib_pipeline *p, bool sink, size_t i)
{
	long long	since = trib_pause_since(p->pause, sink, i);
	char		iso[40];

	trib_strbuf_printf(b, ",\"paused\":%s,\"paused_since\":", since ? "true" : "false");
	if (since == 0)
		trib_strbuf_adds(b, "null");
	else
		trib_jdoc_quote(b, trib_clock_iso8601(since, iso, sizeof(iso)));
}

char *
trib_pipeline_status_json(trib_pipeline *p)
{
	trib_strbuf b = {0};
	char		ck[TRIB_EVENTID_LEN],
				conf[TRIB_EVENTID_LEN];
	trib_position confirmed;
	size_t		i;

	/* the source's ids (PostgreSQL: "L:S", or "L" for all of the
	 * transaction committed at L; what the slot was confirmed to) */
	p->srcs[0].src.ops->format_id(p->merge ? &p->srcs[0].saved : &p->saved, ck, sizeof(ck));
	p->srcs[0].src.ops->confirmed(&p->srcs[0].src, &confirmed);
	p->srcs[0].src.ops->format_id(&confirmed, conf, sizeof(conf));
	status_str(&b, "{", "pipeline", p->cfg->pipeline);
	status_str(&b, ",", "state", p->state);
	trib_strbuf_printf(&b, ",\"events_in\":%llu", (unsigned long long) p->events_in);
	status_str(&b, ",", "checkpoint", ck);
	status_str(&b, ",", "confirmed_lsn", conf);
	trib_strbuf_adds(&b, ",\"sinks\":[");
	for (i = 0; i < p->nsinks; i++)
	{
		char		a[TRIB_EVENTID_LEN];

		p->pops->format_id(&p->sinks[i].acked, a, sizeof(a));
		status_str(&b, i ? ",{" : "{", "name", p->cfg->sinks[i].name);
		trib_strbuf_printf(&b, ",\"written\":%llu", (unsigned long long) p->sinks[i].written);
		status_str(&b, ",", "acked", a);
		status_paused(&b, p, true, i);
		trib_strbuf_printf(&b, ",\"buffered_events\":%llu,\"buffered_bytes\":%llu}",
						   (unsigned long long) trib_sink_buffer_events(p->sinks[i].held),
						   (unsigned long long) trib_sink_buffer_bytes(p->sinks[i].held));
	}
	trib_strbuf_printf(&b, "],\"backpressure\":%s", p->pressed_since ? "true" : "false");
	/* each source's pause; several: its checkpoint and confirmed position */
	for (i = 0; i < p->nsrcs; i++)
	{
		const trib_source *src = &p->srcs[i].src;

		status_str(&b, i ? ",{" : ",\"sources\":[{", "name", p->cfg->sources[i].name);
		status_paused(&b, p, false, i);
		if (p->merge != NULL)
		{
			src->ops->format_id(&p->srcs[i].saved, ck, sizeof(ck));
			src->ops->confirmed(src, &confirmed);
			src->ops->format_id(&confirmed, conf, sizeof(conf));
			status_str(&b, ",", "checkpoint", ck);
			status_str(&b, ",", "confirmed", conf);
		}
		trib_strbuf_addc(&b, '}');
	}
	trib_strbuf_adds(&b, "]}");
	return trib_strbuf_finish(&b);
}

void
trib_pipeline_free(trib_pipeline *p)
{
	size_t		i;

	if (p == NULL)
		return;
	trib_http_stop(p->http);
	trib_regapi_free(p->regapi);
	trib_control_free(p->control);
	trib_pause_free(p->pause);
	trib_quality_api_free(p->quality);
	for (i = 0; i < p->nsinks; i++)
		if (p->sinks[i].opened && p->sinks[i].sink.ops->close)
			p->sinks[i].sink.ops->close(&p->sinks[i].sink);
	for (i = 0; i < p->nsinks; i++)
	{
		for (size_t c = 0; p->sinks[i].cskip != NULL && c < p->nsrcs; c++)
			free(p->sinks[i].cskip[c].opaque);
		free(p->sinks[i].has_cskip);
		free(p->sinks[i].cskip);
		free(p->sinks[i].skip_opaque);
		trib_sink_buffer_free(p->sinks[i].held);
	}
	for (i = 0; i < p->qlen; i++)
		free(p->queue[(p->qhead + i) % p->qcap].end.opaque);
	free(p->durable_tx.opaque);
	free(p->resume.opaque);
	trib_ckpt_writer_free(p->ckw);	/* before its store is closed */
	for (i = 0; p->srcs != NULL && i < p->nsrcs; i++)
	{
		if (p->srcs[i].src.state != NULL)
			p->srcs[i].src.ops->close(&p->srcs[i].src);
		free(p->srcs[i].durable_end.opaque);
		if (p->merge != NULL)
			free(p->srcs[i].resume.opaque);	/* else p->resume's */
		trib_checkpoint_close(p->srcs[i].ckpt);
	}
	free(p->srcs);
	trib_merge_free(p->merge);
	free(p->merge_names);
	free(p->shosts);
	free(p->merge_ops);
	trib_rules_free(p->rules);
	trib_intern_free(p->snap_reached);
	trib_erasure_free(p->erasure);
	trib_schema_stage_free(p->schemas);
	trib_lineage_free(p->lineage);
	trib_metrics_free(p->metrics);
	trib_leader_free(p->leader);
	free(p->sinks);
	free(p->queue);
	free(p);
}

/* ---- services to the source's snapshot (source.h) ---------------------- */

/* The key of schema.table in snap_reached (buf: at least 2 bytes). */
static size_t
table_key(const char *schema, const char *table, char *buf, size_t len)
{
	int			n = snprintf(buf, len, "%s%c%s", schema ? schema : "", '\0', table ? table : "");

	return n < 0 ? 0 : (size_t) n < len ? (size_t) n : len - 1;
}

/* Transform and write one snapshot event of source c (at merged position
 * mp with several sources, else NULL); remember its table when it reached
 * the sinks. */
static bool
snapshot_deliver(trib_pipeline *p, size_t c, trib_event *ev, const trib_position *mp,
				 char *errbuf, size_t errlen)
{
	const char *schema = ev->schema,
			   *table = ev->table;
	trib_position pos = mp ? *mp : ev->pos;
	char		key[512];

	if (!deliver(p, ev, c, mp, errbuf, errlen))
		return false;
	if (p->has_written && pos_cmp(p, &p->written, &pos) == 0)
	{
		if (p->snap_reached == NULL)
			p->snap_reached = trib_intern_new();
		*trib_intern_value(p->snap_reached, key, table_key(schema, table, key, sizeof(key))) = p;
	}
	return true;
}

/* trib_source_host: transform and write one event. */
static bool
host_deliver(void *arg, trib_event *ev, char *errbuf, size_t errlen)
{
	return snapshot_deliver(arg, 0, ev, NULL, errbuf, errlen);
}

/* A table of source c is copied: have the sinks create its target when
 * the rules let its shape be known without a row. */
static bool
table_copied(trib_pipeline *p, size_t c, const trib_relation *rel, char *errbuf, size_t errlen)
{
	const trib_relation *target = trib_rules_target(p->rules, p->srcs[c].src.name, rel);
	char		key[512],
				e[512];
	size_t		i;

	if (target == NULL)
	{
		size_t		n = table_key(rel->schema, rel->table, key, sizeof(key));

		if (p->snap_reached == NULL || trib_intern_find(p->snap_reached, key, n) == NULL)
			tlog_info("snapshot", "table %s.%s: no row of it reached the sinks, and a transform "
					  "rule that selects it (route, flatten, outbox or map) makes its shape "
					  "depend on the rows: its target table was not created",
					  rel->schema ? rel->schema : "", rel->table ? rel->table : "");
		return true;
	}
	for (i = 0; i < p->nsinks; i++)
	{
		sink_slot  *s = &p->sinks[i];

		if (s->dead_letter || s->quarantine || s->sink.ops->prepare_table == NULL)
			continue;
		if (!s->sink.ops->prepare_table(&s->sink, target, e, sizeof(e)))
		{
			snprintf(errbuf, errlen, "sink %s: %s", s->sink.name, e);
			note_sink_failure(p, s);
			return false;
		}
	}
	return true;
}

/* trib_source_host: a table is copied (table_copied). */
static bool
host_table_copied(void *arg, const trib_relation *rel, char *errbuf, size_t errlen)
{
	return table_copied(arg, 0, rel, errbuf, errlen);
}

/* trib_source_host: a batch of events ends. */
static void
host_batch_end(void *arg)
{
	trib_pipeline *p = arg;

	trib_rules_batch_end(p->rules);
}

/* trib_source_host: flush the sinks, then serve their callbacks. */
static bool
host_flush(void *arg, int timeout_ms, char *errbuf, size_t errlen)
{
	if (!flush_sinks(arg, timeout_ms, errbuf, errlen))
		return false;
	return poll_sinks(arg, 0, errbuf, errlen);
}

/* trib_source_host: serve the sinks' callbacks. */
static bool
host_poll(void *arg, int timeout_ms, char *errbuf, size_t errlen)
{
	return poll_sinks(arg, timeout_ms, errbuf, errlen);
}

/* trib_source_host: the minimum over the sinks of their durable position. */
static bool
host_durable(void *arg, trib_position *out)
{
	return durable_position(arg, out);
}

/* trib_source_host: the highest position any sink stores or the
 * checkpoint holds. */
static bool
host_stored_max(void *arg, trib_position *out)
{
	trib_pipeline *p = arg;
	bool		have = false;
	size_t		i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < p->nsinks; i++)
		if (p->sinks[i].has_skip && (!have || pos_cmp(p, &p->sinks[i].skip, out) > 0))
		{
			*out = p->sinks[i].skip;
			have = true;
		}
	if (p->has_saved && (!have || pos_cmp(p, &p->saved, out) > 0))
	{
		*out = p->saved;
		have = true;
	}
	out->opaque = NULL;
	return have;
}

/* trib_source_host: load the checkpoint. */
static int
host_load(void *arg, trib_position *out, char *errbuf, size_t errlen)
{
	trib_pipeline *p = arg;

	return trib_checkpoint_load(p->ckpt, out, errbuf, errlen);
}

/* trib_source_host: save the checkpoint and count it as saved. */
static bool
host_save(void *arg, const trib_position *pos, char *errbuf, size_t errlen)
{
	trib_pipeline *p = arg;

	if (!collect_saved(p, true, errbuf, errlen) ||	/* the writer idle */
		!trib_checkpoint_save(p->ckpt, pos, errbuf, errlen))
		return false;
	p->saved = *pos;
	p->saved.opaque = NULL;
	p->has_saved = true;
	p->last_ckpt_ms = trib_clock_mono_ms();
	return true;
}

/* trib_source_host: the state /status reports. */
static void
host_set_state(void *arg, const char *state)
{
	trib_pipeline_set_state(arg, state);
}

/* trib_source_host: the relation of ev's subject's latest version. */
static int
host_registered(void *arg, const trib_event *ev, trib_relation **out, char *errbuf,
				size_t errlen)
{
	trib_pipeline *p = arg;

	*out = NULL;
	errbuf[0] = '\0';
	return p->schemas ? trib_schema_stage_registered(p->schemas, ev, out, errbuf, errlen) : 0;
}

static int
src_host_registered(void *arg, const trib_event *ev, trib_relation **out, char *errbuf,
					size_t errlen)
{
	return host_registered(((src_host *) arg)->p, ev, out, errbuf, errlen);
}

/* trib_source_host: a new shape at a source's position (source.h). */
static bool
host_declare(void *arg, const trib_event *ev, char *errbuf, size_t errlen)
{
	return trib_schema_stage_declare(((trib_pipeline *) arg)->schemas, ev, errbuf, errlen);
}

static bool
src_host_declare(void *arg, const trib_event *ev, char *errbuf, size_t errlen)
{
	return host_declare(((src_host *) arg)->p, ev, errbuf, errlen);
}

/* trib_source_host: do we still hold the pipeline lock? */
static bool
host_leader_ok(void *arg, char *errbuf, size_t errlen)
{
	trib_pipeline *p = arg;

	return still_leader(p, true, errbuf, errlen);
}

/*
 * Several sources: each source's snapshot services (merge.h).  Its events
 * get merged positions, one group each, so that no group stays open into
 * streaming; while it copies, no other source delivers, so its n-th event
 * after the first delivered has group m0 + n and its own position's seq
 * first.seq + n, which is how durable() answers in the source's positions.
 * load and save are the source's own checkpoint; stored_max is the
 * highest position of that source a sink or its checkpoint holds.
 */
/* trib_source_host (several sources): write one event under a group of
 * its own. */
static bool
src_host_deliver(void *arg, trib_event *ev, char *errbuf, size_t errlen)
{
	src_host   *h = arg;
	trib_position mp,
				end,
				own = ev->pos;
	bool		ok;

	trib_merge_event(h->p->merge, h->c, &own, &mp);
	if (!h->started)
	{
		h->started = true;
		h->m0 = mp.commit_lsn;
		h->first = own;
		h->first.opaque = NULL;
	}
	ok = snapshot_deliver(h->p, h->c, ev, &mp, errbuf, errlen);
	free(mp.opaque);
	trib_merge_end(h->p->merge, h->c, &own, &end);
	return ok;
}

/* trib_source_host (several sources): the sinks' durable position as the
 * source's (see above). */
static bool
src_host_durable(void *arg, trib_position *out)
{
	src_host   *h = arg;
	trib_position d;

	if (!h->started || !durable_position(h->p, &d) || d.commit_lsn < h->m0)
		return false;
	*out = h->first;
	out->seq = h->first.seq + (d.commit_lsn - h->m0);
	return true;
}

/* trib_source_host (several sources): see above. */
static bool
src_host_stored_max(void *arg, trib_position *out)
{
	src_host   *h = arg;
	src_slot   *ss = &h->p->srcs[h->c];
	const trib_source_ops *ops = ss->src.ops;
	bool		have = false;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < h->p->nsinks; i++)
	{
		sink_slot  *s = &h->p->sinks[i];

		if (s->has_cskip && s->has_cskip[h->c] &&
			(!have || ops->compare(&s->cskip[h->c], out) > 0))
			*out = s->cskip[h->c], have = true;
	}
	if (ss->has_resume && (!have || ops->compare(&ss->resume, out) > 0))
		*out = ss->resume, have = true;
	if (ss->has_saved && (!have || ops->compare(&ss->saved, out) > 0))
		*out = ss->saved, have = true;
	out->opaque = NULL;
	return have;
}

/* trib_source_host (several sources): the source's checkpoint. */
static int
src_host_load(void *arg, trib_position *out, char *errbuf, size_t errlen)
{
	src_host   *h = arg;

	return trib_checkpoint_load(h->p->srcs[h->c].ckpt, out, errbuf, errlen);
}

/* trib_source_host (several sources): save the source's checkpoint. */
static bool
src_host_save(void *arg, const trib_position *pos, char *errbuf, size_t errlen)
{
	src_host   *h = arg;
	src_slot   *ss = &h->p->srcs[h->c];

	if (!trib_checkpoint_save(ss->ckpt, pos, errbuf, errlen))
		return false;
	ss->saved = *pos;
	ss->saved.opaque = NULL;
	ss->has_saved = true;
	return true;
}

/* trib_source_host (several sources): a table of this source is copied. */
static bool
src_host_table_copied(void *arg, const trib_relation *rel, char *errbuf, size_t errlen)
{
	src_host   *h = arg;

	return table_copied(h->p, h->c, rel, errbuf, errlen);
}

/* trib_source_host (several sources): the pipeline's own services. */
static void
src_host_batch_end(void *arg)
{
	host_batch_end(((src_host *) arg)->p);
}

static bool
src_host_flush(void *arg, int timeout_ms, char *errbuf, size_t errlen)
{
	return host_flush(((src_host *) arg)->p, timeout_ms, errbuf, errlen);
}

static bool
src_host_poll(void *arg, int timeout_ms, char *errbuf, size_t errlen)
{
	return host_poll(((src_host *) arg)->p, timeout_ms, errbuf, errlen);
}

static void
src_host_set_state(void *arg, const char *state)
{
	host_set_state(((src_host *) arg)->p, state);
}

static bool
src_host_leader_ok(void *arg, char *errbuf, size_t errlen)
{
	return host_leader_ok(((src_host *) arg)->p, errbuf, errlen);
}

/* Several sources: each source's services, around the pipeline's. */
static void
init_src_hosts(trib_pipeline *p)
{
	p->shosts = trib_xcalloc(p->nsrcs, sizeof(src_host));
	for (size_t c = 0; c < p->nsrcs; c++)
	{
		src_host   *h = &p->shosts[c];

		h->p = p;
		h->c = c;
		h->host.arg = h;
		h->host.pipeline = p->cfg->pipeline;
		h->host.batch_end = src_host_batch_end;
		h->host.flush = src_host_flush;
		h->host.poll = src_host_poll;
		h->host.set_state = src_host_set_state;
		h->host.leader_ok = src_host_leader_ok;
		h->host.deliver = src_host_deliver;
		h->host.registered = src_host_registered;
		h->host.declare = src_host_declare;
		h->host.durable = src_host_durable;
		h->host.stored_max = src_host_stored_max;
		h->host.load = src_host_load;
		h->host.save = src_host_save;
		h->host.table_copied = src_host_table_copied;
	}
}

/* Fill p->host. */
static void
init_host(trib_pipeline *p)
{
	p->host.arg = p;
	p->host.pipeline = p->cfg->pipeline;
	p->host.deliver = host_deliver;
	p->host.batch_end = host_batch_end;
	p->host.flush = host_flush;
	p->host.poll = host_poll;
	p->host.durable = host_durable;
	p->host.stored_max = host_stored_max;
	p->host.load = host_load;
	p->host.save = host_save;
	p->host.table_copied = host_table_copied;
	p->host.set_state = host_set_state;
	p->host.leader_ok = host_leader_ok;
	p->host.registered = host_registered;
	p->host.declare = host_declare;
	if (p->merge != NULL)
		init_src_hosts(p);
}

bool
trib_pipeline_retriable(const trib_pipeline *p)
{
	return p->retriable;
}

bool
trib_pipeline_refused(const trib_pipeline *p)
{
	return p->refused;
}

/* See pipeline.h. */
const char *
trib_pipeline_refused_hint(const trib_pipeline *p)
{
	if (p->login_hint != NULL)
		return p->login_hint;
	return "the role, password or database of the pipeline lock's PostgreSQL connection: the "
		"postgres source's dsn, or the source's lock_dsn (or the server's roles and pg_hba.conf)";
}
