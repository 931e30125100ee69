/*
 * sink_file.c: the file and stdout sinks (JSON Lines; see sink_file.h).
 *
 * Write path.  write() turns an event into its records (envelope.c) and
 * appends one line per record to an in-memory buffer; the buffer goes to
 * the descriptor with write(2) when it holds buffer_bytes, and at every
 * flush.  stdio is not used so that the sink always knows exactly how many
 * bytes of the active file are its own (`size`), which is what the
 * sidecar records and what recovery cuts back to.
 *
 * Sidecar `path.pos`, one JSON object:
 *   {"segment":3,"offset":1048213,"commit_lsn":"0/16B3748","seq":4,
 *    "end_lsn":"0/16B37F0","lsn":"0/16B3700","opaque":null,
 *    "pipeline":"orders"}
 * The position members are absent before the first event; with
 * checkpoint.encryption_key "opaque" holds the sealed text (sink_seal.h,
 * bound to the pipeline and the sink), opened when the sidecar is read: a
 * sealed one that does not open fails open() (never a start from scratch),
 * a clear one is used and sealed at the next write.  "pipeline"
 * (the sink's pipeline, when it has one) makes open() refuse a sidecar
 * another pipeline wrote, whose position is not this one's.  It is written
 * to `path.pos.tmp` and renamed over `path.pos`.  While a rewind that goes
 * back into a rotated segment is under way it also holds "drop_upto":M:
 * segments segment+1 to M-1 and the active file are to be removed and
 * path.<segment> to become the active file again; the next open finishes
 * that (each step can be repeated) before anything else.
 *
 * Resumed snapshots (rewind, sink.h).  The sink keeps the byte where each
 * snapshot id's lines end in `path.ids` (sink_file_ids.h).  rewind(to)
 * finds the first line after `to` there, records the cut in the sidecar
 * (segment, offset, durable position `to`), then removes the later
 * segments and truncates: a crash at any step leaves a sidecar that the
 * next open cuts back to, as after any crash.
 *
 * Failure.  A failed write(2) or fsync leaves the sink failed: every later
 * write and flush reports the first error (the file may end in a partial
 * line, which the next open cuts off).
 *
 * Configured sinks.  The open() and check() operations of a member of
 * `sinks:` read its settings (sink_file_conf.h); check() only looks at the
 * directory and the file, it writes nothing.
 *
 * The active file is opened with open_active(): no symbolic link, one
 * link, a regular file (sink_file.h, "Ownership of `path`").
 *
 * Size.  About 1,140 lines, past the project's 1,000: the write path, the
 * sidecar, recovery and rewind all change one filesink's segment, offset
 * and durable position, in an order that must stay crash-safe, so they
 * are read together.  The configured sinks' open() and check() at the end
 * depend on none of that and are where the file splits next (beside the
 * key table in sink_file_conf.c).
 */
#include "sink_file.h"
#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "check_report.h"
#include "config.h"
#include "sink_file_conf.h"
#include "sink_file_ids.h"
#include "sink_seal.h"
#include "log.h"
#include "position.h"
#include "strbuf.h"

#define DEFAULT_BUFFER (64 * 1024)
#define MAX_SIDECAR (1024 * 1024)	/* largest sidecar read back */

typedef struct filesink
{
	bool		is_stdout;
	char	   *path;			/* NULL for stdout */
	char	   *pos_path;
	char	   *dir;			/* directory of path, for fsync */
	char	   *pipeline;		/* recorded in the sidecar; NULL: none */
	trib_sink  *owner;			/* the sink: its seal_key (sink_seal.h); NULL
								 * for stdout */
	int			fd;
	int64_t		rotate_bytes;
	bool		fsync;
	mode_t		mode;			/* of the data file and the sidecar */
	size_t		buffer_bytes;
	trib_envelope *env;
	trib_strbuf buf;			/* lines not yet written */
	trib_strbuf line;			/* scratch for one event's lines */
	int64_t		size;			/* bytes of the active file, buffered included */
	uint64_t	segment;		/* number `path` gets when rotated */
	bool		has_durable;
	trib_position durable;		/* in the sidecar */
	bool		has_written;
	trib_position written;		/* last event written */
	bool		sidecar_valid;	/* the sidecar matches segment/size */
	uint64_t	drop_upto;		/* a rewind under way (see above); 0 none */
	trib_fsids	ids;			/* path.ids: where each snapshot id ends */
	trib_sink_fault fault;		/* a failed write(2) or fsync */
	trib_filesink_stats stats;
} filesink;

static bool file_open(trib_sink *sink, const struct trib_plugin_conf *conf,
					  char *errbuf, size_t errlen);
static bool stdout_open(trib_sink *sink, const struct trib_plugin_conf *conf,
						char *errbuf, size_t errlen);
static bool fs_durable_position(trib_sink *sink, trib_position *out,
								char *errbuf, size_t errlen);
static bool fs_write(trib_sink *sink, const trib_event *ev,
					 char *errbuf, size_t errlen);
static bool fs_flush(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen);
static bool fs_poll(trib_sink *sink, int timeout_ms,
					char *errbuf, size_t errlen);
