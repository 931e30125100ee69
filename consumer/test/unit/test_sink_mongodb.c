/*
 * test_sink_mongodb.c: the MongoDB sink's rows-to-documents mapping
 * (sink/mongodb/sink_mongodb_doc.c): the kind of each SQL type name, ISO
 * dates to milliseconds, every column type as BSON (checked as canonical
 * Extended JSON, which spells out each BSON type), _id from one-column and
 * composite keys and from an old image, and malformed input refused
 * without values in the message; a MongoDB source's documents with their
 * int64 marks, and an update without its document as its
 * updateDescription (sink_mongodb_ejson.c).  No server: the sink itself runs against
 * the test double in test/e2e/44_sink_mongodb.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink_mongodb.h"

static trib_column cols[] = {
	{.name = "id", .type = "integer", .pk = true},
	{.name = "n", .type = "numeric(40,10)"},
	{.name = "big", .type = "bigint"},
	{.name = "f", .type = "double precision"},
	{.name = "ok", .type = "boolean"},
	{.name = "j", .type = "jsonb"},
	{.name = "bin", .type = "bytea"},
	{.name = "ts", .type = "timestamp with time zone"},
	{.name = "d", .type = "date"},
	{.name = "ia", .type = "integer[]"},
	{.name = "u", .type = "uuid"},
	{.name = "t", .type = "text"},
	{.name = "blob", .type = "varbinary(16)"},
};
static trib_relation rel = {.schema = "public", .table = "t", .ncolumns = 13, .columns = cols};

/* The canonical Extended JSON of the document row converts to. */
static char *
convert(const char *row, bool ok_expected)
{
	bson_t		doc = BSON_INITIALIZER;
	char		err[256] = "";
	char	   *s;
	bool		ok = trib_mongosink_row(row, &rel, false, &doc, err, sizeof(err));

	assert_int_equal(ok, ok_expected);
	s = ok ? bson_as_canonical_extended_json(&doc, NULL) : bson_strdup(err);
	bson_destroy(&doc);
	return s;
}

/* Each expected fragment occurs in s. */
static void
assert_has(const char *s, const char *want)
{
	if (strstr(s, want) == NULL)
		fail_msg("%s\n  lacks %s", s, want);
}

static void
kinds_from_type_names(void **state)
{
	bool		arr;

	(void) state;
	assert_int_equal(trib_mongosink_kind("numeric(12,2)", &arr), TRIB_MK_DECIMAL);
	assert_false(arr);
	assert_int_equal(trib_mongosink_kind("integer[]", &arr), TRIB_MK_INT);
	assert_true(arr);
	assert_int_equal(trib_mongosink_kind("timestamp(3) with time zone", &arr), TRIB_MK_DATE);
	assert_int_equal(trib_mongosink_kind("interval", &arr), TRIB_MK_TEXT);
	assert_int_equal(trib_mongosink_kind("double precision", &arr), TRIB_MK_FLOAT);
	assert_int_equal(trib_mongosink_kind("jsonb", &arr), TRIB_MK_JSON);
	assert_int_equal(trib_mongosink_kind("decimal(10,2)", &arr), TRIB_MK_DECIMAL);
	assert_int_equal(trib_mongosink_kind("datetime(6)", &arr), TRIB_MK_DATE);
	assert_int_equal(trib_mongosink_kind("longblob", &arr), TRIB_MK_BLOB);
	assert_int_equal(trib_mongosink_kind(NULL, &arr), TRIB_MK_TEXT);
}

static void
dates_to_milliseconds(void **state)
{
	int64_t		ms;

	(void) state;
	assert_true(trib_mongosink_date_ms("1970-01-01", 10, &ms));
	assert_int_equal(ms, 0);
	assert_true(trib_mongosink_date_ms("2024-06-01T10:00:00.123456Z", 27, &ms));
	assert_int_equal(ms, INT64_C(1717236000123));
	assert_true(trib_mongosink_date_ms("2024-06-01T12:00:00.5+02:00", 27, &ms));
	assert_int_equal(ms, INT64_C(1717236000500));
	assert_true(trib_mongosink_date_ms("1969-12-31T23:59:59.9995", 24, &ms));
	assert_int_equal(ms, -1);	/* floored, toward the past */
	assert_true(trib_mongosink_date_ms("-0043-03-15", 11, &ms));
	assert_true(ms < INT64_C(-62135596800000));
	assert_false(trib_mongosink_date_ms("infinity", 8, &ms));
}

