/*
 * conninfo.c: libpq connection strings parsed by libpq and rebuilt (see
 * conninfo.h).
 */
#include "conninfo.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>

#include "strbuf.h"

/* The options dsn sets, or NULL when libpq cannot parse it. */
static PQconninfoOption *
parse(const char *dsn)
{
	char	   *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(dsn ? dsn : "", &perr);

	PQfreemem(perr);			/* may quote dsn: never shown */
	return opts;
}

/* Append key='value' with libpq's quoting. */
static void
add_pair(trib_strbuf *b, const char *key, const char *val)
{
	trib_strbuf_printf(b, "%s%s='", b->len ? " " : "", key);
	for (const char *c = val; *c; c++)
	{
		if (*c == '\'' || *c == '\\')
			trib_strbuf_addc(b, '\\');
		trib_strbuf_addc(b, *c);
	}
	trib_strbuf_addc(b, '\'');
}

char *
trib_conninfo_rebuild(const char *dsn, const char *dbname, bool redact)
{
	PQconninfoOption *opts = parse(dsn);
	trib_strbuf b = {0};

	if (opts == NULL)
		return NULL;
	for (PQconninfoOption *o = opts; o->keyword; o++)
	{
		const char *v = o->val;

		if (strcmp(o->keyword, "dbname") == 0 && dbname != NULL)
			continue;
		if (v == NULL)
			continue;
		if (redact && strcmp(o->keyword, "password") == 0)
			v = "***";
		add_pair(&b, o->keyword, v);
	}
	if (dbname != NULL)
		add_pair(&b, "dbname", dbname);
	PQconninfoFree(opts);
	return trib_strbuf_finish(&b);
}

/* The value of keyword in opts, or NULL. */
static const char *
opt(const PQconninfoOption *opts, const char *keyword)
{
	for (const PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, keyword) == 0)
			return o->val;
	return NULL;
}

/* keyword's value, else the environment variable, else dflt. */
static const char *
opt_or(const PQconninfoOption *opts, const char *keyword, const char *env, const char *dflt)
{
	const char *v = opt(opts, keyword);

	if (v == NULL || v[0] == '\0')
		v = getenv(env);
	return v && v[0] ? v : dflt;
}

char *
trib_conninfo_identity(const char *dsn)
{
	PQconninfoOption *opts = parse(dsn);
	trib_strbuf b = {0};
	const char *user;

	if (opts == NULL)
		return NULL;
	user = opt_or(opts, "user", "PGUSER", getenv("USER") ? getenv("USER") : "");
	trib_strbuf_printf(&b, "%s|%s|%s|%s", opt_or(opts, "host", "PGHOST", ""),
					   opt_or(opts, "hostaddr", "PGHOSTADDR", ""),
					   opt_or(opts, "port", "PGPORT", "5432"),
					   opt_or(opts, "dbname", "PGDATABASE", user));
	PQconninfoFree(opts);
	return trib_strbuf_finish(&b);
}

bool
trib_conninfo_dbname(const char *dsn, char **dbname)
{
	PQconninfoOption *opts = parse(dsn);
	const char *db;

	*dbname = NULL;
	if (opts == NULL)
		return false;
	db = opt(opts, "dbname");
	if (db != NULL)
		*dbname = trib_xstrdup(db);
	PQconninfoFree(opts);
	return true;
}

char *
trib_conninfo_password(const char *dsn)
{
	PQconninfoOption *opts = parse(dsn);
	const char *pw;
	char	   *out = NULL;

	if (opts == NULL)
		return NULL;
	pw = opt(opts, "password");
	if (pw != NULL && pw[0] != '\0')
		out = trib_xstrdup(pw);
	PQconninfoFree(opts);
	return out;
}

bool
trib_conninfo_is_mongodb(const char *s)
{
	return s != NULL && (strncasecmp(s, "mongodb://", 10) == 0 ||
						 strncasecmp(s, "mongodb+srv://", 14) == 0);
}

/* See conninfo.h. */
void
trib_conninfo_error_masked(const char *err, char *out, size_t outlen)
{
	trib_strbuf b = {0};
	bool		keep = strncmp(err, "invalid connection option", 25) == 0;
	char	   *s;

	for (const char *p = err; *p; p++)
	{
		const char *close;

		if (*p == '"' && !keep && (close = strchr(p + 1, '"')) != NULL)
		{
			/* a one-character fragment is libpq's own ("="): kept whole, so
			 * that the next quote opens the next fragment, not this one's end */
			if (close - p > 2)
				trib_strbuf_adds(&b, "\"***\"");
			else
				trib_strbuf_printf(&b, "%.*s", (int) (close - p + 1), p);
			p = close;
		}
		else if (*p != '\n')
			trib_strbuf_addc(&b, *p);
	}
	s = trib_strbuf_finish(&b);
	snprintf(out, outlen, "%s", s);
	free(s);
}
