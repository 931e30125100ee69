/*
 * mysql_source_conf.c: the key table of a `type: mysql` source (see
 * mysql_source_conf.h) and its finish function (reconnect_backoff_ms's
 * initial <= max; start_pos only with start_file; start_file and
 * start_gtid not both).
 *
 * Adding a key: a field in trib_mysql_source_conf and one row below; run
 * `make -C consumer doc`.
 */
#include "mysql_source_conf.h"

#include <stdio.h>
#include <stdlib.h>

#include "config_keys.h"

/* Enums are stored through int pointers. */
_Static_assert(sizeof(trib_my_snapshot_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(trib_my_snapshot_locking) == sizeof(int), "enum size");

static const char *const snapshot_words[] = {"initial", "never", "only", NULL};
static const char *const locking_words[] = {"auto", "flush", NULL};

static void finish_mysql_source(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
								const char *path, void *base, const char *name);

static const ck_key backoff_keys[] = {
	CK_BACKOFF_ROWS("100"),
	CK_END_ROW
};

static const ck_section backoff_section = {
	.doc_title = "`sources.<name>.reconnect_backoff_ms` of a mysql source",
	.keys = backoff_keys,
	.doc_intro = "After a lost binlog connection the source waits `initial` ms, then twice "
	"as long after each further failure, up to `max`, and resumes after the last change "
	"it delivered.",
};

static const ck_key mysql_source_keys[] = {
	CK_TYPE_ROW("`mysql`", "the kind of source"),
	CK_ROW(trib_mysql_source_conf, host, CK_STRING, 0, .def = "127.0.0.1",
		.desc = "host name or address of the MySQL/MariaDB server"),
	CK_ROW(trib_mysql_source_conf, port, CK_INT, 0, .def = "3306", .min = 1, .max = 65535,
		.desc = "its TCP port"),
	CK_ROW(trib_mysql_source_conf, socket, CK_STRING, 0, .doc_type = "path",
		.desc = "a Unix socket to connect through instead of host and port"),
	CK_ROW(trib_mysql_source_conf, user, CK_STRING, CK_REQUIRED,
		.desc = "account with REPLICATION SLAVE, REPLICATION CLIENT (MariaDB: BINLOG "
		"MONITOR) and SELECT (docs/MYSQL.md)"),
	CK_ROW(trib_mysql_source_conf, password, CK_STRING, CK_SECRET | CK_EMPTY_OK,
		.desc = "its password (or `password_file`); default none"),
	CK_ROW(trib_mysql_source_conf, server_id, CK_INT64, CK_REQUIRED, .min = 1,
		.max = 4294967295LL,
		.desc = "the replica id tributary reads the binlog as: unique among the server's "
		"replicas and different from the server's own"),
	CK_ROW(trib_mysql_source_conf, report_host, CK_STRING, 0, .doc_default = "`tributary`",
		.desc = "the host name SHOW SLAVE HOSTS lists for tributary"),
	CK_ROW(trib_mysql_source_conf, start_file, CK_STRING, 0,
		.desc = "without a stored position: start at this binlog file (with `start_pos`); "
		"default: the binlog's current end"),
	CK_ROW(trib_mysql_source_conf, start_pos, CK_INT64, 0, .def = "4", .min = 4,
		.max = 4294967295LL, .desc = "the offset in `start_file`"),
	CK_ROW(trib_mysql_source_conf, start_gtid, CK_STRING, 0,
		.desc = "without a stored position: start after this MariaDB GTID state "
		"(`0-1-42,1-2-7`) instead"),
	CK_ROW(trib_mysql_source_conf, zero_date, CK_STRING, 0, .doc_default = "null",
		.desc = "what a zero date (`0000-00-00`) becomes; default null"),
	CK_ROW(trib_mysql_source_conf, schema_history, CK_STRING, 0, .doc_type = "path",
		.desc = "the schema history file (docs/MYSQL.md), so that a restart after DDL "
		"decodes older events with their old shape; default: in memory only"),
	CK_ROW(trib_mysql_source_conf, heartbeat_ms, CK_INT, 0, .def = "1000", .min = 1,
		.max = 3600000, .desc = "the server's heartbeat period while the binlog is idle"),
	CK_ROW(trib_mysql_source_conf, include_query, CK_BOOL, 0, .def = "false",
		.desc = "put each change's SQL statement in the envelope's source block as "
		"`query` (Debezium's include.query; MariaDB: binlog_annotate_row_events=ON, "
		"MySQL: binlog_rows_query_log_events=ON); the text is not masked by "
		"transform rules"),
	CK_ROW(trib_mysql_source_conf, queue_mb, CK_INT, 0, .def = "4", .min = 1, .max = 65536,
		.desc = "memory of the binlog events read ahead of the pipeline, in MiB "
		"(the events with their queue headers); the reader waits once it is full"),
	CK_ROW(trib_mysql_source_conf, reconnect_backoff_ms, CK_SECTION, 0,
		.section = &backoff_section, .doc_type = "map",
		.desc = "reconnection delays: `{initial: 100, max: 30000}`"),
	CK_ROW(trib_mysql_source_conf, lock_dsn, CK_STRING, CK_SECRET,
		.check = ck_check_conninfo, .doc_type = "conninfo",
		.doc_default = "none: the lock is GET_LOCK on this server",
		.desc = "a PostgreSQL database to hold the pipeline lock (one active consumer "
		"per pipeline) instead of the MySQL server itself (docs/MYSQL.md, Pipeline lock)"),
	CK_ROW(trib_mysql_source_conf, snapshot, CK_ENUM, 0, .def = "initial",
		.words = snapshot_words,
		.doc_default = "`initial`; `never` with `start_file` or `start_gtid`",
		.desc = "`initial`: copy the tables' rows on the first start, then stream from the "
		"binlog position the copy is consistent with; `never`: stream only; `only`: copy, "
		"then stop (docs/MYSQL.md, Initial snapshot)"),
	CK_ROW(trib_mysql_source_conf, snapshot_tables, CK_STRLIST, 0, .doc_type = "list",
		.doc_default = "every base table outside the system schemas",
		.desc = "copy only these tables, each `db.table`"),
	CK_ROW(trib_mysql_source_conf, snapshot_workers, CK_INT, 0, .def = "2", .min = 1,
		.max = 64, .desc = "tables copied in parallel, each worker on its own connection"),
	CK_ROW(trib_mysql_source_conf, snapshot_chunk_rows, CK_INT, 0, .def = "10000",
		.min = 1, .max = 10000000,
		.desc = "rows per query (keyset chunk by primary key); progress is saved per chunk"),
	CK_ROW(trib_mysql_source_conf, snapshot_buffer_mb, CK_INT, 0, .def = "64", .min = 1,
		.max = 65536, .desc = "memory bound of the rows read but not yet written to the "
		"sinks, in MiB (plus one chunk per worker)"),
	CK_ROW(trib_mysql_source_conf, snapshot_locking, CK_ENUM, 0, .def = "auto",
		.words = locking_words,
		.desc = "`auto`: on MariaDB, consistent snapshots without a lock when the workers' "
		"binlog positions agree, else (and on MySQL) a brief FLUSH TABLES WITH READ LOCK; "
		"`flush`: always that lock (needs RELOAD)"),
	CK_END_ROW
};

static const ck_section mysql_source_section = {
	.doc_title = "`sources.<name>` with `type: mysql`",
	.what = "a mysql source",
	.keys = mysql_source_keys,
	.finish = finish_mysql_source,
	.doc_intro = "Captures row changes of a MySQL or MariaDB server from its binlog, read "
	"as a replica (docs/MYSQL.md): the server needs `log_bin`, `binlog_format=ROW` and "
	"`binlog_row_image=FULL`, checked at start and by `tributary check`. Positions are "
	"the binlog's (file, transaction offset, row); a restart resumes after the last "
	"durable change, even inside a large transaction. Give `checkpoint: {store: file}` "
	"or a `checkpoint.dsn`.",
};

const trib_plugin trib_source_mysql_plugin = {
	.type = "mysql",
	.source_ops = &trib_mysql_source_ops,
	.section = &mysql_source_section,
	.conf_size = sizeof(trib_mysql_source_conf),
};

/* See mysql_source_conf.h. */
TRIB_PLUGIN_CONF_ACCESSOR(trib_mysql_source_conf_of, trib_mysql_source_conf,
						  trib_source_mysql_plugin)

/* Cross-key checks. */
static void
finish_mysql_source(ck_ctx *c, const trib_yaml_node *map, const trib_yaml_node *at,
					const char *path, void *base, const char *name)
{
	trib_mysql_source_conf *m = base;

	(void) name;
	(void) ck_check_backoff(c, map, at, path, "reconnect_backoff_ms", &m->reconnect_backoff_ms);
	if (m->start_file && m->start_gtid)
		ck_key_error_in(c, map, at, path, "start_gtid", "give start_file or start_gtid, not both");
	if (trib_yaml_map_key(map, "start_pos") && !m->start_file)
		ck_key_error_in(c, map, at, path, "start_pos", "is only used with start_file");
	/* a start position says where to stream from; a snapshot's position
	 * would replace it */
	if ((m->start_file || m->start_gtid) && !trib_yaml_map_key(map, "snapshot"))
		m->snapshot = TRIB_MY_SNAPSHOT_NEVER;
	else if ((m->start_file || m->start_gtid) && m->snapshot == TRIB_MY_SNAPSHOT_INITIAL)
		ck_key_error_in(c, map, at, path, "snapshot", "initial streams from the snapshot's "
						"own position: leave out start_file and start_gtid, or use snapshot: "
						"never");
}
