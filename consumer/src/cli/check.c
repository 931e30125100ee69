/*
 * check.c: the connected part of `tributary check` (see check.h).
 *
 * Design.  One function per system (source, checkpoint store, erasure),
 * each opening its own short-lived connection with a connect timeout,
 * running read-only catalog queries with bound parameters, and printing
 * indented lines on the report (check_report.h).  The tables the source
 * would capture are listed from pg_class and filtered here with the
 * plugin's pattern rules (pg_ext/src/options.c: "schema.table" globs, '*'
 * and '?', double-quoted parts literal) and recorded in the report.  Each
 * sink reports through its own optional check() operation (sink.h), in
 * its folder, found through its registered type: this file knows no sink
 * type; the Postgres sink's check looks for the recorded tables in its
 * target schema.  Every error text goes through trib_log_redact(),
 * which masks what the config registered as secret (passwords of every
 * dsn, secret Kafka properties); connection strings themselves are never
 * printed, only host, port and database of an established connection.
 */
#include "check.h"

#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "catalog.h"
#include "check_report.h"
#include "jpath.h"
#include "log.h"
#include "pg_source_conf.h"
#include "registry.h"
#include "rules.h"
#include "sink.h"
#include "source.h"
#include "source_pg.h"
#include "strbuf.h"

typedef struct check_ctx
{
	trib_check_report rep;		/* lines, problems, captured tables */
	const trib_config *cfg;
	trib_rules *rules;			/* strict mode: which columns have a rule */
	const char *source;			/* the source being reported */
	int			bad_rules;		/* rules naming columns no table has */
} check_ctx;

/* One line of the report, redacted. */
__attribute__((format(printf, 2, 3)))
static void
say(check_ctx *c, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	trib_check_report_vsay(&c->rep, fmt, ap);
	va_end(ap);
}

/* ---- table patterns ---------------------------------------------------- */

/* One part of a pattern up to an unquoted dot; *literal when quoted.
 * Returns the part (malloc'd) and advances *pp; NULL when malformed. */
static char *
pattern_part(const char **pp, bool *literal)
{
	const char *p = *pp;
	trib_strbuf b = {0};

	*literal = *p == '"';
	if (*literal)
	{
		for (p++;; p++)
		{
			if (*p == '\0')
				goto bad;
			if (*p == '"' && p[1] == '"')
				p++;
			else if (*p == '"')
				break;
			trib_strbuf_addc(&b, *p);
		}
		p++;
		if (*p != '\0' && *p != '.')
			goto bad;
	}
	else
		for (; *p && *p != '.'; p++)
		{
			if (*p == '"')
				goto bad;
			trib_strbuf_addc(&b, *p);
		}
	if (b.len == 0)
		goto bad;
	*pp = p;
	return trib_strbuf_finish(&b);
bad:
	free(trib_strbuf_finish(&b));
	return NULL;
}

