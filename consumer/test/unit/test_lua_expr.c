/*
 * test_lua_expr.c: sandboxed Lua expressions (lua_expr.c, lua_sandbox.c,
 * lua_json.c) and the row index under them (rowindex.c).
 *
 * Field access and result conversion are checked value by value; the
 * sandbox is attacked the ways scripts escape sandboxes (io, os, require,
 * load of bytecode, debug, the string metatable, global writes, runaway
 * loops, memory bombs, coroutines that swallow errors) and each attempt
 * must fail with an error for that evaluation while the state stays
 * usable for the next one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"
#include "lua_expr.h"
#include "rowindex.h"

static trib_lua *T;
static trib_event *ev;

/* An update of public.orders with before and after images. */
static trib_event *
mkev(void)
{
	trib_event *e = trib_event_new();

	e->op = TRIB_OP_UPDATE;
	e->source = "pg1";
	e->connector = "postgresql";
	e->db = "shop";
	e->schema = "public";
	e->table = "orders";
	e->before = strdup("{\"id\":7,\"amount\":99.5,\"email\":\"old@x.com\"}");
	e->after = strdup("{\"id\":7,\"amount\":250.00,\"email\":\"Jane@Example.com\","
					  "\"big\":123456789012345678901234567890,"
					  "\"prec\":0.12345678901234567,\"exact16\":1234567890.123456,"
					  "\"i64max\":9223372036854775807,\"i64over\":9223372036854775808,"
					  "\"flag\":true,\"note\":null,\"weird col\":\"w\","
					  "\"name\":\"Zo\\u00eb \\\"Q\\\"\","
					  "\"meta\":{\"tags\":[\"a\",null,\"c\"],\"n\":1},\"arr\":[]}");
	e->key = strdup("{\"id\":7}");
	e->unchanged = strdup("[\"doc\"]");
	e->txid = 741;
	e->ts_ms = 1700000000123LL;
	e->pos.commit_lsn = 0x1A4F2C8;
	e->pos.lsn = 0x1A4F1B0;
	e->pos.seq = 3;
	return e;
}

static int
setup(void **state)
{
	trib_lua_limits lim;
	char		err[256];

	(void) state;
	trib_lua_limits_init(&lim);
	lim.max_instructions = 200000;
	lim.max_memory = 8u << 20;
	T = trib_lua_new(&lim, err, sizeof(err));
	if (T == NULL)
		fail_msg("trib_lua_new: %s", err);
	ev = mkev();
	trib_lua_bind(T, ev);
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	trib_lua_free(T);
	trib_event_free(ev);
	return 0;
}

static trib_lua_expr *
compile(const char *src, trib_lua_mode mode)
{
	char		err[512];
	trib_lua_expr *e = trib_lua_compile(T, "t", src, mode, err, sizeof(err));

	if (e == NULL)
		fail_msg("compile %s: %s", src, err);
	return e;
}

/* The JSON of a value expression. */
static const char *
value(const char *src)
{
	static char out[1024];
	char		err[512];
	trib_strbuf b = {0};
	trib_lua_expr *e = compile(src, TRIB_LUA_VALUE);

	if (!trib_lua_value(e, &b, err, sizeof(err)))
		fail_msg("value %s: %s", src, err);
	snprintf(out, sizeof(out), "%s", b.data);
	trib_strbuf_free(&b);
	trib_lua_expr_free(e);
	return out;
}

/* The error of running src in value mode (it must fail). */
static const char *
value_err(const char *src)
{
	static char err[512];
	trib_strbuf b = {0};
	trib_lua_expr *e = compile(src, TRIB_LUA_VALUE);

	if (trib_lua_value(e, &b, err, sizeof(err)))
		fail_msg("value %s succeeded: %s", src, b.data);
	trib_strbuf_free(&b);
	trib_lua_expr_free(e);
	return err;
}

#define assert_value(src, want) assert_string_equal(value(src), want)
#define assert_err(src, part) do { \
	const char *e_ = value_err(src); \
	if (strstr(e_, part) == NULL) \
		fail_msg("%s: expected an error with \"%s\", got \"%s\"", src, part, e_); \
} while (0)

