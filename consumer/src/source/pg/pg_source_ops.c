/*
 * pg_source_ops.c: the PostgreSQL source behind the source interface
 * (source.h): trib_pg_source_ops, which trib_source_postgres registers.
 *
 * Design.  A thin adapter over the replication client (source_pg.h): open
 * turns the source's settings (pg_source_conf.h) into a client config,
 * poll turns the assembler's records into source-neutral items, and
 * snapshot runs the PG snapshot phase (snapshot_run.c).  What is peculiar
 * to PostgreSQL stays here:
 *
 *   - Records.  begin and begin_prepare become BEGIN; commit,
 *     stream_commit (a streamed transaction's events came just before,
 *     without a begin), commit_prepared and rollback_prepared (empty: its
 *     changes are dropped) become END, whose position is (commit_lsn,
 *     TRIB_SEQ_ALL, end_lsn); changes, truncates and messages become
 *     EVENT; relation records carry nothing for the pipeline.  Records
 *     stay alive until the next poll, so items borrow their events without
 *     a copy.
 *   - Two-phase.  PostgreSQL resends a prepared transaction's changes
 *     after a restart only while the slot is not confirmed past its
 *     PREPARE, so confirm() keeps the slot at the oldest PREPARE the client
 *     still holds (trib_source_pg_prepared_floor) and at the PREPARE of
 *     each commit_prepared delivered whose own end is not confirmed yet.
 *     The pipeline sees ordinary committed transactions.
 *   - Positions are event ids: (commit_lsn, seq), written as eventid.h
 *     does; confirming uses an END position's end_lsn.
 *   - Each event gets the commit LSN of the transaction delivered before
 *     its own (event.h: prev_commit_lsn, Debezium's source.sequence):
 *     the last END item's (not a rollback_prepared's), after a start the
 *     resume point's when it stands for a whole transaction, else 0.
 *
 * Ownership: the adapter owns the client and the records of the last poll
 * (and, during a poll, those of the poll before, which the client releases
 * as it parses: pg_poll).
 */
#include "pg_source_conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "eventid.h"
#include "log.h"
#include "lsn.h"
#include "metrics.h"
#include "pg_check.h"
#include "pgrecord.h"
#include "position.h"
#include "snapshot_run.h"
#include "source.h"
#include "source_pg.h"
#include "xalloc.h"

#define START_RETRY_MS 30000	/* start(): transient failures retried */

/* A commit_prepared delivered: the slot stays before prepare_lsn until
 * end_lsn is confirmed. */
typedef struct held_prepare
{
	uint64_t	prepare_lsn;
	uint64_t	end_lsn;
} held_prepare;

typedef struct pg_state
{
	trib_source_pg *pg;
	const trib_pg_source_conf *conf;
	trib_pgrec **recs;			/* the last poll's records */
	int			nrecs;
	int			caprecs;
	trib_pgrec **old;			/* the poll's before, released during this
								 * one (pg_poll) */
	int			capold;
	held_prepare *held;
	size_t		nheld;
	size_t		capheld;
	uint64_t	confirmable;	/* the newest END given to confirm() */
	uint64_t	confirmed;		/* what the slot was told */
	uint64_t	reported;		/* what a changed-only report sent */
	uint64_t	last_commit;	/* commit LSN of the last transaction
								 * delivered (event.h: prev_commit_lsn) */
	trib_metric *m_prepared_held;
	trib_metric *m_prepared_spilled;
} pg_state;

/* Client log lines go to our log, naming the source (arg: its name). */
static void
source_log(int level, const char *msg, void *arg)
{
	const char *name = arg != NULL ? (const char *) arg : "(unnamed)";

	if (level <= 0)
		tlog_error("source", "source %s: %s", name, msg);
	else if (level == 1)
		tlog_warn("source", "source %s: %s", name, msg);
	else if (level == 2)
		tlog_info("source", "source %s: %s", name, msg);
	else
		tlog_debug("source", "source %s: %s", name, msg);
}

