/*
 * binlog_tablemap.c: TABLE_MAP events, with their optional metadata and
 * the schema source, to table shapes (mysql_binlog.h).
 *
 * TABLE_MAP (MariaDB KB "TABLE_MAP_EVENT", MySQL rows_event.h): post-header
 * table id (6 bytes; 4 when the format's post-header is 6 bytes long) and
 * flags (2); body: database and table names (length byte, bytes, NUL), the
 * column count (packed), one type byte per column, the metadata block
 * (packed length, then per column 0, 1 or 2 bytes depending on its type),
 * the nullable bitmap, and optional metadata as type-length-value fields
 * (MySQL 8.0.1, MariaDB 10.5; binlog_row_metadata):
 *
 *   1 SIGNEDNESS        one bit per numeric column, MSB first, 1 = unsigned
 *   2 DEFAULT_CHARSET   a default collation, then (index, collation) pairs
 *                       for the character columns that differ
 *   3 COLUMN_CHARSET    one collation per character column
 *   4 COLUMN_NAME       one length-prefixed name per column
 *   5 SET_STR_VALUE     per SET column: count, then length-prefixed names
 *   6 ENUM_STR_VALUE    the same for ENUM columns
 *   7 GEOMETRY_TYPE     per GEOMETRY column (not needed here)
 *   8 SIMPLE_PRIMARY_KEY        primary key column indexes
 *   9 PRIMARY_KEY_WITH_PREFIX   (index, prefix length) pairs
 *  10 ENUM_AND_SET_DEFAULT_CHARSET, 11 ENUM_AND_SET_COLUMN_CHARSET
 *                       like 2 and 3, over the ENUM and SET columns
 * Unknown types are skipped.  FULL writes all of them, MINIMAL 1, 2/3, 7,
 * 10/11.  Which columns count as numeric and as character columns differs
 * by server, as measured on MariaDB 10.11 and read in MySQL's source:
 * MariaDB counts YEAR as numeric and GEOMETRY as a character column, MySQL
 * neither.
 *
 * The STRING type hides ENUM and SET: its first metadata byte is the real
 * type, with bits 4-5 inverted carrying the high bits of the length.
 *
 * Shapes merge this with the schema source's version of the table (names,
 * signedness, collations, members, primary key where the binlog has none;
 * JSON-ness and generated columns always), after checking that both
 * describe the same columns: a different column count or an incompatible
 * type means the schema source answered for another version of the table,
 * and is an error rather than a silently wrong decoding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog_int.h"
#include "xalloc.h"

/* The parsed bytes of one TABLE_MAP (pointers into the event). */
typedef struct tm_raw
{
	const char *db;
	size_t		dblen;
	const char *table;
	size_t		tlen;
	uint64_t	ncols;
	const uint8_t *types;
	const uint8_t *meta;
	size_t		metalen;
	const uint8_t *nullbits;
	const uint8_t *opt;
	size_t		optlen;
} tm_raw;

/* Metadata bytes a column of this binlog type has in the TABLE_MAP. */
static int
meta_size(uint8_t type)
{
	switch (type)
	{
		case TRIB_MYT_FLOAT:
		case TRIB_MYT_DOUBLE:
		case TRIB_MYT_BLOB:
		case TRIB_MYT_GEOMETRY:
		case TRIB_MYT_JSON:
		case TRIB_MYT_TIME2:
		case TRIB_MYT_DATETIME2:
		case TRIB_MYT_TIMESTAMP2:
			return 1;
		case TRIB_MYT_VARCHAR:
		case TRIB_MYT_VAR_STRING:
		case TRIB_MYT_BIT:
		case TRIB_MYT_NEWDECIMAL:
		case TRIB_MYT_STRING:
		case TRIB_MYT_ENUM:
		case TRIB_MYT_SET:
			return 2;
		case TRIB_MYT_TINY:
		case TRIB_MYT_SHORT:
		case TRIB_MYT_INT24:
		case TRIB_MYT_LONG:
		case TRIB_MYT_LONGLONG:
		case TRIB_MYT_YEAR:
		case TRIB_MYT_DATE:
		case TRIB_MYT_NEWDATE:
		case TRIB_MYT_TIME:
		case TRIB_MYT_DATETIME:
		case TRIB_MYT_TIMESTAMP:
		case TRIB_MYT_NULL:
			return 0;
		default:
			return -1;
	}
}

