/*
 * test_schema_seed.c: a registered JSON Schema read back as a relation
 * (schema_seed.c), which a source that infers its relations (MongoDB,
 * infer_schema) starts from after a restart.  The round trip that matters:
 * a relation the inference made, as a registered JSON Schema, reads back
 * as a relation whose own schema is the same text.  Also the MongoDB
 * inference's use of it (mongo_infer.c with a host's `registered`): a
 * collection starts from the relation the host gives and widens it, and
 * from nothing when the host has none or fails.  The catalog side (the
 * latest version, the fingerprint check, the restart) is e2e 62 phase D.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mongo_infer.h"
#include "schema_int.h"
#include "schema_seed.h"

static char errbuf[512];

/* The canonical JSON Schema of rel as the MongoDB source's (malloc'd). */
static char *
schema_text(const trib_relation *rel)
{
	trib_sr_schema *s = trib_schema_of_relation(rel, "mongodb", TRIB_SR_JSON, errbuf,
												sizeof(errbuf));
	char	   *text;

	assert_non_null(s);
	text = strdup(trib_sr_schema_canonical(s, NULL));
	trib_sr_schema_free(s);
	return text;
}

/* Column name of rel (fails the test when absent). */
static const trib_column *
col(const trib_relation *rel, const char *name)
{
	for (int i = 0; i < rel->ncolumns; i++)
		if (strcmp(rel->columns[i].name, name) == 0)
			return &rel->columns[i];
	fail_msg("no column %s", name);
	return NULL;
}

static void
an_inferred_schema_reads_back_as_the_same_schema(void **state)
{
	trib_mongo_infer *inf = trib_mongo_infer_new();
	char		doc[] = "{\"_id\": {\"$oid\": \"5f1d7a2b9c1e4a3b2c1d0e0f\"}, \"s\": \"x\", "
		"\"i\": 1, \"l\": {\"$numberLong\": \"7\"}, \"f\": 1.5, \"d\": {\"$numberDecimal\": \"1.1\"}, "
		"\"b\": true, \"n\": null, \"when\": {\"$date\": \"2020-01-01T00:00:00Z\"}, "
		"\"addr\": {\"city\": \"c\", \"geo\": {\"lat\": 1.5}}, \"tags\": [\"a\"], \"none\": [], "
		"\"lines\": [{\"sku\": \"s\", \"qty\": 1}], \"grid\": [[1]], \"mixed\": 1, \"empty\": {}}";
	char		more[] = "{\"_id\": 2, \"mixed\": \"now text\"}";
	trib_event	ev = {.op = TRIB_OP_CREATE, .db = "shop", .table = "things", .after = doc};
	trib_relation *seeded;
	char	   *registered,
			   *again;

	(void) state;
	trib_mongo_infer_event(inf, &ev);
	ev.after = more;
	trib_mongo_infer_event(inf, &ev);
	assert_non_null(ev.rel);
	registered = schema_text(ev.rel);

	seeded = trib_schema_seed_relation(registered, "shop", "things", errbuf, sizeof(errbuf));
	if (seeded == NULL)
		fail_msg("%s in %s", errbuf, registered);
	again = schema_text(seeded);
	assert_string_equal(again, registered);

	assert_string_equal(seeded->schema, "shop");
	assert_string_equal(seeded->table, "things");
	assert_int_equal(seeded->ncolumns, ev.rel->ncolumns);
	assert_true(col(seeded, "_id")->pk);
	assert_false(col(seeded, "_id")->nullable);
	assert_true(col(seeded, "s")->nullable);
	assert_string_equal(col(seeded, "s")->type, "text");
	assert_string_equal(col(seeded, "i")->type, "bigint");
	assert_string_equal(col(seeded, "l")->type, "bigint");
	assert_string_equal(col(seeded, "f")->type, "double precision");
	/* numeric has double precision's JSON Schema: read back as that */
	assert_string_equal(col(seeded, "d")->type, "double precision");
	assert_string_equal(col(seeded, "b")->type, "boolean");
	assert_string_equal(col(seeded, "when")->type, "jsonb");
	assert_string_equal(col(seeded, "mixed")->type, "jsonb");
	assert_string_equal(col(seeded, "addr")->type, "jsonb");
	assert_null(col(seeded, "addr")->items);
	assert_string_equal(col(col(seeded, "addr")->fields, "geo")->fields->columns[0].type,
						"double precision");
	assert_string_equal(col(seeded, "tags")->items, "text");
	/* items of no type yet have any JSON's schema: read back as that */
	assert_string_equal(col(seeded, "none")->items, "jsonb");
	assert_string_equal(col(seeded, "lines")->items, "jsonb");
	assert_string_equal(col(col(seeded, "lines")->fields, "qty")->type, "bigint");
	assert_string_equal(col(seeded, "grid")->items, "jsonb");
	assert_null(col(seeded, "grid")->fields);
	assert_non_null(col(seeded, "empty")->fields);
	assert_int_equal(col(seeded, "empty")->fields->ncolumns, 0);
	for (int i = 0; i < seeded->ncolumns; i++)
		assert_string_not_equal(seeded->columns[i].name, "n");	/* null only: none */

	free(again);
	free(registered);
	trib_relation_free(seeded);
	trib_mongo_infer_free(inf);
}

