/*
 * test_mytype.c: MySQL/MariaDB column types to column types
 * (trib_sr_mysql_type, sr_mytype.c), for every type the daemon's MySQL
 * source supports, and the JSON Schema of a MySQL table: the kinds match
 * the JSON the source writes (numbers for the numeric types, YEAR and
 * BIGINT UNSIGNED; strings for TIME, SET and geometries; no NaN strings;
 * a NOT NULL date column nullable, since a zero date is written as null).
 * trib_sr_source_type sends "mysql" here and everything else to the
 * PostgreSQL mapping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sr_test.h"

#define K(x) TRIB_SR_K_##x

typedef struct my_case
{
	const char *data_type;
	const char *column_type;	/* NULL: only DATA_TYPE known */
	trib_sr_kind kind;
	int32_t		length;
	int32_t		precision;
	int32_t		scale;
	bool		zero_null;
} my_case;

static const my_case my_cases[] = {
	{"tinyint", "tinyint(4)", K(INT16), -1, -1, -1, false},
	{"tinyint", "tinyint(3) unsigned", K(INT16), -1, -1, -1, false},
	{"tinyint", "tinyint(1)", K(INT16), -1, -1, -1, false},	/* BOOLEAN */
	{"smallint", "smallint(6)", K(INT16), -1, -1, -1, false},
	{"smallint", "smallint(5) unsigned", K(INT32), -1, -1, -1, false},
	{"mediumint", "mediumint(9)", K(INT32), -1, -1, -1, false},
	{"mediumint", "mediumint(8) unsigned", K(INT32), -1, -1, -1, false},
	{"int", "int(11)", K(INT32), -1, -1, -1, false},
	{"int", "int(10) unsigned", K(UINT32), -1, -1, -1, false},
	{"bigint", "bigint(20)", K(INT64), -1, -1, -1, false},
	{"bigint", "bigint(20) unsigned", K(DECIMAL), -1, 20, 0, false},
	{"decimal", "decimal(12,2)", K(DECIMAL), -1, 12, 2, false},
	{"decimal", "decimal(65,30) unsigned", K(DECIMAL), -1, 65, 30, false},
	{"decimal", "decimal(10,0)", K(DECIMAL), -1, 10, 0, false},
	{"decimal", NULL, K(DECIMAL), -1, 10, 0, false},
	{"float", "float", K(FLOAT32), -1, -1, -1, false},
	{"double", "double", K(FLOAT64), -1, -1, -1, false},
	{"year", "year(4)", K(INT16), -1, -1, -1, false},
	{"bit", "bit(1)", K(BIT), 1, -1, -1, false},
	{"bit", "bit(64)", K(BIT), 64, -1, -1, false},
	{"char", "char(10)", K(VARCHAR), 10, -1, -1, false},
	{"varchar", "varchar(300)", K(VARCHAR), 300, -1, -1, false},
	{"tinytext", "tinytext", K(STRING), -1, -1, -1, false},
	{"text", "text", K(STRING), -1, -1, -1, false},
	{"mediumtext", "mediumtext", K(STRING), -1, -1, -1, false},
	{"longtext", "longtext", K(STRING), -1, -1, -1, false},
	{"longtext", "json", K(JSON), -1, -1, -1, false},	/* MariaDB's JSON alias */
	{"json", "json", K(JSON), -1, -1, -1, false},
	{"binary", "binary(8)", K(BYTES), -1, -1, -1, false},
	{"varbinary", "varbinary(50)", K(BYTES), -1, -1, -1, false},
	{"tinyblob", "tinyblob", K(BYTES), -1, -1, -1, false},
	{"blob", "blob", K(BYTES), -1, -1, -1, false},
	{"mediumblob", "mediumblob", K(BYTES), -1, -1, -1, false},
	{"longblob", "longblob", K(BYTES), -1, -1, -1, false},
	{"date", "date", K(DATE), -1, -1, -1, true},
	{"datetime", "datetime(6)", K(TIMESTAMP), -1, -1, -1, true},
	{"timestamp", "timestamp(3)", K(TIMESTAMPTZ), -1, -1, -1, true},
	{"time", "time(6)", K(STRING), -1, -1, -1, false},
	{"set", "set('x','y','z')", K(STRING), -1, -1, -1, false},
	{"geometry", "geometry", K(STRING), -1, -1, -1, false},
	{"point", "point", K(STRING), -1, -1, -1, false},
};

static void
every_mysql_type_maps_to_the_kind_of_its_values(void **state)
{
	int			failed = 0;

	(void) state;
	for (size_t i = 0; i < sizeof(my_cases) / sizeof(my_cases[0]); i++)
	{
		const my_case *c = &my_cases[i];
		trib_sr_type t;
		bool		zn;
		char		err[256] = "";

		if (!trib_sr_mysql_type(c->data_type, c->column_type, &t, &zn, err, sizeof(err)) ||
			t.kind != c->kind || t.length != c->length || t.precision != c->precision ||
			t.scale != c->scale || zn != c->zero_null || !t.finite)
		{
			print_error("%s / %s: expected kind %d length %d p %d s %d zero_null %d, got "
						"kind %d length %d p %d s %d zero_null %d finite %d %s\n",
						c->data_type, c->column_type ? c->column_type : "-", c->kind,
						c->length, c->precision, c->scale, c->zero_null, t.kind, t.length,
						t.precision, t.scale, zn, t.finite, err);
			failed++;
		}
		trib_sr_type_release(&t);
	}
	assert_int_equal(failed, 0);
}

