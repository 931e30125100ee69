/*
 * lineage_int.h: inside lineage/ only: the worker thread that talks to
 * the catalog for the stage (lineage_worker.c), and the export thread
 * (lineage_export.c).
 *
 * The stage (pipeline thread) hands work over by replacing or merging
 * what is pending, never by waiting: the latest graph document (older
 * ones are obsolete), counts per relation key (added up), run start and
 * stop.  The worker records them when the catalog answers, and keeps
 * them when it does not.  The export journals each event before it sends
 * it (lineage_journal.c), so that a crash between the send and the
 * sent-marker sends nothing twice.
 */
#ifndef TRIB_LINEAGE_INT_H
#define TRIB_LINEAGE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "metrics.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <sys/types.h>

/* What both threads use (lineage_worker.c): connect *conn to dsn unless
 * it is connected (5 s connect timeout, and the statement_timeout in
 * `options` when not NULL); false with libpq's message.  Wait on cond for
 * up to ms (lock held). */
bool		lin_connect(PGconn **conn, const char *dsn, const char *app, const char *options,
						char *errbuf, size_t errlen);
void		lin_timedwait(pthread_cond_t *cond, pthread_mutex_t *lock, int ms);

typedef struct lw_worker lw_worker;

/* Start the worker for job (ns, name) on dsn; run_id is the run's uuid. */
lw_worker  *lw_start(const char *dsn, const char *job_ns, const char *job_name,
					 const char *run_id, const char *config_fp, trib_metrics *metrics);

/* The run starts (START). */
void		lw_run_start(lw_worker *w);

/* Record this document (replaces a pending one); takes ownership. */
void		lw_record(lw_worker *w, char *doc, const char *config_fp);

/* Add n events to relation `key`'s edges; position: the latest event id
 * (or NULL).  Merged with what is pending. */
void		lw_count(lw_worker *w, const char *key, uint64_t n, const char *position);

/* Wake the worker (after a batch of lw_count). */
void		lw_kick(lw_worker *w);

/* What lw_stop() could do with the run in the catalog. */
typedef enum lw_end
{
	LW_END_RECORDED,			/* its COMPLETE or FAIL is recorded */
	LW_END_NEVER_STARTED,		/* its start was never recorded (a standby's,
								 * or a start that failed first): it has no
								 * events */
	LW_END_UNKNOWN				/* given up: the catalog did not answer */
} lw_end;

/* Stop: record what is pending, end the run (COMPLETE or FAIL), wait up
 * to timeout_ms for the thread, free it.  Whether the run's events are
 * final now (LW_END_RECORDED, LW_END_NEVER_STARTED) or may still grow. */
lw_end		lw_stop(lw_worker *w, bool ok, int timeout_ms);

/* ---- the export (lineage_export.c) ---------------------------------- */

typedef struct lx_export lx_export;

/*
 * Start the export thread: the OpenLineage events of run_id (and what
 * the sent-marker at conf->export_state says is left of earlier runs) to
 * conf->export_url and/or conf->export_file.  `state_path` is the marker
 * file (already defaulted).
 */
lx_export  *lx_start(const trib_lineage_conf *conf, const char *dsn, const char *run_id,
					 const char *state_path, trib_metrics *metrics);

/* New events may be there (the worker recorded something). */
void		lx_kick(lx_export *x);

/*
 * Send what is left of the run (up to timeout_ms), stop, free.  `final`:
 * the catalog has every event the run will ever have (lw_stop() said so),
 * so one complete pass sends them all and nothing is waited for (a run
 * that never started has none: it leaves the marker at once); otherwise
 * the export waits, up to timeout_ms, for the run's COMPLETE or FAIL.
 */
void		lx_stop(lx_export *x, int timeout_ms, bool final);

/* ---- the export's in-flight journal (lineage_journal.c) ------------- */

/* One event on its way to a destination (0 http, 1 file): the n-th event
 * of run; offset is the file's size before the append (0 for http);
 * event is owned (lx_inflight_free). */
typedef struct lx_inflight
{
	char		run[37];
	int			dest;
	long		n;
	off_t		offset;
	char	   *event;
} lx_inflight;

/* Journal j at path, atomically and durably, before sending it; false
 * with errbuf naming the file. */
bool		lx_journal_write(const char *path, const lx_inflight *j, char *errbuf, size_t errlen);

/* Read the journal at path into *out; false when there is none or it is
 * not one (then there is nothing to settle). */
bool		lx_journal_read(const char *path, lx_inflight *out);

void		lx_inflight_free(lx_inflight *j);

/*
 * Settle a file send the journal says was in flight: 1 when the event and
 * its newline are in `file` at j->offset (it went out: do not append it
 * again), 0 when not (a torn append at the end of the file is cut off
 * first), -1 on an error (errbuf).
 */
int			lx_journal_settle_file(const char *file, const lx_inflight *j, char *errbuf,
								   size_t errlen);

#endif							/* TRIB_LINEAGE_INT_H */
