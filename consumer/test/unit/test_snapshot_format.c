/*
 * test_snapshot_format.c: PostgreSQL text output to the plugin's JSON
 * (snapshot_format.c), the snapshot's table patterns (snapshot_tables.c)
 * and the progress record (snapshot_progress.c).  The e2e script 12
 * compares against the real plugin; these pin the rules and the error
 * paths without a server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot_format.h"
#include "snapshot_progress.h"
#include "snapshot_tables.h"

static const trib_snapfmt_opts utf8 = {TRIB_SNAPFMT_ENC_UTF8, false};

/* Format text as type t; fail the test unless the result is want. */
static void
expect_fmt(const trib_snapfmt_type *t, const trib_snapfmt_opts *o, const char *text,
		   const char *want)
{
	trib_strbuf b = {0};
	char		err[256] = "";

	if (!trib_snapfmt_value(&b, text, strlen(text), t, o, err, sizeof(err)))
		fail_msg("format(%s) failed: %s; expected %s", text, err, want);
	if (strcmp(b.data, want) != 0)
		fail_msg("format(%s) = %s, expected %s", text, b.data, want);
	trib_strbuf_free(&b);
}

/* Formatting text as type t must fail. */
static void
expect_bad(const trib_snapfmt_type *t, const char *text)
{
	trib_strbuf b = {0};
	char		err[256] = "";

	if (trib_snapfmt_value(&b, text, strlen(text), t, &utf8, err, sizeof(err)))
		fail_msg("format(%s) accepted malformed text: %s", text, b.data ? b.data : "");
	assert_true(err[0] != '\0');
	trib_strbuf_free(&b);
}

static trib_snapfmt_type *
leaf(uint32_t oid)
{
	return trib_snapfmt_type_new(trib_snapfmt_kind_of_oid(oid), oid);
}

static void
numbers_and_booleans_are_written_as_the_plugin_writes_them(void **state)
{
	trib_snapfmt_type *i8 = leaf(20),
			   *f8 = leaf(701),
			   *num = leaf(1700),
			   *b = leaf(16);

	(void) state;
	expect_fmt(i8, &utf8, "-9223372036854775808", "-9223372036854775808");
	expect_fmt(f8, &utf8, "1.0000000000000002", "1.0000000000000002");
	expect_fmt(f8, &utf8, "1e+300", "1e+300");
	expect_fmt(f8, &utf8, "-0", "-0");
	expect_fmt(f8, &utf8, "NaN", "\"NaN\"");
	expect_fmt(f8, &utf8, "-Infinity", "\"-Infinity\"");
	expect_fmt(num, &utf8, "123456789012345678901234567890.000", "123456789012345678901234567890.000");
	expect_fmt(num, &utf8, "Infinity", "\"Infinity\"");
	expect_fmt(b, &utf8, "t", "true");
	expect_fmt(b, &utf8, "f", "false");
	expect_bad(i8, "NaN");
	expect_bad(i8, "");
	expect_bad(num, "1;drop");
	expect_bad(b, "true");
	trib_snapfmt_type_free(i8);
	trib_snapfmt_type_free(f8);
	trib_snapfmt_type_free(num);
	trib_snapfmt_type_free(b);
}

