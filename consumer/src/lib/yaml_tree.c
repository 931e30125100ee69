/*
 * yaml_tree.c: fold libyaml's parser events into a tree of positioned nodes.
 *
 * One pass over the events with an explicit stack of open collections (so
 * nesting depth costs no C stack while parsing).  Every node is counted
 * against TRIB_YAML_MAX_NODES and every scalar's bytes against TRIB_YAML_MAX_TEXT; alias
 * expansion copies the anchored subtree and is charged the same way, which
 * is what stops exponential "billion laughs" documents.  Anchors become
 * visible when their node is complete, so an alias inside its own anchor's
 * node is an error rather than a cycle; they are kept in a hash of names,
 * so many anchors and aliases cost one lookup per alias, not their
 * product.  The first error stops the parse.
 */
#include "yaml_tree.h"

#include "intern.h"
#include "strbuf.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

typedef struct trib_yaml_builder
{
	trib_yaml_node *stack[TRIB_YAML_MAX_DEPTH];
	char	   *stack_anchor[TRIB_YAML_MAX_DEPTH]; /* anchor of each open collection */
	int			depth;
	trib_yaml_node *root;
	trib_intern *anchors;		/* name -> node (owned by the tree), the latest */
	size_t		nodes;			/* created so far, copies included */
	size_t		text;			/* scalar bytes so far, copies included */
	int			ndocs;
	bool		failed;
	int			line;
	int			column;
	char	   *msg;
	size_t		msglen;
} trib_yaml_builder;

/* Record the first error at a libyaml mark (0-based) and fail. */
static bool
fail_at(trib_yaml_builder *b, yaml_mark_t mark, const char *fmt, const char *arg)
{
	if (!b->failed)
	{
		b->failed = true;
		b->line = (int) mark.line + 1;
		b->column = (int) mark.column + 1;
		snprintf(b->msg, b->msglen, fmt, arg ? arg : "");
	}
	return false;
}

/* A new node at `mark`, charged against the node budget; NULL when over. */
static trib_yaml_node *
new_node(trib_yaml_builder *b, trib_yaml_kind kind, yaml_mark_t mark)
{
	trib_yaml_node *n;

	if (b->nodes >= TRIB_YAML_MAX_NODES)
	{
		char		limit[32];

		snprintf(limit, sizeof(limit), "%d", TRIB_YAML_MAX_NODES);
		fail_at(b, mark, "the document has more than %s nodes (aliases expanded)", limit);
		return NULL;
	}
	b->nodes++;
	n = trib_xcalloc(1, sizeof(*n));
	n->kind = kind;
	n->line = (int) mark.line + 1;
	n->column = (int) mark.column + 1;
	return n;
}

/* Free a node and its children. */
void
trib_yaml_free(trib_yaml_node *node)
{
	if (node == NULL)
		return;
	for (size_t i = 0; i < node->nchild; i++)
		trib_yaml_free(node->child[i]);
	free(node->child);
	free(node->text);
	free(node);
}

/* Append `child` to a collection node. */
static void
append_child(trib_yaml_node *parent, trib_yaml_node *child)
{
	parent->child = trib_xgrow(parent->child, parent->nchild, &parent->cap,
							   sizeof(trib_yaml_node *), 8);
	parent->child[parent->nchild++] = child;
}

/* Attach a finished or opened node to the open collection (or make it the
 * root).  Takes ownership of `node` in every case. */
static bool
attach(trib_yaml_builder *b, trib_yaml_node *node, yaml_mark_t mark)
{
	trib_yaml_node *parent;

	if (b->depth == 0)
	{
		if (b->root != NULL)
		{
			trib_yaml_free(node);
			return fail_at(b, mark, "only one YAML document is allowed%s", NULL);
		}
		b->root = node;
		return true;
	}
	parent = b->stack[b->depth - 1];
	if (parent->kind == TRIB_YAML_MAP && parent->nchild % 2 == 0 && node->kind != TRIB_YAML_SCALAR)
	{
		trib_yaml_free(node);
		return fail_at(b, mark, "a map key must be a scalar, not a map or a list%s", NULL);
	}
	if (parent->kind == TRIB_YAML_MAP && parent->nchild >= 2 * TRIB_YAML_MAX_MAP_KEYS)
	{
		trib_yaml_free(node);
		return fail_at(b, mark, "a map has more than 10000 keys%s", NULL);
	}
	append_child(parent, node);
	return true;
}

