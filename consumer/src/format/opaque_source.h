/*
 * opaque_source.h: the "source" object of an event's opaque position,
 * read without building a tree.
 *
 * Design.  A source may put its own members of the envelope's "source"
 * block in its opaque position (core/position.h), as {"source": {...}}
 * (MySQL: server_id, gtid, file, pos, row, thread; MongoDB: rs,
 * collection, ord, lsid, txnNumber).  The envelope reads it for every
 * event, so it is on the per-event path: parsing the whole opaque text
 * into a yajl tree and generating each member again cost a third of the
 * MySQL source's CPU in `make bench-mysql`.  Here yajl's event parser
 * feeds the object's tokens straight into a yajl generator and stops as
 * soon as the object closes, so a source that writes "source" first has
 * the rest of its opaque text never lexed.  The output is the object
 * regenerated compactly by yajl: the same bytes as before.  A source
 * that writes the object exactly so can say how long it is (the
 * position's opaque_source hint, core/position.h: the MySQL source); the
 * envelope then copies its members and does not come here.
 */
#ifndef TRIB_OPAQUE_SOURCE_H
#define TRIB_OPAQUE_SOURCE_H

#include <stdbool.h>

#include <yajl/yajl_gen.h>

/*
 * Generate the "source" member's object of the JSON object `opaque` into
 * g (a fresh or reset generator; the caller reads and clears its buffer).
 * False when opaque has no "source" object at its top level or does not
 * parse up to its end; g may then hold a partial object.
 */
bool		trib_opaque_source(const char *opaque, yajl_gen g);

#endif							/* TRIB_OPAQUE_SOURCE_H */
