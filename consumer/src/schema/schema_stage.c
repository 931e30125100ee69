/*
 * schema_stage.c: the schema stage (schema_stage.h): a hash of the
 * relations seen, each with its subject's schema id and version, filled
 * from the registry the first time a relation is seen.
 *
 * The hash.  A source hands out one trib_relation per shape and keeps it
 * until it is closed (relation.h), after the pipeline, so a relation's
 * address names one shape for the stage's whole life: the table is keyed
 * by that address (and the relation's version, a cheap guard), in
 * lib/ptrmap.h's table.  An event's lookup is one hash and, usually, one
 * compare.
 *
 * A new relation.  Its schema (schema_table.c) is looked up in the
 * subject by fingerprint: a shape registered before (by this run, an
 * earlier one, or a restart after a crash) is simply used.  Otherwise it
 * is checked against the subject's versions under the subject's level,
 * then registered with the position of the event that brought it: the
 * first event with that shape, because the source sends a relation's
 * new shape just before the first change that uses it.  A source that
 * knows a new shape earlier (MySQL: the DDL statement) declares it at
 * that position (trib_schema_stage_declare): the same resolve, not kept.
 *
 * The documents.  Every id the stage stamps has its registered document
 * kept (the canonical text it found by fingerprint or registered, or the
 * migration target's text read from the catalog), once per id, until the
 * stage is freed: events point at it (event.h, schema_doc), so that the
 * Kafka sink's Avro encoder writes with the schema registered under the
 * id it frames, not with the shape of the relation it meets.
 */
#include "schema_stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "eventid.h"
#include "log.h"
#include "ptrmap.h"
#include "schema_int.h"
#include "schema_migrate.h"
#include "schema_seed.h"
#include "xalloc.h"

#define STAGE_MIN_SLOTS 64

/* The registered document of a schema id (see "The documents"). */
typedef struct stage_doc
{
	int64_t		id;
	char	   *doc;
} stage_doc;

typedef struct rel_entry
{
	const trib_relation *rel;	/* the key: first (lib/ptrmap.h) */
	uint32_t	relver;
	int64_t		id;
	int32_t		version;
	trib_migrate_plan *plan;	/* the subject's migration, or NULL */
	int64_t		out_id;			/* what events are stamped with: the */
	int32_t		out_version;	/* migration's target, else id/version */
	int64_t		key_id;			/* the key schema's id (schemas.keys), or 0 */
	const char *out_doc;		/* out_id's and key_id's registered */
	const char *key_doc;		/* documents (stage_doc), or NULL */
	bool		quarantined;	/* a version waiting for acceptance */
	int64_t		checked_ms;		/* when acceptance was last asked for */
	trib_metric *m_quarantined; /* its subject's series */
} rel_entry;

/* How often a quarantined version's acceptance is asked for, at most (at
 * transaction boundaries). */
#define QUARANTINE_POLL_MS 500

struct trib_schema_stage
{
	const trib_schemas_conf *conf;
	trib_schema_store *store;
	trib_migrate *mig;			/* NULL without migrations */
	trib_sr_format fmt;
	trib_schema_format_id format_id;
	trib_ptrmap rels;			/* rel_entry by relation */
	struct stage_doc *docs;		/* every id's registered document */
	size_t		ndocs;
	trib_metric_family *m_registered;
	trib_metric_family *m_incompatible;
	trib_metric_family *m_quarantined;
	bool		in_tx;			/* the last event did not end its transaction */
};

/* The error of a stage without a catalog. */
static bool
no_dsn(const trib_config *cfg, char *errbuf, size_t errlen)
{
	snprintf(errbuf, errlen, "%s: schemas needs a dsn (the checkpoint keeps no catalog dsn to "
			 "default to)", cfg->path);
	return false;
}

