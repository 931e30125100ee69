/*
 * sink_mongodb_ejson.c: what the MongoDB sink reads from a MongoDB
 * source's event beside its documents (see sink_mongodb.h): the int64
 * marks of the images and the updateDescription of an update that came
 * without its document.
 *
 * Design.  The source writes documents as relaxed Extended JSON, which
 * writes an int64 that fits in 32 bits as it writes an int32; libbson's
 * parser then makes it an int32.  The source lists the paths of those
 * values in the event's extra ("int64", source/mongodb/mongo_int64.h)
 * when a sink asks (the sink's needs(): TRIB_NEED_INT64_TYPES), and the
 * parsed document is copied here with the int32 at each listed path made
 * an int64.  A path is a JSON array of member names and array indexes;
 * a listed path that holds no int32 any more (a rule rewrote the value)
 * changes nothing.  The copy descends only where some path leads, and at
 * most MAX_DEPTH levels (libbson's JSON parser reads fewer).
 *
 * An update without fullDocument (the source's `full_document: default`,
 * or updateLookup of a document deleted since) carries only MongoDB's
 * updateDescription (in extra): updatedFields become $set (with their
 * int64 marks, "int64"."updatedFields"), removedFields
 * $unset, each truncatedArrays entry {$push: {field: {$each: [],
 * $slice: newSize}}}; the truncations go first, as an update of their
 * own, since a path under a truncated array in $set would conflict with
 * it in one update.
 *
 * libbson's Extended JSON parser refuses a document nested 99 levels deep
 * or more; MongoDB stores deeper ones, so a document the parser refuses
 * is read a second way (trib_mongosink_ejson_deep): yajl's tree, whose
 * plain values are appended as libbson's parser would append them
 * (integers int32 or int64, other numbers double), and each Extended JSON
 * wrapper (an object whose first member starts with '$') handed to
 * libbson's parser alone, a few levels deep.
 */
#include "sink_mongodb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "jsondoc.h"

#define MAX_DEPTH 128

/* The array at extra.int64.<image>, or NULL. */
static yajl_val
marks_of(yajl_val extra, const char *image)
{
	const char *path[] = {"int64", image, NULL};

	return extra ? yajl_tree_get(extra, path, yajl_t_array) : NULL;
}

/* True when path element e names key (a member name, or an array index
 * written as a number). */
static bool
elem_is(yajl_val e, const char *key)
{
	if (YAJL_IS_STRING(e))
		return strcmp(e->u.string, key) == 0;
	return YAJL_IS_NUMBER(e) && strcmp(e->u.number.r, key) == 0;
}

/* How the path `pre` (depth names) + key stands to the listed paths:
 * 2 when one is exactly it, 1 when one goes below it, else 0. */
static int
path_match(yajl_val marks, const char **pre, size_t depth, const char *key)
{
	int			best = 0;

	for (size_t i = 0; i < marks->u.array.len && best < 2; i++)
	{
		yajl_val	p = marks->u.array.values[i];
		size_t		j;

		if (!YAJL_IS_ARRAY(p) || p->u.array.len < depth + 1)
			continue;
		for (j = 0; j < depth && elem_is(p->u.array.values[j], pre[j]); j++)
			;
		if (j < depth || !elem_is(p->u.array.values[depth], key))
			continue;
		best = p->u.array.len == depth + 1 ? 2 : 1;
	}
	return best;
}

/* Append the elements at it to dst, the marked int32 values as int64. */
static bool
copy_marked(bson_t *dst, bson_iter_t *it, yajl_val marks, const char **pre, size_t depth)
{
	bool		ok = true;

	while (ok && bson_iter_next(it))
	{
		const char *key = bson_iter_key(it);
		int			m = depth < MAX_DEPTH ? path_match(marks, pre, depth, key) : 0;
		bson_iter_t child;
		bson_t		sub;

		if (m == 2 && BSON_ITER_HOLDS_INT32(it))
			ok = bson_append_int64(dst, key, -1, bson_iter_int32(it));
		else if (m == 1 && BSON_ITER_HOLDS_DOCUMENT(it) && bson_iter_recurse(it, &child))
		{
			pre[depth] = key;
			ok = bson_append_document_begin(dst, key, -1, &sub) &&
				copy_marked(&sub, &child, marks, pre, depth + 1);
			ok = bson_append_document_end(dst, &sub) && ok;
		}
		else if (m == 1 && BSON_ITER_HOLDS_ARRAY(it) && bson_iter_recurse(it, &child))
		{
			pre[depth] = key;
			ok = bson_append_array_begin(dst, key, -1, &sub) &&
				copy_marked(&sub, &child, marks, pre, depth + 1);
			ok = bson_append_array_end(dst, &sub) && ok;
		}
		else
			ok = bson_append_iter(dst, NULL, 0, it);
	}
	return ok;
}

