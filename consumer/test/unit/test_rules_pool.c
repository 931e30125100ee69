/*
 * test_rules_pool.c: the rules on a batch on several threads
 * (rules_pool.c) give the bytes, verdicts, reasons and relations that
 * trib_rules_apply() gives one event at a time, in the batch's order; rule
 * sets with state across events are refused; take() hands results back
 * only in order.
 *
 * The events are W1-shaped rows (bench/transforms.sh's table) with the
 * five masking rules of the benchmark plus drop and rename, inserts,
 * updates with a before image, deletes, and rows a rule must send to the
 * dead-letter sink, interleaved over two tables.
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
#include "event.h"
#include "rules.h"
#include "rules_pool.h"

#define HEAD \
	"pipeline: t\n" \
	"sources:\n  pg: {type: postgres, dsn: \"dbname=x\", snapshot: never}\n" \
	"sinks:\n  out: {type: stdout}\n  dlq: {type: file, path: /tmp/never-opened.jsonl}\n" \
	"dead_letter: dlq\n"
#define KEY "key: \"00112233445566778899aabbccddeeff\""
#define FIVE \
	"transforms:\n" \
	"  - {type: substitute, fields: [name], kind: full_name, " KEY "}\n" \
	"  - {type: hash, fields: [email], context: email, " KEY "}\n" \
	"  - {type: perturb, fields: [amount], percent: 5, " KEY "}\n" \
	"  - {type: partial, fields: [meta.k], keep_last: 2}\n" \
	"  - {type: tokenize, fields: [id], alphabet: digits, " KEY "}\n" \
	"  - {type: drop, fields: [active], tables: [public.t2]}\n" \
	"  - {type: rename, renames: {created: created_at}}\n"

#define NEV 700					/* more than a poll batch's 512, odd */

static trib_column cols[] = {
	{.name = "id", .type = "bigint", .pk = true},
	{.name = "name", .type = "text"},
	{.name = "email", .type = "text"},
	{.name = "amount", .type = "numeric(12,2)"},
	{.name = "created", .type = "timestamptz"},
	{.name = "active", .type = "boolean"},
	{.name = "meta", .type = "jsonb"},
};
static trib_relation rel1 = {.schema = "public", .table = "t1", .ncolumns = 7,
.columns = cols, .version = 1};
static trib_relation rel2 = {.schema = "public", .table = "t2", .ncolumns = 7,
.columns = cols, .version = 1};

static trib_config *
load(const char *rules_yaml)
{
	char		yaml[8192];
	char		err[512];
	trib_config *cfg;

	snprintf(yaml, sizeof(yaml), HEAD "%s", rules_yaml);
	if (!trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err, sizeof(err)))
		fail_msg("config did not load: %s\n%s", err, yaml);
	return cfg;
}

/* Row i's image; every 50th has an object in meta.k (partial refuses it:
 * dead-letter). */
static char *
row(int i, int id)
{
	char		b[512];

	snprintf(b, sizeof(b), "{\"id\":%d,\"name\":\"name%d\",\"email\":\"user%d@example.com\","
			 "\"amount\":%d.50,\"created\":\"2026-11-22 10:00:00+00\",\"active\":%s,"
			 "\"meta\":{\"k\":%s}}", id, i, i, i, i % 2 ? "false" : "true",
			 i % 50 == 7 ? "{\"x\":1}" : "12345");
	return strdup(b);
}

/* Event i: insert, update or delete, of t1 or t2 in runs. */
static trib_event *
mkev(int i)
{
	trib_event *ev = trib_event_new();
	int			id = i % 10 == 3 ? i : 100000 + i * 37;	/* some too short for FF1 */
	char		key[64];

	ev->source = "pg";
	ev->schema = "public";
	ev->table = (i / 5) % 3 == 2 ? "t2" : "t1";
	ev->rel = ev->table[1] == '2' ? &rel2 : &rel1;
	ev->op = i % 7 == 0 ? TRIB_OP_UPDATE : i % 11 == 0 ? TRIB_OP_DELETE : TRIB_OP_CREATE;
	if (ev->op != TRIB_OP_DELETE)
		ev->after = row(i, id);
	if (ev->op != TRIB_OP_CREATE)
		ev->before = row(i + 1, id);
	snprintf(key, sizeof(key), "{\"id\":%d}", id);
	ev->key = strdup(key);
	return ev;
}

static bool
same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The shape of a relation: its columns' names and types. */
static void
assert_same_shape(const trib_relation *a, const trib_relation *b, int i)
{
	if (a == NULL || b == NULL)
	{
		if (a != b)
			fail_msg("event %d: relation %p vs %p", i, (void *) a, (void *) b);
		return;
	}
	assert_int_equal(a->ncolumns, b->ncolumns);
	for (int c = 0; c < a->ncolumns; c++)
	{
		if (!same_text(a->columns[c].name, b->columns[c].name) ||
			!same_text(a->columns[c].type, b->columns[c].type))
			fail_msg("event %d column %d: %s %s vs %s %s", i, c, a->columns[c].name,
					 a->columns[c].type, b->columns[c].name, b->columns[c].type);
	}
}

