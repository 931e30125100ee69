/*
 * quality.c: data-quality checks (see quality.h).
 *
 * Values are compared in a canonical text: "s:" + the string, "n:" + the
 * number's canonical decimal (decimal.c, so 1.50 and 1.5 are one value),
 * "b:true"/"b:false", "j:" + the JSON text of objects and arrays.  The
 * allowed set and the batch's seen values are open-addressing hash sets
 * (FNV-1a) of such texts.
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
#include "isodate.h"

#define MATCH_LIMIT 1000000
#define DEPTH_LIMIT 10000

/* ---- a set of byte strings ----------------------------------------------- */

typedef struct strset
{
	char	  **keys;			/* NULL: empty slot */
	size_t	   *lens;
	size_t		cap;			/* power of two */
	size_t		count;
} strset;

static uint64_t
fnv1a(const char *s, size_t n)
{
	uint64_t	h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char) s[i]) * 1099511628211ULL;
	return h;
}

static void
strset_clear(strset *s)
{
	for (size_t i = 0; i < s->cap; i++)
	{
		free(s->keys[i]);
		s->keys[i] = NULL;
	}
	s->count = 0;
}

static void
strset_free(strset *s)
{
	strset_clear(s);
	free(s->keys);
	free(s->lens);
	memset(s, 0, sizeof(*s));
}

/* The slot of key, or of the empty slot where it would go. */
static size_t
strset_slot(const strset *s, const char *k, size_t n)
{
	size_t		i = (size_t) fnv1a(k, n) & (s->cap - 1);

	while (s->keys[i] &&
		   (s->lens[i] != n || memcmp(s->keys[i], k, n) != 0))
		i = (i + 1) & (s->cap - 1);
	return i;
}

static void strset_grow(strset *s);

/* Add key; false if it was there already. */
static bool
strset_add(strset *s, const char *k, size_t n)
{
	size_t		i;

	if (s->count + 1 > s->cap / 2)
		strset_grow(s);
	i = strset_slot(s, k, n);
	if (s->keys[i])
		return false;
	s->keys[i] = trib_xstrndup(k, n);
	s->lens[i] = n;
	s->count++;
	return true;
}

static void
strset_grow(strset *s)
{
	strset		old = *s;

	s->cap = old.cap ? old.cap * 2 : 64;
	s->keys = trib_xcalloc(s->cap, sizeof(char *));
	s->lens = trib_xcalloc(s->cap, sizeof(size_t));
	s->count = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.keys[i])
		{
			size_t		j = strset_slot(s, old.keys[i], old.lens[i]);

			s->keys[j] = old.keys[i];
			s->lens[j] = old.lens[i];
			s->count++;
		}
	free(old.keys);
	free(old.lens);
}

static bool
strset_has(const strset *s, const char *k, size_t n)
{
	return s->cap && s->keys[strset_slot(s, k, n)] != NULL;
}

/* ---- the check ----------------------------------------------------------- */

struct trib_qcheck
{
	trib_qc_kind kind;
	char	   *name;
	trib_qc_type type;
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
	strset		set;			/* ALLOWED: the set; UNIQUE: seen values */
	trib_lua_expr *lua;
	trib_strbuf canon;			/* scratch */
};

/* The canonical text of v into c->canon; false for a non-number "n:". */
static void
canonical(trib_qcheck *c, const trib_jvalue *v)
{
	trib_dec	d;

	c->canon.len = 0;
	switch (v->kind)
	{
		case TRIB_J_NUMBER:
			if (trib_dec_parse(v->text, v->len, &d))
			{
				trib_strbuf_adds(&c->canon, "n:");
				trib_dec_canonical(&d, &c->canon);
				trib_dec_free(&d);
				return;
			}
			trib_strbuf_adds(&c->canon, "n:");
			break;
		case TRIB_J_STRING:
			trib_strbuf_adds(&c->canon, "s:");
			break;
		case TRIB_J_BOOL:
			trib_strbuf_adds(&c->canon, "b:");
			break;
		default:
			trib_strbuf_adds(&c->canon, "j:");
			break;
	}
	trib_strbuf_add(&c->canon, v->text, v->len);
}

