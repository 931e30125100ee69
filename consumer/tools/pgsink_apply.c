/*
 * pgsink_apply.c: drive the PostgreSQL sink; the driver of the end-to-end
 * test test/e2e/07_sink_postgres.sh.
 *
 *   pgsink_apply --dsn TARGET [--schema S] [--create-tables] [--pipeline P]
 *                [--sink NAME] [--batch-size N] [--batch-ms N]
 *                [--mode row|multirow] [--max-rows N] [--no-pipeline] [--bytea-hex]
 *                [--unknown-types-text] [--log-row-values]
 *                [--crash-after N] [--stats]
 *                (--events FILE | --source-dsn SRC --slot S [--create-slot]
 *                 [--idle-ms N])
 *
 * --events FILE: synthetic events, one JSON object per line:
 *   {"id":"0/10:0","op":"c","schema":"public","table":"t",
 *    "before":{...}|null,"after":{...}|null,"key":{...}|null,
 *    "unchanged":["col",...]|null,"extra":{...}|null,
 *    "after_json_nulls":[...]|null,"before_json_nulls":[...]|null (event.h),
 *    "rel":{"version":1,"columns":[{"name":"id","type":"bigint","pk":true},...]}}
 * (a column is nullable unless it is "pk" or has "nullable":false; it is
 * in the replica identity with "identity":true).
 * Values are re-generated with yajl (numbers keep their text).
 *
 * --source-dsn: stream a real source (source_pg.c and the tributary output
 * plugin) into the sink until nothing arrives for --idle-ms (default
 * 2000), resuming after the sink's stored position as the pipeline does.
 * Each event keeps the relation version the parser gave it (its relation
 * cache's view, which lives as long as the source); the relation records
 * themselves are not read: they point into the cache, whose entry a later
 * relation record of the same table in the same poll replaces.
 *
 * --crash-after N: _exit(9) right after the N-th event was handed to the
 * sink, without flushing: a crash in the middle of a batch.
 * --stats prints the sink's counters as one line "stats k=v ..." to stdout;
 * the stored position is printed as "position L:S" (or "position none").
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "event.h"
#include "pgrecord.h"
#include "sink.h"
#include "sink_postgres.h"
#include "source_pg.h"

/* Every relation version made, freed at exit. */
typedef struct relnode
{
	trib_relation rel;
	struct relnode *next;
} relnode;

static relnode *relations;
static long crash_after = -1;
static long nwritten;

static void
die(const char *what, const char *msg)
{
	fprintf(stderr, "pgsink_apply: %s: %s\n", what, msg);
	exit(1);
}

/* Generate one yajl tree value (numbers as their text). */
static void
gen_value(yajl_gen g, yajl_val v)
{
	size_t		i;

	if (YAJL_IS_STRING(v))
		yajl_gen_string(g, (const unsigned char *) v->u.string, strlen(v->u.string));
	else if (YAJL_IS_NUMBER(v))
		yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
	else if (YAJL_IS_TRUE(v))
		yajl_gen_bool(g, 1);
	else if (YAJL_IS_FALSE(v))
		yajl_gen_bool(g, 0);
	else if (YAJL_IS_OBJECT(v))
	{
		yajl_gen_map_open(g);
		for (i = 0; i < v->u.object.len; i++)
		{
			yajl_gen_string(g, (const unsigned char *) v->u.object.keys[i],
							strlen(v->u.object.keys[i]));
			gen_value(g, v->u.object.values[i]);
		}
		yajl_gen_map_close(g);
	}
	else if (YAJL_IS_ARRAY(v))
	{
		yajl_gen_array_open(g);
		for (i = 0; i < v->u.array.len; i++)
			gen_value(g, v->u.array.values[i]);
		yajl_gen_array_close(g);
	}
	else
		yajl_gen_null(g);
}

/* The JSON text of member `name` (NULL when absent or null). */
static char *
member_text(yajl_val root, const char *name)
{
	const char *path[] = {name, NULL};
	yajl_val	v = yajl_tree_get(root, path, yajl_t_any);
	yajl_gen	g;
	const unsigned char *buf;
	size_t		len;
	char	   *out;

	if (!v || YAJL_IS_NULL(v))
		return NULL;
	g = yajl_gen_alloc(NULL);
	gen_value(g, v);
	yajl_gen_get_buf(g, &buf, &len);
	out = strndup((const char *) buf, len);
	yajl_gen_free(g);
	return out;
}

