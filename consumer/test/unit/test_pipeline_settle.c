/*
 * test_pipeline_settle.c: the end of a burst is checkpointed and
 * confirmed promptly (pipeline_run.c).  Once the source fell silent for
 * SETTLE_MS and no sink owes acks, pl_settled() holds, at most once per
 * SETTLE_EVERY_MS counted from the last save it caused (a periodic save
 * just before does not hold it back), and pl_turn_wait() ends the turn's
 * wait at that moment while ended transactions wait for confirmation,
 * instead of sleeping POLL_TIMEOUT_MS (the source's next item or status
 * update): the last 100 to 300 ms of a W1 round.  Once the moment has
 * passed, the wait is the usual one again (no busy loop), and a busy
 * turn's unreported confirmation makes the next wait ACK_POLL_MS.  And
 * pl_advance() observes each transaction that becomes durable once in
 * the latency histograms (pipeline_advance.c: runs of equal latencies
 * recorded together).  The pipeline is built from a config and connects
 * nothing (trib_pipeline_new); the queue and the sinks' ack state are
 * set by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "config.h"
#include "pipeline.h"
#include "pipeline_int.h"

typedef struct
{
	char		dir[64];
	char		yaml[1024];
	trib_config *cfg;
	trib_pipeline *p;
} fixture;

/* A pipeline of one postgres source and one sink, nothing connected. */
static void
fx_open(fixture *fx)
{
	char		err[4096] = "";

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/trib_settle.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		fail_msg("mkdtemp failed");
	snprintf(fx->yaml, sizeof(fx->yaml),
			 "pipeline: shop\n"
			 "sources:\n"
			 "  main:\n"
			 "    type: postgres\n"
			 "    dsn: \"host=127.0.0.1 port=1 dbname=shop\"\n"
			 "sinks:\n"
			 "  out:\n"
			 "    type: stdout\n"
			 "checkpoint:\n"
			 "  store: file\n"
			 "  path: %s/t.ckpt\n"
			 "http:\n"
			 "  enabled: false\n", fx->dir);
	if (!trib_config_load_buffer("t.yaml", fx->yaml, strlen(fx->yaml), &fx->cfg, err,
								 sizeof(err)))
		fail_msg("the config did not load: %s", err);
	fx->p = trib_pipeline_new(fx->cfg, err, sizeof(err));
	if (fx->p == NULL)
		fail_msg("the pipeline was not built: %s", err);
	fx->p->last_settle_ms = trib_clock_mono_ms() - 10 * SETTLE_EVERY_MS;
}

static void
fx_close(fixture *fx)
{
	fx->p->qlen = 0;
	trib_pipeline_free(fx->p);
	trib_config_free(fx->cfg);
	rmdir(fx->dir);
}

/* The sink was handed an event it has not acknowledged. */
static void
owes(fixture *fx)
{
	fx->p->sinks[0].has_written = true;
	fx->p->sinks[0].has_acked = false;
}

/* The wait must lie in [lo, hi] ms (the clock moves between reads). */
static void
assert_wait_between(int wait, int lo, int hi)
{
	if (wait < lo || wait > hi)
		fail_msg("expected a wait of %d to %d ms, got %d ms", lo, hi, wait);
}

/* A transaction ended and every sink has it: the wait ends when the source
 * has been silent for SETTLE_MS, not after POLL_TIMEOUT_MS. */
static void
test_wait_ends_when_the_source_can_settle(void **state)
{
	fixture		fx;
	long long	last_data;

	(void) state;
	fx_open(&fx);
	fx.p->qlen = 1;
	last_data = trib_clock_mono_ms() - 3;
	assert_wait_between(pl_turn_wait(fx.p, last_data), 1, SETTLE_MS - 3);
	fx_close(&fx);
}

/* Nothing waits for confirmation: the usual wait. */
static void
test_nothing_to_confirm_waits_as_usual(void **state)
{
	fixture		fx;

	(void) state;
	fx_open(&fx);
	assert_int_equal(pl_turn_wait(fx.p, trib_clock_mono_ms() - 3), POLL_TIMEOUT_MS);
	fx_close(&fx);
}

/* The moment passed (a turn after it found nothing to settle): the usual
 * wait again, no busy loop. */
static void
test_moment_passed_waits_as_usual(void **state)
{
	fixture		fx;

	(void) state;
	fx_open(&fx);
	fx.p->qlen = 1;
	assert_int_equal(pl_turn_wait(fx.p, trib_clock_mono_ms() - 5 * SETTLE_MS),
					 POLL_TIMEOUT_MS);
	fx_close(&fx);
}

/* Acks are owed: the wait is the acks' (their wake-up ends it), unchanged. */
static void
test_acks_owed_wait_for_the_acks(void **state)
{
	fixture		fx;

	(void) state;
	fx_open(&fx);
	fx.p->qlen = 1;
	owes(&fx);
	assert_int_equal(pl_turn_wait(fx.p, trib_clock_mono_ms() - 3), ACK_POLL_MS);
	assert_false(pl_settled(fx.p, trib_clock_mono_ms(), trib_clock_mono_ms() - 5 * SETTLE_MS));
	fx_close(&fx);
}

/* A periodic checkpoint just before the burst ended does not hold its
 * settling back; a settled save does, for SETTLE_EVERY_MS. */
