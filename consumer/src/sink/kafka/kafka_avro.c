/*
 * kafka_avro.c: the Avro binary of a row (value_format: avro) or of a key
 * (key_format: avro), encoded with avro-c against the Avro schema the
 * schema stage registered for the row's relation (for keys, the
 * relation's key schema, schemas.keys: its key columns only).
 *
 * Design.  A record is written with the schema registered under the id
 * its header carries: the document the schema stage kept for that id
 * (event.h, schema_doc; without one, the relation's own schema built
 * with libtribsr, as the stage would register it).  One cache entry per
 * schema id keeps that document parsed by avro-c, avro-c's generic value
 * class and one reusable value, and each field's kind read from the
 * document's logical types (the Avro type alone cannot tell a date from
 * an int, nor give a decimal's scale).  The fields are matched to the
 * relation's columns by name (as libtribsr makes names legal), once per
 * relation met under the id (the match is kept with a copy of what it
 * read of the relation: each column's name, type, key flags, and the
 * connector; a later event reuses it only when its relation still reads
 * the same, since a relation freed and another built at the same address,
 * or one refilled in place, must not inherit a stale column mapping: that
 * would write values into the wrong fields under a correct-looking id);
 * a field with no column, or a row column
 * with no field, is refused, and so is a value that does not fit its
 * field's type (naming the table, column, id, version, type and value):
 * the bytes never disagree with the id, whatever shape the event has.
 * An event costs a yajl parse of its row, a walk that sets each field,
 * and avro-c's write into a reused buffer behind the 5-byte Confluent
 * header.
 *
 * The row's values are the PostgreSQL source's JSON (docs/PLUGIN.md,
 * "Types"); docs/FORMAT.md, "Wire formats", lists how each is written in
 * Avro: dates as days, times and timestamps as microseconds, numeric(p,s)
 * as the decimal's unscaled two's-complement bytes, bytea from base64,
 * json and jsonb as their JSON text, and any other value Avro types as a
 * string that is not a JSON string (unbounded numeric) as its JSON text.
 * A value that does not fit its field (an infinite timestamp, a NaN
 * numeric with a scale, a column left out of the row that is not a
 * string) is an error naming the column, never a silent null.
 *
 * Ownership: the encoder owns its cache and buffer; the bytes returned stay
 * valid until the next call or kfk_avro_free().  One thread.
 */
#include "sink_kafka_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>
#include <openssl/bn.h>
#include <yajl/yajl_tree.h>

#include "base64.h"
#include "decimal.h"
#include "isodate.h"
#include "jsondoc.h"
#include "relation_fields.h"
#include "tribsr.h"
#include "xalloc.h"

typedef struct avro_entry
{
	int64_t		id;
	avro_schema_t schema;		/* the registered record */
	avro_value_iface_t *iface;
	avro_value_t value;
	size_t		nfields;
	trib_sr_kind *lkinds;		/* per field: its logical type's kind, else
								 * TRIB_SR_K_STRING */
	int32_t    *scales;			/* per field: DECIMAL's scale */
	/* the relation last matched to the fields, what the match read of it
	 * (same_shape), and per field: */
	const trib_relation *rel;
	trib_relation *shape;		/* a copy of rel when matched, or NULL */
	char	   *connector;		/* the connector it was matched for */
	int		   *cols;			/* its column (index in rel) */
	trib_sr_kind *kinds;		/* lkinds, or JSON for a json column's string */
} avro_entry;

struct kfk_avro
{
	trib_sr_table_part part;	/* rows, or keys (the key columns only) */
	char	   *placeholder;	/* unchanged TOAST string, or NULL */
	avro_entry *entries;
	size_t		nentries;
	unsigned char *buf;
	size_t		cap;
};

kfk_avro *
kfk_avro_new(const char *placeholder, bool key)
{
	kfk_avro   *a = trib_xcalloc(1, sizeof(*a));

	a->part = key ? TRIB_SR_KEY : TRIB_SR_VALUE;

	a->placeholder = placeholder ? trib_xstrdup(placeholder) : NULL;
	return a;
}

