/*
 * mongo_snapshot.c: the MongoDB source's snapshot phase (see
 * mongo_snapshot.h): the decision, the worker threads reading `_id`
 * ranges onto a bounded queue, the delivery of their events to the
 * pipeline, and the progress saved from what the sinks acknowledged.
 */
#include "mongo_snapshot.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunk_wait.h"
#include "clock.h"
#include "errf.h"
#include "event.h"
#include "jsondoc.h"
#include "log.h"
#include "mongo_infer.h"
#include "mongo_snapprog.h"
#include "mongo_match.h"
#include "mongo_snapread.h"
#include "mongo_stream.h"
#include "snapshot_feed.h"
#include "strbuf.h"
#include "worker_exit.h"
#include "xalloc.h"

#define FLUSH_MS 1000			/* flush and save progress this often */
#define FLUSH_TIMEOUT_MS 10000
#define WAIT_MS 100

/* A chunk of one range's documents, as events, on the queue. */
typedef struct snap_chunk
{
	trib_snapfeed_mark m;		/* first: the read queue (q), then the
								 * delivered list (sent), and the size; its
								 * group is the range, its last_seq set when
								 * delivered, final when the range ends */
	trib_event **evs;
	int			n;
	char	   *after;			/* the last _id ({"v": ...} canonical) */
} snap_chunk;

/* The chunk of a link on q or sent (NULL for NULL). */
static inline snap_chunk *
chunk_of(trib_chunkq_link *l)
{
	return (snap_chunk *) l;
}

typedef struct snap_run
{
	const trib_mongo_source_conf *conf;
	const char *source;
	const trib_source_host *host;
	trib_mongo_infer *infer;	/* or NULL */
	bool		int64_paths;	/* the events mark their int64 values */
	bson_t		match;			/* the stream's $match on documents
								 * (mongo_match.h); empty: all */
	trib_mongo_snapprog prog;
	const char **idb;			/* per range: interned names */
	const char **icoll;
	char		rs[256];
	int64_t		ts_ms;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	trib_chunkq q;				/* read, not delivered (chunk_queue.h) */
	size_t		next_range;		/* the next range a worker takes */
	int			running;		/* workers not finished */
	bool		quit;
	char		error[1024];	/* a worker's, first one */
	trib_chunkwait wait;		/* the waits on q (chunk_wait.h) */

	trib_chunkq sent;			/* delivered, not acknowledged */
	uint64_t	next_seq;
	uint64_t	done_seq;
	uint64_t	failed_seq;		/* the event whose delivery failed; 0 none */
	bool		has_ck_seq;		/* the checkpoint's seq (at prog.time): the
								 * last id of the documents it counts */
	uint64_t	ck_seq;
	uint64_t	rows;
	bool		dirty;
} snap_run;

/* {"snapshot":true,"source":{rs, collection, ord, lsid, txnNumber}}. */
static char *
snap_opaque(const snap_run *s, const char *coll)
{
	trib_strbuf b = {0};

	trib_strbuf_adds(&b, "{\"snapshot\":true,\"source\":{\"rs\":");
	if (s->rs[0])
		trib_jdoc_quote(&b, s->rs);
	else
		trib_strbuf_adds(&b, "null");
	trib_strbuf_adds(&b, ",\"collection\":");
	trib_jdoc_quote(&b, coll);
	trib_strbuf_printf(&b, ",\"ord\":%" PRIu32 ",\"lsid\":null,\"txnNumber\":null}}",
					   (uint32_t) s->prog.time);
	return trib_strbuf_finish(&b);
}

/* The op 'r' event of one document of range ri (worker side); NULL and a
 * message when it cannot be written as JSON. */
