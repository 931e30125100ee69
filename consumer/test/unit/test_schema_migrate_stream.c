/*
 * test_schema_migrate_stream.c: the streaming pass of the migrations
 * (schema_migrate_stream.c) against the tree path it replaces
 * (schema_migrate_apply.c).  Every image is migrated both ways and the
 * bytes must be equal, and the expected text is spelled out: each step
 * kind, an added field renamed or cast by a later step, escaped and
 * unicode strings, big, negative and exponent numbers, null, nested
 * values, missing and unknown columns, the key image, the list of
 * unchanged TOAST columns, the target's order (kept when the relation has
 * it, restored when not), and every case where the pass must leave the
 * image to the tree path (a cast of a nested value, a value a cast
 * refuses, duplicate keys, a rename onto a present field, a NUL in a
 * string, text that is not an object, a `set` step).
 *
 * Then many images built at random (a fixed seed) from pieces that
 * exercise the pass's byte copying: strings with and without escapes
 * (quote, backslash, controls, \/, \u escapes, surrogate pairs, raw
 * UTF-8), escaped and unknown member names, null, true, false, numbers in
 * every JSON form, nested objects and arrays, white space and comments,
 * members in the relation's order or shuffled, duplicate names, and text
 * cut short, each through four plans (bench_migrate's three steps, every
 * step kind with added fields, chains of casts, a target in the
 * relation's order with a longer name) as a value and as a key image.
 * Whenever the pass takes an image, the tree path must take it too and
 * give the same bytes; when it gives up, the image must be untouched;
 * and each plan must stream at least a quarter of them, so the comparison
 * is not vacuous; a share of those, and not all, must have been lexed by
 * lib/jscan.h rather than yajl, so both lexers are compared.  Results longer than the image (a new allocation) and
 * shorter (written over it) are both checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "event.h"
#include "schema_migrate_int.h"
#include "strbuf.h"

static char errbuf[4096];

/* A plan of STEPS (YAML flow maps, one per line) for a relation of the
 * given columns (the first is the key) to target fields `fields`. */
typedef struct plan_fx
{
	trib_config *cfg;
	trib_migrate *m;
	trib_migrate_plan *p;
	trib_column cols[16];
	trib_relation rel;
} plan_fx;

static void
plan_open(plan_fx *f, const char *steps, const char *const *cols, char *const *fields,
		  size_t nfields)
{
	char		yaml[4096];

	memset(f, 0, sizeof(*f));
	snprintf(yaml, sizeof(yaml),
			 "pipeline: shop\n"
			 "sources:\n  main: {type: postgres, dsn: \"dbname=shop\"}\n"
			 "sinks:\n  out: {type: stdout}\n"
			 "schemas:\n  enabled: true\n  migrations:\n"
			 "    - subject: s\n      target: 1\n      steps:\n%s", steps);
	if (!trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &f->cfg, errbuf, sizeof(errbuf)))
		fail_msg("config: %s", errbuf);
	if (!trib_migrate_new(&f->cfg->schemas, &f->m, errbuf, sizeof(errbuf)))
		fail_msg("migrator: %s", errbuf);
	for (int i = 0; cols[i] != NULL; i++)
	{
		f->cols[i].name = (char *) cols[i];
		f->cols[i].type = "text";
		f->cols[i].nullable = i > 0;
		f->cols[i].pk = i == 0;
		f->rel.ncolumns = i + 1;
	}
	f->rel.schema = "public";
	f->rel.table = "t";
	f->rel.columns = f->cols;
	f->p = trib_migrate_plan_new(trib_migrate_find(f->m, "s"), &f->rel, 2, 1, fields, nfields,
								 errbuf, sizeof(errbuf));
	if (f->p == NULL)
		fail_msg("plan: %s", errbuf);
}

static void
plan_close(plan_fx *f)
{
	trib_migrate_plan_free(f->p);
	trib_migrate_free(f->m);
	trib_config_free(f->cfg);
}

/* The image through the tree path (NULL when it reports an error, which
 * is then in errbuf). */
