/*
 * test_table.c: PostgreSQL type names to column types, the JSON Schema
 * and Avro schemas generated for tables, and what ALTER TABLE changes
 * mean under BACKWARD in each format (varchar(n) to text and int to
 * bigint must be compatible widenings).
 */
#include <stdio.h>
#include <string.h>

#include "sr_test.h"

typedef struct type_case
{
	const char *name;
	int32_t		typmod;
	int			ndims;
	trib_sr_kind kind;
	int32_t		length;
	int32_t		precision;
	int32_t		scale;
	int			ndims_out;
} type_case;

#define K(x) TRIB_SR_K_##x

static const type_case type_cases[] = {
	{"smallint", -1, 0, K(INT16), -1, -1, -1, 0},
	{"integer", -1, 0, K(INT32), -1, -1, -1, 0},
	{"int4", -1, 0, K(INT32), -1, -1, -1, 0},
	{"bigint", -1, 0, K(INT64), -1, -1, -1, 0},
	{"oid", -1, 0, K(UINT32), -1, -1, -1, 0},
	{"real", -1, 0, K(FLOAT32), -1, -1, -1, 0},
	{"double precision", -1, 0, K(FLOAT64), -1, -1, -1, 0},
	{"numeric(12,2)", -1, 0, K(DECIMAL), -1, 12, 2, 0},
	{"numeric", 786438, 0, K(DECIMAL), -1, 12, 2, 0},
	{"numeric(3,-2)", -1, 0, K(DECIMAL), -1, 3, -2, 0},
	{"numeric", 198658, 0, K(DECIMAL), -1, 3, -2, 0},
	{"numeric", -1, 0, K(DECIMAL), -1, -1, -1, 0},
	{"money", -1, 0, K(MONEY), -1, -1, -1, 0},
	{"boolean", -1, 0, K(BOOL), -1, -1, -1, 0},
	{"text", -1, 0, K(STRING), -1, -1, -1, 0},
	{"character varying(20)", -1, 0, K(VARCHAR), 20, -1, -1, 0},
	{"varchar", 24, 0, K(VARCHAR), 20, -1, -1, 0},
	{"character varying", -1, 0, K(VARCHAR), -1, -1, -1, 0},
	{"character(5)", -1, 0, K(CHAR), 5, -1, -1, 0},
	{"bpchar", 9, 0, K(CHAR), 5, -1, -1, 0},
	{"character", -1, 0, K(CHAR), 1, -1, -1, 0},
	{"\"char\"", -1, 0, K(CHAR), 1, -1, -1, 0},
	{"name", -1, 0, K(VARCHAR), 63, -1, -1, 0},
	{"bytea", -1, 0, K(BYTES), -1, -1, -1, 0},
	{"date", -1, 0, K(DATE), -1, -1, -1, 0},
	{"time without time zone", -1, 0, K(TIME), -1, -1, -1, 0},
	{"time(3) with time zone", -1, 0, K(TIMETZ), -1, -1, -1, 0},
	{"timestamp without time zone", -1, 0, K(TIMESTAMP), -1, -1, -1, 0},
	{"timestamp(3) with time zone", -1, 0, K(TIMESTAMPTZ), -1, -1, -1, 0},
	{"timestamptz", -1, 0, K(TIMESTAMPTZ), -1, -1, -1, 0},
	{"interval year to month", -1, 0, K(INTERVAL), -1, -1, -1, 0},
	{"interval(3)", -1, 0, K(INTERVAL), -1, -1, -1, 0},
	{"uuid", -1, 0, K(UUID), -1, -1, -1, 0},
	{"json", -1, 0, K(JSON), -1, -1, -1, 0},
	{"jsonb", -1, 0, K(JSON), -1, -1, -1, 0},
	{"xml", -1, 0, K(XML), -1, -1, -1, 0},
	{"bit(3)", -1, 0, K(BIT), 3, -1, -1, 0},
	{"bit", 8, 0, K(BIT), 8, -1, -1, 0},
	{"bit varying(8)", -1, 0, K(VARBIT), 8, -1, -1, 0},
	{"varbit", -1, 0, K(VARBIT), -1, -1, -1, 0},
	{"inet", -1, 0, K(INET), -1, -1, -1, 0},
	{"cidr", -1, 0, K(INET), -1, -1, -1, 0},
	{"macaddr8", -1, 0, K(MACADDR), -1, -1, -1, 0},
	{"integer[]", -1, 0, K(INT32), -1, -1, -1, 1},
	{"_int4", -1, 0, K(INT32), -1, -1, -1, 1},
	{"text[]", -1, 2, K(STRING), -1, -1, -1, 2},
	{"character varying(10)[]", -1, 0, K(VARCHAR), 10, -1, -1, 1},
	{"public.mood", -1, 0, K(TEXTUAL), -1, -1, -1, 0},
	{"\"Weird Type\"", -1, 0, K(TEXTUAL), -1, -1, -1, 0},
	{"tsvector", -1, 0, K(TEXTUAL), -1, -1, -1, 0},
	{"int4range", -1, 0, K(TEXTUAL), -1, -1, -1, 0},
};

