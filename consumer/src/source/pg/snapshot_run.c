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
 * Progress.  The pipeline thread hands out chunks in queue order, assigns
 * ids, and remembers each chunk (table, last id, last key) in a FIFO.
 * When every sink has acknowledged an id, the chunks up to it are applied
 * to the progress (rows, last key, done), which is saved with the id at
 * most every PROGRESS_MS and at the end.  So saved progress never runs
 * ahead of the sinks, and a crash repeats at most the unsaved chunks.
 *
 * The last event of the whole snapshot is held back until the next one
 * arrives or the copy ends, so that it can carry last_in_tx (the envelope's
 * source.snapshot "last").
 */
#include "snapshot_run.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "clock.h"
#include "log.h"
#include "pg_source_conf.h"
#include "pgrecord.h"
#include "snapshot.h"
#include "snapshot_progress.h"
#include "strbuf.h"

#define NEXT_TIMEOUT_MS 100
#define FLUSH_MS 1000
#define FLUSH_TIMEOUT_MS 10000
#define DRAIN_TIMEOUT_MS 60000
#define PROGRESS_MS 1000
#define RENDER_MS 500
#define LOG_MS 10000

/* A chunk handed to the sinks, waiting for their acknowledgement. */
typedef struct sent_chunk
{
	int			prog;			/* index into the progress tables */
	uint64_t	last_seq;		/* id of its last event (or the one before) */
	uint64_t	rows;
	bool		final;
	int			nkey;
	char	  **key;			/* owned */
	struct sent_chunk *next;
} sent_chunk;

