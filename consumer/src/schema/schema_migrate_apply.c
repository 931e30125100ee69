/*
 * schema_migrate_apply.c: a plan applied to one event (schema_migrate.h).
 *
 * Each row image (before, after) is migrated by the streaming pass
 * (schema_migrate_stream.c) when it can be, else here: parsed once into a
 * yajl tree, the plan's steps change the tree in the order of the file,
 * its fields are put in the target's order and it is written back (both
 * give the same bytes); the key image, when
 * a step renames, drops or casts a key column, gets the renames, drops
 * and casts only (a key has no defaults), and the
 * list of unchanged TOAST columns the renames and drops.  A `set` step
 * reads the image it migrates as `after`: the image so far is written
 * into a copy of the event that the Lua state binds, so the old image of
 * an update or delete is migrated by the same expression.
 */
#include "schema_migrate_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsondoc.h"
#include "lua_expr.h"
#include "strbuf.h"
#include "xalloc.h"

/* What an image's migration reports an error with. */
typedef struct mig_ctx
{
	trib_migrate *m;
	const trib_migrate_plan *p;
	const trib_event *ev;
	char	   *errbuf;
	size_t		errlen;
} mig_ctx;

/* "migration of subject S, step at line N, field F: " + why (the stage
 * adds the event's id). */
static bool
step_error(const mig_ctx *x, const mig_step *s, const char *why)
{
	snprintf(x->errbuf, x->errlen, "migration of subject %s, step at line %d, field %s: %s",
			 x->p->mg->c->subject, s->c->line, s->field, why);
	return false;
}

/* The index of key k in object o, or -1 (members reorder() moved have
 * no key). */
static long
index_of(yajl_val o, const char *k)
{
	for (size_t i = 0; i < o->u.object.len; i++)
		if (o->u.object.keys[i] != NULL && strcmp(o->u.object.keys[i], k) == 0)
			return (long) i;
	return -1;
}

/* See schema_migrate_int.h. */
yajl_val
trib_migrate_cast(yajl_val v, trib_cast_to as, const char **why)
{
	const char *text = trib_jdoc_scalar_text(v);
	char		e[64];

	if (as == TRIB_CAST_STRING)
	{
		char	   *d = text ? NULL : trib_jdoc_dump(v);
		yajl_val	s = trib_jdoc_string(text ? text : d);

		free(d);
		return s;
	}
	if (as == TRIB_CAST_BOOLEAN)
	{
		if (text && (!strcmp(text, "true") || !strcmp(text, "t") || !strcmp(text, "1")))
			return trib_jdoc_bool(true);
		if (text && (!strcmp(text, "false") || !strcmp(text, "f") || !strcmp(text, "0")))
			return trib_jdoc_bool(false);
		*why = "the value is not a boolean (accepted: true, false, t, f, 1, 0)";
		return NULL;
	}
	{
		yajl_val	n = text ? trib_jdoc_parse(text, e, sizeof(e)) : NULL;
		yajl_val	out = NULL;

		if (n != NULL && YAJL_IS_NUMBER(n) &&
			(as == TRIB_CAST_NUMBER || strpbrk(n->u.number.r, ".eE") == NULL))
			out = trib_jdoc_number(n->u.number.r);
		if (n != NULL)
			yajl_tree_free(n);
		if (out == NULL)
			*why = as == TRIB_CAST_INTEGER ? "the value is not an integer"
				: "the value is not a number";
		return out;
	}
}

/* set: the step's expression on image o (read as `after`). */
static bool
run_set(const mig_ctx *x, const mig_step *s, yajl_val o)
{
	trib_event	tmp = *x->ev;
	trib_strbuf out = {0};
	char		e[512];
	yajl_val	v = NULL;

	tmp.after = trib_jdoc_dump(o);
	tmp.before = NULL;
	trib_lua_bind(x->m->lua, &tmp);
	if (trib_lua_value(s->expr, &out, e, sizeof(e)))
		v = trib_jdoc_parse(out.data ? out.data : "null", e, sizeof(e));
	trib_lua_unbind(x->m->lua);
	free(tmp.after);
	trib_strbuf_free(&out);
	if (v == NULL)
		return step_error(x, s, e);
	trib_jdoc_put(o, s->field, v);
	return true;
}

/* One step on object o; key: the key image (renames, drops, casts). */
static bool
run_step(const mig_ctx *x, const mig_step *s, yajl_val o, bool key)
{
	const trib_migrate_step_conf *c = s->c;
	long		i = index_of(o, s->field);
	const char *why = NULL;
	yajl_val	v;

	switch (c->op)
	{
		case TRIB_MIGRATE_RENAME:
			if (i >= 0)
			{
				trib_jdoc_remove(o, c->to);
				i = index_of(o, s->field);
				free((char *) o->u.object.keys[i]);
				o->u.object.keys[i] = trib_xstrdup(c->to);
			}
			return true;
		case TRIB_MIGRATE_DROP:
			trib_jdoc_remove(o, s->field);
			return true;
		case TRIB_MIGRATE_CAST:
			if (i < 0 || YAJL_IS_NULL(o->u.object.values[i]))
				return true;
			if ((v = trib_migrate_cast(o->u.object.values[i], c->as, &why)) == NULL)
				return step_error(x, s, why);
			yajl_tree_free(o->u.object.values[i]);
			o->u.object.values[i] = v;
			return true;
		case TRIB_MIGRATE_ADD:
			if (i < 0 && !key)
				trib_jdoc_put(o, s->field, trib_jdoc_parse(c->def, x->errbuf, x->errlen));
			return true;
		case TRIB_MIGRATE_SET:
			return key || run_set(x, s, o);
	}
	return true;
}

