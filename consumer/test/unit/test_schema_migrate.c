/*
 * test_schema_migrate.c: the schema stage's migrations without a catalog
 * (schema_migrate.h): the `schemas.migrations` keys and their errors
 * (file:line and key), the plan of a relation against the target's
 * fields (a field missing or extra is refused by name), and every step
 * on real row images: rename, add with a default, drop, cast, a Lua
 * merge, the target's field order, the key image and the unchanged
 * list.  The catalog side (the target looked up, events stamped, ALTER
 * TABLE under load, kill -9) is test/e2e/49_schema_migrate.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "event.h"
#include "schema_migrate.h"

static char errbuf[4096];

static const char base_yaml[] =
	"pipeline: shop\n"
	"sources:\n  main: {type: postgres, dsn: \"dbname=shop\"}\n"
	"sinks:\n  out: {type: stdout}\n"
	"schemas:\n"
	"  enabled: true\n"
	"  migrations:\n";

/* Load base_yaml + the migrations' lines; NULL with errbuf on errors. */
static trib_config *
load(const char *migrations)
{
	char		yaml[4096];
	trib_config *cfg = NULL;

	snprintf(yaml, sizeof(yaml), "%s%s", base_yaml, migrations);
	if (!trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, errbuf, sizeof(errbuf)))
		return NULL;
	return cfg;
}

/* The load must fail with `want` somewhere in its message. */
static void
refused(const char *migrations, const char *want)
{
	trib_config *cfg = load(migrations);

	if (cfg != NULL)
		fail_msg("expected an error, the config loaded:\n%s", migrations);
	if (strstr(errbuf, want) == NULL)
		fail_msg("wrong error\n  got:      %s\n  expected: ...%s...", errbuf, want);
}

static void
migrations_load_with_their_steps_in_order(void **state)
{
	trib_config *cfg = load("    - subject: main.public.orders\n"
							"      target: 1\n"
							"      steps:\n"
							"        - {rename: memo, to: note}\n"
							"        - {add: qty, default: 0, type: integer}\n"
							"        - {drop: extra, versions: [2, 3]}\n"
							"        - {cast: price, as: number}\n"
							"        - {set: name, lua: \"after.first .. ' ' .. after.last\"}\n");

	(void) state;
	if (cfg == NULL)
		fail_msg("%s", errbuf);
	assert_int_equal(cfg->schemas.nmigrations, 1);
	assert_string_equal(cfg->schemas.migrations[0].target, "1");
	assert_int_equal(cfg->schemas.migrations[0].nsteps, 5);
	assert_int_equal(cfg->schemas.migrations[0].steps[0].op, TRIB_MIGRATE_RENAME);
	assert_int_equal(cfg->schemas.migrations[0].steps[1].op, TRIB_MIGRATE_ADD);
	assert_string_equal(cfg->schemas.migrations[0].steps[1].def, "0");
	assert_int_equal(cfg->schemas.migrations[0].steps[2].versions.count, 2);
	assert_int_equal(cfg->schemas.migrations[0].steps[3].as, TRIB_CAST_NUMBER);
	assert_int_equal(cfg->schemas.migrations[0].steps[4].op, TRIB_MIGRATE_SET);
	assert_int_equal(cfg->schemas.migrations[0].steps[4].line, 16);
	trib_config_free(cfg);
}

