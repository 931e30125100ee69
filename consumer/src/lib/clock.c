/*
 * clock.c: the clocks the daemon reads (see clock.h).
 */
#include "clock.h"

#include <stdio.h>
#include <time.h>

/* clock_gettime(id) in units of 1/per_sec seconds. */
static int64_t
clock_in(clockid_t id, int64_t per_sec)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t) ts.tv_sec * per_sec + ts.tv_nsec / (1000000000 / per_sec);
}

int64_t
trib_clock_mono_ms(void)
{
	return clock_in(CLOCK_MONOTONIC, 1000);
}

int64_t
trib_clock_mono_ns(void)
{
	return clock_in(CLOCK_MONOTONIC, 1000000000);
}

int64_t
trib_clock_wall_ms(void)
{
	return clock_in(CLOCK_REALTIME, 1000);
}

int64_t
trib_clock_wall_us(void)
{
	return clock_in(CLOCK_REALTIME, 1000000);
}

struct timespec
trib_clock_deadline(int timeout_ms)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += timeout_ms / 1000;
	t.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L)
	{
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* See clock.h. */
char *
trib_clock_iso8601(int64_t wall_ms, char *buf, size_t len)
{
	time_t		secs = (time_t) (wall_ms / 1000);
	struct tm	tm;
	char		date[24];

	gmtime_r(&secs, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", date, (int) (wall_ms % 1000));
	return buf;
}
