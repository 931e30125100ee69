/*
 * clock.h: the clocks the daemon reads.
 *
 * Design.  Timeouts, backoffs and flush intervals use the monotonic clock
 * (it never jumps when the wall clock is set); time stamps that leave the
 * process (an envelope's ts_ms, lag against a commit time, progress
 * records) use the wall clock.  Both in whole milliseconds (or
 * microseconds) as int64_t, so callers do plain arithmetic.
 */
#ifndef TRIB_CLOCK_H
#define TRIB_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds of CLOCK_MONOTONIC (an arbitrary origin). */
int64_t		trib_clock_mono_ms(void);

/* Nanoseconds of CLOCK_MONOTONIC (an arbitrary origin). */
int64_t		trib_clock_mono_ns(void);

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t		trib_clock_wall_ms(void);

/* Microseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t		trib_clock_wall_us(void);

/* A wall-clock time in ms as UTC ISO 8601 with milliseconds
 * ("2026-01-31T12:00:00.250Z") into buf (at least 25 bytes); buf. */
char	   *trib_clock_iso8601(int64_t wall_ms, char *buf, size_t len);

/* CLOCK_REALTIME timeout_ms from now, as pthread_cond_timedwait() takes
 * a deadline. */
struct timespec trib_clock_deadline(int timeout_ms);

#endif							/* TRIB_CLOCK_H */
