/*
 * sqlmembers.h: the members of "enum('a','b''c')" or "set(...)" as
 * MySQL/MariaDB's COLUMN_TYPE writes them (sqlmembers.c has the escapes
 * and why they are read in one place).
 */
#ifndef TRIB_SQLMEMBERS_H
#define TRIB_SQLMEMBERS_H

#include <stdbool.h>

/* Parse the members of "enum('a','b''c')" or "set(...)" as COLUMN_TYPE
 * writes them: a quote doubled, and a backslash, newline, CR or NUL
 * escaped with a backslash (\\ \n \r \0; a member is a C string, so a
 * NUL ends it); false when the text is not that.  *values is a new array
 * of new strings. */
bool		trib_sql_members(const char *column_type, char ***values, int *nvalues);

#endif							/* TRIB_SQLMEMBERS_H */
