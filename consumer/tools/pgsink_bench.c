/*
 * pgsink_bench.c: measure how the Postgres sink should batch.
 *
 *   pgsink_bench --dsn TARGET [--events N] [--batch N] [--max-rows N]
 *
 * Generates N changes to one table (id bigint key, numeric, text, jsonb,
 * text[], timestamptz): 70% inserts of new keys, 30% updates of earlier
 * keys, and applies them four ways through the sink -- one statement per
 * event with and without libpq's pipeline mode, multi-row statements with
 * and without it -- and a fifth way that the sink does not implement:
 * per batch, COPY into a temporary table, then one INSERT ... SELECT
 * DISTINCT ON (key) ... ON CONFLICT DO UPDATE merge, plus the position
 * upsert, in one transaction.  Each way starts from an empty table and
 * must end with the same rows (checked by md5).  Prints rows/s per way.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "event.h"
#include "sink.h"
#include "sink_postgres.h"
#include "strbuf.h"

static const char *const columns[] = {"id", "amount", "name", "doc", "tags", "ts"};

static const char *const rel_types[] = {
	"bigint", "numeric(12,2)", "text", "jsonb", "text[]", "timestamp with time zone"
};

static void
die(const char *what, const char *msg)
{
	fprintf(stderr, "pgsink_bench: %s: %s\n", what, msg);
	exit(1);
}

static int	max_rows;			/* --max-rows; 0: the sink's default */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The generated changes, as events. */
static trib_event **
make_events(int n, const trib_relation *rel)
{
	trib_event **evs = calloc((size_t) n, sizeof(*evs));
	long		next = 1;
	unsigned	seed = 42;
	int			i;

	for (i = 0; i < n; i++)
	{
		trib_event *ev = trib_event_new();
		trib_strbuf b = {0};
		long		id;

		seed = seed * 1103515245 + 12345;
		if (next == 1 || (seed >> 16) % 10 < 7)
		{
			id = next++;
			ev->op = TRIB_OP_CREATE;
		}
		else
		{
			id = 1 + (long) ((seed >> 8) % (unsigned) (next - 1));
			ev->op = TRIB_OP_UPDATE;
		}
		trib_strbuf_printf(&b, "{\"id\":%ld,\"amount\":%ld.%02d,\"name\":\"customer \\\"%ld\\\" ☃\","
						   "\"doc\":{\"n\":%d,\"labels\":[\"a\",\"b\"],\"nested\":{\"x\":%d}},"
						   "\"tags\":[\"t%ld\",\"x y\"],\"ts\":\"2024-06-01T10:%02d:%02d.%06dZ\"}",
						   id, id * 3, i % 100, id, i, i % 7, id % 10, i % 60, (i / 60) % 60, i);
		ev->after = trib_strbuf_finish(&b);
		ev->schema = "public";	/* borrowed (event.h) */
		ev->table = "bench";
		ev->pos.commit_lsn = 0x1000000 + (uint64_t) (i / 10) * 0x100;
		ev->pos.seq = (uint64_t) (i % 10);
		ev->last_in_tx = i % 10 == 9;
		ev->rel = rel;
		evs[i] = ev;
	}
	return evs;
}

/* Run one SQL command or die. */
static void
exec_or_die(PGconn *c, const char *sql)
{
	PGresult   *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		die(sql, PQerrorMessage(c));
	PQclear(r);
}

/* md5 of the table, to check that every way gives the same rows. */
static char *
table_md5(PGconn *c)
{
	PGresult   *r = PQexec(c, "SELECT count(*) || ':' || md5(string_agg(b::text, '|' ORDER BY id)) FROM bench b");
	char	   *s;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		die("md5", PQerrorMessage(c));
	s = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return s;
}

/* Apply through the sink in one mode; returns seconds. */
static double
run_sink(const char *dsn, trib_event **evs, int n, int batch, trib_pgsink_mode mode,
		 bool pipeline)
{
	trib_pgsink_opts o;
	trib_sink	sink;
	char		err[1024];
	double		t0;
	int			i;

	trib_pgsink_opts_init(&o);
	o.dsn = dsn;
	o.pipeline = "bench";
	o.batch_size = batch;
	o.batch_ms = 1000000;
	o.mode = mode;
	o.no_pipeline = !pipeline;
	o.create_tables = true;
	o.max_rows = max_rows;
	memset(&sink, 0, sizeof(sink));
	sink.name = "bench";
	if (!trib_pgsink_open_opts(&sink, &o, err, sizeof(err)))
		die("open", err);
	t0 = now_s();
	for (i = 0; i < n; i++)
		if (!sink.ops->write(&sink, evs[i], err, sizeof(err)))
			die("write", err);
	if (!sink.ops->flush(&sink, 60000, err, sizeof(err)))
		die("flush", err);
	t0 = now_s() - t0;
	sink.ops->close(&sink);
	return t0;
}

