/*
 * jscan_tokens.h: the tokens of a plain JSON text (lib/jscan.h) handed to
 * the four handlers of a streaming parser (lib/yajl_tokens.h), without
 * yajl.
 *
 * Design.  A streaming parser writes its handlers once (trib_ytok_ops) and
 * gets its tokens from yajl.  yajl costs about 40 instructions a byte with
 * its callbacks; most texts on the hot paths are our own plugin's output,
 * plain JSON as lib/jscan.h defines it (no escapes, no control
 * characters).  TRIB_JSTOK_WALKER defines a walk of such a text with
 * jscan's checks that calls the same handlers, with the same arguments, in the same order
 * as yajl would: a string's bytes (its text is its decoded value, having
 * no escapes), a number's text as written, "true" "false" "null".  While
 * a handler runs, sc->i is the offset just past the current token, as
 * yajl_get_bytes_consumed is inside a yajl callback.
 *
 * What it does not take (an escape, a control character, nesting past
 * TRIB_JSCAN_MAX_DEPTH, anything after the value but whitespace, any
 * grammar error) it reports as TRIB_JSTOK_NOT_PLAIN, maybe after some
 * handlers ran: the caller undoes what they wrote and gives the text to
 * yajl, which judges it and reports its error.  No allocation.
 */
#ifndef TRIB_JSCAN_TOKENS_H
#define TRIB_JSCAN_TOKENS_H

#include "jscan.h"
#include "yajl_tokens.h"

/* What a TRIB_JSTOK_WALKER walk returns. */
typedef enum trib_jstok_result
{
	TRIB_JSTOK_OK,				/* the whole text, every handler returned 1 */
	TRIB_JSTOK_STOPPED,			/* a handler returned 0 */
	TRIB_JSTOK_NOT_PLAIN		/* not plain JSON or not JSON: ask yajl */
} trib_jstok_result;

/*
 * TRIB_JSTOK_WALKER(NAME, SCALAR, KEY, OPEN, CLOSE, KNOWN) defines
 * `static trib_jstok_result NAME(trib_jscan *sc, void *ctx)`: the walk of
 * the one JSON value in sc->s[0..len) (from sc->i, normally 0) with the
 * four handlers (trib_ytok_ops' signatures,
 * static in the caller's file) called directly, so that a hot path's
 * handlers inline, as TRIB_YTOK_CALLBACKS does for yajl.  KNOWN(ctx, sc),
 * asked before each object member's name, may return the length n of a
 * name the caller recognises at sc->i without a scan: sc->s[sc->i] and
 * sc->s[sc->i + n + 1] are quotes and the n bytes between are plain (no
 * quote, backslash or control character, valid UTF-8); 0 scans it.
 */
#define TRIB_JSTOK_WALKER(NAME, SCALAR, KEY, OPEN, CLOSE, KNOWN) \
static trib_jstok_result NAME##_value(trib_jscan *sc, void *ctx, int depth); \
static inline trib_jstok_result \
NAME##_rc(int rc) \
{ return rc ? TRIB_JSTOK_OK : TRIB_JSTOK_STOPPED; } \
static inline trib_jstok_result \
NAME##_scalar(trib_jscan *sc, void *ctx) \
{ \
	const char *t = (const char *) sc->s; \
	size_t		start = sc->i; \
	int			kind; \
\
	if (!trib_jscan_scalar(sc, &kind)) \
		return TRIB_JSTOK_NOT_PLAIN; \
	switch (kind) \
	{ \
		case TRIB_JS_STRING: \
			return NAME##_rc(SCALAR(ctx, yajl_t_string, t + start + 1, sc->i - start - 2)); \
		case TRIB_JS_NUMBER: \
			return NAME##_rc(SCALAR(ctx, yajl_t_number, t + start, sc->i - start)); \
		case TRIB_JS_TRUE: \
			return NAME##_rc(SCALAR(ctx, yajl_t_true, "true", 4)); \
		case TRIB_JS_FALSE: \
			return NAME##_rc(SCALAR(ctx, yajl_t_false, "false", 5)); \
		default: \
			return NAME##_rc(SCALAR(ctx, yajl_t_null, "null", 4)); \
	} \
} \
static inline trib_jstok_result \
NAME##_key(trib_jscan *sc, void *ctx) \
{ \
	size_t		cs, \
				ce, \
				n; \
\
	if (trib_jscan_peek(sc) != '"') \
		return TRIB_JSTOK_NOT_PLAIN; \
	if ((n = KNOWN(ctx, sc)) > 0) \
	{ \
		cs = sc->i + 1; \
		ce = cs + n; \
		sc->i = ce + 1; \
	} \
	else if (!trib_jscan_string(sc, &cs, &ce)) \
		return TRIB_JSTOK_NOT_PLAIN; \
	if (!KEY(ctx, sc->s + cs, ce - cs)) \
		return TRIB_JSTOK_STOPPED; \
	if (trib_jscan_peek(sc) != ':') \
		return TRIB_JSTOK_NOT_PLAIN; \
	sc->i++; \
	return TRIB_JSTOK_OK; \
} \
static trib_jstok_result \
NAME##_container(trib_jscan *sc, void *ctx, int depth) \
{ \
	bool		array = sc->s[sc->i] == '['; \
	int			close = array ? ']' : '}'; \
	trib_jstok_result r; \
\
	if (depth > TRIB_JSCAN_MAX_DEPTH) \
		return TRIB_JSTOK_NOT_PLAIN; \
	sc->i++; \
	if (!OPEN(ctx, array)) \
		return TRIB_JSTOK_STOPPED; \
	if (trib_jscan_peek(sc) != close) \
		for (;;) \
		{ \
			if (!array && (r = NAME##_key(sc, ctx)) != TRIB_JSTOK_OK) \
				return r; \
			if ((r = NAME##_value(sc, ctx, depth + 1)) != TRIB_JSTOK_OK) \
				return r; \
			if (trib_jscan_peek(sc) != ',') \
				break; \
			sc->i++; \
		} \
	if (trib_jscan_peek(sc) != close) \
		return TRIB_JSTOK_NOT_PLAIN; \
	sc->i++; \
	return NAME##_rc(CLOSE(ctx, array)); \
} \
static trib_jstok_result \
NAME##_value(trib_jscan *sc, void *ctx, int depth) \
{ \
	int			c = trib_jscan_peek(sc); \
\
	if (c == '{' || c == '[') \
		return NAME##_container(sc, ctx, depth); \
	if (c < 0) \
		return TRIB_JSTOK_NOT_PLAIN; \
	return NAME##_scalar(sc, ctx); \
} \
static trib_jstok_result \
NAME(trib_jscan *sc, void *ctx) \
{ \
	trib_jstok_result r = NAME##_value(sc, ctx, 0); \
\
	if (r == TRIB_JSTOK_OK && trib_jscan_peek(sc) >= 0) \
		return TRIB_JSTOK_NOT_PLAIN; \
	return r; \
}

#endif							/* TRIB_JSCAN_TOKENS_H */
