/*
 * jpath.c: field paths into row-image trees (see jpath.h).
 *
 * A path is parsed once into unescaped segments with a glob flag each, so
 * a walk compares plain segments with strcmp and only globs with
 * fnmatch(3).  Walks go depth-first; arrays are stepped through without
 * using up a segment.
 */
#include "jpath.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsondoc.h"
#include "strbuf.h"

bool
trib_jpath_parse(const char *text, trib_jpath *out, char *errbuf, size_t errlen)
{
	trib_strbuf seg = {0};
	const char *s = text;

	memset(out, 0, sizeof(*out));
	out->text = trib_xstrdup(text);
	for (;;)
	{
		if (*s == '\\' && s[1] == '.')
		{
			trib_strbuf_addc(&seg, '.');
			s += 2;
			continue;
		}
		if (*s != '.' && *s != '\0')
		{
			trib_strbuf_addc(&seg, *s++);
			continue;
		}
		if (seg.len == 0)
		{
			snprintf(errbuf, errlen, "field path \"%s\" has an empty segment "
					 "(accepted: column or column.key.key, \\. for a literal dot)", text);
			trib_strbuf_free(&seg);
			trib_jpath_free(out);
			return false;
		}
		out->seg = trib_xrealloc(out->seg, sizeof(char *) * (out->nseg + 1));
		out->glob = trib_xrealloc(out->glob, sizeof(bool) * (out->nseg + 1));
		out->seg[out->nseg] = trib_strbuf_finish(&seg);
		out->glob[out->nseg] = strpbrk(out->seg[out->nseg], "*?[") != NULL;
		out->nseg++;
		if (*s == '\0')
			break;
		s++;
	}
	return true;
}

void
trib_jpath_free(trib_jpath *p)
{
	for (int i = 0; i < p->nseg; i++)
		free(p->seg[i]);
	free(p->seg);
	free(p->glob);
	free(p->text);
	memset(p, 0, sizeof(*p));
}

static bool
seg_matches(const trib_jpath *p, int i, const char *name)
{
	if (p->glob[i])
		return fnmatch(p->seg[i], name, 0) == 0;
	return strcmp(p->seg[i], name) == 0;
}

bool
trib_jpath_first_matches(const trib_jpath *p, const char *column)
{
	return p->nseg > 0 && seg_matches(p, 0, column);
}

static bool walk(yajl_val *slot, const char *name, const trib_jpath *p, int depth,
				 trib_jpath_fn fn, void *arg);

/* Descend into an object's matching keys for segment `depth`. */
static bool
walk_object(yajl_val obj, const trib_jpath *p, int depth, trib_jpath_fn fn, void *arg)
{
	for (size_t i = 0; i < obj->u.object.len; i++)
	{
		const char *k = obj->u.object.keys[i];

		if (!seg_matches(p, depth, k))
			continue;
		if (depth + 1 == p->nseg)
		{
			if (!fn(&obj->u.object.values[i], k, arg))
				return false;
		}
		else if (!walk(&obj->u.object.values[i], k, p, depth + 1, fn, arg))
			return false;
	}
	return true;
}

/* The node in *slot is reached; segment `depth` applies to its children. */
static bool
walk(yajl_val *slot, const char *name, const trib_jpath *p, int depth,
	 trib_jpath_fn fn, void *arg)
{
	yajl_val	v = *slot;

	if (v == NULL)
		return true;
	if (YAJL_IS_OBJECT(v))
		return walk_object(v, p, depth, fn, arg);
	if (YAJL_IS_ARRAY(v))
	{
		for (size_t i = 0; i < v->u.array.len; i++)
			if (!walk(&v->u.array.values[i], name, p, depth, fn, arg))
				return false;
	}
	return true;
}

bool
trib_jpath_each(yajl_val root, const trib_jpath *p, trib_jpath_fn fn, void *arg)
{
	if (root == NULL || !YAJL_IS_OBJECT(root) || p->nseg == 0)
		return true;
	return walk_object(root, p, 0, fn, arg);
}

/* Remove matching keys of obj at segment depth (the last segment). */
static int
delete_in(yajl_val v, const trib_jpath *p, int depth)
{
	int			n = 0;

	if (v == NULL)
		return 0;
	if (YAJL_IS_ARRAY(v))
	{
		for (size_t i = 0; i < v->u.array.len; i++)
			n += delete_in(v->u.array.values[i], p, depth);
		return n;
	}
	if (!YAJL_IS_OBJECT(v))
		return 0;
	for (size_t i = 0; i < v->u.object.len;)
	{
		const char *k = v->u.object.keys[i];

		if (!seg_matches(p, depth, k))
		{
			i++;
			continue;
		}
		if (depth + 1 < p->nseg)
		{
			n += delete_in(v->u.object.values[i], p, depth + 1);
			i++;
			continue;
		}
		trib_jdoc_remove_at(v, i);
		n++;
	}
	return n;
}

int
trib_jpath_delete(yajl_val root, const trib_jpath *p)
{
	if (p->nseg == 0)
		return 0;
	return delete_in(root, p, 0);
}
