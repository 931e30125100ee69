/*
 * schema_check.c: the schema stage's part of `tributary check`
 * (schema_stage.h): for every table a source would capture, the table's
 * current shape against its subject in the registry, with every
 * violation the subject's level finds.  This is the diff that stops a
 * pipeline under `on_incompatible: fail`, and it stays visible until the
 * user fixes the table or the level.  With `schemas.keys` the table's key
 * (its primary key's columns, else its replica identity's) is checked the
 * same way against the key subject "<subject>-key", which the Kafka
 * sink's key_format json_sr and avro frame.
 *
 * Design.  The shape is built inside the source's database by
 * tributary.table_schema() (the same mapping the stage applies to
 * relation records) and checked on the registry's catalog by
 * tributary.check_compatibility(), so check and run agree.  Read-only,
 * with bound parameters, on short-lived connections with the check's
 * timeout (check_report.h).  Under `fail` an incompatible shape counts as
 * a problem, since `run` would stop there; under warn and quarantine it
 * is only reported.
 *
 * Migrations.  `run` checks and registers the table's own shape, not the
 * migrated one, so the value subject is checked here the same way; a
 * subject with a migration then gets the plan `run` would make from that
 * shape to the target (schema_check_migrate.c), and its key subject is
 * checked on the key `run` registers: the migrated relation's, whose
 * key columns the steps may rename, drop or cast (see the doc's section
 * 7).
 */
#include "schema_stage.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "check_report.h"
#include "schema_int.h"
#include "schema_migrate.h"
#include "tribsr.h"
#include "xalloc.h"

/* The table's shape (part 'value' or 'key'); no row for a key when the
 * table has no primary key or replica identity index (no key schema, as
 * the stage registers none). */
static const char shape_sql[] =
	"SELECT tributary.table_schema(c.oid, $3, $4)::text, pg_catalog.current_database()"
	"  FROM pg_catalog.pg_class AS c"
	"  JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
	" WHERE n.nspname OPERATOR(pg_catalog.=) $1 AND c.relname OPERATOR(pg_catalog.=) $2"
	"   AND ($4 OPERATOR(pg_catalog.=) 'value' OR EXISTS ("
	"        SELECT 1 FROM pg_catalog.pg_index AS i"
	"         WHERE i.indrelid OPERATOR(pg_catalog.=) c.oid"
	"           AND (i.indisprimary OR i.indisreplident)))";

static const char diff_sql[] =
	"SELECT c.previous_version, c.kind, c.path, c.message"
	"  FROM tributary.check_compatibility($1, $2::jsonb, NULL, $3) AS c";

/* The schemas' format. */
static trib_sr_format
schemas_format(const trib_config *cfg)
{
	return cfg->schemas.format == 1 ? TRIB_SR_AVRO : TRIB_SR_JSON;
}

/* The dsn of the source named `name` in the report, or NULL. */
static const char *
source_dsn(const trib_check_report *rep, const char *name)
{
	for (size_t i = 0; i < rep->nsources; i++)
		if (strcmp(rep->sources[i].name, name) == 0)
			return rep->sources[i].dsn;
	return NULL;
}

/* Report a subject's violations (diff: check_compatibility's rows) of
 * `what` ("the table's current shape", or the migrated key). */
static void
report_diff(const trib_config *cfg, trib_check_report *rep, const char *subject,
			const char *what, PGresult *diff)
{
	bool		fail = cfg->schemas.on_incompatible == TRIB_SCHEMAS_FAIL;

	if (PQntuples(diff) == 0)
	{
		trib_check_report_say(rep, "  subject %s: %s is compatible", subject, what);
		return;
	}
	trib_check_report_say(rep, "  subject %s: %s is incompatible "
						  "(%d violation(s))%s", subject, what, PQntuples(diff),
						  fail ? "; under on_incompatible: fail `run` stops before its "
						  "first event: change the table or the subject's level "
						  "(tributary.set_compatibility)" : "");
	for (int i = 0; i < PQntuples(diff); i++)
		trib_check_report_say(rep, "    against version %s: %s at %s: %s",
							  PQgetvalue(diff, i, 0), PQgetvalue(diff, i, 1),
							  PQgetvalue(diff, i, 2), PQgetvalue(diff, i, 3));
	rep->problems += fail;
}

/* Check schema text doc against subject on the catalog and report it as
 * `what`; false when the query failed (said and counted). */