static void
dates_and_timestamps_become_iso8601_with_astronomical_years(void **state)
{
	trib_snapfmt_type *d = leaf(1082),
			   *ts = leaf(1114),
			   *tz = leaf(1184),
			   *ttz = leaf(1266);

	(void) state;
	expect_fmt(d, &utf8, "2024-02-29", "\"2024-02-29\"");
	expect_fmt(d, &utf8, "0044-03-15 BC", "\"-0043-03-15\"");
	expect_fmt(d, &utf8, "0001-01-01 BC", "\"0000-01-01\"");
	expect_fmt(d, &utf8, "10000-01-01", "\"+10000-01-01\"");
	expect_fmt(d, &utf8, "-infinity", "\"-infinity\"");
	expect_fmt(ts, &utf8, "1999-12-31 23:59:59.5", "\"1999-12-31T23:59:59.5\"");
	expect_fmt(ts, &utf8, "0044-03-15 12:00:00 BC", "\"-0043-03-15T12:00:00\"");
	/* timestamptz: any session offset, converted to UTC */
	expect_fmt(tz, &utf8, "2024-06-01 12:00:00+02", "\"2024-06-01T10:00:00Z\"");
	expect_fmt(tz, &utf8, "2024-01-01 00:10:00.000001+05:30", "\"2023-12-31T18:40:00.000001Z\"");
	expect_fmt(tz, &utf8, "2023-12-31 20:30:00-03:30", "\"2024-01-01T00:00:00Z\"");
	expect_fmt(tz, &utf8, "1900-01-01 00:00:00+00:53:28", "\"1899-12-31T23:06:32Z\"");
	expect_fmt(tz, &utf8, "0001-01-01 01:00:00+02 BC", "\"-0001-12-31T23:00:00Z\"");
	expect_fmt(tz, &utf8, "10000-01-01 00:00:00+00", "\"+10000-01-01T00:00:00Z\"");
	expect_fmt(tz, &utf8, "infinity", "\"infinity\"");
	expect_fmt(ttz, &utf8, "12:00:00+02", "\"12:00:00+02:00\"");
	expect_fmt(ttz, &utf8, "00:00:00.25-03:30:15", "\"00:00:00.25-03:30:15\"");
	expect_bad(d, "29.02.2024");
	expect_bad(ts, "2024-01-01T00:00:00");
	expect_bad(tz, "2024-01-01 00:00:00");
	expect_bad(ttz, "12:00:00");
	trib_snapfmt_type_free(d);
	trib_snapfmt_type_free(ts);
	trib_snapfmt_type_free(tz);
	trib_snapfmt_type_free(ttz);
}

static void
bytea_becomes_base64_or_hex(void **state)
{
	trib_snapfmt_type *by = leaf(17);
	trib_snapfmt_opts hex = {TRIB_SNAPFMT_ENC_UTF8, true};

	(void) state;
	expect_fmt(by, &utf8, "\\x0001feff", "\"AAH+/w==\"");
	expect_fmt(by, &utf8, "\\x", "\"\"");
	expect_fmt(by, &hex, "\\x0001feff", "\"0001feff\"");
	expect_bad(by, "\\x0g");
	expect_bad(by, "\\001");
	trib_snapfmt_type_free(by);
}

static void
strings_follow_the_database_encoding_rules(void **state)
{
	trib_snapfmt_type *t = leaf(25),
			   *j = leaf(3802);
	trib_snapfmt_opts other = {TRIB_SNAPFMT_ENC_OTHER, false};
	trib_snapfmt_opts ascii = {TRIB_SNAPFMT_ENC_SQL_ASCII, false};

	(void) state;
	expect_fmt(t, &utf8, "tab\t\"q\" \\ \x01 \xc3\xa9", "\"tab\\t\\\"q\\\" \\\\ \\u0001 \xc3\xa9\"");
	expect_fmt(t, &utf8, "\n\r\b\f\x1f\x7f", "\"\\n\\r\\b\\f\\u001f\x7f\"");
	expect_fmt(t, &other, "\xc3\xa9\xf0\x9f\x98\x80", "\"\\u00e9\\ud83d\\ude00\"");
	expect_fmt(t, &ascii, "\xc3\xa9 \xff", "\"\xc3\xa9 \\u00ff\"");
	expect_fmt(j, &utf8, "{\"a\": \"\xc3\xa9\"}", "{\"a\": \"\xc3\xa9\"}");
	expect_fmt(j, &other, "{\"a\": \"\xc3\xa9\"}", "{\"a\": \"\\u00e9\"}");
	trib_snapfmt_type_free(t);
	trib_snapfmt_type_free(j);
}

