/*
 * fnv.c: FNV-1a (see fnv.h).
 */
#include "fnv.h"

#include <string.h>

#define FNV_SEED 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

uint64_t
trib_fnv1a_more(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * FNV_PRIME;
	return h;
}

uint64_t
trib_fnv1a(const void *s, size_t n)
{
	return trib_fnv1a_more(FNV_SEED, s, n);
}

uint64_t
trib_fnv1a_str(const char *s)
{
	return trib_fnv1a(s, strlen(s));
}
