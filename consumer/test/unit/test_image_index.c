/*
 * test_image_index.c: the image index the PostgreSQL record parse leaves
 * on an event (event.h, pgrecord_build.c) and the rules' text path that
 * uses it (rules_splice.c).
 *
 * - The parse's index says where each member of `after` and `key` is
 *   (names and values at the offsets it gives), for records the fast scan
 *   takes, whatever whitespace the record has; a record with escapes
 *   (the yajl parse) gets none.
 * - Rules on a parsed event give byte for byte what they give on the
 *   same texts without an index (the full scan) and on trees: fixed and
 *   random records, the masking rules and nested, object and refused
 *   values.
 * - The index is used when it describes the text (an index that leaves a
 *   member out hides it from the rules), and never when the text changed:
 *   an `after` replaced by another text of the same length, or of another
 *   length, is indexed from its text; the rules' write-back forgets the
 *   part it replaced.
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
#include "pgrecord.h"
#include "rules.h"
#include "rules_splice.h"

#define HEAD \
	"pipeline: t\n" \
	"sources:\n  pg: {type: postgres, dsn: \"dbname=x\", snapshot: never}\n" \
	"sinks:\n  out: {type: stdout}\n  dlq: {type: file, path: /tmp/never-opened.jsonl}\n" \
	"transforms:\n"
#define K "key: \"00112233445566778899aabbccddeeff\""

static const char *const rule_sets[] = {
	/* the five of bench/transforms.sh, and the key's second column */
	"  - {type: substitute, fields: [name], kind: full_name, " K "}\n"
	"  - {type: hash, fields: [email], context: email, " K "}\n"
	"  - {type: perturb, fields: [amount], percent: 5, " K "}\n"
	"  - {type: partial, fields: [meta.k], keep_last: 2}\n"
	"  - {type: tokenize, fields: [id], alphabet: digits, " K "}\n"
	"  - {type: hash, fields: [k2], " K "}\n",
	/* nested paths, an object as the value, two rules on one field */
	"  - {type: redact, fields: [email, meta.k.deep], with: \"null\"}\n"
	"  - {type: redact, fields: [name]}\n"
	"  - {type: hash, fields: [name, meta.j], " K "}\n"
	"  - {type: partial, fields: [meta], keep_first: 1}\n",
	/* arrays take the tree path; values a strategy refuses */
	"  - {type: partial, fields: [tags, id], keep_last: 1}\n"
	"  - {type: generalize, fields: [amount], mode: range, width: 10}\n"
	"  - {type: perturb, fields: [created], days: 3, " K "}\n",
};

#define NSETS (sizeof(rule_sets) / sizeof(rule_sets[0]))

#define REC_HEAD "\"xid\":701,\"commit_lsn\":\"0/1000100\",\"ts\":\"2026-11-22T10:00:01.1Z\"," \
	"\"lsn\":\"0/1000080\",\"seq\":1,\"schema\":\"public\",\"table\":\"t\""

/* public.t, keyed by (id, k2). */
static const char *const relation =
	"{\"kind\":\"relation\",\"xid\":700,\"commit_lsn\":\"0/1000000\",\"ts\":\"2026-11-22T10:00:00Z\","
	"\"lsn\":\"0/1000000\",\"relid\":16384,\"schema\":\"public\",\"table\":\"t\","
	"\"replica_identity\":\"default\",\"columns\":["
	"{\"name\":\"id\",\"type\":\"bigint\",\"type_oid\":20,\"typmod\":-1,\"nullable\":false,\"pk\":true,\"identity\":true},"
	"{\"name\":\"k2\",\"type\":\"text\",\"type_oid\":25,\"typmod\":-1,\"nullable\":false,\"pk\":true,\"identity\":true},"
	"{\"name\":\"name\",\"type\":\"text\",\"type_oid\":25,\"typmod\":-1,\"nullable\":true,\"pk\":false,\"identity\":false}],"
	"\"primary_key\":[\"id\",\"k2\"],\"identity_key\":[\"id\",\"k2\"]}";

