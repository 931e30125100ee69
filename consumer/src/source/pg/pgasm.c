/*
 * pgasm.c: the transaction assembler: parsed plugin records (pgrecord.c)
 * in stream order -> the records a pipeline consumes, in delivery order.
 *
 * Design.  The assembler holds back the latest event of an open
 * transaction until the next record says whether it was the last one, so
 * memory does not grow with transaction size; only streamed transactions
 * (option `stream`) are buffered whole until their stream_commit, because
 * their ids are not known before.  A streamed transaction that ends in
 * stream_prepare comes out like one decoded at PREPARE (a begin_prepare
 * made here, its events, stream_prepare); heartbeat messages are dropped
 * while their transaction's begin and commit still go out.  The contract
 * is in pgrecord.h (trib_pgasm); the parser and the relation cache know
 * nothing of it.
 *
 * Ownership: the assembler owns every record pushed until it is popped.
 */
#include "pgrecord.h"

#include <stdlib.h>
#include <string.h>

#include "errf.h"
#include "xalloc.h"

/* A streamed transaction's records, buffered until its stream_commit. */
typedef struct stream_tx
{
	uint32_t	xid;
	trib_pgrec *head;
	trib_pgrec *tail;
	size_t		bytes;
	struct stream_tx *next;
} stream_tx;

struct trib_pgasm
{
	trib_pgrec *qhead;
	trib_pgrec *qtail;
	trib_pgrec *held;			/* latest event of the open transaction */
	stream_tx  *streams;
	stream_tx  *cur;			/* between stream_start and stream_stop */
	size_t		buffered;
};

/* A new assembler. */
trib_pgasm *
trib_pgasm_new(void)
{
	trib_pgasm *a = trib_xcalloc(1, sizeof(*a));

	return a;
}

/* Drop everything not deliverable yet. */
void
trib_pgasm_reset(trib_pgasm *a)
{
	stream_tx  *s = a->streams;

	trib_pgrec_free(a->held);
	a->held = NULL;
	while (s)
	{
		stream_tx  *next = s->next;

		trib_pgrec_free_list(s->head);
		free(s);
		s = next;
	}
	a->streams = a->cur = NULL;
	a->buffered = 0;
}

/* Free the assembler and everything queued. */
void
trib_pgasm_free(trib_pgasm *a)
{
	if (!a)
		return;
	trib_pgasm_reset(a);
	trib_pgrec_free_list(a->qhead);
	free(a);
}

/* Append to the delivery queue. */
static void
enqueue(trib_pgasm *a, trib_pgrec *r)
{
	trib_pgrec_append(&a->qhead, &a->qtail, r);
}

/* Deliver the held event; `last` when its transaction ends here. */
static void
release_held(trib_pgasm *a, bool last, uint64_t end_lsn)
{
	if (!a->held)
		return;
	a->held->ev->last_in_tx = last;
	a->held->ev->pos.end_lsn = last ? end_lsn : 0;
	enqueue(a, a->held);
	a->held = NULL;
}

/* The buffer of streamed transaction xid; created when `create`. */
static stream_tx *
find_stream(trib_pgasm *a, uint32_t xid, bool create)
{
	stream_tx  *s;

	for (s = a->streams; s; s = s->next)
		if (s->xid == xid)
			return s;
	if (!create)
		return NULL;
	s = trib_xcalloc(1, sizeof(*s));
	s->xid = xid;
	s->next = a->streams;
	a->streams = s;
	return s;
}

/* Unlink and free a stream buffer (its records must be gone). */
static void
drop_stream(trib_pgasm *a, stream_tx *s)
{
	stream_tx **pp;

	for (pp = &a->streams; *pp; pp = &(*pp)->next)
		if (*pp == s)
		{
			*pp = s->next;
			break;
		}
	if (a->cur == s)
		a->cur = NULL;
	a->buffered -= s->bytes;
	trib_pgrec_free_list(s->head);
	free(s);
}

/* Remove buffered records for which drop(rec, arg) says so. */
static void
filter_stream(trib_pgasm *a, stream_tx *s,
			  bool (*drop) (const trib_pgrec *, const trib_pgrec *),
			  const trib_pgrec *arg)
{
	trib_pgrec **pp = &s->head;

	s->tail = NULL;
	while (*pp)
	{
		trib_pgrec *r = *pp;

		if (drop(r, arg))
		{
			size_t		b = trib_pgrec_bytes(r);

			*pp = r->next;
			s->bytes -= b;
			a->buffered -= b;
			trib_pgrec_free(r);
		}
		else
		{
			s->tail = r;
			pp = &r->next;
		}
	}
}

/* stream_abort of a subtransaction: its changes, and any past next_seq. */
static bool
drop_aborted(const trib_pgrec *r, const trib_pgrec *abort)
{
	return r->subxid == abort->subxid ||
		(abort->has_next_seq && r->seq >= abort->next_seq);
}

/* stream_commit with discard_through_seq. */
static bool
drop_discarded(const trib_pgrec *r, const trib_pgrec *commit)
{
	return commit->discard || (commit->has_discard_through &&
							   r->seq <= commit->discard_through_seq);
}

/* The begin_prepare a streamed prepared transaction did not get. */
static trib_pgrec *
begin_prepare_of(const trib_pgrec *prepare)
{
	trib_pgrec *b = trib_xcalloc(1, sizeof(*b));

	b->kind = TRIB_PGREC_BEGIN_PREPARE;
	b->xid = prepare->xid;
	b->has_commit_lsn = true;
	b->commit_lsn = prepare->commit_lsn;
	b->has_ts = prepare->has_ts;
	b->ts_ms = prepare->ts_ms;
	b->ts_us = prepare->ts_us;
	b->gid = trib_xstrdup(prepare->gid);
	return b;
}