static bool
filter(const char *src)
{
	char		err[512];
	bool		keep;
	trib_lua_expr *e = compile(src, TRIB_LUA_FILTER);

	if (!trib_lua_filter(e, &keep, err, sizeof(err)))
		fail_msg("filter %s: %s", src, err);
	trib_lua_expr_free(e);
	return keep;
}

/* ---- field access -------------------------------------------------------- */

static void
test_fields_and_types(void **state)
{
	(void) state;
	assert_value("after.id", "7");
	assert_value("math.type(after.id)", "\"integer\"");
	assert_value("after.amount", "250");
	assert_value("math.type(after.amount)", "\"float\"");
	assert_value("after.email", "\"Jane@Example.com\"");
	assert_value("after.email:lower()", "\"jane@example.com\"");
	/* too many digits for a double: the text, as a string */
	assert_value("after.big", "\"123456789012345678901234567890\"");
	assert_value("type(after.prec)", "\"string\"");
	assert_value("after.prec", "\"0.12345678901234567\"");
	/* 16 digits that a double holds exactly enough to print back */
	assert_value("math.type(after.exact16)", "\"float\"");
	assert_value("after.exact16", "1234567890.123456");
	assert_value("after.i64max", "9223372036854775807");
	assert_value("math.type(after.i64max)", "\"integer\"");
	/* 2^63 is a double exactly */
	assert_value("math.type(after.i64over)", "\"float\"");
	assert_value("after.flag", "true");
	assert_value("after.note == nil", "true");
	assert_value("after.missing == nil", "true");
	assert_value("after['weird col']", "\"w\"");
	assert_value("after.name", "\"Zo\xc3\xab \\\"Q\\\"\"");
	assert_value("utf8.len(after.name)", "7");
	assert_value("after.meta.n", "1");
	assert_value("#after.meta.tags", "3");
	assert_value("after.meta.tags[2] == null", "true");
	assert_value("after.meta", "{\"n\":1,\"tags\":[\"a\",null,\"c\"]}");
	assert_value("after.arr", "[]");
	assert_value("before.amount", "99.5");
	assert_value("key.id", "7");
	assert_value("#after", "14");
	assert_value("after[1]", "null");
}

static void
test_event_fields(void **state)
{
	(void) state;
	assert_value("op", "\"u\"");
	assert_value("table_name", "\"orders\"");
	assert_value("event.table", "\"orders\"");
	assert_value("event.op .. event.schema", "\"upublic\"");
	assert_value("event.after.id", "7");
	assert_value("table.concat({'a', 'b'}, '-')", "\"a-b\"");
	assert_err("(function() event.op = 'd' end)()", "read-only");
	assert_value("schema", "\"public\"");
	assert_value("source", "\"pg1\"");
	assert_value("db", "\"shop\"");
	assert_value("connector", "\"postgresql\"");
	assert_value("txid", "741");
	assert_value("ts_ms", "1700000000123");
	assert_value("seq", "3");
	assert_value("lsn", "\"0/1A4F1B0\"");
	assert_value("commit_lsn", "\"0/1A4F2C8\"");
	assert_value("snapshot", "false");
	assert_value("unchanged", "[\"doc\"]");
	assert_value("value", "null");
	assert_value("nosuchglobal", "null");
}

static void
test_insert_has_no_before(void **state)
{
	trib_event *e = mkev();

	(void) state;
	e->op = TRIB_OP_CREATE;
	free(e->before);
	e->before = NULL;
	trib_lua_bind(T, e);
	assert_value("before == nil", "true");
	assert_value("op == 'c' and after.id", "7");
	trib_lua_bind(T, ev);
	trib_event_free(e);
	assert_value("before.id", "7");
}

static void
test_pairs_in_column_order(void **state)
{
	(void) state;
	assert_value("(function() local t = {} for k, v in pairs(before) do "
				 "t[#t + 1] = k .. '=' .. tostring(v) end "
				 "return table.concat(t, ',') end)()",
				 "\"id=7,amount=99.5,email=old@x.com\"");
}

