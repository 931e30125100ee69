/*
 * mysql_snapshot_run.c: the MySQL source's snapshot phase: decide whether
 * to copy, run the engine (mysql_snapshot.c), write its events to the
 * sinks and keep the progress in the checkpoint store, all through the
 * pipeline's services (source.h, trib_source_host).  docs/MYSQL.md
 * ("Initial snapshot") gives the guarantees; this says how they are met.
 *
 * Deciding.  `snapshot: initial` copies when the checkpoint store has no
 * position yet, or holds an unfinished initial snapshot; `only` (and
 * `tributary snapshot`) copy and stop, continuing an unfinished `only`
 * copy.  A finished initial snapshot, or a checkpoint of the stream, means
 * stream.
 *
 * Positions.  The engine gives the binlog position P = (file, offset) the
 * copy is consistent with.  Every event of the snapshot gets (L, n) with L
 * = (file number << 32 | offset) - 1, just before the stream's first
 * transaction (which starts at P or later, so its commit_lsn is above L),
 * and n counting up from one past the highest id stored at L.  The phase
 * returns L; the adapter then dumps the binlog from P, so every change is
 * in the copy (committed before P) or in the stream (at or after P),
 * never both.  A resumed copy keeps L and continues n; its remaining
 * tables are read under a new snapshot (the crashed one is gone), and the
 * stream from P replays the changes since on top of them: every row ends
 * as the server has it, but a row changed during the outage may be seen
 * in its newer state before those changes are replayed.  A table altered
 * during the copy before the engine read it is copied under a later
 * snapshot of its own (mysql_snapshot.h), with the same consequence for
 * that table; the phase hands back its description at P (*shapes), which
 * the adapter gives the stream's schema history from P on, so that its
 * changes before the ALTER decode in the shape they were written in.
 *
 * Progress.  As the PostgreSQL phase, through the snapshot feed
 * (core/snapshot_feed.h), which runs the copy loop over the engine's ops
 * (my_engine below): ids, delivery, and progress saved from the sinks'
 * acknowledgements only; the very last event carries last_in_tx
 * (source.snapshot "last").
 */
#include "mysql_snapshot_run.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "mysql_int.h"
#include "mysql_position.h"
#include "mysql_snapshot.h"
#include "snapshot_feed.h"
#include "xalloc.h"

#define LOG_MS 10000

typedef struct phase
{
	const char *source_name;
	const trib_mysql_source_conf *conf;
	bool		only;
	trib_my_snap *snap;
	trib_snapfeed f;			/* ids, delivery, progress (tables in the
								 * engine's order) */
	char	   *opaque;			/* every event's opaque position */
	int64_t		last_log,
				started_ms;
} phase;

/* ---- the engine, as the feed's copy loop sees it ------------------------ */

/* The progress of this run: the engine's tables with what prev says. */
static void
engine_plan(void *eng, trib_snapfeed *f, trib_snapprog *prev)
{
	phase	   *ph = eng;

	for (int i = 0; i < trib_my_snap_ntables(ph->snap); i++)
	{
		trib_my_snap_table *t = trib_my_snap_table_at(ph->snap, i);

		(void) trib_snapfeed_plan_table(f, prev, &t->rel, t->db, t->table, t->estimate, t->npk,
										&t->skip, &t->nafter, &t->after);
	}
}

/* Start the engine's workers. */
static bool
engine_start(void *eng, char *errbuf, size_t errlen)
{
	return trib_my_snap_start(((phase *) eng)->snap, errbuf, errlen);
}

/* The next chunk (the progress lists the tables in the engine's order). */
static int
engine_next(void *eng, int timeout_ms, trib_snapfeed_rows **chunk, char *errbuf, size_t errlen)
{
	return trib_my_snap_next(((phase *) eng)->snap, timeout_ms, chunk, errbuf, errlen);
}

/* Stop the engine's workers. */
static void
engine_stop(void *eng)
{
	trib_my_snap_stop(((phase *) eng)->snap);
}

/* A log line now and then. */
static void
engine_show(void *eng)
{
	phase	   *ph = eng;

	if (trib_clock_mono_ms() - ph->last_log >= LOG_MS)
	{
		tlog_info("snapshot", "%" PRIu64 " rows written", ph->f.rows);
		ph->last_log = trib_clock_mono_ms();
	}
}

