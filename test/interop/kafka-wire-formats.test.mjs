// test/interop/kafka-wire-formats.test.mjs: records that tributary wrote to
// Kafka with `value_format: json_sr` and `value_format: avro`, read with a
// real Kafka client (kafkajs, pinned in package-lock.json) and decoded by
// the official Confluent deserializers (@confluentinc/schemaregistry's
// JsonDeserializer and AvroDeserializer), which fetch each record's schema
// by the id in its wire-format header from the daemon's registry REST API
// (docs/FORMAT.md, "Wire formats").  The decoded rows are checked against
// the source rows.  Keys too (`key_format: json_sr` and `avro`, with
// `schemas.keys`): decoded with SerdeType.KEY against the key schema
// registered under "<subject>-key".
//
// Environment (consumer/test/e2e/50_kafka_wire_formats.sh sets it):
//   KAFKA_BOOTSTRAP  the brokers tributary wrote to (librdkafka's mock cluster)
//   SR_URL           the daemon's registry API
//   TOPIC_PLAIN, TOPIC_JSON_SR, TOPIC_AVRO   one topic per value_format
//   TOPIC_FLAT       json_sr of the rows themselves (a flatten rule)
//   TOPIC_JSON_SR_KEY, TOPIC_AVRO_KEY        keys and values both framed
//   SUBJECT_JSON, SUBJECT_AVRO               the subjects of the table
//   EXPECT           a JSON file: {"rows": the table's rows at the end, in
//                    the decoded forms below, "deleted": [ids], "events": n}
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readAll as readTopic } from './kafka-read.mjs';
import {
  AvroDeserializer, JsonDeserializer, SchemaRegistryClient, SerdeType,
} from '@confluentinc/schemaregistry';

const env = (k) => {
  if (!process.env[k]) throw new Error(`set ${k} (see the header of this file)`);
  return process.env[k];
};
const BOOT = env('KAFKA_BOOTSTRAP').split(',');
const expect = JSON.parse(readFileSync(env('EXPECT'), 'utf8'));
const client = new SchemaRegistryClient({ baseURLs: [env('SR_URL')], maxRetries: 0 });

const readAll = (topic) => readTopic(BOOT, topic);

const idOf = (m) => m.headers['tributary.id'].toString();
const header = (buf) => ({ magic: buf[0], id: buf.readUInt32BE(1) });
// The subjects' ids, version by version.
async function idsOf(subject) {
  const versions = await client.getAllVersions(subject);
  const ids = [];
  for (const v of versions) ids.push((await client.getSchemaMetadata(subject, v)).id);
  return ids;
}
// Each topic's records go to the subject the daemon registered them under.
const strategy = (subject) => ({ subjectNameStrategy: async () => subject });

let plain;
let jsonSr;
let avro;
let flat;
let jsonSrKey;
let avroKey;

test('kafkajs reads the three topics tributary wrote', async () => {
  plain = await readAll(env('TOPIC_PLAIN'));
  jsonSr = await readAll(env('TOPIC_JSON_SR'));
  avro = await readAll(env('TOPIC_AVRO'));
  flat = await readAll(env('TOPIC_FLAT'));
  jsonSrKey = await readAll(env('TOPIC_JSON_SR_KEY'));
  avroKey = await readAll(env('TOPIC_AVRO_KEY'));
  assert.ok(plain.length >= expect.events, `plain: ${plain.length} records`);
});

