

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
 * Records flow: XLogData -> lines -> trib_pgrec_parser -> trib_pgasm ->
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
 * START_REPLICATION -> STREAMING -> (error) DOWN.  spg_disconnect() is the
 * one cleanup path.
 *
 * Files.  This file holds the plugin options, new and free; the connection
 * and its retries are in source_pg_conn.c, the CopyBoth stream (messages,
 * records, status updates, heartbeats, confirmations) in
 * source_pg_stream.c, sharing the state through source_pg_int.h.
 */
#include "source_pg.h"
#include "catalog.h"
#include "pgprepared.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "conninfo.h"
#include "errf.h"
#include "source_pg_int.h"
#include "xalloc.h"

/* ---------------------------------------------------------------------- */
/* helpers */

/* Report through the caller's log function, if any. */
void
spg_slog(trib_source_pg *src, int level, const char *fmt,...)
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
const char *
spg_conn_error(PGconn *conn, char *buf, size_t len)
{
	size_t		n;

	snprintf(buf, len, "%s", conn ? PQerrorMessage(conn) : "no connection");
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
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
	src->optv = trib_xrealloc(src->optv, (size_t) (src->optc + 1) * 2 * sizeof(char *));
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
	char	   *x = trib_xmalloc(n);

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
	spg_slog(arg, 1, "%s", msg);
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
	if (!spg_valid_slot_name(conf->slot))
		return trib_errf(errbuf, errlen, "source: slot name must be 1 to 63 of a-z, 0-9 and _"), NULL;
	if (!trib_conninfo_dbname(conf->dsn, &dbname))
		return trib_errf(errbuf, errlen, "source: invalid dsn: libpq cannot parse the connection string"), NULL;

	src = trib_xcalloc(1, sizeof(*src));
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
	src->log_timeline = conf->log_timeline;
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

			src->optv[2 * k + 1] = trib_xmalloc(n);
			snprintf(src->optv[2 * k + 1], n, "%s,%s", old, TRIB_HEARTBEAT_PREFIX);
			free(old);
		}
	}
	if (!setup_prepared(src, conf, errbuf, errlen))
	{
		trib_source_pg_free(src);
		return NULL;
	}
	src->parser = trib_pgrec_parser_new(src->source_name, src->dbname);
	trib_pgrec_parser_set_image_index(src->parser, conf->index_images);
	src->asm_ = trib_pgasm_new();
	return src;
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

/* Public: a polled record back to the parser's spares. */
void
trib_source_pg_release(trib_source_pg *src, trib_pgrec *rec)
{
	trib_pgrec_release(src ? src->parser : NULL, rec);
}

/* Public: see source_pg.h. */
void
trib_source_pg_release_later(trib_source_pg *src, trib_pgrec **recs, int n)
{
	while (src->irel < src->nrel)
		trib_pgrec_release(src->parser, src->rel[src->irel++]);
	src->rel = recs;
	src->nrel = recs ? n : 0;
	src->irel = 0;
}

/* Public: last status update, close, free. */
void
trib_source_pg_free(trib_source_pg *src)
{
	int			i;

	if (!src)
		return;
	trib_source_pg_release_later(src, NULL, 0);
	if (src->streaming)
	{
		char		eb[64];

		spg_send_status(src, false, eb, sizeof(eb));
	}
	spg_disconnect(src);
	spg_heartbeat_close(src);
	/* before the parser: held events point to its names and relations */
	trib_pgprep_free(src->prep);
	for (i = 0; i < 2 * src->optc; i++)
		free(src->optv[i]);
	free(src->optv);
	trib_pgasm_free(src->asm_);
	trib_pgrec_parser_free(src->parser);
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
