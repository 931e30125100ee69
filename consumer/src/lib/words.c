/*
 * words.c: enum values and their config words (see words.h).
 */
#include "words.h"

#include <string.h>
#include <strings.h>

#include "errf.h"
#include "strbuf.h"

int
trib_words_find(const char *const *words, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (words[i] != NULL && strcmp(words[i], s) == 0)
			return (int) i;
	return -1;
}

/* The index of s[0..len) in list, compared by cmp (strncmp's kind). */
static int
find_span(const char *const *list, const char *s, size_t len,
		  int (*cmp) (const char *, const char *, size_t))
{
	for (int i = 0; list != NULL && list[i] != NULL; i++)
		if (strlen(list[i]) == len && cmp(list[i], s, len) == 0)
			return i;
	return -1;
}

/* See words.h. */
int
trib_words_find_span(const char *const *list, const char *s, size_t len)
{
	return find_span(list, s, len, strncmp);
}

/* See words.h. */
int
trib_words_find_span_ci(const char *const *list, const char *s, size_t len)
{
	return find_span(list, s, len, strncasecmp);
}

bool
trib_words_parse(const char *const *words, size_t n, const char *s, const char *what,
				 int *out, char *errbuf, size_t errlen)
{
	trib_strbuf accepted = {0};

	if ((*out = trib_words_find(words, n, s)) >= 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (words[i] != NULL)
			trib_strbuf_printf(&accepted, "%s%s", accepted.len ? ", " : "", words[i]);
	trib_errf(errbuf, errlen, "unknown %s \"%s\" (accepted: %s)", what, s,
			  accepted.data ? accepted.data : "");
	trib_strbuf_free(&accepted);
	return false;
}

const char *
trib_words_name(const char *const *words, size_t n, int i)
{
	return i >= 0 && (size_t) i < n && words[i] != NULL ? words[i] : "?";
}
