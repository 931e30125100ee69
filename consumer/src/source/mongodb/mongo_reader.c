/*
 * mongo_reader.c: the reading loop (see mongo_reader.h): transactions by
 * cluster time, the start point of a stored position, invalidate and
 * startAfter, retries with capped backoff after the last token.  The
 * stream is a feed (mongo_feed.h): opening, reading and closing it never
 * wait on the server.
 */
#include "mongo_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_tree.h>

#include "clock.h"
#include "errf.h"
#include "eventid.h"
#include "jsondoc.h"
#include "log.h"
#include "mongo_event.h"
#include "mongo_feed.h"
#include "mongo_infer.h"
#include "xalloc.h"

/* start waits this long (ms) for the stream to open, so that a
 * deployment that answers and refuses (not a replica set, ...) fails the
 * start; one that does not answer in time is waited for by poll. */
#define START_WAIT_MS 2000

/* An event inside a transaction and the text that resumes just after it. */
typedef struct trib_mongo_mark
{
	trib_position pos;			/* (cluster time, seq); no opaque */
	char	   *text;			/* {"token": its token[, "invalidate": true]} */
} trib_mongo_mark;

struct trib_mongo_reader
{
	const trib_mongo_source_conf *conf;
	trib_mongo_feed *feed;		/* the stream, read on its own thread */
	bool		open_logged;	/* the feed's open was noted */
	trib_mongo_start_kind open_kind;	/* ... and where it opens */
	trib_intern *names;
	trib_mongo_infer *infer;	/* infer_schema: the collections' relations */
	char		rs[256];
	trib_mongo_map_ctx ctx;

	/* where to (re)open: the first start point, then the last token */
	trib_mongo_start first;
	char	   *token;			/* the last token read, or NULL */
	bool		token_invalidate;	/* ... is an invalidate's: startAfter */

	/* resuming inside a transaction by time: skip (skip_time, <= skip_seq) */
	uint64_t	skip_time;
	uint64_t	skip_seq;
	uint64_t	snap_time;		/* a complete snapshot's cluster time, or 0 */
	/* resuming inside a transaction by token: its next event's seq */
	uint64_t	cont_time;
	uint64_t	cont_next;

	/* the open transaction */
	bool		in_tx;
	uint64_t	tx_time;
	uint64_t	tx_next;		/* the next event's seq */
	int64_t		tx_ts_ms;
	/* the open transaction's newest event, held back until what follows
	 * it is known (then it goes out, last_in_tx when its END follows) */
	trib_event *pending;

	/* retries */
	int			delay_ms;
	int64_t		retry_at;		/* mono ms; 0: not waiting */

	/* the resume texts of the events read inside transactions (every
	 * event not ended at once), in stream order, until confirmed or asked
	 * past: marks[mhead .. nmarks) */
	trib_mongo_mark *marks;
	size_t		mhead,
				nmarks,
				capmarks;

	trib_event **owned;			/* the events of the last poll */
	size_t		nowned;
	size_t		capowned;
	char	  **ends;			/* the END items' opaque texts, likewise */
	size_t		nends;
	size_t		capends;
	trib_mongo_reader_stats stats;
};

static void schedule_retry(trib_mongo_reader *r, const char *why);

trib_mongo_reader *
trib_mongo_reader_new(const trib_mongo_source_conf *c, const char *source, bool int64_paths,
					  char *errbuf, size_t errlen)
{
	trib_mongo_reader *r;
	mongoc_client_t *cl = trib_mongo_client_new(c, errbuf, errlen);

	if (cl == NULL)				/* the URI is checked here; the feeds use it */
		return NULL;
	mongoc_client_destroy(cl);
	r = trib_xcalloc(1, sizeof(*r));
	r->conf = c;
	r->names = trib_intern_new();
	r->infer = c->infer_schema ? trib_mongo_infer_new() : NULL;
	r->ctx.names = r->names;
	r->ctx.source = source;
	r->ctx.int64_paths = int64_paths;
	r->delay_ms = c->reconnect_backoff_ms.initial;
	return r;
}

