/*
 * test_opaque_source.c: the "source" object copied out of an opaque
 * position by yajl's event parser (format/opaque_source.c), and the
 * MySQL source's per-transaction rendering of its opaque text
 * (source/mysql/mysql_opaque.c): both on the per-event path of
 * `make bench-mysql`, both checked here against what a yajl tree of the
 * same text says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "mysql_opaque.h"
#include "opaque_source.h"

/* The copied object's text, or NULL when trib_opaque_source refuses. */
static char *
copy_of(const char *opaque)
{
	yajl_gen	g = yajl_gen_alloc(NULL);
	const unsigned char *out;
	size_t		len;
	char	   *s = NULL;

	assert_non_null(g);
	if (trib_opaque_source(opaque, g) &&
		yajl_gen_get_buf(g, &out, &len) == yajl_gen_status_ok)
		s = strndup((const char *) out, len);
	yajl_gen_free(g);
	return s;
}

/* Nested values, big numbers, escapes: the object comes out compact and
 * unchanged; a "source" key below the top level does not count. */
static void
test_copy_object(void **state)
{
	char	   *s;

	(void) state;
	s = copy_of("{\"id\":\"x\",\"n\":{\"source\":1},\"source\" : { \"a\": [1, {\"b\": null}],"
				" \"big\": 18446744073709551615, \"t\": \"q\\\"\\u00e9\", \"f\": false}}");
	assert_non_null(s);
	assert_string_equal(s, "{\"a\":[1,{\"b\":null}],\"big\":18446744073709551615,"
						"\"t\":\"q\\\"\xc3\xa9\",\"f\":false}");
	free(s);
}

/* No top-level "source" object: refused (also when it is not an object,
 * or only nested). */
static void
test_copy_refused(void **state)
{
	(void) state;
	assert_null(copy_of("{\"id\":\"x\"}"));
	assert_null(copy_of("{\"source\":null,\"x\":{\"source\":{\"a\":1}}}"));
	assert_null(copy_of("{\"source\":[{\"a\":1}]}"));
	assert_null(copy_of("{\"source\":{\"a\":"));
	assert_null(copy_of("not json"));
}

/* The parse stops once the object closed: what follows it is never read
 * (a tree parse of the whole text refused this one). */
static void
test_copy_stops_after_object(void **state)
{
	char	   *s;

	(void) state;
	s = copy_of("{\"source\":{\"a\":1},\"rest\": this is never lexed");
	assert_non_null(s);
	assert_string_equal(s, "{\"a\":1}");
	free(s);
}

/* A member of a yajl tree as a number, or -1. */
static long long
tree_num(yajl_val root, const char *a, const char *b)
{
	const char *path[] = {a, b, NULL};
	yajl_val	v = yajl_tree_get(root, path, yajl_t_number);

	return v ? YAJL_GET_INTEGER(v) : -1;
}

/* A member of a yajl tree as a string, or NULL. */
static const char *
tree_str(yajl_val root, const char *a, const char *b)
{
	const char *path[] = {a, b, NULL};
	yajl_val	v = yajl_tree_get(root, path, yajl_t_string);

	return v ? YAJL_GET_STRING(v) : NULL;
}

/* Rows of one transaction share the rendered parts; a new transaction,
 * thread or query renders them again; the text is valid JSON with the
 * members the position contract names, strings escaped. */
static void
test_mysql_opaque_rows(void **state)
{
	trib_my_opaque o = {0};
	trib_my_pos tx = {0};
	trib_my_opaque_tx t = {.tx = &tx, .server_id = 7, .include_query = true,
	.query = "INSERT \"x\""};
	char	   *s;
	yajl_val	root;

	(void) state;
	snprintf(tx.file, sizeof(tx.file), "mariadb-bin.000002");
	tx.tx_pos = 1000;
	tx.gtid.kind = TRIB_MY_GTID_MARIADB;
	tx.gtid.server = 1;
	tx.gtid.seq = 6;
	s = trib_my_opaque_row(&o, &t, 3, 1100, false, 0, NULL);
	assert_string_equal(s, "{\"source\":{\"server_id\":7,\"gtid\":\"0-1-6\","
						"\"file\":\"mariadb-bin.000002\",\"pos\":1100,\"row\":3,\"thread\":null,"
						"\"query\":\"INSERT \\\"x\\\"\"},\"id\":\"0-1-6/mariadb-bin.000002:1000/3\","
						"\"file\":\"mariadb-bin.000002\",\"pos\":1000,\"row\":3,\"gtid\":\"0-1-6\","
						"\"server_id\":7,\"event_pos\":1100}");
	free(s);

	/* same transaction, the last row: parts reused, end added */
	s = trib_my_opaque_row(&o, &t, 18446744073709551ULL, 4294967295ULL, true, 1300,
						   "0-1-6,7-2-3");
	root = yajl_tree_parse(s, NULL, 0);
	assert_non_null(root);
	assert_string_equal(tree_str(root, "id", NULL),
						"0-1-6/mariadb-bin.000002:1000/18446744073709551");
	assert_int_equal(tree_num(root, "source", "pos"), 4294967295LL);
	assert_int_equal(tree_num(root, "event_pos", NULL), 4294967295LL);
	assert_int_equal(tree_num(root, "end_pos", NULL), 1300);
	assert_string_equal(tree_str(root, "gtid_state", NULL), "0-1-6,7-2-3");
	yajl_tree_free(root);
	free(s);

	/* no GTID, a thread, no query: rendered again after invalidate */
	tx.gtid.kind = TRIB_MY_GTID_NONE;
	t.thread = 42;
	t.query = NULL;
	trib_my_opaque_invalidate(&o);
	s = trib_my_opaque_row(&o, &t, 0, 4, false, 0, NULL);
	assert_string_equal(s, "{\"source\":{\"server_id\":7,\"gtid\":null,"
						"\"file\":\"mariadb-bin.000002\",\"pos\":4,\"row\":0,\"thread\":42,"
						"\"query\":null},\"id\":\"/mariadb-bin.000002:1000/0\","
						"\"file\":\"mariadb-bin.000002\",\"pos\":1000,\"row\":0,\"gtid\":\"\","
						"\"server_id\":7,\"event_pos\":4}");
	free(s);
	trib_my_opaque_free(&o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_object),
		cmocka_unit_test(test_copy_refused),
		cmocka_unit_test(test_copy_stops_after_object),
		cmocka_unit_test(test_mysql_opaque_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
