/*
 * mongo_snapread.h: the MongoDB queries of the source's snapshot: the
 * cluster time it reads at, the collections of the scope split into `_id`
 * ranges, and a range read as documents in `_id` order.
 *
 * Design.  Every read is a raw `find` or `aggregate` command with
 * readConcern {level: "snapshot", atClusterTime: T} (libmongoc's read
 * concern type has no atClusterTime), continued with getMore through a
 * libmongoc cursor made from the command's reply.  Values that must keep
 * their BSON type across a restart (range bounds, the last `_id` read)
 * travel as canonical Extended JSON of {"v": value}.  No threads here:
 * each worker of mongo_snapshot.c calls these with its own client.
 */
#ifndef TRIB_MONGO_SNAPREAD_H
#define TRIB_MONGO_SNAPREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mongoc/mongoc.h>

#include "event.h"
#include "mongo_snapprog.h"
#include "mongo_source_conf.h"

/* The deployment's cluster time now (ping's operationTime): what the
 * snapshot reads at; false and a message. */
bool		trib_mongo_snap_time(mongoc_client_t *cl, uint64_t *time, char *errbuf,
								 size_t errlen);

/*
 * The collections of c's scope (the collection; the database's; every
 * database's but admin, config and local), views and system collections
 * left out, each split into at most `workers` `_id` ranges of at least
 * `chunk` documents as of `time`, appended to p.  A collection whose
 * `_id`s are of several BSON types is one range read without a key.
 */
bool		trib_mongo_snap_plan(mongoc_client_t *cl, const trib_mongo_source_conf *c,
								 uint64_t time, int workers, int chunk,
								 trib_mongo_snapprog *p, char *errbuf, size_t errlen);

/* A range's cursor at `time`, after r->after (a keyset range), in `_id`
 * order, of the documents `match` passes (mongo_match.h; empty: all);
 * NULL and a message. */
mongoc_cursor_t *trib_mongo_snap_open(mongoc_client_t *cl, const trib_mongo_range *r,
									  const bson_t *match, uint64_t time, int batch,
									  char *errbuf, size_t errlen);

/* The `_id` of doc as canonical Extended JSON of {"v": _id} (malloc'd). */
char	   *trib_mongo_snap_id_text(const bson_t *doc);

/*
 * The op 'r' event of one copied document of db.coll: key {"_id": ...},
 * after the whole document, both relaxed Extended JSON; `snapshot` set;
 * with int64_paths the paths of its int64 values that fit in 32 bits in
 * extra (mongo_int64.h).  The caller fills in the rest (source, names,
 * time, position).  NULL and a message naming the document when libbson
 * cannot write it as JSON (a string that is not UTF-8): never an event
 * without its image.
 */
trib_event *trib_mongo_snap_event(const bson_t *doc, const char *db, const char *coll,
								  bool int64_paths, char *errbuf, size_t errlen);

#endif							/* TRIB_MONGO_SNAPREAD_H */
