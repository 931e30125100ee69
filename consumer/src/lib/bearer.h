/*
 * bearer.h: bearer-token checks for the HTTP APIs (the schema registry
 * API, the control API): a token kept as its SHA-256 digest, an
 * Authorization header compared with it in constant time, whether a
 * listening address is loopback (where reads may be open), and whether a
 * request's Host header names loopback (DNS rebinding: a web page whose
 * name resolves to 127.0.0.1 reaches a loopback server, but its requests
 * still carry the page's name as Host, which a browser does not let the
 * page change; open reads are only for requests that name loopback).
 *
 * Design.  The token's text is never kept: only its digest, so neither
 * its bytes nor its length leak through timing (CRYPTO_memcmp over equal
 * sized digests) and a core dump holds no token.  The header is passed in
 * as text, so this file needs no HTTP library.
 */
#ifndef TRIB_BEARER_H
#define TRIB_BEARER_H

#include <stdbool.h>

#define TRIB_BEARER_DIGEST_LEN 32	/* SHA-256 */

typedef struct trib_bearer
{
	unsigned char sha[TRIB_BEARER_DIGEST_LEN];
	bool		set;			/* a token is configured */
} trib_bearer;

/* Keep the digest of `token`; NULL leaves b without a token. */
void		trib_bearer_init(trib_bearer *b, const char *token);

/* Does the Authorization header value (NULL: none) carry the token?
 * False when no token is configured. */
bool		trib_bearer_ok(const trib_bearer *b, const char *authorization);

/* Wipe the digest. */
void		trib_bearer_clear(trib_bearer *b);

/* Is the numeric address a loopback one (127.0.0.0/8, ::1)? */
bool		trib_bearer_addr_is_loopback(const char *address);

/* Does a Host header value name loopback: "localhost", a dotted
 * 127.0.0.0/8 address or "[::1]", each with an optional ":port"?  NULL
 * (no Host: not a browser) counts as loopback. */
bool		trib_bearer_host_is_loopback(const char *host);

#endif							/* TRIB_BEARER_H */
