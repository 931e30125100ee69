/*
 * test_rules_splice.c: value rules on the row text (rules_splice.c) give
 * exactly what the tree path gives.
 *
 * Every case runs the same event three times through trib_rules_apply:
 * as the daemon runs it (the text path where it applies, its images
 * indexed by the fast scan), the same with rl_splice_fast_index off (the
 * images indexed by yajl's parse, as before the fast scan), and with
 * rl_splice_enabled off (every rule on a yajl tree, as before the text
 * path existed), and compares verdict, error, dead-letter reason and the
 * before, after and key texts byte for byte.  The images are fixed edge
 * cases (escapes, unicode, nested values, nulls, missing fields,
 * duplicate keys, whitespace, comments, invalid JSON) and random ones
 * built from the same pieces; the rules are the five masking rules of
 * bench/transforms.sh and rule sets that hit nested paths, objects,
 * arrays, two rules on one field, redact to null and bad values.  A
 * value met in several images (the key's column) is masked once: the text
 * op's calls are counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "event.h"
#include "rules.h"
#include "rules_splice.h"

#define HEAD \
	"pipeline: t\n" \
	"sources:\n  pg: {type: postgres, dsn: \"dbname=x\", snapshot: never}\n" \
	"sinks:\n  out: {type: stdout}\n  dlq: {type: file, path: /tmp/never-opened.jsonl}\n" \
	"transforms:\n"
#define K "key: \"00112233445566778899aabbccddeeff\""

/* The rule sets every image goes through. */
static const char *const rule_sets[] = {
	/* the five of bench/transforms.sh */
	"  - {type: substitute, fields: [name], kind: full_name, " K "}\n"
	"  - {type: hash, fields: [email], context: email, " K "}\n"
	"  - {type: perturb, fields: [amount], percent: 5, " K "}\n"
	"  - {type: partial, fields: [meta.k], keep_last: 2}\n"
	"  - {type: tokenize, fields: [id], alphabet: digits, " K "}\n",
	/* nested paths, an object as the value, two rules on one field */
	"  - {type: redact, fields: [email, meta.k.deep], with: \"null\"}\n"
	"  - {type: redact, fields: [name]}\n"
	"  - {type: hash, fields: [name, meta.j], " K "}\n"
	"  - {type: partial, fields: [meta], keep_first: 1}\n",
	/* globs and arrays take the tree path; a value to a fixed string */
	"  - {type: redact, fields: [\"e*\"], with: value, value: \"x\\\"y\"}\n"
	"  - {type: partial, fields: [tags, id], keep_last: 1}\n"
	"  - {type: hash, fields: [meta.k], " K "}\n",
	/* values a strategy refuses (dead letters) */
	"  - {type: generalize, fields: [amount], mode: range, width: 10}\n"
	"  - {type: perturb, fields: [created], days: 3, " K "}\n",
};

#define NSETS (sizeof(rule_sets) / sizeof(rule_sets[0]))

