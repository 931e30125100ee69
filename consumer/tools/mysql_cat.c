/*
 * mysql_cat.c: read a MySQL/MariaDB binlog through the binlog source and
 * print what it yields as JSON lines; the driver of the source's
 * end-to-end tests (test/e2e/40_mysql_types.sh) and of the fuzz corpus.
 *
 *   mysql_cat --port N [--host H] [--user U] [--password-env VAR]
 *             --server-id N [--file F --pos P | --gtid STATE | --after ID]
 *             [--stop-at-end] [--exit-after N] [--zero-date TEXT]
 *             [--heartbeat-ms N] [--schema-history FILE] [--verbose]
 *   mysql_cat --port N ... --raw FILE (--file F --pos P | --gtid STATE)
 *   mysql_cat --port N ... --check [--db NAME]...
 *
 * One line per item (source_mysql.h):
 *   {"kind":"begin","id":"0-1-3/mariadb-bin.000001:928"}
 *   {"kind":"event","id":"0-1-3/mariadb-bin.000001:928/0","op":"c",
 *    "db":"d1","table":"t","key":{...},"before":null,"after":{...},
 *    "unchanged":null,"last":true,"ts_ms":...,"pos":{...opaque...}}
 *   {"kind":"commit","id":"...","end_pos":1724,"changes":1,
 *    "gtid_state":"0-1-3"}
 *   {"kind":"ddl","id":"...","db":"d1","statement":"CREATE TABLE ..."}
 * Row images, key, unchanged and pos are the event's raw JSON text.
 *
 * --schema-history FILE keeps the schema history in FILE
 * (mysql_history_file.h) across runs.
 * --after ID resumes after the event id (or transaction id) printed by an
 * earlier run; --exit-after N stops after N events, to test exactly that.
 * --raw writes the raw events (header, body, checksum) one after another,
 * a binlog file without its magic: the fuzz corpus's form.
 * --check prints the preconditions (mysql_check.h), one line each:
 *   FAIL binlog_format: binlog_format is STATEMENT: set ...
 *
 * Exit status: 0 done (end of binlog, --exit-after, or a signal; --check:
 * no failure), 1 error, 3 (--check) a precondition failed.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "mysql_check.h"
#include "mysql_reader.h"
#include "source_mysql.h"

static volatile sig_atomic_t stop_flag;
static int	verbose;

static void
on_signal(int sig)
{
	(void) sig;
	stop_flag = 1;
}

/* Log callback for the source. */
static void
log_cb(int level, const char *msg, void *arg)
{
	(void) arg;
	if (level == 1 || (level > 1 && verbose))	/* errors: main prints them */
		fprintf(stderr, "mysql_cat: %s\n", msg);
}

static void
usage(void)
{
	fputs("usage: mysql_cat --port N --server-id N [--file F --pos P | --gtid S | --after ID] "
		  "[--stop-at-end] [--exit-after N] [--schema-history FILE] [--raw FILE]; see the source\n", stderr);
	exit(1);
}

/* A key and a string value, or null. */
static void
gen_str(yajl_gen g, const char *key, const char *s)
{
	yajl_gen_string(g, (const unsigned char *) key, strlen(key));
	if (s)
		yajl_gen_string(g, (const unsigned char *) s, strlen(s));
	else
		yajl_gen_null(g);
}

/* A key and raw JSON text, or null. */
static void
gen_raw(yajl_gen g, const char *key, const char *raw)
{
	yajl_gen_string(g, (const unsigned char *) key, strlen(key));
	if (raw)
		yajl_gen_number(g, raw, strlen(raw));
	else
		yajl_gen_null(g);
}

/* A key and a number. */
static void
gen_u64(yajl_gen g, const char *key, uint64_t v)
{
	char		buf[24];
	int			n = snprintf(buf, sizeof(buf), "%" PRIu64, v);

	yajl_gen_string(g, (const unsigned char *) key, strlen(key));
	yajl_gen_number(g, buf, (size_t) n);
}

