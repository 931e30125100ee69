/*
 * test_metrics.c: the metrics registry and its Prometheus text format.
 *
 * The exposition is compared byte for byte with a golden text (HELP and
 * TYPE lines, label escaping, cumulative histogram buckets, _sum and
 * _count), every observation at and around each bound lands in its
 * bucket, number formatting is checked case by case, and four threads
 * updating the same series prove that no update is lost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <pthread.h>

#include <cmocka.h>

#include "metrics.h"
#include "strbuf.h"

/* Render a registry into a malloc'd string. */
static char *
render(trib_metrics *reg)
{
	trib_strbuf b = {0};

	trib_metrics_render(reg, &b);
	return trib_strbuf_finish(&b);
}

/* Compare with a message that shows both texts. */
static void
assert_text(const char *expected, const char *actual)
{
	if (strcmp(expected, actual) != 0)
	{
		print_message("expected:\n%s\nactual:\n%s\n", expected, actual);
		fail();
	}
}

static void
test_golden_exposition(void **state)
{
	trib_metrics *reg = trib_metrics_new();
	const double bounds[] = {0.005, 0.1, 1};
	trib_metric_family *events = trib_metrics_counter(reg, "tributary_events_total",
													  "Events seen.\nSecond line with \\ backslash.",
													  "source,table");
	trib_metric_family *up = trib_metrics_gauge(reg, "tributary_up", "Up.", NULL);
	trib_metric_family *lat = trib_metrics_histogram(reg, "tributary_latency_seconds",
													 "Latency.", "sink", bounds, 3);
	trib_metric_family *unused = trib_metrics_gauge(reg, "tributary_unused", "", "x");
	char	   *text;

	(void) state;
	assert_non_null(events);
	assert_non_null(up);
	assert_non_null(lat);
	assert_non_null(unused);
	trib_metric_add(trib_metric_get(events, "pg1", "public.orders"), 3);
	trib_metric_inc(trib_metric_get(events, "pg1", "public.orders"));
	trib_metric_inc(trib_metric_get(events, "odd\"name\\x\ny", ""));
	trib_metric_set(trib_metric_get(up), -1.5);
	trib_metric_observe(trib_metric_get(lat, "kafka"), 0.001);
	trib_metric_observe(trib_metric_get(lat, "kafka"), 0.005);
	trib_metric_observe(trib_metric_get(lat, "kafka"), 0.25);
	trib_metric_observe(trib_metric_get(lat, "kafka"), 7);
	trib_metric_get(lat, "pg");
	text = render(reg);
	assert_text(
				"# HELP tributary_events_total Events seen.\\nSecond line with \\\\ backslash.\n"
				"# TYPE tributary_events_total counter\n"
				"tributary_events_total{source=\"pg1\",table=\"public.orders\"} 4\n"
				"tributary_events_total{source=\"odd\\\"name\\\\x\\ny\",table=\"\"} 1\n"
				"# HELP tributary_up Up.\n"
				"# TYPE tributary_up gauge\n"
				"tributary_up -1.5\n"
				"# HELP tributary_latency_seconds Latency.\n"
				"# TYPE tributary_latency_seconds histogram\n"
				"tributary_latency_seconds_bucket{sink=\"kafka\",le=\"0.005\"} 2\n"
				"tributary_latency_seconds_bucket{sink=\"kafka\",le=\"0.1\"} 2\n"
				"tributary_latency_seconds_bucket{sink=\"kafka\",le=\"1\"} 3\n"
				"tributary_latency_seconds_bucket{sink=\"kafka\",le=\"+Inf\"} 4\n"
				"tributary_latency_seconds_sum{sink=\"kafka\"} 7.256\n"
				"tributary_latency_seconds_count{sink=\"kafka\"} 4\n"
				"tributary_latency_seconds_bucket{sink=\"pg\",le=\"0.005\"} 0\n"
				"tributary_latency_seconds_bucket{sink=\"pg\",le=\"0.1\"} 0\n"
				"tributary_latency_seconds_bucket{sink=\"pg\",le=\"1\"} 0\n"
				"tributary_latency_seconds_bucket{sink=\"pg\",le=\"+Inf\"} 0\n"
				"tributary_latency_seconds_sum{sink=\"pg\"} 0\n"
				"tributary_latency_seconds_count{sink=\"pg\"} 0\n"
				"# HELP tributary_unused \n"
				"# TYPE tributary_unused gauge\n",
				text);
	free(text);
	trib_metrics_free(reg);
}