bool
trib_schema_stage_new(const trib_config *cfg, trib_metrics *metrics,
					  trib_schema_format_id format_id, trib_schema_stage **out,
					  char *errbuf, size_t errlen)
{
	const trib_schemas_conf *conf = &cfg->schemas;
	const char *dsn = trib_schema_stage_dsn(cfg);
	trib_schema_stage *st;

	*out = NULL;
	if (!conf->enabled)
		return true;
	if (dsn == NULL)
	{
		return no_dsn(cfg, errbuf, errlen);
	}
	st = trib_xmalloc(sizeof(*st));
	memset(st, 0, sizeof(*st));
	if (!trib_migrate_new(conf, &st->mig, errbuf, errlen))
	{
		free(st);
		return false;
	}
	st->conf = conf;
	st->store = trib_schema_store_new(dsn);
	st->fmt = conf->format == 1 ? TRIB_SR_AVRO : TRIB_SR_JSON;
	st->format_id = format_id;
	trib_ptrmap_init(&st->rels, sizeof(rel_entry), STAGE_MIN_SLOTS);
	st->m_registered = trib_metrics_counter(metrics, "tributary_schema_versions_registered_total",
											"Schema versions the schema stage registered.",
											"subject");
	st->m_incompatible = trib_metrics_counter(metrics, "tributary_schema_incompatible_total",
											  "New table shapes the subject's compatibility "
											  "level refused (on_incompatible: warn publishes "
											  "them).", "subject");
	st->m_quarantined = trib_metrics_counter(metrics, "tributary_schema_quarantined_events_total",
											 "Events of versions not accepted yet sent to "
											 "the quarantine sink (on_incompatible: "
											 "quarantine).", "subject");
	*out = st;
	return true;
}

const char *
trib_schema_stage_dsn(const trib_config *cfg)
{
	return trib_config_dsn_or_checkpoint(cfg, cfg->schemas.dsn);
}

bool
trib_schema_accept(const trib_config *cfg, const char *subject, int32_t version, bool *now,
				   char *errbuf, size_t errlen)
{
	const char *dsn = trib_schema_stage_dsn(cfg);
	trib_schema_store *s;
	int			r;

	if (dsn == NULL)
	{
		return no_dsn(cfg, errbuf, errlen);
	}
	s = trib_schema_store_new(dsn);
	r = trib_schema_store_accept(s, subject, version, errbuf, errlen);
	trib_schema_store_free(s);
	*now = r > 0;
	return r >= 0;
}

bool
trib_schema_stage_retriable(const trib_schema_stage *st)
{
	return st != NULL && trib_schema_store_lost(st->store);
}

void
trib_schema_stage_free(trib_schema_stage *st)
{
	if (st == NULL)
		return;
	trib_schema_store_free(st->store);
	for (size_t i = 0; i < st->rels.nslots; i++)
	{
		rel_entry  *e = trib_ptrmap_slot(&st->rels, i);

		if (e != NULL)
			trib_migrate_plan_free(e->plan);
	}
	trib_migrate_free(st->mig);
	trib_ptrmap_free(&st->rels);
	for (size_t i = 0; i < st->ndocs; i++)
		free(st->docs[i].doc);
	free(st->docs);
	free(st);
}

/* The kept document of schema id, or NULL. */
static const char *
stage_doc_of(const trib_schema_stage *st, int64_t id)
{
	for (size_t i = 0; i < st->ndocs; i++)
		if (st->docs[i].id == id)
			return st->docs[i].doc;
	return NULL;
}

/* Keep doc (copied) as the registered document of id, unless one is kept. */
static void
stage_doc_keep(trib_schema_stage *st, int64_t id, const char *doc)
{
	if (doc == NULL || stage_doc_of(st, id) != NULL)
		return;
	st->docs = trib_xrealloc(st->docs, (st->ndocs + 1) * sizeof(*st->docs));
	st->docs[st->ndocs++] = (stage_doc) {id, trib_xstrdup(doc)};
}

/* Keep e as its relation's entry (replacing the relation's older
 * version); the entry in the table. */
static rel_entry *
remember(trib_schema_stage *st, const rel_entry *e)
{
	bool		added;
	rel_entry  *slot = trib_ptrmap_put(&st->rels, e->rel, &added);

	if (!added)
		trib_migrate_plan_free(slot->plan);	/* the relation's older version */
	*slot = *e;
	return slot;
}

