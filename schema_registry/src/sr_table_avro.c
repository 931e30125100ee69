/*
 * sr_table_avro.c: the Avro schema of a table's rows: a record named after
 * the table in the namespace of its schema, one field per column in
 * column order, a nullable column as ["null", T] with default null.
 *
 * Types carry the logical types consumers expect (decimal, date,
 * time-micros, local-timestamp-micros, timestamp-micros, uuid); what Avro
 * has no exact type for (unbounded numeric, money, interval, time with
 * time zone, JSON, composites without known attributes, everything sent as
 * text) is a string holding the plugin's text or JSON.  int to bigint is
 * Avro's int to long promotion, varchar(n) to text string to string, so
 * both are compatible under BACKWARD.  Names are made Avro-legal with
 * trib_sr_avro_name(); two columns that end up with the same name are an
 * error, never a silent merge.
 */
#include <stdlib.h>
#include <string.h>

#include "sr_table.h"

typedef struct avro_gen
{
	sr_buf	   *b;
	const char *ns;				/* the table's namespace, made legal */
	char	  **records;		/* composite records already defined */
	size_t		nrecords;
	char	   *errbuf;
	size_t		errlen;
	bool		failed;
} avro_gen;

static void fields(avro_gen *g, const trib_sr_field *fs, size_t n, trib_sr_table_part part,
				   const char *owner);

/* Append an Avro-legal version of name (a JSON string literal). */
static void
legal_name(sr_buf *b, const char *name)
{
	size_t		n = trib_sr_avro_name(name, NULL, 0);
	char	   *s = malloc(n + 1);

	if (s == NULL)
	{
		b->oom = true;
		return;
	}
	trib_sr_avro_name(name, s, n + 1);
	sr_buf_json_str(b, s, n);
	free(s);
}

/* A dotted name made legal part by part ("my-schema.t" -> "my_schema.t"). */
static char *
legal_dotted(const char *name)
{
	sr_buf		out = {0};
	const char *p = name;

	while (true)
	{
		const char *dot = strchr(p, '.');
		size_t		len = dot ? (size_t) (dot - p) : strlen(p);
		char	   *part = strndup(p, len);
		char		buf[256];

		if (part == NULL)
		{
			sr_buf_free(&out);
			return NULL;
		}
		if (trib_sr_avro_name(part, buf, sizeof(buf)) >= sizeof(buf))
			out.oom = true;
		free(part);
		sr_buf_adds(&out, buf);
		if (dot == NULL)
			break;
		sr_buf_addc(&out, '.');
		p = dot + 1;
	}
	return sr_buf_finish(&out);
}

/* A composite type as a record (defined once, then named). */
static void
composite(avro_gen *g, const trib_sr_type *t)
{
	char	   *name = legal_dotted(t->name && t->name[0] ? t->name : "composite");

	if (name == NULL)
	{
		g->b->oom = true;
		return;
	}
	for (size_t i = 0; i < g->nrecords; i++)
		if (strcmp(g->records[i], name) == 0)
		{
			sr_buf_json_str(g->b, name, strlen(name));
			free(name);
			return;
		}
	char	  **r = realloc(g->records, (g->nrecords + 1) * sizeof(*r));

	if (r == NULL)
	{
		free(name);
		g->b->oom = true;
		return;
	}
	g->records = r;
	g->records[g->nrecords++] = name;
	sr_buf_adds(g->b, "{\"type\":\"record\",\"name\":");
	sr_buf_json_str(g->b, name, strlen(name));
	if (strchr(name, '.') == NULL && g->ns != NULL)
	{
		sr_buf_adds(g->b, ",\"namespace\":");
		sr_buf_json_str(g->b, g->ns, strlen(g->ns));
	}
	sr_buf_adds(g->b, ",\"fields\":");
	fields(g, t->fields, t->nfields, TRIB_SR_VALUE, name);
	sr_buf_addc(g->b, '}');
}

