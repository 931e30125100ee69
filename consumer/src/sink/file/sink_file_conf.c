/*
 * sink_file_conf.c: the key tables of the `type: file` and `type: stdout`
 * sinks (see sink_file_conf.h).  The `path` row says which files a file
 * sink writes besides `path` itself (its position sidecar, the sidecar's
 * temporary file, its rotated segments, its snapshot id map and that
 * map's temporary file), so the loader keeps every other key off them
 * (config_paths.c).
 *
 * Adding a key: a field in trib_filesink_conf and one row below; run
 * `make -C consumer doc`.
 */
#include "sink_file_conf.h"

#include <stddef.h>
#include <stdint.h>

#include "config_keys.h"
#include "fileio.h"

/* A file sink's files: path, its sidecar and the sidecar's temporary
 * file, its id map and the map's temporary file, and the segments path.N. */
static const ck_derived file_sink_names[] = {
	{"", NULL},
	{TRIB_FILESINK_POS_SUFFIX, "position sidecar"},
	{TRIB_FILESINK_POS_SUFFIX TRIB_ATOMIC_TMP_SUFFIX, "position sidecar's temporary file"},
	{TRIB_FILESINK_IDS_SUFFIX, "snapshot id map"},
	{TRIB_FILESINK_IDS_SUFFIX TRIB_ATOMIC_TMP_SUFFIX, "snapshot id map's temporary file"},
	{NULL, NULL}
};

static const ck_written file_sink_written = {.names = file_sink_names, .segments = true};

static const ck_key file_sink_keys[] = {
	CK_TYPE_ROW("`file`", "the kind of sink"),
	CK_ROW(trib_filesink_conf, path, CK_STRING, CK_REQUIRED, .doc_type = "path",
		.written = &file_sink_written,
		.desc = "file the events are appended to, one JSON object per line"),
	CK_ROW(trib_filesink_conf, rotate_bytes, CK_INT64, 0, .def = "104857600",
		.min = 0, .max = INT64_C(1) << 50,
		.desc = "start a new file after this many bytes; 0 never rotates"),
	CK_ROW(trib_filesink_conf, fsync, CK_BOOL, 0, .def = "false",
		.desc = "fsync before acknowledging events (survives power loss; slower)"),
	CK_ROW(trib_filesink_conf, mode, CK_STRING, 0, .def = "0600", .check = ck_check_file_mode,
		.doc_type = "octal", .desc = "permissions of the files it creates (and of an existing "
		"file, narrowed to them); e.g. `0640` for a log shipper's group"),
	CK_END_ROW
};

const ck_section trib_filesink_conf_section = {
	.doc_title = "`sinks.<name>` with `type: file`",
	.what = "a file sink",
	.keys = file_sink_keys,
	.doc_intro = "Writes events as JSON Lines to a file, each event once across restarts and "
	"crashes (its position in the sidecar `path.pos`, whose opaque part `checkpoint.encryption_key` "
	"seals: docs/OPERATIONS.md, Sealed checkpoints). A snapshot resumed after a fault cuts "
	"the file back to the rows its checkpoint counts before they are sent again, so each row "
	"is in the file once; `path.ids` records where each snapshot row's lines are for that "
	"(docs/SNAPSHOT.md, Positions). `path` is the sink's own: a symbolic link, a file with "
	"other hard links, a FIFO, or a path another pipeline's file sink wrote is refused at "
	"start, and a file removed, truncated or written by another process while "
	"the sink runs stops it at the next flush (rotate with `rotate_bytes`, not with a "
	"`copytruncate` tool; docs/OPERATIONS.md, The file sink under faults).",
};

static const ck_key stdout_sink_keys[] = {
	CK_TYPE_ROW("`stdout`", "the kind of sink"),
	CK_END_ROW
};

const ck_section trib_filesink_conf_stdout_section = {
	.doc_title = "`sinks.<name>` with `type: stdout`",
	.what = "a stdout sink",
	.keys = stdout_sink_keys,
	.doc_intro = "Writes events as JSON Lines to standard output; it has no other settings. "
	"It keeps no position: after a restart, and after a snapshot resumed after a fault, "
	"lines already printed can be printed again (at least once).",
};
