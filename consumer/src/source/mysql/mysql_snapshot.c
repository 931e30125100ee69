/*
 * mysql_snapshot.c: the MySQL/MariaDB snapshot engine (mysql_snapshot.h):
 * the consistent snapshot and its binlog position, the table list, and
 * the workers that read tables in key chunks onto a bounded queue.
 */
#include "mysql_snapshot.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_gen.h>

#include "clock.h"
#include "jsondoc.h"
#include "log.h"
#include "mysql_infoschema.h"
#include "mysql_int.h"
#include "strbuf.h"
#include "xalloc.h"

#define SYNC_TRIES 5			/* lock-free attempts before the lock */
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

typedef struct worker
{
	trib_my_snap *s;
	MYSQL	   *m;
	pthread_t	thread;
	bool		started;
} worker;

struct trib_my_snap
{
	trib_my_snap_conf conf;
	char	   *slots[4];		/* copies of the connection strings */
	char	  **tables_copy;
	char	   *source_name;
	char	   *zero_date;
	bool		mariadb;
	worker	   *w;
	int			nw;
	char		file[TRIB_MY_FILE_MAX];
	uint64_t	pos;
	char	   *gtid;
	bool		locked;
	trib_my_snap_table *t;
	int			nt;
	/* shared with the workers, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int			next_table;
	int			running;		/* workers not finished */
	bool		stopping;
	char		err[512];
	trib_my_snap_chunk *head,
			   *tail;
	size_t		queued;
	int			test_read_delay_ms; /* test_hook_init() */
};

/*
 * Tests only (e2e 90): TRIBUTARY_TEST_MYSQL_SNAPSHOT_READ_DELAY_MS=N makes
 * a table's first read wait N ms after its snapshot began, so that a test
 * can alter the table in between, on the real server, for every try.
 * Read once per snapshot; absent (always, outside tests) it does nothing.
 */
static void
test_hook_init(trib_my_snap *s)
{
	const char *v = getenv("TRIBUTARY_TEST_MYSQL_SNAPSHOT_READ_DELAY_MS");

	s->test_read_delay_ms = v ? atoi(v) : 0;
}

/* The test hook's wait before a table's first read (test_hook_init). */
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
	test_hook_init(s);
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
	return s;
}

/* ---- the consistent snapshot -------------------------------------------- */