static const char *const type_names[] = {
	"string", "number", "integer", "boolean", "object", "array", "date",
	"timestamp", "uuid"
};

static const char *const kind_names[] = {
	"not_null", "type", "range", "regex", "allowed", "unique", "lua"
};

static const char *
jkind_name(trib_jkind k)
{
	static const char *const n[] = {"null", "boolean", "number", "string",
	"object", "array"};

	return n[k];
}

/* Parse a range bound. */
static bool
parse_bound(const char *text, const char *which, trib_dec *d, char **copy,
			char *errbuf, size_t errlen)
{
	if (!trib_dec_parse(text, strlen(text), d))
	{
		snprintf(errbuf, errlen, "range: %s must be a number, not \"%s\"",
				 which, text);
		return false;
	}
	*copy = trib_xstrdup(text);
	return true;
}

static bool
compile_regex(trib_qcheck *c, const trib_qc_spec *s, char *errbuf,
			  size_t errlen)
{
	int			rc;
	PCRE2_SIZE	off;

	if (s->pattern == NULL)
	{
		snprintf(errbuf, errlen, "regex: a pattern is needed");
		return false;
	}
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

static bool
compile_allowed(trib_qcheck *c, const trib_qc_spec *s, char *errbuf,
				size_t errlen)
{
	for (size_t i = 0; i < s->nallowed; i++)
	{
		char		err[128];
		yajl_val	v = yajl_tree_parse(s->allowed[i], err, sizeof(err));
		trib_strbuf scratch = {0};
		trib_jvalue	mv;

		if (v == NULL || YAJL_IS_OBJECT(v) || YAJL_IS_ARRAY(v) || YAJL_IS_NULL(v))
		{
			snprintf(errbuf, errlen, "allowed: value %zu (%s) must be a JSON "
					 "string, number or boolean (strings in quotes)", i + 1,
					 s->allowed[i]);
			yajl_tree_free(v);
			return false;
		}
		trib_jvalue_from_yajl(v, NULL, &mv, &scratch);
		canonical(c, &mv);
		strset_add(&c->set, c->canon.data, c->canon.len);
		trib_strbuf_free(&scratch);
		yajl_tree_free(v);
	}
	if (s->nallowed == 0)
	{
		snprintf(errbuf, errlen, "allowed: the set is empty");
		return false;
	}
	return true;
}

/* Compile the kind-specific parts of s into c. */
static bool
compile(trib_qcheck *c, const trib_qc_spec *s, char *errbuf, size_t errlen)
{
	switch (s->kind)
	{
		case TRIB_QC_NOT_NULL:
		case TRIB_QC_UNIQUE:
			return true;
		case TRIB_QC_TYPE:
			if ((size_t) s->type >= sizeof(type_names) / sizeof(type_names[0]))
			{
				snprintf(errbuf, errlen, "type: unknown type");
				return false;
			}
			return true;
		case TRIB_QC_RANGE:
			if (s->min == NULL && s->max == NULL)
			{
				snprintf(errbuf, errlen, "range: min, max or both are needed");
				return false;
			}
			if (s->min && !parse_bound(s->min, "min", &c->min, &c->min_text, errbuf, errlen))
				return false;
			c->has_min = s->min != NULL;
			if (s->max && !parse_bound(s->max, "max", &c->max, &c->max_text, errbuf, errlen))
				return false;
			c->has_max = s->max != NULL;
			if (c->has_min && c->has_max && trib_dec_cmp(&c->min, &c->max) > 0)
			{
				snprintf(errbuf, errlen, "range: min %s is above max %s",
						 s->min, s->max);
				return false;
			}
			return true;
		case TRIB_QC_REGEX:
			return compile_regex(c, s, errbuf, errlen);
		case TRIB_QC_ALLOWED:
			return compile_allowed(c, s, errbuf, errlen);
		case TRIB_QC_LUA:
			if (s->lua == NULL || s->lua_src == NULL)
			{
				snprintf(errbuf, errlen, "lua: an expression and a Lua state "
						 "are needed");
				return false;
			}
			c->lua = trib_lua_compile(s->lua, c->name, s->lua_src,
									  TRIB_LUA_FILTER, errbuf, errlen);
			return c->lua != NULL;
	}
	snprintf(errbuf, errlen, "unknown check %d", (int) s->kind);
	return false;
}

trib_qcheck *
trib_qcheck_new(const trib_qc_spec *spec, char *errbuf, size_t errlen)
{
	trib_qcheck *c = trib_xcalloc(1, sizeof(*c));

	c->kind = spec->kind;
	c->type = spec->type;
	c->min_excl = spec->min_exclusive;
	c->max_excl = spec->max_exclusive;
	c->name = trib_xstrdup(spec->name ? spec->name
						   : (size_t) spec->kind < 7 ? kind_names[spec->kind] : "check");
	if (!compile(c, spec, errbuf, errlen))
	{
		trib_qcheck_free(c);
		return NULL;
	}
	return c;
}

void
trib_qcheck_free(trib_qcheck *c)
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
	strset_free(&c->set);
	trib_lua_expr_free(c->lua);
	trib_strbuf_free(&c->canon);
	free(c->name);
	free(c);
}

