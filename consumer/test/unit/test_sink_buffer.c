/*
 * test_sink_buffer.c: a paused sink's buffer (pipeline/sink_buffer.c) and
 * the event copy it keeps (trib_event_copy, core/event.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "sink_buffer.h"

/* An event with owned strings and borrowed names, at (lsn, seq). */
static trib_event *
sample(uint64_t lsn, uint64_t seq, bool last)
{
	static const trib_relation rel = {.version = 7};
	trib_event *ev = trib_event_new();

	ev->op = TRIB_OP_CREATE;
	ev->schema = "public";
	ev->table = "orders";
	ev->after = strdup("{\"id\":1,\"v\":\"x\"}");
	ev->key = strdup("{\"id\":1}");
	ev->topic = strdup("p.public.orders");
	ev->pos.commit_lsn = lsn;
	ev->pos.seq = seq;
	ev->pos.opaque = strdup("{\"lsn\":1}");
	ev->last_in_tx = last;
	ev->rel = &rel;
	return ev;
}

static void
event_copy_duplicates_owned_strings_and_shares_borrowed_ones(void **state)
{
	trib_event *ev = sample(10, 2, true);
	trib_event copy;
	size_t		bytes = trib_event_copy(ev, &copy);

	(void) state;
	assert_string_equal(copy.after, ev->after);
	assert_ptr_not_equal(copy.after, ev->after);
	assert_ptr_not_equal(copy.pos.opaque, ev->pos.opaque);
	assert_ptr_equal(copy.table, ev->table);
	assert_ptr_equal(copy.rel, ev->rel);
	assert_null(copy.before);
	assert_true(copy.last_in_tx);
	assert_int_equal(bytes, strlen(ev->after) + strlen(ev->key) + strlen(ev->topic) +
					 strlen(ev->pos.opaque) + 4);
	trib_event_free(ev);		/* the copy outlives the original */
	assert_string_equal(copy.key, "{\"id\":1}");
	trib_event_clear(&copy);
}

static void
buffer_keeps_order_marks_and_counts(void **state)
{
	trib_sink_buffer *b = trib_sink_buffer_new();
	uint64_t	full;

	(void) state;
	assert_null(trib_sink_buffer_front(b));
	for (uint64_t i = 1; i <= 3; i++)
	{
		trib_event *ev = sample(100, i, i == 3);

		trib_sink_buffer_push(b, ev, NULL);
		trib_event_free(ev);
	}
	assert_int_equal(trib_sink_buffer_events(b), 3);
	full = trib_sink_buffer_bytes(b);
	assert_true(full > 3 * 40);
	for (uint64_t i = 1; i <= 3; i++)
	{
		const trib_event *ev = trib_sink_buffer_front(b);

		assert_non_null(ev);
		assert_int_equal(ev->pos.seq, i);
		assert_int_equal(ev->last_in_tx, i == 3);
		assert_null(ev->origin);
		trib_sink_buffer_pop(b);
	}
	assert_null(trib_sink_buffer_front(b));
	assert_int_equal(trib_sink_buffer_events(b), 0);
	assert_int_equal(trib_sink_buffer_bytes(b), 0);
	trib_sink_buffer_free(b);
}

static void
buffer_gives_the_seen_position_with_the_origin_kept(void **state)
{
	trib_sink_buffer *b = trib_sink_buffer_new();
	trib_event *ev = sample(5, 1, true);
	trib_position merged = {.commit_lsn = 900, .seq = 4, .opaque = (char *) "{\"v\":[1,2]}"};
	const trib_event *held;

	(void) state;
	trib_sink_buffer_push(b, ev, &merged);
	trib_event_free(ev);
	ev = sample(6, 1, true);
	trib_sink_buffer_push(b, ev, NULL);	/* freed with b below */
	trib_event_free(ev);
	held = trib_sink_buffer_front(b);
	assert_int_equal(held->pos.commit_lsn, 900);
	assert_string_equal(held->pos.opaque, "{\"v\":[1,2]}");
	assert_ptr_not_equal(held->pos.opaque, merged.opaque);
	assert_non_null(held->origin);
	assert_int_equal(held->origin->commit_lsn, 5);
	assert_string_equal(held->origin->opaque, "{\"lsn\":1}");
	assert_int_equal(trib_event_origin(held)->commit_lsn, 5);
	trib_sink_buffer_free(b);	/* with what it holds */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(event_copy_duplicates_owned_strings_and_shares_borrowed_ones),
		cmocka_unit_test(buffer_keeps_order_marks_and_counts),
		cmocka_unit_test(buffer_gives_the_seen_position_with_the_origin_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
