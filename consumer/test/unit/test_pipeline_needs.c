/*
 * test_pipeline_needs.c: the pipeline hands its sources what its sinks'
 * records need beyond what every event carries (source.h needs, the union
 * of the sinks' sink.h needs()), so a source does per-event work only for
 * a sink that reads it: a MongoDB source marks its int64 values
 * (TRIB_NEED_INT64_TYPES, source/mongodb/mongo_int64.h) only when some
 * Kafka sink writes `format: debezium`.  The pipelines are built from
 * loaded configs and connect nothing (trib_pipeline_new); what the source
 * then does with the flag is test_mongo_event.c's and
 * test_mongo_snapshot.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "event.h"
#include "pipeline.h"
#include "pipeline_yaml.h"
#include "source.h"

#define MONGO_SOURCE TEST_MONGO_SOURCE TEST_FILE_CHECKPOINT_NO_HTTP
#define KAFKA_SINK(name, format) \
	"  " name ":\n" \
	"    type: kafka\n" \
	"    bootstrap_servers: \"127.0.0.1:1\"\n" \
	"    format: " format "\n"
#define FILE_SINK(name) \
	"  " name ":\n" \
	"    type: file\n" \
	"    path: /nonexistent/out.jsonl\n"

/* The needs the pipeline of `yaml` gives its first source. */
static unsigned
source_needs(const char *yaml)
{
	trib_config *cfg = NULL;
	trib_pipeline *p;
	char		err[4096] = "";
	unsigned	needs;

	if (!trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err, sizeof(err)))
		fail_msg("the config did not load: %s\n--- config:\n%s", err, yaml);
	p = trib_pipeline_new(cfg, err, sizeof(err));
	if (p == NULL)
		fail_msg("the pipeline was not built: %s", err);
	assert_int_equal(trib_pipeline_nsources(p), 1);
	needs = trib_pipeline_source(p, 0)->needs;
	trib_pipeline_free(p);
	trib_config_free(cfg);
	return needs;
}

/* A Debezium sink, alone or beside others: the source marks int64s. */
static void
test_debezium_sink_needs_int64_types(void **state)
{
	(void) state;
	assert_int_equal(source_needs(MONGO_SOURCE "sinks:\n" KAFKA_SINK("k", "debezium")),
					 TRIB_NEED_INT64_TYPES);
	assert_int_equal(source_needs(MONGO_SOURCE "sinks:\n" FILE_SINK("f")
										  KAFKA_SINK("t", "tributary")
										  KAFKA_SINK("k", "debezium")),
					 TRIB_NEED_INT64_TYPES);
}

/* No Debezium sink (the default format, a file sink): nothing asked. */
static void
test_no_debezium_sink_needs_nothing(void **state)
{
	(void) state;
	assert_int_equal(source_needs(MONGO_SOURCE "sinks:\n" KAFKA_SINK("t", "tributary")), 0);
	assert_int_equal(source_needs(MONGO_SOURCE "sinks:\n" FILE_SINK("f")
										  KAFKA_SINK("t", "tributary")), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debezium_sink_needs_int64_types),
		cmocka_unit_test(test_no_debezium_sink_needs_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
