/*
 * rules_update_desc.c: rules inside updateDescription.updatedFields (see
 * rules_update_desc.h).
 *
 * A key ("address.street", "items.0.card") is split at its dots, array
 * indexes left out, and matched segment by segment against the rule's
 * path; a key of any length is split (a fixed buffer once let a key over
 * 1,023 bytes pass a masking rule unmasked).
 */
#include "rules_update_desc.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "jsondoc.h"
#include "xalloc.h"

#define MAX_SEGS 64

/* The key's non-numeric segments (pointers into *buf, a copy of key the
 * caller frees: a key of any length is split, so none escapes a rule). */
static int
key_segments(const char *key, char **buf, char **segs)
{
	int			n = 0;
	char	   *save = NULL;

	*buf = trib_xstrdup(key);
	for (char *s = strtok_r(*buf, ".", &save); s && n < MAX_SEGS; s = strtok_r(NULL, ".", &save))
		if (strspn(s, "0123456789") != strlen(s))
			segs[n++] = s;
	return n;
}

/* Do the first n segments of the key match the path's? */
static bool
prefix_matches(const trib_jpath *p, char **segs, int n)
{
	for (int i = 0; i < n; i++)
		if (p->glob[i] ? fnmatch(p->seg[i], segs[i], 0) != 0 : strcmp(p->seg[i], segs[i]) != 0)
			return false;
	return true;
}

/* The path without its first `skip` segments. */
static trib_jpath
sub_path(const trib_jpath *p, int skip)
{
	trib_jpath	s = *p;

	s.seg += skip;
	s.glob += skip;
	s.nseg -= skip;
	return s;
}

/* The updatedFields object of ev's extra (parsed into *root), or NULL. */
static yajl_val
updated_fields(const trib_event *ev, yajl_val *root)
{
	const char *path[] = {"updateDescription", "updatedFields", NULL};

	*root = NULL;
	if (ev->op != TRIB_OP_UPDATE || ev->extra == NULL ||
		strstr(ev->extra, "updatedFields") == NULL ||
		(*root = yajl_tree_parse(ev->extra, NULL, 0)) == NULL)
		return NULL;
	return yajl_tree_get(*root, path, yajl_t_object);
}

/* Walk a value (an object, or arrays of objects) with the sub-path. */
static bool
walk_value(yajl_val v, const trib_jpath *sub, trib_jpath_fn fn, void *arg)
{
	if (YAJL_IS_OBJECT(v))
		return trib_jpath_each(v, sub, fn, arg);
	if (YAJL_IS_ARRAY(v))
		for (size_t i = 0; i < v->u.array.len; i++)
			if (!walk_value(v->u.array.values[i], sub, fn, arg))
				return false;
	return true;
}

/* Counts the calls of the rule's function. */
typedef struct counting
{
	trib_jpath_fn fn;
	void	   *arg;
	int			calls;
} counting;

static bool
counting_cb(yajl_val *slot, const char *name, void *arg)
{
	counting   *c = arg;

	c->calls++;
	return c->fn(slot, name, c->arg);
}

/* Write the tree back into ev->extra. */
static void
write_back(trib_event *ev, yajl_val root)
{
	free(ev->extra);
	ev->extra = trib_jdoc_dump(root);
}

bool
rl_dotted_members_each(yajl_val obj, const trib_jpath *p, bool dotted_only,
					   trib_jpath_fn fn, void *arg, int *calls)
{
	counting	c = {fn, arg, 0};
	bool		ok = true;

	for (size_t i = 0; YAJL_IS_OBJECT(obj) && ok && i < obj->u.object.len; i++)
	{
		const char *name = obj->u.object.keys[i];
		char	   *buf,
				   *segs[MAX_SEGS];
		int			n,
					m;

		/* a name the path's first segment spells out (a\.b.c) is
		 * trib_jpath_each's; one a glob matches whole (*.email) is not
		 * reached by it as a dotted path, so it is matched here */
		if (dotted_only && (strchr(name, '.') == NULL ||
							(!p->glob[0] && strcmp(p->seg[0], name) == 0)))
			continue;
		n = key_segments(name, &buf, segs);
		m = n < p->nseg ? n : p->nseg;
		if (n > 0 && prefix_matches(p, segs, m))
		{
			if (n >= p->nseg)
				ok = counting_cb(&obj->u.object.values[i], name, &c);
			else
			{
				trib_jpath	sub = sub_path(p, n);

				ok = walk_value(obj->u.object.values[i], &sub, counting_cb, &c);
			}
		}
		free(buf);
	}
	*calls = c.calls;
	return ok;
}

bool
rl_update_desc_each(trib_event *ev, const trib_jpath *p, trib_jpath_fn fn, void *arg)
{
	yajl_val	root;
	yajl_val	uf = updated_fields(ev, &root);
	int			calls = 0;
	bool		ok = uf == NULL || rl_dotted_members_each(uf, p, false, fn, arg, &calls);

	if (calls > 0)
		write_back(ev, root);
	yajl_tree_free(root);
	return ok;
}

void
rl_update_desc_drop(trib_event *ev, const trib_jpath *p)
{
	yajl_val	root;
	yajl_val	uf = updated_fields(ev, &root);
	int			removed = 0;

	for (size_t i = 0; uf && i < uf->u.object.len;)
	{
		char	   *buf,
				   *segs[MAX_SEGS];
		int			n = key_segments(uf->u.object.keys[i], &buf, segs);
		int			m = n < p->nseg ? n : p->nseg;
		bool		match = n > 0 && prefix_matches(p, segs, m);

		free(buf);
		if (match && n >= p->nseg)
		{
			trib_jdoc_remove_at(uf, i);
			removed++;
			continue;
		}
		if (match)
		{
			trib_jpath	sub = sub_path(p, n);
			yajl_val	v = uf->u.object.values[i];

			if (YAJL_IS_OBJECT(v))
				removed += trib_jpath_delete(v, &sub);
			else if (YAJL_IS_ARRAY(v))
				for (size_t j = 0; j < v->u.array.len; j++)
					if (YAJL_IS_OBJECT(v->u.array.values[j]))
						removed += trib_jpath_delete(v->u.array.values[j], &sub);
		}
		i++;
	}
	if (removed > 0)
		write_back(ev, root);
	yajl_tree_free(root);
}
