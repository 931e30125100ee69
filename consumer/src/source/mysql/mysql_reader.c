/*
 * mysql_reader.c: the binlog dump thread and its queue (mysql_reader.h).
 *
 * The queue is a bounded hand-off queue (lib/handoff.h) of malloc'd
 * events, and the end of the stream after them (its error number and
 * message).  An entry weighs its header and its event against the bound
 * (queue_bytes, 4 MiB by default).  The bound is what the reader reads
 * ahead of the loop, and the loop is the slower side, so the queue is
 * full soon after any transaction of more than a few MiB of binlog: a
 * small bound keeps the daemon's memory the same for a transaction of a
 * million rows and of ten million (a 64 MiB bound, which a 1,000,000-row
 * transaction's 32 MB never filled, did not), and a few MiB still hide
 * the network's stalls from the decoder.  The thread owns the MYSQL and MARIADB_RPL handles; the only
 * thing another thread does to them is shutdown(2) on the socket, to wake
 * a blocked read when stopping: the socket and the stop flag it is
 * checked against are under a mutex of their own (sock_mu), so a stop
 * never shuts down a socket already closed.
 */
#include "mysql_reader.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <errmsg.h>
#include <mariadb_rpl.h>

#include "clock.h"
#include "handoff.h"
#include "mysql_int.h"
#include "strbuf.h"

typedef struct qent
{
	trib_handoff_item item;		/* first: the queue's link; bytes is what
								 * the entry weighs (header and event) */
	size_t		len;			/* the event's length */
	uint8_t		data[];
} qent;

struct trib_my_reader
{
	trib_my_reader_conf conf;
	char	   *strings[7];		/* copies conf points into */

	pthread_t	thread;
	trib_handoff *q;			/* the events; the end's code is the errnum */
	pthread_mutex_t sock_mu;	/* guards sock and stopping */
	bool		stopping;		/* asked to stop */
	int			sock;			/* -1 until connected */
	qent	   *current;		/* handed to the caller */
};

/* The queue's free function. */
static void
qent_free(trib_handoff_item *e)
{
	free(e);
}

/* End the stream with an error (or errnum 0: the end of the binlog). */
static void
finish(trib_my_reader *r, unsigned errnum, const char *msg)
{
	trib_handoff_finish(r->q, (int) errnum, msg);
}

/* Queue a copy of one event; waits while the queue is full; false once
 * asked to stop. */
static bool
push(trib_my_reader *r, const uint8_t *data, size_t len)
{
	qent	   *e = trib_xmalloc(sizeof(qent) + len);

	e->item.bytes = sizeof(qent) + len;
	e->len = len;
	memcpy(e->data, data, len);
	return trib_handoff_push(r->q, &e->item);
}

/* The connected socket, or -1: a stop from now on shuts it down, and one
 * asked for already does so now. */
static void
set_sock(trib_my_reader *r, int sock)
{
	pthread_mutex_lock(&r->sock_mu);
	r->sock = sock;
	if (r->stopping && sock >= 0)
		shutdown(sock, SHUT_RDWR);
	pthread_mutex_unlock(&r->sock_mu);
}

/* Session settings a replica sends before the dump. */
static bool
prepare_session(trib_my_reader *r, MYSQL *m, char *errbuf, size_t errlen)
{
	char		sql[128];
	uint64_t	ns = (uint64_t) (r->conf.heartbeat_ms > 0 ? r->conf.heartbeat_ms : 1000) * 1000000;
	bool		mariadb = strstr(mysql_get_server_info(m), "MariaDB") != NULL;

	if (!trib_my_exec(m, "SET @master_binlog_checksum = @@global.binlog_checksum", errbuf, errlen) ||
		!trib_my_exec(m, "SET @source_binlog_checksum = @@global.binlog_checksum", errbuf, errlen))
		return false;
	snprintf(sql, sizeof(sql), "SET @master_heartbeat_period = %" PRIu64, ns);
	if (!trib_my_exec(m, sql, errbuf, errlen))
		return false;
	if (mariadb && !trib_my_exec(m, "SET @mariadb_slave_capability = 4", errbuf, errlen))
		return false;
	if (r->conf.gtid_state)
	{
		trib_my_rows none;
		const char *p[1] = {r->conf.gtid_state};

		if (!mariadb)
			return trib_my_fail(errbuf, errlen,
								"starting from a GTID is supported on MariaDB only; "
								"give a file and position for MySQL");
		if (!trib_my_select(m, "SET @slave_connect_state = ?", p, 1, &none, errbuf, errlen) ||
			!trib_my_exec(m, "SET @slave_gtid_strict_mode = 0", errbuf, errlen) ||
			!trib_my_exec(m, "SET @slave_gtid_ignore_duplicates = 0", errbuf, errlen))
			return false;
		trib_my_rows_free(&none);
	}
	return true;
}

