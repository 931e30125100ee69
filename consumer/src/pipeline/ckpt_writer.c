/*
 * ckpt_writer.c: the checkpoint saved on a thread of its own
 * (ckpt_writer.h).
 *
 * State, under one mutex: the request (a copied position) and whether it
 * is pending, the result of the last save (ok or its message) and whether
 * it is waiting to be collected, and a stop flag.  One condition variable
 * wakes the thread for a request or stop, and wait() for the end of a
 * save.  The saved position is moved from `req` to `done` when collected,
 * so the caller's borrowed copy stays valid until the next collection.
 */
#include "ckpt_writer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct trib_ckpt_writer
{
	trib_checkpoint *ck;
	pthread_t	thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool		stop;
	bool		pending;		/* req offered, not saved yet */
	bool		finished;		/* a result waits for done() */
	bool		ok;				/* that result */
	char		err[512];		/* its message when !ok */
	trib_position req;			/* being saved or just saved; owns opaque */
	trib_position done;			/* the last collected; owns opaque */
};

/* The thread: save each request, report it, until stopped. */
static void *
writer_main(void *arg)
{
	trib_ckpt_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;)
	{
		bool		ok;
		char		err[512] = "";

		while (!w->pending && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->pending)
			break;
		/* the request is not touched by anyone else while pending */
		pthread_mutex_unlock(&w->lock);
		ok = trib_checkpoint_save(w->ck, &w->req, err, sizeof(err));
		pthread_mutex_lock(&w->lock);
		w->ok = ok;
		snprintf(w->err, sizeof(w->err), "%s", err);
		w->pending = false;
		w->finished = true;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

trib_ckpt_writer *
trib_ckpt_writer_new(trib_checkpoint *ck, char *errbuf, size_t errlen)
{
	trib_ckpt_writer *w = trib_xcalloc(1, sizeof(*w));
	int			rc;

	w->ck = ck;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if ((rc = pthread_create(&w->thread, NULL, writer_main, w)) != 0)
	{
		snprintf(errbuf, errlen, "checkpoint: cannot start the writer thread: %s",
				 strerror(rc));
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	return w;
}

bool
trib_ckpt_writer_offer(trib_ckpt_writer *w, const trib_position *pos)
{
	bool		taken = false;

	pthread_mutex_lock(&w->lock);
	if (!w->pending && !w->finished)
	{
		free(w->req.opaque);
		w->req = *pos;
		w->req.opaque = trib_xstrdup(pos->opaque);
		w->pending = true;
		taken = true;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return taken;
}

int
trib_ckpt_writer_done(trib_ckpt_writer *w, trib_position *saved,
					  char *errbuf, size_t errlen)
{
	int			r = 0;

	pthread_mutex_lock(&w->lock);
	if (w->finished)
	{
		w->finished = false;
		if (w->ok)
		{
			free(w->done.opaque);
			w->done = w->req;
			w->req.opaque = NULL;
			*saved = w->done;
			r = 1;
		}
		else
		{
			snprintf(errbuf, errlen, "%s", w->err);
			r = -1;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return r;
}

bool
trib_ckpt_writer_busy(trib_ckpt_writer *w)
{
	bool		busy;

	pthread_mutex_lock(&w->lock);
	busy = w->pending || w->finished;
	pthread_mutex_unlock(&w->lock);
	return busy;
}

void
trib_ckpt_writer_wait(trib_ckpt_writer *w)
{
	pthread_mutex_lock(&w->lock);
	while (w->pending)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

void
trib_ckpt_writer_free(trib_ckpt_writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w->req.opaque);
	free(w->done.opaque);
	free(w);
}
