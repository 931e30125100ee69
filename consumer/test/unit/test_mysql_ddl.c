/*
 * test_mysql_ddl.c: unit tests of the MySQL DDL parser
 * (source/mysql/mysql_ddl*.c) and of the schema history's use of it
 * (mysql_schema.c): statements, certain and uncertain, each compared with
 * the version it should give.  Versions are written compactly, one column
 * a ";"-separated field: name data_type column_type, then "nn" (not
 * nullable), "u" (unsigned), "pkN", "cN" (collation), "json", "gen",
 * "[a|b]" (members).  The expected COLUMN_TYPEs are what MariaDB 10.11's
 * information_schema shows for the same statements.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mysql_ddl.h"
#include "mysql_ddl_lex.h"
#include "mysql_schema.h"
#include "strbuf.h"
#include "xalloc.h"

/* The tables a test knows, as the history would (db "d"). */
typedef struct known
{
	trib_my_tableinfo *t[8];
	int			n;
} known;

static bool
prev_of(void *arg, const char *db, const char *table, const trib_my_tableinfo **out)
{
	known	   *k = arg;

	*out = NULL;
	for (int i = 0; i < k->n; i++)
		if (strcmp(k->t[i]->db, db) == 0 && strcmp(k->t[i]->table, table) == 0)
		{
			*out = k->t[i];
			return true;
		}
	return strcmp(table, "unknown") != 0;	/* "unknown": the history does
											 * not know it; others absent */
}

/* A version written compactly (see the file comment); a new string. */
static char *
describe(const trib_my_tableinfo *t)
{
	trib_strbuf b = {0};

	if (t == NULL)
		return trib_xstrdup("(absent)");
	for (int i = 0; i < t->ncols; i++)
	{
		const trib_my_colinfo *c = &t->cols[i];

		trib_strbuf_printf(&b, "%s%s %s %s", i ? "; " : "", c->name, c->data_type,
						   c->column_type ? c->column_type : "-");
		if (!c->nullable)
			trib_strbuf_adds(&b, " nn");
		if (c->is_unsigned)
			trib_strbuf_adds(&b, " u");
		if (c->pk_pos)
			trib_strbuf_printf(&b, " pk%d", c->pk_pos);
		if (c->collation)
			trib_strbuf_printf(&b, " c%u", c->collation);
		if (c->is_json)
			trib_strbuf_adds(&b, " json");
		if (c->generated)
			trib_strbuf_adds(&b, " gen");
		for (int k = 0; k < c->nvalues; k++)
			trib_strbuf_printf(&b, "%s%s", k ? "|" : " [", c->values[k]);
		if (c->nvalues)
			trib_strbuf_addc(&b, ']');
	}
	return b.data ? trib_strbuf_finish(&b) : trib_xstrdup("");
}

/* Parse on MariaDB with default database "d". */
static void
parse(known *k, const char *sql, trib_my_ddl_result *r)
{
	trib_my_ddl_parse("d", sql, TRIB_MY_FLAVOUR_MARIADB, prev_of, k, r);
}

/* The statement is certain and its last change to `table` is `want`;
 * the known version is replaced by it. */
static void
expect(known *k, const char *sql, const char *table, const char *want)
{
	trib_my_ddl_result r;
	char	   *got;
	int			i;

	parse(k, sql, &r);
	if (r.outcome != TRIB_MY_DDL_CERTAIN)
		fail_msg("%s: not certain (%d): %s", sql, (int) r.outcome, r.why);
	for (i = r.nchanges - 1; i >= 0; i--)
		if (strcmp(r.changes[i].table, table) == 0)
			break;
	if (i < 0)
		fail_msg("%s: no change to %s", sql, table);
	got = describe(r.changes[i].info);
	if (strcmp(got, want) != 0)
		fail_msg("%s\n  expected: %s\n  actual:   %s", sql, want, got);
	free(got);
	for (int j = 0; j < r.nchanges; j++)
	{
		int			at = -1;

		for (int m = 0; m < k->n; m++)
			if (strcmp(k->t[m]->table, r.changes[j].table) == 0)
				at = m;
		if (at >= 0)
		{
			trib_my_tableinfo_free(k->t[at]);
			k->t[at] = k->t[--k->n];
		}
		if (r.changes[j].info)
		{
			k->t[k->n++] = r.changes[j].info;
			r.changes[j].info = NULL;
		}
	}
	trib_my_ddl_result_free(&r);
}

