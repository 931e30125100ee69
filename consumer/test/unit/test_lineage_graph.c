/*
 * test_lineage_graph.c: the lineage stage's graph derivation
 * (lineage_graph.c, lineage_lua.c, lineage_names.c).
 *
 * Each test loads a real pipeline YAML, compiles its rules, derives the
 * fragment of one relation and compares its edges, written one per line
 * as "kind from -> to rule type/subtype" (the document parsed back with
 * yajl), with the whole expected list; and the Lua scanner's inputs with
 * what an expression reads.
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
#include "jsondoc.h"
#include "lineage.h"
#include "rules.h"
#include "strbuf.h"

#define HEAD \
	"pipeline: t\n" \
	"sources:\n  pg: {type: postgres, dsn: \"host=src.example port=5433 dbname=shop user=u password=s3cret\", snapshot: never}\n" \
	"sinks:\n" \
	"  k: {type: kafka, bootstrap_servers: \"b1:9092,b2:9092\", topic_prefix: p}\n" \
	"  pgs: {type: postgres, dsn: \"postgresql://w:pw@sink.example:6543/dw\", schema: raw}\n" \
	"  dlq: {type: file, path: /tmp/never-opened.jsonl}\n" \
	"  nul: {type: \"null\"}\n" \
	"dead_letter: dlq\n"

static trib_column cols[] = {
	{.name = "id", .type = "integer", .pk = true},
	{.name = "email", .type = "text"},
	{.name = "phone", .type = "text"},
	{.name = "ssn", .type = "text"},
	{.name = "qty", .type = "integer"},
	{.name = "price", .type = "numeric"},
};
static trib_relation rel = {.schema = "public", .table = "customers",
.ncolumns = 6, .columns = cols, .version = 1};

/* A ref as "namespace/name[#field]". */
static void
ref(trib_strbuf *b, yajl_val r)
{
	const char *ns[] = {"namespace", NULL},
			   *nm[] = {"name", NULL},
			   *fd[] = {"field", NULL};
	yajl_val	f = yajl_tree_get(r, fd, yajl_t_string);

	trib_strbuf_printf(b, "%s/%s", YAJL_GET_STRING(yajl_tree_get(r, ns, yajl_t_string)),
					   YAJL_GET_STRING(yajl_tree_get(r, nm, yajl_t_string)));
	if (f != NULL)
		trib_strbuf_printf(b, "#%s", YAJL_GET_STRING(f));
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The fragment's edges, one line each, sorted, joined by '\n'. */
static char *
edge_lines(const trib_lineage_fragment *fr)
{
	char	   *doc = trib_lineage_document("", fr, 1);
	char		err[256];
	yajl_val	root = trib_jdoc_parse(doc, err, sizeof(err));
	const char *ep[] = {"edges", NULL};
	yajl_val	edges;
	char	   *lines[256];
	size_t		n = 0;
	trib_strbuf out = {0};

	if (root == NULL)
		fail_msg("the document does not parse: %s\n%s", err, doc);
	edges = yajl_tree_get(root, ep, yajl_t_array);
	assert_non_null(edges);
	for (size_t i = 0; i < edges->u.array.len && n < 256; i++)
	{
		yajl_val	e = edges->u.array.values[i];
		const char *k[] = {"kind", NULL},
				   *f[] = {"from", NULL},
				   *t[] = {"to", NULL},
				   *r[] = {"rule", NULL},
				   *ty[] = {"type", NULL},
				   *st[] = {"subtype", NULL},
				   *in[] = {"inputs", NULL};
		trib_strbuf b = {0};
		yajl_val	v;

		trib_strbuf_printf(&b, "%s ", YAJL_GET_STRING(yajl_tree_get(e, k, yajl_t_string)));
		if ((v = yajl_tree_get(e, f, yajl_t_object)) != NULL)
			ref(&b, v);
		else
			trib_strbuf_adds(&b, "JOB");
		trib_strbuf_adds(&b, " -> ");
		if ((v = yajl_tree_get(e, t, yajl_t_object)) != NULL)
			ref(&b, v);
		else
			trib_strbuf_adds(&b, "JOB");
		v = yajl_tree_get(e, r, yajl_t_string);
		trib_strbuf_printf(&b, " %s", v ? YAJL_GET_STRING(v) : "-");
		if ((v = yajl_tree_get(e, ty, yajl_t_string)) != NULL)
			trib_strbuf_printf(&b, " %s/%s", YAJL_GET_STRING(v),
							   YAJL_GET_STRING(yajl_tree_get(e, st, yajl_t_string)));
		if ((v = yajl_tree_get(e, in, yajl_t_string)) != NULL)
			trib_strbuf_printf(&b, " %s", YAJL_GET_STRING(v));
		lines[n++] = trib_strbuf_finish(&b);
	}
	qsort(lines, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++)
	{
		trib_strbuf_printf(&out, "%s\n", lines[i]);
		free(lines[i]);
	}
	yajl_tree_free(root);
	free(doc);
	return trib_strbuf_finish(&out);
}

/* Derive the customers fragment under rules_yaml, with the run-time
 * trace t (or NULL); its edge lines. */
static char *
derive_traced(const char *rules_yaml, const trib_lineage_trace *t, trib_lineage_fragment *fr)
{
	char		yaml[8192],
				err[1024];
	trib_config *cfg;
	trib_rules *rules;
	trib_event	ev = {.op = TRIB_OP_CREATE, .source = "pg", .db = "shop",
	.schema = "public", .table = "customers"};
	char	   *lines;

	snprintf(yaml, sizeof(yaml), HEAD "%s", rules_yaml);
	if (!trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err, sizeof(err)))
		fail_msg("config did not load: %s\n%s", err, yaml);
	rules = trib_rules_new(cfg, NULL, err, sizeof(err));
	assert_non_null(rules);
	trib_lineage_derive_traced(cfg, rules, &ev, &rel, t, fr);
	lines = edge_lines(fr);
	trib_rules_free(rules);
	trib_config_free(cfg);
	return lines;
}

