/*
 * source_pg_reader.h: the replication stream read by the loop while it is
 * light and on a thread of its own while it is heavy (source_pg_reader.c's
 * top comment); private to source/pg/.
 *
 * The loop starts a reader once the connection streams, takes messages
 * with spg_reader_next in the server's order (whichever thread read
 * them), waits with spg_reader_wait, sends on the connection only between
 * spg_reader_lock and spg_reader_unlock, and frees the reader (which
 * joins its thread) before it uses the connection for anything else or
 * closes it.
 */
#ifndef TRIB_SOURCE_PG_READER_H
#define TRIB_SOURCE_PG_READER_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

/* How the stream ended (spg_reader_next's *code). */
#define SPG_READ_END 1			/* end of copy: PQgetResult is next */
#define SPG_READ_ERROR 2		/* the connection broke (errbuf says how) */

typedef struct spg_reader spg_reader;

/* Start reading conn (in CopyBoth), the loop reading first; NULL and
 * errbuf when the thread could not start. */
spg_reader *spg_reader_start(PGconn *conn, char *errbuf, size_t errlen);

/*
 * The next CopyData message, waiting up to wait_ms (0: none): 1 with *buf
 * and *len (the reader's, valid until the next call), 0 when none came,
 * -1 once the stream ended and every message before was taken: *code
 * (SPG_READ_END or SPG_READ_ERROR) and errbuf.
 */
int			spg_reader_next(spg_reader *r, int wait_ms, const char **buf, int *len,
							int *code, char *errbuf, size_t errlen);

/* Wait up to wait_ms until spg_reader_next has something to give (a
 * message or the end); true when it has.  wake_fd (> 0) ends the wait
 * early, *woken set: watched in direct mode, and in thread mode the wait
 * lasts 1 ms at most instead. */
bool		spg_reader_wait(spg_reader *r, int wait_ms, int wake_fd, bool *woken);

/* Hold the connection for the caller's own use (a status update). */
void		spg_reader_lock(spg_reader *r);
void		spg_reader_unlock(spg_reader *r);

/* Stop and join the thread and free what it read; NULL is a no-op. */
void		spg_reader_free(spg_reader *r);

#endif							/* TRIB_SOURCE_PG_READER_H */
