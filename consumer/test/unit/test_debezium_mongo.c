/*
 * test_debezium_mongo.c: table-driven test of `format: debezium` for
 * MongoDB events (src/format/debezium_mongo.c): one row per BSON type and
 * per operation part, from the document as the MongoDB source holds it
 * (libbson's relaxed Extended JSON, source/mongodb/mongo_event.c; the
 * inputs below are libbson 1.23's output for those types) to the text
 * Debezium's MongoDB connector writes.
 *
 * Sources of the expected forms.  [events] Debezium 2.7 MongoDB connector
 * documentation, https://debezium.io/documentation/reference/2.7/
 * connectors/mongodb.html, "Data change events": "Change event keys"
 * (the key {"id": <_id as a string>}), "create events" (`after` a string
 * of the document in Extended JSON, e.g. {"_id": {"$numberLong": "1004"},
 * "first_name": "Anne"} as the connector writes it: no space after ","),
 * "update events" (updateDescription: removedFields, updatedFields as a
 * JSON string, truncatedArrays of {field, size}), "delete events"
 * (after null), "Source" (collection, ord, lsid, txnNumber, wallTime).
 * [modes] Which Extended JSON: the connector's JsonSerialization sets the
 * Java driver's JsonMode.STRICT for documents and RELAXED for the key's
 * _id, updatedFields is BsonDocument.toJson() (RELAXED, elements
 * separated by ", "); each type's form is that of the driver's converter
 * for the mode (org.bson.json: LegacyExtendedJson* for STRICT dates,
 * binaries and regexes, ExtendedJson* for int64, Decimal128, ObjectId,
 * Timestamp, Min/MaxKey, Undefined; JsonDoubleHelper for doubles).
 * Expected texts were written by hand from those rules.
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
	const char *doc;			/* [events]/[modes] and the type */
	const char *in;				/* the source's relaxed Extended JSON */
	const char *out;			/* Debezium's text (before JSON-quoting) */
} row;

#define OID "{ \"$oid\" : \"5f1b2c3d4e5f60718293a4b5\" }"

