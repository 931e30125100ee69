/*
 * pipeline_run.c: the stream loop (trib_pipeline_stream).
 *
 * Each turn polls the sources (one after the other, several from the one
 * after the last polled, so none starves, and only the one whose
 * transaction is open, until its END or until it falls silent in it for
 * STALL_MS; with a 1 ms timeout while a sink owes acknowledgements,
 * unless the ack wake-up descriptor of the sink the turn waits for
 * (pipeline_wake.c) ends its waits when they come: pl_wait_ms()), unless
 * every source is paused
 * or a paused sink's buffer is full (backpressure): then pl_hold() sleeps the
 * turn (watching that descriptor too) and keeps the held sources alive
 * with status updates every KEEPALIVE_MS.
 * Then it flushes the sinks when the source was quiet for IDLE_FLUSH_MS or
 * at least every FLUSH_MS, advances the checkpoint and confirmations, and
 * applies a waiting reload between transactions.  Once the source fell
 * silent and every sink acknowledged all it was handed, the checkpoint is
 * saved at once (pl_settled) and the turn's wait ends when that can
 * happen (pl_turn_wait), so the end of a burst is confirmed to the source
 * within SETTLE_MS plus the save, not at its next status update.  The gauges of /metrics
 * are refreshed on every idle turn, and every GAUGE_MS while busy (the
 * sources' own metrics on every turn: pl_update_source_metrics()).  The
 * leader checks that it still holds the pipeline lock.  The timings are
 * pipeline_int.h's.
 */
#include "pipeline_int.h"

#include <stdio.h>

#include "clock.h"
#include "log.h"

/*
 * Sources held by a pause (pause.h) are not polled: wait timeout_ms
 * instead, on the sinks' ack wake-up while acks are owed (p->ack_fd: the
 * turn ends when they come, as a polled source's wait would), and every
 * KEEPALIVE_MS send each held source a status update so that its server
 * keeps the connection (a walsender's wal_sender_timeout).  0: no items.
 */
int
pl_hold(trib_pipeline *p, int timeout_ms)
{
	if (trib_clock_mono_ms() - p->last_keepalive >= KEEPALIVE_MS)
	{
		p->last_keepalive = trib_clock_mono_ms();
		for (size_t c = 0; c < p->nsrcs; c++)
		{
			char		e[256];

			if (pl_held_ms(p, c) > 0 &&
				!p->srcs[c].src.ops->report(&p->srcs[c].src, false, e, sizeof(e)))
				tlog_debug("pipeline", "source %s (paused): status update: %s",
						   p->srcs[c].src.name, e);
		}
	}
	pl_wake_wait(p, p->ack_fd, timeout_ms);
	return 0;
}

/*
 * Several sources: poll source c, whose transaction is open (merge.h).
 * Silent for STALL_MS inside it (its server stalled, or went away and the
 * source is reconnecting), it gives up the floor: the group is suspended
 * and the next turns poll every source again, so one source's outage
 * does not hold the others' changes; the rest of its transaction follows
 * as a later group once it comes back.  Its silence counts only while it
 * is polled turn after turn: from the first poll of a streak (a held or
 * round-robin turn in between starts a new one) or its last items.  How
 * many items, or -1.
 */
