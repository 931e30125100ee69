/*
 * test_log.c: the structured log (log.c): formats, levels, secrets,
 * reopen on SIGHUP, connection string redaction, and log hooks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "log.h"

static char tmpdir[] = "/tmp/trib-test-log.XXXXXX";
static char logpath[512];

/* Read a whole file into a malloc'd string ("" when missing). */
static char *
slurp(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char	   *buf = calloc(1, 1 << 16);
	size_t		n;

	assert_non_null(buf);
	if (f == NULL)
		return buf;
	n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Each test logs to a fresh file, at info, as text, with no secrets. */
static int
setup(void **state)
{
	char		err[256];

	(void) state;
	snprintf(logpath, sizeof(logpath), "%s/test.log", tmpdir);
	unlink(logpath);
	trib_log_clear_secrets();
	if (!trib_log_open(TRIB_LOG_INFO, TRIB_LOG_TEXT, logpath, err, sizeof(err)))
		fail_msg("%s", err);
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	trib_log_close();
	trib_log_clear_secrets();
	unlink(logpath);
	return 0;
}

static int
group_setup(void **state)
{
	(void) state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void) state;
	trib_log_close();
	return rmdir(tmpdir);
}

/* Assert that `text` matches the extended regex `re`. */
static void
assert_matches(const char *text, const char *re)
{
	regex_t		rx;

	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	if (regexec(&rx, text, 0, NULL, 0) != 0)
	{
		regfree(&rx);
		fail_msg("expected a match for /%s/, got:\n%s", re, text);
	}
	regfree(&rx);
}

static void
text_line_has_time_pid_level_component_and_message(void **state)
{
	char	   *out;

	(void) state;
	tlog_info("kafka", "delivered %d messages", 3);
	out = slurp(logpath);
	assert_matches(out, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
				   "\\[[0-9]+\\] INFO  kafka: delivered 3 messages\n$");
	free(out);
}

static int	evaluated;

/* An argument with a side effect, to see whether it was evaluated. */
static int
side_effect(void)
{
	return ++evaluated;
}

static void
levels_below_the_threshold_are_dropped_without_evaluating_arguments(void **state)
{
	char	   *out;

	(void) state;
	evaluated = 0;
	tlog_debug("pg", "debug %d", side_effect());
	assert_int_equal(evaluated, 0);
	tlog_warn("pg", "warned");
	tlog_error("pg", "failed");
	trib_log_set_level(TRIB_LOG_ERROR);
	tlog_info("pg", "not written");
	assert_false(trib_log_enabled(TRIB_LOG_WARN));
	trib_log_set_level(TRIB_LOG_DEBUG);
	tlog_debug("pg", "debug %d", side_effect());
	assert_int_equal(evaluated, 1);
	out = slurp(logpath);
	assert_non_null(strstr(out, "WARN  pg: warned\n"));
	assert_non_null(strstr(out, "ERROR pg: failed\n"));
	assert_non_null(strstr(out, "DEBUG pg: debug 1\n"));
	assert_null(strstr(out, "not written"));
	free(out);
}

static void
text_lines_stay_one_line_whatever_the_message_holds(void **state)
{
	char	   *out;

	(void) state;
	tlog_info("x", "two\nlines\tand\x01 bell\n");
	out = slurp(logpath);
	assert_non_null(strstr(out, "x: two\\nlines\\tand\\x01 bell\n"));
	assert_int_equal(strchr(out, '\n') - out + 1, (long) strlen(out));
	free(out);
}

/* The value of a string member of a parsed JSON object. */
static const char *
json_string(yajl_val obj, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val	v = yajl_tree_get(obj, path, yajl_t_string);

	if (v == NULL)
		fail_msg("no string member \"%s\"", key);
	return YAJL_GET_STRING(v);
}

static void
json_lines_parse_and_escape_quotes_controls_and_bad_utf8(void **state)
{
	char		err[256];
	char	   *out;
	yajl_val	obj;

	(void) state;
	assert_true(trib_log_open(TRIB_LOG_INFO, TRIB_LOG_JSON, logpath, err, sizeof(err)));
	tlog_warn("source.pg", "say \"hi\" \\ tab\there\x02 caf\xc3\xa9 bad\xff\xfe end");
	out = slurp(logpath);
	assert_int_equal(out[strlen(out) - 1], '\n');
	obj = yajl_tree_parse(out, err, sizeof(err));
	if (obj == NULL)
		fail_msg("not JSON (%s): %s", err, out);
	assert_string_equal(json_string(obj, "level"), "warn");
	assert_string_equal(json_string(obj, "component"), "source.pg");
	assert_string_equal(json_string(obj, "msg"),
						"say \"hi\" \\ tab\there\x02 caf\xc3\xa9 bad\xef\xbf\xbd\xef\xbf\xbd end");
	assert_matches(json_string(obj, "ts"), "^[0-9-]{10}T[0-9:]{8}\\.[0-9]{3}Z$");
	yajl_tree_free(obj);
	free(out);
}

