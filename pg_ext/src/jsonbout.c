/*-------------------------------------------------------------------------
 *
 * jsonbout.c
 *		Writing a jsonb value as JSON text, straight from its binary layout.
 *
 * A jsonb column is written with the bytes of jsonb's own text output
 * (JsonbToCString): ", " between elements and members, ": " after a key,
 * keys in stored order (jsonb has already sorted them and dropped
 * duplicates), strings escaped as escape_json does, numbers as
 * numeric_out writes them, true/false/null, and a top-level scalar (stored
 * as a one-element "raw scalar" array) without brackets.
 *
 * JsonbToCString walks the value through JsonbIteratorNext, which allocates
 * an iterator per container, fills a JsonbValue per token and copies every
 * string before escaping it.  This file reads the container itself
 * (utils/jsonb.h documents the layout): a header with the count and kind,
 * one JEntry per child -- holding its length, or every JB_OFFSET_STRIDE-th
 * one its end offset -- then the children's data, numerics and nested
 * containers aligned to 4 bytes.  An object stores its keys first, then its
 * values in the same order.  One pass writes it, keeping a running offset.
 *
 * Only the UTF8 database encoding takes this path: there escape_json and
 * trib_json_string() escape the same bytes (quotes, backslashes, control
 * characters; \b \f \n \r \t by name, others as lower-case \u00XX) and copy
 * everything else.  Other encodings, and an entry of a kind this file does
 * not know, go through JsonbToCString (values.c).  The regression test
 * decode_jsonb compares both outputs over many generated values.
 *
 *-------------------------------------------------------------------------
 */
#include "tributary.h"

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"

static bool put_container(StringInfo out, const JsonbContainer *jc);

/* The length of a child whose data starts at off, from its JEntry. */
static inline uint32
entry_len(JEntry je, uint32 off)
{
	return JBE_HAS_OFF(je) ? JBE_OFFLENFLD(je) - off : JBE_OFFLENFLD(je);
}

/* Append one child of a container: base is where the children's data starts. */
static bool
put_entry(StringInfo out, JEntry je, const char *base, uint32 off)
{
	switch (je & JENTRY_TYPEMASK)
	{
		case JENTRY_ISSTRING:
			trib_json_string(out, base + off, entry_len(je, off));
			return true;
		case JENTRY_ISNUMERIC:
			appendStringInfoString(out,
								   DatumGetCString(DirectFunctionCall1(numeric_out,
																	   PointerGetDatum(base + INTALIGN(off)))));
			return true;
		case JENTRY_ISBOOL_FALSE:
			trib_append(out, "false", 5);
			return true;
		case JENTRY_ISBOOL_TRUE:
			trib_append(out, "true", 4);
			return true;
		case JENTRY_ISNULL:
			trib_append(out, "null", 4);
			return true;
		case JENTRY_ISCONTAINER:
			return put_container(out, (const JsonbContainer *) (base + INTALIGN(off)));
		default:
			return false;
	}
}

/* Append an array's elements, ", " between them, in brackets. */
static bool
put_array(StringInfo out, const JsonbContainer *jc, uint32 count)
{
	const char *base = (const char *) &jc->children[count];
	uint32		off = 0;
	uint32		i;

	appendStringInfoCharMacro(out, '[');
	for (i = 0; i < count; i++)
	{
		JEntry		je = jc->children[i];

		if (i > 0)
			trib_append(out, ", ", 2);
		if (!put_entry(out, je, base, off))
			return false;
		off += entry_len(je, off);
	}
	appendStringInfoCharMacro(out, ']');
	return true;
}

/* Append an object's members as "key": value, ", " between them, in braces. */
static bool
put_object(StringInfo out, const JsonbContainer *jc, uint32 count)
{
	const char *base = (const char *) &jc->children[count * 2];
	uint32		koff = 0;
	uint32		voff = count > 0 ? getJsonbOffset(jc, count) : 0;
	uint32		i;

	appendStringInfoCharMacro(out, '{');
	for (i = 0; i < count; i++)
	{
		JEntry		ke = jc->children[i];
		JEntry		ve = jc->children[count + i];

		if (i > 0)
			trib_append(out, ", ", 2);
		if ((ke & JENTRY_TYPEMASK) != JENTRY_ISSTRING)
			return false;
		trib_json_string(out, base + koff, entry_len(ke, koff));
		trib_append(out, ": ", 2);
		if (!put_entry(out, ve, base, voff))
			return false;
		koff += entry_len(ke, koff);
		voff += entry_len(ve, voff);
	}
	appendStringInfoCharMacro(out, '}');
	return true;
}

/* Append a nested container (an array or an object). */
static bool
put_container(StringInfo out, const JsonbContainer *jc)
{
	uint32		count = jc->header & JB_CMASK;

	check_stack_depth();
	if (jc->header & JB_FOBJECT)
		return put_object(out, jc, count);
	if ((jc->header & (JB_FARRAY | JB_FSCALAR)) == JB_FARRAY)
		return put_array(out, jc, count);
	return false;				/* a raw scalar is never nested */
}

/*
 * Append the text of jb, exactly as JsonbToCString would write it, when
 * the database encoding is UTF8 (see the top).  Returns false, with out as
 * it was, when it cannot; the caller then uses JsonbToCString.
 */
bool
trib_jsonb_append(StringInfo out, const Jsonb *jb)
{
	const JsonbContainer *root = &jb->root;
	int			start = out->len;
	bool		ok;

	if (GetDatabaseEncoding() != PG_UTF8)
		return false;
	if (root->header & JB_FSCALAR)
		ok = (root->header & JB_CMASK) == 1 &&
			(root->children[0] & JENTRY_TYPEMASK) != JENTRY_ISCONTAINER &&
			put_entry(out, root->children[0],
					  (const char *) &root->children[1], 0);
	else
		ok = put_container(out, root);
	if (!ok)
	{
		out->len = start;
		out->data[start] = '\0';
	}
	return ok;
}
