/*-------------------------------------------------------------------------
 *
 * values.c
 *		Turning one Datum into one JSON value.
 *
 * trib_typeinfo_build() runs once per column when a relation enters the
 * cache: it strips domains, picks a value kind and, for types without a fast
 * path, resolves the output function into an FmgrInfo.  The per-row path,
 * trib_value_append(), then does no catalog lookups at all; this is where
 * wal2json spends most of its time (a syscache lookup per column per row).
 *
 * The mapping, documented in docs/PLUGIN.md:
 *	- integers, oid, float, numeric: JSON numbers.  NaN and +-Infinity are
 *	  the strings "NaN", "Infinity", "-Infinity" (never null, never lossy).
 *	  Numeric is written with all its digits; money is converted to numeric.
 *	- bool: true/false.  json: embedded as is; jsonb: embedded, written by
 *	  jsonbout.c (JsonbToCString's bytes) or JsonbToCString.
 *	- bytea: base64 (default) or hex string.
 *	- date, time, timetz, timestamp, timestamptz: ISO 8601 strings,
 *	  independent of DateStyle and TimeZone; timestamptz in UTC with "Z".
 *	- interval: ISO 8601 duration, e.g. "P1Y2M3DT4H5M6.5S".
 *	- arrays: JSON arrays (nested for several dimensions) of the element
 *	  type's JSON values.
 *	- composite types: JSON objects keyed by attribute name.
 *	- everything else (enums, ranges, uuid, inet, bit, user-defined types):
 *	  the type's text output as a JSON string.
 *	- domains: as their base type.
 *
 * json and jsonb values that are the JSON literal null read like SQL NULL;
 * trib_json_text_is_null() tells them apart from the written text (cheap:
 * only the ends of the value are looked at), and trib_json_array_append()
 * finds them among the elements of a json[] or jsonb[].  records.c lists
 * them in "json_nulls".
 *
 * Memory: anything allocated here lands in the caller's current context,
 * the plugin's per-change context, which is reset after every change.
 *
 *-------------------------------------------------------------------------
 */
#include "tributary.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/cash.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

/* Build the output info for values of type typid, allocated in cxt. */
TribTypeInfo *
trib_typeinfo_build(Oid typid, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	TribTypeInfo *ti = palloc0(sizeof(TribTypeInfo));
	Oid			base = getBaseType(typid);
	Oid			elem;

	ti->typid = typid;
	ti->basetypid = base;
	get_typlenbyval(base, &ti->typlen, &ti->typbyval);

	switch (base)
	{
		case INT2OID:
			ti->kind = TV_INT2;
			break;
		case INT4OID:
			ti->kind = TV_INT4;
			break;
		case INT8OID:
			ti->kind = TV_INT8;
			break;
		case OIDOID:
			ti->kind = TV_OID;
			break;
		case FLOAT4OID:
			ti->kind = TV_FLOAT4;
			break;
		case FLOAT8OID:
			ti->kind = TV_FLOAT8;
			break;
		case NUMERICOID:
			ti->kind = TV_NUMERIC;
			break;
		case CASHOID:
			ti->kind = TV_MONEY;
			break;
		case BOOLOID:
			ti->kind = TV_BOOL;
			break;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			ti->kind = TV_TEXT;
			break;
		case NAMEOID:
			ti->kind = TV_NAME;
			break;
		case JSONOID:
			ti->kind = TV_JSON;
			break;
		case JSONBOID:
			ti->kind = TV_JSONB;
			break;
		case BYTEAOID:
			ti->kind = TV_BYTEA;
			break;
		case DATEOID:
			ti->kind = TV_DATE;
			break;
		case TIMEOID:
			ti->kind = TV_TIME;
			break;
		case TIMETZOID:
			ti->kind = TV_TIMETZ;
			break;
		case TIMESTAMPOID:
			ti->kind = TV_TIMESTAMP;
			break;
		case TIMESTAMPTZOID:
			ti->kind = TV_TIMESTAMPTZ;
			break;
		case INTERVALOID:
			ti->kind = TV_INTERVAL;
			break;
		default:
			if (OidIsValid(elem = get_element_type(base)))
			{
				int16		l;
				bool		b;

				ti->kind = TV_ARRAY;
				ti->elem = trib_typeinfo_build(elem, cxt);
				get_typlenbyvalalign(elem, &l, &b, &ti->elmalign);
			}
			else if (type_is_rowtype(base))
				ti->kind = TV_COMPOSITE;
			else
			{
				Oid			outfn;
				bool		isvarlena;

				ti->kind = TV_OUTPUT;
				getTypeOutputInfo(base, &outfn, &isvarlena);
				fmgr_info_cxt(outfn, &ti->outfunc, cxt);
			}
			break;
	}
	MemoryContextSwitchTo(old);
	return ti;
}

/* Append a float, with non-finite values as strings. */
static void
append_float8(StringInfo out, double d)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];
	int			n;

	if (isnan(d))
		appendStringInfoString(out, "\"NaN\"");
	else if (isinf(d))
		appendStringInfoString(out, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	else
	{
		n = double_to_shortest_decimal_buf(d, buf);
		trib_append(out, buf, n);
	}
}