/* Split a TABLE_MAP body into its parts. */
static bool
parse_raw(trib_my_cur *c, tm_raw *r, char *errbuf, size_t errlen)
{
	r->dblen = trib_my_cur_u8(c);
	r->db = (const char *) trib_my_cur_take(c, r->dblen);
	trib_my_cur_take(c, 1);
	r->tlen = trib_my_cur_u8(c);
	r->table = (const char *) trib_my_cur_take(c, r->tlen);
	trib_my_cur_take(c, 1);
	r->ncols = trib_my_cur_packed(c);
	if (c->bad || r->ncols == 0 || r->ncols > 4096)
		return trib_my_fail(errbuf, errlen, "TABLE_MAP: bad names or column count");
	r->types = trib_my_cur_take(c, r->ncols);
	r->metalen = trib_my_cur_packed(c);
	r->meta = trib_my_cur_take(c, r->metalen);
	r->nullbits = trib_my_cur_take(c, (r->ncols + 7) / 8);
	r->optlen = trib_my_cur_left(c);
	r->opt = trib_my_cur_take(c, r->optlen);
	if (c->bad)
		return trib_my_fail(errbuf, errlen, "TABLE_MAP: truncated");
	return true;
}

/* Is `type` one of types[0..n)? */
static bool
type_in(uint8_t type, const uint8_t *types, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (types[i] == type)
			return true;
	return false;
}

/* Does the server count this column in SIGNEDNESS?  (YEAR on MariaDB.) */
static bool
is_numeric(const trib_my_decoder *d, const trib_my_column *col)
{
	static const uint8_t numeric[] = {TRIB_MYT_TINY, TRIB_MYT_SHORT, TRIB_MYT_INT24,
		TRIB_MYT_LONG, TRIB_MYT_LONGLONG, TRIB_MYT_NEWDECIMAL, TRIB_MYT_FLOAT, TRIB_MYT_DOUBLE};

	return type_in(col->type, numeric, sizeof(numeric)) ||
		(col->type == TRIB_MYT_YEAR && d->flavor == TRIB_MY_MARIADB);
}

/* Does the server count this column in (DEFAULT_|COLUMN_)CHARSET?
 * (GEOMETRY on MariaDB.) */
static bool
is_character(const trib_my_decoder *d, const trib_my_column *col)
{
	static const uint8_t character[] = {TRIB_MYT_STRING, TRIB_MYT_VARCHAR,
		TRIB_MYT_VAR_STRING, TRIB_MYT_BLOB};

	return type_in(col->type, character, sizeof(character)) ||
		(col->type == TRIB_MYT_GEOMETRY && d->flavor == TRIB_MY_MARIADB);
}

static bool
is_enum_or_set(const trib_my_decoder *d, const trib_my_column *col)
{
	(void) d;
	return col->type == TRIB_MYT_ENUM || col->type == TRIB_MYT_SET;
}

/* Read each column's type and metadata bytes. */
static bool
read_columns(const tm_raw *r, trib_my_shape *s, char *errbuf, size_t errlen)
{
	trib_my_cur m = trib_my_cur_make(r->meta, r->metalen);

	for (int i = 0; i < s->ncols; i++)
	{
		trib_my_column *col = &s->cols[i];
		int			n = meta_size(r->types[i]);

		col->type = r->types[i];
		if (n < 0)
			return trib_my_fail(errbuf, errlen,
								"TABLE_MAP %s.%s: column %d has binlog type %u, which is not supported",
								s->db, s->table, i + 1, (unsigned) col->type);
		col->meta = (uint16_t) (n == 2 ? trib_my_cur_le(&m, 1) | trib_my_cur_le(&m, 1) << 8
								: trib_my_cur_le(&m, (size_t) n));
		col->nullable = (r->nullbits[i / 8] >> (i % 8)) & 1;
		if (m.bad)
			return trib_my_fail(errbuf, errlen, "TABLE_MAP %s.%s: metadata too short",
								s->db, s->table);
	}
	return true;
}

/* Length, precision, scale and the real type from the metadata. */
static void
apply_meta(trib_my_column *col)
{
	uint8_t		b0 = (uint8_t) (col->meta & 0xFF),
				b1 = (uint8_t) (col->meta >> 8);

	switch (col->type)
	{
		case TRIB_MYT_VARCHAR:
		case TRIB_MYT_VAR_STRING:
			col->length = col->meta;
			break;
		case TRIB_MYT_STRING:
			if ((b0 & 0x30) != 0x30)
			{
				col->length = (uint32_t) (b1 | (((b0 & 0x30) ^ 0x30) << 4));
				b0 |= 0x30;
			}
			else
				col->length = b1;
			if (b0 == TRIB_MYT_ENUM || b0 == TRIB_MYT_SET)
				col->type = b0;
			else
				col->is_char = true;
			break;
		case TRIB_MYT_BIT:
			col->length = (uint32_t) b1 * 8 + b0;
			break;
		case TRIB_MYT_NEWDECIMAL:
			col->precision = b0;
			col->scale = b1;
			break;
		case TRIB_MYT_TIME2:
		case TRIB_MYT_DATETIME2:
		case TRIB_MYT_TIMESTAMP2:
			col->scale = b0;
			break;
		case TRIB_MYT_BLOB:
		case TRIB_MYT_GEOMETRY:
		case TRIB_MYT_JSON:
		case TRIB_MYT_FLOAT:
		case TRIB_MYT_DOUBLE:
			col->length = b0;
			break;
		default:
			break;
	}
}

