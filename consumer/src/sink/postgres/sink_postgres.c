/*
 * sink_postgres.c: the PostgreSQL sink (see sink_postgres.h for what it
 * does; this comment says how).
 *
 * Files, by concern:
 *   sink_postgres.c         the sink operations, the queue, connecting,
 *                           the stored position, executing a batch
 *   sink_postgres_sql.c     target tables (catalog, CREATE/ALTER) and
 *                           turning queued events into statements
 *   sink_postgres_values.c  JSON row images to PostgreSQL input text
 *   sink_postgres_int.h     what they share
 *
 * Layers, top down:
 *   sink ops      write() copies the event into the queue; the queue is
 *                 applied when full, when its oldest event is batch_ms old,
 *                 and at flush/close.
 *   apply         one attempt after another until the batch is committed
 *                 or the retry budget is spent: (re)connect, re-read the
 *                 stored position after anything went wrong, drop queued
 *                 events it covers, make sure every table is known (create
 *                 or alter it), build the statements, execute.
 *   build         events -> statements (sink_postgres_sql.c): each value
 *                 converted to input text in one arena, consecutive rows
 *                 merged into multi-row statements.
 *   execute       BEGIN, the guarded position upsert, the statements, in
 *                 libpq pipeline mode with a Sync every PIPE_CHUNK
 *                 statements (so the server's replies never pile up
 *                 against our sends), then COMMIT once the guard said the
 *                 batch is new.  Two round trips per batch.
 *
 * Why multi-row statements in a pipeline, and not COPY into a temporary
 * table and a merge.  Measured with test/tools/pgsink_bench: one table
 * (bigint key, numeric, text, jsonb, text[], timestamptz), 70% inserts and
 * 30% updates of earlier keys, the same rows at the end of every way
 * (md5 checked); PostgreSQL 15, 2 vCPUs shared with other work, so +-15%.
 * Rows per second:
 *
 *                                      local socket         1 ms round trip
 *                                   batch 1000  batch 100  batch 1000  batch 100
 *   one statement per row              10-11k     11.6k        400        400
 *   one statement per row, pipelined   35-38k     36k          25k        12k
 *   multi-row, one round trip each     74-85k     79k          27k       7.4k
 *   multi-row, pipelined (chosen)      82-93k     80k          60k        16k
 *   COPY to temp table + merge        110-131k    60k          47k       6.5k
 *
 * (1 ms: a delaying TCP proxy in front of the server; 100k changes local,
 * 20k / 5k with latency.)  COPY wins only on a local socket with large
 * batches (~1.3x); it loses with small batches (the temp table's COPY
 * start, merge and its planning are fixed costs per batch) and with any
 * network latency (six round trips per batch against two).  It also
 * cannot express what a change stream needs per row -- columns left
 * untouched (unchanged TOAST), deletes and key moves interleaved with
 * upserts in order -- without a column mask and a multi-pass merge.
 * Rows per statement (max_rows 100, 250, 1000) made no difference beyond
 * the noise; the default is 1000.
 */
#include "sink_postgres_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "position.h"
#include "sink_postgres_conf.h"
#include "sink_seal.h"
#include "xalloc.h"

static bool pg_open(trib_sink *sink, const struct trib_plugin_conf *conf,
					char *errbuf, size_t errlen);
static bool pg_durable_position(trib_sink *sink, trib_position *out,
								char *errbuf, size_t errlen);
static bool pg_write(trib_sink *sink, const trib_event *ev,
					 char *errbuf, size_t errlen);
static bool pg_flush(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen);
static bool pg_poll(trib_sink *sink, int timeout_ms,
					char *errbuf, size_t errlen);
static void pg_close(trib_sink *sink);
static bool pg_lost_connection(trib_sink *sink);
static bool pg_prepare_table(trib_sink *sink, const trib_relation *rel,
							 char *errbuf, size_t errlen);

const trib_sink_ops trib_sink_postgres_ops = {
	.type = "postgres",
	.open = pg_open,
	.durable_position = pg_durable_position,
	.write = pg_write,
	.flush = pg_flush,
	.poll = pg_poll,
	.close = pg_close,
	.lost_connection = pg_lost_connection,
	.prepare_table = pg_prepare_table,
	.check = pgs_check,
};

/* The registration (declared in sink_postgres_conf.h, beside the
 * settings). */
const trib_plugin trib_sink_postgres = {
	.type = "postgres",
	.sink_ops = &trib_sink_postgres_ops,
	.section = &trib_pgsink_conf_section,
	.conf_size = sizeof(trib_pgsink_conf),
};

/* See sink_postgres_conf.h. */
TRIB_PLUGIN_CONF_ACCESSOR(trib_pgsink_conf_of, trib_pgsink_conf, trib_sink_postgres)