static void
test_bound_value(void **state)
{
	trib_jvalue	v = {TRIB_J_NUMBER, "12.50", 5, "numeric(5,2)"};
	trib_jvalue	o = {TRIB_J_OBJECT, "{\"a\":[1,2]}", 11, "jsonb"};

	(void) state;
	trib_lua_bind_value(T, "amount", &v);
	assert_value("value * 2", "25");
	assert_value("column", "\"amount\"");
	trib_lua_bind_value(T, "doc", &o);
	assert_value("value.a[2]", "2");
	trib_lua_bind_value(T, NULL, NULL);
	assert_value("value", "null");
}

static void
test_bad_row_image(void **state)
{
	trib_event *e = mkev();

	(void) state;
	free(e->after);
	e->after = strdup("{\"id\":1,\"x\":");
	trib_lua_bind(T, e);
	/* the field before the damage is readable... */
	assert_value("after.id", "1");
	/* ...what needs the rest is an error, not a crash */
	assert_err("after.y", "row image 'after' is not a JSON object");
	free(e->after);
	e->after = strdup("[1,2]");
	trib_lua_bind(T, e);
	assert_err("after.id", "not a JSON object");
	trib_lua_bind(T, ev);
	trib_event_free(e);
}

/* ---- modes --------------------------------------------------------------- */

static void
test_filter_and_check(void **state)
{
	char		err[256],
				reason[64];
	bool		pass;
	trib_lua_expr *e;

	(void) state;
	assert_true(filter("after.amount > 100 and op ~= 'd'"));
	assert_false(filter("after.amount > 1000"));
	assert_false(filter("nil"));
	assert_true(filter("after.email"));
	assert_false(filter("after.note"));

	e = compile("local a = after.amount\nif a > 1000 then return false, 'too big' end\n"
				"return a > 0, 'negative'", TRIB_LUA_FILTER);
	assert_true(trib_lua_check(e, &pass, reason, sizeof(reason), err, sizeof(err)));
	assert_true(pass);
	trib_lua_expr_free(e);
	e = compile("return false, 'amount ' .. 'too big'", TRIB_LUA_FILTER);
	assert_true(trib_lua_check(e, &pass, reason, sizeof(reason), err, sizeof(err)));
	assert_false(pass);
	assert_string_equal(reason, "amount too big");
	/* a filter cannot be run as a value */
	{
		trib_strbuf b = {0};

		assert_false(trib_lua_value(e, &b, err, sizeof(err)));
		assert_non_null(strstr(err, "another mode"));
	}
	trib_lua_expr_free(e);
}

static void
test_route(void **state)
{
	char		err[256];
	bool		routed;
	trib_strbuf b = {0};
	trib_lua_expr *e;

	(void) state;
	e = compile("schema .. '.' .. table_name .. (after.amount > 100 and '.big' or '')",
				TRIB_LUA_ROUTE);
	assert_true(trib_lua_route(e, &routed, &b, err, sizeof(err)));
	assert_true(routed);
	assert_string_equal(b.data, "public.orders.big");
	trib_lua_expr_free(e);
	e = compile("nil", TRIB_LUA_ROUTE);
	assert_true(trib_lua_route(e, &routed, &b, err, sizeof(err)));
	assert_false(routed);
	trib_lua_expr_free(e);
	e = compile("42", TRIB_LUA_ROUTE);
	assert_false(trib_lua_route(e, &routed, &b, err, sizeof(err)));
	assert_non_null(strstr(err, "non-empty string"));
	trib_lua_expr_free(e);
	e = compile("''", TRIB_LUA_ROUTE);
	assert_false(trib_lua_route(e, &routed, &b, err, sizeof(err)));
	trib_lua_expr_free(e);
	trib_strbuf_free(&b);
}

