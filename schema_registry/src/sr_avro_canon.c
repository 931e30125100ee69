/*
 * sr_avro_canon.c: the Parsing Canonical Form of an Avro schema, as the
 * Avro specification defines it: primitives as bare strings, full names,
 * only the attributes that matter for parsing (name, type, fields,
 * symbols, items, values, size) in that order, and no whitespace.  A named
 * type is written in full where it first appears and by its full name
 * after that.  Names and symbols are Avro identifiers, so they never need
 * escaping.
 */
#include <stdlib.h>
#include <string.h>

#include "sr_avro.h"

typedef struct pcf_ctx
{
	sr_buf		b;
	const sr_anode **seen;		/* named types already written */
	size_t		nseen;
} pcf_ctx;

static void emit(pcf_ctx *c, const sr_anode *n);

/* Whether n was written before; remembers it when not. */
static bool
seen_before(pcf_ctx *c, const sr_anode *n)
{
	const sr_anode **p;

	for (size_t i = 0; i < c->nseen; i++)
		if (c->seen[i] == n)
			return true;
	p = realloc(c->seen, (c->nseen + 1) * sizeof(*p));
	if (p == NULL)
	{
		c->b.oom = true;
		return true;
	}
	c->seen = p;
	c->seen[c->nseen++] = n;
	return false;
}

static void
quoted(pcf_ctx *c, const char *s)
{
	sr_buf_json_str(&c->b, s, strlen(s));
}

static void
emit_named(pcf_ctx *c, const sr_anode *n)
{
	sr_buf_adds(&c->b, "{\"name\":");
	quoted(c, n->fullname);
	sr_buf_printf(&c->b, ",\"type\":\"%s\"", sr_akind_name(n->kind));
	if (n->kind == SR_A_RECORD)
	{
		sr_buf_adds(&c->b, ",\"fields\":[");
		for (size_t i = 0; i < n->nfields; i++)
		{
			sr_buf_adds(&c->b, i ? ",{\"name\":" : "{\"name\":");
			quoted(c, n->fields[i].name);
			sr_buf_adds(&c->b, ",\"type\":");
			emit(c, n->fields[i].type);
			sr_buf_addc(&c->b, '}');
		}
		sr_buf_addc(&c->b, ']');
	}
	else if (n->kind == SR_A_ENUM)
	{
		sr_buf_adds(&c->b, ",\"symbols\":[");
		for (size_t i = 0; i < n->nsymbols; i++)
		{
			if (i > 0)
				sr_buf_addc(&c->b, ',');
			quoted(c, n->symbols[i]);
		}
		sr_buf_addc(&c->b, ']');
	}
	else
		sr_buf_printf(&c->b, ",\"size\":%lld", (long long) n->size);
	sr_buf_addc(&c->b, '}');
}

static void
emit(pcf_ctx *c, const sr_anode *n)
{
	switch (n->kind)
	{
		case SR_A_RECORD:
		case SR_A_ENUM:
		case SR_A_FIXED:
			if (seen_before(c, n))
				quoted(c, n->fullname);
			else
				emit_named(c, n);
			return;
		case SR_A_ARRAY:
			sr_buf_adds(&c->b, "{\"type\":\"array\",\"items\":");
			emit(c, n->items);
			sr_buf_addc(&c->b, '}');
			return;
		case SR_A_MAP:
			sr_buf_adds(&c->b, "{\"type\":\"map\",\"values\":");
			emit(c, n->items);
			sr_buf_addc(&c->b, '}');
			return;
		case SR_A_UNION:
			sr_buf_addc(&c->b, '[');
			for (size_t i = 0; i < n->nbranches; i++)
			{
				if (i > 0)
					sr_buf_addc(&c->b, ',');
				emit(c, n->branches[i]);
			}
			sr_buf_addc(&c->b, ']');
			return;
		default:
			sr_buf_printf(&c->b, "\"%s\"", sr_akind_name(n->kind));
	}
}

char *
sr_avro_pcf(const sr_avro *a, size_t *len)
{
	pcf_ctx		c;

	memset(&c, 0, sizeof(c));
	char	   *s;

	emit(&c, a->root);
	free(c.seen);
	*len = c.b.len;
	s = sr_buf_finish(&c.b);
	return s;
}
