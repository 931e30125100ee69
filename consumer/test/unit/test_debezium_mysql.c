/*
 * test_debezium_mysql.c: table-driven test of `format: debezium` for
 * MySQL tables (src/format/debezium_mysql.c): for every MySQL/MariaDB type
 * the source supports, the value as the MySQL source writes it
 * (docs/MYSQL.md, "Values") becomes the value Debezium's MySQL connector
 * writes, and the column's Connect schema field has the connector's type,
 * logical name and parameters, under each handling mode that changes it.
 *
 * Sources of the expected forms (Debezium MySQL connector documentation,
 * "Data type mappings"): [basic] the basic types table (integers by sign,
 * FLOAT32/FLOAT64, BIT(1) boolean, BIT(>1) Bits little-endian with its
 * length, ENUM/SET io.debezium.data.Enum/EnumSet with `allowed`, JSON
 * io.debezium.data.Json, YEAR io.debezium.time.Year); [temporal]
 * "Temporal types" (DATE epoch days, TIME MicroTime or connect's Time,
 * DATETIME(0-3) Timestamp, DATETIME(4-6) MicroTimestamp, TIMESTAMP
 * ZonedTimestamp in UTC, with as many fraction digits as the column's
 * precision since Debezium 2.2, DBZ-5996; a NOT NULL column's zero date
 * is the epoch, the connector's fallback for a required field); [decimal] "Decimal types" and
 * bigint.unsigned.handling.mode; [binary] binary.handling.mode;
 * [spatial] "Spatial types" (Geometry {wkb, srid}).  Expected texts were
 * computed independently (Python's int.to_bytes, datetime, base64).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "debezium.h"
#include "event.h"

typedef struct row
{
	const char *doc;			/* the Debezium doc section */
	const char *type;			/* DATA_TYPE */
	const char *decl;			/* COLUMN_TYPE */
	trib_dbz_opts o;			/* zero = Debezium's defaults */
	const char *in;				/* the MySQL source's JSON value */
	const char *out;			/* Debezium's JSON value */
	const char *schema;			/* the field's schema members */
} row;

#define DEF {0}
#define CONNECT {.time = TRIB_DBZ_TIME_CONNECT}
#define US {.time = TRIB_DBZ_TIME_ADAPTIVE_MICROS}
#define DSTRING {.decimal = TRIB_DBZ_DECIMAL_STRING}
#define DDOUBLE {.decimal = TRIB_DBZ_DECIMAL_DOUBLE}
#define UPRECISE {.bigint_unsigned = TRIB_DBZ_BIGINT_PRECISE}
#define HEX {.binary = TRIB_DBZ_BINARY_HEX}
#define B64 {.binary = TRIB_DBZ_BINARY_BASE64}

#define T(x) "\"type\":\"" x "\""
#define N(t, n) "\"type\":\"" t "\",\"name\":\"" n "\",\"version\":1"

