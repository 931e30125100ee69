/*
 * mysql_lookup.c: information_schema lookups on a thread (mysql_lookup.h).
 *
 * The thread is a lib/asker.h worker: the question (db, table, and the
 * generation it was asked in) and the answer are fields of the lookup,
 * which the loop touches only while the asker is not busy.  forget()
 * starts a new generation, whose loads do not take a failed answer of an
 * older one.  free() detaches a worker found busy, which then frees the
 * lookup itself when its query ends.
 */
#include "mysql_lookup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asker.h"
#include "mysql_conn.h"
#include "mysql_infoschema.h"
#include "mysql_int.h"
#include "xalloc.h"

struct trib_my_lookup
{
	trib_asker *asker;
	trib_my_infoschema *is;		/* the worker's */
	unsigned	gen;			/* forget() count */
	char	   *db;				/* the question */
	char	   *table;
	unsigned	qgen;			/* its generation */
	bool		ok;				/* the answer */
	trib_my_tableinfo *info;
	unsigned	errnum;
	char		err[512];
};

/* Drop the answer (taken from the asker, or never to be). */
static void
drop_answer(trib_my_lookup *l)
{
	trib_my_tableinfo_free(l->info);
	l->info = NULL;
}

/* Free everything (the asker's destroy). */
static void
destroy(void *arg)
{
	trib_my_lookup *l = arg;

	drop_answer(l);
	trib_my_infoschema_free(l->is);
	free(l->db);
	free(l->table);
	free(l);
}

/* Answer the question asked (on the worker). */
static void
answer(void *arg)
{
	trib_my_lookup *l = arg;

	l->err[0] = '\0';
	l->errnum = 0;
	l->info = NULL;
	l->ok = trib_my_infoschema_load(l->is, l->db, l->table, &l->info, &l->errnum,
									l->err, sizeof(l->err));
}

static const trib_asker_ops lookup_ops = {answer, destroy, trib_my_thread_start, mysql_thread_end};

/* See mysql_lookup.h. */
trib_my_lookup *
trib_my_lookup_new(const trib_my_conn_conf *conf, char *errbuf, size_t errlen)
{
	trib_my_lookup *l = trib_xcalloc(1, sizeof(*l));

	l->is = trib_my_infoschema_new(conf);
	if (!trib_asker_start(&lookup_ops, l, &l->asker, "the table lookup thread", errbuf, errlen))
		return NULL;			/* l was destroyed */
	return l;
}

/* See mysql_lookup.h. */
void
trib_my_lookup_free(trib_my_lookup *l)
{
	if (l == NULL)
		return;
	trib_asker_free(l->asker, TRIB_ASKER_DETACH);	/* frees l, now or later */
}

/* Is the question (or answer) in l about db.table? */
static bool
same_question(const trib_my_lookup *l, const char *db, const char *table)
{
	return l->db && strcmp(l->db, db) == 0 && strcmp(l->table, table) == 0;
}

/* Hand the answer in l (taken from the asker) over to the caller. */
static bool
take(trib_my_lookup *l, trib_my_tableinfo **out, unsigned *errnum,
	 char *errbuf, size_t errlen)
{
	bool		ok = l->ok;

	*out = l->info;
	l->info = NULL;
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
	trib_asker_state st = trib_asker_poll(l->asker);

	*out = NULL;
	*errnum = 0;
	if (st == TRIB_ASKER_READY && same_question(l, db, table) && (l->ok || l->qgen == l->gen))
	{
		trib_asker_take(l->asker);
		return take(l, out, errnum, errbuf, errlen);
	}
	if (st == TRIB_ASKER_READY)
	{
		drop_answer(l);			/* another table's, or an old failure */
		trib_asker_take(l->asker);
		st = TRIB_ASKER_IDLE;
	}
	if (st == TRIB_ASKER_IDLE)
	{
		free(l->db);
		free(l->table);
		l->db = trib_xstrdup(db);
		l->table = trib_xstrdup(table);
		l->qgen = l->gen;
		trib_asker_ask(l->asker);
	}
	*errnum = TRIB_MY_LOOKUP_PENDING;
	return trib_my_fail(errbuf, errlen, "the lookup of %s.%s is under way", db, table);
}

/* See mysql_lookup.h. */
bool
trib_my_lookup_wait(trib_my_lookup *l, int timeout_ms)
{
	return trib_asker_wait(l->asker, timeout_ms > 0 ? timeout_ms : 0);
}

/* See mysql_lookup.h. */
void
trib_my_lookup_forget(trib_my_lookup *l)
{
	l->gen++;
	if (trib_asker_poll(l->asker) == TRIB_ASKER_READY && !l->ok)
	{
		drop_answer(l);
		trib_asker_take(l->asker);
	}
}
