/*
 * snapshot_run.c: the PostgreSQL source's snapshot phase: decide whether
 * to copy, run the engine (snapshot.c), write its events to the sinks, and
 * keep the progress in the checkpoint store, all through the pipeline's
 * services (source.h, trib_source_host), never the pipeline itself.  docs/SNAPSHOT.md explains
 * the guarantees; this comment says how they are met.
 *
 * Deciding.  `snapshot: initial` copies when the checkpoint store has no
 * position yet, or holds an unfinished initial snapshot.  A new slot is
 * created first (source_pg with EXPORT_SNAPSHOT) and the copy imports the
 * slot's snapshot, so the copy and the slot's stream meet exactly.  When
 * the slot already exists (a crash during the copy, or a slot made by
 * hand) the copy runs under a fresh snapshot and the stream then replays
 * everything since the slot's position on top of it.  To make a crash
 * between creating the slot and saving any progress harmless, a "pending"
 * progress is saved before the slot is created.  `snapshot: only` (and
 * `tributary snapshot`) copy under a snapshot of their own and stop; an
 * unfinished copy is continued, a finished one is made again.
 *
 * Positions.  Sinks keep and compare event ids (commit_lsn, seq), so
 * snapshot events need ids that sort after everything the sinks hold and,
 * for `initial`, before everything the stream will deliver.  Every event
 * of a snapshot gets (L, n): L is the slot's start LSN minus one (the
 * stream's first commit is at or after the slot's start) or, for `only`,
 * the current WAL position minus one; n counts up from one past the
 * highest id stored at L.  A resumed snapshot keeps L and continues n.
 *
 * Progress.  The copy runs in the snapshot feed (core/snapshot_feed.h,
 * shared with the MySQL source), which reaches the engine through
 * pg_engine below: the pipeline thread takes chunks in queue order, and
 * the feed assigns the ids, writes the events and saves the progress from
 * acknowledgements only, so a crash repeats at most the unsaved chunks; it
 * holds the very last event back so that it carries last_in_tx (the
 * envelope's source.snapshot "last").
 */
#include "snapshot_run.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "conninfo.h"
#include "log.h"
#include "pg_source_conf.h"
#include "pgrecord.h"
#include "snapshot.h"
#include "snapshot_feed.h"
#include "strbuf.h"

#define RENDER_MS 500
#define LOG_MS 10000

typedef struct phase
{
	const trib_source_host *h;
	trib_source_pg *src;
	const char *source_name;
	const trib_pg_source_conf *pg;
	bool		only;
	trib_snapshot *snap;
	trib_snapfeed f;			/* ids, delivery, progress (prog, base) */
	long long	last_render,
				last_log;
	int64_t		started_ms;
	bool		tty;
	int			lines;
} phase;

/* A plugin option as a boolean (a bare option means true). */
static bool
opt_bool(const trib_kvlist *opts, const char *name)
{
	size_t		i;

	for (i = 0; i < opts->count; i++)
		if (strcmp(opts->items[i].key, name) == 0)
		{
			const char *v = opts->items[i].value;

			return v == NULL || strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0 ||
				strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0;
		}
	return false;
}

/* Build the engine for this source. */
static trib_snapshot *
make_engine(phase *ph, const char *import, char *errbuf, size_t errlen)
{
	const trib_pg_source_conf *pg = ph->pg;
	trib_snapshot_conf c;
	const char **inc = trib_config_strlist_view(&pg->include_tables);
	const char **exc = trib_config_strlist_view(&pg->exclude_tables);
	const char **res = trib_config_strlist_view(&pg->snapshot_tables);
	const char *enc = trib_config_kvlist_get(&pg->plugin_options, "bytea-encoding");
	char	   *db;				/* as source_pg.c puts it into stream events */
	trib_snapshot *s;

	(void) trib_conninfo_dbname(pg->dsn, &db);

	memset(&c, 0, sizeof(c));
	c.dsn = pg->dsn;
	c.source_name = ph->source_name;
	c.db = db;
	c.import_snapshot = import;
	c.workers = pg->snapshot_workers > 0 ? pg->snapshot_workers : 2;
	c.chunk_rows = pg->snapshot_chunk_rows > 0 ? pg->snapshot_chunk_rows : 10000;
	c.buffer_bytes = (size_t) (pg->snapshot_buffer_mb > 0 ? pg->snapshot_buffer_mb : 64) << 20;
	c.include = inc;
	c.exclude = exc;
	c.restrict_to = res;
	c.publish_via_root = opt_bool(&pg->plugin_options, "publish-via-root");
	c.bytea_hex = enc && strcasecmp(enc, "hex") == 0;
	c.ts_ms = ph->started_ms;
	s = trib_snapshot_new(&c, errbuf, errlen);
	free(inc);
	free(exc);
	free(res);
	free(db);
	return s;
}