static const row rows[] = {
	{"basic TINYINT", "tinyint", "tinyint(4)", DEF, "-128", "-128", T("int16")},
	{"basic TINYINT UNSIGNED", "tinyint", "tinyint(3) unsigned", DEF, "255", "255", T("int16")},
	{"basic SMALLINT", "smallint", "smallint(6)", DEF, "-32768", "-32768", T("int16")},
	{"basic SMALLINT UNSIGNED", "smallint", "smallint(5) unsigned", DEF, "65535", "65535",
	T("int32")},
	{"basic MEDIUMINT", "mediumint", "mediumint(9)", DEF, "-8388608", "-8388608", T("int32")},
	{"basic MEDIUMINT UNSIGNED", "mediumint", "mediumint(8) unsigned", DEF, "16777215",
	"16777215", T("int32")},
	{"basic INT", "int", "int(11)", DEF, "-2147483648", "-2147483648", T("int32")},
	{"basic INT UNSIGNED", "int", "int(10) unsigned", DEF, "4294967295", "4294967295",
	T("int64")},
	{"basic BIGINT", "bigint", "bigint(20)", DEF, "-9223372036854775808",
	"-9223372036854775808", T("int64")},
	{"decimal BIGINT UNSIGNED long", "bigint", "bigint(20) unsigned", DEF,
	"18446744073709551615", "-1", T("int64")},
	{"decimal BIGINT UNSIGNED long", "bigint", "bigint(20) unsigned", DEF, "42", "42",
	T("int64")},
	{"decimal BIGINT UNSIGNED precise", "bigint", "bigint(20) unsigned", UPRECISE,
		"18446744073709551615", "\"AP//////////\"",
		N("bytes", "org.apache.kafka.connect.data.Decimal")
	",\"parameters\":{\"scale\":\"0\",\"connect.decimal.precision\":\"20\"}"},
	{"basic FLOAT", "float", "float", DEF, "1.5", "1.5", T("float")},
	{"basic DOUBLE", "double", "double", DEF, "0.1", "0.1", T("double")},
	{"basic REAL", "double", "double", DEF, "-2.5e-7", "-2.5e-7", T("double")},
	{"decimal DECIMAL precise", "decimal", "decimal(12,2)", DEF, "1234.50", "\"AeI6\"",
		N("bytes", "org.apache.kafka.connect.data.Decimal")
	",\"parameters\":{\"scale\":\"2\",\"connect.decimal.precision\":\"12\"}"},
	{"decimal DECIMAL precise negative", "decimal", "decimal(12,2) unsigned", DEF, "-1234.50",
		"\"/h3G\"", N("bytes", "org.apache.kafka.connect.data.Decimal")
	",\"parameters\":{\"scale\":\"2\",\"connect.decimal.precision\":\"12\"}"},
	{"decimal DECIMAL string", "decimal", "decimal(12,2)", DSTRING, "1234.50", "\"1234.50\"",
	T("string")},
	{"decimal DECIMAL double", "decimal", "decimal(12,2)", DDOUBLE, "1234.50", "1234.5",
	T("double")},
	{"basic BIT(1)", "bit", "bit(1)", DEF, "\"1\"", "true", T("boolean")},
	{"basic BIT(1)", "bit", "bit(1)", DEF, "\"0\"", "false", T("boolean")},
	{"basic BIT(>1)", "bit", "bit(5)", DEF, "\"10101\"", "\"FQ==\"",
	N("bytes", "io.debezium.data.Bits") ",\"parameters\":{\"length\":\"5\"}"},
	{"basic CHAR", "char", "char(3)", DEF, "\"ab\"", "\"ab\"", T("string")},
	{"basic VARCHAR", "varchar", "varchar(20)", DEF, "\"t\\u00e9\"", "\"t\xc3\xa9\"",
	T("string")},
	{"basic TEXT", "longtext", "longtext", DEF, "\"x\"", "\"x\"", T("string")},
	{"binary BINARY bytes", "binary", "binary(2)", DEF, "\"AAE=\"", "\"AAE=\"", T("bytes")},
	{"binary BLOB base64", "blob", "blob", B64, "\"AAE=\"", "\"AAE=\"", T("string")},
	{"binary VARBINARY hex", "varbinary", "varbinary(8)", HEX, "\"AAE=\"", "\"0001\"",
	T("string")},
	{"basic JSON", "json", "json", DEF, "{\"a\":[1,2]}", "\"{\\\"a\\\":[1,2]}\"",
	N("string", "io.debezium.data.Json")},
	{"basic JSON (MariaDB alias)", "longtext", "json", DEF, "[true,null]",
	"\"[true,null]\"", N("string", "io.debezium.data.Json")},
	{"basic ENUM", "enum", "enum('a','b c','it''s')", DEF, "\"b c\"", "\"b c\"",
		N("string", "io.debezium.data.Enum")
	",\"parameters\":{\"allowed\":\"a,b c,it's\"}"},
	{"basic ENUM with COLUMN_TYPE's escapes", "enum", "enum('e\\\\f','a\\nb','\\'''')", DEF,
		"\"e\\\\f\"", "\"e\\\\f\"", N("string", "io.debezium.data.Enum")
	",\"parameters\":{\"allowed\":\"e\\\\f,a\\nb,''\"}"},
	{"basic SET", "set", "set('x','y')", DEF, "\"x,y\"", "\"x,y\"",
	N("string", "io.debezium.data.EnumSet") ",\"parameters\":{\"allowed\":\"x,y\"}"},
	{"basic YEAR", "year", "year(4)", DEF, "2024", "2024", N("int32", "io.debezium.time.Year")},
	{"temporal DATE", "date", "date", DEF, "\"2024-02-29\"", "19782",
	N("int32", "io.debezium.time.Date")},
	{"temporal DATE connect", "date", "date", CONNECT, "\"2024-02-29\"", "19782",
	N("int32", "org.apache.kafka.connect.data.Date")},
	{"temporal TIME MicroTime", "time", "time", DEF, "\"-838:59:59\"", "-3020399000000",
	N("int64", "io.debezium.time.MicroTime")},
	{"temporal TIME MicroTime", "time", "time(1)", US, "\"12:00:00.5\"", "43200500000",
	N("int64", "io.debezium.time.MicroTime")},
	{"temporal TIME connect", "time", "time(1)", CONNECT, "\"12:00:00.5\"", "43200500",
	N("int32", "org.apache.kafka.connect.data.Time")},
	{"temporal DATETIME Timestamp", "datetime", "datetime", DEF,
	"\"2024-02-29T12:34:56\"", "1709210096000", N("int64", "io.debezium.time.Timestamp")},
	{"temporal DATETIME(3) Timestamp", "datetime", "datetime(3)", DEF,
		"\"2024-02-29T12:34:56.789\"", "1709210096789",
	N("int64", "io.debezium.time.Timestamp")},
	{"temporal DATETIME(6) MicroTimestamp", "datetime", "datetime(6)", DEF,
		"\"2024-02-29T12:34:56.789012\"", "1709210096789012",
	N("int64", "io.debezium.time.MicroTimestamp")},
	{"temporal DATETIME(6) connect", "datetime", "datetime(6)", CONNECT,
		"\"2024-02-29T12:34:56.789012\"", "1709210096789",
	N("int64", "org.apache.kafka.connect.data.Timestamp")},
	{"temporal TIMESTAMP ZonedTimestamp", "timestamp", "timestamp(2)", DEF,
		"\"2024-06-01T10:00:00.25Z\"", "\"2024-06-01T10:00:00.25Z\"",
	N("string", "io.debezium.time.ZonedTimestamp")},
	/* Debezium 2.2 on (DBZ-5996): exactly p fraction digits, zeros kept */
	{"temporal TIMESTAMP(3) padded", "timestamp", "timestamp(3)", DEF,
		"\"2024-06-01T10:00:00.25Z\"", "\"2024-06-01T10:00:00.250Z\"",
	N("string", "io.debezium.time.ZonedTimestamp")},
	{"temporal TIMESTAMP(6) whole second", "timestamp", "timestamp(6)", DEF,
		"\"2001-09-09T01:46:40Z\"", "\"2001-09-09T01:46:40.000000Z\"",
	N("string", "io.debezium.time.ZonedTimestamp")},
	{"temporal TIMESTAMP(6) all digits", "timestamp", "timestamp(6)", DEF,
		"\"2038-01-19T03:14:07.999999Z\"", "\"2038-01-19T03:14:07.999999Z\"",
	N("string", "io.debezium.time.ZonedTimestamp")},
	{"temporal TIMESTAMP no fraction", "timestamp", "timestamp", DEF,
		"\"2024-06-01T10:00:00Z\"", "\"2024-06-01T10:00:00Z\"",
	N("string", "io.debezium.time.ZonedTimestamp")},
	{"temporal TIMESTAMP(3) SQL NULL (nullable) stays null", "timestamp", "timestamp(3)", DEF,
	"null", "null", N("string", "io.debezium.time.ZonedTimestamp")},
	{"temporal DATE SQL NULL (nullable) stays null", "date", "date", DEF, "null", "null",
	N("int32", "io.debezium.time.Date")},
	{"spatial GEOMETRY", "point", "point", DEF,
		"\"0101000000000000000000f03f0000000000000040\"",
		"{\"wkb\":\"AQEAAAAAAAAAAADwPwAAAAAAAABA\",\"srid\":null}",
		"\"type\":\"struct\",\"fields\":[{\"type\":\"bytes\",\"optional\":false,"
		"\"field\":\"wkb\"},{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"}],"
	"\"name\":\"io.debezium.data.geometry.Geometry\",\"version\":1,\"doc\":\"Geometry\""},
	{"basic SQL NULL stays null", "decimal", "decimal(5,2)", DEF, "null", "null",
		N("bytes", "org.apache.kafka.connect.data.Decimal")
	",\"parameters\":{\"scale\":\"2\",\"connect.decimal.precision\":\"5\"}"},
};

