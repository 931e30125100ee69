/*
 * test_debezium_schema.c: table-driven test of the Connect schema field
 * `format: debezium` with `schemas.enable: true` writes for a column
 * (src/format/debezium_schema.c), over the PostgreSQL types of the
 * Debezium PostgreSQL connector documentation's type-mapping tables x the
 * handling-mode options that change the schema.
 *
 * Each row is one column type, the options, and the members of the
 * column's field in the ".Value" struct as Kafka Connect's JsonConverter
 * writes Debezium's schema for it ("type", the logical type's "name",
 * "version" and "parameters"), with the documentation section it comes
 * from (the sections named as in test_debezium_values.c):
 *   [basic]    "Basic types" table (literal type, semantic type)
 *   [temporal] "Temporal types", one table per time.precision.mode
 *   [decimal]  "Decimal types" (Decimal's "scale" parameter; the
 *              precision parameter is SpecialValueDecimal.builder's
 *              "connect.decimal.precision"); VariableScaleDecimal's
 *              struct of scale and value
 *   [hstore]   "HSTORE type"; [binary] binary.handling.mode's property
 *   [network]  "Network address types"
 * Kafka's own logical types carry version 1 (Date, Time, Timestamp,
 * Decimal builders), as do Debezium's; Time is int32 in Kafka Connect
 * (org.apache.kafka.connect.data.Time.SCHEMA), whatever the table's
 * literal type column says.
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

typedef struct row
{
	const char *doc;			/* the Debezium doc section */
	const char *type;			/* format_type text */
	trib_dbz_opts o;			/* zero = Debezium's defaults */
	const char *field;			/* the field's members before "optional" */
} row;

#define DEF {0}
#define DSTRING {.decimal = TRIB_DBZ_DECIMAL_STRING}
#define DDOUBLE {.decimal = TRIB_DBZ_DECIMAL_DOUBLE}
#define ADAPTIVE_US {.time = TRIB_DBZ_TIME_ADAPTIVE_MICROS}
#define CONNECT {.time = TRIB_DBZ_TIME_CONNECT}
#define LOGICAL(t, n) "\"type\":\"" t "\",\"name\":\"" n "\",\"version\":1"