/* The statement is uncertain, and why says `why`. */
static void
expect_uncertain(known *k, const char *sql, const char *why)
{
	trib_my_ddl_result r;

	parse(k, sql, &r);
	if (r.outcome != TRIB_MY_DDL_UNCERTAIN)
		fail_msg("%s: outcome %d, expected uncertain", sql, (int) r.outcome);
	if (strstr(r.why, why) == NULL)
		fail_msg("%s: why is \"%s\", expected \"%s\"", sql, r.why, why);
	assert_int_equal(r.nchanges, 0);
	assert_non_null(r.excerpt);
	trib_my_ddl_result_free(&r);
}

static void
known_free(known *k)
{
	for (int i = 0; i < k->n; i++)
		trib_my_tableinfo_free(k->t[i]);
}

static void
test_create_table_types(void **state)
{
	known		k = {0};

	(void) state;
	expect(&k, "CREATE TABLE t (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, "
		   "a TINYINT, b SMALLINT UNSIGNED, c MEDIUMINT, d BIGINT UNSIGNED ZEROFILL, "
		   "e INTEGER(5), f BOOLEAN, g DECIMAL, h NUMERIC(8), i DECIMAL(12,2) UNSIGNED, "
		   "j FLOAT, k DOUBLE PRECISION, l DOUBLE(10,3), m BIT, n BIT(7), o YEAR)",
		   "t", "id int int(11) nn pk1; a tinyint tinyint(4); b smallint smallint(5) unsigned u; "
		   "c mediumint mediumint(9); d bigint bigint(20) unsigned zerofill u; e int int(5); "
		   "f tinyint tinyint(1); g decimal decimal(10,0); h decimal decimal(8,0); "
		   "i decimal decimal(12,2) unsigned u; j float float; k double double; "
		   "l double double(10,3); m bit bit(1); n bit bit(7); o year year(4)");
	expect(&k, "create table `t2` (`d` DATE, t TIME(3), dt DATETIME NOT NULL, "
		   "ts TIMESTAMP(6) NULL DEFAULT NULL, c CHAR COLLATE utf8mb4_bin, "
		   "v VARCHAR(20) CHARACTER SET latin1, x TEXT CHARSET ascii, "
		   "bn BINARY, vb VARBINARY(8), bl MEDIUMBLOB, g POINT NOT NULL, "
		   "e ENUM('a','b''c') NOT NULL DEFAULT 'a', s SET(\"x\",'y'), j JSON) "
		   "DEFAULT CHARSET=utf8mb4 COLLATE utf8mb4_general_ci",
		   "t2", "d date date; t time time(3); dt datetime datetime nn; "
		   "ts timestamp timestamp(6); c char char(1) c46; v varchar varchar(20) c8; "
		   "x text text c11; bn binary binary(1) c63; vb varbinary varbinary(8) c63; "
		   "bl mediumblob mediumblob c63; g point point nn c63; "
		   "e enum enum('a','b''c') nn c45 [a|b'c]; s set set('x','y') c45 [x|y]; "
		   "j longtext json c46 json");
	/* members with a newline or CR as they are (no backslash: a backslash
	 * in a literal is uncertain): COLUMN_TYPE's escapes, as the server
	 * writes them (lib/sqlmembers.h reads them back) */
	expect(&k, "create table t3 (e ENUM('a\nb','c\rd','it''s')) "
		   "DEFAULT CHARSET=utf8mb4 COLLATE utf8mb4_general_ci",
		   "t3", "e enum enum('a\\nb','c\\rd','it''s') c45 [a\nb|c\rd|it's]");
	known_free(&k);
}