/* Fixed images: after, key. */
static const char *const fixed[][2] = {
	{"{\"id\":123456,\"name\":\"Ann Lee\",\"email\":\"ann@x.example\",\"amount\":12.50,"
	 "\"created\":\"2026-11-22 10:00:00+00\",\"active\":true,\"meta\":{\"k\":42}}", "{\"id\":123456}"},
	{"{\"id\":1,\"name\":\"caf\\u00e9 \\\"q\\\" \\\\ \\/ \\n\",\"email\":\"a\\u0040b\"}", "{\"id\":1}"},
	{"{\"id\":2,\"name\":\"café ü 日本\",\"email\":\"é@ü.example\",\"meta\":{\"k\":\"日本語\"}}", "{\"id\":2}"},
	{"{\"id\":null,\"name\":null,\"email\":null,\"amount\":null,\"meta\":null}", "{\"id\":null}"},
	{"{\"other\":1}", "{\"other\":2}"},
	{"{}", "{}"},
	{"{ \"id\" : 7 , \"name\" : \"x\" }", "{\"id\":7}"},
	{"{\"id\":8,\"name\":\"y\"}\n", " {\"id\":8}"},
	{"{\"id\":9,/* c */\"name\":\"z\"}", "{\"id\":9}"},
	{"{\"id\":10,\"name\":\"a\",\"name\":\"b\"}", "{\"id\":10,\"id\":11}"},
	{"{\"id\":11,\"meta\":{\"k\":{\"deep\":\"v\"},\"j\":[1,{\"k\":2}]},\"tags\":[\"a\",\"bb\"]}", "{\"id\":11}"},
	{"{\"id\":12,\"meta\":[{\"k\":1},{\"k\":\"two\"}]}", "{\"id\":12}"},
	{"{\"id\":-0.5e+3,\"amount\":1e400,\"name\":true,\"email\":false}", "{\"id\":-0.5e+3}"},
	{"{\"id\":123456789012345678901234567890,\"amount\":-99999999999999999999.99}", "{\"id\":1}"},
	{"{\"id\":13,\"name\":\"unterminated}", "{\"id\":13}"},
	{"[1,2,3]", "{\"id\":14}"},
	{"\"scalar\"", "7"},
	{"{\"id\":15,\"email\":\"a@b\",\"meta\":{\"k\":1,\"k\":2}}", NULL},
	{"{\"id\":16,\"amount\":\"not a number\",\"created\":\"not a date\"}", "{\"id\":16}"},
	{"{\"id\":17,\"e1\":\"x\",\"e2\":{\"a\":1},\"email\":\"\"}", "{\"id\":17}"},
	{"{\"id\":18,\"name\":\"\\u0000nul\",\"email\":\"tab\\there\"}", "{\"id\":18}"},
	/* the PostgreSQL source's W1 row: jsonb as PostgreSQL writes it */
	{"{\"id\":123456,\"name\":\"name1\",\"email\":\"user1@example.com\",\"amount\":1.50,"
	 "\"created\":\"2026-12-05 02:42:00.1+00\",\"active\":false,\"meta\":{\"k\": 1}}",
	 "{\"id\":123456}"},
	{"\v{\"id\":\f19 ,\r\"name\":\"a  b\"\t}\n", "{\"id\" :\v19}"},
	/* whitespace whose removal would join two tokens: invalid as it is */
	{"{\"id\":20 1,\"name\":\"x\"}", "{\"id\":20}"},
	{"{\"id\":21,\"name\":tr ue}", "{\"id\":- 21}"},
	{"{\"id\":22,\"name\":nu\nll,\"email\":\"e\"}", "{\"id\":2.\t2}"},
};

#define NFIXED (sizeof(fixed) / sizeof(fixed[0]))

typedef struct outcome
{
	trib_verdict v;
	char		err[1024];
	char	   *before;
	char	   *after;
	char	   *key;
	char	   *error;
} outcome;