/* One number as the exposition writes it. */
static void
assert_number(double v, const char *expected)
{
	trib_strbuf b = {0};

	trib_metrics_format_double(&b, v);
	if (strcmp(b.data, expected) != 0)
	{
		print_message("%.17g: expected %s, got %s\n", v, expected, b.data);
		fail();
	}
	trib_strbuf_free(&b);
}

static void
test_number_format(void **state)
{
	(void) state;
	assert_number(0, "0");
	assert_number(-0.0, "0");
	assert_number(42, "42");
	assert_number(-7, "-7");
	assert_number(0.1, "0.1");
	assert_number(0.001, "0.001");
	assert_number(1.0 / 3, "0.3333333333333333");
	assert_number(1e300, "1e+300");
	assert_number(0.1 + 0.2, "0.30000000000000004");
	assert_number(9007199254740993.0, "9007199254740992");
	assert_number(1e20, "1e+20");
	assert_number(0.0 / 0.0, "NaN");
	assert_number(1.0 / 0.0, "+Inf");
	assert_number(-1.0 / 0.0, "-Inf");
}

static void
test_names_and_reregistration(void **state)
{
	trib_metrics *reg = trib_metrics_new();
	const double b1[] = {1, 2};
	const double bad[] = {2, 1};
	trib_metric_family *c;

	(void) state;
	assert_null(trib_metrics_counter(reg, "", "", NULL));
	assert_null(trib_metrics_counter(reg, "9lives", "", NULL));
	assert_null(trib_metrics_counter(reg, "a-b", "", NULL));
	assert_null(trib_metrics_counter(reg, "ok", "", "bad-label"));
	assert_null(trib_metrics_counter(reg, "ok", "", "__reserved"));
	assert_null(trib_metrics_counter(reg, "ok", "", "a,a"));
	assert_null(trib_metrics_counter(reg, "ok", "", "a,"));
	assert_null(trib_metrics_histogram(reg, "h", "", "le", b1, 2));
	assert_null(trib_metrics_histogram(reg, "h", "", NULL, bad, 2));
	assert_null(trib_metrics_histogram(reg, "h", "", NULL, b1, 0));
	c = trib_metrics_counter(reg, "ns:ok_total", "help", "a,b");
	assert_non_null(c);
	assert_ptr_equal(c, trib_metrics_counter(reg, "ns:ok_total", "other help", "a,b"));
	assert_null(trib_metrics_gauge(reg, "ns:ok_total", "", "a,b"));
	assert_null(trib_metrics_counter(reg, "ns:ok_total", "", "a"));
	assert_non_null(trib_metrics_histogram(reg, "h", "", NULL, b1, 2));
	assert_null(trib_metrics_histogram(reg, "h", "", NULL, b1, 1));
	/* same series for the same label values */
	assert_ptr_equal(trib_metric_get(c, "x", "y"), trib_metric_get(c, "x", "y"));
	assert_ptr_not_equal(trib_metric_get(c, "x", "y"), trib_metric_get(c, "y", "x"));
	/* counters ignore negative and NaN adds and set */
	trib_metric_add(trib_metric_get(c, "x", "y"), 2);
	trib_metric_add(trib_metric_get(c, "x", "y"), -1);
	trib_metric_add(trib_metric_get(c, "x", "y"), 0.0 / 0.0);
	trib_metric_set(trib_metric_get(c, "x", "y"), 100);
	assert_true(trib_metric_value(trib_metric_get(c, "x", "y")) == 2);
	trib_metrics_free(reg);
}