/* False with the reason when the sink is not open or has failed. */
static bool
usable(const pgs_sink *s, char *errbuf, size_t errlen)
{
	return trib_sink_usable(s ? &s->fault : NULL, "postgres sink", errbuf, errlen);
}

/* ---- connection and positions ------------------------------------------ */

/* NOTICEs (e.g. "already exists, skipping") go to the debug log. */
static void
notice_processor(void *arg, const char *message)
{
	(void) arg;
	tlog_debug("sink.postgres", "%s", message);
}

static const char *const positions_ddl =
"CREATE SCHEMA IF NOT EXISTS tributary_sink; "
"CREATE TABLE IF NOT EXISTS tributary_sink.positions ("
" pipeline text NOT NULL,"
" sink text NOT NULL,"
" commit_lsn pg_catalog.pg_lsn NOT NULL,"
" seq bigint NOT NULL,"
" end_lsn pg_catalog.pg_lsn,"
" lsn pg_catalog.pg_lsn,"
" opaque text,"
" updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),"
" PRIMARY KEY (pipeline, sink))";

/* Create tributary_sink.positions when it is missing. */
static bool
ensure_positions(pgs_sink *s, char *errbuf, size_t errlen)
{
	int			attempt;

	for (attempt = 0; attempt < 2; attempt++)
	{
		PGresult   *res = pgs_run(s, "SELECT pg_catalog.to_regclass('tributary_sink.positions') IS NOT NULL",
							  0, NULL, NULL, "reading the catalog", errbuf, errlen);
		bool		there;

		if (!res)
			return false;
		there = PQgetvalue(res, 0, 0)[0] == 't';
		PQclear(res);
		if (there)
			return true;
		res = PQexec(s->conn, positions_ddl);
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
		{
			PQclear(res);
			tlog_info("sink.postgres", "created " TRIB_PGSINK_POSITIONS);
			return true;
		}
		pgs_result_error(res, s->conn, "creating " TRIB_PGSINK_POSITIONS, false, errbuf, errlen);
		PQclear(res);			/* a concurrent creation: look again */
	}
	return false;
}

/* Where the position is stored, in words for messages. */
#define POSITIONS_STORE "table tributary_sink.positions"

/* Read the stored position of (pipeline, sink), opened when sealed. */
static bool
read_position(pgs_sink *s, char *errbuf, size_t errlen)
{
	const char *params[2] = {s->pipeline, s->sink_name};
	PGresult   *res = pgs_run(s, "SELECT commit_lsn::text, seq, end_lsn::text, lsn::text, opaque "
						  "FROM tributary_sink.positions WHERE pipeline = $1 AND sink = $2",
						  2, params, NULL, "reading the position", errbuf, errlen);

	if (!res)
		return false;
	free(s->durable.opaque);
	memset(&s->durable, 0, sizeof(s->durable));
	s->has_durable = PQntuples(res) == 1;
	if (s->has_durable)
	{
		trib_lsn_parse(PQgetvalue(res, 0, 0), &s->durable.commit_lsn);
		s->durable.seq = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
		if (!PQgetisnull(res, 0, 2))
			trib_lsn_parse(PQgetvalue(res, 0, 2), &s->durable.end_lsn);
		if (!PQgetisnull(res, 0, 3))
			trib_lsn_parse(PQgetvalue(res, 0, 3), &s->durable.lsn);
		if (!PQgetisnull(res, 0, 4))
			s->durable.opaque = trib_xstrdup(PQgetvalue(res, 0, 4));
	}
	PQclear(res);
	if (!trib_sink_unseal(s->owner, POSITIONS_STORE, &s->durable.opaque, errbuf, errlen))
	{
		s->has_durable = false;
		s->pos_unreadable = true;
		return false;
	}
	s->reload_position = false;
	return true;
}

/*
 * The decimal point money's input reads in this session: the character
 * between 1 and 25 in the text of 1.25::money (by lc_monetary: "$1.25",
 * "1,25 EUR"); '.' when none shows (no fraction digits) or it is not one
 * byte (money's input then reads '.').
 *
 * The session's lc_monetary is pinned first, by a SET of its own value:
 * a session that never SET it takes a new value from postgresql.conf at
 * the next reload (ALTER SYSTEM SET lc_monetary, pg_reload_conf()), and
 * money's input would then read our text by another decimal point, 100x
 * off, without us knowing.  Re-reading on a ParameterStatus message is no
 * way out: lc_monetary is not a reported setting, so the server sends
 * none.  A session value outranks the file's, so the point read here stays
 * right for the connection's life; a new connection reads the new one.
 */
