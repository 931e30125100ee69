/*
 * mysql_ddl.h: the next version of a table from the text of a DDL
 * statement read in the binlog (issue 13, item 4).
 *
 * Design.  The schema history (mysql_schema.h) keeps versions of each
 * table valid from a binlog position on.  When a QUERY event holds table
 * DDL, this parser derives the tables' new versions from their previous
 * ones (asked through a callback), so that the new version is valid from
 * the DDL's exact position, whatever the server's information_schema says
 * later.  It understands:
 *
 *   CREATE [OR REPLACE] TABLE [IF NOT EXISTS] t (columns, keys) [options]
 *   ALTER TABLE t clause, clause, ...: ADD [COLUMN] [IF NOT EXISTS] (one or
 *     a parenthesised list; FIRST / AFTER), DROP [COLUMN] [IF EXISTS],
 *     MODIFY, CHANGE, RENAME COLUMN, ALTER [COLUMN] SET/DROP DEFAULT,
 *     RENAME [TO|AS], ADD/DROP of keys and constraints (ADD/DROP PRIMARY
 *     KEY moves the key columns), table options without a shape change
 *   DROP [TEMPORARY] TABLE [IF EXISTS] a, b, ...
 *   RENAME TABLE a TO b [, c TO d ...]
 *   TRUNCATE [TABLE] t, CREATE/DROP INDEX (no shape change)
 *
 * A column's facts are those information_schema gives MariaDB 10.11
 * (mysql_infoschema.c): DATA_TYPE, COLUMN_TYPE as the server normalises
 * it ("int(11)", "decimal(10,0)"), unsigned, nullability, place in the
 * primary key, ENUM/SET members, JSON, generated, collation.  What the
 * statement does not say for certain makes it *uncertain*: a character
 * column's collation when neither it nor CREATE TABLE's options name one
 * (the table's or the database's default, which the binlog does not
 * carry), a type this parser does not know, a flavour-dependent fact
 * (display widths and JSON on MySQL), a statement form it does not parse
 * (CREATE TABLE ... LIKE / SELECT, CONVERT TO CHARACTER SET,
 * partitioning, a table whose previous version is not known).  The caller
 * then falls back to reading information_schema, and logs the reason with
 * an excerpt of the statement.  Statements that are not table DDL (views,
 * routines, databases, ...) are TRIB_MY_DDL_OTHER: nothing is derived and
 * nothing logged.  Account statements never come here (the decoder drops
 * them, mysql_binlog.h).
 *
 * Table names compare exactly (lower_case_table_names=0), column names
 * without case, as the server does.
 */
#ifndef TRIB_MYSQL_DDL_H
#define TRIB_MYSQL_DDL_H

#include <stdbool.h>
#include <stddef.h>

#include "mysql_tableinfo.h"

typedef enum trib_my_ddl_outcome
{
	TRIB_MY_DDL_OTHER,			/* not table DDL */
	TRIB_MY_DDL_CERTAIN,		/* changes[] is what it did (maybe nothing) */
	TRIB_MY_DDL_UNCERTAIN		/* why, excerpt say so */
} trib_my_ddl_outcome;

/* Which server wrote the statement (some facts differ). */
typedef enum trib_my_flavour
{
	TRIB_MY_FLAVOUR_UNKNOWN,
	TRIB_MY_FLAVOUR_MARIADB,
	TRIB_MY_FLAVOUR_MYSQL
} trib_my_flavour;

/* One table's new version; info NULL: the table no longer exists. */
typedef struct trib_my_ddl_change
{
	char	   *db;
	char	   *table;
	trib_my_tableinfo *info;
} trib_my_ddl_change;

typedef struct trib_my_ddl_result
{
	trib_my_ddl_outcome outcome;
	int			nchanges;
	trib_my_ddl_change *changes;	/* in statement order; a table may
									 * appear more than once, the last wins */
	char		why[200];		/* UNCERTAIN: the reason */
	char	   *excerpt;		/* UNCERTAIN: the statement for a log line
								 * (string literals hidden) */
} trib_my_ddl_result;

/*
 * The version of db.table just before the statement: true with *out (NULL
 * when the table did not exist), false when the history does not know it.
 */
typedef bool (*trib_my_ddl_prev_fn) (void *arg, const char *db, const char *table,
									 const trib_my_tableinfo **out);

/*
 * Parse `statement`, run with default database `db` (may be NULL), into
 * *out (freed with trib_my_ddl_result_free).  Never fails: what it cannot
 * derive is UNCERTAIN.
 */
void		trib_my_ddl_parse(const char *db, const char *statement,
							  trib_my_flavour flavour,
							  trib_my_ddl_prev_fn prev, void *prev_arg,
							  trib_my_ddl_result *out);
void		trib_my_ddl_result_free(trib_my_ddl_result *r);

#endif							/* TRIB_MYSQL_DDL_H */
