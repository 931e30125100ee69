/*
 * kafka_wire.c: the framed formats of the Kafka sink (key_format and
 * value_format json_sr and avro), Confluent's wire format: a 0 byte, the schema id in
 * 4 bytes big endian, then the payload, so that Confluent's deserializers
 * (and any client of a Confluent-compatible registry) find the schema by
 * id in the registry's REST API.
 *
 * Design.  The envelope (format/envelope.c) still makes every record: the
 * topic, the key and, for json_sr, the JSON that follows the header, so
 * json_sr is the json value with 5 bytes in front.  avro replaces the
 * value of a row event by its row (`after`) in Avro binary
 * (kafka_avro.c), written with the Avro schema registered under the id
 * the header carries (the event's schema_doc); a delete
 * becomes one record with a null value (the tombstone that compacts the
 * key away).  Only row events stamped by the schema stage are framed:
 * truncates and logical messages keep their JSON, which never starts with
 * a 0 byte, so a reader can tell them apart.  Keys are framed the same
 * way under the key schema's id the stage stamps (schemas.keys): json_sr
 * puts the header before the JSON key, avro writes the key columns in
 * Avro binary; an event without a key schema id keeps its JSON key.
 * docs/FORMAT.md, "Wire formats", is the reader's side.
 *
 * Ownership: the encoder owns one reused buffer for values and one for
 * keys; what it returns stays valid until the next call of the same kind.
 * One thread (the sink's).
 */
#include "sink_kafka_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* One framed stream: values or keys. */
typedef struct wire_part
{
	trib_data_format format;
	kfk_avro   *avro;			/* avro only */
	unsigned char *buf;			/* json_sr: header and JSON */
	size_t		cap;
} wire_part;

struct kfk_wire
{
	wire_part	value;
	wire_part	key;
};

void
kfk_wire_header(unsigned char *out, int64_t schema_id)
{
	uint32_t	id = (uint32_t) schema_id;

	out[0] = 0;
	out[1] = (unsigned char) (id >> 24);
	out[2] = (unsigned char) (id >> 16);
	out[3] = (unsigned char) (id >> 8);
	out[4] = (unsigned char) id;
}

kfk_wire *
kfk_wire_new(const trib_kafka_conf *c, const char *placeholder)
{
	kfk_wire   *w;

	if (c->value_format == TRIB_FORMAT_JSON && c->key_format == TRIB_FORMAT_JSON)
		return NULL;
	w = trib_xcalloc(1, sizeof(*w));
	w->value.format = c->value_format;
	if (w->value.format == TRIB_FORMAT_AVRO)
		w->value.avro = kfk_avro_new(placeholder, false);
	w->key.format = c->key_format;
	if (w->key.format == TRIB_FORMAT_AVRO)
		w->key.avro = kfk_avro_new(NULL, true);
	return w;
}

void
kfk_wire_free(kfk_wire *w)
{
	if (w == NULL)
		return;
	kfk_avro_free(w->value.avro);
	free(w->value.buf);
	kfk_avro_free(w->key.avro);
	free(w->key.buf);
	free(w);
}

/* The JSON behind the header (json_sr). */
static const void *
frame_json(wire_part *w, int64_t schema_id, const char *json, size_t len, size_t *out_len)
{
	if (w->cap < len + KFK_WIRE_HEADER)
	{
		w->cap = (len + KFK_WIRE_HEADER) * 2;
		w->buf = trib_xrealloc(w->buf, w->cap);
	}
	kfk_wire_header(w->buf, schema_id);
	memcpy(w->buf + KFK_WIRE_HEADER, json, len);
	*out_len = len + KFK_WIRE_HEADER;
	return w->buf;
}

/* Whether ev is a row event the schema stage stamped. */
static bool
framed(const trib_event *ev)
{
	return ev->schema_id != 0 && ev->rel != NULL && ev->op != TRIB_OP_TRUNCATE &&
		ev->op != TRIB_OP_MESSAGE;
}

/* Does a schema id fit the header's 4 bytes? */
static bool
id_fits(int64_t schema_id, char *errbuf, size_t errlen)
{
	if (schema_id <= UINT32_MAX && schema_id >= 0)
		return true;
	snprintf(errbuf, errlen, "kafka: schema id %lld does not fit the wire format's 4 bytes",
			 (long long) schema_id);
	return false;
}

bool
kfk_wire_key(kfk_wire *w, const trib_event *ev, const trib_record *rec, const void **key,
			 size_t *len, char *errbuf, size_t errlen)
{
	const unsigned char *out;

	*key = rec->key;
	*len = rec->key_len;
	if (w->key.format == TRIB_FORMAT_JSON || rec->key == NULL || ev->key_schema_id == 0 ||
		!framed(ev))
		return true;
	if (!id_fits(ev->key_schema_id, errbuf, errlen))
		return false;
	if (w->key.format == TRIB_FORMAT_JSON_SR)
	{
		*key = frame_json(&w->key, ev->key_schema_id, rec->key, rec->key_len, len);
		return true;
	}
	if (ev->key == NULL)
		return snprintf(errbuf, errlen, "kafka: table %s.%s: the event has no key image to "
						"write as avro", ev->rel->schema, ev->rel->table), false;
	if (!kfk_avro_encode(w->key.avro, &(kfk_avro_id) {ev->key_schema_id, 0, ev->key_schema_doc},
						 ev->connector, ev->rel, ev->key, &out, len, errbuf, errlen))
		return false;
	*key = out;
	return true;
}

bool
kfk_wire_value(kfk_wire *w, const trib_event *ev, const trib_record *rec, size_t i,
			   const void **value, size_t *len, bool *skip, char *errbuf, size_t errlen)
{
	const unsigned char *out;
	bool		row;

	*skip = false;
	*value = rec->value;
	*len = rec->value_len;
	if (w->value.format == TRIB_FORMAT_JSON || !framed(ev))
		return true;
	if (!id_fits(ev->schema_id, errbuf, errlen))
		return false;
	if (w->value.format == TRIB_FORMAT_JSON_SR)
	{
		if (rec->value != NULL)
			*value = frame_json(&w->value, ev->schema_id, rec->value, rec->value_len, len);
		return true;
	}
	/* avro: one record per row event, the row or a null value */
	row = ev->after != NULL && ev->flatten != TRIB_FLAT_TOMBSTONE &&
		(ev->op != TRIB_OP_DELETE || ev->flatten == TRIB_FLAT_ROW);
	if (i > 0)
		return (*skip = true), true;
	*value = NULL;
	*len = 0;
	if (!row)
		return true;
	if (!kfk_avro_encode(w->value.avro,
						 &(kfk_avro_id) {ev->schema_id, ev->schema_version, ev->schema_doc},
						 ev->connector, ev->rel, ev->after, &out, len, errbuf, errlen))
		return false;
	*value = out;
	return true;
}
