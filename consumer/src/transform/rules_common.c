/*
 * rules_common.c: what the rule families share (see rules_common.h):
 * selecting events by source and table, the lazily parsed images, the
 * walk of a value rule over its paths, first values and templates, JSON
 * number syntax, the rule's key, and the column edits of the reshape ops.
 *
 * It depends on nothing else of the engine: every rule family and the
 * driver use it, and it uses none of them (the value op of a value rule
 * is reached through the rule's row of operations).
 */
#include "rules_common.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "rules_splice.h"
#include "rules_update_desc.h"
#include "xalloc.h"

_Static_assert(NIMG == RL_SPLICE_NIMG, "one text index per image");

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

/* The part of the event's image index (event.h) that describes image i,
 * or -1 (the before image has none). */
static int
img_index_part(int i)
{
	return i == IMG_AFTER ? TRIB_IMAGE_AFTER : i == IMG_KEY ? TRIB_IMAGE_KEY : -1;
}

/* Image i as the text path holds it when it changed it since the last
 * write-back, else NULL (the event's text is current). */
static const char *
img_spliced(const rl_evctx *x, int i)
{
	return x->dirty[i] && !x->parsed[i] ? rl_splice_text(x->sp, i) : NULL;
}

/* The parsed image i, or NULL when the event has none.  An image the text
 * path changed (rules_splice.c) is parsed from its current text. */
static yajl_val
img_get(rl_evctx *x, int i, char *errbuf, size_t errlen)
{
	const char *t = img_spliced(x, i);

	if (t == NULL)
		t = *rl_img_text(x->ev, i);
	if (!x->parsed[i])
	{
		x->parsed[i] = true;
		if (t != NULL && (x->img[i] = trib_jdoc_parse(t, errbuf, errlen)) == NULL)
			return NULL;
	}
	return x->img[i];
}

bool
rl_img_all(rl_evctx *x, char *errbuf, size_t errlen)
{
	for (int i = 0; i < NIMG; i++)
		if (img_get(x, i, errbuf, errlen) == NULL && *rl_img_text(x->ev, i) != NULL)
			return false;
	return true;
}

void
rl_img_write_back(rl_evctx *x)
{
	for (int i = 0; i < NIMG; i++)
		if (x->dirty[i])
		{
			char	  **t = rl_img_text(x->ev, i);
			const char *text = img_spliced(x, i);

			free(*t);
			*t = text ? trib_xstrdup(text) : x->img[i] ? trib_jdoc_dump(x->img[i]) : NULL;
			if (img_index_part(i) >= 0)
				trib_image_index_forget(x->ev, img_index_part(i));	/* a new text */
			x->dirty[i] = false;	/* event and tree agree again */
		}
}

/* ---- value rules ------------------------------------------------------------- */

void
rl_replace(yajl_val *slot, yajl_val v)
{
	yajl_tree_free(*slot);
	*slot = v;
}

static bool
value_cb(yajl_val *slot, const char *name, void *arg)
{
	rl_value_arg *a = arg;
	bool		ok = a->r->ops->value(slot, name, a);

	a->changed = true;
	return ok;
}

/* value_cb inside updatedFields (rules_update_desc.c): their tree is
 * freed before the verdict is read, so a refusal that names its field
 * keeps a copy of the name (it used to name freed memory in the
 * dead-letter record and the log). */
static bool
update_desc_cb(yajl_val *slot, const char *name, void *arg)
{
	rl_value_arg *a = arg;
	bool		ok = value_cb(slot, name, arg);

	if (!ok && a->x->why_field == name)
	{
		free(a->x->why_field_own);
		a->x->why_field = a->x->why_field_own = trib_xstrdup(name);
	}
	return ok;
}

/* The rule's text op (rules_splice.h), as value_cb calls its node op. */
static rl_sp_text_res
value_text_cb(const trib_jvalue *in, const char *name, void *arg, trib_jvalue_buf *out)
{
	rl_value_arg *a = arg;
	rl_sp_text_res res = a->r->ops->value_text(in, name, a, out);

	if (res != RL_SPT_NODE)
		a->changed = true;
	return res;
}

/* Does pair (path p, image i) of rule r apply?  A cast keeps the key's
 * types.  A nested path applies to the key too: a MongoDB documentKey
 * holds a compound _id ({"_id": {"email": ...}}) or a sharded
 * collection's nested shard-key field under its dotted path
 * ({"profile.email": ...}), which a masked field must not keep in clear
 * text (the key used to take top-level columns only). */
static bool
pair_applies(rl_evctx *x, const rl_rule *r, int p, int i)
{
	(void) p;
	return *rl_img_text(x->ev, i) != NULL && !(i == IMG_KEY && r->c->type == TRIB_RULE_CAST);
}

/* Can value rule r run on the texts (rules_splice.c) rather than trees?
 * Only while no image of the event has a tree. */
