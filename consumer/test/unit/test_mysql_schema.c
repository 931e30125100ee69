/*
 * test_mysql_schema.c: unit tests of the schema history
 * (source/mysql/mysql_schema.c) and its file (mysql_history_file.c), the information_schema member parser
 * (mysql_infoschema.c), the charset converter (mysql_charset.c) and the
 * preconditions rules (mysql_check.c), none of which needs a server here;
 * and how the errors of the source's queries on the server say whether a
 * reconnect may help (a lost or refused connection) or not, with a
 * connection refused on a closed local port.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mysql_charset.h"
#include "mysql_check.h"
#include "mysql_history_file.h"
#include "mysql_infoschema.h"
#include "sqlmembers.h"
#include "mysql_lookup.h"
#include "mysql_schema.h"
#include "strbuf.h"

/* A loader that answers with a table of `ncols` columns and counts calls;
 * ncols 0 means the table does not exist. */
typedef struct fake_loader
{
	int			ncols;
	int			calls;
	unsigned	fail_errnum;	/* not 0: fail as a query with this error */
} fake_loader;

static bool
fake_load(void *arg, const char *db, const char *table, trib_my_tableinfo **out,
		  unsigned *errnum, char *errbuf, size_t errlen)
{
	fake_loader *l = arg;
	trib_my_tableinfo *t;

	l->calls++;
	*out = NULL;
	if (l->fail_errnum)
	{
		*errnum = l->fail_errnum;
		snprintf(errbuf, errlen, "query failed (error %u)", l->fail_errnum);
		return false;
	}
	if (l->ncols == 0)
		return true;
	t = trib_xcalloc(1, sizeof(*t));
	t->db = trib_xstrdup(db);
	t->table = trib_xstrdup(table);
	t->ncols = l->ncols;
	t->cols = trib_xcalloc((size_t) l->ncols, sizeof(trib_my_colinfo));
	for (int i = 0; i < l->ncols; i++)
	{
		char		name[16];

		snprintf(name, sizeof(name), "c%d", i);
		t->cols[i].name = trib_xstrdup(name);
		t->cols[i].data_type = trib_xstrdup("int");
	}
	*out = t;
	return true;
}

/* Position (file number 1, offset, row). */
static trib_my_pos
at(uint64_t off, uint64_t row)
{
	trib_my_pos p = {.file = "b.000001", .tx_pos = off, .row = row};

	return p;
}

/* Look up d.t at p and return its column count (-1: unknown). */
static int
cols_at(trib_my_schema *s, const trib_my_pos *p)
{
	const trib_my_tableinfo *t;
	char		err[256];
	unsigned	errnum;

	if (!s->ops->lookup(s->ctx, "d", "t", p, &t, &errnum, err, sizeof(err)))
		fail_msg("lookup: %s", err);
	return t ? t->ncols : -1;
}

static void
test_history_keeps_old_shapes_across_ddl(void **state)
{
	fake_loader l = {.ncols = 2};
	trib_my_history *h = trib_my_history_new(fake_load, &l);
	trib_my_schema s = trib_my_history_schema(h);
	trib_my_pos p100 = at(100, 0),
				p200 = at(200, 0),
				ddl = at(150, TRIB_MY_ROW_ALL),
				p120 = at(120, 3);

	(void) state;
	assert_int_equal(cols_at(&s, &p100), 2);
	assert_int_equal(cols_at(&s, &p100), 2);
	assert_int_equal(l.calls, 1);	/* loaded once, then remembered */
	/* a DDL at 150; the table gains a column */
	s.ops->ddl(s.ctx, "d", "ALTER TABLE t ADD c INT", &ddl);
	s.ops->ddl(s.ctx, "d", "ALTER TABLE t ADD c INT", &ddl);	/* read twice */
	l.ncols = 3;
	assert_int_equal(cols_at(&s, &p200), 3);
	assert_int_equal(l.calls, 2);
	/* events before the DDL keep the old shape, also read again later */
	assert_int_equal(cols_at(&s, &p120), 2);
	assert_int_equal(cols_at(&s, &p200), 3);
	assert_int_equal(l.calls, 2);
	assert_int_equal(trib_my_history_versions(h), 2);
	/* the table dropped by a later DDL: unknown from then on */
	{
		trib_my_pos drop = at(300, TRIB_MY_ROW_ALL),
					p400 = at(400, 0);

		s.ops->ddl(s.ctx, "d", "DROP TABLE t", &drop);
		l.ncols = 0;
		assert_int_equal(cols_at(&s, &p400), -1);
		assert_int_equal(cols_at(&s, &p200), 3);
	}
	trib_my_history_free(h);
}