static trib_event *
doc_event(const snap_run *s, size_t ri, const bson_t *doc, char *errbuf, size_t errlen)
{
	trib_event *ev = trib_mongo_snap_event(doc, s->idb[ri], s->icoll[ri], s->int64_paths,
											errbuf, errlen);

	if (ev == NULL)
		return NULL;
	ev->source = s->source;
	ev->db = ev->schema = s->idb[ri];
	ev->table = s->icoll[ri];
	ev->ts_ms = s->ts_ms;
	ev->pos.commit_lsn = ev->pos.lsn = s->prog.time;
	ev->pos.opaque = snap_opaque(s, s->icoll[ri]);
	return ev;
}

static void
chunk_free(snap_chunk *c)
{
	for (int i = 0; i < c->n; i++)
		trib_event_free(c->evs[i]);
	free(c->evs);
	free(c->after);
	free(c);
}

/* Queue a chunk, waiting for room (chunk_wait.h); false (chunk freed)
 * when the run is quitting. */
static bool
push_chunk(snap_run *s, snap_chunk *c)
{
	if (trib_chunkwait_put(&s->wait, &c->m.link))
		return true;
	chunk_free(c);
	return false;
}

/* {"v": value} canonical text of a value (malloc'd). */
static char *
value_text(const bson_value_t *v)
{
	bson_t		d = BSON_INITIALIZER;
	char	   *j,
			   *out;

	bson_append_value(&d, "v", 1, v);
	j = bson_as_canonical_extended_json(&d, NULL);
	out = trib_xstrdup(j);
	bson_free(j);
	bson_destroy(&d);
	return out;
}

/* A new, empty chunk of range ri (keyset: read in keyset chunks). */
static snap_chunk *
chunk_new(size_t ri, bool keyset, int chunk)
{
	snap_chunk *c = trib_xcalloc(1, sizeof(*c));

	c->m.group = ri;
	c->m.resumable = keyset;
	c->evs = trib_xcalloc((size_t) chunk, sizeof(*c->evs));
	return c;
}

/* Read range ri onto the queue; false and a message on an error. */
static bool
read_range(snap_run *s, mongoc_client_t *cl, size_t ri, char *errbuf, size_t errlen)
{
	const trib_mongo_range *r = &s->prog.ranges[ri];
	int			chunk = s->conf->snapshot_chunk_rows;
	mongoc_cursor_t *cur = trib_mongo_snap_open(cl, r, &s->match, s->prog.time,
												chunk < 10000 ? chunk : 10000, errbuf, errlen);
	snap_chunk *c = NULL;
	const bson_t *doc;
	bson_error_t err;
	bson_value_t last;
	bool		have_last = false;
	bool		ok = cur != NULL;

	while (ok)
	{
		bool		more = mongoc_cursor_next(cur, &doc);
		bson_iter_t it;

		if (c == NULL)
			c = chunk_new(ri, r->keyset, chunk);
		if (more)
		{
			if ((c->evs[c->n] = doc_event(s, ri, doc, errbuf, errlen)) == NULL)
			{
				ok = false;
				break;
			}
			c->n++;
			c->m.link.bytes += doc->len;
			if (have_last)
				bson_value_destroy(&last);
			have_last = bson_iter_init_find(&it, doc, "_id");
			if (have_last)
				bson_value_copy(bson_iter_value(&it), &last);
			if (c->n < chunk)
				continue;
		}
		else if (mongoc_cursor_error(cur, &err))
		{
			ok = trib_errf(errbuf, errlen, "snapshot: reading %s.%s: %s", r->db, r->coll,
						   err.message);
			break;
		}
		else
			c->m.final = true;
		if (c->n > 0 && have_last)
			c->after = value_text(&last);
		ok = push_chunk(s, c);
		c = NULL;
		if (!more)
			break;
	}
	if (c)
		chunk_free(c);
	if (have_last)
		bson_value_destroy(&last);
	mongoc_cursor_destroy(cur);
	return ok;
}

