/*
 * debezium_schema.c: the Kafka Connect `schema` part of Debezium's
 * records (schemas.enable: true; see debezium.h).
 *
 * Design.  With the JsonConverter's schemas.enable=true every key and
 * value is {"schema":S,"payload":P}.  S is the same for every record of a
 * relation version, and large, so it is rendered once here and cached by
 * debezium_row.c.  The value's S is the Envelope struct
 * "<prefix>.<schema>.<table>.Envelope" with before/after of the struct
 * ".Value" (one field per column: its Connect type, optional when the
 * column is nullable, and the logical type name and parameters of its
 * encoding), the PostgreSQL connector's Source struct, op, ts_ms/ts_us/
 * ts_ns and the transaction block; the key's S is the ".Key" struct of
 * the key columns.  Field order follows the payload the envelope writes.
 * A column's schema follows the same coltype and options as its value
 * (debezium_values.c), so the two cannot disagree.
 */
#include "debezium.h"

#include <stdlib.h>
#include <string.h>


/* Connect types of the types whose values pass as is. */
static const struct
{
	const char *pg;
	const char *connect;
	const char *logical;		/* NULL: none */
}			asis_types[] = {
	{"smallint", "int16", NULL},
	{"integer", "int32", NULL},
	{"bigint", "int64", NULL},
	{"oid", "int64", NULL},
	{"real", "float", NULL},
	{"double precision", "double", NULL},
	{"boolean", "boolean", NULL},
	{"uuid", "string", "io.debezium.data.Uuid"},
	{"xml", "string", "io.debezium.data.Xml"},
	{"ltree", "string", "io.debezium.data.Ltree"},
	{NULL, "string", NULL}		/* text-like: string */
};

/* "type":T[,"name":N,"version":1] */
static void
put_type(trib_strbuf *o, const char *type, const char *logical)
{
	trib_strbuf_printf(o, "\"type\":\"%s\"", type);
	if (logical)
		trib_strbuf_printf(o, ",\"name\":\"%s\",\"version\":1", logical);
}

/* The schema members of a value of PostgreSQL type `pg` passed as is. */
static void
put_asis(trib_strbuf *o, const char *pg)
{
	int			i;
	size_t		n = strcspn(pg, "([");

	for (i = 0; asis_types[i].pg; i++)
		if (strlen(asis_types[i].pg) == n && strncmp(pg, asis_types[i].pg, n) == 0)
			break;
	put_type(o, asis_types[i].connect, asis_types[i].logical);
}

/* A Decimal of the given scale (and precision when known, else -1). */
static void
put_decimal_schema(trib_strbuf *o, int scale, int precision)
{
	put_type(o, "bytes", "org.apache.kafka.connect.data.Decimal");
	trib_strbuf_printf(o, ",\"parameters\":{\"scale\":\"%d\"", scale);
	if (precision > 0)
		trib_strbuf_printf(o, ",\"connect.decimal.precision\":\"%d\"", precision);
	trib_strbuf_addc(o, '}');
}

/* numeric and money by decimal.handling.mode. */
static void
put_numeric(trib_strbuf *o, const trib_dbz_opts *opt, const trib_dbz_coltype *t,
			const char *pg)
{
	if (opt->decimal == TRIB_DBZ_DECIMAL_STRING)
		put_type(o, "string", NULL);
	else if (opt->decimal == TRIB_DBZ_DECIMAL_DOUBLE)
		put_type(o, "double", NULL);
	else if (t->kind == TRIB_DBZ_MONEY)
		put_decimal_schema(o, opt->money_scale, -1);
	else if (t->scale >= 0)
		put_decimal_schema(o, t->scale, strchr(pg, '(') ? atoi(strchr(pg, '(') + 1) : -1);
	else
		trib_strbuf_adds(o, "\"type\":\"struct\",\"fields\":["
						 "{\"type\":\"int32\",\"optional\":false,\"field\":\"scale\"},"
						 "{\"type\":\"bytes\",\"optional\":false,\"field\":\"value\"}],"
						 "\"name\":\"io.debezium.data.VariableScaleDecimal\","
						 "\"version\":1,\"doc\":\"Variable scaled decimal\"");
}