static char *
by_tree(plan_fx *f, const char *image, bool key)
{
	trib_event	ev = {.op = TRIB_OP_CREATE};
	char	   *t = strdup(image);

	if (!trib_migrate_image_tree(f->m, f->p, &ev, &t, key, errbuf, sizeof(errbuf)))
	{
		free(t);
		return NULL;
	}
	return t;
}

/* The image through the streaming pass must give `want`, as the tree path
 * does. */
static void
streams_to(plan_fx *f, const char *image, bool key, const char *want)
{
	char	   *s = strdup(image);
	char	   *t = by_tree(f, image, key);

	if (!trib_migrate_stream(f->m, f->p, &s, key))
		fail_msg("the streaming pass gave up on %s", image);
	if (t == NULL)
		fail_msg("the tree path failed on %s: %s", image, errbuf);
	if (strcmp(s, t) != 0)
		fail_msg("stream and tree differ on %s\n  stream: %s\n  tree:   %s", image, s, t);
	if (strcmp(s, want) != 0)
		fail_msg("wrong image from %s\n  got:      %s\n  expected: %s", image, s, want);
	free(s);
	free(t);
}

/* The streaming pass must leave the image (untouched) to the tree path. */
static void
leaves_to_tree(plan_fx *f, const char *image, bool key)
{
	char	   *s = strdup(image);

	if (trib_migrate_stream(f->m, f->p, &s, key))
		fail_msg("the streaming pass took %s, giving %s", image, s);
	assert_string_equal(s, image);
	free(s);
}

static const char *const cols_abc[] = {"id", "a", "b", "c", NULL};

static void
rename_drop_cast_and_add_in_the_targets_order(void **state)
{
	static char *fields[] = {"flag", "id", "n", "name", "since"};
	plan_fx		f;

	(void) state;
	plan_open(&f, "        - {rename: a, to: name}\n"
			  "        - {drop: b}\n"
			  "        - {rename: c, to: n}\n"
			  "        - {cast: n, as: integer}\n"
			  "        - {add: since, default: '\"2020-01-01\"'}\n"
			  "        - {add: flag, default: 'true'}\n"
			  "        - {add: id, default: '0'}\n",
			  cols_abc, fields, 5);
	streams_to(&f, "{\"id\":1,\"a\":\"x\",\"b\":{\"deep\":[1,2,{\"z\":null}]},\"c\":\"42\"}", false,
			   "{\"flag\":true,\"id\":1,\"n\":42,\"name\":\"x\",\"since\":\"2020-01-01\"}");
	/* a column missing from the image stays missing (only add creates) */
	streams_to(&f, "{\"id\":2,\"b\":3}", false,
			   "{\"flag\":true,\"id\":2,\"since\":\"2020-01-01\"}");
	/* id absent: the add's default; null is never cast */
	streams_to(&f, "{\"c\":null,\"a\":null}", false,
			   "{\"flag\":true,\"id\":0,\"n\":null,\"name\":null,\"since\":\"2020-01-01\"}");
	/* the key image: renames, drops and casts only, in its own order */
	streams_to(&f, "{\"c\":\"7\",\"id\":1}", true, "{\"n\":7,\"id\":1}");
	plan_close(&f);
}