/* Take the next range not done, or SIZE_MAX. */
static size_t
take_range(snap_run *s)
{
	size_t		ri = SIZE_MAX;

	pthread_mutex_lock(&s->mu);
	while (!s->quit && s->next_range < s->prog.nranges && s->prog.ranges[s->next_range].done)
		s->next_range++;
	if (!s->quit && s->next_range < s->prog.nranges)
		ri = s->next_range++;
	pthread_mutex_unlock(&s->mu);
	return ri;
}

/* A worker: its own client, ranges one at a time. */
static void *
worker(void *arg)
{
	snap_run   *s = arg;
	char		e[1024] = "";
	mongoc_client_t *cl = trib_mongo_client_new(s->conf, e, sizeof(e));
	size_t		ri;

	while (cl != NULL && (ri = take_range(s)) != SIZE_MAX)
		if (!read_range(s, cl, ri, e, sizeof(e)))
			break;
	if (cl)
		mongoc_client_destroy(cl);
	trib_worker_exit(&s->mu, &s->cv, &s->running, s->error, sizeof(s->error), e);
	return NULL;
}

/* A worker's error, if one failed: copied into errbuf under the lock
 * (workers write it while the pipeline thread reads it). */
static bool
worker_failed(snap_run *s, char *errbuf, size_t errlen)
{
	bool		failed;

	pthread_mutex_lock(&s->mu);
	failed = s->error[0] != '\0';
	if (failed)
		trib_errf(errbuf, errlen, "%s", s->error);
	pthread_mutex_unlock(&s->mu);
	return failed;
}

/* Save the progress at (T, done_seq) when it changed (or when forced). */
static bool
save_progress(snap_run *s, bool force, char *errbuf, size_t errlen)
{
	bool		ok;

	if (!force && !s->dirty)
		return true;
	ok = trib_snapfeed_save_json(s->host, s->prog.time, s->prog.time, s->done_seq,
								 trib_mongo_snapprog_to_json(&s->prog), errbuf, errlen);
	if (ok)
		s->dirty = false;
	return ok;
}

/* Is a delivered document not acknowledged yet (chunks that
 * trib_snapfeed_countable() holds back may stay)? */
static bool
waiting(const snap_run *s)
{
	uint64_t	acked;

	(void) trib_snapfeed_acked(s->host, s->prog.time, s->failed_seq, &acked);
	return s->sent.tail && chunk_of(s->sent.tail)->m.last_seq > acked;
}

/* Apply the chunks every sink acknowledged to the progress, never one that
 * holds a failed event (trib_snapfeed_acked). */
static void
apply_acks(snap_run *s)
{
	uint64_t	acked;

	if (!trib_snapfeed_acked(s->host, s->prog.time, s->failed_seq, &acked))
		return;
	while (s->sent.head && trib_snapfeed_countable(&chunk_of(s->sent.head)->m, acked))
	{
		snap_chunk *c = chunk_of(trib_chunkq_pop(&s->sent));
		trib_mongo_range *r = &s->prog.ranges[c->m.group];

		if (c->after)
		{
			free(r->after);
			r->after = c->after;
			c->after = NULL;
		}
		r->rows += (uint64_t) c->n;
		r->done = r->done || c->m.final;
		if (c->m.last_seq > s->done_seq)
			s->done_seq = c->m.last_seq;
		s->dirty = true;
		c->n = 0;				/* its events were freed when delivered */
		chunk_free(c);
	}
}

/* Deliver a chunk's events, numbered, then keep it until acknowledged. */
static bool
deliver_chunk(snap_run *s, snap_chunk *c, char *errbuf, size_t errlen)
{
	bool		ok = true;

	for (int i = 0; i < c->n; i++)
	{
		trib_event *ev = c->evs[i];

		ev->pos.seq = s->next_seq++;
		c->m.last_seq = ev->pos.seq;
		if (s->infer)
			trib_mongo_infer_event(s->infer, ev);
		if (ok)
			ok = s->host->deliver(s->host->arg, ev, errbuf, errlen);
		if (!ok && !s->failed_seq)
			s->failed_seq = ev->pos.seq;
		trib_event_free(ev);
		c->evs[i] = NULL;
	}
	if (c->n == 0)
		c->m.last_seq = s->next_seq - 1;
	s->rows += (uint64_t) c->n;
	s->host->batch_end(s->host->arg);
	trib_chunkq_push(&s->sent, &c->m.link);
	return ok;
}