/* float4 keeps its own shortest representation (0.1f is "0.1"). */
static void
append_float4(StringInfo out, float f)
{
	char		buf[FLOAT_SHORTEST_DECIMAL_LEN];
	int			n;

	if (isnan(f) || isinf(f))
		append_float8(out, (double) f);
	else
	{
		n = float_to_shortest_decimal_buf(f, buf);
		trib_append(out, buf, n);
	}
}

/* Append numeric text: a number, or "NaN"/"Infinity"/"-Infinity". */
static void
append_numeric_text(StringInfo out, const char *s)
{
	if (isdigit((unsigned char) s[0]) ||
		(s[0] == '-' && isdigit((unsigned char) s[1])))
		appendStringInfoString(out, s);
	else
		trib_json_string(out, s, strlen(s));
}

/* Append a time with time zone as "HH:MM:SS[.f]+HH:MM[:SS]". */
static void
append_timetz(StringInfo out, TimeTzADT *t)
{
	StringInfoData tmp;
	int			off = -t->zone; /* zone is seconds west of UTC */
	int			aoff = abs(off);

	initStringInfo(&tmp);
	trib_json_time(&tmp, t->time);
	/* tmp holds "HH:MM:SS"; drop its closing quote and add the offset. */
	trib_append(out, tmp.data, tmp.len - 1);
	appendStringInfo(out, "%c%02d:%02d", off < 0 ? '-' : '+',
					 aoff / SECS_PER_HOUR, (aoff / SECS_PER_MINUTE) % 60);
	if (aoff % SECS_PER_MINUTE)
		appendStringInfo(out, ":%02d", aoff % SECS_PER_MINUTE);
	appendStringInfoCharMacro(out, '"');
	pfree(tmp.data);
}

/* Append an interval as an ISO 8601 duration. */
static void
append_interval(StringInfo out, Interval *span)
{
	struct pg_itm itm;
	char		buf[MAXDATELEN + 1];

	interval2itm(*span, &itm);
	EncodeInterval(&itm, INTSTYLE_ISO_8601, buf);
	trib_json_string(out, buf, strlen(buf));
}

/*
 * Is s[0..len) -- a json or jsonb value as written -- the JSON literal
 * null?  JSON white space around it is allowed (json keeps its input
 * text); anything longer is an object, array, string or number.
 */
bool
trib_json_text_is_null(const char *s, int len)
{
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
					   s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	while (len > 4 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
	{
		s++;
		len--;
	}
	return len == 4 && memcmp(s, "null", 4) == 0;
}

/*
 * Append one dimension (and those below it) of a deconstructed array.
 * json_nulls, when not NULL, collects ",i" for every element that is the
 * JSON literal null (i: its position among all elements, row-major).
 */
static int
append_array_dim(StringInfo out, int dim, int ndim, const int *dims,
				 Datum *elems, bool *nulls, int idx, const TribTypeInfo *elem,
				 const TribOptions *opts, StringInfo json_nulls)
{
	int			i;

	appendStringInfoCharMacro(out, '[');
	for (i = 0; i < dims[dim]; i++)
	{
		if (i > 0)
			appendStringInfoCharMacro(out, ',');
		if (dim + 1 < ndim)
			idx = append_array_dim(out, dim + 1, ndim, dims, elems, nulls,
								   idx, elem, opts, json_nulls);
		else
		{
			int			start = out->len;

			if (nulls[idx])
				trib_append(out, "null", 4);
			else
			{
				trib_value_append(out, elems[idx], elem, opts);
				if (json_nulls &&
					trib_json_text_is_null(out->data + start, out->len - start))
					appendStringInfo(json_nulls, ",%d", idx);
			}
			idx++;
		}
	}
	appendStringInfoCharMacro(out, ']');
	return idx;
}

/* Append an array value as a (nested) JSON array; json_nulls as above. */
static void
append_array(StringInfo out, Datum value, const TribTypeInfo *ti,
			 const TribOptions *opts, StringInfo json_nulls)
{
	ArrayType  *arr = DatumGetArrayTypeP(value);
	int			ndim = ARR_NDIM(arr);
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (ndim == 0)
	{
		trib_append(out, "[]", 2);
		return;
	}
	deconstruct_array(arr, ARR_ELEMTYPE(arr), ti->elem->typlen,
					  ti->elem->typbyval, ti->elmalign, &elems, &nulls, &n);
	append_array_dim(out, 0, ndim, ARR_DIMS(arr), elems, nulls, 0,
					 ti->elem, opts, json_nulls);
}

/*
 * Append an array of json or jsonb (ti: TV_ARRAY) and add ",i" to
 * json_nulls for each element that is JSON null (see append_array_dim).
 */
void
trib_json_array_append(StringInfo out, Datum value, const TribTypeInfo *ti,
					   const TribOptions *opts, StringInfo json_nulls)
{
	append_array(out, value, ti, opts, json_nulls);
}

/*
 * Append a composite value as a JSON object.  Composite types can change
 * under ALTER TYPE without touching the tables that use them, so the
 * attribute list is taken from the value's own type id every time; this is
 * the slow path and rare.
 */
static void
append_composite(StringInfo out, Datum value, const TribOptions *opts)
{
	HeapTupleHeader td = DatumGetHeapTupleHeader(value);
	TupleDesc	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(td),
											  HeapTupleHeaderGetTypMod(td));
	HeapTupleData tmp;
	Datum	   *values = palloc(desc->natts * sizeof(Datum));
	bool	   *isnull = palloc(desc->natts * sizeof(bool));
	bool		first = true;
	int			i;

	tmp.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tmp.t_self);
	tmp.t_tableOid = InvalidOid;
	tmp.t_data = td;
	heap_deform_tuple(&tmp, desc, values, isnull);

	appendStringInfoCharMacro(out, '{');
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		if (!first)
			appendStringInfoCharMacro(out, ',');
		first = false;
		trib_json_string(out, NameStr(att->attname),
						 strlen(NameStr(att->attname)));
		appendStringInfoCharMacro(out, ':');
		if (isnull[i])
			trib_append(out, "null", 4);
		else
			trib_value_append(out, values[i],
							  trib_typeinfo_build(att->atttypid,
												  CurrentMemoryContext),
							  opts);
	}
	appendStringInfoCharMacro(out, '}');
	ReleaseTupleDesc(desc);
}

