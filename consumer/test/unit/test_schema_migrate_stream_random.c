/*
 * test_schema_migrate_stream_random.c: the migrations' streaming pass
 * (schema_migrate_stream.c) gives the tree path's bytes
 * (schema_migrate_apply.c) on many generated row images.
 *
 * test_schema_migrate_stream.c spells out fixed cases; this one builds
 * images at random (a fixed seed, so a failure repeats) from pieces that
 * exercise the pass's byte copying: strings with and without escapes
 * (quote, backslash, controls, \/, \u escapes, surrogate pairs, raw
 * UTF-8), escaped and unknown member names, null, true, false, numbers in
 * every JSON form, nested objects and arrays, white space and comments,
 * members in the relation's order or shuffled, duplicate names, and text
 * that is cut short.  Each image goes through four plans (bench W1's
 * three steps, every step kind with added fields, chains of casts, a
 * target in the relation's order) as a value image and as a key image.
 * Whenever the pass takes an image, the tree path must take it too and
 * give the same bytes; when it gives up, the image must be untouched.
 * Each plan must also stream most of its images, so the comparison is not
 * vacuous.
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

#define IMAGES 4000

static char errbuf[4096];

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
		"        - {rename: full_name, to: name}\n"
		"        - {drop: extra}\n"
		"        - {cast: active, as: boolean}\n"
		"        - {cast: amount, as: number}\n"
		"        - {rename: n, to: count}\n"
		"        - {cast: count, as: integer}\n"
		"        - {cast: id, as: string}\n"
		"        - {add: since, default: '\"2020-01-01\"'}\n"
		"        - {add: t, default: '7'}\n"
		"        - {rename: t, to: tag}\n"
		"        - {cast: tag, as: string}\n",
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

/* ---- generated images --------------------------------------------------- */

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
			trib_strbuf_adds(b, "/* c */");
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
			trib_strbuf_adds(b, pick(2) ? other_names[pick(10)] : "\"k\"");
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
		trib_strbuf_adds(b, scalars[pick(NSCALARS)]);
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
		trib_strbuf_adds(b, scalars[pick(NSCALARS)]);
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
			trib_strbuf_printf(&b, ",%s:", pick(6) ? other_names[pick(10)] : "\"id\"");
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

/* A plan opened from its definition. */
typedef struct plan_fx
{
	trib_config *cfg;
	trib_migrator *m;
	trib_migrate_plan *p;
	trib_column cols[16];
	trib_relation rel;
} plan_fx;

static void
plan_open(plan_fx *f, const plan_def *d)
{
	char		yaml[4096];

	memset(f, 0, sizeof(*f));
	snprintf(yaml, sizeof(yaml),
			 "pipeline: shop\n"
			 "sources:\n  main: {type: postgres, dsn: \"dbname=shop\"}\n"
			 "sinks:\n  out: {type: stdout}\n"
			 "schemas:\n  enabled: true\n  migrations:\n"
			 "    - subject: s\n      target: 1\n      steps:\n%s", d->steps);
	if (!trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &f->cfg, errbuf, sizeof(errbuf)) ||
		!trib_migrator_new(&f->cfg->schemas, &f->m, errbuf, sizeof(errbuf)))
		fail_msg("%s: %s", d->name, errbuf);
	for (int i = 0; d->cols[i] != NULL; i++)
	{
		f->cols[i].name = (char *) d->cols[i];
		f->cols[i].type = "text";
		f->cols[i].nullable = i > 0;
		f->cols[i].pk = i == 0;
		f->rel.ncolumns = i + 1;
	}
	f->rel.schema = "public";
	f->rel.table = "t";
	f->rel.columns = f->cols;
	f->p = trib_migrate_plan_new(trib_migrator_find(f->m, "s"), &f->rel, 2, 1, d->fields,
								 d->nfields, errbuf, sizeof(errbuf));
	if (f->p == NULL)
		fail_msg("%s: plan: %s", d->name, errbuf);
}

static void
plan_close(plan_fx *f)
{
	trib_migrate_plan_free(f->p);
	trib_migrator_free(f->m);
	trib_config_free(f->cfg);
}

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

		plan_open(&f, &plans[i]);
		for (int k = 0; k < IMAGES; k++)
		{
			char	   *img = image(plans[i].cols);

			streamed += same_both_ways(&f, &plans[i], img, false);
			streamed += same_both_ways(&f, &plans[i], img, true);
			free(img);
		}
		if (streamed < IMAGES / 2)
			fail_msg("%s: only %zu of %d images streamed", plans[i].name, streamed, 2 * IMAGES);
		print_message("%s: %zu of %d images streamed\n", plans[i].name, streamed, 2 * IMAGES);
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
	plan_open(&f, &plans[0]);
	s = strdup("{\"id\":1,\"full_name\":\"name1\",\"email\":\"user1@example.com\",\"amount\":1.50,"
			   "\"created\":\"2026-12-04T08:14:00.123456Z\",\"active\":\"false\","
			   "\"meta\":{\"k\":1},\"extra\":1}");
	assert_true(trib_migrate_stream(f.m, f.p, &s, false));
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
	plan_open(&f, &plans[3]);
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
		cmocka_unit_test(generated_images_stream_to_the_tree_paths_bytes),
		cmocka_unit_test(results_shorter_and_longer_than_the_image),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
