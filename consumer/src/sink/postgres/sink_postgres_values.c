/*
 * sink_postgres_values.c: JSON row images to PostgreSQL input text, for
 * the PostgreSQL sink.
 *
 * The row images are JSON objects written by the source (and validated
 * there), so a small scanner suffices: it finds the spans of members and
 * elements without building a tree, checks every bound, and never
 * recurses on nesting (only array literals recurse, to MAX_ARRAY_DEPTH).
 * Values keep their exact text: a number is passed as written, a json or
 * jsonb value byte for byte.  Conversions (see trib_pgsink_value_text):
 * strings unescaped to UTF-8 (\u0000 refused: text cannot hold it), bytea
 * from base64 or hex to "\x..", ISO 8601 expanded years to PostgreSQL's
 * "YYYY-.. BC", JSON arrays to array literals with quoted elements (json
 * and jsonb elements as their JSON text).  A null is SQL NULL unless the
 * image's JSON null list (event.h) names the column or, in an array, the
 * element's position: then it is the JSON value null.
 *
 * Composite values stay JSON, for the target's json_populate_record,
 * which reads nested objects and arrays, NULL fields and every scalar by
 * its type's input function; only bytea and date/time strings at any
 * depth are rewritten (walking the value along the composite type's
 * fields, as the target's catalog gave them), since their JSON text is not
 * their input text.
 */
#include "sink_postgres_int.h"

#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "jsondoc.h"

