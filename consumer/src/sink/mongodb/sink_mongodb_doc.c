/*
 * sink_mongodb_doc.c: rows to BSON documents for the MongoDB sink (see
 * sink_mongodb.h for the mapping, docs/MONGODB.md for the table).
 *
 * Design.  A row image is JSON text whose values keep their source form
 * (docs/PLUGIN.md, docs/MYSQL.md): numbers with every digit, timestamps
 * as ISO 8601 text, bytea as base64 or hex.  It is parsed with yajl's
 * tree, which keeps each number's text, and every column is converted by
 * the kind of its SQL type (trib_mongosink_kind), so a numeric keeps its
 * digits as Decimal128 and a timestamp becomes a BSON date.  A value whose
 * JSON form does not fit its kind (a composite's object, a string in an
 * integer column) is converted as JSON, never refused, so no source type
 * can stop the sink.  Messages never carry values, only column names.
 */
#include "sink_mongodb.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "base64.h"
#include "hex.h"
#include "isodate.h"
#include "xalloc.h"

#define MAX_DECIMAL_DIGITS 34	/* Decimal128's precision */
#define MAX_NESTING 200			/* mongod's maxBSONDepth: no server stores more */

/* ---- kinds ------------------------------------------------------------ */

static const struct
{
	const char *word;
	trib_mongo_kind kind;
}			kind_words[] = {
	{"smallint", TRIB_MK_INT}, {"integer", TRIB_MK_INT}, {"bigint", TRIB_MK_INT},
	{"int", TRIB_MK_INT}, {"int2", TRIB_MK_INT}, {"int4", TRIB_MK_INT}, {"int8", TRIB_MK_INT},
	{"oid", TRIB_MK_INT}, {"tinyint", TRIB_MK_INT}, {"mediumint", TRIB_MK_INT},
	{"serial", TRIB_MK_INT}, {"bigserial", TRIB_MK_INT}, {"smallserial", TRIB_MK_INT},
	{"year", TRIB_MK_INT},
	{"real", TRIB_MK_FLOAT}, {"double", TRIB_MK_FLOAT}, {"float", TRIB_MK_FLOAT},
	{"float4", TRIB_MK_FLOAT}, {"float8", TRIB_MK_FLOAT},
	{"numeric", TRIB_MK_DECIMAL}, {"decimal", TRIB_MK_DECIMAL}, {"money", TRIB_MK_DECIMAL},
	{"boolean", TRIB_MK_BOOL}, {"bool", TRIB_MK_BOOL},
	{"json", TRIB_MK_JSON}, {"jsonb", TRIB_MK_JSON},
	{"bytea", TRIB_MK_BYTEA},
	{"binary", TRIB_MK_BLOB}, {"varbinary", TRIB_MK_BLOB}, {"blob", TRIB_MK_BLOB},
	{"tinyblob", TRIB_MK_BLOB}, {"mediumblob", TRIB_MK_BLOB}, {"longblob", TRIB_MK_BLOB},
	{"date", TRIB_MK_DATE}, {"timestamp", TRIB_MK_DATE}, {"timestamptz", TRIB_MK_DATE},
	{"datetime", TRIB_MK_DATE},
};

/* See sink_mongodb.h.  The first word of the name, without modifiers,
 * decides ("timestamp(3) with time zone" is "timestamp", "interval" is
 * not "int"); a trailing "[]" makes an array. */
trib_mongo_kind
trib_mongosink_kind(const char *sqltype, bool *array)
{
	char		word[32];
	size_t		n = 0,
				len;
	size_t		i;

	*array = false;
	if (sqltype == NULL)
		return TRIB_MK_TEXT;
	len = strlen(sqltype);
	while (len >= 2 && strncmp(sqltype + len - 2, "[]", 2) == 0)
	{
		*array = true;
		len -= 2;
	}
	while (n < len && n + 1 < sizeof(word) && (isalnum((unsigned char) sqltype[n]) ||
											   sqltype[n] == '_'))
	{
		word[n] = (char) tolower((unsigned char) sqltype[n]);
		n++;
	}
	word[n] = '\0';
	for (i = 0; i < sizeof(kind_words) / sizeof(kind_words[0]); i++)
		if (strcmp(word, kind_words[i].word) == 0)
			return kind_words[i].kind;
	return TRIB_MK_TEXT;
}

/* ---- dates ---------------------------------------------------------------- */

