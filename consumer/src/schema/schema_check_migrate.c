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
 * registered) and the target's fields from the catalog, read once per
 * table (trib_check_plan_inputs) for the value's plan and, below, the
 * key's.  The steps that
 * apply are listed ("after migration rules: rename memo -> note"); a
 * refused plan is a problem whatever on_incompatible says, since `run`
 * stops there.  `run` also stops when a field of the planned relation
 * has another schema than the target's (a type changed with no cast
 * back): that plan is made again from the table's own columns, as the
 * plugin describes them, and compared as `run` compares it.  The catalog
 * is only read.
 *
 * The key.  With `schemas.keys`, `run` then registers the key of the
 * migrated relation (schema_stage.c resolve_key), not the table's own
 * key, so a step that renames, drops or casts a key column changes it.
 * The plan needs the columns' types and key flags for that, which the
 * shape's field names do not carry: the table's columns are read from
 * the source's catalog as the plugin's relation record describes them
 * (format_type with the typmod, NOT NULL, the primary key and the replica
 * identity key), the same plan is made on them, and the key of its
 * relation is built by the code `run` uses (trib_schema_of_key).  A
 * refused plan was said on the value's line: `run` stops before the key.
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
	if (!trib_migrate_fields(shape, &fields, &n, errbuf, errlen))
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

/* Plan from -> to as `run` would, and say the steps or the refusal;
 * true when the plan was made. */
static bool
report_plan(trib_check_report *rep, const trib_migrate_subject *mg, const char *subject,
			const char *shape, const char *doc, int32_t from, int32_t to, bool is_new_shape)
{
	char		err[512] = "";
	char		steps[512];
	char	  **fields = NULL;
	size_t		n = 0;
	trib_relation rel;
	trib_migrate_plan *plan = NULL;

	if (shape_relation(shape, &rel, err, sizeof(err)) &&
		trib_migrate_fields(doc, &fields, &n, err, sizeof(err)))
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
	return plan != NULL;
}

static bool table_relation(trib_check_report *rep, PGconn *src, const char *schema,
						   const char *table, trib_relation *rel);

/* The plan made from the table's own columns (src): are its fields the
 * target's, types included, as `run` requires (schema_stage.c)?  Said and
 * counted as a problem when not. */
static void
report_types(trib_check_report *rep, const trib_migrate_subject *mg, PGconn *src,
			 const char *schema, const char *table, const char *subject, const char *type,
			 const trib_check_plan_inputs *in)
{
	trib_sr_format fmt = strcmp(type, trib_sr_format_name(TRIB_SR_AVRO)) == 0 ? TRIB_SR_AVRO
		: TRIB_SR_JSON;
	char		err[512];
	char		target[32];
	char	  **fields = NULL;
	size_t		n = 0;
	trib_relation rel;
	trib_migrate_plan *plan = NULL;

	if (!table_relation(rep, src, schema, table, &rel))
		return;
	if (trib_migrate_fields(in->doc, &fields, &n, err, sizeof(err)))
		plan = trib_migrate_plan_new(mg, &rel, in->from, in->to, fields, n, err, sizeof(err));
	snprintf(target, sizeof(target), "version %d", (int) in->to);
	if (plan != NULL &&
		trib_schema_same_fields(trib_migrate_plan_relation(plan), "postgresql", fmt, in->doc,
								target, err, sizeof(err)) == 0)
	{
		trib_check_report_say(rep, "  subject %s: after migration rules, %s; `run` stops "
							  "before the first event of this shape, whatever "
							  "on_incompatible says", subject, err);
		rep->problems++;
	}
	trib_migrate_plan_free(plan);
	trib_migrate_fields_free(fields, n);
	trib_relation_clear(&rel);
}

/* The plan's inputs for shape as `run` finds them; false when the
 * catalog does not give them, errbuf saying why ("" when a query said it,
 * counted). */
static bool
find_inputs(trib_check_report *rep, PGconn *catalog, const trib_migrate_subject *mg,
			const char *subject, const char *shape, const char *type, trib_check_plan_inputs *in,
			char *errbuf, size_t errlen)
{
	const char *p[] = {subject, type, shape};
	PGresult   *r = trib_check_report_pg_query(rep, catalog, "the subject's versions",
											   versions_sql, 3, p);
	int32_t		found,
				newest;

	errbuf[0] = '\0';
	in->doc = NULL;
	if (r == NULL || PQntuples(r) != 1)
	{
		PQclear(r);
		return false;
	}
	found = PQgetisnull(r, 0, 0) ? 0 : (int32_t) atoi(PQgetvalue(r, 0, 0));
	newest = PQgetisnull(r, 0, 1) ? 0 : (int32_t) atoi(PQgetvalue(r, 0, 1));
	PQclear(r);
	in->from = found > 0 ? found : newest + 1;
	in->to = trib_migrate_target(mg);
	if (in->to == 0)
		in->to = found > 0 ? newest : in->from;
	in->is_new_shape = found == 0;
	in->doc = target_doc(rep, catalog, subject, shape, type, in->to,
						 found == 0 && in->to == in->from, errbuf, errlen);
	return in->doc != NULL;
}

/* See schema_int.h. */
bool
trib_schema_check_migration(const trib_migrate_subject *mg, trib_check_report *rep,
							PGconn *catalog, PGconn *src, const char *schema,
							const char *table, const char *subject, const char *shape,
							const char *type, trib_check_plan_inputs *in)
{
	char		err[512];

	if (find_inputs(rep, catalog, mg, subject, shape, type, in, err, sizeof(err)))
	{
		if (report_plan(rep, mg, subject, shape, in->doc, in->from, in->to,
						in->is_new_shape) && in->from != in->to)
			report_types(rep, mg, src, schema, table, subject, type, in);
		return true;
	}
	if (err[0] != '\0')
	{
		trib_check_report_say(rep, "  subject %s: after migration rules: %s; `run` stops "
							  "before the first event of this shape", subject, err);
		rep->problems++;
	}
	return false;
}

