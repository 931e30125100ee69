/*
 * cursors.c: the cursor table (cursors.h), a map from the 8 bytes of the
 * id to the cursor.  Ids are random positive int64s, never 0 (which means
 * "exhausted" on the wire).
 */
#include "cursors.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static md_map_t table;

/* fresh_id: a random positive id not in use. */
static int64_t fresh_id(void)
{
    for (;;) {
        int64_t id = (int64_t)((((uint64_t)(uint32_t)rand() << 31) ^ (uint64_t)(uint32_t)rand()) &
                               INT64_MAX);

        if (id > 0 && !md_map_get(&table, (const char *)&id, sizeof id))
            return id;
    }
}

md_cursor_t *md_cursor_new(const char *ns, bson_t **docs, size_t n, size_t pos, md_cs_t *cs)
{
    md_cursor_t *c = md_xcalloc(1, sizeof *c);

    c->id = fresh_id();
    c->ns = md_xstrdup(ns);
    c->docs = docs;
    c->n = n;
    c->pos = pos;
    c->cs = cs;
    md_map_put(&table, (const char *)&c->id, sizeof c->id, c);
    return c;
}

md_cursor_t *md_cursor_get(int64_t id)
{
    return md_map_get(&table, (const char *)&id, sizeof id);
}

/* free_cursor: release c. */
static void free_cursor(void *value, void *arg)
{
    md_cursor_t *c = value;

    (void)arg;
    for (size_t i = 0; i < c->n; i++)
        if (c->docs[i])
            bson_destroy(c->docs[i]);
    free(c->docs);
    md_cs_free(c->cs);
    free(c->ns);
    free(c);
}

bool md_cursor_kill(int64_t id)
{
    md_cursor_t *c = md_map_del(&table, (const char *)&id, sizeof id);

    if (!c)
        return false;
    free_cursor(c, NULL);
    return true;
}

void md_cursors_free(void)
{
    md_map_each(&table, free_cursor, NULL);
    md_map_free(&table);
}
