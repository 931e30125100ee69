/*
 * fnv.h: FNV-1a, the hash of the daemon's in-memory hash tables (interned
 * names, topic handles, per-transaction table counts, strict mode's
 * decisions, the PostgreSQL sink's column names and row keys).  The
 * lookup rule's cache, whose keys are field values, uses a keyed hash
 * instead (lru.h).
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

/* The FNV-1a 64-bit offset basis: where trib_fnv1a_more() starts a hash
 * that spans several pieces (trib_fnv1a itself starts elsewhere, see
 * fnv.c). */
#define TRIB_FNV1A_BASIS 14695981039346656037ULL

/* FNV-1a of data[0..n), continuing from h (TRIB_FNV1A_BASIS, or the
 * result for the pieces before). */
uint64_t	trib_fnv1a_more(uint64_t h, const void *data, size_t n);

/* FNV-1a of a NUL-terminated string. */
uint64_t	trib_fnv1a_str(const char *s);

#endif							/* TRIB_FNV_H */