/* Time and timestamp: the unit the value encoder chose. */
static void
put_temporal(trib_strbuf *o, const trib_dbz_opts *opt, const trib_dbz_coltype *t)
{
	bool		connect = opt->time == TRIB_DBZ_TIME_CONNECT;
	bool		millis = connect ||
		(t->precision >= 0 && t->precision <= 3 &&
		 !(t->kind == TRIB_DBZ_TIME && opt->time == TRIB_DBZ_TIME_ADAPTIVE_MICROS));

	if (t->kind == TRIB_DBZ_DATE)
		put_type(o, "int32", connect ? "org.apache.kafka.connect.data.Date"
				 : "io.debezium.time.Date");
	else if (t->kind == TRIB_DBZ_TIME)
		put_type(o, millis ? "int32" : "int64",
				 connect ? "org.apache.kafka.connect.data.Time"
				 : millis ? "io.debezium.time.Time" : "io.debezium.time.MicroTime");
	else
		put_type(o, "int64", connect ? "org.apache.kafka.connect.data.Timestamp"
				 : millis ? "io.debezium.time.Timestamp"
				 : "io.debezium.time.MicroTimestamp");
}

/* The schema members (no braces) of one value of coltype t. */
static void
put_value_schema(trib_strbuf *o, const trib_dbz_opts *opt, const trib_dbz_coltype *t,
				 const char *pg)
{
	switch (t->kind)
	{
		case TRIB_DBZ_ASIS:
			if (t->connect)
				put_type(o, t->connect, NULL);
			else
				put_asis(o, pg);
			break;
		case TRIB_DBZ_NUMERIC:
		case TRIB_DBZ_MONEY:
			put_numeric(o, opt, t, pg);
			break;
		case TRIB_DBZ_BIT1:
			put_type(o, "boolean", NULL);
			break;
		case TRIB_DBZ_BITS:
			put_type(o, "bytes", "io.debezium.data.Bits");
			trib_strbuf_printf(o, ",\"parameters\":{\"length\":\"%d\"}",
							   strchr(pg, '(') ? atoi(strchr(pg, '(') + 1) : 2147483647);
			break;
		case TRIB_DBZ_BYTEA:
			put_type(o, opt->binary == TRIB_DBZ_BINARY_BYTES ? "bytes" : "string", NULL);
			break;
		case TRIB_DBZ_JSON:
		case TRIB_DBZ_JSONB:
			put_type(o, "string", "io.debezium.data.Json");
			break;
		case TRIB_DBZ_HSTORE:
			if (opt->hstore == TRIB_DBZ_HSTORE_MAP)
				trib_strbuf_adds(o, "\"type\":\"map\",\"keys\":{\"type\":\"string\","
								 "\"optional\":false},\"values\":{\"type\":\"string\","
								 "\"optional\":true}");
			else
				put_type(o, "string", "io.debezium.data.Json");
			break;
		case TRIB_DBZ_POINT:
			trib_strbuf_adds(o, "\"type\":\"struct\",\"fields\":["
							 "{\"type\":\"double\",\"optional\":false,\"field\":\"x\"},"
							 "{\"type\":\"double\",\"optional\":false,\"field\":\"y\"},"
							 "{\"type\":\"bytes\",\"optional\":true,\"field\":\"wkb\"},"
							 "{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"}],"
							 "\"name\":\"io.debezium.data.geometry.Point\",\"version\":1,"
							 "\"doc\":\"Geometry (POINT)\"");
			break;
		case TRIB_DBZ_DATE:
		case TRIB_DBZ_TIME:
		case TRIB_DBZ_TIMESTAMP:
			put_temporal(o, opt, t);
			break;
		case TRIB_DBZ_TIMETZ:
			put_type(o, "string", "io.debezium.time.ZonedTime");
			break;
		case TRIB_DBZ_TIMESTAMPTZ:
			put_type(o, "string", "io.debezium.time.ZonedTimestamp");
			break;
		case TRIB_DBZ_INTERVAL:
			if (opt->interval == TRIB_DBZ_INTERVAL_STRING)
				put_type(o, "string", "io.debezium.time.Interval");
			else
				put_type(o, "int64", "io.debezium.time.MicroDuration");
			break;
		case TRIB_DBZ_MY_UINT64:
		case TRIB_DBZ_MY_TIME:
		case TRIB_DBZ_MY_YEAR:
		case TRIB_DBZ_MY_ENUM:
		case TRIB_DBZ_MY_SET:
		case TRIB_DBZ_MY_GEOMETRY:
			trib_dbz_my_schema(o, opt, t, pg);
			break;
	}
}

