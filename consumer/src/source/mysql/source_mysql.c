/*
 * source_mysql.c: the MySQL/MariaDB source facade (source_mysql.h):
 * reader -> decoder -> assembler, with reconnects.
 *
 * The decoder, the schema history and its information_schema reader live
 * as long as the source, so shapes (and the relations events point at)
 * survive reconnects.  Each (re)start makes a new reader and a new
 * assembler that resumes after the last item delivered; a BEGIN delivered
 * just before a connection loss is not delivered again.  A BEGIN is handed
 * out only together with the item after it: a stream lost between a
 * group's start and its first change (the server gone while that change's
 * table shape is read) then leaves the pipeline outside a transaction of
 * this source, so its other sources flow while this one reconnects.
 *
 * Every query the source makes on the server gives its error number with
 * its message, and one rule sorts them: a lost or refused connection
 * (trib_my_error_retryable()) is waited out, anything else (a refused
 * login, a syntax or permission error, a precondition not met) fails.  So
 * a server that cannot be reached at start, or is lost during the start's
 * steps (the preconditions, the start position, the collations), does not
 * fail the start: those steps wait for the reconnect schedule like a lost
 * stream, so the pipeline's other sources flow meanwhile.  A server lost
 * while an event is decoded (its table's shape read from
 * information_schema) drops the stream, resumed after the last item
 * delivered, as when the binlog connection itself is lost.
 *
 * That lookup runs on a thread of its own (mysql_lookup.h): the event
 * that needs it is kept (the reader's buffer stays valid until its next
 * call) and decoded again once the answer is in, and meanwhile poll
 * returns what it has, so a stalled server holds neither the loop nor
 * the pipeline's other sources.
 */
#include "source_mysql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "mysql_check.h"
#include "mysql_history_file.h"
#include "mysql_infoschema.h"
#include "mysql_lag_probe.h"
#include "mysql_lag.h"
#include "mysql_int.h"
#include "mysql_lookup.h"
#include "mysql_reader.h"
#include "mysql_schema.h"
#include "strbuf.h"

struct trib_source_mysql
{
	trib_source_mysql_conf conf;
	char	   *strings[8];		/* copies conf points into */

	trib_my_infoschema *infoschema;	/* the start's collations */
	trib_my_lookup *lookup;		/* tables' shapes, off the loop */
	trib_my_history *history;
	trib_my_schema schema;
	trib_my_decoder *decoder;
	trib_my_reader *reader;
	trib_my_tx *tx;
	trib_my_event ev;
	const uint8_t *pending;		/* the event waiting for its lookup, */
	size_t		pending_len;	/* the reader's buffer: no next() meanwhile */

	bool		started;
	bool		ended;
	char	   *failed;			/* a fatal error: every later poll fails */
	bool		have_delivered;
	trib_my_pos delivered;		/* last EVENT/END/DDL item handed out */
	bool		have_begin;
	trib_my_pos begin;			/* last BEGIN handed out, if after it */
	bool		holding_begin;	/* held_begin waits for the item after it */
	trib_my_item held_begin;
	char		start_file[TRIB_MY_FILE_MAX];
	uint64_t	start_pos;
	bool		start_pending;	/* the server was down at start (above) */
	bool		resume_by_number;	/* delivered.file to be named: */
	uint32_t	resume_file_no; /* the number of its binlog file */
	int64_t		retry_at_ms;	/* reconnect not before; 0: connected */
	int			backoff_ms;
	trib_source_mysql_stats stats;
	trib_my_lag lag;			/* what the reader read last */
	trib_my_lag_probe *probe;	/* the binlog sizes for lag in bytes, asked
								 * off the loop; NULL until first needed */
};

/* Log through the configured callback. */
#define slog(src, level, ...) \
	trib_log_hookf((src)->conf.log, (src)->conf.log_arg, (level), __VA_ARGS__)

/* The schema history's lines go to the source's log. */
static void
history_log(int level, const char *msg, void *arg)
{
	slog((trib_source_mysql *) arg, level, "%s", msg);
}

