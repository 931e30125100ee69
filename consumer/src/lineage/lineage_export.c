/*
 * lineage_export.c: OpenLineage RunEvents to an HTTP endpoint (Marquez's
 * /api/v1/lineage) or a JSON Lines file, off the stream's thread
 * (lineage_int.h).
 *
 * Design.  The events are the catalog's: tributary.openlineage_events(run)
 * gives one RunEvent per audit entry of the run, oldest first, so "the
 * next event to send" is a number.  The sent-marker file (export_state)
 * keeps, per run, how many events each destination has taken; it is
 * replaced atomically (fileio.h) after every event that went out.  The
 * thread wakes when the stage says something was recorded (or every
 * second), reads the events after the marker with one bound query, and
 * sends them in order, each to the destinations that have not taken it.
 * A failure (connection refused, a status other than 2xx, a full disk)
 * stops the round; the same event is tried again after a backoff that
 * doubles up to export_max_backoff_ms.  So after recovery nothing is lost
 * and nothing is sent twice.  A crash between a send and the marker is
 * settled at the next start from the in-flight journal (lineage_journal.c):
 * an append that happened is not repeated, and a POST the endpoint may
 * have taken is repeated with the very same bytes (docs/LINEAGE.md,
 * section 8).
 *
 * Runs the marker lists from earlier processes get one more complete
 * pass (their events are final once the run is over, or the process that
 * ran it died), then leave the marker.  The current run stays until its
 * COMPLETE, FAIL or ABORT event is out, or the stop's timeout; at the
 * stop, once the worker says its events are final (its end recorded, or
 * it never started: a standby's, or a start that failed first), it gets
 * that one complete pass too, so a run with no events leaves the marker
 * at once instead of waiting out the timeout for an end that never comes.
 *
 * HTTP is libcurl's (one easy handle, 10 s timeout); the endpoint's
 * answer body is never logged (it may echo the event).
 */
#include "lineage_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fileio.h"
#include "log.h"
#include "pgconn.h"
#include "strbuf.h"
#include "xalloc.h"

#define LX_BACKOFF_MIN_MS 200

typedef struct lx_run
{
	char		id[37];
	long		sent[2];		/* per destination: 0 http, 1 file */
	bool		current;
	bool		done;			/* its last event is out, or its pass is */
} lx_run;

struct lx_export
{
	pthread_t	thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool		kicked;
	bool		stopping;
	bool		final;			/* when stopping: the run has all its events */
	long long	deadline_ms;	/* when stopping: give up after */
	/* the thread's own */
	char	   *dsn;
	char	   *url;
	char	   *file;
	char	   *state;
	char	   *journal;		/* state + ".inflight" */
	lx_inflight resend;			/* a POST in flight at the last crash */
	int			kill_dest;		/* the test hook (lx_fault_hook): -1 none */
	long		kill_after;
	long		sent_here[2];	/* events sent by this process */
	int			max_backoff_ms;
	PGconn	   *conn;
	CURL	   *curl;
	lx_run	   *runs;
	size_t		nruns;
	bool		failing;
	trib_metric *m_sent[2];
	trib_metric *m_errors[2];
};

