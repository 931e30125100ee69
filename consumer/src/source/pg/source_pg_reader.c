/*
 * source_pg_reader.c: the replication stream's CopyData messages, read by
 * the pipeline's loop itself while the stream is light and on a thread of
 * their own while it is heavy, so that the walsender keeps sending while
 * the loop parses, transforms and produces.
 *
 * Why a thread.  With the socket read on the loop's one thread, the socket
 * (about 200 kB on a Unix socket) filled whenever the loop was busy
 * producing, and the walsender then waited: in W1 it slept a third of the
 * run (docs/BENCHMARKS.md, W1).  The reader drains the socket into a
 * bounded queue (lib/handoff.h, READER_QUEUE_BYTES), so the walsender
 * waits only once the loop is that far behind.
 *
 * Why not always.  When the stream is light (W2: small transactions that
 * the loop keeps up with), the thread only adds a wake-up per message
 * batch (the reader wakes on the socket, pushes, signals the loop) where
 * the loop alone woke once from poll(): 16% more time in W2.
 *
 * Design: two modes, one reader of the connection at a time.
 *   - Direct (the start): the loop reads with PQgetCopyData(async) and
 *     waits in poll() on the socket, as before the thread existed; the
 *     thread is parked on a condition variable, not on the socket.
 *   - Thread: the thread takes what PQgetCopyData gives, in batches of up
 *     to BATCH_MAX messages (one queue entry per batch), and waits in
 *     poll() on the socket and a wake pipe without holding the connection.
 * A "turn" is what the loop reads directly between two moments libpq's
 * buffer holds no whole message (one socket read, 8 to 16 kB when data
 * waits).  HEAVY_TURNS full turns in a row that leave the socket more than
 * half full (HEAVY_PENDING_BYTES, FIONREAD) mean the walsender is about to
 * wait for the loop: the loop hands reading to the thread (under `mu`,
 * then a signal).  A stream of many small transactions that the loop
 * keeps up with (W2) never gets there.  When the thread finds the socket
 * idle for IDLE_MS, it parks and queues a marker after its last message;
 * the loop, on taking the marker, reads directly again.  The order of
 * messages is the socket's at every switch: a mode changes only between
 * two whole messages, and the one reader hands libpq's buffer to the other
 * through `mu` (or the queue's mutex, for the marker).
 *
 * Locking.  `mu` is held by the thread around its libpq calls and by the
 * loop around the standby status updates it sends (spg_reader_lock); in
 * direct mode the thread is parked, so the loop's reads need no lock.
 *
 * The end.  In thread mode, end of copy and a broken connection end the
 * queue with a code after every message read before; in direct mode the
 * loop sees them at once.  Either way the loop then frees the reader
 * (joining the thread) before it touches the connection again
 * (PQgetResult, PQfinish).
 *
 * Ownership.  A message handed out by spg_reader_next is the reader's
 * until the next call; the caller never frees it.
 */
#include "source_pg_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "errf.h"
#include "handoff.h"
#include "log.h"

/* Messages per queue entry at most. */
#define BATCH_MAX 256

/* What the queue may hold before the reader waits for the loop. */
#define READER_QUEUE_BYTES ((size_t) 8 << 20)

/*
 * A heavy stream: HEAVY_TURNS turns in a row that each read at least
 * FULL_TURN_BYTES (libpq's buffer was filled, not a trickle) and left at
 * least HEAVY_PENDING_BYTES in the socket (of about 200 kB before the
 * walsender waits).  Measured at the end of each turn read directly
 * (docs/BENCHMARKS.md, W1): W1 left 128 kB or more after 3,076 of 4,978
 * turns, W2 after none of 21,696 (at most 32 to 128 kB after 375).
 */
#define FULL_TURN_BYTES 8192
#define HEAVY_PENDING_BYTES ((size_t) 128 << 10)
#define HEAVY_TURNS 2

/* The thread parks after the socket was idle this long. */
#define IDLE_MS 10

/*
 * For tests only: with TRIBUTARY_TEST_PG_READER_SWITCH set in the
 * environment, every turn that read anything hands reading to the thread
 * and the thread parks after 1 ms without input, so that a short e2e
 * script crosses many switches (message order across them is what it
 * checks); the number of switches is logged when the reader is freed.
 * e2e 106 runs e2e 02 and 72 under it.
 */
