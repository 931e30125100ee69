/*
 * source_pg_conn.c: the replication connection's life: connecting (the
 * replication=database connection and the heartbeat one), the one-time
 * steps (the extension, the slot), START_REPLICATION with the plugin's
 * options, and the retries (source_pg.c's file comment, "The one state
 * machine").
 *
 * Each attempt returns 1 ok, 0 retry later, -1 fatal: a fatal SQLSTATE
 * (bad credentials, a missing database) stops the source, anything else
 * schedules the next attempt with a jittered backoff between
 * reconnect_min_ms and reconnect_max_ms ("slot is active" at least every
 * SLOT_BUSY_MAX_DELAY_MS).  spg_disconnect() is the one cleanup path: it drops
 * what the parser, the assembler and pgprep held but not pgprep's queue,
 * which the server sends again from the resume point.
 */
#include "source_pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "clock.h"
#include "conninfo.h"
#include "errf.h"
#include "pgconn.h"
#include "source_pg_int.h"
#include "xalloc.h"

/* Slot names as PostgreSQL allows them: [a-z0-9_]{1,63}. */
bool
spg_valid_slot_name(const char *s)
{
	size_t		n = s ? strlen(s) : 0;
	size_t		i;

	if (n == 0 || n > 63)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
			  s[i] == '_'))
			return false;
	return true;
}

/* ---------------------------------------------------------------------- */
/* connection strings */

/*
 * The keywords and values of a connection: the caller's dsn plus our
 * settings.  The dsn is parsed by libpq; its parse error is not shown,
 * since it may quote the dsn.  Free with spg_params_free().
 */
bool
spg_params_make(trib_source_pg *src, bool replication, spg_params *p,
				char *errbuf, size_t errlen)
{
	PQconninfoOption *o;
	char	   *perr = NULL;
	int			n = 0,
				i = 0;
	bool		have_tmo = false;

	memset(p, 0, sizeof(*p));
	p->opts = PQconninfoParse(src->dsn, &perr);
	if (!p->opts)
	{
		PQfreemem(perr);
		return trib_errf(errbuf, errlen, "invalid dsn: libpq cannot parse the connection string");
	}
	for (o = p->opts; o->keyword; o++)
		n++;
	p->kw = trib_xcalloc((size_t) n + 4, sizeof(char *));
	p->val = trib_xcalloc((size_t) n + 4, sizeof(char *));
	for (o = p->opts; o->keyword; o++)
	{
		if (!o->val || strcmp(o->keyword, "replication") == 0)
			continue;
		if (strcmp(o->keyword, "connect_timeout") == 0)
			have_tmo = true;
		p->kw[i] = o->keyword;
		p->val[i++] = o->val;
	}
	if (replication)
	{
		p->kw[i] = "replication";
		p->val[i++] = "database";
	}
	p->kw[i] = "fallback_application_name";
	p->val[i++] = replication ? "tributary" : "tributary-heartbeat";
	if (!have_tmo)
	{
		snprintf(p->tmo, sizeof(p->tmo), "%d", src->connect_timeout_s);
		p->kw[i] = "connect_timeout";
		p->val[i++] = p->tmo;
	}
	return true;
}

/* Free what spg_params_make() made. */
void
spg_params_free(spg_params *p)
{
	free(p->kw);
	free(p->val);
	if (p->opts)
		PQconninfoFree(p->opts);
	memset(p, 0, sizeof(*p));
}

/* Connect with p (spg_params_make); NULL with errbuf and *final (when
 * not NULL): whether retrying is pointless (the server refused the role,
 * password or database: pgconn.h). */
PGconn *
spg_params_connect(const spg_params *p, bool *final, char *errbuf, size_t errlen)
{
	trib_pq_error e;
	PGconn	   *conn = trib_pq_connect(p->kw, p->val, 0, &e);

	if (conn == NULL)
	{
		trib_errf(errbuf, errlen, "connection failed: %s", e.message);
		if (final)
			*final = e.final;
	}
	return conn;
}

/* Connect with the caller's dsn plus our settings, blocking; NULL as
 * spg_params_connect(). */
PGconn *
spg_connect_db(trib_source_pg *src, bool replication, bool *final, char *errbuf, size_t errlen)
{
	spg_params	p;
	PGconn	   *conn;

	if (!spg_params_make(src, replication, &p, errbuf, errlen))
		return NULL;
	conn = spg_params_connect(&p, final, errbuf, errlen);
	spg_params_free(&p);
	return conn;
}