static void
every_cast_kind(void **state)
{
	static char *fields[] = {"b", "i", "n", "s", "t"};
	static const char *const cols[] = {"i", "n", "s", "b", "t", NULL};
	plan_fx		f;

	(void) state;
	plan_open(&f, "        - {cast: i, as: integer}\n"
			  "        - {cast: n, as: number}\n"
			  "        - {cast: s, as: string}\n"
			  "        - {cast: b, as: boolean}\n"
			  "        - {cast: t, as: string}\n"
			  "        - {cast: t, as: boolean}\n",
			  cols, fields, 5);
	streams_to(&f, "{\"i\":\"-12\",\"n\":\"1.5e-3\",\"s\":-0.25E+10,\"b\":\"t\",\"t\":1}", false,
			   "{\"b\":true,\"i\":-12,\"n\":1.5e-3,\"s\":\"-0.25E+10\",\"t\":true}");
	streams_to(&f, "{\"i\":123456789012345678901234567890,\"n\":-7,\"s\":true,\"b\":0,"
			   "\"t\":false}", false,
			   "{\"b\":false,\"i\":123456789012345678901234567890,\"n\":-7,\"s\":\"true\","
			   "\"t\":false}");
	streams_to(&f, "{\"i\":\" 5 \",\"n\":\"-0\",\"s\":\"x\",\"b\":\"false\",\"t\":\"f\"}", false,
			   "{\"b\":false,\"i\":5,\"n\":-0,\"s\":\"x\",\"t\":false}");
	/* values a cast refuses: the tree path reports them */
	leaves_to_tree(&f, "{\"i\":\"1.5\",\"n\":1,\"s\":1,\"b\":true,\"t\":1}", false);
	assert_null(by_tree(&f, "{\"i\":\"1.5\",\"n\":1,\"s\":1,\"b\":true,\"t\":1}", false));
	assert_non_null(strstr(errbuf, "field i: the value is not an integer"));
	leaves_to_tree(&f, "{\"i\":1,\"n\":1,\"s\":1,\"b\":\"yes\",\"t\":1}", false);
	/* a cast of an object or array: the tree path writes its JSON text */
	leaves_to_tree(&f, "{\"i\":1,\"n\":1,\"s\":[1,{\"a\":2}],\"b\":true,\"t\":1}", false);
	{
		char	   *t = by_tree(&f, "{\"i\":1,\"n\":1,\"s\":[1,{\"a\":2}],\"b\":true,\"t\":1}", false);

		assert_string_equal(t, "{\"b\":true,\"i\":1,\"n\":1,\"s\":\"[1,{\\\"a\\\":2}]\",\"t\":true}");
		free(t);
	}
	plan_close(&f);
}

static void
strings_are_decoded_and_encoded_as_the_tree_path_does(void **state)
{
	static char *fields[] = {"id", "k", "v"};
	static const char *const cols[] = {"id", "k", "v", "x", NULL};
	plan_fx		f;

	(void) state;
	plan_open(&f, "        - {drop: x}\n", cols, fields, 3);
	/* escapes: quote, backslash, controls, \/ and \u escapes (written as
	 * UTF-8, as yajl_gen does), a surrogate pair */
	streams_to(&f, "{\"id\":1,\"v\":\"a\\\"b\\\\c\\n\\t\\u0001\\/\\u00e9\\ud83d\\ude00\","
			   "\"x\":\"\\u0041\"}", false,
			   "{\"id\":1,\"v\":\"a\\\"b\\\\c\\n\\t\\u0001/\xc3\xa9\xf0\x9f\x98\x80\"}");
	/* raw UTF-8 and escaped member names */
	streams_to(&f, "{\"id\":2,\"v\":\"\xe6\x97\xa5\xe6\x9c\xac\",\"k\\u0031\":[],"
			   "\"\\u006b\":{\"a\\\"\":[\"\\n\",{}]}}", false,
			   "{\"id\":2,\"k\":{\"a\\\"\":[\"\\n\",{}]},\"v\":\"\xe6\x97\xa5\xe6\x9c\xac\","
			   "\"k1\":[]}");
	/* white space and a comment, as yajl_tree_parse takes them */
	streams_to(&f, " { \"id\" : -1.0e+2 , /* c */ \"v\" : null } ", false,
			   "{\"id\":-1.0e+2,\"v\":null}");
	/* a NUL in a string: the tree path cuts it there; left to it */
	leaves_to_tree(&f, "{\"id\":1,\"v\":\"a\\u0000b\"}", false);
	plan_close(&f);
}