/* Run NEV events through trib_rules_apply (one at a time) and through a
 * pool of `parts`, in batches of `batch`; everything must match. */
static void
compare_with(int parts, size_t batch)
{
	trib_config *cfg = load(FIVE);
	char		err[512];
	trib_rules *one = trib_rules_new(cfg, NULL, err, sizeof(err));
	trib_rules *rs = trib_rules_new(cfg, NULL, err, sizeof(err));
	trib_rules_pool *pl;
	trib_event *a[NEV],
			   *b[NEV];
	int			kept = 0,
				dead = 0;

	assert_non_null(one);
	assert_non_null(rs);
	pl = trib_rules_pool_new(rs, cfg, NULL, parts, err, sizeof(err));
	assert_non_null(pl);
	for (int i = 0; i < NEV; i++)
	{
		a[i] = mkev(i);
		b[i] = mkev(i);
	}
	for (size_t first = 0; first < NEV; first += batch)
	{
		size_t		m = NEV - first < batch ? NEV - first : batch;

		trib_rules_pool_run(pl, &b[first], m);
		for (size_t k = 0; k < m; k++)
		{
			size_t		i = first + k;
			char		e1[512] = "",
						e2[512] = "";
			const trib_relation *src = NULL;
			trib_verdict v2;
			trib_verdict v1 = trib_rules_apply(one, a[i], e1, sizeof(e1));

			assert_true(trib_rules_pool_take(pl, b[i], &v2, &src, e2, sizeof(e2)));
			assert_int_equal(v1, v2);
			assert_string_equal(e1, e2);
			assert_ptr_equal(src, i % 15 >= 10 ? &rel2 : &rel1);
			if (!same_text(a[i]->after, b[i]->after) || !same_text(a[i]->before, b[i]->before) ||
				!same_text(a[i]->key, b[i]->key) || !same_text(a[i]->error, b[i]->error))
				fail_msg("event %zu differs:\n 1: %s | %s | %s | %s\n N: %s | %s | %s | %s", i,
						 a[i]->before, a[i]->after, a[i]->key, a[i]->error,
						 b[i]->before, b[i]->after, b[i]->key, b[i]->error);
			assert_same_shape(a[i]->rel, b[i]->rel, (int) i);
			kept += v1 == TRIB_VERDICT_KEEP;
			dead += v1 == TRIB_VERDICT_DEAD_LETTER;
		}
		assert_false(trib_rules_pool_take(pl, b[first], &(trib_verdict) {0},
										  &(const trib_relation *) {NULL}, err, sizeof(err)));
	}
	/* both verdicts were exercised, and the masks did mask */
	assert_true(kept > NEV / 2);
	assert_true(dead > 0);
	assert_null(strstr(b[1]->after, "user1@example.com"));
	for (int i = 0; i < NEV; i++)
	{
		trib_event_free(a[i]);
		trib_event_free(b[i]);
	}
	trib_rules_pool_free(pl);
	trib_rules_free(rs);
	trib_rules_free(one);
	trib_config_free(cfg);
}

static void
test_two_threads_match_one_event_at_a_time(void **state)
{
	(void) state;
	compare_with(2, 512);
}

static void
test_four_threads_odd_batches_match(void **state)
{
	(void) state;
	compare_with(4, 97);
}

static void
test_small_batches_on_the_caller_match(void **state)
{
	(void) state;
	compare_with(3, TRIB_RULES_POOL_MIN_BATCH - 1);
}

/* Workers that sleep at random before each chunk (the test switch): the
 * chunks finish out of order, the caller waits and masks chunks itself,
 * and every result still comes back in order and byte for byte. */
static void
test_delayed_workers_match_in_order(void **state)
{
	(void) state;
	setenv("TRIBUTARY_TEST_RULES_POOL_DELAY", "1", 1);
	compare_with(2, 512);
	compare_with(3, 97);
	unsetenv("TRIBUTARY_TEST_RULES_POOL_DELAY");
}

/* forget() mid-batch returns only once no worker touches the batch: the
 * events it leaves do not change afterwards (the source frees them at its
 * next poll). */
