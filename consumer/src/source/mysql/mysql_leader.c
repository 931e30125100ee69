/*
 * mysql_leader.c: the pipeline lock as a MySQL/MariaDB user-level lock
 * (GET_LOCK).  See mysql_leader.h.
 *
 * Every statement binds the lock's name as a parameter (mysql_conn.h).
 * The lock's connection has a read timeout (TRIB_MY_LOCK_TIMEOUT_S), so
 * that a check on a server that stopped answering fails rather than hangs;
 * test_leader_mysql proves it against a fake server that goes silent.
 */
#include "mysql_leader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "errf.h"
#include "hex.h"

#define LOCK_PREFIX "tributary.pipeline"

typedef struct my_lock
{
	trib_my_conn_conf cc;
	char	   *slots[4];		/* cc's strings */
	char		name[TRIB_MY_LOCK_NAME_MAX + 1];
	char		where[300];		/* HOST:PORT, for messages */
	MYSQL	   *m;
} my_lock;

/* See mysql_leader.h. */
void
trib_my_lock_name(const char *pipeline, char out[TRIB_MY_LOCK_NAME_MAX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char		hex[2 * EVP_MAX_MD_SIZE + 1];
	int			n = snprintf(out, TRIB_MY_LOCK_NAME_MAX + 1, LOCK_PREFIX ":%s", pipeline);

	if (n >= 0 && n <= TRIB_MY_LOCK_NAME_MAX)
		return;
	if (!EVP_Digest(pipeline, strlen(pipeline), md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		abort();				/* SHA-256 is always there */
	trib_hex_encode(md, mdlen, hex);
	snprintf(out, TRIB_MY_LOCK_NAME_MAX + 1, LOCK_PREFIX "#%.*s",
			 TRIB_MY_LOCK_NAME_MAX - (int) sizeof(LOCK_PREFIX), hex);
}

/* Close the connection (the server releases the lock with it). */
static void
drop_conn(my_lock *l)
{
	if (l->m)
		mysql_close(l->m);
	l->m = NULL;
}

/* A new connection to the lock's server: NULL with errbuf, and *final
 * when the server refused us (access, database) rather than being away. */
static MYSQL *
connect_server(my_lock *l, bool *final, char *errbuf, size_t errlen)
{
	unsigned	errnum = 0;
	MYSQL	   *m = trib_my_connect(&l->cc, &errnum, errbuf, errlen);

	/* server errors (below 2000) but those a reconnect may fix are final;
	 * client errors (no route, refused, timed out) are retried */
	*final = m == NULL && errnum < 2000 && !trib_my_error_retryable(errnum);
	return m;
}

/* The one cell of a query whose one parameter is the lock's name, into
 * val (NULL: ""; *isnull says which). */
static bool
query_one(my_lock *l, MYSQL *m, const char *sql, char *val, size_t vlen,
		  bool *isnull, char *errbuf, size_t errlen)
{
	const char *const params[1] = {l->name};
	trib_my_rows r = {0};
	const char *c;

	if (!trib_my_select(m, sql, params, 1, &r, errbuf, errlen))
		return false;
	if (r.nrows != 1)
	{
		trib_my_rows_free(&r);
		return trib_errf(errbuf, errlen, "%s: %d rows instead of 1", sql, r.nrows);
	}
	c = trib_my_cell(&r, 0, 0);
	*isnull = c == NULL;
	snprintf(val, vlen, "%s", c ? c : "");
	trib_my_rows_free(&r);
	return true;
}

/* leader.h try_lock: GET_LOCK(name, 0) on our connection. */
static int
my_try_lock(void *impl, char *errbuf, size_t errlen)
{
	my_lock    *l = impl;
	char		val[32],
				e[512];
	bool		isnull = false,
				final = false;

	if (!l->m && (l->m = connect_server(l, &final, e, sizeof(e))) == NULL)
	{
		trib_errf(errbuf, errlen, "pipeline lock: %s", e);
		return final ? -2 : -1;
	}
	if (!query_one(l, l->m, "SELECT GET_LOCK(?, 0)", val, sizeof(val), &isnull, e, sizeof(e)) ||
		isnull)
	{
		trib_errf(errbuf, errlen, "pipeline lock: GET_LOCK on %s failed: %s", l->where,
				  isnull ? "NULL" : e);
		drop_conn(l);
		return -1;
	}
	return strcmp(val, "1") == 0;
}

/* leader.h check: is the lock still ours? */
static bool
my_check(void *impl, char *errbuf, size_t errlen)
{
	my_lock    *l = impl;
	char		val[32],
				e[512];
	bool		isnull = false;

	if (!l->m)
		return trib_errf(errbuf, errlen, "leader: not holding the lock");
	if (!query_one(l, l->m, "SELECT IS_USED_LOCK(?) = CONNECTION_ID()", val, sizeof(val),
				   &isnull, e, sizeof(e)))
	{
		trib_errf(errbuf, errlen, "leader: lock lost: its connection to %s failed: %s",
				  l->where, e);
		drop_conn(l);
		return false;
	}
	if (isnull || strcmp(val, "1") != 0)
	{
		trib_errf(errbuf, errlen, "leader: lock lost: %s is not held by this connection any more",
				  l->name);
		drop_conn(l);
		return false;
	}
	return true;
}

/* leader.h probe: is the lock free; else which connection holds it? */
static int
my_probe(void *impl, char *buf, size_t len)
{
	my_lock    *l = impl;
	char		id[32],
				who[512],
				e[512];
	bool		isnull = false,
				final = false;
	MYSQL	   *m = connect_server(l, &final, e, sizeof(e));
	int			rc;

	if (m == NULL)
	{
		trib_errf(buf, len, "%s", e);
		return -1;
	}
	if (!query_one(l, m, "SELECT IS_USED_LOCK(?)", id, sizeof(id), &isnull, e, sizeof(e)))
	{
		trib_errf(buf, len, "IS_USED_LOCK failed: %s", e);
		rc = -1;
	}
	else if (isnull)
	{
		trib_errf(buf, len, "%s is free (GET_LOCK on %s)", l->name, l->where);
		rc = 1;
	}
	else
	{
		trib_my_rows r = {0};
		const char *const params[1] = {id};

		/* the holder's user and host, where PROCESS lets us see them */
		who[0] = '\0';
		if (trib_my_select(m, "SELECT CONCAT(USER, '@', HOST) FROM information_schema.PROCESSLIST "
						   "WHERE ID = ?", params, 1, &r, e, sizeof(e)) &&
			r.nrows == 1 && trib_my_cell(&r, 0, 0) != NULL)
			snprintf(who, sizeof(who), " (%s)", trib_my_cell(&r, 0, 0));
		trib_my_rows_free(&r);
		trib_errf(buf, len, "%s is held by connection %s%s on %s: a consumer runs the "
				  "pipeline; another would wait as standby", l->name, id, who, l->where);
		rc = 0;
	}
	mysql_close(m);
	return rc;
}

/* leader.h free. */
static void
my_free(void *impl)
{
	my_lock    *l = impl;

	drop_conn(l);
	trib_my_strings_free(l->slots, 4);
}

static const trib_leader_ops my_leader_ops = {
	.kind = "MySQL GET_LOCK",
	.try_lock = my_try_lock,
	.check = my_check,
	.probe = my_probe,
	.free = my_free,
};

/* See mysql_leader.h. */
void
trib_my_leader_set_timeout(trib_leader *ld, int seconds)
{
	my_lock    *l = trib_leader_impl(ld);

	l->cc.read_timeout_s = seconds;
	l->cc.connect_timeout_s = seconds;
}

/* See mysql_leader.h. */
trib_leader *
trib_my_leader_new(const trib_my_conn_conf *conf, const char *pipeline)
{
	trib_leader *ld = trib_leader_new(&my_leader_ops, sizeof(my_lock), pipeline);
	my_lock    *l = trib_leader_impl(ld);

	trib_my_conn_keep(&l->cc, conf, l->slots);
	l->cc.read_timeout_s = TRIB_MY_LOCK_TIMEOUT_S;
	trib_my_lock_name(trib_leader_pipeline(ld), l->name);
	trib_my_conn_where(&l->cc, l->where, sizeof(l->where));
	return ld;
}
