/*
 * pipeline_advance.c: from what the sinks acknowledged to checkpoints and
 * confirmations.
 *
 * pl_durable_position() is the minimum over the sinks of what each has
 * acknowledged (paused sinks included: the checkpoint waits for them).
 * pl_advance() checkpoints it (at most every CHECKPOINT_MS, sooner once the
 * source settled, forced at shutdown) through the writer thread
 * (ckpt_writer.h) when there is one, and pops the queue of ended
 * transactions (pipeline_deliver.c pushes them) whose events the saved
 * checkpoint covers, confirming their END to the source.  With several
 * sources, advance_sources() does the same per source: each gets its own
 * checkpoint and its own confirmations, computed from the merged durable
 * position (merge.h).
 */
#include "pipeline_int.h"

#include <stdlib.h>

#include "clock.h"
#include "log.h"

/* Take the queue's head off once the saved checkpoint covers it: its END
 * becomes *confirmable (without the opaque position, which is freed), to
 * be confirmed to its source. */
static void
queue_pop_confirmed(trib_pipeline *p, trib_position *confirmable,
					bool *has_confirmable)
{
	pl_pending_tx *tx = &p->queue[p->qhead];

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
bool
pl_durable_position(trib_pipeline *p, trib_position *out)
{
	size_t		i;
	bool		have = false;

	for (i = 0; i < p->nsinks; i++)
	{
		pl_sink_slot *s = &p->sinks[i];
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

/* A run of equal latency observations (milliseconds), not yet recorded. */
typedef struct
{
	long long	ms;
	uint64_t	n;				/* 0: none */
} latency_run;

/* Record the run, if any, in histogram m. */
static void
run_flush(trib_metric *m, latency_run *r)
{
	if (r->n > 0)
		trib_metric_observe_n(m, (double) r->ms / 1000.0, r->n);
	r->n = 0;
}

/* One more observation of ms: extends the run, or records it and starts
 * another. */
static void
run_add(trib_metric *m, latency_run *r, long long ms)
{
	if (r->n > 0 && r->ms != ms)
		run_flush(m, r);
	r->ms = ms;
	r->n++;
}

/* The clocks of one pl_advance() call, read at most once for all the
 * transactions that become durable in it (the moment is the same), and
 * its latency observations, run-length coded: a run of transactions with
 * the same latency in milliseconds (several commits of the same
 * millisecond, handled in the same turn: W2) is recorded once
 * (trib_metric_observe_n); durable_flush() records what is pending. */
typedef struct
{
	long long	wall_ms;
	long long	mono_ms;
	bool		read;
	latency_run ack;			/* commit to ack */
	latency_run rcpt;			/* receipt to ack */
} durable_clock;

/* Record the pending runs of observations. */
static void
durable_flush(trib_pipeline *p, durable_clock *now)
{
	run_flush(p->m_ack_latency, &now->ack);
	run_flush(p->m_receipt_latency, &now->rcpt);
}

/*
 * A transaction became durable: its commit-to-ack latency (from the
 * source's commit timestamp) and its receipt-to-ack latency (from the
 * moment the pipeline handled its END: the daemon's own share, which
 * tells a slow upstream from a slow pipeline or sink), recorded by the
 * end of the run they extend.
 */
static void
observe_durable(trib_pipeline *p, const pl_pending_tx *tx, durable_clock *now)
{
	if (!now->read)
	{
		now->wall_ms = trib_clock_wall_ms();
		now->mono_ms = trib_clock_mono_ms();
		now->read = true;
	}
	if (tx->ts_ms > 0)
		run_add(p->m_ack_latency, &now->ack, now->wall_ms - tx->ts_ms);
	run_add(p->m_receipt_latency, &now->rcpt, now->mono_ms - tx->recv_ms);
}

/*
 * Several sources: pl_advance() per source.  A transaction is durable once
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
	durable_clock now = {0};
	size_t		c;

	while (d != NULL && p->qdurable < p->qlen)
	{
		pl_pending_tx *tx = &p->queue[(p->qhead + p->qdurable) % p->qcap];

		if (tx->has_last)
		{
			if (pos_cmp(p, &tx->last, d) > 0)
				break;
			free(p->srcs[tx->src].durable_end.opaque);
			p->srcs[tx->src].durable_end = tx->end;
			p->srcs[tx->src].durable_end.opaque =
				tx->end.opaque ? trib_xstrdup(tx->end.opaque) : NULL;
			p->srcs[tx->src].has_durable_end = true;
			observe_durable(p, tx, &now);
		}
		p->qdurable++;
	}
	durable_flush(p, &now);
	for (c = 0; due && c < p->nsrcs; c++)
	{
		pl_src_slot *ss = &p->srcs[c];

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
		pl_pending_tx *tx = &p->queue[p->qhead];
		pl_src_slot *ss = &p->srcs[tx->src];

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
	if (trib_log_enabled(TRIB_LOG_DEBUG))
	{
		char		id[TRIB_EVENTID_LEN];

		p->pops->format_id(pos, id, sizeof(id));
		tlog_debug("pipeline", "checkpoint saved: %s", id);
	}
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
bool
pl_collect_saved(trib_pipeline *p, bool wait, char *errbuf, size_t errlen)
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
	{
		p->last_ckpt_ms = trib_clock_mono_ms();
		if (trib_log_enabled(TRIB_LOG_DEBUG))
		{
			char		id[TRIB_EVENTID_LEN];

			p->pops->format_id(ck, id, sizeof(id));
			tlog_debug("pipeline", "checkpoint handed to the writer: %s", id);
		}
	}
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
bool
pl_advance(trib_pipeline *p, bool force, bool confirm_slot, char *errbuf, size_t errlen)
{
	trib_position d;
	bool		have = pl_durable_position(p, &d);
	trib_position ck;
	bool		have_ck = false;
	bool		inside = false;
	durable_clock now = {0};

	if (p->merge != NULL)
		return advance_sources(p, have ? &d : NULL, force, confirm_slot, errbuf, errlen);

	/*
	 * Extend the durable prefix of the queue: each transaction is looked
	 * at once when it becomes durable (its commit-to-ack latency is
	 * observed then), not again at every call.
	 */
	while (have && p->qdurable < p->qlen)
	{
		pl_pending_tx *tx = &p->queue[(p->qhead + p->qdurable) % p->qcap];

		if (tx->has_last)
		{
			if (pos_cmp(p, &tx->last, &d) > 0)
				break;
			free(p->durable_tx.opaque);
			p->durable_tx = tx->end;
			p->durable_tx.opaque = tx->end.opaque ? trib_xstrdup(tx->end.opaque) : NULL;
			p->has_durable_tx = true;
			observe_durable(p, tx, &now);
		}
		p->qdurable++;
	}
	durable_flush(p, &now);
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
	if (!pl_collect_saved(p, force, errbuf, errlen))
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
		pl_pending_tx *tx = &p->queue[p->qhead];

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
