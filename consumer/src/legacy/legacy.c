/*
 * legacy.c: the copy-and-sanitize tool's pipeline format: reading it and
 * translating each stage into a native pipeline (see legacy.h);
 * connections are legacy_conn.c's.
 *
 * Translation, stage by stage:
 *   source_db      sources.source: postgres, dsn, snapshot: only,
 *                  include_tables: the collections (public. when bare)
 *   dest_db        sinks.dest: postgres, dsn, create_tables: true, and
 *                  schema: the collections' schema when they share one
 *   collections    one rule per field strategy, on that table:
 *     redact       redact      (params: with, value, mask_char, length)
 *     substitute   substitute  (params: field_type, alias kind; key,
 *                               key_env, key_file, iban_country)
 *     perturb      perturb     (params: percent, absolute, days, key,
 *                               key_env, key_file)
 *     hash_salt    hash        keyed HMAC with the salt as key (params: salt,
 *                              salt_env, salt_file, length, encoding);
 *                              context: the field name
 *     sample       sample      by the field (params: percent, or fraction
 *                              0..1)
 *   a checkpoint file per stage in the state directory.
 * `*_env` params become ${NAME} references, `*_file` params the native
 * `key_file`; a keyed strategy without a key of its own gets the run's
 * default key.  Values from the file may use ${ENV} as in native files;
 * names (tables, fields) and what the environment or the command line
 * gave (connections, the key file) are written with '$' escaped, so they
 * are taken literally.
 *
 * Size.  About 1,170 lines, over the project's 1,000: reading, checking
 * and translating share one error context (lctx) and the strategy table,
 * and a stage is translated in one pass.  The run's state (the DAG of
 * stages, resuming a run) depends on none of that and is where the file
 * splits next (a legacy_run.c beside legacy_conn.c).
 */
#include "legacy.h"

#include <ctype.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fileio.h"
#include "jsondoc.h"
#include "legacy_int.h"
#include "mask_fake.h"
#include "strbuf.h"
#include "yaml_tree.h"

#define MAX_ERRORS 20

typedef struct lctx
{
	const char *path;
	const trib_legacy_opts *opts;
	trib_strbuf err;
	int			nerr;
} lctx;

static void
lerr(lctx *c, const trib_yaml_node *at, const char *key, const char *fmt,...)
{
	va_list		ap;

	if (c->nerr++ >= MAX_ERRORS)
		return;
	if (c->err.len)
		trib_strbuf_addc(&c->err, '\n');
	if (at)
		trib_strbuf_printf(&c->err, "%s:%d:%d: %s: ", c->path, at->line, at->column, key);
	else
		trib_strbuf_printf(&c->err, "%s: %s: ", c->path, key);
	va_start(ap, fmt);
	trib_strbuf_vprintf(&c->err, fmt, ap);
	va_end(ap);
}

/* s as a YAML (JSON) string whose '$' the native loader keeps as is. */
static void
quote_literal(trib_strbuf *b, const char *s)
{
	trib_strbuf t = {0};

	for (const char *p = s; *p; p++)
	{
		if (*p == '$')
			trib_strbuf_addc(&t, '$');
		trib_strbuf_addc(&t, *p);
	}
	trib_jdoc_quote(b, t.data ? t.data : "");
	trib_strbuf_free(&t);
}

/* ---- strategies ------------------------------------------------------------ */

/* How a param becomes a native key. */
typedef enum pmode
{
	PM_COPY,					/* the value as it is */
	PM_ENV,						/* the name of a variable: ${NAME} */
	PM_FRACTION,				/* 0..1 -> percent */
	PM_KIND						/* a substitute kind (field_type) */
} pmode;

#define PF_KEY 1				/* the param gives the strategy's key */
#define PF_RAW 2				/* ... as raw bytes (a salt) */

typedef struct pspec
{
	const char *name;			/* in the file: the tool's name, or ours */
	const char *native;			/* in the native rule */
	pmode		mode;
	int			flags;
} pspec;

typedef enum keyneed
{
	KEY_NONE,					/* not keyed */
	KEY_REQUIRED,				/* its own key, else the default one */
	KEY_OPTIONAL				/* the default key when there is one */
} keyneed;

typedef struct strategy
{
	const char *name;
	const char *rule;
	const pspec *params;
	const char *required[3];	/* one of these params is needed */
	const char *required_say;
	keyneed		key;
} strategy;

#define PEND {NULL, NULL, PM_COPY, 0}

static const pspec redact_p[] = {
	{"with", "with", PM_COPY, 0}, {"value", "value", PM_COPY, 0},
	{"mask_char", "mask_char", PM_COPY, 0}, {"length", "length", PM_COPY, 0}, PEND
};
static const pspec subst_p[] = {
	{"field_type", "kind", PM_KIND, 0}, {"kind", "kind", PM_KIND, 0},
	{"key", "key", PM_COPY, PF_KEY}, {"key_env", "key", PM_ENV, PF_KEY},
	{"key_file", "key_file", PM_COPY, PF_KEY}, {"iban_country", "iban_country", PM_COPY, 0},
	PEND
};
static const pspec perturb_p[] = {
	{"percent", "percent", PM_COPY, 0}, {"absolute", "absolute", PM_COPY, 0},
	{"days", "days", PM_COPY, 0}, {"key", "key", PM_COPY, PF_KEY},
	{"key_env", "key", PM_ENV, PF_KEY}, {"key_file", "key_file", PM_COPY, PF_KEY}, PEND
};
static const pspec hash_p[] = {
	{"salt", "key", PM_COPY, PF_KEY | PF_RAW}, {"salt_env", "key", PM_ENV, PF_KEY | PF_RAW},
	{"salt_file", "key_file", PM_COPY, PF_KEY | PF_RAW}, {"length", "length", PM_COPY, 0},
	{"encoding", "encoding", PM_COPY, 0}, PEND
};
static const pspec sample_p[] = {
	{"percent", "percent", PM_COPY, 0}, {"fraction", "percent", PM_FRACTION, 0}, PEND
};