static bool
text_path(rl_evctx *x, const rl_rule *r)
{
	if (!rl_splice_enabled || r->c->type == TRIB_RULE_CAST)
		return false;
	for (int i = 0; i < NIMG; i++)
		if (x->parsed[i])
			return false;
	if (x->sp == NULL)
		x->sp = rl_splice_new();
	for (int i = 0; i < NIMG; i++)
		if (*rl_img_text(x->ev, i) != NULL &&
			!rl_splice_index(x->sp, i, *rl_img_text(x->ev, i), x->ev, img_index_part(i)))
			return false;
	for (int p = 0; p < r->npaths; p++)
		for (int i = 0; i < NIMG; i++)
			if (pair_applies(x, r, p, i) &&
				(r->sp_member[p * NIMG + i] = rl_splice_find(x->sp, i, &r->sp_paths[p])) == RL_SP_NOTEXT)
				return false;
	/* a key member named by a dotted path is the tree path's (values_at) */
	for (int p = 0; p < r->npaths; p++)
		if (r->paths[p].nseg > 1 && x->ev->key != NULL && strchr(x->ev->key, '.') != NULL)
			return false;
	return true;
}

/* The value op on what path p reaches in image i: on the text when the
 * rule runs there (fast) and the image has no tree, else in the tree. */
static bool
values_at(rl_evctx *x, rl_value_arg *a, int p, int i, bool fast)
{
	int			dotted;
	rl_sp_result sr = fast && !x->parsed[i]
		? rl_splice_apply_at(x->sp, i, a->r->sp_member[p * NIMG + i], value_cb,
							   a->r->ops->value_text ? value_text_cb : NULL,
							   a->r->ops->flags & RL_PURE_TEXT ? &a->r->sp_paths[p] : NULL, a)
		: RL_SP_TREE;

	if (sr == RL_SP_CHANGED)
		x->dirty[i] = true;		/* as the tree path: not when the op failed */
	if (sr != RL_SP_TREE)
		return sr != RL_SP_STOP;
	if (img_get(x, i, a->errbuf, a->errlen) == NULL)
		return true;			/* the event has no such image */
	a->changed = false;
	if (!trib_jpath_each(x->img[i], &a->r->paths[p], value_cb, a))
		return false;
	if (i == IMG_KEY && a->r->paths[p].nseg > 1 &&
		!rl_dotted_members_each(x->img[i], &a->r->paths[p], true, value_cb, a, &dotted))
		return false;
	if (a->changed)
		x->dirty[i] = true;
	return true;
}

trib_verdict
rl_apply_values(rl_evctx *x, rl_rule *r, char *errbuf, size_t errlen)
{
	rl_value_arg a = {x, r, false, errbuf, errlen};
	bool		fast = text_path(x, r);

	if (!fast && !rl_img_all(x, errbuf, errlen))
		return TRIB_VERDICT_FAIL;
	for (int p = 0; p < r->npaths; p++)
		for (int i = 0; i < NIMG; i++)
			if (pair_applies(x, r, p, i) && !values_at(x, &a, p, i, fast))
				return x->why ? TRIB_VERDICT_DEAD_LETTER : TRIB_VERDICT_FAIL;
	/* a MongoDB update's updatedFields carry values too (in extra: an
	 * event without one has none, and is not looked at per path) */
	for (int p = 0; x->ev->extra != NULL && p < r->npaths && r->c->type != TRIB_RULE_CAST; p++)
		if (!rl_update_desc_each(x->ev, &r->paths[p], update_desc_cb, &a))
			return x->why ? TRIB_VERDICT_DEAD_LETTER : TRIB_VERDICT_FAIL;
	/* the relation is derived again unless the values only became null */
	if (r->c->type != TRIB_RULE_REDACT || r->c->with != TRIB_RWITH_NULL)
		x->reshaped = true;
	return TRIB_VERDICT_KEEP;
}

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

/* ---- paths and first values ------------------------------------------------- */

bool
rl_any_path_first(const rl_rule *r, const char *column)
{
	for (int p = 0; p < r->npaths; p++)
		if (r->paths[p].nseg == 1 && trib_jpath_first_matches(&r->paths[p], column))
			return true;
	return false;
}

bool
rl_first_cb(yajl_val *slot, const char *name, void *arg)
{
	rl_first_arg *f = arg;

	(void) name;
	f->found = true;
	f->is_null = *slot == NULL || YAJL_IS_NULL(*slot);
	f->text = trib_jdoc_scalar_text(*slot);
	return false;				/* the first match is enough */
}

const char *
rl_row_value(rl_evctx *x, const trib_jpath *path, char *errbuf, size_t errlen)
{
	rl_first_arg f = {0};
	yajl_val	row;

	if (!rl_img_all(x, errbuf, errlen))
		return NULL;
	row = x->img[IMG_AFTER] ? x->img[IMG_AFTER] : x->img[IMG_BEFORE];
	trib_jpath_each(row, path, rl_first_cb, &f);
	return f.found && !f.is_null ? f.text : NULL;
}

/* ---- templates ---------------------------------------------------------------- */

