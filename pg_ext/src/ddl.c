/*-------------------------------------------------------------------------
 *
 * ddl.c
 *		Which decoded relation is the extension's DDL log.
 *
 * The extension's event trigger (sql/tributary--0.3--0.4.sql) inserts one
 * row into tributary.ddl_events per DDL command, in the transaction of the
 * command, so the row is decoded at the command's exact position.  Only
 * the extension's owner can write that table.  The plugin never writes
 * those rows as row changes: with include-ddl they become "ddl" records,
 * otherwise nothing, and either way they take no sequence number, so the
 * ids and output of every other change are what they were before the DDL
 * log existed.
 *
 * A table of that name counts only when it is the tributary extension's own
 * member: a user's table called ddl_events in a schema called tributary
 * (possible when the extension is not installed) is an ordinary table.
 * The check reads pg_namespace, pg_depend and pg_extension, system catalogs
 * a decoding plugin may read, and runs only for relations of that name,
 * once per relation cache entry (relcache.c keeps the verdict).
 *
 *-------------------------------------------------------------------------
 */
#include "tributary.h"

#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "commands/extension.h"
#include "utils/lsyscache.h"

/* Is rel the tributary extension's tributary.ddl_events? */
bool
trib_is_ddl_log(Relation rel)
{
	char	   *nsp;
	char	   *ext;
	Oid			extoid;
	bool		match;

	if (strcmp(RelationGetRelationName(rel), TRIB_DDL_LOG_TABLE) != 0)
		return false;
	nsp = get_namespace_name(RelationGetNamespace(rel));
	match = nsp != NULL && strcmp(nsp, TRIB_DDL_LOG_SCHEMA) == 0;
	if (nsp)
		pfree(nsp);
	if (!match)
		return false;
	extoid = getExtensionOfObject(RelationRelationId, RelationGetRelid(rel));
	if (!OidIsValid(extoid))
		return false;
	ext = get_extension_name(extoid);
	match = ext != NULL && strcmp(ext, "tributary") == 0;
	if (ext)
		pfree(ext);
	return match;
}