void
kfk_avro_free(kfk_avro *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->nentries; i++)
	{
		avro_value_decref(&a->entries[i].value);
		avro_value_iface_decref(a->entries[i].iface);
		avro_schema_decref(a->entries[i].schema);
		free(a->entries[i].lkinds);
		free(a->entries[i].scales);
		free(a->entries[i].cols);
		free(a->entries[i].kinds);
		trib_relation_free(a->entries[i].shape);
		free(a->entries[i].connector);
	}
	free(a->entries);
	free(a->placeholder);
	free(a->buf);
	free(a);
}

/* ---- the schema of a relation ------------------------------------------ */

/* Has rel a primary key (else its key is its replica identity's)? */
static bool
has_pk(const trib_relation *rel)
{
	for (int i = 0; i < rel->ncolumns; i++)
		if (rel->columns[i].pk)
			return true;
	return false;
}

/* Is column i of rel a key column, as the schema stage marks them? */
static bool
key_column(const trib_relation *rel, bool pk, int i)
{
	return pk ? rel->columns[i].pk : rel->columns[i].identity;
}

/* rel's own Avro document (rows or keys: part), as the schema stage
 * builds it (malloc'd); NULL with errbuf. */
static char *
relation_doc(const char *connector, const trib_relation *rel, trib_sr_table_part part,
			 char *errbuf, size_t errlen)
{
	size_t		n = rel->ncolumns > 0 ? (size_t) rel->ncolumns : 0;
	trib_sr_field *fields = NULL;
	trib_sr_table table;
	trib_sr_schema *schema = NULL;
	char	   *doc = NULL;
	char		e[200];

	if (!trib_relation_fields(rel, connector, false, &fields, errbuf, errlen))
		return NULL;
	table = (trib_sr_table) {rel->schema, rel->table, fields, n};
	schema = trib_sr_table_schema(&table, TRIB_SR_AVRO, part, e, sizeof(e));
	if (schema == NULL)
		snprintf(errbuf, errlen, "%s", e);
	else
		doc = trib_xstrdup(trib_sr_schema_canonical(schema, NULL));
	trib_sr_schema_free(schema);
	trib_relation_fields_free(fields, n);
	return doc;
}

/* The kind a field's type (a union's non-null branch, an array's items)
 * gives by its logicalType, and a decimal's scale; unchanged without one. */
static void
logical_kind(yajl_val t, trib_sr_kind *kind, int32_t *scale)
{
	static const struct
	{
		const char *name;
		trib_sr_kind kind;
	}			logical[] = {
		{"date", TRIB_SR_K_DATE}, {"time-micros", TRIB_SR_K_TIME},
		{"local-timestamp-micros", TRIB_SR_K_TIMESTAMP},
		{"timestamp-micros", TRIB_SR_K_TIMESTAMPTZ}, {"decimal", TRIB_SR_K_DECIMAL},
	};
	const char *items[] = {"items", NULL};
	const char *lt[] = {"logicalType", NULL};
	const char *sc[] = {"scale", NULL};
	yajl_val	v;

	if (YAJL_IS_ARRAY(t))
	{
		for (size_t i = 0; i < t->u.array.len; i++)
			if (!YAJL_IS_STRING(t->u.array.values[i]) ||
				strcmp(t->u.array.values[i]->u.string, "null") != 0)
				logical_kind(t->u.array.values[i], kind, scale);
		return;
	}
	if (!YAJL_IS_OBJECT(t))
		return;
	if ((v = yajl_tree_get(t, items, yajl_t_any)) != NULL)
	{
		logical_kind(v, kind, scale);
		return;
	}
	if ((v = yajl_tree_get(t, lt, yajl_t_string)) == NULL)
		return;
	for (size_t i = 0; i < sizeof(logical) / sizeof(logical[0]); i++)
		if (strcmp(v->u.string, logical[i].name) == 0)
			*kind = logical[i].kind;
	v = yajl_tree_get(t, sc, yajl_t_number);
	*scale = v != NULL && YAJL_IS_INTEGER(v) ? (int32_t) YAJL_GET_INTEGER(v) : 0;
}

/* Each field's logical kind and scale from the document (its fields in
 * the order avro-c numbers them). */
