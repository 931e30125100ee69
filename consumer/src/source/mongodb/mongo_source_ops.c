/*
 * mongo_source_ops.c: the MongoDB change-stream source behind the source
 * interface (source.h): trib_mongo_source_ops, which
 * trib_source_mongodb_plugin registers.
 *
 * Design.  A thin adapter over the reader (mongo_reader.h), as
 * mysql_source_ops.c is over its facade.  Positions (core's
 * trib_position):
 *
 *   commit_lsn  the event's cluster time, seconds << 32 | increment: one
 *               per transaction (its commit), increasing in oplog order
 *   seq         the event's index in its transaction; TRIB_SEQ_ALL for
 *               the whole transaction
 *   end_lsn,    the cluster time too
 *   lsn
 *   opaque      {"token": the resume token, "source": {rs, collection,
 *               ord, lsid, txnNumber}} (mongo_event.h)
 *
 * END items' opaque is {"token": the transaction's last token}: the
 * pipeline stores it with the checkpoint (resume_opaque), and a restart
 * resumes after the stored token (mongo_reader.h).  A checkpoint inside a
 * transaction gets the text of its event from resume_text.
 *
 * compare() orders by (commit_lsn, seq); the ids are the common "L:S"
 * ("L" for a whole transaction); describe() writes the cluster time as
 * MongoDB prints a Timestamp.  Confirmation: the server keeps no state for
 * a change stream, so confirm() only records what the pipeline made
 * durable.
 */
#include "mongo_source_conf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eventid.h"
#include "log.h"
#include "metrics.h"
#include "mongo_check.h"
#include "mongo_infer.h"
#include "mongo_reader.h"
#include "mongo_snapshot.h"
#include "source.h"
#include "xalloc.h"

typedef struct mg_state
{
	const trib_mongo_source_conf *conf;
	trib_mongo_reader *reader;
	trib_intern *snap_names;	/* the snapshot events' names */
	trib_metric *m_retries;
	uint64_t	retries_shown;	/* what m_retries counted so far */
} mg_state;

/* Do the events mark their int64 values that fit in 32 bits
 * (mongo_int64.h)?  Only when a sink needs them: it costs a second walk
 * over every image. */
static bool
int64_paths(const trib_source *src)
{
	return (src->needs & TRIB_NEED_INT64_TYPES) != 0;
}

/* source.h: open. */
static bool
mg_open(trib_source *src, const trib_plugin_conf *conf, char *errbuf, size_t errlen)
{
	const trib_mongo_source_conf *c = trib_mongo_source_conf_of(conf);
	mg_state   *s;

	if (c == NULL)
		return trib_source_not_ours(src, errbuf, errlen);
	s = trib_xcalloc(1, sizeof(*s));
	s->conf = c;
	s->snap_names = trib_intern_new();
	s->reader = trib_mongo_reader_new(c, src->name, int64_paths(src), errbuf, errlen);
	if (s->reader == NULL)
	{
		free(s);
		return false;
	}
	s->m_retries = trib_source_metric(src, true, "tributary_mongodb_source_resumes_total",
									  "MongoDB change streams reopened after "
									  "a resumable error or a lost connection");
	trib_source_opened(src, s, c->lock_dsn, c->reconnect_backoff_ms.initial,
					   c->reconnect_backoff_ms.max);
	return true;
}

/* source.h: snapshot (mongo_snapshot.h); the stream then opens after
 * the snapshot's cluster time. */
static int
mg_snapshot(trib_source *src, const trib_source_host *host, bool only,
			volatile sig_atomic_t *stop, char *errbuf, size_t errlen)
{
	mg_state   *s = src->state;
	uint64_t	time = 0;
	int			rc;

	trib_mongo_infer_seed_from(trib_mongo_reader_infer(s->reader), host);
	rc = trib_mongo_snapshot(s->conf, src->name, s->snap_names,
							 trib_mongo_reader_infer(s->reader), int64_paths(src), host,
							 only, stop, &time, errbuf, errlen);

	trib_mongo_reader_after_snapshot(s->reader, time);
	return rc;
}

/* source.h: start. */
static bool
mg_start(trib_source *src, const trib_position *resume, char *errbuf, size_t errlen)
{
	mg_state   *s = src->state;

	if (resume)
		tlog_info("source", "source %s: resuming after cluster time %" PRIu32 ".%" PRIu32
				  "%s%s", src->name, (uint32_t) (resume->commit_lsn >> 32),
				  (uint32_t) resume->commit_lsn, resume->seq == TRIB_SEQ_ALL ? ""
				  : " (inside its transaction)",
				  resume->opaque != NULL && strstr(resume->opaque, "\"token\":") != NULL ?
				  ", by its stored resume token" : "");
	return trib_mongo_reader_start(s->reader, resume, errbuf, errlen);
}

