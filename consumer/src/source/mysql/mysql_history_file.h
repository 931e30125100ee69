/*
 * mysql_history_file.h: the schema history made durable in an append-only
 * file, the way Debezium keeps its schema-history topic, until the schema
 * registry takes its place behind the same store interface
 * (trib_my_history_store, mysql_schema.h).
 *
 * Design.  One JSON object a line, appended and fdatasync'ed before the
 * history uses what it records:
 *
 *   {"ddl":"0-1-7/mariadb-bin.000001:1234"}
 *   {"version":{"db":"d1","table":"t","from":null,"exists":true,
 *     "cols":[{"name":"id","type":"int","unsigned":false,"json":false,
 *              "generated":false,"pk":1,"nullable":false,"collation":0,
 *              "values":[]}, ...]}}
 *
 * Positions are event ids (mysql_position.h); "from":null is "from the
 * start".  Opening replays every record into the history, so the versions
 * a previous run loaded (and where its DDLs were) come back: events read
 * again after a restart decode with the shape they were written with.  A
 * last line without its newline is a record a crash cut short; it is cut
 * off (and logged by the caller through the returned count).  Any other
 * line that does not parse is an error naming the file and line.
 */
#ifndef TRIB_MYSQL_HISTORY_FILE_H
#define TRIB_MYSQL_HISTORY_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "mysql_schema.h"

/*
 * Replay the file at path (created 0600 when missing) into h, then make it
 * h's store.  *replayed (may be NULL) gets the number of records read.
 * False with errbuf naming path (and line) on error; h is then unchanged
 * but for records replayed before the bad line.
 */
bool		trib_my_history_file_open(trib_my_history *h, const char *path,
									  size_t *replayed, char *errbuf, size_t errlen);

#endif							/* TRIB_MYSQL_HISTORY_FILE_H */
