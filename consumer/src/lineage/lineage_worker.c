/*
 * lineage_worker.c: the thread that records lineage in the catalog, so
 * that the pipeline's thread never waits for it (lineage_int.h).
 *
 * Design.  What is pending lives in one struct under a mutex: the run's
 * start and stop, the latest graph document, and event counts per
 * relation key.  The thread sleeps on a condition variable, wakes when
 * the stage hands something over (or its backoff ends), takes a copy of
 * what is pending and calls, each a single statement with bound
 * parameters:
 *   tributary.lineage_run_start(job_ns, job, run, config_fp)
 *   tributary.lineage_record(job_ns, job, graph, config_fp, run)
 *   tributary.lineage_count(edge_ids, events, position)
 *   tributary.lineage_run_stop(run, state)
 * A graph is first merged with the latest one recorded from the same
 * config (lw_merged), so that a restart records nothing new.
 * After a graph is recorded it reads which current edge belongs to which
 * relation (the `relation` every element of the document carries,
 * matched to tributary.lineage_edge_list by asset keys), so counts per
 * relation become counts per edge.  Counts for a relation whose edges are
 * not known yet stay pending.
 *
 * Failures: the message (libpq's, never a dsn) is logged once per streak
 * as a warning, counted in tributary_lineage_errors_total{operation}, the
 * connection dropped, and everything not done stays pending for the next
 * try, after a backoff doubling from 500 ms up to 30 s.  Nothing here can
 * stop the pipeline.
 *
 * The stop tells the export whether the run's events are final: its end
 * recorded, or its start never was (a standby's run, or a start that
 * failed before the run began: no events at all), so that the export
 * does not wait for an end that cannot come (lw_end).
 */
#include "lineage_int.h"

#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "pgconn.h"
#include "strbuf.h"
#include "xalloc.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000

typedef struct lw_count_entry
{
	char	   *key;
	uint64_t	n;
} lw_count_entry;

typedef struct lw_edges
{
	char	   *key;
	char	   *ids;			/* "{1,2,3}", the edge ids as an array literal */
	size_t		nids;
} lw_edges;

/* What the stage handed over and the worker has not done yet. */
typedef struct lw_pending
{
	bool		start;
	char	   *doc;
	char	   *doc_fp;
	lw_count_entry *counts;
	size_t		ncounts;
	char	   *position;
	bool		stop;
	bool		stop_ok;
} lw_pending;

struct lw_worker
{
	pthread_t	thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	lw_pending	p;
	bool		exiting;		/* the stop is done (or given up) */
	long long	give_up_ms;		/* when stopping: last try starts before */
	bool		done;			/* the thread returned */
	/* the thread's own */
	char	   *dsn;
	char	   *job_ns;
	char	   *job;
	char		run_id[37];
	char	   *config_fp;
	PGconn	   *conn;
	bool		started;
	bool		ended;			/* the run's stop is recorded */
	lw_edges   *edges;
	size_t		nedges;
	int			backoff_ms;
	bool		failing;
	trib_metric_family *m_errors;
	trib_metric *m_versions;
};

/* See lineage_int.h. */
bool
lin_connect(PGconn **conn, const char *dsn, const char *app, const char *options,
			char *errbuf, size_t errlen)
{
	const char *const kw[] = {"dbname", "connect_timeout", "application_name",
	options ? "options" : NULL, NULL};
	const char *const val[] = {dsn, "5", app, options, NULL};
	trib_pq_error err;

	if (*conn != NULL && PQstatus(*conn) == CONNECTION_OK)
		return true;
	if (*conn != NULL)
		PQfinish(*conn);
	*conn = trib_pq_connect(kw, val, 1, &err);
	if (*conn == NULL)
		snprintf(errbuf, errlen, "%s", err.message);
	return *conn != NULL;
}

/* See lineage_int.h. */
void
lin_timedwait(pthread_cond_t *cond, pthread_mutex_t *lock, int ms)
{
	struct timespec ts = trib_clock_deadline(ms);

	pthread_cond_timedwait(cond, lock, &ts);
}

/* Run one statement with text parameters; the result (caller clears) or
 * NULL with errbuf. */