static void
test_create_table_keys_and_options(void **state)
{
	known		k = {0};

	(void) state;
	/* the table's default collation; keys; a generated column; checks */
	expect(&k, "CREATE TABLE IF NOT EXISTS d.t (\n"
		   "  a INT, b VARCHAR(5) NOT NULL COMMENT 'the ''b'' -- not a comment',\n"
		   "  c INT AS (a + 1) VIRTUAL, j LONGTEXT CHECK (json_valid(`j`)),\n"
		   "  -- a comment\n"
		   "  PRIMARY KEY (b(3), a DESC), KEY k (c), UNIQUE (a), CONSTRAINT x CHECK (a > 0)\n"
		   ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci # the end",
		   "t", "a int int(11) nn pk2; b varchar varchar(5) nn pk1 c224; c int int(11) gen; "
		   "j longtext json c224 json");
	/* IF NOT EXISTS of a table that exists: nothing changes */
	{
		trib_my_ddl_result r;

		parse(&k, "CREATE TABLE IF NOT EXISTS t (z INT)", &r);
		assert_int_equal(r.outcome, TRIB_MY_DDL_CERTAIN);
		assert_int_equal(r.nchanges, 0);
		trib_my_ddl_result_free(&r);
	}
	/* executable comments are SQL the server ran; a table-level JSON check */
	expect(&k, "CREATE /*!OR REPLACE*/ TABLE t3 (id INT /*M! NOT NULL */, j LONGTEXT "
		   "COLLATE utf8mb4_bin, CHECK (json_valid(j))) CHARACTER SET latin1",
		   "t3", "id int int(11) nn; j longtext json c46 json");
	known_free(&k);
}

static void
test_alter_table_columns(void **state)
{
	known		k = {0};

	(void) state;
	expect(&k, "CREATE TABLE t (id INT PRIMARY KEY, a INT, b VARCHAR(4)) CHARSET latin1",
		   "t", "id int int(11) nn pk1; a int int(11); b varchar varchar(4) c8");
	expect(&k, "ALTER TABLE t ADD COLUMN c BIGINT NOT NULL DEFAULT -1",
		   "t", "id int int(11) nn pk1; a int int(11); b varchar varchar(4) c8; "
		   "c bigint bigint(20) nn");
	expect(&k, "ALTER TABLE t ADD z DATE FIRST, ADD y DATE AFTER a",
		   "t", "z date date; id int int(11) nn pk1; a int int(11); y date date; "
		   "b varchar varchar(4) c8; c bigint bigint(20) nn");
	expect(&k, "ALTER TABLE `d`.`t` ADD (p INT UNSIGNED, q BLOB), DROP COLUMN z, DROP y",
		   "t", "id int int(11) nn pk1; a int int(11); b varchar varchar(4) c8; "
		   "c bigint bigint(20) nn; p int int(10) unsigned u; q blob blob c63");
	expect(&k, "ALTER TABLE t RENAME COLUMN a TO `a``2`, MODIFY c INT NULL, "
		   "CHANGE COLUMN p pp SMALLINT FIRST",
		   "t", "pp smallint smallint(6); id int int(11) nn pk1; a`2 int int(11); "
		   "b varchar varchar(4) c8; c int int(11); q blob blob c63");
	expect(&k, "ALTER TABLE t ALTER COLUMN c SET DEFAULT 5, ALTER b DROP DEFAULT, "
		   "ADD INDEX i (c), DROP INDEX i, ENGINE = InnoDB, ALGORITHM=INPLACE",
		   "t", "pp smallint smallint(6); id int int(11) nn pk1; a`2 int int(11); "
		   "b varchar varchar(4) c8; c int int(11); q blob blob c63");
	expect(&k, "ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (c, pp)",
		   "t", "pp smallint smallint(6) nn pk2; id int int(11) nn; a`2 int int(11); "
		   "b varchar varchar(4) c8; c int int(11) nn pk1; q blob blob c63");
	expect(&k, "ALTER TABLE t ADD COLUMN IF NOT EXISTS c INT, DROP COLUMN IF EXISTS nope, "
		   "MODIFY IF EXISTS nope INT",
		   "t", "pp smallint smallint(6) nn pk2; id int int(11) nn; a`2 int int(11); "
		   "b varchar varchar(4) c8; c int int(11) nn pk1; q blob blob c63");
	/* a rename moves the version to the new name; the old is gone */
	expect(&k, "ALTER TABLE t RENAME TO t9", "t9",
		   "pp smallint smallint(6) nn pk2; id int int(11) nn; a`2 int int(11); "
		   "b varchar varchar(4) c8; c int int(11) nn pk1; q blob blob c63");
	known_free(&k);
}