/* A temporary file name (removed first). */
static void
temp_path(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/trib_my_history_%d.jsonl", (int) getpid());
	unlink(buf);
}

/* Open h's file or fail the test; the records replayed. */
static size_t
open_file(trib_my_history *h, const char *path)
{
	char		err[512];
	size_t		n = 99;

	if (!trib_my_history_file_open(h, path, &n, err, sizeof(err)))
		fail_msg("open: %s", err);
	return n;
}

static void
test_history_file_survives_a_restart(void **state)
{
	char		path[256];
	fake_loader l = {.ncols = 2};
	trib_my_history *h = trib_my_history_new(fake_load, &l);
	trib_my_schema s = trib_my_history_schema(h);
	trib_my_pos p100 = at(100, 0),
				p200 = at(200, 0),
				ddl = at(150, TRIB_MY_ROW_ALL),
				drop = at(300, TRIB_MY_ROW_ALL),
				p400 = at(400, 0);
	const trib_my_tableinfo *t;
	char		err[512];
	unsigned	errnum;
	FILE	   *f;

	(void) state;
	temp_path(path, sizeof(path));
	assert_int_equal(open_file(h, path), 0);
	assert_int_equal(cols_at(&s, &p100), 2);
	s.ops->ddl(s.ctx, "d", "ALTER TABLE t ADD c INT", &ddl);
	l.ncols = 3;
	assert_int_equal(cols_at(&s, &p200), 3);
	s.ops->ddl(s.ctx, "d", "DROP TABLE t", &drop);
	l.ncols = 0;
	assert_int_equal(cols_at(&s, &p400), -1);
	trib_my_history_free(h);

	/* a restart: the server now has a 5-column t, but what the first run
	 * learnt comes back from the file, the loader is not asked */
	l.ncols = 5;
	l.calls = 0;
	h = trib_my_history_new(fake_load, &l);
	s = trib_my_history_schema(h);
	/* 3 versions, 1 DDL: the ALTER (no GTID, so no flavour: its INT's
	 * display width is not known) is a DDL position, the DROP TABLE a
	 * version derived from the statement (mysql_ddl.c) */
	assert_int_equal(open_file(h, path), 4);
	assert_int_equal(cols_at(&s, &p100), 2);
	assert_int_equal(cols_at(&s, &p200), 3);
	assert_int_equal(cols_at(&s, &p400), -1);
	assert_int_equal(l.calls, 0);
	assert_true(s.ops->lookup(s.ctx, "d", "t", &p100, &t, &errnum, err, sizeof(err)));
	assert_string_equal(t->cols[1].name, "c1");
	assert_string_equal(t->cols[1].data_type, "int");
	trib_my_history_free(h);

	/* a record cut short by a crash is dropped (and cut off the file) */
	f = fopen(path, "a");
	fputs("{\"ddl\":\"/b.000001:5", f);
	fclose(f);
	h = trib_my_history_new(fake_load, &l);
	assert_int_equal(open_file(h, path), 4);
	trib_my_history_free(h);
	h = trib_my_history_new(fake_load, &l);
	assert_int_equal(open_file(h, path), 4);
	trib_my_history_free(h);

	/* a damaged record is an error naming the file and line */
	f = fopen(path, "a");
	fputs("{\"version\":{\"db\":\"d\"}}\n", f);
	fclose(f);
	h = trib_my_history_new(fake_load, &l);
	assert_false(trib_my_history_file_open(h, path, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "schema history "));
	assert_non_null(strstr(err, ":5: a version needs \"db\", \"table\" and \"cols\""));
	trib_my_history_free(h);
	unlink(path);
}

/* A table described by the loader as it is now (fake_load), wrapped. */
static trib_my_tableinfo *
shape_of(int ncols)
{
	fake_loader l = {.ncols = ncols};
	trib_my_tableinfo *t;
	char		err[64];

	assert_true(fake_load(&l, "d", "t", &t, NULL, err, sizeof(err)));
	return t;
}