static PGresult *
lw_exec(lw_worker *w, const char *sql, int n, const char *const *params,
		char *errbuf, size_t errlen)
{
	PGresult   *r;
	ExecStatusType st;

	if (!lin_connect(&w->conn, w->dsn, "tributary-lineage", "-c statement_timeout=10000",
					 errbuf, errlen))
		return NULL;
	r = PQexecParams(w->conn, sql, n, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(r);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return r;
	{
		const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		char		e[512];

		snprintf(errbuf, errlen, "%s (SQLSTATE %s)",
				 msg ? msg : trib_pq_error_text(w->conn, e, sizeof(e)), code ? code : "?");
	}
	PQclear(r);
	return NULL;
}

/* Log (once per streak) and count a failure of `op`. */
static void
lw_failed(lw_worker *w, const char *op, const char *why)
{
	trib_metric_inc(trib_metric_get(w->m_errors, op));
	if (!w->failing)
		tlog_warn("lineage", "%s failed (the pipeline goes on; retrying with backoff): %s",
				  op, why);
	w->failing = true;
	if (w->conn != NULL && PQstatus(w->conn) != CONNECTION_OK)
	{
		PQfinish(w->conn);
		w->conn = NULL;
	}
}

/* Map every current edge of the job to the relation that derived it. */
static bool
lw_load_edges(lw_worker *w, const char *doc, char *errbuf, size_t errlen)
{
	static const char sql[] =
		"WITH j AS (SELECT tributary.lineage_key('job', $2, $3, '') AS k), "
		"d AS (SELECT x.v, CASE WHEN x.v->>'kind' = 'write' THEN j.k ELSE "
		"  tributary.lineage_key(CASE WHEN coalesce(x.v->'from'->>'field', '') = '' "
		"  THEN 'dataset' ELSE 'field' END, x.v->'from'->>'namespace', x.v->'from'->>'name', "
		"  coalesce(x.v->'from'->>'field', '')) END AS f, "
		"  CASE WHEN x.v->>'kind' = 'read' THEN j.k ELSE "
		"  tributary.lineage_key(CASE WHEN coalesce(x.v->'to'->>'field', '') = '' "
		"  THEN 'dataset' ELSE 'field' END, x.v->'to'->>'namespace', x.v->'to'->>'name', "
		"  coalesce(x.v->'to'->>'field', '')) END AS t "
		"  FROM j, jsonb_array_elements($1::jsonb->'edges') AS x(v)) "
		"SELECT d.v->>'relation', array_agg(DISTINCT l.id ORDER BY l.id)::text, "
		"       count(DISTINCT l.id) "
		"  FROM d JOIN j ON true JOIN tributary.lineage_edge_list AS l "
		"    ON l.job = j.k AND l.current AND l.kind = d.v->>'kind' "
		"   AND l.from_asset = d.f AND l.to_asset = d.t "
		"   AND l.rule IS NOT DISTINCT FROM d.v->>'rule' "
		" GROUP BY 1";
	const char *params[] = {doc, w->job_ns, w->job};
	PGresult   *r = lw_exec(w, sql, 3, params, errbuf, errlen);

	if (r == NULL)
		return false;
	for (size_t i = 0; i < w->nedges; i++)
	{
		free(w->edges[i].key);
		free(w->edges[i].ids);
	}
	free(w->edges);
	w->nedges = (size_t) PQntuples(r);
	w->edges = trib_xcalloc(w->nedges + 1, sizeof(lw_edges));
	for (size_t i = 0; i < w->nedges; i++)
	{
		w->edges[i].key = trib_xstrdup(PQgetvalue(r, (int) i, 0));
		w->edges[i].ids = trib_xstrdup(PQgetvalue(r, (int) i, 1));
		w->edges[i].nids = (size_t) strtoull(PQgetvalue(r, (int) i, 2), NULL, 10);
	}
	PQclear(r);
	return true;
}

/* The edges of relation key, or NULL. */
static const lw_edges *
lw_edges_of(const lw_worker *w, const char *key)
{
	for (size_t i = 0; i < w->nedges; i++)
		if (strcmp(w->edges[i].key, key) == 0)
			return &w->edges[i];
	return NULL;
}

/* Start the run. */
static bool
lw_do_start(lw_worker *w)
{
	static const char sql[] =
		"SELECT tributary.lineage_run_start($1, $2, $3::uuid, $4)";
	const char *params[] = {w->job_ns, w->job, w->run_id, w->config_fp};
	char		e[1024];
	PGresult   *r = lw_exec(w, sql, 4, params, e, sizeof(e));

	if (r == NULL)
		return lw_failed(w, "run_start", e), false;
	PQclear(r);
	w->started = true;
	return true;
}

/*
 * The document to record: doc, plus the relations of the job's latest
 * recorded graph that doc does not have, when that graph came from the
 * same config.  So a restart, which sees its relations again one by one,
 * records nothing new while they keep their shape.  Elements are ordered
 * by relation key, then as written, as the stage orders its own.
 */
static char *
lw_merged(lw_worker *w, const char *doc, const char *fp, char *errbuf, size_t errlen)
{
	static const char sql[] =
		"WITH prev AS (SELECT g.graph FROM tributary.lineage_graphs AS g "
		"  JOIN tributary.lineage_nodes AS n ON n.id = g.job_id "
		" WHERE n.kind = 'job' AND n.namespace = $1 AND n.name = $2 AND n.field = '' "
		"   AND g.config_fingerprint IS NOT DISTINCT FROM $4 "
		" ORDER BY g.version DESC LIMIT 1), "
		"cur AS (SELECT $3::jsonb AS graph), "
		"rels AS (SELECT DISTINCT x.v->>'relation' AS r "
		"  FROM cur, jsonb_array_elements(cur.graph->'datasets') AS x(v)), "
		"el AS (SELECT k, x.v, x.o FROM cur, unnest(ARRAY['datasets', 'edges']) AS k, "
		"  jsonb_array_elements(cur.graph->k) WITH ORDINALITY AS x(v, o) "
		"  UNION ALL SELECT k, x.v, x.o FROM prev, unnest(ARRAY['datasets', 'edges']) AS k, "
		"  jsonb_array_elements(prev.graph->k) WITH ORDINALITY AS x(v, o) "
		"  WHERE NOT EXISTS (SELECT FROM rels WHERE rels.r = x.v->>'relation')) "
		"SELECT jsonb_build_object('rules', (SELECT graph->'rules' FROM cur), "
		"  'datasets', coalesce((SELECT jsonb_agg(v ORDER BY v->>'relation', o) FROM el "
		"                         WHERE k = 'datasets'), '[]'), "
		"  'edges', coalesce((SELECT jsonb_agg(v ORDER BY v->>'relation', o) FROM el "
		"                      WHERE k = 'edges'), '[]'))::text";
	const char *params[] = {w->job_ns, w->job, doc, fp};
	PGresult   *r = lw_exec(w, sql, 4, params, errbuf, errlen);
	char	   *out;

	if (r == NULL)
		return NULL;
	out = trib_xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return out;
}

/* Record a document and learn its edges. */
static bool
lw_do_record(lw_worker *w, const char *doc, const char *fp)
{
	static const char sql[] =
		"SELECT tributary.lineage_record($1, $2, $3::jsonb, $4, $5::uuid)";
	char		e[1024];
	char	   *merged = lw_merged(w, doc, fp, e, sizeof(e));
	const char *params[] = {w->job_ns, w->job, merged, fp, w->started ? w->run_id : NULL};
	PGresult   *r = merged ? lw_exec(w, sql, 5, params, e, sizeof(e)) : NULL;

	if (r == NULL)
	{
		free(merged);
		return lw_failed(w, "record", e), false;
	}
	trib_metric_set(w->m_versions, strtod(PQgetvalue(r, 0, 0), NULL));
	tlog_debug("lineage", "graph recorded as version %s", PQgetvalue(r, 0, 0));
	PQclear(r);
	if (!lw_load_edges(w, merged, e, sizeof(e)))
	{
		free(merged);
		return lw_failed(w, "record", e), false;
	}
	free(merged);
	return true;
}

/* Add the counts whose edges are known; the others are kept in *left. */
static bool
lw_do_count(lw_worker *w, lw_count_entry *c, size_t n, const char *position,
			bool *done)
{
	static const char sql[] =
		"SELECT tributary.lineage_count($1::bigint[], $2::bigint[], $3::jsonb)";
	trib_strbuf ids = {0},
				ev = {0},
				pos = {0};
	char		e[1024];
	PGresult   *r;
	bool		any = false;

	for (size_t i = 0; i < n; i++)
	{
		const lw_edges *ed = lw_edges_of(w, c[i].key);

		done[i] = ed != NULL;
		if (ed == NULL || ed->nids == 0)
			continue;
		trib_strbuf_adds(&ids, any ? "," : "");
		trib_strbuf_add(&ids, ed->ids + 1, strlen(ed->ids) - 2);
		for (size_t k = 0; k < ed->nids; k++)
			trib_strbuf_printf(&ev, "%s%llu", any || k ? "," : "", (unsigned long long) c[i].n);
		any = true;
	}
	if (!any)
		return true;
	{
		char	   *a = trib_strbuf_finish(&ids),
				   *b = trib_strbuf_finish(&ev);
		char	   *pa,
				   *pb;

		pa = trib_xmalloc(strlen(a) + 3);
		pb = trib_xmalloc(strlen(b) + 3);
		sprintf(pa, "{%s}", a);
		sprintf(pb, "{%s}", b);
		free(a);
		free(b);
		if (position != NULL)
		{
			trib_strbuf_adds(&pos, "{\"event_id\":\"");
			trib_strbuf_adds(&pos, position);	/* an event id: digits, '/', ':' */
			trib_strbuf_adds(&pos, "\"}");
		}
		{
			char	   *ps = position ? trib_strbuf_finish(&pos) : NULL;
			const char *params[] = {pa, pb, ps};

			r = lw_exec(w, sql, 3, params, e, sizeof(e));
			free(ps);
		}
		free(pa);
		free(pb);
	}
	if (r == NULL)
	{
		for (size_t i = 0; i < n; i++)
			done[i] = false;
		return lw_failed(w, "count", e), false;
	}
	PQclear(r);
	return true;
}

/* End the run. */
static bool
lw_do_stop(lw_worker *w, bool ok)
{
	static const char sql[] = "SELECT tributary.lineage_run_stop($1::uuid, $2)";
	const char *params[] = {w->run_id, ok ? "COMPLETE" : "FAIL"};
	char		e[1024];
	PGresult   *r = lw_exec(w, sql, 2, params, e, sizeof(e));

	if (r == NULL)
		return lw_failed(w, "run_stop", e), false;
	PQclear(r);
	return true;
}

/* Put counts back into pending (under the lock). */
static void
lw_merge_counts(lw_pending *p, const char *key, uint64_t n)
{
	for (size_t i = 0; i < p->ncounts; i++)
		if (strcmp(p->counts[i].key, key) == 0)
		{
			p->counts[i].n += n;
			return;
		}
	p->counts = trib_xrealloc(p->counts, (p->ncounts + 1) * sizeof(lw_count_entry));
	p->counts[p->ncounts].key = trib_xstrdup(key);
	p->counts[p->ncounts++].n = n;
}

/* One round over what was pending (taken out of w->p as `t`); whatever
 * is not done goes back.  true when everything was done. */
static bool
lw_round(lw_worker *w, lw_pending *t)
{
	bool		ok = true;

	if (t->start && !w->started && !(ok = lw_do_start(w)))
		return false;
	t->start = false;
	if (t->doc != NULL)
	{
		if (!lw_do_record(w, t->doc, t->doc_fp))
			return false;
		free(t->doc);
		free(t->doc_fp);
		t->doc = t->doc_fp = NULL;
	}
	if (t->ncounts > 0)
	{
		bool	   *done = trib_xcalloc(t->ncounts, sizeof(bool));
		size_t		k = 0;

		ok = lw_do_count(w, t->counts, t->ncounts, t->position, done);
		for (size_t i = 0; i < t->ncounts; i++)
			if (done[i])
				free(t->counts[i].key);
			else
				t->counts[k++] = t->counts[i];
		t->ncounts = k;
		free(done);
		if (!ok)
			return false;
	}
	if (t->stop && w->started)
	{
		if (!lw_do_stop(w, t->stop_ok))
			return false;
		w->ended = true;
	}
	return ok;
}

/* Give back to w->p what t still holds (under the lock); newer wins. */
static void
lw_give_back(lw_worker *w, lw_pending *t)
{
	w->p.start |= t->start;
	if (w->p.doc == NULL)
	{
		w->p.doc = t->doc;
		w->p.doc_fp = t->doc_fp;
	}
	else
	{
		free(t->doc);
		free(t->doc_fp);
	}
	for (size_t i = 0; i < t->ncounts; i++)
	{
		lw_merge_counts(&w->p, t->counts[i].key, t->counts[i].n);
		free(t->counts[i].key);
	}
	free(t->counts);
	if (w->p.position == NULL)
		w->p.position = t->position;
	else
		free(t->position);
	memset(t, 0, sizeof(*t));
}

/* Is anything pending? (under the lock) */
static bool
lw_has_work(const lw_worker *w)
{
	return w->p.start || w->p.doc != NULL || w->p.ncounts > 0 || w->p.stop;
}

/* The thread. */
static void *
lw_main(void *arg)
{
	lw_worker  *w = arg;
	bool		stopping = false;

	pthread_mutex_lock(&w->lock);
	while (!w->exiting)
	{
		lw_pending	t;
		bool		ok;

		if (!lw_has_work(w))
		{
			lin_timedwait(&w->cond, &w->lock, 1000);
			continue;
		}
		t = w->p;
		memset(&w->p, 0, sizeof(w->p));
		pthread_mutex_unlock(&w->lock);
		ok = lw_round(w, &t);
		stopping = t.stop;
		pthread_mutex_lock(&w->lock);
		if (stopping && (ok || trib_clock_mono_ms() >= w->give_up_ms))
		{
			if (!ok)
				tlog_warn("lineage", "the run's end could not be recorded; giving up");
			lw_give_back(w, &t);
			break;
		}
		lw_give_back(w, &t);
		if (ok)
		{
			if (w->failing)
				tlog_info("lineage", "recording works again");
			w->failing = false;
			w->backoff_ms = BACKOFF_MIN_MS;
			continue;
		}
		w->p.stop |= stopping;
		if (!w->exiting)
			lin_timedwait(&w->cond, &w->lock, stopping ? BACKOFF_MIN_MS : w->backoff_ms);
		w->backoff_ms = w->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : w->backoff_ms * 2;
	}
	w->done = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* See lineage_int.h. */
lw_worker *
lw_start(const char *dsn, const char *job_ns, const char *job_name, const char *run_id,
		 const char *config_fp, trib_metrics *metrics)
{
	lw_worker  *w = trib_xcalloc(1, sizeof(*w));

	w->dsn = trib_xstrdup(dsn);
	w->job_ns = trib_xstrdup(job_ns);
	w->job = trib_xstrdup(job_name);
	snprintf(w->run_id, sizeof(w->run_id), "%s", run_id);
	w->config_fp = trib_xstrdup(config_fp);
	w->backoff_ms = BACKOFF_MIN_MS;
	w->m_errors = trib_metrics_counter(metrics, "tributary_lineage_errors_total",
									   "Lineage recording calls that failed (retried; "
									   "the pipeline goes on).", "operation");
	w->m_versions = trib_metric_get(trib_metrics_gauge(metrics, "tributary_lineage_graph_version",
													   "The version of the job's lineage graph "
													   "last recorded.", "job"), job_name);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if (pthread_create(&w->thread, NULL, lw_main, w) != 0)
		abort();
	return w;
}

/* See lineage_int.h. */
void
lw_run_start(lw_worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->p.start = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* See lineage_int.h. */
void
lw_record(lw_worker *w, char *doc, const char *config_fp)
{
	pthread_mutex_lock(&w->lock);
	free(w->p.doc);
	free(w->p.doc_fp);
	w->p.doc = doc;
	w->p.doc_fp = trib_xstrdup(config_fp);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* See lineage_int.h. */
void
lw_count(lw_worker *w, const char *key, uint64_t n, const char *position)
{
	pthread_mutex_lock(&w->lock);
	lw_merge_counts(&w->p, key, n);
	if (position != NULL)
	{
		free(w->p.position);
		w->p.position = trib_xstrdup(position);
	}
	pthread_mutex_unlock(&w->lock);
}

/* See lineage_int.h. */
void
lw_kick(lw_worker *w)
{
	pthread_mutex_lock(&w->lock);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* Free what pending holds. */
static void
lw_pending_free(lw_pending *p)
{
	free(p->doc);
	free(p->doc_fp);
	for (size_t i = 0; i < p->ncounts; i++)
		free(p->counts[i].key);
	free(p->counts);
	free(p->position);
}

/* See lineage_int.h. */
lw_end
lw_stop(lw_worker *w, bool ok, int timeout_ms)
{
	struct timespec ts;
	bool		joined;
	lw_end		end;

	pthread_mutex_lock(&w->lock);
	w->p.stop = true;
	w->p.stop_ok = ok;
	w->give_up_ms = trib_clock_mono_ms() + timeout_ms / 2;
	pthread_cond_signal(&w->cond);
	ts = trib_clock_deadline(timeout_ms);
	while (!w->done)
		if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) == ETIMEDOUT)
			break;
	joined = w->done;
	w->exiting = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	if (!joined)
	{
		/* the catalog does not answer: leave the thread to its timeouts */
		tlog_warn("lineage", "the run's end could not be recorded in time; giving up");
		pthread_detach(w->thread);
		return LW_END_UNKNOWN;
	}
	pthread_join(w->thread, NULL);
	end = !w->started ? LW_END_NEVER_STARTED : w->ended ? LW_END_RECORDED : LW_END_UNKNOWN;
	if (w->conn != NULL)
		PQfinish(w->conn);
	for (size_t i = 0; i < w->nedges; i++)
	{
		free(w->edges[i].key);
		free(w->edges[i].ids);
	}
	free(w->edges);
	lw_pending_free(&w->p);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w->dsn);
	free(w->job_ns);
	free(w->job);
	free(w->config_fp);
	free(w);
	return end;
}