static const strategy strategies[] = {
	{"redact", "redact", redact_p, {NULL}, NULL, KEY_NONE},
	{"substitute", "substitute", subst_p, {"field_type", "kind", NULL},
	"field_type (a Faker provider name such as username or email; kind is an alias)",
	KEY_REQUIRED},
	{"perturb", "perturb", perturb_p, {NULL}, NULL, KEY_REQUIRED},
	{"hash_salt", "hash", hash_p, {NULL}, NULL, KEY_REQUIRED},
	{"sample", "sample", sample_p, {"percent", "fraction", NULL},
	"percent (0 to 100) or fraction (0 to 1)", KEY_OPTIONAL},
	{NULL, NULL, NULL, {NULL}, NULL, KEY_NONE}
};

static const strategy *
find_strategy(const char *name)
{
	for (const strategy *s = strategies; s->name; s++)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

static const pspec *
find_param(const strategy *s, const char *name)
{
	for (const pspec *p = s->params; p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static bool
in_list(const char *const *w, const char *s)
{
	for (int i = 0; w[i]; i++)
		if (strcmp(w[i], s) == 0)
			return true;
	return false;
}

/* ---- steps -------------------------------------------------------------------- */

typedef struct lstep
{
	const trib_yaml_node *node;
	char	   *name;
	char	   *type;
	int			order;
	const trib_yaml_node *deps;
	trib_strbuf rules;
	char	  **tables;			/* schema.table */
	size_t		ntables;
	char	   *schema;			/* the first collection's schema */
	bool		mixed_schemas;	/* ... and another one's is different */
	char		path[64];		/* "pipelines[N]", for errors */
	const char *source_db;		/* as the file says (in the YAML tree) */
	const char *dest_db;
	char	   *source_dsn;		/* for the native config */
	char	   *dest_dsn;
	bool		source_literal;
	bool		dest_literal;
	bool		in_place;
	int			nfields;
	trib_legacy_field *fields;
} lstep;

static const char *
scalar(lctx *c, const trib_yaml_node *map, const char *key, const char *path, bool required)
{
	const trib_yaml_node *v = trib_yaml_map_get(map, key);
	char		d[TRIB_YAML_DESCRIBE_LEN];

	if (v == NULL || trib_yaml_is_null(v))
	{
		if (required)
			lerr(c, map, path, "required key %s is missing", key);
		return NULL;
	}
	if (v->kind != TRIB_YAML_SCALAR)
	{
		lerr(c, v, path, "%s: expected a string, got %s", key, trib_yaml_describe(v, d, sizeof(d)));
		return NULL;
	}
	return v->text;
}

/* The params a strategy cannot do without. */
static void
required_params(lctx *c, const strategy *s, const trib_yaml_node *params, const trib_yaml_node *spec,
				const char *path)
{
	bool		found = false;

	if (s->required[0] == NULL)
		return;
	for (int j = 0; s->required[j] && params && params->kind == TRIB_YAML_MAP; j++)
		found = found || trib_yaml_map_get(params, s->required[j]) != NULL;
	if (!found)
		lerr(c, params && params->kind == TRIB_YAML_MAP ? params : spec, path,
			 "strategy %s needs params: %s", s->name, s->required_say);
}

/* A param's value as the native rule wants it (into val); false after an
 * error. */
static bool
param_value(lctx *c, const pspec *p, const trib_yaml_node *v, const char *path, trib_strbuf *val)
{
	if (p->mode == PM_ENV)
		trib_strbuf_printf(val, "${%s}", v->text);
	else if (p->mode == PM_FRACTION)
	{
		char	   *end;
		double		f = strtod(v->text, &end);

		if (*end != '\0' || end == v->text || f < 0 || f > 1)
		{
			lerr(c, v, path, "fraction: \"%s\" is not between 0 and 1", v->text);
			return false;
		}
		trib_strbuf_printf(val, "%.10g", f * 100.0);
	}
	else if (p->mode == PM_KIND)
	{
		trib_fake_kind k;

		if (!trib_fake_kind_parse(v->text, &k))
		{
			trib_strbuf acc = {0};

			trib_fake_kind_list(&acc);
			lerr(c, v, path, "unknown %s \"%s\" (accepted: %s)", p->name, v->text, acc.data);
			trib_strbuf_free(&acc);
			return false;
		}
		trib_strbuf_adds(val, v->text);
	}
	else
		trib_strbuf_adds(val, v->text);
	return true;
}

/* The params of one field's strategy, appended to the rule; *keyed and
 * *raw say whether one gave the key (as raw bytes). */
static void
rule_params(lctx *c, const strategy *s, const trib_yaml_node *params, const char *path,
			trib_strbuf *b, bool *keyed, bool *raw)
{
	const char *used[16];
	const char *used_by[16];
	int			nused = 0;

	for (size_t i = 0; params && i + 1 < params->nchild; i += 2)
	{
		const trib_yaml_node *k = params->child[i];
		const trib_yaml_node *v = params->child[i + 1];
		const pspec *p = find_param(s, k->text);
		trib_strbuf val = {0};
		int			dup = -1;

		if (p == NULL)
		{
			trib_strbuf acc = {0};

			for (const pspec *q = s->params; q->name; q++)
				trib_strbuf_printf(&acc, "%s%s", acc.len ? ", " : "", q->name);
			lerr(c, k, path, "unknown parameter %s for strategy %s (accepted: %s)", k->text,
				 s->name, acc.data);
			trib_strbuf_free(&acc);
			continue;
		}
		if (v->kind != TRIB_YAML_SCALAR)
		{
			lerr(c, v, path, "parameter %s: expected a scalar", k->text);
			continue;
		}
		for (int j = 0; j < nused; j++)
			if (strcmp(used[j], p->native) == 0)
				dup = j;
		if (dup >= 0)
		{
			lerr(c, k, path, "parameters %s and %s say the same thing (%s): give one",
				 used_by[dup], k->text, p->native);
			continue;
		}
		if (nused < 16)
		{
			used[nused] = p->native;
			used_by[nused++] = p->name;
		}
		*keyed = *keyed || (p->flags & PF_KEY);
		*raw = *raw || (p->flags & PF_RAW);
		if (param_value(c, p, v, path, &val))
		{
			trib_strbuf_printf(b, ", %s: ", p->native);
			trib_jdoc_quote(b, val.data ? val.data : "");
		}
		trib_strbuf_free(&val);
	}
}

/* A keyed strategy without a key of its own: the run's default key; where
 * it came from, or NULL. */
static const char *
default_key(lctx *c, const strategy *s, const trib_yaml_node *at, const char *path, trib_strbuf *b)
{
	if (c->opts->key_file)
	{
		trib_strbuf_adds(b, ", key_file: ");
		quote_literal(b, c->opts->key_file);
		return c->opts->key_file_from ? c->opts->key_file_from : "the key file";
	}
	if (c->opts->key_env)
	{
		trib_strbuf_printf(b, ", key: \"${%s}\"", c->opts->key_env);
		return c->opts->key_env;
	}
	if (s->key == KEY_REQUIRED)
		lerr(c, at, path, "strategy %s needs a key, and none is set (accepted: the "
			 "environment variable TRIBUTARY_KEY (hex or base64, 16 bytes or more), "
			 "TRIBUTARY_KEY_FILE or --key-file (a file holding the key), or params %s)",
			 s->name, strcmp(s->name, "hash_salt") == 0 ? "salt_env or salt_file"
			 : "key_env or key_file");
	return NULL;
}

/* Remember where a rule came from (the native errors name transforms[N]). */
static void
add_field(lstep *st, const trib_yaml_node *fkey, const char *path, const char *table,
		  const char *strategy)
{
	trib_legacy_field *f;
	trib_strbuf at = {0};

	st->fields = trib_xrealloc(st->fields, sizeof(*f) * (size_t) (st->nfields + 1));
	f = &st->fields[st->nfields++];
	trib_strbuf_printf(&at, "%d:%d: %s", fkey->line, fkey->column, path);
	f->at = trib_strbuf_finish(&at);
	f->table = trib_xstrdup(table);
	f->column = trib_xstrdup(fkey->text);
	f->strategy = trib_xstrdup(strategy);
	f->key_from = NULL;
}

/* One field's strategy as a native rule. */
static void
field_rule(lctx *c, lstep *st, const char *table, const trib_yaml_node *fkey, const trib_yaml_node *spec,
		   const char *path)
{
	const char *sname = scalar(c, spec, "strategy", path, true);
	const strategy *s;
	const trib_yaml_node *params = trib_yaml_map_get(spec, "params");
	trib_strbuf *b = &st->rules;
	bool		keyed = false,
				raw = false;

	for (size_t i = 0; i + 1 < spec->nchild; i += 2)
		if (strcmp(spec->child[i]->text, "strategy") != 0 &&
			strcmp(spec->child[i]->text, "params") != 0)
			lerr(c, spec->child[i], path, "unknown key %s (accepted: strategy, params)",
				 spec->child[i]->text);
	if (sname == NULL)
		return;
	if ((s = find_strategy(sname)) == NULL)
	{
		lerr(c, trib_yaml_map_get(spec, "strategy"), path, "unknown strategy \"%s\" (accepted: redact, "
			 "substitute, perturb, hash_salt, sample)", sname);
		return;
	}
	required_params(c, s, params, spec, path);	/* and go on: report all */
	if (strcmp(st->type, "copy") == 0)
	{
		lerr(c, spec, path, "a copy step copies as is: strategy %s needs a sanitize_obfuscate "
			 "or minimize step", sname);
		return;
	}
	if (params != NULL && !trib_yaml_is_null(params) && params->kind != TRIB_YAML_MAP)
	{
		lerr(c, params, path, "params: expected a map");
		params = NULL;
	}
	add_field(st, fkey, path, table, s->name);
	trib_strbuf_printf(b, "  - {type: %s, name: ", s->rule);
	{
		trib_strbuf n = {0};

		trib_strbuf_printf(&n, "%s.%s.%s", st->name, table, fkey->text);
		quote_literal(b, n.data);
		trib_strbuf_free(&n);
	}
	trib_strbuf_adds(b, ", tables: [");
	quote_literal(b, table);
	trib_strbuf_adds(b, strcmp(s->rule, "sample") == 0 ? "], by: " : "], fields: [");
	quote_literal(b, fkey->text);
	trib_strbuf_adds(b, strcmp(s->rule, "sample") == 0 ? "" : "]");
	if (strcmp(s->rule, "hash") == 0)
	{
		trib_strbuf_adds(b, ", context: ");
		quote_literal(b, fkey->text);
	}
	rule_params(c, s, params, path, b, &keyed, &raw);
	if (raw)
		trib_strbuf_adds(b, ", key_format: raw");
	if (!keyed && s->key != KEY_NONE)
		st->fields[st->nfields - 1].key_from = default_key(c, s, fkey, path, b);
	trib_strbuf_adds(b, "}\n");
}

/* A collection's name as a table, and the step's one schema. */
static char *
collection_table(lstep *st, const char *name)
{
	trib_strbuf table = {0};
	const char *dot = strchr(name, '.');
	char	   *schema = dot ? trib_xstrndup(name, (size_t) (dot - name)) : trib_xstrdup("public");

	if (dot == NULL)
		trib_strbuf_adds(&table, "public.");
	trib_strbuf_adds(&table, name);
	if (st->ntables == 0)
		st->schema = schema;
	else
	{
		st->mixed_schemas = st->mixed_schemas || strcmp(st->schema, schema) != 0;
		free(schema);
	}
	st->tables = trib_xrealloc(st->tables, sizeof(char *) * (st->ntables + 1));
	st->tables[st->ntables++] = trib_xstrdup(table.data);
	return trib_strbuf_finish(&table);
}

/*
 * The fields of a collection: the map under it, or under its `fields:`
 * key (the tool accepts both).  A field that is itself called `fields`
 * is told apart by its `strategy`.
 */
static const trib_yaml_node *
collection_fields(lctx *c, const trib_yaml_node *coll, const char *path)
{
	const trib_yaml_node *f = coll && coll->kind == TRIB_YAML_MAP ? trib_yaml_map_get(coll, "fields") : NULL;

	if (f == NULL || (f->kind == TRIB_YAML_MAP && trib_yaml_map_get(f, "strategy") != NULL))
		return coll;
	for (size_t i = 0; i + 1 < coll->nchild; i += 2)
		if (strcmp(coll->child[i]->text, "fields") != 0)
			lerr(c, coll->child[i], path, "unknown key %s beside fields (accepted: the "
				 "fields under `fields:`, or the fields directly under the collection)",
				 coll->child[i]->text);
	return trib_yaml_is_null(f) ? NULL : f;
}

static void
step_collections(lctx *c, lstep *st, const trib_yaml_node *cols, const char *path)
{
	char		d[TRIB_YAML_DESCRIBE_LEN];

	if (cols == NULL || cols->kind != TRIB_YAML_MAP || cols->nchild == 0)
	{
		lerr(c, cols ? cols : st->node, path, "collections: expected a map of collection "
			 "names to fields, got %s", cols ? trib_yaml_describe(cols, d, sizeof(d)) : "nothing");
		return;
	}
	for (size_t i = 0; i + 1 < cols->nchild; i += 2)
	{
		const trib_yaml_node *name = cols->child[i];
		char	   *table = collection_table(st, name->text);
		trib_strbuf p = {0};
		const trib_yaml_node *fields;

		trib_strbuf_printf(&p, "%s.collections.%s", path, name->text);
		fields = collection_fields(c, cols->child[i + 1], p.data);
		if (fields != NULL && !trib_yaml_is_null(fields) && fields->kind != TRIB_YAML_MAP)
			lerr(c, fields, p.data, "expected a map of field names to {strategy, params}");
		for (size_t j = 0; fields && fields->kind == TRIB_YAML_MAP && j + 1 < fields->nchild; j += 2)
		{
			trib_strbuf fp = {0};

			trib_strbuf_printf(&fp, "%s.%s", p.data, fields->child[j]->text);
			if (fields->child[j + 1]->kind != TRIB_YAML_MAP)
				lerr(c, fields->child[j + 1], fp.data, "expected {strategy: ..., params: {...}}");
			else
				field_rule(c, st, table, fields->child[j], fields->child[j + 1], fp.data);
			trib_strbuf_free(&fp);
		}
		free(table);
		trib_strbuf_free(&p);
	}
}

/* source_db or dest_db (value v) on the server `base`: its connection
 * string, or an error. */
static char *
step_db(lctx *c, const lstep *st, const char *key, const char *v, const char *base,
		bool *literal)
{
	char		why[512];
	char	   *dsn;

	if (v == NULL)
		return NULL;
	if ((dsn = lg_resolve_db(v, base, literal, why, sizeof(why))) == NULL)
		lerr(c, trib_yaml_map_get(st->node, key), st->path, "%s: %s", key, why);
	return dsn;
}

static const char *const step_keys[] = {"step", "type", "order", "depends_on", "source_db",
"dest_db", "collections", "description", NULL};
static const char *const step_types[] = {"copy", "sanitize_obfuscate", "minimize", NULL};

/* The stage's type; refresh is known but not run. */
static const char *
step_type(lctx *c, const trib_yaml_node *node, const char *name, const char *path)
{
	const char *type = scalar(c, node, "type", path, true);

	if (type && strcmp(type, "refresh") == 0)
		lerr(c, trib_yaml_map_get(node, "type"), path, "step %s: type refresh is not supported yet "
			 "(this version runs copy, sanitize_obfuscate and minimize steps)", name);
	else if (type && !in_list(step_types, type))
		lerr(c, trib_yaml_map_get(node, "type"), path, "unknown step type \"%s\" (accepted: copy, "
			 "sanitize_obfuscate, minimize)", type);
	return type ? type : "copy";
}

/* What cannot be done in place (source and dest the same database). */
static void
check_in_place(lctx *c, const lstep *st, const char *path)
{
	const char *why = lg_in_place_refusal(st->type, st->tables, st->ntables);

	if (why != NULL)
		lerr(c, trib_yaml_map_get(st->node, "dest_db"), path, "step %s %s", st->name, why);
}

static void
read_step(lctx *c, lstep *st, const trib_yaml_node *node, const char *name_from_key, const char *path)
{
	const char *order;

	st->node = node;
	for (size_t i = 0; i + 1 < node->nchild; i += 2)
		if (!in_list(step_keys, node->child[i]->text))
			lerr(c, node->child[i], path, "unknown key %s (accepted: step, type, order, "
				 "depends_on, source_db, dest_db, collections, description)",
				 node->child[i]->text);
	{
		const char *sn = name_from_key ? name_from_key : scalar(c, node, "step", path, true);

		st->name = trib_xstrdup(sn ? sn : "?");
	}
	st->type = trib_xstrdup(step_type(c, node, st->name, path));
	order = scalar(c, node, "order", path, false);
	if (order)
	{
		char	   *end;
		long		o = strtol(order, &end, 10);

		if (*end != '\0' || o < 0 || o > 1000000)
			lerr(c, trib_yaml_map_get(node, "order"), path, "order: \"%s\" is not a whole number",
				 order);
		st->order = (int) o;
	}
	st->deps = trib_yaml_map_get(node, "depends_on");
	snprintf(st->path, sizeof(st->path), "%s", path);
	st->source_db = scalar(c, node, "source_db", path, true);
	st->dest_db = scalar(c, node, "dest_db", path, true);
	step_collections(c, st, trib_yaml_map_get(node, "collections"), path);
}

/*
 * Where each step reads and writes, in run order.  dest_db is on the dest
 * server; source_db on the source server, unless an earlier step wrote that
 * database (it is one's dest_db): then where that step wrote it.
 */
static void
resolve_steps(lctx *c, lstep *st, const size_t *order, size_t n)
{
	const char *dest_base = c->opts->dest_uri ? c->opts->dest_uri : c->opts->source_uri;

	for (size_t k = 0; k < n; k++)
	{
		lstep	   *s = &st[order[k]];
		bool		written = false;

		for (size_t j = 0; j < k && s->source_db; j++)
			written = written || (st[order[j]].dest_db &&
								  strcmp(st[order[j]].dest_db, s->source_db) == 0);
		s->source_dsn = step_db(c, s, "source_db", s->source_db,
								written ? dest_base : c->opts->source_uri, &s->source_literal);
		s->dest_dsn = step_db(c, s, "dest_db", s->dest_db, dest_base, &s->dest_literal);
		s->in_place = s->source_dsn && s->dest_dsn && lg_same_db(s->source_dsn, s->dest_dsn);
		if (s->in_place)
			check_in_place(c, s, s->path);
	}
}

/* ---- the DAG ---------------------------------------------------------------------- */

static int
find_step(lstep *st, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(st[i].name, name) == 0)
			return (int) i;
	return -1;
}

/* Does a depend on b (directly, or by a smaller order)? */
static bool
depends(lstep *st, size_t n, size_t a, size_t b)
{
	const trib_yaml_node *d = st[a].deps;

	if (st[b].order < st[a].order)
		return true;
	for (size_t i = 0; d && d->kind == TRIB_YAML_SEQ && i < d->nchild; i++)
		if (d->child[i]->kind == TRIB_YAML_SCALAR && find_step(st, n, d->child[i]->text) == (int) b)
			return true;
	return false;
}

/* Kahn's algorithm; false on a cycle. */
static bool
run_order(lstep *st, size_t n, size_t *out)
{
	bool	   *done = trib_xcalloc(n + 1, sizeof(bool));
	size_t		k = 0;

	while (k < n)
	{
		size_t		pick = n;

		for (size_t i = 0; i < n && pick == n; i++)
		{
			bool		ready = !done[i];

			for (size_t j = 0; ready && j < n; j++)
				if (j != i && !done[j] && depends(st, n, i, j))
					ready = false;
			if (ready)
				pick = i;
		}
		if (pick == n)
		{
			free(done);
			return false;
		}
		done[pick] = true;
		out[k++] = pick;
	}
	free(done);
	return true;
}

static void
check_deps(lctx *c, lstep *st, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		const trib_yaml_node *d = st[i].deps;

		if (d == NULL || trib_yaml_is_null(d))
			continue;
		if (d->kind != TRIB_YAML_SEQ)
		{
			lerr(c, d, "depends_on", "expected a list of step names");
			continue;
		}
		for (size_t j = 0; j < d->nchild; j++)
			if (d->child[j]->kind != TRIB_YAML_SCALAR || find_step(st, n, d->child[j]->text) < 0)
				lerr(c, d->child[j], "depends_on", "no step named \"%s\"",
					 d->child[j]->kind == TRIB_YAML_SCALAR ? d->child[j]->text : "?");
	}
}

/* ---- the generated configuration ---------------------------------------------- */

static char *
pipeline_name(const char *file, const char *step)
{
	trib_strbuf b = {0};
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	char	   *s;

	trib_strbuf_printf(&b, "%.*s-%s", (int) strcspn(base, "."), base, step);
	s = trib_strbuf_finish(&b);
	for (char *p = s; *p; p++)
		*p = isalnum((unsigned char) *p) ? (char) tolower((unsigned char) *p) : '-';
	if (strlen(s) > 53)
		s[53] = '\0';
	return s;
}

/* A dsn into the native text: literally when it came from outside. */
static void
add_dsn(trib_strbuf *b, const char *dsn, bool literal)
{
	if (literal)
		quote_literal(b, dsn ? dsn : "");
	else
		trib_jdoc_quote(b, dsn ? dsn : "");
}

static char *
native_config(const char *file, const lstep *st, const char *state_dir)
{
	trib_strbuf b = {0};
	char	   *pname = pipeline_name(file, st->name);
	trib_strbuf ck = {0};

	trib_strbuf_printf(&b, "# generated from %s, step %s\npipeline: %s\nsources:\n  source: {type: postgres, dsn: ",
					   file, st->name, pname);
	add_dsn(&b, st->source_dsn, st->source_literal);
	trib_strbuf_adds(&b, ", snapshot: only, include_tables: [");
	for (size_t i = 0; i < st->ntables; i++)
	{
		trib_strbuf_adds(&b, i ? ", " : "");
		quote_literal(&b, st->tables[i]);
	}
	trib_strbuf_adds(&b, "]}\n");
	if (st->rules.len)
		trib_strbuf_printf(&b, "transforms:\n%s", st->rules.data);
	trib_strbuf_adds(&b, "sinks:\n  dest: {type: postgres, create_tables: true, dsn: ");
	add_dsn(&b, st->dest_dsn, st->dest_literal);
	if (st->schema && !st->mixed_schemas)
	{
		trib_strbuf_adds(&b, ", schema: ");
		quote_literal(&b, st->schema);
	}
	trib_strbuf_printf(&ck, "%s/%s.ckpt", state_dir, pname);
	trib_strbuf_adds(&b, "}\ncheckpoint: {store: file, path: ");
	quote_literal(&b, ck.data);
	trib_strbuf_adds(&b, "}\nhttp: {enabled: false}\n");
	trib_strbuf_free(&ck);
	free(pname);
	return trib_strbuf_finish(&b);
}

/* ---- loading -------------------------------------------------------------------- */

bool
trib_legacy_detect(const char *buf, size_t len)
{
	bool		pipelines = false;
	bool		pipeline = false;

	for (size_t i = 0; i < len; i++)
	{
		if (i > 0 && buf[i - 1] != '\n')
			continue;
		if (len - i >= 10 && strncmp(buf + i, "pipelines:", 10) == 0)
			pipelines = true;
		else if (len - i >= 9 && strncmp(buf + i, "pipeline:", 9) == 0)
			pipeline = true;
	}
	return pipelines && !pipeline;
}

static void
free_fields(trib_legacy_field *f, int n)
{
	for (int i = 0; i < n; i++)
	{
		free(f[i].at);
		free(f[i].table);
		free(f[i].column);
		free(f[i].strategy);
	}
	free(f);
}

static void
free_steps(lstep *st, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		free(st[i].name);
		free(st[i].type);
		trib_strbuf_free(&st[i].rules);
		for (size_t j = 0; j < st[i].ntables; j++)
			free(st[i].tables[j]);
		free(st[i].tables);
		free(st[i].schema);
		free(st[i].source_dsn);
		free(st[i].dest_dsn);
		free_fields(st[i].fields, st[i].nfields);
	}
	free(st);
}