typedef struct phase
{
	const trib_source_host *h;
	trib_source_pg *src;
	const char *source_name;
	const trib_pg_source_conf *pg;
	bool		only;
	trib_snapshot *snap;
	trib_snapprog prog;
	int		   *prog_of;		/* engine table -> progress table */
	uint64_t	base_lsn;
	uint64_t	first_seq;		/* first id of this run */
	uint64_t	next_seq;
	uint64_t	done_seq;		/* last id of the acknowledged prefix */
	trib_event *held;
	sent_chunk *head,
			   *tail;
	bool		dirty;
	long long	last_save,
				last_flush,
				last_render,
				last_log,
				last_leader;
	int64_t		started_ms;
	uint64_t	rows;			/* written in this run */
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

/* The dsn's dbname, as source_pg.c puts it into stream events. */
static char *
dsn_dbname(const char *dsn)
{
	char	   *err = NULL;
	PQconninfoOption *o = PQconninfoParse(dsn, &err),
			   *i;
	char	   *db = NULL;

	PQfreemem(err);
	for (i = o; i && i->keyword; i++)
		if (strcmp(i->keyword, "dbname") == 0 && i->val)
			db = trib_xstrdup(i->val);
	PQconninfoFree(o);
	return db;
}

/* A NULL-terminated view of a string list (the strings are not copied). */
static const char **
list_view(const trib_strlist *l)
{
	const char **v = trib_xcalloc(l->count + 1, sizeof(char *));
	size_t		i;

	for (i = 0; i < l->count; i++)
		v[i] = l->items[i];
	return v;
}

/* Build the engine for this source. */
static trib_snapshot *
make_engine(phase *ph, const char *import, char *errbuf, size_t errlen)
{
	const trib_pg_source_conf *pg = ph->pg;
	trib_snapshot_conf c;
	const char **inc = list_view(&pg->include_tables);
	const char **exc = list_view(&pg->exclude_tables);
	const char **res = list_view(&pg->snapshot_tables);
	const char *enc = trib_kvlist_get(&pg->plugin_options, "bytea-encoding");
	char	   *db = dsn_dbname(pg->dsn);
	trib_snapshot *s;

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

/* Save the progress with the acknowledged prefix's id. */
static bool
save(phase *ph, bool force, char *errbuf, size_t errlen)
{
	trib_position pos;
	bool		ok;

	if (!force && (!ph->dirty || trib_clock_mono_ms() - ph->last_save < PROGRESS_MS))
		return true;
	memset(&pos, 0, sizeof(pos));
	pos.commit_lsn = ph->base_lsn;
	pos.seq = ph->done_seq;
	pos.opaque = trib_snapprog_to_json(&ph->prog);
	ok = ph->h->save(ph->h->arg, &pos, errbuf, errlen);
	free(pos.opaque);
	pos.opaque = NULL;
	if (ok)
	{
		ph->dirty = false;
		ph->last_save = trib_clock_mono_ms();
	}
	return ok;
}

/* Apply one acknowledged chunk to the progress. */
static void
apply_chunk(phase *ph, sent_chunk *c)
{
	trib_snapprog_table *t = &ph->prog.tables[c->prog];

	t->rows += c->rows;
	if (c->key)
		trib_snapprog_set_after(t, c->key, c->nkey);
	if (c->final)
	{
		t->done = true;
		trib_snapprog_set_after(t, NULL, 0);
		if (!ph->tty)
			tlog_info("snapshot", "%s.%s: copied, %" PRIu64 " rows", t->schema, t->table, t->rows);
	}
	if (c->last_seq >= ph->first_seq && c->last_seq > ph->done_seq)
		ph->done_seq = c->last_seq;
	ph->dirty = true;
}

/* Pop the chunks every sink has acknowledged. */
static void
take_acks(phase *ph)
{
	trib_position d;
	uint64_t	acked = 0;
	bool		have = ph->h->durable(ph->h->arg, &d);

	if (have && d.commit_lsn == ph->base_lsn)
		acked = d.seq;
	else if (have && d.commit_lsn > ph->base_lsn)
		acked = UINT64_MAX;
	while (ph->head &&
		   (ph->head->last_seq < ph->first_seq || ph->head->last_seq <= acked))
	{
		sent_chunk *c = ph->head;
		int			i;

		ph->head = c->next;
		if (ph->head == NULL)
			ph->tail = NULL;
		apply_chunk(ph, c);
		for (i = 0; c->key && i < c->nkey; i++)
			free(c->key[i]);
		free(c->key);
		free(c);
	}
}

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
			trib_snapprog_render(&ph->prog, stderr, true, wall, ph->started_ms, &ph->lines);
			ph->last_render = now;
		}
		return;
	}
	if (force || now - ph->last_log >= LOG_MS)
	{
		double		secs = (double) (wall - ph->started_ms) / 1000.0;

		tlog_info("snapshot", "%" PRIu64 " rows written in %.0f s (%.0f rows/s)",
				  ph->rows, secs, secs > 0 ? (double) ph->rows / secs : 0.0);
		ph->last_log = now;
	}
}

/* ---- the copy ----------------------------------------------------------- */

/* Hand the held event to the sinks and hold ev instead (NULL: none). */
static bool
hold(phase *ph, trib_event *ev, char *errbuf, size_t errlen)
{
	bool		ok = true;

	if (ph->held)
		ok = ph->h->deliver(ph->h->arg, ph->held, errbuf, errlen);
	trib_snap_event_free(ph->held);
	ph->held = ev;
	return ok;
}