/* ---- progress ----------------------------------------------------------- */

/* Show progress: in place on a terminal, else a log line now and then. */
static void
show(phase *ph, bool force)
{
	long long	now = trib_clock_mono_ms();
	int64_t		wall = trib_clock_wall_ms();

	if (ph->tty)
	{
		if (force || now - ph->last_render >= RENDER_MS)
		{
			trib_snapprog_render(&ph->f.prog, stderr, true, wall, ph->started_ms, &ph->lines);
			ph->last_render = now;
		}
		return;
	}
	if (force || now - ph->last_log >= LOG_MS)
	{
		double		secs = (double) (wall - ph->started_ms) / 1000.0;

		tlog_info("snapshot", "%" PRIu64 " rows written in %.0f s (%.0f rows/s)",
				  ph->f.rows, secs, secs > 0 ? (double) ph->f.rows / secs : 0.0);
		ph->last_log = now;
	}
}

/* ---- the engine, as the feed's copy loop sees it ------------------------ */

/*
 * The progress of this run: every table the engine lists, with what prev
 * (when resuming) says about it; the engine skips done tables and starts
 * the others after their last acknowledged key.
 */
static void
engine_plan(void *eng, trib_snapfeed *f, trib_snapprog *prev)
{
	phase	   *ph = eng;
	for (int i = 0; i < trib_snapshot_ntables(ph->snap); i++)
	{
		trib_snaptab_table *t = trib_snapshot_table(ph->snap, i);

		(void) trib_snapfeed_plan_table(f, prev, &t->rel, t->schema, t->table, t->estimate,
										t->norder, &t->skip, &t->nafter, &t->after);
	}
}

/* Start the engine's workers. */
static bool
engine_start(void *eng, char *errbuf, size_t errlen)
{
	return trib_snapshot_start(((phase *) eng)->snap, errbuf, errlen);
}

/* The next chunk (the progress lists the tables in the engine's order). */
static int
engine_next(void *eng, int timeout_ms, trib_snapfeed_rows **chunk, char *errbuf, size_t errlen)
{
	return trib_snapshot_next(((phase *) eng)->snap, timeout_ms, chunk, errbuf, errlen);
}

/* Stop the engine's workers. */
static void
engine_stop(void *eng)
{
	trib_snapshot_stop(((phase *) eng)->snap);
}

/* Progress between chunks. */
static void
engine_show(void *eng)
{
	show(eng, false);
}

static const trib_snapfeed_engine pg_engine = {
	.plan = engine_plan,
	.start = engine_start,
	.next = engine_next,
	.stop = engine_stop,
	.show = engine_show,
};

/* ---- deciding ----------------------------------------------------------- */

/*
 * `initial`: save "pending", open the source (creating the slot with its
 * snapshot), and choose the snapshot and base.  Returns 1 to copy, 0 when
 * there is nothing to copy, -1 on error.
 */
static int
plan_initial(phase *ph, int have, const trib_position *ck, trib_snapprog *prev,
			 bool *resume, char *errbuf, size_t errlen)
{
	trib_source_pg *src = ph->src;
	bool		ours = have == 2 && strcmp(prev->mode, "initial") == 0;
	const char *import;
	uint64_t	slot_lsn;

	if (ours && strcmp(prev->state, "done") == 0)
		return 0;
	if (have == 1 && ck->commit_lsn != 0)
		return 0;				/* a streaming pipeline: never copy */
	*resume = ours && prev->lsn != 0;
	if (!*resume)
	{
		trib_position top;

		snprintf(ph->f.prog.state, sizeof(ph->f.prog.state), "pending");
		snprintf(ph->f.prog.mode, sizeof(ph->f.prog.mode), "initial");
		ph->f.base = ph->h->stored_max(ph->h->arg, &top) ? top.commit_lsn : 0;
		ph->f.done_seq = ph->f.base ? top.seq : 0;
		if (!trib_snapfeed_save(&ph->f, true, errbuf, errlen))
			return -1;
	}
	if (!trib_source_pg_open(src, errbuf, errlen))
		return -1;
	import = trib_source_pg_slot_created(src) ? trib_source_pg_snapshot_name(src) : NULL;
	if (trib_source_pg_slot_created(src) && *resume)
	{
		tlog_warn("snapshot", "the slot %s was created again: the copy starts over", ph->pg->slot);
		*resume = false;
	}
	ph->snap = make_engine(ph, import, errbuf, errlen);
	if (ph->snap == NULL || !trib_snapshot_prepare(ph->snap, errbuf, errlen) ||
		!trib_snapshot_slot_lsn(ph->snap, ph->pg->slot, &slot_lsn, errbuf, errlen))
		return -1;
	if (slot_lsn == 0)
		return snprintf(errbuf, errlen, "snapshot: slot %s not found", ph->pg->slot), -1;
	ph->f.base = *resume && !import ? prev->lsn : slot_lsn - 1;
	tlog_info("snapshot", "%s copy %s the slot's snapshot",
			  *resume ? "resuming the" : "starting the",
			  import ? "under" : "under a fresh snapshot, streaming from the slot after");
	return 1;
}