/* Deliver a streamed transaction at its stream_commit / stream_prepare. */
static void
finish_stream(trib_pgasm *a, trib_pgrec *commit)
{
	stream_tx  *s = find_stream(a, commit->xid, false);

	if (commit->kind == TRIB_PGREC_STREAM_PREPARE)
		enqueue(a, begin_prepare_of(commit));
	if (s)
	{
		trib_pgrec *r;

		filter_stream(a, s, drop_discarded, commit);
		for (r = s->head; r; r = r->next)
		{
			r->has_commit_lsn = true;
			r->commit_lsn = commit->commit_lsn;
			r->has_ts = commit->has_ts;
			r->ts_ms = commit->ts_ms;
			r->ts_us = commit->ts_us;
			r->ev->pos.commit_lsn = commit->commit_lsn;
			r->ev->ts_ms = commit->ts_ms;
			r->ev->ts_us = commit->ts_us;
			r->ev->last_in_tx = r->next == NULL;
			r->ev->pos.end_lsn = r->next == NULL ? commit->end_lsn : 0;
		}
		if (s->head)
		{
			if (a->qtail)
				a->qtail->next = s->head;
			else
				a->qhead = s->head;
			a->qtail = s->tail;
			s->head = s->tail = NULL;
		}
		drop_stream(a, s);
	}
	enqueue(a, commit);
}

/* Is this a heartbeat message of a tributary consumer? */
static bool
is_heartbeat(const trib_pgrec *r)
{
	return r->kind == TRIB_PGREC_MESSAGE && r->prefix &&
		strcmp(r->prefix, TRIB_HEARTBEAT_PREFIX) == 0;
}

/* Queue what a change record makes deliverable. */
static bool
push_change(trib_pgasm *a, trib_pgrec *rec, char *errbuf, size_t errlen)
{
	if (!rec->has_commit_lsn)
	{
		/* A streamed change: buffered until its transaction ends. */
		stream_tx  *s = a->cur;
		size_t		b;

		if (!s || s->xid != rec->xid)
		{
			uint32_t	xid = rec->xid;

			trib_pgrec_free(rec);
			return trib_errf(errbuf, errlen, "streamed change of xid %u outside its stream_start/stream_stop",
							 xid);
		}
		b = trib_pgrec_bytes(rec);
		trib_pgrec_append(&s->head, &s->tail, rec);
		s->bytes += b;
		a->buffered += b;
		return true;
	}
	if (rec->kind == TRIB_PGREC_MESSAGE && !rec->transactional)
	{
		rec->ev->last_in_tx = true;
		rec->ev->pos.end_lsn = rec->lsn;
		enqueue(a, rec);
		return true;
	}
	/* Without begin/commit records a new commit_lsn ends the previous tx. */
	if (a->held && a->held->commit_lsn != rec->commit_lsn)
		release_held(a, true, 0);
	release_held(a, false, 0);
	a->held = rec;
	return true;
}

/* Feed one record. */
bool
trib_pgasm_push(trib_pgasm *a, trib_pgrec *rec, char *errbuf, size_t errlen)
{
	stream_tx  *s;

	if (rec->ev)
	{
		if (is_heartbeat(rec))
		{
			trib_pgrec_free(rec);
			return true;
		}
		return push_change(a, rec, errbuf, errlen);
	}
	switch (rec->kind)
	{
		case TRIB_PGREC_COMMIT:
		case TRIB_PGREC_PREPARE:
			release_held(a, true, rec->end_lsn);
			enqueue(a, rec);
			return true;
		case TRIB_PGREC_BEGIN:
		case TRIB_PGREC_BEGIN_PREPARE:
			release_held(a, true, 0);
			enqueue(a, rec);
			return true;
		case TRIB_PGREC_STREAM_START:
			a->cur = find_stream(a, rec->xid, true);
			trib_pgrec_free(rec);
			return true;
		case TRIB_PGREC_STREAM_STOP:
			a->cur = NULL;
			trib_pgrec_free(rec);
			return true;
		case TRIB_PGREC_STREAM_ABORT:
			s = find_stream(a, rec->xid, false);
			if (s)
			{
				if (rec->subxid == 0 || rec->subxid == rec->xid)
					drop_stream(a, s);
				else
					filter_stream(a, s, drop_aborted, rec);
			}
			trib_pgrec_free(rec);
			return true;
		case TRIB_PGREC_STREAM_COMMIT:
		case TRIB_PGREC_STREAM_PREPARE:
			finish_stream(a, rec);
			return true;
		case TRIB_PGREC_RELATION:
			/* A relation record announces a change that follows. */
			release_held(a, false, 0);
			enqueue(a, rec);
			return true;
		default:
			enqueue(a, rec);
			return true;
	}
}

/* The next deliverable record, or NULL. */
trib_pgrec *
trib_pgasm_pop(trib_pgasm *a)
{
	trib_pgrec *r = a->qhead;

	if (r)
	{
		a->qhead = r->next;
		if (!a->qhead)
			a->qtail = NULL;
		r->next = NULL;
	}
	return r;
}

/* Bytes buffered for streamed transactions. */
size_t
trib_pgasm_buffered(const trib_pgasm *a)
{
	return a->buffered;
}