static const trib_snapfeed_engine my_engine = {
	.plan = engine_plan,
	.start = engine_start,
	.next = engine_next,
	.stop = engine_stop,
	.show = engine_show,
};

/* ---- deciding ----------------------------------------------------------- */

/* The engine's settings from the source's. */
static trib_my_snap *
make_engine(phase *ph, const char **tables, char *errbuf, size_t errlen)
{
	const trib_mysql_source_conf *c = ph->conf;
	trib_my_snap_conf sc = {0};

	sc.conn.host = c->host;
	sc.conn.port = (unsigned) c->port;
	sc.conn.socket = c->socket;
	sc.conn.user = c->user;
	sc.conn.password = c->password;
	sc.source_name = ph->source_name;
	sc.tables = c->snapshot_tables.count ? tables : NULL;
	sc.workers = c->snapshot_workers;
	sc.chunk_rows = c->snapshot_chunk_rows;
	sc.buffer_bytes = (size_t) c->snapshot_buffer_mb << 20;
	sc.flush_lock = c->snapshot_locking == TRIB_MY_SNAPSHOT_LOCK_FLUSH;
	sc.zero_date = c->zero_date;
	sc.ts_ms = ph->started_ms;
	return trib_my_snap_new(&sc, errbuf, errlen);
}

/* The opaque position of the snapshot's events: the binlog position and
 * the envelope's MySQL source members (mysql_tx.c writes the stream's). */
static bool plain_name(const char *s);

static char *
snapshot_opaque(const trib_my_snap *s)
{
	const char *gtid = plain_name(trib_my_snap_gtid(s)) ? trib_my_snap_gtid(s) : "";
	char	   *out;
	size_t		len;
	FILE	   *f = open_memstream(&out, &len);

	if (f == NULL)
		abort();
	/* file and gtid are server names: [A-Za-z0-9._-] and digits, commas
	 * and dashes, which need no JSON escaping */
	fprintf(f, "{\"file\":\"%s\",\"pos\":%" PRIu64 ",\"gtid\":\"%s\",\"snapshot\":true,"
			"\"source\":{\"gtid\":%s%s%s,\"file\":\"%s\",\"pos\":%" PRIu64 ",\"row\":0,"
			"\"thread\":null}}", trib_my_snap_file(s), trib_my_snap_pos(s), gtid,
			gtid[0] ? "\"" : "", gtid[0] ? gtid : "null", gtid[0] ? "\"" : "",
			trib_my_snap_file(s), trib_my_snap_pos(s));
	fclose(f);
	return out;
}