test('json_sr: the JSON record behind a 0 byte and the schema id of its version', async () => {
  const ids = await idsOf(env('SUBJECT_JSON'));
  assert.equal(ids.length, 2, 'two versions: before and after ADD COLUMN');
  const byId = new Map(plain.map((m) => [`${idOf(m)}/${m.value === null}`, m]));
  assert.equal(jsonSr.length, plain.length);
  for (const m of jsonSr) {
    const p = byId.get(`${idOf(m)}/${m.value === null}`);
    assert.ok(p, `event ${idOf(m)} is in the plain topic`);
    assert.deepEqual(m.key, p.key, 'the key is the JSON key');
    if (m.value === null) continue;
    const h = header(m.value);
    assert.equal(h.magic, 0);
    // each sink stamps its own envelope ts_ms (when it wrote the record)
    const noTs = (b) => b.toString().replace(/"op":"(.)","ts_ms":[0-9]+/, '"op":"$1","ts_ms":0');
    assert.equal(noTs(m.value.subarray(5)), noTs(p.value),
      `event ${idOf(m)}: the JSON after the header is the plain record, byte for byte but ts_ms`);
    const after = JSON.parse(p.value.toString()).after;
    const version = after && 'extra' in after ? 1 : 0;
    assert.equal(h.id, ids[version], `event ${idOf(m)}: the id of version ${version + 1}`);
  }
});

test('json_sr: the Confluent JsonDeserializer decodes every record', async () => {
  const de = new JsonDeserializer(client, SerdeType.VALUE, strategy(env('SUBJECT_JSON')));
  let n = 0;
  for (const m of jsonSr) {
    if (m.value === null) continue;
    const got = await de.deserialize(env('TOPIC_JSON_SR'), m.value);
    assert.deepEqual(got, JSON.parse(m.value.subarray(5).toString()));
    n++;
  }
  assert.ok(n >= expect.events - expect.deleted.length);
});

test('json_sr of flattened rows: valid against the registered JSON Schema, equal to the envelopes\' after', async () => {
  // The deserializer hands its config to ajv, which in strict mode throws
  // on a `format` it has no checker for (date-time): formats are
  // annotations here (docs/SCHEMA_REGISTRY.md, section 1), so they are
  // not asserted; types, required properties, bounds and the closed
  // content model are.
  const de = new JsonDeserializer(client, SerdeType.VALUE,
    { ...strategy(env('SUBJECT_JSON')), validate: true, validateFormats: false });
  const after = new Map(plain.filter((m) => m.value !== null)
    .map((m) => [idOf(m), JSON.parse(m.value.toString()).after]));
  let n = 0;
  for (const m of flat) {
    if (m.value === null) continue;   // the delete's tombstone
    assert.equal(m.value[0], 0);
    const row = await de.deserialize(env('TOPIC_FLAT'), m.value);
    assert.deepEqual(row, after.get(idOf(m)), `event ${idOf(m)}`);
    n++;
  }
  assert.equal(n, expect.events - expect.deleted.length);
  // and the validation is real: a row the schema does not allow is refused
  const first = flat.find((m) => m.value !== null).value;
  const forged = Buffer.concat([first.subarray(0, 5), Buffer.from('{"id":"one","bogus":1}')]);
  await assert.rejects(de.deserialize(env('TOPIC_FLAT'), forged), /Invalid message/);
});

// A decoded Avro row in the forms EXPECT uses: decimals as their unscaled
// integer text, bytes as hex, json as parsed JSON, longs as text.
function normal(row) {
  const out = {};
  for (const [k, v0] of Object.entries(row)) {
    let v = v0;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v)) {
      v = Object.values(v)[0];   // a union branch, when the decoder wraps it
    }
    if (k === 'price' && v !== null) {
      let x = 0n;
      for (const b of v) x = (x << 8n) | BigInt(b);
      if (v.length && v[0] & 0x80) x -= 1n << BigInt(8 * v.length);
      v = x.toString();
    } else if (k === 'blob' && v !== null) v = v.toString('hex');
    else if (k === 'doc' && v !== null) v = JSON.parse(v);
    else if ((k === 'big' || k === 'at') && v !== null) v = String(v);
    out[k] = v;
  }
  return out;
}