static void
test_history_record_keeps_a_snapshot_shape_until_the_ddl(void **state)
{
	char		path[256];
	fake_loader l = {.ncols = 3};	/* the server's shape now */
	trib_my_history *h = trib_my_history_new(fake_load, &l);
	trib_my_schema s = trib_my_history_schema(h);
	trib_my_pos p1 = at(100, 0),
				p120 = at(120, 2),
				ddl = at(150, TRIB_MY_ROW_ALL),
				p200 = at(200, 0);
	char		err[256];

	(void) state;
	temp_path(path, sizeof(path));
	assert_int_equal(open_file(h, path), 0);
	/* the copy's description at P1 (2 columns); the table has 3 now */
	assert_true(trib_my_history_record(h, &p1, shape_of(2), err, sizeof(err)));
	assert_int_equal(cols_at(&s, &p120), 2);
	assert_int_equal(l.calls, 0);
	s.ops->ddl(s.ctx, "d", "ALTER TABLE t ADD c INT", &ddl);
	assert_int_equal(cols_at(&s, &p200), 3);
	assert_int_equal(cols_at(&s, &p120), 2);
	trib_my_history_free(h);
	/* recorded: a restart decodes the old events with it too */
	l.calls = 0;
	h = trib_my_history_new(fake_load, &l);
	s = trib_my_history_schema(h);
	assert_int_equal(open_file(h, path), 3);	/* 2 versions, 1 DDL */
	assert_int_equal(cols_at(&s, &p120), 2);
	assert_int_equal(cols_at(&s, &p200), 3);
	assert_int_equal(l.calls, 0);
	trib_my_history_free(h);
	unlink(path);
}

static void
test_history_file_write_errors_stop_the_history(void **state)
{
	char		path[256];
	fake_loader l = {.ncols = 2};
	trib_my_history *h = trib_my_history_new(fake_load, &l);
	trib_my_schema s = trib_my_history_schema(h);
	trib_my_pos p100 = at(100, 0),
				ddl = at(150, TRIB_MY_ROW_ALL);
	const trib_my_tableinfo *t;
	char		err[512];
	unsigned	errnum = 99;
	struct rlimit old,
				none;

	(void) state;
	assert_false(trib_my_history_file_open(h, "/dev/null", NULL, err, sizeof(err)));
	assert_string_equal(err, "schema history /dev/null: not a regular file");
	temp_path(path, sizeof(path));
	assert_int_equal(open_file(h, path), 0);
	/* no room for any record: the file size limit is its size, 0 */
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	none = old;
	none.rlim_cur = 0;
	setrlimit(RLIMIT_FSIZE, &none);
	assert_false(s.ops->lookup(s.ctx, "d", "t", &p100, &t, &errnum, err, sizeof(err)));
	assert_non_null(strstr(err, ": cannot append: File too large"));
	assert_int_equal(errnum, 0);	/* not the server's: fails, no reconnect */
	s.ops->ddl(s.ctx, "d", "ALTER TABLE t ADD c INT", &ddl);
	setrlimit(RLIMIT_FSIZE, &old);
	assert_non_null(trib_my_history_error(h));
	/* once a DDL could not be recorded, every lookup fails */
	assert_false(s.ops->lookup(s.ctx, "d", "t", &p100, &t, &errnum, err, sizeof(err)));
	assert_non_null(strstr(err, ": cannot append: File too large"));
	trib_my_history_free(h);
	unlink(path);
}

static void
test_history_without_loader(void **state)
{
	trib_my_history *h = trib_my_history_new(NULL, NULL);
	trib_my_schema s = trib_my_history_schema(h);
	trib_my_tableinfo *t = trib_xcalloc(1, sizeof(*t));
	trib_my_pos p = at(10, 0);

	(void) state;
	assert_int_equal(cols_at(&s, &p), -1);
	t->db = trib_xstrdup("d");
	t->table = trib_xstrdup("t");
	t->ncols = 0;
	trib_my_history_add(h, NULL, t);
	assert_int_equal(cols_at(&s, &p), 0);
	trib_my_history_free(h);
}

