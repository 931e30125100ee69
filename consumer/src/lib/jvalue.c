/*
 * jvalue.c: one JSON value as its kind and its text; JSON type checks
 * (see jvalue.h).
 *
 * Objects and arrays travel as JSON text written by the one tree writer
 * (trib_jdoc_gen), so a value that comes back unchanged is written back
 * byte for byte.  Type checks use the exact decimals of decimal.c (a
 * number's value is whole) and the ISO dates of isodate.c.
 */
#include "jvalue.h"

#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "isodate.h"
#include "jsondoc.h"
#include "words.h"

/* ---- values -------------------------------------------------------------- */

void
trib_jvalue_from_yajl(yajl_val v, const char *sqltype, trib_jvalue *out,
					  trib_strbuf *scratch)
{
	out->sqltype = sqltype;
	switch (v ? v->type : yajl_t_null)
	{
		case yajl_t_string:
			out->kind = TRIB_J_STRING;
			out->text = v->u.string;
			break;
		case yajl_t_number:
			out->kind = TRIB_J_NUMBER;
			out->text = v->u.number.r;
			break;
		case yajl_t_true:
			out->kind = TRIB_J_BOOL;
			out->text = "true";
			break;
		case yajl_t_false:
			out->kind = TRIB_J_BOOL;
			out->text = "false";
			break;
		case yajl_t_object:
		case yajl_t_array:
			{
				yajl_gen	g = yajl_gen_alloc(NULL);
				const unsigned char *buf;
				size_t		n;

				out->kind = v->type == yajl_t_object ? TRIB_J_OBJECT : TRIB_J_ARRAY;
				if (g == NULL || !trib_jdoc_gen(g, v))
					abort();
				yajl_gen_get_buf(g, &buf, &n);
				scratch->len = 0;
				trib_strbuf_add(scratch, (const char *) buf, n);
				yajl_gen_free(g);
				out->text = scratch->data;
				out->len = n;
				return;
			}
		default:
			out->kind = TRIB_J_NULL;
			out->text = "null";
			break;
	}
	out->len = strlen(out->text);
}

const char *
trib_jvalue_kind_name(trib_jkind k)
{
	static const char *const n[] = {"null", "boolean", "number", "string",
	"object", "array"};

	return trib_words_name(n, TRIB_NWORDS(n), (int) k);
}

/* The kind of a scalar a yajl parser reports. */
trib_jkind
trib_jkind_of_scalar(yajl_type type)
{
	switch (type)
	{
		case yajl_t_number:
			return TRIB_J_NUMBER;
		case yajl_t_string:
			return TRIB_J_STRING;
		case yajl_t_true:
		case yajl_t_false:
			return TRIB_J_BOOL;
		default:
			return TRIB_J_NULL;
	}
}

void
trib_jvalue_buf_free(trib_jvalue_buf *o)
{
	trib_strbuf_free(&o->text);
	o->kind = TRIB_J_NULL;
}

void
trib_jvalue_buf_set(trib_jvalue_buf *o, trib_jkind kind, const char *s, size_t n)
{
	o->text.len = 0;			/* its buffer kept: a reused o allocates nothing */
	o->kind = kind;
	trib_strbuf_add(&o->text, s, n);
	if (o->text.data == NULL)
		trib_strbuf_adds(&o->text, "");
}

bool
trib_jvalue_buf_gen(yajl_gen g, const trib_jvalue_buf *o)
{
	const char *t = o->text.data ? o->text.data : "";

	switch (o->kind)
	{
		case TRIB_J_STRING:
			return yajl_gen_string(g, (const unsigned char *) t, o->text.len) ==
				yajl_gen_status_ok;
		case TRIB_J_NUMBER:
			return yajl_gen_number(g, t, o->text.len) == yajl_gen_status_ok;
		case TRIB_J_BOOL:
			return yajl_gen_bool(g, strcmp(t, "true") == 0) == yajl_gen_status_ok;
		case TRIB_J_OBJECT:
		case TRIB_J_ARRAY:
			{
				char		err[128];
				yajl_val	v = yajl_tree_parse(t, err, sizeof(err));
				bool		ok = v != NULL && trib_jdoc_gen(g, v);

				yajl_tree_free(v);
				return ok;
			}
		default:
			return yajl_gen_null(g) == yajl_gen_status_ok;
	}
}

