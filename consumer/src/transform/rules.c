/*
 * rules.c: compiling and applying transform rules; see rules.h.
 *
 * Layout: this file compiles the rules (paths, keys, thresholds, metrics),
 * selects events (source and table globs), parses images lazily, derives
 * relations for shape rules and drives trib_rules_apply().  The rules
 * themselves live in rules_fields.c (value and shape rules),
 * rules_events.c (sample, route, flatten) and rules_quality.c; what they
 * share is rules_int.h.
 *
 * Determinism.  Every rule that invents a value (hash, sample) derives it
 * from HMAC-SHA256 under the rule's key, so the same input gives the same
 * output in every run, table and process.
 */
#include "rules.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_int.h"

#include "keys.h"
#include "lua_expr.h"
#include "xalloc.h"

/* ---- compilation -------------------------------------------------------- */

static bool
compile_rule(trib_rules *rs, rule *r, const trib_rule_conf *c, trib_metrics *m,
			 char *errbuf, size_t errlen)
{
	r->c = c;
	r->npaths = (int) c->fields.count;
	r->paths = trib_xcalloc(c->fields.count + 1, sizeof(trib_jpath));
	for (size_t i = 0; i < c->fields.count; i++)
		if (!trib_jpath_parse(c->fields.items[i], &r->paths[i], errbuf, errlen))
			return false;
	if (c->by != NULL)
	{
		if (!trib_jpath_parse(c->by, &r->by, errbuf, errlen))
			return false;
		r->has_by = true;
	}
	if (!rl_crypto_init(r, errbuf, errlen) || !rl_mask_init(r, errbuf, errlen) ||
		!rl_lua_init(rs, r, errbuf, errlen) || !rl_quality_init(rs, r, errbuf, errlen))
		return false;
	if (c->type == TRIB_RULE_SAMPLE)
	{
		r->mac = r->key ? trib_hmac_new(r->key->bytes, r->key->len)
			: trib_hmac_new(SAMPLE_DEFAULT_KEY, strlen(SAMPLE_DEFAULT_KEY));
		if (r->mac == NULL)
			abort();

		long double pct = strtold(c->percent, NULL);

		r->keep_all = pct >= 100.0L;
		r->threshold = (uint64_t) (pct / 100.0L * 18446744073709551616.0L);
	}
	if (m != NULL)
	{
		trib_metric_family *f = trib_metrics_counter(m, "tributary_rule_events_total",
													 "Events a transform rule applied to.", "rule,type");

		r->m_selected = trib_metric_get(f, c->name, c->type_name);
		if (c->type == TRIB_RULE_QUALITY)
		{
			f = trib_metrics_counter(m, "tributary_quality_checks_total",
									 "Values a data-quality rule tested, by result.",
									 "rule,result");
			r->m_pass = trib_metric_get(f, c->name, "pass");
			r->m_fail = trib_metric_get(f, c->name, "fail");
		}
	}
	return true;
}

trib_rules *
trib_rules_new(const trib_config *cfg, trib_metrics *metrics, char *errbuf, size_t errlen)
{
	trib_rules *rs = trib_xcalloc(1, sizeof(*rs));

	rs->r = trib_xcalloc(cfg->nrules + 1, sizeof(rule));
	rs->sel = trib_xcalloc(cfg->nrules + 1, sizeof(bool));
	rs->dlq_images = cfg->dead_letter_images == TRIB_DLQ_IMAGES_ORIGINAL;
	rs->strict = cfg->strict;
	rs->lua_max_instructions = cfg->lua_max_instructions;
	rs->lua_max_memory_mb = cfg->lua_max_memory_mb;
	for (size_t i = 0; i < cfg->nrules; i++)
	{
		char		e[256];

		rs->n++;
		if (!compile_rule(rs, &rs->r[i], &cfg->rules[i], metrics, e, sizeof(e)))
		{
			snprintf(errbuf, errlen, "transform %s: %s", cfg->rules[i].name, e);
			trib_rules_free(rs);
			return NULL;
		}
	}
	if (metrics != NULL)
	{
		rs->f_dead = trib_metrics_counter(metrics, "tributary_dead_letter_events_total",
										  "Events sent to the dead-letter sink, by rule.", "rule");
		rs->m_strict = trib_metric_get(trib_metrics_counter(metrics,
															"tributary_strict_nulled_values_total",
															"Values strict mode replaced by null (columns without a rule).", ""));
	}
	return rs;
}

bool
trib_rules_empty(const trib_rules *rs)
{
	return rs == NULL || (rs->n == 0 && !rs->strict);
}

