/*
 * sink_postgres_values.c: JSON row images to PostgreSQL input text, for
 * the PostgreSQL sink.
 *
 * The JSON texts are indexed by yajl (sink_postgres_json.c), which gives
 * each value's span in the text and each string decoded; walking a
 * container jumps from sibling to sibling (only array literals and
 * composite values recurse, to MAX_ARRAY_DEPTH).  Values keep their exact
 * text: a number is passed as written, a json or jsonb value byte for
 * byte.  Conversions (see trib_pgsink_value_text):
 * strings unescaped to UTF-8 (\u0000 refused: text cannot hold it), bytea
 * from base64 or hex to "\x..", ISO 8601 expanded years to PostgreSQL's
 * "YYYY-.. BC", JSON arrays to array literals with quoted elements (json
 * and jsonb elements as their JSON text).  A null is SQL NULL unless the
 * image's JSON null list (event.h) names the column or, in an array, the
 * element's position: then it is the JSON value null.
 *
 * Composite values stay JSON, for the target's json_populate_record,
 * which reads nested objects and arrays, NULL fields and every scalar by
 * its type's input function; only bytea and date/time strings and money
 * numbers at any depth are rewritten (walking the value along the
 * composite type's fields, as the target's catalog gave them), since their
 * JSON text is not their input text: money's input reads its decimal
 * point by the target's lc_monetary, so the plugin's 12.34 becomes the
 * string "12,34" where that point is a comma (pgs_sink.money_point; a
 * money column itself is cast from numeric instead, sink_postgres_sql.c).
 */
#include "sink_postgres_int.h"

#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "jsondoc.h"

/* ---- value conversion -------------------------------------------------- */

/* Append bytea input text ("\x" + hex) for base64 (or hex) text s[0..n). */
static bool
bytea_text(const char *s, size_t n, bool hex, trib_strbuf *out,
		   char *errbuf, size_t errlen)
{
	static const char digits[] = "0123456789abcdef";
	unsigned	acc = 0;
	int			bits = 0;
	size_t		i;

	trib_strbuf_adds(out, "\\x");
	if (hex)
	{
		if (n > 0 && !trib_hex_valid(s, n))
			goto bad;
		trib_strbuf_add(out, s, n);
		return true;
	}
	for (i = 0; i < n; i++)
	{
		char		c = s[i];
		int			v;

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else if (c == '=')
			break;
		else
			goto bad;
		acc = (acc << 6) | (unsigned) v;
		bits += 6;
		if (bits >= 8)
		{
			unsigned char b = (unsigned char) (acc >> (bits - 8));

			bits -= 8;
			trib_strbuf_addc(out, digits[b >> 4]);
			trib_strbuf_addc(out, digits[b & 15]);
		}
	}
	for (; i < n; i++)
		if (s[i] != '=')
			goto bad;
	return true;
bad:
	snprintf(errbuf, errlen, "bytea value is not valid %s", hex ? "hex" : "base64");
	return false;
}

/*
 * Append a date/timestamp in PostgreSQL's input form.  The plugin writes
 * ISO 8601 expanded years with astronomical numbering (-0043 is 44 BC,
 * 0000 is 1 BC, +10000 is 10000 AD); PostgreSQL wants "0044-... BC".
 */
static void
datetime_text(const char *s, size_t n, trib_strbuf *out)
{
	size_t		i = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
	size_t		d = i;
	unsigned long long year = 0;

	while (d < n && s[d] >= '0' && s[d] <= '9' && d - i < 12)
		year = year * 10 + (unsigned long long) (s[d++] - '0');
	if (d - i < 4 || d >= n || s[d] != '-')
	{
		trib_strbuf_add(out, s, n);	/* infinity, or not a date */
		return;
	}
	if (s[0] == '-' || (i == 0 && year == 0))
	{
		/* astronomical year Y <= 0 is 1 - Y BC */
		trib_strbuf_printf(out, "%04llu", year + 1);
		trib_strbuf_add(out, s + d, n - d);
		trib_strbuf_adds(out, " BC");
		return;
	}
	trib_strbuf_add(out, s + i, n - i);
}

