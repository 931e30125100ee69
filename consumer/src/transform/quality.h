/*
 * quality.h: data-quality checks on one value of a row image (not-null,
 * type, range, regex, allowed set, uniqueness within a batch, custom Lua).
 *
 * Design.  Like the masking strategies (mask.h), a check is compiled once
 * from its spec (the regex with PCRE2, JIT-compiled when the platform
 * has it; the allowed set into a hash set; the Lua expression into the
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
 * Threads: a check keeps match data and, for unique, the batch's set; use
 * one per thread.
 *
 * Ownership: trib_qcheck_new() copies what it keeps from the spec except
 * `lua` (borrowed; must outlive the check).  trib_qcheck_free() frees the
 * compiled Lua expression too.
 */
#ifndef TRIB_QUALITY_H
#define TRIB_QUALITY_H

#include <stdbool.h>
#include <stddef.h>

#include "jvalue.h"
#include "lua_expr.h"

typedef enum trib_qc_kind
{
	TRIB_QC_NOT_NULL = 0,
	TRIB_QC_TYPE,
	TRIB_QC_RANGE,
	TRIB_QC_REGEX,
	TRIB_QC_ALLOWED,
	TRIB_QC_UNIQUE,
	TRIB_QC_LUA
} trib_qc_kind;

/* What TRIB_QC_TYPE expects. */
typedef enum trib_qc_type
{
	TRIB_QT_STRING = 0,
	TRIB_QT_NUMBER,
	TRIB_QT_INTEGER,			/* a number without fraction: 12, 1e3; not
								 * 12.5 (12.0 counts: its value is whole) */
	TRIB_QT_BOOLEAN,
	TRIB_QT_OBJECT,
	TRIB_QT_ARRAY,
	TRIB_QT_DATE,				/* a string YYYY-MM-DD (valid date) */
	TRIB_QT_TIMESTAMP,			/* a string date + time (+ zone) */
	TRIB_QT_UUID				/* a string 8-4-4-4-12 hex digits */
} trib_qc_type;

typedef struct trib_qc_spec
{
	trib_qc_kind kind;
	const char *name;			/* labels reasons and errors ("amount_range") */

	/* TYPE */
	trib_qc_type type;

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

	/* LUA: a filter-mode expression; `value` and `column` are the checked
	 * value, the bound event is visible; may return (false, "reason") */
	trib_lua   *lua;
	const char *lua_src;
} trib_qc_spec;

typedef struct trib_qcheck trib_qcheck;

/* Compile; NULL with errbuf filled (bad bound, bad regex with offset,
 * a non-scalar allowed value, a Lua syntax error). */
trib_qcheck *trib_qcheck_new(const trib_qc_spec *spec, char *errbuf,
							 size_t errlen);

void		trib_qcheck_free(trib_qcheck *c);

/* UNIQUE: forget the values seen (call at the start of every batch). */
void		trib_qcheck_batch_reset(trib_qcheck *c);

/*
 * Check value v of column (for LUA the caller has bound the event with
 * trib_lua_bind).  *pass and reason (never the value) on success; false
 * with errbuf filled when the check could not be evaluated.
 */
bool		trib_qcheck_run(trib_qcheck *c, const char *column,
							const trib_jvalue *v, bool *pass, char *reason,
							size_t reasonlen, char *errbuf, size_t errlen);

/* Config words: "not_null", "type", "range", "regex", "allowed",
 * "unique", "lua"; and the type names "string", "number", "integer",
 * "boolean", "object", "array", "date", "timestamp", "uuid". */
bool		trib_qc_kind_parse(const char *s, trib_qc_kind *out);
bool		trib_qc_type_parse(const char *s, trib_qc_type *out);

#endif							/* TRIB_QUALITY_H */
