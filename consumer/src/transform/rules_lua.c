/*
 * rules_lua.c: the rules written in Lua (lua_expr.h): filter, compute,
 * map, route with `lua`; and the pipeline's Lua state, which the quality
 * rules' Lua checks share (rules_quality.c).
 *
 * One sandboxed Lua state per pipeline, created when the first rule needs
 * it; every expression is compiled into it once, at start-up.  Before a Lua
 * rule runs, the images earlier rules changed are written back into the
 * event (the expressions read the event's row images lazily, through
 * rowindex.c) and the event is bound; results that change the row (compute,
 * map) are merged into the shared trees.  A runtime error or an exceeded
 * limit sends the event to the dead-letter sink with Lua's message.
 */
#include "rules_lua.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua_expr.h"

static trib_lua_mode
mode_of(const trib_rule_conf *c)
{
	switch (c->type)
	{
		case TRIB_RULE_COMPUTE:
			return TRIB_LUA_VALUE;
		case TRIB_RULE_MAP:
			return TRIB_LUA_MAP;
		case TRIB_RULE_ROUTE:
			return TRIB_LUA_ROUTE;
		default:
			return TRIB_LUA_FILTER;
	}
}

trib_lua *
rl_lua_state(trib_rules *rs, char *errbuf, size_t errlen)
{
	if (rs->lua == NULL)
	{
		trib_lua_limits lim;

		trib_lua_limits_init(&lim);
		lim.max_instructions = (uint64_t) rs->lua_max_instructions;
		lim.max_memory = (size_t) rs->lua_max_memory_mb * 1024 * 1024;
		rs->lua = trib_lua_new(&lim, errbuf, errlen);
	}
	return rs->lua;
}

bool
rl_lua_init(trib_rules *rs, rl_rule *r, char *errbuf, size_t errlen)
{
	const trib_rule_conf *c = r->c;

	if (c->lua == NULL || c->type == TRIB_RULE_QUALITY)
		return true;			/* quality lua: rules_quality.c */
	if (rl_lua_state(rs, errbuf, errlen) == NULL)
		return false;
	r->expr = trib_lua_compile(rs->lua, c->name, c->lua, mode_of(c), errbuf, errlen);
	if (r->expr == NULL)
		return false;
	r->lua_state = rs->lua;
	return true;
}

/* Write changed images back into the event and bind it. */
void
rl_lua_bind(rl_evctx *x, trib_lua *T)
{
	rl_img_write_back(x);
	trib_lua_bind(T, x->ev);
}

static trib_verdict
lua_failed(rl_evctx *x, const char *e)
{
	snprintf(x->reason, sizeof(x->reason), "lua: %.220s", e);
	x->why = x->reason;
	x->why_field = NULL;
	return TRIB_VERDICT_DEAD_LETTER;
}

/* Merge a JSON object's fields into the after image. */
static bool
merge_after(rl_evctx *x, const char *json, char *errbuf, size_t errlen)
{
	yajl_val	o = trib_jdoc_parse(json, errbuf, errlen);

	if (o == NULL || !YAJL_IS_OBJECT(o) || x->img[IMG_AFTER] == NULL)
	{
		if (o)
			yajl_tree_free(o);
		return false;
	}
	for (size_t i = 0; i < o->u.object.len; i++)
	{
		trib_jdoc_put(x->img[IMG_AFTER], o->u.object.keys[i], o->u.object.values[i]);
		o->u.object.values[i] = NULL;	/* moved */
	}
	yajl_tree_free(o);
	x->dirty[IMG_AFTER] = true;
	return true;
}

trib_verdict
rl_apply_lua(rl_evctx *x, rl_rule *r, char *errbuf, size_t errlen)
{
	char		e[512];
	trib_strbuf out = {0};
	trib_verdict v = TRIB_VERDICT_KEEP;
	bool		flag = false;

	/* filter and route only read: the expression parses what it touches
	 * (rowindex.c); compute and map merge into the shared trees */
	if ((r->c->type == TRIB_RULE_COMPUTE || r->c->type == TRIB_RULE_MAP) &&
		!rl_img_all(x, errbuf, errlen))
		return TRIB_VERDICT_FAIL;
	rl_lua_bind(x, r->lua_state);
	switch (r->c->type)
	{
		case TRIB_RULE_FILTER:
			if (!trib_lua_filter(r->expr, &flag, e, sizeof(e)))
				v = lua_failed(x, e);
			else if (!flag)
				v = TRIB_VERDICT_DROP;
			break;
		case TRIB_RULE_ROUTE:
			if (!trib_lua_route(r->expr, &flag, &out, e, sizeof(e)))
				v = lua_failed(x, e);
			else if (flag)
			{
				free(x->ev->topic);
				x->ev->topic = trib_strbuf_finish(&out);
			}
			break;
		case TRIB_RULE_COMPUTE:
			if (x->img[IMG_AFTER] == NULL)
				break;			/* deletes: no new state to compute on */
			if (!trib_lua_value(r->expr, &out, e, sizeof(e)))
				v = lua_failed(x, e);
			else
			{
				yajl_val	val = trib_jdoc_parse(out.data ? out.data : "null", e, sizeof(e));

				trib_jdoc_put(x->img[IMG_AFTER], r->c->field, val ? val : trib_jdoc_null());
				x->dirty[IMG_AFTER] = true;
				x->reshaped = true;
			}
			break;
		default:				/* map */
			if (x->img[IMG_AFTER] == NULL)
				break;
			if (!trib_lua_map(r->expr, &flag, &out, e, sizeof(e)))
				v = lua_failed(x, e);
			else if (flag && !merge_after(x, out.data ? out.data : "{}", e, sizeof(e)))
				v = lua_failed(x, "the map did not return a table of fields");
			break;
	}
	trib_lua_unbind(r->lua_state);
	trib_strbuf_free(&out);
	return v;
}

/* compute: a new column of the configured type. */
static void
reshape_compute(trib_relation *rel, const rl_rule *r)
{
	rl_rel_add_column(rel, r->c->field, r->c->column_type);
}

const rl_ops rl_ops_filter = {RL_SHAPE_KNOWN, rl_lua_init, NULL, rl_apply_lua, NULL, NULL, NULL, NULL};
const rl_ops rl_ops_compute = {RL_SHAPE_KNOWN, rl_lua_init, NULL, rl_apply_lua, NULL,
	rl_shapes_always, reshape_compute, NULL};
const rl_ops rl_ops_map = {0, rl_lua_init, NULL, rl_apply_lua, NULL, NULL, NULL, NULL};