/* Append s[0..n) as a double-quoted array element. */
void
pgs_array_quote(trib_strbuf *out, const char *s, size_t n)
{
	size_t		i;

	trib_strbuf_addc(out, '"');
	for (i = 0; i < n; i++)
	{
		if (s[i] == '"' || s[i] == '\\')
			trib_strbuf_addc(out, '\\');
		trib_strbuf_addc(out, s[i]);
	}
	trib_strbuf_addc(out, '"');
}

/* Convert a scalar string according to kind into out. */
static bool
string_text(const pgs_jspan *v, char kind, bool hex, trib_strbuf *out,
			char *errbuf, size_t errlen)
{
	trib_strbuf tmp = {0};
	bool		ok;

	if (kind != 'b' && kind != 'd')
		return pgs_junescape(v, out, errbuf, errlen);
	ok = pgs_junescape(v, &tmp, errbuf, errlen);
	if (ok && kind == 'b')
		ok = bytea_text(tmp.data ? tmp.data : "", tmp.len, hex, out, errbuf, errlen);
	else if (ok)
		datetime_text(tmp.data ? tmp.data : "", tmp.len, out);
	trib_strbuf_free(&tmp);
	return ok;
}

/* ---- JSON null lists ----------------------------------------------------- */

/* Is the JSON string span s the name n (nlen bytes)? */
static bool
jname_is(const pgs_jspan *s, const char *n, size_t nlen)
{
	trib_strbuf tmp = {0};
	char		e[64];
	bool		same;

	if (s->kind != TRIB_J_STRING || s->sn != nlen)
		return false;
	if (s->n == nlen + 2)		/* no escapes */
		return memcmp(s->s, n, nlen) == 0;
	same = pgs_junescape(s, &tmp, e, sizeof(e)) && memcmp(tmp.data, n, nlen) == 0;
	trib_strbuf_free(&tmp);
	return same;
}

/* Find column name's entry in a JSON null list (event.h): entry is its
 * span, a string (the column's null is JSON null) or an array
 * (["name", positions...] of JSON null elements).  False when absent. */
bool
pgs_json_nulls_find(const pgs_jspan *list, const char *name, pgs_jspan *entry)
{
	pgs_jiter		it,
				eit;
	pgs_jspan		k,
				v,
				first;
	size_t		nlen = strlen(name);

	if (!pgs_jiter_begin(&it, list, '['))
		return false;
	while (pgs_jiter_next(&it, &k, &v))
	{
		if (v.kind == TRIB_J_ARRAY)
		{
			if (!pgs_jiter_begin(&eit, &v, '[') || !pgs_jiter_next(&eit, &k, &first) ||
				!jname_is(&first, name, nlen))
				continue;
		}
		else if (!jname_is(&v, name, nlen))
			continue;
		*entry = v;
		return true;
	}
	return false;
}

/* Does an array entry ["name", positions...] list position pos? */
static bool
entry_has_pos(const pgs_jspan *entry, size_t pos)
{
	pgs_jiter		it;
	pgs_jspan		k,
				v;
	bool		name = true;

	if (!pgs_jiter_begin(&it, entry, '['))
		return false;
	while (pgs_jiter_next(&it, &k, &v))
	{
		size_t		i,
					x = 0;

		if (name)
		{
			name = false;
			continue;
		}
		for (i = 0; i < v.n && v.p[i] >= '0' && v.p[i] <= '9' && x <= pos; i++)
			x = x * 10 + (size_t) (v.p[i] - '0');
		if (v.kind == TRIB_J_NUMBER && i == v.n && x == pos)
			return true;
	}
	return false;
}

/*
 * Append an array literal for a JSON array (elements of kind ek).  json
 * and jsonb elements keep their JSON text; a null element is SQL NULL
 * unless jn (an entry ["name", positions...] of the image's JSON null
 * list) lists its position among the leaf elements (*leaf counts them,
 * row-major), which makes it the JSON value null.
 */
