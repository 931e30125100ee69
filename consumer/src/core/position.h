/*
 * position.h: where an event sits in its source's stream.
 *
 * Design.  Every event carries the position that makes it unique and
 * ordered within its source.  The pipeline treats a position as opaque:
 * it orders, prints, stores and reads positions only through its source's
 * operations (source.h: compare, format_id, parse_id, store_form, gauge,
 * describe).  The sinks and the checkpoint stores, though, keep positions
 * in formats fixed for PostgreSQL (the catalog's pg_lsn and bigint
 * columns, the file checkpoint's "commit_lsn" and "seq", the Postgres
 * sink's offsets table, the Kafka checkpoint topic, the file sink's
 * sidecar, the Debezium envelope's source block), and read the fields
 * below directly.  So every source fills them by this contract, and then
 * the sinks and stores work for it unchanged:
 *
 *   commit_lsn  a 64-bit number that orders the source's transactions:
 *               equal for every event of one transaction, increasing from
 *               one transaction to the next in commit order, never 0 for a
 *               real event (0 means "no position").  PostgreSQL: the
 *               commit LSN.  A source without LSNs packs what orders its
 *               stream, e.g. MySQL: binlog file number << 32 | offset of
 *               the transaction's first event (its GTID or BEGIN: where a
 *               restart reconnects; transactions never interleave in a
 *               binlog, so start offsets order them as commits do).
 *   seq         the event's number within its transaction, from 0 (then
 *               (commit_lsn, seq) is unique and ordered); TRIB_SEQ_ALL
 *               (eventid.h) for a position that stands for the whole
 *               transaction (an END item's, a resume point).  At most
 *               INT64_MAX.  MySQL: the row's index in the transaction.
 *   end_lsn     where the source may be confirmed to once the whole
 *               transaction is durable (END items): PostgreSQL the end of
 *               the commit record; MySQL packed like commit_lsn (the end
 *               of the commit event).
 *   lsn         the change's own place in the stream when it has one (0:
 *               unknown), shown by the envelope as Debezium's source.lsn;
 *               MySQL packed like commit_lsn.
 *   opaque      the source's native position as a JSON object's text, or
 *               NULL: whatever it needs beyond the numbers to resume
 *               (MySQL: the GTID set, the binlog file name).  The
 *               checkpoint stores keep it as given; the pipeline only
 *               passes it on.
 *   the opaque text's source hint  0, or the length of opaque's first
 *               member when the source wrote it as yajl's generator would
 *               (compact, valid UTF-8): opaque starts {"source":{...} and
 *               those bytes end at its '}'.  The envelope then copies the
 *               members of the records' source block (format/
 *               opaque_source.h) without parsing the text.  Set only with
 *               its text (trib_position_set_opaque) and read through
 *               trib_position_opaque_source(), which gives 0 unless
 *               `opaque` is still the text it was set with: a position
 *               whose text is replaced any other way loses the hint, never
 *               keeps a stale one (unless the new text is put directly at
 *               the freed old one's address: set texts with the setter).
 *               Copies of a position (struct assignment) keep it with the
 *               text they share, trib_event_copy and the sink buffer with
 *               their copy of the text; stores do not keep it.
 *
 * The event-id text "L:S" ("L" alone for TRIB_SEQ_ALL) is then the same
 * for every source; its implementation is eventid.h, and LSN text lsn.h
 * (this header includes both).
 *
 * The order itself, (commit_lsn, seq), is trib_position_cmp (position.c).
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
	uint64_t	commit_lsn;		/* orders transactions (Postgres: the
								 * plugin's commit_lsn); see above */
	uint64_t	seq;			/* number within the transaction */
	uint64_t	end_lsn;		/* confirm up to here (Postgres: end of the
								 * commit record) */
	uint64_t	lsn;			/* the change's own place; 0 if unknown
								 * (Debezium's source.lsn) */
	char	   *opaque;			/* native position as JSON text, or NULL */
	/* private to position.c: the source hint and the text it is about */
	size_t		hint_len_;
	const char *hint_text_;
} trib_position;

/* Put text (owned as `opaque` is; the old text is not freed) in pos with
 * its source hint: source_len bytes of leading {"source":{...}, 0 when not
 * known. */
void		trib_position_set_opaque(trib_position *pos, char *text, size_t source_len);

/* The source hint of pos's opaque text: 0 unless set with that text. */
size_t		trib_position_opaque_source(const trib_position *pos);

/* Event order: <0, 0 or >0 as a's (commit_lsn, seq) is before, equal to
 * or after b's.  The other fields do not take part. */
int			trib_position_cmp(const trib_position *a, const trib_position *b);

/* True when a's (commit_lsn, seq) is at or before b's. */
bool		trib_position_le(const trib_position *a, const trib_position *b);

/*
 * The event-id forms of a position, for any source whose positions are
 * ordered by (commit_lsn, seq) alone: their signatures are source.h's
 * format_id, parse_id, store_form and gauge, so a source (and the merged
 * positions of several, pipeline/merge.c) may use them as its operations.
 *   format_id   "L:S", "L" for TRIB_SEQ_ALL (eventid.h)
 *   parse_id    the inverse; opaque NULL
 *   store_form  commit_lsn as an LSN's text ("" when 0) and seq
 *   gauge       commit_lsn as a number
 */
size_t		trib_position_format_id(const trib_position *pos, char *buf, size_t len);
bool		trib_position_parse_id(const char *id, trib_position *out);
void		trib_position_store_form(const trib_position *pos, char *key, size_t keylen,
									 uint64_t *seq);
double		trib_position_gauge(const trib_position *pos);

/* TRIB_SEQ_ALL, the seq of a position that stands for the whole
 * transaction at commit_lsn, is defined in eventid.h (its text form). */

#endif							/* TRIB_POSITION_H */
