/*
 * mysql_source_ops.c: the MySQL/MariaDB source behind the source
 * interface (source.h): trib_mysql_source_ops, which trib_source_mysql
 * registers.
 *
 * Design.  A thin adapter over the facade (source_mysql.h), as
 * pg_source_ops.c is over the PostgreSQL client: open turns the settings
 * (mysql_source_conf.h) into the facade's config, poll turns the
 * assembler's items into source-neutral ones (BEGIN, EVENT, END; a DDL
 * item is logged, and the table versions the schema history derived from
 * it are registered in the pipeline's schema registry at its position
 * through the host's declare(), before any later item is handed out),
 * check runs the
 * preconditions (mysql_check.h).  Items stay alive until the next poll, so
 * the pipeline borrows their events without a copy.
 *
 * Positions (core's trib_position), one server's binlog being totally
 * ordered by (file number, offset):
 *
 *   commit_lsn  file number << 32 | offset of the transaction's first
 *               event (its GTID event, or BEGIN where there is none);
 *               binlog offsets are 32-bit.  Transactions do not interleave
 *               in the binlog, so this orders them as their end offsets
 *               would, and it is exactly where a resume must reconnect
 *   seq         the change's index in the transaction (0, 1, ...);
 *               TRIB_SEQ_ALL (= TRIB_MY_ROW_ALL) for the whole transaction
 *   end_lsn     file number << 32 | offset after the commit (on END items
 *               and the last event of a transaction)
 *   lsn         file number << 32 | offset of the event's rows event
 *   opaque      the native position as JSON: {"id", "file", "pos", "row",
 *               "gtid", "server_id", "event_pos"} (+ "end_pos",
 *               "gtid_state" on a transaction's last event)
 *
 * compare() orders by (commit_lsn, seq).  format_id() writes the native
 * event id "GTID/FILE:POS/ROW" (mysql_position.h; "/ROW" left out for a
 * whole transaction) from the opaque position; without one (the pipeline
 * keeps only the numbers of checkpoints and acknowledgements) FILE is the
 * file number, "/000003:928/5".
 *
 * Resume.  start() is given what a sink or the checkpoint stored: at
 * least (commit_lsn, seq).  The file comes from the opaque position when
 * there is one, else from SHOW BINARY LOGS by its number; the binlog is
 * dumped from the transaction's first event and the assembler drops the
 * changes up to seq (mysql_tx.h), so nothing is delivered twice even
 * inside a large transaction.  A GTID in the opaque position is checked
 * against the binlog's (a replaced binlog fails); a purged file fails,
 * naming the recovery (a new snapshot).
 *
 * Confirmation: a binlog reader keeps no state on the server, so confirm()
 * only records what the pipeline made durable (confirmed(), /status).
 */
#include "mysql_source_conf.h"

#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "check_report.h"
#include "clock.h"
#include "eventid.h"
#include "jsondoc.h"
#include "log.h"
#include "metrics.h"
#include "mysql_check.h"
#include "mysql_ddl_lex.h"
#include "mysql_int.h"
#include "mysql_leader.h"
#include "mysql_snapshot_run.h"
#include "source.h"
#include "source_mysql.h"
#include "strbuf.h"
#include "xalloc.h"

typedef struct my_state
{
	trib_source_mysql *my;
	const trib_mysql_source_conf *conf;
	trib_my_item *items;		/* the last poll's items */
	int			nitems;
	int			next;			/* the first of them not handed out yet: a
								 * poll ends before a DDL item that follows
								 * others, so that its versions are
								 * registered after them (declare_ddl) */
	const trib_source_host *host;	/* the pipeline's, from snapshot() */
	int			capitems;
	uint64_t	ddl;			/* DDL statements seen */
	trib_metric *m_seconds_behind;	/* the reader's lag (mysql_lag.h) */
	int64_t		lag_bytes_at_ms;	/* when the bytes were last asked */
	uint64_t	stream_base;	/* the snapshot's events' commit_lsn: stream
								 * from just after it (mysql_snapshot_run.h) */
	trib_my_tableinfo **shapes; /* tables altered during the copy, as they
								 * were at its position (NULL-terminated) */
} my_state;

