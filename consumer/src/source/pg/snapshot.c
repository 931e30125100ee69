/*
 * snapshot.c: the snapshot engine (see snapshot.h): connections, the
 * shared snapshot, worker threads, rows to events, the bounded queue.
 *
 * Sessions.  Every connection (coordinator and workers) sets the output
 * settings snapshot_format.c relies on: DateStyle ISO, IntervalStyle
 * iso_8601, extra_float_digits 1, bytea_output hex, and client_encoding
 * UTF8 (SQL_ASCII for a SQL_ASCII database, which must not be converted).
 * TimeZone is left alone: timestamptz text carries its offset, and types
 * without a fast path (ranges of timestamps, say) then come out exactly as
 * in the walsender, which runs with the same server and role defaults.
 *
 * The queue.  A FIFO of chunks (lib/chunk_queue.h) under one mutex with
 * two condition variables (not_empty for the pipeline thread, not_full
 * for workers), put and taken through lib/chunk_wait.h: a worker waits
 * while adding its chunk would pass buffer_bytes, unless the queue is
 * empty (so a chunk larger than the bound still moves).  Cancellation
 * (stop(), or an error in another worker) wakes every waiter; a worker
 * checks it between chunks.
 */
#include "snapshot.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "chunk_wait.h"
#include "errf.h"
#include "snapshot_tables.h"
#include "strbuf.h"
#include "worker_exit.h"

typedef struct worker
{
	trib_snapshot *s;
	pthread_t	thread;
	bool		started;
	trib_strbuf row;			/* reused row and key buffers */
	trib_strbuf key;
	trib_strbuf jnulls;			/* the row's JSON null list */
	trib_strbuf elems;			/* one array column's JSON null elements */
} worker;

struct trib_snapshot
{
	trib_snapshot_conf conf;	/* strings copied below */
	char	   *dsn;
	char	   *source_name;	/* borrowed by every event */
	char	   *db;
	char	   *snapshot_name;	/* imported or exported */
	char	  **include;
	char	  **exclude;
	char	  **restrict_to;

	PGconn	   *coord;
	trib_snapfmt_enc enc;
	trib_snapfmt_opts fmt;
	uint64_t	wal_lsn;
	trib_snaptab_table *tables;
	int			ntables;

	worker	   *workers;
	int			nworkers;

	pthread_mutex_t mu;
	pthread_cond_t not_empty;
	pthread_cond_t not_full;
	trib_chunkq q;				/* read, not taken (chunk_queue.h) */
	int			running;		/* workers not finished */
	int			next_table;
	bool		cancel;
	char		error[1024];
	trib_chunkwait wait;		/* the waits on q (chunk_wait.h) */
};

/* A NULL-terminated copy of a NULL-terminated list (NULL stays NULL). */
static char **
copy_list(const char *const *l)
{
	size_t		n = 0,
				i;
	char	  **out;

	if (l == NULL)
		return NULL;
	while (l[n])
		n++;
	out = trib_xcalloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++)
		out[i] = trib_xstrdup(l[i]);
	return out;
}