static char *
dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* One event through the rules; text path on or off, and with the text
 * path, its fast index on or off (yajl's index). */
static void
run_one(trib_rules *rs, bool text_path, bool fast_index, const char *before,
		const char *after, const char *key, outcome *o)
{
	trib_event *ev = trib_event_new();

	ev->op = before ? TRIB_OP_UPDATE : TRIB_OP_CREATE;
	ev->source = "pg";
	ev->schema = "public";
	ev->table = "bench_events";
	ev->before = dup(before);
	ev->after = dup(after);
	ev->key = dup(key);
	rl_splice_enabled = text_path;
	rl_splice_fast_index = fast_index;
	memset(o, 0, sizeof(*o));
	o->v = trib_rules_apply(rs, ev, o->err, sizeof(o->err));
	rl_splice_enabled = true;
	rl_splice_fast_index = true;
	o->before = dup(ev->before);
	o->after = dup(ev->after);
	o->key = dup(ev->key);
	o->error = dup(ev->error);
	trib_event_free(ev);
}

static void
outcome_free(outcome *o)
{
	free(o->before);
	free(o->after);
	free(o->key);
	free(o->error);
}

static void
same_text(const char *what, const char *tree, const char *text, size_t set,
		  const char *after)
{
	if ((tree == NULL) != (text == NULL) || (tree && strcmp(tree, text) != 0))
		fail_msg("rule set %zu, %s differs\n  image: %s\n  tree:  %s\n  text:  %s",
				 set, what, after ? after : "(null)", tree ? tree : "(null)",
				 text ? text : "(null)");
}

/* The same event both ways: everything that comes out must be equal. */
static void
compare(trib_rules *rs, size_t set, const char *before, const char *after, const char *key)
{
	outcome		tree;
	outcome		text;

	run_one(rs, false, true, before, after, key, &tree);
	for (int fast = 0; fast <= 1; fast++)
	{
		run_one(rs, true, fast, before, after, key, &text);
		if (tree.v != text.v)
			fail_msg("rule set %zu, image %s: verdict %d (tree) vs %d (text, %s index)",
					 set, after ? after : "(null)", tree.v, text.v, fast ? "fast" : "yajl");
		same_text("error", tree.err, text.err, set, after);
		same_text("dead-letter reason", tree.error, text.error, set, after);
		same_text("before", tree.before, text.before, set, after);
		same_text("after", tree.after, text.after, set, after);
		same_text("key", tree.key, text.key, set, after);
		outcome_free(&text);
	}
	outcome_free(&tree);
}

static trib_rules *
load(size_t set, trib_config **cfg)
{
	char		yaml[8192];
	char		err[1024];
	trib_rules *rs;

	snprintf(yaml, sizeof(yaml), HEAD "%s", rule_sets[set]);
	if (!trib_config_load_buffer("t.yaml", yaml, strlen(yaml), cfg, err, sizeof(err)))
		fail_msg("config did not load: %s\n%s", err, yaml);
	if ((rs = trib_rules_new(*cfg, NULL, err, sizeof(err))) == NULL)
		fail_msg("rules: %s", err);
	return rs;
}

static void
test_fixed_images_match_tree_path(void **state)
{
	(void) state;
	for (size_t s = 0; s < NSETS; s++)
	{
		trib_config *cfg;
		trib_rules *rs = load(s, &cfg);

		for (size_t i = 0; i < NFIXED; i++)
		{
			compare(rs, s, NULL, fixed[i][0], fixed[i][1]);
			compare(rs, s, fixed[(i + 1) % NFIXED][0], fixed[i][0], fixed[i][1]);
		}
		compare(rs, s, NULL, NULL, "{\"id\":1}");
		trib_rules_free(rs);
		trib_config_free(cfg);
	}
}

/* ---- one value in several images ------------------------------------------- */

/* A value equal in before, after and key (the key's column) is masked once
 * per rule and path (rules_splice.h's `same`): still exactly what the tree
 * path writes, with values equal, unequal, and equal in text but not in
 * kind. */
static void
test_same_value_in_images_match_tree_path(void **state)
{
	static const char *const cases[][3] = {
		{"{\"id\":123456,\"email\":\"a@b.example\"}", "{\"id\":123456,\"email\":\"a@b.example\"}",
		 "{\"id\":123456}"},
		{"{\"id\":123456}", "{\"id\":654321}", "{\"id\":123456}"},
		{"{\"id\":654321}", "{\"id\":123456}", "{\"id\":123456}"},
		{"{\"id\":\"123456\"}", "{\"id\":123456}", "{\"id\":\"123456\"}"},
		{"{\"id\":null}", "{\"id\":null}", "{\"id\":null}"},
		{"{\"id\":\"\"}", "{\"id\":\"\"}", "{\"id\":\"\"}"},
		{"{\"id\":123456,\"meta\":{\"k\":7}}", "{\"id\":123456,\"meta\":{\"k\":7}}",
		 "{\"id\":123456,\"meta\":{\"k\":7}}"},
	};

	(void) state;
	for (size_t s = 0; s < NSETS; s++)
	{
		trib_config *cfg;
		trib_rules *rs = load(s, &cfg);

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		{
			compare(rs, s, cases[i][0], cases[i][1], cases[i][2]);
			compare(rs, s, NULL, cases[i][1], cases[i][2]);
		}
		trib_rules_free(rs);
		trib_config_free(cfg);
	}
}

static int	text_calls;

/* A text op that counts its calls: "T" before the value's text. */
static rl_sp_text_res
counting_text(const trib_jvalue *in, const char *name, void *arg, trib_jvalue_buf *out)
{
	char		b[64];

	(void) name;
	(void) arg;
	text_calls++;
	snprintf(b, sizeof(b), "T%s", in->text);
	trib_jvalue_buf_set(out, TRIB_J_STRING, b, strlen(b));
	return RL_SPT_OUT;
}

static bool
no_node_op(yajl_val *slot, const char *name, void *arg)
{
	(void) slot;
	(void) name;
	(void) arg;
	fail_msg("the node op ran");
	return false;
}

/* The text op runs once for a value met again under the same token, once
 * per image without a token, again for another value or another token,
 * and again in the next event. */
static void
test_same_token_runs_text_op_once(void **state)
{
	static const char *const img[] = {"{\"id\":1,\"x\":2}", "{\"id\":1,\"x\":1}",
		"{\"id\":1}"};
	char		err[256];
	trib_jpath	id;
	trib_jpath	x;
	rl_sp_path	pid;
	rl_sp_path	px;
	rl_splice  *sp = rl_splice_new();
	int			tok_a,
				tok_b;

	(void) state;
	assert_true(trib_jpath_parse("id", &id, err, sizeof(err)));
	assert_true(trib_jpath_parse("x", &x, err, sizeof(err)));
	rl_sp_path_init(&pid, &id);
	rl_sp_path_init(&px, &x);
	for (int event = 0; event < 2; event++)
	{
		for (int i = 0; i < 3; i++)
			assert_true(rl_splice_index(sp, i, img[i], NULL, -1));
		text_calls = 0;
		/* `x`: 2 then 1 (another value) */
		for (int i = 0; i < 2; i++)
			assert_int_equal(rl_splice_apply_at(sp, i, rl_splice_find(sp, i, &px), no_node_op,
												counting_text, &tok_b, NULL), RL_SP_CHANGED);
		assert_int_equal(text_calls, 2);
		/* `id` is 1 in all three, under another token (whose result for 1
		 * is not x's): once, and once again in the next event */
		for (int i = 0; i < 3; i++)
			assert_int_equal(rl_splice_apply_at(sp, i, rl_splice_find(sp, i, &pid), no_node_op,
												counting_text, &tok_a, NULL), RL_SP_CHANGED);
		assert_int_equal(text_calls, 3);
		assert_string_equal(rl_splice_text(sp, 0), "{\"id\":\"T1\",\"x\":\"T2\"}");
		assert_string_equal(rl_splice_text(sp, 1), "{\"id\":\"T1\",\"x\":\"T1\"}");
		assert_string_equal(rl_splice_text(sp, 2), "{\"id\":\"T1\"}");
		rl_splice_reset(sp);
	}
	/* the next event starts with the token and value the last one ended
	 * with: the op runs again */
	assert_true(rl_splice_index(sp, 2, img[2], NULL, -1));
	text_calls = 0;
	rl_splice_apply_at(sp, 2, rl_splice_find(sp, 2, &pid), no_node_op, counting_text, &tok_a, NULL);
	assert_int_equal(text_calls, 1);
	rl_splice_reset(sp);
	/* no token: every image's value goes through the op */
	for (int i = 0; i < 3; i++)
		assert_true(rl_splice_index(sp, i, img[i], NULL, -1));
	text_calls = 0;
	for (int i = 0; i < 3; i++)
		rl_splice_apply_at(sp, i, rl_splice_find(sp, i, &pid), no_node_op, counting_text, NULL, NULL);
	assert_int_equal(text_calls, 3);
	(void) tok_a;
	(void) tok_b;
	rl_sp_path_free(&pid);
	rl_sp_path_free(&px);
	trib_jpath_free(&id);
	trib_jpath_free(&x);
	rl_splice_destroy(sp);
}

/* ---- random images ------------------------------------------------------------ */

static unsigned rnd_state = 12345;

static unsigned
rnd(unsigned n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 16) % n;
}

