/*
 * jsondoc.c: mutable yajl trees; see jsondoc.h (paths: jpath.c).
 *
 * yajl_tree_parse builds nodes with malloc and yajl_tree_free releases them
 * with free, so nodes made here follow the same layout: an object owns its
 * key strings, its keys array and its values array; a number owns its raw
 * text; a string owns its text.
 */
#include "jsondoc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "quoted.h"
#include "strbuf.h"

/* ---- trees -------------------------------------------------------------- */

yajl_val
trib_jdoc_parse(const char *text, char *errbuf, size_t errlen)
{
	char		perr[256] = "";
	yajl_val	v = yajl_tree_parse(text, perr, sizeof(perr));

	if (v == NULL)
	{
		char	   *nl = strchr(perr, '\n');

		if (nl)
			*nl = '\0';
		snprintf(errbuf, errlen, "invalid JSON: %s", perr[0] ? perr : "parse error");
	}
	return v;
}

/* The deepest nesting of arrays and objects in text (outside strings and
 * the comments yajl_tree_parse allows); stops counting past `limit`.  Not
 * a validation: yajl does that. */
static int
nesting_depth(const char *text, int limit)
{
	int			depth = 0,
				max = 0;

	for (const char *c = text; *c != '\0' && max <= limit; c++)
	{
		if (*c == '"')
		{
			c = trib_quoted_end(c);
			if (*c == '\0')
				break;
		}
		else if (c[0] == '/' && c[1] == '*')	/* yajl_tree_parse takes comments */
		{
			const char *end = strstr(c + 2, "*/");

			if (end == NULL)
				break;
			c = end + 1;
		}
		else if (c[0] == '/' && c[1] == '/')
		{
			c += strcspn(c, "\n");
			if (*c == '\0')
				break;
		}
		else if (*c == '[' || *c == '{')
			max = ++depth > max ? depth : max;
		else if ((*c == ']' || *c == '}') && depth > 0)
			depth--;
	}
	return max;
}

yajl_val
trib_jdoc_parse_depth(const char *text, int max_depth, char *errbuf, size_t errlen)
{
	if (nesting_depth(text, max_depth) > max_depth)
	{
		snprintf(errbuf, errlen, "invalid JSON: nested deeper than %d levels", max_depth);
		return NULL;
	}
	return trib_jdoc_parse(text, errbuf, errlen);
}

yajl_val
trib_jdoc_parse_bounded(const char *text, char *errbuf, size_t errlen)
{
	return trib_jdoc_parse_depth(text, TRIB_JDOC_MAX_DEPTH, errbuf, errlen);
}

static yajl_val
node_new(yajl_type t)
{
	yajl_val	v = trib_xcalloc(1, sizeof(*v));

	v->type = t;
	return v;
}

yajl_val
trib_jdoc_stringn(const char *s, size_t n)
{
	yajl_val	v = node_new(yajl_t_string);

	v->u.string = trib_xstrndup(s, n);
	return v;
}

yajl_val
trib_jdoc_string(const char *s)
{
	return trib_jdoc_stringn(s, strlen(s));
}

/*
 * A short integer's value without strtoll and strtod: raw is -?[0-9]{1,15}
 * and not "-0" (whose double is -0.0).  Such a value is below 2^53, so the
 * double strtod would give is exactly (double) i.  Value ops build a node
 * for every number they see (rules_splice.c), and the two conversions were
 * the largest cost of building it.  False for any other text.
 */
static bool
short_integer(const char *raw, long long *out)
{
	const char *p = raw + (raw[0] == '-');
	long long	v = 0;
	size_t		n = 0;

	for (; p[n] >= '0' && p[n] <= '9'; n++)
	{
		if (n == 15)
			return false;
		v = v * 10 + (p[n] - '0');
	}
	if (n == 0 || p[n] != '\0' || (raw[0] == '-' && v == 0))
		return false;
	*out = raw[0] == '-' ? -v : v;
	return true;
}

yajl_val
trib_jdoc_number(const char *raw)
{
	yajl_val	v = node_new(yajl_t_number);
	char	   *end;
	long long	i;

	v->u.number.r = trib_xstrdup(raw);
	if (short_integer(raw, &i))
	{
		v->u.number.i = i;
		v->u.number.d = (double) i;
		v->u.number.flags = YAJL_NUMBER_INT_VALID | YAJL_NUMBER_DOUBLE_VALID;
		return v;
	}
	errno = 0;
	v->u.number.i = strtoll(raw, &end, 10);
	if (errno == 0 && *end == '\0')
		v->u.number.flags |= YAJL_NUMBER_INT_VALID;
	errno = 0;
	v->u.number.d = strtod(raw, &end);
	if (errno == 0 && *end == '\0')
		v->u.number.flags |= YAJL_NUMBER_DOUBLE_VALID;
	return v;
}

yajl_val
trib_jdoc_null(void)
{
	return node_new(yajl_t_null);
}

yajl_val
trib_jdoc_bool(bool b)
{
	return node_new(b ? yajl_t_true : yajl_t_false);
}

yajl_val
trib_jdoc_copy(yajl_val v)
{
	yajl_val	c;

	if (v == NULL)
		return NULL;
	c = node_new(v->type);
	switch (v->type)
	{
		case yajl_t_string:
			c->u.string = trib_xstrdup(v->u.string);
			break;
		case yajl_t_number:
			c->u.number = v->u.number;
			c->u.number.r = trib_xstrdup(v->u.number.r);
			break;
		case yajl_t_object:
			c->u.object.len = v->u.object.len;
			c->u.object.keys = trib_xcalloc(v->u.object.len + 1, sizeof(char *));
			c->u.object.values = trib_xcalloc(v->u.object.len + 1, sizeof(yajl_val));
			for (size_t i = 0; i < v->u.object.len; i++)
			{
				c->u.object.keys[i] = trib_xstrdup(v->u.object.keys[i]);
				c->u.object.values[i] = trib_jdoc_copy(v->u.object.values[i]);
			}
			break;
		case yajl_t_array:
			c->u.array.len = v->u.array.len;
			c->u.array.values = trib_xcalloc(v->u.array.len + 1, sizeof(yajl_val));
			for (size_t i = 0; i < v->u.array.len; i++)
				c->u.array.values[i] = trib_jdoc_copy(v->u.array.values[i]);
			break;
		default:
			break;
	}
	return c;
}

