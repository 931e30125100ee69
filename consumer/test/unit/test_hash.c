/*
 * test_hash.c: the hash strategy (mask_hash.c): HMAC-SHA256 against all
 * seven RFC 4231 test cases (case 5 is defined on the first 128 bits),
 * then the strategy's documented encoding, determinism, context
 * separation, output encodings and truncation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "errf.h"
#include "hex.h"
#include "keys.h"
#include "mask_hash.h"

typedef struct rfc4231_case
{
	int			number;
	unsigned char keybyte;		/* key is keylen copies, or keyhex */
	size_t		keylen;
	const char *keyhex;
	unsigned char databyte;		/* data is datalen copies, or data */
	size_t		datalen;
	const char *data;
	const char *mac;			/* hex; case 5 gives only 128 bits */
} rfc4231_case;

/* RFC 4231 section 4, HMAC-SHA-256 results. */
static const rfc4231_case rfc4231[] = {
	{1, 0x0b, 20, NULL, 0, 0, "Hi There",
	"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
	{2, 0, 0, "4a656665", 0, 0, "what do ya want for nothing?",
	"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	{3, 0xaa, 20, NULL, 0xdd, 50, NULL,
	"773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
	{4, 0, 0, "0102030405060708090a0b0c0d0e0f10111213141516171819", 0xcd, 50, NULL,
	"82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
	{5, 0x0c, 20, NULL, 0, 0, "Test With Truncation",
	"a3b6167473100ee06e0c796c2955552b"},
	{6, 0xaa, 131, NULL, 0, 0, "Test Using Larger Than Block-Size Key - Hash Key First",
	"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
	{7, 0xaa, 131, NULL, 0, 0, "This is a test using a larger than block-size key "
		"and a larger than block-size data. The key needs to be hashed before "
		"being used by the HMAC algorithm.",
	"9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
};

static void
test_hmac_rfc4231(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(rfc4231) / sizeof(rfc4231[0]); i++)
	{
		const rfc4231_case *c = &rfc4231[i];
		unsigned char key[200],
					data[200],
					mac[32];
		char		hex[65];
		size_t		kl = c->keylen,
					dl = c->datalen;

		if (c->keyhex)
			assert_true(trib_hex_decode(c->keyhex, strlen(c->keyhex), key, &kl));
		else
			memset(key, c->keybyte, kl);
		if (c->data)
		{
			dl = strlen(c->data);
			memcpy(data, c->data, dl);
		}
		else
			memset(data, c->databyte, dl);
		assert_true(trib_hmac_sha256(key, kl, data, dl, mac));
		trib_hex_encode(mac, 32, hex);
		if (strncmp(hex, c->mac, strlen(c->mac)) != 0)
			fail_msg("RFC 4231 case %d: expected %s, got %s", c->number, c->mac, hex);
	}
}

static trib_key *
test_key(unsigned char fill)
{
	char		hex[65];
	unsigned char raw[32];
	char		err[256];
	trib_key   *k;

	for (int i = 0; i < 32; i++)
		raw[i] = (unsigned char) (fill + i);
	trib_hex_encode(raw, 32, hex);
	k = trib_key_parse(hex, 64, TRIB_KEY_HEX, "test", err, sizeof(err));
	assert_non_null(k);
	return k;
}

/* Hash value under (key, context) with the given options; caller frees. */
static char *
hash_of(const trib_key *k, const char *ctx, const char *value,
		trib_mask_hash_encoding enc, size_t max_chars)
{
	char		err[256];
	char	   *out = NULL;
	size_t		n = 0;
	trib_mask_hash *h = trib_mask_hash_new(k, ctx, strlen(ctx), enc, max_chars, err,
										   sizeof(err));

	if (h == NULL)
		fail_msg("%s", err);
	assert_true(trib_mask_hash_apply(h, value, strlen(value), &out, &n, err, sizeof(err)));
	assert_int_equal(n, strlen(out));
	trib_mask_hash_free(h);
	return out;
}

/* The output is HMAC-SHA256(key, label 0x00 BE32(len ctx) ctx value),
 * built here by hand from the documentation. */
static void
test_hash_documented_encoding(void **state)
{
	trib_key   *k = test_key(1);
	static const char ctx[] = "email";
	static const char value[] = "alice@example.com";
	unsigned char msg[256];
	size_t		m = 0;
	unsigned char mac[32];
	char		hex[65];
	char	   *got;

	(void) state;
	memcpy(msg, "tributary.hash.v1", 17);
	m = 17;
	msg[m++] = 0;
	msg[m++] = 0;
	msg[m++] = 0;
	msg[m++] = 0;
	msg[m++] = (unsigned char) strlen(ctx);
	memcpy(msg + m, ctx, strlen(ctx));
	m += strlen(ctx);
	memcpy(msg + m, value, strlen(value));
	m += strlen(value);
	assert_true(trib_hmac_sha256(k->bytes, k->len, msg, m, mac));
	trib_hex_encode(mac, 32, hex);
	got = hash_of(k, ctx, value, TRIB_MASK_HASH_HEX, 0);
	assert_string_equal(got, hex);
	free(got);
	trib_key_free(k);
}

/* Same inputs agree (joins); another context, key or value differ; the
 * length prefix keeps (ctx "ab", value "c") apart from ("a", "bc"). */
static void
test_hash_determinism_and_separation(void **state)
{
	trib_key   *k = test_key(1);
	trib_key   *k2 = test_key(2);
	char	   *a = hash_of(k, "email", "bob@example.com", TRIB_MASK_HASH_HEX, 0);
	char	   *a2 = hash_of(k, "email", "bob@example.com", TRIB_MASK_HASH_HEX, 0);
	char	   *other_ctx = hash_of(k, "phone", "bob@example.com", TRIB_MASK_HASH_HEX, 0);
	char	   *other_key = hash_of(k2, "email", "bob@example.com", TRIB_MASK_HASH_HEX, 0);
	char	   *other_val = hash_of(k, "email", "bob@example.org", TRIB_MASK_HASH_HEX, 0);
	char	   *ab_c = hash_of(k, "ab", "c", TRIB_MASK_HASH_HEX, 0);
	char	   *a_bc = hash_of(k, "a", "bc", TRIB_MASK_HASH_HEX, 0);
	char	   *empty = hash_of(k, "", "", TRIB_MASK_HASH_HEX, 0);

	(void) state;
	assert_string_equal(a, a2);
	assert_string_not_equal(a, other_ctx);
	assert_string_not_equal(a, other_key);
	assert_string_not_equal(a, other_val);
	assert_string_not_equal(ab_c, a_bc);
	assert_int_equal(strlen(empty), 64);
	free(a);
	free(a2);
	free(other_ctx);
	free(other_key);
	free(other_val);
	free(ab_c);
	free(a_bc);
	free(empty);
	trib_key_free(k);
	trib_key_free(k2);
}

/* hex / base64 / base64url are encodings of the same 32 bytes; max_chars
 * truncates, and a larger limit changes nothing. */
static void
test_hash_encodings_and_truncation(void **state)
{
	trib_key   *k = test_key(7);
	char	   *hex = hash_of(k, "c", "v", TRIB_MASK_HASH_HEX, 0);
	char	   *b64 = hash_of(k, "c", "v", TRIB_MASK_HASH_BASE64, 0);
	char	   *b64u = hash_of(k, "c", "v", TRIB_MASK_HASH_BASE64URL, 0);
	char	   *t16 = hash_of(k, "c", "v", TRIB_MASK_HASH_HEX, 16);
	char	   *t255 = hash_of(k, "c", "v", TRIB_MASK_HASH_HEX, 255);
	char	   *u10 = hash_of(k, "c", "v", TRIB_MASK_HASH_BASE64URL, 10);
	unsigned char raw[32],
				r2[33],
				r3[33];
	size_t		n;

	(void) state;
	assert_int_equal(strlen(hex), 64);
	assert_int_equal(strlen(b64), 44);
	assert_int_equal(b64[43], '=');
	assert_int_equal(strlen(b64u), 43);
	assert_null(strpbrk(b64u, "+/="));
	assert_true(trib_hex_decode(hex, 64, raw, &n));
	assert_true(trib_b64_decode(b64, 44, TRIB_B64_STD, TRIB_B64_PAD_REQUIRED, r2, &n));
	assert_int_equal(n, 32);
	assert_memory_equal(raw, r2, 32);
	assert_true(trib_b64_decode(b64u, 43, TRIB_B64_URL, TRIB_B64_PAD_FORBIDDEN, r3, &n));
	assert_memory_equal(raw, r3, 32);
	assert_int_equal(strlen(t16), 16);
	assert_memory_equal(t16, hex, 16);
	assert_string_equal(t255, hex);
	assert_int_equal(strlen(u10), 10);
	assert_memory_equal(u10, b64u, 10);
	free(hex);
	free(b64);
	free(b64u);
	free(t16);
	free(t255);
	free(u10);
	trib_key_free(k);
}

/* Short keys, long contexts and unknown encodings are refused. */
static void
test_hash_errors(void **state)
{
	char		err[256];
	trib_key   *k = trib_key_parse("00112233445566778899aabbccddee", 30, TRIB_KEY_HEX,
								   "key file /run/k", err, sizeof(err));
	trib_key   *good = test_key(0);
	char		ctx[TRIB_MASK_HASH_CONTEXT_MAX + 1];
	trib_mask_hash_encoding e;

	(void) state;
	assert_non_null(k);
	assert_null(trib_mask_hash_new(k, "c", 1, TRIB_MASK_HASH_HEX, 0, err, sizeof(err)));
	assert_string_equal(err, "key from key file /run/k is 15 bytes; hash (HMAC-SHA256) "
						"needs 16 to 1024 bytes");
	memset(ctx, 'x', sizeof(ctx));
	assert_null(trib_mask_hash_new(good, ctx, sizeof(ctx), TRIB_MASK_HASH_HEX, 0, err,
								   sizeof(err)));
	assert_non_null(strstr(err, "context"));
	assert_true(trib_mask_hash_encoding_parse("base64url", &e, err, sizeof(err)));
	assert_int_equal(e, TRIB_MASK_HASH_BASE64URL);
	assert_false(trib_mask_hash_encoding_parse("sha1", &e, err, sizeof(err)));
	assert_non_null(strstr(err, "accepted: hex, base64, base64url"));
	trib_key_free(k);
	trib_key_free(good);
}

/* Length limits name the value, its length and the limit, to the byte. */
static void
test_length_limit_messages(void **state)
{
	char		err[128];
	trib_key   *good = test_key(0);
	char		ctx[TRIB_MASK_HASH_CONTEXT_MAX + 1];

	(void) state;
	memset(ctx, 'x', sizeof(ctx));
	assert_null(trib_mask_hash_new(good, ctx, sizeof(ctx), TRIB_MASK_HASH_HEX, 0, err,
								   sizeof(err)));
	assert_string_equal(err, "hash context is 1025 bytes; at most 1024 are accepted");
	assert_true(trib_errf_len_ok(7, 7, "x", err, sizeof(err)));
	assert_false(trib_errf_len_ok(8, 7, "encrypt: the value", err, sizeof(err)));
	assert_string_equal(err, "encrypt: the value is 8 bytes; at most 7 are accepted");
	assert_false(trib_errf_len_ok(8, 7, "x", NULL, 0));
	trib_key_free(good);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_hash_documented_encoding),
		cmocka_unit_test(test_hash_determinism_and_separation),
		cmocka_unit_test(test_hash_encodings_and_truncation),
		cmocka_unit_test(test_hash_errors),
		cmocka_unit_test(test_length_limit_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
