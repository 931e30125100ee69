/*
 * source_pg_reconnect.c: the reconnection from trib_source_pg_poll(),
 * which never blocks the pipeline's loop.
 *
 * Why.  One loop serves every source of a pipeline (pipeline/merge.h).  A
 * reconnection made there with PQconnectdb and PQexec held all of them
 * while the PostgreSQL server was stalled: up to connect_timeout (10 s)
 * per attempt for a stopped (SIGSTOP) postmaster, and without end for a
 * START_REPLICATION the server never answers (e2e 102).
 *
 * How.  The same attempt as the blocking one (source_pg_conn.c), cut into
 * steps that poll drives with its own timeout:
 *   SPG_RC_DIAL   the replication connection is made on a thread
 *                 (source_pg_dial.c), with trib_pq_connect()'s messages and
 *                 retry rules;
 *   SPG_RC_START  START_REPLICATION is sent (PQsendQuery) and its answer
 *                 read as it comes (PQconsumeInput, PQisBusy), for at most
 *                 RECV_TIMEOUT_MS, as long as a silent stream is trusted;
 * then spg_started() and spg_attempt_done() end it exactly as the blocking
 * attempt does: streaming, the next attempt scheduled (the same backoff,
 * "slot is active" sooner), or a fatal error.  Until then each step
 * returns 0 within poll's timeout, and the merge goes on with the other
 * sources.  A stop (trib_source_pg_free) abandons a dial under way without
 * waiting (spg_disconnect).
 *
 * The one-time steps (CREATE EXTENSION, CREATE_REPLICATION_SLOT) belong to
 * the start, which blocks by design (trib_source_pg_start); should poll
 * ever reconnect before they were done, it does the blocking attempt.
 */
#include "source_pg.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errf.h"
#include "source_pg_int.h"

/* The dial is done: take its connection and send START_REPLICATION. */
static int
send_start(trib_source_pg *src, char *errbuf, size_t errlen)
{
	char		eb[512];
	bool		final = false;
	bool		busy = false;
	char	   *cmd;
	int			sent;

	src->conn = spg_dial_take(src->dial, &final, eb, sizeof(eb));
	src->dial = NULL;
	src->rc_phase = SPG_RC_IDLE;
	if (src->conn == NULL)
		return spg_attempt_done(src, final ? -1 : 0, false, eb, errbuf, errlen);
	cmd = spg_start_command(src);
	sent = PQsendQuery(src->conn, cmd);
	free(cmd);
	if (!sent)
		return spg_attempt_done(src, spg_started(src, NULL, &busy, eb, sizeof(eb)),
								busy, eb, errbuf, errlen);
	src->rc_phase = SPG_RC_START;
	src->rc_deadline_ms = trib_clock_mono_ms() + RECV_TIMEOUT_MS;
	return 0;
}

/* Wait up to wait_ms for START_REPLICATION's answer and take it when
 * whole. */
static int
await_start(trib_source_pg *src, int wait_ms, char *errbuf, size_t errlen)
{
	struct pollfd pfd = {.fd = PQsocket(src->conn), .events = POLLIN};
	char		eb[512];
	bool		busy = false;
	spg_attempt_rc rc;

	if (poll(&pfd, 1, wait_ms > 0 ? wait_ms : 0) < 0 && errno != EINTR)
		return spg_attempt_done(src, spg_started(src, NULL, &busy, eb, sizeof(eb)),
								busy, eb, errbuf, errlen);
	if (!PQconsumeInput(src->conn))
		return spg_attempt_done(src, spg_started(src, NULL, &busy, eb, sizeof(eb)),
								busy, eb, errbuf, errlen);
	if (PQisBusy(src->conn))
	{
		if (trib_clock_mono_ms() < src->rc_deadline_ms)
			return 0;
		spg_disconnect(src);
		return spg_attempt_done(src, 0, false,
								"START_REPLICATION failed: no answer from the server",
								errbuf, errlen);
	}
	src->rc_phase = SPG_RC_IDLE;
	rc = spg_started(src, PQgetResult(src->conn), &busy, eb, sizeof(eb));
	return spg_attempt_done(src, rc, busy, eb, errbuf, errlen);
}

/* One step of a due reconnection, waiting at most wait_ms: 1 streaming,
 * 0 under way or the next attempt scheduled, -1 fatal (errbuf). */
int
spg_reconnect_step(trib_source_pg *src, int wait_ms, char *errbuf, size_t errlen)
{
	char		eb[512];

	if (src->rc_phase == SPG_RC_IDLE)
	{
		if (!src->opened)
			return spg_try_reconnect(src, errbuf, errlen);
		src->dial = spg_dial_start(src, true, eb, sizeof(eb));
		if (src->dial == NULL)
			return spg_attempt_done(src, 0, false, eb, errbuf, errlen);
		src->rc_phase = SPG_RC_DIAL;
	}
	if (src->rc_phase == SPG_RC_DIAL)
	{
		if (!spg_dial_wait(src->dial, wait_ms))
			return 0;
		return send_start(src, errbuf, errlen);
	}
	return await_start(src, wait_ms, errbuf, errlen);
}