/* Every built-in type name maps to its kind and modifiers. */
static void
pg_type_names(void **state)
{
	char		err[256];

	(void) state;
	for (size_t i = 0; i < sizeof(type_cases) / sizeof(type_cases[0]); i++)
	{
		const type_case *c = &type_cases[i];
		trib_sr_type t;

		if (!trib_sr_pg_type(c->name, c->typmod, c->ndims, &t, err, sizeof(err)))
			fail_msg("%s: %s", c->name, err);
		if (t.kind != c->kind || t.length != c->length || t.precision != c->precision ||
			t.scale != c->scale || t.ndims != c->ndims_out)
			fail_msg("%s (typmod %d): expected kind %d length %d precision %d scale %d ndims %d, "
					 "got %d %d %d %d %d", c->name, (int) c->typmod, c->kind, c->length, c->precision,
					 c->scale, c->ndims_out, t.kind, t.length, t.precision, t.scale, t.ndims);
		if (c->kind == K(TEXTUAL))
			assert_ptr_equal(t.name, c->name);
	}
}

/* Malformed modifiers are errors naming the type. */
static void
pg_type_bad_modifiers(void **state)
{
	const char *bad[] = {"numeric(a)", "numeric(12,2", "character varying(0)", "numeric(1,2,3)",
	"\"unterminated"};
	char		err[256];
	trib_sr_type t;

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		err[0] = '\0';
		if (trib_sr_pg_type(bad[i], -1, 0, &t, err, sizeof(err)))
			fail_msg("accepted %s", bad[i]);
		assert_non_null(strstr(err, "type"));
	}
}

/* Columns from (name, type name, nullable, key). */
typedef struct col
{
	const char *name;
	const char *type;
	bool		nullable;
	bool		key;
} col;

/* The schema of a table of these columns. */
static trib_sr_schema *
table(const col *cols, size_t n, trib_sr_format fmt, trib_sr_table_part part)
{
	trib_sr_field f[16];
	trib_sr_table t = {"public", "orders", f, n};
	char		err[256];
	trib_sr_schema *s;

	for (size_t i = 0; i < n; i++)
	{
		memset(&f[i], 0, sizeof(f[i]));
		f[i].name = cols[i].name;
		f[i].nullable = cols[i].nullable;
		f[i].key = cols[i].key;
		if (!trib_sr_pg_type(cols[i].type, -1, 0, &f[i].type, err, sizeof(err)))
			fail_msg("%s: %s", cols[i].type, err);
	}
	s = trib_sr_table_schema(&t, fmt, part, err, sizeof(err));
	if (s == NULL)
		fail_msg("table schema: %s", err);
	return s;
}

