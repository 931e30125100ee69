/*
 * event.c: life cycle of the internal event type and LSN text conversion.
 *
 * An event is a flat struct of owned strings plus borrowed naming strings
 * (event.h), so freeing it is a fixed list of free() calls; allocation failure aborts, because a
 * consumer that cannot allocate an event cannot make progress anyway.
 *
 * LSNs are written as PostgreSQL writes them (pg_lsn's output): the high
 * and low 32 bits in upper-case hex without leading zeros, separated by a
 * slash ("0/16B3748").  Parsing follows pg_lsn_in: one to eight hex digits
 * (either case), '/', one to eight hex digits, nothing else.
 */
#include "event.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* A new zeroed event; aborts on out-of-memory (xalloc.h). */
trib_event *
trib_event_new(void)
{
	return trib_xcalloc(1, sizeof(trib_event));
}

/* Free an event and every string it owns; the naming strings
 * (source ... table) are borrowed and stay. */
void
trib_event_free(trib_event *ev)
{
	if (ev == NULL)
		return;
	trib_event_clear(ev);
	free(ev);
}

/* Release what an event owns and zero it; the struct stays. */
void
trib_event_clear(trib_event *ev)
{
	free(ev->before);
	free(ev->after);
	free(ev->key);
	free(ev->unchanged);
	free(ev->extra);
	free(ev->pos.opaque);
	free(ev->topic);
	free(ev->tags);
	free(ev->error);
	memset(ev, 0, sizeof(*ev));
}

/* Parse 1..8 hex digits at *s into *out; advances *s. */
static bool
parse_half(const char **s, uint32_t *out)
{
	const char *p = *s;
	uint32_t	v = 0;
	int			n = 0;

	for (;; p++, n++)
	{
		int			d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		if (n == 8)
			return false;
		v = (v << 4) | (uint32_t) d;
	}
	if (n == 0)
		return false;
	*s = p;
	*out = v;
	return true;
}

/* "X/Y" -> LSN; false (and *out untouched) on malformed input. */
bool
trib_lsn_parse(const char *s, uint64_t *out)
{
	uint32_t	hi;
	uint32_t	lo;

	if (s == NULL || !parse_half(&s, &hi) || *s++ != '/' ||
		!parse_half(&s, &lo) || *s != '\0')
		return false;
	*out = ((uint64_t) hi << 32) | lo;
	return true;
}

/* LSN -> "X/Y" in `buf` (TRIB_LSN_BUFLEN bytes always suffice). */
void
trib_lsn_format(uint64_t lsn, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIX32 "/%" PRIX32,
			 (uint32_t) (lsn >> 32), (uint32_t) lsn);
}
