/*
 * fuzz_ciphertext.c: libFuzzer target for the parsers of ciphertexts that
 * come back from outside (authorised users, other systems): AES-256-GCM
 * blobs (mask_gcm.c), Fernet tokens (mask_fernet.c) and FF1 tokens
 * (mask_tokenize.c detokenize), with fixed keys.
 *
 * The first byte selects what the rest of the input is:
 *   0  a GCM text to decrypt (context "fuzz")
 *   1  a Fernet token to decrypt, without and with a TTL
 *   2  a token to detokenize (alphabet from the selector's high bits)
 *   3  a value to encrypt and decrypt again (GCM and Fernet) and to
 *      tokenize and detokenize again: both must give the value back, and
 *      a token must keep every non-alphabet byte in place
 * Decryption of arbitrary text must fail cleanly (it succeeds only for
 * the genuine ciphertexts in the corpus); nothing may crash or leak.
 *
 *   make -C consumer fuzz FUZZERS=fuzz/fuzz_ciphertext.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "mask_fernet.h"
#include "mask_gcm.h"
#include "mask_tokenize.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
/* The Fernet spec's example key (fernet/spec generate.json). */
#define FERNET_KEY "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
#define NOW INT64_C(499162801)

static trib_gcm *gcm;
static trib_fernet *fernet;
static trib_mask_tokenizer *tok[4];

/* Build the fixed transforms once. */
static void
init(void)
{
	char		err[256];
	trib_key   *k = trib_key_parse(KEY_HEX, 64, TRIB_KEY_HEX, "fuzz", err, sizeof(err));
	trib_key   *fk = trib_key_parse(FERNET_KEY, 44, TRIB_KEY_AUTO, "fuzz", err, sizeof(err));

	if (k == NULL || fk == NULL)
		abort();
	gcm = trib_gcm_new(k, "fuzz", 4, false, err, sizeof(err));
	fernet = trib_fernet_new(fk, err, sizeof(err));
	for (int a = 0; a < 4; a++)
		tok[a] = trib_mask_tokenize_new(k, (trib_mask_token_alphabet) a, "fuzz", 4, false, err,
										sizeof(err));
	if (gcm == NULL || fernet == NULL || !tok[0] || !tok[1] || !tok[2] || !tok[3])
		abort();
	trib_key_free(k);
	trib_key_free(fk);
}

/* Encrypt/decrypt and tokenize/detokenize v must give v back. */
static void
round_trips(const char *v, size_t n, int alpha)
{
	char		err[512];
	char	   *c = NULL;
	size_t		cn;
	unsigned char *p = NULL;
	size_t		pn;

	if (!trib_gcm_encrypt(gcm, v, n, &c, &cn, err, sizeof(err)) ||
		!trib_gcm_decrypt(gcm, c, cn, &p, &pn, err, sizeof(err)) ||
		pn != n || (n > 0 && memcmp(p, v, n) != 0))
		abort();
	free(c);
	free(p);
	if (!trib_fernet_encrypt(fernet, v, n, NOW, &c, &cn, err, sizeof(err)) ||
		!trib_fernet_decrypt(fernet, c, cn, 60, NOW, &p, &pn, err, sizeof(err)) ||
		pn != n || (n > 0 && memcmp(p, v, n) != 0))
		abort();
	free(c);
	free(p);
	if (trib_mask_tokenize(tok[alpha], v, n, &c, err, sizeof(err)))
	{
		const char *chars = trib_mask_tokenize_alphabet_chars((trib_mask_token_alphabet) alpha);

		for (size_t i = 0; i < n; i++)
			if ((v[i] == '\0' || strchr(chars, v[i]) == NULL) && c[i] != v[i])
				abort();
		char	   *back = NULL;

		if (!trib_mask_tokenize_reverse(tok[alpha], c, n, &back, err, sizeof(err)) ||
			memcmp(back, v, n) != 0)
			abort();
		free(back);
		free(c);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		err[512];
	const char *v = (const char *) data + 1;
	size_t		n = size > 0 ? size - 1 : 0;
	unsigned char *p = NULL;
	char	   *c = NULL;
	size_t		pn;

	if (gcm == NULL)
		init();
	if (size == 0)
		return 0;
	switch (data[0] % 4)
	{
		case 0:
			if (trib_gcm_decrypt(gcm, v, n, &p, &pn, err, sizeof(err)))
				free(p);
			break;
		case 1:
			if (trib_fernet_decrypt(fernet, v, n, 0, NOW, &p, &pn, err, sizeof(err)))
				free(p);
			if (trib_fernet_decrypt(fernet, v, n, 60, NOW, &p, &pn, err, sizeof(err)))
				free(p);
			break;
		case 2:
			if (trib_mask_tokenize_reverse(tok[(data[0] >> 2) % 4], v, n, &c, err, sizeof(err)))
				free(c);
			break;
		default:
			round_trips(v, n, (data[0] >> 2) % 4);
			break;
	}
	return 0;
}