/* Append a COPY text-format field (backslash, tab, newline escaped). */
static void
copy_field(trib_strbuf *b, const char *s, bool is_null)
{
	if (is_null)
	{
		trib_strbuf_adds(b, "\\N");
		return;
	}
	for (; *s; s++)
	{
		if (*s == '\\' || *s == '\t' || *s == '\n' || *s == '\r')
		{
			trib_strbuf_addc(b, '\\');
			trib_strbuf_addc(b, *s == '\t' ? 't' : *s == '\n' ? 'n' : *s == '\r' ? 'r' : '\\');
		}
		else
			trib_strbuf_addc(b, *s);
	}
}

/* The value of member `name` of a flat JSON row image (bench rows only). */
static bool
member(const char *img, const char *name, const char **start, size_t *len)
{
	char		key[64];
	const char *p,
			   *q;
	int			depth = 0;
	bool		instr = false;

	snprintf(key, sizeof(key), "\"%s\":", name);
	p = strstr(img, key);
	if (!p)
		return false;
	p += strlen(key);
	for (q = p; *q; q++)
	{
		if (instr)
		{
			if (*q == '\\')
				q++;
			else if (*q == '"')
				instr = false;
			continue;
		}
		if (*q == '"')
			instr = true;
		else if (*q == '{' || *q == '[')
			depth++;
		else if (*q == '}' || *q == ']')
		{
			if (depth == 0)
				break;
			depth--;
		}
		else if (*q == ',' && depth == 0)
			break;
	}
	*start = p;
	*len = (size_t) (q - p);
	return true;
}