/* The same without a trace. */
static char *
derive(const char *rules_yaml, trib_lineage_fragment *fr)
{
	return derive_traced(rules_yaml, NULL, fr);
}

#define S "postgres://src.example:5433/shop.public.customers"
#define K "kafka://b1:9092/"
#define P "postgres://sink.example:6543/dw.raw.customers"
#define D "file:///tmp/never-opened.jsonl"

/* Masking, a value rule after it, rename, drop, keep, and the names of
 * every sink; the null sink writes nothing; the dead-letter sink (no row
 * images) is fed by the table as a whole, no field reaches it. */
static void
test_fields_and_names(void **state)
{
	trib_lineage_fragment fr = {0};
	char	   *got;
	const char *want =
		"derive " S " -> " D " - INDIRECT/CONDITIONAL\n"
		"derive " S "#email -> " K "p.public.customers#email mask DIRECT/TRANSFORMATION\n"
		"derive " S "#email -> " P "#email mask DIRECT/TRANSFORMATION\n"
		"derive " S "#id -> " K "p.public.customers#id - DIRECT/IDENTITY\n"
		"derive " S "#id -> " P "#id - DIRECT/IDENTITY\n"
		"derive " S "#phone -> " K "p.public.customers#mobile ren DIRECT/IDENTITY\n"
		"derive " S "#phone -> " P "#mobile ren DIRECT/IDENTITY\n"
		"read " S " -> JOB -\n"
		"write JOB -> " D " -\n"
		"write JOB -> " K "p.public.customers -\n"
		"write JOB -> " P " -\n";

	(void) state;
	got = derive("transforms:\n"
				 "  - {type: hash, name: mask, tables: [customers], fields: [email], key: \"0123456789abcdef0\", key_format: raw}\n"
				 "  - {type: cast, name: str, tables: [customers], fields: [email], to: string}\n"
				 "  - {type: rename, name: ren, tables: [customers], renames: {phone: mobile}}\n"
				 "  - {type: drop, name: no_ssn, tables: [customers], fields: [ssn]}\n"
				 "  - {type: keep, name: k, tables: [customers], fields: [email, mobile]}\n"
				 "  - {type: redact, name: other, tables: [orders], fields: [email]}\n", &fr);
	assert_string_equal(want, got);
	assert_null(strstr(fr.datasets, "s3cret"));
	assert_null(strstr(fr.datasets, "pw"));
	assert_null(strstr(fr.edges, "w:"));
	assert_string_equal("pg/shop.public.customers", fr.key);
	free(got);
	trib_lineage_fragment_clear(&fr);
}

