/*
 * lua_expr.c: compiled Lua expressions over bound events (see lua_expr.h;
 * the sandbox and limits are in lua_sandbox.c, value conversion in
 * lua_json.c, the bound event's row images in lua_image.c).
 *
 * Hot path.  Binding an event only stores a pointer and drops the previous
 * event's parses.  An expression reads event fields through the sandbox's
 * last-resort __index (a C function that switches on the name), and row
 * fields through three userdata proxies made once per state; a proxy
 * parses its image with yajl_tree on first use and converts only the field
 * asked for.  Evaluating is one lua_pcall of the compiled chunk with the
 * hook counter reset; no table is built per event.
 *
 * Results that need converting (value and map modes) are converted inside
 * a second protected call, so an allocation failure there is an error and
 * not a panic.
 */
#include "lua_expr_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "errf.h"
#include "words.h"

/* ---- binding ------------------------------------------------------------- */

static void
drop_parses(trib_lua *T)
{
	trib_lua_image_drop(T);
	yajl_tree_free(T->nested);
	T->nested = NULL;
	yajl_tree_free(T->unchanged);
	T->unchanged = NULL;
	T->unchanged_parsed = false;
}

void
trib_lua_bind(trib_lua *T, const trib_event *ev)
{
	drop_parses(T);
	T->ev = ev;
}

void
trib_lua_bind_value(trib_lua *T, const char *column, const trib_jvalue *v)
{
	yajl_tree_free(T->val_tree);
	T->val_tree = NULL;
	T->column = column;
	T->val = v;
}

void
trib_lua_unbind(trib_lua *T)
{
	trib_lua_bind(T, NULL);
	trib_lua_bind_value(T, NULL, NULL);
}

/* ---- row-image proxies --------------------------------------------------- */

/* The tree of JSON text[0..n); a Lua error "<what> is not JSON" when it
 * is not (the parser's message is not shown: it quotes the text). */
static yajl_val
parse_or_raise(lua_State *L, const char *text, size_t n, const char *what)
{
	char	   *copy = trib_xstrndup(text, n);
	char		err[8];
	yajl_val	v = yajl_tree_parse(copy, err, sizeof(err));

	free(copy);
	if (v == NULL)
		luaL_error(L, "%s is not JSON", what);
	return v;
}

/* Push a string, number or boolean of that kind and text; false (nothing
 * pushed) for other kinds. */
static bool
push_scalar(lua_State *L, trib_jkind kind, const char *text, size_t len)
{
	if (kind == TRIB_J_STRING)
		lua_pushlstring(L, text, len);
	else if (kind == TRIB_J_NUMBER)
		trib_lua_push_number(L, text, len);
	else if (kind == TRIB_J_BOOL)
		lua_pushboolean(L, len == 4);
	else
		return false;
	return true;
}

/* Push field f of r; a null reads as nil at top level, else as `null`. */
static void
push_field(lua_State *L, trib_rowidx *r, const trib_rowfield *f, bool top)
{
	trib_lua   *T = trib_lua_of(L);
	const char *v = trib_rowidx_val(r, f);

	if (push_scalar(L, f->kind, v, f->val_len))
		return;
	switch (f->kind)
	{
		case TRIB_J_OBJECT:
		case TRIB_J_ARRAY:
			yajl_tree_free(T->nested);
			T->nested = parse_or_raise(L, v, f->val_len, "a nested value of a row image");
			trib_lua_push_json(L, T->nested, true);
			return;
		default:
			if (top)
				lua_pushnil(L);
			else
				lua_rawgeti(L, LUA_REGISTRYINDEX, T->null_ref);
			return;
	}
}

/* after.x: the field, converted; nil when absent or null. */
static int
row_index(lua_State *L)
{
	const int  *slot = lua_touserdata(L, 1);
	trib_rowidx *r = trib_lua_image_row(trib_lua_of(L), *slot);
	const trib_rowfield *f;
	size_t		n;
	const char *k;
	int			rc;

	if (lua_type(L, 2) != LUA_TSTRING)
		return 0;
	k = lua_tolstring(L, 2, &n);
	rc = trib_rowidx_find(r, k, n, &f);
	if (rc < 0)
		trib_lua_image_error(L, *slot);
	trib_lua_traced(trib_lua_of(L), *slot, k, n);
	if (rc == 0)
		return 0;
	push_field(L, r, f, true);
	return 1;
}

