/*
 * isodate.c: ISO 8601 dates of row images (see isodate.h).
 *
 * The day-count conversion is the usual era arithmetic on the proleptic
 * Gregorian calendar: shift the year to start in March so the leap day is
 * last, count 400-year eras of 146097 days, and the day within the era.
 */
#include "isodate.h"

#include <stdio.h>
#include <string.h>

static bool
dig(char c)
{
	return c >= '0' && c <= '9';
}

/* n digits at s[*i] as a number; false if fewer. */
static bool
num(const char *s, size_t len, size_t *i, int n, int *out)
{
	int			v = 0;

	if (*i + (size_t) n > len)
		return false;
	for (int k = 0; k < n; k++)
	{
		if (!dig(s[*i + (size_t) k]))
			return false;
		v = v * 10 + (s[*i + (size_t) k] - '0');
	}
	*i += (size_t) n;
	*out = v;
	return true;
}

static bool
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
trib_isodate_month_days(int64_t y, int m)
{
	static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* The year at s[*i]: 4 digits, or a sign and 4..9 digits. */
static bool
parse_year(const char *s, size_t len, size_t *i, int64_t *y)
{
	bool		neg = false,
				sign = false;
	int64_t		v = 0;
	size_t		start;

	if (*i < len && (s[*i] == '+' || s[*i] == '-'))
		sign = true, neg = s[(*i)++] == '-';
	start = *i;
	while (*i < len && dig(s[*i]) && *i - start < 9)
		v = v * 10 + (s[(*i)++] - '0');
	if (*i - start < 4 || (!sign && *i - start != 4))
		return false;
	*y = neg ? -v : v;
	return true;
}

/* The time and zone after the separator, from s[i]. */
static bool
parse_time(const char *s, size_t len, size_t i, trib_isodate *d)
{
	int			hh,
				mm,
				ss = 0;

	if (!num(s, len, &i, 2, &hh) || i >= len || s[i++] != ':' ||
		!num(s, len, &i, 2, &mm) || hh > 24 || mm > 59)
		return false;
	if (i < len && s[i] == ':')
	{
		i++;
		if (!num(s, len, &i, 2, &ss) || ss > 60)
			return false;
		if (i < len && s[i] == '.')
		{
			size_t		f = ++i;

			while (i < len && dig(s[i]))
				i++;
			if (i == f)
				return false;
		}
	}
	d->zone_off = i;
	if (i == len)
		return true;
	if (s[i] == 'Z')
		return i + 1 == len;
	if (s[i] == '+' || s[i] == '-')
	{
		int			zh,
					zm;

		i++;
		if (!num(s, len, &i, 2, &zh) || zh > 23)
			return false;
		if (i == len)
			return true;
		if (s[i] == ':')
			i++;
		return num(s, len, &i, 2, &zm) && zm <= 59 && i == len;
	}
	return false;
}

/* The usual start "yyyy-mm-dd" read at once: what parse_year and num
 * read from it, without their loops (a date of every event goes
 * through here); false for any other start. */
static bool
plain_ymd(const char *s, size_t len, trib_isodate *d)
{
	if (len < 10 || s[4] != '-' || s[7] != '-' || !dig(s[0]) || !dig(s[1]) ||
		!dig(s[2]) || !dig(s[3]) || !dig(s[5]) || !dig(s[6]) || !dig(s[8]) ||
		!dig(s[9]))
		return false;
	d->year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	d->month = (s[5] - '0') * 10 + (s[6] - '0');
	d->day = (s[8] - '0') * 10 + (s[9] - '0');
	return true;
}

bool
trib_isodate_parse(const char *s, size_t len, trib_isodate *d)
{
	size_t		i = 0;

	memset(d, 0, sizeof(*d));
	if (plain_ymd(s, len, d))
		i = 10;
	else if (!parse_year(s, len, &i, &d->year) || i >= len || s[i++] != '-' ||
			 !num(s, len, &i, 2, &d->month) || i >= len || s[i++] != '-' ||
			 !num(s, len, &i, 2, &d->day))
		return false;
	if (d->month < 1 || d->month > 12 || d->day < 1 ||
		d->day > trib_isodate_month_days(d->year, d->month))
		return false;
	d->date_len = i;
	d->zone_off = len;
	if (i == len)
		return true;
	if (s[i] != 'T' && s[i] != ' ')
		return false;
	d->has_time = true;
	d->sep = s[i];
	return parse_time(s, len, i + 1, d);
}

int64_t
trib_isodate_days_from_civil(int64_t y, int m, int d)
{
	int64_t		era,
				yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
trib_isodate_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t		era,
				doe,
				yoe,
				doy,
				mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

void
trib_isodate_format(int64_t y, int m, int d, trib_strbuf *out)
{
	if (y >= 0 && y <= 9999)
		trib_strbuf_printf(out, "%04lld-%02d-%02d", (long long) y, m, d);
	else
		trib_strbuf_printf(out, "%c%04lld-%02d-%02d", y < 0 ? '-' : '+',
						   (long long) (y < 0 ? -y : y), m, d);
}
