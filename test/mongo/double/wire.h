/*
 * wire.h: the MongoDB wire protocol's message layer for mongo_double (a TEST
 * DOUBLE, see ../README.md): framing, parsing of OP_MSG and of the legacy
 * OP_QUERY handshake, and encoding of OP_MSG and OP_REPLY replies.
 *
 * Written from the OP_MSG specification (mongodb/specifications,
 * source/message/OP_MSG.md) and the wire protocol reference:
 *   - OP_MSG: flagBits, one kind-0 body section, any number of kind-1
 *     document sequences (merged into the body as arrays named by their
 *     identifier, which is how the server sees them), and an optional
 *     CRC-32C checksum, checked when the checksumPresent bit is set.  A
 *     reply carries a checksum when its request did.
 *   - OP_QUERY: only as the first message of a connection (the "legacy
 *     hello" handshake); the namespace's database becomes the command's.
 *   - OP_COMPRESSED and the removed opcodes are refused (the connection is
 *     closed), since the double never advertises compression.
 */
#ifndef MD_WIRE_H
#define MD_WIRE_H

#include <bson.h>

#include "util.h"

#define MD_OP_REPLY 1
#define MD_OP_QUERY 2004
#define MD_OP_COMPRESSED 2012
#define MD_OP_MSG 2013

#define MD_MSG_CHECKSUM_PRESENT (1u << 0)
#define MD_MSG_MORE_TO_COME (1u << 1)
#define MD_MSG_EXHAUST_ALLOWED (1u << 16)

#define MD_MAX_MESSAGE_BYTES 48000000
#define MD_MAX_BSON_BYTES (16 * 1024 * 1024)
#define MD_HEADER_BYTES 16

/* One request, decoded. */
typedef struct md_request {
    int32_t request_id;
    int32_t op_code;    /* MD_OP_MSG or MD_OP_QUERY */
    uint32_t flags;     /* OP_MSG flagBits; 0 for OP_QUERY */
    bson_t *cmd;        /* the command with its document sequences; owned */
    char db[128];       /* $db, or the database of the OP_QUERY namespace */
    int32_t respond_to; /* responseTo of the next reply (moves on in exhaust) */
    bson_t *failpoint;  /* failCommand data still to apply after a block; owned */
} md_request_t;

/*
 * md_wire_frame_length: with at least 4 bytes buffered, the length of the
 * next message; 0 when fewer than 4 bytes are there; -1 when the length is
 * impossible (the connection must be closed).
 */
int64_t md_wire_frame_length(const uint8_t *buf, size_t avail);

/*
 * md_wire_parse: decode one whole message into *req (cmd owned by req).
 * false with errbuf filled for a malformed message, a bad checksum or an
 * unsupported opcode: the caller closes the connection, as the server does.
 */
bool md_wire_parse(const uint8_t *msg, size_t len, md_request_t *req, char *errbuf,
                   size_t errlen);

void md_wire_request_free(md_request_t *req);

/* md_wire_msg: append an OP_MSG reply with body to out. */
void md_wire_msg(md_buf_t *out, int32_t request_id, int32_t response_to, uint32_t flags,
                 const bson_t *body);

/* md_wire_reply: append an OP_REPLY (to an OP_QUERY) with one document. */
void md_wire_reply(md_buf_t *out, int32_t request_id, int32_t response_to, const bson_t *doc);

/* md_crc32c: CRC-32C (Castagnoli), the OP_MSG checksum. */
uint32_t md_crc32c(const uint8_t *p, size_t n);

#endif
