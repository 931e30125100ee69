/*
 * words.h: enum values and their config words, through a table of names.
 *
 * Design.  Every enum a config or a command line names (key formats, hash
 * encodings, alphabets, strategies, check kinds, Lua modes, fake kinds)
 * keeps one array of its words, indexed by value; these two functions are
 * the lookups in both directions, so each parse or name function is a
 * line.  A NULL entry is a value without a word.
 *
 * Spans.  A parser that meets a name inside a longer text (a `${var}`
 * placeholder, a URL's first segment, a header value up to its `;`) asks
 * whether the span s[0..len) is one of a NULL-terminated list with
 * trib_words_find_span, so that loop is written once.
 */
#ifndef TRIB_WORDS_H
#define TRIB_WORDS_H

#include <stdbool.h>
#include <stddef.h>

/* The index of s in words[0..n), or -1. */
int			trib_words_find(const char *const *words, size_t n, const char *s);

/* trib_words_find, or false and "unknown WHAT \"s\" (accepted: a, b, c)". */
bool		trib_words_parse(const char *const *words, size_t n, const char *s,
							 const char *what, int *out, char *errbuf, size_t errlen);

/* words[i], or "?" when i is out of range or has no word. */
const char *trib_words_name(const char *const *words, size_t n, int i);

/* The index of the span s[0..len) in the NULL-terminated list (NULL: an
 * empty one), compared byte for byte, or -1. */
int			trib_words_find_span(const char *const *list, const char *s, size_t len);

/* trib_words_find_span ignoring ASCII case (header values). */
int			trib_words_find_span_ci(const char *const *list, const char *s, size_t len);

/* The number of entries of a words array. */
#define TRIB_NWORDS(words) (sizeof(words) / sizeof((words)[0]))

/*
 * Define `bool fn(const char *name, type *out, char *errbuf, size_t errlen)`,
 * the parse function of an enum (int-sized) whose words are the array
 * words: trib_words_parse naming it `what` in its message.
 */
#define TRIB_WORDS_PARSER(fn, type, words, what) \
bool \
fn(const char *name, type *out, char *errbuf, size_t errlen) \
{ \
	int			i_; \
 \
	if (!trib_words_parse(words, TRIB_NWORDS(words), name, what, &i_, errbuf, errlen)) \
		return false; \
	*out = (type) i_; \
	return true; \
}

#endif							/* TRIB_WORDS_H */
