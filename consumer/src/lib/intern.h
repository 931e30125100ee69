/*
 * intern.h: a set of interned strings (one copy per distinct value).
 *
 * Design.  Events carry their table's schema and table name by reference
 * (event.h, Ownership), so the source needs one copy of each name that
 * lives as long as the source does.  A small open-addressing hash of
 * strings (FNV-1a, linear probing, doubled at half full) gives that copy
 * in one lookup.  Strings are never removed: the set grows with the number
 * of distinct names a source meets (tables, schemas), not with the number
 * of events.  The quality checks use the same set for allowed values and
 * for the values a batch has seen (quality.c).  Each string can keep one
 * value (a pointer), which makes the set the daemon's one string-keyed
 * hash map: the Kafka sink's topic handles, the MongoDB sink's collection
 * names and the envelope's per-transaction table counters live in one.
 *
 * Ownership: the set owns every string it returns; they stay valid until
 * trib_intern_free().  Out-of-memory aborts.  Not thread-safe.
 */
#ifndef TRIB_INTERN_H
#define TRIB_INTERN_H

#include <stddef.h>

typedef struct trib_intern trib_intern;

/* An empty set; never NULL. */
trib_intern *trib_intern_new(void);

/* The set's copy of the n bytes at s (made on first sight), NUL-ended.
 * The bytes must not contain NUL. */
const char *trib_intern_get(trib_intern *set, const char *s, size_t n);

/* The set's copy of s[0..n), or NULL when it was never added. */
const char *trib_intern_find(const trib_intern *set, const char *s, size_t n);

/*
 * Where the value of s[0..n) is kept, for the caller to read and set: it
 * is NULL when s is new (the set adds it).  Here s may contain NUL bytes.
 * The pointer is valid until the next call that adds a string.
 */
void	  **trib_intern_value(trib_intern *set, const char *s, size_t n);

/* Call fn on every value that is not NULL (e.g. to free them before
 * trib_intern_free, which frees only the strings); NULL set: nothing. */
void		trib_intern_each_value(trib_intern *set, void (*fn) (void *value));

/* Number of distinct strings held. */
size_t		trib_intern_count(const trib_intern *set);

/* Free the set and every string; NULL is allowed. */
void		trib_intern_free(trib_intern *set);

#endif							/* TRIB_INTERN_H */