static void
bad_steps_are_refused_with_their_line_and_key(void **state)
{
	static const char head[] = "    - subject: s\n      steps:\n";
	char		y[1024];

	(void) state;
	snprintf(y, sizeof(y), "%s        - {rename: a}\n", head);
	refused(y, "t.yaml:11:11: schemas.migrations[0].steps[0]: rename needs to");
	snprintf(y, sizeof(y), "%s        - {drop: a, add: b, default: 1}\n", head);
	refused(y, "schemas.migrations[0].steps[0]: a step needs exactly one operation (accepted: "
			"rename, add, drop, cast, set), got 2");
	snprintf(y, sizeof(y), "%s        - {add: a, default: \"n/a\"}\n", head);
	refused(y, "schemas.migrations[0].steps[0].default: not JSON");
	snprintf(y, sizeof(y), "%s        - {cast: a, as: date}\n", head);
	refused(y, "schemas.migrations[0].steps[0].as: ");
	snprintf(y, sizeof(y), "%s        - {drop: a, to: b}\n", head);
	refused(y, "schemas.migrations[0].steps[0].to: to is not a parameter of drop");
	snprintf(y, sizeof(y), "%s        - {set: a, lua: \"after.x +\"}\n", head);
	refused(y, "schemas.migrations[0].steps[0].lua: ");
	snprintf(y, sizeof(y), "%s        - {drop: a, versions: [0]}\n", head);
	refused(y, "\"0\" is not a schema version (accepted: 1 to 2147483647)");
	snprintf(y, sizeof(y), "%s        - {drop: a, colour: red}\n", head);
	refused(y, "schemas.migrations[0].steps[0].colour: unknown key for a migration step");
	refused("    - subject: s\n      target: newest\n      steps: [{drop: a}]\n",
			"t.yaml:10:15: schemas.migrations[0].target: \"newest\" is not a target "
			"(accepted: latest, or a version 1 to 2147483647)");
	refused("    - subject: s\n      steps: []\n", "a migration needs at least one step");
	refused("    - {subject: s, steps: [{drop: a}]}\n    - {subject: s, steps: [{drop: b}]}\n",
			"subject s has two migrations (items 0 and 1; accepted: one per subject)");
	refused("    - target: 2\n      steps: [{drop: a}]\n",
			"schemas.migrations[0].subject: required key is missing");
}

/* A list item or a key with no value (YAML null or empty) is an error at
 * its line, never a default or a step that does nothing or everything. */
static void
null_and_empty_items_are_refused_at_their_line(void **state)
{
	(void) state;
	refused("    - ~\n", "t.yaml:9:7: schemas.migrations[0]: expected a map with a "
			"migration's settings, got null");
	refused("    -\n", "t.yaml:9:6: schemas.migrations[0]: expected a map with a "
			"migration's settings, got null");
	refused("    - subject: s\n      steps:\n        - {drop: a}\n        -\n",
			"t.yaml:12:10: schemas.migrations[0].steps[1]: expected a map with a migration "
			"step's settings, got null");
	refused("    - subject: s\n      steps: [{drop: a}, ~]\n",
			"schemas.migrations[0].steps[1]: expected a map with a migration step's "
			"settings, got null");
	/* a null item is not also reported as a missing step */
	load("    - subject: s\n      steps: [~]\n");
	assert_null(strstr(errbuf, "needs at least one step"));
	refused("    - subject: s\n      steps: ~\n", "a migration needs at least one step");
	refused("    - {subject: s, steps: [{drop: ~}]}\n",
			"t.yaml:9:29: schemas.migrations[0].steps[0].drop: has no value (null or "
			"empty; accepted: a field name)");
	refused("    - subject: s\n      steps:\n        - drop:\n",
			"t.yaml:11:11: schemas.migrations[0].steps[0].drop: has no value");
	refused("    - {subject: s, steps: [{add: n, default: ~}]}\n",
			"schemas.migrations[0].steps[0].default: has no value (YAML null); a JSON null "
			"is written default: 'null'");
	refused("    - {subject: s, steps: [{rename: a, to: }]}\n",
			"schemas.migrations[0].steps[0].to: has no value");
	refused("    - {subject: s, steps: [{drop: a, versions: []}]}\n",
			"schemas.migrations[0].steps[0].versions: no versions (accepted: a list of one "
			"or more versions; leave versions out for every version but the target)");
	refused("    - {subject: s, steps: [{drop: a, versions: ~}]}\n",
			"schemas.migrations[0].steps[0].versions: no versions");
	refused("    - {subject: s, steps: [{drop: a, versions: [2, ~]}]}\n",
			"schemas.migrations[0].steps[0].versions[1]: \"~\" is not a schema version");
	refused("    - {subject: s, target: ~, steps: [{drop: a}]}\n",
			"schemas.migrations[0].target: has no value (null or empty; accepted: latest, "
			"or a version)");
}