/* "a,b,c" from a string list; NULL when empty.  Caller frees. */
static char *
join_list(const trib_strlist *l)
{
	size_t		len = 1,
				i;
	char	   *out;

	if (l->count == 0)
		return NULL;
	for (i = 0; i < l->count; i++)
		len += strlen(l->items[i]) + 1;
	out = trib_xcalloc(1, len);
	for (i = 0; i < l->count; i++)
	{
		if (i)
			strcat(out, ",");
		strcat(out, l->items[i]);
	}
	return out;
}

/* The client, configured from the source's settings. */
static trib_source_pg *
make_client(const trib_source *src, const trib_pg_source_conf *c,
			char *errbuf, size_t errlen)
{
	trib_source_pg_conf sc;
	trib_source_pg *pg;
	char	   *inc,
			   *exc;
	const char **opts;
	size_t		i;

	memset(&sc, 0, sizeof(sc));
	sc.dsn = c->dsn;
	sc.slot = c->slot;
	sc.pipeline = src->pipeline;
	sc.source_name = src->name;
	sc.create_slot = c->create_slot;
	sc.create_extension = c->create_extension;
	sc.snapshot = c->snapshot == TRIB_SNAPSHOT_INITIAL ?
		TRIB_PG_SNAPSHOT_EXPORT : TRIB_PG_SNAPSHOT_NONE;
	sc.skip_empty_xacts = false;
	sc.status_interval_ms = c->status_interval_ms;
	sc.heartbeat_interval_ms = c->heartbeat_interval_ms;
	sc.reconnect_min_ms = c->reconnect_backoff_ms.initial;
	sc.reconnect_max_ms = c->reconnect_backoff_ms.max;
	sc.prepared_spill_dir = c->prepared_spill_dir;
	sc.prepared_memory_bytes = (size_t) c->prepared_buffer_mb << 20;
	sc.log = source_log;
	sc.log_arg = (void *) src->name;
	sc.log_timeline = trib_log_enabled(TRIB_LOG_DEBUG);
	inc = join_list(&c->include_tables);
	exc = join_list(&c->exclude_tables);
	sc.include_tables = inc;
	sc.exclude_tables = exc;
	sc.catalog_tables = src->erasure ? TRIB_ERASURE_TABLES : NULL;
	sc.index_images = (src->needs & TRIB_NEED_IMAGE_INDEX) != 0;
	opts = trib_xcalloc(2 * c->plugin_options.count + 1, sizeof(char *));
	for (i = 0; i < c->plugin_options.count; i++)
	{
		opts[2 * i] = c->plugin_options.items[i].key;
		opts[2 * i + 1] = c->plugin_options.items[i].value;
	}
	sc.plugin_options = opts;
	pg = trib_source_pg_new(&sc, errbuf, errlen);
	free(inc);
	free(exc);
	free(opts);
	return pg;
}

/* source.h: open. */
static bool
pg_open(trib_source *src, const trib_plugin_conf *conf, char *errbuf, size_t errlen)
{
	const trib_pg_source_conf *c = trib_pg_source_conf_of(conf);
	pg_state   *s;

	if (c == NULL)
		return trib_source_not_ours(src, errbuf, errlen);
	s = trib_xcalloc(1, sizeof(*s));
	s->conf = c;
	s->pg = make_client(src, c, errbuf, errlen);
	if (s->pg == NULL)
	{
		free(s);
		return false;
	}
	s->m_prepared_held = trib_source_metric(src, false, "tributary_prepared_held_transactions",
											"Prepared transactions held until COMMIT PREPARED.");
	s->m_prepared_spilled = trib_source_metric(src, false, "tributary_prepared_spilled_bytes",
											   "Bytes of held prepared transactions in spill files.");
	trib_source_opened(src, s, c->dsn, c->reconnect_backoff_ms.initial,
					   c->reconnect_backoff_ms.max);
	src->fenced = true;			/* the slot: one walsender at a time */
	src->can_wake = true;		/* its waits watch src->wake_fd */
	return true;
}

/* source.h: snapshot, the PG snapshot phase (snapshot_run.c). */
static int
pg_snapshot(trib_source *src, const trib_source_host *host, bool only,
			volatile sig_atomic_t *stop, char *errbuf, size_t errlen)
{
	pg_state   *s = src->state;
	int			rc = trib_snapshot_run(s->pg, src->name, s->conf, host, only,
											stop, errbuf, errlen);

	if (rc == TRIB_SNAPSHOT_DONE && (only || s->conf->snapshot == TRIB_SNAPSHOT_ONLY))
		return TRIB_SNAPSHOT_DONE_STOP;
	return rc;
}

