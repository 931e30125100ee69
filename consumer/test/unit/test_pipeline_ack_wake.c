/*
 * test_pipeline_ack_wake.c: when the stream loop may wait for a sink's
 * acknowledgements on its wake-up descriptor (pl_ack_wake_fd) rather than
 * poll the sinks every millisecond.  The descriptor is handed to the one
 * source's wait, so it is used only where that wait happens: a source
 * held by a pause is not polled (pipeline_run.c's hold() sleeps the
 * turn's whole timeout without watching anything), so then the loop
 * polls as before, or an ack that comes during the pause waits out the
 * sleep.  The pipeline is built from a config and connects nothing
 * (trib_pipeline_new); the sink's operations are a stand-in with a pipe
 * for its descriptor, and the source is marked able to watch it, as a
 * postgres source's open() does.
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

#include "config.h"
#include "pause.h"
#include "pipeline.h"
#include "pipeline_int.h"

static int	wake_pipe[2] = {-1, -1};

/* The stand-in sink's wake_fd: the pipe's read end. */
static int
stub_wake_fd(trib_sink *sink)
{
	(void) sink;
	return wake_pipe[0];
}

static const trib_sink_ops stub_ops = {
	.wake_fd = stub_wake_fd,
};

typedef struct
{
	char		dir[64];
	char		yaml[1024];
	trib_config *cfg;
	trib_pipeline *p;
} fixture;

/* A pipeline with postgres source `main` and one sink, its file
 * checkpoint (and so the pause state) in a fresh directory. */
static void
fx_open(fixture *fx)
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
	assert_int_equal(pipe(wake_pipe), 0);
	fx->p->srcs[0].src.can_wake = true;
	fx->p->sinks[0].sink.ops = &stub_ops;	/* not opened: never closed */
	if (!trib_pause_open(fx->p->pause, err, sizeof(err)))
		fail_msg("the pause state did not open: %s", err);
}

static void
fx_close(fixture *fx)
{
	char		path[128];

	fx->p->sinks[0].sink.ops = NULL;
	trib_pipeline_free(fx->p);
	trib_config_free(fx->cfg);
	close(wake_pipe[0]);
	close(wake_pipe[1]);
	snprintf(path, sizeof(path), "%s/t.ckpt.paused", fx->dir);
	unlink(path);
	rmdir(fx->dir);
}

/* Pause (or resume) source `main`; the request must be taken. */
static void
pause_source(fixture *fx, bool paused)
{
	bool		was;
	char		msg[512] = "";
	unsigned	status = trib_pause_request(fx->p->pause, false, "main", paused, &was,
											msg, sizeof(msg));

	if (status != 200)
		fail_msg("pause request: %u %s", status, msg);
}

/* One source that can watch it, one sink that has it: the descriptor. */
static void
test_streaming_source_waits_on_the_sinks_descriptor(void **state)
{
	fixture		fx;

	(void) state;
	fx_open(&fx);
	assert_int_equal(pl_ack_wake_fd(fx.p), wake_pipe[0]);
	fx_close(&fx);
}

/* The source held by a pause waits on nothing (hold() sleeps): no
 * descriptor, so the loop polls the sinks every ACK_POLL_MS meanwhile;
 * resumed, the descriptor again. */
static void
test_paused_source_gets_no_descriptor(void **state)
{
	fixture		fx;

	(void) state;
	fx_open(&fx);
	pause_source(&fx, true);
	if (pl_ack_wake_fd(fx.p) >= 0)
		fail_msg("expected -1 (poll) while the source is paused, got descriptor %d",
				 pl_ack_wake_fd(fx.p));
	pause_source(&fx, false);
	assert_int_equal(pl_ack_wake_fd(fx.p), wake_pipe[0]);
	fx_close(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_streaming_source_waits_on_the_sinks_descriptor),
		cmocka_unit_test(test_paused_source_gets_no_descriptor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