static void
test_settle_rate_counts_settled_saves_only(void **state)
{
	fixture		fx;
	long long	now;

	(void) state;
	fx_open(&fx);
	fx.p->qlen = 1;
	now = trib_clock_mono_ms();
	fx.p->last_ckpt_ms = now - 5;	/* a periodic save */
	assert_true(pl_settled(fx.p, now, now - SETTLE_MS));
	fx.p->last_settle_ms = now - 30;	/* a settled save */
	assert_false(pl_settled(fx.p, now, now - SETTLE_MS));
	assert_true(pl_settled(fx.p, now + SETTLE_EVERY_MS - 30, now - SETTLE_MS));
	/* and the wait ends when it may settle again */
	assert_wait_between(pl_turn_wait(fx.p, now - SETTLE_MS),
						SETTLE_EVERY_MS - 30 - 20, SETTLE_EVERY_MS - 30);
	fx_close(&fx);
}

/* Not yet silent for SETTLE_MS: not settled. */
static void
test_not_silent_long_enough(void **state)
{
	fixture		fx;
	long long	now;

	(void) state;
	fx_open(&fx);
	now = trib_clock_mono_ms();
	assert_false(pl_settled(fx.p, now, now - SETTLE_MS + 1));
	assert_true(pl_settled(fx.p, now, now - SETTLE_MS));
	fx_close(&fx);
}

/* A busy turn confirmed something no idle turn reported: the short wait. */
static void
test_unreported_confirmation_short_wait(void **state)
{
	fixture		fx;

	(void) state;
	fx_open(&fx);
	fx.p->unreported = true;
	assert_int_equal(pl_turn_wait(fx.p, trib_clock_mono_ms()), ACK_POLL_MS);
	fx.p->unreported = false;
	assert_int_equal(pl_turn_wait(fx.p, trib_clock_mono_ms()), POLL_TIMEOUT_MS);
	fx_close(&fx);
}

/*
 * The latency histograms (pipeline_advance.c): every transaction that
 * becomes durable in a pl_advance() is observed once in
 * receipt-to-ack and, when it has a commit time, in commit-to-ack, also
 * when several share a latency (recorded as one run) and when the runs
 * change from one transaction to the next; a transaction not yet
 * durable is not observed.
 */
static void
test_durable_transactions_observed_once_each(void **state)
{
	/* commit time and receipt, ms before now; 0: no commit time */
	const long long ago[][2] = {{3, 2}, {3, 2}, {3, 2}, {40, 30}, {0, 2}, {3, 30}, {3, 2}};
	const size_t n = sizeof(ago) / sizeof(ago[0]);
	fixture		fx;
	char		err[512] = "";
	long long	wall = trib_clock_wall_ms();
	long long	mono = trib_clock_mono_ms();
	double		ack_sum = 0,
				rcpt_sum = 0;
	uint64_t	acks = 0;

	(void) state;
	fx_open(&fx);
	for (size_t i = 0; i < n + 1; i++)
	{
		pl_pending_tx *tx = &fx.p->queue[i];

		memset(tx, 0, sizeof(*tx));
		tx->end.commit_lsn = tx->last.commit_lsn = 0x1000 + 0x100 * i;
		tx->last.seq = 1;
		tx->has_last = true;
		if (i < n)
		{
			tx->ts_ms = ago[i][0] > 0 ? wall - ago[i][0] : 0;
			tx->recv_ms = mono - ago[i][1];
			acks += ago[i][0] > 0;
			ack_sum += ago[i][0] / 1000.0;
			rcpt_sum += ago[i][1] / 1000.0;
		}
	}
	fx.p->qhead = 0;
	fx.p->qlen = n + 1;
	/* every sink has everything handed out up to the n-th transaction */
	fx.p->has_offered = true;
	fx.p->last_offered = fx.p->queue[n - 1].last;
	fx.p->sinks[0].has_written = false;
	/* a checkpoint already covers them: no save (no store is open here) */
	fx.p->has_saved = true;
	fx.p->saved = fx.p->queue[n].last;
	assert_true(pl_advance(fx.p, false, false, err, sizeof(err)));
	assert_int_equal(trib_metric_count(fx.p->m_receipt_latency), n);
	assert_int_equal(trib_metric_count(fx.p->m_ack_latency), acks);
	/* the clocks moved by a few ms at most since the times were set */
	assert_true(trib_metric_value(fx.p->m_receipt_latency) >= rcpt_sum - 1e-9 &&
				trib_metric_value(fx.p->m_receipt_latency) <= rcpt_sum + n * 0.005);
	assert_true(trib_metric_value(fx.p->m_ack_latency) >= ack_sum - 1e-9 &&
				trib_metric_value(fx.p->m_ack_latency) <= ack_sum + acks * 0.005);
	/* again: nothing new is durable, nothing more observed */
	assert_true(pl_advance(fx.p, false, false, err, sizeof(err)));
	assert_int_equal(trib_metric_count(fx.p->m_receipt_latency), n);
	fx_close(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait_ends_when_the_source_can_settle),
		cmocka_unit_test(test_nothing_to_confirm_waits_as_usual),
		cmocka_unit_test(test_moment_passed_waits_as_usual),
		cmocka_unit_test(test_acks_owed_wait_for_the_acks),
		cmocka_unit_test(test_settle_rate_counts_settled_saves_only),
		cmocka_unit_test(test_not_silent_long_enough),
		cmocka_unit_test(test_unreported_confirmation_short_wait),
		cmocka_unit_test(test_durable_transactions_observed_once_each),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
