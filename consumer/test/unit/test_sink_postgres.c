/*
 * test_sink_postgres.c: the parts of the Postgres sink that need no server
 * (the rest is in test/e2e/07_sink_postgres.sh, 29_sink_postgres_cases.sh
 * and 117_sink_postgres_fidelity.sh against a real cluster): JSON values to
 * PostgreSQL input text, and the target's error messages without the row
 * values they carry.
 *
 * Each value case gives a JSON value as the plugin writes it, the target
 * column's kind, and the exact text PostgreSQL must receive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sink_postgres.h"
#include "strbuf.h"

/* Convert and compare; expected NULL means SQL NULL. */
static void
check(const char *json, char kind, char ek, bool hex, const char *expected)
{
	trib_strbuf out = {0};
	bool		is_null = false;
	char		err[256] = "";

	if (!trib_pgsink_value_text(json, strlen(json), kind, ek, hex, &out, &is_null,
								err, sizeof(err)))
	{
		print_message("%s (kind %c): error %s\n", json, kind, err);
		fail();
	}
	if (expected == NULL ? !is_null : (is_null || strcmp(out.data, expected) != 0))
	{
		print_message("%s (kind %c): expected [%s], got [%s]%s\n", json, kind,
					  expected ? expected : "NULL", out.data ? out.data : "",
					  is_null ? " (NULL)" : "");
		fail();
	}
	trib_strbuf_free(&out);
}

/* Conversion must fail with a message containing `what`. */
static void
check_error(const char *json, char kind, char ek, const char *what)
{
	trib_strbuf out = {0};
	bool		is_null;
	char		err[256] = "";

	if (trib_pgsink_value_text(json, strlen(json), kind, ek, false, &out, &is_null,
							   err, sizeof(err)))
	{
		print_message("%s (kind %c): expected an error, got [%s]\n", json, kind,
					  out.data ? out.data : "");
		fail();
	}
	if (!strstr(err, what))
	{
		print_message("%s: expected error containing [%s], got [%s]\n", json, what, err);
		fail();
	}
	trib_strbuf_free(&out);
}

static void
test_scalars_keep_their_text(void **state)
{
	(void) state;
	check("123456789012345678901234567890.123456789", 't', 't', false,
		  "123456789012345678901234567890.123456789");
	check("-1.5e-300", 't', 't', false, "-1.5e-300");
	check("12.50", 't', 't', false, "12.50");
	check("true", 't', 't', false, "true");
	check("false", 't', 't', false, "false");
	check("null", 't', 't', false, NULL);
	check("\"NaN\"", 't', 't', false, "NaN");
	check("  \"padded\"  ", 't', 't', false, "padded");
}

static void
test_strings_are_unescaped(void **state)
{
	(void) state;
	check("\"it's \\\"quoted\\\" \\\\ back\"", 't', 't', false, "it's \"quoted\" \\ back");
	check("\"tab\\tnl\\ncr\\r\\/\"", 't', 't', false, "tab\tnl\ncr\r/");
	check("\"bs\\bff\\f\"", 't', 't', false, "bs\bff\f");
	check("\"\\u00e9\\u2603\"", 't', 't', false, "é☃");
	check("\"\\ud83d\\ude00\"", 't', 't', false, "😀");
	check("\"ünïcødé ☃\"", 't', 't', false, "ünïcødé ☃");
	check("\"'); DROP TABLE t; --\"", 't', 't', false, "'); DROP TABLE t; --");
	check("\"\"", 't', 't', false, "");
	check_error("\"a\\u0000b\"", 't', 't', "\\u0000");
	check_error("\"\\ud83d\"", 't', 't', "escape");
	check_error("\"\\x\"", 't', 't', "escape");
	check_error("\"\\\xc3\xa9\"", 't', 't', "escape");	/* a non-ASCII byte after \\ */
}

static void
test_json_columns_get_json_text(void **state)
{
	(void) state;
	/* objects and arrays byte for byte, white space and key order kept */
	check("{\"b\": 1,  \"a\":[1, 2.50,{\"x\":null}]}", 'j', 't', false,
		  "{\"b\": 1,  \"a\":[1, 2.50,{\"x\":null}]}");
	check("[1,\"two\"]", 'j', 't', false, "[1,\"two\"]");
	/* a JSON string is JSON text with its quotes */
	check("\"a \\\"b\\\"\"", 'j', 't', false, "\"a \\\"b\\\"\"");
	check("42", 'j', 't', false, "42");
	check("null", 'j', 't', false, NULL);
	/* white space around the value is not part of it: yajl's, which
	 * counts \v and \f too (a value after \f, or \v after one, was
	 * refused: fuzz_pgsink_values) */
	check(" \v[1]\v\n", 'j', 't', false, "[1]");
	check("\f1\f", 'j', 't', false, "1");
	check("\v\"x\"\f", 't', 't', false, "x");
}