static void
test_value_conversion(void **state)
{
	(void) state;
	assert_value("nil", "null");
	assert_value("null", "null");
	assert_value("0.1", "0.1");
	assert_value("1/3", "0.3333333333333333");
	assert_value("0.1 + 0.2", "0.30000000000000004");
	assert_value("2^53", "9007199254740992");
	assert_value("-0.0", "-0");
	assert_value("10 // 3", "3");
	assert_value("'a\\0b\"\\n'", "\"a\\u0000b\\\"\\n\"");
	assert_value("{}", "{}");
	assert_value("{1, 2, 'x'}", "[1,2,\"x\"]");
	assert_value("{b = 1, a = {c = null}, [\"z z\"] = true}",
				 "{\"a\":{\"c\":null},\"b\":1,\"z z\":true}");
	assert_value("after.meta.tags", "[\"a\",null,\"c\"]");
	assert_value("before", "{\"id\":7,\"amount\":99.5,\"email\":\"old@x.com\"}");
	assert_err("0/0", "nan");
	assert_err("1/0", "infinite");
	assert_err("{1, 2, x = 3}", "keys must be strings");
	assert_err("{[1.5] = 1}", "keys must be strings");
	assert_err("string.upper", "no JSON form");
	assert_err("coroutine.create(function() end)", "no JSON form");
	assert_err("'\\xff'", "not valid UTF-8");
	assert_err("(function() local t = {} t.t = t return t end)()", "nested deeper");
}

static void
test_map(void **state)
{
	char		err[256];
	bool		changed;
	trib_strbuf b = {0};
	trib_lua_expr *e;

	(void) state;
	e = compile("{ amount_cents = math.tointeger(after.amount * 100), "
				"email = after.email:lower(), note = null }", TRIB_LUA_MAP);
	assert_true(trib_lua_map(e, &changed, &b, err, sizeof(err)));
	assert_true(changed);
	assert_string_equal(b.data, "{\"amount_cents\":25000,\"email\":\"jane@example.com\","
						"\"note\":null}");
	trib_lua_expr_free(e);
	trib_strbuf_free(&b);
	e = compile("if op == 'd' then return { gone = true } end", TRIB_LUA_MAP);
	assert_true(trib_lua_map(e, &changed, &b, err, sizeof(err)));
	assert_false(changed);
	trib_lua_expr_free(e);
	e = compile("{1, 2}", TRIB_LUA_MAP);
	assert_false(trib_lua_map(e, &changed, &b, err, sizeof(err)));
	assert_non_null(strstr(err, "not an array"));
	trib_lua_expr_free(e);
	e = compile("'x'", TRIB_LUA_MAP);
	assert_false(trib_lua_map(e, &changed, &b, err, sizeof(err)));
	assert_non_null(strstr(err, "table of fields"));
	trib_lua_expr_free(e);
	trib_strbuf_free(&b);
}

/* ---- errors -------------------------------------------------------------- */

static void
test_compile_errors(void **state)
{
	char		err[512];

	(void) state;
	assert_null(trib_lua_compile(T, "rule 'big'", "after.amount >", TRIB_LUA_FILTER,
								 err, sizeof(err)));
	assert_string_equal(err, "rule 'big':1: unexpected symbol near <eof>");
	assert_null(trib_lua_compile(T, "r2", "local a = 1\nlocal b = = 2\nreturn a",
								 TRIB_LUA_VALUE, err, sizeof(err)));
	assert_non_null(strstr(err, "r2:2:"));
	/* binary chunks are refused */
	assert_null(trib_lua_compile(T, "bin", "\x1bLua\x54\x00", TRIB_LUA_VALUE,
								 err, sizeof(err)));
	assert_non_null(strstr(err, "binary chunk"));
}

static void
test_runtime_errors(void **state)
{
	(void) state;
	assert_err("after.missing + 1", "t:1: attempt to perform arithmetic on a nil value");
	assert_err("error('custom message')", "t:1: custom message");
	assert_err("error({})", "error object is a table value");
	assert_err("after.big > 1", "attempt to compare");
	/* the state is fine afterwards */
	assert_value("after.id + 1", "8");
}

/* ---- sandbox ------------------------------------------------------------- */