/* Remember `node` under anchor `name` (a later anchor of the same name
 * shadows an earlier one, as YAML says).  A hash, not a list: tens of
 * thousands of anchors each named by an alias must not cost their product. */
static void
add_anchor(trib_yaml_builder *b, const char *name, trib_yaml_node *node)
{
	*trib_intern_value(b->anchors, name, strlen(name)) = node;
}

/* Deep copy of `src` for an alias at `mark`; the copy sits at nesting
 * level `level` (1 = root).  NULL when a limit is exceeded. */
static trib_yaml_node *
copy_node(trib_yaml_builder *b, const trib_yaml_node *src, yaml_mark_t mark, int level)
{
	trib_yaml_node *n;

	if (level > TRIB_YAML_MAX_DEPTH)
	{
		fail_at(b, mark, "the document nests deeper than 64 levels (aliases expanded)%s", NULL);
		return NULL;
	}
	n = new_node(b, src->kind, mark);
	if (n == NULL)
		return NULL;
	n->line = src->line;
	n->column = src->column;
	n->plain = src->plain;
	if (src->kind == TRIB_YAML_SCALAR)
	{
		if (b->text + src->len > TRIB_YAML_MAX_TEXT)
		{
			trib_yaml_free(n);
			fail_at(b, mark, "the document holds more than 16 MiB of text (aliases expanded)%s", NULL);
			return NULL;
		}
		b->text += src->len;
		n->text = trib_xmalloc(src->len + 1);
		memcpy(n->text, src->text, src->len + 1);
		n->len = src->len;
		return n;
	}
	for (size_t i = 0; i < src->nchild; i++)
	{
		trib_yaml_node *c = copy_node(b, src->child[i], mark, level + 1);

		if (c == NULL)
		{
			trib_yaml_free(n);
			return NULL;
		}
		append_child(n, c);
	}
	return n;
}

/*
 * A tag other than the core schema's str, map and seq (or the non-specific
 * "!") is refused: `!!binary`, `!!int` or an application's `!vault` would
 * otherwise be dropped and the text beneath used as it is written.
 */
static bool
check_tag(trib_yaml_builder *b, const yaml_event_t *ev, const yaml_char_t *tag)
{
	static const char *const core[] = {"!", YAML_STR_TAG, YAML_MAP_TAG, YAML_SEQ_TAG, NULL};
	static const char yaml_prefix[] = "tag:yaml.org,2002:";
	const char *t = (const char *) tag;
	char		shown[64];

	if (t == NULL)
		return true;
	for (int i = 0; core[i] != NULL; i++)
		if (strcmp(t, core[i]) == 0)
			return true;
	if (strncmp(t, yaml_prefix, sizeof(yaml_prefix) - 1) == 0)
		snprintf(shown, sizeof(shown), "!!%.40s", t + sizeof(yaml_prefix) - 1);
	else
		snprintf(shown, sizeof(shown), "%.40s", t);
	return fail_at(b, ev->start_mark, "the tag %s is not supported (accepted: no tag, or "
				   "!!str, !!map, !!seq; write the value itself)", shown);
}

/* True when the open collection is a map waiting for a key. */
static bool
expecting_key(const trib_yaml_builder *b)
{
	return b->depth > 0 && b->stack[b->depth - 1]->kind == TRIB_YAML_MAP &&
		b->stack[b->depth - 1]->nchild % 2 == 0;
}

/* A scalar event becomes a node. */
static bool
on_scalar(trib_yaml_builder *b, const yaml_event_t *ev)
{
	const char *value = (const char *) ev->data.scalar.value;
	size_t		len = ev->data.scalar.length;
	trib_yaml_node *n;

	if (!check_tag(b, ev, ev->data.scalar.tag))
		return false;
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && strcmp(value, "<<") == 0 &&
		expecting_key(b))
		return fail_at(b, ev->start_mark, "merge keys (<<) are not supported: write the "
					   "keys out (an alias *name may stand for a whole value)%s", NULL);
	if (memchr(value, '\0', len) != NULL)
		return fail_at(b, ev->start_mark, "a value contains a NUL character%s", NULL);
	if (b->text + len > TRIB_YAML_MAX_TEXT)
		return fail_at(b, ev->start_mark, "the document holds more than 16 MiB of text%s", NULL);
	n = new_node(b, TRIB_YAML_SCALAR, ev->start_mark);
	if (n == NULL)
		return false;
	b->text += len;
	n->text = trib_xmalloc(len + 1);
	memcpy(n->text, value, len);
	n->text[len] = '\0';
	n->len = len;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		ev->data.scalar.tag == NULL;
	if (!attach(b, n, ev->start_mark))
		return false;
	if (ev->data.scalar.anchor != NULL)
		add_anchor(b, (const char *) ev->data.scalar.anchor, n);
	return true;
}

