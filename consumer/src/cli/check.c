/*
 * check.c: the connected part of `tributary check` (see check.h).
 *
 * Design.  One function per system (source, checkpoint store, each sink
 * type), each opening its own short-lived connection with a connect
 * timeout, running read-only catalog queries with bound parameters, and
 * printing indented lines.  The tables the source would capture are
 * listed from pg_class and filtered here with the plugin's pattern rules
 * (pg_ext/src/options.c: "schema.table" globs, '*' and '?', double-quoted
 * parts literal); the Postgres sink check then looks for the same tables
 * in its target schema.  Every error text goes through trib_log_redact(),
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
#include <librdkafka/rdkafka.h>

#include "catalog.h"
#include "jpath.h"
#include "log.h"
#include "rules.h"
#include "source_pg.h"
#include "strbuf.h"

/* A table the source would capture. */
typedef struct cap_table
{
	char	   *schema;
	char	   *table;
	char	   *columns;		/* names, separated by 0x1f */
	const char *source;
} cap_table;

typedef struct check_ctx
{
	FILE	   *out;
	int			problems;
	cap_table  *tables;			/* from the source, when reachable */
	size_t		ntables;
	bool		tables_known;
	const trib_config *cfg;
	trib_rules *rules;			/* strict mode: which columns have a rule */
	const char *source;			/* the source being reported */
	int			bad_rules;		/* rules naming columns no table has */
} check_ctx;

/* Print a line, redacted. */
__attribute__((format(printf, 2, 3)))
static void
say(check_ctx *c, const char *fmt,...)
{
	char		buf[2048];
	char	   *r;
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	r = trib_log_redact(buf);
	fprintf(c->out, "%s\n", r);
	free(r);
}

/* libpq's message, first line only (the rest repeats or hints). */
static const char *
pq_msg(PGconn *conn, char *buf, size_t len)
{
	char	   *nl;

	snprintf(buf, len, "%s", conn ? PQerrorMessage(conn) : "out of memory");
	if ((nl = strchr(buf, '\n')) != NULL)
		*nl = '\0';
	return buf;
}

/* Connect with a timeout; NULL (reported) when not reachable. */
static PGconn *
connect_pg(check_ctx *c, const char *what, const char *dsn)
{
	static const char *const keys[] = {"dbname", "connect_timeout",
	"application_name", NULL};
	char		timeout[16];
	const char *vals[4];
	char		e[512];
	PGconn	   *conn;

	snprintf(timeout, sizeof(timeout), "%d", TRIB_CHECK_TIMEOUT_S);
	vals[0] = dsn;
	vals[1] = timeout;
	vals[2] = "tributary-check";
	vals[3] = NULL;
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		say(c, "  %s: not reachable: %s", what, pq_msg(conn, e, sizeof(e)));
		c->problems++;
		PQfinish(conn);
		return NULL;
	}
	say(c, "  %s: connected to database %s on %s port %s (PostgreSQL %d.%d)", what,
		PQdb(conn), PQhost(conn), PQport(conn), PQserverVersion(conn) / 10000,
		PQserverVersion(conn) % 10000);
	return conn;
}

/* Run a query with text parameters; NULL (reported) on error. */
static PGresult *
query(check_ctx *c, PGconn *conn, const char *what, const char *sql,
	  int nparams, const char *const *params)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	char		e[512];

	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	say(c, "  %s: query failed: %s", what, pq_msg(conn, e, sizeof(e)));
	c->problems++;
	PQclear(res);
	return NULL;
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
	PGresult   *r = query(c, conn, "server",
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
		c->problems++;
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
		c->problems++;
	}
}

/* The slot: exists? plugin, confirmed position, lag.  Returns whether it
 * has two-phase enabled. */
static bool
source_slot(check_ctx *c, PGconn *conn, const trib_pg_source_conf *pg)
{
	const char *params[1] = {pg->slot};
	PGresult   *r = query(c, conn, "slot",
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
		c->problems += !pg->create_slot;
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
			c->problems++;
		}
		slot_two_phase = strcmp(PQgetvalue(r, 0, 7), "t") == 0;
	}
	PQclear(r);
	return slot_two_phase;
}

