/*
 * test_encrypt.c: the encrypt/decrypt strategies.
 *
 * AES-256-GCM (mask_gcm.c): the McGrew-Viega GCM specification test cases
 * 13 to 16 (the AES-256 ones with a 96-bit IV), the documented blob
 * format, round trips, context binding and tamper detection.
 *
 * Fernet (mask_fernet.c): the Fernet spec's acceptance vectors
 * (github.com/fernet/spec, generate.json, verify.json, invalid.json),
 * round trips, TTL and tampering.
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
#include "hex.h"
#include "keys.h"
#include "mask_fernet.h"
#include "mask_gcm.h"

/* Decode hex (test data) into a malloc'd buffer; *n its length. */
static unsigned char *
unhex(const char *hex, size_t *n)
{
	unsigned char *b = malloc(strlen(hex) / 2 + 1);

	assert_non_null(b);
	assert_true(trib_hex_decode(hex, strlen(hex), b, n));
	return b;
}

static trib_key *
key_text(const char *text, trib_key_format fmt)
{
	char		err[256];
	trib_key   *k = trib_key_parse(text, strlen(text), fmt, "test", err, sizeof(err));

	if (k == NULL)
		fail_msg("%s", err);
	return k;
}

/* ---- AES-256-GCM ---- */

typedef struct gcm_vector
{
	int			number;
	const char *key,
			   *iv,
			   *pt,
			   *aad,
			   *ct,
			   *tag;
} gcm_vector;

#define K16 "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
#define P16 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define C16 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" \
	"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"

/* McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test
 * cases 13-16 (AES-256, 96-bit IV). */
