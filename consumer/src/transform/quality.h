/*
 * quality.h: data-quality checks on one value of a row image (not-null,
 * type, range, regex, allowed set, uniqueness within a batch, custom Lua):
 * the one engine of the transform rules' quality checks
 * (rules_quality.c).
 *
 * Design.  Like the masking strategies (mask.h), a check is compiled once
 * from its spec (the regex with PCRE2, JIT-compiled when the platform
 * has it; the allowed set into an intern set; the Lua expression into the
 * rule engine's trib_lua) and then run per value.  A run answers pass or
 * fail with a reason; what to do on failure (drop, dead-letter, tag,
 * fail the pipeline) and the metrics are the rule engine's.  A run
 * returns false only when the check could not be evaluated (a Lua error,
 * the regex match limit), which the rule engine treats like a failure
 * it cannot tag: dead-letter.
 *
 * Nulls: every check but not_null and lua passes a null (SQL's CHECK
 * semantics; add not_null where null is wrong).  lua runs on nulls too,
 * with `value` nil.
 *
 * Reasons name the check and its parameters, never the value: they reach
 * logs and dead-letter headers, and values may be personal data.
 *
 * Numbers are compared exactly (decimal.h): a range bound that differs
 * from a 40-digit value in its last digit still decides.
 *
 * Threads: a check keeps match data and, for unique, the batch's set; use
 * one per thread.
 *
 * Ownership: trib_quality_new() copies what it keeps from the spec except
 * `lua` (borrowed; must outlive the check).  trib_quality_free() frees the
 * compiled Lua expression too.
 */
#ifndef TRIB_QUALITY_H
#define TRIB_QUALITY_H

#include <stdbool.h>
#include <stddef.h>

#include "jvalue.h"
#include "lua_expr.h"

typedef enum trib_quality_kind
{
	TRIB_QC_NOT_NULL = 0,
	TRIB_QC_TYPE,
	TRIB_QC_RANGE,
	TRIB_QC_REGEX,
	TRIB_QC_ALLOWED,
	TRIB_QC_UNIQUE,
	TRIB_QC_LUA
} trib_quality_kind;

/* Why a value failed a check. */
typedef enum trib_quality_failure
{
	TRIB_QCF_NONE = 0,			/* it passed */
	TRIB_QCF_NULL,				/* NOT_NULL: null (or missing) */
	TRIB_QCF_TYPE,				/* TYPE: another type */
	TRIB_QCF_NOT_NUMBER,		/* RANGE: not a number or numeric string */
	TRIB_QCF_BELOW,				/* RANGE: below min */
	TRIB_QCF_ABOVE,				/* RANGE: above max */
	TRIB_QCF_NO_MATCH,			/* REGEX */
	TRIB_QCF_NOT_ALLOWED,		/* ALLOWED */
	TRIB_QCF_DUPLICATE,			/* UNIQUE: seen earlier in the batch */
	TRIB_QCF_LUA				/* LUA: the expression said false */
} trib_quality_failure;

typedef struct trib_quality_spec
{
	trib_quality_kind kind;
	const char *name;			/* labels reasons and errors ("amount_range") */

	/* TYPE (jvalue.h) */
	trib_jtype	type;

	/* RANGE: numbers (or numeric strings), exact decimal comparison */
	const char *min;			/* JSON number text, NULL: no lower bound */
	const char *max;			/* JSON number text, NULL: no upper bound */
	bool		min_exclusive;
	bool		max_exclusive;

	/* REGEX: PCRE2 syntax, UTF-8; matches anywhere (anchor with ^...$);
	 * non-strings are matched against their JSON text */
	const char *pattern;
	bool		caseless;

	/* ALLOWED: JSON scalar texts ("\"EUR\"", "1", "true"); numbers match
	 * by value (1 == 1.0), strings exactly */
	const char *const *allowed;
	size_t		nallowed;

	/* ALLOWED and UNIQUE: compare texts as they stand instead of values:
	 * a string's content, a number's literal, true/false, the JSON text of
	 * an object or array ("1" the string equals 1 the number, 1.0 does
	 * not).  allowed[] are then plain texts, may be empty (only null
	 * passes), and an object or array is never allowed.  The transform
	 * rules' quality checks compare this way. */
	bool		by_text;

	/* LUA: a filter-mode expression; `value` and `column` are the checked
	 * value, the bound event is visible; may return (false, "reason") */
	trib_lua   *lua;
	const char *lua_src;
} trib_quality_spec;

typedef struct trib_quality trib_quality;

/* Compile; NULL with errbuf filled (bad bound, bad regex with offset,
 * a non-scalar allowed value, a Lua syntax error). */
trib_quality *trib_quality_new(const trib_quality_spec *spec, char *errbuf,
							  size_t errlen);

void		trib_quality_free(trib_quality *c);

/* UNIQUE: forget the values seen (call at the start of every batch). */
void		trib_quality_batch_reset(trib_quality *c);

/*
 * Check value v of column (for LUA the caller has bound the event with
 * trib_lua_bind).  *failure (TRIB_QCF_NONE when v passes) and, for
 * TRIB_QCF_LUA, the expression's own reason in why (may be ""); false
 * with errbuf filled when the check could not be evaluated.
 */
bool		trib_quality_eval(trib_quality *c, const char *column,
							  const trib_jvalue *v, trib_quality_failure *failure,
							  char *why, size_t whylen, char *errbuf,
							  size_t errlen);

/* The reason for failure of v (never the value), named after the check:
 * "amount_range: above the maximum 1000.00 (exclusive)". */
void		trib_quality_describe(const trib_quality *c, trib_quality_failure failure,
								  const char *why, const trib_jvalue *v,
								  char *reason, size_t reasonlen);

/*
 * trib_quality_eval and trib_quality_describe in one: *pass and reason
 * (empty when it passes); false with errbuf filled when the check could
 * not be evaluated.
 */
bool		trib_quality_run(trib_quality *c, const char *column,
							 const trib_jvalue *v, bool *pass, char *reason,
							 size_t reasonlen, char *errbuf, size_t errlen);

/* Config words: "not_null", "type", "range", "regex", "allowed",
 * "unique", "lua"; type names are trib_jvalue_type_parse()'s (jvalue.h). */
bool		trib_quality_kind_parse(const char *s, trib_quality_kind *out);

#endif							/* TRIB_QUALITY_H */
