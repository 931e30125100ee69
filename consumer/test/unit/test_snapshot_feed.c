/*
 * test_snapshot_feed.c: unit tests of the snapshot feed's copy loop
 * (core/snapshot_feed.c, trib_snapfeed_run) over a fake engine and a fake
 * pipeline host: the ids each event gets, the last event's last_in_tx,
 * the opaque position, the tables reported copied, the progress saved as
 * done after every acknowledgement; a stopped copy, which saves the
 * progress as running and reports no table; a refused event, after
 * which nothing is delivered and no chunk holding it is counted; a table
 * read in one pass (no key), whose chunks count only with its last; and a
 * resumed copy, which has the sinks rewound to the checkpoint's id; and
 * a sink that keeps the progress with its data, flushed only between
 * chunks after a mark that counts what it holds.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"
#include "snapshot_feed.h"
#include "snapshot_progress.h"

#define NTABLES 2
#define MAXEV 16

/* The pipeline's side: what was delivered, saved and reported. */
typedef struct fake_host
{
	uint64_t	seq[MAXEV];
	bool		last[MAXEV];
	char		opaque[MAXEV][32];
	int			ndelivered;
	uint64_t	refuse_seq;		/* refuse this event (0: none) */
	trib_position durable;		/* every delivered event is durable */
	int			nsaved;
	char		saved_state[16];
	uint64_t	saved_seq;
	int			ncopied;
	const trib_relation *copied[NTABLES];
	int			nrewind;
	trib_position rewound;		/* the last rewind's position */
	bool		marks;			/* a sink keeps the progress (host_mark) */
	int			nflush;			/* flushes, with what each saw: */
	int			flush_delivered[MAXEV]; /* events delivered before it */
	uint64_t	flush_at[MAXEV];	/* the mark's at and counted */
	uint64_t	flush_counted[MAXEV];
	uint64_t	flush_rows_a[MAXEV];	/* table a's rows in the mark */
	trib_position mark_at,
				mark_counted;
	uint64_t	mark_rows_a;
} fake_host;

/* The engine's side: chunks of 2, 1 and 1 rows, then the end. */
typedef struct fake_engine
{
	trib_relation rels[NTABLES];
	int			next_chunk;
	bool		started,
				stopped;
	volatile sig_atomic_t *stop_after_first;	/* set after the first chunk */
	bool		keyless_a;		/* table a's chunks have no key */
	bool		idle_between;	/* nothing ready once after each chunk */
	bool		was_idle;
} fake_engine;

static bool
host_deliver(void *arg, trib_event *ev, char *errbuf, size_t errlen)
{
	fake_host  *h = arg;

	if (ev->pos.seq == h->refuse_seq)
	{
		h->durable = ev->pos;	/* the pipeline counts it as handled */
		h->durable.opaque = NULL;
		snprintf(errbuf, errlen, "refused");
		return false;
	}
	assert_true(h->ndelivered < MAXEV);
	h->seq[h->ndelivered] = ev->pos.seq;
	h->last[h->ndelivered] = ev->last_in_tx;
	snprintf(h->opaque[h->ndelivered], sizeof(h->opaque[0]), "%s",
			 ev->pos.opaque ? ev->pos.opaque : "");
	h->ndelivered++;
	h->durable = ev->pos;
	h->durable.opaque = NULL;
	return true;
}

static void
host_batch_end(void *arg)
{
	(void) arg;
}

static bool
host_flush(void *arg, int timeout_ms, char *errbuf, size_t errlen)
{
	(void) arg;
	(void) timeout_ms;
	(void) errbuf;
	(void) errlen;
	return true;
}