#define TEST_SWITCH_ENV "TRIBUTARY_TEST_PG_READER_SWITCH"

/* Who reads the connection (under mu). */
typedef enum spg_mode
{
	MODE_DIRECT,				/* the loop; the thread parked */
	MODE_THREAD					/* the thread */
} spg_mode;

/* One queue entry: consecutive CopyData messages (PQgetCopyData's), or
 * the thread's marker that it parked (park, no message). */
typedef struct spg_batch
{
	trib_handoff_item item;		/* first: the queue's link */
	bool		park;
	int			n;
	char	   *buf[BATCH_MAX];
	int			len[BATCH_MAX];
} spg_batch;

struct spg_reader
{
	PGconn	   *conn;
	pthread_mutex_t mu;			/* held around the thread's use of conn */
	pthread_cond_t turn;		/* signalled when mode or stop changes */
	spg_mode	mode;			/* under mu */
	bool		stop;			/* under mu */
	pthread_t	thread;
	int			wake[2];		/* a pipe: written to stop the thread */
	trib_handoff *q;
	int			idle_ms;		/* IDLE_MS, or 1 under the test switch */
	bool		test_switch;	/* TEST_SWITCH_ENV was set */
	long		switches;		/* hand-overs to the thread (the loop's) */
	/* the loop's own */
	bool		direct;			/* it reads conn itself */
	size_t		turn_bytes;		/* read directly in this turn */
	int			heavy_turns;	/* heavy turns in a row */
	char	   *dbuf;			/* the message last read directly */
	spg_batch  *cur;			/* the batch being read */
	int			cur_i;			/* its next message */
	bool		ended;			/* the stream ended: end_code, end_msg */
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

/* The connection's error after what (newlines trimmed) into msg. */
static void
conn_error(PGconn *conn, const char *what, char *msg, size_t len)
{
	const char *e = PQerrorMessage(conn);
	size_t		n;

	snprintf(msg, len, "%s%s", what, e && *e ? e : "connection lost");
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
}

/* End the stream with code and the connection's error (under mu). */
static void
finish_conn_error(spg_reader *r, int code, const char *what)
{
	char		msg[512];

	conn_error(r->conn, what, msg, sizeof(msg));
	trib_handoff_finish(r->q, code, msg);
}

/* ---------------------------------------------------------------------- */
/* the thread */

/*
 * Wait until the socket can be read (then read what came into libpq's
 * buffer), is idle for IDLE_MS, or the reader is stopped: 1 to go on, 0
 * idle, -1 when the stream ended (the queue is finished) or the reader
 * was stopped.
 */
static int
wait_input(spg_reader *r)
{
	struct pollfd pfd[2];
	int			n;
	bool		ok;

	pfd[0].fd = PQsocket(r->conn);
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	pfd[1].fd = r->wake[0];
	pfd[1].events = POLLIN;
	pfd[1].revents = 0;
	n = poll(pfd, 2, r->idle_ms);
	if (n < 0 && errno != EINTR)
	{
		trib_handoff_finish(r->q, SPG_READ_ERROR, strerror(errno));
		return -1;
	}
	if (pfd[1].revents)
		return -1;
	if (n == 0)
		return 0;
	pthread_mutex_lock(&r->mu);
	ok = PQconsumeInput(r->conn) != 0;
	if (!ok)
		finish_conn_error(r, SPG_READ_ERROR, "");
	pthread_mutex_unlock(&r->mu);
	return ok ? 1 : -1;
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

/* Give the connection back to the loop: direct mode, then the marker
 * after the last message queued; false once stopped. */
static bool
park(spg_reader *r)
{
	spg_batch  *m = calloc(1, sizeof(spg_batch));

	if (m == NULL)
	{
		trib_handoff_finish(r->q, SPG_READ_ERROR, "out of memory");
		return false;
	}
	m->park = true;
	pthread_mutex_lock(&r->mu);
	r->mode = MODE_DIRECT;
	pthread_mutex_unlock(&r->mu);
	return trib_handoff_push(r->q, &m->item);
}

/* Wait until the loop hands reading over: false once stopped. */
static bool
await_turn(spg_reader *r)
{
	bool		go;

	pthread_mutex_lock(&r->mu);
	while (r->mode != MODE_THREAD && !r->stop)
		pthread_cond_wait(&r->turn, &r->mu);
	go = !r->stop;
	pthread_mutex_unlock(&r->mu);
	return go;
}

/* Read until the socket is idle (true: parked) or the stream ended or
 * the reader was stopped (false). */
static bool
read_until_idle(spg_reader *r)
{
	spg_batch  *b = NULL;
	int			rc;
	int			w = 1;

	for (;;)
	{
		rc = take_message(r, &b);
		if (rc > 0 && b->n < BATCH_MAX)
			continue;
		if (!push_batch(r, &b) || rc < 0)
			break;
		if (rc == 0 && (w = wait_input(r)) <= 0)
			break;
	}
	if (b)
		batch_free(&b->item);
	return rc == 0 && w == 0 && park(r);
}

/* The thread: read while the loop hands reading over, until the stream
 * ends or the reader is stopped. */
static void *
run(void *arg)
{
	spg_reader *r = arg;

	while (await_turn(r) && read_until_idle(r))
		;
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* the loop */

/* Free what spg_reader_start made, the thread stopped or never started. */
static void
release(spg_reader *r)
{
	trib_handoff_free(r->q);
	pthread_cond_destroy(&r->turn);
	pthread_mutex_destroy(&r->mu);
	close(r->wake[0]);
	close(r->wake[1]);
	free(r);
}

/* Public: start reading conn, streaming: directly, the thread parked. */
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
	r->test_switch = getenv(TEST_SWITCH_ENV) != NULL;
	r->idle_ms = r->test_switch ? 1 : IDLE_MS;
	r->mode = MODE_DIRECT;
	r->direct = true;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->turn, NULL);
	r->q = trib_handoff_new(READER_QUEUE_BYTES, batch_free, NULL);
	err = r->q ? pthread_create(&r->thread, NULL, run, r) : ENOMEM;
	if (err != 0)
	{
		trib_errf(errbuf, errlen, "starting the replication reader thread: %s",
				  strerror(err));
		release(r);
		return NULL;
	}
	return r;
}

/* The stream ended, seen by the loop: code and msg kept for the caller. */
static void
end_direct(spg_reader *r, int code, const char *msg)
{
	r->ended = true;
	r->end_code = code;
	snprintf(r->end_msg, sizeof(r->end_msg), "%s", msg);
}

/* Hand reading to the thread (the loop had it). */
static void
hand_over(spg_reader *r)
{
	pthread_mutex_lock(&r->mu);
	r->mode = MODE_THREAD;
	pthread_cond_signal(&r->turn);
	pthread_mutex_unlock(&r->mu);
	r->direct = false;
	r->switches++;
}

/* Bytes waiting in the socket's receive queue (0 when unknown). */
static size_t
socket_pending(PGconn *conn)
{
	int			q = 0;

	if (ioctl(PQsocket(conn), FIONREAD, &q) != 0 || q < 0)
		return 0;
	return (size_t) q;
}

/* A turn ended (libpq holds no whole message): hand over after
 * HEAVY_TURNS heavy ones in a row.  A turn that took nothing (a message
 * larger than one socket read, still coming) neither counts nor breaks
 * the row; a wait that timed out breaks it (wait_direct).  The socket is
 * asked only after a full turn: a system call per small one would cost
 * what the thread costs. */
static void
turn_ended(spg_reader *r)
{
	bool		heavy;

	if (r->turn_bytes == 0)
		return;
	heavy = r->test_switch || (r->turn_bytes >= FULL_TURN_BYTES &&
							   socket_pending(r->conn) >= HEAVY_PENDING_BYTES);
	r->heavy_turns = heavy ? r->heavy_turns + 1 : 0;
	r->turn_bytes = 0;
	if (r->heavy_turns >= (r->test_switch ? 1 : HEAVY_TURNS))
	{
		r->heavy_turns = 0;
		hand_over(r);
	}
}

/* The next message read directly: as spg_reader_next (never waits). */
static int
next_direct(spg_reader *r, const char **buf, int *len)
{
	char	   *b = NULL;
	int			n;
	char		msg[512];

	if (r->dbuf)
		PQfreemem(r->dbuf);
	r->dbuf = NULL;
	n = PQgetCopyData(r->conn, &b, 1);
	if (n > 0)
	{
		r->dbuf = b;
		r->turn_bytes += (size_t) n;
		*buf = b;
		*len = n;
		return 1;
	}
	if (n == 0)
	{
		turn_ended(r);
		return 0;
	}
	if (n == -1)
		end_direct(r, SPG_READ_END, "end of copy");
	else
	{
		conn_error(r->conn, "", msg, sizeof(msg));
		end_direct(r, SPG_READ_ERROR, msg);
	}
	return -1;
}

/* Make sure a batch with a message left is current, waiting up to
 * wait_ms: true when there is one.  The thread's marker puts the loop
 * back to direct reading (false then, r->direct set). */
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
	if (r->cur->park)
	{
		r->direct = true;
		r->turn_bytes = 0;
		r->heavy_turns = 0;
		return false;
	}
	return true;
}

