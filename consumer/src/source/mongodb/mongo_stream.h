/*
 * mongo_stream.h: a libmongoc change stream on the configured scope
 * (deployment, database or collection), opened from a start point, read
 * one document at a time, with the errors sorted into what a retry can
 * mend and what it cannot.
 *
 * Start points: resumeAfter a token, startAfter a token (after an
 * invalidate: resumeAfter an invalidate is refused by the server),
 * startAtOperationTime a cluster time, or none (from now).
 *
 * Errors (trib_mongo_next's result): TRIB_MONGO_RETRY for a lost
 * connection or a resumable server error (the ResumableChangeStreamError
 * label, or one of the resumable codes of the change streams
 * specification) that libmongoc's own single resume did not mend;
 * TRIB_MONGO_FATAL for everything else, with 286 (ChangeStreamHistoryLost),
 * 136 (CappedPositionLost) and 280 (ChangeStreamFatalError) explained in
 * the message with their recovery (docs/MONGODB.md).
 *
 * Threads.  These calls block on the server; the source makes them on
 * the thread of its feed (mongo_feed.h), never on the pipeline's loop,
 * with a client only that thread uses.  check (mongo_check.c) calls them
 * directly, with a client of its own.
 */
#ifndef TRIB_MONGO_STREAM_H
#define TRIB_MONGO_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mongoc/mongoc.h>

#include "mongo_source_conf.h"
#include "source.h"

typedef enum trib_mongo_start_kind
{
	TRIB_MONGO_FROM_NOW,
	TRIB_MONGO_RESUME_AFTER,
	TRIB_MONGO_START_AFTER,
	TRIB_MONGO_AT_TIME
} trib_mongo_start_kind;

typedef struct trib_mongo_start
{
	trib_mongo_start_kind kind;
	const char *token;			/* RESUME_AFTER, START_AFTER: relaxed JSON */
	uint64_t	time;			/* AT_TIME: seconds << 32 | increment */
} trib_mongo_start;

typedef enum trib_mongo_next_rc
{
	TRIB_MONGO_DOC = 1,			/* *doc is the next event */
	TRIB_MONGO_IDLE = 0,		/* nothing now */
	TRIB_MONGO_RETRY = -1,		/* resumable: reopen after a pause */
	TRIB_MONGO_FATAL = -2		/* give up (errbuf says why and what to do) */
} trib_mongo_next_rc;

typedef struct trib_mongo_stream trib_mongo_stream;

/* A client for the source's URI (connects lazily); NULL and a message. */
mongoc_client_t *trib_mongo_client_new(const trib_mongo_source_conf *c, char *errbuf,
									   size_t errlen);

/* The same with the socket, connect and server selection timeouts
 * (socketTimeoutMS, connectTimeoutMS, serverSelectionTimeoutMS) at most
 * cap_ms each (the URI's own when smaller; cap_ms 0: no cap): no call on
 * it waits on a stalled server longer than about that. */
mongoc_client_t *trib_mongo_client_new_capped(const trib_mongo_source_conf *c, int cap_ms,
											  char *errbuf, size_t errlen);

/* Open a change stream from `at`; NULL and a message (the error's class
 * in *rc: RETRY or FATAL). */
trib_mongo_stream *trib_mongo_stream_open(mongoc_client_t *cl, const trib_mongo_source_conf *c,
										  const trib_mongo_start *at, trib_mongo_next_rc *rc,
										  char *errbuf, size_t errlen);

/* The longest an idle getMore waits, in ms: the pipeline's poll timeout
 * while idle (source.h).  An idle getMore is how the reader learns that a
 * transaction ended, so it comes at most this long after the last event;
 * and a stop waits for the feed's getMore at most this long (on a server
 * that answers).  The feed's next waits for its queue as long. */
#define TRIB_MONGO_AWAIT_SLICE_MS TRIB_SOURCE_POLL_MS

/* The next document (borrowed until the next call), IDLE after waiting
 * up to the smaller of max_await_ms and TRIB_MONGO_AWAIT_SLICE_MS (the
 * stream's maxAwaitTimeMS), or an error. */
trib_mongo_next_rc trib_mongo_next(trib_mongo_stream *s, const bson_t **doc, char *errbuf,
								   size_t errlen);

/* The stream's resume token now (the last event's, or the batch's
 * postBatchResumeToken once it is read), as relaxed JSON (malloc'd), or
 * NULL; taken after an invalidate it would resume after the invalidate,
 * which the caller does with startAfter its own token instead. */
char	   *trib_mongo_stream_token(trib_mongo_stream *s);

void		trib_mongo_stream_free(trib_mongo_stream *s);

/* The class of a server error code and its labels (the reply, or NULL). */
trib_mongo_next_rc trib_mongo_classify(const bson_error_t *err, const bson_t *reply);

/* The replica set's name (hello's setName; "" for a mongos) into buf:
 * TRIB_MONGO_DOC, or RETRY (not reachable now) or FATAL (not a
 * replica-set member, ...) with a message. */
trib_mongo_next_rc trib_mongo_set_name(mongoc_client_t *cl, char *buf, size_t len,
									   char *errbuf, size_t errlen);

#endif							/* TRIB_MONGO_STREAM_H */