static bool
field_kinds(avro_entry *e, const char *doc, char *errbuf, size_t errlen)
{
	const char *fpath[] = {"fields", NULL};
	const char *tpath[] = {"type", NULL};
	yajl_val	tree = trib_jdoc_parse(doc, errbuf, errlen);
	yajl_val	fields = tree ? yajl_tree_get(tree, fpath, yajl_t_array) : NULL;
	bool		ok = fields != NULL && fields->u.array.len == e->nfields;

	for (size_t i = 0; ok && i < e->nfields; i++)
	{
		e->lkinds[i] = TRIB_SR_K_STRING;
		logical_kind(yajl_tree_get(fields->u.array.values[i], tpath, yajl_t_any),
					 &e->lkinds[i], &e->scales[i]);
	}
	if (tree != NULL && !ok)
		snprintf(errbuf, errlen, "the schema is not an Avro record");
	yajl_tree_free(tree);
	return ok;
}

/* Parse doc, a record schema, into e (id set); false with errbuf. */
static bool
entry_parse(avro_entry *e, const char *doc, char *errbuf, size_t errlen)
{
	if (avro_schema_from_json_length(doc, strlen(doc), &e->schema) != 0)
		return snprintf(errbuf, errlen, "avro-c refused the schema: %s", avro_strerror()),
			false;
	if (!is_avro_record(e->schema))
		return snprintf(errbuf, errlen, "the schema is not an Avro record"), false;
	e->nfields = avro_schema_record_size(e->schema);
	e->lkinds = trib_xcalloc(e->nfields + 1, sizeof(*e->lkinds));
	e->scales = trib_xcalloc(e->nfields + 1, sizeof(*e->scales));
	e->cols = trib_xcalloc(e->nfields + 1, sizeof(*e->cols));
	e->kinds = trib_xcalloc(e->nfields + 1, sizeof(*e->kinds));
	if (!field_kinds(e, doc, errbuf, errlen))
		return false;
	e->iface = avro_generic_class_from_schema(e->schema);
	if (e->iface == NULL || avro_generic_value_new(e->iface, &e->value) != 0)
		return snprintf(errbuf, errlen, "avro-c: %s", avro_strerror()), false;
	return true;
}

/* Free what entry_parse made of e. */
static void
entry_clear(avro_entry *e)
{
	if (e->iface != NULL)
		avro_value_iface_decref(e->iface);
	if (e->schema != NULL)
		avro_schema_decref(e->schema);
	free(e->lkinds);
	free(e->scales);
	free(e->cols);
	free(e->kinds);
}

/* The cache entry of schema id->id, parsed from id->doc (or rel's own
 * schema) the first time. */
static avro_entry *
entry_for(kfk_avro *a, const kfk_avro_id *id, const char *connector, const trib_relation *rel,
		  char *errbuf, size_t errlen)
{
	avro_entry	e = {.id = id->id};
	char	   *own = NULL;
	bool		ok;

	for (size_t i = 0; i < a->nentries; i++)
		if (a->entries[i].id == id->id)
			return &a->entries[i];
	if (id->doc == NULL && (own = relation_doc(connector, rel, a->part, errbuf, errlen)) == NULL)
		return NULL;
	ok = entry_parse(&e, id->doc ? id->doc : own, errbuf, errlen);
	free(own);
	if (!ok)
	{
		if (e.iface != NULL && e.value.self != NULL)
			avro_value_decref(&e.value);
		entry_clear(&e);
		return NULL;
	}
	a->entries = trib_xrealloc(a->entries, (a->nentries + 1) * sizeof(*a->entries));
	a->entries[a->nentries] = e;
	return &a->entries[a->nentries++];
}

/* Is column i of rel, by its Avro-legal name, field `name`? */
static bool
column_is_field(const trib_relation *rel, int i, const char *name)
{
	size_t		n = trib_sr_avro_name(rel->columns[i].name, NULL, 0);
	char	   *legal = trib_xmalloc(n + 1);
	bool		same;

	trib_sr_avro_name(rel->columns[i].name, legal, n + 1);
	same = strcmp(legal, name) == 0;
	free(legal);
	return same;
}

/* "schema id N (version V)" of id into buf. */
static const char *
id_text(const kfk_avro_id *id, char *buf, size_t len)
{
	if (id->version > 0)
		snprintf(buf, len, "schema id %lld (version %d)", (long long) id->id, (int) id->version);
	else
		snprintf(buf, len, "schema id %lld", (long long) id->id);
	return buf;
}