static bool
read_money_point(pgs_sink *s, char *errbuf, size_t errlen)
{
	PGresult   *res = pgs_run(s, "SELECT pg_catalog.set_config('lc_monetary', "
							  "pg_catalog.current_setting('lc_monetary'), false)",
							  0, NULL, NULL, "pinning the session's lc_monetary", errbuf, errlen);
	const char *t,
			   *one;

	if (!res)
		return false;
	PQclear(res);
	res = pgs_run(s, "SELECT (1.25::pg_catalog.numeric::pg_catalog.money)::pg_catalog.text",
				  0, NULL, NULL, "reading the target's money format", errbuf, errlen);
	if (!res)
		return false;
	t = PQgetvalue(res, 0, 0);
	one = strchr(t, '1');
	s->money_point = '.';
	if (one && one[1] != '\0' && one[2] == '2' && one[3] == '5')
		s->money_point = one[1];
	PQclear(res);
	return true;
}

/* Connect and prepare the session; the position is read again. */
static bool
connect_db(pgs_sink *s, char *errbuf, size_t errlen)
{
	const char *kw[] = {"fallback_application_name", "connect_timeout", "dbname",
	"client_encoding", NULL};
	const char *val[] = {"tributary", "10", s->dsn, "UTF8", NULL};

	if (s->conn)
		PQfinish(s->conn);
	s->conn = PQconnectdbParams(kw, val, 1);
	if (!s->conn || PQstatus(s->conn) != CONNECTION_OK)
	{
		char	   *msg = trib_xstrdup(s->conn ? PQerrorMessage(s->conn) : "out of memory");
		size_t		n = strlen(msg);

		while (n > 0 && msg[n - 1] == '\n')
			msg[--n] = '\0';
		snprintf(errbuf, errlen, "cannot connect to the target database: %s", msg);
		free(msg);
		PQfinish(s->conn);
		s->conn = NULL;
		return false;
	}
	PQsetNoticeProcessor(s->conn, notice_processor, NULL);
	s->conn_lost = false;		/* a fresh connection */
	if (!ensure_positions(s, errbuf, errlen) || !read_position(s, errbuf, errlen) ||
		!read_money_point(s, errbuf, errlen))
		return false;
	return true;
}

/* ---- execution --------------------------------------------------------- */

/* The outcome of an error result (by SQLSTATE and connection state). */
static pgs_attempt_rc
classify(pgs_sink *s, const PGresult *res)
{
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(s->conn) != CONNECTION_OK || !st)
		return A_RETRY;
	if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 ||
		strncmp(st, "08", 2) == 0 || strcmp(st, "57P01") == 0)
		return A_RETRY;
	if (strcmp(st, "21000") == 0)
		return A_SINGLE;
	if (strcmp(st, "42703") == 0 || strcmp(st, "42P01") == 0 ||
		strcmp(st, "42804") == 0 || strcmp(st, "42P10") == 0)
		return A_SCHEMA;
	return A_FAIL;
}

/* What a statement is, for messages. */
static void
stmt_what(const pgs_stmt *st, char *buf, size_t len)
{
	const char *w;

	switch (st->what)
	{
		case 'u':
			w = "upsert";
			break;
		case 'd':
			w = "delete";
			break;
		case 'm':
			w = "key move";
			break;
		case 'i':
			w = "insert";
			break;
		case 'U':
			w = "update by old row";
			break;
		case 'D':
			w = "delete by old row";
			break;
		default:
			w = "truncate";
			break;
	}
	snprintf(buf, len, "%s of %d row%s%s%s", w, st->rows, st->rows == 1 ? "" : "s",
			 st->t ? " in " : "", st->t ? st->t->qname : "");
}

/* Parameter values of a statement (pointers into the arena). */
static const char **
stmt_values(pgs_sink *s, const pgs_stmt *st)
{
	const char **v = trib_xmalloc(sizeof(char *) * (size_t) (st->nparams + 1));
	int			i;

	for (i = 0; i < st->nparams; i++)
		v[i] = st->voff[i] == NULLVAL ? NULL : s->arena.data + st->voff[i];
	return v;
}

/* The position statement and its parameters. */
static const char *const position_sql =
"INSERT INTO tributary_sink.positions AS p "
"(pipeline, sink, commit_lsn, seq, end_lsn, lsn, opaque, updated_at) "
"VALUES ($1, $2, $3, $4, $5, $6, $7, pg_catalog.now()) "
"ON CONFLICT (pipeline, sink) DO UPDATE SET commit_lsn = EXCLUDED.commit_lsn, "
"seq = EXCLUDED.seq, end_lsn = EXCLUDED.end_lsn, lsn = EXCLUDED.lsn, "
"opaque = EXCLUDED.opaque, updated_at = EXCLUDED.updated_at "
"WHERE (p.commit_lsn, p.seq) < (EXCLUDED.commit_lsn, EXCLUDED.seq) "
"RETURNING 1";

static const Oid position_types[7] = {
	OID_TEXT, OID_TEXT, OID_PG_LSN, OID_INT8, OID_PG_LSN, OID_PG_LSN, OID_TEXT
};

