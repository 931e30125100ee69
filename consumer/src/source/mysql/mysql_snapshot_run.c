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
 * in its newer state before those changes are replayed.
 *
 * Progress.  As the PostgreSQL phase: chunks are remembered in a FIFO with
 * their last id and key; when every sink has acknowledged an id, the
 * chunks up to it are applied to the progress, saved at most every
 * PROGRESS_MS and at the end, so saved progress never runs ahead of the
 * sinks.  The very last event is held back until the copy ends, so that it
 * carries last_in_tx (source.snapshot "last").
 */
#include "mysql_snapshot_run.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "lsn.h"
#include "mysql_int.h"
#include "mysql_position.h"
#include "mysql_snapshot.h"
#include "snapshot_progress.h"
#include "xalloc.h"

#define NEXT_TIMEOUT_MS 100
#define FLUSH_MS 1000
#define FLUSH_TIMEOUT_MS 10000
#define DRAIN_TIMEOUT_MS 60000
#define PROGRESS_MS 1000
#define LOG_MS 10000
#define LEADER_MS 2000

/* A chunk handed to the sinks, waiting for their acknowledgement. */
typedef struct sent_chunk
{
	int			table;
	uint64_t	last_seq;
	uint64_t	rows;
	bool		final;
	int			nkey;
	char	  **key;
	struct sent_chunk *next;
} sent_chunk;

typedef struct phase
{
	const trib_source_host *h;
	const char *source_name;
	const trib_mysql_source_conf *conf;
	bool		only;
	trib_my_snap *snap;
	trib_snapprog prog;			/* tables in the engine's order */
	uint64_t	base;
	uint64_t	first_seq;
	uint64_t	next_seq;
	uint64_t	done_seq;
	char	   *opaque;			/* every event's opaque position */
	trib_event *held;
	sent_chunk *head,
			   *tail;
	bool		dirty;
	int64_t		last_save,
				last_flush,
				last_log,
				last_leader,
				started_ms;
	uint64_t	rows;
} phase;

static void
free_keys(char **k, int n)
{
	for (int i = 0; k && i < n; i++)
		free(k[i]);
	free(k);
}

/* ---- progress ----------------------------------------------------------- */

static bool
save(phase *ph, bool force, char *errbuf, size_t errlen)
{
	trib_position pos = {0};
	bool		ok;

	if (!force && (!ph->dirty || trib_clock_mono_ms() - ph->last_save < PROGRESS_MS))
		return true;
	pos.commit_lsn = ph->base;
	pos.seq = ph->done_seq;
	pos.opaque = trib_snapprog_to_json(&ph->prog);
	ok = ph->h->save(ph->h->arg, &pos, errbuf, errlen);
	free(pos.opaque);
	if (ok)
	{
		ph->dirty = false;
		ph->last_save = trib_clock_mono_ms();
	}
	return ok;
}

/* Pop and apply the chunks every sink has acknowledged. */
static void
take_acks(phase *ph)
{
	trib_position d;
	uint64_t	acked = 0;
	bool		have = ph->h->durable(ph->h->arg, &d);

	if (have && d.commit_lsn == ph->base)
		acked = d.seq;
	else if (have && d.commit_lsn > ph->base)
		acked = UINT64_MAX;
	while (ph->head && (ph->head->last_seq < ph->first_seq || ph->head->last_seq <= acked))
	{
		sent_chunk *c = ph->head;
		trib_snapprog_table *t = &ph->prog.tables[c->table];

		ph->head = c->next;
		if (ph->head == NULL)
			ph->tail = NULL;
		t->rows += c->rows;
		if (c->key)
			trib_snapprog_set_after(t, c->key, c->nkey);
		if (c->final)
		{
			t->done = true;
			trib_snapprog_set_after(t, NULL, 0);
			tlog_info("snapshot", "%s.%s: copied, %" PRIu64 " rows", t->schema, t->table,
					  t->rows);
		}
		if (c->last_seq >= ph->first_seq && c->last_seq > ph->done_seq)
			ph->done_seq = c->last_seq;
		ph->dirty = true;
		free_keys(c->key, c->nkey);
		free(c);
	}
}

/* ---- the copy ----------------------------------------------------------- */

/* Deliver the held event and hold ev instead (NULL: none). */
static bool
hold(phase *ph, trib_event *ev, char *errbuf, size_t errlen)
{
	bool		ok = true;

	if (ph->held)
		ok = ph->h->deliver(ph->h->arg, ph->held, errbuf, errlen);
	trib_event_free(ph->held);
	ph->held = ev;
	return ok;
}

