/*
 * test_handoff.c: the bounded hand-off queue (lib/handoff.c).  Entries
 * come out in the order they went in, then the stream's end with its
 * code and message (only the first end counts); a pop waits no longer
 * than its deadline; a push into a full queue waits until a pop makes
 * room, and a stop wakes it and frees its entry; an entry larger than
 * the bound still passes an empty queue; the coalescing hook folds an
 * entry into the tail; wait_first tells a started stream from one that
 * ended first; the free function sees every entry the queue still owns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "handoff.h"

typedef struct ent
{
	trib_handoff_item item;
	int			value;
	bool		idle;
} ent;

static int	freed;

static void
ent_free(trib_handoff_item *e)
{
	freed++;
	free(e);
}

static trib_handoff_item *
mk(int value, size_t bytes)
{
	ent		   *e = calloc(1, sizeof(*e));

	e->value = value;
	e->item.bytes = bytes;
	return &e->item;
}

/* Pop with a deadline ms from now; the value, or INT32_MIN for none, or
 * -code - 1000 for the end. */
static int
pop_value(trib_handoff *h, int ms, char *err, size_t errlen)
{
	struct timespec until = trib_clock_deadline(ms);
	trib_handoff_item *e = NULL;
	int			code = 0;
	int			rc = trib_handoff_pop(h, &until, &e, &code, err, errlen);
	int			v;

	if (rc == 0)
		return INT32_MIN;
	if (rc < 0)
		return -code - 1000;
	v = ((ent *) e)->value;
	free(e);
	return v;
}

static void
test_order_then_end(void **state)
{
	trib_handoff *h = trib_handoff_new(1000, ent_free, NULL);
	char		err[64] = "";

	(void) state;
	assert_true(trib_handoff_push(h, mk(1, 10)));
	assert_true(trib_handoff_push(h, mk(2, 10)));
	trib_handoff_finish(h, 7, "the server went away");
	trib_handoff_finish(h, 9, "a later end is ignored");
	assert_int_equal(pop_value(h, 0, err, sizeof(err)), 1);
	assert_int_equal(pop_value(h, 0, err, sizeof(err)), 2);
	assert_int_equal(pop_value(h, 0, err, sizeof(err)), -1007);
	assert_string_equal(err, "the server went away");
	/* the end stays */
	assert_int_equal(pop_value(h, 0, err, sizeof(err)), -1007);
	trib_handoff_free(h);
}

static void
test_pop_times_out(void **state)
{
	trib_handoff *h = trib_handoff_new(1000, ent_free, NULL);
	char		err[64] = "untouched";
	int64_t		t0 = trib_clock_mono_ms();

	(void) state;
	assert_int_equal(pop_value(h, 50, err, sizeof(err)), INT32_MIN);
	assert_in_range(trib_clock_mono_ms() - t0, 40, 2000);
	assert_string_equal(err, "untouched");
	trib_handoff_free(h);
}

typedef struct producer
{
	trib_handoff *h;
	int			n;
	atomic_int	pushed;			/* read while the producer runs */
	bool		last_ok;
} producer;

/* Push n entries of 40 bytes each, then end with code 0. */
static void *
produce(void *arg)
{
	producer   *p = arg;

	for (int i = 0; i < p->n; i++)
	{
		p->last_ok = trib_handoff_push(p->h, mk(i, 40));
		if (!p->last_ok)
			return NULL;
		atomic_store(&p->pushed, i + 1);
	}
	trib_handoff_finish(p->h, 0, "end");
	return NULL;
}

static void
test_full_queue_waits_for_room(void **state)
{
	/* 100 bytes hold two entries of 40; the producer waits for room */
	trib_handoff *h = trib_handoff_new(100, ent_free, NULL);
	producer	p = {.h = h, .n = 50};
	pthread_t	t;
	char		err[64];

	(void) state;
	assert_int_equal(pthread_create(&t, NULL, produce, &p), 0);
	usleep(50 * 1000);
	assert_in_range(atomic_load(&p.pushed), 1, 2);	/* the third waits */
	for (int i = 0; i < 50; i++)
		assert_int_equal(pop_value(h, 5000, err, sizeof(err)), i);
	assert_int_equal(pop_value(h, 5000, err, sizeof(err)), -1000);
	pthread_join(t, NULL);
	assert_true(p.last_ok);
	trib_handoff_free(h);
}