/* The connections from outside the file, checked once. */
static void
check_bases(lctx *c)
{
	const trib_legacy_opts *o = c->opts;
	char		why[512];

	if (o->source_uri && !lg_check_base(o->source_uri, o->source_uri_from, why, sizeof(why)))
		lerr(c, NULL, o->source_uri_from ? o->source_uri_from : "source URI", "%s", why);
	if (o->dest_uri && !lg_check_base(o->dest_uri, o->dest_uri_from, why, sizeof(why)))
		lerr(c, NULL, o->dest_uri_from ? o->dest_uri_from : "dest URI", "%s", why);
}

/* Read every step of the list (or map) `list` into st; returns how many. */
static size_t
read_steps(lctx *c, const trib_yaml_node *root, const trib_yaml_node *list, lstep *st)
{
	size_t		nitems = list->kind == TRIB_YAML_SEQ ? list->nchild : list->nchild / 2;
	size_t		n = 0;

	for (size_t i = 0; root && i + 1 < root->nchild; i += 2)
		if (strcmp(root->child[i]->text, "pipelines") != 0)
			lerr(c, root->child[i], root->child[i]->text, "unknown key for the top "
				 "level of a copy-and-sanitize file (accepted: pipelines)");
	for (size_t i = 0; i < nitems; i++)
	{
		const trib_yaml_node *node = list->kind == TRIB_YAML_SEQ ? list->child[i] : list->child[2 * i + 1];
		const char *kname = list->kind == TRIB_YAML_MAP ? list->child[2 * i]->text : NULL;
		char		p[64];

		snprintf(p, sizeof(p), "pipelines[%zu]", i);
		if (node->kind != TRIB_YAML_MAP)
		{
			lerr(c, node, p, "expected a map with the step's settings");
			continue;
		}
		read_step(c, &st[n], node, kname, p);
		if (find_step(st, n, st[n].name) >= 0)
			lerr(c, node, p, "duplicate step name \"%s\"", st[n].name);
		n++;
	}
	check_deps(c, st, n);
	return n;
}