static void
test_enum_members_from_column_type(void **state)
{
	char	  **v;
	int			n;

	(void) state;
	assert_true(trib_sql_members("enum('a','it''s','x,y','')", &v, &n));
	assert_int_equal(n, 4);
	assert_string_equal(v[0], "a");
	assert_string_equal(v[1], "it's");
	assert_string_equal(v[2], "x,y");
	assert_string_equal(v[3], "");
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
	/* COLUMN_TYPE's backslash escapes: e\f, a newline, a CR, a quote */
	assert_true(trib_sql_members("set('e\\\\f','a\\nb','c\\rd','\\'','x\\\\')", &v, &n));
	assert_int_equal(n, 5);
	assert_string_equal(v[0], "e\\f");
	assert_string_equal(v[1], "a\nb");
	assert_string_equal(v[2], "c\rd");
	assert_string_equal(v[3], "'");
	assert_string_equal(v[4], "x\\");
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
	assert_false(trib_sql_members("enum('a'", &v, &n));
	assert_false(trib_sql_members("int(11)", &v, &n));
}

/* Convert s in collation coll; the UTF-8 text or the error. */
static char *
convert(trib_my_charsets *cs, uint32_t coll, const char *s, size_t n)
{
	trib_strbuf out = {0};
	char		err[256];

	if (!trib_my_to_utf8(cs, coll, s, n, &out, err, sizeof(err)))
	{
		trib_strbuf_free(&out);
		return trib_xstrdup(err);
	}
	return trib_strbuf_finish(&out);
}

static void
test_charsets(void **state)
{
	trib_my_charsets *cs = trib_my_charsets_new();
	char	   *s;

	(void) state;
	assert_string_equal(trib_my_charset_name(cs, 8), "latin1");
	assert_string_equal(trib_my_charset_name(cs, 255), "utf8mb4");	/* MySQL 8 */
	assert_string_equal(trib_my_charset_name(cs, 2304), "utf8mb4");	/* MariaDB UCA-14 */
	assert_string_equal(trib_my_charset_name(cs, 2560), "ucs2");
	assert_null(trib_my_charset_name(cs, 5000));
	assert_true(trib_my_charsets_add(cs, 5000, "utf8"));
	assert_string_equal(trib_my_charset_name(cs, 5000), "utf8mb3");
	assert_false(trib_my_charsets_add(cs, 5001, "klingon"));
	assert_false(trib_my_charsets_add(cs, 70000, "latin1"));
	s = convert(cs, 8, "\x80\x81\xe9", 3);
	assert_string_equal(s, "\xe2\x82\xac\xc2\x81\xc3\xa9");
	free(s);
	/* an incomplete multi-byte sequence at the end */
	s = convert(cs, 13, "a\x93", 2);
	assert_string_equal(s, "a\xef\xbf\xbd");
	free(s);
	/* UTF-16 with a surrogate pair */
	s = convert(cs, 54, "\xd8\x3d\xde\x00", 4);
	assert_string_equal(s, "\xf0\x9f\x98\x80");
	free(s);
	/* a long text grows the buffer */
	{
		char		big[10000];

		memset(big, '\xe9', sizeof(big));
		s = convert(cs, 8, big, sizeof(big));
		assert_int_equal(strlen(s), 2 * sizeof(big));
		free(s);
	}
	trib_my_charsets_free(cs);
}

/* Facts of a well-configured MariaDB. */
static trib_my_facts
good_facts(void)
{
	trib_my_facts f = {0};

	snprintf(f.version, sizeof(f.version), "10.11.19-MariaDB");
	f.mariadb = true;
	snprintf(f.log_bin, sizeof(f.log_bin), "1");
	snprintf(f.binlog_format, sizeof(f.binlog_format), "ROW");
	snprintf(f.binlog_row_image, sizeof(f.binlog_row_image), "FULL");
	snprintf(f.binlog_row_metadata, sizeof(f.binlog_row_metadata), "FULL");
	snprintf(f.log_bin_compress, sizeof(f.log_bin_compress), "0");
	snprintf(f.user, sizeof(f.user), "cdc@%%");
	f.server_id = 1;
	f.repl_slave = f.repl_client = f.select_global = true;
	f.replicas_known = true;
	return f;
}

/* The findings as "V what" lines for verdicts other than OK. */
static char *
problems(const trib_my_facts *f, uint32_t ours, const char *const *dbs, int ndbs)
{
	static const char *const v[] = {"OK", "WARN", "FAIL"};
	trib_my_finding *fs;
	int			n = trib_my_check_evaluate(f, ours, dbs, ndbs, &fs);
	trib_strbuf out = {0};

	trib_strbuf_add(&out, "", 0);
	for (int i = 0; i < n; i++)
		if (fs[i].verdict != TRIB_MY_OK)
			trib_strbuf_printf(&out, "%s%s %s", out.len ? "|" : "", v[fs[i].verdict], fs[i].what);
	trib_my_findings_free(fs, n);
	return trib_strbuf_finish(&out);
}

