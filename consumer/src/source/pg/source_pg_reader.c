/*
 * source_pg_reader.c: the replication stream's CopyData messages read on a
 * thread of their own, so that the walsender keeps sending while the
 * pipeline's loop parses, transforms and produces.
 *
 * Why.  With the socket read on the loop's one thread, the socket (about
 * 200 kB on a Unix socket) filled whenever the loop was busy producing,
 * and the walsender then waited: in W1 it slept a third of the run
 * (docs/BENCHMARKS.md, W1).  The reader drains the socket into a bounded
 * queue (lib/handoff.h, READER_QUEUE_BYTES), so the walsender waits only
 * once the loop is that far behind.
 *
 * Design.  The thread takes what PQgetCopyData(async) gives, in batches
 * of up to BATCH_MAX messages (one queue entry per batch, not per
 * message), and waits in poll() on the socket and on a wake pipe without
 * holding the connection.  libpq's connection is used from one thread at
 * a time: the reader holds `mu` around its PQgetCopyData and
 * PQconsumeInput calls, and the loop takes it (spg_reader_lock) around the
 * standby status updates it sends.  Parsing stays on the loop: the order
 * of messages is the queue's, which is the socket's.
 *
 * The end.  End of copy (the server ended the stream) and a broken
 * connection end the queue with a code after every message read before;
 * the loop then frees the reader (joining the thread) before it touches
 * the connection again (PQgetResult, PQfinish).
 *
 * Ownership.  A message handed out by spg_reader_next is the reader's
 * until the next call; the caller never frees it.
 */
#include "source_pg_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "errf.h"
#include "handoff.h"

/* Messages per queue entry at most. */
#define BATCH_MAX 256

/* What the queue may hold before the reader waits for the loop. */
#define READER_QUEUE_BYTES ((size_t) 8 << 20)

/* One queue entry: consecutive CopyData messages (PQgetCopyData's). */
typedef struct spg_batch
{
	trib_handoff_item item;		/* first: the queue's link */
	int			n;
	char	   *buf[BATCH_MAX];
	int			len[BATCH_MAX];
} spg_batch;

struct spg_reader
{
	PGconn	   *conn;
	pthread_mutex_t mu;			/* held around every use of conn */
	pthread_t	thread;
	int			wake[2];		/* a pipe: written to stop the thread */
	trib_handoff *q;
	spg_batch  *cur;			/* the loop's: the batch being read */
	int			cur_i;			/* its next message */
	bool		ended;			/* the queue ended: end_code, end_msg */
	int			end_code;
	char		end_msg[512];
};

/* Free a batch and its messages. */
static void
batch_free(trib_handoff_item *e)
{
	spg_batch  *b = (spg_batch *) e;
	int			i;

	for (i = 0; i < b->n; i++)
		PQfreemem(b->buf[i]);
	free(b);
}

/* Queue the batch *bp when it holds something; false once stopped. */
static bool
push_batch(spg_reader *r, spg_batch **bp)
{
	spg_batch  *b = *bp;

	if (b == NULL || b->n == 0)
		return true;
	*bp = NULL;
	return trib_handoff_push(r->q, &b->item);
}

/* End the stream with code and the connection's error (under mu). */
static void
finish_conn_error(spg_reader *r, int code, const char *what)
{
	char		msg[512];
	const char *e = PQerrorMessage(r->conn);
	size_t		n;

	snprintf(msg, sizeof(msg), "%s%s", what, e && *e ? e : "connection lost");
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	trib_handoff_finish(r->q, code, msg);
}

/*
 * Wait until the socket can be read or the reader is stopped, then read
 * what came into libpq's buffer: true to go on, false when the stream
 * ended (the queue is finished) or the reader was stopped.
 */
static bool
wait_input(spg_reader *r)
{
	struct pollfd pfd[2];
	bool		ok;

	pfd[0].fd = PQsocket(r->conn);
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	pfd[1].fd = r->wake[0];
	pfd[1].events = POLLIN;
	pfd[1].revents = 0;
	if (poll(pfd, 2, -1) < 0 && errno != EINTR)
	{
		trib_handoff_finish(r->q, SPG_READ_ERROR, strerror(errno));
		return false;
	}
	if (pfd[1].revents)
		return false;
	pthread_mutex_lock(&r->mu);
	ok = PQconsumeInput(r->conn) != 0;
	if (!ok)
		finish_conn_error(r, SPG_READ_ERROR, "");
	pthread_mutex_unlock(&r->mu);
	return ok;
}

/* Take one message into *bp (allocated as needed): 1 taken, 0 none
 * buffered, -1 the stream ended (the queue is finished). */