/* The step as the caller sees it; moves the fields out of s. */
static void
finish_step(trib_legacy_step *out, lstep *s, const char *path, const char *state_dir)
{
	out->name = trib_xstrdup(s->name);
	out->type = trib_xstrdup(s->type);
	out->order = s->order;
	out->line = s->node->line;
	out->config = native_config(path, s, state_dir);
	out->pipeline = pipeline_name(path, s->name);
	out->source = lg_shown(s->source_dsn);
	out->dest = lg_shown(s->dest_dsn);
	out->in_place = s->in_place;
	out->tables = s->tables;
	out->ntables = s->ntables;
	s->tables = NULL;
	s->ntables = 0;
	out->nfields = s->nfields;
	out->fields = s->fields;
	s->fields = NULL;
	s->nfields = 0;
}

bool
trib_legacy_load(const char *path, const char *buf, size_t len, const trib_legacy_opts *opts,
				 trib_legacy **out, char *errbuf, size_t errlen)
{
	lctx		c = {.path = path, .opts = opts};
	trib_yaml_node    *root = NULL;
	const trib_yaml_node *list;
	lstep	   *st = NULL;
	size_t		n = 0;
	int			line,
				col;
	char		msg[256];

	*out = NULL;
	if (!trib_yaml_parse(buf, len, &root, &line, &col, msg, sizeof(msg)))
	{
		snprintf(errbuf, errlen, "%s:%d:%d: %s", path, line, col, msg);
		return false;
	}
	check_bases(&c);
	list = root ? trib_yaml_map_get(root, "pipelines") : NULL;
	if (list == NULL || (list->kind != TRIB_YAML_SEQ && list->kind != TRIB_YAML_MAP) || list->nchild == 0)
		lerr(&c, list ? list : root, "pipelines", "expected a list (or map) of steps");
	else
	{
		st = trib_xcalloc(list->nchild + 1, sizeof(lstep));
		n = read_steps(&c, root, list, st);
	}
	if (c.nerr == 0)
	{
		size_t	   *order = trib_xcalloc(n + 1, sizeof(size_t));

		if (!run_order(st, n, order))
			lerr(&c, list, "pipelines", "the steps' depends_on and order form a cycle");
		else
			resolve_steps(&c, st, order, n);
		if (c.nerr == 0)
		{
			trib_legacy *lg = trib_xcalloc(1, sizeof(*lg));

			lg->steps = trib_xcalloc(n + 1, sizeof(trib_legacy_step));
			lg->nsteps = n;
			for (size_t i = 0; i < n; i++)
				finish_step(&lg->steps[i], &st[order[i]], path, opts->state_dir);
			*out = lg;
		}
		free(order);
	}
	if (c.nerr > MAX_ERRORS)
		trib_strbuf_printf(&c.err, "\n%s: too many errors; only the first %d are shown", path,
						   MAX_ERRORS);
	if (c.nerr > 0)
		snprintf(errbuf, errlen, "%s", c.err.data);
	trib_strbuf_free(&c.err);
	free_steps(st, n);
	trib_yaml_free(root);
	return *out != NULL;
}