/* Replay and keep the schema history file. */
static bool
open_history(trib_source_mysql *src, const char *path, char *errbuf, size_t errlen)
{
	size_t		n;

	if (!trib_my_history_file_open(src->history, path, &n, errbuf, errlen))
		return false;
	slog(src, 2, "schema history %s: %zu records replayed, %zu table versions",
		 path, n, trib_my_history_versions(src->history));
	return true;
}

trib_source_mysql *
trib_source_mysql_new(const trib_source_mysql_conf *conf, char *errbuf, size_t errlen)
{
	trib_source_mysql *src;
	trib_my_decoder_conf dconf = {0};

	if (conf->server_id == 0)
		return trib_my_fail(errbuf, errlen,
							"server_id: required, 1 to 4294967295, unique among the server's replicas"), NULL;
	if (conf->conn.user == NULL || conf->conn.user[0] == '\0')
		return trib_my_fail(errbuf, errlen, "user: required"), NULL;
	src = trib_xcalloc(1, sizeof(*src));
	src->conf = *conf;
	trib_my_conn_keep(&src->conf.conn, &conf->conn, src->strings);
	src->conf.source_name = trib_my_keep(src->strings, 4, conf->source_name ? conf->source_name : "mysql");
	src->conf.report_host = trib_my_keep(src->strings, 5, conf->report_host);
	src->conf.start_gtid = trib_my_keep(src->strings, 6, conf->start_gtid);
	src->conf.zero_date = trib_my_keep(src->strings, 7, conf->zero_date);
	if (conf->start_file)
		snprintf(src->start_file, sizeof(src->start_file), "%s", conf->start_file);
	src->start_pos = conf->start_pos;
	if (src->conf.reconnect_min_ms <= 0)
		src->conf.reconnect_min_ms = 100;
	if (src->conf.reconnect_max_ms <= 0)
		src->conf.reconnect_max_ms = 30000;
	src->infoschema = trib_my_infoschema_new(&src->conf.conn);
	src->lookup = trib_my_lookup_new(&src->conf.conn, errbuf, errlen);
	if (src->lookup == NULL)
	{
		trib_source_mysql_free(src);
		return NULL;
	}
	src->history = trib_my_history_new(trib_my_lookup_load, src->lookup);
	src->schema = trib_my_history_schema(src->history);
	trib_my_history_set_log(src->history, history_log, src);
	if (conf->schema_history && !open_history(src, conf->schema_history, errbuf, errlen))
	{
		trib_source_mysql_free(src);
		return NULL;
	}
	dconf.schema = &src->schema;
	dconf.zero_date = src->conf.zero_date;
	dconf.checksums = true;
	src->decoder = trib_my_decoder_new(&dconf);
	return src;
}

/* The server's current binlog end (SHOW MASTER STATUS); *errnum as
 * trib_my_rows_once(). */
static bool
current_end(trib_source_mysql *src, unsigned *errnum, char *errbuf, size_t errlen)
{
	trib_my_rows r;
	bool		ok = trib_my_rows_once(&src->conf.conn, "SHOW MASTER STATUS", &r, errnum,
									   errbuf, errlen);

	if (ok && (r.nrows < 1 || !trib_my_cell(&r, 0, 0) || !trib_my_cell(&r, 0, 1)))
		ok = trib_my_fail(errbuf, errlen,
						  "SHOW MASTER STATUS returned nothing: binary logging is off (start the server with log_bin)");
	if (ok)
	{
		snprintf(src->start_file, sizeof(src->start_file), "%s", trib_my_cell(&r, 0, 0));
		src->start_pos = strtoull(trib_my_cell(&r, 0, 1), NULL, 10);
	}
	trib_my_rows_free(&r);
	return ok;
}

/* trib_source_mysql_binlog_name() with *errnum as trib_my_rows_once()
 * (0 when the server answered without the file). */
static bool
binlog_name(const trib_source_mysql *src, uint32_t number, char *buf, size_t len,
			unsigned *errnum, char *errbuf, size_t errlen)
{
	trib_my_rows r;
	bool		found = false;

	if (!trib_my_rows_once(&src->conf.conn, "SHOW BINARY LOGS", &r, errnum, errbuf, errlen))
		return false;
	for (int i = 0; i < r.nrows && !found; i++)
	{
		const char *name = trib_my_cell(&r, i, 0);
		uint32_t	n;

		if (name && trib_my_file_number(name, &n) && n == number)
		{
			snprintf(buf, len, "%s", name);
			found = true;
		}
	}
	trib_my_rows_free(&r);
	if (!found)
		trib_my_fail(errbuf, errlen,
					 "binlog file number %u, where the stored position is, is not on the server "
					 "(SHOW BINARY LOGS; purged?): take a new snapshot (docs/MYSQL.md)", number);
	return found;
}