static bool
array_text(const pgs_jspan *v, char ek, const pgs_jspan *jn, bool hex, trib_strbuf *out,
		   int depth, size_t *leaf, char *errbuf, size_t errlen)
{
	pgs_jiter		it;
	pgs_jspan		k,
				e;
	int			n = 0;
	trib_strbuf tmp = {0};

	if (depth > MAX_ARRAY_DEPTH || !pgs_jiter_begin(&it, v, '['))
	{
		snprintf(errbuf, errlen, "malformed or too deeply nested array");
		return false;
	}
	trib_strbuf_addc(out, '{');
	while (pgs_jiter_next(&it, &k, &e))
	{
		if (n++ > 0)
			trib_strbuf_addc(out, ',');
		if (e.kind != TRIB_J_ARRAY)
			(*leaf)++;
		switch (e.kind)
		{
			case TRIB_J_ARRAY:
				if (!array_text(&e, ek, jn, hex, out, depth + 1, leaf, errbuf, errlen))
					goto fail;
				break;
			case TRIB_J_NULL:
				if (ek == 'j' && entry_has_pos(jn, *leaf - 1))
					pgs_array_quote(out, "null", 4);
				else
					trib_strbuf_adds(out, "NULL");
				break;
			case TRIB_J_STRING:
				if (ek == 'j')
				{
					pgs_array_quote(out, e.p, e.n);	/* a JSON string */
					break;
				}
				tmp.len = 0;
				if (!string_text(&e, ek, hex, &tmp, errbuf, errlen))
					goto fail;
				pgs_array_quote(out, tmp.data ? tmp.data : "", tmp.len);
				break;
			case TRIB_J_OBJECT:
				pgs_array_quote(out, e.p, e.n);
				break;
			default:			/* numbers, true, false: their text */
				trib_strbuf_add(out, e.p, e.n);
				break;
		}
	}
	trib_strbuf_addc(out, '}');
	trib_strbuf_free(&tmp);
	return true;
fail:
	trib_strbuf_free(&tmp);
	return false;
}

/* Append the input text of one JSON value for a column of kind/ek; jn:
 * the column's entry in the image's JSON null list, or NULL. */
bool
pgs_value_text(const pgs_jspan *v, char kind, char ek, const pgs_jspan *jn, bool hex,
			   trib_strbuf *out, bool *is_null, char *errbuf, size_t errlen)
{
	size_t		leaf = 0;

	*is_null = false;
	if (v->kind == TRIB_J_NULL && kind == 'j' && jn && jn->kind == TRIB_J_STRING)
	{
		trib_strbuf_adds(out, "null");	/* the JSON value null */
		return true;
	}
	if (v->kind == TRIB_J_NULL)
	{
		*is_null = true;
		return true;
	}
	if (kind == 'j')
	{
		trib_strbuf_add(out, v->p, v->n);	/* JSON text as it is */
		return true;
	}
	switch (v->kind)
	{
		case TRIB_J_STRING:
			return string_text(v, kind, hex, out, errbuf, errlen);
		case TRIB_J_ARRAY:
			if (kind == 'a')
				return array_text(v, ek, jn && jn->kind == TRIB_J_ARRAY ? jn : NULL, hex, out, 0,
								  &leaf, errbuf, errlen);
			/* FALLTHROUGH */
		default:
			trib_strbuf_add(out, v->p, v->n);
			return true;
	}
}

/* ---- composite values --------------------------------------------------- */

/* The composite type oid in a list, or NULL. */
const pgs_ctype *
pgs_ctype_find(const pgs_ctype *list, Oid oid)
{
	for (; list; list = list->next)
		if (list->oid == oid)
			return list;
	return NULL;
}

/* Append a JSON string holding the input text of bytea or date/time
 * string v (kind 'b' or 'd'). */
static bool
string_json(const pgs_jspan *v, char kind, bool hex, trib_strbuf *out, char *errbuf, size_t errlen)
{
	trib_strbuf tmp = {0};
	bool		ok = string_text(v, kind, hex, &tmp, errbuf, errlen);

	if (ok)
	{
		trib_strbuf_add(&tmp, "", 0);
		trib_jdoc_quote(out, tmp.data);
	}
	trib_strbuf_free(&tmp);
	return ok;
}

