/*
 * test_control_pause.c: the control API's path patterns (control_path.c)
 * and the pause state kept beside a file checkpoint (pipeline/pause.c).
 *
 * Patterns: '*' is one segment, '**' one or more characters across
 * segments (a lineage asset's URL), the rest literal; a name read from
 * a path has its %2F and %25 decoded once, also by the pause endpoint,
 * which hands the whole name to the pipeline.  Pause: a request
 * before the store is open is refused (503) and changes nothing; an
 * unknown name is 404 listing the accepted ones; pause and resume say
 * whether they changed the state; a second instance over the same
 * checkpoint path (a restart) loads what the first saved, and a name the
 * config no longer has is ignored; a store that fails to save is 503,
 * changes nothing, and its message (a path here, libpq's with the catalog)
 * is not in the answer.
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

/* The pause hook of pause_endpoint: records what it was asked. */
static char asked[64];
static bool asked_sink;

static unsigned
record_pause(void *arg, bool sink, const char *name, bool paused, bool *was, char *msg,
			 size_t msglen)
{
	(void) arg;
	snprintf(asked, sizeof(asked), "%s", name);
	asked_sink = sink;
	*was = !paused;
	if (strcmp(name, "nope") == 0)
	{
		snprintf(msg, msglen, "no source nope");
		return 404;
	}
	return 200;
}

/* POST .../{name}/pause|resume on the endpoint itself: the name reaches
 * the hook decoded (a%2Fb is "a/b", 50%25 is "50%"), whole however long,
 * and comes back in the answer; the hook's 404 is the answer's. */
static void
pause_endpoint(void **state)
{
	ctl_ext		ext = {.pause = record_pause};
	const char *buf;
	size_t		len;
	char		longname[400];
	char		path[500];
	struct
	{
		const char *rest;
		const char *name;
		bool		sink;
		const char *answer;
	}			cases[] = {
		{"sources/main/pause", "main", false,
		"{\"kind\":\"source\",\"name\":\"main\",\"paused\":true,\"changed\":true}"},
		{"sinks/a%2Fb/resume", "a/b", true,
		"{\"kind\":\"sink\",\"name\":\"a/b\",\"paused\":false,\"changed\":true}"},
		{"sources/50%25/pause", "50%", false,
		"{\"kind\":\"source\",\"name\":\"50%\",\"paused\":true,\"changed\":true}"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		ctl_resp	r = {.status = 200, .g = yajl_gen_alloc(NULL), .ext = &ext,
		.rest = cases[i].rest};

		ctl_serve_pause(NULL, &r);
		assert_int_equal(r.status, 200);
		assert_string_equal(asked, cases[i].name);
		assert_int_equal(asked_sink, cases[i].sink);
		yajl_gen_get_buf(r.g, (const unsigned char **) &buf, &len);
		assert_int_equal(len, strlen(cases[i].answer));
		assert_memory_equal(buf, cases[i].answer, len);
		yajl_gen_free(r.g);
	}

	/* a name longer than any fixed buffer arrives whole */
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	snprintf(path, sizeof(path), "sinks/%s/pause", longname);
	{
		ctl_resp	r = {.status = 200, .g = yajl_gen_alloc(NULL), .ext = &ext, .rest = path};

		ctl_serve_pause(NULL, &r);
		assert_int_equal(r.status, 200);
		assert_int_equal(strlen(asked), sizeof(asked) - 1);	/* the recorder's cut */
		assert_memory_equal(asked, longname, sizeof(asked) - 1);
		yajl_gen_get_buf(r.g, (const unsigned char **) &buf, &len);
		assert_non_null(memmem(buf, len, longname, strlen(longname)));
		yajl_gen_free(r.g);
	}

	/* the hook's refusal is the answer */
	{
		ctl_resp	r = {.status = 200, .g = yajl_gen_alloc(NULL), .ext = &ext,
		.rest = "sources/nope/pause"};

		ctl_serve_pause(NULL, &r);
		assert_int_equal(r.status, 404);
		yajl_gen_get_buf(r.g, (const unsigned char **) &buf, &len);
		assert_non_null(memmem(buf, len, "no source nope", strlen("no source nope")));
		yajl_gen_free(r.g);
	}
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

	/* the store fails (its folder is gone): 503, nothing changed, and the
	 * answer does not repeat the store's message (it names the path) */
	unlink(kept);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(trib_pause_request(ps, false, "a", true, &was, msg, sizeof(msg)), 503);
	assert_false(trib_pause_source(ps, 0));
	assert_string_equal(msg, "the pause state could not be saved, nothing changed (the "
						"checkpoint store failed; the daemon's log says why)");
	assert_null(strstr(msg, dir));
	trib_pause_free(ps);

	for (int i = 0; i < 3; i++)
		trib_metrics_free(m[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(path_patterns),
		cmocka_unit_test(path_names),
		cmocka_unit_test(pause_endpoint),
		cmocka_unit_test(pause_kept),
	};

	trib_log_set_level(TRIB_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
