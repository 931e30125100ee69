/*
 * wire_checks.c: the wire-protocol details of mongo_double (the TEST DOUBLE
 * of ../README.md) that neither driver exercises by default, checked with
 * hand-made messages on raw sockets:
 *
 *   - OP_MSG checksums: CRC-32C is first checked against the standard check
 *     value of "123456789" (0xE3069283); a request with checksumPresent gets
 *     a reply with a valid checksum; a wrong checksum closes the connection;
 *   - the legacy OP_QUERY handshake (isMaster on admin.$cmd answered with
 *     OP_REPLY), and OP_QUERY refused for anything else (352);
 *   - kind-1 document sequences, and moreToCome requests (no reply);
 *   - the exhaust protocol: an awaitable hello with exhaustAllowed is
 *     answered again and again with moreToCome, each reply's responseTo
 *     being the previous reply's requestID;
 *   - unknown required flag bits and OP_COMPRESSED close the connection.
 *
 * Usage: wire_checks PORT   (the double on 127.0.0.1)
 * Output: "ok N - name" / "not ok N - name" lines, then "N passed, N failed".
 */
#include <arpa/inet.h>
#include <bson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../double/wire.h"

static int passed, failed, port;

/* check: report one assertion. */
static bool check(bool ok, const char *name, const char *detail)
{
    printf("%sok %d - %s\n", ok ? "" : "not ", passed + failed + 1, name);
    if (!ok && detail)
        printf("    %s\n", detail);
    ok ? passed++ : failed++;
    fflush(stdout);
    return ok;
}

/* dial: a connection to the double. */
static int dial(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("wire_checks: connect");
        exit(1);
    }
    return fd;
}