/* A flush with a mark-keeping sink: what was delivered and marked. */
static bool
host_flush_marked(void *arg, int timeout_ms, char *errbuf, size_t errlen)
{
	fake_host  *h = arg;

	(void) timeout_ms;
	(void) errbuf;
	(void) errlen;
	assert_true(h->nflush < MAXEV);
	h->flush_delivered[h->nflush] = h->ndelivered;
	h->flush_at[h->nflush] = h->mark_at.seq;
	h->flush_counted[h->nflush] = h->mark_counted.seq;
	h->flush_rows_a[h->nflush] = h->mark_rows_a;
	h->nflush++;
	return true;
}

/* host->mark: a sink that keeps the progress with its data. */
static bool
host_mark(void *arg, const trib_position *at, const trib_position *counted, const char *json)
{
	fake_host  *h = arg;
	trib_snapprog p;
	char		err[256];

	if (json == NULL)
		return h->marks;
	assert_int_equal(at->commit_lsn, 1000);
	assert_int_equal(counted->commit_lsn, 1000);
	assert_true(counted->seq <= at->seq);
	h->mark_at = *at;
	h->mark_counted = *counted;
	assert_int_equal(trib_snapprog_from_json(json, &p, err, sizeof(err)), 1);
	h->mark_rows_a = p.tables[0].rows;
	trib_snapprog_clear(&p);
	return true;
}

static bool
host_durable(void *arg, trib_position *out)
{
	fake_host  *h = arg;

	*out = h->durable;
	return h->ndelivered > 0;
}

static bool
host_stored_max(void *arg, trib_position *out)
{
	(void) arg;
	(void) out;
	return false;
}

static bool
host_save(void *arg, const trib_position *pos, char *errbuf, size_t errlen)
{
	fake_host  *h = arg;
	trib_snapprog p;

	assert_int_equal(trib_snapprog_from_json(pos->opaque, &p, errbuf, errlen), 1);
	snprintf(h->saved_state, sizeof(h->saved_state), "%s", p.state);
	trib_snapprog_clear(&p);
	h->saved_seq = pos->seq;
	h->nsaved++;
	return true;
}

static bool
host_rewind(void *arg, const trib_position *to, char *errbuf, size_t errlen)
{
	fake_host  *h = arg;

	(void) errbuf;
	(void) errlen;
	h->nrewind++;
	h->rewound = *to;
	return true;
}

static bool
host_table_copied(void *arg, const trib_relation *rel, char *errbuf, size_t errlen)
{
	fake_host  *h = arg;

	(void) errbuf;
	(void) errlen;
	assert_true(h->ncopied < NTABLES);
	h->copied[h->ncopied++] = rel;
	return true;
}

static bool
host_leader_ok(void *arg, char *errbuf, size_t errlen)
{
	(void) arg;
	(void) errbuf;
	(void) errlen;
	return true;
}

static void
eng_plan(void *eng, trib_snapfeed *f, trib_snapprog *prev)
{
	fake_engine *e = eng;

	for (int i = 0; i < NTABLES; i++)
	{
		bool		skip = false;
		int			nafter = 0;
		char	  **after = NULL;

		assert_int_equal(trib_snapfeed_plan_table(f, prev, &e->rels[i], "public",
												  e->rels[i].table, 10, 1, &skip, &nafter,
												  &after), i);
	}
}

static bool
eng_start(void *eng, char *errbuf, size_t errlen)
{
	(void) errbuf;
	(void) errlen;
	((fake_engine *) eng)->started = true;
	return true;
}

