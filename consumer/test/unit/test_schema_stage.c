/*
 * test_schema_stage.c: the schema stage's parts that need no catalog: a
 * relation's schema through libtribsr (schema_table.c) and a migrated
 * relation's fields against its target's (trib_schema_same_fields), the `schemas`
 * section's defaults, and a stage that is off or meets an event without a
 * relation (schema_stage.c).  The catalog side (find, check, register,
 * the policies) is tested end to end by test/e2e/45_schema_stage.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "metrics.h"
#include "schema_int.h"
#include "schema_stage.h"

static trib_column cols[] = {
	{.name = "id", .type = "integer", .nullable = false, .pk = true},
	{.name = "note", .type = "character varying(20)", .nullable = true},
	{.name = "extra", .type = "numeric(12,2)", .nullable = true},
};

static trib_relation
relation(int ncolumns)
{
	trib_relation r = {.schema = "public", .table = "orders", .columns = cols,
	.ncolumns = ncolumns, .version = 1};

	return r;
}

static char errbuf[512];

static void
a_relation_becomes_the_closed_json_schema_of_its_rows(void **state)
{
	trib_relation r = relation(2);
	trib_sr_schema *s = trib_schema_of_relation(&r, NULL, TRIB_SR_JSON, errbuf, sizeof(errbuf));
	const char *doc;

	(void) state;
	assert_non_null(s);
	doc = trib_sr_schema_canonical(s, NULL);
	assert_non_null(strstr(doc, "\"additionalProperties\":false"));
	assert_non_null(strstr(doc, "\"required\":[\"id\"]"));
	assert_non_null(strstr(doc, "\"maxLength\":20"));
	assert_non_null(strstr(doc, "\"title\":\"public.orders\""));
	trib_sr_schema_free(s);
}

static void
the_same_shape_has_the_same_fingerprint_and_a_new_column_another(void **state)
{
	trib_relation r2 = relation(2);
	trib_relation r3 = relation(3);
	trib_sr_schema *a = trib_schema_of_relation(&r2, NULL, TRIB_SR_JSON, errbuf, sizeof(errbuf));
	trib_sr_schema *b = trib_schema_of_relation(&r2, NULL, TRIB_SR_JSON, errbuf, sizeof(errbuf));
	trib_sr_schema *c = trib_schema_of_relation(&r3, NULL, TRIB_SR_JSON, errbuf, sizeof(errbuf));
	char		ha[65],
				hb[65],
				hc[65];

	(void) state;
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	trib_sr_schema_sha256_hex(a, ha);
	trib_sr_schema_sha256_hex(b, hb);
	trib_sr_schema_sha256_hex(c, hc);
	assert_string_equal(ha, hb);
	assert_string_not_equal(ha, hc);
	trib_sr_schema_free(a);
	trib_sr_schema_free(b);
	trib_sr_schema_free(c);
}

static void
avro_is_a_record_named_after_the_table(void **state)
{
	trib_relation r = relation(3);
	trib_sr_schema *s = trib_schema_of_relation(&r, NULL, TRIB_SR_AVRO, errbuf, sizeof(errbuf));
	const char *doc;

	(void) state;
	assert_non_null(s);
	doc = trib_sr_schema_canonical(s, NULL);
	assert_non_null(strstr(doc, "\"name\":\"orders\""));
	assert_non_null(strstr(doc, "\"namespace\":\"public\""));
	assert_non_null(strstr(doc, "\"logicalType\":\"decimal\""));
	trib_sr_schema_free(s);
}

static void
a_malformed_type_names_the_table_and_the_column(void **state)
{
	trib_column bad[] = {{.name = "price", .type = "numeric(x,2)", .nullable = true}};
	trib_relation r = {.schema = "public", .table = "orders", .columns = bad, .ncolumns = 1};

	(void) state;
	assert_null(trib_schema_of_relation(&r, NULL, TRIB_SR_JSON, errbuf, sizeof(errbuf)));
	assert_non_null(strstr(errbuf, "table public.orders, column price: "));
}

/* The canonical text of r's schema in fmt (malloc'd). */
static char *
doc_of(const trib_relation *r, trib_sr_format fmt)
{
	trib_sr_schema *s = trib_schema_of_relation(r, NULL, fmt, errbuf, sizeof(errbuf));
	char	   *doc;

	assert_non_null(s);
	doc = strdup(trib_sr_schema_canonical(s, NULL));
	trib_sr_schema_free(s);
	return doc;
}

