/*
 * test_mysql_lag.c: unit tests of the binlog reader's lag
 * (source/mysql/mysql_lag.c): seconds behind from the last event read and
 * heartbeats, bytes behind from SHOW BINARY LOGS across rotations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mysql_lag.h"

/* SHOW BINARY LOGS' rows (Log_name, File_size). */
static char *cells[] = {
	"mariadb-bin.000001", "1000",
	"mariadb-bin.000002", "5000",
	"mariadb-bin.000003", "700",
};
static const trib_my_rows logs = {.nrows = 3, .ncols = 2, .cells = cells};

/* An event's timestamp sets the seconds; a heartbeat means caught up; an
 * artificial event (no position) changes nothing. */
static void
test_seconds_behind_the_last_event_read(void **state)
{
	trib_my_lag lag = {0};

	(void) state;
	assert_true(trib_my_lag_seconds(&lag, 5000000) == 0);
	trib_my_lag_note(&lag, false, "mariadb-bin.000002", 4000, 1000);
	assert_true(trib_my_lag_seconds(&lag, 1002500) == 2.5);
	trib_my_lag_note(&lag, false, "mariadb-bin.000002", 0, 0);
	assert_true(trib_my_lag_seconds(&lag, 1002500) == 2.5);
	trib_my_lag_note(&lag, true, NULL, 0, 0);
	assert_true(trib_my_lag_seconds(&lag, 1002500) == 0);
	trib_my_lag_note(&lag, false, "mariadb-bin.000002", 4100, 1001);
	assert_true(trib_my_lag_seconds(&lag, 1003000) == 2);
}

/* The rest of the file read last plus every later file; earlier files do
 * not count; a purged file is not known. */
static void
test_bytes_behind_across_rotations(void **state)
{
	trib_my_lag lag = {0};
	uint64_t	bytes = 1;

	(void) state;
	assert_false(trib_my_lag_bytes(&lag, &logs, &bytes));
	trib_my_lag_note(&lag, false, "mariadb-bin.000002", 4000, 1000);
	assert_true(trib_my_lag_bytes(&lag, &logs, &bytes));
	assert_int_equal(bytes, 1000 + 700);
	trib_my_lag_note(&lag, false, "mariadb-bin.000003", 700, 1000);
	assert_true(trib_my_lag_bytes(&lag, &logs, &bytes));
	assert_int_equal(bytes, 0);
	trib_my_lag_note(&lag, false, "mariadb-bin.000000", 700, 1000);
	assert_false(trib_my_lag_bytes(&lag, &logs, &bytes));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seconds_behind_the_last_event_read),
		cmocka_unit_test(test_bytes_behind_across_rotations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
