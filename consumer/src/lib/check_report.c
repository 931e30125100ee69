/*
 * check_report.c: the lines and findings of `tributary check` (see
 * check_report.h).
 */
#include "check_report.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

/* See check_report.h. */
void
trib_check_report_vsay(trib_check_report *r, const char *fmt, va_list ap)
{
	char		buf[2048];
	char	   *red;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	red = trib_log_redact(buf);
	fprintf(r->out, "%s\n", red);
	free(red);
}

/* See check_report.h. */
void
trib_check_report_say(trib_check_report *r, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	trib_check_report_vsay(r, fmt, ap);
	va_end(ap);
}

/* See check_report.h. */
void
trib_check_report_add_table(trib_check_report *r, const char *source, const char *schema,
							const char *table, const char *columns)
{
	trib_check_table *t;

	r->tables = trib_xrealloc(r->tables, (r->ntables + 1) * sizeof(trib_check_table));
	t = &r->tables[r->ntables++];
	t->schema = trib_xstrdup(schema);
	t->table = trib_xstrdup(table);
	t->columns = trib_xstrdup(columns ? columns : "");
	t->source = trib_xstrdup(source);
}

/* See check_report.h. */
void
trib_check_report_add_source(trib_check_report *r, const char *name, const char *dsn)
{
	trib_check_source *s;

	r->sources = trib_xrealloc(r->sources, (r->nsources + 1) * sizeof(trib_check_source));
	s = &r->sources[r->nsources++];
	s->name = trib_xstrdup(name);
	s->dsn = trib_xstrdup(dsn);
}

/* See check_report.h. */
void
trib_check_report_free(trib_check_report *r)
{
	for (size_t i = 0; i < r->ntables; i++)
	{
		free(r->tables[i].schema);
		free(r->tables[i].table);
		free(r->tables[i].columns);
		free(r->tables[i].source);
	}
	free(r->tables);
	for (size_t i = 0; i < r->nsources; i++)
	{
		free(r->sources[i].name);
		if (r->sources[i].dsn != NULL)
			explicit_bzero(r->sources[i].dsn, strlen(r->sources[i].dsn));
		free(r->sources[i].dsn);
	}
	free(r->sources);
	r->tables = NULL;
	r->sources = NULL;
	r->ntables = r->nsources = 0;
}

/* See check_report.h. */
const char *
trib_check_report_pg_msg(PGconn *conn, char *buf, size_t len)
{
	char	   *nl;

	snprintf(buf, len, "%s", conn ? PQerrorMessage(conn) : "out of memory");
	if ((nl = strchr(buf, '\n')) != NULL)
		*nl = '\0';
	return buf;
}

/* See check_report.h. */
PGconn *
trib_check_report_pg_open(const char *dsn)
{
	static const char *const keys[] = {"dbname", "connect_timeout",
	"application_name", NULL};
	char		timeout[16];
	const char *vals[4];

	snprintf(timeout, sizeof(timeout), "%d", TRIB_CHECK_TIMEOUT_S);
	vals[0] = dsn;
	vals[1] = timeout;
	vals[2] = "tributary-check";
	vals[3] = NULL;
	return PQconnectdbParams(keys, vals, 1);
}

/* See check_report.h. */
PGconn *
trib_check_report_pg_connect(trib_check_report *r, const char *what, const char *dsn)
{
	char		e[512];
	PGconn	   *conn = trib_check_report_pg_open(dsn);

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		trib_check_report_say(r, "  %s: not reachable: %s", what,
							  trib_check_report_pg_msg(conn, e, sizeof(e)));
		r->problems++;
		PQfinish(conn);
		return NULL;
	}
	trib_check_report_say(r, "  %s: connected to database %s on %s port %s (PostgreSQL %d.%d)",
						  what, PQdb(conn), PQhost(conn), PQport(conn),
						  PQserverVersion(conn) / 10000, PQserverVersion(conn) % 10000);
	return conn;
}

/* See check_report.h. */
PGresult *
trib_check_report_pg_query(trib_check_report *r, PGconn *conn, const char *what,
						   const char *sql, int nparams, const char *const *params)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	char		e[512];

	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	trib_check_report_say(r, "  %s: query failed: %s", what,
						  trib_check_report_pg_msg(conn, e, sizeof(e)));
	r->problems++;
	PQclear(res);
	return NULL;
}
