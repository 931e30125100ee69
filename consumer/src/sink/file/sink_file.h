/*
 * sink_file.h: the file and stdout sinks: one JSON object per line.
 *
 * Line format (JSON Lines, UTF-8, '\n' after each):
 *
 *   {"topic":"tributary.public.orders","key":{"id":1},"value":{...}}
 *
 * topic, key and value are the Kafka record the Kafka sink would produce
 * for the same event (envelope.h): the value is the Debezium envelope
 * ("before", "after", "source", "op", "ts_ms", ...), key the primary key
 * object or null.  An event that makes several records (a truncate of
 * several tables) writes several lines.  Tombstones are off by default in
 * files (a null value means nothing without log compaction); the envelope
 * options can turn them on.
 *
 * Rotation (file sink).  With rotate_bytes > 0, a line that would take the
 * current file past rotate_bytes first closes it: `path` is renamed to
 * `path.N` and a new `path` is started.  N counts up from 1 and never
 * repeats, so a higher number is a newer file (`path` itself is the newest)
 * and nothing is ever renamed twice (unlike logrotate's path.1 = newest,
 * which renames every old file at each rotation).  Rotation happens only
 * between events: the records of one event stay in one file, and a single
 * event larger than rotate_bytes makes one larger file.
 *
 * Exactly-once.  flush() writes the buffered lines (write(2), and
 * fdatasync with fsync: true), then records the position of the last
 * event written, the segment number N that `path` will get, and the byte
 * length of `path` in the sidecar `path.pos` (written to a temporary file
 * and renamed, fsync'd with the directory when fsync is on), and acks that
 * position.  At open, the sidecar is read back: if `path.N` exists the
 * rotation after it completed (the segment moves on), and bytes in `path`
 * beyond the recorded length belong to events after the durable position,
 * so they are cut off (ftruncate).  durable_position() reports the
 * sidecar's position and write() drops events at or before it, comparing
 * (commit_lsn, seq).  A restarted pipeline therefore leaves every event in
 * the files exactly once.  Without fsync the guarantee holds for a crash
 * of the process, not of the machine: a file shorter than its recorded
 * length (data lost by the OS) is an error at open; delete `path.pos` to
 * start over deliberately.
 *
 * Permissions.  The lines are data, often personal: `path`, its segments
 * and the sidecar are created with `mode` (0600 unless configured), and an
 * existing file whose permissions are wider is narrowed to it at open.
 *
 * Ownership of `path`.  The active file is opened without following a
 * symbolic link (O_NOFOLLOW) and must be a regular file with one link; a
 * rotation creates the next one exclusively (O_EXCL).  So someone who can
 * write to the directory cannot redirect the lines (or the cut at open)
 * to another file.  The sidecar and the id map are written through
 * fileio.h, which never writes through a link either.  The sidecar names
 * the pipeline, and a sidecar of another pipeline is refused at open: a
 * second pipeline given the path stops before it writes.  The file is not
 * locked: two daemons of one pipeline are kept apart by the pipeline lock,
 * and a standby taking over from a frozen leader must open the file the
 * old leader still holds (which writes nothing more once it wakes).  Each
 * flush checks, before it records and acks, that
 * `path` still names the file written and that the file has exactly the
 * sink's bytes: a file removed, replaced or truncated by another process
 * fails the sink instead of acking lines that are not in the file.
 *
 * stdout.  The same lines on a descriptor (1 by default), no rotation and
 * no sidecar: flush() writes them out and acks; durable_position() is
 * "none".
 *
 * Threading: one thread drives a sink; acks are called from flush().
 */
#ifndef TRIB_SINK_FILE_H
#define TRIB_SINK_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "envelope.h"
#include "sink.h"

typedef struct trib_filesink_opts
{
	const char *path;			/* file sink: required */
	int64_t		rotate_bytes;	/* 0: never rotate */
	bool		fsync;			/* fdatasync data, sidecar and directory */
	mode_t		mode;			/* of the files it creates; an existing file
								 * with wider permissions is narrowed */
	const trib_envelope_opts *envelope; /* NULL: defaults, tombstones off */
	size_t		buffer_bytes;	/* write(2) when this much is buffered;
								 * 0: 64 KiB */
	int			fd;				/* stdout sink: descriptor; -1: 1 */
} trib_filesink_opts;

/* Counters, for tests and metrics. */
typedef struct trib_filesink_stats
{
	uint64_t	events;			/* events written */
	uint64_t	skipped;		/* events at or before the durable position */
	uint64_t	lines;			/* lines written */
	uint64_t	rotations;
	uint64_t	flushes;		/* flushes that made something durable */
	uint64_t	truncated_bytes;	/* cut off at open (after the position) */
	uint64_t	rewinds;		/* rewind() calls that cut something */
	uint64_t	rewound_bytes;	/* cut by them from the active file */
	uint64_t	segment;		/* the number `path` will get when rotated */
} trib_filesink_stats;

extern const trib_sink_ops trib_sink_file_ops;
extern const trib_sink_ops trib_sink_stdout_ops;

/* Defaults: no rotation, no fsync, mode 0600, default envelope, fd -1. */
void		trib_filesink_opts_init(trib_filesink_opts *opts);

/*
 * Open a file sink (sets sink->ops = &trib_sink_file_ops and
 * sink->state): recover from the sidecar as described above and open
 * `path` for appending.  The options are copied.
 */
bool		trib_filesink_open_opts(trib_sink *sink, const trib_filesink_opts *opts,
									char *errbuf, size_t errlen);

/* Open a stdout sink on opts->fd (or 1); opts may be NULL. */
bool		trib_stdoutsink_open_opts(trib_sink *sink, const trib_filesink_opts *opts,
									  char *errbuf, size_t errlen);

/* Counters so far. */
void		trib_filesink_get_stats(const trib_sink *sink, trib_filesink_stats *out);

/* The sidecar's name for `path` (malloc'd): path +
 * TRIB_FILESINK_POS_SUFFIX (sink_file_conf.h, whose key table names every
 * file a file sink writes). */
char	   *trib_filesink_pos_path(const char *path);

#endif							/* TRIB_SINK_FILE_H */
