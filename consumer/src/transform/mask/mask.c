/*
 * mask.c: value strategies (see mask.h): compiling a spec, and the
 * redact, partial and substitute strategies (perturb and generalize are in
 * mask_perturb.c, the keyed hash they all use in mask_prf.c).
 *
 * Character handling.  redact and partial work on characters, not bytes:
 * the text is walked with the strict UTF-8 decoder (utf8.c) and each
 * character is copied or replaced by the mask character as a whole, so a
 * masked value is always valid UTF-8 and has as many characters as the
 * original.  Numbers and booleans are masked in their JSON text and become
 * strings; redact masks the scalar leaves of objects and arrays and keeps
 * their shape, partial refuses them.
 *
 * Keyed hash.  HMAC-SHA256 (hmac.h: one key per mask, each value on
 * the thread's working context, reset) over a label naming the strategy and
 * length-prefixed inputs (docs/MASKING.md); without a configured key the
 * public key "tributary-unkeyed" stands in (deterministic, but anyone can
 * recompute it).
 */
#include "jsondoc.h"
#include "mask_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "errf.h"
#include "hmac.h"
#include "utf8.h"
#include "words.h"

static const char unkeyed_key[] = "tributary-unkeyed";

/* ---- redact and partial -------------------------------------------------- */

/* ASCII space or punctuation: kept by partial's keep_separators. */
static bool
is_separator(uint32_t cp)
{
	return cp < 0x80 && !((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
						  (cp >= 'A' && cp <= 'Z'));
}

/* Does m work on the scalar leaves of objects and arrays (redact's mask
 * mode), keeping their shape? */
static bool
leafwise(const trib_mask *m)
{
	return m->spec.kind == TRIB_MASK_REDACT && m->spec.redact.mode == TRIB_REDACT_MASK;
}

/* n mask characters into out, a string. */
static void
put_mask(const trib_mask *m, size_t n, trib_jvalue_buf *out)
{
	trib_jvalue_buf_set(out, TRIB_J_STRING, "", 0);
	for (size_t i = 0; i < n; i++)
		trib_strbuf_adds(&out->text, m->mask_char);
}

static bool each_leaf(const trib_mask *m, yajl_val v, const char *sqltype,
					  const trib_mask_row *row, char *errbuf, size_t errlen);

/* A leafwise m on an object or array given as JSON text. */
static bool
apply_leaves(const trib_mask *m, const trib_jvalue *in, trib_jvalue_buf *out,
			 char *errbuf, size_t errlen)
{
	char	   *text = trib_xstrndup(in->text, in->len);
	char		err[128];
	yajl_val	v = yajl_tree_parse(text, err, sizeof(err));
	bool		ok = v != NULL && each_leaf(m, v, in->sqltype, NULL, errbuf, errlen);

	free(text);
	if (v == NULL)
		snprintf(errbuf, errlen, "redact: the %s is not valid JSON",
				 in->kind == TRIB_J_OBJECT ? "object" : "array");
	else if (ok)
	{
		char	   *json = trib_jdoc_dump(v);

		trib_jvalue_buf_set(out, in->kind, json, strlen(json));
		free(json);
	}
	yajl_tree_free(v);
	return ok;
}

static bool
redact(const trib_mask *m, const trib_jvalue *in, trib_jvalue_buf *out, char *errbuf,
	   size_t errlen)
{
	switch (m->spec.redact.mode)
	{
		case TRIB_REDACT_NULL:
			trib_jvalue_buf_set(out, TRIB_J_NULL, "null", 4);
			return true;
		case TRIB_REDACT_FIXED:
			trib_jvalue_buf_set(out, m->fixed_kind, m->fixed_text, m->fixed_len);
			return true;
		case TRIB_REDACT_MASK:
			if (in->kind == TRIB_J_OBJECT || in->kind == TRIB_J_ARRAY)
				return apply_leaves(m, in, out, errbuf, errlen);
			put_mask(m, m->spec.redact.length > 0 ? (size_t) m->spec.redact.length
					 : trib_utf8_count(in->text, in->len), out);
			return true;
	}
	return false;
}

/* Mask text[0..len) per partial's rules, appending to out. */
static void
partial_region(const trib_mask *m, const char *text, size_t len,
			   trib_strbuf *out)
{
	bool		seps = m->spec.partial.keep_separators;
	size_t		first = (size_t) m->spec.partial.keep_first,
				last = (size_t) m->spec.partial.keep_last,
				total = 0,
				k = 0,
				i = 0;
	uint32_t	cp;

	while (i < len)
	{
		i += trib_utf8_next(text, len, i, &cp);
		total += !(seps && is_separator(cp));
	}
	/* Too short to keep anything and still hide something: mask it all. */
	if (total <= first + last)
		first = last = 0;
	for (i = 0; i < len;)
	{
		size_t		n = trib_utf8_next(text, len, i, &cp);

		if (seps && is_separator(cp))
			trib_strbuf_add(out, text + i, n);
		else
		{
			if (k < first || k >= total - last)
				trib_strbuf_add(out, text + i, n);
			else
				trib_strbuf_adds(out, m->mask_char);
			k++;
		}
		i += n;
	}
}

static bool
partial(const trib_mask *m, const trib_jvalue *in, trib_jvalue_buf *out, char *errbuf,
		size_t errlen)
{
	const char *at = NULL;

	if (in->kind == TRIB_J_OBJECT || in->kind == TRIB_J_ARRAY)
		return trib_errf(errbuf, errlen, "partial needs a string or number, not an object or array");
	trib_jvalue_buf_set(out, TRIB_J_STRING, "", 0);
	if (m->spec.partial.email)
	{
		for (size_t i = in->len; i > 0; i--)
			if (in->text[i - 1] == '@')
			{
				at = in->text + i - 1;
				break;
			}
		if (at == NULL)
		{
			/* Not an address: hide all of it. */
			put_mask(m, trib_utf8_count(in->text, in->len), out);
			return true;
		}
		partial_region(m, in->text, (size_t) (at - in->text), &out->text);
		trib_strbuf_add(&out->text, at, in->len - (size_t) (at - in->text));
		return true;
	}
	partial_region(m, in->text, in->len, &out->text);
	return true;
}

/* ---- substitute ---------------------------------------------------------- */

static bool
substitute(const trib_mask *m, const trib_jvalue *in, trib_jvalue_buf *out,
		   char *errbuf, size_t errlen)
{
	unsigned char seed[32];
	trib_fake_kind what = m->spec.substitute.what;
	bool		digits = true;

	trib_mask_prf(m, "substitute", trib_fake_kind_name(what),
				  strlen(trib_fake_kind_name(what)), in->text, in->len,
				  NULL, 0, seed);
	trib_jvalue_buf_set(out, TRIB_J_STRING, "", 0);
	if (!trib_fake_generate(m->spec.dicts, what, seed, in->text, in->len,
							m->iban_country, &out->text, errbuf, errlen))
		return false;
	OPENSSL_cleanse(seed, sizeof(seed));
	/* A card number held as a JSON number stays a number. */
	for (size_t i = 0; i < out->text.len; i++)
		digits = digits && out->text.data[i] >= '0' && out->text.data[i] <= '9';
	if (in->kind == TRIB_J_NUMBER && digits && out->text.len > 0 &&
		out->text.data[0] != '0')
		out->kind = TRIB_J_NUMBER;
	return true;
}

/* ---- compile and apply --------------------------------------------------- */

void
trib_mask_spec_init(trib_mask_spec *spec, trib_mask_kind kind)
{
	memset(spec, 0, sizeof(*spec));
	spec->kind = kind;
	spec->redact.mode = TRIB_REDACT_MASK;
	spec->redact.mask_char = "*";
	spec->partial.keep_last = 4;
	spec->partial.mask_char = "*";
	spec->substitute.what = TRIB_FAKE_FULL_NAME;
	spec->substitute.iban_country = "DE";
	spec->perturb.mode = TRIB_PERTURB_PERCENT;
	spec->perturb.amount = 10;
	spec->perturb.days = 30;
	spec->generalize.mode = TRIB_GEN_RANGE;
	spec->generalize.width = 10;
}

/* Exactly one UTF-8 character (the rules' mask_char check). */
static bool
one_char(const char *s)
{
	size_t		n = s ? strlen(s) : 0;

	return n > 0 && trib_utf8_seqlen(s, n) == n;
}

/* Parse redact.fixed_json into m. */
static bool
compile_fixed(trib_mask *m, const char *json, char *errbuf, size_t errlen)
{
	char		err[256];
	yajl_val	v;
	trib_strbuf scratch = {0};
	trib_jvalue	mv;

	if (m->spec.redact.fixed_string != NULL)
	{
		m->fixed_kind = TRIB_J_STRING;
		m->fixed_text = trib_xstrdup(m->spec.redact.fixed_string);
		m->fixed_len = strlen(m->fixed_text);
		return true;
	}
	if (json == NULL)
		return trib_errf(errbuf, errlen, "redact: mode fixed needs a value");
	v = yajl_tree_parse(json, err, sizeof(err));
	if (v == NULL)
	{
		err[strcspn(err, "\n")] = '\0';
		snprintf(errbuf, errlen, "redact: the fixed value is not JSON (%s); "
				 "write strings in quotes, e.g. \"\\\"REDACTED\\\"\"", err);
		return false;
	}
	trib_jvalue_from_yajl(v, NULL, &mv, &scratch);
	m->fixed_kind = mv.kind;
	m->fixed_text = trib_xstrndup(mv.text, mv.len);
	m->fixed_len = mv.len;
	trib_strbuf_free(&scratch);
	yajl_tree_free(v);
	return true;
}

/* redact's or partial's mask character, checked, into m. */
static bool
set_mask_char(trib_mask *m, const char *strategy, const char *c, char *errbuf,
			  size_t errlen)
{
	if (!one_char(c))
		return trib_errf(errbuf, errlen, "%s: mask_char must be exactly one UTF-8 character",
						 strategy);
	m->mask_char = trib_xstrdup(c);
	return true;
}

/* Validate the kind-specific parameters of spec into m. */
static bool
compile_params(trib_mask *m, const trib_mask_spec *s, char *errbuf,
			   size_t errlen)
{
	switch (s->kind)
	{
		case TRIB_MASK_REDACT:
			if (s->redact.mode == TRIB_REDACT_FIXED)
				return compile_fixed(m, s->redact.fixed_json, errbuf, errlen);
			if (s->redact.mode == TRIB_REDACT_MASK && s->redact.length < 0)
				return trib_errf(errbuf, errlen, "redact: length must be 0 (keep the "
								 "value's length) or positive, not %d", s->redact.length);
			return set_mask_char(m, "redact", s->redact.mask_char, errbuf, errlen);
		case TRIB_MASK_PARTIAL:
			if (s->partial.keep_first < 0 || s->partial.keep_last < 0 ||
				s->partial.keep_first > 1024 || s->partial.keep_last > 1024)
				return trib_errf(errbuf, errlen, "partial: keep_first and keep_last must "
								 "be between 0 and 1024");
			return set_mask_char(m, "partial", s->partial.mask_char, errbuf, errlen);
		case TRIB_MASK_SUBSTITUTE:
			if (s->dicts == NULL)
				return trib_errf(errbuf, errlen, "substitute: the fake-value "
								 "dictionaries are not loaded");
			if ((int) s->substitute.what < 0 || s->substitute.what >= TRIB_FAKE_NKINDS)
				return trib_errf(errbuf, errlen, "substitute: unknown kind");
			if (!trib_fake_iban_country_ok(s->substitute.iban_country))
				return trib_errf(errbuf, errlen, "substitute: iban_country must be one "
								 "of AT, BE, CH, DE, ES, FR, GB, NL");
			m->iban_country = trib_xstrdup(s->substitute.iban_country);
			return true;
		case TRIB_MASK_PERTURB:
			if (s->perturb.mode == TRIB_PERTURB_DAYS &&
				(s->perturb.days < 1 || s->perturb.days > 36500))
				return trib_errf(errbuf, errlen, "perturb: days must be between 1 and "
								 "36500, not %d", s->perturb.days);
			if (s->perturb.mode != TRIB_PERTURB_DAYS &&
				!(s->perturb.amount > 0 && s->perturb.amount < 1e300))
				return trib_errf(errbuf, errlen, "perturb: amount must be a positive "
								 "number");
			return true;
		case TRIB_MASK_GENERALIZE:
			if ((s->generalize.mode == TRIB_GEN_RANGE ||
				 s->generalize.mode == TRIB_GEN_LOWER) &&
				(s->generalize.width < 1 || s->generalize.width > INT64_MAX / 4))
				return trib_errf(errbuf, errlen, "generalize: width must be a positive "
								 "integer");
			return true;
	}
	snprintf(errbuf, errlen, "unknown strategy %d", (int) s->kind);
	return false;
}

trib_mask *
trib_mask_new(const trib_mask_spec *spec, char *errbuf, size_t errlen)
{
	trib_mask  *m = trib_xcalloc(1, sizeof(*m));

	m->spec = *spec;
	if (!compile_params(m, spec, errbuf, errlen))
	{
		trib_mask_free(m);
		return NULL;
	}
	if (spec->key && spec->keylen > 0)
	{
		m->key = trib_xmalloc(spec->keylen);
		memcpy(m->key, spec->key, spec->keylen);
		m->keylen = spec->keylen;
	}
	/* Keep no pointers into the caller's memory but the dictionaries. */
	m->spec.key = NULL;
	m->mac = m->key ? trib_hmac_new(m->key, m->keylen)
		: trib_hmac_new(unkeyed_key, sizeof(unkeyed_key) - 1);
	if (m->mac == NULL)
		abort();
	m->spec.redact.fixed_json = m->spec.redact.fixed_string = NULL;
	m->spec.redact.mask_char = m->spec.partial.mask_char = m->mask_char;
	m->spec.substitute.iban_country = m->iban_country;
	return m;
}

void
trib_mask_free(trib_mask *m)
{
	if (m == NULL)
		return;
	if (m->key)
		OPENSSL_cleanse(m->key, m->keylen);
	trib_hmac_free(m->mac);
	free(m->key);
	free(m->mask_char);
	free(m->iban_country);
	free(m->fixed_text);
	free(m);
}

bool
trib_mask_apply(const trib_mask *m, const trib_jvalue *in,
				const trib_mask_row *row, trib_jvalue_buf *out, char *errbuf,
				size_t errlen)
{
	if (in->kind == TRIB_J_NULL &&
		!(m->spec.kind == TRIB_MASK_REDACT && m->spec.redact.mode == TRIB_REDACT_FIXED))
	{
		trib_jvalue_buf_set(out, TRIB_J_NULL, "null", 4);
		return true;
	}
	switch (m->spec.kind)
	{
		case TRIB_MASK_REDACT:
			return redact(m, in, out, errbuf, errlen);
		case TRIB_MASK_PARTIAL:
			return partial(m, in, out, errbuf, errlen);
		case TRIB_MASK_SUBSTITUTE:
			return substitute(m, in, out, errbuf, errlen);
		case TRIB_MASK_PERTURB:
			return trib_mask_perturb(m, in, row, out, errbuf, errlen);
		case TRIB_MASK_GENERALIZE:
			return trib_mask_generalize(m, in, out, errbuf, errlen);
	}
	snprintf(errbuf, errlen, "unknown strategy");
	return false;
}

/* trib_mask_apply_node on every member or element of v. */
static bool
each_leaf(const trib_mask *m, yajl_val v, const char *sqltype,
		  const trib_mask_row *row, char *errbuf, size_t errlen)
{
	size_t		n = YAJL_IS_OBJECT(v) ? v->u.object.len : v->u.array.len;
	yajl_val   *slots = YAJL_IS_OBJECT(v) ? v->u.object.values : v->u.array.values;

	for (size_t i = 0; i < n; i++)
		if (!trib_mask_apply_node(m, &slots[i], sqltype, row, errbuf, errlen))
			return false;
	return true;
}

bool
trib_mask_apply_node(const trib_mask *m, yajl_val *slot, const char *sqltype,
					 const trib_mask_row *row, char *errbuf, size_t errlen)
{
	trib_strbuf scratch = {0};
	trib_jvalue	in;
	trib_jvalue_buf out = {0};
	bool		ok;

	if (leafwise(m) && *slot != NULL && (YAJL_IS_OBJECT(*slot) || YAJL_IS_ARRAY(*slot)))
		return each_leaf(m, *slot, sqltype, row, errbuf, errlen);
	trib_jvalue_from_yajl(*slot, sqltype, &in, &scratch);
	ok = trib_mask_apply(m, &in, row, &out, errbuf, errlen);
	if (ok)
	{
		yajl_tree_free(*slot);
		*slot = trib_jvalue_buf_node(&out);
	}
	trib_jvalue_buf_free(&out);
	trib_strbuf_free(&scratch);
	return ok;
}

static const char *const kind_names[] = {
	"redact", "partial", "substitute", "perturb", "generalize"
};

bool
trib_mask_kind_parse(const char *s, trib_mask_kind *out)
{
	int			i = trib_words_find(kind_names, TRIB_NWORDS(kind_names), s);

	if (i >= 0)
		*out = (trib_mask_kind) i;
	return i >= 0;
}

const char *
trib_mask_kind_name(trib_mask_kind k)
{
	return trib_words_name(kind_names, TRIB_NWORDS(kind_names), (int) k);
}