/* A copy of dsn with any password replaced by "***". */
char *
trib_pg_dsn_redacted(const char *dsn)
{
	char	   *s = trib_conninfo_rebuild(dsn, NULL, true);

	return s ? s : trib_xstrdup("(unparsable dsn)");
}

/* ---------------------------------------------------------------------- */
/* connection life cycle */

/* Close the replication connection; forget what the assembler and pgprep
 * held (the server sends it again). */
void
spg_disconnect(trib_source_pg *src)
{
	spg_reader_free(src->reader);	/* first: the connection is ours again */
	src->reader = NULL;
	spg_dial_abandon(src->dial);
	src->dial = NULL;
	src->rc_phase = SPG_RC_IDLE;
	if (src->conn)
	{
		if (src->streaming)
			PQputCopyEnd(src->conn, NULL);
		PQfinish(src->conn);
	}
	src->conn = NULL;
	src->streaming = false;
	if (src->asm_)
		trib_pgasm_reset(src->asm_);
	if (src->prep)
		trib_pgprep_reset(src->prep);
}

/* Schedule the next connection attempt with backoff and jitter. */
void
spg_schedule_retry(trib_source_pg *src, bool slot_busy)
{
	int64_t		base = src->reconnect_min_ms;
	int64_t		delay;
	int			i;

	for (i = 0; i < src->attempts && base < src->reconnect_max_ms; i++)
		base *= 2;
	if (base > src->reconnect_max_ms)
		base = src->reconnect_max_ms;
	if (slot_busy && base > SLOT_BUSY_MAX_DELAY_MS)
		base = SLOT_BUSY_MAX_DELAY_MS;
	/* Jitter: between half and all of the delay. */
	delay = base / 2 + (int64_t) (rand_r(&src->rand_state) % (unsigned) (base / 2 + 1));
	src->attempts++;
	src->next_attempt_ms = trib_clock_mono_ms() + delay;
	spg_slog(src, 2, "retrying in %" PRId64 " ms (attempt %d)", delay, src->attempts);
}

/* Is an error with this SQLSTATE one that retrying cannot fix? */
static bool
fatal_sqlstate(const char *state)
{
	static const char *const fatal[] = {
		"42704",				/* undefined_object: no such slot */
		"22023",				/* invalid_parameter_value: plugin option */
		"42601",				/* syntax error */
		"55000",				/* object_not_in_prerequisite_state */
		"0A000",				/* feature_not_supported */
		"58P01",				/* undefined_file: plugin not installed */
		NULL
	};
	int			i;

	if (trib_pq_sqlstate_final(state))
		return true;			/* role, password, database, privilege */
	for (i = 0; state && fatal[i]; i++)
		if (strcmp(state, fatal[i]) == 0)
			return true;
	return false;
}

/* Fill errbuf from a failed result; classify it. */
spg_attempt_rc
spg_result_failure(trib_source_pg *src, PGresult *res, const char *what,
			   bool *slot_busy, char *errbuf, size_t errlen)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char		eb[512];

	if (!msg)
		msg = spg_conn_error(src->conn, eb, sizeof(eb));
	trib_errf(errbuf, errlen, "%s failed: %s%s%s%s", what, msg,
			  state ? " (SQLSTATE " : "", state ? state : "", state ? ")" : "");
	if (slot_busy)
		*slot_busy = state && strcmp(state, "55006") == 0;
	return fatal_sqlstate(state) ? -1 : 0;
}

/* CREATE EXTENSION on a normal connection. */
static spg_attempt_rc
ensure_extension(trib_source_pg *src, char *errbuf, size_t errlen)
{
	bool		final = false;
	PGconn	   *c = spg_connect_db(src, false, &final, errbuf, errlen);
	PGresult   *res;
	spg_attempt_rc rc = 1;

	if (!c)
		return final ? -1 : 0;
	res = PQexec(c, "CREATE EXTENSION IF NOT EXISTS tributary");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		PGconn	   *saved = src->conn;

		src->conn = c;
		rc = spg_result_failure(src, res, "CREATE EXTENSION tributary", NULL, errbuf, errlen);
		src->conn = saved;
	}
	PQclear(res);
	PQfinish(c);
	return rc;
}

