/*
 * test_worker_exit.c: a pool worker's last act (lib/worker_exit.c).  The
 * first worker's error becomes the pool's and a later one does not
 * replace it; a worker without an error leaves the pool's empty; each
 * call counts one worker out; a thread waiting for the pool to end wakes
 * when the last worker leaves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include "worker_exit.h"

typedef struct pool
{
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int			running;
	char		err[32];
} pool;

static void
pool_init(pool *p, int running)
{
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->running = running;
	p->err[0] = '\0';
}

static void
pool_destroy(pool *p)
{
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
}

static void
test_first_error_wins(void **state)
{
	pool		p;

	(void) state;
	pool_init(&p, 3);
	trib_worker_exit(&p.mu, &p.cv, &p.running, p.err, sizeof(p.err), "");
	assert_string_equal(p.err, "");
	assert_int_equal(p.running, 2);
	trib_worker_exit(&p.mu, &p.cv, &p.running, p.err, sizeof(p.err), "table a: refused");
	assert_string_equal(p.err, "table a: refused");
	assert_int_equal(p.running, 1);
	trib_worker_exit(&p.mu, &p.cv, &p.running, p.err, sizeof(p.err), "table b: refused");
	assert_string_equal(p.err, "table a: refused");
	assert_int_equal(p.running, 0);
	pool_destroy(&p);
}

static void
test_no_error_and_truncation(void **state)
{
	pool		p;

	(void) state;
	pool_init(&p, 2);
	trib_worker_exit(&p.mu, &p.cv, &p.running, p.err, sizeof(p.err), NULL);
	assert_string_equal(p.err, "");
	trib_worker_exit(&p.mu, &p.cv, &p.running, p.err, 8, "a rather long message");
	assert_string_equal(p.err, "a rathe");
	assert_int_equal(p.running, 0);
	pool_destroy(&p);
}

static void *
worker(void *arg)
{
	pool	   *p = arg;

	trib_worker_exit(&p->mu, &p->cv, &p->running, p->err, sizeof(p->err), NULL);
	return NULL;
}

static void
test_waiter_wakes_when_the_last_leaves(void **state)
{
	pool		p;
	pthread_t	t[4];

	(void) state;
	pool_init(&p, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker, &p), 0);
	pthread_mutex_lock(&p.mu);
	while (p.running > 0)
		pthread_cond_wait(&p.cv, &p.mu);
	pthread_mutex_unlock(&p.mu);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(p.running, 0);
	pool_destroy(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_error_wins),
		cmocka_unit_test(test_no_error_and_truncation),
		cmocka_unit_test(test_waiter_wakes_when_the_last_leaves),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
