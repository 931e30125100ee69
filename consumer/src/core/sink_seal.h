/*
 * sink_seal.h: sealing the positions a sink stores for itself.
 *
 * Design.  A sink that keeps its own position next to its data (the
 * Postgres sink's tributary_sink.positions, the MongoDB sink's positions
 * collection, the Kafka sink's checkpoint topic, the file sink's PATH.pos)
 * stores the opaque part of it, and a snapshot's progress document, in the
 * same place the copied data lives.  Both can hold source keys in clear (a
 * MongoDB resume token encodes the documentKey; snapshot progress holds row
 * keys), so with checkpoint.encryption_key set they are sealed like the
 * checkpoint store's (seal.h: AES-256-GCM, the versioned JSON object),
 * bound to the pipeline and the sink's name: a sealed position copied to
 * another sink or pipeline does not open.
 *
 * The pipeline hands the key to each sink before open (trib_sink.seal_key,
 * trib_sinks_open); a sink seals where it writes and opens where it reads.
 * Without a key nothing is done (one NULL test per write).  A sealed text
 * read without a key, with another key, or altered is an error naming the
 * pipeline, the sink and the store, never a silent start from scratch; a
 * clear one read with a key (written before the key was set) is used, with
 * one warning per sink, and sealed at the next write.
 */
#ifndef TRIB_SINK_SEAL_H
#define TRIB_SINK_SEAL_H

#include <stdbool.h>
#include <stddef.h>

#include "sink.h"

/*
 * The text to store for `plain` (an opaque position or a progress document)
 * into *text: plain itself when the sink has no key or plain is NULL
 * (*sealed NULL), else the sealed text, also in *sealed for the caller to
 * free.  False with errbuf naming pipeline, sink and `store` (words such as
 * "table tributary_sink.positions").
 */
bool		trib_sink_seal(const trib_sink *sink, const char *store, const char *plain,
						   char **sealed, const char **text, char *errbuf, size_t errlen);

/*
 * Open *text (malloc'd, as read from `store`; NULL is left alone) in place:
 * a sealed text is replaced by its plain text, a clear one kept (with one
 * warning per sink when it has a key).  False with errbuf when it is sealed
 * and does not open (*text is then freed and NULL).
 */
bool		trib_sink_unseal(trib_sink *sink, const char *store, char **text,
							 char *errbuf, size_t errlen);

#endif							/* TRIB_SINK_SEAL_H */
