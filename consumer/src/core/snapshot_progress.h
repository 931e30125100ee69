/*
 * snapshot_progress.h: what a snapshot has made durable so far, kept in the
 * checkpoint store so that a restarted snapshot continues where it was.
 *
 * Design.  The progress is the opaque "position" of the source's
 * checkpoint (checkpoint.h), a JSON object:
 *
 *   {"snapshot":{"state":"running","mode":"initial","lsn":"0/1A2B3C4",
 *                "tables":[{"schema":"public","table":"orders","done":false,
 *                           "rows":120000,"after":["120000"]}, ...]}}
 *
 * state    pending (decided, nothing read yet), running, done
 * mode     initial (then stream) or only (copy, then stop)
 * lsn      the commit_lsn of every snapshot event's position (see
 *          docs/SNAPSHOT.md, Positions); a resumed snapshot keeps it
 * tables   per table: done, rows acknowledged by every sink, and `after`,
 *          the key (text of each ordering key column) of the last row
 *          acknowledged; absent before the first chunk
 *
 * It is written only from acknowledged chunks, so it never runs ahead of
 * the sinks.  The tables' in-memory counters (written, estimate, times) are
 * for the progress display and are not saved.
 *
 * Also here: the progress display of `tributary snapshot` (rows/s and ETA
 * per table, redrawn in place on a terminal) and its log-line form.
 *
 * Ownership: a trib_snapprog owns its tables and strings;
 * trib_snapprog_clear() releases them.
 */
#ifndef TRIB_SNAPSHOT_PROGRESS_H
#define TRIB_SNAPSHOT_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct trib_snapprog_table
{
	char	   *schema;
	char	   *table;
	bool		done;
	uint64_t	rows;			/* acknowledged */
	int			nafter;
	char	  **after;			/* last acknowledged key, or NULL */
	/* not saved: */
	uint64_t	written;		/* handed to the sinks in this run */
	double		estimate;		/* rows, from pg_class.reltuples; <0 unknown */
	int64_t		started_ms;		/* first chunk in this run; 0 before */
	int64_t		finished_ms;
	bool		reported;		/* its completion was shown */
} trib_snapprog_table;

typedef struct trib_snapprog
{
	char		state[16];		/* pending, running, done */
	char		mode[16];		/* initial, only */
	uint64_t	lsn;
	/* not saved in the object: the checkpoint's seq, the last id of the
	 * rows it counts, when the checkpoint is at lsn (trib_snapfeed_load) */
	bool		has_seq;
	uint64_t	seq;
	size_t		ntables;
	trib_snapprog_table *tables;
} trib_snapprog;

/* The progress as the checkpoint's position object; caller frees. */
char	   *trib_snapprog_to_json(const trib_snapprog *p);

/*
 * Parse a checkpoint position.  1: *out filled (clear it later); 0: the
 * text has no "snapshot" member (or is NULL); -1: malformed, errbuf says
 * why.
 */
int			trib_snapprog_from_json(const char *json, trib_snapprog *out,
									char *errbuf, size_t errlen);

/* The entry of schema.table, or NULL. */
trib_snapprog_table *trib_snapprog_find(trib_snapprog *p, const char *schema,
										const char *table);

/* Append an entry (strings copied); returns it. */
trib_snapprog_table *trib_snapprog_add(trib_snapprog *p, const char *schema,
									   const char *table);

/* Replace a table's `after` key with a copy of keys[0..n). */
void		trib_snapprog_set_after(trib_snapprog_table *t, char *const *keys, int n);

void		trib_snapprog_clear(trib_snapprog *p);

/*
 * Show progress on f.  tty: redraw a block in place (one line per table
 * being copied, a total line; finished tables scroll above it).  Not a
 * tty: one line per finished table and, every call, nothing else.
 * `lines` keeps the height of the last block between calls.
 */
void		trib_snapprog_render(trib_snapprog *p, FILE *f, bool tty, int64_t now_ms,
								 int64_t started_ms, int *lines);

/* "1.2M rows/s"-style helpers used by the display, exposed for tests. */
void		trib_snapprog_eta(const trib_snapprog_table *t, int64_t now_ms,
							  double *rate, double *eta_s);

#endif							/* TRIB_SNAPSHOT_PROGRESS_H */
