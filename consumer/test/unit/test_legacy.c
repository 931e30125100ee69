/*
 * test_legacy.c: the copy-and-sanitize format (legacy.c): translation into
 * native pipelines, the DAG's run order, and errors with file and line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "legacy.h"

#define STEP(name, type, order, extra, cols) \
	"  - step: " name "\n    type: " type "\n    order: " #order "\n" extra \
	"    source_db: postgresql://prod/shop\n    dest_db: \"host=staging dbname=shop\"\n" \
	"    collections:\n" cols

/* Nothing from the environment: no server URIs, no default key. */
static const trib_legacy_opts no_env = {.state_dir = "/state"};

static trib_legacy *
load_ok(const char *text)
{
	trib_legacy *lg = NULL;
	char		err[4096];

	if (!trib_legacy_load("old.yaml", text, strlen(text), &no_env, &lg, err, sizeof(err)))
		fail_msg("did not load: %s\n%s", err, text);
	return lg;
}

static void
load_err(const char *text, const char *want)
{
	trib_legacy *lg = NULL;
	char		err[4096] = "";

	if (trib_legacy_load("old.yaml", text, strlen(text), &no_env, &lg, err, sizeof(err)))
		fail_msg("loaded:\n%s", text);
	if (strstr(err, want) == NULL)
		fail_msg("expected \"%s\" in:\n%s", want, err);
}

static void
test_detect(void **state)
{
	(void) state;
	assert_true(trib_legacy_detect("pipelines:\n  - step: a\n", 21));
	assert_false(trib_legacy_detect("pipeline: shop\nsources: {}\n", 28));
	assert_false(trib_legacy_detect("# pipelines:\npipeline: x\n", 25));
}

static void
test_translation_and_order(void **state)
{
	const char *text = "pipelines:\n"
		STEP("mini", "minimize", 3, "    depends_on: [sani]\n",
			 "      orders:\n        customer_id: {strategy: sample, params: {fraction: 0.25}}\n")
		STEP("sani", "sanitize_obfuscate", 2, "",
			 "      customers:\n"
			 "        email: {strategy: hash_salt, params: {salt: \"0123456789abcdefXYZ\", length: 16}}\n"
			 "        phone: {strategy: redact, params: {mask_char: \"#\"}}\n")
		STEP("ref", "copy", 1, "", "      countries: {}\n      crm.regions: {}\n");
	trib_legacy *lg = load_ok(text);
	trib_config *cfg = NULL;
	char		err[4096];

	(void) state;
	assert_int_equal(lg->nsteps, 3);
	assert_string_equal(lg->steps[0].name, "ref");
	assert_string_equal(lg->steps[1].name, "sani");
	assert_string_equal(lg->steps[2].name, "mini");
	/* every generated configuration is a valid native pipeline */
	for (size_t i = 0; i < 3; i++)
	{
		if (!trib_config_load_buffer("gen", lg->steps[i].config, strlen(lg->steps[i].config),
									 &cfg, err, sizeof(err)))
			fail_msg("step %zu: %s\n%s", i, err, lg->steps[i].config);
		assert_int_equal(cfg->sources[0].pg.snapshot, TRIB_SNAPSHOT_ONLY);
		assert_int_equal(cfg->sinks[0].type, TRIB_SINK_POSTGRES);
		assert_true(cfg->sinks[0].postgres.create_tables);
		assert_int_equal(cfg->checkpoint.store, TRIB_CHECKPOINT_FILE);
		assert_non_null(strstr(cfg->checkpoint.path, "/state/old-"));
		if (i == 0)
		{
			assert_int_equal(cfg->nrules, 0);
			assert_int_equal(cfg->sources[0].pg.include_tables.count, 2);
			assert_string_equal(cfg->sources[0].pg.include_tables.items[0], "public.countries");
			assert_string_equal(cfg->sources[0].pg.include_tables.items[1], "crm.regions");
		}
		if (i == 1)
		{
			assert_int_equal(cfg->nrules, 2);
			assert_int_equal(cfg->rules[0].type, TRIB_RULE_HASH);
			assert_string_equal(cfg->rules[0].key, "0123456789abcdefXYZ");
			assert_int_equal(cfg->rules[0].key_format, TRIB_RKEY_RAW);
			assert_string_equal(cfg->rules[0].context, "email");
			assert_int_equal(cfg->rules[0].length, 16);
			assert_string_equal(cfg->rules[0].tables.items[0], "public.customers");
			assert_int_equal(cfg->rules[1].type, TRIB_RULE_REDACT);
			assert_string_equal(cfg->rules[1].mask_char, "#");
		}
		if (i == 2)
		{
			assert_int_equal(cfg->rules[0].type, TRIB_RULE_SAMPLE);
			assert_string_equal(cfg->rules[0].percent, "25");
			assert_string_equal(cfg->rules[0].by, "customer_id");
		}
		trib_config_free(cfg);
	}
	trib_legacy_free(lg);
}

