/*
 * clock.h: milliseconds of the monotonic clock, for timeouts, backoff and
 * ages (never wall time: it may jump).  Header-only; each caller gets its
 * own inline copy.
 */
#ifndef TRIB_CLOCK_H
#define TRIB_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds of CLOCK_MONOTONIC. */
static inline int64_t
trib_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif							/* TRIB_CLOCK_H */
