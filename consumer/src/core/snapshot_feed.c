/*
 * snapshot_feed.c: a snapshot's rows to the pipeline, with ids and
 * acknowledged progress, and the copy loop every engine runs in
 * (snapshot_feed.h).
 */
#include "snapshot_feed.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "lsn.h"
#include "xalloc.h"

#define FLUSH_MS 1000
#define FLUSH_TIMEOUT_MS 10000
#define DRAIN_TIMEOUT_MS 60000
#define LEADER_MS 2000
#define NEXT_TIMEOUT_MS 100

/* A chunk handed to the sinks, waiting for their acknowledgement. */
struct trib_snapfeed_sent
{
	trib_snapfeed_mark m;		/* first: f->sent's (bytes unused); its
								 * group is the progress table's index */
	uint64_t	rows;
	int			nkey;
	char	  **key;			/* owned */
};

/* The chunk of a link on f->sent (NULL for NULL). */
static inline trib_snapfeed_sent *
sent_of(trib_chunkq_link *l)
{
	return (trib_snapfeed_sent *) l;
}

static void
sent_free(trib_snapfeed_sent *c)
{
	for (int i = 0; c->key && i < c->nkey; i++)
		free(c->key[i]);
	free(c->key);
	free(c);
}

int
trib_snapfeed_load(const trib_source_host *h, trib_position *ck, trib_snapprog *prev,
				   char *errbuf, size_t errlen)
{
	int			r = h->load(h->arg, ck, errbuf, errlen);
	int			pr;

	memset(prev, 0, sizeof(*prev));
	if (r <= 0)
		return r;
	pr = trib_snapprog_from_json(ck->opaque, prev, errbuf, errlen);
	if (pr == 1 && ck->commit_lsn == prev->lsn)
	{
		prev->has_seq = true;
		prev->seq = ck->seq;
	}
	free(ck->opaque);
	ck->opaque = NULL;
	if (pr < 0)
	{
		size_t		n = strlen(errbuf);

		snprintf(errbuf + n, errlen - n, " (in the checkpoint of pipeline %s)", h->pipeline);
		return -1;
	}
	return pr == 1 ? 2 : 1;
}

bool
trib_snapfeed_first_id(trib_snapfeed *f, const char *what, char *errbuf, size_t errlen)
{
	trib_position top;
	char		a[TRIB_LSN_BUFLEN],
				b[TRIB_LSN_BUFLEN];

	f->next_seq = 1;
	if (!f->h->stored_max(f->h->arg, &top))
		return true;
	if (top.commit_lsn > f->base)
	{
		trib_lsn_format(top.commit_lsn, a, sizeof(a));
		trib_lsn_format(f->base + 1, b, sizeof(b));
		snprintf(errbuf, errlen,
				 "snapshot: a sink or the checkpoint already holds position %s, after the %s %s; "
				 "the snapshot's rows would be taken as delivered. Reset the sinks' positions "
				 "and the checkpoint, or use snapshot: never", a, what, b);
		return false;
	}
	if (top.commit_lsn == f->base)
	{
		if (top.seq >= TRIB_SEQ_ALL - 1)
			return snprintf(errbuf, errlen, "snapshot: no event ids left at this position"), false;
		f->next_seq = top.seq + 1;
	}
	return true;
}

int
trib_snapfeed_plan_table(trib_snapfeed *f, trib_snapprog *prev, const trib_relation *rel,
						 const char *schema, const char *table, double estimate, int norder,
						 bool *skip, int *nafter, char ***after)
{
	trib_snapprog_table *old = prev ? trib_snapprog_find(prev, schema, table) : NULL;
	trib_snapprog_table *e = trib_snapprog_add(&f->prog, schema, table);

	f->rels = trib_xrealloc(f->rels, f->prog.ntables * sizeof(*f->rels));
	f->rels[f->prog.ntables - 1] = rel;

	e->estimate = estimate;
	if (old && old->done)
	{
		e->done = true;
		e->rows = old->rows;
		*skip = true;
	}
	else if (old && old->after && old->nafter == norder && norder > 0)
	{
		e->rows = old->rows;
		trib_snapprog_set_after(e, old->after, old->nafter);
		*nafter = old->nafter;
		*after = trib_xcalloc((size_t) old->nafter, sizeof(char *));
		for (int k = 0; k < old->nafter; k++)
			(*after)[k] = trib_xstrdup(old->after[k]);
	}
	return (int) f->prog.ntables - 1;
}

