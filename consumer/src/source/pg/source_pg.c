/*
 * source_pg.c: logical replication client for the tributary plugin.
 *
 * Design.  The protocol follows PostgreSQL's pg_recvlogical.c: a
 * replication=database connection, START_REPLICATION SLOT s LOGICAL 0/0
 * (options), then CopyBoth.  The server sends XLogData ('w': dataStart,
 * walEnd, sendTime, data) and keepalives ('k': walEnd, sendTime,
 * replyRequested); we send standby status updates ('r': write, flush,
 * apply, sendTime, replyRequested).  All of it is read with
 * PQgetCopyData(async) and poll() on PQsocket, so poll() never blocks
 * longer than the caller's timeout (nor than the next status update or
 * heartbeat that falls due).
 *
 * Records flow: XLogData -> lines -> trib_pgparser -> trib_pgasm ->
 * trib_pgprep -> caller.  A record reaches pgprep only when it is final
 * (the assembler holds back the last event of an open transaction and
 * buffers streamed transactions); pgprep holds prepared transactions until
 * COMMIT PREPARED and queues the rest, and the id of what it queues is the
 * resume point: the queue survives a reconnection, whatever the assembler
 * and pgprep still held is dropped and the server sends it again.
 *
 * Two-phase (plugin option two-phase).  The resume point is then never
 * passed to the plugin as resume-after: that would suppress the PREPARE of
 * a transaction still held, whose LSN lies before later commits.  The
 * server resends from the slot's confirmed position, which the caller
 * keeps at or before the oldest held PREPARE (trib_source_pg_prepared_floor),
 * and pgprep drops what was delivered already.
 *
 * The one state machine: DOWN (waiting for next_attempt) -> connect ->
 * START_REPLICATION -> STREAMING -> (error) DOWN.  disconnect() is the one
 * cleanup path.
 */
#include "source_pg.h"
#include "catalog.h"
#include "pgprepared.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "clock.h"
#include "conninfo.h"
#include "errf.h"
#include "pgconn.h"
#include "xalloc.h"

/* Microseconds from the Unix epoch to 2000-01-01, PostgreSQL's epoch. */
#define PG_EPOCH_OFFSET_US INT64_C(946684800000000)

/* No message from the server for this long means the link is dead. */
#define RECV_TIMEOUT_MS 120000

/* Held prepared transactions in memory when the caller does not say. */
#define DEFAULT_PREPARED_MEMORY ((size_t) 64 << 20)

/* Retry "slot is active" at least this often. */
#define SLOT_BUSY_MAX_DELAY_MS 1000

struct trib_source_pg
{
	/* configuration (owned copies) */
	char	   *dsn;
	char	   *slot;
	char	   *pipeline;
	char	   *source_name;
	char	   *dbname;
	bool		create_slot;
	bool		create_extension;
	trib_pg_snapshot snapshot;
	char	  **optv;			/* name, value pairs of plugin options */
	int			optc;			/* number of pairs */
	bool		two_phase;		/* plugin option two-phase is on */
	char	   *spill_dir;		/* of held prepared transactions */
	char	   *spill_prefix;
	size_t		prepared_memory;
	int			status_interval_ms;
	int			heartbeat_interval_ms;
	int			reconnect_min_ms;
	int			reconnect_max_ms;
	int			connect_timeout_s;
	void		(*log) (int level, const char *msg, void *arg);
	void	   *log_arg;

	/* connections */
	PGconn	   *conn;			/* replication */
	PGconn	   *hbconn;			/* heartbeat */
	bool		streaming;		/* in CopyBoth */
	bool		opened;			/* extension/slot steps done */
	bool		slot_created;
	char	   *snapshot_name;

	/* positions (the resume point is pgprep's) */
	uint64_t	confirmed;		/* caller: durable everywhere */
	uint64_t	reported;		/* flush we last sent */
	uint64_t	received;		/* highest walEnd seen */

	/* timing */
	int64_t		last_status_ms;
	int64_t		last_hb_ms;
	int64_t		last_recv_ms;
	int64_t		next_attempt_ms;
	int			attempts;
	bool		reply_due;
	unsigned	rand_state;

	/* records */
	trib_pgparser *parser;
	trib_pgasm *asm_;
	trib_pgprep *prep;			/* prepared transactions; the caller's queue */

	trib_source_pg_stats stats;
};

/* ---------------------------------------------------------------------- */
/* helpers */

