/*
 * lua_json.c: JSON values (yajl trees) to Lua values and Lua results back
 * to JSON (yajl_gen), for the sandboxed expressions (see lua_expr.h).
 *
 * Numbers.  A JSON number becomes a Lua integer when it is written as an
 * integer and fits 64 bits; a float when a double keeps all its
 * significant digits (15 or fewer always do; more are checked by
 * printing the double back with as many digits); otherwise the number's text as a Lua string,
 * so a numeric(40) column reaches the expression with every digit and an
 * expression that computes with it does so visibly (Lua converts the
 * string on arithmetic).  The common cases (short integers and short
 * decimals) are decided without allocating.
 *
 * Results.  Tables become JSON arrays when they carry the array marker
 * (arrays read from JSON) or are non-empty sequences, objects otherwise;
 * object keys must be strings and are written sorted so that the same
 * table always gives the same text.  Floats are written in the shortest
 * form that reads back the same; NaN and infinities have no JSON form and
 * are errors.  Strings must be UTF-8 (yajl_gen validates).
 */
#include "jsondoc.h"
#include "lua_expr_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "decimal.h"

/* Does x print back as d's digits (d has 16..60 significant digits)?
 * glibc prints the exact binary value, so this is the round-trip test. */
static bool
double_keeps(const trib_dec *d, double x)
{
	char		buf[128];
	size_t		n = strlen(d->digits),
				k = 0;
	char	   *e;
	long		ex;

	if (!isfinite(x) || n > 60)
		return false;
	/* x as n significant digits: "d.ddddde+XX" */
	snprintf(buf, sizeof(buf), "%.*e", (int) n - 1, fabs(x));
	for (char *p = buf; *p && *p != 'e'; p++)
		if (*p != '.')
		{
			if (k >= n || *p != d->digits[k])
				return false;
			k++;
		}
	e = strchr(buf, 'e');
	ex = e ? strtol(e + 1, NULL, 10) : 0;
	return k == n && ex == (long) (d->exp10 + (int64_t) n - 1);
}

/*
 * A decimal without exponent of at most 15 digits: its digits as an
 * integer m < 2^53 and f fraction digits; m / 10^f is correctly rounded
 * because both operands are exact doubles (f <= 15 < 23).
 */
static double
short_decimal(const char *s, size_t len)
{
	static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
	1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
	uint64_t	m = 0;
	int			f = 0;
	bool		frac = false,
				neg = len > 0 && s[0] == '-';

	for (size_t i = neg; i < len; i++)
	{
		if (s[i] == '.')
			frac = true;
		else
		{
			m = m * 10 + (uint64_t) (s[i] - '0');
			f += frac;
		}
	}
	return (neg ? -1.0 : 1.0) * ((double) m / p10[f]);
}

void
trib_lua_push_number(lua_State *L, const char *s, size_t len)
{
	char		buf[32];
	bool		integer = true;
	size_t		digits = 0;
	trib_dec	d;

	for (size_t i = 0; i < len; i++)
	{
		if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
			integer = false;
		else if (s[i] >= '0' && s[i] <= '9')
			digits++;
	}
	if (len < sizeof(buf))
	{
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (integer && digits <= 18)
		{
			lua_pushinteger(L, (lua_Integer) strtoll(buf, NULL, 10));
			return;
		}
		if (integer && digits == 19)
		{
			long long	v;

			errno = 0;
			v = strtoll(buf, NULL, 10);
			if (errno == 0)
			{
				lua_pushinteger(L, (lua_Integer) v);
				return;
			}
		}
		if (!integer && digits <= 15 && !memchr(s, 'e', len) && !memchr(s, 'E', len))
		{
			lua_pushnumber(L, short_decimal(s, len));
			return;
		}
	}
	/* slow path: count significant digits exactly */
	if (!trib_dec_parse(s, len, &d))
	{
		lua_pushlstring(L, s, len);
		return;
	}
	{
		size_t		n = strlen(d.digits);
		double		x = trib_dec_to_double(&d);

		if (isfinite(x) && (n <= 15 || double_keeps(&d, x)) &&
			d.exp10 > -300 && d.exp10 < 300)
			lua_pushnumber(L, x);
		else
			lua_pushlstring(L, s, len);
	}
	trib_dec_free(&d);
}

