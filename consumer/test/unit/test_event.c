/*
 * test_event.c: the event and relation life cycles, LSN text conversion
 * (event.c, relation.c, lsn.c) and the hex digits it rests on (hex.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "hex.h"
#include "position.h"
#include "sink.h"

/* Parse must succeed with exactly this value. */
static void
expect_lsn(const char *text, uint64_t want)
{
	uint64_t	got = 0;

	if (!trib_lsn_parse(text, &got))
		fail_msg("trib_lsn_parse(\"%s\") failed, expected %016llx", text,
				 (unsigned long long) want);
	if (got != want)
		fail_msg("trib_lsn_parse(\"%s\") = %016llx, expected %016llx", text,
				 (unsigned long long) got, (unsigned long long) want);
}

static void
lsn_parse_accepts_postgres_output_and_either_case(void **state)
{
	(void) state;
	expect_lsn("0/0", 0);
	expect_lsn("0/16B3748", 0x16B3748);
	expect_lsn("0/16b3748", 0x16B3748);
	expect_lsn("1A/FF", (UINT64_C(0x1A) << 32) | 0xFF);
	expect_lsn("FFFFFFFF/FFFFFFFF", UINT64_MAX);
	expect_lsn("00000001/00000002", (UINT64_C(1) << 32) | 2);
}

static void
lsn_parse_rejects_malformed_text_and_leaves_output_alone(void **state)
{
	static const char *const bad[] = {
		"", "/", "0/", "/0", "0", "0/0 ", " 0/0", "0x1/2", "1/2/3", "G/1",
		"-1/0", "+1/0", "123456789/0", "0/123456789", "0//0", "0/0\n", "1:2",
	};
	uint64_t	out = 42;

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		if (trib_lsn_parse(bad[i], &out))
			fail_msg("trib_lsn_parse(\"%s\") accepted malformed input", bad[i]);
		assert_int_equal(out, 42);
	}
	assert_false(trib_lsn_parse(NULL, &out));
}

static void
lsn_format_writes_uppercase_hex_like_postgres(void **state)
{
	char		buf[TRIB_LSN_BUFLEN];

	(void) state;
	trib_lsn_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "0/0");
	trib_lsn_format(0x16B3748, buf, sizeof(buf));
	assert_string_equal(buf, "0/16B3748");
	trib_lsn_format((UINT64_C(0x1A) << 32) | 0xABCDEF, buf, sizeof(buf));
	assert_string_equal(buf, "1A/ABCDEF");
	trib_lsn_format(UINT64_MAX, buf, sizeof(buf));
	assert_string_equal(buf, "FFFFFFFF/FFFFFFFF");
}

static void
lsn_format_never_overruns_a_short_buffer(void **state)
{
	char		buf[8];

	(void) state;
	memset(buf, 'x', sizeof(buf));
	trib_lsn_format(UINT64_MAX, buf, 5);
	assert_string_equal(buf, "FFFF");
	assert_int_equal(buf[5], 'x');
}

static void
lsn_format_and_parse_round_trip(void **state)
{
	uint64_t	x = UINT64_C(0x9E3779B97F4A7C15);

	(void) state;
	for (int i = 0; i < 10000; i++)
	{
		char		buf[TRIB_LSN_BUFLEN];
		uint64_t	back = 0;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		char		ref[TRIB_LSN_BUFLEN];
		uint64_t	v = x >> (i % 64);

		trib_lsn_format(v, buf, sizeof(buf));
		snprintf(ref, sizeof(ref), "%X/%X", (unsigned) (v >> 32), (unsigned) v);
		assert_string_equal(buf, ref);
		assert_true(trib_lsn_parse(buf, &back));
		assert_int_equal(back, x >> (i % 64));
	}
}

/* The hex digit table LSN parsing uses (hex.h) against the definition,
 * for every byte and for values outside a byte. */
static void
hex_digit_matches_its_definition_for_every_byte(void **state)
{
	(void) state;
	for (int c = -300; c < 600; c++)
	{
		int			want = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (trib_hex_digit(c) != want)
			fail_msg("trib_hex_digit(%d) = %d, expected %d", c, trib_hex_digit(c), want);
	}
}