void
trib_snapfeed_begin(trib_snapfeed *f)
{
	f->first_seq = f->next_seq;
	f->done_seq = f->next_seq - 1;
	f->failed_seq = 0;
	f->marks = f->h->mark != NULL && f->h->mark(f->h->arg, NULL, NULL, NULL);
	f->flush_due = false;
	f->last_flush = f->last_save = f->last_leader = trib_clock_mono_ms();
}

/* See snapshot_feed.h. */
bool
trib_snapfeed_save_json(const trib_source_host *h, uint64_t commit_lsn, uint64_t lsn,
						uint64_t seq, char *json, char *errbuf, size_t errlen)
{
	trib_position pos = {0};
	bool		ok;

	pos.commit_lsn = commit_lsn;
	pos.lsn = lsn;
	pos.seq = seq;
	pos.opaque = json;
	ok = h->save(h->arg, &pos, errbuf, errlen);
	free(pos.opaque);
	return ok;
}

bool
trib_snapfeed_save(trib_snapfeed *f, bool force, char *errbuf, size_t errlen)
{
	bool		ok;

	if (!force && (!f->dirty || trib_clock_mono_ms() - f->last_save < TRIB_SNAPFEED_PROGRESS_MS))
		return true;
	ok = trib_snapfeed_save_json(f->h, f->base, 0, f->done_seq, trib_snapprog_to_json(&f->prog),
								 errbuf, errlen);
	if (ok)
	{
		f->dirty = false;
		f->last_save = trib_clock_mono_ms();
	}
	return ok;
}

/* Count chunk c in progress p: its rows, its last key, done. */
static void
count_chunk(trib_snapprog *p, const trib_snapfeed_sent *c)
{
	trib_snapprog_table *t = &p->tables[c->m.group];

	t->rows += c->rows;
	if (c->key)
		trib_snapprog_set_after(t, c->key, c->nkey);
	if (c->m.final)
	{
		t->done = true;
		trib_snapprog_set_after(t, NULL, 0);
	}
}

/* Apply one acknowledged chunk to the progress. */
static void
apply_chunk(trib_snapfeed *f, trib_snapfeed_sent *c)
{
	trib_snapprog_table *t = &f->prog.tables[c->m.group];

	count_chunk(&f->prog, c);
	if (c->m.final)
	{
		if (!f->quiet)
			tlog_info("snapshot", "%s.%s: copied, %" PRIu64 " rows", t->schema, t->table, t->rows);
	}
	if (c->m.last_seq >= f->first_seq && c->m.last_seq > f->done_seq)
		f->done_seq = c->m.last_seq;
	f->dirty = true;
}

/* See snapshot_feed.h.  The pipeline does not count a refused event as
 * handled, so the durable position should already stop before it; the cap
 * keeps the progress before it even if a sink's acknowledgement did not. */
bool
trib_snapfeed_acked(const trib_source_host *h, uint64_t base, uint64_t failed_seq,
					uint64_t *acked)
{
	trib_position d;
	bool		have = h->durable(h->arg, &d);

	*acked = 0;
	if (have && d.commit_lsn == base)
		*acked = d.seq;
	else if (have && d.commit_lsn > base)
		*acked = UINT64_MAX;
	if (failed_seq && *acked >= failed_seq)
		*acked = failed_seq - 1;	/* never past a failed event */
	return have;
}

