/*
 * asker.c: one question at a time to a worker thread (asker.h).
 *
 * Four flags under one mutex: asked (a question waits for the worker),
 * busy (the worker is answering, the mutex released), ready (an answer
 * waits to be taken), stop; BUSY in asker.h is asked or busy.  One
 * condition variable, always broadcast: it wakes the worker for a
 * question or a stop, and wait() for an answer.  free() records how it
 * stops (finish: answer a question still asked; detached: the worker
 * found busy frees everything when its answer is in), then joins the
 * worker, or detaches it and never touches the asker again.
 */
#include "asker.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "errf.h"
#include "xalloc.h"

struct trib_asker
{
	const trib_asker_ops *ops;
	void	   *ctx;
	pthread_t	thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool		asked;
	bool		busy;
	bool		ready;
	bool		stop;
	bool		finish;			/* stop answers a question still asked */
	bool		detached;		/* the worker frees everything */
};

/* Free ctx and the asker; the worker is gone or is the caller. */
static void
destroy(trib_asker *a)
{
	a->ops->destroy(a->ctx);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

/* Answer the question asked (a->mu held on entry and on return). */
static void
answer(trib_asker *a)
{
	a->asked = false;
	a->busy = true;
	pthread_mutex_unlock(&a->mu);
	a->ops->answer(a->ctx);
	pthread_mutex_lock(&a->mu);
	a->busy = false;
	a->ready = true;
	pthread_cond_broadcast(&a->cv);
}

/* The worker: answer each question until stopped. */
static void *
run(void *arg)
{
	trib_asker *a = arg;
	const trib_asker_ops *ops = a->ops;
	bool		detached = false;

	if (ops->thread_start)
		ops->thread_start();
	pthread_mutex_lock(&a->mu);
	for (;;)
	{
		while (!a->asked && !a->stop)
			pthread_cond_wait(&a->cv, &a->mu);
		if (a->stop && !(a->asked && a->finish))
			break;
		answer(a);
		if (a->detached)
		{
			detached = true;	/* free() found us busy */
			break;
		}
	}
	pthread_mutex_unlock(&a->mu);
	if (detached)
		destroy(a);
	if (ops->thread_end)
		ops->thread_end();
	return NULL;
}

/* See asker.h. */
trib_asker *
trib_asker_new(const trib_asker_ops *ops, void *ctx, int *rc)
{
	trib_asker *a = trib_xcalloc(1, sizeof(*a));

	a->ops = ops;
	a->ctx = ctx;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	if ((*rc = pthread_create(&a->thread, NULL, run, a)) != 0)
	{
		pthread_cond_destroy(&a->cv);
		pthread_mutex_destroy(&a->mu);
		free(a);
		return NULL;
	}
	return a;
}

/* See asker.h. */
bool
trib_asker_start(const trib_asker_ops *ops, void *ctx, trib_asker **out, const char *what,
				 char *errbuf, size_t errlen)
{
	int			rc;
	trib_asker *a = trib_asker_new(ops, ctx, &rc);

	if (a == NULL)
	{
		ops->destroy(ctx);
		return trib_errf(errbuf, errlen, "could not start %s", what);
	}
	*out = a;
	return true;
}

/* See asker.h. */
bool
trib_asker_ask(trib_asker *a)
{
	bool		idle;

	pthread_mutex_lock(&a->mu);
	idle = !a->asked && !a->busy && !a->ready;
	if (idle)
	{
		a->asked = true;
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	return idle;
}

/* The state now; READY becomes IDLE when take. */
static trib_asker_state
state(trib_asker *a, bool take)
{
	trib_asker_state st;

	pthread_mutex_lock(&a->mu);
	st = a->ready ? TRIB_ASKER_READY
		: (a->asked || a->busy) ? TRIB_ASKER_BUSY : TRIB_ASKER_IDLE;
	if (take)
		a->ready = false;
	pthread_mutex_unlock(&a->mu);
	return st;
}

/* See asker.h. */
trib_asker_state
trib_asker_poll(trib_asker *a)
{
	return state(a, false);
}

/* See asker.h. */
bool
trib_asker_take(trib_asker *a)
{
	return state(a, true) == TRIB_ASKER_READY;
}

/* See asker.h. */
bool
trib_asker_wait(trib_asker *a, int timeout_ms)
{
	struct timespec until = trib_clock_deadline(timeout_ms > 0 ? timeout_ms : 0);
	bool		in_flight;

	pthread_mutex_lock(&a->mu);
	while ((a->asked || a->busy) && timeout_ms != 0)
	{
		if (timeout_ms < 0)
			pthread_cond_wait(&a->cv, &a->mu);
		else if (pthread_cond_timedwait(&a->cv, &a->mu, &until) != 0)
			break;
	}
	in_flight = a->asked || a->busy;
	pthread_mutex_unlock(&a->mu);
	return !in_flight;
}

/* See asker.h. */
void
trib_asker_free(trib_asker *a, trib_asker_stop how)
{
	pthread_t	thread;
	bool		detach;

	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	a->finish = how == TRIB_ASKER_FINISH;
	detach = how == TRIB_ASKER_DETACH && a->busy;
	a->detached = detach;
	thread = a->thread;			/* a may be gone once unlocked */
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	if (detach)
	{
		pthread_detach(thread); /* it frees a when its answer is in */
		return;
	}
	pthread_join(thread, NULL);
	destroy(a);
}
