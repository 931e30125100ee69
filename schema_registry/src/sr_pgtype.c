/*
 * sr_pgtype.c: PostgreSQL type names to the library's source-neutral
 * column types (trib_sr_type).
 *
 * It reads a name the way format_type() prints it ("character
 * varying(20)[]", "timestamp(3) with time zone", "numeric(12,2)") or the
 * way the catalog names it ("varchar", "int4", "_int4", "bpchar"), with
 * the raw typmod for the modifier when the name has none.  What it does
 * not know (enums, domains over unknown types, ranges, user-defined
 * types) is TEXTUAL, the plugin's text output as a string.  Nothing here
 * touches PostgreSQL: the daemon calls it on relation records and the
 * extension on catalog rows.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sr_int.h"

/* How a type reads its modifier. */
typedef enum modkind
{
	M_NONE,						/* ignored (time precision, ...) */
	M_LENGTH,					/* varchar/bpchar: typmod = n + 4 */
	M_BITS,						/* bit/varbit: typmod = n */
	M_NUMERIC					/* (p,s): typmod = ((p << 16) | s) + 4 */
} modkind;

static const struct pgtype
{
	const char *name;
	trib_sr_kind kind;
	modkind		mod;
	int32_t		length;			/* fixed length when no modifier */
}			pgtypes[] = {
	{"smallint", TRIB_SR_K_INT16, M_NONE, -1},
	{"int2", TRIB_SR_K_INT16, M_NONE, -1},
	{"integer", TRIB_SR_K_INT32, M_NONE, -1},
	{"int", TRIB_SR_K_INT32, M_NONE, -1},
	{"int4", TRIB_SR_K_INT32, M_NONE, -1},
	{"bigint", TRIB_SR_K_INT64, M_NONE, -1},
	{"int8", TRIB_SR_K_INT64, M_NONE, -1},
	{"oid", TRIB_SR_K_UINT32, M_NONE, -1},
	{"xid", TRIB_SR_K_UINT32, M_NONE, -1},
	{"cid", TRIB_SR_K_UINT32, M_NONE, -1},
	{"regclass", TRIB_SR_K_TEXTUAL, M_NONE, -1},
	{"real", TRIB_SR_K_FLOAT32, M_NONE, -1},
	{"float4", TRIB_SR_K_FLOAT32, M_NONE, -1},
	{"double precision", TRIB_SR_K_FLOAT64, M_NONE, -1},
	{"float8", TRIB_SR_K_FLOAT64, M_NONE, -1},
	{"float", TRIB_SR_K_FLOAT64, M_NONE, -1},
	{"numeric", TRIB_SR_K_DECIMAL, M_NUMERIC, -1},
	{"decimal", TRIB_SR_K_DECIMAL, M_NUMERIC, -1},
	{"money", TRIB_SR_K_MONEY, M_NONE, -1},
	{"boolean", TRIB_SR_K_BOOL, M_NONE, -1},
	{"bool", TRIB_SR_K_BOOL, M_NONE, -1},
	{"text", TRIB_SR_K_STRING, M_NONE, -1},
	{"citext", TRIB_SR_K_STRING, M_NONE, -1},
	{"character varying", TRIB_SR_K_VARCHAR, M_LENGTH, -1},
	{"varchar", TRIB_SR_K_VARCHAR, M_LENGTH, -1},
	{"character", TRIB_SR_K_CHAR, M_LENGTH, 1},
	{"bpchar", TRIB_SR_K_CHAR, M_LENGTH, 1},
	{"\"char\"", TRIB_SR_K_CHAR, M_NONE, 1},
	{"char", TRIB_SR_K_CHAR, M_LENGTH, 1},
	{"name", TRIB_SR_K_VARCHAR, M_NONE, 63},
	{"bytea", TRIB_SR_K_BYTES, M_NONE, -1},
	{"date", TRIB_SR_K_DATE, M_NONE, -1},
	{"time without time zone", TRIB_SR_K_TIME, M_NONE, -1},
	{"time", TRIB_SR_K_TIME, M_NONE, -1},
	{"time with time zone", TRIB_SR_K_TIMETZ, M_NONE, -1},
	{"timetz", TRIB_SR_K_TIMETZ, M_NONE, -1},
	{"timestamp without time zone", TRIB_SR_K_TIMESTAMP, M_NONE, -1},
	{"timestamp", TRIB_SR_K_TIMESTAMP, M_NONE, -1},
	{"timestamp with time zone", TRIB_SR_K_TIMESTAMPTZ, M_NONE, -1},
	{"timestamptz", TRIB_SR_K_TIMESTAMPTZ, M_NONE, -1},
	{"interval", TRIB_SR_K_INTERVAL, M_NONE, -1},
	{"uuid", TRIB_SR_K_UUID, M_NONE, -1},
	{"json", TRIB_SR_K_JSON, M_NONE, -1},
	{"jsonb", TRIB_SR_K_JSON, M_NONE, -1},
	{"xml", TRIB_SR_K_XML, M_NONE, -1},
	{"bit", TRIB_SR_K_BIT, M_BITS, 1},
	{"bit varying", TRIB_SR_K_VARBIT, M_BITS, -1},
	{"varbit", TRIB_SR_K_VARBIT, M_BITS, -1},
	{"inet", TRIB_SR_K_INET, M_NONE, -1},
	{"cidr", TRIB_SR_K_INET, M_NONE, -1},
	{"macaddr", TRIB_SR_K_MACADDR, M_NONE, -1},
	{"macaddr8", TRIB_SR_K_MACADDR, M_NONE, -1},
};