test('avro: the Confluent AvroDeserializer decodes the rows, equal to the source rows', async () => {
  const ids = await idsOf(env('SUBJECT_AVRO'));
  assert.equal(ids.length, 2, 'two Avro versions');
  const de = new AvroDeserializer(client, SerdeType.VALUE, strategy(env('SUBJECT_AVRO')));
  const last = new Map();
  const tombstones = [];
  for (const m of avro) {
    const key = JSON.parse(m.key.toString()).id;
    if (m.value === null) { tombstones.push(key); last.delete(key); continue; }
    const h = header(m.value);
    assert.equal(h.magic, 0);
    assert.ok(ids.includes(h.id), `schema id ${h.id} is one of the subject's`);
    const row = normal(await de.deserialize(env('TOPIC_AVRO'), m.value));
    assert.equal(h.id, ids['extra' in row ? 1 : 0], `row ${key}: the id of its version`);
    last.set(key, row);
  }
  assert.deepEqual(tombstones.sort(), [...expect.deleted].sort(), 'a delete is one null value');
  const want = new Map(expect.rows.map((r) => [r.id, r]));
  assert.deepEqual([...last.keys()].sort(), [...want.keys()].sort());
  for (const [k, row] of last) {
    const w = { ...want.get(k) };
    // a row last written before ADD COLUMN has no `extra` (null since)
    if (!('extra' in row) && w.extra === null) delete w.extra;
    assert.deepEqual(row, w, `row ${k}`);
  }
});

test('json_sr keys: a 0 byte, the key schema\'s id, the JSON key; the JsonDeserializer decodes them', async () => {
  const keyIds = await idsOf(`${env('SUBJECT_JSON')}-key`);
  assert.equal(keyIds.length, 1, 'one key version: ADD COLUMN leaves the key alone');
  const de = new JsonDeserializer(client, SerdeType.KEY,
    { ...strategy(`${env('SUBJECT_JSON')}-key`), validate: true });
  const plainKeys = new Map(plain.map((m) => [idOf(m), m.key.toString()]));
  assert.equal(jsonSrKey.length, plain.length);
  for (const m of jsonSrKey) {
    const h = header(m.key);
    assert.equal(h.magic, 0);
    assert.equal(h.id, keyIds[0], `event ${idOf(m)}: the key schema's id`);
    assert.equal(m.key.subarray(5).toString(), plainKeys.get(idOf(m)),
      `event ${idOf(m)}: the JSON key behind the header, byte for byte`);
    assert.deepEqual(await de.deserialize(env('TOPIC_JSON_SR_KEY'), m.key),
      JSON.parse(plainKeys.get(idOf(m))));
  }
});

test('avro keys: the AvroDeserializer decodes each key into the source\'s key', async () => {
  const keyIds = await idsOf(`${env('SUBJECT_AVRO')}-key`);
  assert.equal(keyIds.length, 1, 'one Avro key version');
  const schema = JSON.parse((await client.getSchemaMetadata(`${env('SUBJECT_AVRO')}-key`, 1)).schema);
  assert.deepEqual(schema.fields.map((f) => f.name), ['id'], 'the key columns only');
  const de = new AvroDeserializer(client, SerdeType.KEY, strategy(`${env('SUBJECT_AVRO')}-key`));
  const vde = new AvroDeserializer(client, SerdeType.VALUE, strategy(env('SUBJECT_AVRO')));
  assert.equal(avroKey.length, avro.length, 'one record per event, as with JSON keys');
  const seen = new Set();
  for (const m of avroKey) {
    const h = header(m.key);
    assert.equal(h.magic, 0);
    assert.equal(h.id, keyIds[0]);
    const key = await de.deserialize(env('TOPIC_AVRO_KEY'), m.key);
    assert.deepEqual(Object.keys(key), ['id']);
    if (m.value !== null) {
      const row = await vde.deserialize(env('TOPIC_AVRO_KEY'), m.value);
      assert.equal(row.id, key.id, 'the key is the row\'s key');
    }
    seen.add(key.id);
  }
  const want = new Set([...expect.rows.map((r) => r.id), ...expect.deleted]);
  assert.deepEqual([...seen].sort(), [...want].sort());
});