/* CREATE_REPLICATION_SLOT unless it exists. */
static spg_attempt_rc
ensure_slot(trib_source_pg *src, char *errbuf, size_t errlen)
{
	char		cmd[200];
	PGresult   *res;
	spg_attempt_rc rc = 1;

	snprintf(cmd, sizeof(cmd), "CREATE_REPLICATION_SLOT %s LOGICAL tributary %s",
			 src->slot, src->snapshot == TRIB_PG_SNAPSHOT_EXPORT ?
			 "EXPORT_SNAPSHOT" : "NOEXPORT_SNAPSHOT");
	res = PQexec(src->conn, cmd);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		src->slot_created = true;
		free(src->snapshot_name);
		src->snapshot_name = NULL;
		if (PQnfields(res) >= 3 && PQntuples(res) == 1 && !PQgetisnull(res, 0, 2))
			src->snapshot_name = trib_xstrdup(PQgetvalue(res, 0, 2));
		spg_slog(src, 2, "created replication slot %s", src->slot);
	}
	else
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (!(state && strcmp(state, "42710") == 0))	/* duplicate_object */
			rc = spg_result_failure(src, res, "CREATE_REPLICATION_SLOT", NULL,
								errbuf, errlen);
	}
	PQclear(res);
	return rc;
}

/* Connect the replication connection and do the one-time steps. */
static spg_attempt_rc
open_attempt(trib_source_pg *src, char *errbuf, size_t errlen)
{
	spg_attempt_rc rc;
	bool		final = false;

	if (src->conn)
		return 1;
	if (!src->opened && src->create_extension &&
		(rc = ensure_extension(src, errbuf, errlen)) != 1)
		return rc;
	src->conn = spg_connect_db(src, true, &final, errbuf, errlen);
	if (!src->conn)
		return final ? -1 : 0;
	if (!src->opened && src->create_slot &&
		(rc = ensure_slot(src, errbuf, errlen)) != 1)
	{
		spg_disconnect(src);
		return rc;
	}
	src->opened = true;
	return 1;
}

/* Append s as a quoted literal ('...', quotes doubled) or identifier. */
static size_t
append_quoted(char *out, size_t off, const char *s, char q)
{
	out[off++] = q;
	for (; *s; s++)
	{
		if (*s == q)
			out[off++] = q;
		out[off++] = *s;
	}
	out[off++] = q;
	out[off] = '\0';
	return off;
}

/* The START_REPLICATION command; caller frees. */
char *
spg_start_command(trib_source_pg *src)
{
	size_t		len = 200;
	size_t		off;
	char	   *cmd;
	char		resume[TRIB_EVENTID_LEN];
	uint64_t	rlsn,
				rseq;
	int			i;

	for (i = 0; i < src->optc; i++)
		len += 2 * strlen(src->optv[2 * i]) +
			(src->optv[2 * i + 1] ? 2 * strlen(src->optv[2 * i + 1]) : 0) + 8;
	cmd = trib_xmalloc(len);
	off = (size_t) sprintf(cmd, "START_REPLICATION SLOT %s LOGICAL 0/0 (", src->slot);
	for (i = 0; i < src->optc; i++)
	{
		if (i > 0)
			off += (size_t) sprintf(cmd + off, ", ");
		off = append_quoted(cmd, off, src->optv[2 * i], '"');
		if (src->optv[2 * i + 1])
		{
			cmd[off++] = ' ';
			off = append_quoted(cmd, off, src->optv[2 * i + 1], '\'');
		}
	}
	if (!src->two_phase && trib_pgprep_resume(src->prep, &rlsn, &rseq))
	{
		trib_eventid_format(rlsn, rseq, resume, sizeof(resume));
		off += (size_t) sprintf(cmd + off, ", \"resume-after\" '%s'", resume);
	}
	sprintf(cmd + off, ")");
	return cmd;
}

/*
 * START_REPLICATION's answer res (taken; NULL: none came) on src->conn:
 * streaming from now on, or the connection closed and the failure
 * classified.  Any exported snapshot is gone once another command ran.
 */