/* Whitespace now and then (a non-compact image). */
static void
maybe_ws(char *b, size_t len, bool loose)
{
	static const char *const ws[] = {" ", "\n", "\t", "  "};

	if (loose && rnd(4) == 0)
		strncat(b, ws[rnd(4)], len - strlen(b) - 1);
}

static void
rnd_value(char *b, size_t len, int depth, bool loose)
{
	static const char *const scalars[] = {
		"0", "-1", "123456", "12.50", "-0.001", "1e5", "2.5E-3", "99999999999999999999",
		"null", "true", "false", "\"\"", "\"plain\"", "\"Ann Lee\"", "\"a@b.example\"",
		"\"caf\\u00e9\"", "\"q\\\"uote\"", "\"back\\\\slash\"", "\"sl\\/ash\"", "\"nl\\n\"",
		"\"日本語\"", "\"é@ü.example\"", "\"\\ud83d\\ude00\"", "\"2026-11-22\"", "\"12.5\"",
	};
	size_t		n = sizeof(scalars) / sizeof(scalars[0]);
	unsigned	k = depth < 2 ? rnd(10) : 9;

	if (k == 0)
	{
		strncat(b, "{", len - strlen(b) - 1);
		for (unsigned m = rnd(3), j = 0; j < m; j++)
		{
			static const char *const keys[] = {"\"k\"", "\"j\"", "\"deep\"", "\"k\""};

			if (j)
				strncat(b, ",", len - strlen(b) - 1);
			strncat(b, keys[rnd(4)], len - strlen(b) - 1);
			maybe_ws(b, len, loose);
			strncat(b, ":", len - strlen(b) - 1);
			rnd_value(b, len, depth + 1, loose);
		}
		strncat(b, "}", len - strlen(b) - 1);
	}
	else if (k == 1)
	{
		strncat(b, "[", len - strlen(b) - 1);
		rnd_value(b, len, depth + 1, loose);
		strncat(b, ",", len - strlen(b) - 1);
		rnd_value(b, len, depth + 1, loose);
		strncat(b, "]", len - strlen(b) - 1);
	}
	else
		strncat(b, scalars[rnd((unsigned) n)], len - strlen(b) - 1);
}