/* Row images for insert records (the key is built from id and k2). */
static const char *const images[] = {
	"{\"id\":123456,\"k2\":\"a\",\"name\":\"name1\",\"email\":\"user1@example.com\",\"amount\":1.50,"
	"\"created\":\"2026-12-05 02:42:00.1+00\",\"active\":false,\"meta\":{\"k\": 1}}",
	"{ \"id\" : 7 , \"k2\" :\"b\",\t\"name\"\n:\r\"x y\" }",
	"{\"k2\":\"c\",\"id\":8,\"name\":\"café ü 日本\",\"email\":\"é@ü.example\",\"meta\":{\"k\":\"日本語\"}}",
	"{\"id\":null,\"k2\":\"\",\"name\":null,\"email\":null,\"amount\":null,\"meta\":null}",
	"{\"id\":11,\"k2\":\"d\",\"meta\":{\"k\": {\"deep\" : \"v\"}, \"j\": [1, {\"k\": 2}]},\"tags\":[\"a\", \"bb\"]}",
	"{\"id\":12,\"k2\":\"e\",\"meta\":[{\"k\":1},{\"k\":\"two\"}]}",
	"{\"id\":-0.5e+3,\"k2\":\"f\",\"amount\":1e400,\"name\":true,\"email\":false}",
	"{\"id\":123456789012345678901234567890,\"k2\":\"g\",\"amount\":-99999999999999999999.99}",
	"{\"id\":15,\"k2\":\"h\",\"email\":\"a@b\",\"meta\":{\"k\":1,\"k\":2}}",
	"{\"id\":16,\"k2\":\"i\",\"name\":\"n\",\"name\":\"m\"}",
	"{\"id\":17,\"k2\":\"j\",\"amount\":\"not a number\",\"created\":\"not a date\"}",
	"{\"id\":18,\"k2\":\"k\",\"name\":\"esc\\\"aped\"}",	/* the yajl parse: no index */
	"{\"id\":19,\"name\":\"no k2: no key\"}",
	"{}",
};

#define NIMAGES (sizeof(images) / sizeof(images[0]))

/* public.w, keyed by id alone, as W1's table. */
static const char *const relation_w =
	"{\"kind\":\"relation\",\"xid\":700,\"commit_lsn\":\"0/1000000\",\"ts\":\"2026-11-22T10:00:00Z\","
	"\"lsn\":\"0/1000000\",\"relid\":16385,\"schema\":\"public\",\"table\":\"w\","
	"\"replica_identity\":\"default\",\"columns\":["
	"{\"name\":\"id\",\"type\":\"bigint\",\"type_oid\":20,\"typmod\":-1,\"nullable\":false,\"pk\":true,\"identity\":true}],"
	"\"primary_key\":[\"id\"],\"identity_key\":[\"id\"]}";

static trib_pgrec_parser *
new_parser(void)
{
	trib_pgrec_parser *p = trib_pgrec_parser_new("pg", "db");
	const char *const rels[] = {relation, relation_w};
	char		err[512];

	trib_pgrec_parser_set_image_index(p, true);

	for (int i = 0; i < 2; i++)
	{
		trib_pgrec *rec = NULL;

		if (!trib_pgrec_parser_parse(p, rels[i], strlen(rels[i]), &rec, err, sizeof(err)))
			fail_msg("relation record: %s", err);
		trib_pgrec_free(rec);
	}
	return p;
}

/* The event of record rec. */
static trib_event *
parse_record(trib_pgrec_parser *p, const char *rec)
{
	char		err[512];
	trib_pgrec *r = NULL;
	trib_event *ev;

	if (!trib_pgrec_parser_parse(p, rec, strlen(rec), &r, err, sizeof(err)) || r == NULL)
		fail_msg("record %s: %s", rec, err);
	ev = trib_pgrec_take_event(r);
	trib_pgrec_free(r);
	assert_non_null(ev);
	return ev;
}

