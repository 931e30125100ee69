/*
 * mysql_snapshot_row.h: how the MySQL snapshot reads one column with
 * SELECT and writes it as the binlog decoder would (binlog_value.c), so a
 * copied row and an inserted one give the same JSON.
 *
 * Design.  Every value is asked for as text the server formats in one
 * known way, then turned into JSON here:
 *
 *   integers, DECIMAL, YEAR   CAST(c AS CHAR): a JSON number
 *   FLOAT, DOUBLE             the value as DOUBLE text, then the shortest
 *                             text that reads back (trib_my_format_double)
 *   DATE, TIME, DATETIME,     CAST(c AS CHAR); "T" between date and time,
 *   TIMESTAMP                 "Z" after a TIMESTAMP (the session's
 *                             time_zone is +00:00), fraction's trailing
 *                             zeros trimmed; zero and partly zero dates
 *                             become null or `zero_date`
 *   text, ENUM, SET           HEX(CONVERT(c USING utf8mb4)): a string (in
 *                             hex so that a NUL survives); MariaDB's JSON
 *                             (json_valid) and MySQL's json embedded when
 *                             the text parses
 *   BINARY, VARBINARY, BLOB   HEX(c): base64 of the bytes
 *   BIT(n)                    BIN(c + 0): n binary digits
 *   GEOMETRY                  HEX(ST_AsWKB(c)): lower-case hex
 *
 * Column names are quoted as identifiers (backticks doubled); no data is
 * ever put into SQL text.  The module's prefix is trib_my_snaprow_
 * (TRIB_MY_SNAPROW_ for constants).
 */
#ifndef TRIB_MYSQL_SNAPSHOT_ROW_H
#define TRIB_MYSQL_SNAPSHOT_ROW_H

#include <stdbool.h>
#include <stddef.h>

#include <yajl/yajl_gen.h>

#include "mysql_schema.h"
#include "strbuf.h"

typedef enum trib_my_snaprow_kind
{
	TRIB_MY_SNAPROW_NUMBER,
	TRIB_MY_SNAPROW_FLOAT,
	TRIB_MY_SNAPROW_DOUBLE,
	TRIB_MY_SNAPROW_DATE,
	TRIB_MY_SNAPROW_TIME,
	TRIB_MY_SNAPROW_DATETIME,
	TRIB_MY_SNAPROW_TIMESTAMP,
	TRIB_MY_SNAPROW_TEXT,
	TRIB_MY_SNAPROW_JSON,
	TRIB_MY_SNAPROW_BINARY,
	TRIB_MY_SNAPROW_BIT,
	TRIB_MY_SNAPROW_GEOMETRY
} trib_my_snaprow_kind;

/* How a column of information_schema's description is read. */
trib_my_snaprow_kind trib_my_snaprow_kind_of(const trib_my_colinfo *col);

/* Append the SELECT expression that reads the column. */
void		trib_my_snaprow_expr(trib_strbuf *b, const trib_my_colinfo *col,
							  trib_my_snaprow_kind kind);

/*
 * Write the value `text` (NULL: SQL NULL) of a column read by its
 * expression.  bits: BIT(n)'s n.  zero_date: NULL (null) or the text zero
 * dates become.  False with errbuf on a value that is not what the kind
 * says (naming the column).
 */
bool		trib_my_snaprow_value(yajl_gen g, const trib_my_colinfo *col,
							   trib_my_snaprow_kind kind, int bits, const char *text,
							   const char *zero_date, char *errbuf, size_t errlen);

#endif							/* TRIB_MYSQL_SNAPSHOT_ROW_H */
