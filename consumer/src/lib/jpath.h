/*
 * jpath.h: field paths into row images (the yajl trees of jsondoc.h).
 *
 * A field is named by a path: segments separated by '.', e.g.
 * `email` (a column) or `meta.contact.phone` (a key inside a json/jsonb
 * column or a document).  A segment may be a glob (fnmatch(3): `*_email`,
 * `addr*`), and `\.` puts a literal dot in a segment.  Arrays are walked
 * transparently: `items.sku` reaches the sku of every element of the items
 * array.
 *
 * Ownership: a trib_jpath owns its segments.
 */
#ifndef TRIB_JPATH_H
#define TRIB_JPATH_H

#include <stdbool.h>
#include <stddef.h>

#include <yajl/yajl_tree.h>

typedef struct trib_jpath
{
	char	  **seg;			/* unescaped segments */
	bool	   *glob;			/* segment has glob characters */
	int			nseg;
	char	   *text;			/* as written, for messages */
} trib_jpath;

/* Parse "a.b\.c.*x"; false and a message for an empty path or segment. */
bool		trib_jpath_parse(const char *text, trib_jpath *out,
							 char *errbuf, size_t errlen);
void		trib_jpath_free(trib_jpath *p);

/* Does a top-level column name match the path's first segment? */
bool		trib_jpath_first_matches(const trib_jpath *p, const char *column);

/*
 * Call fn for every node the path reaches in `root` (an object).  `slot`
 * is the place holding the node, so fn may replace *slot (freeing the old
 * node with yajl_tree_free); `name` is the key under which it sits.  fn
 * returns false to stop (the walk then returns false).
 */
typedef bool (*trib_jpath_fn) (yajl_val *slot, const char *name, void *arg);
bool		trib_jpath_each(yajl_val root, const trib_jpath *p,
							trib_jpath_fn fn, void *arg);

/* Remove every key the path reaches; returns how many were removed. */
int			trib_jpath_delete(yajl_val root, const trib_jpath *p);

#endif							/* TRIB_JPATH_H */