/* Append money number v as a JSON string of money's input text, its
 * decimal point written as the target's (mpoint). */
static void
money_json(const pgs_jspan *v, char mpoint, trib_strbuf *out)
{
	size_t		i;

	trib_strbuf_addc(out, '"');
	for (i = 0; i < v->n; i++)
		trib_strbuf_addc(out, v->p[i] == '.' ? mpoint : v->p[i]);
	trib_strbuf_addc(out, '"');
}

static bool composite_json(const pgs_ctype *list, const pgs_ctype *ct, const pgs_jspan *v, bool hex,
						   char mpoint, trib_strbuf *out, int depth, char *errbuf, size_t errlen);

/*
 * Append one JSON value of a field of kind/ek (sub: its composite type;
 * 'm' for money, here only) with bytea and date/time strings and money
 * numbers rewritten, arrays element by element.
 */
static bool
field_json(const pgs_ctype *list, char kind, char ek, Oid sub, const pgs_jspan *v, bool hex,
		   char mpoint, trib_strbuf *out, int depth, char *errbuf, size_t errlen)
{
	pgs_jiter		it;
	pgs_jspan		k,
				e;
	int			n = 0;

	if (depth > MAX_ARRAY_DEPTH)
	{
		snprintf(errbuf, errlen, "composite value nested too deeply");
		return false;
	}
	if (kind == 'c')
		return composite_json(list, pgs_ctype_find(list, sub), v, hex, mpoint, out, depth + 1,
							  errbuf, errlen);
	if (v->kind == TRIB_J_STRING && (kind == 'b' || kind == 'd'))
		return string_json(v, kind, hex, out, errbuf, errlen);
	if (v->kind == TRIB_J_NUMBER && kind == 'm')
	{
		money_json(v, mpoint, out);
		return true;
	}
	if (v->kind != TRIB_J_ARRAY || kind != 'a' || (ek != 'b' && ek != 'd' && ek != 'm'))
	{
		trib_strbuf_add(out, v->p, v->n);
		return true;
	}
	if (!pgs_jiter_begin(&it, v, '['))
	{
		snprintf(errbuf, errlen, "malformed JSON array in a composite value");
		return false;
	}
	trib_strbuf_addc(out, '[');
	while (pgs_jiter_next(&it, &k, &e))
	{
		if (n++ > 0)
			trib_strbuf_addc(out, ',');
		/* nested arrays keep kind 'a'; strings are elements */
		if (!field_json(list, e.kind == TRIB_J_ARRAY ? 'a' : ek, ek, 0, &e, hex, mpoint, out,
						depth + 1, errbuf, errlen))
			return false;
	}
	trib_strbuf_addc(out, ']');
	return true;
}

/* Append a composite value (an object, or an array of them for an array
 * column) of type ct, rewritten where ct->fix says so. */
