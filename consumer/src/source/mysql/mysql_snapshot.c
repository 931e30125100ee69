/*
 * mysql_snapshot.c: the MySQL/MariaDB snapshot engine (mysql_snapshot.h):
 * its life (new, prepare, free), the consistent snapshot of the worker
 * connections, and its binlog position and GTID state.  The table list
 * is mysql_snapshot_tables.c's; the workers, chunks, queue and retries
 * are mysql_snapshot_read.c's (mysql_snapshot_int.h lists the files).
 */
#include "mysql_snapshot.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mysql_int.h"
#include "mysql_snapshot_int.h"
#include "xalloc.h"

#define SYNC_TRIES 5			/* lock-free attempts before the lock */

trib_my_snap *
trib_my_snap_new(const trib_my_snap_conf *conf, char *errbuf, size_t errlen)
{
	trib_my_snap *s;
	size_t		n = 0;

	if (conf->workers < 1 || conf->chunk_rows < 1)
		return trib_my_fail(errbuf, errlen, "snapshot: workers and chunk rows must be at least 1"),
			NULL;
	s = trib_xcalloc(1, sizeof(*s));
	s->conf = *conf;
	msnap_test_hook_init(s);
	trib_my_conn_keep(&s->conf.conn, &conf->conn, s->slots);
	if (s->conf.conn.read_timeout_s == 0)
		s->conf.conn.read_timeout_s = 600;
	s->source_name = conf->source_name ? trib_xstrdup(conf->source_name) : NULL;
	s->conf.source_name = s->source_name;
	s->zero_date = conf->zero_date ? trib_xstrdup(conf->zero_date) : NULL;
	s->conf.zero_date = s->zero_date;
	while (conf->tables && conf->tables[n])
		n++;
	if (conf->tables)
	{
		s->tables_copy = trib_xcalloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			s->tables_copy[i] = trib_xstrdup(conf->tables[i]);
		s->conf.tables = (const char *const *) s->tables_copy;
	}
	s->gtid = trib_xstrdup("");
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->wait = (trib_chunkwait) {
		.mu = &s->mu,.room = &s->cv,.ready = &s->cv,.q = &s->q,
		.bound = s->conf.buffer_bytes,.stop = &s->stopping,.running = &s->running,
		.error = s->err,
	};
	return s;
}

/* ---- the consistent snapshot -------------------------------------------- */

/* One worker's transaction. */
bool
msnap_begin_tx(MYSQL *m, char *errbuf, size_t errlen)
{
	return trib_my_exec(m, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
						errbuf, errlen) &&
		trib_my_exec(m, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
					 errbuf, errlen);
}

/* A two-column result (SHOW STATUS, SHOW MASTER STATUS) by text query. */
static bool
query_rows(MYSQL *m, const char *sql, trib_my_rows *out, char *errbuf, size_t errlen)
{
	return trib_my_select(m, sql, NULL, 0, out, errbuf, errlen);
}

/* MariaDB: the worker transaction's binlog position; 0 when the server
 * does not say (MySQL). */
int
msnap_snapshot_status(MYSQL *m, char *file, size_t flen, uint64_t *pos,
					  char *errbuf, size_t errlen)
{
	trib_my_rows r;
	int			found = 0;

	if (!query_rows(m, "SHOW STATUS LIKE 'binlog_snapshot_%'", &r, errbuf, errlen))
		return -1;
	for (int i = 0; i < r.nrows; i++)
	{
		const char *k = trib_my_cell(&r, i, 0),
				   *v = trib_my_cell(&r, i, 1);

		if (k && v && strcasecmp(k, "Binlog_snapshot_file") == 0 && v[0])
		{
			snprintf(file, flen, "%s", v);
			found |= 1;
		}
		else if (k && v && strcasecmp(k, "Binlog_snapshot_position") == 0)
		{
			*pos = strtoull(v, NULL, 10);
			found |= 2;
		}
	}
	trib_my_rows_free(&r);
	return found == 3;
}

/* Try once without a lock: 1 all workers agree, 0 they do not (rolled
 * back), -1 error. */
static int
sync_lock_free(trib_my_snap *s, char *errbuf, size_t errlen)
{
	int			agree = 1;

	for (int i = 0; i < s->nw; i++)
		if (!msnap_begin_tx(s->w[i].m, errbuf, errlen))
			return -1;
	for (int i = 0; i < s->nw && agree == 1; i++)
	{
		char		f[TRIB_MY_FILE_MAX];
		uint64_t	p = 0;
		int			rc = msnap_snapshot_status(s->w[i].m, f, sizeof(f), &p, errbuf, errlen);

		if (rc <= 0)
			return rc;
		if (i == 0)
		{
			snprintf(s->file, sizeof(s->file), "%s", f);
			s->pos = p;
		}
		else if (strcmp(f, s->file) != 0 || p != s->pos)
			agree = 0;
	}
	if (agree == 0)
		for (int i = 0; i < s->nw; i++)
			if (!trib_my_exec(s->w[i].m, "ROLLBACK", errbuf, errlen))
				return -1;
	return agree;
}

/* FLUSH TABLES WITH READ LOCK; every worker's snapshot; the position;
 * UNLOCK TABLES. */
