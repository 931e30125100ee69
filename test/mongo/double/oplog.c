/*
 * oplog.c: clock, ring of entries and resume tokens (oplog.h).
 *
 * The ring holds entries [first, next) at ring[seq % cap].  Changing the
 * capacity evicts the oldest entries first and then re-lays the ring out.
 * `lost` is the position of the newest entry evicted (initially the
 * high-water mark just before the double's start): history after a
 * position p is complete exactly when lost <= p.
 */
#include "oplog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define TOKEN_VERSION 0x01
#define TOKEN_BYTES 14

static md_ts_t clock_last;
static md_entry_t **ring;
static size_t cap;
static uint64_t first, next;
static md_pos_t lost;
static void (*listener)(void);

void md_oplog_set_listener(void (*fn)(void))
{
    listener = fn;
}

md_ts_t md_clock_now(void)
{
    uint32_t s = (uint32_t)(md_wall_ms() / 1000);

    if (s > clock_last.t) {
        clock_last.t = s;
        clock_last.i = 0;
    }
    return clock_last;
}

md_ts_t md_clock_tick(void)
{
    md_clock_now();
    clock_last.i++;
    return clock_last;
}

md_ts_t md_ts_pred(md_ts_t ts)
{
    if (ts.i > 0)
        return (md_ts_t){ts.t, ts.i - 1};
    return (md_ts_t){ts.t - 1, UINT32_MAX};
}

int md_pos_cmp(md_pos_t a, md_pos_t b)
{
    if (a.ts.t != b.ts.t)
        return a.ts.t < b.ts.t ? -1 : 1;
    if (a.ts.i != b.ts.i)
        return a.ts.i < b.ts.i ? -1 : 1;
    if (a.idx != b.idx)
        return a.idx < b.idx ? -1 : 1;
    return a.kind < b.kind ? -1 : a.kind > b.kind;
}

md_pos_t md_pos_hwm(md_ts_t ts)
{
    return (md_pos_t){ts, UINT32_MAX, MD_POS_HWM};
}

const char *md_opkind_name(md_opkind_t k)
{
    static const char *names[] = {"insert", "update", "replace", "delete",
                                  "drop",   "rename", "dropDatabase"};

    return names[k];
}

md_entry_t *md_entry_new(md_opkind_t kind, const char *db, const char *coll)
{
    md_entry_t *e = md_xcalloc(1, sizeof *e);

    e->kind = kind;
    e->db = md_xstrdup(db);
    e->coll = coll ? md_xstrdup(coll) : NULL;
    e->wall_ms = md_wall_ms();
    return e;
}

void md_entry_free(md_entry_t *e)
{
    if (!e)
        return;
    free(e->db);
    free(e->coll);
    free(e->to_db);
    free(e->to_coll);
    if (e->key)
        bson_destroy(e->key);
    if (e->post)
        bson_destroy(e->post);
    if (e->pre)
        bson_destroy(e->pre);
    if (e->desc)
        bson_destroy(e->desc);
    if (e->lsid)
        bson_destroy(e->lsid);
    free(e);
}

void md_oplog_init(size_t capacity)
{
    cap = capacity ? capacity : 1;
    ring = md_xcalloc(cap, sizeof *ring);
    first = next = 1;
    lost = md_pos_hwm(md_ts_pred(md_clock_now()));
}

/* evict_oldest: drop the oldest entry, remembering its position. */
static void evict_oldest(void)
{
    md_entry_t *e = ring[first % cap];

    lost = e->pos;
    md_entry_free(e);
    ring[first % cap] = NULL;
    first++;
}

void md_oplog_set_capacity(size_t capacity)
{
    md_entry_t **bigger;

    if (capacity == 0)
        capacity = 1;
    while (next - first > capacity)
        evict_oldest();
    bigger = md_xcalloc(capacity, sizeof *bigger);
    for (uint64_t s = first; s < next; s++)
        bigger[s % capacity] = ring[s % cap];
    free(ring);
    ring = bigger;
    cap = capacity;
}

void md_oplog_free(void)
{
    for (uint64_t s = first; s < next; s++)
        md_entry_free(ring[s % cap]);
    free(ring);
    ring = NULL;
}

