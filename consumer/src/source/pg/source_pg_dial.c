/*
 * source_pg_dial.c: a PostgreSQL connection made on a thread of its own,
 * so that the loop never waits for a server that does not answer.
 *
 * Why a thread.  Connecting can take up to connect_timeout (10 s by
 * default) when the server is stalled: a stopped (SIGSTOP) postmaster
 * still lets the kernel accept the connection, and nothing answers the
 * start-up packet.  trib_pq_connect() (pgconn.h) is what turns the
 * server's refusal into a retryable or final error; it runs here
 * unchanged, on the dial's thread, with the same messages and rules as a
 * connection made on the loop.  libpq allows a connection to be made on
 * one thread and used on another, one at a time.
 *
 * State under one mutex: done (the thread ended: conn, or err), and
 * abandoned (the caller went away).  Whoever comes last frees: the caller
 * after joining a finished thread (spg_dial_take, spg_dial_abandon), the
 * thread itself when it finishes after spg_dial_abandon() detached it
 * (then the connection it made is closed unused).  So abandoning, as a
 * stop does, never waits for the server.
 */
#include "source_pg.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "errf.h"
#include "source_pg_int.h"
#include "xalloc.h"

struct spg_dial
{
	spg_params	params;			/* owned */
	pthread_t	thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool		done;
	bool		abandoned;
	PGconn	   *conn;			/* the result, or NULL with: */
	bool		final;
	char		err[512];
};

/* Free everything; the thread is gone or is the caller. */
static void
destroy(spg_dial *d)
{
	if (d->conn)
		PQfinish(d->conn);
	spg_params_free(&d->params);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

/* The thread: connect, then hand the result over (or free it all). */
static void *
run(void *arg)
{
	spg_dial   *d = arg;
	char		err[512] = "";
	bool		final = false;
	PGconn	   *conn = spg_params_connect(&d->params, &final, err, sizeof(err));
	bool		abandoned;

	pthread_mutex_lock(&d->mu);
	d->conn = conn;
	d->final = final;
	snprintf(d->err, sizeof(d->err), "%s", err);
	d->done = true;
	abandoned = d->abandoned;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	if (abandoned)
		destroy(d);
	return NULL;
}

/* Start connecting (the replication connection when replication); NULL
 * with errbuf when the dsn cannot be parsed or the thread not started. */
spg_dial *
spg_dial_start(trib_source_pg *src, bool replication, char *errbuf, size_t errlen)
{
	spg_dial   *d = trib_xcalloc(1, sizeof(*d));

	if (!spg_params_make(src, replication, &d->params, errbuf, errlen))
	{
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	if (pthread_create(&d->thread, NULL, run, d) != 0)
	{
		destroy(d);
		trib_errf(errbuf, errlen, "could not start a thread to connect");
		return NULL;
	}
	return d;
}

/* Wait up to timeout_ms (0: not at all) for the connection to be made
 * or to fail; true when it is. */
bool
spg_dial_wait(spg_dial *d, int timeout_ms)
{
	struct timespec until = trib_clock_deadline(timeout_ms > 0 ? timeout_ms : 0);
	bool		done;

	pthread_mutex_lock(&d->mu);
	while (!d->done && timeout_ms > 0)
		if (pthread_cond_timedwait(&d->cv, &d->mu, &until) != 0)
			break;
	done = d->done;
	pthread_mutex_unlock(&d->mu);
	return done;
}

/* The result of a dial that is done (spg_dial_wait), which is freed: the
 * connection, or NULL with errbuf and *final as spg_connect_db(). */
PGconn *
spg_dial_take(spg_dial *d, bool *final, char *errbuf, size_t errlen)
{
	PGconn	   *conn;

	pthread_join(d->thread, NULL);
	conn = d->conn;
	d->conn = NULL;
	*final = d->final;
	if (conn == NULL)
		trib_errf(errbuf, errlen, "%s", d->err);
	destroy(d);
	return conn;
}

/* Give up a dial (NULL: none) without waiting for it. */
void
spg_dial_abandon(spg_dial *d)
{
	pthread_t	thread;
	bool		done;

	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	d->abandoned = true;
	done = d->done;
	thread = d->thread;			/* d may be gone once unlocked */
	pthread_mutex_unlock(&d->mu);
	if (done)
	{
		pthread_join(thread, NULL);
		destroy(d);
	}
	else
		pthread_detach(thread); /* it frees d when it ends */
}