/* Print one item as a JSON line. */
static void
print_item(yajl_gen g, const trib_my_item *it)
{
	static const char *const kinds[] = {"begin", "event", "commit", "ddl"};
	char		id[TRIB_MY_POS_BUFLEN];
	const unsigned char *buf;
	size_t		len;
	const trib_event *ev = it->event;

	trib_my_pos_format(&it->pos, id, sizeof(id));
	yajl_gen_map_open(g);
	gen_str(g, "kind", kinds[it->kind]);
	gen_str(g, "id", id);
	if (it->kind == TRIB_MY_ITEM_EVENT)
	{
		char		op[2] = {(char) ev->op, 0};

		gen_str(g, "op", op);
		gen_str(g, "db", ev->db);
		gen_str(g, "table", ev->table);
		gen_raw(g, "key", ev->key);
		gen_raw(g, "before", ev->before);
		gen_raw(g, "after", ev->after);
		gen_raw(g, "unchanged", ev->unchanged);
		yajl_gen_string(g, (const unsigned char *) "last", 4);
		yajl_gen_bool(g, ev->last_in_tx);
		gen_u64(g, "ts_ms", (uint64_t) ev->ts_ms);
		gen_u64(g, "commit_lsn", ev->pos.commit_lsn);
		gen_u64(g, "seq", ev->pos.seq);
		gen_raw(g, "pos", ev->pos.opaque);
	}
	else if (it->kind == TRIB_MY_ITEM_END)
	{
		gen_u64(g, "end_pos", it->end_pos);
		gen_u64(g, "changes", it->nchanges);
		gen_str(g, "gtid_state", it->gtid_state);
	}
	else if (it->kind == TRIB_MY_ITEM_DDL)
	{
		gen_str(g, "db", it->db);
		gen_str(g, "statement", it->statement);
	}
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	fwrite(buf, 1, len, stdout);
	fputc('\n', stdout);
	yajl_gen_clear(g);
	yajl_gen_reset(g, NULL);
}

/* --raw: copy the raw events to a file until the end of the binlog. */
static int
dump_raw(const trib_my_reader_conf *rc, const char *path)
{
	char		err[1024];
	trib_my_reader *r = trib_my_reader_start(rc, err, sizeof(err));
	FILE	   *f = fopen(path, "wb");
	int			status = 0;

	if (r == NULL || f == NULL)
	{
		fprintf(stderr, "mysql_cat: %s\n", r ? path : err);
		trib_my_reader_free(r);
		if (f)
			fclose(f);
		return 1;
	}
	while (!stop_flag)
	{
		const uint8_t *buf;
		size_t		len;
		unsigned	errnum;
		int			rc2 = trib_my_reader_next(r, &buf, &len, 1000, &errnum, err, sizeof(err));

		if (rc2 > 0)
			fwrite(buf, 1, len, f);
		else if (rc2 < 0)
		{
			if (errnum != 0)
			{
				fprintf(stderr, "mysql_cat: %s\n", err);
				status = 1;
			}
			break;
		}
	}
	trib_my_reader_free(r);
	fclose(f);
	return status;
}

/* --check: print the findings; 3 when one failed. */
static int
check(const trib_source_mysql_conf *conf, const char *const *dbs, int ndbs)
{
	static const char *const verdicts[] = {"OK", "WARN", "FAIL"};
	trib_my_finding *fs;
	char		err[1024];
	int			n = trib_my_check(&conf->conn, conf->server_id, dbs, ndbs, &fs,
								  err, sizeof(err));
	int			status = 0;

	if (n < 0)
	{
		fprintf(stderr, "mysql_cat: %s\n", err);
		return 1;
	}
	for (int i = 0; i < n; i++)
	{
		printf("%s %s: %s\n", verdicts[fs[i].verdict], fs[i].what, fs[i].message);
		if (fs[i].verdict == TRIB_MY_FAIL)
			status = 3;
	}
	trib_my_findings_free(fs, n);
	return status;
}

