/*
 * conninfo.h: libpq connection strings, taken apart and put back together.
 *
 * Design.  A connection string (key=value pairs or a postgres:// URI) is
 * parsed by libpq itself (PQconninfoParse), never by hand, and written
 * back as key='value' pairs with libpq's quoting (backslash before ' and
 * \).  On the way a caller may replace the database name (the
 * copy-and-sanitize format names bare databases on a server given
 * elsewhere) or hide the password (for anything shown to a person).
 * Parse errors are not passed on: libpq's message may quote the string,
 * password included.
 *
 * Ownership: every char * returned is malloc'd; the caller frees it.
 */
#ifndef TRIB_CONNINFO_H
#define TRIB_CONNINFO_H

#include <stdbool.h>
#include <stddef.h>

/*
 * dsn as key='value' pairs: with dbname='DBNAME' instead of its own when
 * dbname is not NULL, and password='***' when redact.  NULL when libpq
 * cannot parse dsn.
 */
char	   *trib_conninfo_rebuild(const char *dsn, const char *dbname, bool redact);

/*
 * Where dsn connects, for comparing two connection strings without
 * connecting: "host|hostaddr|port|dbname", each from dsn, else from
 * libpq's environment (PGHOST, PGHOSTADDR, PGPORT, PGDATABASE), else
 * libpq's default (the default socket, 5432, the user name).  NULL when
 * libpq cannot parse dsn.
 */
char	   *trib_conninfo_identity(const char *dsn);

/* The database name dsn gives (malloc'd, "" when it gives an empty one)
 * into *dbname, NULL when it gives none; false (and NULL) when libpq
 * cannot parse dsn. */
bool		trib_conninfo_dbname(const char *dsn, char **dbname);

/*
 * libpq's parse error (PQconninfoParse's errmsg) into out, one line, with
 * its quoted fragments masked as "***": they may be pieces of the
 * connection string, a password included ('missing "=" after "half"' of
 * an unquoted password with a space).  An unknown option's name is kept:
 * it is the useful part and never a secret.
 */
void		trib_conninfo_error_masked(const char *err, char *out, size_t outlen);

/* The password dsn gives, or NULL (none, or unparsable). */
char	   *trib_conninfo_password(const char *dsn);

/* Is s a MongoDB connection string (mongodb:// or mongodb+srv://)? */
bool		trib_conninfo_is_mongodb(const char *s);

#endif							/* TRIB_CONNINFO_H */
