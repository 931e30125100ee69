/*
 * mysql_infoschema.c: table descriptions and collations from
 * information_schema (mysql_infoschema.h).
 */
#include "mysql_infoschema.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mysql_charset.h"
#include "mysql_int.h"
#include "sqlmembers.h"
#include "strbuf.h"
#include "words.h"

struct trib_my_infoschema
{
	trib_my_conn_conf conf;
	char	   *host,
			   *socket,
			   *user,
			   *password;
	MYSQL	   *m;
	bool		mariadb;
};

/* The parts both flavours' column queries share: the column's place in
 * the primary key, and the rest of the query. */
#define PK_ORDINAL \
"  (SELECT u.ORDINAL_POSITION FROM information_schema.KEY_COLUMN_USAGE u " \
"    WHERE u.TABLE_SCHEMA = c.TABLE_SCHEMA AND u.TABLE_NAME = c.TABLE_NAME " \
"      AND u.CONSTRAINT_NAME = 'PRIMARY' AND u.COLUMN_NAME = c.COLUMN_NAME) "
#define FROM_COLUMNS \
"FROM information_schema.COLUMNS c " \
"LEFT JOIN information_schema.COLLATIONS co ON co.COLLATION_NAME = c.COLLATION_NAME " \
"WHERE c.TABLE_SCHEMA = ? AND c.TABLE_NAME = ? ORDER BY c.ORDINAL_POSITION"

/* Columns, in ordinal order, with the JSON check and whether the table is
 * system-versioned with the implicit row_start/row_end (MariaDB). */
static const char *const COLUMNS_MARIADB =
"SELECT c.COLUMN_NAME, LOWER(c.DATA_TYPE), c.COLUMN_TYPE, c.IS_NULLABLE, c.EXTRA, co.ID, "
"  (SELECT COUNT(*) FROM information_schema.CHECK_CONSTRAINTS k "
"    WHERE k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME "
"      AND k.CHECK_CLAUSE = CONCAT('json_valid(`', REPLACE(c.COLUMN_NAME, '`', '``'), '`)')), "
PK_ORDINAL ", "
"  (SELECT COUNT(*) FROM information_schema.TABLES t "
"    WHERE t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME "
"      AND t.TABLE_TYPE = 'SYSTEM VERSIONED' AND NOT EXISTS (SELECT 1 "
"        FROM information_schema.COLUMNS x WHERE x.TABLE_SCHEMA = c.TABLE_SCHEMA "
"          AND x.TABLE_NAME = c.TABLE_NAME AND x.GENERATION_EXPRESSION = 'ROW START')) "
FROM_COLUMNS;

/* The same for MySQL, whose JSON columns say so in DATA_TYPE. */
static const char *const COLUMNS_MYSQL =
"SELECT c.COLUMN_NAME, LOWER(c.DATA_TYPE), c.COLUMN_TYPE, c.IS_NULLABLE, c.EXTRA, co.ID, 0, "
PK_ORDINAL ", 0 " FROM_COLUMNS;

/* A copy of s or NULL. */
static char *
dup_or_null(const char *s)
{
	return s ? trib_xstrdup(s) : NULL;
}

trib_my_infoschema *
trib_my_infoschema_new(const trib_my_conn_conf *conf)
{
	trib_my_infoschema *is = trib_xcalloc(1, sizeof(*is));

	is->conf = *conf;
	is->conf.host = is->host = dup_or_null(conf->host);
	is->conf.socket = is->socket = dup_or_null(conf->socket);
	is->conf.user = is->user = dup_or_null(conf->user);
	is->conf.password = is->password = dup_or_null(conf->password);
	if (is->conf.read_timeout_s == 0)
		is->conf.read_timeout_s = 30;
	return is;
}

void
trib_my_infoschema_free(trib_my_infoschema *is)
{
	if (is == NULL)
		return;
	if (is->m)
		mysql_close(is->m);
	free(is->host);
	free(is->socket);
	free(is->user);
	if (is->password)
		memset(is->password, 0, strlen(is->password));
	free(is->password);
	free(is);
}

/* The connection, made on first use (and after a loss); NULL with
 * errbuf and *errnum when it cannot be made. */
static MYSQL *
conn(trib_my_infoschema *is, unsigned *errnum, char *errbuf, size_t errlen)
{
	if (is->m && mysql_ping(is->m) != 0)
	{
		mysql_close(is->m);
		is->m = NULL;
	}
	if (is->m == NULL)
	{
		is->m = trib_my_connect(&is->conf, errnum, errbuf, errlen);
		if (is->m)
			is->mariadb = strstr(mysql_get_server_info(is->m), "MariaDB") != NULL;
	}
	return is->m;
}

/* String types without a collation hold bytes (information_schema shows
 * their COLLATION_NAME as NULL). */
static bool
is_binary_type(const char *dt)
{
	static const char *const types[] = {
		"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
		"geometry", "point", "linestring", "polygon", "multipoint",
		"multilinestring", "multipolygon", "geometrycollection", NULL
	};

	return trib_words_find_span(types, dt, strlen(dt)) >= 0;
}

