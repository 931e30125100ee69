/*
 * opaque_source.c: copy the "source" object out of an opaque position
 * with yajl's event parser (opaque_source.h).
 *
 * State: the nesting depth (1 inside the top-level object), whether the
 * last top-level key was "source", and whether its object is being
 * copied.  While copying, every token goes to the generator; when the
 * object closes, the callback cancels the parse: what follows is not
 * lexed.
 */
#include "opaque_source.h"

#include <string.h>

#include "yajl_tokens.h"

typedef struct copier
{
	yajl_gen	g;
	int			depth;			/* 1: members of the top-level object */
	bool		want;			/* the last top-level key was "source" */
	bool		copying;		/* inside the "source" object */
	bool		done;			/* it closed */
} copier;

/* A top-level scalar ends a "source" member that is not an object. */
static int
scalar_seen(copier *c)
{
	if (c->depth == 1)
		c->want = false;
	return 1;
}

/* A scalar token (lib/yajl_tokens.c): copied while inside the object;
 * numbers keep their text (no loss above 2^53). */
static int
on_scalar(void *ctx, yajl_type type, const char *s, size_t len)
{
	copier	   *c = ctx;

	if (c->copying)
	{
		if (type == yajl_t_null)
			yajl_gen_null(c->g);
		else if (type == yajl_t_true || type == yajl_t_false)
			yajl_gen_bool(c->g, type == yajl_t_true);
		else if (type == yajl_t_number)
			yajl_gen_number(c->g, s, len);
		else
			yajl_gen_string(c->g, (const unsigned char *) s, len);
	}
	return scalar_seen(c);
}

static int
on_key(void *ctx, const unsigned char *s, size_t len)
{
	copier	   *c = ctx;

	if (c->copying)
		yajl_gen_string(c->g, s, len);
	else if (c->depth == 1)
		c->want = len == 6 && memcmp(s, "source", 6) == 0;
	return 1;
}

/* An object opening after the key "source" starts the copy. */
static int
on_open(void *ctx, bool array)
{
	copier	   *c = ctx;

	if (!array && c->depth == 1 && c->want)
		c->copying = true;
	if (c->copying)
		(array ? yajl_gen_array_open : yajl_gen_map_open) (c->g);
	c->depth++;
	return 1;
}

/* Closing the "source" object ends the parse (cancelled on purpose); an
 * array closing at the top level ends a "source" member like a scalar. */
static int
on_close(void *ctx, bool array)
{
	copier	   *c = ctx;

	c->depth--;
	if (array)
	{
		if (c->copying)
			yajl_gen_array_close(c->g);
		return scalar_seen(c);
	}
	if (!c->copying)
		return 1;
	yajl_gen_map_close(c->g);
	if (c->depth > 1)
		return 1;
	c->copying = false;
	c->done = true;
	return 0;
}

static const trib_ytok_ops copy_ops = {on_scalar, on_key, on_open, on_close};

bool
trib_opaque_source(const char *opaque, yajl_gen g)
{
	copier		c = {.g = g};
	trib_ytok	tok = {&copy_ops, &c};
	yajl_handle h;
	yajl_status st;

	if (opaque == NULL || (h = trib_ytok_alloc(&tok, NULL)) == NULL)
		return false;
	st = yajl_parse(h, (const unsigned char *) opaque, strlen(opaque));
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	yajl_free(h);
	return c.done && (st == yajl_status_client_canceled || st == yajl_status_ok);
}
