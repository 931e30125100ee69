/*
 * test_mysql_json.c: unit tests of MySQL 8's binary JSON decoder
 * (source/mysql/binlog_json.c).  No MySQL server exists here, so the
 * documents are built by hand from the format in MySQL's
 * sql/json_binary.h: small and large objects and arrays, inlined and
 * offset values, every scalar type, opaque DECIMAL/DATETIME/TIME/BLOB, and
 * malformed documents.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "binlog_int.h"

/* hex text -> bytes; returns the length. */
static size_t
unhex(const char *hex, uint8_t *out)
{
	size_t		n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++)
	{
		unsigned	v;

		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t) v;
	}
	return n;
}

/* Decode b[0..n) to JSON text, or the error message prefixed "error: ". */
static char *
decode(const uint8_t *b, size_t n)
{
	trib_my_decoder_conf conf = {0};
	trib_my_decoder *d = trib_my_decoder_new(&conf);
	yajl_gen	g = yajl_gen_alloc(NULL);
	char		err[256] = "";
	char	   *out;

	if (trib_my_json_binary(d, b, n, g, err, sizeof(err)))
	{
		const unsigned char *buf;
		size_t		len;

		yajl_gen_get_buf(g, &buf, &len);
		out = trib_xstrndup((const char *) buf, len);
	}
	else
	{
		out = trib_xmalloc(strlen(err) + 8);
		sprintf(out, "error: %s", err);
	}
	yajl_gen_free(g);
	trib_my_decoder_free(d);
	return out;
}

/* Expect the document in hex to decode to want. */
static void
expect_doc(const char *hex, const char *want)
{
	uint8_t		b[4096];
	char	   *got = decode(b, unhex(hex, b));

	if (strcmp(got, want) != 0)
		fail_msg("document %.60s...: expected %s, got %s", hex, want, got);
	free(got);
}

static void
test_small_object_nested_array_double(void **state)
{
	(void) state;
	expect_doc("0003003300190001001a0001001b000100050100021c000b2b0061626303000f000401"
			   "000400000c0d000178000000000000f83f",
			   "{\"a\":1,\"b\":[true,null,\"x\"],\"c\":1.5}");
}

static void
test_large_object_inlines_32_bit_integers(void **state)
{
	(void) state;
	expect_doc("0102000000200000001e00000001001f000000010007ffffff7f08ffffffff6b75",
			   "{\"k\":2147483647,\"u\":4294967295}");
}

static void
test_integer_extremes_and_integral_double(void **state)
{
	(void) state;
	expect_doc("0204002c000910000a18000720000b24000000000000000080ffffffffffffffff90eefeff"
			   "0000000000000840",
			   "[-9223372036854775808,18446744073709551615,-70000,3.0]");
}

static void
test_long_string_two_byte_length(void **state)
{
	char		want[512] = "\"";

	(void) state;
	for (int i = 0; i < 100; i++)
		strcat(want, "\xc3\xa9");
	strcat(want, "\"");
	{
		char		hex[1024] = "0cc801";

		for (int i = 0; i < 100; i++)
			strcat(hex, "c3a9");
		expect_doc(hex, want);
	}
}

static void
test_opaque_values(void **state)
{
	(void) state;
	expect_doc("0201000d000f0700f60404028c32", "[12.50]");
	expect_doc("02010011000f07000c0801000019761f9519", "[\"2015-01-15 23:24:25.000001\"]");
	expect_doc("02010011000f07000b0800000000f0ffffff", "[\"-01:00:00.000000\"]");
	expect_doc("0201000b000f0700fc020001", "[\"base64:type252:AAE=\"]");
}

static void
test_scalars_and_escapes(void **state)
{
	(void) state;
	expect_doc("0401", "true");
	expect_doc("", "null");
	expect_doc("00010013000b0003000c0e0071226b04610a6201",
			   "{\"q\\\"k\":\"a\\nb\\u0001\"}");
}

/*
 * [[...[1]...]] with `depth` arrays, into b; returns its length.  Each
 * small array: count 1, size, one entry (type 0x02, offset 7) and the
 * inner array's body; the innermost holds an inlined int16 1.
 */
static size_t
nested_arrays(int depth, uint8_t *b)
{
	uint8_t		body[4096];
	size_t		len = 7;

	memcpy(body, "\x01\x00\x07\x00\x05\x01\x00", 7);
	for (int i = 1; i < depth; i++)
	{
		memmove(body + 7, body, len);
		len += 7;
		body[0] = 1;
		body[1] = 0;
		body[2] = (uint8_t) (len & 0xFF);
		body[3] = (uint8_t) (len >> 8);
		body[4] = 0x02;
		body[5] = 7;
		body[6] = 0;
	}
	b[0] = 0x02;
	memcpy(b + 1, body, len);
	return len + 1;
}

static void
test_malformed_documents_fail(void **state)
{
	uint8_t		b[4096];
	char	   *got;

	(void) state;
	/* a value offset past the container's size */
	expect_doc("02010009000c7f000000", "error: JSON: value offset out of bounds");
	/* a size larger than the data */
	expect_doc("0201009900", "error: JSON: container header out of bounds");
	/* a bad literal, an unknown type */
	expect_doc("0409", "error: JSON: bad literal");
	expect_doc("0e00", "error: JSON: unknown value type 0x0e");
	/* a string longer than what follows */
	expect_doc("0c0561", "error: JSON: string out of bounds");
	/* arrays nested deeper than MySQL allows (100) */
	got = decode(b, nested_arrays(101, b));
	assert_string_equal(got, "error: JSON: nested deeper than 100");
	free(got);
	got = decode(b, nested_arrays(99, b));
	assert_int_equal(got[0], '[');
	free(got);
	/* every prefix of a valid document fails or decodes, never overreads */
	{
		size_t		len = unhex("0003003300190001001a0001001b000100050100021c000b2b0061626303000f00"
								"0401000400000c0d000178000000000000f83f", b);

		for (size_t cut = 0; cut < len; cut++)
		{
			uint8_t    *copy = trib_xmalloc(cut ? cut : 1);

			memcpy(copy, b, cut);
			free(decode(copy, cut));
			free(copy);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_object_nested_array_double),
		cmocka_unit_test(test_large_object_inlines_32_bit_integers),
		cmocka_unit_test(test_integer_extremes_and_integral_double),
		cmocka_unit_test(test_long_string_two_byte_length),
		cmocka_unit_test(test_opaque_values),
		cmocka_unit_test(test_scalars_and_escapes),
		cmocka_unit_test(test_malformed_documents_fail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
