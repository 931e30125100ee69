/*
 * test_mongo_event.c: unit tests of the MongoDB source's event mapping
 * (source/mongodb/mongo_event.c) and error classes (mongo_stream.c), from
 * change event documents written as MongoDB 6.0 writes them: every
 * operation type, relaxed Extended JSON images, documentKey as the key,
 * updateDescription kept, the source block's members and the resume token
 * in the opaque position, transactions' lsid and txnNumber, and the
 * refusal of malformed events.  The rules inside updateDescription
 * (transform/rules_update_desc.c) are checked here too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jpath.h"
#include "jsondoc.h"
#include "mongo_event.h"
#include "mongo_source_conf.h"
#include "mongo_stream.h"
#include "rules_update_desc.h"
#include "strbuf.h"

#define TOKEN "\"_id\": {\"_data\": \"8263A1\"}"
#define TIME "\"clusterTime\": {\"$timestamp\": {\"t\": 1700000000, \"i\": 7}}"
#define NS "\"ns\": {\"db\": \"shop\", \"coll\": \"people\"}"

/* Map a change event given as Extended JSON, the int64 paths marked or
 * not (what the pipeline's sinks need); the mapping must succeed. */
static void
map_with(const char *json, trib_intern *names, bool int64_paths, trib_mongo_change *out)
{
	bson_error_t berr;
	bson_t	   *doc = bson_new_from_json((const uint8_t *) json, -1, &berr);
	trib_mongo_map_ctx ctx = {names, "src", "rs0", int64_paths};
	char		err[256] = "";

	assert_non_null(doc);
	if (!trib_mongo_change_map(doc, &ctx, out, err, sizeof(err)))
		fail_msg("%s", err);
	bson_destroy(doc);
}

/* The same as for a pipeline with a Debezium sink: int64 paths marked. */
static void
map_ok(const char *json, trib_intern *names, trib_mongo_change *out)
{
	map_with(json, names, true, out);
}

/* Map a change event (freed here) that must be refused with a message
 * holding `want`. */
static void
map_refused_bson(bson_t *doc, const char *want)
{
	trib_intern *names = trib_intern_new();
	trib_mongo_map_ctx ctx = {.names = names, .source = "src"};
	trib_mongo_change ch;
	char		err[256] = "";

	assert_non_null(doc);
	assert_false(trib_mongo_change_map(doc, &ctx, &ch, err, sizeof(err)));
	if (strstr(err, want) == NULL)
		fail_msg("message [%s] lacks [%s]", err, want);
	trib_mongo_change_clear(&ch);
	bson_destroy(doc);
	trib_intern_free(names);
}

/* The same for an event given as Extended JSON. */
static void
map_refused(const char *json, const char *want)
{
	bson_error_t berr;

	map_refused_bson(bson_new_from_json((const uint8_t *) json, -1, &berr), want);
}

