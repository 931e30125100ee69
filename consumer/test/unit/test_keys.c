/*
 * test_keys.c: the strict hex/base64 codec (textcodec.c, RFC 4648 test
 * vectors and rejections) and key loading (keys.c): environment and
 * file sources, each format, trimming, the errors (which must name the
 * source and never the key), and log redaction of loaded key text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "hex.h"
#include "keys.h"
#include "log.h"

static char tmpdir[] = "/tmp/trib-test-keys.XXXXXX";

/* Write data[0..n) to tmpdir/name; returns the path (static buffer). */
static const char *
write_file(const char *name, const void *data, size_t n)
{
	static char path[512];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
	return path;
}

/* RFC 4648 section 10 vectors, both ways, padded and not. */
static void
test_base64_rfc4648(void **state)
{
	static const char *const v[][2] = {
		{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
		{"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
	{
		char		enc[16];
		unsigned char dec[16];
		size_t		n = 99;
		size_t		plen = strlen(v[i][1]);
		size_t		unpadded = strcspn(v[i][1], "=");

		assert_int_equal(trib_b64_encode((const unsigned char *) v[i][0], strlen(v[i][0]),
										 false, true, enc), plen);
		assert_string_equal(enc, v[i][1]);
		assert_int_equal(trib_b64_encoded_len(strlen(v[i][0]), true), plen);
		assert_int_equal(trib_b64_encode((const unsigned char *) v[i][0], strlen(v[i][0]),
										 true, false, enc), unpadded);
		assert_int_equal(trib_b64_encoded_len(strlen(v[i][0]), false), unpadded);
		assert_true(trib_b64_decode(v[i][1], plen, TRIB_B64_STD, TRIB_B64_PAD_REQUIRED,
									dec, &n));
		assert_int_equal(n, strlen(v[i][0]));
		assert_memory_equal(dec, v[i][0], n);
		assert_true(trib_b64_decode(v[i][1], unpadded, TRIB_B64_ANY, TRIB_B64_PAD_OPTIONAL,
									dec, &n));
		assert_int_equal(n, strlen(v[i][0]));
		if (unpadded != plen)
		{
			assert_false(trib_b64_decode(v[i][1], unpadded, TRIB_B64_STD,
										 TRIB_B64_PAD_REQUIRED, dec, &n));
			assert_false(trib_b64_decode(v[i][1], plen, TRIB_B64_STD,
										 TRIB_B64_PAD_FORBIDDEN, dec, &n));
		}
	}
}

/* What strict decoding refuses. */
static void
test_base64_strict(void **state)
{
	static const char *const bad[] = {
		"Zg=", "Zg===", "Z===", "Z", "Zm9vY", "Zm9v\n", " Zm9v", "Zm=v", "Zh==",
		"Zm9=", "Zm9vYg=a", "=Zm9", "Zm9vY+-_",
	};
	unsigned char out[16];
	size_t		n;
	unsigned char bytes[] = {0xfb, 0xff, 0xfe};

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (trib_b64_decode(bad[i], strlen(bad[i]), TRIB_B64_ANY, TRIB_B64_PAD_OPTIONAL,
							out, &n))
			fail_msg("accepted \"%s\"", bad[i]);
	/* alphabets: +/ only in STD, -_ only in URL */
	assert_true(trib_b64_decode("+//+", 4, TRIB_B64_STD, TRIB_B64_PAD_REQUIRED, out, &n));
	assert_memory_equal(out, bytes, 3);
	assert_false(trib_b64_decode("+//+", 4, TRIB_B64_URL, TRIB_B64_PAD_REQUIRED, out, &n));
	assert_true(trib_b64_decode("-__-", 4, TRIB_B64_URL, TRIB_B64_PAD_REQUIRED, out, &n));
	assert_memory_equal(out, bytes, 3);
	assert_false(trib_b64_decode("-__-", 4, TRIB_B64_STD, TRIB_B64_PAD_REQUIRED, out, &n));
	assert_false(trib_b64_decode("+__-", 4, TRIB_B64_ANY, TRIB_B64_PAD_REQUIRED, out, &n));
}

static void
test_hex(void **state)
{
	unsigned char out[8];
	size_t		n;
	char		enc[17];
	static const unsigned char b[] = {0x00, 0xab, 0xCD, 0xff};

	(void) state;
	assert_true(trib_hex_decode("00aBCdFF", 8, out, &n));
	assert_int_equal(n, 4);
	assert_memory_equal(out, b, 4);
	assert_int_equal(trib_hex_encode(b, 4, enc), 8);
	assert_string_equal(enc, "00abcdff");
	assert_false(trib_hex_decode("abc", 3, out, &n));
	assert_false(trib_hex_decode("0g", 2, out, &n));
	assert_true(trib_hex_valid("0aF9", 4));
	assert_false(trib_hex_valid("", 0));
	assert_false(trib_hex_valid("abc", 3));
	assert_false(trib_hex_valid("ab=", 3));
}

#define HEX32 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define B64_32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static void
expect_0_to_31(const trib_key *k)
{
	assert_non_null(k);
	assert_int_equal(k->len, 32);
	for (int i = 0; i < 32; i++)
		assert_int_equal(k->bytes[i], i);
}

/* auto: hex if only hex digits, else base64 (either alphabet, padding
 * optional); whitespace around is ignored. */
static void
test_key_parse_formats(void **state)
{
	char		err[256];
	trib_key   *k;

	(void) state;
	k = trib_key_parse("  " HEX32 "\n", 67, TRIB_KEY_AUTO, "t", err, sizeof(err));
	expect_0_to_31(k);
	trib_key_free(k);
	k = trib_key_parse(B64_32 "\r\n", 46, TRIB_KEY_AUTO, "t", err, sizeof(err));
	expect_0_to_31(k);
	trib_key_free(k);
	k = trib_key_parse(B64_32, 43, TRIB_KEY_BASE64, "t", err, sizeof(err));	/* no '=' */
	expect_0_to_31(k);
	trib_key_free(k);
	k = trib_key_parse(HEX32, 64, TRIB_KEY_HEX, "t", err, sizeof(err));
	expect_0_to_31(k);
	assert_string_equal(k->source, "t");
	trib_key_free(k);
	/* raw keeps every byte, whitespace and NULs included */
	k = trib_key_parse("\0 ab\n", 5, TRIB_KEY_RAW, "t", err, sizeof(err));
	assert_non_null(k);
	assert_int_equal(k->len, 5);
	assert_memory_equal(k->bytes, "\0 ab\n", 5);
	trib_key_free(k);
	/* a Fernet key (URL-safe alphabet) */
	k = trib_key_parse("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=", 44, TRIB_KEY_AUTO,
					   "t", err, sizeof(err));
	assert_non_null(k);
	assert_int_equal(k->len, 32);
	trib_key_free(k);
}

/* Errors name the source and the formats, never the text. */
static void
test_key_parse_errors(void **state)
{
	char		err[512];
	trib_key_format f;

	(void) state;
	assert_null(trib_key_parse("not a key!", 10, TRIB_KEY_AUTO, "environment variable K",
							   err, sizeof(err)));
	assert_string_equal(err, "key from environment variable K is neither hex nor base64 "
						"(accepted: hex digits, base64 or base64url; for a binary key "
						"file set format: raw)");
	assert_null(trib_key_parse("abcdefgz", 8, TRIB_KEY_HEX, "s", err, sizeof(err)));
	assert_non_null(strstr(err, "not valid hex"));
	assert_null(strstr(err, "abcdefgz"));
	assert_null(trib_key_parse("abc", 3, TRIB_KEY_HEX, "s", err, sizeof(err)));
	assert_null(trib_key_parse("Zm9v!", 5, TRIB_KEY_BASE64, "s", err, sizeof(err)));
	assert_non_null(strstr(err, "not valid base64"));
	assert_null(trib_key_parse(" \n", 2, TRIB_KEY_AUTO, "s", err, sizeof(err)));
	assert_string_equal(err, "key from s is empty");
	assert_null(trib_key_parse("", 0, TRIB_KEY_RAW, "s", err, sizeof(err)));
	assert_true(trib_key_format_parse("raw", &f, err, sizeof(err)));
	assert_int_equal(f, TRIB_KEY_RAW);
	assert_false(trib_key_format_parse("pem", &f, err, sizeof(err)));
	assert_non_null(strstr(err, "accepted: auto, hex, base64, raw"));
}

/* From the environment; unset and bad values are clear errors. */
static void
test_key_from_env(void **state)
{
	char		err[512];
	trib_key   *k;
	char	   *red;

	(void) state;
	trib_log_clear_secrets();
	setenv("TRIB_TEST_KEY", HEX32, 1);
	k = trib_key_from_env("TRIB_TEST_KEY", TRIB_KEY_AUTO, err, sizeof(err));
	expect_0_to_31(k);
	assert_string_equal(k->source, "environment variable TRIB_TEST_KEY");
	trib_key_free(k);
	/* the key text is now redacted from logs */
	red = trib_log_redact("key=" HEX32);
	assert_string_equal(red, "key=***");
	free(red);
	trib_log_clear_secrets();

	unsetenv("TRIB_TEST_KEY_UNSET");
	assert_null(trib_key_from_env("TRIB_TEST_KEY_UNSET", TRIB_KEY_AUTO, err, sizeof(err)));
	assert_string_equal(err, "key from environment variable TRIB_TEST_KEY_UNSET: the "
						"variable is not set");
	setenv("TRIB_TEST_KEY", "s3cret-pass phrase", 1);
	assert_null(trib_key_from_env("TRIB_TEST_KEY", TRIB_KEY_AUTO, err, sizeof(err)));
	assert_null(strstr(err, "s3cret"));
	assert_non_null(strstr(err, "environment variable TRIB_TEST_KEY"));
	k = trib_key_from_ref("env:TRIB_TEST_KEY", TRIB_KEY_RAW, err, sizeof(err));
	assert_non_null(k);
	assert_int_equal(k->len, strlen("s3cret-pass phrase"));
	trib_key_free(k);
	unsetenv("TRIB_TEST_KEY");
}

/* From files: text with a newline, raw binary, and the file errors. */
static void
test_key_from_file(void **state)
{
	char		err[512];
	unsigned char raw[32];
	char		big[TRIB_KEY_FILE_MAX + 2];
	const char *p;
	trib_key   *k;
	char		ref[600];

	(void) state;
	p = write_file("hex.key", HEX32 "\n", 65);
	k = trib_key_from_file(p, TRIB_KEY_AUTO, err, sizeof(err));
	expect_0_to_31(k);
	trib_key_free(k);
	snprintf(ref, sizeof(ref), "file:%s", p);
	k = trib_key_from_ref(ref, TRIB_KEY_HEX, err, sizeof(err));
	expect_0_to_31(k);
	trib_key_free(k);
	trib_log_clear_secrets();

	for (int i = 0; i < 32; i++)
		raw[i] = (unsigned char) i;
	p = write_file("raw.key", raw, 32);
	k = trib_key_from_file(p, TRIB_KEY_RAW, err, sizeof(err));
	expect_0_to_31(k);
	trib_key_free(k);
	/* a binary file read as auto: clear advice */
	assert_null(trib_key_from_file(p, TRIB_KEY_AUTO, err, sizeof(err)));
	assert_non_null(strstr(err, "set format: raw"));
	assert_non_null(strstr(err, "raw.key"));

	memset(big, 'a', sizeof(big));
	p = write_file("big.key", big, sizeof(big));
	assert_null(trib_key_from_file(p, TRIB_KEY_AUTO, err, sizeof(err)));
	assert_non_null(strstr(err, "larger than 4096 bytes"));
	assert_null(trib_key_from_file("/nonexistent/k", TRIB_KEY_AUTO, err, sizeof(err)));
	assert_string_equal(err, "key file /nonexistent/k: cannot open: No such file or directory");
	assert_null(trib_key_from_file(tmpdir, TRIB_KEY_AUTO, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
	assert_null(trib_key_from_ref("vault:x", TRIB_KEY_AUTO, err, sizeof(err)));
	assert_string_equal(err, "key reference must be env:NAME or file:PATH");
}

/* Length checks name the source and the accepted lengths. */
static void
test_key_require(void **state)
{
	static const size_t aes[] = {16, 24, 32};
	char		err[512];
	trib_key   *k = trib_key_parse(HEX32, 64, TRIB_KEY_HEX, "key file /k", err, sizeof(err));

	(void) state;
	assert_true(trib_key_require_lens(k, aes, 3, "x", err, sizeof(err)));
	assert_false(trib_key_require_lens(k, aes, 2, "tokenize", err, sizeof(err)));
	assert_string_equal(err, "key from key file /k is 32 bytes; tokenize needs 16 or 24 bytes");
	assert_true(trib_key_require_range(k, 16, 64, "hash", err, sizeof(err)));
	assert_false(trib_key_require_range(k, 33, 64, "hash", err, sizeof(err)));
	assert_string_equal(err, "key from key file /k is 32 bytes; hash needs 33 to 64 bytes");
	trib_key_free(k);
}

static int
group_setup(void **state)
{
	(void) state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int
group_teardown(void **state)
{
	static const char *const names[] = {"hex.key", "raw.key", "big.key"};
	char		path[600];

	(void) state;
	for (size_t i = 0; i < 3; i++)
	{
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	trib_log_clear_secrets();
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_rfc4648),
		cmocka_unit_test(test_base64_strict),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_key_parse_formats),
		cmocka_unit_test(test_key_parse_errors),
		cmocka_unit_test(test_key_from_env),
		cmocka_unit_test(test_key_from_file),
		cmocka_unit_test(test_key_require),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