/* How often update_metrics asks the server for its binlog sizes. */
#define LAG_BYTES_EVERY_MS 2000

/* Facade log lines go to our log (its levels are the log's), naming the
 * source (arg: its name). */
static void
source_log(int level, const char *msg, void *arg)
{
	trib_log_write((trib_log_level) level, "source", "source %s: %s", (const char *) arg, msg);
}

/* The facade's connection settings from ours. */
static trib_my_conn_conf
conn_of(const trib_mysql_source_conf *c)
{
	trib_my_conn_conf cc = {0};

	cc.host = c->host;
	cc.port = (unsigned) c->port;
	cc.socket = c->socket;
	cc.user = c->user;
	cc.password = c->password;
	return cc;
}

/* The facade, starting at start_file:start_pos (NULL: as configured). */
static trib_source_mysql *
facade_new(const trib_source *src, const trib_mysql_source_conf *c, const char *start_file,
		   uint64_t start_pos, char *errbuf, size_t errlen)
{
	trib_source_mysql_conf sc = {0};

	sc.conn = conn_of(c);
	sc.source_name = src->name;
	sc.server_id = (uint32_t) c->server_id;
	sc.report_host = c->report_host;
	sc.start_file = start_file ? start_file : c->start_file;
	sc.start_pos = start_file ? start_pos : (uint64_t) c->start_pos;
	sc.start_gtid = start_file ? NULL : c->start_gtid;
	sc.zero_date = c->zero_date;
	sc.schema_history = c->schema_history;
	sc.heartbeat_ms = c->heartbeat_ms;
	sc.include_query = c->include_query;
	sc.queue_bytes = (size_t) c->queue_mb << 20;
	sc.reconnect_min_ms = c->reconnect_backoff_ms.initial;
	sc.reconnect_max_ms = c->reconnect_backoff_ms.max;
	sc.log = source_log;
	sc.log_arg = (void *) src->name;
	return trib_source_mysql_new(&sc, errbuf, errlen);
}

/* source.h: open. */
static bool
my_open(trib_source *src, const trib_plugin_conf *conf, char *errbuf, size_t errlen)
{
	const trib_mysql_source_conf *c = trib_mysql_source_conf_of(conf);
	my_state   *s;

	if (c == NULL)
		return trib_source_not_ours(src, errbuf, errlen);
	s = trib_xcalloc(1, sizeof(*s));
	s->conf = c;
	s->my = facade_new(src, c, NULL, 0, errbuf, errlen);
	if (s->my == NULL)
	{
		free(s);
		return false;
	}
	s->m_seconds_behind = trib_source_metric(src, false, "tributary_mysql_binlog_seconds_behind",
											 "Seconds from the last binlog event read to now (0 once caught up).");
	trib_source_opened(src, s, c->lock_dsn, c->reconnect_backoff_ms.initial,
					   c->reconnect_backoff_ms.max);
	return true;
}

/* The native position of a stored one (see Resume above). */
static bool
native_of(my_state *s, const trib_position *p, trib_my_pos *out,
		  char *errbuf, size_t errlen)
{
	yajl_val	o = p->opaque ? yajl_tree_parse(p->opaque, NULL, 0) : NULL;
	const char *file = trib_jdoc_member_str(o, "file");
	const char *gtid = trib_jdoc_member_str(o, "gtid");
	bool		ok = true;
	char		err[512];

	memset(out, 0, sizeof(*out));
	out->tx_pos = p->commit_lsn & 0xFFFFFFFFu;
	out->row = p->seq;
	if (file)
		snprintf(out->file, sizeof(out->file), "%s", file);
	else if (!trib_source_mysql_binlog_name(s->my, (uint32_t) (p->commit_lsn >> 32), out->file,
											sizeof(out->file), err, sizeof(err)))
		/* the server is down (or the file gone): the start names it once the
		 * server answers, or fails then with the reason */
		trib_source_mysql_resume_file_number(s->my, (uint32_t) (p->commit_lsn >> 32));
	if (ok && gtid && !trib_my_gtid_parse(gtid, strlen(gtid), &out->gtid))
		ok = trib_my_fail(errbuf, errlen, "the stored position's GTID \"%s\" does not parse", gtid);
	yajl_tree_free(o);
	return ok;
}