/* A chunk: the engines' chunk type, its events owned. */
static int
eng_next(void *eng, int timeout_ms, trib_snapfeed_rows **chunk, char *errbuf, size_t errlen)
{
	static const int table[] = {0, 0, 1};
	static const size_t rows[] = {2, 1, 1};
	static const bool final[] = {false, true, true};
	fake_engine *e = eng;
	trib_snapfeed_rows *r;
	int			n;

	if (e->idle_between && !e->was_idle && e->next_chunk > 0)
	{
		e->was_idle = true;		/* idle: the feed's tick wants a flush */
		return 0;
	}
	e->was_idle = false;
	n = e->next_chunk++;

	(void) timeout_ms;
	(void) errbuf;
	(void) errlen;
	if (n == 1 && e->stop_after_first)
	{
		*e->stop_after_first = 1;	/* SIGTERM while the engine reads */
		return 0;
	}
	if (n >= 3)
		return 2;
	r = calloc(1, sizeof(*r));
	r->nev = rows[n];
	r->evs = calloc(r->nev, sizeof(trib_event *));
	for (size_t i = 0; i < r->nev; i++)
		r->evs[i] = trib_event_new();
	r->table = table[n];
	r->final = final[n];
	r->nkey = 0;
	r->last_key = NULL;
	if (!(e->keyless_a && table[n] == 0))
	{
		r->nkey = 1;
		r->last_key = calloc(1, sizeof(char *));
		r->last_key[0] = strdup("k");
	}
	*chunk = r;
	return 1;
}

static void
eng_stop(void *eng)
{
	((fake_engine *) eng)->stopped = true;
}

static void
eng_show(void *eng)
{
	(void) eng;
}

static const trib_snapfeed_engine fake_ops = {
	.plan = eng_plan,
	.start = eng_start,
	.next = eng_next,
	.stop = eng_stop,
	.show = eng_show,
};

/* The next copies have a sink that keeps the progress (host_mark). */
static bool with_marks;

/* One copy: the fake pipeline, the fake engine and the feed between. */
typedef struct fixture
{
	fake_host	h;
	fake_engine e;
	trib_source_host host;
	trib_snapfeed f;
	volatile sig_atomic_t stop;
} fixture;

/* Plan a copy at base 1000 over the fake engine, resuming from prev when
 * not NULL, run it (SIGTERM after the first chunk when stop_early;
 * refusing event refuse_seq; table a without a key when keyless_a), and
 * return trib_snapfeed_run's result. */
static int
run_copy_from(fixture *x, bool stop_early, uint64_t refuse_seq, bool keyless_a,
			  trib_snapprog *prev)
{
	trib_source_host *host = &x->host;
	char		err[256] = "";

	bool		marks = with_marks;

	memset(x, 0, sizeof(*x));
	x->h.marks = x->e.idle_between = marks;
	x->e.keyless_a = keyless_a;
	host->rewind = host_rewind;
	host->arg = &x->h;
	host->pipeline = "p";
	host->deliver = host_deliver;
	host->batch_end = host_batch_end;
	host->flush = marks ? host_flush_marked : host_flush;
	host->mark = marks ? host_mark : NULL;
	host->poll = host_flush;
	host->durable = host_durable;
	host->stored_max = host_stored_max;
	host->save = host_save;
	host->table_copied = host_table_copied;
	host->leader_ok = host_leader_ok;
	x->e.rels[0].table = "a";
	x->e.rels[1].table = "b";
	x->e.stop_after_first = stop_early ? &x->stop : NULL;
	x->h.refuse_seq = refuse_seq;
	x->f.h = host;
	x->f.quiet = true;
	x->f.base = 1000;
	x->f.opaque = "{\"file\":\"x\"}";
	assert_true(trib_snapfeed_prepare(&x->f, &fake_ops, &x->e, false, prev, "test's base", err,
									  sizeof(err)));
	assert_string_equal(x->f.prog.state, "running");
	assert_int_equal(x->f.prog.ntables, NTABLES);
	return trib_snapfeed_run(&x->f, &fake_ops, &x->e, &x->stop, err, sizeof(err));
}

/* run_copy_from without a key-less table, a new copy. */
static int
run_copy(fixture *x, bool stop_early, uint64_t refuse_seq)
{
	return run_copy_from(x, stop_early, refuse_seq, false, NULL);
}

