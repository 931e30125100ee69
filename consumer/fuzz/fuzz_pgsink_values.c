/*
 * fuzz_pgsink_values.c: libFuzzer target for the PostgreSQL sink's
 * conversion of JSON values to input text (sink_postgres_values.c over
 * the yajl index of sink_postgres_json.c).
 *
 * The first input byte picks the column's kind (t b j d a: byte % 5), the
 * array elements' kind (t b j d: bits 3-4) and bytea's hex form (bit 7); the rest is the value's JSON text
 * (any bytes, as a row image could carry).  It is converted as a plain
 * column and as a column named in a JSON null list.  Nothing may crash,
 * leak or read out of bounds; a failed conversion must say why; and a
 * json column's text, when it converts, is the value byte for byte
 * (without the white space around it).
 *
 * `make -C consumer fuzz` runs it on fuzz/corpus/pgsink_values; `make
 * check` replays the corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sink_postgres.h"
#include "strbuf.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Is c white space around a value?  yajl's: JSON's four, \v and \f. */
static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* A json column's converted text must be the input without its
 * surrounding white space. */
static void
check_json_text(const char *json, size_t len, const trib_strbuf *out)
{
	while (len > 0 && is_ws(json[len - 1]))
		len--;
	while (len > 0 && is_ws(*json))
	{
		json++;
		len--;
	}
	if (out->len != len || (len > 0 && memcmp(out->data, json, len) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char kinds[] = "tbjda";
	static const char ekinds[] = "tbjd";
	char		kind,
				ek,
				err[256];
	bool		hex,
				is_null;
	const char *json;
	size_t		len;
	trib_strbuf out = {0};

	if (size < 1)
		return 0;
	kind = kinds[data[0] % 5];
	ek = ekinds[(data[0] >> 3) % 4];
	hex = (data[0] & 0x80) != 0;
	json = (const char *) data + 1;
	len = size - 1;
	err[0] = '\0';
	if (trib_pgsink_value_text(json, len, kind, ek, hex, &out, &is_null, err, sizeof(err)))
	{
		if (kind == 'j' && !is_null)
			check_json_text(json, len, &out);
	}
	else if (err[0] == '\0')
		abort();
	trib_strbuf_free(&out);
	err[0] = '\0';
	if (!trib_pgsink_column_text("c", "[\"d\",[\"c\",0,1,2],\"c\"]", json, len, kind, ek,
								 &out, &is_null, err, sizeof(err)) && err[0] == '\0')
		abort();
	trib_strbuf_free(&out);
	return 0;
}