/* A PostgreSQL enum's schema: io.debezium.data.Enum with its labels in
 * sort order, joined with ',', as `allowed` (Debezium writes them so,
 * without escaping a ',' in a label). */
static void
put_pg_enum(trib_strbuf *o, const trib_column *c)
{
	trib_strbuf list = {0};

	trib_strbuf_add(&list, "", 0);
	for (int i = 0; i < c->nenum_labels; i++)
	{
		if (i > 0)
			trib_strbuf_addc(&list, ',');
		trib_strbuf_adds(&list, c->enum_labels[i]);
	}
	put_type(o, "string", "io.debezium.data.Enum");
	trib_strbuf_adds(o, ",\"parameters\":{\"allowed\":");
	trib_dbz_quote(o, list.data);
	trib_strbuf_addc(o, '}');
	trib_strbuf_free(&list);
}

/* The schema members of one value (an array's element) of column c. */
static void
put_element(trib_strbuf *o, const trib_dbz_opts *opt, const trib_column *c,
			const trib_dbz_coltype *t, const char *decl)
{
	if (t->kind == TRIB_DBZ_ASIS && c->nenum_labels > 0)
		put_pg_enum(o, c);
	else
		put_value_schema(o, opt, t, decl);
}

/* One column's field: {schema...,"optional":B,"field":NAME}. */
static void
put_column(trib_strbuf *o, const trib_dbz_opts *opt, const trib_column *c,
		   const trib_dbz_coltype *t)
{
	/* the full declaration where the source has one (MySQL: precision,
	 * length and members are there), else the type, a domain's base type
	 * (PostgreSQL: Debezium maps a domain by its base) */
	const char *decl = c->decl ? c->decl : trib_dbz_pg_type(c);

	trib_strbuf_addc(o, '{');
	if (t->array)
	{
		trib_dbz_coltype elem = *t;

		elem.array = false;
		trib_strbuf_adds(o, "\"type\":\"array\",\"items\":{");
		put_element(o, opt, c, &elem, decl);
		trib_strbuf_adds(o, ",\"optional\":true}");
	}
	else
		put_element(o, opt, c, t, decl);
	trib_strbuf_printf(o, ",\"optional\":%s,\"field\":", c->nullable ? "true" : "false");
	trib_dbz_quote(o, c->name);
	trib_strbuf_addc(o, '}');
}

/* The struct of the columns (all, or those flagged in only[]) named
 * "<prefix>.<schema>.<table>.<suffix>", without its closing members. */
static void
put_struct(trib_strbuf *o, const trib_dbz_opts *opt, const char *prefix,
		   const trib_relation *rel, const trib_dbz_coltype *types,
		   const bool *only, const char *suffix)
{
	trib_strbuf name = {0};
	bool		first = true;

	trib_strbuf_adds(o, "{\"type\":\"struct\",\"fields\":[");
	for (int i = 0; i < rel->ncolumns; i++)
	{
		if (only && !only[i])
			continue;
		if (!first)
			trib_strbuf_addc(o, ',');
		first = false;
		put_column(o, opt, &rel->columns[i], &types[i]);
	}
	trib_strbuf_printf(&name, "%s.%s.%s.%s", prefix, rel->schema ? rel->schema : "",
					   rel->table ? rel->table : "", suffix);
	trib_strbuf_adds(o, "],\"optional\":");
	trib_strbuf_adds(o, only ? "false" : "true");
	trib_strbuf_adds(o, ",\"name\":");
	trib_dbz_quote(o, name.data);
	trib_strbuf_free(&name);
}

/* The Source struct's members every connector has, in the envelope's
 * order (up to `sequence`).  snapshot is Debezium's Enum of its
 * SnapshotRecord values (2.3 and later), lower-cased. */
