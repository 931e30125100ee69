/*
 * tribsr.h: the public interface of the tributary schema registry library
 * (libtribsr.a), shared by the daemon (consumer/) and the PostgreSQL
 * extension (pg_ext/).
 *
 * What it does, and nothing more:
 *   1. parses a schema document, JSON Schema or Avro, into an immutable
 *      trib_sr_schema with a canonical form and fingerprints, so that
 *      "the same schema registered twice" is a byte comparison or a hash
 *      lookup;
 *   2. checks a new schema against the previous versions of a subject under
 *      a Confluent compatibility level and returns every violation;
 *   3. builds the JSON Schema and the Avro schema of a table from its
 *      columns (the relation record of a source).
 * It keeps no catalog, opens no connection and does no I/O: storing
 * versions, ids and configuration is the caller's business (the extension's
 * catalog, the daemon's cache).
 *
 * Conventions:
 *   - No global state: every function works on its arguments only, so the
 *     library is safe from several threads on distinct objects, and one
 *     trib_sr_schema may be read from several threads at once.
 *   - Errors: a function that can fail returns NULL or false and writes a
 *     NUL-terminated English sentence into errbuf (errlen bytes, may be 0).
 *     It never aborts, never prints and never exits; out of memory is an
 *     error like any other ("out of memory").
 *   - Memory: everything the library returns comes from malloc and is
 *     released by the matching *_free function named in its comment; a
 *     `const` pointer returned by an accessor is owned by the object it
 *     came from and lives as long as that object.  Inputs are never kept:
 *     the library copies what it needs.  (The extension copies results into
 *     palloc'd memory and frees the library's objects before it can
 *     ereport.)
 */