static void
every_type_as_bson(void **state)
{
	char	   *s;

	(void) state;
	s = convert("{\"id\":1,\"n\":123456789012345678901234.1234567891,\"big\":9000000000,"
				"\"f\":1.5,\"ok\":true,\"j\":{\"a\":[1,2.5,{\"b\":null}]},\"bin\":\"AAEC/w==\","
				"\"ts\":\"2024-06-01T10:00:00.123456Z\",\"d\":\"2024-02-29\",\"ia\":[[1,2],[3,null]],"
				"\"u\":\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\",\"t\":null,\"blob\":\"/w==\","
				"\"other\":{\"x\":1}}", true);
	assert_has(s, "\"id\" : { \"$numberInt\" : \"1\" }");
	assert_has(s, "\"n\" : { \"$numberDecimal\" : \"123456789012345678901234.1234567891\" }");
	assert_has(s, "\"big\" : { \"$numberLong\" : \"9000000000\" }");
	assert_has(s, "\"f\" : { \"$numberDouble\" : \"1.5\" }");
	assert_has(s, "\"ok\" : true");
	assert_has(s, "\"j\" : { \"a\" : [ { \"$numberInt\" : \"1\" }, { \"$numberDouble\" : \"2.5\" }, "
			   "{ \"b\" : null } ] }");
	assert_has(s, "\"bin\" : { \"$binary\" : { \"base64\" : \"AAEC/w==\", \"subType\" : \"00\" } }");
	assert_has(s, "\"ts\" : { \"$date\" : { \"$numberLong\" : \"1717236000123\" } }");
	assert_has(s, "\"d\" : { \"$date\" : { \"$numberLong\" : \"1709164800000\" } }");
	assert_has(s, "\"ia\" : [ [ { \"$numberInt\" : \"1\" }, { \"$numberInt\" : \"2\" } ], "
			   "[ { \"$numberInt\" : \"3\" }, null ] ]");
	assert_has(s, "\"u\" : \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
	assert_has(s, "\"t\" : null");
	assert_has(s, "\"blob\" : { \"$binary\" : { \"base64\" : \"/w==\", \"subType\" : \"00\" } }");
	assert_has(s, "\"other\" : { \"x\" : { \"$numberInt\" : \"1\" } }");
	bson_free(s);
}

static void
edge_values(void **state)
{
	char	   *s;

	(void) state;
	/* 35 digits: beyond Decimal128, kept as a string; NaN; infinity */
	s = convert("{\"n\":12345678901234567890123456789012345,\"f\":\"NaN\",\"ts\":\"infinity\","
				"\"big\":99999999999999999999,\"bin\":\"not base64!\"}", true);
	assert_has(s, "\"n\" : \"12345678901234567890123456789012345\"");
	assert_has(s, "\"f\" : { \"$numberDouble\" : \"NaN\" }");
	assert_has(s, "\"ts\" : \"infinity\"");
	assert_has(s, "\"big\" : { \"$numberDecimal\" : \"99999999999999999999\" }");
	assert_has(s, "\"bin\" : \"not base64!\"");
	bson_free(s);
	s = convert("{\"n\":\"NaN\",\"j\":[]}", true);
	assert_has(s, "\"n\" : { \"$numberDecimal\" : \"NaN\" }");
	assert_has(s, "\"j\" : [  ]");
	bson_free(s);
	s = convert("[1,2]", false);
	assert_string_equal(s, "the row image is not a JSON object");
	bson_free(s);
	s = convert("{\"t\":\"secret value\"", false);
	assert_null(strstr(s, "secret"));
	bson_free(s);
}

static void
hex_bytea(void **state)
{
	bson_t		doc = BSON_INITIALIZER;
	char		err[128];
	char	   *s;

	(void) state;
	assert_true(trib_mongosink_row("{\"bin\":\"00ff\"}", &rel, true, &doc, err, sizeof(err)));
	s = bson_as_canonical_extended_json(&doc, NULL);
	assert_has(s, "\"base64\" : \"AP8=\"");
	bson_free(s);
	bson_destroy(&doc);
}

/* The canonical Extended JSON of the _id trib_mongosink_id appends. */
static char *
id_of(const char *key, const char *image)
{
	bson_t		doc = BSON_INITIALIZER;
	char		err[256];
	char	   *s;

	if (!trib_mongosink_id(key, image, &rel, false, &doc, err, sizeof(err)))
		s = bson_strdup(err);
	else
		s = bson_as_canonical_extended_json(&doc, NULL);
	bson_destroy(&doc);
	return s;
}

static void
ids_from_keys(void **state)
{
	char	   *s;

	(void) state;
	s = id_of("{\"id\":7}", NULL);
	assert_string_equal(s, "{ \"_id\" : { \"$numberInt\" : \"7\" } }");
	bson_free(s);
	/* the column's type decides: a bigint key stays int64 beyond int32 */
	s = id_of("{\"big\":9000000000}", NULL);
	assert_string_equal(s, "{ \"_id\" : { \"$numberLong\" : \"9000000000\" } }");
	bson_free(s);
	s = id_of("{\"id\":1,\"t\":\"x\"}", NULL);
	assert_string_equal(s, "{ \"_id\" : { \"id\" : { \"$numberInt\" : \"1\" }, \"t\" : \"x\" } }");
	bson_free(s);
	/* from an old image: the key move's old _id */
	s = id_of("{\"id\":2}", "{\"id\":1,\"t\":\"old\"}");
	assert_string_equal(s, "{ \"_id\" : { \"$numberInt\" : \"1\" } }");
	bson_free(s);
	s = id_of("{\"id\":2}", "{\"t\":\"old\"}");
	assert_string_equal(s, "the old row image lacks key column \"id\"");
	bson_free(s);
	s = id_of("{}", NULL);
	assert_string_equal(s, "the key has no column");
	bson_free(s);
}

/* A MongoDB source's Extended JSON keeps its BSON types; _id alone from
 * the documentKey; refusals name no value. */
static void
extended_json_documents(void **state)
{
	bson_t		doc = BSON_INITIALIZER,
				id = BSON_INITIALIZER;
	bson_iter_t it;
	char		err[256] = "";

	(void) state;
	assert_true(trib_mongosink_ejson("{\"_id\": {\"$oid\": \"65a1b2c3d4e5f60718293a4b\"}, "
									 "\"d\": {\"$date\": \"2024-01-02T03:04:05.678Z\"}, "
									 "\"n\": {\"$numberDecimal\": \"12.50\"}, "
									 "\"b\": {\"$binary\": {\"base64\": \"AQID\", \"subType\": \"00\"}}, "
									 "\"l\": 9007199254740993}",
									 "the document", false, NULL, &doc, err, sizeof(err)));
	assert_false(bson_iter_init_find(&it, &doc, "_id"));	/* the key's */
	assert_true(bson_iter_init_find(&it, &doc, "d") && BSON_ITER_HOLDS_DATE_TIME(&it));
	assert_true(bson_iter_date_time(&it) == 1704164645678LL);
	assert_true(bson_iter_init_find(&it, &doc, "n") && BSON_ITER_HOLDS_DECIMAL128(&it));
	assert_true(bson_iter_init_find(&it, &doc, "b") && BSON_ITER_HOLDS_BINARY(&it));
	assert_true(bson_iter_init_find(&it, &doc, "l") && BSON_ITER_HOLDS_INT64(&it));
	assert_true(trib_mongosink_ejson("{\"_id\": {\"$oid\": \"65a1b2c3d4e5f60718293a4b\"}, \"sk\": 1}",
									 "the documentKey", true, NULL, &id, err, sizeof(err)));
	assert_int_equal(bson_count_keys(&id), 1);
	assert_true(bson_iter_init_find(&it, &id, "_id") && BSON_ITER_HOLDS_OID(&it));
	assert_false(trib_mongosink_ejson("{\"sk\": 1}", "the documentKey", true, NULL, &id, err,
									  sizeof(err)));
	assert_string_equal(err, "the documentKey has no _id");
	assert_false(trib_mongosink_ejson("{\"secret\": \"hunter2", "the document", false, NULL,
									  &doc, err, sizeof(err)));
	assert_null(strstr(err, "hunter2"));
	bson_destroy(&doc);
	bson_destroy(&id);
}

/* A json column nested deeper than MongoDB stores is refused with a
 * message naming the column and the limit: before, the conversion
 * recursed once per level and a value 50,000 arrays deep exhausted the
 * stack (SIGSEGV: the daemon down).  200 levels still convert. */
static void
deep_json_refused(void **state)
{
	for (int n = 200; n <= 50000; n += 49800)
	{
		char	   *row = malloc(2 * (size_t) n + 16),
				   *p = row;
		char	   *s;

		p += sprintf(p, "{\"j\":");
		memset(p, '[', (size_t) n);
		p += n;
		memset(p, ']', (size_t) n);
		strcpy(p + n, "}");
		s = convert(row, n <= 200);
		if (n > 200)
			assert_string_equal(s, "column \"j\": its value does not fit in a document (or is "
								"nested deeper than 200 levels, more than MongoDB stores)");
		bson_free(s);
		free(row);
	}
	(void) state;
}

/* A MongoDB document nested 150 levels deep (MongoDB stores up to 180;
 * libbson's Extended JSON parser takes fewer than 99) is read back whole,
 * every type kept: before, the sink stopped on it ("the document is not
 * a JSON object of Extended JSON"). */
static void
deep_extended_json_read(void **state)
{
	bson_t	   *in = bson_new(),
				doc = BSON_INITIALIZER,
				want = BSON_INITIALIZER;
	bson_oid_t	oid;
	bson_decimal128_t dec;
	char		err[256] = "";
	char	   *j;

	(void) state;
	bson_oid_init_from_string(&oid, "65a1b2c3d4e5f60718293a4b");
	bson_decimal128_from_string("-0E-10", &dec);
	BSON_APPEND_OID(in, "o", &oid);
	BSON_APPEND_DATE_TIME(in, "d", -1000);
	BSON_APPEND_DECIMAL128(in, "m", &dec);
	BSON_APPEND_INT64(in, "l", INT64_C(5000000000));
	BSON_APPEND_INT32(in, "i", -3);
	BSON_APPEND_DOUBLE(in, "f", -0.0);
	BSON_APPEND_DOUBLE(in, "g", 1.0);
	BSON_APPEND_REGEX(in, "r", "^a", "i");
	BSON_APPEND_UTF8(in, "s", "\xc3\xa9");
	BSON_APPEND_BOOL(in, "t", true);
	BSON_APPEND_NULL(in, "n");
	for (int k = 1; k < 75; k++)	/* an array and a document a step */
	{
		bson_t	   *o = bson_new(),
					arr;

		BSON_APPEND_ARRAY_BEGIN(o, "a", &arr);
		BSON_APPEND_DOCUMENT(&arr, "0", in);
		bson_append_array_end(o, &arr);
		bson_destroy(in);
		in = o;
	}
	BSON_APPEND_INT32(in, "_id", 1);
	bson_copy_to_excluding_noinit(in, &want, "_id", NULL);
	j = bson_as_relaxed_extended_json(in, NULL);
	if (!trib_mongosink_ejson(j, "the document", false, NULL, &doc, err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(bson_equal(&doc, &want));
	bson_free(j);
	/* still refused: not JSON, or a malformed wrapper */
	bson_reinit(&doc);
	assert_false(trib_mongosink_ejson("{\"a\": {\"$oid\": 1}}", "the document", false, NULL,
									  &doc, err, sizeof(err)));
	assert_string_equal(err, "the document is not a JSON object of Extended JSON");
	bson_destroy(&doc);
	bson_destroy(&want);
	bson_destroy(in);
}

/* A duplicate key on a unique index stops the sink with the index named
 * and without the row's values: MongoDB's E11000 message ends with "dup
 * key: { email: ... }", which the sink's failure (logged) carried. */
static void
duplicate_key_message_without_values(void **state)
{
	char		out[512];

	(void) state;
	trib_mongosink_server_msg(11000, "E11000 duplicate key error collection: app.users index: "
							  "email_1 dup key: { email: \"alice@example.com\" }", out,
							  sizeof(out));
	assert_string_equal(out, "E11000 duplicate key error collection: app.users index: email_1 "
						"(the duplicate key's value left out)");
	trib_mongosink_server_msg(121, "Document failed validation", out, sizeof(out));
	assert_string_equal(out, "Document failed validation");
}

/* The canonical Extended JSON of b (freed by the caller). */
static char *
canon(const bson_t *b)
{
	return bson_as_canonical_extended_json(b, NULL);
}

/* An int64 that fits in 32 bits, which relaxed Extended JSON writes like
 * an int32, stays an int64 where the event's extra lists its path (the
 * source's int64 marks, mongo_int64.h): at the top, nested, in an array,
 * in the _id of the documentKey; an int32 beside it stays an int32, and a
 * listed path that no longer holds an integer changes nothing.  Before,
 * a MongoDB-to-MongoDB copy turned every such int64 into an int32. */
static void
int64_marks_keep_int64(void **state)
{
	const char *extra = "{\"updateDescription\":{},\"int64\":{\"after\":[[\"_id\"],[\"l\"],"
		"[\"o\",\"m\"],[\"a\",1],[\"s\"]],\"before\":[[\"i\"]]}}";
	bson_t		doc = BSON_INITIALIZER,
				id = BSON_INITIALIZER;
	char		err[256] = "";
	char	   *j;

	(void) state;
	assert_true(trib_mongosink_ejson("{\"_id\": 7, \"l\": 5, \"o\": {\"m\": -7, \"k\": 1}, "
									 "\"a\": [1, 2, [3]], \"i\": 4, \"s\": \"masked\"}",
									 "the document", false, extra, &doc, err, sizeof(err)));
	j = canon(&doc);
	assert_string_equal(j, "{ \"l\" : { \"$numberLong\" : \"5\" }, \"o\" : { \"m\" : { "
						"\"$numberLong\" : \"-7\" }, \"k\" : { \"$numberInt\" : \"1\" } }, "
						"\"a\" : [ { \"$numberInt\" : \"1\" }, { \"$numberLong\" : \"2\" }, "
						"[ { \"$numberInt\" : \"3\" } ] ], \"i\" : { \"$numberInt\" : \"4\" }, "
						"\"s\" : \"masked\" }");
	bson_free(j);
	assert_true(trib_mongosink_ejson("{\"_id\": 7}", "the documentKey", true, extra, &id, err,
									 sizeof(err)));
	j = canon(&id);
	assert_string_equal(j, "{ \"_id\" : { \"$numberLong\" : \"7\" } }");
	bson_free(j);
	bson_destroy(&doc);
	bson_destroy(&id);
}

/* An update without its document (fullDocument null) as the update its
 * updateDescription stands for: $set of updatedFields (typed), $unset of
 * removedFields, truncatedArrays as $push/$slice of their own; none
 * without an updateDescription; a malformed one refused without values. */
static void
update_description_as_update(void **state)
{
	bson_t		trunc = BSON_INITIALIZER,
				upd = BSON_INITIALIZER;
	bool		has = false;
	char		err[256] = "";
	char	   *j;

	(void) state;
	assert_true(trib_mongosink_update_desc(
		"{\"updateDescription\":{\"updatedFields\":{\"v\":\"x\",\"a.1\":{\"$date\":"
		"\"2024-01-02T03:04:05Z\"}},\"removedFields\":[\"gone\",\"o.p\"],"
		"\"truncatedArrays\":[{\"field\":\"arr\",\"newSize\":2}]}}",
		&trunc, &upd, &has, err, sizeof(err)));
	assert_true(has);
	j = canon(&trunc);
	assert_string_equal(j, "{ \"$push\" : { \"arr\" : { \"$each\" : [  ], \"$slice\" : { "
						"\"$numberLong\" : \"2\" } } } }");
	bson_free(j);
	j = canon(&upd);
	assert_string_equal(j, "{ \"$set\" : { \"v\" : \"x\", \"a.1\" : { \"$date\" : { "
						"\"$numberLong\" : \"1704164645000\" } } }, \"$unset\" : { \"gone\" : "
						"\"\", \"o.p\" : \"\" } }");
	bson_free(j);
	bson_reinit(&trunc);
	bson_reinit(&upd);
	/* an updated int64 that fits in 32 bits, marked by the source */
	assert_true(trib_mongosink_update_desc(
		"{\"updateDescription\":{\"updatedFields\":{\"o.m\":-8,\"n\":1}},"
		"\"int64\":{\"updatedFields\":[[\"o.m\"]]}}", &trunc, &upd, &has, err, sizeof(err)));
	j = canon(&upd);
	assert_string_equal(j, "{ \"$set\" : { \"o.m\" : { \"$numberLong\" : \"-8\" }, \"n\" : { "
						"\"$numberInt\" : \"1\" } } }");
	bson_free(j);
	assert_true(bson_empty(&trunc));
	bson_reinit(&upd);
	assert_true(trib_mongosink_update_desc("{\"int64\":{}}", &trunc, &upd, &has, err,
										   sizeof(err)));
	assert_false(has);
	assert_true(bson_empty(&trunc) && bson_empty(&upd));
	assert_true(trib_mongosink_update_desc(NULL, &trunc, &upd, &has, err, sizeof(err)));
	assert_false(has);
	assert_false(trib_mongosink_update_desc("{\"updateDescription\":{\"truncatedArrays\":"
											"[{\"field\":\"secret\"}]}}", &trunc, &upd, &has,
											err, sizeof(err)));
	assert_non_null(strstr(err, "truncatedArrays"));
	assert_null(strstr(err, "secret"));
	bson_destroy(&trunc);
	bson_destroy(&upd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kinds_from_type_names),
		cmocka_unit_test(dates_to_milliseconds),
		cmocka_unit_test(every_type_as_bson),
		cmocka_unit_test(edge_values),
		cmocka_unit_test(deep_json_refused),
		cmocka_unit_test(duplicate_key_message_without_values),
		cmocka_unit_test(deep_extended_json_read),
		cmocka_unit_test(int64_marks_keep_int64),
		cmocka_unit_test(update_description_as_update),
		cmocka_unit_test(hex_bytea),
		cmocka_unit_test(ids_from_keys),
		cmocka_unit_test(extended_json_documents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