void
trib_legacy_free(trib_legacy *lg)
{
	if (lg == NULL)
		return;
	for (size_t i = 0; i < lg->nsteps; i++)
	{
		trib_legacy_step *s = &lg->steps[i];

		free(s->name);
		free(s->type);
		free(s->config);
		free(s->pipeline);
		free(s->source);
		free(s->dest);
		for (size_t j = 0; j < s->ntables; j++)
			free(s->tables[j]);
		free(s->tables);
		free_fields(s->fields, s->nfields);
	}
	free(lg->steps);
	free(lg->state_dir);
	free(lg);
}

void
trib_legacy_print(const trib_legacy *lg, FILE *f)
{
	for (size_t i = 0; i < lg->nsteps; i++)
	{
		const trib_legacy_step *s = &lg->steps[i];

		fprintf(f, "  %zu. %s (%s, order %d)\n", i + 1, s->name, s->type, s->order);
		fprintf(f, "       from: %s\n", s->source);
		if (s->in_place)
			fprintf(f, "       in place: the same database, rows rewritten by primary key\n");
		else
			fprintf(f, "       to:   %s\n", s->dest);
	}
}

/* ---- from a file ------------------------------------------------------------------ */

static char *
state_dir_for(const char *path, const trib_legacy_opts *opts)
{
	const char *slash = strrchr(path, '/');
	trib_strbuf b = {0};

	if (opts->state_dir && *opts->state_dir)
		return trib_xstrdup(opts->state_dir);
	if (slash)
		trib_strbuf_add(&b, path, (size_t) (slash - path + 1));
	trib_strbuf_adds(&b, ".tributary-state");
	return trib_strbuf_finish(&b);
}

