/*
 * mysql_snapshot_read.c: the MySQL snapshot engine's reading
 * (mysql_snapshot_int.h): the workers, each taking tables in turn and
 * reading one in key chunks into events; the queue bounded in bytes that
 * next() takes chunks from; a table altered before its first read copied
 * again under a new snapshot of its own.  The per-row path (row_event,
 * make_chunk) lives here with its caller.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_gen.h>

#include "jsondoc.h"
#include "log.h"
#include "mysql_infoschema.h"
#include "mysql_int.h"
#include "mysql_snapshot_int.h"
#include "strbuf.h"
#include "worker_exit.h"
#include "xalloc.h"

#define ALTER_RETRIES 3			/* new snapshots for a table altered before
								 * its first read (docs/MYSQL.md) */
/*
 * A refused read under the shared snapshot still took the table's metadata
 * lock, which that transaction holds to its end: a further ALTER of the
 * table waits for it, and a new snapshot's read queues behind that ALTER,
 * which waits for us.  So a new snapshot's read waits for its lock at most
 * this long, and a timeout (1205) counts as one more refused try (e2e 98)
 * instead of the server's lock_wait_timeout, a day by default.
 */
#define RETRY_LOCK_WAIT_SQL "SET SESSION lock_wait_timeout = 10"

/*
 * Tests only (e2e 90): TRIBUTARY_TEST_MYSQL_SNAPSHOT_READ_DELAY_MS=N makes
 * a table's first read wait N ms after its snapshot began, so that a test
 * can alter the table in between, on the real server, for every try.
 * Read once per snapshot; absent (always, outside tests) it does nothing.
 */
void
msnap_test_hook_init(trib_my_snap *s)
{
	const char *v = getenv("TRIBUTARY_TEST_MYSQL_SNAPSHOT_READ_DELAY_MS");

	s->test_read_delay_ms = v ? atoi(v) : 0;
}