/* Is the metadata one a server can write?  (It sizes every value read.) */
static bool
meta_valid(const trib_my_column *col)
{
	switch (col->type)
	{
		case TRIB_MYT_TIME2:
		case TRIB_MYT_DATETIME2:
		case TRIB_MYT_TIMESTAMP2:
			return col->scale <= 6;
		case TRIB_MYT_NEWDECIMAL:
			return trib_my_decimal_size(col->precision, col->scale) > 0 && col->scale <= 38;
		case TRIB_MYT_BLOB:
		case TRIB_MYT_GEOMETRY:
		case TRIB_MYT_JSON:
			return col->length >= 1 && col->length <= 4;
		case TRIB_MYT_FLOAT:
			return col->length == 4;
		case TRIB_MYT_DOUBLE:
			return col->length == 8;
		case TRIB_MYT_ENUM:
			return col->length >= 1 && col->length <= 2;
		case TRIB_MYT_SET:
			return col->length >= 1 && col->length <= 8;
		case TRIB_MYT_BIT:
			return (col->meta & 0xFF) < 8 && col->length >= 1 && col->length <= 64;
		default:
			return true;
	}
}

/* Set the collation of the k-th column matching `pick`. */
static void
set_collation(trib_my_decoder *d, trib_my_shape *s,
			  bool (*pick) (const trib_my_decoder *, const trib_my_column *),
			  uint64_t k, uint64_t collation)
{
	uint64_t	n = 0;

	for (int i = 0; i < s->ncols; i++)
		if (pick(d, &s->cols[i]) && n++ == k)
		{
			s->cols[i].collation = (uint32_t) collation;
			return;
		}
}

/* DEFAULT_CHARSET / COLUMN_CHARSET (and their ENUM/SET twins). */
static void
opt_charsets(trib_my_decoder *d, trib_my_shape *s, trib_my_cur *v, bool with_default,
			 bool (*pick) (const trib_my_decoder *, const trib_my_column *))
{
	uint64_t	k = 0;

	if (with_default)
	{
		uint64_t	def = trib_my_cur_packed(v);

		for (int i = 0; i < s->ncols && !v->bad; i++)
			if (pick(d, &s->cols[i]))
				s->cols[i].collation = (uint32_t) def;
		while (trib_my_cur_left(v) > 0 && !v->bad)
		{
			uint64_t	idx = trib_my_cur_packed(v),
						coll = trib_my_cur_packed(v);

			set_collation(d, s, pick, idx, coll);
		}
		return;
	}
	while (trib_my_cur_left(v) > 0 && !v->bad)
		set_collation(d, s, pick, k++, trib_my_cur_packed(v));
}

/* A length-prefixed string from v, as UTF-8 in collation coll. */
static char *
opt_string(trib_my_decoder *d, trib_my_cur *v, uint32_t coll)
{
	uint64_t	n = trib_my_cur_packed(v);
	const uint8_t *b = trib_my_cur_take(v, n);
	trib_strbuf out = {0};
	char		err[128];

	if (b == NULL)
		return NULL;
	if (!trib_my_to_utf8(d->charsets, coll ? coll : 33, (const char *) b, n,
						 &out, err, sizeof(err)))
		trib_my_to_utf8(d->charsets, 33, (const char *) b, n, &out, err, sizeof(err));
	return trib_strbuf_finish(&out);
}

/* SET_STR_VALUE / ENUM_STR_VALUE: member names of each such column. */
static void
opt_members(trib_my_decoder *d, trib_my_shape *s, trib_my_cur *v, uint8_t type)
{
	for (int i = 0; i < s->ncols && trib_my_cur_left(v) > 0 && !v->bad; i++)
	{
		trib_my_column *col = &s->cols[i];
		uint64_t	n;

		if (col->type != type)
			continue;
		n = trib_my_cur_packed(v);
		if (v->bad || n > trib_my_cur_left(v))
		{
			v->bad = true;
			return;
		}
		for (int k = 0; k < col->nvalues; k++)	/* a field given twice */
			free(col->values[k]);
		free(col->values);
		col->nvalues = 0;
		col->values = trib_xcalloc(n ? n : 1, sizeof(char *));
		for (uint64_t k = 0; k < n && !v->bad; k++)
		{
			col->values[k] = opt_string(d, v, col->collation);
			if (col->values[k])
				col->nvalues++;
		}
	}
}

