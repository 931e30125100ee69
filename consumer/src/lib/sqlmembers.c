/*
 * sqlmembers.c: the members of an ENUM or SET as MySQL/MariaDB write them
 * in information_schema's COLUMN_TYPE (sqlmembers.h).
 *
 * The server writes each member with append_unescaped: in quotes, a quote
 * doubled, and a backslash, newline, CR or NUL after a backslash
 * (\\ \n \r \0).  The MySQL source reads a table's members from it
 * (source/mysql/mysql_infoschema.c) and the Debezium mapping lists them in
 * `allowed` (format/debezium_mysql.c); neither folder may include the
 * other, so the one reader of those escapes lives here.  The schema
 * registry's library (schema_registry/src/sr_mytype.c) has its own small
 * copy, since libtribsr includes no daemon code.
 */
#include "sqlmembers.h"

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "xalloc.h"

/* See sqlmembers.h. */
bool
trib_sql_members(const char *t, char ***values, int *nvalues)
{
	const char *p = strchr(t, '(');
	trib_strbuf cur = {0};
	char	  **v = NULL;
	int			n = 0;

	*values = NULL;
	*nvalues = 0;
	if (p == NULL)
		return false;
	p++;
	while (*p == '\'')
	{
		p++;
		for (;; p++)
		{
			if (*p == '\0')
				goto bad;
			if (*p == '\'' && p[1] == '\'')
			{
				trib_strbuf_addc(&cur, '\'');
				p++;
				continue;
			}
			if (*p == '\\' && p[1] != '\0')
			{
				/* the server's escapes: \\ \n \r \0 */
				p++;
				trib_strbuf_addc(&cur, *p == 'n' ? '\n' : *p == 'r' ? '\r' :
								 *p == '0' ? '\0' : *p);
				continue;
			}
			if (*p == '\'')
				break;
			trib_strbuf_addc(&cur, *p);
		}
		p++;
		v = trib_xrealloc(v, sizeof(char *) * (size_t) (n + 1));
		v[n++] = trib_strbuf_finish(&cur);
		if (*p == ',')
			p++;
	}
	if (*p != ')')
		goto bad;
	*values = v;
	*nvalues = n;
	return true;
bad:
	trib_strbuf_free(&cur);
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return false;
}
