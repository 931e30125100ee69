/*
 * util.c: logging, clocks, the byte buffer and the hash map of util.h.
 *
 * The map hashes keys with FNV-1a and probes linearly; it grows at 70 %
 * load (tombstones included), which keeps probe runs short for the
 * collections' _id indexes and the session and cursor tables.
 */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int md_verbose = 0;

static char tombstone_key;
#define MD_MAP_TOMBSTONE (&tombstone_key)

/* md_log: one line on stderr. */
void md_log(const char *fmt, ...)
{
    va_list ap;

    fputs("mongo_double: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

/* md_now_ms: monotonic milliseconds. */
int64_t md_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* md_wall_ms: milliseconds since the Unix epoch. */
int64_t md_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* md_xmalloc: malloc or abort. */
void *md_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p) {
        md_log("out of memory (%zu bytes)", n);
        abort();
    }
    return p;
}

/* md_xcalloc: calloc or abort. */
void *md_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (!p) {
        md_log("out of memory (%zu x %zu bytes)", n, size);
        abort();
    }
    return p;
}

/* md_xrealloc: realloc or abort. */
void *md_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (!q) {
        md_log("out of memory (%zu bytes)", n);
        abort();
    }
    return q;
}

/* md_xstrdup: strdup or abort. */
char *md_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = md_xmalloc(n);

    memcpy(p, s, n);
    return p;
}

/* md_buf_append: append n bytes, growing geometrically. */
void md_buf_append(md_buf_t *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;

        while (cap < b->len + n)
            cap *= 2;
        b->data = md_xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* md_buf_append_i32: append a little-endian int32. */
void md_buf_append_i32(md_buf_t *b, int32_t v)
{
    uint8_t tmp[4];

    md_put_i32(tmp, v);
    md_buf_append(b, tmp, 4);
}

/* md_buf_consume: mark n bytes consumed; reset or compact the buffer. */
void md_buf_consume(md_buf_t *b, size_t n)
{
    b->off += n;
    if (b->off == b->len) {
        b->off = b->len = 0;
    } else if (b->off > 1 << 20 && b->off * 2 > b->len) {
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
}

/* md_buf_free: release the bytes. */
void md_buf_free(md_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* md_get_i32: read a little-endian int32. */
int32_t md_get_i32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

/* md_put_i32: write a little-endian int32. */
void md_put_i32(uint8_t *p, int32_t v)
{
    uint32_t u = (uint32_t)v;

    p[0] = u & 0xff;
    p[1] = (u >> 8) & 0xff;
    p[2] = (u >> 16) & 0xff;
    p[3] = (u >> 24) & 0xff;
}

/* fnv1a: the map's hash. */
static uint64_t fnv1a(const char *key, size_t n)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)key[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* map_find: the slot holding key, or NULL. */
static md_map_slot_t *map_find(const md_map_t *m, const char *key, size_t keylen)
{
    if (!m->cap)
        return NULL;
    for (size_t i = fnv1a(key, keylen) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        md_map_slot_t *s = &m->slots[i];

        if (!s->key)
            return NULL;
        if (s->key != MD_MAP_TOMBSTONE && s->keylen == keylen &&
            memcmp(s->key, key, keylen) == 0)
            return s;
    }
}

/* map_grow: rehash into a table twice as large (or of 64 slots). */
static void map_grow(md_map_t *m)
{
    md_map_t bigger = {0};

    bigger.cap = m->cap ? m->cap * 2 : 64;
    while (m->live * 2 > bigger.cap)
        bigger.cap *= 2;
    bigger.slots = md_xcalloc(bigger.cap, sizeof *bigger.slots);
    for (size_t i = 0; i < m->cap; i++) {
        md_map_slot_t *s = &m->slots[i];

        if (s->key && s->key != MD_MAP_TOMBSTONE) {
            size_t j = fnv1a(s->key, s->keylen) & (bigger.cap - 1);

            while (bigger.slots[j].key)
                j = (j + 1) & (bigger.cap - 1);
            bigger.slots[j] = *s;
            bigger.used++;
            bigger.live++;
        }
    }
    free(m->slots);
    *m = bigger;
}

void *md_map_get(const md_map_t *m, const char *key, size_t keylen)
{
    md_map_slot_t *s = map_find(m, key, keylen);

    return s ? s->value : NULL;
}

void *md_map_put(md_map_t *m, const char *key, size_t keylen, void *value)
{
    md_map_slot_t *s = map_find(m, key, keylen);
    size_t i;

    if (s) {
        void *old = s->value;

        s->value = value;
        return old;
    }
    if ((m->used + 1) * 10 > m->cap * 7)
        map_grow(m);
    for (i = fnv1a(key, keylen) & (m->cap - 1);
         m->slots[i].key && m->slots[i].key != MD_MAP_TOMBSTONE; i = (i + 1) & (m->cap - 1))
        ;
    if (!m->slots[i].key)
        m->used++;
    m->slots[i].key = md_xmalloc(keylen ? keylen : 1);
    memcpy(m->slots[i].key, key, keylen);
    m->slots[i].keylen = keylen;
    m->slots[i].value = value;
    m->live++;
    return NULL;
}

void *md_map_del(md_map_t *m, const char *key, size_t keylen)
{
    md_map_slot_t *s = map_find(m, key, keylen);
    void *old;

    if (!s)
        return NULL;
    old = s->value;
    free(s->key);
    s->key = MD_MAP_TOMBSTONE;
    s->value = NULL;
    m->live--;
    return old;
}

void md_map_each(const md_map_t *m, void (*fn)(void *value, void *arg), void *arg)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key && m->slots[i].key != MD_MAP_TOMBSTONE)
            fn(m->slots[i].value, arg);
}

void md_map_free(md_map_t *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key && m->slots[i].key != MD_MAP_TOMBSTONE)
            free(m->slots[i].key);
    free(m->slots);
    memset(m, 0, sizeof *m);
}
