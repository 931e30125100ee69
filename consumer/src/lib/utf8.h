/*
 * utf8.h: the UTF-8 operations of the daemon: sequence length,
 * decoding, validation and counting characters.
 *
 * Design.  Masks count characters, not bytes ("José" is four characters
 * and masks to "****"), dictionaries must be valid UTF-8, and the JSON
 * writers (envelope, log) copy well-formed sequences and replace the
 * rest.  One rule decides what is well-formed, trib_utf8_seqlen(), strict
 * as RFC 3629 (no overlong forms, no surrogates, nothing above U+10FFFF),
 * so a value that passed trib_utf8_valid() decodes the same way
 * everywhere.  It is inline: the envelope calls it for every non-ASCII
 * character it writes.
 */
#ifndef TRIB_UTF8_H
#define TRIB_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The length of the well-formed UTF-8 sequence at s (n >= 1 bytes left):
 * 1 to 4, or 0 when it is ill-formed or cut short by n.
 */
static inline size_t
trib_utf8_seqlen(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *) str;
	unsigned char c = s[0];
	size_t		len;
	unsigned char lo = 0x80;
	unsigned char hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
	{
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;			/* no overlong forms */
		else if (c == 0xED)
			hi = 0x9F;			/* no surrogates */
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;			/* nothing above U+10FFFF */
	}
	else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

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

/*
 * A malloc'd, NUL-terminated copy of s[0..len) with each ill-formed byte
 * replaced by U+FFFD, for text a client sent that an answer quotes (a
 * path, a name): the JSON writers refuse ill-formed UTF-8.
 */
char	   *trib_utf8_scrub(const char *s, size_t len);

#endif							/* TRIB_UTF8_H */
