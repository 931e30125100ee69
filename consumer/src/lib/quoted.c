/*
 * quoted.c: the end of a quoted text with backslash escapes (see
 * quoted.h).
 */
#include "quoted.h"

#include <stddef.h>

/* See quoted.h. */
const char *
trib_quoted_end(const char *open)
{
	const char *p = open + 1;

	while (*p != '\0' && *p != *open)
		p += (*p == '\\' && p[1] != '\0') ? 2 : 1;
	return p;
}