/* The event of an insert (or, with old, an update) record of image img. */
static trib_event *
parse_event(trib_pgrec_parser *p, const char *old, const char *img)
{
	char		rec[4096];

	if (old)
		snprintf(rec, sizeof(rec), "{\"kind\":\"update\"," REC_HEAD ",\"old\":%s,\"new\":%s}", old, img);
	else
		snprintf(rec, sizeof(rec), "{\"kind\":\"insert\"," REC_HEAD ",\"new\":%s}", img);
	return parse_record(p, rec);
}

static trib_rules *
load(const char *rules, trib_config **cfg)
{
	char		yaml[8192];
	char		err[1024];
	trib_rules *rs;

	snprintf(yaml, sizeof(yaml), HEAD "%s", rules);
	if (!trib_config_load_buffer("t.yaml", yaml, strlen(yaml), cfg, err, sizeof(err)))
		fail_msg("config did not load: %s\n%s", err, yaml);
	if ((rs = trib_rules_new(*cfg, NULL, err, sizeof(err))) == NULL)
		fail_msg("rules: %s", err);
	return rs;
}

/* The index part `which` of ev names each member at its offsets. */
static void
check_part(const trib_event *ev, int which, const char *text)
{
	const trib_image_part *pt = trib_image_index_part(ev, which, text, strlen(text));

	assert_non_null(pt);
	for (uint32_t k = 0; k < pt->n; k++)
	{
		const trib_image_member *m = &ev->image_index->m[pt->first + k];

		assert_true(m->name >= 1 && text[m->name - 1] == '"' && text[m->name + m->name_len] == '"');
		assert_true(m->value > m->name + m->name_len && m->value_end <= strlen(text));
		assert_true(strchr(" \t\r\n:", text[m->value - 1]) != NULL);
		assert_true(strchr(",} \t\r\n", text[m->value_end]) != NULL);
	}
}

static void
test_parse_indexes_after_and_key(void **state)
{
	trib_pgrec_parser *p = new_parser();

	(void) state;
	for (size_t i = 0; i < NIMAGES; i++)
	{
		trib_event *ev = parse_event(p, NULL, images[i]);

		if (strchr(images[i], '\\') != NULL)
			assert_null(ev->image_index);	/* the yajl parse */
		else
		{
			assert_non_null(ev->image_index);
			check_part(ev, TRIB_IMAGE_AFTER, ev->after);
			if (ev->key)
			{
				check_part(ev, TRIB_IMAGE_KEY, ev->key);
				assert_int_equal(ev->image_index->part[TRIB_IMAGE_KEY].n, 2);
			}
		}
		trib_event_free(ev);
	}
	/* the first image: names and values where the index says */
	{
		trib_event *ev = parse_event(p, NULL, images[1]);
		const trib_image_member *m = ev->image_index->m;

		assert_int_equal(ev->image_index->part[TRIB_IMAGE_AFTER].n, 3);
		assert_memory_equal(ev->after + m[2].name, "name", 4);
		assert_int_equal(m[2].value_end - m[2].value, 5);
		assert_memory_equal(ev->after + m[2].value, "\"x y\"", 5);
		assert_string_equal(ev->key, "{\"id\" : 7,\"k2\" :\"b\"}");
		assert_memory_equal(ev->key + m[4].value, "\"b\"", 3);
		trib_event_free(ev);
	}
	trib_pgrec_parser_free(p);
}

/* A parser leaves the index only when asked (the pipeline asks when it
 * has rules: TRIB_NEED_IMAGE_INDEX), since building it costs every parse. */
static void
test_index_only_when_asked(void **state)
{
	trib_pgrec_parser *p = new_parser();
	trib_event *ev;

	(void) state;
	trib_pgrec_parser_set_image_index(p, false);
	ev = parse_event(p, NULL, images[1]);
	assert_null(ev->image_index);
	assert_non_null(ev->after);
	trib_event_free(ev);
	trib_pgrec_parser_set_image_index(p, true);
	ev = parse_event(p, NULL, images[1]);
	assert_non_null(ev->image_index);
	trib_event_free(ev);
	trib_pgrec_parser_free(p);
}

