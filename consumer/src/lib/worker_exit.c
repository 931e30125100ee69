/*
 * worker_exit.c: a pool worker's last act (worker_exit.h): the first
 * error kept, the running count decremented, the waiters woken, all under
 * the pool's mutex.
 */
#include "worker_exit.h"

#include <stdio.h>

/* See worker_exit.h. */
void
trib_worker_exit(pthread_mutex_t *mu, pthread_cond_t *wake, int *running,
				 char *pool_err, size_t pool_errlen, const char *err)
{
	pthread_mutex_lock(mu);
	if (err && err[0] && !pool_err[0])
		snprintf(pool_err, pool_errlen, "%s", err);
	(*running)--;
	pthread_cond_broadcast(wake);
	pthread_mutex_unlock(mu);
}