/* Rules that add fields and decide about rows. */
static void
test_added_fields_and_rows(void **state)
{
	trib_lineage_fragment fr = {0};
	char	   *got;
	(void) state;
	got = derive("transforms:\n"
				 "  - {type: compute, name: total, tables: [customers], field: total, lua: \"after.qty * after['price']\"}\n"
				 "  - {type: aggregate, name: n, tables: [customers], fields: [qty, price], field: s, function: sum}\n"
				 "  - {type: filter, name: f, tables: [customers], lua: \"pairs(after) ~= nil\"}\n"
				 "  - {type: sample, name: smp, tables: [customers], percent: \"50\"}\n"
				 "  - {type: route, name: rt, tables: [customers], topic: \"r.${schema}.${after.email}\"}\n"
				 "  - {type: drop, name: d, tables: [customers], fields: [email, phone, ssn, id, s]}\n", &fr);
	assert_non_null(strstr(got, "derive " S "#qty -> " K "r.public.${after.email}#total total DIRECT/TRANSFORMATION\n"));
	assert_non_null(strstr(got, "derive " S "#price -> " K "r.public.${after.email}#total total DIRECT/TRANSFORMATION\n"));
	assert_non_null(strstr(got, "derive " S " -> " K "r.public.${after.email} f INDIRECT/FILTER dynamic\n"));
	assert_non_null(strstr(got, "derive " S "#id -> " K "r.public.${after.email} smp INDIRECT/FILTER\n"));
	assert_non_null(strstr(got, "derive " S "#email -> " K "r.public.${after.email} rt INDIRECT/CONDITIONAL\n"));
	/* the aggregate's field was dropped again: no edge into it */
	assert_null(strstr(got, "#s "));
	/* the route names the Kafka topic, not the Postgres table */
	assert_non_null(strstr(got, "write JOB -> " P " -\n"));
	free(got);
	trib_lineage_fragment_clear(&fr);
}

/* A Lua expression's inputs, statically. */
/* A Lua rule whose inputs are dynamic: the columns traced at run time get
 * edges marked "runtime" (a name that is no column gets none), beside the
 * dataset's "dynamic" edge; the trace says when a relation is dirty. */
static void
test_lua_runtime_inputs(void **state)
{
	trib_lineage_fragment fr = {0};
	trib_lineage_trace *t = trib_lineage_trace_new();
	const char *key = "pg/shop.public.customers";
	char	   *got;

	(void) state;
	assert_int_equal(trib_lineage_trace_add(t, key, 0, "email", 5), 2);
	assert_int_equal(trib_lineage_trace_add(t, key, 0, "email", 5), 0);
	assert_int_equal(trib_lineage_trace_add(t, key, 0, "nope", 4), 1);
	assert_true(trib_lineage_trace_dirty(t, key));
	trib_lineage_trace_clean(t, key);
	assert_false(trib_lineage_trace_dirty(t, key));
	got = derive_traced("transforms:\n"
						"  - {type: compute, name: c, tables: [customers], field: f, lua: \"after[k]\"}\n",
						t, &fr);
	if (strstr(got, "derive " S "#email -> " K "p.public.customers#f c DIRECT/TRANSFORMATION runtime\n") == NULL ||
		strstr(got, "derive " S " -> " K "p.public.customers#f c DIRECT/TRANSFORMATION dynamic\n") == NULL ||
		strstr(got, "#nope") != NULL || strstr(got, "#phone -> " K "p.public.customers#f") != NULL)
		fail_msg("expected email's runtime edge and the dataset's dynamic edge into f, got:\n%s", got);
	free(got);
	trib_lineage_fragment_clear(&fr);
	trib_lineage_trace_free(t);
}

