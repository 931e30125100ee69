/*
 * mask_perturb.c: the perturb and generalize strategies (see mask.h).
 *
 * Noise.  perturb's noise is a pure function of the key, the row key and
 * the column: HMAC-SHA256 gives 64 bits, read as a fraction in [-1, 1).  An
 * update of the same row gets the same noise as its insert, so averaging
 * many versions of a row cannot cancel it.  Without a row key (a table
 * without primary key) the noise comes from the column and the value
 * itself, which is still deterministic.
 *
 * Exactness.  Numbers are never round-tripped through a double: the value
 * is held as an integer count of 10^-scale units (OpenSSL BIGNUM, scale =
 * the digits after the point as written), the noise is computed in long
 * double and rounded to that scale, and the two are added exactly, so
 * 12.50 stays with two decimals and a 30-digit numeric keeps its digits.
 * The sum is taken in int64_t when both terms have at most 18 digits (the
 * usual case) and in BIGNUM otherwise; decimal.c writes both the same.
 * Only numbers written with an exponent (1e+30, from float columns) are
 * perturbed as doubles and written in shortest round-trip form.  A column
 * of an integer type stays in its type's range (keep_in_type): near a
 * bound the noise is taken the other way.
 *
 * Dates are shifted by whole days (time of day and zone kept) and
 * generalized to the first day of their month or year (time set to
 * midnight, zone kept), so the result is a value of the same SQL type.
 */
#include "mask_int.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "errf.h"
#include "isodate.h"

/* Values we leave as they are: they carry nothing to hide. */
static bool
special_text(const trib_jvalue *v)
{
	static const char *const words[] = {"NaN", "Infinity", "-Infinity",
	"infinity", "-infinity"};

	if (v->kind != TRIB_J_STRING)
		return false;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i]) == v->len && memcmp(words[i], v->text, v->len) == 0)
			return true;
	return false;
}

/* The noise for this value, in [-1, 1). */
static double
noise(const trib_mask *m, const trib_jvalue *in, const trib_mask_row *row)
{
	unsigned char h[32];
	uint64_t	x = 0;
	const char *col = row ? row->column : NULL;

	if (row && row->row_key)
		trib_mask_prf(m, "perturb/row", row->row_key, row->row_key_len,
					  col, col ? strlen(col) : 0, NULL, 0, h);
	else
		trib_mask_prf(m, "perturb/value", col, col ? strlen(col) : 0,
					  in->text, in->len, NULL, 0, h);
	for (int i = 0; i < 8; i++)
		x = (x << 8) | h[i];
	return (double) (x >> 11) * 0x1p-52 - 1.0;
}