#define THREADS 4
#define ROUNDS 100000

typedef struct worker
{
	trib_metric *counter;
	trib_metric *gauge;
	trib_metric *hist;
	trib_metrics *reg;
} worker;

/* Hammer the same series from several threads (and render meanwhile). */
static void *
work(void *arg)
{
	worker	   *w = arg;
	int			i;

	for (i = 0; i < ROUNDS; i++)
	{
		trib_metric_inc(w->counter);
		trib_metric_add(w->gauge, 0.5);
		trib_metric_observe(w->hist, (i % 10) * 0.001);
		if (i % 20000 == 0)
		{
			char	   *t = render(w->reg);

			free(t);
		}
	}
	return NULL;
}

static void
test_concurrent_updates_lose_nothing(void **state)
{
	trib_metrics *reg = trib_metrics_new();
	trib_std_metrics std;
	pthread_t	th[THREADS];
	worker		w;
	int			i;

	(void) state;
	assert_true(trib_metrics_register_std(reg, &std));
	w.counter = trib_metric_get(std.sink_events, "kafka");
	w.gauge = trib_metric_get(std.queue_depth, "main");
	w.hist = trib_metric_get(std.ack_latency, "kafka");
	w.reg = reg;
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, work, &w), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	assert_true(trib_metric_value(w.counter) == THREADS * ROUNDS);
	assert_true(trib_metric_value(w.gauge) == THREADS * ROUNDS * 0.5);
	assert_int_equal(trib_metric_count(w.hist), THREADS * ROUNDS);
	trib_metrics_free(reg);
}

static void
test_std_metrics_render(void **state)
{
	trib_metrics *reg = trib_metrics_new();
	trib_std_metrics std;
	char	   *text;

	(void) state;
	assert_true(trib_metrics_register_std(reg, &std));
	/* registering twice finds the same families */
	assert_true(trib_metrics_register_std(reg, &std));
	trib_metric_observe(trib_metric_get(std.ack_latency, "pg"), 0.003);
	trib_metric_set(trib_metric_get(std.checkpoint_lsn, "pg1"), (double) 0x16B3748);
	trib_metric_observe(trib_metric_get(std.receipt_latency, "all"), 0.012);
	text = render(reg);
	/* the daemon's share: its own family, the same 1 ms buckets */
	assert_non_null(strstr(text, "# TYPE tributary_receipt_to_ack_seconds histogram\n"));
	assert_non_null(strstr(text, "tributary_receipt_to_ack_seconds_bucket{sink=\"all\",le=\"0.012\"} 1\n"));
	assert_non_null(strstr(text, "tributary_receipt_to_ack_seconds_bucket{sink=\"all\",le=\"0.011\"} 0\n"));
	assert_non_null(strstr(text, "# TYPE tributary_commit_to_ack_seconds histogram\n"));
	assert_non_null(strstr(text, "tributary_commit_to_ack_seconds_bucket{sink=\"pg\",le=\"0.002\"} 0\n"));
	assert_non_null(strstr(text, "tributary_commit_to_ack_seconds_bucket{sink=\"pg\",le=\"0.005\"} 1\n"));
	assert_non_null(strstr(text, "tributary_commit_to_ack_seconds_bucket{sink=\"pg\",le=\"5\"} 1\n"));
	assert_non_null(strstr(text, "tributary_checkpoint_lsn{source=\"pg1\"} 23803720\n"));
	free(text);
	trib_metrics_free(reg);
}

/*
 * Every observation lands in the first bucket whose bound is >= it (the
 * bucket search is a binary search): exactly on each bound, just above
 * it, below the first, above the last and at the infinities, for an odd
 * and an even number of bounds; the cumulative counts match a linear
 * reference computed here.
 */