/* push: store e as the newest entry, evicting when full. */
static void push(md_entry_t *e)
{
    if (next - first == cap)
        evict_oldest();
    ring[next % cap] = e;
    next++;
    if (listener)
        listener();
}

void md_oplog_append(md_entry_t *e)
{
    e->pos = (md_pos_t){md_clock_tick(), 0, MD_POS_EVENT};
    push(e);
}

md_ts_t md_oplog_append_txn(md_entry_t **es, size_t n, const bson_t *lsid, int64_t txn_number)
{
    md_ts_t ts = md_clock_tick();

    for (size_t i = 0; i < n; i++) {
        es[i]->pos = (md_pos_t){ts, (uint32_t)i, MD_POS_EVENT};
        es[i]->lsid = bson_copy(lsid);
        es[i]->txn_number = txn_number;
        push(es[i]);
    }
    return ts;
}

uint64_t md_oplog_begin(void)
{
    return first;
}

uint64_t md_oplog_end(void)
{
    return next;
}

const md_entry_t *md_oplog_at(uint64_t seq)
{
    return seq >= first && seq < next ? ring[seq % cap] : NULL;
}

uint64_t md_oplog_seek_after(md_pos_t p)
{
    uint64_t lo = first, hi = next;

    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;

        if (md_pos_cmp(ring[mid % cap]->pos, p) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool md_oplog_find_event(md_pos_t p, uint64_t *seq)
{
    md_pos_t at = {p.ts, p.idx, MD_POS_EVENT};
    uint64_t s = md_oplog_seek_after(at);

    if (s == first || md_pos_cmp(ring[(s - 1) % cap]->pos, at) != 0)
        return false;
    s--;
    *seq = s;
    return true;
}

bool md_oplog_lost_after(md_pos_t p)
{
    return md_pos_cmp(lost, p) > 0;
}

/* put_be32: big-endian. */
static void put_be32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

void md_token_append(bson_t *doc, const char *key, md_pos_t p)
{
    uint8_t raw[TOKEN_BYTES];
    char hex[TOKEN_BYTES * 2 + 1];
    bson_t tok;

    raw[0] = TOKEN_VERSION;
    put_be32(raw + 1, p.ts.t);
    put_be32(raw + 5, p.ts.i);
    put_be32(raw + 9, p.idx);
    raw[13] = p.kind;
    for (int i = 0; i < TOKEN_BYTES; i++)
        snprintf(hex + 2 * i, 3, "%02X", raw[i]);
    bson_append_document_begin(doc, key, -1, &tok);
    bson_append_utf8(&tok, "_data", 5, hex, TOKEN_BYTES * 2);
    bson_append_document_end(doc, &tok);
}

bool md_token_parse(const bson_value_t *v, md_pos_t *p, md_err_t *err)
{
    bson_t doc;
    bson_iter_t it;
    uint8_t raw[TOKEN_BYTES];
    const char *hex;
    uint32_t len;

    if (v->value_type != BSON_TYPE_DOCUMENT ||
        !bson_init_static(&doc, v->value.v_doc.data, v->value.v_doc.data_len) ||
        !bson_iter_init_find(&it, &doc, "_data") || !BSON_ITER_HOLDS_UTF8(&it))
        return md_seterr(err, MD_INVALID_RESUME_TOKEN, "resume token must be a document with a "
                         "string _data field");
    hex = bson_iter_utf8(&it, &len);
    if (len != TOKEN_BYTES * 2)
        goto bad;
    for (int i = 0; i < TOKEN_BYTES; i++) {
        unsigned byte;

        if (sscanf(hex + 2 * i, "%2X", &byte) != 1)
            goto bad;
        raw[i] = (uint8_t)byte;
    }
    if (raw[0] != TOKEN_VERSION || raw[13] > MD_POS_HWM)
        goto bad;
    p->ts.t = get_be32(raw + 1);
    p->ts.i = get_be32(raw + 5);
    p->idx = get_be32(raw + 9);
    p->kind = raw[13];
    return true;
bad:
    return md_seterr(err, MD_INVALID_RESUME_TOKEN, "resume token _data '%.64s' was not made by "
                     "this test double (or is damaged)", hex);
}
