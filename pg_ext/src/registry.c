/*-------------------------------------------------------------------------
 *
 * registry.c
 *		The schema registry's C SQL functions: the bridge from SQL to
 *		libtribsr (../schema_registry), the checker the daemon links too.
 *
 * Two pure functions, no catalog access (registry_table.c reads a
 * relation's columns); the catalog and its locking live
 * in SQL (sql/tributary--0.3--0.4.sql), whose register_schema and
 * check_compatibility call them:
 *
 *	tributary.schema_canonical(schema_type, schema)
 *		-> (schema_type, canonical, fingerprint): parse and validate one
 *		document, return its type's Confluent name, its canonical form and
 *		the SHA-256 of that form in hex.
 *	tributary.schema_violations(schema_type, schema, previous_types[],
 *		previous[], level)
 *		-> one row per violation: (previous, direction, path, kind,
 *		message), previous being the 1-based index into previous[].
 *
 * Memory and errors.  The library allocates with malloc and reports errors
 * through errbuf; it never longjmps.  Its objects are freed in PG_FINALLY
 * blocks, so an ereport (ours, or an out-of-memory in palloc while copying
 * its results) cannot leak them.  Every result handed to PostgreSQL is
 * palloc'd.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "registry.h"

PG_FUNCTION_INFO_V1(trib_schema_canonical);
PG_FUNCTION_INFO_V1(trib_schema_violations);

/* Report a name that is none of `accepted` (a sentence listing them). */
static void pg_attribute_noreturn()
unknown_name(const char *what, const char *name, const char *accepted)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("tributary: unknown %s \"%s\"", what, name),
			 errhint("%s", accepted)));
}

/* The schema format named by `name`, or an ERROR listing what is accepted. */
trib_sr_format
trib_registry_format_arg(text *name)
{
	char	   *s = text_to_cstring(name);
	trib_sr_format fmt;

	if (!trib_sr_format_parse(s, &fmt))
		unknown_name("schema type", s, "Accepted schema types: JSON, AVRO.");
	pfree(s);
	return fmt;
}

/* The compatibility level named by `name`, or an ERROR listing them. */
static trib_sr_level
level_arg(text *name)
{
	char	   *s = text_to_cstring(name);
	trib_sr_level level;

	if (!trib_sr_level_parse(s, &level))
		unknown_name("compatibility level", s,
					 "Accepted levels: NONE, BACKWARD, BACKWARD_TRANSITIVE, "
					 "FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE.");
	pfree(s);
	return level;
}

/*
 * Parse `len` bytes of `doc` as a `fmt` schema.  On failure the caller gets
 * NULL and the library's sentence in errbuf; nothing is raised here, so the
 * caller decides when (after freeing what it holds).
 */
static trib_sr_schema *
parse_doc(trib_sr_format fmt, const char *doc, size_t len, char *errbuf)
{
	return trib_sr_schema_parse(fmt, doc, len, errbuf, SR_ERRLEN);
}

/* The text of a jsonb value (its canonical jsonb output), palloc'd. */
static char *
jsonb_text(Jsonb *jb)
{
	return JsonbToCString(NULL, &jb->root, VARSIZE(jb));
}

/*
 * schema_canonical(schema_type text, schema jsonb)
 *		RETURNS (schema_type text, canonical text, fingerprint text)
 */
Datum
trib_schema_canonical(PG_FUNCTION_ARGS)
{
	trib_sr_format fmt = trib_registry_format_arg(PG_GETARG_TEXT_PP(0));
	char	   *doc = jsonb_text(PG_GETARG_JSONB_P(1));
	char		err[SR_ERRLEN];
	trib_sr_schema *s;
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	char		hex[65];

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "tributary: schema_canonical must return a record");
	s = parse_doc(fmt, doc, strlen(doc), err);
	if (s == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tributary: invalid %s schema: %s",
						trib_sr_format_name(fmt), err)));
	PG_TRY();
	{
		values[0] = CStringGetTextDatum(trib_sr_format_name(fmt));
		values[1] = CStringGetTextDatum(trib_sr_schema_canonical(s, NULL));
		trib_sr_schema_sha256_hex(s, hex);
		values[2] = CStringGetTextDatum(hex);
	}
	PG_FINALLY();
	{
		trib_sr_schema_free(s);
	}
	PG_END_TRY();
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc),
													  values, nulls)));
}