static void
a_migrated_relation_must_give_each_field_the_targets_schema(void **state)
{
	static const trib_sr_format fmts[] = {TRIB_SR_JSON, TRIB_SR_AVRO};
	trib_column retyped[] = {cols[0], cols[1],
	{.name = "extra", .type = "numeric(12,4)", .nullable = true}};
	trib_column required[] = {cols[0],
	{.name = "note", .type = "character varying(20)", .nullable = false}, cols[2]};
	trib_relation r = relation(3);
	trib_relation renamed = relation(3);
	trib_relation r2 = relation(3);

	(void) state;
	renamed.table = "orders_old";
	for (size_t i = 0; i < 2; i++)
	{
		char	   *target = doc_of(&r, fmts[i]);

		assert_int_equal(trib_schema_same_fields(&r, NULL, fmts[i], target, "version 1",
												 errbuf, sizeof(errbuf)), 1);
		/* the table's name is not a field: a renamed table still matches */
		assert_int_equal(trib_schema_same_fields(&renamed, NULL, fmts[i], target, "version 1",
												 errbuf, sizeof(errbuf)), 1);
		/* the same name, another type: the field and both schemas named */
		r2.columns = retyped;
		assert_int_equal(trib_schema_same_fields(&r2, NULL, fmts[i], target, "version 1",
												 errbuf, sizeof(errbuf)), 0);
		assert_non_null(strstr(errbuf, "field extra is "));
		assert_non_null(strstr(errbuf, fmts[i] == TRIB_SR_JSON ? "\"multipleOf\":0.0001"
							   : "\"scale\":4"));
		assert_non_null(strstr(errbuf, " in version 1"));
		/* fewer fields */
		r2.columns = cols;
		r2.ncolumns = 2;
		assert_int_equal(trib_schema_same_fields(&r2, NULL, fmts[i], target, "version 1",
												 errbuf, sizeof(errbuf)), 0);
		r2.ncolumns = 3;
		free(target);
	}
	/* NOT NULL where the target's field is nullable: JSON Schema says so
	 * by `required` */
	{
		char	   *target = doc_of(&r, TRIB_SR_JSON);

		r2.columns = required;
		assert_int_equal(trib_schema_same_fields(&r2, NULL, TRIB_SR_JSON, target, "version 1",
												 errbuf, sizeof(errbuf)), 0);
		assert_non_null(strstr(errbuf, "field note is "));
		assert_non_null(strstr(errbuf, ", required but "));
		free(target);
	}
	/* a target that is not a schema of the format */
	assert_int_equal(trib_schema_same_fields(&r, NULL, TRIB_SR_AVRO, "{\"type\":", "version 1",
											 errbuf, sizeof(errbuf)), -1);
	assert_true(errbuf[0] != '\0');
}

/* doc with `add` written just after the first `at` (malloc'd). */
static char *
insert_after(const char *doc, const char *at, const char *add)
{
	const char *p = strstr(doc, at);
	char	   *out;
	size_t		n;

	if (p == NULL)
		fail_msg("no %s in %s", at, doc);
	n = (size_t) (p - doc) + strlen(at);
	out = malloc(strlen(doc) + strlen(add) + 1);
	assert_non_null(out);
	memcpy(out, doc, n);
	strcpy(out + n, add);
	strcat(out, doc + n);
	return out;
}

/*
 * A target version registered with annotations on its fields (Avro: doc,
 * default, aliases, order; JSON Schema: title, description, default,
 * examples, $comment), as a Confluent client often registers one, gives
 * its fields the same schema: they change neither the bytes written nor
 * what a value may be.
 */
static void
annotations_of_a_targets_field_are_not_its_schema(void **state)
{
	trib_relation r = relation(3);
	char	   *avro = doc_of(&r, TRIB_SR_AVRO);
	char	   *json = doc_of(&r, TRIB_SR_JSON);
	char	   *avro_t = insert_after(avro, "\"name\":\"note\"",
									  ",\"doc\":\"free text\",\"aliases\":[\"remark\"],"
									  "\"order\":\"ignore\"");
	char	   *json_t = insert_after(json, "\"note\":{",
									  "\"title\":\"Note\",\"description\":\"free text\","
									  "\"default\":null,\"examples\":[\"x\"],\"$comment\":\"c\",");

	char	   *dflt = strstr(avro_t, "\"default\":null,\"name\":\"note\"");

	(void) state;
	/* and no default for the nullable field */
	assert_non_null(dflt);
	memmove(dflt, dflt + strlen("\"default\":null,"), strlen(dflt + strlen("\"default\":null,")) + 1);
	if (trib_schema_same_fields(&r, NULL, TRIB_SR_AVRO, avro_t, "version 1", errbuf,
								sizeof(errbuf)) != 1)
		fail_msg("Avro: %s", errbuf);
	if (trib_schema_same_fields(&r, NULL, TRIB_SR_JSON, json_t, "version 1", errbuf,
								sizeof(errbuf)) != 1)
		fail_msg("JSON Schema: %s", errbuf);
	free(avro_t);
	free(json_t);
	/* a type stays the schema: another maxLength is refused */
	json_t = insert_after(json, "\"note\":{", "\"description\":\"d\",");
	avro_t = strstr(json_t, "\"maxLength\":20");
	assert_non_null(avro_t);
	avro_t[strlen("\"maxLength\":2")] = '1';
	assert_int_equal(trib_schema_same_fields(&r, NULL, TRIB_SR_JSON, json_t, "version 1", errbuf,
											 sizeof(errbuf)), 0);
	free(json_t);
	free(avro);
	free(json);
}

