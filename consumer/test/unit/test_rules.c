/*
 * test_rules.c: transform rules (rules.c, rules_conf.c, jsondoc.c).
 *
 * Each test loads a real pipeline YAML with trib_config_load_buffer, runs
 * events through trib_rules_apply and checks the row images, key, topic,
 * relation and verdict that come out.  Expected hashes are computed
 * independently here with OpenSSL's one-shot HMAC(), so a change to the
 * documented encoding (docs/TRANSFORMS.md) fails the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/hmac.h>

#include "config.h"
#include "event.h"
#include "jpath.h"
#include "jsondoc.h"
#include "rules.h"

#define HEAD \
	"pipeline: t\n" \
	"sources:\n  pg: {type: postgres, dsn: \"dbname=x\", snapshot: never}\n" \
	"sinks:\n  out: {type: stdout}\n  dlq: {type: file, path: /tmp/never-opened.jsonl}\n"

typedef struct fixture
{
	trib_config *cfg;
	trib_rules *rules;
	char		err[1024];
} fixture;

static void
load(fixture *f, const char *rules_yaml)
{
	char		yaml[8192];

	snprintf(yaml, sizeof(yaml), HEAD "%s", rules_yaml);
	if (!trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &f->cfg, f->err, sizeof(f->err)))
		fail_msg("config did not load: %s\n%s", f->err, yaml);
	f->rules = trib_rules_new(f->cfg, NULL, f->err, sizeof(f->err));
	assert_non_null(f->rules);
}

static void
unload(fixture *f)
{
	trib_rules_free(f->rules);
	trib_config_free(f->cfg);
}

static char *
dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static trib_column cols[] = {
	{.name = "id", .type = "integer", .pk = true},
	{.name = "email", .type = "text"},
	{.name = "card", .type = "character varying(19)"},
	{.name = "amount", .type = "numeric(12,2)"},
	{.name = "meta", .type = "jsonb"},
};
static trib_relation customers = {.schema = "public", .table = "customers",
.ncolumns = 5, .columns = cols, .version = 1};

static trib_event *
mkev(trib_op op, const char *table, const char *before, const char *after, const char *key)
{
	trib_event *ev = trib_event_new();

	ev->op = op;
	/* naming strings are borrowed (event.h): literals outlive the event */
	ev->source = "pg";
	ev->connector = "postgresql";
	ev->db = "shop";
	ev->schema = "public";
	ev->table = table;
	ev->before = dup(before);
	ev->after = dup(after);
	ev->key = dup(key);
	ev->rel = strcmp(table, "customers") == 0 ? &customers : NULL;
	return ev;
}

#define ROW1 "{\"id\":42,\"email\":\"ann.lee@corp.example\",\"card\":\"4111-1111-1111-1234\"," \
	"\"amount\":1234.50,\"meta\":{\"contact\":{\"phone\":\"+44 20 7946 0958\"},\"n\":123456789012345678901234567890}}"

static trib_verdict
run(fixture *f, trib_event *ev)
{
	return trib_rules_apply(f->rules, ev, f->err, sizeof(f->err));
}

/* ---- paths and documents -------------------------------------------------- */

static void
test_jsondoc_roundtrip_keeps_numbers(void **state)
{
	char		e[128];
	yajl_val	v = trib_jdoc_parse(ROW1, e, sizeof(e));
	char	   *out;

	(void) state;
	assert_non_null(v);
	out = trib_jdoc_dump(v);
	assert_string_equal(out, ROW1);
	free(out);
	yajl_tree_free(v);
}

static void
test_jpath_errors(void **state)
{
	trib_jpath	p;
	char		e[256];

	(void) state;
	assert_false(trib_jpath_parse("a..b", &p, e, sizeof(e)));
	assert_non_null(strstr(e, "empty segment"));
	assert_true(trib_jpath_parse("a\\.b.c", &p, e, sizeof(e)));
	assert_int_equal(p.nseg, 2);
	assert_string_equal(p.seg[0], "a.b");
	trib_jpath_free(&p);
}

/* ---- value rules ---------------------------------------------------------------- */

static void
test_redact_mask_keeps_length_in_characters(void **state)
{
	fixture		f = {0};
	trib_event *ev = mkev(TRIB_OP_CREATE, "customers", NULL,
						  "{\"id\":1,\"email\":\"\xc3\xa9l\xc3\xa8ve@x.fr\",\"card\":null}", "{\"id\":1}");

	(void) state;
	load(&f, "transforms:\n  - {type: redact, tables: [public.customers], fields: [email, card]}\n");
	assert_int_equal(run(&f, ev), TRIB_VERDICT_KEEP);
	/* "élève@x.fr" is 10 characters, 12 bytes; null stays null */
	assert_string_equal(ev->after, "{\"id\":1,\"email\":\"**********\",\"card\":null}");
	trib_event_free(ev);
	unload(&f);
}

static void
test_redact_null_value_and_nested(void **state)
{
	fixture		f = {0};
	trib_event *ev = mkev(TRIB_OP_UPDATE, "customers", ROW1, ROW1, "{\"id\":42}");

	(void) state;
	load(&f, "transforms:\n"
		 "  - {type: redact, fields: [meta.contact.phone], with: value, value: REDACTED}\n"
		 "  - {type: redact, fields: [amount], with: \"null\"}\n");
	assert_int_equal(run(&f, ev), TRIB_VERDICT_KEEP);
	assert_non_null(strstr(ev->after, "\"contact\":{\"phone\":\"REDACTED\"}"));
	assert_non_null(strstr(ev->after, "\"amount\":null"));
	assert_non_null(strstr(ev->before, "\"amount\":null"));
	/* untouched numbers keep every digit */
	assert_non_null(strstr(ev->after, "123456789012345678901234567890"));
	assert_null(strstr(ev->after, "7946"));
	trib_event_free(ev);
	unload(&f);
}

static void
test_partial(void **state)
{
	fixture		f = {0};
	trib_event *ev = mkev(TRIB_OP_CREATE, "customers", NULL, ROW1, "{\"id\":42}");

	(void) state;
	load(&f, "transforms:\n"
		 "  - {type: partial, fields: [card], keep_last: 4, mask_char: X}\n"
		 "  - {type: partial, fields: [email], keep_email_domain: true}\n");
	assert_int_equal(run(&f, ev), TRIB_VERDICT_KEEP);
	assert_non_null(strstr(ev->after, "\"card\":\"XXXXXXXXXXXXXXX1234\""));
	assert_non_null(strstr(ev->after, "\"email\":\"*******@corp.example\""));
	trib_event_free(ev);
	unload(&f);
}

/*
 * The exact output of redact and partial, value kind by value kind: every
 * scalar kind, null, empty and multi-byte strings, nested objects and
 * arrays, too-short values, e-mails with and without '@', and the key.
 */
/* One insert (after, key) through one rule kept, with this output. */
static void
assert_rule_output(const char *rule, const char *after, const char *key,
				   const char *want_after, const char *want_key)
{
	fixture		f = {0};
	char		yaml[512];
	trib_event *ev = mkev(TRIB_OP_CREATE, "t", NULL, after, key);

	snprintf(yaml, sizeof(yaml), "transforms:\n  - %s\n", rule);
	load(&f, yaml);
	assert_int_equal(run(&f, ev), TRIB_VERDICT_KEEP);
	assert_string_equal(ev->after, want_after);
	if (want_key != NULL)
		assert_string_equal(ev->key, want_key);
	trib_event_free(ev);
	unload(&f);
}

