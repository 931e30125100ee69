/*
 * test_legacy.c: the copy-and-sanitize format (legacy.c): translation into
 * native pipelines, the DAG's run order, and errors with file and line.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "kafka_conf.h"
#include "pg_source_conf.h"
#include "sink_file_conf.h"
#include "sink_postgres_conf.h"
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
load_err_with(const char *text, const trib_legacy_opts *o, const char *want)
{
	trib_legacy *lg = NULL;
	char		err[4096] = "";

	if (trib_legacy_load("old.yaml", text, strlen(text), o, &lg, err, sizeof(err)))
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
		assert_int_equal(trib_pg_source_conf_of(&cfg->sources[0])->snapshot, TRIB_SNAPSHOT_ONLY);
		assert_ptr_equal(cfg->sinks[0].plugin, &trib_sink_postgres);
		assert_true(trib_pgsink_conf_of(&cfg->sinks[0])->create_tables);
		assert_int_equal(cfg->checkpoint.store, TRIB_CHECKPOINT_FILE);
		assert_non_null(strstr(cfg->checkpoint.path, "/state/old-"));
		if (i == 0)
		{
			assert_int_equal(cfg->nrules, 0);
			assert_int_equal(trib_pg_source_conf_of(&cfg->sources[0])->include_tables.count, 2);
			assert_string_equal(trib_pg_source_conf_of(&cfg->sources[0])->include_tables.items[0], "public.countries");
			assert_string_equal(trib_pg_source_conf_of(&cfg->sources[0])->include_tables.items[1], "crm.regions");
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


/* Load text with opts and check each step's native configuration loads. */
static trib_legacy *
load_with(const char *text, const trib_legacy_opts *o)
{
	trib_legacy *lg = NULL;
	char		err[4096];

	if (!trib_legacy_load("seed.yaml", text, strlen(text), o, &lg, err, sizeof(err)))
		fail_msg("did not load: %s\n%s", err, text);
	return lg;
}

static trib_config *
native(const trib_legacy *lg, size_t i)
{
	trib_config *cfg = NULL;
	char		err[4096];

	if (!trib_config_load_buffer("gen", lg->steps[i].config, strlen(lg->steps[i].config),
								 &cfg, err, sizeof(err)))
		fail_msg("step %zu: %s\n%s", i, err, lg->steps[i].config);
	return cfg;
}

/* The tool's documented example (issue 18), byte for byte. */
static void
the_tools_example_translates_into_an_in_place_substitute(void **state)
{
	FILE	   *f = fopen(TRIB_TOP_SRCDIR "/consumer/test/e2e/fixtures/seed.yaml", "rb");
	char		text[4096];
	size_t		n;
	trib_legacy_opts o = {.state_dir = "/state", .key_env = "TRIB_TEST_KEY",
		.source_uri = "postgresql://app:s3cret@db.internal:6432/postgres?sslmode=require",
	.source_uri_from = "TRIBUTARY_SOURCE_URI"};
	trib_legacy *lg;
	trib_config *cfg;

	(void) state;
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	setenv("TRIB_TEST_KEY", "000102030405060708090a0b0c0d0e0f", 1);
	lg = load_with(text, &o);
	assert_int_equal(lg->nsteps, 1);
	assert_string_equal(lg->steps[0].name, "sanitize_clean");
	assert_string_equal(lg->steps[0].type, "sanitize_obfuscate");
	assert_int_equal(lg->steps[0].order, 2);
	assert_true(lg->steps[0].in_place);
	/* shown without the password */
	assert_null(strstr(lg->steps[0].source, "s3cret"));
	assert_non_null(strstr(lg->steps[0].source, "password='***'"));
	cfg = native(lg, 0);
	/* the bare name on the URI's server, its other settings kept */
	assert_string_equal(trib_pg_source_conf_of(&cfg->sources[0])->dsn,
						"user='app' password='s3cret' host='db.internal' port='6432' "
						"sslmode='require' dbname='financial_data_clean'");
	assert_string_equal(trib_pgsink_conf_of(&cfg->sinks[0])->dsn, trib_pg_source_conf_of(&cfg->sources[0])->dsn);
	assert_string_equal(trib_pgsink_conf_of(&cfg->sinks[0])->schema, "public");
	assert_string_equal(trib_pg_source_conf_of(&cfg->sources[0])->include_tables.items[0], "public.customers");
	assert_int_equal(cfg->nrules, 1);
	assert_int_equal(cfg->rules[0].type, TRIB_RULE_SUBSTITUTE);
	assert_string_equal(cfg->rules[0].kind, "username");
	assert_string_equal(cfg->rules[0].key, "000102030405060708090a0b0c0d0e0f");
	assert_string_equal(cfg->rules[0].fields.items[0], "username");
	trib_config_free(cfg);
	trib_legacy_free(lg);
	unsetenv("TRIB_TEST_KEY");
}

