/*
 * test_opaque_source.c: the "source" object copied out of an opaque
 * position by yajl's event parser (format/opaque_source.c), and the
 * MySQL source's per-transaction rendering of its opaque text
 * (source/mysql/mysql_opaque.c): both on the per-event path of
 * `make bench-mysql`, both checked here against what a yajl tree of the
 * same text says; and the envelope's copy of a hinted "source" object
 * (core/position.h, its source hint) against its parse, and the hint kept
 * with its own text only.
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

#include "envelope.h"
#include "event.h"
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

/* The opaque_source hint (core/position.h) of a rendered text: its first
 * n bytes are {"source": and then exactly what trib_opaque_source
 * generates from the text, so the envelope's copy and its parse agree. */
static void
assert_source_hint(const char *s, size_t n)
{
	char	   *obj = copy_of(s);

	assert_non_null(obj);
	assert_int_equal(n, strlen("{\"source\":") + strlen(obj));
	assert_memory_equal(s, "{\"source\":", strlen("{\"source\":"));
	assert_memory_equal(s + strlen("{\"source\":"), obj, strlen(obj));
	free(obj);
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
	size_t		n;

	(void) state;
	snprintf(tx.file, sizeof(tx.file), "mariadb-bin.000002");
	tx.tx_pos = 1000;
	tx.gtid.kind = TRIB_MY_GTID_MARIADB;
	tx.gtid.server = 1;
	tx.gtid.seq = 6;
	s = trib_my_opaque_row(&o, &t, 3, 1100, false, 0, NULL, &n);
	assert_source_hint(s, n);
	assert_string_equal(s, "{\"source\":{\"server_id\":7,\"gtid\":\"0-1-6\","
						"\"file\":\"mariadb-bin.000002\",\"pos\":1100,\"row\":3,\"thread\":null,"
						"\"query\":\"INSERT \\\"x\\\"\"},\"id\":\"0-1-6/mariadb-bin.000002:1000/3\","
						"\"file\":\"mariadb-bin.000002\",\"pos\":1000,\"row\":3,\"gtid\":\"0-1-6\","
						"\"server_id\":7,\"event_pos\":1100}");
	free(s);

	/* same transaction, the last row: parts reused, end added */
	s = trib_my_opaque_row(&o, &t, 18446744073709551ULL, 4294967295ULL, true, 1300,
						   "0-1-6,7-2-3", &n);
	assert_source_hint(s, n);
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
	s = trib_my_opaque_row(&o, &t, 0, 4, false, 0, NULL, &n);
	assert_source_hint(s, n);
	assert_string_equal(s, "{\"source\":{\"server_id\":7,\"gtid\":null,"
						"\"file\":\"mariadb-bin.000002\",\"pos\":4,\"row\":0,\"thread\":42,"
						"\"query\":null},\"id\":\"/mariadb-bin.000002:1000/0\","
						"\"file\":\"mariadb-bin.000002\",\"pos\":1000,\"row\":0,\"gtid\":\"\","
						"\"server_id\":7,\"event_pos\":4}");
	free(s);

	/* a query with bytes that are not UTF-8 (and a control character):
	 * the parse refuses the object, so there is no hint either */
	t.query = "UPDATE t SET b = '\xff\x01'";
	trib_my_opaque_invalidate(&o);
	s = trib_my_opaque_row(&o, &t, 1, 5, false, 0, NULL, &n);
	assert_int_equal(n, 0);
	assert_null(copy_of(s));
	free(s);

	/* valid UTF-8 and escapes: hinted, the same bytes as the parse */
	t.query = "UPDATE t SET b = 'Jos\xc3\xa9\t\\/\"'";
	trib_my_opaque_invalidate(&o);
	s = trib_my_opaque_row(&o, &t, 2, 6, false, 0, NULL, &n);
	assert_source_hint(s, n);
	free(s);
	trib_my_opaque_free(&o);
}

/* The record's value of a MySQL event with this opaque text and hint, in
 * Debezium mode, up to its source block's end (the envelope's own ts_ms
 * after it is the clock's; malloc'd). */
