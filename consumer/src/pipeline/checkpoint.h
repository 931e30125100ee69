/*
 * checkpoint.h: where a pipeline keeps the position of the last change it
 * made durable, per source, so that a restart resumes exactly after it.
 *
 * Design.  Two stores behind one API:
 *
 *   catalog  the tributary extension's SQL API in the source database:
 *            tributary.checkpoint_save(pipeline, source, commit_lsn, seq,
 *            "position") and tributary.checkpoint_get(pipeline, source),
 *            always with bound parameters (PQexecParams).  checkpoint_save
 *            refuses to move a PostgreSQL position backwards.
 *   file     a small JSON file, replaced atomically: write a temp file in
 *            the same directory, fsync it, rename it over the old one,
 *            fsync the directory.  A crash leaves the old or the new file,
 *            never a torn one.
 *
 * A position is opaque here: the source's store_form() (source.h) gives
 * its key, an LSN's text, and its seq, which the catalog keeps in its
 * commit_lsn (pg_lsn) and seq (bigint) columns and the file as
 * "commit_lsn" and "seq"; its parse_id() reads them back from "KEY:SEQ".
 * For PostgreSQL that is the event id (commit_lsn, seq); seq TRIB_SEQ_ALL
 * (INT64_MAX) means the whole transaction committed at commit_lsn, which
 * is what the plugin's resume-after=<lsn> means too.  `opaque` is an
 * optional JSON object saved alongside (the catalog's "position" column),
 * e.g. a snapshot's progress or a MongoDB resume token.  A position with neither key nor opaque is
 * no position.
 *
 * Sealing.  With a key (trib_checkpoint_set_key, from the config's
 * checkpoint.encryption_key) every opaque position is sealed before it is
 * written and opened after it is read (seal.h, AES-256-GCM, bound to the
 * pipeline and source names): a MongoDB resume token encodes the event's
 * documentKey, and a snapshot's progress its last key, both row data that
 * masking rules may have hidden everywhere else.  The key and seq stay
 * clear (an LSN, a cluster time, a binlog offset: no row data), so the
 * catalog still refuses a PostgreSQL position moving backwards.  On load:
 * a sealed position without a key, with a wrong key, or altered is an
 * error naming the pipeline, the source and the store (never a silent
 * start from scratch); a clear position with a key (written before the key
 * was set) is read, logged once as a warning, and sealed at the next save.
 *
 * Errors: functions return false / -1 and fill errbuf; the dsn is never
 * part of a message, nor key material.
 */
#ifndef TRIB_CHECKPOINT_H
#define TRIB_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"
#include "source.h"

typedef enum trib_ckpt_mode
{
	TRIB_CKPT_FILE,
	TRIB_CKPT_CATALOG
} trib_ckpt_mode;

typedef struct trib_checkpoint trib_checkpoint;

/*
 * Open a store.  `target` is the file path (file mode) or the libpq dsn of
 * the database holding the extension (catalog mode; connects now).  `ops`
 * are the source's operations (borrowed: they outlive the store), whose
 * store_form and parse_id convert its positions.
 */
trib_checkpoint *trib_checkpoint_open(trib_ckpt_mode mode, const char *target,
									  const char *pipeline, const char *source,
									  const trib_source_ops *ops,
									  char *errbuf, size_t errlen);

/*
 * The stored position: 1 and *out filled (out->opaque is a new string or
 * NULL; the caller frees it), 0 when there is none, -1 on error, or
 * TRIB_CHECKPOINT_UNREADABLE (also < 0) when a position is stored but does
 * not open (sealed, and no key, a wrong key, or altered): no retry can
 * help, so a catalog store's caller stops rather than tries again.
 */
#define TRIB_CHECKPOINT_UNREADABLE (-2)
int			trib_checkpoint_load(trib_checkpoint *ck, trib_position *out,
								 char *errbuf, size_t errlen);

/* Store pos durably (pos->opaque: a JSON object or NULL). */
bool		trib_checkpoint_save(trib_checkpoint *ck, const trib_position *pos,
								 char *errbuf, size_t errlen);

void		trib_checkpoint_close(trib_checkpoint *ck);

/* Seal positions with key (copied; TRIB_SEAL_KEY_LEN bytes) from now on;
 * NULL: no sealing, and a sealed position fails to load. */
struct trib_key;
void		trib_checkpoint_set_key(trib_checkpoint *ck, const struct trib_key *key);

/* trib_checkpoint_set_key with the config's checkpoint.encryption_key when
 * it is set; false with errbuf when it does not parse. */
struct trib_checkpoint_conf;
bool		trib_checkpoint_key_from_conf(trib_checkpoint *ck,
										  const struct trib_checkpoint_conf *cc,
										  char *errbuf, size_t errlen);

/*
 * Does a masking rule touch the field a source's positions encode (its
 * ops' position_key_field: MongoDB's _id; a path whose first segment is
 * or matches it, globs included) while checkpoint.encryption_key is not
 * set?  Then true, and msg names the rule, the source and the
 * field; the pipeline logs it as a warning at start and `check` reports
 * it.  A warning, not an error: see docs/OPERATIONS.md, Sealed
 * checkpoints.
 */
struct trib_config;
bool		trib_checkpoint_key_exposed(const struct trib_config *cfg, char *msg, size_t len);

/*
 * `check`'s test of a position as the catalog store holds it (text, the
 * position column of pipeline's row for source): true when it is clear or
 * opens with cc's encryption_key, as trib_checkpoint_load would, and
 * *plain (when plain is not NULL) the clear text, malloc'd; false with
 * errbuf saying why as the load would (sealed and no key, a wrong key,
 * altered, another row's), never with key material.
 */
bool		trib_checkpoint_text_opens(const char *pipeline, const char *source,
									   const struct trib_checkpoint_conf *cc, const char *text,
									   char **plain, char *errbuf, size_t errlen);

/* `tributary check`: report on `rep` the store cfg->checkpoint names
 * (checkpoint_check.c); read-only. */
struct trib_config;
struct trib_check_report;
void		trib_checkpoint_check(const struct trib_config *cfg, struct trib_check_report *rep);

#endif							/* TRIB_CHECKPOINT_H */