/* An ALTER TABLE: columns before and after, and the incompatible kinds
 * under BACKWARD in JSON Schema and in Avro. */
typedef struct alter_case
{
	const char *name;
	col			before[3];
	col			after[3];
	const char *json;
	const char *avro;
} alter_case;

#define ID {"id", "bigint", false, true}

static const alter_case alters[] = {
	{"varchar_to_text", {ID, {"s", "character varying(20)", true, false}},
	{ID, {"s", "text", true, false}}, "", ""},
	{"int_to_bigint", {ID, {"n", "integer", false, false}}, {ID, {"n", "bigint", false, false}}, "", ""},
	{"numeric_precision_widened", {ID, {"n", "numeric(10,2)", true, false}},
	{ID, {"n", "numeric(12,2)", true, false}}, "", ""},
	{"int_array_to_bigint_array", {ID, {"n", "integer[]", true, false}},
	{ID, {"n", "bigint[]", true, false}}, "", ""},
	{"real_to_double", {ID, {"n", "real", true, false}}, {ID, {"n", "double precision", true, false}}, "", ""},
	{"nullable_column_added", {ID}, {ID, {"note", "text", true, false}}, "", ""},
	{"not_null_dropped", {ID, {"n", "integer", false, false}}, {ID, {"n", "integer", true, false}}, "", ""},
	{"bigint_to_int", {ID, {"n", "bigint", false, false}}, {ID, {"n", "integer", false, false}},
	"MAXIMUM_DECREASED,MINIMUM_INCREASED", "TYPE_MISMATCH"},
	{"text_to_varchar", {ID, {"s", "text", true, false}}, {ID, {"s", "character varying(5)", true, false}},
	"COMBINED_TYPE_SUBSCHEMAS_CHANGED,MAX_LENGTH_ADDED", ""},
	{"numeric_scale_changed", {ID, {"n", "numeric(12,2)", false, false}},
	{ID, {"n", "numeric(12,4)", false, false}},
	"COMBINED_TYPE_SUBSCHEMAS_CHANGED,MAXIMUM_DECREASED,MINIMUM_INCREASED", "TYPE_MISMATCH"},
	{"not_null_column_added", {ID}, {ID, {"n", "integer", false, false}},
	"REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", "READER_FIELD_MISSING_DEFAULT_VALUE"},
	{"not_null_set", {ID, {"n", "integer", true, false}}, {ID, {"n", "integer", false, false}},
	"REQUIRED_ATTRIBUTE_ADDED,TYPE_CHANGED", "TYPE_MISMATCH"},
	{"column_dropped", {ID, {"n", "integer", true, false}}, {ID},
	"PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", ""},
	{"int_to_text", {ID, {"n", "integer", false, false}}, {ID, {"n", "text", false, false}},
	"TYPE_CHANGED", "TYPE_MISMATCH"},
};

static size_t
ncols(const col *c)
{
	size_t		n = 0;

	while (n < 3 && c[n].name != NULL)
		n++;
	return n;
}

/* What each ALTER means under BACKWARD, in both formats. */
static void
alter_table_under_backward(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(alters) / sizeof(alters[0]); i++)
	{
		const alter_case *a = &alters[i];

		for (int fmt = TRIB_SR_JSON; fmt <= TRIB_SR_AVRO; fmt++)
		{
			trib_sr_schema *old = table(a->before, ncols(a->before), fmt, TRIB_SR_VALUE);
			trib_sr_schema *new = table(a->after, ncols(a->after), fmt, TRIB_SR_VALUE);
			const trib_sr_schema *prev[] = {old};
			char		err[256];
			trib_sr_violations *v = trib_sr_check(new, prev, 1, TRIB_SR_BACKWARD, err, sizeof(err));
			const char *want = fmt == TRIB_SR_JSON ? a->json : a->avro;

			assert_non_null(v);
			if (strcmp(sr_test_kinds(v), want) != 0)
				fail_msg("%s in %s: expected [%s], got [%s]", a->name,
						 trib_sr_format_name((trib_sr_format) fmt), want, sr_test_kinds(v));
			trib_sr_violations_free(v);
			trib_sr_schema_free(old);
			trib_sr_schema_free(new);
		}
	}
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("expected %s\n  in %s", needle, hay);
}

