/*
 * dec_double.c: the exact fast path of decimal to double (see
 * dec_double.h).  It assumes the FPU rounds to nearest in double
 * precision (x86-64's SSE arithmetic, the default mode), as strtod's
 * result does.
 */
#include "dec_double.h"

#include <string.h>

/* Significant digits that always fit below 2^53. */
#define FAST_DIGITS 15
/* The largest power of ten a double holds exactly. */
#define FAST_POW 22

static const double pow10_exact[FAST_POW + 1] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

double
trib_dec_to_double_fast(const trib_dec *d)
{
	size_t		n = strlen(d->digits);
	double		m = 0;
	int64_t		k = d->exp10;
	uint64_t	u = 0;
	double		v;

	if (n > FAST_DIGITS || k > FAST_POW || k < -FAST_POW)
		return trib_dec_to_double(d);
	for (size_t i = 0; i < n; i++)
		u = u * 10 + (uint64_t) (d->digits[i] - '0');
	m = (double) u;
	v = k >= 0 ? m * pow10_exact[k] : m / pow10_exact[-k];
	return d->neg ? -v : v;
}
