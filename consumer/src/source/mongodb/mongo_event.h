/*
 * mongo_event.h: one MongoDB change event (a BSON document of a change
 * stream) as tributary's common event.  No I/O: the stream (mongo_stream.h)
 * reads the documents, the adapter (mongo_source_ops.c) groups them into
 * transactions; unit tests drive this with hand-made documents.
 *
 * Mapping (docs/MONGODB.md, "The source"):
 *
 *   insert              op c, after = fullDocument
 *   update, replace     op u, after = fullDocument (when the stream has
 *                       it), before = fullDocumentBeforeChange (when it
 *                       has it); update's updateDescription kept in
 *                       `extra` as {"updateDescription": {...}}
 *                       (the images' int64 values that fit in 32 bits:
 *                       their paths in extra's "int64", mongo_int64.h,
 *                       when ctx->int64_paths)
 *   delete              op d, before = fullDocumentBeforeChange or null
 *   drop, rename,       op m (a message): prefix "mongodb.<operationType>",
 *   dropDatabase,       content the event's operationType, ns and to as
 *   invalidate          JSON
 *
 * Documents are written as relaxed Extended JSON (libbson's); the key is
 * documentKey.  db and schema are the database, table the collection
 * (interned in the caller's set).  The position: commit_lsn = lsn = the
 * cluster time (seconds << 32 | increment: events of one transaction share
 * it), seq left 0 for the caller; opaque = {"token": resume token,
 * ["invalidate": true,] "source": {"rs", "collection", "ord", "lsid", "txnNumber"}}, the source
 * block's own members (the envelope writes opaque's "source").
 */
#ifndef TRIB_MONGO_EVENT_H
#define TRIB_MONGO_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "event.h"
#include "intern.h"

typedef struct trib_mongo_map_ctx
{
	trib_intern *names;			/* db and collection names live here */
	const char *source;			/* the source's name (ev->source) */
	const char *rs;				/* the replica set's name, or NULL */
	bool		int64_paths;	/* mark the images' int64 values that fit in
								 * 32 bits (mongo_int64.h): some sink needs
								 * them (TRIB_NEED_INT64_TYPES, event.h) */
} trib_mongo_map_ctx;

typedef struct trib_mongo_change
{
	trib_event *ev;				/* owned by the caller after the call */
	uint64_t	cluster_time;	/* seconds << 32 | increment */
	bool		invalidate;		/* operationType invalidate */
	bool		in_txn;			/* has lsid and txnNumber */
	int64_t		txn_number;
	char	   *lsid;			/* lsid.id as relaxed JSON, or NULL */
	char	   *token;			/* the resume token (_id) as relaxed JSON */
} trib_mongo_change;

/* Map one change event; false and a message naming what is missing or of
 * the wrong type.  *out owns its strings and event until
 * trib_mongo_change_clear. */
bool		trib_mongo_change_map(const bson_t *doc, const trib_mongo_map_ctx *ctx,
								  trib_mongo_change *out, char *errbuf, size_t errlen);

/* Release what *c owns (its event too, unless the caller took it and set
 * c->ev to NULL). */
void		trib_mongo_change_clear(trib_mongo_change *c);

/* The opaque position that resumes after `token` (relaxed JSON; an
 * invalidate's: startAfter): {"token": ..., ["invalidate": true]}, what
 * an END item carries (malloc'd). */
char	   *trib_mongo_resume_opaque(const char *token, bool invalidate);

/* The value at `it` as relaxed Extended JSON (a new malloc'd string):
 * documents and arrays as such, scalars as their JSON text. */
char	   *trib_mongo_value_json(const bson_iter_t *it);

#endif							/* TRIB_MONGO_EVENT_H */