void
trib_rules_batch_end(trib_rules *rs)
{
	if (rs == NULL)
		return;
	for (int i = 0; i < rs->n; i++)
		rl_quality_batch_end(&rs->r[i]);	/* unique: a new batch starts empty */
}

static void
free_relation(trib_relation *rel)
{
	if (rel == NULL)
		return;
	for (int i = 0; i < rel->ncolumns; i++)
	{
		free(rel->columns[i].name);
		free(rel->columns[i].type);
	}
	free(rel->columns);
	free(rel->schema);
	free(rel->table);
	free(rel);
}

void
trib_rules_free(trib_rules *rs)
{
	if (rs == NULL)
		return;
	for (int i = 0; i < rs->n; i++)
	{
		rule	   *r = &rs->r[i];

		for (int j = 0; j < r->npaths; j++)
			trib_jpath_free(&r->paths[j]);
		free(r->paths);
		if (r->has_by)
			trib_jpath_free(&r->by);
		rl_lookup_free(r);
		rl_crypto_free(r);
		rl_mask_free(r);
		rl_quality_free(r);
		trib_hmac_free(r->mac);
	}
	for (size_t i = 0; i < rs->nd; i++)
		free_relation(rs->d[i].rel);
	rl_strict_free(rs);
	free(rs->sel);
	free(rs->sel_source);
	free(rs->sel_schema);
	free(rs->sel_table);
	if (rs->lua)
		trib_lua_free(rs->lua);
	free(rs->d);
	free(rs->r);
	free(rs);
}

/* ---- selection ------------------------------------------------------------ */

static bool
glob_any(const trib_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->count; i++)
		if (fnmatch(l->items[i], s ? s : "", 0) == 0)
			return true;
	return false;
}

static bool
table_selected(const trib_strlist *l, const char *schema, const char *table)
{
	char		qual[512];

	if (l->count == 0)
		return true;
	snprintf(qual, sizeof(qual), "%s.%s", schema ? schema : "", table ? table : "");
	for (size_t i = 0; i < l->count; i++)
	{
		const char *g = l->items[i];

		if (fnmatch(g, strchr(g, '.') ? qual : (table ? table : ""), 0) == 0)
			return true;
	}
	return false;
}

bool
rl_selected(const trib_rule_conf *c, const trib_event *ev)
{
	if (c->sources.count > 0 && !glob_any(&c->sources, ev->source))
		return false;
	return table_selected(&c->tables, ev->schema, ev->table);
}

/* ---- images ----------------------------------------------------------------- */

char **
rl_img_text(trib_event *ev, int i)
{
	return i == IMG_BEFORE ? &ev->before : i == IMG_AFTER ? &ev->after : &ev->key;
}

/* The parsed image i, or NULL when the event has none. */
static yajl_val
img_get(evctx *x, int i, char *errbuf, size_t errlen)
{
	char	  **t = rl_img_text(x->ev, i);

	if (!x->parsed[i])
	{
		x->parsed[i] = true;
		if (*t != NULL && (x->img[i] = trib_jdoc_parse(*t, errbuf, errlen)) == NULL)
			return NULL;
	}
	return x->img[i];
}

/* Parse the three images; false when one is not JSON. */
bool
rl_img_all(evctx *x, char *errbuf, size_t errlen)
{
	for (int i = 0; i < NIMG; i++)
		if (img_get(x, i, errbuf, errlen) == NULL && *rl_img_text(x->ev, i) != NULL)
			return false;
	return true;
}

/* Write the changed images back into the event. */
static void
img_finish(evctx *x)
{
	for (int i = 0; i < NIMG; i++)
	{
		if (x->dirty[i])
		{
			char	  **t = rl_img_text(x->ev, i);

			free(*t);
			*t = x->img[i] ? trib_jdoc_dump(x->img[i]) : NULL;
		}
		if (x->img[i])
			yajl_tree_free(x->img[i]);
	}
}

/* ---- derived relations -------------------------------------------------------- */

static bool
is_shape_rule(const trib_rule_conf *c)
{
	switch (c->type)
	{
		case TRIB_RULE_DROP:
		case TRIB_RULE_KEEP:
		case TRIB_RULE_RENAME:
		case TRIB_RULE_CAST:
			return true;
		case TRIB_RULE_HASH:
		case TRIB_RULE_PARTIAL:
		case TRIB_RULE_TOKENIZE:
		case TRIB_RULE_ENCRYPT:
		case TRIB_RULE_DECRYPT:
		case TRIB_RULE_SUBSTITUTE:
			return true;		/* the column becomes text */
		case TRIB_RULE_GENERALIZE:
			return c->mode == TRIB_GENMODE_RANGE;	/* "30-39" is text */
		case TRIB_RULE_AGGREGATE:
		case TRIB_RULE_LOOKUP:
		case TRIB_RULE_COMPUTE:
			return true;		/* a new column */
		case TRIB_RULE_REDACT:
			return c->with != TRIB_RWITH_NULL;
		default:
			return false;
	}
}

