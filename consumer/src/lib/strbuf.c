/*
 * strbuf.c: growable string buffer.
 *
 * The buffer doubles its capacity, so appending n bytes one at a time costs
 * O(n).  Memory comes from xalloc.c (abort on out-of-memory).
 */
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Make room for n more bytes plus the NUL. */
static void
reserve(trib_strbuf *b, size_t n)
{
	size_t		need = b->len + n + 1;

	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->cap < need)
		b->cap *= 2;
	b->data = trib_xrealloc(b->data, b->cap);
}

/* See strbuf.h. */
void
trib_strbuf_grow(trib_strbuf *b, size_t n)
{
	reserve(b, n);
}

void
trib_strbuf_adds(trib_strbuf *b, const char *s)
{
	trib_strbuf_add(b, s, strlen(s));
}

void
trib_strbuf_vprintf(trib_strbuf *b, const char *fmt, va_list ap)
{
	va_list		ap2;
	int			n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	reserve(b, (size_t) n);
	vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	b->len += (size_t) n;
}

void
trib_strbuf_printf(trib_strbuf *b, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	trib_strbuf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* Hand the string over and reset. */
char *
trib_strbuf_finish(trib_strbuf *b)
{
	char	   *s;

	reserve(b, 0);
	b->data[b->len] = '\0';
	s = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

void
trib_strbuf_free(trib_strbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
