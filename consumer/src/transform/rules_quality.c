/*
 * rules_quality.c: data-quality rules: not-null, type, range, allowed set and
 * uniqueness within a batch, tested on the new row state.  A failure
 * counts in /metrics and then, per rule, drops the event, sends it to the
 * dead-letter sink, tags it, or stops the pipeline.
 */
#include "rules_int.h"

#include "intern.h"
#include "lua_expr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* ---- quality ------------------------------------------------------------------ */

static bool
kind_matches(yajl_val v, trib_json_kind k)
{
	switch (k)
	{
		case TRIB_JSON_STRING:
			return YAJL_IS_STRING(v);
		case TRIB_JSON_NUMBER:
			return YAJL_IS_NUMBER(v);
		case TRIB_JSON_INTEGER:
			return YAJL_IS_NUMBER(v) && rl_is_json_integer(v->u.number.r);
		case TRIB_JSON_BOOLEAN:
			return YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v);
		case TRIB_JSON_OBJECT:
			return YAJL_IS_OBJECT(v);
		case TRIB_JSON_ARRAY:
			return YAJL_IS_ARRAY(v);
	}
	return false;
}

typedef struct check_arg
{
	evctx	   *x;
	rule	   *r;
	bool		failed;
	const char *field;
	const char *why;
} check_arg;

/* One value: true when it passes.  Nulls pass every check but not_null. */
static bool
check_value(rule *r, yajl_val v, const char **why)
{
	const trib_rule_conf *c = r->c;
	const char *text;

	if (v == NULL || YAJL_IS_NULL(v))
	{
		*why = "is null";
		return c->check != TRIB_CHECK_NOT_NULL;
	}
	text = trib_jdoc_scalar_text(v);
	switch (c->check)
	{
		case TRIB_CHECK_NOT_NULL:
			return true;
		case TRIB_CHECK_TYPE:
			*why = "has the wrong type";
			return kind_matches(v, c->expect);
		case TRIB_CHECK_RANGE:
			{
				long double x;

				*why = "is out of range";
				if (text == NULL || !rl_is_json_number(text))
				{
					*why = "is not a number";
					return false;
				}
				x = strtold(text, NULL);
				return !(c->min && x < strtold(c->min, NULL)) &&
					!(c->max && x > strtold(c->max, NULL));
			}
		case TRIB_CHECK_ALLOWED:
			*why = "is not an allowed value";
			for (size_t i = 0; text && i < c->values.count; i++)
				if (strcmp(c->values.items[i], text) == 0)
					return true;
			return false;
		case TRIB_CHECK_REGEX:
		case TRIB_CHECK_LUA:
			return true;		/* rl_lua_check, in check_cb */
		case TRIB_CHECK_UNIQUE:
			{
				char	   *d = text ? NULL : trib_jdoc_dump(v);
				size_t		before;
				bool		fresh;

				if (r->seen == NULL)
					r->seen = trib_intern_new();
				before = trib_intern_count(r->seen);
				(void) trib_intern_get(r->seen, text ? text : d, strlen(text ? text : d));
				fresh = trib_intern_count(r->seen) > before;

				free(d);
				*why = "repeats a value seen earlier in the batch";
				return fresh;
			}
	}
	return true;
}

static bool
check_cb(yajl_val *slot, const char *name, void *arg)
{
	check_arg  *a = arg;
	const char *why = NULL;
	bool		ok = check_value(a->r, *slot, &why);

	if (ok && *slot != NULL && !YAJL_IS_NULL(*slot) &&
		(a->r->c->check == TRIB_CHECK_REGEX || a->r->c->check == TRIB_CHECK_LUA))
		ok = rl_lua_check(a->x, a->r, name, *slot, &why);

	trib_metric_inc(ok ? a->r->m_pass : a->r->m_fail);
	if (!ok && !a->failed)
	{
		a->failed = true;
		a->field = name;
		a->why = why;
	}
	return true;
}

trib_verdict
rl_apply_quality(evctx *x, rule *r, char *errbuf, size_t errlen)
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
		first_arg	f = {0};

		trib_jpath_each(row, &r->paths[p], rl_first_cb, &f);
		if (!f.found)
		{
			/* a missing field is a null one */
			const char *why = NULL;
			bool		ok = check_value(r, NULL, &why);

			trib_metric_inc(ok ? r->m_pass : r->m_fail);
			if (!ok && !a.failed)
			{
				a.failed = true;
				a.field = r->paths[p].text;
				a.why = "is missing";
			}
			continue;
		}
		trib_jpath_each(row, &r->paths[p], check_cb, &a);
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
			return TRIB_VERDICT_FAIL;
		case TRIB_ACTION_DEAD_LETTER:
			x->why = reason;
			x->why_field = NULL;
			return TRIB_VERDICT_DEAD_LETTER;
	}
	return TRIB_VERDICT_KEEP;
}

