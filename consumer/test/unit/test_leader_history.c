/*
 * test_leader_history.c: when a consumer that takes the pipeline lock
 * waits LEADER_TAKEOVER_MS before writing (pipeline_int.h's
 * pl_lock_history, used by pipeline_open.c's become_leader), and how a
 * pipeline records, when freed, the way it gave the lock up.
 *
 * The cases: a fresh process takes a free lock at once and waits after a
 * takeover; one that saw the lock held by another, or lost it, waits at
 * every acquisition (the consumer that took it may have just lost it and
 * still write: e2e 123's repeated and lost rows); except right after it
 * released the lock cleanly itself, which is a reload (e2e 64 waited 3 s
 * at each, as a standby of itself), and only by a leader that finished its
 * takeover wait (one stopped inside it records no release), and of that
 * pipeline's lock only (a legacy file's next step is another pipeline).
 * The pipelines are built from a
 * loaded config and connect nothing (trib_pipeline_new); their lock is a
 * fake kind whose check answers as told.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "leader.h"
#include "pipeline.h"
#include "pipeline_int.h"
#include "pipeline_yaml.h"

#define T0 100000LL				/* a monotonic time, ms */

/* A fresh process: a free lock is taken at once, a takeover waits. */
static void
test_fresh_process_waits_only_after_a_takeover(void **state)
{
	pl_lock_history h = {0};

	(void) state;
	assert_false(pl_lock_takeover_waits(&h, false, T0));
	assert_true(pl_lock_takeover_waits(&h, true, T0));
	assert_false(pl_lock_just_released(&h, T0));
}

/* Once it saw the lock held by another consumer, every later acquisition
 * waits, even of a free lock, however much later. */
static void
test_seen_held_waits_at_every_acquisition(void **state)
{
	pl_lock_history h = {0};

	(void) state;
	pl_lock_saw_held(&h);
	assert_true(pl_lock_takeover_waits(&h, false, T0));
	assert_true(pl_lock_takeover_waits(&h, false, T0 + 3600 * 1000));
}

/* A consumer that lost the lock and was built again waits before it takes
 * a lock that was just freed: the consumer that took it over may have
 * lost it in turn a moment ago and still write. */
static void
test_lost_lock_waits_before_taking_a_free_lock(void **state)
{
	pl_lock_history h = {0};

	(void) state;
	pl_lock_lost(&h);
	assert_true(pl_lock_takeover_waits(&h, false, T0));
	assert_false(pl_lock_just_released(&h, T0));
}

/* A reload: the process released the lock cleanly and takes it again at
 * once, contended before or not, without the wait; a held lock then is
 * retried (our own ending session), not waited on as a standby.  After
 * LEADER_REBUILT_MS, the contended process waits again. */
static void
test_reload_takes_the_lock_back_without_waiting(void **state)
{
	pl_lock_history h = {0};

	(void) state;
	pl_lock_saw_held(&h);
	pl_lock_released(&h, "shop", T0);
	assert_true(pl_lock_just_released(&h, T0 + 5));
	assert_false(pl_lock_takeover_waits(&h, false, T0 + 5));
	assert_false(pl_lock_takeover_waits(&h, false, T0 + LEADER_REBUILT_MS - 1));
	/* a standby took it meanwhile and we took it over from it: wait */
	assert_true(pl_lock_takeover_waits(&h, true, T0 + 5));
	assert_false(pl_lock_just_released(&h, T0 + LEADER_REBUILT_MS));
	assert_true(pl_lock_takeover_waits(&h, false, T0 + LEADER_REBUILT_MS));
	/* anyone who took it after our release waits LEADER_TAKEOVER_MS
	 * before writing: longer than our window without a wait */
	assert_true(LEADER_REBUILT_MS < LEADER_TAKEOVER_MS);
	assert_true(LEADER_REBUILT_RETRY_MS < LEADER_REBUILT_MS);
}

/* A loss after a clean release ends the window. */
static void
test_loss_ends_the_reload_window(void **state)
{
	pl_lock_history h = {0};

	(void) state;
	pl_lock_released(&h, "shop", T0);
	pl_lock_lost(&h);
	assert_false(pl_lock_just_released(&h, T0 + 5));
	assert_true(pl_lock_takeover_waits(&h, false, T0 + 5));
}