/* Report through the caller's log function, if any. */
static void
slog(trib_source_pg *src, int level, const char *fmt,...)
{
	char		buf[1024];
	va_list		ap;

	if (!src->log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	src->log(level, buf, src->log_arg);
}

/* libpq's error text without the trailing newline. */
static const char *
conn_error(PGconn *conn, char *buf, size_t len)
{
	size_t		n;

	snprintf(buf, len, "%s", conn ? PQerrorMessage(conn) : "no connection");
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
}

/* Big-endian 64-bit integers of the replication protocol. */
static void
put_u64(char *p, uint64_t v)
{
	int			i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (char) (v & 0xff);
}

static uint64_t
get_u64(const char *p)
{
	uint64_t	v = 0;
	int			i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | (unsigned char) p[i];
	return v;
}

/* Slot names as PostgreSQL allows them: [a-z0-9_]{1,63}. */
static bool
valid_slot_name(const char *s)
{
	size_t		n = s ? strlen(s) : 0;
	size_t		i;

	if (n == 0 || n > 63)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
			  s[i] == '_'))
			return false;
	return true;
}

/* ---------------------------------------------------------------------- */
/* connection strings */

/*
 * Connect with the caller's dsn plus our settings.  The dsn is parsed by
 * libpq; its parse error is not shown, since it may quote the dsn.  On
 * failure *final (when not NULL) says whether retrying is pointless (the
 * server refused the role, password or database: pgconn.h).
 */
static PGconn *
connect_db(trib_source_pg *src, bool replication, bool *final, char *errbuf, size_t errlen)
{
	PQconninfoOption *opts,
			   *o;
	char	   *perr = NULL;
	const char **kw,
			  **val;
	int			n = 0,
				i = 0;
	char		tmo[16];
	bool		have_tmo = false;
	PGconn	   *conn;
	trib_pq_error e;

	opts = PQconninfoParse(src->dsn, &perr);
	if (!opts)
	{
		PQfreemem(perr);
		trib_errf(errbuf, errlen, "invalid dsn: libpq cannot parse the connection string");
		return NULL;
	}
	for (o = opts; o->keyword; o++)
		n++;
	kw = calloc(n + 4, sizeof(char *));
	val = calloc(n + 4, sizeof(char *));
	if (!kw || !val)
		abort();
	for (o = opts; o->keyword; o++)
	{
		if (!o->val || strcmp(o->keyword, "replication") == 0)
			continue;
		if (strcmp(o->keyword, "connect_timeout") == 0)
			have_tmo = true;
		kw[i] = o->keyword;
		val[i++] = o->val;
	}
	if (replication)
	{
		kw[i] = "replication";
		val[i++] = "database";
	}
	kw[i] = "fallback_application_name";
	val[i++] = replication ? "tributary" : "tributary-heartbeat";
	if (!have_tmo)
	{
		snprintf(tmo, sizeof(tmo), "%d", src->connect_timeout_s);
		kw[i] = "connect_timeout";
		val[i++] = tmo;
	}
	kw[i] = NULL;
	val[i] = NULL;
	conn = trib_pq_connect(kw, val, 0, &e);
	free(kw);
	free(val);
	PQconninfoFree(opts);
	if (conn == NULL)
	{
		trib_errf(errbuf, errlen, "connection failed: %s", e.message);
		if (final)
			*final = e.final;
	}
	return conn;
}

/* A copy of dsn with any password replaced by "***". */
char *
trib_pg_dsn_redacted(const char *dsn)
{
	char	   *s = trib_conninfo_rebuild(dsn, NULL, true);

	return s ? s : trib_xstrdup("(unparsable dsn)");
}

/* ---------------------------------------------------------------------- */
/* construction */

/* Find a passthrough option by name; its index in optv, or -1. */
static int
find_opt(const trib_source_pg *src, const char *name)
{
	int			i;

	for (i = 0; i < src->optc; i++)
		if (strcmp(src->optv[2 * i], name) == 0)
			return i;
	return -1;
}

/* Append an option pair. */
static void
add_opt(trib_source_pg *src, const char *name, const char *value)
{
	src->optv = realloc(src->optv, (size_t) (src->optc + 1) * 2 * sizeof(char *));
	if (!src->optv)
		abort();
	src->optv[2 * src->optc] = trib_xstrdup(name);
	src->optv[2 * src->optc + 1] = trib_xstrdup(value);
	src->optc++;
}

