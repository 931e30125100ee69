/*
 * test_chunk_wait.c: the waits around a pool's chunk queue
 * (lib/chunk_wait.c).  A put queues at once while the queue with the
 * chunk stays within the bound, and a chunk alone on the queue whatever
 * its size; a put that would pass the bound waits until a take makes
 * room; a put after the stop flag leaves the chunk to its caller.  A take
 * returns a chunk (oldest first, its bytes no longer counted), 0 on
 * timeout, 2 once every worker is done and the queue is empty, and -1
 * with the pool's error even while chunks are queued; a taker waiting
 * wakes on a worker's put.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "chunk_wait.h"

typedef struct pool
{
	pthread_mutex_t mu;
	pthread_cond_t room,
				ready;
	trib_chunkq q;
	bool		stop;
	int			running;
	char		err[64];
	trib_chunkwait w;
} pool;

static void
pool_init(pool *p, size_t bound)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->room, NULL);
	pthread_cond_init(&p->ready, NULL);
	p->running = 1;
	p->w = (trib_chunkwait) {
		.mu = &p->mu,.room = &p->room,.ready = &p->ready,.q = &p->q,.bound = bound,
		.stop = &p->stop,.running = &p->running,.error = p->err,
	};
}

static void
pool_destroy(pool *p)
{
	pthread_cond_destroy(&p->ready);
	pthread_cond_destroy(&p->room);
	pthread_mutex_destroy(&p->mu);
}

/* How many chunks are queued (under the pool's mutex). */
static int
queued(pool *p)
{
	int			n = 0;

	pthread_mutex_lock(&p->mu);
	for (trib_chunkq_link *l = p->q.head; l; l = l->next)
		n++;
	pthread_mutex_unlock(&p->mu);
	return n;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,.tv_nsec = (long) (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void
test_put_within_bound_and_alone(void **state)
{
	pool		p;
	trib_chunkq_link a = {.bytes = 40},
				b = {.bytes = 60},
				big = {.bytes = 500};
	trib_chunkq_link *out;
	char		e[64];

	(void) state;
	pool_init(&p, 100);
	assert_true(trib_chunkwait_put(&p.w, &a));
	assert_true(trib_chunkwait_put(&p.w, &b));	/* 40 + 60 = the bound */
	assert_int_equal(queued(&p), 2);
	assert_int_equal(p.q.bytes, 100);
	assert_int_equal(trib_chunkwait_take(&p.w, 0, &out, e, sizeof(e)), 1);
	assert_ptr_equal(out, &a);
	assert_int_equal(trib_chunkwait_take(&p.w, 0, &out, e, sizeof(e)), 1);
	assert_ptr_equal(out, &b);
	assert_int_equal(p.q.bytes, 0);
	assert_true(trib_chunkwait_put(&p.w, &big));	/* alone: whatever its size */
	assert_int_equal(queued(&p), 1);
	pool_destroy(&p);
}

/*
 * A worker's put on a thread of its own.  `entered` is set just before
 * the call and `returned` just after it, so that a test can tell a put
 * that waits from a thread that has not run yet: once `entered` is seen,
 * a put that does not wait returns within microseconds.
 */
typedef struct putter
{
	pool	   *p;
	trib_chunkq_link *c;
	bool		ok;
	_Atomic bool entered;
	_Atomic bool returned;
} putter;

static void *
put_thread(void *arg)
{
	putter	   *u = arg;

	u->entered = true;
	u->ok = trib_chunkwait_put(&u->p->w, u->c);
	u->returned = true;
	return NULL;
}

/* Start a putter and return once it is inside the put (or about to be):
 * then give a put that does not wait ample time to return. */
static void
start_putter(pthread_t *t, putter *u)
{
	assert_int_equal(pthread_create(t, NULL, put_thread, u), 0);
	for (int i = 0; i < 5000 && !u->entered; i++)
		sleep_ms(1);
	assert_true(u->entered);
	sleep_ms(100);
}

static void
test_put_over_bound_waits_for_a_take(void **state)
{
	pool		p;
	trib_chunkq_link a = {.bytes = 80},
				b = {.bytes = 30};
	trib_chunkq_link *out;
	putter		u = {.p = &p,.c = &b};
	pthread_t	t;
	char		e[64];

	(void) state;
	pool_init(&p, 100);
	assert_true(trib_chunkwait_put(&p.w, &a));
	start_putter(&t, &u);
	assert_false(u.returned);	/* 80 + 30 > 100: still waiting */
	assert_int_equal(queued(&p), 1);
	assert_int_equal(trib_chunkwait_take(&p.w, 0, &out, e, sizeof(e)), 1);
	assert_ptr_equal(out, &a);
	pthread_join(t, NULL);
	assert_true(u.ok);
	assert_int_equal(queued(&p), 1);
	assert_ptr_equal(p.q.head, &b);
	pool_destroy(&p);
}

static void
test_put_after_stop_is_refused(void **state)
{
	pool		p;
	trib_chunkq_link a = {.bytes = 80},
				b = {.bytes = 30};
	putter		u = {.p = &p,.c = &b,.ok = true};
	pthread_t	t;

	(void) state;
	pool_init(&p, 100);
	assert_true(trib_chunkwait_put(&p.w, &a));
	start_putter(&t, &u);
	assert_false(u.returned);	/* waiting for room when the stop comes */
	pthread_mutex_lock(&p.mu);
	p.stop = true;
	pthread_cond_broadcast(&p.room);
	pthread_mutex_unlock(&p.mu);
	pthread_join(t, NULL);
	assert_false(u.ok);			/* the waiting put gave up */
	assert_false(trib_chunkwait_put(&p.w, &b));	/* and a new one too */
	assert_int_equal(queued(&p), 1);
	pool_destroy(&p);
}

static void
test_take_timeout_end_and_error(void **state)
{
	pool		p;
	trib_chunkq_link a = {.bytes = 10};
	trib_chunkq_link *out = &a;
	char		e[64] = "";

	(void) state;
	pool_init(&p, 100);
	assert_int_equal(trib_chunkwait_take(&p.w, 20, &out, e, sizeof(e)), 0);
	assert_null(out);
	assert_true(trib_chunkwait_put(&p.w, &a));
	snprintf(p.err, sizeof(p.err), "table t: refused");
	assert_int_equal(trib_chunkwait_take(&p.w, 20, &out, e, sizeof(e)), -1);
	assert_string_equal(e, "table t: refused");
	assert_null(out);
	assert_int_equal(queued(&p), 1);	/* the error first, chunk left */
	p.err[0] = '\0';
	p.running = 0;
	assert_int_equal(trib_chunkwait_take(&p.w, 20, &out, e, sizeof(e)), 1);
	assert_ptr_equal(out, &a);
	assert_int_equal(trib_chunkwait_take(&p.w, 20, &out, e, sizeof(e)), 2);
	assert_null(out);
	pool_destroy(&p);
}

static void *
late_put_thread(void *arg)
{
	putter	   *u = arg;

	sleep_ms(50);
	u->ok = trib_chunkwait_put(&u->p->w, u->c);
	return NULL;
}

static void
test_take_wakes_on_a_put(void **state)
{
	pool		p;
	trib_chunkq_link a = {.bytes = 10};
	trib_chunkq_link *out;
	putter		u = {.p = &p,.c = &a};
	pthread_t	t;
	char		e[64];

	(void) state;
	pool_init(&p, 100);
	assert_int_equal(pthread_create(&t, NULL, late_put_thread, &u), 0);
	assert_int_equal(trib_chunkwait_take(&p.w, 10000, &out, e, sizeof(e)), 1);
	assert_ptr_equal(out, &a);
	pthread_join(t, NULL);
	pool_destroy(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_within_bound_and_alone),
		cmocka_unit_test(test_put_over_bound_waits_for_a_take),
		cmocka_unit_test(test_put_after_stop_is_refused),
		cmocka_unit_test(test_take_timeout_end_and_error),
		cmocka_unit_test(test_take_wakes_on_a_put),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