/* The COPY + merge way; returns seconds. */
static double
run_copy(const char *dsn, trib_event **evs, int n, int batch)
{
	static const char kinds[] = {'t', 't', 't', 'j', 'a', 'd'};
	PGconn	   *c = PQconnectdb(dsn);
	trib_strbuf data = {0},
				val = {0};
	double		t0;
	int			i,
				k;

	if (PQstatus(c) != CONNECTION_OK)
		die("connect", PQerrorMessage(c));
	exec_or_die(c, "CREATE TEMP TABLE stage (LIKE public.bench, seq int) ON COMMIT DELETE ROWS");
	t0 = now_s();
	for (i = 0; i < n; i += batch)
	{
		int			end = i + batch < n ? i + batch : n;
		PGresult   *r;
		char		lsn[32],
					sql[1024];

		exec_or_die(c, "BEGIN");
		data.len = 0;
		for (k = i; k < end; k++)
		{
			size_t		col;

			for (col = 0; col < 6; col++)
			{
				const char *v;
				size_t		len;
				bool		is_null = false;
				char		err[256];

				val.len = 0;
				if (!member(evs[k]->after, columns[col], &v, &len) ||
					!trib_pgsink_value_text(v, len, kinds[col], 't', false, &val, &is_null,
											err, sizeof(err)))
					die("value", evs[k]->after);
				copy_field(&data, val.data, is_null);
				trib_strbuf_addc(&data, '\t');
			}
			trib_strbuf_printf(&data, "%d\n", k);
		}
		r = PQexec(c, "COPY stage FROM STDIN");
		if (PQresultStatus(r) != PGRES_COPY_IN)
			die("copy", PQerrorMessage(c));
		PQclear(r);
		if (PQputCopyData(c, data.data, (int) data.len) != 1 || PQputCopyEnd(c, NULL) != 1)
			die("copy data", PQerrorMessage(c));
		r = PQgetResult(c);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			die("copy end", PQerrorMessage(c));
		PQclear(r);
		while ((r = PQgetResult(c)) != NULL)
			PQclear(r);
		exec_or_die(c, "INSERT INTO public.bench (id, amount, name, doc, tags, ts) "
					"SELECT DISTINCT ON (id) id, amount, name, doc, tags, ts FROM stage "
					"ORDER BY id, seq DESC ON CONFLICT (id) DO UPDATE SET amount = EXCLUDED.amount, "
					"name = EXCLUDED.name, doc = EXCLUDED.doc, tags = EXCLUDED.tags, ts = EXCLUDED.ts");
		trib_lsn_format(evs[end - 1]->pos.commit_lsn, lsn, sizeof(lsn));
		snprintf(sql, sizeof(sql), "INSERT INTO tributary_sink.positions (pipeline, sink, commit_lsn, seq) "
				 "VALUES ('bench', 'copy', '%s', %" PRIu64 ") ON CONFLICT (pipeline, sink) DO UPDATE "
				 "SET commit_lsn = EXCLUDED.commit_lsn, seq = EXCLUDED.seq", lsn, evs[end - 1]->pos.seq);
		exec_or_die(c, sql);
		exec_or_die(c, "COMMIT");
	}
	t0 = now_s() - t0;
	trib_strbuf_free(&data);
	trib_strbuf_free(&val);
	PQfinish(c);
	return t0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dsn", required_argument, NULL, 'd'},
		{"events", required_argument, NULL, 'n'},
		{"batch", required_argument, NULL, 'b'},
		{"max-rows", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0}
	};
	trib_relation rel;
	trib_column cols[6];
	const char *dsn = NULL;
	int			n = 100000,
				batch = 1000,
				c,
				way;
	trib_event **evs;
	PGconn	   *conn;
	char	   *first_md5 = NULL;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		if (c == 'd')
			dsn = optarg;
		else if (c == 'n')
			n = atoi(optarg);
		else if (c == 'b')
			batch = atoi(optarg);
		else if (c == 'r')
			max_rows = atoi(optarg);
		else
			return 2;
	}
	if (!dsn)
		die("usage", "pgsink_bench --dsn DSN [--events N] [--batch N]");
	memset(&rel, 0, sizeof(rel));
	memset(cols, 0, sizeof(cols));
	for (c = 0; c < 6; c++)
	{
		cols[c].name = (char *) columns[c];
		cols[c].type = (char *) rel_types[c];
		cols[c].pk = c == 0;
	}
	rel.schema = "public";
	rel.table = "bench";
	rel.columns = cols;
	rel.ncolumns = 6;
	rel.version = 1;
	evs = make_events(n, &rel);
	conn = PQconnectdb(dsn);
	if (PQstatus(conn) != CONNECTION_OK)
		die("connect", PQerrorMessage(conn));
	exec_or_die(conn, "DROP TABLE IF EXISTS public.bench");
	printf("%d changes (70%% inserts, 30%% updates), batch %d\n", n, batch);
	for (way = 0; way < 5; way++)
	{
		static const char *const names[] = {
			"one statement per row, one round trip each",
			"one statement per row, pipelined",
			"multi-row statements, one round trip each",
			"multi-row statements, pipelined (the sink's default)",
			"COPY to a temp table + INSERT ... SELECT merge"
		};
		double		secs;
		char	   *md5;

		exec_or_die(conn, "DROP TABLE IF EXISTS public.bench");
		exec_or_die(conn, "DO $$ BEGIN IF to_regclass('tributary_sink.positions') IS NOT NULL THEN "
					"DELETE FROM tributary_sink.positions WHERE pipeline = 'bench'; END IF; END $$");
		if (way == 4)
			exec_or_die(conn, "CREATE TABLE public.bench (id bigint PRIMARY KEY, amount numeric(12,2), "
						"name text, doc jsonb, tags text[], ts timestamptz)");
		exec_or_die(conn, "CHECKPOINT");
		if (way < 4)
			secs = run_sink(dsn, evs, n, batch, way < 2 ? TRIB_PGSINK_ROW : TRIB_PGSINK_MULTIROW,
							way % 2 == 1);
		else
			secs = run_copy(dsn, evs, n, batch);
		md5 = table_md5(conn);
		printf("  %-54s %8.0f rows/s  (%.2f s)%s\n", names[way], n / secs, secs,
			   first_md5 && strcmp(md5, first_md5) != 0 ? "  DIFFERENT ROWS" : "");
		if (!first_md5)
			first_md5 = md5;
		else
			free(md5);
		fflush(stdout);
	}
	free(first_md5);
	for (c = 0; c < n; c++)
	{
		evs[c]->rel = NULL;
		trib_event_free(evs[c]);
	}
	free(evs);
	PQfinish(conn);
	return 0;
}