/* Check one row: its value and its schema field; prints and counts a
 * mismatch. */
static int
check_row(const row *r, size_t i)
{
	trib_column col = {.name = "v", .type = (char *) r->type, .decl = (char *) r->decl,
	.nullable = true};
	trib_relation rel = {.schema = "shop", .table = "t", .ncolumns = 1, .columns = &col};
	trib_dbz_opts o = r->o;
	trib_dbz   *d;
	trib_strbuf out = {0};
	char		err[256] = "";
	char		want[1024];
	const char *vs = NULL,
			   *ks = NULL;
	int			bad = 0;

	o.money_scale = 2;
	o.schemas_enable = true;
	d = trib_dbz_new(&o);
	snprintf(want, sizeof(want), "{\"v\":%s}", r->out);
	{
		char		image[512];

		snprintf(image, sizeof(image), "{\"v\":%s}", r->in);
		if (!trib_dbz_row(d, "mysql", &rel, image, NULL, &out, err, sizeof(err)) ||
			strcmp(out.data, want) != 0)
		{
			print_error("row %zu [%s] %s %s:\n  expected %s\n  actual   %s %s\n", i, r->doc,
						r->decl, r->in, want, out.data ? out.data : "(error)", err);
			bad++;
		}
	}
	snprintf(want, sizeof(want), "{%s,\"optional\":true,\"field\":\"v\"}", r->schema);
	if (!trib_dbz_schemas(d, "p", "mysql", &rel, NULL, &vs, &ks, NULL, NULL, err, sizeof(err)) ||
		strstr(vs, want) == NULL)
	{
		print_error("row %zu [%s] %s schema:\n  expected %s\n  in       %s %s\n", i, r->doc,
					r->decl, want, vs ? vs : "(error)", err);
		bad++;
	}
	trib_strbuf_free(&out);
	trib_dbz_free(d);
	return bad;
}

