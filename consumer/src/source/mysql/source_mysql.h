/*
 * source_mysql.h: the MySQL/MariaDB binlog source's facade, what the
 * adapter onto core's source interface (mysql_source_ops.c) drives.  This
 * folder, source/mysql/, holds the whole source:
 *
 *   mysql_source_conf.c  `type: mysql` settings, key table, registration
 *   mysql_source_ops.c   the adapter behind core's source.h: items,
 *                      positions in trib_position, resume, check
 *   source_mysql.c     this facade: start, poll, reconnect
 *   mysql_reader.c     the binlog dump (Connector/C, own thread, queue)
 *   binlog_*.c         the decoder: event bytes to row images (no I/O;
 *                      mysql_binlog.h, driven by tests and the fuzzer)
 *   mysql_tx.c         the transaction assembler: items with positions
 *   mysql_position.c   GTIDs, file:pos, row, event ids, order
 *   mysql_lag.c        how far the reader is behind (bytes, seconds)
 *   mysql_lag_probe.c  the binlog sizes for it, asked on a thread
 *   mysql_schema.c     the schema-source interface and schema history
 *   mysql_history_file.c  the schema history's durable file
 *   mysql_infoschema.c information_schema as the history's loader
 *   mysql_charset.c    collation ids, text to UTF-8 (iconv)
 *   mysql_check.c      preconditions (binlog_format, privileges, ...)
 *   mysql_conn.c       connections and bound queries
 * It includes core/ and lib/ headers (and config/ for its settings);
 * nothing outside includes its headers but the registry (cli/registry.c
 * names trib_source_mysql_plugin), its tests and tools.
 *
 * How the adapter maps the source interface onto it:
 *
 *   open      trib_source_mysql_new() from the `type: mysql` settings
 *   start     trib_source_mysql_start(resume): checks the preconditions
 *             (mysql_check.h: failures refuse, warnings are logged), then
 *             reads after the durable position (the adapter finds its
 *             binlog file by number: trib_source_mysql_binlog_name(), or
 *             leaves that to the start with
 *             trib_source_mysql_resume_file_number() when the server does
 *             not answer), or NULL to start where the configuration says
 *             (a file:pos, a GTID state, or the binlog's current end).  A
 *             server that cannot be reached, or is lost during those
 *             steps, defers them to the reconnect schedule instead of
 *             failing (source_mysql.c)
 *   poll      trib_source_mysql_poll(): TRIB_MY_ITEM_BEGIN, _EVENT, _END
 *             are the interface's tx-begin, event and tx-end; _DDL is
 *             logged (for the schema registry stage)
 *   compare   (commit_lsn, seq) = (file number << 32 | transaction
 *             offset, row), as trib_my_pos_cmp() orders native positions;
 *             whole transactions have seq TRIB_MY_ROW_ALL (= TRIB_SEQ_ALL)
 *   confirm   nothing to tell the server: a binlog reader keeps no
 *             server-side state (unlike a replication slot); the
 *             checkpoint alone says where to resume, and the server keeps
 *             binlogs by its own expiry
 *   check     trib_my_check() (mysql_check.h)
 *   close     trib_source_mysql_free()
 *
 * A lost connection (server restart, network), the binlog's or that of a
 * query decoding needs (a table's shape from information_schema: each
 * query's error number says), is retried with capped
 * exponential backoff, resuming after the last item poll() delivered, so
 * the caller sees nothing twice and misses nothing; errors retrying cannot
 * fix (access denied, purged binlog, undecodable event) end polling with
 * -1 and a message.  Single-threaded from the caller's side (the reader
 * thread is internal).
 */
#ifndef TRIB_SOURCE_MYSQL_H
#define TRIB_SOURCE_MYSQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mysql_binlog.h"
#include "mysql_conn.h"
#include "mysql_position.h"
#include "mysql_schema.h"
#include "mysql_tx.h"

