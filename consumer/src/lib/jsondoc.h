/*
 * jsondoc.h: row images as mutable JSON trees (field paths into them are
 * jpath.h).
 *
 * Design.  Transform rules (rules.c) read and rewrite fields of an event's
 * row images (JSON object text, event.h).  A row image is parsed once per
 * event with yajl's tree parser, rules change the tree in place, and the
 * tree is written back with yajl_gen.  yajl keeps each number's original
 * text (u.number.r), and the writer emits that text verbatim, so a value no
 * rule touched leaves the tree byte for byte as it came in (apart from
 * insignificant white space, which the plugin never writes).
 *
 * Mutation.  The tree's nodes are yajl_val structs allocated with malloc,
 * exactly as yajl_tree_parse allocates them, so a node made here (a
 * string, a raw number, null) can replace a parsed one and yajl_tree_free
 * releases both.
 *
 * Ownership: jdoc_* functions that return a node pointer return a
 * borrowed pointer into the tree.
 */
#ifndef TRIB_JSONDOC_H
#define TRIB_JSONDOC_H

#include <stdbool.h>
#include <stddef.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* Parse JSON text into a tree; NULL and a message on error. */
yajl_val	trib_jdoc_parse(const char *text, char *errbuf, size_t errlen);

/* The deepest nesting trib_jdoc_parse_bounded() takes. */
#define TRIB_JDOC_MAX_DEPTH 64

/*
 * trib_jdoc_parse() for text from outside (HTTP request bodies): text
 * nested deeper than TRIB_JDOC_MAX_DEPTH arrays and objects is refused
 * before a tree is built ("invalid JSON: nested deeper than 64 levels"),
 * since yajl_tree_free recurses once per level and a megabyte of '['
 * would exhaust the stack.
 */
yajl_val	trib_jdoc_parse_bounded(const char *text, char *errbuf, size_t errlen);

/* The same with another bound: text nested deeper than max_depth is
 * refused before a tree is built (for data whose own format allows more
 * than a request body, e.g. MongoDB documents). */
yajl_val	trib_jdoc_parse_depth(const char *text, int max_depth,
								  char *errbuf, size_t errlen);

/* Write a tree value through g (numbers verbatim, NULL as null); false
 * when yajl_gen refuses (e.g. nesting too deep).  The one tree writer of
 * the consumer. */
bool		trib_jdoc_gen(yajl_gen g, yajl_val v);

/* Append s as a JSON string (quoted, escaped) to b. */
struct trib_strbuf;
void		trib_jdoc_quote(struct trib_strbuf *b, const char *s);

/* The tree as JSON text (malloc'd); numbers verbatim. */
char	   *trib_jdoc_dump(yajl_val v);

/* The text g holds, as a new string (malloc'd); g is cleared and reset
 * for the next value. */
char	   *trib_jdoc_gen_take(yajl_gen g);

/* New nodes (never NULL). */
yajl_val	trib_jdoc_string(const char *s);
yajl_val	trib_jdoc_stringn(const char *s, size_t n);
yajl_val	trib_jdoc_number(const char *raw);	/* raw must be valid JSON number text */
yajl_val	trib_jdoc_null(void);
yajl_val	trib_jdoc_bool(bool b);

/* A deep copy of a node (never NULL for non-NULL input). */
yajl_val	trib_jdoc_copy(yajl_val v);

/* Object helpers: the slot of key `k`, or NULL; add (takes ownership of
 * the value; replaces an existing key); remove by key (frees the value). */
yajl_val   *trib_jdoc_get_slot(yajl_val obj, const char *k);
void		trib_jdoc_put(yajl_val obj, const char *k, yajl_val v);
bool		trib_jdoc_remove(yajl_val obj, const char *k);

/* Remove the i-th member of object obj (frees its key and value). */
void		trib_jdoc_remove_at(yajl_val obj, size_t i);

/* A scalar's text: a string's value, a number's raw text, "true",
 * "false"; NULL for null, objects and arrays. */
const char *trib_jdoc_scalar_text(yajl_val v);

/* The value of obj's member `key` when it is a string; NULL when obj is
 * NULL, the member is absent, or it is not a string. */
const char *trib_jdoc_member_str(yajl_val obj, const char *key);

#endif							/* TRIB_JSONDOC_H */