static void
test_histogram_bucket_edges(void **state)
{
	const double all[] = {0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.05, 0.1, 1};

	(void) state;
	for (size_t nb = 8; nb <= 9; nb++)
	{
		trib_metrics *reg = trib_metrics_new();
		trib_metric_family *h = trib_metrics_histogram(reg, "tributary_edges_seconds", "E.",
													   NULL, all, nb);
		trib_metric *m = trib_metric_get(h);
		double		obs[3 * 9 + 4];
		size_t		nobs = 0;
		char	   *text;

		for (size_t i = 0; i < nb; i++)
		{
			obs[nobs++] = all[i];
			obs[nobs++] = all[i] * 1.0001;
			obs[nobs++] = all[i] * 0.9999;
		}
		obs[nobs++] = -INFINITY;
		obs[nobs++] = 0;
		obs[nobs++] = 50;
		obs[nobs++] = INFINITY;
		for (size_t k = 0; k < nobs; k++)
			trib_metric_observe(m, obs[k]);
		text = render(reg);
		for (size_t i = 0; i < nb; i++)
		{
			size_t		want = 0;
			char		line[128];
			char		le[40];
			trib_strbuf b = {0};
			char	   *num;

			for (size_t k = 0; k < nobs; k++)
				want += obs[k] <= all[i];
			trib_metrics_format_double(&b, all[i]);
			num = trib_strbuf_finish(&b);
			snprintf(le, sizeof(le), "%s", num);
			free(num);
			snprintf(line, sizeof(line), "tributary_edges_seconds_bucket{le=\"%s\"} %zu\n", le, want);
			if (strstr(text, line) == NULL)
			{
				print_message("%zu bounds: expected the line %sin:\n%s\n", nb, line, text);
				fail();
			}
		}
		assert_int_equal(trib_metric_count(m), nobs);
		free(text);
		trib_metrics_free(reg);
	}
}

/*
 * trib_metric_observe_n(m, v, n) is n observations of v: two histograms,
 * one fed by observe_n and one by single observations of the same runs
 * (values whose sums are exact in binary: halves and quarters), render
 * the same buckets, _sum and _count; n 0 and NaN record nothing.
 */
static void
test_histogram_observe_n(void **state)
{
	const double bounds[] = {0.25, 0.5, 1, 2};
	const struct
	{
		double		v;
		uint64_t	n;
	}			runs[] = {{0.25, 3}, {0.5, 1}, {0.75, 4}, {2, 2}, {8, 5}, {0, 7}, {1, 0}};
	trib_metrics *a = trib_metrics_new();
	trib_metrics *b = trib_metrics_new();
	trib_metric *ma = trib_metric_get(trib_metrics_histogram(a, "tributary_n_seconds", "N.",
															 NULL, bounds, 4));
	trib_metric *mb = trib_metric_get(trib_metrics_histogram(b, "tributary_n_seconds", "N.",
															 NULL, bounds, 4));
	char	   *ta;
	char	   *tb;

	(void) state;
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++)
	{
		trib_metric_observe_n(ma, runs[r].v, runs[r].n);
		for (uint64_t i = 0; i < runs[r].n; i++)
			trib_metric_observe(mb, runs[r].v);
	}
	trib_metric_observe_n(ma, NAN, 3);
	ta = render(a);
	tb = render(b);
	assert_string_equal(ta, tb);
	assert_non_null(strstr(ta, "tributary_n_seconds_bucket{le=\"0.25\"} 10\n"));
	assert_non_null(strstr(ta, "tributary_n_seconds_bucket{le=\"1\"} 15\n"));
	assert_non_null(strstr(ta, "tributary_n_seconds_count 22\n"));
	assert_int_equal(trib_metric_count(ma), 22);
	assert_true(trib_metric_value(ma) == 0.75 + 0.5 + 3 + 4 + 40);
	free(ta);
	free(tb);
	trib_metrics_free(a);
	trib_metrics_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_exposition),
		cmocka_unit_test(test_histogram_bucket_edges),
		cmocka_unit_test(test_number_format),
		cmocka_unit_test(test_names_and_reregistration),
		cmocka_unit_test(test_concurrent_updates_lose_nothing),
		cmocka_unit_test(test_std_metrics_render),
		cmocka_unit_test(test_histogram_observe_n),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
