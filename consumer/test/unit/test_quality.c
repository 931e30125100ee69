/*
 * test_quality.c: data-quality checks (quality.c).
 *
 * Each check is compiled from a spec and run on values as row images hold
 * them; both verdicts are exercised, reasons are checked to name the rule
 * and never the value, and bad specs must be refused with a message that
 * names the problem.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"
#include "lua_expr.h"
#include "quality.h"

static trib_jvalue
str(const char *s)
{
	return (trib_jvalue)
	{
		TRIB_J_STRING, s, strlen(s), NULL
	};
}

static trib_jvalue
num(const char *s)
{
	return (trib_jvalue)
	{
		TRIB_J_NUMBER, s, strlen(s), NULL
	};
}

static const trib_jvalue null_v = {TRIB_J_NULL, "null", 4, NULL};
static const trib_jvalue true_v = {TRIB_J_BOOL, "true", 4, NULL};
static const trib_jvalue obj_v = {TRIB_J_OBJECT, "{\"a\":1}", 7, NULL};

static trib_quality *
mk(const trib_quality_spec *s)
{
	char		err[256];
	trib_quality *c = trib_quality_new(s, err, sizeof(err));

	if (c == NULL)
		fail_msg("trib_quality_new: %s", err);
	return c;
}

static char reason[256];

/* Run c on v: true for pass; the reason lands in `reason`. */
static bool
check(trib_quality *c, trib_jvalue v)
{
	char		err[256];
	bool		pass;

	if (!trib_quality_run(c, "col", &v, &pass, reason, sizeof(reason), err, sizeof(err)))
		fail_msg("run on %.*s: %s", (int) v.len, v.text, err);
	if (pass && reason[0])
		fail_msg("a pass with a reason: %s", reason);
	if (!pass && v.kind == TRIB_J_STRING && v.len > 2 && strstr(reason, v.text))
		fail_msg("the reason shows the value: %s", reason);
	return pass;
}

static void
test_not_null(void **state)
{
	trib_quality_spec s = {.kind = TRIB_QC_NOT_NULL, .name = "email_required"};
	trib_quality *c = mk(&s);

	(void) state;
	assert_true(check(c, str("")));
	assert_true(check(c, num("0")));
	assert_false(check(c, null_v));
	assert_string_equal(reason, "email_required: is null");
	trib_quality_free(c);
}

static void
test_type(void **state)
{
	static const struct
	{
		trib_jtype t;
		const char *name;
		trib_jvalue	yes,
					no;
	}			cases[] = {
		{TRIB_JT_STRING, "string", {TRIB_J_STRING, "x", 1, NULL}, {TRIB_J_NUMBER, "1", 1, NULL}},
		{TRIB_JT_NUMBER, "number", {TRIB_J_NUMBER, "1.5", 3, NULL}, {TRIB_J_STRING, "1.5", 3, NULL}},
		{TRIB_JT_INTEGER, "integer", {TRIB_J_NUMBER, "1e3", 3, NULL}, {TRIB_J_NUMBER, "12.5", 4, NULL}},
		{TRIB_JT_BOOLEAN, "boolean", {TRIB_J_BOOL, "false", 5, NULL}, {TRIB_J_STRING, "false", 5, NULL}},
		{TRIB_JT_OBJECT, "object", {TRIB_J_OBJECT, "{}", 2, NULL}, {TRIB_J_ARRAY, "[]", 2, NULL}},
		{TRIB_JT_ARRAY, "array", {TRIB_J_ARRAY, "[1]", 3, NULL}, {TRIB_J_OBJECT, "{}", 2, NULL}},
		{TRIB_JT_DATE, "date", {TRIB_J_STRING, "2024-02-29", 10, NULL}, {TRIB_J_STRING, "2023-02-29", 10, NULL}},
		{TRIB_JT_TIMESTAMP, "timestamp", {TRIB_J_STRING, "2024-06-01T10:00:00Z", 20, NULL},
		{TRIB_J_STRING, "2024-06-01", 10, NULL}},
		{TRIB_JT_UUID, "uuid", {TRIB_J_STRING, "123e4567-e89b-12d3-a456-426614174000", 36, NULL},
		{TRIB_J_STRING, "123e4567-e89b-12d3-a456-42661417400g", 36, NULL}},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		trib_quality_spec s = {.kind = TRIB_QC_TYPE, .name = "t"};
		trib_jtype parsed;
		trib_quality *c;
		char		want[64];

		assert_true(trib_jvalue_type_parse(cases[i].name, &parsed));
		assert_int_equal(parsed, cases[i].t);
		s.type = cases[i].t;
		c = mk(&s);
		assert_true(check(c, cases[i].yes));
		assert_false(check(c, cases[i].no));
		snprintf(want, sizeof(want), "t: expected %s, got a ", cases[i].name);
		assert_memory_equal(reason, want, strlen(want));
		/* null passes every check but not_null */
		assert_true(check(c, null_v));
		trib_quality_free(c);
	}
	{
		trib_quality_spec s = {.kind = TRIB_QC_TYPE, .type = TRIB_JT_INTEGER};
		trib_quality *c = mk(&s);

		assert_true(check(c, num("12.0")));
		assert_true(check(c, num("-7")));
		assert_false(check(c, num("0.5")));
		trib_quality_free(c);
	}
}

