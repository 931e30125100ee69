/*
 * lua_expr.h: sandboxed Lua 5.4 expressions over change events, for the
 * transform rules (filters, routes, computed fields, maps) and custom
 * data-quality checks.
 *
 * Design.  One trib_lua is one lua_State with a sandboxed environment and
 * hard limits; expressions are compiled into it once (trib_lua_compile)
 * and run for every event.  The event is bound once (trib_lua_bind) and
 * read lazily: `after`, `before` and `key` are read-only proxies whose
 * row image is parsed (yajl tree) only when an expression first touches
 * it, and each field is converted to a Lua value only when it is read.
 * All expressions evaluated on the same binding share the parse.
 *
 * What an expression sees (docs/MASKING.md, "Lua expressions"):
 *   op          'c', 'u', 'd', 'r' (snapshot read), 't', 'm'
 *   source, connector, db, schema, table_name   strings (nil if unknown)
 *               (`table` is Lua's table library; event.table also works)
 *   txid, ts_ms, seq   integers;  lsn, commit_lsn   "0/16B3748"
 *   snapshot    boolean
 *   before, after, key  row images (nil when the event has none);
 *               fields by name: after.amount, after["odd name"];
 *               pairs(after) iterates in column order
 *   unchanged   array of unchanged TOAST column names (or nil)
 *   value, column   the value and column a quality check is run on
 *   event       all of the above as fields: event.op, event.table, ...
 *   null        the JSON null inside nested values and in results
 * JSON values become Lua values: strings, booleans, integers (when the
 * number is an integer that fits 64 bits), floats (when a double holds
 * every significant digit: at most 15, or 16-17 that read back the same),
 * and strings otherwise, so no digit is lost silently.  A null field reads
 * as nil; nested objects and arrays become tables (null elements as
 * `null`).
 *
 * Sandbox.  Only these globals exist: assert error ipairs next pairs
 * select tonumber tostring type getmetatable setmetatable rawequal rawget
 * rawlen _VERSION, and the libraries string (no dump), table, math (no
 * random/randomseed), utf8, coroutine, all read-only.  No io, os, debug,
 * package, require, load*, dofile, collectgarbage, print, pcall/xpcall.
 * Chunks are loaded as text only (no bytecode).  Strings' metatable is
 * hidden; globals cannot be assigned (use local), so one evaluation cannot
 * influence the next: results depend on the event only.
 *
 * Limits.  Each evaluation may run max_instructions VM instructions
 * (counted in steps of 1000 by a count hook, across coroutines; once
 * exceeded, every further step fails so no error handler can continue);
 * the state may hold max_memory bytes (a counting allocator).  Exceeding
 * either is an error for that evaluation; the state stays usable.
 *
 * Errors.  Compile errors carry the expression's name and line
 * ("rule 'big_orders':1: unexpected symbol near '>'"); runtime errors the
 * same prefix.  The rule engine sends the failing event to its dead-letter
 * sink.
 *
 * Threads: a trib_lua and its expressions belong to one thread.
 *
 * Ownership: trib_lua owns its expressions; trib_lua_free() frees the
 * ones not freed before.  Bound events and values are borrowed until the
 * next bind or trib_lua_unbind().
 */
#ifndef TRIB_LUA_EXPR_H
#define TRIB_LUA_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "jvalue.h"
#include "strbuf.h"

typedef struct trib_lua_limits
{
	uint64_t	max_instructions;	/* per evaluation; default 1000000 */
	size_t		max_memory;		/* bytes for the whole state, compiled
								 * expressions included; default 32 MiB */
} trib_lua_limits;

/* What an expression's result is used for. */
typedef enum trib_lua_mode
{
	TRIB_LUA_FILTER = 0,		/* truthy keeps the event */
	TRIB_LUA_ROUTE,				/* a non-empty string, or nil: no route */
	TRIB_LUA_VALUE,				/* any value, as JSON: a computed field */
	TRIB_LUA_MAP				/* a table of fields (JSON object), or nil */
} trib_lua_mode;

