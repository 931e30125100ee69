/*
 * fileio.h: small, careful file operations shared by the file-backed
 * stores (checkpoint.c's file store, sink_file.c's data and position
 * sidecar).
 *
 * trib_fileio_write_atomic() replaces a file so that a crash at any moment
 * leaves either the old or the new content: it writes path.tmp, optionally
 * fsyncs it, renames it over path and optionally fsyncs the directory.
 * Functions return false with errno set; `what` (when not NULL) names the
 * step that failed, for the caller's error message.
 */
#ifndef TRIB_FILEIO_H
#define TRIB_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Write all of buf to fd, retrying short writes and EINTR. */
bool		trib_fileio_write_all(int fd, const void *buf, size_t len);

/* fsync a directory (after a rename or a create in it). */
bool		trib_fileio_fsync_dir(const char *dir);

/* fsync the directory that holds path. */
bool		trib_fileio_fsync_parent(const char *path);

/* Replace path with data, atomically; durable: fsync file and directory. */
bool		trib_fileio_write_atomic(const char *path, const void *data, size_t len,
									 mode_t mode, bool durable, const char **what);

#endif							/* TRIB_FILEIO_H */
