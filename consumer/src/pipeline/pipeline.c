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
 * services of pipeline_host.c), then stream; the pipeline never calls the
 * snapshot itself.
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
 * its buffer (sink_buffer.h) and counts it as handed, so pl_durable_position()
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
 *
 * Files.  This file creates, finishes and frees a pipeline; the rest is in
 * files by concern, sharing struct trib_pipeline through pipeline_int.h:
 * pipeline_open.c (the lock, the checkpoint store and sinks, resume
 * points, starting the sources), pipeline_run.c (the stream loop),
 * pipeline_deliver.c (a source's items to the sinks: the per-event path),
 * pipeline_advance.c (durable position, checkpoints, confirmations),
 * pipeline_status.c (/metrics, /status, the HTTP endpoints) and
 * pipeline_host.c (the services to a source's snapshot).
 */
#include "pipeline_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "keys.h"
#include "log.h"

/* A position in words for the logs, by the operations of its kind: their
 * describe(), else its id. */
void
pl_describe_pos(const trib_source_ops *ops, const trib_position *pos, char *buf, size_t len)
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
	pl_sink_slot *s = arg;

	(void) sink;
	if (!s->has_acked || pos_cmp(s->p, pos, &s->acked) > 0)
	{
		trib_metric_set(s->m_acked_lsn, s->p->pops->gauge(pos));
		s->acked = *pos;
		s->acked.opaque = NULL;	/* the sink's */
		s->has_acked = true;
	}
}

/* What the pipeline's sinks need of the events beyond what every event
 * carries: the union of their needs() (sink.h). */
static unsigned
sinks_need(const trib_config *cfg)
{
	unsigned	needs = 0;

	for (size_t i = 0; i < cfg->nsinks; i++)
	{
		const trib_sink_ops *ops = cfg->sinks[i].plugin->sink_ops;

		if (ops != NULL && ops->needs != NULL)
			needs |= ops->needs(&cfg->sinks[i]);
	}
	return needs;
}

/*
 * Open a source from its member of `sources:` through its registered
 * operations (source.h); connects nothing yet.  It computes what the
 * sinks and the rules need of its events (source.h needs) and nothing
 * more.
 */
static bool
make_source(trib_pipeline *p, pl_src_slot *ss, char *errbuf, size_t errlen)
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
	ss->src.needs = sinks_need(p->cfg) |
		(p->cfg->nrules > 0 ? TRIB_NEED_IMAGE_INDEX : 0);
	ss->src.metrics = p->metrics;
	ss->src.m_lag_bytes = trib_metric_get(p->m.lag_bytes, ss->conf->name);
	return ops->open(&ss->src, ss->conf, errbuf, errlen);
}

/*
 * Open every source; with several, merge their streams (merge.h).  The
 * series per source come first, then each source's own (the order of
 * /metrics).
 */
/*
 * The rules on several threads (rules_pool.h) when every rule is pure and
 * nothing between the source and the rules rewrites events in order (no
 * schema stage); else p->rules_pool stays NULL.  false: a worker could not
 * be started.
 */
