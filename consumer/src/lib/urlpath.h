/*
 * urlpath.h: percent-decoding of URL paths in two steps, so that an
 * encoded '/' (%2F) stays inside a path segment.
 *
 * The HTTP server decodes a request's path and arguments with
 * trib_url_unescape_path(), which decodes every %HH except %2F and %25
 * (the '/' that would split a segment, and the '%' that would make a
 * later %2F); a route that splits the path into segments then decodes
 * those two in each segment with trib_url_unescape_segment().  A subject
 * named "a/b" is requested as /subjects/a%2Fb/versions, and "a%2Fb" as
 * /subjects/a%252Fb/versions: each escape is decoded exactly once.
 * Invalid escapes ('%' not followed by two hex digits) are kept as they
 * are, as libmicrohttpd's own decoder does.  %00 is kept too, by both
 * steps: decoded, it would end the C string there, and
 * /subjects/a%00b/versions would be served as /subjects/a.
 */
#ifndef TRIB_URLPATH_H
#define TRIB_URLPATH_H

#include <stddef.h>

/* Decode s in place but %2F and %25 (either case); returns the new
 * length.  s stays NUL-terminated. */
size_t		trib_url_unescape_path(char *s);

/* Decode the %2F and %25 a path segment kept, in place. */
void		trib_url_unescape_segment(char *s);

#endif							/* TRIB_URLPATH_H */