/* Every row of the table. */
static void
test_mysql_type_table(void **state)
{
	int			failed = 0;

	(void) state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		failed += check_row(&rows[i], i);
	assert_int_equal(failed, 0);
}

/* A MySQL table's envelope schema names the MySQL connector's Source
 * struct, with its binlog coordinates. */
static void
test_mysql_source_struct(void **state)
{
	trib_column col = {.name = "id", .type = "int", .decl = "int(11)", .pk = true};
	trib_relation rel = {.schema = "shop", .table = "t", .ncolumns = 1, .columns = &col};
	trib_dbz_opts o;
	trib_dbz   *d;
	const char *vs = NULL,
			   *ks = NULL;
	char		err[256];

	(void) state;
	trib_dbz_opts_init(&o);
	d = trib_dbz_new(&o);
	assert_true(trib_dbz_schemas(d, "p", "mysql", &rel, "{\"id\":1}", &vs, &ks, NULL, NULL, err,
								 sizeof(err)));
	assert_non_null(strstr(vs, "\"name\":\"io.debezium.connector.mysql.Source\""));
	assert_non_null(strstr(vs, "{\"type\":\"string\",\"optional\":false,\"field\":\"file\"}"));
	assert_null(strstr(vs, "\"field\":\"lsn\""));
	assert_non_null(strstr(vs, "\"name\":\"p.shop.t.Envelope\""));
	assert_string_equal(ks, "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\","
						"\"optional\":false,\"field\":\"id\"}],\"optional\":false,"
						"\"name\":\"p.shop.t.Key\"}");
	trib_dbz_free(d);
}