static void
test_arrays_become_literals(void **state)
{
	(void) state;
	check("[\"a\",\"b\\\"c\",null,\"NULL\",\"\",\"x,y\",\"{}\",\"back\\\\slash\"]", 'a', 't', false,
		  "{\"a\",\"b\\\"c\",NULL,\"NULL\",\"\",\"x,y\",\"{}\",\"back\\\\slash\"}");
	check("[1,2.50,-3]", 'a', 't', false, "{1,2.50,-3}");
	check("[[1,2],[3,4]]", 'a', 't', false, "{{1,2},{3,4}}");
	check("[]", 'a', 't', false, "{}");
	check("[true,false]", 'a', 't', false, "{true,false}");
	check("[{\"k\":\"v\"}]", 'a', 'j', false, "{\"{\\\"k\\\":\\\"v\\\"}\"}");
	check("[\"AAE=\",null]", 'a', 'b', false, "{\"\\\\x0001\",NULL}");
	check("[\"-0043-03-15\"]", 'a', 'd', false, "{\"0044-03-15 BC\"}");
	/* an array into a json column stays JSON */
	check("[\"a\",1]", 'j', 't', false, "[\"a\",1]");
	check_error("[1,", 'a', 't', "malformed");
}

/* Convert the value of column `name` under a JSON null list and compare;
 * expected NULL means SQL NULL. */
static void
check_col(const char *name, const char *json_nulls, const char *json, char kind, char ek,
		  const char *expected)
{
	trib_strbuf out = {0};
	bool		is_null = false;
	char		err[256] = "";

	if (!trib_pgsink_column_text(name, json_nulls, json, strlen(json), kind, ek, &out,
								 &is_null, err, sizeof(err)))
	{
		print_message("%s = %s under %s: error %s\n", name, json, json_nulls, err);
		fail();
	}
	if (expected == NULL ? !is_null : (is_null || strcmp(out.data, expected) != 0))
	{
		print_message("%s = %s under %s: expected [%s], got [%s]%s\n", name, json,
					  json_nulls ? json_nulls : "no list", expected ? expected : "NULL",
					  out.data ? out.data : "", is_null ? " (NULL)" : "");
		fail();
	}
	trib_strbuf_free(&out);
}

static void
test_json_nulls_list_tells_json_null_from_sql_null(void **state)
{
	static const char list[] = "[\"doc\",[\"tags\",0,3],\"q\\\"x\",[\"grid\",1,2]]";

	(void) state;
	/* a listed json/jsonb column: the JSON value null */
	check_col("doc", list, "null", 'j', 't', "null");
	check_col("q\"x", list, "null", 'j', 't', "null");
	/* not listed, or no list: SQL NULL */
	check_col("other", list, "null", 'j', 't', NULL);
	check_col("doc", NULL, "null", 'j', 't', NULL);
	check_col("doc", "[]", "null", 'j', 't', NULL);
	/* an entry for an array names positions, not the column's own null */
	check_col("tags", list, "null", 'j', 't', NULL);
	/* a listed value that is not null is itself (a rule replaced it) */
	check_col("doc", list, "{\"a\":1}", 'j', 't', "{\"a\":1}");
	/* array elements: the listed positions are JSON null, others NULL;
	 * JSON strings and objects keep their JSON text */
	check_col("tags", list, "[null,\"s\",null,null,{\"a\":null},true]", 'a', 'j',
			  "{\"null\",\"\\\"s\\\"\",NULL,\"null\",\"{\\\"a\\\":null}\",true}");
	check_col("other", list, "[null,\"s\"]", 'a', 'j', "{NULL,\"\\\"s\\\"\"}");
	/* positions count the elements of every dimension, row-major */
	check_col("grid", list, "[[null,null],[null,1]]", 'a', 'j',
			  "{{NULL,\"null\"},{\"null\",1}}");
	/* only json elements: a text array's null is NULL whatever the list */
	check_col("tags", list, "[null]", 'a', 't', "{NULL}");
}

