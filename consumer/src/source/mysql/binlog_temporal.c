/*
 * binlog_temporal.c: DATE, TIME, DATETIME, TIMESTAMP and YEAR values of the
 * binlog, to the JSON the source writes (docs/MYSQL.md):
 *
 *   DATE         "2024-02-29"
 *   TIME(n)      "-838:59:59.5"         hours may exceed 24, sign kept
 *   DATETIME(n)  "2024-02-29T12:34:56.789012"
 *   TIMESTAMP(n) "2024-06-01T10:00:00.25Z"   always UTC
 *   YEAR         2024 (a number; 0 for the zero year)
 *
 * Fractional seconds carry up to six digits with trailing zeros trimmed,
 * as the PostgreSQL source writes them.  Zero and partly zero dates (month
 * or day 0, and the zero DATETIME/TIMESTAMP) are not dates: they become
 * null, or the decoder's configured zero_date text.
 *
 * Formats (MariaDB KB "Rows event", MySQL's my_time.cc):
 *   DATE        3 bytes LE: day 5 bits, month 4 bits, year above
 *   TIME        3 bytes LE signed HHMMSS as a decimal number (old format)
 *   DATETIME    8 bytes LE YYYYMMDDhhmmss as a decimal number (old)
 *   TIMESTAMP   4 bytes LE seconds since the epoch (old)
 *   TIME2       3 bytes BE + fraction: sign, hours 10 bits, minutes 6,
 *               seconds 6, offset by 0x800000
 *   DATETIME2   5 bytes BE + fraction: sign, (year*13+month) 17 bits, day
 *               5, hour 5, minute 6, second 6, offset by 0x8000000000
 *   TIMESTAMP2  4 bytes BE seconds + fraction
 * The fraction takes (n+1)/2 bytes, big-endian, in units of 10^(6-2k)
 * microseconds; negative TIME2 values store it complemented.
 *
 * MariaDB's own format of TIME(n), DATETIME(n) and TIMESTAMP(n), n > 0
 * (MariaDB 5.3 to 10.0, and later with mysql56_temporal_format=OFF), is
 * logged under the old types, n known from the schema (col->scale; sql/
 * field.cc, the *_hires fields), the value in units of 10^-n seconds:
 *   TIME(n)      big-endian, 3/4/4/5/5/5 bytes for n = 1..6: the signed
 *                value plus 3020400 * 10^n (838:59:59 plus one second)
 *   DATETIME(n)  big-endian, 6/6/7/7/7/8 bytes: ((((year*13+month)*32+
 *                day)*24+hour)*60+minute)*60+second, times 10^n, plus
 *                the fraction
 *   TIMESTAMP(n) 4 bytes BE seconds, then the fraction in (n+1)/2 bytes
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog_int.h"
#include "isodate.h"

/* A broken-down temporal value. */
typedef struct tm_parts
{
	bool		negative;
	int64_t		year,
				month,
				day,
				hour,
				minute,
				second;
	int64_t		usec;
} tm_parts;

/* ".5", ".000123" or "" for the fraction, trailing zeros trimmed. */
static void
format_usec(int64_t usec, char *buf)
{
	int			n = 6;

	buf[0] = '\0';
	if (usec <= 0)
		return;
	snprintf(buf, 8, ".%06" PRId64, usec % 1000000);
	while (n > 0 && buf[n] == '0')
		buf[n--] = '\0';
}

/* Write the zero-date replacement (null or the configured text). */
static void
gen_zero(trib_my_decoder *d, yajl_gen g)
{
	if (d->zero_date)
		trib_my_gen_str(g, d->zero_date, strlen(d->zero_date));
	else
		yajl_gen_null(g);
}

/* Is the date part zero or partly zero? */
static bool
is_zero_date(const tm_parts *t)
{
	return t->month == 0 || t->day == 0;
}

