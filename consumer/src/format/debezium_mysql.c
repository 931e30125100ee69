/*
 * debezium_mysql.c: Debezium mode for the MySQL/MariaDB source: which
 * encoding each column gets, as Debezium's MySQL connector maps its
 * types, and the values and Connect schemas of the kinds only MySQL has
 * (see debezium.h).
 *
 * Design.  The MySQL source's relations carry each column's DATA_TYPE in
 * `type` and its COLUMN_TYPE in `decl` ("int(10) unsigned",
 * "decimal(12,2)", "datetime(3)", "bit(5)", "enum('a','b')"), which hold
 * everything the encodings depend on: the sign (an unsigned SMALLINT or
 * INT needs the next wider Connect integer, an unsigned BIGINT follows
 * bigint.unsigned.handling.mode), the scale, the fractional-second
 * precision (DATETIME(0..3) is a Timestamp in millis, DATETIME(4..6) a
 * MicroTimestamp), the bit count and the members.  Kinds shared with
 * PostgreSQL (decimals, bits, binary, json, dates, DATETIME as a
 * timestamp, TIMESTAMP as a ZonedTimestamp: the source already writes it
 * in UTC with "Z") use the PostgreSQL encoders; what only MySQL has is
 * here: TIME is a signed duration that may pass 24 hours (MicroTime, or
 * Time in millis with connect), YEAR an int32 io.debezium.time.Year,
 * ENUM and SET strings named io.debezium.data.Enum / EnumSet with their
 * members in `allowed`, GEOMETRY the Geometry struct of its WKB (the
 * source keeps no SRID, so srid is null).  Debezium's MySQL connector
 * knows the time.precision.modes adaptive_time_microseconds and connect;
 * `adaptive` acts as adaptive_time_microseconds here.
 *
 * Two rules of Debezium's MySQL connector that the value alone cannot
 * tell, so the coltype carries them: a TIMESTAMP(p)'s ZonedTimestamp has
 * exactly p fraction digits, zeros kept (Debezium 2.2 on), where the
 * source trims them; and a NOT NULL DATE, DATETIME or TIMESTAMP column's
 * zero date, null from the source, is the epoch (0, or
 * "1970-01-01T00:00:00Z"), Debezium's fallback for a required field, so
 * that the value agrees with the field's "optional": false.
 */
#include "debezium.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "sqlmembers.h"
#include "xalloc.h"

/* A type's name and the kind and Connect type of its values. */
typedef struct my_kind
{
	const char *name;
	trib_dbz_kind kind;
	const char *connect;		/* ASIS: signed */
	const char *connect_unsigned;	/* ASIS: unsigned */
} my_kind;

static const my_kind my_kinds[] = {
	{"tinyint", TRIB_DBZ_ASIS, "int16", "int16"},
	{"smallint", TRIB_DBZ_ASIS, "int16", "int32"},
	{"mediumint", TRIB_DBZ_ASIS, "int32", "int32"},
	{"int", TRIB_DBZ_ASIS, "int32", "int64"},
	{"integer", TRIB_DBZ_ASIS, "int32", "int64"},
	{"bigint", TRIB_DBZ_ASIS, "int64", NULL},	/* unsigned: MY_UINT64 */
	{"float", TRIB_DBZ_ASIS, "float", "float"},
	{"double", TRIB_DBZ_ASIS, "double", "double"},
	{"real", TRIB_DBZ_ASIS, "double", "double"},
	{"decimal", TRIB_DBZ_NUMERIC, NULL, NULL},
	{"numeric", TRIB_DBZ_NUMERIC, NULL, NULL},
	{"bit", TRIB_DBZ_BIT1, NULL, NULL},	/* bit(n > 1): BITS below */
	{"binary", TRIB_DBZ_BYTEA, NULL, NULL},
	{"varbinary", TRIB_DBZ_BYTEA, NULL, NULL},
	{"tinyblob", TRIB_DBZ_BYTEA, NULL, NULL},
	{"blob", TRIB_DBZ_BYTEA, NULL, NULL},
	{"mediumblob", TRIB_DBZ_BYTEA, NULL, NULL},
	{"longblob", TRIB_DBZ_BYTEA, NULL, NULL},
	{"json", TRIB_DBZ_JSON, NULL, NULL},
	{"date", TRIB_DBZ_DATE, NULL, NULL},
	{"datetime", TRIB_DBZ_TIMESTAMP, NULL, NULL},
	{"timestamp", TRIB_DBZ_TIMESTAMPTZ, NULL, NULL},
	{"time", TRIB_DBZ_MY_TIME, NULL, NULL},
	{"year", TRIB_DBZ_MY_YEAR, NULL, NULL},
	{"enum", TRIB_DBZ_MY_ENUM, NULL, NULL},
	{"set", TRIB_DBZ_MY_SET, NULL, NULL},
	{"geometry", TRIB_DBZ_MY_GEOMETRY, NULL, NULL},
	{"point", TRIB_DBZ_MY_GEOMETRY, NULL, NULL},
	{"linestring", TRIB_DBZ_MY_GEOMETRY, NULL, NULL},
	{"polygon", TRIB_DBZ_MY_GEOMETRY, NULL, NULL},
	{"multipoint", TRIB_DBZ_MY_GEOMETRY, NULL, NULL},
	{"multilinestring", TRIB_DBZ_MY_GEOMETRY, NULL, NULL},
	{"multipolygon", TRIB_DBZ_MY_GEOMETRY, NULL, NULL},
	{"geometrycollection", TRIB_DBZ_MY_GEOMETRY, NULL, NULL},
	{"geomcollection", TRIB_DBZ_MY_GEOMETRY, NULL, NULL},
	{NULL, TRIB_DBZ_ASIS, "string", "string"}	/* char, varchar, text, ... */
};