static bool
check_doc(const trib_config *cfg, trib_check_report *rep, PGconn *catalog,
		  const char *subject, const char *doc, const char *type, const char *what)
{
	const char *p[] = {subject, doc, type};
	PGresult   *diff = trib_check_report_pg_query(rep, catalog, "check_compatibility",
												  diff_sql, 3, p);

	if (diff != NULL)
		report_diff(cfg, rep, subject, what, diff);
	PQclear(diff);
	return diff != NULL;
}

/* With schemas.keys under the subject's migration mg: the key `run`
 * registers, the migrated relation's, against the key subject. */
static void
check_migrated_key(const trib_config *cfg, trib_check_report *rep, PGconn *src,
				   PGconn *catalog, const trib_migrate_subject *mg, const trib_check_table *t,
				   const char *subject, const trib_check_plan_inputs *in, const char *type)
{
	char	   *key_subject = trib_schema_key_subject(subject);
	char	   *doc = trib_schema_check_migrated_key(mg, rep, src, t->schema, t->table,
												 subject, in, schemas_format(cfg));

	if (doc != NULL)
		check_doc(cfg, rep, catalog, key_subject, doc, type,
				  "after migration rules, the migrated table's key");
	free(doc);
	free(key_subject);
}

/* One part of a table (key: its key subject, "<subject>-key"): its shape
 * from the source, its violations from the catalog.  For the value, a
 * subject with a migration then gets the plan and, with schemas.keys,
 * the migrated key; true when it has a migration (its own key is then
 * not what `run` registers). */
static bool
check_part(const trib_config *cfg, trib_check_report *rep, PGconn *src, PGconn *catalog,
		   const trib_migrate *mig, const trib_check_table *t, const char *type, bool key)
{
	const char *p1[] = {t->schema, t->table, type, key ? "key" : "value"};
	PGresult   *shape;
	const trib_migrate_subject *mg = NULL;

	shape = trib_check_report_pg_query(rep, src, key ? "the table's key shape" :
									   "the table's shape", shape_sql, 4, p1);
	if (shape != NULL && PQntuples(shape) == 1)
	{
		const char *doc = PQgetvalue(shape, 0, 0);
		char	   *value = trib_config_topic_expand(cfg->schemas.subject, NULL, t->source,
													 PQgetvalue(shape, 0, 1), t->schema, t->table);
		char	   *subject = key ? trib_schema_key_subject(value) : trib_xstrdup(value);

		mg = key ? NULL : trib_migrate_find(mig, subject);
		if (check_doc(cfg, rep, catalog, subject, doc, type, "the table's current shape") &&
			mg != NULL)
		{
			trib_check_plan_inputs in;

			if (trib_schema_check_migration(mg, rep, catalog, src, t->schema, t->table, subject,
											doc, type, &in) &&
				cfg->schemas.keys)
				check_migrated_key(cfg, rep, src, catalog, mg, t, subject, &in, type);
			free(in.doc);
		}
		free(value);
		free(subject);
	}
	PQclear(shape);
	return mg != NULL;
}

/* One table: its value subject, and its key subject under schemas.keys
 * (the migrated key under a migration, with the value's lines). */
static void
check_table(const trib_config *cfg, trib_check_report *rep, PGconn *catalog,
			const trib_migrate *mig, const trib_check_table *t, const char *type)
{
	const char *dsn = source_dsn(rep, t->source);
	PGconn	   *src = dsn ? trib_check_report_pg_open(dsn) : NULL;

	if (src != NULL && PQstatus(src) == CONNECTION_OK &&
		!check_part(cfg, rep, src, catalog, mig, t, type, false) && cfg->schemas.keys)
		check_part(cfg, rep, src, catalog, mig, t, type, true);
	if (src != NULL)
		PQfinish(src);
}

/* See schema_stage.h. */
void
trib_schema_check(const trib_config *cfg, trib_check_report *rep)
{
	const char *type = trib_sr_format_name(schemas_format(cfg));
	PGconn	   *catalog;
	trib_migrate *mig = NULL;
	char		err[512];

	if (!cfg->schemas.enabled)
		return;
	trib_check_report_say(rep, "schemas (registry catalog)");
	if ((catalog = trib_check_report_pg_connect(rep, "database",
												trib_schema_stage_dsn(cfg))) == NULL)
		return;
	if (!trib_migrate_new(&cfg->schemas, &mig, err, sizeof(err)))
	{
		trib_check_report_say(rep, "  migrations: %s", err);
		rep->problems++;
	}
	for (size_t i = 0; i < rep->ntables; i++)
		check_table(cfg, rep, catalog, mig, &rep->tables[i], type);
	if (rep->ntables == 0)
		trib_check_report_say(rep, "  no captured table is known (a source was not reached)");
	trib_migrate_free(mig);
	PQfinish(catalog);
}