/* '*' any run, '?' one character; literal: equality. */
static bool
glob(const char *pat, const char *s, bool literal)
{
	const char *star = NULL,
			   *back = NULL;

	if (literal)
		return strcmp(pat, s) == 0;
	while (*s)
	{
		if (*pat == '*')
		{
			star = pat++;
			back = s;
		}
		else if (*pat == '?' || *pat == *s)
		{
			pat++;
			s++;
		}
		else if (star)
		{
			pat = star + 1;
			s = ++back;
		}
		else
			return false;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

bool
trib_check_pattern_match(const char *pattern, const char *schema, const char *table)
{
	const char *p = pattern;
	bool		lit_s,
				lit_t,
				ok;
	char	   *ps = pattern_part(&p, &lit_s);
	char	   *pt = NULL;

	if (ps != NULL && *p == '.')
	{
		p++;
		pt = pattern_part(&p, &lit_t);
	}
	ok = ps && pt && *p == '\0' && glob(ps, schema, lit_s) && glob(pt, table, lit_t);
	free(ps);
	free(pt);
	return ok;
}

/* Is schema.table captured under the source's filters?  Never the
 * extension's own tables (catalog.h): they are never data. */
static bool
captured(const trib_pg_source_conf *pg, const char *schema, const char *table)
{
	bool		in = pg->include_tables.count == 0;

	if (trib_check_pattern_match(TRIB_CATALOG_PATTERN, schema, table))
		return false;

	for (size_t i = 0; !in && i < pg->include_tables.count; i++)
		in = trib_check_pattern_match(pg->include_tables.items[i], schema, table);
	for (size_t i = 0; in && i < pg->exclude_tables.count; i++)
		in = !trib_check_pattern_match(pg->exclude_tables.items[i], schema, table);
	return in;
}

/* ---- the source -------------------------------------------------------- */

/* wal_level and the extension. */
static void
source_server(check_ctx *c, PGconn *conn)
{
	PGresult   *r = trib_check_report_pg_query(&c->rep, conn, "server",
						  "SELECT current_setting('wal_level'), "
						  "(SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'tributary'), "
						  "(SELECT count(*) FROM pg_catalog.pg_available_extensions WHERE name = 'tributary')",
						  0, NULL);

	if (r == NULL)
		return;
	if (strcmp(PQgetvalue(r, 0, 0), "logical") == 0)
		say(c, "  wal_level: logical");
	else
	{
		say(c, "  wal_level: %s (logical decoding needs wal_level = logical)",
			PQgetvalue(r, 0, 0));
		c->rep.problems++;
	}
	if (!PQgetisnull(r, 0, 1))
		say(c, "  extension tributary: installed, version %s", PQgetvalue(r, 0, 1));
	else
		say(c, "  extension tributary: not installed in this database%s",
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
source_two_phase(check_ctx *c, const trib_pg_source_conf *pg, bool slot_two_phase)
{
	const char *dir = pg->prepared_spill_dir ? pg->prepared_spill_dir :
		trib_pg_default_spill_dir();
	struct stat st;

	if (!pg->two_phase)
	{
		if (slot_two_phase)
			say(c, "    note: the slot has two-phase enabled and plugin option two-phase is "
				"off: prepared transactions are decoded at COMMIT PREPARED; turn it on only "
				"while no transaction is prepared");
		return;
	}
	say(c, "  two-phase: prepared transactions are held until COMMIT PREPARED "
		"(%d MiB in memory, then spill files in %s) and dropped at ROLLBACK PREPARED",
		pg->prepared_buffer_mb, dir);
	errno = 0;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0)
	{
		say(c, "    spill directory %s: not a writable directory (%s)", dir,
			errno ? strerror(errno) : "not a directory");
		c->rep.problems++;
	}
}

/* The slot: exists? plugin, confirmed position, lag.  Returns whether it
 * has two-phase enabled. */
static bool
source_slot(check_ctx *c, PGconn *conn, const trib_pg_source_conf *pg)
{
	const char *params[1] = {pg->slot};
	PGresult   *r = trib_check_report_pg_query(&c->rep, conn, "slot",
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
		say(c, "  slot %s: does not exist; %s", pg->slot,
			pg->create_slot ? "`run` creates it (create_slot: true)"
			: "`run` would fail (create_slot: false)");
		c->rep.problems += !pg->create_slot;
	}
	else
	{
		bool		ours = strcmp(PQgetvalue(r, 0, 0), "tributary") == 0 &&
			strcmp(PQgetvalue(r, 0, 1), "logical") == 0 &&
			strcmp(PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 6)) == 0;

		say(c, "  slot %s: exists, %s slot of plugin %s in database %s, %s, "
			"confirmed up to %s, %s behind the current WAL position", pg->slot,
			PQgetvalue(r, 0, 1), PQgetisnull(r, 0, 0) ? "(none)" : PQgetvalue(r, 0, 0),
			PQgetisnull(r, 0, 2) ? "(none)" : PQgetvalue(r, 0, 2),
			strcmp(PQgetvalue(r, 0, 3), "t") == 0 ? "in use" : "not in use",
			PQgetisnull(r, 0, 4) ? "(unknown)" : PQgetvalue(r, 0, 4),
			PQgetisnull(r, 0, 5) ? "(unknown)" : PQgetvalue(r, 0, 5));
		if (!ours)
		{
			say(c, "    not usable: the pipeline needs a logical slot of plugin "
				"tributary in this database");
			c->rep.problems++;
		}
		slot_two_phase = strcmp(PQgetvalue(r, 0, 7), "t") == 0;
	}
	PQclear(r);
	return slot_two_phase;
}

/* The tables the filters match, with columns, key and replica identity. */
/* Strict mode: the columns of one table that no rule decides about. */
static void
strict_report(check_ctx *c, const char *schema, const char *table, const char *names)
{
	trib_strbuf missing = {0};
	char	   *copy = trib_xstrdup(names);
	int			n = 0;

	for (char *save = NULL, *col = strtok_r(copy, "\x1f", &save); col;
		 col = strtok_r(NULL, "\x1f", &save))
		if (!trib_rules_covers(c->rules, c->source, schema, table, col))
		{
			trib_strbuf_printf(&missing, "%s%s", n++ ? ", " : "", col);
		}
	if (n > 0)
	{
		say(c, "      strict: no rule decides about %d column(s): %s (they would be "
			"replaced by null; add allow, drop or a strategy)", n, missing.data);
		c->rep.problems++;
	}
	else
		say(c, "      strict: every column has a rule");
	trib_strbuf_free(&missing);
	free(copy);
}

static void
source_tables(check_ctx *c, PGconn *conn, const trib_pg_source_conf *pg)
{
	PGresult   *r = trib_check_report_pg_query(&c->rep, conn, "tables",
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
						  "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
						  "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
						  "AND n.nspname !~ '^pg_(toast|temp)' ORDER BY 1, 2",
						  0, NULL);
	size_t		shown = 0;

	if (r == NULL)
		return;
	c->rep.tables_known = true;
	for (int i = 0; i < PQntuples(r); i++)
		if (captured(pg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1)))
			trib_check_report_add_table(&c->rep, c->source, PQgetvalue(r, i, 0),
										PQgetvalue(r, i, 1),
										PQgetisnull(r, i, 6) ? NULL : PQgetvalue(r, i, 6));
	say(c, "  tables captured: %zu%s", c->rep.ntables,
		pg->include_tables.count || pg->exclude_tables.count
		? " (include_tables / exclude_tables applied)" : " (every table: no filters)");
	for (int i = 0; i < PQntuples(r); i++)
	{
		const char *ri = PQgetvalue(r, i, 3);
		bool		has_pk = !PQgetisnull(r, i, 5);

		if (!captured(pg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1)))
			continue;
		shown++;
		say(c, "    %s.%s%s: primary key %s%s%s, replica identity %s", PQgetvalue(r, i, 0),
			PQgetvalue(r, i, 1), PQgetvalue(r, i, 2)[0] == 'p' ? " (partitioned)" : "",
			has_pk ? "(" : "none", has_pk ? PQgetvalue(r, i, 5) : "", has_pk ? ")" : "",
			ri[0] == 'd' ? "default" : ri[0] == 'f' ? "full" : ri[0] == 'i' ? "index" : "nothing");
		say(c, "      columns: %s", PQgetisnull(r, i, 4) ? "(none)" : PQgetvalue(r, i, 4));
		if (c->rules != NULL && c->cfg->strict && !PQgetisnull(r, i, 6))
			strict_report(c, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 6));
		if (!has_pk && ri[0] == 'd')
			say(c, "      note: no primary key and replica identity default: updates "
				"and deletes carry no old key (consider REPLICA IDENTITY FULL)");
	}
	PQclear(r);
}

