/*
 * mongo_feed.h: the change stream (mongo_stream.h) read on a thread of
 * its own, so that the pipeline's loop never waits on the server.
 *
 * Why.  One thread polls every source of a pipeline.  libmongoc's calls
 * block: a getMore on a stalled server (frozen, or a network that drops
 * packets) waits up to socketTimeoutMS, an open up to
 * serverSelectionTimeoutMS; every other source's changes would wait that
 * long.  So the feed's thread owns the libmongoc client (a client is not
 * thread-safe: nothing else uses it), asks hello for the replica set's
 * name, opens the stream and reads it, and hands over through a bounded
 * queue: each document with the resume token read just after it, an idle
 * getMore with the postBatchResumeToken it left, and the error that ended
 * the stream (its class and message, as mongo_stream.h sorts them).
 *
 * The loop's calls (open, next, token, free) never wait on the server:
 * open starts the thread, next waits for the queue at most
 * TRIB_MONGO_AWAIT_SLICE_MS, and free stops the thread, which is at most
 * TRIB_MONGO_IO_TIMEOUT_MS inside a blocked libmongoc call (the thread's
 * client has its socket, connect and server selection timeouts capped to
 * it; an idle getMore's maxAwaitTimeMS, TRIB_MONGO_AWAIT_SLICE_MS, fits
 * well inside).  A read that times out ends the stream with a RETRY,
 * which the reader's resume mends.
 */
#ifndef TRIB_MONGO_FEED_H
#define TRIB_MONGO_FEED_H

#include <stdbool.h>
#include <stddef.h>

#include "mongo_stream.h"

/* The thread's libmongoc calls give up after this long (ms). */
#define TRIB_MONGO_IO_TIMEOUT_MS 5000

/* The queue holds documents up to this many bytes (and at least one):
 * a slow pipeline makes the thread wait, so no more is read ahead. */
#define TRIB_MONGO_FEED_BYTES (16u << 20)

typedef struct trib_mongo_feed trib_mongo_feed;

/* Start reading c's change stream from `at` (the token is copied) on a
 * new thread with a client of its own; NULL and a message only for what
 * needs no server (the URI, the token, the thread); the server's own
 * errors come from next. */
trib_mongo_feed *trib_mongo_feed_open(const trib_mongo_source_conf *c,
									  const trib_mongo_start *at, char *errbuf,
									  size_t errlen);

/* Wait at most timeout_ms until the stream is open (true) or has ended:
 * false with its class in *rc (RETRY, FATAL) and errbuf; false with *rc
 * IDLE when still opening. Reads nothing from the queue. */
bool		trib_mongo_feed_wait_open(trib_mongo_feed *f, int timeout_ms,
									  trib_mongo_next_rc *rc, char *errbuf, size_t errlen);

/* The next document (borrowed until the next call), or IDLE (nothing
 * queued after TRIB_MONGO_AWAIT_SLICE_MS, or an idle getMore: see
 * drained), or the error that ended the stream, after every document
 * read before it. */
trib_mongo_next_rc trib_mongo_feed_next(trib_mongo_feed *f, const bson_t **doc,
										char *errbuf, size_t errlen);

/* Was next's last IDLE the server's (a getMore that found nothing: every
 * event before now was handed over)?  false when the wait ran out. */
bool		trib_mongo_feed_drained(const trib_mongo_feed *f);

/* The replica set's name ("" for a mongos) once the stream is open (the
 * first document comes after it), else NULL. */
const char *trib_mongo_feed_set_name(const trib_mongo_feed *f);

/* The resume token that goes with what next handed over last (read just
 * after that document, or an idle getMore's postBatchResumeToken), as
 * relaxed JSON (malloc'd), or NULL. */
char	   *trib_mongo_feed_token(const trib_mongo_feed *f);

/* Stop the thread (at most TRIB_MONGO_IO_TIMEOUT_MS) and free it all. */
void		trib_mongo_feed_free(trib_mongo_feed *f);

#endif							/* TRIB_MONGO_FEED_H */
