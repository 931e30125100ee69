/*
 * test_envelope.c: golden tests of the Debezium envelope (envelope.c).
 *
 * Every op is compared byte for byte with the record a Debezium
 * PostgreSQL connector writes through the JsonConverter with
 * schemas.enable=false (docs/FORMAT.md), and every value is parsed back
 * with yajl to prove it is JSON.  The last test is the micro-benchmark:
 * it encodes 1M events (TRIB_BENCH_EVENTS overrides) and prints ns/event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "envelope.h"
#include "event.h"

#define NOW 1700000001000LL

/* The envelope's clock in tests. */
static int64_t
fixed_clock(void)
{
	return NOW;
}

/* strdup that keeps NULL. */
static char *
dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* An event of table public.orders in transaction 741 at 0/1A4F2C8. */
static trib_event *
mkev(trib_op op, const char *before, const char *after, const char *key)
{
	trib_event *ev = trib_event_new();

	ev->op = op;
	/* naming strings are borrowed (event.h): literals */
	ev->source = "pg1";
	ev->connector = "postgresql";
	ev->db = "shop";
	ev->schema = "public";
	ev->table = "orders";
	ev->before = dup(before);
	ev->after = dup(after);
	ev->key = dup(key);
	ev->txid = 741;
	ev->ts_ms = 1700000000123LL;
	ev->pos.commit_lsn = 0x1A4F2C8;
	ev->pos.lsn = 0x1A4F1B0;
	ev->pos.seq = 0;
	return ev;
}

/* A new envelope with the test clock; defaults otherwise. */
static trib_envelope *
mkenv(void (*tweak) (trib_envelope_opts *))
{
	trib_envelope_opts o;
	char		err[256];
	trib_envelope *env;

	trib_envelope_opts_init(&o);
	o.clock_ms = fixed_clock;
	if (tweak)
		tweak(&o);
	env = trib_envelope_new(&o, err, sizeof(err));
	if (env == NULL)
		fail_msg("trib_envelope_new: %s", err);
	return env;
}

/* Compare a length-counted string with the expected text. */
static void
assert_text(const char *got, size_t len, const char *want)
{
	if (got == NULL || len != strlen(want) || memcmp(got, want, len) != 0)
		fail_msg("expected:\n%s\nactual:\n%.*s", want, got ? (int) len : 6,
				 got ? got : "(null)");
}

/* The value must be strict JSON (no comments, no trailing bytes, UTF-8);
 * returns its tree (caller frees). */
static yajl_val
parse_json(const char *text, size_t len)
{
	char	   *s = malloc(len + 1);
	char		err[256];
	yajl_val	v;
	yajl_handle h = yajl_alloc(NULL, NULL, NULL);

	if (yajl_parse(h, (const unsigned char *) text, len) != yajl_status_ok ||
		yajl_complete_parse(h) != yajl_status_ok)
		fail_msg("not strict JSON: %.*s", (int) len, text);
	yajl_free(h);
	memcpy(s, text, len);
	s[len] = '\0';
	v = yajl_tree_parse(s, err, sizeof(err));
	if (v == NULL)
		fail_msg("not JSON (%s): %s", err, s);
	free(s);
	return v;
}

/* Encode ev; fail the test on error. */
static const trib_record *
encode(trib_envelope *env, const trib_event *ev, size_t *n)
{
	char		err[256];
	const trib_record *r = trib_envelope_encode(env, ev, n, err, sizeof(err));

	if (r == NULL)
		fail_msg("encode: %s", err);
	for (size_t i = 0; i < *n; i++)
		if (r[i].value)
			yajl_tree_free(parse_json(r[i].value, r[i].value_len));
	return r;
}

#define SRC(snapshot, schema, table, txid) \
	"\"source\":{\"version\":\"tributary-0.1\",\"connector\":\"postgresql\"," \
	"\"name\":\"tributary\",\"ts_ms\":1700000000123,\"snapshot\":\"" snapshot "\"," \
	"\"db\":\"shop\",\"sequence\":\"[\\\"27587272\\\",\\\"27586992\\\"]\"," \
	"\"schema\":\"" schema "\",\"table\":\"" table "\",\"txId\":" txid "," \
	"\"lsn\":27586992,\"xmin\":null}"

/* An insert: before null, after the new row, key the primary key. */
static void
test_insert_golden(void **state)
{
	trib_envelope *env = mkenv(NULL);
	trib_event *ev = mkev(TRIB_OP_CREATE, NULL, "{\"id\":1,\"amount\":12.50}",
						  "{\"id\":1}");
	size_t		n;
	const trib_record *r = encode(env, ev, &n);

	(void) state;
	assert_int_equal(n, 1);
	assert_string_equal(r[0].topic, "tributary.public.orders");
	assert_text(r[0].key, r[0].key_len, "{\"id\":1}");
	assert_text(r[0].value, r[0].value_len,
				"{\"before\":null,\"after\":{\"id\":1,\"amount\":12.50},"
				SRC("false", "public", "orders", "741")
				",\"op\":\"c\",\"ts_ms\":1700000001000,\"transaction\":null}");
	trib_event_free(ev);
	trib_envelope_free(env);
}

/* An update with REPLICA IDENTITY FULL carries both images. */
static void
test_update_golden(void **state)
{
	trib_envelope *env = mkenv(NULL);
	trib_event *ev = mkev(TRIB_OP_UPDATE, "{\"id\":1,\"amount\":12.50}",
						  "{\"id\":1,\"amount\":13.00}", "{\"id\":1}");
	size_t		n;
	const trib_record *r = encode(env, ev, &n);

	(void) state;
	assert_int_equal(n, 1);
	assert_text(r[0].value, r[0].value_len,
				"{\"before\":{\"id\":1,\"amount\":12.50},"
				"\"after\":{\"id\":1,\"amount\":13.00},"
				SRC("false", "public", "orders", "741")
				",\"op\":\"u\",\"ts_ms\":1700000001000,\"transaction\":null}");
	trib_event_free(ev);
	trib_envelope_free(env);
}

/* JSON null lists go into source.json_nulls, each only when present; a
 * flattened row has no source, so they do not show there. */
