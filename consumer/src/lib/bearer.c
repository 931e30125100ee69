/*
 * bearer.c: bearer tokens as SHA-256 digests compared in constant time;
 * see bearer.h.
 */
#include "bearer.h"

#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

/* Keep the token's digest. */
void
trib_bearer_init(trib_bearer *b, const char *token)
{
	memset(b, 0, sizeof(*b));
	if (token == NULL)
		return;
	SHA256((const unsigned char *) token, strlen(token), b->sha);
	b->set = true;
}

/* Compare "Bearer <token>" with the kept digest. */
bool
trib_bearer_ok(const trib_bearer *b, const char *h)
{
	unsigned char sha[TRIB_BEARER_DIGEST_LEN];

	if (!b->set || h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	SHA256((const unsigned char *) h, strlen(h), sha);
	return CRYPTO_memcmp(sha, b->sha, sizeof(sha)) == 0;
}

/* Wipe. */
void
trib_bearer_clear(trib_bearer *b)
{
	OPENSSL_cleanse(b, sizeof(*b));
}

/* 127.0.0.0/8 or ::1. */
bool
trib_bearer_addr_is_loopback(const char *address)
{
	return strncmp(address, "127.", 4) == 0 || strcmp(address, "::1") == 0;
}
