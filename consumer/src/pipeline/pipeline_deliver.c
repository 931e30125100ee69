/*
 * pipeline_deliver.c: the items of a source's batch, one by one: begin,
 * event, end; each event through the transforms to every sink.
 *
 * Per event (pl_deliver()): the erasure guard, the rules and the schema stage
 * decide what each sink gets; write_one() gives it to a sink unless that
 * sink already has it (its skip, or per source with several) or is paused,
 * in which case it goes to the sink's buffer (sink_buffer.h) and counts as
 * handed.  A resumed sink is given its buffer, a batch a turn, before its
 * live events (pl_drain_held()).  An END queues the transaction for
 * confirmation (pipeline_advance.c).
 *
 * Hot path.  pl_poll_one() polls a source and hands each item to handle(),
 * pl_deliver() and write_one(): they and their small helpers stay in this one
 * file, static, so the compiler can inline them as it did when the
 * pipeline was one file.  The sinks' own poll and flush (each_sink()) and
 * the drain at shutdown are here too: the sink side of the loop.
 */
#include "pipeline_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "clock.h"
#include "log.h"

/* Append a committed transaction to the queue. */
static void
queue_push(trib_pipeline *p, const pl_pending_tx *tx)
{
	if (p->qlen == p->qcap)
	{
		pl_pending_tx *n = calloc(p->qcap * 2, sizeof(pl_pending_tx));
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

/* A sink failed: remember whether it lost a database connection. */
void
pl_note_sink_failure(trib_pipeline *p, pl_sink_slot *s)
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
sink_has_source_event(pl_sink_slot *s, size_t c, const trib_event *ev)
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
ahead_text(const pl_sink_slot *s)
{
	return s->ncskip > 0 ? trib_merge_vector(s->p->merge, s->has_cskip, s->cskip) : NULL;
}

/*
 * Several sources: write ev (of source c) to sink s under its merged
 * position `mp`; the records keep the source's own (event.h origin).  A
 * sink still ahead of some source stores its own merged text (merge.h).
 */
static bool
write_merged(pl_sink_slot *s, trib_event *ev, const trib_position *mp,
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
sink_paused(const pl_sink_slot *s)
{
	return trib_pause_sink(s->p->pause, (size_t) (s - s->p->sinks));
}

/* Does sink s take its events into its buffer: paused while streaming,
 * or resumed with a buffer not drained yet (the order is kept)? */
static bool
sink_holds(const pl_sink_slot *s)
{
	return trib_sink_buffer_events(s->held) > 0 || (s->p->streaming && sink_paused(s));
}

/* ev (at position `at`, the one the sink sees) was handed to sink s, or
 * held for it: the sink is durable only once it acknowledged `at`. */
static void
handed(pl_sink_slot *s, const trib_position *at)
{
	s->has_written = true;
	s->last_written = *at;
	s->last_written.opaque = NULL;
}

/* Sink s took ev (its write returned ok), or failed: "sink <name>: why". */
static bool
took(pl_sink_slot *s, bool ok, const char *e, char *errbuf, size_t errlen)
{
	if (!ok)
	{
		snprintf(errbuf, errlen, "sink %s: %s", s->sink.name, e);
		pl_note_sink_failure(s->p, s);
		return false;
	}
	s->written++;
	trib_metric_inc(s->m_events);
	return true;
}

/* Hold ev (at merged position mp, or NULL) for sink s, with the position
 * it would have been written at (write_merged's). */
static void
hold_event(pl_sink_slot *s, const trib_event *ev, const trib_position *mp)
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
write_one(pl_sink_slot *s, trib_event *ev, size_t c, const trib_position *mp,
		  char *errbuf, size_t errlen)
{
	char		e[2048];
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
int
pl_drain_held(trib_pipeline *p, int max, char *errbuf, size_t errlen)
{
	int			n = 0;

	for (size_t i = 0; i < p->nsinks; i++)
	{
		pl_sink_slot *s = &p->sinks[i];
		const trib_event *ev;
		char		e[2048];

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
bool
pl_buffer_full(trib_pipeline *p)
{
	uint64_t	bound = (uint64_t) p->cfg->pause_buffer_mb << 20;

	for (size_t i = 0; i < p->nsinks; i++)
		if (sink_holds(&p->sinks[i]) && trib_sink_buffer_bytes(p->sinks[i].held) >= bound)
			return true;
	return false;
}

/* Wall-clock ms since source c is not read (paused itself, or every
 * source while a full buffer holds the reading), or 0 when it is read. */
long long
pl_held_ms(const trib_pipeline *p, size_t c)
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
bool
pl_deliver(trib_pipeline *p, trib_event *ev, size_t c, const trib_position *mp,
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
	/* the rules, unless the batch's pool ran them (pl_rules_prepass()) */
	if (!trib_rules_pool_take(p->rules_pool, ev, &v, &source_rel, errbuf, errlen))
	{
		source_rel = ev->rel;	/* lineage: the shape before the rules */
		v = trib_rules_apply(p->rules, ev, errbuf, errlen);
	}

	/*
	 * The event counts as handled (offered()) only once every sink meant
	 * to have it took it: an event refused here, by a rule or by a sink,
	 * must stay after what pl_durable_position() reports, or the checkpoint
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
			pl_describe_pos(p->srcs[c].src.ops, &ev->pos, where, sizeof(where));
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

/* Does sink s owe acks soon: events it is draining from its buffer, or
 * written and not yet acknowledged?  A paused sink owes nothing soon: its
 * events wait. */
static bool
sink_owes(const trib_pipeline *p, const pl_sink_slot *s)
{
	if (sink_paused(s))
		return false;
	if (trib_sink_buffer_events(s->held) > 0)
		return true;
	return s->has_written && (!s->has_acked || pos_cmp(p, &s->acked, &s->last_written) < 0);
}

/* Has sink s acknowledged less than sink t (the durable position, the
 * minimum over the sinks, waits for s rather than t)? */
static bool
acked_less(const trib_pipeline *p, const pl_sink_slot *s, const pl_sink_slot *t)
{
	if (!s->has_acked || !t->has_acked)
		return !s->has_acked && t->has_acked;
	return pos_cmp(p, &s->acked, &t->acked) < 0;
}

/* May the turn poll source c?  Not when a pause holds it, unless it is
 * the merged source whose transaction is open: that one is polled up to
 * its END, paused or not (pipeline_run.c's poll_sources). */
static bool
source_polled(const trib_pipeline *p, size_t c)
{
	return !trib_pause_source(p->pause, c) ||
		(p->merge != NULL && trib_merge_open_source(p->merge) == (int) c);
}

/*
 * While acks are owed: the descriptor the turn's waits watch instead of
 * polling the sinks every ACK_POLL_MS (pipeline_wake.c), when every sink
 * that owes acks has one and holds nothing back (a resumed sink's buffer
 * drains a batch a turn), and every source the turn may poll can watch it
 * (source.h can_wake; a source held by a pause is not polled, pl_hold()
 * watches it instead, unless its merged transaction is open:
 * source_polled()).  Of the sinks that owe, one is enough: what is
 * durable (the minimum over the sinks) cannot move before each of them
 * has acked, so the turn waits for the one acked least far (among equals
 * the one it waited for last, p->ack_sink), and a later turn for the next
 * that still owes; every turn polls all of them.  -1: poll (or no acks
 * owed).
 */
int
pl_ack_wake_fd(trib_pipeline *p)
{
	const pl_sink_slot *pick = NULL;

	for (size_t i = 0; i < p->nsinks; i++)
	{
		const pl_sink_slot *s = &p->sinks[i];

		if (!sink_owes(p, s))
			continue;
		if (s->wake_fd <= 0 || trib_sink_buffer_events(s->held) > 0)
			return -1;
		if (pick == NULL || acked_less(p, s, pick) ||
			(i == p->ack_sink && !acked_less(p, pick, s)))
			pick = s;
	}
	for (size_t c = 0; pick != NULL && c < p->nsrcs; c++)
		if (!p->srcs[c].src.can_wake && source_polled(p, c))
			return -1;
	if (pick == NULL)
		return -1;
	p->ack_sink = (size_t) (pick - p->sinks);
	return pick->wake_fd;
}

/*
 * Are events written that no sink has acknowledged yet?  Then the loop
 * must come back quickly to serve the sinks' delivery reports, rather than
 * wait up to POLL_TIMEOUT_MS for the source (commit-to-ack latency),
 * unless its waits watch the sinks' wake-up descriptor (pl_ack_wake_fd).
 */
bool
pl_awaiting_acks(trib_pipeline *p)
{
	for (size_t i = 0; i < p->nsinks; i++)
		if (sink_owes(p, &p->sinks[i]))
			return true;
	return false;
}

/*
 * A transaction ends here: queue it for confirmation with the last event
 * handled since the last one ended, if any reached the sinks (its own, or
 * a non-transactional message before it; pipeline.c's file comment).
 */
static void
end_tx(trib_pipeline *p, size_t c, const trib_source_item *it)
{
	pl_pending_tx tx;

	tx.src = c;
	tx.end = it->end;
	tx.end.opaque = kept_opaque(p, c, it->end.opaque);	/* the queue's */
	tx.ts_ms = it->ts_ms;
	/* one clock read per batch, not per transaction: the batch's
	 * transactions are handled within microseconds of each other */
	if (p->batch_ms == 0)
		p->batch_ms = trib_clock_mono_ms();
	tx.recv_ms = p->batch_ms;
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
				return pl_deliver(p, it->ev, c, NULL, errbuf, errlen);
			trib_merge_event(p->merge, c, &it->ev->pos, &mp);
			ok = pl_deliver(p, it->ev, c, &mp, errbuf, errlen);
			free(mp.opaque);
			return ok;
	}
	return true;
}

/* Call poll (flush false) or flush on every open sink; on the first that
 * fails, note it and return false with "sink <name>: [flush: ]<why>". */
static bool
each_sink(trib_pipeline *p, bool flush, int timeout_ms, char *errbuf, size_t errlen)
{
	size_t		i;
	char		e[2048];

	for (i = 0; i < p->nsinks; i++)
	{
		pl_sink_slot *s = &p->sinks[i];
		bool		(*call) (trib_sink *, int, char *, size_t) =
			flush ? s->sink.ops->flush : s->sink.ops->poll;

		if (s->opened && call && !call(&s->sink, timeout_ms, e, sizeof(e)))
		{
			snprintf(errbuf, errlen, "sink %s: %s%s", s->sink.name,
					 flush ? "flush: " : "", e);
			pl_note_sink_failure(p, s);
			return false;
		}
	}
	return true;
}

/* Serve the sinks' callbacks; false when a sink has failed for good,
 * which stops the pipeline even while the source is idle. */
bool
pl_poll_sinks(trib_pipeline *p, int timeout_ms, char *errbuf, size_t errlen)
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
bool
pl_flush_sinks(trib_pipeline *p, int timeout_ms, char *errbuf, size_t errlen)
{
	return each_sink(p, true, timeout_ms, errbuf, errlen);
}

/* Make every sink flush; then confirm and checkpoint what is durable. */
bool
pl_drain(trib_pipeline *p, char *errbuf, size_t errlen)
{
	if (!pl_still_leader(p, !p->fenced, errbuf, errlen) ||
		!pl_flush_sinks(p, DRAIN_TIMEOUT_MS, errbuf, errlen))
		return false;
	if (!pl_poll_sinks(p, 0, errbuf, errlen) || !pl_advance(p, true, true, errbuf, errlen))
		return false;
	for (size_t c = 0; c < p->nsrcs; c++)
		if (!p->srcs[c].src.ops->report(&p->srcs[c].src, false, errbuf, errlen))
			return false;
	return true;
}

/*
 * With a rules pool: hand the batch's row events to the pool's workers
 * before the batch is handled; they mask them while the batch is
 * delivered, and pl_deliver() takes each result in turn (rules_pool.h).
 * Only events nothing before the rules changes: rows of the captured
 * tables, which the erasure guard passes untouched (the one test,
 * trib_erasure_data_row(), decides both), and a pool exists only without
 * a schema stage; the catalog's rows and messages go through pl_deliver()
 * as before.
 */
static void
pl_rules_prepass(trib_pipeline *p, const trib_source_item *items, int n)
{
	size_t		k = 0;

	for (int i = 0; i < n; i++)
		if (items[i].kind == TRIB_ITEM_EVENT && trib_erasure_data_row(items[i].ev))
			p->pool_evs[k++] = items[i].ev;
	trib_rules_pool_run(p->rules_pool, p->pool_evs, k);
}

/* Poll source c for up to POLL_BATCH items and handle them: how many, or
 * -1 on an error. */
int
pl_poll_one(trib_pipeline *p, size_t c, trib_source_item *items, int timeout_ms,
		 char *errbuf, size_t errlen)
{
	trib_source *src = &p->srcs[c].src;
	char		e[2048];
	int			n;
	bool		ok = true;

	/* the turn's ack wake-up (pl_ack_wake_fd), for a source that can
	 * watch it; the others were polled with ACK_POLL_MS */
	src->wake_fd = src->can_wake ? p->ack_fd : -1;
	n = src->ops->poll(src, items, POLL_BATCH, timeout_ms, e, sizeof(e));

	if (n < 0)
	{
		if (p->merge != NULL)
			snprintf(errbuf, errlen, "source %s: %s", src->name, e);
		else
			snprintf(errbuf, errlen, "%s", e);
		return -1;
	}
	/*
	 * A reload waits for a transaction boundary; the items after it are
	 * left to the source.  That is safe mid-batch, with the pool's workers
	 * masking events that will not be delivered: the next pipeline
	 * rebuilds the sources and reads those events again from the server
	 * (from the confirmed position), so what the workers did to this
	 * batch's copies is thrown away with them.  The forget below returns
	 * only once no worker touches the batch, before the source's next poll
	 * frees its events; an error or a stop (SIGTERM) leaves the same way.
	 */
	/*
	 * The wait for the batch may have been long (a stopped process, a
	 * slow source): a lock last seen LEADER_CHECK_MS ago is asked about
	 * again before any of it reaches a sink, so that a consumer that was
	 * frozen while a standby took over hands nothing more to its sinks.
	 */
	if (n > 0 && !pl_still_leader(p, false, errbuf, errlen))
		return -1;
	p->batch_ms = 0;
	if (p->rules_pool != NULL && n > 0 && !reload_now(p))
		pl_rules_prepass(p, items, n);
	for (int i = 0; i < n && ok && !reload_now(p); i++)
		ok = handle(p, c, &items[i], errbuf, errlen);
	trib_rules_pool_forget(p->rules_pool);	/* events left unhandled */
	trib_rules_batch_end(p->rules);
	return ok ? n : -1;
}
