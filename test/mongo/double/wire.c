/*
 * wire.c: decoding and encoding of wire-protocol messages (see wire.h).
 *
 * Every BSON document that arrives is checked with bson_validate() before
 * anything iterates it, so the rest of the double may trust its input's
 * structure.  Document sequences (kind-1 sections) are appended to a copy
 * of the body as arrays, in the order they came; a sequence whose name the
 * body already has is an error, as on the server.
 */
#include "wire.h"

#include <string.h>

static uint32_t crc_table[256];

/* crc_init: build the reflected CRC-32C table (polynomial 0x82F63B78). */
static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;

        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t md_crc32c(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;

    if (!crc_table[1])
        crc_init();
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

int64_t md_wire_frame_length(const uint8_t *buf, size_t avail)
{
    int32_t len;

    if (avail < 4)
        return 0;
    len = md_get_i32(buf);
    if (len < MD_HEADER_BYTES + 5 || len > MD_MAX_MESSAGE_BYTES)
        return -1;
    return len;
}

/* read_doc: the BSON document at p (at most avail bytes), validated. */
static bool read_doc(const uint8_t *p, size_t avail, bson_t *doc, size_t *used, const char *what,
                     char *errbuf, size_t errlen)
{
    int32_t dlen;
    size_t off;

    if (avail < 5 || (dlen = md_get_i32(p)) < 5 || (size_t)dlen > avail) {
        snprintf(errbuf, errlen, "%s: BSON length runs past the message", what);
        return false;
    }
    if (!bson_init_static(doc, p, (size_t)dlen) || !bson_validate(doc, BSON_VALIDATE_NONE, &off)) {
        snprintf(errbuf, errlen, "%s: invalid BSON", what);
        return false;
    }
    *used = (size_t)dlen;
    return true;
}

/* take_db: copy the string field $db of cmd into req->db, if there. */
static void take_db(md_request_t *req)
{
    bson_iter_t it;

    if (bson_iter_init_find(&it, req->cmd, "$db") && BSON_ITER_HOLDS_UTF8(&it)) {
        const char *db = bson_iter_utf8(&it, NULL);

        if (strlen(db) < sizeof req->db)
            strcpy(req->db, db);
    }
}

/* append_sequence: a kind-1 section as an array field of cmd. */
static bool append_sequence(bson_t *cmd, const uint8_t *p, size_t size, char *errbuf,
                            size_t errlen)
{
    const uint8_t *end = p + size, *nul;
    const char *ident;
    bson_t array;
    uint32_t i = 0;

    nul = memchr(p + 4, 0, size - 4);
    if (!nul) {
        snprintf(errbuf, errlen, "OP_MSG document sequence: identifier not terminated");
        return false;
    }
    ident = (const char *)(p + 4);
    if (bson_has_field(cmd, ident)) {
        snprintf(errbuf, errlen, "OP_MSG: duplicate field '%s' (body and document sequence)",
                 ident);
        return false;
    }
    bson_append_array_begin(cmd, ident, -1, &array);
    for (p = nul + 1; p < end; i++) {
        bson_t doc;
        size_t used;
        char key[16];

        if (!read_doc(p, (size_t)(end - p), &doc, &used, "OP_MSG document sequence", errbuf,
                      errlen))
            return false;
        snprintf(key, sizeof key, "%u", i);
        bson_append_document(&array, key, -1, &doc);
        p += used;
    }
    bson_append_array_end(cmd, &array);
    return true;
}

/* verify_checksum: with checksumPresent, the trailing CRC-32C; *end excludes it. */
static bool verify_checksum(const uint8_t *msg, size_t len, uint32_t flags, const uint8_t **end,
                            char *errbuf, size_t errlen)
{
    uint32_t want, got;

    *end = msg + len;
    if (!(flags & MD_MSG_CHECKSUM_PRESENT))
        return true;
    if (len < MD_HEADER_BYTES + 4 + 4 + 5) {
        snprintf(errbuf, errlen, "OP_MSG: too short for its checksum");
        return false;
    }
    *end -= 4;
    want = (uint32_t)md_get_i32(*end);
    got = md_crc32c(msg, len - 4);
    if (want != got) {
        snprintf(errbuf, errlen, "OP_MSG: checksum mismatch (message 0x%08x, computed 0x%08x)",
                 want, got);
        return false;
    }
    return true;
}

typedef struct sections {
    bson_t body;
    bool have_body;
    const uint8_t *seqs[16];
    size_t seq_sizes[16];
    size_t nseq;
} sections_t;

/* read_sections: the body and the document sequences in [p, end). */
static bool read_sections(const uint8_t *p, const uint8_t *end, sections_t *s, char *errbuf,
                          size_t errlen)
{
    while (p < end) {
        uint8_t kind = *p++;

        if (kind == 0) {
            size_t used;

            if (s->have_body) {
                snprintf(errbuf, errlen, "OP_MSG: more than one body section");
                return false;
            }
            if (!read_doc(p, (size_t)(end - p), &s->body, &used, "OP_MSG body", errbuf, errlen))
                return false;
            s->have_body = true;
            p += used;
        } else if (kind == 1) {
            int32_t size = end - p >= 4 ? md_get_i32(p) : -1;

            if (size < 5 || size > end - p || s->nseq == 16) {
                snprintf(errbuf, errlen, "OP_MSG: bad document sequence section");
                return false;
            }
            s->seqs[s->nseq] = p;
            s->seq_sizes[s->nseq++] = (size_t)size;
            p += size;
        } else {
            snprintf(errbuf, errlen, "OP_MSG: unknown section kind %u", kind);
            return false;
        }
    }
    if (!s->have_body)
        snprintf(errbuf, errlen, "OP_MSG: no body section");
    return s->have_body;
}

/* parse_msg: an OP_MSG (after the header). */
static bool parse_msg(const uint8_t *msg, size_t len, md_request_t *req, char *errbuf,
                      size_t errlen)
{
    const uint8_t *end;
    sections_t s = {0};

    req->flags = (uint32_t)md_get_i32(msg + MD_HEADER_BYTES);
    if (req->flags & 0xFFFCu) {
        snprintf(errbuf, errlen, "OP_MSG: unsupported required flag bits 0x%x", req->flags);
        return false;
    }
    if (!verify_checksum(msg, len, req->flags, &end, errbuf, errlen) ||
        !read_sections(msg + MD_HEADER_BYTES + 4, end, &s, errbuf, errlen))
        return false;
    req->cmd = bson_copy(&s.body);
    for (size_t i = 0; i < s.nseq; i++)
        if (!append_sequence(req->cmd, s.seqs[i], s.seq_sizes[i], errbuf, errlen))
            return false;
    take_db(req);
    return true;
}

/* parse_query: a legacy OP_QUERY, accepted for the handshake. */
static bool parse_query(const uint8_t *msg, size_t len, md_request_t *req, char *errbuf,
                        size_t errlen)
{
    const uint8_t *p = msg + MD_HEADER_BYTES + 4, *end = msg + len, *nul, *dot;
    bson_t query, inner;
    bson_iter_t it;
    size_t used;

    nul = memchr(p, 0, (size_t)(end - p));
    if (!nul || nul + 1 + 8 > end) {
        snprintf(errbuf, errlen, "OP_QUERY: bad namespace");
        return false;
    }
    dot = memchr(p, '.', (size_t)(nul - p));
    if (!dot || (size_t)(dot - p) >= sizeof req->db) {
        snprintf(errbuf, errlen, "OP_QUERY: namespace without a database");
        return false;
    }
    memcpy(req->db, p, (size_t)(dot - p));
    req->db[dot - p] = '\0';
    p = nul + 1 + 8; /* numberToSkip, numberToReturn */
    if (!read_doc(p, (size_t)(end - p), &query, &used, "OP_QUERY query", errbuf, errlen))
        return false;
    /* A wrapped query ({$query: {...}, $readPreference: ...}) is unwrapped. */
    if (bson_iter_init_find(&it, &query, "$query") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
        const uint8_t *data;
        uint32_t dlen;

        bson_iter_document(&it, &dlen, &data);
        if (!bson_init_static(&inner, data, dlen)) {
            snprintf(errbuf, errlen, "OP_QUERY: invalid $query");
            return false;
        }
        req->cmd = bson_copy(&inner);
    } else {
        req->cmd = bson_copy(&query);
    }
    return true;
}

bool md_wire_parse(const uint8_t *msg, size_t len, md_request_t *req, char *errbuf,
                   size_t errlen)
{
    memset(req, 0, sizeof *req);
    req->request_id = md_get_i32(msg + 4);
    req->respond_to = req->request_id;
    req->op_code = md_get_i32(msg + 12);
    switch (req->op_code) {
    case MD_OP_MSG:
        if (parse_msg(msg, len, req, errbuf, errlen))
            return true;
        break;
    case MD_OP_QUERY:
        if (parse_query(msg, len, req, errbuf, errlen))
            return true;
        break;
    case MD_OP_COMPRESSED:
        snprintf(errbuf, errlen, "OP_COMPRESSED: the double never offers compression");
        return false;
    default:
        snprintf(errbuf, errlen, "opcode %d is not supported (only OP_MSG, and OP_QUERY for the "
                 "handshake)", req->op_code);
        return false;
    }
    md_wire_request_free(req);
    return false;
}

void md_wire_request_free(md_request_t *req)
{
    if (req->cmd)
        bson_destroy(req->cmd);
    if (req->failpoint)
        bson_destroy(req->failpoint);
    req->cmd = NULL;
    req->failpoint = NULL;
}

void md_wire_msg(md_buf_t *out, int32_t request_id, int32_t response_to, uint32_t flags,
                 const bson_t *body)
{
    size_t start = out->len;
    int32_t len = MD_HEADER_BYTES + 4 + 1 + (int32_t)body->len;
    uint8_t kind = 0;

    if (flags & MD_MSG_CHECKSUM_PRESENT)
        len += 4;
    md_buf_append_i32(out, len);
    md_buf_append_i32(out, request_id);
    md_buf_append_i32(out, response_to);
    md_buf_append_i32(out, MD_OP_MSG);
    md_buf_append_i32(out, (int32_t)flags);
    md_buf_append(out, &kind, 1);
    md_buf_append(out, bson_get_data(body), body->len);
    if (flags & MD_MSG_CHECKSUM_PRESENT)
        md_buf_append_i32(out, (int32_t)md_crc32c(out->data + start, out->len - start));
}

void md_wire_reply(md_buf_t *out, int32_t request_id, int32_t response_to, const bson_t *doc)
{
    int64_t cursor_id = 0;

    md_buf_append_i32(out, MD_HEADER_BYTES + 20 + (int32_t)doc->len);
    md_buf_append_i32(out, request_id);
    md_buf_append_i32(out, response_to);
    md_buf_append_i32(out, MD_OP_REPLY);
    md_buf_append_i32(out, 8); /* responseFlags: AwaitCapable */
    md_buf_append(out, &cursor_id, 8);
    md_buf_append_i32(out, 0); /* startingFrom */
    md_buf_append_i32(out, 1); /* numberReturned */
    md_buf_append(out, bson_get_data(doc), doc->len);
}