/* `only`: a snapshot of our own; resume an unfinished copy. */
static int
plan_only(phase *ph, int have, trib_snapprog *prev, bool *resume,
		  char *errbuf, size_t errlen)
{
	trib_position top;
	uint64_t	wal;

	*resume = have == 2 && strcmp(prev->mode, "only") == 0 &&
		strcmp(prev->state, "done") != 0 && prev->lsn != 0;
	ph->snap = make_engine(ph, NULL, errbuf, errlen);
	if (ph->snap == NULL || !trib_snapshot_prepare(ph->snap, errbuf, errlen))
		return -1;
	wal = trib_snapshot_wal_lsn(ph->snap);
	if (*resume)
		ph->f.base = prev->lsn;
	else
	{
		ph->f.base = wal > 0 ? wal - 1 : 0;
		if (ph->h->stored_max(ph->h->arg, &top) && top.commit_lsn > ph->f.base)
			ph->f.base = top.commit_lsn;
	}
	tlog_info("snapshot", "%s the copy", *resume ? "resuming" : "starting");
	return 1;
}

/* Release everything the phase holds. */
static void
phase_free(phase *ph)
{
	trib_snapfeed_clear(&ph->f);
	trib_snapshot_free(ph->snap);
}

/* See snapshot_run.h. */
int
trib_snapshot_run(trib_source_pg *src, const char *source_name,
					   const trib_pg_source_conf *pg, const trib_source_host *host,
					   bool only, volatile sig_atomic_t *stop,
					   char *errbuf, size_t errlen)
{
	phase		ph;
	trib_position ck;
	trib_snapprog prev;
	bool		resume = false;
	int			have,
				rc;

	if (!only && pg->snapshot == TRIB_SNAPSHOT_NEVER)
		return 1;
	memset(&ph, 0, sizeof(ph));
	ph.h = host;
	ph.f.h = host;
	ph.src = src;
	ph.source_name = source_name;
	ph.pg = pg;
	ph.only = only || ph.pg->snapshot == TRIB_SNAPSHOT_ONLY;
	ph.started_ms = trib_clock_wall_ms();
	ph.tty = only && isatty(STDERR_FILENO);
	ph.f.quiet = ph.tty;
	have = trib_snapfeed_load(host, &ck, &prev, errbuf, errlen);
	if (have < 0)
		return -1;
	host->set_state(host->arg, "snapshot");
	rc = ph.only ? plan_only(&ph, have, &prev, &resume, errbuf, errlen)
		: plan_initial(&ph, have, &ck, &prev, &resume, errbuf, errlen);
	if (rc == 1)
		rc = trib_snapfeed_prepare(&ph.f, &pg_engine, &ph, ph.only, resume ? &prev : NULL,
								   ph.only ? "current WAL position" : "slot's start",
								   errbuf, errlen) ? 1 : -1;
	trib_snapprog_clear(&prev);
	if (rc == 1)
	{
		ph.last_log = trib_clock_mono_ms();
		tlog_info("snapshot", "%d table(s) to copy, %d worker(s)",
				  trib_snapshot_ntables(ph.snap), ph.pg->snapshot_workers);
		rc = trib_snapfeed_run(&ph.f, &pg_engine, &ph, stop, errbuf, errlen);
		show(&ph, true);
		if (rc == 1)
			tlog_info("snapshot", "copy complete: %" PRIu64 " rows in this run", ph.f.rows);
	}
	else if (rc == 0)
		rc = 1;
	phase_free(&ph);
	return rc;
}