static bool
open_rules_pool(trib_pipeline *p, const trib_config *cfg, char *errbuf, size_t errlen)
{
	if (p->schemas != NULL)
		return true;
	p->rules_pool = trib_rules_pool_new(p->rules, cfg, p->metrics, cfg->transform_workers,
										errbuf, errlen);
	if (p->rules_pool == NULL)
		return errbuf[0] == '\0';
	p->pool_evs = trib_xcalloc(POLL_BATCH, sizeof(trib_event *));
	tlog_info("transforms", "every rule is pure: a batch's rules run on %d threads",
			  cfg->transform_workers);
	return true;
}

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
	trib_pipeline *p = trib_xcalloc(1, sizeof(*p));
	size_t		i;

	p->cfg = cfg;
	p->ack_fd = -1;				/* pipeline_wake.c: none yet */
	snprintf(p->state, sizeof(p->state), "starting");
	if (cfg->nsources == 0)
	{
		snprintf(errbuf, errlen, "%s: the pipeline has no source", cfg->path);
		free(p);
		return NULL;
	}
	p->nsrcs = cfg->nsources;
	p->srcs = trib_xcalloc(p->nsrcs, sizeof(pl_src_slot));
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
	p->sinks = trib_xcalloc(p->nsinks ? p->nsinks : 1, sizeof(pl_sink_slot));
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
	p->queue = trib_xcalloc(p->qcap, sizeof(pl_pending_tx));
	p->m_ack_latency = trib_metric_get(p->m.ack_latency, "all");
	p->m_receipt_latency = trib_metric_get(p->m.receipt_latency, "all");
	p->pause = trib_pause_new(cfg, p->metrics);
	init_held(p);
	/* after the pipeline's families: the source adds its own (the order
	 * of /metrics) */
	if (!make_sources(p, errbuf, errlen) ||
		!trib_schema_stage_new(cfg, p->metrics, p->srcs[0].src.ops->format_id, &p->schemas,
							   errbuf, errlen) ||
		!trib_lineage_new(cfg, p->rules, p->metrics, &p->lineage, errbuf, errlen) ||
		!open_rules_pool(p, cfg, errbuf, errlen))
	{
		trib_pipeline_free(p);
		return NULL;
	}
	pl_init_host(p);
	for (i = 0; i < p->nsinks; i++)
	{
		p->sinks[i].m_events = trib_metric_get(p->m.sink_events, cfg->sinks[i].name);
		p->sinks[i].m_acked_lsn = trib_metric_get(p->m.sink_acked_lsn, cfg->sinks[i].name);
	}
	return p;
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
		if (!pl_advance(p, true, false, e, sizeof(e)))
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

/*
 * How this pipeline gives the lock up, for the next one this process
 * builds (pl_lock_history): held to the end, its sinks closed, the lock is
 * released cleanly (a reload takes it back without a takeover wait); held
 * but found lost now, it was lost.
 */
static void
note_lock_end(trib_pipeline *p)
{
	char		e[512];

	if (!p->led || p->lock_lost)
		return;
	if (trib_leader_check(p->leader, e, sizeof(e)))
		pl_lock_released(pl_process_lock_history(), p->cfg->pipeline, trib_clock_mono_ms());
	else
		pl_lock_lost(pl_process_lock_history());
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
	/* without the lock, what the sinks still buffer is not ours to write:
	 * another consumer may be writing already (pl_still_leader) */
	for (i = 0; i < p->nsinks; i++)
		if (p->sinks[i].opened && p->sinks[i].sink.ops->close)
		{
			p->sinks[i].sink.discard = p->lock_lost;
			p->sinks[i].sink.ops->close(&p->sinks[i].sink);
		}
	for (i = 0; i < p->nsinks; i++)
	{
		for (size_t c = 0; p->sinks[i].cskip != NULL && c < p->nsrcs; c++)
			free(p->sinks[i].cskip[c].opaque);
		free(p->sinks[i].has_cskip);
		free(p->sinks[i].cskip);
		free(p->sinks[i].skip_opaque);
		trib_sink_buffer_free(p->sinks[i].held);
		trib_key_free(p->sinks[i].sink.seal_key);
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
	trib_rules_pool_free(p->rules_pool);
	free(p->pool_evs);
	trib_rules_free(p->rules);
	trib_intern_free(p->snap_reached);
	trib_erasure_free(p->erasure);
	trib_schema_stage_free(p->schemas);
	trib_lineage_free(p->lineage);
	trib_metrics_free(p->metrics);
	note_lock_end(p);
	trib_leader_free(p->leader);
	free(p->sinks);
	free(p->queue);
	free(p);
}

bool
trib_pipeline_retriable(const trib_pipeline *p)
{
	return p->retriable;
}

/* See pipeline.h. */
void
trib_pipeline_restart_backoff(const trib_pipeline *p, int *initial_ms, int *max_ms)
{
	const trib_source *src = &p->srcs[0].src;

	/* a source whose open set none restarts as PostgreSQL's default would,
	 * never in a loop without a wait */
	*initial_ms = src->backoff_initial_ms > 0 ? src->backoff_initial_ms : 500;
	/* one that lost the pipeline lock lets the standbys, trying every
	 * LEADER_RETRY_MS, take it first: after 100 ms it took it back as
	 * often as not, and a forced takeover (its lock connection killed)
	 * did not happen */
	if (p->lock_lost && *initial_ms < LEADER_YIELD_MS)
		*initial_ms = LEADER_YIELD_MS;
	*max_ms = src->backoff_max_ms >= *initial_ms ? src->backoff_max_ms : *initial_ms;
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
