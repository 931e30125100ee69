/*
 * quality.c: data-quality checks (see quality.h).
 *
 * A check answers with a failure code (trib_quality_failure); reasons are made
 * from the code only when someone wants one, so the rule engine can word
 * its own (quality rules have done so from the start) and the check's
 * own wording is in one place, describe().
 *
 * Set members (allowed values, the values a batch has seen) are texts in
 * an intern set (intern.c).  By value (the default), a value's text is
 * canonical: "s:" + the string, "n:" + the number's canonical decimal
 * (decimal.c, so 1.50 and 1.5 are one value), "b:true"/"b:false", "j:" +
 * the JSON text of objects and arrays.  By text (by_text), it is the
 * value's text as it stands: a string's content, a number's literal,
 * true/false, an object's or array's JSON text.
 *
 * PCRE2 patterns are compiled with PCRE2_UTF and, when available, JIT; a
 * match context caps backtracking (match limit 1,000,000, depth limit
 * 10,000) so a pathological pattern fails one value instead of stalling
 * the pipeline.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "quality.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "decimal.h"
#include "errf.h"
#include "intern.h"
#include "words.h"

#define MATCH_LIMIT 1000000
#define DEPTH_LIMIT 10000

struct trib_quality
{
	trib_quality_kind kind;
	char	   *name;
	trib_jtype	type;
	trib_dec	min,
				max;
	bool		has_min,
				has_max,
				min_excl,
				max_excl;
	char	   *min_text,
			   *max_text;
	pcre2_code *re;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	bool		by_text;
	trib_intern *set;			/* ALLOWED: the set; UNIQUE: seen values */
	trib_lua_expr *lua;
	trib_strbuf canon;			/* scratch */
};

static const char *const kind_names[] = {
	"not_null", "type", "range", "regex", "allowed", "unique", "lua"
};

/* The text v is compared by, into c->canon. */
static void
canonical(trib_quality *c, const trib_jvalue *v)
{
	trib_dec	d;

	c->canon.len = 0;
	if (c->by_text)
		;
	else if (v->kind == TRIB_J_NUMBER && trib_dec_parse(v->text, v->len, &d))
	{
		trib_strbuf_adds(&c->canon, "n:");
		trib_dec_canonical(&d, &c->canon);
		trib_dec_free(&d);
		return;
	}
	else
		trib_strbuf_adds(&c->canon, v->kind == TRIB_J_NUMBER ? "n:"
						 : v->kind == TRIB_J_STRING ? "s:"
						 : v->kind == TRIB_J_BOOL ? "b:" : "j:");
	trib_strbuf_add(&c->canon, v->text, v->len);
	if (c->canon.data == NULL)
		trib_strbuf_adds(&c->canon, "");
}

/* Parse a range bound. */
static bool
parse_bound(const char *text, const char *which, trib_dec *d, char **copy,
			char *errbuf, size_t errlen)
{
	if (!trib_dec_parse(text, strlen(text), d))
		return trib_errf(errbuf, errlen, "range: %s must be a number, not \"%s\"",
						 which, text);
	*copy = trib_xstrdup(text);
	return true;
}

