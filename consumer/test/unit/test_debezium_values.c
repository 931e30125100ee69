/*
 * test_debezium_values.c: table-driven test of `format: debezium`'s value
 * encodings (src/format/debezium*.c) over the PostgreSQL types of the
 * Debezium PostgreSQL connector documentation's type-mapping tables x
 * every value of its handling-mode options.
 *
 * Each row is one column of one type, the value as the PostgreSQL source
 * writes it in a row image (docs/PLUGIN.md, "Values"), the options, and
 * the JSON Debezium's connector writes through the JsonConverter
 * (schemas.enable=false), with the documentation section it comes from:
 *   [basic]    "Data type mappings", basic types table
 *   [temporal] "Temporal types" (time.precision.mode)
 *   [decimal]  "Decimal types" (decimal.handling.mode), and Kafka
 *              Connect's Decimal: unscaled BigInteger.toByteArray()
 *   [money]    "Decimal types", money.fraction.digits
 *   [hstore]   "HSTORE types" (hstore.handling.mode)
 *   [binary]   "binary.handling.mode" in "Connector properties"
 *   [interval] basic types table, INTERVAL rows (interval.handling.mode)
 *   [network]  "Network address types"; [geometry] "PostGIS types", Point
 * The expected texts were computed independently (Python's int.to_bytes
 * and datetime), not with the code under test.
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
#include "debezium_int.h"
#include "envelope.h"
#include "event.h"

typedef struct row
{
	const char *doc;			/* the Debezium doc section */
	const char *type;			/* format_type text */
	trib_dbz_opts o;			/* zero = Debezium's defaults */
	const char *in;				/* the source's JSON value */
	const char *out;			/* Debezium's JSON value */
} row;

#define PRECISE {.decimal = TRIB_DBZ_DECIMAL_PRECISE}
#define DSTRING {.decimal = TRIB_DBZ_DECIMAL_STRING}
#define DDOUBLE {.decimal = TRIB_DBZ_DECIMAL_DOUBLE}
#define ADAPTIVE {.time = TRIB_DBZ_TIME_ADAPTIVE}
#define ADAPTIVE_US {.time = TRIB_DBZ_TIME_ADAPTIVE_MICROS}
#define CONNECT {.time = TRIB_DBZ_TIME_CONNECT}
#define DEF {0}

