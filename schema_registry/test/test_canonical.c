/*
 * test_canonical.c: parsing, canonical forms and fingerprints.
 *
 * The Avro cases are the Parsing Canonical Form vectors the Avro project
 * publishes with its specification (input, canonical form, CRC-64-AVRO
 * fingerprint as a signed 64-bit number); one vector's invalid default
 * ("true" as a string for a boolean) is given as true, since this library
 * validates defaults, and the empty union is left out because libavro
 * refuses it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sr_test.h"

typedef struct avro_vector
{
	const char *input;
	const char *pcf;
	int64_t		fingerprint;	/* 0: not given */
} avro_vector;

static const avro_vector avro_vectors[] = {
	{"\"null\"", "\"null\"", 7195948357588979594LL},
	{"{\"type\":\"null\"}", "\"null\"", 7195948357588979594LL},
	{"\"boolean\"", "\"boolean\"", -6970731678124411036LL},
	{"\"int\"", "\"int\"", 8247732601305521295LL},
	{"{\"type\":\"int\"}", "\"int\"", 8247732601305521295LL},
	{"\"long\"", "\"long\"", -3434872931120570953LL},
	{"\"float\"", "\"float\"", 5583340709985441680LL},
	{"\"double\"", "\"double\"", -8181574048448539266LL},
	{"\"bytes\"", "\"bytes\"", 5746618253357095269LL},
	{"\"string\"", "\"string\"", -8142146995180207161LL},
	{"[ \"int\"  ]", "[\"int\"]", -5232228896498058493LL},
	{"[ \"int\" , {\"type\":\"boolean\"} ]", "[\"int\",\"boolean\"]", 5392556393470105090LL},
	{"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\"}",
	"{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", -4824392279771201922LL},
	{"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"namespace\":\"x.y\"}",
	"{\"name\":\"x.y.foo\",\"type\":\"record\",\"fields\":[]}", 5916914534497305771LL},
	{"{\"fields\":[], \"type\":\"record\", \"name\":\"a.b.foo\", \"namespace\":\"x.y\"}",
	"{\"name\":\"a.b.foo\",\"type\":\"record\",\"fields\":[]}", -4616218487480524110LL},
	{"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"doc\":\"Useful info\"}",
	"{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", -4824392279771201922LL},
	{"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"aliases\":[\"foo\",\"bar\"]}",
	"{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", -4824392279771201922LL},
	{"{\"fields\":[{\"type\":{\"type\":\"boolean\"}, \"name\":\"f1\"}], \"type\":\"record\", \"name\":\"foo\"}",
		"{\"name\":\"foo\",\"type\":\"record\",\"fields\":[{\"name\":\"f1\",\"type\":\"boolean\"}]}",
	7843277075252814651LL},
	{"{ \"fields\":[{\"type\":\"boolean\", \"aliases\":[], \"name\":\"f1\", \"default\":true},\n"
		"  {\"order\":\"descending\",\"name\":\"f2\",\"doc\":\"Hello\",\"type\":\"int\"}],\n"
		"  \"type\":\"record\", \"name\":\"foo\"}",
		"{\"name\":\"foo\",\"type\":\"record\",\"fields\":[{\"name\":\"f1\",\"type\":\"boolean\"},"
	"{\"name\":\"f2\",\"type\":\"int\"}]}", -4860222112080293046LL},
	{"{\"type\":\"enum\", \"name\":\"foo\", \"symbols\":[\"A1\"]}",
	"{\"name\":\"foo\",\"type\":\"enum\",\"symbols\":[\"A1\"]}", -6342190197741309591LL},
	{"{\"namespace\":\"x.y.z\", \"type\":\"enum\", \"name\":\"foo\", \"doc\":\"foo bar\", \"symbols\":[\"A1\", \"A2\"]}",
	"{\"name\":\"x.y.z.foo\",\"type\":\"enum\",\"symbols\":[\"A1\",\"A2\"]}", -4448647247586288245LL},
	{"{\"name\":\"foo\",\"type\":\"fixed\",\"size\":15}",
	"{\"name\":\"foo\",\"type\":\"fixed\",\"size\":15}", 1756455273707447556LL},
	{"{\"namespace\":\"x.y.z\", \"type\":\"fixed\", \"name\":\"foo\", \"doc\":\"foo bar\", \"size\":32}",
	"{\"name\":\"x.y.z.foo\",\"type\":\"fixed\",\"size\":32}", -3064184465700546786LL},
	{"{ \"items\":{\"type\":\"null\"}, \"type\":\"array\"}",
	"{\"type\":\"array\",\"items\":\"null\"}", -589620603366471059LL},
	{"{ \"values\":\"string\", \"type\":\"map\"}",
	"{\"type\":\"map\",\"values\":\"string\"}", -8732877298790414990LL},
	{"  {\"name\":\"PigValue\",\"type\":\"record\",\n"
		"   \"fields\":[{\"name\":\"value\", \"type\":[\"null\", \"int\", \"long\", \"PigValue\"]}]}",
		"{\"name\":\"PigValue\",\"type\":\"record\",\"fields\":[{\"name\":\"value\",\"type\":"
	"[\"null\",\"int\",\"long\",\"PigValue\"]}]}", -1759257747318642341LL},
	/* ours: a named type is written in full once, then by full name; a
	 * nested type takes the enclosing namespace; logical types go */
	{"{\"type\":\"record\",\"name\":\"r\",\"namespace\":\"n\",\"fields\":["
		"{\"name\":\"a\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"X\"]}},"
		"{\"name\":\"b\",\"type\":\"E\"},"
		"{\"name\":\"c\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":4,\"scale\":2}}]}",
		"{\"name\":\"n.r\",\"type\":\"record\",\"fields\":[{\"name\":\"a\",\"type\":{\"name\":\"n.E\","
	"\"type\":\"enum\",\"symbols\":[\"X\"]}},{\"name\":\"b\",\"type\":\"n.E\"},{\"name\":\"c\",\"type\":\"bytes\"}]}", 0},
};

