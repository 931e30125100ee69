/*
 * sink_file_ids.h: where each line of a snapshot ends in a file sink's
 * files, so that a resumed snapshot can cut the file back to the rows its
 * checkpoint counts (sink.h rewind, docs/SNAPSHOT.md, Positions).
 *
 * Design.  The lines of a snapshot do not carry their event ids (every
 * snapshot event's source.sequence is ["<L>", null]), and a checkpoint
 * counts whole chunks while the sink flushes wherever its timer falls, so
 * the sink keeps its own map from ids to bytes: the file `path.ids`, one
 * JSON object per flush that wrote snapshot events,
 *
 *   {"base":"0/16B3748","segment":3,"offset":1048213,"runs":[[5,900,1],[901,901,2]]}
 *
 * meaning: from byte `offset` of segment `segment` (the active file when it
 * is the sink's current segment, else path.N) come the lines of events
 * (base, 5) to (base, 900), one line each, then two lines of (base, 901).
 * Ids only grow (the pipeline writes in id order and never reuses one), so
 * the lines of the ids up to C are a prefix of what follows the first
 * record, and the cut point after C is found by counting lines from the
 * record that holds the first id after C.  The map is about one short
 * line per second of copying.  It holds the events of one commit_lsn (one
 * snapshot): an event at another one, or any streamed event, starts it
 * afresh.  A record is appended once the data it describes is durable,
 * before the sidecar moves; at open the records of ids the sidecar does
 * not count (a crash in between) are dropped, and so is a last line
 * without its newline (an append cut short).
 *
 * Ownership: a trib_fsids owns its records and its path;
 * trib_fsids_clear() releases them.
 */
#ifndef TRIB_SINK_FILE_IDS_H
#define TRIB_SINK_FILE_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <yajl/yajl_tree.h>

#include "sink_file_conf.h"		/* TRIB_FILESINK_IDS_SUFFIX */

/* Ids first..last, `lines` lines each. */
typedef struct trib_fsids_run
{
	uint64_t	first;
	uint64_t	last;
	uint32_t	lines;
} trib_fsids_run;

/* The events one flush wrote, from byte `offset` of segment `segment`. */
typedef struct trib_fsids_rec
{
	uint64_t	segment;
	int64_t		offset;
	size_t		nruns;
	trib_fsids_run *runs;
} trib_fsids_rec;

typedef struct trib_fsids
{
	char	   *path;			/* path.ids */
	mode_t		mode;
	bool		fsync;
	bool		has_base;
	uint64_t	base;			/* commit_lsn of every id */
	size_t		nrecs;			/* durable records */
	trib_fsids_rec *recs;
	bool		has_pending;	/* written since the last flush */
	trib_fsids_rec pending;
	bool		reset;			/* the file is to be emptied at the next
								 * commit (a streamed event, a new base) */
} trib_fsids;

/*
 * Read `ids_path` (absent: empty) and keep only the records of ids at
 * `base` up to `seq` (has: false when the sink holds no position: keep
 * none); rewrite the file when that dropped anything.  False with errbuf
 * when it cannot be read or written, or is not such a file.
 */
bool		trib_fsids_load(trib_fsids *x, const char *ids_path, mode_t mode, bool fsync,
							bool has, uint64_t base, uint64_t seq,
							char *errbuf, size_t errlen);

/* Event (commit_lsn, seq) wrote `lines` lines from byte `offset` of
 * `segment`; `snapshot`: it is a snapshot's row (only those are kept). */
void		trib_fsids_note(trib_fsids *x, bool snapshot, uint64_t commit_lsn, uint64_t seq,
							uint32_t lines, uint64_t segment, int64_t offset);

/* The data noted so far is durable: append its record to the file (or
 * empty the file after a reset).  False with errbuf (errno kept). */
bool		trib_fsids_commit(trib_fsids *x, char *errbuf, size_t errlen);

/*
 * Where the lines after id (base, seq) begin: true with the segment, the
 * byte where counting starts and how many lines to skip from there; false
 * when no line after it is known (nothing to cut).
 */
bool		trib_fsids_find(const trib_fsids *x, uint64_t base, uint64_t seq,
							uint64_t *segment, int64_t *offset, uint64_t *skip_lines);

/* Forget the ids after `seq` and rewrite the file.  False with errbuf. */
bool		trib_fsids_cut(trib_fsids *x, uint64_t seq, char *errbuf, size_t errlen);

void		trib_fsids_clear(trib_fsids *x);

/* A JSON integer of at least 0 (yajl) into *out; false when v is none.
 * Also the sidecar's reader's (sink_file.c). */
bool		trib_fsids_json_u64(yajl_val v, uint64_t *out);

#endif							/* TRIB_SINK_FILE_IDS_H */
