/*
 * pipeline_wake.c: the pipeline's one ack wake-up descriptor.
 *
 * Design.  A sink that can tell when it has acknowledgements to hand out
 * exposes a descriptor (sink.h wake_fd: the Kafka sink's pipe, written by
 * librdkafka when a delivery report is queued).  The pipeline gathers every
 * sink's into one epoll instance at the start of the stream
 * (pl_wake_open): level-triggered, so the epoll descriptor itself is
 * readable while any sink's is, and each sink still clears its own in
 * poll().  That one descriptor is what the loop's waits watch while acks
 * are owed (pl_ack_wake_fd, pipeline_deliver.c): every source's poll that
 * can watch one (source.h can_wake; with several sources each in turn, as
 * pipeline_run.c shares the wait among them), and pl_hold(), the turn's
 * sleep while every source is paused or a paused sink's buffer is full
 * (pl_wake_wait).  So one sink or several, one source or a merge, paused
 * or not, the loop sleeps until data or acks instead of waking every
 * ACK_POLL_MS; that short poll remains only while a sink that owes acks
 * has no descriptor (the file and Postgres sinks ack in flush; the Kafka
 * sink in transactional mode acks at its commit, inside flush, so there
 * is nothing to wait for between flushes), a resumed sink drains what it
 * is owed (a batch a turn), or a polled source cannot watch it (MySQL,
 * MongoDB).  Without epoll (out of descriptors) the loop polls as before.
 */
#include "pipeline_int.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* See pipeline_int.h. */
void
pl_wake_open(trib_pipeline *p)
{
	if (p->wake_fd >= 0)
		return;
	for (size_t i = 0; i < p->nsinks; i++)
	{
		sink_slot  *s = &p->sinks[i];
		int			fd = s->opened && s->sink.ops->wake_fd ?
			s->sink.ops->wake_fd(&s->sink) : -1;
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = i};

		if (fd <= 0)
			continue;
		if (p->wake_fd < 0 && (p->wake_fd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		{
			tlog_warn("pipeline", "no ack wake-up descriptor (epoll: %s): the "
					  "pipeline polls its sinks for acks", strerror(errno));
			return;
		}
		if (epoll_ctl(p->wake_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
		{
			tlog_warn("pipeline", "sink %s: its wake-up descriptor not watched (%s): "
					  "the pipeline polls it for acks", s->sink.name, strerror(errno));
			continue;
		}
		s->wakes = true;
	}
}

/* See pipeline_int.h. */
void
pl_wake_close(trib_pipeline *p)
{
	if (p->wake_fd >= 0)
		close(p->wake_fd);
	p->wake_fd = -1;
	for (size_t i = 0; i < p->nsinks; i++)
		p->sinks[i].wakes = false;
}

/* See pipeline_int.h. */
bool
pl_wake_wait(trib_pipeline *p, int fd, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct timespec t = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};

	if (timeout_ms <= 0)
		return false;
	if (fd < 0)
	{
		nanosleep(&t, NULL);
		return false;
	}
	if (poll(&pfd, 1, timeout_ms) > 0 && pfd.revents != 0)
	{
		p->ack_wakeups++;
		return true;
	}
	return false;
}