/* Are file and GTID names safe to write into JSON as they are? */
static bool
plain_name(const char *s)
{
	for (; *s; s++)
		if (!(*s == '.' || *s == '-' || *s == '_' || *s == ',' || *s == ':' ||
			  (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return false;
	return true;
}

/* Connect, take the snapshot and its position; base = position - 1. */
static bool
prepare(phase *ph, char *errbuf, size_t errlen)
{
	const char **tables = trib_config_strlist_view(&ph->conf->snapshot_tables);
	trib_my_pos p = {0};
	uint64_t	major = 0;
	bool		ok;

	ph->snap = make_engine(ph, tables, errbuf, errlen);
	free(tables);
	ok = ph->snap && trib_my_snap_prepare(ph->snap, errbuf, errlen);
	if (!ok)
		return trib_my_fail_prefix(errbuf, errlen, "snapshot of source %s", ph->source_name);
	snprintf(p.file, sizeof(p.file), "%s", trib_my_snap_file(ph->snap));
	p.tx_pos = trib_my_snap_pos(ph->snap);
	if (!trib_my_pos_major(&p, &major) || major == 0 || !plain_name(p.file))
		return trib_my_fail(errbuf, errlen, "snapshot: the binlog position %s:%" PRIu64
							" has no file number", p.file, p.tx_pos);
	ph->f.base = major - 1;
	ph->opaque = snapshot_opaque(ph->snap);
	ph->f.opaque = ph->opaque;
	tlog_info("snapshot", "source %s: consistent snapshot at binlog %s:%" PRIu64 " (GTID %s), "
			  "%s", ph->source_name, p.file, p.tx_pos,
			  trib_my_snap_gtid(ph->snap)[0] ? trib_my_snap_gtid(ph->snap) : "unknown",
			  trib_my_snap_locked(ph->snap) ? "taken under a brief FLUSH TABLES WITH READ LOCK"
			  : "taken without a lock");
	return true;
}

/* Decide: 1 copy (*resume: continue prev), 0 nothing to copy, -1 error. */
static int
plan(phase *ph, int have, const trib_position *ck, const trib_snapprog *prev, bool *resume,
	 uint64_t *stream_base)
{
	const char *mode = ph->only ? "only" : "initial";
	bool		ours = have == 2 && strcmp(prev->mode, mode) == 0;

	*resume = ours && strcmp(prev->state, "done") != 0 && prev->lsn != 0;
	if (ph->only)
		return 1;
	if (ours && strcmp(prev->state, "done") == 0)
	{
		*stream_base = prev->lsn;
		return 0;
	}
	if (have == 1 && ck->commit_lsn != 0)
		return 0;				/* a streaming pipeline */
	return 1;
}

/* The descriptions at the consistent point of the tables copied under a
 * new snapshot (taken from the engine), NULL-terminated, or NULL. */
static trib_my_tableinfo **
shapes_at_start(phase *ph)
{
	trib_my_tableinfo **out = NULL;
	int			n = 0;

	for (int i = 0; i < trib_my_snap_ntables(ph->snap); i++)
	{
		trib_my_snap_table *t = trib_my_snap_table_at(ph->snap, i);

		if (t->at_start == NULL)
			continue;
		out = trib_xrealloc(out, sizeof(*out) * (size_t) (n + 2));
		out[n++] = t->at_start;
		out[n] = NULL;
		t->at_start = NULL;
	}
	return out;
}

static void
phase_free(phase *ph)
{
	trib_snapfeed_clear(&ph->f);
	trib_my_snap_free(ph->snap);
	free(ph->opaque);
}

/* See mysql_snapshot_run.h. */
int
trib_my_snapshot_run(const char *source_name, const trib_mysql_source_conf *conf,
					   const trib_source_host *host, bool only, volatile sig_atomic_t *stop,
					   uint64_t *stream_base, trib_my_tableinfo ***shapes,
					   char *errbuf, size_t errlen)
{
	phase		ph = {0};
	trib_position ck = {0};
	trib_snapprog prev;
	bool		resume = false;
	int			have,
				rc;

	*stream_base = 0;
	*shapes = NULL;
	if (!only && conf->snapshot == TRIB_MY_SNAPSHOT_NEVER)
		return 1;
	ph.f.h = host;
	ph.source_name = source_name;
	ph.conf = conf;
	ph.only = only || conf->snapshot == TRIB_MY_SNAPSHOT_ONLY;
	ph.started_ms = trib_clock_wall_ms();
	have = trib_snapfeed_load(host, &ck, &prev, errbuf, errlen);
	if (have < 0)
		return -1;
	rc = plan(&ph, have, &ck, &prev, &resume, stream_base);
	if (rc == 1)
	{
		host->set_state(host->arg, "snapshot");
		rc = prepare(&ph, errbuf, errlen) ? 1 : -1;
	}
	if (rc == 1)
	{
		if (resume)
			ph.f.base = prev.lsn;
		rc = trib_snapfeed_prepare(&ph.f, &my_engine, &ph, ph.only, resume ? &prev : NULL,
								   "snapshot's binlog position", errbuf, errlen) ? 1 : -1;
	}
	trib_snapprog_clear(&prev);
	if (rc == 1)
	{
		ph.last_log = trib_clock_mono_ms();
		tlog_info("snapshot", "source %s: %s the copy: %d table(s), %d worker(s)", source_name,
				  resume ? "resuming" : "starting", trib_my_snap_ntables(ph.snap),
				  conf->snapshot_workers);
		rc = trib_snapfeed_run(&ph.f, &my_engine, &ph, stop, errbuf, errlen);
		if (rc == 1)
		{
			tlog_info("snapshot", "source %s: copy complete, %" PRIu64 " rows in this run",
					  source_name, ph.f.rows);
			if (!ph.only)
			{
				*stream_base = ph.f.base;
				*shapes = shapes_at_start(&ph);
			}
		}
	}
	else if (rc == 0)
		rc = 1;
	phase_free(&ph);
	return rc;
}