/* Give a chunk's events their ids, write them, remember the chunk. */
static bool
handle_chunk(phase *ph, trib_my_snap_chunk *c, char *errbuf, size_t errlen)
{
	sent_chunk *s = trib_xcalloc(1, sizeof(*s));
	bool		ok = true;

	for (size_t i = 0; i < c->nev && ok; i++)
	{
		trib_event *ev = c->evs[i];

		c->evs[i] = NULL;
		ev->pos.commit_lsn = ph->base;
		ev->pos.lsn = ph->base;
		ev->pos.seq = ph->next_seq++;
		ev->pos.opaque = trib_xstrdup(ph->opaque);
		ok = hold(ph, ev, errbuf, errlen);
	}
	ph->rows += c->nev;
	ph->h->batch_end(ph->h->arg);
	s->table = c->table;
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
	trib_my_snap_chunk_free(c);
	return ok;
}

/* Flush and take acknowledgements until all are in or timeout_ms. */
static bool
settle(phase *ph, int timeout_ms, char *errbuf, size_t errlen)
{
	int64_t		until = trib_clock_mono_ms() + timeout_ms;

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
		return snprintf(errbuf, errlen, "snapshot: the sinks did not acknowledge the last "
						"rows within %d ms", timeout_ms), false;
	return true;
}

/* Flush now and then, take acknowledgements, save, log, check the lock. */
static bool
housekeeping(phase *ph, bool idle, char *errbuf, size_t errlen)
{
	int64_t		now = trib_clock_mono_ms();

	if (idle || now - ph->last_flush >= FLUSH_MS)
	{
		if (!ph->h->flush(ph->h->arg, FLUSH_TIMEOUT_MS, errbuf, errlen))
			return false;
		ph->last_flush = now;
	}
	else if (!ph->h->poll(ph->h->arg, 0, errbuf, errlen))
		return false;
	take_acks(ph);
	if (!save(ph, false, errbuf, errlen))
		return false;
	if (now - ph->last_log >= LOG_MS)
	{
		tlog_info("snapshot", "%" PRIu64 " rows written", ph->rows);
		ph->last_log = now;
	}
	if (now - ph->last_leader >= LEADER_MS)
	{
		ph->last_leader = now;
		if (!ph->h->leader_ok(ph->h->arg, errbuf, errlen))
			return false;
	}
	return true;
}

/* Every row is acknowledged: tell the pipeline which tables were copied. */
static bool
tables_copied(phase *ph, char *errbuf, size_t errlen)
{
	for (int i = 0; i < trib_my_snap_ntables(ph->snap); i++)
		if (!ph->h->table_copied(ph->h->arg, &trib_my_snap_table_at(ph->snap, i)->rel,
								 errbuf, errlen))
			return false;
	return true;
}

/* Run the engine to the end: 1 done, 0 stopped, -1 error. */
static int
copy(phase *ph, volatile sig_atomic_t *stop, char *errbuf, size_t errlen)
{
	int			rc;

	if (!trib_my_snap_start(ph->snap, errbuf, errlen))
		return -1;
	while (!*stop)
	{
		trib_my_snap_chunk *c = NULL;

		rc = trib_my_snap_next(ph->snap, NEXT_TIMEOUT_MS, &c, errbuf, errlen);
		if (rc < 0 || (rc == 1 && !handle_chunk(ph, c, errbuf, errlen)))
			return -1;
		if (rc == 2)
			break;
		if (!housekeeping(ph, rc == 0, errbuf, errlen))
			return -1;
	}
	trib_my_snap_stop(ph->snap);
	if (*stop)
	{
		tlog_info("snapshot", "stopping: saving the progress");
		return hold(ph, NULL, errbuf, errlen) && settle(ph, DRAIN_TIMEOUT_MS, errbuf, errlen) &&
			save(ph, true, errbuf, errlen) ? 0 : -1;
	}
	if (ph->held)
		ph->held->last_in_tx = true;
	if (!hold(ph, NULL, errbuf, errlen) || !settle(ph, DRAIN_TIMEOUT_MS, errbuf, errlen) ||
		!tables_copied(ph, errbuf, errlen))
		return -1;
	snprintf(ph->prog.state, sizeof(ph->prog.state), "done");
	return save(ph, true, errbuf, errlen) ? 1 : -1;
}

/* ---- deciding ----------------------------------------------------------- */

/* The checkpoint (*ck) and the progress in it (*prev): 0 none, 1 a
 * checkpoint without progress, 2 with, -1 error. */
static int
load_previous(phase *ph, trib_position *ck, trib_snapprog *prev, char *errbuf, size_t errlen)
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

		snprintf(errbuf + n, errlen - n, " (in the checkpoint of pipeline %s)", ph->h->pipeline);
		return -1;
	}
	return pr == 1 ? 2 : 1;
}

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
	const char **tables = trib_xcalloc(ph->conf->snapshot_tables.count + 1, sizeof(char *));
	trib_my_pos p = {0};
	uint64_t	major = 0;
	bool		ok;

	for (size_t i = 0; i < ph->conf->snapshot_tables.count; i++)
		tables[i] = ph->conf->snapshot_tables.items[i];
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
	ph->base = major - 1;
	ph->opaque = snapshot_opaque(ph->snap);
	tlog_info("snapshot", "source %s: consistent snapshot at binlog %s:%" PRIu64 " (GTID %s), "
			  "%s", ph->source_name, p.file, p.tx_pos,
			  trib_my_snap_gtid(ph->snap)[0] ? trib_my_snap_gtid(ph->snap) : "unknown",
			  trib_my_snap_locked(ph->snap) ? "taken under a brief FLUSH TABLES WITH READ LOCK"
			  : "taken without a lock");
	return true;
}

