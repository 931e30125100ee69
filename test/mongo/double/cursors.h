/*
 * cursors.h: server-side cursors of mongo_double (a TEST DOUBLE, see
 * ../README.md).
 *
 * A cursor is either a list of documents still to return (find, an
 * aggregate without $changeStream, listCollections...) or a change stream.
 * Cursors are global, as on a server: any connection may getMore or kill
 * them.  They live until exhausted, killed, or their session ends; the
 * double has no idle timeout.
 */
#ifndef MD_CURSORS_H
#define MD_CURSORS_H

#include <bson.h>

#include "changestream.h"

typedef struct md_cursor {
    int64_t id;
    char *ns;            /* "db.coll", or "db.$cmd.aggregate" */
    bson_t **docs;       /* a document cursor: docs[pos..n) remain; owned */
    size_t n, pos;
    md_cs_t *cs;         /* a change stream cursor; owned */
} md_cursor_t;

/* md_cursor_new: a registered cursor with a fresh id; takes docs and cs. */
md_cursor_t *md_cursor_new(const char *ns, bson_t **docs, size_t n, size_t pos, md_cs_t *cs);

md_cursor_t *md_cursor_get(int64_t id);

/* md_cursor_kill: unregister and free; false when there is no such cursor. */
bool md_cursor_kill(int64_t id);

void md_cursors_free(void);

#endif
