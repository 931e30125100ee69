/*
 * chunk_queue.c: the FIFO of snapshot chunks (see chunk_queue.h for the
 * design: intrusive, counted in bytes, locked by its user).
 */
#include "chunk_queue.h"

/* See chunk_queue.h. */
void
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

/* See chunk_queue.h. */
trib_chunkq_link *
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