/* Poll until the end, a signal or --exit-after; print every item. */
static int
stream(trib_source_mysql *src, long exit_after)
{
	trib_my_item items[256];
	yajl_gen	g = yajl_gen_alloc(NULL);
	char		err[1024];
	long		events = 0;
	int			status = 0;

	while (!stop_flag && !trib_source_mysql_ended(src))
	{
		int			n = trib_source_mysql_poll(src, items, 256, 500, err, sizeof(err));

		if (n < 0)
		{
			fprintf(stderr, "mysql_cat: %s\n", err);
			status = 1;
			break;
		}
		for (int i = 0; i < n; i++)
		{
			if (exit_after < 0 || events < exit_after)
				print_item(g, &items[i]);
			if (items[i].kind == TRIB_MY_ITEM_EVENT)
				events++;
			trib_my_item_clear(&items[i]);
		}
		fflush(stdout);
		if (exit_after >= 0 && events >= exit_after)
			break;
	}
	yajl_gen_free(g);
	return status;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"host", required_argument, NULL, 'h'},
		{"port", required_argument, NULL, 'P'},
		{"user", required_argument, NULL, 'u'},
		{"password-env", required_argument, NULL, 'w'},
		{"server-id", required_argument, NULL, 's'},
		{"file", required_argument, NULL, 'f'},
		{"pos", required_argument, NULL, 'p'},
		{"gtid", required_argument, NULL, 'g'},
		{"after", required_argument, NULL, 'a'},
		{"stop-at-end", no_argument, NULL, 'e'},
		{"exit-after", required_argument, NULL, 'x'},
		{"zero-date", required_argument, NULL, 'z'},
		{"heartbeat-ms", required_argument, NULL, 'b'},
		{"raw", required_argument, NULL, 'r'},
		{"verbose", no_argument, NULL, 'v'},
		{"check", no_argument, NULL, 'c'},
		{"db", required_argument, NULL, 'd'},
		{"schema-history", required_argument, NULL, 'H'},
		{NULL, 0, NULL, 0}
	};
	trib_source_mysql_conf conf = {0};
	trib_my_pos after;
	bool		have_after = false;
	const char *raw = NULL;
	const char *dbs[16];
	int			ndbs = 0;
	bool		do_check = false;
	long		exit_after = -1;
	char		err[1024];
	trib_source_mysql *src;
	int			c,
				status;

	conf.conn.user = "root";
	conf.source_name = "mysql_cat";
	conf.log = log_cb;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'h':
				conf.conn.host = optarg;
				break;
			case 'P':
				conf.conn.port = (unsigned) strtoul(optarg, NULL, 10);
				break;
			case 'u':
				conf.conn.user = optarg;
				break;
			case 'w':
				conf.conn.password = getenv(optarg);
				break;
			case 's':
				conf.server_id = (uint32_t) strtoul(optarg, NULL, 10);
				break;
			case 'f':
				conf.start_file = optarg;
				break;
			case 'p':
				conf.start_pos = strtoull(optarg, NULL, 10);
				break;
			case 'g':
				conf.start_gtid = optarg;
				break;
			case 'a':
				if (!trib_my_pos_parse(optarg, &after, err, sizeof(err)))
				{
					fprintf(stderr, "mysql_cat: --after: %s\n", err);
					return 1;
				}
				have_after = true;
				break;
			case 'e':
				conf.stop_at_end = true;
				break;
			case 'x':
				exit_after = strtol(optarg, NULL, 10);
				break;
			case 'z':
				conf.zero_date = optarg;
				break;
			case 'b':
				conf.heartbeat_ms = atoi(optarg);
				break;
			case 'r':
				raw = optarg;
				break;
			case 'v':
				verbose = 1;
				break;
			case 'c':
				do_check = true;
				break;
			case 'H':
				conf.schema_history = optarg;
				break;
			case 'd':
				if (ndbs < 16)
					dbs[ndbs++] = optarg;
				break;
			default:
				usage();
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (do_check)
		return check(&conf, dbs, ndbs);
	if (raw)
	{
		trib_my_reader_conf rc = {0};

		rc.conn = conf.conn;
		rc.server_id = conf.server_id;
		rc.file = conf.start_file;
		rc.pos = conf.start_pos;
		rc.gtid_state = conf.start_gtid;
		rc.stop_at_end = true;
		return dump_raw(&rc, raw);
	}
	src = trib_source_mysql_new(&conf, err, sizeof(err));
	if (src == NULL || !trib_source_mysql_start(src, have_after ? &after : NULL,
												err, sizeof(err)))
	{
		fprintf(stderr, "mysql_cat: %s\n", err);
		trib_source_mysql_free(src);
		return 1;
	}
	status = stream(src, exit_after);
	trib_source_mysql_free(src);
	return status;
}