static void
expect_problems(const trib_my_facts *f, uint32_t ours, const char *want)
{
	char	   *got = problems(f, ours, NULL, 0);

	if (strcmp(got, want) != 0)
		fail_msg("expected [%s], got [%s]", want, got);
	free(got);
}

static void
test_preconditions(void **state)
{
	trib_my_facts f = good_facts();
	uint32_t	other = 7;
	const char *dbs[] = {"shop", "crm"};
	char	   *got;
	trib_my_finding *fs;
	int			n;

	(void) state;
	expect_problems(&f, 900, "");
	snprintf(f.binlog_format, sizeof(f.binlog_format), "MIXED");
	snprintf(f.binlog_row_image, sizeof(f.binlog_row_image), "MINIMAL");
	snprintf(f.binlog_row_metadata, sizeof(f.binlog_row_metadata), "NO_LOG");
	expect_problems(&f, 900, "FAIL binlog_format|WARN binlog_row_image|WARN binlog_row_metadata");
	f = good_facts();
	expect_problems(&f, 1, "FAIL server_id");
	f.replica_ids = &other;
	f.nreplicas = 1;
	expect_problems(&f, 7, "FAIL server_id uniqueness");
	f.replica_ids = NULL;
	f.nreplicas = 0;
	f.replicas_known = false;
	expect_problems(&f, 7, "WARN server_id uniqueness");
	f = good_facts();
	f.repl_slave = f.repl_client = f.select_global = false;
	snprintf(f.log_bin, sizeof(f.log_bin), "0");
	snprintf(f.log_bin_compress, sizeof(f.log_bin_compress), "1");
	expect_problems(&f, 900, "FAIL log_bin|FAIL log_bin_compress|FAIL REPLICATION SLAVE|"
					"FAIL REPLICATION CLIENT|FAIL SELECT");
	/* SELECT on one of two captured databases */
	{
		char	   *shop = "shop";

		f = good_facts();
		f.select_global = false;
		f.select_dbs = &shop;
		f.nselect_dbs = 1;
		got = problems(&f, 900, dbs, 2);
		assert_string_equal(got, "FAIL SELECT");
		free(got);
		n = trib_my_check_evaluate(&f, 900, dbs, 2, &fs);
		assert_non_null(strstr(fs[n - 1].message, "lacks SELECT on database crm"));
		assert_non_null(strstr(fs[n - 1].message, "GRANT SELECT ON crm.* TO it"));
		trib_my_findings_free(fs, n);
	}
	/* MySQL's own settings */
	f = good_facts();
	snprintf(f.binlog_row_value_options, sizeof(f.binlog_row_value_options), "PARTIAL_JSON");
	snprintf(f.binlog_transaction_compression, sizeof(f.binlog_transaction_compression), "ON");
	expect_problems(&f, 900, "FAIL binlog_transaction_compression|FAIL binlog_row_value_options");
}

/* Every query the source makes on the server in the stream gives its
 * error number with its message, and one rule sorts them: a lost or
 * refused connection reconnects (and resumes after the last item
 * delivered), any other error fails.  Here the shape lookup's: the
 * loader's number comes back through the history's lookup. */