/* Equal strings, NULL equal to NULL only. */
static bool
same_text(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Does rel (for connector) read as e's match saw it: the same columns in
 * the same order, with the same names, types and key flags?  Then the
 * mapping holds whatever rel's address history; a few compares per column,
 * against a parse of the row per event. */
static bool
same_shape(const avro_entry *e, const trib_relation *rel, const char *connector)
{
	const trib_relation *s = e->shape;

	if (e->rel != rel || s == NULL || s->ncolumns != rel->ncolumns ||
		!same_text(e->connector, connector))
		return false;
	for (int i = 0; i < rel->ncolumns; i++)
	{
		const trib_column *a = &s->columns[i],
				   *b = &rel->columns[i];

		if (a->pk != b->pk || a->identity != b->identity || a->type_oid != b->type_oid ||
			!same_text(a->name, b->name) || !same_text(a->type, b->type) ||
			!same_text(a->decl, b->decl))
			return false;
	}
	return true;
}

/* Match e's fields to rel's columns (rows: every column; keys: the key
 * columns), remembering rel; false with errbuf when they are not the
 * same set, as after a rule that renames, drops or adds columns. */
static bool
match_relation(const kfk_avro *a, avro_entry *e, const kfk_avro_id *id, const char *connector,
			   const trib_relation *rel, char *errbuf, size_t errlen)
{
	size_t		n = rel->ncolumns > 0 ? (size_t) rel->ncolumns : 0;
	trib_sr_field *fields = NULL;
	bool		pk = has_pk(rel);
	size_t		matched = 0,
				wanted = 0;
	const char *missing = NULL;
	char		idt[64];

	if (!trib_relation_fields(rel, connector, false, &fields, errbuf, errlen))
		return false;
	for (size_t f = 0; f < e->nfields; f++)
	{
		const char *name = avro_schema_record_field_name(e->schema, (int) f);

		e->cols[f] = -1;
		for (int i = 0; i < rel->ncolumns && e->cols[f] < 0; i++)
			if ((a->part == TRIB_SR_VALUE || key_column(rel, pk, i)) &&
				column_is_field(rel, i, name))
				e->cols[f] = i;
		if (e->cols[f] < 0 && missing == NULL)
			missing = name;
		else if (e->cols[f] >= 0)
		{
			matched++;
			e->kinds[f] = e->lkinds[f] == TRIB_SR_K_STRING &&
				fields[e->cols[f]].type.kind == TRIB_SR_K_JSON ? TRIB_SR_K_JSON : e->lkinds[f];
		}
	}
	for (int i = 0; i < rel->ncolumns; i++)
		wanted += a->part == TRIB_SR_VALUE || key_column(rel, pk, i);
	trib_relation_fields_free(fields, n);
	e->rel = missing == NULL && matched == wanted ? rel : NULL;
	trib_relation_free(e->shape);
	free(e->connector);
	e->shape = e->rel != NULL ? trib_relation_copy(rel) : NULL;
	e->connector = e->rel != NULL && connector != NULL ? trib_xstrdup(connector) : NULL;
	if (e->rel == NULL)
		snprintf(errbuf, errlen, "the row's columns are not those of %s (%s%s%s), which the "
				 "schema stage registered before the transform rules (a rule that renames, "
				 "drops or adds columns cannot be written as avro)", id_text(id, idt, sizeof(idt)),
				 missing ? "field " : "a column is not a field", missing ? missing : "",
				 missing ? " is not a column" : "");
	return e->rel != NULL;
}

/* ---- values --------------------------------------------------------------- */

/* "hh:mm[:ss[.ffffff]]" (len bytes) as microseconds since midnight. */
static bool
time_usec(const char *s, size_t len, int64_t *out)
{
	int			h = 0,
				m = 0,
				sec = 0,
				n = 0;
	int64_t		frac = 0;
	size_t		i;

	if (sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2)
		return false;
	i = (size_t) n;
	if (i < len && s[i] == ':')
	{
		if (sscanf(s + i + 1, "%2d%n", &sec, &n) != 1)
			return false;
		i += 1 + (size_t) n;
	}
	if (i < len && s[i] == '.')
	{
		int			digits = 0;

		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++)
			if (digits < 6)
				frac = frac * 10 + (s[i] - '0');
		for (; digits < 6; digits++)
			frac *= 10;
	}
	if (i != len)
		return false;
	*out = ((int64_t) h * 3600 + m * 60 + sec) * 1000000 + frac;
	return true;
}

