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

static char errbuf[4096];

/* A plan of STEPS (YAML flow maps, one per line) for a relation of the
 * given columns (the first is the key) to target fields `fields`. */
typedef struct plan_fx
{
	trib_config *cfg;
	trib_migrator *m;
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
	if (!trib_migrator_new(&f->cfg->schemas, &f->m, errbuf, sizeof(errbuf)))
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
	f->p = trib_migrate_plan_new(trib_migrator_find(f->m, "s"), &f->rel, 2, 1, fields, nfields,
								 errbuf, sizeof(errbuf));
	if (f->p == NULL)
		fail_msg("plan: %s", errbuf);
}

static void
plan_close(plan_fx *f)
{
	trib_migrate_plan_free(f->p);
	trib_migrator_free(f->m);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
