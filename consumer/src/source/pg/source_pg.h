/*
 * source_pg.h: the PostgreSQL source: a logical replication client for the
 * tributary output plugin.
 *
 * Design.  One replication connection (replication=database) speaks the
 * streaming protocol of PostgreSQL's pg_recvlogical: START_REPLICATION
 * ... LOGICAL, then CopyBoth with XLogData ('w') and keepalive ('k')
 * messages from the server and standby status updates ('r') from us.  Each
 * XLogData message holds one or more records, one per line (PLUGIN.md,
 * Framing); they go through pgrecord.c's parser and assembler and come out
 * of trib_source_pg_poll() in batches.
 *
 * Positions.  The caller says what is durable in every sink with
 * trib_source_pg_confirm(); only that is ever reported as flushed to the
 * slot, periodically (status_interval_ms) and whenever the server asks.
 * On every (re)connection the plugin gets `resume-after`: at start the
 * caller's durable checkpoint, after a connection loss the id of the last
 * record delivered to the caller (it still holds those in memory), so the
 * caller sees nothing twice and loses nothing.
 *
 * Heartbeat.  With heartbeat_interval_ms > 0 a second, normal connection
 * runs pg_logical_emit_message(true, 'tributary.heartbeat', pipeline)
 * every interval.  It is its own transaction, so its commit is flushed and
 * decoded even while the captured tables are idle; the assembler drops the
 * message and delivers the transaction's begin/commit, whose end_lsn the
 * caller confirms like any other.  The role needs EXECUTE on
 * pg_logical_emit_message (revoked from PUBLIC by default).
 *
 * Two-phase.  With the plugin option two-phase, a prepared transaction is
 * held (pgprepared.h: in memory up to prepared_memory_bytes, then in a
 * spill file in prepared_spill_dir) and delivered at COMMIT PREPARED as a
 * transaction committed there, with the ids two-phase off would give it;
 * ROLLBACK PREPARED drops it.  The caller must not confirm past
 * trib_source_pg_prepared_floor(), nor past the prepare_lsn of a delivered
 * commit_prepared until that transaction is durable: PostgreSQL resends a
 * prepared transaction's changes only while the slot is not confirmed past
 * its PREPARE.  resume-after is then filtered here rather than in the
 * plugin; the caller still sees nothing twice.
 *
 * Reconnection.  A lost connection (server restart, network) is retried
 * with capped exponential backoff and jitter; so is "replication slot is
 * active for PID" (another consumer still holds the slot).  Errors that
 * retrying cannot fix (bad options, missing slot without create_slot,
 * permissions) end polling with -1.
 *
 * Errors are reported through errbuf and never contain the dsn, which may
 * hold a password.  The source is single-threaded; poll it from one thread.
 */
#ifndef TRIB_SOURCE_PG_H
#define TRIB_SOURCE_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "pgrecord.h"

/* Snapshot handling when the slot is created. */
typedef enum trib_pg_snapshot
{
	TRIB_PG_SNAPSHOT_NONE,		/* NOEXPORT_SNAPSHOT */
	TRIB_PG_SNAPSHOT_EXPORT		/* EXPORT_SNAPSHOT: name via _snapshot_name() */
} trib_pg_snapshot;

typedef struct trib_source_pg_conf
{
	const char *dsn;			/* libpq conninfo or URI; may hold a password */
	const char *slot;			/* [a-z0-9_]{1,63} */
	const char *pipeline;		/* heartbeat content; defaults to "tributary" */
	const char *source_name;	/* trib_event.source */
	bool		create_slot;	/* create the slot when it is missing */
	bool		create_extension;	/* CREATE EXTENSION IF NOT EXISTS tributary */
	trib_pg_snapshot snapshot;	/* when the slot is created */
	const char *include_tables; /* plugin option, NULL for none */
	const char *exclude_tables; /* plugin option, NULL for none */
	/* Catalog tables to capture too (catalog.h: TRIB_ERASURE_TABLES), or
	 * NULL: the whole catalog stays out of the stream. */
	const char *catalog_tables;
	bool		skip_empty_xacts;
	bool		index_images;	/* change events carry their image index
								 * (event.h; the pipeline's rules read it) */
	const char *const *plugin_options;	/* other options: name, value, ...,
										 * NULL; a NULL value is a bare option */
	int			status_interval_ms; /* default 10000 */
	int			heartbeat_interval_ms;	/* 0: no heartbeat */
	int			reconnect_min_ms;	/* default 100 */
	int			reconnect_max_ms;	/* default 30000 */
	int			connect_timeout_s;	/* default 10 */
	const char *prepared_spill_dir; /* default trib_pg_default_spill_dir() */
	size_t		prepared_memory_bytes;	/* default 64 MiB */
	/* Where the source reports what it does (reconnects, retries); level
	 * 0 error, 1 warning, 2 info, 3 debug.  NULL: silent. */
	void		(*log) (int level, const char *msg, void *arg);
	void	   *log_arg;
	bool		log_timeline;	/* log (level 3) the stream's first record and
								 * every status update that moves the flush
								 * position: the timeline of a run */
} trib_source_pg_conf;