static void
test_bytea_from_base64_and_hex(void **state)
{
	(void) state;
	check("\"AAEC/w==\"", 'b', 't', false, "\\x000102ff");
	check("\"AAECAw==\"", 'b', 't', false, "\\x00010203");
	check("\"AAECAwQ=\"", 'b', 't', false, "\\x0001020304");
	check("\"AAECAwQF\"", 'b', 't', false, "\\x000102030405");
	check("\"\"", 'b', 't', false, "\\x");
	check("\"00ff10\"", 'b', 't', true, "\\x00ff10");
	check_error("\"not base64!\"", 'b', 't', "base64");
	check_error("\"AA=A\"", 'b', 't', "base64");
}

static void
test_dates_with_expanded_years(void **state)
{
	(void) state;
	check("\"2024-02-29\"", 'd', 't', false, "2024-02-29");
	check("\"2024-06-01T10:00:00Z\"", 'd', 't', false, "2024-06-01T10:00:00Z");
	check("\"-0043-03-15\"", 'd', 't', false, "0044-03-15 BC");
	check("\"-0043-03-15T12:00:00Z\"", 'd', 't', false, "0044-03-15T12:00:00Z BC");
	check("\"0000-01-01\"", 'd', 't', false, "0001-01-01 BC");
	check("\"+10000-01-01\"", 'd', 't', false, "10000-01-01");
	check("\"infinity\"", 'd', 't', false, "infinity");
	check("\"-infinity\"", 'd', 't', false, "-infinity");
}

static void
test_malformed_values(void **state)
{
	(void) state;
	check_error("", 't', 't', "malformed");
	check_error("\"open", 't', 't', "malformed");
	check_error("1 2", 't', 't', "malformed");
	check_error("{\"a\":1", 'j', 't', "malformed");
	check_error("]", 't', 't', "malformed");
}

/* The sink's MAX_ARRAY_DEPTH (sink_postgres_int.h). */
#define MAX_DEPTH 32

/* n nested arrays around "1" (malloc'd). */
static char *
nested(int n)
{
	char	   *s = malloc((size_t) n * 2 + 2);
	int			i;

	for (i = 0; i < n; i++)
	{
		s[i] = '[';
		s[n + 1 + i] = ']';
	}
	s[n] = '1';
	s[2 * n + 1] = '\0';
	return s;
}

static void
test_escapes_and_surrogates_at_the_edges(void **state)
{
	(void) state;
	/* an escaped backslash before "u0000" is text, not an escape */
	check("\"\\\\u0000\"", 't', 't', false, "\\u0000");
	check("\"\\\\\\n\"", 't', 't', false, "\\\n");
	/* hex digits of either case; a pair between other text */
	check("\"a\\uD83D\\uDE00b\\u00E9\"", 't', 't', false, "a😀bé");
	check("\"\\u0041\\u007a\"", 't', 't', false, "Az");
	/* a high surrogate needs a low one right after it */
	check_error("\"\\ud83d\\u0041\"", 't', 't', "escape");
	check_error("\"\\ud83dx\\ude00\"", 't', 't', "escape");
	check_error("\"\\ud83d\\ud83d\"", 't', 't', "escape");
	check_error("\"\\ude00\"", 't', 't', "escape");
	check_error("\"\\ude00\\ud83d\"", 't', 't', "escape");
	/* the first bad escape decides the error */
	check_error("\"\\u0000\\ud83d\"", 't', 't', "\\u0000");
	check_error("\"\\ud83d\\u0000\"", 't', 't', "escape");
	check_error("\"\\u12\"", 't', 't', "escape");
	/* in array elements, bytea and dates alike */
	check_error("[\"ok\",\"\\ud83d\"]", 'a', 't', "escape");
	check_error("[\"a\\u0000\"]", 'a', 't', "\\u0000");
	check("[\"\\u00e9\",\"\\ud83d\\ude00\"]", 'a', 't', false, "{\"é\",\"😀\"}");
	check("\"\\u0041AE=\"", 'b', 't', false, "\\x0001");
	/* a json column passes its text as written, escapes and all */
	check("\"a\\u0000b\\ud83d\"", 'j', 't', false, "\"a\\u0000b\\ud83d\"");
	check("[\"\\ud83d\"]", 'a', 'j', false, "{\"\\\"\\\\ud83d\\\"\"}");
}

