/*
 * yaml_tree.h: a YAML document as a small tree of nodes with positions.
 *
 * Design.  libyaml's event parser is streaming; the config validator wants
 * to look a key up before walking a map (a sink's `type` decides which keys
 * are valid) and to report every error with its line and column.  So the
 * events are folded into a tree once, each node remembering where it
 * started, and the validator walks the tree.
 *
 * Only what a config file needs is kept: scalars (text, and whether the
 * scalar was plain and untagged, which is what makes `~`, `null` or an empty
 * value mean null), maps (keys must be scalars; order and duplicates are
 * kept so the validator can report them) and lists.  Aliases are expanded
 * by copying the anchored node.  Limits on node count, total text, keys per
 * map and nesting depth make a hostile file ("billion laughs") fail with an
 * error instead of exhausting memory, time or stack.  Exactly one document
 * is allowed.
 *
 * Ownership: yt_parse() returns a tree the caller frees with yt_free().
 */
#ifndef TRIB_YAML_TREE_H
#define TRIB_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum yt_kind
{
	YT_SCALAR,
	YT_MAP,
	YT_SEQ
} yt_kind;

typedef struct yt_node
{
	yt_kind		kind;
	int			line;			/* 1-based */
	int			column;			/* 1-based */
	char	   *text;			/* SCALAR: NUL-terminated, no embedded NUL */
	size_t		len;			/* SCALAR: strlen(text) */
	bool		plain;			/* SCALAR: plain style and no tag */
	struct yt_node **child;		/* MAP: key, value, key, value...; SEQ: items */
	size_t		nchild;			/* MAP: twice the number of pairs */
	size_t		cap;
} yt_node;

/* Limits that bound memory, time and recursion on hostile input. */
#define YT_MAX_DEPTH 64
#define YT_MAX_NODES 100000
#define YT_MAX_TEXT (16u * 1024 * 1024)
#define YT_MAX_MAP_KEYS 10000	/* keeps duplicate-key checks cheap */

/*
 * Parse `len` bytes of YAML.  On success *root is the document's root node,
 * or NULL when the input holds no document (empty or only comments).  On
 * failure returns false, *root is NULL, and `line`/`column` (1-based) and
 * `msg` describe the first problem.
 */
bool		yt_parse(const char *buf, size_t len, yt_node **root,
					 int *line, int *column, char *msg, size_t msglen);

/* Free a tree; NULL is allowed. */
void		yt_free(yt_node *node);

/* True for a plain, untagged scalar that YAML reads as null. */
bool		yt_is_null(const yt_node *node);

/* What a node is, for error messages: "a map", "a list", "null", or a
 * scalar's text in quotes (shortened to about 40 bytes).  Written into
 * buf, which should hold YT_DESCRIBE_LEN bytes; returns buf. */
#define YT_DESCRIBE_LEN 64
const char *yt_describe(const yt_node *node, char *buf, size_t len);

/* The value of `key` in a map, or NULL (the first one if repeated). */
const yt_node *yt_map_get(const yt_node *map, const char *key);

/* The key node of `key` in a map (for its position), or NULL. */
const yt_node *yt_map_key(const yt_node *map, const char *key);

#endif							/* TRIB_YAML_TREE_H */