/* A string member, or NULL. */
static char *
member_str(yajl_val root, const char *name)
{
	const char *path[] = {name, NULL};
	yajl_val	v = yajl_tree_get(root, path, yajl_t_string);

	return v && v->u.string ? strdup(v->u.string) : NULL;
}

/* The relation version an events file describes (made once per line). */
static const trib_relation *
file_relation(yajl_val root, const char *schema, const char *table)
{
	const char *rp[] = {"rel", NULL};
	const char *cp[] = {"columns", NULL};
	const char *vp[] = {"version", NULL};
	yajl_val	rel = yajl_tree_get(root, rp, yajl_t_object);
	yajl_val	cols,
				ver;
	relnode    *n;
	size_t		i;

	if (!rel || !(cols = yajl_tree_get(rel, cp, yajl_t_array)))
		return NULL;
	ver = yajl_tree_get(rel, vp, yajl_t_number);
	n = calloc(1, sizeof(*n));
	n->rel.schema = strdup(schema ? schema : "public");
	n->rel.table = strdup(table);
	n->rel.version = ver ? (uint32_t) YAJL_GET_INTEGER(ver) : 1;
	n->rel.ncolumns = (int) cols->u.array.len;
	n->rel.columns = calloc(cols->u.array.len + 1, sizeof(trib_column));
	for (i = 0; i < cols->u.array.len; i++)
	{
		yajl_val	c = cols->u.array.values[i];
		const char *np[] = {"name", NULL},
				   *tp[] = {"type", NULL},
				   *pp[] = {"pk", NULL},
				   *ip[] = {"identity", NULL},
				   *np2[] = {"nullable", NULL};
		yajl_val	pk = yajl_tree_get(c, pp, yajl_t_any);
		yajl_val	ident = yajl_tree_get(c, ip, yajl_t_any);
		yajl_val	nullable = yajl_tree_get(c, np2, yajl_t_any);

		yajl_val	name = yajl_tree_get(c, np, yajl_t_string);
		yajl_val	type = yajl_tree_get(c, tp, yajl_t_string);

		if (!name || !type)
			die("events", "a relation column needs name and type");
		n->rel.columns[i].name = strdup(name->u.string);
		n->rel.columns[i].type = strdup(type->u.string);
		n->rel.columns[i].pk = pk && YAJL_IS_TRUE(pk);
		n->rel.columns[i].identity = ident && YAJL_IS_TRUE(ident);
		n->rel.columns[i].nullable = !n->rel.columns[i].pk &&
			!(nullable && YAJL_IS_FALSE(nullable));
	}
	n->next = relations;
	relations = n;
	return &n->rel;
}

/* The newest version made for schema.table, or NULL. */
static const trib_relation *
latest_relation(const char *schema, const char *table)
{
	relnode    *n;

	for (n = relations; n; n = n->next)
		if (strcmp(n->rel.schema, schema) == 0 && strcmp(n->rel.table, table) == 0)
			return &n->rel;
	return NULL;
}

static void
free_relations(void)
{
	while (relations)
	{
		relnode    *n = relations;
		int			i;

		relations = n->next;
		for (i = 0; i < n->rel.ncolumns; i++)
		{
			free(n->rel.columns[i].name);
			free(n->rel.columns[i].type);
		}
		free(n->rel.columns);
		free(n->rel.schema);
		free(n->rel.table);
		free(n);
	}
}

/* Hand one event to the sink (and crash on request). */
static void
write_event(trib_sink *sink, const trib_event *ev)
{
	char		err[1024];

	if (!sink->ops->write(sink, ev, err, sizeof(err)))
		die("write", err);
	if (crash_after >= 0 && ++nwritten >= crash_after)
		_exit(9);
}

