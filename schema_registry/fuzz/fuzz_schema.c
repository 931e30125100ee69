/*
 * fuzz_schema.c: libFuzzer target for schema parsing and the
 * compatibility checker (both formats).
 *
 * Input: one byte choosing the format (bit 0: JSON or Avro) and the level
 * (the byte / 2 modulo 7), then up to four schema documents separated by
 * NUL bytes: the new schema and its previous versions.  Whatever the
 * bytes, parsing returns a schema or an error and checking a list or an
 * error, never a crash or a leak.  Properties checked on every input:
 *   - the canonical form parses again to the same canonical form, and its
 *     SHA-256 is the schema's fingerprint;
 *   - an Avro schema's Parsing Canonical Form parses again to itself;
 *   - a schema is compatible with itself under FULL_TRANSITIVE.
 *
 *   make -C schema_registry fuzz
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tribsr.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse canonical text again: same canonical form, same fingerprint. */
static void
check_canonical(const trib_sr_schema *s, trib_sr_format fmt)
{
	size_t		len;
	const char *canon = trib_sr_schema_canonical(s, &len);
	char		err[256];
	trib_sr_schema *again = trib_sr_schema_parse(fmt, canon, len, err, sizeof(err));

	if (again == NULL || strcmp(trib_sr_schema_canonical(again, NULL), canon) != 0 ||
		memcmp(trib_sr_schema_sha256(again), trib_sr_schema_sha256(s), TRIB_SR_SHA256_LEN) != 0)
		abort();
	trib_sr_schema_free(again);
	if (fmt == TRIB_SR_AVRO)
	{
		const char *pcf = trib_sr_schema_avro_pcf(s, &len);

		again = trib_sr_schema_parse(fmt, pcf, len, err, sizeof(err));
		if (again == NULL || strcmp(trib_sr_schema_avro_pcf(again, NULL), pcf) != 0)
			abort();
		trib_sr_schema_free(again);
	}
}

/* A schema reads its own data. */
static void
check_self(const trib_sr_schema *s)
{
	char		err[256];
	const trib_sr_schema *prev[] = {s};
	trib_sr_violations *v = trib_sr_check(s, prev, 1, TRIB_SR_FULL_TRANSITIVE, err, sizeof(err));

	if (v != NULL && trib_sr_violations_count(v) != 0)
		abort();
	trib_sr_violations_free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	trib_sr_schema *docs[4];
	size_t		n = 0;
	trib_sr_format fmt;
	trib_sr_level level;
	const char *p,
			   *end;
	char		err[256];

	if (size == 0)
		return 0;
	fmt = (data[0] & 1) ? TRIB_SR_AVRO : TRIB_SR_JSON;
	level = (trib_sr_level) ((data[0] / 2) % 7);
	p = (const char *) data + 1;
	end = (const char *) data + size;
	while (p <= end && n < 4)
	{
		const char *nul = memchr(p, '\0', (size_t) (end - p));
		size_t		len = nul ? (size_t) (nul - p) : (size_t) (end - p);

		docs[n] = trib_sr_schema_parse(fmt, p, len, err, sizeof(err));
		if (docs[n] != NULL)
		{
			check_canonical(docs[n], fmt);
			check_self(docs[n]);
			n++;
		}
		if (nul == NULL)
			break;
		p = nul + 1;
	}
	if (n > 1)
	{
		trib_sr_violations *v = trib_sr_check(docs[0], (const trib_sr_schema *const *) docs + 1,
											  n - 1, level, err, sizeof(err));

		for (size_t i = 0; v != NULL && i < trib_sr_violations_count(v); i++)
		{
			const trib_sr_violation *x = trib_sr_violations_get(v, i);

			if (x->kind == NULL || x->path == NULL || x->message == NULL || x->previous >= n - 1)
				abort();
		}
		trib_sr_violations_free(v);
	}
	for (size_t i = 0; i < n; i++)
		trib_sr_schema_free(docs[i]);
	return 0;
}