static void
test_json_nulls_in_source(void **state)
{
	trib_envelope *env = mkenv(NULL);
	trib_event *ev = mkev(TRIB_OP_UPDATE, "{\"id\":1,\"doc\":null,\"tags\":[null]}",
						  "{\"id\":1,\"doc\":null,\"tags\":[null]}", "{\"id\":1}");
	size_t		n;
	const trib_record *r;
	yajl_val	v;

	(void) state;
	ev->before_json_nulls = dup("[\"doc\",[\"tags\",0]]");
	ev->after_json_nulls = dup("[[\"tags\",0]]");
	r = encode(env, ev, &n);
	assert_non_null(strstr(r[0].value, ",\"xmin\":null,\"json_nulls\":{\"before\":[\"doc\",[\"tags\",0]],"
						   "\"after\":[[\"tags\",0]]}},\"op\":\"u\""));
	v = parse_json(r[0].value, r[0].value_len);
	yajl_tree_free(v);
	free(ev->before_json_nulls);
	ev->before_json_nulls = NULL;
	r = encode(env, ev, &n);
	assert_non_null(strstr(r[0].value, ",\"xmin\":null,\"json_nulls\":{\"after\":[[\"tags\",0]]}},"));
	free(ev->after_json_nulls);
	ev->after_json_nulls = NULL;
	ev->before_json_nulls = dup("[\"doc\"]");
	r = encode(env, ev, &n);
	assert_non_null(strstr(r[0].value, ",\"xmin\":null,\"json_nulls\":{\"before\":[\"doc\"]}},"));
	ev->flatten = TRIB_FLAT_ROW;
	r = encode(env, ev, &n);
	assert_text(r[0].value, r[0].value_len, "{\"id\":1,\"doc\":null,\"tags\":[null]}");
	trib_event_free(ev);
	trib_envelope_free(env);
}

/* An update without an old image (REPLICA IDENTITY DEFAULT): before null. */
static void
test_update_without_before(void **state)
{
	trib_envelope *env = mkenv(NULL);
	trib_event *ev = mkev(TRIB_OP_UPDATE, NULL, "{\"id\":1}", "{\"id\":1}");
	size_t		n;
	const trib_record *r = encode(env, ev, &n);

	(void) state;
	assert_non_null(strstr(r[0].value, "{\"before\":null,\"after\":{\"id\":1},"));
	trib_event_free(ev);
	trib_envelope_free(env);
}

/* A delete is followed by a tombstone with the same key and topic. */
static void
test_delete_and_tombstone(void **state)
{
	trib_envelope *env = mkenv(NULL);
	trib_event *ev = mkev(TRIB_OP_DELETE, "{\"id\":1}", NULL, "{\"id\":1}");
	size_t		n;
	const trib_record *r = encode(env, ev, &n);

	(void) state;
	assert_int_equal(n, 2);
	assert_text(r[0].value, r[0].value_len,
				"{\"before\":{\"id\":1},\"after\":null,"
				SRC("false", "public", "orders", "741")
				",\"op\":\"d\",\"ts_ms\":1700000001000,\"transaction\":null}");
	assert_string_equal(r[1].topic, "tributary.public.orders");
	assert_text(r[1].key, r[1].key_len, "{\"id\":1}");
	assert_null(r[1].value);
	assert_int_equal(r[1].value_len, 0);
	trib_event_free(ev);
	trib_envelope_free(env);
}

static void
no_tombstones(trib_envelope_opts *o)
{
	o->tombstones = false;
}

/* No tombstone when they are off, or when the delete has no key. */
static void
test_delete_without_tombstone(void **state)
{
	trib_envelope *env = mkenv(no_tombstones);
	trib_envelope *env2 = mkenv(NULL);
	trib_event *ev = mkev(TRIB_OP_DELETE, "{\"id\":1}", NULL, "{\"id\":1}");
	trib_event *nokey = mkev(TRIB_OP_DELETE, NULL, NULL, NULL);
	size_t		n;
	const trib_record *r;

	(void) state;
	encode(env, ev, &n);
	assert_int_equal(n, 1);
	r = encode(env2, nokey, &n);
	assert_int_equal(n, 1);
	assert_null(r[0].key);
	assert_non_null(strstr(r[0].value, "{\"before\":null,\"after\":null,"));
	trib_event_free(ev);
	trib_event_free(nokey);
	trib_envelope_free(env);
	trib_envelope_free(env2);
}

/* Snapshot rows: op r, snapshot "true", and "last" on the final row. */
static void
test_snapshot_read(void **state)
{
	trib_envelope *env = mkenv(NULL);
	trib_event *ev = mkev(TRIB_OP_READ, NULL, "{\"id\":7}", "{\"id\":7}");
	size_t		n;
	const trib_record *r;

	(void) state;
	ev->snapshot = true;
	r = encode(env, ev, &n);
	assert_text(r[0].value, r[0].value_len,
				"{\"before\":null,\"after\":{\"id\":7},"
				SRC("true", "public", "orders", "741")
				",\"op\":\"r\",\"ts_ms\":1700000001000,\"transaction\":null}");
	ev->last_in_tx = true;
	r = encode(env, ev, &n);
	assert_non_null(strstr(r[0].value, "\"snapshot\":\"last\""));
	trib_event_free(ev);
	trib_envelope_free(env);
}

/* A truncate of one table: Debezium's "t" with before/after null, no key. */
static void
test_truncate_one_table(void **state)
{
	trib_envelope *env = mkenv(NULL);
	trib_event *ev = mkev(TRIB_OP_TRUNCATE, NULL, NULL, "{\"id\":1}");
	size_t		n;
	const trib_record *r = encode(env, ev, &n);

	(void) state;
	assert_int_equal(n, 1);
	assert_null(r[0].key);
	assert_string_equal(r[0].topic, "tributary.public.orders");
	assert_text(r[0].value, r[0].value_len,
				"{\"before\":null,\"after\":null,"
				SRC("false", "public", "orders", "741")
				",\"op\":\"t\",\"ts_ms\":1700000001000,\"transaction\":null}");
	trib_event_free(ev);
	trib_envelope_free(env);
}

/* A truncate of several tables (the plugin's record): one record each. */
static void
test_truncate_relations(void **state)
{
	trib_envelope *env = mkenv(NULL);
	trib_event *ev = mkev(TRIB_OP_TRUNCATE, NULL, NULL, NULL);
	size_t		n;
	const trib_record *r;

	(void) state;
	ev->schema = ev->table = NULL;
	ev->extra = strdup("{\"relations\":[{\"schema\":\"public\",\"table\":\"parent\"},"
					   "{\"schema\":\"sales\",\"table\":\"child\"}],"
					   "\"cascade\":true,\"restart_identity\":false}");
	r = encode(env, ev, &n);
	assert_int_equal(n, 2);
	assert_string_equal(r[0].topic, "tributary.public.parent");
	assert_string_equal(r[1].topic, "tributary.sales.child");
	assert_non_null(strstr(r[0].value, "\"schema\":\"public\",\"table\":\"parent\""));
	assert_non_null(strstr(r[1].value, "\"schema\":\"sales\",\"table\":\"child\""));
	assert_non_null(strstr(r[1].value, "\"op\":\"t\""));
	trib_event_free(ev);
	trib_envelope_free(env);
}