static void
test_sandbox_no_dangerous_globals(void **state)
{
	static const char *const absent[] = {
		"io", "os", "require", "package", "debug", "load", "loadstring",
		"dofile", "loadfile", "collectgarbage", "print", "pcall", "xpcall",
		"rawset", "_G", "string.dump", "math.random", "math.randomseed",
		"module", "setfenv", "getfenv", "newproxy",
	};

	(void) state;
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
	{
		char		src[128];

		snprintf(src, sizeof(src), "%s == nil", absent[i]);
		if (strcmp(value(src), "true") != 0)
			fail_msg("%s is reachable", absent[i]);
	}
	assert_err("io.open('/etc/passwd')", "attempt to index a nil value (global 'io')");
	assert_err("os.execute('id')", "global 'os'");
	assert_err("require('os')", "global 'require'");
	assert_err("load(string.dump(function() end))", "field 'dump'");
	assert_err("debug.getregistry()", "global 'debug'");
	assert_err("('x').dump(function() end)", "field 'dump'");
}

static void
test_sandbox_metatables_protected(void **state)
{
	(void) state;
	assert_value("getmetatable('')", "false");
	assert_err("setmetatable('', {})", "bad argument #1 to 'setmetatable'");
	assert_err("getmetatable('').__index", "attempt to index a boolean");
	assert_value("getmetatable(after)", "false");
	assert_value("getmetatable(string)", "false");
	assert_err("setmetatable(_ENV, {})", "cannot change a protected metatable");
	assert_err("setmetatable(string, {})", "cannot change a protected metatable");
	/* libraries and globals are read-only */
	assert_err("(function() string.upper = nil end)()", "read-only");
	assert_err("(function() x = 1 end)()", "assignment to global 'x' is not allowed");
	assert_err("(function() _ENV.pairs = nil end)()", "not allowed");
	assert_err("(function() after.id = 1 end)()", "read-only");
	assert_value("string.upper('still here')", "\"STILL HERE\"");
	assert_value("pairs ~= nil", "true");
	/* no addresses leak into results */
	assert_value("tostring({})", "\"table\"");
	assert_value("tostring(print == nil and pairs)", "\"function\"");
	assert_err("string.format('%p', {})", "%p is not available");
	assert_value("string.format('%5.1f|%%p', 1.25)", "\"  1.2|%p\"");
}

static void
test_sandbox_instruction_limit(void **state)
{
	(void) state;
	assert_err("(function() while true do end end)()", "instruction limit of 200000 exceeded");
	assert_value("1 + 1", "2");
	/* a coroutine swallowing the error does not keep the loop alive */
	assert_err("(function() local co = coroutine.create(function() while true do end end) "
			   "while true do coroutine.resume(co) end end)()", "instruction limit");
	assert_err("(function() while true do coroutine.resume(coroutine.create("
			   "function() while true do end end)) end end)()", "instruction limit");
	assert_err("coroutine.wrap(function() while true do end end)()", "instruction limit");
	/* recursion without end: stack overflow or a limit, never a crash */
	value_err("(function() local function f() return 1 + f() end return f() end)()");
	assert_value("'usable'", "\"usable\"");
}

/* Library functions that loop in C, where the count hook does not fire,
 * and finalizers, which Lua runs with hooks off: each used to hang the
 * evaluation (or lua_close) for good. */