/* One row of the columns query into c. */
static void
read_column(const trib_my_rows *r, int row, trib_my_colinfo *c)
{
	const char *type = trib_my_cell(r, row, 2);
	const char *extra = trib_my_cell(r, row, 4);
	const char *coll = trib_my_cell(r, row, 5);
	const char *json = trib_my_cell(r, row, 6);
	const char *pk = trib_my_cell(r, row, 7);

	c->name = trib_xstrdup(trib_my_cell(r, row, 0) ? trib_my_cell(r, row, 0) : "");
	c->data_type = trib_xstrdup(trib_my_cell(r, row, 1) ? trib_my_cell(r, row, 1) : "");
	c->is_unsigned = type && strstr(type, " unsigned") != NULL;
	c->nullable = trib_my_cell(r, row, 3) && strcmp(trib_my_cell(r, row, 3), "YES") == 0;
	c->generated = extra && strstr(extra, "GENERATED") != NULL;
	c->collation = coll ? (uint32_t) strtoul(coll, NULL, 10) : 0;
	if (coll == NULL && is_binary_type(c->data_type))
		c->collation = TRIB_MY_COLLATION_BINARY;
	c->is_json = strcmp(c->data_type, "json") == 0 || (json && atoi(json) > 0);
	c->pk_pos = pk ? atoi(pk) : 0;
	/* the relation's declaration says what the values are: MariaDB's JSON
	 * alias holds JSON, not text */
	c->column_type = trib_xstrdup(c->is_json ? "json" : type ? type : c->data_type);
	if (type && (strcmp(c->data_type, "enum") == 0 || strcmp(c->data_type, "set") == 0))
		trib_sql_members(type, &c->values, &c->nvalues);
}

/*
 * A MariaDB table WITH SYSTEM VERSIONING and no period columns of its own
 * has two hidden ones, which information_schema does not list but every
 * row image carries, after the others: row_start and row_end, TIMESTAMP(6)
 * NOT NULL; row_end is part of the primary key, as the binlog's
 * binlog_row_metadata=FULL says.
 */
static void
add_implicit_period(trib_my_tableinfo *t)
{
	int			pk = 0;

	for (int i = 0; i < t->ncols; i++)
		if (t->cols[i].pk_pos > pk)
			pk = t->cols[i].pk_pos;
	t->cols = trib_xrealloc(t->cols, sizeof(trib_my_colinfo) * (size_t) (t->ncols + 2));
	for (int k = 0; k < 2; k++)
	{
		trib_my_colinfo *c = &t->cols[t->ncols++];

		memset(c, 0, sizeof(*c));
		c->name = trib_xstrdup(k == 0 ? "row_start" : "row_end");
		c->data_type = trib_xstrdup("timestamp");
		c->column_type = trib_xstrdup("timestamp(6)");
		c->generated = true;
		c->pk_pos = k == 1 && pk > 0 ? pk + 1 : 0;
	}
}

/*
 * Tests only (e2e 103): TRIBUTARY_TEST_MYSQL_LOOKUP_DELAY_MS=N makes each
 * table lookup wait N ms before it asks the server, so that a test can
 * freeze the server (SIGSTOP) between a new table's first rows arriving
 * and its lookup.  Absent (always, outside tests) it does nothing.
 */
static void
test_lookup_delay(void)
{
	const char *v = getenv("TRIBUTARY_TEST_MYSQL_LOOKUP_DELAY_MS");
	int			ms = v ? atoi(v) : 0;
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long) (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

bool
trib_my_infoschema_load(void *arg, const char *db, const char *table,
						trib_my_tableinfo **out, unsigned *errnum,
						char *errbuf, size_t errlen)
{
	trib_my_infoschema *is = arg;
	const char *params[2] = {db, table};
	MYSQL	   *m;
	trib_my_rows r;
	trib_my_tableinfo *t;

	*out = NULL;
	test_lookup_delay();
	m = conn(is, errnum, errbuf, errlen);
	if (m == NULL)
		return false;
	if (!trib_my_select_errnum(m, is->mariadb ? COLUMNS_MARIADB : COLUMNS_MYSQL, params, 2,
							   &r, errnum, errbuf, errlen))
		return trib_my_fail_prefix(errbuf, errlen, "reading information_schema for %s.%s",
								   db, table);
	if (r.nrows == 0)
	{
		trib_my_rows_free(&r);
		return true;
	}
	t = trib_xcalloc(1, sizeof(*t));
	t->db = trib_xstrdup(db);
	t->table = trib_xstrdup(table);
	t->ncols = r.nrows;
	t->cols = trib_xcalloc((size_t) r.nrows, sizeof(trib_my_colinfo));
	for (int i = 0; i < r.nrows; i++)
		read_column(&r, i, &t->cols[i]);
	if (trib_my_cell(&r, 0, 8) && atoi(trib_my_cell(&r, 0, 8)) > 0)
		add_implicit_period(t);
	trib_my_rows_free(&r);
	*out = t;
	return true;
}

bool
trib_my_infoschema_collations(trib_my_infoschema *is, trib_my_decoder *d,
							  unsigned *errnum, char *errbuf, size_t errlen)
{
	MYSQL	   *m = conn(is, errnum, errbuf, errlen);
	trib_my_rows r;

	if (m == NULL)
		return false;
	if (!trib_my_select_errnum(m, "SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATIONS "
							   "WHERE ID IS NOT NULL", NULL, 0, &r, errnum, errbuf, errlen))
		return false;
	for (int i = 0; i < r.nrows; i++)
		if (trib_my_cell(&r, i, 0) && trib_my_cell(&r, i, 1))
			trib_my_decoder_add_collation(d, (uint32_t) strtoul(trib_my_cell(&r, i, 0), NULL, 10),
										  trib_my_cell(&r, i, 1));
	trib_my_rows_free(&r);
	return true;
}
