/*
 * jscan_tokens.c: a plain JSON text's tokens to a streaming parser's
 * handlers, without yajl (see jscan_tokens.h).
 *
 * Design.  One recursive walk (the depth bounded by TRIB_JSCAN_MAX_DEPTH):
 * a container calls open, then per member the key (objects) and the
 * value, then close; a scalar is checked by jscan and its text handed
 * over.  Each handler is called once its token has been checked and sc->i
 * moved past it, as yajl calls them.
 */
#include "jscan_tokens.h"

static trib_jstok_result walk_value(trib_jscan *sc, const trib_ytok_ops *ops,
									void *ctx, int depth);

/* 1 from a handler is OK, 0 stops. */
static trib_jstok_result
handler(int rc)
{
	return rc ? TRIB_JSTOK_OK : TRIB_JSTOK_STOPPED;
}

/* A scalar at the position (after whitespace), checked, then handed over. */
static trib_jstok_result
walk_scalar(trib_jscan *sc, const trib_ytok_ops *ops, void *ctx)
{
	const char *t = (const char *) sc->s;
	size_t		start = sc->i;
	int			kind;

	if (!trib_jscan_scalar(sc, &kind))
		return TRIB_JSTOK_NOT_PLAIN;
	switch (kind)
	{
		case TRIB_JS_STRING:
			return handler(ops->scalar(ctx, yajl_t_string, t + start + 1,
									   sc->i - start - 2));
		case TRIB_JS_NUMBER:
			return handler(ops->scalar(ctx, yajl_t_number, t + start, sc->i - start));
		case TRIB_JS_TRUE:
			return handler(ops->scalar(ctx, yajl_t_true, "true", 4));
		case TRIB_JS_FALSE:
			return handler(ops->scalar(ctx, yajl_t_false, "false", 5));
		default:
			return handler(ops->scalar(ctx, yajl_t_null, "null", 4));
	}
}

/* An object member's name and its colon, the name handed over. */
static trib_jstok_result
walk_key(trib_jscan *sc, const trib_ytok_ops *ops, void *ctx)
{
	size_t		cs,
				ce;

	if (trib_jscan_peek(sc) != '"' || !trib_jscan_string(sc, &cs, &ce))
		return TRIB_JSTOK_NOT_PLAIN;
	if (!ops->key(ctx, sc->s + cs, ce - cs))
		return TRIB_JSTOK_STOPPED;
	if (trib_jscan_peek(sc) != ':')
		return TRIB_JSTOK_NOT_PLAIN;
	sc->i++;
	return TRIB_JSTOK_OK;
}

/* An object or array whose opening bracket is at the position. */
static trib_jstok_result
walk_container(trib_jscan *sc, const trib_ytok_ops *ops, void *ctx, int depth)
{
	bool		array = sc->s[sc->i] == '[';
	int			close = array ? ']' : '}';
	trib_jstok_result r;

	if (depth > TRIB_JSCAN_MAX_DEPTH)
		return TRIB_JSTOK_NOT_PLAIN;
	sc->i++;
	if (!ops->open(ctx, array))
		return TRIB_JSTOK_STOPPED;
	if (trib_jscan_peek(sc) != close)
		for (;;)
		{
			if (!array && (r = walk_key(sc, ops, ctx)) != TRIB_JSTOK_OK)
				return r;
			if ((r = walk_value(sc, ops, ctx, depth + 1)) != TRIB_JSTOK_OK)
				return r;
			if (trib_jscan_peek(sc) != ',')
				break;
			sc->i++;
		}
	if (trib_jscan_peek(sc) != close)
		return TRIB_JSTOK_NOT_PLAIN;
	sc->i++;
	return handler(ops->close(ctx, array));
}

/* Any value at the position. */
static trib_jstok_result
walk_value(trib_jscan *sc, const trib_ytok_ops *ops, void *ctx, int depth)
{
	int			c = trib_jscan_peek(sc);

	if (c == '{' || c == '[')
		return walk_container(sc, ops, ctx, depth);
	if (c < 0)
		return TRIB_JSTOK_NOT_PLAIN;
	return walk_scalar(sc, ops, ctx);
}

/* See jscan_tokens.h. */
trib_jstok_result
trib_jscan_tokens(trib_jscan *sc, const trib_ytok_ops *ops, void *ctx)
{
	trib_jstok_result r = walk_value(sc, ops, ctx, 0);

	if (r == TRIB_JSTOK_OK && trib_jscan_peek(sc) >= 0)
		return TRIB_JSTOK_NOT_PLAIN;
	return r;
}