static const char base_yaml[] =
	"pipeline: shop\n"
	"sources:\n  main: {type: postgres, dsn: \"dbname=shop\"}\n"
	"sinks:\n  out: {type: stdout}\n";

static trib_config *
load(const char *extra)
{
	char		yaml[1024];
	trib_config *cfg = NULL;

	snprintf(yaml, sizeof(yaml), "%s%s", base_yaml, extra);
	if (!trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, errbuf, sizeof(errbuf)))
		fail_msg("%s", errbuf);
	return cfg;
}

static size_t
fake_format_id(const trib_position *pos, char *buf, size_t len)
{
	(void) pos;
	return (size_t) snprintf(buf, len, "0/0:0");
}

static void
the_section_defaults_to_off_json_fail_and_the_source_schema_table_subject(void **state)
{
	trib_config *cfg = load("");
	trib_metrics *m = trib_metrics_new();
	trib_schema_stage *st = (trib_schema_stage *) 1;
	trib_event ev = {0};
	trib_relation r = relation(1);

	(void) state;
	assert_false(cfg->schemas.enabled);
	assert_int_equal(cfg->schemas.format, 0);
	assert_int_equal(cfg->schemas.on_incompatible, TRIB_SCHEMAS_FAIL);
	assert_string_equal(cfg->schemas.subject, "${source}.${schema}.${table}");
	assert_true(trib_schema_stage_new(cfg, m, fake_format_id, &st, errbuf, sizeof(errbuf)));
	assert_null(st);
	/* off: events pass unstamped */
	ev.rel = &r;
	assert_true(trib_schema_stage_apply(NULL, &ev, errbuf, sizeof(errbuf)));
	assert_false(trib_schema_stage_retriable(NULL));
	assert_int_equal(ev.schema_id, 0);
	assert_int_equal(ev.schema_version, 0);
	trib_metrics_free(m);
	trib_config_free(cfg);
}

static void
an_event_without_a_relation_needs_no_catalog(void **state)
{
	/* a dsn nothing listens on: any catalog query would fail */
	trib_config *cfg = load("checkpoint: {store: file, path: /tmp/x.ckpt}\n"
							"schemas: {enabled: true, format: avro, on_incompatible: warn,\n"
							"  dsn: \"host=/nonexistent dbname=x connect_timeout=2\"}\n");
	trib_metrics *m = trib_metrics_new();
	trib_schema_stage *st = NULL;
	trib_event ev = {0};

	(void) state;
	assert_int_equal(cfg->schemas.format, 1);
	assert_int_equal(cfg->schemas.on_incompatible, TRIB_SCHEMAS_WARN);
	assert_true(trib_schema_stage_new(cfg, m, fake_format_id, &st, errbuf, sizeof(errbuf)));
	assert_non_null(st);
	ev.op = TRIB_OP_MESSAGE;
	assert_true(trib_schema_stage_apply(st, &ev, errbuf, sizeof(errbuf)));
	assert_int_equal(ev.schema_id, 0);
	trib_schema_stage_free(st);
	trib_metrics_free(m);
	trib_config_free(cfg);
}