static void
test_forget_mid_batch_leaves_the_events_alone(void **state)
{
	trib_config *cfg;
	char		err[512];
	trib_rules *rs;
	trib_rules_pool *pl;
	trib_event *evs[NEV];
	char	   *seen[NEV];
	trib_verdict v;
	const trib_relation *src;

	(void) state;
	setenv("TRIBUTARY_TEST_RULES_POOL_DELAY", "1", 1);
	cfg = load(FIVE);
	rs = trib_rules_new(cfg, NULL, err, sizeof(err));
	pl = trib_rules_pool_new(rs, cfg, NULL, 3, err, sizeof(err));
	unsetenv("TRIBUTARY_TEST_RULES_POOL_DELAY");
	assert_non_null(pl);
	for (int i = 0; i < NEV; i++)
		evs[i] = mkev(i);
	trib_rules_pool_run(pl, evs, NEV);
	for (int i = 0; i < 20; i++)
		assert_true(trib_rules_pool_take(pl, evs[i], &v, &src, err, sizeof(err)));
	trib_rules_pool_forget(pl);
	for (int i = 0; i < NEV; i++)
		seen[i] = evs[i]->after ? strdup(evs[i]->after) : NULL;
	usleep(10000);				/* longer than a delayed worker's chunk */
	for (int i = 0; i < NEV; i++)
	{
		if (!same_text(seen[i], evs[i]->after))
			fail_msg("event %d changed after forget: %s -> %s", i, seen[i], evs[i]->after);
		free(seen[i]);
		trib_event_free(evs[i]);
	}
	trib_rules_pool_free(pl);
	trib_rules_free(rs);
	trib_config_free(cfg);
}

/* A pool refuses rule sets with state across events: pool_new gives NULL
 * with no error, and the pipeline applies the rules itself. */
static void
test_stateful_rule_sets_are_not_parallel(void **state)
{
	static const char *const stateful[] = {
		"transforms:\n  - {type: filter, lua: \"after.amount > 1\"}\n",
		"transforms:\n  - {type: quality, fields: [id], check: unique, action: drop}\n",
		"transforms:\n  - {type: encrypt, fields: [email], cipher: fernet, key: "
		"\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}\n",
		"strict: true\ntransforms:\n  - {type: hash, fields: [email], " KEY "}\n",
		"transforms: []\n",
	};

	(void) state;
	for (size_t i = 0; i < sizeof(stateful) / sizeof(stateful[0]); i++)
	{
		trib_config *cfg = load(stateful[i]);
		char		err[512] = "x";
		trib_rules *rs = trib_rules_new(cfg, NULL, err, sizeof(err));

		if (rs == NULL)
			fail_msg("rules %zu: %s", i, err);
		assert_false(trib_rules_pool_parallel(rs, cfg));
		assert_null(trib_rules_pool_new(rs, cfg, NULL, 2, err, sizeof(err)));
		assert_string_equal(err, "");
		trib_rules_free(rs);
		trib_config_free(cfg);
	}
}

/* One participant is no pool. */
static void
test_one_participant_is_no_pool(void **state)
{
	trib_config *cfg = load(FIVE);
	char		err[512];
	trib_rules *rs = trib_rules_new(cfg, NULL, err, sizeof(err));

	(void) state;
	assert_true(trib_rules_pool_parallel(rs, cfg));
	assert_null(trib_rules_pool_new(rs, cfg, NULL, 1, err, sizeof(err)));
	assert_string_equal(err, "");
	trib_rules_free(rs);
	trib_config_free(cfg);
}

/* take() only in order; forget() drops what is left. */
static void
test_take_in_order_and_forget(void **state)
{
	trib_config *cfg = load(FIVE);
	char		err[512];
	trib_rules *rs = trib_rules_new(cfg, NULL, err, sizeof(err));
	trib_rules_pool *pl = trib_rules_pool_new(rs, cfg, NULL, 2, err, sizeof(err));
	trib_event *evs[40];
	trib_verdict v;
	const trib_relation *src;

	(void) state;
	assert_non_null(pl);
	for (int i = 0; i < 40; i++)
		evs[i] = mkev(i + 1);
	trib_rules_pool_run(pl, evs, 40);
	assert_false(trib_rules_pool_take(pl, evs[1], &v, &src, err, sizeof(err)));
	assert_true(trib_rules_pool_take(pl, evs[0], &v, &src, err, sizeof(err)));
	assert_true(trib_rules_pool_take(pl, evs[1], &v, &src, err, sizeof(err)));
	trib_rules_pool_forget(pl);
	assert_false(trib_rules_pool_take(pl, evs[2], &v, &src, err, sizeof(err)));
	assert_false(trib_rules_pool_take(NULL, evs[2], &v, &src, err, sizeof(err)));
	for (int i = 0; i < 40; i++)
		trib_event_free(evs[i]);
	trib_rules_pool_free(pl);
	trib_rules_free(rs);
	trib_config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_threads_match_one_event_at_a_time),
		cmocka_unit_test(test_four_threads_odd_batches_match),
		cmocka_unit_test(test_small_batches_on_the_caller_match),
		cmocka_unit_test(test_stateful_rule_sets_are_not_parallel),
		cmocka_unit_test(test_one_participant_is_no_pool),
		cmocka_unit_test(test_take_in_order_and_forget),
		cmocka_unit_test(test_delayed_workers_match_in_order),
		cmocka_unit_test(test_forget_mid_batch_leaves_the_events_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