/* Two digits at s, or -1. */
static int
two_digits(const char *s)
{
	if (!isdigit((unsigned char) s[0]) || !isdigit((unsigned char) s[1]))
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* The zone at z..e: "Z", "+hh", "+hh:mm", "+hhmm"; seconds east of UTC. */
static int
zone_seconds(const char *z, const char *e)
{
	int			sign,
				h,
				m = 0;

	if (z >= e || *z == 'Z')
		return 0;
	sign = *z == '-' ? -1 : 1;
	h = two_digits(z + 1);
	if (e - z >= 5)
		m = two_digits(z + (z[3] == ':' ? 4 : 3));
	return sign * (h * 3600 + m * 60);
}

/* See sink_mongodb.h. */
bool
trib_mongosink_date_ms(const char *s, size_t len, int64_t *ms)
{
	trib_isodate d;
	int64_t		secs;
	int64_t		frac_ms = 0;

	if (!trib_isodate_parse(s, len, &d))
		return false;
	secs = trib_isodate_days_from_civil(d.year, d.month, d.day) * 86400;
	if (d.has_time)
	{
		const char *t = s + d.date_len + 1;
		const char *z = s + d.zone_off;

		secs += (int64_t) two_digits(t) * 3600 + (int64_t) two_digits(t + 3) * 60;
		if (z - t >= 8 && t[5] == ':')
			secs += two_digits(t + 6);
		if (z - t > 9 && t[8] == '.')
		{
			int			i;

			for (i = 0; i < 3; i++)
				frac_ms = frac_ms * 10 + (9 + i < z - t ? t[9 + i] - '0' : 0);
		}
		secs -= zone_seconds(z, s + len);
	}
	*ms = secs * 1000 + frac_ms;
	return true;
}

/* ---- values --------------------------------------------------------------- */

/* A JSON value as BSON, by its JSON form alone: objects documents, arrays
 * arrays, integers int32/int64 (Decimal128 beyond), other numbers double.
 * depth: the containers above v; false beyond MAX_NESTING (the recursion
 * is bounded: a value nested some 30,000 deep exhausted the stack). */
static bool append_json(bson_t *doc, const char *name, yajl_val v, int depth);

/* An integer's text as int32 or int64; false when it is no int64. */
static bool
append_integer(bson_t *doc, const char *name, const char *text)
{
	char	   *end;
	long long	n;

	errno = 0;
	n = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0' || end == text)
		return false;
	if (n >= INT32_MIN && n <= INT32_MAX)
		return bson_append_int32(doc, name, -1, (int32_t) n);
	return bson_append_int64(doc, name, -1, (int64_t) n);
}

/* Significant digits of a number's text (leading zeros not counted). */
static int
digits_of(const char *s)
{
	int			n = 0;
	bool		lead = true;

	for (; *s && *s != 'e' && *s != 'E'; s++)
	{
		if (!isdigit((unsigned char) *s))
			continue;
		if (lead && *s == '0')
			continue;
		lead = false;
		n++;
	}
	return n;
}

/* A number's text (or "NaN", "Infinity", "-Infinity") as Decimal128, or
 * as a string when Decimal128 cannot hold every digit. */
static bool
append_decimal(bson_t *doc, const char *name, const char *text)
{
	bson_decimal128_t dec;

	if (digits_of(text) > MAX_DECIMAL_DIGITS || !bson_decimal128_from_string(text, &dec))
		return bson_append_utf8(doc, name, -1, text, -1);
	return bson_append_decimal128(doc, name, -1, &dec);
}

/* A double from a number's text or "NaN", "Infinity", "-Infinity". */
static bool
append_double(bson_t *doc, const char *name, const char *text)
{
	double		d;

	if (strcmp(text, "NaN") == 0)
		d = NAN;
	else if (strcmp(text, "Infinity") == 0)
		d = INFINITY;
	else if (strcmp(text, "-Infinity") == 0)
		d = -INFINITY;
	else
		d = strtod(text, NULL);
	return bson_append_double(doc, name, -1, d);
}

/* base64 (or hex) text as BSON binary, subtype generic; false when it is
 * neither. */
static bool
append_binary(bson_t *doc, const char *name, const char *text, bool hex)
{
	size_t		n = strlen(text),
				outlen = 0;
	unsigned char *buf = trib_xmalloc(n + 1);
	bool		ok;

	if (hex)
	{
		ok = n % 2 == 0 && trib_hex_decode(text, n, buf, &outlen);
	}
	else
		ok = trib_b64_decode(text, n, TRIB_B64_STD, TRIB_B64_PAD_OPTIONAL, buf, &outlen);
	if (ok)
		ok = bson_append_binary(doc, name, -1, BSON_SUBTYPE_BINARY, buf, (uint32_t) outlen);
	free(buf);
	return ok;
}

/* One value of a column of kind k (arrays: element by element), depth
 * containers down (see append_json). */
static bool
append_value(bson_t *doc, const char *name, yajl_val v, trib_mongo_kind k, bool array,
			 bool hex, int depth)
{
	if (YAJL_IS_NULL(v))
		return bson_append_null(doc, name, -1);
	if (depth > MAX_NESTING)
		return false;
	if (array && YAJL_IS_ARRAY(v))
	{
		bson_t		arr;
		size_t		i;
		char		ibuf[16];
		const char *key;
		bool		ok = true;

		bson_append_array_begin(doc, name, -1, &arr);
		for (i = 0; ok && i < v->u.array.len; i++)
		{
			bson_uint32_to_string((uint32_t) i, &key, ibuf, sizeof(ibuf));
			/* nested arrays (several dimensions) stay arrays */
			ok = append_value(&arr, key, v->u.array.values[i], k, true, hex, depth + 1);
		}
		return bson_append_array_end(doc, &arr) && ok;
	}
	if (YAJL_IS_NUMBER(v))
	{
		if (k == TRIB_MK_INT && append_integer(doc, name, v->u.number.r))
			return true;
		if (k == TRIB_MK_INT || k == TRIB_MK_DECIMAL)
			return append_decimal(doc, name, v->u.number.r);
		if (k == TRIB_MK_FLOAT)
			return append_double(doc, name, v->u.number.r);
	}
	if (YAJL_IS_STRING(v))
	{
		const char *s = v->u.string;
		int64_t		ms;

		if (k == TRIB_MK_FLOAT)
			return append_double(doc, name, s);
		if (k == TRIB_MK_DECIMAL && (strcmp(s, "NaN") == 0 || strcmp(s, "Infinity") == 0 ||
									 strcmp(s, "-Infinity") == 0))
			return append_decimal(doc, name, s);
		if ((k == TRIB_MK_BYTEA || k == TRIB_MK_BLOB) &&
			append_binary(doc, name, s, k == TRIB_MK_BYTEA && hex))
			return true;
		if (k == TRIB_MK_DATE && trib_mongosink_date_ms(s, strlen(s), &ms))
			return bson_append_date_time(doc, name, -1, ms);
	}
	return append_json(doc, name, v, depth);
}

/* (arrays through append_value, element by element as JSON) */
static bool
append_json(bson_t *doc, const char *name, yajl_val v, int depth)
{
	size_t		i;
	bool		ok = true;

	if (YAJL_IS_STRING(v))
		return bson_append_utf8(doc, name, -1, v->u.string, -1);
	if (YAJL_IS_NUMBER(v))
	{
		if (append_integer(doc, name, v->u.number.r))
			return true;
		if (strpbrk(v->u.number.r, ".eE") == NULL)
			return append_decimal(doc, name, v->u.number.r);
		return append_double(doc, name, v->u.number.r);
	}
	if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
		return bson_append_bool(doc, name, -1, YAJL_IS_TRUE(v));
	if (YAJL_IS_OBJECT(v))
	{
		bson_t		sub;

		bson_append_document_begin(doc, name, -1, &sub);
		for (i = 0; ok && i < v->u.object.len; i++)
			ok = depth < MAX_NESTING &&
				append_json(&sub, v->u.object.keys[i], v->u.object.values[i], depth + 1);
		return bson_append_document_end(doc, &sub) && ok;
	}
	if (YAJL_IS_ARRAY(v))
		return append_value(doc, name, v, TRIB_MK_JSON, true, false, depth);
	return bson_append_null(doc, name, -1);
}

/* ---- rows ------------------------------------------------------------- */

/* The column `name` of rel, or NULL. */
static const trib_column *
column_of(const trib_relation *rel, const char *name)
{
	int			i;

	for (i = 0; rel != NULL && i < rel->ncolumns; i++)
		if (strcmp(rel->columns[i].name, name) == 0)
			return &rel->columns[i];
	return NULL;
}

/* Append the value of column `name` as field `as`. */
static bool
append_column(bson_t *doc, const char *as, const char *name, yajl_val v,
			  const trib_relation *rel, bool hex, char *errbuf, size_t errlen)
{
	const trib_column *col = column_of(rel, name);
	bool		array = false;
	trib_mongo_kind k = col ? trib_mongosink_kind(col->type, &array) : TRIB_MK_JSON;

	if (name[0] == '\0')
	{
		snprintf(errbuf, errlen, "a column with an empty name");
		return false;
	}
	if (!append_value(doc, as, v, k, array, hex, 0))
	{
		snprintf(errbuf, errlen, "column \"%s\": its value does not fit in a document (or "
				 "is nested deeper than %d levels, more than MongoDB stores)", name, MAX_NESTING);
		return false;
	}
	return true;
}

/* Parse a JSON object; NULL with errbuf when it is not one. */
static yajl_val
parse_object(const char *json, const char *what, char *errbuf, size_t errlen)
{
	char		perr[128];
	yajl_val	v = json ? yajl_tree_parse(json, perr, sizeof(perr)) : NULL;

	if (v == NULL || !YAJL_IS_OBJECT(v))
	{
		snprintf(errbuf, errlen, "%s is not a JSON object", what);
		yajl_tree_free(v);
		return NULL;
	}
	return v;
}

/* See sink_mongodb.h. */
bool
trib_mongosink_row(const char *row, const trib_relation *rel, bool bytea_hex, bson_t *doc,
				   char *errbuf, size_t errlen)
{
	yajl_val	v = parse_object(row, "the row image", errbuf, errlen);
	size_t		i;
	bool		ok = v != NULL;

	for (i = 0; ok && i < v->u.object.len; i++)
		ok = append_column(doc, v->u.object.keys[i], v->u.object.keys[i],
						   v->u.object.values[i], rel, bytea_hex, errbuf, errlen);
	yajl_tree_free(v);
	return ok;
}

/* The value of column `name`: from image when there is one (NULL when
 * it lacks the column), else the key's own. */
static yajl_val
key_value(yajl_val key, size_t i, yajl_val image)
{
	const char *path[2] = {key->u.object.keys[i], NULL};

	return image ? yajl_tree_get(image, path, yajl_t_any) : key->u.object.values[i];
}

/* See sink_mongodb.h. */
bool
trib_mongosink_id(const char *key, const char *image, const trib_relation *rel,
				  bool bytea_hex, bson_t *doc, char *errbuf, size_t errlen)
{
	yajl_val	v = parse_object(key, "the key", errbuf, errlen);
	yajl_val	img = NULL;
	bson_t		sub;
	size_t		i;
	bool		ok = v != NULL;

	if (ok && image != NULL)
		ok = (img = parse_object(image, "the old row image", errbuf, errlen)) != NULL;
	for (i = 0; ok && i < v->u.object.len; i++)
		if (key_value(v, i, img) == NULL)
		{
			snprintf(errbuf, errlen, "the old row image lacks key column \"%s\"",
					 v->u.object.keys[i]);
			ok = false;
		}
	if (ok && v->u.object.len == 0)
	{
		snprintf(errbuf, errlen, "the key has no column");
		ok = false;
	}
	else if (ok && v->u.object.len == 1)
		ok = append_column(doc, "_id", v->u.object.keys[0], key_value(v, 0, img), rel,
						   bytea_hex, errbuf, errlen);
	else if (ok)
	{
		bson_append_document_begin(doc, "_id", 3, &sub);
		for (i = 0; ok && i < v->u.object.len; i++)
			ok = append_column(&sub, v->u.object.keys[i], v->u.object.keys[i],
							   key_value(v, i, img), rel, bytea_hex, errbuf, errlen);
		bson_append_document_end(doc, &sub);
	}
	yajl_tree_free(img);
	yajl_tree_free(v);
	return ok;
}

/* See sink_mongodb.h. */
bool
trib_mongosink_ejson(const char *json, const char *what, bool only_id, const char *extra,
					 bson_t *doc, char *errbuf, size_t errlen)
{
	bson_error_t err;
	bson_t	   *b = json ? bson_new_from_json((const uint8_t *) json, -1, &err) : NULL;
	bson_t	   *marked;
	bson_iter_t it;
	bool		found = false;

	if (b == NULL && json != NULL)
		b = trib_mongosink_ejson_deep(json);	/* nested too deep for libbson's parser */
	if (b == NULL)
	{
		/* libbson's message may quote the text: not in ours */
		snprintf(errbuf, errlen, "%s is not a JSON object of Extended JSON", what);
		return false;
	}
	if ((marked = trib_mongosink_int64_marks(b, extra, "after")) != NULL)
	{
		bson_destroy(b);
		b = marked;
	}
	if (bson_iter_init(&it, b))
		while (bson_iter_next(&it))
			if ((strcmp(bson_iter_key(&it), "_id") == 0) == only_id)
			{
				found = found || only_id;
				bson_append_iter(doc, NULL, 0, &it);
			}
	bson_destroy(b);
	if (only_id && !found)
		snprintf(errbuf, errlen, "%s has no _id", what);
	return !only_id || found;
}
