/*
 * mysql_conn.c: connections and bound queries (mysql_conn.h).
 *
 * trib_my_select() uses the prepared-statement API with every parameter
 * bound as a string and every result column fetched as a string: the
 * server converts, and a value that does not fit the first buffer is
 * fetched again in full with mysql_stmt_fetch_column().
 */
#include "mysql_conn.h"

#include <errmsg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mysql_int.h"
#include "strbuf.h"
#include "xalloc.h"

void
trib_my_conn_where(const trib_my_conn_conf *conf, char *buf, size_t len)
{
	if (conf->socket && conf->socket[0])
		snprintf(buf, len, "%s", conf->socket);
	else
		snprintf(buf, len, "%s:%u", conf->host ? conf->host : "127.0.0.1",
				 conf->port ? conf->port : 3306);
}

bool
trib_my_error_retryable(unsigned errnum)
{
	switch (errnum)
	{
		case CR_CONNECTION_ERROR:
		case CR_CONN_HOST_ERROR:
		case CR_SERVER_GONE_ERROR:
		case CR_SERVER_LOST:
		case CR_SERVER_LOST_EXTENDED:
		case 1040:				/* ER_CON_COUNT_ERROR: too many connections */
		case 1053:				/* ER_SERVER_SHUTDOWN */
		case 1927:				/* ER_CONNECTION_KILLED (MariaDB) */
			return true;
		default:
			return false;
	}
}

MYSQL *
trib_my_connect(const trib_my_conn_conf *conf, unsigned *errnum,
				char *errbuf, size_t errlen)
{
	MYSQL	   *m = mysql_init(NULL);
	unsigned	ct = conf->connect_timeout_s > 0 ? (unsigned) conf->connect_timeout_s : 10;
	unsigned	rt = (unsigned) (conf->read_timeout_s > 0 ? conf->read_timeout_s : 0);
	char		where[300];
	bool		tcp = !(conf->socket && conf->socket[0]);
	unsigned	proto = tcp ? MYSQL_PROTOCOL_TCP : MYSQL_PROTOCOL_SOCKET;

	if (errnum)
		*errnum = 0;
	if (m == NULL)
		return trib_my_fail(errbuf, errlen, "mysql_init: out of memory"), NULL;
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
	mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &ct);
	if (rt)
		mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &rt);
	mysql_options(m, MYSQL_OPT_PROTOCOL, &proto);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (!mysql_real_connect(m, tcp ? (conf->host ? conf->host : "127.0.0.1") : NULL,
							conf->user, conf->password ? conf->password : "", NULL,
							conf->port ? conf->port : 3306,
							tcp ? NULL : conf->socket, 0))
	{
		trib_my_conn_where(conf, where, sizeof(where));
		trib_my_fail(errbuf, errlen, "connecting to %s as %s: %s (error %u)", where,
					 conf->user ? conf->user : "(none)", mysql_error(m),
					 mysql_errno(m));
		if (errnum)
			*errnum = mysql_errno(m);
		mysql_close(m);
		return NULL;
	}
	return m;
}

bool
trib_my_exec(MYSQL *m, const char *sql, char *errbuf, size_t errlen)
{
	if (mysql_query(m, sql) != 0)
		return trib_my_fail(errbuf, errlen, "%s: %s (error %u)", sql, mysql_error(m),
							mysql_errno(m));
	/* a statement with a result (SET does not have one) */
	mysql_free_result(mysql_store_result(m));
	return true;
}

const char *
trib_my_cell(const trib_my_rows *r, int row, int col)
{
	if (row < 0 || row >= r->nrows || col < 0 || col >= r->ncols)
		return NULL;
	return r->cells[(size_t) row * (size_t) r->ncols + (size_t) col];
}

void
trib_my_rows_free(trib_my_rows *r)
{
	for (size_t i = 0; i < (size_t) r->nrows * (size_t) r->ncols; i++)
		free(r->cells[i]);
	free(r->cells);
	memset(r, 0, sizeof(*r));
}

/* The statement's error as a message (and its number in *errnum). */
static bool
stmt_fail(MYSQL_STMT *st, const char *sql, unsigned *errnum, char *errbuf, size_t errlen)
{
	if (errnum)
		*errnum = mysql_stmt_errno(st);
	return trib_my_fail(errbuf, errlen, "%.80s...: %s (error %u)", sql,
						mysql_stmt_error(st), mysql_stmt_errno(st));
}