bool
trib_source_mysql_binlog_name(const trib_source_mysql *src, uint32_t number,
							  char *buf, size_t len, char *errbuf, size_t errlen)
{
	return binlog_name(src, number, buf, len, NULL, errbuf, errlen);
}

/* Forget a BEGIN held back by drain(). */
static void
drop_held_begin(trib_source_mysql *src)
{
	if (src->holding_begin)
		trib_my_item_clear(&src->held_begin);
	src->holding_begin = false;
}

/* The next item for drain() into *it: a held BEGIN once an item follows
 * it, else the assembler's next, where a BEGIN with nothing after it yet
 * is held back; false when there is nothing to hand out now. */
static bool
next_item(trib_source_mysql *src, trib_my_item *it)
{
	if (src->holding_begin)
	{
		if (!trib_my_tx_ready(src->tx))
			return false;
		*it = src->held_begin;
		src->holding_begin = false;
		return true;
	}
	if (!trib_my_tx_next(src->tx, it))
		return false;
	if (it->kind == TRIB_MY_ITEM_BEGIN && !trib_my_tx_ready(src->tx))
	{
		src->held_begin = *it;
		src->holding_begin = true;
		return false;
	}
	return true;
}

/* A new reader and assembler resuming after `after` (or the start). */
static bool
open_stream(trib_source_mysql *src, const trib_my_pos *after, char *errbuf,
			size_t errlen)
{
	trib_my_reader_conf rc = {0};
	trib_my_tx_conf tc = {0};
	char		state[4096] = "";

	rc.conn = src->conf.conn;
	rc.server_id = src->conf.server_id;
	rc.report_host = src->conf.report_host;
	rc.heartbeat_ms = src->conf.heartbeat_ms;
	rc.stop_at_end = src->conf.stop_at_end;
	rc.annotate = src->conf.include_query;
	rc.queue_bytes = src->conf.queue_bytes;
	if (after)
	{
		rc.file = after->file;
		rc.pos = after->tx_pos;
	}
	else if (src->conf.start_gtid)
		rc.gtid_state = src->conf.start_gtid;
	else
	{
		rc.file = src->start_file;
		rc.pos = src->start_pos;
	}
	if (src->tx)
		trib_my_tx_gtid_state(src->tx, state, sizeof(state));
	tc.source_name = src->conf.source_name;
	tc.resume_after = after;
	tc.gtid_state = state[0] ? state : (after ? NULL : src->conf.start_gtid);
	tc.schema = &src->schema;
	tc.include_query = src->conf.include_query;
	trib_my_tx_free(src->tx);
	drop_held_begin(src);		/* its group is read again */
	src->tx = trib_my_tx_new(&tc, errbuf, errlen);
	if (src->tx == NULL)
		return false;
	trib_my_decoder_reset_tables(src->decoder);
	if (rc.file)
		trib_my_decoder_set_file(src->decoder, rc.file);
	src->reader = trib_my_reader_start(&rc, errbuf, errlen);
	return src->reader != NULL;
}

/* The preconditions (mysql_check.h): warnings logged, failures refuse to
 * start, each naming the variable or privilege and the fix.  At start a
 * replica already registered with our server_id is most often our own
 * dump connection from before a crash (kill -9), which the server drops
 * once it notices, or when we register: a warning here, a failure in
 * `tributary check`. */