/* Split "base(mods) rest[]..." into a normalized base name (lower case,
 * single spaces, modifier and array brackets removed), the modifier
 * numbers and the array dimensions written. */
typedef struct parsed
{
	char		base[128];
	long		mods[2];
	int			nmods;
	int			dims;
} parsed;

static bool
parse_mods(const char *s, size_t n, parsed *p)
{
	char		buf[64];
	char	   *q,
			   *end;

	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	for (q = buf; p->nmods < 2;)
	{
		p->mods[p->nmods++] = strtol(q, &end, 10);
		while (*end == ' ')
			end++;
		if (end == q || (*end != ',' && *end != '\0'))
			return false;
		if (*end == '\0')
			return true;
		q = end + 1;
	}
	return false;
}

static bool
split_name(const char *name, parsed *p)
{
	size_t		j = 0;
	bool		quoted = false,
				space = false;

	memset(p, 0, sizeof(*p));
	for (const char *s = name; *s != '\0'; s++)
	{
		if (*s == '"')
			quoted = !quoted;
		if (!quoted && *s == '(')
		{
			const char *close = strchr(s, ')');

			if (close == NULL || p->nmods > 0 || !parse_mods(s + 1, (size_t) (close - s - 1), p))
				return false;
			s = close;
			continue;
		}
		if (!quoted && *s == '[')
		{
			const char *close = strchr(s, ']');

			if (close == NULL)
				return false;
			p->dims++;
			s = close;
			continue;
		}
		if (!quoted && isspace((unsigned char) *s))
		{
			space = j > 0;
			continue;
		}
		if (j + 2 >= sizeof(p->base))
			return false;
		if (space)
			p->base[j++] = ' ';
		space = false;
		p->base[j++] = quoted ? *s : (char) tolower((unsigned char) *s);
	}
	p->base[j] = '\0';
	return !quoted;
}

/* Apply the modifier (from the name, else the typmod). */
static bool
apply_mod(const struct pgtype *t, const parsed *p, int32_t typmod, trib_sr_type *out)
{
	long		a = p->nmods > 0 ? p->mods[0] : -1,
				b = p->nmods > 1 ? p->mods[1] : 0;

	out->length = t->length;
	if (t->mod == M_NONE)
		return true;
	if (p->nmods == 0 && typmod >= 0)
	{
		if (t->mod == M_LENGTH && typmod >= 4)
			a = typmod - 4;
		else if (t->mod == M_BITS)
			a = typmod;
		else if (t->mod == M_NUMERIC && typmod >= 4)
		{
			a = ((typmod - 4) >> 16) & 0xffff;
			b = (((typmod - 4) & 0x7ff) ^ 1024) - 1024;	/* signed 11 bits */
		}
	}
	if (t->mod == M_NUMERIC)
	{
		if (a < 0)
			return true;		/* unbounded */
		if (a < 1 || a > 1000 || b < -1000 || b > 1000)
			return false;
		out->precision = (int32_t) a;
		out->scale = (int32_t) b;
		return true;
	}
	if (a >= 0)
	{
		if (a < 1 || a > 10485760 || p->nmods > 1)
			return false;
		out->length = (int32_t) a;
	}
	return true;
}

bool
trib_sr_pg_type(const char *type_name, int32_t typmod, int ndims, trib_sr_type *out,
				char *errbuf, size_t errlen)
{
	parsed		p;
	const char *base;

	memset(out, 0, sizeof(*out));
	out->length = out->precision = out->scale = -1;
	if (type_name == NULL || !split_name(type_name, &p))
		return sr_err(errbuf, errlen, "cannot read the type name \"%s\"",
					  type_name ? type_name : "(null)");
	base = p.base;
	/* catalog array names: _int4 */
	if (base[0] == '_' && base[1] != '\0')
	{
		base++;
		p.dims = p.dims ? p.dims : 1;
	}
	out->ndims = ndims > 0 ? ndims : p.dims;
	/* "interval year to month", "interval(3)" */
	if (strncmp(base, "interval", 8) == 0 && (base[8] == '\0' || base[8] == ' '))
		base = "interval";
	for (size_t i = 0; i < sizeof(pgtypes) / sizeof(pgtypes[0]); i++)
	{
		if (strcmp(pgtypes[i].name, base) != 0)
			continue;
		out->kind = pgtypes[i].kind;
		if (out->kind == TRIB_SR_K_FLOAT64 && strcmp(base, "float") == 0 &&
			p.nmods == 1 && p.mods[0] >= 1 && p.mods[0] <= 24)
			out->kind = TRIB_SR_K_FLOAT32;	/* float(p), p <= 24, is real */
		else if (!apply_mod(&pgtypes[i], &p, typmod, out))
			return sr_err(errbuf, errlen, "bad type modifier in \"%s\"", type_name);
		return true;
	}
	out->kind = TRIB_SR_K_TEXTUAL;
	out->name = type_name;
	return true;
}
