/*
 * sr_table_json.c: the JSON Schema of a table's rows, describing the
 * values exactly as the output plugin writes them (docs/PLUGIN.md,
 * "Values"): integers with their range, numeric with its precision and
 * scale as maximum/minimum/multipleOf, "NaN"/"Infinity" strings beside
 * floating numbers (not for a type marked `finite`: MySQL writes none), strings with their length limits, embedded JSON as
 * any value.  The object is closed (additionalProperties false), NOT NULL
 * columns are required and a nullable column is a oneOf with null, so
 * that under BACKWARD adding a nullable column, widening a type (int to
 * bigint, varchar(n) to text, numeric(10,2) to numeric(12,2)) and dropping
 * NOT NULL are compatible, while narrowing, adding a NOT NULL column or
 * dropping a column are not.
 */
#include <string.h>

#include "sr_table.h"

#define NAN_STRINGS "{\"type\":\"string\",\"enum\":[\"NaN\",\"Infinity\",\"-Infinity\"]}"

static void object(sr_buf *b, const trib_sr_field *fields, size_t n, trib_sr_table_part part);

/* The largest numeric(p,s) value, s >= 0: numeric(5,2) is 999.99,
 * numeric(2,4) is 0.0099. */
static void
decimal_max(sr_buf *b, int p, int s)
{
	if (p > s)
		for (int i = 0; i < p - s; i++)
			sr_buf_addc(b, '9');
	else
		sr_buf_addc(b, '0');
	if (s > 0)
		sr_buf_addc(b, '.');
	for (int i = 0; i < s; i++)
		sr_buf_addc(b, i < s - p ? '0' : '9');
}

/* The largest numeric(p,s) value, s < 0: numeric(3,-2) is 99900. */
static void
decimal_max_neg(sr_buf *b, int p, int s)
{
	for (int i = 0; i < p; i++)
		sr_buf_addc(b, '9');
	for (int i = 0; i < -s; i++)
		sr_buf_addc(b, '0');
}

/* numeric(p,s): bounds and step; a negative scale rounds to 10^-s. */
static void
decimal(sr_buf *b, const trib_sr_type *t)
{
	int			p = t->precision,
				s = t->scale;

	void		(*max) (sr_buf *, int, int) = s >= 0 ? decimal_max : decimal_max_neg;

	sr_buf_adds(b, "{\"type\":\"number\",\"maximum\":");
	max(b, p, s);
	sr_buf_adds(b, ",\"minimum\":-");
	max(b, p, s);
	sr_buf_adds(b, ",\"multipleOf\":");
	if (s > 0)
	{
		sr_buf_adds(b, "0.");
		for (int i = 1; i < s; i++)
			sr_buf_addc(b, '0');
		sr_buf_addc(b, '1');
	}
	else
	{
		sr_buf_addc(b, '1');
		for (int i = 0; i < -s; i++)
			sr_buf_addc(b, '0');
	}
	sr_buf_addc(b, '}');
	/* a constrained numeric holds NaN but not the infinities */
	if (!t->finite)
		sr_buf_adds(b, ",{\"type\":\"string\",\"enum\":[\"NaN\"]}");
}

static void
string_schema(sr_buf *b, const char *extra)
{
	sr_buf_printf(b, "{\"type\":\"string\"%s}", extra);
}