/* SIGNEDNESS: one bit per numeric column, most significant first. */
static void
opt_signedness(trib_my_decoder *d, trib_my_shape *s, trib_my_cur *v)
{
	size_t		bit = 0,
				len = trib_my_cur_left(v);
	const uint8_t *b = trib_my_cur_take(v, len);

	for (int i = 0; i < s->ncols && b; i++)
		if (is_numeric(d, &s->cols[i]))
		{
			if (bit / 8 >= len)
				return;
			s->cols[i].is_unsigned = (b[bit / 8] >> (7 - bit % 8)) & 1;
			bit++;
		}
}

/* SIMPLE_PRIMARY_KEY and PRIMARY_KEY_WITH_PREFIX. */
static void
opt_primary_key(trib_my_shape *s, trib_my_cur *v, bool with_prefix)
{
	while (trib_my_cur_left(v) > 0 && !v->bad)
	{
		uint64_t	idx = trib_my_cur_packed(v);

		if (with_prefix)
			trib_my_cur_packed(v);
		if (v->bad || idx >= (uint64_t) s->ncols)
			return;
		if (s->cols[idx].pk)
			continue;			/* named twice */
		s->pk = trib_xrealloc(s->pk, sizeof(int) * (size_t) (s->npk + 1));
		s->pk[s->npk++] = (int) idx;
		s->cols[idx].pk = true;
	}
}

/* Which optional metadata the TABLE_MAP had. */
typedef struct tm_have
{
	bool		signedness;
	bool		charsets;
	bool		names;
	bool		members;
	bool		pk;
} tm_have;

/* Parse the optional metadata fields into the shape. */
static bool
read_optional(trib_my_decoder *d, const tm_raw *r, trib_my_shape *s,
			  tm_have *have, char *errbuf, size_t errlen)
{
	trib_my_cur c = trib_my_cur_make(r->opt, r->optlen);
	int			k = 0;

	/* charsets first: ENUM/SET names are in theirs */
	for (int pass = 0; pass < 2; pass++)
	{
		c = trib_my_cur_make(r->opt, r->optlen);
		while (trib_my_cur_left(&c) > 0 && !c.bad)
		{
			uint8_t		type = trib_my_cur_u8(&c);
			uint64_t	len = trib_my_cur_packed(&c);
			const uint8_t *val = trib_my_cur_take(&c, len);
			trib_my_cur v = trib_my_cur_make(val, val ? len : 0);

			if (val == NULL)
				break;
			if (pass == 0 && (type == 2 || type == 3))
			{
				opt_charsets(d, s, &v, type == 2, is_character);
				have->charsets = true;
			}
			else if (pass == 0 && (type == 10 || type == 11))
				opt_charsets(d, s, &v, type == 10, is_enum_or_set);
			else if (pass == 1 && type == 1)
			{
				opt_signedness(d, s, &v);
				have->signedness = true;
			}
			else if (pass == 1 && type == 4)
			{
				for (k = 0; k < s->ncols && trib_my_cur_left(&v) > 0; k++)
				{
					free(s->cols[k].name);	/* a field given twice */
					s->cols[k].name = opt_string(d, &v, 33);
				}
				have->names = k == s->ncols && !v.bad;
			}
			else if (pass == 1 && (type == 5 || type == 6))
			{
				opt_members(d, s, &v, type == 5 ? TRIB_MYT_SET : TRIB_MYT_ENUM);
				have->members = true;
			}
			else if (pass == 1 && (type == 8 || type == 9))
			{
				opt_primary_key(s, &v, type == 9);
				have->pk = true;
			}
			if (v.bad)
				c.bad = true;
		}
	}
	if (c.bad)
		return trib_my_fail(errbuf, errlen,
							"TABLE_MAP %s.%s: optional metadata is malformed",
							s->db, s->table);
	return true;
}