/* The test hook's wait before a table's first read (msnap_test_hook_init). */
static void
test_read_delay(const trib_my_snap *s)
{
	struct timespec ts;

	if (s->test_read_delay_ms <= 0)
		return;
	ts.tv_sec = s->test_read_delay_ms / 1000;
	ts.tv_nsec = (long) (s->test_read_delay_ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/* ---- reading ------------------------------------------------------------ */

/* The chunk query of a table; after: with the key condition. */
static char *
chunk_sql(const trib_my_snap *s, const trib_my_snap_table *t, bool after)
{
	trib_strbuf b = {0};

	trib_strbuf_adds(&b, "SELECT ");
	for (int c = 0; c < t->info->ncols; c++)
	{
		if (c)
			trib_strbuf_adds(&b, ", ");
		trib_my_snaprow_expr(&b, &t->info->cols[c], t->kinds[c]);
	}
	for (int k = 0; k < t->npk; k++)
	{
		const trib_my_colinfo *ci = &t->info->cols[t->pk[k]];

		trib_strbuf_adds(&b, ", ");
		if (t->kinds[t->pk[k]] == TRIB_MY_SNAPROW_BINARY)
			trib_strbuf_adds(&b, "HEX(");
		trib_my_quote_ident(&b, ci->name);
		if (t->kinds[t->pk[k]] == TRIB_MY_SNAPROW_BINARY)
			trib_strbuf_adds(&b, ")");
	}
	trib_strbuf_adds(&b, " FROM ");
	trib_my_quote_ident(&b, t->db);
	trib_strbuf_addc(&b, '.');
	trib_my_quote_ident(&b, t->table);
	/* (k1, k2) > (?, ?) as k1 > ? OR (k1 = ? AND k2 > ?): the form every
	 * server turns into a range scan of the primary key */
	for (int k = 0; after && k < t->npk; k++)
	{
		trib_strbuf_adds(&b, k == 0 ? " WHERE (" : " OR (");
		for (int e = 0; e <= k; e++)
		{
			int			c = t->pk[e];

			if (e)
				trib_strbuf_adds(&b, " AND ");
			trib_my_quote_ident(&b, t->info->cols[c].name);
			trib_strbuf_adds(&b, e < k ? " = " : " > ");
			trib_strbuf_adds(&b, t->kinds[c] == TRIB_MY_SNAPROW_BINARY ? "UNHEX(?)" : "?");
		}
		trib_strbuf_adds(&b, ")");
	}
	for (int k = 0; k < t->npk; k++)
	{
		trib_strbuf_adds(&b, k ? ", " : " ORDER BY ");
		trib_my_quote_ident(&b, t->info->cols[t->pk[k]].name);
	}
	if (t->npk > 0)
		trib_strbuf_printf(&b, " LIMIT %d", s->conf.chunk_rows);
	return trib_strbuf_finish(&b);
}

/* A member name of the object being generated. */
static void
gen_key(yajl_gen g, const char *name)
{
	yajl_gen_string(g, (const unsigned char *) name, strlen(name));
}

/* One row of the result as an event. */
static trib_event *
row_event(trib_my_snap *s, trib_my_snap_table *t, const trib_my_rows *r, int row,
		  yajl_gen g, char *errbuf, size_t errlen)
{
	trib_event *ev = trib_event_new();
	bool		ok = true;

	yajl_gen_map_open(g);
	for (int c = 0; c < t->info->ncols && ok; c++)
	{
		gen_key(g, t->info->cols[c].name);
		ok = trib_my_snaprow_value(g, &t->info->cols[c], t->kinds[c], t->bits[c],
								trib_my_cell(r, row, c), s->conf.zero_date, errbuf, errlen);
	}
	yajl_gen_map_close(g);
	ev->after = trib_jdoc_gen_take(g);
	if (ok && t->nkey > 0)
	{
		yajl_gen_map_open(g);
		for (int k = 0; k < t->nkey && ok; k++)
		{
			int			c = t->key[k];

			gen_key(g, t->info->cols[c].name);
			ok = trib_my_snaprow_value(g, &t->info->cols[c], t->kinds[c], t->bits[c],
									trib_my_cell(r, row, c), s->conf.zero_date, errbuf, errlen);
		}
		yajl_gen_map_close(g);
		ev->key = trib_jdoc_gen_take(g);
	}
	if (!ok)
	{
		yajl_gen_reset(g, NULL);
		trib_event_free(ev);
		return NULL;
	}
	ev->op = TRIB_OP_READ;
	ev->snapshot = true;
	ev->source = s->conf.source_name;
	ev->connector = "mysql";
	ev->db = t->db;
	ev->table = t->table;
	ev->rel = &t->rel;
	ev->ts_ms = s->conf.ts_ms;
	return ev;
}

/* A chunk from a result (rows in key order). */
static trib_snapfeed_rows *
make_chunk(trib_my_snap *s, int ti, const trib_my_rows *r, yajl_gen g,
		   char *errbuf, size_t errlen)
{
	trib_my_snap_table *t = &s->t[ti];
	trib_snapfeed_rows *c = trib_xcalloc(1, sizeof(*c));

	c->table = ti;
	c->evs = trib_xcalloc((size_t) r->nrows + 1, sizeof(trib_event *));
	for (int i = 0; i < r->nrows; i++)
	{
		trib_event *ev = row_event(s, t, r, i, g, errbuf, errlen);

		if (ev == NULL)
		{
			trib_my_fail_prefix(errbuf, errlen, "snapshot of %s.%s", t->db, t->table);
			trib_snapfeed_rows_free(c);
			return NULL;
		}
		c->evs[c->nev++] = ev;
		c->link.bytes += strlen(ev->after) + (ev->key ? strlen(ev->key) : 0) + 256;
	}
	if (t->npk > 0 && r->nrows > 0)
	{
		c->nkey = t->npk;
		c->last_key = trib_xcalloc((size_t) t->npk, sizeof(char *));
		for (int k = 0; k < t->npk; k++)
		{
			const char *v = trib_my_cell(r, r->nrows - 1, t->info->ncols + k);

			c->last_key[k] = trib_xstrdup(v ? v : "");
		}
	}
	c->final = t->npk == 0 || r->nrows < s->conf.chunk_rows;
	return c;
}

/* Queue a chunk, waiting for room (chunk_wait.h); false (chunk freed)
 * when stopping. */
static bool
enqueue(trib_my_snap *s, trib_snapfeed_rows *c)
{
	if (trib_chunkwait_put(&s->wait, &c->link))
		return true;
	trib_snapfeed_rows_free(c);
	return false;
}

/*
 * Was a read refused because the table was altered after the consistent
 * point, before this transaction first read it (once read, the
 * transaction's metadata lock makes an ALTER wait for the end of the
 * copy)?  InnoDB refuses with ER_TABLE_DEF_CHANGED (1412), or the columns
 * described at the start are gone (ER_BAD_FIELD_ERROR, 1054).
 */
static bool
altered_error(unsigned errnum)
{
	return errnum == 1412 || errnum == 1054;
}

/* The error of a failed chunk read, naming the table; an altered table's
 * is said plainly, with the way out (docs/MYSQL.md, "DDL during the
 * copy"), and how many new snapshots taken for it failed the same way. */
static void
table_read_failed(const trib_my_snap_table *t, unsigned errnum, int retries,
				  char *errbuf, size_t errlen)
{
	char		again[96] = "";

	if (retries > 0)
		snprintf(again, sizeof(again), ", nor under each of the %d new snapshots taken for it",
				 retries);
	if (altered_error(errnum))
		trib_my_fail_prefix(errbuf, errlen,
							"snapshot of %s.%s: altered (ALTER TABLE) after the snapshot's "
							"consistent point, so not readable as of that point%s; take a new "
							"snapshot (docs/MYSQL.md, \"DDL during the copy\"); the server said",
							t->db, t->table, again);
	else
		trib_my_fail_prefix(errbuf, errlen, "snapshot of %s.%s", t->db, t->table);
}

/*
 * Read one table to its end on m: 1 done, 0 stopping, -1 error (errbuf
 * says it), -2 its first read was refused as altered (altered_error; no
 * row of it was queued, errbuf has the server's words).
 */
static int
read_table(msnap_worker *w, MYSQL *m, int ti, yajl_gen g, char *errbuf, size_t errlen)
{
	trib_my_snap *s = w->s;
	trib_my_snap_table *t = &s->t[ti];
	char	  **after = NULL;
	int			nafter = 0;
	bool		final = false,
				first = true;
	int			rc = 1;
	unsigned	errnum = 0;

	if (t->nafter == t->npk && t->npk > 0)
	{
		after = t->after;
		nafter = t->nafter;
	}
	while (!final && rc == 1)
	{
		char	   *sql = chunk_sql(s, t, after != NULL);
		int			np = nafter * (nafter + 1) / 2,
					k = 0;
		const char **params = trib_xcalloc((size_t) np + 1, sizeof(char *));
		trib_my_rows r;
		trib_snapfeed_rows *c = NULL;

		for (int i = 0; after && i < t->npk; i++)
			for (int e = 0; e <= i; e++)
				params[k++] = after[e];
		if (first)
			test_read_delay(s);
		if (!trib_my_select_errnum(m, sql, params, k, &r, &errnum, errbuf, errlen))
		{
			if (first && (altered_error(errnum) || (m != w->m && errnum == 1205)))
				rc = -2;
			else
			{
				table_read_failed(t, errnum, 0, errbuf, errlen);
				rc = -1;
			}
		}
		else
		{
			c = make_chunk(s, ti, &r, g, errbuf, errlen);
			trib_my_rows_free(&r);
			if (c == NULL)
				rc = -1;
		}
		free(params);
		free(sql);
		first = false;
		if (c)
		{
			final = c->final;
			if (after && after != t->after)
			{
				for (int i = 0; i < nafter; i++)
					free(after[i]);
				free(after);
			}
			after = NULL;
			if (c->last_key)
			{
				nafter = c->nkey;
				after = trib_xcalloc((size_t) nafter, sizeof(char *));
				for (int i = 0; i < nafter; i++)
					after[i] = trib_xstrdup(c->last_key[i]);
			}
			if (!enqueue(s, c))
				rc = 0;
		}
	}
	if (after && after != t->after)
	{
		for (int i = 0; i < nafter; i++)
			free(after[i]);
		free(after);
	}
	return rc;
}

/*
 * A new consistent snapshot for table ti on a connection of its own (*m),
 * and the table described anew as it is now; its binlog position is
 * logged where the server says it (MariaDB).  The snapshot is taken
 * before the description, so an ALTER in between makes the read fail
 * again, and count as one more retry.
 */
static bool
resnapshot(trib_my_snap *s, int ti, MYSQL **m, int attempt, char *errbuf, size_t errlen)
{
	trib_my_snap_table *t = &s->t[ti];
	trib_my_infoschema *is;
	char		file[TRIB_MY_FILE_MAX] = "";
	uint64_t	pos = 0;
	bool		ok;

	*m = msnap_read_connect(s, errbuf, errlen);
	if (*m == NULL || !trib_my_exec(*m, RETRY_LOCK_WAIT_SQL, errbuf, errlen) ||
		!msnap_begin_tx(*m, errbuf, errlen) ||
		(s->mariadb && msnap_snapshot_status(*m, file, sizeof(file), &pos, errbuf, errlen) < 0))
		return false;
	if (t->at_start == NULL)
	{
		t->at_start = t->info;	/* the stream decodes its changes before
								 * the ALTER with it */
		t->info = NULL;
	}
	msnap_table_clear(t);
	is = trib_my_infoschema_new(&s->conf.conn);
	ok = msnap_describe(*m, is, t, errbuf, errlen);
	trib_my_infoschema_free(is);
	if (ok)
		tlog_warn("snapshot", "source %s: table %s.%s was altered after the snapshot's "
				  "consistent point: copying it under a new consistent snapshot (binlog %s:%llu, "
				  "attempt %d of %d); the stream replays its changes since the first one",
				  s->conf.source_name ? s->conf.source_name : "?", t->db, t->table,
				  file[0] ? file : "unknown", (unsigned long long) pos, attempt, ALTER_RETRIES);
	return ok;
}

/*
 * Copy a table whose first read under the shared snapshot was refused as
 * altered (read_table's -2): under a new snapshot of its own, at most
 * ALTER_RETRIES times (docs/MYSQL.md, "DDL during the copy").  No row of
 * it was queued, so nothing is sent twice; its rows are as of the later
 * position, and the stream, which starts at the first, replays the
 * changes in between.  The connection is closed after the table (an
 * ALTER of it then runs at once; the stream carries it).
 */
static int
read_table_again(msnap_worker *w, int ti, yajl_gen g, char *errbuf, size_t errlen)
{
	trib_my_snap *s = w->s;
	int			rc = -2;

	for (int attempt = 1; attempt <= ALTER_RETRIES && rc == -2; attempt++)
	{
		MYSQL	   *m = NULL;

		if (resnapshot(s, ti, &m, attempt, errbuf, errlen))
			rc = read_table(w, m, ti, g, errbuf, errlen);
		else
		{
			trib_my_fail_prefix(errbuf, errlen, "snapshot of %s.%s (altered after the "
								"consistent point), taking a new snapshot for it",
								s->t[ti].db, s->t[ti].table);
			rc = -1;
		}
		if (m)
			mysql_close(m);
	}
	if (rc == -2)
	{
		table_read_failed(&s->t[ti], 1412, ALTER_RETRIES, errbuf, errlen);
		rc = -1;
	}
	return rc;
}

/* Read table ti: under the shared snapshot, or a new one if it was
 * altered before its first read.  As read_table, but never -2. */
static int
copy_table(msnap_worker *w, int ti, yajl_gen g, char *errbuf, size_t errlen)
{
	int			rc = read_table(w, w->m, ti, g, errbuf, errlen);

	if (rc == -2)
	{
		rc = read_table_again(w, ti, g, errbuf, errlen);
		if (rc >= 0)
			errbuf[0] = '\0';	/* the refusal was dealt with */
	}
	return rc;
}

/* A worker: take tables until none is left. */
static void *
worker_main(void *arg)
{
	msnap_worker *w = arg;
	trib_my_snap *s = w->s;
	yajl_gen	g = yajl_gen_alloc(NULL);
	char		err[512] = "";

	mysql_thread_init();
	for (;;)
	{
		int			ti;

		pthread_mutex_lock(&s->mu);
		while (s->next_table < s->nt && s->t[s->next_table].skip)
			s->next_table++;
		ti = s->stopping || s->err[0] ? s->nt : s->next_table++;
		pthread_mutex_unlock(&s->mu);
		if (ti >= s->nt || copy_table(w, ti, g, err, sizeof(err)) <= 0)
			break;
	}
	yajl_gen_free(g);
	trib_worker_exit(&s->mu, &s->cv, &s->running, s->err, sizeof(s->err), err);
	mysql_thread_end();
	return NULL;
}

bool
trib_my_snap_start(trib_my_snap *s, char *errbuf, size_t errlen)
{
	for (int i = 0; i < s->nw; i++)
	{
		pthread_mutex_lock(&s->mu);
		s->running++;
		pthread_mutex_unlock(&s->mu);
		if (pthread_create(&s->w[i].thread, NULL, worker_main, &s->w[i]) != 0)
		{
			pthread_mutex_lock(&s->mu);
			s->running--;
			pthread_mutex_unlock(&s->mu);
			return trib_my_fail(errbuf, errlen, "snapshot: cannot start a worker thread");
		}
		s->w[i].started = true;
	}
	return true;
}

int
trib_my_snap_next(trib_my_snap *s, int timeout_ms, trib_snapfeed_rows **out,
				  char *errbuf, size_t errlen)
{
	return trib_snapfeed_take(&s->wait, timeout_ms, out, errbuf, errlen);
}

void
trib_my_snap_stop(trib_my_snap *s)
{
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < s->nw; i++)
		if (s->w[i].started)
		{
			pthread_join(s->w[i].thread, NULL);
			s->w[i].started = false;
		}
	for (trib_snapfeed_rows *c; (c = (trib_snapfeed_rows *) trib_chunkq_pop(&s->q)) != NULL;)
		trib_snapfeed_rows_free(c);
}
