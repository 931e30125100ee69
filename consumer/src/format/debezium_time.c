/*
 * debezium_time.c: Debezium's encodings of dates, times, timestamps and
 * intervals (see debezium.h), from the PostgreSQL source's ISO 8601 text
 * (docs/PLUGIN.md, "Values").
 *
 * Design.  Everything is integer arithmetic on microseconds, so a value
 * converts exactly (no double on the way).  time.precision.mode decides
 * the unit: adaptive writes millis for time(0..3)/timestamp(0..3) and
 * micros otherwise (an unspecified precision is 6), adaptive_time_
 * microseconds writes micros for times, connect writes millis for all.
 * Dates are epoch days in every mode.  timetz becomes Debezium's
 * ZonedTime, the time in UTC with "Z" and the fraction's trailing zeros
 * dropped (Java's ISO_OFFSET_TIME); timestamptz its ZonedTimestamp, the
 * source's UTC text with exactly the column's fraction digits (Debezium
 * formats a ZonedDateTime with the column's scale).  An interval is a
 * MicroDuration (a month counts 365.25 / 12 = 30.4375 days, which is
 * exactly 2629800 seconds) or, with interval.handling.mode string,
 * Debezium's "P<y>Y<m>M<d>DT<h>H<m>M<s>S" with every part written.
 *
 * A timestamp's infinity and -infinity become the instants Debezium
 * documents for them (TS_POS_INFINITY below).  The other functions return
 * false when the text is not what the source writes (the caller passes a
 * date's "infinity" and "-infinity" through, and timestamptz's, which
 * Debezium writes as those words).
 */
#include "debezium.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isodate.h"
#include "u64text.h"

#define USEC_PER_SEC INT64_C(1000000)
#define USEC_PER_DAY (INT64_C(86400) * USEC_PER_SEC)

/*
 * A timestamp's infinity and -infinity: Debezium's PostgreSQL connector
 * documentation ("TIMESTAMP type") has them "converted to timestamps with
 * value 9223372036825200000 in case of positive infinity or
 * -9223372036832400000 in case of negative infinity", the PostgreSQL JDBC
 * driver's PGStatement.DATE_POSITIVE_INFINITY / DATE_NEGATIVE_INFINITY
 * read as microseconds since the epoch (PostgresValueConverter's
 * POSITIVE_INFINITY_INSTANT): a MicroTimestamp writes them as they are, a
 * Timestamp (millis) the same instant in milliseconds.
 */
#define TS_POS_INFINITY INT64_C(9223372036825200000)
#define TS_NEG_INFINITY INT64_C(-9223372036832400000)

/* An ASCII digit: what isdigit() accepts in every locale, without its
 * table lookup through a libc call (per character of every temporal
 * value). */
static inline bool
is_dig(char c)
{
	return c >= '0' && c <= '9';
}