/* The start of a map or list opens a collection. */
static bool
on_start(trib_yaml_builder *b, const yaml_event_t *ev, trib_yaml_kind kind,
		 const yaml_char_t *anchor)
{
	trib_yaml_node *n;

	if (!check_tag(b, ev, kind == TRIB_YAML_MAP ? ev->data.mapping_start.tag
				   : ev->data.sequence_start.tag))
		return false;
	if (b->depth >= TRIB_YAML_MAX_DEPTH)
		return fail_at(b, ev->start_mark, "the document nests deeper than 64 levels%s", NULL);
	n = new_node(b, kind, ev->start_mark);
	if (n == NULL || !attach(b, n, ev->start_mark))
		return false;
	b->stack[b->depth] = n;
	b->stack_anchor[b->depth] = anchor ? trib_xstrdup((const char *) anchor) : NULL;
	b->depth++;
	return true;
}

/* The end of a map or list closes it; its anchor becomes usable. */
static bool
on_end(trib_yaml_builder *b)
{
	b->depth--;
	if (b->stack_anchor[b->depth] != NULL)
	{
		add_anchor(b, b->stack_anchor[b->depth], b->stack[b->depth]);
		free(b->stack_anchor[b->depth]);
		b->stack_anchor[b->depth] = NULL;
	}
	return true;
}

/* An alias is replaced by a copy of the node its anchor names. */
static bool
on_alias(trib_yaml_builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *) ev->data.alias.anchor;
	const trib_yaml_node *target = NULL;
	trib_yaml_node *copy;

	if (trib_intern_find(b->anchors, name, strlen(name)) != NULL)
		target = *trib_intern_value(b->anchors, name, strlen(name));
	if (target == NULL)
		return fail_at(b, ev->start_mark, "unknown anchor *%s", name);
	copy = copy_node(b, target, ev->start_mark, b->depth + 1);
	if (copy == NULL)
		return false;
	copy->line = (int) ev->start_mark.line + 1;
	copy->column = (int) ev->start_mark.column + 1;
	return attach(b, copy, ev->start_mark);
}

/* Dispatch one event; false on error. */
static bool
on_event(trib_yaml_builder *b, const yaml_event_t *ev)
{
	switch (ev->type)
	{
		case YAML_DOCUMENT_START_EVENT:
			if (++b->ndocs > 1)
				return fail_at(b, ev->start_mark, "only one YAML document is allowed%s", NULL);
			return true;
		case YAML_SCALAR_EVENT:
			return on_scalar(b, ev);
		case YAML_SEQUENCE_START_EVENT:
			return on_start(b, ev, TRIB_YAML_SEQ, ev->data.sequence_start.anchor);
		case YAML_MAPPING_START_EVENT:
			return on_start(b, ev, TRIB_YAML_MAP, ev->data.mapping_start.anchor);
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			return on_end(b);
		case YAML_ALIAS_EVENT:
			return on_alias(b, ev);
		default:
			return true;
	}
}

