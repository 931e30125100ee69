/*
 * ack_tracker.h: turns deliveries that complete out of order into one
 * monotonic "durable up to here" position.
 *
 * Design.  A sink that sends asynchronously (the Kafka producer today)
 * hears about its writes in any order: records of one event go to
 * different partitions, and reports from different brokers overtake each
 * other.  The pipeline, however, needs acknowledgements in source order.
 * The tracker is a power-of-two ring indexed by write number: each event
 * pushed gets the next number and a copy of its position; the sink adds
 * one pending record per message it enqueues for that event and seals the
 * event once all are enqueued (a delete's tombstone may still wait for
 * queue space while the delete itself is already delivered); done() marks
 * one record delivered.  advance() pops complete entries from the head
 * and reports the last one passed: the low watermark.  O(1) amortised per
 * event; the ring doubles when full (entries are re-placed), so a push
 * never blocks.  A sink that must stop acknowledging (a record failed for
 * good) simply stops calling advance(): the head never passes the entry.
 *
 * Nothing here knows about a source or a sink: positions are copied and
 * compared by nobody, only carried.  Ownership: the tracker owns the
 * positions pushed (their opaque text is copied) until they are passed;
 * the position advance() reports belongs to the tracker and stays valid
 * until the next call on it.  Not thread-safe: one thread drives it.
 */
#ifndef TRIB_ACK_TRACKER_H
#define TRIB_ACK_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

typedef struct trib_ack_tracker trib_ack_tracker;

/* A tracker with room for `initial` events (it grows). */
trib_ack_tracker *trib_ack_tracker_new(size_t initial);

/* Free a tracker and the positions it holds; NULL is allowed. */
void		trib_ack_tracker_free(trib_ack_tracker *t);

/* Track a new event (its position is copied); returns its write number. */
uint64_t	trib_ack_tracker_push(trib_ack_tracker *t, const trib_position *pos);

/* One more record of event n is in flight. */
void		trib_ack_tracker_add(trib_ack_tracker *t, uint64_t n);

/* All records of event n are enqueued. */
void		trib_ack_tracker_seal(trib_ack_tracker *t, uint64_t n);

/* One record of event n was delivered. */
void		trib_ack_tracker_done(trib_ack_tracker *t, uint64_t n);

/* Events pushed and not yet passed by the watermark. */
size_t		trib_ack_tracker_in_flight(const trib_ack_tracker *t);

/* Move the watermark over complete events; true when it moved, with *out
 * = the last complete position (valid until the next tracker call). */
bool		trib_ack_tracker_advance(trib_ack_tracker *t, const trib_position **out);

#endif							/* TRIB_ACK_TRACKER_H */