/* source.h: start. */
static bool
pg_start(trib_source *src, const trib_position *resume, char *errbuf, size_t errlen)
{
	pg_state   *s = src->state;

	/* After a restart the transaction before the first one delivered is
	 * the resume point's when that point is a whole transaction; resuming
	 * inside a transaction, its predecessor is unknown (0) */
	s->last_commit = resume && resume->seq == TRIB_SEQ_ALL ? resume->commit_lsn : 0;
	return trib_source_pg_start(s->pg, resume, START_RETRY_MS, errbuf, errlen);
}

/* Free the records of the last poll (their blocks kept for the next). */
static void
release_records(pg_state *s)
{
	for (int i = 0; i < s->nrecs; i++)
		trib_source_pg_release(s->pg, s->recs[i]);
	s->nrecs = 0;
}

/* A commit_prepared was delivered: hold the slot at its PREPARE. */
static void
hold_prepare(pg_state *s, const trib_pgrec *r)
{
	s->held = trib_xgrow(s->held, s->nheld, &s->capheld, sizeof(*s->held), 16);
	s->held[s->nheld].prepare_lsn = r->prepare_lsn;
	s->held[s->nheld].end_lsn = r->end_lsn;
	s->nheld++;
}

/* One record as an item; false when it carries nothing for the pipeline. */
static bool
to_item(pg_state *s, trib_pgrec *r, trib_source_item *it)
{
	switch (r->kind)
	{
		case TRIB_PGREC_BEGIN:
		case TRIB_PGREC_BEGIN_PREPARE:
			it->kind = TRIB_ITEM_BEGIN;
			return true;
		case TRIB_PGREC_COMMIT:
		case TRIB_PGREC_STREAM_COMMIT:
		case TRIB_PGREC_COMMIT_PREPARED:
		case TRIB_PGREC_ROLLBACK_PREPARED:
			it->kind = TRIB_ITEM_END;
			memset(&it->end, 0, sizeof(it->end));
			it->end.commit_lsn = r->commit_lsn;
			it->end.seq = TRIB_SEQ_ALL;
			it->end.end_lsn = r->end_lsn;
			it->ts_ms = r->has_ts ? r->ts_ms : 0;
			if (r->prepare_lsn != 0)
				hold_prepare(s, r);
			if (r->kind != TRIB_PGREC_ROLLBACK_PREPARED)
				s->last_commit = r->commit_lsn;
			return true;
		default:
			if (r->ev == NULL)
				return false;
			r->ev->prev_commit_lsn = s->last_commit;
			it->kind = TRIB_ITEM_EVENT;
			it->ev = r->ev;
			return true;
	}
}

/* source.h: poll. */
static int
pg_poll(trib_source *src, trib_source_item *items, int max, int timeout_ms,
		char *errbuf, size_t errlen)
{
	pg_state   *s = src->state;
	trib_pgrec **t = s->old;
	int			tcap = s->capold,
				n,
				k = 0;

	/*
	 * The last poll's records are released one before each record this
	 * poll parses, the rest when it returns (trib_source_pg_release_later):
	 * each free then precedes a malloc of the same sizes, which glibc's
	 * per-thread cache serves, where freeing the whole batch first
	 * overflowed it (docs/BENCHMARKS.md, the real daemon per W1 event).
	 */
	s->old = s->recs;
	s->capold = s->caprecs;
	s->recs = t;
	s->caprecs = tcap;
	if (max > s->caprecs)
	{
		free(s->recs);
		s->recs = trib_xmalloc((size_t) max * sizeof(*s->recs));
		s->caprecs = max;
	}
	trib_source_pg_release_later(s->pg, s->old, s->nrecs);
	s->nrecs = 0;
	trib_source_pg_set_wake_fd(s->pg, src->wake_fd);
	n = trib_source_pg_poll(s->pg, s->recs, max, timeout_ms, errbuf, errlen);
	trib_source_pg_release_later(s->pg, NULL, 0);
	if (n < 0)
		return -1;
	s->nrecs = n;
	for (int i = 0; i < n; i++)
		if (to_item(s, s->recs[i], &items[k]))
			k++;
	return k;
}