static void
test_insert(void **state)
{
	trib_intern *names = trib_intern_new();
	trib_mongo_change ch;

	(void) state;
	map_ok("{" TOKEN ", \"operationType\": \"insert\", " TIME ", "
		   "\"wallTime\": {\"$date\": {\"$numberLong\": \"1700000000123\"}}, " NS ", "
		   "\"documentKey\": {\"_id\": {\"$oid\": \"65a1b2c3d4e5f60718293a4b\"}}, "
		   "\"fullDocument\": {\"_id\": {\"$oid\": \"65a1b2c3d4e5f60718293a4b\"}, "
		   "\"n\": {\"$numberLong\": \"5\"}, \"d\": {\"$date\": {\"$numberLong\": \"0\"}}, "
		   "\"a\": [1, {\"b\": \"x\"}]}}", names, &ch);
	assert_int_equal(ch.ev->op, TRIB_OP_CREATE);
	assert_string_equal(ch.ev->connector, "mongodb");
	assert_string_equal(ch.ev->db, "shop");
	assert_string_equal(ch.ev->schema, "shop");
	assert_string_equal(ch.ev->table, "people");
	assert_string_equal(ch.ev->source, "src");
	/* relaxed Extended JSON: int64 as a number, dates as ISO text */
	assert_string_equal(ch.ev->after, "{ \"_id\" : { \"$oid\" : \"65a1b2c3d4e5f60718293a4b\" }, "
						"\"n\" : 5, \"d\" : { \"$date\" : \"1970-01-01T00:00:00Z\" }, "
						"\"a\" : [ 1, { \"b\" : \"x\" } ] }");
	assert_string_equal(ch.ev->key, "{ \"_id\" : { \"$oid\" : \"65a1b2c3d4e5f60718293a4b\" } }");
	assert_null(ch.ev->before);
	/* n is an int64 that fits in 32 bits: its path (mongo_int64.h) */
	assert_string_equal(ch.ev->extra, "{\"int64\":{\"after\":[[\"n\"]]}}");
	assert_int_equal(ch.ev->ts_ms, 1700000000123LL);
	assert_true(ch.cluster_time == ((uint64_t) 1700000000 << 32 | 7));
	assert_true(ch.ev->pos.commit_lsn == ch.cluster_time);
	assert_false(ch.in_txn);
	assert_false(ch.invalidate);
	assert_string_equal(ch.token, "{ \"_data\" : \"8263A1\" }");
	assert_string_equal(ch.ev->pos.opaque,
						"{\"token\":{ \"_data\" : \"8263A1\" },\"source\":{\"rs\":\"rs0\","
						"\"collection\":\"people\",\"ord\":7,\"lsid\":null,\"txnNumber\":null}}");
	trib_mongo_change_clear(&ch);
	trib_intern_free(names);
}

static void
test_update_in_transaction(void **state)
{
	trib_intern *names = trib_intern_new();
	trib_mongo_change ch;

	(void) state;
	map_ok("{" TOKEN ", \"operationType\": \"update\", " TIME ", " NS ", "
		   "\"documentKey\": {\"_id\": 1}, "
		   "\"updateDescription\": {\"updatedFields\": {\"a.b\": 2, \"l.0.e\": \"x@y\"}, "
		   "\"removedFields\": [\"c\"], \"truncatedArrays\": []}, "
		   "\"fullDocumentBeforeChange\": {\"_id\": 1, \"a\": {\"b\": 1}}, "
		   "\"lsid\": {\"id\": {\"$binary\": {\"base64\": \"AAAAAAAAAAAAAAAAAAAAAA==\", "
		   "\"subType\": \"04\"}}, \"uid\": {\"$binary\": {\"base64\": \"AA==\", \"subType\": \"00\"}}}, "
		   "\"txnNumber\": {\"$numberLong\": \"3\"}}", names, &ch);
	assert_int_equal(ch.ev->op, TRIB_OP_UPDATE);
	assert_null(ch.ev->after);	/* no fullDocument in the event */
	assert_string_equal(ch.ev->before, "{ \"_id\" : 1, \"a\" : { \"b\" : 1 } }");
	assert_string_equal(ch.ev->extra,
						"{\"updateDescription\":{ \"updatedFields\" : { \"a.b\" : 2, "
						"\"l.0.e\" : \"x@y\" }, \"removedFields\" : [ \"c\" ], "
						"\"truncatedArrays\" : [  ] }}");
	assert_true(ch.in_txn);
	assert_int_equal(ch.txn_number, 3);
	assert_int_equal(ch.ev->txid, 3);
	assert_non_null(strstr(ch.ev->pos.opaque, "\"lsid\":{ \"$binary\" : { \"base64\" : "
						   "\"AAAAAAAAAAAAAAAAAAAAAA==\", \"subType\" : \"04\" } },"
						   "\"txnNumber\":3"));
	trib_mongo_change_clear(&ch);
	trib_intern_free(names);
}

/* The extra of the event `json` maps to (malloc'd), or NULL. */
static char *
extra_of(const char *json)
{
	trib_intern *names = trib_intern_new();
	trib_mongo_change ch;
	char	   *x;

	map_ok(json, names, &ch);
	x = ch.ev->extra ? strdup(ch.ev->extra) : NULL;
	trib_mongo_change_clear(&ch);
	trib_intern_free(names);
	return x;
}