#define SANI(cols) \
	"pipelines:\n  - step: s\n    type: sanitize_obfuscate\n    source_db: prod\n" \
	"    dest_db: staging\n    collections:\n" cols

static void
fields_may_sit_under_a_fields_key(void **state)
{
	char		keyfile[64];
	FILE	   *kf;
	trib_legacy_opts o = {.state_dir = "/state", .key_file = keyfile};
	trib_legacy *lg;
	trib_config *cfg;

	(void) state;
	snprintf(keyfile, sizeof(keyfile), "/tmp/trib-key$1-%d", (int) getpid());
	assert_non_null(kf = fopen(keyfile, "w"));
	fputs("0123456789abcdef0123456789abcdef", kf);
	fclose(kf);
	lg = load_with(SANI("      customers:\n        fields:\n"
									 "          email: {strategy: substitute, params: {field_type: safe_email}}\n"
									 "          phone: {strategy: redact}\n"
									 "      notes:\n"
									 "        fields: {strategy: redact}\n"
									 "      weird$table:\n        fields:\n"), &o);
	cfg = native(lg, 0);
	unlink(keyfile);
	assert_false(lg->steps[0].in_place);
	assert_int_equal(cfg->nrules, 3);
	assert_string_equal(cfg->rules[0].kind, "safe_email");
	/* the default key from a file, its name taken literally */
	assert_string_equal(cfg->rules[0].key, "0123456789abcdef0123456789abcdef");
	assert_string_equal(cfg->rules[1].fields.items[0], "phone");
	/* a field called "fields" */
	assert_string_equal(cfg->rules[2].fields.items[0], "fields");
	assert_string_equal(cfg->rules[2].tables.items[0], "public.notes");
	assert_string_equal(trib_pg_source_conf_of(&cfg->sources[0])->include_tables.items[2], "public.weird$table");
	assert_string_equal(trib_pg_source_conf_of(&cfg->sources[0])->dsn, "dbname='prod'");
	assert_string_equal(trib_pgsink_conf_of(&cfg->sinks[0])->dsn, "dbname='staging'");
	trib_config_free(cfg);
	trib_legacy_free(lg);
}