static void
free_list(char **l)
{
	size_t		i;

	for (i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

trib_snapshot *
trib_snapshot_new(const trib_snapshot_conf *conf, char *errbuf, size_t errlen)
{
	trib_snapshot *s;

	if (conf->dsn == NULL || conf->workers < 1 || conf->chunk_rows < 1 ||
		conf->buffer_bytes == 0)
		return trib_errf(errbuf, errlen, "snapshot: dsn, workers, chunk_rows and buffer_bytes are required"), NULL;
	s = trib_xcalloc(1, sizeof(*s));
	s->conf = *conf;
	s->dsn = trib_xstrdup(conf->dsn);
	s->source_name = trib_xstrdup(conf->source_name ? conf->source_name : "postgres");
	s->db = conf->db ? trib_xstrdup(conf->db) : NULL;
	s->snapshot_name = conf->import_snapshot ? trib_xstrdup(conf->import_snapshot) : NULL;
	s->include = copy_list(conf->include);
	s->exclude = copy_list(conf->exclude);
	s->restrict_to = copy_list(conf->restrict_to);
	s->conf.dsn = s->dsn;
	s->conf.include = (const char *const *) s->include;
	s->conf.exclude = (const char *const *) s->exclude;
	s->conf.restrict_to = (const char *const *) s->restrict_to;
	s->conf.import_snapshot = NULL;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->not_empty, NULL);
	pthread_cond_init(&s->not_full, NULL);
	s->wait = (trib_chunkwait) {
		.mu = &s->mu,.room = &s->not_full,.ready = &s->not_empty,.q = &s->q,
		.bound = s->conf.buffer_bytes,.stop = &s->cancel,.running = &s->running,
		.error = s->error,
	};
	return s;
}

/* ---- connections -------------------------------------------------------- */

/* Connect with the source's dsn (never replication); NULL with errbuf. */
static PGconn *
connect_db(const char *dsn, char *errbuf, size_t errlen)
{
	const char *kw[] = {"dbname", "fallback_application_name", "replication", NULL};
	const char *val[] = {dsn, "tributary-snapshot", "false", NULL};
	PGconn	   *c = PQconnectdbParams(kw, val, 1);

	if (c == NULL || PQstatus(c) != CONNECTION_OK)
	{
		trib_errf(errbuf, errlen, "snapshot: connection failed: %s",
				  c ? PQerrorMessage(c) : "out of memory");
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Run a command that returns no rows. */
static bool
exec_ok(PGconn *c, const char *sql, const char *what, char *errbuf, size_t errlen)
{
	PGresult   *r = PQexec(c, sql);
	bool		ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	if (!ok)
		trib_errf(errbuf, errlen, "snapshot: %s: %s", what, PQerrorMessage(c));
	PQclear(r);
	return ok;
}

/* The output settings, then the transaction, importing name if given. */
static bool
setup_session(PGconn *c, trib_snapfmt_enc enc, const char *import,
			  char *errbuf, size_t errlen)
{
	char		sql[512];

	snprintf(sql, sizeof(sql),
			 "SET DateStyle = 'ISO'; SET IntervalStyle = 'iso_8601'; "
			 "SET extra_float_digits = 1; SET bytea_output = 'hex'; "
			 "SET client_encoding = '%s'; SET statement_timeout = 0; "
			 "SET idle_in_transaction_session_timeout = 0",
			 enc == TRIB_SNAPFMT_ENC_SQL_ASCII ? "SQL_ASCII" : "UTF8");
	if (!exec_ok(c, sql, "session settings", errbuf, errlen) ||
		!exec_ok(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
				 "BEGIN", errbuf, errlen))
		return false;
	if (import)
	{
		char	   *lit = PQescapeLiteral(c, import, strlen(import));
		bool		ok;

		if (lit == NULL)
			return trib_errf(errbuf, errlen, "snapshot: cannot quote the snapshot name");
		snprintf(sql, sizeof(sql), "SET TRANSACTION SNAPSHOT %s", lit);
		PQfreemem(lit);
		ok = exec_ok(c, sql, "SET TRANSACTION SNAPSHOT", errbuf, errlen);
		return ok;
	}
	return true;
}

/* The database encoding, from the catalog. */
static bool
load_encoding(trib_snapshot *s, char *errbuf, size_t errlen)
{
	PGresult   *r = PQexec(s->coord, "SELECT pg_catalog.pg_encoding_to_char(encoding) "
						   "FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()");
	const char *e;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
	{
		trib_errf(errbuf, errlen, "snapshot: reading the database encoding: %s", PQerrorMessage(s->coord));
		PQclear(r);
		return false;
	}
	e = PQgetvalue(r, 0, 0);
	s->enc = strcmp(e, "UTF8") == 0 ? TRIB_SNAPFMT_ENC_UTF8 :
		strcmp(e, "SQL_ASCII") == 0 ? TRIB_SNAPFMT_ENC_SQL_ASCII : TRIB_SNAPFMT_ENC_OTHER;
	PQclear(r);
	return true;
}

/* Export our own snapshot (or read the imported one's LSN). */
static bool
take_snapshot(trib_snapshot *s, char *errbuf, size_t errlen)
{
	PGresult   *r = PQexec(s->coord, s->snapshot_name ?
						   "SELECT NULL, pg_catalog.pg_current_wal_lsn()::text" :
						   "SELECT pg_catalog.pg_export_snapshot(), pg_catalog.pg_current_wal_lsn()::text");

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
	{
		trib_errf(errbuf, errlen, "snapshot: exporting a snapshot: %s", PQerrorMessage(s->coord));
		PQclear(r);
		return false;
	}
	if (!s->snapshot_name)
		s->snapshot_name = trib_xstrdup(PQgetvalue(r, 0, 0));
	trib_lsn_parse(PQgetvalue(r, 0, 1), &s->wal_lsn);
	PQclear(r);
	return true;
}

/*
 * ACCESS SHARE on every table for the whole copy (the coordinator's
 * transaction stays open), so that no ALTER or DROP changes a table
 * between listing its columns and reading it.
 */
static bool
lock_tables(trib_snapshot *s, char *errbuf, size_t errlen)
{
	int			i;

	for (i = 0; i < s->ntables; i++)
	{
		trib_snaptab_table *t = &s->tables[i];
		char	   *qs = PQescapeIdentifier(s->coord, t->schema, strlen(t->schema));
		char	   *qt = PQescapeIdentifier(s->coord, t->table, strlen(t->table));
		trib_strbuf sql = {0};
		bool		ok;

		if (qs == NULL || qt == NULL)
			abort();
		trib_strbuf_printf(&sql, "LOCK TABLE %s%s.%s IN ACCESS SHARE MODE",
						   t->relkind == 'p' ? "" : "ONLY ", qs, qt);
		ok = exec_ok(s->coord, sql.data, "LOCK TABLE", errbuf, errlen);
		PQfreemem(qs);
		PQfreemem(qt);
		trib_strbuf_free(&sql);
		if (!ok)
			return false;
	}
	return true;
}

bool
trib_snapshot_prepare(trib_snapshot *s, char *errbuf, size_t errlen)
{
	s->coord = connect_db(s->dsn, errbuf, errlen);
	if (s->coord == NULL || !load_encoding(s, errbuf, errlen) ||
		!setup_session(s->coord, s->enc, s->snapshot_name, errbuf, errlen) ||
		!take_snapshot(s, errbuf, errlen))
		return false;
	s->fmt.encoding = s->enc;
	s->fmt.bytea_hex = s->conf.bytea_hex;
	return trib_snaptab_load(s->coord, &s->conf, s->enc, &s->tables, &s->ntables,
								 errbuf, errlen) && lock_tables(s, errbuf, errlen);
}

uint64_t
trib_snapshot_wal_lsn(const trib_snapshot *s)
{
	return s->wal_lsn;
}

bool
trib_snapshot_slot_lsn(trib_snapshot *s, const char *slot, uint64_t *out,
					   char *errbuf, size_t errlen)
{
	PGresult   *r = PQexecParams(s->coord,
								 "SELECT confirmed_flush_lsn::text FROM pg_catalog.pg_replication_slots "
								 "WHERE slot_name = $1", 1, NULL, &slot, NULL, NULL, 0);

	*out = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
	{
		trib_errf(errbuf, errlen, "snapshot: reading the slot's position: %s", PQerrorMessage(s->coord));
		PQclear(r);
		return false;
	}
	if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
		trib_lsn_parse(PQgetvalue(r, 0, 0), out);
	PQclear(r);
	return true;
}

int
trib_snapshot_ntables(const trib_snapshot *s)
{
	return s->ntables;
}

trib_snaptab_table *
trib_snapshot_table(trib_snapshot *s, int i)
{
	return &s->tables[i];
}

/* ---- the queue ---------------------------------------------------------- */

/* Record the first error and cancel everything. */
static void
set_error(trib_snapshot *s, const char *msg)
{
	pthread_mutex_lock(&s->mu);
	if (!s->error[0])
		snprintf(s->error, sizeof(s->error), "%s", msg);
	s->cancel = true;
	pthread_cond_broadcast(&s->not_full);
	pthread_cond_broadcast(&s->not_empty);
	pthread_mutex_unlock(&s->mu);
}

/* Queue a chunk, waiting for room; false (chunk freed) when cancelled. */
static bool
push(trib_snapshot *s, trib_snapfeed_rows *c)
{
	if (trib_chunkwait_put(&s->wait, &c->link))
		return true;
	trib_snapfeed_rows_free(c);
	return false;
}

int
trib_snapshot_next(trib_snapshot *s, int timeout_ms, trib_snapfeed_rows **out,
				   char *errbuf, size_t errlen)
{
	return trib_snapfeed_take(&s->wait, timeout_ms, out, errbuf, errlen);
}

/* ---- rows to events ----------------------------------------------------- */

/* Add column col to the row's JSON null list jn (as the plugin's
 * json_nulls): its name, or ["name",i,...] with elems holding ",i,...". */
static void
note_json_null(trib_strbuf *jn, const trib_snaptab_column *col, const trib_strbuf *elems)
{
	trib_strbuf_addc(jn, jn->len ? ',' : '[');
	if (elems)
		trib_strbuf_addc(jn, '[');
	trib_strbuf_add(jn, col->json_key, col->json_key_len - 1);	/* "name" */
	if (elems)
	{
		trib_strbuf_add(jn, elems->data, elems->len);
		trib_strbuf_addc(jn, ']');
	}
}

/* The row image, key and JSON null list of result row i; false with
 * errbuf. */
static bool
row_event(trib_snapshot *s, worker *w, const trib_snaptab_table *t, PGresult *res,
		  int i, trib_event **out, size_t *bytes, char *errbuf, size_t errlen)
{
	static char connector[] = "postgresql";
	trib_strbuf *b = &w->row;
	trib_strbuf *key = &w->key;
	trib_event *ev;
	int			c;
	char		e[256];

	b->len = 0;
	key->len = 0;
	w->jnulls.len = 0;
	trib_strbuf_addc(b, '{');
	for (c = 0; c < t->ncols; c++)
	{
		const trib_snaptab_column *col = &t->cols[c];
		size_t		start;
		bool		json_null;

		if (c > 0)
			trib_strbuf_addc(b, ',');
		start = b->len;
		trib_strbuf_add(b, col->json_key, col->json_key_len);
		w->elems.len = 0;
		if (PQgetisnull(res, i, c))
			trib_strbuf_add(b, "null", 4);
		else if (!trib_snapfmt_column(b, PQgetvalue(res, i, c), (size_t) PQgetlength(res, i, c),
									  col->type, &s->fmt, &w->elems, &json_null, e, sizeof(e)))
			return trib_errf(errbuf, errlen, "snapshot: %s.%s column %s: %s",
							 t->schema, t->table, col->name, e);
		else if (json_null || w->elems.len > 0)
			note_json_null(&w->jnulls, col, json_null ? NULL : &w->elems);
		if (col->in_key)
		{
			trib_strbuf_addc(key, key->len ? ',' : '{');
			trib_strbuf_add(key, b->data + start, b->len - start);
		}
	}
	trib_strbuf_addc(b, '}');
	ev = trib_event_new();
	ev->op = TRIB_OP_READ;
	ev->snapshot = true;
	/* borrowed: see trib_snapfeed_rows in snapshot.h */
	ev->source = s->source_name;
	ev->connector = connector;
	ev->db = s->db;
	ev->schema = t->schema;
	ev->table = t->table;
	ev->after = trib_xstrndup(b->data, b->len);
	if (w->jnulls.len)
	{
		trib_strbuf_addc(&w->jnulls, ']');
		ev->after_json_nulls = trib_xstrndup(w->jnulls.data, w->jnulls.len);
	}
	if (key->len)
	{
		trib_strbuf_addc(key, '}');
		ev->key = trib_xstrndup(key->data, key->len);
	}
	ev->ts_ms = s->conf.ts_ms;
	ev->rel = &t->rel;
	*out = ev;
	*bytes += 200 + b->len + key->len + w->jnulls.len;
	return true;
}

/* A chunk from one result. */
static bool
make_chunk(trib_snapshot *s, worker *w, int ti, PGresult *res, trib_snapfeed_rows **out,
		   char *errbuf, size_t errlen)
{
	const trib_snaptab_table *t = &s->tables[ti];
	trib_snapfeed_rows *c = trib_xcalloc(1, sizeof(*c));
	int			n = PQntuples(res),
				i;

	c->table = ti;
	c->evs = trib_xcalloc(n ? (size_t) n : 1, sizeof(trib_event *));
	c->final = n < s->conf.chunk_rows;
	c->link.bytes = 256;
	for (i = 0; i < n; i++)
	{
		if (!row_event(s, w, t, res, i, &c->evs[i], &c->link.bytes, errbuf, errlen))
		{
			trib_snapfeed_rows_free(c);
			return false;
		}
		c->nev++;
	}
	if (n > 0 && t->norder > 0)
	{
		c->nkey = t->norder;
		c->last_key = trib_xcalloc((size_t) t->norder, sizeof(char *));
		for (i = 0; i < t->norder; i++)
			c->last_key[i] = trib_xstrdup(PQgetvalue(res, n - 1, t->order[i]));
	}
	*out = c;
	return true;
}

/* Is the snapshot being cancelled? */
static bool
cancelled(trib_snapshot *s)
{
	bool		c;

	pthread_mutex_lock(&s->mu);
	c = s->cancel;
	pthread_mutex_unlock(&s->mu);
	return c;
}

/* Send a table's chunk query: the first, or the one after key. */
static bool
send_chunk_query(PGconn *conn, const trib_snaptab_table *t, const char *first,
				 const char *next, const Oid *types, char *const *key)
{
	return key ? PQsendQueryParams(conn, next, t->norder, types,
								   (const char *const *) key, NULL, NULL, 0) == 1
		: PQsendQuery(conn, first) == 1;
}

/* The one result of the query in flight (NULL after the terminator). */
static PGresult *
take_result(PGconn *conn)
{
	PGresult   *res = PQgetResult(conn),
			   *extra;

	while ((extra = PQgetResult(conn)) != NULL)
		PQclear(extra);
	return res;
}

/* Replace *key with the texts of the ordering key in the last row. */
static void
last_key(const trib_snaptab_table *t, PGresult *res, char ***key)
{
	int			i,
				n = PQntuples(res);

	for (i = 0; *key && i < t->norder; i++)
		free((*key)[i]);
	free(*key);
	*key = trib_xcalloc((size_t) t->norder, sizeof(char *));
	for (i = 0; i < t->norder; i++)
		(*key)[i] = trib_xstrdup(PQgetvalue(res, n - 1, t->order[i]));
}

/*
 * Read a keyed table chunk by chunk from its resume point.  As soon as a
 * chunk's rows are in, the query for the next chunk goes out, so the
 * server reads it while this thread formats the current one.
 */
static bool
read_keyed(trib_snapshot *s, worker *w, PGconn *conn, int ti, char *errbuf, size_t errlen)
{
	trib_snaptab_table *t = &s->tables[ti];
	char	   *first = trib_snaptab_sql(conn, t, false, s->conf.chunk_rows);
	char	   *next = trib_snaptab_sql(conn, t, true, s->conf.chunk_rows);
	Oid		   *types = trib_xcalloc((size_t) t->norder, sizeof(Oid));
	char	  **key = NULL;
	bool		ok,
				inflight;
	int			i;

	for (i = 0; i < t->norder; i++)
		types[i] = t->cols[t->order[i]].type_oid;
	if (t->after && t->nafter == t->norder)
	{
		key = trib_xcalloc((size_t) t->norder, sizeof(char *));
		for (i = 0; i < t->norder; i++)
			key[i] = trib_xstrdup(t->after[i]);
	}
	ok = inflight = send_chunk_query(conn, t, first, next, types, key);
	if (!ok)
		trib_errf(errbuf, errlen, "snapshot: reading %s.%s: %s", t->schema, t->table,
				  PQerrorMessage(conn));
	while (ok && !cancelled(s))
	{
		PGresult   *res = take_result(conn);
		trib_snapfeed_rows *c = NULL;
		bool		final;

		inflight = false;
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			ok = trib_errf(errbuf, errlen, "snapshot: reading %s.%s: %s", t->schema, t->table,
						   PQerrorMessage(conn));
			PQclear(res);
			break;
		}
		final = PQntuples(res) < s->conf.chunk_rows;
		if (!final)
		{
			last_key(t, res, &key);
			ok = inflight = send_chunk_query(conn, t, first, next, types, key);
			if (!ok)
				trib_errf(errbuf, errlen, "snapshot: reading %s.%s: %s", t->schema, t->table,
						  PQerrorMessage(conn));
		}
		if (ok)
			ok = make_chunk(s, w, ti, res, &c, errbuf, errlen);
		PQclear(res);
		if (!ok || !push(s, c) || final)
			break;
	}
	if (inflight)
		PQclear(take_result(conn));
	for (i = 0; key && i < t->norder; i++)
		free(key[i]);
	free(key);
	free(types);
	free(first);
	free(next);
	return ok;
}

/* Read a table without a key in one pass through a cursor. */
static bool
read_cursor(trib_snapshot *s, worker *w, PGconn *conn, int ti, char *errbuf, size_t errlen)
{
	trib_snaptab_table *t = &s->tables[ti];
	char	   *sel = trib_snaptab_sql(conn, t, false, 0);
	trib_strbuf sql = {0};
	char		fetch[64];
	bool		ok;

	trib_strbuf_printf(&sql, "DECLARE trib_snap NO SCROLL CURSOR FOR %s", sel);
	free(sel);
	ok = exec_ok(conn, sql.data, "DECLARE CURSOR", errbuf, errlen);
	trib_strbuf_free(&sql);
	snprintf(fetch, sizeof(fetch), "FETCH %d FROM trib_snap", s->conf.chunk_rows);
	while (ok && !cancelled(s))
	{
		PGresult   *res = PQexec(conn, fetch);
		trib_snapfeed_rows *c = NULL;
		bool		final;

		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			ok = trib_errf(errbuf, errlen, "snapshot: reading %s.%s: %s", t->schema, t->table,
						   PQerrorMessage(conn));
		else
			ok = make_chunk(s, w, ti, res, &c, errbuf, errlen);
		PQclear(res);
		if (!ok)
			break;
		final = c->final;
		if (!push(s, c) || final)
			break;
	}
	return ok && exec_ok(conn, "CLOSE trib_snap", "CLOSE", errbuf, errlen);
}

/* The next table nobody took, or -1. */
static int
claim_table(trib_snapshot *s)
{
	int			i = -1;

	pthread_mutex_lock(&s->mu);
	while (!s->cancel && s->next_table < s->ntables)
	{
		trib_snaptab_table *t = &s->tables[s->next_table++];

		if (!t->skip)
		{
			t->claimed = true;
			i = (int) (t - s->tables);
			break;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return i;
}

/* A worker: its own connection under the shared snapshot, tables in turn. */
static void *
worker_main(void *arg)
{
	worker	   *w = arg;
	trib_snapshot *s = w->s;
	char		err[1024] = "";
	PGconn	   *conn = connect_db(s->dsn, err, sizeof(err));
	bool		ok = conn && setup_session(conn, s->enc, s->snapshot_name, err, sizeof(err));
	int			ti;

	while (ok && (ti = claim_table(s)) >= 0)
		ok = s->tables[ti].norder > 0 ? read_keyed(s, w, conn, ti, err, sizeof(err))
			: read_cursor(s, w, conn, ti, err, sizeof(err));
	if (!ok)
		set_error(s, err);
	if (conn)
	{
		PQclear(PQexec(conn, "COMMIT"));
		PQfinish(conn);
	}
	trib_strbuf_free(&w->row);
	trib_strbuf_free(&w->key);
	trib_strbuf_free(&w->jnulls);
	trib_strbuf_free(&w->elems);
	/* its error was kept by set_error, which cancels the others */
	trib_worker_exit(&s->mu, &s->not_empty, &s->running, s->error, sizeof(s->error), NULL);
	return NULL;
}

bool
trib_snapshot_start(trib_snapshot *s, char *errbuf, size_t errlen)
{
	int			todo = 0,
				i;

	for (i = 0; i < s->ntables; i++)
		todo += !s->tables[i].skip;
	s->nworkers = todo < s->conf.workers ? todo : s->conf.workers;
	s->workers = trib_xcalloc((size_t) s->nworkers + 1, sizeof(worker));
	s->running = s->nworkers;
	for (i = 0; i < s->nworkers; i++)
	{
		s->workers[i].s = s;
		if (pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i]) != 0)
		{
			pthread_mutex_lock(&s->mu);
			s->running -= s->nworkers - i;
			pthread_mutex_unlock(&s->mu);
			set_error(s, "snapshot: cannot start a worker thread");
			return trib_errf(errbuf, errlen, "snapshot: cannot start a worker thread");
		}
		s->workers[i].started = true;
	}
	return true;
}

void
trib_snapshot_stop(trib_snapshot *s)
{
	int			i;
	trib_snapfeed_rows *c;

	pthread_mutex_lock(&s->mu);
	s->cancel = true;
	pthread_cond_broadcast(&s->not_full);
	pthread_cond_broadcast(&s->not_empty);
	pthread_mutex_unlock(&s->mu);
	for (i = 0; i < s->nworkers; i++)
		if (s->workers[i].started)
		{
			pthread_join(s->workers[i].thread, NULL);
			s->workers[i].started = false;
		}
	while ((c = (trib_snapfeed_rows *) trib_chunkq_pop(&s->q)) != NULL)
		trib_snapfeed_rows_free(c);
}

void
trib_snapshot_free(trib_snapshot *s)
{
	if (s == NULL)
		return;
	trib_snapshot_stop(s);
	if (s->coord)
	{
		PQclear(PQexec(s->coord, "COMMIT"));
		PQfinish(s->coord);
	}
	trib_snaptab_free(s->tables, s->ntables);
	free(s->workers);
	free(s->dsn);
	free(s->source_name);
	free(s->db);
	free(s->snapshot_name);
	free_list(s->include);
	free_list(s->exclude);
	free_list(s->restrict_to);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->not_empty);
	pthread_cond_destroy(&s->not_full);
	free(s);
}
