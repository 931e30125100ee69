/*
 * lineage_lua.c: the fields a Lua rule reads, found without running it.
 *
 * Design.  A rule's expression sees the row images as the tables
 * `after`, `before` and `key` (transform/lua/).  Reading a field by a
 * constant name, `after.total` or `after["total"]`, names its input; any
 * other use of those tables (`after[k]`, `pairs(after)`, `f(after)`)
 * depends on data, so the expression's inputs are then "dynamic" and the
 * caller records an edge from the whole dataset instead.  This is a
 * scanner over Lua's tokens that matters here (names, strings, comments,
 * `.` and `[`), not a parser: it may only err towards "dynamic", never
 * miss a field it reports as static.
 */
#include "lineage.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "quoted.h"
#include "xalloc.h"

/* Is c a character of a Lua name? */
static bool
name_char(char c)
{
	return isalnum((unsigned char) c) || c == '_';
}

/* Skip a string literal or a comment starting at p; NULL when p starts
 * neither.  Long brackets ([[...]], --[==[...]==]) included. */
static const char *
skip_literal(const char *p)
{
	if (p[0] == '-' && p[1] == '-')
	{
		const char *q = p + 2;

		if (q[0] == '[' && (q[1] == '[' || q[1] == '='))
		{
			size_t		eq = strspn(q + 1, "=");

			if (q[1 + eq] == '[')
			{
				char		close[64] = "]";

				memset(close + 1, '=', eq < 60 ? eq : 60);
				close[1 + (eq < 60 ? eq : 60)] = ']';
				q = strstr(q, close);
				return q ? q + strlen(close) : p + strlen(p);
			}
		}
		return p + 2 + strcspn(p + 2, "\n");
	}
	if (p[0] == '"' || p[0] == '\'')
	{
		const char *q = trib_quoted_end(p);

		return *q ? q + 1 : q;
	}
	return NULL;
}

/* Add name[0..len) to the list once. */
static void
add_name(char ***names, size_t *n, const char *name, size_t len)
{
	for (size_t i = 0; i < *n; i++)
		if (strlen((*names)[i]) == len && strncmp((*names)[i], name, len) == 0)
			return;
	*names = trib_xrealloc(*names, (*n + 1) * sizeof(char *));
	(*names)[(*n)++] = trib_xstrndup(name, len);
}

/* After an image table's name at p: the field it reads.  true and the
 * name when constant; false when it is used another way. */
static bool
image_use(const char *p, char ***names, size_t *n)
{
	while (*p == ' ' || *p == '\t')
		p++;
	if (p[0] == '.' && p[1] != '.' && name_char(p[1]))
	{
		size_t		len = 1;

		while (name_char(p[len]))
			len++;
		add_name(names, n, p + 1, len - 1);
		return true;
	}
	if (p[0] == '[' && (p[1] == '"' || p[1] == '\''))
	{
		const char *end = strchr(p + 2, p[1]);

		if (end != NULL && end[1] == ']' && memchr(p + 2, '\\', (size_t) (end - p - 2)) == NULL)
		{
			add_name(names, n, p + 2, (size_t) (end - p - 2));
			return true;
		}
	}
	return false;
}

/* See lineage.h. */
bool
trib_lineage_lua_inputs(const char *lua, char ***names, size_t *n)
{
	static const char *const images[] = {"after", "before", "key", NULL};
	bool		all_static = true;
	const char *p = lua ? lua : "";

	while (*p)
	{
		const char *q = skip_literal(p);

		if (q != NULL)
		{
			p = q;
			continue;
		}
		if (!name_char(*p))
		{
			p++;
			continue;
		}
		q = p;
		while (name_char(*q))
			q++;
		/* a name after '.' or ':' is a field of something else */
		if (p == lua || (p[-1] != '.' && p[-1] != ':'))
			for (int k = 0; images[k]; k++)
				if ((size_t) (q - p) == strlen(images[k]) &&
					strncmp(p, images[k], (size_t) (q - p)) == 0 &&
					!image_use(q, names, n))
					all_static = false;
		p = q;
	}
	return all_static;
}
