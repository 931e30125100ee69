/*
 * test_asker.c: one question at a time to a worker thread (lib/asker.c).
 * An answer is taken once and only once; a second question waits until
 * the first answer is taken; many questions in sequence each get their
 * own answer; wait() gives up at its timeout while the job is slow;
 * free() while the worker is answering: JOIN waits for the answer,
 * DETACH returns at once and the worker destroys the context itself when
 * its job ends, FINISH answers a question not started yet, and the
 * thread hooks run once each on the worker; start() hands the worker
 * back through its out parameter and it answers as new()'s does.
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
#include <unistd.h>

#include "asker.h"
#include "clock.h"

/* A job: the answer is the question squared; a closed gate holds the
 * worker inside answer() until it is opened. */
typedef struct job
{
	int			question;
	int			answer;
	int			answered;		/* answer() calls */
	atomic_bool entered;		/* answer() is under way */
	atomic_bool gate_open;
} job;

static atomic_int destroyed;
static atomic_int started;
static atomic_int ended;
static atomic_bool destroyed_on_worker;
static atomic_int answered_at_destroy;
static pthread_t test_thread;

static void
job_answer(void *arg)
{
	job		   *j = arg;

	atomic_store(&j->entered, true);
	while (!atomic_load(&j->gate_open))
		usleep(1000);
	j->answer = j->question * j->question;
	j->answered++;
}

static void
job_destroy(void *arg)
{
	atomic_store(&destroyed_on_worker, !pthread_equal(pthread_self(), test_thread));
	atomic_store(&answered_at_destroy, ((job *) arg)->answered);
	atomic_fetch_add(&destroyed, 1);
	free(arg);
}

static void
thread_start(void)
{
	atomic_fetch_add(&started, 1);
}

static void
thread_end(void)
{
	atomic_fetch_add(&ended, 1);
}

static const trib_asker_ops ops = {job_answer, job_destroy, thread_start, thread_end};

/* A fresh job (gate open or not) and its asker. */
static trib_asker *
start(job **out, bool gate_open)
{
	job		   *j = calloc(1, sizeof(*j));
	int			rc = -1;
	trib_asker *a;

	atomic_store(&j->gate_open, gate_open);
	atomic_store(&destroyed, 0);
	atomic_store(&answered_at_destroy, -1);
	atomic_store(&started, 0);
	atomic_store(&ended, 0);
	test_thread = pthread_self();
	a = trib_asker_new(&ops, j, &rc);
	assert_non_null(a);
	assert_int_equal(rc, 0);
	*out = j;
	return a;
}

/* Wait up to 5 s for *counter to reach n. */
static void
await_count(atomic_int *counter, int n)
{
	for (int i = 0; i < 5000 && atomic_load(counter) < n; i++)
		usleep(1000);
	assert_int_equal(atomic_load(counter), n);
}

/* Wait up to 5 s for the worker to be inside answer(). */
static void
await_entered(job *j)
{
	for (int i = 0; i < 5000 && !atomic_load(&j->entered); i++)
		usleep(1000);
	assert_true(atomic_load(&j->entered));
}

/* An asker whose worker is held inside answer() for `question`. */
static trib_asker *
ask_slow(job **out, int question)
{
	trib_asker *a = start(out, false);

	(*out)->question = question;
	assert_true(trib_asker_ask(a));
	await_entered(*out);
	return a;
}

static void
test_answer_taken_once(void **state)
{
	job		   *j;
	trib_asker *a = start(&j, true);

	(void) state;
	assert_int_equal(trib_asker_poll(a), TRIB_ASKER_IDLE);
	assert_false(trib_asker_take(a));
	j->question = 7;
	assert_true(trib_asker_ask(a));
	assert_true(trib_asker_wait(a, 5000));
	assert_int_equal(trib_asker_poll(a), TRIB_ASKER_READY);
	assert_false(trib_asker_ask(a));	/* the answer is not taken yet */
	assert_true(trib_asker_take(a));
	assert_int_equal(j->answer, 49);
	assert_false(trib_asker_take(a));
	assert_int_equal(trib_asker_poll(a), TRIB_ASKER_IDLE);
	assert_int_equal(j->answered, 1);
	trib_asker_free(a, TRIB_ASKER_JOIN);
	assert_int_equal(atomic_load(&destroyed), 1);
	assert_false(atomic_load(&destroyed_on_worker));
	assert_int_equal(atomic_load(&started), 1);
	assert_int_equal(atomic_load(&ended), 1);
}

static void
test_many_asks_in_sequence(void **state)
{
	job		   *j;
	trib_asker *a = start(&j, true);

	(void) state;
	for (int q = 1; q <= 200; q++)
	{
		j->question = q;
		assert_true(trib_asker_ask(a));
		assert_false(trib_asker_ask(a));	/* one in flight at a time */
		assert_true(trib_asker_wait(a, -1));
		assert_true(trib_asker_take(a));
		assert_int_equal(j->answer, q * q);
	}
	assert_int_equal(j->answered, 200);
	trib_asker_free(a, TRIB_ASKER_DETACH);	/* idle: joined, not detached */
	assert_int_equal(atomic_load(&destroyed), 1);
	assert_false(atomic_load(&destroyed_on_worker));
}