static void
event_new_is_zeroed_and_free_releases_owned_strings_only(void **state)
{
	trib_event *ev = trib_event_new();
	/* the naming strings are borrowed (event.h): free() on these stack
	 * arrays would abort the test */
	char		source[] = "main",
				db[] = "shop",
				schema[] = "public",
				table[] = "orders";

	(void) state;
	assert_non_null(ev);
	assert_null(ev->source);
	assert_null(ev->after);
	assert_null(ev->pos.opaque);
	assert_int_equal(ev->pos.commit_lsn, 0);
	assert_false(ev->snapshot);

	/* every owned string set: the leak checker of check-asan proves they
	 * are all freed */
	ev->source = source;
	ev->connector = "postgresql";
	ev->db = db;
	ev->schema = schema;
	ev->table = table;
	ev->before = strdup("{\"id\":1}");
	ev->after = strdup("{\"id\":1,\"n\":2}");
	ev->key = strdup("{\"id\":1}");
	ev->unchanged = strdup("[\"big\"]");
	ev->extra = strdup("{}");
	ev->pos.opaque = strdup("{\"gtid\":\"x\"}");
	ev->topic = strdup("shop.public.orders");
	trib_event_free(ev);
	trib_event_free(NULL);
	assert_string_equal(table, "orders");
}

/* The owned fields of an event, to set one at a time. */
static char **
owned_field(trib_event *ev, int i)
{
	char	  **f[] = {&ev->before, &ev->after, &ev->key, &ev->unchanged,
		&ev->after_json_nulls, &ev->before_json_nulls, &ev->extra,
		&ev->pos.opaque, &ev->topic, &ev->tags, &ev->error};

	return i < (int) (sizeof(f) / sizeof(f[0])) ? f[i] : NULL;
}

static void
event_clear_frees_each_set_field_skips_null_ones_and_zeroes(void **state)
{
	trib_event	zero,
				ev;
	char	   *set;

	(void) state;
	memset(&zero, 0, sizeof(zero));
	/* each owned field alone, then all eleven: check-asan's leak checker
	 * proves every set one is freed (clear skips the NULL ones) */
	for (int i = 0; i <= 11; i++)
	{
		memset(&ev, 0, sizeof(ev));
		ev.op = TRIB_OP_UPDATE;
		ev.table = "orders";
		ev.pos.commit_lsn = 0x10;
		for (int j = 0; owned_field(&ev, j) != NULL; j++)
			if (i == 11 || j == i)
			{
				set = strdup("{\"id\":1}");
				assert_non_null(set);
				*owned_field(&ev, j) = set;
			}
		trib_event_clear(&ev);
		if (memcmp(&ev, &zero, sizeof(ev)) != 0)
			fail_msg("trib_event_clear left the event not zeroed (field %d set)", i);
	}
}

static void
position_order_is_commit_lsn_then_seq_and_ignores_the_rest(void **state)
{
	trib_position a = {.commit_lsn = 0x10, .seq = 5, .end_lsn = 0x99, .lsn = 7};
	trib_position b = {.commit_lsn = 0x10, .seq = 6};
	trib_position c = {.commit_lsn = 0x11, .seq = 0};
	trib_position a2 = {.commit_lsn = 0x10, .seq = 5, .end_lsn = 1};

	(void) state;
	assert_true(trib_position_cmp(&a, &b) < 0);
	assert_true(trib_position_cmp(&b, &a) > 0);
	assert_true(trib_position_cmp(&b, &c) < 0);	/* commit_lsn first */
	assert_true(trib_position_cmp(&c, &b) > 0);
	assert_int_equal(trib_position_cmp(&a, &a2), 0);	/* end_lsn, lsn aside */
	assert_true(trib_position_le(&a, &a2));
	assert_true(trib_position_le(&a, &b));
	assert_false(trib_position_le(&c, &b));
	b.seq = TRIB_SEQ_ALL;		/* the whole transaction: after its events */
	assert_true(trib_position_le(&a, &b));
	assert_false(trib_position_le(&b, &a));
}