/* A random object over the bench table's columns (some missing, some twice). */
static void
rnd_object(char *b, size_t len, bool key_only)
{
	static const char *const cols[] = {"id", "name", "email", "amount", "created", "meta",
	"tags", "e1", "active"};
	bool		loose = rnd(5) == 0;
	unsigned	m = key_only ? 1 : 1 + rnd(9);

	b[0] = '\0';
	maybe_ws(b, len, loose);
	strncat(b, "{", len - strlen(b) - 1);
	for (unsigned j = 0; j < m; j++)
	{
		char		k[32];

		snprintf(k, sizeof(k), "%s\"%s\":", j ? "," : "", key_only ? "id" : cols[rnd(9)]);
		strncat(b, k, len - strlen(b) - 1);
		maybe_ws(b, len, loose);
		rnd_value(b, len, 0, loose);
	}
	strncat(b, "}", len - strlen(b) - 1);
}

static void
test_random_images_match_tree_path(void **state)
{
	(void) state;
	for (size_t s = 0; s < NSETS; s++)
	{
		trib_config *cfg;
		trib_rules *rs = load(s, &cfg);

		for (int i = 0; i < 3000; i++)
		{
			char		after[2048];
			char		before[2048];
			char		key[512];

			rnd_object(after, sizeof(after), false);
			rnd_object(before, sizeof(before), false);
			rnd_object(key, sizeof(key), true);
			compare(rs, s, rnd(3) == 0 ? before : NULL, after, rnd(4) ? key : NULL);
		}
		trib_rules_free(rs);
		trib_config_free(cfg);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_images_match_tree_path),
		cmocka_unit_test(test_random_images_match_tree_path),
		cmocka_unit_test(test_same_value_in_images_match_tree_path),
		cmocka_unit_test(test_same_token_runs_text_op_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
