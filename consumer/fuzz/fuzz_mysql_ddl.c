/*
 * fuzz_mysql_ddl.c: libFuzzer target for the MySQL/MariaDB DDL parser
 * (source/mysql/mysql_ddl*.c).
 *
 * The input is the text of a statement (any bytes; it is cut at the first
 * NUL, as a QUERY event's text would be).  It is parsed as MariaDB and as
 * MySQL, with default database "d", against a history that knows d.t (a
 * table of six columns of various kinds, with a primary key and a JSON
 * column), knows that d.gone does not exist, and knows nothing else.
 * Every result is freed.  Any crash, sanitizer report or leak is a bug:
 * odd text must only ever be uncertain, never more.  A certain result
 * must describe whole tables (every column named and typed).
 *
 * Corpus (fuzz/corpus/mysql_ddl/): the statements of
 * test/unit/test_mysql_ddl.c, certain and uncertain ones.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mysql_ddl.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static trib_my_colinfo cols[6] = {
	{.name = "id", .data_type = "int", .column_type = "int(11)", .pk_pos = 1},
	{.name = "j", .data_type = "longtext", .column_type = "json", .is_json = true,
	.collation = 46, .nullable = true},
	{.name = "e", .data_type = "enum", .column_type = "enum('a','b')", .nvalues = 2,
	.values = (char *[]) {"a", "b"}, .collation = 8},
	{.name = "v", .data_type = "varchar", .column_type = "varchar(4)", .collation = 8},
	{.name = "u", .data_type = "bigint", .column_type = "bigint(20) unsigned", .is_unsigned = true},
	{.name = "g", .data_type = "int", .column_type = "int(11)", .generated = true},
};
static trib_my_tableinfo table = {.db = "d", .table = "t", .ncols = 6, .cols = cols};

/* d.t is known, d.gone known absent, everything else unknown. */
static bool
prev(void *arg, const char *db, const char *tbl, const trib_my_tableinfo **out)
{
	(void) arg;
	*out = NULL;
	if (strcmp(db, "d") != 0)
		return false;
	if (strcmp(tbl, "t") == 0)
		*out = &table;
	return strcmp(tbl, "t") == 0 || strcmp(tbl, "gone") == 0;
}

/* A certain result's tables are whole. */
static void
check(const trib_my_ddl_result *r)
{
	if (r->outcome != TRIB_MY_DDL_CERTAIN)
		return;
	for (int i = 0; i < r->nchanges; i++)
	{
		const trib_my_tableinfo *t = r->changes[i].info;

		if (r->changes[i].db == NULL || r->changes[i].table == NULL)
			abort();
		for (int c = 0; t && c < t->ncols; c++)
			if (t->cols[c].name == NULL || t->cols[c].data_type == NULL)
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *sql = malloc(size + 1);
	trib_my_ddl_result r;

	memcpy(sql, data, size);
	sql[size] = '\0';
	trib_my_ddl_parse("d", sql, TRIB_MY_FLAVOUR_MARIADB, prev, NULL, &r);
	check(&r);
	trib_my_ddl_result_free(&r);
	trib_my_ddl_parse(NULL, sql, TRIB_MY_FLAVOUR_MYSQL, prev, NULL, &r);
	check(&r);
	trib_my_ddl_result_free(&r);
	free(sql);
	return 0;
}