static int
poll_open(trib_pipeline *p, size_t c, trib_source_item *items, int timeout_ms,
		  char *errbuf, size_t errlen)
{
	long long	now = trib_clock_mono_ms();
	int			n;

	if (p->open_turn == 0 || p->open_turn + 1 != p->turn)
		p->polled_since = now;	/* a new streak */
	p->open_turn = p->turn;
	n = pl_poll_one(p, c, items, timeout_ms, errbuf, errlen);
	now = trib_clock_mono_ms();
	if (n != 0)
	{
		p->polled_since = now;
		return n;
	}
	if (now - p->polled_since < STALL_MS)
		return 0;
	tlog_warn("pipeline", "source %s: nothing for %lld ms inside a transaction (its "
			  "server stalled or is unreachable): the other sources go on, and the rest "
			  "of its transaction follows when it comes back", p->srcs[c].src.name,
			  now - p->polled_since);
	trib_merge_suspend(p->merge);
	p->next_src = (c + 1) % p->nsrcs;
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

	p->turn++;
	if (!pl_buffer_full(p))
		p->pressed_since = 0;
	else if (p->pressed_since == 0)
	{
		p->pressed_since = trib_clock_wall_ms();
		tlog_warn("pipeline", "a paused sink's buffer is full (pause_buffer_mb %d): no "
				  "source is read until it is resumed and drains", p->cfg->pause_buffer_mb);
	}
	if (p->pressed_since != 0 || (p->merge == NULL && trib_pause_source(p->pause, 0)))
		return pl_hold(p, timeout_ms);
	if (p->merge == NULL)
		return pl_poll_one(p, 0, items, timeout_ms, errbuf, errlen);
	open = trib_merge_open_source(p->merge);
	if (open >= 0)				/* a paused source's too: up to its END */
		return poll_open(p, (size_t) open, items, timeout_ms, errbuf, errlen);
	for (size_t c = 0; c < p->nsrcs; c++)
		reading += !trib_pause_source(p->pause, c);
	if (reading == 0)
		return pl_hold(p, timeout_ms);
	pl_hold(p, 0);				/* keep the paused ones alive */
	for (size_t k = 0; k < p->nsrcs; k++)
	{
		size_t		c = (p->next_src + k) % p->nsrcs;
		int			wait = total > 0 ? 0 : (timeout_ms + (int) reading - 1) / (int) reading;
		int			n;

		if (trib_pause_source(p->pause, c))
			continue;
		n = pl_poll_one(p, c, items, wait, errbuf, errlen);

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

/*
 * How long the turn's wait may be: short (ACK_POLL_MS) while acks or a
 * checkpoint's result are due, unless the turn's waits can watch the
 * sinks' ack wake-up (pl_ack_wake_fd, kept in p->ack_fd for the sources'
 * polls and pl_hold(): then the loop sleeps until data or acks, not a timer's
 * tick per millisecond; W3 at 1,000/s).
 */
int
pl_wait_ms(trib_pipeline *p)
{
	bool		acks = pl_awaiting_acks(p);

	if (p->acks_owed && !acks)
		tlog_debug("pipeline", "every sink acknowledged all it was handed");
	p->acks_owed = acks;
	p->ack_fd = acks ? pl_ack_wake_fd(p) : -1;
	if (p->ckw && trib_ckpt_writer_busy(p->ckw))
		return ACK_POLL_MS;
	return acks && p->ack_fd < 0 ? ACK_POLL_MS : POLL_TIMEOUT_MS;
}

/*
 * The source fell silent (SETTLE_MS since its last items) and every sink
 * has everything: save the checkpoint (and so confirm) now rather than at
 * the next CHECKPOINT_MS tick.  At most once per SETTLE_EVERY_MS, counted
 * from the last such save only: a periodic save just before the burst
 * ended does not hold its confirmation back.
 */
bool
pl_settled(trib_pipeline *p, long long now, long long last_data)
{
	return now - last_data >= SETTLE_MS && now - p->last_settle_ms >= SETTLE_EVERY_MS &&
		!pl_awaiting_acks(p);
}

/*
 * The turn's wait (pl_wait_ms), cut short while ended transactions wait
 * for their confirmation and no sink owes acks: it ends when the source
 * can count as settled (pl_settled), so the end of a burst is checkpointed
 * and confirmed then, not at the source's next item or status update (up
 * to POLL_TIMEOUT_MS later: the W1 round's last 100 ms).  Once that moment
 * has passed (a turn after it found nothing to settle, e.g. a paused sink
 * holds the durable position) the wait is the usual one: no busy loop.
 * A busy turn that confirmed something (p->unreported) leaves a wait of
 * ACK_POLL_MS: if the source fell silent, the idle turn that reports it
 * comes then, not after the long wait; a stream with no gap of that
 * length (W2) gets no extra turn nor status update.
 */
int
pl_turn_wait(trib_pipeline *p, long long last_data)
{
	int			wait = pl_wait_ms(p);
	long long	at = last_data + SETTLE_MS;
	long long	now;

	if (p->unreported)
		return wait < ACK_POLL_MS ? wait : ACK_POLL_MS;
	if (p->qlen == 0 || p->acks_owed || wait <= ACK_POLL_MS)
		return wait;
	now = trib_clock_mono_ms();
	if (at < p->last_settle_ms + SETTLE_EVERY_MS)
		at = p->last_settle_ms + SETTLE_EVERY_MS;
	if (at <= now || at - now >= wait)
		return wait;
	return (int) (at - now);
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
	if (!pl_start_sources(p, errbuf, errlen))
		return false;
	pl_wake_open(p);
	snprintf(p->state, sizeof(p->state), "streaming");
	p->streaming = true;

	while (!*stop && !reload_now(p))
	{
		/* a resumed sink takes what it is owed first, a batch a turn */
		int			held = pl_drain_held(p, POLL_BATCH, errbuf, errlen);
		int			n = held < 0 ? -1 :
			poll_sources(p, items, pl_turn_wait(p, last_data), errbuf, errlen);
		bool		settled = false;
		/* one clock read for the turn's decisions below (a read costs
		 * about 35 instructions; there were five a turn) */
		long long	now;
		long long	ckpt_before = p->last_ckpt_ms;
		size_t		qlen;

		if (n < 0)
			return false;
		now = trib_clock_mono_ms();
		unflushed += n + held;
		if (n > 0)
			last_data = now;
		if (unflushed > 0 && (now - last_data >= IDLE_FLUSH_MS ||
							  now - last_flush >= FLUSH_MS))
		{
			if (!pl_still_leader(p, !p->fenced, errbuf, errlen))
				return false;
			/* no wait: acks come through pl_poll_sinks below (a wait here
			 * held every commit behind it: W3's tail) */
			if (!pl_flush_sinks(p, 0, errbuf, errlen))
				return false;
			last_flush = now = trib_clock_mono_ms();
			unflushed = 0;
		}
		if (!pl_poll_sinks(p, 0, errbuf, errlen))
			return false;
		/* the source fell silent and every sink has everything (counting
		 * the acks just served: the turn they complete settles): save
		 * the checkpoint (and so confirm) now rather than at the next
		 * tick */
		settled = pl_settled(p, now, last_data);
		/* one source: due now, saved by the writer thread all the same
		 * (a synchronous save would hold the next commit) */
		p->save_now = settled && p->merge == NULL;
		qlen = p->qlen;
		if (!pl_advance(p, settled && p->merge != NULL, true, errbuf, errlen))
			return false;
		/* confirmed in a busy turn: the next turn waits ACK_POLL_MS at
		 * most, so that it reports it (below) if the source fell silent */
		p->unreported = n > 0 && (p->unreported || p->qlen < qlen);
		if (settled && p->last_ckpt_ms != ckpt_before)
			p->last_settle_ms = p->last_ckpt_ms;
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
		/* the pipeline's gauges once a turn cost 10% of the daemon's
		 * instructions per single-row transaction (W2): busy, every
		 * GAUGE_MS; the sources' own every turn, as before */
		pl_update_source_metrics(p);
		if (n == 0 || now - p->last_gauges >= GAUGE_MS)
		{
			pl_update_gauges(p);
			p->last_gauges = now;
		}
		if (trib_log_reopen_pending())
		{
			char		e[256];

			if (!trib_log_reopen(e, sizeof(e)))
				tlog_error("pipeline", "could not reopen the log: %s", e);
		}
		if (!pl_still_leader(p, false, errbuf, errlen))
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
	if (!pl_drain(p, errbuf, errlen))
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