static void
test_range(void **state)
{
	trib_quality_spec s = {.kind = TRIB_QC_RANGE, .name = "amount_range", .min = "0",
	.max = "1000.00", .max_exclusive = true};
	trib_quality *c = mk(&s);
	char		err[256];

	(void) state;
	assert_true(check(c, num("0")));
	assert_true(check(c, num("999.999999999999999999")));
	assert_false(check(c, num("1000")));
	assert_string_equal(reason, "amount_range: above the maximum 1000.00 (exclusive)");
	assert_false(check(c, num("-0.000000000000000000001")));
	assert_string_equal(reason, "amount_range: below the minimum 0");
	assert_true(check(c, str("12.5")));	/* numeric strings count */
	assert_false(check(c, str("NaN")));
	assert_string_equal(reason, "amount_range: not a number");
	assert_false(check(c, true_v));
	assert_true(check(c, null_v));
	trib_quality_free(c);

	/* exactness beyond doubles */
	s = (trib_quality_spec)
	{
		.kind = TRIB_QC_RANGE, .max = "9007199254740993"
	};
	c = mk(&s);
	assert_true(check(c, num("9007199254740993")));
	assert_false(check(c, num("9007199254740994")));
	trib_quality_free(c);

	s = (trib_quality_spec)
	{
		.kind = TRIB_QC_RANGE, .min = "5", .max = "1"
	};
	assert_null(trib_quality_new(&s, err, sizeof(err)));
	assert_string_equal(err, "range: min 5 is above max 1");
	s.min = "five";
	assert_null(trib_quality_new(&s, err, sizeof(err)));
	assert_string_equal(err, "range: min must be a number, not \"five\"");
	s.min = s.max = NULL;
	assert_null(trib_quality_new(&s, err, sizeof(err)));
}

