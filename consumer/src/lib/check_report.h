/*
 * check_report.h: the report `tributary check` prints, shared by the CLI
 * and the sources' and sinks' own `check` operations.
 *
 * Design.  `check` asks each system a pipeline names whether it is
 * reachable and what `run` would do there.  cli/check.c drives it: the
 * sources first, which record the tables they would capture here, then
 * the checkpoint store, then each sink through its optional `check`
 * operation (sink.h), which may compare those tables with its target.
 * Every line goes through the log's secret redaction, so a password the
 * config registered as secret never shows; connection strings are never
 * printed, only host, port and database of an established connection.
 * Problems (what would stop `run`) are counted; an unreachable system is
 * one, reported, never fatal.
 *
 * The PostgreSQL helpers connect with a short timeout and report the
 * connection or why it failed; queries bind their parameters.
 *
 * Ownership: the report owns the tables and sources recorded in it
 * (copies); trib_check_report_free() releases them, not the report.
 */
#ifndef TRIB_CHECK_REPORT_H
#define TRIB_CHECK_REPORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

/* Seconds to wait for each connection or metadata request. */
#define TRIB_CHECK_TIMEOUT_S 5

/* A table a source would capture. */
typedef struct trib_check_table
{
	char	   *schema;
	char	   *table;
	char	   *columns;		/* names, separated by 0x1f */
	char	   *source;			/* the source's name */
} trib_check_table;

/* A PostgreSQL source, for reports that read its catalog again. */
typedef struct trib_check_source
{
	char	   *name;
	char	   *dsn;
} trib_check_source;

typedef struct trib_check_report trib_check_report;

/* What the CLI adds under a captured table a source lists (strict mode:
 * the columns no rule decides about); `columns` as in trib_check_table. */
typedef void (*trib_check_table_fn) (trib_check_report *r, void *arg, const char *source,
									 const char *schema, const char *table,
									 const char *columns);

struct trib_check_report
{
	FILE	   *out;
	int			problems;		/* what would stop `run` */
	trib_check_table *tables;	/* from the sources, when reachable */
	size_t		ntables;
	bool		tables_known;	/* a source listed its tables */
	trib_check_source *sources;
	size_t		nsources;
	/* Set by the CLI; a source's check calls it (when not NULL) after the
	 * lines of each captured table whose columns it knows. */
	trib_check_table_fn on_table;
	void	   *on_table_arg;
};

/* Print one line, redacted. */
void		trib_check_report_say(trib_check_report *r, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
void		trib_check_report_vsay(trib_check_report *r, const char *fmt, va_list ap)
			__attribute__((format(printf, 2, 0)));

/* Record a captured table (copied). */
void		trib_check_report_add_table(trib_check_report *r, const char *source,
										const char *schema, const char *table,
										const char *columns);

/* Record a PostgreSQL source's name and connection string (copied). */
void		trib_check_report_add_source(trib_check_report *r, const char *name,
										 const char *dsn);

/* Free what the report recorded. */
void		trib_check_report_free(trib_check_report *r);

/* A connection with the check's timeout and application name, not
 * reported: the caller looks at PQstatus() and PQfinish()es it. */
PGconn	   *trib_check_report_pg_open(const char *dsn);

/* Connect and say "  WHAT: connected to database ... (PostgreSQL N.M)";
 * NULL, said and counted as a problem, when not reachable. */
PGconn	   *trib_check_report_pg_connect(trib_check_report *r, const char *what,
										 const char *dsn);

/* Run a query with text parameters; NULL, said and counted, on error. */
PGresult   *trib_check_report_pg_query(trib_check_report *r, PGconn *conn,
									   const char *what, const char *sql,
									   int nparams, const char *const *params);

/* libpq's message for conn, first line only, in buf. */
const char *trib_check_report_pg_msg(PGconn *conn, char *buf, size_t len);

#endif							/* TRIB_CHECK_REPORT_H */