/* Options we set ourselves; a caller may not pass them through. */
static bool
reserved_option(const char *name)
{
	return strcmp(name, "resume-after") == 0 ||
		strcmp(name, "include-transaction") == 0 ||
		strcmp(name, "include-tables") == 0 ||
		strcmp(name, "exclude-tables") == 0 ||
		strcmp(name, "skip-empty-xacts") == 0;
}

/* "a,b" or "b" when a is NULL (malloc'd). */
static char *
join2(const char *a, const char *b)
{
	size_t		n = (a ? strlen(a) + 1 : 0) + strlen(b) + 1;
	char	   *x = malloc(n);

	if (!x)
		abort();
	snprintf(x, n, "%s%s%s", a ? a : "", a ? "," : "", b);
	return x;
}

/*
 * include-tables and exclude-tables.  Our own catalog (checkpoints saved in
 * the source database) is never captured: each save would be a change, and
 * its checkpoint another.  The catalog tables asked for (the erasure
 * requests) are: added to an include list, and the exclusion narrowed to
 * the rest of the catalog the daemon knows (catalog.h); any other catalog
 * table that then arrives is consumed before the sinks (erasure.c).
 */
static void
add_table_filters(trib_source_pg *src, const trib_source_pg_conf *conf)
{
	char	   *x;

	if (conf->include_tables)
	{
		x = conf->catalog_tables ? join2(conf->include_tables, conf->catalog_tables)
			: trib_xstrdup(conf->include_tables);
		add_opt(src, "include-tables", x);
		free(x);
	}
	x = join2(conf->exclude_tables,
			  conf->catalog_tables ? TRIB_CATALOG_UNREAD : TRIB_CATALOG_PATTERN);
	add_opt(src, "exclude-tables", x);
	free(x);
}

/* PostgreSQL's words for a boolean option; NULL (a bare option) is true. */
bool
trib_pg_option_bool(const char *value, bool *out)
{
	static const char *const words[][2] = {
		{"on", "off"}, {"true", "false"}, {"yes", "no"}, {"1", "0"}
	};

	if (value == NULL)
		return (*out = true);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		for (int v = 0; v < 2; v++)
			if (strcasecmp(value, words[i][v]) == 0)
			{
				*out = v == 0;
				return true;
			}
	return false;
}

/* pgprepared.c's warnings go to our log. */
static void
prep_warn(const char *msg, void *arg)
{
	slog(arg, 1, "source: %s", msg);
}

/* two-phase and where held prepared transactions go (pgprepared.h). */
static bool
setup_prepared(trib_source_pg *src, const trib_source_pg_conf *conf,
			   char *errbuf, size_t errlen)
{
	int			k = find_opt(src, "two-phase");
	size_t		n;
	trib_pgprep_conf pc;

	if (k >= 0 && !trib_pg_option_bool(src->optv[2 * k + 1], &src->two_phase))
		return trib_errf(errbuf, errlen, "source: plugin option \"two-phase\" must be on or off "
						 "(also true/false, yes/no, 1/0), not \"%s\"", src->optv[2 * k + 1]);
	src->spill_dir = trib_xstrdup(conf->prepared_spill_dir ? conf->prepared_spill_dir :
								  trib_pg_default_spill_dir());
	n = strlen(src->pipeline) + strlen(src->source_name) + 16;
	src->spill_prefix = trib_xmalloc(n);
	snprintf(src->spill_prefix, n, "tributary.%s.%s.", src->pipeline, src->source_name);
	src->prepared_memory = conf->prepared_memory_bytes > 0 ?
		conf->prepared_memory_bytes : DEFAULT_PREPARED_MEMORY;
	pc.spill_dir = src->spill_dir;
	pc.spill_prefix = src->spill_prefix;
	pc.memory_bytes = src->prepared_memory;
	pc.warn = prep_warn;
	pc.warn_arg = src;
	src->prep = trib_pgprep_new(&pc);
	return true;
}

/* $TMPDIR, else /var/tmp (on disk where /tmp may be memory). */
const char *
trib_pg_default_spill_dir(void)
{
	const char *t = getenv("TMPDIR");

	return t && t[0] ? t : "/var/tmp";
}