/* `after`/`before`: STRICT mode, compact. */
static const row docs[] = {
	{"[events] create: ObjectId _id", "{ \"_id\" : " OID " }",
	"{\"_id\": {\"$oid\": \"5f1b2c3d4e5f60718293a4b5\"}}"},
	{"[modes] int32", "{ \"i\" : 42 }", "{\"i\": 42}"},
	{"[modes] int64 beyond 32 bits: $numberLong", "{ \"n\" : 5000000000 }",
	"{\"n\": {\"$numberLong\": \"5000000000\"}}"},
	{"[modes] negative int64", "{ \"n\" : -2147483649 }",
	"{\"n\": {\"$numberLong\": \"-2147483649\"}}"},
	{"[modes] double 1.0", "{ \"d\" : 1.0 }", "{\"d\": 1.0}"},
	{"[modes] double 0.1 (libbson writes 20 digits)", "{ \"d\" : 0.10000000000000000555 }",
	"{\"d\": 0.1}"},
	{"[modes] double 1e20: E+", "{ \"d\" : 1e+20 }", "{\"d\": 1.0E+20}"},
	{"[modes] double 1e-5", "{ \"d\" : 1.0000000000000000818e-05 }", "{\"d\": 1.0E-5}"},
	{"[modes] double 12345678.9", "{ \"d\" : 12345678.900000000373 }",
	"{\"d\": 1.23456789E+7}"},
	{"[modes] double 0.001", "{ \"d\" : 0.0010000000000000000208 }", "{\"d\": 0.001}"},
	{"[modes] double -2.5", "{ \"d\" : -2.5 }", "{\"d\": -2.5}"},
	{"[modes] double NaN (STRICT: bare)", "{ \"d\" : { \"$numberDouble\" : \"NaN\" } }",
	"{\"d\": NaN}"},
	{"[modes] double -Infinity", "{ \"d\" : { \"$numberDouble\" : \"-Infinity\" } }",
	"{\"d\": -Infinity}"},
	{"[modes] Decimal128", "{ \"m\" : { \"$numberDecimal\" : \"1.50\" } }",
	"{\"m\": {\"$numberDecimal\": \"1.50\"}}"},
	{"[modes] date: millis", "{ \"t\" : { \"$date\" : \"2024-06-01T10:00:00.100Z\" } }",
	"{\"t\": {\"$date\": 1717236000100}}"},
	{"[modes] date before 1970", "{ \"t\" : { \"$date\" : { \"$numberLong\" : \"-1000\" } } }",
	"{\"t\": {\"$date\": -1000}}"},
	{"[modes] binary UUID subtype", "{ \"b\" : { \"$binary\" : { \"base64\" : "
		"\"MDEyMzQ1Njc4OWFiY2RlZg==\", \"subType\" : \"04\" } } }",
	"{\"b\": {\"$binary\": \"MDEyMzQ1Njc4OWFiY2RlZg==\",\"$type\": \"04\"}}"},
	{"[modes] binary user subtype 0x80", "{ \"b\" : { \"$binary\" : { \"base64\" : "
		"\"AQI=\", \"subType\" : \"80\" } } }",
	"{\"b\": {\"$binary\": \"AQI=\",\"$type\": \"80\"}}"},
	{"[modes] regex", "{ \"r\" : { \"$regularExpression\" : { \"pattern\" : \"^a.*\", "
		"\"options\" : \"ix\" } } }", "{\"r\": {\"$regex\": \"^a.*\",\"$options\": \"ix\"}}"},
	{"[modes] Timestamp", "{ \"ts\" : { \"$timestamp\" : { \"t\" : 1700000000, \"i\" : 7 } } }",
	"{\"ts\": {\"$timestamp\": {\"t\": 1700000000,\"i\": 7}}}"},
	{"[modes] MinKey", "{ \"k\" : { \"$minKey\" : 1 } }", "{\"k\": {\"$minKey\": 1}}"},
	{"[modes] MaxKey", "{ \"k\" : { \"$maxKey\" : 1 } }", "{\"k\": {\"$maxKey\": 1}}"},
	{"[modes] undefined", "{ \"u\" : { \"$undefined\" : true } }",
	"{\"u\": {\"$undefined\": true}}"},
	{"[modes] symbol", "{ \"s\" : { \"$symbol\" : \"x\" } }", "{\"s\": {\"$symbol\": \"x\"}}"},
	{"[modes] JavaScript", "{ \"c\" : { \"$code\" : \"f()\" } }", "{\"c\": {\"$code\": \"f()\"}}"},
	{"[modes] JavaScript with scope", "{ \"c\" : { \"$code\" : \"g()\", \"$scope\" : "
		"{ \"x\" : 1 } } }", "{\"c\": {\"$code\": \"g()\",\"$scope\": {\"x\": 1}}}"},
	{"[modes] DBPointer (legacy $ref/$id)", "{ \"p\" : { \"$dbPointer\" : { \"$ref\" : "
		"\"db.c\", \"$id\" : " OID " } } }",
	"{\"p\": {\"$ref\": \"db.c\",\"$id\": {\"$oid\": \"5f1b2c3d4e5f60718293a4b5\"}}}"},
	{"[modes] string escapes: non-BMP as surrogates, controls",
		"{ \"s\" : \"\xc3\xa9\xf0\x9f\x98\x80\\u0001\\n\\\"\" }",
	"{\"s\": \"\xc3\xa9\\ud83d\\ude00\\u0001\\n\\\"\"}"},
	{"[modes] null, booleans, array, nested, empty",
		"{ \"n\" : null, \"t\" : true, \"f\" : false, \"a\" : [ 1, \"x\", { } ], "
		"\"o\" : { \"p\" : [ ] } }",
	"{\"n\": null,\"t\": true,\"f\": false,\"a\": [1,\"x\",{}],\"o\": {\"p\": []}}"},
	{"[modes] a user document with a $-name is a document",
		"{ \"q\" : { \"$oid\" : 1 } }", "{\"q\": {\"$oid\": 1}}"},
};

/*
 * int64 values that fit in 32 bits: relaxed JSON writes them as it
 * writes an int32, so the source lists their paths in the event's extra
 * ("int64": {"after": [...], "before": [...]}, source/mongodb/
 * mongo_int64.h); [modes] STRICT writes an int64 as {"$numberLong": ...}
 * whatever its value, an int32 bare.  Each row is the `after` image.
 */
typedef struct long_row
{
	const char *doc;
	const char *in;
	const char *extra;			/* the event's extra */
	const char *out;
} long_row;