/* Keep a captured table for the sink checks. */
static void
remember(check_ctx *c, const char *schema, const char *table, const char *columns)
{
	c->tables = realloc(c->tables, (c->ntables + 1) * sizeof(cap_table));
	if (c->tables == NULL)
		abort();
	c->tables[c->ntables].schema = trib_xstrdup(schema);
	c->tables[c->ntables].table = trib_xstrdup(table);
	c->tables[c->ntables].columns = trib_xstrdup(columns ? columns : "");
	c->tables[c->ntables].source = c->source;
	c->ntables++;
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
		c->problems++;
	}
	else
		say(c, "      strict: every column has a rule");
	trib_strbuf_free(&missing);
	free(copy);
}

static void
source_tables(check_ctx *c, PGconn *conn, const trib_pg_source_conf *pg)
{
	PGresult   *r = query(c, conn, "tables",
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
	c->tables_known = true;
	for (int i = 0; i < PQntuples(r); i++)
		if (captured(pg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1)))
			remember(c, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
					 PQgetisnull(r, i, 6) ? NULL : PQgetvalue(r, i, 6));
	say(c, "  tables captured: %zu%s", c->ntables,
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

	say(c, "source %s (postgres)", s->name);
	c->source = s->name;
	conn = connect_pg(c, "database", s->pg.dsn);
	if (conn == NULL)
		return;
	source_server(c, conn);
	source_two_phase(c, &s->pg, source_slot(c, conn, &s->pg));
	source_tables(c, conn, &s->pg);
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
	if ((conn = connect_pg(c, "database", cc->dsn)) == NULL)
		return;
	r = PQexecParams(conn, "SELECT source, commit_lsn, seq, updated_at "
					 "FROM tributary.source_checkpoints WHERE pipeline = $1 ORDER BY 1",
					 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
	{
		char		e[512];

		say(c, "  cannot read it: %s (is the extension installed?)", pq_msg(conn, e, sizeof(e)));
		c->problems++;
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

/* librdkafka logs nothing during the check. */
static void
quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void) rk;
	(void) level;
	(void) fac;
	(void) buf;
}

static void
check_kafka(check_ctx *c, const trib_sink_conf *s)
{
	const trib_kafka_sink_conf *k = &s->kafka;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t err;
	char		e[512];
	size_t		plen = strlen(k->topic_prefix);
	int			ours = 0;

	if (k->embedded)
	{
		say(c, "  embedded mock cluster: started inside `run`, nothing to reach");
		return;
	}
	conf = rd_kafka_conf_new();
	rd_kafka_conf_set_log_cb(conf, quiet_log);
	if (rd_kafka_conf_set(conf, "bootstrap.servers", k->bootstrap_servers, e, sizeof(e)))
		goto conf_fail;
	for (size_t i = 0; i < k->properties.count; i++)
		if (rd_kafka_conf_set(conf, k->properties.items[i].key,
							  k->properties.items[i].value, e, sizeof(e)))
		{
			snprintf(e, sizeof(e), "property \"%s\" rejected by librdkafka",
					 k->properties.items[i].key);
			goto conf_fail;
		}
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e))) == NULL)
		goto conf_fail;
	err = rd_kafka_metadata(rk, 1, NULL, &md, TRIB_CHECK_TIMEOUT_S * 1000);
	if (err)
	{
		say(c, "  brokers %s: not reachable: %s", k->bootstrap_servers, rd_kafka_err2str(err));
		c->problems++;
	}
	else
	{
		for (int i = 0; i < md->topic_cnt; i++)
			ours += strncmp(md->topics[i].topic, k->topic_prefix, plen) == 0 &&
				md->topics[i].topic[plen] == '.';
		say(c, "  brokers %s: reachable, %d broker(s), %d topic(s), %d with prefix \"%s.\"",
			k->bootstrap_servers, md->broker_cnt, md->topic_cnt, ours, k->topic_prefix);
		rd_kafka_metadata_destroy(md);
	}
	rd_kafka_destroy(rk);
	return;
conf_fail:
	rd_kafka_conf_destroy(conf);
	say(c, "  cannot build a client: %s", e);
	c->problems++;
}

/* ---- the Postgres sink: what `run` does with each captured table ------ */

/* The source's columns of the captured tables ($1 schemas, $2 tables):
 * schema, table, replica identity, has a primary key, column, type,
 * NOT NULL, kind ('c' composite or array of composites, 't' other; one
 * level of domain). */
