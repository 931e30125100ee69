/*
 * test_pipeline_restart_backoff.c: the delays after which main.c builds a
 * retriable pipeline again are its first source's own reconnect backoff,
 * as that source's open set it (trib_pipeline_restart_backoff), whatever
 * the source's type: a postgres source's reconnect_backoff_ms (500/30000
 * by default, as main.c used before it asked the pipeline), and a mongodb
 * source's own; after a lost pipeline lock, LEADER_YIELD_MS at least.
 * The pipelines are built from loaded configs and connect nothing
 * (trib_pipeline_new).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "pipeline.h"
#include "pipeline_int.h"
#include "pipeline_yaml.h"

#define TAIL \
	TEST_FILE_CHECKPOINT_NO_HTTP \
	"sinks:\n" \
	"  out:\n" \
	"    type: stdout\n"
#define PG_SOURCE(extra) \
	"pipeline: shop\n" \
	"sources:\n" \
	"  main:\n" \
	"    type: postgres\n" \
	"    dsn: \"host=127.0.0.1 port=1 dbname=shop\"\n" \
	extra TAIL
#define MONGO_SOURCE(extra) TEST_MONGO_SOURCE extra TAIL

/* The restart backoff of the pipeline built from `yaml`. */
static void
restart_backoff_lost(const char *yaml, bool lock_lost, int *initial_ms, int *max_ms)
{
	trib_config *cfg = NULL;
	trib_pipeline *p;
	char		err[4096] = "";

	if (!trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err, sizeof(err)))
		fail_msg("the config did not load: %s\n--- config:\n%s", err, yaml);
	p = trib_pipeline_new(cfg, err, sizeof(err));
	if (p == NULL)
		fail_msg("the pipeline was not built: %s", err);
	p->lock_lost = lock_lost;
	trib_pipeline_restart_backoff(p, initial_ms, max_ms);
	trib_pipeline_free(p);
	trib_config_free(cfg);
}

static void
restart_backoff(const char *yaml, int *initial_ms, int *max_ms)
{
	restart_backoff_lost(yaml, false, initial_ms, max_ms);
}

/* A postgres source without reconnect_backoff_ms: 500 ms up to 30 s. */
static void
test_postgres_default_is_500_to_30000(void **state)
{
	int			initial = 0,
				max = 0;

	(void) state;
	restart_backoff(PG_SOURCE(""), &initial, &max);
	assert_int_equal(initial, 500);
	assert_int_equal(max, 30000);
}

/* A postgres source's configured reconnect_backoff_ms. */
static void
test_postgres_uses_its_reconnect_backoff(void **state)
{
	int			initial = 0,
				max = 0;

	(void) state;
	restart_backoff(PG_SOURCE("    reconnect_backoff_ms: {initial: 250, max: 4000}\n"),
					&initial, &max);
	assert_int_equal(initial, 250);
	assert_int_equal(max, 4000);
}

/* Another type: its own reconnect_backoff_ms, nothing of postgres's. */
static void
test_mongodb_uses_its_own_backoff(void **state)
{
	int			initial = 0,
				max = 0;

	(void) state;
	restart_backoff(MONGO_SOURCE("    reconnect_backoff_ms: {initial: 300, max: 9000}\n"),
					&initial, &max);
	assert_int_equal(initial, 300);
	assert_int_equal(max, 9000);
}

/* After a lost pipeline lock: LEADER_YIELD_MS at least, so that a standby
 * (trying every LEADER_RETRY_MS) takes the lock before this consumer
 * tries again; a longer configured backoff stands. */
static void
test_lost_lock_yields_to_the_standbys(void **state)
{
	int			initial = 0,
				max = 0;

	(void) state;
	restart_backoff_lost(PG_SOURCE("    reconnect_backoff_ms: {initial: 100, max: 1000}\n"),
						 true, &initial, &max);
	assert_int_equal(initial, LEADER_YIELD_MS);
	assert_true(LEADER_YIELD_MS > 2 * LEADER_RETRY_MS);
	assert_int_equal(max, LEADER_YIELD_MS);
	restart_backoff_lost(PG_SOURCE("    reconnect_backoff_ms: {initial: 5000, max: 9000}\n"),
						 true, &initial, &max);
	assert_int_equal(initial, 5000);
	assert_int_equal(max, 9000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_postgres_default_is_500_to_30000),
		cmocka_unit_test(test_postgres_uses_its_reconnect_backoff),
		cmocka_unit_test(test_mongodb_uses_its_own_backoff),
		cmocka_unit_test(test_lost_lock_yields_to_the_standbys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
