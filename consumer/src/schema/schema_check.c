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
 * shape to the target (schema_check_migrate.c), and the key subject is
 * checked on the table's key before the steps (see the doc's section 7).
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

/* The dsn of the source named `name` in the report, or NULL. */
static const char *
source_dsn(const trib_check_report *rep, const char *name)
{
	for (size_t i = 0; i < rep->nsources; i++)
		if (strcmp(rep->sources[i].name, name) == 0)
			return rep->sources[i].dsn;
	return NULL;
}

/* Report a subject's violations (diff: check_compatibility's rows). */
static void
report_diff(const trib_config *cfg, trib_check_report *rep, const char *subject,
			PGresult *diff)
{
	bool		fail = cfg->schemas.on_incompatible == TRIB_SCHEMAS_FAIL;

	if (PQntuples(diff) == 0)
	{
		trib_check_report_say(rep, "  subject %s: the table's current shape is compatible",
							  subject);
		return;
	}
	trib_check_report_say(rep, "  subject %s: the table's current shape is incompatible "
						  "(%d violation(s))%s", subject, PQntuples(diff),
						  fail ? "; under on_incompatible: fail `run` stops before its "
						  "first event: change the table or the subject's level "
						  "(tributary.set_compatibility)" : "");
	for (int i = 0; i < PQntuples(diff); i++)
		trib_check_report_say(rep, "    against version %s: %s at %s: %s",
							  PQgetvalue(diff, i, 0), PQgetvalue(diff, i, 1),
							  PQgetvalue(diff, i, 2), PQgetvalue(diff, i, 3));
	rep->problems += fail;
}

/* One part of a table (key: its key subject, "<subject>-key"): its shape
 * from the source, its violations from the catalog. */
static void
check_part(const trib_config *cfg, trib_check_report *rep, PGconn *src, PGconn *catalog,
		   const trib_migrator *mig, const trib_check_table *t, const char *type, bool key)
{
	const char *p1[] = {t->schema, t->table, type, key ? "key" : "value"};
	PGresult   *shape,
			   *diff = NULL;
	char	   *subject = NULL;

	shape = trib_check_report_pg_query(rep, src, key ? "the table's key shape" :
									   "the table's shape", shape_sql, 4, p1);
	if (shape != NULL && PQntuples(shape) == 1)
	{
		const char *p2[3];
		char	   *value = trib_topic_expand(cfg->schemas.subject, NULL, t->source,
											  PQgetvalue(shape, 0, 1), t->schema, t->table);

		subject = trib_xmalloc(strlen(value) + sizeof("-key"));
		strcpy(subject, value);
		if (key)
			strcat(subject, "-key");
		free(value);
		p2[0] = subject;
		p2[1] = PQgetvalue(shape, 0, 0);
		p2[2] = type;
		diff = trib_check_report_pg_query(rep, catalog, "check_compatibility", diff_sql, 3, p2);
	}
	if (diff != NULL)
		report_diff(cfg, rep, subject, diff);
	if (diff != NULL && !key && trib_migrator_find(mig, subject) != NULL)
		trib_schema_check_migration(trib_migrator_find(mig, subject), rep, catalog, subject,
									PQgetvalue(shape, 0, 0), type);
	PQclear(shape);
	PQclear(diff);
	free(subject);
}

/* One table: its value subject, and its key subject under schemas.keys. */
static void
check_table(const trib_config *cfg, trib_check_report *rep, PGconn *catalog,
			const trib_migrator *mig, const trib_check_table *t, const char *type)
{
	const char *dsn = source_dsn(rep, t->source);
	PGconn	   *src = dsn ? trib_check_report_pg_open(dsn) : NULL;

	if (src != NULL && PQstatus(src) == CONNECTION_OK)
	{
		check_part(cfg, rep, src, catalog, mig, t, type, false);
		if (cfg->schemas.keys)
			check_part(cfg, rep, src, catalog, mig, t, type, true);
	}
	if (src != NULL)
		PQfinish(src);
}

/* See schema_stage.h. */
void
trib_schema_check(const trib_config *cfg, trib_check_report *rep)
{
	const char *type = trib_sr_format_name(cfg->schemas.format == 1 ? TRIB_SR_AVRO : TRIB_SR_JSON);
	PGconn	   *catalog;
	trib_migrator *mig = NULL;
	char		err[512];

	if (!cfg->schemas.enabled)
		return;
	trib_check_report_say(rep, "schemas (registry catalog)");
	if ((catalog = trib_check_report_pg_connect(rep, "database",
												trib_schema_stage_dsn(cfg))) == NULL)
		return;
	if (!trib_migrator_new(&cfg->schemas, &mig, err, sizeof(err)))
	{
		trib_check_report_say(rep, "  migrations: %s", err);
		rep->problems++;
	}
	for (size_t i = 0; i < rep->ntables; i++)
		check_table(cfg, rep, catalog, mig, &rep->tables[i], type);
	if (rep->ntables == 0)
		trib_check_report_say(rep, "  no captured table is known (a source was not reached)");
	trib_migrator_free(mig);
	PQfinish(catalog);
}