/* Free the shapes the snapshot left, if any. */
static void
shapes_free(my_state *s)
{
	for (int i = 0; s->shapes && s->shapes[i]; i++)
		trib_my_tableinfo_free(s->shapes[i]);
	free(s->shapes);
	s->shapes = NULL;
}

/* Give the facade's schema history the shapes of the tables altered
 * during the copy, valid from the snapshot's position `from` on, so that
 * their changes before the ALTER decode with the shape they were written
 * in (docs/MYSQL.md, "DDL during the copy"). */
static bool
add_shapes(my_state *s, const trib_my_pos *from, char *errbuf, size_t errlen)
{
	bool		ok = true;

	for (int i = 0; s->shapes && s->shapes[i]; i++)
	{
		trib_my_tableinfo *t = s->shapes[i];

		s->shapes[i] = NULL;
		if (!ok)
			trib_my_tableinfo_free(t);
		else
			ok = trib_source_mysql_add_shape(s->my, from, t, errbuf, errlen);
	}
	shapes_free(s);
	return ok;
}

/* After a snapshot: stream from its binlog position, the one just after
 * stream_base (nothing resumed there is inside a transaction). */
static bool
start_after_snapshot(trib_source *src, my_state *s, char *errbuf, size_t errlen)
{
	uint64_t	at = s->stream_base + 1;
	char		file[TRIB_MY_FILE_MAX];
	trib_my_pos from = {0};
	trib_source_mysql *my;

	if (!trib_source_mysql_binlog_name(s->my, (uint32_t) (at >> 32), file, sizeof(file),
									   errbuf, errlen))
		return false;
	my = facade_new(src, s->conf, file, at & 0xFFFFFFFFu, errbuf, errlen);
	if (my == NULL)
		return false;
	trib_source_mysql_free(s->my);
	s->my = my;
	snprintf(from.file, sizeof(from.file), "%s", file);
	from.tx_pos = at & 0xFFFFFFFFu;
	if (!add_shapes(s, &from, errbuf, errlen))
		return false;
	tlog_info("source", "source %s: streaming from binlog %s:%llu, where the snapshot ends",
			  src->name, file, (unsigned long long) (at & 0xFFFFFFFFu));
	return trib_source_mysql_start(s->my, NULL, errbuf, errlen);
}

/* source.h: snapshot (mysql_snapshot_run.h); notes where streaming then
 * starts. */
static int
my_snapshot(trib_source *src, const trib_source_host *host, bool only,
			volatile sig_atomic_t *stop, char *errbuf, size_t errlen)
{
	my_state   *s = src->state;
	int			rc;

	shapes_free(s);
	s->host = host;				/* kept for declare_ddl() */
	rc = trib_my_snapshot_run(src->name, s->conf, host, only, stop, &s->stream_base,
								&s->shapes, errbuf, errlen);

	if (rc == 1 && (only || s->conf->snapshot == TRIB_MY_SNAPSHOT_ONLY))
		return TRIB_SNAPSHOT_DONE_STOP;
	return rc;
}

/* source.h: start, after `resume` or where the settings say. */
static bool
my_start(trib_source *src, const trib_position *resume, char *errbuf, size_t errlen)
{
	my_state   *s = src->state;
	trib_my_pos at;
	char		at_file[TRIB_MY_FILE_MAX + 16];

	if (s->stream_base != 0 && (resume == NULL || resume->commit_lsn <= s->stream_base))
		return start_after_snapshot(src, s, errbuf, errlen);
	if (resume == NULL)
		return trib_source_mysql_start(s->my, NULL, errbuf, errlen);
	if (!native_of(s, resume, &at, errbuf, errlen))
		return false;
	if (at.file[0] == '\0')
		snprintf(at_file, sizeof(at_file), "number %u", (unsigned) (resume->commit_lsn >> 32));
	else
		snprintf(at_file, sizeof(at_file), "%s", at.file);
	tlog_info("source", "source %s: resuming after binlog %s:%llu, change %lld of that "
			  "transaction", src->name, at_file, (unsigned long long) at.tx_pos,
			  at.row == TRIB_MY_ROW_ALL ? -1LL : (long long) at.row);
	return trib_source_mysql_start(s->my, &at, errbuf, errlen);
}