/* The number in "(n" after the name, or def. */
static int
paren_number(const char *s, int def)
{
	const char *p = strchr(s, '(');

	return p && isdigit((unsigned char) p[1]) ? atoi(p + 1) : def;
}

/* See debezium.h. */
void
trib_dbz_my_coltype(const trib_column *col, trib_dbz_coltype *out)
{
	const char *decl = col->decl ? col->decl : col->type ? col->type : "";
	size_t		n = 0;
	bool		is_unsigned = strstr(decl, " unsigned") != NULL;
	const my_kind *k = my_kinds;

	memset(out, 0, sizeof(*out));
	out->precision = -1;
	out->scale = -1;
	while (isalnum((unsigned char) decl[n]) || decl[n] == '_')
		n++;
	for (; k->name; k++)
		if (strlen(k->name) == n && strncasecmp(decl, k->name, n) == 0)
			break;
	out->kind = k->kind;
	out->connect = is_unsigned ? k->connect_unsigned : k->connect;
	if (k->kind == TRIB_DBZ_ASIS && out->connect == NULL)
		out->kind = TRIB_DBZ_MY_UINT64;
	switch (out->kind)
	{
		case TRIB_DBZ_NUMERIC:
			out->scale = strchr(decl, ',') ? atoi(strchr(decl, ',') + 1) : 0;
			break;
		case TRIB_DBZ_BIT1:
			if (paren_number(decl, 1) > 1)
				out->kind = TRIB_DBZ_BITS;
			break;
		case TRIB_DBZ_DATE:
			out->epoch_for_null = !col->nullable;
			break;
		case TRIB_DBZ_TIMESTAMP:
		case TRIB_DBZ_TIMESTAMPTZ:
			out->precision = paren_number(decl, 0);
			out->epoch_for_null = !col->nullable;
			break;
		case TRIB_DBZ_MY_TIME:
			out->precision = paren_number(decl, 0);
			break;
		default:
			break;
	}
}

/* "[-]h+:mm:ss[.f{1,6}]" (a MySQL TIME as the source writes it) in
 * microseconds; false when malformed. */
static bool
parse_duration(const char *s, int64_t *usec)
{
	bool		neg = *s == '-';
	int64_t		h = 0,
				m,
				sec,
				frac = 0;
	int			nd = 0;

	if (neg)
		s++;
	for (; isdigit((unsigned char) *s); s++, nd++)
		h = h * 10 + (*s - '0');
	if (nd == 0 || nd > 4 || s[0] != ':' || !isdigit((unsigned char) s[1]) ||
		!isdigit((unsigned char) s[2]) || s[3] != ':' || !isdigit((unsigned char) s[4]) ||
		!isdigit((unsigned char) s[5]))
		return false;
	m = (s[1] - '0') * 10 + (s[2] - '0');
	sec = (s[4] - '0') * 10 + (s[5] - '0');
	s += 6;
	if (*s == '.')
	{
		nd = 0;
		for (s++; isdigit((unsigned char) *s) && nd < 6; s++, nd++)
			frac = frac * 10 + (*s - '0');
		if (nd == 0)
			return false;
		for (; nd < 6; nd++)
			frac *= 10;
	}
	if (*s != '\0' || m > 59 || sec > 59)
		return false;
	*usec = ((h * 3600 + m * 60 + sec) * INT64_C(1000000) + frac) * (neg ? -1 : 1);
	return true;
}

/* GEOMETRY: the source's hex WKB as Debezium's Geometry struct. */
static bool
put_geometry(trib_strbuf *out, const char *hex)
{
	size_t		n = strlen(hex);
	unsigned char *wkb = trib_xrealloc(NULL, n / 2 + 1);
	size_t		len;
	bool		ok = n % 2 == 0 && trib_hex_decode(hex, n, wkb, &len);

	if (ok)
	{
		trib_strbuf_adds(out, "{\"wkb\":");
		trib_dbz_put_bytes(out, TRIB_DBZ_BINARY_BYTES, wkb, len);
		trib_strbuf_adds(out, ",\"srid\":null}");
	}
	free(wkb);
	return ok;
}

