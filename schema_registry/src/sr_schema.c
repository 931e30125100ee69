/*
 * sr_schema.c: the schema object: parsing a document of either format,
 * computing its canonical form and fingerprints once, and the accessors
 * and name tables of the public header.
 *
 * Design.  Everything a registry compares on the hot path (canonical
 * text, SHA-256, the 64-bit hash, the Avro CRC-64) is computed here at
 * parse time and stored, so the accessors cost nothing and a schema is
 * immutable afterwards (safe to read from several threads).  Avro
 * documents go through libavro first, so that anything avro-c refuses
 * (and so could not encode later) is refused here with its message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <avro.h>

#include "sr_avro.h"

static const char *const level_names[] = {
	"NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE",
	"FULL", "FULL_TRANSITIVE"
};

const char *
trib_sr_format_name(trib_sr_format fmt)
{
	return fmt == TRIB_SR_AVRO ? "AVRO" : fmt == TRIB_SR_JSON ? "JSON" : "UNKNOWN";
}

bool
trib_sr_format_parse(const char *name, trib_sr_format *out)
{
	if (name == NULL)
		return false;
	if (strcasecmp(name, "JSON") == 0 || strcasecmp(name, "JSONSCHEMA") == 0)
		*out = TRIB_SR_JSON;
	else if (strcasecmp(name, "AVRO") == 0)
		*out = TRIB_SR_AVRO;
	else
		return false;
	return true;
}

const char *
trib_sr_level_name(trib_sr_level level)
{
	if ((unsigned) level >= sizeof(level_names) / sizeof(level_names[0]))
		return "UNKNOWN";
	return level_names[level];
}

bool
trib_sr_level_parse(const char *name, trib_sr_level *out)
{
	for (size_t i = 0; name != NULL && i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(name, level_names[i]) == 0)
		{
			*out = (trib_sr_level) i;
			return true;
		}
	return false;
}

/* libavro's verdict on an Avro document. */
static bool
avro_c_accepts(const char *text, size_t len, char *errbuf, size_t errlen)
{
	avro_schema_t s = NULL;

	if (avro_schema_from_json_length(text, len, &s) != 0)
	{
		const char *why = avro_strerror();

		return sr_err(errbuf, errlen, "invalid Avro schema: %s",
					  why && why[0] ? why : "rejected by libavro");
	}
	avro_schema_decref(s);
	return true;
}

/* Fill the Avro parts: model, PCF, CRC-64. */
static bool
avro_parts(trib_sr_schema *s, char *errbuf, size_t errlen)
{
	s->avro = sr_avro_build(s->root, errbuf, errlen);
	if (s->avro == NULL)
		return false;
	s->pcf = sr_avro_pcf(s->avro, &s->pcf_len);
	if (s->pcf == NULL)
		return sr_err(errbuf, errlen, "out of memory");
	s->crc64 = trib_sr_crc64_avro(s->pcf, s->pcf_len);
	return true;
}

/* The canonical text and its digests. */
static bool
canon_parts(trib_sr_schema *s, char *errbuf, size_t errlen)
{
	sr_buf		b = {0};

	sr_json_canon(&b, s->root);
	s->canon_len = b.len;
	s->canon = sr_buf_finish(&b);
	if (s->canon == NULL)
		return sr_err(errbuf, errlen, "out of memory");
	if (!sr_sha256(s->canon, s->canon_len, s->sha256))
		return sr_err(errbuf, errlen, "SHA-256 failed (OpenSSL)");
	s->hash = 0;
	for (int i = 0; i < 8; i++)
		s->hash = (s->hash << 8) | s->sha256[i];
	return true;
}

trib_sr_schema *
trib_sr_schema_parse(trib_sr_format fmt, const char *text, size_t len,
					 char *errbuf, size_t errlen)
{
	trib_sr_schema *s;
	bool		ok;

	if (fmt != TRIB_SR_JSON && fmt != TRIB_SR_AVRO)
		return sr_err(errbuf, errlen, "unknown schema format %d (JSON or AVRO)", (int) fmt), NULL;
	if (text == NULL)
		return sr_err(errbuf, errlen, "no schema document"), NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return sr_err(errbuf, errlen, "out of memory"), NULL;
	s->fmt = fmt;
	s->root = sr_json_parse(text, len, errbuf, errlen);
	ok = s->root != NULL;
	if (ok && fmt == TRIB_SR_JSON)
	{
		if (!YAJL_IS_OBJECT(s->root) && !YAJL_IS_TRUE(s->root) && !YAJL_IS_FALSE(s->root))
			ok = sr_err(errbuf, errlen, "a JSON Schema is an object or a boolean");
		else
			ok = sr_jsch_validate(s->root, errbuf, errlen);
	}
	else if (ok)
		ok = avro_c_accepts(text, len, errbuf, errlen) && avro_parts(s, errbuf, errlen);
	ok = ok && canon_parts(s, errbuf, errlen);
	if (!ok)
	{
		trib_sr_schema_free(s);
		return NULL;
	}
	return s;
}

void
trib_sr_schema_free(trib_sr_schema *s)
{
	if (s == NULL)
		return;
	yajl_tree_free(s->root);
	free(s->canon);
	sr_avro_free(s->avro);
	free(s->pcf);
	free(s);
}

trib_sr_format
trib_sr_schema_format(const trib_sr_schema *s)
{
	return s->fmt;
}

const char *
trib_sr_schema_canonical(const trib_sr_schema *s, size_t *len)
{
	if (len != NULL)
		*len = s->canon_len;
	return s->canon;
}

const unsigned char *
trib_sr_schema_sha256(const trib_sr_schema *s)
{
	return s->sha256;
}

void
trib_sr_schema_sha256_hex(const trib_sr_schema *s, char out[65])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < TRIB_SR_SHA256_LEN; i++)
	{
		out[2 * i] = hex[s->sha256[i] >> 4];
		out[2 * i + 1] = hex[s->sha256[i] & 15];
	}
	out[64] = '\0';
}

uint64_t
trib_sr_schema_hash(const trib_sr_schema *s)
{
	return s->hash;
}

const char *
trib_sr_schema_avro_pcf(const trib_sr_schema *s, size_t *len)
{
	if (len != NULL)
		*len = s->pcf_len;
	return s->pcf;
}

bool
trib_sr_schema_avro_crc64(const trib_sr_schema *s, uint64_t *fingerprint)
{
	if (s->fmt != TRIB_SR_AVRO)
		return false;
	*fingerprint = s->crc64;
	return true;
}
