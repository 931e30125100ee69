/*
 * errf.c: filling a caller's error buffer (see errf.h).
 */
#include "errf.h"

#include <stdio.h>

bool
trib_verrf(char *errbuf, size_t errlen, const char *fmt, va_list ap)
{
	if (errbuf != NULL && errlen > 0)
		vsnprintf(errbuf, errlen, fmt, ap);
	return false;
}

bool
trib_errf(char *errbuf, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	trib_verrf(errbuf, errlen, fmt, ap);
	va_end(ap);
	return false;
}

bool
trib_errf_len_ok(size_t n, size_t max, const char *what, char *errbuf, size_t errlen)
{
	if (n <= max)
		return true;
	return trib_errf(errbuf, errlen, "%s is %zu bytes; at most %zu are accepted", what, n,
					 max);
}