/* Date and time "YYYY-MM-DDThh:mm:ss[.f][Z]" (or the date alone). */
static void
gen_datetime(trib_my_decoder *d, yajl_gen g, const tm_parts *t, bool with_time,
			 bool utc)
{
	char		buf[64],
				frac[8];
	int			n;

	if (is_zero_date(t))
	{
		gen_zero(d, g);
		return;
	}
	if (!with_time)
		n = snprintf(buf, sizeof(buf), "%04" PRId64 "-%02" PRId64 "-%02" PRId64,
					 t->year, t->month, t->day);
	else
	{
		format_usec(t->usec, frac);
		n = snprintf(buf, sizeof(buf), "%04" PRId64 "-%02" PRId64 "-%02" PRId64
					 "T%02" PRId64 ":%02" PRId64 ":%02" PRId64 "%s%s",
					 t->year, t->month, t->day, t->hour, t->minute, t->second,
					 frac, utc ? "Z" : "");
	}
	trib_my_gen_str(g, buf, (size_t) n);
}

/* A time of day or duration "[-]hh:mm:ss[.f]". */
static void
gen_time(yajl_gen g, const tm_parts *t)
{
	char		buf[48],
				frac[8];
	int			n;

	format_usec(t->usec, frac);
	n = snprintf(buf, sizeof(buf), "%s%02" PRId64 ":%02" PRId64 ":%02" PRId64 "%s",
				 t->negative ? "-" : "", t->hour, t->minute, t->second, frac);
	trib_my_gen_str(g, buf, (size_t) n);
}

/* The fraction of a TIME2/DATETIME2/TIMESTAMP2 value with fsp digits, as
 * the signed number of its units (10^(6-2k) microseconds each). */
static int64_t
read_frac(trib_my_cur *c, int fsp, int64_t *unit)
{
	int			nbytes = (fsp + 1) / 2;

	*unit = nbytes == 1 ? 10000 : nbytes == 2 ? 100 : 1;
	if (nbytes == 0)
		return 0;
	return trib_my_sext(trib_my_cur_be(c, (size_t) nbytes), (unsigned) nbytes * 8);
}

/* Split a packed time/datetime (intpart << 24 | microseconds) into t. */
static void
unpack(int64_t packed, bool with_date, tm_parts *t)
{
	uint64_t	v,
				ymdhms,
				hms;

	memset(t, 0, sizeof(*t));
	t->negative = packed < 0;
	v = t->negative ? (uint64_t) 0 - (uint64_t) packed : (uint64_t) packed;
	t->usec = (int64_t) (v % (1 << 24));
	ymdhms = v >> 24;
	hms = ymdhms % (1 << 17);
	t->second = (int64_t) (hms % 64);
	t->minute = (int64_t) ((hms >> 6) % 64);
	if (with_date)
	{
		uint64_t	ymd = ymdhms >> 17;

		t->hour = (int64_t) (hms >> 12);
		t->day = (int64_t) (ymd % 32);
		t->month = (int64_t) ((ymd >> 5) % 13);
		t->year = (int64_t) ((ymd >> 5) / 13);
	}
	else
		t->hour = (int64_t) ((ymdhms >> 12) % (1 << 10));
}

/* intpart << 24 + usec, wrapping like the server's arithmetic instead of
 * overflowing on values no server writes. */
static int64_t
make_packed(int64_t intpart, int64_t usec)
{
	return (int64_t) ((uint64_t) intpart * (1u << 24) + (uint64_t) usec);
}

/* TIME2: 3 bytes (offset 0x800000) and the fraction. */
static void
read_time2(trib_my_cur *c, int fsp, tm_parts *t)
{
	int64_t		intpart = (int64_t) trib_my_cur_be(c, 3) - 0x800000;
	int64_t		unit,
				frac;

	if (fsp >= 5)
	{
		/* 6 bytes: the whole value is offset by 0x800000000000 */
		uint64_t	rest = trib_my_cur_be(c, 3);
		int64_t		whole = (int64_t) (((uint64_t) (intpart + 0x800000) << 24) | rest)
			- INT64_C(0x800000000000);

		unpack(whole, false, t);
		return;
	}
	/* TIME2 reads its fraction unsigned (DATETIME2 and TIMESTAMP2 signed,
	 * where it is never negative anyway) */
	frac = read_frac(c, fsp, &unit);
	if (fsp > 0)
		frac &= fsp <= 2 ? 0xFF : 0xFFFF;
	if (intpart < 0 && frac != 0)
	{
		/* negative values keep the fraction complemented */
		intpart++;
		frac -= fsp <= 2 ? 0x100 : 0x10000;
	}
	unpack(make_packed(intpart, frac * unit), false, t);
}

