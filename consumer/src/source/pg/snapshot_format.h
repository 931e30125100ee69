/*
 * snapshot_format.h: turning PostgreSQL text output into the exact JSON
 * the tributary output plugin writes for the same value.
 *
 * Design.  A snapshot reads rows with ordinary queries, so values arrive
 * as the types' text output; a stream event carries what the plugin's
 * values.c wrote.  A downstream consumer must not see any difference
 * between op `r` and op `c`, so this module re-creates the plugin's
 * mapping (docs/PLUGIN.md) from the text form, type by type:
 *
 *   int2/int4/int8/oid     the text, as a JSON number
 *   float4/float8          the text (shortest exact with extra_float_digits
 *                          >= 1, the plugin's algorithm); NaN, Infinity,
 *                          -Infinity as strings
 *   numeric, money         the numeric text (money is selected as numeric)
 *   bool                   t/f -> true/false
 *   json, jsonb            embedded as is; trib_snapfmt_column() also
 *                          tells which are JSON null (the plugin's
 *                          json_nulls)
 *   bytea                  "\x..." (bytea_output = hex) -> base64 or hex
 *   date, timestamp        ISO 8601 with 'T', astronomical years as the
 *                          plugin writes them ("-0043", "+10000")
 *   timestamptz            converted to UTC from the ISO text's offset,
 *                          with "Z" (any session TimeZone works)
 *   timetz                 offset always as +HH:MM[:SS]
 *   time, interval         the text (IntervalStyle = iso_8601)
 *   arrays                 the array literal parsed, nested JSON arrays of
 *                          the element type's values (bounds dropped)
 *   composite types        the record literal parsed, a JSON object keyed
 *                          by attribute name
 *   everything else        the text as a JSON string
 *
 * Strings follow the plugin's rules for the database encoding: UTF8 and
 * SQL_ASCII keep valid UTF-8 as is (SQL_ASCII writes other bytes as
 * \u00XX), any other encoding is read as UTF-8 (client_encoding) and
 * written with every non-ASCII character as a \u escape.
 *
 * The session that reads must use DateStyle ISO, IntervalStyle iso_8601,
 * extra_float_digits 1 and bytea_output hex (snapshot.c sets them).
 *
 * Inputs come from the server but are still treated as untrusted: every
 * malformed literal is an error, never a crash (fuzz/fuzz_snapshot_format.c).
 *
 * The module's prefix is trib_snapfmt_ (TRIB_SNAPFMT_ for constants).
 *
 * Ownership: a type tree (trib_snapfmt_type) owns its children and names;
 * trib_snapfmt_type_free() releases it.
 */
#ifndef TRIB_SNAPSHOT_FORMAT_H
#define TRIB_SNAPSHOT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

typedef enum trib_snapfmt_kind
{
	TRIB_SNAPFMT_KIND_INT,			/* raw number */
	TRIB_SNAPFMT_KIND_FLOAT,		/* raw number or "NaN"/"Infinity"/"-Infinity" */
	TRIB_SNAPFMT_KIND_NUMERIC,		/* numeric and money */
	TRIB_SNAPFMT_KIND_BOOL,
	TRIB_SNAPFMT_KIND_STRING,		/* text types, time, interval, other types */
	TRIB_SNAPFMT_KIND_JSON,			/* json, jsonb */
	TRIB_SNAPFMT_KIND_BYTEA,
	TRIB_SNAPFMT_KIND_DATE,
	TRIB_SNAPFMT_KIND_TIMESTAMP,
	TRIB_SNAPFMT_KIND_TIMESTAMPTZ,
	TRIB_SNAPFMT_KIND_TIMETZ,
	TRIB_SNAPFMT_KIND_ARRAY,
	TRIB_SNAPFMT_KIND_COMPOSITE
} trib_snapfmt_kind;

/* How one value of a column (or element, or attribute) is formatted. */
typedef struct trib_snapfmt_type
{
	trib_snapfmt_kind kind;
	uint32_t	base_oid;		/* after stripping domains */
	bool		money;			/* selected as numeric (SQL cast) */
	char		delim;			/* arrays: the element type's delimiter */
	struct trib_snapfmt_type *elem; /* arrays */
	int			nattrs;			/* composite types */
	char	  **attr_names;
	struct trib_snapfmt_type **attrs;
} trib_snapfmt_type;

/* The database encoding, as far as strings are concerned. */
typedef enum trib_snapfmt_enc
{
	TRIB_SNAPFMT_ENC_UTF8,
	TRIB_SNAPFMT_ENC_SQL_ASCII,
	TRIB_SNAPFMT_ENC_OTHER
} trib_snapfmt_enc;

typedef struct trib_snapfmt_opts
{
	trib_snapfmt_enc encoding;
	bool		bytea_hex;		/* plugin option bytea-encoding=hex */
} trib_snapfmt_opts;

/* The kind of a built-in scalar type OID; TRIB_SNAPFMT_KIND_STRING when
 * not one. */
trib_snapfmt_kind trib_snapfmt_kind_of_oid(uint32_t oid);

/* A new leaf node (arrays and composites are filled in by the caller). */
trib_snapfmt_type *trib_snapfmt_type_new(trib_snapfmt_kind kind, uint32_t base_oid);
void		trib_snapfmt_type_free(trib_snapfmt_type *t);

/*
 * Append the JSON value of one non-null value given as its text output
 * (`len` bytes, no NUL needed).  False with errbuf on text that is not
 * what the type's output function writes.
 */
bool		trib_snapfmt_value(trib_strbuf *out, const char *text, size_t len,
							   const trib_snapfmt_type *t, const trib_snapfmt_opts *o,
							   char *errbuf, size_t errlen);

/*
 * trib_snapfmt_value for a column, with the plugin's JSON null check
 * (docs/PLUGIN.md, json_nulls): *json_null is set when a json or jsonb
 * value is the JSON literal null, and for an array of json or jsonb ",i"
 * is appended to json_nulls for each element that is (i: its position
 * among all elements, row-major).
 */
bool		trib_snapfmt_column(trib_strbuf *out, const char *text, size_t len,
								const trib_snapfmt_type *t, const trib_snapfmt_opts *o,
								trib_strbuf *json_nulls, bool *json_null,
								char *errbuf, size_t errlen);

/* Is a json or jsonb text output the JSON literal null (JSON white space
 * around it allowed)? */
bool		trib_snapfmt_json_is_null(const char *s, size_t len);

/* Append s as a JSON string under the encoding rules above. */
void		trib_snapfmt_string(trib_strbuf *out, const char *s, size_t len,
								trib_snapfmt_enc enc);

#endif							/* TRIB_SNAPSHOT_FORMAT_H */