/* Item j of a batch's sequence: BEGIN, the position, the statements. */
static int
item_index(int j)
{
	return j == 0 ? -1 : j == 1 ? -2 : j - 2;
}

/* Send item i (-1: BEGIN, -2: the position, else a statement). */
static bool
send_one(pgs_sink *s, int i, char bufs[4][32])
{
	const char **v;
	const pgs_stmt *st;
	int			ok;

	if (i == -1)
		return PQsendQueryParams(s->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
	if (i == -2)
	{
		const char *pv[7] = {s->pipeline, s->sink_name, bufs[0], bufs[1], bufs[2],
		bufs[3], s->pos_text};

		return PQsendQueryParams(s->conn, position_sql, 7, position_types, pv,
								 NULL, NULL, 0);
	}
	st = &s->stmts[i];
	v = stmt_values(s, st);
	ok = PQsendQueryParams(s->conn, st->sql.data, st->nparams, st->types, v,
						   NULL, NULL, 0);
	free(v);
	return ok;
}

/* Could the error come from a column whose type changed at the source: a
 * data exception (a value the target's type does not take: 22...) or a
 * type mismatch (42804)? */
static bool
type_error(const PGresult *res)
{
	const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return st && (strncmp(st, "22", 2) == 0 || strcmp(st, "42804") == 0);
}

/* Check one result; the first error fills errbuf and sets *rc. */
static void
check_result(pgs_sink *s, PGresult *res, int i, bool *stale, pgs_attempt_rc *rc,
			 char *errbuf, size_t errlen)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	char		what[512];

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
	{
		if (i == -2 && PQntuples(res) == 0)
			*stale = true;
		return;
	}
	if (st == PGRES_PIPELINE_ABORTED || *rc != A_OK)
		return;
	*rc = classify(s, res);
	if (i >= 0)
		stmt_what(&s->stmts[i], what, sizeof(what));
	else
		snprintf(what, sizeof(what), "%s", i == -1 ? "BEGIN" : "storing the position");
	pgs_result_error(res, s->conn, what, s->redact && i >= 0, errbuf, errlen);
	if (i >= 0 && s->stmts[i].t && type_error(res))
		pgs_type_change_hint(s, s->stmts[i].t, errbuf, errlen);
}

/* Read the result of one item and the NULL after it; false when the
 * connection broke (rc set). */
static bool
read_one(pgs_sink *s, int i, bool *stale, pgs_attempt_rc *rc, char *errbuf, size_t errlen)
{
	PGresult   *res = PQgetResult(s->conn);

	if (!res || PQresultStatus(res) == PGRES_PIPELINE_SYNC)
	{
		PQclear(res);
		if (*rc == A_OK)
		{
			*rc = A_RETRY;
			snprintf(errbuf, errlen, "connection lost: %s", PQerrorMessage(s->conn));
		}
		return false;
	}
	check_result(s, res, i, stale, rc, errbuf, errlen);
	PQclear(res);
	while ((res = PQgetResult(s->conn)) != NULL)
	{
		bool		sync = PQresultStatus(res) == PGRES_PIPELINE_SYNC;

		PQclear(res);
		if (sync)
		{
			if (*rc == A_OK)
			{
				*rc = A_RETRY;
				snprintf(errbuf, errlen, "pipeline out of step");
			}
			return false;
		}
	}
	return true;
}

/* Pipeline mode: send the items in chunks, a Sync after each chunk. */
static pgs_attempt_rc
exec_pipelined(pgs_sink *s, char bufs[4][32],
			   bool *stale, char *errbuf, size_t errlen)
{
	int			total = s->nstmts + 2,
				first,
				j;
	pgs_attempt_rc	rc = A_OK;
	PGresult   *res;

	if (!PQenterPipelineMode(s->conn))
	{
		snprintf(errbuf, errlen, "cannot enter pipeline mode: %s", PQerrorMessage(s->conn));
		return A_RETRY;
	}
	for (first = 0; first < total && rc == A_OK && !*stale; first += PIPE_CHUNK)
	{
		int			end = first + PIPE_CHUNK < total ? first + PIPE_CHUNK : total;

		for (j = first; j < end; j++)
			if (!send_one(s, item_index(j), bufs))
				break;
		if (j < end || !PQpipelineSync(s->conn))
		{
			snprintf(errbuf, errlen, "sending: %s", PQerrorMessage(s->conn));
			rc = A_RETRY;
			break;
		}
		for (j = first; j < end; j++)
			if (!read_one(s, item_index(j), stale, &rc, errbuf, errlen))
				goto out;
		res = PQgetResult(s->conn);
		if (!res || PQresultStatus(res) != PGRES_PIPELINE_SYNC)
		{
			if (rc == A_OK)
			{
				rc = A_RETRY;
				snprintf(errbuf, errlen, "pipeline out of step: %s", PQerrorMessage(s->conn));
			}
			PQclear(res);
			goto out;
		}
		PQclear(res);
	}
out:
	if (!PQexitPipelineMode(s->conn))
	{
		/* results still pending: the connection's state is unknown */
		PQfinish(s->conn);
		s->conn = NULL;
		return rc == A_OK ? A_RETRY : rc;
	}
	return rc;
}

