/*
 * rules.c: compiling and applying transform rules; see rules.h.
 *
 * Layout.  This file is the driver: it compiles the rules (paths,
 * metrics, then each rule type's own init), selects events (source and
 * table globs, once per run of one table), runs the rules in order,
 * sends refused events to the dead-letter sink, and derives relations
 * through each rule's shapes and reshape ops.  What a rule type does is
 * one row of the table of rule operations below (rl_ops, rules_common.h),
 * defined by its family.  The files of the engine:
 *
 *   rules_conf.c         the config keys of `transforms:`, one table per type
 *   rules_common.c       what the families share (selection, images,
 *                        the value walk, column edits)
 *   rules_fields.c       cast; drop, keep, rename (shape rules)
 *   rules_mask.c         redact, partial, substitute, perturb, generalize
 *   rules_crypto.c       hash, tokenize, encrypt, decrypt
 *   rules_events.c       sample, route, flatten
 *   rules_enrich.c       outbox, aggregate, lookup
 *   rules_lua.c          filter, compute, map (and route with lua)
 *   rules_quality.c      quality (on quality.c's engine)
 *   rules_strict.c       allow, and strict mode's pass before the rules
 *   rules_splice.c       value rules applied on the row text, without a tree
 *   rules_update_desc.c  rules inside updateDescription.updatedFields
 *   rules_pool.c         the rules on a batch, on worker threads
 *
 * Dependencies point one way: the drivers (this file, and rules_pool.c,
 * which runs it on worker threads) -> the families -> rules_common.c ->
 * rules_splice.c and rules_update_desc.c, which know no rule type.
 * rules_conf.c stands apart: the config loader reaches its tables
 * through config_keys.h.
 *
 * Determinism.  Every rule that invents a value (hash, sample, substitute,
 * perturb) derives it from HMAC-SHA256 under the rule's key, so the same
 * input gives the same output in every run, table and process.
 */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "keys.h"
#include "lua_expr.h"
#include "rules_common.h"
#include "rules_crypto.h"
#include "rules_splice.h"
#include "rules_enrich.h"
#include "rules_events.h"
#include "rules_fields.h"
#include "rules_lua.h"
#include "rules_mask.h"
#include "rules_quality.h"
#include "rules_strict.h"
#include "xalloc.h"

/* ---- the rule-ops table --------------------------------------------------- */

static const rl_ops *const ops_of[] = {
	[TRIB_RULE_REDACT] = &rl_ops_redact,
	[TRIB_RULE_PARTIAL] = &rl_ops_partial,
	[TRIB_RULE_HASH] = &rl_ops_hash,
	[TRIB_RULE_DROP] = &rl_ops_drop,
	[TRIB_RULE_KEEP] = &rl_ops_keep,
	[TRIB_RULE_RENAME] = &rl_ops_rename,
	[TRIB_RULE_CAST] = &rl_ops_cast,
	[TRIB_RULE_SAMPLE] = &rl_ops_sample,
	[TRIB_RULE_ROUTE] = &rl_ops_route,
	[TRIB_RULE_FLATTEN] = &rl_ops_flatten,
	[TRIB_RULE_QUALITY] = &rl_ops_quality,
	[TRIB_RULE_ALLOW] = &rl_ops_allow,
	[TRIB_RULE_OUTBOX] = &rl_ops_outbox,
	[TRIB_RULE_AGGREGATE] = &rl_ops_aggregate,
	[TRIB_RULE_LOOKUP] = &rl_ops_lookup,
	[TRIB_RULE_TOKENIZE] = &rl_ops_tokenize,
	[TRIB_RULE_ENCRYPT] = &rl_ops_encrypt,
	[TRIB_RULE_DECRYPT] = &rl_ops_decrypt,
	[TRIB_RULE_SUBSTITUTE] = &rl_ops_substitute,
	[TRIB_RULE_PERTURB] = &rl_ops_perturb,
	[TRIB_RULE_GENERALIZE] = &rl_ops_generalize,
	[TRIB_RULE_FILTER] = &rl_ops_filter,
	[TRIB_RULE_COMPUTE] = &rl_ops_compute,
	[TRIB_RULE_MAP] = &rl_ops_map,
};

