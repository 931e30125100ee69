/*
 * test_mysql_position.c: unit tests of MySQL/MariaDB positions
 * (source/mysql/mysql_position.c): GTID text forms, event ids, their
 * order and the (major, minor) mapping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mysql_position.h"

/* Parse a position or fail. */
static trib_my_pos
pos(const char *s)
{
	trib_my_pos p;
	char		err[256];

	if (!trib_my_pos_parse(s, &p, err, sizeof(err)))
		fail_msg("%s: %s", s, err);
	return p;
}

static void
test_gtid_text_forms(void **state)
{
	static const char *const good[] = {
		"0-1-42", "4294967295-4294967295-18446744073709551615",
		"3e11fa47-71ca-11e1-9e33-c80aa9429562:23"
	};
	static const char *const bad[] = {
		"0-1", "a-1-2", "0-1-2-3", "-1-2", "0-4294967296-1", "0-1-18446744073709551616",
		"3e11fa47-71ca-11e1-9e33-c80aa942956:1", "3e11fa47-71ca-11e1-9e33-c80aa9429562:",
		"3e11fa47x71ca-11e1-9e33-c80aa9429562:1", "0-1-4 "
	};
	trib_my_gtid g;
	char		buf[TRIB_MY_GTID_BUFLEN];

	(void) state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
	{
		if (!trib_my_gtid_parse(good[i], strlen(good[i]), &g))
			fail_msg("%s should parse", good[i]);
		trib_my_gtid_format(&g, buf, sizeof(buf));
		assert_string_equal(buf, good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (trib_my_gtid_parse(bad[i], strlen(bad[i]), &g))
			fail_msg("%s should not parse", bad[i]);
	assert_true(trib_my_gtid_parse("", 0, &g));
	assert_int_equal(g.kind, TRIB_MY_GTID_NONE);
}

static void
test_event_id_round_trip(void **state)
{
	static const char *const ids[] = {
		"0-1-42/mariadb-bin.000003:928/3",
		"0-1-42/mariadb-bin.000003:928",
		"/binlog.000001:4711/0",
		"3e11fa47-71ca-11e1-9e33-c80aa9429562:23/binlog.000012:4/9223372036854775806",
		"0-1-1/host:with:colons.000001:4/0",
	};
	char		buf[TRIB_MY_POS_BUFLEN];

	(void) state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
	{
		trib_my_pos p = pos(ids[i]);

		trib_my_pos_format(&p, buf, sizeof(buf));
		assert_string_equal(buf, ids[i]);
	}
	assert_int_equal(pos("0-1-42/mariadb-bin.000003:928").row, TRIB_MY_ROW_ALL);
	assert_string_equal(pos("0-1-1/host:with:colons.000001:4/0").file, "host:with:colons.000001");
}

static void
test_event_id_errors_say_what(void **state)
{
	static const struct
	{
		const char *id;
		const char *msg;
	}			cases[] = {
		{"mariadb-bin.000001:4", "expected GTID/FILE:POS[/ROW]"},
		{"0-1/f.000001:4", "is not a GTID"},
		{"0-1-2/f.000001", "expected FILE:POS after the GTID"},
		{"0-1-2/:4", "expected FILE:POS after the GTID"},
		{"0-1-2/f.000001:x", "the offset is not a number"},
		{"0-1-2/f.000001:4/-1", "the row is not a number"},
		{"0-1-2/f.000001:4/9223372036854775807", "the row is not a number"},
	};
	trib_my_pos p;
	char		err[256];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		if (trib_my_pos_parse(cases[i].id, &p, err, sizeof(err)))
			fail_msg("%s should not parse", cases[i].id);
		if (!strstr(err, cases[i].msg))
			fail_msg("%s: expected \"%s\" in \"%s\"", cases[i].id, cases[i].msg, err);
	}
}

static void
test_order_within_one_binlog(void **state)
{
	/* ascending: file numbers compare as numbers (9 < 10), then offsets,
	 * then rows, the whole transaction after its rows */
	static const char *const asc[] = {
		"0-1-5/b.000009:4/0",
		"0-1-5/b.000009:4/1",
		"0-1-5/b.000009:4/10",
		"0-1-5/b.000009:4",
		"0-1-6/b.000009:700/0",
		"0-1-7/b.000010:4/0",
		"0-1-7/b.000010:4",
		"0-1-9/b.1000000:4/0",
	};

	(void) state;
	for (size_t i = 0; i + 1 < sizeof(asc) / sizeof(asc[0]); i++)
	{
		trib_my_pos a = pos(asc[i]),
					b = pos(asc[i + 1]);

		if (trib_my_pos_cmp(&a, &b) >= 0 || trib_my_pos_cmp(&b, &a) <= 0)
			fail_msg("%s should sort before %s", asc[i], asc[i + 1]);
	}
	{
		trib_my_pos a = pos("0-1-5/b.000009:4/3"),
					b = pos("9-9-9/b.000009:4/3");

		/* the GTID is not part of the order */
		assert_int_equal(trib_my_pos_cmp(&a, &b), 0);
	}
}

static void
test_major_maps_file_and_offset(void **state)
{
	trib_my_pos p = pos("0-1-5/mariadb-bin.000003:928/7");
	uint64_t	major;
	uint32_t	n;

	(void) state;
	assert_true(trib_my_pos_major(&p, &major));
	assert_int_equal(major, ((uint64_t) 3 << 32) | 928);
	p = pos("0-1-5/nonumber:928/7");
	assert_false(trib_my_pos_major(&p, &major));
	assert_false(trib_my_file_number("binlog", &n));
	assert_true(trib_my_file_number("binlog.4294967295", &n));
	assert_int_equal(n, 4294967295u);
	assert_false(trib_my_file_number("binlog.4294967296", &n));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gtid_text_forms),
		cmocka_unit_test(test_event_id_round_trip),
		cmocka_unit_test(test_event_id_errors_say_what),
		cmocka_unit_test(test_order_within_one_binlog),
		cmocka_unit_test(test_major_maps_file_and_offset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
