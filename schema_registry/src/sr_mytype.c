/*
 * sr_mytype.c: MySQL/MariaDB column types to the library's source-neutral
 * column types (trib_sr_type), matching the JSON the daemon's MySQL source
 * writes for each (docs/MYSQL.md, "Values").
 *
 * It reads the column's DATA_TYPE ("int", "decimal", "enum") and, when
 * known, its COLUMN_TYPE ("int(10) unsigned", "decimal(12,2)",
 * "enum('a','b')", "bit(5)"), which carries the sign, the precision and
 * scale, the length and the members.  Each type gets the kind whose
 * values are the source's:
 *
 *   tinyint, smallint, mediumint, int, bigint   integers with the range of
 *       the type and sign (no 8- or 24-bit kind: the next wider one);
 *       bigint unsigned is DECIMAL(20,0), the only kind up to 2^64 - 1
 *   decimal(p,s)  DECIMAL(p,s); float FLOAT32; double, real FLOAT64
 *   year          INT16 (a number, 0 for the zero year)
 *   bit(n)        BIT(n), a string of n binary digits
 *   char(n), varchar(n)   VARCHAR(n) (CHAR loses its padding); text types,
 *       set STRING; enum ENUM with its members and "" (the server's value
 *       for an invalid member)
 *   binary, varbinary, blobs   BYTES (base64)
 *   date DATE; datetime TIMESTAMP; timestamp TIMESTAMPTZ (UTC, "Z");
 *   time STRING (a duration: "-838:59:59", never a time of day)
 *   json          JSON (any value); geometry types STRING (WKB in hex)
 *
 * A zero date is written as null whatever the column's NOT NULL, so
 * trib_sr_mysql_type() says so (*zero_null) for date, datetime and
 * timestamp, and the caller makes such fields nullable.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sr_int.h"

static const struct mytype
{
	const char *name;
	trib_sr_kind kind;
	trib_sr_kind unsigned_kind;
}			mytypes[] = {
	{"tinyint", TRIB_SR_K_INT16, TRIB_SR_K_INT16},
	{"smallint", TRIB_SR_K_INT16, TRIB_SR_K_INT32},
	{"mediumint", TRIB_SR_K_INT32, TRIB_SR_K_INT32},
	{"int", TRIB_SR_K_INT32, TRIB_SR_K_UINT32},
	{"integer", TRIB_SR_K_INT32, TRIB_SR_K_UINT32},
	{"bigint", TRIB_SR_K_INT64, TRIB_SR_K_DECIMAL},
	{"decimal", TRIB_SR_K_DECIMAL, TRIB_SR_K_DECIMAL},
	{"numeric", TRIB_SR_K_DECIMAL, TRIB_SR_K_DECIMAL},
	{"float", TRIB_SR_K_FLOAT32, TRIB_SR_K_FLOAT32},
	{"double", TRIB_SR_K_FLOAT64, TRIB_SR_K_FLOAT64},
	{"real", TRIB_SR_K_FLOAT64, TRIB_SR_K_FLOAT64},
	{"year", TRIB_SR_K_INT16, TRIB_SR_K_INT16},
	{"bit", TRIB_SR_K_BIT, TRIB_SR_K_BIT},
	{"char", TRIB_SR_K_VARCHAR, TRIB_SR_K_VARCHAR},
	{"varchar", TRIB_SR_K_VARCHAR, TRIB_SR_K_VARCHAR},
	{"binary", TRIB_SR_K_BYTES, TRIB_SR_K_BYTES},
	{"varbinary", TRIB_SR_K_BYTES, TRIB_SR_K_BYTES},
	{"tinyblob", TRIB_SR_K_BYTES, TRIB_SR_K_BYTES},
	{"blob", TRIB_SR_K_BYTES, TRIB_SR_K_BYTES},
	{"mediumblob", TRIB_SR_K_BYTES, TRIB_SR_K_BYTES},
	{"longblob", TRIB_SR_K_BYTES, TRIB_SR_K_BYTES},
	{"date", TRIB_SR_K_DATE, TRIB_SR_K_DATE},
	{"datetime", TRIB_SR_K_TIMESTAMP, TRIB_SR_K_TIMESTAMP},
	{"timestamp", TRIB_SR_K_TIMESTAMPTZ, TRIB_SR_K_TIMESTAMPTZ},
	{"enum", TRIB_SR_K_ENUM, TRIB_SR_K_ENUM},
	{"json", TRIB_SR_K_JSON, TRIB_SR_K_JSON},
	{NULL, TRIB_SR_K_STRING, TRIB_SR_K_STRING}	/* text, set, time, geometry */
};

/* The length of the type's name at the start of decl ("int(10) unsigned"
 * -> 3). */
static size_t
name_len(const char *decl)
{
	size_t		n = 0;

	while (decl[n] && (isalnum((unsigned char) decl[n]) || decl[n] == '_'))
		n++;
	return n;
}