/* n digits at *p as a number; advances *p; -1 when not n digits. */
static int
digits(const char **p, int n)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (!is_dig((*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return v;
}

/* "hh:mm[:ss[.f{1,6}]]" at *p: microseconds of the day; advances *p. */
static bool
parse_hms(const char **p, int64_t *usec)
{
	int			h = digits(p, 2),
				m = -1,
				s = 0;
	int64_t		frac = 0;

	if (h >= 0 && **p == ':' && (++*p, (m = digits(p, 2)) >= 0) && **p == ':')
	{
		++*p;
		s = digits(p, 2);
		if (s >= 0 && **p == '.')
		{
			int			n = 0;

			for (++*p; is_dig(**p); ++*p, n++)
				if (n < 6)
					frac = frac * 10 + (**p - '0');
			if (n == 0)
				return false;
			for (; n < 6; n++)
				frac *= 10;
		}
	}
	if (h < 0 || h > 24 || m < 0 || m > 59 || s < 0 || s > 60)
		return false;
	*usec = ((int64_t) h * 3600 + m * 60 + s) * USEC_PER_SEC + frac;
	return true;
}

/* See debezium.h. */
void
trib_dbz_put_i64(trib_strbuf *out, int64_t v)
{
	char		buf[TRIB_U64_DIGITS + 1];
	char	   *p = trib_u64_digits(buf + sizeof(buf),
									v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v);

	if (v < 0)
		*--p = '-';
	trib_strbuf_add(out, p, (size_t) (buf + sizeof(buf) - p));
}

/* Append v / 1000 rounded toward minus infinity (Java's floorDiv). */
static void
put_millis(trib_strbuf *out, int64_t usec)
{
	trib_dbz_put_i64(out, usec / 1000 - (usec % 1000 < 0 ? 1 : 0));
}

/* True when the mode writes millis for a value of this precision. */
static bool
use_millis(const trib_dbz_opts *o, int precision, bool is_time)
{
	if (o->time == TRIB_DBZ_TIME_CONNECT)
		return true;
	if (o->time == TRIB_DBZ_TIME_ADAPTIVE_MICROS && is_time)
		return false;
	return precision >= 0 && precision <= 3;
}

/* See debezium.h: io.debezium.time.Date, days since the epoch. */
bool
trib_dbz_date(const char *s, size_t n, trib_strbuf *out)
{
	trib_isodate d;

	if (!trib_isodate_parse(s, n, &d) || d.has_time)
		return false;
	trib_dbz_put_i64(out, trib_isodate_days_from_civil(d.year, d.month, d.day));
	return true;
}

/* See debezium.h: Time (millis) or MicroTime (micros) of the day. */
bool
trib_dbz_time_value(const trib_dbz_opts *o, int precision, const char *s,
					trib_strbuf *out)
{
	int64_t		usec;

	if (!parse_hms(&s, &usec) || *s != '\0')
		return false;
	if (use_millis(o, precision, true))
		put_millis(out, usec);
	else
		trib_dbz_put_i64(out, usec);
	return true;
}

/* A zone "Z", "+hh", "+hh:mm", "+hhmm" or "+hh:mm:ss" in seconds. */
static bool
parse_zone(const char *z, int *secs)
{
	int			sign,
				h,
				m = 0,
				s = 0;

	if (strcmp(z, "Z") == 0)
	{
		*secs = 0;
		return true;
	}
	if (*z != '+' && *z != '-')
		return false;
	sign = *z++ == '-' ? -1 : 1;
	if ((h = digits(&z, 2)) < 0)
		return false;
	if (*z == ':')
		z++;
	if (*z && (m = digits(&z, 2)) < 0)
		return false;
	if (*z == ':' && (z++, (s = digits(&z, 2)) < 0))
		return false;
	*secs = sign * (h * 3600 + m * 60 + s);
	return *z == '\0';
}

/* See debezium.h: ZonedTime, "hh:mm:ss[.f]Z" in UTC. */
bool
trib_dbz_timetz(const char *s, trib_strbuf *out)
{
	const char *p = s;
	int64_t		usec;
	int			zone;
	int64_t		sec;
	int64_t		frac;

	if (!parse_hms(&p, &usec) || !parse_zone(p, &zone))
		return false;
	usec = ((usec - (int64_t) zone * USEC_PER_SEC) % USEC_PER_DAY + USEC_PER_DAY)
		% USEC_PER_DAY;
	sec = usec / USEC_PER_SEC;
	frac = usec % USEC_PER_SEC;
	trib_strbuf_printf(out, "\"%02d:%02d:%02d", (int) (sec / 3600),
					   (int) (sec / 60 % 60), (int) (sec % 60));
	if (frac)
	{
		char		f[8];
		int			n = snprintf(f, sizeof(f), "%06d", (int) frac);

		while (n > 0 && f[n - 1] == '0')
			n--;
		trib_strbuf_addc(out, '.');
		trib_strbuf_add(out, f, (size_t) n);
	}
	trib_strbuf_add(out, "Z\"", 2);
	return true;
}

/* See debezium.h: ZonedTimestamp with exactly `digits` fraction digits. */
bool
trib_dbz_zoned(int digits, const char *s, size_t n, trib_strbuf *out)
{
	const char *t = memchr(s, 'T', n);
	size_t		secs;			/* the length up to the seconds */
	size_t		have = 0;		/* the fraction digits the source wrote */

	if (n == 0 || t == NULL || t - s < 10 || s[n - 1] != 'Z' || digits < 0 || digits > 6)
		return false;
	secs = (size_t) (t - s) + 9;	/* "Thh:mm:ss" */
	if (secs >= n || (s[secs] != '.' && s[secs] != 'Z'))
		return false;
	if (s[secs] == '.')
		have = n - 1 - secs - 1;
	if ((int) have > digits)
		return false;
	trib_strbuf_addc(out, '"');
	trib_strbuf_add(out, s, secs);
	if (digits > 0)
	{
		trib_strbuf_addc(out, '.');
		trib_strbuf_add(out, s + secs + 1, have);
		for (; (int) have < digits; have++)
			trib_strbuf_addc(out, '0');
	}
	trib_strbuf_add(out, "Z\"", 2);
	return true;
}

/*
 * The usual timestamp "yyyy-mm-ddThh:mm[:ss[.f]]" (or ' ' for 'T') of
 * s[0..n) in microseconds since the epoch, read in one pass: what
 * trib_isodate_parse and parse_hms together accept of that shape, with
 * the same result; false for anything else (the caller's general path
 * decides).  s[n] must be readable and not a digit, ':' or '.' (a NUL,
 * or a string's closing quote in an image).
 */
static bool
plain_timestamp(const char *s, size_t n, int64_t *usec)
{
	const char *p = s;
	int			y,
				mo,
				d;

	if (n < 16 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' '))
		return false;
	if ((y = digits(&p, 4)) < 0 || (++p, (mo = digits(&p, 2)) < 0) ||
		(++p, (d = digits(&p, 2)) < 0))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > trib_isodate_month_days(y, mo))
		return false;
	p = s + 11;
	if (!parse_hms(&p, usec) || p != s + n)
		return false;
	*usec += trib_isodate_days_from_civil(y, mo, d) * USEC_PER_DAY;
	return true;
}

