/*
 * fileio.c: see fileio.h.
 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

bool
trib_fileio_mode_parse(const char *text, mode_t *out)
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
trib_fileio_open_private(const char *path, int flags, mode_t mode)
{
	int			fd = open(path, flags | O_CREAT | O_CLOEXEC, mode);
	struct stat st;

	if (fd < 0)
		return -1;
	/* narrowed only when the name is its only link: another name may be a
	 * file of someone else's that a hard link was made to */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
		(st.st_mode & 07777 & ~mode) != 0 && fchmod(fd, st.st_mode & mode & 07777) != 0)
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
trib_fileio_write_atomic(const char *path, const void *data, size_t len,
						 mode_t mode, bool durable, const char **what)
{
	size_t		tlen = strlen(path) + sizeof(TRIB_ATOMIC_TMP_SUFFIX);
	char	   *tmp = trib_xmalloc(tlen);
	int			fd;
	int			saved;
	bool		ok = false;

	snprintf(tmp, tlen, "%s" TRIB_ATOMIC_TMP_SUFFIX, path);
	/* a fresh file of our own: whatever sits at the temporary name (a
	 * crash's leftover, or a symbolic or hard link someone with write
	 * access to the directory put there to have us overwrite its target)
	 * is removed, not written through */
	if (unlink(tmp) != 0 && errno != ENOENT)
		fd = -1;
	else
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
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

/* ---- path resolution ------------------------------------------------------ */

/* dir + "/" + name, malloc'd; dir "/" gives "/name". */
static char *
join_path(const char *dir, const char *name)
{
	trib_strbuf b = {0};

	trib_strbuf_printf(&b, "%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/",
					   name);
	return trib_strbuf_finish(&b);
}

/* The absolute path with ".", ".." and repeated slashes folded, no I/O
 * but getcwd() (which already gives the physical directory). */
static char *
fold_lexically(const char *path)
{
	char		cwd[PATH_MAX];
	trib_strbuf in = {0};
	trib_strbuf out = {0};
	char	   *save = NULL;

	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL)
		trib_strbuf_printf(&in, "%s/", cwd);
	trib_strbuf_adds(&in, path);
	trib_strbuf_addc(&in, '/');	/* never NULL, even for "" */
	for (char *part = strtok_r(in.data, "/", &save); part; part = strtok_r(NULL, "/", &save))
	{
		if (strcmp(part, ".") == 0)
			continue;
		if (strcmp(part, "..") == 0)
		{
			char	   *slash = out.len ? strrchr(out.data, '/') : NULL;

			if (slash)
			{
				out.len = (size_t) (slash - out.data);
				out.data[out.len] = '\0';
			}
			continue;
		}
		trib_strbuf_printf(&out, "/%s", part);
	}
	trib_strbuf_free(&in);
	if (out.len == 0)
		trib_strbuf_adds(&out, "/");
	return trib_strbuf_finish(&out);
}

/* Follow `path` while it is a symbolic link that realpath() cannot resolve
 * (dangling: the file would be created at its target); malloc'd. */
static char *
follow_dangling(const char *path)
{
	char	   *cur = trib_xstrdup(path);
	char		target[PATH_MAX];

	for (int hops = 0; hops < 40; hops++)
	{
		ssize_t		n = readlink(cur, target, sizeof(target) - 1);
		char	   *next;

		if (n < 0)
			break;
		target[n] = '\0';
		if (target[0] == '/')
			next = trib_xstrdup(target);
		else
		{
			char	   *copy = trib_xstrdup(cur);

			next = join_path(dirname(copy), target);
			free(copy);
		}
		free(cur);
		cur = next;
	}
	return cur;
}

/* realpath() of the longest leading part of `path` that exists, followed
 * by the rest folded lexically; malloc'd. */
static char *
resolve_existing_prefix(const char *path)
{
	char	   *head = trib_xstrdup(path);
	char	   *tail = trib_xstrdup("");
	char	   *out = NULL;

	while (out == NULL)
	{
		char	   *slash = strrchr(head, '/');
		char	   *real;
		trib_strbuf b = {0};

		trib_strbuf_printf(&b, "%s%s%s", slash ? slash : "/", slash ? "" : head, tail);
		free(tail);
		tail = trib_strbuf_finish(&b);
		if (slash == head)
			head[1] = '\0';	/* "/x": the root */
		else if (slash)
			*slash = '\0';
		else
			strcpy(head, ".");
		real = realpath(head, NULL);
		if (real != NULL)
		{
			trib_strbuf r = {0};

			trib_strbuf_printf(&r, "%s%s", real, tail);
			out = fold_lexically(r.data);
			trib_strbuf_free(&r);
			free(real);
		}
		else if (strcmp(head, ".") == 0 || strcmp(head, "/") == 0)
			out = fold_lexically(path);	/* no working directory */
	}
	free(head);
	free(tail);
	return out;
}

char *
trib_fileio_path_resolve(const char *path)
{
	char	   *real = realpath(path, NULL);
	char	   *target;

	if (real != NULL)
		return real;
	target = follow_dangling(path);
	real = resolve_existing_prefix(target);
	free(target);
	return real;
}

/* path opened read-only, if it is a regular file: the fd, or -1 with msg
 * (and errno: open's, or EINVAL for "not a regular file").  O_NONBLOCK:
 * opening a FIFO or a device given by mistake cannot hang; fstat() then
 * refuses it before any read. */
static int
open_regular(const char *path, char *msg, size_t msglen)
{
	struct stat st;
	int			fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
	{
		snprintf(msg, msglen, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
	{
		snprintf(msg, msglen, "not a regular file");
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* See fileio.h. */
char *
trib_fileio_read_small(const char *file, size_t max, size_t *len, char *msg, size_t msglen)
{
	char	   *buf;
	ssize_t		n = 0;
	int			fd;

	*len = 0;
	if ((fd = open_regular(file, msg, msglen)) < 0)
		return NULL;
	buf = trib_xmalloc(max + 2);
	while (*len <= max &&
		   ((n = read(fd, buf + *len, max + 1 - *len)) > 0 || (n < 0 && errno == EINTR)))
		*len += n > 0 ? (size_t) n : 0;
	if (n < 0)
		snprintf(msg, msglen, "cannot read: %s", strerror(errno));
	else if (*len > max)
		snprintf(msg, msglen, "larger than %zu KiB", max / 1024);
	close(fd);
	if (n < 0 || *len > max)
	{
		explicit_bzero(buf, max + 2);
		free(buf);
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

/* See fileio.h. */
FILE *
trib_fileio_fopen_read(const char *path, char *msg, size_t msglen)
{
	FILE	   *f;
	int			fd = open_regular(path, msg, msglen);

	if (fd < 0)
		return NULL;
	/* a regular file never blocks, but reads as usual from here on */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0 ||
		(f = fdopen(fd, "r")) == NULL)
	{
		snprintf(msg, msglen, "cannot open: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	return f;
}