/* Is information_schema's DATA_TYPE one the binlog type can carry? */
static bool
type_compatible(const char *dt, const trib_my_column *col)
{
	static const struct
	{
		uint8_t		type;
		const char *names;		/* space-separated, each followed by ' ' */
	}			map[] = {
		{TRIB_MYT_TINY, "tinyint bool boolean "},
		{TRIB_MYT_SHORT, "smallint "},
		{TRIB_MYT_INT24, "mediumint "},
		{TRIB_MYT_LONG, "int integer "},
		{TRIB_MYT_LONGLONG, "bigint "},
		{TRIB_MYT_FLOAT, "float "},
		{TRIB_MYT_DOUBLE, "double real "},
		{TRIB_MYT_NEWDECIMAL, "decimal numeric "},
		{TRIB_MYT_YEAR, "year "},
		{TRIB_MYT_DATE, "date "},
		{TRIB_MYT_NEWDATE, "date "},
		{TRIB_MYT_TIME, "time "},
		{TRIB_MYT_TIME2, "time "},
		{TRIB_MYT_DATETIME, "datetime "},
		{TRIB_MYT_DATETIME2, "datetime "},
		{TRIB_MYT_TIMESTAMP, "timestamp "},
		{TRIB_MYT_TIMESTAMP2, "timestamp "},
		{TRIB_MYT_BIT, "bit "},
		{TRIB_MYT_ENUM, "enum "},
		{TRIB_MYT_SET, "set "},
		{TRIB_MYT_JSON, "json "},
		{TRIB_MYT_VARCHAR, "varchar varbinary "},
		{TRIB_MYT_VAR_STRING, "varchar varbinary "},
		{TRIB_MYT_STRING, "char binary uuid inet4 inet6 "},
		{TRIB_MYT_BLOB, "tinyblob blob mediumblob longblob tinytext text mediumtext longtext json "},
		{TRIB_MYT_GEOMETRY, "geometry point linestring polygon multipoint multilinestring multipolygon geometrycollection geomcollection "},
	};
	char		word[40];
	int			n = snprintf(word, sizeof(word), "%s ", dt);

	if (n <= 0 || (size_t) n >= sizeof(word))
		return false;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].type == col->type)
		{
			for (const char *hit = strstr(map[i].names, word); hit;
				 hit = strstr(hit + 1, word))
				if (hit == map[i].names || hit[-1] == ' ')
					return true;
			return false;
		}
	return true;				/* a type this table does not know: no check */
}

/* The primary key from the schema, in key order. */
static void
pk_from_schema(trib_my_shape *s, const trib_my_tableinfo *ti)
{
	for (int pos = 1; pos <= ti->ncols; pos++)
		for (int i = 0; i < ti->ncols; i++)
			if (ti->cols[i].pk_pos == pos)
			{
				s->pk = trib_xrealloc(s->pk, sizeof(int) * (size_t) (s->npk + 1));
				s->pk[s->npk++] = i;
				s->cols[i].pk = true;
			}
}

/*
 * The old binlog types TIME, DATETIME and TIMESTAMP carry no metadata, but
 * MariaDB also logs its own pre-10.1 format of TIME(n), DATETIME(n) and
 * TIMESTAMP(n) with n > 0 under them (mysql56_temporal_format=OFF, or a
 * table created by MariaDB 10.0 or before and never rebuilt), whose values
 * are longer: their n is the schema's ("time(3)" in COLUMN_TYPE), kept in
 * the column's scale for binlog_temporal.c.
 */
static void
old_temporal_fsp(trib_my_column *col, const trib_my_colinfo *ci)
{
	const char *p;

	if ((col->type != TRIB_MYT_TIME && col->type != TRIB_MYT_DATETIME &&
		 col->type != TRIB_MYT_TIMESTAMP) || ci->column_type == NULL ||
		(p = strchr(ci->column_type, '(')) == NULL)
		return;
	if (p[1] >= '1' && p[1] <= '6' && p[2] == ')')
		col->scale = (uint8_t) (p[1] - '0');
}

/* Merge the schema source's version into the shape. */
static bool
merge_schema(trib_my_shape *s, const trib_my_tableinfo *ti, const tm_have *have,
			 char *errbuf, size_t errlen)
{
	if (ti->ncols != s->ncols)
	{
		if (have->names)
			return true;		/* the binlog is complete; the schema is stale */
		return trib_my_fail(errbuf, errlen,
							"table %s.%s: the schema history has %d columns but the binlog's TABLE_MAP has %d; "
							"the table changed after this event was written and its old shape is not known "
							"(set binlog_row_metadata=FULL, see docs/MYSQL.md)",
							s->db, s->table, ti->ncols, s->ncols);
	}
	for (int i = 0; i < s->ncols; i++)
	{
		trib_my_column *col = &s->cols[i];
		const trib_my_colinfo *ci = &ti->cols[i];

		if (!type_compatible(ci->data_type, col))
			return trib_my_fail(errbuf, errlen,
								"table %s.%s: column %d is %s in the schema history but binlog type %u; "
								"the table changed after this event was written (see docs/MYSQL.md)",
								s->db, s->table, i + 1, ci->data_type,
								(unsigned) col->type);
		if (!have->names)
		{
			free(col->name);
			col->name = trib_xstrdup(ci->name);
		}
		if (!have->signedness)
			col->is_unsigned = ci->is_unsigned;
		if (col->collation == 0)
			col->collation = ci->collation;
		if (col->nvalues == 0 && ci->nvalues > 0)
		{
			free(col->values);
			col->values = trib_xcalloc((size_t) ci->nvalues, sizeof(char *));
			for (int k = 0; k < ci->nvalues; k++)
				col->values[k] = trib_xstrdup(ci->values[k]);
			col->nvalues = ci->nvalues;
		}
		if (ci->is_json && col->type == TRIB_MYT_BLOB)
			col->kind = TRIB_MYK_JSON_TEXT;
		old_temporal_fsp(col, ci);
	}
	if (!have->pk)
		pk_from_schema(s, ti);
	return true;
}

