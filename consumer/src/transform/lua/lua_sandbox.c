/*
 * lua_sandbox.c: the limits and the environment of sandboxed Lua states
 * (see lua_expr.h for the rules).
 *
 * Environment.  Expressions get a private _ENV: an empty table whose
 * metatable sends reads to a whitelist table (the allowed base functions
 * and read-only proxies of the allowed libraries) and, failing that, to
 * the event lookup; writes raise an error.  Every metatable involved has
 * __metatable = false, so getmetatable() returns false and setmetatable()
 * refuses to replace it; the whitelist and the real library tables cannot
 * be reached from Lua.  The string library loses dump, math loses random
 * and randomseed, string.format refuses %p (it prints addresses, which
 * would make results differ between runs), and tostring prints a table or
 * function as its type name for the same reason.  The shared string
 * metatable is protected the same way and indexes the trimmed library.
 *
 * Memory.  trib_lua_alloc counts the bytes the state holds and refuses an
 * allocation that would pass max_memory; Lua turns that into a "not
 * enough memory" error, which lua_expr.c reports as the memory limit.
 *
 * Instructions.  A count hook adds its step to a per-evaluation counter
 * and raises an error past max_instructions.  Coroutines inherit the hook
 * (Lua 5.4 copies it to new threads) and share the counter.  Once the
 * limit is hit every later hook call raises again, and the hook of the
 * failing thread fires on every instruction, so no loop that catches
 * errors (coroutine.resume) can keep running.
 *
 * Work in C.  The hook only counts VM instructions: a library function
 * that loops in C runs uncounted.  The ones whose loop an argument can
 * make unbounded without allocating are wrapped: table.move,
 * table.concat, table.sort, and table.insert/table.remove with a position
 * (a __len can claim any length, an __index that is a C function answers
 * without running Lua), charge one step per element to the counter
 * before running; string.rep of an empty string and separator returns ""
 * at once (Lua's loop would run n times copying nothing).  setmetatable refuses a
 * metatable with __gc: Lua runs finalizers with hooks off, so one could
 * loop forever in a later evaluation or in lua_close.  Not covered: the
 * backtracking of Lua patterns (string.find, match, gmatch, gsub), whose
 * cost in C grows as a power of the subject's length with each `-`, `*`
 * or `+` (docs/TRANSFORMS.md).
 */
#include "lua_expr_int.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

void *
trib_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	trib_lua   *T = ud;
	size_t		old = ptr ? osize : 0;
	void	   *p;

	if (nsize == 0)
	{
		free(ptr);
		T->mem_used -= old;
		return NULL;
	}
	if (nsize > old && T->mem_enforce &&
		(nsize - old > T->lim.max_memory ||
		 T->mem_used + (nsize - old) > T->lim.max_memory))
	{
		T->mem_hit = true;
		return NULL;
	}
	p = realloc(ptr, nsize);
	if (p == NULL)
		return nsize <= old ? ptr : NULL;	/* shrinking must not fail */
	T->mem_used = T->mem_used - old + nsize;
	return p;
}

/* The hook's step: at most TRIB_LUA_HOOK_STEP, at most the limit. */
static int
hook_step(const trib_lua *T)
{
	return T->lim.max_instructions < TRIB_LUA_HOOK_STEP
		? (int) (T->lim.max_instructions ? T->lim.max_instructions : 1)
		: TRIB_LUA_HOOK_STEP;
}

/* Raise the instruction limit's error; every later hook call raises too. */
static void
limit_exceeded(lua_State *L, trib_lua *T)
{
	T->limit_hit = true;
	lua_sethook(L, trib_lua_hook, LUA_MASKCOUNT, 1);
	luaL_error(L, "instruction limit of %llu exceeded",
			   (unsigned long long) T->lim.max_instructions);
}

