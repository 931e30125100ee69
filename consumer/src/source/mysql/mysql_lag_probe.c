/*
 * mysql_lag_probe.c: SHOW BINARY LOGS on a thread of its own
 * (mysql_lag_probe.h).
 *
 * The thread is a lib/asker.h worker; the answer (rows, or an error text)
 * is a field of the probe, which the loop reads only once the asker has
 * it ready.  Each question is a new connection with short timeouts,
 * closed after the answer, as the synchronous query before it was (one
 * every few seconds at most).  free() waits for a question under way (the
 * conf's strings are borrowed).
 */
#include "mysql_lag_probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asker.h"
#include "mysql_conn.h"
#include "mysql_int.h"
#include "xalloc.h"

/* A stalled server costs the probe's thread this long at most, and a
 * stop waits for it at most this long too. */
#define PROBE_TIMEOUT_S 3

struct trib_my_lag_probe
{
	trib_asker *asker;
	trib_my_conn_conf conf;		/* strings borrowed */
	bool		ok;				/* the answer: rows, or err */
	trib_my_rows rows;
	char		err[512];
};

/* Ask the server (on the worker). */
static void
answer(void *arg)
{
	trib_my_lag_probe *p = arg;

	p->err[0] = '\0';
	p->ok = trib_my_rows_once(&p->conf, "SHOW BINARY LOGS", &p->rows, NULL,
							  p->err, sizeof(p->err));
}

/* Free the probe and an answer not taken (the asker's destroy). */
static void
destroy(void *arg)
{
	trib_my_lag_probe *p = arg;

	if (p->ok)
		trib_my_rows_free(&p->rows);
	free(p);
}

static const trib_asker_ops probe_ops = {answer, destroy, trib_my_thread_start, mysql_thread_end};

/* See mysql_lag_probe.h. */
trib_my_lag_probe *
trib_my_lag_probe_new(const trib_my_conn_conf *conf, char *errbuf, size_t errlen)
{
	trib_my_lag_probe *p = trib_xcalloc(1, sizeof(*p));

	p->conf = *conf;
	p->conf.connect_timeout_s = PROBE_TIMEOUT_S;
	p->conf.read_timeout_s = PROBE_TIMEOUT_S;
	if (!trib_asker_start(&probe_ops, p, &p->asker, "the binlog lag probe's thread", errbuf,
						  errlen))
		return NULL;			/* p was destroyed */
	return p;
}

/* See mysql_lag_probe.h. */
void
trib_my_lag_probe_free(trib_my_lag_probe *p)
{
	if (p == NULL)
		return;
	trib_asker_free(p->asker, TRIB_ASKER_JOIN);	/* frees p */
}

/* See mysql_lag_probe.h. */
void
trib_my_lag_probe_ask(trib_my_lag_probe *p)
{
	trib_asker_ask(p->asker);	/* not while asked, or an answer waits */
}

/* See mysql_lag_probe.h. */
int
trib_my_lag_probe_take(trib_my_lag_probe *p, trib_my_rows *out, char *errbuf, size_t errlen)
{
	if (!trib_asker_take(p->asker))
		return 0;
	if (!p->ok)
	{
		snprintf(errbuf, errlen, "%s", p->err);
		return -1;
	}
	*out = p->rows;
	memset(&p->rows, 0, sizeof(p->rows));
	return 1;
}
