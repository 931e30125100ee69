/*-------------------------------------------------------------------------
 *
 * registry_table.c
 *		tributary.table_schema(rel, schema_type, part): the JSON Schema or
 *		Avro schema of a table's rows or keys, built by libtribsr from the
 *		table's columns, the same mapping the daemon applies to relation
 *		records (docs/SCHEMA_REGISTRY.md, section 1).
 *
 * Each column is described by its base type (domains are stripped, as the
 * plugin writes domain values as their base type) printed by
 * format_type_extended with its typmod, which trib_sr_pg_type() reads;
 * NOT NULL, and membership of the key: the primary key, else the replica
 * identity index.  Enum labels and composite attributes are not looked
 * up: such columns are described by their type name (a string).
 *
 * Memory: the column descriptions are palloc'd; the library's schema is
 * freed in a PG_FINALLY block once its document is copied into a jsonb.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/sysattr.h"
#include "catalog/pg_class.h"
#include "fmgr.h"
#include "nodes/bitmapset.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"

#include "registry.h"

PG_FUNCTION_INFO_V1(trib_table_schema);

/* VALUE or KEY from the part argument, or an ERROR. */
static trib_sr_table_part
part_arg(text *name)
{
	char	   *s = text_to_cstring(name);

	if (pg_strcasecmp(s, "value") == 0)
		return TRIB_SR_VALUE;
	if (pg_strcasecmp(s, "key") == 0)
		return TRIB_SR_KEY;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("tributary: unknown table schema part \"%s\"", s),
			 errhint("Accepted parts: value, key.")));
}

/* The key columns: the primary key, else the replica identity index. */
static Bitmapset *
key_columns(Relation rel)
{
	Bitmapset  *key = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_PRIMARY_KEY);

	if (key == NULL)
		key = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_IDENTITY_KEY);
	return key;
}

/* Fill fields[] with the live columns of rel; returns how many. */
static size_t
describe_columns(Relation rel, trib_sr_field *fields)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Bitmapset  *key = key_columns(rel);
	char		err[SR_ERRLEN];
	size_t		n = 0;
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		int32		typmod = att->atttypmod;
		Oid			base;
		char	   *type_name;
		trib_sr_field *f = &fields[n];

		if (att->attisdropped)
			continue;
		base = getBaseTypeAndTypmod(att->atttypid, &typmod);
		type_name = format_type_extended(base, typmod, FORMAT_TYPE_TYPEMOD_GIVEN);
		if (!trib_sr_pg_type(type_name, typmod, att->attndims, &f->type,
							 err, sizeof(err)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("tributary: column \"%s\" of type %s: %s",
							NameStr(att->attname), type_name, err)));
		f->name = NameStr(att->attname);
		f->nullable = !att->attnotnull;
		f->key = bms_is_member(att->attnum - FirstLowInvalidHeapAttributeNumber,
							   key);
		n++;
	}
	return n;
}

/*
 * table_schema(rel regclass, schema_type text, part text) RETURNS jsonb:
 * the canonical document of the table's row (part 'value') or key ('key')
 * schema.
 */
Datum
trib_table_schema(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	trib_sr_format fmt = trib_registry_format_arg(PG_GETARG_TEXT_PP(1));
	trib_sr_table_part part = part_arg(PG_GETARG_TEXT_PP(2));
	Relation	rel = relation_open(relid, AccessShareLock);
	trib_sr_table table;
	trib_sr_field *fields;
	trib_sr_schema *s;
	char		err[SR_ERRLEN];
	Datum		result = (Datum) 0;

	if (rel->rd_rel->relkind != RELKIND_RELATION &&
		rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("tributary: \"%s\" is not a table",
						RelationGetRelationName(rel))));
	fields = palloc0(sizeof(trib_sr_field) * (RelationGetDescr(rel)->natts + 1));
	table.namespace_ = get_namespace_name(RelationGetNamespace(rel));
	table.name = RelationGetRelationName(rel);
	table.fields = fields;
	table.nfields = describe_columns(rel, fields);

	s = trib_sr_table_schema(&table, fmt, part, err, sizeof(err));
	if (s == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tributary: no %s schema for table \"%s\": %s",
						trib_sr_format_name(fmt), table.name, err)));
	PG_TRY();
	{
		result = DirectFunctionCall1(jsonb_in,
									 CStringGetDatum(trib_sr_schema_canonical(s, NULL)));
	}
	PG_FINALLY();
	{
		trib_sr_schema_free(s);
	}
	PG_END_TRY();
	relation_close(rel, AccessShareLock);
	PG_RETURN_DATUM(result);
}
