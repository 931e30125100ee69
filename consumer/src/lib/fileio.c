/*
 * fileio.c: see fileio.h.
 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "strbuf.h"

bool
trib_fileio_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0)
	{
		ssize_t		n = write(fd, p, len);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= (size_t) n;
	}
	return true;
}

bool
trib_fileio_fsync_dir(const char *dir)
{
	int			fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool		ok;
	int			saved;

	if (fd < 0)
		return false;
	ok = fsync(fd) == 0;
	saved = errno;
	close(fd);
	errno = saved;
	return ok;
}

bool
trib_fileio_fsync_parent(const char *path)
{
	char	   *copy = trib_xstrdup(path);
	bool		ok = trib_fileio_fsync_dir(dirname(copy));
	int			saved = errno;

	free(copy);
	errno = saved;
	return ok;
}

/* Set *what (if asked) and return false, keeping errno. */
static bool
failed_at(const char **what, const char *step)
{
	if (what)
		*what = step;
	return false;
}

bool
trib_fileio_write_atomic(const char *path, const void *data, size_t len,
						 mode_t mode, bool durable, const char **what)
{
	size_t		tlen = strlen(path) + 5;
	char	   *tmp = trib_xmalloc(tlen);
	int			fd;
	int			saved;
	bool		ok = false;

	snprintf(tmp, tlen, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		failed_at(what, "create");
	else if (!trib_fileio_write_all(fd, data, len) || (durable && fsync(fd) != 0))
		failed_at(what, "write");
	else if (close(fd) != 0)
	{
		fd = -1;
		failed_at(what, "close");
	}
	else if ((fd = -1, rename(tmp, path) != 0))
		failed_at(what, "rename");
	else if (durable && !trib_fileio_fsync_parent(path))
		failed_at(what, "fsync the directory of");
	else
		ok = true;
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (!ok)
		unlink(tmp);
	free(tmp);
	errno = saved;
	return ok;
}