/* The Avro specification's canonical forms and fingerprints. */
static void
avro_parsing_canonical_form(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(avro_vectors) / sizeof(avro_vectors[0]); i++)
	{
		const avro_vector *v = &avro_vectors[i];
		trib_sr_schema *s = sr_test_parse(TRIB_SR_AVRO, v->input);
		uint64_t	fp = 0;
		const char *pcf = trib_sr_schema_avro_pcf(s, NULL);

		if (strcmp(pcf, v->pcf) != 0)
			fail_msg("vector %zu: expected PCF %s, got %s", i, v->pcf, pcf);
		assert_true(trib_sr_schema_avro_crc64(s, &fp));
		assert_int_equal(fp, trib_sr_crc64_avro(v->pcf, strlen(v->pcf)));
		if (v->fingerprint != 0 && (int64_t) fp != v->fingerprint)
			fail_msg("vector %zu: expected fingerprint %lld, got %lld", i,
					 (long long) v->fingerprint, (long long) (int64_t) fp);
		trib_sr_schema_free(s);
	}
}

/* CRC-64-AVRO of no bytes is the algorithm's initial value. */
static void
crc64_of_nothing_is_empty_value(void **state)
{
	(void) state;
	assert_int_equal(trib_sr_crc64_avro("", 0), 0xc15d213aa4d7a795ULL);
}

/* JSON canonical form: keys sorted, no whitespace, numbers as written,
 * minimal escapes, UTF-8 kept. */
static void
json_canonical_form(void **state)
{
	const char *in = "{ \"b\" : 1, \"a\" : [ true , null , 1.50 ],\n"
		"  \"c\" : {\"z\":\"\\u00e9\\n\\\"\\/\", \"y\":1E3, \"x\": -0} }";
	const char *want = "{\"a\":[true,null,1.50],\"b\":1,\"c\":{\"x\":-0,\"y\":1E3,\"z\":\"\xc3\xa9\\n\\\"/\"}}";
	trib_sr_schema *s = sr_test_parse(TRIB_SR_JSON, in);
	size_t		len;

	(void) state;
	assert_string_equal(trib_sr_schema_canonical(s, &len), want);
	assert_int_equal(len, strlen(want));
	assert_null(trib_sr_schema_avro_pcf(s, NULL));
	trib_sr_schema_free(s);
}