static void
test_lost_server_errors_reconnect(void **state)
{
	static const struct
	{
		unsigned	errnum;
		bool		reconnect;
	}			cases[] = {
		{2013, true},			/* CR_SERVER_LOST: stopped mid-query */
		{2006, true},			/* CR_SERVER_GONE_ERROR */
		{2002, true},			/* CR_CONNECTION_ERROR: refused */
		{2003, true},			/* CR_CONN_HOST_ERROR */
		{1053, true},			/* ER_SERVER_SHUTDOWN */
		{1927, true},			/* ER_CONNECTION_KILLED (MariaDB) */
		{1064, false},			/* ER_PARSE_ERROR: a syntax error */
		{1142, false},			/* ER_TABLEACCESS_DENIED_ERROR */
		{1044, false},			/* ER_DBACCESS_DENIED_ERROR */
		{1045, false},			/* ER_ACCESS_DENIED_ERROR: a refused login */
	};
	trib_my_pos p100 = at(100, 0);

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		fake_loader l = {.ncols = 2, .fail_errnum = cases[i].errnum};
		trib_my_history *h = trib_my_history_new(fake_load, &l);
		trib_my_schema s = trib_my_history_schema(h);
		const trib_my_tableinfo *t;
		char		err[256] = "";
		unsigned	errnum = 0;

		assert_false(s.ops->lookup(s.ctx, "d", "t", &p100, &t, &errnum, err, sizeof(err)));
		if (errnum != cases[i].errnum)
			fail_msg("loader error %u: lookup gave %u (%s)", cases[i].errnum, errnum, err);
		if (trib_my_error_retryable(errnum) != cases[i].reconnect)
			fail_msg("error %u: expected %s", errnum,
					 cases[i].reconnect ? "a reconnect" : "a failure");
		/* once the server answers, the same lookup succeeds */
		l.fail_errnum = 0;
		assert_true(s.ops->lookup(s.ctx, "d", "t", &p100, &t, &errnum, err, sizeof(err)));
		assert_int_equal(errnum, 0);
		assert_int_equal(t->ncols, 2);
		trib_my_history_free(h);
	}
	assert_false(trib_my_error_retryable(0));	/* not a query's error */
}

/* A TCP port on 127.0.0.1 where nothing listens (bound, then closed). */
static unsigned
closed_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t	len = sizeof(a);
	int			fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *) &a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* The real readers against a server that refuses the connection: the
 * shape loader, the collations and the preconditions each fail with the
 * client's error number, one a reconnect may fix. */
static void
test_refused_connection_errnum(void **state)
{
	trib_my_conn_conf conf = {.host = "127.0.0.1", .port = closed_port(),
	.user = "nobody", .connect_timeout_s = 2};
	trib_my_infoschema *is = trib_my_infoschema_new(&conf);
	trib_my_decoder_conf dconf = {0};
	trib_my_decoder *d = trib_my_decoder_new(&dconf);
	trib_my_tableinfo *t = NULL;
	trib_my_finding *fs = NULL;
	char		err[512] = "";
	unsigned	errnum = 0;

	(void) state;
	assert_false(trib_my_infoschema_load(is, "d", "t", &t, &errnum, err, sizeof(err)));
	assert_null(t);
	if (errnum != 2002 && errnum != 2003)
		fail_msg("expected a refused connection (2002 or 2003), got %u: %s", errnum, err);
	assert_true(trib_my_error_retryable(errnum));
	assert_non_null(strstr(err, "connecting to 127.0.0.1:"));
	errnum = 0;
	assert_false(trib_my_infoschema_collations(is, d, &errnum, err, sizeof(err)));
	assert_true(trib_my_error_retryable(errnum));
	errnum = 0;
	assert_int_equal(trib_my_check_errnum(&conf, 900, NULL, 0, &fs, &errnum, err, sizeof(err)), -1);
	assert_true(trib_my_error_retryable(errnum));
	assert_null(fs);
	trib_my_decoder_free(d);
	trib_my_infoschema_free(is);
}

/* The milliseconds of the monotonic clock. */
static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ask l for d.table until it answers; the answer's errnum. */
static unsigned
lookup_answer(trib_my_lookup *l, const char *table, char *err, size_t errlen)
{
	trib_my_tableinfo *t = NULL;
	unsigned	errnum = 0;

	assert_false(trib_my_lookup_load(l, "d", table, &t, &errnum, err, errlen));
	assert_int_equal(errnum, TRIB_MY_LOOKUP_PENDING);
	assert_true(trib_my_lookup_wait(l, 10000));
	assert_false(trib_my_lookup_load(l, "d", table, &t, &errnum, err, errlen));
	assert_null(t);
	return errnum;
}

/* The lookup thread (mysql_lookup.h): the first load asks and returns
 * "pending" at once, the answer (here the refused connection's error, a
 * reconnect's case) is handed to the next load of the same table, once;
 * an answer for another table is not handed out, nor a failure from
 * before forget(); and through the history a pending lookup fails the
 * lookup with TRIB_MY_LOOKUP_PENDING. */