/* Flush the sinks, then take their acknowledgements into the progress. */
static bool
flush_and_save(snap_run *s, bool force, char *errbuf, size_t errlen)
{
	if (!s->host->flush(s->host->arg, FLUSH_TIMEOUT_MS, errbuf, errlen))
		return false;
	apply_acks(s);
	return save_progress(s, force, errbuf, errlen);
}

/*
 * The copy failed: while we still hold the pipeline lock, have the sinks
 * make durable what they were given and save the progress they
 * acknowledged (never past a failed event), so that a restart resumes
 * after it and repeats nothing.
 */
static void
save_after_error(snap_run *s)
{
	char		e[512];

	if (!s->host->leader_ok(s->host->arg, e, sizeof(e)))
		return;
	if (!s->host->flush(s->host->arg, FLUSH_TIMEOUT_MS, e, sizeof(e)))
	{
		tlog_warn("snapshot", "after the error, the sinks did not acknowledge every document: %s", e);
		return;
	}
	apply_acks(s);
	if (s->dirty && !save_progress(s, true, e, sizeof(e)))
		tlog_warn("snapshot", "could not save the progress after the error: %s", e);
}

/* Stop the workers and release what is left. */
static void
stop_workers(snap_run *s, pthread_t *th, int n)
{
	pthread_mutex_lock(&s->mu);
	s->quit = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	for (snap_chunk *c; (c = chunk_of(trib_chunkq_pop(&s->q))) != NULL;)
		chunk_free(c);
	for (snap_chunk *c; (c = chunk_of(trib_chunkq_pop(&s->sent))) != NULL;)
	{
		c->n = 0;
		chunk_free(c);
	}
}

/* The copy itself: TRIB_SNAPSHOT_STOPPED, _DONE or _FAILED. */
static int
copy(snap_run *s, volatile sig_atomic_t *stop, char *errbuf, size_t errlen)
{
	int			n = s->conf->snapshot_workers;
	pthread_t  *th = trib_xcalloc((size_t) n, sizeof(*th));
	int64_t		last_flush = trib_clock_mono_ms();
	int			rc = TRIB_SNAPSHOT_DONE;
	bool		over = false;

	s->running = n;
	for (int i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, worker, s) != 0)
			abort();
	while (!over)
	{
		trib_chunkq_link *l;
		int			got = trib_chunkwait_take(&s->wait, WAIT_MS, &l, errbuf, errlen);
		snap_chunk *c = chunk_of(l);

		over = got == 2;
		if (got < 0 || (c && !deliver_chunk(s, c, errbuf, errlen)))
			rc = TRIB_SNAPSHOT_FAILED;
		else if (*stop)
			rc = TRIB_SNAPSHOT_STOPPED;
		else if (trib_clock_mono_ms() - last_flush >= FLUSH_MS)
		{
			last_flush = trib_clock_mono_ms();
			if (!s->host->leader_ok(s->host->arg, errbuf, errlen) ||
				!flush_and_save(s, false, errbuf, errlen))
				rc = TRIB_SNAPSHOT_FAILED;
		}
		if (rc != TRIB_SNAPSHOT_DONE)
			break;
	}
	pthread_mutex_lock(&s->mu);
	over = s->running == 0;
	pthread_mutex_unlock(&s->mu);
	if (rc == TRIB_SNAPSHOT_DONE && worker_failed(s, errbuf, errlen))
		rc = TRIB_SNAPSHOT_FAILED;
	if (rc != TRIB_SNAPSHOT_FAILED)
	{
		char		e[512];

		/* everything delivered made durable, and the progress with it */
		for (int i = 0; i < 3 && waiting(s); i++)
			if (!flush_and_save(s, false, e, sizeof(e)))
			{
				rc = (trib_errf(errbuf, errlen, "%s", e), TRIB_SNAPSHOT_FAILED);
				break;
			}
		if (rc == TRIB_SNAPSHOT_DONE && waiting(s))
			rc = (trib_errf(errbuf, errlen, "snapshot: the sinks did not acknowledge the "
							"last documents within %d s", 3 * FLUSH_TIMEOUT_MS / 1000),
				  TRIB_SNAPSHOT_FAILED);
	}
	if (rc == TRIB_SNAPSHOT_FAILED)
		save_after_error(s);
	stop_workers(s, th, n);
	free(th);
	return rc;
}