/* Shortest text that reads back as d. */
static void
format_double(double d, trib_strbuf *out)
{
	char		buf[40];

	for (int prec = 15; prec <= 17; prec++)
	{
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	trib_strbuf_adds(out, buf);
}

/* v + units (an integral count of 10^-scale units, |units| < 1e18) in
 * int64_t when v has at most 18 digits at its scale; false: use BIGNUM.
 * The same text as the BIGNUM path (decimal.h). */
static bool
add_i64(const trib_dec *v, long double units, trib_jvalue_buf *out)
{
	int64_t		a,
				sum;

	if (!(fabsl(units) < 1e18L) || !trib_dec_to_i64(v, v->scale, &a) ||
		__builtin_add_overflow(a, (int64_t) units, &sum))
		return false;
	out->text.len = 0;
	trib_dec_format_i64(sum, v->scale, &out->text);
	return true;
}

/* v + delta at v's scale, exactly; into out->text. */
static bool
add_exact(const trib_dec *v, long double delta, trib_jvalue_buf *out,
		  char *errbuf, size_t errlen)
{
	BIGNUM	   *a,
			   *b;
	char		buf[128];
	long double units;
	bool		ok = false;

	units = roundl(delta * powl(10.0L, (long double) v->scale));
	if (v->scale > 1000 || !isfinite(units) || fabsl(units) >= 1e100L)
	{
		snprintf(errbuf, errlen, "perturb: noise out of range for the "
				 "value's scale");
		return false;
	}
	if (add_i64(v, units, out))
		return true;
	a = BN_new();
	b = BN_new();
	if (a == NULL || b == NULL)
		abort();
	snprintf(buf, sizeof(buf), "%.0Lf", units);
	if (!trib_dec_to_bn(v, v->scale, a, errbuf, errlen) || !BN_dec2bn(&b, buf) ||
		!BN_add(a, a, b))
		goto done;
	out->text.len = 0;
	trib_dec_format_bn(a, v->scale, &out->text);
	ok = true;
done:
	BN_free(a);
	BN_free(b);
	return ok;
}

/* The range of an integer SQL type (PostgreSQL's and MySQL's names, signed);
 * false for any other type. */
static bool
int_type_range(const char *sqltype, int64_t *lo, int64_t *hi)
{
	static const struct
	{
		const char *name;
		int64_t		lo,
					hi;
	}			types[] = {
		{"smallint", INT16_MIN, INT16_MAX}, {"int2", INT16_MIN, INT16_MAX},
		{"integer", INT32_MIN, INT32_MAX}, {"int", INT32_MIN, INT32_MAX},
		{"int4", INT32_MIN, INT32_MAX}, {"bigint", INT64_MIN, INT64_MAX},
		{"int8", INT64_MIN, INT64_MAX}, {"tinyint", INT8_MIN, INT8_MAX},
		{"mediumint", -8388608, 8388607},
	};

	for (size_t i = 0; sqltype && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(sqltype, types[i].name) == 0)
		{
			*lo = types[i].lo;
			*hi = types[i].hi;
			return true;
		}
	return false;
}

/* Is the number text[0..len) an integer in [lo, hi]? */
static bool
int_in_range(const char *text, size_t len, int64_t lo, int64_t hi)
{
	char		lt[24],
				ht[24];
	trib_dec	d,
				dl,
				dh;
	bool		in;

	snprintf(lt, sizeof(lt), "%lld", (long long) lo);
	snprintf(ht, sizeof(ht), "%lld", (long long) hi);
	if (!trib_dec_parse(text, len, &d))
		return false;
	if (!trib_dec_parse(lt, strlen(lt), &dl) || !trib_dec_parse(ht, strlen(ht), &dh))
		abort();
	in = trib_dec_cmp(&d, &dl) >= 0 && trib_dec_cmp(&d, &dh) <= 0;
	trib_dec_free(&d);
	trib_dec_free(&dl);
	trib_dec_free(&dh);
	return in;
}

/*
 * Keep a perturbed integer column within its type: a sum outside the
 * type's range (which the target would refuse) is taken the other way,
 * v - delta, and failing that (noise wider than the range) clamped to
 * the bound it passed.  A value already outside the range (the type is
 * not what its name says, an unsigned MySQL column) is left alone.
 */
static bool
keep_in_type(const trib_jvalue *in, const trib_dec *v, long double delta,
			 trib_jvalue_buf *out, char *errbuf, size_t errlen)
{
	int64_t		lo,
				hi;

	if (!int_type_range(in->sqltype, &lo, &hi) || v->has_exp || v->scale != 0 ||
		!int_in_range(in->text, in->len, lo, hi) ||
		int_in_range(out->text.data, out->text.len, lo, hi))
		return true;
	if (!add_exact(v, -delta, out, errbuf, errlen))
		return false;
	if (!int_in_range(out->text.data, out->text.len, lo, hi))
	{
		out->text.len = 0;
		trib_dec_format_i64(delta > 0 ? hi : lo, 0, &out->text);
	}
	return true;
}

/* Numeric perturbation of a number or numeric string. */
static bool
perturb_number(const trib_mask *m, const trib_jvalue *in, double u,
			   trib_jvalue_buf *out, char *errbuf, size_t errlen)
{
	trib_dec	v;
	long double delta;
	bool		ok = true;

	if (!trib_dec_parse(in->text, in->len, &v))
		return trib_errf(errbuf, errlen, "perturb: the value is not a number%s",
						 m->spec.perturb.mode == TRIB_PERTURB_DAYS ? " or date" : "");
	delta = (long double) u * m->spec.perturb.amount;
	if (m->spec.perturb.mode == TRIB_PERTURB_PERCENT)
		delta = delta / 100.0L * fabsl((long double) trib_dec_to_double(&v));
	trib_jvalue_buf_set(out, in->kind, "", 0);
	if (v.has_exp)
	{
		double		r = trib_dec_to_double(&v) + (double) delta;

		if (!isfinite(r))
		{
			snprintf(errbuf, errlen, "perturb: result out of range");
			ok = false;
		}
		else
			format_double(r, &out->text);
	}
	else
		ok = add_exact(&v, delta, out, errbuf, errlen) &&
			keep_in_type(in, &v, delta, out, errbuf, errlen);
	trib_dec_free(&v);
	return ok;
}

/* Shift a date or timestamp by 1..days whole days, either way. */
static bool
perturb_date(const trib_mask *m, const trib_jvalue *in, double u,
			 trib_jvalue_buf *out, char *errbuf, size_t errlen)
{
	trib_isodate d;
	int64_t		n = m->spec.perturb.days,
				k,
				y;
	int			mo,
				dd;
	uint64_t	x = (uint64_t) ((u + 1.0) / 2.0 * (double) (2 * n));

	if (in->kind != TRIB_J_STRING || !trib_isodate_parse(in->text, in->len, &d))
		return trib_errf(errbuf, errlen, "perturb: the value is not a date or "
						 "timestamp (YYYY-MM-DD, optionally followed by a time)");
	if (x >= (uint64_t) (2 * n))
		x = (uint64_t) (2 * n - 1);
	k = (int64_t) x < n ? -(n - (int64_t) x) : (int64_t) x - n + 1;
	trib_isodate_civil_from_days(trib_isodate_days_from_civil(d.year, d.month, d.day) + k,
								 &y, &mo, &dd);
	trib_jvalue_buf_set(out, TRIB_J_STRING, "", 0);
	trib_isodate_format(y, mo, dd, &out->text);
	trib_strbuf_add(&out->text, in->text + d.date_len, in->len - d.date_len);
	return true;
}

bool
trib_mask_perturb(const trib_mask *m, const trib_jvalue *in,
				  const trib_mask_row *row, trib_jvalue_buf *out, char *errbuf,
				  size_t errlen)
{
	double		u;

	if (special_text(in))
	{
		trib_jvalue_buf_set(out, in->kind, in->text, in->len);
		return true;
	}
	if (in->kind != TRIB_J_NUMBER && in->kind != TRIB_J_STRING)
		return trib_errf(errbuf, errlen, "perturb: a %s value cannot be perturbed",
						 in->kind == TRIB_J_BOOL ? "boolean" : "JSON object or array");
	u = noise(m, in, row);
	if (m->spec.perturb.mode == TRIB_PERTURB_DAYS)
		return perturb_date(m, in, u, out, errbuf, errlen);
	return perturb_number(m, in, u, out, errbuf, errlen);
}

/* ---- generalize ---------------------------------------------------------- */

/* floor(v / width) * width into lo (an integer). */
static bool
bucket_lower(const trib_dec *v, int64_t width, BIGNUM *lo, char *errbuf,
			 size_t errlen)
{
	BIGNUM	   *units = BN_new(),
			   *div = BN_new(),
			   *rem = BN_new(),
			   *ten = BN_new(),
			   *p = BN_new();
	BN_CTX	   *ctx = BN_CTX_new();
	bool		ok = false;

	if (!units || !div || !rem || !ten || !p || !ctx)
		abort();
	/* units = v * 10^scale exactly; div = width * 10^scale */
	if (!trib_dec_to_bn(v, v->scale, units, errbuf, errlen))
		goto done;
	if (!BN_set_word(ten, 10) || !BN_set_word(p, (BN_ULONG) v->scale) ||
		!BN_exp(p, ten, p, ctx) || !BN_set_word(div, (BN_ULONG) width) ||
		!BN_mul(div, div, p, ctx) || !BN_div(lo, rem, units, div, ctx))
		goto fail;
	/* BN_div truncates toward zero; floor for negative values */
	if (BN_is_negative(units) && !BN_is_zero(rem) && !BN_sub_word(lo, 1))
		goto fail;
	if (!BN_mul_word(lo, (BN_ULONG) width))
		goto fail;
	ok = true;
	goto done;
fail:
	snprintf(errbuf, errlen, "generalize: arithmetic failed");
done:
	BN_free(units);
	BN_free(div);
	BN_free(rem);
	BN_free(ten);
	BN_free(p);
	BN_CTX_free(ctx);
	return ok;
}

static bool
generalize_number(const trib_mask *m, const trib_jvalue *in, trib_jvalue_buf *out,
				  char *errbuf, size_t errlen)
{
	trib_dec	v;
	BIGNUM	   *lo = BN_new();
	bool		ok;

	if (lo == NULL)
		abort();
	if ((in->kind != TRIB_J_NUMBER && in->kind != TRIB_J_STRING) ||
		!trib_dec_parse(in->text, in->len, &v))
	{
		snprintf(errbuf, errlen, "generalize: the value is not a number");
		BN_free(lo);
		return false;
	}
	ok = bucket_lower(&v, m->spec.generalize.width, lo, errbuf, errlen);
	if (ok)
	{
		/* `lower` keeps the value's kind; `range` is a string "lo-hi" */
		bool		range = m->spec.generalize.mode != TRIB_GEN_LOWER;

		trib_jvalue_buf_set(out, range ? TRIB_J_STRING : in->kind, "", 0);
		trib_dec_format_bn(lo, 0, &out->text);
		if (range && m->spec.generalize.width > 1)
		{
			if (!BN_add_word(lo, (BN_ULONG) (m->spec.generalize.width - 1)))
				abort();
			trib_strbuf_addc(&out->text, '-');
			trib_dec_format_bn(lo, 0, &out->text);
		}
	}
	trib_dec_free(&v);
	BN_free(lo);
	return ok;
}

static bool
generalize_date(const trib_mask *m, const trib_jvalue *in, trib_jvalue_buf *out,
				char *errbuf, size_t errlen)
{
	trib_isodate d;

	if (in->kind != TRIB_J_STRING || !trib_isodate_parse(in->text, in->len, &d))
		return trib_errf(errbuf, errlen, "generalize: the value is not a date or "
						 "timestamp (YYYY-MM-DD, optionally followed by a time)");
	trib_jvalue_buf_set(out, TRIB_J_STRING, "", 0);
	trib_isodate_format(d.year, m->spec.generalize.mode == TRIB_GEN_YEAR ? 1 : d.month,
						1, &out->text);
	if (d.has_time)
	{
		trib_strbuf_addc(&out->text, d.sep);
		trib_strbuf_adds(&out->text, "00:00:00");
		trib_strbuf_add(&out->text, in->text + d.zone_off, in->len - d.zone_off);
	}
	return true;
}

bool
trib_mask_generalize(const trib_mask *m, const trib_jvalue *in, trib_jvalue_buf *out,
					 char *errbuf, size_t errlen)
{
	if (special_text(in))
	{
		trib_jvalue_buf_set(out, in->kind, in->text, in->len);
		return true;
	}
	if (m->spec.generalize.mode == TRIB_GEN_MONTH ||
		m->spec.generalize.mode == TRIB_GEN_YEAR)
		return generalize_date(m, in, out, errbuf, errlen);
	return generalize_number(m, in, out, errbuf, errlen);
}
