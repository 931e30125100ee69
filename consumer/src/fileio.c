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
#include <sys/stat.h>
#include <unistd.h>

#include "strbuf.h"

bool
trib_write_all(int fd, const void *buf, size_t len)
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
trib_fsync_dir(const char *dir)
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
trib_fsync_parent(const char *path)
{
	char	   *copy = trib_xstrdup(path);
	bool		ok = trib_fsync_dir(dirname(copy));
	int			saved = errno;

	free(copy);
	errno = saved;
	return ok;
}

bool
trib_file_mode_parse(const char *text, mode_t *out)
{
	size_t		n = text ? strlen(text) : 0;
	unsigned	m = 0;

	if (n == 4 && text[0] == '0')
		text++, n--;
	if (n != 3)
		return false;
	for (size_t i = 0; i < n; i++)
	{
		if (text[i] < '0' || text[i] > '7')
			return false;
		m = m * 8 + (unsigned) (text[i] - '0');
	}
	*out = (mode_t) m;
	return true;
}

int
trib_open_private(const char *path, int flags, mode_t mode)
{
	int			fd = open(path, flags | O_CREAT | O_CLOEXEC, mode);
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777 & ~mode) != 0 &&
		fchmod(fd, st.st_mode & mode & 07777) != 0)
	{
		int			saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
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
trib_write_file_atomic(const char *path, const void *data, size_t len,
					   mode_t mode, bool durable, const char **what)
{
	size_t		tlen = strlen(path) + 5;
	char	   *tmp = trib_xmalloc(tlen);
	int			fd;
	int			saved;
	bool		ok = false;

	snprintf(tmp, tlen, "%s.tmp", path);
	fd = trib_open_private(tmp, O_WRONLY | O_TRUNC, mode);
	if (fd < 0)
		failed_at(what, "create");
	else if (!trib_write_all(fd, data, len) || (durable && fsync(fd) != 0))
		failed_at(what, "write");
	else if (close(fd) != 0)
	{
		fd = -1;
		failed_at(what, "close");
	}
	else if ((fd = -1, rename(tmp, path) != 0))
		failed_at(what, "rename");
	else if (durable && !trib_fsync_parent(path))
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