typedef struct outcome
{
	trib_verdict v;
	char		err[1024];
	char	   *after;
	char	   *key;
	char	   *before;
	char	   *error;
} outcome;

static char *
dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* ev (consumed) through the rules, the text path on or off. */
static void
run(trib_rules *rs, trib_event *ev, bool text_path, outcome *o)
{
	memset(o, 0, sizeof(*o));
	rl_splice_enabled = text_path;
	o->v = trib_rules_apply(rs, ev, o->err, sizeof(o->err));
	rl_splice_enabled = true;
	o->after = dup(ev->after);
	o->key = dup(ev->key);
	o->before = dup(ev->before);
	o->error = dup(ev->error);
	trib_event_free(ev);
}

static void
outcome_free(outcome *o)
{
	free(o->after);
	free(o->key);
	free(o->before);
	free(o->error);
}

static void
same(const char *what, const char *a, const char *b, const char *img)
{
	if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
		fail_msg("%s differs for image %s\n  indexed:   %s\n  unindexed: %s", what, img,
				 a ? a : "(null)", b ? b : "(null)");
}

/* The parsed event (with its index) against the same texts without it,
 * by the text path's full scan and by trees. */
static void
compare(trib_rules *rs, trib_pgrec_parser *p, const char *old, const char *img)
{
	trib_event *ev = parse_event(p, old, img);
	outcome		with,
				other;

	for (int tree = 0; tree <= 1; tree++)
	{
		trib_event *plain = trib_event_new();

		trib_event_copy(ev, plain);
		free(plain->image_index);
		plain->image_index = NULL;
		run(rs, plain, !tree, &other);
		if (tree == 0)
		{
			trib_event *copy = trib_event_new();

			trib_event_copy(ev, copy);
			run(rs, copy, true, &with);
		}
		if (with.v != other.v)
			fail_msg("image %s: verdict %d indexed, %d %s", img, with.v, other.v,
					 tree ? "tree" : "scanned");
		same("error", with.err, other.err, img);
		same("after", with.after, other.after, img);
		same("key", with.key, other.key, img);
		same("before", with.before, other.before, img);
		same("dead-letter reason", with.error, other.error, img);
		outcome_free(&other);
	}
	outcome_free(&with);
	trib_event_free(ev);
}

static void
test_fixed_records_match_unindexed(void **state)
{
	trib_pgrec_parser *p = new_parser();
	unsigned long hits = rl_splice_source_hits;

	(void) state;
	for (size_t s = 0; s < NSETS; s++)
	{
		trib_config *cfg;
		trib_rules *rs = load(rule_sets[s], &cfg);

		for (size_t i = 0; i < NIMAGES; i++)
		{
			compare(rs, p, NULL, images[i]);
			compare(rs, p, images[(i + 1) % NIMAGES], images[i]);
		}
		trib_rules_free(rs);
		trib_config_free(cfg);
	}
	/* each set on each of the 13 indexed images and their keys, twice */
	assert_true(rl_splice_source_hits - hits >= NSETS * 2 * 13);
	trib_pgrec_parser_free(p);
}

static unsigned rnd_state = 4242;

static unsigned
rnd(unsigned n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 16) % n;
}

static void
add(char *b, size_t len, const char *s)
{
	strncat(b, s, len - strlen(b) - 1);
}

/* Whitespace now and then, as PostgreSQL writes jsonb or worse. */
static void
ws(char *b, size_t len)
{
	static const char *const w[] = {" ", "\n", "\t", "  ", "\r\n"};

	if (rnd(3) == 0)
		add(b, len, w[rnd(5)]);
}