/* The int64 values that fit in 32 bits, in both images and in
 * updateDescription.updatedFields (which the MongoDB sink applies to an
 * update without its document), nested in documents and arrays; not
 * int32s, not the
 * int64s beyond 32 bits (their value tells), not the other members. */
static void
test_int64_paths(void **state)
{
	char	   *x = extra_of("{" TOKEN ", \"operationType\": \"update\", " TIME ", " NS ", "
							 "\"documentKey\": {\"_id\": {\"$numberLong\": \"7\"}}, "
							 "\"updateDescription\": {\"updatedFields\": "
							 "{\"k\": {\"$numberLong\": \"1\"}}, "
							 "\"removedFields\": [], \"truncatedArrays\": []}, "
							 "\"fullDocument\": {\"_id\": {\"$numberLong\": \"7\"}, \"i\": 42, "
							 "\"big\": {\"$numberLong\": \"5000000000\"}, "
							 "\"o\": {\"a\": [1, {\"$numberLong\": \"-2\"}, "
							 "{\"q\\\"x\": {\"$numberLong\": \"3\"}}]}, "
							 "\"k\": {\"$numberLong\": \"1\"}}, "
							 "\"fullDocumentBeforeChange\": {\"_id\": {\"$numberLong\": \"7\"}, "
							 "\"i\": 42}}");

	(void) state;
	assert_string_equal(x, "{\"updateDescription\":{ \"updatedFields\" : { \"k\" : 1 }, "
						"\"removedFields\" : [  ], \"truncatedArrays\" : [  ] },"
						"\"int64\":{\"after\":[[\"_id\"],[\"o\",\"a\",1],"
						"[\"o\",\"a\",2,\"q\\\"x\"],[\"k\"]],\"before\":[[\"_id\"]],"
						"\"updatedFields\":[[\"k\"]]}}");
	free(x);
	/* none: no member */
	x = extra_of("{" TOKEN ", \"operationType\": \"insert\", " TIME ", " NS ", "
				 "\"documentKey\": {\"_id\": 1}, \"fullDocument\": {\"_id\": 1, "
				 "\"big\": {\"$numberLong\": \"-5000000000\"}, \"a\": [1, 2]}}");
	assert_null(x);
}

/* Without a sink that needs them (no `format: debezium`), no int64 path
 * is looked for: no "int64" member, beside updateDescription or alone,
 * and the rest of the event is the same as with them. */
static void
test_int64_paths_only_when_needed(void **state)
{
	const char *upd = "{" TOKEN ", \"operationType\": \"update\", " TIME ", " NS ", "
		"\"documentKey\": {\"_id\": {\"$numberLong\": \"7\"}}, "
		"\"updateDescription\": {\"updatedFields\": {\"k\": {\"$numberLong\": \"1\"}}, "
		"\"removedFields\": [], \"truncatedArrays\": []}, "
		"\"fullDocument\": {\"_id\": {\"$numberLong\": \"7\"}, \"k\": {\"$numberLong\": \"1\"}}, "
		"\"fullDocumentBeforeChange\": {\"_id\": {\"$numberLong\": \"7\"}}}";
	const char *ins = "{" TOKEN ", \"operationType\": \"insert\", " TIME ", " NS ", "
		"\"documentKey\": {\"_id\": 1}, "
		"\"fullDocument\": {\"_id\": 1, \"n\": {\"$numberLong\": \"5\"}}}";
	trib_intern *names = trib_intern_new();
	trib_mongo_change on,
				off;

	(void) state;
	map_with(upd, names, true, &on);
	map_with(upd, names, false, &off);
	assert_non_null(strstr(on.ev->extra, "\"int64\":"));
	assert_string_equal(off.ev->extra, "{\"updateDescription\":{ \"updatedFields\" : "
						"{ \"k\" : 1 }, \"removedFields\" : [  ], \"truncatedArrays\" : [  ] }}");
	assert_string_equal(off.ev->after, on.ev->after);
	assert_string_equal(off.ev->before, on.ev->before);
	assert_string_equal(off.ev->key, on.ev->key);
	assert_string_equal(off.ev->pos.opaque, on.ev->pos.opaque);
	trib_mongo_change_clear(&on);
	trib_mongo_change_clear(&off);
	map_with(ins, names, true, &on);
	map_with(ins, names, false, &off);
	assert_string_equal(on.ev->extra, "{\"int64\":{\"after\":[[\"n\"]]}}");
	assert_null(off.ev->extra);
	assert_string_equal(off.ev->after, on.ev->after);
	trib_mongo_change_clear(&on);
	trib_mongo_change_clear(&off);
	trib_intern_free(names);
}

