/*
 * sr_json.c: the JSON layer of the library, over yajl's tree API: a
 * guarded parse, lookups, structural equality, the canonical writer and
 * exact comparison of numbers as written.
 *
 * Design.  yajl_tree_parse() builds the tree; before it, one pass of
 * yajl's event parser over the same bytes refuses what the tree would
 * hide or what could hurt later: nesting deeper than SR_MAX_DEPTH
 * (yajl_tree_free and the checkers recurse), and strings holding \u0000
 * (the tree keeps C strings, so the canonical form would lose the rest of
 * the string).  That pass also decides syntax, without the comments
 * yajl_tree_parse() would let through (a schema is plain JSON; PostgreSQL's
 * jsonb refuses comments too).  Duplicate keys are refused after the tree
 * is built: a
 * canonical form with sorted keys cannot say which one wins.
 *
 * Numbers keep the text they were written with (yajl's `r`), so the
 * canonical form writes them back unchanged and comparisons can be exact:
 * sr_num_cmp() uses long double (exact for every 64-bit integer, which is
 * what the table schemas' bounds need) and sr_num_is_multiple() works on
 * the decimal digits.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "sr_int.h"

typedef struct guard
{
	int			depth;
	bool		too_deep;
	bool		nul;
} guard;

static int
g_open(void *ctx)
{
	guard	   *g = ctx;

	if (++g->depth > SR_MAX_DEPTH)
		return (g->too_deep = true, 0);
	return 1;
}

static int
g_close(void *ctx)
{
	((guard *) ctx)->depth--;
	return 1;
}

static int
g_str(void *ctx, const unsigned char *s, size_t n)
{
	if (memchr(s, '\0', n) != NULL)
		return (((guard *) ctx)->nul = true, 0);
	return 1;
}

/* One event pass: depth and NUL checks. */
static bool
guard_pass(const char *text, size_t len, char *errbuf, size_t errlen)
{
	static const yajl_callbacks cb = {
		.yajl_string = g_str, .yajl_map_key = g_str,
		.yajl_start_map = g_open, .yajl_end_map = g_close,
		.yajl_start_array = g_open, .yajl_end_array = g_close,
	};
	guard		g = {0};
	yajl_handle h = yajl_alloc(&cb, NULL, &g);
	yajl_status st;

	if (h == NULL)
		return sr_err(errbuf, errlen, "out of memory");
	st = yajl_parse(h, (const unsigned char *) text, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	if (st != yajl_status_ok && !g.too_deep && !g.nul)
	{
		unsigned char *msg = yajl_get_error(h, 0, NULL, 0);
		char		line[256];

		/* yajl's message may end with a newline: keep its first line */
		snprintf(line, sizeof(line), "%s", msg ? (const char *) msg : "parse error");
		line[strcspn(line, "\n")] = '\0';
		sr_err(errbuf, errlen, "invalid JSON: %s", line);
		yajl_free_error(h, msg);
	}
	yajl_free(h);
	if (g.too_deep)
		return sr_err(errbuf, errlen, "JSON nests deeper than %d levels", SR_MAX_DEPTH);
	if (g.nul)
		return sr_err(errbuf, errlen, "JSON strings holding \\u0000 are not accepted");
	return st == yajl_status_ok;
}

/* qsort_r comparator: indexes into an object's keys. */
static int
cmp_key(const void *a, const void *b, void *arg)
{
	const char *const *keys = arg;

	return strcmp(keys[*(const size_t *) a], keys[*(const size_t *) b]);
}

/* The indexes of an object's members in key order; caller frees.  NULL on
 * OOM. */
static size_t *
sorted_keys(yajl_val obj)
{
	size_t		n = obj->u.object.len;
	size_t	   *idx = malloc((n ? n : 1) * sizeof(*idx));

	if (idx == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_key, (void *) obj->u.object.keys);
	return idx;
}

/* The first duplicate key anywhere in v, or NULL; *oom on failure. */
static const char *
find_dup(yajl_val v, bool *oom)
{
	const char *d = NULL;

	if (YAJL_IS_ARRAY(v))
	{
		for (size_t i = 0; d == NULL && i < v->u.array.len; i++)
			d = find_dup(v->u.array.values[i], oom);
		return d;
	}
	if (!YAJL_IS_OBJECT(v))
		return NULL;
	size_t	   *idx = sorted_keys(v);

	if (idx == NULL)
		return (*oom = true, NULL);
	for (size_t i = 1; d == NULL && i < v->u.object.len; i++)
		if (strcmp(v->u.object.keys[idx[i - 1]], v->u.object.keys[idx[i]]) == 0)
			d = v->u.object.keys[idx[i]];
	free(idx);
	for (size_t i = 0; d == NULL && i < v->u.object.len; i++)
		d = find_dup(v->u.object.values[i], oom);
	return d;
}

/* Parse len bytes into a tree; NULL with errbuf set when refused. */
yajl_val
sr_json_parse(const char *text, size_t len, char *errbuf, size_t errlen)
{
	char	   *copy;
	char		yerr[256];
	yajl_val	root;
	const char *dup;
	bool		oom = false;

	if (!guard_pass(text, len, errbuf, errlen))
		return NULL;
	if (memchr(text, '\0', len) != NULL)
		return sr_err(errbuf, errlen, "the document holds a NUL byte"), NULL;
	copy = malloc(len + 1);
	if (copy == NULL)
		return sr_err(errbuf, errlen, "out of memory"), NULL;
	memcpy(copy, text, len);
	copy[len] = '\0';
	yerr[0] = '\0';
	root = yajl_tree_parse(copy, yerr, sizeof(yerr));
	free(copy);
	if (root == NULL)
	{
		/* yajl's message spans lines (it quotes the input); keep line 1 */
		yerr[strcspn(yerr, "\n")] = '\0';
		sr_err(errbuf, errlen, "invalid JSON: %s", yerr[0] ? yerr : "parse error");
		return NULL;
	}
	dup = find_dup(root, &oom);
	if (oom || dup != NULL)
	{
		if (oom)
			sr_err(errbuf, errlen, "out of memory");
		else
			sr_err(errbuf, errlen, "invalid JSON: the key \"%s\" appears twice in one object", dup);
		yajl_tree_free(root);
		return NULL;
	}
	return root;
}

yajl_val
sr_json_get(yajl_val v, const char *key)
{
	if (!YAJL_IS_OBJECT(v))
		return NULL;
	for (size_t i = 0; i < v->u.object.len; i++)
		if (strcmp(v->u.object.keys[i], key) == 0)
			return v->u.object.values[i];
	return NULL;
}

const char *
sr_json_get_str(yajl_val v, const char *key)
{
	yajl_val	s = sr_json_get(v, key);

	return YAJL_IS_STRING(s) ? s->u.string : NULL;
}

/* Structural equality of two JSON values. */
bool
sr_json_equal(yajl_val a, yajl_val b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->type != b->type)
		return false;
	switch (a->type)
	{
		case yajl_t_string:
			return strcmp(a->u.string, b->u.string) == 0;
		case yajl_t_number:
			return sr_num_cmp(a->u.number.r, b->u.number.r) == 0;
		case yajl_t_array:
			if (a->u.array.len != b->u.array.len)
				return false;
			for (size_t i = 0; i < a->u.array.len; i++)
				if (!sr_json_equal(a->u.array.values[i], b->u.array.values[i]))
					return false;
			return true;
		case yajl_t_object:
			if (a->u.object.len != b->u.object.len)
				return false;
			for (size_t i = 0; i < a->u.object.len; i++)
			{
				yajl_val	o = sr_json_get(b, a->u.object.keys[i]);

				if (o == NULL || !sr_json_equal(a->u.object.values[i], o))
					return false;
			}
			return true;
		default:
			return true;
	}
}

