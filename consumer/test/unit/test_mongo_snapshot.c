/*
 * test_mongo_snapshot.c: unit tests of the MongoDB source's pieces that
 * need no server: the snapshot's progress as JSON and back
 * (mongo_snapprog.c), the END items' resume position (mongo_event.c),
 * the schemas inferred per collection (mongo_infer.c): a version
 * per new field or new type, none for a known shape or a null, nested
 * objects' properties and arrays' item types too; and the
 * stream's $match as the snapshot's filter on documents (mongo_match.c);
 * a copied document as its op r event, and the refusal of one libbson
 * cannot write as JSON (mongo_snapread.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"
#include "mongo_event.h"
#include "mongo_infer.h"
#include "mongo_match.h"
#include "mongo_snapprog.h"
#include "mongo_snapread.h"
#include "schema_int.h"

static void
test_progress_round_trip(void **state)
{
	trib_mongo_snapprog p = {0},
				q;
	trib_mongo_range *r;
	char		err[256] = "";
	char	   *json;

	(void) state;
	snprintf(p.state, sizeof(p.state), "running");
	snprintf(p.mode, sizeof(p.mode), "initial");
	p.time = (uint64_t) 1700000000 << 32 | 5;
	r = trib_mongo_snapprog_add(&p, "shop", "it\"ems", true, NULL, "{\"v\":{\"$numberInt\":\"9\"}}");
	r->after = strdup("{\"v\":{\"$oid\":\"65a1b2c3d4e5f60718293a4b\"}}");
	r->rows = 42;
	trib_mongo_snapprog_add(&p, "shop", "mixed", false, NULL, NULL)->done = true;
	json = trib_mongo_snapprog_to_json(&p);
	assert_int_equal(trib_mongo_snapprog_from_json(json, &q, err, sizeof(err)), 1);
	assert_string_equal(q.state, "running");
	assert_string_equal(q.mode, "initial");
	assert_true(q.time == p.time);
	assert_int_equal(q.nranges, 2);
	assert_string_equal(q.ranges[0].coll, "it\"ems");
	assert_true(q.ranges[0].keyset);
	assert_null(q.ranges[0].min);
	assert_string_equal(q.ranges[0].max, "{\"v\":{\"$numberInt\":\"9\"}}");
	assert_string_equal(q.ranges[0].after, "{\"v\":{\"$oid\":\"65a1b2c3d4e5f60718293a4b\"}}");
	assert_int_equal(q.ranges[0].rows, 42);
	assert_false(q.ranges[0].done);
	assert_false(q.ranges[1].keyset);
	assert_true(q.ranges[1].done);
	free(json);
	trib_mongo_snapprog_clear(&q);
	trib_mongo_snapprog_clear(&p);

	/* a streaming position (a token) is no progress; a broken one is refused */
	assert_int_equal(trib_mongo_snapprog_from_json("{\"token\":{\"_data\":\"82\"}}", &q, err,
												   sizeof(err)), 0);
	assert_int_equal(trib_mongo_snapprog_from_json(NULL, &q, err, sizeof(err)), 0);
	assert_int_equal(trib_mongo_snapprog_from_json("{\"snapshot\":{\"state\":\"running\"}}", &q,
												   err, sizeof(err)), -1);
	assert_non_null(strstr(err, "remove the checkpoint"));
}

static void
test_resume_opaque(void **state)
{
	char	   *a = trib_mongo_resume_opaque("{\"_data\":\"8263\"}", false);
	char	   *b = trib_mongo_resume_opaque("{\"_data\":\"8264\"}", true);

	(void) state;
	assert_string_equal(a, "{\"token\":{\"_data\":\"8263\"}}");
	assert_string_equal(b, "{\"token\":{\"_data\":\"8264\"},\"invalidate\":true}");
	free(a);
	free(b);
}

/* An insert event of shop.people with `after`. */
static trib_event *
doc(const char *after)
{
	trib_event *ev = trib_event_new();

	ev->op = after ? TRIB_OP_CREATE : TRIB_OP_DELETE;
	ev->db = ev->schema = "shop";
	ev->table = "people";
	ev->after = after ? strdup(after) : NULL;
	return ev;
}

/* The relation's columns as "name:type,..." */
static void
shape(const trib_relation *rel, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int i = 0; i < rel->ncolumns; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s:%s%s", i ? "," : "",
				 rel->columns[i].name, rel->columns[i].type, rel->columns[i].pk ? "*" : "");
}