static void
test_drop_rename_truncate(void **state)
{
	known		k = {0};
	trib_my_ddl_result r;

	(void) state;
	expect(&k, "CREATE TABLE a (x INT)", "a", "x int int(11)");
	expect(&k, "CREATE TABLE ai (x INT AUTO_INCREMENT, UNIQUE KEY (x), y DATETIME(0))", "ai",
		   "x int int(11) nn; y datetime datetime");
	expect(&k, "CREATE TABLE b (y DATE)", "b", "y date date");
	/* a swap through a third name */
	expect(&k, "RENAME TABLE a TO tmp, b TO a, tmp TO b", "a", "y date date");
	expect(&k, "RENAME TABLE b TO c", "c", "x int int(11)");
	parse(&k, "TRUNCATE TABLE a", &r);
	assert_int_equal(r.outcome, TRIB_MY_DDL_CERTAIN);
	assert_int_equal(r.nchanges, 0);
	trib_my_ddl_result_free(&r);
	parse(&k, "DROP TABLE IF EXISTS a, `d`.c /* generated by server */", &r);
	assert_int_equal(r.outcome, TRIB_MY_DDL_CERTAIN);
	assert_int_equal(r.nchanges, 2);
	assert_null(r.changes[0].info);
	assert_string_equal(r.changes[1].table, "c");
	assert_null(r.changes[1].info);
	trib_my_ddl_result_free(&r);
	parse(&k, "DROP TEMPORARY TABLE a", &r);
	assert_int_equal(r.outcome, TRIB_MY_DDL_CERTAIN);
	assert_int_equal(r.nchanges, 0);
	trib_my_ddl_result_free(&r);
	/* not table DDL */
	parse(&k, "CREATE VIEW v AS SELECT 1", &r);
	assert_int_equal(r.outcome, TRIB_MY_DDL_OTHER);
	trib_my_ddl_result_free(&r);
	parse(&k, "CREATE DATABASE x", &r);
	assert_int_equal(r.outcome, TRIB_MY_DDL_OTHER);
	trib_my_ddl_result_free(&r);
	known_free(&k);
}

