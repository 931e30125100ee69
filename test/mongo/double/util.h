/*
 * util.h: small helpers shared by every file of mongo_double, the MongoDB
 * wire-protocol TEST DOUBLE (see ../README.md): logging to stderr, a
 * monotonic clock, a growable byte buffer and a string-keyed hash map.
 *
 * Nothing here knows about MongoDB.  The buffer and the map own what they
 * hold: md_buf_free() frees the bytes, md_map_free() the keys (never the
 * values, which belong to the caller).
 */
#ifndef MD_UTIL_H
#define MD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Logging: one line on stderr, prefixed "mongo_double: ". */
extern int md_verbose;
void md_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define md_debug(...)                                                          \
    do {                                                                       \
        if (md_verbose)                                                        \
            md_log(__VA_ARGS__);                                               \
    } while (0)

/* Milliseconds of a monotonic clock, and of the wall clock (Unix epoch). */
int64_t md_now_ms(void);
int64_t md_wall_ms(void);

/* A growable byte buffer; `off` marks bytes already consumed at the front. */
typedef struct md_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t off;
} md_buf_t;

void md_buf_append(md_buf_t *b, const void *p, size_t n);
void md_buf_append_i32(md_buf_t *b, int32_t v);
/* md_buf_consume: drop n bytes from the front (compacts when worthwhile). */
void md_buf_consume(md_buf_t *b, size_t n);
static inline const uint8_t *md_buf_head(const md_buf_t *b)
{
    return b->data + b->off;
}
static inline size_t md_buf_avail(const md_buf_t *b)
{
    return b->len - b->off;
}
void md_buf_free(md_buf_t *b);

/* Little-endian integer access for the wire protocol. */
int32_t md_get_i32(const uint8_t *p);
void md_put_i32(uint8_t *p, int32_t v);

/*
 * md_map: open addressing (linear probing) from byte-string keys to void*.
 * Keys are copied; values are the caller's.
 */
typedef struct md_map_slot {
    char *key;      /* NULL: empty; MD_MAP_TOMBSTONE: deleted */
    size_t keylen;
    void *value;
} md_map_slot_t;

typedef struct md_map {
    md_map_slot_t *slots;
    size_t cap;     /* a power of two, or 0 */
    size_t used;    /* live + tombstones */
    size_t live;
} md_map_t;

void *md_map_get(const md_map_t *m, const char *key, size_t keylen);
/* md_map_put: insert or overwrite; returns the previous value or NULL. */
void *md_map_put(md_map_t *m, const char *key, size_t keylen, void *value);
/* md_map_del: remove; returns the removed value or NULL. */
void *md_map_del(md_map_t *m, const char *key, size_t keylen);
void md_map_free(md_map_t *m);
/* md_map_each: call fn for every live entry (fn must not change the map). */
void md_map_each(const md_map_t *m, void (*fn)(void *value, void *arg), void *arg);

/* xmalloc and friends: abort with a message when memory runs out. */
void *md_xmalloc(size_t n);
void *md_xcalloc(size_t n, size_t size);
void *md_xrealloc(void *p, size_t n);
char *md_xstrdup(const char *s);

#endif