/* The source section of the report. */
static void
check_source(check_ctx *c, const trib_source_conf *s)
{
	PGconn	   *conn;

	const trib_pg_source_conf *pg = trib_pg_source_conf_of(s);

	if (pg == NULL)
	{
		/* another source type reports through its own check (source.h) */
		say(c, "source %s (%s)", s->name, s->plugin->type);
		if (s->plugin->source_ops->check != NULL)
			s->plugin->source_ops->check(s, false, &c->rep);
		return;
	}
	say(c, "source %s (postgres)", s->name);
	c->source = s->name;
	trib_check_report_add_source(&c->rep, s->name, pg->dsn);
	conn = trib_check_report_pg_connect(&c->rep, "database", pg->dsn);
	if (conn == NULL)
		return;
	source_server(c, conn);
	source_two_phase(c, pg, source_slot(c, conn, pg));
	source_tables(c, conn, pg);
	PQfinish(conn);
}

/* ---- the checkpoint store ---------------------------------------------- */

static void
check_checkpoint(check_ctx *c, const trib_config *cfg)
{
	const trib_checkpoint_conf *cc = &cfg->checkpoint;
	const char *params[1] = {cfg->pipeline};
	PGconn	   *conn;
	PGresult   *r;

	if (cc->store == TRIB_CHECKPOINT_FILE)
	{
		struct stat st;

		say(c, "checkpoint (file %s)", cc->path);
		if (stat(cc->path, &st) == 0)
			say(c, "  exists (%lld bytes); `run` resumes from it", (long long) st.st_size);
		else
			say(c, "  does not exist yet (%s); `run` starts from the slot's position",
				strerror(errno));
		return;
	}
	say(c, "checkpoint (catalog tributary.source_checkpoints)");
	if ((conn = trib_check_report_pg_connect(&c->rep, "database", cc->dsn)) == NULL)
		return;
	r = PQexecParams(conn, "SELECT source, commit_lsn, seq, updated_at "
					 "FROM tributary.source_checkpoints WHERE pipeline = $1 ORDER BY 1",
					 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
	{
		char		e[512];

		say(c, "  cannot read it: %s (is the extension installed?)",
			trib_check_report_pg_msg(conn, e, sizeof(e)));
		c->rep.problems++;
	}
	else if (PQntuples(r) == 0)
		say(c, "  no checkpoint for pipeline %s yet; `run` starts from the slot's position",
			cfg->pipeline);
	for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r); i++)
		say(c, "  source %s: commit %s, seq %s, saved %s", PQgetvalue(r, i, 0),
			PQgetisnull(r, i, 1) ? "-" : PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
			PQgetvalue(r, i, 3));
	PQclear(r);
	PQfinish(conn);
}