static void
test_wait_times_out_on_a_slow_job(void **state)
{
	job		   *j;
	trib_asker *a = ask_slow(&j, 3);
	int64_t		t0;

	(void) state;
	assert_false(trib_asker_wait(a, 0));
	t0 = trib_clock_mono_ms();
	assert_false(trib_asker_wait(a, 50));
	assert_true(trib_clock_mono_ms() - t0 >= 40);
	assert_int_equal(trib_asker_poll(a), TRIB_ASKER_BUSY);
	assert_false(trib_asker_take(a));
	atomic_store(&j->gate_open, true);
	assert_true(trib_asker_wait(a, 5000));
	assert_true(trib_asker_take(a));
	assert_int_equal(j->answer, 9);
	trib_asker_free(a, TRIB_ASKER_JOIN);
}

/* Open j's gate after 100 ms (the test thread is then inside free()). */
static void *
open_gate_later(void *arg)
{
	job		   *j = arg;

	usleep(100 * 1000);
	atomic_store(&j->gate_open, true);
	return NULL;
}

static void
test_join_waits_for_the_job_under_way(void **state)
{
	job		   *j;
	trib_asker *a = ask_slow(&j, 4);
	pthread_t	opener;

	(void) state;
	pthread_create(&opener, NULL, open_gate_later, j);
	trib_asker_free(a, TRIB_ASKER_JOIN);	/* returns once the job ended */
	assert_int_equal(atomic_load(&destroyed), 1);
	assert_int_equal(atomic_load(&answered_at_destroy), 1);
	assert_false(atomic_load(&destroyed_on_worker));
	assert_int_equal(atomic_load(&ended), 1);
	pthread_join(opener, NULL);
}

static void
test_free_while_busy_detaches(void **state)
{
	job		   *j;
	trib_asker *a = ask_slow(&j, 5);

	(void) state;
	trib_asker_free(a, TRIB_ASKER_DETACH);	/* returns at once */
	assert_int_equal(atomic_load(&destroyed), 0);
	atomic_store(&j->gate_open, true);	/* the job may end now */
	await_count(&destroyed, 1);
	assert_true(atomic_load(&destroyed_on_worker));
	assert_int_equal(atomic_load(&answered_at_destroy), 1);
	await_count(&ended, 1);
}

/* The worker held in thread_start until start_gate opens, so that a
 * question stays asked and not started. */
static atomic_bool start_gate;

static void
gated_thread_start(void)
{
	while (!atomic_load(&start_gate))
		usleep(1000);
}

static const trib_asker_ops gated_ops = {job_answer, job_destroy, gated_thread_start, NULL};

/* Open start_gate after 100 ms (the test thread is then inside free()). */
static void *
open_start_gate_later(void *arg)
{
	(void) arg;
	usleep(100 * 1000);
	atomic_store(&start_gate, true);
	return NULL;
}

/* free(how) with a question asked and not started yet; the number of
 * answers the context had when it was destroyed. */
static int
free_with_question_not_started(trib_asker_stop how)
{
	job		   *j = calloc(1, sizeof(*j));
	int			rc = -1;
	trib_asker *a;
	pthread_t	opener;

	atomic_store(&j->gate_open, true);
	atomic_store(&start_gate, false);
	atomic_store(&destroyed, 0);
	atomic_store(&answered_at_destroy, -1);
	test_thread = pthread_self();
	a = trib_asker_new(&gated_ops, j, &rc);
	assert_non_null(a);
	j->question = 6;
	assert_true(trib_asker_ask(a));
	assert_int_equal(trib_asker_poll(a), TRIB_ASKER_BUSY);
	pthread_create(&opener, NULL, open_start_gate_later, NULL);
	trib_asker_free(a, how);
	pthread_join(opener, NULL);
	assert_int_equal(atomic_load(&destroyed), 1);
	assert_false(atomic_load(&destroyed_on_worker));
	return atomic_load(&answered_at_destroy);
}

static void
test_finish_answers_a_question_not_started(void **state)
{
	(void) state;
	assert_int_equal(free_with_question_not_started(TRIB_ASKER_FINISH), 1);
}

static void
test_join_and_detach_drop_a_question_not_started(void **state)
{
	(void) state;
	assert_int_equal(free_with_question_not_started(TRIB_ASKER_JOIN), 0);
	assert_int_equal(free_with_question_not_started(TRIB_ASKER_DETACH), 0);
}

static void
test_start_hands_the_worker_back(void **state)
{
	job		   *j = calloc(1, sizeof(*j));
	trib_asker *a = NULL;
	char		err[64] = "";

	(void) state;
	atomic_store(&j->gate_open, true);
	atomic_store(&destroyed, 0);
	test_thread = pthread_self();
	assert_true(trib_asker_start(&ops, j, &a, "a test worker", err, sizeof(err)));
	assert_non_null(a);
	assert_string_equal(err, "");
	j->question = 7;
	assert_true(trib_asker_ask(a));
	assert_true(trib_asker_wait(a, 5000));
	assert_true(trib_asker_take(a));
	assert_int_equal(j->answer, 49);
	trib_asker_free(a, TRIB_ASKER_JOIN);
	assert_int_equal(atomic_load(&destroyed), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answer_taken_once),
		cmocka_unit_test(test_many_asks_in_sequence),
		cmocka_unit_test(test_wait_times_out_on_a_slow_job),
		cmocka_unit_test(test_join_waits_for_the_job_under_way),
		cmocka_unit_test(test_free_while_busy_detaches),
		cmocka_unit_test(test_finish_answers_a_question_not_started),
		cmocka_unit_test(test_join_and_detach_drop_a_question_not_started),
		cmocka_unit_test(test_start_hands_the_worker_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