/* A date ("2024-02-29") as days, a timestamp ("1999-12-31T23:59:59.5",
 * with "Z" for timestamptz) as microseconds since the epoch (lib/isodate
 * reads the date); false for "infinity" and other zones. */
static bool
datetime_value(const char *s, bool date_only, int64_t *out)
{
	size_t		len = strlen(s);
	trib_isodate d;
	int64_t		days,
				usec = 0;

	if (!trib_isodate_parse(s, len, &d) || d.has_time == date_only)
		return false;
	days = trib_isodate_days_from_civil(d.year, d.month, d.day);
	if (date_only)
		return (*out = days), true;
	if ((d.zone_off < len && strcmp(s + d.zone_off, "Z") != 0) ||
		!time_usec(s + d.date_len + 1, d.zone_off - d.date_len - 1, &usec))
		return false;
	*out = days * 86400 * INT64_C(1000000) + usec;
	return true;
}

/* A JSON number at `scale` as Avro's decimal bytes: the unscaled value in
 * big-endian two's complement, as few bytes as hold it (lib/decimal and
 * OpenSSL's BIGNUM do the arithmetic). */
static bool
set_decimal(avro_value_t *v, const char *text, int32_t scale)
{
	trib_dec	d;
	BIGNUM	   *bn = BN_new();
	unsigned char *b = NULL;
	char		e[128];
	int			n,
				start = 0;
	bool		ok = false;

	if (bn == NULL || !trib_dec_parse(text, strlen(text), &d))
	{
		BN_free(bn);
		return false;
	}
	/* a value with more fraction digits than the scale is not this type's */
	if (d.scale <= scale && trib_dec_to_bn(&d, scale, bn, e, sizeof(e)))
	{
		n = BN_num_bytes(bn) + 1;
		b = trib_xmalloc((size_t) n);
		BN_bn2binpad(bn, b, n);
		if (BN_is_negative(bn))
			for (int i = n - 1, carry = 1; i >= 0; i--)
			{
				int			x = (unsigned char) ~b[i] + carry;

				b[i] = (unsigned char) x;
				carry = x >> 8;
			}
		while (start < n - 1 && ((b[start] == 0x00 && b[start + 1] < 0x80) ||
								 (b[start] == 0xff && b[start + 1] >= 0x80)))
			start++;
		ok = avro_value_set_bytes(v, b + start, (size_t) (n - start)) == 0;
	}
	trib_dec_free(&d);
	BN_free(bn);
	free(b);
	return ok;
}

/* A base64 string (the plugin's default bytea-encoding) as bytes. */
static bool
set_base64(avro_value_t *v, const char *s)
{
	size_t		len = strlen(s);
	unsigned char *out = trib_xmalloc(trib_b64_decoded_max(len) + 1);
	size_t		n;
	bool		ok = trib_b64_decode(s, len, TRIB_B64_STD, TRIB_B64_PAD_REQUIRED, out, &n) &&
		avro_value_set_bytes(v, out, n) == 0;

	free(out);
	return ok;
}

/* The JSON text of a value (json, jsonb, numbers in a string field). */
static bool
set_json_text(avro_value_t *v, yajl_val j)
{
	char	   *text = trib_jdoc_dump(j);
	bool		ok = text != NULL && avro_value_set_string(v, text) == 0;

	free(text);
	return ok;
}

/* A float or double: a number, or the plugin's "NaN" / "Infinity" strings. */
static bool
json_double(yajl_val j, double *out)
{
	if (YAJL_IS_NUMBER(j))
		return (*out = YAJL_GET_DOUBLE(j)), true;
	if (!YAJL_IS_STRING(j))
		return false;
	if (strcmp(j->u.string, "NaN") == 0)
		*out = NAN;
	else if (strcmp(j->u.string, "Infinity") == 0)
		*out = INFINITY;
	else if (strcmp(j->u.string, "-Infinity") == 0)
		*out = -INFINITY;
	else
		return false;
	return true;
}

