/*
 * rules_fields.c: the rules that rewrite fields by name: cast (a value
 * to another JSON type) and the shape rules drop, keep and rename, which
 * change which top-level fields exist and keep the event's lists of
 * column names (unchanged TOAST, JSON nulls: event.h) in step; the driver
 * then gives the event a derived relation (rules.c).
 */
#include "rules_fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_update_desc.h"

/* ---- value helpers ---------------------------------------------------------- */

/* cast: one value to the rule's JSON type. */
static bool
cast_value(yajl_val *slot, const char *name, rl_value_arg *a)
{
	const char *text;

	if (*slot == NULL || YAJL_IS_NULL(*slot))
		return true;
	text = trib_jdoc_scalar_text(*slot);
	a->x->why_field = name;
	switch (a->r->c->to)
	{
		case TRIB_CAST_STRING:
			if (text == NULL)
			{
				char	   *d = trib_jdoc_dump(*slot);

				rl_replace(slot, trib_jdoc_string(d));
				free(d);
			}
			else if (!YAJL_IS_STRING(*slot))
				rl_replace(slot, trib_jdoc_string(text));
			return true;
		case TRIB_CAST_INTEGER:
		case TRIB_CAST_NUMBER:
			if (text == NULL || !(a->r->c->to == TRIB_CAST_INTEGER ? rl_is_json_integer(text)
								  : rl_is_json_number(text)))
			{
				a->x->why = a->r->c->to == TRIB_CAST_INTEGER ? "cast: the value is not an integer"
					: "cast: the value is not a number";
				return false;
			}
			rl_replace(slot, trib_jdoc_number(text));
			return true;
		case TRIB_CAST_BOOLEAN:
			if (text && (strcmp(text, "true") == 0 || strcmp(text, "t") == 0 ||
						 strcmp(text, "1") == 0))
				rl_replace(slot, trib_jdoc_bool(true));
			else if (text && (strcmp(text, "false") == 0 || strcmp(text, "f") == 0 ||
							  strcmp(text, "0") == 0))
				rl_replace(slot, trib_jdoc_bool(false));
			else
			{
				a->x->why = "cast: the value is not a boolean (accepted: true, false, t, f, 1, 0)";
				return false;
			}
			return true;
	}
	return true;
}

/* ---- shape rules ------------------------------------------------------------ */

/* keep: does a path of r name this top-level column?  A nested path
 * keeps its column whole. */
static bool
keep_names(const rl_rule *r, const char *column)
{
	for (int p = 0; p < r->npaths; p++)
		if (trib_jpath_first_matches(&r->paths[p], column))
			return true;
	return false;
}

/* keep: remove top-level keys no path names. */
static void
keep_only(yajl_val obj, const rl_rule *r)
{
	for (size_t i = 0; obj && i < obj->u.object.len;)
	{
		if (keep_names(r, obj->u.object.keys[i]))
			i++;
		else
			trib_jdoc_remove(obj, obj->u.object.keys[i]);
	}
}

static void
rename_keys(yajl_val obj, const trib_kvlist *renames)
{
	if (obj == NULL || !YAJL_IS_OBJECT(obj))
		return;
	for (size_t i = 0; i < obj->u.object.len; i++)
	{
		const char *to = trib_config_kvlist_get(renames, obj->u.object.keys[i]);

		if (to != NULL)
		{
			free((char *) obj->u.object.keys[i]);
			obj->u.object.keys[i] = trib_xstrdup(to);
		}
	}
}

/* The slot of the column name in an array entry ["column", ...] of a
 * JSON null list; NULL when e is not one. */
static yajl_val *
array_entry_name(yajl_val e)
{
	if (YAJL_IS_ARRAY(e) && e->u.array.len > 0 && YAJL_IS_STRING(e->u.array.values[0]))
		return &e->u.array.values[0];
	return NULL;
}

/* Does shape rule r (drop or keep) remove column `name` from the images? */
static bool
shape_removes(const rl_rule *r, const char *name)
{
	if (r->c->type == TRIB_RULE_DROP)
		return rl_any_path_first(r, name);
	return !keep_names(r, name);
}

/*
 * Keep a list of column names (unchanged TOAST, JSON nulls: event.h) in
 * step with what shape rule r did to the images: the columns drop or keep
 * removed leave the list, renamed ones are renamed.  An emptied list is
 * NULL.  Lists are rare and short; nothing is parsed without one.
 */