static const row rows[] = {
	/* [basic] */
	{"basic BOOLEAN", "boolean", DEF, "\"type\":\"boolean\""},
	{"basic BIT(1) BOOLEAN", "bit(1)", DEF, "\"type\":\"boolean\""},
	{"basic BIT(>1) Bits length", "bit(10)", DEF,
	LOGICAL("bytes", "io.debezium.data.Bits") ",\"parameters\":{\"length\":\"10\"}"},
	{"basic BIT VARYING(M) Bits length M", "bit varying(16)", DEF,
	LOGICAL("bytes", "io.debezium.data.Bits") ",\"parameters\":{\"length\":\"16\"}"},
	{"basic BIT VARYING Bits length 2^31 - 1", "bit varying", DEF,
	LOGICAL("bytes", "io.debezium.data.Bits") ",\"parameters\":{\"length\":\"2147483647\"}"},
	{"basic SMALLINT INT16", "smallint", DEF, "\"type\":\"int16\""},
	{"basic INTEGER INT32", "integer", DEF, "\"type\":\"int32\""},
	{"basic BIGINT INT64", "bigint", DEF, "\"type\":\"int64\""},
	{"basic OID INT64", "oid", DEF, "\"type\":\"int64\""},
	{"basic REAL FLOAT32", "real", DEF, "\"type\":\"float\""},
	{"basic DOUBLE PRECISION FLOAT64", "double precision", DEF, "\"type\":\"double\""},
	{"basic CHAR STRING", "character(3)", DEF, "\"type\":\"string\""},
	{"basic VARCHAR STRING", "character varying(10)", DEF, "\"type\":\"string\""},
	{"basic TEXT STRING", "text", DEF, "\"type\":\"string\""},
	{"basic TIMESTAMPTZ ZonedTimestamp", "timestamp with time zone", DEF,
	LOGICAL("string", "io.debezium.time.ZonedTimestamp")},
	{"basic TIMESTAMPTZ(3) ZonedTimestamp", "timestamp(3) with time zone", CONNECT,
	LOGICAL("string", "io.debezium.time.ZonedTimestamp")},
	{"basic TIMETZ ZonedTime", "time with time zone", DEF,
	LOGICAL("string", "io.debezium.time.ZonedTime")},
	{"basic INTERVAL MicroDuration (default)", "interval", DEF,
	LOGICAL("int64", "io.debezium.time.MicroDuration")},
	{"basic INTERVAL Interval (interval.handling.mode string)", "interval",
		{.interval = TRIB_DBZ_INTERVAL_STRING},
	LOGICAL("string", "io.debezium.time.Interval")},
	{"basic JSON Json", "json", DEF, LOGICAL("string", "io.debezium.data.Json")},
	{"basic JSONB Json", "jsonb", DEF, LOGICAL("string", "io.debezium.data.Json")},
	{"basic XML Xml", "xml", DEF, LOGICAL("string", "io.debezium.data.Xml")},
	{"basic UUID Uuid", "uuid", DEF, LOGICAL("string", "io.debezium.data.Uuid")},
	{"basic LTREE Ltree", "ltree", DEF, LOGICAL("string", "io.debezium.data.Ltree")},
	{"basic CITEXT STRING", "citext", DEF, "\"type\":\"string\""},
	{"basic INT4RANGE STRING", "int4range", DEF, "\"type\":\"string\""},
	{"basic TSTZRANGE STRING", "tstzrange", DEF, "\"type\":\"string\""},
	{"basic DATERANGE STRING", "daterange", DEF, "\"type\":\"string\""},
	{"basic POINT Point struct (x, y FLOAT64)", "point", DEF,
		"\"type\":\"struct\",\"fields\":["
		"{\"type\":\"double\",\"optional\":false,\"field\":\"x\"},"
		"{\"type\":\"double\",\"optional\":false,\"field\":\"y\"},"
		"{\"type\":\"bytes\",\"optional\":true,\"field\":\"wkb\"},"
		"{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"}],"
	"\"name\":\"io.debezium.data.geometry.Point\",\"version\":1,\"doc\":\"Geometry (POINT)\""},
	/* [network] */
	{"network INET STRING", "inet", DEF, "\"type\":\"string\""},
	{"network CIDR STRING", "cidr", DEF, "\"type\":\"string\""},
	{"network MACADDR STRING", "macaddr", DEF, "\"type\":\"string\""},
	{"network MACADDR8 STRING", "macaddr8", DEF, "\"type\":\"string\""},
	/* [binary] */
	{"binary bytes BYTES", "bytea", {.binary = TRIB_DBZ_BINARY_BYTES}, "\"type\":\"bytes\""},
	{"binary base64 STRING", "bytea", {.binary = TRIB_DBZ_BINARY_BASE64}, "\"type\":\"string\""},
	{"binary base64-url-safe STRING", "bytea", {.binary = TRIB_DBZ_BINARY_BASE64_URL},
	"\"type\":\"string\""},
	{"binary hex STRING", "bytea", {.binary = TRIB_DBZ_BINARY_HEX}, "\"type\":\"string\""},
	/* [temporal] adaptive */
	{"temporal adaptive DATE Date", "date", DEF, LOGICAL("int32", "io.debezium.time.Date")},
	{"temporal adaptive TIME(1-3) Time", "time(3) without time zone", DEF,
	LOGICAL("int32", "io.debezium.time.Time")},
	{"temporal adaptive TIME(4-6) MicroTime", "time(6) without time zone", DEF,
	LOGICAL("int64", "io.debezium.time.MicroTime")},
	{"temporal adaptive TIME MicroTime", "time without time zone", DEF,
	LOGICAL("int64", "io.debezium.time.MicroTime")},
	{"temporal adaptive TIMESTAMP(1-3) Timestamp", "timestamp(1) without time zone", DEF,
	LOGICAL("int64", "io.debezium.time.Timestamp")},
	{"temporal adaptive TIMESTAMP(4-6) MicroTimestamp", "timestamp(4) without time zone", DEF,
	LOGICAL("int64", "io.debezium.time.MicroTimestamp")},
	{"temporal adaptive TIMESTAMP MicroTimestamp", "timestamp without time zone", DEF,
	LOGICAL("int64", "io.debezium.time.MicroTimestamp")},
	/* adaptive_time_microseconds */
	{"temporal adaptive_time_microseconds DATE Date", "date", ADAPTIVE_US,
	LOGICAL("int32", "io.debezium.time.Date")},
	{"temporal adaptive_time_microseconds TIME([P]) MicroTime", "time(2) without time zone",
	ADAPTIVE_US, LOGICAL("int64", "io.debezium.time.MicroTime")},
	{"temporal adaptive_time_microseconds TIMESTAMP(1-3) Timestamp",
	"timestamp(3) without time zone", ADAPTIVE_US, LOGICAL("int64", "io.debezium.time.Timestamp")},
	{"temporal adaptive_time_microseconds TIMESTAMP MicroTimestamp",
		"timestamp without time zone", ADAPTIVE_US,
	LOGICAL("int64", "io.debezium.time.MicroTimestamp")},
	/* connect */
	{"temporal connect DATE", "date", CONNECT,
	LOGICAL("int32", "org.apache.kafka.connect.data.Date")},
	{"temporal connect TIME([P])", "time(6) without time zone", CONNECT,
	LOGICAL("int32", "org.apache.kafka.connect.data.Time")},
	{"temporal connect TIMESTAMP([P])", "timestamp(2) without time zone", CONNECT,
	LOGICAL("int64", "org.apache.kafka.connect.data.Timestamp")},
	/* [decimal] precise */
	{"decimal precise NUMERIC(M,D) Decimal scale", "numeric(12,2)", DEF,
		LOGICAL("bytes", "org.apache.kafka.connect.data.Decimal")
	",\"parameters\":{\"scale\":\"2\",\"connect.decimal.precision\":\"12\"}"},
	{"decimal precise NUMERIC(M) Decimal scale 0", "numeric(7,0)", DEF,
		LOGICAL("bytes", "org.apache.kafka.connect.data.Decimal")
	",\"parameters\":{\"scale\":\"0\",\"connect.decimal.precision\":\"7\"}"},
	{"decimal precise MONEY Decimal scale money.fraction.digits", "money", DEF,
		LOGICAL("bytes", "org.apache.kafka.connect.data.Decimal")
	",\"parameters\":{\"scale\":\"2\"}"},
	{"decimal precise NUMERIC VariableScaleDecimal", "numeric", DEF,
		"\"type\":\"struct\",\"fields\":["
		"{\"type\":\"int32\",\"optional\":false,\"field\":\"scale\"},"
		"{\"type\":\"bytes\",\"optional\":false,\"field\":\"value\"}],"
		"\"name\":\"io.debezium.data.VariableScaleDecimal\",\"version\":1,"
	"\"doc\":\"Variable scaled decimal\""},
	/* string, double */
	{"decimal string NUMERIC(M,D) STRING", "numeric(12,2)", DSTRING, "\"type\":\"string\""},
	{"decimal string NUMERIC STRING", "numeric", DSTRING, "\"type\":\"string\""},
	{"decimal string MONEY STRING", "money", DSTRING, "\"type\":\"string\""},
	{"decimal double NUMERIC(M,D) FLOAT64", "numeric(12,2)", DDOUBLE, "\"type\":\"double\""},
	{"decimal double NUMERIC FLOAT64", "numeric", DDOUBLE, "\"type\":\"double\""},
	{"decimal double MONEY FLOAT64", "money", DDOUBLE, "\"type\":\"double\""},
	/* [hstore] */
	{"hstore json Json", "hstore", DEF, LOGICAL("string", "io.debezium.data.Json")},
	{"hstore map MAP", "hstore", {.hstore = TRIB_DBZ_HSTORE_MAP},
		"\"type\":\"map\",\"keys\":{\"type\":\"string\",\"optional\":false},"
	"\"values\":{\"type\":\"string\",\"optional\":true}"},
	/* arrays: Connect ARRAY of the element's optional schema */
	{"basic ARRAY of INTEGER", "integer[]", DEF,
	"\"type\":\"array\",\"items\":{\"type\":\"int32\",\"optional\":true}"},
	{"decimal ARRAY of Decimal", "numeric(5,2)[]", DEF,
		"\"type\":\"array\",\"items\":{" LOGICAL("bytes", "org.apache.kafka.connect.data.Decimal")
	",\"parameters\":{\"scale\":\"2\",\"connect.decimal.precision\":\"5\"},\"optional\":true}"},
	{"temporal ARRAY of Date", "date[]", DEF,
	"\"type\":\"array\",\"items\":{" LOGICAL("int32", "io.debezium.time.Date") ",\"optional\":true}"},
	{"basic ARRAY of UUID", "uuid[]", DEF,
	"\"type\":\"array\",\"items\":{" LOGICAL("string", "io.debezium.data.Uuid") ",\"optional\":true}"},
};

