/*
 * mysql_lag.h: how far the binlog reader is behind the server, for the
 * source's gauges in /metrics.
 *
 * Design.  Two measures, both of what the reader has read (not of what
 * the sinks made durable, which the pipeline's own gauges show):
 *
 *   bytes    the server's binlog after the last event read: the rest of
 *            that event's file plus every later file, from SHOW BINARY
 *            LOGS (File_size), so it is exact across rotations;
 *   seconds  now minus the timestamp of the last event read, 0 once the
 *            server sent a heartbeat (it had nothing newer), like
 *            Seconds_Behind_Master.
 *
 * The bytes come from a query, which the source runs at most every few
 * seconds (source_mysql.c); this file only computes, so unit tests drive
 * it without a server.
 */
#ifndef TRIB_MYSQL_LAG_H
#define TRIB_MYSQL_LAG_H

#include <stdbool.h>
#include <stdint.h>

#include "mysql_conn.h"

/* What the reader read last (none until the first timestamped event). */
typedef struct trib_my_lag
{
	bool		read;			/* an event was read */
	bool		caught_up;		/* a heartbeat came after it */
	char		file[512];		/* its binlog file */
	uint64_t	end;			/* the offset after it in that file */
	int64_t		ts_ms;			/* its timestamp */
} trib_my_lag;

/* Note one decoded event: `heartbeat`, or one of `file` ending at `end`
 * written at `ts` (seconds; 0 with end 0: an artificial event, ignored). */
void		trib_my_lag_note(trib_my_lag *lag, bool heartbeat, const char *file,
							 uint64_t end, uint32_t ts);

/* Seconds behind at now_ms (0 when caught up or nothing was read). */
double		trib_my_lag_seconds(const trib_my_lag *lag, int64_t now_ms);

/* Bytes of the server's binlog after what was read, from SHOW BINARY
 * LOGS' rows (Log_name, File_size); false when the file read last is not
 * among them (purged since) or nothing was read. */
bool		trib_my_lag_bytes(const trib_my_lag *lag, const trib_my_rows *logs,
							  uint64_t *out);

#endif							/* TRIB_MYSQL_LAG_H */