void
trib_lua_hook(lua_State *L, lua_Debug *ar)
{
	trib_lua   *T = trib_lua_of(L);

	(void) ar;
	T->count += (uint64_t) hook_step(T);
	if (T->limit_hit || T->count > T->lim.max_instructions)
		limit_exceeded(L, T);
}

/* Charge n steps a library function is about to take in C, where the
 * hook does not fire, to the evaluation's counter. */
static void
charge(lua_State *L, lua_Unsigned n)
{
	trib_lua   *T = trib_lua_of(L);

	if (T->limit_hit || n > T->lim.max_instructions - T->count)
		limit_exceeded(L, T);
	T->count += n;
}

/* Run the wrapped library function (upvalue 1, a C function without
 * upvalues) in this call's frame: its results, and its argument errors
 * name the function as the caller wrote it. */
static int
call_wrapped(lua_State *L)
{
	return lua_tocfunction(L, lua_upvalueindex(1)) (L);
}

/* string.rep: an empty result is made at once (Lua's loop would run n
 * times copying nothing); any other result's size bounds the loop and
 * the memory limit bounds the size. */
static int
safe_rep(lua_State *L)
{
	size_t		l,
				lsep;

	luaL_checklstring(L, 1, &l);
	luaL_optlstring(L, 3, "", &lsep);
	if (luaL_checkinteger(L, 2) > 0 && l + lsep == 0)
	{
		lua_pushliteral(L, "");
		return 1;
	}
	return call_wrapped(L);
}

/* table.move: one step per element moved. */
static int
safe_move(lua_State *L)
{
	lua_Integer f = luaL_checkinteger(L, 2),
				e = luaL_checkinteger(L, 3);

	if (e >= f)
		charge(L, (lua_Unsigned) e - (lua_Unsigned) f + 1);
	return call_wrapped(L);
}

/* table.insert(t, pos, v): one step per element shifted up. */
static int
safe_insert(lua_State *L)
{
	if (lua_gettop(L) == 3 && lua_type(L, 1) == LUA_TTABLE)
	{
		lua_Integer n = luaL_len(L, 1),
					pos = luaL_checkinteger(L, 2);

		if (n >= pos)
			charge(L, (lua_Unsigned) n - (lua_Unsigned) pos + 1);
	}
	return call_wrapped(L);
}

/* table.remove(t, pos): one step per element shifted down. */
static int
safe_remove(lua_State *L)
{
	if (lua_type(L, 1) == LUA_TTABLE && !lua_isnoneornil(L, 2))
	{
		lua_Integer n = luaL_len(L, 1),
					pos = luaL_checkinteger(L, 2);

		if (n > pos)
			charge(L, (lua_Unsigned) n - (lua_Unsigned) pos);
	}
	return call_wrapped(L);
}

/* table.concat(t, sep, i, j): one step per element joined (an __index
 * that is a C function, table.concat itself, returns "" for each without
 * allocating). */
static int
safe_concat(lua_State *L)
{
	if (lua_type(L, 1) == LUA_TTABLE)
	{
		lua_Integer i = luaL_optinteger(L, 3, 1),
					j = lua_isnoneornil(L, 4) ? luaL_len(L, 1) : luaL_checkinteger(L, 4);

		if (j >= i)
			charge(L, (lua_Unsigned) j - (lua_Unsigned) i + 1);
	}
	return call_wrapped(L);
}

/* table.sort(t): one step per element (its comparisons, when C functions
 * and a __len say 2^31 elements, would run for hours uncounted). */
static int
safe_sort(lua_State *L)
{
	if (lua_type(L, 1) == LUA_TTABLE)
	{
		lua_Integer n = luaL_len(L, 1);

		if (n > 1)
			charge(L, (lua_Unsigned) n);
	}
	return call_wrapped(L);
}

/* setmetatable without __gc: Lua runs finalizers with hooks off, so a
 * finalizer would escape the instruction limit (and run during a later
 * event's evaluation, or when the state is closed). */