static void
registered_secrets_are_masked_in_every_message(void **state)
{
	char	   *out;

	(void) state;
	trib_log_add_secret("hunter2");
	trib_log_add_secret("hunter2");	/* repeats are ignored */
	trib_log_add_secret("");	/* empty is ignored */
	tlog_error("pg", "auth failed for password %s (%s)", "hunter2", "hunter2hunter2");
	out = slurp(logpath);
	assert_non_null(strstr(out, "pg: auth failed for password *** (******)\n"));
	assert_null(strstr(out, "hunter2"));
	free(out);
}

static void
a_secret_containing_another_is_masked_whole(void **state)
{
	char	   *r;

	(void) state;
	trib_log_add_secret("abc");
	trib_log_add_secret("xxabcxx");
	r = trib_log_redact("1 xxabcxx 2 abc 3 ab");
	assert_string_equal(r, "1 *** 2 *** 3 ab");
	free(r);
	trib_log_clear_secrets();
	r = trib_log_redact("xxabcxx");
	assert_string_equal(r, "xxabcxx");
	free(r);
}

static void
reopen_after_rotation_writes_to_a_new_file(void **state)
{
	char		rotated[600];
	char		err[256];
	char	   *old;
	char	   *cur;

	(void) state;
	snprintf(rotated, sizeof(rotated), "%s.1", logpath);
	tlog_info("main", "before rotation");
	assert_int_equal(rename(logpath, rotated), 0);
	assert_false(trib_log_reopen_pending());
	trib_log_request_reopen();
	assert_true(trib_log_reopen_pending());
	assert_true(trib_log_reopen(err, sizeof(err)));
	assert_false(trib_log_reopen_pending());
	tlog_info("main", "after rotation");
	old = slurp(rotated);
	cur = slurp(logpath);
	assert_non_null(strstr(old, "before rotation"));
	assert_null(strstr(old, "after rotation"));
	assert_non_null(strstr(cur, "after rotation"));
	assert_null(strstr(cur, "before rotation"));
	free(old);
	free(cur);
	unlink(rotated);
}

static void
failed_reopen_keeps_writing_to_the_old_file(void **state)
{
	char		dir[600];
	char		path[700];
	char		err[256];
	char	   *out;

	(void) state;
	snprintf(dir, sizeof(dir), "%s/sub", tmpdir);
	snprintf(path, sizeof(path), "%s/x.log", dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_true(trib_log_open(TRIB_LOG_INFO, TRIB_LOG_TEXT, path, err, sizeof(err)));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	trib_log_request_reopen();
	assert_false(trib_log_reopen(err, sizeof(err)));
	assert_non_null(strstr(err, "cannot reopen log file"));
	assert_false(trib_log_reopen_pending());
	/* the old (deleted) descriptor is still in use: nothing crashes */
	tlog_info("main", "still logging");
	out = slurp(path);
	assert_string_equal(out, "");
	free(out);
}

static void
open_of_an_unwritable_path_fails_and_keeps_the_old_destination(void **state)
{
	char		err[256];
	char	   *out;

	(void) state;
	assert_false(trib_log_open(TRIB_LOG_INFO, TRIB_LOG_TEXT, "/nonexistent/dir/x.log",
							   err, sizeof(err)));
	assert_non_null(strstr(err, "cannot open log file \"/nonexistent/dir/x.log\""));
	tlog_info("main", "kept");
	out = slurp(logpath);
	assert_non_null(strstr(out, "main: kept"));
	free(out);
}

/* What the daemon's SIGHUP handler does. */
static void
on_sighup(int sig)
{
	(void) sig;
	trib_log_request_reopen();
}

static void
sighup_handler_only_sets_the_reopen_flag(void **state)
{
	struct sigaction sa;
	struct sigaction old;

	(void) state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sighup;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGHUP, &sa, &old), 0);
	assert_false(trib_log_reopen_pending());
	raise(SIGHUP);
	assert_true(trib_log_reopen_pending());
	sigaction(SIGHUP, &old, NULL);
	assert_true(trib_log_reopen(NULL, 0));
}

static void
level_names_parse_and_print(void **state)
{
	trib_log_level l;

	(void) state;
	assert_true(trib_log_parse_level("debug", &l));
	assert_int_equal(l, TRIB_LOG_DEBUG);
	assert_true(trib_log_parse_level("WARNING", &l));
	assert_int_equal(l, TRIB_LOG_WARN);
	assert_false(trib_log_parse_level("verbose", &l));
	assert_string_equal(trib_log_level_name(TRIB_LOG_ERROR), "error");
	assert_string_equal(trib_log_level_name(TRIB_LOG_INFO), "info");
}

