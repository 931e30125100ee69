/*
 * sink_buffer.c: a paused sink's held events; see sink_buffer.h.
 *
 * A singly linked queue of entries, each a copy of one event
 * (trib_event_copy) and, with several sources, the source's own position
 * the copy's origin points at.  Appending and taking the oldest are O(1);
 * the counts are kept with atomic stores so that /status reads them from
 * the HTTP thread without a lock.
 */
#include "sink_buffer.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

typedef struct held
{
	struct held *next;
	trib_event	ev;				/* the copy the sink is given */
	trib_position own;			/* ev.origin's target when merged */
	size_t		bytes;
} held;

struct trib_sink_buffer
{
	held	   *head;
	held	   *tail;
	uint64_t	events;			/* atomics: read by the HTTP thread */
	uint64_t	bytes;
};

/* See sink_buffer.h. */
trib_sink_buffer *
trib_sink_buffer_new(void)
{
	return trib_xcalloc(1, sizeof(trib_sink_buffer));
}

/* Add d events and b bytes (either may be negative). */
static void
count(trib_sink_buffer *b, int64_t d, int64_t bytes)
{
	__atomic_store_n(&b->events, b->events + (uint64_t) d, __ATOMIC_RELEASE);
	__atomic_store_n(&b->bytes, b->bytes + (uint64_t) bytes, __ATOMIC_RELEASE);
}

/* See sink_buffer.h. */
void
trib_sink_buffer_push(trib_sink_buffer *b, const trib_event *ev, const trib_position *seen)
{
	held	   *h = trib_xcalloc(1, sizeof(*h));

	h->bytes = sizeof(*h) + trib_event_copy(ev, &h->ev);
	if (seen != NULL)
	{
		h->own = h->ev.pos;		/* takes the copy's opaque */
		h->ev.pos = *seen;
		trib_position_set_opaque(&h->ev.pos, seen->opaque ? trib_xstrdup(seen->opaque) : NULL,
								 trib_position_opaque_source(seen));
		h->bytes += seen->opaque ? strlen(seen->opaque) + 1 : 0;
		h->ev.origin = &h->own;
	}
	if (b->tail != NULL)
		b->tail->next = h;
	else
		b->head = h;
	b->tail = h;
	count(b, 1, (int64_t) h->bytes);
}

/* See sink_buffer.h. */
const trib_event *
trib_sink_buffer_front(const trib_sink_buffer *b)
{
	return b->head != NULL ? &b->head->ev : NULL;
}

/* See sink_buffer.h. */
void
trib_sink_buffer_pop(trib_sink_buffer *b)
{
	held	   *h = b->head;

	if (h == NULL)
		return;
	b->head = h->next;
	if (b->head == NULL)
		b->tail = NULL;
	count(b, -1, -(int64_t) h->bytes);
	trib_event_clear(&h->ev);
	free(h->own.opaque);
	free(h);
}

/* See sink_buffer.h. */
uint64_t
trib_sink_buffer_events(const trib_sink_buffer *b)
{
	return __atomic_load_n(&b->events, __ATOMIC_ACQUIRE);
}

/* See sink_buffer.h. */
uint64_t
trib_sink_buffer_bytes(const trib_sink_buffer *b)
{
	return __atomic_load_n(&b->bytes, __ATOMIC_ACQUIRE);
}

/* See sink_buffer.h. */
void
trib_sink_buffer_free(trib_sink_buffer *b)
{
	if (b == NULL)
		return;
	while (b->head != NULL)
		trib_sink_buffer_pop(b);
	free(b);
}