/* How a violation is logged. */
typedef struct violation_log
{
	const char *subject;
	bool		fail;
	char		level[32];		/* the level the subject was checked under */
	char		first[256];		/* the first violation: kind, path, version */
} violation_log;

static void
log_violation(void *arg, const char *previous_version, const char *path, const char *kind,
			  const char *message, const char *level)
{
	violation_log *l = arg;

	if (l->first[0] == '\0')
	{
		snprintf(l->level, sizeof(l->level), "%s", level);
		snprintf(l->first, sizeof(l->first), "%s at %s against version %s", kind, path,
				 previous_version);
	}

	if (l->fail)
		tlog_error("schemas", "subject %s: against version %s: %s at %s: %s", l->subject,
				   previous_version, kind, path, message);
	else
		tlog_warn("schemas", "subject %s: against version %s: %s at %s: %s", l->subject,
				  previous_version, kind, path, message);
}

/* Check and register a shape the subject does not have yet. */
static bool
register_new(trib_schema_stage *st, const trib_event *ev, const char *subject,
			 const char *doc, bool key, int64_t *out_id, int32_t *out_version,
			 char *errbuf, size_t errlen)
{
	const char *type = trib_sr_format_name(st->fmt);
	violation_log l = {subject, st->conf->on_incompatible == TRIB_SCHEMAS_FAIL, "", ""};
	const char *policy = st->conf->on_incompatible == TRIB_SCHEMAS_WARN ? "warn" : "quarantine";
	char		id[TRIB_EVENTID_LEN + 16];
	int			nbad;

	st->format_id(&ev->pos, id, sizeof(id));
	nbad = trib_schema_store_check(st->store, subject, doc, type, log_violation, &l,
								   errbuf, errlen);
	if (nbad < 0)
		return false;
	if (nbad > 0)
	{
		trib_metric_inc(trib_metric_get(st->m_incompatible, subject));
		if (l.fail)
		{
			snprintf(errbuf, errlen, "subject %s: the new shape of table %s.%s at event %s "
					 "is incompatible with the subject's versions under its level %s (%d "
					 "violation(s), the first: %s; all logged above); on_incompatible is "
					 "fail, so nothing from this event on is published: change the "
					 "subject's level (tributary.set_compatibility) or the table, then "
					 "restart", subject, ev->rel->schema, ev->rel->table, id, l.level, nbad,
					 l.first);
			return false;
		}
		tlog_warn("schemas", "subject %s: registering an incompatible version at event %s "
				  "(on_incompatible: %s)", subject, id, policy);
	}
	/* a key's incompatible version is registered as under warn: the
	 * quarantine holds events by their value's version */
	if (!trib_schema_store_register(st->store, subject, doc, type, id, nbad > 0,
									!key && st->conf->on_incompatible == TRIB_SCHEMAS_QUARANTINE,
									out_id, out_version, errbuf, errlen))
		return false;
	trib_metric_inc(trib_metric_get(st->m_registered, subject));
	tlog_info("schemas", "subject %s: version %d (id %lld) takes effect at event %s", subject,
			  (int) *out_version, (long long) *out_id, id);
	return true;
}

/* The subject's version of schema: found by its fingerprint, else checked
 * and registered at ev (register_new). */
static bool
find_or_register(trib_schema_stage *st, const trib_event *ev, const char *subject,
				 const trib_sr_schema *schema, bool key, int64_t *id, int32_t *version,
				 char *errbuf, size_t errlen)
{
	char		fp[65];
	int			found;

	trib_sr_schema_sha256_hex(schema, fp);
	found = trib_schema_store_find(st->store, subject, trib_sr_format_name(st->fmt), fp, id,
								   version, errbuf, errlen);
	if (found < 0 ||
		(found == 0 && !register_new(st, ev, subject, trib_sr_schema_canonical(schema, NULL),
									 key, id, version, errbuf, errlen)))
		return false;
	/* the same fingerprint: the registered document is this text */
	stage_doc_keep(st, *id, trib_sr_schema_canonical(schema, NULL));
	return true;
}

/* schemas.keys: the key schema of the relation events leave the stage
 * with (the migrated one, when the subject has a migration), in subject
 * "<subject>-key"; a relation without key columns has none (id 0). */