/* Check each generated configuration with the native loader. */
static bool
validate_steps(const char *path, const trib_legacy *lg, char *errbuf, size_t errlen)
{
	for (size_t i = 0; i < lg->nsteps; i++)
	{
		trib_config *cfg = NULL;
		char		e[4096];

		if (!trib_config_load_buffer(path, lg->steps[i].config, strlen(lg->steps[i].config),
									 &cfg, e, sizeof(e)))
		{
			/*
			 * The generated text's positions mean nothing to the user:
			 * point at the field the rule came from (transforms[N]), or
			 * at the step, and keep the key and the message.
			 */
			const char *key = strstr(e, ": ");
			const char *tr = key ? strstr(key, "transforms[") : NULL;
			int			idx = tr ? atoi(tr + 11) : -1;
			const char *rest = tr ? strchr(tr, ']') : NULL;
			char	   *nl;

			if ((nl = strchr(e, '\n')) != NULL)
				*nl = '\0';		/* the first problem is enough */
			if (rest && idx >= 0 && idx < lg->steps[i].nfields)
			{
				const trib_legacy_field *f = &lg->steps[i].fields[idx];

				snprintf(errbuf, errlen, "%s:%s%s%s%s%s", path, f->at, rest + 1,
						 f->key_from ? " (the default key, from " : "",
						 f->key_from ? f->key_from : "", f->key_from ? ")" : "");
			}
			else
				snprintf(errbuf, errlen, "%s:%d: step %s: %s", path, lg->steps[i].line,
						 lg->steps[i].name, key ? key + 2 : e);
			return false;
		}
		trib_config_free(cfg);
	}
	return true;
}