static const char *const pgsink_source_sql =
"SELECT n.nspname, c.relname, c.relreplident, "
"       EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid "
"               AND i.indisprimary), "
"       a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, "
"       CASE WHEN bt.typtype = 'c' OR et.typtype = 'c' THEN 'c' ELSE 't' END "
"FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), "
"               pg_catalog.unnest($2::pg_catalog.text[])) AS x(s, t) "
"JOIN pg_catalog.pg_namespace n ON n.nspname = x.s "
"JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = x.t "
"JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
"     AND NOT a.attisdropped "
"JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid "
"JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN ty.typtype = 'd' THEN ty.typbasetype "
"     ELSE ty.oid END "
"LEFT JOIN pg_catalog.pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A' "
"ORDER BY 1, 2, a.attnum";

/* The target table ($1 schema, $2 table): exists, has a primary key, its
 * columns (0x1f-separated, each followed by one). */
static const char *const pgsink_target_sql =
"SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid "
"               AND i.indisprimary), "
"       (SELECT string_agg(a.attname || E'\\x1f', '') FROM pg_catalog.pg_attribute a "
"        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) "
"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
"WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')";

/* A table of the report whose name is printed before its first line. */
typedef struct pgsink_hdr
{
	const char *schema;
	const char *table;
	bool		said;
} pgsink_hdr;

/* Print a line about a table, after its name the first time. */
__attribute__((format(printf, 3, 4)))
static void
table_say(check_ctx *c, pgsink_hdr *h, const char *fmt,...)
{
	char		buf[1024];
	va_list		ap;

	if (!h->said)
		say(c, "    %s.%s:", h->schema, h->table);
	h->said = true;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	say(c, "      %s", buf);
}

