/*
 * legacy.c: the copy-and-sanitize tool's pipeline format; see legacy.h.
 *
 * Translation, step by step:
 *   source_db      sources.source: postgres, dsn, snapshot: only,
 *                  include_tables: the collections (public. when bare)
 *   dest_db        sinks.dest: postgres, dsn, create_tables: true
 *   collections    one rule per field strategy, on that table:
 *     redact       redact      (params: with, value, mask_char, length)
 *     substitute   substitute  (params: kind, key, key_env, key_file)
 *     perturb      perturb     (params: percent, absolute, days, key,
 *                               key_env, key_file)
 *     hash_salt    hash        keyed HMAC with the salt as key (params: salt,
 *                              salt_env, salt_file, length, encoding);
 *                              context: the field name
 *     sample       sample      by the field (params: percent, or fraction
 *                              0..1)
 *   a checkpoint file per step in the state directory.
 * `*_env` params become ${NAME} references, `*_file` params the native
 * `key_file`.  Scalars may use ${ENV} as in native files.
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
#include "strbuf.h"
#include "yaml_tree.h"

#define MAX_ERRORS 20

typedef struct lctx
{
	const char *path;
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

/* ---- strategies ------------------------------------------------------------ */

typedef struct strategy
{
	const char *name;
	const char *rule;
	const char *const *params;
} strategy;

static const char *const redact_p[] = {"with", "value", "mask_char", "length", NULL};
static const char *const subst_p[] = {"kind", "key", "key_env", "key_file", NULL};
static const char *const perturb_p[] = {"percent", "absolute", "days", "key", "key_env", "key_file", NULL};
static const char *const hash_p[] = {"salt", "salt_env", "salt_file", "length", "encoding", NULL};
static const char *const sample_p[] = {"percent", "fraction", NULL};

static const strategy strategies[] = {
	{"redact", "redact", redact_p},
	{"substitute", "substitute", subst_p},
	{"perturb", "perturb", perturb_p},
	{"hash_salt", "hash", hash_p},
	{"sample", "sample", sample_p},
	{NULL, NULL, NULL}
};

static void
join(trib_strbuf *b, const char *const *w)
{
	for (int i = 0; w[i]; i++)
		trib_strbuf_printf(b, "%s%s", i ? ", " : "", w[i]);
}