/* source.h: describe, an event or a whole transaction. */
static size_t
pg_describe(const trib_position *pos, char *buf, size_t len)
{
	char		id[TRIB_EVENTID_LEN];
	int			n;

	trib_eventid_format(pos->commit_lsn, pos->seq, id, sizeof(id));
	if (pos->seq == TRIB_SEQ_ALL)
		n = snprintf(buf, len, "the transaction committed at %s", id);
	else
		n = snprintf(buf, len, "event %s", id);
	return n > 0 ? (size_t) n : 0;
}

/* source.h: confirm, never past a PREPARE still needed (file comment). */
static void
pg_confirm(trib_source *src, const trib_position *end)
{
	pg_state   *s = src->state;
	uint64_t	c,
				floor;
	size_t		i,
				j = 0;

	if (end->end_lsn > s->confirmable)
		s->confirmable = end->end_lsn;
	for (i = 0; i < s->nheld; i++)
		if (s->held[i].end_lsn > s->confirmable)
			s->held[j++] = s->held[i];
	s->nheld = j;
	c = s->confirmable;
	if (trib_source_pg_prepared_floor(s->pg, &floor) && floor < c)
		c = floor;
	for (i = 0; i < s->nheld; i++)
		if (s->held[i].prepare_lsn < c)
			c = s->held[i].prepare_lsn;
	if (c > s->confirmed)
	{
		s->confirmed = c;
		trib_source_pg_confirm(s->pg, c);
	}
}

/* source.h: confirmed, the LSN the slot was told, as a whole-transaction
 * position (its id is the LSN). */
static void
pg_confirmed(const trib_source *src, trib_position *out)
{
	const pg_state *s = src->state;

	memset(out, 0, sizeof(*out));
	out->commit_lsn = s->confirmed;
	out->seq = TRIB_SEQ_ALL;
}

/* source.h: report, a status update. */
static bool
pg_report(trib_source *src, bool changed_only, char *errbuf, size_t errlen)
{
	pg_state   *s = src->state;

	if (changed_only && s->confirmed <= s->reported)
		return true;
	if (!trib_source_pg_flush_status(s->pg, errbuf, errlen))
		return false;
	if (changed_only)
		s->reported = s->confirmed;
	return true;
}

/* source.h: update_metrics. */
static void
pg_update_metrics(trib_source *src)
{
	pg_state   *s = src->state;
	trib_source_pg_stats st;

	trib_source_pg_stats_get(s->pg, &st);
	trib_metric_set(src->m_lag_bytes, st.received_lsn > s->confirmed ?
					(double) (st.received_lsn - s->confirmed) : 0);
	trib_metric_set(s->m_prepared_held, (double) st.prepared_held);
	trib_metric_set(s->m_prepared_spilled, (double) st.prepared_spilled_bytes);
}

/* source.h: close. */
static void
pg_close(trib_source *src)
{
	pg_state   *s = src->state;

	if (s == NULL)
		return;
	release_records(s);
	trib_source_pg_free(s->pg);
	free(s->recs);
	free(s->old);
	free(s->held);
	free(s);
	src->state = NULL;
}

const trib_source_ops trib_pg_source_ops = {
	.type = "postgres",
	.origin = "the slot's position",
	.open = pg_open,
	.snapshot = pg_snapshot,
	.start = pg_start,
	.poll = pg_poll,
	.compare = trib_position_cmp,
	.format_id = trib_position_format_id,	/* the common "L:S" */
	.parse_id = trib_position_parse_id,
	.store_form = trib_position_store_form,	/* "" when no commit LSN */
	.gauge = trib_position_gauge,	/* the commit LSN */
	.describe = pg_describe,
	.confirm = pg_confirm,
	.confirmed = pg_confirmed,
	.report = pg_report,
	.update_metrics = pg_update_metrics,
	.close = pg_close,
	.check = trib_pg_source_check,
};