static void
faker_names_and_the_default_key_reach_every_keyed_strategy(void **state)
{
	trib_legacy_opts o = {.state_dir = "/state", .key_env = "TRIB_TEST_KEY",
		.source_uri = "host=a port=5432", .dest_uri = "postgres://b:5433/x"};
	trib_legacy *lg;
	trib_config *cfg;

	(void) state;
	setenv("TRIB_TEST_KEY", "00112233445566778899aabbccddeeff", 1);
	lg = load_with(SANI("      crm.people:\n"
						"        a: {strategy: substitute, params: {kind: phone_number}}\n"
						"        b: {strategy: perturb, params: {percent: 5}}\n"
						"        c: {strategy: hash_salt}\n"
						"        d: {strategy: hash_salt, params: {salt: \"a-salt-of-16-bytes\"}}\n"
						"        e: {strategy: substitute, params: {field_type: credit_card_number, key_env: OWN_KEY}}\n"
						"        f: {strategy: sample, params: {fraction: 0.5}}\n"), &o);
	setenv("OWN_KEY", "ffeeddccbbaa99887766554433221100", 1);
	cfg = native(lg, 0);
	assert_false(lg->steps[0].in_place);
	assert_string_equal(trib_pgsink_conf_of(&cfg->sinks[0])->dsn, "host='b' port='5433' dbname='staging'");
	assert_string_equal(trib_pgsink_conf_of(&cfg->sinks[0])->schema, "crm");
	assert_string_equal(cfg->rules[0].kind, "phone_number");
	assert_string_equal(cfg->rules[0].key, "00112233445566778899aabbccddeeff");
	assert_string_equal(cfg->rules[1].key, "00112233445566778899aabbccddeeff");
	/* hash_salt: the default key as a key (auto), a salt as raw bytes */
	assert_string_equal(cfg->rules[2].key, "00112233445566778899aabbccddeeff");
	assert_int_equal(cfg->rules[2].key_format, TRIB_RKEY_AUTO);
	assert_string_equal(cfg->rules[3].key, "a-salt-of-16-bytes");
	assert_int_equal(cfg->rules[3].key_format, TRIB_RKEY_RAW);
	/* a strategy's own key wins */
	assert_string_equal(cfg->rules[4].key, "ffeeddccbbaa99887766554433221100");
	/* sample: the default key makes it unpredictable */
	assert_int_equal(cfg->rules[5].type, TRIB_RULE_SAMPLE);
	assert_string_equal(cfg->rules[5].key, "00112233445566778899aabbccddeeff");
	trib_config_free(cfg);
	trib_legacy_free(lg);
	/* without a default key: sample keeps the public one, the rest fail */
	o.key_env = NULL;
	lg = load_with(SANI("      t:\n        f: {strategy: sample, params: {percent: 5}}\n"), &o);
	cfg = native(lg, 0);
	assert_null(cfg->rules[0].key);
	trib_config_free(cfg);
	trib_legacy_free(lg);
	unsetenv("TRIB_TEST_KEY");
	unsetenv("OWN_KEY");
}

static void
same_names_on_different_servers_copy(void **state)
{
	const char *text = "pipelines:\n  - step: s\n    type: copy\n    source_db: shop\n"
		"    dest_db: shop\n    collections: {t: {}}\n";
	trib_legacy_opts o = {.state_dir = "/state", .source_uri = "host=prod",
	.dest_uri = "host=staging"};
	trib_legacy *lg = load_with(text, &o);

	(void) state;
	assert_false(lg->steps[0].in_place);
	trib_legacy_free(lg);
	/* one server for both: the dest defaults to the source's */
	o.dest_uri = NULL;
	load_err_with(text, &o, "step s copies a database onto itself");
}

/* A database an earlier step wrote is read where that step wrote it. */
static void
a_database_written_by_an_earlier_step_is_on_the_dest_server(void **state)
{
	const char *text = "pipelines:\n"
		"  - {step: mini, type: minimize, order: 3, source_db: clean, dest_db: small,\n"
		"     collections: {t: {id: {strategy: sample, params: {percent: 10}}}}}\n"
		"  - {step: copy, type: copy, order: 1, source_db: raw, dest_db: clean, collections: {t: }}\n"
		"  - {step: sani, type: sanitize_obfuscate, order: 2, source_db: clean, dest_db: clean,\n"
		"     collections: {t: {v: {strategy: redact}}}}\n";
	trib_legacy_opts o = {.state_dir = "/state", .source_uri = "host=prod",
	.dest_uri = "host=staging"};
	trib_legacy *lg = load_with(text, &o);

	(void) state;
	assert_string_equal(lg->steps[0].name, "copy");
	assert_string_equal(lg->steps[0].source, "dbname=\'raw\' host=\'prod\'");
	assert_string_equal(lg->steps[0].dest, "dbname=\'clean\' host=\'staging\'");
	assert_false(lg->steps[0].in_place);
	assert_string_equal(lg->steps[1].source, "dbname=\'clean\' host=\'staging\'");
	assert_true(lg->steps[1].in_place);
	assert_string_equal(lg->steps[2].source, "dbname=\'clean\' host=\'staging\'");
	assert_string_equal(lg->steps[2].dest, "dbname=\'small\' host=\'staging\'");
	assert_false(lg->steps[2].in_place);
	trib_legacy_free(lg);
}

/* ---- test/configs/bad/legacy: each file fails with its .expected text -------- */

static const char *const legacy_env[] = {"TRIBUTARY_KEY", "TRIBUTARY_KEY_FILE",
"TRIBUTARY_SOURCE_URI", "TRIBUTARY_DEST_URI", "TRIBUTARY_STATE_DIR", NULL};