/* Apply an events file. */
static void
run_file(trib_sink *sink, const char *path)
{
	FILE	   *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		n;
	long		lineno = 0;

	if (!f)
		die(path, "cannot open");
	while ((n = getline(&line, &cap, f)) > 0)
	{
		char		yerr[256];
		yajl_val	root;
		trib_event *ev;
		char	   *op,
				   *id,
				   *schema,
				   *table;

		lineno++;
		if (n <= 1)
			continue;
		root = yajl_tree_parse(line, yerr, sizeof(yerr));
		if (!root)
			die("events", yerr);
		ev = trib_event_new();
		op = member_str(root, "op");
		id = member_str(root, "id");
		if (!op || !id || !trib_eventid_parse(id, &ev->pos.commit_lsn, &ev->pos.seq))
			die("events", "each line needs op and id");
		ev->op = (trib_op) op[0];
		/* naming strings are borrowed (event.h): freed below */
		schema = member_str(root, "schema");
		table = member_str(root, "table");
		ev->schema = schema;
		ev->table = table;
		ev->before = member_text(root, "before");
		ev->after = member_text(root, "after");
		ev->key = member_text(root, "key");
		ev->unchanged = member_text(root, "unchanged");
		ev->after_json_nulls = member_text(root, "after_json_nulls");
		ev->before_json_nulls = member_text(root, "before_json_nulls");
		ev->extra = member_text(root, "extra");
		ev->pos.end_lsn = ev->pos.commit_lsn + 48;
		ev->last_in_tx = true;
		if (ev->table)
			ev->rel = file_relation(root, ev->schema, ev->table);
		write_event(sink, ev);
		free(op);
		free(id);
		trib_event_free(ev);
		free(schema);
		free(table);
		yajl_tree_free(root);
	}
	free(line);
	if (f != stdin)
		fclose(f);
}

