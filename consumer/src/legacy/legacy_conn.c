/*
 * legacy_conn.c: where a copy-and-sanitize file's databases are (see
 * legacy.h, "Databases" and "Same database, in place").
 *
 * Resolving.  The tool names bare databases and takes its servers from
 * the environment.  Here a bare name gets the server of
 * TRIBUTARY_SOURCE_URI / TRIBUTARY_DEST_URI (or --source-uri /
 * --dest-uri): libpq parses that URI (conninfo.c) and the name replaces
 * its dbname.  Without one, libpq's own defaults apply (PGHOST, PGPORT,
 * PGUSER, PGPASSWORD, ~/.pgpass, the default socket), as for psql.
 *
 * Same database.  Offline, two connection strings are the same database
 * when host, host address, port and database name agree (a guess: one
 * server has many names).  Before a stage runs, trib_legacy_preflight()
 * finds out for sure without needing any privilege: it LISTENs on a random
 * channel on the dest connection and NOTIFYs it on the source connection;
 * notifications stay inside one database of one server, so hearing it
 * means the same database.  A source in recovery (a standby) cannot be the
 * writable dest.
 *
 * In place.  Rows are written back by primary key, so every collection
 * needs one and no strategy may change a key column: the row would land
 * under a new key next to the original, which stays readable.  These are
 * checked against the catalog before the stage writes anything.
 */
#include "legacy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <openssl/rand.h>

#include "conninfo.h"
#include "log.h"
#include "strbuf.h"

#define CONNECT_TIMEOUT_S "10"
#define NOTIFY_TRIES 10
#define NOTIFY_WAIT_MS 20

/* getenv, with "" as unset. */
static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL;
}

void
trib_legacy_opts_from_env(trib_legacy_opts *o)
{
	memset(o, 0, sizeof(*o));
	if ((o->source_uri = env("TRIBUTARY_SOURCE_URI")) != NULL)
		o->source_uri_from = "TRIBUTARY_SOURCE_URI";
	if ((o->dest_uri = env("TRIBUTARY_DEST_URI")) != NULL)
		o->dest_uri_from = "TRIBUTARY_DEST_URI";
	if ((o->key_file = env("TRIBUTARY_KEY_FILE")) != NULL)
		o->key_file_from = "TRIBUTARY_KEY_FILE";
	o->key_env = env("TRIBUTARY_KEY") ? "TRIBUTARY_KEY" : NULL;
	o->state_dir = env("TRIBUTARY_STATE_DIR");
}

static const char mongodb_refused[] =
	"MongoDB databases are not supported by this version: the MongoDB source is not "
	"there yet (accepted: a bare database name, a postgres:// or postgresql:// URI, or "
	"a libpq connection string)";

bool
lg_check_base(const char *uri, const char *from, char *why, size_t whylen)
{
	char	   *pw;
	char	   *parsed;

	(void) from;
	if (trib_conninfo_is_mongodb(uri))
	{
		snprintf(why, whylen, "a MongoDB URI: %s", mongodb_refused);
		return false;
	}
	if ((parsed = trib_conninfo_rebuild(uri, NULL, true)) == NULL)
	{
		snprintf(why, whylen, "libpq cannot parse it (accepted: postgresql://[USER[:PASSWORD]@]"
				 "HOST[:PORT][/DBNAME][?PARAM=VALUE...], or key=value pairs); the "
				 "database name is replaced by each step's");
		return false;
	}
	free(parsed);
	if ((pw = trib_conninfo_password(uri)) != NULL)
	{
		trib_log_add_secret(pw);
		free(pw);
	}
	return true;
}

char *
lg_resolve_db(const char *value, const char *base, bool *literal, char *why, size_t whylen)
{
	char	   *dsn;

	*literal = false;
	if (trib_conninfo_is_mongodb(value))
	{
		snprintf(why, whylen, "%s", mongodb_refused);
		return NULL;
	}
	if (strstr(value, "://") != NULL || strchr(value, '=') != NULL)
		return trib_xstrdup(value);
	/* a bare name; a base that does not parse is reported once, elsewhere */
	dsn = trib_conninfo_rebuild(base ? base : "", value, false);
	if (dsn == NULL)
		dsn = trib_conninfo_rebuild("", value, false);
	*literal = true;
	return dsn;
}