yajl_val *
trib_jdoc_get_slot(yajl_val obj, const char *k)
{
	if (obj == NULL || !YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], k) == 0)
			return &obj->u.object.values[i];
	return NULL;
}

void
trib_jdoc_put(yajl_val obj, const char *k, yajl_val v)
{
	yajl_val   *slot = trib_jdoc_get_slot(obj, k);
	size_t		n = obj->u.object.len;

	if (slot != NULL)
	{
		yajl_tree_free(*slot);
		*slot = v;
		return;
	}
	obj->u.object.keys = trib_xrealloc(obj->u.object.keys, sizeof(char *) * (n + 1));
	obj->u.object.values = trib_xrealloc(obj->u.object.values, sizeof(yajl_val) * (n + 1));
	obj->u.object.keys[n] = trib_xstrdup(k);
	obj->u.object.values[n] = v;
	obj->u.object.len = n + 1;
}

void
trib_jdoc_remove_at(yajl_val obj, size_t i)
{
	free((char *) obj->u.object.keys[i]);
	yajl_tree_free(obj->u.object.values[i]);
	memmove(&obj->u.object.keys[i], &obj->u.object.keys[i + 1],
			sizeof(char *) * (obj->u.object.len - i - 1));
	memmove(&obj->u.object.values[i], &obj->u.object.values[i + 1],
			sizeof(yajl_val) * (obj->u.object.len - i - 1));
	obj->u.object.len--;
}

bool
trib_jdoc_remove(yajl_val obj, const char *k)
{
	if (obj == NULL || !YAJL_IS_OBJECT(obj))
		return false;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], k) == 0)
		{
			trib_jdoc_remove_at(obj, i);
			return true;
		}
	return false;
}

const char *
trib_jdoc_scalar_text(yajl_val v)
{
	if (v == NULL)
		return NULL;
	switch (v->type)
	{
		case yajl_t_string:
			return v->u.string;
		case yajl_t_number:
			return v->u.number.r;
		case yajl_t_true:
			return "true";
		case yajl_t_false:
			return "false";
		default:
			return NULL;
	}
}

/* ---- writing ------------------------------------------------------------ */

/* See jsondoc.h. */
bool
trib_jdoc_gen(yajl_gen g, yajl_val v)
{
	if (v == NULL)
		return yajl_gen_null(g) == yajl_gen_status_ok;
	switch (v->type)
	{
		case yajl_t_string:
			return yajl_gen_string(g, (const unsigned char *) v->u.string,
								   strlen(v->u.string)) == yajl_gen_status_ok;
		case yajl_t_number:
			return yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r)) ==
				yajl_gen_status_ok;
		case yajl_t_object:
			if (yajl_gen_map_open(g) != yajl_gen_status_ok)
				return false;
			for (size_t i = 0; i < v->u.object.len; i++)
			{
				const char *k = v->u.object.keys[i];

				if (yajl_gen_string(g, (const unsigned char *) k, strlen(k)) != yajl_gen_status_ok ||
					!trib_jdoc_gen(g, v->u.object.values[i]))
					return false;
			}
			return yajl_gen_map_close(g) == yajl_gen_status_ok;
		case yajl_t_array:
			if (yajl_gen_array_open(g) != yajl_gen_status_ok)
				return false;
			for (size_t i = 0; i < v->u.array.len; i++)
				if (!trib_jdoc_gen(g, v->u.array.values[i]))
					return false;
			return yajl_gen_array_close(g) == yajl_gen_status_ok;
		case yajl_t_true:
		case yajl_t_false:
			return yajl_gen_bool(g, v->type == yajl_t_true) == yajl_gen_status_ok;
		default:
			return yajl_gen_null(g) == yajl_gen_status_ok;
	}
}

char *
trib_jdoc_dump(yajl_val v)
{
	yajl_gen	g = yajl_gen_alloc(NULL);
	char	   *out;

	if (g == NULL)
		abort();
	(void) trib_jdoc_gen(g, v);
	out = trib_jdoc_gen_take(g);
	yajl_gen_free(g);
	return out;
}

/* See jsondoc.h. */
char *
trib_jdoc_gen_take(yajl_gen g)
{
	const unsigned char *buf;
	size_t		len;
	char	   *out;

	yajl_gen_get_buf(g, &buf, &len);
	out = trib_xstrndup((const char *) buf, len);
	yajl_gen_clear(g);
	yajl_gen_reset(g, NULL);
	return out;
}

/* See jsondoc.h. */
void
trib_jdoc_quote(trib_strbuf *b, const char *s)
{
	yajl_gen	g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t		len;

	if (g == NULL)
		abort();
	yajl_gen_string(g, (const unsigned char *) s, strlen(s));
	yajl_gen_get_buf(g, &buf, &len);
	trib_strbuf_add(b, (const char *) buf, len);
	yajl_gen_free(g);
}

/* See jsondoc.h. */
const char *
trib_jdoc_member_str(yajl_val obj, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val	v = obj ? yajl_tree_get(obj, path, yajl_t_string) : NULL;

	return v ? YAJL_GET_STRING(v) : NULL;
}