/* ---- sinks ------------------------------------------------------------- */

/* A sink's heading, then whatever its own check() reports (sink.h). */
static void
check_sink(check_ctx *c, const trib_sink_conf *s)
{
	say(c, "sink %s (%s)", s->name, s->type_name);
	if (s->plugin->sink_ops->check != NULL)
		s->plugin->sink_ops->check(s, &c->rep);
}

/* Does some captured table the rule selects have a column matching the
 * path's first segment? */
static bool
column_exists(check_ctx *c, size_t rule, const char *path)
{
	trib_jpath	p;
	char		e[256];
	bool		found = false;

	if (!trib_jpath_parse(path, &p, e, sizeof(e)))
		return true;			/* the loader reported it */
	for (size_t t = 0; t < c->rep.ntables && !found; t++)
	{
		char	   *cols;

		if (!trib_rules_selects(c->rules, rule, c->rep.tables[t].source, c->rep.tables[t].schema,
								c->rep.tables[t].table))
			continue;
		cols = trib_xstrdup(c->rep.tables[t].columns);
		for (char *save = NULL, *col = strtok_r(cols, "\x1f", &save); col && !found;
			 col = strtok_r(NULL, "\x1f", &save))
			found = trib_jpath_first_matches(&p, col);
		free(cols);
	}
	trib_jpath_free(&p);
	return found;
}

/*
 * Rules naming a column that no captured table they select has: a typo
 * that would silently do nothing (or leak, for a masking rule).  These are
 * configuration errors: `check` exits 2.
 */
static void
check_rule_columns(check_ctx *c)
{
	const trib_config *cfg = c->cfg;

	if (c->rules == NULL || !c->rep.tables_known || cfg->nrules == 0)
		return;
	for (size_t i = 0; i < cfg->nrules; i++)
	{
		const trib_rule_conf *r = &cfg->rules[i];
		const char *one[1] = {r->by};
		const trib_strlist *lists[2] = {&r->fields, &r->params};

		if (r->type == TRIB_RULE_OUTBOX || r->type == TRIB_RULE_KEEP)
			continue;
		for (int l = 0; l < 2; l++)
			for (size_t j = 0; j < lists[l]->count; j++)
				if (!column_exists(c, i, lists[l]->items[j]))
				{
					fprintf(c->rep.out, "%s:%d:%d: transforms[%zu].%s: no captured table the rule "
							"selects has a column \"%s\" (the rule would do nothing)\n",
							cfg->path, r->line, r->column, i, l == 0 ? "fields" : "params",
							lists[l]->items[j]);
					c->bad_rules++;
				}
		if (one[0] && !column_exists(c, i, one[0]))
		{
			fprintf(c->rep.out, "%s:%d:%d: transforms[%zu].by: no captured table the rule selects "
					"has a column \"%s\"\n", cfg->path, r->line, r->column, i, one[0]);
			c->bad_rules++;
		}
	}
}