static void
test_replace_delete(void **state)
{
	trib_intern *names = trib_intern_new();
	trib_mongo_change ch;

	(void) state;
	map_ok("{" TOKEN ", \"operationType\": \"replace\", " TIME ", " NS ", "
		   "\"documentKey\": {\"_id\": \"k\"}, \"fullDocument\": {\"_id\": \"k\", \"v\": 1}}",
		   names, &ch);
	assert_int_equal(ch.ev->op, TRIB_OP_UPDATE);
	assert_string_equal(ch.ev->after, "{ \"_id\" : \"k\", \"v\" : 1 }");
	assert_null(ch.ev->extra);
	trib_mongo_change_clear(&ch);

	map_ok("{" TOKEN ", \"operationType\": \"delete\", " TIME ", " NS ", "
		   "\"documentKey\": {\"_id\": \"k\", \"shard\": 2}, \"fullDocument\": {\"ignored\": 1}}",
		   names, &ch);
	assert_int_equal(ch.ev->op, TRIB_OP_DELETE);
	assert_null(ch.ev->after);
	assert_null(ch.ev->before);
	assert_string_equal(ch.ev->key, "{ \"_id\" : \"k\", \"shard\" : 2 }");
	trib_mongo_change_clear(&ch);
	trib_intern_free(names);
}

static void
test_messages(void **state)
{
	trib_intern *names = trib_intern_new();
	trib_mongo_change ch;

	(void) state;
	map_ok("{" TOKEN ", \"operationType\": \"rename\", " TIME ", " NS ", "
		   "\"to\": {\"db\": \"shop\", \"coll\": \"p2\"}}", names, &ch);
	assert_int_equal(ch.ev->op, TRIB_OP_MESSAGE);
	assert_null(ch.ev->key);
	assert_string_equal(ch.ev->extra,
						"{\"prefix\":\"mongodb.rename\",\"content\":\"{ \\\"operationType\\\" : "
						"\\\"rename\\\", \\\"ns\\\" : { \\\"db\\\" : \\\"shop\\\", \\\"coll\\\" : "
						"\\\"people\\\" }, \\\"to\\\" : { \\\"db\\\" : \\\"shop\\\", \\\"coll\\\" : "
						"\\\"p2\\\" } }\"}");
	trib_mongo_change_clear(&ch);

	map_ok("{" TOKEN ", \"operationType\": \"drop\", " TIME ", " NS "}", names, &ch);
	assert_non_null(strstr(ch.ev->extra, "\"prefix\":\"mongodb.drop\""));
	trib_mongo_change_clear(&ch);

	map_ok("{" TOKEN ", \"operationType\": \"dropDatabase\", " TIME ", "
		   "\"ns\": {\"db\": \"shop\"}}", names, &ch);
	assert_non_null(strstr(ch.ev->extra, "\"prefix\":\"mongodb.dropDatabase\""));
	assert_null(ch.ev->table);
	trib_mongo_change_clear(&ch);

	map_ok("{" TOKEN ", \"operationType\": \"invalidate\", " TIME "}", names, &ch);
	assert_true(ch.invalidate);
	assert_non_null(strstr(ch.ev->pos.opaque, "\"invalidate\":true"));
	assert_non_null(strstr(ch.ev->extra, "\"prefix\":\"mongodb.invalidate\""));
	trib_mongo_change_clear(&ch);
	trib_intern_free(names);
}

