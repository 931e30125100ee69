/*
 * mysql_lookup.c: information_schema lookups on a thread (mysql_lookup.h).
 *
 * State under one mutex: asked (a question waits for the thread), busy
 * (the thread is answering), ready (an answer waits to be taken), stop.
 * The question is (db, table) and the generation it was asked in; forget()
 * starts a new generation, whose loads do not take a failed answer of an
 * older one.  The thread sleeps on a condition variable until asked or
 * stopped, and broadcasts on the same variable when an answer is in.
 * Whoever sees stop with the thread idle frees: free() (after joining)
 * when the thread was waiting, the thread itself when free() found it
 * busy and detached it.
 */
#include "mysql_lookup.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "mysql_infoschema.h"
#include "mysql_int.h"
#include "xalloc.h"

struct trib_my_lookup
{
	trib_my_infoschema *is;		/* the thread's */
	pthread_t	thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool		asked;
	bool		busy;
	bool		ready;
	bool		stop;
	unsigned	gen;			/* forget() count */
	char	   *db;				/* the question */
	char	   *table;
	unsigned	qgen;			/* its generation */
	bool		ok;				/* the answer */
	trib_my_tableinfo *info;
	unsigned	errnum;
	char		err[512];
};

/* Drop the answer waiting to be taken. */
static void
drop_answer(trib_my_lookup *l)
{
	trib_my_tableinfo_free(l->info);
	l->info = NULL;
	l->ready = false;
}

/* Free everything; the thread is gone or is the caller. */
static void
destroy(trib_my_lookup *l)
{
	drop_answer(l);
	trib_my_infoschema_free(l->is);
	free(l->db);
	free(l->table);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

/* Answer the question asked (l->mu held on entry and on return). */
static void
answer(trib_my_lookup *l)
{
	char	   *db = trib_xstrdup(l->db);
	char	   *table = trib_xstrdup(l->table);
	trib_my_tableinfo *info = NULL;
	unsigned	errnum = 0;
	char		err[512] = "";
	bool		ok;

	l->asked = false;
	l->busy = true;
	pthread_mutex_unlock(&l->mu);
	ok = trib_my_infoschema_load(l->is, db, table, &info, &errnum, err, sizeof(err));
	free(db);
	free(table);
	pthread_mutex_lock(&l->mu);
	l->busy = false;
	l->ready = true;
	l->ok = ok;
	l->info = info;
	l->errnum = errnum;
	snprintf(l->err, sizeof(l->err), "%s", err);
	pthread_cond_broadcast(&l->cv);
}

/* The thread: answer each question until stopped. */
static void *
run(void *arg)
{
	trib_my_lookup *l = arg;
	bool		detached = false;

	mysql_thread_init();
	pthread_mutex_lock(&l->mu);
	for (;;)
	{
		while (!l->asked && !l->stop)
			pthread_cond_wait(&l->cv, &l->mu);
		if (l->stop)
			break;
		answer(l);
		if (l->stop)
		{
			detached = true;	/* free() found us busy */
			break;
		}
	}
	pthread_mutex_unlock(&l->mu);
	if (detached)
		destroy(l);
	mysql_thread_end();
	return NULL;
}

/* See mysql_lookup.h. */
trib_my_lookup *
trib_my_lookup_new(const trib_my_conn_conf *conf, char *errbuf, size_t errlen)
{
	trib_my_lookup *l = trib_xcalloc(1, sizeof(*l));

	l->is = trib_my_infoschema_new(conf);
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	if (pthread_create(&l->thread, NULL, run, l) != 0)
	{
		destroy(l);
		trib_my_fail(errbuf, errlen, "could not start the table lookup thread");
		return NULL;
	}
	return l;
}

/* See mysql_lookup.h. */
void
trib_my_lookup_free(trib_my_lookup *l)
{
	bool		busy;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = true;
	busy = l->busy;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	if (busy)
	{
		pthread_detach(l->thread);	/* it frees l when its query ends */
		return;
	}
	pthread_join(l->thread, NULL);
	destroy(l);
}

/* Is the question (or answer) in l about db.table? */
static bool
same_question(const trib_my_lookup *l, const char *db, const char *table)
{
	return l->db && strcmp(l->db, db) == 0 && strcmp(l->table, table) == 0;
}

/* Hand the answer in l over to the caller (l->mu held). */
static bool
take(trib_my_lookup *l, trib_my_tableinfo **out, unsigned *errnum,
	 char *errbuf, size_t errlen)
{
	bool		ok = l->ok;

	*out = l->info;
	l->info = NULL;
	l->ready = false;
	*errnum = l->errnum;
	if (!ok)
		trib_my_fail(errbuf, errlen, "%s", l->err);
	return ok;
}

/* See mysql_lookup.h. */
bool
trib_my_lookup_load(void *arg, const char *db, const char *table,
					trib_my_tableinfo **out, unsigned *errnum,
					char *errbuf, size_t errlen)
{
	trib_my_lookup *l = arg;

	*out = NULL;
	*errnum = 0;
	pthread_mutex_lock(&l->mu);
	if (l->ready && same_question(l, db, table) && (l->ok || l->qgen == l->gen))
	{
		bool		ok = take(l, out, errnum, errbuf, errlen);

		pthread_mutex_unlock(&l->mu);
		return ok;
	}
	if (l->ready)
		drop_answer(l);			/* another table's, or an old failure */
	if (!l->asked && !l->busy)
	{
		free(l->db);
		free(l->table);
		l->db = trib_xstrdup(db);
		l->table = trib_xstrdup(table);
		l->qgen = l->gen;
		l->asked = true;
		pthread_cond_broadcast(&l->cv);
	}
	pthread_mutex_unlock(&l->mu);
	*errnum = TRIB_MY_LOOKUP_PENDING;
	return trib_my_fail(errbuf, errlen, "the lookup of %s.%s is under way", db, table);
}

/* See mysql_lookup.h. */
bool
trib_my_lookup_wait(trib_my_lookup *l, int timeout_ms)
{
	struct timespec until = trib_clock_deadline(timeout_ms > 0 ? timeout_ms : 0);
	bool		in;

	pthread_mutex_lock(&l->mu);
	while (!l->ready && (l->asked || l->busy) && timeout_ms > 0)
		if (pthread_cond_timedwait(&l->cv, &l->mu, &until) != 0)
			break;
	in = l->ready || !(l->asked || l->busy);
	pthread_mutex_unlock(&l->mu);
	return in;
}

/* See mysql_lookup.h. */
void
trib_my_lookup_forget(trib_my_lookup *l)
{
	pthread_mutex_lock(&l->mu);
	l->gen++;
	if (l->ready && !l->ok)
		drop_answer(l);
	pthread_mutex_unlock(&l->mu);
}