static bool
sync_locked(trib_my_snap *s, char *errbuf, size_t errlen)
{
	MYSQL	   *c = trib_my_connect(&s->conf.conn, NULL, errbuf, errlen);
	trib_my_rows r = {0};
	bool		ok;

	if (c == NULL)
		return false;
	ok = trib_my_exec(c, "FLUSH TABLES WITH READ LOCK", errbuf, errlen);
	for (int i = 0; ok && i < s->nw; i++)
		ok = msnap_begin_tx(s->w[i].m, errbuf, errlen);
	ok = ok && query_rows(c, "SHOW MASTER STATUS", &r, errbuf, errlen);
	if (ok && r.nrows < 1)
		ok = trib_my_fail(errbuf, errlen, "SHOW MASTER STATUS is empty: is log_bin on?");
	if (ok)
	{
		snprintf(s->file, sizeof(s->file), "%s", trib_my_cell(&r, 0, 0));
		s->pos = strtoull(trib_my_cell(&r, 0, 1), NULL, 10);
		if (!s->mariadb && r.ncols >= 5 && trib_my_cell(&r, 0, 4))
		{
			free(s->gtid);
			s->gtid = trib_xstrdup(trib_my_cell(&r, 0, 4));
		}
	}
	trib_my_rows_free(&r);
	if (!trib_my_exec(c, "UNLOCK TABLES", errbuf, errlen))
		ok = false;
	mysql_close(c);
	if (!ok)
		return trib_my_fail_prefix(errbuf, errlen, "snapshot: the brief global read lock "
								   "(needs the RELOAD privilege)");
	s->locked = true;
	return true;
}

/* MariaDB: the GTID state at the position. */
static void
gtid_at(trib_my_snap *s)
{
	char		pos[24],
				err[256];
	const char *p[2] = {s->file, pos};
	trib_my_rows r;

	snprintf(pos, sizeof(pos), "%llu", (unsigned long long) s->pos);
	if (!s->mariadb || !trib_my_select(s->w[0].m, "SELECT BINLOG_GTID_POS(?, ?)", p, 2, &r,
									   err, sizeof(err)))
		return;
	if (r.nrows == 1 && trib_my_cell(&r, 0, 0))
	{
		free(s->gtid);
		s->gtid = trib_xstrdup(trib_my_cell(&r, 0, 0));
	}
	trib_my_rows_free(&r);
}

/* A reading connection: utf8mb4, UTC; NULL with errbuf on error. */
MYSQL *
msnap_read_connect(trib_my_snap *s, char *errbuf, size_t errlen)
{
	MYSQL	   *m = trib_my_connect(&s->conf.conn, NULL, errbuf, errlen);

	if (m && (!trib_my_exec(m, "SET NAMES utf8mb4", errbuf, errlen) ||
			  !trib_my_exec(m, "SET SESSION time_zone = '+00:00'", errbuf, errlen)))
	{
		mysql_close(m);
		return NULL;
	}
	return m;
}

/* Connect the workers and take the snapshot. */
static bool
take_snapshot(trib_my_snap *s, char *errbuf, size_t errlen)
{
	int			rc = 0;

	s->nw = s->conf.workers;
	s->w = trib_xcalloc((size_t) s->nw, sizeof(msnap_worker));
	for (int i = 0; i < s->nw; i++)
	{
		s->w[i].s = s;
		s->w[i].m = msnap_read_connect(s, errbuf, errlen);
		if (s->w[i].m == NULL)
			return false;
	}
	s->mariadb = strstr(mysql_get_server_info(s->w[0].m), "MariaDB") != NULL;
	for (int i = 0; !s->conf.flush_lock && s->mariadb && i < SYNC_TRIES && rc == 0; i++)
		rc = sync_lock_free(s, errbuf, errlen);
	if (rc < 0)
		return false;
	if (rc == 0 && !sync_locked(s, errbuf, errlen))
		return false;
	gtid_at(s);
	return true;
}

bool
trib_my_snap_prepare(trib_my_snap *s, char *errbuf, size_t errlen)
{
	return take_snapshot(s, errbuf, errlen) && msnap_load_tables(s, errbuf, errlen);
}

const char *
trib_my_snap_file(const trib_my_snap *s)
{
	return s->file;
}

uint64_t
trib_my_snap_pos(const trib_my_snap *s)
{
	return s->pos;
}

const char *
trib_my_snap_gtid(const trib_my_snap *s)
{
	return s->gtid;
}

bool
trib_my_snap_locked(const trib_my_snap *s)
{
	return s->locked;
}

int
trib_my_snap_ntables(const trib_my_snap *s)
{
	return s->nt;
}

trib_my_snap_table *
trib_my_snap_table_at(trib_my_snap *s, int i)
{
	return &s->t[i];
}

void
trib_my_snap_free(trib_my_snap *s)
{
	if (s == NULL)
		return;
	trib_my_snap_stop(s);
	for (int i = 0; i < s->nw; i++)
		if (s->w[i].m)
			mysql_close(s->w[i].m);
	free(s->w);
	for (int i = 0; i < s->nt; i++)
	{
		trib_my_snap_table *t = &s->t[i];

		msnap_table_clear(t);
		trib_my_tableinfo_free(t->at_start);
		for (int k = 0; k < t->nafter; k++)
			free(t->after[k]);
		free(t->after);
		free(t->db);
		free(t->table);
	}
	free(s->t);
	for (int i = 0; s->tables_copy && s->tables_copy[i]; i++)
		free(s->tables_copy[i]);
	free(s->tables_copy);
	trib_my_strings_free(s->slots, 4);
	free(s->source_name);
	free(s->zero_date);
	free(s->gtid);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}