/* The same schema written twice differently has one fingerprint; a
 * different one another. */
static void
fingerprint_ignores_formatting(void **state)
{
	trib_sr_schema *a = sr_test_parse(TRIB_SR_JSON, "{\"type\":\"object\",\"required\":[\"x\"]}");
	trib_sr_schema *b = sr_test_parse(TRIB_SR_JSON, " {\n \"required\" : [ \"x\" ] ,\n\t\"type\":\"object\" }");
	trib_sr_schema *c = sr_test_parse(TRIB_SR_JSON, "{\"type\":\"object\",\"required\":[\"y\"]}");
	trib_sr_schema *e = sr_test_parse(TRIB_SR_JSON, "{}");
	char		hex[65];

	(void) state;
	assert_memory_equal(trib_sr_schema_sha256(a), trib_sr_schema_sha256(b), TRIB_SR_SHA256_LEN);
	assert_int_equal(trib_sr_schema_hash(a), trib_sr_schema_hash(b));
	assert_memory_not_equal(trib_sr_schema_sha256(a), trib_sr_schema_sha256(c), TRIB_SR_SHA256_LEN);
	trib_sr_schema_sha256_hex(e, hex);
	/* SHA-256 of the two bytes "{}" */
	assert_string_equal(hex, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
	assert_int_equal(trib_sr_schema_hash(e), 0x44136fa355b3678aULL);
	trib_sr_schema_free(a);
	trib_sr_schema_free(b);
	trib_sr_schema_free(c);
	trib_sr_schema_free(e);
}

/* Avro: the identity keeps defaults and aliases, the PCF does not. */
static void
avro_identity_keeps_what_pcf_drops(void **state)
{
	trib_sr_schema *a = sr_test_parse(TRIB_SR_AVRO,
									  "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}");
	trib_sr_schema *b = sr_test_parse(TRIB_SR_AVRO,
									  "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"default\":0}]}");
	uint64_t	fa,
				fb;

	(void) state;
	assert_string_equal(trib_sr_schema_avro_pcf(a, NULL), trib_sr_schema_avro_pcf(b, NULL));
	assert_true(trib_sr_schema_avro_crc64(a, &fa) && trib_sr_schema_avro_crc64(b, &fb));
	assert_int_equal(fa, fb);
	assert_string_not_equal(trib_sr_schema_canonical(a, NULL), trib_sr_schema_canonical(b, NULL));
	assert_memory_not_equal(trib_sr_schema_sha256(a), trib_sr_schema_sha256(b), TRIB_SR_SHA256_LEN);
	trib_sr_schema_free(a);
	trib_sr_schema_free(b);
}

typedef struct refused
{
	trib_sr_format fmt;
	const char *text;
	const char *message;		/* a part of the expected error */
} refused;

static const refused refusals[] = {
	{TRIB_SR_JSON, "{\"a\":1,\"a\":2}", "appears twice"},
	{TRIB_SR_JSON, "{\"type\":\"string\"} x", "invalid JSON"},
	{TRIB_SR_JSON, "{\"type\":", "invalid JSON: parse error: premature EOF"},
	{TRIB_SR_JSON, "{\"type\":/* yajl_tree_parse would allow this */\"string\"}", "comment"},
	{TRIB_SR_JSON, "{\"enum\":[\"a\\u0000b\"]}", "\\u0000"},
	{TRIB_SR_JSON, "1", "object or a boolean"},
	{TRIB_SR_JSON, "{\"$ref\":\"other.json#/x\"}", "only local references"},
	{TRIB_SR_JSON, "{\"$ref\":\"#/definitions/missing\"}", "points to nothing"},
	{TRIB_SR_AVRO, "{\"type\":\"array\"}", "must have \"items\""},
	{TRIB_SR_AVRO, "\"nosuchtype\"", "invalid Avro schema"},
	{TRIB_SR_AVRO, "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
	"{\"name\":\"a\",\"type\":\"long\"}]}", "two fields named \"a\""},
	{TRIB_SR_AVRO, "{\"type\":\"enum\",\"name\":\"e\",\"symbols\":[\"A\",\"A\"]}", "symbol \"A\" twice"},
	{TRIB_SR_AVRO, "[\"int\",\"int\"]", "holds the type \"int\" twice"},
	{TRIB_SR_AVRO, "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\",\"type\":\"int\","
	"\"default\":\"x\"}]}", "default of field \"a\""},
	{TRIB_SR_AVRO, "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\",\"type\":"
	"[\"null\",\"int\"],\"default\":\"x\"}]}", "default of field \"a\""},
	{TRIB_SR_AVRO, "{\"type\":\"enum\",\"name\":\"e\",\"symbols\":[\"A\"],\"default\":\"B\"}",
	"not one of its symbols"},
	{TRIB_SR_AVRO, "{\"type\":\"fixed\",\"name\":\"f\",\"size\":-1}", "size of 0 or more"},
};

/* What is refused, and that the message says why. */
static void
invalid_documents_are_refused(void **state)
{
	char		err[512];

	(void) state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
	{
		const refused *r = &refusals[i];
		trib_sr_schema *s;

		err[0] = '\0';
		s = trib_sr_schema_parse(r->fmt, r->text, strlen(r->text), err, sizeof(err));
		if (s != NULL)
			fail_msg("accepted: %s", r->text);
		if (strstr(err, r->message) == NULL)
			fail_msg("%s\n  expected the error to mention \"%s\", got \"%s\"", r->text,
					 r->message, err);
	}
}

/* Deep nesting is refused before yajl's recursive free could overflow. */
static void
deep_nesting_is_refused(void **state)
{
	size_t		n = 5000;
	char	   *text = malloc(2 * n + 16);
	char		err[256] = "";

	(void) state;
	strcpy(text, "{\"a\":");
	for (size_t i = 0; i < n; i++)
		text[5 + i] = '[';
	for (size_t i = 0; i < n; i++)
		text[5 + n + i] = ']';
	strcpy(text + 5 + 2 * n, "}");
	assert_null(trib_sr_schema_parse(TRIB_SR_JSON, text, strlen(text), err, sizeof(err)));
	assert_non_null(strstr(err, "deeper than"));
	free(text);
}

/* A document need not be NUL-terminated: only len bytes are read. */
static void
length_bounds_the_document(void **state)
{
	const char	text[] = "{\"type\":\"string\"}GARBAGE";
	trib_sr_schema *s;
	char		err[256];

	(void) state;
	s = trib_sr_schema_parse(TRIB_SR_JSON, text, 17, err, sizeof(err));
	assert_non_null(s);
	assert_string_equal(trib_sr_schema_canonical(s, NULL), "{\"type\":\"string\"}");
	trib_sr_schema_free(s);
}

/* Names of formats and levels both ways. */
static void
names_round_trip(void **state)
{
	trib_sr_format f;
	trib_sr_level l;

	(void) state;
	assert_true(trib_sr_format_parse("json", &f) && f == TRIB_SR_JSON);
	assert_true(trib_sr_format_parse("AVRO", &f) && f == TRIB_SR_AVRO);
	assert_false(trib_sr_format_parse("PROTOBUF", &f));
	for (int i = TRIB_SR_NONE; i <= TRIB_SR_FULL_TRANSITIVE; i++)
	{
		assert_true(trib_sr_level_parse(trib_sr_level_name((trib_sr_level) i), &l));
		assert_int_equal(l, i);
	}
	assert_true(trib_sr_level_parse("full_transitive", &l) && l == TRIB_SR_FULL_TRANSITIVE);
	assert_false(trib_sr_level_parse("SOMETIMES", &l));
	assert_string_equal(trib_sr_format_name(TRIB_SR_AVRO), "AVRO");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(avro_parsing_canonical_form),
		cmocka_unit_test(crc64_of_nothing_is_empty_value),
		cmocka_unit_test(json_canonical_form),
		cmocka_unit_test(fingerprint_ignores_formatting),
		cmocka_unit_test(avro_identity_keeps_what_pcf_drops),
		cmocka_unit_test(invalid_documents_are_refused),
		cmocka_unit_test(deep_nesting_is_refused),
		cmocka_unit_test(length_bounds_the_document),
		cmocka_unit_test(names_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
