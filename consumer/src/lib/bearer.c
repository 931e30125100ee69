/*
 * bearer.c: bearer tokens as SHA-256 digests compared in constant time;
 * see bearer.h.
 */
#include "bearer.h"

#include <stdio.h>
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

/* Is s (n bytes) a dotted IPv4 address in 127.0.0.0/8? */
static bool
is_127_dotted(const char *s, size_t n)
{
	char		text[16];
	unsigned	a,
				b,
				c,
				d;
	int			end = -1;

	if (n == 0 || n >= sizeof(text) || strspn(s, "0123456789.") < n)
		return false;
	memcpy(text, s, n);
	text[n] = '\0';
	return sscanf(text, "%u.%u.%u.%u%n", &a, &b, &c, &d, &end) == 4 && end == (int) n &&
		a == 127 && b < 256 && c < 256 && d < 256;
}

/* "localhost", 127.x.y.z or [::1], with an optional port. */
bool
trib_bearer_host_is_loopback(const char *host)
{
	const char *colon;
	size_t		n;

	if (host == NULL)
		return true;
	if (host[0] == '[')
	{
		if (strncmp(host, "[::1]", 5) != 0)
			return false;
		host += 5;
		return host[0] == '\0' || (host[0] == ':' && host[1] != '\0' &&
									strspn(host + 1, "0123456789") == strlen(host + 1));
	}
	colon = strchr(host, ':');
	n = colon != NULL ? (size_t) (colon - host) : strlen(host);
	if (colon != NULL && (colon[1] == '\0' ||
						  strspn(colon + 1, "0123456789") != strlen(colon + 1)))
		return false;
	return (n == 9 && strncasecmp(host, "localhost", 9) == 0) || is_127_dotted(host, n);
}