static const strategy *
find_strategy(const char *name)
{
	for (const strategy *s = strategies; s->name; s++)
		if (strcmp(s->name, name) == 0)
			return s;
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
	trib_strbuf tables;
	const char *source_db;
	const char *dest_db;
	int			nrules;
	char	  **rule_at;
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
static bool
required_params(lctx *c, const strategy *s, const trib_yaml_node *params, const trib_yaml_node *spec,
				const char *path)
{
	static const struct
	{
		const char *strategy;
		const char *any[4];
		const char *say;
	}			req[] = {
		{"sample", {"percent", "fraction", NULL}, "percent (0 to 100) or fraction (0 to 1)"},
		{"hash_salt", {"salt", "salt_env", "salt_file", NULL}, "salt, salt_env or salt_file"},
		{"substitute", {"kind", NULL}, "kind"},
	};

	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
	{
		bool		found = false;

		if (strcmp(req[i].strategy, s->name) != 0)
			continue;
		for (int j = 0; req[i].any[j] && params && params->kind == TRIB_YAML_MAP; j++)
			found = found || trib_yaml_map_get(params, req[i].any[j]) != NULL;
		if (!found)
		{
			lerr(c, params && params->kind == TRIB_YAML_MAP ? params : spec, path,
				 "strategy %s needs params: %s", s->name, req[i].say);
			return false;
		}
	}
	return true;
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
	(void) required_params(c, s, params, spec, path);	/* and go on: report all */
	if (strcmp(st->type, "copy") == 0)
	{
		lerr(c, spec, path, "a copy step copies as is: strategy %s needs a sanitize_obfuscate "
			 "or minimize step", sname);
		return;
	}
	st->rule_at = trib_xrealloc(st->rule_at, sizeof(char *) * (size_t) (st->nrules + 1));
	{
		trib_strbuf at = {0};

		trib_strbuf_printf(&at, "%d:%d: %s", fkey->line, fkey->column, path);
		st->rule_at[st->nrules++] = trib_strbuf_finish(&at);
	}
	trib_strbuf_printf(b, "  - {type: %s, name: ", s->rule);
	{
		trib_strbuf n = {0};

		trib_strbuf_printf(&n, "%s.%s.%s", st->name, table, fkey->text);
		trib_jdoc_quote(b, n.data);
		trib_strbuf_free(&n);
	}
	trib_strbuf_adds(b, ", tables: [");
	trib_jdoc_quote(b, table);
	trib_strbuf_adds(b, "]");
	if (strcmp(s->rule, "sample") == 0)
	{
		trib_strbuf_adds(b, ", by: ");
		trib_jdoc_quote(b, fkey->text);
	}
	else
	{
		trib_strbuf_adds(b, ", fields: [");
		trib_jdoc_quote(b, fkey->text);
		trib_strbuf_adds(b, "]");
	}
	if (strcmp(s->rule, "hash") == 0)
	{
		trib_strbuf_adds(b, ", key_format: raw, context: ");
		trib_jdoc_quote(b, fkey->text);
	}
	if (params != NULL && !trib_yaml_is_null(params) && params->kind != TRIB_YAML_MAP)
	{
		lerr(c, params, path, "params: expected a map");
		params = NULL;
	}
	for (size_t i = 0; params && i + 1 < params->nchild; i += 2)
	{
		const trib_yaml_node *k = params->child[i];
		const trib_yaml_node *v = params->child[i + 1];
		const char *native = k->text;
		trib_strbuf val = {0};

		if (!in_list(s->params, k->text))
		{
			trib_strbuf acc = {0};

			join(&acc, s->params);
			lerr(c, k, path, "unknown parameter %s for strategy %s (accepted: %s)", k->text,
				 sname, acc.data);
			trib_strbuf_free(&acc);
			continue;
		}
		if (v->kind != TRIB_YAML_SCALAR)
		{
			lerr(c, v, path, "parameter %s: expected a scalar", k->text);
			continue;
		}
		if (strcmp(k->text, "salt") == 0)
			native = "key";
		else if (strcmp(k->text, "salt_env") == 0 || strcmp(k->text, "key_env") == 0)
		{
			native = "key";
			trib_strbuf_printf(&val, "${%s}", v->text);
		}
		else if (strcmp(k->text, "salt_file") == 0)
			native = "key_file";
		else if (strcmp(k->text, "fraction") == 0)
		{
			char	   *end;
			double		f = strtod(v->text, &end);

			if (*end != '\0' || f < 0 || f > 1)
				lerr(c, v, path, "fraction: \"%s\" is not between 0 and 1", v->text);
			native = "percent";
			trib_strbuf_printf(&val, "%.10g", f * 100.0);
		}
		trib_strbuf_printf(b, ", %s: ", native);
		trib_jdoc_quote(b, val.len ? val.data : v->text);
		trib_strbuf_free(&val);
	}
	trib_strbuf_adds(b, "}\n");
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
		const trib_yaml_node *fields = cols->child[i + 1];
		trib_strbuf table = {0};
		trib_strbuf p = {0};

		if (strchr(name->text, '.') == NULL)
			trib_strbuf_adds(&table, "public.");
		trib_strbuf_adds(&table, name->text);
		trib_strbuf_adds(&st->tables, st->tables.len ? ", " : "");
		trib_jdoc_quote(&st->tables, table.data);
		trib_strbuf_printf(&p, "%s.collections.%s", path, name->text);
		if (fields != NULL && !trib_yaml_is_null(fields) && fields->kind != TRIB_YAML_MAP)
			lerr(c, fields, p.data, "expected a map of field names to {strategy, params}");
		for (size_t j = 0; fields && fields->kind == TRIB_YAML_MAP && j + 1 < fields->nchild; j += 2)
		{
			trib_strbuf fp = {0};

			trib_strbuf_printf(&fp, "%s.%s", p.data, fields->child[j]->text);
			if (fields->child[j + 1]->kind != TRIB_YAML_MAP)
				lerr(c, fields->child[j + 1], fp.data, "expected {strategy: ..., params: {...}}");
			else
				field_rule(c, st, table.data, fields->child[j], fields->child[j + 1], fp.data);
			trib_strbuf_free(&fp);
		}
		trib_strbuf_free(&table);
		trib_strbuf_free(&p);
	}
}