static void
arrays_parse_quotes_nulls_dimensions_and_bounds(void **state)
{
	trib_snapfmt_type *a = leaf(1007);
	trib_snapfmt_type *ta = leaf(1009);
	trib_snapfmt_type *box = leaf(1020);

	(void) state;
	a->kind = TRIB_SNAPFMT_KIND_ARRAY;
	a->elem = leaf(23);
	ta->kind = TRIB_SNAPFMT_KIND_ARRAY;
	ta->elem = leaf(25);
	box->kind = TRIB_SNAPFMT_KIND_ARRAY;
	box->elem = leaf(603);
	box->delim = ';';
	expect_fmt(a, &utf8, "{1,NULL,3}", "[1,null,3]");
	expect_fmt(a, &utf8, "{}", "[]");
	expect_fmt(a, &utf8, "{{1,2},{3,4}}", "[[1,2],[3,4]]");
	expect_fmt(a, &utf8, "[0:2]={7,8,9}", "[7,8,9]");
	expect_fmt(ta, &utf8, "{\"a,b\",\"c\\\"d\",NULL,\"NULL\",\"\"}", "[\"a,b\",\"c\\\"d\",null,\"NULL\",\"\"]");
	expect_fmt(box, &utf8, "{(3,4),(1,2);(1,1),(0,0)}", "[\"(3,4),(1,2)\",\"(1,1),(0,0)\"]");
	expect_bad(a, "{1,2");
	expect_bad(a, "{1,,2}");
	expect_bad(a, "1,2");
	expect_bad(a, "{1}x");
	expect_bad(ta, "{\"abc}");
	trib_snapfmt_type_free(a);
	trib_snapfmt_type_free(ta);
	trib_snapfmt_type_free(box);
}

/* Format a column value with its JSON null check; want_list is the
 * element list (",i...") or "", want_null the column's own flag. */
static void
expect_col(const trib_snapfmt_type *t, const char *text, const char *want,
		   bool want_null, const char *want_list)
{
	trib_strbuf b = {0};
	trib_strbuf jn = {0};
	bool		json_null = true;
	char		err[256] = "";

	if (!trib_snapfmt_column(&b, text, strlen(text), t, &utf8, &jn, &json_null,
							 err, sizeof(err)))
		fail_msg("column(%s) failed: %s", text, err);
	if (strcmp(b.data, want) != 0)
		fail_msg("column(%s) = %s, expected %s", text, b.data, want);
	if (json_null != want_null)
		fail_msg("column(%s): JSON null %d, expected %d", text, json_null, want_null);
	if (strcmp(jn.len ? jn.data : "", want_list) != 0)
		fail_msg("column(%s): elements [%s], expected [%s]", text, jn.len ? jn.data : "",
				 want_list);
	trib_strbuf_free(&b);
	trib_strbuf_free(&jn);
}

static void
json_null_is_told_from_sql_null_as_the_plugin_does(void **state)
{
	trib_snapfmt_type *j = leaf(114),
			   *jb = leaf(3802),
			   *t = leaf(25),
			   *ja = leaf(3807),
			   *ia = leaf(1007);

	(void) state;
	ja->kind = TRIB_SNAPFMT_KIND_ARRAY;
	ja->elem = leaf(3802);
	ia->kind = TRIB_SNAPFMT_KIND_ARRAY;
	ia->elem = leaf(23);
	expect_col(jb, "null", "null", true, "");
	expect_col(j, " null\n", " null\n", true, "");
	expect_col(j, "[null]", "[null]", false, "");
	expect_col(jb, "{\"k\": null}", "{\"k\": null}", false, "");
	expect_col(jb, "\"null\"", "\"null\"", false, "");
	expect_col(t, "null", "\"null\"", false, "");
	/* array_out quotes the element null; a bare NULL is SQL NULL */
	expect_col(ja, "{\"null\",NULL,\"{\\\"a\\\": null}\",\"null\"}",
			   "[null,null,{\"a\": null},null]", false, ",0,3");
	expect_col(ja, "{{NULL,\"null\"},{1,\"null\"}}", "[[null,null],[1,null]]", false, ",1,3");
	expect_col(ja, "{}", "[]", false, "");
	expect_col(ia, "{1,NULL}", "[1,null]", false, "");
	assert_true(trib_snapfmt_json_is_null("null", 4));
	assert_false(trib_snapfmt_json_is_null("nul", 3));
	assert_false(trib_snapfmt_json_is_null("nulll", 5));
	assert_false(trib_snapfmt_json_is_null("    ", 4));
	trib_snapfmt_type_free(j);
	trib_snapfmt_type_free(jb);
	trib_snapfmt_type_free(t);
	trib_snapfmt_type_free(ja);
	trib_snapfmt_type_free(ia);
}

