/*
 * fnv.h: FNV-1a, the hash of the daemon's in-memory hash tables (interned
 * names, topic handles, per-transaction table counts, strict mode's
 * decisions, the lookup cache).
 *
 * Design.  Tables here hold tens to thousands of short strings; FNV-1a is
 * short, fast on them and good enough for open addressing or chaining.
 * Nothing outside the process ever sees a hash value.  The seed is the
 * one these tables have always used (FNV's 64-bit offset basis without
 * its last digit), which keeps every table's layout as it was.
 */
#ifndef TRIB_FNV_H
#define TRIB_FNV_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a of s[0..n). */
uint64_t	trib_fnv1a(const void *s, size_t n);

/* FNV-1a of a NUL-terminated string. */
uint64_t	trib_fnv1a_str(const char *s);

#endif							/* TRIB_FNV_H */