/* Run BEGIN, the guarded position upsert and the statements.  A_OK with
 * *stale false leaves the transaction open for COMMIT. */
static pgs_attempt_rc
exec_statements(pgs_sink *s, const trib_position *last, bool *stale,
				char *errbuf, size_t errlen)
{
	char		bufs[4][32];
	pgs_attempt_rc	rc = A_OK;
	int			j;

	trib_lsn_format(last->commit_lsn, bufs[0], sizeof(bufs[0]));
	snprintf(bufs[1], sizeof(bufs[1]), "%" PRIu64,
			 last->seq > (uint64_t) INT64_MAX ? (uint64_t) INT64_MAX : last->seq);
	trib_lsn_format(last->end_lsn, bufs[2], sizeof(bufs[2]));
	trib_lsn_format(last->lsn, bufs[3], sizeof(bufs[3]));
	*stale = false;
	if (s->use_pipeline)
		return exec_pipelined(s, bufs, stale, errbuf, errlen);
	for (j = 0; j < s->nstmts + 2 && rc == A_OK && !*stale; j++)
	{
		if (!send_one(s, item_index(j), bufs))
		{
			snprintf(errbuf, errlen, "sending: %s", PQerrorMessage(s->conn));
			return A_RETRY;
		}
		if (!read_one(s, item_index(j), stale, &rc, errbuf, errlen))
			break;
	}
	return rc;
}

/* Roll back an open or failed transaction (best effort). */
static void
rollback(pgs_sink *s)
{
	if (s->conn && PQstatus(s->conn) == CONNECTION_OK &&
		PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		PQclear(PQexec(s->conn, "ROLLBACK"));
}

/* Free what a queued event owns. */
static void
entry_free(pgs_bentry *b)
{
	free(b->schema);
	free(b->table);
	free(b->before);
	free(b->after);
	free(b->key);
	free(b->unchanged);
	free(b->after_json_nulls);
	free(b->before_json_nulls);
	free(b->extra);
	free(b->pos.opaque);
}

/* Free every queued event. */
static void
queue_clear(pgs_sink *s)
{
	size_t		i;

	for (i = 0; i < s->nq; i++)
		entry_free(&s->q[i]);
	s->nq = 0;
}

/* Drop queued events at or before the stored position. */
static void
drop_covered(pgs_sink *s)
{
	size_t		i,
				keep = 0;

	if (!s->has_durable)
		return;
	for (i = 0; i < s->nq; i++)
	{
		if (trib_position_le(&s->q[i].pos, &s->durable))
		{
			entry_free(&s->q[i]);
			s->stats.skipped++;
			continue;
		}
		s->q[keep++] = s->q[i];
	}
	s->nq = keep;
}

/* One attempt at applying the queue. */
static pgs_attempt_rc
attempt(pgs_sink *s, char *errbuf, size_t errlen)
{
	size_t		i;
	bool		stale;
	pgs_attempt_rc	rc;
	PGresult   *res;

	if ((!s->conn || PQstatus(s->conn) != CONNECTION_OK) && !connect_db(s, errbuf, errlen))
		return A_RETRY;
	if (s->reload_position && !read_position(s, errbuf, errlen))
		return s->pos_unreadable ? A_FAIL : A_RETRY;
	drop_covered(s);
	if (s->nq == 0)
		return A_COVERED;
	for (i = 0; i < s->nq; i++)
	{
		const pgs_bentry *b = &s->q[i];

		if (b->op != TRIB_OP_TRUNCATE && b->op != TRIB_OP_MESSAGE &&
			!pgs_prepare_table(s, b, errbuf, errlen))
			return PQstatus(s->conn) == CONNECTION_OK ? A_FAIL : A_RETRY;
	}
	if (!pgs_build_batch(s, errbuf, errlen))
		return PQstatus(s->conn) == CONNECTION_OK ? A_FAIL : A_RETRY;
	rc = exec_statements(s, &s->q[s->nq - 1].pos, &stale, errbuf, errlen);
	if (rc != A_OK || stale)
	{
		rollback(s);
		s->reload_position = true;
		return rc != A_OK ? rc : A_STALE;
	}
	res = PQexec(s->conn, "COMMIT");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		rc = classify(s, res);
		pgs_result_error(res, s->conn, "COMMIT", s->redact, errbuf, errlen);
		PQclear(res);
		rollback(s);
		s->reload_position = true;
		return rc;
	}
	PQclear(res);
	s->stats.statements += (uint64_t) s->nstmts;
	return A_OK;
}

