/*
 * snapshot_feed.h: what every source's snapshot phase does with the rows
 * its engine reads: give them ids, hand them to the pipeline's services
 * (source.h, trib_source_host), and keep the progress in the checkpoint
 * from acknowledgements only.  The PostgreSQL phase (source/pg/
 * snapshot_run.c) and the MySQL one (source/mysql/mysql_snapshot_run.c)
 * decide differently when and where to copy; this is the part they share,
 * down to the copy loop itself, which reaches each engine through a small
 * ops table (trib_snapfeed_engine): plan its tables, start, next chunk,
 * stop; the chunk type is one for all engines (trib_snapfeed_rows).
 *
 * Design.  Every event of a snapshot gets the id (base, n), n counting up
 * from first_seq.  Each chunk (rows of one table in key order) is
 * remembered in a FIFO with its last id and last key; when every sink has
 * acknowledged an id (host->durable), the chunks up to it are applied to
 * the progress (rows, `after` key, done), which is saved with the
 * acknowledged id at most every TRIB_SNAPFEED_PROGRESS_MS and when forced.
 * So saved progress never runs ahead of the sinks, and a crash repeats at
 * most the chunks written after the last save.  When a delivery fails
 * (a sink error, a transform that refused the event), nothing after it is
 * delivered and the acknowledged prefix stops before its id.  The
 * pipeline no longer counts a refused event as handled (so the sinks'
 * durable position stays before it); the cap here is a second line of
 * defence: the chunk holding it must never be counted whole (a restart
 * would skip it and the chunk's rest).  That chunk's earlier rows, which
 * did reach the sinks, are sent again by the restart, under new ids
 * (docs/SNAPSHOT.md, Positions).  Chunks are counted in id order, and a
 * table read in one pass (no key) only with its final chunk, so the saved
 * id names exactly the rows the progress counts: a resumed copy has the
 * sinks drop what they hold after it (trib_snapfeed_rewind; the file sink
 * can), so that those rows are not there twice.  The very last
 * event is held back until the next one arrives or the copy ends, so that
 * it can carry last_in_tx (the envelope's source.snapshot "last").
 *
 * A sink that stores its position atomically with its data (a
 * transactional Kafka sink) gets, before each flush, the progress that
 * counts what was delivered (host->mark, sink.h snapshot_mark), and keeps
 * it with the rows it commits; a restart after a kill between that commit
 * and the checkpoint's save resumes from it (host->load), so those rows
 * are not sent to it again.  For that the progress must count exactly
 * what the sink holds, so with such a sink the copy flushes only where the
 * delivered events end with a chunk: a flush due while the last event of
 * a chunk is held waits until the next chunk's first event pushed it out.
 *
 * Ownership: the feed owns its progress, the held event and the FIFO;
 * trib_snapfeed_clear() releases them.  One thread (the pipeline's).
 */
#ifndef TRIB_SNAPSHOT_FEED_H
#define TRIB_SNAPSHOT_FEED_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chunk_queue.h"
#include "chunk_wait.h"
#include "event.h"
#include "snapshot_progress.h"
#include "source.h"

#define TRIB_SNAPFEED_PROGRESS_MS 1000

/*
 * A chunk of rows of one table, in key order, as every engine reads it
 * (source/pg/snapshot.c, source/mysql/mysql_snapshot_read.c) and hands it
 * to the copy loop: one type, so that the loop takes it as it is, and
 * frees what is left of it with trib_snapfeed_rows_free().
 */
typedef struct trib_snapfeed_rows
{
	trib_chunkq_link link;		/* first: the engine's queue; link.bytes is
								 * counted against its buffer */
	int			table;			/* the engine's table index, which is the
								 * progress's (plan adds them in order) */
	trib_event **evs;			/* owned; taken entries set to NULL */
	size_t		nev;
	bool		final;			/* the table's last chunk */
	int			nkey;
	char	  **last_key;		/* the last row's key (texts), or NULL;
								 * taken by the copy loop */
} trib_snapfeed_rows;

/* Free a chunk: its events, key texts and arrays (NULL: nothing). */
void		trib_snapfeed_rows_free(trib_snapfeed_rows *c);

/* An engine's next(): trib_chunkwait_take() on its read queue of
 * trib_snapfeed_rows (chunk_wait.h). */
int			trib_snapfeed_take(const trib_chunkwait *w, int timeout_ms,
							   trib_snapfeed_rows **out, char *errbuf, size_t errlen);