/* Append the canonical form of v. */
void
sr_json_canon(sr_buf *b, yajl_val v)
{
	size_t	   *idx;

	switch (v->type)
	{
		case yajl_t_string:
			sr_buf_json_str(b, v->u.string, strlen(v->u.string));
			return;
		case yajl_t_number:
			sr_buf_adds(b, v->u.number.r);
			return;
		case yajl_t_true:
			sr_buf_adds(b, "true");
			return;
		case yajl_t_false:
			sr_buf_adds(b, "false");
			return;
		case yajl_t_null:
			sr_buf_adds(b, "null");
			return;
		case yajl_t_array:
			sr_buf_addc(b, '[');
			for (size_t i = 0; i < v->u.array.len; i++)
			{
				if (i > 0)
					sr_buf_addc(b, ',');
				sr_json_canon(b, v->u.array.values[i]);
			}
			sr_buf_addc(b, ']');
			return;
		case yajl_t_object:
			idx = sorted_keys(v);
			if (idx == NULL)
			{
				b->oom = true;
				return;
			}
			sr_buf_addc(b, '{');
			for (size_t i = 0; i < v->u.object.len; i++)
			{
				const char *k = v->u.object.keys[idx[i]];

				if (i > 0)
					sr_buf_addc(b, ',');
				sr_buf_json_str(b, k, strlen(k));
				sr_buf_addc(b, ':');
				sr_json_canon(b, v->u.object.values[idx[i]]);
			}
			sr_buf_addc(b, '}');
			free(idx);
			return;
		default:
			return;
	}
}

/* Compare two numbers written as JSON text. */
int
sr_num_cmp(const char *a, const char *b)
{
	long double x = strtold(a, NULL),
				y = strtold(b, NULL);

	return x < y ? -1 : x > y ? 1 : 0;
}

/* A positive decimal as mantissa * 10^exp; false when it does not fit. */
static bool
decimal_parts(const char *s, unsigned __int128 *mant, long *exp)
{
	unsigned __int128 m = 0;
	long		e = 0;
	int			digits = 0;
	bool		frac = false;

	if (*s == '-')
		s++;
	for (; *s != '\0' && *s != 'e' && *s != 'E'; s++)
	{
		if (*s == '.')
		{
			frac = true;
			continue;
		}
		if (!isdigit((unsigned char) *s))
			return false;
		if (m == 0 && *s == '0')
		{
			if (frac)
				e--;
			continue;
		}
		if (++digits > 36)
			return false;
		m = m * 10 + (unsigned) (*s - '0');
		if (frac)
			e--;
	}
	if (*s == 'e' || *s == 'E')
	{
		char	   *end;
		long		x = strtol(s + 1, &end, 10);

		if (*end != '\0' || x > 1000 || x < -1000)
			return false;
		e += x;
	}
	while (m != 0 && m % 10 == 0)
	{
		m /= 10;
		e++;
	}
	*mant = m;
	*exp = e;
	return m != 0;
}

/* Whether a is an integer multiple of b, decided on their digits. */
bool
sr_num_is_multiple(const char *a, const char *b)
{
	unsigned __int128 ma,
				mb;
	long		ea,
				eb;

	if (!decimal_parts(a, &ma, &ea) || !decimal_parts(b, &mb, &eb))
		return false;
	/* bring both to the smaller exponent */
	while (ea > eb)
	{
		if (ma > ((unsigned __int128) -1) / 10)
			return false;
		ma *= 10;
		ea--;
	}
	while (eb > ea)
	{
		if (mb > ((unsigned __int128) -1) / 10)
			return false;
		mb *= 10;
		eb--;
	}
	return ma % mb == 0;
}