static void
test_redact_output_by_value_kind(void **state)
{
	static const char *row = "{\"s\":\"Jos\xc3\xa9\",\"n\":12.50,\"b\":true,\"z\":null,\"e\":\"\","
		"\"o\":{\"x\":\"ab\",\"y\":[1,null,false],\"w\":{\"v\":\"\xc3\xbc\"}},\"a\":[\"xy\",{\"k\":\"l\"}]}";
	static const struct
	{
		const char *rule;
		const char *after;
		const char *key;
	}			cases[] = {
		{"{type: redact, fields: [s, n, b, z, e, o, a]}",
			"{\"s\":\"****\",\"n\":\"*****\",\"b\":\"****\",\"z\":null,\"e\":\"\","
			"\"o\":{\"x\":\"**\",\"y\":[\"*\",null,\"*****\"],\"w\":{\"v\":\"*\"}},\"a\":[\"**\",{\"k\":\"*\"}]}",
		"{\"s\":\"****\",\"n\":\"*****\"}"},
		{"{type: redact, fields: [s, n, b, z, e, o, a], length: 3, mask_char: \"\xe2\x80\xa2\"}",
			"{\"s\":\"\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\",\"n\":\"\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\","
			"\"b\":\"\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\",\"z\":null,\"e\":\"\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\","
			"\"o\":{\"x\":\"\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\",\"y\":[\"\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\",null,"
			"\"\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\"],\"w\":{\"v\":\"\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\"}},"
			"\"a\":[\"\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\",{\"k\":\"\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\"}]}",
		"{\"s\":\"\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\",\"n\":\"\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\"}"},
		{"{type: redact, fields: [s, z, o, a], with: value, value: R}",
			"{\"s\":\"R\",\"n\":12.50,\"b\":true,\"z\":\"R\",\"e\":\"\",\"o\":\"R\",\"a\":\"R\"}",
		"{\"s\":\"R\",\"n\":12.50}"},
		{"{type: redact, fields: [s, o, \"o.x\"], with: \"null\"}",
			"{\"s\":null,\"n\":12.50,\"b\":true,\"z\":null,\"e\":\"\",\"o\":null,"
			"\"a\":[\"xy\",{\"k\":\"l\"}]}",
		"{\"s\":null,\"n\":12.50}"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_rule_output(cases[i].rule, row, "{\"s\":\"Jos\xc3\xa9\",\"n\":12.50}",
						   cases[i].after, cases[i].key);
}

static void
test_partial_output_by_value_kind(void **state)
{
	static const struct
	{
		const char *rule;
		const char *after_in;
		const char *after_out;
	}			cases[] = {
		/* too short to keep 2 + 2 and hide something: all masked */
		{"{type: partial, fields: [a, b, c, d, e, f, g], keep_first: 2, keep_last: 2}",
			"{\"a\":\"abcd\",\"b\":\"abcde\",\"c\":\"Zo\xc3\xab \xc3\x91" "and\xc3\xba\",\"d\":1234567,"
			"\"e\":true,\"f\":null,\"g\":\"\"}",
			"{\"a\":\"****\",\"b\":\"ab*de\",\"c\":\"Zo*****d\xc3\xba\",\"d\":\"12***67\","
		"\"e\":\"****\",\"f\":null,\"g\":\"\"}"},
		/* the local part is masked whole; without '@', keep_last applies */
		{"{type: partial, fields: [a, b, c, d], keep_email_domain: true, keep_last: 2, mask_char: \"#\"}",
			"{\"a\":\"alice.smith@corp.example.com\",\"b\":\"a@b@c.org\",\"c\":\"no-at-sign\",\"d\":\"@x\"}",
		"{\"a\":\"###########@corp.example.com\",\"b\":\"###@c.org\",\"c\":\"########gn\",\"d\":\"@x\"}"},
		/* nested paths and array elements */
		{"{type: partial, fields: [m.card, l.n], keep_last: 4}",
			"{\"m\":{\"card\":\"4111111111111234\"},\"l\":[{\"n\":\"123456\"},{\"n\":7}]}",
		"{\"m\":{\"card\":\"************1234\"},\"l\":[{\"n\":\"**3456\"},{\"n\":\"*\"}]}"},
		/* keep_separators: punctuation and spaces stay and do not count */
		{"{type: partial, fields: [a, b, c], keep_last: 4, keep_separators: true}",
			"{\"a\":\"4111-1111-1111-1234\",\"b\":\"+47 412 34 567\",\"c\":\"12-3\"}",
		"{\"a\":\"****-****-****-1234\",\"b\":\"+** *** *4 567\",\"c\":\"**-*\"}"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_rule_output(cases[i].rule, cases[i].after_in, NULL, cases[i].after_out, NULL);
	/* an object or array cannot be partially masked: a dead letter */
	{
		fixture		f = {0};
		trib_event *ev = mkev(TRIB_OP_CREATE, "t", NULL, "{\"o\":{\"x\":\"secret\"}}", NULL);

		load(&f, "dead_letter: dlq\ntransforms:\n  - {type: partial, name: p1, fields: [o], keep_last: 4}\n");
		assert_int_equal(run(&f, ev), TRIB_VERDICT_DEAD_LETTER);
		assert_string_equal(ev->error, "partial needs a string or number, not an object or "
							"array (partial rule p1, field o)");
		trib_event_free(ev);
		unload(&f);
	}
}

/* The documented hash input (mask_hash.h):
 * HMAC(key, "tributary.hash.v1" 0x00 || BE32(len ctx) || ctx || value). */
static void
expected_hmac_hex(const char *key, const char *ctx, const char *value, char out[65])
{
	unsigned char msg[512];
	size_t		cl = strlen(ctx);
	size_t		vl = strlen(value);
	unsigned char d[32];
	unsigned int dl = 0;
	size_t		pl = sizeof("tributary.hash.v1");	/* with its NUL */

	memcpy(msg, "tributary.hash.v1", pl);
	msg[pl + 0] = (unsigned char) (cl >> 24);
	msg[pl + 1] = (unsigned char) (cl >> 16);
	msg[pl + 2] = (unsigned char) (cl >> 8);
	msg[pl + 3] = (unsigned char) cl;
	memcpy(msg + pl + 4, ctx, cl);
	memcpy(msg + pl + 4 + cl, value, vl);
	HMAC(EVP_sha256(), key, (int) strlen(key), msg, pl + 4 + cl + vl, d, &dl);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void
test_hash_deterministic_with_context_and_key_column(void **state)
{
	fixture		f = {0};
	trib_event *a = mkev(TRIB_OP_CREATE, "customers", NULL,
						 "{\"id\":42,\"email\":\"ann@x.org\"}", "{\"email\":\"ann@x.org\"}");
	trib_event *b = mkev(TRIB_OP_CREATE, "orders", NULL,
						 "{\"id\":7,\"buyer\":\"ann@x.org\"}", "{\"id\":7}");
	char		hex[65];
	char		want[128];

	(void) state;
	setenv("TEST_RULES_KEY", "0123456789abcdef0123", 1);
	load(&f, "transforms:\n"
		 "  - {type: hash, tables: [customers], fields: [email], key: \"${TEST_RULES_KEY}\", key_format: raw, context: email}\n"
		 "  - {type: hash, tables: [orders], fields: [buyer], key: \"${TEST_RULES_KEY}\", key_format: raw, context: email}\n");
	assert_int_equal(run(&f, a), TRIB_VERDICT_KEEP);
	assert_int_equal(run(&f, b), TRIB_VERDICT_KEEP);
	expected_hmac_hex("0123456789abcdef0123", "email", "ann@x.org", hex);
	snprintf(want, sizeof(want), "\"email\":\"%s\"", hex);
	assert_non_null(strstr(a->after, want));
	/* the key column is masked the same way, so the key still matches */
	assert_non_null(strstr(a->key, want));
	/* the same context in another table: the join still matches */
	snprintf(want, sizeof(want), "\"buyer\":\"%s\"", hex);
	assert_non_null(strstr(b->after, want));
	assert_null(strstr(a->after, "ann@x.org"));
	trib_event_free(a);
	trib_event_free(b);
	unload(&f);
}

static void
test_hash_default_context_is_field_and_truncation(void **state)
{
	fixture		f = {0};
	trib_event *ev = mkev(TRIB_OP_CREATE, "t", NULL, "{\"phone\":\"555-0100\"}", NULL);
	char		hex[65];
	char		want[128];

	(void) state;
	setenv("TEST_RULES_KEY", "0123456789abcdef0123", 1);
	load(&f, "transforms:\n"
		 "  - {type: hash, fields: [phone], key: \"${TEST_RULES_KEY}\", key_format: raw, length: 12}\n");
	assert_int_equal(run(&f, ev), TRIB_VERDICT_KEEP);
	expected_hmac_hex("0123456789abcdef0123", "phone", "555-0100", hex);
	hex[12] = '\0';
	snprintf(want, sizeof(want), "{\"phone\":\"%s\"}", hex);
	assert_string_equal(ev->after, want);
	trib_event_free(ev);
	unload(&f);
}

/* ---- shape rules ----------------------------------------------------------------- */

static void
test_drop_keep_rename_and_derived_relation(void **state)
{
	fixture		f = {0};
	trib_event *ev = mkev(TRIB_OP_UPDATE, "customers", ROW1, ROW1, "{\"id\":42}");
	trib_event *ev2 = mkev(TRIB_OP_CREATE, "customers", NULL, ROW1, "{\"id\":42}");

	(void) state;
	load(&f, "transforms:\n"
		 "  - {type: drop, fields: [meta.contact]}\n"
		 "  - {type: keep, fields: [id, email, meta]}\n"
		 "  - {type: rename, renames: {email: contact_email}}\n"
		 "  - {type: hash, fields: [id], key: \"00112233445566778899aabbccddeeff\"}\n");
	assert_int_equal(run(&f, ev), TRIB_VERDICT_KEEP);
	assert_null(strstr(ev->after, "card"));
	assert_null(strstr(ev->after, "amount"));
	assert_null(strstr(ev->after, "contact\":"));
	assert_non_null(strstr(ev->after, "\"contact_email\":\"ann.lee@corp.example\""));
	assert_non_null(strstr(ev->before, "\"contact_email\""));
	/* the relation follows: id (now text), contact_email, meta */
	assert_ptr_not_equal(ev->rel, &customers);
	assert_int_equal(ev->rel->ncolumns, 3);
	assert_string_equal(ev->rel->columns[0].name, "id");
	assert_string_equal(ev->rel->columns[0].type, "text");
	assert_true(ev->rel->columns[0].pk);
	assert_string_equal(ev->rel->columns[1].name, "contact_email");
	assert_string_equal(ev->rel->columns[2].name, "meta");
	/* the source's relation is untouched, and the derived one is cached */
	assert_int_equal(customers.ncolumns, 5);
	assert_int_equal(run(&f, ev2), TRIB_VERDICT_KEEP);
	assert_ptr_equal(ev2->rel, ev->rel);
	trib_event_free(ev);
	trib_event_free(ev2);
	unload(&f);
}

/* The target relation of a table is known before any row, and is the one
 * its rows get; a rule whose shape depends on the rows makes it unknown. */
static void
test_target_relation_before_any_row(void **state)
{
	fixture		f = {0};
	trib_event *ev = mkev(TRIB_OP_READ, "customers", NULL, ROW1, "{\"id\":42}");
	const trib_relation *t;

	(void) state;
	load(&f, "transforms:\n"
		 "  - {type: drop, fields: [card]}\n"
		 "  - {type: hash, fields: [id], key: \"00112233445566778899aabbccddeeff\"}\n");
	t = trib_rules_target(f.rules, "pg", &customers);
	assert_non_null(t);
	assert_int_equal(t->ncolumns, 4);
	assert_string_equal(t->columns[0].type, "text");
	assert_string_equal(t->columns[2].name, "amount");
	assert_int_equal(run(&f, ev), TRIB_VERDICT_KEEP);
	assert_ptr_equal(ev->rel, t);
	trib_event_free(ev);
	unload(&f);

	load(&f, "transforms:\n"
		 "  - {type: sample, tables: [public.customers], percent: 0}\n"
		 "  - {type: redact, fields: [email], with: \"null\"}\n"
		 "  - {type: route, tables: [public.orders], lua: \"return 'x'\"}\n");
	assert_ptr_equal(trib_rules_target(f.rules, "pg", &customers), &customers);
	unload(&f);

	load(&f, "transforms:\n"
		 "  - {type: route, tables: [public.customers], lua: \"return 'x'\"}\n");
	assert_null(trib_rules_target(f.rules, "pg", &customers));
	unload(&f);
}

/* drop, keep and rename keep the event's column name lists (unchanged
 * TOAST, JSON nulls) in step with the images; value rules leave them. */
static void
test_shape_rules_keep_name_lists_in_step(void **state)
{
	fixture		f = {0};
	trib_event *ev = mkev(TRIB_OP_UPDATE, "docs",
						  "{\"id\":1,\"doc\":null,\"tags\":[null],\"gone\":null,\"note\":null}",
						  "{\"id\":1,\"doc\":null,\"tags\":[null],\"gone\":null}", "{\"id\":1}");
	trib_event *ev2 = mkev(TRIB_OP_CREATE, "docs", NULL, "{\"id\":2,\"note\":null}", "{\"id\":2}");

	(void) state;
	ev->unchanged = dup("[\"big\",\"secret\"]");
	ev->after_json_nulls = dup("[\"doc\",[\"tags\",0],\"gone\"]");
	ev->before_json_nulls = dup("[\"doc\",\"gone\",\"note\"]");
	ev2->after_json_nulls = dup("[\"note\"]");
	load(&f, "transforms:\n"
		 "  - {type: drop, fields: [gone, secret, doc.inner]}\n"
		 "  - {type: keep, fields: [id, doc, tags, big, note.x]}\n"
		 "  - {type: rename, renames: {doc: body, tags: labels, big: large}}\n"
		 "  - {type: redact, fields: [body], with: value, value: \"x\"}\n");
	assert_int_equal(run(&f, ev), TRIB_VERDICT_KEEP);
	assert_string_equal(ev->after, "{\"id\":1,\"body\":\"x\",\"labels\":[null]}");
	/* dropped columns leave the lists, renamed ones are renamed; a nested
	 * drop path (doc.inner) and a nested keep path (note.x) keep theirs */
	assert_string_equal(ev->unchanged, "[\"large\"]");
	assert_string_equal(ev->after_json_nulls, "[\"body\",[\"labels\",0]]");
	assert_string_equal(ev->before_json_nulls, "[\"body\",\"note\"]");
	/* a list that loses every entry is no list */
	unload(&f);
	load(&f, "transforms:\n  - {type: drop, fields: [note]}\n");
	assert_int_equal(run(&f, ev2), TRIB_VERDICT_KEEP);
	assert_null(ev2->after_json_nulls);
	trib_event_free(ev);
	trib_event_free(ev2);
	unload(&f);
}

static void
test_cast_and_dead_letter_without_images(void **state)
{
	fixture		f = {0};
	trib_event *ok = mkev(TRIB_OP_CREATE, "t", NULL, "{\"n\":\"17\",\"b\":\"t\"}", NULL);
	trib_event *bad = mkev(TRIB_OP_CREATE, "t", NULL, "{\"n\":\"seventeen\",\"b\":\"t\"}", "{\"n\":1}");

	(void) state;
	bad->after_json_nulls = dup("[\"j\"]");
	load(&f, "dead_letter: dlq\ntransforms:\n"
		 "  - {type: cast, fields: [n], to: integer}\n"
		 "  - {type: cast, fields: [b], to: boolean}\n");
	assert_int_equal(run(&f, ok), TRIB_VERDICT_KEEP);
	assert_string_equal(ok->after, "{\"n\":17,\"b\":true}");
	assert_int_equal(run(&f, bad), TRIB_VERDICT_DEAD_LETTER);
	assert_non_null(strstr(bad->error, "not an integer"));
	assert_non_null(strstr(bad->error, "field n"));
	/* the value itself never appears in the reason, and no images leave */
	assert_null(strstr(bad->error, "seventeen"));
	assert_null(bad->after);
	assert_null(bad->key);
	assert_null(bad->after_json_nulls);
	trib_event_free(ok);
	trib_event_free(bad);
	unload(&f);
}

/* ---- sample, route, flatten ---------------------------------------------------------- */

static void
test_sample_deterministic_and_consistent_across_tables(void **state)
{
	fixture		f = {0};
	int			kept = 0;

	(void) state;
	load(&f, "transforms:\n"
		 "  - {type: sample, tables: [customers], percent: 10}\n"
		 "  - {type: sample, tables: [orders], percent: 10, by: customer_id}\n");
	for (int i = 1; i <= 5000; i++)
	{
		char		row[128];
		char		key[64];
		char		orow[128];
		trib_event *c;
		trib_event *o;
		trib_verdict vc;
		trib_verdict vo;

		snprintf(row, sizeof(row), "{\"id\":%d,\"email\":\"u%d@x\"}", i, i);
		snprintf(key, sizeof(key), "{\"id\":%d}", i);
		snprintf(orow, sizeof(orow), "{\"id\":%d,\"customer_id\":%d}", 100000 + i, i);
		c = mkev(TRIB_OP_CREATE, "customers", NULL, row, key);
		o = mkev(TRIB_OP_CREATE, "orders", NULL, orow, "{\"id\":1}");
		vc = run(&f, c);
		vo = run(&f, o);
		/* an order is kept exactly when its customer is */
		assert_int_equal(vc, vo);
		kept += vc == TRIB_VERDICT_KEEP;
		/* and the decision does not change when asked again */
		trib_event_free(c);
		c = mkev(TRIB_OP_UPDATE, "customers", row, row, key);
		assert_int_equal(run(&f, c), vc);
		trib_event_free(c);
		trib_event_free(o);
	}
	/* 10% of 5000 = 500; binomial sd ~21 */
	assert_in_range(kept, 400, 600);
	unload(&f);
}

static void
test_route_template(void **state)
{
	fixture		f = {0};
	trib_event *ev = mkev(TRIB_OP_CREATE, "orders", NULL,
						  "{\"id\":1,\"region\":\"eu\",\"x\":{\"y\":\"z\"}}", "{\"id\":1}");
	trib_event *missing = mkev(TRIB_OP_CREATE, "orders", NULL, "{\"id\":2}", "{\"id\":2}");

	(void) state;
	load(&f, "dead_letter: dlq\ntransforms:\n"
		 "  - {type: route, tables: [orders], topic: \"${table}.${after.region}.${after.x.y}\"}\n");
	assert_int_equal(run(&f, ev), TRIB_VERDICT_KEEP);
	assert_string_equal(ev->topic, "orders.eu.z");
	assert_int_equal(run(&f, missing), TRIB_VERDICT_DEAD_LETTER);
	assert_non_null(strstr(missing->error, "route rule"));
	trib_event_free(ev);
	trib_event_free(missing);
	unload(&f);
}

/*
 * A route whose topic template reads a field that a later masking rule
 * masks is refused: the topic (Kafka topic names, metrics labels, every
 * record's topic) used to carry the clear value.  After the masking rule
 * it reads the masked value; a masking rule of other tables, or on
 * another field, does not stand in its way.
 */
static void
test_route_before_mask_refused(void **state)
{
	fixture		f = {0};
	trib_config *cfg;
	trib_event *ev = mkev(TRIB_OP_CREATE, "customers", NULL, ROW1, "{\"id\":42}");
	char		yaml[2048];
	const char *refused[] = {
		"  - {type: route, topic: \"c.${after.email}\"}\n"
		"  - {type: redact, name: m, fields: [email]}\n",
		"  - {type: route, tables: [customers], topic: \"c.${after.meta}\"}\n"
		"  - {type: hash, name: m, tables: [public.cust*], fields: [meta.contact.phone], key: \"0123456789abcdef\", key_format: raw}\n",
		"  - {type: route, topic: \"c.${key.id}\"}\n"
		"  - {type: tokenize, name: m, fields: [\"i*\"], key: \"00112233445566778899aabbccddeeff\"}\n",
	};

	(void) state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
	{
		snprintf(yaml, sizeof(yaml), HEAD "transforms:\n%s", refused[i]);
		if (!trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, f.err, sizeof(f.err)))
			fail_msg("config did not load: %s", f.err);
		assert_null(trib_rules_new(cfg, NULL, f.err, sizeof(f.err)));
		if (strstr(f.err, "rule m masks after it") == NULL)
			fail_msg("case %zu: %s", i, f.err);
		trib_config_free(cfg);
	}
	load(&f, "transforms:\n"
		 "  - {type: redact, fields: [email]}\n"
		 "  - {type: route, tables: [public.customers], topic: \"c.${after.email}.${after.amount}\"}\n"
		 "  - {type: redact, tables: [orders], fields: [amount]}\n"
		 "  - {type: redact, fields: [card]}\n");
	assert_int_equal(run(&f, ev), TRIB_VERDICT_KEEP);
	assert_string_equal(ev->topic, "c.********************.1234.50");
	trib_event_free(ev);
	unload(&f);
	/* $$ is a literal $: "$${after.email}" reads no field */
	ev = mkev(TRIB_OP_CREATE, "customers", NULL, ROW1, "{\"id\":42}");
	load(&f, "transforms:\n"
		 "  - {type: route, topic: \"c.$${after.email}.$$$${after.id}\"}\n"
		 "  - {type: redact, fields: [email, id]}\n");
	assert_int_equal(run(&f, ev), TRIB_VERDICT_KEEP);
	assert_string_equal(ev->topic, "c.${after.email}.$${after.id}");
	trib_event_free(ev);
	unload(&f);
}

static void
test_flatten_deletes(void **state)
{
	fixture		f = {0};
	trib_event *c = mkev(TRIB_OP_CREATE, "t", NULL, "{\"id\":1}", "{\"id\":1}");
	trib_event *d = mkev(TRIB_OP_DELETE, "t", "{\"id\":1,\"v\":2}", NULL, "{\"id\":1}");
	trib_event *d2 = mkev(TRIB_OP_DELETE, "u", "{\"id\":1}", NULL, "{\"id\":1}");
	trib_event *d3 = mkev(TRIB_OP_DELETE, "w", "{\"id\":1}", NULL, "{\"id\":1}");

	(void) state;
	load(&f, "transforms:\n"
		 "  - {type: flatten, tables: [t], deletes: rewrite}\n"
		 "  - {type: flatten, tables: [u], deletes: tombstone}\n"
		 "  - {type: flatten, tables: [w]}\n");
	assert_int_equal(run(&f, c), TRIB_VERDICT_KEEP);
	assert_int_equal(c->flatten, TRIB_FLAT_ROW);
	assert_string_equal(c->after, "{\"id\":1,\"__deleted\":\"false\"}");
	assert_int_equal(run(&f, d), TRIB_VERDICT_KEEP);
	assert_string_equal(d->after, "{\"id\":1,\"v\":2,\"__deleted\":\"true\"}");
	assert_int_equal(run(&f, d2), TRIB_VERDICT_KEEP);
	assert_int_equal(d2->flatten, TRIB_FLAT_TOMBSTONE);
	assert_int_equal(run(&f, d3), TRIB_VERDICT_DROP);
	trib_event_free(c);
	trib_event_free(d);
	trib_event_free(d2);
	trib_event_free(d3);
	unload(&f);
}

/* ---- quality ---------------------------------------------------------------------------- */

static void
test_quality_actions(void **state)
{
	fixture		f = {0};
	trib_event *good = mkev(TRIB_OP_CREATE, "t", NULL,
							"{\"id\":1,\"status\":\"paid\",\"amount\":5,\"email\":\"a@b\"}", "{\"id\":1}");
	trib_event *tagged = mkev(TRIB_OP_CREATE, "t", NULL,
							  "{\"id\":2,\"status\":\"lost\",\"amount\":5,\"email\":\"a@b\"}", "{\"id\":2}");
	trib_event *dropped = mkev(TRIB_OP_CREATE, "t", NULL,
							   "{\"id\":3,\"status\":\"paid\",\"amount\":500,\"email\":\"a@b\"}", "{\"id\":3}");
	trib_event *dead = mkev(TRIB_OP_CREATE, "t", NULL,
							"{\"id\":4,\"status\":\"paid\",\"amount\":5}", "{\"id\":4}");
	trib_event *fail = mkev(TRIB_OP_CREATE, "t", NULL,
							"{\"id\":\"x\",\"status\":\"paid\",\"amount\":5,\"email\":\"a@b\"}", "{\"id\":5}");

	(void) state;
	load(&f, "dead_letter: dlq\ntransforms:\n"
		 "  - {type: quality, name: status_ok, fields: [status], check: allowed, values: [paid, open], action: tag}\n"
		 "  - {type: quality, fields: [amount], check: range, min: 0, max: 100, action: drop}\n"
		 "  - {type: quality, fields: [email], check: not_null}\n"
		 "  - {type: quality, name: id_int, fields: [id], check: type, expect: integer, action: fail}\n");
	assert_int_equal(run(&f, good), TRIB_VERDICT_KEEP);
	assert_null(good->tags);
	assert_int_equal(run(&f, tagged), TRIB_VERDICT_KEEP);
	assert_string_equal(tagged->tags, "[\"status_ok\"]");
	assert_int_equal(run(&f, dropped), TRIB_VERDICT_DROP);
	assert_int_equal(run(&f, dead), TRIB_VERDICT_DEAD_LETTER);
	assert_non_null(strstr(dead->error, "field email is missing"));
	assert_int_equal(run(&f, fail), TRIB_VERDICT_FAIL);
	assert_non_null(strstr(f.err, "id_int"));
	trib_event_free(good);
	trib_event_free(tagged);
	trib_event_free(dropped);
	trib_event_free(dead);
	trib_event_free(fail);
	unload(&f);
}

static void
test_quality_unique_within_batch(void **state)
{
	fixture		f = {0};
	const char *row = "{\"id\":1,\"code\":\"A\"}";
	trib_event *a = mkev(TRIB_OP_CREATE, "t", NULL, row, NULL);
	trib_event *b = mkev(TRIB_OP_CREATE, "t", NULL, row, NULL);
	trib_event *c = mkev(TRIB_OP_CREATE, "t", NULL, row, NULL);

	(void) state;
	load(&f, "transforms:\n  - {type: quality, fields: [code], check: unique, action: drop}\n");
	assert_int_equal(run(&f, a), TRIB_VERDICT_KEEP);
	assert_int_equal(run(&f, b), TRIB_VERDICT_DROP);
	trib_rules_batch_end(f.rules);
	assert_int_equal(run(&f, c), TRIB_VERDICT_KEEP);
	trib_event_free(a);
	trib_event_free(b);
	trib_event_free(c);
	unload(&f);
}

/*
 * A MongoDB update's updatedFields are masked like the images: a key
 * "profile.<name>" is under a rule on `profile` whatever the name's
 * length (a key over 1,023 bytes used to pass unmasked).
 */
static void
test_mask_update_desc_long_keys(void **state)
{
	fixture		f = {0};
	trib_event *ev = mkev(TRIB_OP_UPDATE, "t", NULL, "{\"id\":1}", "{\"id\":1}");
	char		longname[1500];
	char		extra[2048];

	(void) state;
	memset(longname, 'k', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	snprintf(extra, sizeof(extra), "{\"updateDescription\":{\"updatedFields\":"
			 "{\"profile.ssn\":\"123-45-6789\",\"profile.%s\":\"SECRET\","
			 "\"other\":\"kept\"}}}", longname);
	ev->extra = strdup(extra);
	load(&f, "transforms:\n  - {type: redact, fields: [profile]}\n");
	assert_int_equal(run(&f, ev), TRIB_VERDICT_KEEP);
	assert_null(strstr(ev->extra, "123-45-6789"));
	assert_null(strstr(ev->extra, "SECRET"));
	assert_non_null(strstr(ev->extra, "\"******\""));
	assert_non_null(strstr(ev->extra, "\"other\":\"kept\""));
	trib_event_free(ev);
	unload(&f);
	/* drop removes such a key too */
	ev = mkev(TRIB_OP_UPDATE, "t", NULL, "{\"id\":1}", "{\"id\":1}");
	ev->extra = strdup(extra);
	load(&f, "transforms:\n  - {type: drop, fields: [profile]}\n");
	assert_int_equal(run(&f, ev), TRIB_VERDICT_KEEP);
	assert_null(strstr(ev->extra, "SECRET"));
	assert_null(strstr(ev->extra, "profile"));
	trib_event_free(ev);
	unload(&f);
}

/*
 * A masked field inside a MongoDB document key is masked there too: a
 * compound _id ({"_id":{"email":...}}) and a sharded collection's
 * documentKey, which names a nested shard-key field with its dotted path
 * as one member ({"profile.email":...,"_id":1}).  The key used to take
 * top-level columns only and kept both in clear text.
 */
static void
test_mask_nested_fields_in_document_key(void **state)
{
	fixture		f = {0};
	trib_event *compound = mkev(TRIB_OP_UPDATE, "users", NULL,
								"{\"_id\":{\"email\":\"ann@corp.example\",\"n\":1},\"v\":2}",
								"{\"_id\":{\"email\":\"ann@corp.example\",\"n\":1}}");
	trib_event *sharded = mkev(TRIB_OP_DELETE, "users",
							   "{\"_id\":7,\"profile\":{\"email\":\"bob@corp.example\"}}", NULL,
							   "{\"profile.email\":\"bob@corp.example\",\"_id\":7}");

	(void) state;
	compound->connector = sharded->connector = "mongodb";
	load(&f, "transforms:\n  - {type: redact, fields: [_id.email, profile.email]}\n");
	assert_int_equal(run(&f, compound), TRIB_VERDICT_KEEP);
	assert_null(strstr(compound->after, "ann@"));
	assert_string_equal(compound->key, "{\"_id\":{\"email\":\"****************\",\"n\":1}}");
	assert_int_equal(run(&f, sharded), TRIB_VERDICT_KEEP);
	assert_null(strstr(sharded->before, "bob@"));
	assert_string_equal(sharded->key, "{\"profile.email\":\"****************\",\"_id\":7}");
	trib_event_free(compound);
	trib_event_free(sharded);
	unload(&f);
	/* a glob for the first segment reaches the dotted member too; a
	 * member spelled out by an escaped dot is masked once */
	sharded = mkev(TRIB_OP_DELETE, "users", NULL, NULL,
				   "{\"profile.email\":\"bob@corp.example\",\"a.b\":{\"c\":\"xy\"},\"_id\":7}");
	load(&f, "transforms:\n  - {type: redact, fields: [\"*.email\", \"a\\\\.b.c\"]}\n");
	assert_int_equal(run(&f, sharded), TRIB_VERDICT_KEEP);
	assert_string_equal(sharded->key, "{\"profile.email\":\"****************\","
						"\"a.b\":{\"c\":\"**\"},\"_id\":7}");
	trib_event_free(sharded);
	unload(&f);
}

/*
 * A dead-lettered MongoDB update carries no row data (dead_letter_images:
 * none): its updateDescription goes with the images.  The record used to
 * write updatedFields as the source sent them, so a field a later rule
 * would have masked reached the dead-letter sink in clear text.  A refusal
 * inside updatedFields names its field (it used to name freed memory).
 */
static void
test_dead_letter_drops_update_description(void **state)
{
	fixture		f = {0};
	trib_event *ev = mkev(TRIB_OP_UPDATE, "users", NULL,
						  "{\"_id\":1,\"profile\":{\"a\":1},\"ssn\":\"123-45-6789\"}",
						  "{\"_id\":1}");

	(void) state;
	ev->connector = "mongodb";
	ev->extra = strdup("{\"updateDescription\":{\"updatedFields\":"
					   "{\"ssn\":\"123-45-6789\",\"profile.a\":1},\"removedFields\":[]}}");
	load(&f, "dead_letter: dlq\ntransforms:\n"
		 "  - {type: partial, fields: [profile], keep_last: 1}\n"
		 "  - {type: redact, fields: [ssn]}\n");
	assert_int_equal(run(&f, ev), TRIB_VERDICT_DEAD_LETTER);
	assert_non_null(ev->error);
	assert_null(ev->after);
	assert_null(ev->key);
	assert_null(ev->extra);
	trib_event_free(ev);
	unload(&f);
	/* no post-image: the refusal is in updatedFields, whose tree is gone
	 * when the reason is written; it used to name freed memory */
	ev = mkev(TRIB_OP_UPDATE, "users", NULL, NULL, "{\"_id\":1}");
	ev->connector = "mongodb";
	ev->extra = strdup("{\"updateDescription\":{\"updatedFields\":"
					   "{\"profile.card\":{\"pan\":\"5500000000000004\"}}}}");
	load(&f, "dead_letter: dlq\ntransforms:\n"
		 "  - {type: partial, fields: [profile.card], keep_last: 4}\n");
	assert_int_equal(run(&f, ev), TRIB_VERDICT_DEAD_LETTER);
	assert_string_equal(ev->error, "partial needs a string or number, not an object or array "
						"(partial rule transforms[0], field profile.card)");
	assert_null(ev->extra);
	trib_event_free(ev);
	unload(&f);
}

/*
 * An update that leaves a TOASTed column alone carries it in neither
 * image, only in the event's unchanged list: the column is not null (nulls
 * are never TOASTed), so not_null passes it.  It used to read "is missing"
 * and dead-letter every such update (or stop the pipeline, action: fail).
 * A column that is absent without being unchanged still fails; a regex
 * over its match limit names the regex, not Lua.
 */
static void
test_quality_unchanged_toast_and_regex_limit(void **state)
{
	fixture		f = {0};
	trib_event *toast = mkev(TRIB_OP_UPDATE, "t", NULL, "{\"id\":1,\"n\":2}", "{\"id\":1}");
	trib_event *absent = mkev(TRIB_OP_UPDATE, "t", NULL, "{\"id\":1,\"n\":2}", "{\"id\":1}");
	trib_event *nested = mkev(TRIB_OP_UPDATE, "t", NULL, "{\"id\":1,\"n\":2}", "{\"id\":1}");
	trib_event *slow = mkev(TRIB_OP_CREATE, "t", NULL,
							"{\"id\":1,\"doc\":\"x\",\"meta\":{\"owner\":1},\"code\":"
							"\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\"}", NULL);

	(void) state;
	toast->unchanged = strdup("[\"doc\",\"meta\"]");
	absent->unchanged = strdup("[\"meta\"]");
	nested->unchanged = strdup("[\"doc\"]");
	load(&f, "dead_letter: dlq\ntransforms:\n"
		 "  - {type: quality, name: doc_set, fields: [doc, meta.owner], check: not_null}\n"
		 "  - {type: quality, name: code_re, fields: [code], check: regex, pattern: \"^(a+)+$\"}\n");
	assert_int_equal(run(&f, toast), TRIB_VERDICT_KEEP);
	assert_int_equal(run(&f, absent), TRIB_VERDICT_DEAD_LETTER);
	assert_string_equal(absent->error, "quality rule doc_set: field doc is missing");
	assert_int_equal(run(&f, nested), TRIB_VERDICT_DEAD_LETTER);
	assert_string_equal(nested->error, "quality rule doc_set: field meta.owner is missing");
	assert_int_equal(run(&f, slow), TRIB_VERDICT_DEAD_LETTER);
	assert_non_null(strstr(slow->error, "field code code_re: regex: match limit exceeded"));
	assert_null(strstr(slow->error, "lua"));
	trib_event_free(toast);
	trib_event_free(absent);
	trib_event_free(nested);
	trib_event_free(slow);
	unload(&f);
}

/*
 * A range check compares the value's decimal digits exactly, not as a
 * long double: numerics wider than 19 significant digits are common
 * (numeric(38,2) amounts), and a bound that differs only in the last
 * digit must still decide.
 */
static void
test_quality_range_is_exact_on_wide_numerics(void **state)
{
	fixture		f = {0};
	trib_event *over = mkev(TRIB_OP_CREATE, "t", NULL, "{\"a\":12345678901234567890.5}", NULL);
	trib_event *under = mkev(TRIB_OP_CREATE, "t", NULL, "{\"b\":12345678901234567890.4}", NULL);
	trib_event *on = mkev(TRIB_OP_CREATE, "t", NULL,
						  "{\"a\":12345678901234567890.4,\"b\":\"12345678901234567890.5\"}", NULL);

	(void) state;
	load(&f, "dead_letter: dlq\ntransforms:\n"
		 "  - {type: quality, name: a_max, fields: [a], check: range, max: 12345678901234567890.4}\n"
		 "  - {type: quality, name: b_min, fields: [b], check: range, min: 12345678901234567890.5}\n");
	assert_int_equal(run(&f, over), TRIB_VERDICT_DEAD_LETTER);
	assert_string_equal(over->error, "quality rule a_max: field a is out of range");
	assert_int_equal(run(&f, under), TRIB_VERDICT_DEAD_LETTER);
	assert_string_equal(under->error, "quality rule b_min: field b is out of range");
	/* the bounds themselves are in range (inclusive) */
	assert_int_equal(run(&f, on), TRIB_VERDICT_KEEP);
	trib_event_free(over);
	trib_event_free(under);
	trib_event_free(on);
	unload(&f);
}

static void
test_selection_by_source_and_glob(void **state)
{
	fixture		f = {0};
	trib_event *a = mkev(TRIB_OP_CREATE, "customers_eu", NULL, "{\"email\":\"x@y\"}", NULL);
	trib_event *b = mkev(TRIB_OP_CREATE, "orders", NULL, "{\"email\":\"x@y\"}", NULL);
	trib_event *c = mkev(TRIB_OP_CREATE, "customers_us", NULL, "{\"email\":\"x@y\"}", NULL);

	(void) state;
	c->source = "mysql1";
	load(&f, "transforms:\n"
		 "  - {type: redact, sources: [\"pg*\"], tables: [\"public.customers_*\"], fields: [\"*mail\"], with: \"null\"}\n");
	run(&f, a);
	run(&f, b);
	run(&f, c);
	assert_string_equal(a->after, "{\"email\":null}");
	assert_string_equal(b->after, "{\"email\":\"x@y\"}");
	assert_string_equal(c->after, "{\"email\":\"x@y\"}");
	trib_event_free(a);
	trib_event_free(b);
	trib_event_free(c);
	unload(&f);
}


static void
test_outbox(void **state)
{
	fixture		f = {0};
	trib_event *ins = mkev(TRIB_OP_CREATE, "outbox", NULL,
						   "{\"id\":\"e1\",\"aggregatetype\":\"order\",\"aggregateid\":77,"
						   "\"type\":\"OrderCreated\",\"payload\":{\"total\":12.50}}", "{\"id\":\"e1\"}");
	trib_event *del = mkev(TRIB_OP_DELETE, "outbox", "{\"id\":\"e1\"}", NULL, "{\"id\":\"e1\"}");
	trib_event *other = mkev(TRIB_OP_CREATE, "orders", NULL, "{\"id\":1}", "{\"id\":1}");

	(void) state;
	load(&f, "transforms:\n  - {type: outbox, tables: [outbox]}\n");
	assert_int_equal(run(&f, ins), TRIB_VERDICT_KEEP);
	assert_string_equal(ins->topic, "outbox.event.order");
	assert_string_equal(ins->key, "\"77\"");
	assert_string_equal(ins->after, "{\"total\":12.50}");
	assert_int_equal(ins->flatten, TRIB_FLAT_ROW);
	assert_null(ins->before);
	assert_int_equal(run(&f, del), TRIB_VERDICT_DROP);
	assert_int_equal(run(&f, other), TRIB_VERDICT_KEEP);
	assert_null(other->topic);
	trib_event_free(ins);
	trib_event_free(del);
	trib_event_free(other);
	unload(&f);
}

static void
test_aggregate(void **state)
{
	fixture		f = {0};
	trib_event *ev = mkev(TRIB_OP_CREATE, "t", NULL,
						  "{\"q1\":10,\"q2\":20.5,\"q3\":null,\"q4\":9223372036854775807,\"n\":\"x\"}", NULL);
	trib_event *ints = mkev(TRIB_OP_CREATE, "t", NULL, "{\"q1\":4611686018427387904,\"q2\":4611686018427387903}", NULL);

	(void) state;
	load(&f, "transforms:\n"
		 "  - {type: aggregate, fields: [\"q*\"], function: max, field: top}\n"
		 "  - {type: aggregate, fields: [q1, q2, q3], function: avg, field: mean}\n"
		 "  - {type: aggregate, fields: [\"q*\"], function: count, field: cnt}\n"
		 "  - {type: aggregate, fields: [q1, q2], function: sum, field: total}\n");
	assert_int_equal(run(&f, ev), TRIB_VERDICT_KEEP);
	/* max keeps the winner's text: every digit of a bigint */
	assert_non_null(strstr(ev->after, "\"top\":9223372036854775807"));
	assert_non_null(strstr(ev->after, "\"mean\":15.25"));
	assert_non_null(strstr(ev->after, "\"cnt\":3"));
	assert_non_null(strstr(ev->after, "\"total\":30.5"));
	assert_int_equal(run(&f, ints), TRIB_VERDICT_KEEP);
	/* integer sums are exact in 64 bits */
	assert_non_null(strstr(ints->after, "\"total\":9223372036854775807"));
	trib_event_free(ev);
	trib_event_free(ints);
	unload(&f);
}

static void
test_strict_nulls_undecided_columns(void **state)
{
	fixture		f = {0};
	trib_event *ev = mkev(TRIB_OP_UPDATE, "customers", ROW1, ROW1, "{\"id\":42}");
	trib_event *nokey = mkev(TRIB_OP_CREATE, "orders", NULL, "{\"oid\":1,\"x\":2}", "{\"oid\":1}");
	trib_event *kept = mkev(TRIB_OP_CREATE, "items", NULL, "{\"a\":1,\"b\":2}", "{\"a\":1}");

	(void) state;
	load(&f, "strict: true\ndead_letter: dlq\ntransforms:\n"
		 "  - {type: allow, tables: [customers], fields: [id, amount]}\n"
		 "  - {type: hash, tables: [customers], fields: [email], key: \"00112233445566778899aabbccddeeff\"}\n"
		 "  - {type: drop, tables: [customers], fields: [card]}\n"
		 "  - {type: redact, tables: [customers], fields: [meta.contact.phone]}\n"
		 "  - {type: keep, tables: [items], fields: [a]}\n");
	assert_int_equal(run(&f, ev), TRIB_VERDICT_KEEP);
	/* meta has only a nested rule: not a decision about the column */
	assert_non_null(strstr(ev->after, "\"meta\":null"));
	assert_non_null(strstr(ev->before, "\"meta\":null"));
	assert_non_null(strstr(ev->after, "\"amount\":1234.50"));
	assert_null(strstr(ev->after, "card"));
	/* a key column without a rule cannot be nulled: dead letter */
	assert_int_equal(run(&f, nokey), TRIB_VERDICT_DEAD_LETTER);
	assert_non_null(strstr(nokey->error, "strict: the key column oid has no rule"));
	/* keep decides for the whole table */
	assert_int_equal(run(&f, kept), TRIB_VERDICT_KEEP);
	assert_string_equal(kept->after, "{\"a\":1}");
	assert_true(trib_rules_covers(f.rules, "pg", "public", "customers", "email"));
	assert_false(trib_rules_covers(f.rules, "pg", "public", "customers", "meta"));
	assert_true(trib_rules_covers(f.rules, "pg", "public", "items", "zzz"));
	trib_event_free(ev);
	trib_event_free(nokey);
	trib_event_free(kept);
	unload(&f);
}

static void
test_tokenize_encrypt_decrypt(void **state)
{
	fixture		f = {0};
	trib_event *ev = mkev(TRIB_OP_CREATE, "pay", NULL,
						  "{\"card\":\"4111-1111-1111-1234\",\"pin\":\"12\",\"note\":\"hello\",\"doc\":\"secret\"}", NULL);
	trib_event *ev2 = mkev(TRIB_OP_CREATE, "pay", NULL,
						   "{\"card\":\"4111-1111-1111-1234\",\"pin\":\"12\",\"note\":\"hello\",\"doc\":\"secret\"}", NULL);
	trib_event *bad = mkev(TRIB_OP_CREATE, "tampered", NULL, "{\"doc\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", NULL);
	const char *k32 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char		yaml[2048];
	char	   *first;

	(void) state;
	snprintf(yaml, sizeof(yaml), "dead_letter: dlq\ntransforms:\n"
			 "  - {type: tokenize, tables: [pay], fields: [card, pin], key: \"%.32s\"}\n"
			 "  - {type: encrypt, tables: [pay], fields: [note], cipher: fernet, key: \"%s\"}\n"
			 "  - {type: encrypt, tables: [pay], fields: [doc], key: \"%s\", context: d}\n"
			 "  - {type: decrypt, tables: [pay], fields: [note], cipher: fernet, key: \"%s\"}\n"
			 "  - {type: decrypt, tables: [\"*\"], fields: [doc], key: \"%s\", context: d}\n",
			 k32, k32, k32, k32, k32);
	load(&f, yaml);
	assert_int_equal(run(&f, ev), TRIB_VERDICT_KEEP);
	/* FF1 keeps the layout; a value too short for FF1 is masked */
	assert_non_null(strstr(ev->after, "\"pin\":\"**\""));
	first = strstr(ev->after, "\"card\":\"");
	assert_non_null(first);
	assert_int_equal(first[12], '-');
	assert_int_equal(first[17], '-');
	assert_null(strstr(ev->after, "4111-1111-1111-1234"));
	/* encrypt then decrypt restores both ciphers' values */
	assert_non_null(strstr(ev->after, "\"note\":\"hello\""));
	assert_non_null(strstr(ev->after, "\"doc\":\"secret\""));
	/* tokenization is deterministic */
	assert_int_equal(run(&f, ev2), TRIB_VERDICT_KEEP);
	assert_string_equal(ev->after, ev2->after);
	/* a ciphertext that does not authenticate: dead letter, no value in the reason */
	assert_int_equal(run(&f, bad), TRIB_VERDICT_DEAD_LETTER);
	assert_non_null(strstr(bad->error, "decrypt"));
	assert_null(strstr(bad->error, "decrypt: decrypt"));
	trib_event_free(ev);
	trib_event_free(ev2);
	trib_event_free(bad);
	unload(&f);
}

/* The rule types that mask values, as strict mode and lineage read them
 * (trib_rule_masks, the RL_MASKS flag in each type's operations): exactly
 * the eight strategies, none of the others. */
static void
test_rule_masks_names_the_strategies(void **state)
{
	static const trib_rule_type masking[] = {
		TRIB_RULE_REDACT, TRIB_RULE_PARTIAL, TRIB_RULE_HASH, TRIB_RULE_TOKENIZE,
		TRIB_RULE_ENCRYPT, TRIB_RULE_SUBSTITUTE, TRIB_RULE_PERTURB, TRIB_RULE_GENERALIZE
	};
	static const trib_rule_type others[] = {
		TRIB_RULE_DROP, TRIB_RULE_KEEP, TRIB_RULE_RENAME, TRIB_RULE_CAST, TRIB_RULE_SAMPLE,
		TRIB_RULE_ROUTE, TRIB_RULE_FLATTEN, TRIB_RULE_QUALITY, TRIB_RULE_ALLOW,
		TRIB_RULE_OUTBOX, TRIB_RULE_AGGREGATE, TRIB_RULE_LOOKUP, TRIB_RULE_DECRYPT,
		TRIB_RULE_FILTER, TRIB_RULE_COMPUTE, TRIB_RULE_MAP
	};

	(void) state;
	for (size_t i = 0; i < sizeof(masking) / sizeof(masking[0]); i++)
		assert_true(trib_rule_masks(masking[i]));
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		assert_false(trib_rule_masks(others[i]));
}

/* too_short: redact masks a value FF1 cannot take (too short, or over
 * 4096 alphabet characters); dead_letter sends it on with the tokenizer's
 * message, which names counts, not the value. */
static void
test_tokenize_too_short_redact_or_dead_letter(void **state)
{
	fixture		f = {0};
	const char *row = "{\"pin\":\"7-3\",\"card\":\"4111-1111-1111-1234\"}";
	trib_event *a = mkev(TRIB_OP_CREATE, "pay", NULL, row, NULL);
	trib_event *b = mkev(TRIB_OP_CREATE, "pay", NULL, row, NULL);
	char	   *longrow = malloc(4200);
	trib_event *c,
			   *d;

	assert_non_null(longrow);
	strcpy(longrow, "{\"pin\":\"");
	memset(longrow + strlen(longrow), '7', 4097);
	strcpy(longrow + 8 + 4097, "\",\"card\":\"4111-1111-1111-1234\"}");
	c = mkev(TRIB_OP_CREATE, "pay", NULL, longrow, NULL);
	d = mkev(TRIB_OP_CREATE, "pay", NULL, longrow, NULL);

	(void) state;
	load(&f, "dead_letter: dlq\ntransforms:\n"
		 "  - {type: tokenize, fields: [pin, card], key: \"00112233445566778899aabbccddeeff\"}\n");
	assert_int_equal(run(&f, a), TRIB_VERDICT_KEEP);
	assert_non_null(strstr(a->after, "\"pin\":\"***\""));
	assert_null(strstr(a->after, "4111-1111-1111-1234"));
	assert_int_equal(run(&f, c), TRIB_VERDICT_KEEP);	/* too long: masked too */
	assert_non_null(strstr(c->after, "\"pin\":\"****"));	/* its length kept */
	assert_null(strstr(c->after, "7777777"));
	unload(&f);
	load(&f, "dead_letter: dlq\ntransforms:\n"
		 "  - {type: tokenize, fields: [pin, card], too_short: dead_letter, "
		 "key: \"00112233445566778899aabbccddeeff\"}\n");
	assert_int_equal(run(&f, b), TRIB_VERDICT_DEAD_LETTER);
	assert_non_null(strstr(b->error, "tokenize: the value has 2 characters of the digits "
						   "alphabet; FF1 needs 6 to 4096 (radix 10, radix^length >= 1000000)"));
	assert_null(strstr(b->error, "7-3"));
	assert_null(strstr(b->error, "tokenize: tokenize"));	/* said once */
	assert_int_equal(run(&f, d), TRIB_VERDICT_DEAD_LETTER);
	assert_non_null(strstr(d->error, "tokenize: the value has 4097 characters of the digits "
						   "alphabet; FF1 needs 6 to 4096"));
	assert_null(strstr(d->error, "7777777"));
	trib_event_free(a);
	trib_event_free(b);
	trib_event_free(c);
	trib_event_free(d);
	free(longrow);
	unload(&f);
}

/* perturb's SQL type comes from the event's relation (a smallint stays in
 * range), looked up again when the relation or its version changes
 * (rules_mask.c keeps its last answer per rule). */
static void
test_perturb_follows_the_relations_type(void **state)
{
	static trib_column small_cols[] = {{.name = "id", .type = "integer", .pk = true},
		{.name = "n", .type = "smallint"}};
	static trib_column big_cols[] = {{.name = "id", .type = "integer", .pk = true},
		{.name = "n", .type = "bigint"}};
	trib_relation small = {.schema = "public", .table = "nums", .ncolumns = 2,
	.columns = small_cols, .version = 1};
	trib_relation big = {.schema = "public", .table = "nums", .ncolumns = 2,
	.columns = big_cols, .version = 1};
	fixture		f = {0};
	int			over[4] = {0};

	(void) state;
	load(&f, "transforms:\n"
		 "  - {type: perturb, fields: [n], percent: 10, key: \"00112233445566778899aabbccddeeff\"}\n");
	/* small, big, small, then small's address at a new version typed bigint */
	for (int phase = 0; phase < 4; phase++)
		for (int i = 0; i < 40; i++)
		{
			char		key[32];
			trib_event *ev;

			snprintf(key, sizeof(key), "{\"id\":%d}", i);
			ev = mkev(TRIB_OP_CREATE, "nums", NULL, "{\"id\":1,\"n\":32767}", key);
			if (phase == 3)
			{
				small.columns = big_cols;
				small.version = 2;
			}
			ev->rel = phase == 1 ? &big : &small;
			assert_int_equal(run(&f, ev), TRIB_VERDICT_KEEP);
			over[phase] += strtoll(strstr(ev->after, "\"n\":") + 4, NULL, 10) > 32767;
			trib_event_free(ev);
		}
	assert_int_equal(over[0], 0);
	assert_true(over[1] > 0);
	assert_int_equal(over[2], 0);
	assert_true(over[3] > 0);
	unload(&f);
}

static void
test_substitute_perturb_generalize(void **state)
{
	fixture		f = {0};
	const char *row = "{\"id\":7,\"name\":\"Ann Lee\",\"amount\":1234.50,\"born\":\"1980-05-17\",\"age\":37}";
	trib_event *a = mkev(TRIB_OP_CREATE, "people", NULL, row, "{\"id\":7}");
	trib_event *b = mkev(TRIB_OP_UPDATE, "people", row, row, "{\"id\":7}");
	trib_event *other = mkev(TRIB_OP_CREATE, "staff", NULL, "{\"id\":9,\"name\":\"Ann Lee\"}", "{\"id\":9}");
	const char *name_a;
	char		fake[128];
	double		amount;

	(void) state;
	load(&f, "transforms:\n"
		 "  - {type: substitute, fields: [name], kind: full_name, key: \"00112233445566778899aabbccddeeff\"}\n"
		 "  - {type: perturb, tables: [people], fields: [amount], percent: 10, key: \"00112233445566778899aabbccddeeff\"}\n"
		 "  - {type: generalize, tables: [people], fields: [age], mode: range, width: 10}\n"
		 "  - {type: generalize, tables: [people], fields: [born], mode: year}\n");
	assert_int_equal(run(&f, a), TRIB_VERDICT_KEEP);
	assert_int_equal(run(&f, b), TRIB_VERDICT_KEEP);
	assert_int_equal(run(&f, other), TRIB_VERDICT_KEEP);
	name_a = strstr(a->after, "\"name\":\"");
	assert_non_null(name_a);
	snprintf(fake, sizeof(fake), "%.*s", (int) (strchr(name_a + 8, '"') - name_a + 1), name_a);
	assert_null(strstr(a->after, "Ann Lee"));
	/* the same input gives the same fake, in every event and table */
	assert_non_null(strstr(b->after, fake));
	assert_non_null(strstr(b->before, fake));
	assert_non_null(strstr(other->after, fake));
	/* the same row gets the same noise in every change, within 10% */
	amount = strtod(strstr(a->after, "\"amount\":") + 9, NULL);
	assert_true(amount >= 1111.05 && amount <= 1357.95 && amount != 1234.50);
	{
		char		am[64];

		snprintf(am, sizeof(am), "%.*s", (int) strcspn(strstr(a->after, "\"amount\":"), ","),
				 strstr(a->after, "\"amount\":"));
		assert_non_null(strstr(b->after, am));
	}
	assert_non_null(strstr(a->after, "\"age\":\"30-39\""));
	assert_non_null(strstr(a->after, "\"born\":\"1980-01-01\""));
	trib_event_free(a);
	trib_event_free(b);
	trib_event_free(other);
	unload(&f);
}

static void
test_lua_rules(void **state)
{
	fixture		f = {0};
	trib_event *big = mkev(TRIB_OP_CREATE, "orders", NULL,
						   "{\"id\":1,\"qty\":3,\"price\":2.5,\"code\":\"AB-12\",\"region\":\"eu\"}", "{\"id\":1}");
	trib_event *small = mkev(TRIB_OP_CREATE, "orders", NULL,
							 "{\"id\":2,\"qty\":1,\"price\":0.5,\"code\":\"AB-13\",\"region\":\"us\"}", "{\"id\":2}");
	trib_event *badcode = mkev(TRIB_OP_CREATE, "orders", NULL,
							   "{\"id\":3,\"qty\":9,\"price\":1,\"code\":\"zz\",\"region\":\"eu\"}", "{\"id\":3}");
	trib_event *boom = mkev(TRIB_OP_CREATE, "orders", NULL,
							"{\"id\":4,\"qty\":\"x\",\"price\":1,\"code\":\"AB-14\",\"region\":\"eu\"}", "{\"id\":4}");

	(void) state;
	load(&f, "dead_letter: dlq\ntransforms:\n"
		 "  - {type: compute, tables: [orders], field: total, lua: \"after.qty * after.price\", column_type: numeric}\n"
		 "  - {type: filter, tables: [orders], lua: \"after.total > 1\"}\n"
		 "  - {type: map, tables: [orders], lua: \"return {region = string.upper(after.region), qty = null}\"}\n"
		 "  - {type: route, tables: [orders], lua: \"return 'orders.' .. after.region\"}\n"
		 "  - {type: quality, tables: [orders], fields: [code], check: regex, pattern: \"^[A-Z]{2}-[0-9]+$\", action: tag}\n"
		 "  - {type: quality, tables: [orders], fields: [total], check: lua, lua: \"value < 20 or false, 'too big'\", action: dead_letter}\n");
	assert_int_equal(run(&f, big), TRIB_VERDICT_KEEP);
	assert_non_null(strstr(big->after, "\"total\":7.5"));
	assert_non_null(strstr(big->after, "\"region\":\"EU\""));
	assert_non_null(strstr(big->after, "\"qty\":null"));
	assert_string_equal(big->topic, "orders.EU");
	assert_null(big->tags);
	/* the computed column is in the derived relation with its type */
	/* (orders has no relation in this test: nothing to check there) */
	assert_int_equal(run(&f, small), TRIB_VERDICT_DROP);
	assert_int_equal(run(&f, badcode), TRIB_VERDICT_KEEP);
	assert_non_null(badcode->tags);
	assert_int_equal(run(&f, boom), TRIB_VERDICT_DEAD_LETTER);
	assert_non_null(strstr(boom->error, "lua:"));
	trib_event_free(big);
	trib_event_free(small);
	trib_event_free(badcode);
	trib_event_free(boom);
	unload(&f);
}

static void
test_lua_limits_and_quality_lua(void **state)
{
	fixture		f = {0};
	trib_event *ev = mkev(TRIB_OP_CREATE, "t", NULL, "{\"n\":25}", NULL);
	trib_event *loop = mkev(TRIB_OP_CREATE, "loop", NULL, "{\"n\":1}", NULL);

	(void) state;
	load(&f, "dead_letter: dlq\nlua_max_instructions: 10000\ntransforms:\n"
		 "  - {type: quality, tables: [t], fields: [n], check: lua, lua: \"if value > 20 then return false, 'over twenty' end return true\"}\n"
		 "  - {type: filter, tables: [loop], lua: \"while true do end\"}\n");
	assert_int_equal(run(&f, ev), TRIB_VERDICT_DEAD_LETTER);
	assert_non_null(strstr(ev->error, "over twenty"));
	/* an endless loop is stopped by the instruction limit: a dead letter */
	assert_int_equal(run(&f, loop), TRIB_VERDICT_DEAD_LETTER);
	trib_event_free(ev);
	trib_event_free(loop);
	unload(&f);
}

static void
test_config_errors(void **state)
{
	const char *cases[][2] = {
		{"transforms:\n  - {type: scramble, fields: [a]}\n",
		"unknown rule type \"scramble\" (accepted: redact, partial, hash, drop, keep, rename, cast, sample, route, flatten, quality, allow, outbox, aggregate, lookup, tokenize, encrypt, decrypt, substitute, perturb, generalize, filter, compute, map)"},
		{"transforms:\n  - {type: filter, lua: \"after.a >\"}\n", "t.yaml:8:25: transforms[0]: filter:1: unexpected symbol near <eof>"},
		{"transforms:\n  - {type: route}\n", "route needs topic or lua (one of them)"},
		{"transforms:\n  - {type: quality, fields: [a], check: regex, action: drop}\n", "check: regex needs pattern"},
		{"transforms:\n  - {type: substitute, fields: [a], kind: nickname}\n", "unknown kind \"nickname\" (accepted: first_name"},
		{"transforms:\n  - {type: perturb, fields: [a], percent: 5, days: 3}\n", "perturb needs exactly one of percent, absolute, days"},
		{"transforms:\n  - {type: lookup, dsn: \"dbname=x\", query: \"SELECT 1 WHERE $1 = $2\", params: [a], into: z}\n",
		"query uses $1..$2 but params has 1 field(s)"},
		{"transforms:\n  - {type: hash, fields: [a]}\n", "transforms[0].key: required key is missing"},
		{"transforms:\n  - {type: hash, fields: [a], key: k3y, key_format: raw}\n", "the key is 3 bytes; hash needs 16 to 1024 bytes"},
		{"transforms:\n  - {type: hash, fields: [a], key: \"zz!!\", key_format: hex}\n", "the rule's key"},
		{"transforms:\n  - {type: tokenize, fields: [a], key: \"00112233445566778899\"}\n", "the key is 10 bytes; tokenize"},
		{"transforms:\n  - {type: encrypt, fields: [a], cipher: fernet, key: \"00112233445566778899aabbccddeeff\"}\n", "the key is 16 bytes; fernet needs 32 bytes"},
		{"transforms:\n  - {type: redact}\n", "transforms[0].fields: required key is missing"},
		{"transforms:\n  - {type: partial, fields: [a]}\n", "partial keeps nothing"},
		{"transforms:\n  - {type: sample, percent: 150}\n", "is not a percentage"},
		{"transforms:\n  - {type: quality, fields: [a], check: range}\n", "check: range needs min, max or both"},
		{"transforms:\n  - {type: quality, fields: [a], check: not_null}\n", "needs a top-level dead_letter sink"},
		{"transforms:\n  - {type: route, topic: \"${after}\"}\n", "${after} is neither a placeholder"},
		{"transforms:\n  - {type: route, topic: \"${region}\"}\n", "${region} is neither a placeholder"},
		{"transforms:\n  - {type: drop, fields: [\"a..b\"]}\n", "empty segment"},
		{"dead_letter: nope\n", "dead_letter: no sink named \"nope\" (accepted: out, dlq)"},
		{"transforms:\n  - {type: drop, fields: [a], colour: red}\n", "transforms[0].colour: unknown key"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		yaml[4096];
		char		err[2048];
		trib_config *cfg = NULL;

		snprintf(yaml, sizeof(yaml), HEAD "%s", cases[i][0]);
		if (trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err, sizeof(err)))
			fail_msg("case %zu loaded:\n%s", i, yaml);
		if (strstr(err, cases[i][1]) == NULL)
			fail_msg("case %zu: expected \"%s\" in:\n%s", i, cases[i][1], err);
		if (strncmp(err, "t.yaml:", 7) != 0)
			fail_msg("case %zu: no file:line in \"%s\"", i, err);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jsondoc_roundtrip_keeps_numbers),
		cmocka_unit_test(test_jpath_errors),
		cmocka_unit_test(test_redact_mask_keeps_length_in_characters),
		cmocka_unit_test(test_redact_null_value_and_nested),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_redact_output_by_value_kind),
		cmocka_unit_test(test_partial_output_by_value_kind),
		cmocka_unit_test(test_hash_deterministic_with_context_and_key_column),
		cmocka_unit_test(test_hash_default_context_is_field_and_truncation),
		cmocka_unit_test(test_drop_keep_rename_and_derived_relation),
		cmocka_unit_test(test_target_relation_before_any_row),
		cmocka_unit_test(test_shape_rules_keep_name_lists_in_step),
		cmocka_unit_test(test_cast_and_dead_letter_without_images),
		cmocka_unit_test(test_sample_deterministic_and_consistent_across_tables),
		cmocka_unit_test(test_route_template),
		cmocka_unit_test(test_route_before_mask_refused),
		cmocka_unit_test(test_flatten_deletes),
		cmocka_unit_test(test_quality_actions),
		cmocka_unit_test(test_quality_unique_within_batch),
		cmocka_unit_test(test_quality_unchanged_toast_and_regex_limit),
		cmocka_unit_test(test_mask_update_desc_long_keys),
		cmocka_unit_test(test_mask_nested_fields_in_document_key),
		cmocka_unit_test(test_dead_letter_drops_update_description),
		cmocka_unit_test(test_quality_range_is_exact_on_wide_numerics),
		cmocka_unit_test(test_selection_by_source_and_glob),
		cmocka_unit_test(test_outbox),
		cmocka_unit_test(test_aggregate),
		cmocka_unit_test(test_strict_nulls_undecided_columns),
		cmocka_unit_test(test_tokenize_encrypt_decrypt),
		cmocka_unit_test(test_rule_masks_names_the_strategies),
		cmocka_unit_test(test_tokenize_too_short_redact_or_dead_letter),
		cmocka_unit_test(test_substitute_perturb_generalize),
		cmocka_unit_test(test_perturb_follows_the_relations_type),
		cmocka_unit_test(test_lua_rules),
		cmocka_unit_test(test_lua_limits_and_quality_lua),
		cmocka_unit_test(test_config_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
