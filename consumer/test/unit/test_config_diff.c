/*
 * test_config_diff.c: what a reload changes and what it refuses
 * (config/config_diff.c), on configs loaded from inline YAML.
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
#include "config_diff.h"

#define SOURCES \
	"sources:\n" \
	"  main:\n" \
	"    type: postgres\n" \
	"    dsn: host=db dbname=shop\n"
#define SOURCE "pipeline: shop\n" SOURCES
#define SINK \
	"sinks:\n" \
	"  out: {type: file, path: /tmp/trib-diff-out.jsonl}\n"
#define RULE \
	"transforms:\n" \
	"  - {type: redact, name: mask_email, fields: [email]}\n"

static char errbuf[8192];

static trib_config *
load(const char *yaml)
{
	trib_config *cfg = NULL;

	if (!trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, errbuf, sizeof(errbuf)))
		fail_msg("expected the config to load, got:\n%s\n--- config:\n%s", errbuf, yaml);
	return cfg;
}

/* The diff of two YAML texts: its changes joined with "|", or "REFUSED: "
 * and the reason (static buffer). */
static const char *
diff(const char *from, const char *to)
{
	static char out[2048];
	trib_config *a = load(from),
			   *b = load(to);
	trib_config_diff d;

	trib_config_diff_make(a, b, &d);
	out[0] = '\0';
	if (d.refused != NULL)
		snprintf(out, sizeof(out), "REFUSED: %s", d.refused);
	else
		for (size_t i = 0; i < d.changes.count; i++)
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? "|" : "",
					 d.changes.items[i]);
	trib_config_diff_free(&d);
	trib_config_free(a);
	trib_config_free(b);
	return out;
}

static void
equal_files_and_reordered_maps_change_nothing(void **state)
{
	(void) state;
	assert_string_equal(diff(SOURCE SINK RULE, SOURCE SINK RULE), "");
	assert_string_equal(diff(SOURCE SINK RULE "# a comment\n", SINK SOURCE RULE), "");
	assert_string_equal(diff(SOURCE SINK "log: {level: info, format: text}\n",
							 SOURCE SINK "log: {format: text, level: info}\n"), "");
}

static void
rules_added_removed_changed_reordered(void **state)
{
	(void) state;
	assert_string_equal(diff(SOURCE SINK, SOURCE SINK RULE), "rule mask_email added");
	assert_string_equal(diff(SOURCE SINK RULE, SOURCE SINK), "rule mask_email removed");
	assert_string_equal(diff(SOURCE SINK RULE, SOURCE SINK
							 "transforms:\n  - {type: redact, name: mask_email, fields: [name]}\n"),
						"rule mask_email changed");
	assert_string_equal(diff(SOURCE SINK "transforms:\n  - {type: redact, name: a, fields: [x]}\n"
							 "  - {type: drop, name: b, fields: [y]}\n",
							 SOURCE SINK "transforms:\n  - {type: drop, name: b, fields: [y]}\n"
							 "  - {type: redact, name: a, fields: [x]}\n"),
						"rules reordered");
}

static void
sinks_added_and_removed_are_applied(void **state)
{
	(void) state;
	assert_string_equal(diff(SOURCE SINK, SOURCE SINK
							 "  extra: {type: file, path: /tmp/trib-diff-extra.jsonl}\n"),
						"sink extra added");
	assert_string_equal(diff(SOURCE SINK "  extra: {type: file, path: /tmp/trib-diff-extra.jsonl}\n",
							 SOURCE SINK), "sink extra removed");
	assert_string_equal(diff(SOURCE SINK, SOURCE SINK "log: {level: debug}\n"), "log changed");
}

static void
a_kept_member_changed_is_refused_with_its_key_and_line(void **state)
{
	(void) state;
	assert_string_equal(diff(SOURCE SINK, SOURCE "    slot: other\n" SINK),
						"REFUSED: t.yaml:6:11: sources.main.slot: changed, which a running "
						"pipeline cannot apply: its slot, its stored position and where it "
						"writes depend on its settings; add it under a new name instead");
	assert_string_equal(diff(SOURCE SINK, SOURCE
							 "sinks:\n  out: {type: file, path: /tmp/trib-diff-moved.jsonl}\n"),
						"REFUSED: t.yaml:7:27: sinks.out.path: changed, which a running "
						"pipeline cannot apply: its slot, its stored position and where it "
						"writes depend on its settings; add it under a new name instead");
}

static void
pipeline_http_checkpoint_and_source_count_are_refused(void **state)
{
	(void) state;
	assert_string_equal(diff(SOURCE SINK, "pipeline: shop2\n" SOURCES SINK),
						"REFUSED: t.yaml:1:11: pipeline: changed, which a running pipeline "
						"cannot apply: the pipeline's name names its slot, its lock and its "
						"checkpoint");
	assert_non_null(strstr(diff(SOURCE SINK, SOURCE SINK "http: {listen: \"127.0.0.1:9999\"}\n"),
						   "REFUSED: t.yaml:8:"));
	assert_non_null(strstr(diff(SOURCE SINK, SOURCE SINK "http: {listen: \"127.0.0.1:9999\"}\n"),
						   "http.listen: changed"));
	assert_non_null(strstr(diff(SOURCE SINK, SOURCE SINK "checkpoint: {store: file, path: "
								"/tmp/trib-diff-ckpt}\n"), "REFUSED: t.yaml:8:"));
	assert_non_null(strstr(diff(SOURCE SINK, SOURCE
								"  two:\n    type: postgres\n    dsn: host=db2 dbname=shop\n" SINK),
						   "REFUSED: t.yaml:3:3: sources: 2 source(s) where there were 1"));
}

static void
fingerprint_is_the_sha256_of_the_bytes(void **state)
{
	trib_config *cfg = load(SOURCE SINK);
	char		fp[TRIB_CONFIG_FINGERPRINT_LEN];
	char		cmd[256];
	char		want[80] = "";
	FILE	   *f = fopen("/tmp/trib-diff-fp.yaml", "w");

	(void) state;
	assert_non_null(f);
	fputs(SOURCE SINK, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "sha256sum /tmp/trib-diff-fp.yaml");
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(want, sizeof(want), f));
	pclose(f);
	want[64] = '\0';
	trib_config_fingerprint(cfg, fp);
	assert_string_equal(fp, want);
	remove("/tmp/trib-diff-fp.yaml");
	trib_config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(equal_files_and_reordered_maps_change_nothing),
		cmocka_unit_test(rules_added_removed_changed_reordered),
		cmocka_unit_test(sinks_added_and_removed_are_applied),
		cmocka_unit_test(a_kept_member_changed_is_refused_with_its_key_and_line),
		cmocka_unit_test(pipeline_http_checkpoint_and_source_count_are_refused),
		cmocka_unit_test(fingerprint_is_the_sha256_of_the_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
