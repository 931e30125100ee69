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
 * The thread is a lib/asker.h worker asked one question, the connection,
 * as the dial starts; its answer (conn, or err and final) is a field of
 * the dial, read once the asker has it ready.  Whoever comes last frees:
 * the caller after joining a worker that is done (spg_dial_take,
 * spg_dial_abandon), the worker itself when it finishes after
 * spg_dial_abandon() detached it (then the connection it made is closed
 * unused).  So abandoning, as a stop does, never waits for the server.
 */
#include "source_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asker.h"
#include "errf.h"
#include "source_pg_int.h"
#include "xalloc.h"

struct spg_dial
{
	trib_asker *asker;
	spg_params	params;			/* owned */
	PGconn	   *conn;			/* the result, or NULL with: */
	bool		final;
	char		err[512];
};

/* Free everything (the asker's destroy). */
static void
destroy(void *arg)
{
	spg_dial   *d = arg;

	if (d->conn)
		PQfinish(d->conn);
	spg_params_free(&d->params);
	free(d);
}

/* Connect (on the worker). */
static void
answer(void *arg)
{
	spg_dial   *d = arg;

	d->err[0] = '\0';
	d->final = false;
	d->conn = spg_params_connect(&d->params, &d->final, d->err, sizeof(d->err));
}

static const trib_asker_ops dial_ops = {answer, destroy, NULL, NULL};

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
	if (!trib_asker_start(&dial_ops, d, &d->asker, "a thread to connect", errbuf, errlen))
		return NULL;			/* d was destroyed */
	trib_asker_ask(d->asker);
	return d;
}

/* Wait up to timeout_ms (0: not at all) for the connection to be made
 * or to fail; true when it is. */
bool
spg_dial_wait(spg_dial *d, int timeout_ms)
{
	return trib_asker_wait(d->asker, timeout_ms > 0 ? timeout_ms : 0);
}

/* The result of a dial that is done (spg_dial_wait), which is freed: the
 * connection, or NULL with errbuf and *final as spg_connect_db(). */
PGconn *
spg_dial_take(spg_dial *d, bool *final, char *errbuf, size_t errlen)
{
	PGconn	   *conn;

	trib_asker_wait(d->asker, -1);
	trib_asker_take(d->asker);
	conn = d->conn;
	d->conn = NULL;
	*final = d->final;
	if (conn == NULL)
		trib_errf(errbuf, errlen, "%s", d->err);
	trib_asker_free(d->asker, TRIB_ASKER_JOIN); /* frees d */
	return conn;
}

/* Give up a dial (NULL: none) without waiting for it. */
void
spg_dial_abandon(spg_dial *d)
{
	if (d == NULL)
		return;
	trib_asker_free(d->asker, TRIB_ASKER_DETACH);	/* frees d, now or later */
}
