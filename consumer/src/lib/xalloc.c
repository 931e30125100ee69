/*
 * xalloc.c: allocation that aborts on out-of-memory (see xalloc.h).
 */
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Report out-of-memory and abort. */
static void
oom(void)
{
	static const char msg[] = "tributary: out of memory\n";

	(void) !write(STDERR_FILENO, msg, sizeof(msg) - 1);
	abort();
}

void *
trib_xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
trib_xcalloc(size_t count, size_t size)
{
	void	   *p = calloc(count ? count : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
trib_xrealloc(void *p, size_t n)
{
	void	   *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom();
	return q;
}

/* See xalloc.h. */
void *
trib_xgrow_full(void *p, size_t n, size_t *cap, size_t size, size_t first)
{
	size_t		want;

	want = *cap ? *cap * 2 : first;
	if (want <= n || (size && want > SIZE_MAX / size))
		oom();
	*cap = want;
	return trib_xrealloc(p, want * size);
}

void *
trib_xadd_zeroed(void *p, size_t n, size_t size)
{
	char	   *q;

	if (size && n + 1 > SIZE_MAX / size)
		oom();
	q = trib_xrealloc(p, (n + 1) * size);
	memset(q + n * size, 0, size);
	return q;
}

char *
trib_xstrdup(const char *s)
{
	return s ? trib_xstrndup(s, strlen(s)) : NULL;
}

/* Copy of the first n bytes of s (s need not be NUL-terminated). */
char *
trib_xstrndup(const char *s, size_t n)
{
	char	   *p = trib_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