static void
test_nesting_and_white_space(void **state)
{
	char	   *deep = nested(MAX_DEPTH + 2);
	char	   *ok = nested(MAX_DEPTH + 1);
	char	   *json = nested(2000);
	trib_strbuf want = {0};
	int			i;

	(void) state;
	/* array literals: MAX_DEPTH levels below the top are allowed, no more */
	for (i = 0; i < MAX_DEPTH + 1; i++)
		trib_strbuf_addc(&want, '{');
	trib_strbuf_addc(&want, '1');
	for (i = 0; i < MAX_DEPTH + 1; i++)
		trib_strbuf_addc(&want, '}');
	trib_strbuf_add(&want, "", 0);
	check(ok, 'a', 't', false, want.data);
	check_error(deep, 'a', 't', "deeply nested");
	/* a json value of any depth is its text */
	check(json, 'j', 't', false, json);
	/* white space between elements is not kept in literals */
	check(" [ 1 ,\t2 ,\n[ \"a\" , null ] ]\r\n", 'a', 't', false, "{1,2,{\"a\",NULL}}");
	check(" { \"a\" : [ 1 , 2 ] } ", 'j', 't', false, "{ \"a\" : [ 1 , 2 ] }");
	/* numbers exactly as written */
	check("[-0,1E+10,1.000,2e-7]", 'a', 't', false, "{-0,1E+10,1.000,2e-7}");
	check("-0.0e00", 't', 't', false, "-0.0e00");
	/* not JSON: the same error as before */
	check_error("[1 2]", 'a', 't', "malformed");
	check_error("[1,]", 'a', 't', "malformed");
	check_error("\"a\" \"b\"", 't', 't', "malformed");
	check_error("   ", 't', 't', "malformed");
	/* a token begun after the value (found by fuzzing) */
	check_error("10010\"", 'j', 't', "malformed");
	check_error("{} \"open", 'j', 't', "malformed");
	check_error("[1] tr", 'a', 't', "malformed");
	/* yajl checks what the old scanner skipped inside a json value (it
	 * passed these on for the target to refuse) */
	check_error("{\"a\" 1}", 'j', 't', "malformed");
	check_error("[1 2]", 'j', 't', "malformed");
	check_error("{\"a\":tru}", 'j', 't', "malformed");
	free(deep);
	free(ok);
	free(json);
	trib_strbuf_free(&want);
}

/* The redacted text of an error must hold each of `keep` and none of
 * `hide` (NULL-terminated lists). */
static void
check_redacted(const trib_pgsink_errfields *f, const char *const *keep,
			   const char *const *hide)
{
	trib_strbuf out = {0};

	trib_pgsink_error_text(f, &out);
	for (; keep && *keep; keep++)
		if (!strstr(out.data, *keep))
		{
			print_message("expected [%s] in [%s]\n", *keep, out.data);
			fail();
		}
	for (; hide && *hide; hide++)
		if (strstr(out.data, *hide))
		{
			print_message("[%s] leaked into [%s]\n", *hide, out.data);
			fail();
		}
	trib_strbuf_free(&out);
}

static void
test_errors_keep_objects_and_lose_row_values(void **state)
{
	(void) state;
	{
		trib_pgsink_errfields f = {"ERROR", "23514",
			"new row for relation \"acct\" violates check constraint \"acct_bal_check\"",
		"Failing row contains (1, TOPSECRET, 5).", NULL, NULL};
		const char *keep[] = {"ERROR:  new row for relation \"acct\" violates check "
			"constraint \"acct_bal_check\"", "Failing row contains (***).",
		"log_row_values", NULL};
		const char *hide[] = {"TOPSECRET", "1, ", NULL};

		check_redacted(&f, keep, hide);
	}
	{
		trib_pgsink_errfields f = {"ERROR", "23505",
			"duplicate key value violates unique constraint \"u_email\"",
		"Key (lower(email::text))=(alice@example.com) already exists.", NULL, NULL};
		const char *keep[] = {"unique constraint \"u_email\"",
		"DETAIL:  Key (lower(email::text))=(***)", NULL};
		const char *hide[] = {"alice", NULL};

		check_redacted(&f, keep, hide);
	}
	{
		trib_pgsink_errfields f = {"ERROR", "23503",
			"insert or update on table \"o\" violates foreign key constraint \"o_c\"",
		"Key (cust)=(SECRET) is not present in table \"customers\".", NULL, NULL};
		const char *keep[] = {"foreign key constraint \"o_c\"", "Key (cust)=(***)", NULL};
		const char *hide[] = {"SECRET", NULL};

		check_redacted(&f, keep, hide);
	}
	{
		trib_pgsink_errfields f = {"ERROR", "23P01",
			"conflicting key value violates exclusion constraint \"no_overlap\"",
		"Key (r)=([SECRET,1)) conflicts with existing key (r)=([OTHER,2)).", NULL, NULL};
		const char *hide[] = {"SECRET", "OTHER", NULL};

		check_redacted(&f, NULL, hide);
	}
	{
		trib_pgsink_errfields f = {"ERROR", "23514",
			"no partition of relation \"p\" found for row",
		"Partition key of the failing row contains (a) = (SECRET).", NULL, NULL};
		const char *keep[] = {"no partition of relation \"p\"", "DETAIL:  (withheld)", NULL};
		const char *hide[] = {"SECRET", NULL};

		check_redacted(&f, keep, hide);
	}
}