static char *
dbz_value(const char *opaque, size_t hint)
{
	static trib_column cols[] = {{.name = "id", .type = "bigint", .pk = true}};
	static trib_relation rel = {.schema = "shop", .table = "t", .ncolumns = 1,
	.columns = cols, .version = 1};
	trib_envelope_opts eo;
	trib_dbz_opts dbz;
	trib_envelope *env;
	trib_event *ev = trib_event_new();
	const trib_record *r;
	char		err[256];
	char	   *v;
	size_t		n;

	trib_envelope_opts_init(&eo);
	trib_dbz_opts_init(&dbz);
	eo.debezium = &dbz;
	env = trib_envelope_new(&eo, err, sizeof(err));
	assert_non_null(env);
	ev->op = TRIB_OP_CREATE;
	ev->source = "my1";
	ev->connector = "mysql";
	ev->db = "shop";
	ev->table = "t";
	ev->rel = &rel;
	ev->after = strdup("{\"id\":1}");
	ev->key = strdup("{\"id\":1}");
	ev->ts_ms = 1700000000123LL;
	trib_position_set_opaque(&ev->pos, strdup(opaque), hint);
	r = trib_envelope_encode(env, ev, &n, err, sizeof(err));
	assert_non_null(r);
	v = strndup(r[0].value, r[0].value_len);
	assert_non_null(strstr(v, ",\"op\":"));
	*strstr(v, ",\"op\":") = '\0';
	trib_event_free(ev);
	trib_envelope_free(env);
	return v;
}

/* The envelope's source block is byte for byte the same whether it copies
 * the hinted members or parses the text (and ignores a hint that does not
 * fit the text). */
static void
test_envelope_copies_hinted_source(void **state)
{
	trib_my_opaque o = {0};
	trib_my_pos tx = {0};
	trib_my_opaque_tx t = {.tx = &tx, .server_id = 7, .thread = 9,
	.include_query = true, .query = "INSERT 'Jos\xc3\xa9\n\\/\""};
	char	   *s,
			   *parsed,
			   *copied,
			   *stale;
	size_t		n;

	(void) state;
	snprintf(tx.file, sizeof(tx.file), "mysql-bin.000003");
	tx.tx_pos = 77;
	s = trib_my_opaque_row(&o, &t, 2, 120, true, 300, "0-1-6", &n);
	assert_true(n > 0);
	parsed = dbz_value(s, 0);
	copied = dbz_value(s, n);
	stale = dbz_value(s, n - 3);
	assert_non_null(strstr(parsed, "\"server_id\":7,\"gtid\":null,"
						   "\"file\":\"mysql-bin.000003\",\"pos\":120,\"row\":2,"
						   "\"thread\":9,\"query\":"));
	assert_string_equal(copied, parsed);
	assert_string_equal(stale, parsed);
	free(parsed);
	free(copied);
	free(stale);
	free(s);
	trib_my_opaque_free(&o);
}

/* The hint goes with its text (core/position.h): a text put in the
 * position without the setter has no hint, whatever it holds; an event's
 * copy keeps the hint with its own copy of the text. */
static void
test_hint_follows_its_text(void **state)
{
	static const char text[] = "{\"source\":{\"x\":1},\"y\":2}";
	trib_event *ev = trib_event_new();
	trib_event	cp;
	char	   *other = strdup(text);

	(void) state;
	trib_position_set_opaque(&ev->pos, strdup(text), 17);
	assert_int_equal(trib_position_opaque_source(&ev->pos), 17);
	trib_event_copy(ev, &cp);
	assert_ptr_not_equal(cp.pos.opaque, ev->pos.opaque);
	assert_int_equal(trib_position_opaque_source(&cp.pos), 17);
	free(cp.pos.opaque);
	cp.pos.opaque = other;		/* replaced without the setter */
	assert_int_equal(trib_position_opaque_source(&cp.pos), 0);
	trib_position_set_opaque(&cp.pos, cp.pos.opaque, 0);
	assert_int_equal(trib_position_opaque_source(&cp.pos), 0);
	trib_event_clear(&cp);
	trib_event_free(ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_object),
		cmocka_unit_test(test_copy_refused),
		cmocka_unit_test(test_copy_stops_after_object),
		cmocka_unit_test(test_mysql_opaque_rows),
		cmocka_unit_test(test_envelope_copies_hinted_source),
		cmocka_unit_test(test_hint_follows_its_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