/* How the column's values are written. */
static trib_my_kind
kind_of(const trib_my_column *col)
{
	bool		binary = col->collation == TRIB_MY_COLLATION_BINARY;

	switch (col->type)
	{
		case TRIB_MYT_TINY:
		case TRIB_MYT_SHORT:
		case TRIB_MYT_INT24:
		case TRIB_MYT_LONG:
		case TRIB_MYT_LONGLONG:
			return TRIB_MYK_INT;
		case TRIB_MYT_YEAR:
			return TRIB_MYK_YEAR;
		case TRIB_MYT_FLOAT:
			return TRIB_MYK_FLOAT;
		case TRIB_MYT_DOUBLE:
			return TRIB_MYK_DOUBLE;
		case TRIB_MYT_NEWDECIMAL:
			return TRIB_MYK_DECIMAL;
		case TRIB_MYT_DATE:
		case TRIB_MYT_NEWDATE:
			return TRIB_MYK_DATE;
		case TRIB_MYT_TIME:
			return TRIB_MYK_TIME;
		case TRIB_MYT_TIME2:
			return TRIB_MYK_TIME2;
		case TRIB_MYT_DATETIME:
			return TRIB_MYK_DATETIME;
		case TRIB_MYT_DATETIME2:
			return TRIB_MYK_DATETIME2;
		case TRIB_MYT_TIMESTAMP:
			return TRIB_MYK_TIMESTAMP;
		case TRIB_MYT_TIMESTAMP2:
			return TRIB_MYK_TIMESTAMP2;
		case TRIB_MYT_ENUM:
			return TRIB_MYK_ENUM;
		case TRIB_MYT_SET:
			return TRIB_MYK_SET;
		case TRIB_MYT_BIT:
			return TRIB_MYK_BIT;
		case TRIB_MYT_JSON:
			return TRIB_MYK_JSON_BINARY;
		case TRIB_MYT_GEOMETRY:
			return TRIB_MYK_GEOMETRY;
		case TRIB_MYT_NULL:
			return TRIB_MYK_NULL;
		default:				/* STRING, VARCHAR, VAR_STRING, BLOB */
			return binary ? TRIB_MYK_BINARY : TRIB_MYK_TEXT;
	}
}

/* A type name for trib_relation (binlog types only say so much). */
static const char *
type_name(const trib_my_column *col, const trib_my_tableinfo *ti, int i)
{
	if (ti && ti->ncols > i)
		return ti->cols[i].data_type;
	switch (col->kind)
	{
		case TRIB_MYK_INT:
			return col->type == TRIB_MYT_TINY ? "tinyint" :
				col->type == TRIB_MYT_SHORT ? "smallint" :
				col->type == TRIB_MYT_INT24 ? "mediumint" :
				col->type == TRIB_MYT_LONG ? "int" : "bigint";
		case TRIB_MYK_YEAR:
			return "year";
		case TRIB_MYK_FLOAT:
			return "float";
		case TRIB_MYK_DOUBLE:
			return "double";
		case TRIB_MYK_DECIMAL:
			return "decimal";
		case TRIB_MYK_DATE:
			return "date";
		case TRIB_MYK_TIME:
		case TRIB_MYK_TIME2:
			return "time";
		case TRIB_MYK_DATETIME:
		case TRIB_MYK_DATETIME2:
			return "datetime";
		case TRIB_MYK_TIMESTAMP:
		case TRIB_MYK_TIMESTAMP2:
			return "timestamp";
		case TRIB_MYK_TEXT:
			return col->type == TRIB_MYT_BLOB ? "text" : col->is_char ? "char" : "varchar";
		case TRIB_MYK_BINARY:
			return col->type == TRIB_MYT_BLOB ? "blob" : col->is_char ? "binary" : "varbinary";
		case TRIB_MYK_JSON_TEXT:
		case TRIB_MYK_JSON_BINARY:
			return "json";
		case TRIB_MYK_ENUM:
			return "enum";
		case TRIB_MYK_SET:
			return "set";
		case TRIB_MYK_BIT:
			return "bit";
		case TRIB_MYK_GEOMETRY:
			return "geometry";
		default:
			return "null";
	}
}

