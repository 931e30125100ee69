/*
 * erasure.h: erasure requests (the right to be forgotten).
 *
 * Design.  A request is an insert into a captured table (`erasure.table`)
 * whose `subject` column names a data subject, e.g. a customer id.  When
 * the pipeline delivers such an event, tributary connects to the source
 * database and, in one transaction, finds the subject's rows in every
 * target (`schema.table.column = subject`, a bound parameter; identifiers
 * quoted) and writes one transactional logical message per row, prefix
 * `tributary.erasure`, carrying the table and the row's primary key (and,
 * for `anonymize`, the row with every non-key column null).  A target whose
 * column is its one-column primary key also gets a message when the row is
 * already gone, so the subject's key is forgotten downstream even after
 * the source deleted it.
 *
 * Those messages come back through the replication stream like any change,
 * each with a position of its own, and trib_erasure_rewrite() turns each
 * into a delete (a Kafka tombstone for compacted topics; a DELETE in a
 * Postgres sink) or an anonymising update of that table.  Because they are
 * ordinary events, they pass the transform rules (a hashed key is hashed
 * the same way it was when the row was first sent), and the pipeline's
 * exactly-once machinery covers them: a crash at any point loses no erasure
 * and sends none twice to a sink that stores its position.  A crash after
 * the messages were written but before the request itself is durable makes
 * the request run again on restart; its deletes repeat, which changes
 * nothing, and the audit log gets a second line with the same request
 * position.
 *
 * The audit log is JSON Lines, appended and fsynced per request: time,
 * the request's position, the subject, the action and the number of rows
 * found per target.  It names the subject (an id) and nothing else about
 * it; keep it where erasure records belong.
 *
 * Ownership: trib_erasure borrows the config.  Not thread-safe.
 */
#ifndef TRIB_ERASURE_H
#define TRIB_ERASURE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "event.h"

#define TRIB_ERASURE_PREFIX "tributary.erasure"

typedef struct trib_erasure trib_erasure;

/* NULL when the config has no erasure section (that is not an error). */
trib_erasure *trib_erasure_new(const trib_config *cfg);
void		trib_erasure_free(trib_erasure *er);

/* Is ev a request (an insert or snapshot row of the request table)? */
bool		trib_erasure_is_request(const trib_erasure *er, const trib_event *ev);

/*
 * Handle a request: emit the messages in the source database and append
 * to the audit log.  false and errbuf on a failure (the pipeline stops; a
 * restart handles the request again).
 */
bool		trib_erasure_handle(trib_erasure *er, const trib_event *ev,
								char *errbuf, size_t errlen);

/*
 * If ev is one of our messages, rewrite it in place into the delete (or
 * update) it stands for and return 1; 0 when it is not ours; -1 and errbuf
 * when it is ours but malformed.
 */
int			trib_erasure_rewrite(trib_erasure *er, trib_event *ev, char *errbuf,
								 size_t errlen);

#endif							/* TRIB_ERASURE_H */
