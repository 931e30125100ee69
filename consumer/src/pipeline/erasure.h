/*
 * erasure.h: erasure requests (the right to be forgotten), and the guard
 * that keeps anything else from erasing.
 *
 * Design.  Nothing that any role can write into the WAL carries authority
 * (docs/ARCHITECTURE.md, "What may carry authority").  A request is a row
 * inserted into tributary.erasure_requests, which only members of
 * tributary_eraser may do (sql/tributary--0.2--0.3.sql).  When the
 * pipeline meets that insert in the stream, tributary connects to the
 * source database and, in one transaction, finds the subject's rows in
 * every target (`schema.table.column = subject`, a bound parameter;
 * identifiers quoted) and inserts one row per found row into
 * tributary.erasure_keys: the table and the row's key (the replica
 * identity key, as the plugin writes event keys).  A target whose column is
 * its one-column key also gets a key row when the row is already gone, so
 * the subject's key is forgotten downstream even after the source deleted
 * it.
 *
 * Those key rows come back through the stream like any change, each with a
 * position of its own, and are checked again there: the table must be one
 * of `targets` (tables the source captures, config_pipeline.c) and the key must
 * hold exactly that table's key columns, scalar values.  A key row that
 * passes becomes a delete of that table (a Kafka tombstone; a DELETE in a
 * Postgres sink) or an anonymising update whose row the daemon builds:
 * the key, and every other column of the table null.  Nothing in a key row
 * picks a value, a sink or a target table: the event names the source
 * table, and each sink maps it as it maps that table's changes (rules and
 * routes included), so it only reaches rows the pipeline itself wrote.
 * Because they are ordinary events, they pass the transform rules (a
 * hashed key is hashed the same way it was when the row was first sent),
 * and the pipeline's exactly-once machinery covers them: a crash at any
 * point loses no erasure and sends none twice to a sink that stores its
 * position.  A crash after the key rows were committed but before the
 * request itself is durable makes the request run again on restart; its
 * deletes repeat, which changes nothing, and the audit log gets a second
 * line with the same request.
 *
 * Everything else that looks like an erasure is refused and changes
 * nothing: a `tributary.erasure` logical message (how versions up to 0.2
 * carried them; any role can emit one), a key row for a table that is not
 * a target or with a key that is not the table's key.  Each refusal is in
 * the audit log with its reason and counted in /metrics
 * (tributary_erasure_refused_total{kind}).  Events of the catalog schema
 * never reach a sink as data, with or without an erasure section.
 *
 * The audit log (erasure_audit.c) is JSON Lines, created with
 * `audit_log_mode` (0600): one line per request, per key row applied and
 * per refusal.  It records a keyed hash of the subject (HMAC-SHA256 with
 * `subject_key`), never the subject itself.
 *
 * Ownership: trib_erasure borrows the config and the metrics registry.
 * Not thread-safe.
 */
#ifndef TRIB_ERASURE_H
#define TRIB_ERASURE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "event.h"
#include "metrics.h"

typedef struct trib_erasure trib_erasure;

/* What trib_erasure_take() did with an event. */
typedef enum trib_erasure_result
{
	TRIB_ERASURE_FAILED = -1,	/* errbuf; the pipeline stops, a restart
								 * handles the event again */
	TRIB_ERASURE_NOT_OURS = 0,	/* deliver it as usual */
	TRIB_ERASURE_CONSUMED,		/* handled or refused: deliver nothing */
	TRIB_ERASURE_REWRITTEN		/* now the delete or update it stands for:
								 * deliver it */
} trib_erasure_result;

/*
 * The guard, and the erasure handler when cfg has an erasure section.
 * metrics may be NULL.  NULL with errbuf when the subject key or the audit
 * log mode is unusable.
 */
trib_erasure *trib_erasure_new(const trib_config *cfg, trib_metrics *metrics,
							   char *errbuf, size_t errlen);
void		trib_erasure_free(trib_erasure *er);

/* Does the pipeline read erasure requests (capture the erasure tables)? */
bool		trib_erasure_enabled(const trib_erasure *er);

/*
 * Look at one event before the transform rules: requests are handled (on
 * the source's values), key rows rewritten, forged erasures refused, other
 * catalog events consumed.
 */
trib_erasure_result trib_erasure_take(trib_erasure *er, trib_event *ev,
									  char *errbuf, size_t errlen);

/*
 * Is ev a row of a captured table: neither a message nor a row of the
 * catalog?  trib_erasure_take() passes such an event untouched
 * (TRIB_ERASURE_NOT_OURS) and reads nothing else for it, so the rules pool
 * may mask it before the guard has seen it (pipeline_deliver.c).  The one
 * test both use, so they cannot drift apart.
 */
bool		trib_erasure_data_row(const trib_event *ev);

/* `tributary check`: report on `rep` whether the erasure section's
 * database takes requests and every target can be read (erasure_check.c);
 * read-only.  Nothing when erasure is off. */
struct trib_check_report;
void		trib_erasure_check(const trib_erasure_conf *e, struct trib_check_report *rep);

#endif							/* TRIB_ERASURE_H */