/* Validate and copy the configuration. */
trib_source_pg *
trib_source_pg_new(const trib_source_pg_conf *conf, char *errbuf, size_t errlen)
{
	trib_source_pg *src;
	const char *const *po;
	char	   *dbname;

	if (!conf || !conf->dsn)
		return trib_errf(errbuf, errlen, "source: dsn is required"), NULL;
	if (!valid_slot_name(conf->slot))
		return trib_errf(errbuf, errlen, "source: slot name must be 1 to 63 of a-z, 0-9 and _"), NULL;
	if (!trib_conninfo_dbname(conf->dsn, &dbname))
		return trib_errf(errbuf, errlen, "source: invalid dsn: libpq cannot parse the connection string"), NULL;

	src = calloc(1, sizeof(*src));
	if (!src)
		abort();
	src->dbname = dbname;

	src->dsn = trib_xstrdup(conf->dsn);
	src->slot = trib_xstrdup(conf->slot);
	src->pipeline = trib_xstrdup(conf->pipeline ? conf->pipeline : "tributary");
	src->source_name = trib_xstrdup(conf->source_name ? conf->source_name : "postgres");
	src->create_slot = conf->create_slot;
	src->create_extension = conf->create_extension;
	src->snapshot = conf->snapshot;
	src->status_interval_ms = conf->status_interval_ms > 0 ? conf->status_interval_ms : 10000;
	src->heartbeat_interval_ms = conf->heartbeat_interval_ms > 0 ? conf->heartbeat_interval_ms : 0;
	src->reconnect_min_ms = conf->reconnect_min_ms > 0 ? conf->reconnect_min_ms : 100;
	src->reconnect_max_ms = conf->reconnect_max_ms > 0 ? conf->reconnect_max_ms : 30000;
	if (src->reconnect_max_ms < src->reconnect_min_ms)
		src->reconnect_max_ms = src->reconnect_min_ms;
	src->connect_timeout_s = conf->connect_timeout_s > 0 ? conf->connect_timeout_s : 10;
	src->log = conf->log;
	src->log_arg = conf->log_arg;
	src->rand_state = (unsigned) (time(NULL) ^ (getpid() << 8));

	add_opt(src, "include-transaction", "on");
	add_opt(src, "skip-empty-xacts", conf->skip_empty_xacts ? "on" : "off");
	add_table_filters(src, conf);
	for (po = conf->plugin_options; po && po[0]; po += 2)
	{
		if (reserved_option(po[0]))
		{
			trib_errf(errbuf, errlen, "source: plugin option \"%s\" is set by the source itself", po[0]);
			trib_source_pg_free(src);
			return NULL;
		}
		add_opt(src, po[0], po[1]);
	}
	/* Heartbeats must get through a message-prefixes filter. */
	if (src->heartbeat_interval_ms > 0)
	{
		int			k = find_opt(src, "message-prefixes");

		if (k >= 0 && src->optv[2 * k + 1])
		{
			char	   *old = src->optv[2 * k + 1];
			size_t		n = strlen(old) + sizeof(TRIB_HEARTBEAT_PREFIX) + 2;

			src->optv[2 * k + 1] = malloc(n);
			if (!src->optv[2 * k + 1])
				abort();
			snprintf(src->optv[2 * k + 1], n, "%s,%s", old, TRIB_HEARTBEAT_PREFIX);
			free(old);
		}
	}
	if (!setup_prepared(src, conf, errbuf, errlen))
	{
		trib_source_pg_free(src);
		return NULL;
	}
	src->parser = trib_pgparser_new(src->source_name, src->dbname);
	src->asm_ = trib_pgasm_new();
	return src;
}

/* ---------------------------------------------------------------------- */
/* connection life cycle */

/* Close the replication connection; forget what the assembler and pgprep
 * held (the server sends it again). */
static void
disconnect(trib_source_pg *src)
{
	if (src->conn)
	{
		if (src->streaming)
			PQputCopyEnd(src->conn, NULL);
		PQfinish(src->conn);
	}
	src->conn = NULL;
	src->streaming = false;
	if (src->asm_)
		trib_pgasm_reset(src->asm_);
	if (src->prep)
		trib_pgprep_reset(src->prep);
}

/* Schedule the next connection attempt with backoff and jitter. */
static void
schedule_retry(trib_source_pg *src, bool slot_busy)
{
	int64_t		base = src->reconnect_min_ms;
	int64_t		delay;
	int			i;

	for (i = 0; i < src->attempts && base < src->reconnect_max_ms; i++)
		base *= 2;
	if (base > src->reconnect_max_ms)
		base = src->reconnect_max_ms;
	if (slot_busy && base > SLOT_BUSY_MAX_DELAY_MS)
		base = SLOT_BUSY_MAX_DELAY_MS;
	/* Jitter: between half and all of the delay. */
	delay = base / 2 + (int64_t) (rand_r(&src->rand_state) % (unsigned) (base / 2 + 1));
	src->attempts++;
	src->next_attempt_ms = trib_clock_mono_ms() + delay;
	slog(src, 2, "source: retrying in %" PRId64 " ms (attempt %d)", delay, src->attempts);
}

