/*
 * test_hmac_state.c: HMAC-SHA256 on copied states (hmac_state.c) against
 * OpenSSL's one-shot HMAC() as the reference: RFC 4231's test case 2, then
 * random keys of 0 to 200 bytes (below, at and above SHA-256's 64-byte
 * block) and messages of 0 to 300 bytes fed in random pieces, each MAC
 * computed on a copy of a keyed state that first absorbed a prefix, as
 * the masking strategies use it; the keyed state left unchanged by the
 * MACs made on its copies; and trib_sha256 against EVP_Digest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hmac_state.h"

static unsigned rnd_state = 2463534242u;

static unsigned
rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* RFC 4231, test case 2: key "Jefe". */
static void
test_rfc4231_case2(void **state)
{
	static const unsigned char want[32] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26,
		0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83,
		0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43
	};
	const char *msg = "what do ya want for nothing?";
	trib_hmac_state s;
	unsigned char mac[32];

	(void) state;
	trib_hmac_state_init(&s, "Jefe", 4);
	trib_hmac_state_update(&s, msg, strlen(msg));
	trib_hmac_state_final(&s, mac);
	assert_memory_equal(mac, want, 32);
}

/* Random keys, prefixes and messages in pieces, against HMAC(). */
static void
test_matches_openssl_hmac(void **state)
{
	unsigned char key[200],
				msg[400],
				want[32],
				got[32];
	unsigned int wlen;

	(void) state;
	for (int round = 0; round < 20000; round++)
	{
		size_t		klen = rnd() % (sizeof(key) + 1);
		size_t		plen = rnd() % 40;
		size_t		mlen = plen + rnd() % 301;
		trib_hmac_state keyed,
					h,
					before;

		for (size_t i = 0; i < klen; i++)
			key[i] = (unsigned char) rnd();
		for (size_t i = 0; i < mlen; i++)
			msg[i] = (unsigned char) rnd();
		assert_non_null(HMAC(EVP_sha256(), key, (int) klen, msg, mlen, want, &wlen));
		trib_hmac_state_init(&keyed, key, klen);
		trib_hmac_state_update(&keyed, msg, plen);
		before = keyed;
		for (int rep = 0; rep < 2; rep++)
		{
			h = keyed;
			for (size_t at = plen; at < mlen;)
			{
				size_t		n = 1 + rnd() % (mlen - at);

				trib_hmac_state_update(&h, msg + at, n);
				at += n;
			}
			trib_hmac_state_final(&h, got);
			assert_memory_equal(got, want, 32);
		}
		assert_memory_equal(&keyed, &before, sizeof(keyed));
		trib_hmac_state_clear(&keyed);
	}
}

/* trib_sha256 against EVP_Digest on random inputs of 0 to 300 bytes. */
static void
test_sha256_matches_evp(void **state)
{
	unsigned char msg[300],
				want[32],
				got[32];

	(void) state;
	for (int round = 0; round < 5000; round++)
	{
		size_t		n = rnd() % (sizeof(msg) + 1);

		for (size_t i = 0; i < n; i++)
			msg[i] = (unsigned char) rnd();
		assert_true(EVP_Digest(msg, n, want, NULL, EVP_sha256(), NULL));
		trib_sha256(msg, n, got);
		assert_memory_equal(got, want, 32);
	}
}

/* The big-endian length prefixes are the bytes they stand for. */
static void
test_be_prefixes(void **state)
{
	static const unsigned char bytes[] = {0x01, 0x02, 0x03, 0x04, 0x11, 0x12, 0x13, 0x14,
	0x15, 0x16, 0x17, 0x18};
	trib_hmac_state a,
				b;
	unsigned char ma[32],
				mb[32];

	(void) state;
	trib_hmac_state_init(&a, "k", 1);
	b = a;
	trib_hmac_state_update_be32(&a, 0x01020304u);
	trib_hmac_state_update_be64(&a, 0x1112131415161718ull);
	trib_hmac_state_update(&b, bytes, sizeof(bytes));
	trib_hmac_state_final(&a, ma);
	trib_hmac_state_final(&b, mb);
	assert_memory_equal(ma, mb, 32);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4231_case2),
		cmocka_unit_test(test_matches_openssl_hmac),
		cmocka_unit_test(test_sha256_matches_evp),
		cmocka_unit_test(test_be_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