/* See snapshot_feed.h. */
bool
trib_snapfeed_countable(const trib_snapfeed_mark *c, uint64_t acked)
{
	if (c->last_seq > acked)
		return false;
	if (c->resumable || c->final)
		return true;
	for (const trib_snapfeed_mark *d = (const trib_snapfeed_mark *) c->link.next; d;
		 d = (const trib_snapfeed_mark *) d->link.next)
		if (d->group == c->group && d->final)
			return d->last_seq <= acked;
	return false;
}

/* Does delivered chunk c count once the ids up to acked are
 * acknowledged (or is it from before this run)? */
static bool
counts(const trib_snapfeed *f, const trib_snapfeed_sent *c, uint64_t acked)
{
	return c->m.last_seq < f->first_seq || trib_snapfeed_countable(&c->m, acked);
}

/* Pop the chunks every sink has acknowledged. */
static void
take_acks(trib_snapfeed *f)
{
	uint64_t	acked;

	(void) trib_snapfeed_acked(f->h, f->base, f->failed_seq, &acked);
	while (f->sent.head && counts(f, sent_of(f->sent.head), acked))
	{
		trib_snapfeed_sent *c = sent_of(trib_chunkq_pop(&f->sent));

		apply_chunk(f, c);
		sent_free(c);
	}
}

/*
 * The progress as it will be once the sinks acknowledge every delivered
 * id up to `upto` (never past a failed event): the saved progress with the
 * delivered chunks that will then count applied, in order, as JSON
 * (caller frees), and the last id it counts in *counted.  The same chunks
 * take_acks() would apply, so a sink that keeps this document with its
 * data holds what the checkpoint would hold after those acknowledgements.
 */
static char *
progress_at(const trib_snapfeed *f, uint64_t upto, uint64_t *counted)
{
	char	   *json = trib_snapprog_to_json(&f->prog);
	trib_snapprog p;
	char		e[256];
	uint64_t	acked = f->failed_seq && upto >= f->failed_seq ? f->failed_seq - 1 : upto;
	bool		more = false;

	*counted = f->done_seq;
	for (trib_chunkq_link *l = f->sent.head; l && counts(f, sent_of(l), acked); l = l->next)
		more = true;
	if (!more || trib_snapprog_from_json(json, &p, e, sizeof(e)) != 1)
		return json;
	for (trib_chunkq_link *l = f->sent.head; l && counts(f, sent_of(l), acked); l = l->next)
	{
		const trib_snapfeed_sent *c = sent_of(l);

		count_chunk(&p, c);
		if (c->m.last_seq >= f->first_seq && c->m.last_seq > *counted)
			*counted = c->m.last_seq;
	}
	free(json);
	json = trib_snapprog_to_json(&p);
	trib_snapprog_clear(&p);
	return json;
}

/*
 * Flush the sinks.  When a sink keeps the progress with its data
 * (f->marks: a transactional Kafka sink commits it with the rows), hand it
 * first the progress that counts what was delivered (sink.h
 * snapshot_mark).  With marks, the copy loop flushes only between chunks
 * (no event held, or the held one the first of its chunk), where the
 * delivered events end with a chunk and the progress can count them.
 */
static bool
flush_sinks(trib_snapfeed *f, int timeout_ms, char *errbuf, size_t errlen)
{
	if (f->marks)
	{
		trib_position at = {0},
					counted = {0};
		char	   *json;

		at.commit_lsn = counted.commit_lsn = f->base;
		at.seq = f->held ? f->held->pos.seq - 1 : f->next_seq - 1;
		json = progress_at(f, at.seq, &counted.seq);
		if (json != NULL)
			(void) f->h->mark(f->h->arg, &at, &counted, json);
		free(json);
	}
	f->flush_due = false;
	return f->h->flush(f->h->arg, timeout_ms, errbuf, errlen);
}

