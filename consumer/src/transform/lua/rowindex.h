/*
 * rowindex.h: lazy field lookup in a row image (a JSON object text).
 *
 * Design.  Reading one field of a row image should not cost a parse of
 * the whole image into a tree: yajl_tree_parse allocates per node and
 * takes ~1.4 us on a 10-column row, more than a whole filter may cost.
 * A trib_rowidx walks the image one top-level member at a time with the
 * plain-JSON scanner (lib/jscan.h) and records each field (name, kind,
 * value text), stopping as soon as the field asked for has been seen; a
 * later lookup of a field further on continues where the walk stopped.
 * An image the scanner does not take (escapes, comments, an error) is
 * indexed again from its start by yajl's streaming parser, fed in small
 * chunks, which records the same fields as yajl reports them and judges
 * the text; what the scanner records, yajl would have recorded too.
 * Nested objects and arrays are recorded as their byte range in the image
 * and parsed (yajl_tree) only when asked for.  Buffers are kept from one
 * image to the next, so the steady state allocates nothing (yajl's handle
 * only for images the scanner hands over).
 *
 * Values keep their JSON text: a string's decoded UTF-8 (in the index's
 * arena), a number's literal as written.
 *
 * Ownership: the index borrows the image text (it must stay unchanged
 * until the next reset) and owns everything else; pointers into the
 * arena it returns stay valid until the next reset or further parsing,
 * so copy or convert a value before the next lookup.
 */
#ifndef TRIB_ROWINDEX_H
#define TRIB_ROWINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "yajl_tokens.h"

#include "jvalue.h"

/* One top-level field. */
typedef struct trib_rowfield
{
	size_t		key_off;		/* name in the arena */
	size_t		key_len;
	trib_jkind	kind;
	size_t		val_off;		/* scalar: text in the arena; object or
								 * array: offset in the image */
	size_t		val_len;
} trib_rowfield;

typedef struct trib_rowidx
{
	const char *text;			/* the image (borrowed) */
	size_t		len;
	size_t		fed;			/* bytes scanned or handed to yajl so far */
	bool		slow;			/* yajl indexes it (the scanner gave up) */
	yajl_handle h;
	trib_ytok	tok;			/* h's ctx: the callbacks' way to r */
	bool		done;			/* the whole image is indexed */
	bool		failed;			/* not a JSON object */
	int			depth;
	bool		in_key;			/* a key at depth 1 awaits its value */
	size_t		pend_off;		/* the pending key in the arena */
	size_t		pend_len;
	size_t		nest_start;		/* where the nested value began */
	size_t		chunk_base;		/* image offset of the chunk being fed */
	trib_rowfield *fields;
	size_t		nfields;
	size_t		cap;
	char	   *arena;
	size_t		alen;
	size_t		acap;
} trib_rowidx;

/* Tests only: false sends every image to yajl, to compare the two. */
extern bool trib_rowidx_fast;

/* A zeroed index is ready; reset gives it an image (NULL: none). */
void		trib_rowidx_reset(trib_rowidx *r, const char *text, size_t len);

/* Release everything but the struct itself. */
void		trib_rowidx_free(trib_rowidx *r);

/*
 * Look up field key[0..klen).  Returns 1 and sets *f when found, 0 when the
 * image has no such field (or there is no image), -1 when the image is not
 * a JSON object (as far as it had to be read).
 */
int			trib_rowidx_find(trib_rowidx *r, const char *key, size_t klen,
							 const trib_rowfield **f);

/* Index the whole image; false if it is not a JSON object. */
bool		trib_rowidx_complete(trib_rowidx *r);

/* The name and scalar text of f (arena pointers, see Ownership). */
static inline const char *
trib_rowidx_key(const trib_rowidx *r, const trib_rowfield *f)
{
	return r->arena + f->key_off;
}

static inline const char *
trib_rowidx_val(const trib_rowidx *r, const trib_rowfield *f)
{
	return f->kind == TRIB_J_OBJECT || f->kind == TRIB_J_ARRAY
		? r->text + f->val_off : r->arena + f->val_off;
}

#endif							/* TRIB_ROWINDEX_H */
