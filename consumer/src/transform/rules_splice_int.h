/*
 * rules_splice_int.h: what the two files of the rules' text path share
 * (rules_splice.c: lookups, values and the splice; rules_splice_index.c:
 * indexing an image).  Private to transform/: an image's index (sp_img,
 * its members sp_node), the text path's state (struct rl_splice), the
 * names' hash that both the index's table and the lookups use, and the
 * index's entry point.
 */
#ifndef TRIB_RULES_SPLICE_INT_H
#define TRIB_RULES_SPLICE_INT_H

#include "rules_splice.h"

#include "arena.h"
#include "jscan.h"
#include "jsondoc.h"
#include "jvalue.h"
#include "strbuf.h"
#include "yajl_tokens.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#define SP_MAX_DEPTH 128		/* yajl_gen's own limit */
#define SP_SCAN_MAX 16			/* members an image's lookups scan, no table */

/* One object member. */
typedef struct sp_node
{
	int			parent;			/* member index of its object, -1: the root */
	size_t		name_off;		/* in names, NUL-terminated */
	size_t		name_len;		/* up to its first NUL (what strcmp sees) */
	size_t		text_off;		/* scalar's decoded text in names */
	yajl_type	kind;
	size_t		start;			/* its value in text: [start, end) */
	size_t		end;
	yajl_val	v;				/* the node a value op left, or NULL */
	bool		dup;			/* another member of its object has its name */
} sp_node;

/* The index of one image. */
typedef struct sp_img
{
	bool		built;
	bool		usable;			/* the index may be used */
	bool		spliced;		/* text differs from the event's */
	char	   *text;			/* what the tree path's dump would write */
	size_t		len;
	size_t		cap;
	sp_node    *n;
	size_t		nn;
	size_t		ncap;
	trib_strbuf names;
	int		   *ht;				/* (parent, name) -> member + 1, 0: free */
	size_t		htcap;			/* 1 << htbits, at least 2 * nn */
	int			htbits;			/* 0: no table, the members are scanned */
} sp_img;

struct rl_splice
{
	sp_img		img[RL_SPLICE_NIMG];
	yajl_gen	g;				/* writes the values ops return */
	trib_arena	arena;			/* yajl's memory while indexing one image */
	yajl_alloc_funcs af;
	trib_strbuf lit;			/* a plain string result, quoted (put_scalar) */
	trib_jvalue_buf out;		/* a text op's result, its buffer reused */
	const void *same;			/* out is the text op's result under this
								 * token (rl_splice_apply_at; NULL: none,
								 * reset per event) for a scalar ... */
	yajl_type	same_kind;		/* ... of this kind, */
	int			same_img;		/* whose text lies in this image's names */
	size_t		same_off;		/* (names only grow within an event) */
	size_t		same_len;
};

/* Append name s[0..n) and a NUL to im's names; its offset there. */
static inline size_t
add_name(sp_img *im, const char *s, size_t n)
{
	size_t		off = im->names.len;

	trib_strbuf_add(&im->names, s, n);
	trib_strbuf_addc(&im->names, '\0');
	return off;
}

/* A name's hash: its length and three of its bytes, no loop (a collision
 * costs a probe; names are compared whole). */
static inline uint32_t
name_key(const char *s, size_t n)
{
	uint32_t	h = (uint32_t) n * 0x9E3779B1u;

	if (n > 0)
		h ^= (uint32_t) (unsigned char) s[0] | (uint32_t) (unsigned char) s[n - 1] << 8 |
			(uint32_t) (unsigned char) s[n / 2] << 16;
	return h;
}

/* Where a member of object `parent` whose name_key is h starts its probe. */
static inline size_t
slot_of(const sp_img *im, uint32_t h, int parent)
{
	return ((h ^ (uint32_t) parent * 0x85EBCA6Bu) * 0xC2B2AE35u) >> (32 - im->htbits);
}

/* Does member k have the name s[0..n) in object `parent`? */
static inline bool
same_name(const sp_img *im, size_t k, int parent, const char *s, size_t n)
{
	const sp_node *m = &im->n[k];

	return m->parent == parent && m->name_len == n &&
		memcmp(im->names.data + m->name_off, s, n) == 0;
}

/*
 * Index `text` (len bytes) into im, as compact() writes it (im->text);
 * usable when compact() could, yajl_tree_parse would accept it and it is
 * an object.  From the event's image index (ix, its part pt) when that
 * still describes the text; else the fast index (jscan), then yajl's
 * callback parse for what it does not take (rules_splice_index.c).
 */
void		sp_img_build(rl_splice *sp, sp_img *im, const char *text, size_t len,
						 const trib_image_index *ix, const trib_image_part *pt);

#endif							/* TRIB_RULES_SPLICE_INT_H */
