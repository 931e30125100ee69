/*
 * source_pg_heartbeat.c: heartbeats, a logical message emitted every
 * heartbeat_interval_ms on a normal connection of their own (hbconn), so
 * that an idle database's slot keeps moving (source_pg.h).
 *
 * Never blocking.  Called from trib_source_pg_poll() on the pipeline's
 * loop, a heartbeat used to connect (up to connect_timeout) and wait for
 * its answer (without a limit) there, which held every source of the
 * pipeline while the server was stalled.  Now each call only does what
 * needs no waiting: the connection is made on a thread (source_pg_dial.c)
 * and the heartbeat sent once it is there; the query is sent
 * (PQsendQueryParams) and its answer taken on a later call, once it has
 * arrived (PQconsumeInput, PQisBusy).  A heartbeat without an answer for
 * RECV_TIMEOUT_MS, or one that failed, drops the connection (logged), and
 * the next one due connects again, as before.
 */
#include "source_pg.h"

#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "source_pg_int.h"

/* Drop the heartbeat connection after a failure, logged as why. */
static void
drop(trib_source_pg *src, const char *why)
{
	spg_slog(src, 1, "heartbeat failed: %s", why);
	PQfinish(src->hbconn);
	src->hbconn = NULL;
	src->hb_busy = false;
}

/* Take the answer to the heartbeat sent, if it has come. */
static void
collect_answer(trib_source_pg *src, int64_t now)
{
	PGresult   *res;
	bool		ok = true;
	char		eb[512];

	if (!PQconsumeInput(src->hbconn))
	{
		drop(src, spg_conn_error(src->hbconn, eb, sizeof(eb)));
		return;
	}
	if (PQisBusy(src->hbconn))
	{
		if (now - src->hb_sent_ms > RECV_TIMEOUT_MS)
			drop(src, "no answer from the server");
		return;
	}
	while ((res = PQgetResult(src->hbconn)) != NULL)
	{
		ok = ok && PQresultStatus(res) == PGRES_TUPLES_OK;
		PQclear(res);
	}
	src->hb_busy = false;
	if (!ok)
		drop(src, spg_conn_error(src->hbconn, eb, sizeof(eb)));
	else
		src->stats.heartbeats++;
}

/* Take the connection being made, if it is there. */
static void
collect_dial(trib_source_pg *src)
{
	bool		final = false;
	char		eb[512];

	if (!spg_dial_wait(src->hb_dial, 0))
		return;
	src->hbconn = spg_dial_take(src->hb_dial, &final, eb, sizeof(eb));
	src->hb_dial = NULL;
	if (!src->hbconn)
	{
		spg_slog(src, 1, "heartbeat: %s", eb);
		src->hb_due = false;	/* the next one connects again */
	}
}

/* Send the heartbeat due on hbconn. */
static void
send_heartbeat(trib_source_pg *src, int64_t now)
{
	const char *params[2] = {TRIB_HEARTBEAT_PREFIX, src->pipeline};
	char		eb[512];

	src->hb_due = false;
	if (!PQsendQueryParams(src->hbconn,
						   "SELECT pg_catalog.pg_logical_emit_message(true, $1, $2)",
						   2, NULL, params, NULL, NULL, 0))
	{
		drop(src, spg_conn_error(src->hbconn, eb, sizeof(eb)));
		return;
	}
	src->hb_busy = true;
	src->hb_sent_ms = now;
}

/* A heartbeat when due, and what an earlier one left, without waiting;
 * failures are logged. */
void
spg_heartbeat(trib_source_pg *src, int64_t now)
{
	char		eb[512];

	if (src->heartbeat_interval_ms <= 0 || !src->streaming)
		return;
	if (src->hb_dial)
		collect_dial(src);
	else if (src->hb_busy)
		collect_answer(src, now);
	if (src->hb_dial || src->hb_busy)
		return;
	if (!src->hb_due && now - src->last_hb_ms < src->heartbeat_interval_ms)
		return;
	if (!src->hb_due)
	{
		src->last_hb_ms = now;
		src->hb_due = true;
	}
	if (src->hbconn && PQstatus(src->hbconn) != CONNECTION_OK)
	{
		PQfinish(src->hbconn);
		src->hbconn = NULL;
	}
	if (src->hbconn)
	{
		send_heartbeat(src, now);
		return;
	}
	src->hb_dial = spg_dial_start(src, false, eb, sizeof(eb));
	if (!src->hb_dial)
	{
		spg_slog(src, 1, "heartbeat: %s", eb);
		src->hb_due = false;
	}
}

/* Close the heartbeat connection and give up one being made. */
void
spg_heartbeat_close(trib_source_pg *src)
{
	spg_dial_abandon(src->hb_dial);
	src->hb_dial = NULL;
	if (src->hbconn)
		PQfinish(src->hbconn);
	src->hbconn = NULL;
	src->hb_busy = false;
	src->hb_due = false;
}