/* An int or long field: an integer, or a date / time / timestamp. */
static bool
set_integer(avro_value_t *v, avro_type_t t, trib_sr_kind kind, yajl_val j)
{
	int64_t		x;

	if (kind == TRIB_SR_K_DATE || kind == TRIB_SR_K_TIMESTAMP || kind == TRIB_SR_K_TIMESTAMPTZ)
	{
		if (!YAJL_IS_STRING(j) || !datetime_value(j->u.string, kind == TRIB_SR_K_DATE, &x))
			return false;
	}
	else if (kind == TRIB_SR_K_TIME)
	{
		if (!YAJL_IS_STRING(j) || !time_usec(j->u.string, strlen(j->u.string), &x))
			return false;
	}
	else if (YAJL_IS_INTEGER(j))
		x = YAJL_GET_INTEGER(j);
	else
		return false;
	if (t == AVRO_INT32 && (x < INT32_MIN || x > INT32_MAX))
		return false;
	return t == AVRO_INT32 ? avro_value_set_int(v, (int32_t) x) == 0
		: avro_value_set_long(v, x) == 0;
}

static bool set_value(avro_value_t *v, trib_sr_kind kind, int32_t scale, yajl_val j);

/* An array field from a JSON array (elements may be nested arrays). */
static bool
set_array(avro_value_t *v, trib_sr_kind kind, int32_t scale, yajl_val j)
{
	if (!YAJL_IS_ARRAY(j))
		return false;
	for (size_t i = 0; i < j->u.array.len; i++)
	{
		avro_value_t elem;

		if (avro_value_append(v, &elem, NULL) != 0 ||
			!set_value(&elem, kind, scale, j->u.array.values[i]))
			return false;
	}
	return true;
}

/* One value of a column of this kind into v (a union takes its branch). */
static bool
set_value(avro_value_t *v, trib_sr_kind kind, int32_t scale, yajl_val j)
{
	avro_value_t branch;
	double		d;

	switch (avro_value_get_type(v))
	{
		case AVRO_UNION:
			return avro_value_set_branch(v, YAJL_IS_NULL(j) ? 0 : 1, &branch) == 0 &&
				(YAJL_IS_NULL(j) ? avro_value_set_null(&branch) == 0
				 : set_value(&branch, kind, scale, j));
		case AVRO_ARRAY:
			return set_array(v, kind, scale, j);
		case AVRO_BOOLEAN:
			return (YAJL_IS_TRUE(j) || YAJL_IS_FALSE(j)) &&
				avro_value_set_boolean(v, YAJL_IS_TRUE(j)) == 0;
		case AVRO_INT32:
		case AVRO_INT64:
			return set_integer(v, avro_value_get_type(v), kind, j);
		case AVRO_FLOAT:
			return json_double(j, &d) && avro_value_set_float(v, (float) d) == 0;
		case AVRO_DOUBLE:
			return json_double(j, &d) && avro_value_set_double(v, d) == 0;
		case AVRO_BYTES:
			if (kind == TRIB_SR_K_DECIMAL)
				return YAJL_IS_NUMBER(j) && set_decimal(v, j->u.number.r, scale);
			return YAJL_IS_STRING(j) && set_base64(v, j->u.string);
		case AVRO_STRING:
			/* json/jsonb: always the JSON text, so "1" and 1 differ */
			if (YAJL_IS_STRING(j) && kind != TRIB_SR_K_JSON)
				return avro_value_set_string(v, j->u.string) == 0;
			return set_json_text(v, j);
		default:
			return false;
	}
}

/* The value of column `name` in the row object, or NULL when absent. */
static yajl_val
row_get(yajl_val row, const char *name)
{
	for (size_t i = 0; i < row->u.object.len; i++)
		if (strcmp(row->u.object.keys[i], name) == 0)
			return row->u.object.values[i];
	return NULL;
}

/* The Avro type of field f (its JSON) into buf. */
static const char *
field_type_text(const avro_entry *e, size_t f, char *buf, size_t len)
{
	avro_schema_t t = avro_schema_record_field_get_by_index(e->schema, (int) f);
	avro_writer_t w = avro_writer_memory(buf, (int64_t) len - 1);
	int64_t		n = avro_schema_to_json(t, w) == 0 ? avro_writer_tell(w) : -1;

	avro_writer_free(w);
	if (n < 0)
		snprintf(buf, len, "(longer than %zu bytes)", len);
	else
		buf[n] = '\0';
	return buf;
}

