/*
 * jscan_tokens.c: a plain JSON text's tokens to a streaming parser's
 * handlers, without yajl (see jscan_tokens.h).
 *
 * Design.  One recursive walk (the depth bounded by TRIB_JSCAN_MAX_DEPTH),
 * written once as jscan_tokens.h's TRIB_JSTOK_WALKER: a container calls
 * open, then per member the key (objects) and the value, then close; a
 * scalar is checked by jscan and its text handed over.  Each handler is
 * called once its token has been checked and sc->i moved past it, as yajl
 * calls them.  Here the handlers are an ops table's, through a trib_ytok.
 */
#include "jscan_tokens.h"

TRIB_JSTOK_WALKER(walk_ops, trib_ytok_fwd_scalar, trib_ytok_fwd_key, trib_ytok_fwd_open,
				  trib_ytok_fwd_close, trib_jstok_no_known_name)

/* See jscan_tokens.h. */
trib_jstok_result
trib_jscan_tokens(trib_jscan *sc, const trib_ytok_ops *ops, void *ctx)
{
	trib_ytok	t = {ops, ctx};

	return walk_ops(sc, &t);
}
