/*
 * mysql_lag_probe.c: SHOW BINARY LOGS on a thread of its own
 * (mysql_lag_probe.h).
 *
 * State under one mutex: asked (a question waits for the thread), busy
 * (the thread is answering), ready (an answer waits to be taken: rows, or
 * an error text), stop.  The thread sleeps on a condition variable until
 * asked or stopped; each question is a new connection with short
 * timeouts, closed after the answer, as the synchronous query before it
 * was (one every few seconds at most).
 */
#include "mysql_lag_probe.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mysql_int.h"
#include "xalloc.h"

/* A stalled server costs the probe's thread this long at most, and a
 * stop waits for it at most this long too. */
#define PROBE_TIMEOUT_S 3

struct trib_my_lag_probe
{
	trib_my_conn_conf conf;		/* strings borrowed */
	pthread_t	thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool		asked;
	bool		busy;
	bool		ready;
	bool		stop;
	bool		ok;				/* the ready answer: rows, or err */
	trib_my_rows rows;
	char		err[512];
};

/* The thread: answer each question until stopped. */
static void *
run(void *arg)
{
	trib_my_lag_probe *p = arg;

	mysql_thread_init();
	pthread_mutex_lock(&p->mu);
	for (;;)
	{
		trib_my_rows r;
		char		err[512] = "";
		bool		ok;

		while (!p->asked && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop)
			break;
		p->asked = false;
		p->busy = true;
		pthread_mutex_unlock(&p->mu);
		ok = trib_my_rows_once(&p->conf, "SHOW BINARY LOGS", &r, NULL, err, sizeof(err));
		pthread_mutex_lock(&p->mu);
		p->busy = false;
		p->ready = true;
		p->ok = ok;
		p->rows = r;
		snprintf(p->err, sizeof(p->err), "%s", err);
	}
	pthread_mutex_unlock(&p->mu);
	mysql_thread_end();
	return NULL;
}

/* See mysql_lag_probe.h. */
trib_my_lag_probe *
trib_my_lag_probe_new(const trib_my_conn_conf *conf, char *errbuf, size_t errlen)
{
	trib_my_lag_probe *p = trib_xcalloc(1, sizeof(*p));

	p->conf = *conf;
	p->conf.connect_timeout_s = PROBE_TIMEOUT_S;
	p->conf.read_timeout_s = PROBE_TIMEOUT_S;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (pthread_create(&p->thread, NULL, run, p) != 0)
	{
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		free(p);
		trib_my_fail(errbuf, errlen, "could not start the binlog lag probe's thread");
		return NULL;
	}
	return p;
}

/* See mysql_lag_probe.h. */
void
trib_my_lag_probe_free(trib_my_lag_probe *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	if (p->ready && p->ok)
		trib_my_rows_free(&p->rows);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* See mysql_lag_probe.h. */
void
trib_my_lag_probe_ask(trib_my_lag_probe *p)
{
	pthread_mutex_lock(&p->mu);
	if (!p->asked && !p->busy && !p->ready)
	{
		p->asked = true;
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
}

/* See mysql_lag_probe.h. */
int
trib_my_lag_probe_take(trib_my_lag_probe *p, trib_my_rows *out, char *errbuf, size_t errlen)
{
	int			rc = 0;

	pthread_mutex_lock(&p->mu);
	if (p->ready)
	{
		p->ready = false;
		if (p->ok)
		{
			*out = p->rows;
			memset(&p->rows, 0, sizeof(p->rows));
			rc = 1;
		}
		else
		{
			snprintf(errbuf, errlen, "%s", p->err);
			rc = -1;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}