/* The Value struct's field of a one-column relation of type `type`, from
 * its '{' to its '}', or NULL. */
static char *
value_field(const trib_dbz_opts *o, const char *type)
{
	trib_column col = {.name = "v", .type = (char *) type, .nullable = true};
	trib_relation rel = {.schema = "public", .table = "t", .ncolumns = 1, .columns = &col};
	trib_dbz_coltype t;
	bool		in_key = false;
	trib_strbuf value = {0};
	trib_strbuf key = {0};
	const char *start;
	const char *end;
	char	   *field = NULL;

	trib_dbz_pg_coltype(&col, &t);
	trib_dbz_render_schemas(o, "shop", "postgresql", &rel, &t, &in_key, &value, &key);
	/* the before struct's only field: the Envelope's first field is the
	 * before struct, whose "fields":[ holds it up to its "field":"v"} */
	start = value.data ? strstr(value.data, "\"fields\":[{\"type\":\"struct\",\"fields\":[") : NULL;
	if (start)
	{
		start += strlen("\"fields\":[{\"type\":\"struct\",\"fields\":[");
		end = strstr(start, ",\"field\":\"v\"}");
		if (end)
			field = strndup(start, (size_t) (end - start) + strlen(",\"field\":\"v\"}"));
	}
	trib_strbuf_free(&value);
	trib_strbuf_free(&key);
	return field;
}

