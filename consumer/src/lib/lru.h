/*
 * lru.h: a bounded cache of values by string key, least recently used out
 * first (the lookup rule's cache of fetched rows, transform/rules_enrich.c).
 *
 * Design.  A chained hash table plus a doubly linked list, newest first:
 * get and put are O(1) as long as the chains stay short.  The keys are
 * field values of captured rows, so whoever writes those rows chooses
 * them; with an unkeyed hash (FNV-1a, which the cache used before) keys
 * that all fall into one bucket are easy to compute offline, and each
 * lookup would then walk the whole cache (up to cache_size entries, ten
 * million at most) on the pipeline's thread.  So the bucket of a key is
 * HMAC-SHA256 (lib/hmac.c) under a random key drawn for each cache
 * (OpenSSL's RAND_bytes): no one outside the process can tell which keys
 * share a bucket.  A key's hash is computed once per get or put and kept
 * in its entry, so an eviction does not hash again.  The cost, a short
 * MAC per lookup (about a microsecond), is small beside what a lookup
 * rule does with the row it finds (a copy of a JSON tree).
 *
 * Ownership: the cache copies keys and owns the values put into it,
 * releasing them with the free function given to trib_lru_new when they
 * are evicted or the cache is freed.  A value returned by trib_lru_get is
 * borrowed: valid until the next put or the free.  Not thread-safe.
 */
#ifndef TRIB_LRU_H
#define TRIB_LRU_H

#include <stdbool.h>
#include <stddef.h>

typedef struct trib_lru trib_lru;

/* A cache of at most cap (>= 1) entries; free_value (may be NULL) releases
 * a value.  NULL when OpenSSL cannot draw a key. */
trib_lru   *trib_lru_new(size_t cap, void (*free_value) (void *));

/* True when key is cached: *value is its value (NULL is a value), and the
 * entry becomes the newest. */
bool		trib_lru_get(trib_lru *c, const char *key, void **value);

/* Cache value under key, which must not be cached yet; the oldest entry
 * goes first when the cache is full.  The cache takes value. */
void		trib_lru_put(trib_lru *c, const char *key, void *value);

/* How many entries it holds. */
size_t		trib_lru_count(const trib_lru *c);

/* How many keyed hashes (MACs) it has computed (for tests: a miss then
 * a put of the same key computes one). */
size_t		trib_lru_hash_count(const trib_lru *c);

/* The longest bucket chain (for tests of the hash's spread). */
size_t		trib_lru_longest_chain(const trib_lru *c);

/* NULL is allowed. */
void		trib_lru_free(trib_lru *c);

#endif							/* TRIB_LRU_H */