/* Turn libyaml's error state into our message and position. */
static void
parser_error(trib_yaml_builder *b, const yaml_parser_t *p, const char *buf, size_t len)
{
	char		text[256];
	yaml_mark_t mark = p->problem_mark;

	if (p->error == YAML_MEMORY_ERROR)
	{
		fputs("tributary: out of memory\n", stderr);
		abort();
	}
	if (p->error == YAML_READER_ERROR)
	{
		/* the reader reports an offset only: count lines up to it */
		memset(&mark, 0, sizeof(mark));
		for (size_t i = 0; i < p->problem_offset && i < len; i++)
		{
			if (buf[i] == '\n')
			{
				mark.line++;
				mark.column = 0;
			}
			else if (((unsigned char) buf[i] & 0xC0) != 0x80)
				mark.column++;
		}
		if (p->problem_value != -1)
			snprintf(text, sizeof(text), "invalid input: %s (byte 0x%02X)",
					 p->problem ? p->problem : "unreadable",
					 (unsigned) p->problem_value & 0xFF);
		else
			snprintf(text, sizeof(text), "invalid input: %s",
					 p->problem ? p->problem : "unreadable");
	}
	else if (p->context != NULL)
		snprintf(text, sizeof(text), "YAML syntax error: %s (line %zu, column %zu): %s",
				 p->context, p->context_mark.line + 1, p->context_mark.column + 1,
				 p->problem ? p->problem : "unknown problem");
	else
		snprintf(text, sizeof(text), "YAML syntax error: %s",
				 p->problem ? p->problem : "unknown problem");
	fail_at(b, mark, "%s", text);
}

/* Parse a buffer into a tree; see yaml_tree.h. */
bool
trib_yaml_parse(const char *buf, size_t len, trib_yaml_node **root,
				int *line, int *column, char *msg, size_t msglen)
{
	yaml_parser_t parser;
	yaml_event_t event;
	trib_yaml_builder b;
	bool		done = false;

	memset(&b, 0, sizeof(b));
	b.anchors = trib_intern_new();
	b.msg = msg;
	b.msglen = msglen;
	*root = NULL;
	if (msglen > 0)
		msg[0] = '\0';

	if (!yaml_parser_initialize(&parser))
	{
		fputs("tributary: out of memory\n", stderr);
		abort();
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *) buf, len);
	while (!done && !b.failed)
	{
		if (!yaml_parser_parse(&parser, &event))
		{
			parser_error(&b, &parser, buf, len);
			break;
		}
		on_event(&b, &event);
		done = event.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&event);
	}
	yaml_parser_delete(&parser);

	for (int i = 0; i < b.depth; i++)
		free(b.stack_anchor[i]);
	trib_intern_free(b.anchors);

	if (b.failed)
	{
		trib_yaml_free(b.root);
		*line = b.line;
		*column = b.column;
		return false;
	}
	*root = b.root;
	return true;
}

/* True for plain `~`, `null` (any YAML case form) or an empty plain value. */
bool
trib_yaml_is_null(const trib_yaml_node *node)
{
	if (node == NULL)
		return true;
	if (node->kind != TRIB_YAML_SCALAR || !node->plain)
		return false;
	return node->len == 0 || strcmp(node->text, "~") == 0 ||
		strcmp(node->text, "null") == 0 || strcmp(node->text, "Null") == 0 ||
		strcmp(node->text, "NULL") == 0;
}

/* What a node is, in words; see yaml_tree.h. */
const char *
trib_yaml_describe(const trib_yaml_node *node, char *buf, size_t len)
{
	if (trib_yaml_is_null(node))
		snprintf(buf, len, "null");
	else if (node->kind == TRIB_YAML_MAP)
		snprintf(buf, len, "a map");
	else if (node->kind == TRIB_YAML_SEQ)
		snprintf(buf, len, "a list");
	else if (node->len > 40)
		snprintf(buf, len, "\"%.37s...\"", node->text);
	else
		snprintf(buf, len, "\"%s\"", node->text);
	return buf;
}

/* The index of key's node in map's children, or -1. */
static long
key_index(const trib_yaml_node *map, const char *key)
{
	if (map == NULL || map->kind != TRIB_YAML_MAP)
		return -1;
	for (size_t i = 0; i + 1 < map->nchild; i += 2)
		if (strcmp(map->child[i]->text, key) == 0)
			return (long) i;
	return -1;
}

/* Look a key up in a map. */
const trib_yaml_node *
trib_yaml_map_get(const trib_yaml_node *map, const char *key)
{
	long		i = key_index(map, key);

	return i < 0 ? NULL : map->child[i + 1];
}

/* Look a key's own node up in a map. */
const trib_yaml_node *
trib_yaml_map_key(const trib_yaml_node *map, const char *key)
{
	long		i = key_index(map, key);

	return i < 0 ? NULL : map->child[i];
}
