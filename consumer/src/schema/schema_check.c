/*
 * schema_check.c: the schema stage's part of `tributary check`
 * (schema_stage.h): for every table a source would capture, the table's
 * current shape against its subject in the registry, with every
 * violation the subject's level finds.  This is the diff that stops a
 * pipeline under `on_incompatible: fail`, and it stays visible until the
 * user fixes the table or the level.
 *
 * Design.  The shape is built inside the source's database by
 * tributary.table_schema() (the same mapping the stage applies to
 * relation records) and checked on the registry's catalog by
 * tributary.check_compatibility(), so check and run agree.  Read-only,
 * with bound parameters, on short-lived connections with the check's
 * timeout (check_report.h).  Under `fail` an incompatible shape counts as
 * a problem, since `run` would stop there; under warn and quarantine it
 * is only reported.
 */
#include "schema_stage.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "check_report.h"
#include "tribsr.h"

static const char shape_sql[] =
	"SELECT tributary.table_schema(c.oid, $3)::text, pg_catalog.current_database()"
	"  FROM pg_catalog.pg_class AS c"
	"  JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
	" WHERE n.nspname OPERATOR(pg_catalog.=) $1 AND c.relname OPERATOR(pg_catalog.=) $2";

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

/* One table: its shape from the source, its violations from the catalog. */
static void
check_table(const trib_config *cfg, trib_check_report *rep, PGconn *catalog,
			const trib_check_table *t, const char *type)
{
	const char *dsn = source_dsn(rep, t->source);
	const char *p1[] = {t->schema, t->table, type};
	PGconn	   *src = dsn ? trib_check_report_pg_open(dsn) : NULL;
	PGresult   *shape = NULL,
			   *diff = NULL;
	char	   *subject = NULL;

	if (src != NULL && PQstatus(src) == CONNECTION_OK)
		shape = trib_check_report_pg_query(rep, src, "the table's shape", shape_sql, 3, p1);
	if (shape != NULL && PQntuples(shape) == 1)
	{
		const char *p2[3];

		subject = trib_topic_expand(cfg->schemas.subject, NULL, t->source,
									PQgetvalue(shape, 0, 1), t->schema, t->table);
		p2[0] = subject;
		p2[1] = PQgetvalue(shape, 0, 0);
		p2[2] = type;
		diff = trib_check_report_pg_query(rep, catalog, "check_compatibility", diff_sql, 3, p2);
	}
	if (diff != NULL && PQntuples(diff) == 0)
		trib_check_report_say(rep, "  subject %s: the table's current shape is compatible",
							  subject);
	else if (diff != NULL)
	{
		bool		fail = cfg->schemas.on_incompatible == TRIB_SCHEMAS_FAIL;

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
	PQclear(shape);
	PQclear(diff);
	if (src != NULL)
		PQfinish(src);
	free(subject);
}

/* See schema_stage.h. */
void
trib_schema_check(const trib_config *cfg, trib_check_report *rep)
{
	const char *type = trib_sr_format_name(cfg->schemas.format == 1 ? TRIB_SR_AVRO : TRIB_SR_JSON);
	PGconn	   *catalog;

	if (!cfg->schemas.enabled)
		return;
	trib_check_report_say(rep, "schemas (registry catalog)");
	if ((catalog = trib_check_report_pg_connect(rep, "database",
												trib_schema_stage_dsn(cfg))) == NULL)
		return;
	for (size_t i = 0; i < rep->ntables; i++)
		check_table(cfg, rep, catalog, &rep->tables[i], type);
	if (rep->ntables == 0)
		trib_check_report_say(rep, "  no captured table is known (a source was not reached)");
	PQfinish(catalog);
}