/*
 * Deliver the held event and hold ev instead (NULL: none).  When the
 * delivery fails, ev is dropped too (nothing after a failed event reaches
 * the sinks) and the failed event's id is kept: take_acks never applies a
 * chunk that holds it, so the progress stops before it (a second line of
 * defence: the pipeline does not count a refused event as handled).
 */
static bool
hold(trib_snapfeed *f, trib_event *ev, char *errbuf, size_t errlen)
{
	bool		ok = true;

	if (f->held)
		ok = f->h->deliver(f->h->arg, f->held, errbuf, errlen);
	if (!ok && !f->failed_seq)
		f->failed_seq = f->held->pos.seq;
	trib_event_free(f->held);
	f->held = ok ? ev : NULL;
	if (!ok)
		trib_event_free(ev);
	return ok;
}

bool
trib_snapfeed_chunk(trib_snapfeed *f, int table, trib_event **evs, size_t nev, bool final,
					int nkey, char **last_key, const char *opaque, char *errbuf, size_t errlen)
{
	trib_snapfeed_sent *s = trib_xcalloc(1, sizeof(*s));
	trib_snapprog_table *t = &f->prog.tables[table];
	bool		ok = true;

	if (!t->started_ms)
		t->started_ms = trib_clock_wall_ms();
	for (size_t i = 0; i < nev && ok; i++)
	{
		trib_event *ev = evs[i];

		evs[i] = NULL;
		ev->pos.commit_lsn = f->base;
		ev->pos.seq = f->next_seq++;
		if (opaque)
		{
			ev->pos.lsn = f->base;
			free(ev->pos.opaque);
			trib_position_set_opaque(&ev->pos, trib_xstrdup(opaque), 0);
		}
		ok = hold(f, ev, errbuf, errlen);
		/* the previous chunk is all delivered: a flush put off by
		 * trib_snapfeed_tick happens here (see flush_sinks) */
		if (ok && i == 0 && f->flush_due)
		{
			ok = flush_sinks(f, FLUSH_TIMEOUT_MS, errbuf, errlen);
			f->last_flush = trib_clock_mono_ms();
		}
	}
	t->written += nev;
	f->rows += nev;
	f->h->batch_end(f->h->arg); /* a chunk is a batch for the rules */
	if (final)
		t->finished_ms = trib_clock_wall_ms();
	s->m.group = (size_t) table;
	s->m.last_seq = f->next_seq - 1;
	s->m.final = final;
	s->m.resumable = last_key != NULL;
	s->rows = nev;
	s->nkey = nkey;
	s->key = last_key;
	trib_chunkq_push(&f->sent, &s->m.link);
	return ok;
}

/* Is a chunk still waiting for an acknowledgement it can get (not one
 * that holds a failed event)?  Without a failure: has any delivered id not
 * been acknowledged (chunks held back by trib_snapfeed_countable() may stay). */
static bool
waiting(const trib_snapfeed *f)
{
	uint64_t	acked;

	if (f->failed_seq)
		return f->sent.head && sent_of(f->sent.head)->m.last_seq < f->failed_seq;
	(void) trib_snapfeed_acked(f->h, f->base, 0, &acked);
	return f->sent.tail && sent_of(f->sent.tail)->m.last_seq > acked;
}

/* Flush, serve callbacks and take acknowledgements for up to timeout_ms. */
static bool
settle(trib_snapfeed *f, int timeout_ms, char *errbuf, size_t errlen)
{
	int64_t		until = trib_clock_mono_ms() + timeout_ms;

	if (!flush_sinks(f, FLUSH_TIMEOUT_MS, errbuf, errlen))
		return false;
	for (;;)
	{
		take_acks(f);
		if (!waiting(f) || trib_clock_mono_ms() >= until)
			break;
		if (!f->h->poll(f->h->arg, 50, errbuf, errlen) ||
			!flush_sinks(f, FLUSH_TIMEOUT_MS, errbuf, errlen))
			return false;
	}
	if (waiting(f))
	{
		snprintf(errbuf, errlen, "snapshot: the sinks did not acknowledge the last rows within %d ms",
				 timeout_ms);
		return false;
	}
	return true;
}

