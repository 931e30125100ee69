/*
 * sink_file_conf.h: the settings of a `type: file` sink (and the
 * registration of `type: stdout`, which has none), owned by the file
 * sink.
 *
 * Design.  The key tables in sink_file_conf.c are the single source of
 * truth for these settings (validation, defaults, docs/CONFIG.md).  The
 * sink's open() reads this struct (sink_file.c); a loaded member's `conf`
 * is a trib_filesink_conf, reached with trib_filesink_conf_of().
 *
 * Ownership: the config owns the struct and its strings.
 */
#ifndef TRIB_SINK_FILE_CONF_H
#define TRIB_SINK_FILE_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "registry.h"

/* The position sidecar of a file sink's `path` is path + ".pos".  Besides
 * path and the sidecar, a file sink writes the sidecar's temporary file
 * (fileio.h), its rotated segments path.N, N = 1, 2, ..., and the id map
 * of a snapshot's lines path + ".ids" (sink_file_ids.h) with its temporary
 * file (config_paths.c keeps other files off these names). */
#define TRIB_FILESINK_POS_SUFFIX ".pos"
#define TRIB_FILESINK_IDS_SUFFIX ".ids"

typedef struct trib_filesink_conf
{
	char	   *path;
	int64_t		rotate_bytes;	/* 0: never rotate */
	bool		fsync;
	char	   *mode;			/* octal permissions of its files, "0600" */
} trib_filesink_conf;

/* The key tables (sink_file_conf.c). */
extern const struct ck_section trib_filesink_conf_section;
extern const struct ck_section trib_filesink_conf_stdout_section;

/* The file and stdout sinks' registrations (cli/registry.c lists
 * them), defined in sink_file.c beside the sinks' operations. */
extern const trib_plugin trib_sink_file;
extern const trib_plugin trib_sink_stdout;

/* The settings of a member of `sinks:` when it is a file sink, else
 * NULL. */
const trib_filesink_conf *trib_filesink_conf_of(const trib_sink_conf *sc);

#endif							/* TRIB_SINK_FILE_CONF_H */
