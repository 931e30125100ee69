/*
 * jscan_tokens.h: the tokens of a plain JSON text (lib/jscan.h) handed to
 * the four handlers of a streaming parser (lib/yajl_tokens.h), without
 * yajl.
 *
 * Design.  A streaming parser writes its handlers once (trib_ytok_ops) and
 * gets its tokens from yajl.  yajl costs about 40 instructions a byte with
 * its callbacks; most texts on the hot paths are our own plugin's output,
 * plain JSON as lib/jscan.h defines it (no escapes, no control
 * characters).  trib_jscan_tokens walks such a text with jscan's checks
 * and calls the same handlers, with the same arguments, in the same order
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

/* What trib_jscan_tokens returns. */
typedef enum trib_jstok_result
{
	TRIB_JSTOK_OK,				/* the whole text, every handler returned 1 */
	TRIB_JSTOK_STOPPED,			/* a handler returned 0 */
	TRIB_JSTOK_NOT_PLAIN		/* not plain JSON or not JSON: ask yajl */
} trib_jstok_result;

/* Hand the tokens of the one JSON value in sc->s[0..len) (from sc->i,
 * normally 0) to ops with ctx; see the file comment. */
trib_jstok_result trib_jscan_tokens(trib_jscan *sc, const trib_ytok_ops *ops, void *ctx);

#endif							/* TRIB_JSCAN_TOKENS_H */
