/*
 * pgprepared.h: the last stage of the PostgreSQL source: prepared
 * transactions held until COMMIT PREPARED, and the resume filter.
 *
 * Design.  With the plugin option two-phase, PostgreSQL decodes a prepared
 * transaction at PREPARE TRANSACTION (begin_prepare, its changes, prepare)
 * and sends COMMIT PREPARED or ROLLBACK PREPARED later, after the
 * transactions that committed in between.  A sink must never show a
 * transaction that may still roll back, so this stage holds it:
 *
 *   begin_prepare .. prepare  held, per xid.  Events stay in memory up to
 *                             a budget shared by every held transaction;
 *                             past it, a transaction's further events go
 *                             to a spill file of its own.
 *   commit_prepared           the held transaction is delivered in its
 *                             place, as if it had committed there: its
 *                             events' ids become (commit_lsn of COMMIT
 *                             PREPARED, seq), the very ids PostgreSQL gives
 *                             it without two-phase, and begin_prepare /
 *                             commit_prepared frame it.  Spilled events are
 *                             read back one at a time, as they are popped.
 *   rollback_prepared         the held transaction is dropped.
 *
 * Downstream therefore sees the stream two-phase off would give: ids
 * strictly increase, and a checkpoint is an event id as ever.
 *
 * Resume filter.  Every record that leaves this stage moves `resume` on to
 * its id (a commit: the whole transaction); a record at or before it is
 * dropped.  The caller sets it at start to its durable checkpoint, and may
 * pass it to the plugin as resume-after on reconnection.  With two-phase
 * the plugin must not filter (resume-after would also suppress a held
 * transaction's PREPARE, whose LSN lies before later commits), so this is
 * the filter that keeps duplicates out; without two-phase it drops nothing
 * the plugin has not dropped already.
 *
 * Positions upstream.  A held transaction lives only in this process, so
 * the slot must not be confirmed past its PREPARE until its changes are
 * durable downstream: PostgreSQL then decodes the PREPARE again after a
 * restart (it skips a PREPARE before the slot's confirmed position and
 * would send only COMMIT PREPARED).  trib_pgprep_floor() is the oldest
 * PREPARE LSN still held or being delivered; the caller confirms no
 * further, and keeps the floor of a delivered transaction (its
 * commit_prepared carries prepare_lsn) until that transaction is durable.
 *
 * Spill files: <spill_dir>/<spill_prefix>XXXXXX (mkstemp, mode 0600),
 * private to this process (they point into its memory for naming strings
 * and relations), deleted when their transaction is delivered or dropped,
 * at reset and at free.  trib_pgprep_clean() removes what a killed process
 * left behind; call it once the pipeline is the active consumer.
 *
 * Ownership: push() takes the record; pop() hands one over.  Errors
 * return false / -1 with errbuf filled.  Single-threaded.
 */
#ifndef TRIB_PGPREPARED_H
#define TRIB_PGPREPARED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pgrecord.h"

typedef struct trib_pgprep_conf
{
	const char *spill_dir;		/* where spill files go */
	const char *spill_prefix;	/* their names start with it; no '/' */
	size_t		memory_bytes;	/* held events kept in memory, in all */
	/* told about a COMMIT PREPARED that came without its changes and
	 * was not delivered before (see push()); NULL: silent */
	void		(*warn) (const char *msg, void *arg);
	void	   *warn_arg;
} trib_pgprep_conf;

typedef struct trib_pgprep_stats
{
	uint64_t	held;			/* transactions held now */
	uint64_t	memory_bytes;	/* their events in memory (a rough figure) */
	uint64_t	spilled_bytes;	/* their events in spill files */
	uint64_t	committed;		/* delivered at COMMIT PREPARED */
	uint64_t	rolled_back;	/* dropped at ROLLBACK PREPARED */
	uint64_t	without_changes;	/* COMMIT PREPARED without its changes,
									 * not delivered before (warned) */
} trib_pgprep_stats;

typedef struct trib_pgprep trib_pgprep;

/* A new stage; conf's strings are copied. */
trib_pgprep *trib_pgprep_new(const trib_pgprep_conf *conf);

/* Free everything, spill files included; NULL is allowed. */
void		trib_pgprep_free(trib_pgprep *h);

/*
 * Remove the spill files an earlier process left: regular files of this
 * user in spill_dir whose names start with spill_prefix.  Returns how many,
 * or -1 (errbuf) when the directory cannot be read.
 */
int			trib_pgprep_clean(const trib_pgprep_conf *conf, char *errbuf, size_t errlen);

/* Drop records at or before (lsn, seq) from now on (TRIB_SEQ_ALL: the
 * whole transaction at lsn). */
void		trib_pgprep_set_resume(trib_pgprep *h, uint64_t lsn, uint64_t seq);

/* The id of the last record let through (or set); false when none. */
bool		trib_pgprep_resume(const trib_pgprep *h, uint64_t *lsn, uint64_t *seq);

/*
 * Take a record from the assembler, in stream order.  False (errbuf) when
 * a spill file cannot be written or the records contradict each other (a
 * change of another transaction inside a prepared one).  The record is
 * taken either way.  A COMMIT PREPARED of a transaction not held (PostgreSQL
 * sends it alone when the slot was confirmed past the PREPARE) is dropped
 * when the resume point covers it (delivered before); otherwise it passes
 * as an empty transaction and conf.warn is told.
 */
bool		trib_pgprep_push(trib_pgprep *h, trib_pgrec *rec, char *errbuf, size_t errlen);

/* Can pop() deliver something? */
bool		trib_pgprep_ready(const trib_pgprep *h);

/* The next record (the caller frees it): 1; 0 when none is ready; -1
 * (errbuf) when a spill file cannot be read. */
int			trib_pgprep_pop(trib_pgprep *h, trib_pgrec **out, char *errbuf, size_t errlen);

/* The connection was lost: PostgreSQL sends every held transaction again
 * (the slot is confirmed no further than its PREPARE), and each copy
 * replaces the one held, which keeps the floor meanwhile; one whose
 * prepare had not come yet is complete only in its copy.  What is ready
 * to pop stays. */
void		trib_pgprep_reset(trib_pgprep *h);

/* The oldest PREPARE LSN held or being delivered; false when none. */
bool		trib_pgprep_floor(const trib_pgprep *h, uint64_t *lsn);

void		trib_pgprep_stats_get(const trib_pgprep *h, trib_pgprep_stats *out);

#endif							/* TRIB_PGPREPARED_H */
