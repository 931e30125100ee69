/*
 * test_seal.c: sealing short texts with AES-256-GCM (seal.h): a round
 * trip gives the text back and hides it; a wrong key, other associated
 * data, or any changed byte of the sealed text fail the tag check; a text
 * that is not sealed is recognised as such; an unknown version and a
 * missing key are refused with a message that holds no key material.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"
#include "keys.h"
#include "seal.h"

#define KEY_A "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define KEY_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define PLAIN "{\"token\":{\"_data\":\"82\"},\"_id\":{\"email\":\"alice@example.com\"}}"
#define AAD "pipeline\0source"

/* A key from hex text. */
static trib_key *
key_of(const char *hex)
{
	char		err[256];
	trib_key   *k = trib_key_parse(hex, strlen(hex), TRIB_KEY_HEX, "test key", err, sizeof(err));

	assert_non_null(k);
	return k;
}

/* Seal PLAIN under KEY_A and AAD (malloc'd). */
static char *
sealed_plain(const trib_key *k)
{
	char		err[256] = "";
	char	   *s = trib_seal(k, (const unsigned char *) AAD, sizeof(AAD), PLAIN, err, sizeof(err));

	assert_non_null(s);
	return s;
}

static void
a_sealed_text_opens_to_the_same_text_and_hides_it(void **state)
{
	trib_key   *k = key_of(KEY_A);
	char	   *s = sealed_plain(k);
	char	   *again = sealed_plain(k);
	char	   *out = NULL;
	char		err[256] = "";

	(void) state;
	assert_true(trib_seal_is_sealed(s));
	assert_null(strstr(s, "alice"));
	assert_non_null(strstr(s, "\"tributary_sealed\":1"));
	assert_string_not_equal(s, again);	/* a fresh nonce each time */
	assert_int_equal(trib_unseal(k, (const unsigned char *) AAD, sizeof(AAD), s, &out, err,
								 sizeof(err)), 1);
	assert_string_equal(out, PLAIN);
	free(out);
	free(s);
	free(again);
	trib_key_free(k);
}

static void
a_wrong_key_or_other_aad_does_not_open(void **state)
{
	trib_key   *a = key_of(KEY_A),
			   *b = key_of(KEY_B);
	char	   *s = sealed_plain(a);
	char	   *out = NULL;
	char		err[256] = "";

	(void) state;
	assert_int_equal(trib_unseal(b, (const unsigned char *) AAD, sizeof(AAD), s, &out, err,
								 sizeof(err)), -1);
	assert_null(out);
	assert_non_null(strstr(err, "does not open with the key given"));
	assert_null(strstr(err, "ffeedd"));
	assert_int_equal(trib_unseal(a, (const unsigned char *) "pipeline\0other", 15, s, &out, err,
								 sizeof(err)), -1);
	assert_null(out);
	free(s);
	trib_key_free(a);
	trib_key_free(b);
}

/* Flip one bit of byte i of the decoded data and put it back. */
static char *
flip(const char *sealed, size_t i)
{
	const char *d = strstr(sealed, "\"data\":\"") + 8;
	size_t		dlen = strcspn(d, "\"");
	unsigned char blob[512];
	size_t		blen = 0;
	char	   *out = malloc(strlen(sealed) + 1);

	assert_true(trib_b64_decode(d, dlen, TRIB_B64_STD, TRIB_B64_PAD_REQUIRED, blob, &blen));
	assert_true(i < blen);
	blob[i] ^= 0x01;
	strcpy(out, sealed);
	trib_b64_encode(blob, blen, false, true, out + (d - sealed));
	out[(d - sealed) + dlen] = '"';
	return out;
}

static void
any_changed_byte_fails_the_tag(void **state)
{
	trib_key   *k = key_of(KEY_A);
	char	   *s = sealed_plain(k);
	size_t		blen = 12 + strlen(PLAIN) + 16;

	(void) state;
	/* the nonce, the first and last ciphertext bytes, the tag */
	const size_t at[] = {0, 11, 12, 12 + strlen(PLAIN) - 1, blen - 16, blen - 1};

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
	{
		char	   *t = flip(s, at[i]);
		char	   *out = NULL;
		char		err[256] = "";

		assert_int_equal(trib_unseal(k, (const unsigned char *) AAD, sizeof(AAD), t, &out,
									 err, sizeof(err)), -1);
		assert_null(out);
		free(t);
	}
	free(s);
	trib_key_free(k);
}

static void
a_clear_text_is_not_sealed(void **state)
{
	trib_key   *k = key_of(KEY_A);
	char	   *out = (char *) "x";
	char		err[256] = "";

	(void) state;
	assert_false(trib_seal_is_sealed(PLAIN));
	assert_int_equal(trib_unseal(k, (const unsigned char *) AAD, sizeof(AAD), PLAIN, &out, err,
								 sizeof(err)), 0);
	assert_null(out);
	/* the member's name inside a string is not the member */
	assert_int_equal(trib_unseal(k, NULL, 0, "{\"x\":\"\\\"tributary_sealed\\\"\"}", &out, err,
								 sizeof(err)), 0);
	assert_int_equal(trib_unseal(NULL, NULL, 0, PLAIN, &out, err, sizeof(err)), 0);
	trib_key_free(k);
}

static void
no_key_an_unknown_version_or_a_short_key_are_refused(void **state)
{
	trib_key   *k = key_of(KEY_A);
	trib_key   *shortk = key_of("00112233445566778899aabbccddeeff");
	char	   *s = sealed_plain(k);
	char	   *out = NULL;
	char		err[256] = "";
	char	   *v2 = strdup(s);

	(void) state;
	assert_int_equal(trib_unseal(NULL, (const unsigned char *) AAD, sizeof(AAD), s, &out, err,
								 sizeof(err)), -1);
	assert_non_null(strstr(err, "no key"));
	strstr(v2, "\"tributary_sealed\":1")[19] = '2';
	assert_int_equal(trib_unseal(k, (const unsigned char *) AAD, sizeof(AAD), v2, &out, err,
								 sizeof(err)), -1);
	assert_non_null(strstr(err, "does not know"));
	assert_null(trib_seal(shortk, NULL, 0, PLAIN, err, sizeof(err)));
	assert_non_null(strstr(err, "32 bytes"));
	free(v2);
	free(s);
	trib_key_free(k);
	trib_key_free(shortk);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_sealed_text_opens_to_the_same_text_and_hides_it),
		cmocka_unit_test(a_wrong_key_or_other_aad_does_not_open),
		cmocka_unit_test(any_changed_byte_fails_the_tag),
		cmocka_unit_test(a_clear_text_is_not_sealed),
		cmocka_unit_test(no_key_an_unknown_version_or_a_short_key_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