static void
test_uncertain_statements(void **state)
{
	known		k = {0};
	trib_my_ddl_result r;

	(void) state;
	expect(&k, "CREATE TABLE t (id INT PRIMARY KEY, j JSON, v VARCHAR(3) COLLATE latin1_bin)",
		   "t", "id int int(11) nn pk1; j longtext json c46 json; v varchar varchar(3) c47");
	expect_uncertain(&k, "ALTER TABLE t ADD s VARCHAR(10)", "collation (the table's default)");
	expect_uncertain(&k, "ALTER TABLE t ADD s VARCHAR(10) CHARACTER SET utf8mb4",
					 "collation (utf8mb4)");
	expect_uncertain(&k, "CREATE TABLE u (s TEXT)", "the table's default");
	expect_uncertain(&k, "CREATE TABLE u LIKE t", "LIKE or SELECT");
	expect_uncertain(&k, "CREATE TABLE u (a INT) SELECT 1 AS a", "CREATE TABLE ... SELECT");
	expect_uncertain(&k, "CREATE TABLE u (a INT) AS SELECT 1", "CREATE TABLE ... AS");
	expect_uncertain(&k, "ALTER TABLE t ADD u UUID", "type UUID");
	expect_uncertain(&k, "ALTER TABLE t ADD f FLOAT(30)", "picks FLOAT or DOUBLE");
	expect_uncertain(&k, "ALTER TABLE t ADD ts TIMESTAMP", "explicit_defaults_for_timestamp");
	expect_uncertain(&k, "ALTER TABLE t ADD n INT NULL AUTO_INCREMENT", "AUTO_INCREMENT and NULL");
	expect_uncertain(&k, "ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4", "clause CONVERT");
	expect_uncertain(&k, "ALTER TABLE t DROP COLUMN id", "primary key column");
	expect_uncertain(&k, "ALTER TABLE t DROP CONSTRAINT c", "json_valid");
	expect_uncertain(&k, "ALTER TABLE t DROP nope", "unknown column");
	expect_uncertain(&k, "ALTER TABLE t ADD id INT", "exists");
	expect_uncertain(&k, "ALTER TABLE unknown ADD x INT", "d.unknown before the statement");
	expect_uncertain(&k, "ALTER TABLE gone ADD x INT", "does not exist");
	expect_uncertain(&k, "ALTER TABLE t ADD x INT REFERENCES p (id)", "attribute REFERENCES");
	expect_uncertain(&k, "ALTER TABLE t ADD x INT /*!50100 NOT NULL */", "versioned");
	expect_uncertain(&k, "ALTER TABLE t ADD x INT DEFAULT 'a\\'b'", "backslash");
	expect_uncertain(&k, "ALTER TABLE t ADD x INT COMMENT 'open", "unterminated");
	expect_uncertain(&k, "ALTER TABLE t PARTITION BY HASH(id) PARTITIONS 2", "clause PARTITION");
	expect_uncertain(&k, "DROP INDEX `PRIMARY` ON t", "PRIMARY");
	/* WITH SYSTEM VERSIONING: hidden row_start and row_end columns, which
	 * columns added later go before */
	expect_uncertain(&k, "CREATE TABLE sv (id INT PRIMARY KEY) WITH SYSTEM VERSIONING",
					 "WITH SYSTEM VERSIONING");
	{
		trib_my_tableinfo *sv = trib_xcalloc(1, sizeof(*sv));

		sv->db = trib_xstrdup("d");
		sv->table = trib_xstrdup("sv");
		sv->ncols = 3;
		sv->cols = trib_xcalloc(3, sizeof(trib_my_colinfo));
		sv->cols[0] = (trib_my_colinfo) {.name = trib_xstrdup("id"), .data_type = trib_xstrdup("int"),
		.column_type = trib_xstrdup("int(11)"), .pk_pos = 1};
		for (int i = 1; i < 3; i++)
			sv->cols[i] = (trib_my_colinfo) {.name = trib_xstrdup(i == 1 ? "row_start" : "row_end"),
			.data_type = trib_xstrdup("timestamp"), .column_type = trib_xstrdup("timestamp(6)"),
			.generated = true, .pk_pos = i == 2 ? 2 : 0};
		k.t[k.n++] = sv;
		expect_uncertain(&k, "ALTER TABLE sv ADD x INT", "a table WITH SYSTEM VERSIONING");
	}
	/* CHARACTER without SET at the end: not read past the last token
	 * (found by fuzz_mysql_ddl) */
	expect_uncertain(&k, "ALTER TABLE t ADD x VARCHAR(3) CHARACTER", "attribute CHARACTER");
	/* flavour: MySQL's integer widths depend on its version */
	trib_my_ddl_parse("d", "ALTER TABLE t ADD x INT", TRIB_MY_FLAVOUR_MYSQL, prev_of, &k, &r);
	assert_int_equal(r.outcome, TRIB_MY_DDL_UNCERTAIN);
	assert_non_null(strstr(r.why, "display widths"));
	trib_my_ddl_result_free(&r);
	trib_my_ddl_parse("d", "ALTER TABLE t ADD x DATE", TRIB_MY_FLAVOUR_MYSQL, prev_of, &k, &r);
	assert_int_equal(r.outcome, TRIB_MY_DDL_CERTAIN);
	trib_my_ddl_result_free(&r);
	/* no default database */
	trib_my_ddl_parse(NULL, "ALTER TABLE t ADD x DATE", TRIB_MY_FLAVOUR_MARIADB, prev_of, &k, &r);
	assert_int_equal(r.outcome, TRIB_MY_DDL_UNCERTAIN);
	trib_my_ddl_result_free(&r);
	known_free(&k);
}

static void
test_excerpt_hides_literals(void **state)
{
	known		k = {0};
	trib_my_ddl_result r;
	char		longer[600];

	(void) state;
	parse(&k, "CREATE TABLE f (a INT) ENGINE=FEDERATED "
		  "CONNECTION='mysql://app:s3cret@host/db/t' LIKE x", &r);
	assert_int_equal(r.outcome, TRIB_MY_DDL_UNCERTAIN);
	assert_null(strstr(r.excerpt, "s3cret"));
	assert_string_equal(r.excerpt, "CREATE TABLE f(a INT) ENGINE = FEDERATED CONNECTION = '?' LIKE x");
	trib_my_ddl_result_free(&r);
	/* an unterminated literal is not shown either */
	parse(&k, "ALTER TABLE t COMMENT 'pw=s3cret", &r);
	assert_int_equal(r.outcome, TRIB_MY_DDL_UNCERTAIN);
	assert_null(strstr(r.excerpt, "s3cret"));
	trib_my_ddl_result_free(&r);
	/* long statements are cut */
	snprintf(longer, sizeof(longer), "ALTER TABLE t ADD s VARCHAR(10), %0500d", 0);
	parse(&k, longer, &r);
	assert_true(strlen(r.excerpt) < 200);
	assert_non_null(strstr(r.excerpt, " ..."));
	trib_my_ddl_result_free(&r);
}

