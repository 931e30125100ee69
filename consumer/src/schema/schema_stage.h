/*
 * schema_stage.h: the consumer's schema stage: every captured table is a
 * subject of the catalog's schema registry, and every event carries its
 * subject's schema id and version.
 *
 * Design.  The stage runs in the pipeline between the source and the
 * transforms, on the source's relation (event.h: the schema view an event
 * points to).  A relation it has not seen yet becomes a schema through
 * libtribsr (schema_table.c), which is looked up in the registry by its
 * fingerprint; a shape the subject has not registered is checked
 * (tributary.check_compatibility) and registered
 * (tributary.register_schema) with the position of the event that
 * brought it, before that event reaches any sink.  After that, the
 * relation's id and version come from a hash of relations: no catalog
 * query per event.  Registering an identical schema again returns the
 * existing version, so a restart (even after kill -9) registers nothing
 * new for shapes already known.
 *
 * Policy for a shape the subject's compatibility level refuses (`schemas:
 * on_incompatible`): fail (log every violation, return false with an error
 * naming the subject, table, level and first violation: the
 * pipeline stops before publishing the event and keeps its position),
 * warn (log, count, register it with level NONE for that step, publish),
 * or quarantine (register it as warn does, record it in the catalog's
 * tributary.schema_quarantine and mark its events `quarantined`, which
 * the pipeline sends to the quarantine sink only; at each transaction's
 * first event, at most every 500 ms, the stage asks the catalog whether a
 * person accepted it with `tributary schema accept`).
 *
 * Migrations (`schemas.migrations`, schema_migrate.h): a subject's events
 * are rewritten to its target version's shape and stamped with the
 * target's id and version; the plan is made once per relation, and
 * refused unless each migrated field's schema is the target's, type and
 * nullability included (the Avro encoder writes with the target's
 * registered schema, event.h's schema_doc, and refuses a value that does
 * not fit it).
 *
 * The catalog connection is opened on first need and used only by the
 * pipeline's thread.  Errors: false with errbuf; never exits.  A catalog
 * that cannot be reached is retriable (the pipeline starts again after
 * its backoff); a refused shape is not: the daemon exits.
 */
#ifndef TRIB_SCHEMA_STAGE_H
#define TRIB_SCHEMA_STAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "event.h"
#include "metrics.h"
#include "position.h"

typedef struct trib_schema_stage trib_schema_stage;

/* The source's format_id(): the event id a registration records. */
typedef size_t (*trib_schema_format_id) (const trib_position *pos, char *buf, size_t len);

/*
 * Set the stage up from cfg->schemas (connects nothing).  *out is NULL
 * when the section is disabled.  false with errbuf when it cannot run
 * (no dsn to use).
 */
bool		trib_schema_stage_new(const trib_config *cfg, trib_metrics *metrics,
								  trib_schema_format_id format_id,
								  trib_schema_stage **out, char *errbuf, size_t errlen);

/*
 * Stamp ev with its subject's schema id and version, registering its
 * relation's shape first when it is new.  A NULL stage, or an event
 * without a relation (messages), is left alone.  false: the pipeline must
 * stop (an incompatible shape under `fail`, or the catalog failed).
 */
bool		trib_schema_stage_apply(trib_schema_stage *st, trib_event *ev,
									char *errbuf, size_t errlen);

/*
 * For a source that learns a table's new shape before any row of it
 * (MySQL's DDL): register ev->rel's shape, as apply() would, at ev->pos,
 * so that the subject's version takes effect at the statement rather than
 * at the first row after it.  ev carries no values and is not stamped;
 * rel may be freed after (nothing of it is kept: the events that follow
 * find the version by its fingerprint).  A shape the subject has is
 * registered again as nothing new.  A NULL stage does nothing.  false as
 * for apply().
 */
bool		trib_schema_stage_declare(trib_schema_stage *st, const trib_event *ev,
									  char *errbuf, size_t errlen);

/* After apply() failed: was it the catalog's connection (down, restarting,
 * lost), so that the pipeline may try again, rather than a refused shape
 * or a refused login?  false for a NULL stage. */
bool		trib_schema_stage_retriable(const trib_schema_stage *st);

/* NULL is allowed. */
void		trib_schema_stage_free(trib_schema_stage *st);

/*
 * For a source that infers its relations (MongoDB infer_schema): the
 * relation of the latest version of ev's table's subject (ev's source,
 * db, schema, table and connector), when it maps back exactly: read back
 * by schema_seed.h, its own schema has the registered fingerprint.  1 with
 * *out (the caller's); 0 when there is nothing to adopt: no version
 * (errbuf empty), or one that does not map back, or schemas.format is not
 * json (errbuf says why); -1 when the catalog could not be read (errbuf).
 */
int			trib_schema_stage_registered(trib_schema_stage *st, const trib_event *ev,
										 trib_relation **out, char *errbuf, size_t errlen);

/* `tributary check`: every captured table's current shape against its
 * subject, with the violations (schema_check.c). */
struct trib_check_report;
void		trib_schema_check(const trib_config *cfg, struct trib_check_report *rep);

/* The database of the registry: schemas.dsn, else the checkpoint's; NULL
 * when there is none. */
const char *trib_schema_stage_dsn(const trib_config *cfg);

/*
 * `tributary schema accept`: accept the subject's quarantined version in
 * the catalog of cfg's schema stage; *now is false when it was accepted
 * before.  false with errbuf (not quarantined, no catalog).
 */
bool		trib_schema_accept(const trib_config *cfg, const char *subject, int32_t version,
							   bool *now, char *errbuf, size_t errlen);

#endif							/* TRIB_SCHEMA_STAGE_H */