/* A release is of one pipeline's lock: building another pipeline (a
 * legacy file's next step) forgets it; the same pipeline keeps it. */
static void
test_release_is_of_one_pipeline(void **state)
{
	pl_lock_history h = {0};

	(void) state;
	pl_lock_released(&h, "shop", T0);
	pl_lock_for(&h, "shop");
	assert_true(pl_lock_just_released(&h, T0 + 5));
	pl_lock_for(&h, "shop_2");
	assert_false(pl_lock_just_released(&h, T0 + 5));
}

/* ------------------------------------------------ trib_pipeline_free */

static bool fake_check_ok;

static int
fake_try(void *impl, char *errbuf, size_t errlen)
{
	(void) impl;
	(void) errbuf;
	(void) errlen;
	return 1;
}

static bool
fake_check(void *impl, char *errbuf, size_t errlen)
{
	(void) impl;
	if (!fake_check_ok)
		snprintf(errbuf, errlen, "fake: lost");
	return fake_check_ok;
}

static void
fake_free(void *impl)
{
	(void) impl;
}

static const trib_leader_ops fake_ops = {
	.kind = "fake lock",
	.try_lock = fake_try,
	.check = fake_check,
	.free = fake_free,
};

/* Build a pipeline, give it the fake lock (taken when led), mark it lost
 * when lost, set the check's answer, free it; the process's history
 * after, which starts contended and without a release. */
static pl_lock_history
free_pipeline(bool led, bool lost, bool check_ok)
{
	static const char yaml[] =
		"pipeline: shop\n"
		"sources:\n"
		"  main:\n"
		"    type: postgres\n"
		"    dsn: \"host=127.0.0.1 port=1 dbname=shop\"\n"
		TEST_FILE_CHECKPOINT_NO_HTTP
		"sinks:\n"
		"  out:\n"
		"    type: stdout\n";
	trib_config *cfg = NULL;
	trib_pipeline *p;
	char		err[4096] = "";
	pl_lock_history *h = pl_process_lock_history();

	*h = (pl_lock_history) {.contended = true};
	if (!trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err, sizeof(err)))
		fail_msg("the config did not load: %s", err);
	p = trib_pipeline_new(cfg, err, sizeof(err));
	if (p == NULL)
		fail_msg("the pipeline was not built: %s", err);
	p->leader = trib_leader_new(&fake_ops, 8, "shop");
	if (led)
	{
		assert_int_equal(trib_leader_try(p->leader, err, sizeof(err)), 1);
		p->led = true;
	}
	p->lock_lost = lost;
	fake_check_ok = check_ok;
	trib_pipeline_free(p);
	trib_config_free(cfg);
	return *h;
}

/* A leader that still holds the lock when freed (a reload, a stop)
 * records a clean release: the pipeline built next takes the lock back
 * without the takeover wait. */
static void
test_free_while_holding_records_a_release(void **state)
{
	pl_lock_history h;

	(void) state;
	h = free_pipeline(true, false, true);
	assert_true(h.released_at > 0);
	assert_false(pl_lock_takeover_waits(&h, false, h.released_at + 1));
}

/* One that finds the lock gone when freed lost it; one that stopped on a
 * lost lock, or never took it (a standby), records no release. */
static void
test_free_without_the_lock_records_no_release(void **state)
{
	pl_lock_history h;

	(void) state;
	h = free_pipeline(true, false, false);
	assert_true(h.contended);
	assert_int_equal(h.released_at, 0);
	h = free_pipeline(true, true, true);
	assert_int_equal(h.released_at, 0);
	h = free_pipeline(false, false, true);
	assert_int_equal(h.released_at, 0);
}

/* ------------------------------------------ become_leader, stopped */

static volatile sig_atomic_t open_stop;
static trib_source_ops stop_ops;
static const int *try_answers;	/* try_lock's answers in turn */
static int	try_calls;

/* The lock answers as told; once taken, the daemon is told to stop (a
 * SIGTERM), which ends a takeover wait at once. */
static int
stop_try(void *impl, char *errbuf, size_t errlen)
{
	int			rc = try_answers[try_calls++];

	(void) impl;
	(void) errbuf;
	(void) errlen;
	if (rc == 1)
		open_stop = 1;
	return rc;
}