static bool
is_text_type(const char *t)
{
	return strncmp(t, "text", 4) == 0 || strncmp(t, "character", 9) == 0 ||
		strncmp(t, "varchar", 7) == 0 || strncmp(t, "citext", 6) == 0;
}

static void
remove_column(trib_relation *rel, int i)
{
	free(rel->columns[i].name);
	free(rel->columns[i].type);
	memmove(&rel->columns[i], &rel->columns[i + 1],
			sizeof(trib_column) * (size_t) (rel->ncolumns - i - 1));
	rel->ncolumns--;
}

static void
set_type(trib_column *col, const char *type)
{
	free(col->type);
	col->type = trib_xstrdup(type);
	col->type_oid = 0;
}

/* Add (or retype) a column. */
static void
add_column(trib_relation *rel, const char *name, const char *type)
{
	trib_column *col;

	for (int i = 0; i < rel->ncolumns; i++)
		if (strcmp(rel->columns[i].name, name) == 0)
		{
			free(rel->columns[i].type);
			rel->columns[i].type = trib_xstrdup(type);
			return;
		}
	rel->columns = trib_xrealloc(rel->columns, sizeof(trib_column) * (size_t) (rel->ncolumns + 1));
	col = &rel->columns[rel->ncolumns++];
	memset(col, 0, sizeof(*col));
	col->name = trib_xstrdup(name);
	col->type = trib_xstrdup(type);
	col->nullable = true;
}

static void
reshape(trib_relation *rel, const rule *r)
{
	if (r->c->type == TRIB_RULE_AGGREGATE)
	{
		add_column(rel, r->c->field, r->c->function == TRIB_AGG_COUNT ? "bigint" : "numeric");
		return;
	}
	if (r->c->type == TRIB_RULE_LOOKUP)
	{
		add_column(rel, r->c->into, "jsonb");
		return;
	}
	if (r->c->type == TRIB_RULE_COMPUTE)
	{
		add_column(rel, r->c->field, r->c->column_type);
		return;
	}
	static const char *const cast_types[] = {"text", "bigint", "numeric", "boolean"};

	for (int i = 0; i < rel->ncolumns;)
	{
		trib_column *col = &rel->columns[i];
		bool		named = rl_any_path_first(r, col->name);
		const char *to;

		switch (r->c->type)
		{
			case TRIB_RULE_DROP:
				if (named && !col->pk)
				{
					remove_column(rel, i);
					continue;
				}
				break;
			case TRIB_RULE_KEEP:
				{
					bool		keep = col->pk;

					for (int p = 0; p < r->npaths && !keep; p++)
						keep = trib_jpath_first_matches(&r->paths[p], col->name);
					if (!keep)
					{
						remove_column(rel, i);
						continue;
					}
					break;
				}
			case TRIB_RULE_RENAME:
				if ((to = trib_kvlist_get(&r->c->renames, col->name)) != NULL)
				{
					free(col->name);
					col->name = trib_xstrdup(to);
				}
				break;
			case TRIB_RULE_CAST:
				if (named)
					set_type(col, cast_types[r->c->to]);
				break;
			default:
				/* value rules that write strings: a text column */
				if (named && !is_text_type(col->type))
					set_type(col, "text");
				break;
		}
		i++;
	}
}

static trib_relation *
copy_relation(const trib_relation *src)
{
	trib_relation *rel = trib_xcalloc(1, sizeof(*rel));

	rel->schema = src->schema ? trib_xstrdup(src->schema) : NULL;
	rel->table = src->table ? trib_xstrdup(src->table) : NULL;
	rel->version = src->version;
	rel->ncolumns = src->ncolumns;
	rel->columns = trib_xcalloc((size_t) src->ncolumns + 1, sizeof(trib_column));
	for (int i = 0; i < src->ncolumns; i++)
	{
		rel->columns[i] = src->columns[i];
		rel->columns[i].name = trib_xstrdup(src->columns[i].name);
		rel->columns[i].type = trib_xstrdup(src->columns[i].type);
	}
	return rel;
}

