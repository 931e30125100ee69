/*
 * source_pg_stream.c: the CopyBoth stream once started: the XLogData and
 * keepalive messages that source_pg_reader.c reads off the socket (on the
 * loop while the stream is light, on its thread while it is heavy),
 * the records they carry through the parser, the assembler and pgprep, the
 * standby status updates ('r', sent holding the connection against the
 * reader), when heartbeats are due (sent by source_pg_heartbeat.c, never
 * blocking), and the caller's confirmations.
 *
 * trib_source_pg_poll() never blocks longer than the caller's timeout, nor
 * than the next status update or heartbeat that falls due.  Per message it
 * calls read_messages(), handle_copydata(), handle_xlogdata() and
 * drain_assembler(), all static in this file: this is every PostgreSQL
 * event's path from the socket to the caller.  A lost link (no message
 * for RECV_TIMEOUT_MS, or an error) goes to source_pg_conn.c's
 * spg_disconnect() and retry; the reconnection is made in steps that
 * never block (source_pg_reconnect.c).
 */
#include "source_pg.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "clock.h"
#include "errf.h"
#include "lsn.h"
#include "source_pg_int.h"

/* Big-endian 64-bit integers of the replication protocol: one load or
 * store and a byte swap (a loop of eight shifts cost about 50 instructions
 * per message, two messages per W2 transaction). */
static void
put_u64(char *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, sizeof(v));
}