/* Public: the next message. */
int
spg_reader_next(spg_reader *r, int wait_ms, const char **buf, int *len,
				int *code, char *errbuf, size_t errlen)
{
	int			rc = 0;

	if (!r->ended && !r->direct && fill(r, wait_ms))
	{
		*buf = r->cur->buf[r->cur_i];
		*len = r->cur->len[r->cur_i++];
		return 1;
	}
	if (!r->ended && r->direct)
		rc = next_direct(r, buf, len);
	if (!r->ended)
		return rc;
	*code = r->end_code;
	trib_errf(errbuf, errlen, "%s", r->end_msg);
	return -1;
}

/* Direct mode: wait up to wait_ms for the socket, then read what came
 * into libpq's buffer; true when there is something to take. */
static bool
wait_direct(spg_reader *r, int wait_ms, int wake_fd, bool *woken)
{
	struct pollfd pfd[2];
	int			n;
	char		msg[512];

	pfd[0].fd = PQsocket(r->conn);
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	pfd[1].fd = wake_fd;
	pfd[1].events = POLLIN;
	pfd[1].revents = 0;
	n = poll(pfd, wake_fd > 0 ? 2 : 1, wait_ms);
	if (n > 0 && pfd[1].revents != 0)
	{
		*woken = true;
		if (pfd[0].revents == 0)
		{
			r->heavy_turns = 0; /* as on a timeout: the socket was empty */
			return false;
		}
	}
	if (n == 0)
		r->heavy_turns = 0;		/* the server was slower than the loop */
	if (n < 0 && errno != EINTR)
		end_direct(r, SPG_READ_ERROR, strerror(errno));
	else if (n > 0 && !PQconsumeInput(r->conn))
	{
		conn_error(r->conn, "", msg, sizeof(msg));
		end_direct(r, SPG_READ_ERROR, msg);
	}
	return n > 0 || r->ended;
}

