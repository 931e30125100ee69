/*
 * mongo_reader.h: the MongoDB source's reading loop: the change stream
 * (mongo_stream.h) turned into the source interface's items, transaction
 * by transaction, resumed after errors.
 *
 * Transactions.  Events of one transaction share their cluster time (a
 * transaction commits at one time; a write outside a transaction has a
 * time of its own, and is a transaction of its own, ended at once), so a
 * change of cluster time ends a transaction, and so does a drained stream
 * (a transaction reaches the oplog whole, at its commit).  Positions:
 * commit_lsn = the cluster time, seq = the event's index in its
 * transaction; END items carry (cluster time, TRIB_SEQ_ALL) and, as
 * opaque, the token of the transaction's last change (what the pipeline
 * checkpoints: source.h resume_opaque).
 *
 * The last change.  A transaction's last event carries last_in_tx (what
 * Debezium's END record is written on), so the reader holds the newest
 * event of an open transaction back until the next change (of the same
 * transaction: it goes out unmarked; of another: marked, then the END),
 * an idle getMore (marked, then the END; the change stream gives no other
 * sign that a batch ended, so this costs at most one getMore, capped at
 * TRIB_MONGO_AWAIT_SLICE_MS; a poll whose wait ran out with nothing read,
 * as on a stalled server, ends nothing) or an invalidate.  A write outside a
 * transaction goes out at once, marked.  A held event is not handed to
 * the pipeline, so no checkpoint covers it: after a crash or a retry it
 * is read again from the stored token, with the same position.
 *
 * Start.  With a stored position (T, S): a token in its opaque part is
 * resumed after (resumeAfter; startAfter when it marks an invalidate),
 * and when S is an event's index the events of T that follow are
 * numbered from S + 1; without a token (a position written before
 * tokens were kept) the stream starts
 * at operation time T+1 for a whole transaction, or at T with the changes
 * of T up to S skipped.  After a snapshot at T (positions (T, n), no
 * token) the stream starts at T + 1.  Without a position the stream
 * starts at the settings' start_at_operation_time, or now.
 *
 * Tokens inside a transaction.  Its events share one cluster time and each
 * has a token of its own (its _id).  The reader keeps, for every event it
 * read that its END did not follow at once, the text that resumes just
 * after it, until the transaction is confirmed: the pipeline asks for it
 * (source.h resume_text) when it checkpoints inside a transaction, so a
 * restart resumes after that very event's token and numbers the rest of
 * the transaction from S + 1.  A deployment that cannot be reached
 * at start is waited for as after a lost connection (start succeeds,
 * poll keeps trying); one that is not a replica set fails start (start
 * waits up to 2 s for the stream to open; a later refusal fails poll).
 *
 * Threads.  The stream is read on its feed's thread (mongo_feed.h): no
 * call of the reader waits on the server.  Each document comes with the
 * token read just after it, and the token a retry resumes after is the
 * one of the last document or idle getMore the reader took.
 *
 * Invalidate.  An invalidate ends a collection (or database) stream; the
 * reader delivers it (as a message), ends its transaction and opens the
 * stream again with startAfter its token.
 *
 * Errors.  A resumable error or a lost connection closes the stream;
 * after a pause (reconnect_backoff_ms, doubling up to its max) it is
 * opened again after the last token read (resumeAfter, or startAfter
 * after an invalidate; the cursor's postBatchResumeToken when no event was
 * read since), and poll returns 0 meanwhile.  Anything else, 286 and 280
 * with their recovery, makes poll return -1.
 */
#ifndef TRIB_MONGO_READER_H
#define TRIB_MONGO_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mongo_source_conf.h"
#include "source.h"

typedef struct trib_mongo_reader trib_mongo_reader;

/* Counters for /metrics and the logs. */
typedef struct trib_mongo_reader_stats
{
	uint64_t	events;
	uint64_t	retries;		/* streams reopened after an error */
	uint64_t	invalidates;
	uint64_t	last_time;		/* the newest event's cluster time */
} trib_mongo_reader_stats;

/* A reader of `c`'s change stream; connects nothing.  int64_paths: the
 * events mark their int64 values (trib_mongo_map_ctx).  NULL and a
 * message. */
trib_mongo_reader *trib_mongo_reader_new(const trib_mongo_source_conf *c, const char *source,
										 bool int64_paths, char *errbuf, size_t errlen);

/* Connect and open the stream after `resume` (NULL: from now). */
bool		trib_mongo_reader_start(trib_mongo_reader *r, const trib_position *resume,
									char *errbuf, size_t errlen);

/* The relations inferred so far (infer_schema), or NULL: the snapshot's
 * events use them too (mongo_infer.h). */
struct trib_mongo_infer;
struct trib_mongo_infer *trib_mongo_reader_infer(trib_mongo_reader *r);

/* A snapshot at cluster time `time` is complete (0: none): a start
 * without a stored position, or from one at or before it without a token
 * (the snapshot's own), opens the stream just after it. */
void		trib_mongo_reader_after_snapshot(trib_mongo_reader *r, uint64_t time);

/* source.h's poll: at most `max` items (max >= 5); the events (and END
 * opaque texts) of the previous call are freed. */
int			trib_mongo_reader_poll(trib_mongo_reader *r, trib_source_item *items, int max,
								   int timeout_ms, char *errbuf, size_t errlen);

/* The opaque text that resumes just after the event at `pos` inside a
 * transaction ({"token": that event's token}, malloc'd), or NULL when the
 * reader does not hold it.  Asked for increasing positions: the texts of
 * events before `pos` are dropped. */
char	   *trib_mongo_reader_resume_text(trib_mongo_reader *r, const trib_position *pos);

/* The transactions up to `end` are confirmed: their texts are dropped. */
void		trib_mongo_reader_confirmed(trib_mongo_reader *r, const trib_position *end);

const trib_mongo_reader_stats *trib_mongo_reader_stats_of(const trib_mongo_reader *r);

void		trib_mongo_reader_free(trib_mongo_reader *r);

#endif							/* TRIB_MONGO_READER_H */