/* ---- questions about the rules ------------------------------------------ */

/* See rules.h. */
bool
trib_rule_masks(trib_rule_type t)
{
	return (size_t) t < sizeof(ops_of) / sizeof(ops_of[0]) && ops_of[t] != NULL &&
		(ops_of[t]->flags & RL_MASKS);
}

/* An event that carries only its table's names, for selection. */
static trib_event
table_event(const char *source, const char *schema, const char *table)
{
	trib_event	where = {0};

	where.source = (char *) source;
	where.schema = (char *) schema;
	where.table = (char *) table;
	return where;
}

/* See rules.h. */
bool
trib_rules_covers(const trib_rules *rs, const char *source, const char *schema,
				  const char *table, const char *column)
{
	trib_event	where = table_event(source, schema, table);

	return rl_strict_covers(rs, &where, column);
}

/* See rules.h. */
bool
trib_rules_selects(const trib_rules *rs, size_t i, const char *source, const char *schema,
				   const char *table)
{
	trib_event	where = table_event(source, schema, table);

	if (rs == NULL || i >= (size_t) rs->n)
		return false;
	return rl_selected(rs->r[i].c, &where);
}

/* See rules.h. */
bool
trib_rules_quality_check(trib_rules *rs, const char *source, const char *schema,
						 const char *table, const char *row, trib_quality_verdict_fn fn,
						 void *arg, char *errbuf, size_t errlen)
{
	trib_event	ev = {0};
	rl_evctx	x = {0};
	bool		ok = true;

	ev.op = TRIB_OP_CREATE;
	ev.source = source;
	ev.schema = schema;
	ev.table = table;
	ev.after = (char *) row;	/* read only: nothing here writes images back */
	x.ev = &ev;
	for (int i = 0; ok && i < rs->n; i++)
	{
		if (rs->r[i].c->type != TRIB_RULE_QUALITY || !rl_selected(rs->r[i].c, &ev))
			continue;
		if (!(ok = rl_img_all(&x, errbuf, errlen)))
			break;
		if (x.img[IMG_AFTER] == NULL || !YAJL_IS_OBJECT(x.img[IMG_AFTER]))
		{
			snprintf(errbuf, errlen, "the row is not a JSON object");
			ok = false;
			break;
		}
		rl_quality_verdicts(&x, &rs->r[i], x.img[IMG_AFTER], fn, arg);
	}
	for (int i = 0; i < NIMG; i++)
		if (x.img[i] != NULL)
			yajl_tree_free(x.img[i]);
	return ok;
}

/* See rules.h. */
bool
trib_rules_trace_lua(trib_rules *rs, size_t i, trib_lua_trace_fn fn, void *arg)
{
	if (rs == NULL || i >= (size_t) rs->n || rs->r[i].expr == NULL)
		return false;
	trib_lua_expr_trace(rs->r[i].expr, fn, arg);
	return true;
}

/* ---- compilation -------------------------------------------------------- */