void
trib_jvalue_buf_json(const trib_jvalue_buf *o, trib_strbuf *json)
{
	yajl_gen	g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t		n;

	if (g == NULL)
		abort();
	if (trib_jvalue_buf_gen(g, o))
	{
		yajl_gen_get_buf(g, &buf, &n);
		trib_strbuf_add(json, (const char *) buf, n);
	}
	else
		trib_strbuf_adds(json, "null");
	yajl_gen_free(g);
}

yajl_val
trib_jvalue_buf_node(const trib_jvalue_buf *o)
{
	char		e[64];
	const char *t = o->text.data ? o->text.data : "";
	yajl_val	v;

	switch (o->kind)
	{
		case TRIB_J_NULL:
			return trib_jdoc_null();
		case TRIB_J_BOOL:
			return trib_jdoc_bool(strcmp(t, "true") == 0);
		case TRIB_J_NUMBER:
			return trib_jdoc_number(t);
		case TRIB_J_STRING:
			return trib_jdoc_stringn(t, o->text.len);
		default:
			v = trib_jdoc_parse(t, e, sizeof(e));
			return v ? v : trib_jdoc_null();
	}
}

/* ---- types --------------------------------------------------------------- */

static const char *const type_names[] = {
	[TRIB_JT_STRING] = "string",
	[TRIB_JT_NUMBER] = "number",
	[TRIB_JT_INTEGER_TEXT] = "integer",
	[TRIB_JT_BOOLEAN] = "boolean",
	[TRIB_JT_OBJECT] = "object",
	[TRIB_JT_ARRAY] = "array",
	[TRIB_JT_INTEGER] = "integer",
	[TRIB_JT_DATE] = "date",
	[TRIB_JT_TIMESTAMP] = "timestamp",
	[TRIB_JT_UUID] = "uuid",
};

#define NTYPES (sizeof(type_names) / sizeof(type_names[0]))

static bool
is_uuid(const char *s, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++)
	{
		bool		dash = i == 8 || i == 13 || i == 18 || i == 23;
		char		ch = s[i];

		if (dash ? ch != '-' : !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
								 (ch >= 'A' && ch <= 'F')))
			return false;
	}
	return true;
}

/* A number whose value is whole (12, 12.0, 1e3). */
static bool
is_whole(const trib_jvalue *v)
{
	trib_dec	dec;
	bool		ok;

	if (v->kind != TRIB_J_NUMBER || !trib_dec_parse(v->text, v->len, &dec))
		return false;
	ok = dec.exp10 >= 0;
	trib_dec_free(&dec);
	return ok;
}

bool
trib_jvalue_is(const trib_jvalue *v, trib_jtype t)
{
	trib_isodate d;

	switch (t)
	{
		case TRIB_JT_STRING:
			return v->kind == TRIB_J_STRING;
		case TRIB_JT_NUMBER:
			return v->kind == TRIB_J_NUMBER;
		case TRIB_JT_INTEGER_TEXT:
			return v->kind == TRIB_J_NUMBER && memchr(v->text, '.', v->len) == NULL &&
				memchr(v->text, 'e', v->len) == NULL && memchr(v->text, 'E', v->len) == NULL;
		case TRIB_JT_INTEGER:
			return is_whole(v);
		case TRIB_JT_BOOLEAN:
			return v->kind == TRIB_J_BOOL;
		case TRIB_JT_OBJECT:
			return v->kind == TRIB_J_OBJECT;
		case TRIB_JT_ARRAY:
			return v->kind == TRIB_J_ARRAY;
		case TRIB_JT_DATE:
			return v->kind == TRIB_J_STRING && trib_isodate_parse(v->text, v->len, &d) &&
				!d.has_time;
		case TRIB_JT_TIMESTAMP:
			return v->kind == TRIB_J_STRING && trib_isodate_parse(v->text, v->len, &d) &&
				d.has_time;
		case TRIB_JT_UUID:
			return v->kind == TRIB_J_STRING && is_uuid(v->text, v->len);
	}
	return false;
}

bool
trib_jvalue_type_parse(const char *s, trib_jtype *out)
{
	/* TRIB_JT_INTEGER_TEXT has no word of its own: "integer" is TRIB_JT_INTEGER */
	static const char *const parse_names[] = {
		"string", "number", NULL, "boolean", "object", "array", "integer", "date",
		"timestamp", "uuid"
	};
	int			i = trib_words_find(parse_names, TRIB_NWORDS(parse_names), s);

	if (i >= 0)
		*out = (trib_jtype) i;
	return i >= 0;
}

const char *
trib_jvalue_type_name(trib_jtype t)
{
	return trib_words_name(type_names, NTYPES, (int) t);
}
