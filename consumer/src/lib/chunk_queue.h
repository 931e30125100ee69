/*
 * chunk_queue.h: a FIFO of snapshot chunks, in order, counted in bytes.
 *
 * Design.  A snapshot moves its chunks through two queues: every engine
 * (source/pg/snapshot.c, source/mysql/mysql_snapshot_read.c,
 * source/mongodb/mongo_snapshot.c) hands its read chunks from the workers
 * to the pipeline thread, where the sum of the queued chunks' sizes
 * bounds how far the workers may read ahead; then the chunks delivered
 * to the sinks wait for their acknowledgement (core/snapshot_feed.c, and
 * the MongoDB copy's own loop), oldest first, scanned forward from one
 * chunk.  A reader thread's entries wait in the same list for the
 * pipeline's loop (lib/handoff.c, bounded in bytes too).  This is that
 * list and that sum, once.  The queue is intrusive
 * and allocates nothing: a chunk type has a trib_chunkq_link as its
 * FIRST member, so that a link converts back to its chunk, and a link is
 * on one queue at a time.  Locking and waiting stay with each user (its
 * own mutex, condition variables and stop flag; the engines' waits are
 * lib/chunk_wait.h): the queue itself is not thread-safe.  The queue
 * never owns or frees a chunk; whoever pops one owns it.  Push and pop
 * are inline: the hand-off queue takes them once per entry of a stream,
 * under its mutex.
 */
#ifndef TRIB_CHUNK_QUEUE_H
#define TRIB_CHUNK_QUEUE_H

#include <stddef.h>

/* The first member of a queued chunk. */
typedef struct trib_chunkq_link
{
	struct trib_chunkq_link *next;	/* the next chunk on the queue, or NULL */
	size_t		bytes;			/* the chunk's size, set by its maker
								 * (ignored where no bound is kept) */
} trib_chunkq_link;

/* A queue; all zero is empty. */
typedef struct trib_chunkq
{
	trib_chunkq_link *head,
			   *tail;
	size_t		bytes;			/* the queued chunks' bytes, summed */
} trib_chunkq;

/* Append a chunk (by its link) and count its bytes. */
static inline void
trib_chunkq_push(trib_chunkq *q, trib_chunkq_link *c)
{
	c->next = NULL;
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	q->bytes += c->bytes;
}

/* Take the oldest chunk's link (its next cleared, its bytes no longer
 * counted), or NULL when the queue is empty. */
static inline trib_chunkq_link *
trib_chunkq_pop(trib_chunkq *q)
{
	trib_chunkq_link *c = q->head;

	if (c == NULL)
		return NULL;
	q->head = c->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->bytes -= c->bytes;
	c->next = NULL;
	return c;
}

#endif
