/*
 * rules_splice.h: value rules on the row text, without a tree (the fast
 * path of rl_apply_values in rules_common.c), owned by rules_splice.c.
 * Private to transform/.  It knows nothing of the rule engine (no
 * rules_common.h): it gets texts, paths and the value op's callback, and the
 * event only for the image index a source may have left on it (event.h).
 *
 * The tree path parses an image into a yajl tree, lets the value op
 * replace nodes, and dumps the whole tree back (trib_jdoc_dump).  Here an
 * image without comments and without escapes in its strings (what yajl_gen
 * writes is then the text itself minus the whitespace between tokens, as
 * PostgreSQL's jsonb output `{"k": 1}` has) is compacted and indexed once
 * with yajl's callback parser: where each object member's value lies in
 * the compact text.  A value op then gets a node for just that value
 * (built as yajl_tree builds it), and the value's new serialisation
 * (yajl_gen, as the dump) is spliced into the compact text.  The result is
 * byte for byte the text the tree path writes; the tests compare both
 * (test_rules_splice.c).  An image no rule changed keeps its own text.
 * A rule may also give a text op (rl_splice_apply_at's tfn), which gets the
 * scalar's text and returns its result without any node.
 *
 * A path goes the tree path (RL_SP_TREE) when it has globs, reaches an
 * array or an object, or meets duplicate keys, and an image does when it
 * has comments or escapes, or is not a JSON object.
 */
#ifndef TRIB_RULES_SPLICE_H
#define TRIB_RULES_SPLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "jpath.h"
#include "jvalue.h"

#define RL_SPLICE_NIMG 3		/* images per event (rules_common.h: NIMG) */

typedef struct rl_splice rl_splice;

/* How rl_splice_apply_at went. */
typedef enum rl_sp_result
{
	RL_SP_NONE,					/* the path reaches nothing: unchanged */
	RL_SP_CHANGED,				/* the value op ran, its result spliced in */
	RL_SP_STOP,					/* the value op returned false (spliced too) */
	RL_SP_TREE					/* not here: take the tree path */
} rl_sp_result;

/* Tests only: false sends every rule the tree path, to compare the two.
 * Set before any event is transformed; never written by the daemon. */
extern bool rl_splice_enabled;

/* Tests only: false indexes every image with yajl's parse instead of the
 * fast scan first (rules_splice.c), to compare the two. */
extern bool rl_splice_fast_index;

/* A new, empty set of indexes (one per image). */
rl_splice  *rl_splice_new(void);

/* Tests and benchmarks only: false ignores the events' image index
 * (event.h) and scans every image, to compare the two. */
extern bool rl_splice_source_index;

/* Tests only: how many images were indexed from an event's image index
 * (the rest were scanned). */
extern unsigned long rl_splice_source_hits;

/* Index image i's text (the event's image: its after or key) unless done
 * since the last reset; true when the text path can work on it.  When ev
 * (may be NULL) carries an image index whose part `which`
 * (TRIB_IMAGE_AFTER, TRIB_IMAGE_KEY; -1: none) still describes text,
 * the index is built from it instead of a scan of the text. */
bool		rl_splice_index(rl_splice *sp, int i, const char *text,
							const trib_event *ev, int which);

/* A path prepared once (per rule): whether it is plain (no globs), and
 * its segments' lengths and name hashes, so a lookup scans and hashes
 * nothing.  p is borrowed and must outlive it. */
typedef struct rl_sp_path
{
	const trib_jpath *p;
	bool		plain;
	size_t	   *len;
	uint32_t   *key;
} rl_sp_path;

void		rl_sp_path_init(rl_sp_path *sp, const trib_jpath *p);
void		rl_sp_path_free(rl_sp_path *sp);

#define RL_SP_ABSENT (-1)		/* rl_splice_find: the path reaches nothing */
#define RL_SP_NOTEXT (-2)		/* rl_splice_find: only the tree path can */

/* The member path p reaches in indexed image i (>= 0), RL_SP_ABSENT, or
 * RL_SP_NOTEXT (globs, an array or object on the way or at the end,
 * duplicate keys, an image the text path cannot take).  The answer holds
 * for rl_splice_apply_at until the indexes are reset: splicing a scalar
 * moves no member, and a result that is not a scalar makes the image
 * unusable, which rl_splice_apply_at checks. */
int			rl_splice_find(const rl_splice *sp, int i, const rl_sp_path *p);

/* What a text op made of a scalar: a result in *out, a refusal (the op
 * failed, as a node op returning false), or "use the node op". */
typedef enum rl_sp_text_res
{
	RL_SPT_OUT,
	RL_SPT_FAIL,
	RL_SPT_NODE
} rl_sp_text_res;

/* A value op on a scalar's text: in (sqltype NULL) -> *out (zeroed; freed
 * by the caller), with the member's name.  Its result must be what fn would
 * leave as trib_jvalue_buf_node(out) for trib_jvalue_from_yajl(node):
 * the spliced bytes are the same, without the nodes. */
typedef rl_sp_text_res (*rl_sp_text_fn) (const trib_jvalue *in, const char *name,
										 void *arg, trib_jvalue_buf *out);

/* fn (as trib_jpath_each would call it) on member mi of image i (what
 * rl_splice_find answered), its result spliced into the text; a scalar no
 * earlier op left a node for goes through tfn (when not NULL) first, fn
 * only when tfn says RL_SPT_NODE.
 *
 * same: NULL, or a token (one rule's path) under which tfn is a function
 * of the scalar alone within the event (no randomness, no state, the
 * same field name).  A scalar equal (kind and text) to the one tfn last
 * turned into a scalar under the same token, in this event, takes that
 * result again without a call: a column that is also the key (FF1 on
 * `id` in `after` and in `key`) is masked once. */
rl_sp_result rl_splice_apply_at(rl_splice *sp, int i, int mi, trib_jpath_fn fn,
								rl_sp_text_fn tfn, const void *same, void *arg);

/* Image i's text once something was spliced into it, else NULL. */
const char *rl_splice_text(const rl_splice *sp, int i);

/* Forget the indexes (end of an event); the buffers are kept. */
void		rl_splice_reset(rl_splice *sp);

/* Free everything (NULL: nothing). */
void		rl_splice_destroy(rl_splice *sp);

#endif							/* TRIB_RULES_SPLICE_H */
