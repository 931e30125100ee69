/*
 * mysql_conn.h: connecting to a MySQL/MariaDB server with Connector/C, and
 * running queries whose values are bound, never spliced into SQL.
 *
 * Design.  Every connection of the source (the binlog dump, the
 * information_schema reader, the preconditions check) is made here, with
 * the same options: utf8mb4, connect/read/write timeouts, TCP or a Unix
 * socket.  Errors come back as "connecting to HOST:PORT as USER: <the
 * server's message> (error N)"; the password never appears.
 *
 * trib_my_select() runs a prepared statement with string parameters and
 * returns all rows as strings (NULL for SQL NULL): small catalog queries,
 * where convenience matters more than speed.
 */
#ifndef TRIB_MYSQL_CONN_H
#define TRIB_MYSQL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

typedef struct trib_my_conn_conf
{
	const char *host;			/* default "127.0.0.1" */
	unsigned	port;			/* default 3306 */
	const char *socket;			/* a Unix socket instead of TCP, or NULL */
	const char *user;
	const char *password;		/* NULL: none */
	int			connect_timeout_s;	/* default 10 */
	int			read_timeout_s; /* 0: none (a binlog dump waits) */
} trib_my_conn_conf;

/* The result of trib_my_select(): rows x cols strings. */
typedef struct trib_my_rows
{
	int			nrows;
	int			ncols;
	char	  **cells;			/* row-major; NULL for SQL NULL */
} trib_my_rows;

/* Connect; NULL with errbuf.  *errnum (may be NULL) gets the error
 * number (mysql_errno) so callers can tell retryable failures. */
MYSQL	   *trib_my_connect(const trib_my_conn_conf *conf, unsigned *errnum,
							char *errbuf, size_t errlen);

/* Run a statement without parameters or results. */
bool		trib_my_exec(MYSQL *m, const char *sql, char *errbuf, size_t errlen);

/* Run sql with `nparams` string parameters (? placeholders); fill *out. */
bool		trib_my_select(MYSQL *m, const char *sql, const char *const *params,
						   int nparams, trib_my_rows *out,
						   char *errbuf, size_t errlen);

/* trib_my_select() that also gives the server's error number (0 if none). */
bool		trib_my_select_errnum(MYSQL *m, const char *sql, const char *const *params,
								  int nparams, trib_my_rows *out, unsigned *errnum,
								  char *errbuf, size_t errlen);

/* The rows of a statement without parameters, on a connection of its
 * own, closed after it; false with errbuf and *errnum (may be NULL; the
 * connect's or the query's error number), then *out needs no freeing. */
bool		trib_my_rows_once(const trib_my_conn_conf *conf, const char *sql,
							  trib_my_rows *out, unsigned *errnum,
							  char *errbuf, size_t errlen);

/* Cell (row, col) of a result; NULL for SQL NULL. */
const char *trib_my_cell(const trib_my_rows *r, int row, int col);

void		trib_my_rows_free(trib_my_rows *r);

/* Copies kept by an owner (a reader, the facade): slot i holds a copy of
 * s (or NULL) and is returned; trib_my_strings_free() frees n slots,
 * zeroing TRIB_MY_SLOT_PASSWORD's first. */
#define TRIB_MY_SLOT_PASSWORD 3
const char *trib_my_keep(char **slots, int i, const char *s);
void		trib_my_strings_free(char **slots, int n);

/* *dst = *src with its strings copied into slots[0..3] (host, socket,
 * user, password). */
void		trib_my_conn_keep(trib_my_conn_conf *dst, const trib_my_conn_conf *src,
							  char **slots);

/* "HOST:PORT" or the socket path, for messages. */
void		trib_my_conn_where(const trib_my_conn_conf *conf, char *buf, size_t len);

/* Is this client/server error one a reconnect may fix (a lost or refused
 * connection) rather than one that needs a person (access, purged log)? */
bool		trib_my_error_retryable(unsigned errnum);

/* The MySQL client's set-up of a lib/asker.h worker thread
 * (mysql_thread_init; its thread_end is mysql_thread_end), for the table
 * lookup (mysql_lookup.c) and the lag probe (mysql_lag_probe.c). */
void		trib_my_thread_start(void);

#endif							/* TRIB_MYSQL_CONN_H */