typedef struct trib_lua trib_lua;
typedef struct trib_lua_expr trib_lua_expr;

void		trib_lua_limits_init(trib_lua_limits *lim);

/* A new sandboxed state; NULL with errbuf filled (limits too small). */
trib_lua   *trib_lua_new(const trib_lua_limits *lim, char *errbuf,
						 size_t errlen);

/* Free the state and every expression still compiled in it. */
void		trib_lua_free(trib_lua *T);

/*
 * Compile src once.  An expression ("after.amount > 100") or a block of
 * statements with `return` ("local a = after.amount return a * 2") are
 * both accepted.  name labels errors.  NULL with errbuf filled on a
 * syntax error (with the line) or when the memory limit is hit.
 */
trib_lua_expr *trib_lua_compile(trib_lua *T, const char *name,
								const char *src, trib_lua_mode mode,
								char *errbuf, size_t errlen);

/* Free one expression (NULL allowed). */
void		trib_lua_expr_free(trib_lua_expr *e);

/* The mode the expression was compiled for, and its state. */
trib_lua_mode trib_lua_expr_mode(const trib_lua_expr *e);
trib_lua   *trib_lua_expr_state(const trib_lua_expr *e);

/*
 * Run-time tracing (lineage): while e runs, every row field it reads by
 * name calls fn(arg, ev, image, field, len), image being "before", "after"
 * or "key"; a read of a whole image (pairs, #, the image as a value)
 * passes field NULL.  fn NULL turns it off.  For the expressions whose
 * inputs cannot be found without running them.
 */
typedef void (*trib_lua_trace_fn) (void *arg, const trib_event *ev, const char *image,
								   const char *field, size_t len);
void		trib_lua_expr_trace(trib_lua_expr *e, trib_lua_trace_fn fn, void *arg);

/* Make ev the event expressions see (NULL: none).  Borrowed. */
void		trib_lua_bind(trib_lua *T, const trib_event *ev);

/* Make v (NULL: none) the `value` of column `column` expressions see. */
void		trib_lua_bind_value(trib_lua *T, const char *column,
								const trib_jvalue *v);

/* Forget the bound event and value (frees the parsed images). */
void		trib_lua_unbind(trib_lua *T);

/* FILTER: *keep = the result's truthiness (nil and false drop). */
bool		trib_lua_filter(trib_lua_expr *e, bool *keep, char *errbuf,
							size_t errlen);

/*
 * FILTER used as a check: *pass as for trib_lua_filter; when the
 * expression returns a string as its second result ("return false,
 * 'too big'") it is copied to reason, else reason is "".
 */
bool		trib_lua_check(trib_lua_expr *e, bool *pass, char *reason,
						   size_t reasonlen, char *errbuf, size_t errlen);

/* ROUTE: *routed false for nil; else the string is appended to out. */
bool		trib_lua_route(trib_lua_expr *e, bool *routed, trib_strbuf *out,
						   char *errbuf, size_t errlen);

/* VALUE: the result as JSON text appended to json (nil -> null). */
bool		trib_lua_value(trib_lua_expr *e, trib_strbuf *json, char *errbuf,
						   size_t errlen);

/*
 * MAP: *changed false for nil; else the table as a JSON object (keys
 * sorted; `null` for JSON null) appended to json.  Anything but a table
 * with string keys is an error.
 */
bool		trib_lua_map(trib_lua_expr *e, bool *changed, trib_strbuf *json,
						 char *errbuf, size_t errlen);

/* Bytes the state holds now (for metrics and tests). */
size_t		trib_lua_memory(const trib_lua *T);

/* Config words <-> modes: "filter", "route", "value", "map". */
bool		trib_lua_mode_parse(const char *s, trib_lua_mode *out);

#endif							/* TRIB_LUA_EXPR_H */
