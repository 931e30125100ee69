/*
 * merge.h: several sources merged into the one stream the sinks see.
 *
 * Design.  The sinks and their stored positions assume one ordered stream
 * (sink.h: each skips what is at or before its durable position, and
 * stores one position).  Positions of two sources (a PostgreSQL LSN, a
 * binlog offset) do not order against each other, so a pipeline with
 * several sources hands the sinks a *merged position* instead, and keeps
 * each source's own position beside it:
 *
 *   commit_lsn  the group number M: one per transaction taken from any
 *               source (also a source's events outside a transaction, up
 *               to its next END), increasing across the pipeline's life
 *               (a restart continues above what any sink stored)
 *   seq         the event's number within its group, from 0;
 *               TRIB_SEQ_ALL for a group's END
 *   end_lsn     M
 *   opaque      {"sources":{"NAME":"KEY:SEQ",...}}: for every source, the
 *               stored form (source.h store_form) of the last position it
 *               handed out up to and including this event.  Sinks write
 *               events in order, so when a sink has made this event
 *               durable, it has every source's events up to these
 *               positions: after a restart each source resumes from them
 *               and the sink skips what they cover.  A source that
 *               resumes by its opaque position (source.h resume_opaque:
 *               MongoDB's resume token) has that position's opaque text
 *               beside it, "opaque":{"NAME":{...}}, and is given it back
 *               at start.
 *
 * A group is taken whole from one source before any other is polled, so
 * merged positions increase in the order the sinks receive the events;
 * only a source silent inside its transaction gives up the floor
 * (trib_merge_suspend), and the rest of its transaction becomes a later
 * group.
 * What the records show (the envelope's source block, Kafka's id header)
 * stays the source's own position (event.h `origin`).
 *
 * Single-source pipelines never use this: their sinks see the source's
 * positions, as before.
 */
#ifndef TRIB_MERGE_H
#define TRIB_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"

typedef struct trib_merge trib_merge;

/* The position operations of merged positions (compare, format_id,
 * parse_id, store_form, gauge; the rest NULL). */
extern const trib_source_ops trib_merge_pos_ops;

/* A merge of n sources, named and ordered by their operations (both
 * borrowed: they outlive the merge).  Never NULL. */
trib_merge *trib_merge_new(size_t n, const char *const *names,
						   const trib_source_ops *const *ops);
void		trib_merge_free(trib_merge *m);

/* The next group gets number `next` (above every merged position any sink
 * stored). */
void		trib_merge_set_next(trib_merge *m, uint64_t next);

/* Source c's position before streaming (its resume point), so merged
 * positions name it until it hands out something newer. */
void		trib_merge_seed(trib_merge *m, size_t c, const trib_position *pos);

/* The source whose group is open (it must be polled until its END), or
 * -1. */
int			trib_merge_open_source(const trib_merge *m);

/* Source c began a transaction: a new group. */
void		trib_merge_begin(trib_merge *m, size_t c);

/*
 * The open group's source fell silent inside its transaction (its server
 * stalled or went away): the group closes without an END, so the other
 * sources are polled again.  The source's next event or END opens a new
 * group (and a BEGIN it repeats after a reconnection does), so the rest of
 * the transaction follows, later, under a higher group number: merged
 * positions keep increasing in the order the sinks receive the events,
 * and each event's opaque still names every source's position, so a
 * restart resumes each source where it was.  No effect without an open
 * group.
 */
void		trib_merge_suspend(trib_merge *m);

/* Source c handed out an event at `pos`: its merged position in *out
 * (out->opaque is a new string; the caller frees it). */
void		trib_merge_event(trib_merge *m, size_t c, const trib_position *pos,
							 trib_position *out);

/*
 * The merged opaque text for the sources' positions handed out so far,
 * for a sink that already had some sources further: where has_floor[c],
 * source c's entry is floor[c] until the source passes it (after a
 * restart, a sink may have more of a source than the oldest any sink
 * has, where the source resumes).  NULL has_floor: the plain text.
 * Returns a new string.
 */
char	   *trib_merge_vector(const trib_merge *m, const bool *has_floor,
							  const trib_position *floor);

/* Source c ended a transaction at `end`: the group's END in *out (opaque
 * NULL); the group closes. */
void		trib_merge_end(trib_merge *m, size_t c, const trib_position *end,
						   trib_position *out);

/*
 * Source `name`'s position in a merged position's opaque text (what a
 * sink stored), read with its `ops`: 1 and *out (its opaque text,
 * malloc'd, for a resume_opaque source that has one; else NULL), 0 when the
 * text names no position of that source, -1 when `opaque` is not a
 * merged position's (errbuf says so).
 */
int			trib_merge_source_pos(const char *opaque, const char *name,
								  const trib_source_ops *ops, trib_position *out,
								  char *errbuf, size_t errlen);

/* Is `opaque` (what a sink stored) a merged position's text?  A pipeline
 * with one source refuses such a sink: its stored position is not the
 * source's. */
bool		trib_merge_is_merged(const char *opaque);

#endif							/* TRIB_MERGE_H */