static void
composite_values_become_objects_by_attribute_name(void **state)
{
	trib_snapfmt_type *c = trib_snapfmt_type_new(TRIB_SNAPFMT_KIND_COMPOSITE, 99999);
	trib_snapfmt_type *tags = leaf(1009);

	(void) state;
	tags->kind = TRIB_SNAPFMT_KIND_ARRAY;
	tags->elem = leaf(25);
	c->nattrs = 3;
	c->attr_names = calloc(3, sizeof(char *));
	c->attrs = calloc(3, sizeof(trib_snapfmt_type *));
	c->attr_names[0] = strdup("street");
	c->attr_names[1] = strdup("zip");
	c->attr_names[2] = strdup("tags");
	c->attrs[0] = leaf(25);
	c->attrs[1] = leaf(23);
	c->attrs[2] = tags;
	expect_fmt(c, &utf8, "(\"Main St 1\",12345,\"{a,b}\")",
			   "{\"street\":\"Main St 1\",\"zip\":12345,\"tags\":[\"a\",\"b\"]}");
	expect_fmt(c, &utf8, "(\"in \"\"q\"\" \\\\ (x)\",,)",
			   "{\"street\":\"in \\\"q\\\" \\\\ (x)\",\"zip\":null,\"tags\":null}");
	expect_fmt(c, &utf8, "(\"\",1,{})", "{\"street\":\"\",\"zip\":1,\"tags\":[]}");
	expect_bad(c, "(a,1)");
	expect_bad(c, "(a,1,{},x)");
	expect_bad(c, "(a,x,{})");
	expect_bad(c, "a,1,{}");
	trib_snapfmt_type_free(c);
}

static void
table_patterns_match_like_the_plugin(void **state)
{
	bool		bad = false;

	(void) state;
	assert_true(trib_snaptab_pattern_match("public.*", "public", "orders", &bad));
	assert_true(trib_snaptab_pattern_match("p?blic.ord*s", "public", "orders", &bad));
	assert_false(trib_snaptab_pattern_match("public.*", "sales", "orders", &bad));
	assert_true(trib_snaptab_pattern_match("\"My.Schema\".\"T*\"", "My.Schema", "T*", &bad));
	assert_false(trib_snaptab_pattern_match("\"My.Schema\".\"T*\"", "My.Schema", "Tx", &bad));
	assert_true(trib_snaptab_pattern_match("\"a\"\"b\".t", "a\"b", "t", &bad));
	assert_false(bad);
	assert_false(trib_snaptab_pattern_match("nodot", "nodot", "", &bad));
	assert_true(bad);
	bad = false;
	assert_false(trib_snaptab_pattern_match("\"open.t", "open", "t", &bad));
	assert_true(bad);
	bad = false;
	assert_false(trib_snaptab_pattern_match("s.", "s", "", &bad));
	assert_true(bad);
}

static void
progress_round_trips_through_json(void **state)
{
	trib_snapprog p,
				q;
	trib_snapprog_table *t;
	char	   *keys[] = {"k\"1", "42"};
	char	   *json,
			   *json2;
	char		err[256];

	(void) state;
	memset(&p, 0, sizeof(p));
	snprintf(p.state, sizeof(p.state), "running");
	snprintf(p.mode, sizeof(p.mode), "initial");
	p.lsn = (UINT64_C(0x1A) << 32) | 0x2B3C4;
	t = trib_snapprog_add(&p, "public", "orders");
	t->rows = 120000;
	trib_snapprog_set_after(t, keys, 2);
	t = trib_snapprog_add(&p, "sales", "done one");
	t->done = true;
	t->rows = 7;
	json = trib_snapprog_to_json(&p);
	assert_int_equal(trib_snapprog_from_json(json, &q, err, sizeof(err)), 1);
	assert_string_equal(q.state, "running");
	assert_string_equal(q.mode, "initial");
	assert_true(q.lsn == p.lsn);
	assert_int_equal(q.ntables, 2);
	t = trib_snapprog_find(&q, "public", "orders");
	assert_non_null(t);
	assert_false(t->done);
	assert_true(t->rows == 120000);
	assert_int_equal(t->nafter, 2);
	assert_string_equal(t->after[0], "k\"1");
	assert_string_equal(t->after[1], "42");
	t = trib_snapprog_find(&q, "sales", "done one");
	assert_non_null(t);
	assert_true(t->done);
	assert_null(t->after);
	assert_null(trib_snapprog_find(&q, "public", "other"));
	json2 = trib_snapprog_to_json(&q);
	assert_string_equal(json, json2);
	free(json);
	free(json2);
	trib_snapprog_clear(&p);
	trib_snapprog_clear(&q);
}