/* The non-null text elements of a one-dimensional text[], palloc'd. */
static char **
text_array_arg(ArrayType *arr, const char *what, int *n)
{
	Datum	   *elems;
	bool	   *enulls;
	char	  **out;
	int			i;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("tributary: %s must be a one-dimensional array", what)));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &enulls, n);
	out = palloc(sizeof(char *) * (*n + 1));
	for (i = 0; i < *n; i++)
	{
		if (enulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("tributary: %s must not contain nulls", what)));
		out[i] = TextDatumGetCString(elems[i]);
	}
	return out;
}

/* The library's schemas of a check, freed together. */
typedef struct CheckInput
{
	trib_sr_schema *new_schema;
	trib_sr_schema **previous;
	int			nprevious;
	trib_sr_violations *result;
} CheckInput;

/* Free whatever the library allocated for one check. */
static void
check_input_free(CheckInput *in)
{
	int			i;

	trib_sr_violations_free(in->result);
	trib_sr_schema_free(in->new_schema);
	for (i = 0; i < in->nprevious; i++)
		trib_sr_schema_free(in->previous[i]);
}

/*
 * Parse the previous versions and run the check; on any failure fill err
 * and return false (the caller frees `in` and raises).  `which` gets the
 * 1-based index of a previous version that did not parse, or 0.
 */
static bool
run_check(CheckInput *in, char **types, char **docs, trib_sr_level level,
		  char *err, int *which)
{
	int			i;

	*which = 0;
	for (i = 0; i < in->nprevious; i++)
	{
		trib_sr_format fmt = trib_registry_format_arg(cstring_to_text(types[i]));

		in->previous[i] = parse_doc(fmt, docs[i], strlen(docs[i]), err);
		if (in->previous[i] == NULL)
		{
			*which = i + 1;
			return false;
		}
	}
	in->result = trib_sr_check(in->new_schema,
							   (const trib_sr_schema *const *) in->previous,
							   in->nprevious, level, err, SR_ERRLEN);
	return in->result != NULL;
}

/* Append one row per violation of `list` to the SRF's tuplestore. */
static void
emit_violations(ReturnSetInfo *rsinfo, const trib_sr_violations *list)
{
	size_t		i;

	for (i = 0; i < trib_sr_violations_count(list); i++)
	{
		const trib_sr_violation *v = trib_sr_violations_get(list, i);
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		values[0] = Int32GetDatum((int32) v->previous + 1);
		values[1] = CStringGetTextDatum(v->direction == TRIB_SR_NEW_READS_OLD ?
										"BACKWARD" : "FORWARD");
		values[2] = CStringGetTextDatum(v->path);
		values[3] = CStringGetTextDatum(v->kind);
		values[4] = CStringGetTextDatum(v->message);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * schema_violations(schema_type text, schema jsonb, previous_types text[],
 *					 previous text[], level text)
 *		RETURNS SETOF (previous int, direction text, path text, kind text,
 *					   message text)
 *
 * previous[] holds the subject's versions oldest first (canonical
 * documents), previous_types[] their schema types.  direction is BACKWARD
 * when the new schema is the reader, FORWARD when the previous one is.
 */
Datum
trib_schema_violations(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	trib_sr_format fmt = trib_registry_format_arg(PG_GETARG_TEXT_PP(0));
	char	   *doc = jsonb_text(PG_GETARG_JSONB_P(1));
	trib_sr_level level = level_arg(PG_GETARG_TEXT_PP(4));
	int			ntypes,
				ndocs,
				which;
	char	  **types = text_array_arg(PG_GETARG_ARRAYTYPE_P(2), "previous_types", &ntypes);
	char	  **docs = text_array_arg(PG_GETARG_ARRAYTYPE_P(3), "previous", &ndocs);
	char		err[SR_ERRLEN];
	CheckInput	in = {0};
	bool		ok;

	if (ntypes != ndocs)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tributary: previous_types has %d elements and previous %d; they must match",
						ntypes, ndocs)));
	InitMaterializedSRF(fcinfo, 0);

	in.new_schema = parse_doc(fmt, doc, strlen(doc), err);
	if (in.new_schema == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tributary: invalid %s schema: %s",
						trib_sr_format_name(fmt), err)));
	in.previous = palloc0(sizeof(trib_sr_schema *) * (ndocs + 1));
	in.nprevious = ndocs;
	PG_TRY();
	{
		ok = run_check(&in, types, docs, level, err, &which);
		if (ok)
			emit_violations(rsinfo, in.result);
	}
	PG_FINALLY();
	{
		check_input_free(&in);
	}
	PG_END_TRY();
	if (!ok && which > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tributary: previous schema %d is invalid: %s", which, err)));
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("tributary: compatibility check failed: %s", err)));
	return (Datum) 0;
}