static void
test_sandbox_work_in_c(void **state)
{
	(void) state;
	assert_value("#string.rep('', 1 << 62)", "0");
	assert_value("#('').rep('', 1 << 62, '')", "0");
	assert_value("string.rep('ab', 3, ',')", "\"ab,ab,ab\"");
	assert_value("string.rep('', 3, ',')", "\",,\"");
	assert_err("table.move({}, 1, 1 << 50, 1, {})", "instruction limit of 200000 exceeded");
	assert_err("table.move({}, 1, math.maxinteger, 1, {})", "instruction limit");
	assert_err("table.move({}, math.mininteger, math.maxinteger, 1, {})", "too many elements to move");
	assert_value("table.move({1, 2, 3}, 1, 3, 2)", "[1,1,2,3]");
	assert_err("(function() local t = setmetatable({}, {__len = function() return 1 << 60 end}) "
			   "table.insert(t, 1, 5) end)()", "instruction limit");
	assert_err("(function() local t = setmetatable({}, {__len = function() return 1 << 60 end}) "
			   "table.remove(t, 1) end)()", "instruction limit");
	assert_value("(function() local t = {1, 2, 3} table.insert(t, 1, 0) table.remove(t, 2) "
				 "table.insert(t, 9) return t end)()", "[0,2,3,9]");
	/* appending and popping are not charged per element */
	assert_value("(function() local t = {} for i = 1, 5000 do table.insert(t, i) end "
				 "for i = 1, 5000 do table.remove(t) end return #t end)()", "0");
	assert_err("table.insert({}, 5, 1)", "bad argument #2 to 'insert' (position out of bounds)");
	/* an __index that is a C function answers "" without running Lua */
	assert_err("table.concat(setmetatable({}, {__index = table.concat}), '', 1, 1 << 50)",
			   "instruction limit");
	assert_err("table.sort(setmetatable({}, {__len = function() return (1 << 31) - 2 end, "
			   "__index = rawlen, __newindex = rawequal}))", "instruction limit");
	assert_value("table.concat({'a', 'b', 'c'}, ',')", "\"a,b,c\"");
	assert_value("table.concat({'a', 'b', 'c'}, ',', 2)", "\"b,c\"");
	assert_value("(function() local t = {3, 1, 2} table.sort(t) return t end)()", "[1,2,3]");
	assert_value("(function() local t = {3, 1, 2} table.sort(t, function(a, b) return a > b end) "
				 "return t end)()", "[3,2,1]");
	assert_err("(function() setmetatable({}, {__gc = function() while true do end end}) end)()",
			   "__gc metamethods are not available");
	assert_err("setmetatable({}, {__gc = true})", "__gc metamethods are not available");
	assert_value("getmetatable(setmetatable({}, {__index = {a = 1}})).__index.a", "1");
	assert_value("'usable'", "\"usable\"");
}

static void
test_sandbox_memory_limit(void **state)
{
	size_t		before;

	(void) state;
	before = trib_lua_memory(T);
	assert_err("string.rep('x', 1 << 30)", "memory limit of 8388608 bytes exceeded");
	assert_err("(function() local t = {} for i = 1, 1000 do t[i] = string.rep('x', 1e6) .. i end end)()",
			   "memory limit of 8388608 bytes exceeded");
	assert_err("(function() local s = 'x' while true do s = s .. s end end)()",
			   "memory limit");
	/* the garbage is gone and the state works */
	assert_value("#string.rep('y', 1000)", "1000");
	assert_true(trib_lua_memory(T) < before + (1u << 20));
}

static void
test_limits_config(void **state)
{
	trib_lua_limits lim;
	char		err[256];

	(void) state;
	trib_lua_limits_init(&lim);
	assert_int_equal(lim.max_instructions, 1000000);
	lim.max_memory = 1000;
	assert_null(trib_lua_new(&lim, err, sizeof(err)));
	assert_non_null(strstr(err, "max_memory"));
	trib_lua_limits_init(&lim);
	lim.max_instructions = 0;
	assert_null(trib_lua_new(&lim, err, sizeof(err)));
	/* a tiny instruction limit is exact to the hook's step */
	trib_lua_limits_init(&lim);
	lim.max_instructions = 50;
	{
		trib_lua   *t2 = trib_lua_new(&lim, err, sizeof(err));
		trib_lua_expr *e;
		trib_strbuf b = {0};

		assert_non_null(t2);
		e = trib_lua_compile(t2, "x", "1 + 1", TRIB_LUA_VALUE, err, sizeof(err));
		assert_true(trib_lua_value(e, &b, err, sizeof(err)));
		e = trib_lua_compile(t2, "y", "(function() for i = 1, 100 do end end)()",
							 TRIB_LUA_VALUE, err, sizeof(err));
		assert_false(trib_lua_value(e, &b, err, sizeof(err)));
		assert_non_null(strstr(err, "instruction limit of 50"));
		trib_strbuf_free(&b);
		trib_lua_free(t2);		/* frees the expressions too */
	}
}