static const char *const step_keys[] = {"step", "type", "order", "depends_on", "source_db",
"dest_db", "collections", "description", NULL};
static const char *const step_types[] = {"copy", "sanitize_obfuscate", "minimize", NULL};

static void
read_step(lctx *c, lstep *st, const trib_yaml_node *node, const char *name_from_key, const char *path)
{
	const char *order;
	const char *type;

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
	type = scalar(c, node, "type", path, true);
	if (type && !in_list(step_types, type))
		lerr(c, trib_yaml_map_get(node, "type"), path, "unknown step type \"%s\" (accepted: copy, "
			 "sanitize_obfuscate, minimize)", type);
	st->type = trib_xstrdup(type ? type : "copy");
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
	st->source_db = scalar(c, node, "source_db", path, true);
	st->dest_db = scalar(c, node, "dest_db", path, true);
	if (st->source_db && strncmp(st->source_db, "mongodb", 7) == 0)
		lerr(c, trib_yaml_map_get(node, "source_db"), path, "MongoDB databases are not supported "
			 "by this version (accepted: postgres:// or postgresql:// URIs, or libpq "
			 "connection strings)");
	if (st->dest_db && strncmp(st->dest_db, "mongodb", 7) == 0)
		lerr(c, trib_yaml_map_get(node, "dest_db"), path, "MongoDB databases are not supported "
			 "by this version (accepted: postgres:// or postgresql:// URIs, or libpq "
			 "connection strings)");
	step_collections(c, st, trib_yaml_map_get(node, "collections"), path);
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
depends(lctx *c, lstep *st, size_t n, size_t a, size_t b)
{
	const trib_yaml_node *d = st[a].deps;

	(void) c;
	if (st[b].order < st[a].order)
		return true;
	for (size_t i = 0; d && d->kind == TRIB_YAML_SEQ && i < d->nchild; i++)
		if (d->child[i]->kind == TRIB_YAML_SCALAR && find_step(st, n, d->child[i]->text) == (int) b)
			return true;
	return false;
}

/* Kahn's algorithm; false on a cycle. */
static bool
run_order(lctx *c, lstep *st, size_t n, size_t *out)
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
				if (j != i && !done[j] && depends(c, st, n, i, j))
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

static char *
native_config(const char *file, const lstep *st, const char *state_dir)
{
	trib_strbuf b = {0};
	char	   *pname = pipeline_name(file, st->name);
	trib_strbuf ck = {0};

	trib_strbuf_printf(&b, "# generated from %s, step %s\npipeline: %s\nsources:\n  source: {type: postgres, dsn: ",
					   file, st->name, pname);
	trib_jdoc_quote(&b, st->source_db ? st->source_db : "");
	trib_strbuf_printf(&b, ", snapshot: only, include_tables: [%s]}\n", st->tables.data ? st->tables.data : "");
	if (st->rules.len)
		trib_strbuf_printf(&b, "transforms:\n%s", st->rules.data);
	trib_strbuf_adds(&b, "sinks:\n  dest: {type: postgres, create_tables: true, dsn: ");
	trib_jdoc_quote(&b, st->dest_db ? st->dest_db : "");
	trib_strbuf_printf(&ck, "%s/%s.ckpt", state_dir, pname);
	trib_strbuf_adds(&b, "}\ncheckpoint: {store: file, path: ");
	trib_jdoc_quote(&b, ck.data);
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
free_steps(lstep *st, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		free(st[i].name);
		free(st[i].type);
		trib_strbuf_free(&st[i].rules);
		trib_strbuf_free(&st[i].tables);
		for (int j = 0; j < st[i].nrules; j++)
			free(st[i].rule_at[j]);
		free(st[i].rule_at);
	}
	free(st);
}

bool
trib_legacy_load(const char *path, const char *buf, size_t len, const char *state_dir,
				 trib_legacy **out, char *errbuf, size_t errlen)
{
	lctx		c = {.path = path};
	trib_yaml_node *root = NULL;
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
	list = root ? trib_yaml_map_get(root, "pipelines") : NULL;
	if (list == NULL || (list->kind != TRIB_YAML_SEQ && list->kind != TRIB_YAML_MAP) || list->nchild == 0)
		lerr(&c, list ? list : root, "pipelines", "expected a list (or map) of steps");
	else
	{
		size_t		nitems = list->kind == TRIB_YAML_SEQ ? list->nchild : list->nchild / 2;

		for (size_t i = 0; root && i + 1 < root->nchild; i += 2)
			if (strcmp(root->child[i]->text, "pipelines") != 0)
				lerr(&c, root->child[i], root->child[i]->text, "unknown key for the top "
					 "level of a copy-and-sanitize file (accepted: pipelines)");
		st = trib_xcalloc(nitems + 1, sizeof(lstep));
		for (size_t i = 0; i < nitems; i++)
		{
			const trib_yaml_node *node = list->kind == TRIB_YAML_SEQ ? list->child[i] : list->child[2 * i + 1];
			const char *kname = list->kind == TRIB_YAML_MAP ? list->child[2 * i]->text : NULL;
			char		p[64];

			snprintf(p, sizeof(p), "pipelines[%zu]", i);
			if (node->kind != TRIB_YAML_MAP)
			{
				lerr(&c, node, p, "expected a map with the step's settings");
				continue;
			}
			read_step(&c, &st[n], node, kname, p);
			if (find_step(st, n, st[n].name) >= 0)
				lerr(&c, node, p, "duplicate step name \"%s\"", st[n].name);
			n++;
		}
		check_deps(&c, st, n);
	}
	if (c.nerr == 0)
	{
		size_t	   *order = trib_xcalloc(n + 1, sizeof(size_t));

		if (!run_order(&c, st, n, order))
			lerr(&c, list, "pipelines", "the steps' depends_on and order form a cycle");
		else
		{
			trib_legacy *lg = trib_xcalloc(1, sizeof(*lg));

			lg->steps = trib_xcalloc(n + 1, sizeof(trib_legacy_step));
			lg->nsteps = n;
			for (size_t i = 0; i < n; i++)
			{
				lstep	   *s = &st[order[i]];

				lg->steps[i].name = trib_xstrdup(s->name);
				lg->steps[i].type = trib_xstrdup(s->type);
				lg->steps[i].order = s->order;
				lg->steps[i].line = s->node->line;
				lg->steps[i].config = native_config(path, s, state_dir);
				lg->steps[i].pipeline = pipeline_name(path, s->name);
				lg->steps[i].nrules = s->nrules;
				lg->steps[i].rule_at = s->rule_at;	/* moved */
				s->rule_at = NULL;
				s->nrules = 0;
			}
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
		free(lg->steps[i].name);
		free(lg->steps[i].type);
		free(lg->steps[i].config);
		free(lg->steps[i].pipeline);
		for (int j = 0; j < lg->steps[i].nrules; j++)
			free(lg->steps[i].rule_at[j]);
		free(lg->steps[i].rule_at);
	}
	free(lg->steps);
	free(lg->state_dir);
	free(lg);
}

/* ---- from a file ------------------------------------------------------------------ */

static char *
state_dir_for(const char *path)
{
	const char *env = getenv("TRIBUTARY_STATE_DIR");
	const char *slash = strrchr(path, '/');
	trib_strbuf b = {0};

	if (env && *env)
		return trib_xstrdup(env);
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
				*nl = '\0';	/* the first problem is enough */
			if (rest && idx >= 0 && idx < lg->steps[i].nrules)
				snprintf(errbuf, errlen, "%s:%s%s", path, lg->steps[i].rule_at[idx],
						 rest + 1);
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
trib_legacy_load_file(const char *path, trib_legacy **out, char *errbuf, size_t errlen)
{
	FILE	   *f = fopen(path, "rb");
	trib_strbuf b = {0};
	char		chunk[65536];
	size_t		n;
	char	   *dir;
	int			rc;

	*out = NULL;
	if (f == NULL)
	{
		snprintf(errbuf, errlen, "%s: %m", path);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < 16 * 1024 * 1024)
		trib_strbuf_add(&b, chunk, n);
	fclose(f);
	if (b.data == NULL || !trib_legacy_detect(b.data, b.len))
	{
		trib_strbuf_free(&b);
		return 0;
	}
	dir = state_dir_for(path);
	rc = trib_legacy_load(path, b.data, b.len, dir, out, errbuf, errlen) &&
		validate_steps(path, *out, errbuf, errlen) ? 1 : -1;
	if (rc < 0)
	{
		trib_legacy_free(*out);
		*out = NULL;
		free(dir);
	}
	else
		(*out)->state_dir = dir;
	trib_strbuf_free(&b);
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