/* Release the items the last poll handed out (all of them, when it
 * handed out all). */
static void
release_items(my_state *s)
{
	for (int i = 0; i < s->next; i++)
		trib_my_item_clear(&s->items[i]);
	if (s->next >= s->nitems)
		s->nitems = s->next = 0;
}

/* file number << 32 | offset in the item's file. */
static uint64_t
major_of(const trib_my_item *it, uint64_t offset)
{
	trib_my_pos p = it->pos;
	uint64_t	m = 0;

	p.tx_pos = offset;
	return trib_my_pos_major(&p, &m) ? m : 0;
}

/* One item as the interface's; false when it carries nothing for the
 * pipeline (DDL). */
static bool
to_item(trib_my_item *it, trib_source_item *out)
{
	memset(out, 0, sizeof(*out));
	switch (it->kind)
	{
		case TRIB_MY_ITEM_BEGIN:
			out->kind = TRIB_ITEM_BEGIN;
			return true;
		case TRIB_MY_ITEM_EVENT:
			out->kind = TRIB_ITEM_EVENT;
			out->ev = it->event;
			return true;
		case TRIB_MY_ITEM_END:
			out->kind = TRIB_ITEM_END;
			out->end.commit_lsn = major_of(it, it->pos.tx_pos);
			out->end.seq = TRIB_SEQ_ALL;
			out->end.end_lsn = major_of(it, it->end_pos);
			out->ts_ms = it->ts_ms;
			return true;
		case TRIB_MY_ITEM_DDL:
			return false;		/* hand_out() */
	}
	return false;
}

/* What declaring a DDL's versions needs (declare_version). */
typedef struct declare_ctx
{
	const trib_source *src;
	const trib_source_host *host;
	trib_position pos;			/* the statement's */
	char	   *errbuf;
	size_t		errlen;
} declare_ctx;

/* trib_my_history_each_fn: one version a DDL derived, registered at the
 * statement's position (a dropped table registers nothing). */
static bool
declare_version(void *arg, const char *db, const char *table, const trib_my_tableinfo *t)
{
	declare_ctx *d = arg;
	trib_event	ev = {0};
	trib_relation rel;
	bool		ok;

	if (t == NULL)
		return true;
	trib_my_tableinfo_relation(t, &rel);
	ev.op = TRIB_OP_CREATE;
	ev.source = d->src->name;
	ev.connector = "mysql";
	ev.db = db;
	ev.table = table;
	ev.rel = &rel;
	ev.pos = d->pos;
	ok = d->host->declare(d->host->arg, &ev, d->errbuf, d->errlen);
	free(rel.columns);
	return ok;
}

/* The position of a DDL item as its events' would be: the numbers, and an
 * opaque text with the file and GTID that format_id() reads (malloc'd). */
static trib_position
ddl_position(const trib_my_item *it)
{
	trib_position pos = {0};
	trib_strbuf b = {0};
	char		gtid[TRIB_MY_GTID_BUFLEN];

	trib_my_gtid_format(&it->pos.gtid, gtid, sizeof(gtid));
	pos.commit_lsn = pos.lsn = major_of(it, it->pos.tx_pos);
	pos.seq = it->pos.row;
	pos.end_lsn = major_of(it, it->end_pos);
	trib_strbuf_adds(&b, "{\"file\":");
	trib_jdoc_quote(&b, it->pos.file);
	trib_strbuf_adds(&b, ",\"gtid\":");
	trib_jdoc_quote(&b, gtid);
	trib_strbuf_addc(&b, '}');
	pos.opaque = trib_strbuf_finish(&b);
	return pos;
}