static void
test_deterministic(void **state)
{
	char		first[1024];

	(void) state;
	snprintf(first, sizeof(first), "%s",
			 value("{ a = after.amount * 3, b = after.email:upper(), c = #after, "
				   "d = tostring(after.meta) }"));
	assert_value("(function() local t = {} for i = 1, 100 do t[i] = i end return #t end)()",
				 "100");
	assert_value("{ a = after.amount * 3, b = after.email:upper(), c = #after, "
				 "d = tostring(after.meta) }", first);
}

/* ---- the row index itself ------------------------------------------------ */

static void
test_rowindex(void **state)
{
	trib_rowidx r = {0};
	const trib_rowfield *f;
	const char *img = "{\"a\":1,\"b\":{\"x\":[1,{\"y\":2}]},\"c\":\"s\\u00e9\",\"d\":null,"
		"\"e\":[],\"f\":false, \"a\":2}";

	(void) state;
	trib_rowidx_reset(&r, img, strlen(img));
	assert_int_equal(trib_rowidx_find(&r, "a", 1, &f), 1);
	assert_int_equal(f->kind, TRIB_J_NUMBER);
	assert_string_equal(trib_rowidx_val(&r, f), "1");
	/* the parse stopped early */
	assert_true(r.fed < strlen(img));
	assert_int_equal(trib_rowidx_find(&r, "b", 1, &f), 1);
	assert_int_equal(f->kind, TRIB_J_OBJECT);
	assert_int_equal(f->val_len, strlen("{\"x\":[1,{\"y\":2}]}"));
	assert_memory_equal(trib_rowidx_val(&r, f), "{\"x\":[1,{\"y\":2}]}", f->val_len);
	assert_int_equal(trib_rowidx_find(&r, "c", 1, &f), 1);
	assert_string_equal(trib_rowidx_val(&r, f), "s\xc3\xa9");
	assert_int_equal(trib_rowidx_find(&r, "e", 1, &f), 1);
	assert_int_equal(f->kind, TRIB_J_ARRAY);
	assert_memory_equal(trib_rowidx_val(&r, f), "[]", 2);
	assert_int_equal(trib_rowidx_find(&r, "zz", 2, &f), 0);
	assert_true(trib_rowidx_complete(&r));
	assert_int_equal(r.nfields, 7);
	/* duplicate names: the first wins, as in yajl_tree */
	assert_int_equal(trib_rowidx_find(&r, "a", 1, &f), 1);
	assert_string_equal(trib_rowidx_val(&r, f), "1");

	trib_rowidx_reset(&r, "{\"a\":1}x", 8);
	assert_false(trib_rowidx_complete(&r));
	trib_rowidx_reset(&r, "{\"a\":1", 6);
	assert_int_equal(trib_rowidx_find(&r, "b", 1, &f), -1);
	trib_rowidx_reset(&r, "7", 1);
	assert_int_equal(trib_rowidx_find(&r, "a", 1, &f), -1);
	trib_rowidx_reset(&r, "", 0);
	assert_int_equal(trib_rowidx_find(&r, "a", 1, &f), -1);
	trib_rowidx_reset(&r, NULL, 0);
	assert_int_equal(trib_rowidx_find(&r, "a", 1, &f), 0);
	trib_rowidx_free(&r);
}

/* Index `text` with the scanner (fast) or yajl alone, looking up `keys`
 * in turn, then completing it; the outcomes written into out. */
static void
rowindex_trace(const char *text, size_t len, bool fast, char *out, size_t cap)
{
	static const char *const keys[] = {"amount", "a", "zz", "id", "b", "", "c", "note", "e"};
	trib_rowidx r = {0};
	size_t		n = 0;

	trib_rowidx_fast = fast;
	trib_rowidx_reset(&r, text, len);
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
	{
		const trib_rowfield *f = NULL;
		int			rc = trib_rowidx_find(&r, keys[k], strlen(keys[k]), &f);

		n += snprintf(out + n, cap - n, "%s=%d", keys[k], rc);
		if (rc == 1)
			n += snprintf(out + n, cap - n, ":%d:%.*s", (int) f->kind, (int) f->val_len,
						  trib_rowidx_val(&r, f));
		n += snprintf(out + n, cap - n, ";");
	}
	n += snprintf(out + n, cap - n, "complete=%d;", trib_rowidx_complete(&r));
	for (size_t i = 0; i < r.nfields; i++)
		n += snprintf(out + n, cap - n, "[%.*s|%d|%.*s]", (int) r.fields[i].key_len,
					  trib_rowidx_key(&r, &r.fields[i]), (int) r.fields[i].kind,
					  (int) r.fields[i].val_len, trib_rowidx_val(&r, &r.fields[i]));
	trib_rowidx_free(&r);
	trib_rowidx_fast = true;
	assert_true(n < cap);
}