static void
test_infer(void **state)
{
	trib_mongo_infer *inf = trib_mongo_infer_new();
	trib_event *e[7];
	char		s[256];

	(void) state;
	e[0] = doc("{\"_id\": 1, \"name\": \"a\", \"n\": null}");
	e[1] = doc("{\"_id\": 2, \"name\": \"b\"}");
	e[2] = doc("{\"_id\": 3, \"name\": \"c\", \"age\": 5, \"d\": {\"$numberDecimal\": \"1.5\"}}");
	e[3] = doc("{\"_id\": 4, \"age\": 5.5}");
	e[4] = doc("{\"_id\": 5, \"age\": \"old\", \"at\": {\"$date\": \"2024-01-01T00:00:00Z\"}}");
	e[5] = doc(NULL);
	e[6] = trib_event_new();
	e[6]->op = TRIB_OP_MESSAGE;
	for (int i = 0; i < 7; i++)
		trib_mongo_infer_event(inf, e[i]);
	shape(e[0]->rel, s, sizeof(s));
	assert_string_equal(s, "_id:bigint*,name:text");	/* null: not a column yet */
	assert_int_equal(e[0]->rel->version, 1);
	assert_ptr_equal(e[1]->rel, e[0]->rel);	/* the same shape: no version */
	shape(e[2]->rel, s, sizeof(s));
	assert_string_equal(s, "_id:bigint*,name:text,age:bigint,d:numeric");
	assert_int_equal(e[2]->rel->version, 2);
	shape(e[3]->rel, s, sizeof(s));
	assert_string_equal(s, "_id:bigint*,name:text,age:double precision,d:numeric");
	assert_int_equal(e[3]->rel->version, 3);
	shape(e[4]->rel, s, sizeof(s));
	assert_string_equal(s, "_id:bigint*,name:text,age:jsonb,d:numeric,at:jsonb");
	assert_int_equal(e[4]->rel->version, 4);
	assert_ptr_equal(e[5]->rel, e[4]->rel);	/* no document: the current one */
	assert_null(e[6]->rel);
	assert_false(e[4]->rel->columns[2].pk);
	assert_true(e[4]->rel->columns[2].nullable);
	assert_false(e[4]->rel->columns[0].nullable);
	for (int i = 0; i < 7; i++)
		trib_event_free(e[i]);
	trib_mongo_infer_free(inf);
}

/* The relation's columns with their shapes: "name:type{...}" for an
 * object's properties, "name:type[items]{...}" for an array's items. */
static void
deep_shape(const trib_relation *rel, char *buf, size_t len)
{
	for (int i = 0; i < rel->ncolumns; i++)
	{
		const trib_column *c = &rel->columns[i];

		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s:%s", i ? "," : "", c->name,
				 c->type);
		if (c->items)
			snprintf(buf + strlen(buf), len - strlen(buf), "[%s]", c->items);
		if (c->fields)
		{
			snprintf(buf + strlen(buf), len - strlen(buf), "{");
			deep_shape(c->fields, buf, len);
			snprintf(buf + strlen(buf), len - strlen(buf), "}");
		}
	}
}

/* Nested documents get their properties, arrays their item types; a new
 * nested field or item type is a new version, the same shape none; the
 * registered JSON Schema describes them. */