static int
take_message(spg_reader *r, spg_batch **bp)
{
	char	   *buf = NULL;
	int			len;

	pthread_mutex_lock(&r->mu);
	len = PQgetCopyData(r->conn, &buf, 1);
	if (len == -1)
		trib_handoff_finish(r->q, SPG_READ_END, "end of copy");
	else if (len < -1)
		finish_conn_error(r, SPG_READ_ERROR, "");
	pthread_mutex_unlock(&r->mu);
	if (len <= 0)
		return len == 0 ? 0 : -1;
	if (*bp == NULL)
	{
		*bp = calloc(1, sizeof(spg_batch));
		if (*bp == NULL)
		{
			PQfreemem(buf);
			trib_handoff_finish(r->q, SPG_READ_ERROR, "out of memory");
			return -1;
		}
	}
	(*bp)->buf[(*bp)->n] = buf;
	(*bp)->len[(*bp)->n++] = len;
	(*bp)->item.bytes += (size_t) len + sizeof(char *);
	return 1;
}

/* The thread: read until the stream ends or the reader is stopped. */
static void *
run(void *arg)
{
	spg_reader *r = arg;
	spg_batch  *b = NULL;

	for (;;)
	{
		int			rc = take_message(r, &b);

		if (rc > 0 && b->n < BATCH_MAX)
			continue;
		if (!push_batch(r, &b) || rc < 0)
			break;
		if (rc == 0 && !wait_input(r))
			break;
	}
	if (b)
		batch_free(&b->item);
	return NULL;
}

/* Public: start reading conn, streaming, on a thread. */
spg_reader *
spg_reader_start(PGconn *conn, char *errbuf, size_t errlen)
{
	spg_reader *r = calloc(1, sizeof(*r));
	int			err;

	if (r == NULL)
	{
		trib_errf(errbuf, errlen, "out of memory");
		return NULL;
	}
	if (pipe2(r->wake, O_CLOEXEC) != 0)
	{
		trib_errf(errbuf, errlen, "replication reader: pipe: %s", strerror(errno));
		free(r);
		return NULL;
	}
	r->conn = conn;
	pthread_mutex_init(&r->mu, NULL);
	r->q = trib_handoff_new(READER_QUEUE_BYTES, batch_free, NULL);
	err = r->q ? pthread_create(&r->thread, NULL, run, r) : ENOMEM;
	if (err != 0)
	{
		trib_errf(errbuf, errlen, "starting the replication reader thread: %s",
				  strerror(err));
		trib_handoff_free(r->q);
		pthread_mutex_destroy(&r->mu);
		close(r->wake[0]);
		close(r->wake[1]);
		free(r);
		return NULL;
	}
	return r;
}

/* Make sure a batch with a message left is current, waiting up to
 * wait_ms: true when there is one. */
static bool
fill(spg_reader *r, int wait_ms)
{
	struct timespec until;
	trib_handoff_item *item = NULL;
	int			rc;

	if (r->cur && r->cur_i < r->cur->n)
		return true;
	if (r->cur)
		batch_free(&r->cur->item);
	r->cur = NULL;
	r->cur_i = 0;
	if (r->ended)
		return false;
	until = trib_clock_deadline(wait_ms > 0 ? wait_ms : 0);
	rc = trib_handoff_pop(r->q, &until, &item, &r->end_code,
						  r->end_msg, sizeof(r->end_msg));
	if (rc < 0)
		r->ended = true;
	if (rc <= 0)
		return false;
	r->cur = (spg_batch *) item;
	return true;
}

/* Public: the next message. */
int
spg_reader_next(spg_reader *r, int wait_ms, const char **buf, int *len,
				int *code, char *errbuf, size_t errlen)
{
	if (!fill(r, wait_ms))
	{
		if (!r->ended)
			return 0;
		*code = r->end_code;
		trib_errf(errbuf, errlen, "%s", r->end_msg);
		return -1;
	}
	*buf = r->cur->buf[r->cur_i];
	*len = r->cur->len[r->cur_i++];
	return 1;
}

/* Public: wait up to wait_ms for a message or the end. */
bool
spg_reader_wait(spg_reader *r, int wait_ms)
{
	return fill(r, wait_ms) || r->ended;
}

/* Public: the connection is the caller's until spg_reader_unlock. */
void
spg_reader_lock(spg_reader *r)
{
	pthread_mutex_lock(&r->mu);
}

void
spg_reader_unlock(spg_reader *r)
{
	pthread_mutex_unlock(&r->mu);
}

/* Public: stop the thread, join it, free what it read. */
void
spg_reader_free(spg_reader *r)
{
	char		c = 1;

	if (r == NULL)
		return;
	trib_handoff_stop(r->q);
	if (write(r->wake[1], &c, 1) < 0)
	{
		/* the pipe is empty and ours: a write cannot fail here */
	}
	pthread_join(r->thread, NULL);
	if (r->cur)
		batch_free(&r->cur->item);
	trib_handoff_free(r->q);
	pthread_mutex_destroy(&r->mu);
	close(r->wake[0]);
	close(r->wake[1]);
	free(r);
}