/* The whole index of image slot; raises if the image is not an object. */
static trib_rowidx *
row_complete(lua_State *L, int slot)
{
	trib_rowidx *r = trib_lua_image_row(trib_lua_of(L), slot);

	trib_lua_traced(trib_lua_of(L), slot, NULL, 0);

	if (!trib_rowidx_complete(r))
		trib_lua_image_error(L, slot);
	return r;
}

static int
row_newindex(lua_State *L)
{
	return luaL_error(L, "row images are read-only (return a table of new "
					  "fields from a map instead)");
}

/* The iterator pairs(after) returns: column order; nulls as `null`. */
static int
row_next(lua_State *L)
{
	const int  *slot = lua_touserdata(L, lua_upvalueindex(1));
	lua_Integer i = lua_tointeger(L, lua_upvalueindex(2));
	trib_rowidx *r = row_complete(L, *slot);

	if ((size_t) i >= r->nfields)
		return 0;
	lua_pushinteger(L, i + 1);
	lua_replace(L, lua_upvalueindex(2));
	lua_pushlstring(L, trib_rowidx_key(r, &r->fields[i]), r->fields[i].key_len);
	push_field(L, r, &r->fields[i], false);
	return 2;
}

static int
row_pairs(lua_State *L)
{
	lua_pushvalue(L, 1);
	lua_pushinteger(L, 0);
	lua_pushcclosure(L, row_next, 2);
	lua_pushnil(L);
	lua_pushnil(L);
	return 3;
}

static int
row_len(lua_State *L)
{
	const int  *slot = lua_touserdata(L, 1);

	lua_pushinteger(L, (lua_Integer) row_complete(L, *slot)->nfields);
	return 1;
}

static int
row_tostring(lua_State *L)
{
	const int  *slot = lua_touserdata(L, 1);

	lua_pushfstring(L, "row image (%s)", trib_lua_image_name(*slot));
	return 1;
}

/* Make the three proxies; their registry refs go to refs[]. */
static void
make_proxies(lua_State *L, int refs[IMG_COUNT])
{
	static const luaL_Reg mt[] = {
		{"__index", row_index}, {"__newindex", row_newindex},
		{"__pairs", row_pairs}, {"__len", row_len},
		{"__tostring", row_tostring}, {NULL, NULL}
	};

	luaL_newmetatable(L, TRIB_LUA_ROW_MT);
	luaL_setfuncs(L, mt, 0);
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);
	for (int i = 0; i < IMG_COUNT; i++)
	{
		int		   *slot = lua_newuserdatauv(L, sizeof(int), 0);

		*slot = i;
		luaL_setmetatable(L, TRIB_LUA_ROW_MT);
		refs[i] = luaL_ref(L, LUA_REGISTRYINDEX);
	}
}

/* ---- event fields -------------------------------------------------------- */

static void
push_opt_string(lua_State *L, const char *s)
{
	if (s)
		lua_pushstring(L, s);
	else
		lua_pushnil(L);
}

static void
push_lsn(lua_State *L, uint64_t lsn)
{
	char		buf[TRIB_LSN_BUFLEN];

	trib_lsn_format(lsn, buf, sizeof(buf));
	lua_pushstring(L, buf);
}

/* `unchanged`: the array of unchanged TOAST columns, or nil. */
static void
push_unchanged(lua_State *L, trib_lua *T)
{
	if (!T->unchanged_parsed && T->ev->unchanged)
	{
		char		err[8];

		T->unchanged = yajl_tree_parse(T->ev->unchanged, err, sizeof(err));
		if (T->unchanged == NULL || !YAJL_IS_ARRAY(T->unchanged))
			luaL_error(L, "the event's unchanged column list is not a JSON array");
	}
	T->unchanged_parsed = true;
	if (T->unchanged)
		trib_lua_push_json(L, T->unchanged, true);
	else
		lua_pushnil(L);
}

