/*
 * yajl_tokens.h: one set of yajl callbacks that funnels yajl's nine
 * token callbacks into four handlers a streaming parser writes.
 *
 * Design.  Every streaming (callback) parse in the daemon treats tokens
 * the same way: the scalars (null, true, false, numbers, strings) differ
 * only in their kind and text, a key is a key, and an object and an
 * array open and close alike but for one flag.  Each parser used to
 * carry its own nine one-line callbacks to say so; here they are once.
 * A parser fills a trib_ytok_ops with its four handlers, and allocates
 * its handle with trib_ytok_alloc(), passing a trib_ytok that names the
 * ops and the parser's own state; the handlers get that state as ctx.
 *
 * A scalar's text: "null", "true" or "false" for those; a number's text
 * as lexed; a string's bytes (decoded, not NUL-terminated, n counts).
 * A handler returns what a yajl callback returns: nonzero to go on, 0 to
 * cancel the parse.
 *
 * A parser on a hot path (the PostgreSQL record parser) uses
 * TRIB_YTOK_CALLBACKS instead: the same nine callbacks, defined in the
 * parser's own file as static functions that call its four handlers
 * directly, so the compiler inlines them and no token pays for the ops
 * indirection.  yajl_tokens.c defines its own table with the same macro.
 *
 * Ownership: the trib_ytok must outlive the handle (it is yajl's ctx);
 * neither owns the other, and the caller frees the handle (yajl_free).
 */
#ifndef TRIB_YAJL_TOKENS_H
#define TRIB_YAJL_TOKENS_H

#include <stdbool.h>
#include <stddef.h>

#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

/* What a streaming parser does with each token (ctx: trib_ytok.ctx). */
typedef struct trib_ytok_ops
{
	/* type: yajl_t_null, _true, _false, _number or _string */
	int			(*scalar) (void *ctx, yajl_type type, const char *s, size_t n);
	int			(*key) (void *ctx, const unsigned char *s, size_t n);
	int			(*open) (void *ctx, bool array);
	int			(*close) (void *ctx, bool array);
} trib_ytok_ops;

/* yajl's ctx for a handle from trib_ytok_alloc. */
typedef struct trib_ytok
{
	const trib_ytok_ops *ops;
	void	   *ctx;
} trib_ytok;

/*
 * Define `static const yajl_callbacks NAME` whose nine callbacks call the
 * four handlers (trib_ytok_ops' signatures, static in the same file) with
 * yajl's ctx; pass &NAME and the handlers' ctx to yajl_alloc.
 */
#define TRIB_YTOK_CALLBACKS(NAME, SCALAR, KEY, OPEN, CLOSE) \
static int NAME##_null(void *ctx) \
{ return SCALAR(ctx, yajl_t_null, "null", 4); } \
static int NAME##_bool(void *ctx, int b) \
{ return SCALAR(ctx, b ? yajl_t_true : yajl_t_false, b ? "true" : "false", b ? 4 : 5); } \
static int NAME##_number(void *ctx, const char *s, size_t n) \
{ return SCALAR(ctx, yajl_t_number, s, n); } \
static int NAME##_string(void *ctx, const unsigned char *s, size_t n) \
{ return SCALAR(ctx, yajl_t_string, (const char *) s, n); } \
static int NAME##_key(void *ctx, const unsigned char *s, size_t n) \
{ return KEY(ctx, s, n); } \
static int NAME##_start_map(void *ctx) { return OPEN(ctx, false); } \
static int NAME##_start_array(void *ctx) { return OPEN(ctx, true); } \
static int NAME##_end_map(void *ctx) { return CLOSE(ctx, false); } \
static int NAME##_end_array(void *ctx) { return CLOSE(ctx, true); } \
static const yajl_callbacks NAME = { \
	.yajl_null = NAME##_null, \
	.yajl_boolean = NAME##_bool, \
	.yajl_number = NAME##_number, \
	.yajl_string = NAME##_string, \
	.yajl_start_map = NAME##_start_map, \
	.yajl_map_key = NAME##_key, \
	.yajl_end_map = NAME##_end_map, \
	.yajl_start_array = NAME##_start_array, \
	.yajl_end_array = NAME##_end_array, \
}

/* The four handlers of a trib_ytok (ctx): each passes its token on to
 * t->ops with t->ctx (for a walk that takes handlers, not an ops table). */
int			trib_ytok_fwd_scalar(void *ctx, yajl_type type, const char *s, size_t n);
int			trib_ytok_fwd_key(void *ctx, const unsigned char *s, size_t n);
int			trib_ytok_fwd_open(void *ctx, bool array);
int			trib_ytok_fwd_close(void *ctx, bool array);

/* A yajl handle whose callbacks go to t->ops (funcs: NULL for malloc);
 * NULL when yajl_alloc fails. */
yajl_handle trib_ytok_alloc(trib_ytok *t, yajl_alloc_funcs *funcs);

#endif							/* TRIB_YAJL_TOKENS_H */