/* Is an error with this SQLSTATE one that retrying cannot fix? */
static bool
fatal_sqlstate(const char *state)
{
	static const char *const fatal[] = {
		"42704",				/* undefined_object: no such slot */
		"22023",				/* invalid_parameter_value: plugin option */
		"42601",				/* syntax error */
		"55000",				/* object_not_in_prerequisite_state */
		"0A000",				/* feature_not_supported */
		"58P01",				/* undefined_file: plugin not installed */
		NULL
	};
	int			i;

	if (trib_pq_sqlstate_final(state))
		return true;			/* role, password, database, privilege */
	for (i = 0; state && fatal[i]; i++)
		if (strcmp(state, fatal[i]) == 0)
			return true;
	return false;
}

/* Outcome of one attempt: 1 ok, 0 retry later, -1 fatal. */
typedef int attempt_rc;

/* Fill errbuf from a failed result; classify it. */
static attempt_rc
result_failure(trib_source_pg *src, PGresult *res, const char *what,
			   bool *slot_busy, char *errbuf, size_t errlen)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char		eb[512];

	if (!msg)
		msg = conn_error(src->conn, eb, sizeof(eb));
	trib_errf(errbuf, errlen, "%s failed: %s%s%s%s", what, msg,
			  state ? " (SQLSTATE " : "", state ? state : "", state ? ")" : "");
	if (slot_busy)
		*slot_busy = state && strcmp(state, "55006") == 0;
	return fatal_sqlstate(state) ? -1 : 0;
}

/* CREATE EXTENSION on a normal connection. */
static attempt_rc
ensure_extension(trib_source_pg *src, char *errbuf, size_t errlen)
{
	bool		final = false;
	PGconn	   *c = connect_db(src, false, &final, errbuf, errlen);
	PGresult   *res;
	attempt_rc	rc = 1;

	if (!c)
		return final ? -1 : 0;
	res = PQexec(c, "CREATE EXTENSION IF NOT EXISTS tributary");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		PGconn	   *saved = src->conn;

		src->conn = c;
		rc = result_failure(src, res, "CREATE EXTENSION tributary", NULL, errbuf, errlen);
		src->conn = saved;
	}
	PQclear(res);
	PQfinish(c);
	return rc;
}

/* CREATE_REPLICATION_SLOT unless it exists. */
static attempt_rc
ensure_slot(trib_source_pg *src, char *errbuf, size_t errlen)
{
	char		cmd[200];
	PGresult   *res;
	attempt_rc	rc = 1;

	snprintf(cmd, sizeof(cmd), "CREATE_REPLICATION_SLOT %s LOGICAL tributary %s",
			 src->slot, src->snapshot == TRIB_PG_SNAPSHOT_EXPORT ?
			 "EXPORT_SNAPSHOT" : "NOEXPORT_SNAPSHOT");
	res = PQexec(src->conn, cmd);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		src->slot_created = true;
		free(src->snapshot_name);
		src->snapshot_name = NULL;
		if (PQnfields(res) >= 3 && PQntuples(res) == 1 && !PQgetisnull(res, 0, 2))
			src->snapshot_name = trib_xstrdup(PQgetvalue(res, 0, 2));
		slog(src, 2, "source: created replication slot %s", src->slot);
	}
	else
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (!(state && strcmp(state, "42710") == 0))	/* duplicate_object */
			rc = result_failure(src, res, "CREATE_REPLICATION_SLOT", NULL,
								errbuf, errlen);
	}
	PQclear(res);
	return rc;
}

/* Connect the replication connection and do the one-time steps. */
static attempt_rc
open_attempt(trib_source_pg *src, char *errbuf, size_t errlen)
{
	attempt_rc	rc;
	bool		final = false;

	if (src->conn)
		return 1;
	if (!src->opened && src->create_extension &&
		(rc = ensure_extension(src, errbuf, errlen)) != 1)
		return rc;
	src->conn = connect_db(src, true, &final, errbuf, errlen);
	if (!src->conn)
		return final ? -1 : 0;
	if (!src->opened && src->create_slot &&
		(rc = ensure_slot(src, errbuf, errlen)) != 1)
	{
		disconnect(src);
		return rc;
	}
	src->opened = true;
	return 1;
}