/* Give a chunk's events their ids and write them; remember the chunk. */
static bool
handle_chunk(phase *ph, trib_snap_chunk *c, char *errbuf, size_t errlen)
{
	sent_chunk *s = trib_xcalloc(1, sizeof(*s));
	trib_snapprog_table *t = &ph->prog.tables[ph->prog_of[c->table]];
	size_t		i;
	bool		ok = true;

	if (!t->started_ms)
		t->started_ms = trib_clock_wall_ms();
	for (i = 0; i < c->nev && ok; i++)
	{
		trib_event *ev = c->evs[i];

		c->evs[i] = NULL;
		ev->pos.commit_lsn = ph->base_lsn;
		ev->pos.seq = ph->next_seq++;
		ok = hold(ph, ev, errbuf, errlen);
	}
	t->written += c->nev;
	ph->rows += c->nev;
	ph->h->batch_end(ph->h->arg);	/* a chunk is a batch for the rules */
	if (c->final)
		t->finished_ms = trib_clock_wall_ms();
	s->prog = ph->prog_of[c->table];
	s->last_seq = ph->next_seq - 1;
	s->rows = c->nev;
	s->final = c->final;
	s->nkey = c->nkey;
	s->key = c->last_key;
	c->last_key = NULL;
	if (ph->tail)
		ph->tail->next = s;
	else
		ph->head = s;
	ph->tail = s;
	trib_snap_chunk_free(c);
	return ok;
}

/* Flush, serve callbacks and take acknowledgements for up to timeout_ms. */
static bool
settle(phase *ph, int timeout_ms, char *errbuf, size_t errlen)
{
	long long	until = trib_clock_mono_ms() + timeout_ms;

	if (!ph->h->flush(ph->h->arg, FLUSH_TIMEOUT_MS, errbuf, errlen))
		return false;
	for (;;)
	{
		take_acks(ph);
		if (ph->head == NULL || trib_clock_mono_ms() >= until)
			break;
		if (!ph->h->poll(ph->h->arg, 50, errbuf, errlen) ||
			!ph->h->flush(ph->h->arg, FLUSH_TIMEOUT_MS, errbuf, errlen))
			return false;
	}
	if (ph->head)
	{
		snprintf(errbuf, errlen, "snapshot: the sinks did not acknowledge the last rows within %d ms",
				 timeout_ms);
		return false;
	}
	return true;
}

/* One turn of the loop's housekeeping. */
static bool
housekeeping(phase *ph, bool idle, char *errbuf, size_t errlen)
{
	if (idle || trib_clock_mono_ms() - ph->last_flush >= FLUSH_MS)
	{
		if (!ph->h->flush(ph->h->arg, FLUSH_TIMEOUT_MS, errbuf, errlen))
			return false;
		ph->last_flush = trib_clock_mono_ms();
	}
	else if (!ph->h->poll(ph->h->arg, 0, errbuf, errlen))
		return false;
	take_acks(ph);
	if (!save(ph, false, errbuf, errlen))
		return false;
	show(ph, false);
	if (trib_clock_mono_ms() - ph->last_leader > 2000)
	{
		ph->last_leader = trib_clock_mono_ms();
		if (!ph->h->leader_ok(ph->h->arg, errbuf, errlen))
			return false;
	}
	return true;
}

/* Every row is delivered and acknowledged: tell the pipeline which tables
 * were copied (done before this run too), so that the sinks may create
 * the targets of those no row reached. */
static bool
tables_copied(phase *ph, char *errbuf, size_t errlen)
{
	int			i,
				n = trib_snapshot_ntables(ph->snap);

	for (i = 0; i < n; i++)
		if (!ph->h->table_copied(ph->h->arg, &trib_snapshot_table(ph->snap, i)->rel,
								 errbuf, errlen))
			return false;
	return true;
}

/* Run the engine to the end: 1 done, 0 stopped, -1 error. */
static int
copy(phase *ph, volatile sig_atomic_t *stop, char *errbuf, size_t errlen)
{
	int			rc;

	if (!trib_snapshot_start(ph->snap, errbuf, errlen))
		return -1;
	for (;;)
	{
		trib_snap_chunk *c = NULL;

		if (*stop)
			break;
		rc = trib_snapshot_next(ph->snap, NEXT_TIMEOUT_MS, &c, errbuf, errlen);
		if (rc < 0 || (rc == 1 && !handle_chunk(ph, c, errbuf, errlen)))
			return -1;
		if (rc == 2)
			break;
		if (!housekeeping(ph, rc == 0, errbuf, errlen))
			return -1;
	}
	trib_snapshot_stop(ph->snap);
	if (*stop)
	{
		tlog_info("snapshot", "stopping: saving the progress");
		if (!hold(ph, NULL, errbuf, errlen) || !settle(ph, DRAIN_TIMEOUT_MS, errbuf, errlen) ||
			!save(ph, true, errbuf, errlen))
			return -1;
		return 0;
	}
	if (ph->held)
		ph->held->last_in_tx = true;
	if (!hold(ph, NULL, errbuf, errlen) || !settle(ph, DRAIN_TIMEOUT_MS, errbuf, errlen) ||
		!tables_copied(ph, errbuf, errlen))
		return -1;
	snprintf(ph->prog.state, sizeof(ph->prog.state), "done");
	if (!save(ph, true, errbuf, errlen))
		return -1;
	return 1;
}

