/*
 * mysql_snapshot_row.c: one column of a MySQL snapshot row, from the text
 * SELECT returns to the JSON the binlog decoder writes for the same value
 * (mysql_snapshot_row.h has the mapping).
 */
#include "mysql_snapshot_row.h"

#include <stdlib.h>
#include <string.h>


#include "base64.h"
#include "binlog_int.h"
#include "hex.h"
#include "mysql_charset.h"
#include "mysql_int.h"
#include "words.h"
#include "xalloc.h"

/* Is `t` one of the NULL-terminated words? */
static bool
one_of(const char *t, const char *const *words)
{
	return trib_words_find_span(words, t, strlen(t)) >= 0;
}

trib_my_snaprow_kind
trib_my_snaprow_kind_of(const trib_my_colinfo *col)
{
	static const char *const nums[] = {"tinyint", "smallint", "mediumint", "int", "integer",
	"bigint", "decimal", "numeric", "year", NULL};
	static const char *const bins[] = {"binary", "varbinary", "tinyblob", "blob",
	"mediumblob", "longblob", NULL};
	static const char *const geoms[] = {"geometry", "point", "linestring", "polygon",
		"multipoint", "multilinestring", "multipolygon", "geometrycollection",
	"geomcollection", NULL};
	const char *t = col->data_type ? col->data_type : "";

	if (col->is_json)
		return TRIB_MY_SNAPROW_JSON;
	if (one_of(t, nums))
		return TRIB_MY_SNAPROW_NUMBER;
	if (strcmp(t, "float") == 0)
		return TRIB_MY_SNAPROW_FLOAT;
	if (strcmp(t, "double") == 0 || strcmp(t, "real") == 0)
		return TRIB_MY_SNAPROW_DOUBLE;
	if (strcmp(t, "date") == 0)
		return TRIB_MY_SNAPROW_DATE;
	if (strcmp(t, "time") == 0)
		return TRIB_MY_SNAPROW_TIME;
	if (strcmp(t, "datetime") == 0)
		return TRIB_MY_SNAPROW_DATETIME;
	if (strcmp(t, "timestamp") == 0)
		return TRIB_MY_SNAPROW_TIMESTAMP;
	if (strcmp(t, "bit") == 0)
		return TRIB_MY_SNAPROW_BIT;
	if (one_of(t, geoms))
		return TRIB_MY_SNAPROW_GEOMETRY;
	if (one_of(t, bins) || col->collation == TRIB_MY_COLLATION_BINARY)
		return TRIB_MY_SNAPROW_BINARY;
	return TRIB_MY_SNAPROW_TEXT;
}

void
trib_my_snaprow_expr(trib_strbuf *b, const trib_my_colinfo *col, trib_my_snaprow_kind kind)
{
	static const char *const pre[] = {
		[TRIB_MY_SNAPROW_NUMBER] = "CAST(", [TRIB_MY_SNAPROW_FLOAT] = "CAST(CAST(",
		[TRIB_MY_SNAPROW_DOUBLE] = "CAST(", [TRIB_MY_SNAPROW_DATE] = "CAST(",
		[TRIB_MY_SNAPROW_TIME] = "CAST(", [TRIB_MY_SNAPROW_DATETIME] = "CAST(",
		[TRIB_MY_SNAPROW_TIMESTAMP] = "CAST(", [TRIB_MY_SNAPROW_TEXT] = "HEX(CONVERT(",
		[TRIB_MY_SNAPROW_JSON] = "HEX(CONVERT(", [TRIB_MY_SNAPROW_BINARY] = "HEX(",
		[TRIB_MY_SNAPROW_BIT] = "BIN(", [TRIB_MY_SNAPROW_GEOMETRY] = "HEX(ST_AsWKB(",
	};
	static const char *const post[] = {
		[TRIB_MY_SNAPROW_NUMBER] = " AS CHAR)", [TRIB_MY_SNAPROW_FLOAT] = " AS DOUBLE) AS CHAR)",
		[TRIB_MY_SNAPROW_DOUBLE] = " AS CHAR)", [TRIB_MY_SNAPROW_DATE] = " AS CHAR)",
		[TRIB_MY_SNAPROW_TIME] = " AS CHAR)", [TRIB_MY_SNAPROW_DATETIME] = " AS CHAR)",
		[TRIB_MY_SNAPROW_TIMESTAMP] = " AS CHAR)", [TRIB_MY_SNAPROW_TEXT] = " USING utf8mb4))",
		[TRIB_MY_SNAPROW_JSON] = " USING utf8mb4))", [TRIB_MY_SNAPROW_BINARY] = ")",
		[TRIB_MY_SNAPROW_BIT] = " + 0)", [TRIB_MY_SNAPROW_GEOMETRY] = "))",
	};

	trib_strbuf_adds(b, pre[kind]);
	trib_my_quote_ident(b, col->name);
	trib_strbuf_adds(b, post[kind]);
}

/* Zero or partly zero date part ("0000-00-00", "2024-00-10")? */
static bool
zero_date(const char *t)
{
	return strlen(t) >= 10 && (strncmp(t, "0000", 4) == 0 || strncmp(t + 5, "00", 2) == 0 ||
							   strncmp(t + 8, "00", 2) == 0);
}

