/*
 * debezium_mongo.c: Debezium mode for the MongoDB source: the key, the
 * document images, updateDescription and the source block's own members
 * as Debezium's MongoDB connector (2.x, change streams) writes them (see
 * debezium.h and docs/FORMAT.md, "MongoDB").
 *
 * Design.  Debezium's MongoDB connector does not map fields to Connect
 * types: `after` and `before` are strings (io.debezium.data.Json) holding
 * the whole document as the MongoDB Java driver's JsonWriter writes it in
 * its legacy STRICT mode, compact (no line breaks: elements separated by
 * ",", names followed by ": "); the key is the struct {"id": <string>}
 * of the _id in RELAXED mode, same layout; updateDescription.updatedFields
 * is the RELAXED text of BsonDocument.toJson() (elements separated by
 * ", ").  Our source holds documents as libbson's relaxed Extended JSON
 * (source/mongodb/mongo_event.c), so each value is re-written here from
 * its yajl tree, one BSON type per Extended JSON wrapper ($oid, $date,
 * $binary, $regularExpression, ...) in the Java writer's form for the
 * mode.  Numbers: a number with a fraction or exponent is a double (its
 * shortest round-trip digits in Java's Double.toString form, "E+" for a
 * positive exponent as the driver writes it); an integer is an int64
 * when it does not fit in 32 bits or when the source listed its path
 * (relaxed JSON writes an int64 that fits in 32 bits like an int32, so
 * the source keeps those paths in the event's extra, "int64"; see
 * source/mongodb/mongo_int64.h), else an int32.  The listed integers are
 * found once per image (mark_longs) and recognised by their yajl node.
 *
 * Strings are escaped as the Java writer escapes them: ", \ and the named
 * controls, every other control, DEL, the C1 controls, the common format
 * characters, combining diacritics (U+0300..U+036F), the line and
 * paragraph separators, private use and every code point above U+FFFF
 * (a pair of \u escapes of its UTF-16 surrogates) as \uxxxx; everything
 * else as its UTF-8.  The Java writer also escapes other Unicode marks
 * and unassigned code points, which pass unescaped here (the same string
 * once parsed).
 */
#include "debezium.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_tree.h>

#include "isodate.h"

/* How the Java writer is set up: its mode and element separator. */
typedef struct jw
{
	trib_strbuf *out;
	bool		strict;			/* JsonMode.STRICT, else RELAXED */
	const char *sep;			/* "," (indent with no characters) or ", " */
	yajl_val   *longs;			/* the int64 numbers that fit in 32 bits */
	size_t		nlongs;
} jw;

static bool put_value(jw *w, yajl_val v);

/* One \uxxxx escape, lowercase hex as Integer.toHexString writes it. */
static void
put_u(trib_strbuf *out, unsigned int u)
{
	trib_strbuf_printf(out, "\\u%04x", u & 0xffff);
}

/* True when the Java writer escapes BMP code point c (see above). */
static bool
java_escapes(unsigned int c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0xad ||
		(c >= 0x300 && c <= 0x36f) || (c >= 0x200b && c <= 0x200f) ||
		(c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x2064) ||
		(c >= 0xe000 && c <= 0xf8ff) || c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb);
}

/* The code point of the UTF-8 sequence at s (n bytes left) in *cp; its
 * length, or 0 when it is not UTF-8. */
static size_t
utf8_cp(const unsigned char *s, size_t n, unsigned int *cp)
{
	size_t		len = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
		: (s[0] & 0xf8) == 0xf0 ? 4 : 0;

	if (len == 0 || len > n)
		return 0;
	*cp = len == 1 ? s[0] : s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++)
	{
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	return len;
}