static void
rnd_value(char *b, size_t len, int depth)
{
	static const char *const scalars[] = {
		"0", "-1", "123456", "12.50", "-0.001", "1e5", "2.5E-3", "99999999999999999999",
		"null", "true", "false", "\"\"", "\"plain\"", "\"Ann Lee\"", "\"a@b.example\"",
		"\"日本語\"", "\"é@ü.example\"", "\"2026-11-22\"", "\"12.5\"", "\"a,b:}\"",
	};
	unsigned	k = depth < 2 ? rnd(8) : 9;

	if (k == 0)
	{
		add(b, len, "{");
		for (unsigned m = rnd(3), j = 0; j < m; j++)
		{
			static const char *const keys[] = {"\"k\"", "\"j\"", "\"deep\"", "\"k\""};

			if (j)
				add(b, len, ",");
			ws(b, len);
			add(b, len, keys[rnd(4)]);
			ws(b, len);
			add(b, len, ":");
			ws(b, len);
			rnd_value(b, len, depth + 1);
		}
		add(b, len, "}");
	}
	else if (k == 1)
	{
		add(b, len, "[");
		rnd_value(b, len, depth + 1);
		add(b, len, ",");
		ws(b, len);
		rnd_value(b, len, depth + 1);
		add(b, len, "]");
	}
	else
		add(b, len, scalars[rnd(sizeof(scalars) / sizeof(scalars[0]))]);
}

/* A random row over the table's columns and more (some missing, some
 * twice), whitespace between tokens now and then. */
static void
rnd_image(char *b, size_t len)
{
	static const char *const cols[] = {"id", "k2", "name", "email", "amount", "created",
	"meta", "tags", "active"};
	unsigned	m = rnd(10);

	b[0] = '\0';
	add(b, len, "{");
	for (unsigned j = 0; j < m; j++)
	{
		char		k[32];

		snprintf(k, sizeof(k), "%s\"%s\"", j ? "," : "", cols[rnd(9)]);
		ws(b, len);
		add(b, len, k);
		ws(b, len);
		add(b, len, ":");
		ws(b, len);
		rnd_value(b, len, 0);
		ws(b, len);
	}
	add(b, len, "}");
}

static void
test_random_records_match_unindexed(void **state)
{
	trib_pgrec_parser *p = new_parser();

	(void) state;
	for (size_t s = 0; s < NSETS; s++)
	{
		trib_config *cfg;
		trib_rules *rs = load(rule_sets[s], &cfg);

		for (int i = 0; i < 1500; i++)
		{
			char		img[1500];
			char		old[1500];

			rnd_image(img, sizeof(img));
			rnd_image(old, sizeof(old));
			compare(rs, p, rnd(3) == 0 ? old : NULL, img);
		}
		trib_rules_free(rs);
		trib_config_free(cfg);
	}
	trib_pgrec_parser_free(p);
}

/* An index of {"a":"1","b":"2"} that lists b only: the rules then see no
 * a, so the index is what they use; after another text of the same
 * length, they see a again. */
static void
test_index_used_only_for_its_text(void **state)
{
	static const char text[] = "{\"a\":\"1\",\"b\":\"2\"}";
	static const char other[] = "{\"b\":\"2\",\"a\":\"1\"}";
	trib_config *cfg;
	trib_rules *rs = load("  - {type: redact, fields: [a], with: \"null\"}\n", &cfg);
	char		err[256];

	(void) state;
	for (int stale = 0; stale <= 1; stale++)
	{
		trib_event *ev = trib_event_new();
		trib_image_index *ix = calloc(1, sizeof(*ix) + sizeof(trib_image_member));

		ix->nm = 1;
		ix->m[0] = (trib_image_member) {10, 1, 13, 16};	/* "b":"2" */
		ix->part[TRIB_IMAGE_AFTER] = (trib_image_part) {trib_image_hash(text, 17), 17, 0, 1};
		ix->part[TRIB_IMAGE_KEY].len = UINT32_MAX;
		ev->op = TRIB_OP_CREATE;
		ev->source = "pg";
		ev->schema = "public";
		ev->table = "t";
		ev->after = strdup(stale ? other : text);
		ev->image_index = ix;
		assert_int_equal(trib_rules_apply(rs, ev, err, sizeof(err)), TRIB_VERDICT_KEEP);
		if (stale)
			assert_string_equal(ev->after, "{\"b\":\"2\",\"a\":null}");
		else
			assert_string_equal(ev->after, text);	/* a hidden by the index */
		trib_event_free(ev);
	}
	trib_rules_free(rs);
	trib_config_free(cfg);
}