/* read_full: n bytes within 3 s; false on EOF, error or timeout. */
static bool read_full(int fd, uint8_t *p, size_t n)
{
    while (n) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        ssize_t r;

        if (poll(&pfd, 1, 3000) <= 0 || (r = read(fd, p, n)) <= 0)
            return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

/* read_msg: one whole message (malloc'd) or NULL on EOF/timeout. */
static uint8_t *read_msg(int fd, int32_t *len)
{
    uint8_t head[4], *msg;

    if (!read_full(fd, head, 4))
        return NULL;
    *len = md_get_i32(head);
    if (*len < 16 || *len > MD_MAX_MESSAGE_BYTES)
        return NULL;
    msg = malloc((size_t)*len);
    memcpy(msg, head, 4);
    if (!read_full(fd, msg + 4, (size_t)*len - 4)) {
        free(msg);
        return NULL;
    }
    return msg;
}

/* closed_by_peer: the server closed the connection (EOF within 3 s). */
static bool closed_by_peer(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    char c;

    return poll(&pfd, 1, 3000) == 1 && read(fd, &c, 1) == 0;
}

/* send_msg: an OP_MSG with body and an optional kind-1 sequence. */
static void send_msg(int fd, int32_t id, uint32_t flags, const bson_t *body, const char *seq_name,
                     const bson_t **seq, int nseq, bool bad_checksum)
{
    md_buf_t b = {0};
    uint8_t kind = 0;

    md_buf_append_i32(&b, 0);
    md_buf_append_i32(&b, id);
    md_buf_append_i32(&b, 0);
    md_buf_append_i32(&b, MD_OP_MSG);
    md_buf_append_i32(&b, (int32_t)flags);
    md_buf_append(&b, &kind, 1);
    md_buf_append(&b, bson_get_data(body), body->len);
    if (seq_name) {
        size_t size = 4 + strlen(seq_name) + 1;

        for (int i = 0; i < nseq; i++)
            size += seq[i]->len;
        kind = 1;
        md_buf_append(&b, &kind, 1);
        md_buf_append_i32(&b, (int32_t)size);
        md_buf_append(&b, seq_name, strlen(seq_name) + 1);
        for (int i = 0; i < nseq; i++)
            md_buf_append(&b, bson_get_data(seq[i]), seq[i]->len);
    }
    md_put_i32(b.data, (int32_t)b.len + ((flags & MD_MSG_CHECKSUM_PRESENT) ? 4 : 0));
    if (flags & MD_MSG_CHECKSUM_PRESENT)
        md_buf_append_i32(&b, (int32_t)(md_crc32c(b.data, b.len) ^ (bad_checksum ? 1u : 0u)));
    if (write(fd, b.data, b.len) != (ssize_t)b.len)
        perror("wire_checks: write");
    md_buf_free(&b);
}

/* reply_body: the kind-0 body of an OP_MSG reply (static, into msg). */
static bool reply_body(const uint8_t *msg, int32_t len, bson_t *body)
{
    return len > 21 && md_get_i32(msg + 12) == MD_OP_MSG && msg[20] == 0 &&
           bson_init_static(body, msg + 21, (size_t)md_get_i32(msg + 21));
}

/* field_int: an integer field of a reply (or -999). */
static int64_t field_int(const bson_t *doc, const char *key)
{
    bson_iter_t it;

    return bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_NUMBER(&it) ? bson_iter_as_int64(&it)
                                                                            : -999;
}

/* command: send body as OP_MSG on fd and return the reply body (copy). */
static bson_t *command(int fd, const bson_t *body)
{
    int32_t len;
    uint8_t *msg;
    bson_t view, *out = NULL;

    send_msg(fd, 7, 0, body, NULL, NULL, 0, false);
    if ((msg = read_msg(fd, &len)) && reply_body(msg, len, &view))
        out = bson_copy(&view);
    free(msg);
    return out;
}

static void checksums(void)
{
    bson_t *ping = BCON_NEW("ping", BCON_INT32(1), "$db", "admin");
    int fd = dial();
    int32_t len;
    uint8_t *msg;
    bson_t body;

    check(md_crc32c((const uint8_t *)"123456789", 9) == 0xE3069283u,
          "CRC-32C of \"123456789\" is the standard check value 0xE3069283", NULL);
    send_msg(fd, 1, MD_MSG_CHECKSUM_PRESENT, ping, NULL, NULL, 0, false);
    msg = read_msg(fd, &len);
    check(msg && (md_get_i32(msg + 16) & MD_MSG_CHECKSUM_PRESENT) &&
              (uint32_t)md_get_i32(msg + len - 4) == md_crc32c(msg, (size_t)len - 4),
          "a request with a checksum gets a reply with a valid checksum", NULL);
    check(msg && md_get_i32(msg + 8) == 1, "the reply's responseTo is the request's id", NULL);
    check(msg && reply_body(msg, len - 4, &body) && field_int(&body, "ok") == 1, "ping is ok", NULL);
    free(msg);
    send_msg(fd, 2, MD_MSG_CHECKSUM_PRESENT, ping, NULL, NULL, 0, true);
    check(closed_by_peer(fd), "a wrong checksum closes the connection", NULL);
    close(fd);
    bson_destroy(ping);
}

/* send_query: a legacy OP_QUERY of q on admin.$cmd. */
static void send_query(int fd, const bson_t *q)
{
    md_buf_t b = {0};
    const char *ns = "admin.$cmd";

    md_buf_append_i32(&b, 0);
    md_buf_append_i32(&b, 3);
    md_buf_append_i32(&b, 0);
    md_buf_append_i32(&b, MD_OP_QUERY);
    md_buf_append_i32(&b, 0);
    md_buf_append(&b, ns, strlen(ns) + 1);
    md_buf_append_i32(&b, 0);
    md_buf_append_i32(&b, -1);
    md_buf_append(&b, bson_get_data(q), q->len);
    md_put_i32(b.data, (int32_t)b.len);
    if (write(fd, b.data, b.len) != (ssize_t)b.len)
        perror("wire_checks: write");
    md_buf_free(&b);
}

/* reply_doc: the document of an OP_REPLY. */
static bool reply_doc(const uint8_t *msg, int32_t len, bson_t *doc)
{
    return len > 36 && md_get_i32(msg + 12) == MD_OP_REPLY && md_get_i32(msg + 32) == 1 &&
           bson_init_static(doc, msg + 36, (size_t)md_get_i32(msg + 36));
}

static void legacy_handshake(void)
{
    bson_t *ismaster = BCON_NEW("isMaster", BCON_INT32(1), "helloOk", BCON_BOOL(true));
    bson_t *ping = BCON_NEW("ping", BCON_INT32(1));
    int fd = dial();
    int32_t len;
    uint8_t *msg;
    bson_t doc;
    bson_iter_t it;

    send_query(fd, ismaster);
    msg = read_msg(fd, &len);
    check(msg && reply_doc(msg, len, &doc) && bson_iter_init_find(&it, &doc, "ismaster") &&
              bson_iter_as_bool(&it) && bson_iter_init_find(&it, &doc, "helloOk") &&
              field_int(&doc, "maxWireVersion") == 17 && bson_iter_init_find(&it, &doc, "setName"),
          "OP_QUERY isMaster is answered with OP_REPLY: ismaster, helloOk, setName, "
          "maxWireVersion 17", NULL);
    free(msg);
    send_query(fd, ping);
    msg = read_msg(fd, &len);
    check(msg && reply_doc(msg, len, &doc) && field_int(&doc, "ok") == 0 &&
              field_int(&doc, "code") == 352,
          "OP_QUERY of another command is refused with UnsupportedOpQueryCommand (352)", NULL);
    free(msg);
    close(fd);
    bson_destroy(ismaster);
    bson_destroy(ping);
}

static void sequences(void)
{
    bson_t *drop = BCON_NEW("drop", "seq", "$db", "wire_checks");
    bson_t *insert = BCON_NEW("insert", "seq", "$db", "wire_checks");
    bson_t *count = BCON_NEW("count", "seq", "$db", "wire_checks");
    bson_t *quiet = BCON_NEW("insert", "seq", "$db", "wire_checks", "writeConcern", "{", "w",
                             BCON_INT32(0), "}");
    bson_t *a = BCON_NEW("_id", BCON_INT32(1)), *b = BCON_NEW("_id", BCON_INT32(2));
    bson_t *c = BCON_NEW("_id", BCON_INT32(3));
    const bson_t *two[] = {a, b}, *one[] = {c};
    int fd = dial();
    int32_t len;
    uint8_t *msg;
    bson_t body, *r;

    bson_destroy(command(fd, drop));
    send_msg(fd, 4, 0, insert, "documents", two, 2, false);
    msg = read_msg(fd, &len);
    check(msg && reply_body(msg, len, &body) && field_int(&body, "n") == 2,
          "an insert with a kind-1 document sequence of two documents inserts two", NULL);
    free(msg);
    send_msg(fd, 5, MD_MSG_MORE_TO_COME, quiet, "documents", one, 1, false);
    r = command(fd, count);
    check(r && field_int(r, "n") == 3, "a moreToCome insert gets no reply and is applied", NULL);
    if (r)
        bson_destroy(r);
    close(fd);
    bson_destroy(drop);
    bson_destroy(insert);
    bson_destroy(count);
    bson_destroy(quiet);
    bson_destroy(a);
    bson_destroy(b);
    bson_destroy(c);
}

/* read_exhaust_reply: one reply of the stream: its flags, id and responseTo. */
static bool read_exhaust_reply(int fd, uint32_t *flags, int32_t *id, int32_t *to)
{
    int32_t len;
    uint8_t *msg = read_msg(fd, &len);
    bson_t body;
    bool ok = msg && reply_body(msg, len, &body) && field_int(&body, "ok") == 1;

    if (ok) {
        *id = md_get_i32(msg + 4);
        *to = md_get_i32(msg + 8);
        *flags = (uint32_t)md_get_i32(msg + 16);
    }
    free(msg);
    return ok;
}

static void exhaust(void)
{
    bson_t *hello = BCON_NEW("hello", BCON_INT32(1), "$db", "admin"), *r, *awaitable;
    int fd = dial();
    bson_iter_t it;
    uint32_t f1 = 0, f2 = 0;
    int32_t id1 = 0, to1 = 0, id2 = 0, to2 = 0;
    bool ok;

    r = command(fd, hello);
    if (!check(r && bson_iter_init_find(&it, r, "topologyVersion") && BSON_ITER_HOLDS_DOCUMENT(&it),
               "hello reports a topologyVersion", NULL)) {
        close(fd);
        return;
    }
    awaitable = BCON_NEW("hello", BCON_INT32(1), "$db", "admin", "maxAwaitTimeMS", BCON_INT64(100));
    bson_append_value(awaitable, "topologyVersion", -1, bson_iter_value(&it));
    send_msg(fd, 42, MD_MSG_EXHAUST_ALLOWED, awaitable, NULL, NULL, 0, false);
    ok = read_exhaust_reply(fd, &f1, &id1, &to1) && read_exhaust_reply(fd, &f2, &id2, &to2);
    check(ok && (f1 & MD_MSG_MORE_TO_COME) && (f2 & MD_MSG_MORE_TO_COME) && to1 == 42 && to2 == id1,
          "an awaitable hello with exhaustAllowed streams replies with moreToCome, each "
          "responding to the previous one", NULL);
    close(fd);
    bson_destroy(r);
    bson_destroy(awaitable);
    bson_destroy(hello);
}

static void refused(void)
{
    bson_t *ping = BCON_NEW("ping", BCON_INT32(1), "$db", "admin");
    int fd = dial();
    uint8_t compressed[25] = {0};

    send_msg(fd, 1, 1u << 2, ping, NULL, NULL, 0, false);
    check(closed_by_peer(fd), "an unknown required flag bit closes the connection", NULL);
    close(fd);
    fd = dial();
    md_put_i32(compressed, (int32_t)sizeof compressed);
    md_put_i32(compressed + 12, MD_OP_COMPRESSED);
    if (write(fd, compressed, sizeof compressed) != (ssize_t)sizeof compressed)
        perror("wire_checks: write");
    check(closed_by_peer(fd), "OP_COMPRESSED (never offered) closes the connection", NULL);
    close(fd);
    bson_destroy(ping);
}

int main(int argc, char **argv)
{
    if (argc != 2 || (port = atoi(argv[1])) <= 0) {
        fprintf(stderr, "usage: wire_checks PORT\n");
        return 2;
    }
    checksums();
    legacy_handshake();
    sequences();
    exhaust();
    refused();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
