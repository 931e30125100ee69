/*
 * sr_source_type.c: which source's type mapping a column goes through
 * (trib_sr_source_type, tribsr.h).
 *
 * Each source describes its columns in its own type names: PostgreSQL's
 * format_type text (and MongoDB's inferred relations, which use the same
 * names), MySQL's DATA_TYPE with the full COLUMN_TYPE beside it.  The
 * daemon's schema stage and its Avro writer both ask here, so that the
 * schema registered for a table and the bytes written against it come
 * from one mapping.
 */
#include <string.h>

#include "sr_int.h"

/* See tribsr.h. */
bool
trib_sr_source_type(const char *connector, const char *type, const char *decl,
					bool nullable_in, trib_sr_type *out, bool *nullable,
					char *errbuf, size_t errlen)
{
	bool		zero_null = false;

	*nullable = nullable_in;
	if (connector != NULL && strcmp(connector, "mysql") == 0)
	{
		if (!trib_sr_mysql_type(type ? type : "text", decl, out, &zero_null, errbuf, errlen))
			return false;
		*nullable = nullable_in || zero_null;
		return true;
	}
	return trib_sr_pg_type(type ? type : "text", -1, 0, out, errbuf, errlen);
}