/* A transactional message with UTF-8 content: base64 content, key
 * {"prefix":...}, topic prefix.message, schema and table "". */
static void
test_message_utf8(void **state)
{
	trib_envelope *env = mkenv(NULL);
	trib_event *ev = mkev(TRIB_OP_MESSAGE, NULL, NULL, NULL);
	size_t		n;
	const trib_record *r;

	(void) state;
	ev->schema = ev->table = NULL;
	ev->extra = strdup("{\"transactional\":true,\"prefix\":\"app.audit\","
					   "\"encoding\":\"utf8\",\"content\":\"bar\"}");
	r = encode(env, ev, &n);
	assert_int_equal(n, 1);
	assert_string_equal(r[0].topic, "tributary.message");
	assert_text(r[0].key, r[0].key_len, "{\"prefix\":\"app.audit\"}");
	assert_text(r[0].value, r[0].value_len,
				"{\"op\":\"m\",\"ts_ms\":1700000001000,"
				SRC("false", "", "", "741")
				",\"transaction\":null,"
				"\"message\":{\"prefix\":\"app.audit\",\"content\":\"YmFy\"}}");
	trib_event_free(ev);
	trib_envelope_free(env);
}

/* A non-transactional binary message: base64 passes through, txId null,
 * source ts_ms falls back to the clock (the plugin sends no ts). */
static void
test_message_base64_non_transactional(void **state)
{
	trib_envelope *env = mkenv(NULL);
	trib_event *ev = mkev(TRIB_OP_MESSAGE, NULL, NULL, NULL);
	size_t		n;
	const trib_record *r;

	(void) state;
	ev->txid = 0;
	ev->ts_ms = 0;
	ev->pos.lsn = ev->pos.commit_lsn + 1;	/* its id is (lsn - 1, 0) */
	ev->extra = strdup("{\"transactional\":false,\"prefix\":\"app.bin\","
					   "\"encoding\":\"base64\",\"content\":\"AAECAP8=\"}");
	r = encode(env, ev, &n);
	assert_text(r[0].value, r[0].value_len,
				"{\"op\":\"m\",\"ts_ms\":1700000001000,"
				"\"source\":{\"version\":\"tributary-0.1\",\"connector\":\"postgresql\","
				"\"name\":\"tributary\",\"ts_ms\":1700000001000,\"snapshot\":\"false\","
				"\"db\":\"shop\",\"sequence\":\"[\\\"27587272\\\",\\\"27587273\\\"]\","
				"\"schema\":\"\",\"table\":\"\",\"txId\":null,"
				"\"lsn\":27587273,\"xmin\":null},\"transaction\":null,"
				"\"message\":{\"prefix\":\"app.bin\",\"content\":\"AAECAP8=\"}}");
	trib_event_free(ev);
	trib_envelope_free(env);
}

/* Content said to be base64 is written as is, so anything but base64 is
 * refused: a quote in it ended the JSON string and wrote members of its
 * own (fuzz_envelope). */
static void
test_message_base64_refused(void **state)
{
	static const char *const bad[] = {
		"A\\\"CAP8=", "YQ\\\",\\\"op\\\":\\\"d", "YQ\\\\", "YQ\\n==", "Y Q==",
	};
	trib_envelope *env = mkenv(NULL);
	size_t		n;
	char		err[256];

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		trib_event *ev = mkev(TRIB_OP_MESSAGE, NULL, NULL, NULL);
		char		extra[256];

		snprintf(extra, sizeof(extra), "{\"prefix\":\"a\",\"encoding\":\"base64\","
				 "\"content\":\"%s\"}", bad[i]);
		ev->extra = strdup(extra);
		err[0] = '\0';
		assert_null(trib_envelope_encode(env, ev, &n, err, sizeof(err)));
		assert_string_equal(err, "envelope: message: \"content\" is not base64 although "
							"\"encoding\" says so");
		trib_event_free(ev);
	}
	trib_envelope_free(env);
}

/* Base64 of every length mod 3, and escaped content (yajl unescapes). */
static void
test_message_content_bytes(void **state)
{
	static const struct
	{
		const char *json;
		const char *b64;
	}			cases[] = {
		{"\"\"", ""}, {"\"f\"", "Zg=="}, {"\"fo\"", "Zm8="},
		{"\"foo\"", "Zm9v"}, {"\"a\\nb\\u00e9\"", "YQpiw6k="},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		trib_envelope *env = mkenv(NULL);
		trib_event *ev = mkev(TRIB_OP_MESSAGE, NULL, NULL, NULL);
		char		extra[128];
		char		want[64];
		size_t		n;
		const trib_record *r;

		snprintf(extra, sizeof(extra), "{\"prefix\":\"p\",\"content\":%s}",
				 cases[i].json);
		ev->extra = strdup(extra);
		snprintf(want, sizeof(want), "\"content\":\"%s\"}}", cases[i].b64);
		r = encode(env, ev, &n);
		if (strstr(r[0].value, want) == NULL)
			fail_msg("content %s: expected %s in %.*s", cases[i].json, want,
					 (int) r[0].value_len, r[0].value);
		trib_event_free(ev);
		trib_envelope_free(env);
	}
}

/* Numbers are spliced, not re-formatted: 30 digits, exponents, -0. */
static void
test_numbers_lossless(void **state)
{
	static const char *const nums[] = {
		"123456789012345678901234567890",
		"-123456789012345678901234567890.123456789012345678901234567890",
		"1e+30", "0.1", "-0", "12.50", "9223372036854775808",
	};
	trib_envelope *env = mkenv(NULL);

	(void) state;
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
	{
		char		after[256];
		trib_event *ev;
		size_t		n;
		const trib_record *r;
		yajl_val	root;
		yajl_val	v;
		static const char *path[] = {"after", "n", NULL};

		snprintf(after, sizeof(after), "{\"n\":%s}", nums[i]);
		ev = mkev(TRIB_OP_CREATE, NULL, after, NULL);
		r = encode(env, ev, &n);
		root = parse_json(r[0].value, r[0].value_len);
		v = yajl_tree_get(root, path, yajl_t_number);
		assert_non_null(v);
		assert_string_equal(YAJL_GET_NUMBER(v), nums[i]);
		yajl_tree_free(root);
		trib_event_free(ev);
	}
	trib_envelope_free(env);
}

/* Unicode: row images pass byte for byte (raw UTF-8 and \u escapes);
 * names are escaped in the source block and sanitised in the topic. */