static bool fs_rewind(trib_sink *sink, const trib_position *to,
					  char *errbuf, size_t errlen);
static void fs_close(trib_sink *sink);
static void file_check(const struct trib_plugin_conf *conf, trib_check_report *rep);
static void stdout_check(const struct trib_plugin_conf *conf, trib_check_report *rep);

const trib_sink_ops trib_sink_file_ops = {
	.type = "file",
	.open = file_open,
	.durable_position = fs_durable_position,
	.write = fs_write,
	.flush = fs_flush,
	.poll = fs_poll,
	.close = fs_close,
	.rewind = fs_rewind,
	.check = file_check,
};

const trib_sink_ops trib_sink_stdout_ops = {
	.type = "stdout",
	.open = stdout_open,
	.durable_position = fs_durable_position,
	.write = fs_write,
	.flush = fs_flush,
	.poll = fs_poll,
	.close = fs_close,
	.check = stdout_check,
};

/* The registrations (declared in sink_file_conf.h, beside the settings). */
const trib_plugin trib_sink_file = {
	.type = "file",
	.sink_ops = &trib_sink_file_ops,
	.section = &trib_filesink_conf_section,
	.conf_size = sizeof(trib_filesink_conf),
};

const trib_plugin trib_sink_stdout = {
	.type = "stdout",
	.sink_ops = &trib_sink_stdout_ops,
	.section = &trib_filesink_conf_stdout_section,
};

/* See sink_file_conf.h. */
TRIB_PLUGIN_CONF_ACCESSOR(trib_filesink_conf_of, trib_filesink_conf, trib_sink_file)

/* Defaults. */
void
trib_filesink_opts_init(trib_filesink_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->mode = TRIB_FILE_MODE_DEFAULT;
	opts->fd = -1;
}

/* path + suffix (malloc'd). */
static char *
suffixed(const char *path, const char *suffix)
{
	trib_strbuf b = {0};

	trib_strbuf_printf(&b, "%s%s", path, suffix);
	return trib_strbuf_finish(&b);
}

/* path + ".pos". */
char *
trib_filesink_pos_path(const char *path)
{
	return suffixed(path, TRIB_FILESINK_POS_SUFFIX);
}

/* Copy a position, opaque text included; dst's old opaque is freed. */
static void
pos_set(trib_position *dst, const trib_position *src)
{
	char	   *op = src->opaque ? trib_xstrdup(src->opaque) : NULL;

	free(dst->opaque);
	*dst = *src;
	dst->opaque = op;
}

/* False with the reason when the sink is not open or has failed. */
static bool
usable(filesink *f, char *errbuf, size_t errlen)
{
	return trib_sink_usable(f ? &f->fault : NULL, "file sink", errbuf, errlen);
}

/* Mark the sink failed with a message (errno text appended). */
static bool
fail_errno(filesink *f, char *errbuf, size_t errlen, const char *what, const char *name)
{
	return trib_sink_fail(&f->fault, errbuf, errlen, "%s %s: %s", what,
						  name ? name : "stdout", strerror(errno));
}

/* Write the buffer out. */
static bool
drain(filesink *f, char *errbuf, size_t errlen)
{
	if (f->buf.len == 0)
		return true;
	if (!trib_fileio_write_all(f->fd, f->buf.data, f->buf.len))
		return fail_errno(f, errbuf, errlen, "cannot write", f->path);
	f->buf.len = 0;
	f->buf.data[0] = '\0';
	return true;
}


/* Append `s` as a JSON string (topics, the sidecar's opaque). */
static void
add_json_string(trib_strbuf *b, const char *s)
{
	trib_strbuf_addc(b, '"');
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
		{
			trib_strbuf_addc(b, '\\');
			trib_strbuf_addc(b, (char) c);
		}
		else if (c < 0x20)
			trib_strbuf_printf(b, "\\u%04x", c);
		else
			trib_strbuf_addc(b, (char) c);
	}
	trib_strbuf_addc(b, '"');
}

/* The sidecar text for the current state, its opaque as `opaque`. */
static void
sidecar_text(const filesink *f, const char *opaque, trib_strbuf *b)
{
	char		l1[TRIB_LSN_BUFLEN],
				l2[TRIB_LSN_BUFLEN],
				l3[TRIB_LSN_BUFLEN];

	trib_strbuf_printf(b, "{\"segment\":%" PRIu64 ",\"offset\":%" PRId64,
					   f->segment, f->size);
	if (f->has_durable)
	{
		trib_lsn_format(f->durable.commit_lsn, l1, sizeof(l1));
		trib_lsn_format(f->durable.end_lsn, l2, sizeof(l2));
		trib_lsn_format(f->durable.lsn, l3, sizeof(l3));
		trib_strbuf_printf(b, ",\"commit_lsn\":\"%s\",\"seq\":%" PRIu64
						   ",\"end_lsn\":\"%s\",\"lsn\":\"%s\"", l1,
						   f->durable.seq, l2, l3);
		if (opaque)
		{
			/* opaque is JSON text (event.h), or sealed; kept as a JSON string */
			trib_strbuf_adds(b, ",\"opaque\":");
			add_json_string(b, opaque);
		}
	}
	if (f->drop_upto)
		trib_strbuf_printf(b, ",\"drop_upto\":%" PRIu64, f->drop_upto);
	if (f->pipeline)
	{
		trib_strbuf_adds(b, ",\"pipeline\":");
		add_json_string(b, f->pipeline);
	}
	trib_strbuf_adds(b, "}\n");
}