static bool
resolve_key(trib_schema_stage *st, const trib_event *ev, const char *subject, rel_entry *e,
			char *errbuf, size_t errlen)
{
	const trib_relation *rel = e->plan ? trib_migrate_plan_relation(e->plan) : ev->rel;
	char	   *key_subject;
	char		e2[512];
	trib_sr_schema *schema;
	int32_t		version;
	bool		ok;

	e->key_id = 0;
	if (!st->conf->keys || !trib_schema_has_key(rel))
		return true;
	key_subject = trib_schema_key_subject(subject);
	schema = trib_schema_of_key(rel, ev->connector, st->fmt, e2, sizeof(e2));
	if (schema == NULL)
		snprintf(errbuf, errlen, "subject %s: %s", key_subject, e2);
	ok = schema != NULL && find_or_register(st, ev, key_subject, schema, true, &e->key_id,
											&version, errbuf, errlen);
	trib_sr_schema_free(schema);
	free(key_subject);
	return ok;
}

/* Do the plan's rows have the target version's types, not only its
 * field names?  They are stamped with its id: a column dropped and added
 * again with another type, or retyped by ALTER TABLE, with no step that
 * casts it back, would be published as the target while its values are
 * not (the Avro encoder, which writes with the target's schema, would
 * then stop at the first value that does not fit). */
static bool
same_types(trib_schema_stage *st, const trib_event *ev, const char *subject,
		   const rel_entry *e, const char *doc, char *errbuf, size_t errlen)
{
	char		target[32];
	char		why[512];
	int			same;

	snprintf(target, sizeof(target), "version %d", (int) e->out_version);
	same = trib_schema_same_fields(trib_migrate_plan_relation(e->plan), ev->connector, st->fmt,
								   doc, target, why, sizeof(why));
	if (same > 0)
		return true;
	if (same == 0)
		snprintf(errbuf, errlen, "migration of subject %s from version %d to %d: after the "
				 "steps, %s (accepted: a cast step giving the target's type, e.g. {cast: F, as: "
				 "integer, type: integer})", subject, (int) e->version, (int) e->out_version,
				 why);
	else
		snprintf(errbuf, errlen, "migration of subject %s from version %d to %d: %s", subject,
				 (int) e->version, (int) e->out_version, why);
	return false;
}

/* The subject's migration, when it has one: the plan for this relation
 * to the target version, which events are then stamped with. */
static bool
plan_migration(trib_schema_stage *st, const trib_event *ev, const char *subject,
			   rel_entry *e, char *errbuf, size_t errlen)
{
	const trib_migrate_subject *mg = trib_migrate_find(st->mig, subject);
	int32_t		want = mg ? trib_migrate_target(mg) : 0;
	char	   *doc = NULL;
	char	  **fields = NULL;
	size_t		n = 0;
	int			found;

	e->plan = NULL;
	e->out_id = e->id;
	e->out_version = e->version;
	if (mg == NULL)
		return true;
	found = trib_schema_store_version(st->store, subject, trib_sr_format_name(st->fmt), want,
									  &e->out_id, &e->out_version, &doc, errbuf, errlen);
	if (found == 0)
		snprintf(errbuf, errlen, "subject %s: the migration's target version %d is not "
				 "registered (accepted: a version tributary.schema_versions lists for the "
				 "subject, or latest)", subject, (int) want);
	if (found > 0)
		stage_doc_keep(st, e->out_id, doc);
	if (found > 0 && !trib_migrate_fields(doc, &fields, &n, errbuf, errlen))
		found = -1;
	if (found > 0)
		e->plan = trib_migrate_plan_new(mg, ev->rel, e->version, e->out_version, fields, n,
										errbuf, errlen);
	if (e->plan != NULL && !same_types(st, ev, subject, e, doc, errbuf, errlen))
	{
		trib_migrate_plan_free(e->plan);
		e->plan = NULL;
	}
	free(doc);
	trib_migrate_fields_free(fields, n);
	if (e->plan != NULL && e->version != e->out_version)
		tlog_info("schemas", "subject %s: events of version %d are migrated to version %d",
				  subject, (int) e->version, (int) e->out_version);
	return e->plan != NULL;
}