/* `value`: the bound value, converted. */
static void
push_value(lua_State *L, trib_lua *T)
{
	const trib_jvalue *v = T->val;

	if (v == NULL)
	{
		lua_pushnil(L);
		return;
	}
	if (push_scalar(L, v->kind, v->text, v->len))
		return;
	switch (v->kind)
	{
		case TRIB_J_OBJECT:
		case TRIB_J_ARRAY:
			if (T->val_tree == NULL)
				T->val_tree = parse_or_raise(L, v->text, v->len, "the checked value");
			trib_lua_push_json(L, T->val_tree, true);
			return;
		default:
			lua_pushnil(L);
	}
}

/*
 * Push event field k (length n) of T's event; false if k is none.  top:
 * looked up as a global, where `table` is Lua's library and the event's
 * table is `table_name`; through `event`, it is event.table.
 */
static bool
push_event_field(lua_State *L, trib_lua *T, const char *k, size_t n, bool top)
{
	const trib_event *ev = T->ev;

	for (int i = 0; i < IMG_COUNT; i++)
		if (strcmp(k, trib_lua_image_name(i)) == 0)
		{
			if (trib_lua_image_text(T, i))
				lua_rawgeti(L, LUA_REGISTRYINDEX, T->proxy_ref[i]);
			else
				lua_pushnil(L);
			return true;
		}
	if (strcmp(k, "event") == 0)
		lua_rawgeti(L, LUA_REGISTRYINDEX, T->event_ref);
	else if (n == 2 && strcmp(k, "op") == 0)
	{
		char		op = (char) ev->op;

		lua_pushlstring(L, &op, 1);
	}
	else if (strcmp(k, "table_name") == 0 || (!top && strcmp(k, "table") == 0))
		push_opt_string(L, ev->table);
	else if (strcmp(k, "schema") == 0)
		push_opt_string(L, ev->schema);
	else if (strcmp(k, "source") == 0)
		push_opt_string(L, ev->source);
	else if (strcmp(k, "db") == 0)
		push_opt_string(L, ev->db);
	else if (strcmp(k, "connector") == 0)
		push_opt_string(L, ev->connector);
	else if (strcmp(k, "txid") == 0)
		lua_pushinteger(L, (lua_Integer) ev->txid);
	else if (strcmp(k, "ts_ms") == 0)
		lua_pushinteger(L, (lua_Integer) ev->ts_ms);
	else if (strcmp(k, "seq") == 0)
		lua_pushinteger(L, (lua_Integer) ev->pos.seq);
	else if (strcmp(k, "lsn") == 0)
		push_lsn(L, ev->pos.lsn);
	else if (strcmp(k, "commit_lsn") == 0)
		push_lsn(L, ev->pos.commit_lsn);
	else if (strcmp(k, "snapshot") == 0)
		lua_pushboolean(L, ev->snapshot);
	else if (strcmp(k, "unchanged") == 0)
		push_unchanged(L, T);
	else
		return false;
	return true;
}

/* The sandbox's last-resort __index(W, name). */
static int
event_index(lua_State *L)
{
	trib_lua   *T = trib_lua_of(L);
	size_t		n;
	const char *k;

	if (lua_type(L, 2) != LUA_TSTRING)
		return 0;
	k = lua_tolstring(L, 2, &n);
	if (strcmp(k, "value") == 0)
	{
		push_value(L, T);
		return 1;
	}
	if (strcmp(k, "column") == 0)
	{
		push_opt_string(L, T->column);
		return 1;
	}
	if (T->ev && push_event_field(L, T, k, n, true))
		return 1;
	return 0;
}

/* event.x: every event field, `table` included. */
static int
event_proxy_index(lua_State *L)
{
	trib_lua   *T = trib_lua_of(L);
	size_t		n;
	const char *k;

	if (T->ev == NULL || lua_type(L, 2) != LUA_TSTRING)
		return 0;
	k = lua_tolstring(L, 2, &n);
	if (strcmp(k, "event") == 0)
		return 0;
	return push_event_field(L, T, k, n, false) ? 1 : 0;
}

static int
event_proxy_newindex(lua_State *L)
{
	return luaL_error(L, "the event is read-only");
}

/* The `event` proxy; its registry ref goes to *ref. */
static void
make_event_proxy(lua_State *L, int *ref)
{
	static const luaL_Reg mt[] = {
		{"__index", event_proxy_index}, {"__newindex", event_proxy_newindex}, {NULL, NULL}
	};

	*ref = trib_lua_sealed_object(L, "event", mt);
}