static void
relation_free_releases_columns_and_names(void **state)
{
	trib_relation *rel = calloc(1, sizeof(*rel));
	trib_relation inside = {0};

	(void) state;
	rel->schema = strdup("public");
	rel->table = strdup("orders");
	rel->ncolumns = 2;
	rel->columns = calloc(2, sizeof(trib_column));
	rel->columns[0].name = strdup("id");
	rel->columns[0].type = strdup("integer");
	rel->columns[1].name = strdup("note");
	rel->columns[1].type = strdup("text");
	trib_relation_free(rel);	/* check-asan's leak checker proves it */
	trib_relation_free(NULL);

	inside.table = strdup("t");
	inside.ncolumns = 1;
	inside.columns = calloc(1, sizeof(trib_column));
	inside.columns[0].name = strdup("x");
	trib_relation_clear(&inside);
	assert_null(inside.table);
	assert_null(inside.columns);
	assert_int_equal(inside.ncolumns, 0);
}

static void
sink_fault_says_not_open_then_keeps_its_failure(void **state)
{
	trib_sink_fault fault = {0};
	trib_position durable = {.commit_lsn = 9, .seq = 2, .opaque = (char *) "{}"};
	trib_position out = {0};
	char		err[64] = "";

	(void) state;
	assert_false(trib_sink_usable(NULL, "file sink", err, sizeof(err)));
	assert_string_equal(err, "file sink not open");
	assert_true(trib_sink_usable(&fault, "file sink", err, sizeof(err)));
	assert_false(trib_sink_fail(&fault, err, sizeof(err), "cannot write %s: %s", "f", "EIO"));
	assert_string_equal(err, "cannot write f: EIO");
	err[0] = '\0';
	assert_false(trib_sink_usable(&fault, "file sink", err, sizeof(err)));
	assert_string_equal(err, "cannot write f: EIO");

	assert_false(trib_sink_report_durable(false, &durable, &out));
	assert_true(trib_sink_report_durable(true, &durable, &out));
	assert_int_equal(out.commit_lsn, 9);
	assert_int_equal(out.seq, 2);
	/* the sink's opaque text is lent, not copied (a pipeline with several
	 * sources reads every source's position from it) */
	assert_ptr_equal(out.opaque, durable.opaque);
}

/* An open given another type's settings names the sink type. */
static void
sink_open_without_its_conf_says_so(void **state)
{
	char		err[64] = "";
	char		tiny[8] = "";

	(void) state;
	assert_false(trib_sink_no_conf("mongodb", err, sizeof(err)));
	assert_string_equal(err, "mongodb sink: no configuration");
	assert_false(trib_sink_no_conf("file", tiny, sizeof(tiny)));
	assert_string_equal(tiny, "file si");	/* cut, still terminated */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lsn_parse_accepts_postgres_output_and_either_case),
		cmocka_unit_test(lsn_parse_rejects_malformed_text_and_leaves_output_alone),
		cmocka_unit_test(lsn_format_writes_uppercase_hex_like_postgres),
		cmocka_unit_test(hex_digit_matches_its_definition_for_every_byte),
		cmocka_unit_test(lsn_format_never_overruns_a_short_buffer),
		cmocka_unit_test(lsn_format_and_parse_round_trip),
		cmocka_unit_test(event_new_is_zeroed_and_free_releases_owned_strings_only),
		cmocka_unit_test(event_clear_frees_each_set_field_skips_null_ones_and_zeroes),
		cmocka_unit_test(position_order_is_commit_lsn_then_seq_and_ignores_the_rest),
		cmocka_unit_test(relation_free_releases_columns_and_names),
		cmocka_unit_test(sink_fault_says_not_open_then_keeps_its_failure),
		cmocka_unit_test(sink_open_without_its_conf_says_so),
	};

	return cmocka_run_group_tests_name("event", tests, NULL, NULL);
}