/* Is `name` one of the 0x1f-separated names in list? */
static bool
in_name_list(const char *list, const char *name)
{
	size_t		n = strlen(name);

	for (const char *p = list; p && *p;)
	{
		const char *e = strchr(p, '\x1f');
		size_t		len = e ? (size_t) (e - p) : strlen(p);

		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

/* Would `run` create the column with a type the target does not have?
 * (the type as the source names it, checked with to_regtype) */
static bool
pgsink_type_missing(PGconn *dst, const char *type)
{
	const char *params[1] = {type};
	PGresult   *r = PQexecParams(dst, "SELECT pg_catalog.to_regtype($1) IS NULL", 1, NULL,
								 params, NULL, NULL, 0);
	bool		missing = PQresultStatus(r) == PGRES_TUPLES_OK &&
		strcmp(PQgetvalue(r, 0, 0), "t") == 0;

	PQclear(r);
	return missing;
}

/* The columns of one table (rows first..end of src): types the target
 * lacks, composites.  (json columns need no note: the plugin's json_nulls
 * tell JSON null from SQL NULL.) */
static void
pgsink_columns(check_ctx *c, pgsink_hdr *h, PGconn *dst, const trib_pg_sink_conf *ps,
			   const PGresult *src, int first, int end, bool exists, const char *tcols)
{
	trib_strbuf comp = {0};

	for (int i = first; i < end; i++)
	{
		const char *col = PQgetvalue(src, i, 4),
				   *type = PQgetvalue(src, i, 5),
				   *kind = PQgetvalue(src, i, 7);
		bool		created = !exists || !in_name_list(tcols, col);
		bool		as_text = false;

		if (created && ps->create_tables && pgsink_type_missing(dst, type))
		{
			as_text = ps->unknown_types == TRIB_UNKNOWN_TYPES_TEXT;
			if (as_text)
				table_say(c, h, "column %s: type %s does not exist in the target; `run` "
						  "creates the column as text (unknown_types: text)", col, type);
			else
			{
				table_say(c, h, "column %s: type %s does not exist in the target; `run` "
						  "would stop: create the type there, set `unknown_types: text`, "
						  "or drop the column with a transform rule", col, type);
				c->problems++;
			}
		}
		if (kind[0] == 'c' && !as_text)
			trib_strbuf_printf(&comp, "%s%s", comp.len ? ", " : "", col);
	}
	if (comp.len)
		table_say(c, h, "composite columns %s: built in the target from their JSON "
				  "(json_populate_record; a json attribute that is JSON null "
				  "arrives as NULL)", comp.data);
	trib_strbuf_free(&comp);
}

/* What `run` does with one table (rows first..end of src): keyless tables,
 * deletes without a key, then its columns. */
static void
pgsink_table(check_ctx *c, PGconn *dst, const trib_pg_sink_conf *ps, const PGresult *src,
			 int first, int end)
{
	const char *table = PQgetvalue(src, first, 1);
	char		ri = PQgetvalue(src, first, 2)[0];
	const char *params[2] = {ps->schema, table};
	PGresult   *r = PQexecParams(dst, pgsink_target_sql, 2, NULL, params, NULL, NULL, 0);
	pgsink_hdr	h = {.schema = ps->schema, .table = table};
	bool		exists,
				keyed;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
	{
		PQclear(r);
		return;
	}
	exists = PQntuples(r) > 0;
	/* a created table is keyed on the source's primary key, else on its
	 * replica identity index */
	keyed = exists ? PQgetvalue(r, 0, 0)[0] == 't'
		: PQgetvalue(src, first, 3)[0] == 't' || ri == 'i';
	if (!keyed && ri == 'f')
		table_say(c, &h, "no primary key, replica identity full: updates and deletes "
				  "change one row equal to the old row in every column");
	else if (!keyed)
		table_say(c, &h, "warning: no primary key and replica identity %s: inserts are "
				  "appended; updates and deletes are skipped and counted "
				  "(tributary_sink_skipped_changes_total); REPLICA IDENTITY FULL applies "
				  "them", ri == 'n' ? "nothing" : ri == 'i' ? "index" : "default");
	else if (ri == 'n')
		table_say(c, &h, "warning: replica identity nothing: deletes carry no key and are "
				  "skipped and counted (tributary_sink_skipped_changes_total)");
	pgsink_columns(c, &h, dst, ps, src, first, end, exists,
				   exists && !PQgetisnull(r, 0, 1) ? PQgetvalue(r, 0, 1) : "");
	PQclear(r);
}

/* Per captured table of one source, what `run` will do with it. */
static void
pgsink_source(check_ctx *c, PGconn *dst, const trib_pg_sink_conf *ps,
			  const trib_source_conf *sc)
{
	trib_strbuf schemas = {0},
				tables = {0};
	const char *params[2];
	PGconn	   *src;
	PGresult   *r;
	char		timeout[16];
	const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
	const char *vals[] = {sc->pg.dsn, timeout, "tributary-check", NULL};
	int			first = 0;

	snprintf(timeout, sizeof(timeout), "%d", TRIB_CHECK_TIMEOUT_S);
	src = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(src) != CONNECTION_OK)
	{
		PQfinish(src);			/* the source's section said why */
		return;
	}
	trib_strbuf_addc(&schemas, '{');
	trib_strbuf_addc(&tables, '{');
	for (size_t i = 0; i < c->ntables; i++)
	{
		if (strcmp(c->tables[i].source, sc->name) != 0)
			continue;
		if (schemas.len > 1)
		{
			trib_strbuf_addc(&schemas, ',');
			trib_strbuf_addc(&tables, ',');
		}
		trib_strbuf_adds(&schemas, "\"");
		trib_strbuf_adds(&tables, "\"");
		for (const char *p = c->tables[i].schema; *p; p++)
			trib_strbuf_printf(&schemas, "%s%c", *p == '"' || *p == '\\' ? "\\" : "", *p);
		for (const char *p = c->tables[i].table; *p; p++)
			trib_strbuf_printf(&tables, "%s%c", *p == '"' || *p == '\\' ? "\\" : "", *p);
		trib_strbuf_adds(&schemas, "\"");
		trib_strbuf_adds(&tables, "\"");
	}
	trib_strbuf_addc(&schemas, '}');
	trib_strbuf_addc(&tables, '}');
	params[0] = schemas.data;
	params[1] = tables.data;
	r = PQexecParams(src, pgsink_source_sql, 2, NULL, params, NULL, NULL, 0);
	for (int i = 1; PQresultStatus(r) == PGRES_TUPLES_OK && i <= PQntuples(r); i++)
		if (i == PQntuples(r) || strcmp(PQgetvalue(r, i, 0), PQgetvalue(r, first, 0)) != 0 ||
			strcmp(PQgetvalue(r, i, 1), PQgetvalue(r, first, 1)) != 0)
		{
			pgsink_table(c, dst, ps, r, first, i);
			first = i;
		}
	PQclear(r);
	PQfinish(src);
	trib_strbuf_free(&schemas);
	trib_strbuf_free(&tables);
}

static void
check_pg_sink(check_ctx *c, const trib_sink_conf *s)
{
	const trib_pg_sink_conf *ps = &s->postgres;
	PGconn	   *conn = connect_pg(c, "target database", ps->dsn);
	int			exist = 0,
				missing = 0;

	if (conn == NULL)
		return;
	if (!c->tables_known)
		say(c, "  target tables: unknown (the source is not reachable)");
	for (size_t i = 0; i < c->ntables; i++)
	{
		const char *params[2] = {ps->schema, c->tables[i].table};
		PGresult   *r = query(c, conn, "target table",
							  "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
							  "ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 "
							  "AND c.relkind IN ('r', 'p')", 2, params);

		if (r == NULL)
			break;
		if (PQntuples(r) > 0)
			exist++;
		else
		{
			missing++;
			say(c, "  %s.%s: missing; %s", ps->schema, c->tables[i].table,
				ps->create_tables ? "`run` creates it from the source's definition"
				: "`run` would fail (create_tables: false)");
			c->problems += !ps->create_tables;
		}
		PQclear(r);
	}
	if (c->tables_known)
		say(c, "  target tables in schema %s: %d exist, %d missing", ps->schema, exist, missing);
	for (size_t i = 0; c->tables_known && i < c->cfg->nsources; i++)
		pgsink_source(c, conn, ps, &c->cfg->sources[i]);
	PQfinish(conn);
}

static void
check_file(check_ctx *c, const trib_sink_conf *s)
{
	char	   *copy = trib_xstrdup(s->file.path);
	const char *dir = dirname(copy);
	struct stat st;

	if (access(dir, W_OK | X_OK) != 0)
	{
		say(c, "  directory %s: not writable (%s)", dir, strerror(errno));
		c->problems++;
	}
	else if (stat(s->file.path, &st) == 0)
		say(c, "  %s: exists, %lld bytes; `run` appends after its recorded position",
			s->file.path, (long long) st.st_size);
	else
		say(c, "  %s: does not exist yet; directory %s is writable", s->file.path, dir);
	free(copy);
}

static void
check_sink(check_ctx *c, const trib_sink_conf *s)
{
	say(c, "sink %s (%s)", s->name, s->type_name);
	switch (s->type)
	{
		case TRIB_SINK_KAFKA:
			check_kafka(c, s);
			break;
		case TRIB_SINK_POSTGRES:
			check_pg_sink(c, s);
			break;
		case TRIB_SINK_FILE:
			check_file(c, s);
			break;
		case TRIB_SINK_STDOUT:
			say(c, "  standard output");
			break;
	}
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
	for (size_t t = 0; t < c->ntables && !found; t++)
	{
		char	   *cols;

		if (!trib_rules_selects(c->rules, rule, c->tables[t].source, c->tables[t].schema,
								c->tables[t].table))
			continue;
		cols = trib_xstrdup(c->tables[t].columns);
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

	if (c->rules == NULL || !c->tables_known || cfg->nrules == 0)
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
					fprintf(c->out, "%s:%d:%d: transforms[%zu].%s: no captured table the rule "
							"selects has a column \"%s\" (the rule would do nothing)\n",
							cfg->path, r->line, r->column, i, l == 0 ? "fields" : "params",
							lists[l]->items[j]);
					c->bad_rules++;
				}
		if (one[0] && !column_exists(c, i, one[0]))
		{
			fprintf(c->out, "%s:%d:%d: transforms[%zu].by: no captured table the rule selects "
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
	PGresult   *r = query(c, conn, "erasure target",
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
	c->problems += why != NULL;
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
	if ((conn = connect_pg(c, "database", e->dsn)) == NULL)
		return;
	r = query(c, conn, "erasure",
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
		c->problems++;
	}
	else if (r != NULL && strcmp(PQgetvalue(r, 0, 1), "t") != 0)
	{
		say(c, "  role %s: not a member of tributary_eraser, so it cannot write "
			"tributary.erasure_keys (GRANT tributary_eraser TO %s)", PQuser(conn), PQuser(conn));
		c->problems++;
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
	check_ctx	c = {.out = out, .cfg = cfg};
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
	for (size_t i = 0; i < c.ntables; i++)
	{
		free(c.tables[i].schema);
		free(c.tables[i].table);
		free(c.tables[i].columns);
	}
	free(c.tables);
	trib_rules_free(c.rules);
	return c.problems;
}
