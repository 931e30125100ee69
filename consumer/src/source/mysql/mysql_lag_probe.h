/*
 * mysql_lag_probe.h: the server's binlog file sizes (SHOW BINARY LOGS),
 * asked on a thread of the probe's own, for the binlog lag in bytes
 * (mysql_lag.h).
 *
 * Design.  The lag gauge is refreshed from the pipeline's loop, which
 * serves every source of the pipeline.  Asked there, the query held the
 * loop whenever the server stalled: a connection to a stopped (SIGSTOP)
 * or overloaded server waits for its connect timeout, 10 s, and the
 * other sources' changes waited with it (e2e 99).  So the loop only asks
 * (trib_my_lag_probe_ask, never blocks) and later takes the answer
 * (trib_my_lag_probe_take, never blocks); one thread connects, runs the
 * query with short timeouts and keeps the last answer.  One question is
 * in flight at a time.  The answer can be a moment older than the reader's
 * position: the lag is then a little low (never below 0), and the next
 * answer corrects it.
 */
#ifndef TRIB_MYSQL_LAG_PROBE_H
#define TRIB_MYSQL_LAG_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "mysql_conn.h"

typedef struct trib_my_lag_probe trib_my_lag_probe;

/* A probe of the server `conf` names (its strings are borrowed: they
 * outlive the probe), its thread started; NULL with errbuf. */
trib_my_lag_probe *trib_my_lag_probe_new(const trib_my_conn_conf *conf,
										 char *errbuf, size_t errlen);

/* Stop the thread (waiting for a question in flight, at most its
 * timeouts) and free everything. */
void		trib_my_lag_probe_free(trib_my_lag_probe *p);

/* Ask the server for its binlog files, unless a question is in flight or
 * an answer waits to be taken. */
void		trib_my_lag_probe_ask(trib_my_lag_probe *p);

/* The answer to the last question: 1 and *out (the caller frees it with
 * trib_my_rows_free), -1 and errbuf when it failed, 0 when none is ready. */
int			trib_my_lag_probe_take(trib_my_lag_probe *p, trib_my_rows *out,
								   char *errbuf, size_t errlen);

#endif							/* TRIB_MYSQL_LAG_PROBE_H */