static char *
slurp(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf = calloc(1, 65536);
	size_t		n;

	if (f == NULL)
		fail_msg("cannot read %s", path);
	n = fread(buf, 1, 65535, f);
	fclose(f);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}

/* The file's leading "# env: NAME=VALUE" lines, set; the others unset. */
static void
apply_env_lines(const char *text)
{
	for (int i = 0; legacy_env[i]; i++)
		unsetenv(legacy_env[i]);
	for (const char *p = text; strncmp(p, "# ", 2) == 0; p = strchr(p, '\n') + 1)
	{
		char		line[512];
		char	   *eq;

		snprintf(line, sizeof(line), "%.*s", (int) strcspn(p, "\n"), p);
		if (strncmp(line, "# env: ", 7) == 0 && (eq = strchr(line + 7, '=')) != NULL)
		{
			*eq = '\0';
			setenv(line + 7, eq + 1, 1);
		}
		if (strchr(p, '\n') == NULL)
			break;
	}
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static void
every_bad_legacy_file_fails_with_its_expected_message(void **state)
{
	const char *dir = TRIB_TOP_SRCDIR "/consumer/test/configs/bad/legacy";
	char		cwd[4096];
	char	   *names[64];
	size_t		n = 0;
	int			failures = 0;
	DIR		   *d = opendir(dir);
	struct dirent *e;

	(void) state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL && n < 64)
		if (strlen(e->d_name) > 5 && strcmp(e->d_name + strlen(e->d_name) - 5, ".yaml") == 0)
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(char *), cmp_names);
	assert_true(n >= 10);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	for (size_t i = 0; i < n; i++)
	{
		char		exp_path[512];
		char	   *text = slurp(names[i]);
		char	   *expected;
		char		err[8192] = "";
		trib_legacy_opts o;
		trib_legacy *lg = NULL;

		snprintf(exp_path, sizeof(exp_path), "%.*s.expected", (int) (strlen(names[i]) - 5),
				 names[i]);
		expected = slurp(exp_path);
		apply_env_lines(text);
		trib_legacy_opts_from_env(&o);
		o.state_dir = "/state";
		if (trib_legacy_load_file(names[i], &o, &lg, err, sizeof(err)) != -1)
		{
			print_error("%s: loaded, expected:\n%s\n", names[i], expected);
			failures++;
		}
		else if (strcmp(err, expected) != 0)
		{
			print_error("%s:\n  got:      %s\n  expected: %s\n", names[i], err, expected);
			failures++;
		}
		trib_legacy_free(lg);
		free(text);
		free(expected);
		free(names[i]);
	}
	for (int i = 0; legacy_env[i]; i++)
		unsetenv(legacy_env[i]);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(failures, 0);
}

/*
 * A FIFO (or a device) given as the file is refused at once: the probe for
 * a copy-and-sanitize file used to block in open() waiting for a writer,
 * so `check`, `run` and `snapshot -c FIFO` hung.  An alarm fails the test
 * instead of letting it hang.
 */
static void
a_fifo_is_refused_without_waiting_for_a_writer(void **state)
{
	char		dir[] = "/tmp/trib-test-legacy.XXXXXX";
	char		fifo[64];
	char		expected[128];
	char		err[512] = "";
	trib_legacy *lg = NULL;

	(void) state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(5);
	assert_int_equal(trib_legacy_load_file(fifo, &no_env, &lg, err, sizeof(err)), -1);
	alarm(0);
	snprintf(expected, sizeof(expected), "%s: not a regular file", fifo);
	assert_string_equal(err, expected);
	assert_null(lg);
	unlink(fifo);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_translation_and_order),
		cmocka_unit_test(test_map_of_steps_and_equal_orders),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(the_tools_example_translates_into_an_in_place_substitute),
		cmocka_unit_test(fields_may_sit_under_a_fields_key),
		cmocka_unit_test(faker_names_and_the_default_key_reach_every_keyed_strategy),
		cmocka_unit_test(same_names_on_different_servers_copy),
		cmocka_unit_test(a_database_written_by_an_earlier_step_is_on_the_dest_server),
		cmocka_unit_test(every_bad_legacy_file_fails_with_its_expected_message),
		cmocka_unit_test(a_fifo_is_refused_without_waiting_for_a_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