static bool
compile_rule(trib_rules *rs, rl_rule *r, const trib_rule_conf *c, trib_metrics *m,
			 char *errbuf, size_t errlen)
{
	r->c = c;
	if ((size_t) c->type >= sizeof(ops_of) / sizeof(ops_of[0]) || ops_of[c->type] == NULL)
	{
		snprintf(errbuf, errlen, "internal error: no operations for rule type %d", (int) c->type);
		return false;
	}
	r->ops = ops_of[c->type];
	r->npaths = (int) c->fields.count;
	r->paths = trib_xcalloc(c->fields.count + 1, sizeof(trib_jpath));
	for (size_t i = 0; i < c->fields.count; i++)
		if (!trib_jpath_parse(c->fields.items[i], &r->paths[i], errbuf, errlen))
			return false;
	r->sp_paths = trib_xcalloc(c->fields.count + 1, sizeof(*r->sp_paths));
	r->sp_member = trib_xcalloc((c->fields.count + 1) * NIMG, sizeof(*r->sp_member));
	for (int i = 0; i < r->npaths; i++)
		rl_sp_path_init(&r->sp_paths[i], &r->paths[i]);
	if (c->by != NULL)
	{
		if (!trib_jpath_parse(c->by, &r->by, errbuf, errlen))
			return false;
		r->has_by = true;
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
	return r->ops->init == NULL || r->ops->init(rs, r, errbuf, errlen);
}

trib_rules *
trib_rules_new(const trib_config *cfg, trib_metrics *metrics, char *errbuf, size_t errlen)
{
	trib_rules *rs = trib_xcalloc(1, sizeof(*rs));

	rs->r = trib_xcalloc(cfg->nrules + 1, sizeof(rl_rule));
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
	for (int i = 0; i < rs->n; i++)
		if (rs->r[i].c->type == TRIB_RULE_ROUTE && !rl_route_check_order(rs, i, errbuf, errlen))
		{
			trib_rules_free(rs);
			return NULL;
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

void
trib_rules_free(trib_rules *rs)
{
	if (rs == NULL)
		return;
	for (int i = 0; i < rs->n; i++)
	{
		rl_rule    *r = &rs->r[i];

		for (int j = 0; j < r->npaths; j++)
			trib_jpath_free(&r->paths[j]);
		for (int j = 0; r->sp_paths != NULL && j < r->npaths; j++)
			rl_sp_path_free(&r->sp_paths[j]);
		free(r->paths);
		free(r->sp_paths);
		free(r->sp_member);
		if (r->has_by)
			trib_jpath_free(&r->by);
		if (r->ops != NULL && r->ops->free != NULL)
			r->ops->free(r);
		trib_key_free(r->key);
	}
	for (size_t i = 0; i < rs->nd; i++)
		trib_relation_free(rs->d[i].rel);
	rl_strict_free(rs);
	free(rs->sel);
	free(rs->sel_source);
	free(rs->sel_schema);
	free(rs->sel_table);
	rl_splice_destroy(rs->splice);
	if (rs->lua)
		trib_lua_free(rs->lua);
	free(rs->d);
	free(rs->r);
	free(rs);
}

/* ---- images ----------------------------------------------------------------- */

/* Write the changed images back into the event; free the trees. */
static void
img_finish(rl_evctx *x)
{
	rl_img_write_back(x);
	for (int i = 0; i < NIMG; i++)
		if (x->img[i])
			yajl_tree_free(x->img[i]);
	rl_splice_reset(x->sp);
}

/* ---- derived relations -------------------------------------------------------- */

/* Does rule r change the columns of the tables it selects? */
static bool
is_shape_rule(const rl_rule *r)
{
	return r->ops->shapes != NULL && r->ops->shapes(r->c);
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
		if (!is_shape_rule(&rs->r[i]) || !rl_selected(rs->r[i].c, ev))
			continue;
		if (rel == NULL)
			rel = trib_relation_copy(src);
		rs->r[i].ops->reshape(rel, &rs->r[i]);
	}
	rs->d = trib_xgrow(rs->d, rs->nd, &rs->dcap, sizeof(rl_derived), 16);
	rs->d[rs->nd].src = src;
	rs->d[rs->nd].version = src->version;
	rs->d[rs->nd].rel = rel;
	rs->nd++;
	return rel ? rel : src;
}

/* See rules.h. */
const trib_relation *
trib_rules_target(trib_rules *rs, const char *source, const trib_relation *rel)
{
	trib_event	where = table_event(source, rel->schema, rel->table);

	for (int i = 0; i < rs->n; i++)
		if (!(rs->r[i].ops->flags & RL_SHAPE_KNOWN) && rl_selected(rs->r[i].c, &where))
			return NULL;
	where.rel = rel;
	return derive(rs, &where);
}

/* ---- the driver ----------------------------------------------------------------- */

static bool
is_row_event(const trib_event *ev)
{
	return ev->op == TRIB_OP_CREATE || ev->op == TRIB_OP_UPDATE ||
		ev->op == TRIB_OP_DELETE || ev->op == TRIB_OP_READ;
}

/* Run rule r (its apply op; only on row events when its type says so);
 * KEEP to go on. */
static trib_verdict
run_rule(rl_rule *r, rl_evctx *x, char *errbuf, size_t errlen)
{
	if ((r->ops->flags & RL_ROWS) && !is_row_event(x->ev))
		return TRIB_VERDICT_KEEP;
	return r->ops->apply(x, r, errbuf, errlen);
}

/* Give a dead-letter event its reason; the images stay as they came. */
static void
to_dead_letter(trib_rules *rs, rl_evctx *x, const rl_rule *r)
{
	trib_strbuf b = {0};

	trib_strbuf_printf(&b, "%s", x->why);
	if (x->why_names_rule)
		;						/* "quality rule NAME: ..." */
	else if (x->why_field != NULL)
		trib_strbuf_printf(&b, " (%s rule %s, field %s)", r->c->type_name, r->c->name,
						   x->why_field);
	else
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
		free(x->ev->after_json_nulls);
		free(x->ev->before_json_nulls);
		x->ev->unchanged = NULL;
		x->ev->after_json_nulls = NULL;
		x->ev->before_json_nulls = NULL;
		/* a MongoDB update's updateDescription holds values too
		 * (updatedFields); a row event's extra has nothing else */
		if (is_row_event(x->ev))
		{
			free(x->ev->extra);
			x->ev->extra = NULL;
		}
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

/* See rules_common.h: the rules on ev, its relation left to the caller. */
trib_verdict
rl_apply(trib_rules *rs, trib_event *ev, bool *reshaped, char *errbuf, size_t errlen)
{
	rl_evctx	x;
	trib_verdict v = TRIB_VERDICT_KEEP;
	char		e[512];

	*reshaped = false;
	if (trib_rules_empty(rs))
		return TRIB_VERDICT_KEEP;
	e[0] = '\0';				/* a message only when a rule writes one */
	memset(&x, 0, sizeof(x));
	x.ev = ev;
	x.sp = rs->splice;			/* buffers kept from event to event */
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
			static const rl_rule strict_rule = {.c = &strict_conf};

			for (int k = 0; k < NIMG; k++)
				x.dirty[k] = false;
			to_dead_letter(rs, &x, &strict_rule);
		}
	}
	update_selection(rs, ev);
	for (int i = 0; i < rs->n && v == TRIB_VERDICT_KEEP; i++)
	{
		rl_rule    *r = &rs->r[i];

		if (!rs->sel[i])
			continue;
		trib_metric_inc(r->m_selected);
		v = run_rule(r, &x, e, sizeof(e));
		if (v == TRIB_VERDICT_FAIL && !x.stop && x.why == NULL && e[0] != '\0')
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
	free(x.why_field_own);
	rs->splice = x.sp;
	if (v == TRIB_VERDICT_KEEP && x.tags.len > 0)
	{
		trib_strbuf_addc(&x.tags, ']');
		free(ev->tags);
		ev->tags = trib_strbuf_finish(&x.tags);
	}
	trib_strbuf_free(&x.tags);
	*reshaped = v == TRIB_VERDICT_KEEP && x.reshaped && ev->rel != NULL;
	return v;
}

/* See rules_common.h. */
const trib_relation *
rl_derive(trib_rules *rs, const trib_event *ev)
{
	return derive(rs, ev);
}

trib_verdict
trib_rules_apply(trib_rules *rs, trib_event *ev, char *errbuf, size_t errlen)
{
	bool		reshaped = false;
	trib_verdict v = rl_apply(rs, ev, &reshaped, errbuf, errlen);

	if (reshaped)
		ev->rel = derive(rs, ev);
	return v;
}