/* Public: wait up to wait_ms for a message or the end. */
bool
spg_reader_wait(spg_reader *r, int wait_ms, int wake_fd, bool *woken)
{
	*woken = false;
	if (r->ended)
		return true;
	if (!r->direct)
	{
		/* the thread's queue: wake_fd cannot be watched with it, so the
		 * wait is as short as the pipeline's own poll for acks */
		if (fill(r, wake_fd > 0 && wait_ms > 1 ? 1 : wait_ms) || r->ended)
			return true;
		if (!r->direct)
		{
			*woken = wake_fd > 0;
			return true;
		}
	}
	return wait_direct(r, wait_ms, wake_fd, woken);
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
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_signal(&r->turn);
	pthread_mutex_unlock(&r->mu);
	trib_handoff_stop(r->q);
	if (write(r->wake[1], &c, 1) < 0)
	{
		/* the pipe is empty and ours: a write cannot fail here */
	}
	pthread_join(r->thread, NULL);
	if (r->test_switch)
		tlog_info("source", "replication reader: %ld hand-overs to the thread (%s)",
				  r->switches, TEST_SWITCH_ENV);
	if (r->dbuf)
		PQfreemem(r->dbuf);
	if (r->cur)
		batch_free(&r->cur->item);
	release(r);
}
