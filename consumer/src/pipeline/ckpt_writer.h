/*
 * ckpt_writer.h: saves a pipeline's checkpoint on a thread of its own, so
 * that the pipeline's loop never waits for an fsync or a database round
 * trip while commits keep arriving.
 *
 * Design.  A file checkpoint is written, fsynced, renamed and its
 * directory fsynced (checkpoint.c): 1 to 12 ms on the development VM, and
 * up to 60 ms now and then, every CHECKPOINT_MS.  Saved on the pipeline's
 * thread, that time was added to the commit-to-ack latency of every
 * transaction that arrived meanwhile (W3, docs/BENCHMARKS.md).  The writer
 * takes one position at a time: offer() hands it over (a copy) and
 * returns at once; the thread saves it; done() then reports it saved, or
 * the error.  The pipeline confirms nothing to its source before done()
 * said so, exactly as it confirmed nothing before a synchronous save
 * returned: the order "checkpoint durable, then confirm" is unchanged.
 *
 * Concurrency: the writer is the only user of the store while a save is
 * in flight; wait() blocks until none is, after which the caller may use
 * the store itself again (a forced save at shutdown, a load).
 *
 * Ownership: offer() copies the position and its opaque text.  The
 * position done() returns borrows the writer's copy, valid until the next
 * done() that returns 1, or until the writer is freed.
 */
#ifndef TRIB_CKPT_WRITER_H
#define TRIB_CKPT_WRITER_H

#include <stdbool.h>
#include <stddef.h>

#include "checkpoint.h"

typedef struct trib_ckpt_writer trib_ckpt_writer;

/* A writer of `ck` (borrowed: close it only after trib_ckpt_writer_free);
 * NULL and errbuf when the thread cannot start. */
trib_ckpt_writer *trib_ckpt_writer_new(trib_checkpoint *ck, char *errbuf, size_t errlen);

/* Start saving pos; false (nothing done) while a save is in flight or its
 * result was not collected by done(). */
bool		trib_ckpt_writer_offer(trib_ckpt_writer *w, const trib_position *pos);

/* The result of the last save: 1 and *saved (see Ownership) once it
 * succeeded, -1 and errbuf once it failed, 0 while it is in flight or
 * when there is none.  Each result is reported once. */
int			trib_ckpt_writer_done(trib_ckpt_writer *w, trib_position *saved,
								  char *errbuf, size_t errlen);

/* A save is in flight, or its result waits for done(). */
bool		trib_ckpt_writer_busy(trib_ckpt_writer *w);

/* Block until no save is in flight (its result stays for done()). */
void		trib_ckpt_writer_wait(trib_ckpt_writer *w);

/* Wait for the save in flight, stop the thread, release everything. */
void		trib_ckpt_writer_free(trib_ckpt_writer *w);

#endif							/* TRIB_CKPT_WRITER_H */