/* Append s as a quoted literal ('...', quotes doubled) or identifier. */
static size_t
append_quoted(char *out, size_t off, const char *s, char q)
{
	out[off++] = q;
	for (; *s; s++)
	{
		if (*s == q)
			out[off++] = q;
		out[off++] = *s;
	}
	out[off++] = q;
	out[off] = '\0';
	return off;
}

/* The START_REPLICATION command; caller frees. */
static char *
start_command(trib_source_pg *src)
{
	size_t		len = 200;
	size_t		off;
	char	   *cmd;
	char		resume[TRIB_EVENTID_LEN];
	uint64_t	rlsn,
				rseq;
	int			i;

	for (i = 0; i < src->optc; i++)
		len += 2 * strlen(src->optv[2 * i]) +
			(src->optv[2 * i + 1] ? 2 * strlen(src->optv[2 * i + 1]) : 0) + 8;
	cmd = malloc(len);
	if (!cmd)
		abort();
	off = (size_t) sprintf(cmd, "START_REPLICATION SLOT %s LOGICAL 0/0 (", src->slot);
	for (i = 0; i < src->optc; i++)
	{
		if (i > 0)
			off += (size_t) sprintf(cmd + off, ", ");
		off = append_quoted(cmd, off, src->optv[2 * i], '"');
		if (src->optv[2 * i + 1])
		{
			cmd[off++] = ' ';
			off = append_quoted(cmd, off, src->optv[2 * i + 1], '\'');
		}
	}
	if (!src->two_phase && trib_pgprep_resume(src->prep, &rlsn, &rseq))
	{
		trib_eventid_format(rlsn, rseq, resume, sizeof(resume));
		off += (size_t) sprintf(cmd + off, ", \"resume-after\" '%s'", resume);
	}
	sprintf(cmd + off, ")");
	return cmd;
}

/* Send a standby status update. */
static bool
send_status(trib_source_pg *src, bool reply_requested, char *errbuf, size_t errlen)
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
	if (PQputCopyData(src->conn, buf, sizeof(buf)) <= 0 || PQflush(src->conn) != 0)
		return trib_errf(errbuf, errlen, "could not send status update: %s",
						 conn_error(src->conn, eb, sizeof(eb)));
	src->reported = flush;
	src->stats.confirmed_lsn = flush;
	src->stats.status_updates++;
	src->last_status_ms = trib_clock_mono_ms();
	src->reply_due = false;
	return true;
}

/* START_REPLICATION on an open connection. */
static attempt_rc
start_attempt(trib_source_pg *src, bool *slot_busy, char *errbuf, size_t errlen)
{
	attempt_rc	rc = open_attempt(src, errbuf, errlen);
	char	   *cmd;
	PGresult   *res;

	*slot_busy = false;
	if (rc != 1)
		return rc;
	cmd = start_command(src);
	res = PQexec(src->conn, cmd);
	free(cmd);
	/* Any exported snapshot is gone once another command runs. */
	free(src->snapshot_name);
	src->snapshot_name = NULL;
	if (PQresultStatus(res) != PGRES_COPY_BOTH)
	{
		rc = result_failure(src, res, "START_REPLICATION", slot_busy, errbuf, errlen);
		PQclear(res);
		disconnect(src);
		return rc;
	}
	PQclear(res);
	src->streaming = true;
	src->attempts = 0;
	src->last_recv_ms = trib_clock_mono_ms();
	slog(src, 2, "source: streaming from slot %s", src->slot);
	if (!send_status(src, false, errbuf, errlen))
	{
		disconnect(src);
		return 0;
	}
	return 1;
}

/* One scheduled (re)connection attempt; -1 when fatal. */
static int
try_reconnect(trib_source_pg *src, char *errbuf, size_t errlen)
{
	bool		busy = false;
	char		eb[512];
	attempt_rc	rc = start_attempt(src, &busy, eb, sizeof(eb));

	if (rc == 1)
	{
		src->stats.reconnects++;
		return 1;
	}
	if (rc < 0)
	{
		trib_errf(errbuf, errlen, "%s", eb);
		return -1;
	}
	slog(src, busy ? 2 : 1, "source: %s", eb);
	schedule_retry(src, busy);
	return 0;
}

