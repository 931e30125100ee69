/*
 * lua_expr_int.h: what the Lua expression files share (lua_expr.c,
 * lua_sandbox.c, lua_json.c, lua_image.c) and nobody else needs.  They
 * depend one way: lua_expr.c uses the other three, lua_json.c uses
 * lua_image.c.
 */
#ifndef TRIB_LUA_EXPR_INT_H
#define TRIB_LUA_EXPR_INT_H

#include <lauxlib.h>
#include <lua.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "lua_expr.h"
#include "rowindex.h"

/* The row images a proxy can stand for. */
enum
{
	IMG_BEFORE = 0,
	IMG_AFTER,
	IMG_KEY,
	IMG_COUNT
};

/* Instructions between two count-hook calls. */
#define TRIB_LUA_HOOK_STEP 1000

/* Nesting deeper than this is refused in both conversions. */
#define TRIB_LUA_MAX_DEPTH 64

struct trib_lua
{
	lua_State  *L;
	trib_lua_limits lim;

	/* allocator */
	size_t		mem_used;
	bool		mem_enforce;	/* false while the state is being built */
	bool		mem_hit;		/* an allocation was refused */

	/* instruction limit, per evaluation */
	uint64_t	count;
	bool		limit_hit;

	/* registry references */
	int			env_ref;		/* the _ENV of every expression */
	int			null_ref;		/* the null sentinel */
	int			array_mt_ref;	/* metatable marking JSON arrays */
	int			proxy_ref[IMG_COUNT];	/* the row-image proxies */
	int			event_ref;		/* the `event` proxy */

	/* the bound event and value */
	const trib_event *ev;
	trib_rowidx row[IMG_COUNT]; /* lazy field index per image */
	bool		row_ready[IMG_COUNT];	/* row[i] was reset for ev */
	yajl_val	img[IMG_COUNT];	/* whole-image trees (rare: `return after`) */
	bool		parsed[IMG_COUNT];
	yajl_val	nested;			/* the last nested field read (freed on the
								 * next read, bind or free) */
	yajl_val	unchanged;
	bool		unchanged_parsed;
	const char *column;
	const trib_jvalue *val;
	yajl_val	val_tree;		/* value was an object/array: parsed */

	yajl_gen	gen;			/* reused for results */
	trib_lua_expr *exprs;		/* every compiled expression */
	trib_lua_expr *running;		/* the expression being evaluated */
};

struct trib_lua_expr
{
	trib_lua   *T;
	int			ref;			/* the compiled function in the registry */
	trib_lua_mode mode;
	char	   *name;
	trib_lua_expr *next;
	trib_lua_expr *prev;
	trib_lua_trace_fn trace;	/* run-time tracing of its reads, or NULL */
	void	   *trace_arg;
};

/* Tell the running expression's tracer (if any) that image slot's field
 * (NULL: all of it) was read. */
void		trib_lua_traced(trib_lua *T, int slot, const char *field, size_t len);

/* The trib_lua of any thread of the state. */
static inline trib_lua *
trib_lua_of(lua_State *L)
{
	return *(trib_lua **) lua_getextraspace(L);
}

/* lua_sandbox.c */
void	   *trib_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
void		trib_lua_hook(lua_State *L, lua_Debug *ar);
/* A new userdata with a metatable of mt's functions, named `name`, that
 * Lua code can neither read nor replace; returns its registry ref. */
int			trib_lua_sealed_object(lua_State *L, const char *name, const luaL_Reg *mt);
/* Build the sandbox: env_ref, null_ref, array_mt_ref; the event lookup
 * closure `event_index` becomes the last fallback for globals. */
bool		trib_lua_build_sandbox(trib_lua *T, lua_CFunction event_index,
								   char *errbuf, size_t errlen);

/* lua_expr.c: the registry name of the row-image proxies' metatable; a
 * proxy is a userdata holding its image slot (an int) */
#define TRIB_LUA_ROW_MT "tributary.row"

/* lua_image.c: the bound event's images.  name: "before", "after",
 * "key"; text: the image's JSON text (NULL if it has none); the parsed
 * tree (NULL if none; a Lua error when the image is not a JSON object);
 * the lazy field index; the error for an image that is not an object;
 * drop every parse (a new event is bound). */
const char *trib_lua_image_name(int slot);
const char *trib_lua_image_text(const trib_lua *T, int slot);
yajl_val	trib_lua_image(lua_State *L, int slot);
trib_rowidx *trib_lua_image_row(trib_lua *T, int slot);
void		trib_lua_image_error(lua_State *L, int slot);
void		trib_lua_image_drop(trib_lua *T);

/* lua_json.c */
/* Push a JSON number's text as a Lua value (see lua_expr.h). */
void		trib_lua_push_number(lua_State *L, const char *text, size_t len);
/* Push a yajl value; top_level: null -> nil (else the null sentinel).
 * Raises a Lua error for nesting deeper than TRIB_LUA_MAX_DEPTH. */
void		trib_lua_push_json(lua_State *L, yajl_val v, bool top_level);
/* Write the value at idx through g; false with errbuf filled. */
bool		trib_lua_gen_value(lua_State *L, int idx, yajl_gen g, int depth,
							   char *errbuf, size_t errlen);

#endif							/* TRIB_LUA_EXPR_INT_H */