static void
test_unicode_and_escaping(void **state)
{
	trib_envelope *env = mkenv(NULL);
	const char *after = "{\"name\":\"Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\x89\","
		"\"esc\":\"\\u00e9\\ud83c\\udf89\\\"\\\\\"}";
	trib_event *ev = mkev(TRIB_OP_CREATE, NULL, after, "{\"id\":1}");
	size_t		n;
	const trib_record *r;

	(void) state;
	ev->table = "Bestellungen \xc3\xbc\"q\\\n";
	r = encode(env, ev, &n);
	assert_non_null(strstr(r[0].value, after));
	assert_non_null(strstr(r[0].value,
						   "\"table\":\"Bestellungen \xc3\xbc\\\"q\\\\\\n\""));
	assert_string_equal(r[0].topic, "tributary.public.Bestellungen___q__");
	trib_event_free(ev);
	trib_envelope_free(env);
}

/* Control characters in names become \u00XX; so do bytes that are not
 * UTF-8. */
static void
test_control_characters_escaped(void **state)
{
	trib_envelope *env = mkenv(NULL);
	trib_event *ev = mkev(TRIB_OP_CREATE, NULL, "{}", NULL);
	size_t		n;
	const trib_record *r;

	(void) state;
	ev->schema = "a\x01\x1f\tb";
	r = encode(env, ev, &n);
	assert_non_null(strstr(r[0].value, "\"schema\":\"a\\u0001\\u001f\\tb\""));
	assert_string_equal(r[0].topic, "tributary.a___b.orders");

	/* bytes that are not UTF-8 (a truncated or overlong sequence, a
	 * surrogate) are written as their Latin-1 reading, so the value
	 * stays JSON; valid sequences pass through */
	ev->schema = "a\x81\xc3\xa9\xed\xa0\x80\xc0\xaf\xf0\x9f\x98\x80z\xe2\x82";
	r = encode(env, ev, &n);
	assert_non_null(strstr(r[0].value,
						   "\"schema\":\"a\\u0081\xc3\xa9\\u00ed\\u00a0\\u0080"
						   "\\u00c0\\u00af\xf0\x9f\x98\x80z\\u00e2\\u0082\""));
	trib_event_free(ev);
	trib_envelope_free(env);
}

/* Unchanged TOAST columns get Debezium's placeholder in `after`. */
static void
test_unchanged_toast_placeholder(void **state)
{
	trib_envelope *env = mkenv(NULL);
	trib_event *ev = mkev(TRIB_OP_UPDATE, NULL, "{\"id\":1,\"small\":\"s2\"} ",
						  "{\"id\":1}");
	size_t		n;
	const trib_record *r;

	(void) state;
	ev->unchanged = strdup(" [ \"big\" , \"doc\\\"x\" ] ");
	r = encode(env, ev, &n);
	assert_non_null(strstr(r[0].value,
						   "\"after\":{\"id\":1,\"small\":\"s2\","
						   "\"big\":\"__debezium_unavailable_value\","
						   "\"doc\\\"x\":\"__debezium_unavailable_value\"},"));

	/* an after image with nothing but unchanged columns */
	free(ev->after);
	ev->after = strdup("{ }");
	free(ev->unchanged);
	ev->unchanged = strdup("[\"big\"]");
	r = encode(env, ev, &n);
	assert_non_null(strstr(r[0].value,
						   "\"after\":{ \"big\":\"__debezium_unavailable_value\"},"));

	/* an empty list changes nothing */
	free(ev->unchanged);
	ev->unchanged = strdup("[]");
	r = encode(env, ev, &n);
	assert_non_null(strstr(r[0].value, "\"after\":{ },"));
	trib_event_free(ev);
	trib_envelope_free(env);
}

static void
no_placeholder(trib_envelope_opts *o)
{
	o->unavailable_value = NULL;
}

/* Without a placeholder the columns stay absent (never null). */
static void
test_unchanged_toast_omitted(void **state)
{
	trib_envelope *env = mkenv(no_placeholder);
	trib_event *ev = mkev(TRIB_OP_UPDATE, NULL, "{\"id\":1}", "{\"id\":1}");
	size_t		n;
	const trib_record *r;

	(void) state;
	ev->unchanged = strdup("[\"big\"]");
	r = encode(env, ev, &n);
	assert_non_null(strstr(r[0].value, "\"after\":{\"id\":1},"));
	assert_null(strstr(r[0].value, "big"));
	trib_event_free(ev);
	trib_envelope_free(env);
}

static void
custom_placeholder_and_message_topic(trib_envelope_opts *o)
{
	o->unavailable_value = "~unchanged \"x\"~";
	o->message_topic = "${prefix}.${source}.${db}.msgs";
}

/* The Kafka sink's unavailable_value and message_topic keys: another
 * placeholder (escaped as JSON) and a message topic from placeholders. */
static void
test_custom_placeholder_and_message_topic(void **state)
{
	trib_envelope *env = mkenv(custom_placeholder_and_message_topic);
	trib_event *ev = mkev(TRIB_OP_UPDATE, NULL, "{\"id\":1}", "{\"id\":1}");
	size_t		n;
	const trib_record *r;

	(void) state;
	ev->unchanged = strdup("[\"big\"]");
	r = encode(env, ev, &n);
	assert_non_null(strstr(r[0].value,
						   "\"after\":{\"id\":1,\"big\":\"~unchanged \\\"x\\\"~\"},"));
	assert_string_equal(r[0].topic, "tributary.public.orders");
	trib_event_free(ev);

	ev = mkev(TRIB_OP_MESSAGE, NULL, NULL, NULL);
	ev->schema = ev->table = NULL;	/* borrowed: nothing to free */
	ev->extra = strdup("{\"transactional\":true,\"prefix\":\"p\","
					   "\"encoding\":\"utf8\",\"content\":\"c\"}");
	r = encode(env, ev, &n);
	assert_int_equal(n, 1);
	assert_string_equal(r[0].topic, "tributary.pg1.shop.msgs");
	trib_event_free(ev);
	trib_envelope_free(env);
}

/* A malformed `unchanged` is an error, not a broken record. */
static void
test_unchanged_malformed(void **state)
{
	static const char *const bad[] = {
		"", "[", "[\"a\"", "[\"a\",]", "[1]", "{\"a\":1}", "[\"a\"] x", "[\"a\\",
	};
	trib_envelope *env = mkenv(NULL);
	char		err[256];

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		trib_event *ev = mkev(TRIB_OP_UPDATE, NULL, "{\"id\":1}", NULL);
		size_t		n;

		ev->unchanged = strdup(bad[i]);
		if (trib_envelope_encode(env, ev, &n, err, sizeof(err)) != NULL)
			fail_msg("unchanged '%s' accepted", bad[i]);
		assert_non_null(strstr(err, "unchanged"));
		trib_event_free(ev);
	}
	trib_envelope_free(env);
}

