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
 * the key schema (schemas.keys) has those columns only.  A jsonb column
 * of an inferred schema (MongoDB's, event.h fields and items) is described
 * by its shape: an object of its properties, or an array of its items.
 */
#include "schema_int.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool fields_of(const trib_relation *rel, const char *connector, bool has_pk,
					  const char *path, trib_sr_field **out, char *errbuf, size_t errlen);

/* Free fields built by fields_of (n of them), nested ones and the names
 * of their objects included. */
static void
fields_free(trib_sr_field *fields, size_t n)
{
	for (size_t i = 0; fields != NULL && i < n; i++)
	{
		if (fields[i].type.kind == TRIB_SR_K_COMPOSITE)
		{
			fields_free((trib_sr_field *) fields[i].type.fields, fields[i].type.nfields);
			free((char *) fields[i].type.name);
		}
		trib_sr_type_release(&fields[i].type);
	}
	free(fields);
}

/* Column c's type (and *nullable): its source type's (the connector's
 * mapping), or for an inferred jsonb column (event.h fields, items) an
 * object of its properties, or an array of its items' type.  An object is
 * named by its path from the top ("addr", "addr_geo"), so that Avro's
 * record names stay apart. */
static bool
type_of_column(const trib_column *c, const char *connector, const char *path,
			   trib_sr_type *t, bool *nullable, char *errbuf, size_t errlen)
{
	bool		shaped = c->type != NULL && strcmp(c->type, "jsonb") == 0 &&
		(c->fields != NULL || c->items != NULL);
	const char *elem = c->items != NULL && c->items[0] != '\0' ? c->items : "jsonb";
	trib_sr_field *sub = NULL;

	*nullable = c->nullable;
	if (!shaped)
		return trib_sr_source_type(connector, c->type, c->decl, c->nullable, t, nullable,
								   errbuf, errlen);
	if (c->fields != NULL)
	{
		char	   *name = malloc((path ? strlen(path) : 0) + strlen(c->name) + 2);

		if (name == NULL)
			abort();
		sprintf(name, "%s%s%s", path ? path : "", path ? "_" : "", c->name);
		if (!fields_of(c->fields, connector, false, name, &sub, errbuf, errlen))
		{
			free(name);
			return false;
		}
		memset(t, 0, sizeof(*t));
		t->kind = TRIB_SR_K_COMPOSITE;
		t->name = name;
		t->fields = sub;
		t->nfields = (size_t) c->fields->ncolumns;
	}
	else if (!trib_sr_pg_type(elem, -1, 0, t, errbuf, errlen))
		return false;
	t->ndims = c->items != NULL ? 1 : 0;
	return true;
}

/* The fields of rel's columns (nested ones for inferred objects), into
 * *out (fields_free); false with a message. */
static bool
fields_of(const trib_relation *rel, const char *connector, bool has_pk, const char *path,
		  trib_sr_field **out, char *errbuf, size_t errlen)
{
	size_t		n = rel->ncolumns > 0 ? (size_t) rel->ncolumns : 0;
	trib_sr_field *fields = calloc(n ? n : 1, sizeof(*fields));
	char		e[256];

	if (fields == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
	{
		const trib_column *c = &rel->columns[i];

		if (!type_of_column(c, connector, path, &fields[i].type, &fields[i].nullable,
							e, sizeof(e)))
		{
			snprintf(errbuf, errlen, "column %s: %s", c->name, e);
			fields_free(fields, i + 1);
			return false;
		}
		fields[i].name = c->name;
		fields[i].key = has_pk ? c->pk : c->identity;
	}
	*out = fields;
	return true;
}

/* The schema of rel's part (rows or key) in format fmt. */
static trib_sr_schema *
relation_part(const trib_relation *rel, const char *connector, trib_sr_format fmt,
			  trib_sr_table_part part, char *errbuf, size_t errlen)
{
	size_t		n = rel->ncolumns > 0 ? (size_t) rel->ncolumns : 0;
	trib_sr_field *fields = NULL;
	trib_sr_table table;
	trib_sr_schema *schema = NULL;
	char		e[512];
	bool		has_pk = false;

	for (size_t i = 0; i < n; i++)
		has_pk = has_pk || rel->columns[i].pk;
	if (!fields_of(rel, connector, has_pk, NULL, &fields, e, sizeof(e)))
	{
		snprintf(errbuf, errlen, "table %s.%s, %s", rel->schema, rel->table, e);
		return NULL;
	}
	table.namespace_ = rel->schema;
	table.name = rel->table;
	table.fields = fields;
	table.nfields = n;
	schema = trib_sr_table_schema(&table, fmt, part, e, sizeof(e));
	if (schema == NULL)
		snprintf(errbuf, errlen, "table %s.%s: %s", rel->schema, rel->table, e);
	fields_free(fields, n);
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