static const row rows[] = {
	/* [basic] */
	{"basic", "boolean", DEF, "true", "true"},
	{"basic BIT(1)", "bit(1)", DEF, "\"1\"", "true"},
	{"basic BIT(1)", "bit(1)", DEF, "\"0\"", "false"},
	{"basic BIT(>1) Bits little-endian", "bit(3)", DEF, "\"101\"", "\"BQ==\""},
	{"basic BIT(>1) Bits little-endian", "bit(10)", DEF, "\"1000000001\"", "\"AQI=\""},
	{"basic BIT VARYING", "bit varying(16)", DEF, "\"101\"", "\"BQ==\""},
	{"basic SMALLINT", "smallint", DEF, "7", "7"},
	{"basic INTEGER", "integer", DEF, "-2147483648", "-2147483648"},
	{"basic BIGINT", "bigint", DEF, "9223372036854775807", "9223372036854775807"},
	{"basic OID", "oid", DEF, "16384", "16384"},
	{"basic REAL", "real", DEF, "1.5", "1.5"},
	{"basic DOUBLE PRECISION", "double precision", DEF, "0.1", "0.1"},
	{"basic CHAR", "character(3)", DEF, "\"ab \"", "\"ab \""},
	{"basic VARCHAR", "character varying(10)", DEF, "\"abc\"", "\"abc\""},
	{"basic TEXT", "text", DEF, "\"t\\u00e9\"", "\"t\xc3\xa9\""},
	/* ZonedTimestamp: exactly the column's fraction digits, zeros kept, 6
	 * when it declares none (PostgresValueConverter's
	 * convertTimestampWithZone passes the column's scale to
	 * ZonedTimestamp.toIsoString, DBZ-6163; 0 writes no fraction) */
	{"basic TIMESTAMPTZ ZonedTimestamp", "timestamp with time zone", DEF,
	"\"2024-06-01T10:00:00Z\"", "\"2024-06-01T10:00:00.000000Z\""},
	{"basic TIMESTAMPTZ ZonedTimestamp padded to 6", "timestamp with time zone", DEF,
	"\"2024-06-01T08:00:00.5Z\"", "\"2024-06-01T08:00:00.500000Z\""},
	{"basic TIMESTAMPTZ ZonedTimestamp all digits", "timestamp with time zone", DEF,
	"\"2038-01-19T03:14:07.999999Z\"", "\"2038-01-19T03:14:07.999999Z\""},
	{"basic TIMESTAMPTZ(3) ZonedTimestamp padded to 3", "timestamp(3) with time zone", DEF,
	"\"2024-06-01T08:00:00.5Z\"", "\"2024-06-01T08:00:00.500Z\""},
	{"basic TIMESTAMPTZ(0) ZonedTimestamp no fraction", "timestamp(0) with time zone", DEF,
	"\"2024-06-01T08:00:00Z\"", "\"2024-06-01T08:00:00Z\""},
	{"basic TIMESTAMPTZ year past 9999", "timestamp with time zone", DEF,
	"\"+21016-11-04T06:51:30Z\"", "\"+21016-11-04T06:51:30.000000Z\""},
	{"basic TIMESTAMPTZ year BC (astronomical)", "timestamp with time zone", DEF,
	"\"-0043-03-15T12:00:00.25Z\"", "\"-0043-03-15T12:00:00.250000Z\""},
	{"basic TIMESTAMPTZ infinity", "timestamp with time zone", DEF,
	"\"infinity\"", "\"infinity\""},
	{"basic TIMESTAMPTZ -infinity", "timestamp(3) with time zone", DEF,
	"\"-infinity\"", "\"-infinity\""},
	{"basic ARRAY of TIMESTAMPTZ padded", "timestamp with time zone[]", DEF,
		"[\"2020-04-01T11:51:02Z\",null]",
	"[\"2020-04-01T11:51:02.000000Z\",null]"},
	/* ZonedTime: not padded (ZonedTime.toIsoString formats with
	 * ISO_OFFSET_TIME, trailing zeros dropped) */
	{"basic TIMETZ ZonedTime (GMT)", "time with time zone", DEF,
	"\"12:00:00+05:30\"", "\"06:30:00Z\""},
	{"basic TIMETZ ZonedTime (GMT)", "time(2) with time zone", DEF,
	"\"23:30:00.25-01:00\"", "\"00:30:00.25Z\""},
	{"basic TIMETZ(6) ZonedTime not padded", "time(6) with time zone", DEF,
	"\"12:00:00.1+00\"", "\"12:00:00.1Z\""},
	{"basic JSON io.debezium.data.Json", "json", DEF, "{\"a\":[1,2]}", "\"{\\\"a\\\":[1,2]}\""},
	{"basic JSONB io.debezium.data.Json", "jsonb", DEF, "{\"a\":[1,2],\"b\":{}}",
	"\"{\\\"a\\\": [1, 2], \\\"b\\\": {}}\""},
	{"basic XML io.debezium.data.Xml", "xml", DEF, "\"<a/>\"", "\"<a/>\""},
	{"basic UUID io.debezium.data.Uuid", "uuid", DEF,
	"\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"", "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\""},
	{"basic LTREE io.debezium.data.Ltree", "ltree", DEF, "\"a.b\"", "\"a.b\""},
	{"basic INT4RANGE", "int4range", DEF, "\"[1,5)\"", "\"[1,5)\""},
	{"basic TSTZRANGE", "tstzrange", DEF, "\"[\\\"2024-01-01 00:00:00+00\\\",)\"",
	"\"[\\\"2024-01-01 00:00:00+00\\\",)\""},
	{"basic ENUM io.debezium.data.Enum", "mood", DEF, "\"happy\"", "\"happy\""},
	{"basic CITEXT", "citext", DEF, "\"Ab\"", "\"Ab\""},
	{"network INET", "inet", DEF, "\"10.0.0.1/8\"", "\"10.0.0.1/8\""},
	{"network CIDR", "cidr", DEF, "\"10.0.0.0/8\"", "\"10.0.0.0/8\""},
	{"network MACADDR", "macaddr", DEF, "\"08:00:2b:01:02:03\"", "\"08:00:2b:01:02:03\""},
	{"network MACADDR8", "macaddr8", DEF, "\"08:00:2b:01:02:03:04:05\"",
	"\"08:00:2b:01:02:03:04:05\""},
	{"geometry POINT io.debezium.data.geometry.Point", "point", DEF, "\"(1,2)\"",
	"{\"x\":1.0,\"y\":2.0,\"wkb\":\"AQEAAAAAAAAAAADwPwAAAAAAAABA\",\"srid\":null}"},

	/* [interval] MicroDuration: 365.25 / 12 days a month */
	{"interval numeric MicroDuration", "interval", DEF, "\"P1Y2M3DT4H5M6.5S\"",
	"37091106500000"},
	{"interval numeric MicroDuration", "interval", DEF, "\"P-1Y-2M\"", "-36817200000000"},
	{"interval numeric MicroDuration", "interval", DEF, "\"PT-0.5S\"", "-500000"},
	{"interval numeric months and negative days", "interval", DEF, "\"P1M-1DT-1H\"",
	"2539800000000"},
	{"interval string io.debezium.time.Interval", "interval",
		{.interval = TRIB_DBZ_INTERVAL_STRING}, "\"P1Y2M3DT4H5M6.5S\"",
	"\"P1Y2M3DT4H5M6.5S\""},
	{"interval string io.debezium.time.Interval", "interval",
	{.interval = TRIB_DBZ_INTERVAL_STRING}, "\"PT0S\"", "\"P0Y0M0DT0H0M0S\""},

	/* [temporal] adaptive (default) */
	{"temporal adaptive DATE io.debezium.time.Date", "date", ADAPTIVE, "\"2024-02-29\"", "19782"},
	{"temporal adaptive DATE", "date", ADAPTIVE, "\"1969-12-31\"", "-1"},
	{"temporal adaptive TIME(1-3) io.debezium.time.Time", "time(3) without time zone",
	ADAPTIVE, "\"12:34:56.789\"", "45296789"},
	{"temporal adaptive TIME(4-6) MicroTime", "time without time zone", ADAPTIVE,
	"\"12:34:56.789012\"", "45296789012"},
	{"temporal adaptive TIMESTAMP(1-3) io.debezium.time.Timestamp",
		"timestamp(3) without time zone", ADAPTIVE, "\"2024-06-01T10:00:00.123\"",
	"1717236000123"},
	{"temporal adaptive TIMESTAMP(4-6) MicroTimestamp", "timestamp without time zone",
	ADAPTIVE, "\"2024-06-01T10:00:00.123456\"", "1717236000123456"},
	/* adaptive_time_microseconds */
	{"temporal adaptive_time_microseconds DATE", "date", ADAPTIVE_US, "\"2024-02-29\"", "19782"},
	{"temporal adaptive_time_microseconds TIME MicroTime", "time(3) without time zone",
	ADAPTIVE_US, "\"12:34:56.789\"", "45296789000"},
	{"temporal adaptive_time_microseconds TIMESTAMP(1-3)", "timestamp(3) without time zone",
	ADAPTIVE_US, "\"2024-06-01T10:00:00.123\"", "1717236000123"},
	{"temporal adaptive_time_microseconds TIMESTAMP(4-6)", "timestamp without time zone",
	ADAPTIVE_US, "\"2024-06-01T10:00:00.123456\"", "1717236000123456"},
	/* connect */
	{"temporal connect DATE org.apache.kafka.connect.data.Date", "date", CONNECT,
	"\"2024-02-29\"", "19782"},
	{"temporal connect TIME org.apache.kafka.connect.data.Time", "time without time zone",
	CONNECT, "\"12:34:56.789012\"", "45296789"},
	{"temporal connect TIMESTAMP org.apache.kafka.connect.data.Timestamp",
		"timestamp without time zone", CONNECT, "\"2024-06-01T10:00:00.123456\"",
	"1717236000123"},
	{"temporal connect TIMESTAMP before the epoch (floor)", "timestamp without time zone",
	CONNECT, "\"1969-12-31T23:59:59.9995\"", "-1"},
	/* "TIMESTAMP type": "+/-infinite values in TIMESTAMP columns ... are
	 * converted to timestamps with value 9223372036825200000 in case of
	 * positive infinity or -9223372036832400000 in case of negative
	 * infinity" (PGStatement.DATE_POSITIVE_INFINITY / _NEGATIVE_ taken as
	 * microseconds, PostgresValueConverter.POSITIVE_INFINITY_INSTANT; the
	 * millisecond types carry the same instant in ms) */
	{"temporal TIMESTAMP infinity MicroTimestamp", "timestamp without time zone", DEF,
	"\"infinity\"", "9223372036825200000"},
	{"temporal TIMESTAMP -infinity MicroTimestamp", "timestamp(6) without time zone", DEF,
	"\"-infinity\"", "-9223372036832400000"},
	{"temporal TIMESTAMP(3) infinity Timestamp (ms)", "timestamp(3) without time zone",
	ADAPTIVE, "\"infinity\"", "9223372036825200"},
	{"temporal connect TIMESTAMP -infinity (ms)", "timestamp without time zone", CONNECT,
	"\"-infinity\"", "-9223372036832400"},
	{"temporal ARRAY of TIMESTAMP with infinity", "timestamp without time zone[]", DEF,
	"[\"infinity\",\"1970-01-01T00:00:00.000001\"]", "[9223372036825200000,1]"},
	/* DATE: the documentation gives no form for infinity; kept as the word
	 * (docs/FORMAT.md, "Where the mode still differs") */
	{"temporal DATE infinity (no documented form)", "date", DEF,
	"\"infinity\"", "\"infinity\""},
	/* edge values: BC (astronomical years, LocalDate.toEpochDay), years
	 * past 9999, time 24:00:00 (the end of the day) */
	{"temporal DATE BC", "date", DEF, "\"-0043-03-15\"", "-735160"},
	{"temporal DATE year 10000", "date", DEF, "\"+10000-01-01\"", "2932897"},
	{"temporal TIMESTAMP BC MicroTimestamp", "timestamp without time zone", DEF,
	"\"-0043-03-15T12:00:00.25\"", "-63517780799750000"},
	{"temporal TIMESTAMP(3) BC Timestamp", "timestamp(3) without time zone", DEF,
	"\"-0043-03-15T12:00:00.25\"", "-63517780799750"},
	{"temporal TIMESTAMP year 10000", "timestamp without time zone", DEF,
	"\"+10000-01-01T00:00:00.000001\"", "253402300800000001"},
	{"temporal TIME 24:00:00 MicroTime", "time without time zone", DEF,
	"\"24:00:00\"", "86400000000"},
	{"temporal TIME(3) 24:00:00 Time", "time(3) without time zone", DEF,
	"\"24:00:00\"", "86400000"},
	{"temporal TIME(0) Time (ms)", "time(0) without time zone", DEF,
	"\"12:00:00\"", "43200000"},
	{"temporal connect TIME 24:00:00", "time without time zone", CONNECT,
	"\"24:00:00\"", "86400000"},
	{"basic TIMETZ ZonedTime moved back across midnight", "time with time zone", DEF,
	"\"00:30:00+01:00\"", "\"23:30:00Z\""},

	/* [decimal] precise (default): Decimal with the column's scale */
	{"decimal precise Decimal scale 2", "numeric(12,2)", PRECISE, "12.50", "\"BOI=\""},
	{"decimal precise negative", "numeric(5,2)", PRECISE, "-1.28", "\"gA==\""},
	{"decimal precise negative, sign byte", "numeric(5,2)", PRECISE, "-1.29", "\"/38=\""},
	{"decimal precise positive, sign byte", "numeric(5,2)", PRECISE, "1.28", "\"AIA=\""},
	{"decimal precise 38 digits", "numeric(38,0)", PRECISE,
	"12345678901234567890123456789012345678", "\"CUmw9vACMxPESZBQ3jjzTg==\""},
	{"decimal precise 38 digits negative", "numeric(38,0)", PRECISE,
	"-12345678901234567890123456789012345678", "\"9rZPCQ/9zOw7tm+vIccMsg==\""},
	{"decimal precise VariableScaleDecimal", "numeric", PRECISE, "12.50",
	"{\"scale\":2,\"value\":\"BOI=\"}"},
	{"decimal precise VariableScaleDecimal zero", "numeric", PRECISE, "0",
	"{\"scale\":0,\"value\":\"AA==\"}"},
	{"decimal precise NaN has no Decimal form", "numeric", PRECISE, "\"NaN\"", "null"},
	/* the 18-digit integer path: fraction digits short of the scale, zero
	 * and negative zero, the 18 and 19 digit edges, more fraction digits
	 * than the scale (trailing zeros) */
	{"decimal precise fewer fraction digits than the scale", "numeric(12,2)", PRECISE,
	"1.5", "\"AJY=\""},
	{"decimal precise negative, fewer fraction digits", "numeric(12,2)", PRECISE,
	"-1.5", "\"/2o=\""},
	{"decimal precise trailing zeros past the scale", "numeric(12,2)", PRECISE,
	"1.500", "\"AJY=\""},
	{"decimal precise zero", "numeric(12,2)", PRECISE, "0.00", "\"AA==\""},
	{"decimal precise negative zero", "numeric(12,2)", PRECISE, "-0.00", "\"AA==\""},
	{"decimal precise zero at a scale past 18 digits", "numeric(38,20)", PRECISE, "0",
	"\"AA==\""},
	{"decimal precise 18 digits", "numeric(18,2)", PRECISE, "9999999999999999.99",
	"\"DeC2s6dj//8=\""},
	{"decimal precise 18 digits negative", "numeric(18,2)", PRECISE,
	"-9999999999999999.99", "\"8h9JTFicAAE=\""},
	{"decimal precise 19 digits", "numeric(19,2)", PRECISE, "99999999999999999.99",
	"\"AIrHIwSJ5///\""},
	{"decimal precise 19 digits by the scale", "numeric(19,1)", PRECISE,
	"123456789012345678", "\"ESIQ9H3pgQw=\""},
	{"decimal precise leading fraction zeros", "numeric(30,22)", PRECISE,
	"0.0000000000000000000012", "\"DA==\""},
	{"decimal precise VariableScaleDecimal zero with a scale", "numeric", PRECISE,
	"0.000", "{\"scale\":3,\"value\":\"AA==\"}"},
	{"decimal precise VariableScaleDecimal negative", "numeric", PRECISE, "-0.5",
	"{\"scale\":1,\"value\":\"+w==\"}"},
	/* string */
	{"decimal string", "numeric(12,2)", DSTRING, "12.50", "\"12.50\""},
	/* "Decimal types": "the connector encodes NaN as either Double.NaN or
	 * the string constant NAN" (SpecialValueDecimal.toString() writes the
	 * special value's name: NAN, POSITIVE_INFINITY, NEGATIVE_INFINITY) */
	{"decimal string NaN is NAN", "numeric", DSTRING, "\"NaN\"", "\"NAN\""},
	{"decimal string Infinity", "numeric(10,2)", DSTRING, "\"Infinity\"",
	"\"POSITIVE_INFINITY\""},
	{"decimal string -Infinity", "numeric", DSTRING, "\"-Infinity\"",
	"\"NEGATIVE_INFINITY\""},
	{"decimal string unconstrained", "numeric", DSTRING,
	"12345678901234567890.123", "\"12345678901234567890.123\""},
	/* double */
	{"decimal double", "numeric(12,2)", DDOUBLE, "12.50", "12.5"},
	{"decimal double integral", "numeric(12,2)", DDOUBLE, "100.00", "100.0"},
	{"decimal double large (Java Double.toString)", "numeric(20,0)", DDOUBLE,
	"10000000000", "1.0E10"},
	{"decimal double small", "numeric", DDOUBLE, "0.0001", "1.0E-4"},
	{"decimal double NaN", "numeric", DDOUBLE, "\"NaN\"", "\"NaN\""},
	/* Double.POSITIVE_INFINITY through the JsonConverter (Jackson quotes
	 * non-finite numbers) */
	{"decimal double Infinity", "numeric(10,2)", DDOUBLE, "\"Infinity\"", "\"Infinity\""},
	{"decimal double -Infinity", "numeric", DDOUBLE, "\"-Infinity\"", "\"-Infinity\""},
	{"decimal precise Infinity has no Decimal form", "numeric(10,2)", PRECISE,
	"\"Infinity\"", "null"},
	/* [money] money.fraction.digits = 2 */
	{"money precise", "money", PRECISE, "12.34", "\"BNI=\""},
	{"money string", "money", DSTRING, "12.34", "\"12.34\""},
	{"money double", "money", DDOUBLE, "12.34", "12.34"},
	{"money precise negative", "money", PRECISE, "-12.34", "\"+y4=\""},

	/* [binary] */
	{"binary bytes (JsonConverter base64)", "bytea", {.binary = TRIB_DBZ_BINARY_BYTES},
	"\"+/8=\"", "\"+/8=\""},
	{"binary base64", "bytea", {.binary = TRIB_DBZ_BINARY_BASE64}, "\"+/8=\"", "\"+/8=\""},
	{"binary base64-url-safe", "bytea", {.binary = TRIB_DBZ_BINARY_BASE64_URL},
	"\"+/8=\"", "\"-_8=\""},
	{"binary hex", "bytea", {.binary = TRIB_DBZ_BINARY_HEX}, "\"+/8=\"", "\"fbff\""},
	{"binary bytes empty", "bytea", DEF, "\"\"", "\"\""},
	{"binary hex empty", "bytea", {.binary = TRIB_DBZ_BINARY_HEX}, "\"\"", "\"\""},

	/* [hstore] */
	{"hstore json io.debezium.data.Json", "hstore", {.hstore = TRIB_DBZ_HSTORE_JSON},
	"\"\\\"a\\\"=>\\\"1\\\", \\\"b\\\"=>NULL\"", "\"{\\\"a\\\":\\\"1\\\",\\\"b\\\":null}\""},
	{"hstore map", "hstore", {.hstore = TRIB_DBZ_HSTORE_MAP},
	"\"\\\"a\\\"=>\\\"1\\\", \\\"b\\\"=>NULL\"", "{\"a\":\"1\",\"b\":null}"},
	{"hstore map, schema-qualified type, escapes", "public.hstore",
		{.hstore = TRIB_DBZ_HSTORE_MAP}, "\"\\\"k\\\\\\\"\\\"=>\\\"v,w\\\"\"",
	"{\"k\\\"\":\"v,w\"}"},

	/* arrays: ARRAY of the element's encoding */
	{"basic ARRAY of INTEGER", "integer[]", DEF, "[1,2]", "[1,2]"},
	{"decimal ARRAY of Decimal", "numeric(5,2)[]", PRECISE, "[1.28,null]", "[\"AIA=\",null]"},
	{"temporal ARRAY of Date", "date[]", DEF, "[[\"1970-01-02\"],[\"1970-01-01\"]]",
	"[[1],[0]]"},
	{"basic ARRAY of TEXT", "text[]", DEF, "[\"a\",null]", "[\"a\",null]"},
	{"basic SQL NULL stays null", "numeric(12,2)", PRECISE, "null", "null"},
};