/* doc is refused with an error that contains want. */
static void
refused(const char *doc, const char *want)
{
	trib_relation *r = trib_schema_seed_relation(doc, "shop", "t", errbuf, sizeof(errbuf));

	assert_null(r);
	if (strstr(errbuf, want) == NULL)
		fail_msg("error [%s] lacks [%s]", errbuf, want);
}

static void
what_an_inferred_schema_never_has_is_refused_with_its_path(void **state)
{
	(void) state;
	refused("[", "not JSON");
	refused("{\"type\": \"string\"}", "at /: not an object schema");
	refused("{\"type\": \"object\", \"properties\": []}", "at : \"properties\" is not an object");
	refused("{\"type\": \"object\", \"properties\": {\"x\": {\"oneOf\": [{\"type\": \"string\"}, "
			"{\"type\": \"integer\"}]}}}", "at /properties/x: not a type");
	refused("{\"type\": \"object\", \"properties\": {\"x\": {\"type\": \"object\", \"properties\": "
			"{\"y\": {\"type\": \"date\"}}}}}", "at /properties/x/properties/y: not a type");
	refused("{\"type\": \"object\", \"properties\": {\"x\": {\"type\": \"array\", \"items\": "
			"{\"type\": \"array\"}}}}", "at /properties/x/items: an array in an array");
}

static void
a_schema_that_only_looks_inferred_reads_back_as_another(void **state)
{
	/* a string with a format reads as text, whose schema has no format:
	 * the stage compares fingerprints and does not adopt it */
	const char *doc = "{\"type\": \"object\", \"required\": [\"_id\"], \"properties\": "
		"{\"_id\": {\"type\": \"string\"}, \"at\": {\"type\": \"string\", \"format\": \"date\"}}}";
	trib_relation *r = trib_schema_seed_relation(doc, "shop", "t", errbuf, sizeof(errbuf));
	char	   *text;

	(void) state;
	assert_non_null(r);
	text = schema_text(r);
	assert_null(strstr(text, "\"format\""));
	free(text);
	trib_relation_free(r);
}

/* A host's `registered`: the relation of the schema text in arg, or a
 * failure (arg NULL). */
static int
fake_registered(void *arg, const trib_event *ev, trib_relation **out, char *err, size_t errlen)
{
	*out = NULL;
	if (arg == NULL)
	{
		snprintf(err, errlen, "connection refused");
		return -1;
	}
	*out = trib_schema_seed_relation(arg, ev->db, ev->table, err, errlen);
	return *out != NULL;
}

/* The column names of the relation ev points to after the document doc. */
static char *
names_after(trib_mongo_infer *inf, const char *table, const char *doc)
{
	char	   *text = strdup(doc);
	trib_event	ev = {.op = TRIB_OP_CREATE, .source = "s", .db = "shop", .table = table,
	.after = text};
	char		buf[256] = "";

	trib_mongo_infer_event(inf, &ev);
	for (int i = 0; ev.rel && i < ev.rel->ncolumns; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? "," : "",
				 ev.rel->columns[i].name);
	free(text);
	return strdup(buf);
}

static void
a_collection_starts_from_the_hosts_relation_or_from_nothing(void **state)
{
	const char *registered = "{\"type\": \"object\", \"required\": [\"_id\"], \"properties\": {"
		"\"_id\": {\"type\": \"integer\"}, \"b\": {\"oneOf\": [{\"type\": \"null\"}, "
		"{\"type\": \"string\"}]}}}";
	trib_source_host host = {.arg = (void *) registered, .registered = fake_registered};
	trib_mongo_infer *inf = trib_mongo_infer_new();
	char	   *n;

	(void) state;
	trib_mongo_infer_seed_from(inf, &host);
	n = names_after(inf, "t", "{\"_id\": 1, \"a\": 2}");
	assert_string_equal(n, "_id,b,a");	/* the registered ones, then a */
	free(n);
	host.arg = NULL;			/* the catalog fails: from nothing */
	n = names_after(inf, "u", "{\"_id\": 1, \"a\": 2}");
	assert_string_equal(n, "_id,a");
	free(n);
	trib_mongo_infer_free(inf);

	inf = trib_mongo_infer_new();
	trib_mongo_infer_seed_from(inf, NULL);	/* no host: from nothing */
	n = names_after(inf, "t", "{\"_id\": 1}");
	assert_string_equal(n, "_id");
	free(n);
	trib_mongo_infer_free(inf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(an_inferred_schema_reads_back_as_the_same_schema),
		cmocka_unit_test(what_an_inferred_schema_never_has_is_refused_with_its_path),
		cmocka_unit_test(a_schema_that_only_looks_inferred_reads_back_as_another),
		cmocka_unit_test(a_collection_starts_from_the_hosts_relation_or_from_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