static bool
check_preconditions(trib_source_mysql *src, unsigned *errnum, char *errbuf, size_t errlen)
{
	trib_my_finding *fs = NULL;
	int			n = trib_my_check_errnum(&src->conf.conn, src->conf.server_id, NULL, 0, &fs,
										 errnum, errbuf, errlen);
	trib_strbuf fails = {0};

	if (n < 0)
		return false;
	for (int i = 0; i < n; i++)
	{
		if (fs[i].verdict == TRIB_MY_FAIL && strcmp(fs[i].what, "server_id uniqueness") == 0)
			fs[i].verdict = TRIB_MY_WARN;
		if (fs[i].verdict == TRIB_MY_WARN)
			slog(src, 1, "precondition %s: %s", fs[i].what, fs[i].message);
		else if (fs[i].verdict == TRIB_MY_FAIL)
			trib_strbuf_printf(&fails, "%s%s: %s", fails.len ? "; " : "",
							   fs[i].what, fs[i].message);
	}
	trib_my_findings_free(fs, n);
	if (fails.len == 0)
	{
		trib_strbuf_free(&fails);
		return true;
	}
	trib_my_fail(errbuf, errlen, "preconditions not met (docs/MYSQL.md): %s", fails.data);
	trib_strbuf_free(&fails);
	return false;
}

/* The start's steps that need the server, then the stream; false with
 * errbuf and *errnum (the failed query's error number, 0 when no query
 * failed: a precondition not met, an invalid setting). */
static bool
start_now(trib_source_mysql *src, unsigned *errnum, char *errbuf, size_t errlen)
{
	char		err[512];

	*errnum = 0;
	if (!check_preconditions(src, errnum, errbuf, errlen))
		return false;
	if (src->have_delivered && src->resume_by_number &&
		!binlog_name(src, src->resume_file_no, src->delivered.file,
					 sizeof(src->delivered.file), errnum, errbuf, errlen))
		return false;
	src->resume_by_number = false;
	if (!src->have_delivered && src->conf.start_gtid == NULL &&
		src->start_file[0] == '\0' && !current_end(src, errnum, errbuf, errlen))
		return false;
	if (!trib_my_infoschema_collations(src->infoschema, src->decoder, errnum, err, sizeof(err)))
	{
		if (trib_my_error_retryable(*errnum))
			return trib_my_fail(errbuf, errlen, "reading the server's collations: %s", err);
		slog(src, 1, "could not read the server's collations (built-in table used): %s", err);
		*errnum = 0;
	}
	src->start_pending = false;
	return open_stream(src, src->have_delivered ? &src->delivered : NULL, errbuf, errlen);
}

/* The next attempt after the backoff (doubling up to reconnect_max_ms). */
static void
back_off(trib_source_mysql *src)
{
	src->backoff_ms = src->backoff_ms ? src->backoff_ms * 2 : src->conf.reconnect_min_ms;
	if (src->backoff_ms > src->conf.reconnect_max_ms)
		src->backoff_ms = src->conf.reconnect_max_ms;
	src->retry_at_ms = trib_clock_mono_ms() + src->backoff_ms;
	src->stats.reconnects++;
}

/* The start's steps, or, when the server was lost or could not be reached
 * (at start, or still at a retry), the same again after the backoff; false
 * on any other error. */
static bool
start_or_defer(trib_source_mysql *src, char *errbuf, size_t errlen)
{
	unsigned	errnum;

	if (start_now(src, &errnum, errbuf, errlen))
		return true;
	if (!trib_my_error_retryable(errnum))
		return false;
	src->start_pending = true;
	back_off(src);
	slog(src, 1, "server unreachable at start (%s); retrying in %d ms", errbuf, src->backoff_ms);
	return true;
}

void
trib_source_mysql_resume_file_number(trib_source_mysql *src, uint32_t number)
{
	src->resume_by_number = true;
	src->resume_file_no = number;
}

/* See source_mysql.h. */
bool
trib_source_mysql_add_shape(trib_source_mysql *src, const trib_my_pos *from,
							trib_my_tableinfo *t, char *errbuf, size_t errlen)
{
	return trib_my_history_record(src->history, from, t, errbuf, errlen);
}

bool
trib_source_mysql_start(trib_source_mysql *src, const trib_my_pos *resume,
						char *errbuf, size_t errlen)
{
	if (src->started)
		return trib_my_fail(errbuf, errlen, "the MySQL source is already started");
	if (resume)
	{
		src->have_delivered = true;
		src->delivered = *resume;
	}
	src->started = true;
	return start_or_defer(src, errbuf, errlen);
}