/* trib_lua_push_json at a nesting depth. */
static void
push_json(lua_State *L, yajl_val v, bool top_level, int depth)
{
	switch (v ? v->type : yajl_t_null)
	{
		case yajl_t_string:
			lua_pushstring(L, v->u.string);
			return;
		case yajl_t_number:
			trib_lua_push_number(L, v->u.number.r, strlen(v->u.number.r));
			return;
		case yajl_t_true:
		case yajl_t_false:
			lua_pushboolean(L, v->type == yajl_t_true);
			return;
		case yajl_t_array:
		case yajl_t_object:
			break;
		default:
			if (top_level)
				lua_pushnil(L);
			else
				lua_rawgeti(L, LUA_REGISTRYINDEX, trib_lua_of(L)->null_ref);
			return;
	}
	if (depth >= TRIB_LUA_MAX_DEPTH)
		luaL_error(L, "JSON value nested deeper than %d levels", TRIB_LUA_MAX_DEPTH);
	luaL_checkstack(L, 4, "JSON value");
	if (v->type == yajl_t_array)
	{
		lua_createtable(L, (int) v->u.array.len, 0);
		for (size_t i = 0; i < v->u.array.len; i++)
		{
			push_json(L, v->u.array.values[i], false, depth + 1);
			lua_rawseti(L, -2, (lua_Integer) i + 1);
		}
		lua_rawgeti(L, LUA_REGISTRYINDEX, trib_lua_of(L)->array_mt_ref);
		lua_setmetatable(L, -2);
		return;
	}
	lua_createtable(L, 0, (int) v->u.object.len);
	for (size_t i = 0; i < v->u.object.len; i++)
	{
		lua_pushstring(L, v->u.object.keys[i]);
		push_json(L, v->u.object.values[i], false, depth + 1);
		lua_rawset(L, -3);
	}
}

void
trib_lua_push_json(lua_State *L, yajl_val v, bool top_level)
{
	push_json(L, v, top_level, 0);
}

/* Write a float in its shortest round-trip form. */
static bool
gen_float(yajl_gen g, double x, char *errbuf, size_t errlen)
{
	char		buf[40];

	if (!isfinite(x))
	{
		snprintf(errbuf, errlen, "result: %s has no JSON form",
				 isnan(x) ? "nan" : "an infinite number");
		return false;
	}
	for (int prec = 15; prec <= 17; prec++)
	{
		snprintf(buf, sizeof(buf), "%.*g", prec, x);
		if (strtod(buf, NULL) == x)
			break;
	}
	return yajl_gen_number(g, buf, strlen(buf)) == yajl_gen_status_ok;
}

/* Is the table at idx to be written as an array?  *n gets its length. */
static bool
table_is_array(lua_State *L, int idx, lua_Integer *n)
{
	lua_Integer count = 0;
	trib_lua   *T = trib_lua_of(L);
	bool		marked = false;

	*n = (lua_Integer) lua_rawlen(L, idx);
	if (lua_getmetatable(L, idx))
	{
		lua_rawgeti(L, LUA_REGISTRYINDEX, T->array_mt_ref);
		marked = lua_rawequal(L, -1, -2);
		lua_pop(L, 2);
	}
	if (marked)
		return true;
	if (*n == 0)
		return false;
	lua_pushnil(L);
	while (lua_next(L, idx))
	{
		lua_pop(L, 1);
		if (!lua_isinteger(L, -1))
		{
			lua_pop(L, 1);
			return false;
		}
		count++;
	}
	return count == *n;
}

/* qsort comparator for the keys of an object. */
static int
cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Write the object at idx with its keys sorted. */
static bool
gen_object(lua_State *L, int idx, yajl_gen g, int depth, char *errbuf,
		   size_t errlen)
{
	size_t		n = 0,
				cap = 16;
	const char **keys = malloc(cap * sizeof(*keys));
	bool		ok = true;

	if (keys == NULL)
		return luaL_error(L, "out of memory"), false;
	lua_pushnil(L);
	while (lua_next(L, idx))
	{
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING)
		{
			snprintf(errbuf, errlen, "result: a table with %s keys is neither "
					 "a JSON array nor an object (keys must be strings)",
					 luaL_typename(L, -1));
			lua_pop(L, 1);
			free(keys);
			return false;
		}
		if (n == cap)
		{
			const char **nk = realloc(keys, (cap *= 2) * sizeof(*keys));

			if (nk == NULL)
				return free(keys), luaL_error(L, "out of memory"), false;
			keys = nk;
		}
		keys[n++] = lua_tostring(L, -1);	/* anchored by the table */
	}
	qsort(keys, n, sizeof(*keys), cmp_keys);
	ok = yajl_gen_map_open(g) == yajl_gen_status_ok;
	for (size_t i = 0; ok && i < n; i++)
	{
		ok = yajl_gen_string(g, (const unsigned char *) keys[i], strlen(keys[i])) ==
			yajl_gen_status_ok;
		if (!ok)
		{
			snprintf(errbuf, errlen, "result: key is not valid UTF-8");
			break;
		}
		lua_pushstring(L, keys[i]);
		lua_rawget(L, idx);
		ok = trib_lua_gen_value(L, lua_gettop(L), g, depth + 1, errbuf, errlen);
		lua_pop(L, 1);
	}
	free(keys);
	return ok && yajl_gen_map_close(g) == yajl_gen_status_ok;
}