static void
test_regex(void **state)
{
	trib_quality_spec s = {.kind = TRIB_QC_REGEX, .name = "zip", .pattern = "^[0-9]{5}$"};
	trib_quality *c = mk(&s);
	char		err[256];
	bool		pass;
	trib_jvalue	v;

	(void) state;
	assert_true(check(c, str("12345")));
	assert_false(check(c, str("1234")));
	assert_string_equal(reason, "zip: does not match the pattern");
	/* numbers are matched in their JSON text */
	assert_true(check(c, num("90210")));
	assert_true(check(c, null_v));
	trib_quality_free(c);

	s.pattern = "^\\p{Lu}\\w+$";
	s.caseless = false;
	c = mk(&s);
	assert_true(check(c, str("Émile")));
	assert_false(check(c, str("émile")));
	trib_quality_free(c);

	s.pattern = "^j";
	s.caseless = true;
	c = mk(&s);
	assert_true(check(c, str("Jane")));
	trib_quality_free(c);

	/* catastrophic backtracking is cut off and reported */
	s.pattern = "^(a+)+$";
	s.caseless = false;
	c = mk(&s);
	v = str("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
	assert_false(trib_quality_run(c, "col", &v, &pass, reason, sizeof(reason), err,
								  sizeof(err)));
	assert_non_null(strstr(err, "limit"));
	trib_quality_free(c);

	s.pattern = "([a-z";
	assert_null(trib_quality_new(&s, err, sizeof(err)));
	assert_non_null(strstr(err, "regex: "));
	assert_non_null(strstr(err, "at offset 5"));
}

static void
test_allowed(void **state)
{
	static const char *const set[] = {"\"EUR\"", "\"USD\"", "1", "2.50", "true"};
	trib_quality_spec s = {.kind = TRIB_QC_ALLOWED, .name = "currency", .allowed = set,
	.nallowed = 5};
	trib_quality *c = mk(&s);
	static const char *const bad[] = {"{\"a\":1}"};
	static const char *const bad2[] = {"EUR"};
	char		err[256];

	(void) state;
	assert_true(check(c, str("EUR")));
	assert_false(check(c, str("eur")));
	assert_string_equal(reason, "currency: not one of the 5 allowed values");
	assert_true(check(c, num("1.0")));
	assert_true(check(c, num("2.5")));
	assert_false(check(c, str("1")));	/* a string is not the number 1 */
	assert_true(check(c, true_v));
	assert_true(check(c, null_v));
	assert_false(check(c, obj_v));
	trib_quality_free(c);

	s.allowed = bad;
	s.nallowed = 1;
	assert_null(trib_quality_new(&s, err, sizeof(err)));
	assert_non_null(strstr(err, "must be a JSON string, number or boolean"));
	s.allowed = bad2;
	assert_null(trib_quality_new(&s, err, sizeof(err)));
	s.nallowed = 0;
	assert_null(trib_quality_new(&s, err, sizeof(err)));
	assert_string_equal(err, "allowed: the set is empty");
}

static void
test_unique_per_batch(void **state)
{
	trib_quality_spec s = {.kind = TRIB_QC_UNIQUE, .name = "order_no"};
	trib_quality *c = mk(&s);

	(void) state;
	for (int i = 0; i < 1000; i++)
	{
		char		buf[16];

		snprintf(buf, sizeof(buf), "%d", i);
		assert_true(check(c, num(buf)));
	}
	assert_false(check(c, num("500")));
	assert_string_equal(reason, "order_no: duplicate value in this batch");
	assert_false(check(c, num("5.00e2")));	/* the same number */
	assert_true(check(c, str("500")));	/* a string is another value */
	assert_true(check(c, null_v));
	assert_true(check(c, null_v));	/* nulls are not duplicates */
	trib_quality_batch_reset(c);
	assert_true(check(c, num("500")));
	trib_quality_free(c);
}

static void
test_lua_check(void **state)
{
	trib_lua_limits lim;
	char		err[256];
	trib_lua   *T;
	trib_event *ev = trib_event_new();
	trib_quality *c;
	trib_quality_spec s = {.kind = TRIB_QC_LUA, .name = "amount_vs_status"};
	bool		pass;
	trib_jvalue	v = num("5000");

	(void) state;
	trib_lua_limits_init(&lim);
	T = trib_lua_new(&lim, err, sizeof(err));
	assert_non_null(T);
	ev->op = TRIB_OP_CREATE;
	ev->after = strdup("{\"status\":\"trial\",\"amount\":5000}");
	trib_lua_bind(T, ev);
	s.lua = T;
	s.lua_src = "if after.status == 'trial' and value > 100 then "
		"return false, 'trial orders stay under 100' end return true";
	c = mk(&s);
	assert_false(check(c, v));
	assert_string_equal(reason, "amount_vs_status: trial orders stay under 100");
	assert_true(check(c, num("50")));
	trib_quality_free(c);

	s.lua_src = "value ~= nil and column == 'col'";
	c = mk(&s);
	assert_true(check(c, str("x")));
	assert_false(check(c, null_v));	/* lua runs on nulls too */
	assert_string_equal(reason, "amount_vs_status: custom check failed");
	trib_quality_free(c);

	/* a runtime error is an error, not a verdict */
	s.lua_src = "value.x.y";
	c = mk(&s);
	assert_false(trib_quality_run(c, "col", &v, &pass, reason, sizeof(reason), err,
								  sizeof(err)));
	assert_non_null(strstr(err, "amount_vs_status:1:"));
	trib_quality_free(c);

	s.lua_src = "value >";
	assert_null(trib_quality_new(&s, err, sizeof(err)));
	assert_non_null(strstr(err, "amount_vs_status:1:"));
	s.lua = NULL;
	assert_null(trib_quality_new(&s, err, sizeof(err)));

	trib_lua_free(T);
	trib_event_free(ev);
}

static void
test_kind_names(void **state)
{
	trib_quality_kind k;

	(void) state;
	assert_true(trib_quality_kind_parse("unique", &k));
	assert_int_equal(k, TRIB_QC_UNIQUE);
	assert_true(trib_quality_kind_parse("lua", &k));
	assert_false(trib_quality_kind_parse("foreign_key", &k));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_null),
		cmocka_unit_test(test_type),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_regex),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_unique_per_batch),
		cmocka_unit_test(test_lua_check),
		cmocka_unit_test(test_kind_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
