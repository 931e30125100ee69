/*
 * rules_update_desc.h: the rules inside a MongoDB update's
 * updateDescription, so that no original value of a masked or dropped
 * field leaks through it (docs/MONGODB.md, "Masking").
 *
 * The MongoDB source keeps updateDescription in ev->extra
 * ({"updateDescription": {"updatedFields": {"a.b.0.c": value, ...},
 * "removedFields": [...], "truncatedArrays": [...]}}).  updatedFields
 * names fields by dotted paths, with array positions as numbers; a rule's
 * path (jpath.h) walks arrays without naming positions.  So a key's
 * segments, without its numeric ones, are matched against the path's:
 *
 *   the key reaches the path's field or a field inside it (a.b.c for the
 *   path a.b): the whole value is handed to the rule;
 *   the key stops above the field (a for the path a.b.c): the rule walks
 *   the value (an object, or an array of them) with the rest of the path.
 *
 * A numeric segment is taken for an array position (a field named by
 * digits alone is then matched as if it were one).  removedFields and
 * truncatedArrays hold names only and stay as they are.
 *
 * A documentKey names a sharded collection's nested shard-key fields the
 * same way, as members with dotted names: rl_dotted_members_each matches
 * those for the key image (rules_common.c).
 */
#ifndef TRIB_RULES_UPDATE_DESC_H
#define TRIB_RULES_UPDATE_DESC_H

#include <stdbool.h>

#include "event.h"
#include "jpath.h"

/* Call fn for every value of ev's updatedFields that `p` reaches, and
 * write the description back when fn was called.  false when fn stopped
 * (as trib_jpath_each). */
bool		rl_update_desc_each(trib_event *ev, const trib_jpath *p, trib_jpath_fn fn,
								void *arg);

/* Call fn for every value that `p` reaches through a member of obj whose
 * name is a dotted path, matched as an updatedFields key is (above), and
 * count the calls in *calls.  With dotted_only, members without a dot and
 * those the path's first segment spells out (not a glob) are left out:
 * they are trib_jpath_each's, which the caller runs too.  A MongoDB documentKey
 * names a sharded collection's nested shard-key fields so
 * ({"profile.email": ..., "_id": ...}).  false when fn stopped. */
bool		rl_dotted_members_each(yajl_val obj, const trib_jpath *p, bool dotted_only,
								   trib_jpath_fn fn, void *arg, int *calls);

/* Remove what `p` reaches from ev's updatedFields (the drop rule). */
void		rl_update_desc_drop(trib_event *ev, const trib_jpath *p);

#endif							/* TRIB_RULES_UPDATE_DESC_H */