/* After a commit: count and report the changes the batch skipped. */
static void
report_skipped(pgs_sink *s)
{
	static const char *const why[2] = {
		[SKIP_NO_KEY] = "delete(s) that carry no value of the target's key (replica "
		"identity NOTHING at the source?)",
		[SKIP_NO_OLD_ROW] = "update(s) or delete(s) of a table without a primary key "
		"that carry no old row (replica identity FULL at the source gives one)",
	};
	uint64_t   *count[2] = {&s->stats.skipped_no_key, &s->stats.skipped_no_old_row};
	pgs_tinfo	   *t;
	int			r;

	for (t = s->tables; t; t = t->next)
		for (r = 0; r < 2; r++)
		{
			if (t->skipped[r] == 0)
				continue;
			*count[r] += (uint64_t) t->skipped[r];
			trib_metric_add(s->m_skipped[r], t->skipped[r]);
			tlog_warn("sink.postgres", "%s: %s: skipped %d %s; counted in "
					  "tributary_sink_skipped_changes_total", s->sink_name, t->qname,
					  t->skipped[r], why[r]);
			t->skipped[r] = 0;
		}
}

/* Apply the queue until committed or out of budget; acks on success. */
static bool
apply(trib_sink *sink, pgs_sink *s, char *errbuf, size_t errlen)
{
	long long	deadline = s->retry_ms < 0 ? -1 : trib_clock_mono_ms() + s->retry_ms;
	int			backoff = 100;
	bool		schema_retried = false;
	trib_position last;
	char	   *sealed = NULL;

	if (s->fault.failed)
		return trib_sink_failed_out(&s->fault, errbuf, errlen);
	if (s->nq == 0)
		return true;
	last = s->q[s->nq - 1].pos;
	if (!trib_sink_seal(sink, POSITIONS_STORE, last.opaque, &sealed, &s->pos_text,
						errbuf, errlen))
		return trib_sink_fail(&s->fault, errbuf, errlen, "%s", errbuf);
	last.opaque = trib_xstrdup(last.opaque);
	s->single_row = false;
	for (;;)
	{
		pgs_attempt_rc	rc = attempt(s, errbuf, errlen);

		if (rc != A_SINGLE && rc != A_SCHEMA && rc != A_STALE && rc != A_RETRY)
		{
			free(sealed);		/* the batch is over: pos_text is not used */
			sealed = NULL;
			s->pos_text = NULL;
		}

		if (rc == A_OK)
		{
			s->stats.batches++;
			report_skipped(s);
			queue_clear(s);
			free(s->durable.opaque);
			s->durable = last;	/* takes over last.opaque */
			s->has_durable = true;
			if (sink->ack)
				sink->ack(sink, &s->durable, sink->ack_arg);
			return true;
		}
		if (rc == A_COVERED)
		{
			/* the stored position (re-read) already covers the batch */
			if (sink->ack)
				sink->ack(sink, &last, sink->ack_arg);
			free(last.opaque);
			return true;
		}
		if (rc == A_SINGLE && !s->single_row)
		{
			s->single_row = true;
			continue;
		}
		if (rc == A_SCHEMA && !schema_retried)
		{
			schema_retried = true;
			pgs_tables_invalidate(s);
			continue;
		}
		if (rc == A_STALE)
		{
			s->stats.retries++;
			if (deadline < 0 || trib_clock_mono_ms() < deadline)
				continue;
			snprintf(errbuf, errlen, "the stored position keeps moving past this batch "
					 "(another writer for pipeline %s, sink %s?)", s->pipeline, s->sink_name);
		}
		if (rc == A_RETRY && (deadline < 0 || trib_clock_mono_ms() < deadline))
		{
			s->stats.retries++;
			tlog_warn("sink.postgres", "%s: %s; retrying in %d ms", s->sink_name, errbuf, backoff);
			usleep((useconds_t) backoff * 1000);
			backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
			if (!s->conn || PQstatus(s->conn) != CONNECTION_OK)
				s->stats.reconnects++;
			continue;
		}
		free(last.opaque);
		free(sealed);
		s->pos_text = NULL;
		s->fault.failed = true;
		snprintf(s->fault.msg, sizeof(s->fault.msg), "%s", errbuf);
		return false;
	}
}

/* ---- sink operations --------------------------------------------------- */

/* Defaults. */
void
trib_pgsink_opts_init(trib_pgsink_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->batch_size = 1000;
	opts->batch_ms = 100;
}