/* Append a varlena's bytes after detoasting. */
static inline void
detoast_bytes(Datum value, const char **data, int *len)
{
	struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(value));

	*data = VARDATA_ANY(v);
	*len = VARSIZE_ANY_EXHDR(v);
}

/* Append the JSON value of a non-null Datum of the type ti describes. */
void
trib_value_append(StringInfo out, Datum value, const TribTypeInfo *ti,
				  const TribOptions *opts)
{
	const char *data;
	int			len;

	switch (ti->kind)
	{
		case TV_INT2:
			trib_json_int64(out, DatumGetInt16(value));
			break;
		case TV_INT4:
			trib_json_int64(out, DatumGetInt32(value));
			break;
		case TV_INT8:
			trib_json_int64(out, DatumGetInt64(value));
			break;
		case TV_OID:
			trib_json_int64(out, DatumGetObjectId(value));
			break;
		case TV_FLOAT4:
			append_float4(out, DatumGetFloat4(value));
			break;
		case TV_FLOAT8:
			append_float8(out, DatumGetFloat8(value));
			break;
		case TV_NUMERIC:
			append_numeric_text(out,
								DatumGetCString(DirectFunctionCall1(numeric_out, value)));
			break;
		case TV_MONEY:
			append_numeric_text(out,
								DatumGetCString(DirectFunctionCall1(numeric_out,
																	DirectFunctionCall1(cash_numeric, value))));
			break;
		case TV_BOOL:
			if (DatumGetBool(value))
				trib_append(out, "true", 4);
			else
				trib_append(out, "false", 5);
			break;
		case TV_TEXT:
			detoast_bytes(value, &data, &len);
			trib_json_string(out, data, len);
			break;
		case TV_NAME:
			data = NameStr(*DatumGetName(value));
			trib_json_string(out, data, strlen(data));
			break;
		case TV_JSON:
			detoast_bytes(value, &data, &len);
			trib_json_raw_text(out, data, len);
			break;
		case TV_JSONB:
			{
				Jsonb	   *jb = DatumGetJsonbP(value);
				int			start = out->len;

				if (trib_jsonb_append(out, jb))
					break;
				(void) JsonbToCString(out, &jb->root, VARSIZE(jb));
				/* Non-ASCII only appears inside string literals. */
				if (GetDatabaseEncoding() != PG_UTF8)
				{
					char	   *copy = pnstrdup(out->data + start, out->len - start);

					out->len = start;
					out->data[start] = '\0';
					trib_json_raw_text(out, copy, strlen(copy));
				}
				break;
			}
		case TV_BYTEA:
			detoast_bytes(value, &data, &len);
			trib_json_bytes(out, data, len, opts->bytea_encoding);
			break;
		case TV_DATE:
			trib_json_date(out, DatumGetDateADT(value));
			break;
		case TV_TIME:
			trib_json_time(out, DatumGetTimeADT(value));
			break;
		case TV_TIMETZ:
			append_timetz(out, DatumGetTimeTzADTP(value));
			break;
		case TV_TIMESTAMP:
			trib_json_timestamptz(out, DatumGetTimestamp(value), false);
			break;
		case TV_TIMESTAMPTZ:
			trib_json_timestamptz(out, DatumGetTimestampTz(value), true);
			break;
		case TV_INTERVAL:
			append_interval(out, DatumGetIntervalP(value));
			break;
		case TV_ARRAY:
			append_array(out, value, ti, opts, NULL);
			break;
		case TV_COMPOSITE:
			append_composite(out, value, opts);
			break;
		case TV_OUTPUT:
			{
				char	   *s = OutputFunctionCall((FmgrInfo *) &ti->outfunc, value);

				trib_json_string(out, s, strlen(s));
				break;
			}
	}
}