/* After a step of the stream failed with errnum (why says how): when the
 * server was lost or refused the connection, drop the reader and schedule
 * a reconnect after the backoff, resuming after the last item delivered,
 * and return true; false for any other error, which fails the source. */
static bool
reconnect_if_lost(trib_source_mysql *src, unsigned errnum, const char *why)
{
	if (!trib_my_error_retryable(errnum))
		return false;
	src->pending = NULL;
	trib_my_lookup_forget(src->lookup);
	trib_my_reader_free(src->reader);
	src->reader = NULL;
	back_off(src);
	slog(src, 1, "binlog stream lost (%s); reconnecting in %d ms", why, src->backoff_ms);
	return true;
}

/* Reconnect when it is time; false on a fatal error. */
static bool
maybe_reconnect(trib_source_mysql *src, char *errbuf, size_t errlen)
{
	if (src->reader || src->retry_at_ms > trib_clock_mono_ms())
		return true;
	src->retry_at_ms = 0;
	if (src->start_pending)
		return start_or_defer(src, errbuf, errlen);
	return open_stream(src, src->have_delivered ? &src->delivered : NULL, errbuf, errlen);
}

/* Hand out ready items; returns how many went into out[]. */
static int
drain(trib_source_mysql *src, trib_my_item *out, int max)
{
	int			n = 0;

	if (src->tx == NULL)
		return 0;				/* not started yet: the server was down */
	while (n < max && next_item(src, &out[n]))
	{
		trib_my_item *it = &out[n];

		if (it->kind == TRIB_MY_ITEM_BEGIN)
		{
			if (src->have_begin && trib_my_pos_cmp(&it->pos, &src->begin) == 0)
			{
				trib_my_item_clear(it);
				continue;		/* delivered before the reconnect */
			}
			src->have_begin = true;
			src->begin = it->pos;
		}
		else
		{
			src->have_delivered = true;
			src->delivered = it->pos;
			src->have_begin = false;
		}
		src->stats.items++;
		n++;
	}
	return n;
}

/* Decode one raw event and feed it to the assembler; false with errbuf
 * and *errnum (a query's error number: the table shape's lookup; 0 for
 * any other error). */
static bool
consume(trib_source_mysql *src, const uint8_t *buf, size_t len, unsigned *errnum,
		char *errbuf, size_t errlen)
{
	trib_my_pos at;
	bool		open = trib_my_tx_open(src->tx, &at);

	if (!trib_my_decode(src->decoder, buf, len, open ? &at : NULL, &src->ev, errnum,
						errbuf, errlen))
		return false;
	if (src->ev.kind == TRIB_MY_EV_HEARTBEAT)
		src->stats.heartbeats++;
	trib_my_lag_note(&src->lag, src->ev.kind == TRIB_MY_EV_HEARTBEAT, src->ev.file,
					 src->ev.next_pos, src->ev.timestamp);
	if (!trib_my_tx_feed(src->tx, &src->ev, errbuf, errlen))
		return false;
	if (trib_my_history_error(src->history))	/* a DDL not recorded */
		return trib_my_fail(errbuf, errlen, "%s", trib_my_history_error(src->history));
	return true;
}

/*
 * The next raw event as trib_my_reader_next() gives it: the one kept for
 * its table's lookup once the answer is in (0 while it is not, after
 * waiting up to timeout_ms), else the reader's next.
 */
static int
next_event(trib_source_mysql *src, const uint8_t **buf, size_t *len, int timeout_ms,
		   unsigned *errnum, char *errbuf, size_t errlen)
{
	int			rc;

	*errnum = 0;
	if (src->pending)
	{
		if (!trib_my_lookup_wait(src->lookup, timeout_ms))
			return 0;
		*buf = src->pending;
		*len = src->pending_len;
		src->pending = NULL;
		return 1;
	}
	rc = trib_my_reader_next(src->reader, buf, len, timeout_ms, errnum, errbuf, errlen);
	if (rc > 0)
		src->stats.binlog_events++;
	return rc;
}

/* Remember a fatal error; return what poll returns: the items already in
 * out[] now, -1 (with the message) on every later call. */
static int
fail(trib_source_mysql *src, int n, const char *msg)
{
	src->failed = trib_xstrdup(msg);
	slog(src, 0, "%s", msg);
	return n > 0 ? n : -1;
}