static void
shape_name_list(char **list, const rl_rule *r)
{
	yajl_val	v = *list ? trib_jdoc_parse(*list, NULL, 0) : NULL;
	size_t		i,
				n = 0;

	if (v == NULL || !YAJL_IS_ARRAY(v))
	{
		yajl_tree_free(v);
		return;
	}
	for (i = 0; i < v->u.array.len; i++)
	{
		yajl_val	e = v->u.array.values[i];
		yajl_val   *slot = YAJL_IS_STRING(e) ? &v->u.array.values[i] : array_entry_name(e);
		const char *to;

		if (slot && r->c->type == TRIB_RULE_RENAME &&
			(to = trib_config_kvlist_get(&r->c->renames, YAJL_GET_STRING(*slot))) != NULL)
			rl_replace(slot, trib_jdoc_string(to));
		else if (slot && r->c->type != TRIB_RULE_RENAME &&
				 shape_removes(r, YAJL_GET_STRING(*slot)))
		{
			yajl_tree_free(e);
			continue;
		}
		v->u.array.values[n++] = v->u.array.values[i];
	}
	v->u.array.len = n;
	free(*list);
	*list = n > 0 ? trib_jdoc_dump(v) : NULL;
	yajl_tree_free(v);
}

/* drop, keep, rename: the top-level fields of before and after (rename:
 * of the key too). */
static trib_verdict
apply_shape(rl_evctx *x, rl_rule *r, char *errbuf, size_t errlen)
{
	if (!rl_img_all(x, errbuf, errlen))
		return TRIB_VERDICT_FAIL;
	for (int i = IMG_BEFORE; i <= IMG_AFTER; i++)
	{
		if (x->img[i] == NULL)
			continue;
		if (r->c->type == TRIB_RULE_DROP)
			for (int p = 0; p < r->npaths; p++)
				trib_jpath_delete(x->img[i], &r->paths[p]);
		else if (r->c->type == TRIB_RULE_KEEP)
			keep_only(x->img[i], r);
		else if (r->c->type == TRIB_RULE_RENAME)
			rename_keys(x->img[i], &r->c->renames);
		x->dirty[i] = true;
	}
	if (r->c->type == TRIB_RULE_DROP)
		for (int p = 0; p < r->npaths; p++)
			rl_update_desc_drop(x->ev, &r->paths[p]);
	if (r->c->type == TRIB_RULE_RENAME && x->img[IMG_KEY] != NULL)
	{
		rename_keys(x->img[IMG_KEY], &r->c->renames);
		x->dirty[IMG_KEY] = true;
	}
	shape_name_list(&x->ev->unchanged, r);
	shape_name_list(&x->ev->after_json_nulls, r);
	shape_name_list(&x->ev->before_json_nulls, r);
	x->reshaped = true;
	return TRIB_VERDICT_KEEP;
}

/* ---- derived relations -------------------------------------------------- */

/* cast: the named columns take the target's SQL type. */
static void
reshape_cast(trib_relation *rel, const rl_rule *r)
{
	static const char *const cast_types[] = {"text", "bigint", "numeric", "boolean"};

	for (int i = 0; i < rel->ncolumns; i++)
		if (rl_any_path_first(r, rel->columns[i].name))
			rl_rel_set_type(&rel->columns[i], cast_types[r->c->to]);
}

/* drop: the named columns go, except the primary key. */
static void
reshape_drop(trib_relation *rel, const rl_rule *r)
{
	for (int i = 0; i < rel->ncolumns;)
	{
		if (rl_any_path_first(r, rel->columns[i].name) && !rel->columns[i].pk)
			rl_rel_remove_column(rel, i);
		else
			i++;
	}
}

/* keep: only the primary key and the named columns stay. */
static void
reshape_keep(trib_relation *rel, const rl_rule *r)
{
	for (int i = 0; i < rel->ncolumns;)
	{
		bool		keep = rel->columns[i].pk;

		for (int p = 0; p < r->npaths && !keep; p++)
			keep = trib_jpath_first_matches(&r->paths[p], rel->columns[i].name);
		if (!keep)
			rl_rel_remove_column(rel, i);
		else
			i++;
	}
}

/* rename: the columns take their new names. */
static void
reshape_rename(trib_relation *rel, const rl_rule *r)
{
	const char *to;

	for (int i = 0; i < rel->ncolumns; i++)
		if ((to = trib_config_kvlist_get(&r->c->renames, rel->columns[i].name)) != NULL)
		{
			free(rel->columns[i].name);
			rel->columns[i].name = trib_xstrdup(to);
		}
}

const rl_ops rl_ops_cast = {RL_ROWS | RL_SHAPE_KNOWN, NULL, NULL, rl_apply_values, cast_value,
	rl_shapes_always, reshape_cast, NULL};
const rl_ops rl_ops_drop = {RL_ROWS | RL_SHAPE_KNOWN, NULL, NULL, apply_shape, NULL,
	rl_shapes_always, reshape_drop, NULL};
const rl_ops rl_ops_keep = {RL_ROWS | RL_SHAPE_KNOWN, NULL, NULL, apply_shape, NULL,
	rl_shapes_always, reshape_keep, NULL};
const rl_ops rl_ops_rename = {RL_ROWS | RL_SHAPE_KNOWN, NULL, NULL, apply_shape, NULL,
	rl_shapes_always, reshape_rename, NULL};
