/*
 * ack_tracker.c: the low watermark of out-of-order deliveries (see
 * ack_tracker.h for the design).
 *
 * Entry n lives in ring[n & (cap - 1)]; head is the oldest number not yet
 * passed, tail the next number to give out, so tail - head entries are in
 * flight.  `last` keeps the position most recently passed, which is what
 * advance() reports.
 */
#include "ack_tracker.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

typedef struct trk_ent
{
	trib_position pos;			/* owns pos.opaque */
	uint32_t	pending;		/* records not yet delivered */
	bool		sealed;			/* all records enqueued */
} trk_ent;

struct trib_ack_tracker
{
	trk_ent    *ring;
	size_t		cap;			/* a power of two */
	uint64_t	head;			/* oldest entry not passed */
	uint64_t	tail;			/* next write number */
	trib_position last;			/* last passed position, owns opaque */
};

/* See ack_tracker.h. */
trib_ack_tracker *
trib_ack_tracker_new(size_t initial)
{
	trib_ack_tracker *t = trib_xcalloc(1, sizeof(*t));

	t->cap = 16;
	while (t->cap < initial)
		t->cap *= 2;
	t->ring = trib_xcalloc(t->cap, sizeof(trk_ent));
	return t;
}

/* See ack_tracker.h. */
void
trib_ack_tracker_free(trib_ack_tracker *t)
{
	if (t == NULL)
		return;
	for (uint64_t n = t->head; n < t->tail; n++)
		free(t->ring[n & (t->cap - 1)].pos.opaque);
	free(t->last.opaque);
	free(t->ring);
	free(t);
}

/* Double the ring, keeping every entry at its number's new slot. */
static void
tracker_grow(trib_ack_tracker *t)
{
	size_t		ncap = t->cap * 2;
	trk_ent    *nr = trib_xcalloc(ncap, sizeof(trk_ent));

	for (uint64_t n = t->head; n < t->tail; n++)
		nr[n & (ncap - 1)] = t->ring[n & (t->cap - 1)];
	free(t->ring);
	t->ring = nr;
	t->cap = ncap;
}

/* See ack_tracker.h. */
uint64_t
trib_ack_tracker_push(trib_ack_tracker *t, const trib_position *pos)
{
	trk_ent    *e;

	if (t->tail - t->head == t->cap)
		tracker_grow(t);
	e = &t->ring[t->tail & (t->cap - 1)];
	e->pos = *pos;
	e->pos.opaque = trib_xstrdup(pos->opaque);
	e->pending = 0;
	e->sealed = false;
	return t->tail++;
}

/* The entry of write number n, or NULL when n is not in flight. */
static trk_ent *
tracker_get(trib_ack_tracker *t, uint64_t n)
{
	if (n < t->head || n >= t->tail)
		return NULL;
	return &t->ring[n & (t->cap - 1)];
}

/* See ack_tracker.h. */
void
trib_ack_tracker_add(trib_ack_tracker *t, uint64_t n)
{
	trk_ent    *e = tracker_get(t, n);

	if (e)
		e->pending++;
}

/* See ack_tracker.h. */
void
trib_ack_tracker_seal(trib_ack_tracker *t, uint64_t n)
{
	trk_ent    *e = tracker_get(t, n);

	if (e)
		e->sealed = true;
}

/* See ack_tracker.h. */
void
trib_ack_tracker_done(trib_ack_tracker *t, uint64_t n)
{
	trk_ent    *e = tracker_get(t, n);

	if (e && e->pending > 0)
		e->pending--;
}

/* See ack_tracker.h. */
size_t
trib_ack_tracker_in_flight(const trib_ack_tracker *t)
{
	return (size_t) (t->tail - t->head);
}

/* See ack_tracker.h. */
bool
trib_ack_tracker_advance(trib_ack_tracker *t, const trib_position **out)
{
	bool		moved = false;

	while (t->head < t->tail)
	{
		trk_ent    *e = &t->ring[t->head & (t->cap - 1)];

		if (!e->sealed || e->pending > 0)
			break;
		free(t->last.opaque);
		t->last = e->pos;		/* ownership of opaque moves */
		e->pos.opaque = NULL;
		t->head++;
		moved = true;
	}
	if (moved && out)
		*out = &t->last;
	return moved;
}