/* trib_log_redact_conninfo(in) must give `want`. */
static void
expect_redacted(const char *in, const char *want)
{
	char	   *got = trib_log_redact_conninfo(in);

	if (strcmp(got, want) != 0)
		fail_msg("trib_log_redact_conninfo(\"%s\")\n  got      \"%s\"\n  expected \"%s\"",
				 in, got, want);
	free(got);
}

static void
conninfo_passwords_are_masked_in_keyword_value_strings(void **state)
{
	(void) state;
	expect_redacted("host=db password=secret user=u", "host=db password=*** user=u");
	expect_redacted("password = 'se cret\\' x' host=db", "password = *** host=db");
	expect_redacted("password=a\\ b host=db", "password=*** host=db");
	expect_redacted("sslpassword=k dbname=x", "sslpassword=*** dbname=x");
	expect_redacted("host=db dbname=shop", "host=db dbname=shop");
	expect_redacted("  password='unterminated", "  password=***");
	expect_redacted("", "");
	expect_redacted("not a conninfo", "not a conninfo");
}

static void
conninfo_passwords_are_masked_in_uris(void **state)
{
	(void) state;
	expect_redacted("postgresql://u:pw@host:5432/db?sslmode=require",
					"postgresql://u:***@host:5432/db?sslmode=require");
	expect_redacted("postgres://u@host/db?password=pw&sslpassword=x&application_name=a",
					"postgres://u@host/db?password=***&sslpassword=***&application_name=a");
	expect_redacted("postgres://u:p@ss/w@host/db", "postgres://u:***@host/db");
	expect_redacted("postgres://u:pw@h1:5432,h2:5433/db", "postgres://u:***@h1:5432,h2:5433/db");
	expect_redacted("postgres://host/db?pass%77ord=pw", "postgres://host/db?pass%77ord=***");
	expect_redacted("postgres://host/db", "postgres://host/db");
	expect_redacted("postgresql://", "postgresql://");
	expect_redacted("postgres://h/db?", "postgres://h/db?");
}

/* What a log hook was given. */
typedef struct hook_seen
{
	int			calls;
	int			level;
	char		msg[2048];
} hook_seen;

static void
record_hook(int level, const char *msg, void *arg)
{
	hook_seen  *seen = arg;

	seen->calls++;
	seen->level = level;
	snprintf(seen->msg, sizeof(seen->msg), "%s", msg);
}

static void
hookf_formats_one_line_for_the_hook_and_skips_a_null_hook(void **state)
{
	hook_seen	seen = {0};
	char		longer[1500];

	(void) state;
	trib_log_hookf(record_hook, &seen, TRIB_LOG_WARN, "table %s: %d row(s)", "t1", 3);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.level, TRIB_LOG_WARN);
	assert_string_equal(seen.msg, "table t1: 3 row(s)");

	/* a line longer than the buffer is cut at 1,023 bytes */
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	trib_log_hookf(record_hook, &seen, TRIB_LOG_INFO, "%s", longer);
	assert_int_equal(seen.calls, 2);
	assert_int_equal(strlen(seen.msg), 1023);

	/* no hook: nothing happens */
	trib_log_hookf(NULL, &seen, TRIB_LOG_ERROR, "dropped %d", 1);
	assert_int_equal(seen.calls, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(text_line_has_time_pid_level_component_and_message, setup, teardown),
		cmocka_unit_test_setup_teardown(levels_below_the_threshold_are_dropped_without_evaluating_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(text_lines_stay_one_line_whatever_the_message_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(json_lines_parse_and_escape_quotes_controls_and_bad_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(registered_secrets_are_masked_in_every_message, setup, teardown),
		cmocka_unit_test_setup_teardown(a_secret_containing_another_is_masked_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(reopen_after_rotation_writes_to_a_new_file, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_reopen_keeps_writing_to_the_old_file, setup, teardown),
		cmocka_unit_test_setup_teardown(open_of_an_unwritable_path_fails_and_keeps_the_old_destination, setup, teardown),
		cmocka_unit_test_setup_teardown(sighup_handler_only_sets_the_reopen_flag, setup, teardown),
		cmocka_unit_test(level_names_parse_and_print),
		cmocka_unit_test(conninfo_passwords_are_masked_in_keyword_value_strings),
		cmocka_unit_test(conninfo_passwords_are_masked_in_uris),
		cmocka_unit_test(hookf_formats_one_line_for_the_hook_and_skips_a_null_hook),
	};

	return cmocka_run_group_tests_name("log", tests, group_setup, group_teardown);
}