/* The relation the rules make of ev->rel (cached per version). */
static const trib_relation *
derive(trib_rules *rs, const trib_event *ev)
{
	const trib_relation *src = ev->rel;
	trib_relation *rel = NULL;

	for (size_t i = 0; i < rs->nd; i++)
		if (rs->d[i].src == src && rs->d[i].version == src->version)
			return rs->d[i].rel ? rs->d[i].rel : src;
	for (int i = 0; i < rs->n; i++)
	{
		if (!is_shape_rule(rs->r[i].c) || !rl_selected(rs->r[i].c, ev))
			continue;
		if (rel == NULL)
			rel = copy_relation(src);
		reshape(rel, &rs->r[i]);
	}
	if (rs->nd == rs->dcap)
	{
		rs->dcap = rs->dcap ? rs->dcap * 2 : 16;
		rs->d = trib_xrealloc(rs->d, rs->dcap * sizeof(derived));
	}
	rs->d[rs->nd].src = src;
	rs->d[rs->nd].version = src->version;
	rs->d[rs->nd].rel = rel;
	rs->nd++;
	return rel ? rel : src;
}

/* ---- the driver ----------------------------------------------------------------- */

static bool
is_row_event(const trib_event *ev)
{
	return ev->op == TRIB_OP_CREATE || ev->op == TRIB_OP_UPDATE ||
		ev->op == TRIB_OP_DELETE || ev->op == TRIB_OP_READ;
}

/* Run rule r; KEEP to go on. */
static trib_verdict
run_rule(trib_rules *rs, rule *r, evctx *x, char *errbuf, size_t errlen)
{
	(void) rs;
	switch (r->c->type)
	{
		case TRIB_RULE_REDACT:
		case TRIB_RULE_PARTIAL:
		case TRIB_RULE_HASH:
		case TRIB_RULE_TOKENIZE:
		case TRIB_RULE_ENCRYPT:
		case TRIB_RULE_DECRYPT:
		case TRIB_RULE_SUBSTITUTE:
		case TRIB_RULE_PERTURB:
		case TRIB_RULE_GENERALIZE:
		case TRIB_RULE_CAST:
			if (!is_row_event(x->ev))
				return TRIB_VERDICT_KEEP;
			if (!rl_apply_value_rule(x, r, errbuf, errlen))
				return x->why ? TRIB_VERDICT_DEAD_LETTER : TRIB_VERDICT_FAIL;
			if (r->c->type == TRIB_RULE_CAST)
				x->reshaped = true;
			else if (r->c->type != TRIB_RULE_REDACT || r->c->with != TRIB_RWITH_NULL)
				x->reshaped = true;
			return TRIB_VERDICT_KEEP;
		case TRIB_RULE_DROP:
		case TRIB_RULE_KEEP:
		case TRIB_RULE_RENAME:
			if (!is_row_event(x->ev))
				return TRIB_VERDICT_KEEP;
			return rl_apply_shape_rule(x, r, errbuf, errlen) ? TRIB_VERDICT_KEEP
				: TRIB_VERDICT_FAIL;
		case TRIB_RULE_SAMPLE:
			return rl_apply_sample(x, r, errbuf, errlen);
		case TRIB_RULE_FILTER:
		case TRIB_RULE_COMPUTE:
		case TRIB_RULE_MAP:
			return rl_apply_lua(x, r, errbuf, errlen);
		case TRIB_RULE_ROUTE:
			if (r->expr != NULL)
				return rl_apply_lua(x, r, errbuf, errlen);
			if (!rl_apply_route(x, r, errbuf, errlen))
				return x->why ? TRIB_VERDICT_DEAD_LETTER : TRIB_VERDICT_FAIL;
			return TRIB_VERDICT_KEEP;
		case TRIB_RULE_FLATTEN:
			return rl_apply_flatten(x, r, errbuf, errlen);
		case TRIB_RULE_QUALITY:
			return rl_apply_quality(x, r, errbuf, errlen);
		case TRIB_RULE_ALLOW:
			return TRIB_VERDICT_KEEP;	/* a decision for strict mode only */
		case TRIB_RULE_OUTBOX:
			return rl_apply_outbox(x, r, errbuf, errlen);
		case TRIB_RULE_AGGREGATE:
			if (!is_row_event(x->ev))
				return TRIB_VERDICT_KEEP;
			return rl_apply_aggregate(x, r, errbuf, errlen) ? TRIB_VERDICT_KEEP
				: TRIB_VERDICT_FAIL;
		case TRIB_RULE_LOOKUP:
			if (!is_row_event(x->ev))
				return TRIB_VERDICT_KEEP;
			if (!rl_apply_lookup(x, r, errbuf, errlen))
				return x->why ? TRIB_VERDICT_DEAD_LETTER : TRIB_VERDICT_FAIL;
			return TRIB_VERDICT_KEEP;
	}
	return TRIB_VERDICT_KEEP;
}