bool
lg_same_db(const char *a, const char *b)
{
	char	   *x = trib_conninfo_identity(a);
	char	   *y = trib_conninfo_identity(b);
	bool		same = x && y && strcmp(x, y) == 0;

	free(x);
	free(y);
	return same;
}

char *
lg_shown(const char *dsn)
{
	char	   *s = trib_conninfo_rebuild(dsn, NULL, true);

	return s ? s : trib_xstrdup("(a connection string libpq cannot parse)");
}

/* ---- before a step runs ------------------------------------------------------ */

/* Connect with a timeout; NULL and errbuf when it fails. */
static PGconn *
connect_db(const char *path, const char *dsn, const char *what, const char *step,
		   char *errbuf, size_t errlen)
{
	static const char *const keys[] = {"dbname", "connect_timeout", "application_name", NULL};
	const char *vals[] = {dsn, CONNECT_TIMEOUT_S, "tributary", NULL};
	PGconn	   *conn = PQconnectdbParams(keys, vals, 1);

	if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
		return conn;
	snprintf(errbuf, errlen, "%s: step %s: cannot connect to the %s database: %s", path, step, what,
			 conn ? PQerrorMessage(conn) : "out of memory");
	errbuf[strcspn(errbuf, "\n")] = '\0';
	PQfinish(conn);
	return NULL;
}

/* Run sql; true when it succeeded (the result is dropped). */
static bool
exec_ok(PGconn *conn, const char *sql)
{
	PGresult   *r = PQexec(conn, sql);
	bool		ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	PQclear(r);
	return ok;
}