static void
test_copy_to_the_end(void **state)
{
	fixture		x;

	(void) state;
	assert_int_equal(run_copy(&x, false, 0), 1);
	assert_true(x.e.started);
	assert_true(x.e.stopped);
	assert_int_equal(x.h.ndelivered, 4);
	for (int i = 0; i < 4; i++)
	{
		assert_int_equal(x.h.seq[i], i + 1);
		assert_int_equal(x.h.last[i], i == 3);
		assert_string_equal(x.h.opaque[i], "{\"file\":\"x\"}");
	}
	assert_int_equal(x.h.ncopied, NTABLES);
	assert_ptr_equal(x.h.copied[0], &x.e.rels[0]);
	assert_ptr_equal(x.h.copied[1], &x.e.rels[1]);
	assert_string_equal(x.h.saved_state, "done");
	assert_int_equal(x.h.saved_seq, 4);
	assert_true(x.f.prog.tables[0].done && x.f.prog.tables[1].done);
	assert_int_equal(x.f.prog.tables[0].rows, 3);
	assert_int_equal(x.f.rows, 4);
	trib_snapfeed_clear(&x.f);
}

static void
test_stopped_copy_saves_running(void **state)
{
	fixture		x;

	(void) state;
	assert_int_equal(run_copy(&x, true, 0), 0);
	assert_true(x.e.stopped);
	assert_int_equal(x.h.ndelivered, 2);
	assert_false(x.h.last[1]);
	assert_int_equal(x.h.ncopied, 0);
	assert_string_equal(x.h.saved_state, "running");
	assert_int_equal(x.h.saved_seq, 2);
	assert_false(x.f.prog.tables[0].done);
	assert_int_equal(x.f.prog.tables[0].rows, 2);
	trib_snapfeed_clear(&x.f);
}

/*
 * The last event of the first chunk (id 2) is refused while the next
 * chunk's (3) is held back: 3 is not delivered after it, and although
 * the host counts 2 as durable, the first chunk is not counted (before:
 * the error path delivered 3, and its acknowledgement counted both
 * chunks, table a copied, row 2 lost).
 */
static void
test_refused_event_stops_the_progress(void **state)
{
	fixture		x;

	(void) state;
	assert_int_equal(run_copy(&x, false, 2), -1);
	assert_int_equal(x.h.ndelivered, 1);
	assert_int_equal(x.h.seq[0], 1);
	assert_int_equal(x.f.prog.tables[0].rows, 0);
	assert_false(x.f.prog.tables[0].done);
	assert_string_equal(x.h.saved_state, "running");
	assert_int_equal(x.h.saved_seq, 0);
	assert_int_equal(x.h.ncopied, 0);
	trib_snapfeed_clear(&x.f);
}

/*
 * Table a has no key (read in one pass, copied again from its start by a
 * resumed copy): stopped after its first chunk, the sinks acknowledged
 * ids 1 and 2, but the progress counts neither (saved id 0, no rows), so
 * a sink cut back to the saved id holds none of a's rows that a restart
 * sends again.  Copied to the end, its chunks count with its last one.
 */
static void
test_keyless_table_counts_only_when_done(void **state)
{
	fixture		x;

	(void) state;
	assert_int_equal(run_copy_from(&x, true, 0, true, NULL), 0);
	assert_int_equal(x.h.ndelivered, 2);
	assert_int_equal(x.h.durable.seq, 2);
	assert_string_equal(x.h.saved_state, "running");
	assert_int_equal(x.h.saved_seq, 0);
	assert_int_equal(x.f.prog.tables[0].rows, 0);
	assert_false(x.f.prog.tables[0].done);
	trib_snapfeed_clear(&x.f);

	assert_int_equal(run_copy_from(&x, false, 0, true, NULL), 1);
	assert_true(x.f.prog.tables[0].done);
	assert_int_equal(x.f.prog.tables[0].rows, 3);
	assert_int_equal(x.h.saved_seq, 4);
	trib_snapfeed_clear(&x.f);
}

/*
 * A resumed copy whose checkpoint (at the copy's base) counts ids up to 7
 * has the sinks rewound to (base, 7) before anything is written; a new
 * copy, or a checkpoint at another position, rewinds nothing.
 */