int
trib_legacy_load_file(const char *path, const trib_legacy_opts *opts, trib_legacy **out,
					  char *errbuf, size_t errlen)
{
	char		msg[256];
	size_t		len;
	char	   *text = trib_fileio_read_small(path, 16 * 1024 * 1024, &len, msg, sizeof(msg));
	trib_legacy_opts o = *opts;
	int			rc;

	*out = NULL;
	if (text == NULL)
	{
		/* not a regular file (a FIFO would block a plain open), unreadable,
		 * too large: the same message the native loader gives */
		snprintf(errbuf, errlen, "%s: %s", path, msg);
		return -1;
	}
	if (!trib_legacy_detect(text, len))
	{
		free(text);
		return 0;
	}
	o.state_dir = state_dir_for(path, opts);
	rc = trib_legacy_load(path, text, len, &o, out, errbuf, errlen) &&
		validate_steps(path, *out, errbuf, errlen) ? 1 : -1;
	if (rc < 0)
	{
		trib_legacy_free(*out);
		*out = NULL;
		free((char *) o.state_dir);
	}
	else
		(*out)->state_dir = (char *) o.state_dir;
	free(text);
	return rc;
}

/* ---- resuming a run ---------------------------------------------------------------- */

static char *
marker(const trib_legacy *lg, size_t i)
{
	trib_strbuf b = {0};

	trib_strbuf_printf(&b, "%s/%s.done", lg->state_dir, lg->steps[i].pipeline);
	return trib_strbuf_finish(&b);
}

