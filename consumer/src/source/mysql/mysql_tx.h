/*
 * mysql_tx.h: the transaction assembler of the MySQL/MariaDB source:
 * decoded binlog events in, the items the pipeline's source interface
 * yields out (transaction begin, row events, transaction end, DDL).
 *
 * Design.  The binlog writes a transaction as an event group:
 *
 *   MariaDB  GTID (FL_STANDALONE clear), TABLE_MAP/ROWS..., XID
 *            (or QUERY "COMMIT" for non-transactional engines)
 *   MySQL    GTID_LOG, QUERY "BEGIN", TABLE_MAP/ROWS..., XID
 *   DDL      GTID (FL_STANDALONE set; MySQL: no BEGIN), QUERY statement
 *
 * The assembler numbers the changes of each group 0, 1, 2, ... (`row` of
 * mysql_position.h; a DDL statement inside a group takes a number too),
 * turns each row image pair into a trib_event, and holds the newest event
 * back until the next one or the commit arrives, so that the last event
 * of a transaction carries last_in_tx and the commit's end offset.  A
 * DDL group becomes one DDL item (statement and database; parsing it is
 * for the schema registry work), and the schema source is told about it
 * (mysql_schema.h: ddl()).
 *
 * Resume.  Given the position of the last durable change, every item at
 * or before it is dropped: whole transactions before it, and in its own
 * transaction the rows up to and including it (all of them for
 * TRIB_MY_ROW_ALL).  When the binlog at the resume offset holds another
 * GTID than the checkpoint recorded, the binlog was rewritten (a restored
 * or re-initialised server) and feeding fails rather than skip the wrong
 * rows.
 *
 * Positions on events (core's trib_position): commit_lsn = file number <<
 * 32 | transaction offset, seq = row, lsn = file number << 32 | the rows
 * event's offset, end_lsn = file number << 32 | the offset after the
 * commit (on the last event; 0 on others), opaque = {"source" (Debezium's
 * members of the envelope's source block), "id", "file", "pos", "row",
 * "gtid", "server_id", "event_pos"} and, on the last event, "end_pos" and
 * "gtid_state" (the server's GTID state after the commit: one GTID per
 * domain); its text is rendered per transaction once (mysql_opaque.h).
 *
 * Ownership: items own their event and strings until trib_my_item_clear()
 * or until the caller takes them (sets the pointer NULL).  Events borrow
 * their naming strings and relation from the decoder's shapes, and the
 * source name from the configuration: keep the decoder and the name alive
 * while events are in flight.
 */
#ifndef TRIB_MYSQL_TX_H
#define TRIB_MYSQL_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "mysql_binlog.h"
#include "mysql_position.h"

typedef enum trib_my_item_kind
{
	TRIB_MY_ITEM_BEGIN,			/* a transaction starts (pos.row 0) */
	TRIB_MY_ITEM_EVENT,			/* one row change (.event) */
	TRIB_MY_ITEM_END,			/* it committed (pos.row TRIB_MY_ROW_ALL) */
	TRIB_MY_ITEM_DDL			/* a DDL statement (.db, .statement) */
} trib_my_item_kind;

typedef struct trib_my_item
{
	trib_my_item_kind kind;
	trib_my_pos pos;			/* EVENT and DDL: the change's; BEGIN: the
								 * transaction's with row 0; END: with row
								 * TRIB_MY_ROW_ALL */
	uint64_t	end_pos;		/* END and standalone DDL: offset after the
								 * group */
	int64_t		ts_ms;			/* the group's time stamp */
	uint32_t	server_id;
	uint64_t	nchanges;		/* END: changes in the transaction */
	trib_event *event;			/* EVENT; owned */
	char	   *db;				/* DDL; owned */
	char	   *statement;		/* DDL; owned */
	char	   *gtid_state;		/* END and DDL: "0-1-42,1-2-7"; owned */
} trib_my_item;

typedef struct trib_my_tx_conf
{
	const char *source_name;	/* trib_event.source; borrowed */
	const trib_my_pos *resume_after;	/* NULL: deliver everything */
	/* The GTID state the stream starts from ("0-1-42,1-2-7"), or NULL;
	 * GTID_LIST events and each GTID update it. */
	const char *gtid_state;
	const trib_my_schema *schema;	/* told about DDL; may be NULL */
	/* The source block gets "query": the SQL of the rows events (their
	 * ANNOTATE_ROWS / ROWS_QUERY event; null where the binlog has none). */
	bool		include_query;
} trib_my_tx_conf;

typedef struct trib_my_tx trib_my_tx;

/* A new assembler; NULL and errbuf when conf->gtid_state does not parse. */
trib_my_tx *trib_my_tx_new(const trib_my_tx_conf *conf, char *errbuf, size_t errlen);
void		trib_my_tx_free(trib_my_tx *tx);

/*
 * Feed one decoded event (the assembler takes its rows' strings).  Items
 * it completes become available through trib_my_tx_next().  False with
 * errbuf on a stream that breaks the grouping rules (rows outside a
 * group, XA transactions) or a resume mismatch.
 */
bool		trib_my_tx_feed(trib_my_tx *tx, trib_my_event *ev,
							char *errbuf, size_t errlen);

/* Pop the next ready item into *out; false when there is none. */
bool		trib_my_tx_next(trib_my_tx *tx, trib_my_item *out);

/* Is an item ready? */
bool		trib_my_tx_ready(const trib_my_tx *tx);

/* Is a transaction open (items of it may still be held back)?  Its
 * position with the number the next change will get, in *at. */
bool		trib_my_tx_open(const trib_my_tx *tx, trib_my_pos *at);

/* The GTID state as text ("" when none) into buf; returns its length. */
size_t		trib_my_tx_gtid_state(const trib_my_tx *tx, char *buf, size_t len);

/* Release what an item owns and zero it. */
void		trib_my_item_clear(trib_my_item *it);

#endif							/* TRIB_MYSQL_TX_H */