#define SOURCE_COMMON \
"{\"type\":\"struct\",\"fields\":[" \
"{\"type\":\"string\",\"optional\":false,\"field\":\"version\"}," \
"{\"type\":\"string\",\"optional\":false,\"field\":\"connector\"}," \
"{\"type\":\"string\",\"optional\":false,\"field\":\"name\"}," \
"{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}," \
"{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"}," \
"{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"}," \
"{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1," \
"\"parameters\":{\"allowed\":\"true,first,first_in_data_collection," \
"last_in_data_collection,last,false,incremental\"},\"default\":\"false\"," \
"\"field\":\"snapshot\"}," \
"{\"type\":\"string\",\"optional\":false,\"field\":\"db\"}," \
"{\"type\":\"string\",\"optional\":true,\"field\":\"sequence\"},"

/* The PostgreSQL connector's Source struct, in the envelope's order. */
static const char source_schema[] = SOURCE_COMMON
"{\"type\":\"string\",\"optional\":false,\"field\":\"schema\"},"
"{\"type\":\"string\",\"optional\":false,\"field\":\"table\"},"
"{\"type\":\"int64\",\"optional\":true,\"field\":\"txId\"},"
"{\"type\":\"int64\",\"optional\":true,\"field\":\"lsn\"},"
"{\"type\":\"int64\",\"optional\":true,\"field\":\"xmin\"}],"
"\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Source\","
"\"field\":\"source\"}";

/* The MySQL connector's Source struct: the common members, then the
 * binlog coordinates the MySQL source puts in its position's "source"
 * object (envelope_source.c writes them in this order). */
static const char mysql_source_schema[] = SOURCE_COMMON
"{\"type\":\"string\",\"optional\":true,\"field\":\"table\"},"
"{\"type\":\"int64\",\"optional\":false,\"field\":\"server_id\"},"
"{\"type\":\"string\",\"optional\":true,\"field\":\"gtid\"},"
"{\"type\":\"string\",\"optional\":false,\"field\":\"file\"},"
"{\"type\":\"int64\",\"optional\":false,\"field\":\"pos\"},"
"{\"type\":\"int32\",\"optional\":false,\"field\":\"row\"},"
"{\"type\":\"int64\",\"optional\":true,\"field\":\"thread\"},"
"{\"type\":\"string\",\"optional\":true,\"field\":\"query\"}],"
"\"optional\":false,\"name\":\"io.debezium.connector.mysql.Source\","
"\"field\":\"source\"}";

/* The MongoDB connector's Source struct (2.x: no rs), in the order
 * envelope_source.c writes it. */
static const char mongo_source_schema[] = SOURCE_COMMON
"{\"type\":\"string\",\"optional\":false,\"field\":\"collection\"},"
"{\"type\":\"int32\",\"optional\":false,\"field\":\"ord\"},"
"{\"type\":\"string\",\"optional\":true,\"field\":\"lsid\"},"
"{\"type\":\"int64\",\"optional\":true,\"field\":\"txnNumber\"},"
"{\"type\":\"int64\",\"optional\":true,\"field\":\"wallTime\"}],"
"\"optional\":false,\"name\":\"io.debezium.connector.mongo.Source\","
"\"field\":\"source\"}";

/* A document string (io.debezium.data.Json) of a MongoDB Envelope. */
#define MONGO_JSON(f) \
"{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Json\"," \
"\"version\":1,\"field\":\"" f "\"},"

/* before, after and updateDescription of a MongoDB Envelope. */
static const char mongo_head[] = MONGO_JSON("before") MONGO_JSON("after")
"{\"type\":\"struct\",\"fields\":["
"{\"type\":\"array\",\"items\":{\"type\":\"string\",\"optional\":false},"
"\"optional\":true,\"field\":\"removedFields\"},"
"{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Json\","
"\"version\":1,\"field\":\"updatedFields\"},"
"{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":["
"{\"type\":\"string\",\"optional\":false,\"field\":\"field\"},"
"{\"type\":\"int32\",\"optional\":false,\"field\":\"size\"}],"
"\"optional\":false,\"name\":\"io.debezium.connector.mongodb.changestream.truncatedarray\","
"\"version\":1},\"optional\":true,\"field\":\"truncatedArrays\"}],"
"\"optional\":true,\"name\":\"io.debezium.connector.mongodb.changestream.updatedescription\","
"\"version\":1,\"field\":\"updateDescription\"},";

/* The envelope's op (required; the MongoDB connector's is optional). */
#define OP_FIELD(opt) "{\"type\":\"string\",\"optional\":" opt ",\"field\":\"op\"},"

/* The envelope's timestamps and the transaction block. */
#define ENVELOPE_TS_TX \
"{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"}," \
"{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"}," \
"{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"}," \
"{\"type\":\"struct\",\"fields\":[" \
"{\"type\":\"string\",\"optional\":false,\"field\":\"id\"}," \
"{\"type\":\"int64\",\"optional\":false,\"field\":\"total_order\"}," \
"{\"type\":\"int64\",\"optional\":false,\"field\":\"data_collection_order\"}]," \
"\"optional\":true,\"name\":\"event.block\",\"version\":1,\"field\":\"transaction\"}"

static const char envelope_tail[] = OP_FIELD("false") ENVELOPE_TS_TX;

/* See debezium.h. */
void
trib_dbz_render_schemas(const trib_dbz_opts *o, const char *prefix, const char *connector,
						const trib_relation *rel, const trib_dbz_coltype *types,
						const bool *in_key, trib_strbuf *value, trib_strbuf *key)
{
	trib_strbuf_adds(value, "{\"type\":\"struct\",\"fields\":[");
	put_struct(value, o, prefix, rel, types, NULL, "Value");
	trib_strbuf_adds(value, ",\"field\":\"before\"},");
	put_struct(value, o, prefix, rel, types, NULL, "Value");
	trib_strbuf_adds(value, ",\"field\":\"after\"},");
	trib_strbuf_adds(value, connector && strcmp(connector, "mysql") == 0
					 ? mysql_source_schema : source_schema);
	trib_strbuf_addc(value, ',');
	trib_strbuf_adds(value, envelope_tail);
	trib_strbuf_adds(value, "],\"optional\":false,\"name\":");
	{
		trib_strbuf name = {0};

		trib_strbuf_printf(&name, "%s.%s.%s.Envelope", prefix,
						   rel->schema ? rel->schema : "", rel->table ? rel->table : "");
		trib_dbz_quote(value, name.data);
		trib_strbuf_free(&name);
	}
	trib_strbuf_adds(value, ",\"version\":1}");
	if (key && in_key)
	{
		put_struct(key, o, prefix, rel, types, in_key, "Key");
		trib_strbuf_addc(key, '}');
	}
}

/* "<prefix>.<db>.<collection>.<suffix>" as a JSON string. */
static void
put_mongo_name(trib_strbuf *o, const char *prefix, const char *db, const char *coll,
			   const char *suffix)
{
	trib_strbuf name = {0};

	trib_strbuf_printf(&name, "%s.%s.%s.%s", prefix, db ? db : "", coll ? coll : "", suffix);
	trib_dbz_quote(o, name.data);
	trib_strbuf_free(&name);
}

/* See debezium.h.  Debezium's MongoDB Envelope: before, after and
 * updatedFields are io.debezium.data.Json strings, op is optional. */
void
trib_dbz_mongo_render_schemas(const char *prefix, const char *db, const char *collection,
							  trib_strbuf *value, trib_strbuf *key)
{
	trib_strbuf_adds(value, "{\"type\":\"struct\",\"fields\":[");
	trib_strbuf_adds(value, mongo_head);
	trib_strbuf_adds(value, mongo_source_schema);
	trib_strbuf_adds(value, "," OP_FIELD("true") ENVELOPE_TS_TX);
	trib_strbuf_adds(value, "],\"optional\":false,\"name\":");
	put_mongo_name(value, prefix, db, collection, "Envelope");
	trib_strbuf_adds(value, ",\"version\":1}");
	trib_strbuf_adds(key, "{\"type\":\"struct\",\"fields\":["
					 "{\"type\":\"string\",\"optional\":false,\"field\":\"id\"}],"
					 "\"optional\":false,\"name\":");
	put_mongo_name(key, prefix, db, collection, "Key");
	trib_strbuf_addc(key, '}');
}
