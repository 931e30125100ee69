/*
 * position.h: where an event sits in its source's stream, and the text
 * forms of LSNs and event ids.
 *
 * Design.  Every event carries the position that makes it unique and
 * ordered within its source: for PostgreSQL the plugin's event id
 * (commit_lsn, seq); `end_lsn` of the transaction is what the slot may be
 * confirmed to once the whole transaction is durable in every sink.
 * Other sources put their native position (GTID set and binlog
 * file/offset, resume token) in `opaque`, a JSON object, and order by
 * `seq` within it.
 *
 * Text forms, one implementation each:
 *   LSN       "X/Y" as PostgreSQL's pg_lsn writes it: the high and low 32
 *             bits in upper-case hex without leading zeros ("0/16B3748");
 *             parsing follows pg_lsn_in (one to eight hex digits, either
 *             case, '/', one to eight hex digits, nothing else).
 *   event id  "L:S" (LSN, ':', decimal seq), or "L" alone for a whole
 *             transaction (seq TRIB_SEQ_ALL) where a resume point is
 *             written.  Formatting is what snprintf("%X/%X:%llu") writes,
 *             truncated the same way, without its cost (the Kafka sink
 *             formats one per record).
 *
 * Ownership: a position owns `opaque` when it is inside an event
 * (trib_event_free releases it).
 */
#ifndef TRIB_POSITION_H
#define TRIB_POSITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* seq of a position that stands for the whole transaction at commit_lsn. */
#define TRIB_SEQ_ALL ((uint64_t) INT64_MAX)

/* "0/16B3748" <-> 64-bit LSN; parse returns false (and leaves *out) on
 * bad input.  parse_n reads exactly s[0..n) (no NUL needed). */
bool		trib_lsn_parse(const char *s, uint64_t *out);
bool		trib_lsn_parse_n(const char *s, size_t n, uint64_t *out);
void		trib_lsn_format(uint64_t lsn, char *buf, size_t len);

/* Buffer size that holds any formatted LSN ("FFFFFFFF/FFFFFFFF"). */
#define TRIB_LSN_BUFLEN 18

/* Buffer size that holds any formatted event id. */
#define TRIB_EVENTID_LEN 48

/*
 * Event ids.  format writes "L:S", or "L" when seq is TRIB_SEQ_ALL;
 * format_seq always writes "L:S".  Both truncate to len like snprintf
 * and return the length written.  parse reads "L" (seq TRIB_SEQ_ALL) or
 * "L:S" (seq at most INT64_MAX).
 */
size_t		trib_eventid_format(uint64_t lsn, uint64_t seq, char *buf, size_t len);
size_t		trib_eventid_format_seq(uint64_t lsn, uint64_t seq, char *buf, size_t len);
bool		trib_eventid_parse(const char *s, uint64_t *lsn, uint64_t *seq);

#endif							/* TRIB_POSITION_H */
