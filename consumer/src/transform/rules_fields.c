/*
 * rules_fields.c: how value rules reach their values, the cast rule, and
 * the shape rules (drop, keep, rename): everything that rewrites fields
 * of the row images.  The strategies themselves are elsewhere (redact,
 * partial and the other masks in rules_mask.c, the ciphers in
 * rules_crypto.c).
 *
 * Value rules walk each field path in before, after and, for top-level
 * columns, the key, and replace the value in place (rules_int.h).  Shape
 * rules change which top-level fields exist; the driver then gives the
 * event a derived relation.
 */
#include "rules_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- value helpers ---------------------------------------------------------- */

void
rl_replace(yajl_val *slot, yajl_val v)
{
	yajl_tree_free(*slot);
	*slot = v;
}

/* ---- value rules ------------------------------------------------------------ */

bool
rl_is_json_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return false;
	if (*p == '.')
	{
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E')
	{
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

bool
rl_is_json_integer(const char *s)
{
	return rl_is_json_number(s) && strpbrk(s, ".eE") == NULL;
}

static bool
do_cast(yajl_val *slot, const char *name, value_arg *a)
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
			if (text == NULL || !rl_is_json_integer(text))
			{
				a->x->why = "cast: the value is not an integer";
				return false;
			}
			rl_replace(slot, trib_jdoc_number(text));
			return true;
		case TRIB_CAST_NUMBER:
			if (text == NULL || !rl_is_json_number(text))
			{
				a->x->why = "cast: the value is not a number";
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

static bool
value_cb(yajl_val *slot, const char *name, void *arg)
{
	value_arg  *a = arg;
	bool		ok;

	switch (a->r->c->type)
	{
		case TRIB_RULE_HASH:
		case TRIB_RULE_TOKENIZE:
		case TRIB_RULE_ENCRYPT:
		case TRIB_RULE_DECRYPT:
			ok = rl_crypto_value(slot, name, a, a->errbuf, a->errlen);
			break;
		case TRIB_RULE_REDACT:
		case TRIB_RULE_PARTIAL:
		case TRIB_RULE_SUBSTITUTE:
		case TRIB_RULE_PERTURB:
		case TRIB_RULE_GENERALIZE:
			ok = rl_mask_value(slot, name, a, a->errbuf, a->errlen);
			break;
		case TRIB_RULE_CAST:
			ok = do_cast(slot, name, a);
			break;
		default:
			ok = true;
	}
	a->changed = true;
	return ok;
}

/* A value rule on every image; the key only for top-level columns. */
bool
rl_apply_value_rule(evctx *x, const rule *r, char *errbuf, size_t errlen)
{
	value_arg	a = {x, r, false, errbuf, errlen};

	if (!rl_img_all(x, errbuf, errlen))
		return false;
	for (int p = 0; p < r->npaths; p++)
		for (int i = 0; i < NIMG; i++)
		{
			if (x->img[i] == NULL || (i == IMG_KEY && r->paths[p].nseg > 1) ||
				(i == IMG_KEY && r->c->type == TRIB_RULE_CAST))
				continue;
			a.changed = false;
			if (!trib_jpath_each(x->img[i], &r->paths[p], value_cb, &a))
				return false;
			if (a.changed)
				x->dirty[i] = true;
		}
	return true;
}

/* ---- shape rules ------------------------------------------------------------ */

bool
rl_any_path_first(const rule *r, const char *column)
{
	for (int p = 0; p < r->npaths; p++)
		if (r->paths[p].nseg == 1 && trib_jpath_first_matches(&r->paths[p], column))
			return true;
	return false;
}

/* keep: remove top-level keys no path names; nested paths keep their
 * column whole. */
static void
keep_only(yajl_val obj, const rule *r)
{
	for (size_t i = 0; obj && i < obj->u.object.len;)
	{
		bool		keep = false;

		for (int p = 0; p < r->npaths && !keep; p++)
			keep = trib_jpath_first_matches(&r->paths[p], obj->u.object.keys[i]);
		if (keep)
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
		const char *to = trib_kvlist_get(renames, obj->u.object.keys[i]);

		if (to != NULL)
		{
			free((char *) obj->u.object.keys[i]);
			obj->u.object.keys[i] = trib_xstrdup(to);
		}
	}
}

bool
rl_apply_shape_rule(evctx *x, const rule *r, char *errbuf, size_t errlen)
{
	if (!rl_img_all(x, errbuf, errlen))
		return false;
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
	if (r->c->type == TRIB_RULE_RENAME && x->img[IMG_KEY] != NULL)
	{
		rename_keys(x->img[IMG_KEY], &r->c->renames);
		x->dirty[IMG_KEY] = true;
	}
	x->reshaped = true;
	return true;
}

/* The first value a path reaches. */
bool
rl_first_cb(yajl_val *slot, const char *name, void *arg)
{
	first_arg  *f = arg;

	(void) name;
	f->found = true;
	f->is_null = *slot == NULL || YAJL_IS_NULL(*slot);
	f->text = trib_jdoc_scalar_text(*slot);
	return false;				/* the first match is enough */
}
