/*
 * handoff.h: a bounded queue that hands entries from one producer thread
 * (a source's reader: the MySQL binlog dump, the MongoDB change stream)
 * to the pipeline's loop, and the end of the stream after them.
 *
 * Design.  A singly linked list (lib/chunk_queue.h's intrusive FIFO)
 * under one mutex with two condition variables (not empty, not full).
 * The entries are the user's own structs, each starting with a
 * trib_handoff_item (a trib_chunkq_link: the link and the bytes it
 * weighs), so the queue allocates nothing.  The queue is bounded in
 * bytes: a push waits while the queue holds something and the new entry
 * would take it over the bound (an entry larger than the bound still goes
 * into an empty queue), so a slow consumer makes the producer wait and
 * memory stays bounded.  A stop (from the consumer's side, before it
 * joins the producer) wakes a waiting push, which then drops its entry.
 *
 * The end.  The producer ends the stream once (the first end counts) with
 * a code and a message; the consumer gets them after every entry queued
 * before, so nothing read is lost to an error that follows it.
 *
 * Coalescing.  An optional hook may fold a new entry into the tail entry
 * (the MongoDB feed: an idle getMore's newer resume token replaces the
 * older one instead of queueing another), so a stream that is idle while
 * the loop is slow does not grow the queue.
 *
 * Ownership.  A pushed entry is the queue's (it is freed with the free
 * function given to trib_handoff_new when the push fails or the queue is
 * freed); a popped entry is the caller's.
 */
#ifndef TRIB_HANDOFF_H
#define TRIB_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "chunk_queue.h"

/* The head of every queued entry: the user's struct starts with one;
 * its bytes are what it weighs against the bound. */
typedef trib_chunkq_link trib_handoff_item;

/* Frees a whole entry (the struct that starts with the item). */
typedef void (*trib_handoff_free_fn) (trib_handoff_item *e);

/* Fold e into tail (the newest queued entry) and say true, or false to
 * queue e after it.  Called with the queue's mutex held; e is freed
 * after a true. */
typedef bool (*trib_handoff_coalesce_fn) (trib_handoff_item *tail, trib_handoff_item *e);

typedef struct trib_handoff trib_handoff;

/* An empty queue bounded at max_bytes; coalesce may be NULL. */
trib_handoff *trib_handoff_new(size_t max_bytes, trib_handoff_free_fn free_item,
							   trib_handoff_coalesce_fn coalesce);

/* Free the queue and what is still queued in it (once the producer was
 * stopped and joined); NULL is a no-op. */
void		trib_handoff_free(trib_handoff *h);

/* Producer: queue e (the queue owns it), waiting while the queue is full;
 * false (e freed) once stopped. */
bool		trib_handoff_push(trib_handoff *h, trib_handoff_item *e);

/* Producer: end the stream with code and msg (only the first end
 * counts); wakes the consumer. */
void		trib_handoff_finish(trib_handoff *h, int code, const char *msg);

/* Consumer: stop the producer: a waiting push and every later one fail. */
void		trib_handoff_stop(trib_handoff *h);

/*
 * Consumer: the first entry, waiting until `until` (CLOCK_REALTIME, as
 * trib_clock_deadline gives it) at most: 1 with *out (the caller's now);
 * 0 when none came in time; -1 when the stream ended and nothing is left:
 * its code in *code and its message in errbuf.
 */
int			trib_handoff_pop(trib_handoff *h, const struct timespec *until,
							 trib_handoff_item **out, int *code,
							 char *errbuf, size_t errlen);

/* Consumer: wait until `until` at most for the first push ever: 1 once
 * something was pushed (popped or not), 0 when nothing yet, -1 when the
 * stream ended before any push (*code and errbuf as pop). */
int			trib_handoff_wait_first(trib_handoff *h, const struct timespec *until,
									int *code, char *errbuf, size_t errlen);

#endif							/* TRIB_HANDOFF_H */
