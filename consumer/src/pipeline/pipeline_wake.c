/*
 * pipeline_wake.c: the loop's waits end when the sinks' acks come.
 *
 * Design.  A sink that can tell when it has acknowledgements to hand out
 * exposes a descriptor (sink.h wake_fd: the Kafka sink's pipe, written by
 * librdkafka when a delivery report is queued); the pipeline asks every
 * sink for its own once, when the stream starts (pl_wake_open), and each
 * sink clears its own in poll(), which the loop calls on every turn.
 * While acks are owed, the turn waits on one of them (pl_ack_wake_fd,
 * pipeline_deliver.c, kept in p->ack_fd): the one of the sink that
 * has acknowledged least, since what is durable, the minimum over the
 * sinks, cannot move before that sink acks (a faster sink's ack would
 * wake the loop for nothing: with two Kafka sinks, watching both cost a
 * context switch more per transaction than the 1 ms poll; BENCHMARKS.md).
 * Every wait of the turn watches it: each source's poll that can
 * (source.h can_wake; with merged sources each in turn, as
 * pipeline_run.c shares the wait among them) and pl_hold(), the turn's
 * sleep while every source is paused or a paused sink's buffer is full
 * (pl_wake_wait).  So one sink or several, one source or a merge, paused
 * or not, the loop sleeps until data or acks instead of waking every
 * ACK_POLL_MS.  That short poll remains only while a sink that owes acks
 * has no descriptor (the file and Postgres sinks ack in flush; the Kafka
 * sink in transactional mode acks at its commit, inside flush, which the
 * loop calls on its own clock, so there is no event to wait for between
 * flushes), a resumed sink drains what it is owed (a batch a turn), or a
 * polled source cannot watch it (MySQL, MongoDB).
 */
#include "pipeline_int.h"

#include <poll.h>
#include <time.h>

/* See pipeline_int.h. */
void
pl_wake_open(trib_pipeline *p)
{
	for (size_t i = 0; i < p->nsinks; i++)
	{
		pl_sink_slot *s = &p->sinks[i];

		s->wake_fd = s->opened && s->sink.ops->wake_fd ?
			s->sink.ops->wake_fd(&s->sink) : -1;
	}
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