static void
test_refused(void **state)
{
	(void) state;
	map_refused("{" TOKEN ", " TIME ", " NS "}", "operationType");
	map_refused("{" TOKEN ", \"operationType\": \"insert\", " NS "}", "clusterTime");
	map_refused("{\"operationType\": \"insert\", " TIME ", " NS "}", "resume token");
	map_refused("{" TOKEN ", \"operationType\": \"shardCollection\", " TIME ", " NS "}",
				"unknown operationType \"shardCollection\"");
	map_refused("{" TOKEN ", \"operationType\": \"insert\", " TIME ", " NS ", "
				"\"fullDocument\": {}}", "without documentKey");
}

/*
 * An event of operationType `op` whose member `where` (a top-level key, or
 * "ns.db", "ns.coll", "lsid.id") is the string s[0..n): strings that are
 * not UTF-8 or hold a NUL, which BSON can carry and JSON cannot.
 */
static bson_t *
with_string(const char *op, const char *where, const char *s, int n)
{
	bson_t	   *b = bson_new();
	bson_t		sub;
	const char *dot = strchr(where, '.');

	if (strcmp(where, "_id") == 0)
		bson_append_utf8(b, "_id", -1, s, n);
	else
		BCON_APPEND(b, "_id", "{", "_data", "8263A1", "}");
	BSON_APPEND_UTF8(b, "operationType", op);
	BSON_APPEND_TIMESTAMP(b, "clusterTime", 1700000000, 7);
	if (strncmp(where, "ns.", 3) != 0)
		BCON_APPEND(b, "ns", "{", "db", "shop", "coll", "people", "}");
	if (strcmp(where, "documentKey") != 0)
		BCON_APPEND(b, "documentKey", "{", "_id", BCON_INT32(1), "}");
	if (dot != NULL)
	{
		bson_append_document_begin(b, where, (int) (dot - where), &sub);
		if (strcmp(where, "ns.coll") == 0)
			BSON_APPEND_UTF8(&sub, "db", "shop");
		bson_append_utf8(&sub, dot + 1, -1, s, n);
		bson_append_document_end(b, &sub);
		if (strcmp(where, "lsid.id") == 0)
			BSON_APPEND_INT64(b, "txnNumber", 1);
	}
	else if (strcmp(where, "_id") != 0)
	{
		BSON_APPEND_DOCUMENT_BEGIN(b, where, &sub);
		bson_append_utf8(&sub, "v", 1, s, n);
		bson_append_document_end(b, &sub);
	}
	return b;
}

/* Found by fuzz/fuzz_mongo_event.c: a name or a value that is not UTF-8
 * reached the opaque position unescaped, or was dropped in silence. */
static void
test_refused_not_utf8(void **state)
{
	static const char bad[] = "\xff\xfe";
	static const char nul[] = "a\0b";

	(void) state;
	map_refused_bson(with_string("insert", "ns.db", bad, 2), "ns.db is not UTF-8");
	map_refused_bson(with_string("insert", "ns.db", nul, 3), "ns.db is not UTF-8 or holds a NUL");
	map_refused_bson(with_string("drop", "ns.coll", bad, 2), "ns.coll is not UTF-8");
	map_refused_bson(with_string("insert", "_id", bad, 2), "resume token (_id) cannot be");
	map_refused_bson(with_string("insert", "documentKey", bad, 2), "documentKey cannot be");
	map_refused_bson(with_string("insert", "fullDocument", bad, 2), "fullDocument cannot be");
	map_refused_bson(with_string("delete", "fullDocumentBeforeChange", bad, 2),
					 "fullDocumentBeforeChange cannot be written as JSON");
	map_refused_bson(with_string("update", "updateDescription", bad, 2),
					 "update event whose updateDescription cannot be");
	map_refused_bson(with_string("rename", "to", bad, 2), "ns or to cannot be");
	map_refused_bson(with_string("insert", "lsid.id", bad, 2), "lsid.id cannot be");
}

/* An int64 150 levels down (MongoDB stores documents nested up to 180
 * deep) is marked too: the walk stopped at 100 levels, so deeper int64
 * values lost their type in format: debezium and the MongoDB sink. */