/* See sink_mongodb.h. */
bson_t *
trib_mongosink_int64_marks(const bson_t *doc, const char *extra, const char *image)
{
	char		perr[64];
	yajl_val	x = extra ? yajl_tree_parse(extra, perr, sizeof(perr)) : NULL;
	yajl_val	marks = marks_of(x, image);
	const char *pre[MAX_DEPTH];
	bson_t	   *out = NULL;
	bson_iter_t it;

	if (marks != NULL && marks->u.array.len > 0 && bson_iter_init(&it, doc))
	{
		out = bson_new();
		if (!copy_marked(out, &it, marks, pre, 0))
		{
			bson_destroy(out);
			out = NULL;
		}
	}
	yajl_tree_free(x);
	return out;
}

/* The truncations of ud's truncatedArrays into trunc as $push/$slice. */
static bool
truncations(const bson_t *ud, bson_t *trunc, char *errbuf, size_t errlen)
{
	bson_iter_t it,
				a,
				e;
	bson_t		push,
				f,
				none;
	bool		any = false;

	if (!bson_iter_init_find(&it, ud, "truncatedArrays") || !BSON_ITER_HOLDS_ARRAY(&it))
		return true;
	bson_iter_recurse(&it, &a);
	while (bson_iter_next(&a))
	{
		const char *field = NULL;
		int64_t		size = -1;

		if (BSON_ITER_HOLDS_DOCUMENT(&a) && bson_iter_recurse(&a, &e))
		{
			while (bson_iter_next(&e))
			{
				if (strcmp(bson_iter_key(&e), "field") == 0 && BSON_ITER_HOLDS_UTF8(&e))
					field = bson_iter_utf8(&e, NULL);
				else if (strcmp(bson_iter_key(&e), "newSize") == 0 && BSON_ITER_HOLDS_NUMBER(&e))
					size = bson_iter_as_int64(&e);
			}
		}
		if (field == NULL || size < 0)
		{
			snprintf(errbuf, errlen, "updateDescription.truncatedArrays holds an entry "
					 "without a string field and a newSize of 0 or more");
			return false;
		}
		if (!any)
			bson_append_document_begin(trunc, "$push", 5, &push);
		any = true;
		bson_append_document_begin(&push, field, -1, &f);
		bson_append_array_begin(&f, "$each", 5, &none);
		bson_append_array_end(&f, &none);
		BSON_APPEND_INT64(&f, "$slice", size);
		bson_append_document_end(&push, &f);
	}
	if (any)
		bson_append_document_end(trunc, &push);
	return true;
}

/* ud's updatedFields (their int64 marks applied) and removedFields into
 * update as $set and $unset. */
static void
sets(const bson_t *ud, const char *extra, bson_t *update)
{
	bson_iter_t it,
				a;
	bson_t		unset;
	const uint8_t *data;
	uint32_t	len;
	bson_t		fields;
	bson_t	   *marked;
	bool		any = false;

	if (bson_iter_init_find(&it, ud, "updatedFields") && BSON_ITER_HOLDS_DOCUMENT(&it))
	{
		bson_iter_document(&it, &len, &data);
		if (bson_init_static(&fields, data, len) && !bson_empty(&fields))
		{
			marked = trib_mongosink_int64_marks(&fields, extra, "updatedFields");
			BSON_APPEND_DOCUMENT(update, "$set", marked ? marked : &fields);
			if (marked)
				bson_destroy(marked);
		}
	}
	if (!bson_iter_init_find(&it, ud, "removedFields") || !BSON_ITER_HOLDS_ARRAY(&it))
		return;
	bson_iter_recurse(&it, &a);
	while (bson_iter_next(&a))
		if (BSON_ITER_HOLDS_UTF8(&a))
		{
			if (!any)
				bson_append_document_begin(update, "$unset", 6, &unset);
			any = true;
			BSON_APPEND_UTF8(&unset, bson_iter_utf8(&a, NULL), "");
		}
	if (any)
		bson_append_document_end(update, &unset);
}