/* ${source}, ${db}, ${schema}, ${table}, ${after.F}, ${before.F}, ${key.F}, $$. */
bool
rl_expand_template(rl_evctx *x, const char *tmpl, char **out, char *errbuf, size_t errlen)
{
	const char *t = tmpl;
	trib_strbuf b = {0};

	while (*t)
	{
		const char *end;
		char	   *var;
		const char *val = NULL;
		int			img = -1;
		const char *rest = NULL;

		if (t[0] == '$' && t[1] == '$')
		{
			trib_strbuf_addc(&b, '$');
			t += 2;
			continue;
		}
		if (t[0] != '$' || t[1] != '{' || (end = strchr(t, '}')) == NULL)
		{
			trib_strbuf_addc(&b, *t++);
			continue;
		}
		var = trib_xstrndup(t + 2, (size_t) (end - t - 2));
		if (strcmp(var, "source") == 0)
			val = x->ev->source;
		else if (strcmp(var, "db") == 0)
			val = x->ev->db;
		else if (strcmp(var, "schema") == 0)
			val = x->ev->schema;
		else if (strcmp(var, "table") == 0)
			val = x->ev->table;
		else if (strncmp(var, "after.", 6) == 0)
			img = IMG_AFTER, rest = var + 6;
		else if (strncmp(var, "before.", 7) == 0)
			img = IMG_BEFORE, rest = var + 7;
		else if (strncmp(var, "key.", 4) == 0)
			img = IMG_KEY, rest = var + 4;
		if (img >= 0)
		{
			trib_jpath	p;
			rl_first_arg f = {0};

			if (!rl_img_all(x, errbuf, errlen) || !trib_jpath_parse(rest, &p, errbuf, errlen))
			{
				free(var);
				trib_strbuf_free(&b);
				return false;
			}
			trib_jpath_each(x->img[img], &p, rl_first_cb, &f);
			trib_jpath_free(&p);
			val = f.found && !f.is_null ? f.text : NULL;
			if (val == NULL)
			{
				x->why = "a field of the topic template is missing, null or not a scalar";
				x->why_field = tmpl;
				free(var);
				trib_strbuf_free(&b);
				return false;
			}
		}
		if (val)
			trib_strbuf_adds(&b, val);
		free(var);
		t = end + 1;
	}
	*out = trib_strbuf_finish(&b);
	if (*out == NULL)
		*out = trib_xstrdup("");
	return true;
}

/* ---- keys ----------------------------------------------------------------------- */

static const trib_key_format key_formats[] = {
	TRIB_KEY_AUTO, TRIB_KEY_HEX, TRIB_KEY_BASE64, TRIB_KEY_RAW
};

bool
rl_rule_key(rl_rule *r, char *errbuf, size_t errlen)
{
	const trib_rule_conf *c = r->c;

	if (c->key == NULL || r->key != NULL)
		return true;
	r->key = trib_key_parse(c->key, strlen(c->key), key_formats[c->key_format],
							"the rule's key", errbuf, errlen);
	return r->key != NULL;
}

/* ---- derived relations -------------------------------------------------- */

/* See rules_common.h. */
bool
rl_shapes_always(const trib_rule_conf *c)
{
	(void) c;
	return true;
}

static bool
is_text_type(const char *t)
{
	return strncmp(t, "text", 4) == 0 || strncmp(t, "character", 9) == 0 ||
		strncmp(t, "varchar", 7) == 0 || strncmp(t, "citext", 6) == 0;
}

/* See rules_common.h. */
void
rl_reshape_text(trib_relation *rel, const rl_rule *r)
{
	for (int i = 0; i < rel->ncolumns; i++)
	{
		trib_column *col = &rel->columns[i];

		if (rl_any_path_first(r, col->name) && !is_text_type(col->type))
			rl_rel_set_type(col, "text");
	}
}

/* See rules_common.h. */
void
rl_rel_remove_column(trib_relation *rel, int i)
{
	trib_relation_column_clear(&rel->columns[i]);
	memmove(&rel->columns[i], &rel->columns[i + 1],
			sizeof(trib_column) * (size_t) (rel->ncolumns - i - 1));
	rel->ncolumns--;
}

/* See rules_common.h. */
void
rl_rel_set_type(trib_column *col, const char *type)
{
	free(col->type);
	/* the source's declaration, base type and labels no longer hold */
	trib_relation_column_untype(col);
	col->type = trib_xstrdup(type);
	col->type_oid = 0;
}

/* See rules_common.h. */
void
rl_rel_add_column(trib_relation *rel, const char *name, const char *type)
{
	trib_column *col;

	for (int i = 0; i < rel->ncolumns; i++)
		if (strcmp(rel->columns[i].name, name) == 0)
		{
			rl_rel_set_type(&rel->columns[i], type);
			return;
		}
	rel->columns = trib_xrealloc(rel->columns, sizeof(trib_column) * (size_t) (rel->ncolumns + 1));
	col = &rel->columns[rel->ncolumns++];
	memset(col, 0, sizeof(*col));
	col->name = trib_xstrdup(name);
	col->type = trib_xstrdup(type);
	col->nullable = true;
}