static const long_row longs[] = {
	{"[modes] int32 42 and int64 42 told apart", "{ \"i\" : 42, \"n\" : 42 }",
		"{\"int64\":{\"after\":[[\"n\"]]}}",
	"{\"i\": 42,\"n\": {\"$numberLong\": \"42\"}}"},
	{"[modes] negative int64 -5", "{ \"n\" : -5 }", "{\"int64\":{\"after\":[[\"n\"]]}}",
	"{\"n\": {\"$numberLong\": \"-5\"}}"},
	{"[events] int64 _id (the documentation's {\"$numberLong\": \"1004\"})",
		"{ \"_id\" : 1004, \"first_name\" : \"Anne\" }",
		"{\"int64\":{\"after\":[[\"_id\"]]}}",
	"{\"_id\": {\"$numberLong\": \"1004\"},\"first_name\": \"Anne\"}"},
	{"[modes] int64 in a nested array, beside int32s", "{ \"o\" : { \"a\" : [ 1, 2, 3 ] } }",
		"{\"int64\":{\"after\":[[\"o\",\"a\",1]]}}",
	"{\"o\": {\"a\": [1,{\"$numberLong\": \"2\"},3]}}"},
	{"[modes] beside updateDescription; the before image's paths do not apply",
		"{ \"n\" : 1, \"m\" : 2 }",
		"{\"updateDescription\":{\"updatedFields\":{\"n\":1}},"
		"\"int64\":{\"after\":[[\"m\"]],\"before\":[[\"n\"]]}}",
	"{\"n\": 1,\"m\": {\"$numberLong\": \"2\"}}"},
	{"[modes] a path to what is no longer an integer marks nothing",
		"{ \"n\" : \"masked\", \"a\" : [ 1 ] }",
		"{\"int64\":{\"after\":[[\"n\"],[\"a\",5],[\"zz\"]]}}",
	"{\"n\": \"masked\",\"a\": [1]}"},
	{"[modes] no extra: int32 forms", "{ \"n\" : 42 }", NULL, "{\"n\": 42}"},
};

/* The key's id: RELAXED mode, compact. */
static const row keys[] = {
	{"[events] key: ObjectId", "{ \"_id\" : " OID " }",
	"{\"$oid\": \"5f1b2c3d4e5f60718293a4b5\"}"},
	{"[events] key: int64 1004 (relaxed: plain)", "{ \"_id\" : 1004 }", "1004"},
	{"[events] key: string", "{ \"_id\" : \"abc\" }", "\"abc\""},
	{"[modes] key: date (ISO, fraction trimmed)",
		"{ \"_id\" : { \"$date\" : \"2024-06-01T10:00:00.100Z\" } }",
	"{\"$date\": \"2024-06-01T10:00:00.1Z\"}"},
	{"[modes] key: date before 1970", "{ \"_id\" : { \"$date\" : { \"$numberLong\" : \"-1\" } } }",
	"{\"$date\": {\"$numberLong\": \"-1\"}}"},
	{"[modes] key: binary", "{ \"_id\" : { \"$binary\" : { \"base64\" : \"AQI=\", "
		"\"subType\" : \"00\" } } }", "{\"$binary\": {\"base64\": \"AQI=\",\"subType\": \"00\"}}"},
	{"[modes] key: double NaN", "{ \"_id\" : { \"$numberDouble\" : \"NaN\" } }",
	"{\"$numberDouble\": \"NaN\"}"},
	{"[events] key: compound documentKey (shard key): _id only",
		"{ \"region\" : \"eu\", \"_id\" : 7 }", "7"},
};

/* JSON-quote s (as the record carries the Debezium text). */
static char *
quoted(const char *s)
{
	trib_strbuf b = {0};

	trib_dbz_quote(&b, s);
	return trib_strbuf_finish(&b);
}

/* Each row through conv; with key, the text is the key's {"id": ...}. */
static void
check_rows(const row *rows, size_t n, bool (*conv) (const char *, trib_strbuf *, char *, size_t),
		   bool key)
{
	for (size_t i = 0; i < n; i++)
	{
		trib_strbuf out = {0};
		char		err[256] = "";
		char	   *q = quoted(rows[i].out);
		char		want[512];

		snprintf(want, sizeof(want), key ? "{\"id\":%s}" : "%s", q);
		if (!conv(rows[i].in, &out, err, sizeof(err)) || strcmp(out.data, want) != 0)
			fail_msg("%s: %s\n got  %s\n want %s", rows[i].doc, rows[i].in,
					 out.data ? out.data : err, want);
		free(q);
		trib_strbuf_free(&out);
	}
}

/* An `after` image without extra. */
static bool
doc_alone(const char *doc, trib_strbuf *out, char *errbuf, size_t errlen)
{
	return trib_dbz_mongo_doc(doc, NULL, "after", out, errbuf, errlen);
}

static void
test_mongo_documents(void **state)
{
	(void) state;
	check_rows(docs, sizeof(docs) / sizeof(docs[0]), doc_alone, false);
}

/* The int64 rows, each with its extra. */
static void
test_mongo_int64_paths(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++)
	{
		trib_strbuf out = {0};
		char		err[256] = "";
		char	   *want = quoted(longs[i].out);

		if (!trib_dbz_mongo_doc(longs[i].in, longs[i].extra, "after", &out, err,
								sizeof(err)) || strcmp(out.data, want) != 0)
			fail_msg("%s: %s\n got  %s\n want %s", longs[i].doc, longs[i].in,
					 out.data ? out.data : err, want);
		free(want);
		trib_strbuf_free(&out);
	}
}

static void
test_mongo_keys(void **state)
{
	(void) state;
	check_rows(keys, sizeof(keys) / sizeof(keys[0]), trib_dbz_mongo_key, true);
}