/* Open the dump on m; the replication handle in *out. */
static bool
open_dump(trib_my_reader *r, MYSQL *m, MARIADB_RPL **out, char *errbuf, size_t errlen)
{
	MARIADB_RPL *rpl = mariadb_rpl_init(m);
	const char *file = r->conf.gtid_state ? "" : r->conf.file;
	unsigned long start = r->conf.gtid_state ? 4 : (unsigned long) r->conf.pos;

	*out = rpl;
	if (rpl == NULL)
		return trib_my_fail(errbuf, errlen, "mariadb_rpl_init: %s", mysql_error(m));
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, (unsigned int) r->conf.server_id);
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, file, strlen(file));
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, start);
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS,
						 (unsigned int) ((r->conf.stop_at_end ? MARIADB_RPL_BINLOG_DUMP_NON_BLOCK : 0) |
										 (r->conf.annotate ? MARIADB_RPL_BINLOG_SEND_ANNOTATE_ROWS : 0)));
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_VERIFY_CHECKSUM, (uint32_t) 1);
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_HOST, r->conf.report_host);
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_PORT, (unsigned int) 0);
	if (mariadb_rpl_open(rpl) != 0)
		return trib_my_fail(errbuf, errlen, "starting the binlog dump at %s:%lu: %s (error %u)",
							file[0] ? file : "(GTID)", start, mysql_error(m), mysql_errno(m));
	return true;
}

/* The message for a failed fetch, with the recovery for a purged binlog. */
static void
fetch_error(trib_my_reader *r, MYSQL *m, char *errbuf, size_t errlen)
{
	unsigned	n = mysql_errno(m);

	if (n == 1236)
		trib_my_fail(errbuf, errlen,
					 "the server cannot send the binlog from %s:%" PRIu64 "%s%s: %s (error 1236); "
					 "if it was purged (expire_logs_days, binlog_expire_logs_seconds, PURGE BINARY LOGS), "
					 "the checkpoint cannot be resumed: take a new snapshot (docs/MYSQL.md)",
					 r->conf.file ? r->conf.file : "", r->conf.pos,
					 r->conf.gtid_state ? " / GTID " : "",
					 r->conf.gtid_state ? r->conf.gtid_state : "", mysql_error(m));
	else
		trib_my_fail(errbuf, errlen, "reading the binlog: %s (error %u)", mysql_error(m), n);
}