/* The source's "DDL in ..." log line shows any statement through
 * trib_my_ddl_log_text: never a literal, also where the scanner stops. */
static void
test_log_text_hides_literals(void **state)
{
	char	   *t;
	bool		cut;

	(void) state;
	t = trib_my_ddl_log_text("CREATE SERVER s FOREIGN DATA WRAPPER mysql "
							 "OPTIONS (USER 'app', PASSWORD 's3cret', HOST 'h')", 200, &cut);
	assert_null(strstr(t, "s3cret"));
	assert_string_equal(t, "CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS(USER '?', "
						"PASSWORD '?', HOST '?')");
	assert_false(cut);
	free(t);
	/* a backslash stops the scanner: the rest is cut, not shown */
	t = trib_my_ddl_log_text("ALTER TABLE t COMMENT 'it\\'s s3cret' , ADD c INT", 200, &cut);
	assert_null(strstr(t, "s3cret"));
	assert_string_equal(t, "ALTER TABLE t COMMENT ...");
	assert_true(cut);
	free(t);
	/* statement-based DML would carry row values: not shown either */
	t = trib_my_ddl_log_text("INSERT INTO t VALUES (1, 'alice@example.com')", 200, NULL);
	assert_string_equal(t, "INSERT INTO t VALUES(1, '?')");
	free(t);
}

/* trib_my_ddl_log_text(sql, max) is want, and says whether it cut. */
static void
expect_log_text(const char *sql, size_t max, const char *want, bool want_cut)
{
	bool		cut = !want_cut;
	char	   *t = trib_my_ddl_log_text(sql, max, &cut);

	if (strcmp(t, want) != 0 || cut != want_cut)
		fail_msg("log text of [%s]: expected [%s] cut=%d, got [%s] cut=%d", sql, want,
				 want_cut, t, cut);
	free(t);
}

/* Whether a log text left something out is returned, not read back from
 * its " ..." (which a statement could also end with): too long, the
 * scanner stopped, or both, each marked once. */
static void
test_log_text_says_when_cut(void **state)
{
	trib_my_toks tk;
	char		why[128];
	char	   *t;
	bool		cut = true;

	(void) state;
	/* whole, and ending in dots of its own: nothing cut, nothing added */
	expect_log_text("SELECT a ...", 200, "SELECT a...", false);
	/* too long: cut at the limit, one marker */
	expect_log_text("ALTER TABLE t ADD COLUMN c INT, ADD COLUMN d INT", 20,
					"ALTER TABLE t ADD CO ...", true);
	/* too long and the scanner stopped later: still one marker */
	expect_log_text("ALTER TABLE t ADD COLUMN c INT COMMENT 'x\\'y'", 20,
					"ALTER TABLE t ADD CO ...", true);
	/* the scanner stopped at the first token: only the marker */
	expect_log_text("'a\\'b'", 20, " ...", true);
	/* the excerpt alone says it too */
	assert_true(trib_my_ddl_lex("DROP TABLE `a`, `b`", &tk, why, sizeof(why)));
	t = trib_my_ddl_excerpt(&tk, 100, &cut);
	assert_string_equal(t, "DROP TABLE `a`, `b`");
	assert_false(cut);
	free(t);
	t = trib_my_ddl_excerpt(&tk, 12, &cut);
	assert_string_equal(t, "DROP TABLE ` ...");
	assert_true(cut);
	free(t);
	trib_my_toks_free(&tk);
}

/* A loader for the history tests: a table of one INT column "id". */
static bool
one_col_load(void *arg, const char *db, const char *table, trib_my_tableinfo **out,
			 unsigned *errnum, char *errbuf, size_t errlen)
{
	int		   *calls = arg;
	trib_my_tableinfo *t = trib_xcalloc(1, sizeof(*t));

	(void) errnum;
	(void) errbuf;
	(void) errlen;
	(*calls)++;
	t->db = trib_xstrdup(db);
	t->table = trib_xstrdup(table);
	t->ncols = 1;
	t->cols = trib_xcalloc(1, sizeof(trib_my_colinfo));
	t->cols[0].name = trib_xstrdup("id");
	t->cols[0].data_type = trib_xstrdup("int");
	t->cols[0].column_type = trib_xstrdup("int(11)");
	t->cols[0].pk_pos = 1;
	*out = t;
	return true;
}