/* Free the state. */
static void
state_free(pgs_sink *s)
{
	pgs_tinfo	   *t;
	size_t		i;

	if (!s)
		return;
	queue_clear(s);
	free(s->q);
	free(s->durable.opaque);
	while ((t = s->tables) != NULL)
	{
		s->tables = t->next;
		pgs_tinfo_clear(t);
		trib_relation_free(t->def);
		free(t->schema);
		free(t->table);
		free(t->qname);
		free(t);
	}
	pgs_ctypes_free(s);
	for (i = 0; i < s->stcap; i++)
	{
		trib_strbuf_free(&s->stmts[i].sql);
		free(s->stmts[i].voff);
		free(s->stmts[i].types);
		free(s->stmts[i].cols);
		free(s->stmts[i].keys);
	}
	free(s->stmts);
	trib_strbuf_free(&s->arena);
	trib_strbuf_free(&s->scratch);
	pgs_jdoc_free(&s->jtext);
	pgs_jdoc_free(&s->jnulls);
	if (s->conn)
		PQfinish(s->conn);
	free(s->dsn);
	free(s->schema);
	free(s->pipeline);
	free(s->sink_name);
	free(s);
}

/* Connect and read the position. */
bool
trib_pgsink_open_opts(trib_sink *sink, const trib_pgsink_opts *opts,
					  char *errbuf, size_t errlen)
{
	pgs_sink	   *s;

	if (!opts || !opts->dsn)
	{
		snprintf(errbuf, errlen, "postgres sink: no dsn");
		return false;
	}
	s = trib_xcalloc(1, sizeof(*s));
	s->owner = sink;
	s->dsn = trib_xstrdup(opts->dsn);
	s->schema = opts->schema && opts->schema[0] ? trib_xstrdup(opts->schema) : NULL;
	s->pipeline = trib_xstrdup(opts->pipeline ? opts->pipeline : "default");
	s->sink_name = trib_xstrdup(opts->sink_name ? opts->sink_name :
								sink->name ? sink->name : "postgres");
	s->create_tables = opts->create_tables;
	s->unknown_as_text = opts->unknown_as_text;
	s->redact = !opts->log_row_values;
	s->table_from_route = opts->table_from_route;
	s->batch_size = opts->batch_size > 0 ? opts->batch_size : 1000;
	s->batch_ms = opts->batch_ms >= 0 ? opts->batch_ms : 100;
	s->bytea_hex = opts->bytea_hex;
	s->retry_ms = opts->retry_ms == 0 ? 30000 : opts->retry_ms;
	s->max_rows = opts->max_rows > 0 ? opts->max_rows : 1000;
	s->mode = opts->mode;
	s->use_pipeline = !opts->no_pipeline;
	s->open_stmt = -1;
	if (opts->metrics)
	{
		trib_metric_family *f = trib_metrics_counter(opts->metrics,
													 "tributary_sink_skipped_changes_total",
													 "Row changes a sink could not apply and skipped "
													 "(no_key: a delete without the target's key; "
													 "no_old_row: an update or delete of a keyless "
													 "table without its old row).",
													 "sink,reason");

		s->m_skipped[SKIP_NO_KEY] = trib_metric_get(f, s->sink_name, "no_key");
		s->m_skipped[SKIP_NO_OLD_ROW] = trib_metric_get(f, s->sink_name, "no_old_row");
	}
	if (!connect_db(s, errbuf, errlen))
	{
		state_free(s);
		return false;
	}
	sink->ops = &trib_sink_postgres_ops;
	sink->state = s;
	return true;
}

/* open() of a member of `sinks:` with type postgres: its settings, the
 * pipeline's name and the sink's name key the stored position. */
static bool
pg_open(trib_sink *sink, const struct trib_plugin_conf *conf,
		char *errbuf, size_t errlen)
{
	const trib_pgsink_conf *pc = trib_pgsink_conf_of(conf);
	trib_pgsink_opts o;

	if (pc == NULL)
		return trib_sink_no_conf("postgres", errbuf, errlen);
	trib_pgsink_opts_init(&o);
	o.dsn = pc->dsn;
	o.schema = pc->schema;
	o.create_tables = pc->create_tables;
	o.table_from_route = pc->table_from_route;
	o.batch_size = pc->batch_size;
	o.batch_ms = pc->batch_ms;
	o.unknown_as_text = pc->unknown_types == TRIB_UNKNOWN_TYPES_TEXT;
	o.log_row_values = pc->log_row_values;
	o.metrics = sink->metrics;
	o.pipeline = sink->pipeline;
	o.sink_name = conf->name;
	return trib_pgsink_open_opts(sink, &o, errbuf, errlen);
}

/* The stored position. */
static bool
pg_durable_position(trib_sink *sink, trib_position *out,
					char *errbuf, size_t errlen)
{
	pgs_sink	   *s = sink->state;

	(void) errbuf;
	(void) errlen;
	return s != NULL && trib_sink_report_durable(s->has_durable, &s->durable, out);
}

