/*
 * rules_events.c: rules that decide about whole events: sample (keep a
 * deterministic share, by a keyed hash of one field so related tables
 * agree), route (a topic or table from a template) and flatten (the Kafka
 * value becomes the row state).
 */
#include "rules_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sample, route, flatten ------------------------------------------------- */

/* The text of the first value `path` reaches in the row (after, else
 * before); NULL when missing, null, or not a scalar. */
const char *
rl_row_value(evctx *x, const trib_jpath *path, char *errbuf, size_t errlen)
{
	first_arg	f = {0};
	yajl_val	row;

	if (!rl_img_all(x, errbuf, errlen))
		return NULL;
	row = x->img[IMG_AFTER] ? x->img[IMG_AFTER] : x->img[IMG_BEFORE];
	trib_jpath_each(row, path, rl_first_cb, &f);
	return f.found && !f.is_null ? f.text : NULL;
}

/* The text sample decides on: `by`, or the key's only value, or the key. */
static const char *
sample_input(evctx *x, const rule *r, char **tofree, char *errbuf, size_t errlen)
{
	yajl_val	k;

	*tofree = NULL;
	if (r->has_by)
		return rl_row_value(x, &r->by, errbuf, errlen);
	if (!rl_img_all(x, errbuf, errlen))
		return NULL;
	k = x->img[IMG_KEY];
	if (k != NULL && YAJL_IS_OBJECT(k) && k->u.object.len == 1 &&
		trib_jdoc_scalar_text(k->u.object.values[0]) != NULL)
		return trib_jdoc_scalar_text(k->u.object.values[0]);
	if (k != NULL)
		return *tofree = trib_jdoc_dump(k);
	if (x->ev->after || x->ev->before)
		return x->ev->after ? x->ev->after : x->ev->before;
	return NULL;
}

/*
 * The sample's MAC of in: HMAC-SHA256(key, BE32(6) || "sample" || in),
 * under the rule's key or SAMPLE_DEFAULT_KEY (docs/MASKING.md).
 */
static void
sample_mac(const trib_hmac *base, const char *in, unsigned char d[TRIB_HMAC_LEN])
{
	static const char ctx[] = "sample";
	trib_hmac  *h = trib_hmac_dup(base);

	if (h == NULL || !trib_hmac_update_be32(h, sizeof(ctx) - 1) ||
		!trib_hmac_update(h, ctx, sizeof(ctx) - 1) || !trib_hmac_update(h, in, strlen(in)) ||
		!trib_hmac_final(h, d))
		abort();
	trib_hmac_free(h);
}

trib_verdict
rl_apply_sample(evctx *x, const rule *r, char *errbuf, size_t errlen)
{
	char	   *tofree;
	const char *in;
	unsigned char d[TRIB_HMAC_LEN];
	uint64_t	h = 0;

	if (r->keep_all || (x->ev->op == TRIB_OP_MESSAGE || x->ev->op == TRIB_OP_TRUNCATE))
		return TRIB_VERDICT_KEEP;
	in = sample_input(x, r, &tofree, errbuf, errlen);
	if (in == NULL)
	{
		free(tofree);
		/*
		 * No value to decide on.  A delete usually carries only the key
		 * (REPLICA IDENTITY DEFAULT): let it through, since deleting a row
		 * the sample never copied changes nothing.  Anything else is not
		 * in the sample.
		 */
		return x->ev->op == TRIB_OP_DELETE ? TRIB_VERDICT_KEEP : TRIB_VERDICT_DROP;
	}
	sample_mac(r->mac, in, d);
	free(tofree);
	for (int i = 0; i < 8; i++)
		h = (h << 8) | d[i];
	return h < r->threshold ? TRIB_VERDICT_KEEP : TRIB_VERDICT_DROP;
}

/*
 * Expand a topic template for this event into *out (malloc'd): ${source},
 * ${db}, ${schema}, ${table}, ${after.F}, ${before.F}, ${key.F}, $$.
 * false with x->why set when a field is missing, null or not a scalar.
 */
bool
rl_expand_template(evctx *x, const char *tmpl, char **out, char *errbuf, size_t errlen)
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
			first_arg	f = {0};

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

bool
rl_apply_route(evctx *x, const rule *r, char *errbuf, size_t errlen)
{
	char	   *topic;

	if (!rl_expand_template(x, r->c->topic, &topic, errbuf, errlen))
		return false;
	free(x->ev->topic);
	x->ev->topic = topic;
	return true;
}

trib_verdict
rl_apply_flatten(evctx *x, const rule *r, char *errbuf, size_t errlen)
{
	trib_event *ev = x->ev;

	if (ev->op == TRIB_OP_MESSAGE || ev->op == TRIB_OP_TRUNCATE)
		return TRIB_VERDICT_KEEP;
	if (ev->op == TRIB_OP_DELETE)
	{
		if (r->c->deletes == TRIB_FLATTEN_DROP)
			return TRIB_VERDICT_DROP;
		if (r->c->deletes == TRIB_FLATTEN_TOMBSTONE)
		{
			ev->flatten = TRIB_FLAT_TOMBSTONE;
			return TRIB_VERDICT_KEEP;
		}
		if (!rl_img_all(x, errbuf, errlen))
			return TRIB_VERDICT_FAIL;
		if (x->img[IMG_AFTER])
			yajl_tree_free(x->img[IMG_AFTER]);
		x->img[IMG_AFTER] = x->img[IMG_BEFORE] ? trib_jdoc_copy(x->img[IMG_BEFORE])
			: x->img[IMG_KEY] ? trib_jdoc_copy(x->img[IMG_KEY]) : NULL;
		if (x->img[IMG_AFTER] == NULL)
			return TRIB_VERDICT_DROP;	/* nothing known of the row */
		trib_jdoc_put(x->img[IMG_AFTER], "__deleted", trib_jdoc_string("true"));
		x->dirty[IMG_AFTER] = true;
	}
	else if (r->c->deletes == TRIB_FLATTEN_REWRITE)
	{
		if (!rl_img_all(x, errbuf, errlen))
			return TRIB_VERDICT_FAIL;
		if (x->img[IMG_AFTER])
		{
			trib_jdoc_put(x->img[IMG_AFTER], "__deleted", trib_jdoc_string("false"));
			x->dirty[IMG_AFTER] = true;
		}
	}
	ev->flatten = TRIB_FLAT_ROW;
	return TRIB_VERDICT_KEEP;
}