/* The Debezium form of {"v": in} for a column of type `type`. */
static char *
convert(const trib_dbz_opts *o, const char *type, const char *in, const char *nulls,
		char *errbuf, size_t errlen)
{
	trib_column col = {.name = "v", .type = (char *) type};
	trib_relation rel = {.schema = "public", .table = "t", .ncolumns = 1, .columns = &col};
	trib_dbz   *d = trib_dbz_new(o);
	trib_strbuf out = {0};
	char		image[512];
	bool		ok;

	snprintf(image, sizeof(image), "{\"v\":%s}", in);
	ok = trib_dbz_row(d, "postgresql", &rel, image, nulls, &out, errbuf, errlen);
	trib_dbz_free(d);
	if (!ok)
	{
		trib_strbuf_free(&out);
		return NULL;
	}
	return trib_strbuf_finish(&out);
}

/* Every row of the table. */
static void
test_type_table(void **state)
{
	int			failed = 0;

	(void) state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
	{
		trib_dbz_opts o = rows[i].o;
		char		err[256] = "";
		char		want[512];
		char	   *got;

		o.money_scale = 2;
		snprintf(want, sizeof(want), "{\"v\":%s}", rows[i].out);
		got = convert(&o, rows[i].type, rows[i].in, NULL, err, sizeof(err));
		if (got == NULL || strcmp(got, want) != 0)
		{
			print_error("row %zu [%s] %s %s:\n  expected %s\n  actual   %s %s\n", i,
						rows[i].doc, rows[i].type, rows[i].in, want,
						got ? got : "(error)", err);
			failed++;
		}
		free(got);
	}
	assert_int_equal(failed, 0);
}