/* Under the quarantine policy: is the entry's version waiting for a
 * person's acceptance?  (Also after a restart: the catalog says.) */
static bool
quarantine_state(trib_schema_stage *st, const char *subject, rel_entry *e, char *errbuf,
				 size_t errlen)
{
	int			pending;

	e->quarantined = false;
	if (st->conf->on_incompatible != TRIB_SCHEMAS_QUARANTINE)
		return true;
	pending = trib_schema_store_pending(st->store, subject, e->version, errbuf, errlen);
	if (pending < 0)
		return false;
	e->quarantined = pending > 0;
	e->checked_ms = trib_clock_mono_ms();
	e->m_quarantined = trib_metric_get(st->m_quarantined, subject);
	if (e->quarantined)
		tlog_warn("schemas", "subject %s: version %d is quarantined: its events go to sink %s "
				  "until `tributary schema accept %s %d`", subject, (int) e->version,
				  st->conf->quarantine, subject, (int) e->version);
	return true;
}

/* The subject of an event's table (malloc'd): the default pattern names a
 * MySQL table source.database.table (config.h). */
static char *
subject_of(const trib_schema_stage *st, const trib_event *ev)
{
	return trib_name_expand(st->conf->subject, TRIB_SUBJECT_DEFAULT_PATTERN, NULL, ev->source,
							ev->db, ev->schema, ev->table);
}

/* Does rel's own schema have the fingerprint of the subject's `version`? */
static int
maps_back(trib_schema_stage *st, const trib_event *ev, const char *subject,
		  const trib_relation *rel, int32_t version, char *errbuf, size_t errlen)
{
	char		fp[65];
	int64_t		id;
	int32_t		found_version = 0;
	int			found;
	trib_sr_schema *schema = trib_schema_of_relation(rel, ev->connector, st->fmt, errbuf, errlen);

	if (schema == NULL)
		return 0;
	trib_sr_schema_sha256_hex(schema, fp);
	trib_sr_schema_free(schema);
	found = trib_schema_store_find(st->store, subject, trib_sr_format_name(st->fmt), fp, &id,
								   &found_version, errbuf, errlen);
	if (found > 0 && found_version != version)
		found = 0;				/* an older version of the same shape */
	if (found == 0)
		snprintf(errbuf, errlen, "version %d does not read back as the same schema",
				 (int) version);
	return found;
}

/* See schema_stage.h. */
int
trib_schema_stage_registered(trib_schema_stage *st, const trib_event *ev, trib_relation **out,
							 char *errbuf, size_t errlen)
{
	char	   *subject = subject_of(st, ev);
	char	   *doc = NULL;
	char		e2[512];
	int64_t		id;
	int32_t		version;
	int			rc;

	*out = NULL;
	errbuf[0] = '\0';
	if (st->fmt != TRIB_SR_JSON)
	{
		snprintf(errbuf, errlen, "subject %s: schemas.format is %s; only JSON Schemas are read "
				 "back", subject, trib_sr_format_name(st->fmt));
		free(subject);
		return 0;
	}
	rc = trib_schema_store_version(st->store, subject, trib_sr_format_name(st->fmt), 0, &id,
								   &version, &doc, e2, sizeof(e2));
	if (rc > 0)
	{
		*out = trib_schema_seed_relation(doc, ev->db ? ev->db : "", ev->table, e2, sizeof(e2));
		rc = *out ? maps_back(st, ev, subject, *out, version, e2, sizeof(e2)) : 0;
		if (rc <= 0)
		{
			trib_relation_free(*out);
			*out = NULL;
		}
	}
	if (rc < 0 || (rc == 0 && doc != NULL))
		snprintf(errbuf, errlen, "subject %s: %s", subject, e2);
	free(doc);
	free(subject);
	return rc;
}

