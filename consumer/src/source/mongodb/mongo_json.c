/*
 * mongo_json.c: relaxed Extended JSON of a document, libbson's, mended
 * (see mongo_json.h for the two faults).
 *
 * Design.  libbson writes the text; this file only checks it and, for a
 * late date, edits it.  Both faults leave a mark that plain substring
 * search finds: a late date is `{ "$date" : "` followed by a year of five
 * or more digits, a cut level the token `{ ... }`.  Inside a string every
 * '"' is escaped, so the date's opening cannot be a string's content; the
 * token can, so a hit is confirmed by a scan that skips strings.  A user's
 * subdocument {"$date": "12345-..."} (a string) looks like a late date:
 * each hit is compared with the exact text libbson writes for the next
 * late date of the BSON (found by a walk in document order, the order
 * the text follows) and only an equal one is rewritten.
 */
#include "mongo_json.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quoted.h"
#include "strbuf.h"
#include "xalloc.h"

#define LAST_ISO_MS INT64_C(253402300799999)	/* 9999-12-31T23:59:59.999Z */
#define DATE_OPEN "{ \"$date\" : \""
#define CUT "{ ... }"
#define MAX_WALK 256			/* deeper than libbson writes (about 200) */

/* True when j holds the token `{ ... }` outside its strings. */
static bool
has_cut(const char *j)
{
	if (strstr(j, CUT) == NULL)
		return false;
	for (const char *p = j; *p; p++)
	{
		if (*p == '"')
		{
			p = trib_quoted_end(p);
			if (*p == '\0')
				break;
		}
		else if (strncmp(p, CUT, strlen(CUT)) == 0)
			return true;
	}
	return false;
}

/* True when the ISO text at s has a year of five or more digits. */
static bool
long_year(const char *s)
{
	size_t		n = strspn(s, "0123456789");

	return n >= 5 && s[n] == '-';
}

/* True when j holds a date opening followed by such a year. */
static bool
has_late_date(const char *j)
{
	for (const char *q = strstr(j, DATE_OPEN); q; q = strstr(q + 1, DATE_OPEN))
		if (long_year(q + strlen(DATE_OPEN)))
			return true;
	return false;
}

/* The dates after 9999 of a document, in document order. */
typedef struct late
{
	int64_t    *ms;
	size_t		n,
				cap;
} late;

static void
late_add(late *l, int64_t ms)
{
	if (l->n == l->cap)
	{
		l->cap = l->cap ? 2 * l->cap : 8;
		l->ms = trib_xrealloc(l->ms, l->cap * sizeof(*l->ms));
	}
	l->ms[l->n++] = ms;
}

/* Collect doc's late dates: documents, arrays and code scopes walked
 * with a stack of iterators, as libbson's writer visits them. */
static void
late_dates(const bson_t *doc, late *l)
{
	struct
	{
		bson_iter_t it;			/* (bson_iter_t is over-aligned: no plain array) */
	}			stack[MAX_WALK];
	int			depth = 1;

	if (!bson_iter_init(&stack[0].it, doc))
		return;
	while (depth > 0)
	{
		bson_iter_t *it = &stack[depth - 1].it;
		const uint8_t *scope;
		uint32_t	len,
					slen;
		bson_t		sdoc;

		if (!bson_iter_next(it))
			depth--;
		else if (BSON_ITER_HOLDS_DATE_TIME(it) && bson_iter_date_time(it) > LAST_ISO_MS)
			late_add(l, bson_iter_date_time(it));
		else if (depth == MAX_WALK)
			continue;
		else if (BSON_ITER_HOLDS_DOCUMENT(it) || BSON_ITER_HOLDS_ARRAY(it))
			depth += bson_iter_recurse(it, &stack[depth].it) ? 1 : 0;
		else if (BSON_ITER_HOLDS_CODEWSCOPE(it))
		{
			bson_iter_codewscope(it, &len, &slen, &scope);
			if (bson_init_static(&sdoc, scope, slen) && bson_iter_init(&stack[depth].it, &sdoc))
				depth++;
		}
	}
}

/* The ISO text libbson 1.23 writes for a date (its
 * _bson_iso8601_date_format): seconds by gmtime, ".mmm" when not 0. */
static void
libbson_iso(int64_t ms, char *buf, size_t len)
{
	time_t		t = (time_t) (ms / 1000);
	struct tm	tm;
	char		s[64];

	buf[0] = '\0';
	if (gmtime_r(&t, &tm) == NULL || strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return;
	if (ms % 1000)
		snprintf(buf, len, "%s.%03" PRId64 "Z", s, ms % 1000);
	else
		snprintf(buf, len, "%sZ", s);
}

/* j with each late date of l as {"$numberLong": ...}; NULL when one of
 * them is not found as libbson writes it. */
static char *
mend_dates(const char *j, const late *l)
{
	trib_strbuf b = {0};
	const char *p = j,
			   *q;
	size_t		k = 0;

	while (k < l->n && (q = strstr(p, DATE_OPEN)) != NULL)
	{
		const char *s = q + strlen(DATE_OPEN);
		char		want[96];
		size_t		wl;

		libbson_iso(l->ms[k], want, sizeof(want));
		wl = strlen(want);
		trib_strbuf_add(&b, p, (size_t) (s - p));
		p = s;
		if (wl == 0 || !long_year(s) || strncmp(s, want, wl) != 0 ||
			strncmp(s + wl, "\" }", 3) != 0)
			continue;			/* a user's {"$date": "..."} */
		b.len -= strlen(DATE_OPEN);
		trib_strbuf_printf(&b, "{ \"$date\" : { \"$numberLong\" : \"%" PRId64 "\" } }",
						   l->ms[k++]);
		p = s + wl + 3;
	}
	trib_strbuf_adds(&b, p);
	if (k < l->n)
	{
		trib_strbuf_free(&b);
		return NULL;
	}
	return trib_strbuf_finish(&b);
}

/* See mongo_json.h. */
char *
trib_mongo_json(const bson_t *doc)
{
	char	   *bj = bson_as_relaxed_extended_json(doc, NULL);
	char	   *j = NULL;
	late		l = {0};

	if (bj == NULL || has_cut(bj))
		;
	else if (!has_late_date(bj))
		j = trib_xstrdup(bj);
	else
	{
		late_dates(doc, &l);
		j = mend_dates(bj, &l);
		free(l.ms);
	}
	bson_free(bj);
	return j;
}
