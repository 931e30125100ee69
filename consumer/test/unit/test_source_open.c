/*
 * test_source_open.c: what every source's open shares (core/source.c).
 * Settings of another type are refused with "source <name>: not a <type>
 * source"; the source's own series is a gauge or a counter labelled with
 * its name, the same series on a second call, and none without a
 * registry; opened() sets the state, the lock's DSN and the backoff and
 * leaves `fenced` alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "metrics.h"
#include "source.h"
#include "strbuf.h"

static const trib_source_ops test_ops = {.type = "mysql"};

static void
test_not_ours_names_source_and_type(void **state)
{
	trib_source src = {.ops = &test_ops, .name = "orders"};
	char		err[128] = "";

	(void) state;
	assert_false(trib_source_not_ours(&src, err, sizeof(err)));
	assert_string_equal(err, "source orders: not a mysql source");
}

static void
test_metric_is_labelled_by_source(void **state)
{
	trib_metrics *reg = trib_metrics_new();
	trib_source src = {.ops = &test_ops, .name = "orders", .metrics = reg};
	trib_metric *g,
			   *c;
	trib_strbuf out = {0};

	(void) state;
	g = trib_source_metric(&src, false, "tributary_test_gauge", "A test gauge.");
	c = trib_source_metric(&src, true, "tributary_test_total", "A test counter.");
	assert_non_null(g);
	assert_non_null(c);
	assert_ptr_equal(trib_source_metric(&src, false, "tributary_test_gauge", "A test gauge."), g);
	trib_metric_set(g, 5);
	trib_metric_inc(c);
	trib_metrics_render(reg, &out);
	assert_non_null(strstr(out.data, "# TYPE tributary_test_gauge gauge\n"));
	assert_non_null(strstr(out.data, "tributary_test_gauge{source=\"orders\"} 5\n"));
	assert_non_null(strstr(out.data, "# TYPE tributary_test_total counter\n"));
	assert_non_null(strstr(out.data, "tributary_test_total{source=\"orders\"} 1\n"));
	trib_strbuf_free(&out);
	trib_metrics_free(reg);
}

static void
test_metric_without_registry(void **state)
{
	trib_source src = {.ops = &test_ops, .name = "orders"};

	(void) state;
	assert_null(trib_source_metric(&src, true, "tributary_test_total", "A test counter."));
}

static void
test_opened_sets_state_lock_and_backoff(void **state)
{
	trib_source src = {.ops = &test_ops, .name = "orders", .fenced = true};
	int			mine = 0;

	(void) state;
	trib_source_opened(&src, &mine, "host=db", 250, 30000);
	assert_ptr_equal(src.state, &mine);
	assert_string_equal(src.lock_dsn, "host=db");
	assert_int_equal(src.backoff_initial_ms, 250);
	assert_int_equal(src.backoff_max_ms, 30000);
	assert_true(src.fenced);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_ours_names_source_and_type),
		cmocka_unit_test(test_metric_is_labelled_by_source),
		cmocka_unit_test(test_metric_without_registry),
		cmocka_unit_test(test_opened_sets_state_lock_and_backoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
