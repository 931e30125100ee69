/*
 * errf.h: filling a caller's error buffer.
 *
 * Design.  Functions that can fail return bool (or 0/-1) and describe the
 * failure in the caller's `char *errbuf, size_t errlen` (librdkafka's
 * errstr style).  trib_errf() is the one printf into such a buffer; it
 * returns false so that a failure path is one line:
 *
 *     if (n > max)
 *         return trib_errf(errbuf, errlen, "%s: at most %d", key, max);
 *
 * A NULL buffer or a zero length is allowed (the message is dropped).
 * Longer messages are truncated, always NUL-terminated.
 */
#ifndef TRIB_ERRF_H
#define TRIB_ERRF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* printf into errbuf; returns false. */
bool		trib_errf(char *errbuf, size_t errlen, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* The same with a va_list; returns false. */
bool		trib_verrf(char *errbuf, size_t errlen, const char *fmt, va_list ap)
			__attribute__((format(printf, 3, 0)));

/* Is n at most max?  Else false and "WHAT is N bytes; at most MAX are
 * accepted" (what: "hash context", "encrypt: the value"). */
bool		trib_errf_len_ok(size_t n, size_t max, const char *what, char *errbuf,
							 size_t errlen);

#endif							/* TRIB_ERRF_H */