static void
unknown_columns_follow_the_targets_fields(void **state)
{
	static char *fields[] = {"a", "id"};
	static const char *const cols[] = {"id", "a", NULL};
	plan_fx		f;

	(void) state;
	plan_open(&f, "        - {rename: b, to: a}\n", cols, fields, 2);
	/* the relation has no b: the plan holds; an image that has one */
	streams_to(&f, "{\"zz\":1,\"id\":1,\"yy\":[2],\"a\":3}", false,
			   "{\"a\":3,\"id\":1,\"zz\":1,\"yy\":[2]}");
	/* a rename onto a field that is present, duplicate keys: tree path */
	leaves_to_tree(&f, "{\"id\":1,\"a\":1,\"b\":2}", false);
	leaves_to_tree(&f, "{\"id\":1,\"id\":2}", false);
	leaves_to_tree(&f, "{\"id\":1,\"q\":2,\"q\":3}", false);
	plan_close(&f);
	/* a dropped key twice: the tree path drops the first only (the fuzz
	 * target found it) */
	plan_open(&f, "        - {drop: x}\n", cols_abc, (char *[]) {"a", "b", "c", "id"}, 4);
	leaves_to_tree(&f, "{\"id\":1,\"x\":{\"a\":1},\"x\":2}", false);
	streams_to(&f, "{\"id\":1,\"x\":{\"a\":1},\"c\":2}", false, "{\"c\":2,\"id\":1}");
	/* not an object, or not JSON: the tree path's error */
	leaves_to_tree(&f, "[1,2]", false);
	leaves_to_tree(&f, "42", false);
	leaves_to_tree(&f, "{\"id\":1", false);
	leaves_to_tree(&f, "{\"id\":1} x", false);
	plan_close(&f);
}

static void
the_relations_order_is_kept_when_it_is_the_targets(void **state)
{
	static char *fields[] = {"a", "b", "c", "id"};
	static const char *const cols[] = {"a", "b", "c", "id", "x", NULL};
	plan_fx		f;
	char	   *deep;
	size_t		n = 0;

	(void) state;
	plan_open(&f, "        - {drop: x}\n        - {cast: c, as: string}\n", cols, fields, 4);
	streams_to(&f, "{\"a\":1,\"b\":2,\"x\":3,\"c\":4,\"id\":5}", false,
			   "{\"a\":1,\"b\":2,\"c\":\"4\",\"id\":5}");
	streams_to(&f, "{}", false, "{}");
	/* nesting deeper than yajl_gen writes: left to the tree path */
	deep = malloc(2000);
	n += (size_t) sprintf(deep, "{\"a\":");
	for (int i = 0; i < 300; i++)
		deep[n++] = '[';
	for (int i = 0; i < 300; i++)
		deep[n++] = ']';
	strcpy(deep + n, "}");
	leaves_to_tree(&f, deep, false);
	/* but a dropped deep value is only lexed */
	deep[2] = 'x';
	streams_to(&f, deep, false, "{}");
	/* names in it too, deeper than the pass writes (the fuzz target
	 * found a shift past 64 bits there) */
	n = (size_t) sprintf(deep, "{\"x\":");
	for (int i = 0; i < 100; i++)
		n += (size_t) sprintf(deep + n, "{\"k\":");
	deep[n++] = '1';
	for (int i = 0; i < 100; i++)
		deep[n++] = '}';
	strcpy(deep + n, ",\"a\":1}");
	streams_to(&f, deep, false, "{\"a\":1}");
	free(deep);
	plan_close(&f);
}

static void
an_added_field_goes_through_the_later_steps(void **state)
{
	static char *fields[] = {"id", "m", "w"};
	static const char *const cols[] = {"id", NULL};
	plan_fx		f;

	(void) state;
	plan_open(&f, "        - {add: n, default: '\"12\"'}\n"
			  "        - {rename: n, to: m}\n"
			  "        - {cast: m, as: integer}\n"
			  "        - {add: m, default: '99'}\n"
			  "        - {add: v, default: '{\"a\": [1, 2.50]}'}\n"
			  "        - {rename: v, to: w}\n"
			  "        - {add: gone, default: 'null'}\n"
			  "        - {drop: gone}\n",
			  cols, fields, 3);
	streams_to(&f, "{\"id\":1}", false, "{\"id\":1,\"m\":12,\"w\":{\"a\":[1,2.50]}}");
	/* n present in the image: renamed and cast, no default */
	streams_to(&f, "{\"n\":\"-3\",\"id\":1}", false, "{\"id\":1,\"m\":-3,\"w\":{\"a\":[1,2.50]}}");
	/* m present: the add of n still creates n, whose rename meets m */
	leaves_to_tree(&f, "{\"id\":1,\"m\":5}", false);
	plan_close(&f);
}