int
trib_source_mysql_poll(trib_source_mysql *src, trib_my_item *out, int max,
					   int timeout_ms, char *errbuf, size_t errlen)
{
	int64_t		until = trib_clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int			n = 0;

	if (!src->started)
		return trib_my_fail(errbuf, errlen, "poll before start"), -1;
	if (src->failed)
		return trib_my_fail(errbuf, errlen, "%s", src->failed), -1;
	while (n < max && !src->ended)
	{
		const uint8_t *buf;
		size_t		len;
		unsigned	errnum;
		int64_t		left = until - trib_clock_mono_ms();
		int			rc;

		n += drain(src, out + n, max - n);
		if (n == max)
			break;
		if (!maybe_reconnect(src, errbuf, errlen))
			return fail(src, n, errbuf);
		if (src->reader == NULL)
			break;
		rc = next_event(src, &buf, &len, n > 0 || left <= 0 ? 0 : (int) left,
						&errnum, errbuf, errlen);
		if (rc == 0)
			break;
		if (rc < 0 && errnum == 0)
		{
			src->ended = true;
			break;
		}
		if (rc < 0 && !reconnect_if_lost(src, errnum, errbuf))
			return fail(src, n, errbuf);
		if (rc < 0)
			continue;
		src->backoff_ms = 0;
		/* the event's queries (its table's shape) as the stream's own */
		if (consume(src, buf, len, &errnum, errbuf, errlen))
			continue;
		if (errnum == TRIB_MY_LOOKUP_PENDING)
		{
			src->pending = buf;	/* decoded again once answered */
			src->pending_len = len;
		}
		else if (!reconnect_if_lost(src, errnum, errbuf))
			return fail(src, n, errbuf);
	}
	n += drain(src, out + n, max - n);
	src->stats.schema_versions = trib_my_history_versions(src->history);
	return n;
}

bool
trib_source_mysql_ended(const trib_source_mysql *src)
{
	return src->ended && !(src->tx && trib_my_tx_ready(src->tx));
}

double
trib_source_mysql_seconds_behind(const trib_source_mysql *src)
{
	return trib_my_lag_seconds(&src->lag, trib_clock_wall_ms());
}

int
trib_source_mysql_bytes_behind(trib_source_mysql *src, uint64_t *out,
							   char *errbuf, size_t errlen)
{
	trib_my_rows r;
	bool		ok;
	int			rc;

	if (src->reader == NULL || !src->lag.read)
		return 0;
	if (src->probe == NULL &&
		(src->probe = trib_my_lag_probe_new(&src->conf.conn, errbuf, errlen)) == NULL)
		return -1;
	rc = trib_my_lag_probe_take(src->probe, &r, errbuf, errlen);
	if (rc == 0)
		trib_my_lag_probe_ask(src->probe);	/* answered on a later call */
	if (rc <= 0)
		return rc;
	ok = trib_my_lag_bytes(&src->lag, &r, out);
	if (!ok)
		trib_my_fail(errbuf, errlen, "binlog file %s is not in SHOW BINARY LOGS", src->lag.file);
	trib_my_rows_free(&r);
	return ok ? 1 : -1;
}

/* See source_mysql.h. */
bool
trib_source_mysql_each_at(const trib_source_mysql *src, const trib_my_pos *at,
						  trib_my_history_each_fn fn, void *arg)
{
	return trib_my_history_each_at(src->history, at, fn, arg);
}

void
trib_source_mysql_stats_get(const trib_source_mysql *src, trib_source_mysql_stats *out)
{
	*out = src->stats;
}

void
trib_source_mysql_free(trib_source_mysql *src)
{
	if (src == NULL)
		return;
	trib_my_lag_probe_free(src->probe);
	trib_my_lookup_free(src->lookup);
	trib_my_reader_free(src->reader);
	drop_held_begin(src);
	trib_my_tx_free(src->tx);
	trib_my_event_clear(&src->ev);
	trib_my_decoder_free(src->decoder);
	trib_my_history_free(src->history);
	trib_my_infoschema_free(src->infoschema);
	free(src->failed);
	trib_my_strings_free(src->strings, 8);
	free(src);
}