bool
trib_snapfeed_tick(trib_snapfeed *f, bool idle, char *errbuf, size_t errlen)
{
	int64_t		now = trib_clock_mono_ms();

	if ((idle || now - f->last_flush >= FLUSH_MS) && f->marks && f->held)
	{
		/* the held event ends a chunk: flush once the next chunk's first
		 * event has pushed it out (flush_sinks) */
		f->flush_due = true;
		if (!f->h->poll(f->h->arg, 0, errbuf, errlen))
			return false;
	}
	else if (idle || now - f->last_flush >= FLUSH_MS)
	{
		if (!flush_sinks(f, FLUSH_TIMEOUT_MS, errbuf, errlen))
			return false;
		f->last_flush = trib_clock_mono_ms();
	}
	else if (!f->h->poll(f->h->arg, 0, errbuf, errlen))
		return false;
	take_acks(f);
	if (!trib_snapfeed_save(f, false, errbuf, errlen))
		return false;
	if (trib_clock_mono_ms() - f->last_leader > LEADER_MS)
	{
		f->last_leader = trib_clock_mono_ms();
		if (!f->h->leader_ok(f->h->arg, errbuf, errlen))
			return false;
	}
	return true;
}

bool
trib_snapfeed_drain(trib_snapfeed *f, bool complete, char *errbuf, size_t errlen)
{
	if (complete && f->held)
		f->held->last_in_tx = true;
	return hold(f, NULL, errbuf, errlen) && settle(f, DRAIN_TIMEOUT_MS, errbuf, errlen);
}

void
trib_snapfeed_clear(trib_snapfeed *f)
{
	for (trib_snapfeed_sent *c; (c = sent_of(trib_chunkq_pop(&f->sent))) != NULL;)
		sent_free(c);
	trib_event_free(f->held);
	f->held = NULL;
	trib_snapprog_clear(&f->prog);
	free(f->rels);
	f->rels = NULL;
}

/* See snapshot_feed.h. */
bool
trib_snapfeed_rewind(const trib_source_host *h, bool has_seq, uint64_t base, uint64_t seq,
					 char *errbuf, size_t errlen)
{
	trib_position to;

	if (!has_seq || h->rewind == NULL)
		return true;
	memset(&to, 0, sizeof(to));
	to.commit_lsn = base;
	to.seq = seq;
	return h->rewind(h->arg, &to, errbuf, errlen);
}

/* See snapshot_feed.h. */
bool
trib_snapfeed_prepare(trib_snapfeed *f, const trib_snapfeed_engine *e, void *eng, bool only,
					  trib_snapprog *prev, const char *what, char *errbuf, size_t errlen)
{
	trib_snapprog_clear(&f->prog);
	free(f->rels);
	f->rels = NULL;
	snprintf(f->prog.state, sizeof(f->prog.state), "running");
	snprintf(f->prog.mode, sizeof(f->prog.mode), "%s", only ? "only" : "initial");
	f->prog.lsn = f->base;
	e->plan(eng, f, prev);
	return trib_snapfeed_first_id(f, what, errbuf, errlen) &&
		(prev == NULL || trib_snapfeed_rewind(f->h, prev->has_seq, f->base, prev->seq,
											  errbuf, errlen));
}

/* See snapshot_feed.h. */
void
trib_snapfeed_rows_free(trib_snapfeed_rows *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nev; i++)
		trib_event_free(c->evs[i]);
	for (int k = 0; c->last_key && k < c->nkey; k++)
		free(c->last_key[k]);
	free(c->last_key);
	free(c->evs);
	free(c);
}

