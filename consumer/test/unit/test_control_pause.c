/*
 * test_control_pause.c: the control API's path patterns (control_path.c)
 * and the pause state kept beside a file checkpoint (pipeline/pause.c).
 *
 * Patterns: '*' is one segment, '**' one or more characters across
 * segments (a lineage asset's URL), the rest literal; a name read from
 * a path has its %2F and %25 decoded once.  Pause: a request
 * before the store is open is refused (503) and changes nothing; an
 * unknown name is 404 listing the accepted ones; pause and resume say
 * whether they changed the state; a second instance over the same
 * checkpoint path (a restart) loads what the first saved, and a name the
 * config no longer has is ignored.
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

#include "control_int.h"
#include "log.h"
#include "pause.h"
#include "metrics.h"

static void
path_patterns(void **state)
{
	(void) state;
	assert_true(ctl_path_match("sources/*/pause", "sources/main/pause"));
	assert_false(ctl_path_match("sources/*/pause", "sources//pause"));
	assert_false(ctl_path_match("sources/*/pause", "sources/a/b/pause"));
	assert_false(ctl_path_match("sources/*/pause", "sources/main/pause/"));
	assert_false(ctl_path_match("sources/*/pause", "sinks/main/pause"));
	assert_true(ctl_path_match("lineage/**/impact",
							   "lineage/postgres://db:5432/shop.public.t#email/impact"));
	assert_true(ctl_path_match("lineage/**/impact", "lineage/x/impact/impact"));
	assert_false(ctl_path_match("lineage/**/impact", "lineage//impact"));
	assert_false(ctl_path_match("lineage/**/impact", "lineage/x/upstream"));
	assert_true(ctl_path_match("lineage/flow", "lineage/flow"));
	assert_false(ctl_path_match("lineage/flow", "lineage/flows"));
	assert_true(ctl_path_match("rules", "rules"));
	assert_false(ctl_path_match("rules", "rule"));
}

/* A name is taken from its first byte to the last segment, and the %2F
 * and %25 the server kept are decoded once: "a%252Fb" is "a%2Fb". */
static void
path_names(void **state)
{
	trib_strbuf n = {0};

	(void) state;
	ctl_path_name("lineage/postgres:%2F%2Fdb%2Fshop.t#email/impact", 8, &n);
	assert_string_equal(n.data, "postgres://db/shop.t#email");
	assert_int_equal(n.len, strlen("postgres://db/shop.t#email"));
	ctl_path_name("lineage/a%252Fb/upstream", 8, &n);
	assert_string_equal(n.data, "a%2Fb");
	ctl_path_name("lineage/x/impact/impact", 8, &n);
	assert_string_equal(n.data, "x/impact");
	trib_strbuf_free(&n);
}

/* A config of sources a, b and sink out, checkpoint file `path`. */
static void
make_config(trib_config *cfg, trib_plugin_conf *srcs, trib_plugin_conf *sinks, char *path)
{
	memset(cfg, 0, sizeof(*cfg));
	memset(srcs, 0, 2 * sizeof(*srcs));
	memset(sinks, 0, sizeof(*sinks));
	srcs[0].name = "a";
	srcs[1].name = "b";
	sinks[0].name = "out";
	cfg->pipeline = "t";
	cfg->sources = srcs;
	cfg->nsources = 2;
	cfg->sinks = sinks;
	cfg->nsinks = 1;
	cfg->checkpoint.store = TRIB_CHECKPOINT_FILE;
	cfg->checkpoint.path = path;
}

static void
pause_kept(void **state)
{
	char		dir[] = "/tmp/test_pause_XXXXXX";
	char		path[64],
				kept[80],
				msg[300],
				e[256];
	trib_plugin_conf srcs[2],
				sinks[1];
	trib_config cfg;
	trib_metrics *m[3] = {trib_metrics_new(), trib_metrics_new(), trib_metrics_new()};
	trib_pause *ps;
	bool		was = true;

	(void) state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ckpt", dir);
	snprintf(kept, sizeof(kept), "%s.paused", path);
	make_config(&cfg, srcs, sinks, path);
	ps = trib_pause_new(&cfg, m[0]);

	assert_int_equal(trib_pause_request(ps, false, "a", true, &was, msg, sizeof(msg)), 503);
	assert_false(trib_pause_source(ps, 0));
	assert_true(trib_pause_open(ps, e, sizeof(e)));
	assert_int_equal(trib_pause_request(ps, false, "zz", true, &was, msg, sizeof(msg)), 404);
	assert_string_equal(msg, "no source named \"zz\" (accepted: a, b)");
	assert_int_equal(trib_pause_request(ps, true, "a", true, &was, msg, sizeof(msg)), 404);
	assert_string_equal(msg, "no sink named \"a\" (accepted: out)");

	assert_int_equal(trib_pause_request(ps, false, "b", true, &was, msg, sizeof(msg)), 200);
	assert_false(was);
	assert_true(trib_pause_source(ps, 1));
	assert_false(trib_pause_source(ps, 0));
	assert_true(trib_pause_since(ps, false, 1) > 0);
	assert_int_equal(trib_pause_since(ps, false, 0), 0);
	assert_int_equal(trib_pause_request(ps, false, "b", true, &was, msg, sizeof(msg)), 200);
	assert_true(was);
	assert_int_equal(trib_pause_request(ps, true, "out", true, &was, msg, sizeof(msg)), 200);
	assert_true(trib_pause_sink(ps, 0));
	assert_true(trib_pause_since(ps, true, 0) > 0);
	assert_int_equal(trib_pause_since(ps, false, 0), 0);	/* a paused sink holds no source */
	trib_pause_free(ps);

	/* a restart: the same path, the state comes back */
	ps = trib_pause_new(&cfg, m[1]);
	assert_false(trib_pause_source(ps, 1));
	assert_true(trib_pause_open(ps, e, sizeof(e)));
	assert_true(trib_pause_source(ps, 1));
	assert_false(trib_pause_source(ps, 0));
	assert_true(trib_pause_sink(ps, 0));
	assert_int_equal(trib_pause_request(ps, true, "out", false, &was, msg, sizeof(msg)), 200);
	assert_true(was);
	assert_false(trib_pause_sink(ps, 0));
	trib_pause_free(ps);

	/* a config without source b: its kept pause is ignored */
	srcs[1].name = "c";
	ps = trib_pause_new(&cfg, m[2]);
	assert_true(trib_pause_open(ps, e, sizeof(e)));
	assert_false(trib_pause_source(ps, 0));
	assert_false(trib_pause_source(ps, 1));
	assert_false(trib_pause_sink(ps, 0));
	trib_pause_free(ps);

	unlink(kept);
	rmdir(dir);
	for (int i = 0; i < 3; i++)
		trib_metrics_free(m[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(path_patterns),
		cmocka_unit_test(path_names),
		cmocka_unit_test(pause_kept),
	};

	trib_log_set_level(TRIB_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
