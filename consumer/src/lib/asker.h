/*
 * asker.h: ask a worker thread one question at a time and take the
 * answer later, never blocking the thread that asks.
 *
 * Why.  The pipeline's loop serves every source of a pipeline, so it must
 * never wait for a server (e2e 99-103): a MySQL information_schema lookup
 * (source/mysql/mysql_lookup.c), SHOW BINARY LOGS for the lag gauge
 * (mysql_lag_probe.c), a PostgreSQL connect (source/pg/source_pg_dial.c)
 * and a checkpoint save (pipeline/ckpt_writer.c) each run on a thread of
 * their own, and this is the one state machine they share.
 *
 * States.  IDLE (nothing asked, or the last answer taken), BUSY (asked:
 * the worker has the question, or is answering it), READY (an answer is
 * in and waits to be taken).  ask() goes IDLE -> BUSY, the worker BUSY ->
 * READY, take() READY -> IDLE.  Only the asker leaves IDLE and READY, so a
 * state the asker read stays true until it acts on it.
 *
 * Ownership of the question and the answer.  Both live in the user's
 * context (ctx), which the asker never reads: it only says who may touch
 * them.  In IDLE and READY the asking thread owns them (writes the next
 * question, reads or moves the answer out); from ask() until the answer
 * is in, the worker's answer() owns them and the asking thread must not
 * touch them.  The state changes under the asker's mutex, which orders
 * the two threads' accesses.  ctx itself is freed by ops->destroy,
 * exactly once, after the worker has ended (or by the worker itself as it
 * ends, see free).
 *
 * Stopping.  trib_asker_free(a, how) always joins a worker that is not
 * answering, and:
 *   TRIB_ASKER_FINISH  answers a question asked first, even one the
 *                      worker has not started yet (a checkpoint offered
 *                      is saved);
 *   TRIB_ASKER_JOIN    waits for an answer() under way, drops a question
 *                      not started yet;
 *   TRIB_ASKER_DETACH  does not wait for an answer() under way: the
 *                      worker is detached and destroys ctx and the asker
 *                      itself once answer() returns (ctx must then own
 *                      everything answer() uses); drops a question not
 *                      started yet.
 */
#ifndef TRIB_ASKER_H
#define TRIB_ASKER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct trib_asker trib_asker;

typedef struct trib_asker_ops
{
	/* Answer the question in ctx, writing the answer in ctx: on the
	 * worker, the asker's mutex not held. */
	void		(*answer) (void *ctx);
	/* Free ctx and whatever question or answer it still holds. */
	void		(*destroy) (void *ctx);
	/* Optional: first and last thing the worker runs (a client
	 * library's per-thread set-up, mysql_thread_init/end).  thread_end
	 * runs after destroy when the worker destroys ctx itself. */
	void		(*thread_start) (void);
	void		(*thread_end) (void);
} trib_asker_ops;

typedef enum trib_asker_state
{
	TRIB_ASKER_IDLE,
	TRIB_ASKER_BUSY,
	TRIB_ASKER_READY,
} trib_asker_state;

/* A worker for ctx (ops borrowed: static), started IDLE; NULL with *rc,
 * pthread_create's error number, when it cannot start (ctx is then still
 * the caller's, not destroyed). */
trib_asker *trib_asker_new(const trib_asker_ops *ops, void *ctx, int *rc);

/* trib_asker_new for a ctx that ops->destroy frees: true with the worker
 * in *out; when it cannot start, false, ctx destroyed (*out not
 * touched: it may lie in ctx) and errbuf saying "could not start <what>"
 * (what: "the table lookup thread"). */
bool		trib_asker_start(const trib_asker_ops *ops, void *ctx, trib_asker **out,
							 const char *what, char *errbuf, size_t errlen);

/* Hand the question now in ctx to the worker: true when IDLE (then BUSY),
 * false (nothing done) otherwise. */
bool		trib_asker_ask(trib_asker *a);

/* The state now, without waiting. */
trib_asker_state trib_asker_poll(trib_asker *a);

/* READY -> IDLE: true once per answer (the caller still owns ctx, and
 * reads or moves the answer out of it), false when there was none. */
bool		trib_asker_take(trib_asker *a);

/* Wait up to timeout_ms (0: not at all, < 0: as long as it takes) while
 * BUSY; true when not BUSY any more (an answer is in, or none was asked). */
bool		trib_asker_wait(trib_asker *a, int timeout_ms);

typedef enum trib_asker_stop
{
	TRIB_ASKER_FINISH,
	TRIB_ASKER_JOIN,
	TRIB_ASKER_DETACH,
} trib_asker_stop;

/* Stop the worker and free the asker and ctx (see Stopping); NULL: none. */
void		trib_asker_free(trib_asker *a, trib_asker_stop how);

#endif							/* TRIB_ASKER_H */