static void
test_errors_lose_rejected_input_values(void **state)
{
	(void) state;
	{
		trib_pgsink_errfields f = {"ERROR", "22P02",
		"invalid input syntax for type integer: \"SECRET\"", NULL, NULL, NULL};
		const char *keep[] = {"invalid input syntax for type integer: \"***\"", NULL};
		const char *hide[] = {"SECRET", NULL};

		check_redacted(&f, keep, hide);
	}
	{
		/* PostgreSQL does not escape quotes inside the value */
		trib_pgsink_errfields f = {"ERROR", "22003",
		"value \"9\" SECRET \"9\" is out of range for type integer", NULL, NULL, NULL};
		const char *keep[] = {"value \"***\" is out of range for type integer", NULL};
		const char *hide[] = {"SECRET", NULL};

		check_redacted(&f, keep, hide);
	}
	{
		trib_pgsink_errfields f = {"ERROR", "22P02", "invalid input syntax for type json",
			"Token \"SECRET\" is invalid.", NULL,
		"JSON data, line 1: SECRET..."};
		const char *keep[] = {"invalid input syntax for type json", "Token \"***\" is invalid.",
		NULL};
		const char *hide[] = {"SECRET", NULL};

		check_redacted(&f, keep, hide);
	}
	{
		trib_pgsink_errfields f = {"ERROR", "22P02",
			"malformed record literal: \"(1,\"SECRET\")\"", "Too many columns.", NULL,
		NULL};
		const char *keep[] = {"malformed record literal: \"***\"", "Too many columns.", NULL};
		const char *hide[] = {"SECRET", NULL};

		check_redacted(&f, keep, hide);
	}
}

static void
test_errors_raised_by_target_code_are_withheld(void **state)
{
	(void) state;
	{
		trib_pgsink_errfields f = {"ERROR", "P0001", "bad balance SECRET",
			"row SECRET", "hint SECRET",
		"PL/pgSQL function chk() line 3 at RAISE"};
		const char *keep[] = {"withheld", NULL};
		const char *hide[] = {"SECRET", NULL};

		check_redacted(&f, keep, hide);
	}
	{
		/* a trigger may raise any SQLSTATE */
		trib_pgsink_errfields f = {"ERROR", "23514", "balance SECRET too high", NULL, NULL,
		"PL/pgSQL function chk() line 3 at RAISE"};
		const char *hide[] = {"SECRET", NULL};

		check_redacted(&f, NULL, hide);
	}
}

static void
test_errors_without_values_are_kept_whole(void **state)
{
	trib_pgsink_errfields f = {"ERROR", "22003", "numeric field overflow",
		"A field with precision 3, scale 0 must round to an absolute value less than 10^3.",
	NULL, NULL};
	trib_strbuf out = {0};

	(void) state;
	trib_pgsink_error_text(&f, &out);
	assert_string_equal(out.data, "ERROR:  numeric field overflow DETAIL:  A field with "
						"precision 3, scale 0 must round to an absolute value less than 10^3.");
	trib_strbuf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars_keep_their_text),
		cmocka_unit_test(test_strings_are_unescaped),
		cmocka_unit_test(test_json_columns_get_json_text),
		cmocka_unit_test(test_arrays_become_literals),
		cmocka_unit_test(test_json_nulls_list_tells_json_null_from_sql_null),
		cmocka_unit_test(test_bytea_from_base64_and_hex),
		cmocka_unit_test(test_dates_with_expanded_years),
		cmocka_unit_test(test_malformed_values),
		cmocka_unit_test(test_escapes_and_surrogates_at_the_edges),
		cmocka_unit_test(test_nesting_and_white_space),
		cmocka_unit_test(test_errors_keep_objects_and_lose_row_values),
		cmocka_unit_test(test_errors_lose_rejected_input_values),
		cmocka_unit_test(test_errors_raised_by_target_code_are_withheld),
		cmocka_unit_test(test_errors_without_values_are_kept_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
