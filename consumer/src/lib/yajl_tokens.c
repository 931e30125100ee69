/*
 * yajl_tokens.c: yajl's nine token callbacks, each a call of one of the
 * four handlers of a trib_ytok_ops (see yajl_tokens.h): the table comes
 * from TRIB_YTOK_CALLBACKS over four handlers that call through the ops.
 */
#include "yajl_tokens.h"

/* See yajl_tokens.h: each passes the token on to ops. */
int
trib_ytok_fwd_scalar(void *ctx, yajl_type type, const char *s, size_t n)
{
	trib_ytok  *t = ctx;

	return t->ops->scalar(t->ctx, type, s, n);
}

int
trib_ytok_fwd_key(void *ctx, const unsigned char *s, size_t n)
{
	trib_ytok  *t = ctx;

	return t->ops->key(t->ctx, s, n);
}

int
trib_ytok_fwd_open(void *ctx, bool array)
{
	trib_ytok  *t = ctx;

	return t->ops->open(t->ctx, array);
}

int
trib_ytok_fwd_close(void *ctx, bool array)
{
	trib_ytok  *t = ctx;

	return t->ops->close(t->ctx, array);
}

TRIB_YTOK_CALLBACKS(tok_callbacks, trib_ytok_fwd_scalar, trib_ytok_fwd_key, trib_ytok_fwd_open,
					trib_ytok_fwd_close);

/* See yajl_tokens.h. */
yajl_handle
trib_ytok_alloc(trib_ytok *t, yajl_alloc_funcs *funcs)
{
	return yajl_alloc(&tok_callbacks, funcs, t);
}