/* The table's columns as the plugin's relation record describes them:
 * name, type with its typmod, NOT NULL, primary key, replica identity key
 * (the primary key under REPLICA IDENTITY DEFAULT, the index under USING
 * INDEX, none under FULL or NOTHING). */
static const char columns_sql[] =
	"SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,"
	"       coalesce(a.attnum OPERATOR(pg_catalog.=) ANY (pk.indkey), false),"
	"       CASE c.relreplident"
	"         WHEN 'd' THEN coalesce(a.attnum OPERATOR(pg_catalog.=) ANY (pk.indkey), false)"
	"         WHEN 'i' THEN coalesce(a.attnum OPERATOR(pg_catalog.=) ANY (ri.indkey), false)"
	"         ELSE false END,"
	"       a.atttypid"
	"  FROM pg_catalog.pg_class AS c"
	"  JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
	"  JOIN pg_catalog.pg_attribute AS a ON a.attrelid OPERATOR(pg_catalog.=) c.oid"
	"  LEFT JOIN pg_catalog.pg_index AS pk ON pk.indrelid OPERATOR(pg_catalog.=) c.oid"
	"       AND pk.indisprimary"
	"  LEFT JOIN pg_catalog.pg_index AS ri ON ri.indrelid OPERATOR(pg_catalog.=) c.oid"
	"       AND ri.indisreplident"
	" WHERE n.nspname OPERATOR(pg_catalog.=) $1 AND c.relname OPERATOR(pg_catalog.=) $2"
	"   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
	" ORDER BY a.attnum";

/* The table schema.table of the source src as a relation; false (said and
 * counted by the query) when it cannot be read. */
static bool
table_relation(trib_check_report *rep, PGconn *src, const char *schema, const char *table,
			   trib_relation *rel)
{
	const char *p[] = {schema, table};
	PGresult   *r = trib_check_report_pg_query(rep, src, "the table's columns", columns_sql,
											   2, p);

	memset(rel, 0, sizeof(*rel));
	if (r == NULL)
		return false;
	rel->schema = trib_xstrdup(schema);
	rel->table = trib_xstrdup(table);
	rel->columns = trib_xcalloc((size_t) PQntuples(r) + 1, sizeof(trib_column));
	for (int i = 0; i < PQntuples(r); i++)
	{
		trib_column *c = &rel->columns[rel->ncolumns++];

		c->name = trib_xstrdup(PQgetvalue(r, i, 0));
		c->type = trib_xstrdup(PQgetvalue(r, i, 1));
		c->nullable = PQgetvalue(r, i, 2)[0] != 't';
		c->pk = PQgetvalue(r, i, 3)[0] == 't';
		c->identity = PQgetvalue(r, i, 4)[0] == 't';
		c->type_oid = (uint32_t) strtoul(PQgetvalue(r, i, 5), NULL, 10);
	}
	PQclear(r);
	return true;
}

/* The key schema of the migration's relation for rel (canonical text,
 * malloc'd), as `run` builds it; NULL when the plan is refused (the
 * value's line says so) or the relation has no key, or with a line said
 * and counted when its schema cannot be built. */
static char *
migrated_key_doc(trib_check_report *rep, const trib_migrate_subject *mg, const trib_relation *rel,
				 const char *key_subject, const trib_check_plan_inputs *in, trib_sr_format fmt)
{
	char		err[512];
	char	  **fields = NULL;
	size_t		n = 0;
	trib_migrate_plan *plan = NULL;
	trib_sr_schema *schema = NULL;
	char	   *doc = NULL;

	if (trib_migrate_fields(in->doc, &fields, &n, err, sizeof(err)))
		plan = trib_migrate_plan_new(mg, rel, in->from, in->to, fields, n, err, sizeof(err));
	if (plan != NULL && trib_schema_has_key(trib_migrate_plan_relation(plan)))
		schema = trib_schema_of_key(trib_migrate_plan_relation(plan), "postgresql", fmt, err,
									sizeof(err));
	if (schema != NULL)
		doc = trib_xstrdup(trib_sr_schema_canonical(schema, NULL));
	else if (plan != NULL && trib_schema_has_key(trib_migrate_plan_relation(plan)))
	{
		trib_check_report_say(rep, "  subject %s: after migration rules: %s; `run` stops "
							  "before the first event of this shape", key_subject, err);
		rep->problems++;
	}
	trib_sr_schema_free(schema);
	trib_migrate_plan_free(plan);
	trib_migrate_fields_free(fields, n);
	return doc;
}

/* See schema_int.h. */
char *
trib_schema_check_migrated_key(const trib_migrate_subject *mg, trib_check_report *rep,
							   PGconn *src, const char *schema, const char *table,
							   const char *subject, const trib_check_plan_inputs *in,
							   trib_sr_format fmt)
{
	trib_relation rel;
	char	   *key_subject = trib_schema_key_subject(subject);
	char	   *doc = NULL;

	if (table_relation(rep, src, schema, table, &rel))
	{
		doc = migrated_key_doc(rep, mg, &rel, key_subject, in, fmt);
		trib_relation_clear(&rel);
	}
	free(key_subject);
	return doc;
}