typedef struct trib_snapfeed_sent trib_snapfeed_sent;

/*
 * What the acknowledgement order needs of a delivered chunk: the first
 * member of the feed's delivered chunks and of the MongoDB copy's, which
 * wait on a trib_chunkq until the sinks acknowledge them.
 */
typedef struct trib_snapfeed_mark
{
	trib_chunkq_link link;		/* first: the delivered list */
	size_t		group;			/* its table (a range for MongoDB): what a
								 * restart reads again as a unit */
	uint64_t	last_seq;		/* the id of its last event (or the one
								 * before, when it has none) */
	bool		final;			/* the group's last chunk */
	bool		resumable;		/* a restart resumes after it (read by
								 * key), not from the group's start */
} trib_snapfeed_mark;

typedef struct trib_snapfeed
{
	const trib_source_host *h;
	trib_snapprog prog;			/* the progress saved in the checkpoint */
	uint64_t	base;			/* the events' commit_lsn */
	uint64_t	first_seq;		/* the first id of this run */
	uint64_t	next_seq;
	uint64_t	done_seq;		/* the last id of the acknowledged prefix */
	uint64_t	failed_seq;		/* the id of the event whose delivery
								 * failed; 0 none */
	bool		quiet;			/* no log line per copied table (a
								 * progress display shows them) */
	const char *opaque;			/* trib_snapfeed_run: every event's opaque
								 * position, or NULL (theirs); not owned */
	/* internal */
	bool		marks;			/* a sink keeps the progress with its data
								 * (source.h mark): flush between chunks */
	bool		flush_due;		/* a flush waits for the next chunk */
	trib_event *held;
	trib_chunkq sent;			/* chunks delivered, not acknowledged
								 * (chunk_queue.h) */
	bool		dirty;
	int64_t		last_save,
				last_flush,
				last_leader;
	uint64_t	rows;			/* written in this run */
	const trib_relation **rels; /* per progress table: the engine's
								 * relation (borrowed), for table_copied */
} trib_snapfeed;

/*
 * The checkpoint (*ck, its opaque freed) and the snapshot progress in it
 * (*prev, cleared first): 0 none, 1 a checkpoint without progress, 2 with,
 * -1 error (errbuf names the pipeline).
 */
int			trib_snapfeed_load(const trib_source_host *h, trib_position *ck,
							   trib_snapprog *prev, char *errbuf, size_t errlen);

/*
 * next_seq: one past the highest id stored at base (1 when none).  False
 * with errbuf when a sink or the checkpoint holds a position after base:
 * the snapshot's rows would be taken as delivered; `what` names base in
 * the message ("the slot's start").
 */
bool		trib_snapfeed_first_id(trib_snapfeed *f, const char *what,
								   char *errbuf, size_t errlen);

/*
 * Add table schema.table (its relation `rel`, borrowed until the copy
 * ends) to the progress with what `prev` (NULL: a new copy) says of it: *skip when it was copied, else, when it stopped after
 * a key of the table's `norder` ordering columns, that key in *after (a
 * new array of *nafter new strings).  Returns its index in the progress.
 */
int			trib_snapfeed_plan_table(trib_snapfeed *f, trib_snapprog *prev,
									 const trib_relation *rel, const char *schema,
									 const char *table, double estimate, int norder,
									 bool *skip, int *nafter, char ***after);

/*
 * The last id of a snapshot at `base` that every sink acknowledged, into
 * *acked: the durable position's seq when it is at base, every id when it
 * is after base, and never failed_seq or later (0: no delivery failed).
 * False (*acked 0) when the sinks report no durable position.  Shared by
 * the feed and the MongoDB copy loop, which keeps its own chunks.
 */
bool		trib_snapfeed_acked(const trib_source_host *h, uint64_t base, uint64_t failed_seq,
								uint64_t *acked);

/*
 * Can delivered chunk c (on its delivered list, oldest first) be counted,
 * every sink having acknowledged the ids up to `acked`?  A chunk of a
 * group read in one pass (not resumable: a restart reads it again from its
 * start) counts only together with its group's final chunk: the ids the
 * progress counts then never include a row that a restart sends again,
 * which is what lets the sinks drop everything after them
 * (trib_snapfeed_rewind).  Until that group is done, no later chunk counts
 * either (they are counted in id order).
 */
bool		trib_snapfeed_countable(const trib_snapfeed_mark *c, uint64_t acked);