/* The scanner's index is yajl's, lookup by lookup, on valid images and
 * on random mutations and truncations of them (most invalid). */
static void
test_rowindex_scanner_matches_yajl(void **state)
{
	static const char *const base[] = {
		"{\"id\":1048576,\"customer_id\":73421,\"status\":\"paid\",\"amount\":12.05,"
		"\"currency\":\"EUR\",\"email\":\"jane.doe@example.com\",\"note\":null,\"items\":3}",
		"{ \"a\" : 1 , \"b\" : { \"x\" : [ 1 , { \"y\" : 2 } ] } ,\n\t\"c\":\"s\xc3\xa9\",\r\n"
		"\"e\":[],\"f\":false,\"a\":2, \"zz\" : true }  ",
		"{\"a\":-0.5e+3,\"c\":\"x\\\"y\",\"amount\":[{\"a\":{}}],\"note\":\"\"}",
		"{}", "{\"\":0}", "{\"id\":01}", "{\"a\":1}x", "{\"a\":1", "[1]", "7",
		"{\"a\":1,/*c*/\"b\":2}", "{\"a\":\"\xff\"}", "{\"e\":nul}", "{\"a\":1,}",
	};
	static const char alphabet[] = "{}[]\":,.-+eE0123456789 \\/tfnaxulr\t\n\xc3\xa9\x01";
	char		text[512];
	char		want[4096];
	char		got[4096];
	unsigned	seed = 12345;

	(void) state;
	for (int round = 0; round < 20000; round++)
	{
		const char *b = base[round % (sizeof(base) / sizeof(base[0]))];
		size_t		len = strlen(b);

		memcpy(text, b, len + 1);
		for (int m = round < 100 ? 0 : 1 + (round % 3); m > 0 && len > 0; m--)
		{
			size_t		at;

			seed = seed * 1103515245u + 12345u;
			at = (seed >> 8) % len;
			switch ((seed >> 4) % 4)
			{
				case 0:			/* replace a byte */
					text[at] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
					break;
				case 1:			/* delete one */
					memmove(text + at, text + at + 1, len - at);
					len--;
					break;
				case 2:			/* insert one */
					if (len + 2 < sizeof(text))
					{
						memmove(text + at + 1, text + at, len - at + 1);
						text[at] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
						len++;
					}
					break;
				default:		/* truncate */
					len = at;
					text[len] = '\0';
			}
		}
		rowindex_trace(text, len, false, want, sizeof(want));
		rowindex_trace(text, len, true, got, sizeof(got));
		if (strcmp(want, got) != 0)
			fail_msg("image %s\nyajl:    %s\nscanner: %s", text, want, got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_and_types),
		cmocka_unit_test(test_event_fields),
		cmocka_unit_test(test_insert_has_no_before),
		cmocka_unit_test(test_pairs_in_column_order),
		cmocka_unit_test(test_bound_value),
		cmocka_unit_test(test_bad_row_image),
		cmocka_unit_test(test_filter_and_check),
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_value_conversion),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_runtime_errors),
		cmocka_unit_test(test_sandbox_no_dangerous_globals),
		cmocka_unit_test(test_sandbox_metatables_protected),
		cmocka_unit_test(test_sandbox_instruction_limit),
		cmocka_unit_test(test_sandbox_work_in_c),
		cmocka_unit_test(test_sandbox_memory_limit),
		cmocka_unit_test(test_limits_config),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_rowindex),
		cmocka_unit_test(test_rowindex_scanner_matches_yajl),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