/* A token and the invalidate mark of a stored opaque position. */
static void
token_of_opaque(trib_mongo_reader *r, const char *opaque)
{
	const char *tpath[] = {"token", NULL};
	const char *ipath[] = {"invalidate", NULL};
	yajl_val	o = opaque ? yajl_tree_parse(opaque, NULL, 0) : NULL;
	yajl_val	t = o ? yajl_tree_get(o, tpath, yajl_t_object) : NULL;

	if (t != NULL)
	{
		r->token = trib_jdoc_dump(t);
		r->token_invalidate = yajl_tree_get(o, ipath, yajl_t_true) != NULL;
	}
	yajl_tree_free(o);
}

/* Where the stream opens now. */
static trib_mongo_start
start_point(const trib_mongo_reader *r)
{
	trib_mongo_start at = r->first;

	if (r->token)
	{
		at.kind = r->token_invalidate ? TRIB_MONGO_START_AFTER : TRIB_MONGO_RESUME_AFTER;
		at.token = r->token;
	}
	return at;
}

/* Start the stream's feed (its thread asks hello for the replica set's
 * name, then opens it: note_open says when); false (FATAL) only for what
 * needs no server. */
static bool
open_stream(trib_mongo_reader *r, trib_mongo_next_rc *rc, char *errbuf, size_t errlen)
{
	trib_mongo_start at = start_point(r);

	*rc = TRIB_MONGO_FATAL;
	r->feed = trib_mongo_feed_open(r->conf, &at, errbuf, errlen);
	if (r->feed == NULL)
		return false;
	r->open_logged = false;
	r->open_kind = at.kind;
	return true;
}

/* Once the feed has opened the stream: the replica set's name (the
 * events' source.rs) and the log line. */
static void
note_open(trib_mongo_reader *r)
{
	const char *rs = r->open_logged ? NULL : trib_mongo_feed_set_name(r->feed);

	if (rs == NULL)
		return;
	snprintf(r->rs, sizeof(r->rs), "%s", rs);
	r->ctx.rs = r->rs[0] ? r->rs : NULL;
	r->open_logged = true;
	tlog_info("source", "source %s: change stream open on %s%s%s (%s)", r->ctx.source,
			  r->conf->database ? r->conf->database : "the deployment",
			  r->conf->collection ? "." : "", r->conf->collection ? r->conf->collection : "",
			  r->open_kind == TRIB_MONGO_RESUME_AFTER ? "resumeAfter a token" :
			  r->open_kind == TRIB_MONGO_START_AFTER ? "startAfter an invalidate" :
			  r->open_kind == TRIB_MONGO_AT_TIME ? "startAtOperationTime" : "from now");
}

bool
trib_mongo_reader_start(trib_mongo_reader *r, const trib_position *resume, char *errbuf,
						size_t errlen)
{
	trib_mongo_next_rc rc;

	r->first.kind = TRIB_MONGO_FROM_NOW;
	if (r->conf->start_at_operation_time &&
		trib_mongo_parse_time(r->conf->start_at_operation_time, &r->first.time))
		r->first.kind = TRIB_MONGO_AT_TIME;
	if (resume != NULL && resume->commit_lsn != 0)
	{
		token_of_opaque(r, resume->opaque);
		r->first.kind = TRIB_MONGO_AT_TIME;
		if (resume->seq == TRIB_SEQ_ALL)
			r->first.time = resume->commit_lsn + 1;
		else if (r->token != NULL)
		{
			/* the token's event is (T, S): T's next one is S + 1 */
			r->cont_time = resume->commit_lsn;
			r->cont_next = resume->seq + 1;
		}
		else
		{
			r->first.time = resume->commit_lsn;
			r->skip_time = resume->commit_lsn;
			r->skip_seq = resume->seq;
		}
	}
	if (r->snap_time != 0 && r->token == NULL &&
		(resume == NULL || resume->commit_lsn <= r->snap_time))
	{
		/* the snapshot's own positions: everything at or before its time
		 * is in the copy */
		r->first.kind = TRIB_MONGO_AT_TIME;
		r->first.time = r->snap_time + 1;
		r->skip_time = r->cont_time = 0;
	}
	if (!open_stream(r, &rc, errbuf, errlen))
		return false;
	if (trib_mongo_feed_wait_open(r->feed, START_WAIT_MS, &rc, errbuf, errlen))
		return true;			/* poll notes it */
	if (rc == TRIB_MONGO_FATAL)
	{
		trib_mongo_feed_free(r->feed);
		r->feed = NULL;
		return false;
	}
	if (rc == TRIB_MONGO_RETRY)
		schedule_retry(r, errbuf);	/* not reachable now: poll keeps trying */
	errbuf[0] = '\0';			/* (IDLE: still opening; poll goes on) */
	return true;
}