static void
migrations_need_the_stage(void **state)
{
	trib_config *cfg = NULL;
	static const char y[] =
		"pipeline: shop\n"
		"sources:\n  main: {type: postgres, dsn: \"dbname=shop\"}\n"
		"sinks:\n  out: {type: stdout}\n"
		"schemas:\n"
		"  migrations: [{subject: s, steps: [{drop: a}]}]\n";

	(void) state;
	assert_false(trib_config_load_buffer("t.yaml", y, strlen(y), &cfg, errbuf, sizeof(errbuf)));
	assert_non_null(strstr(errbuf, "schemas.migrations: migrations need the schema stage "
						   "(enabled: true)"));
}

/* ---- plans and events ------------------------------------------------- */

/* Version 3 of public.orders: note renamed to memo, qty now text, extra
 * added, first/last split out of name. */
static trib_column v3_cols[] = {
	{.name = "id", .type = "integer", .pk = true},
	{.name = "memo", .type = "text", .nullable = true},
	{.name = "qty", .type = "text", .nullable = true},
	{.name = "extra", .type = "integer", .nullable = true},
	{.name = "first", .type = "text", .nullable = true},
	{.name = "last", .type = "text", .nullable = true},
};
static trib_relation v3 = {.schema = "public", .table = "orders", .columns = v3_cols,
.ncolumns = 6, .version = 7};

/* Version 1's fields, in its canonical (sorted) order. */
static char *v1_fields[] = {"id", "name", "note", "qty", "since"};

static const char v3_steps[] =
	"    - subject: main.public.orders\n"
	"      target: 1\n"
	"      steps:\n"
	"        - {rename: memo, to: note}\n"
	"        - {cast: qty, as: integer, type: integer}\n"
	"        - {drop: extra}\n"
	"        - {set: name, lua: \"(after.first or '') .. ' ' .. (after.last or '')\"}\n"
	"        - {drop: first}\n"
	"        - {drop: last}\n"
	"        - {add: since, default: '\"2020-01-01\"', type: date}\n";

typedef struct fixture
{
	trib_config *cfg;
	trib_migrate *m;
	const trib_migrate_subject *mg;
	trib_migrate_plan *p;
} fixture;

static int
setup(void **state)
{
	fixture    *f = calloc(1, sizeof(*f));

	f->cfg = load(v3_steps);
	if (f->cfg == NULL)
		fail_msg("%s", errbuf);
	if (!trib_migrate_new(&f->cfg->schemas, &f->m, errbuf, sizeof(errbuf)))
		fail_msg("%s", errbuf);
	f->mg = trib_migrate_find(f->m, "main.public.orders");
	assert_non_null(f->mg);
	assert_int_equal(trib_migrate_target(f->mg), 1);
	f->p = trib_migrate_plan_new(f->mg, &v3, 3, 1, v1_fields, 5, errbuf, sizeof(errbuf));
	if (f->p == NULL)
		fail_msg("%s", errbuf);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture    *f = *state;

	trib_migrate_plan_free(f->p);
	trib_migrate_free(f->m);
	trib_config_free(f->cfg);
	free(f);
	return 0;
}

static void
the_plan_gives_the_targets_relation_in_its_order(void **state)
{
	fixture    *f = *state;
	const trib_relation *r = trib_migrate_plan_relation(f->p);

	assert_int_equal(r->ncolumns, 5);
	for (int i = 0; i < 5; i++)
		assert_string_equal(r->columns[i].name, v1_fields[i]);
	assert_string_equal(r->columns[3].type, "integer");	/* qty: cast's type */
	assert_string_equal(r->columns[4].type, "date");	/* since: add's type */
	/* since: every row gets its non-null default; name: a Lua value */
	assert_false(r->columns[4].nullable);
	assert_true(r->columns[1].nullable);
	assert_true(r->columns[0].pk);
	assert_string_equal(r->table, "orders");
	assert_null(trib_migrate_find(f->m, "main.public.other"));
}