/* A relation seen for the first time: find or register its version. */
static bool
resolve(trib_schema_stage *st, const trib_event *ev, rel_entry *e, char *errbuf, size_t errlen)
{
	char	   *subject = subject_of(st, ev);
	char		e2[512];
	trib_sr_schema *schema = trib_schema_of_relation(ev->rel, ev->connector, st->fmt, e2, sizeof(e2));
	bool		ok = false;

	if (schema == NULL)
		snprintf(errbuf, errlen, "subject %s: %s", subject, e2);
	else
	{
		e->plan = NULL;
		ok = find_or_register(st, ev, subject, schema, false, &e->id, &e->version, errbuf,
							  errlen);
		ok = ok && quarantine_state(st, subject, e, errbuf, errlen);
		ok = ok && plan_migration(st, ev, subject, e, errbuf, errlen);
		ok = ok && resolve_key(st, ev, subject, e, errbuf, errlen);
		if (!ok)
			trib_migrate_plan_free(e->plan);
		e->out_doc = stage_doc_of(st, e->out_id);
		e->key_doc = e->key_id ? stage_doc_of(st, e->key_id) : NULL;
	}
	trib_sr_schema_free(schema);
	free(subject);
	return ok;
}

/* A quarantined version, at a transaction's first event (so that one
 * transaction never goes to both sides): at most every QUARANTINE_POLL_MS,
 * ask whether a person accepted it. */
static bool
poll_acceptance(trib_schema_stage *st, const trib_event *ev, rel_entry *slot, char *errbuf,
				size_t errlen)
{
	int64_t		now = trib_clock_mono_ms();
	char	   *subject;
	int			pending;

	if (now - slot->checked_ms < QUARANTINE_POLL_MS)
		return true;
	slot->checked_ms = now;
	subject = subject_of(st, ev);
	pending = trib_schema_store_pending(st->store, subject, slot->version, errbuf, errlen);
	if (pending == 0)
	{
		slot->quarantined = false;
		tlog_info("schemas", "subject %s: version %d was accepted; its events go to the "
				  "sinks again", subject, (int) slot->version);
	}
	free(subject);
	return pending >= 0;
}

/* See schema_stage.h. */
bool
trib_schema_stage_declare(trib_schema_stage *st, const trib_event *ev, char *errbuf,
						  size_t errlen)
{
	rel_entry	e = {0};

	if (st == NULL || ev->rel == NULL)
		return true;
	e.rel = ev->rel;
	e.relver = ev->rel->version;
	if (!resolve(st, ev, &e, errbuf, errlen))
		return false;
	trib_migrate_plan_free(e.plan);
	return true;
}

bool
trib_schema_stage_apply(trib_schema_stage *st, trib_event *ev, char *errbuf, size_t errlen)
{
	rel_entry  *slot;
	rel_entry	e;
	bool		tx_start;

	if (st == NULL)
		return true;
	tx_start = !st->in_tx;
	st->in_tx = !ev->last_in_tx;
	if (ev->rel == NULL)
		return true;
	slot = trib_ptrmap_get(&st->rels, ev->rel);
	if (slot == NULL || slot->relver != ev->rel->version)
	{
		e.rel = ev->rel;
		e.relver = ev->rel->version;
		if (!resolve(st, ev, &e, errbuf, errlen))
			return false;
		slot = remember(st, &e);
	}
	if (slot->plan != NULL)
	{
		char		e2[512];

		if (!trib_migrate_plan_apply(st->mig, slot->plan, ev, e2, sizeof(e2)))
		{
			char		id[TRIB_EVENTID_LEN + 16];

			st->format_id(&ev->pos, id, sizeof(id));
			snprintf(errbuf, errlen, "%s (event %s); nothing from this event on is published",
					 e2, id);
			return false;
		}
		ev->rel = trib_migrate_plan_relation(slot->plan);
	}
	ev->schema_id = slot->out_id;
	ev->schema_version = slot->out_version;
	ev->key_schema_id = slot->key_id;
	ev->schema_doc = slot->out_doc;
	ev->key_schema_doc = slot->key_doc;
	if (slot->quarantined && tx_start && !poll_acceptance(st, ev, slot, errbuf, errlen))
		return false;
	if (slot->quarantined)
		trib_metric_inc(slot->m_quarantined);
	ev->quarantined = slot->quarantined;
	return true;
}