/* One worker's transaction. */
static bool
begin_tx(MYSQL *m, char *errbuf, size_t errlen)
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
static int
snapshot_status(MYSQL *m, char *file, size_t flen, uint64_t *pos, char *errbuf, size_t errlen)
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
		if (!begin_tx(s->w[i].m, errbuf, errlen))
			return -1;
	for (int i = 0; i < s->nw && agree == 1; i++)
	{
		char		f[TRIB_MY_FILE_MAX];
		uint64_t	p = 0;
		int			rc = snapshot_status(s->w[i].m, f, sizeof(f), &p, errbuf, errlen);

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
		ok = begin_tx(s->w[i].m, errbuf, errlen);
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
static MYSQL *
read_connect(trib_my_snap *s, char *errbuf, size_t errlen)
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
	s->w = trib_xcalloc((size_t) s->nw, sizeof(worker));
	for (int i = 0; i < s->nw; i++)
	{
		s->w[i].s = s;
		s->w[i].m = read_connect(s, errbuf, errlen);
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

/* ---- tables ------------------------------------------------------------- */

/* The tables to copy: (db, table, rows estimate) rows. */
static bool
list_tables(trib_my_snap *s, trib_my_rows *out, char *errbuf, size_t errlen)
{
	static const char *const all =
		"SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(TABLE_ROWS, 0) FROM information_schema.TABLES "
		"WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN "
		"('mysql', 'information_schema', 'performance_schema', 'sys') "
		"ORDER BY TABLE_ROWS DESC, TABLE_SCHEMA, TABLE_NAME";
	static const char *const one =
		"SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(TABLE_ROWS, 0) FROM information_schema.TABLES "
		"WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA = ? AND TABLE_NAME = ?";
	trib_my_rows r;

	if (s->conf.tables == NULL)
		return trib_my_select(s->w[0].m, all, NULL, 0, out, errbuf, errlen);
	memset(out, 0, sizeof(*out));
	out->ncols = 3;
	for (int i = 0; s->conf.tables[i]; i++)
	{
		const char *name = s->conf.tables[i],
				   *dot = strchr(name, '.');
		char	   *db;
		const char *p[2];
		bool		ok;

		if (dot == NULL || dot == name || dot[1] == '\0')
			return trib_my_fail(errbuf, errlen, "snapshot_tables: \"%s\" is not DB.TABLE", name);
		db = trib_xstrndup(name, (size_t) (dot - name));
		p[0] = db;
		p[1] = dot + 1;
		ok = trib_my_select(s->w[0].m, one, p, 2, &r, errbuf, errlen);
		free(db);
		if (!ok)
			return false;
		if (r.nrows != 1)
		{
			trib_my_rows_free(&r);
			return trib_my_fail(errbuf, errlen, "snapshot_tables: no base table %s on the server",
								name);
		}
		out->cells = trib_xrealloc(out->cells, sizeof(char *) * 3 * (size_t) (out->nrows + 1));
		for (int k = 0; k < 3; k++)
		{
			out->cells[3 * out->nrows + k] = r.cells[k];
			r.cells[k] = NULL;
		}
		out->nrows++;
		trib_my_rows_free(&r);
	}
	return true;
}

/* BIT(n) widths of a table's columns. */
static bool
bit_widths(MYSQL *m, trib_my_snap_table *t, char *errbuf, size_t errlen)
{
	const char *p[2] = {t->db, t->table};
	trib_my_rows r;

	if (!trib_my_select(m, "SELECT COLUMN_NAME, NUMERIC_PRECISION FROM "
						"information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? "
						"AND DATA_TYPE = 'bit'", p, 2, &r, errbuf, errlen))
		return false;
	for (int i = 0; i < r.nrows; i++)
		for (int c = 0; c < t->info->ncols; c++)
			if (strcmp(t->info->cols[c].name, trib_my_cell(&r, i, 0)) == 0)
				t->bits[c] = atoi(trib_my_cell(&r, i, 1));
	trib_my_rows_free(&r);
	return true;
}

/* Can a key column of this kind be compared as text for chunks? */
static bool
chunkable(trib_my_snapkind k)
{
	return k == TRIB_MYS_NUMBER || k == TRIB_MYS_DATE || k == TRIB_MYS_TIME ||
		k == TRIB_MYS_DATETIME || k == TRIB_MYS_TIMESTAMP || k == TRIB_MYS_TEXT ||
		k == TRIB_MYS_BINARY;
}

/* Index of the column named `name` in t, or -1. */
static int
column_index(const trib_my_snap_table *t, const char *name)
{
	for (int c = 0; c < t->info->ncols; c++)
		if (strcmp(t->info->cols[c].name, name) == 0)
			return c;
	return -1;
}

/*
 * A table without a usable primary key: chunk it by a unique index whose
 * columns are all NOT NULL and chunkable instead (the fewest columns,
 * then the first by name), so that its copy resumes after a crash too.
 * Such an index orders and identifies every row as a primary key does;
 * the events' key stays empty (it is not the table's identity).  None:
 * t->npk stays 0 and the table is read in one pass.
 */
static bool
unique_chunk_key(MYSQL *m, trib_my_snap_table *t, char *errbuf, size_t errlen)
{
	const char *p[2] = {t->db, t->table};
	trib_my_rows r;
	int		   *cols = trib_xcalloc((size_t) t->info->ncols + 1, sizeof(int));

	if (!trib_my_select(m, "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS "
						"WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 "
						"ORDER BY INDEX_NAME, SEQ_IN_INDEX", p, 2, &r, errbuf, errlen))
	{
		free(cols);
		return false;
	}
	for (int i = 0; i < r.nrows;)
	{
		const char *name = trib_my_cell(&r, i, 0);
		int			n = 0;
		bool		usable = true;

		for (; i < r.nrows && strcmp(trib_my_cell(&r, i, 0), name) == 0; i++)
		{
			int			c = column_index(t, trib_my_cell(&r, i, 1));

			if (c < 0 || n >= t->info->ncols || t->info->cols[c].nullable ||
				!chunkable(t->kinds[c]))
				usable = false;
			else
				cols[n++] = c;
		}
		if (usable && n > 0 && (t->npk == 0 || n < t->npk))
		{
			memcpy(t->pk, cols, sizeof(int) * (size_t) n);
			t->npk = n;
		}
	}
	trib_my_rows_free(&r);
	free(cols);
	return true;
}

/* Describe one table (m: a connection for the catalog queries). */
static bool
describe(MYSQL *m, trib_my_infoschema *is, trib_my_snap_table *t, char *errbuf, size_t errlen)
{
	int			n;

	if (!trib_my_infoschema_load(is, t->db, t->table, &t->info, errbuf, errlen))
		return false;
	if (t->info == NULL)
		return trib_my_fail(errbuf, errlen, "snapshot: table %s.%s has no columns", t->db,
							t->table);
	n = t->info->ncols;
	t->kinds = trib_xcalloc((size_t) n, sizeof(*t->kinds));
	t->bits = trib_xcalloc((size_t) n, sizeof(int));
	t->pk = trib_xcalloc((size_t) n, sizeof(int));
	t->key = trib_xcalloc((size_t) n, sizeof(int));
	trib_my_tableinfo_relation(t->info, &t->rel);	/* freed before close */
	t->rel.schema = t->db;
	t->rel.table = t->table;
	for (int c = 0; c < n; c++)
	{
		const trib_my_colinfo *ci = &t->info->cols[c];

		t->kinds[c] = trib_my_snapkind_of(ci);
		if (ci->pk_pos > 0 && ci->pk_pos <= n)
		{
			t->key[ci->pk_pos - 1] = c;
			t->nkey++;
		}
	}
	t->npk = t->nkey;
	for (int k = 0; k < t->nkey; k++)
	{
		t->pk[k] = t->key[k];
		if (!chunkable(t->kinds[t->key[k]]))
			t->npk = 0;
	}
	if (t->npk == 0 && !unique_chunk_key(m, t, errbuf, errlen))
		return false;
	return bit_widths(m, t, errbuf, errlen);
}

/* Free a table's description (what describe() filled). */
static void
table_clear(trib_my_snap_table *t)
{
	trib_my_tableinfo_free(t->info);
	free(t->kinds);
	free(t->bits);
	free(t->pk);
	free(t->key);
	free(t->rel.columns);
	t->info = NULL;
	t->kinds = NULL;
	t->bits = t->pk = t->key = NULL;
	t->rel.columns = NULL;
	t->nkey = t->npk = 0;
}

/* List and describe the tables. */
static bool
load_tables(trib_my_snap *s, char *errbuf, size_t errlen)
{
	trib_my_rows r;
	trib_my_infoschema *is;
	bool		ok = true;

	if (!list_tables(s, &r, errbuf, errlen))
		return false;
	s->nt = r.nrows;
	s->t = trib_xcalloc((size_t) r.nrows + 1, sizeof(trib_my_snap_table));
	is = trib_my_infoschema_new(&s->conf.conn);
	for (int i = 0; i < r.nrows && ok; i++)
	{
		s->t[i].db = trib_xstrdup(trib_my_cell(&r, i, 0));
		s->t[i].table = trib_xstrdup(trib_my_cell(&r, i, 1));
		s->t[i].estimate = strtod(trib_my_cell(&r, i, 2), NULL);
		ok = describe(s->w[0].m, is, &s->t[i], errbuf, errlen);
	}
	trib_my_infoschema_free(is);
	trib_my_rows_free(&r);
	return ok;
}

bool
trib_my_snap_prepare(trib_my_snap *s, char *errbuf, size_t errlen)
{
	return take_snapshot(s, errbuf, errlen) && load_tables(s, errbuf, errlen);
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
		trib_my_snap_expr(&b, &t->info->cols[c], t->kinds[c]);
	}
	for (int k = 0; k < t->npk; k++)
	{
		const trib_my_colinfo *ci = &t->info->cols[t->pk[k]];

		trib_strbuf_adds(&b, ", ");
		if (t->kinds[t->pk[k]] == TRIB_MYS_BINARY)
			trib_strbuf_adds(&b, "HEX(");
		trib_my_quote_ident(&b, ci->name);
		if (t->kinds[t->pk[k]] == TRIB_MYS_BINARY)
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
			trib_strbuf_adds(&b, t->kinds[c] == TRIB_MYS_BINARY ? "UNHEX(?)" : "?");
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
		ok = trib_my_snap_value(g, &t->info->cols[c], t->kinds[c], t->bits[c],
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
			ok = trib_my_snap_value(g, &t->info->cols[c], t->kinds[c], t->bits[c],
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
static trib_my_snap_chunk *
make_chunk(trib_my_snap *s, int ti, const trib_my_rows *r, yajl_gen g,
		   char *errbuf, size_t errlen)
{
	trib_my_snap_table *t = &s->t[ti];
	trib_my_snap_chunk *c = trib_xcalloc(1, sizeof(*c));

	c->table = ti;
	c->evs = trib_xcalloc((size_t) r->nrows + 1, sizeof(trib_event *));
	for (int i = 0; i < r->nrows; i++)
	{
		trib_event *ev = row_event(s, t, r, i, g, errbuf, errlen);

		if (ev == NULL)
		{
			trib_my_fail_prefix(errbuf, errlen, "snapshot of %s.%s", t->db, t->table);
			trib_my_snap_chunk_free(c);
			return NULL;
		}
		c->evs[c->nev++] = ev;
		c->bytes += strlen(ev->after) + (ev->key ? strlen(ev->key) : 0) + 256;
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

/* Queue a chunk, waiting while the queue is full; false when stopping. */
static bool
enqueue(trib_my_snap *s, trib_my_snap_chunk *c)
{
	pthread_mutex_lock(&s->mu);
	while (!s->stopping && s->queued > s->conf.buffer_bytes && s->head)
		pthread_cond_wait(&s->cv, &s->mu);
	if (s->stopping)
	{
		pthread_mutex_unlock(&s->mu);
		trib_my_snap_chunk_free(c);
		return false;
	}
	if (s->tail)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
	s->queued += c->bytes;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return true;
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
read_table(worker *w, MYSQL *m, int ti, yajl_gen g, char *errbuf, size_t errlen)
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
		trib_my_snap_chunk *c = NULL;

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

	*m = read_connect(s, errbuf, errlen);
	if (*m == NULL || !trib_my_exec(*m, RETRY_LOCK_WAIT_SQL, errbuf, errlen) ||
		!begin_tx(*m, errbuf, errlen) ||
		(s->mariadb && snapshot_status(*m, file, sizeof(file), &pos, errbuf, errlen) < 0))
		return false;
	if (t->at_start == NULL)
	{
		t->at_start = t->info;	/* the stream decodes its changes before
								 * the ALTER with it */
		t->info = NULL;
	}
	table_clear(t);
	is = trib_my_infoschema_new(&s->conf.conn);
	ok = describe(*m, is, t, errbuf, errlen);
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
read_table_again(worker *w, int ti, yajl_gen g, char *errbuf, size_t errlen)
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
copy_table(worker *w, int ti, yajl_gen g, char *errbuf, size_t errlen)
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
	worker	   *w = arg;
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
	pthread_mutex_lock(&s->mu);
	if (err[0] && !s->err[0])
		snprintf(s->err, sizeof(s->err), "%s", err);
	s->running--;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
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
trib_my_snap_next(trib_my_snap *s, int timeout_ms, trib_my_snap_chunk **out,
				  char *errbuf, size_t errlen)
{
	struct timespec until = trib_clock_deadline(timeout_ms);
	int			rc = 0;

	*out = NULL;
	pthread_mutex_lock(&s->mu);
	while (s->head == NULL && s->running > 0 && !s->err[0])
		if (pthread_cond_timedwait(&s->cv, &s->mu, &until) != 0)
			break;
	if (s->err[0])
		rc = (snprintf(errbuf, errlen, "%s", s->err), -1);
	else if (s->head)
	{
		*out = s->head;
		s->head = s->head->next;
		if (s->head == NULL)
			s->tail = NULL;
		s->queued -= (*out)->bytes;
		(*out)->next = NULL;
		pthread_cond_broadcast(&s->cv);
		rc = 1;
	}
	else if (s->running == 0)
		rc = 2;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void
trib_my_snap_chunk_free(trib_my_snap_chunk *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nev; i++)
		trib_event_free(c->evs[i]);
	for (int k = 0; c->last_key && k < c->nkey; k++)
		free(c->last_key[k]);
	free(c->last_key);
	free(c->evs);
	free(c);
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
	while (s->head)
	{
		trib_my_snap_chunk *c = s->head;

		s->head = c->next;
		trib_my_snap_chunk_free(c);
	}
	s->tail = NULL;
	s->queued = 0;
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

		table_clear(t);
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