typedef struct trib_source_mysql_conf
{
	trib_my_conn_conf conn;
	const char *source_name;	/* trib_event.source */
	uint32_t	server_id;		/* our replica id, unique among replicas */
	const char *report_host;	/* SHOW SLAVE HOSTS name; default "tributary" */
	/* Where to start without a resume position: start_file:start_pos, or
	 * after start_gtid (MariaDB "0-1-42,1-2-7"); neither: the binlog's
	 * current end (SHOW MASTER STATUS). */
	const char *start_file;
	uint64_t	start_pos;
	const char *start_gtid;
	const char *zero_date;		/* NULL: zero dates are null */
	/* The schema history's file (mysql_history_file.h), kept next to the
	 * checkpoint; NULL: in memory only, so a restart after a DDL cannot
	 * decode older events without binlog_row_metadata=FULL. */
	const char *schema_history;
	int			heartbeat_ms;	/* default 1000 */
	bool		include_query;	/* the source block's "query" (mysql_tx.h) */
	bool		stop_at_end;	/* end polling at the end of the binlog */
	size_t		queue_bytes;	/* reader queue; default 4 MiB */
	int			reconnect_min_ms;	/* default 100 */
	int			reconnect_max_ms;	/* default 30000 */
	/* level 0 error, 1 warning, 2 info, 3 debug; NULL: silent */
	void		(*log) (int level, const char *msg, void *arg);
	void	   *log_arg;
} trib_source_mysql_conf;

typedef struct trib_source_mysql trib_source_mysql;

/* Counters for logs and /metrics. */
typedef struct trib_source_mysql_stats
{
	uint64_t	binlog_events;	/* raw events decoded */
	uint64_t	heartbeats;
	uint64_t	items;			/* delivered */
	uint64_t	reconnects;
	uint64_t	schema_versions;
} trib_source_mysql_stats;

/* Validate and copy conf; connects nothing.  NULL and errbuf on error. */
trib_source_mysql *trib_source_mysql_new(const trib_source_mysql_conf *conf,
										 char *errbuf, size_t errlen);

/* Before start: the shape db.table had from `from` on, as the snapshot
 * described it (trib_my_history_record; taken over). */
bool		trib_source_mysql_add_shape(trib_source_mysql *src, const trib_my_pos *from,
										trib_my_tableinfo *t, char *errbuf, size_t errlen);

/* Start reading after `resume` (NULL: the configured start). */
bool		trib_source_mysql_start(trib_source_mysql *src, const trib_my_pos *resume,
									char *errbuf, size_t errlen);

/*
 * Wait up to timeout_ms for items; put at most `max` in out[] (the caller
 * clears each with trib_my_item_clear()).  Returns the number delivered
 * (0 on timeout and while reconnecting), or -1 on a fatal error.
 */
int			trib_source_mysql_poll(trib_source_mysql *src, trib_my_item *out, int max,
								   int timeout_ms, char *errbuf, size_t errlen);

/* The name of the binlog file numbered `number` on the server (SHOW
 * BINARY LOGS), for a position that kept only the number; false with
 * errbuf when the server does not have it (purged). */
/* Before start: the resume position's binlog file is known by number
 * only (its `file` is empty); the start names it (SHOW BINARY LOGS) once
 * the server answers. */
void		trib_source_mysql_resume_file_number(trib_source_mysql *src, uint32_t number);

bool		trib_source_mysql_binlog_name(const trib_source_mysql *src, uint32_t number,
										  char *buf, size_t len, char *errbuf, size_t errlen);

/* The versions of the schema history that start exactly at `at` (a DDL
 * item's position): trib_my_history_each_at(). */
bool		trib_source_mysql_each_at(const trib_source_mysql *src, const trib_my_pos *at,
									  trib_my_history_each_fn fn, void *arg);

/* With stop_at_end: has the end of the binlog been reached? */
bool		trib_source_mysql_ended(const trib_source_mysql *src);

void		trib_source_mysql_stats_get(const trib_source_mysql *src,
										trib_source_mysql_stats *out);

/* How far the reader is behind the server (mysql_lag.h): seconds (the
 * last event read; 0 once caught up), and bytes of binlog after it, from
 * SHOW BINARY LOGS, which a thread asks (mysql_lag_probe.h: this call
 * never waits for the server): 1 and *out, 0 when there is no answer yet
 * (the question is asked; not connected, nothing read), -1 with errbuf
 * (the server unreachable, the file read last purged). */
double		trib_source_mysql_seconds_behind(const trib_source_mysql *src);
int			trib_source_mysql_bytes_behind(trib_source_mysql *src, uint64_t *out,
										   char *errbuf, size_t errlen);

/* Stop reading and free everything (events already delivered keep
 * pointing at shapes: free them first). */
void		trib_source_mysql_free(trib_source_mysql *src);

#endif							/* TRIB_SOURCE_MYSQL_H */
