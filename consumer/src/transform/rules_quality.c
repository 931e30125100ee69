/*
 * rules_quality.c: the quality rules.  Every check (not-null, type, range,
 * allowed set, uniqueness within a batch, regex, Lua) runs on the one
 * engine of quality.h, compiled once per rule; this file walks the rule's
 * fields in the new row state, counts pass and fail in /metrics, words the
 * reason, and applies the rule's action: drop the event, send it to the
 * dead-letter sink, tag it, or stop the pipeline.
 *
 * How the rules use the engine: allowed values and repeats compare by
 * text (quality.h, by_text); `expect: integer` is an integer as written
 * (TRIB_JT_INTEGER_TEXT); a Lua check does not see nulls or missing
 * fields, which pass like they pass every check but not_null; a field
 * under an unchanged TOAST column (absent from `after`, named in the
 * event's unchanged list) passes every check, not_null included: it holds
 * the value it had, which is not null (nulls are never TOASTed); range
 * bounds may be written with leading zeros.  A failure reads "quality
 * rule NAME: field F <why>", why being this file's phrase for the failure
 * or, for regex and Lua checks, the engine's reason.
 */
#include "rules_quality.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua_expr.h"
#include "quality.h"
#include "rules_lua.h"

/* The engine's check for each config word (config.h's order). */
static const trib_quality_kind qc_kinds[] = {
	[TRIB_CHECK_NOT_NULL] = TRIB_QC_NOT_NULL,
	[TRIB_CHECK_TYPE] = TRIB_QC_TYPE,
	[TRIB_CHECK_RANGE] = TRIB_QC_RANGE,
	[TRIB_CHECK_ALLOWED] = TRIB_QC_ALLOWED,
	[TRIB_CHECK_UNIQUE] = TRIB_QC_UNIQUE,
	[TRIB_CHECK_REGEX] = TRIB_QC_REGEX,
	[TRIB_CHECK_LUA] = TRIB_QC_LUA,
};