/* See debezium.h. */
bool
trib_dbz_my_value(const trib_dbz_opts *o, const trib_dbz_coltype *t, yajl_val v,
				  trib_strbuf *out)
{
	const char *s = YAJL_GET_STRING(v);
	int64_t		usec;

	switch (t->kind)
	{
		case TRIB_DBZ_MY_TIME:
			if (s == NULL || !parse_duration(s, &usec))
				return false;
			if (o->time == TRIB_DBZ_TIME_CONNECT)
				trib_dbz_put_i64(out, usec / 1000 - (usec % 1000 < 0 ? 1 : 0));
			else
				trib_dbz_put_i64(out, usec);
			return true;
		case TRIB_DBZ_MY_YEAR:
			if (!YAJL_IS_NUMBER(v))
				return false;
			trib_strbuf_adds(out, v->u.number.r);
			return true;
		case TRIB_DBZ_MY_ENUM:
		case TRIB_DBZ_MY_SET:
			/* the member names; the number when the source knew none */
			if (YAJL_IS_NUMBER(v))
				trib_dbz_quote(out, v->u.number.r);
			else if (s != NULL)
				trib_dbz_quote(out, s);
			return s != NULL || YAJL_IS_NUMBER(v);
		case TRIB_DBZ_MY_GEOMETRY:
			return s != NULL && put_geometry(out, s);
		default:
			return false;
	}
}

/* See debezium.h.  Every temporal encoding of DATE and DATETIME counts
 * from the epoch, so its epoch is 0. */
void
trib_dbz_my_epoch(const trib_dbz_coltype *t, trib_strbuf *out)
{
	trib_strbuf_adds(out, t->kind == TRIB_DBZ_TIMESTAMPTZ ? "\"1970-01-01T00:00:00Z\"" : "0");
}

/* The members of "enum('a','it''s')" joined with ',' (Debezium's
 * `allowed` parameter), as a JSON string; decl is COLUMN_TYPE, with its
 * escapes (lib/sqlmembers.h).  Empty when decl lists none. */
static void
put_allowed(trib_strbuf *o, const char *decl)
{
	trib_strbuf list = {0};
	char	  **v = NULL;
	int			n = 0;

	trib_strbuf_add(&list, "", 0);
	if (decl && trib_sql_members(decl, &v, &n))
		for (int i = 0; i < n; i++)
		{
			if (i > 0)
				trib_strbuf_addc(&list, ',');
			trib_strbuf_adds(&list, v[i]);
			free(v[i]);
		}
	free(v);
	trib_strbuf_adds(o, ",\"parameters\":{\"allowed\":");
	trib_dbz_quote(o, list.data);
	trib_strbuf_addc(o, '}');
	trib_strbuf_free(&list);
}

/* See debezium.h. */
void
trib_dbz_my_schema(trib_strbuf *o, const trib_dbz_opts *opt, const trib_dbz_coltype *t,
				   const char *decl)
{
	switch (t->kind)
	{
		case TRIB_DBZ_MY_UINT64:
			if (opt->bigint_unsigned == TRIB_DBZ_BIGINT_PRECISE)
				trib_strbuf_adds(o, "\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect."
								 "data.Decimal\",\"version\":1,\"parameters\":{\"scale\":\"0\","
								 "\"connect.decimal.precision\":\"20\"}");
			else
				trib_strbuf_adds(o, "\"type\":\"int64\"");
			break;
		case TRIB_DBZ_MY_TIME:
			if (opt->time == TRIB_DBZ_TIME_CONNECT)
				trib_strbuf_adds(o, "\"type\":\"int32\",\"name\":\"org.apache.kafka.connect."
								 "data.Time\",\"version\":1");
			else
				trib_strbuf_adds(o, "\"type\":\"int64\",\"name\":\"io.debezium.time.MicroTime\","
								 "\"version\":1");
			break;
		case TRIB_DBZ_MY_YEAR:
			trib_strbuf_adds(o, "\"type\":\"int32\",\"name\":\"io.debezium.time.Year\","
							 "\"version\":1");
			break;
		case TRIB_DBZ_MY_ENUM:
		case TRIB_DBZ_MY_SET:
			trib_strbuf_printf(o, "\"type\":\"string\",\"name\":\"io.debezium.data.%s\","
							   "\"version\":1", t->kind == TRIB_DBZ_MY_ENUM ? "Enum" : "EnumSet");
			put_allowed(o, decl);
			break;
		case TRIB_DBZ_MY_GEOMETRY:
			trib_strbuf_adds(o, "\"type\":\"struct\",\"fields\":["
							 "{\"type\":\"bytes\",\"optional\":false,\"field\":\"wkb\"},"
							 "{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"}],"
							 "\"name\":\"io.debezium.data.geometry.Geometry\",\"version\":1,"
							 "\"doc\":\"Geometry\"");
			break;
		default:
			trib_strbuf_adds(o, "\"type\":\"string\"");
			break;
	}
}