static void
test_int64_paths_deep(void **state)
{
	trib_intern *names = trib_intern_new();
	trib_mongo_map_ctx ctx = {names, "src", "rs0", true};
	bson_t	   *in = bson_new(),
			   *ev = bson_new();
	trib_mongo_change ch;
	char		err[256] = "";
	trib_strbuf want = {0};
	char	   *w;

	(void) state;
	BSON_APPEND_INT64(in, "n", 5);
	for (int k = 1; k < 150; k++)
	{
		bson_t	   *o = bson_new();

		BSON_APPEND_DOCUMENT(o, "a", in);
		bson_destroy(in);
		in = o;
	}
	BCON_APPEND(ev, "_id", "{", "_data", BCON_UTF8("82"), "}", "operationType",
				BCON_UTF8("insert"), "clusterTime", BCON_TIMESTAMP(1700000000, 1),
				"ns", "{", "db", BCON_UTF8("shop"), "coll", BCON_UTF8("t"), "}",
				"documentKey", "{", "_id", BCON_INT32(1), "}");
	BSON_APPEND_DOCUMENT(ev, "fullDocument", in);
	if (!trib_mongo_change_map(ev, &ctx, &ch, err, sizeof(err)))
		fail_msg("%s", err);
	trib_strbuf_adds(&want, "{\"int64\":{\"after\":[[");
	for (int k = 1; k < 150; k++)
		trib_strbuf_adds(&want, "\"a\",");
	trib_strbuf_adds(&want, "\"n\"]]}}");
	w = trib_strbuf_finish(&want);
	assert_string_equal(ch.ev->extra, w);
	free(w);
	trib_mongo_change_clear(&ch);
	bson_destroy(ev);
	bson_destroy(in);
	trib_intern_free(names);
}

/* A late date as the image holds it: {"$numberLong": ms} (Extended JSON's
 * relaxed form for years after 9999), never libbson 1.23's ISO text with
 * a five-digit year, which no reader takes; dates up to 9999 stay ISO, and
 * a user's subdocument {"$date": "<such text>"} (a string: here the before
 * image) stays as it is.  The after image reads back (bson_new_from_json, what the MongoDB sink does)
 * equal to fullDocument, types included. */