static void
scalar(avro_gen *g, const trib_sr_type *t)
{
	sr_buf	   *b = g->b;

	switch (t->kind)
	{
		case TRIB_SR_K_BOOL:
			sr_buf_adds(b, "\"boolean\"");
			return;
		case TRIB_SR_K_INT16:
		case TRIB_SR_K_INT32:
			sr_buf_adds(b, "\"int\"");
			return;
		case TRIB_SR_K_INT64:
		case TRIB_SR_K_UINT32:
			sr_buf_adds(b, "\"long\"");
			return;
		case TRIB_SR_K_FLOAT32:
			sr_buf_adds(b, "\"float\"");
			return;
		case TRIB_SR_K_FLOAT64:
			sr_buf_adds(b, "\"double\"");
			return;
		case TRIB_SR_K_DECIMAL:
			if (t->precision <= 0)
				break;
			/* a negative scale (PostgreSQL 15) is scale 0 with more digits */
			sr_buf_printf(b, "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":%d,"
						  "\"scale\":%d}", (int) (t->scale < 0 ? t->precision - t->scale : t->precision),
						  (int) (t->scale < 0 ? 0 : t->scale));
			return;
		case TRIB_SR_K_BYTES:
			sr_buf_adds(b, "\"bytes\"");
			return;
		case TRIB_SR_K_DATE:
			sr_buf_adds(b, "{\"type\":\"int\",\"logicalType\":\"date\"}");
			return;
		case TRIB_SR_K_TIME:
			sr_buf_adds(b, "{\"type\":\"long\",\"logicalType\":\"time-micros\"}");
			return;
		case TRIB_SR_K_TIMESTAMP:
			sr_buf_adds(b, "{\"type\":\"long\",\"logicalType\":\"local-timestamp-micros\"}");
			return;
		case TRIB_SR_K_TIMESTAMPTZ:
			sr_buf_adds(b, "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}");
			return;
		case TRIB_SR_K_UUID:
			sr_buf_adds(b, "{\"type\":\"string\",\"logicalType\":\"uuid\"}");
			return;
		case TRIB_SR_K_COMPOSITE:
			if (t->nfields == 0)
				break;
			composite(g, t);
			return;
		default:
			break;
	}
	sr_buf_adds(b, "\"string\"");
}

/* A value with `dims` array dimensions left; nullable adds the null
 * branch. */
static void
value(avro_gen *g, const trib_sr_type *t, int dims, bool nullable)
{
	if (nullable)
		sr_buf_adds(g->b, "[\"null\",");
	if (dims > 0)
	{
		sr_buf_adds(g->b, "{\"type\":\"array\",\"items\":");
		value(g, t, dims - 1, dims == 1);
		sr_buf_addc(g->b, '}');
	}
	else
		scalar(g, t);
	if (nullable)
		sr_buf_addc(g->b, ']');
}

/* The fields array of a record; fails on two columns with one Avro name. */
static void
fields(avro_gen *g, const trib_sr_field *fs, size_t n, trib_sr_table_part part, const char *owner)
{
	bool		first = true;

	for (size_t i = 0; i < n && !g->failed; i++)
		for (size_t j = 0; j < i && !g->failed; j++)
		{
			char		a[256],
						b[256];

			trib_sr_avro_name(fs[i].name, a, sizeof(a));
			trib_sr_avro_name(fs[j].name, b, sizeof(b));
			if (strcmp(a, b) == 0)
			{
				sr_err(g->errbuf, g->errlen, "columns \"%s\" and \"%s\" of %s both become the "
					   "Avro field name \"%s\"", fs[j].name, fs[i].name, owner, a);
				g->failed = true;
			}
		}
	sr_buf_addc(g->b, '[');
	for (size_t i = 0; i < n; i++)
	{
		if (!sr_table_wants(&fs[i], part))
			continue;
		sr_buf_adds(g->b, first ? "{\"name\":" : ",{\"name\":");
		first = false;
		legal_name(g->b, fs[i].name);
		sr_buf_adds(g->b, ",\"type\":");
		value(g, &fs[i].type, fs[i].type.ndims, fs[i].nullable);
		if (fs[i].nullable)
			sr_buf_adds(g->b, ",\"default\":null");
		sr_buf_addc(g->b, '}');
	}
	sr_buf_addc(g->b, ']');
}

bool
sr_table_avro(sr_buf *b, const trib_sr_table *t, trib_sr_table_part part,
			  char *errbuf, size_t errlen)
{
	avro_gen	g = {.b = b, .errbuf = errbuf, .errlen = errlen};
	char	   *ns = t->namespace_ ? legal_dotted(t->namespace_) : NULL;
	sr_buf		name = {0};

	if (t->namespace_ != NULL && ns == NULL)
		return sr_err(errbuf, errlen, "out of memory");
	g.ns = ns;
	sr_buf_adds(&name, t->name);
	if (part == TRIB_SR_KEY)
		sr_buf_adds(&name, "_key");
	sr_buf_adds(b, "{\"type\":\"record\",\"name\":");
	legal_name(b, name.data ? name.data : "");
	if (ns != NULL)
	{
		sr_buf_adds(b, ",\"namespace\":");
		sr_buf_json_str(b, ns, strlen(ns));
	}
	sr_buf_adds(b, ",\"fields\":");
	fields(&g, t->fields, t->nfields, part, t->name);
	sr_buf_addc(b, '}');
	if (name.oom)
		b->oom = true;
	sr_buf_free(&name);
	for (size_t i = 0; i < g.nrecords; i++)
		free(g.records[i]);
	free(g.records);
	free(ns);
	return !g.failed;
}
