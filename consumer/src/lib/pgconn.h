/*
 * pgconn.h: connecting to PostgreSQL with an error that says whether to
 * try again.
 *
 * Why.  libpq reports a failed connection as text only: the SQLSTATE of the
 * server's refusal (28P01 wrong password, 3D000 no such database) is not
 * part of its API, so a daemon cannot tell "the server is not up yet" from
 * "the credentials are wrong" and either gives up on a restart or retries a
 * wrong password forever.
 *
 * How.  trib_pq_connect() takes PQconnectdbParams()'s arguments, starts the
 * connection without blocking (PQconnectStartParams), asks for verbose
 * error messages before the server has said anything, and drives
 * PQconnectPoll() itself, honouring connect_timeout (at least 2 s, as
 * libpq counts it, per address; when it passes, the attempt ends with a
 * retryable error where libpq would try the host's next address).  The
 * server's refusal then reads "FATAL:  28P01: password authentication
 * failed ...": the code is taken out of the text, the LOCATION line
 * dropped, and the message handed back as libpq would have printed it, on
 * one line, with " (SQLSTATE 28P01)" appended.  A connection that succeeds
 * is handed over with the default verbosity again.  A connection string
 * naming several hosts is left to PQconnectdbParams() (libpq's failover
 * and per-host timeouts); its errors carry no SQLSTATE and are retryable.
 *
 * Final errors: the server refused who we are or what we asked for, which
 * only a change of configuration (or of the server's roles and pg_hba.conf)
 * fixes: 28000 (no such role, rejected by pg_hba.conf, not allowed to log
 * in), 28P01 (password), 3D000 (no such database), 42501 (no CONNECT or
 * REPLICATION privilege).  Everything else, including a refused or timed
 * out connection, 53300 (too many connections) and 57P03 (starting up,
 * shutting down), is worth retrying.
 *
 * Messages never contain the password: libpq does not print it, and the
 * caller's log redacts every registered secret anyway (log.h).
 */
#ifndef TRIB_PGCONN_H
#define TRIB_PGCONN_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

typedef struct trib_pq_error
{
	char		sqlstate[6];	/* the server's code; "" when it sent none */
	bool		final;			/* retrying the same connection cannot help */
	char		message[1024];	/* one line, "(SQLSTATE x)" appended */
} trib_pq_error;

/*
 * Connect as PQconnectdbParams(keywords, values, expand_dbname) would.
 * Returns the connection (CONNECTION_OK), or NULL with *err filled.
 */
PGconn	   *trib_pq_connect(const char *const *keywords, const char *const *values,
							int expand_dbname, trib_pq_error *err);

/* Does a connection refused with this SQLSTATE stay refused? */
bool		trib_pq_sqlstate_final(const char *sqlstate);

/* libpq's last error on conn ("no connection" when conn is NULL) into buf,
 * without its trailing newlines; returns buf. */
const char *trib_pq_error_text(PGconn *conn, char *buf, size_t len);

#endif							/* TRIB_PGCONN_H */
