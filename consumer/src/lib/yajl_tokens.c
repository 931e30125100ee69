/*
 * yajl_tokens.c: yajl's nine token callbacks, each a call of one of the
 * four handlers of a trib_ytok_ops (see yajl_tokens.h).
 */
#include "yajl_tokens.h"

static int
tok_null(void *ctx)
{
	trib_ytok  *t = ctx;

	return t->ops->scalar(t->ctx, yajl_t_null, "null", 4);
}

static int
tok_bool(void *ctx, int b)
{
	trib_ytok  *t = ctx;

	return t->ops->scalar(t->ctx, b ? yajl_t_true : yajl_t_false,
						  b ? "true" : "false", b ? 4 : 5);
}

static int
tok_number(void *ctx, const char *s, size_t n)
{
	trib_ytok  *t = ctx;

	return t->ops->scalar(t->ctx, yajl_t_number, s, n);
}

static int
tok_string(void *ctx, const unsigned char *s, size_t n)
{
	trib_ytok  *t = ctx;

	return t->ops->scalar(t->ctx, yajl_t_string, (const char *) s, n);
}

static int
tok_key(void *ctx, const unsigned char *s, size_t n)
{
	trib_ytok  *t = ctx;

	return t->ops->key(t->ctx, s, n);
}

static int
tok_start_map(void *ctx)
{
	trib_ytok  *t = ctx;

	return t->ops->open(t->ctx, false);
}

static int
tok_start_array(void *ctx)
{
	trib_ytok  *t = ctx;

	return t->ops->open(t->ctx, true);
}

static int
tok_end_map(void *ctx)
{
	trib_ytok  *t = ctx;

	return t->ops->close(t->ctx, false);
}

static int
tok_end_array(void *ctx)
{
	trib_ytok  *t = ctx;

	return t->ops->close(t->ctx, true);
}

static const yajl_callbacks tok_callbacks = {
	.yajl_null = tok_null,
	.yajl_boolean = tok_bool,
	.yajl_number = tok_number,
	.yajl_string = tok_string,
	.yajl_start_map = tok_start_map,
	.yajl_map_key = tok_key,
	.yajl_end_map = tok_end_map,
	.yajl_start_array = tok_start_array,
	.yajl_end_array = tok_end_array,
};

/* See yajl_tokens.h. */
yajl_handle
trib_ytok_alloc(trib_ytok *t, yajl_alloc_funcs *funcs)
{
	return yajl_alloc(&tok_callbacks, funcs, t);
}