/* A json column's JSON null is the string "null"; SQL NULL stays null. */
static void
test_json_null(void **state)
{
	trib_dbz_opts o;
	char		err[256];
	char	   *a;
	char	   *b;

	(void) state;
	trib_dbz_opts_init(&o);
	a = convert(&o, "jsonb", "null", "[\"v\"]", err, sizeof(err));
	b = convert(&o, "jsonb", "null", NULL, err, sizeof(err));
	assert_string_equal(a, "{\"v\":\"null\"}");
	assert_string_equal(b, "{\"v\":null}");
	free(a);
	free(b);
}

/* A value that is not what the source writes is an error naming it. */
static void
test_bad_value(void **state)
{
	trib_dbz_opts o;
	char		err[256] = "";

	(void) state;
	trib_dbz_opts_init(&o);
	assert_null(convert(&o, "date", "\"yesterday\"", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "\"yesterday\""));
	assert_non_null(strstr(err, "date"));
	assert_non_null(strstr(err, "public.t.v"));
	/* more fraction digits than the timestamptz column has */
	assert_null(convert(&o, "timestamp(3) with time zone", "\"2024-06-01T08:00:00.1234Z\"",
						NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "timestamptz"));
}

/* The relation's coltypes are cached, and worked out again when the
 * relation's version changes (ALTER TABLE ... TYPE). */
static void
test_cache_invalidation(void **state)
{
	trib_column col = {.name = "v", .type = "numeric(5,2)"};
	trib_relation rel = {.schema = "public", .table = "t", .ncolumns = 1, .columns = &col,
	.version = 1};
	trib_dbz_opts o;
	trib_dbz   *d;
	trib_strbuf out = {0};
	char		err[256];

	(void) state;
	trib_dbz_opts_init(&o);
	d = trib_dbz_new(&o);
	assert_true(trib_dbz_row(d, "postgresql", &rel, "{\"v\":1.28}", NULL, &out, err, sizeof(err)));
	assert_string_equal(out.data, "{\"v\":\"AIA=\"}");
	col.type = "text";
	rel.version = 2;
	out.len = 0;
	assert_true(trib_dbz_row(d, "postgresql", &rel, "{\"v\":\"x\"}", NULL, &out, err, sizeof(err)));
	assert_string_equal(out.data, "{\"v\":\"x\"}");
	trib_strbuf_free(&out);
	trib_dbz_free(d);
}

/* A connector without a Debezium mode yet passes its values as is. */
static void
test_unmapped_connector(void **state)
{
	(void) state;
	assert_non_null(trib_dbz_mapper_for("postgresql"));
	assert_null(trib_dbz_mapper_for("mongodb"));
}

static int64_t
fixed_clock(void)
{
	return 1700000001000LL;
}

/* Name an event of table public.<table> of database shop. */
static void
mkev(trib_event *ev, trib_op op, const char *table, const trib_relation *rel)
{
	ev->op = op;
	ev->connector = "postgresql";
	ev->db = "shop";
	ev->schema = "public";
	ev->table = table;
	ev->rel = rel;
}

/* An envelope in Debezium mode with Debezium's defaults, prefix "shop"
 * and the fixed clock; eo and dbz must outlive it. */
static trib_envelope *
mkenv(trib_envelope_opts *eo, trib_dbz_opts *dbz, bool schemas, bool txmeta)
{
	char		err[256];
	trib_envelope *env;

	trib_dbz_opts_init(dbz);
	dbz->schemas_enable = schemas;
	trib_envelope_opts_init(eo);
	eo->topic_prefix = "shop";
	eo->clock_ms = fixed_clock;
	eo->debezium = dbz;
	eo->transaction_metadata = txmeta;
	env = trib_envelope_new(eo, err, sizeof(err));
	assert_non_null(env);
	return env;
}

/* The whole record in Debezium mode: converted values and key, ts_us and
 * ts_ns beside both ts_ms (the source's from the commit time's
 * microseconds), sequence with the previous transaction's commit LSN
 * first, the TOAST placeholder; and the tributary format unchanged by the
 * hook. */