trib_mongo_infer *
trib_mongo_reader_infer(trib_mongo_reader *r)
{
	return r->infer;
}

void
trib_mongo_reader_after_snapshot(trib_mongo_reader *r, uint64_t time)
{
	r->snap_time = time;
}

/* Free the events handed out by the last poll. */
static void
release(trib_mongo_reader *r)
{
	for (size_t i = 0; i < r->nowned; i++)
		trib_event_free(r->owned[i]);
	r->nowned = 0;
	for (size_t i = 0; i < r->nends; i++)
		free(r->ends[i]);
	r->nends = 0;
}

/* Keep ev until the next poll. */
static void
own_event(trib_mongo_reader *r, trib_event *ev)
{
	r->owned = trib_xgrow(r->owned, r->nowned, &r->capowned, sizeof(*r->owned), 64);
	r->owned[r->nowned++] = ev;
}

/* Append the held-back event (if any) as an EVENT item, marked the last
 * of its transaction when `last`; it is then freed at the next poll. */
static void
flush_pending(trib_mongo_reader *r, trib_source_item *items, int *k, bool last)
{
	trib_source_item *it;

	if (r->pending == NULL)
		return;
	r->pending->last_in_tx = last;
	own_event(r, r->pending);
	it = &items[(*k)++];
	memset(it, 0, sizeof(*it));
	it->kind = TRIB_ITEM_EVENT;
	it->ev = r->pending;
	r->pending = NULL;
}

/*
 * Append the END of the open transaction, after its held-back last event
 * (marked last_in_tx).  Its opaque text resumes after the transaction's
 * last change (the token read last; startAfter when that is an
 * invalidate's), kept until the next poll.
 */
static void
end_tx(trib_mongo_reader *r, trib_source_item *items, int *k)
{
	trib_source_item *it;

	flush_pending(r, items, k, true);
	it = &items[(*k)++];
	memset(it, 0, sizeof(*it));
	it->kind = TRIB_ITEM_END;
	it->end.commit_lsn = it->end.end_lsn = it->end.lsn = r->tx_time;
	it->end.seq = TRIB_SEQ_ALL;
	if (r->token != NULL)
	{
		r->ends = trib_xgrow(r->ends, r->nends, &r->capends, sizeof(*r->ends), 16);
		it->end.opaque = r->ends[r->nends++] =
			trib_mongo_resume_opaque(r->token, r->token_invalidate);
	}
	it->ts_ms = r->tx_ts_ms;
	r->in_tx = false;
}

/* Remember the change's token as where to resume. */
static void
keep_token(trib_mongo_reader *r, trib_mongo_change *ch)
{
	free(r->token);
	r->token = ch->token;
	ch->token = NULL;
	r->token_invalidate = ch->invalidate;
}

/* Drop the marks before `pos` (with `inclusive`, at it too). */
static void
drop_marks(trib_mongo_reader *r, const trib_position *pos, bool inclusive)
{
	while (r->mhead < r->nmarks)
	{
		int			c = trib_position_cmp(&r->marks[r->mhead].pos, pos);

		if (c > 0 || (c == 0 && !inclusive))
			break;
		free(r->marks[r->mhead++].text);
	}
	if (r->mhead == r->nmarks)
		r->mhead = r->nmarks = 0;
}

