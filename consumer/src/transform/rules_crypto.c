/*
 * rules_crypto.c: the rules built on the cryptographic strategies: hash
 * (mask_hash.h), tokenize (mask_tokenize.h), encrypt and decrypt
 * (mask_gcm.h, mask_fernet.h).
 *
 * Each rule parses its key once at start-up (keys.h; the config loader has
 * already checked it, so a failure here is an internal error).  hash,
 * tokenize and aes-gcm bind a per-column context (the `context` or
 * `tweak` key, by default the name of the field the value sits under), so
 * a rule keeps one strategy object per context it meets: usually one, at
 * most one per selected field name.  A value too short for FF1 is masked
 * whole by a redact mask (mask.h) unless the rule says too_short:
 * dead_letter.
 *
 * Values: a string's text, a number's digits, true/false; objects and
 * arrays are hashed or encrypted as their compact JSON, and cannot be
 * tokenized.  Outputs are strings.  Failures (a value FF1 cannot take, a
 * token that does not authenticate) send the event to the dead-letter
 * sink with a reason that never contains the value.
 */
#include "rules_crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mask.h"
#include "mask_fernet.h"
#include "mask_gcm.h"
#include "mask_hash.h"
#include "mask_tokenize.h"

typedef struct ctxobj
{
	char	   *ctx;
	void	   *obj;
} ctxobj;

/* The key; Fernet's keys; tokenize's mask for too-short values. */
static bool
init_crypto(trib_rules *rs, rl_rule *r, char *errbuf, size_t errlen)
{
	const trib_rule_conf *c = r->c;
	trib_mask_spec spec;

	(void) rs;
	if (!rl_rule_key(r, errbuf, errlen))
		return false;
	if (c->type == TRIB_RULE_TOKENIZE && c->too_short == TRIB_SHORT_REDACT &&
		!c->strict_alphabet)
	{
		trib_mask_spec_init(&spec, TRIB_MASK_REDACT);
		return (r->mask = trib_mask_new(&spec, errbuf, errlen)) != NULL;
	}
	if ((c->type == TRIB_RULE_ENCRYPT || c->type == TRIB_RULE_DECRYPT) &&
		c->cipher == TRIB_CIPHER_FERNET && r->key != NULL)
		return (r->fernet = trib_fernet_new(r->key, errbuf, errlen)) != NULL;
	return true;
}

static void
free_obj(const rl_rule *r, void *obj)
{
	switch (r->c->type)
	{
		case TRIB_RULE_HASH:
			trib_mask_hash_free(obj);
			break;
		case TRIB_RULE_TOKENIZE:
			trib_mask_tokenize_free(obj);
			break;
		default:
			trib_gcm_free(obj);
			break;
	}
}

static void
free_crypto(rl_rule *r)
{
	for (int i = 0; i < r->nobjs; i++)
	{
		free_obj(r, ((ctxobj *) r->objs)[i].obj);
		free(((ctxobj *) r->objs)[i].ctx);
	}
	free(r->objs);
	trib_fernet_free(r->fernet);
	trib_mask_free(r->mask);
}

static void *
new_obj(const rl_rule *r, const char *ctx, char *errbuf, size_t errlen)
{
	const trib_rule_conf *c = r->c;
	static const trib_mask_hash_encoding encs[] = {TRIB_MASK_HASH_HEX, TRIB_MASK_HASH_BASE64,
		TRIB_MASK_HASH_BASE64URL};
	static const trib_mask_token_alphabet alphas[] = {TRIB_ALPHA_DIGITS, TRIB_ALPHA_ALNUM_LOWER,
	TRIB_ALPHA_ALNUM_UPPER, TRIB_ALPHA_ALNUM};

	switch (c->type)
	{
		case TRIB_RULE_HASH:
			return trib_mask_hash_new(r->key, ctx, strlen(ctx), encs[c->encoding],
									  (size_t) c->length, errbuf, errlen);
		case TRIB_RULE_TOKENIZE:
			return trib_mask_tokenize_new(r->key, alphas[c->alphabet], ctx, strlen(ctx),
										  c->strict_alphabet, errbuf, errlen);
		default:
			return trib_gcm_new(r->key, ctx, strlen(ctx), c->url, errbuf, errlen);
	}
}

/* The strategy object for this context, made on first use. */
static void *
obj_for(rl_rule *r, const char *ctx, char *errbuf, size_t errlen)
{
	ctxobj	   *o = r->objs;
	void	   *obj;

	for (int i = 0; i < r->nobjs; i++)
		if (strcmp(o[i].ctx, ctx) == 0)
			return o[i].obj;
	if ((obj = new_obj(r, ctx, errbuf, errlen)) == NULL)
		return NULL;
	r->objs = o = trib_xrealloc(o, sizeof(ctxobj) * (size_t) (r->nobjs + 1));
	o[r->nobjs].ctx = trib_xstrdup(ctx);
	o[r->nobjs].obj = obj;
	r->nobjs++;
	return obj;
}

/* A value too short to tokenize, masked whole (*out malloc'd). */
static bool
redact_short(const rl_rule *r, const char *text, size_t len, char **out,
			 char *errbuf, size_t errlen)
{
	trib_jvalue	in = {TRIB_J_STRING, text, len, NULL};
	trib_jvalue_buf o = {0};

	if (!trib_mask_apply(r->mask, &in, NULL, &o, errbuf, errlen))
		return false;
	*out = trib_xstrndup(o.text.data ? o.text.data : "", o.text.len);
	trib_jvalue_buf_free(&o);
	return true;
}

/* Refuse the value with the strategy's message e, prefixed "what: "
 * unless e starts so already; returns false. */