static void
progress_parse_tells_absent_from_malformed(void **state)
{
	trib_snapprog q;
	char		err[256];
	static const char *const bad[] = {
		"{\"snapshot\":",
		"{\"snapshot\":{\"state\":\"running\",\"mode\":\"only\",\"lsn\":\"x\",\"tables\":[]}}",
		"{\"snapshot\":{\"state\":\"running\",\"mode\":\"only\",\"lsn\":\"0/1\"}}",
		"{\"snapshot\":{\"state\":\"running\",\"mode\":\"only\",\"lsn\":\"0/1\",\"tables\":[{\"schema\":\"s\"}]}}",
		"{\"snapshot\":{\"state\":\"running\",\"mode\":\"only\",\"lsn\":\"0/1\",\"tables\":"
		"[{\"schema\":\"s\",\"table\":\"t\",\"done\":false,\"rows\":-1}]}}",
		"{\"snapshot\":{\"state\":\"running\",\"mode\":\"only\",\"lsn\":\"0/1\",\"tables\":"
		"[{\"schema\":\"s\",\"table\":\"t\",\"done\":false,\"rows\":1,\"after\":[1]}]}}",
		"{\"snapshot\":{\"state\":\"a very long state word\",\"mode\":\"only\",\"lsn\":\"0/1\",\"tables\":[]}}",
	};

	(void) state;
	assert_int_equal(trib_snapprog_from_json(NULL, &q, err, sizeof(err)), 0);
	assert_int_equal(trib_snapprog_from_json("{\"offset\":3}", &q, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		err[0] = '\0';
		if (trib_snapprog_from_json(bad[i], &q, err, sizeof(err)) != -1)
			fail_msg("accepted malformed progress %s", bad[i]);
		assert_true(err[0] != '\0');
		assert_int_equal(q.ntables, 0);
	}
}

static void
eta_follows_rate_and_estimate(void **state)
{
	trib_snapprog_table t;
	double		rate,
				eta;

	(void) state;
	memset(&t, 0, sizeof(t));
	t.estimate = 1000;
	t.started_ms = 10000;
	t.written = 100;
	trib_snapprog_eta(&t, 11000, &rate, &eta);
	assert_true(rate > 99.9 && rate < 100.1);
	assert_true(eta > 8.9 && eta < 9.1);
	t.estimate = -1;
	trib_snapprog_eta(&t, 11000, &rate, &eta);
	assert_true(eta < 0);
	t.finished_ms = 12000;
	trib_snapprog_eta(&t, 13000, &rate, &eta);
	assert_true(eta == 0);
	assert_true(rate > 49.9 && rate < 50.1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(numbers_and_booleans_are_written_as_the_plugin_writes_them),
		cmocka_unit_test(dates_and_timestamps_become_iso8601_with_astronomical_years),
		cmocka_unit_test(bytea_becomes_base64_or_hex),
		cmocka_unit_test(strings_follow_the_database_encoding_rules),
		cmocka_unit_test(arrays_parse_quotes_nulls_dimensions_and_bounds),
		cmocka_unit_test(json_null_is_told_from_sql_null_as_the_plugin_does),
		cmocka_unit_test(composite_values_become_objects_by_attribute_name),
		cmocka_unit_test(table_patterns_match_like_the_plugin),
		cmocka_unit_test(progress_round_trips_through_json),
		cmocka_unit_test(progress_parse_tells_absent_from_malformed),
		cmocka_unit_test(eta_follows_rate_and_estimate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