/* Skip JSON white space. */
static const char *
jws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p at '"': the byte after the closing quote, or NULL. */
static const char *
jskip_string(const char *p, const char *e)
{
	for (p++; p < e; p++)
	{
		if (*p == '\\')
		{
			if (++p >= e)
				return NULL;
		}
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* The JSON kind of the value starting with c. */
static trib_jkind
jkind(char c)
{
	switch (c)
	{
		case '"':
			return TRIB_J_STRING;
		case '{':
			return TRIB_J_OBJECT;
		case '[':
			return TRIB_J_ARRAY;
		case 't':
		case 'f':
			return TRIB_J_BOOL;
		case 'n':
			return TRIB_J_NULL;
		default:
			return TRIB_J_NUMBER;
	}
}

/* Skip one value (any nesting, no recursion); NULL when malformed. */
static const char *
jskip_value(const char *p, const char *e, trib_jkind *kind)
{
	size_t		depth = 0;

	p = jws(p, e);
	if (p >= e)
		return NULL;
	*kind = jkind(*p);
	do
	{
		p = jws(p, e);
		if (p >= e)
			return NULL;
		switch (*p)
		{
			case '"':
				if (!(p = jskip_string(p, e)))
					return NULL;
				break;
			case '{':
			case '[':
				depth++;
				p++;
				break;
			case '}':
			case ']':
				if (depth == 0)
					return NULL;
				depth--;
				p++;
				break;
			case ',':
			case ':':
				if (depth == 0)
					return NULL;
				p++;
				break;
			default:
				{
					const char *q = p;

					while (q < e && ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') ||
									 (*q >= 'A' && *q <= 'Z') || *q == '+' || *q == '-' ||
									 *q == '.'))
						q++;
					if (q == p)
						return NULL;
					p = q;
				}
				break;
		}
	} while (depth > 0);
	return p;
}

/* Start iterating a container of kind open ('{' or '['); false if not one. */
bool
pgs_jiter_begin(pgs_jiter *it, const char *s, size_t n, char open)
{
	const char *e = s + n;
	const char *p = jws(s, e);

	if (p >= e || *p != open)
		return false;
	it->p = p + 1;
	it->e = e;
	it->close = open == '{' ? '}' : ']';
	it->first = true;
	return true;
}

/* Next member (key set for objects): 1, 0 at the end, -1 when malformed. */
int
pgs_jiter_next(pgs_jiter *it, pgs_jspan *key, pgs_jspan *val)
{
	const char *p = jws(it->p, it->e);
	const char *q;

	if (p >= it->e)
		return -1;
	if (*p == it->close)
	{
		it->p = p + 1;
		return 0;
	}
	if (!it->first)
	{
		if (*p != ',')
			return -1;
		p = jws(p + 1, it->e);
	}
	it->first = false;
	if (it->close == '}')
	{
		if (p >= it->e || *p != '"' || !(q = jskip_string(p, it->e)))
			return -1;
		key->p = p;
		key->n = (size_t) (q - p);
		key->kind = TRIB_J_STRING;
		p = jws(q, it->e);
		if (p >= it->e || *p != ':')
			return -1;
		p++;
	}
	p = jws(p, it->e);
	if (!(q = jskip_value(p, it->e, &val->kind)))
		return -1;
	val->p = p;
	val->n = (size_t) (q - p);
	it->p = q;
	return 1;
}

/* Four hex digits; -1 when not. */
static long
hex4(const char *p, const char *e)
{
	long		v = 0;
	int			i;

	if (e - p < 4)
		return -1;
	for (i = 0; i < 4; i++)
	{
		int			d = trib_hex_digit((unsigned char) p[i]);

		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* Append code point cp as UTF-8. */
static void
add_utf8(trib_strbuf *out, unsigned long cp)
{
	char		b[4];
	size_t		n;

	if (cp < 0x80)
	{
		b[0] = (char) cp;
		n = 1;
	}
	else if (cp < 0x800)
	{
		b[0] = (char) (0xC0 | (cp >> 6));
		b[1] = (char) (0x80 | (cp & 0x3F));
		n = 2;
	}
	else if (cp < 0x10000)
	{
		b[0] = (char) (0xE0 | (cp >> 12));
		b[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char) (0x80 | (cp & 0x3F));
		n = 3;
	}
	else
	{
		b[0] = (char) (0xF0 | (cp >> 18));
		b[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char) (0x80 | (cp & 0x3F));
		n = 4;
	}
	trib_strbuf_add(out, b, n);
}

/* What each two-character JSON escape (\n, \" ...) stands for; 0: none. */
static const char short_unescape[128] = {
	['"'] = '"',['\\'] = '\\',['/'] = '/',['b'] = '\b',['f'] = '\f',['n'] = '\n',
	['r'] = '\r',['t'] = '\t',
};

/* Append the decoded text of a JSON string span (with its quotes). */
bool
pgs_junescape(const pgs_jspan *s, trib_strbuf *out, char *errbuf, size_t errlen)
{
	const char *p = s->p + 1;
	const char *e = s->p + s->n - 1;

	while (p < e)
	{
		const char *q = p;
		long		cp;
		unsigned char c;

		while (q < e && *q != '\\')
			q++;
		trib_strbuf_add(out, p, (size_t) (q - p));
		if (q >= e)
			break;
		p = q + 1;
		if (p >= e)
			goto bad;
		c = (unsigned char) *p++;
		if (c < sizeof(short_unescape) && short_unescape[c] != 0)
		{
			trib_strbuf_addc(out, short_unescape[c]);
			continue;
		}
		if (c != 'u' || (cp = hex4(p, e)) < 0)
			goto bad;
		p += 4;
		if (cp >= 0xD800 && cp <= 0xDBFF)
		{
			long		lo;

			if (e - p < 6 || p[0] != '\\' || p[1] != 'u' ||
				(lo = hex4(p + 2, e)) < 0xDC00 || lo > 0xDFFF)
				goto bad;
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			p += 6;
		}
		else if (cp >= 0xDC00 && cp <= 0xDFFF)
			goto bad;
		if (cp == 0)
		{
			snprintf(errbuf, errlen, "a string contains \\u0000, which "
					 "PostgreSQL text cannot hold");
			return false;
		}
		add_utf8(out, (unsigned long) cp);
	}
	return true;
bad:
	snprintf(errbuf, errlen, "malformed JSON string escape");
	return false;
}

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

	if (s->kind != TRIB_J_STRING)
		return false;
	if (!memchr(s->p, '\\', s->n))
		return s->n == nlen + 2 && memcmp(s->p + 1, n, nlen) == 0;
	same = pgs_junescape(s, &tmp, e, sizeof(e)) && tmp.len == nlen &&
		memcmp(tmp.data, n, nlen) == 0;
	trib_strbuf_free(&tmp);
	return same;
}

/* Find column name's entry in a JSON null list (event.h): entry is its
 * span, a string (the column's null is JSON null) or an array
 * (["name", positions...] of JSON null elements).  False when absent. */
bool
pgs_json_nulls_find(const char *list, const char *name, pgs_jspan *entry)
{
	pgs_jiter		it,
				eit;
	pgs_jspan		k,
				v,
				first;
	size_t		nlen = strlen(name);

	if (!list || !pgs_jiter_begin(&it, list, strlen(list), '['))
		return false;
	while (pgs_jiter_next(&it, &k, &v) > 0)
	{
		if (v.kind == TRIB_J_ARRAY)
		{
			if (!pgs_jiter_begin(&eit, v.p, v.n, '[') ||
				pgs_jiter_next(&eit, &k, &first) <= 0 || !jname_is(&first, name, nlen))
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

	if (!entry || !pgs_jiter_begin(&it, entry->p, entry->n, '['))
		return false;
	while (pgs_jiter_next(&it, &k, &v) > 0)
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
	int			rc,
				n = 0;
	trib_strbuf tmp = {0};

	if (depth > MAX_ARRAY_DEPTH || !pgs_jiter_begin(&it, v->p, v->n, '['))
	{
		snprintf(errbuf, errlen, "malformed or too deeply nested array");
		return false;
	}
	trib_strbuf_addc(out, '{');
	while ((rc = pgs_jiter_next(&it, &k, &e)) > 0)
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
	if (rc < 0)
	{
		snprintf(errbuf, errlen, "malformed JSON array");
		goto fail;
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

static bool composite_json(const pgs_ctype *list, const pgs_ctype *ct, const pgs_jspan *v, bool hex,
						   trib_strbuf *out, int depth, char *errbuf, size_t errlen);

/*
 * Append one JSON value of a field of kind/ek (sub: its composite type)
 * with bytea and date/time strings rewritten, arrays element by element.
 */
static bool
field_json(const pgs_ctype *list, char kind, char ek, Oid sub, const pgs_jspan *v, bool hex,
		   trib_strbuf *out, int depth, char *errbuf, size_t errlen)
{
	pgs_jiter		it;
	pgs_jspan		k,
				e;
	int			rc,
				n = 0;

	if (depth > MAX_ARRAY_DEPTH)
	{
		snprintf(errbuf, errlen, "composite value nested too deeply");
		return false;
	}
	if (kind == 'c')
		return composite_json(list, pgs_ctype_find(list, sub), v, hex, out, depth + 1,
							  errbuf, errlen);
	if (v->kind == TRIB_J_STRING && (kind == 'b' || kind == 'd'))
		return string_json(v, kind, hex, out, errbuf, errlen);
	if (v->kind != TRIB_J_ARRAY || kind != 'a' || (ek != 'b' && ek != 'd'))
	{
		trib_strbuf_add(out, v->p, v->n);
		return true;
	}
	if (!pgs_jiter_begin(&it, v->p, v->n, '['))
		goto bad;
	trib_strbuf_addc(out, '[');
	while ((rc = pgs_jiter_next(&it, &k, &e)) > 0)
	{
		if (n++ > 0)
			trib_strbuf_addc(out, ',');
		/* nested arrays keep kind 'a'; strings are elements */
		if (!field_json(list, e.kind == TRIB_J_ARRAY ? 'a' : ek, ek, 0, &e, hex, out, depth + 1,
						errbuf, errlen))
			return false;
	}
	if (rc < 0)
		goto bad;
	trib_strbuf_addc(out, ']');
	return true;
bad:
	snprintf(errbuf, errlen, "malformed JSON array in a composite value");
	return false;
}

/* Append a composite value (an object, or an array of them for an array
 * column) of type ct, rewritten where ct->fix says so. */
static bool
composite_json(const pgs_ctype *list, const pgs_ctype *ct, const pgs_jspan *v, bool hex,
			   trib_strbuf *out, int depth, char *errbuf, size_t errlen)
{
	pgs_jiter		it;
	pgs_jspan		k,
				e;
	int			rc,
				n = 0,
				i;
	trib_strbuf name = {0};
	bool		ok = true;

	rc = 0;
	if (!ct || !ct->fix || (v->kind != TRIB_J_OBJECT && v->kind != TRIB_J_ARRAY))
	{
		trib_strbuf_add(out, v->p, v->n);
		return true;
	}
	if (!pgs_jiter_begin(&it, v->p, v->n, v->kind == TRIB_J_OBJECT ? '{' : '['))
		goto bad;
	trib_strbuf_addc(out, v->kind == TRIB_J_OBJECT ? '{' : '[');
	while (ok && (rc = pgs_jiter_next(&it, &k, &e)) > 0)
	{
		const pgs_cfield *f = NULL;

		if (n++ > 0)
			trib_strbuf_addc(out, ',');
		if (v->kind == TRIB_J_ARRAY)
		{
			ok = field_json(list, 'c', 't', ct->oid, &e, hex, out, depth + 1, errbuf, errlen);
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
			ok = field_json(list, f->kind, f->ekind, f->sub, &e, hex, out, depth, errbuf, errlen);
		else
			trib_strbuf_add(out, e.p, e.n);
	}
	trib_strbuf_free(&name);
	if (!ok)
		return false;
	if (rc < 0)
		goto bad;
	trib_strbuf_addc(out, v->kind == TRIB_J_OBJECT ? '}' : ']');
	return true;
bad:
	trib_strbuf_free(&name);
	snprintf(errbuf, errlen, "malformed composite value");
	return false;
}

/* Append {jname: value} for json_populate_record (see the header). */
bool
pgs_composite_text(const pgs_ctype *list, Oid oid, const char *jname, const pgs_jspan *v,
				   bool hex, trib_strbuf *out, char *errbuf, size_t errlen)
{
	trib_strbuf_addc(out, '{');
	trib_strbuf_adds(out, jname);
	trib_strbuf_addc(out, ':');
	if (!composite_json(list, pgs_ctype_find(list, oid), v, hex, out, 0, errbuf, errlen))
		return false;
	trib_strbuf_addc(out, '}');
	return true;
}

/* Convert one JSON value of json[0..len), jn as in pgs_value_text. */
static bool
value_text(const char *json, size_t len, char kind, char elem_kind, const pgs_jspan *jn,
		   bool bytea_hex, trib_strbuf *out, bool *is_null, char *errbuf, size_t errlen)
{
	pgs_jspan		v;
	const char *end;
	const char *p = jws(json, json + len);

	if (!(end = jskip_value(p, json + len, &v.kind)) || jws(end, json + len) != json + len)
	{
		snprintf(errbuf, errlen, "malformed JSON value");
		return false;
	}
	v.p = p;
	v.n = (size_t) (end - p);
	if (!pgs_value_text(&v, kind, elem_kind, jn, bytea_hex, out, is_null, errbuf, errlen))
		return false;
	trib_strbuf_add(out, "", 0);
	return true;
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
	pgs_jspan		jn;
	bool		found = pgs_json_nulls_find(json_nulls, name, &jn);

	return value_text(json, len, kind, elem_kind, found ? &jn : NULL, false, out, is_null,
					  errbuf, errlen);
}

