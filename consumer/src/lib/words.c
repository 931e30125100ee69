/*
 * words.c: enum values and their config words (see words.h).
 */
#include "words.h"

#include <string.h>

int
trib_words_find(const char *const *words, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (words[i] != NULL && strcmp(words[i], s) == 0)
			return (int) i;
	return -1;
}

const char *
trib_words_name(const char *const *words, size_t n, int i)
{
	return i >= 0 && (size_t) i < n && words[i] != NULL ? words[i] : "?";
}
