/*
 * mongo_int64.c: the paths of a document's int64 values that fit in 32
 * bits (see mongo_int64.h).
 *
 * Design.  One walk over the BSON with bson_iter, documents and arrays
 * recursed into, the path kept as a stack of iterators; a path is
 * written only for a match, so a document without such a value costs one
 * pass of type checks and no allocation.  Array indexes are the BSON
 * keys ("0", "1", ...) written as numbers.
 */
#include "mongo_int64.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsondoc.h"

/* Where the walk is: the iterators from the root down. */
typedef struct walk
{
	const bson_iter_t *stack[200];	/* mongod's maxBSONDepth (it stores
									 * documents nested up to 180 deep) */
	bool		in_array[200];	/* the level's container is an array */
	int			depth;
	trib_strbuf *b;
	size_t		found;			/* paths written so far */
} walk;

/* Write the path of the value at the walk's top. */
static void
put_path(walk *w)
{
	trib_strbuf_adds(w->b, w->found++ ? ",[" : "[");
	for (int i = 0; i < w->depth; i++)
	{
		const char *key = bson_iter_key(w->stack[i]);

		if (i > 0)
			trib_strbuf_addc(w->b, ',');
		if (w->in_array[i])
			trib_strbuf_printf(w->b, "%lu", strtoul(key, NULL, 10));
		else
			trib_jdoc_quote(w->b, key);
	}
	trib_strbuf_addc(w->b, ']');
}

/* Walk the container at `it` (its elements), in_array when an array. */
static void
walk_level(walk *w, bson_iter_t *it, bool in_array)
{
	if (w->depth >= (int) (sizeof(w->stack) / sizeof(w->stack[0])))
		return;
	w->stack[w->depth] = it;
	w->in_array[w->depth] = in_array;
	w->depth++;
	while (bson_iter_next(it))
	{
		bson_iter_t child;

		if (BSON_ITER_HOLDS_INT64(it))
		{
			int64_t		v = bson_iter_int64(it);

			if (v >= INT32_MIN && v <= INT32_MAX)
				put_path(w);
		}
		else if ((BSON_ITER_HOLDS_DOCUMENT(it) || BSON_ITER_HOLDS_ARRAY(it)) &&
				 bson_iter_recurse(it, &child))
			walk_level(w, &child, BSON_ITER_HOLDS_ARRAY(it));
	}
	w->depth--;
}

/* Append the member "name": open, body's text, close to b (after a comma
 * when b holds members already); frees body. */
static void
add_member(trib_strbuf *b, const char *name, char open, trib_strbuf *body, char close)
{
	if (b->len > 0)
		trib_strbuf_addc(b, ',');
	trib_jdoc_quote(b, name);
	trib_strbuf_addc(b, ':');
	trib_strbuf_addc(b, open);
	trib_strbuf_add(b, body->data, body->len);
	trib_strbuf_addc(b, close);
	trib_strbuf_free(body);
}

void
trib_mongo_int64_paths(const bson_t *doc, const char *name, trib_strbuf *b)
{
	walk		w = {.depth = 0};
	trib_strbuf paths = {0};
	bson_iter_t it;

	if (doc == NULL || !bson_iter_init(&it, doc))
		return;
	w.b = &paths;
	walk_level(&w, &it, false);
	if (w.found == 0)
		return;
	add_member(b, name, '[', &paths, ']');
}

void
trib_mongo_int64_member(const bson_t *after, const bson_t *before, const bson_t *updated,
						trib_strbuf *b)
{
	trib_strbuf m = {0};

	trib_mongo_int64_paths(after, "after", &m);
	trib_mongo_int64_paths(before, "before", &m);
	trib_mongo_int64_paths(updated, "updatedFields", &m);
	if (m.len == 0)
		return;
	add_member(b, "int64", '{', &m, '}');
}

void
trib_mongo_int64_extra(const bson_t *after, const bson_t *before, const bson_t *updated,
					   char **extra)
{
	trib_strbuf m = {0};
	trib_strbuf o = {0};

	trib_mongo_int64_member(after, before, updated, &m);
	if (m.len == 0)
		return;
	trib_strbuf_addc(&o, '{');
	if (*extra != NULL && strlen(*extra) > 2)
	{
		/* its members ({"k":v,...} less its braces), then ours */
		trib_strbuf_add(&o, *extra + 1, strlen(*extra) - 2);
		trib_strbuf_addc(&o, ',');
	}
	trib_strbuf_add(&o, m.data, m.len);
	trib_strbuf_addc(&o, '}');
	trib_strbuf_free(&m);
	free(*extra);
	*extra = trib_strbuf_finish(&o);
}