static bool
refuse(rl_evctx *x, const char *what, const char *e)
{
	size_t		n = strlen(what);

	if (strncmp(e, what, n) == 0 && e[n] == ':')
		snprintf(x->reason, sizeof(x->reason), "%.220s", e);
	else
		snprintf(x->reason, sizeof(x->reason), "%s: %.200s", what, e);
	x->why = x->reason;
	return false;
}

/* Run the strategy on text[0..len); *out malloc'd.  false: x->why set
 * (data) or errbuf (internal). */
static bool
transform(rl_rule *r, rl_evctx *x, const char *name, const char *text, size_t len,
		  char **out, char *errbuf, size_t errlen)
{
	const trib_rule_conf *c = r->c;
	const char *ctx = c->type == TRIB_RULE_TOKENIZE ? (c->tweak ? c->tweak : name)
		: c->context ? c->context : name;
	void	   *obj = NULL;
	char		e[256];
	size_t		n;

	if (c->cipher != TRIB_CIPHER_FERNET || c->type == TRIB_RULE_HASH ||
		c->type == TRIB_RULE_TOKENIZE)
	{
		if ((obj = obj_for(r, ctx, errbuf, errlen)) == NULL)
			return false;
	}
	switch (c->type)
	{
		case TRIB_RULE_HASH:
			return trib_mask_hash_apply(obj, text, len, out, &n, errbuf, errlen);
		case TRIB_RULE_TOKENIZE:
			/* too_short: redact masks what FF1 cannot take, so it needs no
			 * message (formatting one cost ~3,000 instructions a value) */
			if (r->mask != NULL)
				return trib_mask_tokenize(obj, text, len, out, NULL, 0) ||
					redact_short(r, text, len, out, errbuf, errlen);
			if (trib_mask_tokenize(obj, text, len, out, e, sizeof(e)))
				return true;
			return refuse(x, "tokenize", e);
		case TRIB_RULE_ENCRYPT:
			if (c->cipher == TRIB_CIPHER_FERNET)
				return trib_fernet_encrypt(r->fernet, text, len, (int64_t) time(NULL), out, &n,
										   errbuf, errlen);
			return trib_gcm_encrypt(obj, text, len, out, &n, errbuf, errlen);
		default:
			{
				unsigned char *plain = NULL;
				bool		ok = c->cipher == TRIB_CIPHER_FERNET
					? trib_fernet_decrypt(r->fernet, text, len, c->ttl, (int64_t) time(NULL),
										  &plain, &n, e, sizeof(e))
					: trib_gcm_decrypt(obj, text, len, &plain, &n, e, sizeof(e));

				if (!ok)
					return refuse(x, "decrypt", e);
				*out = (char *) plain;	/* NUL-terminated by the decrypters */
				return true;
			}
	}
}

/* One value through the rule's strategy, in place. */
static bool
crypto_value(yajl_val *slot, const char *name, rl_value_arg *a)
{
	rl_rule    *r = (rl_rule *) a->r;
	const char *text;
	char	   *dump = NULL;
	char	   *out = NULL;
	bool		ok;

	if (*slot == NULL || YAJL_IS_NULL(*slot))
		return true;
	text = trib_jdoc_scalar_text(*slot);
	if (text == NULL)
	{
		if (r->c->type == TRIB_RULE_TOKENIZE)
		{
			a->x->why = "tokenize needs a string or number, not an object or array";
			a->x->why_field = name;
			return false;
		}
		text = dump = trib_jdoc_dump(*slot);
	}
	ok = transform(r, a->x, name, text, strlen(text), &out, a->errbuf, a->errlen);
	free(dump);
	if (!ok)
	{
		if (a->x->why)
			a->x->why_field = name;
		return false;
	}
	rl_replace(slot, trib_jdoc_string(out));
	free(out);
	return true;
}

/* crypto_value on a scalar's text (rules_splice.h): null stays null; a
 * string, number or boolean becomes the string transform makes of its
 * text, as crypto_value's trib_jdoc_string node would be written. */
static rl_sp_text_res
crypto_value_text(const trib_jvalue *in, const char *name, rl_value_arg *a,
				  trib_jvalue_buf *out)
{
	char	   *t = NULL;

	if (in->kind == TRIB_J_NULL)
		return trib_jvalue_buf_set(out, TRIB_J_NULL, "null", 4), RL_SPT_OUT;
	if (!transform((rl_rule *) a->r, a->x, name, in->text, in->len, &t, a->errbuf, a->errlen))
	{
		if (a->x->why)
			a->x->why_field = name;
		return RL_SPT_FAIL;
	}
	trib_jvalue_buf_set(out, TRIB_J_STRING, t, strlen(t));
	free(t);
	return RL_SPT_OUT;
}

/* Every crypto rule is a value rule whose output is text. */
#define CRYPTO_OPS(flags) \
	{(flags), init_crypto, free_crypto, rl_apply_values, crypto_value, rl_shapes_always, \
	 rl_reshape_text, crypto_value_text}

/* hash and tokenize are keyed functions of the value (RL_PURE_TEXT);
 * encrypt draws an IV or nonce, decrypt reads the clock (a TTL) */
const rl_ops rl_ops_hash = CRYPTO_OPS(RL_ROWS | RL_SHAPE_KNOWN | RL_MASKS | RL_PURE_TEXT);
const rl_ops rl_ops_tokenize = CRYPTO_OPS(RL_ROWS | RL_SHAPE_KNOWN | RL_MASKS | RL_PURE_TEXT);
const rl_ops rl_ops_encrypt = CRYPTO_OPS(RL_ROWS | RL_SHAPE_KNOWN | RL_MASKS);
const rl_ops rl_ops_decrypt = CRYPTO_OPS(RL_ROWS | RL_SHAPE_KNOWN);