static void
test_stop_wakes_a_waiting_push(void **state)
{
	trib_handoff *h = trib_handoff_new(100, ent_free, NULL);
	producer	p = {.h = h, .n = 10};
	pthread_t	t;

	(void) state;
	freed = 0;
	assert_int_equal(pthread_create(&t, NULL, produce, &p), 0);
	/* the two that fit, however slow the machine; then a moment for the
	 * third push to block (stopped before it blocks, it is refused too) */
	for (int i = 0; i < 10000 && atomic_load(&p.pushed) < 2; i++)
		usleep(1000);
	usleep(20 * 1000);
	trib_handoff_stop(h);
	pthread_join(t, NULL);
	assert_false(p.last_ok);
	assert_int_equal(atomic_load(&p.pushed), 2);
	assert_int_equal(freed, 1);		/* the refused entry */
	assert_false(trib_handoff_push(h, mk(99, 0)));	/* and any later */
	assert_int_equal(freed, 2);
	trib_handoff_free(h);
	assert_int_equal(freed, 4);		/* the two still queued */
}

static void
test_large_entry_passes_an_empty_queue(void **state)
{
	trib_handoff *h = trib_handoff_new(10, ent_free, NULL);
	char		err[64];

	(void) state;
	assert_true(trib_handoff_push(h, mk(1, 1000)));
	assert_int_equal(pop_value(h, 0, err, sizeof(err)), 1);
	assert_true(trib_handoff_push(h, mk(2, 1000)));
	assert_int_equal(pop_value(h, 0, err, sizeof(err)), 2);
	trib_handoff_free(h);
}

/* Fold an idle entry into an idle tail: the tail takes its value. */
static bool
fold_idle(trib_handoff_item *tail, trib_handoff_item *e)
{
	if (!((ent *) tail)->idle || !((ent *) e)->idle)
		return false;
	((ent *) tail)->value = ((ent *) e)->value;
	return true;
}

static trib_handoff_item *
mk_idle(int value)
{
	trib_handoff_item *e = mk(value, 0);

	((ent *) e)->idle = true;
	return e;
}

static void
test_coalesce_folds_into_the_tail(void **state)
{
	trib_handoff *h = trib_handoff_new(1000, ent_free, fold_idle);
	char		err[64];

	(void) state;
	freed = 0;
	assert_true(trib_handoff_push(h, mk_idle(1)));	/* an empty queue: queued */
	assert_true(trib_handoff_push(h, mk_idle(2)));	/* folded into 1 */
	assert_true(trib_handoff_push(h, mk(3, 10)));
	assert_true(trib_handoff_push(h, mk_idle(4)));
	assert_true(trib_handoff_push(h, mk_idle(5)));	/* folded into 4 */
	assert_int_equal(freed, 2);
	assert_int_equal(pop_value(h, 0, err, sizeof(err)), 2);
	assert_int_equal(pop_value(h, 0, err, sizeof(err)), 3);
	assert_int_equal(pop_value(h, 0, err, sizeof(err)), 5);
	assert_int_equal(pop_value(h, 0, err, sizeof(err)), INT32_MIN);
	trib_handoff_free(h);
}

static void
test_wait_first(void **state)
{
	trib_handoff *started = trib_handoff_new(1000, ent_free, NULL);
	trib_handoff *failed = trib_handoff_new(1000, ent_free, NULL);
	struct timespec now = trib_clock_deadline(0);
	char		err[64] = "";
	int			code = 0;

	(void) state;
	assert_int_equal(trib_handoff_wait_first(started, &now, &code, err, sizeof(err)), 0);
	assert_true(trib_handoff_push(started, mk(1, 10)));
	trib_handoff_finish(started, 3, "after the first push");
	assert_int_equal(trib_handoff_wait_first(started, &now, &code, err, sizeof(err)), 1);
	assert_int_equal(pop_value(started, 0, err, sizeof(err)), 1);
	/* popped: still started */
	assert_int_equal(trib_handoff_wait_first(started, &now, &code, err, sizeof(err)), 1);

	trib_handoff_finish(failed, 3, "refused");
	assert_int_equal(trib_handoff_wait_first(failed, &now, &code, err, sizeof(err)), -1);
	assert_int_equal(code, 3);
	assert_string_equal(err, "refused");
	trib_handoff_free(started);
	trib_handoff_free(failed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_then_end),
		cmocka_unit_test(test_pop_times_out),
		cmocka_unit_test(test_full_queue_waits_for_room),
		cmocka_unit_test(test_stop_wakes_a_waiting_push),
		cmocka_unit_test(test_large_entry_passes_an_empty_queue),
		cmocka_unit_test(test_coalesce_folds_into_the_tail),
		cmocka_unit_test(test_wait_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
