/*
 * mongo_feed.c: the change stream's thread and its queue (mongo_feed.h).
 *
 * Design.  As the MySQL binlog reader (mysql_reader.c): a bounded
 * hand-off queue (lib/handoff.h) carries the entries, and the end of the
 * stream (its class and message) after them.  An entry is a document
 * (a copy, with the token read after it), an idle getMore (its token;
 * one idle entry at the tail takes the next one's token instead of
 * queueing another, so an idle stream with a slow loop does not grow the
 * queue) or the open (the replica set's name).  The thread reads nothing
 * more after an invalidate: the stream is over, and the reader opens
 * another.
 *
 * Ownership.  The client is made by open (it does no I/O), then only the
 * thread touches it, and destroys it when it ends.  Entries handed to the
 * loop (`current`) are the loop's until its next call.
 */
#include "mongo_feed.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errf.h"
#include "handoff.h"
#include "xalloc.h"

typedef enum qkind
{
	Q_OPEN,
	Q_DOC,
	Q_IDLE
} qkind;

typedef struct qent
{
	trib_handoff_item item;		/* first: the queue's link */
	qkind		kind;
	bson_t	   *doc;			/* Q_DOC: a copy */
	char	   *token;			/* Q_DOC, Q_IDLE: relaxed JSON, or NULL */
	char	   *rs;				/* Q_OPEN: the replica set's name */
} qent;

struct trib_mongo_feed
{
	const trib_mongo_source_conf *conf;
	trib_mongo_start at;		/* its token copied */
	mongoc_client_t *client;	/* the thread's */

	pthread_t	thread;
	trib_handoff *q;			/* the entries; the first is Q_OPEN; the
								 * end's code is RETRY, FATAL, or IDLE after
								 * an invalidate or a stop */

	/* the loop's */
	qent	   *current;		/* the document handed out last */
	char	   *token;			/* what goes with it */
	char	   *rs;
	bool		drained;
};

/* Free one entry. */
static void
qent_free(qent *e)
{
	if (e == NULL)
		return;
	if (e->doc)
		bson_destroy(e->doc);
	free(e->token);
	free(e->rs);
	free(e);
}

/* The queue's free function. */
static void
qent_free_item(trib_handoff_item *item)
{
	qent_free((qent *) item);
}

/* The queue's coalescing hook: an idle entry after an idle tail gives
 * the tail its token (the newer token covers the older). */
static bool
coalesce_idle(trib_handoff_item *tail_item, trib_handoff_item *new_item)
{
	qent	   *tail = (qent *) tail_item,
			   *e = (qent *) new_item;

	if (e->kind != Q_IDLE || tail->kind != Q_IDLE)
		return false;
	free(tail->token);
	tail->token = e->token;
	e->token = NULL;
	return true;
}

/* End the stream with rc and a message (first end only). */
static void
finish(trib_mongo_feed *f, trib_mongo_next_rc rc, const char *msg)
{
	trib_handoff_finish(f->q, (int) rc, msg);
}

/* Queue e (the queue owns it); waits while the queue is full; false (e
 * freed) when asked to stop. */
static bool
push(trib_mongo_feed *f, qent *e)
{
	return trib_handoff_push(f->q, &e->item);
}

/* A new entry of `kind`. */
static qent *
entry(qkind kind, size_t bytes)
{
	qent	   *e = trib_xcalloc(1, sizeof(*e));

	e->kind = kind;
	e->item.bytes = bytes;
	return e;
}

/* Is doc an invalidate (the last event of its stream)? */
static bool
is_invalidate(const bson_t *doc)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, "operationType") && BSON_ITER_HOLDS_UTF8(&it) &&
		strcmp(bson_iter_utf8(&it, NULL), "invalidate") == 0;
}

/* Read the open stream s into the queue until it ends or a stop. */
static void
read_stream(trib_mongo_feed *f, trib_mongo_stream *s)
{
	char		err[1024];

	for (;;)
	{
		const bson_t *doc = NULL;
		trib_mongo_next_rc rc = trib_mongo_next(s, &doc, err, sizeof(err));
		qent	   *e;

		if (rc == TRIB_MONGO_RETRY || rc == TRIB_MONGO_FATAL)
		{
			finish(f, rc, err);
			return;
		}
		e = entry(rc == TRIB_MONGO_DOC ? Q_DOC : Q_IDLE, rc == TRIB_MONGO_DOC ? doc->len : 0);
		if (rc == TRIB_MONGO_DOC)
			e->doc = bson_copy(doc);
		e->token = trib_mongo_stream_token(s);
		if (!push(f, e))
			return;
		if (rc == TRIB_MONGO_DOC && is_invalidate(doc))
		{
			finish(f, TRIB_MONGO_IDLE, "the stream was invalidated");
			return;
		}
	}
}