/* The generated documents say what the mapping says. */
static void
generated_documents(void **state)
{
	const col	cols[] = {
		{"id", "bigint", false, true}, {"amount", "numeric(5,2)", false, false},
		{"tiny", "numeric(2,4)", true, false}, {"round", "numeric(3,-2)", true, false},
		{"code", "character(3)", true, false}, {"day", "date", true, false},
		{"uid", "uuid", true, false}, {"order id", "text", true, false},
		{"tags", "text[]", true, false}, {"doc", "jsonb", true, false},
	};
	size_t		n = sizeof(cols) / sizeof(cols[0]);
	trib_sr_schema *j = table(cols, n, TRIB_SR_JSON, TRIB_SR_VALUE);
	trib_sr_schema *a = table(cols, n, TRIB_SR_AVRO, TRIB_SR_VALUE);
	trib_sr_schema *k = table(cols, n, TRIB_SR_AVRO, TRIB_SR_KEY);
	const char *js = trib_sr_schema_canonical(j, NULL);
	const char *as = trib_sr_schema_canonical(a, NULL);

	(void) state;
	assert_contains(js, "\"additionalProperties\":false");
	assert_contains(js, "\"required\":[\"id\",\"amount\"]");
	assert_contains(js, "\"amount\":{\"oneOf\":[{\"maximum\":999.99,\"minimum\":-999.99,"
					"\"multipleOf\":0.01,\"type\":\"number\"},{\"enum\":[\"NaN\"],\"type\":\"string\"}]}");
	assert_contains(js, "\"maximum\":0.0099");
	assert_contains(js, "\"maximum\":99900,\"minimum\":-99900,\"multipleOf\":100");
	assert_contains(js, "\"code\":{\"oneOf\":[{\"type\":\"null\"},{\"maxLength\":3,\"minLength\":3,"
					"\"type\":\"string\"}]}");
	assert_contains(js, "\"doc\":{}");
	assert_contains(js, "\"order id\":");
	assert_contains(js, "\"tags\":{\"oneOf\":[{\"type\":\"null\"},{\"items\":{\"oneOf\":"
					"[{\"type\":\"null\"},{\"type\":\"string\"}]},\"type\":\"array\"}]}");
	assert_contains(js, "\"title\":\"public.orders\"");
	assert_contains(as, "\"name\":\"orders\",\"namespace\":\"public\"");
	assert_contains(as, "{\"name\":\"id\",\"type\":\"long\"}");
	assert_contains(as, "{\"name\":\"amount\",\"type\":{\"logicalType\":\"decimal\",\"precision\":5,"
					"\"scale\":2,\"type\":\"bytes\"}}");
	assert_contains(as, "\"precision\":5,\"scale\":0");
	assert_contains(as, "{\"default\":null,\"name\":\"day\",\"type\":[\"null\",{\"logicalType\":\"date\","
					"\"type\":\"int\"}]}");
	assert_contains(as, "\"logicalType\":\"uuid\"");
	assert_contains(as, "\"name\":\"order_id\"");
	assert_contains(as, "{\"default\":null,\"name\":\"tags\",\"type\":[\"null\",{\"items\":[\"null\","
					"\"string\"],\"type\":\"array\"}]}");
	assert_string_equal(trib_sr_schema_canonical(k, NULL),
						"{\"fields\":[{\"name\":\"id\",\"type\":\"long\"}],\"name\":\"orders_key\","
						"\"namespace\":\"public\",\"type\":\"record\"}");
	trib_sr_schema_free(j);
	trib_sr_schema_free(a);
	trib_sr_schema_free(k);
}