static bool
compile_regex(trib_quality *c, const trib_quality_spec *s, char *errbuf,
			  size_t errlen)
{
	int			rc;
	PCRE2_SIZE	off;

	if (s->pattern == NULL)
		return trib_errf(errbuf, errlen, "regex: a pattern is needed");
	c->re = pcre2_compile((PCRE2_SPTR) s->pattern, PCRE2_ZERO_TERMINATED,
						  PCRE2_UTF | (s->caseless ? PCRE2_CASELESS : 0),
						  &rc, &off, NULL);
	if (c->re == NULL)
	{
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(rc, msg, sizeof(msg));
		snprintf(errbuf, errlen, "regex: %s at offset %zu of the pattern",
				 (const char *) msg, (size_t) off);
		return false;
	}
	(void) pcre2_jit_compile(c->re, PCRE2_JIT_COMPLETE);	/* optional */
	c->md = pcre2_match_data_create_from_pattern(c->re, NULL);
	c->mctx = pcre2_match_context_create(NULL);
	if (c->md == NULL || c->mctx == NULL)
		abort();
	pcre2_set_match_limit(c->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(c->mctx, DEPTH_LIMIT);
	return true;
}

/* Add one allowed value (JSON text, or a text as it stands by_text). */
static bool
add_allowed(trib_quality *c, const char *text, size_t i, char *errbuf, size_t errlen)
{
	char		err[128];
	yajl_val	v;
	trib_strbuf scratch = {0};
	trib_jvalue jv;

	if (c->by_text)
	{
		(void) trib_intern_get(c->set, text, strlen(text));
		return true;
	}
	v = yajl_tree_parse(text, err, sizeof(err));
	if (v == NULL || YAJL_IS_OBJECT(v) || YAJL_IS_ARRAY(v) || YAJL_IS_NULL(v))
	{
		snprintf(errbuf, errlen, "allowed: value %zu (%s) must be a JSON "
				 "string, number or boolean (strings in quotes)", i + 1, text);
		yajl_tree_free(v);
		return false;
	}
	trib_jvalue_from_yajl(v, NULL, &jv, &scratch);
	canonical(c, &jv);
	(void) trib_intern_get(c->set, c->canon.data, c->canon.len);
	trib_strbuf_free(&scratch);
	yajl_tree_free(v);
	return true;
}

static bool
compile_allowed(trib_quality *c, const trib_quality_spec *s, char *errbuf,
				size_t errlen)
{
	for (size_t i = 0; i < s->nallowed; i++)
		if (!add_allowed(c, s->allowed[i], i, errbuf, errlen))
			return false;
	if (s->nallowed == 0 && !c->by_text)
		return trib_errf(errbuf, errlen, "allowed: the set is empty");
	return true;
}

static bool
compile_range(trib_quality *c, const trib_quality_spec *s, char *errbuf, size_t errlen)
{
	if (s->min == NULL && s->max == NULL)
		return trib_errf(errbuf, errlen, "range: min, max or both are needed");
	if (s->min && !parse_bound(s->min, "min", &c->min, &c->min_text, errbuf, errlen))
		return false;
	c->has_min = s->min != NULL;
	if (s->max && !parse_bound(s->max, "max", &c->max, &c->max_text, errbuf, errlen))
		return false;
	c->has_max = s->max != NULL;
	if (c->has_min && c->has_max && trib_dec_cmp(&c->min, &c->max) > 0)
		return trib_errf(errbuf, errlen, "range: min %s is above max %s", s->min, s->max);
	return true;
}

/* Compile the kind-specific parts of s into c. */
static bool
compile(trib_quality *c, const trib_quality_spec *s, char *errbuf, size_t errlen)
{
	switch (s->kind)
	{
		case TRIB_QC_NOT_NULL:
		case TRIB_QC_UNIQUE:
			return true;
		case TRIB_QC_TYPE:
			if ((size_t) s->type > TRIB_JT_UUID)
				return trib_errf(errbuf, errlen, "type: unknown type");
			return true;
		case TRIB_QC_RANGE:
			return compile_range(c, s, errbuf, errlen);
		case TRIB_QC_REGEX:
			return compile_regex(c, s, errbuf, errlen);
		case TRIB_QC_ALLOWED:
			return compile_allowed(c, s, errbuf, errlen);
		case TRIB_QC_LUA:
			if (s->lua == NULL || s->lua_src == NULL)
				return trib_errf(errbuf, errlen, "lua: an expression and a Lua state "
								 "are needed");
			c->lua = trib_lua_compile(s->lua, c->name, s->lua_src,
									  TRIB_LUA_FILTER, errbuf, errlen);
			return c->lua != NULL;
	}
	snprintf(errbuf, errlen, "unknown check %d", (int) s->kind);
	return false;
}

trib_quality *
trib_quality_new(const trib_quality_spec *spec, char *errbuf, size_t errlen)
{
	trib_quality *c = trib_xcalloc(1, sizeof(*c));

	c->kind = spec->kind;
	c->type = spec->type;
	c->min_excl = spec->min_exclusive;
	c->max_excl = spec->max_exclusive;
	c->by_text = spec->by_text;
	c->set = trib_intern_new();
	c->name = trib_xstrdup(spec->name ? spec->name
						   : (size_t) spec->kind < TRIB_NWORDS(kind_names) ? kind_names[spec->kind]
						   : "check");
	if (!compile(c, spec, errbuf, errlen))
	{
		trib_quality_free(c);
		return NULL;
	}
	return c;
}

void
trib_quality_free(trib_quality *c)
{
	if (c == NULL)
		return;
	trib_dec_free(&c->min);
	trib_dec_free(&c->max);
	free(c->min_text);
	free(c->max_text);
	pcre2_match_data_free(c->md);
	pcre2_match_context_free(c->mctx);
	pcre2_code_free(c->re);
	trib_intern_free(c->set);
	trib_lua_expr_free(c->lua);
	trib_strbuf_free(&c->canon);
	free(c->name);
	free(c);
}

void
trib_quality_batch_reset(trib_quality *c)
{
	if (c->kind != TRIB_QC_UNIQUE || trib_intern_count(c->set) == 0)
		return;
	trib_intern_free(c->set);	/* a new batch starts empty */
	c->set = trib_intern_new();
}

/* ---- running ------------------------------------------------------------- */

static trib_quality_failure
run_range(trib_quality *c, const trib_jvalue *v)
{
	trib_dec	d;
	int			lo,
				hi;

	if ((v->kind != TRIB_J_NUMBER && v->kind != TRIB_J_STRING) ||
		!trib_dec_parse(v->text, v->len, &d))
		return TRIB_QCF_NOT_NUMBER;
	lo = c->has_min ? trib_dec_cmp(&d, &c->min) : 1;
	hi = c->has_max ? trib_dec_cmp(&d, &c->max) : -1;
	trib_dec_free(&d);
	if (lo < 0 || (lo == 0 && c->min_excl))
		return TRIB_QCF_BELOW;
	if (hi > 0 || (hi == 0 && c->max_excl))
		return TRIB_QCF_ABOVE;
	return TRIB_QCF_NONE;
}

static bool
run_regex(trib_quality *c, const trib_jvalue *v, trib_quality_failure *failure,
		  char *errbuf, size_t errlen)
{
	int			rc = pcre2_match(c->re, (PCRE2_SPTR) v->text, v->len, 0, 0,
								 c->md, c->mctx);
	PCRE2_UCHAR msg[256];

	if (rc >= 0 || rc == PCRE2_ERROR_NOMATCH)
	{
		*failure = rc >= 0 ? TRIB_QCF_NONE : TRIB_QCF_NO_MATCH;
		return true;
	}
	pcre2_get_error_message(rc, msg, sizeof(msg));
	snprintf(errbuf, errlen, "%s: regex: %s", c->name, (const char *) msg);
	return false;
}

static bool
run_lua(trib_quality *c, const char *column, const trib_jvalue *v,
		trib_quality_failure *failure, char *why, size_t whylen, char *errbuf,
		size_t errlen)
{
	trib_lua   *T = trib_lua_expr_state(c->lua);
	bool		ok;
	bool		pass = true;

	trib_lua_bind_value(T, column, v->kind == TRIB_J_NULL ? NULL : v);
	ok = trib_lua_check(c->lua, &pass, why, whylen, errbuf, errlen);
	trib_lua_bind_value(T, NULL, NULL);
	*failure = pass ? TRIB_QCF_NONE : TRIB_QCF_LUA;
	return ok;
}

/* ALLOWED and UNIQUE: v's text in the set (UNIQUE: added). */
static trib_quality_failure
run_set(trib_quality *c, const trib_jvalue *v)
{
	size_t		before;

	if (c->kind == TRIB_QC_ALLOWED)
	{
		if (c->by_text && (v->kind == TRIB_J_OBJECT || v->kind == TRIB_J_ARRAY))
			return TRIB_QCF_NOT_ALLOWED;
		canonical(c, v);
		return trib_intern_find(c->set, c->canon.data, c->canon.len)
			? TRIB_QCF_NONE : TRIB_QCF_NOT_ALLOWED;
	}
	canonical(c, v);
	before = trib_intern_count(c->set);
	(void) trib_intern_get(c->set, c->canon.data, c->canon.len);
	return trib_intern_count(c->set) > before ? TRIB_QCF_NONE : TRIB_QCF_DUPLICATE;
}

bool
trib_quality_eval(trib_quality *c, const char *column, const trib_jvalue *v,
				  trib_quality_failure *failure, char *why, size_t whylen,
				  char *errbuf, size_t errlen)
{
	*failure = TRIB_QCF_NONE;
	if (whylen)
		why[0] = '\0';
	if (c->kind == TRIB_QC_LUA)
		return run_lua(c, column, v, failure, why, whylen, errbuf, errlen);
	if (v->kind == TRIB_J_NULL)
	{
		if (c->kind == TRIB_QC_NOT_NULL)
			*failure = TRIB_QCF_NULL;
		return true;
	}
	switch (c->kind)
	{
		case TRIB_QC_TYPE:
			if (!trib_jvalue_is(v, c->type))
				*failure = TRIB_QCF_TYPE;
			return true;
		case TRIB_QC_RANGE:
			*failure = run_range(c, v);
			return true;
		case TRIB_QC_REGEX:
			return run_regex(c, v, failure, errbuf, errlen);
		case TRIB_QC_ALLOWED:
		case TRIB_QC_UNIQUE:
			*failure = run_set(c, v);
			return true;
		default:
			return true;
	}
}

void
trib_quality_describe(const trib_quality *c, trib_quality_failure failure,
					  const char *why, const trib_jvalue *v, char *reason,
					  size_t reasonlen)
{
	static const char *const plain[] = {
		[TRIB_QCF_NULL] = "is null",
		[TRIB_QCF_NOT_NUMBER] = "not a number",
		[TRIB_QCF_NO_MATCH] = "does not match the pattern",
		[TRIB_QCF_DUPLICATE] = "duplicate value in this batch",
		[TRIB_QCF_LUA] = NULL,
	};
	const char *n = c->name;

	if ((size_t) failure < TRIB_NWORDS(plain) && plain[failure] != NULL)
		snprintf(reason, reasonlen, "%s: %s", n, plain[failure]);
	else if (failure == TRIB_QCF_TYPE)
		snprintf(reason, reasonlen, "%s: expected %s, got a %s", n,
				 trib_jvalue_type_name(c->type), trib_jvalue_kind_name(v->kind));
	else if (failure == TRIB_QCF_BELOW || failure == TRIB_QCF_ABOVE)
		snprintf(reason, reasonlen, "%s: %s %s%s", n,
				 failure == TRIB_QCF_BELOW ? "below the minimum" : "above the maximum",
				 failure == TRIB_QCF_BELOW ? c->min_text : c->max_text,
				 (failure == TRIB_QCF_BELOW ? c->min_excl : c->max_excl) ? " (exclusive)" : "");
	else if (failure == TRIB_QCF_NOT_ALLOWED)
		snprintf(reason, reasonlen, "%s: not one of the %zu allowed values", n,
				 trib_intern_count(c->set));
	else if (failure == TRIB_QCF_LUA)
		snprintf(reason, reasonlen, "%s: %s", n, why && why[0] ? why : "custom check failed");
	else
		snprintf(reason, reasonlen, "%s", "");
}

bool
trib_quality_run(trib_quality *c, const char *column, const trib_jvalue *v,
				 bool *pass, char *reason, size_t reasonlen, char *errbuf,
				 size_t errlen)
{
	trib_quality_failure f;
	char		why[256];

	*pass = true;
	if (reasonlen)
		reason[0] = '\0';
	if (!trib_quality_eval(c, column, v, &f, why, sizeof(why), errbuf, errlen))
		return false;
	*pass = f == TRIB_QCF_NONE;
	if (!*pass)
		trib_quality_describe(c, f, why, v, reason, reasonlen);
	return true;
}

bool
trib_quality_kind_parse(const char *s, trib_quality_kind *out)
{
	int			i = trib_words_find(kind_names, TRIB_NWORDS(kind_names), s);

	if (i >= 0)
		*out = (trib_quality_kind) i;
	return i >= 0;
}
