/*
 * utf8.h: the few UTF-8 operations the masking strategies need.
 *
 * Design.  Masks count characters, not bytes ("José" is four characters
 * and masks to "****"), and dictionaries must be valid UTF-8.  The
 * decoder is strict (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF) so a value that passed trib_utf8_valid() decodes the same
 * way everywhere.
 */
#ifndef TRIB_UTF8_H
#define TRIB_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when s[0..len) is well-formed UTF-8 (NUL bytes are allowed). */
bool		trib_utf8_valid(const char *s, size_t len);

/*
 * Decode the character at s[i] (i < len): store its code point in *cp and
 * return its length in bytes.  An ill-formed byte decodes as U+FFFD with
 * length 1, so loops always advance.
 */
size_t		trib_utf8_next(const char *s, size_t len, size_t i, uint32_t *cp);

/* The number of characters in s[0..len) (ill-formed bytes count one each). */
size_t		trib_utf8_count(const char *s, size_t len);

#endif							/* TRIB_UTF8_H */
