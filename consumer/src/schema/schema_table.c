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
 * The columns' fields come from core/relation_fields.c, shared with the
 * Kafka sink's Avro encoder.
 *
 * A migrated relation is held to its target version field by field
 * (trib_schema_same_fields): both documents in canonical form, each
 * field's subschema (JSON Schema: its property and whether it is
 * required; Avro: its field object) compared as text; the table's name
 * and title are not compared (the bytes of a row do not carry them), nor
 * a field's annotations (Avro: doc, default, aliases, order; JSON Schema:
 * title, description, default, examples, $comment).
 */
#include "schema_int.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsondoc.h"
#include "relation_fields.h"
#include "words.h"
#include "xalloc.h"

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

	if (!trib_relation_fields(rel, connector, true, &fields, e, sizeof(e)))
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
	trib_relation_fields_free(fields, n);
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

char *
trib_schema_key_subject(const char *subject)
{
	char	   *key = trib_xmalloc(strlen(subject) + sizeof("-key"));

	strcpy(key, subject);
	strcat(key, "-key");
	return key;
}

trib_sr_schema *
trib_schema_of_key(const trib_relation *rel, const char *connector, trib_sr_format fmt,
				   char *errbuf, size_t errlen)
{
	return relation_part(rel, connector, fmt, TRIB_SR_KEY, errbuf, errlen);
}

/* A document's canonical form parsed as a tree; NULL with errbuf. */
static yajl_val
canonical_tree(trib_sr_format fmt, const char *text, char *errbuf, size_t errlen)
{
	trib_sr_schema *sr = trib_sr_schema_parse(fmt, text, strlen(text), errbuf, errlen);
	yajl_val	v = sr ? trib_jdoc_parse(trib_sr_schema_canonical(sr, NULL), errbuf, errlen) : NULL;

	trib_sr_schema_free(sr);
	return v;
}

/* Is name among the strings of the array req? */
static bool
listed(yajl_val req, const char *name)
{
	for (size_t i = 0; YAJL_IS_ARRAY(req) && i < req->u.array.len; i++)
		if (YAJL_IS_STRING(req->u.array.values[i]) &&
			strcmp(req->u.array.values[i]->u.string, name) == 0)
			return true;
	return false;
}

/* Remove the members of object obj named in list (NULL-terminated). */
static void
drop_members(yajl_val obj, const char *const *list)
{
	size_t		kept = 0;

	for (size_t i = 0; YAJL_IS_OBJECT(obj) && i < obj->u.object.len; i++)
	{
		const char *k = obj->u.object.keys[i];

		if (trib_words_find_span(list, k, strlen(k)) >= 0)
		{
			free((char *) k);
			yajl_tree_free(obj->u.object.values[i]);
			continue;
		}
		obj->u.object.keys[kept] = k;
		obj->u.object.values[kept++] = obj->u.object.values[i];
	}
	if (YAJL_IS_OBJECT(obj))
		obj->u.object.len = kept;
}

/* Field i of doc (fields: the document's properties or Avro fields) as
 * text (malloc'd): its subschema without the annotations that change
 * neither the bytes written nor what a value may be (a target registered
 * by a client often has them), and for JSON Schema ", required" when it
 * is; *name its name.  NULL past the last field. */
static char *
field_text(yajl_val doc, size_t i, const char **name)
{
	const char *ppath[] = {"properties", NULL};
	const char *rpath[] = {"required", NULL};
	const char *fpath[] = {"fields", NULL};
	const char *npath[] = {"name", NULL};
	static const char *const json_notes[] = {"title", "description", "default", "examples",
	"$comment", NULL};
	static const char *const avro_notes[] = {"doc", "default", "aliases", "order", NULL};
	yajl_val	props = yajl_tree_get(doc, ppath, yajl_t_object);
	yajl_val	fields = yajl_tree_get(doc, fpath, yajl_t_array);
	yajl_val	nm;
	char	   *sub;
	char	   *out;

	if (props != NULL)
	{
		if (i >= props->u.object.len)
			return NULL;
		*name = props->u.object.keys[i];
		drop_members(props->u.object.values[i], json_notes);
		sub = trib_jdoc_dump(props->u.object.values[i]);
		if (!listed(yajl_tree_get(doc, rpath, yajl_t_array), *name))
			return sub;
		out = trib_xmalloc(strlen(sub) + sizeof(", required"));
		strcpy(out, sub);
		strcat(out, ", required");
		free(sub);
		return out;
	}
	if (fields == NULL || i >= fields->u.array.len)
		return NULL;
	nm = yajl_tree_get(fields->u.array.values[i], npath, yajl_t_string);
	*name = nm ? nm->u.string : "";
	drop_members(fields->u.array.values[i], avro_notes);
	return trib_jdoc_dump(fields->u.array.values[i]);
}

/* See schema_int.h. */
int
trib_schema_same_fields(const trib_relation *rel, const char *connector, trib_sr_format fmt,
						const char *target, const char *target_name, char *errbuf,
						size_t errlen)
{
	trib_sr_schema *mine = trib_schema_of_relation(rel, connector, fmt, errbuf, errlen);
	yajl_val	a = mine ? trib_jdoc_parse(trib_sr_schema_canonical(mine, NULL), errbuf, errlen)
		: NULL;
	yajl_val	b = a ? canonical_tree(fmt, target, errbuf, errlen) : NULL;
	int			same = b != NULL ? 1 : -1;

	for (size_t i = 0; same > 0; i++)
	{
		const char *an = NULL;
		const char *bn = NULL;
		char	   *at = field_text(a, i, &an);
		char	   *bt = field_text(b, i, &bn);

		if (at == NULL && bt == NULL)
		{
			free(at);
			free(bt);
			break;
		}
		if (at == NULL || bt == NULL || strcmp(an, bn) != 0)
			snprintf(errbuf, errlen, "field %s is where %s has %s", an ? an : "(none)",
					 target_name, bn ? bn : "(none)");
		else if (strcmp(at, bt) != 0)
			snprintf(errbuf, errlen, "field %s is %.200s but %.200s in %s", an, at, bt,
					 target_name);
		if (at == NULL || bt == NULL || strcmp(an, bn) != 0 || strcmp(at, bt) != 0)
			same = 0;
		free(at);
		free(bt);
	}
	yajl_tree_free(a);
	yajl_tree_free(b);
	trib_sr_schema_free(mine);
	return same;
}
