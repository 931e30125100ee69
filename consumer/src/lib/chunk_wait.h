/*
 * chunk_wait.h: the waits around a chunk queue (chunk_queue.h) that a
 * pool of worker threads fills and one thread takes from: the snapshot
 * engines' read queues (source/pg/snapshot.c,
 * source/mysql/mysql_snapshot_read.c, source/mongodb/mongo_snapshot.c).
 *
 * Design.  The queue, its mutex, condition variables, stop flag, running
 * count and error buffer stay the pool's (the engines lock them for
 * other things too); a trib_chunkwait only points at them, so that the
 * two waits every engine has are written once: a worker's put, which
 * waits while the queued chunks and its own would pass the bound (a
 * chunk alone on the queue is always taken, whatever its size), and the
 * taker's take, which waits up to a deadline for a chunk, the pool's
 * first error or the end of every worker.  Workers leave the pool
 * through worker_exit.h, which wakes the taker.  A pool with one
 * condition variable passes it as both room and ready.
 */
#ifndef TRIB_CHUNK_WAIT_H
#define TRIB_CHUNK_WAIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "chunk_queue.h"

/* What the waits use, all owned by the pool; read and written under mu. */
typedef struct trib_chunkwait
{
	pthread_mutex_t *mu;
	pthread_cond_t *room;		/* workers wait on it for room */
	pthread_cond_t *ready;		/* the taker waits on it for a chunk */
	trib_chunkq *q;
	size_t		bound;			/* bytes the queue may hold */
	const bool *stop;			/* true: workers give up their chunks */
	const int  *running;		/* workers not finished */
	const char *error;			/* the pool's first error, "" for none */
} trib_chunkwait;

/*
 * Queue a worker's chunk, waiting while the queue is not empty and would
 * hold more than bound bytes with it.  True when queued (ready woken);
 * false when *stop was set, and then the chunk stays the caller's to
 * free.
 */
bool		trib_chunkwait_put(const trib_chunkwait *w, trib_chunkq_link *c);

/*
 * Take the oldest chunk, waiting up to timeout_ms: 1 and *out (the
 * caller's; room woken), 0 when none came in time, 2 when every worker
 * finished and the queue is empty, -1 with the pool's error in errbuf
 * once a worker failed (before any chunk still queued).
 */
int			trib_chunkwait_take(const trib_chunkwait *w, int timeout_ms,
								trib_chunkq_link **out, char *errbuf, size_t errlen);

#endif							/* TRIB_CHUNK_WAIT_H */