static void
an_update_is_migrated_in_both_images_and_its_key(void **state)
{
	fixture    *f = *state;
	trib_event	ev = {.op = TRIB_OP_UPDATE};

	ev.after = strdup("{\"id\":1,\"memo\":\"hi\",\"qty\":\"12\",\"extra\":5,"
					  "\"first\":\"Ada\",\"last\":\"Lovelace\"}");
	ev.before = strdup("{\"id\":1,\"memo\":null,\"qty\":null,\"extra\":null,"
					   "\"first\":\"A\",\"last\":null}");
	ev.key = strdup("{\"id\":1}");
	ev.unchanged = strdup("[\"memo\",\"extra\"]");
	if (!trib_migrate_plan_apply(f->m, f->p, &ev, errbuf, sizeof(errbuf)))
		fail_msg("%s", errbuf);
	assert_string_equal(ev.after, "{\"id\":1,\"name\":\"Ada Lovelace\",\"note\":\"hi\","
						"\"qty\":12,\"since\":\"2020-01-01\"}");
	assert_string_equal(ev.before, "{\"id\":1,\"name\":\"A \",\"note\":null,\"qty\":null,"
						"\"since\":\"2020-01-01\"}");
	assert_string_equal(ev.key, "{\"id\":1}");
	assert_string_equal(ev.unchanged, "[\"note\"]");
	trib_event_clear(&ev);
}

static void
numbers_keep_every_digit_and_a_delete_has_no_after(void **state)
{
	fixture    *f = *state;
	trib_event	ev = {.op = TRIB_OP_DELETE};

	ev.before = strdup("{\"id\":123456789012345678901234567890,\"memo\":\"x\","
					   "\"qty\":\"1\",\"extra\":null,\"first\":null,\"last\":null}");
	if (!trib_migrate_plan_apply(f->m, f->p, &ev, errbuf, sizeof(errbuf)))
		fail_msg("%s", errbuf);
	assert_null(ev.after);
	assert_string_equal(ev.before, "{\"id\":123456789012345678901234567890,\"name\":\" \","
						"\"note\":\"x\",\"qty\":1,\"since\":\"2020-01-01\"}");
	trib_event_clear(&ev);
}

static void
a_value_the_cast_refuses_names_the_step_and_field_not_the_value(void **state)
{
	fixture    *f = *state;
	trib_event	ev = {.op = TRIB_OP_CREATE};

	ev.after = strdup("{\"id\":2,\"memo\":\"x\",\"qty\":\"secret-7\",\"extra\":null,"
					  "\"first\":null,\"last\":null}");
	assert_false(trib_migrate_plan_apply(f->m, f->p, &ev, errbuf, sizeof(errbuf)));
	assert_string_equal(errbuf, "migration of subject main.public.orders, step at line 13, "
						"field qty: the value is not an integer");
	assert_null(strstr(errbuf, "secret"));
	trib_event_clear(&ev);
}

static void
a_field_left_over_or_missing_refuses_the_plan_by_name(void **state)
{
	fixture    *f = *state;
	char	   *more[] = {"id", "name", "note", "qty", "since", "zone"};
	char	   *fewer[] = {"id", "name", "note", "qty"};

	assert_null(trib_migrate_plan_new(f->mg, &v3, 3, 1, more, 6, errbuf, sizeof(errbuf)));
	assert_string_equal(errbuf, "migration of subject main.public.orders from version 3 to 1: "
						"field zone of version 1 is missing (accepted: a step that adds, sets "
						"or renames it)");
	assert_null(trib_migrate_plan_new(f->mg, &v3, 3, 1, fewer, 4, errbuf, sizeof(errbuf)));
	assert_string_equal(errbuf, "migration of subject main.public.orders from version 3 to 1: "
						"field since is not in version 1 (accepted: a step that drops or "
						"renames it)");
}

/* `tributary check` lists the steps a plan runs, in file order, by the
 * field each names; a plan at the target runs none. */
