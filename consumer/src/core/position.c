/*
 * position.c: the event order that position.h's contract defines.
 *
 * Design.  Every source fills (commit_lsn, seq) so that they order its
 * events (position.h), so the comparison needs no source: the sinks use
 * it to skip what they already hold, and a source may use it as its
 * `compare` operation.  `end_lsn`, `lsn` and `opaque` do not take part.
 */
#include "position.h"

/* See position.h. */
int
trib_position_cmp(const trib_position *a, const trib_position *b)
{
	if (a->commit_lsn != b->commit_lsn)
		return a->commit_lsn < b->commit_lsn ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

/* See position.h. */
bool
trib_position_le(const trib_position *a, const trib_position *b)
{
	return trib_position_cmp(a, b) <= 0;
}