/* Public: connect and create what is missing, without streaming. */
bool
trib_source_pg_open(trib_source_pg *src, char *errbuf, size_t errlen)
{
	return open_attempt(src, errbuf, errlen) == 1;
}

bool
trib_source_pg_slot_created(const trib_source_pg *src)
{
	return src->slot_created;
}

const char *
trib_source_pg_snapshot_name(const trib_source_pg *src)
{
	return src->snapshot_name;
}

/*
 * Remove the spill files a killed process left.  Only two-phase needs the
 * directory; without it a missing directory is no error (files of an
 * earlier two-phase run are still removed when it exists).
 */
static bool
clean_spill_dir(trib_source_pg *src, char *errbuf, size_t errlen)
{
	trib_pgprep_conf pc = {.spill_dir = src->spill_dir, .spill_prefix = src->spill_prefix};
	char		eb[512];
	int			n = trib_pgprep_clean(&pc, eb, sizeof(eb));

	if (n < 0 && src->two_phase)
		return trib_errf(errbuf, errlen, "source: two-phase: %s", eb);
	if (n > 0)
		slog(src, 2, "source: removed %d spill file(s) of an earlier run from %s",
			 n, src->spill_dir);
	return true;
}

/* Public: start streaming after resume; retry transient errors for retry_ms. */
bool
trib_source_pg_start(trib_source_pg *src, const trib_position *resume,
					 int retry_ms, char *errbuf, size_t errlen)
{
	int64_t		deadline = trib_clock_mono_ms() + (retry_ms > 0 ? retry_ms : 0);

	if (resume && resume->commit_lsn != 0)
		trib_pgprep_set_resume(src->prep, resume->commit_lsn, resume->seq);
	if (!clean_spill_dir(src, errbuf, errlen))
		return false;
	for (;;)
	{
		bool		busy = false;
		attempt_rc	rc = start_attempt(src, &busy, errbuf, errlen);
		int64_t		wait;

		if (rc == 1)
			return true;
		if (rc < 0)
			return false;
		schedule_retry(src, busy);
		wait = src->next_attempt_ms - trib_clock_mono_ms();
		if (trib_clock_mono_ms() + wait > deadline)
			return false;
		if (wait > 0)
			usleep((useconds_t) wait * 1000);
	}
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
			return trib_errf(errbuf, errlen, "source: %s", eb);
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
		size_t		n = trib_pgrecord_next_line(data + off, len - off, &next);
		trib_pgrec *rec;
		char		eb[512];

		if (n > 0)
		{
			if (!trib_pgparser_parse(src->parser, data + off, n, &rec, eb, sizeof(eb)))
				return trib_errf(errbuf, errlen, "source: %s", eb);
			src->stats.records++;
			if (!trib_pgasm_push(src->asm_, rec, eb, sizeof(eb)))
				return trib_errf(errbuf, errlen, "source: %s", eb);
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

/* Emit a heartbeat on its own connection when due; failures are logged. */
static void
heartbeat(trib_source_pg *src, int64_t now)
{
	const char *params[2];
	PGresult   *res;
	char		eb[512];

	if (src->heartbeat_interval_ms <= 0 || !src->streaming ||
		now - src->last_hb_ms < src->heartbeat_interval_ms)
		return;
	src->last_hb_ms = now;
	if (src->hbconn && PQstatus(src->hbconn) != CONNECTION_OK)
	{
		PQfinish(src->hbconn);
		src->hbconn = NULL;
	}
	if (!src->hbconn)
	{
		src->hbconn = connect_db(src, false, NULL, eb, sizeof(eb));
		if (!src->hbconn)
		{
			slog(src, 1, "source: heartbeat: %s", eb);
			return;
		}
	}
	params[0] = TRIB_HEARTBEAT_PREFIX;
	params[1] = src->pipeline;
	res = PQexecParams(src->hbconn,
					   "SELECT pg_catalog.pg_logical_emit_message(true, $1, $2)",
					   2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		slog(src, 1, "source: heartbeat failed: %s",
			 conn_error(src->hbconn, eb, sizeof(eb)));
		PQfinish(src->hbconn);
		src->hbconn = NULL;
	}
	else
		src->stats.heartbeats++;
	PQclear(res);
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
			trib_errf(errbuf, errlen, "source: %s", eb);
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
	slog(src, 1, "source: replication connection lost: %s", why);
	disconnect(src);
	schedule_retry(src, false);
}

/* Read whatever is available; false on a fatal record error. */
static bool
read_messages(trib_source_pg *src, bool *got, char *errbuf, size_t errlen)
{
	char		eb[512];

	*got = false;
	while (src->streaming)
	{
		char	   *buf = NULL;
		int			r = PQgetCopyData(src->conn, &buf, 1);

		if (r > 0)
		{
			bool		ok = handle_copydata(src, buf, r, errbuf, errlen);

			PQfreemem(buf);
			if (!ok)
				return false;
			*got = true;
			if (trib_pgprep_ready(src->prep))
				return true;	/* deliver promptly */
			continue;
		}
		if (r == 0)
			return true;
		if (r == -1)
		{
			/* End of copy: the server ended the stream (often an error). */
			PGresult   *res = PQgetResult(src->conn);
			bool		busy = false;
			attempt_rc	rc = result_failure(src, res, "replication stream", &busy,
											eb, sizeof(eb));

			PQclear(res);
			if (rc < 0)
			{
				trib_errf(errbuf, errlen, "source: %s", eb);
				disconnect(src);
				return false;
			}
			lost(src, eb);
			return true;
		}
		lost(src, conn_error(src->conn, eb, sizeof(eb)));
		return true;
	}
	return true;
}

/*
 * Read what has arrived (read_messages), and note when something did:
 * once per batch, not per message (a clock read costs about 60 ns on a
 * VM, 1.5% of the consumer's CPU in W1 when done per row).
 */
static bool
read_available(trib_source_pg *src, bool *got, char *errbuf, size_t errlen)
{
	bool		ok = read_messages(src, got, errbuf, errlen);

	if (*got)
		src->last_recv_ms = trib_clock_mono_ms();
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
	if (send_status(src, false, eb, sizeof(eb)))
		return true;
	lost(src, eb);
	return false;
}

/* Public: wait for and deliver records. */
int
trib_source_pg_poll(trib_source_pg *src, trib_pgrec **out, int max,
					int timeout_ms, char *errbuf, size_t errlen)
{
	int64_t		deadline = trib_clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	if (max <= 0)
		return 0;
	for (;;)
	{
		int64_t		now = trib_clock_mono_ms();
		int64_t		wake;
		struct pollfd pfd;
		bool		got;
		int			n;

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
			if (now >= src->next_attempt_ms)
			{
				if (try_reconnect(src, errbuf, errlen) < 0)
					return -1;
				continue;
			}
			if (now >= deadline)
				return 0;
			wake = src->next_attempt_ms < deadline ? src->next_attempt_ms : deadline;
			usleep((useconds_t) (wake - now) * 1000);
			continue;
		}

		if (!read_available(src, &got, errbuf, errlen))
			return -1;
		if (trib_pgprep_ready(src->prep))
			continue;
		if (!src->streaming)
			continue;

		now = trib_clock_mono_ms();
		if (!status_if_due(src, now))
			continue;
		heartbeat(src, now);
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
		pfd.fd = PQsocket(src->conn);
		pfd.events = POLLIN;
		pfd.revents = 0;
		n = poll(&pfd, 1, wake > now ? (int) (wake - now) : 0);
		if (n < 0 && errno != EINTR)
		{
			lost(src, strerror(errno));
			continue;
		}
		if (n > 0 && !PQconsumeInput(src->conn))
		{
			char		eb[512];

			lost(src, conn_error(src->conn, eb, sizeof(eb)));
		}
	}
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
	return send_status(src, false, errbuf, errlen);
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

/* Public: last status update, close, free. */
void
trib_source_pg_free(trib_source_pg *src)
{
	int			i;

	if (!src)
		return;
	if (src->streaming)
	{
		char		eb[64];

		send_status(src, false, eb, sizeof(eb));
	}
	disconnect(src);
	if (src->hbconn)
		PQfinish(src->hbconn);
	/* before the parser: held events point to its names and relations */
	trib_pgprep_free(src->prep);
	for (i = 0; i < 2 * src->optc; i++)
		free(src->optv[i]);
	free(src->optv);
	trib_pgasm_free(src->asm_);
	trib_pgparser_free(src->parser);
	free(src->snapshot_name);
	free(src->dsn);
	free(src->slot);
	free(src->pipeline);
	free(src->source_name);
	free(src->dbname);
	free(src->spill_dir);
	free(src->spill_prefix);
	free(src);
}
