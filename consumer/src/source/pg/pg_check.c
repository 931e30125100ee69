/*
 * pg_check.c: `tributary check` for a PostgreSQL source (pg_check.h), the
 * source's optional `check` operation (source.h).
 *
 * Design.  One short-lived connection with the check's timeout
 * (check_report.h), read-only catalog queries with bound parameters, and
 * indented lines on the report under the heading cli/check.c prints: the
 * server (wal_level, the extension), the slot (plugin, confirmed
 * position, lag), where two-phase would spill, and every table the
 * source's include_tables / exclude_tables capture (the tables the stream
 * names, as the snapshot lists them: plain tables and partitions, or,
 * with the plugin option publish-via-root, plain tables and partition
 * roots), matched with the
 * plugin's own pattern rules (trib_snaptab_pattern_match, the snapshot's
 * matcher: "schema.table" globs, '*' and '?', double-quoted parts
 * literal) and never the extension's catalog.  The captured tables are
 * recorded in the report, for the sinks' checks and the rules' column
 * check; after each table's lines the report's on_table hook lets the CLI
 * add what it knows (strict mode).  The source's dsn is recorded too, for
 * the checks that read its catalog again; it is never printed.
 */
#include "pg_check.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "catalog.h"
#include "check_report.h"
#include "pg_source_conf.h"
#include "snapshot_tables.h"
#include "source_pg.h"

/* Is schema.table captured under the source's filters?  Never the
 * extension's own tables (catalog.h): they are never data. */
static bool
captured(const trib_pg_source_conf *pg, const char *schema, const char *table)
{
	bool		bad = false;

	return !trib_snaptab_pattern_match(TRIB_CATALOG_PATTERN, schema, table, &bad) &&
		trib_pg_source_captures(pg, schema, table);
}

/* wal_level and the extension. */
static void
check_server(trib_check_report *rep, PGconn *conn)
{
	PGresult   *r = trib_check_report_pg_query(rep, conn, "server",
						  "SELECT current_setting('wal_level'), "
						  "(SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'tributary'), "
						  "(SELECT count(*) FROM pg_catalog.pg_available_extensions WHERE name = 'tributary')",
						  0, NULL);

	if (r == NULL)
		return;
	if (strcmp(PQgetvalue(r, 0, 0), "logical") == 0)
		trib_check_report_say(rep, "  wal_level: logical");
	else
	{
		trib_check_report_say(rep, "  wal_level: %s (logical decoding needs wal_level = logical)",
							  PQgetvalue(r, 0, 0));
		rep->problems++;
	}
	if (!PQgetisnull(r, 0, 1))
		trib_check_report_say(rep, "  extension tributary: installed, version %s",
							  PQgetvalue(r, 0, 1));
	else
		trib_check_report_say(rep, "  extension tributary: not installed in this database%s",
							  strcmp(PQgetvalue(r, 0, 2), "0") == 0 ? " (nor available on the server)" :
							  " (available; `checkpoint.store: catalog` and `create_extension` need it)");
	PQclear(r);
}

/*
 * two-phase: where held prepared transactions spill.  A slot with
 * two-phase enabled and the option off is fine, but worth a note: turning
 * the option on later loses transactions prepared meanwhile and still
 * open (CONFIG.md).
 */
static void
check_two_phase(trib_check_report *rep, const trib_pg_source_conf *pg, bool slot_two_phase)
{
	const char *dir = pg->prepared_spill_dir ? pg->prepared_spill_dir :
		trib_pg_default_spill_dir();
	struct stat st;

	if (!pg->two_phase)
	{
		if (slot_two_phase)
			trib_check_report_say(rep, "    note: the slot has two-phase enabled and plugin option "
								  "two-phase is off: prepared transactions are decoded at COMMIT "
								  "PREPARED; turn it on only while no transaction is prepared");
		return;
	}
	trib_check_report_say(rep, "  two-phase: prepared transactions are held until COMMIT PREPARED "
						  "(%d MiB in memory, then spill files in %s) and dropped at ROLLBACK "
						  "PREPARED", pg->prepared_buffer_mb, dir);
	errno = 0;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0)
	{
		trib_check_report_say(rep, "    spill directory %s: not a writable directory (%s)", dir,
							  errno ? strerror(errno) : "not a directory");
		rep->problems++;
	}
}

