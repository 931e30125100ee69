/*
 * config_diff.h: what changes between the running pipeline's config and a
 * newly loaded one, and whether the change can be applied live (the
 * reload of docs/OPERATIONS.md, pipeline/reload.h).
 *
 * Design.  Both configs keep the bytes they were read from (config.h
 * `text`); the two files are parsed again into YAML trees and compared
 * section by section, so every key of every plugin is covered without
 * this module knowing any plugin's settings.  Sections fall in three
 * kinds:
 *   - applied live: transforms (rule by rule, by name), dead_letter,
 *     dead_letter_images, strict, the Lua limits, erasure, schemas,
 *     lineage, log;
 *   - sources and sinks: a member added or removed is applied; a member
 *     kept under its name must be unchanged, since its slot, its stored
 *     position and where it writes depend on its settings (add it under
 *     a new name instead); a pipeline going from one source to several
 *     (or back) is refused too, their positions having other forms
 *     (pipeline/merge.h);
 *   - refused: pipeline (it names the slot, the lock and the
 *     checkpoint), checkpoint, http, schema_registry, and any key this
 *     module does not know.
 * A refusal names the new file's FILE:LINE:COLUMN and the key path.
 *
 * The fingerprint is SHA-256 of the file's bytes, hex: the one lineage
 * records (lineage.h trib_lineage_config_fingerprint).
 */
#ifndef TRIB_CONFIG_DIFF_H
#define TRIB_CONFIG_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define TRIB_CONFIG_FINGERPRINT_LEN 65	/* 64 hex digits and NUL */

typedef struct trib_config_diff
{
	trib_strlist changes;		/* one line per change, e.g. "rule mask_email
								 * added"; empty: nothing changed */
	char	   *refused;		/* NULL, or why the change cannot be applied
								 * live (FILE:LINE:COLUMN: KEY: reason) */
} trib_config_diff;

/* Compare `from` (running) with `to` (newly loaded) into *d, which the
 * caller frees with trib_config_diff_free(). */
void		trib_config_diff_make(const trib_config *from, const trib_config *to,
								  trib_config_diff *d);

void		trib_config_diff_free(trib_config_diff *d);

/*
 * The answer to one reload request (pipeline/reload.h makes it, the
 * control API and the log show it).
 */
typedef enum trib_reload_outcome
{
	TRIB_RELOAD_ACCEPTED = 0,	/* valid, applicable: applied at the next
								 * transaction boundary */
	TRIB_RELOAD_UNCHANGED,		/* valid, nothing to apply */
	TRIB_RELOAD_INVALID,		/* the file does not load: nothing changed */
	TRIB_RELOAD_REFUSED,		/* valid, but not applicable live */
	TRIB_RELOAD_BUSY			/* another reload is being applied, or this
								 * run cannot reload */
} trib_reload_outcome;

typedef struct trib_reload_result
{
	trib_reload_outcome outcome;
	char		fingerprint[TRIB_CONFIG_FINGERPRINT_LEN];	/* the file's; "" when
															 * it did not load */
	char		running[TRIB_CONFIG_FINGERPRINT_LEN];	/* the running config's */
	trib_config_diff diff;
	char		error[4096];	/* INVALID: the loader's lines (FILE:LINE:COL);
								 * REFUSED, BUSY: why; else "" */
} trib_reload_result;

/* The outcome in one word ("accepted", ...). */
const char *trib_reload_outcome_name(trib_reload_outcome o);

/* SHA-256 of cfg's bytes, hex. */
void		trib_config_fingerprint(const trib_config *cfg,
									char out[TRIB_CONFIG_FINGERPRINT_LEN]);

#endif							/* TRIB_CONFIG_DIFF_H */
