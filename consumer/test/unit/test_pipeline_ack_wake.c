/*
 * test_pipeline_ack_wake.c: the stream loop's waits end when the sinks'
 * acknowledgements come, rather than sleeping through them or waking
 * every ACK_POLL_MS to poll (pipeline_wake.c).  While acks are owed,
 * pl_wait_ms() hands the turn (p->ack_fd) the wake-up descriptor of the
 * sink that has acknowledged least and lets the turn wait long, when every
 * sink that owes acks has a descriptor and every source the turn may poll
 * can watch it; once that sink has acked, the next turn waits for the
 * next sink that still owes.  A source held by a pause
 * is not polled: pl_hold() sleeps the turn on the descriptor instead, and
 * ends as soon as an ack comes (counted in p->ack_wakeups: a count, not a
 * duration, so the test cannot flake; sleeping through would leave it 0).
 * The pipelines are built from a config and connect nothing
 * (trib_pipeline_new); the sinks' operations are a stand-in whose
 * descriptor is a pipe of the test's (the sink's state), and the sources
 * are marked able to watch it, as a postgres source's open() does.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "pause.h"
#include "pipeline.h"
#include "pipeline_int.h"

#define NSINKS 2

/* The stand-in sink's wake_fd: its pipe's read end (in its state). */
static int
stub_wake_fd(trib_sink *sink)
{
	return ((const int *) sink->state)[0];
}

static const trib_sink_ops stub_ops = {
	.wake_fd = stub_wake_fd,
};

/* The same sink without a descriptor (the file sink, transactional Kafka). */
static const trib_sink_ops stub_ops_none = {
	.wake_fd = NULL,
};

typedef struct
{
	char		dir[64];
	char		yaml[2048];
	trib_config *cfg;
	trib_pipeline *p;
	int			pipes[NSINKS][2];
} fixture;

/* A pipeline with `nsrcs` postgres sources (main, other) and `nsinks`
 * sinks (out, out2) whose descriptors are pipes, `with_fd` of them
 * having one; file checkpoint (and so the pause state) in a fresh
 * directory; the descriptors asked for as the stream's start does. */
static void
fx_open(fixture *fx, int nsrcs, int nsinks, int with_fd)
{
	char		err[4096] = "";

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/trib_ackwake.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		fail_msg("mkdtemp failed");
	snprintf(fx->yaml, sizeof(fx->yaml),
			 "pipeline: shop\n"
			 "sources:\n"
			 "  main:\n"
			 "    type: postgres\n"
			 "    dsn: \"host=127.0.0.1 port=1 dbname=shop\"\n"
			 "%s"
			 "sinks:\n"
			 "  out:\n"
			 "    type: stdout\n"
			 "%s"
			 "checkpoint:\n"
			 "  store: file\n"
			 "  path: %s/t.ckpt\n"
			 "http:\n"
			 "  enabled: false\n",
			 nsrcs > 1 ? "  other:\n"
			 "    type: postgres\n"
			 "    dsn: \"host=127.0.0.1 port=1 dbname=stock\"\n" : "",
			 nsinks > 1 ? "  out2:\n    type: stdout\n" : "", fx->dir);
	if (!trib_config_load_buffer("t.yaml", fx->yaml, strlen(fx->yaml), &fx->cfg, err,
								 sizeof(err)))
		fail_msg("the config did not load: %s", err);
	fx->p = trib_pipeline_new(fx->cfg, err, sizeof(err));
	if (fx->p == NULL)
		fail_msg("the pipeline was not built: %s", err);
	assert_int_equal(fx->p->nsrcs, (size_t) nsrcs);
	assert_int_equal(fx->p->nsinks, (size_t) nsinks);
	for (int c = 0; c < nsrcs; c++)
		fx->p->srcs[c].src.can_wake = true;
	for (int i = 0; i < nsinks; i++)
	{
		pl_sink_slot *s = &fx->p->sinks[i];

		assert_int_equal(pipe(fx->pipes[i]), 0);
		s->sink.ops = i < with_fd ? &stub_ops : &stub_ops_none;
		s->sink.state = fx->pipes[i];
		s->opened = true;		/* for pl_wake_open; undone before free */
	}
	if (!trib_pause_open(fx->p->pause, err, sizeof(err)))
		fail_msg("the pause state did not open: %s", err);
	pl_wake_open(fx->p);
}

static void
fx_close(fixture *fx)
{
	char		path[128];

	for (size_t i = 0; i < fx->p->nsinks; i++)
	{
		fx->p->sinks[i].opened = false;
		fx->p->sinks[i].sink.ops = NULL;
		fx->p->sinks[i].sink.state = NULL;
		close(fx->pipes[i][0]);
		close(fx->pipes[i][1]);
	}
	trib_pipeline_free(fx->p);
	trib_config_free(fx->cfg);
	snprintf(path, sizeof(path), "%s/t.ckpt.paused", fx->dir);
	unlink(path);
	rmdir(fx->dir);
}

/* Sink i was handed an event it has not acknowledged. */
static void
owes(fixture *fx, size_t i)
{
	fx->p->sinks[i].has_written = true;
	fx->p->sinks[i].has_acked = false;
}

/* Sink i acknowledged everything it was handed. */
static void
acked_all(fixture *fx, size_t i)
{
	fx->p->sinks[i].has_acked = true;
	fx->p->sinks[i].acked = fx->p->sinks[i].last_written;
}

/* Sink i's delivery report is queued: its descriptor becomes readable. */
static void
ack_comes(fixture *fx, size_t i)
{
	assert_int_equal(write(fx->pipes[i][1], "w", 1), 1);
}

/* Is fd readable now (no waiting)? */
static bool
readable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	return fd >= 0 && poll(&pfd, 1, 0) == 1;
}