static void
a_plan_describes_its_steps_for_check(void **state)
{
	fixture    *f = *state;
	char		buf[512];
	char		tiny[12];
	trib_column c1[] = {{.name = "id", .type = "integer", .pk = true},
	{.name = "name", .type = "text"}, {.name = "note", .type = "text"},
	{.name = "qty", .type = "integer"}, {.name = "since", .type = "date"}};
	trib_relation r1 = {.schema = "public", .table = "orders", .columns = c1, .ncolumns = 5};
	trib_migrate_plan *p = trib_migrate_plan_new(f->mg, &r1, 1, 1, v1_fields, 5, errbuf,
												 sizeof(errbuf));

	trib_migrate_plan_describe(f->p, buf, sizeof(buf));
	assert_string_equal(buf, "rename memo -> note, cast qty, drop extra, set name, "
						"drop first, drop last, add since");
	trib_migrate_plan_describe(f->p, tiny, sizeof(tiny));
	assert_string_equal(tiny, "rename memo");	/* truncated, terminated */
	if (p == NULL)
		fail_msg("%s", errbuf);
	trib_migrate_plan_describe(p, buf, sizeof(buf));
	assert_string_equal(buf, "");
	trib_migrate_plan_free(p);
}

static void
events_at_the_target_are_only_put_in_its_order(void **state)
{
	fixture    *f = *state;
	trib_column c1[] = {{.name = "id", .type = "integer", .pk = true},
	{.name = "note", .type = "text"}, {.name = "qty", .type = "integer"},
	{.name = "name", .type = "text"}, {.name = "since", .type = "date"}};
	trib_relation r1 = {.schema = "public", .table = "orders", .columns = c1, .ncolumns = 5};
	trib_migrate_plan *p = trib_migrate_plan_new(f->mg, &r1, 1, 1, v1_fields, 5, errbuf,
												 sizeof(errbuf));
	trib_event	ev = {.op = TRIB_OP_CREATE};

	if (p == NULL)
		fail_msg("%s", errbuf);
	/* a rename whose old name is the target's (memo) is not applied at
	 * the target; no field moves but into the target's order */
	ev.after = strdup("{\"id\":3,\"note\":\"n\",\"qty\":4,\"name\":\"z\",\"since\":null}");
	ev.key = strdup("{\"id\":3}");
	assert_true(trib_migrate_plan_apply(f->m, p, &ev, errbuf, sizeof(errbuf)));
	assert_string_equal(ev.after, "{\"id\":3,\"name\":\"z\",\"note\":\"n\",\"qty\":4,"
						"\"since\":null}");
	trib_event_clear(&ev);
	trib_migrate_plan_free(p);
}

static void
versions_limit_a_step_to_the_events_of_those_versions(void **state)
{
	trib_config *cfg = load("    - subject: s\n"
							"      target: 1\n"
							"      steps:\n"
							"        - {drop: a, versions: [2]}\n"
							"        - {add: a, default: 9}\n");
	trib_migrate *m = NULL;
	trib_column c[] = {{.name = "id", .type = "integer"}, {.name = "a", .type = "integer"}};
	trib_relation r = {.schema = "public", .table = "t", .columns = c, .ncolumns = 2};
	char	   *fields[] = {"a", "id"};
	trib_migrate_plan *p2,
			   *p3;
	trib_event	ev = {.op = TRIB_OP_CREATE};

	(void) state;
	assert_non_null(cfg);
	assert_true(trib_migrate_new(&cfg->schemas, &m, errbuf, sizeof(errbuf)));
	p2 = trib_migrate_plan_new(trib_migrate_find(m, "s"), &r, 2, 1, fields, 2, errbuf,
							   sizeof(errbuf));
	p3 = trib_migrate_plan_new(trib_migrate_find(m, "s"), &r, 3, 1, fields, 2, errbuf,
							   sizeof(errbuf));
	assert_non_null(p2);
	assert_non_null(p3);
	ev.after = strdup("{\"id\":1,\"a\":5}");
	assert_true(trib_migrate_plan_apply(m, p2, &ev, errbuf, sizeof(errbuf)));
	assert_string_equal(ev.after, "{\"a\":9,\"id\":1}");	/* dropped, then the default */
	free(ev.after);
	ev.after = strdup("{\"id\":1,\"a\":5}");
	assert_true(trib_migrate_plan_apply(m, p3, &ev, errbuf, sizeof(errbuf)));
	assert_string_equal(ev.after, "{\"a\":5,\"id\":1}");	/* kept */
	trib_event_clear(&ev);
	trib_migrate_plan_free(p2);
	trib_migrate_plan_free(p3);
	trib_migrate_free(m);
	trib_config_free(cfg);
}

