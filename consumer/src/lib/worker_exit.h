/*
 * worker_exit.h: the last act of a worker thread in a pool whose owner
 * waits for results on one condition variable and learns that every
 * worker is done from a count (the snapshot engines' readers:
 * source/pg/snapshot.c, source/mysql/mysql_snapshot_read.c,
 * source/mongodb/mongo_snapshot.c).
 *
 * Design.  Under the pool's mutex, the worker's error (if any) becomes
 * the pool's unless an earlier one is there (the first error wins), the
 * running count drops by one, and every waiter wakes, so that a consumer
 * waiting for a chunk sees the pool end.  The mutex, condition variable,
 * count and error buffer stay the caller's.
 */
#ifndef TRIB_WORKER_EXIT_H
#define TRIB_WORKER_EXIT_H

#include <pthread.h>
#include <stddef.h>

/*
 * Under mu: keep err (NULL or "": none) in pool_err[0..pool_errlen) when
 * that is empty, decrement *running, broadcast wake.
 */
void		trib_worker_exit(pthread_mutex_t *mu, pthread_cond_t *wake, int *running,
							 char *pool_err, size_t pool_errlen, const char *err);

#endif							/* TRIB_WORKER_EXIT_H */