/*
 * A NOT NULL DATE, DATETIME or TIMESTAMP column: the source writes a zero
 * date as null; Debezium writes the epoch in the column's encoding (its
 * fallback for a required field), and the field is not optional.
 */
static void
test_mysql_required_zero_dates(void **state)
{
	static const char *const cases[][4] = {
		/* type, decl, value of a zero date, of a real one */
		{"date", "date", "0", "19782"},
		{"datetime", "datetime(3)", "0", "1709210096789"},
		{"datetime", "datetime(6)", "0", "1709210096789000"},
		{"timestamp", "timestamp(3)", "\"1970-01-01T00:00:00Z\"",
		"\"2024-02-29T12:34:56.789Z\""},
	};
	static const char *const real_in[] = {
		"\"2024-02-29\"", "\"2024-02-29T12:34:56.789\"", "\"2024-02-29T12:34:56.789\"",
		"\"2024-02-29T12:34:56.789Z\""
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		trib_column col = {.name = "v", .type = (char *) cases[i][0],
		.decl = (char *) cases[i][1], .nullable = false};
		trib_relation rel = {.schema = "shop", .table = "t", .ncolumns = 1, .columns = &col};
		trib_dbz_opts o;
		trib_dbz   *d;
		trib_strbuf out = {0};
		const char *vs = NULL,
				   *ks = NULL;
		char		image[128],
					want[128],
					err[256] = "";

		trib_dbz_opts_init(&o);
		o.schemas_enable = true;
		d = trib_dbz_new(&o);
		assert_true(trib_dbz_row(d, "mysql", &rel, "{\"v\":null}", NULL, &out, err,
								 sizeof(err)));
		snprintf(want, sizeof(want), "{\"v\":%s}", cases[i][2]);
		assert_string_equal(out.data, want);
		out.len = 0;
		snprintf(image, sizeof(image), "{\"v\":%s}", real_in[i]);
		assert_true(trib_dbz_row(d, "mysql", &rel, image, NULL, &out, err, sizeof(err)));
		snprintf(want, sizeof(want), "{\"v\":%s}", cases[i][3]);
		assert_string_equal(out.data, want);
		assert_true(trib_dbz_schemas(d, "p", "mysql", &rel, NULL, &vs, &ks, NULL, NULL, err, sizeof(err)));
		assert_non_null(strstr(vs, "\"optional\":false,\"field\":\"v\"}"));
		trib_strbuf_free(&out);
		trib_dbz_free(d);
	}
}

/* What the source would never write for a type is an error naming it. */
static void
test_mysql_bad_values(void **state)
{
	static const char *const bad[][3] = {
		{"time", "time", "\"25 hours\""},
		{"year", "year(4)", "\"2024\""},
		{"bigint", "bigint(20) unsigned", "-1"},
		{"point", "point", "\"0g\""},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		trib_column col = {.name = "v", .type = (char *) bad[i][0], .decl = (char *) bad[i][1]};
		trib_relation rel = {.schema = "shop", .table = "t", .ncolumns = 1, .columns = &col};
		trib_dbz_opts o;
		trib_dbz   *d;
		trib_strbuf out = {0};
		char		image[128];
		char		err[256] = "";

		trib_dbz_opts_init(&o);
		d = trib_dbz_new(&o);
		snprintf(image, sizeof(image), "{\"v\":%s}", bad[i][2]);
		assert_false(trib_dbz_row(d, "mysql", &rel, image, NULL, &out, err, sizeof(err)));
		assert_non_null(strstr(err, bad[i][2]));
		trib_strbuf_free(&out);
		trib_dbz_free(d);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mysql_type_table),
		cmocka_unit_test(test_mysql_source_struct),
		cmocka_unit_test(test_mysql_bad_values),
		cmocka_unit_test(test_mysql_required_zero_dates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
