/*
 * rules_mask.c: the rules built on the value strategies of mask.h:
 * substitute (keyed fakes from the dictionaries), perturb (keyed noise per
 * row and column) and generalize (ranges, months, years).
 *
 * Each rule compiles one trib_mask at start-up (its key parsed with
 * keys.h, its dictionaries loaded once).  A value is handed over as a
 * trib_mval with the column's SQL type when the relation knows it, and the
 * result replaces the value in the image.  perturb derives its noise from
 * the event's key as the source sent it (before any rule rewrote it) and
 * the column, so every change of a row gets the same noise.
 */
#include "rules_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "mask.h"
#include "mask_fake.h"

static const trib_key_format key_formats[] = {
	TRIB_KEY_AUTO, TRIB_KEY_HEX, TRIB_KEY_BASE64, TRIB_KEY_RAW
};

bool
rl_mask_init(rule *r, char *errbuf, size_t errlen)
{
	const trib_rule_conf *c = r->c;
	trib_mask_spec spec;
	trib_key   *key = NULL;

	if (c->type != TRIB_RULE_SUBSTITUTE && c->type != TRIB_RULE_PERTURB &&
		c->type != TRIB_RULE_GENERALIZE)
		return true;
	if (c->key != NULL &&
		(key = trib_key_parse(c->key, strlen(c->key), key_formats[c->key_format],
							  "the rule's key", errbuf, errlen)) == NULL)
		return false;
	switch (c->type)
	{
		case TRIB_RULE_SUBSTITUTE:
			trib_mask_spec_init(&spec, TRIB_MASK_SUBSTITUTE);
			if (!trib_fake_kind_parse(c->kind, &spec.substitute.what))
			{
				snprintf(errbuf, errlen, "unknown kind \"%s\"", c->kind);
				trib_key_free(key);
				return false;
			}
			spec.substitute.iban_country = c->iban_country;
			r->dicts = trib_fake_dicts_load(c->dictionaries, errbuf, errlen);
			if (r->dicts == NULL)
			{
				trib_key_free(key);
				return false;
			}
			spec.dicts = r->dicts;
			break;
		case TRIB_RULE_PERTURB:
			trib_mask_spec_init(&spec, TRIB_MASK_PERTURB);
			if (c->percent)
				spec.perturb.mode = TRIB_PERTURB_PERCENT, spec.perturb.amount = strtod(c->percent, NULL);
			else if (c->absolute)
				spec.perturb.mode = TRIB_PERTURB_ABSOLUTE, spec.perturb.amount = strtod(c->absolute, NULL);
			else
				spec.perturb.mode = TRIB_PERTURB_DAYS, spec.perturb.days = c->days;
			break;
		default:
			trib_mask_spec_init(&spec, TRIB_MASK_GENERALIZE);
			spec.generalize.mode = c->mode == TRIB_GENMODE_RANGE ? TRIB_GEN_RANGE
				: c->mode == TRIB_GENMODE_LOWER ? TRIB_GEN_LOWER
				: c->mode == TRIB_GENMODE_MONTH ? TRIB_GEN_MONTH : TRIB_GEN_YEAR;
			spec.generalize.width = c->width;
			break;
	}
	if (key)
	{
		spec.key = key->bytes;
		spec.keylen = key->len;
	}
	r->mask = trib_mask_new(&spec, errbuf, errlen);
	trib_key_free(key);			/* trib_mask_new copied it */
	return r->mask != NULL;
}

void
rl_mask_free(rule *r)
{
	trib_mask_free(r->mask);
	trib_fake_dicts_free(r->dicts);
	r->mask = NULL;
	r->dicts = NULL;
}

/* The SQL type of a top-level column, from the event's relation. */
static const char *
sqltype_of(const trib_event *ev, const char *column)
{
	for (int i = 0; ev->rel && i < ev->rel->ncolumns; i++)
		if (strcmp(ev->rel->columns[i].name, column) == 0)
			return ev->rel->columns[i].type;
	return NULL;
}

static yajl_val
node_from(const trib_mout *o)
{
	char		e[64];
	const char *t = o->text.data ? o->text.data : "";
	yajl_val	v;

	switch (o->kind)
	{
		case TRIB_J_NULL:
			return trib_jdoc_null();
		case TRIB_J_BOOL:
			return trib_jdoc_bool(strcmp(t, "true") == 0);
		case TRIB_J_NUMBER:
			return trib_jdoc_number(t);
		case TRIB_J_STRING:
			return trib_jdoc_stringn(t, o->text.len);
		default:
			v = trib_jdoc_parse(t, e, sizeof(e));
			return v ? v : trib_jdoc_null();
	}
}

bool
rl_mask_value(yajl_val *slot, const char *name, value_arg *a, char *errbuf, size_t errlen)
{
	rule	   *r = (rule *) a->r;
	trib_strbuf scratch = {0};
	trib_mval	in;
	trib_mout	out = {0};
	trib_mask_row row = {0};
	char		e[256];
	bool		ok;

	(void) errbuf;
	(void) errlen;
	if (*slot == NULL || YAJL_IS_NULL(*slot))
		return true;
	trib_mval_from_yajl(*slot, sqltype_of(a->x->ev, name), &in, &scratch);
	row.row_key = a->x->ev->key;
	row.row_key_len = a->x->ev->key ? strlen(a->x->ev->key) : 0;
	row.column = name;
	ok = trib_mask_apply(r->mask, &in, &row, &out, e, sizeof(e));
	if (ok)
		rl_replace(slot, node_from(&out));
	else
	{
		snprintf(a->x->reason, sizeof(a->x->reason), "%s: %.200s", r->c->type_name, e);
		a->x->why = a->x->reason;
		a->x->why_field = name;
	}
	trib_mout_free(&out);
	trib_strbuf_free(&scratch);
	return ok;
}