/* See snapshot_feed.h. */
int
trib_snapfeed_take(const trib_chunkwait *w, int timeout_ms, trib_snapfeed_rows **out,
				   char *errbuf, size_t errlen)
{
	trib_chunkq_link *l;
	int			rc = trib_chunkwait_take(w, timeout_ms, &l, errbuf, errlen);

	*out = (trib_snapfeed_rows *) l;
	return rc;
}

/* Hand an engine's chunk to the feed (its key taken), and free it. */
static bool
feed_chunk(trib_snapfeed *f, trib_snapfeed_rows *c, char *errbuf, size_t errlen)
{
	char	  **key = c->last_key;
	bool		ok;

	c->last_key = NULL;
	ok = trib_snapfeed_chunk(f, c->table, c->evs, c->nev, c->final, c->nkey, key, f->opaque,
							 errbuf, errlen);
	trib_snapfeed_rows_free(c);
	return ok;
}

/* Every row is acknowledged: tell the pipeline which tables were copied
 * (done before this run too), so that the sinks may create the targets of
 * those no row reached. */
static bool
tables_copied(trib_snapfeed *f, char *errbuf, size_t errlen)
{
	for (size_t i = 0; i < f->prog.ntables; i++)
		if (!f->h->table_copied(f->h->arg, f->rels[i], errbuf, errlen))
			return false;
	return true;
}

/* Feed the engine's chunks until it ends or *stop; false on error. */
static bool
copy_loop(trib_snapfeed *f, const trib_snapfeed_engine *e, void *eng,
		  volatile sig_atomic_t *stop, char *errbuf, size_t errlen)
{
	while (!*stop)
	{
		trib_snapfeed_rows *chunk = NULL;
		int			rc = e->next(eng, NEXT_TIMEOUT_MS, &chunk, errbuf, errlen);

		if (rc < 0 || (rc == 1 && !feed_chunk(f, chunk, errbuf, errlen)))
			return false;
		if (rc == 2)
			break;
		if (!trib_snapfeed_tick(f, rc == 0, errbuf, errlen))
			return false;
		e->show(eng);
	}
	return true;
}

/*
 * The copy failed: while we still hold the pipeline lock, have the sinks
 * make durable what they were given (a failed sink just fails again), and
 * save the progress they acknowledged, so a restart resumes after it and
 * repeats nothing.
 */
static void
save_after_error(trib_snapfeed *f)
{
	char		e[512];

	if (!f->h->leader_ok(f->h->arg, e, sizeof(e)))
		return;
	if (!trib_snapfeed_drain(f, false, e, sizeof(e)))
		tlog_warn("snapshot", "after the error, the sinks did not acknowledge every row: %s", e);
	take_acks(f);
	if (f->dirty && !trib_snapfeed_save(f, true, e, sizeof(e)))
		tlog_warn("snapshot", "could not save the progress after the error: %s", e);
}

/* See snapshot_feed.h. */
int
trib_snapfeed_run(trib_snapfeed *f, const trib_snapfeed_engine *e, void *eng,
				  volatile sig_atomic_t *stop, char *errbuf, size_t errlen)
{
	trib_snapfeed_begin(f);
	if (!trib_snapfeed_save(f, true, errbuf, errlen) || !e->start(eng, errbuf, errlen))
		return -1;
	if (!copy_loop(f, e, eng, stop, errbuf, errlen))
	{
		save_after_error(f);
		return -1;
	}
	e->stop(eng);
	if (*stop)
	{
		tlog_info("snapshot", "stopping: saving the progress");
		return trib_snapfeed_drain(f, false, errbuf, errlen) &&
			trib_snapfeed_save(f, true, errbuf, errlen) ? 0 : -1;
	}
	if (!trib_snapfeed_drain(f, true, errbuf, errlen) || !tables_copied(f, errbuf, errlen))
		return -1;
	snprintf(f->prog.state, sizeof(f->prog.state), "done");
	return trib_snapfeed_save(f, true, errbuf, errlen) ? 1 : -1;
}
