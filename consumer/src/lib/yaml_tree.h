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
 * by copying the anchored node.  Merge keys (`<<`) and tags other than
 * !!str, !!map and !!seq are errors: ignored, they would leave keys out or
 * take a `!!binary` or `!vault` value as the text written.  Limits on node count, total text, keys per
 * map and nesting depth make a hostile file ("billion laughs") fail with an
 * error instead of exhausting memory, time or stack.  Exactly one document
 * is allowed.
 *
 * Ownership: trib_yaml_parse() returns a tree the caller frees with trib_yaml_free().
 */
#ifndef TRIB_YAML_TREE_H
#define TRIB_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum trib_yaml_kind
{
	TRIB_YAML_SCALAR,
	TRIB_YAML_MAP,
	TRIB_YAML_SEQ
} trib_yaml_kind;

typedef struct trib_yaml_node
{
	trib_yaml_kind kind;
	int			line;			/* 1-based */
	int			column;			/* 1-based */
	char	   *text;			/* SCALAR: NUL-terminated, no embedded NUL */
	size_t		len;			/* SCALAR: strlen(text) */
	bool		plain;			/* SCALAR: plain style and no tag */
	struct trib_yaml_node **child;		/* MAP: key, value, key, value...; SEQ: items */
	size_t		nchild;			/* MAP: twice the number of pairs */
	size_t		cap;
} trib_yaml_node;

/* Limits that bound memory, time and recursion on hostile input. */
#define TRIB_YAML_MAX_DEPTH 64
#define TRIB_YAML_MAX_NODES 100000
#define TRIB_YAML_MAX_TEXT (16u * 1024 * 1024)
#define TRIB_YAML_MAX_MAP_KEYS 10000	/* keeps duplicate-key checks cheap */

/*
 * Parse `len` bytes of YAML.  On success *root is the document's root node,
 * or NULL when the input holds no document (empty or only comments).  On
 * failure returns false, *root is NULL, and `line`/`column` (1-based) and
 * `msg` describe the first problem.
 */
bool		trib_yaml_parse(const char *buf, size_t len, trib_yaml_node **root,
							int *line, int *column, char *msg, size_t msglen);

/* Free a tree; NULL is allowed. */
void		trib_yaml_free(trib_yaml_node *node);

/* True for a plain, untagged scalar that YAML reads as null. */
bool		trib_yaml_is_null(const trib_yaml_node *node);

/* What a node is, for error messages: "a map", "a list", "null", or a
 * scalar's text in quotes (shortened to about 40 bytes).  Written into
 * buf, which should hold TRIB_YAML_DESCRIBE_LEN bytes; returns buf. */
#define TRIB_YAML_DESCRIBE_LEN 64
const char *trib_yaml_describe(const trib_yaml_node *node, char *buf, size_t len);

/* The value of `key` in a map, or NULL (the first one if repeated). */
const trib_yaml_node *trib_yaml_map_get(const trib_yaml_node *map, const char *key);

/* The key node of `key` in a map (for its position), or NULL. */
const trib_yaml_node *trib_yaml_map_key(const trib_yaml_node *map, const char *key);

#endif							/* TRIB_YAML_TREE_H */