/* ---- deciding ----------------------------------------------------------- */

/* Load the checkpoint and the snapshot progress in it (prev). */
static int
load_previous(phase *ph, trib_position *ck, trib_snapprog *prev,
			  char *errbuf, size_t errlen)
{
	int			r = ph->h->load(ph->h->arg, ck, errbuf, errlen);
	int			pr;

	memset(prev, 0, sizeof(*prev));
	if (r <= 0)
		return r;
	pr = trib_snapprog_from_json(ck->opaque, prev, errbuf, errlen);
	free(ck->opaque);
	ck->opaque = NULL;
	if (pr < 0)
	{
		size_t		n = strlen(errbuf);

		snprintf(errbuf + n, errlen - n, " (in the checkpoint of pipeline %s)",
				 ph->h->pipeline);
		return -1;
	}
	return pr == 1 ? 2 : 1;
}

/*
 * The progress of this run: every table the engine lists, with what prev
 * (when resuming) says about it; the engine skips done tables and starts
 * the others after their last acknowledged key.
 */
static void
plan_tables(phase *ph, trib_snapprog *prev, bool resume)
{
	int			n = trib_snapshot_ntables(ph->snap),
				i;

	ph->prog_of = trib_xcalloc((size_t) n + 1, sizeof(int));
	for (i = 0; i < n; i++)
	{
		trib_snap_table *t = trib_snapshot_table(ph->snap, i);
		trib_snapprog_table *old = resume ? trib_snapprog_find(prev, t->schema, t->table) : NULL;
		trib_snapprog_table *e = trib_snapprog_add(&ph->prog, t->schema, t->table);

		ph->prog_of[i] = (int) ph->prog.ntables - 1;
		e->estimate = t->estimate;
		if (old && old->done)
		{
			e->done = true;
			e->rows = old->rows;
			t->skip = true;
		}
		else if (old && old->after && old->nafter == t->norder && t->norder > 0)
		{
			e->rows = old->rows;
			trib_snapprog_set_after(e, old->after, old->nafter);
			t->nafter = old->nafter;
			t->after = trib_xcalloc((size_t) old->nafter, sizeof(char *));
			for (int k = 0; k < old->nafter; k++)
				t->after[k] = trib_xstrdup(old->after[k]);
		}
	}
}