static void
a_step_on_a_key_column_migrates_the_key_image_too(void **state)
{
	trib_config *cfg = load("    - subject: s\n"
							"      target: 1\n"
							"      steps: [{rename: order_id, to: id}]\n");
	trib_migrate *m = NULL;
	trib_column c[] = {{.name = "order_id", .type = "integer", .pk = true},
	{.name = "a", .type = "integer"}};
	trib_relation r = {.schema = "public", .table = "t", .columns = c, .ncolumns = 2};
	char	   *fields[] = {"a", "id"};
	trib_migrate_plan *p;
	trib_event	ev = {.op = TRIB_OP_CREATE};

	(void) state;
	assert_non_null(cfg);
	assert_true(trib_migrate_new(&cfg->schemas, &m, errbuf, sizeof(errbuf)));
	p = trib_migrate_plan_new(trib_migrate_find(m, "s"), &r, 2, 1, fields, 2, errbuf,
							  sizeof(errbuf));
	assert_non_null(p);
	assert_true(trib_migrate_plan_relation(p)->columns[1].pk);
	ev.after = strdup("{\"order_id\":7,\"a\":1}");
	ev.key = strdup("{\"order_id\":7}");
	assert_true(trib_migrate_plan_apply(m, p, &ev, errbuf, sizeof(errbuf)));
	assert_string_equal(ev.after, "{\"a\":1,\"id\":7}");
	assert_string_equal(ev.key, "{\"id\":7}");
	trib_event_clear(&ev);
	trib_migrate_plan_free(p);
	trib_migrate_free(m);
	trib_config_free(cfg);
}

static void
avro_and_json_schema_documents_give_their_field_names(void **state)
{
	char	  **f = NULL;
	size_t		n = 0;

	(void) state;
	assert_true(trib_migrate_fields("{\"additionalProperties\":false,\"properties\":"
									"{\"id\":{\"type\":\"integer\"},\"note\":{}},"
									"\"type\":\"object\"}", &f, &n, errbuf,
									sizeof(errbuf)));
	assert_int_equal(n, 2);
	assert_string_equal(f[1], "note");
	trib_migrate_fields_free(f, n);
	assert_true(trib_migrate_fields("{\"type\":\"record\",\"name\":\"orders\",\"fields\":"
									"[{\"name\":\"qty\",\"type\":\"long\"},{\"name\":"
									"\"id\",\"type\":\"int\"}]}", &f, &n, errbuf,
									sizeof(errbuf)));
	assert_int_equal(n, 2);
	assert_string_equal(f[0], "qty");
	trib_migrate_fields_free(f, n);
	assert_false(trib_migrate_fields("{\"type\":\"string\"}", &f, &n, errbuf,
									 sizeof(errbuf)));
	assert_non_null(strstr(errbuf, "neither properties"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(migrations_load_with_their_steps_in_order),
		cmocka_unit_test(bad_steps_are_refused_with_their_line_and_key),
		cmocka_unit_test(null_and_empty_items_are_refused_at_their_line),
		cmocka_unit_test(migrations_need_the_stage),
		cmocka_unit_test_setup_teardown(the_plan_gives_the_targets_relation_in_its_order,
										setup, teardown),
		cmocka_unit_test_setup_teardown(an_update_is_migrated_in_both_images_and_its_key,
										setup, teardown),
		cmocka_unit_test_setup_teardown(numbers_keep_every_digit_and_a_delete_has_no_after,
										setup, teardown),
		cmocka_unit_test_setup_teardown(a_value_the_cast_refuses_names_the_step_and_field_not_the_value,
										setup, teardown),
		cmocka_unit_test_setup_teardown(a_field_left_over_or_missing_refuses_the_plan_by_name,
										setup, teardown),
		cmocka_unit_test_setup_teardown(events_at_the_target_are_only_put_in_its_order,
										setup, teardown),
		cmocka_unit_test_setup_teardown(a_plan_describes_its_steps_for_check,
										setup, teardown),
		cmocka_unit_test(versions_limit_a_step_to_the_events_of_those_versions),
		cmocka_unit_test(a_step_on_a_key_column_migrates_the_key_image_too),
		cmocka_unit_test(avro_and_json_schema_documents_give_their_field_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