/* Keep the resume text of the event (time, seq), just read. */
static void
keep_mark(trib_mongo_reader *r, uint64_t time, uint64_t seq)
{
	trib_mongo_mark *m;

	if (r->nmarks == r->capmarks && r->mhead > 0)
	{
		memmove(r->marks, r->marks + r->mhead, (r->nmarks - r->mhead) * sizeof(*r->marks));
		r->nmarks -= r->mhead;
		r->mhead = 0;
	}
	r->marks = trib_xgrow(r->marks, r->nmarks, &r->capmarks, sizeof(*r->marks), 64);
	m = &r->marks[r->nmarks++];
	memset(m, 0, sizeof(*m));
	m->pos.commit_lsn = m->pos.end_lsn = m->pos.lsn = time;
	m->pos.seq = seq;
	m->text = trib_mongo_resume_opaque(r->token, r->token_invalidate);
}

char *
trib_mongo_reader_resume_text(trib_mongo_reader *r, const trib_position *pos)
{
	drop_marks(r, pos, false);
	if (r->mhead < r->nmarks && trib_position_cmp(&r->marks[r->mhead].pos, pos) == 0)
		return trib_xstrdup(r->marks[r->mhead].text);
	return NULL;
}

void
trib_mongo_reader_confirmed(trib_mongo_reader *r, const trib_position *end)
{
	drop_marks(r, end, true);
}

/*
 * One change into items: END of the previous transaction (after its
 * held-back last event), BEGIN, the held-back event before it when both
 * are of one transaction, and its own EVENT and END at once when it is a
 * document's write outside a transaction (an oplog entry, at a cluster
 * time of its own).  Any other change is held back (r->pending) until the
 * next change, an idle getMore or an invalidate tells whether it ends its
 * transaction.  Not so a drop or rename: the invalidate that follows
 * shares its time.  At most 5 items.
 */
static void
take_change(trib_mongo_reader *r, trib_mongo_change *ch, trib_source_item *items, int *k)
{
	trib_event *ev = ch->ev;
	trib_source_item *it;
	bool		alone = !ch->in_txn && ev->op != TRIB_OP_MESSAGE;

	if (r->in_tx && ch->cluster_time != r->tx_time)
		end_tx(r, items, k);
	if (!r->in_tx)
	{
		it = &items[(*k)++];
		memset(it, 0, sizeof(*it));
		it->kind = TRIB_ITEM_BEGIN;
		r->in_tx = true;
		r->tx_time = ch->cluster_time;
		r->tx_next = ch->cluster_time == r->cont_time ? r->cont_next : 0;
	}
	r->tx_ts_ms = ev->ts_ms;
	ev->pos.seq = r->tx_next++;
	keep_token(r, ch);
	if (!alone)
		keep_mark(r, ch->cluster_time, ev->pos.seq);
	r->stats.last_time = ch->cluster_time;
	if (r->skip_time != ch->cluster_time || ev->pos.seq > r->skip_seq)
	{
		ch->ev = NULL;			/* else durable before the restart */
		if (r->infer)
			trib_mongo_infer_event(r->infer, ev);
		r->stats.events++;
		flush_pending(r, items, k, false);
		r->pending = ev;
	}
	if (alone)
		end_tx(r, items, k);
}

/* A resumable failure: close the stream and wait before reopening. */
static void
schedule_retry(trib_mongo_reader *r, const char *why)
{
	char	   *pbrt = r->feed ? trib_mongo_feed_token(r->feed) : NULL;

	if (pbrt != NULL)
	{
		/* the token that goes with the last document or idle getMore
		 * taken from the feed: every event before it was taken */
		free(r->token);
		r->token = pbrt;
		r->token_invalidate = false;
	}
	trib_mongo_feed_free(r->feed);
	r->feed = NULL;
	r->stats.retries++;
	tlog_warn("source", "mongodb change stream: %s; resuming in %d ms", why, r->delay_ms);
	r->retry_at = trib_clock_mono_ms() + r->delay_ms;
	r->delay_ms = r->delay_ms > r->conf->reconnect_backoff_ms.max / 2
		? r->conf->reconnect_backoff_ms.max : r->delay_ms * 2;
}

