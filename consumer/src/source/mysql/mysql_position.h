/*
 * mysql_position.h: positions in a MySQL/MariaDB binlog: GTIDs, file:pos,
 * the row inside a transaction, their text forms and their order.
 *
 * Design.  A row change is identified by the transaction it belongs to and
 * its index among the transaction's row images:
 *
 *   file     the binlog file holding the transaction ("mariadb-bin.000003")
 *   tx_pos   the offset of the transaction's first event in that file (its
 *            GTID event, or BEGIN where there is none)
 *   row      0, 1, 2, ... in binlog order; TRIB_MY_ROW_ALL stands for the
 *            whole transaction (everything in it is done)
 *   gtid     the transaction's GTID: MariaDB domain-server-seq ("0-1-42")
 *            or MySQL uuid:n; informative (and checked on resume), not part
 *            of the order
 *
 * Within one server's binlog these are totally ordered by (file number,
 * tx_pos, row): files are numbered in the order the server writes them,
 * and a transaction never spans two files.  That order maps onto the
 * pipeline's (major, minor)-comparable position (core's trib_position):
 *
 *   commit_lsn = file number << 32 | tx_pos     seq = row
 *
 * (binlog offsets are 32-bit in the event header; file numbers are the
 * numeric extension, below 2^31).  Resuming after a position P means:
 * dump from P.file:P.tx_pos and skip the rows up to P.row of that first
 * transaction (all of it for TRIB_MY_ROW_ALL); no end offset is needed.
 *
 * Text form, the event id:   GTID/FILE:TX_POS/ROW
 *   "0-1-42/mariadb-bin.000003:928/3"     a row
 *   "0-1-42/mariadb-bin.000003:928"       the whole transaction
 *   "/binlog.000001:4711/0"               no GTID (MySQL, gtid_mode=OFF)
 * '/' cannot occur in a GTID nor in a binlog file name the server reports
 * (a base name), so the form parses unambiguously.
 *
 * No allocation anywhere; every function is pure.
 */
#ifndef TRIB_MYSQL_POSITION_H
#define TRIB_MYSQL_POSITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* row of a position that stands for the whole transaction (the same value
 * as core's TRIB_SEQ_ALL, so it maps onto trib_position.seq unchanged). */
#define TRIB_MY_ROW_ALL ((uint64_t) INT64_MAX)

/* Longest binlog file name kept (the server's FN_REFLEN is 512, but names
 * of binlog files are base names, far shorter). */
#define TRIB_MY_FILE_MAX 256

/* Buffer that holds any GTID text: a UUID, ':' and a 64-bit number. */
#define TRIB_MY_GTID_BUFLEN 64

/* Buffer that holds any position's text form. */
#define TRIB_MY_POS_BUFLEN (TRIB_MY_GTID_BUFLEN + TRIB_MY_FILE_MAX + 48)

typedef enum trib_my_gtid_kind
{
	TRIB_MY_GTID_NONE = 0,
	TRIB_MY_GTID_MARIADB,		/* domain-server-seq */
	TRIB_MY_GTID_MYSQL			/* uuid:gno */
} trib_my_gtid_kind;

typedef struct trib_my_gtid
{
	trib_my_gtid_kind kind;
	uint32_t	domain;			/* MariaDB */
	uint32_t	server;			/* MariaDB */
	uint64_t	seq;			/* MariaDB seq_no, MySQL gno */
	uint8_t		uuid[16];		/* MySQL source UUID */
} trib_my_gtid;

typedef struct trib_my_pos
{
	char		file[TRIB_MY_FILE_MAX];
	uint64_t	tx_pos;
	uint64_t	row;
	trib_my_gtid gtid;
} trib_my_pos;

/* Parse "0-1-42" (MariaDB) or "3e11fa47-71ca-11e1-9e33-c80aa9429562:23"
 * (MySQL); an empty text is TRIB_MY_GTID_NONE.  False on anything else. */
bool		trib_my_gtid_parse(const char *s, size_t len, trib_my_gtid *out);

/* The text form into buf ("" for NONE); returns its length. */
size_t		trib_my_gtid_format(const trib_my_gtid *g, char *buf, size_t len);

/* Same GTID? */
bool		trib_my_gtid_equal(const trib_my_gtid *a, const trib_my_gtid *b);

/* The numeric extension of a binlog file name ("mariadb-bin.000003" -> 3);
 * false when the name has none. */
bool		trib_my_file_number(const char *file, uint32_t *out);

/* Order within one server's binlog: <0, 0, >0.  Files compare by number
 * (by name when either has none), then tx_pos, then row. */
int			trib_my_pos_cmp(const trib_my_pos *a, const trib_my_pos *b);

/* The event id "GTID/FILE:TX_POS[/ROW]" into buf (TRIB_MY_POS_BUFLEN);
 * returns its length. */
size_t		trib_my_pos_format(const trib_my_pos *p, char *buf, size_t len);

/* Parse an event id; false and a message naming what is wrong. */
bool		trib_my_pos_parse(const char *s, trib_my_pos *out,
							  char *errbuf, size_t errlen);

/* (major, minor) of the pipeline's order: file number << 32 | tx_pos, and
 * row.  False when the file name has no number or the offset does not fit
 * 32 bits (then only trib_my_pos_cmp orders it). */
bool		trib_my_pos_major(const trib_my_pos *p, uint64_t *major);

#endif							/* TRIB_MYSQL_POSITION_H */