/* See debezium.h: Timestamp (millis) or MicroTimestamp (micros). */
bool
trib_dbz_timestamp(const trib_dbz_opts *o, int precision, const char *s,
				   size_t n, trib_strbuf *out)
{
	trib_isodate d;
	const char *p;
	int64_t		usec = 0;

	if (n == 8 && memcmp(s, "infinity", 8) == 0)
		usec = TS_POS_INFINITY;
	else if (n == 9 && memcmp(s, "-infinity", 9) == 0)
		usec = TS_NEG_INFINITY;
	else if (!plain_timestamp(s, n, &usec))
	{
		if (!trib_isodate_parse(s, n, &d) || d.zone_off != n)
			return false;
		p = s + d.date_len;
		if (d.has_time && (p++, !parse_hms(&p, &usec) || p != s + n))
			return false;
		usec += trib_isodate_days_from_civil(d.year, d.month, d.day) * USEC_PER_DAY;
	}
	if (use_millis(o, precision, false))
		put_millis(out, usec);
	else
		trib_dbz_put_i64(out, usec);
	return true;
}

/* The parts of an ISO 8601 interval as PostgreSQL writes it. */
typedef struct ivl
{
	int64_t		years,
				months,
				days,
				hours,
				minutes,
				usec;			/* seconds part, in microseconds */
} ivl;

/*
 * a * b + c in 64 bits that wrap around (two's complement) instead of
 * overflowing, which C leaves undefined: an interval's microseconds pass
 * 64 bits beyond about 292,000 years (PostgreSQL's go to 178,000,000), and
 * Java's long arithmetic wraps the same way.
 */
static int64_t
wrap_muladd(int64_t a, int64_t b, int64_t c)
{
	return (int64_t) ((uint64_t) a * (uint64_t) b + (uint64_t) c);
}

/* Parse "P1Y-2M3DT4H5M-6.5S" (each part optional and signed). */
static bool
parse_interval(const char *s, ivl *v)
{
	bool		time = false;

	memset(v, 0, sizeof(*v));
	if (*s++ != 'P')
		return false;
	while (*s)
	{
		char	   *end;
		int64_t		n;

		if (*s == 'T' && !time)
		{
			time = true;
			s++;
			continue;
		}
		n = strtoll(s, &end, 10);
		if (end == s && *s != '-' && *s != '.')
			return false;
		if (*end == '.' || (time && *end == 'S'))
		{
			const char *q = end;
			int64_t		frac = 0;
			int			k = 0;

			if (*q == '.')
				for (q++; is_dig(*q); q++, k++)
					if (k < 6)
						frac = frac * 10 + (*q - '0');
			for (; k < 6; k++)
				frac *= 10;
			if (!time || *q != 'S')
				return false;
			v->usec = wrap_muladd(n, USEC_PER_SEC, s[0] == '-' ? -frac : frac);
			s = q + 1;
			continue;
		}
		switch (*end)
		{
			case 'Y':
				v->years = n;
				break;
			case 'M':
				*(time ? &v->minutes : &v->months) = n;
				break;
			case 'D':
				v->days = n;
				break;
			case 'H':
				v->hours = n;
				break;
			default:
				return false;
		}
		s = end + 1;
	}
	return true;
}

/* See debezium.h: MicroDuration or Debezium's Interval string. */
bool
trib_dbz_interval_value(const trib_dbz_opts *o, const char *s, trib_strbuf *out)
{
	ivl			v;

	if (!parse_interval(s, &v))
		return false;
	if (o->interval == TRIB_DBZ_INTERVAL_NUMERIC)
	{
		int64_t		months = wrap_muladd(v.years, 12, v.months);
		int64_t		secs = wrap_muladd(months, 2629800,
									   wrap_muladd(v.days, 86400,
												   wrap_muladd(v.hours, 3600,
															   wrap_muladd(v.minutes, 60, 0))));

		trib_dbz_put_i64(out, wrap_muladd(secs, USEC_PER_SEC, v.usec));
		return true;
	}
	trib_strbuf_printf(out, "\"P%" PRId64 "Y%" PRId64 "M%" PRId64 "DT%" PRId64
					   "H%" PRId64 "M", v.years, v.months, v.days, v.hours,
					   v.minutes);
	{
		uint64_t	a = v.usec < 0 ? 0 - (uint64_t) v.usec : (uint64_t) v.usec;
		char		f[8];
		int			n = snprintf(f, sizeof(f), "%06d", (int) (a % USEC_PER_SEC));

		while (n > 0 && f[n - 1] == '0')
			n--;
		trib_strbuf_printf(out, "%s%" PRIu64, v.usec < 0 ? "-" : "", a / USEC_PER_SEC);
		if (n > 0)
		{
			trib_strbuf_addc(out, '.');
			trib_strbuf_add(out, f, (size_t) n);
		}
	}
	trib_strbuf_adds(out, "S\"");
	return true;
}