static void
tx_metadata(trib_envelope_opts *o)
{
	o->transaction_metadata = true;
}

/* Transaction metadata: total_order from seq, data_collection_order per
 * table, reset by the next transaction. */
static void
test_transaction_metadata(void **state)
{
	trib_envelope *env = mkenv(tx_metadata);
	trib_event *ev = mkev(TRIB_OP_CREATE, NULL, "{\"id\":1}", "{\"id\":1}");
	static const char *const tables[] = {"a", "b", "a", "a"};
	static const char *const want[] = {
		"\"transaction\":{\"id\":\"741:27587272\",\"total_order\":1,\"data_collection_order\":1}}",
		"\"transaction\":{\"id\":\"741:27587272\",\"total_order\":2,\"data_collection_order\":1}}",
		"\"transaction\":{\"id\":\"741:27587272\",\"total_order\":4,\"data_collection_order\":2}}",
		"\"transaction\":{\"id\":\"742:27590000\",\"total_order\":1,\"data_collection_order\":1}}",
	};
	static const uint64_t seqs[] = {0, 1, 3, 0};

	(void) state;
	for (int i = 0; i < 4; i++)
	{
		size_t		n;
		const trib_record *r;

		ev->table = tables[i];
		ev->pos.seq = seqs[i];
		if (i == 3)
		{
			ev->txid = 742;
			ev->pos.commit_lsn = 27590000;
		}
		r = encode(env, ev, &n);
		if (strstr(r[0].value, want[i]) == NULL)
			fail_msg("event %d: expected %s in %.*s", i, want[i],
					 (int) r[0].value_len, r[0].value);
	}
	trib_event_free(ev);
	trib_envelope_free(env);
}

/* Many tables in one transaction: the per-table counters grow. */
static void
test_transaction_metadata_many_tables(void **state)
{
	trib_envelope *env = mkenv(tx_metadata);
	trib_event *ev = mkev(TRIB_OP_CREATE, NULL, "{}", NULL);

	(void) state;
	for (int round = 1; round <= 2; round++)
		for (int t = 0; t < 100; t++)
		{
			char		name[16];
			char		want[64];
			size_t		n;
			const trib_record *r;

			snprintf(name, sizeof(name), "t%d", t);
			ev->table = name;
			r = encode(env, ev, &n);
			snprintf(want, sizeof(want), "\"data_collection_order\":%d}", round);
			if (strstr(r[0].value, want) == NULL)
				fail_msg("table %s round %d: %.*s", name, round,
						 (int) r[0].value_len, r[0].value);
		}
	trib_event_free(ev);
	trib_envelope_free(env);
}

static const char *test_pattern;

static void
with_pattern(trib_envelope_opts *o)
{
	o->topic_pattern = test_pattern;
}

/* Topic names: default, patterns, sanitising, limits. */
static void
test_topic_naming(void **state)
{
	trib_envelope *env;
	char		out[512];
	char		err[256];
	char		longname[300];

	(void) state;
	env = mkenv(NULL);
	assert_true(trib_envelope_topic(env, "pg1", "shop", "public", "orders",
									out, sizeof(out), err, sizeof(err)));
	assert_string_equal(out, "tributary.public.orders");
	/* schema-less source: Debezium's prefix.db.table */
	assert_true(trib_envelope_topic(env, "pg1", "shop", NULL, "orders",
									out, sizeof(out), err, sizeof(err)));
	assert_string_equal(out, "tributary.shop.orders");
	/* spaces, slashes, dots-free unicode */
	assert_true(trib_envelope_topic(env, "pg1", "shop", "my schema", "a/b\xe2\x82\xac",
									out, sizeof(out), err, sizeof(err)));
	assert_string_equal(out, "tributary.my_schema.a_b_");
	/* too long */
	memset(longname, 'x', 250);
	longname[250] = '\0';
	assert_false(trib_envelope_topic(env, "pg1", "shop", "public", longname,
									 out, sizeof(out), err, sizeof(err)));
	assert_non_null(strstr(err, "too long"));
	trib_envelope_free(env);

	test_pattern = "cdc-${source}_${db}.${table}";
	env = mkenv(with_pattern);
	assert_true(trib_envelope_topic(env, "pg1", "shop", "public", "orders",
									out, sizeof(out), err, sizeof(err)));
	assert_string_equal(out, "cdc-pg1_shop.orders");
	/* an explicit pattern keeps an empty schema empty */
	trib_envelope_free(env);

	/* the default pattern spelled out (the Kafka sink's config default):
	 * a schema-less source still gets prefix.db.table */
	test_pattern = TRIB_ENVELOPE_DEFAULT_PATTERN;
	env = mkenv(with_pattern);
	assert_true(trib_envelope_topic(env, "my1", "shop", NULL, "orders",
									out, sizeof(out), err, sizeof(err)));
	assert_string_equal(out, "tributary.shop.orders");
	trib_envelope_free(env);

	test_pattern = "${table}";
	env = mkenv(with_pattern);
	assert_false(trib_envelope_topic(env, "pg1", "shop", "public", "..",
									 out, sizeof(out), err, sizeof(err)));
	assert_true(trib_envelope_topic(env, "pg1", "shop", "public", "...",
									out, sizeof(out), err, sizeof(err)));
	assert_string_equal(out, "...");
	trib_envelope_free(env);
}