/* libcurl's write callback: the answer's body is dropped. */
static size_t
lx_discard(char *data, size_t size, size_t n, void *arg)
{
	(void) data;
	(void) arg;
	return size * n;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Read the marker: "run http_sent file_sent" per line. */
static void
lx_load(lx_export *x)
{
	FILE	   *f = fopen(x->state, "r");
	char		id[37];
	long		a,
				b;

	if (f == NULL)
		return;
	while (fscanf(f, "%36s %ld %ld", id, &a, &b) == 3)
	{
		x->runs = trib_xadd_zeroed(x->runs, x->nruns, sizeof(lx_run));
		memcpy(x->runs[x->nruns].id, id, sizeof(id));
		x->runs[x->nruns].sent[0] = a;
		x->runs[x->nruns].sent[1] = b;
		x->nruns++;
	}
	fclose(f);
}

/* Write the marker (runs not done, and the current one). */
static bool
lx_save(lx_export *x)
{
	trib_strbuf b = {0};
	const char *what = NULL;
	bool		ok;

	for (size_t i = 0; i < x->nruns; i++)
		if (!x->runs[i].done)
			trib_strbuf_printf(&b, "%s %ld %ld\n", x->runs[i].id, x->runs[i].sent[0],
							   x->runs[i].sent[1]);
	ok = trib_fileio_write_atomic(x->state, b.data ? b.data : "", b.len, 0600, true, &what);
	if (!ok)
		tlog_warn("lineage", "export: cannot write the sent-marker %s (%s): %s", x->state,
				  what ? what : "write", strerror(errno));
	trib_strbuf_free(&b);
	return ok;
}

/* POST one event. */
static bool
lx_post(lx_export *x, const char *event, char *errbuf, size_t errlen)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	long		status = 0;
	CURLcode	rc;

	if (x->curl == NULL && (x->curl = curl_easy_init()) == NULL)
		abort();
	curl_easy_reset(x->curl);
	curl_easy_setopt(x->curl, CURLOPT_URL, x->url);
	curl_easy_setopt(x->curl, CURLOPT_POSTFIELDS, event);
	curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(x->curl, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(x->curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(x->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->curl, CURLOPT_WRITEFUNCTION, lx_discard);
	rc = curl_easy_perform(x->curl);
	curl_slist_free_all(h);
	if (rc != CURLE_OK)
		return snprintf(errbuf, errlen, "POST: %s", curl_easy_strerror(rc)), false;
	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299)
		return snprintf(errbuf, errlen, "POST: the endpoint answered HTTP %ld", status), false;
	return true;
}

/* Append one event as a line, durably. */
static bool
lx_append(lx_export *x, const char *event, char *errbuf, size_t errlen)
{
	int			fd = trib_fileio_open_private(x->file, O_WRONLY | O_APPEND | O_CREAT, 0600);
	size_t		n = strlen(event);
	bool		ok;

	if (fd < 0)
		return snprintf(errbuf, errlen, "%s: %s", x->file, strerror(errno)), false;
	ok = trib_fileio_write_all(fd, event, n) && trib_fileio_write_all(fd, "\n", 1) &&
		fsync(fd) == 0;
	if (!ok)
		snprintf(errbuf, errlen, "%s: %s", x->file, strerror(errno));
	close(fd);
	return ok;
}

/*
 * The test hook TRIBUTARY_TEST_LINEAGE_EXPORT_KILL="http:N" or "file:N":
 * the process kills itself (SIGKILL) right after its N-th event went to
 * that destination, before the sent-marker records it (e2e 76).  Read
 * once at start; absent (always, outside tests) it does nothing.
 */
static void
lx_fault_hook_init(lx_export *x)
{
	const char *v = getenv("TRIBUTARY_TEST_LINEAGE_EXPORT_KILL");

	x->kill_dest = -1;
	if (v == NULL)
		return;
	if (strncmp(v, "http:", 5) == 0)
		x->kill_dest = 0;
	else if (strncmp(v, "file:", 5) == 0)
		x->kill_dest = 1;
	x->kill_after = x->kill_dest >= 0 ? strtol(v + 5, NULL, 10) : 0;
}

/* The test hook's moment: the n-th event went to d in this process. */
static void
lx_fault_hook(lx_export *x, int d)
{
	if (++x->sent_here[d] == x->kill_after && d == x->kill_dest)
		raise(SIGKILL);
}

/*
 * Send the n-th event of r to destination d (0 http, 1 file): journal it,
 * then POST or append.  A POST the journal says was in flight at the last
 * crash goes out with the journaled bytes, identical.
 */
static bool
lx_send(lx_export *x, lx_run *r, int d, long n, const char *event, char *errbuf,
		size_t errlen)
{
	lx_inflight j = {.dest = d, .n = n, .event = (char *) event};
	struct stat st;

	if (d == 0 && x->resend.event != NULL && x->resend.n == n && strcmp(x->resend.run, r->id) == 0)
		j.event = x->resend.event;
	if (d == 1)
		j.offset = stat(x->file, &st) == 0 ? st.st_size : 0;
	snprintf(j.run, sizeof(j.run), "%s", r->id);
	if (!lx_journal_write(x->journal, &j, errbuf, errlen))
		return false;
	if (!(d == 0 ? lx_post(x, j.event, errbuf, errlen) : lx_append(x, j.event, errbuf, errlen)))
		return false;
	lx_fault_hook(x, d);
	return true;
}

/*
 * At start: settle the send the journal says was in flight when the last
 * process died (lineage_journal.c).  An append that is in the file counts
 * as sent; a POST is kept to be repeated with the same bytes.
 */
static void
lx_settle(lx_export *x)
{
	lx_inflight j;
	lx_run	   *r = NULL;
	char		e[512];
	int			rc;

	if (!lx_journal_read(x->journal, &j))
		return;
	for (size_t i = 0; i < x->nruns && r == NULL; i++)
		if (strcmp(x->runs[i].id, j.run) == 0)
			r = &x->runs[i];
	if (r == NULL || j.n != r->sent[j.dest] + 1 || (j.dest == 0 ? x->url : x->file) == NULL)
	{
		lx_inflight_free(&j);	/* stale: the marker is past it */
		return;
	}
	if (j.dest == 0)
	{
		tlog_info("lineage", "export: event %ld of run %s may have reached the endpoint before "
				  "the last stop; it is sent again, identical", j.n, j.run);
		x->resend = j;
		return;
	}
	rc = lx_journal_settle_file(x->file, &j, e, sizeof(e));
	if (rc < 0)
		tlog_warn("lineage", "export: cannot check the event in flight at the last stop: %s", e);
	if (rc == 1)
	{
		tlog_info("lineage", "export: event %ld of run %s was appended before the last stop; "
				  "it is not appended again", j.n, j.run);
		r->sent[1] = j.n;
	}
	lx_inflight_free(&j);
}

/*
 * Send what r has not sent yet, to each destination that has not failed
 * in this round (dead[d]; one failing destination does not hold the
 * other back); false when one failed.
 */
static bool
lx_run_once(lx_export *x, lx_run *r, bool dead[2], char *errbuf, size_t errlen)
{
	static const char sql[] =
		"SELECT x.e::text, x.e->>'eventType', x.n FROM tributary.openlineage_events($1::uuid) "
		"WITH ORDINALITY AS x(e, n) WHERE x.n > $2::bigint ORDER BY x.n";
	char		from[32];
	const char *params[2];
	PGresult   *res;
	bool		ok = true;
	long		lowest = x->url && x->file ? (r->sent[0] < r->sent[1] ? r->sent[0] : r->sent[1])
		: x->url ? r->sent[0] : r->sent[1];
	bool		all_out = true;

	if (!lin_connect(&x->conn, x->dsn, "tributary-lineage-export", NULL, errbuf, errlen))
		return false;
	snprintf(from, sizeof(from), "%ld", lowest);
	params[0] = r->id;
	params[1] = from;
	res = PQexecParams(x->conn, sql, 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		snprintf(errbuf, errlen, "reading the events: %s",
				 PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?: "no answer");
		PQclear(res);
		return false;
	}
	for (int i = 0; i < PQntuples(res); i++)
	{
		long		n = strtol(PQgetvalue(res, i, 2), NULL, 10);
		const char *type = PQgetvalue(res, i, 1);

		for (int d = 0; d < 2; d++)
		{
			char		e[512];

			if ((d == 0 ? x->url : x->file) == NULL || r->sent[d] >= n)
				continue;
			if (dead[d] || !lx_send(x, r, d, n, PQgetvalue(res, i, 0), e, sizeof(e)))
			{
				if (!dead[d])
				{
					trib_metric_inc(x->m_errors[d]);
					snprintf(errbuf, errlen, "%s", e);
				}
				dead[d] = true;
				all_out = ok = false;
				continue;
			}
			r->sent[d] = n;
			trib_metric_inc(x->m_sent[d]);
			if (!lx_save(x))
			{
				snprintf(errbuf, errlen, "cannot write the sent-marker %s", x->state);
				dead[0] = dead[1] = true;
				all_out = ok = false;
			}
		}
		if (all_out && r->current && (strcmp(type, "COMPLETE") == 0 ||
									  strcmp(type, "FAIL") == 0 || strcmp(type, "ABORT") == 0))
			r->done = true;
	}
	PQclear(res);
	if (ok && !r->current)
		r->done = true;			/* an earlier run: one complete pass */
	if (r->done)
		lx_save(x);
	return ok;
}

/* One round over the runs (a destination that fails is skipped for the
 * rest of it); false when anything failed. */
static bool
lx_round(lx_export *x)
{
	char		e[1024];
	bool		dead[2] = {false, false};
	bool		ok = true;

	for (size_t i = 0; i < x->nruns; i++)
	{
		if (x->runs[i].done || lx_run_once(x, &x->runs[i], dead, e, sizeof(e)))
			continue;
		if (!x->failing)
			tlog_warn("lineage", "export of run %s failed (retrying with backoff; the "
					  "pipeline goes on): %s", x->runs[i].id, e);
		x->failing = true;
		ok = false;
		if (x->conn != NULL && PQstatus(x->conn) != CONNECTION_OK)
		{
			PQfinish(x->conn);
			x->conn = NULL;
			break;				/* the catalog: nothing more this round */
		}
	}
	if (ok && x->failing)
		tlog_info("lineage", "export works again");
	x->failing = !ok;
	return ok;
}

/* Is the current run wholly sent? */
static bool
lx_current_done(const lx_export *x)
{
	for (size_t i = 0; i < x->nruns; i++)
		if (!x->runs[i].done)
			return false;
	return true;
}

/*
 * The current run has every event it will have (lx_stop's `final`): it
 * is sent as an earlier run's, one complete pass and done, without
 * waiting for a COMPLETE or FAIL (a run that never started has none).
 */
static void
lx_finalize(lx_export *x)
{
	for (size_t i = 0; i < x->nruns; i++)
		x->runs[i].current = false;
}

/* The thread. */
static void *
lx_main(void *arg)
{
	lx_export  *x = arg;
	int			backoff = LX_BACKOFF_MIN_MS;

	for (;;)
	{
		bool		ok;
		int			wait_ms;

		pthread_mutex_lock(&x->lock);
		if (x->final)
			lx_finalize(x);
		pthread_mutex_unlock(&x->lock);
		ok = lx_round(x);
		wait_ms = ok ? 1000 : backoff;

		backoff = ok ? LX_BACKOFF_MIN_MS
			: (backoff * 2 > x->max_backoff_ms ? x->max_backoff_ms : backoff * 2);
		pthread_mutex_lock(&x->lock);
		if (x->stopping && ((ok && !x->kicked && lx_current_done(x)) ||
							trib_clock_mono_ms() >= x->deadline_ms))
		{
			pthread_mutex_unlock(&x->lock);
			break;
		}
		if (!x->kicked || !ok)
			lin_timedwait(&x->cond, &x->lock, wait_ms);
		x->kicked = false;
		pthread_mutex_unlock(&x->lock);
	}
	return NULL;
}

/* See lineage_int.h. */
lx_export *
lx_start(const trib_lineage_conf *conf, const char *dsn, const char *run_id,
		 const char *state_path, trib_metrics *metrics)
{
	lx_export  *x = trib_xcalloc(1, sizeof(*x));
	trib_metric_family *sent = trib_metrics_counter(metrics, "tributary_lineage_export_events_total",
													"OpenLineage events the export sent.",
													"destination");
	trib_metric_family *errs = trib_metrics_counter(metrics, "tributary_lineage_export_errors_total",
													"Failed tries of the OpenLineage export "
													"(retried).", "destination");

	pthread_once(&curl_once, curl_init_once);
	x->dsn = trib_xstrdup(dsn);
	x->url = conf->export_url ? trib_xstrdup(conf->export_url) : NULL;
	x->file = conf->export_file ? trib_xstrdup(conf->export_file) : NULL;
	x->state = trib_xstrdup(state_path);
	x->max_backoff_ms = conf->export_max_backoff_ms > 0 ? conf->export_max_backoff_ms : 30000;
	x->m_sent[0] = trib_metric_get(sent, "http");
	x->m_sent[1] = trib_metric_get(sent, "file");
	x->m_errors[0] = trib_metric_get(errs, "http");
	x->m_errors[1] = trib_metric_get(errs, "file");
	x->journal = trib_xmalloc(strlen(state_path) + sizeof(".inflight"));
	sprintf(x->journal, "%s.inflight", state_path);
	lx_fault_hook_init(x);
	lx_load(x);
	lx_settle(x);
	x->runs = trib_xadd_zeroed(x->runs, x->nruns, sizeof(lx_run));
	snprintf(x->runs[x->nruns].id, sizeof(x->runs[0].id), "%s", run_id);
	x->runs[x->nruns++].current = true;
	lx_save(x);					/* the run is in the marker from its start */
	pthread_mutex_init(&x->lock, NULL);
	pthread_cond_init(&x->cond, NULL);
	if (pthread_create(&x->thread, NULL, lx_main, x) != 0)
		abort();
	return x;
}

/* See lineage_int.h. */
void
lx_kick(lx_export *x)
{
	pthread_mutex_lock(&x->lock);
	x->kicked = true;
	pthread_cond_signal(&x->cond);
	pthread_mutex_unlock(&x->lock);
}

/* See lineage_int.h. */
void
lx_stop(lx_export *x, int timeout_ms, bool final)
{
	pthread_mutex_lock(&x->lock);
	x->stopping = true;
	x->final = final;
	x->kicked = true;
	x->deadline_ms = trib_clock_mono_ms() + timeout_ms;
	pthread_cond_signal(&x->cond);
	pthread_mutex_unlock(&x->lock);
	pthread_join(x->thread, NULL);
	if (!lx_current_done(x))
		tlog_warn("lineage", "export: gave up after %d ms: events of this run are left to "
				  "send (%s); the sent-marker %s keeps them and the next start sends them",
				  timeout_ms, x->failing ? "a destination or the catalog kept failing"
				  : !final ? "the run's end is not recorded in the catalog" : "no time left",
				  x->state);
	if (x->conn != NULL)
		PQfinish(x->conn);
	if (x->curl != NULL)
		curl_easy_cleanup(x->curl);
	pthread_mutex_destroy(&x->lock);
	pthread_cond_destroy(&x->cond);
	free(x->runs);
	free(x->dsn);
	free(x->url);
	free(x->file);
	free(x->state);
	free(x->journal);
	lx_inflight_free(&x->resend);
	free(x);
}