/* Every row of the table. */
static void
test_schema_table(void **state)
{
	int			failed = 0;

	(void) state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
	{
		trib_dbz_opts o = rows[i].o;
		char		want[1024];
		char	   *got;

		o.money_scale = 2;
		o.schemas_enable = true;
		snprintf(want, sizeof(want), "{%s,\"optional\":true,\"field\":\"v\"}", rows[i].field);
		got = value_field(&o, rows[i].type);
		if (got == NULL || strcmp(got, want) != 0)
		{
			print_error("row %zu [%s] %s:\n  expected %s\n  actual   %s\n", i,
						rows[i].doc, rows[i].type, want, got ? got : "(none)");
			failed++;
		}
		free(got);
	}
	assert_int_equal(failed, 0);
}

/* The field names its column's nullability: a NOT NULL column's field is
 * required, and money.fraction.digits sets money's scale. */
static void
test_schema_required_and_money_digits(void **state)
{
	trib_column col = {.name = "v", .type = "money", .nullable = false};
	trib_relation rel = {.schema = "public", .table = "t", .ncolumns = 1, .columns = &col};
	trib_dbz_coltype t;
	trib_dbz_opts o;
	bool		in_key = true;
	trib_strbuf value = {0};
	trib_strbuf key = {0};

	(void) state;
	trib_dbz_opts_init(&o);
	o.money_scale = 4;
	o.schemas_enable = true;
	trib_dbz_pg_coltype(&col, &t);
	trib_dbz_render_schemas(&o, "shop", "postgresql", &rel, &t, &in_key, &value, &key);
	assert_non_null(strstr(value.data, "{\"type\":\"bytes\",\"name\":"
						   "\"org.apache.kafka.connect.data.Decimal\",\"version\":1,"
						   "\"parameters\":{\"scale\":\"4\"},\"optional\":false,"
						   "\"field\":\"v\"}"));
	assert_non_null(key.data);
	assert_non_null(strstr(key.data, "\"name\":\"shop.public.t.Key\""));
	assert_non_null(strstr(key.data, "\"parameters\":{\"scale\":\"4\"},\"optional\":false,"
						   "\"field\":\"v\"}"));
	trib_strbuf_free(&value);
	trib_strbuf_free(&key);
}

/* The Source struct's snapshot field: io.debezium.data.Enum allowing the
 * values of Debezium's SnapshotRecord (2.3 and later: TRUE, FIRST,
 * FIRST_IN_DATA_COLLECTION, LAST_IN_DATA_COLLECTION, LAST, FALSE,
 * INCREMENTAL, lower-cased), as every 2.6+ record with ts_us carries it. */