static void
test_infer_nested(void **state)
{
	trib_mongo_infer *inf = trib_mongo_infer_new();
	trib_event *e[5];
	char		s[512] = "";
	trib_sr_schema *sc;
	char		err[256];
	const char *js;

	(void) state;
	e[0] = doc("{\"_id\": 1, \"addr\": {\"city\": \"x\", \"zip\": 1}, \"tags\": [\"a\"], "
			   "\"lines\": [{\"sku\": \"s\", \"qty\": 1}], \"none\": [], \"id2\": {\"$oid\": "
			   "\"65a1b2c3d4e5f60718293a4b\"}}");
	e[1] = doc("{\"_id\": 2, \"addr\": {\"city\": \"y\"}, \"tags\": [], \"lines\": [{\"qty\": 2}]}");
	e[2] = doc("{\"_id\": 3, \"addr\": {\"geo\": {\"lat\": 1.5}}, \"lines\": [{\"sku\": \"t\", "
			   "\"note\": \"n\"}]}");
	e[3] = doc("{\"_id\": 4, \"tags\": [1], \"none\": [true]}");
	e[4] = doc("{\"_id\": 5, \"addr\": \"free text\"}");
	for (int i = 0; i < 5; i++)
		trib_mongo_infer_event(inf, e[i]);
	deep_shape(e[0]->rel, s, sizeof(s));
	assert_string_equal(s, "_id:bigint,addr:jsonb{city:text,zip:bigint},tags:jsonb[text],"
						"lines:jsonb[jsonb]{sku:text,qty:bigint},none:jsonb[],id2:jsonb");
	assert_ptr_equal(e[1]->rel, e[0]->rel);	/* nothing new */
	s[0] = '\0';
	deep_shape(e[2]->rel, s, sizeof(s));
	assert_string_equal(s, "_id:bigint,addr:jsonb{city:text,zip:bigint,geo:jsonb{lat:double "
						"precision}},tags:jsonb[text],lines:jsonb[jsonb]{sku:text,qty:bigint,"
						"note:text},none:jsonb[],id2:jsonb");
	assert_int_equal(e[2]->rel->version, 2);
	s[0] = '\0';
	deep_shape(e[3]->rel, s, sizeof(s));
	assert_non_null(strstr(s, "tags:jsonb[jsonb],"));	/* text and integer items */
	assert_non_null(strstr(s, "none:jsonb[boolean],"));
	assert_int_equal(e[3]->rel->version, 3);
	sc = trib_schema_of_relation(e[3]->rel, "mongodb", TRIB_SR_JSON, err, sizeof(err));
	assert_non_null(sc);
	js = trib_sr_schema_canonical(sc, NULL);
	assert_non_null(strstr(js, "\"geo\":"));
	assert_non_null(strstr(js, "\"lat\":"));
	assert_non_null(strstr(js, "\"note\":"));
	assert_non_null(strstr(js, "\"type\":\"array\""));
	trib_sr_schema_free(sc);
	sc = trib_schema_of_relation(e[3]->rel, "mongodb", TRIB_SR_AVRO, err, sizeof(err));
	assert_non_null(sc);		/* records named by their path, each once */
	js = trib_sr_schema_canonical(sc, NULL);
	assert_non_null(strstr(js, "\"addr_geo\""));
	assert_non_null(strstr(js, "\"lines\""));
	trib_sr_schema_free(sc);
	s[0] = '\0';
	deep_shape(e[4]->rel, s, sizeof(s));
	assert_non_null(strstr(s, "addr:jsonb,tags"));	/* an object and a string: plain */
	assert_int_equal(e[4]->rel->version, 4);
	for (int i = 0; i < 5; i++)
		trib_event_free(e[i]);
	trib_mongo_infer_free(inf);
}

/* The filter of `pipeline` as canonical JSON, or "refused: MESSAGE". */
static char *
match_of(const char *pipeline)
{
	bson_t		f;
	char		err[1024];
	char	   *j,
			   *out;

	if (!trib_mongo_match_filter(pipeline, &f, err, sizeof(err)))
	{
		out = malloc(strlen(err) + 10);
		sprintf(out, "refused: %s", err);
		bson_destroy(&f);
		return out;
	}
	j = bson_as_relaxed_extended_json(&f, NULL);
	out = strdup(j);
	bson_free(j);
	bson_destroy(&f);
	return out;
}

/* fullDocument.F and documentKey._id become the document's keys, inside
 * $and/$or/$nor too; what cannot apply to a document is refused, named. */
static void
test_match_becomes_a_document_filter(void **state)
{
	/* the filter a pipeline becomes (whole), or what its refusal says */
	static const struct
	{
		const char *pipeline;
		const char *want;
		bool		whole;
	}			cases[] = {
		{NULL, "{ }", true},
		{"[]", "{ }", true},
		{"[{\"$match\": {\"fullDocument.a.b\": {\"$gt\": 1}, "
			"\"$or\": [{\"documentKey._id\": 5}, {\"fullDocument.c\": \"x\"}]}}, "
			"{\"$match\": {\"fullDocument.keep\": true}}]",
			"{ \"$and\" : [ { \"a.b\" : { \"$gt\" : 1 }, \"$or\" : [ { \"_id\" : 5 }, "
		"{ \"c\" : \"x\" } ] }, { \"keep\" : true } ] }", true},
		{"[{\"$match\": {\"operationType\": \"insert\"}}]",
		"refused: pipeline[0].$match.operationType: cannot apply", false},
		{"[{\"$match\": {\"$and\": [{\"fullDocument.a\": 1}, {\"ns.coll\": \"x\"}]}}]",
		"refused: pipeline[0].$match.$and[1].ns.coll: cannot apply", false},
		{"[{\"$match\": {\"fullDocument\": {\"a\": 1}}}]",
		"refused: pipeline[0].$match.fullDocument: ", false},
		{"[{\"$match\": {\"fullDocument.a\": 1}}, {\"$project\": {\"x\": 1}}]",
		"refused: pipeline[1]: only $match stages", false},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char	   *s = match_of(cases[i].pipeline);

		if (cases[i].whole)
			assert_string_equal(s, cases[i].want);
		else
			assert_non_null(strstr(s, cases[i].want));
		free(s);
	}
}

