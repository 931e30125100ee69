/*
 * position.h: where an event sits in its source's stream.
 *
 * Design.  Every event carries the position that makes it unique and
 * ordered within its source: for PostgreSQL the plugin's event id
 * (commit_lsn, seq); `end_lsn` of the transaction is what the slot may be
 * confirmed to once the whole transaction is durable in every sink.
 * Other sources put their native position (GTID set and binlog
 * file/offset, resume token) in `opaque`, a JSON object, and order by
 * `seq` within it.
 *
 * Its text forms have one implementation each: LSNs in lsn.h, event ids
 * in eventid.h (this header includes both).
 *
 * Ownership: a position owns `opaque` when it is inside an event
 * (trib_event_free releases it).
 */
#ifndef TRIB_POSITION_H
#define TRIB_POSITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eventid.h"
#include "lsn.h"

/* Where an event sits in its source's stream. */
typedef struct trib_position
{
	uint64_t	commit_lsn;		/* Postgres: the plugin's commit_lsn */
	uint64_t	seq;			/* number within the transaction */
	uint64_t	end_lsn;		/* Postgres: end of the commit record */
	uint64_t	lsn;			/* Postgres: the change's own LSN; 0 if unknown
								 * (Debezium's source.lsn; added by the Kafka
								 * sink work) */
	char	   *opaque;			/* other sources: native position as JSON text, or NULL */
} trib_position;

/* TRIB_SEQ_ALL, the seq of a position that stands for the whole
 * transaction at commit_lsn, is defined in eventid.h (its text form). */

#endif							/* TRIB_POSITION_H */