/* Queue one event; apply when the batch is full or old. */
static bool
pg_write(trib_sink *sink, const trib_event *ev, char *errbuf, size_t errlen)
{
	pgs_sink	   *s = sink->state;
	pgs_bentry	   *b;
	long long	now;

	if (!usable(s, errbuf, errlen))
		return false;
	if (s->has_durable && trib_position_le(&ev->pos, &s->durable))
	{
		s->stats.skipped++;
		return true;
	}
	if ((ev->op == TRIB_OP_CREATE || ev->op == TRIB_OP_UPDATE || ev->op == TRIB_OP_READ ||
		 ev->op == TRIB_OP_DELETE) && !ev->table)
	{
		snprintf(errbuf, errlen, "postgres sink: a row change without a table");
		return false;
	}
	s->q = trib_xgrow(s->q, s->nq, &s->qcap, sizeof(pgs_bentry), 64);
	b = &s->q[s->nq++];
	memset(b, 0, sizeof(*b));
	b->op = ev->op;
	b->schema = trib_xstrdup(s->schema ? s->schema : ev->schema ? ev->schema : "public");
	b->table = trib_xstrdup(ev->table);
	if (s->table_from_route && ev->topic && ev->topic[0] && ev->op != TRIB_OP_MESSAGE)
	{
		/* a route rule chose the table: "table" or "schema.table" */
		const char *dot = strrchr(ev->topic, '.');

		free(b->table);
		b->table = trib_xstrdup(dot ? dot + 1 : ev->topic);
		if (dot)
		{
			free(b->schema);
			b->schema = trib_xstrndup(ev->topic, (size_t) (dot - ev->topic));
		}
	}
	b->before = trib_xstrdup(ev->before);
	b->after = trib_xstrdup(ev->after);
	b->key = trib_xstrdup(ev->key);
	b->unchanged = trib_xstrdup(ev->unchanged);
	b->after_json_nulls = trib_xstrdup(ev->after_json_nulls);
	b->before_json_nulls = trib_xstrdup(ev->before_json_nulls);
	b->extra = trib_xstrdup(ev->extra);
	b->rel = ev->rel;
	b->pos = ev->pos;
	b->pos.opaque = trib_xstrdup(ev->pos.opaque);
	s->stats.events++;
	now = trib_clock_mono_ms();
	if (s->nq == 1)
		s->first_ms = now;
	if ((int) s->nq >= s->batch_size || now - s->first_ms >= s->batch_ms)
		return apply(sink, s, errbuf, errlen);
	return true;
}

/* Apply everything queued. */
static bool
pg_flush(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen)
{
	pgs_sink	   *s = sink->state;

	(void) timeout_ms;
	if (!usable(s, errbuf, errlen))
		return false;
	return apply(sink, s, errbuf, errlen);
}

/* Apply a batch whose oldest event waited batch_ms.  False once the
 * sink has failed (a batch it could not apply within its retries). */
static bool
pg_poll(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen)
{
	pgs_sink	   *s = sink->state;

	(void) timeout_ms;
	if (!usable(s, errbuf, errlen))
		return false;
	if (s->nq == 0 || trib_clock_mono_ms() - s->first_ms < s->batch_ms)
		return true;
	return apply(sink, s, errbuf, errlen);
}

/* Apply what is queued (best effort) and release everything. */
static void
pg_close(trib_sink *sink)
{
	pgs_sink	   *s = sink->state;
	char		e[1024];

	if (!s)
		return;
	if (!s->fault.failed && !sink->discard && s->nq > 0 && !apply(sink, s, e, sizeof(e)))
		tlog_error("sink.postgres", "%s: %s", s->sink_name, e);
	state_free(s);
	sink->state = NULL;
}

/* Counters. */
void
trib_pgsink_get_stats(const trib_sink *sink, trib_pgsink_stats *out)
{
	const pgs_sink *s = sink->state;

	memset(out, 0, sizeof(*out));
	if (s)
		*out = s->stats;
}

/* After a failure: is the target's connection gone (a server restart)? */
static bool
pg_lost_connection(trib_sink *sink)
{
	pgs_sink	   *s = sink->state;

	return s != NULL && (s->conn_lost || s->conn == NULL || PQstatus(s->conn) != CONNECTION_OK);
}

/* Create the target of a table no row may reach (sink.h), as its first row
 * would: in the sink's schema, else the source's; nothing when
 * create_tables is off. */
static bool
pg_prepare_table(trib_sink *sink, const trib_relation *rel, char *errbuf, size_t errlen)
{
	pgs_sink	   *s = sink->state;

	if (!usable(s, errbuf, errlen))
		return false;
	if (!s->create_tables || rel == NULL || rel->table == NULL || rel->ncolumns == 0)
		return true;
	if ((!s->conn || PQstatus(s->conn) != CONNECTION_OK) && !connect_db(s, errbuf, errlen))
		return false;
	return pgs_prepare_target(s, s->schema ? s->schema : rel->schema ? rel->schema : "public",
							  rel->table, rel, errbuf, errlen);
}