/* See sink_mongodb.h. */
bool
trib_mongosink_update_desc(const char *extra, bson_t *trunc, bson_t *update, bool *has,
						   char *errbuf, size_t errlen)
{
	bson_error_t err;
	bson_t	   *x = extra ? bson_new_from_json((const uint8_t *) extra, -1, &err) : NULL;
	bson_iter_t it;
	const uint8_t *data;
	uint32_t	len;
	bson_t		ud;
	bool		ok = true;

	*has = false;
	if (extra != NULL && x == NULL)
	{
		snprintf(errbuf, errlen, "the updateDescription is not a JSON object of Extended JSON");
		return false;
	}
	if (x && bson_iter_init_find(&it, x, "updateDescription") && BSON_ITER_HOLDS_DOCUMENT(&it))
	{
		bson_iter_document(&it, &len, &data);
		*has = bson_init_static(&ud, data, len);
		ok = !*has || truncations(&ud, trunc, errbuf, errlen);
		if (ok && *has)
			sets(&ud, extra, update);
	}
	if (x)
		bson_destroy(x);
	return ok;
}

/* Append a tree value as libbson's Extended JSON parser would. */
static bool
deep_value(bson_t *dst, const char *key, yajl_val v, int depth)
{
	bson_t		sub;
	bool		ok = true;
	char		ibuf[16];
	const char *ikey;

	if (depth > MAX_DEPTH + 100)
		return false;
	if (YAJL_IS_STRING(v))
		return bson_append_utf8(dst, key, -1, v->u.string, -1);
	if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
		return bson_append_bool(dst, key, -1, YAJL_IS_TRUE(v));
	if (YAJL_IS_NULL(v))
		return bson_append_null(dst, key, -1);
	if (YAJL_IS_NUMBER(v))
	{
		const char *r = v->u.number.r;
		char	   *end;
		long long	n;

		if (strpbrk(r, ".eE") != NULL)
			return bson_append_double(dst, key, -1, strtod(r, NULL));
		errno = 0;
		n = strtoll(r, &end, 10);
		if (errno != 0 || *end != '\0')
			return false;
		return n >= INT32_MIN && n <= INT32_MAX ? bson_append_int32(dst, key, -1, (int32_t) n)
			: bson_append_int64(dst, key, -1, n);
	}
	if (YAJL_IS_ARRAY(v))
	{
		bson_append_array_begin(dst, key, -1, &sub);
		for (size_t i = 0; ok && i < v->u.array.len; i++)
		{
			bson_uint32_to_string((uint32_t) i, &ikey, ibuf, sizeof(ibuf));
			ok = deep_value(&sub, ikey, v->u.array.values[i], depth + 1);
		}
		return bson_append_array_end(dst, &sub) && ok;
	}
	if (v->u.object.len > 0 && v->u.object.keys[0][0] == '$')
	{
		/* a wrapper: {"v": <it>} through libbson's parser */
		char	   *j = trib_jdoc_dump(v);
		size_t		n = strlen(j);
		char	   *w = malloc(n + 8);
		bson_error_t err;
		bson_t	   *b;
		bson_iter_t it;

		if (w == NULL)
		{
			free(j);
			return false;
		}
		memcpy(w, "{\"v\":", 5);
		memcpy(w + 5, j, n);
		strcpy(w + 5 + n, "}");
		free(j);
		b = bson_new_from_json((const uint8_t *) w, -1, &err);
		free(w);
		ok = b != NULL && bson_iter_init_find(&it, b, "v") &&
			bson_append_value(dst, key, -1, bson_iter_value(&it));
		if (b)
			bson_destroy(b);
		return ok;
	}
	bson_append_document_begin(dst, key, -1, &sub);
	for (size_t i = 0; ok && i < v->u.object.len; i++)
		ok = deep_value(&sub, v->u.object.keys[i], v->u.object.values[i], depth + 1);
	return bson_append_document_end(dst, &sub) && ok;
}

/* See sink_mongodb.h. */
bson_t *
trib_mongosink_ejson_deep(const char *json)
{
	char		perr[64];
	/* text deep_value would refuse (a value below MAX_DEPTH + 100
	 * levels: nesting past MAX_DEPTH + 101) is refused before a tree is
	 * built, since the tree's free recurses once per level */
	yajl_val	v = json ? trib_jdoc_parse_depth(json, MAX_DEPTH + 101, perr, sizeof(perr)) : NULL;
	bson_t	   *out = NULL;
	bool		ok = YAJL_IS_OBJECT(v);

	if (ok)
	{
		out = bson_new();
		for (size_t i = 0; ok && i < v->u.object.len; i++)
			ok = deep_value(out, v->u.object.keys[i], v->u.object.values[i], 1);
		if (!ok)
		{
			bson_destroy(out);
			out = NULL;
		}
	}
	yajl_tree_free(v);
	return out;
}