static bool
composite_json(const pgs_ctype *list, const pgs_ctype *ct, const pgs_jspan *v, bool hex,
			   char mpoint, trib_strbuf *out, int depth, char *errbuf, size_t errlen)
{
	pgs_jiter		it;
	pgs_jspan		k,
				e;
	int			n = 0,
				i;
	trib_strbuf name = {0};
	bool		ok = true;

	if (!ct || !ct->fix || (v->kind != TRIB_J_OBJECT && v->kind != TRIB_J_ARRAY))
	{
		trib_strbuf_add(out, v->p, v->n);
		return true;
	}
	if (!pgs_jiter_begin(&it, v, v->kind == TRIB_J_OBJECT ? '{' : '['))
	{
		snprintf(errbuf, errlen, "malformed composite value");
		return false;
	}
	trib_strbuf_addc(out, v->kind == TRIB_J_OBJECT ? '{' : '[');
	while (ok && pgs_jiter_next(&it, &k, &e))
	{
		const pgs_cfield *f = NULL;

		if (n++ > 0)
			trib_strbuf_addc(out, ',');
		if (v->kind == TRIB_J_ARRAY)
		{
			ok = field_json(list, 'c', 't', ct->oid, &e, hex, mpoint, out, depth + 1, errbuf,
							errlen);
			continue;
		}
		name.len = 0;
		if (!(ok = pgs_junescape(&k, &name, errbuf, errlen)))
			break;
		trib_strbuf_add(&name, "", 0);
		for (i = 0; i < ct->nf && !f; i++)
			if (strcmp(ct->f[i].name, name.data) == 0)
				f = &ct->f[i];
		trib_strbuf_add(out, k.p, k.n);
		trib_strbuf_addc(out, ':');
		if (f && e.kind != TRIB_J_NULL)
			ok = field_json(list, f->money && f->kind != 'a' ? 'm' : f->kind,
							f->money ? 'm' : f->ekind, f->sub, &e, hex, mpoint, out, depth,
							errbuf, errlen);
		else
			trib_strbuf_add(out, e.p, e.n);
	}
	trib_strbuf_free(&name);
	if (!ok)
		return false;
	trib_strbuf_addc(out, v->kind == TRIB_J_OBJECT ? '}' : ']');
	return true;
}

/* Append {jname: value} for json_populate_record (see the header). */
bool
pgs_composite_text(const pgs_ctype *list, Oid oid, const char *jname, const pgs_jspan *v,
				   bool hex, char mpoint, trib_strbuf *out, char *errbuf, size_t errlen)
{
	trib_strbuf_addc(out, '{');
	trib_strbuf_adds(out, jname);
	trib_strbuf_addc(out, ':');
	if (!composite_json(list, pgs_ctype_find(list, oid), v, hex, mpoint, out, 0, errbuf,
						errlen))
		return false;
	trib_strbuf_addc(out, '}');
	return true;
}

/* Convert one JSON value of json[0..len), jn as in pgs_value_text. */
static bool
value_text(const char *json, size_t len, char kind, char elem_kind, const pgs_jspan *jn,
		   bool bytea_hex, trib_strbuf *out, bool *is_null, char *errbuf, size_t errlen)
{
	pgs_jdoc	doc = {0};
	pgs_jspan	v;
	bool		ok = pgs_jdoc_parse(&doc, json, len, "malformed JSON value", errbuf, errlen);

	if (ok)
	{
		pgs_jdoc_root(&doc, &v);
		ok = pgs_value_text(&v, kind, elem_kind, jn, bytea_hex, out, is_null, errbuf, errlen);
	}
	if (ok)
		trib_strbuf_add(out, "", 0);
	pgs_jdoc_free(&doc);
	return ok;
}

/* Exposed for tests: convert one JSON value. */
bool
trib_pgsink_value_text(const char *json, size_t len, char kind, char elem_kind,
					   bool bytea_hex, trib_strbuf *out, bool *is_null,
					   char *errbuf, size_t errlen)
{
	return value_text(json, len, kind, elem_kind, NULL, bytea_hex, out, is_null,
					  errbuf, errlen);
}

/* Exposed for tests: convert the value of column `name` of an image whose
 * JSON null list is json_nulls. */
bool
trib_pgsink_column_text(const char *name, const char *json_nulls, const char *json,
						size_t len, char kind, char elem_kind, struct trib_strbuf *out,
						bool *is_null, char *errbuf, size_t errlen)
{
	pgs_jdoc	list = {0};
	pgs_jspan	root,
				jn;
	char		e[64];
	bool		found = false,
				ok;

	if (json_nulls && pgs_jdoc_parse(&list, json_nulls, strlen(json_nulls), "", e, sizeof(e)))
	{
		pgs_jdoc_root(&list, &root);
		found = pgs_json_nulls_find(&root, name, &jn);
	}
	ok = value_text(json, len, kind, elem_kind, found ? &jn : NULL, false, out, is_null,
					errbuf, errlen);
	pgs_jdoc_free(&list);
	return ok;
}
