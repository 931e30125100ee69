/*
 * rules_mask.c: the rules built on the value strategies of mask.h: redact
 * (mask characters, null or a fixed value), partial (keep the first/last
 * characters or an e-mail's domain), substitute (keyed fakes from the
 * dictionaries), perturb (keyed noise per row and column) and generalize
 * (ranges, months, years).
 *
 * Each rule compiles one trib_mask at start-up (its key parsed with
 * keys.h, its dictionaries loaded once).  A value is handed over in its
 * tree (trib_mask_apply_node) with the column's SQL type when the relation
 * knows it, and the result replaces it in the image.  perturb derives its
 * noise from the event's key as the source sent it (before any rule
 * rewrote it) and the column, so every change of a row gets the same
 * noise.
 *
 * partial with keep_email_domain is two masks: a value with an '@' gets
 * the e-mail strategy with nothing of the local part kept, any other value
 * keep_first/keep_last.  keep_separators is handed to the strategy (it
 * was accepted and ignored until the fix that added its unit test).
 */
#include "rules_mask.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "mask.h"
#include "mask_fake.h"

/* The spec of a redact or partial rule. */
static void
text_spec(const trib_rule_conf *c, trib_mask_spec *spec)
{
	if (c->type == TRIB_RULE_REDACT)
	{
		trib_mask_spec_init(spec, TRIB_MASK_REDACT);
		spec->redact.mode = c->with == TRIB_RWITH_NULL ? TRIB_REDACT_NULL
			: c->with == TRIB_RWITH_VALUE ? TRIB_REDACT_FIXED : TRIB_REDACT_MASK;
		spec->redact.fixed_string = c->value ? c->value : "";
		spec->redact.mask_char = c->mask_char;
		spec->redact.length = c->length;
		return;
	}
	trib_mask_spec_init(spec, TRIB_MASK_PARTIAL);
	spec->partial.keep_first = c->keep_first;
	spec->partial.keep_last = c->keep_last;
	spec->partial.keep_separators = c->keep_separators;
	spec->partial.mask_char = c->mask_char;
}

/* redact, partial: the mask (and partial's e-mail mask). */
static bool
init_text(trib_rules *rs, rl_rule *r, char *errbuf, size_t errlen)
{
	const trib_rule_conf *c = r->c;
	trib_mask_spec spec;

	(void) rs;
	text_spec(c, &spec);
	if ((r->mask = trib_mask_new(&spec, errbuf, errlen)) == NULL)
		return false;
	if (c->type != TRIB_RULE_PARTIAL || !c->keep_email_domain)
		return true;
	spec.partial.email = true;
	spec.partial.keep_first = spec.partial.keep_last = 0;
	r->mask_email = trib_mask_new(&spec, errbuf, errlen);
	return r->mask_email != NULL;
}

/* The spec of a substitute, perturb or generalize rule (substitute: its
 * dictionaries loaded into r). */
static bool
keyed_spec(rl_rule *r, trib_mask_spec *spec, char *errbuf, size_t errlen)
{
	const trib_rule_conf *c = r->c;

	switch (c->type)
	{
		case TRIB_RULE_SUBSTITUTE:
			trib_mask_spec_init(spec, TRIB_MASK_SUBSTITUTE);
			if (!trib_fake_kind_parse(c->kind, &spec->substitute.what))
			{
				snprintf(errbuf, errlen, "unknown kind \"%s\"", c->kind);
				return false;
			}
			spec->substitute.iban_country = c->iban_country;
			r->dicts = trib_fake_dicts_load(c->dictionaries, errbuf, errlen);
			spec->dicts = r->dicts;
			return r->dicts != NULL;
		case TRIB_RULE_PERTURB:
			trib_mask_spec_init(spec, TRIB_MASK_PERTURB);
			if (c->percent)
				spec->perturb.mode = TRIB_PERTURB_PERCENT, spec->perturb.amount = strtod(c->percent, NULL);
			else if (c->absolute)
				spec->perturb.mode = TRIB_PERTURB_ABSOLUTE, spec->perturb.amount = strtod(c->absolute, NULL);
			else
				spec->perturb.mode = TRIB_PERTURB_DAYS, spec->perturb.days = c->days;
			return true;
		default:
			trib_mask_spec_init(spec, TRIB_MASK_GENERALIZE);
			spec->generalize.mode = c->mode == TRIB_GENMODE_RANGE ? TRIB_GEN_RANGE
				: c->mode == TRIB_GENMODE_LOWER ? TRIB_GEN_LOWER
				: c->mode == TRIB_GENMODE_MONTH ? TRIB_GEN_MONTH : TRIB_GEN_YEAR;
			spec->generalize.width = c->width;
			return true;
	}
}

/* substitute, perturb, generalize: the mask under the rule's key. */
static bool
init_keyed(trib_rules *rs, rl_rule *r, char *errbuf, size_t errlen)
{
	trib_mask_spec spec;

	(void) rs;
	if (!rl_rule_key(r, errbuf, errlen) || !keyed_spec(r, &spec, errbuf, errlen))
		return false;
	if (r->key)
	{
		spec.key = r->key->bytes;	/* trib_mask_new copies it */
		spec.keylen = r->key->len;
	}
	r->mask = trib_mask_new(&spec, errbuf, errlen);
	return r->mask != NULL;
}