/* Intern every range's names (the events borrow them). */
static void
intern_names(snap_run *s, trib_intern *names)
{
	s->idb = trib_xcalloc(s->prog.nranges + 1, sizeof(*s->idb));
	s->icoll = trib_xcalloc(s->prog.nranges + 1, sizeof(*s->icoll));
	for (size_t i = 0; i < s->prog.nranges; i++)
	{
		s->idb[i] = trib_intern_get(names, s->prog.ranges[i].db, strlen(s->prog.ranges[i].db));
		s->icoll[i] = trib_intern_get(names, s->prog.ranges[i].coll,
									  strlen(s->prog.ranges[i].coll));
	}
}

/*
 * What the checkpoint says: 1 and s->prog (a snapshot's progress, and the
 * checkpoint's seq in s->ck_seq), 0 no snapshot (*stored: a position is
 * stored), -1 an error.
 */
static int
load_progress(snap_run *s, bool *stored, char *errbuf, size_t errlen)
{
	trib_position ck;
	int			r = s->host->load(s->host->arg, &ck, errbuf, errlen);
	int			pr;

	*stored = r > 0;
	if (r <= 0)
		return r;
	pr = trib_mongo_snapprog_from_json(ck.opaque, &s->prog, errbuf, errlen);
	free(ck.opaque);
	s->has_ck_seq = pr > 0 && ck.commit_lsn == s->prog.time;
	s->ck_seq = ck.seq;
	return pr;
}

/* A new snapshot: the cluster time, the ranges, a first progress. */
static bool
plan(snap_run *s, mongoc_client_t *cl, bool only, char *errbuf, size_t errlen)
{
	trib_mongo_snapprog_clear(&s->prog);
	snprintf(s->prog.state, sizeof(s->prog.state), "running");
	snprintf(s->prog.mode, sizeof(s->prog.mode), only ? "only" : "initial");
	return trib_mongo_snap_time(cl, &s->prog.time, errbuf, errlen) &&
		trib_mongo_snap_plan(cl, s->conf, s->prog.time, s->conf->snapshot_workers,
							 s->conf->snapshot_chunk_rows, &s->prog, errbuf, errlen) &&
		save_progress(s, true, errbuf, errlen);
}

/* The first number above what a sink already stored at the snapshot's
 * time (after a restart). */
static uint64_t
first_seq(const snap_run *s)
{
	trib_position m;

	if (s->host->stored_max(s->host->arg, &m) && m.commit_lsn == s->prog.time &&
		m.seq != TRIB_SEQ_ALL)
		return m.seq + 1;
	return 1;
}

