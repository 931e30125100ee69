/*
 * chunk_wait.c: a worker's put and the taker's take on a pool's chunk
 * queue (chunk_wait.h), under the pool's mutex.
 */
#include "chunk_wait.h"

#include <time.h>

#include "clock.h"
#include "errf.h"

/* See chunk_wait.h. */
bool
trib_chunkwait_put(const trib_chunkwait *w, trib_chunkq_link *c)
{
	bool		ok;

	pthread_mutex_lock(w->mu);
	while (!*w->stop && w->q->head && w->q->bytes + c->bytes > w->bound)
		pthread_cond_wait(w->room, w->mu);
	ok = !*w->stop;
	if (ok)
	{
		trib_chunkq_push(w->q, c);
		pthread_cond_broadcast(w->ready);
	}
	pthread_mutex_unlock(w->mu);
	return ok;
}

/* See chunk_wait.h. */
int
trib_chunkwait_take(const trib_chunkwait *w, int timeout_ms, trib_chunkq_link **out,
					char *errbuf, size_t errlen)
{
	struct timespec until = trib_clock_deadline(timeout_ms);
	int			rc = 0;

	*out = NULL;
	pthread_mutex_lock(w->mu);
	while (!w->q->head && !w->error[0] && *w->running > 0)
		if (pthread_cond_timedwait(w->ready, w->mu, &until) != 0)
			break;
	if (w->error[0])
		rc = (trib_errf(errbuf, errlen, "%s", w->error), -1);
	else if (w->q->head)
	{
		*out = trib_chunkq_pop(w->q);
		pthread_cond_broadcast(w->room);
		rc = 1;
	}
	else if (*w->running == 0)
		rc = 2;
	pthread_mutex_unlock(w->mu);
	return rc;
}
