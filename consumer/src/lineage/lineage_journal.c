/*
 * lineage_journal.c: the export's in-flight journal (lineage_int.h), so
 * that a crash between sending an OpenLineage event and writing the
 * sent-marker does not send it twice.
 *
 * Design.  Before an event goes to a destination, the export writes it
 * here (atomically and durably, fileio.h): a header line "run dest n
 * offset" and then the event's bytes exactly as they are sent.  After
 * the send the sent-marker moves past n, which makes the journal stale;
 * the next event's journal replaces it.  At start, a journal whose n is
 * the one after the marker's count for its run and destination names the
 * event that was in flight when the process died:
 *
 *   - to the file: `offset` is the file's size before the append, so the
 *     question "did the append happen?" has an exact answer: the bytes at
 *     offset are the event and its newline (yes: the marker moves on and
 *     nothing is appended), or a prefix of them (a torn append, cut off),
 *     or the file ends at offset (no);
 *   - to the HTTP endpoint there is no such answer (it may have taken
 *     the POST before the crash), so the export POSTs the journal's bytes
 *     again, identical: same runId, eventType and eventTime, same body, so
 *     a receiver that keeps events by their identity keeps it once.
 *
 * One journal serves both destinations: the export sends one event to one
 * destination at a time, so only the last journaled send can be in
 * flight.
 */
#include "lineage_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "strbuf.h"
#include "xalloc.h"

/* See lineage_int.h. */
bool
lx_journal_write(const char *path, const lx_inflight *j, char *errbuf, size_t errlen)
{
	trib_strbuf b = {0};
	const char *what = NULL;
	bool		ok;

	trib_strbuf_printf(&b, "%s %d %ld %lld\n", j->run, j->dest, j->n, (long long) j->offset);
	trib_strbuf_adds(&b, j->event);
	ok = trib_fileio_write_atomic(path, b.data, b.len, 0600, true, &what);
	if (!ok)
		snprintf(errbuf, errlen, "cannot write the in-flight journal %s (%s): %s", path,
				 what ? what : "write", strerror(errno));
	trib_strbuf_free(&b);
	return ok;
}

/* Read all of the file at path, NUL-terminated; NULL when it is absent
 * or unreadable, or not a regular file (a FIFO is not waited on: logged). */
static char *
lx_slurp(const char *path)
{
	char		msg[256];
	FILE	   *f = trib_fileio_fopen_read(path, msg, sizeof(msg));
	trib_strbuf b = {0};
	char		buf[4096];
	size_t		n;

	if (f == NULL)
	{
		if (errno != ENOENT)
			tlog_warn("lineage", "export: the in-flight journal %s is ignored: %s", path, msg);
		return NULL;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		trib_strbuf_add(&b, buf, n);
	fclose(f);
	return trib_strbuf_finish(&b);
}

/* See lineage_int.h. */
bool
lx_journal_read(const char *path, lx_inflight *out)
{
	char	   *text = lx_slurp(path);
	char	   *nl = text ? strchr(text, '\n') : NULL;
	long long	off;

	memset(out, 0, sizeof(*out));
	if (nl == NULL || sscanf(text, "%36s %d %ld %lld", out->run, &out->dest, &out->n, &off) != 4 ||
		(out->dest != 0 && out->dest != 1) || out->n < 1 || off < 0)
	{
		free(text);
		return false;
	}
	out->offset = (off_t) off;
	out->event = trib_xstrdup(nl + 1);
	free(text);
	return true;
}

/* See lineage_int.h. */
void
lx_inflight_free(lx_inflight *j)
{
	free(j->event);
	j->event = NULL;
}

/* Compare the file's bytes from j->offset with the event and its newline:
 * how many match (up to the file's end), or -1 on a read error. */
static long
lx_match_at(int fd, const lx_inflight *j, size_t want)
{
	char		buf[4096];
	size_t		done = 0;

	while (done < want)
	{
		size_t		chunk = want - done < sizeof(buf) ? want - done : sizeof(buf);
		ssize_t		got = pread(fd, buf, chunk, j->offset + (off_t) done);

		if (got < 0)
			return -1;
		for (ssize_t i = 0; i < got; i++)
		{
			char		expect = done + (size_t) i < want - 1 ? j->event[done + i] : '\n';

			if (buf[i] != expect)
				return (long) (done + (size_t) i);
		}
		done += (size_t) got;
		if ((size_t) got < chunk)
			break;				/* the file ends */
	}
	return (long) done;
}

/* See lineage_int.h. */
int
lx_journal_settle_file(const char *file, const lx_inflight *j, char *errbuf, size_t errlen)
{
	int			fd = open(file, O_RDWR | O_NONBLOCK | O_CLOEXEC);	/* a FIFO: no wait */
	size_t		want = strlen(j->event) + 1;
	struct stat st;
	long		same;
	int			rc = 0;

	if (fd < 0)
	{
		if (errno == ENOENT)
			return 0;
		snprintf(errbuf, errlen, "%s: %s", file, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode))
	{
		snprintf(errbuf, errlen, "%s: not a regular file", file);
		close(fd);
		return -1;
	}
	if (fstat(fd, &st) != 0 || (same = lx_match_at(fd, j, want)) < 0)
	{
		snprintf(errbuf, errlen, "%s: %s", file, strerror(errno));
		close(fd);
		return -1;
	}
	if ((size_t) same == want)
		rc = 1;
	else if (st.st_size > j->offset && j->offset + same == st.st_size)
	{
		/* a torn append: the file ends inside the event; cut it off */
		if (ftruncate(fd, j->offset) != 0 || fsync(fd) != 0)
		{
			snprintf(errbuf, errlen, "%s: cutting off a torn event: %s", file, strerror(errno));
			rc = -1;
		}
	}
	close(fd);
	return rc;
}
