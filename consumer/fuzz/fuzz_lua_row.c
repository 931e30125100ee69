/*
 * fuzz_lua_row.c: libFuzzer target for reading row images in Lua
 * expressions (rowindex.c, the proxies in lua_expr.c, lua_json.c).
 *
 * The input is a row image as a source would deliver it (any bytes).  It
 * is bound as `after` and read three ways: the lazy index looking up a
 * few names and then indexing everything, a Lua expression copying every
 * field into a table (pairs, field conversion, result conversion), and
 * one returning the image whole.  Nothing may crash, leak or read out of
 * bounds; whenever an evaluation succeeds its result must be JSON; and
 * when the index accepts the image, yajl's tree parser must accept it too
 * with the same number of fields.
 *
 * `make -C consumer fuzz` runs it on fuzz/corpus/lua_row; `make check`
 * replays the corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "event.h"
#include "lua_expr.h"
#include "rowindex.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static trib_lua *T;
static trib_lua_expr *copy_expr,
		   *whole_expr,
		   *field_expr;

/* Abort unless s (NUL-terminated) parses as JSON. */
static void
must_be_json(const char *s)
{
	char		err[64];
	yajl_val	v = yajl_tree_parse(s, err, sizeof(err));

	if (v == NULL)
		abort();
	yajl_tree_free(v);
}

static void
init(void)
{
	trib_lua_limits lim;
	char		err[256];

	trib_lua_limits_init(&lim);
	lim.max_memory = 16u << 20;
	T = trib_lua_new(&lim, err, sizeof(err));
	if (T == NULL)
		abort();
	copy_expr = trib_lua_compile(T, "copy", "local t = {} for k, v in pairs(after) "
								 "do t[k] = v end return t", TRIB_LUA_VALUE, err, sizeof(err));
	whole_expr = trib_lua_compile(T, "whole", "after", TRIB_LUA_VALUE, err, sizeof(err));
	field_expr = trib_lua_compile(T, "field", "{ after.id, after.amount, after.a, #after }",
								  TRIB_LUA_VALUE, err, sizeof(err));
	if (!copy_expr || !whole_expr || !field_expr)
		abort();
}

/* The index alone: lookups, then everything; compare with yajl_tree. */
static void
check_index(const char *text, size_t len)
{
	trib_rowidx r = {0};
	const trib_rowfield *f;
	char		err[64];
	yajl_val	tree;
	bool		ok;

	trib_rowidx_reset(&r, text, len);
	(void) trib_rowidx_find(&r, "id", 2, &f);
	(void) trib_rowidx_find(&r, "", 0, &f);
	ok = trib_rowidx_complete(&r);
	if (ok && strlen(text) == len)
	{
		tree = yajl_tree_parse(text, err, sizeof(err));
		if (tree == NULL || !YAJL_IS_OBJECT(tree) || tree->u.object.len != r.nfields)
			abort();
		yajl_tree_free(tree);
	}
	trib_rowidx_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	trib_event *ev;
	trib_lua_expr *exprs[3];
	char		err[512];

	if (T == NULL)
		init();
	ev = trib_event_new();
	ev->op = TRIB_OP_CREATE;
	ev->after = malloc(size + 1);
	if (ev->after == NULL)
		abort();
	memcpy(ev->after, data, size);
	ev->after[size] = '\0';
	check_index(ev->after, strlen(ev->after));

	trib_lua_bind(T, ev);
	exprs[0] = copy_expr;
	exprs[1] = whole_expr;
	exprs[2] = field_expr;
	for (int i = 0; i < 3; i++)
	{
		trib_strbuf out = {0};

		if (trib_lua_value(exprs[i], &out, err, sizeof(err)))
			must_be_json(out.data);
		trib_strbuf_free(&out);
	}
	trib_lua_unbind(T);
	trib_event_free(ev);
	return 0;
}
