/*
 * leader.c: what every kind of pipeline lock shares (see leader.h): the
 * held flag, the standby loop and its messages, and the handle's memory
 * (the pipeline's name and the kind's state).  The kinds only talk to
 * their server.
 */
#include "leader.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "errf.h"
#include "xalloc.h"

struct trib_leader
{
	const trib_leader_ops *ops;
	void	   *impl;
	char	   *pipeline;
	bool		held;
};

/* See leader.h. */
trib_leader *
trib_leader_new(const trib_leader_ops *ops, size_t impl_size, const char *pipeline)
{
	trib_leader *l = trib_xcalloc(1, sizeof(*l));

	l->ops = ops;
	l->impl = trib_xcalloc(1, impl_size);
	l->pipeline = trib_xstrdup(pipeline ? pipeline : "tributary");
	return l;
}

/* See leader.h. */
void *
trib_leader_impl(trib_leader *l)
{
	return l->impl;
}

/* See leader.h. */
const char *
trib_leader_pipeline(const trib_leader *l)
{
	return l->pipeline;
}

/* See leader.h. */
const char *
trib_leader_kind(const trib_leader *l)
{
	return l->ops->kind;
}

/* See leader.h. */
int
trib_leader_try(trib_leader *l, char *errbuf, size_t errlen)
{
	int			rc;

	if (l->held)
		return 1;
	rc = l->ops->try_lock(l->impl, errbuf, errlen);
	l->held = rc == 1;
	return rc;
}

/* See leader.h. */
bool
trib_leader_acquire(trib_leader *l, int retry_ms, int timeout_ms,
					volatile int *stop, char *errbuf, size_t errlen)
{
	long long	deadline = trib_clock_mono_ms() + timeout_ms;

	if (retry_ms <= 0)
		retry_ms = 1000;
	for (;;)
	{
		int			rc = trib_leader_try(l, errbuf, errlen);

		if (rc == 1)
			return true;
		if (rc == -2)
			return false;
		if (rc == 0)
			trib_errf(errbuf, errlen, "leader: pipeline \"%s\" is active elsewhere", l->pipeline);
		if ((stop && *stop) || (timeout_ms >= 0 && trib_clock_mono_ms() + retry_ms > deadline))
			return false;
		usleep((useconds_t) retry_ms * 1000);
	}
}

/* See leader.h. */
bool
trib_leader_check(trib_leader *l, char *errbuf, size_t errlen)
{
	if (!l->held)
		return trib_errf(errbuf, errlen, "leader: not holding the lock");
	if (l->ops->check(l->impl, errbuf, errlen))
		return true;
	l->held = false;
	return false;
}

/* See leader.h. */
int
trib_leader_probe(trib_leader *l, char *buf, size_t len)
{
	if (l->ops->probe == NULL)
	{
		trib_errf(buf, len, "not supported by the %s", l->ops->kind);
		return -1;
	}
	return l->ops->probe(l->impl, buf, len);
}

/* See leader.h. */
void
trib_leader_free(trib_leader *l)
{
	if (!l)
		return;
	l->ops->free(l->impl);		/* closing the session releases the lock */
	free(l->impl);
	free(l->pipeline);
	free(l);
}