/* Connect, plan or resume, copy; the source's snapshot() result. */
static int
run(snap_run *s, trib_intern *names, bool fresh, bool only, volatile sig_atomic_t *stop,
	char *errbuf, size_t errlen)
{
	mongoc_client_t *cl = trib_mongo_client_new(s->conf, errbuf, errlen);
	int			rc = TRIB_SNAPSHOT_FAILED;

	if (cl == NULL)
		return rc;
	if (trib_mongo_set_name(cl, s->rs, sizeof(s->rs), errbuf, errlen) == TRIB_MONGO_DOC &&
		(!fresh || plan(s, cl, only, errbuf, errlen)))
	{
		intern_names(s, names);
		s->next_seq = first_seq(s);
		s->done_seq = s->next_seq - 1;
		if (!fresh && !trib_snapfeed_rewind(s->host, s->has_ck_seq, s->prog.time, s->ck_seq,
											errbuf, errlen))
		{
			mongoc_client_destroy(cl);
			return rc;
		}
		s->ts_ms = trib_clock_wall_ms();
		tlog_info("snapshot", "source %s: %s the snapshot at cluster time Timestamp(%" PRIu32
				  ", %" PRIu32 "): %zu _id ranges, %d workers", s->source,
				  fresh ? "taking" : "resuming", (uint32_t) (s->prog.time >> 32),
				  (uint32_t) s->prog.time, s->prog.nranges, s->conf->snapshot_workers);
		rc = copy(s, stop, errbuf, errlen);
	}
	mongoc_client_destroy(cl);
	if (rc == TRIB_SNAPSHOT_DONE)
	{
		snprintf(s->prog.state, sizeof(s->prog.state), "done");
		s->dirty = true;
		if (!save_progress(s, true, errbuf, errlen))
			return TRIB_SNAPSHOT_FAILED;
		tlog_info("snapshot", "source %s: snapshot done, %" PRIu64 " documents", s->source,
				  s->rows);
	}
	return rc;
}

/* See mongo_snapshot.h. */
int
trib_mongo_snapshot(const trib_mongo_source_conf *c, const char *source, trib_intern *names,
					trib_mongo_infer *infer, bool int64_paths, const trib_source_host *host,
					bool only, volatile sig_atomic_t *stop, uint64_t *time, char *errbuf,
					size_t errlen)
{
	snap_run	s;
	bool		stored = false;
	int			pr,
				rc;

	*time = 0;
	if (!only && c->snapshot == TRIB_MONGO_SNAP_NEVER)
		return TRIB_SNAPSHOT_DONE;
	only = only || c->snapshot == TRIB_MONGO_SNAP_ONLY;
	memset(&s, 0, sizeof(s));
	s.conf = c;
	s.source = source;
	s.host = host;
	s.infer = infer;
	s.int64_paths = int64_paths;
	bson_init(&s.match);
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	s.wait = (trib_chunkwait) {
		.mu = &s.mu,.room = &s.cv,.ready = &s.cv,.q = &s.q,
		.bound = (size_t) c->snapshot_buffer_mb << 20,.stop = &s.quit,.running = &s.running,
		.error = s.error,
	};
	pr = load_progress(&s, &stored, errbuf, errlen);
	if (pr < 0)
		rc = TRIB_SNAPSHOT_FAILED;
	else if (!trib_mongo_match_filter(c->pipeline, &s.match, errbuf, errlen))
		rc = TRIB_SNAPSHOT_FAILED;	/* `check` refuses it first */
	else if (pr > 0 && strcmp(s.prog.state, "done") == 0 && !only)
	{
		*time = s.prog.time;	/* made before: stream after it */
		rc = TRIB_SNAPSHOT_DONE;
	}
	else if (!only && (pr == 0 && (stored || c->start_at_operation_time)))
		rc = TRIB_SNAPSHOT_DONE;	/* streaming already, or told where */
	else
	{
		host->set_state(host->arg, "snapshot");
		rc = run(&s, names, pr == 0 || strcmp(s.prog.state, "done") == 0, only, stop,
				 errbuf, errlen);
		if (rc == TRIB_SNAPSHOT_DONE)
			*time = s.prog.time;
		if (rc == TRIB_SNAPSHOT_DONE && only)
			rc = TRIB_SNAPSHOT_DONE_STOP;
	}
	trib_mongo_snapprog_clear(&s.prog);
	bson_destroy(&s.match);
	free(s.idb);
	free(s.icoll);
	pthread_mutex_destroy(&s.mu);
	pthread_cond_destroy(&s.cv);
	return rc;
}