/* The error of a value j that does not fit field f (column name). */
static bool
misfit(const avro_entry *e, size_t f, const kfk_avro_id *id, const char *name, yajl_val j,
	   char *errbuf, size_t errlen)
{
	char	   *value = trib_jdoc_dump(j);
	char		type[160],
				idt[64];
	bool		cut = value != NULL && strlen(value) > 64;

	snprintf(errbuf, errlen, "column %s: value %.64s%s does not fit field %s of %s, Avro type "
			 "%s (docs/FORMAT.md, \"Wire formats\")", name, value ? value : "?", cut ? "..." : "",
			 avro_schema_record_field_name(e->schema, (int) f), id_text(id, idt, sizeof(idt)),
			 field_type_text(e, f, type, sizeof(type)));
	free(value);
	return false;
}

/* Fill the entry's record from the row (its fields matched to rel);
 * false with errbuf naming the column. */
static bool
fill_record(kfk_avro *a, avro_entry *e, const kfk_avro_id *id, const trib_relation *rel,
			yajl_val row, char *errbuf, size_t errlen)
{
	for (size_t f = 0; f < e->nfields; f++)
	{
		const char *name = rel->columns[e->cols[f]].name;
		yajl_val	j = row_get(row, name);
		avro_value_t field;
		struct yajl_val_s ph = {.type = yajl_t_string};

		if (avro_value_get_by_index(&e->value, f, &field, NULL) != 0)
			return snprintf(errbuf, errlen, "avro-c: %s", avro_strerror()), false;
		if (j == NULL && a->placeholder != NULL)
		{
			/* an unchanged TOAST column: the placeholder where a string
			 * can hold it, as the JSON format writes it */
			ph.u.string = a->placeholder;
			j = &ph;
		}
		if (j == NULL)
			return snprintf(errbuf, errlen, "column %s is not in the row (an unchanged TOAST "
							"value?): an Avro record needs every field (REPLICA IDENTITY "
							"FULL sends it)", name), false;
		if (!set_value(&field, e->kinds[f], e->scales[f], j))
			return misfit(e, f, id, name, j, errbuf, errlen);
	}
	return true;
}

/* Room for n bytes in the output buffer. */
static void
reserve(kfk_avro *a, size_t n)
{
	if (n <= a->cap)
		return;
	a->cap = n < 256 ? 256 : n * 2;
	a->buf = trib_xrealloc(a->buf, a->cap);
}

bool
kfk_avro_encode(kfk_avro *a, const kfk_avro_id *id, const char *connector,
				const trib_relation *rel, const char *row, const unsigned char **out,
				size_t *len, char *errbuf, size_t errlen)
{
	char		e[512],
				idt[64];
	avro_entry *entry = entry_for(a, id, connector, rel, e, sizeof(e));
	yajl_val	tree;
	size_t		size;
	avro_writer_t w;
	bool		ok;

	if (entry == NULL)
		return snprintf(errbuf, errlen, "avro: table %s.%s (%s): %s", rel->schema, rel->table,
						id_text(id, idt, sizeof(idt)), e), false;
	if (!same_shape(entry, rel, connector) &&
		!match_relation(a, entry, id, connector, rel, e, sizeof(e)))
		return snprintf(errbuf, errlen, "avro: table %s.%s: %s", rel->schema, rel->table, e),
			false;
	tree = yajl_tree_parse(row, e, sizeof(e));
	if (tree == NULL || !YAJL_IS_OBJECT(tree))
	{
		yajl_tree_free(tree);
		return snprintf(errbuf, errlen, "avro: table %s.%s: the row is not a JSON object",
						rel->schema, rel->table), false;
	}
	avro_value_reset(&entry->value);
	ok = fill_record(a, entry, id, rel, tree, e, sizeof(e));
	yajl_tree_free(tree);
	if (!ok)
		return snprintf(errbuf, errlen, "avro: table %s.%s: %s", rel->schema, rel->table, e),
			false;
	if (avro_value_sizeof(&entry->value, &size) != 0)
		return snprintf(errbuf, errlen, "avro: %s", avro_strerror()), false;
	reserve(a, size + KFK_WIRE_HEADER);
	kfk_wire_header(a->buf, id->id);
	w = avro_writer_memory((const char *) a->buf + KFK_WIRE_HEADER, (int64_t) size);
	ok = avro_value_write(w, &entry->value) == 0;
	avro_writer_free(w);
	if (!ok)
		return snprintf(errbuf, errlen, "avro: %s", avro_strerror()), false;
	*out = a->buf;
	*len = size + KFK_WIRE_HEADER;
	return true;
}