/* Fetch every row of an executed statement as strings into out. */
static bool
fetch_all(MYSQL_STMT *st, const char *sql, trib_my_rows *out, unsigned *errnum,
		  char *errbuf, size_t errlen)
{
	int			ncols = (int) mysql_stmt_field_count(st);
	MYSQL_BIND *b = trib_xcalloc((size_t) (ncols ? ncols : 1), sizeof(MYSQL_BIND));
	unsigned long *len = trib_xcalloc((size_t) (ncols ? ncols : 1), sizeof(unsigned long));
	my_bool    *isnull = trib_xcalloc((size_t) (ncols ? ncols : 1), sizeof(my_bool));
	char	   *bufs = trib_xcalloc((size_t) (ncols ? ncols : 1), 256);
	int			rc;
	size_t		cap = 0;
	bool		ok = true;

	out->ncols = ncols;
	for (int i = 0; i < ncols; i++)
	{
		b[i].buffer_type = MYSQL_TYPE_STRING;
		b[i].buffer = bufs + 256 * i;
		b[i].buffer_length = 256;
		b[i].length = &len[i];
		b[i].is_null = &isnull[i];
	}
	if (mysql_stmt_bind_result(st, b) || mysql_stmt_store_result(st))
		ok = stmt_fail(st, sql, errnum, errbuf, errlen);
	while (ok && ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED))
	{
		/* one element is a row of ncols cells */
		out->cells = trib_xgrow(out->cells, (size_t) out->nrows, &cap,
								sizeof(char *) * (size_t) (ncols ? ncols : 1), 16);
		for (int i = 0; i < ncols; i++)
		{
			char	  **cell = &out->cells[(size_t) out->nrows * (size_t) ncols + (size_t) i];

			*cell = NULL;
			if (isnull[i])
				continue;
			*cell = trib_xmalloc(len[i] + 1);
			if (len[i] <= 256)
				memcpy(*cell, b[i].buffer, len[i]);
			else
			{
				MYSQL_BIND	one = {0};

				one.buffer_type = MYSQL_TYPE_STRING;
				one.buffer = *cell;
				one.buffer_length = len[i];
				if (mysql_stmt_fetch_column(st, &one, (unsigned) i, 0))
					memset(*cell, 0, len[i]);
			}
			(*cell)[len[i]] = '\0';
		}
		out->nrows++;
	}
	if (ok && rc == 1)
		ok = stmt_fail(st, sql, errnum, errbuf, errlen);
	free(b);
	free(len);
	free(isnull);
	free(bufs);
	return ok;
}

/* See mysql_conn.h. */
bool
trib_my_select_errnum(MYSQL *m, const char *sql, const char *const *params, int nparams,
					  trib_my_rows *out, unsigned *errnum, char *errbuf, size_t errlen)
{
	MYSQL_STMT *st = mysql_stmt_init(m);
	MYSQL_BIND *pb = trib_xcalloc((size_t) (nparams ? nparams : 1), sizeof(MYSQL_BIND));
	unsigned long *plen = trib_xcalloc((size_t) (nparams ? nparams : 1), sizeof(unsigned long));
	bool		ok = true;

	memset(out, 0, sizeof(*out));
	if (errnum)
		*errnum = 0;
	if (st == NULL)
		ok = trib_my_fail(errbuf, errlen, "mysql_stmt_init: %s", mysql_error(m));
	else if (mysql_stmt_prepare(st, sql, (unsigned long) strlen(sql)))
		ok = stmt_fail(st, sql, errnum, errbuf, errlen);
	for (int i = 0; ok && i < nparams; i++)
	{
		plen[i] = (unsigned long) strlen(params[i]);
		pb[i].buffer_type = MYSQL_TYPE_STRING;
		pb[i].buffer = (void *) params[i];
		pb[i].buffer_length = plen[i];
		pb[i].length = &plen[i];
	}
	if (ok && nparams > 0 && mysql_stmt_bind_param(st, pb))
		ok = stmt_fail(st, sql, errnum, errbuf, errlen);
	if (ok && mysql_stmt_execute(st))
		ok = stmt_fail(st, sql, errnum, errbuf, errlen);
	if (ok && mysql_stmt_field_count(st) > 0)
		ok = fetch_all(st, sql, out, errnum, errbuf, errlen);
	if (!ok)
		trib_my_rows_free(out);
	if (st)
		mysql_stmt_close(st);
	free(pb);
	free(plen);
	return ok;
}

bool
trib_my_select(MYSQL *m, const char *sql, const char *const *params, int nparams,
			   trib_my_rows *out, char *errbuf, size_t errlen)
{
	return trib_my_select_errnum(m, sql, params, nparams, out, NULL, errbuf, errlen);
}

/* See mysql_conn.h. */
bool
trib_my_rows_once(const trib_my_conn_conf *conf, const char *sql, trib_my_rows *out,
				  unsigned *errnum, char *errbuf, size_t errlen)
{
	MYSQL	   *m = trib_my_connect(conf, errnum, errbuf, errlen);
	bool		ok;

	memset(out, 0, sizeof(*out));
	if (m == NULL)
		return false;
	ok = trib_my_select_errnum(m, sql, NULL, 0, out, errnum, errbuf, errlen);
	mysql_close(m);
	return ok;
}

/* See mysql_conn.h. */
const char *
trib_my_keep(char **slots, int i, const char *s)
{
	slots[i] = s ? trib_xstrdup(s) : NULL;
	return slots[i];
}

/* See mysql_conn.h. */
void
trib_my_strings_free(char **slots, int n)
{
	if (n > TRIB_MY_SLOT_PASSWORD && slots[TRIB_MY_SLOT_PASSWORD])
		memset(slots[TRIB_MY_SLOT_PASSWORD], 0, strlen(slots[TRIB_MY_SLOT_PASSWORD]));
	for (int i = 0; i < n; i++)
		free(slots[i]);
}

/* See mysql_conn.h. */
void
trib_my_conn_keep(trib_my_conn_conf *dst, const trib_my_conn_conf *src, char **slots)
{
	*dst = *src;
	dst->host = trib_my_keep(slots, 0, src->host);
	dst->socket = trib_my_keep(slots, 1, src->socket);
	dst->user = trib_my_keep(slots, 2, src->user);
	dst->password = trib_my_keep(slots, TRIB_MY_SLOT_PASSWORD, src->password);
}

/* See mysql_conn.h. */
void
trib_my_thread_start(void)
{
	mysql_thread_init();
}