static void
test_envelope_debezium(void **state)
{
	trib_column cols[] = {
		{.name = "id", .type = "numeric(5,0)", .pk = true},
		{.name = "d", .type = "date"},
		{.name = "big", .type = "text"},
	};
	trib_relation rel = {.schema = "public", .table = "t", .ncolumns = 3, .columns = cols};
	trib_event *ev = trib_event_new();
	trib_envelope_opts eo;
	trib_dbz_opts dbz;
	trib_envelope *env;
	const trib_record *r;
	size_t		n;
	char		err[256];

	(void) state;
	mkev(ev, TRIB_OP_UPDATE, "t", &rel);
	ev->after = strdup("{\"id\":128,\"d\":\"1970-01-02\"}");
	ev->key = strdup("{\"id\":128}");
	ev->unchanged = strdup("[\"big\"]");
	ev->txid = 741;
	ev->ts_ms = 1700000000123LL;
	ev->ts_us = 1700000000123457LL;
	ev->prev_commit_lsn = 0xE0;
	ev->pos.commit_lsn = 0x100;
	ev->pos.lsn = 0xF0;
	env = mkenv(&eo, &dbz, false, false);
	r = trib_envelope_encode(env, ev, &n, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(n, 1);
	assert_string_equal(r[0].key, "{\"id\":\"AIA=\"}");
	assert_string_equal(r[0].value,
						"{\"before\":null,\"after\":{\"id\":\"AIA=\",\"d\":1,"
						"\"big\":\"__debezium_unavailable_value\"},"
						"\"source\":{\"version\":\"tributary-0.1\",\"connector\":\"postgresql\","
						"\"name\":\"shop\",\"ts_ms\":1700000000123,\"ts_us\":1700000000123457,"
						"\"ts_ns\":1700000000123457000,\"snapshot\":\"false\",\"db\":\"shop\","
						"\"sequence\":\"[\\\"224\\\",\\\"240\\\"]\",\"schema\":\"public\","
						"\"table\":\"t\",\"txId\":741,\"lsn\":240,\"xmin\":null},\"op\":\"u\","
						"\"ts_ms\":1700000001000,\"ts_us\":1700000001000000,"
						"\"ts_ns\":1700000001000000000,\"transaction\":null}");

	/* the transaction before unknown (the first after a restart inside a
	 * transaction): null, as Debezium writes an unknown LSN */
	ev->prev_commit_lsn = 0;
	r = trib_envelope_encode(env, ev, &n, err, sizeof(err));
	assert_non_null(r);
	assert_non_null(strstr(r[0].value, "\"sequence\":\"[null,\\\"240\\\"]\""));
	trib_envelope_free(env);

	/* format: tributary: the same event keeps its own values, and its
	 * sequence the event's own commit LSN */
	eo.debezium = NULL;
	env = trib_envelope_new(&eo, err, sizeof(err));
	r = trib_envelope_encode(env, ev, &n, err, sizeof(err));
	assert_non_null(r);
	assert_string_equal(r[0].key, "{\"id\":128}");
	assert_non_null(strstr(r[0].value, "\"after\":{\"id\":128,\"d\":\"1970-01-02\","));
	assert_null(strstr(r[0].value, "ts_us"));
	assert_non_null(strstr(r[0].value, "\"sequence\":\"[\\\"256\\\",\\\"240\\\"]\""));
	trib_envelope_free(env);
	trib_event_free(ev);
}

/* A keyed delete in Debezium mode still gets its tombstone, with the
 * converted key. */
static void
test_envelope_debezium_tombstone(void **state)
{
	trib_column col = {.name = "id", .type = "numeric(5,0)", .pk = true};
	trib_relation rel = {.schema = "public", .table = "t", .ncolumns = 1, .columns = &col};
	trib_event *ev = trib_event_new();
	trib_envelope_opts eo;
	trib_dbz_opts dbz;
	trib_envelope *env;
	const trib_record *r;
	size_t		n;
	char		err[256];

	(void) state;
	mkev(ev, TRIB_OP_DELETE, "t", &rel);
	ev->before = strdup("{\"id\":1}");
	ev->key = strdup("{\"id\":1}");
	env = mkenv(&eo, &dbz, false, false);
	r = trib_envelope_encode(env, ev, &n, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(n, 2);
	assert_string_equal(r[0].key, "{\"id\":\"AQ==\"}");
	assert_non_null(strstr(r[0].value, "\"before\":{\"id\":\"AQ==\"}"));
	assert_string_equal(r[1].key, "{\"id\":\"AQ==\"}");
	assert_null(r[1].value);
	trib_envelope_free(env);
	trib_event_free(ev);
}

/* schemas.enable: key and value are {"schema":S,"payload":P}; S names
 * the structs <prefix>.<schema>.<table>.Value/.Key/.Envelope and carries
 * the logical types and parameters of each column's encoding (Debezium
 * doc: "Change event keys", "Change event values", and the type tables;
 * Connect's Decimal "scale" and "connect.decimal.precision"); the
 * rendered schema is cached per relation version. */
static void
test_envelope_schemas(void **state)
{
	trib_column cols[] = {
		{.name = "id", .type = "integer", .pk = true, .identity = true},
		{.name = "amount", .type = "numeric(12,2)", .nullable = true},
		{.name = "at", .type = "timestamp(3) without time zone", .nullable = true},
		{.name = "doc", .type = "jsonb", .nullable = true},
		{.name = "tags", .type = "text[]", .nullable = true},
	};
	trib_relation rel = {.schema = "public", .table = "orders", .ncolumns = 5,
	.columns = cols, .version = 1};
	trib_event *ev = trib_event_new();
	trib_envelope_opts eo;
	trib_dbz_opts dbz;
	trib_envelope *env;
	const trib_record *r;
	size_t		n;
	char		err[256];
	const char *vs;
	char	   *first;

	(void) state;
	mkev(ev, TRIB_OP_CREATE, "orders", &rel);
	ev->after = strdup("{\"id\":1,\"amount\":12.50,\"at\":\"1970-01-01T00:00:01\","
					   "\"doc\":{\"a\":1},\"tags\":[\"x\"]}");
	ev->key = strdup("{\"id\":1}");
	env = mkenv(&eo, &dbz, true, false);
	r = trib_envelope_encode(env, ev, &n, err, sizeof(err));
	assert_non_null(r);
	assert_string_equal(r[0].key,
						"{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\","
						"\"optional\":false,\"field\":\"id\"}],\"optional\":false,"
						"\"name\":\"shop.public.orders.Key\"},\"payload\":{\"id\":1}}");
	vs = r[0].value;
	assert_true(strncmp(vs, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":"
						"\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,"
						"\"field\":\"id\"},{\"type\":\"bytes\",\"name\":"
						"\"org.apache.kafka.connect.data.Decimal\",\"version\":1,"
						"\"parameters\":{\"scale\":\"2\",\"connect.decimal.precision\":\"12\"},"
						"\"optional\":true,\"field\":\"amount\"},{\"type\":\"int64\","
						"\"name\":\"io.debezium.time.Timestamp\",\"version\":1,"
						"\"optional\":true,\"field\":\"at\"},{\"type\":\"string\",\"name\":"
						"\"io.debezium.data.Json\",\"version\":1,\"optional\":true,"
						"\"field\":\"doc\"},{\"type\":\"array\",\"items\":{\"type\":"
						"\"string\",\"optional\":true},\"optional\":true,\"field\":\"tags\"}],"
						"\"optional\":true,\"name\":\"shop.public.orders.Value\","
						"\"field\":\"before\"},", 600) == 0);
	assert_non_null(strstr(vs, "\"name\":\"io.debezium.connector.postgresql.Source\""));
	assert_non_null(strstr(vs, "\"name\":\"shop.public.orders.Envelope\",\"version\":1},"
						   "\"payload\":{\"before\":null,\"after\":{\"id\":1,"
						   "\"amount\":\"BOI=\",\"at\":1000,\"doc\":\"{\\\"a\\\": 1}\","
						   "\"tags\":[\"x\"]},"));
	assert_true(vs[strlen(vs) - 1] == '}' && vs[strlen(vs) - 2] == '}');

	/* cached: the same text for the next record; re-rendered when the
	 * relation changes */
	first = strdup(r[0].value);
	r = trib_envelope_encode(env, ev, &n, err, sizeof(err));
	assert_string_equal(r[0].value, first);
	cols[1].type = "numeric(12,4)";
	rel.version = 2;
	r = trib_envelope_encode(env, ev, &n, err, sizeof(err));
	assert_non_null(strstr(r[0].value, "\"scale\":\"4\""));
	assert_non_null(strstr(r[0].value, "\"amount\":\"AehI\""));
	free(first);
	trib_envelope_free(env);
	trib_event_free(ev);
}

/* Domains and enums (Debezium doc: "Domain types", and ENUM in the type
 * table): a domain column is mapped by its base type, which the relation
 * record names (trib_column.base_type): schema and value are those of a
 * numeric(10,2) column, also for an array of the domain; an enum column
 * (also a domain over an enum, or an array of enums) is a string named
 * io.debezium.data.Enum with its labels in sort order in `allowed`, and
 * its value the label.  Without labels (another source) an enum stays a
 * plain string. */
static void
test_envelope_schemas_domains_enums(void **state)
{
	char	   *labels[] = {"low", "me,dium", "high"};
	trib_column cols[] = {
		{.name = "id", .type = "integer", .pk = true, .identity = true},
		{.name = "amount", .type = "dd_money", .base_type = "numeric(10,2)",
		.nullable = true},
		{.name = "amounts", .type = "dd_money[]", .base_type = "numeric(10,2)[]",
		.nullable = true},
		{.name = "lvl", .type = "dd_level", .enum_labels = labels,
		.nenum_labels = 3, .nullable = true},
		{.name = "lvl_dom", .type = "dd_level_dom", .base_type = "dd_level",
		.enum_labels = labels, .nenum_labels = 3},
		{.name = "lvls", .type = "dd_level[]", .enum_labels = labels,
		.nenum_labels = 3, .nullable = true},
		{.name = "short", .type = "dd_short", .base_type = "character varying(8)",
		.nullable = true},
	};
	trib_relation rel = {.schema = "public", .table = "dd", .ncolumns = 7,
	.columns = cols, .version = 1};
	trib_event *ev = trib_event_new();
	trib_envelope_opts eo;
	trib_dbz_opts dbz;
	trib_envelope *env;
	const trib_record *r;
	size_t		n;
	char		err[256];
	static const char enum_schema[] =
		"\"type\":\"string\",\"name\":\"io.debezium.data.Enum\",\"version\":1,"
		"\"parameters\":{\"allowed\":\"low,me,dium,high\"}";

	(void) state;
	mkev(ev, TRIB_OP_CREATE, "dd", &rel);
	ev->after = strdup("{\"id\":1,\"amount\":12.50,\"amounts\":[1.50,null],"
					   "\"lvl\":\"low\",\"lvl_dom\":\"high\",\"lvls\":[\"me,dium\"],"
					   "\"short\":\"abc\"}");
	ev->key = strdup("{\"id\":1}");
	env = mkenv(&eo, &dbz, true, false);
	r = trib_envelope_encode(env, ev, &n, err, sizeof(err));
	assert_non_null(r);
	assert_non_null(strstr(r[0].value,
						   "{\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect.data.Decimal\","
						   "\"version\":1,\"parameters\":{\"scale\":\"2\","
						   "\"connect.decimal.precision\":\"10\"},\"optional\":true,"
						   "\"field\":\"amount\"}"));
	assert_non_null(strstr(r[0].value,
						   "{\"type\":\"array\",\"items\":{\"type\":\"bytes\",\"name\":"
						   "\"org.apache.kafka.connect.data.Decimal\",\"version\":1,"
						   "\"parameters\":{\"scale\":\"2\",\"connect.decimal.precision\":"
						   "\"10\"},\"optional\":true},\"optional\":true,\"field\":\"amounts\"}"));
	{
		char		want[512];

		snprintf(want, sizeof(want), "{%s,\"optional\":true,\"field\":\"lvl\"}",
				 enum_schema);
		assert_non_null(strstr(r[0].value, want));
		snprintf(want, sizeof(want), "{%s,\"optional\":false,\"field\":\"lvl_dom\"}",
				 enum_schema);
		assert_non_null(strstr(r[0].value, want));
		snprintf(want, sizeof(want), "{\"type\":\"array\",\"items\":{%s,"
				 "\"optional\":true},\"optional\":true,\"field\":\"lvls\"}", enum_schema);
		assert_non_null(strstr(r[0].value, want));
	}
	assert_non_null(strstr(r[0].value, "{\"type\":\"string\",\"optional\":true,"
						   "\"field\":\"short\"}"));
	/* the values: Decimal bytes (1250 -> "BOI=", 150 -> "AJY="), labels */
	assert_non_null(strstr(r[0].value, "\"after\":{\"id\":1,\"amount\":\"BOI=\","
						   "\"amounts\":[\"AJY=\",null],\"lvl\":\"low\",\"lvl_dom\":\"high\","
						   "\"lvls\":[\"me,dium\"],\"short\":\"abc\"}"));
	trib_envelope_free(env);

	/* the same columns without base types and labels: the domains'
	 * unknown names are strings, the values pass as written */
	for (int i = 0; i < 7; i++)
	{
		cols[i].base_type = NULL;
		cols[i].enum_labels = NULL;
		cols[i].nenum_labels = 0;
	}
	rel.version = 2;
	env = mkenv(&eo, &dbz, true, false);
	r = trib_envelope_encode(env, ev, &n, err, sizeof(err));
	assert_non_null(r);
	assert_null(strstr(r[0].value, "\"allowed\":\"low"));
	assert_non_null(strstr(r[0].value, "{\"type\":\"string\",\"optional\":true,"
						   "\"field\":\"lvl\"}"));
	assert_non_null(strstr(r[0].value, "{\"type\":\"string\",\"optional\":true,"
						   "\"field\":\"amount\"}"));
	assert_non_null(strstr(r[0].value, "\"amount\":12.50,"));
	trib_envelope_free(env);
	trib_event_free(ev);
}

/* Event I (0, 1, 2) of transaction 741, committed at 0x100: an insert
 * into table a, b, a; the last one ends the transaction. */
static trib_event *
tx_event(int i)
{
	static const char *const tables[] = {"a", "b", "a"};
	trib_event *ev = trib_event_new();

	mkev(ev, TRIB_OP_CREATE, tables[i], NULL);
	ev->after = strdup("{\"id\":1}");
	ev->txid = 741;
	ev->ts_ms = 1700000000123LL;
	ev->pos.commit_lsn = 0x100;
	ev->pos.seq = (uint32_t) i;
	ev->last_in_tx = i == 2;
	return ev;
}

/* The END record of tx_event's transaction. */
static const char tx_end[] = "{\"status\":\"END\",\"id\":\"741:256\","
	"\"event_count\":3,\"data_collections\":["
	"{\"data_collection\":\"public.a\",\"event_count\":2},"
	"{\"data_collection\":\"public.b\",\"event_count\":1}],"
	"\"ts_ms\":1700000000123}";

/* provide.transaction.metadata (Debezium doc: "Transaction metadata"):
 * a BEGIN record before a transaction's first record and an END record
 * with event_count and data_collections after its last, on
 * <prefix>.transaction keyed by the transaction id; each data record's
 * transaction block has id, total_order and data_collection_order. */
static void
test_envelope_transaction_topic(void **state)
{
	trib_envelope_opts eo;
	trib_dbz_opts dbz;
	trib_envelope *env;
	const trib_record *r;
	size_t		n;
	char		err[256];

	(void) state;
	env = mkenv(&eo, &dbz, false, true);
	for (int i = 0; i < 3; i++)
	{
		trib_event *ev = tx_event(i);

		r = trib_envelope_encode(env, ev, &n, err, sizeof(err));
		assert_non_null(r);
		if (i == 0)
		{
			assert_int_equal(n, 2);
			assert_string_equal(r[0].topic, "shop.transaction");
			assert_string_equal(r[0].key, "{\"id\":\"741:256\"}");
			assert_string_equal(r[0].value, "{\"status\":\"BEGIN\",\"id\":\"741:256\","
								"\"event_count\":null,\"data_collections\":null,"
								"\"ts_ms\":1700000000123}");
			assert_non_null(strstr(r[1].value, "\"transaction\":{\"id\":\"741:256\","
								   "\"total_order\":1,\"data_collection_order\":1}"));
		}
		else if (i == 1)
			assert_int_equal(n, 1);
		else
		{
			assert_int_equal(n, 2);
			assert_non_null(strstr(r[0].value, "\"total_order\":3,\"data_collection_order\":2}"));
			assert_string_equal(r[1].topic, "shop.transaction");
			assert_string_equal(r[1].value, tx_end);
		}
		trib_event_free(ev);
	}
	trib_envelope_free(env);
}

/* A transaction cut by a restart: the first envelope's state, given to a
 * fresh one, continues it without a second BEGIN and the END counts the
 * events written before the restart too (what the transactional Kafka
 * sink stores with its checkpoint, e2e 72). */
static void
test_envelope_transaction_resume(void **state)
{
	trib_envelope_opts eo;
	trib_dbz_opts dbz;
	trib_envelope *env;
	const trib_record *r = NULL;
	size_t		n = 0;
	char		err[256];
	char	   *saved = NULL;

	(void) state;
	env = mkenv(&eo, &dbz, false, true);
	assert_null(trib_envelope_tx_state(env));
	for (int i = 0; i < 3; i++)
	{
		trib_event *ev;

		if (i == 2)
		{
			/* the restart: a new envelope, resumed from the saved state */
			trib_envelope_free(env);
			env = mkenv(&eo, &dbz, false, true);
			assert_true(trib_envelope_tx_resume(env, saved));
			free(saved);
		}
		ev = tx_event(i);
		r = trib_envelope_encode(env, ev, &n, err, sizeof(err));
		assert_non_null(r);
		if (i == 1)
			saved = trib_envelope_tx_state(env);
		trib_event_free(ev);
	}
	/* no BEGIN again: the row record, then the END of all three */
	assert_int_equal(n, 2);
	assert_string_equal(r[1].value, tx_end);
	/* after the END nothing is open */
	assert_null(trib_envelope_tx_state(env));
	assert_false(trib_envelope_tx_resume(env, "{\"txid\":-1}"));
	/* a collection's count is a non-negative integer like the totals (a
	 * negative one was taken, wrapped, and written as a state that did not
	 * read back: fuzz_checkpoint); counts beyond 2^63 read back */
	assert_false(trib_envelope_tx_resume(env, "{\"txid\":7,\"commit_lsn\":1,\"total\":3,"
										 "\"collections\":[[\"public.t\",-2]]}"));
	assert_false(trib_envelope_tx_resume(env, "{\"txid\":7,\"commit_lsn\":1,\"total\":3,"
										 "\"collections\":[[\"public.t\",1.5]]}"));
	assert_false(trib_envelope_tx_resume(env, "{\"txid\":18446744073709551616,\"commit_lsn\":1,"
										 "\"total\":3,\"collections\":[]}"));
	{
		const char *big = "{\"txid\":18446744073709551615,\"commit_lsn\":1,\"total\":3,"
			"\"collections\":[[\"public.t\",18446744073709551615]]}";
		char	   *again;

		assert_true(trib_envelope_tx_resume(env, big));
		again = trib_envelope_tx_state(env);
		assert_non_null(again);
		assert_string_equal(again, big);
		free(again);
	}
	trib_envelope_free(env);
}

/* tx_event(i) through env: its records (*n of them). */
static const trib_record *
tx_encode(trib_envelope *env, int i, size_t *n)
{
	trib_event *ev = tx_event(i);
	const trib_record *r;
	char		err[256];

	r = trib_envelope_encode(env, ev, n, err, sizeof(err));
	trib_event_free(ev);
	return r;
}

/* The same cut through a sink's checkpoint document (the Kafka sink's
 * record): the envelope writes its member into the document, keeps what a
 * document read back holds, and resumes it; a document without the member
 * resumes nothing, and an unreadable one is refused (BEGIN again). */
static void
test_envelope_transaction_checkpoint(void **state)
{
	trib_envelope_opts eo;
	trib_dbz_opts dbz;
	trib_envelope *env;
	const trib_record *r;
	size_t		n = 0;
	yajl_gen	g = yajl_gen_alloc(NULL);
	const unsigned char *doc;
	size_t		len;
	yajl_val	root;

	(void) state;
	env = mkenv(&eo, &dbz, false, true);
	yajl_gen_map_open(g);
	trib_envelope_tx_checkpoint(env, g);	/* nothing open: no member */
	assert_non_null(tx_encode(env, 0, &n));
	assert_non_null(tx_encode(env, 1, &n));
	trib_envelope_tx_checkpoint(env, g);
	yajl_gen_map_close(g);
	assert_int_equal(yajl_gen_get_buf(g, &doc, &len), yajl_gen_status_ok);
	assert_string_equal((const char *) doc, "{\"dbz_tx\":\"{\\\"txid\\\":741,"
						"\\\"commit_lsn\\\":256,\\\"total\\\":2,\\\"collections\\\":"
						"[[\\\"public.a\\\",1],[\\\"public.b\\\",1]]}\"}");
	root = yajl_tree_parse((const char *) doc, NULL, 0);
	assert_non_null(root);
	trib_envelope_free(env);

	/* the restart: read back, resumed once the position is settled */
	env = mkenv(&eo, &dbz, false, true);
	trib_envelope_tx_checkpoint_read(env, root);
	assert_true(trib_envelope_tx_checkpoint_resume(env));
	r = tx_encode(env, 2, &n);
	assert_int_equal(n, 2);
	assert_string_equal(r[1].value, tx_end);
	/* kept once: nothing left to resume */
	assert_true(trib_envelope_tx_checkpoint_resume(env));
	yajl_tree_free(root);

	/* a document without the member replaces the kept one: nothing */
	root = yajl_tree_parse("{\"dbz_tx\":\"{\\\"txid\\\":-1}\"}", NULL, 0);
	trib_envelope_tx_checkpoint_read(env, root);
	yajl_tree_free(root);
	root = yajl_tree_parse("{\"id\":\"0/1:2\"}", NULL, 0);
	trib_envelope_tx_checkpoint_read(env, root);
	yajl_tree_free(root);
	assert_true(trib_envelope_tx_checkpoint_resume(env));
	/* an unreadable one is refused */
	root = yajl_tree_parse("{\"dbz_tx\":\"{\\\"txid\\\":-1}\"}", NULL, 0);
	trib_envelope_tx_checkpoint_read(env, root);
	yajl_tree_free(root);
	assert_false(trib_envelope_tx_checkpoint_resume(env));
	trib_envelope_free(env);
	yajl_gen_free(g);
}

/*
 * The unchanged-TOAST placeholder by column type, table-driven: Debezium's
 * PostgreSQL connector writes unavailable.value.placeholder as the string,
 * but as its bytes for bytea (in binary.handling.mode) and as a
 * one-element list for text arrays (its UnchangedToastedPlaceholder).
 * The expected texts were computed with Python's base64 and bytes.hex().
 */
static void
test_toast_placeholder(void **state)
{
	static const struct
	{
		const char *type;
		trib_dbz_binary binary;
		const char *out;
	}			rows[] = {
		{"text", TRIB_DBZ_BINARY_BYTES, "\"__debezium_unavailable_value\""},
		{"jsonb", TRIB_DBZ_BINARY_BYTES, "\"__debezium_unavailable_value\""},
		{"bytea", TRIB_DBZ_BINARY_BYTES, "\"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==\""},
		{"bytea", TRIB_DBZ_BINARY_BASE64, "\"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==\""},
		{"bytea", TRIB_DBZ_BINARY_BASE64_URL, "\"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==\""},
		{"bytea", TRIB_DBZ_BINARY_HEX,
		"\"5f5f646562657a69756d5f756e617661696c61626c655f76616c7565\""},
		{"text[]", TRIB_DBZ_BINARY_BYTES, "[\"__debezium_unavailable_value\"]"},
		{"character varying(20)[]", TRIB_DBZ_BINARY_BYTES,
		"[\"__debezium_unavailable_value\"]"},
		/* arrays of numbers: the string (no list of a number form) */
		{"integer[]", TRIB_DBZ_BINARY_BYTES, "\"__debezium_unavailable_value\""},
	};
	int			failed = 0;

	(void) state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
	{
		trib_column col = {.name = "v", .type = (char *) rows[i].type};
		trib_relation rel = {.schema = "public", .table = "t", .ncolumns = 1, .columns = &col};
		trib_dbz_opts o;
		trib_dbz   *d;
		trib_strbuf out = {0};

		trib_dbz_opts_init(&o);
		o.binary = rows[i].binary;
		d = trib_dbz_new(&o);
		trib_dbz_placeholder(d, "postgresql", &rel, "v", "__debezium_unavailable_value", &out);
		if (out.data == NULL || strcmp(out.data, rows[i].out) != 0)
		{
			print_error("row %zu %s: expected %s, actual %s\n", i, rows[i].type,
						rows[i].out, out.data ? out.data : "(nothing)");
			failed++;
		}
		trib_strbuf_free(&out);
		trib_dbz_free(d);
	}
	assert_int_equal(failed, 0);
}

/* The envelope puts the typed placeholder into an update's after. */
static void
test_envelope_toast_bytea(void **state)
{
	trib_column cols[] = {
		{.name = "id", .type = "integer", .pk = true},
		{.name = "blob", .type = "bytea"},
		{.name = "tags", .type = "text[]"},
	};
	trib_relation rel = {.schema = "public", .table = "t", .ncolumns = 3, .columns = cols};
	trib_event *ev = trib_event_new();
	trib_envelope_opts eo;
	trib_dbz_opts dbz;
	trib_envelope *env;
	const trib_record *r;
	size_t		n;
	char		err[256];

	(void) state;
	mkev(ev, TRIB_OP_UPDATE, "t", &rel);
	ev->after = strdup("{\"id\":1}");
	ev->key = strdup("{\"id\":1}");
	ev->unchanged = strdup("[\"blob\",\"tags\"]");
	env = mkenv(&eo, &dbz, false, false);
	r = trib_envelope_encode(env, ev, &n, err, sizeof(err));
	assert_non_null(r);
	assert_non_null(strstr(r[0].value, "\"after\":{\"id\":1,"
						   "\"blob\":\"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==\","
						   "\"tags\":[\"__debezium_unavailable_value\"]}"));
	trib_envelope_free(env);
	trib_event_free(ev);
}

/* Debezium mode, MySQL source: the source block of Debezium's MySQL
 * connector (its "Change event values" example: version, connector,
 * name, ts_ms, snapshot, db, table, server_id, gtid, file, pos, row,
 * thread, query; sequence is null): no schema, txId, lsn or xmin. */
static void
test_envelope_mysql_source(void **state)
{
	trib_event *ev = trib_event_new();
	trib_envelope_opts eo;
	trib_dbz_opts dbz;
	trib_envelope *env;
	const trib_record *r;
	size_t		n;
	char		err[256];

	(void) state;
	mkev(ev, TRIB_OP_CREATE, "customers", NULL);
	ev->connector = "mysql";
	ev->db = "inventory";
	ev->schema = NULL;
	ev->after = strdup("{\"id\":1004}");
	ev->key = strdup("{\"id\":1004}");
	ev->ts_ms = 1465581029100LL;
	ev->pos.commit_lsn = ((uint64_t) 3 << 32) | 400;
	ev->pos.lsn = ((uint64_t) 3 << 32) | 484;
	ev->pos.opaque = "{\"source\":{\"server_id\":223344,\"gtid\":null,"
		"\"file\":\"mysql-bin.000003\",\"pos\":484,\"row\":0,\"thread\":7,\"query\":null}}";
	env = mkenv(&eo, &dbz, false, false);
	r = trib_envelope_encode(env, ev, &n, err, sizeof(err));
	assert_non_null(r);
	assert_non_null(strstr(r[0].value, "\"source\":{\"version\":\"tributary-0.1\","
						   "\"connector\":\"mysql\",\"name\":\"shop\",\"ts_ms\":1465581029100,"
						   "\"ts_us\":1465581029100000,\"ts_ns\":1465581029100000000,"
						   "\"snapshot\":\"false\",\"db\":\"inventory\",\"sequence\":null,"
						   "\"table\":\"customers\",\"server_id\":223344,\"gtid\":null,"
						   "\"file\":\"mysql-bin.000003\",\"pos\":484,\"row\":0,\"thread\":7,"
						   "\"query\":null}"));
	trib_envelope_free(env);
	ev->pos.opaque = NULL;
	trib_event_free(ev);
}

/* A member name is matched to a column by its whole length: one with a
 * NUL inside ("a\u0000b" in the image) is not column "a", and the
 * comparison reads no byte past a shorter column name (ASan). */
static void
test_column_of_member_with_nul(void **state)
{
	trib_column cols[2] = {{.name = "a", .type = "integer"}, {.name = "ab", .type = "integer"}};
	trib_relation rel = {.schema = "public", .table = "t", .ncolumns = 2, .columns = cols};

	(void) state;
	assert_int_equal(trib_dbz_column_of(&rel, "a\0b", 3, 0), -1);
	assert_int_equal(trib_dbz_column_of(&rel, "a\0", 2, 0), -1);
	assert_int_equal(trib_dbz_column_of(&rel, "a", 1, 1), 0);
	assert_int_equal(trib_dbz_column_of(&rel, "ab", 2, 0), 1);
	assert_int_equal(trib_dbz_column_of(&rel, "abc", 2, 0), 1);	/* the first n bytes */
}

/* ---- the plain-text walk against yajl (debezium_lex.c) ------------------ */

#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* A small deterministic generator (the test is reproducible). */
static uint32_t
rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 8) & 0xffffff;
}

