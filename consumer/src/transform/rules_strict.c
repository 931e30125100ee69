/*
 * rules_strict.c: strict mode.  Every column of every captured table must
 * have an explicit decision: a rule that names it (redact, partial, hash,
 * drop, allow, ...) or a keep rule on its table (which decides for every
 * column: the ones it does not list are dropped).  A rule on a nested key
 * (notes.phone) is not a decision about the whole column.
 *
 * At run time, before any other rule, a column without a decision is
 * replaced by null in `before` and `after`, with one warning per column,
 * so a column added to a table mid-stream cannot leak until someone
 * configures it.  A primary-key column without a decision cannot be
 * nulled (the row would lose its identity): such an event goes to the
 * dead-letter sink.  `tributary check` lists the columns without a
 * decision through trib_rules_covers() (rules.c), which asks
 * rl_strict_covers().
 *
 * Decisions are cached per (source, schema, table, column) in a chained
 * hash table; the rules cannot change while the pipeline runs.
 */
#include "rules_strict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fnv.h"
#include "log.h"

typedef struct cov_entry
{
	char	   *key;
	bool		covered;
	struct cov_entry *next;
} cov_entry;

#define COV_BUCKETS 1024

/* Does rule r decide about this top-level column: keep and outbox about
 * every column; a masking rule (RL_MASKS), drop and allow about the
 * columns their paths name. */
static bool
rule_decides(const rl_rule *r, const char *column)
{
	trib_rule_type t = r->c->type;

	if (t == TRIB_RULE_KEEP || t == TRIB_RULE_OUTBOX)
		return true;
	if ((r->ops->flags & RL_MASKS) || t == TRIB_RULE_DROP || t == TRIB_RULE_ALLOW)
		return rl_any_path_first(r, column);
	return false;
}

static bool
decide(const trib_rules *rs, const trib_event *where, const char *column)
{
	for (int i = 0; i < rs->n; i++)
		if (rl_selected(rs->r[i].c, where) && rule_decides(&rs->r[i], column))
			return true;
	return false;
}

/* See rules_strict.h. */
bool
rl_strict_covers(const trib_rules *rs, const trib_event *where, const char *column)
{
	return decide(rs, where, column);
}

/* Cached decision for a column of ev's table; warns the first time a
 * column has none. */
static bool
covered(trib_rules *rs, const trib_event *ev, const char *column)
{
	trib_strbuf k = {0};
	cov_entry **b;
	cov_entry  *e;
	bool		c;

	trib_strbuf_printf(&k, "%s\x1f%s\x1f%s\x1f%s", ev->source ? ev->source : "",
					   ev->schema ? ev->schema : "", ev->table ? ev->table : "", column);
	if (rs->cov == NULL)
		rs->cov = trib_xcalloc(COV_BUCKETS, sizeof(cov_entry *));
	b = &((cov_entry **) rs->cov)[trib_fnv1a_str(k.data) % COV_BUCKETS];
	for (e = *b; e; e = e->next)
		if (strcmp(e->key, k.data) == 0)
		{
			trib_strbuf_free(&k);
			return e->covered;
		}
	c = decide(rs, ev, column);
	e = trib_xcalloc(1, sizeof(*e));
	e->key = trib_strbuf_finish(&k);
	e->covered = c;
	e->next = *b;
	*b = e;
	if (!c)
		tlog_warn("transforms", "strict: column %s of %s.%s has no rule; its values are "
				  "replaced by null until one is configured (add allow, or a strategy)",
				  column, ev->schema ? ev->schema : "", ev->table ? ev->table : "");
	return c;
}

void
rl_strict_free(trib_rules *rs)
{
	cov_entry **t = rs->cov;

	if (t == NULL)
		return;
	for (int i = 0; i < COV_BUCKETS; i++)
		for (cov_entry *e = t[i], *n; e; e = n)
		{
			n = e->next;
			free(e->key);
			free(e);
		}
	free(t);
	rs->cov = NULL;
}

/* Null every undecided top-level field of one image; false when one of
 * them is a key column. */
static bool
null_undecided(trib_rules *rs, rl_evctx *x, int img)
{
	yajl_val	o = x->img[img];

	for (size_t i = 0; o && YAJL_IS_OBJECT(o) && i < o->u.object.len; i++)
	{
		const char *col = o->u.object.keys[i];

		if (covered(rs, x->ev, col))
			continue;
		if (trib_jdoc_get_slot(x->img[IMG_KEY], col) != NULL)
		{
			snprintf(x->reason, sizeof(x->reason), "strict: the key column %s has no rule", col);
			x->why = x->reason;
			x->why_field = col;
			return false;
		}
		if (o->u.object.values[i] == NULL || !YAJL_IS_NULL(o->u.object.values[i]))
		{
			rl_replace(&o->u.object.values[i], trib_jdoc_null());
			x->dirty[img] = true;
			trib_metric_inc(rs->m_strict);
		}
	}
	return true;
}

trib_verdict
rl_strict_pass(trib_rules *rs, rl_evctx *x, char *errbuf, size_t errlen)
{
	if (!rl_img_all(x, errbuf, errlen))
		return TRIB_VERDICT_FAIL;
	if (!null_undecided(rs, x, IMG_BEFORE) || !null_undecided(rs, x, IMG_AFTER))
		return TRIB_VERDICT_DEAD_LETTER;
	return TRIB_VERDICT_KEEP;
}

/* allow: a decision for strict mode only; the event goes on. */
static trib_verdict
apply_allow(rl_evctx *x, rl_rule *r, char *errbuf, size_t errlen)
{
	(void) x;
	(void) r;
	(void) errbuf;
	(void) errlen;
	return TRIB_VERDICT_KEEP;
}

const rl_ops rl_ops_allow = {RL_SHAPE_KNOWN, NULL, NULL, apply_allow, NULL, NULL, NULL, NULL};