/* ---- state --------------------------------------------------------------- */

void
trib_lua_limits_init(trib_lua_limits *lim)
{
	lim->max_instructions = 1000000;
	lim->max_memory = 32u << 20;
}

trib_lua *
trib_lua_new(const trib_lua_limits *lim, char *errbuf, size_t errlen)
{
	trib_lua   *T = trib_xcalloc(1, sizeof(*T));

	T->lim = *lim;
	if (lim->max_instructions == 0 || lim->max_memory < 64 * 1024)
	{
		snprintf(errbuf, errlen, "lua: max_instructions must be positive and "
				 "max_memory at least 65536 bytes");
		free(T);
		return NULL;
	}
	T->L = lua_newstate(trib_lua_alloc, T);
	if (T->L == NULL)
		abort();
	*(trib_lua **) lua_getextraspace(T->L) = T;
	make_proxies(T->L, T->proxy_ref);
	make_event_proxy(T->L, &T->event_ref);
	trib_lua_build_sandbox(T, event_index, errbuf, errlen);
	lua_gc(T->L, LUA_GCCOLLECT);
	T->gen = yajl_gen_alloc(NULL);
	if (T->gen == NULL)
		abort();
	yajl_gen_config(T->gen, yajl_gen_validate_utf8, 1);
	T->mem_enforce = true;
	if (T->mem_used > lim->max_memory / 2)
	{
		snprintf(errbuf, errlen, "lua: max_memory %zu is too small: the "
				 "sandbox alone takes %zu bytes", lim->max_memory, T->mem_used);
		trib_lua_free(T);
		return NULL;
	}
	return T;
}

void
trib_lua_free(trib_lua *T)
{
	if (T == NULL)
		return;
	while (T->exprs)
		trib_lua_expr_free(T->exprs);
	trib_lua_unbind(T);
	for (int i = 0; i < IMG_COUNT; i++)
		trib_rowidx_free(&T->row[i]);
	lua_close(T->L);
	if (T->gen)
		yajl_gen_free(T->gen);
	free(T);
}

size_t
trib_lua_memory(const trib_lua *T)
{
	return T->mem_used;
}

/* Copy the error at the top of the stack to errbuf, with the limits named. */
static void
take_error(trib_lua *T, int status, const char *name, char *errbuf,
		   size_t errlen)
{
	lua_State  *L = T->L;
	const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;

	if (status == LUA_ERRMEM || T->mem_hit)
		snprintf(errbuf, errlen, "%s: memory limit of %zu bytes exceeded", name,
				 T->lim.max_memory);
	else if (T->limit_hit)
		snprintf(errbuf, errlen, "%s: instruction limit of %llu exceeded", name,
				 (unsigned long long) T->lim.max_instructions);
	else if (msg)
		snprintf(errbuf, errlen, "%s", msg);
	else
		snprintf(errbuf, errlen, "%s: error object is a %s value", name,
				 luaL_typename(L, -1));
	lua_settop(L, 0);
}

/* ---- compile ------------------------------------------------------------- */

/* The line of a "name:LINE: ..." syntax error, or 0. */
static long
error_line(const char *msg, const char *name)
{
	size_t		n = strlen(name);

	if (msg == NULL || strncmp(msg, name, n) != 0 || msg[n] != ':')
		return 0;
	return strtol(msg + n + 1, NULL, 10);
}