/* Put o's members in the order of names (members not named stay after). */
static void
reorder(yajl_val o, char *const *names, size_t n)
{
	size_t		len = o->u.object.len;
	const char **keys = trib_xcalloc(len + 1, sizeof(char *));
	yajl_val   *vals = trib_xcalloc(len + 1, sizeof(yajl_val));
	size_t		k = 0;

	for (size_t j = 0; j < n; j++)
	{
		long		i = index_of(o, names[j]);

		if (i < 0)
			continue;
		keys[k] = o->u.object.keys[i];
		vals[k++] = o->u.object.values[i];
		o->u.object.keys[i] = NULL;
	}
	for (size_t i = 0; i < len; i++)
		if (o->u.object.keys[i] != NULL)
		{
			keys[k] = o->u.object.keys[i];
			vals[k++] = o->u.object.values[i];
		}
	free((void *) o->u.object.keys);
	free(o->u.object.values);
	o->u.object.keys = keys;
	o->u.object.values = vals;
}

/* See schema_migrate_int.h. */
bool
trib_migrate_image_tree(trib_migrate *m, const trib_migrate_plan *p, const trib_event *ev,
						char **text, bool key, char *errbuf, size_t errlen)
{
	mig_ctx		x = {m, p, ev, errbuf, errlen};
	yajl_val	o;
	bool		ok = true;

	if ((o = trib_jdoc_parse(*text, errbuf, errlen)) == NULL || !YAJL_IS_OBJECT(o))
	{
		if (o != NULL)
			yajl_tree_free(o);
		snprintf(errbuf, errlen, "migration of subject %s: a row image is not a JSON "
				 "object", p->mg->c->subject);
		return false;
	}
	for (size_t i = 0; ok && i < p->nsteps; i++)
		ok = run_step(&x, p->steps[i], o, key);
	if (ok && !key)
		reorder(o, p->order, p->norder);
	if (ok)
	{
		free(*text);
		*text = trib_jdoc_dump(o);
	}
	yajl_tree_free(o);
	return ok;
}

/* Migrate the image in *text (NULL: none); key: the key image.  The
 * streaming pass first, the tree path where it gives up. */
static bool
migrate_image(const mig_ctx *x, char **text, bool key)
{
	if (*text == NULL || trib_migrate_stream(x->m, x->p, text, key))
		return true;
	return trib_migrate_image_tree(x->m, x->p, x->ev, text, key, x->errbuf, x->errlen);
}

/* The renames and drops on the event's list of unchanged columns. */
static void
migrate_unchanged(const mig_ctx *x, trib_event *ev)
{
	yajl_val	a = ev->unchanged ? trib_jdoc_parse(ev->unchanged, NULL, 0) : NULL;
	trib_strbuf b = {0};

	if (a == NULL || !YAJL_IS_ARRAY(a) || x->p->nsteps == 0)
	{
		if (a != NULL)
			yajl_tree_free(a);
		return;
	}
	trib_strbuf_addc(&b, '[');
	for (size_t i = 0; i < a->u.array.len; i++)
	{
		const char *name = YAJL_IS_STRING(a->u.array.values[i]) ? a->u.array.values[i]->u.string : "";

		for (size_t s = 0; name != NULL && s < x->p->nsteps; s++)
		{
			const trib_migrate_step_conf *c = x->p->steps[s]->c;

			if (c->op == TRIB_MIGRATE_RENAME && strcmp(name, c->rename) == 0)
				name = c->to;
			else if (c->op == TRIB_MIGRATE_DROP && strcmp(name, c->drop) == 0)
				name = NULL;
		}
		if (name == NULL)
			continue;
		if (b.len > 1)
			trib_strbuf_addc(&b, ',');
		trib_jdoc_quote(&b, name);
	}
	trib_strbuf_addc(&b, ']');
	yajl_tree_free(a);
	free(ev->unchanged);
	ev->unchanged = trib_strbuf_finish(&b);
}

bool
trib_migrate_plan_apply(trib_migrate *m, const trib_migrate_plan *p, trib_event *ev,
						char *errbuf, size_t errlen)
{
	mig_ctx		x = {m, p, ev, errbuf, errlen};

	if (p->identity)
		return true;
	if (!migrate_image(&x, &ev->before, false) || !migrate_image(&x, &ev->after, false))
		return false;
	if (p->key_steps && !migrate_image(&x, &ev->key, true))
		return false;
	migrate_unchanged(&x, ev);
	return true;
}