/* Write the table at idx (array or object). */
static bool
gen_table(lua_State *L, int idx, yajl_gen g, int depth, char *errbuf,
		  size_t errlen)
{
	lua_Integer n;
	bool		ok;

	if (depth >= TRIB_LUA_MAX_DEPTH)
	{
		snprintf(errbuf, errlen, "result: tables nested deeper than %d "
				 "levels (or a cycle)", TRIB_LUA_MAX_DEPTH);
		return false;
	}
	luaL_checkstack(L, 6, "result");
	if (!table_is_array(L, idx, &n))
		return gen_object(L, idx, g, depth, errbuf, errlen);
	ok = yajl_gen_array_open(g) == yajl_gen_status_ok;
	for (lua_Integer i = 1; ok && i <= n; i++)
	{
		lua_rawgeti(L, idx, i);
		ok = trib_lua_gen_value(L, lua_gettop(L), g, depth + 1, errbuf, errlen);
		lua_pop(L, 1);
	}
	return ok && yajl_gen_array_close(g) == yajl_gen_status_ok;
}

/* A row-image proxy: write its whole image. */
static bool
gen_proxy(lua_State *L, int idx, yajl_gen g, char *errbuf, size_t errlen);

bool
trib_lua_gen_value(lua_State *L, int idx, yajl_gen g, int depth,
				   char *errbuf, size_t errlen)
{
	trib_lua   *T = trib_lua_of(L);
	size_t		n;
	const char *s;

	switch (lua_type(L, idx))
	{
		case LUA_TNIL:
			return yajl_gen_null(g) == yajl_gen_status_ok;
		case LUA_TBOOLEAN:
			return yajl_gen_bool(g, lua_toboolean(L, idx)) == yajl_gen_status_ok;
		case LUA_TNUMBER:
			if (lua_isinteger(L, idx))
			{
				char		buf[32];

				snprintf(buf, sizeof(buf), "%lld", (long long) lua_tointeger(L, idx));
				return yajl_gen_number(g, buf, strlen(buf)) == yajl_gen_status_ok;
			}
			return gen_float(g, lua_tonumber(L, idx), errbuf, errlen);
		case LUA_TSTRING:
			s = lua_tolstring(L, idx, &n);
			if (yajl_gen_string(g, (const unsigned char *) s, n) != yajl_gen_status_ok)
			{
				snprintf(errbuf, errlen, "result: string is not valid UTF-8");
				return false;
			}
			return true;
		case LUA_TTABLE:
			return gen_table(L, idx, g, depth, errbuf, errlen);
		case LUA_TUSERDATA:
			lua_rawgeti(L, LUA_REGISTRYINDEX, T->null_ref);
			if (lua_rawequal(L, -1, idx))
			{
				lua_pop(L, 1);
				return yajl_gen_null(g) == yajl_gen_status_ok;
			}
			lua_pop(L, 1);
			return gen_proxy(L, idx, g, errbuf, errlen);
		default:
			snprintf(errbuf, errlen, "result: a %s has no JSON form",
					 luaL_typename(L, idx));
			return false;
	}
}

static bool
gen_proxy(lua_State *L, int idx, yajl_gen g, char *errbuf, size_t errlen)
{
	const int  *slot = luaL_testudata(L, idx, TRIB_LUA_ROW_MT);
	yajl_val	tree;

	if (slot == NULL)
	{
		snprintf(errbuf, errlen, "result: a userdata has no JSON form");
		return false;
	}
	tree = trib_lua_image(L, *slot);
	return tree ? trib_jdoc_gen(g, tree) : yajl_gen_null(g) == yajl_gen_status_ok;
}