static void
test_source_snapshot_enum(void **state)
{
	static const char *const connectors[] = {"postgresql", "mysql"};

	(void) state;
	for (size_t i = 0; i < 2; i++)
	{
		trib_column col = {.name = "v", .type = "integer", .nullable = true};
		trib_relation rel = {.schema = "public", .table = "t", .ncolumns = 1, .columns = &col};
		trib_dbz_coltype t;
		trib_dbz_opts o;
		bool		in_key = false;
		trib_strbuf value = {0};
		trib_strbuf key = {0};

		trib_dbz_opts_init(&o);
		o.schemas_enable = true;
		trib_dbz_pg_coltype(&col, &t);
		trib_dbz_render_schemas(&o, "shop", connectors[i], &rel, &t, &in_key, &value, &key);
		assert_non_null(strstr(value.data,
							   "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\","
							   "\"version\":1,\"parameters\":{\"allowed\":\"true,first,"
							   "first_in_data_collection,last_in_data_collection,last,false,"
							   "incremental\"},\"default\":\"false\",\"field\":\"snapshot\"}"));
		trib_strbuf_free(&value);
		trib_strbuf_free(&key);
	}
}

/*
 * The heartbeat and transaction-topic records under schemas.enable: the
 * structs of Debezium's SchemaFactory (2.x and later), each named and at
 * version 1 (heartbeatKeySchema, heartbeatValueSchema,
 * transactionKeySchema, transactionValueSchema), data_collections an
 * optional array of the optional struct "event.collection" version 1
 * (transactionEventCountPerDataCollectionSchema).
 */
static void
test_heartbeat_schemas(void **state)
{
	trib_strbuf topic = {0};
	trib_strbuf key = {0};
	trib_strbuf value = {0};

	(void) state;
	trib_dbz_heartbeat("shop", 1732180502412, true, &topic, &key, &value);
	assert_string_equal(topic.data, "__debezium-heartbeat.shop");
	assert_string_equal(key.data,
						"{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\","
						"\"optional\":false,\"field\":\"serverName\"}],\"optional\":false,"
						"\"name\":\"io.debezium.connector.common.ServerNameKey\",\"version\":1},"
						"\"payload\":{\"serverName\":\"shop\"}}");
	assert_string_equal(value.data,
						"{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int64\","
						"\"optional\":false,\"field\":\"ts_ms\"}],\"optional\":false,"
						"\"name\":\"io.debezium.connector.common.Heartbeat\",\"version\":1},"
						"\"payload\":{\"ts_ms\":1732180502412}}");
	trib_strbuf_free(&topic);
	trib_strbuf_free(&key);
	trib_strbuf_free(&value);
}

static void
test_transaction_topic_schemas(void **state)
{
	trib_dbz_tx tx = {0};
	trib_strbuf key = {0};
	trib_strbuf value = {0};

	(void) state;
	assert_true(trib_dbz_tx_event(&tx, 741, 27587272, "public", "orders"));
	trib_dbz_tx_record(&tx, false, 1732180502412, true, &key, &value);
	assert_string_equal(key.data,
						"{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\","
						"\"optional\":false,\"field\":\"id\"}],\"optional\":false,"
						"\"name\":\"io.debezium.connector.common.TransactionMetadataKey\","
						"\"version\":1},\"payload\":{\"id\":\"741:27587272\"}}");
	assert_non_null(strstr(value.data,
						   "{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":["
						   "{\"type\":\"string\",\"optional\":false,\"field\":\"data_collection\"},"
						   "{\"type\":\"int64\",\"optional\":false,\"field\":\"event_count\"}],"
						   "\"optional\":true,\"name\":\"event.collection\",\"version\":1},"
						   "\"optional\":true,\"field\":\"data_collections\"}"));
	assert_non_null(strstr(value.data,
						   "\"optional\":false,"
						   "\"name\":\"io.debezium.connector.common.TransactionMetadataValue\","
						   "\"version\":1},\"payload\":{\"status\":\"BEGIN\""));
	trib_strbuf_free(&key);
	trib_strbuf_free(&value);
	trib_dbz_tx_clear(&tx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_table),
		cmocka_unit_test(test_schema_required_and_money_digits),
		cmocka_unit_test(test_source_snapshot_enum),
		cmocka_unit_test(test_heartbeat_schemas),
		cmocka_unit_test(test_transaction_topic_schemas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
