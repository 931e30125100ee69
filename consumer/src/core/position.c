/*
 * position.c: the event order that position.h's contract defines.
 *
 * Design.  Every source fills (commit_lsn, seq) so that they order its
 * events (position.h), so the comparison needs no source: the sinks use
 * it to skip what they already hold, and a source may use it as its
 * `compare` operation.  `end_lsn`, `lsn` and `opaque` do not take part.
 * The event-id forms of such positions (format_id, parse_id, store_form,
 * gauge) are here too, so each source need not write them again.
 *
 * The opaque text's source hint is kept with the pointer of the text it
 * was set for, and read only while `opaque` is still that text, so a
 * position whose text is replaced (a merged position's, a snapshot
 * phase's) cannot carry the hint of another text.
 */
#include "position.h"

#include <string.h>

/* See position.h. */
void
trib_position_set_opaque(trib_position *pos, char *text, size_t source_len)
{
	pos->opaque = text;
	pos->hint_len_ = text != NULL ? source_len : 0;
	pos->hint_text_ = text;
}

/* See position.h. */
size_t
trib_position_opaque_source(const trib_position *pos)
{
	return pos->opaque == pos->hint_text_ ? pos->hint_len_ : 0;
}

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

/* See position.h. */
size_t
trib_position_format_id(const trib_position *pos, char *buf, size_t len)
{
	return trib_eventid_format(pos->commit_lsn, pos->seq, buf, len);
}

/* See position.h. */
bool
trib_position_parse_id(const char *id, trib_position *out)
{
	memset(out, 0, sizeof(*out));
	return trib_eventid_parse(id, &out->commit_lsn, &out->seq);
}

/* See position.h. */
void
trib_position_store_form(const trib_position *pos, char *key, size_t keylen, uint64_t *seq)
{
	if (pos->commit_lsn != 0)
		trib_lsn_format(pos->commit_lsn, key, keylen);
	else if (keylen > 0)
		key[0] = '\0';
	*seq = pos->seq;
}

/* See position.h. */
double
trib_position_gauge(const trib_position *pos)
{
	return (double) pos->commit_lsn;
}