/* A string as the Java writer's writeStringHelper writes it. */
static void
put_jstr(trib_strbuf *out, const char *str)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t		n = strlen(str);

	trib_strbuf_addc(out, '"');
	while (n > 0)
	{
		unsigned int c;
		size_t		len = utf8_cp(s, n, &c);
		const char *named = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b"
			: c == '\f' ? "\\f" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t"
			: NULL;

		if (len == 0)
		{
			/* yajl let no such string through; keep the byte */
			len = 1;
			trib_strbuf_add(out, (const char *) s, 1);
		}
		else if (named)
			trib_strbuf_adds(out, named);
		else if (c > 0xffff)
		{
			put_u(out, 0xd800 + ((c - 0x10000) >> 10));
			put_u(out, 0xdc00 + ((c - 0x10000) & 0x3ff));
		}
		else if (java_escapes(c))
			put_u(out, c);
		else
			trib_strbuf_add(out, (const char *) s, len);
		s += len;
		n -= len;
	}
	trib_strbuf_addc(out, '"');
}

/* A double as Java's Double.toString writes it (shortest digits that
 * read back to d), with JsonDoubleHelper's "E+" for positive exponents. */
static void
put_jdouble(trib_strbuf *out, double d)
{
	char		e[40],
				digits[24];
	int			exp = 0,
				nd = 0;

	if (d == 0)
	{
		trib_strbuf_adds(out, signbit(d) ? "-0.0" : "0.0");
		return;
	}
	for (int prec = 1; prec <= 17; prec++)
	{
		snprintf(e, sizeof(e), "%.*e", prec - 1, d);
		if (strtod(e, NULL) == d)
			break;
	}
	/* e: [-]D[.DDD]e[+-]XX */
	for (const char *p = e; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	digits[nd] = '\0';
	exp = atoi(strchr(e, 'e') + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = '\0';
	if (d < 0)
		trib_strbuf_addc(out, '-');
	if (fabs(d) >= 1e-3 && fabs(d) < 1e7)
	{
		if (exp < 0)
		{
			trib_strbuf_adds(out, "0.");
			for (int i = -1; i > exp; i--)
				trib_strbuf_addc(out, '0');
			trib_strbuf_adds(out, digits);
			return;
		}
		for (int i = 0; i <= exp; i++)
			trib_strbuf_addc(out, i < nd ? digits[i] : '0');
		trib_strbuf_addc(out, '.');
		trib_strbuf_adds(out, nd > exp + 1 ? digits + exp + 1 : "0");
		return;
	}
	trib_strbuf_addc(out, digits[0]);
	trib_strbuf_addc(out, '.');
	trib_strbuf_adds(out, nd > 1 ? digits + 1 : "0");
	trib_strbuf_printf(out, "E%s%d", exp > 0 ? "+" : "", exp);
}

/* The member `key` of object v, or NULL. */
static yajl_val
member(yajl_val v, const char *key)
{
	for (size_t i = 0; YAJL_IS_OBJECT(v) && i < v->u.object.len; i++)
		if (strcmp(v->u.object.keys[i], key) == 0)
			return v->u.object.values[i];
	return NULL;
}

/* True when v is an object of exactly the members named (NULL-ended),
 * in that order: an Extended JSON wrapper. */
static bool
shaped(yajl_val v, const char *const *keys)
{
	size_t		n = 0;

	if (!YAJL_IS_OBJECT(v))
		return false;
	for (; keys[n]; n++)
		if (n >= v->u.object.len || strcmp(v->u.object.keys[n], keys[n]) != 0)
			return false;
	return n == v->u.object.len;
}

#define SHAPED(v, ...) shaped(v, (const char *const[]) {__VA_ARGS__, NULL})

/* "{"name": " (first member) and ",name": " (the others). */
static void
put_name(jw *w, bool first, const char *name)
{
	trib_strbuf_adds(w->out, first ? "{" : w->sep);
	put_jstr(w->out, name);
	trib_strbuf_adds(w->out, ": ");
}

/* {"name": "s"} */
static void
put_wrapped_str(jw *w, const char *name, const char *s)
{
	put_name(w, true, name);
	put_jstr(w->out, s);
	trib_strbuf_addc(w->out, '}');
}

/* libbson's relaxed $date: "YYYY-MM-DDTHH:MM:SS[.mmm]Z" or
 * {"$numberLong": "ms"}; the millis in *ms. */
static bool
date_ms(yajl_val v, int64_t *ms)
{
	yajl_val	nl = member(v, "$numberLong");
	int			y,
				mo,
				d,
				h,
				mi,
				s,
				frac = 0,
				n = 0;
	const char *t = YAJL_GET_STRING(v);

	const char *nls = YAJL_GET_STRING(nl);

	if (nls != NULL)
	{
		char	   *end;

		*ms = strtoll(nls, &end, 10);
		return *end == '\0' && end != nls;
	}
	if (t == NULL || sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6)
		return false;
	t += n;
	if (*t == '.')
	{
		int			nd = 0;

		for (t++; *t >= '0' && *t <= '9'; t++, nd++)
			if (nd < 3)
				frac = frac * 10 + (*t - '0');
		for (; nd < 3; nd++)
			frac *= 10;
	}
	if (strcmp(t, "Z") != 0)
		return false;
	*ms = ((trib_isodate_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 +
		s * 1000 + frac;
	return true;
}

/* A date: STRICT {"$date": ms}; RELAXED as ISO_OFFSET_DATE_TIME in UTC
 * (fraction digits only as many as needed) from 1970 to 9999, else
 * {"$date": {"$numberLong": "ms"}}. */
static bool
put_date(jw *w, yajl_val v)
{
	int64_t		ms;
	int64_t		days,
				sod;
	int			y,
				mo,
				d,
				frac;
	time_t		secs;
	struct tm	tm;

	if (!date_ms(v, &ms))
		return false;
	put_name(w, true, "$date");
	if (w->strict || ms < 0 || ms > INT64_C(253402300799999))
	{
		if (w->strict)
			trib_dbz_put_i64(w->out, ms);
		else
		{
			put_name(w, true, "$numberLong");
			trib_strbuf_printf(w->out, "\"%lld\"}", (long long) ms);
		}
		trib_strbuf_addc(w->out, '}');
		return true;
	}
	days = ms / 86400000;
	sod = ms % 86400000;
	secs = (time_t) (days * 86400);
	gmtime_r(&secs, &tm);
	y = tm.tm_year + 1900;
	mo = tm.tm_mon + 1;
	d = tm.tm_mday;
	frac = (int) (sod % 1000);
	trib_strbuf_printf(w->out, "\"%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d,
					   (int) (sod / 3600000), (int) (sod / 60000 % 60), (int) (sod / 1000 % 60));
	if (frac)
	{
		char		f[8];
		int			n = snprintf(f, sizeof(f), "%03d", frac);

		while (n > 0 && f[n - 1] == '0')
			f[--n] = '\0';
		trib_strbuf_printf(w->out, ".%s", f);
	}
	trib_strbuf_adds(w->out, "Z\"}");
	return true;
}

/* A number: an integer as int32 or int64 (int64: one the source marked
 * as such, or one that does not fit in 32 bits), else a double. */
static void
put_number(jw *w, const char *r, bool int64)
{
	char	   *end;
	long long	i;

	if (strpbrk(r, ".eE") == NULL)
	{
		i = strtoll(r, &end, 10);
		if (!w->strict || (!int64 && i >= INT32_MIN && i <= INT32_MAX))
			trib_strbuf_adds(w->out, r);
		else
		{
			put_name(w, true, "$numberLong");
			trib_dbz_quote(w->out, r);
			trib_strbuf_addc(w->out, '}');
		}
		return;
	}
	put_jdouble(w->out, strtod(r, NULL));
}

/* $numberDouble's text (NaN, Infinity, -Infinity; or a finite one):
 * STRICT writes Double.toString bare, RELAXED keeps the wrapper for the
 * non-finite ones. */
static void
put_number_double(jw *w, const char *s)
{
	double		d = strtod(s, NULL);

	if (isfinite(d))
		put_jdouble(w->out, d);
	else if (w->strict)
		trib_strbuf_adds(w->out, isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
	else
		put_wrapped_str(w, "$numberDouble", s);
}

/* A wrapper of two strings a and b: STRICT's legacy {"sa": a, "sb": b},
 * RELAXED's {"outer": {"ra": a, "rb": b}} (binary, regex). */
static void
put_pair(jw *w, const char *sa, const char *sb, const char *outer, const char *ra,
		 const char *rb, const char *a, const char *b)
{
	put_name(w, true, w->strict ? sa : outer);
	if (!w->strict)
		put_name(w, true, ra);
	put_jstr(w->out, a);
	put_name(w, false, w->strict ? sb : rb);
	put_jstr(w->out, b);
	trib_strbuf_adds(w->out, w->strict ? "}" : "}}");
}

/* A wrapper whose members are all strings in that order: its value. */
static const char *
str_of(yajl_val v, const char *key)
{
	return YAJL_GET_STRING(member(v, key));
}

/* The Extended JSON wrappers libbson's relaxed mode writes; false when v
 * is none of them (a plain document). */
static bool
put_wrapper(jw *w, yajl_val v, bool *ok)
{
	yajl_val	in;

	*ok = true;
	if ((SHAPED(v, "$oid") || SHAPED(v, "$symbol") || SHAPED(v, "$code") ||
		 SHAPED(v, "$numberDecimal")) && YAJL_IS_STRING(v->u.object.values[0]))
		put_wrapped_str(w, v->u.object.keys[0], YAJL_GET_STRING(v->u.object.values[0]));
	else if (SHAPED(v, "$date"))
		*ok = put_date(w, v->u.object.values[0]);
	else if (SHAPED(v, "$numberDouble") && str_of(v, "$numberDouble"))
		put_number_double(w, str_of(v, "$numberDouble"));
	else if ((SHAPED(v, "$numberLong") || SHAPED(v, "$numberInt")) &&
			 str_of(v, v->u.object.keys[0]))
		put_number(w, str_of(v, v->u.object.keys[0]),
				   strcmp(v->u.object.keys[0], "$numberLong") == 0);
	else if (SHAPED(v, "$binary") && SHAPED(in = v->u.object.values[0], "base64", "subType") &&
			 str_of(in, "base64") && str_of(in, "subType"))
	{
		/* the subtype in uppercase hex (String.format("%02X")) */
		char		st[8];

		snprintf(st, sizeof(st), "%02X",
				 (unsigned int) strtoul(str_of(in, "subType"), NULL, 16) & 0xff);
		put_pair(w, "$binary", "$type", "$binary", "base64", "subType",
				 str_of(in, "base64"), st);
	}
	else if (SHAPED(v, "$regularExpression") &&
			 SHAPED(in = v->u.object.values[0], "pattern", "options") &&
			 str_of(in, "pattern") && str_of(in, "options"))
		put_pair(w, "$regex", "$options", "$regularExpression", "pattern", "options",
				 str_of(in, "pattern"), str_of(in, "options"));
	else if (SHAPED(v, "$dbPointer") && SHAPED(in = v->u.object.values[0], "$ref", "$id") &&
			 str_of(in, "$ref"))
	{
		/* both modes write the legacy {"$ref": ns, "$id": oid} */
		put_name(w, true, "$ref");
		put_jstr(w->out, str_of(in, "$ref"));
		put_name(w, false, "$id");
		*ok = put_value(w, member(in, "$id"));
		trib_strbuf_addc(w->out, '}');
	}
	else if (SHAPED(v, "$timestamp") && SHAPED(in = v->u.object.values[0], "t", "i") &&
			 YAJL_IS_NUMBER(member(in, "t")) && YAJL_IS_NUMBER(member(in, "i")))
	{
		put_name(w, true, "$timestamp");
		put_name(w, true, "t");
		trib_strbuf_adds(w->out, member(in, "t")->u.number.r);
		put_name(w, false, "i");
		trib_strbuf_adds(w->out, member(in, "i")->u.number.r);
		trib_strbuf_adds(w->out, "}}");
	}
	else if ((SHAPED(v, "$minKey") || SHAPED(v, "$maxKey")) &&
			 YAJL_IS_NUMBER(v->u.object.values[0]))
	{
		put_name(w, true, v->u.object.keys[0]);
		trib_strbuf_adds(w->out, "1}");
	}
	else if (SHAPED(v, "$undefined") && YAJL_IS_TRUE(v->u.object.values[0]))
	{
		put_name(w, true, "$undefined");
		trib_strbuf_adds(w->out, "true}");
	}
	else
		return false;
	return true;
}

/* Is v one of the int64 values the source marked? */
static bool
is_long(const jw *w, yajl_val v)
{
	for (size_t i = 0; i < w->nlongs; i++)
		if (w->longs[i] == v)
			return true;
	return false;
}

/* The value at `path` (member names and array indexes) under v, or NULL. */
static yajl_val
at_path(yajl_val v, yajl_val path)
{
	for (size_t i = 0; v != NULL && i < path->u.array.len; i++)
	{
		yajl_val	step = path->u.array.values[i];

		if (YAJL_IS_STRING(step) && YAJL_IS_OBJECT(v))
			v = member(v, YAJL_GET_STRING(step));
		else if (YAJL_IS_INTEGER(step) && YAJL_IS_ARRAY(v) && YAJL_GET_INTEGER(step) >= 0 &&
				 (size_t) YAJL_GET_INTEGER(step) < v->u.array.len)
			v = v->u.array.values[YAJL_GET_INTEGER(step)];
		else
			v = NULL;
	}
	return v;
}

/*
 * The integers of the document `root` that the source marked as int64
 * (its extra's "int64"."<image>": paths, source/mongodb/mongo_int64.h)
 * into w->longs.  A path that leads nowhere or to something else than an
 * integer (a rule changed the document since) marks nothing.
 */
static void
mark_longs(jw *w, yajl_val root, const char *extra, const char *image)
{
	const char *path[] = {"int64", image, NULL};
	yajl_val	x,
				paths;

	if (extra == NULL || strstr(extra, "\"int64\"") == NULL ||
		(x = yajl_tree_parse(extra, NULL, 0)) == NULL)
		return;
	paths = yajl_tree_get(x, path, yajl_t_array);
	for (size_t i = 0; paths != NULL && i < paths->u.array.len; i++)
	{
		yajl_val	p = paths->u.array.values[i];
		yajl_val	v = YAJL_IS_ARRAY(p) ? at_path(root, p) : NULL;

		if (v == NULL || !YAJL_IS_INTEGER(v))
			continue;
		w->longs = trib_xrealloc(w->longs, (w->nlongs + 1) * sizeof(*w->longs));
		w->longs[w->nlongs++] = v;
	}
	yajl_tree_free(x);
}

/* Any value in the writer's mode (a document's members in its order;
 * {"$code", "$scope"} is a document with a document in it, as Java
 * writes it). */
static bool
put_value(jw *w, yajl_val v)
{
	bool		ok = true;

	if (v == NULL)
		return false;
	if (YAJL_IS_STRING(v))
		put_jstr(w->out, YAJL_GET_STRING(v));
	else if (YAJL_IS_NUMBER(v))
		put_number(w, v->u.number.r, is_long(w, v));
	else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v) || YAJL_IS_NULL(v))
		trib_strbuf_adds(w->out, YAJL_IS_TRUE(v) ? "true" : YAJL_IS_FALSE(v) ? "false" : "null");
	else if (YAJL_IS_ARRAY(v))
	{
		trib_strbuf_addc(w->out, '[');
		for (size_t i = 0; ok && i < v->u.array.len; i++)
		{
			if (i > 0)
				trib_strbuf_adds(w->out, w->sep);
			ok = put_value(w, v->u.array.values[i]);
		}
		trib_strbuf_addc(w->out, ']');
	}
	else if (!put_wrapper(w, v, &ok))
	{
		if (v->u.object.len == 0)
			trib_strbuf_addc(w->out, '{');
		for (size_t i = 0; ok && i < v->u.object.len; i++)
		{
			put_name(w, i == 0, v->u.object.keys[i]);
			ok = put_value(w, v->u.object.values[i]);
		}
		trib_strbuf_addc(w->out, '}');
	}
	return ok;
}

/* Parse text (relaxed Extended JSON) and write it in the mode into out
 * as a JSON string; false (errbuf filled) when it is not JSON or holds
 * an Extended JSON value that is not what libbson writes. */
static bool
put_as_string(const char *text, const jw *how, const char *what,
			  yajl_val (*pick) (yajl_val), const char *extra, const char *image,
			  trib_strbuf *out, char *errbuf, size_t errlen)
{
	char		perr[128];
	yajl_val	root = yajl_tree_parse(text, perr, sizeof(perr));
	trib_strbuf s = {0};
	jw			w = {&s, how->strict, how->sep, NULL, 0};
	bool		ok;

	if (root != NULL && extra != NULL)
		mark_longs(&w, root, extra, image);
	ok = root != NULL && put_value(&w, pick ? pick(root) : root);
	free(w.longs);

	if (ok)
		trib_dbz_quote_n(out, s.data ? s.data : "", s.len);
	else
		snprintf(errbuf, errlen, "debezium: MongoDB %s is not the source's Extended JSON",
				 what);
	trib_strbuf_free(&s);
	yajl_tree_free(root);
	return ok;
}

/* See debezium.h. */
bool
trib_dbz_mongo_doc(const char *doc, const char *extra, const char *image, trib_strbuf *out,
				   char *errbuf, size_t errlen)
{
	jw			how = {NULL, true, ",", NULL, 0};

	return put_as_string(doc, &how, "document", NULL, extra, image, out, errbuf, errlen);
}

/* The _id of a documentKey. */
static yajl_val
pick_id(yajl_val key)
{
	return member(key, "_id");
}

/* See debezium.h. */
bool
trib_dbz_mongo_key(const char *document_key, trib_strbuf *out, char *errbuf, size_t errlen)
{
	trib_strbuf_adds(out, "{\"id\":");
	jw			how = {NULL, false, ",", NULL, 0};

	if (!put_as_string(document_key, &how, "documentKey._id", pick_id, NULL, NULL, out,
					   errbuf, errlen))
		return false;
	trib_strbuf_addc(out, '}');
	return true;
}

/* A JSON array of strings as is, or null when absent or empty. */
static void
put_list(trib_strbuf *out, yajl_val a)
{
	trib_strbuf_adds(out, YAJL_IS_ARRAY(a) && a->u.array.len > 0 ? "[" : "null");
	for (size_t i = 0; YAJL_IS_ARRAY(a) && i < a->u.array.len; i++)
	{
		if (i > 0)
			trib_strbuf_addc(out, ',');
		trib_dbz_put_json(out, a->u.array.values[i], false);
	}
	if (YAJL_IS_ARRAY(a) && a->u.array.len > 0)
		trib_strbuf_addc(out, ']');
}

/* v as compact JSON, or null when absent. */
static void
put_or_null(trib_strbuf *out, yajl_val v)
{
	if (v)
		trib_dbz_put_json(out, v, false);
	else
		trib_strbuf_adds(out, "null");
}

/* truncatedArrays [{field, newSize}] as [{"field":..,"size":..}], or null. */
static void
put_truncated(trib_strbuf *out, yajl_val a)
{
	bool		any = YAJL_IS_ARRAY(a) && a->u.array.len > 0;

	trib_strbuf_adds(out, any ? "[" : "null");
	for (size_t i = 0; any && i < a->u.array.len; i++)
	{
		yajl_val	e = a->u.array.values[i];

		trib_strbuf_adds(out, i > 0 ? ",{\"field\":" : "{\"field\":");
		put_or_null(out, member(e, "field"));
		trib_strbuf_adds(out, ",\"size\":");
		put_or_null(out, member(e, "newSize"));
		trib_strbuf_addc(out, '}');
	}
	if (any)
		trib_strbuf_addc(out, ']');
}

/* See debezium.h. */
bool
trib_dbz_mongo_update(const char *extra, trib_strbuf *out, char *errbuf, size_t errlen)
{
	yajl_val	root = extra ? yajl_tree_parse(extra, NULL, 0) : NULL;
	yajl_val	ud = member(root, "updateDescription");
	yajl_val	uf = member(ud, "updatedFields");
	bool		ok = true;

	if (!YAJL_IS_OBJECT(ud))
	{
		trib_strbuf_adds(out, "null");
		yajl_tree_free(root);
		return true;
	}
	trib_strbuf_adds(out, "{\"removedFields\":");
	put_list(out, member(ud, "removedFields"));
	trib_strbuf_adds(out, ",\"updatedFields\":");
	if (YAJL_IS_OBJECT(uf))
	{
		trib_strbuf s = {0};
		jw			w = {&s, false, ", ", NULL, 0};

		ok = put_value(&w, uf);
		trib_dbz_quote_n(out, s.data ? s.data : "", s.len);
		trib_strbuf_free(&s);
	}
	else
		trib_strbuf_adds(out, "null");
	trib_strbuf_adds(out, ",\"truncatedArrays\":");
	put_truncated(out, member(ud, "truncatedArrays"));
	trib_strbuf_addc(out, '}');
	yajl_tree_free(root);
	if (!ok)
		snprintf(errbuf, errlen, "debezium: MongoDB updateDescription.updatedFields is not "
				 "the source's Extended JSON");
	return ok;
}

/* See debezium.h. */
void
trib_dbz_mongo_source(const char *opaque, const char *collection, int64_t wall_ms,
					  trib_strbuf *out)
{
	yajl_val	root = opaque ? yajl_tree_parse(opaque, NULL, 0) : NULL;
	yajl_val	src = member(root, "source");
	yajl_val	ord = member(src, "ord");
	yajl_val	lsid = member(src, "lsid");
	yajl_val	txn = member(src, "txnNumber");

	trib_strbuf_adds(out, ",\"collection\":");
	trib_dbz_quote(out, collection ? collection : "");
	trib_strbuf_adds(out, ",\"ord\":");
	trib_strbuf_adds(out, YAJL_IS_NUMBER(ord) ? ord->u.number.r : "0");
	trib_strbuf_adds(out, ",\"lsid\":");
	if (lsid && !YAJL_IS_NULL(lsid))
	{
		/* the session's {"id": ...} (the source keeps no uid) */
		trib_strbuf s = {0};
		jw			w = {&s, true, ",", NULL, 0};

		put_name(&w, true, "id");
		if (put_value(&w, lsid))
		{
			trib_strbuf_addc(&s, '}');
			trib_dbz_quote_n(out, s.data, s.len);
		}
		else
			trib_strbuf_adds(out, "null");
		trib_strbuf_free(&s);
	}
	else
		trib_strbuf_adds(out, "null");
	trib_strbuf_adds(out, ",\"txnNumber\":");
	trib_strbuf_adds(out, YAJL_IS_NUMBER(txn) ? txn->u.number.r : "null");
	trib_strbuf_adds(out, ",\"wallTime\":");
	if (wall_ms != 0)
		trib_dbz_put_i64(out, wall_ms);
	else
		trib_strbuf_adds(out, "null");
	yajl_tree_free(root);
}