/* The thread: hello, open, read. */
static void *
run(void *arg)
{
	trib_mongo_feed *f = arg;
	char		err[1024],
				rs[256];
	trib_mongo_next_rc rc = trib_mongo_set_name(f->client, rs, sizeof(rs), err, sizeof(err));
	trib_mongo_stream *s = NULL;
	qent	   *e;

	if (rc == TRIB_MONGO_DOC)
		s = trib_mongo_stream_open(f->client, f->conf, &f->at, &rc, err, sizeof(err));
	if (s == NULL)
		finish(f, rc, err);
	else
	{
		e = entry(Q_OPEN, 0);
		e->rs = trib_xstrdup(rs);
		if (push(f, e))
			read_stream(f, s);
	}
	trib_mongo_stream_free(s);
	mongoc_client_destroy(f->client);
	f->client = NULL;
	finish(f, TRIB_MONGO_IDLE, "stopped");
	return NULL;
}

trib_mongo_feed *
trib_mongo_feed_open(const trib_mongo_source_conf *c, const trib_mongo_start *at,
					 char *errbuf, size_t errlen)
{
	trib_mongo_feed *f = trib_xcalloc(1, sizeof(*f));
	int			e;

	f->conf = c;
	f->at = *at;
	if (at->token)
		f->at.token = trib_xstrdup(at->token);
	f->client = trib_mongo_client_new_capped(c, TRIB_MONGO_IO_TIMEOUT_MS, errbuf, errlen);
	if (f->client == NULL)
	{
		free((char *) f->at.token);
		free(f);
		return NULL;
	}
	f->q = trib_handoff_new(TRIB_MONGO_FEED_BYTES, qent_free_item, coalesce_idle);
	if ((e = pthread_create(&f->thread, NULL, run, f)) != 0)
	{
		trib_errf(errbuf, errlen, "starting the change stream's thread: %s", strerror(e));
		mongoc_client_destroy(f->client);
		trib_handoff_free(f->q);
		free((char *) f->at.token);
		free(f);
		return NULL;
	}
	return f;
}

bool
trib_mongo_feed_wait_open(trib_mongo_feed *f, int timeout_ms, trib_mongo_next_rc *rc,
						  char *errbuf, size_t errlen)
{
	struct timespec until = trib_clock_deadline(timeout_ms > 0 ? timeout_ms : 0);
	int			code = TRIB_MONGO_IDLE;
	int			got = trib_handoff_wait_first(f->q, &until, &code, errbuf, errlen);

	*rc = got < 0 ? (trib_mongo_next_rc) code : TRIB_MONGO_IDLE;
	return got > 0;
}

/* Take the token of e as the one that goes with what was handed out. */
static void
take_token(trib_mongo_feed *f, qent *e)
{
	if (e->token == NULL)
		return;					/* none yet: the older one still holds */
	free(f->token);
	f->token = e->token;
	e->token = NULL;
}

trib_mongo_next_rc
trib_mongo_feed_next(trib_mongo_feed *f, const bson_t **doc, char *errbuf, size_t errlen)
{
	struct timespec until = trib_clock_deadline(TRIB_MONGO_AWAIT_SLICE_MS);
	trib_handoff_item *item = NULL;
	int			code = TRIB_MONGO_IDLE,
				got;
	char		err[1024];
	qent	   *e;

	qent_free(f->current);
	f->current = NULL;
	f->drained = false;
	while ((got = trib_handoff_pop(f->q, &until, &item, &code, err, sizeof(err))) > 0 &&
		   ((qent *) item)->kind == Q_OPEN)
	{
		e = (qent *) item;
		free(f->rs);
		f->rs = e->rs;
		e->rs = NULL;
		qent_free(e);
	}
	if (got < 0 && code != TRIB_MONGO_IDLE)
	{
		trib_errf(errbuf, errlen, "%s", err);
		return (trib_mongo_next_rc) code;
	}
	if (got <= 0)
		return TRIB_MONGO_IDLE;
	e = (qent *) item;
	take_token(f, e);
	if (e->kind == Q_IDLE)
	{
		f->drained = true;
		qent_free(e);
		return TRIB_MONGO_IDLE;
	}
	f->current = e;
	*doc = e->doc;
	return TRIB_MONGO_DOC;
}

bool
trib_mongo_feed_drained(const trib_mongo_feed *f)
{
	return f->drained;
}

const char *
trib_mongo_feed_set_name(const trib_mongo_feed *f)
{
	return f->rs;
}

char *
trib_mongo_feed_token(const trib_mongo_feed *f)
{
	return f->token ? trib_xstrdup(f->token) : NULL;
}

void
trib_mongo_feed_free(trib_mongo_feed *f)
{
	if (f == NULL)
		return;
	trib_handoff_stop(f->q);
	pthread_join(f->thread, NULL);
	trib_handoff_free(f->q);
	qent_free(f->current);
	free((char *) f->at.token);
	free(f->token);
	free(f->rs);
	free(f);
}
