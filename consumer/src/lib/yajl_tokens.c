/*
 * yajl_tokens.c: yajl's nine token callbacks, each a call of one of the
 * four handlers of a trib_ytok_ops (see yajl_tokens.h): the table comes
 * from TRIB_YTOK_CALLBACKS over four handlers that call through the ops.
 */
#include "yajl_tokens.h"

/* The four handlers of a trib_ytok: each passes the token on to ops. */
static int
ops_scalar(void *ctx, yajl_type type, const char *s, size_t n)
{
	trib_ytok  *t = ctx;

	return t->ops->scalar(t->ctx, type, s, n);
}

static int
ops_key(void *ctx, const unsigned char *s, size_t n)
{
	trib_ytok  *t = ctx;

	return t->ops->key(t->ctx, s, n);
}

static int
ops_open(void *ctx, bool array)
{
	trib_ytok  *t = ctx;

	return t->ops->open(t->ctx, array);
}

static int
ops_close(void *ctx, bool array)
{
	trib_ytok  *t = ctx;

	return t->ops->close(t->ctx, array);
}

TRIB_YTOK_CALLBACKS(tok_callbacks, ops_scalar, ops_key, ops_open, ops_close);

/* See yajl_tokens.h. */
yajl_handle
trib_ytok_alloc(trib_ytok *t, yajl_alloc_funcs *funcs)
{
	return yajl_alloc(&tok_callbacks, funcs, t);
}