static void
a_set_step_keeps_row_images_on_the_tree_path(void **state)
{
	static char *fields[] = {"id", "s"};
	static const char *const cols[] = {"id", "a", NULL};
	plan_fx		f;
	trib_event	ev = {.op = TRIB_OP_UPDATE};

	(void) state;
	plan_open(&f, "        - {rename: id, to: id2}\n"
			  "        - {rename: id2, to: id}\n"
			  "        - {set: s, lua: \"after.a .. '!'\"}\n"
			  "        - {drop: a}\n", cols, fields, 2);
	leaves_to_tree(&f, "{\"id\":1,\"a\":\"x\"}", false);
	/* the key has no set: it streams */
	streams_to(&f, "{\"id\":1}", true, "{\"id\":1}");
	ev.after = strdup("{\"a\":\"x\",\"id\":1}");
	ev.key = strdup("{\"id\":1}");
	ev.unchanged = strdup("[\"a\",\"id\"]");
	if (!trib_migrate_plan_apply(f.m, f.p, &ev, errbuf, sizeof(errbuf)))
		fail_msg("%s", errbuf);
	assert_string_equal(ev.after, "{\"id\":1,\"s\":\"x!\"}");
	assert_string_equal(ev.unchanged, "[\"id\"]");
	trib_event_clear(&ev);
	plan_close(&f);
}

static void
an_event_streams_its_images_and_its_unchanged_list(void **state)
{
	static char *fields[] = {"id", "name", "t"};
	static const char *const cols[] = {"id", "full", "t", "x", NULL};
	plan_fx		f;
	trib_event	ev = {.op = TRIB_OP_UPDATE};

	(void) state;
	plan_open(&f, "        - {rename: full, to: name}\n        - {drop: x}\n", cols, fields, 3);
	/* t is an unchanged TOAST column: absent from the images, in the list */
	ev.after = strdup("{\"id\":1,\"full\":\"Ada\",\"x\":1}");
	ev.before = strdup("{\"id\":1,\"full\":null,\"x\":null}");
	ev.key = strdup("{\"id\":1}");
	ev.unchanged = strdup("[\"t\",\"x\"]");
	if (!trib_migrate_plan_apply(f.m, f.p, &ev, errbuf, sizeof(errbuf)))
		fail_msg("%s", errbuf);
	assert_string_equal(ev.after, "{\"id\":1,\"name\":\"Ada\"}");
	assert_string_equal(ev.before, "{\"id\":1,\"name\":null}");
	assert_string_equal(ev.key, "{\"id\":1}");
	assert_string_equal(ev.unchanged, "[\"t\"]");
	trib_event_clear(&ev);
	plan_close(&f);
}

/* ---- many images, both ways ------------------------------------------------ */

#define IMAGES 4000


/* A plan: its steps, the relation's columns and the target's fields. */
typedef struct plan_def
{
	const char *name;
	const char *steps;
	const char *const *cols;
	char	   *const *fields;
	size_t		nfields;
} plan_def;

static const char *const cols_w1[] = {"id", "full_name", "email", "amount", "created", "active",
"meta", "extra", NULL};
static char *fields_w1[] = {"active", "amount", "created", "email", "id", "meta", "name"};

static const char *const cols_all[] = {"id", "full_name", "extra", "active", "amount", "n",
NULL};
static char *fields_all[] = {"active", "amount", "count", "id", "name", "since", "tag"};

static const char *const cols_chain[] = {"id", "a", "b", "c", "d", NULL};
static char *fields_chain[] = {"a", "b", "c", "d", "id"};

static const char *const cols_kept[] = {"amount", "email", "id", "meta", "x", NULL};
static char *fields_kept[] = {"amount", "email", "id", "meta", "y_renamed_longer"};

