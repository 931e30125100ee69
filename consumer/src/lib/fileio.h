/*
 * fileio.h: small, careful file operations shared by the file-backed
 * stores (checkpoint.c's file store, sink_file.c's data and position
 * sidecar).
 *
 * trib_fileio_write_atomic() replaces a file so that a crash at any moment
 * leaves either the old or the new content: it writes path.tmp, optionally
 * fsyncs it, renames it over path and optionally fsyncs the directory.
 * path.tmp is always a new file (whatever has the name is removed first,
 * then it is created exclusively, without following a symbolic link), so a
 * link planted at that name by someone who can write to the directory
 * never has its target overwritten or its permissions changed.
 * Functions return false with errno set; `what` (when not NULL) names the
 * step that failed, for the caller's error message.
 *
 * Files that hold data or records (sink files, sidecars, the erasure audit
 * log) are private: trib_fileio_open_private() creates them with the
 * configured mode (0600 by default, TRIB_FILE_MODE_DEFAULT) and narrows an
 * existing regular file whose permissions are wider, such as one an older
 * version created 0644 (not one with other hard links: that may be someone
 * else's file linked into the directory).
 *
 * trib_fileio_read_small() reads a configuration, secret or token file
 * whole, refusing anything but a regular file without blocking on it;
 * trib_fileio_fopen_read() does the same for a file read as a stream.
 *
 * trib_fileio_path_resolve() names the file a path opens, so that two paths
 * can be compared (config_paths.c): "./x", "x", "d/../x" and a symbolic
 * link to x resolve alike, whether x exists yet or not.
 */
#ifndef TRIB_FILEIO_H
#define TRIB_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* What trib_fileio_write_atomic() appends to path for its temporary file. */
#define TRIB_ATOMIC_TMP_SUFFIX ".tmp"

/* Write all of buf to fd, retrying short writes and EINTR. */
bool		trib_fileio_write_all(int fd, const void *buf, size_t len);

/* fsync a directory (after a rename or a create in it). */
bool		trib_fileio_fsync_dir(const char *dir);

/* fsync the directory that holds path. */
bool		trib_fileio_fsync_parent(const char *path);

/* The mode of data files unless the config says otherwise. */
#define TRIB_FILE_MODE_DEFAULT 0600

/*
 * "0600", "600", "0640": an octal permission mode of at most 0777 (no
 * setuid, setgid or sticky bits).  False when text is anything else.
 */
bool		trib_fileio_mode_parse(const char *text, mode_t *out);

/*
 * open(path, flags | O_CREAT | O_CLOEXEC, mode); when path is a regular file
 * with one link whose permission bits go beyond mode, they are narrowed to
 * mode.  -1
 * with errno set on failure.
 */
int			trib_fileio_open_private(const char *path, int flags, mode_t mode);

/* Replace path with data, atomically; durable: fsync file and directory. */
bool		trib_fileio_write_atomic(const char *path, const void *data, size_t len,
									 mode_t mode, bool durable, const char **what);

/*
 * The absolute name of the file that opening `path` reaches, malloc'd:
 * realpath() when the file exists; else (a dangling symbolic link is first
 * followed to its target, up to 40 times) the realpath() of the longest
 * leading part that exists, then the rest with ".", ".." and repeated
 * slashes folded by hand.
 */
char	   *trib_fileio_path_resolve(const char *path);

/*
 * A whole regular file of at most `max` bytes, malloc'd and NUL-terminated,
 * its length in *len; the buffer is wiped before it is freed on failure (it
 * may hold a secret).  NULL on failure, with a message in msg that does
 * not name the file: "cannot open: ...", "not a regular file" (a FIFO, a
 * device or a directory: refused without waiting for a writer),
 * "cannot read: ...", "larger than N KiB".
 */
char	   *trib_fileio_read_small(const char *path, size_t max, size_t *len,
								   char *msg, size_t msglen);

/*
 * path opened for reading as a stream ("r"), or NULL with errno set and a
 * message in msg that does not name the file: "cannot open: ..." (errno
 * from open: ENOENT for a missing file), "not a regular file" (errno
 * EINVAL; a FIFO, a device or a directory: refused without waiting for a
 * writer).
 */
FILE	   *trib_fileio_fopen_read(const char *path, char *msg, size_t msglen);

#endif							/* TRIB_FILEIO_H */
