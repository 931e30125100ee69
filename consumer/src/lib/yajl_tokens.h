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

/* A yajl handle whose callbacks go to t->ops (funcs: NULL for malloc);
 * NULL when yajl_alloc fails. */
yajl_handle trib_ytok_alloc(trib_ytok *t, yajl_alloc_funcs *funcs);

#endif							/* TRIB_YAJL_TOKENS_H */