/* A copied document: key {"_id"}, after the whole document, its int64
 * paths in extra only when asked (a Debezium sink needs them); one with a
 * string that is not UTF-8: no event, a message naming its _id; dates
 * after 9999 in a form Extended JSON readers take. */
static void
test_snap_event(void **state)
{
	bson_t	   *doc = BCON_NEW("_id", BCON_INT32(7), "name", BCON_UTF8("Zoë"));
	bson_t	   *doc64 = BCON_NEW("_id", BCON_INT32(9), "n", BCON_INT64(42));
	bson_t		bad = BSON_INITIALIZER;
	char		err[512] = "";
	trib_event *ev;

	(void) state;
	ev = trib_mongo_snap_event(doc, "shop", "orders", true, err, sizeof(err));
	assert_non_null(ev);
	assert_int_equal(ev->op, TRIB_OP_READ);
	assert_true(ev->snapshot);
	assert_string_equal(ev->key, "{ \"_id\" : 7 }");
	assert_string_equal(ev->after, "{ \"_id\" : 7, \"name\" : \"Zo\u00eb\" }");
	assert_null(ev->extra);		/* no int64 in it */
	trib_event_free(ev);

	ev = trib_mongo_snap_event(doc64, "shop", "orders", true, err, sizeof(err));
	assert_non_null(ev);
	assert_string_equal(ev->after, "{ \"_id\" : 9, \"n\" : 42 }");
	assert_string_equal(ev->extra, "{\"int64\":{\"after\":[[\"n\"]]}}");
	trib_event_free(ev);
	ev = trib_mongo_snap_event(doc64, "shop", "orders", false, err, sizeof(err));
	assert_non_null(ev);
	assert_string_equal(ev->after, "{ \"_id\" : 9, \"n\" : 42 }");
	assert_null(ev->extra);		/* not asked: not looked for */
	trib_event_free(ev);
	bson_destroy(doc64);

	bson_append_int32(&bad, "_id", 3, 8);
	bson_append_utf8(&bad, "name", 4, "Zo\xe9", 3);	/* Latin-1, not UTF-8 */
	ev = trib_mongo_snap_event(&bad, "shop", "orders", true, err, sizeof(err));
	assert_null(ev);
	assert_non_null(strstr(err, "snapshot: reading shop.orders: the document with { \"_id\" : 8 } "
						   "cannot be written as JSON"));
	bson_destroy(&bad);
	bson_destroy(doc);

	/* a copied document's date after 9999 (and an _id that is one): the
	 * $numberLong form, not libbson's ISO text with a five-digit year,
	 * which no Extended JSON reader takes (mongo_json.h) */
	doc = BCON_NEW("_id", BCON_DATE_TIME(INT64_C(253402300800000)),
				   "t", BCON_DATE_TIME(INT64_C(253402300800123)));
	ev = trib_mongo_snap_event(doc, "shop", "orders", false, err, sizeof(err));
	assert_non_null(ev);
	assert_string_equal(ev->key, "{ \"_id\" : { \"$date\" : { \"$numberLong\" : "
						"\"253402300800000\" } } }");
	assert_string_equal(ev->after, "{ \"_id\" : { \"$date\" : { \"$numberLong\" : "
						"\"253402300800000\" } }, \"t\" : { \"$date\" : { \"$numberLong\" : "
						"\"253402300800123\" } } }");
	trib_event_free(ev);
	bson_destroy(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_becomes_a_document_filter),
		cmocka_unit_test(test_progress_round_trip),
		cmocka_unit_test(test_resume_opaque),
		cmocka_unit_test(test_infer),
		cmocka_unit_test(test_infer_nested),
		cmocka_unit_test(test_snap_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