/* The alternatives of one scalar value, comma-separated; how many. */
static int
scalar(sr_buf *b, const trib_sr_type *t)
{
	switch (t->kind)
	{
		case TRIB_SR_K_BOOL:
			sr_buf_adds(b, "{\"type\":\"boolean\"}");
			return 1;
		case TRIB_SR_K_INT16:
			sr_buf_adds(b, "{\"type\":\"integer\",\"minimum\":-32768,\"maximum\":32767}");
			return 1;
		case TRIB_SR_K_INT32:
			sr_buf_adds(b, "{\"type\":\"integer\",\"minimum\":-2147483648,\"maximum\":2147483647}");
			return 1;
		case TRIB_SR_K_INT64:
			sr_buf_adds(b, "{\"type\":\"integer\",\"minimum\":-9223372036854775808,"
						"\"maximum\":9223372036854775807}");
			return 1;
		case TRIB_SR_K_UINT32:
			sr_buf_adds(b, "{\"type\":\"integer\",\"minimum\":0,\"maximum\":4294967295}");
			return 1;
		case TRIB_SR_K_FLOAT32:
		case TRIB_SR_K_FLOAT64:
			if (t->finite)
				break;
			sr_buf_adds(b, "{\"type\":\"number\"}," NAN_STRINGS);
			return 2;
		case TRIB_SR_K_DECIMAL:
			if (t->precision <= 0)
			{
				if (t->finite)
					break;
				sr_buf_adds(b, "{\"type\":\"number\"}," NAN_STRINGS);
				return 2;
			}
			decimal(b, t);
			return t->finite ? 1 : 2;
		case TRIB_SR_K_MONEY:
			sr_buf_adds(b, "{\"type\":\"number\"}");
			return 1;
		case TRIB_SR_K_VARCHAR:
			if (t->length >= 0)
				sr_buf_printf(b, "{\"type\":\"string\",\"maxLength\":%d}", (int) t->length);
			else
				string_schema(b, "");
			return 1;
		case TRIB_SR_K_CHAR:
			sr_buf_printf(b, "{\"type\":\"string\",\"minLength\":%d,\"maxLength\":%d}",
						  (int) t->length, (int) t->length);
			return 1;
		case TRIB_SR_K_BIT:
			sr_buf_printf(b, "{\"type\":\"string\",\"pattern\":\"^[01]*$\",\"minLength\":%d,"
						  "\"maxLength\":%d}", (int) t->length, (int) t->length);
			return 1;
		case TRIB_SR_K_VARBIT:
			if (t->length >= 0)
				sr_buf_printf(b, "{\"type\":\"string\",\"pattern\":\"^[01]*$\",\"maxLength\":%d}",
							  (int) t->length);
			else
				string_schema(b, ",\"pattern\":\"^[01]*$\"");
			return 1;
		case TRIB_SR_K_DATE:
			string_schema(b, ",\"format\":\"date\"");
			return 1;
		case TRIB_SR_K_TIMETZ:
			string_schema(b, ",\"format\":\"time\"");
			return 1;
		case TRIB_SR_K_TIMESTAMPTZ:
			string_schema(b, ",\"format\":\"date-time\"");
			return 1;
		case TRIB_SR_K_INTERVAL:
			string_schema(b, ",\"format\":\"duration\"");
			return 1;
		case TRIB_SR_K_UUID:
			string_schema(b, ",\"format\":\"uuid\"");
			return 1;
		case TRIB_SR_K_JSON:
			sr_buf_adds(b, "{}");
			return 0;			/* any value, null included */
		case TRIB_SR_K_ENUM:
			if (t->nlabels == 0)
				break;
			sr_buf_adds(b, "{\"type\":\"string\",\"enum\":[");
			for (size_t i = 0; i < t->nlabels; i++)
			{
				if (i > 0)
					sr_buf_addc(b, ',');
				sr_buf_json_str(b, t->labels[i], strlen(t->labels[i]));
			}
			sr_buf_adds(b, "]}");
			return 1;
		case TRIB_SR_K_COMPOSITE:
			if (t->nfields == 0)
			{
				sr_buf_adds(b, "{\"type\":\"object\"}");
				return 1;
			}
			sr_buf_addc(b, '{');
			object(b, t->fields, t->nfields, TRIB_SR_VALUE);
			sr_buf_addc(b, '}');
			return 1;
		default:
			break;
	}
	if (t->finite && (t->kind == TRIB_SR_K_FLOAT32 || t->kind == TRIB_SR_K_FLOAT64 ||
					  t->kind == TRIB_SR_K_DECIMAL))
	{
		sr_buf_adds(b, "{\"type\":\"number\"}");
		return 1;
	}
	string_schema(b, "");		/* text, bytea (base64 or hex), time,
								 * timestamp, xml, inet, ... */
	return 1;
}

/* A value of type t with `dims` array dimensions left, nullable or not. */
static void
value(sr_buf *b, const trib_sr_type *t, int dims, bool nullable)
{
	sr_buf		alt = {0};
	int			n;

	if (dims > 0)
	{
		sr_buf_adds(&alt, "{\"type\":\"array\",\"items\":");
		/* inner dimensions are arrays; array elements may be NULL */
		value(&alt, t, dims - 1, dims == 1);
		sr_buf_addc(&alt, '}');
		n = 1;
	}
	else
		n = scalar(&alt, t);
	if (alt.oom)
		b->oom = true;
	if (n == 0 || (n == 1 && !nullable))
		sr_buf_add(b, alt.data, alt.len);
	else
	{
		sr_buf_adds(b, nullable ? "{\"oneOf\":[{\"type\":\"null\"}," : "{\"oneOf\":[");
		sr_buf_add(b, alt.data, alt.len);
		sr_buf_adds(b, "]}");
	}
	sr_buf_free(&alt);
}

/* A closed object of the fields of `part`. */
static void
object(sr_buf *b, const trib_sr_field *fields, size_t n, trib_sr_table_part part)
{
	bool		first = true;

	sr_buf_adds(b, "\"type\":\"object\",\"additionalProperties\":false,\"properties\":{");
	for (size_t i = 0; i < n; i++)
	{
		if (!sr_table_wants(&fields[i], part))
			continue;
		if (!first)
			sr_buf_addc(b, ',');
		first = false;
		sr_buf_json_str(b, fields[i].name, strlen(fields[i].name));
		sr_buf_addc(b, ':');
		value(b, &fields[i].type, fields[i].type.ndims, fields[i].nullable);
	}
	sr_buf_adds(b, "},\"required\":[");
	first = true;
	for (size_t i = 0; i < n; i++)
	{
		if (!sr_table_wants(&fields[i], part) || fields[i].nullable)
			continue;
		if (!first)
			sr_buf_addc(b, ',');
		first = false;
		sr_buf_json_str(b, fields[i].name, strlen(fields[i].name));
	}
	sr_buf_addc(b, ']');
}

bool
sr_table_json(sr_buf *b, const trib_sr_table *t, trib_sr_table_part part,
			  char *errbuf, size_t errlen)
{
	sr_buf		title = {0};

	for (size_t i = 0; i < t->nfields; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(t->fields[i].name, t->fields[j].name) == 0)
				return sr_err(errbuf, errlen, "table %s has two columns named \"%s\"", t->name,
							  t->fields[i].name);
	sr_buf_printf(&title, "%s%s%s%s", t->namespace_ ? t->namespace_ : "",
				  t->namespace_ ? "." : "", t->name, part == TRIB_SR_KEY ? " key" : "");
	sr_buf_adds(b, "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"title\":");
	sr_buf_json_str(b, title.data ? title.data : "", title.len);
	sr_buf_addc(b, ',');
	object(b, t->fields, t->nfields, part);
	sr_buf_addc(b, '}');
	if (title.oom)
		b->oom = true;
	sr_buf_free(&title);
	return true;
}