/* The history's log lines of level 2 (info), joined by "|". */
static void
keep_log(int level, const char *msg, void *arg)
{
	if (level <= 2)
		trib_strbuf_printf(arg, "%s|", msg);
}

/* A MariaDB position (GTID 0-1-seq) at offset off. */
static trib_my_pos
mpos(uint64_t off, uint64_t row)
{
	trib_my_pos p = {.file = "b.000001", .tx_pos = off, .row = row};

	p.gtid.kind = TRIB_MY_GTID_MARIADB;
	p.gtid.server = 1;
	p.gtid.seq = off;
	return p;
}

/* The described version of d.t at p. */
static char *
version_at(trib_my_schema *s, const trib_my_pos *p)
{
	const trib_my_tableinfo *t;
	char		err[256];
	unsigned	errnum;

	if (!s->ops->lookup(s->ctx, "d", "t", p, &t, &errnum, err, sizeof(err)))
		fail_msg("lookup: %s", err);
	return describe(t);
}

static void
test_history_derives_versions_at_the_ddl(void **state)
{
	int			calls = 0;
	trib_my_history *h = trib_my_history_new(one_col_load, &calls);
	trib_my_schema s = trib_my_history_schema(h);
	trib_my_pos p100 = mpos(100, 0),
				d150 = mpos(150, TRIB_MY_ROW_ALL),
				p160 = mpos(160, 0),
				d170 = mpos(170, TRIB_MY_ROW_ALL),
				p180 = mpos(180, 0),
				d190 = mpos(190, TRIB_MY_ROW_ALL),
				d195 = mpos(195, TRIB_MY_ROW_ALL),
				p200 = mpos(200, 0);
	char	   *v;
	trib_strbuf log = {0};

	(void) state;
	trib_my_history_set_log(h, keep_log, &log);
	v = version_at(&s, &p100);
	assert_string_equal(v, "id int int(11) nn pk1");
	free(v);
	s.ops->ddl(s.ctx, "d", "ALTER TABLE t ADD n INT", &d150);
	s.ops->ddl(s.ctx, "d", "ALTER TABLE t ADD n INT", &d150);	/* read again */
	s.ops->ddl(s.ctx, "d", "ALTER TABLE t RENAME COLUMN n TO m", &d170);
	v = version_at(&s, &p160);
	assert_string_equal(v, "id int int(11) nn pk1; n int int(11)");
	free(v);
	v = version_at(&s, &p180);
	assert_string_equal(v, "id int int(11) nn pk1; m int int(11)");
	free(v);
	v = version_at(&s, &p100);
	assert_string_equal(v, "id int int(11) nn pk1");
	free(v);
	assert_int_equal(calls, 1);	/* derived, not loaded */
	assert_null(log.data);		/* and nothing said */
	/* an uncertain DDL: today's way, the next version is loaded */
	s.ops->ddl(s.ctx, "d", "ALTER TABLE t ADD s TEXT", &d190);
	/* and a later DDL cannot start from a version it does not know */
	s.ops->ddl(s.ctx, "d", "ALTER TABLE t ADD k INT", &d195);
	assert_string_equal(log.data,
						"schema history: DDL at 0-1-190/b.000001:190 not derived (column s: its "
						"collation (the table's default) is not known here): ALTER TABLE t ADD s "
						"TEXT; the next version of each table is read from information_schema|"
						"schema history: DDL at 0-1-195/b.000001:195 not derived (the version of "
						"d.t before the statement is not known): ALTER TABLE t ADD k INT; the next "
						"version of each table is read from information_schema|");
	trib_strbuf_free(&log);
	v = version_at(&s, &p200);
	assert_string_equal(v, "id int int(11) nn pk1");	/* the loader's */
	free(v);
	assert_int_equal(calls, 2);
	v = version_at(&s, &p180);
	assert_string_equal(v, "id int int(11) nn pk1; m int int(11)");
	free(v);
	trib_my_history_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_table_types),
		cmocka_unit_test(test_create_table_keys_and_options),
		cmocka_unit_test(test_alter_table_columns),
		cmocka_unit_test(test_drop_rename_truncate),
		cmocka_unit_test(test_uncertain_statements),
		cmocka_unit_test(test_excerpt_hides_literals),
		cmocka_unit_test(test_log_text_hides_literals),
		cmocka_unit_test(test_log_text_says_when_cut),
		cmocka_unit_test(test_history_derives_versions_at_the_ddl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
