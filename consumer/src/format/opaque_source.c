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

#include <yajl/yajl_parse.h>

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

/* yajl's callbacks, one per token: copy it while inside the object. */
static int
on_null(void *ctx)
{
	copier	   *c = ctx;

	if (c->copying)
		yajl_gen_null(c->g);
	return scalar_seen(c);
}

static int
on_bool(void *ctx, int b)
{
	copier	   *c = ctx;

	if (c->copying)
		yajl_gen_bool(c->g, b);
	return scalar_seen(c);
}

/* Numbers keep their text (no loss above 2^53). */
static int
on_number(void *ctx, const char *s, size_t len)
{
	copier	   *c = ctx;

	if (c->copying)
		yajl_gen_number(c->g, s, len);
	return scalar_seen(c);
}

static int
on_string(void *ctx, const unsigned char *s, size_t len)
{
	copier	   *c = ctx;

	if (c->copying)
		yajl_gen_string(c->g, s, len);
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

static int
on_start_map(void *ctx)
{
	copier	   *c = ctx;

	if (c->depth == 1 && c->want)
		c->copying = true;
	if (c->copying)
		yajl_gen_map_open(c->g);
	c->depth++;
	return 1;
}

/* Closing the "source" object ends the parse (cancelled on purpose). */
static int
on_end_map(void *ctx)
{
	copier	   *c = ctx;

	c->depth--;
	if (!c->copying)
		return 1;
	yajl_gen_map_close(c->g);
	if (c->depth > 1)
		return 1;
	c->copying = false;
	c->done = true;
	return 0;
}

static int
on_start_array(void *ctx)
{
	copier	   *c = ctx;

	if (c->copying)
		yajl_gen_array_open(c->g);
	c->depth++;
	return 1;
}

static int
on_end_array(void *ctx)
{
	copier	   *c = ctx;

	c->depth--;
	if (c->copying)
		yajl_gen_array_close(c->g);
	return scalar_seen(c);
}

static const yajl_callbacks copy_callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_bool,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_key,
	.yajl_end_map = on_end_map,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end_array,
};

bool
trib_opaque_source(const char *opaque, yajl_gen g)
{
	copier		c = {.g = g};
	yajl_handle h;
	yajl_status st;

	if (opaque == NULL || (h = yajl_alloc(&copy_callbacks, NULL, &c)) == NULL)
		return false;
	st = yajl_parse(h, (const unsigned char *) opaque, strlen(opaque));
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	yajl_free(h);
	return c.done && (st == yajl_status_client_canceled || st == yajl_status_ok);
}