static const trib_leader_ops stop_lock_ops = {
	.kind = "fake lock",
	.try_lock = stop_try,
	.check = fake_check,
	.free = fake_free,
};

static struct trib_leader *
stop_leader(const struct trib_plugin_conf *conf, const char *pipeline)
{
	(void) conf;
	return trib_leader_new(&stop_lock_ops, 8, pipeline);
}

/* Build pipeline `name` with that lock (its checkpoint store cannot open:
 * a leader fails right after become_leader), open it and free it; the
 * trib_pipeline_open answer. */
static int
open_with_lock(const char *name, const int *answers)
{
	char		yaml[1024];
	trib_config *cfg = NULL;
	trib_pipeline *p;
	char		err[4096] = "";
	int			rc;

	snprintf(yaml, sizeof(yaml),
			 "pipeline: %s\n"
			 "sources:\n"
			 "  main:\n"
			 "    type: postgres\n"
			 "    dsn: \"host=127.0.0.1 port=1 dbname=shop\"\n"
			 TEST_FILE_CHECKPOINT_NO_HTTP
			 "sinks:\n"
			 "  out:\n"
			 "    type: stdout\n", name);
	if (!trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err, sizeof(err)))
		fail_msg("the config did not load: %s", err);
	p = trib_pipeline_new(cfg, err, sizeof(err));
	if (p == NULL)
		fail_msg("the pipeline was not built: %s", err);
	stop_ops = *p->srcs[0].src.ops;
	stop_ops.leader = stop_leader;
	p->srcs[0].src.ops = &stop_ops;
	open_stop = 0;
	try_answers = answers;
	try_calls = 0;
	fake_check_ok = true;
	rc = trib_pipeline_open(p, &open_stop, err, sizeof(err));
	trib_pipeline_free(p);
	trib_config_free(cfg);
	return rc;
}

/*
 * A contended process takes the lock and must wait LEADER_TAKEOVER_MS
 * (the consumer that held it may still write); stopped during that wait,
 * it never was the writing leader: freed with the lock still held, it
 * records no clean release, or the pipeline built next (a reload) would
 * take the lock back without the wait the interrupted one never finished.
 */
static void
test_stop_in_the_takeover_wait_records_no_release(void **state)
{
	static const int free_lock[] = {1};
	pl_lock_history *h = pl_process_lock_history();

	(void) state;
	*h = (pl_lock_history) {.contended = true};
	assert_int_equal(open_with_lock("shop", free_lock), 0);
	assert_true(h->contended);
	assert_int_equal(h->released_at, 0);
}

/*
 * The clean release just before was of another pipeline's lock (a legacy
 * file's steps, each a pipeline of its own, run one after the other in a
 * process): this pipeline's lock, held, is another consumer's, not our
 * ending session's.  It is waited on as a standby, and the takeover that
 * follows waits LEADER_TAKEOVER_MS (here cut short by the stop).
 */
static void
test_a_release_of_another_pipeline_is_no_reload(void **state)
{
	static const int held_then_free[] = {0, 1};
	pl_lock_history *h = pl_process_lock_history();

	(void) state;
	free_pipeline(true, false, true);	/* "shop" released its lock now */
	assert_true(h->released_at > 0);
	h->contended = false;
	assert_int_equal(open_with_lock("other", held_then_free), 0);
	assert_int_equal(try_calls, 2);
	assert_true(h->contended);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_process_waits_only_after_a_takeover),
		cmocka_unit_test(test_seen_held_waits_at_every_acquisition),
		cmocka_unit_test(test_lost_lock_waits_before_taking_a_free_lock),
		cmocka_unit_test(test_reload_takes_the_lock_back_without_waiting),
		cmocka_unit_test(test_loss_ends_the_reload_window),
		cmocka_unit_test(test_release_is_of_one_pipeline),
		cmocka_unit_test(test_free_while_holding_records_a_release),
		cmocka_unit_test(test_free_without_the_lock_records_no_release),
		cmocka_unit_test(test_stop_in_the_takeover_wait_records_no_release),
		cmocka_unit_test(test_a_release_of_another_pipeline_is_no_reload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