/* Bad patterns and prefixes are refused when the envelope is made. */
static void
test_topic_pattern_errors(void **state)
{
	static const struct
	{
		const char *prefix;
		const char *pattern;
		const char *msg;
	}			cases[] = {
		{"tributary", "${prefix}/${table}", "'/' is not allowed"},
		{"tributary", "${prefix}.${tabel}", "unknown variable \"${tabel}\""},
		{"tributary", "${prefix}.${table", "unterminated"},
		{"tributary", "", "empty"},
		{"my prefix", NULL, "' ' is not allowed"},
		{"", NULL, "prefix is empty"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		trib_envelope_opts o;
		char		err[256] = "";
		trib_envelope *env;

		trib_envelope_opts_init(&o);
		o.topic_prefix = cases[i].prefix;
		o.topic_pattern = cases[i].pattern;
		env = trib_envelope_new(&o, err, sizeof(err));
		if (env != NULL)
			fail_msg("case %zu accepted", i);
		if (strstr(err, cases[i].msg) == NULL)
			fail_msg("case %zu: expected \"%s\" in \"%s\"", i, cases[i].msg, err);
	}
}

/* A routed event goes where the router said. */
static void
test_routed_topic(void **state)
{
	trib_envelope *env = mkenv(NULL);
	trib_event *ev = mkev(TRIB_OP_CREATE, NULL, "{}", NULL);
	size_t		n;
	const trib_record *r;

	(void) state;
	ev->topic = strdup("audit.orders-eu");
	r = encode(env, ev, &n);
	assert_string_equal(r[0].topic, "audit.orders-eu");
	trib_event_free(ev);
	trib_envelope_free(env);
}

/* Event ids as the plugin writes them; unknown ops are errors. */
static void
test_event_id_and_bad_op(void **state)
{
	trib_position pos = {.commit_lsn = 0x100000000ULL + 0x1A4F2C8, .seq = 4};
	char		buf[TRIB_ENVELOPE_ID_LEN];
	trib_envelope *env = mkenv(NULL);
	trib_event *ev = mkev((trib_op) 'x', NULL, "{}", NULL);
	char		err[256];
	size_t		n;

	(void) state;
	assert_int_equal(trib_envelope_event_id(&pos, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "1/1A4F2C8:4");
	/* the same text as printf's %X/%X:%llu, truncated like snprintf */
	{
		static const uint64_t lsns[] = {0, 1, 0xF, 0x10, 0xFFFFFFFFULL,
			0x100000000ULL, 0xABCDEF0123456789ULL, UINT64_MAX};
		static const uint64_t seqs[] = {0, 9, 10, 12345, INT64_MAX, UINT64_MAX};

		for (size_t i = 0; i < sizeof(lsns) / sizeof(lsns[0]); i++)
			for (size_t j = 0; j < sizeof(seqs) / sizeof(seqs[0]); j++)
			{
				trib_position p2 = {.commit_lsn = lsns[i], .seq = seqs[j]};
				char		want[64];
				int			wn = snprintf(want, sizeof(want), "%X/%X:%llu",
										  (unsigned) (lsns[i] >> 32), (unsigned) lsns[i],
										  (unsigned long long) seqs[j]);

				assert_int_equal(trib_envelope_event_id(&p2, buf, sizeof(buf)), wn);
				assert_string_equal(buf, want);
				assert_int_equal(trib_envelope_event_id(&p2, buf, 5), 4);
				want[4] = '\0';
				assert_string_equal(buf, want);
			}
	}
	assert_null(trib_envelope_encode(env, ev, &n, err, sizeof(err)));
	assert_non_null(strstr(err, "unknown op 'x'"));
	trib_event_free(ev);
	trib_envelope_free(env);
}

/* Other connectors (no LSNs): sequence, lsn and txId are null. */
static void
test_source_without_lsn(void **state)
{
	trib_envelope *env = mkenv(NULL);
	trib_event *ev = mkev(TRIB_OP_CREATE, NULL, "{}", NULL);
	size_t		n;
	const trib_record *r;

	(void) state;
	ev->connector = "mysql";
	ev->pos.commit_lsn = ev->pos.lsn = 0;
	ev->txid = 0;
	r = encode(env, ev, &n);
	assert_non_null(strstr(r[0].value, "\"connector\":\"mysql\""));
	assert_non_null(strstr(r[0].value, "\"sequence\":null"));
	assert_non_null(strstr(r[0].value, "\"txId\":null,\"lsn\":null,\"xmin\":null}"));
	trib_event_free(ev);
	trib_envelope_free(env);
}

/* A source's own members (the opaque position's "source" object) follow
 * the common ones: Debezium's MySQL server_id, gtid, file, pos, row,
 * thread. */
static void
test_source_own_members(void **state)
{
	trib_envelope *env = mkenv(NULL);
	trib_event *ev = mkev(TRIB_OP_CREATE, NULL, "{}", NULL);
	size_t		n;
	const trib_record *r;

	(void) state;
	ev->connector = "mysql";
	ev->pos.opaque = strdup("{\"id\":\"x\",\"source\":{\"server_id\":1,\"gtid\":\"0-1-5\","
							"\"file\":\"b.000001\",\"pos\":1279,\"row\":2,\"thread\":null}}");
	r = encode(env, ev, &n);
	assert_non_null(strstr(r[0].value, "\"xmin\":null,\"server_id\":1,\"gtid\":\"0-1-5\","
						   "\"file\":\"b.000001\",\"pos\":1279,\"row\":2,\"thread\":null}"));
	trib_event_free(ev);
	trib_envelope_free(env);
}

/* Nanoseconds on the monotonic clock. */
static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Micro-benchmark: encode 1M typical events and print ns/event. */
static void
test_benchmark(void **state)
{
	const char *env_n = getenv("TRIB_BENCH_EVENTS");
	long		count = env_n ? atol(env_n) : 1000000;
	trib_envelope *env = mkenv(NULL);
	trib_event *ev[4];
	size_t		bytes = 0;
	int64_t		t0;
	int64_t		t1;

	(void) state;
	ev[0] = mkev(TRIB_OP_CREATE, NULL,
				 "{\"id\":123456,\"customer_id\":42,\"status\":\"shipped\","
				 "\"amount\":1234.50,\"currency\":\"EUR\",\"note\":\"leave at door\","
				 "\"created_at\":\"2024-06-01T10:00:00Z\",\"updated_at\":\"2024-06-01T10:05:00Z\"}",
				 "{\"id\":123456}");
	ev[1] = mkev(TRIB_OP_UPDATE, NULL, "{\"id\":123456,\"status\":\"delivered\"}",
				 "{\"id\":123456}");
	ev[2] = mkev(TRIB_OP_DELETE, "{\"id\":123456}", NULL, "{\"id\":123456}");
	ev[3] = mkev(TRIB_OP_UPDATE, NULL, "{\"id\":1,\"small\":\"s\"}", "{\"id\":1}");
	ev[3]->unchanged = strdup("[\"big\",\"doc\"]");

	t0 = mono_ns();
	for (long i = 0; i < count; i++)
	{
		trib_event *e = ev[i & 3];
		size_t		n;
		char		err[128];
		const trib_record *r;

		e->pos.seq = (uint64_t) i;
		r = trib_envelope_encode(env, e, &n, err, sizeof(err));
		if (r == NULL)
			fail_msg("encode: %s", err);
		bytes += r[0].value_len;
	}
	t1 = mono_ns();
	if (count > 0)
		print_message("envelope: %ld events in %.1f ms: %.0f ns/event, "
					  "%.0f bytes/event on average\n",
					  count, (double) (t1 - t0) / 1e6,
					  (double) (t1 - t0) / (double) count,
					  (double) bytes / (double) count);
	for (int i = 0; i < 4; i++)
		trib_event_free(ev[i]);
	trib_envelope_free(env);
}

/* Debezium mode for the source-head test. */
static void
tweak_debezium(trib_envelope_opts *o)
{
	static trib_dbz_opts dbz;

	trib_dbz_opts_init(&dbz);
	o->debezium = &dbz;
}

/*
 * The source block's members up to "db" are kept from one event to the
 * next (envelope.c, write_source_head): each event of a run whose
 * connector, db, instant and snapshot state change from one to the next
 * is encoded as a fresh envelope encodes it, in both formats.
 */
static void
test_source_head_follows_each_event(void **state)
{
	static const char *const connectors[] = {"postgresql", NULL, "mysql"};
	static const char *const dbs[] = {"shop", "crm", NULL};
	static const int64_t ts[] = {1700000000123LL, 1700000000124LL, 0};

	(void) state;
	for (int mode = 0; mode < 2; mode++)
	{
		void		(*tweak) (trib_envelope_opts *) = mode ? tweak_debezium : NULL;
		trib_envelope *kept = mkenv(tweak);

		for (int i = 0; i < 60; i++)
		{
			trib_event *ev = mkev(TRIB_OP_CREATE, NULL, "{\"id\":7}", "{\"id\":7}");
			trib_envelope *fresh = mkenv(tweak);
			const trib_record *a,
					   *b;
			size_t		na,
						nb;
			char	   *want;

			ev->connector = connectors[(i / 2) % 3];
			ev->db = dbs[(i / 3) % 3];
			ev->ts_ms = ts[(i / 5) % 3];
			ev->ts_us = i % 7 == 0 ? ev->ts_ms * 1000 + 456 : 0;
			ev->snapshot = i % 4 >= 2;
			ev->last_in_tx = i % 8 >= 6;
			ev->pos.lsn += (uint64_t) i;
			b = encode(fresh, ev, &nb);
			want = strndup(b[0].value, b[0].value_len);
			a = encode(kept, ev, &na);
			assert_int_equal(na, nb);
			assert_text(a[0].value, a[0].value_len, want);
			free(want);
			trib_envelope_free(fresh);
			trib_event_free(ev);
		}
		trib_envelope_free(kept);
	}
}

/* Every name in the topic, for the names test. */
static void
tweak_all_names(trib_envelope_opts *o)
{
	o->topic_pattern = "${prefix}.${source}.${db}.${schema}.${table}";
}

/*
 * Event i of the names test: mostly inserts and deletes; among them a
 * routed insert (its topic from the router, its source block's names from
 * the memo), a message (no schema or table) and a truncate of two tables
 * in one event (the names change between its records).
 */
static trib_event *
names_event(int i)
{
	trib_event *ev;

	if (i % 11 == 10)
	{
		ev = mkev(TRIB_OP_MESSAGE, NULL, NULL, NULL);
		ev->extra = strdup("{\"transactional\":true,\"prefix\":\"app\","
						   "\"encoding\":\"utf8\",\"content\":\"x\"}");
		return ev;
	}
	if (i % 13 == 12)
	{
		ev = mkev(TRIB_OP_TRUNCATE, NULL, NULL, NULL);
		ev->extra = strdup("{\"relations\":[{\"schema\":\"public\",\"table\":\"orders\"},"
						   "{\"schema\":\"sales\",\"table\":\"orders\"}]}");
		return ev;
	}
	ev = mkev(i % 5 == 4 ? TRIB_OP_DELETE : TRIB_OP_CREATE,
			  i % 5 == 4 ? "{\"id\":7}" : NULL,
			  i % 5 == 4 ? NULL : "{\"id\":7}", "{\"id\":7}");
	if (i % 7 == 3)
		ev->topic = strdup("routed.orders");
	return ev;
}

/*
 * The names a record is written for are kept with what they rendered to
 * (envelope.c, name_memo_for, checked once per record for both: the
 * topic, the source block's schema and table): each event of a run whose
 * source, db, schema and table change from one to the next (NULL among
 * them, and names that only share a prefix; routed topics, messages and
 * truncates of two tables among the rows) gets the topics and values a
 * fresh envelope writes, under the default pattern and one that names
 * all of them, and in Debezium mode.  The source block's sequence, whose
 * first LSN is kept while it repeats (write_sequence), is checked the
 * same way over commit LSNs that change, 0 among them, and so is its txId,
 * kept with the schema and table (write_names_txid), over txids that
 * repeat and change apart from the names, 0 (null) among them.
 */
static void
test_names_follow_each_event(void **state)
{
	static const char *const sources[] = {"pg1", "pg2", NULL};
	static const char *const dbs[] = {"shop", NULL, "shop2"};
	static const char *const schemas[] = {"public", NULL, "public", "pub"};
	static const char *const tables[] = {"orders", "orders_x", "order", "caf\xc3\xa9"};
	void		(*tweaks[]) (trib_envelope_opts *) = {NULL, tweak_all_names, tweak_debezium};

	(void) state;
	for (size_t mode = 0; mode < sizeof(tweaks) / sizeof(tweaks[0]); mode++)
	{
		trib_envelope *kept = mkenv(tweaks[mode]);

		for (int i = 0; i < 96; i++)
		{
			trib_event *ev = names_event(i);
			trib_envelope *fresh = mkenv(tweaks[mode]);
			const trib_record *a,
					   *b;
			size_t		na,
						nb;

			ev->source = sources[(i / 7) % 3];
			ev->db = dbs[(i / 5) % 3];
			if (ev->op != TRIB_OP_MESSAGE && ev->extra == NULL)
			{
				ev->schema = schemas[(i / 3) % 4];
				ev->table = tables[(i / 2) % 4];
			}
			else
				ev->schema = ev->table = NULL;
			/* the source block's sequence and lsn: the commit LSN (and the
			 * one before, in Debezium mode) repeat over runs, 0 among them */
			ev->pos.commit_lsn = (i / 6) % 4 == 3 ? 0 : 0x1A4F2C8 + (uint64_t) (i / 6) * 0x1000;
			ev->prev_commit_lsn = (i / 4) % 5 == 4 ? 0 : 0x1A3F2C8 + (uint64_t) (i / 4) * 0x1000;
			ev->pos.lsn = i % 9 == 8 ? 0 : 0x1A4F1B0 + (uint64_t) i * 0x58;
			/* txId, kept with the names: runs of four that start at odd i,
			 * where the names mostly repeat (i = 1, 9, 13, ...: only the
			 * txId changes; i = 11: both repeat), 0 (null) and longer
			 * digits among them */
			ev->txid = (i + 3) / 4 % 6 == 5 ? 0 : 740 + (uint64_t) ((i + 3) / 4 % 3) * 99999999;
			b = encode(fresh, ev, &nb);
			a = encode(kept, ev, &na);
			assert_int_equal(na, nb);
			if (ev->op == TRIB_OP_TRUNCATE)	/* the second table's names */
				assert_non_null(strstr(a[1].value,
									   "\"schema\":\"sales\",\"table\":\"orders\""));
			for (size_t r = 0; r < na; r++)
			{
				assert_string_equal(a[r].topic, b[r].topic);
				assert_int_equal(a[r].value_len, b[r].value_len);
				if (b[r].value != NULL)
				{
					char	   *want = strndup(b[r].value, b[r].value_len);

					assert_text(a[r].value, a[r].value_len, want);
					free(want);
				}
			}
			trib_envelope_free(fresh);
			trib_event_free(ev);
		}
		trib_envelope_free(kept);
	}
}

/* A clock that steps through ticks[], one reading per encode. */
static const int64_t ticks[] = {
	1700000001000LL, 1700000001000LL, 1700000001001LL, 1700000001001LL,
	999, 999, 1000, 0, -5, -5, 1700000001001LL, 999999999999LL,
	1700000001000LL,
};
static size_t tick;

static int64_t
stepping_clock(void)
{
	return ticks[tick++ % (sizeof(ticks) / sizeof(ticks[0]))];
}

/* The clock, and Debezium mode, for the ts_ms test. */
static void
tweak_stepping_clock(trib_envelope_opts *o)
{
	o->clock_ms = stepping_clock;
}

static void
tweak_stepping_clock_dbz(trib_envelope_opts *o)
{
	tweak_debezium(o);
	o->clock_ms = stepping_clock;
}

/*
 * A record's ts_ms is its encode's clock reading, kept as text while the
 * millisecond repeats (envelope.c, eb_now): each of a run of readings that
 * repeat and change (in length and sign too) shows in its record, in the
 * default format and in Debezium mode (with ts_us, ts_ns).
 */
static void
test_ts_ms_follows_clock(void **state)
{
	void		(*tweaks[]) (trib_envelope_opts *) = {tweak_stepping_clock, tweak_stepping_clock_dbz};

	(void) state;
	for (size_t mode = 0; mode < 2; mode++)
	{
		trib_envelope *env = mkenv(tweaks[mode]);

		tick = 0;
		for (size_t i = 0; i < 2 * sizeof(ticks) / sizeof(ticks[0]); i++)
		{
			trib_event *ev = mkev(TRIB_OP_CREATE, NULL, "{\"id\":7}", "{\"id\":7}");
			int64_t		want = ticks[i % (sizeof(ticks) / sizeof(ticks[0]))];
			char		text[64];
			size_t		n;
			const trib_record *r = encode(env, ev, &n);

			snprintf(text, sizeof(text), "\"op\":\"c\",\"ts_ms\":%lld%s",
					 (long long) want, mode == 0 ? "," : ",\"ts_us\":");
			if (strstr(r[0].value, text) == NULL)
				fail_msg("record %zu: expected %s in:\n%s", i, text, r[0].value);
			trib_event_free(ev);
		}
		trib_envelope_free(env);
	}
}

/* The clock of test_ts_wider_than_int64. */
static int64_t
far_clock(void)
{
	return 99999999999999LL;	/* ms: its ns do not fit an int64 */
}

static void
tweak_far_clock_dbz(trib_envelope_opts *o)
{
	tweak_debezium(o);
	o->clock_ms = far_clock;
}

/*
 * Debezium mode's ts_us and ts_ns are the exact products of the ms
 * reading, also past an int64 (envelope.c, eb_x1000; once a signed
 * overflow that UBSan reports).
 */
static void
test_ts_wider_than_int64(void **state)
{
	trib_envelope *env = mkenv(tweak_far_clock_dbz);
	trib_event *ev = mkev(TRIB_OP_CREATE, NULL, "{\"id\":7}", "{\"id\":7}");
	size_t		n;
	const trib_record *r = encode(env, ev, &n);
	const char *want = "\"ts_ms\":99999999999999,\"ts_us\":99999999999999000,"
		"\"ts_ns\":99999999999999000000";

	(void) state;
	if (strstr(r[0].value, want) == NULL)
		fail_msg("expected %s in:\n%s", want, r[0].value);
	trib_event_free(ev);
	/* a source's ts_ms without ts_us whose us do not fit an int64 either
	 * (once ms * 1000 in eb_ts: a signed overflow under UBSan, check-asan) */
	ev = mkev(TRIB_OP_CREATE, NULL, "{\"id\":7}", "{\"id\":7}");
	ev->ts_ms = 9300000000000000LL;
	ev->ts_us = 0;
	r = encode(env, ev, &n);
	want = "\"ts_ms\":9300000000000000,\"ts_us\":9300000000000000000,"
		"\"ts_ns\":9300000000000000000000";
	if (strstr(r[0].value, want) == NULL)
		fail_msg("expected %s in:\n%s", want, r[0].value);
	trib_event_free(ev);
	trib_envelope_free(env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_golden),
		cmocka_unit_test(test_update_golden),
		cmocka_unit_test(test_update_without_before),
		cmocka_unit_test(test_json_nulls_in_source),
		cmocka_unit_test(test_delete_and_tombstone),
		cmocka_unit_test(test_delete_without_tombstone),
		cmocka_unit_test(test_snapshot_read),
		cmocka_unit_test(test_truncate_one_table),
		cmocka_unit_test(test_truncate_relations),
		cmocka_unit_test(test_message_utf8),
		cmocka_unit_test(test_message_base64_non_transactional),
		cmocka_unit_test(test_message_base64_refused),
		cmocka_unit_test(test_message_content_bytes),
		cmocka_unit_test(test_numbers_lossless),
		cmocka_unit_test(test_unicode_and_escaping),
		cmocka_unit_test(test_control_characters_escaped),
		cmocka_unit_test(test_unchanged_toast_placeholder),
		cmocka_unit_test(test_unchanged_toast_omitted),
		cmocka_unit_test(test_unchanged_malformed),
		cmocka_unit_test(test_custom_placeholder_and_message_topic),
		cmocka_unit_test(test_transaction_metadata),
		cmocka_unit_test(test_transaction_metadata_many_tables),
		cmocka_unit_test(test_topic_naming),
		cmocka_unit_test(test_topic_pattern_errors),
		cmocka_unit_test(test_routed_topic),
		cmocka_unit_test(test_event_id_and_bad_op),
		cmocka_unit_test(test_source_without_lsn),
		cmocka_unit_test(test_source_own_members),
		cmocka_unit_test(test_source_head_follows_each_event),
		cmocka_unit_test(test_names_follow_each_event),
		cmocka_unit_test(test_ts_ms_follows_clock),
		cmocka_unit_test(test_ts_wider_than_int64),
		cmocka_unit_test(test_benchmark),
	};

	/* TEST_FILTER=pattern runs some tests only (cmocka's * and ? work) */
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