static void
test_resumed_copy_rewinds_the_sinks(void **state)
{
	fixture		x;
	trib_snapprog prev;
	char		err[256];

	(void) state;
	assert_int_equal(trib_snapprog_from_json("{\"snapshot\":{\"state\":\"running\","
											 "\"mode\":\"initial\",\"lsn\":\"0/3E8\",\"tables\":[]}}",
											 &prev, err, sizeof(err)), 1);
	prev.has_seq = true;
	prev.seq = 7;
	assert_int_equal(run_copy_from(&x, false, 0, false, &prev), 1);
	assert_int_equal(x.h.nrewind, 1);
	assert_int_equal(x.h.rewound.commit_lsn, 1000);
	assert_int_equal(x.h.rewound.seq, 7);
	trib_snapfeed_clear(&x.f);
	prev.has_seq = false;
	assert_int_equal(run_copy_from(&x, false, 0, false, &prev), 1);
	assert_int_equal(x.h.nrewind, 0);
	trib_snapfeed_clear(&x.f);
	assert_int_equal(run_copy(&x, false, 0), 1);
	assert_int_equal(x.h.nrewind, 0);
	trib_snapfeed_clear(&x.f);
	trib_snapprog_clear(&prev);
}

/*
 * A sink keeps the progress with its data (a transactional Kafka sink,
 * host->mark): the copy flushes only where the delivered events end a
 * chunk, each flush after a mark that covers exactly them.  The engine
 * is idle after each chunk, which wants a flush while the chunk's last
 * event is held: it waits until the next chunk's first event pushed it
 * out (before: a flush then, the sink holding a chunk minus its last row,
 * which no progress can count).  With table a read in one pass, the mark
 * counts none of its rows until its last chunk.
 */
static void
test_marks_flush_between_chunks(void **state)
{
	fixture		x;

	(void) state;
	with_marks = true;
	assert_int_equal(run_copy_from(&x, false, 0, false, NULL), 1);
	assert_true(x.f.marks);
	assert_true(x.h.nflush >= 3);
	/* after chunk 1 (ids 1-2), chunk 2 (id 3), and the drain (id 4) */
	for (int i = 0; i < 3; i++)
	{
		assert_int_equal(x.h.flush_delivered[i], i + 2);
		assert_int_equal(x.h.flush_at[i], i + 2);
		assert_int_equal(x.h.flush_counted[i], i + 2);
	}
	assert_int_equal(x.h.flush_rows_a[0], 2);
	assert_int_equal(x.h.flush_rows_a[1], 3);
	for (int i = 0; i < x.h.nflush; i++)
		assert_int_equal(x.h.flush_at[i], x.h.flush_delivered[i]);
	trib_snapfeed_clear(&x.f);

	assert_int_equal(run_copy_from(&x, false, 0, true, NULL), 1);
	assert_int_equal(x.h.flush_at[0], 2);
	assert_int_equal(x.h.flush_counted[0], 0);	/* a's first chunk alone */
	assert_int_equal(x.h.flush_rows_a[0], 0);
	assert_int_equal(x.h.flush_counted[1], 3);	/* with its last */
	assert_int_equal(x.h.flush_rows_a[1], 3);
	trib_snapfeed_clear(&x.f);

	/* no sink keeps it: flushed when idle, as before */
	with_marks = false;
	assert_int_equal(run_copy(&x, false, 0), 1);
	assert_false(x.f.marks);
	trib_snapfeed_clear(&x.f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_to_the_end),
		cmocka_unit_test(test_stopped_copy_saves_running),
		cmocka_unit_test(test_refused_event_stops_the_progress),
		cmocka_unit_test(test_keyless_table_counts_only_when_done),
		cmocka_unit_test(test_resumed_copy_rewinds_the_sinks),
		cmocka_unit_test(test_marks_flush_between_chunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
