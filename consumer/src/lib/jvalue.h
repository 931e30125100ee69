/*
 * jvalue.h: one JSON value as its kind and its text, and the JSON types a
 * value can be checked for.
 *
 * Design.  The masking strategies (mask.h), the data-quality checks
 * (quality.h) and the Lua expressions (lua_expr.h) each take one value of
 * a row image at a time.  They share one form of it, trib_jvalue: its
 * JSON kind and its text (a string's decoded UTF-8 content, a number's
 * literal exactly as written so no digit is lost, "true"/"false",
 * "null", or the JSON text of an object or array), plus the column's SQL
 * type when the source knows it.  A result comes back as a
 * trib_jvalue_buf (the same encoding, owning its text), which can be
 * written with yajl_gen or turned into a yajl tree node.
 *
 * trib_jkind is the one enum of JSON value kinds.  trib_jtype names what
 * a type check requires of a value: a kind, or a narrower form of one
 * (an integer, a date, a timestamp, a uuid).
 *
 * Ownership: a trib_jvalue points into memory its creator owns.  A
 * trib_jvalue_buf owns its text; trib_jvalue_buf_free() releases it and
 * the struct can be reused.
 */
#ifndef TRIB_JVALUE_H
#define TRIB_JVALUE_H

#include <stdbool.h>
#include <stddef.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "strbuf.h"

/* The JSON kind of a value. */
typedef enum trib_jkind
{
	TRIB_J_NULL = 0,
	TRIB_J_BOOL,
	TRIB_J_NUMBER,
	TRIB_J_STRING,
	TRIB_J_OBJECT,
	TRIB_J_ARRAY
} trib_jkind;

/*
 * One value.  text/len by kind: STRING the decoded UTF-8 content; NUMBER
 * the JSON literal as written ("12.50", "1e+30"); BOOL "true"/"false";
 * NULL "null"; OBJECT/ARRAY the JSON text.  sqltype is the column's type
 * as the source described it ("numeric(12,2)", "date", "text") or NULL.
 */
typedef struct trib_jvalue
{
	trib_jkind	kind;
	const char *text;
	size_t		len;
	const char *sqltype;
} trib_jvalue;

/* A computed value, same encoding as trib_jvalue; owns text. */
typedef struct trib_jvalue_buf
{
	trib_jkind	kind;
	trib_strbuf text;
} trib_jvalue_buf;

/*
 * Decode a yajl tree value into *out.  Strings, numbers and literals point
 * into v; objects and arrays are rendered into *scratch (reset first) and
 * *out points there, so keep v and scratch alive while *out is used.
 */
void		trib_jvalue_from_yajl(yajl_val v, const char *sqltype,
								  trib_jvalue *out, trib_strbuf *scratch);

/* "null", "boolean", "number", "string", "object", "array". */
const char *trib_jvalue_kind_name(trib_jkind k);

/* The kind of a scalar a yajl parser reports (yajl_t_null, _true, _false,
 * _number, _string). */
trib_jkind	trib_jkind_of_scalar(yajl_type type);

/* Set o to kind with text s[0..n) (its previous text is released). */
void		trib_jvalue_buf_set(trib_jvalue_buf *o, trib_jkind kind, const char *s,
								size_t n);

/* Release o's text and reset it to an empty null. */
void		trib_jvalue_buf_free(trib_jvalue_buf *o);

/* Emit o as one JSON value through g (numbers verbatim). */
bool		trib_jvalue_buf_gen(yajl_gen g, const trib_jvalue_buf *o);

/* Append o as JSON text to json. */
void		trib_jvalue_buf_json(const trib_jvalue_buf *o, trib_strbuf *json);

/* A new yajl tree node holding o (jsondoc.h; never NULL). */
yajl_val	trib_jvalue_buf_node(const trib_jvalue_buf *o);

/* ---- types a check can require ------------------------------------------ */

/*
 * The first six are, in this order, the words of the rules' `expect`
 * (config.h).  Two notions of integer exist, both in use:
 * TRIB_JT_INTEGER_TEXT (`expect: integer` of a quality rule) is a number
 * written without fraction or exponent ("12", not "12.0" or "1e3");
 * TRIB_JT_INTEGER ("integer" in trib_jvalue_type_parse, quality.h) is a number
 * whose value is whole ("12", "12.0", "1e3").
 */
typedef enum trib_jtype
{
	TRIB_JT_STRING = 0,
	TRIB_JT_NUMBER,
	TRIB_JT_INTEGER_TEXT,
	TRIB_JT_BOOLEAN,
	TRIB_JT_OBJECT,
	TRIB_JT_ARRAY,
	TRIB_JT_INTEGER,
	TRIB_JT_DATE,				/* a string YYYY-MM-DD (valid date) */
	TRIB_JT_TIMESTAMP,			/* a string date + time (+ zone) */
	TRIB_JT_UUID				/* a string 8-4-4-4-12 hex digits */
} trib_jtype;

/* Does v have type t? */
bool		trib_jvalue_is(const trib_jvalue *v, trib_jtype t);

/* "string", "number", "integer", "boolean", "object", "array", "date",
 * "timestamp", "uuid" (TRIB_JT_INTEGER; TRIB_JT_INTEGER_TEXT has no word
 * here and is named "integer" too). */
bool		trib_jvalue_type_parse(const char *s, trib_jtype *out);
const char *trib_jvalue_type_name(trib_jtype t);

#endif							/* TRIB_JVALUE_H */
