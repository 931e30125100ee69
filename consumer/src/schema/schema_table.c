/*
 * schema_table.c: a relation's schema, through libtribsr.
 *
 * Each source describes its columns in its own type names, and the
 * event's connector says which: PostgreSQL's format_type() text
 * ("numeric(12,2)", "character varying(20)[]"; MongoDB's inferred
 * relations use the same names), read by trib_sr_pg_type() with no typmod
 * and the dimensions from the name, so the schema matches what
 * tributary.table_schema() builds inside the database for the same table;
 * MySQL's DATA_TYPE with its COLUMN_TYPE (trib_column.decl), read by
 * trib_sr_mysql_type() (tribsr.h, trib_sr_source_type).  The key is
 * the primary key, else the replica identity key, as in the extension;
 * the key schema (schemas.keys) has those columns only.
 */
#include "schema_int.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* The schema of rel's part (rows or key) in format fmt. */
static trib_sr_schema *
relation_part(const trib_relation *rel, const char *connector, trib_sr_format fmt,
			  trib_sr_table_part part, char *errbuf, size_t errlen)
{
	size_t		n = rel->ncolumns > 0 ? (size_t) rel->ncolumns : 0;
	trib_sr_field *fields = calloc(n ? n : 1, sizeof(*fields));
	trib_sr_table table;
	trib_sr_schema *schema = NULL;
	char		e[256];
	bool		has_pk = false;

	if (fields == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		has_pk = has_pk || rel->columns[i].pk;
	for (size_t i = 0; i < n; i++)
	{
		const trib_column *c = &rel->columns[i];

		if (!trib_sr_source_type(connector, c->type, c->decl, c->nullable, &fields[i].type,
								 &fields[i].nullable, e, sizeof(e)))
		{
			snprintf(errbuf, errlen, "table %s.%s, column %s: %s", rel->schema, rel->table,
					 c->name, e);
			goto done;
		}
		fields[i].name = c->name;
		fields[i].key = has_pk ? c->pk : c->identity;
	}
	table.namespace_ = rel->schema;
	table.name = rel->table;
	table.fields = fields;
	table.nfields = n;
	schema = trib_sr_table_schema(&table, fmt, part, e, sizeof(e));
	if (schema == NULL)
		snprintf(errbuf, errlen, "table %s.%s: %s", rel->schema, rel->table, e);
done:
	for (size_t i = 0; i < n; i++)
		trib_sr_type_release(&fields[i].type);
	free(fields);
	return schema;
}

trib_sr_schema *
trib_schema_of_relation(const trib_relation *rel, const char *connector, trib_sr_format fmt,
						char *errbuf, size_t errlen)
{
	return relation_part(rel, connector, fmt, TRIB_SR_VALUE, errbuf, errlen);
}

bool
trib_schema_has_key(const trib_relation *rel)
{
	for (int i = 0; i < rel->ncolumns; i++)
		if (rel->columns[i].pk || rel->columns[i].identity)
			return true;
	return false;
}

trib_sr_schema *
trib_schema_of_key(const trib_relation *rel, const char *connector, trib_sr_format fmt,
				   char *errbuf, size_t errlen)
{
	return relation_part(rel, connector, fmt, TRIB_SR_KEY, errbuf, errlen);
}
