/*
 * isodate.h: the ISO 8601 dates and timestamps of row images.
 *
 * Design.  The plugin writes dates as "2024-02-29", timestamps as
 * "1999-12-31T23:59:59.5" or "2024-06-01T10:00:00Z" (docs/PLUGIN.md), and
 * years outside 1..9999 as expanded years ("-0043", "+10000").  Masking
 * shifts and truncates the date part and keeps the rest, so this module
 * splits a value into a calendar date and the time suffix, checks both,
 * and converts dates to and from a day count (proleptic Gregorian
 * calendar, astronomical year numbering) for arithmetic.  Space as the
 * date/time separator is accepted too (other sources write it).
 */
#ifndef TRIB_ISODATE_H
#define TRIB_ISODATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

typedef struct trib_isodate
{
	int64_t		year;			/* astronomical: 0 is 1 BC */
	int			month;			/* 1..12 */
	int			day;			/* 1..31 */
	size_t		date_len;		/* bytes of the date part */
	/* time suffix (after date_len), when there is one */
	bool		has_time;
	char		sep;			/* 'T' or ' ' */
	size_t		zone_off;		/* offset of the zone ("Z", "+05:30") in
								 * the text, or the text's length if none */
} trib_isodate;

/*
 * Parse s[0..len): a date, optionally followed by a separator, a time
 * hh:mm[:ss[.ffffff]] and a zone (Z, +hh, +hh:mm, +hhmm).  Years are 4
 * digits, or signed 4-9 digits.  False for anything else (including
 * "infinity").
 */
bool		trib_isodate_parse(const char *s, size_t len, trib_isodate *d);

/* The days of month m (1..12) of year y (proleptic Gregorian). */
int			trib_isodate_month_days(int64_t y, int m);

/* Days since 1970-01-01 of a valid date, and back. */
int64_t		trib_isodate_days_from_civil(int64_t y, int m, int d);
void		trib_isodate_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* Append a date in the plugin's form (4-digit year or expanded year). */
void		trib_isodate_format(int64_t y, int m, int d, trib_strbuf *out);

#endif							/* TRIB_ISODATE_H */
