/*
 * sink_buffer.h: the events a paused sink is owed, held in memory in the
 * order it would have been given them (pause.h, docs/API.md "Pause and
 * resume").
 *
 * While a sink is paused the pipeline keeps reading its sources and
 * delivering to the other sinks; what this sink would have been given,
 * after the transforms and with the position it would have seen, is
 * copied here.  On resume the pipeline hands the sink these copies first,
 * oldest first, then goes on live.  Each event keeps its last_in_tx mark,
 * so a transactional sink frames them exactly as it would have.  The
 * pipeline never checkpoints or confirms past what the sink acknowledged,
 * so a buffer lost with the process is read again after a restart.
 *
 * Memory: each entry counts the bytes its copy owns plus the entry itself;
 * the pipeline compares that with its bound (pause_buffer_mb) between
 * batches.  The borrowed parts of an event (naming strings, relation) are
 * shared with the source and the rules, which keep them until close.
 *
 * Threads: only the pipeline's thread changes a buffer; its counts are
 * atomics, read by the HTTP thread for /status.
 */
#ifndef TRIB_SINK_BUFFER_H
#define TRIB_SINK_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

typedef struct trib_sink_buffer trib_sink_buffer;

/* A new empty buffer; never NULL. */
trib_sink_buffer *trib_sink_buffer_new(void);

/*
 * Append a copy of ev (borrowed).  `seen`: the position the sink is to
 * see in place of ev->pos (several sources: the merged one; its opaque is
 * copied), the records keeping ev's own as the event's origin; NULL: ev's.
 */
void		trib_sink_buffer_push(trib_sink_buffer *b, const trib_event *ev,
								  const trib_position *seen);

/* The oldest event (the buffer's, valid until the next pop), or NULL. */
const trib_event *trib_sink_buffer_front(const trib_sink_buffer *b);

/* Drop the oldest event. */
void		trib_sink_buffer_pop(trib_sink_buffer *b);

/* How many events, and how many bytes they hold (any thread). */
uint64_t	trib_sink_buffer_events(const trib_sink_buffer *b);
uint64_t	trib_sink_buffer_bytes(const trib_sink_buffer *b);

/* Free with what it holds; NULL ok. */
void		trib_sink_buffer_free(trib_sink_buffer *b);

#endif							/* TRIB_SINK_BUFFER_H */
