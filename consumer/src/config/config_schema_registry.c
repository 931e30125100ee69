/*
 * config_schema_registry.c: the `schema_registry` section: the Confluent
 * Schema Registry REST API on the HTTP endpoint (registry_api/).
 *
 * Only the key table lives here (config may not include registry_api/);
 * the API reads trib_schema_registry_conf from the loaded config.
 */
#include "config.h"
#include "config_keys.h"

#include <stdio.h>
#include <string.h>

static const ck_key schema_registry_keys[] = {
	CK_ROW(trib_schema_registry_conf, enabled, CK_BOOL, 0, .def = "false",
		.desc = "serve the Confluent-compatible REST API (`/subjects`, `/schemas`, "
		"`/config`, `/compatibility`) on the `http` endpoint"),
	CK_ROW(trib_schema_registry_conf, dsn, CK_STRING, CK_SECRET, .check = ck_check_conninfo,
		.doc_type = "conninfo", .doc_default = "the checkpoint's dsn",
		.desc = "database holding the registry (the tributary extension, 0.4 or later); "
		"its role needs `tributary_reader`, and `tributary_writer` for writes"),
	CK_ROW(trib_schema_registry_conf, token, CK_STRING, CK_SECRET, .check = ck_check_token,
		.doc_type = "string",
		.desc = "bearer token every write needs (`Authorization: Bearer ...`; use "
		"`token_file`); without it the API is read-only"),
	CK_ROW(trib_schema_registry_conf, open_reads, CK_BOOL, 0, .def = "true",
		.desc = "reads need no token while `http` listens on a loopback address and "
		"the request's Host names loopback (`localhost`, 127.0.0.0/8, `[::1]`: no "
		"DNS rebinding); `false`, or any other address: reads need the token too"),
	CK_ROW(trib_schema_registry_conf, max_body_bytes, CK_INT, 0, .def = "1048576",
		.min = 1024, .max = 67108864,
		.desc = "largest request body; a larger one is answered 413"),
	CK_END_ROW
};

const ck_section ck_schema_registry_section = {
	.doc_title = "`schema_registry`",
	.what = "the schema_registry section",
	.keys = schema_registry_keys,
	.doc_intro = "A REST API compatible with Confluent Schema Registry, served on the "
	"`http` endpoint and backed by the catalog's registry (docs/SCHEMA_REGISTRY.md, "
	"section 6). Statements time out after 5 s so that `/health` stays responsive.",
};