static uint64_t
get_u64(const char *p)
{
	uint64_t	v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

/* Send one CopyData message and flush it, holding the connection against
 * the reader thread while streaming; false with the connection's error. */
static bool
send_locked(trib_source_pg *src, const char *buf, int len, char *eb, size_t eblen)
{
	bool		ok;

	if (src->reader)
		spg_reader_lock(src->reader);
	ok = PQputCopyData(src->conn, buf, len) > 0 && PQflush(src->conn) == 0;
	if (!ok)
		spg_conn_error(src->conn, eb, eblen);
	if (src->reader)
		spg_reader_unlock(src->reader);
	return ok;
}

/* Send a standby status update. */
bool
spg_send_status(trib_source_pg *src, bool reply_requested, char *errbuf, size_t errlen)
{
	char		buf[1 + 8 * 4 + 1];
	uint64_t	flush = src->confirmed;
	uint64_t	write = src->received > flush ? src->received : flush;
	char		eb[512];

	if (!src->streaming)
		return true;
	buf[0] = 'r';
	put_u64(buf + 1, write);
	put_u64(buf + 9, flush);
	put_u64(buf + 17, 0);		/* apply: not tracked, like pg_recvlogical */
	put_u64(buf + 25, (uint64_t) (trib_clock_wall_us() - PG_EPOCH_OFFSET_US));
	buf[33] = reply_requested ? 1 : 0;
	if (!send_locked(src, buf, sizeof(buf), eb, sizeof(eb)))
		return trib_errf(errbuf, errlen, "could not send status update: %s", eb);
	if (src->log_timeline && flush != src->reported)
	{
		char		l[TRIB_LSN_BUFLEN];

		trib_lsn_format(flush, l, sizeof(l));
		spg_slog(src, 3, "status update: flush %s", l);
	}
	src->reported = flush;
	src->stats.confirmed_lsn = flush;
	src->stats.status_updates++;
	src->last_status_ms = trib_clock_mono_ms();
	src->reply_due = false;
	return true;
}

/* ---------------------------------------------------------------------- */
/* streaming */

/* Move what the assembler made final into pgprep. */
static bool
drain_assembler(trib_source_pg *src, char *errbuf, size_t errlen)
{
	trib_pgrec *r;
	char		eb[512];

	while ((r = trib_pgasm_pop(src->asm_)))
		if (!trib_pgprep_push(src->prep, r, eb, sizeof(eb)))
			return trib_errf(errbuf, errlen, "%s", eb);
	return true;
}

/* Parse the records of one XLogData payload. */
static bool
handle_xlogdata(trib_source_pg *src, const char *data, size_t len,
				char *errbuf, size_t errlen)
{
	size_t		off = 0;

	while (off < len)
	{
		size_t		next;
		size_t		n = trib_pgrec_next_line(data + off, len - off, &next);
		trib_pgrec *rec;
		char		eb[512];

		if (n > 0)
		{
			if (src->irel < src->nrel)	/* trib_source_pg_release_later */
				trib_pgrec_release(src->parser, src->rel[src->irel++]);
			if (!trib_pgrec_parser_parse(src->parser, data + off, n, &rec, eb, sizeof(eb)))
				return trib_errf(errbuf, errlen, "%s", eb);
			if (src->stats.records++ == 0 && src->log_timeline)
				spg_slog(src, 3, "first record received");
			if (!trib_pgasm_push(src->asm_, rec, eb, sizeof(eb)))
				return trib_errf(errbuf, errlen, "%s", eb);
		}
		off += next;
	}
	return drain_assembler(src, errbuf, errlen);
}

/* Handle one CopyData message; false on a protocol or record error. */
static bool
handle_copydata(trib_source_pg *src, const char *buf, int len,
				char *errbuf, size_t errlen)
{
	uint64_t	walend;

	if (len >= 25 && buf[0] == 'w')
	{
		walend = get_u64(buf + 9);
		if (walend > src->received)
			src->received = walend;
		src->stats.received_lsn = src->received;
		src->stats.messages++;
		return handle_xlogdata(src, buf + 25, (size_t) len - 25, errbuf, errlen);
	}
	if (len >= 18 && buf[0] == 'k')
	{
		walend = get_u64(buf + 1);
		if (walend > src->received)
			src->received = walend;
		src->stats.keepalives++;
		if (buf[17])
			src->reply_due = true;
		return true;
	}
	return trib_errf(errbuf, errlen, "source: unexpected replication message '%c' of %d bytes",
					 len > 0 ? buf[0] : '?', len);
}

/* Take up to max records from pgprep; -1 when a spill file fails. */
static int
take_pending(trib_source_pg *src, trib_pgrec **out, int max,
			 char *errbuf, size_t errlen)
{
	int			n = 0;
	char		eb[512];

	while (n < max)
	{
		int			rc = trib_pgprep_pop(src->prep, &out[n], eb, sizeof(eb));

		if (rc < 0)
		{
			while (n > 0)
				trib_pgrec_free(out[--n]);
			trib_errf(errbuf, errlen, "%s", eb);
			return -1;
		}
		if (rc == 0)
			break;
		if (out[n]->ev)
			src->stats.events++;
		n++;
	}
	return n;
}

/* The connection broke: log, drop it, schedule a reconnection. */
static void
lost(trib_source_pg *src, const char *why)
{
	spg_slog(src, 1, "replication connection lost: %s", why);
	spg_disconnect(src);
	spg_schedule_retry(src, false);
}

/* The server ended the copy (often with an error): take its result on
 * the connection, the reader gone; false when that is fatal. */
static bool
copy_ended(trib_source_pg *src, char *errbuf, size_t errlen)
{
	PGresult   *res;
	bool		busy = false;
	spg_attempt_rc rc;
	char		eb[512];

	spg_reader_free(src->reader);
	src->reader = NULL;
	res = PQgetResult(src->conn);
	rc = spg_result_failure(src, res, "replication stream", &busy, eb, sizeof(eb));
	PQclear(res);
	if (rc < 0)
	{
		trib_errf(errbuf, errlen, "%s", eb);
		spg_disconnect(src);
		return false;
	}
	lost(src, eb);
	return true;
}

/*
 * Once a transaction is complete, how much more read_messages() takes from
 * what is already in hand (libpq's buffer, the reader thread's queue)
 * before it returns: BATCH_RECORDS records (at most the caller's `max`) or
 * BATCH_BYTES of messages, whichever comes first.  It never waits for
 * more: a transaction is held back only while the loop parses the few
 * that arrived with it.  Returning at the first complete transaction made
 * the pipeline's loop turn twice per single-row transaction in W2, each
 * turn paying the sinks' poll and the checkpoint bookkeeping.  A larger
 * batch saves no more turns' worth than it costs: with up to 512 records
 * in flight at once, malloc's per-thread cache overflows and the records
 * cost about 700 instructions more per transaction (docs/BENCHMARKS.md,
 * W2).
 */
#define BATCH_RECORDS 16
#define BATCH_BYTES ((size_t) 256 << 10)

/* Has the batch read since a transaction became complete reached its
 * bound?  `since` is the records count and `bytes` the bytes read since. */
static bool
batch_full(const trib_source_pg *src, uint64_t since, size_t bytes, int max)
{
	uint64_t	limit = (uint64_t) (max < BATCH_RECORDS ? max : BATCH_RECORDS);

	return src->stats.records - since >= limit || bytes >= BATCH_BYTES;
}

/* Take what the reader has read, and once a transaction is complete what
 * else is in hand up to the batch's bound (batch_full); false on a fatal
 * record error. */
static bool
read_messages(trib_source_pg *src, int max, bool *got, char *errbuf, size_t errlen)
{
	char		eb[512];
	bool		batching = false;
	uint64_t	since = 0;
	size_t		bytes = 0;

	*got = false;
	while (src->streaming)
	{
		const char *buf = NULL;
		int			len = 0;
		int			code = 0;
		int			r = spg_reader_next(src->reader, 0, &buf, &len, &code, eb, sizeof(eb));

		if (r > 0)
		{
			if (!handle_copydata(src, buf, len, errbuf, errlen))
				return false;
			*got = true;
			if (batching)
				bytes += (size_t) len;
			else if (trib_pgprep_ready(src->prep))
			{
				batching = true;	/* deliverable: only what is in hand now */
				since = src->stats.records;
			}
			if (batching && batch_full(src, since, bytes, max))
				return true;
			continue;
		}
		if (r == 0)
			return true;
		if (code == SPG_READ_END)
			return copy_ended(src, errbuf, errlen);
		lost(src, eb);
		return true;
	}
	return true;
}

/*
 * Read what has arrived (read_messages), and note when something did:
 * once per batch, not per message (a clock read costs about 60 ns on a
 * VM, 1.5% of the consumer's CPU in W1 when done per row).  *now becomes
 * that moment; it is left as it was when nothing came (reading does not
 * wait).
 */
static bool
read_available(trib_source_pg *src, int max, bool *got, int64_t *now,
			   char *errbuf, size_t errlen)
{
	bool		ok = read_messages(src, max, got, errbuf, errlen);

	if (*got)
		src->last_recv_ms = *now = trib_clock_mono_ms();
	return ok;
}

/* Send a status update when one is due; false when the connection broke
 * (it is then closed and a reconnection scheduled). */
static bool
status_if_due(trib_source_pg *src, int64_t now)
{
	char		eb[512];

	if (!src->reply_due && now - src->last_status_ms < src->status_interval_ms)
		return true;
	if (spg_send_status(src, false, eb, sizeof(eb)))
		return true;
	lost(src, eb);
	return false;
}

/* Public: wait for and deliver records. */
int
trib_source_pg_poll(trib_source_pg *src, trib_pgrec **out, int max,
					int timeout_ms, char *errbuf, size_t errlen)
{
	int64_t		now = trib_clock_mono_ms();
	int64_t		deadline = now + (timeout_ms > 0 ? timeout_ms : 0);
	bool		fresh = true;	/* `now` was just read */

	if (max <= 0)
		return 0;
	for (;;)
	{
		int64_t		wake;
		bool		got;

		/* the clock once a pass, not again right after reading it */
		if (!fresh)
			now = trib_clock_mono_ms();
		fresh = false;

		if (trib_pgprep_ready(src->prep))
		{
			/* a long delivery (a large transaction released at its
			 * commit) must not starve the server of status updates */
			if (src->streaming)
				status_if_due(src, now);
			return take_pending(src, out, max, errbuf, errlen);
		}

		if (!src->streaming)
		{
			if (src->rc_phase != SPG_RC_IDLE || now >= src->next_attempt_ms)
			{
				int			rc = spg_reconnect_step(src, (int) (deadline > now ? deadline - now : 0),
													errbuf, errlen);

				if (rc < 0)
					return -1;
				if (rc == 0 && src->rc_phase != SPG_RC_IDLE &&
					trib_clock_mono_ms() >= deadline)
					return 0;	/* still under way: the others go on */
				continue;
			}
			if (now >= deadline)
				return 0;
			wake = src->next_attempt_ms < deadline ? src->next_attempt_ms : deadline;
			usleep((useconds_t) (wake - now) * 1000);
			continue;
		}

		if (!read_available(src, max, &got, &now, errbuf, errlen))
			return -1;
		fresh = got;			/* else reading took no time */
		if (trib_pgprep_ready(src->prep))
			continue;
		if (!src->streaming)
			continue;

		if (!status_if_due(src, now))
			continue;
		spg_heartbeat(src, now);
		if (now - src->last_recv_ms > RECV_TIMEOUT_MS)
		{
			lost(src, "no message from the server for too long");
			continue;
		}
		if (got)
			continue;
		if (now >= deadline)
			return 0;

		wake = deadline;
		if (src->last_status_ms + src->status_interval_ms < wake)
			wake = src->last_status_ms + src->status_interval_ms;
		if (src->heartbeat_interval_ms > 0 &&
			src->last_hb_ms + src->heartbeat_interval_ms < wake)
			wake = src->last_hb_ms + src->heartbeat_interval_ms;
		{
			bool		woken;

			spg_reader_wait(src->reader, wake > now ? (int) (wake - now) : 0,
							src->wake_fd, &woken);
			if (woken)
				return 0;		/* a sink's acks: the caller's turn */
		}
	}
}

/* Public: see source_pg.h. */
void
trib_source_pg_set_wake_fd(trib_source_pg *src, int fd)
{
	src->wake_fd = fd;
}

/* Public: the oldest PREPARE held or being delivered (pgprepared.h). */
bool
trib_source_pg_prepared_floor(const trib_source_pg *src, uint64_t *lsn)
{
	return trib_pgprep_floor(src->prep, lsn);
}

/* Public: the caller made everything up to lsn durable. */
void
trib_source_pg_confirm(trib_source_pg *src, uint64_t lsn)
{
	if (lsn > src->confirmed)
		src->confirmed = lsn;
}

/* Public: send a status update now. */
bool
trib_source_pg_flush_status(trib_source_pg *src, char *errbuf, size_t errlen)
{
	return spg_send_status(src, false, errbuf, errlen);
}

bool
trib_source_pg_streaming(const trib_source_pg *src)
{
	return src->streaming;
}

void
trib_source_pg_stats_get(const trib_source_pg *src, trib_source_pg_stats *out)
{
	trib_pgprep_stats ps;

	*out = src->stats;
	trib_pgprep_stats_get(src->prep, &ps);
	out->prepared_held = ps.held;
	out->prepared_spilled_bytes = ps.spilled_bytes;
}