bool
trib_legacy_step_done(const trib_legacy *lg, size_t i)
{
	char	   *m = marker(lg, i);
	bool		done = access(m, F_OK) == 0;

	free(m);
	return done;
}

bool
trib_legacy_begin(trib_legacy *lg, char *errbuf, size_t errlen)
{
	size_t		done = 0;

	if (mkdir(lg->state_dir, 0700) != 0 && errno != EEXIST)
	{
		snprintf(errbuf, errlen, "%s: cannot create the state directory: %m", lg->state_dir);
		return false;
	}
	for (size_t i = 0; i < lg->nsteps; i++)
		done += trib_legacy_step_done(lg, i);
	if (done == lg->nsteps)
		for (size_t i = 0; i < lg->nsteps; i++)
		{
			char	   *m = marker(lg, i);

			unlink(m);
			free(m);
		}
	return true;
}

bool
trib_legacy_mark_done(const trib_legacy *lg, size_t i, char *errbuf, size_t errlen)
{
	char	   *m = marker(lg, i);
	const char *what = NULL;
	bool		ok = trib_fileio_write_atomic(m, "done\n", 5, 0600, true, &what);

	if (!ok)
		snprintf(errbuf, errlen, "%s: cannot %s: %m", m, what ? what : "write");
	free(m);
	return ok;
}
