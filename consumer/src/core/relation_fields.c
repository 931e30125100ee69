/*
 * relation_fields.c: a relation's columns as libtribsr fields (see
 * relation_fields.h).
 *
 * One recursive walk: fields_of() types each column (type_of_column) and
 * marks its key; a shaped jsonb column's object is the walk again over its
 * properties (a relation of their own, relation.h), keyless and named by its
 * path.
 */
#include "relation_fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool fields_of(const trib_relation *rel, const char *connector, bool shapes,
					  bool has_pk, const char *path, trib_sr_field **out,
					  char *errbuf, size_t errlen);

/* See relation_fields.h. */
void
trib_relation_fields_free(trib_sr_field *fields, size_t n)
{
	for (size_t i = 0; fields != NULL && i < n; i++)
	{
		if (fields[i].type.kind == TRIB_SR_K_COMPOSITE)
		{
			trib_relation_fields_free((trib_sr_field *) fields[i].type.fields,
									  fields[i].type.nfields);
			free((char *) fields[i].type.name);
		}
		trib_sr_type_release(&fields[i].type);
	}
	free(fields);
}

/* Column c's type (and *nullable): its source type's (the connector's
 * mapping), or with shapes for an inferred jsonb column (relation.h fields,
 * items) an object of its properties, or an array of its items' type. */
static bool
type_of_column(const trib_column *c, const char *connector, bool shapes, const char *path,
			   trib_sr_type *t, bool *nullable, char *errbuf, size_t errlen)
{
	bool		shaped = shapes && c->type != NULL && strcmp(c->type, "jsonb") == 0 &&
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
		if (!fields_of(c->fields, connector, shapes, false, name, &sub, errbuf, errlen))
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

/* The fields of rel's columns below `path` (NULL: the top), keys marked
 * by has_pk; false with a message. */
static bool
fields_of(const trib_relation *rel, const char *connector, bool shapes, bool has_pk,
		  const char *path, trib_sr_field **out, char *errbuf, size_t errlen)
{
	size_t		n = rel->ncolumns > 0 ? (size_t) rel->ncolumns : 0;
	trib_sr_field *fields = calloc(n ? n : 1, sizeof(*fields));
	char		e[256];

	if (fields == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
	{
		const trib_column *c = &rel->columns[i];

		if (!type_of_column(c, connector, shapes, path, &fields[i].type,
							&fields[i].nullable, e, sizeof(e)))
		{
			snprintf(errbuf, errlen, "column %s: %s", c->name, e);
			trib_relation_fields_free(fields, i + 1);
			return false;
		}
		fields[i].name = c->name;
		fields[i].key = has_pk ? c->pk : c->identity;
	}
	*out = fields;
	return true;
}

/* See relation_fields.h. */
bool
trib_relation_fields(const trib_relation *rel, const char *connector, bool shapes,
					 trib_sr_field **out, char *errbuf, size_t errlen)
{
	bool		has_pk = false;

	for (int i = 0; i < rel->ncolumns; i++)
		has_pk = has_pk || rel->columns[i].pk;
	return fields_of(rel, connector, shapes, has_pk, NULL, out, errbuf, errlen);
}