/* Write a temporal text: "T" for the space, the fraction's trailing zeros
 * (and a bare ".") trimmed, "Z" when utc. */
static void
gen_temporal(yajl_gen g, const char *t, bool utc)
{
	size_t		n = strlen(t);
	char	   *s = trib_xmalloc(n + 2);
	const char *dot = strchr(t, '.');

	memcpy(s, t, n + 1);
	if (dot)
	{
		while (n > 0 && s[n - 1] == '0')
			n--;
		if (n > 0 && s[n - 1] == '.')
			n--;
	}
	for (size_t i = 0; i < n; i++)
		if (s[i] == ' ')
			s[i] = 'T';
	if (utc)
		s[n++] = 'Z';
	trib_my_gen_str(g, s, n);
	free(s);
}

/* The bytes of HEX text (NUL-terminated too); NULL when it is not hex. */
static char *
unhex(const char *t, size_t *n)
{
	size_t		len = strlen(t);
	char	   *raw = trib_xmalloc(len / 2 + 1);

	if (!trib_hex_decode(t, len, (unsigned char *) raw, n))
	{
		free(raw);
		return NULL;
	}
	raw[*n] = '\0';
	return raw;
}

/* HEX text to base64. */
static bool
gen_base64_of_hex(yajl_gen g, const char *t)
{
	size_t		n = strlen(t) / 2;
	unsigned char *raw = trib_xmalloc(n + 1);
	char	   *out = trib_xmalloc(trib_b64_encoded_len(n, true) + 1);
	size_t		got = 0;
	bool		ok = trib_hex_decode(t, 2 * n, raw, &got);
	size_t		len = ok ? trib_b64_encode(raw, got, false, true, out) : 0;

	if (ok)
		trib_my_gen_str(g, out, len);
	free(raw);
	free(out);
	return ok;
}

/* BIN text left-padded with zeros to `bits` digits. */
static void
gen_bits(yajl_gen g, const char *t, int bits)
{
	size_t		n = strlen(t),
				w = bits > 0 && (size_t) bits > n ? (size_t) bits : n;
	char	   *s = trib_xmalloc(w + 1);

	memset(s, '0', w - n);
	memcpy(s + (w - n), t, n + 1);
	trib_my_gen_str(g, s, w);
	free(s);
}

/* A FLOAT or DOUBLE read as double text. */
static bool
gen_real(yajl_gen g, const char *t, bool single)
{
	char	   *end;
	double		v = strtod(t, &end);
	char		buf[64];

	if (end == t || *end != '\0')
		return false;
	trib_my_format_double(v, single, buf, sizeof(buf));
	trib_my_gen_num(g, buf, strlen(buf));
	return true;
}

bool
trib_my_snaprow_value(yajl_gen g, const trib_my_colinfo *col, trib_my_snaprow_kind kind, int bits,
				   const char *t, const char *zero, char *errbuf, size_t errlen)
{
	bool		ok = true;

	if (t == NULL)
		return yajl_gen_null(g), true;
	switch (kind)
	{
		case TRIB_MY_SNAPROW_NUMBER:
			trib_my_gen_num(g, t, strlen(t));
			break;
		case TRIB_MY_SNAPROW_FLOAT:
		case TRIB_MY_SNAPROW_DOUBLE:
			ok = gen_real(g, t, kind == TRIB_MY_SNAPROW_FLOAT);
			break;
		case TRIB_MY_SNAPROW_DATE:
		case TRIB_MY_SNAPROW_DATETIME:
		case TRIB_MY_SNAPROW_TIMESTAMP:
			if (zero_date(t) && zero)
				trib_my_gen_str(g, zero, strlen(zero));
			else if (zero_date(t))
				yajl_gen_null(g);
			else
				gen_temporal(g, t, kind == TRIB_MY_SNAPROW_TIMESTAMP);
			break;
		case TRIB_MY_SNAPROW_TIME:
			gen_temporal(g, t, false);
			break;
		case TRIB_MY_SNAPROW_JSON:
		case TRIB_MY_SNAPROW_TEXT:
			{
				size_t		n = 0;
				char	   *raw = unhex(t, &n);

				if (raw && kind == TRIB_MY_SNAPROW_JSON)
					trib_my_gen_json_text(g, raw, n);
				else if (raw)
					trib_my_gen_str(g, raw, n);
				ok = raw != NULL;
				free(raw);
			}
			break;
		case TRIB_MY_SNAPROW_BINARY:
		case TRIB_MY_SNAPROW_GEOMETRY:
			if (kind == TRIB_MY_SNAPROW_BINARY)
				ok = gen_base64_of_hex(g, t);
			else
			{
				char	   *lower = trib_xstrdup(t);

				for (char *p = lower; *p; p++)
					if (*p >= 'A' && *p <= 'F')
						*p = (char) (*p - 'A' + 'a');
				trib_my_gen_str(g, lower, strlen(lower));
				free(lower);
			}
			break;
		case TRIB_MY_SNAPROW_BIT:
			gen_bits(g, t, bits);
			break;
	}
	if (!ok)
		return trib_my_fail(errbuf, errlen, "column %s: the server's text \"%.40s\" is not a %s",
							col->name, t, col->data_type ? col->data_type : "value");
	return true;
}