trib_lua_expr *
trib_lua_compile(trib_lua *T, const char *name, const char *src,
				 trib_lua_mode mode, char *errbuf, size_t errlen)
{
	lua_State  *L = T->L;
	trib_strbuf chunk = {0},
				ret = {0};
	trib_lua_expr *e;
	int			status;

	trib_strbuf_printf(&chunk, "=%s", name);
	trib_strbuf_printf(&ret, "return %s", src);
	T->mem_hit = false;
	/* An expression first; a block of statements if that does not parse. */
	status = luaL_loadbufferx(L, ret.data, ret.len, chunk.data, "t");
	if (status == LUA_ERRSYNTAX)
	{
		long		stmt;

		status = luaL_loadbufferx(L, src, strlen(src), chunk.data, "t");
		stmt = error_line(lua_tostring(L, -1), name);

		/* Both fail: report the parse that got further (the expression's
		 * on a tie: "x >" is an expression missing its operand); errors
		 * without a line (a binary chunk) are the statement's. */
		if (status == LUA_ERRSYNTAX && stmt > 0 &&
			error_line(lua_tostring(L, -2), name) >= stmt)
			lua_remove(L, -1);
		else
			lua_remove(L, -2);
	}
	trib_strbuf_free(&ret);
	trib_strbuf_free(&chunk);
	if (status != LUA_OK)
	{
		take_error(T, status, name, errbuf, errlen);
		return NULL;
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, T->env_ref);
	if (lua_setupvalue(L, -2, 1) == NULL)
		lua_pop(L, 1);			/* a chunk without _ENV: nothing to set */
	e = trib_xcalloc(1, sizeof(*e));
	e->T = T;
	e->mode = mode;
	e->name = trib_xstrdup(name);
	e->ref = luaL_ref(L, LUA_REGISTRYINDEX);
	e->next = T->exprs;
	if (T->exprs)
		T->exprs->prev = e;
	T->exprs = e;
	return e;
}

void
trib_lua_expr_free(trib_lua_expr *e)
{
	if (e == NULL)
		return;
	luaL_unref(e->T->L, LUA_REGISTRYINDEX, e->ref);
	if (e->prev)
		e->prev->next = e->next;
	else
		e->T->exprs = e->next;
	if (e->next)
		e->next->prev = e->prev;
	free(e->name);
	free(e);
}

trib_lua_mode
trib_lua_expr_mode(const trib_lua_expr *e)
{
	return e->mode;
}

trib_lua *
trib_lua_expr_state(const trib_lua_expr *e)
{
	return e->T;
}

void
trib_lua_expr_trace(trib_lua_expr *e, trib_lua_trace_fn fn, void *arg)
{
	e->trace = fn;
	e->trace_arg = arg;
}

void
trib_lua_traced(trib_lua *T, int slot, const char *field, size_t len)
{
	trib_lua_expr *e = T->running;

	if (e != NULL && e->trace != NULL && T->ev != NULL)
		e->trace(e->trace_arg, T->ev, trib_lua_image_name(slot), field, len);
}

/* ---- evaluate ------------------------------------------------------------ */

/* Run e leaving nres results on the stack; false with errbuf filled. */
static bool
run(trib_lua_expr *e, trib_lua_mode want, int nres, char *errbuf,
	size_t errlen)
{
	trib_lua   *T = e->T;
	lua_State  *L = T->L;
	int			status;

	if (e->mode != want)
		return trib_errf(errbuf, errlen, "%s: compiled for another mode", e->name);
	lua_settop(L, 0);
	T->count = 0;
	T->limit_hit = false;
	T->mem_hit = false;
	lua_sethook(L, trib_lua_hook, LUA_MASKCOUNT,
				T->lim.max_instructions < TRIB_LUA_HOOK_STEP
				? (int) T->lim.max_instructions : TRIB_LUA_HOOK_STEP);
	lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref);
	T->running = e;
	status = lua_pcall(L, 0, nres, 0);
	T->running = NULL;
	lua_sethook(L, NULL, 0, 0);
	if (status != LUA_OK)
	{
		take_error(T, status, e->name, errbuf, errlen);
		if (status == LUA_ERRMEM)
			lua_gc(L, LUA_GCCOLLECT);
		return false;
	}
	return true;
}

bool
trib_lua_filter(trib_lua_expr *e, bool *keep, char *errbuf, size_t errlen)
{
	if (!run(e, TRIB_LUA_FILTER, 1, errbuf, errlen))
		return false;
	*keep = lua_toboolean(e->T->L, -1);
	lua_settop(e->T->L, 0);
	return true;
}

bool
trib_lua_check(trib_lua_expr *e, bool *pass, char *reason, size_t reasonlen,
			   char *errbuf, size_t errlen)
{
	lua_State  *L = e->T->L;

	if (!run(e, TRIB_LUA_FILTER, 2, errbuf, errlen))
		return false;
	*pass = lua_toboolean(L, -2);
	if (reasonlen)
		snprintf(reason, reasonlen, "%s",
				 lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "");
	lua_settop(L, 0);
	return true;
}