static void
test_dates_after_9999(void **state)
{
	trib_intern *names = trib_intern_new();
	bson_t	   *ev = bson_new(),
				full = BSON_INITIALIZER,
				user = BSON_INITIALIZER,
				upd = BSON_INITIALIZER,
				set = BSON_INITIALIZER;
	bson_t	   *back;
	bson_error_t berr;
	trib_mongo_map_ctx ctx = {names, "src", "rs0", false};
	trib_mongo_change ch;
	char		err[256] = "";

	(void) state;
	BSON_APPEND_INT32(&full, "_id", 1);
	BSON_APPEND_DATE_TIME(&full, "y10000", INT64_C(253402300800000));
	BSON_APPEND_UTF8(&user, "$date", "10000-01-01T00:00:00Z");
	BSON_APPEND_DATE_TIME(&full, "last_iso", INT64_C(253402300799999));
	BSON_APPEND_DATE_TIME(&full, "max", INT64_MAX);
	BSON_APPEND_DATE_TIME(&full, "min", INT64_MIN);
	BSON_APPEND_DATE_TIME(&set, "when", INT64_C(253402300800001));
	BSON_APPEND_DOCUMENT(&upd, "updatedFields", &set);
	BCON_APPEND(ev, "_id", "{", "_data", BCON_UTF8("82"), "}", "operationType",
				BCON_UTF8("update"), "clusterTime", BCON_TIMESTAMP(1700000000, 1),
				"ns", "{", "db", BCON_UTF8("shop"), "coll", BCON_UTF8("t"), "}",
				"documentKey", "{", "_id", BCON_INT32(1), "}");
	BSON_APPEND_DOCUMENT(ev, "fullDocument", &full);
	BSON_APPEND_DOCUMENT(ev, "fullDocumentBeforeChange", &user);
	BSON_APPEND_DOCUMENT(ev, "updateDescription", &upd);
	if (!trib_mongo_change_map(ev, &ctx, &ch, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(ch.ev->after,
						"{ \"_id\" : 1, \"y10000\" : { \"$date\" : { \"$numberLong\" : "
						"\"253402300800000\" } }, \"last_iso\" : { \"$date\" : "
						"\"9999-12-31T23:59:59.999Z\" }, \"max\" : { \"$date\" : { "
						"\"$numberLong\" : \"9223372036854775807\" } }, \"min\" : { \"$date\" "
						": { \"$numberLong\" : \"-9223372036854775808\" } } }");
	back = bson_new_from_json((const uint8_t *) ch.ev->after, -1, &berr);
	if (back == NULL)
		fail_msg("the image does not read back: %s", berr.message);
	assert_true(bson_equal(back, &full));
	assert_string_equal(ch.ev->before, "{ \"$date\" : \"10000-01-01T00:00:00Z\" }");
	assert_non_null(strstr(ch.ev->extra, "\"when\" : { \"$date\" : { \"$numberLong\" : "
						   "\"253402300800001\" } }"));
	bson_destroy(back);
	trib_mongo_change_clear(&ch);
	bson_destroy(&set);
	bson_destroy(&upd);
	bson_destroy(&user);
	bson_destroy(&full);
	bson_destroy(ev);
	trib_intern_free(names);
}

/* A document nested deeper than libbson writes (it cuts the level to the
 * text "{ ... }", not JSON) is refused with a message, never handed on
 * as a broken image; one just inside the limit is written whole. */
static void
test_too_deep_refused(void **state)
{
	trib_intern *names = trib_intern_new();
	trib_mongo_map_ctx ctx = {names, "src", "rs0", false};

	(void) state;
	for (int levels = 200; levels <= 202; levels += 2)
	{
		bson_t	   *in = bson_new(),
				   *ev = bson_new();
		trib_mongo_change ch;
		char		err[256] = "";
		bool		ok;

		BSON_APPEND_UTF8(in, "s", "{ ... }");	/* the token, in a string */
		for (int k = 1; k < levels; k++)
		{
			bson_t	   *o = bson_new();

			BSON_APPEND_DOCUMENT(o, "a", in);
			bson_destroy(in);
			in = o;
		}
		BCON_APPEND(ev, "_id", "{", "_data", BCON_UTF8("82"), "}", "operationType",
					BCON_UTF8("insert"), "clusterTime", BCON_TIMESTAMP(1700000000, 1),
					"ns", "{", "db", BCON_UTF8("shop"), "coll", BCON_UTF8("t"), "}",
					"documentKey", "{", "_id", BCON_INT32(1), "}");
		BSON_APPEND_DOCUMENT(ev, "fullDocument", in);
		ok = trib_mongo_change_map(ev, &ctx, &ch, err, sizeof(err));
		if (levels == 200)
		{
			if (!ok)
				fail_msg("200 levels refused: %s", err);
			assert_non_null(strstr(ch.ev->after, "\"s\" : \"{ ... }\""));
		}
		else
		{
			assert_false(ok);
			assert_non_null(strstr(err, "insert event whose fullDocument cannot be written "
									"as JSON"));
			assert_non_null(strstr(err, "nested deeper than libbson writes"));
		}
		trib_mongo_change_clear(&ch);
		bson_destroy(ev);
		bson_destroy(in);
	}
	trib_intern_free(names);
}

static void
test_error_classes(void **state)
{
	bson_error_t e = {0};
	bson_t	   *labelled = BCON_NEW("errorLabels", "[", "ResumableChangeStreamError", "]");

	(void) state;
	e.domain = MONGOC_ERROR_STREAM;
	e.code = MONGOC_ERROR_STREAM_SOCKET;
	assert_int_equal(trib_mongo_classify(&e, NULL), TRIB_MONGO_RETRY);
	e.domain = MONGOC_ERROR_SERVER;
	e.code = 286;
	assert_int_equal(trib_mongo_classify(&e, labelled), TRIB_MONGO_FATAL);
	e.code = 280;
	assert_int_equal(trib_mongo_classify(&e, NULL), TRIB_MONGO_FATAL);
	e.code = 10107;				/* NotWritablePrimary */
	assert_int_equal(trib_mongo_classify(&e, NULL), TRIB_MONGO_RETRY);
	e.code = 216;
	assert_int_equal(trib_mongo_classify(&e, NULL), TRIB_MONGO_FATAL);
	assert_int_equal(trib_mongo_classify(&e, labelled), TRIB_MONGO_RETRY);
	bson_destroy(labelled);
}

/* Redact: every value the path reaches becomes "*". */
static bool
star(yajl_val *slot, const char *name, void *arg)
{
	(void) name;
	(void) arg;
	yajl_tree_free(*slot);
	*slot = trib_jdoc_string("*");
	return true;
}

static void
test_rules_in_update_description(void **state)
{
	trib_event	ev = {0};
	trib_jpath	p;
	char		err[128];

	(void) state;
	ev.op = TRIB_OP_UPDATE;
	ev.extra = strdup("{\"updateDescription\":{\"updatedFields\":{\"l.0.email\":\"a@b\","
					  "\"l.2\":{\"email\":\"c@d\",\"n\":1},\"l\":[{\"email\":\"e@f\"}],"
					  "\"email\":\"g@h\",\"x.email\":\"keep\"},\"removedFields\":[\"l.1.email\"],"
					  "\"truncatedArrays\":[]}}");
	assert_true(trib_jpath_parse("l.email", &p, err, sizeof(err)));
	assert_true(rl_update_desc_each(&ev, &p, star, NULL));
	assert_string_equal(ev.extra,
						"{\"updateDescription\":{\"updatedFields\":{\"l.0.email\":\"*\","
						"\"l.2\":{\"email\":\"*\",\"n\":1},\"l\":[{\"email\":\"*\"}],"
						"\"email\":\"g@h\",\"x.email\":\"keep\"},\"removedFields\":"
						"[\"l.1.email\"],\"truncatedArrays\":[]}}");
	trib_jpath_free(&p);
	assert_true(trib_jpath_parse("l", &p, err, sizeof(err)));
	rl_update_desc_drop(&ev, &p);
	assert_string_equal(ev.extra,
						"{\"updateDescription\":{\"updatedFields\":{\"email\":\"g@h\","
						"\"x.email\":\"keep\"},\"removedFields\":[\"l.1.email\"],"
						"\"truncatedArrays\":[]}}");
	trib_jpath_free(&p);
	/* an insert's extra is never touched */
	ev.op = TRIB_OP_CREATE;
	assert_true(trib_jpath_parse("email", &p, err, sizeof(err)));
	assert_true(rl_update_desc_each(&ev, &p, star, NULL));
	assert_non_null(strstr(ev.extra, "g@h"));
	trib_jpath_free(&p);
	free(ev.extra);
}

static void
test_parse_time(void **state)
{
	uint64_t	t = 0;
	static const char *const bad[] = {
		"", "1", "1.", ".1", "a.1", "1.a", "1.2.3", "-1.2", "4294967296.0", "1.4294967296",
		"0.0", " 1.2", "1.2 "
	};

	(void) state;
	assert_true(trib_mongo_parse_time("1700000000.7", &t));
	assert_true(t == ((uint64_t) 1700000000 << 32 | 7));
	assert_true(trib_mongo_parse_time("4294967295.4294967295", &t));
	assert_true(t == UINT64_MAX);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (trib_mongo_parse_time(bad[i], &t))
			fail_msg("\"%s\" accepted", bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert),
		cmocka_unit_test(test_update_in_transaction),
		cmocka_unit_test(test_int64_paths),
		cmocka_unit_test(test_int64_paths_only_when_needed),
		cmocka_unit_test(test_replace_delete),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_refused_not_utf8),
		cmocka_unit_test(test_int64_paths_deep),
		cmocka_unit_test(test_dates_after_9999),
		cmocka_unit_test(test_too_deep_refused),
		cmocka_unit_test(test_error_classes),
		cmocka_unit_test(test_rules_in_update_description),
		cmocka_unit_test(test_parse_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