/* DATETIME2: 5 bytes (offset 0x8000000000) and the fraction. */
static void
read_datetime2(trib_my_cur *c, int fsp, tm_parts *t)
{
	int64_t		intpart = (int64_t) trib_my_cur_be(c, 5) - INT64_C(0x8000000000);
	int64_t		unit,
				frac = read_frac(c, fsp, &unit);

	unpack(make_packed(intpart, frac * unit), true, t);
}

/* Seconds since the epoch and microseconds to a UTC date and time. */
static void
from_epoch(uint64_t secs, int64_t usec, tm_parts *t)
{
	int64_t		days = (int64_t) (secs / 86400),
				rem = (int64_t) (secs % 86400);
	int			m,
				dd;

	memset(t, 0, sizeof(*t));
	trib_isodate_civil_from_days(days, &t->year, &m, &dd);
	t->month = m;
	t->day = dd;
	t->hour = rem / 3600;
	t->minute = rem / 60 % 60;
	t->second = rem % 60;
	t->usec = usec;
}

static const int64_t pow10_i64[7] = {1, 10, 100, 1000, 10000, 100000, 1000000};

/* MariaDB's TIME(n), n = 1..6 (above). */
static void
read_time_hires(trib_my_cur *c, int fsp, tm_parts *t)
{
	static const uint8_t nbytes[7] = {3, 4, 4, 5, 5, 5, 6};
	int64_t		v = (int64_t) trib_my_cur_be(c, nbytes[fsp]) -
		INT64_C(3020400) * pow10_i64[fsp];
	uint64_t	a = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;

	memset(t, 0, sizeof(*t));
	t->negative = v < 0;
	t->usec = (int64_t) (a % (uint64_t) pow10_i64[fsp]) * pow10_i64[6 - fsp];
	a /= (uint64_t) pow10_i64[fsp];
	t->second = (int64_t) (a % 60);
	t->minute = (int64_t) (a / 60 % 60);
	t->hour = (int64_t) (a / 3600);
}

/* MariaDB's DATETIME(n), n = 1..6 (above). */
static void
read_datetime_hires(trib_my_cur *c, int fsp, tm_parts *t)
{
	static const uint8_t nbytes[7] = {5, 6, 6, 7, 7, 7, 8};
	uint64_t	v = trib_my_cur_be(c, nbytes[fsp]);

	memset(t, 0, sizeof(*t));
	t->usec = (int64_t) (v % (uint64_t) pow10_i64[fsp]) * pow10_i64[6 - fsp];
	v /= (uint64_t) pow10_i64[fsp];
	t->second = (int64_t) (v % 60);
	v /= 60;
	t->minute = (int64_t) (v % 60);
	v /= 60;
	t->hour = (int64_t) (v % 24);
	v /= 24;
	t->day = (int64_t) (v % 32);
	v /= 32;
	t->month = (int64_t) (v % 13);
	t->year = (int64_t) (v / 13);
}

/* TIMESTAMP and TIMESTAMP2: 0 is the zero TIMESTAMP. */
static void
gen_timestamp(trib_my_decoder *d, yajl_gen g, uint64_t secs, int64_t usec)
{
	tm_parts	t;

	if (secs == 0 && usec == 0)
	{
		gen_zero(d, g);
		return;
	}
	from_epoch(secs, usec, &t);
	gen_datetime(d, g, &t, true, true);
}