static const plan_def plans[] = {
	{"W1's three steps",
		"        - {rename: full_name, to: name}\n"
		"        - {drop: extra}\n"
		"        - {cast: active, as: boolean}\n",
	cols_w1, fields_w1, 7},
	{"every step kind",
		"        - {cast: id, as: string}\n"
		"        - {rename: full_name, to: name}\n"
		"        - {add: t, default: '7'}\n"
		"        - {cast: active, as: boolean}\n"
		"        - {drop: extra}\n"
		"        - {rename: t, to: tag}\n"
		"        - {cast: amount, as: number}\n"
		"        - {add: since, default: '\"2020-01-01\"'}\n"
		"        - {rename: n, to: count}\n"
		"        - {cast: tag, as: string}\n"
		"        - {cast: count, as: integer}\n",
	cols_all, fields_all, 7},
	{"chains of casts",
		"        - {cast: a, as: string}\n"
		"        - {cast: a, as: boolean}\n"
		"        - {cast: b, as: boolean}\n"
		"        - {cast: b, as: string}\n"
		"        - {cast: c, as: string}\n"
		"        - {cast: c, as: number}\n"
		"        - {cast: d, as: integer}\n"
		"        - {cast: d, as: string}\n",
	cols_chain, fields_chain, 5},
	{"the relation's order, a longer name",
		"        - {rename: x, to: y_renamed_longer}\n",
	cols_kept, fields_kept, 5},
};

#define NPLANS (sizeof(plans) / sizeof(plans[0]))

/* ---- generated images (a fixed seed, so a failure repeats) --------------- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

/* xorshift64: 0 .. n-1 */
static unsigned
pick(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned) (rng % n);
}

/* Member names besides the relation's columns. */
static const char *const other_names[] = {
	"\"zz\"", "\"n\"", "\"k\\u0031\"", "\"a\\\"b\"", "\"\\u00e9t\xc3\xa9\"", "\"\"",
	"\"name\"", "\"t\"", "\"x\\/y\"", "\"\\ud83d\\ude00\"",
};

/* Scalars, as text. */
static const char *const scalars[] = {
	"null", "true", "false", "0", "-0", "1", "12", "-7", "1.5", "2.50", "-0.25E+10", "1e3",
	"123456789012345678901234567890", "\"\"", "\"x\"", "\"true\"", "\"false\"", "\"t\"",
	"\"f\"", "\"1\"", "\"0\"", "\"yes\"", "\"12\"", "\" 5 \"", "\"1.5\"", "\"-3\"",
	"\"name1\"", "\"user1@example.com\"", "\"2026-12-04T08:14:00.123456Z\"",
	"\"a\\\"b\\\\c\"", "\"\\n\\t\\r\\b\\f\"", "\"\\u0001\\u001f\"", "\"\\/\"",
	"\"\\u00e9\"", "\"\\ud83d\\ude00\"", "\"\xe6\x97\xa5\xe6\x9c\xac\"", "\"caf\xc3\xa9\"",
	"\"\\u0041\\u0042\"", "\"tab\\there\"", "\"\\u0022\"", "\"\\u005c\"",
};

#define NSCALARS (sizeof(scalars) / sizeof(scalars[0]))

/* Every other round of images is plain JSON (no escapes, no comments),
 * the text lib/jscan.h lexes, so that both lexers meet many images. */
static bool plain;

/* One of n texts, a plain one (no backslash) in a plain round. */
static const char *
pick_text(const char *const *texts, unsigned n)
{
	const char *t;

	do
		t = texts[pick(n)];
	while (plain && strchr(t, '\\') != NULL);
	return t;
}

/* Space or a comment between tokens, now and then. */
static void
gap(trib_strbuf *b)
{
	switch (pick(24))
	{
		case 0:
			trib_strbuf_adds(b, " ");
			break;
		case 1:
			trib_strbuf_adds(b, "\n\t");
			break;
		case 2:
			trib_strbuf_adds(b, plain ? " " : "/* c */");
			break;
		default:
			break;
	}
}

static void value(trib_strbuf *b, int depth);

/* A nested object or array of up to four elements. */
static void
nested(trib_strbuf *b, int depth)
{
	bool		array = pick(2) == 0;
	unsigned	n = pick(5);

	trib_strbuf_addc(b, array ? '[' : '{');
	for (unsigned i = 0; i < n; i++)
	{
		if (i > 0)
			trib_strbuf_addc(b, ',');
		gap(b);
		if (!array)
		{
			trib_strbuf_adds(b, pick(2) ? pick_text(other_names, 10) : "\"k\"");
			gap(b);
			trib_strbuf_addc(b, ':');
			gap(b);
		}
		value(b, depth + 1);
		gap(b);
	}
	trib_strbuf_addc(b, array ? ']' : '}');
}

