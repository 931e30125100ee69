/*
 * mysql_reader.h: the binlog dump: a replica connection made with
 * Connector/C's replication API (mariadb_rpl.h), read by its own thread
 * into a bounded queue of raw events.
 *
 * Design.  mariadb_rpl_fetch() blocks until the server sends an event, and
 * connecting blocks up to its timeout; the pipeline must not, because one
 * daemon runs several sources and a stalled MySQL server may not hold the
 * others up (issue 13).  So one thread per reader connects, registers as
 * a replica (COM_REGISTER_SLAVE with our server_id), starts the dump and
 * copies every event it fetches into a queue bounded in bytes; the
 * pipeline's thread takes events with a timeout and decodes them itself.
 * When the queue is full the thread waits, and the server's send buffer
 * and TCP push back: memory stays bounded however far behind we are.
 *
 * Start.  From file:pos (COM_BINLOG_DUMP; both servers), or from a MariaDB
 * GTID state (@slave_connect_state, then the dump with an empty file name:
 * the server finds the file itself).  Before the dump the session asks for
 * CRC32 checksums (@master_binlog_checksum; Connector/C verifies them),
 * MariaDB's GTID events (@mariadb_slave_capability=4) and heartbeats every
 * heartbeat_ms while the binlog is idle (@master_heartbeat_period), so a
 * dead connection is noticed and positions keep moving.
 *
 * Errors.  A failure ends the stream: next() returns -1 with the server's
 * message and number; trib_my_error_retryable() (mysql_conn.h) says
 * whether a new reader may help.  Error 1236 (the server cannot read the
 * requested binlog, usually because it was purged) gets a message that
 * names the file and the recovery (docs/MYSQL.md).
 *
 * Stopping.  trib_my_reader_free() shuts the socket down, which wakes a
 * fetch blocked in read(2), and joins the thread.
 */
#ifndef TRIB_MYSQL_READER_H
#define TRIB_MYSQL_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mysql_conn.h"

typedef struct trib_my_reader_conf
{
	trib_my_conn_conf conn;
	uint32_t	server_id;		/* our replica id: unique among replicas */
	const char *report_host;	/* name in SHOW SLAVE HOSTS; default "tributary" */
	const char *file;			/* start at file:pos ... */
	uint64_t	pos;
	const char *gtid_state;		/* ... or after this MariaDB GTID state */
	int			heartbeat_ms;	/* default 1000 */
	bool		stop_at_end;	/* the server ends the dump at the end of the
								 * binlog (tools and tests) */
	bool		annotate;		/* MariaDB: send ANNOTATE_ROWS events */
	size_t		queue_bytes;	/* default 4 MiB */
} trib_my_reader_conf;

typedef struct trib_my_reader trib_my_reader;

/* Start the thread (it connects); conf is copied.  NULL and errbuf only
 * when conf is invalid. */
trib_my_reader *trib_my_reader_start(const trib_my_reader_conf *conf,
									 char *errbuf, size_t errlen);

/*
 * The next event (header, body, checksum): 1 with *buf and *len, valid until
 * the next call or free; 0 when none came within timeout_ms; -1 when the
 * stream ended: *errnum 0 is the end of the binlog (stop_at_end), else
 * the error, with errbuf.
 */
int			trib_my_reader_next(trib_my_reader *r, const uint8_t **buf, size_t *len,
								int timeout_ms, unsigned *errnum,
								char *errbuf, size_t errlen);

/* Stop the thread, close the connection, free everything. */
void		trib_my_reader_free(trib_my_reader *r);

#endif							/* TRIB_MYSQL_READER_H */
