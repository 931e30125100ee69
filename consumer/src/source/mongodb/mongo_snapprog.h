/*
 * mongo_snapprog.h: what a MongoDB snapshot has made durable so far, kept
 * as the opaque part of the source's checkpoint so that a snapshot killed
 * in the middle continues where it was (the PostgreSQL source's
 * snapshot_progress.h, for `_id` ranges).
 *
 * Design.  The progress is one JSON object:
 *
 *   {"snapshot":{"state":"running","mode":"initial","time":"1700000000.5",
 *     "ranges":[{"db":"shop","coll":"items","keyset":true,
 *                "min":"{\"v\":{\"$numberInt\":\"0\"}}","max":null,
 *                "after":"{\"v\":{\"$numberInt\":\"4000\"}}","rows":4001,
 *                "done":false}, ...]}}
 *
 * time     the cluster time every copy reads at (readConcern snapshot,
 *          atClusterTime), the commit_lsn of every snapshot event, and the
 *          stream's start (just after it)
 * ranges   a collection's `_id` ranges [min, max) (null: unbounded), each
 *          read by one worker in keyset chunks; `after` is the last `_id`
 *          every sink acknowledged.  min, max and after are the value as
 *          canonical Extended JSON of {"v": value}, in a JSON string, so
 *          that the type survives.  keyset false: the collection's `_id`s
 *          are of several BSON types, and it is read in one pass (a
 *          resumed snapshot copies it again from the start).
 *
 * Ownership: a trib_mongo_snapprog owns its ranges and their strings.
 */
#ifndef TRIB_MONGO_SNAPPROG_H
#define TRIB_MONGO_SNAPPROG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct trib_mongo_range
{
	char	   *db;
	char	   *coll;
	bool		keyset;
	char	   *min;			/* {"v": value} canonical JSON, or NULL */
	char	   *max;
	char	   *after;			/* last acknowledged _id, or NULL */
	uint64_t	rows;			/* acknowledged */
	bool		done;
} trib_mongo_range;

typedef struct trib_mongo_snapprog
{
	char		state[16];		/* running, done */
	char		mode[16];		/* initial, only */
	uint64_t	time;			/* seconds << 32 | increment */
	size_t		nranges;
	trib_mongo_range *ranges;
} trib_mongo_snapprog;

/* The progress as the checkpoint's opaque text (malloc'd). */
char	   *trib_mongo_snapprog_to_json(const trib_mongo_snapprog *p);

/* Parse a checkpoint's opaque text: 1 and *out filled, 0 when it holds no
 * "snapshot" member (or is NULL), -1 when malformed (errbuf says why). */
int			trib_mongo_snapprog_from_json(const char *json, trib_mongo_snapprog *out,
										  char *errbuf, size_t errlen);

/* Append a range (strings copied; min, max may be NULL); returns it. */
trib_mongo_range *trib_mongo_snapprog_add(trib_mongo_snapprog *p, const char *db,
										  const char *coll, bool keyset, const char *min,
										  const char *max);

void		trib_mongo_snapprog_clear(trib_mongo_snapprog *p);

#endif							/* TRIB_MONGO_SNAPPROG_H */