/* The numbers in "(a)" or "(a,b)" after the name; false when malformed. */
static bool
modifier(const char *p, int32_t *a, int32_t *b, bool *has)
{
	char	   *end;

	*has = false;
	if (*p != '(')
		return true;
	*a = (int32_t) strtol(p + 1, &end, 10);
	if (end == p + 1 || *a < 0)
		return false;
	if (*end == ',')
	{
		const char *q = end + 1;

		*b = (int32_t) strtol(q, &end, 10);
		if (end == q || *b < 0)
			return false;
	}
	*has = true;
	return *end == ')';
}

/*
 * One character of a member in COLUMN_TYPE at *q, which the server writes
 * with append_unescaped: a quote doubled, and a backslash, newline, CR or
 * NUL after a backslash (\\ \n \r \0; \' is read as a quote too).  The
 * character, *q past it; -1 at the member's closing quote or the text's
 * end.  The daemon's MySQL source reads the same escapes (its
 * trib_sql_members, consumer/src/lib/sqlmembers.c); libtribsr includes no
 * daemon code, so this small reader is its one copy.
 */
static int
member_char(const char **q)
{
	const char *p = *q;

	if (*p == '\0' || (*p == '\'' && p[1] != '\''))
		return -1;
	if (*p == '\'' || (*p == '\\' && p[1] != '\0'))
	{
		p++;
		*q = p + 1;
		if (p[-1] == '\'')
			return '\'';
		return *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p == '0' ? '\0' : (unsigned char) *p;
	}
	*q = p + 1;
	return (unsigned char) *p;
}

/*
 * The members of "enum('a','it''s','e\\f')" with "" first, as one malloc'd
 * block: the pointer array, then the strings.  NULL when malformed.  A
 * member is a C string, so an escaped NUL ends it.
 */
static const char **
enum_labels(const char *decl, size_t *n)
{
	const char *p = strchr(decl, '(');
	size_t		count = 1,
				bytes = 1;
	const char **labels;
	char	   *w;

	if (p == NULL)
		return NULL;
	/* first pass: count the members and their bytes */
	for (const char *q = p + 1; *q == '\'';)
	{
		for (q++; member_char(&q) >= 0;)
			bytes++;
		if (*q != '\'')
			return NULL;
		q++;
		count++;
		bytes++;
		if (*q == ',')
			q++;
		else if (*q != ')')
			return NULL;
	}
	labels = malloc(count * sizeof(*labels) + bytes);
	if (labels == NULL)
		return NULL;
	w = (char *) (labels + count);
	labels[0] = w;
	*w++ = '\0';
	*n = 1;
	for (const char *q = p + 1; *q == '\'';)
	{
		int			c;

		labels[(*n)++] = w;
		for (q++; (c = member_char(&q)) >= 0;)
			*w++ = (char) c;
		*w++ = '\0';
		q++;
		if (*q == ',')
			q++;
	}
	return labels;
}

/* See tribsr.h. */
bool
trib_sr_mysql_type(const char *data_type, const char *column_type, trib_sr_type *out,
				   bool *zero_null, char *errbuf, size_t errlen)
{
	const char *decl = column_type && column_type[0] ? column_type : data_type;
	size_t		n = name_len(decl);
	const struct mytype *t = mytypes;
	bool		is_unsigned = strstr(decl, " unsigned") != NULL;
	bool		has = false;
	int32_t		a = -1,
				b = 0;

	memset(out, 0, sizeof(*out));
	out->length = out->precision = out->scale = -1;
	*zero_null = false;
	for (; t->name; t++)
		if (strlen(t->name) == n && strncasecmp(decl, t->name, n) == 0)
			break;
	out->kind = is_unsigned ? t->unsigned_kind : t->kind;
	out->finite = true;			/* NaN and infinities are refused upstream */
	/* enum('a','b') and set('x','y') list members, not numbers */
	if (strncmp(decl + n, "('", 2) != 0 && !modifier(decl + n, &a, &b, &has))
	{
		sr_err(errbuf, errlen, "malformed MySQL type \"%s\" (accepted: a name with an "
			   "optional (n) or (p,s), e.g. decimal(12,2), varchar(20))", decl);
		return false;
	}
	switch (out->kind)
	{
		case TRIB_SR_K_DECIMAL:
			/* bigint unsigned, else decimal: (10,0) when no modifier */
			out->precision = t->kind == TRIB_SR_K_INT64 ? 20 : has ? a : 10;
			out->scale = t->kind == TRIB_SR_K_INT64 ? 0 : has ? b : 0;
			break;
		case TRIB_SR_K_VARCHAR:
			out->length = has ? a : strcmp(t->name, "char") == 0 ? 1 : -1;
			break;
		case TRIB_SR_K_BIT:
			out->length = has ? a : 1;
			break;
		case TRIB_SR_K_DATE:
		case TRIB_SR_K_TIMESTAMP:
		case TRIB_SR_K_TIMESTAMPTZ:
			*zero_null = true;
			break;
		case TRIB_SR_K_ENUM:
			out->labels = enum_labels(decl, &out->nlabels);
			if (out->labels == NULL)
			{
				out->nlabels = 0;
				out->kind = TRIB_SR_K_STRING;	/* members unknown: any string */
			}
			break;
		default:
			break;
	}
	return true;
}

/* See tribsr.h. */
void
trib_sr_type_release(trib_sr_type *t)
{
	free((void *) t->labels);
	t->labels = NULL;
	t->nlabels = 0;
}