bool
trib_lua_route(trib_lua_expr *e, bool *routed, trib_strbuf *out,
			   char *errbuf, size_t errlen)
{
	lua_State  *L = e->T->L;
	size_t		n;
	const char *s;

	if (!run(e, TRIB_LUA_ROUTE, 1, errbuf, errlen))
		return false;
	*routed = false;
	if (lua_isnil(L, -1))
	{
		lua_settop(L, 0);
		return true;
	}
	if (lua_type(L, -1) != LUA_TSTRING || (s = lua_tolstring(L, -1, &n), n == 0))
	{
		snprintf(errbuf, errlen, "%s: a route must be a non-empty string or "
				 "nil, not %s", e->name,
				 lua_type(L, -1) == LUA_TSTRING ? "an empty string" : luaL_typename(L, -1));
		lua_settop(L, 0);
		return false;
	}
	trib_strbuf_add(out, s, n);
	*routed = true;
	lua_settop(L, 0);
	return true;
}

/* Protected conversion of the value at 1 through T->gen: upvalue 1 is the
 * errbuf (lightuserdata), 2 its length. */
static int
convert_protected(lua_State *L)
{
	trib_lua   *T = trib_lua_of(L);
	char	   *errbuf = lua_touserdata(L, lua_upvalueindex(1));
	size_t		errlen = (size_t) lua_tointeger(L, lua_upvalueindex(2));

	lua_pushboolean(L, trib_lua_gen_value(L, 1, T->gen, 0, errbuf, errlen));
	return 1;
}

/* Convert the result at the top to JSON appended to json. */
static bool
convert(trib_lua_expr *e, trib_strbuf *json, char *errbuf, size_t errlen)
{
	trib_lua   *T = e->T;
	lua_State  *L = T->L;
	char		err[256] = "";
	const unsigned char *buf;
	size_t		n;
	int			status;
	bool		ok;

	yajl_gen_clear(T->gen);
	yajl_gen_reset(T->gen, NULL);
	lua_pushlightuserdata(L, err);
	lua_pushinteger(L, (lua_Integer) sizeof(err));
	lua_pushcclosure(L, convert_protected, 2);
	lua_insert(L, -2);
	status = lua_pcall(L, 1, 1, 0);
	if (status != LUA_OK)
	{
		take_error(T, status, e->name, errbuf, errlen);
		return false;
	}
	ok = lua_toboolean(L, -1);
	lua_settop(L, 0);
	if (!ok)
		return trib_errf(errbuf, errlen, "%s: %s", e->name, err);
	yajl_gen_get_buf(T->gen, &buf, &n);
	trib_strbuf_add(json, (const char *) buf, n);
	return true;
}

bool
trib_lua_value(trib_lua_expr *e, trib_strbuf *json, char *errbuf,
			   size_t errlen)
{
	if (!run(e, TRIB_LUA_VALUE, 1, errbuf, errlen))
		return false;
	return convert(e, json, errbuf, errlen);
}

bool
trib_lua_map(trib_lua_expr *e, bool *changed, trib_strbuf *json,
			 char *errbuf, size_t errlen)
{
	lua_State  *L = e->T->L;

	if (!run(e, TRIB_LUA_MAP, 1, errbuf, errlen))
		return false;
	*changed = false;
	if (lua_isnil(L, -1))
	{
		lua_settop(L, 0);
		return true;
	}
	if (lua_type(L, -1) != LUA_TTABLE && !luaL_testudata(L, -1, TRIB_LUA_ROW_MT))
	{
		snprintf(errbuf, errlen, "%s: a map must return a table of fields or "
				 "nil, not %s", e->name, luaL_typename(L, -1));
		lua_settop(L, 0);
		return false;
	}
	if (lua_type(L, -1) == LUA_TTABLE && lua_rawlen(L, -1) > 0)
	{
		snprintf(errbuf, errlen, "%s: a map must return a table of named "
				 "fields, not an array", e->name);
		lua_settop(L, 0);
		return false;
	}
	*changed = true;
	return convert(e, json, errbuf, errlen);
}

bool
trib_lua_mode_parse(const char *s, trib_lua_mode *out)
{
	static const char *const names[] = {"filter", "route", "value", "map"};
	int			i = trib_words_find(names, TRIB_NWORDS(names), s);

	if (i >= 0)
		*out = (trib_lua_mode) i;
	return i >= 0;
}