/* Whitespace, sometimes, between two tokens. */
static void
put_ws(trib_strbuf *b, uint32_t *seed)
{
	static const char *const ws[] = {"", "", "", " ", "\n", "\t ", "\r\n"};

	trib_strbuf_adds(b, ws[rnd(seed) % 7]);
}

/* One generated value for column i: its table value, null, or (for the
 * member without a column and for json) nested values.  False when it
 * has an escape (hstore's table values). */
static bool
put_value(trib_strbuf *b, size_t i, uint32_t *seed)
{
	static const char *const nested[] = {
		"{\"a\":[1,\"b\",null,true,false,-0.5e3],\"c\":{}}", "[]", "[[],{}]",
		"{\"k\" : [ 1 , 2 ] }", "\"caf\xc3\xa9\"", "12345678901234567890123",
	};
	const char *type = i < NROWS ? rows[i].type : "";

	if (rnd(seed) % 8 == 0 ||
		(i < NROWS && strchr(rows[i].in, '\\') != NULL && rnd(seed) % 10 != 0))
		trib_strbuf_adds(b, "null");
	else if (i >= NROWS || strstr(type, "json") != NULL)
		trib_strbuf_adds(b, nested[rnd(seed) % 6]);
	else
	{
		trib_strbuf_adds(b, rows[i].in);
		return strchr(rows[i].in, '\\') == NULL;
	}
	return true;
}