/* A value: mostly scalars, some nested. */
static void
value(trib_strbuf *b, int depth)
{
	if (depth < 4 && pick(6) == 0)
		nested(b, depth);
	else
		trib_strbuf_adds(b, pick_text(scalars, NSCALARS));
}

/* Values the plans' casts take, by the columns they cast. */
static const char *const booleans[] = {"true", "false", "\"t\"", "\"f\"", "1", "0", "\"1\"",
"\"0\"", "\"true\"", "\"false\"", "null"};
static const char *const numbers[] = {"1.5", "\"2.50\"", "-7", "\"1e3\"", "null", "0", "\"-0.5\""};
static const char *const integers[] = {"12", "\"-3\"", "0", "null", "\"7\"", "-1"};

#define PICK(a) (a[pick(sizeof(a) / sizeof(a[0]))])

/* A member's value: mostly one its column's casts take, else any. */
static void
column_value(trib_strbuf *b, const char *col)
{
	if (pick(4) == 0)
		value(b, 1);
	else if (!strcmp(col, "active") || !strcmp(col, "a") || !strcmp(col, "b"))
		trib_strbuf_adds(b, PICK(booleans));
	else if (!strcmp(col, "amount") || !strcmp(col, "c"))
		trib_strbuf_adds(b, PICK(numbers));
	else if (!strcmp(col, "n") || !strcmp(col, "d"))
		trib_strbuf_adds(b, PICK(integers));
	else if (!strcmp(col, "id"))
		trib_strbuf_adds(b, pick_text(scalars, NSCALARS));
	else
		value(b, 1);
}

/* An image of columns cols: each present or not, in the relation's order
 * or shuffled, with now and then another member, a duplicate, or text cut
 * short. */
static char *
image(const char *const *cols)
{
	const char *names[32];
	size_t		n = 0;
	trib_strbuf b = {0};

	for (size_t i = 0; cols[i] != NULL; i++)
		if (pick(8) != 0)
			names[n++] = cols[i];
	if (pick(4) == 0)
		for (size_t i = n; i > 1; i--)
		{
			size_t		j = pick((unsigned) i);
			const char *t = names[i - 1];

			names[i - 1] = names[j];
			names[j] = t;
		}
	gap(&b);
	trib_strbuf_addc(&b, '{');
	for (size_t i = 0; i < n; i++)
	{
		if (i > 0)
			trib_strbuf_addc(&b, ',');
		gap(&b);
		trib_strbuf_printf(&b, "\"%s\"", names[i]);
		gap(&b);
		trib_strbuf_addc(&b, ':');
		gap(&b);
		column_value(&b, names[i]);
		gap(&b);
		if (pick(10) == 0)
		{
			trib_strbuf_printf(&b, ",%s:", pick(6) ? pick_text(other_names, 10) : "\"id\"");
			value(&b, 1);
		}
	}
	trib_strbuf_addc(&b, '}');
	gap(&b);
	if (pick(50) == 0)
		b.data[b.len = pick((unsigned) b.len)] = '\0';
	return trib_strbuf_finish(&b);
}

/* ---- the comparison ----------------------------------------------------- */

/* img both ways; true when the streaming pass took it (and then gave the
 * tree path's bytes). */
static bool
same_both_ways(plan_fx *f, const plan_def *d, const char *img, bool key)
{
	trib_event	ev = {.op = TRIB_OP_CREATE};
	char	   *s = strdup(img);
	char	   *t = strdup(img);
	bool		streamed = trib_migrate_stream(f->m, f->p, &s, key);
	bool		treed = trib_migrate_image_tree(f->m, f->p, &ev, &t, key, errbuf, sizeof(errbuf));

	if (streamed && !treed)
		fail_msg("%s: the pass took an image the tree path refuses (%s)\n  image:  %s\n"
				 "  stream: %s", d->name, errbuf, img, s);
	if (streamed && strcmp(s, t) != 0)
		fail_msg("%s: stream and tree differ (%s image)\n  image:  %s\n  stream: %s\n"
				 "  tree:   %s", d->name, key ? "key" : "value", img, s, t);
	if (!streamed && strcmp(s, img) != 0)
		fail_msg("%s: the pass gave up but changed the image\n  image: %s\n  now:   %s",
				 d->name, img, s);
	free(s);
	free(t);
	return streamed;
}

