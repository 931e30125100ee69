/*
 * ckpt_writer.c: the checkpoint saved on a thread of its own
 * (ckpt_writer.h).
 *
 * The thread is a lib/asker.h worker.  The question is the position in
 * `req` (a copy), the answer ok or the message in `err`; the loop touches
 * them only while the asker is not busy.  The saved position is moved
 * from `req` to `done` when collected, so the caller's borrowed copy
 * stays valid until the next collection.  free() lets the worker save a
 * position offered first (TRIB_ASKER_FINISH).
 */
#include "ckpt_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asker.h"
#include "xalloc.h"

struct trib_ckpt_writer
{
	trib_asker *asker;
	trib_checkpoint *ck;
	bool		ok;				/* the last save's result */
	char		err[512];		/* its message when !ok */
	trib_position req;			/* being saved or just saved; owns opaque */
	trib_position done;			/* the last collected; owns opaque */
};

/* Save the request (on the worker). */
static void
save(void *arg)
{
	trib_ckpt_writer *w = arg;

	w->err[0] = '\0';
	w->ok = trib_checkpoint_save(w->ck, &w->req, w->err, sizeof(w->err));
}

/* Free the writer (the asker's destroy). */
static void
destroy(void *arg)
{
	trib_ckpt_writer *w = arg;

	free(w->req.opaque);
	free(w->done.opaque);
	free(w);
}

static const trib_asker_ops writer_ops = {save, destroy, NULL, NULL};

trib_ckpt_writer *
trib_ckpt_writer_new(trib_checkpoint *ck, char *errbuf, size_t errlen)
{
	trib_ckpt_writer *w = trib_xcalloc(1, sizeof(*w));
	int			rc;

	w->ck = ck;
	w->asker = trib_asker_new(&writer_ops, w, &rc);
	if (w->asker == NULL)
	{
		snprintf(errbuf, errlen, "checkpoint: cannot start the writer thread: %s",
				 strerror(rc));
		free(w);
		return NULL;
	}
	return w;
}

bool
trib_ckpt_writer_offer(trib_ckpt_writer *w, const trib_position *pos)
{
	if (trib_asker_poll(w->asker) != TRIB_ASKER_IDLE)
		return false;
	free(w->req.opaque);
	w->req = *pos;
	w->req.opaque = trib_xstrdup(pos->opaque);
	return trib_asker_ask(w->asker);
}

int
trib_ckpt_writer_done(trib_ckpt_writer *w, trib_position *saved,
					  char *errbuf, size_t errlen)
{
	if (!trib_asker_take(w->asker))
		return 0;
	if (!w->ok)
	{
		snprintf(errbuf, errlen, "%s", w->err);
		return -1;
	}
	free(w->done.opaque);
	w->done = w->req;
	w->req.opaque = NULL;
	*saved = w->done;
	return 1;
}

bool
trib_ckpt_writer_busy(trib_ckpt_writer *w)
{
	return trib_asker_poll(w->asker) != TRIB_ASKER_IDLE;
}

void
trib_ckpt_writer_wait(trib_ckpt_writer *w)
{
	trib_asker_wait(w->asker, -1);
}

void
trib_ckpt_writer_free(trib_ckpt_writer *w)
{
	if (w == NULL)
		return;
	trib_asker_free(w->asker, TRIB_ASKER_FINISH);	/* frees w */
}
