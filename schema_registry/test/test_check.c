/*
 * test_check.c: trib_sr_check() beyond the matrix: which previous versions
 * each level checks, what a violation carries (path, message, version,
 * direction), schemas of different formats, and that every violation is
 * returned.
 */
#include <string.h>

#include "sr_test.h"

#define V1 "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}"
#define V2 "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}," \
	"{\"name\":\"b\",\"type\":\"int\",\"default\":0}]}"
#define V3 "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}," \
	"{\"name\":\"b\",\"type\":\"int\"}]}"

/* V3 reads V2 data (b is there) but not V1 data (b is not, no default):
 * only the transitive level sees it, against version index 0. */
static void
transitive_checks_every_version(void **state)
{
	const char *prev[] = {V1, V2};
	trib_sr_violations *v;
	const trib_sr_violation *x;

	(void) state;
	assert_string_equal(sr_test_check(TRIB_SR_AVRO, V3, prev, 2, TRIB_SR_BACKWARD, NULL), "");
	assert_string_equal(sr_test_check(TRIB_SR_AVRO, V3, prev, 2, TRIB_SR_BACKWARD_TRANSITIVE, &v),
						"READER_FIELD_MISSING_DEFAULT_VALUE");
	assert_int_equal(trib_sr_violations_count(v), 1);
	x = trib_sr_violations_get(v, 0);
	assert_int_equal(x->previous, 0);
	assert_int_equal(x->direction, TRIB_SR_NEW_READS_OLD);
	assert_string_equal(x->path, "/fields/1");
	assert_non_null(strstr(x->message, "'b'"));
	assert_non_null(strstr(x->message, "no default"));
	assert_null(trib_sr_violations_get(v, 1));
	trib_sr_violations_free(v);
}

/* FULL_TRANSITIVE reports both directions against each version, latest
 * first. */
static void
full_transitive_reports_both_directions(void **state)
{
	const char *prev[] = {"{\"type\":\"string\",\"maxLength\":5}", "{\"type\":\"string\",\"maxLength\":10}"};
	trib_sr_violations *v;
	size_t		n;

	(void) state;
	sr_test_check(TRIB_SR_JSON, "{\"type\":\"string\",\"maxLength\":7}", prev, 2,
				  TRIB_SR_FULL_TRANSITIVE, &v);
	n = trib_sr_violations_count(v);
	assert_int_equal(n, 2);
	/* latest first: new (7) cannot read version index 1's strings (10) */
	assert_string_equal(trib_sr_violations_get(v, 0)->kind, "MAX_LENGTH_DECREASED");
	assert_int_equal(trib_sr_violations_get(v, 0)->previous, 1);
	assert_int_equal(trib_sr_violations_get(v, 0)->direction, TRIB_SR_NEW_READS_OLD);
	assert_string_equal(trib_sr_violations_get(v, 0)->path, "#/maxLength");
	/* version index 0 (5) cannot read the new strings (7) */
	assert_string_equal(trib_sr_violations_get(v, 1)->kind, "MAX_LENGTH_DECREASED");
	assert_int_equal(trib_sr_violations_get(v, 1)->previous, 0);
	assert_int_equal(trib_sr_violations_get(v, 1)->direction, TRIB_SR_OLD_READS_NEW);
	assert_non_null(strstr(trib_sr_violations_get(v, 1)->message, "lower in the old schema"));
	trib_sr_violations_free(v);
}

/* Every violation, not only the first. */
static void
every_violation_is_returned(void **state)
{
	const char *old = "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":"
		"{\"a\":{\"type\":\"string\"},\"b\":{\"type\":\"string\"},\"c\":{\"type\":\"string\"},"
		"\"d\":{\"type\":\"integer\"}}}";
	const char *new = "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":"
		"{\"d\":{\"type\":\"string\"}}}";
	trib_sr_violations *v;

	(void) state;
	assert_string_equal(sr_test_check(TRIB_SR_JSON, new, &old, 1, TRIB_SR_BACKWARD, &v),
						"PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL,TYPE_CHANGED");
	assert_int_equal(trib_sr_violations_count(v), 4);
	trib_sr_violations_free(v);
}

/* A JSON Schema never follows an Avro one. */
static void
format_change_is_a_violation(void **state)
{
	char		err[256];
	trib_sr_schema *j = sr_test_parse(TRIB_SR_JSON, "{\"type\":\"string\"}");
	trib_sr_schema *a = sr_test_parse(TRIB_SR_AVRO, "\"string\"");
	const trib_sr_schema *prev[] = {a};
	trib_sr_violations *v = trib_sr_check(j, prev, 1, TRIB_SR_FULL, err, sizeof(err));

	(void) state;
	assert_non_null(v);
	assert_string_equal(sr_test_kinds(v), "SCHEMA_TYPE_CHANGED");
	assert_non_null(strstr(trib_sr_violations_get(v, 0)->message, "new schema is JSON"));
	trib_sr_violations_free(v);
	trib_sr_schema_free(j);
	trib_sr_schema_free(a);
}

/* NONE and a first version check nothing. */
static void
none_and_first_version_accept_anything(void **state)
{
	const char *old = "\"int\"";

	(void) state;
	assert_string_equal(sr_test_check(TRIB_SR_AVRO, "\"string\"", &old, 1, TRIB_SR_NONE, NULL), "");
	assert_string_equal(sr_test_check(TRIB_SR_AVRO, "\"string\"", NULL, 0, TRIB_SR_FULL, NULL), "");
}

/* A JSON path escapes "/" and "~" in property names (RFC 6901). */
static void
json_paths_escape_property_names(void **state)
{
	const char *old = "{\"type\":\"object\",\"properties\":{\"a/b~c\":{\"type\":\"string\"}}}";
	const char *new = "{\"type\":\"object\",\"properties\":{\"a/b~c\":{\"type\":\"integer\"}}}";
	trib_sr_violations *v;

	(void) state;
	sr_test_check(TRIB_SR_JSON, new, &old, 1, TRIB_SR_BACKWARD, &v);
	assert_int_equal(trib_sr_violations_count(v), 1);
	assert_string_equal(trib_sr_violations_get(v, 0)->path, "#/properties/a~1b~0c");
	trib_sr_violations_free(v);
}

/* Bad arguments are errors, not crashes. */
static void
bad_arguments_are_errors(void **state)
{
	char		err[256] = "";
	trib_sr_schema *s = sr_test_parse(TRIB_SR_AVRO, "\"int\"");

	(void) state;
	assert_null(trib_sr_check(NULL, NULL, 0, TRIB_SR_FULL, err, sizeof(err)));
	assert_non_null(strstr(err, "no schema"));
	assert_null(trib_sr_check(s, NULL, 1, TRIB_SR_FULL, err, sizeof(err)));
	assert_null(trib_sr_check(s, NULL, 0, (trib_sr_level) 42, err, sizeof(err)));
	assert_null(trib_sr_schema_parse((trib_sr_format) 7, "{}", 2, err, sizeof(err)));
	assert_non_null(strstr(err, "unknown schema format"));
	trib_sr_schema_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(transitive_checks_every_version),
		cmocka_unit_test(full_transitive_reports_both_directions),
		cmocka_unit_test(every_violation_is_returned),
		cmocka_unit_test(format_change_is_a_violation),
		cmocka_unit_test(none_and_first_version_accept_anything),
		cmocka_unit_test(json_paths_escape_property_names),
		cmocka_unit_test(bad_arguments_are_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
