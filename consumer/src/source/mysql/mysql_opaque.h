/*
 * mysql_opaque.h: the opaque position text of the MySQL source's events
 * (core/position.h: "the source's native position as a JSON object's
 * text"), rendered once per transaction and completed per row.
 *
 * Design.  Every row event carries its opaque position, so building it is
 * on the per-row path: a yajl_gen of fifteen members per row cost about a
 * sixth of the source's CPU in `make bench-mysql`.  Almost all of the text
 * is the same for every row of a transaction (file, GTID, server id,
 * thread, the rows event's query); only the row number and the rows
 * event's offset change.  So the constant parts are rendered (and JSON
 * escaped, with yajl) once, when the transaction or its query changes,
 * and each row's text is those parts with its two numbers between them:
 *
 *   {"source":{"server_id":S,"gtid":G,"file":F,"pos":EVPOS,"row":ROW,
 *    "thread":T[,"query":Q]},"id":"G/F:TXPOS/ROW","file":F,"pos":TXPOS,
 *    "row":ROW,"gtid":G,"server_id":S,"event_pos":EVPOS
 *    [,"end_pos":E,"gtid_state":"..."]}
 *
 * "source" (Debezium's members of the envelope's source block) comes
 * first, and with its length handed on (the position's source hint,
 * every byte of it is what yajl's generator writes) the envelope copies
 * its members without parsing (envelope.c).  Its members:
 * server_id, gtid (null without one), file, pos (the rows event's
 * offset), row (the change's number in the transaction), thread (null when
 * the binlog does not say: MariaDB logs no BEGIN query) and, with
 * include_query, query (the statement of the rows event, null when not
 * logged).  The other members are mysql_tx.h's; their order is not part
 * of the contract.
 *
 * Ownership: the renderer owns its parts; trib_my_opaque_row() returns a
 * string the caller owns (an event's pos.opaque).
 */
#ifndef TRIB_MYSQL_OPAQUE_H
#define TRIB_MYSQL_OPAQUE_H

#include <stdbool.h>
#include <stdint.h>

#include "mysql_position.h"
#include "strbuf.h"

/* What the constant parts are made of: one transaction's. */
typedef struct trib_my_opaque_tx
{
	const trib_my_pos *tx;		/* file, tx_pos, gtid (row unused) */
	uint32_t	server_id;
	uint32_t	thread;			/* 0: unknown (null) */
	bool		include_query;	/* write "query" */
	const char *query;			/* NULL: null */
} trib_my_opaque_tx;

typedef struct trib_my_opaque
{
	bool		valid;			/* parts match the current transaction */
	trib_strbuf head;			/* {"source":{... "pos": */
	trib_strbuf mid;			/* ,"thread":...},"id":"G/F:TXPOS/ */
	size_t		mid_source;		/* mid's bytes up to the source's '}' */
	bool		source_utf8;	/* the source object's strings are valid
								 * UTF-8 (its length may be handed on) */
	trib_strbuf tail;			/* ","file":F,"pos":TXPOS,"row": */
	trib_strbuf tail2;			/* ,"gtid":G,"server_id":S,"event_pos": */
} trib_my_opaque;

/* The transaction or its query changed: render the parts again at the
 * next row. */
void		trib_my_opaque_invalidate(trib_my_opaque *o);

/* The opaque text of row `row` of the transaction, in its rows event at
 * offset event_pos; `last` adds end_pos and the GTID state text.
 * *source_len: the bytes of its leading {"source":{...}, written as yajl
 * writes them, or 0 (the position's source hint, core/position.h). */
char	   *trib_my_opaque_row(trib_my_opaque *o, const trib_my_opaque_tx *t,
							   uint64_t row, uint64_t event_pos, bool last,
							   uint64_t end_pos, const char *gtid_state,
							   size_t *source_len);

/* Release the parts. */
void		trib_my_opaque_free(trib_my_opaque *o);

#endif							/* TRIB_MYSQL_OPAQUE_H */