/* Pause (or resume) source `name`; the request must be taken. */
static void
pause_source(fixture *fx, const char *name, bool paused)
{
	bool		was;
	char		msg[512] = "";
	unsigned	status = trib_pause_request(fx->p->pause, false, name, paused, &was,
											msg, sizeof(msg));

	if (status != 200)
		fail_msg("pause request %s: %u %s", name, status, msg);
}

/* The turn's wait must watch sink i's descriptor and be the long one. */
static void
assert_waits_on_acks(fixture *fx, size_t i)
{
	int			ms = pl_wait_ms(fx->p);

	if (ms != POLL_TIMEOUT_MS || fx->p->ack_fd != fx->pipes[i][0])
		fail_msg("expected a %d ms wait on sink %zu's descriptor %d, got %d ms on fd %d",
				 POLL_TIMEOUT_MS, i, fx->pipes[i][0], ms, fx->p->ack_fd);
}

/* The turn's wait must be the short poll, with no descriptor. */
static void
assert_polls_for_acks(fixture *fx)
{
	int			ms = pl_wait_ms(fx->p);

	if (ms != ACK_POLL_MS || fx->p->ack_fd >= 0)
		fail_msg("expected the %d ms poll without a descriptor, got %d ms on fd %d",
				 ACK_POLL_MS, ms, fx->p->ack_fd);
}

/* One source, one sink owing acks: the turn waits on its descriptor,
 * readable once the ack is queued and no longer once the sink has
 * drained it; with nothing owed, the plain wait and none. */
static void
test_one_sink_wakes_the_turn(void **state)
{
	fixture		fx;
	char		c;

	(void) state;
	fx_open(&fx, 1, 1, 1);
	assert_int_equal(pl_wait_ms(fx.p), POLL_TIMEOUT_MS);
	assert_int_equal(fx.p->ack_fd, -1);
	owes(&fx, 0);
	assert_waits_on_acks(&fx, 0);
	assert_false(readable(fx.p->ack_fd));
	ack_comes(&fx, 0);
	assert_true(readable(fx.p->ack_fd));
	assert_int_equal(read(fx.pipes[0][0], &c, 1), 1);	/* the sink's poll() */
	assert_false(readable(fx.p->ack_fd));
	fx_close(&fx);
}

/* Two sinks owing acks: the turn waits for the one acked least (the
 * durable position waits for it), and once it has acked, for the other,
 * so the second's ack is not slept through; a sink without a descriptor
 * that owes acks brings back the 1 ms poll, one that owes nothing does
 * not. */
static void
test_two_sinks_the_turn_waits_for_each(void **state)
{
	fixture		fx;

	(void) state;
	fx_open(&fx, 1, 2, 2);
	owes(&fx, 0);
	owes(&fx, 1);
	fx.p->sinks[0].has_acked = true;	/* out is ahead: out2 is waited for */
	assert_waits_on_acks(&fx, 1);
	fx.p->sinks[0].has_acked = false;	/* equal: the one waited for last */
	assert_waits_on_acks(&fx, 1);
	acked_all(&fx, 1);
	assert_waits_on_acks(&fx, 0);
	ack_comes(&fx, 0);
	assert_true(readable(fx.p->ack_fd));
	acked_all(&fx, 0);
	assert_int_equal(pl_wait_ms(fx.p), POLL_TIMEOUT_MS);
	assert_int_equal(fx.p->ack_fd, -1);
	fx_close(&fx);

	fx_open(&fx, 1, 2, 1);		/* out2 has no descriptor */
	owes(&fx, 0);
	assert_waits_on_acks(&fx, 0);
	owes(&fx, 1);
	assert_polls_for_acks(&fx);
	fx_close(&fx);
}

/* A paused source: the turn sleeps in pl_hold(), which ends when the ack
 * comes (one wake-up counted) instead of sleeping it through. */
static void
test_paused_source_hold_wakes_on_acks(void **state)
{
	fixture		fx;

	(void) state;
	fx_open(&fx, 1, 2, 2);
	pause_source(&fx, "main", true);
	owes(&fx, 1);
	assert_waits_on_acks(&fx, 1);
	ack_comes(&fx, 1);
	assert_int_equal(pl_hold(fx.p, 10000), 0);
	if (fx.p->ack_wakeups != 1)
		fail_msg("expected hold() to end on the ack (1 wake-up), got %llu",
				 (unsigned long long) fx.p->ack_wakeups);
	fx_close(&fx);
}

/* Merged sources: the turn waits on the descriptor when every source it
 * may poll can watch it; one that cannot (MySQL, MongoDB) brings back the
 * 1 ms poll, unless a pause holds it (it is not polled then) outside
 * its open transaction. */
static void
test_merged_sources_wait_on_acks(void **state)
{
	fixture		fx;

	(void) state;
	fx_open(&fx, 2, 2, 2);
	assert_non_null(fx.p->merge);
	owes(&fx, 0);
	assert_waits_on_acks(&fx, 0);
	ack_comes(&fx, 0);
	assert_true(readable(fx.p->ack_fd));
	fx.p->srcs[1].src.can_wake = false;
	assert_polls_for_acks(&fx);
	pause_source(&fx, "other", true);
	assert_waits_on_acks(&fx, 0);
	/* ... but a paused source whose transaction is open is polled up to
	 * its END (poll_sources), with no descriptor: the short poll again */
	trib_merge_begin(fx.p->merge, 1);
	assert_polls_for_acks(&fx);
	fx_close(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_sink_wakes_the_turn),
		cmocka_unit_test(test_two_sinks_the_turn_waits_for_each),
		cmocka_unit_test(test_paused_source_hold_wakes_on_acks),
		cmocka_unit_test(test_merged_sources_wait_on_acks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