static void
free_masks(rl_rule *r)
{
	trib_mask_free(r->mask);
	trib_mask_free(r->mask_email);
	trib_fake_dicts_free(r->dicts);
	r->mask = r->mask_email = NULL;
	r->dicts = NULL;
}

/* The SQL type of a top-level column, from the event's relation. */
static const char *
sqltype_scan(const trib_event *ev, const char *column)
{
	for (int i = 0; ev->rel && i < ev->rel->ncolumns; i++)
		if (strcmp(ev->rel->columns[i].name, column) == 0)
			return ev->rel->columns[i].type;
	return NULL;
}

/* sqltype_scan, its last answer kept in rule r (by relation address and
 * version, as stages cache relations: relation.h): one strcmp an event,
 * not one per column before it (a rule's rl_rule is its thread's own). */
static const char *
sqltype_of(rl_rule *r, const trib_event *ev, const char *column)
{
	size_t		n;

	if (ev->rel == NULL)
		return NULL;
	if (r->sqlt_rel == ev->rel && r->sqlt_version == ev->rel->version &&
		strcmp(r->sqlt_name, column) == 0)
		return r->sqlt_type;
	r->sqlt_type = sqltype_scan(ev, column);
	if ((n = strlen(column)) < sizeof(r->sqlt_name))
	{
		memcpy(r->sqlt_name, column, n + 1);
		r->sqlt_rel = ev->rel;
		r->sqlt_version = ev->rel->version;
	}
	else
		r->sqlt_rel = NULL;
	return r->sqlt_type;
}

/* The rule's mask for a value whose scalar text is `text` (NULL: none):
 * its e-mail mask when it has one and the text holds an '@'. */
static const trib_mask *
mask_for(const rl_rule *r, const char *text)
{
	return r->mask_email != NULL && text != NULL && strchr(text, '@') != NULL
		? r->mask_email : r->mask;
}

/* The row the strategies may key on: the event's key and the column. */
static trib_mask_row
row_of(const rl_value_arg *a, const char *name)
{
	trib_mask_row row = {0};

	row.row_key = a->x->ev->key;
	row.row_key_len = a->x->ev->key ? strlen(a->x->ev->key) : 0;
	row.column = name;
	return row;
}

/* Refuse the event for the mask's message e; returns false. */
static bool
mask_refuse(rl_value_arg *a, const char *name, const char *e)
{
	const rl_rule *r = a->r;

	/* substitute, perturb and generalize name the rule type first (as they
	 * always have); redact's and partial's messages stand as they are */
	if (r->c->type == TRIB_RULE_REDACT || r->c->type == TRIB_RULE_PARTIAL)
		snprintf(a->x->reason, sizeof(a->x->reason), "%s", e);
	else
		snprintf(a->x->reason, sizeof(a->x->reason), "%s: %.200s", r->c->type_name, e);
	a->x->why = a->x->reason;
	a->x->why_field = name;
	return false;
}

/* One value through the rule's mask, in place. */
static bool
mask_value(yajl_val *slot, const char *name, rl_value_arg *a)
{
	const trib_mask *m = mask_for(a->r, trib_jdoc_scalar_text(*slot));
	trib_mask_row row = row_of(a, name);
	char		e[256];

	if (trib_mask_apply_node(m, slot, sqltype_of((rl_rule *) a->r, a->x->ev, name), &row, e, sizeof(e)))
		return true;
	return mask_refuse(a, name, e);
}

/* mask_value on a scalar's text (rules_splice.h): what trib_mask_apply_node
 * does for a scalar, without its nodes. */
static rl_sp_text_res
mask_value_text(const trib_jvalue *in, const char *name, rl_value_arg *a,
				trib_jvalue_buf *out)
{
	const trib_mask *m = mask_for(a->r, in->kind == TRIB_J_NULL ? NULL : in->text);
	trib_mask_row row = row_of(a, name);
	trib_jvalue v = *in;
	char		e[256];

	v.sqltype = sqltype_of((rl_rule *) a->r, a->x->ev, name);
	if (trib_mask_apply(m, &v, &row, out, e, sizeof(e)))
		return RL_SPT_OUT;
	(void) mask_refuse(a, name, e);
	return RL_SPT_FAIL;
}


/* redact writes text unless it writes null. */
static bool
redact_shapes(const trib_rule_conf *c)
{
	return c->with != TRIB_RWITH_NULL;
}

/* generalize writes text ("30-39") in range mode only. */
static bool
generalize_shapes(const trib_rule_conf *c)
{
	return c->mode == TRIB_GENMODE_RANGE;
}

/* Every masking rule is a value rule; those that write text say when
 * (shapes) and retype the columns they name (perturb keeps numbers). */
#define MASK_OPS(init, shapes, reshape) \
	{RL_ROWS | RL_SHAPE_KNOWN | RL_MASKS | RL_PURE_TEXT, (init), free_masks, rl_apply_values, \
	 mask_value, \
	 (shapes), (reshape), mask_value_text}

const rl_ops rl_ops_redact = MASK_OPS(init_text, redact_shapes, rl_reshape_text);
const rl_ops rl_ops_partial = MASK_OPS(init_text, rl_shapes_always, rl_reshape_text);
const rl_ops rl_ops_substitute = MASK_OPS(init_keyed, rl_shapes_always, rl_reshape_text);
const rl_ops rl_ops_perturb = MASK_OPS(init_keyed, NULL, NULL);
const rl_ops rl_ops_generalize = MASK_OPS(init_keyed, generalize_shapes, rl_reshape_text);