void
trib_qcheck_batch_reset(trib_qcheck *c)
{
	if (c->kind == TRIB_QC_UNIQUE)
		strset_clear(&c->set);
}

/* ---- running ------------------------------------------------------------- */

static bool
is_uuid(const char *s, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++)
	{
		bool		dash = i == 8 || i == 13 || i == 18 || i == 23;
		char		ch = s[i];

		if (dash ? ch != '-' : !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
								 (ch >= 'A' && ch <= 'F')))
			return false;
	}
	return true;
}

/* Does v have type t? */
static bool
type_ok(trib_qc_type t, const trib_jvalue *v)
{
	trib_isodate d;
	trib_dec	dec;
	bool		ok;

	switch (t)
	{
		case TRIB_QT_STRING:
			return v->kind == TRIB_J_STRING;
		case TRIB_QT_NUMBER:
			return v->kind == TRIB_J_NUMBER;
		case TRIB_QT_INTEGER:
			if (v->kind != TRIB_J_NUMBER || !trib_dec_parse(v->text, v->len, &dec))
				return false;
			ok = dec.exp10 >= 0;
			trib_dec_free(&dec);
			return ok;
		case TRIB_QT_BOOLEAN:
			return v->kind == TRIB_J_BOOL;
		case TRIB_QT_OBJECT:
			return v->kind == TRIB_J_OBJECT;
		case TRIB_QT_ARRAY:
			return v->kind == TRIB_J_ARRAY;
		case TRIB_QT_DATE:
			return v->kind == TRIB_J_STRING && trib_isodate_parse(v->text, v->len, &d) &&
				!d.has_time;
		case TRIB_QT_TIMESTAMP:
			return v->kind == TRIB_J_STRING && trib_isodate_parse(v->text, v->len, &d) &&
				d.has_time;
		case TRIB_QT_UUID:
			return v->kind == TRIB_J_STRING && is_uuid(v->text, v->len);
	}
	return false;
}

static void
run_range(trib_qcheck *c, const trib_jvalue *v, bool *pass, char *reason,
		  size_t reasonlen)
{
	trib_dec	d;
	int			lo,
				hi;

	if ((v->kind != TRIB_J_NUMBER && v->kind != TRIB_J_STRING) ||
		!trib_dec_parse(v->text, v->len, &d))
	{
		*pass = false;
		snprintf(reason, reasonlen, "%s: not a number", c->name);
		return;
	}
	lo = c->has_min ? trib_dec_cmp(&d, &c->min) : 1;
	hi = c->has_max ? trib_dec_cmp(&d, &c->max) : -1;
	trib_dec_free(&d);
	if (lo < 0 || (lo == 0 && c->min_excl))
	{
		*pass = false;
		snprintf(reason, reasonlen, "%s: below the minimum %s%s", c->name,
				 c->min_text, c->min_excl ? " (exclusive)" : "");
	}
	else if (hi > 0 || (hi == 0 && c->max_excl))
	{
		*pass = false;
		snprintf(reason, reasonlen, "%s: above the maximum %s%s", c->name,
				 c->max_text, c->max_excl ? " (exclusive)" : "");
	}
}

