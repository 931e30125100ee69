/*
 * debezium_types.c: which Debezium encoding a column gets, from its SQL
 * type (see debezium.h).
 *
 * Design.  The PostgreSQL source's relation records carry each column's
 * format_type text ("numeric(12,2)", "timestamp(3) without time zone",
 * "text[]"), which holds everything the encodings depend on: the kind,
 * the fractional-second precision (time.precision.mode adaptive), the
 * numeric scale (Decimal vs VariableScaleDecimal) and whether it is an
 * array.  A domain is mapped by its final base type, which the relation
 * record names too (trib_column.base_type), as Debezium's "Domain types"
 * has it; an enum stays TRIB_DBZ_ASIS (its label is the value) and its
 * schema is io.debezium.data.Enum with the labels the record lists
 * (debezium_schema.c).  Types are matched by name, so extension types (hstore) whose
 * OIDs differ between databases are found too; a schema-qualified name
 * ("public.hstore") matches on its last part.  Everything not listed is
 * TRIB_DBZ_ASIS: the plugin already writes it as Debezium does (integers,
 * floats, booleans, and the text-like types: uuid, xml, inet, ranges,
 * enums, ltree, ...).
 *
 * Other sources plug in through the mapper table at the bottom: MySQL's
 * mapper is in debezium_mysql.c.  MongoDB events have no columns to map:
 * the envelope (envelope_record.c, envelope_source.c) hands them to
 * debezium_mongo.c.
 */
#include "debezium.h"

#include <stdlib.h>
#include <string.h>

/* The kinds found by a type name's prefix (before any "(" or "[]"). */
typedef struct name_kind
{
	const char *name;
	trib_dbz_kind kind;
} name_kind;

static const name_kind pg_kinds[] = {
	{"numeric", TRIB_DBZ_NUMERIC},
	{"money", TRIB_DBZ_MONEY},
	{"bit varying", TRIB_DBZ_BITS},
	{"bit", TRIB_DBZ_BIT1},		/* bit(n > 1) becomes BITS below */
	{"bytea", TRIB_DBZ_BYTEA},
	{"jsonb", TRIB_DBZ_JSONB},
	{"json", TRIB_DBZ_JSON},
	{"hstore", TRIB_DBZ_HSTORE},
	{"point", TRIB_DBZ_POINT},
	{"date", TRIB_DBZ_DATE},
	{"timestamp", TRIB_DBZ_TIMESTAMP},	/* "with time zone": TZ below */
	{"time", TRIB_DBZ_TIME},
	{"interval", TRIB_DBZ_INTERVAL},
	{NULL, TRIB_DBZ_ASIS}
};

/* The number after the first '(' of s, or def. */
static int
paren_number(const char *s, int def)
{
	const char *p = strchr(s, '(');

	return p ? atoi(p + 1) : def;
}

/* True when the type name is exactly name, or name followed by '(' or
 * ' ' (a modifier or "without time zone") or '[' (an array). */
static bool
name_is(const char *type, const char *name)
{
	size_t		n = strlen(name);

	return strncmp(type, name, n) == 0 &&
		(type[n] == '\0' || type[n] == '(' || type[n] == ' ' ||
		 type[n] == '[');
}

/* See debezium.h. */
void
trib_dbz_pg_coltype(const trib_column *col, trib_dbz_coltype *out)
{
	const char *type = trib_dbz_pg_type(col);
	const char *dot = strrchr(type, '.');
	size_t		len;

	memset(out, 0, sizeof(*out));
	out->precision = -1;
	out->scale = -1;
	if (dot && strchr(type, '(') == NULL)
		type = dot + 1;			/* "public.hstore" */
	len = strlen(type);
	out->array = len > 2 && strcmp(type + len - 2, "[]") == 0;
	for (const name_kind *k = pg_kinds; k->name; k++)
	{
		if (!name_is(type, k->name))
			continue;
		out->kind = k->kind;
		break;
	}
	switch (out->kind)
	{
		case TRIB_DBZ_NUMERIC:
			if (strchr(type, '('))
				out->scale = strchr(type, ',') ? atoi(strchr(type, ',') + 1) : 0;
			break;
		case TRIB_DBZ_BIT1:
			if (paren_number(type, 1) > 1)
				out->kind = TRIB_DBZ_BITS;
			break;
		case TRIB_DBZ_TIME:
		case TRIB_DBZ_TIMESTAMP:
			out->precision = paren_number(type, -1);
			if (strstr(type, "with time zone") && !strstr(type, "without"))
				out->kind = out->kind == TRIB_DBZ_TIME ? TRIB_DBZ_TIMETZ
					: TRIB_DBZ_TIMESTAMPTZ;
			/* a ZonedTimestamp has exactly the column's fraction digits,
			 * 6 when it declares none (debezium.h, trib_dbz_zoned) */
			if (out->kind == TRIB_DBZ_TIMESTAMPTZ)
				out->precision = paren_number(type, 6);
			break;
		default:
			break;
	}
}

/* The connectors with a Debezium mode. */
static const struct
{
	const char *connector;
	trib_dbz_mapper mapper;
}			mappers[] = {
	{"postgresql", trib_dbz_pg_coltype},
	{"mysql", trib_dbz_my_coltype},	/* debezium_mysql.c */
	/* "mongodb": none (documents are strings: debezium_mongo.c) */
	{NULL, NULL}
};

/* See debezium.h. */
trib_dbz_mapper
trib_dbz_mapper_for(const char *connector)
{
	if (connector == NULL)
		return trib_dbz_pg_coltype;
	for (int i = 0; mappers[i].connector; i++)
		if (strcmp(mappers[i].connector, connector) == 0)
			return mappers[i].mapper;
	return NULL;
}