/* [events] update events: updateDescription. */
static void
test_mongo_update_description(void **state)
{
	static const char *const rows[][2] = {
		{"{\"updateDescription\":{\"updatedFields\":{\"a\":1,\"b\":{\"$date\":"
			"\"2024-06-01T10:00:00Z\"},\"big\":5000000000},\"removedFields\":[\"c\"],"
			"\"truncatedArrays\":[{\"field\":\"arr\",\"newSize\":2}]}}",
		"{\"removedFields\":[\"c\"],\"updatedFields\":\"{\\\"a\\\": 1, \\\"b\\\": "
			"{\\\"$date\\\": \\\"2024-06-01T10:00:00Z\\\"}, \\\"big\\\": 5000000000}\","
		"\"truncatedArrays\":[{\"field\":\"arr\",\"size\":2}]}"},
		{"{\"updateDescription\":{\"updatedFields\":{\"x\":\"y\"},\"removedFields\":[],"
			"\"truncatedArrays\":[]}}",
		"{\"removedFields\":null,\"updatedFields\":\"{\\\"x\\\": \\\"y\\\"}\","
		"\"truncatedArrays\":null}"},
		{NULL, "null"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
	{
		trib_strbuf out = {0};
		char		err[256] = "";

		assert_true(trib_dbz_mongo_update(rows[i][0], &out, err, sizeof(err)));
		assert_string_equal(out.data, rows[i][1]);
		trib_strbuf_free(&out);
	}
}

/* [events] Source: the members after sequence, from the source's opaque. */
static void
test_mongo_source(void **state)
{
	trib_strbuf out = {0};

	(void) state;
	trib_dbz_mongo_source("{\"token\":{\"_data\":\"82\"},\"source\":{\"rs\":\"rs0\","
						  "\"collection\":\"c\",\"ord\":3,\"lsid\":{\"$binary\":{\"base64\":"
						  "\"AQI=\",\"subType\":\"04\"}},\"txnNumber\":5}}", "c",
						  1717236000123, &out);
	assert_string_equal(out.data, ",\"collection\":\"c\",\"ord\":3,\"lsid\":"
						"\"{\\\"id\\\": {\\\"$binary\\\": \\\"AQI=\\\",\\\"$type\\\": \\\"04\\\"}}\","
						"\"txnNumber\":5,\"wallTime\":1717236000123");
	out.len = 0;
	trib_dbz_mongo_source("{\"token\":{},\"source\":{\"rs\":null,\"collection\":\"c\","
						  "\"ord\":1,\"lsid\":null,\"txnNumber\":null}}", "c", 0, &out);
	assert_string_equal(out.data, ",\"collection\":\"c\",\"ord\":1,\"lsid\":null,"
						"\"txnNumber\":null,\"wallTime\":null");
	trib_strbuf_free(&out);
}

/* [events] the Connect schemas' names. */
static void
test_mongo_schemas(void **state)
{
	trib_strbuf v = {0},
				k = {0};

	(void) state;
	trib_dbz_mongo_render_schemas("srv", "shop", "orders", &v, &k);
	assert_non_null(strstr(v.data, "\"name\":\"srv.shop.orders.Envelope\""));
	assert_non_null(strstr(v.data, "\"name\":\"io.debezium.connector.mongo.Source\""));
	assert_non_null(strstr(v.data, "\"name\":\"io.debezium.data.Json\",\"version\":1,"
						   "\"field\":\"after\""));
	assert_non_null(strstr(v.data, "io.debezium.connector.mongodb.changestream."
						   "updatedescription"));
	assert_string_equal(k.data, "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\","
						"\"optional\":false,\"field\":\"id\"}],\"optional\":false,"
						"\"name\":\"srv.shop.orders.Key\"}");
	trib_strbuf_free(&v);
	trib_strbuf_free(&k);
}

/* Texts that are not the source's JSON are refused, naming the part. */
static void
test_mongo_bad(void **state)
{
	trib_strbuf out = {0};
	char		err[256] = "";

	(void) state;
	assert_false(trib_dbz_mongo_doc("{\"a\":", NULL, "after", &out, err, sizeof(err)));
	assert_non_null(strstr(err, "document"));
	assert_false(trib_dbz_mongo_key("{\"x\":1}", &out, err, sizeof(err)));
	assert_non_null(strstr(err, "documentKey._id"));
	assert_false(trib_dbz_mongo_doc("{\"t\":{\"$date\":\"yesterday\"}}", NULL, "after", &out,
									err, sizeof(err)));
	trib_strbuf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mongo_documents),
		cmocka_unit_test(test_mongo_int64_paths),
		cmocka_unit_test(test_mongo_keys),
		cmocka_unit_test(test_mongo_update_description),
		cmocka_unit_test(test_mongo_source),
		cmocka_unit_test(test_mongo_schemas),
		cmocka_unit_test(test_mongo_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