/* Milliseconds of a monotonic clock. */
static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Stream a source into the sink until it is idle. */
static void
run_source(trib_sink *sink, const char *dsn, const char *slot, bool create_slot,
		   int idle_ms)
{
	trib_source_pg_conf conf;
	trib_source_pg *src;
	trib_position resume;
	char		err[1024];
	bool		have_resume;
	long long	last_activity = now_ms();
	uint64_t	confirm = 0;

	memset(&conf, 0, sizeof(conf));
	conf.dsn = dsn;
	conf.slot = slot;
	conf.create_slot = create_slot;
	conf.source_name = "src";
	conf.pipeline = "e2e";
	conf.skip_empty_xacts = true;
	if (!(src = trib_source_pg_new(&conf, err, sizeof(err))))
		die("source", err);
	have_resume = sink->ops->durable_position(sink, &resume, err, sizeof(err));
	if (!trib_source_pg_start(src, have_resume ? &resume : NULL, 10000, err, sizeof(err)))
		die("source start", err);
	while (now_ms() - last_activity < idle_ms)
	{
		trib_pgrec *batch[256];
		int			n = trib_source_pg_poll(src, batch, 256, 200, err, sizeof(err)),
					i;

		if (n < 0)
			die("source poll", err);
		if (n > 0)
			last_activity = now_ms();
		for (i = 0; i < n; i++)
		{
			trib_pgrec *r = batch[i];

			if (r->ev)
			{
				if (!r->ev->rel && r->ev->schema && r->ev->table)
					r->ev->rel = latest_relation(r->ev->schema, r->ev->table);
				write_event(sink, r->ev);
			}
			else if (r->kind == TRIB_PGREC_COMMIT)
				confirm = r->end_lsn;
			trib_pgrec_free(r);
		}
		if (!sink->ops->poll(sink, 0, err, sizeof(err)))
			die("poll", err);
	}
	if (!sink->ops->flush(sink, 10000, err, sizeof(err)))
		die("flush", err);
	if (confirm)
		trib_source_pg_confirm(src, confirm);
	trib_source_pg_free(src);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dsn", required_argument, NULL, 'd'},
		{"schema", required_argument, NULL, 's'},
		{"create-tables", no_argument, NULL, 'c'},
		{"pipeline", required_argument, NULL, 'p'},
		{"sink", required_argument, NULL, 'n'},
		{"batch-size", required_argument, NULL, 'b'},
		{"batch-ms", required_argument, NULL, 'm'},
		{"mode", required_argument, NULL, 'M'},
		{"max-rows", required_argument, NULL, 'R'},
		{"no-pipeline", no_argument, NULL, 'P'},
		{"bytea-hex", no_argument, NULL, 'x'},
		{"crash-after", required_argument, NULL, 'C'},
		{"stats", no_argument, NULL, 'S'},
		{"events", required_argument, NULL, 'e'},
		{"source-dsn", required_argument, NULL, 'D'},
		{"slot", required_argument, NULL, 'l'},
		{"create-slot", no_argument, NULL, 'L'},
		{"idle-ms", required_argument, NULL, 'i'},
		{"unknown-types-text", no_argument, NULL, 'T'},
		{"log-row-values", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}
	};
	trib_pgsink_opts o;
	trib_sink	sink;
	trib_position pos;
	trib_pgsink_stats st;
	char		err[1024];
	const char *events = NULL,
			   *source_dsn = NULL,
			   *slot = NULL;
	bool		stats = false,
				create_slot = false;
	int			idle_ms = 2000,
				c;

	trib_pgsink_opts_init(&o);
	o.pipeline = "e2e";
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				o.dsn = optarg;
				break;
			case 's':
				o.schema = optarg;
				break;
			case 'c':
				o.create_tables = true;
				break;
			case 'p':
				o.pipeline = optarg;
				break;
			case 'n':
				o.sink_name = optarg;
				break;
			case 'b':
				o.batch_size = atoi(optarg);
				break;
			case 'm':
				o.batch_ms = atoi(optarg);
				break;
			case 'M':
				o.mode = strcmp(optarg, "row") == 0 ? TRIB_PGSINK_ROW : TRIB_PGSINK_MULTIROW;
				break;
			case 'R':
				o.max_rows = atoi(optarg);
				break;
			case 'P':
				o.no_pipeline = true;
				break;
			case 'x':
				o.bytea_hex = true;
				break;
			case 'C':
				crash_after = atol(optarg);
				break;
			case 'S':
				stats = true;
				break;
			case 'e':
				events = optarg;
				break;
			case 'D':
				source_dsn = optarg;
				break;
			case 'l':
				slot = optarg;
				break;
			case 'L':
				create_slot = true;
				break;
			case 'i':
				idle_ms = atoi(optarg);
				break;
			case 'T':
				o.unknown_as_text = true;
				break;
			case 'V':
				o.log_row_values = true;
				break;
			default:
				fputs("usage: pgsink_apply --dsn DSN (--events FILE | --source-dsn DSN --slot S)\n",
					  stderr);
				return 2;
		}
	}
	if (!o.dsn || (!events && !(source_dsn && slot)))
		die("usage", "--dsn and --events or --source-dsn with --slot are required");
	memset(&sink, 0, sizeof(sink));
	sink.name = (char *) (o.sink_name ? o.sink_name : "pg");
	if (!trib_pgsink_open_opts(&sink, &o, err, sizeof(err)))
		die("open", err);
	if (events)
		run_file(&sink, events);
	else
		run_source(&sink, source_dsn, slot, create_slot, idle_ms);
	if (!sink.ops->flush(&sink, 10000, err, sizeof(err)))
		die("flush", err);
	if (sink.ops->durable_position(&sink, &pos, err, sizeof(err)))
	{
		char		id[TRIB_EVENTID_LEN];

		trib_eventid_format(pos.commit_lsn, pos.seq, id, sizeof(id));
		printf("position %s\n", id);
	}
	else
		printf("position none\n");
	if (stats)
	{
		trib_pgsink_get_stats(&sink, &st);
		printf("stats events=%" PRIu64 " skipped=%" PRIu64 " batches=%" PRIu64
			   " statements=%" PRIu64 " upserted=%" PRIu64 " deleted=%" PRIu64
			   " truncates=%" PRIu64 " created=%" PRIu64 " added=%" PRIu64
			   " retries=%" PRIu64 " reconnects=%" PRIu64 " no_key=%" PRIu64
			   " no_old_row=%" PRIu64 " catalog_reads=%" PRIu64 "\n",
			   st.events, st.skipped, st.batches, st.statements, st.rows_upserted,
			   st.rows_deleted, st.truncates, st.tables_created, st.columns_added,
			   st.retries, st.reconnects, st.skipped_no_key, st.skipped_no_old_row,
			   st.catalog_reads);
	}
	sink.ops->close(&sink);
	free_relations();
	return 0;
}