/* The progress of this run: the engine's tables with what prev says. */
static void
plan_tables(phase *ph, trib_snapprog *prev, bool resume)
{
	for (int i = 0; i < trib_my_snap_ntables(ph->snap); i++)
	{
		trib_my_snap_table *t = trib_my_snap_table_at(ph->snap, i);
		trib_snapprog_table *old = resume ? trib_snapprog_find(prev, t->db, t->table) : NULL;
		trib_snapprog_table *e = trib_snapprog_add(&ph->prog, t->db, t->table);

		e->estimate = t->estimate;
		if (old && old->done)
		{
			e->done = true;
			e->rows = old->rows;
			t->skip = true;
		}
		else if (old && old->after && old->nafter == t->npk && t->npk > 0)
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

/* The first id of this run: past everything stored at base. */
static bool
first_id(phase *ph, char *errbuf, size_t errlen)
{
	trib_position top;
	char		a[TRIB_LSN_BUFLEN],
				b[TRIB_LSN_BUFLEN];

	ph->next_seq = 1;
	if (!ph->h->stored_max(ph->h->arg, &top))
		return true;
	if (top.commit_lsn > ph->base)
	{
		trib_lsn_format(top.commit_lsn, a, sizeof(a));
		trib_lsn_format(ph->base + 1, b, sizeof(b));
		return snprintf(errbuf, errlen, "snapshot: a sink or the checkpoint already holds "
						"position %s, after the snapshot's binlog position %s; the snapshot's "
						"rows would be taken as delivered. Reset the sinks' positions and the "
						"checkpoint, or use snapshot: never", a, b), false;
	}
	if (top.commit_lsn == ph->base)
		ph->next_seq = top.seq + 1;
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

static void
phase_free(phase *ph)
{
	while (ph->head)
	{
		sent_chunk *c = ph->head;

		ph->head = c->next;
		free_keys(c->key, c->nkey);
		free(c);
	}
	trib_event_free(ph->held);
	trib_my_snap_free(ph->snap);
	trib_snapprog_clear(&ph->prog);
	free(ph->opaque);
}

/* See mysql_snapshot_run.h. */
int
trib_my_snapshot_phase(const char *source_name, const trib_mysql_source_conf *conf,
					   const trib_source_host *host, bool only, volatile sig_atomic_t *stop,
					   uint64_t *stream_base, char *errbuf, size_t errlen)
{
	phase		ph = {0};
	trib_position ck = {0};
	trib_snapprog prev;
	bool		resume = false;
	int			have,
				rc;

	*stream_base = 0;
	if (!only && conf->snapshot == TRIB_MY_SNAPSHOT_NEVER)
		return 1;
	ph.h = host;
	ph.source_name = source_name;
	ph.conf = conf;
	ph.only = only || conf->snapshot == TRIB_MY_SNAPSHOT_ONLY;
	ph.started_ms = trib_clock_wall_ms();
	have = load_previous(&ph, &ck, &prev, errbuf, errlen);
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
			ph.base = prev.lsn;
		snprintf(ph.prog.state, sizeof(ph.prog.state), "running");
		snprintf(ph.prog.mode, sizeof(ph.prog.mode), "%s", ph.only ? "only" : "initial");
		ph.prog.lsn = ph.base;
		plan_tables(&ph, &prev, resume);
		rc = first_id(&ph, errbuf, errlen) ? 1 : -1;
	}
	trib_snapprog_clear(&prev);
	if (rc == 1)
	{
		ph.first_seq = ph.next_seq;
		ph.done_seq = ph.next_seq - 1;
		ph.last_flush = ph.last_save = ph.last_log = ph.last_leader = trib_clock_mono_ms();
		tlog_info("snapshot", "source %s: %s the copy: %d table(s), %d worker(s)", source_name,
				  resume ? "resuming" : "starting", trib_my_snap_ntables(ph.snap),
				  conf->snapshot_workers);
		rc = save(&ph, true, errbuf, errlen) ? copy(&ph, stop, errbuf, errlen) : -1;
		if (rc == 1)
		{
			tlog_info("snapshot", "source %s: copy complete, %" PRIu64 " rows in this run",
					  source_name, ph.rows);
			if (!ph.only)
				*stream_base = ph.base;
		}
	}
	else if (rc == 0)
		rc = 1;
	phase_free(&ph);
	return rc;
}
