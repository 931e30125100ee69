/*
 * sr_buf.c: the growable string, error formatting and the difference list
 * every other file of the library writes into.
 *
 * Design.  An append that cannot grow the buffer sets a sticky `oom` flag
 * and drops the data; sr_buf_finish() then returns NULL.  Writers (the
 * canonical forms, the table schemas, paths and messages) append freely
 * and check once, which keeps them short and keeps the library free of
 * abort() (it runs inside PostgreSQL backends).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sr_int.h"

/* Format a message into errbuf; always returns false. */
bool
sr_err(char *errbuf, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	if (errbuf != NULL && errlen > 0)
	{
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return false;
}

/* Make room for n more bytes and the NUL; false (and oom) when impossible. */
static bool
reserve(sr_buf *b, size_t n)
{
	size_t		need;
	char	   *p;

	if (b->oom)
		return false;
	need = b->len + n + 1;
	if (need < n)
		return (b->oom = true, false);
	if (need <= b->cap)
		return true;
	size_t		cap = b->cap ? b->cap : 64;

	while (cap < need)
		cap = cap * 2 > cap ? cap * 2 : need;
	p = realloc(b->data, cap);
	if (p == NULL)
		return (b->oom = true, false);
	b->data = p;
	b->cap = cap;
	return true;
}

void
sr_buf_add(sr_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
sr_buf_adds(sr_buf *b, const char *s)
{
	sr_buf_add(b, s, strlen(s));
}

void
sr_buf_addc(sr_buf *b, char c)
{
	sr_buf_add(b, &c, 1);
}

void
sr_buf_printf(sr_buf *b, const char *fmt,...)
{
	va_list		ap;
	char		small[256];
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
	{
		b->oom = true;
		return;
	}
	if ((size_t) n < sizeof(small))
	{
		sr_buf_add(b, small, (size_t) n);
		return;
	}
	if (!reserve(b, (size_t) n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}

/* A JSON string literal: only ", \ and control characters are escaped. */
void
sr_buf_json_str(sr_buf *b, const char *s, size_t n)
{
	size_t		run = 0;

	sr_buf_addc(b, '"');
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sr_buf_add(b, s + run, i - run);
		run = i + 1;
		switch (c)
		{
			case '"':
				sr_buf_adds(b, "\\\"");
				break;
			case '\\':
				sr_buf_adds(b, "\\\\");
				break;
			case '\n':
				sr_buf_adds(b, "\\n");
				break;
			case '\r':
				sr_buf_adds(b, "\\r");
				break;
			case '\t':
				sr_buf_adds(b, "\\t");
				break;
			case '\b':
				sr_buf_adds(b, "\\b");
				break;
			case '\f':
				sr_buf_adds(b, "\\f");
				break;
			default:
				sr_buf_printf(b, "\\u%04x", c);
		}
	}
	sr_buf_add(b, s + run, n - run);
	sr_buf_addc(b, '"');
}

/* Hand the string over, or NULL after a failed append; resets b. */
char *
sr_buf_finish(sr_buf *b)
{
	char	   *s = b->data;

	if (b->oom)
	{
		free(s);
		s = NULL;
	}
	else if (s == NULL)
		s = strdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = false;
	return s;
}

void
sr_buf_free(sr_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}

/* Append a difference taking over msg (may be NULL); false on OOM. */
static bool
diffs_push(sr_diffs *d, const char *path, const char *kind, char *msg)
{
	char	   *p = strdup(path);

	if (p != NULL && d->count == d->cap)
	{
		size_t		cap = d->cap ? d->cap * 2 : 8;
		sr_diff    *items = realloc(d->items, cap * sizeof(*items));

		if (items == NULL)
		{
			free(p);
			p = NULL;
		}
		else
		{
			d->items = items;
			d->cap = cap;
		}
	}
	if (p == NULL)
	{
		free(msg);
		d->oom = true;
		return false;
	}
	d->items[d->count].path = p;
	d->items[d->count].kind = kind;
	d->items[d->count].message = msg;
	d->count++;
	return true;
}

/* Append one difference; path and message are copied. */
void
sr_diffs_add(sr_diffs *d, const char *path, const char *kind, const char *fmt,...)
{
	va_list		ap;
	char	   *msg;
	int			n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		d->oom = true;
	else
		diffs_push(d, path, kind, msg);
}

void
sr_diffs_add_bare(sr_diffs *d, const char *path, const char *kind)
{
	diffs_push(d, path, kind, NULL);
}

void
sr_diffs_move(sr_diffs *dst, sr_diffs *src)
{
	if (src->count > 0 && dst->cap - dst->count < src->count)
	{
		size_t		cap = dst->count + src->count;
		sr_diff    *items = realloc(dst->items, cap * sizeof(*items));

		if (items == NULL)
		{
			dst->oom = true;
			sr_diffs_free(src);
			return;
		}
		dst->items = items;
		dst->cap = cap;
	}
	if (src->count > 0)
		memcpy(dst->items + dst->count, src->items, src->count * sizeof(*src->items));
	dst->count += src->count;
	dst->oom |= src->oom;
	free(src->items);
	src->items = NULL;
	src->count = src->cap = 0;
}

void
sr_diffs_free(sr_diffs *d)
{
	for (size_t i = 0; i < d->count; i++)
	{
		free(d->items[i].path);
		free(d->items[i].message);
	}
	free(d->items);
	d->items = NULL;
	d->count = d->cap = 0;
}
