/*
 * strbuf.h: a growable string buffer.
 *
 * Design.  Start-up code (config) and the log build strings of unknown
 * length; a tiny buffer type keeps that code free of length arithmetic.
 * Out-of-memory aborts with a message: none of the callers could do
 * anything better, and it keeps every call site free of failure paths.
 *
 *     trib_strbuf b = {0};
 *     trib_strbuf_printf(&b, "%s.%s", schema, table);
 *     char *s = trib_strbuf_finish(&b);     -- caller owns s
 *
 * Ownership: the buffer owns `data` until trib_strbuf_finish() hands it
 * over (and resets the buffer) or trib_strbuf_free() releases it.  `data`
 * is NUL-terminated whenever it is not NULL.
 */
#ifndef TRIB_STRBUF_H
#define TRIB_STRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "xalloc.h"		/* strbuf users allocate too */

typedef struct trib_strbuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} trib_strbuf;

/* Make room for n more bytes and the NUL (the slow path of the appends
 * below, which are inline: the encoders call them per token). */
void		trib_strbuf_grow(trib_strbuf *b, size_t n);

/* Append n bytes of s. */
static inline void
trib_strbuf_add(trib_strbuf *b, const char *s, size_t n)
{
	if (b->cap - b->len <= n)
		trib_strbuf_grow(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Append one byte. */
static inline void
trib_strbuf_addc(trib_strbuf *b, char c)
{
	if (b->cap - b->len <= 1)
		trib_strbuf_grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void		trib_strbuf_adds(trib_strbuf *b, const char *s);
void		trib_strbuf_printf(trib_strbuf *b, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
void		trib_strbuf_vprintf(trib_strbuf *b, const char *fmt, va_list ap)
			__attribute__((format(printf, 2, 0)));

/* Hand the string over (never NULL, "" when empty) and reset the buffer. */
char	   *trib_strbuf_finish(trib_strbuf *b);

/* Release the buffer's memory and reset it. */
void		trib_strbuf_free(trib_strbuf *b);

#endif							/* TRIB_STRBUF_H */