/* One erasure target: the table exists, has a key and is readable. */
static void
check_erasure_target(check_ctx *c, PGconn *conn, const char *target)
{
	const char *d1 = strchr(target, '.');
	const char *d2 = strrchr(target, '.');
	char	   *schema = trib_xstrndup(target, (size_t) (d1 - target));
	char	   *table = trib_xstrndup(d1 + 1, (size_t) (d2 - d1 - 1));
	const char *p[3] = {schema, table, d2 + 1};
	PGresult   *r = trib_check_report_pg_query(&c->rep, conn, "erasure target",
						  "SELECT c.oid IS NOT NULL, "
						  "  EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid "
						  "    AND a.attname = $3 AND a.attnum > 0 AND NOT a.attisdropped), "
						  "  EXISTS (SELECT FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid "
						  "    AND (i.indisprimary OR i.indisreplident)), "
						  "  c.oid IS NOT NULL AND pg_catalog.has_table_privilege(c.oid, 'SELECT') "
						  "FROM (SELECT pg_catalog.to_regclass(pg_catalog.quote_ident($1) "
						  "  OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) "
						  "  pg_catalog.quote_ident($2))::pg_catalog.oid AS oid) c",
						  3, p);
	const char *why = NULL;

	if (r != NULL)
		why = strcmp(PQgetvalue(r, 0, 0), "t") != 0 ? "no such table"
			: strcmp(PQgetvalue(r, 0, 1), "t") != 0 ? "no such column"
			: strcmp(PQgetvalue(r, 0, 2), "t") != 0 ? "no primary key or replica identity index: "
			"its rows cannot be named"
			: strcmp(PQgetvalue(r, 0, 3), "t") != 0 ? "the role may not read it" : NULL;
	if (r != NULL)
		say(c, "  target %s: %s", target, why ? why : "ok");
	c->rep.problems += why != NULL;
	PQclear(r);
	free(schema);
	free(table);
}

/* ---- erasure ------------------------------------------------------------- */

/*
 * Erasure: the extension has the request tables, the erasure dsn's role
 * may write the keys (tributary_eraser) and read every target.
 */
static void
check_erasure(check_ctx *c, const trib_erasure_conf *e)
{
	PGconn	   *conn;
	PGresult   *r;

	if (e->targets.count == 0)
		return;
	say(c, "erasure: requests from tributary.erasure_requests (only tributary_eraser may "
		"insert); logical messages are refused");
	if ((conn = trib_check_report_pg_connect(&c->rep, "database", e->dsn)) == NULL)
		return;
	r = trib_check_report_pg_query(&c->rep, conn, "erasure",
			  "SELECT EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
			  "  ON n.oid = c.relnamespace WHERE n.nspname = 'tributary' "
			  "  AND c.relname = 'erasure_keys'), "
			  "CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'tributary_eraser') "
			  "THEN pg_catalog.pg_has_role('tributary_eraser', 'USAGE') END",
			  0, NULL);
	if (r != NULL && strcmp(PQgetvalue(r, 0, 0), "t") != 0)
	{
		say(c, "  erasure tables: missing (the extension needs version 0.3: "
			"ALTER EXTENSION tributary UPDATE)");
		c->rep.problems++;
	}
	else if (r != NULL && strcmp(PQgetvalue(r, 0, 1), "t") != 0)
	{
		say(c, "  role %s: not a member of tributary_eraser, so it cannot write "
			"tributary.erasure_keys (GRANT tributary_eraser TO %s)", PQuser(conn), PQuser(conn));
		c->rep.problems++;
	}
	else if (r != NULL)
		say(c, "  erasure tables: present; role %s may write them", PQuser(conn));
	PQclear(r);
	for (size_t i = 0; i < e->targets.count; i++)
		check_erasure_target(c, conn, e->targets.items[i]);
	PQfinish(conn);
}

int
trib_check_connected(const trib_config *cfg, FILE *out, int *bad_rules)
{
	check_ctx	c = {.rep = {.out = out}, .cfg = cfg};
	char		e[512];

	if (cfg->strict || cfg->nrules > 0)
		c.rules = trib_rules_new(cfg, NULL, e, sizeof(e));
	for (size_t i = 0; i < cfg->nsources; i++)
		check_source(&c, &cfg->sources[i]);
	check_rule_columns(&c);
	if (bad_rules)
		*bad_rules = c.bad_rules;
	check_checkpoint(&c, cfg);
	for (size_t i = 0; i < cfg->nsinks; i++)
		check_sink(&c, &cfg->sinks[i]);
	check_erasure(&c, &cfg->erasure);
	trib_check_report_free(&c.rep);
	trib_rules_free(c.rules);
	return c.rep.problems;
}