static void
test_lookup_thread_hands_over_answers(void **state)
{
	trib_my_conn_conf conf = {.host = "127.0.0.1", .port = closed_port(),
	.user = "nobody", .connect_timeout_s = 2};
	trib_my_lookup *l = trib_my_lookup_new(&conf, NULL, 0);
	trib_my_history *h;
	trib_my_schema s;
	const trib_my_tableinfo *ti = NULL;
	trib_my_tableinfo *t = NULL;
	char		err[512] = "";
	unsigned	errnum;

	(void) state;
	assert_non_null(l);
	errnum = lookup_answer(l, "t", err, sizeof(err));
	if (errnum != 2002 && errnum != 2003)
		fail_msg("expected a refused connection (2002 or 2003), got %u: %s", errnum, err);
	assert_non_null(strstr(err, "connecting to 127.0.0.1:"));
	/* taken once: the next load asks again */
	assert_false(trib_my_lookup_load(l, "d", "t", &t, &errnum, err, sizeof(err)));
	assert_int_equal(errnum, TRIB_MY_LOOKUP_PENDING);
	assert_true(trib_my_lookup_wait(l, 10000));
	/* another table's answer is dropped, the other table asked */
	assert_false(trib_my_lookup_load(l, "d", "u", &t, &errnum, err, sizeof(err)));
	assert_int_equal(errnum, TRIB_MY_LOOKUP_PENDING);
	assert_true(trib_my_lookup_wait(l, 10000));
	/* a failure from before forget() is not handed out */
	trib_my_lookup_forget(l);
	assert_false(trib_my_lookup_load(l, "d", "u", &t, &errnum, err, sizeof(err)));
	assert_int_equal(errnum, TRIB_MY_LOOKUP_PENDING);
	assert_true(trib_my_lookup_wait(l, 10000));
	assert_false(trib_my_lookup_load(l, "d", "u", &t, &errnum, err, sizeof(err)));
	assert_true(trib_my_error_retryable(errnum));
	/* through the history */
	h = trib_my_history_new(trib_my_lookup_load, l);
	s = trib_my_history_schema(h);
	assert_false(s.ops->lookup(s.ctx, "d", "v", NULL, &ti, &errnum, err, sizeof(err)));
	assert_int_equal(errnum, TRIB_MY_LOOKUP_PENDING);
	assert_true(trib_my_lookup_wait(l, 10000));
	assert_false(s.ops->lookup(s.ctx, "d", "v", NULL, &ti, &errnum, err, sizeof(err)));
	assert_true(trib_my_error_retryable(errnum));
	assert_null(ti);
	trib_my_history_free(h);
	trib_my_lookup_free(l);
}

/* A stop never waits for a lookup in flight: against a server that
 * accepts the connection and never says a word, free() returns at once,
 * and the thread frees itself when its connect times out. */
static void
test_lookup_free_does_not_wait(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t	len = sizeof(a);
	int			fd = socket(AF_INET, SOCK_STREAM, 0);
	trib_my_conn_conf conf = {.host = "127.0.0.1", .user = "nobody",
	.connect_timeout_s = 1, .read_timeout_s = 1};
	trib_my_lookup *l;
	trib_my_tableinfo *t = NULL;
	char		err[512] = "";
	unsigned	errnum = 0;
	long long	t0;

	(void) state;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *) &a, &len), 0);
	conf.port = ntohs(a.sin_port);
	l = trib_my_lookup_new(&conf, NULL, 0);
	assert_false(trib_my_lookup_load(l, "d", "t", &t, &errnum, err, sizeof(err)));
	assert_int_equal(errnum, TRIB_MY_LOOKUP_PENDING);
	assert_false(trib_my_lookup_wait(l, 300));	/* the server is silent */
	t0 = mono_ms();
	trib_my_lookup_free(l);
	if (mono_ms() - t0 > 200)
		fail_msg("free() waited %lld ms for the lookup in flight", mono_ms() - t0);
	sleep(4);					/* the thread's connect times out; it frees */
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_history_keeps_old_shapes_across_ddl),
		cmocka_unit_test(test_history_without_loader),
		cmocka_unit_test(test_history_file_survives_a_restart),
		cmocka_unit_test(test_history_record_keeps_a_snapshot_shape_until_the_ddl),
		cmocka_unit_test(test_history_file_write_errors_stop_the_history),
		cmocka_unit_test(test_lost_server_errors_reconnect),
		cmocka_unit_test(test_refused_connection_errnum),
		cmocka_unit_test(test_lookup_thread_hands_over_answers),
		cmocka_unit_test(test_lookup_free_does_not_wait),
		cmocka_unit_test(test_enum_members_from_column_type),
		cmocka_unit_test(test_charsets),
		cmocka_unit_test(test_preconditions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