/* Has dst heard the notification on `chan`? */
static bool
heard(PGconn *dst, const char *chan)
{
	struct timespec ts = {0, NOTIFY_WAIT_MS * 1000000L};

	for (int i = 0; i < NOTIFY_TRIES; i++)
	{
		PGnotify   *n;
		bool		match = false;

		if (!exec_ok(dst, "SELECT 1"))
			return false;
		PQconsumeInput(dst);
		while ((n = PQnotifies(dst)) != NULL)
		{
			match = match || strcmp(n->relname, chan) == 0;
			PQfreemem(n);
		}
		if (match)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* Are the two connections to the same database?  (See the top.) */
static bool
same_database(PGconn *src, PGconn *dst)
{
	PGresult   *r = PQexec(src, "SELECT pg_catalog.pg_is_in_recovery()");
	bool		standby = PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
		strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	unsigned char rnd[8];
	char		chan[64],
				sql[96];
	bool		same = false;

	PQclear(r);
	if (standby || RAND_bytes(rnd, sizeof(rnd)) != 1)
		return false;
	snprintf(chan, sizeof(chan), "tributary_probe_%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0],
			 rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	snprintf(sql, sizeof(sql), "LISTEN %s", chan);
	if (exec_ok(dst, sql))
	{
		snprintf(sql, sizeof(sql), "NOTIFY %s", chan);
		same = exec_ok(src, sql) && heard(dst, chan);
		(void) exec_ok(dst, "UNLISTEN *");
	}
	return same;
}

/* Why a step of this type and these tables cannot run in place, or NULL. */
const char *
lg_in_place_refusal(const char *type, char *const *tables, size_t ntables)
{
	if (strcmp(type, "copy") == 0)
		return "copies a database onto itself: source_db and dest_db are the same database "
			"(give dest_db another database, or TRIBUTARY_DEST_URI / --dest-uri another "
			"server)";
	if (strcmp(type, "minimize") == 0)
		return "would minimize in place, keeping the rows outside the sample: source_db and "
			"dest_db are the same database (give dest_db another database, or "
			"TRIBUTARY_DEST_URI / --dest-uri another server)";
	for (size_t i = 1; i < ntables; i++)
		if (strcspn(tables[i], ".") != strcspn(tables[0], ".") ||
			strncmp(tables[i], tables[0], strcspn(tables[0], ".")) != 0)
			return "rewrites its collections in place, and they are in several schemas: "
				"give each schema its own step";
	return NULL;
}

/* The primary key columns of table (schema.table) as "|a|b|"; NULL and
 * errbuf when it has none (*fail 0), or is missing or unreadable (*fail
 * -1: an earlier step may still create it). */
static char *
primary_key(PGconn *conn, const char *path, const char *step, const char *table,
			int *fail, char *errbuf, size_t errlen)
{
	static const char sql[] =
		"SELECT t.oid IS NOT NULL, a.attname FROM (SELECT pg_catalog.to_regclass("
		"pg_catalog.quote_ident($1) || '.' || pg_catalog.quote_ident($2)) AS oid) t "
		"LEFT JOIN pg_catalog.pg_constraint c ON c.conrelid = t.oid AND c.contype = 'p' "
		"LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (c.conkey)";
	size_t		dot = strcspn(table, ".");
	char	   *schema = trib_xstrndup(table, dot);
	const char *params[2] = {schema, table[dot] ? table + dot + 1 : ""};
	PGresult   *r = PQexecParams(conn, sql, 2, NULL, params, NULL, NULL, 0);
	trib_strbuf b = {0};

	free(schema);
	*fail = -1;
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
		snprintf(errbuf, errlen, "%s: step %s: cannot read the primary key of %s: %s", path,
				 step, table, PQerrorMessage(conn));
	else if (strcmp(PQgetvalue(r, 0, 0), "t") != 0)
		snprintf(errbuf, errlen, "%s: step %s: collection %s: there is no such table in the "
				 "database (yet: an earlier step may create it)", path, step, table);
	else if (PQgetisnull(r, 0, 1))
		*fail = 0, snprintf(errbuf, errlen, "%s: step %s: table %s has no primary key: rewriting it in "
				 "place writes each row back by its primary key", path, step, table);
	else
	{
		trib_strbuf_addc(&b, '|');
		for (int i = 0; i < PQntuples(r); i++)
			trib_strbuf_printf(&b, "%s|", PQgetvalue(r, i, 1));
	}
	PQclear(r);
	if (b.data == NULL)
		errbuf[strcspn(errbuf, "\n")] = '\0';
	return b.data ? trib_strbuf_finish(&b) : NULL;
}

/* Can the step rewrite its collections in place?  1, or 0 (it must not) or
 * -1 (a table is not there) and errbuf. */
static int
in_place_ok(PGconn *conn, const char *path, const trib_legacy_step *st, char *errbuf,
			size_t errlen)
{
	const char *why = lg_in_place_refusal(st->type, st->tables, st->ntables);

	if (why != NULL)
	{
		snprintf(errbuf, errlen, "%s:%d: step %s %s", path, st->line, st->name, why);
		return 0;
	}
	for (size_t i = 0; i < st->ntables; i++)
	{
		int			fail;
		char	   *pk = primary_key(conn, path, st->name, st->tables[i], &fail, errbuf, errlen);

		for (int j = 0; pk && j < st->nfields; j++)
		{
			const trib_legacy_field *f = &st->fields[j];
			trib_strbuf col = {0};
			bool		on_key;

			trib_strbuf_printf(&col, "|%s|", f->column);
			on_key = strcmp(f->table, st->tables[i]) == 0 &&
				strcmp(f->strategy, "sample") != 0 && strstr(pk, col.data) != NULL;
			trib_strbuf_free(&col);
			if (on_key)
			{
				snprintf(errbuf, errlen, "%s:%s: strategy %s on primary key column %s: in "
						 "place, the row would be written under a new key and the original "
						 "kept (sanitize the key in a copy to another database instead)",
						 path, f->at, f->strategy, f->column);
				free(pk);
				return 0;
			}
		}
		if (pk == NULL)
			return fail;
		free(pk);
	}
	return 1;
}

int
trib_legacy_preflight(const char *path, const trib_legacy_step *st, const char *source_dsn,
					  const char *dest_dsn, bool *in_place, char *errbuf, size_t errlen)
{
	PGconn	   *src = connect_db(path, source_dsn, "source", st->name, errbuf, errlen);
	PGconn	   *dst = src ? connect_db(path, dest_dsn, "dest", st->name, errbuf, errlen) : NULL;
	int			rc = -1;

	*in_place = false;
	if (dst != NULL)
	{
		*in_place = same_database(src, dst);
		rc = *in_place ? in_place_ok(dst, path, st, errbuf, errlen) : 1;
	}
	PQfinish(src);
	PQfinish(dst);
	return rc;
}