/* The sidecar in words for messages. */
static const char *
pos_words(const filesink *f, char *buf, size_t len)
{
	snprintf(buf, len, "file %s", f->pos_path);
	return buf;
}

/* Write the sidecar atomically (tmp + rename; fsync'd when asked). */
static bool
write_sidecar(filesink *f, char *errbuf, size_t errlen)
{
	trib_strbuf text = {0};
	bool		ok;
	char	   *sealed = NULL;
	const char *opaque = f->durable.opaque;
	char		w[1100];

	if (f->owner != NULL && f->has_durable &&
		!trib_sink_seal(f->owner, pos_words(f, w, sizeof(w)), f->durable.opaque, &sealed,
						&opaque, errbuf, errlen))
		return trib_sink_fail(&f->fault, errbuf, errlen, "%s", errbuf);
	sidecar_text(f, opaque, &text);
	free(sealed);
	ok = trib_fileio_write_atomic(f->pos_path, text.data, text.len, f->mode, f->fsync, NULL);
	if (!ok)
		fail_errno(f, errbuf, errlen, "cannot write", f->pos_path);
	trib_strbuf_free(&text);
	return ok;
}

/*
 * Before a flush records and acks: is the file at `path` still the one
 * written, with exactly our bytes?  Another process that removed, replaced
 * or truncated it took lines with it (or, with O_APPEND, made our offsets
 * wrong): nothing more is acked, the sink fails and says so.
 */
static bool
still_ours(filesink *f, char *errbuf, size_t errlen)
{
	struct stat mine,
				named;

	if (fstat(f->fd, &mine) != 0)
		return fail_errno(f, errbuf, errlen, "cannot stat", f->path);
	if (lstat(f->path, &named) != 0 || named.st_dev != mine.st_dev ||
		named.st_ino != mine.st_ino)
		return trib_sink_fail(&f->fault, errbuf, errlen, "%s was removed or replaced by "
							  "another process while the sink wrote it: lines after the last "
							  "durable position are not in it", f->path);
	if (mine.st_size != f->size)
		return trib_sink_fail(&f->fault, errbuf, errlen, "%s has %lld bytes where the sink "
							  "wrote %" PRId64 ": another process truncated or wrote to it",
							  f->path, (long long) mine.st_size, f->size);
	return true;
}

/* Make everything written durable and record it; ack when it moved. */
static bool
flush_file(trib_sink *sink, filesink *f, char *errbuf, size_t errlen)
{
	bool		moved;
	char		e[512];

	if (!drain(f, errbuf, errlen))
		return false;
	moved = f->has_written &&
		(!f->has_durable || !trib_position_le(&f->written, &f->durable));
	if (f->is_stdout)
	{
		if (moved)
		{
			pos_set(&f->durable, &f->written);
			f->has_durable = true;
			f->stats.flushes++;
			if (sink->ack)
				sink->ack(sink, &f->durable, sink->ack_arg);
		}
		return true;
	}
	if (f->fsync && fdatasync(f->fd) != 0)
		return fail_errno(f, errbuf, errlen, "cannot fsync", f->path);
	if (!still_ours(f, errbuf, errlen))
		return false;
	if (!trib_fsids_commit(&f->ids, e, sizeof(e)))
		return trib_sink_fail(&f->fault, errbuf, errlen, "%s", e);
	if (moved)
	{
		pos_set(&f->durable, &f->written);
		f->has_durable = true;
	}
	if ((moved || !f->sidecar_valid) && !write_sidecar(f, errbuf, errlen))
		return false;
	f->sidecar_valid = true;
	if (moved)
	{
		f->stats.flushes++;
		if (sink->ack)
			sink->ack(sink, &f->durable, sink->ack_arg);
	}
	return true;
}

/* "path.N" */
static char *
segment_name(const char *path, uint64_t n)
{
	trib_strbuf b = {0};

	trib_strbuf_printf(&b, "%s.%" PRIu64, path, n);
	return trib_strbuf_finish(&b);
}

/*
 * Open the active file for appending (created with the mode; `excl`: it
 * must not exist yet): -1 with errbuf when it is a symbolic link or not a
 * regular file of its own (a FIFO, a hard link).  O_NONBLOCK keeps a FIFO
 * put at the name from blocking the open.  No lock: a second daemon of the
 * same pipeline is fenced by the pipeline lock (a standby that takes over
 * from a frozen leader must be able to open the file the old one still
 * has open), one of another pipeline by the sidecar's pipeline name.
 */