static const gcm_vector gcm_vectors[] = {
	{13, "0000000000000000000000000000000000000000000000000000000000000000",
	"000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
	{14, "0000000000000000000000000000000000000000000000000000000000000000",
		"000000000000000000000000", "00000000000000000000000000000000", "",
	"cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
	{15, K16, "cafebabefacedbaddecaf888", P16 "1aafd255", "", C16 "898015ad",
	"b094dac5d93471bdec1a502270e3cc6c"},
	{16, K16, "cafebabefacedbaddecaf888", P16,
		"feedfacedeadbeeffeedfacedeadbeefabaddad2", C16,
	"76fc6ece0f4e1768cddf8853bb2d551b"},
};

/* Seal gives the published ciphertext and tag; open inverts it. */
static void
test_gcm_known_answers(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(gcm_vectors) / sizeof(gcm_vectors[0]); i++)
	{
		const gcm_vector *v = &gcm_vectors[i];
		size_t		kl,
					nl,
					pl,
					al,
					cl,
					tl;
		unsigned char *key = unhex(v->key, &kl),
				   *iv = unhex(v->iv, &nl),
				   *pt = unhex(v->pt, &pl),
				   *aad = unhex(v->aad, &al),
				   *ct = unhex(v->ct, &cl),
				   *tag = unhex(v->tag, &tl);
		unsigned char *got = malloc(pl + 1);
		unsigned char gtag[16];

		assert_int_equal(kl, 32);
		assert_int_equal(nl, 12);
		if (!trib_gcm_seal(key, iv, aad, al, pt, pl, got, gtag))
			fail_msg("test case %d: seal failed", v->number);
		assert_memory_equal(got, ct, cl);
		if (memcmp(gtag, tag, 16) != 0)
			fail_msg("test case %d: tag mismatch", v->number);
		memset(got, 0xee, pl + 1);
		assert_true(trib_gcm_open(key, iv, aad, al, ct, cl, tag, got));
		assert_memory_equal(got, pt, pl);
		/* a flipped tag bit fails */
		tag[15] ^= 1;
		assert_false(trib_gcm_open(key, iv, aad, al, ct, cl, tag, got));
		free(key);
		free(iv);
		free(pt);
		free(aad);
		free(ct);
		free(tag);
		free(got);
	}
}

/* The text is base64(0x01 || nonce || ct || tag) with aad 0x01 || context:
 * check it against the raw primitive with test case 16's data. */
static void
test_gcm_blob_format(void **state)
{
	size_t		kl,
				nl,
				pl;
	unsigned char *key = unhex(K16, &kl);
	unsigned char *nonce = unhex("cafebabefacedbaddecaf888", &nl);
	unsigned char *pt = unhex(P16, &pl);
	char		hex[65];
	trib_key   *k;
	trib_gcm   *g;
	char		err[256];
	char	   *text = NULL;
	size_t		tlen = 0;
	unsigned char blob[256];
	size_t		bl = 0;
	unsigned char ct[128],
				tag[16];
	static const char aad[] = "\x01public.users.email";

	(void) state;
	trib_hex_encode(key, 32, hex);
	k = key_text(hex, TRIB_KEY_HEX);
	g = trib_gcm_new(k, "public.users.email", 18, false, err, sizeof(err));
	assert_non_null(g);
	assert_true(trib_gcm_encrypt_nonce(g, nonce, pt, pl, &text, &tlen, err, sizeof(err)));
	assert_int_equal(tlen, strlen(text));
	assert_int_equal(tlen, trib_b64_encoded_len(TRIB_GCM_OVERHEAD + pl, true));
	assert_true(trib_b64_decode(text, tlen, TRIB_B64_STD, TRIB_B64_PAD_REQUIRED, blob, &bl));
	assert_int_equal(bl, TRIB_GCM_OVERHEAD + pl);
	assert_int_equal(blob[0], 0x01);
	assert_memory_equal(blob + 1, nonce, 12);
	assert_true(trib_gcm_seal(key, nonce, aad, sizeof(aad) - 1, pt, pl, ct, tag));
	assert_memory_equal(blob + 13, ct, pl);
	assert_memory_equal(blob + 13 + pl, tag, 16);
	free(text);
	trib_gcm_free(g);
	trib_key_free(k);
	free(key);
	free(nonce);
	free(pt);
}

static trib_key *
gcm_key(void)
{
	return key_text("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
					TRIB_KEY_HEX);
}

/* Round trips (empty, binary, long), random nonces, both encodings. */
static void
test_gcm_round_trips(void **state)
{
	trib_key   *k = gcm_key();
	char		err[256];

	(void) state;
	for (int url = 0; url <= 1; url++)
	{
		trib_gcm   *g = trib_gcm_new(k, "ctx", 3, url, err, sizeof(err));
		static const size_t lens[] = {0, 1, 15, 16, 17, 1000};

		assert_non_null(g);
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		{
			unsigned char *v = malloc(lens[i] + 1);
			char	   *t1 = NULL,
					   *t2 = NULL;
			size_t		l1,
						l2,
						bl;
			unsigned char *back = NULL;

			for (size_t j = 0; j < lens[i]; j++)
				v[j] = (unsigned char) (j * 37);	/* includes NULs */
			assert_true(trib_gcm_encrypt(g, v, lens[i], &t1, &l1, err, sizeof(err)));
			assert_true(trib_gcm_encrypt(g, v, lens[i], &t2, &l2, err, sizeof(err)));
			assert_string_not_equal(t1, t2);	/* fresh nonce each time */
			assert_null(strpbrk(t1, url ? "+/=" : "-_"));
			if (!trib_gcm_decrypt(g, t1, l1, &back, &bl, err, sizeof(err)))
				fail_msg("len %zu: %s", lens[i], err);
			assert_int_equal(bl, lens[i]);
			assert_memory_equal(back, v, lens[i]);
			assert_int_equal(back[bl], '\0');
			free(back);
			free(t1);
			free(t2);
			free(v);
		}
		trib_gcm_free(g);
	}
	trib_key_free(k);
}

/* Another context, another key, any changed byte: authentication fails. */
static void
test_gcm_tampering(void **state)
{
	trib_key   *k = gcm_key();
	trib_key   *k2 = trib_key_dup(k);
	char		err[256];
	char	   *t = NULL;
	size_t		tl;
	unsigned char *back = NULL;
	size_t		bl;
	trib_gcm   *g,
			   *other_ctx,
			   *other_key;
	unsigned char blob[128];
	size_t		n;

	(void) state;
	k2->bytes[31] ^= 0x80;
	g = trib_gcm_new(k, "users.email", 11, false, err, sizeof(err));
	other_ctx = trib_gcm_new(k, "users.phone", 11, false, err, sizeof(err));
	other_key = trib_gcm_new(k2, "users.email", 11, false, err, sizeof(err));
	assert_true(trib_gcm_encrypt(g, "alice@example.com", 17, &t, &tl, err, sizeof(err)));
	assert_false(trib_gcm_decrypt(other_ctx, t, tl, &back, &bl, err, sizeof(err)));
	assert_non_null(strstr(err, "authentication failed"));
	assert_false(trib_gcm_decrypt(other_key, t, tl, &back, &bl, err, sizeof(err)));
	assert_non_null(strstr(err, "authentication failed"));
	/* flip one bit in every byte position of the blob in turn */
	assert_true(trib_b64_decode(t, tl, TRIB_B64_STD, TRIB_B64_PAD_REQUIRED, blob, &n));
	for (size_t i = 0; i < n; i++)
	{
		char		text[256];

		blob[i] ^= 0x04;
		trib_b64_encode(blob, n, false, true, text);
		assert_false(trib_gcm_decrypt(g, text, strlen(text), &back, &bl, err, sizeof(err)));
		assert_null(strstr(err, "alice"));
		blob[i] ^= 0x04;
	}
	/* truncated, not base64, unknown version */
	assert_false(trib_gcm_decrypt(g, t, 20, &back, &bl, err, sizeof(err)));
	assert_non_null(strstr(err, "too short"));
	assert_false(trib_gcm_decrypt(g, "not base64!", 11, &back, &bl, err, sizeof(err)));
	assert_non_null(strstr(err, "not base64"));
	blob[0] = 2;
	{
		char		text[256];

		trib_b64_encode(blob, n, false, true, text);
		assert_false(trib_gcm_decrypt(g, text, strlen(text), &back, &bl, err, sizeof(err)));
		assert_non_null(strstr(err, "unknown ciphertext version"));
	}
	free(t);
	trib_gcm_free(g);
	trib_gcm_free(other_ctx);
	trib_gcm_free(other_key);
	trib_key_free(k);
	trib_key_free(k2);
}

/* Only 32-byte keys. */
static void
test_gcm_key_length(void **state)
{
	trib_key   *k = key_text("000102030405060708090a0b0c0d0e0f", TRIB_KEY_HEX);
	char		err[256];

	(void) state;
	assert_null(trib_gcm_new(k, "", 0, false, err, sizeof(err)));
	assert_string_equal(err, "key from test is 16 bytes; encrypt (AES-256-GCM) needs 32 bytes");
	trib_key_free(k);
}

/* ---- Fernet (github.com/fernet/spec acceptance vectors) ---- */

#define FERNET_SECRET "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
#define T_19851026_012000 INT64_C(499162800)	/* 1985-10-26T01:20:00-07:00 */
#define FERNET_TOKEN "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA=="

static trib_fernet *
spec_fernet(trib_key **k)
{
	char		err[256];
	trib_fernet *f;

	*k = key_text(FERNET_SECRET, TRIB_KEY_AUTO);
	assert_int_equal((*k)->len, 32);
	f = trib_fernet_new(*k, err, sizeof(err));
	assert_non_null(f);
	return f;
}

/* generate.json: the token from fixed time and IV. */
static void
test_fernet_generate(void **state)
{
	unsigned char iv[16];
	trib_key   *k;
	trib_fernet *f = spec_fernet(&k);
	char		err[256];
	char	   *tok = NULL;
	size_t		n;

	(void) state;
	for (int i = 0; i < 16; i++)
		iv[i] = (unsigned char) i;
	assert_true(trib_fernet_encrypt_iv(f, "hello", 5, T_19851026_012000, iv, &tok, &n,
									   err, sizeof(err)));
	assert_string_equal(tok, FERNET_TOKEN);
	assert_int_equal(n, strlen(FERNET_TOKEN));
	free(tok);
	trib_fernet_free(f);
	trib_key_free(k);
}

/* verify.json: the token is "hello" at now + 1 s with a TTL of 60. */
static void
test_fernet_verify(void **state)
{
	trib_key   *k;
	trib_fernet *f = spec_fernet(&k);
	char		err[256];
	unsigned char *v = NULL;
	size_t		n;

	(void) state;
	if (!trib_fernet_decrypt(f, FERNET_TOKEN, strlen(FERNET_TOKEN), 60,
							 T_19851026_012000 + 1, &v, &n, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(n, 5);
	assert_memory_equal(v, "hello", 5);
	free(v);
	trib_fernet_free(f);
	trib_key_free(k);
}

typedef struct invalid_vector
{
	const char *desc;
	const char *token;
	int64_t		now;
	const char *reason;			/* a fragment of our message */
} invalid_vector;

/* invalid.json: every token is rejected (ttl 60), for the stated reason. */
static void
test_fernet_invalid(void **state)
{
	static const invalid_vector vs[] = {
		{"incorrect mac",
			"gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykQUFBQUFBQUFBQQ==",
		T_19851026_012000 + 1, "HMAC does not match"},
		{"too short", "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPA==",
		T_19851026_012000 + 1, "too short"},
		{"invalid base64",
			"%%%%%%%%%%%%%AECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==",
		T_19851026_012000 + 1, "not base64url"},
		{"payload size not multiple of block size",
			"gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPOm73QeoCk9uGib28Xe5vz6oxq5nmxbx_v7mrfyudzUm",
		T_19851026_012000 + 1, "whole number of blocks"},
		{"payload padding error",
			"gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0ODz4LEpdELGQAad7aNEHbf-JkLPIpuiYRLQ3RtXatOYREu2FWke6CnJNYIbkuKNqOhw==",
		T_19851026_012000 + 1, "padding"},
		{"far-future TS (unacceptable clock skew)",
			"gAAAAAAdwStRAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAnja1xKYyhd-Y6mSkTOyTGJmw2Xc2a6kBd-iX9b_qXQcw==",
		T_19851026_012000 + 1, "in the future"},
		{"expired TTL",
			"gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==",
		T_19851026_012000 + 91, "expired"},
		{"incorrect IV (causes padding error)",
			"gAAAAAAdwJ6xBQECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAkLhFLHpGtDBRLRTZeUfWgHSv49TF2AUEZ1TIvcZjK1zQ==",
		T_19851026_012000 + 1, "padding"},
	};
	trib_key   *k;
	trib_fernet *f = spec_fernet(&k);

	(void) state;
	for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++)
	{
		char		err[256] = "";
		unsigned char *v = NULL;
		size_t		n;

		if (trib_fernet_decrypt(f, vs[i].token, strlen(vs[i].token), 60, vs[i].now,
								&v, &n, err, sizeof(err)))
			fail_msg("%s: accepted", vs[i].desc);
		if (strstr(err, vs[i].reason) == NULL)
			fail_msg("%s: expected \"%s\" in \"%s\"", vs[i].desc, vs[i].reason, err);
	}
	/* the expired token itself is genuine: without a TTL it decrypts */
	{
		char		err[256];
		unsigned char *v = NULL;
		size_t		n;

		assert_true(trib_fernet_decrypt(f, vs[6].token, strlen(vs[6].token), 0,
										T_19851026_012000 + 91, &v, &n, err, sizeof(err)));
		free(v);
	}
	trib_fernet_free(f);
	trib_key_free(k);
}

/* Round trips with random IVs; a flipped bit anywhere is refused. */
static void
test_fernet_round_trip_and_tamper(void **state)
{
	trib_key   *k;
	trib_fernet *f = spec_fernet(&k);
	static const char msg[] = "4111 1111 1111 1111 / exp 12/29";
	char		err[256];
	char	   *t1 = NULL,
			   *t2 = NULL;
	size_t		l1,
				l2,
				n,
				bl;
	unsigned char *v = NULL;
	unsigned char raw[256];

	(void) state;
	assert_true(trib_fernet_encrypt(f, msg, strlen(msg), 1700000000, &t1, &l1, err,
									sizeof(err)));
	assert_true(trib_fernet_encrypt(f, msg, strlen(msg), 1700000000, &t2, &l2, err,
									sizeof(err)));
	assert_string_not_equal(t1, t2);
	assert_true(trib_fernet_decrypt(f, t1, l1, 3600, 1700000100, &v, &n, err, sizeof(err)));
	assert_int_equal(n, strlen(msg));
	assert_memory_equal(v, msg, n);
	free(v);
	assert_true(trib_b64_decode(t1, l1, TRIB_B64_URL, TRIB_B64_PAD_REQUIRED, raw, &bl));
	for (size_t i = 0; i < bl; i++)
	{
		char		text[400];

		raw[i] ^= 0x20;
		trib_b64_encode(raw, bl, true, true, text);
		assert_false(trib_fernet_decrypt(f, text, strlen(text), 0, 1700000000, &v, &n,
										 err, sizeof(err)));
		raw[i] ^= 0x20;
	}
	/* empty value: one block of padding */
	free(t1);
	assert_true(trib_fernet_encrypt(f, "", 0, 1700000000, &t1, &l1, err, sizeof(err)));
	assert_true(trib_fernet_decrypt(f, t1, l1, 0, 1700000000, &v, &n, err, sizeof(err)));
	assert_int_equal(n, 0);
	free(v);
	free(t1);
	free(t2);
	trib_fernet_free(f);
	trib_key_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcm_known_answers),
		cmocka_unit_test(test_gcm_blob_format),
		cmocka_unit_test(test_gcm_round_trips),
		cmocka_unit_test(test_gcm_tampering),
		cmocka_unit_test(test_gcm_key_length),
		cmocka_unit_test(test_fernet_generate),
		cmocka_unit_test(test_fernet_verify),
		cmocka_unit_test(test_fernet_invalid),
		cmocka_unit_test(test_fernet_round_trip_and_tamper),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