/* Old DATETIME: YYYYMMDDhhmmss as a decimal number. */
static void
split_datetime_number(uint64_t v, tm_parts *t)
{
	memset(t, 0, sizeof(*t));
	t->second = (int64_t) (v % 100);
	t->minute = (int64_t) (v / 100 % 100);
	t->hour = (int64_t) (v / 10000 % 100);
	t->day = (int64_t) (v / 1000000 % 100);
	t->month = (int64_t) (v / 100000000 % 100);
	t->year = (int64_t) (v / 10000000000ULL);
}

bool
trib_my_temporal(trib_my_decoder *d, const trib_my_column *col, trib_my_cur *c,
				 yajl_gen g)
{
	tm_parts	t = {0};
	uint64_t	v;
	int64_t		unit,
				frac;
	char		buf[16];
	int			n;

	switch (col->kind)
	{
		case TRIB_MYK_YEAR:
			v = trib_my_cur_le(c, 1);
			n = snprintf(buf, sizeof(buf), "%u", v == 0 ? 0u : (unsigned) (1900 + v));
			trib_my_gen_num(g, buf, (size_t) n);
			break;
		case TRIB_MYK_DATE:
			v = trib_my_cur_le(c, 3);
			t.day = (int64_t) (v & 31);
			t.month = (int64_t) (v >> 5 & 15);
			t.year = (int64_t) (v >> 9);
			gen_datetime(d, g, &t, false, false);
			break;
		case TRIB_MYK_TIME:
			if (col->scale > 0)
			{
				read_time_hires(c, col->scale, &t);
				gen_time(g, &t);
				break;
			}
			{
				int64_t		s = trib_my_sext(trib_my_cur_le(c, 3), 24);

				t.negative = s < 0;
				s = s < 0 ? -s : s;
				t.hour = s / 10000;
				t.minute = s / 100 % 100;
				t.second = s % 100;
				gen_time(g, &t);
				break;
			}
		case TRIB_MYK_TIME2:
			read_time2(c, col->scale, &t);
			gen_time(g, &t);
			break;
		case TRIB_MYK_DATETIME:
			if (col->scale > 0)
				read_datetime_hires(c, col->scale, &t);
			else
				split_datetime_number(trib_my_cur_le(c, 8), &t);
			gen_datetime(d, g, &t, true, false);
			break;
		case TRIB_MYK_DATETIME2:
			read_datetime2(c, col->scale, &t);
			gen_datetime(d, g, &t, true, false);
			break;
		case TRIB_MYK_TIMESTAMP:
			if (col->scale > 0)
			{
				v = trib_my_cur_be(c, 4);
				frac = (int64_t) trib_my_cur_be(c, (size_t) (col->scale + 1) / 2);
				gen_timestamp(d, g, v, frac * pow10_i64[6 - col->scale]);
			}
			else
				gen_timestamp(d, g, trib_my_cur_le(c, 4), 0);
			break;
		case TRIB_MYK_TIMESTAMP2:
			v = trib_my_cur_be(c, 4);
			frac = read_frac(c, col->scale, &unit);
			gen_timestamp(d, g, v, frac * unit);
			break;
		default:
			return false;
	}
	return !c->bad;
}

void
trib_my_json_temporal(uint8_t field_type, int64_t packed, trib_strbuf *out)
{
	tm_parts	t;

	unpack(packed, field_type != TRIB_MYT_TIME, &t);
	if (field_type == TRIB_MYT_TIME)
		trib_strbuf_printf(out, "%s%02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%06" PRId64,
						   t.negative ? "-" : "", t.hour, t.minute, t.second, t.usec);
	else if (field_type == TRIB_MYT_DATE || field_type == TRIB_MYT_NEWDATE)
		trib_strbuf_printf(out, "%04" PRId64 "-%02" PRId64 "-%02" PRId64,
						   t.year, t.month, t.day);
	else
		trib_strbuf_printf(out, "%04" PRId64 "-%02" PRId64 "-%02" PRId64
						   " %02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%06" PRId64,
						   t.year, t.month, t.day, t.hour, t.minute, t.second,
						   t.usec);
}
