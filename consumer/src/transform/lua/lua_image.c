/*
 * lua_image.c: the row images of the event bound to a Lua state (see
 * lua_expr_int.h): their text, a lazy field index per image (rowindex.c) for
 * the proxies' field reads, and, only when an expression uses a whole
 * image (`return after`), its parsed tree.
 * Everything is dropped when another event is bound.
 *
 * It sits below lua_expr.c (the proxies) and lua_json.c (writing a proxy
 * as JSON), which both use it.
 */
#include "lua_expr_int.h"

#include <string.h>

#include <lauxlib.h>

static const char *const img_names[IMG_COUNT] = {"before", "after", "key"};

const char *
trib_lua_image_name(int slot)
{
	return img_names[slot];
}

const char *
trib_lua_image_text(const trib_lua *T, int slot)
{
	if (T->ev == NULL)
		return NULL;
	return slot == IMG_BEFORE ? T->ev->before
		: slot == IMG_AFTER ? T->ev->after : T->ev->key;
}

yajl_val
trib_lua_image(lua_State *L, int slot)
{
	trib_lua   *T = trib_lua_of(L);
	const char *text;

	trib_lua_traced(T, slot, NULL, 0);
	if (T->parsed[slot])
		return T->img[slot];
	text = trib_lua_image_text(T, slot);
	if (text != NULL)
	{
		char		err[8];

		/* the parser's message quotes the text, which may be PII */
		T->img[slot] = yajl_tree_parse(text, err, sizeof(err));
		if (T->img[slot] == NULL || !YAJL_IS_OBJECT(T->img[slot]))
			trib_lua_image_error(L, slot);
	}
	T->parsed[slot] = true;
	return T->img[slot];
}

trib_rowidx *
trib_lua_image_row(trib_lua *T, int slot)
{
	trib_rowidx *r = &T->row[slot];

	if (!T->row_ready[slot])
	{
		const char *text = trib_lua_image_text(T, slot);

		trib_rowidx_reset(r, text, text ? strlen(text) : 0);
		T->row_ready[slot] = true;
	}
	return r;
}

void
trib_lua_image_error(lua_State *L, int slot)
{
	luaL_error(L, "row image '%s' is not a JSON object", img_names[slot]);
}

void
trib_lua_image_drop(trib_lua *T)
{
	for (int i = 0; i < IMG_COUNT; i++)
	{
		yajl_tree_free(T->img[i]);
		T->img[i] = NULL;
		T->parsed[i] = false;
		T->row_ready[i] = false;
	}
}
