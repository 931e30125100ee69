/*
 * sink_postgres_conf.c: the key table of a `type: postgres` sink (see
 * sink_postgres_conf.h).
 *
 * Adding a key: a field in trib_pgsink_conf and one row below; run
 * `make -C consumer doc`.
 */
#include "sink_postgres_conf.h"

#include <stddef.h>

#include "config_keys.h"

/* Enums are stored through int pointers. */
_Static_assert(sizeof(trib_unknown_types) == sizeof(int), "enum size");

static const char *const unknown_types_words[] = {"fail", "text", NULL};

static const ck_key pg_sink_keys[] = {
	CK_TYPE_ROW("`postgres`", "the kind of sink"),
	CK_ROW(trib_pgsink_conf, dsn, CK_STRING, CK_REQUIRED | CK_SECRET,
		.check = ck_check_conninfo, .doc_type = "conninfo",
		.desc = "libpq connection string or `postgres://` URI of the target database"),
	CK_ROW(trib_pgsink_conf, schema, CK_STRING, 0, .def = "public",
		.desc = "schema of the target tables"),
	CK_ROW(trib_pgsink_conf, create_tables, CK_BOOL, 0, .def = "true",
		.desc = "create missing target tables from the source's table definitions"),
	CK_ROW(trib_pgsink_conf, batch_size, CK_INT, 0, .def = "1000", .min = 1, .max = 1000000,
		.desc = "most rows applied in one transaction"),
	CK_ROW(trib_pgsink_conf, batch_ms, CK_INT, 0, .def = "100", .min = 0, .max = 60000,
		.desc = "longest a row waits, in milliseconds, before its batch is applied"),
	CK_ROW(trib_pgsink_conf, table_from_route, CK_BOOL, 0, .def = "false",
		.desc = "a `route` rule's result (`table` or `schema.table`) names the target table"),
	CK_ROW(trib_pgsink_conf, unknown_types, CK_ENUM, 0, .def = "fail", .words = unknown_types_words,
		.desc = "with `create_tables`, a source column whose type the target database lacks "
		"(an enum or composite type created only in the source): `fail` stops the sink "
		"with an error naming the column and the type; `text` creates the column as "
		"`text` (`text[]` for an array) and stores the value's text"),
	CK_ROW(trib_pgsink_conf, log_row_values, CK_BOOL, 0, .def = "false",
		.desc = "log the target's error messages as they are; off, the row values they "
		"carry (`Failing row contains (...)`, `Key (id)=(...)`, a rejected input value) "
		"are replaced by `***`"),
	CK_END_ROW
};

const ck_section trib_pgsink_conf_section = {
	.doc_title = "`sinks.<name>` with `type: postgres`",
	.what = "a postgres sink",
	.keys = pg_sink_keys,
	.doc_intro = "Applies changes as batched upserts and deletes, storing the source "
	"position in the same transaction. What each change becomes, tables without a "
	"primary key, deletes without a key, composite values, JSON null and the redaction "
	"of row values in errors: [POSTGRES_SINK.md](POSTGRES_SINK.md).",
};
