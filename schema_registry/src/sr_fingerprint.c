/*
 * sr_fingerprint.c: the two fingerprints of a schema.  SHA-256 (of the
 * canonical form) comes from OpenSSL; CRC-64-AVRO, the 64-bit Rabin
 * fingerprint the Avro specification defines for its Parsing Canonical
 * Form, is the specification's algorithm computed bit by bit (no table,
 * so no state shared between calls; schemas are short).
 */
#include <openssl/evp.h>

#include "sr_int.h"

/* The Avro specification's CRC-64-AVRO initial value and polynomial. */
#define AVRO_FP_EMPTY UINT64_C(0xc15d213aa4d7a795)

bool
sr_sha256(const void *data, size_t len, unsigned char out[TRIB_SR_SHA256_LEN])
{
	unsigned int n = 0;

	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == TRIB_SR_SHA256_LEN;
}

uint64_t
trib_sr_crc64_avro(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t	fp = AVRO_FP_EMPTY;

	for (size_t i = 0; i < len; i++)
	{
		fp ^= p[i];
		for (int bit = 0; bit < 8; bit++)
			fp = (fp >> 1) ^ (AVRO_FP_EMPTY & (0 - (fp & 1)));
	}
	return fp;
}
