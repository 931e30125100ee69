/*
 * test_compat_avro.c: the Avro compatibility matrix: every kind of change
 * Avro schema resolution knows, each under all seven levels (one cmocka
 * test per row and level).  A row names the kinds expected when the new
 * schema reads data written with the old one (BACKWARD) and the other way
 * round (FORWARD).
 */
#include "sr_test.h"

#define REC(fields) "{\"type\":\"record\",\"name\":\"r\",\"namespace\":\"n\",\"fields\":[" fields "]}"
#define F(name, type) "{\"name\":\"" name "\",\"type\":" type "}"
#define FD(name, type, def) "{\"name\":\"" name "\",\"type\":" type ",\"default\":" def "}"
#define ENUM(syms, extra) "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[" syms "]" extra "}"
#define DEC(p, s) "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":" p ",\"scale\":" s "}"
#define LIST(v) "{\"type\":\"record\",\"name\":\"L\",\"fields\":[" F("v", v) "," \
	FD("next", "[\"null\",\"L\"]", "null") "]}"

static const sr_matrix_row rows[] = {
	{"identical", REC(F("a", "\"int\"")), REC(F("a", "\"int\"")), "", ""},
	{"int_to_long", REC(F("a", "\"int\"")), REC(F("a", "\"long\"")), "", "TYPE_MISMATCH"},
	{"long_to_int", REC(F("a", "\"long\"")), REC(F("a", "\"int\"")), "TYPE_MISMATCH", ""},
	{"int_to_float", REC(F("a", "\"int\"")), REC(F("a", "\"float\"")), "", "TYPE_MISMATCH"},
	{"long_to_double", REC(F("a", "\"long\"")), REC(F("a", "\"double\"")), "", "TYPE_MISMATCH"},
	{"float_to_double", REC(F("a", "\"float\"")), REC(F("a", "\"double\"")), "", "TYPE_MISMATCH"},
	{"string_to_bytes", REC(F("a", "\"string\"")), REC(F("a", "\"bytes\"")), "", ""},
	{"string_to_int", REC(F("a", "\"string\"")), REC(F("a", "\"int\"")), "TYPE_MISMATCH",
	"TYPE_MISMATCH"},
	{"boolean_to_int", REC(F("a", "\"boolean\"")), REC(F("a", "\"int\"")), "TYPE_MISMATCH",
	"TYPE_MISMATCH"},
	{"field_added_with_default", REC(F("a", "\"int\"")),
	REC(F("a", "\"int\"") "," FD("b", "\"string\"", "\"x\"")), "", ""},
	{"field_added_without_default", REC(F("a", "\"int\"")),
	REC(F("a", "\"int\"") "," F("b", "\"string\"")), "READER_FIELD_MISSING_DEFAULT_VALUE", ""},
	{"nullable_field_added", REC(F("a", "\"int\"")),
	REC(F("a", "\"int\"") "," FD("b", "[\"null\",\"string\"]", "null")), "", ""},
	{"field_removed", REC(F("a", "\"int\"") "," F("b", "\"string\"")), REC(F("a", "\"int\"")),
	"", "READER_FIELD_MISSING_DEFAULT_VALUE"},
	{"field_with_default_removed", REC(F("a", "\"int\"") "," FD("b", "\"string\"", "\"x\"")),
	REC(F("a", "\"int\"")), "", ""},
	{"field_renamed_with_alias", REC(F("a", "\"int\"")),
		REC("{\"name\":\"b\",\"type\":\"int\",\"aliases\":[\"a\"]}"),
	"", "READER_FIELD_MISSING_DEFAULT_VALUE"},
	{"field_renamed", REC(F("a", "\"int\"")), REC(F("b", "\"int\"")),
	"READER_FIELD_MISSING_DEFAULT_VALUE", "READER_FIELD_MISSING_DEFAULT_VALUE"},
	{"record_renamed", REC(F("a", "\"int\"")),
		"{\"type\":\"record\",\"name\":\"s\",\"namespace\":\"n\",\"fields\":[" F("a", "\"int\"") "]}",
	"NAME_MISMATCH", "NAME_MISMATCH"},
	{"record_renamed_with_alias", REC(F("a", "\"int\"")),
		"{\"type\":\"record\",\"name\":\"s\",\"namespace\":\"n\",\"aliases\":[\"r\"],\"fields\":["
	F("a", "\"int\"") "]}", "", "NAME_MISMATCH"},
	{"namespace_changed", REC(F("a", "\"int\"")),
		"{\"type\":\"record\",\"name\":\"r\",\"namespace\":\"m\",\"fields\":[" F("a", "\"int\"") "]}",
	"", ""},
	{"enum_symbol_added", REC(F("e", ENUM("\"X\"", ""))), REC(F("e", ENUM("\"X\",\"Y\"", ""))),
	"", "MISSING_ENUM_SYMBOLS"},
	{"enum_symbol_removed", REC(F("e", ENUM("\"X\",\"Y\"", ""))), REC(F("e", ENUM("\"X\"", ""))),
	"MISSING_ENUM_SYMBOLS", ""},
	{"enum_symbol_removed_reader_default", REC(F("e", ENUM("\"X\",\"Y\"", ""))),
	REC(F("e", ENUM("\"X\"", ",\"default\":\"X\""))), "", ""},
	{"enum_symbol_added_old_default", REC(F("e", ENUM("\"X\"", ",\"default\":\"X\""))),
	REC(F("e", ENUM("\"X\",\"Y\"", ",\"default\":\"X\""))), "", ""},
	{"enum_renamed", REC(F("e", ENUM("\"X\"", ""))),
		REC(F("e", "{\"type\":\"enum\",\"name\":\"G\",\"symbols\":[\"X\"]}")),
	"NAME_MISMATCH", "NAME_MISMATCH"},
	{"union_branch_added", REC(F("a", "[\"null\",\"int\"]")), REC(F("a", "[\"null\",\"int\",\"string\"]")),
	"", "MISSING_UNION_BRANCH"},
	{"union_branch_removed", REC(F("a", "[\"null\",\"int\",\"string\"]")), REC(F("a", "[\"null\",\"int\"]")),
	"MISSING_UNION_BRANCH", ""},
	{"made_nullable", REC(F("a", "\"int\"")), REC(FD("a", "[\"null\",\"int\"]", "null")),
	"", "TYPE_MISMATCH"},
	{"made_not_null", REC(FD("a", "[\"null\",\"int\"]", "null")), REC(F("a", "\"int\"")),
	"TYPE_MISMATCH", ""},
	{"union_branch_promoted", REC(F("a", "[\"null\",\"int\"]")), REC(F("a", "[\"null\",\"long\"]")),
	"", "MISSING_UNION_BRANCH"},
	{"fixed_size_changed", REC(F("f", "{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}")),
		REC(F("f", "{\"type\":\"fixed\",\"name\":\"F\",\"size\":8}")),
	"FIXED_SIZE_MISMATCH", "FIXED_SIZE_MISMATCH"},
	{"fixed_renamed", REC(F("f", "{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}")),
		REC(F("f", "{\"type\":\"fixed\",\"name\":\"G\",\"size\":4}")),
	"NAME_MISMATCH", "NAME_MISMATCH"},
	{"array_items_promoted", REC(F("a", "{\"type\":\"array\",\"items\":\"int\"}")),
	REC(F("a", "{\"type\":\"array\",\"items\":\"long\"}")), "", "TYPE_MISMATCH"},
	{"map_values_changed", REC(F("m", "{\"type\":\"map\",\"values\":\"string\"}")),
		REC(F("m", "{\"type\":\"map\",\"values\":\"int\"}")),
	"TYPE_MISMATCH", "TYPE_MISMATCH"},
	{"array_to_map", REC(F("a", "{\"type\":\"array\",\"items\":\"int\"}")),
		REC(F("a", "{\"type\":\"map\",\"values\":\"int\"}")),
	"TYPE_MISMATCH", "TYPE_MISMATCH"},
	{"recursive_value_promoted", LIST("\"int\""), LIST("\"long\""), "", "TYPE_MISMATCH"},
	{"recursive_identical", LIST("\"int\""), LIST("\"int\""), "", ""},
	{"decimal_scale_changed", REC(F("d", DEC("12", "2"))), REC(F("d", DEC("12", "4"))),
	"TYPE_MISMATCH", "TYPE_MISMATCH"},
	{"decimal_precision_widened", REC(F("d", DEC("10", "2"))), REC(F("d", DEC("12", "2"))),
	"", "TYPE_MISMATCH"},
	{"record_to_string", REC(F("a", "\"int\"")), "\"string\"", "TYPE_MISMATCH", "TYPE_MISMATCH"},
	{"many_at_once", REC(F("a", "\"int\"") "," F("b", "\"string\"") "," F("e", ENUM("\"X\",\"Y\"", ""))),
		REC(F("a", "\"string\"") "," F("c", "\"int\"") "," F("e", ENUM("\"X\"", ""))),
		"MISSING_ENUM_SYMBOLS,READER_FIELD_MISSING_DEFAULT_VALUE,TYPE_MISMATCH",
	"READER_FIELD_MISSING_DEFAULT_VALUE,TYPE_MISMATCH"},
};

int
main(void)
{
	return sr_test_run_matrix("avro", TRIB_SR_AVRO, rows, sizeof(rows) / sizeof(rows[0]));
}