static void
test_map_of_steps_and_equal_orders(void **state)
{
	const char *text = "pipelines:\n"
		"  b:\n    type: copy\n    order: 1\n    source_db: x\n    dest_db: y\n    collections: {t2: {}}\n"
		"  a:\n    type: copy\n    order: 1\n    source_db: x\n    dest_db: y\n    collections: {t1: {}}\n";
	trib_legacy *lg = load_ok(text);

	(void) state;
	assert_int_equal(lg->nsteps, 2);
	/* equal orders and no dependency: file order */
	assert_string_equal(lg->steps[0].name, "b");
	trib_legacy_free(lg);
}

static void
test_errors(void **state)
{
	(void) state;
	load_err("pipelines:\n" STEP("s", "sanitize_obfuscate", 1, "",
								 "      c:\n        f: {strategy: scramble}\n"),
			 "old.yaml:9:23: pipelines[0].collections.c.f: unknown strategy \"scramble\" "
			 "(accepted: redact, substitute, perturb, hash_salt, sample)");
	load_err("pipelines:\n" STEP("s", "copy", 1, "", "      c:\n        f: {strategy: redact}\n"),
			 "a copy step copies as is");
	load_err("pipelines:\n" STEP("s", "minimize", 1, "", "      c:\n        f: {strategy: sample}\n"),
			 "strategy sample needs params: percent (0 to 100) or fraction (0 to 1)");
	load_err("pipelines:\n" STEP("s", "minimize", 1, "",
								 "      c:\n        f: {strategy: sample, params: {rate: 3}}\n"),
			 "unknown parameter rate for strategy sample (accepted: percent, fraction)");
	load_err("pipelines:\n" STEP("a", "copy", 1, "    depends_on: [b]\n", "      c: {}\n")
			 STEP("b", "copy", 2, "", "      d: {}\n"),
			 "the steps' depends_on and order form a cycle");
	load_err("pipelines:\n" STEP("a", "copy", 1, "    depends_on: [zz]\n", "      c: {}\n"),
			 "no step named \"zz\"");
	load_err("pipelines:\n" STEP("a", "cleanse", 1, "", "      c: {}\n"),
			 "unknown step type \"cleanse\" (accepted: copy, sanitize_obfuscate, minimize)");
	load_err("pipelines:\n  - step: a\n    type: copy\n    source_db: mongodb://h/db\n"
			 "    dest_db: x\n    collections: {c: {}}\n",
			 "MongoDB databases are not supported by this version");
	load_err("pipelines:\n" STEP("a", "copy", 1, "    colour: red\n", "      c: {}\n"),
			 "unknown key colour");
	load_err("pipelines: []\n", "expected a list (or map) of steps");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_translation_and_order),
		cmocka_unit_test(test_map_of_steps_and_equal_orders),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