typedef struct trib_source_pg trib_source_pg;

/* Counters for logs and /metrics. */
typedef struct trib_source_pg_stats
{
	uint64_t	messages;		/* XLogData messages */
	uint64_t	records;
	uint64_t	events;			/* delivered */
	uint64_t	keepalives;
	uint64_t	status_updates;
	uint64_t	heartbeats;
	uint64_t	reconnects;
	uint64_t	received_lsn;	/* highest walEnd seen */
	uint64_t	confirmed_lsn;	/* highest flush reported */
	uint64_t	prepared_held;	/* prepared transactions held now */
	uint64_t	prepared_spilled_bytes; /* of them, in spill files */
} trib_source_pg_stats;

/* Validate conf and copy it; connects nothing.  NULL and errbuf on error. */
trib_source_pg *trib_source_pg_new(const trib_source_pg_conf *conf,
								   char *errbuf, size_t errlen);

/*
 * Connect and create what is missing (extension, slot), without starting
 * to stream.  Optional: trib_source_pg_start() does it too.  When the slot
 * was created here with TRIB_PG_SNAPSHOT_EXPORT, its snapshot stays valid
 * until trib_source_pg_start() (use it with SET TRANSACTION SNAPSHOT).
 */
bool		trib_source_pg_open(trib_source_pg *src, char *errbuf, size_t errlen);

/* Did open() create the slot?  Its exported snapshot name, or NULL. */
bool		trib_source_pg_slot_created(const trib_source_pg *src);
const char *trib_source_pg_snapshot_name(const trib_source_pg *src);

/*
 * Start streaming after `resume` (the durable checkpoint: commit_lsn and
 * seq, seq TRIB_SEQ_ALL for a whole transaction), or from the slot's
 * position when resume is NULL.  Retries transient failures until
 * `retry_ms` has passed (0: one attempt).
 */
bool		trib_source_pg_start(trib_source_pg *src, const trib_position *resume,
								 int retry_ms, char *errbuf, size_t errlen);

/*
 * Wait up to timeout_ms for records; put at most `max` of them in out[]
 * (the caller frees each with trib_pgrec_free()).  Returns the number
 * delivered (0 on timeout, also while reconnecting), or -1 on a fatal
 * error.  Returns as soon as something is delivered and no more is
 * immediately available.  Sends status updates and heartbeats as due.
 */
int			trib_source_pg_poll(trib_source_pg *src, trib_pgrec **out, int max,
								int timeout_ms, char *errbuf, size_t errlen);

/*
 * Also return (0 records) from the polls' waits once fd is readable (a
 * sink's acks, source.h wake_fd); where the stream is read by the reader's
 * thread, which it cannot watch, the waits last 1 ms at most instead.
 * 0 or less: none.
 */
/* Free a record trib_source_pg_poll() gave, keeping its memory for the
 * parser's next records (trib_pgrec_release). */
void		trib_source_pg_release(trib_source_pg *src, trib_pgrec *rec);
/*
 * Records of an earlier poll to release while the next one parses: one
 * before each record parsed (so that each record's frees precede the next
 * record's mallocs of the same sizes), the rest at the next call.  `recs`
 * is borrowed until that call; (NULL, 0) releases what is left.
 */
void		trib_source_pg_release_later(trib_source_pg *src, trib_pgrec **recs, int n);
void		trib_source_pg_set_wake_fd(trib_source_pg *src, int fd);

/*
 * The oldest PREPARE LSN of a prepared transaction held or being delivered;
 * false when none.  Confirm no further (see Two-phase above).
 */
bool		trib_source_pg_prepared_floor(const trib_source_pg *src, uint64_t *lsn);

/* Everything up to `lsn` is durable in every sink; may be reported. */
void		trib_source_pg_confirm(trib_source_pg *src, uint64_t lsn);

/* Send a status update now (e.g. before a clean shutdown). */
bool		trib_source_pg_flush_status(trib_source_pg *src, char *errbuf,
										size_t errlen);

/* Is the replication connection up and streaming? */
bool		trib_source_pg_streaming(const trib_source_pg *src);

void		trib_source_pg_stats_get(const trib_source_pg *src,
									 trib_source_pg_stats *out);

/* Send a last status update, end the stream and free everything. */
void		trib_source_pg_free(trib_source_pg *src);

/* A boolean plugin option's value as PostgreSQL reads it: on/off,
 * true/false, yes/no, 1/0 in any case; NULL (a bare option) is true.
 * False for anything else. */
bool		trib_pg_option_bool(const char *value, bool *out);

/* Where spill files go by default: $TMPDIR, else /var/tmp. */
const char *trib_pg_default_spill_dir(void);

/* A conninfo with the password blanked, for logs.  Caller frees. */
char	   *trib_pg_dsn_redacted(const char *dsn);

#endif							/* TRIB_SOURCE_PG_H */