#ifndef TRIBSR_H
#define TRIBSR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C"
{
#endif

/* ---------------------------------------------------------------------
 * Schema formats and compatibility levels
 * ------------------------------------------------------------------- */

typedef enum trib_sr_format
{
	TRIB_SR_JSON = 1,			/* JSON Schema (Confluent's "JSON") */
	TRIB_SR_AVRO = 2			/* Apache Avro (Confluent's "AVRO") */
} trib_sr_format;

/* "JSON" or "AVRO" (Confluent's schemaType names). */
const char *trib_sr_format_name(trib_sr_format fmt);

/* Parse "JSON" / "AVRO" (case-insensitive; "JSONSCHEMA" is accepted as
 * JSON); false for anything else. */
bool		trib_sr_format_parse(const char *name, trib_sr_format *out);

typedef enum trib_sr_level
{
	TRIB_SR_NONE = 0,
	TRIB_SR_BACKWARD,			/* new can read data written with the latest */
	TRIB_SR_BACKWARD_TRANSITIVE,	/* ... with every previous version */
	TRIB_SR_FORWARD,			/* the latest can read data written with new */
	TRIB_SR_FORWARD_TRANSITIVE, /* every previous version can read new data */
	TRIB_SR_FULL,				/* BACKWARD and FORWARD */
	TRIB_SR_FULL_TRANSITIVE		/* BACKWARD_TRANSITIVE and FORWARD_TRANSITIVE */
} trib_sr_level;

/* The Confluent name, e.g. "BACKWARD_TRANSITIVE". */
const char *trib_sr_level_name(trib_sr_level level);

/* Parse a Confluent level name (case-insensitive); false for anything else. */
bool		trib_sr_level_parse(const char *name, trib_sr_level *out);

/* ---------------------------------------------------------------------
 * Schemas
 * ------------------------------------------------------------------- */

typedef struct trib_sr_schema trib_sr_schema;

#define TRIB_SR_SHA256_LEN 32

/*
 * Parse and validate a schema document of `len` bytes (need not be
 * NUL-terminated).  JSON Schema: any JSON value that is a schema (object or
 * boolean); every "$ref" must be local ("#", "#/definitions/x", "#/$defs/x",
 * any JSON pointer into the document) and resolve.  Avro: validated with
 * libavro (avro-c), then by the rules libavro leaves out (duplicate field
 * names, enum symbols and union branches, defaults that do not match their
 * type, an enum default that is not a symbol).
 * Returns a new schema, freed with trib_sr_schema_free(), or NULL with the
 * reason in errbuf.
 */
trib_sr_schema *trib_sr_schema_parse(trib_sr_format fmt, const char *text, size_t len,
									 char *errbuf, size_t errlen);

void		trib_sr_schema_free(trib_sr_schema *schema);

trib_sr_format trib_sr_schema_format(const trib_sr_schema *schema);

/*
 * The canonical form: the document with object keys sorted (by UTF-8
 * bytes), no whitespace, strings re-escaped minimally and numbers exactly
 * as written.  Two documents with the same canonical form are the same
 * schema: this is the identity a registry compares ("registering an
 * identical schema again returns the existing id").  It keeps every
 * attribute, so an Avro schema that only adds a default or an alias is a
 * new version (the Parsing Canonical Form would merge them, see below).
 * NUL-terminated; *len (when not NULL) gets its length.  Owned by schema.
 */
const char *trib_sr_schema_canonical(const trib_sr_schema *schema, size_t *len);

/* SHA-256 of the canonical form (TRIB_SR_SHA256_LEN bytes), computed once at
 * parse time.  Owned by schema. */
const unsigned char *trib_sr_schema_sha256(const trib_sr_schema *schema);

/* The same as 64 lower-case hex digits and a NUL into out[65]. */
void		trib_sr_schema_sha256_hex(const trib_sr_schema *schema, char out[65]);

/* A 64-bit hash for hash tables: the first 8 bytes of the SHA-256, big
 * endian.  Free to call (no hashing at call time). */
uint64_t	trib_sr_schema_hash(const trib_sr_schema *schema);

/*
 * Avro only: the Parsing Canonical Form of the Avro specification (names
 * fully qualified, only name/type/fields/symbols/items/values/size, in that
 * order, primitives as bare strings, no whitespace) and its CRC-64-AVRO
 * (Rabin) fingerprint, the one Avro's single-object encoding carries.  Two
 * Avro schemas with the same PCF read and write the same binary data.
 * NULL / false for a JSON Schema.  The PCF is owned by schema.
 */
const char *trib_sr_schema_avro_pcf(const trib_sr_schema *schema, size_t *len);
bool		trib_sr_schema_avro_crc64(const trib_sr_schema *schema, uint64_t *fingerprint);

/* CRC-64-AVRO of arbitrary bytes (the Avro specification's fingerprint
 * algorithm); exposed for tests and for single-object encoding. */
uint64_t	trib_sr_crc64_avro(const void *data, size_t len);

/* ---------------------------------------------------------------------
 * Compatibility
 * ------------------------------------------------------------------- */

/* Who reads whom in one violation. */
typedef enum trib_sr_direction
{
	TRIB_SR_NEW_READS_OLD = 1,	/* a BACKWARD check: new schema is the reader */
	TRIB_SR_OLD_READS_NEW = 2	/* a FORWARD check: the previous one reads */
} trib_sr_direction;

typedef struct trib_sr_violation
{
	/* Where, in the schema document that is the subject of the difference:
	 * JSON Schema "#/properties/a/maxLength" (Confluent's form), Avro
	 * "/fields/1/type" (Avro's SchemaCompatibility form). */
	const char *path;
	/* A stable identifier: Confluent's JSON Schema difference names
	 * (TYPE_CHANGED, REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL, ...)
	 * or Avro's incompatibility names (READER_FIELD_MISSING_DEFAULT_VALUE,
	 * TYPE_MISMATCH, MISSING_UNION_BRANCH, MISSING_ENUM_SYMBOLS,
	 * NAME_MISMATCH, FIXED_SIZE_MISMATCH), and SCHEMA_TYPE_CHANGED when
	 * the formats differ.  docs/SCHEMA_REGISTRY.md lists them all. */
	const char *kind;
	/* A full English sentence naming the path, what changed and why it
	 * breaks the reader. */
	const char *message;
	/* Index into the `previous` array given to trib_sr_check(): which
	 * previous version this violation is against. */
	size_t		previous;
	trib_sr_direction direction;
} trib_sr_violation;

typedef struct trib_sr_violations trib_sr_violations;

/*
 * Check `new_schema` against `previous[0 .. nprevious-1]` (the subject's
 * versions in version order, oldest first) under `level`:
 *   NONE                  nothing is checked;
 *   BACKWARD              new reads data written with previous[nprevious-1];
 *   FORWARD               previous[nprevious-1] reads data written with new;
 *   FULL                  both;
 *   *_TRANSITIVE          the same against every previous version.
 * Every violation is returned, not only the first, for every version
 * checked (latest first, as Confluent checks them).  A schema of another
 * format than a previous one is one SCHEMA_TYPE_CHANGED violation.
 * Returns a list (possibly empty: compatible), freed with
 * trib_sr_violations_free(), or NULL with errbuf set (out of memory, or a
 * schema too large to compare within the library's work limit).
 */
trib_sr_violations *trib_sr_check(const trib_sr_schema *new_schema,
								  const trib_sr_schema *const *previous, size_t nprevious,
								  trib_sr_level level, char *errbuf, size_t errlen);

size_t		trib_sr_violations_count(const trib_sr_violations *list);

/* The i-th violation (i < count), owned by the list. */
const trib_sr_violation *trib_sr_violations_get(const trib_sr_violations *list, size_t i);

void		trib_sr_violations_free(trib_sr_violations *list);

/* ---------------------------------------------------------------------
 * Table schemas
 *
 * A source describes each column with a source-neutral trib_sr_type; the
 * library maps that to JSON Schema and Avro.  PostgreSQL fills it with
 * trib_sr_pg_type(); another source (MySQL, MongoDB) adds its own small
 * mapping to the same kinds and needs no change here.  The mapping of
 * every kind is in docs/SCHEMA_REGISTRY.md.
 * ------------------------------------------------------------------- */

typedef enum trib_sr_kind
{
	TRIB_SR_K_STRING = 0,		/* text, and anything unknown */
	TRIB_SR_K_BOOL,
	TRIB_SR_K_INT16,
	TRIB_SR_K_INT32,
	TRIB_SR_K_INT64,
	TRIB_SR_K_UINT32,			/* PostgreSQL oid, xid */
	TRIB_SR_K_FLOAT32,
	TRIB_SR_K_FLOAT64,
	TRIB_SR_K_DECIMAL,			/* precision/scale, or unbounded (-1) */
	TRIB_SR_K_MONEY,
	TRIB_SR_K_VARCHAR,			/* length = maximum characters */
	TRIB_SR_K_CHAR,				/* blank-padded, length = exact characters */
	TRIB_SR_K_BYTES,
	TRIB_SR_K_DATE,
	TRIB_SR_K_TIME,
	TRIB_SR_K_TIMETZ,
	TRIB_SR_K_TIMESTAMP,
	TRIB_SR_K_TIMESTAMPTZ,
	TRIB_SR_K_INTERVAL,
	TRIB_SR_K_UUID,
	TRIB_SR_K_JSON,				/* json, jsonb: embedded JSON values */
	TRIB_SR_K_XML,
	TRIB_SR_K_BIT,				/* length = exact bits */
	TRIB_SR_K_VARBIT,			/* length = maximum bits, or -1 */
	TRIB_SR_K_INET,				/* inet, cidr */
	TRIB_SR_K_MACADDR,			/* macaddr, macaddr8 */
	TRIB_SR_K_ENUM,				/* labels optional */
	TRIB_SR_K_COMPOSITE,		/* fields optional */
	TRIB_SR_K_TEXTUAL			/* a type sent as its text output: tsvector,
								 * ranges, geometric types, user-defined */
} trib_sr_kind;

typedef struct trib_sr_field trib_sr_field;

typedef struct trib_sr_type
{
	trib_sr_kind kind;
	int32_t		length;			/* VARCHAR/CHAR/BIT/VARBIT; -1 = no limit */
	int32_t		precision;		/* DECIMAL; -1 = unbounded numeric */
	int32_t		scale;			/* DECIMAL; -1 when precision is -1 */
	int			ndims;			/* array dimensions, 0 for a scalar */
	/* FLOAT32/FLOAT64/DECIMAL: the source never writes NaN or the
	 * infinities (MySQL), so a value is a JSON number only */
	bool		finite;
	/* ENUM/COMPOSITE/TEXTUAL: the type's name as the source spells it
	 * ("public.mood"); may be NULL.  COMPOSITE names its Avro record. */
	const char *name;
	/* ENUM: the labels in order, or NULL/0 when unknown. */
	const char *const *labels;
	size_t		nlabels;
	/* COMPOSITE: the attributes, or NULL/0 when unknown (then the value is
	 * any JSON object, and a string of JSON text in Avro). */
	const trib_sr_field *fields;
	size_t		nfields;
} trib_sr_type;

struct trib_sr_field
{
	const char *name;			/* column name, any characters */
	trib_sr_type type;
	bool		nullable;		/* false for NOT NULL */
	bool		key;			/* part of the key (primary or replica
								 * identity key) */
};

/*
 * Map a PostgreSQL type to a trib_sr_type, from the type name as
 * format_type() prints it ("character varying(20)", "numeric(12,2)",
 * "timestamp(3) with time zone", "integer[]", "public.mood") or as the
 * catalog names it ("varchar", "int4", "_int4", "bpchar"), with `typmod`
 * (the raw atttypmod, -1 when unknown) used when the name carries no
 * modifier.  An array type sets ndims (format_type prints one "[]" whatever
 * the dimensions; pass the attndims you know in `ndims`, or 0 to take
 * it from the name).  A name it does not know is TRIB_SR_K_TEXTUAL (sent as
 * its text output, as the plugin does for enums and user types) with
 * type->name pointing into `type_name`, so `type_name` must outlive *out.
 * Fails only on a malformed modifier.
 */
bool		trib_sr_pg_type(const char *type_name, int32_t typmod, int ndims,
							trib_sr_type *out, char *errbuf, size_t errlen);

/*
 * Map a MySQL/MariaDB column to a trib_sr_type, from its DATA_TYPE
 * ("int", "decimal") and its COLUMN_TYPE ("int(10) unsigned",
 * "decimal(12,2)", "enum('a','b')"; "json" for MariaDB's JSON alias), or
 * NULL when only the DATA_TYPE is known (then signs, scales and members
 * are the type's widest).  The kinds match the JSON the daemon's MySQL
 * source writes (docs/MYSQL.md).  *zero_null is set for the temporal
 * types whose zero value the source writes as null even in a NOT NULL
 * column: make such a field nullable.  An ENUM's labels ("" first, the
 * server's value for an invalid member) are allocated: release the type
 * with trib_sr_type_release().  Fails only on a malformed modifier.
 */
bool		trib_sr_mysql_type(const char *data_type, const char *column_type,
							   trib_sr_type *out, bool *zero_null, char *errbuf,
							   size_t errlen);

/* Free what trib_sr_mysql_type() allocated in *t (its labels); a type from
 * trib_sr_pg_type() has nothing to free, so this may be called on any. */
void		trib_sr_type_release(trib_sr_type *t);

/*
 * The trib_sr_type of a column of a source ("postgresql" or NULL, "mysql",
 * "mongodb"): its `type` through trib_sr_pg_type() (PostgreSQL, and
 * MongoDB's inferred relations, whose type names are PostgreSQL's), or
 * trib_sr_mysql_type() with its `decl` (MySQL).  *nullable is the
 * column's nullability as the schema must declare it.  Release *out with
 * trib_sr_type_release().
 */
bool		trib_sr_source_type(const char *connector, const char *type, const char *decl,
								bool nullable_in, trib_sr_type *out, bool *nullable,
								char *errbuf, size_t errlen);

typedef struct trib_sr_table
{
	const char *namespace_;		/* the schema (PostgreSQL), database (MySQL) */
	const char *name;			/* the table or collection */
	const trib_sr_field *fields;	/* in column order */
	size_t		nfields;
} trib_sr_table;

/* What trib_sr_table_schema() describes. */
typedef enum trib_sr_table_part
{
	TRIB_SR_VALUE = 0,			/* the row: every column */
	TRIB_SR_KEY = 1				/* the key: the key columns only */
} trib_sr_table_part;

/*
 * The schema of a table's rows (or keys), as a parsed schema of format
 * `fmt`: its document is trib_sr_schema_canonical().  JSON Schema: a closed
 * object ("additionalProperties": false) with one property per column,
 * NOT NULL columns required, nullable ones a oneOf with null.  Avro: a
 * record named after the table (names made Avro-legal by
 * trib_sr_avro_name()) in the namespace of the schema, nullable columns a
 * ["null", T] union defaulting to null.  Fails when two column names
 * map to the same Avro name, or a table has no key columns and KEY is
 * asked.  Returns a schema freed with trib_sr_schema_free(), or NULL.
 */
trib_sr_schema *trib_sr_table_schema(const trib_sr_table *table, trib_sr_format fmt,
									 trib_sr_table_part part, char *errbuf, size_t errlen);

/*
 * An Avro-legal name for `name`: every character outside [A-Za-z0-9_] (each
 * byte of a multi-byte UTF-8 character) becomes '_', and a leading digit,
 * or an empty name, gets a '_' in front.  Writes at most outlen bytes with
 * the NUL; returns the full length it needed (like snprintf).  The Avro
 * sink uses it to find a column's field.
 */
size_t		trib_sr_avro_name(const char *name, char *out, size_t outlen);

#ifdef __cplusplus
}
#endif

#endif							/* TRIBSR_H */