spg_attempt_rc
spg_started(trib_source_pg *src, PGresult *res, bool *slot_busy,
			char *errbuf, size_t errlen)
{
	spg_attempt_rc rc;

	*slot_busy = false;
	free(src->snapshot_name);
	src->snapshot_name = NULL;
	if (PQresultStatus(res) != PGRES_COPY_BOTH)
	{
		rc = spg_result_failure(src, res, "START_REPLICATION", slot_busy, errbuf, errlen);
		PQclear(res);
		spg_disconnect(src);
		return rc;
	}
	PQclear(res);
	src->streaming = true;
	src->attempts = 0;
	src->last_recv_ms = trib_clock_mono_ms();
	spg_slog(src, 2, "streaming from slot %s", src->slot);
	if (!spg_send_status(src, false, errbuf, errlen))
	{
		spg_disconnect(src);
		return 0;
	}
	src->reader = spg_reader_start(src->conn, errbuf, errlen);
	if (src->reader == NULL)
	{
		spg_disconnect(src);
		return 0;
	}
	return 1;
}

/* START_REPLICATION on an open connection, blocking. */
static spg_attempt_rc
start_attempt(trib_source_pg *src, bool *slot_busy, char *errbuf, size_t errlen)
{
	spg_attempt_rc rc = open_attempt(src, errbuf, errlen);
	char	   *cmd;
	PGresult   *res;

	*slot_busy = false;
	if (rc != 1)
		return rc;
	cmd = spg_start_command(src);
	res = PQexec(src->conn, cmd);
	free(cmd);
	return spg_started(src, res, slot_busy, errbuf, errlen);
}

/* The end of a (re)connection attempt from poll: 1 streaming, -1 fatal
 * (errbuf from why), 0 logged and the next attempt scheduled. */
int
spg_attempt_done(trib_source_pg *src, spg_attempt_rc rc, bool slot_busy,
				 const char *why, char *errbuf, size_t errlen)
{
	if (rc == 1)
	{
		src->stats.reconnects++;
		return 1;
	}
	if (rc < 0)
	{
		trib_errf(errbuf, errlen, "%s", why);
		return -1;
	}
	spg_slog(src, slot_busy ? 2 : 1, "%s", why);
	spg_schedule_retry(src, slot_busy);
	return 0;
}

/* One scheduled (re)connection attempt, blocking; -1 when fatal. */
int
spg_try_reconnect(trib_source_pg *src, char *errbuf, size_t errlen)
{
	bool		busy = false;
	char		eb[512];
	spg_attempt_rc rc = start_attempt(src, &busy, eb, sizeof(eb));

	return spg_attempt_done(src, rc, busy, eb, errbuf, errlen);
}

/* Public: connect and create what is missing, without streaming. */
bool
trib_source_pg_open(trib_source_pg *src, char *errbuf, size_t errlen)
{
	return open_attempt(src, errbuf, errlen) == 1;
}

/*
 * Remove the spill files a killed process left.  Only two-phase needs the
 * directory; without it a missing directory is no error (files of an
 * earlier two-phase run are still removed when it exists).
 */
static bool
clean_spill_dir(trib_source_pg *src, char *errbuf, size_t errlen)
{
	trib_pgprep_conf pc = {.spill_dir = src->spill_dir, .spill_prefix = src->spill_prefix};
	char		eb[512];
	int			n = trib_pgprep_clean(&pc, eb, sizeof(eb));

	if (n < 0 && src->two_phase)
		return trib_errf(errbuf, errlen, "source: two-phase: %s", eb);
	if (n > 0)
		spg_slog(src, 2, "removed %d spill file(s) of an earlier run from %s",
			 n, src->spill_dir);
	return true;
}

/* Public: start streaming after resume; retry transient errors for retry_ms. */
bool
trib_source_pg_start(trib_source_pg *src, const trib_position *resume,
					 int retry_ms, char *errbuf, size_t errlen)
{
	int64_t		deadline = trib_clock_mono_ms() + (retry_ms > 0 ? retry_ms : 0);

	if (resume && resume->commit_lsn != 0)
		trib_pgprep_set_resume(src->prep, resume->commit_lsn, resume->seq);
	if (!clean_spill_dir(src, errbuf, errlen))
		return false;
	for (;;)
	{
		bool		busy = false;
		spg_attempt_rc rc = start_attempt(src, &busy, errbuf, errlen);
		int64_t		wait;

		if (rc == 1)
			return true;
		if (rc < 0)
			return false;
		spg_schedule_retry(src, busy);
		wait = src->next_attempt_ms - trib_clock_mono_ms();
		if (trib_clock_mono_ms() + wait > deadline)
			return false;
		if (wait > 0)
			usleep((useconds_t) wait * 1000);
	}
}