/* The thread: connect, dump, copy events into the queue. */
static void *
run(void *arg)
{
	trib_my_reader *r = arg;
	char		err[512] = "";
	unsigned	errnum = 0;
	MYSQL	   *m;
	MARIADB_RPL *rpl = NULL;
	MARIADB_RPL_EVENT *ev = NULL;

	mysql_thread_init();
	m = trib_my_connect(&r->conf.conn, &errnum, err, sizeof(err));
	if (m == NULL)
	{
		finish(r, errnum ? errnum : 2002, err);
		mysql_thread_end();
		return NULL;
	}
	set_sock(r, (int) mysql_get_socket(m));
	if (!prepare_session(r, m, err, sizeof(err)) || !open_dump(r, m, &rpl, err, sizeof(err)))
		finish(r, mysql_errno(m) ? mysql_errno(m) : 1, err);
	else
	{
		while ((ev = mariadb_rpl_fetch(rpl, ev)) != NULL)
		{
			if (!push(r, ev->raw_data + ev->raw_data_ofs,
					  ev->raw_data_size - ev->raw_data_ofs))
				break;
		}
		if (mysql_errno(m) != 0)
			fetch_error(r, m, err, sizeof(err));
		if (mysql_errno(m) != 0)
			finish(r, mysql_errno(m), err);
		else if (r->conf.stop_at_end)
			finish(r, 0, "end of the binlog");
		else
			/* an EOF packet without stop_at_end: the server is going away */
			finish(r, CR_SERVER_LOST, "the server ended the binlog dump (shutting down?)");
	}
	if (ev)
		mariadb_free_rpl_event(ev);
	set_sock(r, -1);
	if (rpl)
		mariadb_rpl_close(rpl);
	mysql_close(m);
	mysql_thread_end();
	return NULL;
}

trib_my_reader *
trib_my_reader_start(const trib_my_reader_conf *conf, char *errbuf, size_t errlen)
{
	trib_my_reader *r;

	if (conf->server_id == 0)
		return trib_my_fail(errbuf, errlen, "server_id: must be 1 to 4294967295 and unique among the server's replicas"), NULL;
	if (conf->gtid_state == NULL && (conf->file == NULL || conf->file[0] == '\0'))
		return trib_my_fail(errbuf, errlen, "a start position (file and pos) or a GTID state is needed"), NULL;
	mysql_library_init(0, NULL, NULL);
	r = trib_xcalloc(1, sizeof(*r));
	r->conf = *conf;
	trib_my_conn_keep(&r->conf.conn, &conf->conn, r->strings);
	r->conf.file = trib_my_keep(r->strings, 4, conf->file);
	r->conf.gtid_state = trib_my_keep(r->strings, 5, conf->gtid_state);
	r->conf.report_host = trib_my_keep(r->strings, 6, conf->report_host ? conf->report_host : "tributary");
	r->conf.conn.read_timeout_s = 0;
	if (r->conf.pos < 4)
		r->conf.pos = 4;
	if (r->conf.queue_bytes == 0)
		r->conf.queue_bytes = 4u << 20;
	r->sock = -1;
	pthread_mutex_init(&r->sock_mu, NULL);
	r->q = trib_handoff_new(r->conf.queue_bytes, qent_free, NULL);
	if (pthread_create(&r->thread, NULL, run, r) != 0)
	{
		trib_my_fail(errbuf, errlen, "starting the binlog reader thread: %s", strerror(errno));
		pthread_mutex_destroy(&r->sock_mu);
		trib_handoff_free(r->q);
		trib_my_strings_free(r->strings, 7);
		free(r);
		return NULL;
	}
	return r;
}

int
trib_my_reader_next(trib_my_reader *r, const uint8_t **buf, size_t *len,
					int timeout_ms, unsigned *errnum, char *errbuf, size_t errlen)
{
	struct timespec until = trib_clock_deadline(timeout_ms > 0 ? timeout_ms : 0);
	trib_handoff_item *item = NULL;
	int			code = 0;
	int			rc;

	free(r->current);
	r->current = NULL;
	rc = trib_handoff_pop(r->q, &until, &item, &code, errbuf, errlen);
	*errnum = rc < 0 ? (unsigned) code : 0;
	if (rc > 0)
	{
		r->current = (qent *) item;
		*buf = r->current->data;
		*len = r->current->len;
	}
	return rc;
}

void
trib_my_reader_free(trib_my_reader *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->sock_mu);
	r->stopping = true;
	if (r->sock >= 0)
		shutdown(r->sock, SHUT_RDWR);
	pthread_mutex_unlock(&r->sock_mu);
	trib_handoff_stop(r->q);
	pthread_join(r->thread, NULL);
	trib_handoff_free(r->q);
	free(r->current);
	pthread_mutex_destroy(&r->sock_mu);
	trib_my_strings_free(r->strings, 7);
	free(r);
}