/* Give a dead-letter event its reason; the images stay as they came. */
static void
to_dead_letter(trib_rules *rs, evctx *x, const rule *r)
{
	trib_strbuf b = {0};

	trib_strbuf_printf(&b, "%s", x->why);
	if (x->why_field != NULL && strstr(x->why, "quality rule") == NULL)
		trib_strbuf_printf(&b, " (%s rule %s, field %s)", r->c->type_name, r->c->name,
						   x->why_field);
	else if (strstr(x->why, "quality rule") == NULL)
		trib_strbuf_printf(&b, " (%s rule %s)", r->c->type_name, r->c->name);
	free(x->ev->error);
	x->ev->error = trib_strbuf_finish(&b);
	if (!rs->dlq_images)
	{
		/* by default no row data leaves through the dead-letter sink: the
		 * images may hold values the later rules would have masked */
		for (int i = 0; i < NIMG; i++)
		{
			char	  **t = rl_img_text(x->ev, i);

			free(*t);
			*t = NULL;
		}
		free(x->ev->unchanged);
		x->ev->unchanged = NULL;
	}
	if (rs->f_dead)
		trib_metric_inc(trib_metric_get(rs->f_dead, r->c->name));
}

static bool
same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* rs->sel for ev's source and table, recomputed when they change. */
static void
update_selection(trib_rules *rs, const trib_event *ev)
{
	if (rs->sel_valid && same(rs->sel_source, ev->source) &&
		same(rs->sel_schema, ev->schema) && same(rs->sel_table, ev->table))
		return;
	free(rs->sel_source);
	free(rs->sel_schema);
	free(rs->sel_table);
	rs->sel_source = trib_xstrdup(ev->source);
	rs->sel_schema = trib_xstrdup(ev->schema);
	rs->sel_table = trib_xstrdup(ev->table);
	for (int i = 0; i < rs->n; i++)
		rs->sel[i] = rl_selected(rs->r[i].c, ev);
	rs->sel_valid = true;
}

trib_verdict
trib_rules_apply(trib_rules *rs, trib_event *ev, char *errbuf, size_t errlen)
{
	evctx		x;
	trib_verdict v = TRIB_VERDICT_KEEP;
	char		e[512] = "";

	if (trib_rules_empty(rs))
		return TRIB_VERDICT_KEEP;
	memset(&x, 0, sizeof(x));
	x.ev = ev;
	if (rs->strict && is_row_event(ev))
	{
		v = rl_strict_pass(rs, &x, e, sizeof(e));
		if (v == TRIB_VERDICT_FAIL)
		{
			x.why = "the row image is not valid JSON";
			v = TRIB_VERDICT_DEAD_LETTER;
		}
		if (v == TRIB_VERDICT_DEAD_LETTER)
		{
			static const trib_rule_conf strict_conf = {.name = "strict", .type_name = "strict"};
			static const rule strict_rule = {.c = &strict_conf};

			for (int k = 0; k < NIMG; k++)
				x.dirty[k] = false;
			to_dead_letter(rs, &x, &strict_rule);
		}
	}
	update_selection(rs, ev);
	for (int i = 0; i < rs->n && v == TRIB_VERDICT_KEEP; i++)
	{
		rule	   *r = &rs->r[i];

		if (!rs->sel[i])
			continue;
		trib_metric_inc(r->m_selected);
		v = run_rule(rs, r, &x, e, sizeof(e));
		if (v == TRIB_VERDICT_FAIL && x.why == NULL && e[0] != '\0' &&
			strstr(e, "action: fail") == NULL)
		{
			/* bad data (an image that is not JSON): dead-letter, not a stop */
			x.why = "the row image is not valid JSON";
			x.why_field = NULL;
			v = TRIB_VERDICT_DEAD_LETTER;
		}
		if (v == TRIB_VERDICT_DEAD_LETTER)
		{
			for (int k = 0; k < NIMG; k++)
				x.dirty[k] = false;	/* the dead-letter sink gets the original */
			to_dead_letter(rs, &x, r);
		}
		else if (v == TRIB_VERDICT_FAIL)
			snprintf(errbuf, errlen, "transform %s: %s", r->c->name, e);
	}
	img_finish(&x);
	if (v == TRIB_VERDICT_KEEP && x.tags.len > 0)
	{
		trib_strbuf_addc(&x.tags, ']');
		free(ev->tags);
		ev->tags = trib_strbuf_finish(&x.tags);
	}
	trib_strbuf_free(&x.tags);
	if (v == TRIB_VERDICT_KEEP && x.reshaped && ev->rel != NULL)
		ev->rel = derive(rs, ev);
	return v;
}