/* A range bound as JSON number text: the config accepts "007.5". */
static char *
json_number(const char *s)
{
	trib_strbuf b = {0};

	if (s == NULL)
		return NULL;
	if (*s == '-')
		trib_strbuf_addc(&b, *s++);
	while (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		s++;
	trib_strbuf_adds(&b, s);
	return trib_strbuf_finish(&b);
}

static bool
init_quality(trib_rules *rs, rl_rule *r, char *errbuf, size_t errlen)
{
	const trib_rule_conf *c = r->c;
	trib_quality_spec spec;
	char	   *min,
			   *max;

	if (c->type != TRIB_RULE_QUALITY)
		return true;
	memset(&spec, 0, sizeof(spec));
	spec.kind = qc_kinds[c->check];
	spec.name = c->name;
	spec.type = c->expect;
	spec.min = min = json_number(c->min);
	spec.max = max = json_number(c->max);
	spec.allowed = (const char *const *) c->values.items;
	spec.nallowed = c->values.count;
	spec.by_text = true;
	spec.pattern = c->pattern;
	spec.caseless = c->caseless;
	if (c->check == TRIB_CHECK_LUA)
	{
		if ((spec.lua = rl_lua_state(rs, errbuf, errlen)) == NULL)
			return false;
		spec.lua_src = c->lua;
		r->lua_state = spec.lua;
	}
	r->qc = trib_quality_new(&spec, errbuf, errlen);
	free(min);
	free(max);
	return r->qc != NULL;
}

static void
free_quality(rl_rule *r)
{
	trib_quality_free(r->qc);
	r->qc = NULL;
}

void
rl_quality_batch_end(rl_rule *r)
{
	if (r->qc != NULL)
		trib_quality_batch_reset(r->qc);
}

/* The reason phrase for a failure of v. */
static const char *
phrase(rl_evctx *x, const rl_rule *r, trib_quality_failure f, const char *lua_why,
	   const trib_jvalue *v)
{
	switch (f)
	{
		case TRIB_QCF_NONE:
		case TRIB_QCF_NULL:
			return "is null";
		case TRIB_QCF_TYPE:
			return "has the wrong type";
		case TRIB_QCF_NOT_NUMBER:
			return "is not a number";
		case TRIB_QCF_BELOW:
		case TRIB_QCF_ABOVE:
			return "is out of range";
		case TRIB_QCF_NOT_ALLOWED:
			return "is not an allowed value";
		case TRIB_QCF_DUPLICATE:
			return "repeats a value seen earlier in the batch";
		case TRIB_QCF_NO_MATCH:
		case TRIB_QCF_LUA:
			break;
	}
	trib_quality_describe(r->qc, f, lua_why, v, x->check_reason, sizeof(x->check_reason));
	return x->check_reason;
}

/* One value (NULL: a missing field): true when it passes, else *why. */
static bool
check_value(rl_evctx *x, rl_rule *r, const char *column, yajl_val v, const char **why)
{
	trib_strbuf scratch = {0};
	trib_jvalue jv;
	trib_quality_failure f = TRIB_QCF_NONE;
	char		lua_why[256];
	char		e[256];

	if ((v == NULL || YAJL_IS_NULL(v)) && r->c->check == TRIB_CHECK_LUA)
		return true;			/* the rules' Lua checks see no nulls */
	if (r->c->check == TRIB_CHECK_LUA && !x->bound)
	{
		rl_lua_bind(x, r->lua_state);
		x->bound = true;
	}
	trib_jvalue_from_yajl(v, NULL, &jv, &scratch);
	if (!trib_quality_eval(r->qc, column, &jv, &f, lua_why, sizeof(lua_why), e, sizeof(e)))
	{
		snprintf(x->check_reason, sizeof(x->check_reason), "%s%.180s",
				 r->c->check == TRIB_CHECK_LUA ? "lua: " : "", e);
		*why = x->check_reason;
		f = TRIB_QCF_LUA;
	}
	else if (f != TRIB_QCF_NONE)
		*why = phrase(x, r, f, lua_why, &jv);
	trib_strbuf_free(&scratch);
	return f == TRIB_QCF_NONE;
}

/* Is the top-level column of path p an unchanged TOAST column of the
 * event (named in ev->unchanged, absent from `after`)? */
static bool
unchanged_column(const trib_event *ev, const trib_jpath *p)
{
	yajl_val	v;
	bool		found = false;

	if (ev->unchanged == NULL || (v = trib_jdoc_parse(ev->unchanged, NULL, 0)) == NULL)
		return false;
	for (size_t i = 0; YAJL_IS_ARRAY(v) && i < v->u.array.len && !found; i++)
		found = YAJL_IS_STRING(v->u.array.values[i]) &&
			trib_jpath_first_matches(p, YAJL_GET_STRING(v->u.array.values[i]));
	yajl_tree_free(v);
	return found;
}

typedef struct check_arg
{
	rl_evctx   *x;
	rl_rule    *r;
	bool		failed;
	const char *field;
	const char *why;
} check_arg;

/* Count a value's result; the first failure is the event's. */
static void
record(check_arg *a, bool ok, const char *field, const char *why)
{
	trib_metric_inc(ok ? a->r->m_pass : a->r->m_fail);
	if (!ok && !a->failed)
	{
		a->failed = true;
		a->field = field;
		a->why = why;
	}
}

static bool
check_cb(yajl_val *slot, const char *name, void *arg)
{
	check_arg  *a = arg;
	const char *why = NULL;
	bool		ok = check_value(a->x, a->r, name, *slot, &why);

	record(a, ok, name, why);
	return true;
}

static trib_verdict
apply_quality(rl_evctx *x, rl_rule *r, char *errbuf, size_t errlen)
{
	check_arg	a = {x, r, false, NULL, NULL};
	yajl_val	row;
	char	   *reason = x->reason;

	if (x->ev->op == TRIB_OP_DELETE || x->ev->op == TRIB_OP_MESSAGE ||
		x->ev->op == TRIB_OP_TRUNCATE)
		return TRIB_VERDICT_KEEP;	/* only new row states are tested */
	if (!rl_img_all(x, errbuf, errlen))
		return TRIB_VERDICT_FAIL;
	row = x->img[IMG_AFTER];
	for (int p = 0; p < r->npaths; p++)
	{
		rl_first_arg f = {0};
		const char *why = NULL;

		trib_jpath_each(row, &r->paths[p], rl_first_cb, &f);
		if (f.found)
			trib_jpath_each(row, &r->paths[p], check_cb, &a);
		else if (unchanged_column(x->ev, &r->paths[p]))
			record(&a, true, NULL, NULL);	/* its value is the old one's */
		else if (check_value(x, r, r->paths[p].text, NULL, &why))
			record(&a, true, NULL, NULL);
		else
			record(&a, false, r->paths[p].text, "is missing");	/* a null one */
	}
	if (x->bound)
	{
		trib_lua_unbind(r->lua_state);
		x->bound = false;
	}
	if (!a.failed)
		return TRIB_VERDICT_KEEP;
	snprintf(reason, sizeof(x->reason), "quality rule %s: field %s %s", r->c->name,
			 a.field, a.why);
	switch (r->c->action)
	{
		case TRIB_ACTION_DROP:
			return TRIB_VERDICT_DROP;
		case TRIB_ACTION_TAG:
			trib_strbuf_adds(&x->tags, x->tags.len ? "," : "[");
			trib_jdoc_quote(&x->tags, r->c->name);
			return TRIB_VERDICT_KEEP;
		case TRIB_ACTION_FAIL:
			snprintf(errbuf, errlen, "%.200s (action: fail)", reason);
			x->stop = true;
			return TRIB_VERDICT_FAIL;
		case TRIB_ACTION_DEAD_LETTER:
			x->why = reason;
			x->why_field = NULL;
			x->why_names_rule = true;
			return TRIB_VERDICT_DEAD_LETTER;
	}
	return TRIB_VERDICT_KEEP;
}

/* What the stream does on a failure of rule c, in the config's words. */
static const char *
action_word(const trib_rule_conf *c)
{
	switch (c->action)
	{
		case TRIB_ACTION_DROP:
			return "drop";
		case TRIB_ACTION_TAG:
			return "tag";
		case TRIB_ACTION_FAIL:
			return "fail";
		case TRIB_ACTION_DEAD_LETTER:
			break;
	}
	return "dead_letter";
}

typedef struct verdict_arg
{
	rl_evctx   *x;
	rl_rule    *r;
	trib_quality_verdict_fn fn;
	void	   *arg;
} verdict_arg;

/* trib_jpath_each: one value's verdict. */
static bool
verdict_cb(yajl_val *slot, const char *name, void *arg)
{
	verdict_arg *a = arg;
	const char *why = NULL;
	bool		ok = check_value(a->x, a->r, name, *slot, &why);

	a->fn(a->arg, a->r->c->name, name, ok, ok ? NULL : why, action_word(a->r->c));
	return true;
}

/* See rules_quality.h: apply_quality's walk, without its counting and
 * actions. */
void
rl_quality_verdicts(rl_evctx *x, rl_rule *r, yajl_val row, trib_quality_verdict_fn fn,
					void *arg)
{
	verdict_arg va = {x, r, fn, arg};
	verdict_arg *a = &va;

	trib_quality_batch_reset(r->qc);
	for (int p = 0; p < r->npaths; p++)
	{
		rl_first_arg f = {0};
		const char *why = NULL;

		trib_jpath_each(row, &r->paths[p], rl_first_cb, &f);
		if (f.found)
			trib_jpath_each(row, &r->paths[p], verdict_cb, a);
		else if (check_value(a->x, r, r->paths[p].text, NULL, &why))
			a->fn(a->arg, r->c->name, r->paths[p].text, true, NULL, action_word(r->c));
		else
			a->fn(a->arg, r->c->name, r->paths[p].text, false, "is missing", action_word(r->c));
	}
	if (a->x->bound)
	{
		trib_lua_unbind(r->lua_state);
		a->x->bound = false;
	}
	trib_quality_batch_reset(r->qc);
}

const rl_ops rl_ops_quality = {RL_SHAPE_KNOWN, init_quality, free_quality, apply_quality, NULL, NULL, NULL, NULL};