/*
 * A resumed snapshot at `base` whose checkpoint counts the ids up to `seq`
 * (has_seq: the checkpoint is at base): have the sinks drop what they hold
 * after it (host->rewind, sink.h rewind), since the copy sends those rows
 * again.  Call it after next_seq is set from what the sinks hold, so that
 * no id is reused.  True when there is nothing to do.  Shared with the
 * MongoDB copy loop.
 */
bool		trib_snapfeed_rewind(const trib_source_host *h, bool has_seq, uint64_t base,
								 uint64_t seq, char *errbuf, size_t errlen);

/* Start the run: first_seq and done_seq from next_seq, the clocks. */
void		trib_snapfeed_begin(trib_snapfeed *f);

/* Save the progress with the acknowledged prefix's id (when due, or
 * force). */
bool		trib_snapfeed_save(trib_snapfeed *f, bool force, char *errbuf, size_t errlen);

/*
 * Save a snapshot's progress document `json` (freed here) in the
 * checkpoint at (commit_lsn, lsn, seq): seq the last acknowledged id.
 * Shared with the MongoDB copy loop, whose progress has its own document.
 */
bool		trib_snapfeed_save_json(const trib_source_host *h, uint64_t commit_lsn, uint64_t lsn,
									uint64_t seq, char *json, char *errbuf, size_t errlen);

/*
 * Give a chunk of progress table `table` its ids (opaque: each event's
 * opaque position, copied; NULL leaves theirs) and write it; the events
 * are taken (evs[i] set to NULL), and so is last_key.
 */
bool		trib_snapfeed_chunk(trib_snapfeed *f, int table, trib_event **evs, size_t nev,
								bool final, int nkey, char **last_key, const char *opaque,
								char *errbuf, size_t errlen);

/* Between chunks: flush now and then (always when idle), take the
 * acknowledgements, save when due, check the pipeline lock. */
bool		trib_snapfeed_tick(trib_snapfeed *f, bool idle, char *errbuf, size_t errlen);

/* The copy ends (complete: the held event is the snapshot's last):
 * deliver it and wait for every acknowledgement. */
bool		trib_snapfeed_drain(trib_snapfeed *f, bool complete, char *errbuf, size_t errlen);

void		trib_snapfeed_clear(trib_snapfeed *f);

/*
 * What the copy loop needs of a source's engine (source/pg/snapshot.c,
 * source/mysql/mysql_snapshot.c); `eng` is the caller's state.
 */
typedef struct trib_snapfeed_engine
{
	/* Add every table to f's progress with trib_snapfeed_plan_table(),
	 * resuming from prev (NULL: a new copy). */
	void		(*plan) (void *eng, trib_snapfeed *f, trib_snapprog *prev);
	/* Start the workers. */
	bool		(*start) (void *eng, char *errbuf, size_t errlen);
	/* Wait up to timeout_ms: 1 with *chunk (the caller's), 0 nothing
	 * yet, 2 every chunk was taken, -1 error. */
	int			(*next) (void *eng, int timeout_ms, trib_snapfeed_rows **chunk,
						 char *errbuf, size_t errlen);
	/* Stop and join the workers, drop queued chunks. */
	void		(*stop) (void *eng);
	/* Between chunks, after the feed's housekeeping: progress output. */
	void		(*show) (void *eng);
} trib_snapfeed_engine;

/*
 * Set the progress for a copy at f->base (clearing it first): state
 * running, mode "only" or "initial", the engine's tables (plan), then the
 * first id (trib_snapfeed_first_id, `what` naming base); resuming (prev),
 * then the sinks rewound to the id prev's checkpoint counts up to.
 */
bool		trib_snapfeed_prepare(trib_snapfeed *f, const trib_snapfeed_engine *e, void *eng,
								  bool only, trib_snapprog *prev, const char *what,
								  char *errbuf, size_t errlen);

/*
 * Run the copy: begin, save the start, feed the engine's chunks until it
 * ends or *stop; then deliver and wait for every acknowledgement.  1 done
 * (the tables reported copied, the progress saved as done), 0 stopped (the
 * progress saved), -1 error.
 */
int			trib_snapfeed_run(trib_snapfeed *f, const trib_snapfeed_engine *e, void *eng,
							  volatile sig_atomic_t *stop, char *errbuf, size_t errlen);

#endif							/* TRIB_SNAPSHOT_FEED_H */