static void
an_enum_lists_its_members_and_the_empty_invalid_value(void **state)
{
	trib_sr_type t;
	bool		zn;
	char		err[128];

	(void) state;
	assert_true(trib_sr_mysql_type("enum", "enum('a','it''s','b,c','\xc3\xbc')", &t, &zn,
								   err, sizeof(err)));
	assert_int_equal(t.kind, TRIB_SR_K_ENUM);
	assert_int_equal(t.nlabels, 5);
	assert_string_equal(t.labels[0], "");
	assert_string_equal(t.labels[1], "a");
	assert_string_equal(t.labels[2], "it's");
	assert_string_equal(t.labels[3], "b,c");
	assert_string_equal(t.labels[4], "\xc3\xbc");
	trib_sr_type_release(&t);
	assert_null(t.labels);
	/* COLUMN_TYPE's backslash escapes (\\ \n \r) and a quote both ways */
	assert_true(trib_sr_mysql_type("enum", "enum('e\\\\f','a\\nb','c\\rd','\\'''','x\\\\')",
								   &t, &zn, err, sizeof(err)));
	assert_int_equal(t.kind, TRIB_SR_K_ENUM);
	assert_int_equal(t.nlabels, 6);
	assert_string_equal(t.labels[1], "e\\f");
	assert_string_equal(t.labels[2], "a\nb");
	assert_string_equal(t.labels[3], "c\rd");
	assert_string_equal(t.labels[4], "''");
	assert_string_equal(t.labels[5], "x\\");
	trib_sr_type_release(&t);
	/* members unknown (a bare DATA_TYPE): any string */
	assert_true(trib_sr_mysql_type("enum", NULL, &t, &zn, err, sizeof(err)));
	assert_int_equal(t.kind, TRIB_SR_K_STRING);
	trib_sr_type_release(&t);
}

static void
a_malformed_modifier_is_refused_with_what_is_accepted(void **state)
{
	trib_sr_type t;
	bool		zn;
	char		err[256] = "";

	(void) state;
	assert_false(trib_sr_mysql_type("decimal", "decimal(12,x)", &t, &zn, err, sizeof(err)));
	assert_non_null(strstr(err, "decimal(12,x)"));
	assert_non_null(strstr(err, "accepted"));
}

/* The JSON Schema of one column c of type (dt, ct), NOT NULL or not. */
static char *
column_schema(const char *connector, const char *dt, const char *ct, bool nullable)
{
	trib_sr_field f = {.name = "c"};
	trib_sr_table table = {"d1", "t", &f, 1};
	trib_sr_schema *s;
	char		err[256];
	char	   *doc;

	assert_true(trib_sr_source_type(connector, dt, ct, nullable, &f.type, &f.nullable, err,
									sizeof(err)));
	s = trib_sr_table_schema(&table, TRIB_SR_JSON, TRIB_SR_VALUE, err, sizeof(err));
	assert_non_null(s);
	doc = strdup(trib_sr_schema_canonical(s, NULL));
	trib_sr_schema_free(s);
	trib_sr_type_release(&f.type);
	return doc;
}

static void
a_mysql_table_schema_has_the_sources_json_types(void **state)
{
	static const char *const cases[][4] = {
		{"tinyint", "tinyint(4)", "f", "\"type\":\"integer\""},
		{"year", "year(4)", "f", "\"type\":\"integer\""},
		{"double", "double", "f", "\"type\":\"number\""},
		{"decimal", "decimal(5,2)", "f", "\"maximum\":999.99"},
		{"mediumint", "mediumint(8) unsigned", "f", "\"type\":\"integer\""},
		{"datetime", "datetime(3)", "f", "\"type\":\"string\""},
		{"bit", "bit(5)", "f", "\"minLength\":5"},
		{"enum", "enum('a','b')", "f", "\"enum\":[\"\",\"a\",\"b\"]"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char	   *doc = column_schema("mysql", cases[i][0], cases[i][1], cases[i][2][0] == 't');

		if (strstr(doc, cases[i][3]) == NULL || strstr(doc, "NaN") != NULL)
			fail_msg("%s: expected %s and no NaN in %s", cases[i][1], cases[i][3], doc);
		free(doc);
	}
}

static void
a_not_null_date_is_nullable_since_zero_dates_are_null(void **state)
{
	char	   *doc = column_schema("mysql", "date", "date", false);

	(void) state;
	assert_non_null(strstr(doc, "{\"type\":\"null\"}"));
	assert_null(strstr(doc, "\"required\":[\"c\"]"));
	free(doc);
	doc = column_schema("mysql", "int", "int(11)", false);
	assert_non_null(strstr(doc, "\"required\":[\"c\"]"));
	free(doc);
}

static void
other_sources_keep_the_postgresql_mapping(void **state)
{
	/* "tinyint" is no PostgreSQL type: sent as text there */
	char	   *pg = column_schema(NULL, "tinyint", NULL, true);
	char	   *pgd = column_schema("postgresql", "double precision", NULL, true);
	char	   *mongo = column_schema("mongodb", "bigint", NULL, true);

	(void) state;
	assert_null(strstr(pg, "\"integer\""));
	assert_non_null(strstr(pgd, "\"NaN\""));	/* PostgreSQL floats hold NaN */
	assert_non_null(strstr(mongo, "\"integer\""));
	free(pg);
	free(pgd);
	free(mongo);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_mysql_type_maps_to_the_kind_of_its_values),
		cmocka_unit_test(an_enum_lists_its_members_and_the_empty_invalid_value),
		cmocka_unit_test(a_malformed_modifier_is_refused_with_what_is_accepted),
		cmocka_unit_test(a_mysql_table_schema_has_the_sources_json_types),
		cmocka_unit_test(a_not_null_date_is_nullable_since_zero_dates_are_null),
		cmocka_unit_test(other_sources_keep_the_postgresql_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