/* Reopen when the pause is over: 1 open, 0 still waiting, -1 fatal. */
static int
reopen(trib_mongo_reader *r, int timeout_ms, char *errbuf, size_t errlen)
{
	int64_t		wait = r->retry_at - trib_clock_mono_ms();
	trib_mongo_next_rc rc;
	char		e[512];

	if (wait > 0)
	{
		struct timespec ts;

		wait = wait < timeout_ms ? wait : timeout_ms;
		ts.tv_sec = wait / 1000;
		ts.tv_nsec = (wait % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		if (r->retry_at > trib_clock_mono_ms())
			return 0;
	}
	r->retry_at = 0;
	if (open_stream(r, &rc, e, sizeof(e)))
		return 1;
	if (rc == TRIB_MONGO_FATAL)
		return (trib_errf(errbuf, errlen, "%s", e), -1);
	schedule_retry(r, e);
	return 0;
}

/* After an invalidate: the stream ended; open it again startAfter it. */
static int
after_invalidate(trib_mongo_reader *r, trib_source_item *items, int *k, char *errbuf,
				 size_t errlen)
{
	trib_mongo_next_rc rc;

	r->stats.invalidates++;
	if (r->in_tx)
		end_tx(r, items, k);
	trib_mongo_feed_free(r->feed);	/* its thread ended at the invalidate */
	r->feed = NULL;
	tlog_info("source", "mongodb change stream invalidated; opening it again with startAfter");
	if (open_stream(r, &rc, errbuf, errlen))
		return 0;
	if (rc == TRIB_MONGO_FATAL)
		return -1;
	schedule_retry(r, errbuf);
	return 0;
}

int
trib_mongo_reader_poll(trib_mongo_reader *r, trib_source_item *items, int max,
					   int timeout_ms, char *errbuf, size_t errlen)
{
	int			k = 0;
	int64_t		until = trib_clock_mono_ms() + timeout_ms;

	release(r);
	while (k + 5 <= max)
	{
		const bson_t *doc = NULL;
		trib_mongo_change ch;
		trib_mongo_next_rc rc;
		int			o;

		if (r->feed == NULL)
		{
			o = reopen(r, timeout_ms, errbuf, errlen);
			if (o <= 0)
				return o < 0 ? -1 : k;
		}
		rc = trib_mongo_feed_next(r->feed, &doc, errbuf, errlen);
		note_open(r);
		if (rc == TRIB_MONGO_FATAL)
			return -1;
		if (rc == TRIB_MONGO_RETRY)
		{
			schedule_retry(r, errbuf);
			return k;
		}
		if (rc == TRIB_MONGO_IDLE)
		{
			/* an idle getMore ends the open transaction; a wait that ran
			 * out (a slow or stalled server) does not */
			if (r->in_tx && trib_mongo_feed_drained(r->feed))
				end_tx(r, items, &k);
			if (k > 0 || trib_clock_mono_ms() >= until)
				return k;
			continue;
		}
		if (!trib_mongo_change_map(doc, &r->ctx, &ch, errbuf, errlen))
		{
			trib_mongo_change_clear(&ch);
			return -1;
		}
		r->delay_ms = r->conf->reconnect_backoff_ms.initial;
		take_change(r, &ch, items, &k);
		if (ch.invalidate)
		{
			trib_mongo_change_clear(&ch);
			if (after_invalidate(r, items, &k, errbuf, errlen) < 0)
				return -1;
			return k;
		}
		trib_mongo_change_clear(&ch);
	}
	return k;
}

const trib_mongo_reader_stats *
trib_mongo_reader_stats_of(const trib_mongo_reader *r)
{
	return &r->stats;
}

void
trib_mongo_reader_free(trib_mongo_reader *r)
{
	if (r == NULL)
		return;
	release(r);
	trib_event_free(r->pending);
	for (size_t i = r->mhead; i < r->nmarks; i++)
		free(r->marks[i].text);
	free(r->marks);
	free(r->owned);
	free(r->ends);
	trib_mongo_feed_free(r->feed);
	trib_intern_free(r->names);
	trib_mongo_infer_free(r->infer);
	free(r->token);
	free(r);
}