static int
safe_setmetatable(lua_State *L)
{
	if (lua_type(L, 2) == LUA_TTABLE)
	{
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL)
			return luaL_error(L, "setmetatable: __gc metamethods are not "
							  "available (finalizers would run outside the "
							  "instruction limit)");
		lua_pop(L, 1);
	}
	return call_wrapped(L);
}

/* __newindex of _ENV and of the library proxies. */
static int
refuse_write(lua_State *L)
{
	const char *k = lua_tostring(L, 2);

	if (lua_rawequal(L, 1, lua_upvalueindex(1)))
		return luaL_error(L, "assignment to global '%s' is not allowed "
						  "(use local)", k ? k : "?");
	return luaL_error(L, "library tables are read-only");
}

/* tostring that never prints an address. */
static int
safe_tostring(lua_State *L)
{
	int			t;

	luaL_checkany(L, 1);
	t = lua_type(L, 1);
	if (t == LUA_TTABLE || t == LUA_TFUNCTION || t == LUA_TTHREAD ||
		t == LUA_TUSERDATA || t == LUA_TLIGHTUSERDATA)
	{
		if (luaL_getmetafield(L, 1, "__tostring") == LUA_TNIL)
		{
			lua_pushstring(L, lua_typename(L, t));
			return 1;
		}
		lua_pop(L, 1);
	}
	luaL_tolstring(L, 1, NULL);
	return 1;
}

/* string.format without %p. */
static int
safe_format(lua_State *L)
{
	size_t		n;
	const char *f = luaL_checklstring(L, 1, &n);

	for (size_t i = 0; i < n; i++)
	{
		if (f[i] != '%')
			continue;
		i++;
		while (i < n && strchr("-+ #0123456789.", f[i]))
			i++;
		if (i < n && f[i] == 'p')
			return luaL_error(L, "string.format: %%p is not available");
	}
	return call_wrapped(L);
}

/* __tostring of the null sentinel. */
static int
null_tostring(lua_State *L)
{
	lua_pushliteral(L, "null");
	return 1;
}

/* Set field `name` of the table at -1 to nil. */
static void
drop_field(lua_State *L, const char *name)
{
	lua_pushnil(L);
	lua_setfield(L, -2, name);
}

/* Replace field `name` of the table at -1 by fn, with the old value as
 * fn's upvalue 1. */
static void
wrap_field(lua_State *L, const char *name, lua_CFunction fn)
{
	lua_getfield(L, -1, name);
	lua_pushcclosure(L, fn, 1);
	lua_setfield(L, -2, name);
}

/* Push a read-only proxy of the table at -1 (which is popped). */
static void
push_readonly(lua_State *L)
{
	lua_newtable(L);			/* lib proxy */
	lua_newtable(L);			/* lib proxy mt */
	lua_pushvalue(L, -3);
	lua_setfield(L, -2, "__index");
	lua_pushnil(L);				/* upvalue: not the env */
	lua_pushcclosure(L, refuse_write, 1);
	lua_setfield(L, -2, "__newindex");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
	lua_remove(L, -2);
}

/* Open the allowed libraries and trim them. */
static void
open_libs(lua_State *L)
{
	static const luaL_Reg libs[] = {
		{LUA_GNAME, luaopen_base}, {LUA_STRLIBNAME, luaopen_string},
		{LUA_TABLIBNAME, luaopen_table}, {LUA_MATHLIBNAME, luaopen_math},
		{LUA_UTF8LIBNAME, luaopen_utf8}, {LUA_COLIBNAME, luaopen_coroutine},
	};

	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
	{
		luaL_requiref(L, libs[i].name, libs[i].func, 1);
		lua_pop(L, 1);
	}
	lua_pushglobaltable(L);
	wrap_field(L, "setmetatable", safe_setmetatable);
	lua_pop(L, 1);
	lua_getglobal(L, LUA_TABLIBNAME);
	wrap_field(L, "move", safe_move);
	wrap_field(L, "insert", safe_insert);
	wrap_field(L, "remove", safe_remove);
	wrap_field(L, "concat", safe_concat);
	wrap_field(L, "sort", safe_sort);
	lua_pop(L, 1);
	lua_getglobal(L, LUA_STRLIBNAME);
	drop_field(L, "dump");
	wrap_field(L, "format", safe_format);
	wrap_field(L, "rep", safe_rep);
	/* the string metatable: trimmed library, hidden */
	lua_pushliteral(L, "");
	lua_getmetatable(L, -1);
	lua_pushvalue(L, -3);
	lua_setfield(L, -2, "__index");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 3);
	lua_getglobal(L, LUA_MATHLIBNAME);
	drop_field(L, "random");
	drop_field(L, "randomseed");
	lua_pop(L, 1);
}