/* A parsed event whose after a transform replaced (same length, members
 * moved; another length) without a word to the index: the rules index the
 * new text. */
static void
test_replaced_after_is_not_read_by_the_old_index(void **state)
{
	static const char *const repl[] = {
		"{\"email\":\"u@x\",\"id\":1,\"k2\":\"a\",\"name\":\"nm\"}",
		"{\"name\":\"nm\",\"id\":1,\"k2\":\"a\",\"email\":\"u@x\"}",
		"{\"name\":\"a much longer name\",\"id\":1}",
	};
	trib_pgrec_parser *p = new_parser();
	trib_config *cfg;
	trib_rules *rs = load(rule_sets[0], &cfg);

	(void) state;
	for (size_t i = 0; i < sizeof(repl) / sizeof(repl[0]); i++)
	{
		trib_event *ev = parse_event(p, NULL, "{\"id\":1,\"k2\":\"a\",\"name\":\"nm\",\"email\":\"u@x\"}");
		trib_event *plain = trib_event_new();
		outcome		a,
					b;

		assert_non_null(trib_image_index_part(ev, TRIB_IMAGE_AFTER, ev->after, strlen(ev->after)));
		if (i < 2)
			assert_int_equal(strlen(repl[i]), strlen(ev->after));
		free(ev->after);
		ev->after = strdup(repl[i]);
		trib_event_copy(ev, plain);
		free(plain->image_index);
		plain->image_index = NULL;
		run(rs, ev, true, &a);
		run(rs, plain, true, &b);
		same("after", a.after, b.after, repl[i]);
		same("key", a.key, b.key, repl[i]);
		outcome_free(&a);
		outcome_free(&b);
	}
	trib_rules_free(rs);
	trib_config_free(cfg);
	trib_pgrec_parser_free(p);
}

/* A W1 row's after and key are indexed from the parse's index; the
 * rules' write-back replaces them: their parts are forgotten, so a second
 * pass indexes the new texts. */
static void
test_index_read_then_forgotten_by_write_back(void **state)
{
	trib_pgrec_parser *p = new_parser();
	trib_config *cfg;
	trib_rules *rs = load(rule_sets[0], &cfg);
	trib_event *ev = parse_record(p, "{\"kind\":\"insert\",\"xid\":701,\"commit_lsn\":\"0/1000100\","
								  "\"ts\":\"2026-11-22T10:00:01.1Z\",\"lsn\":\"0/1000080\",\"seq\":1,"
								  "\"schema\":\"public\",\"table\":\"w\",\"new\":{\"id\":123456,"
								  "\"name\":\"name1\",\"email\":\"user1@example.com\",\"amount\":1.50,"
								  "\"meta\":{\"k\": 1}}}");
	char		err[256];
	unsigned long hits = rl_splice_source_hits;

	(void) state;
	assert_int_equal(trib_rules_apply(rs, ev, err, sizeof(err)), TRIB_VERDICT_KEEP);
	assert_int_equal(rl_splice_source_hits - hits, 2);	/* after and key from the index */
	assert_int_equal(ev->image_index->part[TRIB_IMAGE_AFTER].len, UINT32_MAX);
	assert_int_equal(ev->image_index->part[TRIB_IMAGE_KEY].len, UINT32_MAX);
	assert_null(trib_image_index_part(ev, TRIB_IMAGE_AFTER, ev->after, strlen(ev->after)));
	trib_event_free(ev);
	trib_rules_free(rs);
	trib_config_free(cfg);
	trib_pgrec_parser_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_indexes_after_and_key),
		cmocka_unit_test(test_index_only_when_asked),
		cmocka_unit_test(test_fixed_records_match_unindexed),
		cmocka_unit_test(test_random_records_match_unindexed),
		cmocka_unit_test(test_index_used_only_for_its_text),
		cmocka_unit_test(test_replaced_after_is_not_read_by_the_old_index),
		cmocka_unit_test(test_index_read_then_forgotten_by_write_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