static int
open_active(const filesink *f, bool excl, char *errbuf, size_t errlen)
{
	int			fd = trib_fileio_open_private(f->path, O_WRONLY | O_APPEND | O_NOFOLLOW |
											  O_NONBLOCK | (excl ? O_EXCL : 0), f->mode);
	struct stat st;
	const char *why = NULL;

	if (fd < 0)
	{
		snprintf(errbuf, errlen, "cannot open %s: %s", f->path,
				 errno == ELOOP ? "it is a symbolic link (name the file itself in path)"
				 : errno == ENXIO ? "not a regular file (a FIFO?)" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_nlink > 1)
		why = "it has other hard links";
	if (why)
	{
		snprintf(errbuf, errlen, "cannot use %s: %s", f->path, why);
		close(fd);
		return -1;
	}
	return fd;
}

/* Close the active file as path.N and start a new one. */
static bool
rotate(trib_sink *sink, filesink *f, char *errbuf, size_t errlen)
{
	char	   *name;
	int			fd;

	if (!flush_file(sink, f, errbuf, errlen))
		return false;
	name = segment_name(f->path, f->segment);
	if (rename(f->path, name) != 0)
	{
		fail_errno(f, errbuf, errlen, "cannot rename", f->path);
		free(name);
		return false;
	}
	free(name);
	if (f->fsync && !trib_fileio_fsync_dir(f->dir))
		return fail_errno(f, errbuf, errlen, "cannot fsync the directory of", f->path);
	fd = open_active(f, true, errbuf, errlen);
	if (fd < 0)
		return trib_sink_fail(&f->fault, NULL, 0, "%s", errbuf), false;
	close(f->fd);
	f->fd = fd;
	f->segment++;
	f->size = 0;
	f->sidecar_valid = false;
	f->stats.rotations++;
	tlog_debug("sink.file", "rotated %s to segment %" PRIu64, f->path, f->segment - 1);
	return true;
}

/* Queue the lines of one event. */
static bool
fs_write(trib_sink *sink, const trib_event *ev, char *errbuf, size_t errlen)
{
	filesink   *f = sink->state;
	const trib_record *recs;
	size_t		n,
				i;

	if (!usable(f, errbuf, errlen))
		return false;
	if (f->has_durable && trib_position_le(&ev->pos, &f->durable))
	{
		f->stats.skipped++;
		return true;
	}
	recs = trib_envelope_encode(f->env, ev, &n, errbuf, errlen);
	if (!recs)
		return false;
	f->line.len = 0;
	for (i = 0; i < n; i++)
	{
		trib_strbuf_adds(&f->line, "{\"topic\":");
		add_json_string(&f->line, recs[i].topic);
		trib_strbuf_adds(&f->line, ",\"key\":");
		if (recs[i].key)
			trib_strbuf_add(&f->line, recs[i].key, recs[i].key_len);
		else
			trib_strbuf_adds(&f->line, "null");
		trib_strbuf_adds(&f->line, ",\"value\":");
		if (recs[i].value)
			trib_strbuf_add(&f->line, recs[i].value, recs[i].value_len);
		else
			trib_strbuf_adds(&f->line, "null");
		trib_strbuf_adds(&f->line, "}\n");
	}
	if (!f->is_stdout && f->rotate_bytes > 0 && f->size > 0 &&
		f->size + (int64_t) f->line.len > f->rotate_bytes &&
		!rotate(sink, f, errbuf, errlen))
		return false;
	if (!f->is_stdout)
		trib_fsids_note(&f->ids, ev->snapshot, ev->pos.commit_lsn, ev->pos.seq, (uint32_t) n,
						f->segment, f->size);
	trib_strbuf_add(&f->buf, f->line.data, f->line.len);
	f->size += (int64_t) f->line.len;
	pos_set(&f->written, &ev->pos);
	f->has_written = true;
	f->stats.events++;
	f->stats.lines += n;
	if (f->buf.len >= f->buffer_bytes)
		return drain(f, errbuf, errlen);
	return true;
}

/* flush(): write out, make durable, record, ack. */
static bool
fs_flush(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen)
{
	filesink   *f = sink->state;

	(void) timeout_ms;
	if (!usable(f, errbuf, errlen))
		return false;
	return flush_file(sink, f, errbuf, errlen);
}

/* Nothing runs in the background; reports a failure seen earlier (a
 * failed write(2) or fsync), so an idle pipeline stops too. */
static bool
fs_poll(trib_sink *sink, int timeout_ms, char *errbuf, size_t errlen)
{
	filesink   *f = sink->state;

	(void) timeout_ms;
	return usable(f, errbuf, errlen);
}

/* The recorded position, if any. */
static bool
fs_durable_position(trib_sink *sink, trib_position *out,
					char *errbuf, size_t errlen)
{
	filesink   *f = sink->state;

	(void) errbuf;
	(void) errlen;
	return f != NULL && !f->is_stdout &&
		trib_sink_report_durable(f->has_durable, &f->durable, out);
}

/* Free the state. */
static void
state_free(filesink *f)
{
	if (!f)
		return;
	if (f->fd >= 0 && !f->is_stdout)
		close(f->fd);
	trib_envelope_free(f->env);
	trib_strbuf_free(&f->buf);
	trib_strbuf_free(&f->line);
	trib_fsids_clear(&f->ids);
	free(f->durable.opaque);
	free(f->written.opaque);
	free(f->path);
	free(f->pos_path);
	free(f->dir);
	free(f->pipeline);
	free(f);
}

/* Flush what can be flushed, then release. */
static void
fs_close(trib_sink *sink)
{
	filesink   *f = sink->state;
	char		e[512];

	if (!f)
		return;
	if (!f->fault.failed && !sink->discard && !flush_file(sink, f, e, sizeof(e)))
		tlog_error("sink.file", "%s: %s", sink->name ? sink->name : "file", e);
	state_free(f);
	sink->state = NULL;
}

/* A yajl integer member, or false. */
static bool
json_uint(yajl_val root, const char *name, uint64_t *out)
{
	const char *path[] = {name, NULL};

	return trib_fsids_json_u64(yajl_tree_get(root, path, yajl_t_number), out);
}

/* A yajl LSN member ("X/Y"), or false. */
static bool
json_lsn(yajl_val root, const char *name, uint64_t *out)
{
	const char *path[] = {name, NULL};
	yajl_val	v = yajl_tree_get(root, path, yajl_t_string);

	return v && trib_lsn_parse(YAJL_GET_STRING(v), out);
}

/* Read the sidecar; *found is false when it does not exist. */
static bool
read_sidecar(filesink *f, bool *found, uint64_t *offset,
			 char *errbuf, size_t errlen)
{
	char		msg[128],
				yerr[256];
	char	   *text;
	size_t		n;
	yajl_val	root;
	uint64_t	lsn;
	const char *opath[] = {"opaque", NULL};
	const char *ppath[] = {"pipeline", NULL};
	yajl_val	op;
	struct stat st;

	*found = false;
	/* whole: a position's opaque (a MySQL GTID set) can be long */
	text = trib_fileio_read_small(f->pos_path, MAX_SIDECAR, &n, msg, sizeof(msg));
	if (!text)
	{
		if (lstat(f->pos_path, &st) != 0 && errno == ENOENT)
			return true;
		snprintf(errbuf, errlen, "cannot read %s: %s", f->pos_path, msg);
		return false;
	}
	root = yajl_tree_parse(text, yerr, sizeof(yerr));
	free(text);
	if (!root || !YAJL_IS_OBJECT(root) || !json_uint(root, "segment", &f->segment) ||
		!json_uint(root, "offset", offset) || f->segment == 0)
	{
		snprintf(errbuf, errlen, "%s is not a position file of this sink "
				 "(delete it to start over)", f->pos_path);
		yajl_tree_free(root);
		return false;
	}
	op = yajl_tree_get(root, ppath, yajl_t_string);
	if (op && f->pipeline && strcmp(op->u.string, f->pipeline) != 0)
	{
		/* its position is another source's: events at or before it
		 * would be dropped as written */
		snprintf(errbuf, errlen, "%s belongs to pipeline \"%s\", not \"%s\": give this "
				 "pipeline a path of its own (or delete %s to start over)", f->pos_path,
				 op->u.string, f->pipeline, f->pos_path);
		yajl_tree_free(root);
		return false;
	}
	*found = true;
	if (!json_uint(root, "drop_upto", &f->drop_upto))
		f->drop_upto = 0;
	if (json_lsn(root, "commit_lsn", &lsn))
	{
		f->has_durable = true;
		f->durable.commit_lsn = lsn;
		if (!json_uint(root, "seq", &f->durable.seq))
			f->durable.seq = 0;
		if (json_lsn(root, "end_lsn", &lsn))
			f->durable.end_lsn = lsn;
		if (json_lsn(root, "lsn", &lsn))
			f->durable.lsn = lsn;
		op = yajl_tree_get(root, opath, yajl_t_string);
		if (op)
			f->durable.opaque = trib_xstrdup(YAJL_GET_STRING(op));
	}
	yajl_tree_free(root);
	if (f->owner != NULL)
	{
		char		w[1100];

		if (!trib_sink_unseal(f->owner, pos_words(f, w, sizeof(w)), &f->durable.opaque,
							  errbuf, errlen))
		{
			f->has_durable = false;
			return false;
		}
	}
	return true;
}

/* The highest N of existing path.N files, 0 when none. */
static uint64_t
highest_segment(const char *path)
{
	char	   *copy = trib_xstrdup(path);
	char	   *copy2 = trib_xstrdup(path);
	const char *dir = dirname(copy);
	const char *base = basename(copy2);
	size_t		blen = strlen(base);
	DIR		   *d = opendir(dir);
	struct dirent *de;
	uint64_t	max = 0;

	while (d && (de = readdir(d)) != NULL)
	{
		const char *s = de->d_name;
		char	   *end;
		uint64_t	n;

		if (strncmp(s, base, blen) != 0 || s[blen] != '.' ||
			s[blen + 1] < '1' || s[blen + 1] > '9')
			continue;
		n = strtoull(s + blen + 1, &end, 10);
		if (*end == '\0' && n > max)
			max = n;
	}
	if (d)
		closedir(d);
	free(copy);
	free(copy2);
	return max;
}

/* True when a file exists. */
static bool
exists(const char *name)
{
	struct stat st;

	return stat(name, &st) == 0;
}

/*
 * Finish a rewind into a rotated segment (the sidecar's drop_upto): remove
 * segments segment+1 .. drop_upto-1, then make path.<segment> the active
 * file again (replacing the active one).  Each step may have been done
 * already.
 */
static bool
finish_drop(filesink *f, char *errbuf, size_t errlen)
{
	char	   *name;

	for (uint64_t n = f->drop_upto - 1; n > f->segment; n--)
	{
		name = segment_name(f->path, n);
		if (unlink(name) != 0 && errno != ENOENT)
		{
			snprintf(errbuf, errlen, "cannot remove %s: %s", name, strerror(errno));
			free(name);
			return false;
		}
		free(name);
	}
	name = segment_name(f->path, f->segment);
	if (exists(name) && rename(name, f->path) != 0)
	{
		snprintf(errbuf, errlen, "cannot rename %s: %s", name, strerror(errno));
		free(name);
		return false;
	}
	free(name);
	return !f->fsync || trib_fileio_fsync_dir(f->dir) ||
		(snprintf(errbuf, errlen, "cannot fsync the directory of %s: %s", f->path,
				  strerror(errno)), false);
}

/* Recover from the sidecar and open the active file. */
static bool
recover_and_open(filesink *f, char *errbuf, size_t errlen)
{
	bool		found;
	uint64_t	offset = 0;
	struct stat st;
	int			fd;

	if ((f->fd = open_active(f, false, errbuf, errlen)) < 0 ||
		!read_sidecar(f, &found, &offset, errbuf, errlen))
		return false;
	if (!found)
		f->segment = highest_segment(f->path) + 1;
	else
	{
		char	   *name;

		if (f->drop_upto)
		{
			/* path.<segment> replaces the file opened */
			if (!finish_drop(f, errbuf, errlen) ||
				(fd = open_active(f, false, errbuf, errlen)) < 0)
				return false;
			close(f->fd);
			f->fd = fd;
		}
		/* a rotation completed after the sidecar was written */
		while ((name = segment_name(f->path, f->segment)) && exists(name))
		{
			free(name);
			f->segment++;
			offset = 0;
		}
		free(name);
	}
	fd = f->fd;
	if (fstat(fd, &st) != 0)
	{
		snprintf(errbuf, errlen, "cannot open %s: %s", f->path, strerror(errno));
		return false;
	}
	f->size = st.st_size;
	if (!found)
	{
		/*
		 * First start: record where our data begins before writing any.
		 * A crash before the first flush then leaves a sidecar that cuts
		 * the file back to here at the next open, instead of keeping
		 * lines that will be written again (and keeping whatever the file
		 * held before it was ours).
		 */
		if (!write_sidecar(f, errbuf, errlen))
			return false;
		f->sidecar_valid = true;
		return true;
	}
	if ((uint64_t) st.st_size < offset)
	{
		snprintf(errbuf, errlen, "%s has %lld bytes but %s records %" PRIu64
				 " as durable: data was lost (truncated or replaced by another process, or "
				 "lost by the system with fsync off); delete %s to start over",
				 f->path, (long long) st.st_size, f->pos_path, offset, f->pos_path);
		return false;
	}
	if ((uint64_t) st.st_size > offset)
	{
		if (ftruncate(fd, (off_t) offset) != 0)
		{
			snprintf(errbuf, errlen, "cannot truncate %s: %s", f->path, strerror(errno));
			return false;
		}
		f->stats.truncated_bytes = (uint64_t) st.st_size - offset;
		tlog_info("sink.file", "%s: dropped %" PRIu64 " bytes written after the last "
				  "durable position", f->path, f->stats.truncated_bytes);
		f->size = (int64_t) offset;
	}
	return true;
}

/* After recovery: the id map (kept up to the durable position), and a
 * sidecar without a finished rewind's drop_upto. */
static bool
open_ids(filesink *f, char *errbuf, size_t errlen)
{
	char	   *ids_path = suffixed(f->path, TRIB_FILESINK_IDS_SUFFIX);
	bool		ok = trib_fsids_load(&f->ids, ids_path, f->mode, f->fsync, f->has_durable,
									 f->durable.commit_lsn, f->durable.seq, errbuf, errlen);

	free(ids_path);
	if (ok && f->drop_upto)
	{
		f->drop_upto = 0;
		ok = write_sidecar(f, errbuf, errlen);
	}
	return ok;
}

/* The byte after `skip` lines from byte `offset` of file `name`; -1 with
 * errbuf when it cannot be read or ends first. */
static int64_t
line_end(const char *name, int64_t offset, uint64_t skip, char *errbuf, size_t errlen)
{
	int			fd = open(name, O_RDONLY | O_CLOEXEC);
	char		buf[65536];
	ssize_t		n = 0;
	int64_t		pos = offset;

	if (fd < 0 || lseek(fd, (off_t) offset, SEEK_SET) < 0)
	{
		snprintf(errbuf, errlen, "cannot read %s: %s", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (skip > 0 && (n = read(fd, buf, sizeof(buf))) > 0)
	{
		ssize_t		i;

		for (i = 0; i < n && skip > 0; i++)
			if (buf[i] == '\n')
				skip--;
		pos += i;
	}
	close(fd);
	if (skip > 0)
	{
		snprintf(errbuf, errlen, "%s ends before the lines its id map (" TRIB_FILESINK_IDS_SUFFIX
				 ") records%s%s", name, n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		return -1;
	}
	return pos;
}

/* Cut the files back to byte `cut` of segment `seg` (sidecar first, see
 * the top of the file), the durable position's seq to `seq`. */
static bool
cut_back(filesink *f, uint64_t seg, int64_t cut, uint64_t seq, char *errbuf, size_t errlen)
{
	int			fd;

	f->drop_upto = seg < f->segment ? f->segment : 0;
	f->segment = seg;
	f->size = cut;
	f->durable.seq = seq;
	pos_set(&f->written, &f->durable);
	f->has_written = true;
	if (!write_sidecar(f, errbuf, errlen))
		return false;
	if (f->drop_upto)
	{
		if (!finish_drop(f, errbuf, errlen))
			return trib_sink_fail(&f->fault, NULL, 0, "%s", errbuf), false;
		fd = open_active(f, false, errbuf, errlen);
		if (fd < 0)
			return trib_sink_fail(&f->fault, NULL, 0, "%s", errbuf), false;
		close(f->fd);
		f->fd = fd;
	}
	if (ftruncate(f->fd, (off_t) cut) != 0)
		return fail_errno(f, errbuf, errlen, "cannot truncate", f->path);
	if (f->fsync && fdatasync(f->fd) != 0)
		return fail_errno(f, errbuf, errlen, "cannot fsync", f->path);
	f->drop_upto = 0;
	if (!write_sidecar(f, errbuf, errlen))
		return false;
	f->sidecar_valid = true;
	return true;
}

/* rewind(): drop the lines of the ids after `to` (sink.h). */
static bool
fs_rewind(trib_sink *sink, const trib_position *to, char *errbuf, size_t errlen)
{
	filesink   *f = sink->state;
	uint64_t	seg,
				skip,
				old_seg;
	int64_t		off,
				cut,
				old_size;
	char	   *name;

	if (!usable(f, errbuf, errlen))
		return false;
	if (!f->has_durable || f->durable.commit_lsn != to->commit_lsn || f->durable.seq <= to->seq ||
		!trib_fsids_find(&f->ids, to->commit_lsn, to->seq, &seg, &off, &skip))
		return true;
	if (!drain(f, errbuf, errlen))
		return false;
	if (seg > f->segment)
		return trib_sink_fail(&f->fault, errbuf, errlen, "%s" TRIB_FILESINK_IDS_SUFFIX
							  " names segment %" PRIu64 ", after the active file", f->path, seg);
	name = seg == f->segment ? trib_xstrdup(f->path) : segment_name(f->path, seg);
	cut = line_end(name, off, skip, errbuf, errlen);
	free(name);
	old_seg = f->segment;
	old_size = f->size;
	if (cut < 0 || !cut_back(f, seg, cut, to->seq, errbuf, errlen) ||
		!trib_fsids_cut(&f->ids, to->seq, errbuf, errlen))
		return false;
	f->stats.rewinds++;
	f->stats.rewound_bytes += old_seg == seg ? (uint64_t) (old_size - cut) : 0;
	tlog_info("sink.file", "%s: the snapshot resumes after its checkpoint: cut back to byte %"
			  PRId64 " of %s (%" PRIu64 " later segment(s) removed); those rows are written again",
			  f->path, cut, seg == old_seg ? "the active file" : "an earlier segment",
			  old_seg - seg);
	return true;
}

/* The envelope from the options (tombstones off by default). */
static trib_envelope *
make_envelope(const trib_filesink_opts *opts, char *errbuf, size_t errlen)
{
	trib_envelope_opts eo;

	if (opts && opts->envelope)
		return trib_envelope_new(opts->envelope, errbuf, errlen);
	trib_envelope_opts_init(&eo);
	eo.tombstones = false;
	return trib_envelope_new(&eo, errbuf, errlen);
}

/* A new state with the common options. */
static filesink *
state_new(const trib_filesink_opts *opts)
{
	filesink   *f = trib_xcalloc(1, sizeof(*f));

	f->fd = -1;
	f->buffer_bytes = opts && opts->buffer_bytes ? opts->buffer_bytes : DEFAULT_BUFFER;
	trib_strbuf_add(&f->buf, "", 0);
	return f;
}

/* Open a file sink. */
bool
trib_filesink_open_opts(trib_sink *sink, const trib_filesink_opts *opts,
						char *errbuf, size_t errlen)
{
	filesink   *f;
	char	   *copy;

	if (!opts || !opts->path || !opts->path[0])
	{
		snprintf(errbuf, errlen, "file sink: no path");
		return false;
	}
	if (opts->rotate_bytes < 0)
	{
		snprintf(errbuf, errlen, "file sink: rotate_bytes must not be negative");
		return false;
	}
	f = state_new(opts);
	f->path = trib_xstrdup(opts->path);
	f->pos_path = trib_filesink_pos_path(opts->path);
	copy = trib_xstrdup(opts->path);
	f->dir = trib_xstrdup(dirname(copy));
	free(copy);
	f->pipeline = sink->pipeline ? trib_xstrdup(sink->pipeline) : NULL;
	f->owner = sink;
	f->rotate_bytes = opts->rotate_bytes;
	f->fsync = opts->fsync;
	f->mode = opts->mode ? opts->mode : TRIB_FILE_MODE_DEFAULT;
	f->env = make_envelope(opts, errbuf, errlen);
	if (!f->env || !recover_and_open(f, errbuf, errlen) || !open_ids(f, errbuf, errlen))
	{
		state_free(f);
		return false;
	}
	f->stats.segment = f->segment;
	sink->ops = &trib_sink_file_ops;
	sink->state = f;
	return true;
}

/* Open a stdout sink. */
bool
trib_stdoutsink_open_opts(trib_sink *sink, const trib_filesink_opts *opts,
						  char *errbuf, size_t errlen)
{
	filesink   *f = state_new(opts);

	f->is_stdout = true;
	f->fd = opts && opts->fd >= 0 ? opts->fd : STDOUT_FILENO;
	f->env = make_envelope(opts, errbuf, errlen);
	if (!f->env)
	{
		state_free(f);
		return false;
	}
	sink->ops = &trib_sink_stdout_ops;
	sink->state = f;
	return true;
}

/* The envelope of a configured file or stdout sink: the defaults (with
 * tombstones), topics under the pipeline's name. */
static void
conf_envelope(const trib_sink *sink, trib_envelope_opts *env)
{
	trib_envelope_opts_init(env);
	if (sink->pipeline != NULL)
		env->topic_prefix = sink->pipeline;
}

/* open() of a member of `sinks:` with type file. */
static bool
file_open(trib_sink *sink, const struct trib_plugin_conf *conf,
		  char *errbuf, size_t errlen)
{
	const trib_filesink_conf *fc = trib_filesink_conf_of(conf);
	trib_filesink_opts o;
	trib_envelope_opts env;

	if (fc == NULL)
		return trib_sink_no_conf("file", errbuf, errlen);
	trib_filesink_opts_init(&o);
	conf_envelope(sink, &env);
	o.envelope = &env;
	o.path = fc->path;
	o.rotate_bytes = fc->rotate_bytes;
	o.fsync = fc->fsync;
	if (fc->mode && !trib_fileio_mode_parse(fc->mode, &o.mode))
	{
		snprintf(errbuf, errlen, "file sink: mode \"%s\" is not an octal mode such as 0600",
				 fc->mode);
		return false;
	}
	return trib_filesink_open_opts(sink, &o, errbuf, errlen);
}

/* open() of a member of `sinks:` with type stdout: no settings. */
static bool
stdout_open(trib_sink *sink, const struct trib_plugin_conf *conf,
			char *errbuf, size_t errlen)
{
	trib_filesink_opts o;
	trib_envelope_opts env;

	(void) conf;
	trib_filesink_opts_init(&o);
	conf_envelope(sink, &env);
	o.envelope = &env;
	return trib_stdoutsink_open_opts(sink, &o, errbuf, errlen);
}

/* check() of a file sink: can `run` write the file? (read-only) */
static void
file_check(const struct trib_plugin_conf *conf, trib_check_report *rep)
{
	const char *path = trib_filesink_conf_of(conf)->path;
	char	   *copy = trib_xstrdup(path);
	const char *dir = dirname(copy);
	struct stat st;

	if (access(dir, W_OK | X_OK) != 0)
	{
		trib_check_report_say(rep, "  directory %s: not writable (%s)", dir, strerror(errno));
		rep->problems++;
	}
	else if (lstat(path, &st) == 0 && (!S_ISREG(st.st_mode) || st.st_nlink > 1))
	{
		/* what open_active() refuses */
		trib_check_report_say(rep, "  %s: %s; `run` refuses it (name a regular file of the "
							  "sink's own)", path, S_ISLNK(st.st_mode) ? "a symbolic link"
							  : S_ISREG(st.st_mode) ? "has other hard links"
							  : "not a regular file");
		rep->problems++;
	}
	else if (stat(path, &st) == 0)
		trib_check_report_say(rep, "  %s: exists, %lld bytes; `run` appends after its "
							  "recorded position", path, (long long) st.st_size);
	else
		trib_check_report_say(rep, "  %s: does not exist yet; directory %s is writable",
							  path, dir);
	free(copy);
}

/* check() of a stdout sink: nothing to reach. */
static void
stdout_check(const struct trib_plugin_conf *conf, trib_check_report *rep)
{
	(void) conf;
	trib_check_report_say(rep, "  standard output");
}

/* Counters. */
void
trib_filesink_get_stats(const trib_sink *sink, trib_filesink_stats *out)
{
	const filesink *f = sink->state;

	memset(out, 0, sizeof(*out));
	if (f)
	{
		*out = f->stats;
		out->segment = f->segment;
	}
}