static void
generated_images_stream_to_the_tree_paths_bytes(void **state)
{
	(void) state;
	for (size_t i = 0; i < NPLANS; i++)
	{
		plan_fx		f;
		size_t		streamed = 0;

		plan_open(&f, plans[i].steps, plans[i].cols, plans[i].fields, plans[i].nfields);
		for (int k = 0; k < IMAGES; k++)
		{
			char	   *img;

			plain = k % 2 == 1;
			img = image(plans[i].cols);

			streamed += same_both_ways(&f, &plans[i], img, false);
			streamed += same_both_ways(&f, &plans[i], img, true);
			free(img);
		}
		if (streamed < IMAGES / 2)
			fail_msg("%s: only %zu of %d images streamed", plans[i].name, streamed, 2 * IMAGES);
		/* both lexers are compared: plain images go jscan's way */
		if (f.m->nscanned < streamed / 4 || f.m->nscanned >= streamed)
			fail_msg("%s: %zu of %zu streamed images lexed by jscan", plans[i].name,
					 (size_t) f.m->nscanned, streamed);
		print_message("%s: %zu of %d images streamed, %zu of them lexed by jscan\n",
					  plans[i].name, streamed, 2 * IMAGES, (size_t) f.m->nscanned);
		plan_close(&f);
	}
}

/* The W1 bench image, and results longer than the image (the text is
 * then reallocated, not written over). */
static void
results_shorter_and_longer_than_the_image(void **state)
{
	plan_fx		f;
	char	   *s;

	(void) state;
	plan_open(&f, plans[0].steps, plans[0].cols, plans[0].fields, plans[0].nfields);
	s = strdup("{\"id\":1,\"full_name\":\"name1\",\"email\":\"user1@example.com\",\"amount\":1.50,"
			   "\"created\":\"2026-12-04T08:14:00.123456Z\",\"active\":\"false\","
			   "\"meta\":{\"k\":1},\"extra\":1}");
	assert_true(trib_migrate_stream(f.m, f.p, &s, false));
	assert_int_equal(f.m->nscanned, 1);	/* the plugin's plain row: jscan */
	assert_string_equal(s, "{\"active\":false,\"amount\":1.50,\"created\":"
						"\"2026-12-04T08:14:00.123456Z\",\"email\":\"user1@example.com\",\"id\":1,"
						"\"meta\":{\"k\":1},\"name\":\"name1\"}");
	free(s);
	/* "0" to false and "t" to true: longer than the image */
	s = strdup("{\"active\":0}");
	assert_true(trib_migrate_stream(f.m, f.p, &s, false));
	assert_string_equal(s, "{\"active\":false}");
	free(s);
	s = strdup("{\"active\":\"t\"}");
	assert_true(trib_migrate_stream(f.m, f.p, &s, false));
	assert_string_equal(s, "{\"active\":true}");
	free(s);
	plan_close(&f);
	plan_open(&f, plans[3].steps, plans[3].cols, plans[3].fields, plans[3].nfields);
	s = strdup("{\"x\":1}");
	assert_true(trib_migrate_stream(f.m, f.p, &s, false));
	assert_string_equal(s, "{\"y_renamed_longer\":1}");
	free(s);
	plan_close(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rename_drop_cast_and_add_in_the_targets_order),
		cmocka_unit_test(every_cast_kind),
		cmocka_unit_test(strings_are_decoded_and_encoded_as_the_tree_path_does),
		cmocka_unit_test(unknown_columns_follow_the_targets_fields),
		cmocka_unit_test(the_relations_order_is_kept_when_it_is_the_targets),
		cmocka_unit_test(an_added_field_goes_through_the_later_steps),
		cmocka_unit_test(a_set_step_keeps_row_images_on_the_tree_path),
		cmocka_unit_test(an_event_streams_its_images_and_its_unchanged_list),
		cmocka_unit_test(generated_images_stream_to_the_tree_paths_bytes),
		cmocka_unit_test(results_shorter_and_longer_than_the_image),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
