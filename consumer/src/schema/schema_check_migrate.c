/*
 * schema_check_migrate.c: `tributary check` under a subject's migration
 * (`schemas.migrations`, schema_migrate.h): what `run` does with the
 * table's current shape after registering it, said before it runs.
 *
 * Design.  `run` checks and registers the table's own shape (the
 * unmigrated one) against its subject, as schema_check.c does for every
 * subject; then, at the first event of that shape, it plans the
 * migration from that shape's version to the target and stops when the
 * steps do not give exactly the target's fields.  Here the same plan is
 * made from the same inputs: the shape's version (the registered one
 * with its fingerprint, else the next, which `run` would register), the
 * target (pinned, or `latest`: the newest version once the shape is
 * registered) and the target's fields from the catalog.  The steps that
 * apply are listed ("after migration rules: rename memo -> note"); a
 * refused plan is a problem whatever on_incompatible says, since `run`
 * stops there.  The catalog is only read.
 */
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "check_report.h"
#include "schema_int.h"
#include "schema_migrate.h"
#include "xalloc.h"

/* The version registered with the shape's fingerprint (NULL when none),
 * and the subject's newest version (NULL when none). */
static const char versions_sql[] =
	"SELECT (SELECT v.version FROM tributary.schema_versions AS v,"
	"               tributary.schema_canonical($2, $3::jsonb) AS c"
	"         WHERE v.subject OPERATOR(pg_catalog.=) $1"
	"           AND v.schema_type OPERATOR(pg_catalog.=) $2"
	"           AND v.fingerprint OPERATOR(pg_catalog.=) c.fingerprint"
	"         ORDER BY v.version LIMIT 1),"
	"       (SELECT pg_catalog.max(v.version) FROM tributary.schema_versions AS v"
	"         WHERE v.subject OPERATOR(pg_catalog.=) $1"
	"           AND v.schema_type OPERATOR(pg_catalog.=) $2)";

static const char target_sql[] =
	"SELECT v.schema FROM tributary.schema_versions AS v"
	" WHERE v.subject OPERATOR(pg_catalog.=) $1"
	"   AND v.schema_type OPERATOR(pg_catalog.=) $2"
	"   AND v.version OPERATOR(pg_catalog.=) $3::integer";

/* A relation with the shape's fields as its columns (what the steps read:
 * names); false with errbuf when the shape has no field list. */
static bool
shape_relation(const char *shape, trib_relation *rel, char *errbuf, size_t errlen)
{
	char	  **fields;
	size_t		n;

	memset(rel, 0, sizeof(*rel));
	if (!trib_migrate_schema_fields(shape, &fields, &n, errbuf, errlen))
		return false;
	rel->columns = trib_xcalloc(n + 1, sizeof(trib_column));
	for (size_t i = 0; i < n; i++)
	{
		rel->columns[i].name = fields[i];
		rel->columns[i].type = trib_xstrdup("text");
		rel->columns[i].nullable = true;
	}
	rel->ncolumns = (int) n;
	free(fields);
	return true;
}

/* The target version's schema text (malloc'd): the shape itself when the
 * target is the version the shape would become; NULL with errbuf as
 * `run` says it when the target is not registered. */
static char *
target_doc(trib_check_report *rep, PGconn *catalog, const char *subject, const char *shape,
		   const char *type, int32_t to, bool is_new_shape, char *errbuf, size_t errlen)
{
	char		v[16];
	const char *p[] = {subject, type, v};
	PGresult   *r;
	char	   *doc = NULL;

	if (is_new_shape)
		return trib_xstrdup(shape);
	snprintf(v, sizeof(v), "%d", (int) to);
	r = trib_check_report_pg_query(rep, catalog, "the migration's target", target_sql, 3, p);
	if (r != NULL && PQntuples(r) == 1)
		doc = trib_xstrdup(PQgetvalue(r, 0, 0));
	else if (r != NULL)
		snprintf(errbuf, errlen, "subject %s: the migration's target version %d is not "
				 "registered (accepted: a version tributary.schema_versions lists for the "
				 "subject, or latest)", subject, (int) to);
	else
		errbuf[0] = '\0';		/* said and counted by the query */
	PQclear(r);
	return doc;
}

/* Plan from -> to as `run` would, and say the steps or the refusal. */
static void
report_plan(trib_check_report *rep, const trib_migration *mg, const char *subject,
			const char *shape, const char *doc, int32_t from, int32_t to, bool is_new_shape)
{
	char		err[512] = "";
	char		steps[512];
	char	  **fields = NULL;
	size_t		n = 0;
	trib_relation rel;
	trib_migrate_plan *plan = NULL;

	if (shape_relation(shape, &rel, err, sizeof(err)) &&
		trib_migrate_schema_fields(doc, &fields, &n, err, sizeof(err)))
		plan = trib_migrate_plan_new(mg, &rel, from, to, fields, n, err, sizeof(err));
	if (plan == NULL)
	{
		trib_check_report_say(rep, "  subject %s: after migration rules: %s; `run` stops "
							  "before the first event of this shape, whatever "
							  "on_incompatible says", subject, err);
		rep->problems++;
	}
	else if (from == to)
		trib_check_report_say(rep, "  subject %s: after migration rules: none apply (the "
							  "table's shape is the migration's target, version %d)",
							  subject, (int) to);
	else
	{
		trib_migrate_plan_describe(plan, steps, sizeof(steps));
		trib_check_report_say(rep, "  subject %s: after migration rules: %s (the table's "
							  "shape, version %d%s, is published as version %d)", subject,
							  steps[0] ? steps : "none", (int) from,
							  is_new_shape ? " when registered" : "", (int) to);
	}
	trib_migrate_plan_free(plan);
	trib_migrate_fields_free(fields, n);
	trib_relation_clear(&rel);
}

/* See schema_int.h. */
void
trib_schema_check_migration(const trib_migration *mg, trib_check_report *rep,
							PGconn *catalog, const char *subject, const char *shape,
							const char *type)
{
	const char *p[] = {subject, type, shape};
	PGresult   *r = trib_check_report_pg_query(rep, catalog, "the subject's versions",
											   versions_sql, 3, p);
	int32_t		found,
				newest,
				from,
				to;
	char		err[512];
	char	   *doc;

	if (r == NULL || PQntuples(r) != 1)
	{
		PQclear(r);
		return;
	}
	found = PQgetisnull(r, 0, 0) ? 0 : (int32_t) atoi(PQgetvalue(r, 0, 0));
	newest = PQgetisnull(r, 0, 1) ? 0 : (int32_t) atoi(PQgetvalue(r, 0, 1));
	PQclear(r);
	from = found > 0 ? found : newest + 1;
	to = trib_migration_target(mg);
	if (to == 0)
		to = found > 0 ? newest : from;
	doc = target_doc(rep, catalog, subject, shape, type, to, found == 0 && to == from,
					 err, sizeof(err));
	if (doc != NULL)
		report_plan(rep, mg, subject, shape, doc, from, to, found == 0);
	else if (err[0] != '\0')
	{
		trib_check_report_say(rep, "  subject %s: after migration rules: %s; `run` stops "
							  "before the first event of this shape", subject, err);
		rep->problems++;
	}
	free(doc);
}