/* Names for unnamed columns, kinds, and the trib_relation. */
static void
finish_shape(trib_my_shape *s, const trib_my_tableinfo *ti)
{
	s->rel.schema = s->db;
	s->rel.table = s->table;
	s->rel.ncolumns = s->ncols;
	s->rel.columns = trib_xcalloc((size_t) s->ncols, sizeof(trib_column));
	for (int i = 0; i < s->ncols; i++)
	{
		trib_my_column *col = &s->cols[i];
		char		buf[16];

		if (col->name == NULL)
		{
			snprintf(buf, sizeof(buf), "@%d", i + 1);
			col->name = trib_xstrdup(buf);
		}
		if (col->kind != TRIB_MYK_JSON_TEXT)
			col->kind = kind_of(col);
		if (col->kind == TRIB_MYK_JSON_TEXT && col->collation == TRIB_MY_COLLATION_BINARY)
			col->kind = TRIB_MYK_BINARY;
		s->rel.columns[i].name = col->name;
		s->rel.columns[i].type = (char *) type_name(col, ti, i);
		s->rel.columns[i].decl = ti && ti->ncols > i ? ti->cols[i].column_type : NULL;
		s->rel.columns[i].nullable = col->nullable;
		s->rel.columns[i].pk = col->pk;
		s->rel.columns[i].identity = col->pk;
	}
}

/* Free a shape and what it owns. */
static void
shape_free(trib_my_shape *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < s->ncols; i++)
	{
		for (int k = 0; k < s->cols[i].nvalues; k++)
			free(s->cols[i].values[k]);
		free(s->cols[i].values);
		free(s->cols[i].name);
	}
	free(s->cols);
	free(s->pk);
	free(s->rel.columns);
	free(s->db);
	free(s->table);
	free(s);
}

/* Build the shape of a TABLE_MAP merged with the schema's version ti. */
static trib_my_shape *
build_shape(trib_my_decoder *d, const tm_raw *r, const trib_my_tableinfo *ti,
			char *errbuf, size_t errlen)
{
	trib_my_shape *s = trib_xcalloc(1, sizeof(*s));
	tm_have		have = {0};

	s->db = trib_xstrndup(r->db, r->dblen);
	s->table = trib_xstrndup(r->table, r->tlen);
	s->ncols = (int) r->ncols;
	s->cols = trib_xcalloc((size_t) s->ncols, sizeof(trib_my_column));
	if (!read_columns(r, s, errbuf, errlen))
		goto fail;
	for (int i = 0; i < s->ncols; i++)
	{
		apply_meta(&s->cols[i]);
		if (!meta_valid(&s->cols[i]))
		{
			trib_my_fail(errbuf, errlen,
						 "TABLE_MAP %s.%s: column %d (binlog type %u) has invalid metadata 0x%04x",
						 s->db, s->table, i + 1, (unsigned) s->cols[i].type,
						 (unsigned) s->cols[i].meta);
			goto fail;
		}
	}
	if (!read_optional(d, r, s, &have, errbuf, errlen))
		goto fail;
	s->names_from_binlog = have.names;
	if (ti && !merge_schema(s, ti, &have, errbuf, errlen))
		goto fail;
	finish_shape(s, ti);
	return s;
fail:
	shape_free(s);
	return NULL;
}

