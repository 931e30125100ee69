/*
 * mongo_match.c: the stream's `$match` stages as a filter on the
 * documents the snapshot copies (see mongo_match.h), rewritten with
 * libbson's iterators.
 */
#include "mongo_match.h"

#include <stdio.h>
#include <string.h>

#include "errf.h"

#define ACCEPTED "accepted for a snapshot: $match stages on fullDocument.<field> and " \
	"documentKey._id, under $and, $or and $nor; or set `snapshot: never`"

static bool rewrite_expr(bson_iter_t *it, bson_t *out, const char *where, char *errbuf,
						 size_t errlen);

/* The document's key for an event key, or NULL when there is none. */
static const char *
doc_key(const char *k)
{
	if (strncmp(k, "fullDocument.", 13) == 0 && k[13] != '\0')
		return k + 13;
	if (strcmp(k, "documentKey._id") == 0 || strncmp(k, "documentKey._id.", 16) == 0)
		return k + 12;
	return NULL;
}

/* $and, $or, $nor: an array of expressions, each rewritten. */
static bool
rewrite_list(bson_iter_t *it, bson_t *out, const char *where, char *errbuf, size_t errlen)
{
	const char *op = bson_iter_key(it);
	bson_iter_t a;
	bson_t		arr;
	char		w[512];
	bool		ok = true;

	if (!BSON_ITER_HOLDS_ARRAY(it) || !bson_iter_recurse(it, &a))
		return trib_errf(errbuf, errlen, "%s.%s: not an array of expressions", where, op);
	bson_append_array_begin(out, op, -1, &arr);
	while (ok && bson_iter_next(&a))
	{
		bson_iter_t e;
		bson_t		sub;

		snprintf(w, sizeof(w), "%s.%s[%s]", where, op, bson_iter_key(&a));
		if (!BSON_ITER_HOLDS_DOCUMENT(&a) || !bson_iter_recurse(&a, &e))
			return trib_errf(errbuf, errlen, "%s: not an expression", w);
		bson_append_document_begin(&arr, bson_iter_key(&a), -1, &sub);
		ok = rewrite_expr(&e, &sub, w, errbuf, errlen);
		bson_append_document_end(&arr, &sub);
	}
	bson_append_array_end(out, &arr);
	return ok;
}

/* One filter expression (the keys under it at `it`) into out. */
static bool
rewrite_expr(bson_iter_t *it, bson_t *out, const char *where, char *errbuf, size_t errlen)
{
	while (bson_iter_next(it))
	{
		const char *k = bson_iter_key(it);
		const char *d = doc_key(k);

		if (!strcmp(k, "$and") || !strcmp(k, "$or") || !strcmp(k, "$nor"))
		{
			if (!rewrite_list(it, out, where, errbuf, errlen))
				return false;
			continue;
		}
		if (d == NULL)
			return trib_errf(errbuf, errlen, "%s.%s: cannot apply to the documents the "
							 "snapshot copies (%s)", where, k, ACCEPTED);
		bson_append_value(out, d, -1, bson_iter_value(it));
	}
	return true;
}

/* See mongo_match.h. */
bool
trib_mongo_match_filter(const char *pipeline, bson_t *out, char *errbuf, size_t errlen)
{
	bson_error_t err;
	bson_t	   *stages;
	bson_iter_t s;
	bson_t		and;
	bool		ok = true;

	bson_init(out);
	if (pipeline == NULL)
		return true;
	stages = bson_new_from_json((const uint8_t *) pipeline, -1, &err);
	if (stages == NULL)
		return trib_errf(errbuf, errlen, "pipeline: not valid (Extended) JSON: %s",
						 err.message);
	bson_append_array_begin(out, "$and", 4, &and);
	for (bson_iter_init(&s, stages); ok && bson_iter_next(&s);)
	{
		bson_iter_t st,
					m;
		bson_t		sub;
		char		where[64];

		snprintf(where, sizeof(where), "pipeline[%s]", bson_iter_key(&s));
		if (!BSON_ITER_HOLDS_DOCUMENT(&s) || !bson_iter_recurse(&s, &st) ||
			!bson_iter_next(&st) || strcmp(bson_iter_key(&st), "$match") != 0 ||
			!BSON_ITER_HOLDS_DOCUMENT(&st) || !bson_iter_recurse(&st, &m))
		{
			ok = trib_errf(errbuf, errlen, "%s: only $match stages can filter the documents "
						   "the snapshot copies (%s)", where, ACCEPTED);
			break;
		}
		strncat(where, ".$match", sizeof(where) - strlen(where) - 1);
		bson_append_document_begin(&and, bson_iter_key(&s), -1, &sub);
		ok = rewrite_expr(&m, &sub, where, errbuf, errlen);
		bson_append_document_end(&and, &sub);
	}
	bson_append_array_end(out, &and);
	bson_destroy(stages);
	if (ok && bson_count_keys(out) == 1)
	{
		bson_iter_t a;

		/* no stage: no filter */
		if (bson_iter_init_find(&a, out, "$and") && bson_iter_recurse(&a, &a) &&
			!bson_iter_next(&a))
			bson_reinit(out);
	}
	return ok;
}