static bool
run_regex(trib_qcheck *c, const trib_jvalue *v, bool *pass, char *reason,
		  size_t reasonlen, char *errbuf, size_t errlen)
{
	int			rc = pcre2_match(c->re, (PCRE2_SPTR) v->text, v->len, 0, 0,
								 c->md, c->mctx);

	if (rc >= 0)
		return true;
	if (rc == PCRE2_ERROR_NOMATCH)
	{
		*pass = false;
		snprintf(reason, reasonlen, "%s: does not match the pattern", c->name);
		return true;
	}
	{
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(rc, msg, sizeof(msg));
		snprintf(errbuf, errlen, "%s: regex: %s", c->name, (const char *) msg);
	}
	return false;
}

static bool
run_lua(trib_qcheck *c, const char *column, const trib_jvalue *v, bool *pass,
		char *reason, size_t reasonlen, char *errbuf, size_t errlen)
{
	trib_lua   *T = trib_lua_expr_state(c->lua);
	bool		ok;
	char		why[256];

	trib_lua_bind_value(T, column, v->kind == TRIB_J_NULL ? NULL : v);
	ok = trib_lua_check(c->lua, pass, why, sizeof(why), errbuf, errlen);
	trib_lua_bind_value(T, NULL, NULL);
	if (ok && !*pass)
		snprintf(reason, reasonlen, "%s: %s", c->name,
				 why[0] ? why : "custom check failed");
	return ok;
}

bool
trib_qcheck_run(trib_qcheck *c, const char *column, const trib_jvalue *v,
				bool *pass, char *reason, size_t reasonlen, char *errbuf,
				size_t errlen)
{
	*pass = true;
	if (reasonlen)
		reason[0] = '\0';
	if (c->kind == TRIB_QC_LUA)
		return run_lua(c, column, v, pass, reason, reasonlen, errbuf, errlen);
	if (v->kind == TRIB_J_NULL)
	{
		if (c->kind == TRIB_QC_NOT_NULL)
		{
			*pass = false;
			snprintf(reason, reasonlen, "%s: is null", c->name);
		}
		return true;
	}
	switch (c->kind)
	{
		case TRIB_QC_TYPE:
			if (!type_ok(c->type, v))
			{
				*pass = false;
				snprintf(reason, reasonlen, "%s: expected %s, got a %s", c->name,
						 type_names[c->type], jkind_name(v->kind));
			}
			return true;
		case TRIB_QC_RANGE:
			run_range(c, v, pass, reason, reasonlen);
			return true;
		case TRIB_QC_REGEX:
			return run_regex(c, v, pass, reason, reasonlen, errbuf, errlen);
		case TRIB_QC_ALLOWED:
			canonical(c, v);
			if (!strset_has(&c->set, c->canon.data, c->canon.len))
			{
				*pass = false;
				snprintf(reason, reasonlen, "%s: not one of the %zu allowed values",
						 c->name, c->set.count);
			}
			return true;
		case TRIB_QC_UNIQUE:
			canonical(c, v);
			if (!strset_add(&c->set, c->canon.data, c->canon.len))
			{
				*pass = false;
				snprintf(reason, reasonlen, "%s: duplicate value in this batch",
						 c->name);
			}
			return true;
		default:
			return true;
	}
}

bool
trib_qc_kind_parse(const char *s, trib_qc_kind *out)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (strcmp(s, kind_names[i]) == 0)
		{
			*out = (trib_qc_kind) i;
			return true;
		}
	return false;
}

bool
trib_qc_type_parse(const char *s, trib_qc_type *out)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcmp(s, type_names[i]) == 0)
		{
			*out = (trib_qc_type) i;
			return true;
		}
	return false;
}