/* The first id of this run: past everything stored at base_lsn. */
static bool
first_id(phase *ph, bool initial, char *errbuf, size_t errlen)
{
	trib_position top;
	char		a[TRIB_LSN_BUFLEN],
				b[TRIB_LSN_BUFLEN];

	ph->next_seq = 1;
	if (!ph->h->stored_max(ph->h->arg, &top))
		return true;
	if (top.commit_lsn > ph->base_lsn)
	{
		trib_lsn_format(top.commit_lsn, a, sizeof(a));
		trib_lsn_format(ph->base_lsn + 1, b, sizeof(b));
		snprintf(errbuf, errlen,
				 "snapshot: a sink or the checkpoint already holds position %s, after the %s %s; "
				 "the snapshot's rows would be taken as delivered. Reset the sinks' positions "
				 "and the checkpoint, or use snapshot: never", a,
				 initial ? "slot's start" : "current WAL position", b);
		return false;
	}
	if (top.commit_lsn == ph->base_lsn)
	{
		if (top.seq >= TRIB_SEQ_ALL - 1)
			return snprintf(errbuf, errlen, "snapshot: no event ids left at this position"), false;
		ph->next_seq = top.seq + 1;
	}
	return true;
}

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

		snprintf(ph->prog.state, sizeof(ph->prog.state), "pending");
		snprintf(ph->prog.mode, sizeof(ph->prog.mode), "initial");
		ph->base_lsn = ph->h->stored_max(ph->h->arg, &top) ? top.commit_lsn : 0;
		ph->done_seq = ph->base_lsn ? top.seq : 0;
		if (!save(ph, true, errbuf, errlen))
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
	ph->base_lsn = *resume && !import ? prev->lsn : slot_lsn - 1;
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
		ph->base_lsn = prev->lsn;
	else
	{
		ph->base_lsn = wal > 0 ? wal - 1 : 0;
		if (ph->h->stored_max(ph->h->arg, &top) && top.commit_lsn > ph->base_lsn)
			ph->base_lsn = top.commit_lsn;
	}
	tlog_info("snapshot", "%s the copy", *resume ? "resuming" : "starting");
	return 1;
}

/* Release everything the phase holds. */
static void
phase_free(phase *ph)
{
	while (ph->head)
	{
		sent_chunk *c = ph->head;

		ph->head = c->next;
		for (int i = 0; c->key && i < c->nkey; i++)
			free(c->key[i]);
		free(c->key);
		free(c);
	}
	trib_snap_event_free(ph->held);
	trib_snapshot_free(ph->snap);
	trib_snapprog_clear(&ph->prog);
	free(ph->prog_of);
}

/* See snapshot_run.h. */
int
trib_pg_snapshot_phase(trib_source_pg *src, const char *source_name,
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
	ph.src = src;
	ph.source_name = source_name;
	ph.pg = pg;
	ph.only = only || ph.pg->snapshot == TRIB_SNAPSHOT_ONLY;
	ph.started_ms = trib_clock_wall_ms();
	ph.tty = only && isatty(STDERR_FILENO);
	have = load_previous(&ph, &ck, &prev, errbuf, errlen);
	if (have < 0)
		return -1;
	host->set_state(host->arg, "snapshot");
	rc = ph.only ? plan_only(&ph, have, &prev, &resume, errbuf, errlen)
		: plan_initial(&ph, have, &ck, &prev, &resume, errbuf, errlen);
	if (rc == 1)
	{
		trib_snapprog_clear(&ph.prog);
		snprintf(ph.prog.state, sizeof(ph.prog.state), "running");
		snprintf(ph.prog.mode, sizeof(ph.prog.mode), "%s", ph.only ? "only" : "initial");
		ph.prog.lsn = ph.base_lsn;
		plan_tables(&ph, &prev, resume);
		rc = first_id(&ph, !ph.only, errbuf, errlen) ? 1 : -1;
	}
	trib_snapprog_clear(&prev);
	if (rc == 1)
	{
		ph.first_seq = ph.next_seq;
		ph.done_seq = ph.next_seq - 1;
		ph.last_flush = ph.last_save = ph.last_log = ph.last_leader = trib_clock_mono_ms();
		tlog_info("snapshot", "%d table(s) to copy, %d worker(s)",
				  trib_snapshot_ntables(ph.snap), ph.pg->snapshot_workers);
		if (save(&ph, true, errbuf, errlen))
			rc = copy(&ph, stop, errbuf, errlen);
		else
			rc = -1;
		show(&ph, true);
		if (rc == 1)
			tlog_info("snapshot", "copy complete: %" PRIu64 " rows in this run", ph.rows);
	}
	else if (rc == 0)
		rc = 1;
	phase_free(&ph);
	return rc;
}
