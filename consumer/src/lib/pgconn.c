/*
 * pgconn.c: connections whose errors say whether to retry; see pgconn.h.
 */
#include "pgconn.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "strbuf.h"

/* See pgconn.h. */
bool
trib_pq_sqlstate_final(const char *sqlstate)
{
	static const char *const final[] = {
		"28000",				/* invalid_authorization_specification */
		"28P01",				/* invalid_password */
		"3D000",				/* invalid_catalog_name: no such database */
		"42501",				/* insufficient_privilege */
		NULL
	};

	for (int i = 0; sqlstate != NULL && final[i] != NULL; i++)
		if (strcmp(sqlstate, final[i]) == 0)
			return true;
	return false;
}

/* The value of a connection option of conn, or NULL. */
static const char *
option(PQconninfoOption *opts, const char *keyword)
{
	for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, keyword) == 0)
			return o->val && o->val[0] ? o->val : NULL;
	return NULL;
}

/* How many hosts `host` or `hostaddr` list (comma-separated). */
static int
host_count(PQconninfoOption *opts)
{
	int			most = 1;

	for (int k = 0; k < 2; k++)
	{
		const char *v = option(opts, k == 0 ? "host" : "hostaddr");
		int			n = 1;

		for (; v != NULL && *v; v++)
			n += *v == ',';
		if (n > most)
			most = n;
	}
	return most;
}

/* libpq's connect_timeout in ms (at least 2 s), or -1 for none. */
static int
timeout_ms(PQconninfoOption *opts)
{
	const char *v = option(opts, "connect_timeout");
	long		s = v ? strtol(v, NULL, 10) : 0;

	if (s <= 0)
		return -1;
	return (int) (s < 2 ? 2 : s > 86400 ? 86400 : s) * 1000;
}

/* Wait for the socket as PQconnectPoll asked; false when the deadline
 * (-1: none) passed first. */
static bool
wait_socket(int sock, bool reading, int64_t deadline)
{
	struct pollfd pfd = {.fd = sock, .events = reading ? POLLIN : POLLOUT};

	for (;;)
	{
		int			left = deadline < 0 ? -1 : (int) (deadline - trib_clock_mono_ms());
		int			rc;

		if (deadline >= 0 && left <= 0)
			return false;
		rc = poll(&pfd, 1, left);
		if (rc > 0 || (rc < 0 && errno != EINTR))
			return true;		/* ready, or let PQconnectPoll see the error */
		if (rc == 0)
			return false;
	}
}

/* The position of "SEVERITY:  XXXXX: " in a verbose line: the code's
 * offset, or NULL. */
static const char *
find_sqlstate(const char *line)
{
	for (const char *p = strstr(line, ":  "); p != NULL; p = strstr(p + 1, ":  "))
	{
		const char *c = p + 3;

		if (strspn(c, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") >= 5 && c[5] == ':' &&
			c[6] == ' ')
			return c;
	}
	return NULL;
}

/* libpq's (verbose) error text as one line, with the last SQLSTATE it
 * names taken out and appended. */
static void
describe(const char *text, trib_pq_error *err)
{
	char	   *copy = trib_xstrdup(text ? text : "out of memory");
	char	   *save = NULL;
	trib_strbuf b = {0};

	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		const char *code;

		line += strspn(line, " \t");
		if (*line == '\0' || strncmp(line, "LOCATION:", 9) == 0)
			continue;
		if (b.len)
			trib_strbuf_addc(&b, ' ');
		if ((code = find_sqlstate(line)) != NULL)
		{
			memcpy(err->sqlstate, code, 5);
			err->sqlstate[5] = '\0';
			trib_strbuf_add(&b, line, (size_t) (code - line));
			trib_strbuf_adds(&b, code + 7);
		}
		else
			trib_strbuf_adds(&b, line);
	}
	if (err->sqlstate[0])
		trib_strbuf_printf(&b, " (SQLSTATE %s)", err->sqlstate);
	snprintf(err->message, sizeof(err->message), "%s", b.len ? b.data : "unknown error");
	err->final = trib_pq_sqlstate_final(err->sqlstate);
	trib_strbuf_free(&b);
	free(copy);
}

/* Drive a started connection to its end; false when connect_timeout
 * passed on one address (err filled). */
static bool
complete(PGconn *conn, int timeout, trib_pq_error *err)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	int			sock = -2;
	int64_t		deadline = -1;

	while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED)
	{
		if (PQsocket(conn) != sock)
		{
			sock = PQsocket(conn);	/* a new address: its own timeout */
			deadline = timeout < 0 ? -1 : trib_clock_mono_ms() + timeout;
		}
		if (!wait_socket(sock, st == PGRES_POLLING_READING, deadline))
		{
			snprintf(err->message, sizeof(err->message),
					 "connection to server at \"%s\", port %s failed: timeout expired",
					 PQhost(conn) ? PQhost(conn) : "?", PQport(conn) ? PQport(conn) : "?");
			return false;
		}
		st = PQconnectPoll(conn);
	}
	return true;
}

/* See pgconn.h. */
PGconn *
trib_pq_connect(const char *const *keywords, const char *const *values,
				int expand_dbname, trib_pq_error *err)
{
	PGconn	   *conn = PQconnectStartParams(keywords, values, expand_dbname);
	PQconninfoOption *opts = conn ? PQconninfo(conn) : NULL;
	bool		waited = true;

	memset(err, 0, sizeof(*err));
	if (conn != NULL && PQstatus(conn) != CONNECTION_BAD && host_count(opts) > 1)
	{
		/* several hosts: libpq's failover and per-host timeouts */
		PQfinish(conn);
		conn = PQconnectdbParams(keywords, values, expand_dbname);
	}
	else if (conn != NULL && PQstatus(conn) != CONNECTION_BAD)
	{
		PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
		waited = complete(conn, timeout_ms(opts), err);
	}
	PQconninfoFree(opts);
	if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
	{
		PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);	/* later errors as usual */
		return conn;
	}
	if (waited)
		describe(conn ? PQerrorMessage(conn) : NULL, err);
	PQfinish(conn);
	return NULL;
}

/* See pgconn.h. */
const char *
trib_pq_error_text(PGconn *conn, char *buf, size_t len)
{
	size_t		n;

	snprintf(buf, len, "%s", conn ? PQerrorMessage(conn) : "no connection");
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}