static void
test_lua_inputs(void **state)
{
	struct
	{
		const char *lua;
		bool		all_static;
		const char *names;
	}			cases[] = {
		{"after.qty * after.price", true, "qty,price"},
		{"after['a b'] .. before[\"c\"] .. key.id", true, "a b,c,id"},
		{"-- after.x\n'after.y' .. after.z", true, "z"},
		{"x.after.y + op:after()", true, ""},
		{"pairs(after)", false, ""},
		{"after[k] or after.q", false, "q"},
		{"f(before)", false, ""},
		{"--[==[ after.no ]==] after.yes", true, "yes"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char	  **names = NULL;
		size_t		n = 0;
		bool		st = trib_lineage_lua_inputs(cases[i].lua, &names, &n);
		trib_strbuf b = {0};
		char	   *got;

		for (size_t k = 0; k < n; k++)
		{
			trib_strbuf_printf(&b, "%s%s", k ? "," : "", names[k]);
			free(names[k]);
		}
		free(names);
		got = trib_strbuf_finish(&b);
		if (st != cases[i].all_static || strcmp(got, cases[i].names) != 0)
			fail_msg("%s: expected %s [%s], got %s [%s]", cases[i].lua,
					 cases[i].all_static ? "static" : "dynamic", cases[i].names,
					 st ? "static" : "dynamic", got);
		free(got);
	}
}

/* Rules and the document around fragments. */
static void
test_rules_and_document(void **state)
{
	char		yaml[4096],
				err[1024];
	trib_config *cfg;
	char	   *rules;
	trib_lineage_fragment fr[2] = {{.key = "a", .datasets = "{\"x\":1}", .edges = ""},
	{.key = "b", .datasets = "", .edges = "{\"y\":2}"}};
	char	   *doc;

	(void) state;
	snprintf(yaml, sizeof(yaml), HEAD "transforms:\n"
			 "  - {type: redact, name: r, fields: [email]}\n"
			 "  - {type: drop, fields: [ssn]}\n");
	if (!trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	rules = trib_lineage_rules_json(cfg);
	assert_string_equal("{\"name\":\"r\",\"kind\":\"redact\",\"masking\":true},"
						"{\"name\":\"transforms[1]\",\"kind\":\"drop\",\"masking\":false}", rules);
	doc = trib_lineage_document(rules, fr, 2);
	assert_non_null(strstr(doc, "\"datasets\":[{\"x\":1}],\"edges\":[{\"y\":2}]}"));
	free(doc);
	free(rules);
	trib_config_free(cfg);
}

/* The export's files are files the daemon writes: no other key may name
 * one of them. */
static void
test_export_paths_checked(void **state)
{
	char		yaml[4096],
				err[2048];
	trib_config *cfg = NULL;

	(void) state;
	snprintf(yaml, sizeof(yaml), HEAD "checkpoint: {store: catalog, dsn: \"dbname=x\"}\n"
			 "lineage: {enabled: true, export_file: /tmp/never-opened.jsonl}\n");
	assert_false(trib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err, sizeof(err)));
	assert_null(cfg);
	if (strstr(err, "lineage.export_file") == NULL || strstr(err, "sinks.dlq.path") == NULL)
		fail_msg("expected a message naming both keys, got: %s", err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_and_names),
		cmocka_unit_test(test_added_fields_and_rows),
		cmocka_unit_test(test_lua_inputs),
		cmocka_unit_test(test_lua_runtime_inputs),
		cmocka_unit_test(test_rules_and_document),
		cmocka_unit_test(test_export_paths_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