/*
 * A DDL item: log it, and register the versions it derived (the schema
 * history's versions from its position; none when it was not derived,
 * docs/MYSQL.md) in the pipeline's schema registry at its position.
 * false with errbuf when the registry refused or failed.
 */
static bool
declare_ddl(const trib_source *src, my_state *s, const trib_my_item *it, char *errbuf,
			size_t errlen)
{
	/* literals may hold secrets or row values: never shown */
	char	   *text = trib_my_ddl_log_text(it->statement ? it->statement : "", 200, NULL);
	declare_ctx d = {src, s->host, {0}, errbuf, errlen};
	bool		ok;

	s->ddl++;
	tlog_info("source", "source %s: DDL in %s: %s", src->name, it->db ? it->db : "-", text);
	free(text);
	if (s->host == NULL || s->host->declare == NULL)
		return true;
	d.pos = ddl_position(it);
	ok = trib_source_mysql_each_at(s->my, &it->pos, declare_version, &d);
	free(d.pos.opaque);
	return ok;
}

/*
 * Hand out the items from s->next on into items[] (at most max): a DDL
 * item is declared when nothing was handed out before it in this poll,
 * else the poll ends before it, so that every event before the statement
 * reached the schema stage first.  The count, or -1 with errbuf.
 */
static int
hand_out(const trib_source *src, my_state *s, trib_source_item *items, int max,
		 char *errbuf, size_t errlen)
{
	int			k = 0;

	for (; s->next < s->nitems && k < max; s->next++)
	{
		trib_my_item *it = &s->items[s->next];

		if (it->kind == TRIB_MY_ITEM_DDL)
		{
			if (k > 0)
				break;
			if (!declare_ddl(src, s, it, errbuf, errlen))
				return -1;
		}
		else if (to_item(it, &items[k]))
			k++;
	}
	return k;
}

/* source.h: poll. */
static int
my_poll(trib_source *src, trib_source_item *items, int max, int timeout_ms,
		char *errbuf, size_t errlen)
{
	my_state   *s = src->state;
	int			n;

	release_items(s);
	if (s->nitems > 0)			/* the rest of the last read, from a DDL */
		return hand_out(src, s, items, max, errbuf, errlen);
	if (max > s->capitems)
	{
		free(s->items);
		s->items = trib_xcalloc((size_t) max, sizeof(*s->items));
		s->capitems = max;
	}
	n = trib_source_mysql_poll(s->my, s->items, max, timeout_ms, errbuf, errlen);
	if (n < 0)
		return -1;
	s->nitems = n;
	s->next = 0;
	return hand_out(src, s, items, max, errbuf, errlen);
}

/* source.h: format_id (see Positions above). */
static size_t
my_format_id(const trib_position *pos, char *buf, size_t len)
{
	yajl_val	o = pos->opaque ? yajl_tree_parse(pos->opaque, NULL, 0) : NULL;
	const char *file = trib_jdoc_member_str(o, "file");
	const char *gtid = trib_jdoc_member_str(o, "gtid");
	trib_my_pos p = {0};

	p.tx_pos = pos->commit_lsn & 0xFFFFFFFFu;
	p.row = pos->seq;
	if (file)
		snprintf(p.file, sizeof(p.file), "%s", file);
	else
		snprintf(p.file, sizeof(p.file), "%06u", (unsigned) (pos->commit_lsn >> 32));
	if (gtid)
		(void) trib_my_gtid_parse(gtid, strlen(gtid), &p.gtid);
	yajl_tree_free(o);
	return trib_my_pos_format(&p, buf, len);
}

/* source.h: update_metrics: the reader's lag in seconds, and in bytes
 * (src->m_lag_bytes) from the server's binlog sizes, asked at most every
 * LAG_BYTES_EVERY_MS once something was read; an unknown one keeps its
 * last value. */