/* Composites with known attributes, enums with known labels. */
static void
composites_and_enums(void **state)
{
	trib_sr_field attrs[2] = {
		{.name = "street", .type = {.kind = K(STRING), .length = -1}, .nullable = true},
		{.name = "zip", .type = {.kind = K(VARCHAR), .length = 10}, .nullable = true},
	};
	const char *labels[] = {"sad", "ok", "happy"};
	trib_sr_field f[3] = {
		{.name = "home", .type = {.kind = K(COMPOSITE), .name = "public.address", .fields = attrs, .nfields = 2},
		.nullable = true},
		{.name = "work", .type = {.kind = K(COMPOSITE), .name = "public.address", .fields = attrs, .nfields = 2},
		.nullable = true},
		{.name = "mood", .type = {.kind = K(ENUM), .name = "mood", .labels = labels, .nlabels = 3}},
	};
	trib_sr_table t = {"public", "people", f, 3};
	char		err[256];
	trib_sr_schema *j = trib_sr_table_schema(&t, TRIB_SR_JSON, TRIB_SR_VALUE, err, sizeof(err));
	trib_sr_schema *a = trib_sr_table_schema(&t, TRIB_SR_AVRO, TRIB_SR_VALUE, err, sizeof(err));

	(void) state;
	assert_non_null(j);
	assert_non_null(a);
	assert_contains(trib_sr_schema_canonical(j, NULL),
					"\"mood\":{\"enum\":[\"sad\",\"ok\",\"happy\"],\"type\":\"string\"}");
	assert_contains(trib_sr_schema_canonical(j, NULL),
					"\"home\":{\"oneOf\":[{\"type\":\"null\"},{\"additionalProperties\":false,\"properties\":"
					"{\"street\":");
	/* the record is defined once, then named */
	assert_contains(trib_sr_schema_avro_pcf(a, NULL),
					"{\"name\":\"work\",\"type\":[\"null\",\"public.address\"]}");
	trib_sr_schema_free(j);
	trib_sr_schema_free(a);
}

/* Avro names, collisions, and a key part without key columns. */
static void
avro_names_and_errors(void **state)
{
	char		buf[64];
	trib_sr_field f[2] = {
		{.name = "a b", .type = {.kind = K(STRING)}},
		{.name = "a-b", .type = {.kind = K(STRING)}},
	};
	trib_sr_table t = {"public", "t", f, 2};
	char		err[256] = "";

	(void) state;
	assert_int_equal(trib_sr_avro_name("order id", buf, sizeof(buf)), 8);
	assert_string_equal(buf, "order_id");
	trib_sr_avro_name("1st", buf, sizeof(buf));
	assert_string_equal(buf, "_1st");
	trib_sr_avro_name("", buf, sizeof(buf));
	assert_string_equal(buf, "_");
	trib_sr_avro_name("\xc3\xa9t\xc3\xa9", buf, sizeof(buf));
	assert_string_equal(buf, "__t__");
	assert_int_equal(trib_sr_avro_name("abcdef", buf, 4), 6);
	assert_string_equal(buf, "abc");
	assert_null(trib_sr_table_schema(&t, TRIB_SR_AVRO, TRIB_SR_VALUE, err, sizeof(err)));
	assert_contains(err, "\"a b\" and \"a-b\"");
	assert_null(trib_sr_table_schema(&t, TRIB_SR_JSON, TRIB_SR_KEY, err, sizeof(err)));
	assert_contains(err, "no key columns");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pg_type_names),
		cmocka_unit_test(pg_type_bad_modifiers),
		cmocka_unit_test(alter_table_under_backward),
		cmocka_unit_test(generated_documents),
		cmocka_unit_test(composites_and_enums),
		cmocka_unit_test(avro_names_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
