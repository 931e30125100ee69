/*
 * dec_double.h: a trib_dec (decimal.h) as the nearest double, without
 * strtod for short values.
 *
 * Design.  trib_dec_to_double writes the number out and calls strtod,
 * ~1,100 instructions per value, and perturb converts every value it
 * touches.  When the significant digits fit in 15 (so the integer m they
 * form is below 2^53, exact in a double) and the power of ten is at most
 * 22 either way (10^k exact too), m x 10^k or m / 10^-k is one IEEE
 * operation on two exact operands, which the FPU rounds correctly: the
 * same double strtod gives (Clinger's fast path, which strtod
 * implementations take themselves).  Anything else goes to
 * trib_dec_to_double.  test_dec_double compares the two on random
 * decimals, at and past both bounds.
 */
#ifndef TRIB_DEC_DOUBLE_H
#define TRIB_DEC_DOUBLE_H

#include "decimal.h"

/* d's value rounded to the nearest double (trib_dec_to_double's result). */
double		trib_dec_to_double_fast(const trib_dec *d);

#endif							/* TRIB_DEC_DOUBLE_H */