static void
my_update_metrics(trib_source *src)
{
	my_state   *s = src->state;
	int64_t		now = trib_clock_mono_ms();
	uint64_t	bytes;
	char		err[256];
	int			rc;

	trib_metric_set(s->m_seconds_behind, trib_source_mysql_seconds_behind(s->my));
	if (s->lag_bytes_at_ms != 0 && now - s->lag_bytes_at_ms < LAG_BYTES_EVERY_MS)
		return;
	rc = trib_source_mysql_bytes_behind(s->my, &bytes, err, sizeof(err));
	if (rc == 0)
		return;
	s->lag_bytes_at_ms = now;
	if (rc > 0)
		trib_metric_set(src->m_lag_bytes, (double) bytes);
	else
		tlog_debug("source", "%s: binlog lag in bytes not known: %s", src->name, err);
}

/* source.h: close. */
static void
my_close(trib_source *src)
{
	my_state   *s = src->state;

	if (s == NULL)
		return;
	release_items(s);
	shapes_free(s);
	trib_source_mysql_free(s->my);
	free(s->items);
	free(s);
	src->state = NULL;
}

/* source.h: check: reach the server and report the preconditions. */
static void
my_check(const trib_plugin_conf *conf, bool erasure, trib_check_report *rep)
{
	const trib_mysql_source_conf *c = trib_mysql_source_conf_of(conf);
	trib_my_conn_conf cc = conn_of(c);
	trib_my_finding *fs = NULL;
	char		where[300],
				err[512];
	int			n;

	(void) erasure;
	cc.connect_timeout_s = TRIB_CHECK_TIMEOUT_S;
	trib_my_conn_where(&cc, where, sizeof(where));
	n = trib_my_check(&cc, (uint32_t) c->server_id, NULL, 0, &fs, err, sizeof(err));
	if (n < 0)
	{
		trib_check_report_say(rep, "  server %s: not reachable: %s", where, err);
		rep->problems++;
		return;
	}
	trib_check_report_say(rep, "  server %s: connected as %s", where, c->user);
	for (int i = 0; i < n; i++)
	{
		trib_check_report_say(rep, "  %s %s: %s", fs[i].verdict == TRIB_MY_OK ? "ok  " :
							  fs[i].verdict == TRIB_MY_WARN ? "warn" : "FAIL",
							  fs[i].what, fs[i].message);
		if (fs[i].verdict == TRIB_MY_FAIL)
			rep->problems++;
	}
	trib_my_findings_free(fs, n);
}

/* source.h: leader: GET_LOCK on the source server, unless lock_dsn names
 * a PostgreSQL database for the lock (mysql_leader.h). */
static trib_leader *
my_leader(const trib_plugin_conf *conf, const char *pipeline)
{
	const trib_mysql_source_conf *c = trib_mysql_source_conf_of(conf);
	trib_my_conn_conf cc;

	if (c == NULL || c->lock_dsn != NULL)
		return NULL;
	cc = conn_of(c);
	return trib_my_leader_new(&cc, pipeline);
}

const trib_source_ops trib_mysql_source_ops = {
	.type = "mysql",
	.origin = "the configured binlog position (start_file or start_gtid), else the initial "
	"snapshot's binlog position or the binlog's current end",
	.login_hint = "the source's user or password (or the server's account for that user "
	"and client host: CREATE USER, GRANT)",
	.open = my_open,
	.snapshot = my_snapshot,
	.start = my_start,
	.poll = my_poll,
	.compare = trib_position_cmp,	/* (commit_lsn, seq) */
	.format_id = my_format_id,
	/* The checkpoint store keeps the packed numbers (file number << 32 |
	 * offset, as an LSN's text, and the row), which order and resume a
	 * MySQL position as they do a PostgreSQL one; the native form stays
	 * in the sinks' opaque part: core's event-id forms (position.h). */
	.parse_id = trib_position_parse_id,
	.store_form = trib_position_store_form,
	.gauge = trib_position_gauge,
	/* the server keeps no replica position (core/source.c) */
	.confirm = trib_source_confirm_noted,
	.confirmed = trib_source_confirmed_noted,
	.report = trib_source_report_nothing,
	.update_metrics = my_update_metrics,
	.close = my_close,
	.leader = my_leader,
	.check = my_check,
};