static void
a_catalog_that_cannot_be_reached_stops_the_event(void **state)
{
	trib_config *cfg = load("checkpoint: {store: file, path: /tmp/x.ckpt}\n"
							"schemas: {enabled: true,\n"
							"  dsn: \"host=/nonexistent dbname=x connect_timeout=2\"}\n");
	trib_metrics *m = trib_metrics_new();
	trib_schema_stage *st = NULL;
	trib_event ev = {0};
	trib_relation r = relation(2);

	(void) state;
	assert_true(trib_schema_stage_new(cfg, m, fake_format_id, &st, errbuf, sizeof(errbuf)));
	ev.rel = &r;
	ev.source = "main";
	ev.schema = "public";
	ev.table = "orders";
	assert_false(trib_schema_stage_apply(st, &ev, errbuf, sizeof(errbuf)));
	assert_non_null(strstr(errbuf, "schema registry catalog: "));
	assert_true(trib_schema_stage_retriable(st));
	assert_int_equal(ev.schema_id, 0);
	trib_schema_stage_free(st);
	trib_metrics_free(m);
	trib_config_free(cfg);
}

static void
enabled_without_any_catalog_dsn_is_refused(void **state)
{
	trib_config *cfg = load("checkpoint: {store: file, path: /tmp/x.ckpt}\n"
							"schemas: {enabled: true}\n");
	trib_metrics *m = trib_metrics_new();
	trib_schema_stage *st = NULL;

	(void) state;
	assert_false(trib_schema_stage_new(cfg, m, fake_format_id, &st, errbuf, sizeof(errbuf)));
	assert_null(st);
	assert_non_null(strstr(errbuf, "schemas needs a dsn"));
	trib_metrics_free(m);
	trib_config_free(cfg);
}

/* The load of base_yaml + extra must fail with `want` in its message. */
static void
refused(const char *extra, const char *want)
{
	char		yaml[2048];
	trib_config *cfg = NULL;

	snprintf(yaml, sizeof(yaml), "%s%s", base_yaml, extra);
	if (trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, errbuf, sizeof(errbuf)))
		fail_msg("expected an error, the config loaded:\n%s", extra);
	if (strstr(errbuf, want) == NULL)
		fail_msg("wrong error\n  got:      %s\n  expected: ...%s...", errbuf, want);
}

static void
quarantine_needs_another_sink_and_only_with_that_policy(void **state)
{
	static const char two_sinks[] = "  held: {type: file, path: /tmp/held.jsonl}\n";
	char		y[1024];
	trib_config *cfg;

	(void) state;
	snprintf(y, sizeof(y), "%sschemas: {enabled: true, on_incompatible: quarantine}\n",
			 two_sinks);
	refused(y, "schemas.quarantine: on_incompatible: quarantine needs quarantine (the name "
			"of the sink that receives those events)");
	snprintf(y, sizeof(y), "%sschemas: {enabled: true, quarantine: held}\n", two_sinks);
	refused(y, "t.yaml:7:38: schemas.quarantine: quarantine is only used with "
			"on_incompatible: quarantine");
	snprintf(y, sizeof(y), "%sschemas: {enabled: true, on_incompatible: quarantine, "
			 "quarantine: nope}\n", two_sinks);
	refused(y, "schemas.quarantine: no sink named \"nope\"");
	refused("schemas: {enabled: true, on_incompatible: quarantine, quarantine: out}\n",
			"schemas.quarantine: the quarantine sink would be the only sink");
	snprintf(y, sizeof(y), "%sdead_letter: held\nschemas: {enabled: true, on_incompatible: "
			 "quarantine, quarantine: held}\n", two_sinks);
	refused(y, "schemas.quarantine: sink held is the dead_letter sink (accepted: another sink)");
	cfg = load("  held: {type: file, path: /tmp/held.jsonl}\n"
			   "schemas: {enabled: true, on_incompatible: quarantine, quarantine: held}\n");
	assert_int_equal(cfg->schemas.on_incompatible, TRIB_SCHEMAS_QUARANTINE);
	assert_string_equal(cfg->schemas.quarantine, "held");
	trib_config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_relation_becomes_the_closed_json_schema_of_its_rows),
		cmocka_unit_test(the_same_shape_has_the_same_fingerprint_and_a_new_column_another),
		cmocka_unit_test(avro_is_a_record_named_after_the_table),
		cmocka_unit_test(a_malformed_type_names_the_table_and_the_column),
		cmocka_unit_test(a_migrated_relation_must_give_each_field_the_targets_schema),
		cmocka_unit_test(annotations_of_a_targets_field_are_not_its_schema),
		cmocka_unit_test(the_section_defaults_to_off_json_fail_and_the_source_schema_table_subject),
		cmocka_unit_test(an_event_without_a_relation_needs_no_catalog),
		cmocka_unit_test(a_catalog_that_cannot_be_reached_stops_the_event),
		cmocka_unit_test(enabled_without_any_catalog_dsn_is_refused),
		cmocka_unit_test(quarantine_needs_another_sink_and_only_with_that_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