/* A generated row image over columns c0..c{NROWS-1} (member c{NROWS} has
 * no column): some members in some order, whitespace, sometimes a name
 * with an escape (not plain: yajl's path), sometimes cut short; *plain
 * says whether it is plain JSON (lib/jscan.h). */
static void
gen_image(trib_strbuf *b, uint32_t *seed, bool *plain)
{
	size_t		n = rnd(seed) % (NROWS + 2);
	size_t		start = rnd(seed) % (NROWS + 1);

	*plain = true;
	b->len = 0;
	trib_strbuf_addc(b, '{');
	for (size_t k = 0; k < n; k++)
	{
		size_t		i = (start + k * (rnd(seed) % 4 == 0 ? 7 : 1)) % (NROWS + 1);

		if (k > 0)
			trib_strbuf_addc(b, ',');
		put_ws(b, seed);
		if (rnd(seed) % 50 == 0)
		{
			trib_strbuf_printf(b, "\"c\\u0030%zu\"", i);	/* "c0<i>": an escape */
			*plain = false;
		}
		else
			trib_strbuf_printf(b, "\"c%zu\"", i);
		put_ws(b, seed);
		trib_strbuf_addc(b, ':');
		put_ws(b, seed);
		if (!put_value(b, i, seed))
			*plain = false;
		put_ws(b, seed);
	}
	trib_strbuf_addc(b, '}');
	if (rnd(seed) % 20 == 0)
	{
		b->len = rnd(seed) % b->len;	/* cut short: not JSON */
		b->data[b->len] = '\0';
		*plain = false;
	}
}