/* FNV-1a of the bytes, mixed with the schema version's address. */
static uint64_t
shape_hash(const uint8_t *b, size_t len, const trib_my_tableinfo *ti)
{
	uint64_t	h = 1469598103934665603ULL ^ (uint64_t) (uintptr_t) ti;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

/* The cached shape for these bytes and version, or NULL. */
static trib_my_shape *
cache_find(trib_my_decoder *d, uint64_t h, const uint8_t *b, size_t len,
		   const trib_my_tableinfo *ti)
{
	if (d->nbuckets == 0)
		return NULL;
	for (trib_my_shape_entry *e = d->buckets[h % d->nbuckets]; e; e = e->next)
		if (e->hash == h && e->info == ti && e->len == len &&
			memcmp(e->bytes, b, len) == 0)
			return e->shape;
	return NULL;
}

/* Keep a shape in the cache (the decoder owns it from now on). */
static void
cache_add(trib_my_decoder *d, uint64_t h, const uint8_t *b, size_t len,
		  const trib_my_tableinfo *ti, trib_my_shape *s)
{
	trib_my_shape_entry *e = trib_xcalloc(1, sizeof(*e));

	if (d->nshapes >= d->nbuckets * 2)
	{
		size_t		nb = d->nbuckets ? d->nbuckets * 4 : 64;
		trib_my_shape_entry **nbk = trib_xcalloc(nb, sizeof(*nbk));

		for (size_t i = 0; i < d->nbuckets; i++)
			for (trib_my_shape_entry *x = d->buckets[i], *next; x; x = next)
			{
				next = x->next;
				x->next = nbk[x->hash % nb];
				nbk[x->hash % nb] = x;
			}
		free(d->buckets);
		d->buckets = nbk;
		d->nbuckets = nb;
	}
	e->hash = h;
	e->info = ti;
	e->len = len;
	e->bytes = trib_xmalloc(len);
	memcpy(e->bytes, b, len);
	e->shape = s;
	e->next = d->buckets[h % d->nbuckets];
	d->buckets[h % d->nbuckets] = e;
	d->nshapes++;
}

void
trib_my_shapes_free(trib_my_decoder *d)
{
	for (size_t i = 0; i < d->nbuckets; i++)
		for (trib_my_shape_entry *e = d->buckets[i], *next; e; e = next)
		{
			next = e->next;
			shape_free(e->shape);
			free(e->bytes);
			free(e);
		}
	free(d->buckets);
	free(d->active);
}

/* Map table_id to s for the rest of the statement. */
static void
activate(trib_my_decoder *d, uint64_t table_id, trib_my_shape *s)
{
	for (int i = 0; i < d->nactive; i++)
		if (d->active[i].table_id == table_id)
		{
			d->active[i].shape = s;
			return;
		}
	d->active = trib_xgrow(d->active, (size_t) d->nactive, &d->cap_active, sizeof(*d->active), 8);
	d->active[d->nactive].table_id = table_id;
	d->active[d->nactive++].shape = s;
}

trib_my_shape *
trib_my_active_find(trib_my_decoder *d, uint64_t table_id)
{
	for (int i = 0; i < d->nactive; i++)
		if (d->active[i].table_id == table_id)
			return d->active[i].shape;
	return NULL;
}

/* The schema source's version of the table, or NULL; false with errbuf
 * and the lookup's *errnum when it could not be had. */
static bool
schema_version(trib_my_decoder *d, const tm_raw *r, const trib_my_pos *at,
			   const trib_my_tableinfo **ti, unsigned *errnum,
			   char *errbuf, size_t errlen)
{
	char		db[256],
				table[256];

	*ti = NULL;
	if (d->schema == NULL || d->schema->ops->lookup == NULL)
		return true;
	snprintf(db, sizeof(db), "%.*s", (int) r->dblen, r->db);
	snprintf(table, sizeof(table), "%.*s", (int) r->tlen, r->table);
	if (!d->schema->ops->lookup(d->schema->ctx, db, table, at, ti, errnum, errbuf, errlen))
		return trib_my_fail_prefix(errbuf, errlen, "schema of %s.%s", db, table);
	return true;
}

bool
trib_my_tablemap(trib_my_decoder *d, trib_my_cur *c, bool short_id,
				 const trib_my_pos *at, trib_my_event *ev, unsigned *errnum,
				 char *errbuf, size_t errlen)
{
	uint64_t	table_id = trib_my_cur_le(c, short_id ? 4 : 6);
	const uint8_t *key = c->p;
	size_t		keylen;
	tm_raw		r = {0};
	const trib_my_tableinfo *ti;
	trib_my_shape *s;
	uint64_t	h;

	trib_my_cur_take(c, 2);		/* flags */
	keylen = (size_t) (c->end - key);
	if (c->bad || !parse_raw(c, &r, errbuf, errlen))
		return c->bad ? trib_my_fail(errbuf, errlen, "TABLE_MAP: truncated") : false;
	if (!schema_version(d, &r, at, &ti, errnum, errbuf, errlen))
		return false;
	h = shape_hash(key, keylen, ti);
	s = cache_find(d, h, key, keylen, ti);
	if (s == NULL)
	{
		s = build_shape(d, &r, ti, errbuf, errlen);
		if (s == NULL)
			return false;
		cache_add(d, h, key, keylen, ti, s);
	}
	activate(d, table_id, s);
	ev->shape = s;
	return true;
}
