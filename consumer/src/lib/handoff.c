/*
 * handoff.c: the bounded hand-off queue between a reader thread and the
 * pipeline's loop (handoff.h).
 *
 * One mutex guards everything, the list of entries included (a
 * lib/chunk_queue.h FIFO: its links and byte count are the items');
 * not_empty wakes the consumer (an entry, the end), not_full wakes the
 * producer (room, a stop).  Both are
 * broadcast: at most one thread waits on each, and a broadcast cannot
 * lose a wake-up if that ever changes.
 */
#include "handoff.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "errf.h"
#include "xalloc.h"

struct trib_handoff
{
	pthread_mutex_t mu;
	pthread_cond_t not_empty;
	pthread_cond_t not_full;
	trib_chunkq q;				/* the queued entries and their bytes */
	size_t		max_bytes;
	bool		pushed;			/* something was ever pushed */
	bool		stop;			/* the consumer asked the producer to stop */
	bool		done;			/* the producer ended the stream */
	int			end_code;
	char		end_msg[1024];
	trib_handoff_free_fn free_item;
	trib_handoff_coalesce_fn coalesce;	/* or NULL */
};

trib_handoff *
trib_handoff_new(size_t max_bytes, trib_handoff_free_fn free_item,
				 trib_handoff_coalesce_fn coalesce)
{
	trib_handoff *h = trib_xcalloc(1, sizeof(*h));

	h->max_bytes = max_bytes;
	h->free_item = free_item;
	h->coalesce = coalesce;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->not_empty, NULL);
	pthread_cond_init(&h->not_full, NULL);
	return h;
}

void
trib_handoff_free(trib_handoff *h)
{
	if (h == NULL)
		return;
	for (trib_handoff_item *e; (e = trib_chunkq_pop(&h->q)) != NULL;)
		h->free_item(e);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->not_empty);
	pthread_cond_destroy(&h->not_full);
	free(h);
}

/* Queue e at the tail, or fold it into the tail; with the mutex held. */
static void
append(trib_handoff *h, trib_handoff_item *e)
{
	if (h->q.tail && h->coalesce && h->coalesce(h->q.tail, e))
	{
		h->free_item(e);
		return;
	}
	trib_chunkq_push(&h->q, e);
}

bool
trib_handoff_push(trib_handoff *h, trib_handoff_item *e)
{
	pthread_mutex_lock(&h->mu);
	while (!h->stop && h->q.bytes > 0 && h->q.bytes + e->bytes > h->max_bytes)
		pthread_cond_wait(&h->not_full, &h->mu);
	if (h->stop)
	{
		pthread_mutex_unlock(&h->mu);
		h->free_item(e);
		return false;
	}
	h->pushed = true;
	append(h, e);
	pthread_cond_broadcast(&h->not_empty);
	pthread_mutex_unlock(&h->mu);
	return true;
}

void
trib_handoff_finish(trib_handoff *h, int code, const char *msg)
{
	pthread_mutex_lock(&h->mu);
	if (!h->done)
	{
		h->end_code = code;
		snprintf(h->end_msg, sizeof(h->end_msg), "%s", msg);
		h->done = true;
	}
	pthread_cond_broadcast(&h->not_empty);
	pthread_mutex_unlock(&h->mu);
}

void
trib_handoff_stop(trib_handoff *h)
{
	pthread_mutex_lock(&h->mu);
	h->stop = true;
	pthread_cond_broadcast(&h->not_full);
	pthread_mutex_unlock(&h->mu);
}

/* Wait on not_empty until ready(h), the end, or `until`; with the mutex
 * held. */
static void
wait_for(trib_handoff *h, bool (*ready) (const trib_handoff *h),
		 const struct timespec *until)
{
	while (!ready(h) && !h->done)
		if (pthread_cond_timedwait(&h->not_empty, &h->mu, until) == ETIMEDOUT)
			break;
}

/* The stream's end as pop and wait_first give it; with the mutex held. */
static int
ended(const trib_handoff *h, int *code, char *errbuf, size_t errlen)
{
	*code = h->end_code;
	trib_errf(errbuf, errlen, "%s", h->end_msg);
	return -1;
}

/* Is an entry queued? */
static bool
has_entry(const trib_handoff *h)
{
	return h->q.head != NULL;
}

/* Was anything ever pushed? */
static bool
was_pushed(const trib_handoff *h)
{
	return h->pushed;
}

int
trib_handoff_pop(trib_handoff *h, const struct timespec *until,
				 trib_handoff_item **out, int *code, char *errbuf, size_t errlen)
{
	trib_handoff_item *e;
	int			rc = 0;

	pthread_mutex_lock(&h->mu);
	wait_for(h, has_entry, until);
	e = trib_chunkq_pop(&h->q);
	if (e)
	{
		pthread_cond_broadcast(&h->not_full);
		*out = e;
		rc = 1;
	}
	else if (h->done)
		rc = ended(h, code, errbuf, errlen);
	pthread_mutex_unlock(&h->mu);
	return rc;
}

int
trib_handoff_wait_first(trib_handoff *h, const struct timespec *until,
						int *code, char *errbuf, size_t errlen)
{
	int			rc = 0;

	pthread_mutex_lock(&h->mu);
	wait_for(h, was_pushed, until);
	if (h->pushed)
		rc = 1;
	else if (h->done)
		rc = ended(h, code, errbuf, errlen);
	pthread_mutex_unlock(&h->mu);
	return rc;
}