/* source.h: poll. */
static int
mg_poll(trib_source *src, trib_source_item *items, int max, int timeout_ms,
		char *errbuf, size_t errlen)
{
	mg_state   *s = src->state;
	int			n = trib_mongo_reader_poll(s->reader, items, max, timeout_ms, errbuf, errlen);

	if (n < 0)
	{
		char		e[1024];

		snprintf(e, sizeof(e), "source %s: %s", src->name, errbuf);
		snprintf(errbuf, errlen, "%s", e);
	}
	return n;
}

/* source.h: store_form: the commit LSN, written even when 0 ("0/0"), and
 * seq (compare, format_id, parse_id and gauge are position.h's). */
static void
mg_store_form(const trib_position *pos, char *key, size_t keylen, uint64_t *seq)
{
	trib_lsn_format(pos->commit_lsn, key, keylen);
	*seq = pos->seq;
}

/* source.h: describe: "cluster time T.I, change S". */
static size_t
mg_describe(const trib_position *pos, char *buf, size_t len)
{
	int			n;

	if (pos->seq == TRIB_SEQ_ALL)
		n = snprintf(buf, len, "the changes at cluster time Timestamp(%" PRIu32 ", %" PRIu32 ")",
					 (uint32_t) (pos->commit_lsn >> 32), (uint32_t) pos->commit_lsn);
	else
		n = snprintf(buf, len, "change %" PRIu64 " at cluster time Timestamp(%" PRIu32 ", %"
					 PRIu32 ")", pos->seq, (uint32_t) (pos->commit_lsn >> 32),
					 (uint32_t) pos->commit_lsn);
	return n < 0 ? 0 : (size_t) n;
}

/* source.h: confirm, confirmed (report: trib_source_report_nothing): the
 * server keeps no position for us (core/source.c). */
static void
mg_confirm(trib_source *src, const trib_position *end)
{
	mg_state   *s = src->state;

	trib_source_confirm_noted(src, end);
	trib_mongo_reader_confirmed(s->reader, end);
}

/* source.h: resume_text: the token of an event inside a transaction. */
static char *
mg_resume_text(trib_source *src, const trib_position *pos)
{
	mg_state   *s = src->state;

	return trib_mongo_reader_resume_text(s->reader, pos);
}

/* source.h: update_metrics: the resumes counter (lag in bytes: unknown). */
static void
mg_update_metrics(trib_source *src)
{
	mg_state   *s = src->state;

	uint64_t	n = trib_mongo_reader_stats_of(s->reader)->retries;

	if (s->m_retries && n > s->retries_shown)
		trib_metric_add(s->m_retries, (double) (n - s->retries_shown));
	s->retries_shown = n;
}

/* source.h: refused: authentication failures are not told apart yet. */
static bool
mg_refused(const trib_source *src)
{
	(void) src;
	return false;
}

/* source.h: close. */
static void
mg_close(trib_source *src)
{
	mg_state   *s = src->state;

	if (s == NULL)
		return;
	trib_mongo_reader_free(s->reader);
	trib_intern_free(s->snap_names);
	free(s);
	src->state = NULL;
}

/* source.h: check. */
static void
mg_check(const trib_plugin_conf *conf, bool erasure, trib_check_report *rep)
{
	(void) erasure;
	trib_mongo_check(trib_mongo_source_conf_of(conf), rep);
}

const trib_source_ops trib_mongo_source_ops = {
	.type = "mongodb",
	.resume_opaque = true,		/* restarts resumeAfter the stored token */
	.position_key_field = "_id",	/* a token encodes the documentKey */
	.open = mg_open,
	.snapshot = mg_snapshot,
	.start = mg_start,
	.poll = mg_poll,
	.compare = trib_position_cmp,	/* (commit_lsn, seq) */
	.format_id = trib_position_format_id,	/* the common "L:S" */
	.parse_id = trib_position_parse_id,
	.store_form = mg_store_form,
	.gauge = trib_position_gauge,	/* the commit LSN */
	.describe = mg_describe,
	.resume_text = mg_resume_text,
	.confirm = mg_confirm,
	.confirmed = trib_source_confirmed_noted,
	.report = trib_source_report_nothing,
	.update_metrics = mg_update_metrics,
	.refused = mg_refused,
	.close = mg_close,
	.check = mg_check,
};
