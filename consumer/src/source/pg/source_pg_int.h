/*
 * source_pg_int.h: the PostgreSQL replication client's state (struct
 * trib_source_pg) and what its files share; private to source/pg/.  The
 * files:
 *   source_pg.c         the design (its top comment), options, new and free
 *   source_pg_conn.c    connecting, the extension and slot, START_REPLICATION,
 *                       retries, the one cleanup path
 *   source_pg_dial.c    a connection made on a thread of its own
 *   source_pg_reconnect.c  the reconnection from poll, never blocking: the
 *                       connection dialled off the loop, START_REPLICATION
 *                       sent and its answer awaited without blocking
 *   source_pg_heartbeat.c  heartbeats on a connection of their own, never
 *                       blocking
 *   source_pg_reader.c  the stream's messages read by the loop while light,
 *                       on a thread of their own while heavy
 *   source_pg_stream.c  the CopyBoth stream: messages, records, status
 *                       updates, heartbeats, confirmations
 */
#ifndef TRIB_SOURCE_PG_INT_H
#define TRIB_SOURCE_PG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "pgprepared.h"
#include "pgrecord.h"
#include "source_pg.h"
#include "source_pg_reader.h"

/* Microseconds from the Unix epoch to 2000-01-01, PostgreSQL's epoch. */
#define PG_EPOCH_OFFSET_US INT64_C(946684800000000)

/* No message from the server for this long means the link is dead. */
#define RECV_TIMEOUT_MS 120000

/* Held prepared transactions in memory when the caller does not say. */
#define DEFAULT_PREPARED_MEMORY ((size_t) 64 << 20)

/* Retry "slot is active" at least this often. */
#define SLOT_BUSY_MAX_DELAY_MS 1000

/* The keywords and values of a connection (spg_params_make). */
typedef struct spg_params
{
	PQconninfoOption *opts;		/* the parsed dsn, which kw and val point into */
	const char **kw;
	const char **val;
	char		tmo[16];		/* our connect_timeout */
} spg_params;

/* A connection being made on a thread (source_pg_dial.c). */
typedef struct spg_dial spg_dial;

/* Where a reconnection from poll stands (source_pg_reconnect.c). */
typedef enum spg_rc_phase
{
	SPG_RC_IDLE,				/* none under way */
	SPG_RC_DIAL,				/* connecting, on the dial's thread */
	SPG_RC_START				/* START_REPLICATION sent, its answer awaited */
} spg_rc_phase;

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
	int			wake_fd;		/* trib_source_pg_set_wake_fd; <= 0: none */
	int			heartbeat_interval_ms;
	int			reconnect_min_ms;
	int			reconnect_max_ms;
	int			connect_timeout_s;
	void		(*log) (int level, const char *msg, void *arg);
	void	   *log_arg;
	bool		log_timeline;	/* source_pg.h */

	/* connections */
	PGconn	   *conn;			/* replication */
	PGconn	   *hbconn;			/* heartbeat */
	spg_dial   *hb_dial;		/* its connection being made */
	bool		hb_due;			/* a heartbeat waits for hbconn */
	bool		hb_busy;		/* a heartbeat sent, its answer awaited */
	int64_t		hb_sent_ms;
	bool		streaming;		/* in CopyBoth */
	spg_reader *reader;			/* reads conn while streaming */
	bool		opened;			/* extension/slot steps done */
	bool		slot_created;
	char	   *snapshot_name;
	spg_rc_phase rc_phase;		/* a reconnection from poll under way */
	spg_dial   *dial;			/* in SPG_RC_DIAL */
	int64_t		rc_deadline_ms; /* in SPG_RC_START: give up then */

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
	trib_pgrec_parser *parser;
	/* records to release while parsing (trib_source_pg_release_later):
	 * rel[irel..nrel), borrowed array */
	trib_pgrec **rel;
	int			nrel;
	int			irel;
	trib_pgasm *asm_;
	trib_pgprep *prep;			/* prepared transactions; the caller's queue */

	trib_source_pg_stats stats;
};

/* Outcome of one attempt: 1 ok, 0 retry later, -1 fatal. */
typedef int spg_attempt_rc;

/* source_pg.c */
void		spg_slog(trib_source_pg *src, int level, const char *fmt,...);
const char *spg_conn_error(PGconn *conn, char *buf, size_t len);

/* source_pg_conn.c */
bool		spg_valid_slot_name(const char *s);
bool		spg_params_make(trib_source_pg *src, bool replication, spg_params *p,
							char *errbuf, size_t errlen);
void		spg_params_free(spg_params *p);
PGconn	   *spg_params_connect(const spg_params *p, bool *final, char *errbuf, size_t errlen);
char	   *spg_start_command(trib_source_pg *src);
spg_attempt_rc spg_started(trib_source_pg *src, PGresult *res, bool *slot_busy,
						char *errbuf, size_t errlen);
int			spg_attempt_done(trib_source_pg *src, spg_attempt_rc rc, bool slot_busy,
							 const char *why, char *errbuf, size_t errlen);
PGconn	   *spg_connect_db(trib_source_pg *src, bool replication, bool *final, char *errbuf, size_t errlen);
void		spg_disconnect(trib_source_pg *src);
void		spg_schedule_retry(trib_source_pg *src, bool slot_busy);
spg_attempt_rc spg_result_failure(trib_source_pg *src, PGresult *res, const char *what, bool *slot_busy, char *errbuf, size_t errlen);
int			spg_try_reconnect(trib_source_pg *src, char *errbuf, size_t errlen);

/* source_pg_dial.c */
spg_dial   *spg_dial_start(trib_source_pg *src, bool replication, char *errbuf, size_t errlen);
bool		spg_dial_wait(spg_dial *d, int timeout_ms);
PGconn	   *spg_dial_take(spg_dial *d, bool *final, char *errbuf, size_t errlen);
void		spg_dial_abandon(spg_dial *d);

/* source_pg_reconnect.c */
int			spg_reconnect_step(trib_source_pg *src, int wait_ms, char *errbuf, size_t errlen);

/* source_pg_heartbeat.c */
void		spg_heartbeat(trib_source_pg *src, int64_t now);
void		spg_heartbeat_close(trib_source_pg *src);

/* source_pg_stream.c */
bool		spg_send_status(trib_source_pg *src, bool reply_requested, char *errbuf, size_t errlen);

#endif							/* TRIB_SOURCE_PG_INT_H */