/* Push the whitelist table (globals an expression may read). */
static void
push_whitelist(trib_lua *T)
{
	static const char *const funcs[] = {
		"assert", "error", "ipairs", "next", "pairs", "select", "tonumber",
		"type", "getmetatable", "setmetatable", "rawequal", "rawget",
		"rawlen", "_VERSION",
	};
	static const char *const libs[] = {
		LUA_STRLIBNAME, LUA_TABLIBNAME, LUA_MATHLIBNAME, LUA_UTF8LIBNAME,
		LUA_COLIBNAME,
	};
	lua_State  *L = T->L;

	lua_newtable(L);
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
	{
		lua_getglobal(L, funcs[i]);
		lua_setfield(L, -2, funcs[i]);
	}
	lua_pushcfunction(L, safe_tostring);
	lua_setfield(L, -2, "tostring");
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
	{
		lua_getglobal(L, libs[i]);
		push_readonly(L);
		lua_setfield(L, -2, libs[i]);
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, T->null_ref);
	lua_setfield(L, -2, "null");
}

int
trib_lua_sealed_object(lua_State *L, const char *name, const luaL_Reg *mt)
{
	lua_newuserdatauv(L, 0, 0);
	lua_newtable(L);
	luaL_setfuncs(L, mt, 0);
	lua_pushstring(L, name);
	lua_setfield(L, -2, "__name");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
	return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Create the null sentinel and the array marker metatable. */
static void
make_markers(trib_lua *T)
{
	lua_State  *L = T->L;

	static const luaL_Reg null_mt[] = {{"__tostring", null_tostring}, {NULL, NULL}};

	T->null_ref = trib_lua_sealed_object(L, "null", null_mt);

	lua_newtable(L);
	lua_pushliteral(L, "array");
	lua_setfield(L, -2, "__metatable");
	T->array_mt_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

bool
trib_lua_build_sandbox(trib_lua *T, lua_CFunction event_index, char *errbuf,
					   size_t errlen)
{
	lua_State  *L = T->L;

	(void) errbuf;
	(void) errlen;
	open_libs(L);
	make_markers(T);
	push_whitelist(T);			/* W */
	lua_newtable(L);			/* W's metatable */
	lua_rawgeti(L, LUA_REGISTRYINDEX, T->null_ref);
	lua_pushcclosure(L, event_index, 1);
	lua_setfield(L, -2, "__index");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);

	lua_newtable(L);			/* env */
	lua_newtable(L);			/* env's metatable */
	lua_pushvalue(L, -3);
	lua_setfield(L, -2, "__index");
	lua_pushvalue(L, -2);
	lua_pushcclosure(L, refuse_write, 1);
	lua_setfield(L, -2, "__newindex");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
	T->env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_pop(L, 1);				/* W */

	/* Nothing but the registry keeps the full globals; empty them. */
	lua_pushglobaltable(L);
	lua_pushnil(L);
	while (lua_next(L, -2))
	{
		lua_pop(L, 1);
		lua_pushvalue(L, -1);
		lua_pushnil(L);
		lua_rawset(L, -4);
	}
	lua_pop(L, 1);
	return true;
}