/* The slot: exists? plugin, confirmed position, lag.  Returns whether it
 * has two-phase enabled. */
static bool
check_slot(trib_check_report *rep, PGconn *conn, const trib_pg_source_conf *pg)
{
	const char *params[1] = {pg->slot};
	PGresult   *r = trib_check_report_pg_query(rep, conn, "slot",
						  "SELECT plugin, slot_type, database, active, confirmed_flush_lsn, "
						  "pg_catalog.pg_size_pretty(pg_catalog.pg_wal_lsn_diff("
						  "pg_catalog.pg_current_wal_lsn(), confirmed_flush_lsn)), "
						  "current_database(), two_phase "
						  "FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
						  1, params);
	bool		slot_two_phase = false;

	if (r == NULL)
		return false;
	if (PQntuples(r) == 0)
	{
		trib_check_report_say(rep, "  slot %s: does not exist; %s", pg->slot,
							  pg->create_slot ? "`run` creates it (create_slot: true)"
							  : "`run` would fail (create_slot: false)");
		rep->problems += !pg->create_slot;
	}
	else
	{
		bool		ours = strcmp(PQgetvalue(r, 0, 0), "tributary") == 0 &&
			strcmp(PQgetvalue(r, 0, 1), "logical") == 0 &&
			strcmp(PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 6)) == 0;

		trib_check_report_say(rep, "  slot %s: exists, %s slot of plugin %s in database %s, %s, "
							  "confirmed up to %s, %s behind the current WAL position", pg->slot,
							  PQgetvalue(r, 0, 1), PQgetisnull(r, 0, 0) ? "(none)" : PQgetvalue(r, 0, 0),
							  PQgetisnull(r, 0, 2) ? "(none)" : PQgetvalue(r, 0, 2),
							  strcmp(PQgetvalue(r, 0, 3), "t") == 0 ? "in use" : "not in use",
							  PQgetisnull(r, 0, 4) ? "(unknown)" : PQgetvalue(r, 0, 4),
							  PQgetisnull(r, 0, 5) ? "(unknown)" : PQgetvalue(r, 0, 5));
		if (!ours)
		{
			trib_check_report_say(rep, "    not usable: the pipeline needs a logical slot of "
								  "plugin tributary in this database");
			rep->problems++;
		}
		slot_two_phase = strcmp(PQgetvalue(r, 0, 7), "t") == 0;
	}
	PQclear(r);
	return slot_two_phase;
}

/* The replica identity's word. */
static const char *
replident_word(char ri)
{
	return ri == 'd' ? "default" : ri == 'f' ? "full" : ri == 'i' ? "index" : "nothing";
}

/* Is the plugin option publish-via-root on (a bare option means on)?
 * Then the stream names a partition's rows after its root. */
static bool
via_root(const trib_pg_source_conf *pg)
{
	bool		on = false;

	for (size_t i = 0; i < pg->plugin_options.count; i++)
		if (strcmp(pg->plugin_options.items[i].key, "publish-via-root") == 0 &&
			!trib_pg_option_bool(pg->plugin_options.items[i].value, &on))
			on = false;
	return on;
}

/* The tables the filters match, with columns, key and replica identity:
 * the tables the stream names, as the snapshot lists them
 * (snapshot_tables.c): plain tables and partitions, or, with
 * publish-via-root, plain tables and partition roots. */
