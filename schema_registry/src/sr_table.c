/*
 * sr_table.c: trib_sr_table_schema() and trib_sr_avro_name(): builds the
 * document of a table's value or key in the format asked for, then parses
 * it as a schema (validating it and computing its canonical form and
 * fingerprints).
 */
#include <string.h>

#include "sr_table.h"

bool
sr_table_wants(const trib_sr_field *f, trib_sr_table_part part)
{
	return part == TRIB_SR_VALUE || f->key;
}

size_t
trib_sr_avro_name(const char *name, char *out, size_t outlen)
{
	size_t		n = 0;
	bool		prefix = name[0] == '\0' || (name[0] >= '0' && name[0] <= '9');

	if (prefix)
	{
		if (outlen > 1)
			out[0] = '_';
		n = 1;
	}
	for (const char *s = name; *s != '\0'; s++, n++)
	{
		char		c = *s;
		bool		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '_';

		if (n + 1 < outlen)
			out[n] = ok ? c : '_';
	}
	if (outlen > 0)
		out[n < outlen ? n : outlen - 1] = '\0';
	return n;
}

trib_sr_schema *
trib_sr_table_schema(const trib_sr_table *t, trib_sr_format fmt, trib_sr_table_part part,
					 char *errbuf, size_t errlen)
{
	sr_buf		b = {0};
	bool		ok;
	size_t		nwanted = 0;
	trib_sr_schema *s;

	if (t == NULL || t->name == NULL || (t->nfields > 0 && t->fields == NULL))
		return sr_err(errbuf, errlen, "trib_sr_table_schema: no table"), NULL;
	for (size_t i = 0; i < t->nfields; i++)
		nwanted += sr_table_wants(&t->fields[i], part);
	if (part == TRIB_SR_KEY && nwanted == 0)
		return sr_err(errbuf, errlen, "table %s%s%s has no key columns",
					  t->namespace_ ? t->namespace_ : "", t->namespace_ ? "." : "", t->name), NULL;
	if (fmt == TRIB_SR_JSON)
		ok = sr_table_json(&b, t, part, errbuf, errlen);
	else if (fmt == TRIB_SR_AVRO)
		ok = sr_table_avro(&b, t, part, errbuf, errlen);
	else
		ok = sr_err(errbuf, errlen, "unknown schema format %d (JSON or AVRO)", (int) fmt);
	if (ok && b.oom)
		ok = sr_err(errbuf, errlen, "out of memory");
	if (!ok)
	{
		sr_buf_free(&b);
		return NULL;
	}
	s = trib_sr_schema_parse(fmt, b.data, b.len, errbuf, errlen);
	sr_buf_free(&b);
	return s;
}