/* Convert image with the walk and with yajl alone; the same result, error
 * and bytes.  Returns whether the walk did it (yajl's arena untouched). */
static bool
same_both_ways(trib_dbz *fast, trib_dbz *slow, const trib_relation *rel,
			   const char *image, const char *nulls)
{
	trib_strbuf a = {0},
				b = {0};
	char		ea[256],
				eb[256];
	bool		oka,
				okb,
				walked;

	trib_strbuf_adds(&a, "prefix");
	trib_strbuf_adds(&b, "prefix");
	fast->alen = 0;
	oka = trib_dbz_row(fast, "postgresql", rel, image, nulls, &a, ea, sizeof(ea));
	walked = fast->alen == 0;
	okb = trib_dbz_row(slow, "postgresql", rel, image, nulls, &b, eb, sizeof(eb));
	if (oka != okb || strcmp(ea, eb) != 0 || (oka && strcmp(a.data, b.data) != 0))
		fail_msg("image %s:\n  walk: %d %s %s\n  yajl: %d %s %s", image, oka, ea,
				 a.data, okb, eb, b.data);
	trib_strbuf_free(&a);
	trib_strbuf_free(&b);
	return oka && walked;
}

/* The plain-text walk writes what yajl's lexing writes, byte for byte, on
 * generated images of every type of the table, under each option value. */
static void
test_walk_same_as_yajl(void **state)
{
	static const trib_dbz_opts optsets[] = {
		DEF, PRECISE, DSTRING, DDOUBLE, ADAPTIVE, ADAPTIVE_US, CONNECT,
		{.binary = TRIB_DBZ_BINARY_BASE64_URL}, {.binary = TRIB_DBZ_BINARY_HEX},
		{.hstore = TRIB_DBZ_HSTORE_MAP}, {.hstore = TRIB_DBZ_HSTORE_JSON},
	};
	trib_column cols[NROWS + 1];
	char		names[NROWS + 1][16];
	trib_relation rel = {.schema = "public", .table = "t", .ncolumns = NROWS,
	.columns = cols, .version = 1};
	trib_strbuf img = {0};
	uint32_t	seed = 17;
	size_t		plain_images = 0,
				walked = 0;

	(void) state;
	for (size_t i = 0; i < NROWS; i++)
	{
		snprintf(names[i], sizeof(names[i]), "c%zu", i);
		cols[i] = (trib_column) {.name = names[i], .type = (char *) rows[i].type,
		.nullable = true};
	}
	for (size_t o = 0; o < sizeof(optsets) / sizeof(optsets[0]); o++)
	{
		trib_dbz_opts opts = optsets[o];
		trib_dbz   *fast,
				   *slow;

		opts.money_scale = 2;
		fast = trib_dbz_new(&opts);
		slow = trib_dbz_new(&opts);
		slow->yajl_only = true;
		for (int n = 0; n < 400; n++)
		{
			bool		plain;
			bool		w;

			gen_image(&img, &seed, &plain);
			w = same_both_ways(fast, slow, &rel, img.data,
							   n % 5 == 0 ? "[\"c1\",\"c40\",\"c77\"]" : NULL);
			plain_images += plain;
			walked += w;
			if (!plain && w)
				fail_msg("the walk took a text that is not plain: %s", img.data);
		}
		trib_dbz_free(fast);
		trib_dbz_free(slow);
	}
	trib_strbuf_free(&img);
	/* most plain images convert (some values do not fit some options, and
	 * those are errors both ways); the walk must have done those */
	print_message("the walk converted %zu of %zu plain images\n", walked, plain_images);
	if (walked < plain_images / 2)
		fail_msg("the walk converted %zu of %zu plain images", walked, plain_images);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_table),
		cmocka_unit_test(test_json_null),
		cmocka_unit_test(test_bad_value),
		cmocka_unit_test(test_cache_invalidation),
		cmocka_unit_test(test_unmapped_connector),
		cmocka_unit_test(test_envelope_debezium),
		cmocka_unit_test(test_envelope_debezium_tombstone),
		cmocka_unit_test(test_envelope_schemas),
		cmocka_unit_test(test_envelope_schemas_domains_enums),
		cmocka_unit_test(test_envelope_transaction_topic),
		cmocka_unit_test(test_envelope_transaction_resume),
		cmocka_unit_test(test_envelope_transaction_checkpoint),
		cmocka_unit_test(test_toast_placeholder),
		cmocka_unit_test(test_envelope_toast_bytea),
		cmocka_unit_test(test_envelope_mysql_source),
		cmocka_unit_test(test_column_of_member_with_nul),
		cmocka_unit_test(test_walk_same_as_yajl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