static void
check_tables(trib_check_report *rep, PGconn *conn, const char *source,
			 const trib_pg_source_conf *pg)
{
	const char *root[] = {via_root(pg) ? "true" : "false"};
	PGresult   *r = trib_check_report_pg_query(rep, conn, "tables",
						  "SELECT n.nspname, c.relname, c.relkind, c.relreplident, "
						  "(SELECT string_agg(pg_catalog.quote_ident(a.attname) || ' ' || "
						  "  pg_catalog.format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) "
						  "  FROM pg_catalog.pg_attribute a "
						  "  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), "
						  "(SELECT string_agg(pg_catalog.quote_ident(a.attname), ', ' "
						  "  ORDER BY pg_catalog.array_position(i.indkey::int2[], a.attnum)) "
						  "  FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a "
						  "  ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
						  "  WHERE i.indrelid = c.oid AND i.indisprimary), "
						  "(SELECT string_agg(a.attname, E'\\x1f' ORDER BY a.attnum) "
						  "  FROM pg_catalog.pg_attribute a "
						  "  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) "
						  "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
						  "ON n.oid = c.relnamespace "
						  "WHERE CASE WHEN $1::bool THEN c.relkind IN ('r', 'p') "
						  "  AND NOT c.relispartition ELSE c.relkind = 'r' END "
						  "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
						  "AND n.nspname !~ '^pg_(toast|temp)' ORDER BY 1, 2",
						  1, root);

	if (r == NULL)
		return;
	rep->tables_known = true;
	for (int i = 0; i < PQntuples(r); i++)
		if (captured(pg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1)))
			trib_check_report_add_table(rep, source, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
										PQgetisnull(r, i, 6) ? NULL : PQgetvalue(r, i, 6));
	trib_check_report_say(rep, "  tables captured: %zu%s", rep->ntables,
						  pg->include_tables.count || pg->exclude_tables.count
						  ? " (include_tables / exclude_tables applied)" : " (every table: no filters)");
	for (int i = 0; i < PQntuples(r); i++)
	{
		const char *schema = PQgetvalue(r, i, 0);
		const char *table = PQgetvalue(r, i, 1);
		const char *ri = PQgetvalue(r, i, 3);
		bool		has_pk = !PQgetisnull(r, i, 5);

		if (!captured(pg, schema, table))
			continue;
		trib_check_report_say(rep, "    %s.%s%s: primary key %s%s%s, replica identity %s", schema,
							  table, PQgetvalue(r, i, 2)[0] == 'p' ? " (partitioned)" : "",
							  has_pk ? "(" : "none", has_pk ? PQgetvalue(r, i, 5) : "",
							  has_pk ? ")" : "", replident_word(ri[0]));
		trib_check_report_say(rep, "      columns: %s",
							  PQgetisnull(r, i, 4) ? "(none)" : PQgetvalue(r, i, 4));
		if (rep->on_table != NULL && !PQgetisnull(r, i, 6))
			rep->on_table(rep, rep->on_table_arg, source, schema, table, PQgetvalue(r, i, 6));
		if (!has_pk && ri[0] == 'd')
			trib_check_report_say(rep, "      note: no primary key and replica identity default: "
								  "updates and deletes carry no old key (consider REPLICA "
								  "IDENTITY FULL)");
	}
	PQclear(r);
}

/* See pg_check.h. */
void
trib_pg_source_check(const struct trib_plugin_conf *conf, bool erasure, trib_check_report *rep)
{
	const trib_pg_source_conf *pg = trib_pg_source_conf_of(conf);
	PGconn	   *conn;

	(void) erasure;
	trib_check_report_add_source(rep, conf->name, pg->dsn);
	conn = trib_check_report_pg_connect(rep, "database", pg->dsn);
	if (conn == NULL)
		return;
	check_server(rep, conn);
	check_two_phase(rep, pg, check_slot(rep, conn, pg));
	check_tables(rep, conn, conf->name, pg);
	PQfinish(conn);
}
