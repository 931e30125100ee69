// test/interop/schema-migrate-avro.test.mjs: Avro records of a migrated
// subject (`schemas.migrations`, pinned to version 1), read with kafkajs
// and decoded by the Confluent AvroDeserializer with the schema the
// daemon's registry REST API gives for the id in each record's wire-format
// header.  Every record must carry version 1's id (in the header and in
// the tributary.schema_id / tributary.schema_version headers) and decode,
// with version 1's schema, into the values the source wrote, whatever
// ALTER TABLE did to the column types since (docs/SCHEMA_REGISTRY.md,
// section 8).
//
// Environment (consumer/test/e2e/124_schema_migrate_avro_types.sh sets it):
//   KAFKA_BOOTSTRAP  the brokers tributary wrote to (the mock cluster)
//   SR_URL           the daemon's registry API
//   TOPIC            the table's topic
//   SUBJECT          the table's subject
//   EXPECT           a JSON file: the rows, one per event, by id, in stream
//                    order per id
//                    (distinct rows: a repeated record is a resend)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readAll } from './kafka-read.mjs';
import { AvroDeserializer, SchemaRegistryClient, SerdeType } from '@confluentinc/schemaregistry';

const env = (k) => {
  if (!process.env[k]) throw new Error(`set ${k} (see the header of this file)`);
  return process.env[k];
};
const expect = JSON.parse(readFileSync(env('EXPECT'), 'utf8'));
const client = new SchemaRegistryClient({ baseURLs: [env('SR_URL')], maxRetries: 0 });

// A union branch, when the decoder wraps it, as its value.
const plain = (row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k,
  v !== null && typeof v === 'object' && !Buffer.isBuffer(v) ? Object.values(v)[0] : v]));

test('every record carries version 1 and decodes with its schema into the source values', async () => {
  const subject = env('SUBJECT');
  // the topic first, then the registry's calls one after another: reading
  // the topic takes seconds, longer than the daemon's HTTP idle timeout
  // (3 s), and a kept-alive connection the server closes just as the
  // client reuses it ends in "socket hang up" (client retries are off)
  const records = await readAll(env('KAFKA_BOOTSTRAP').split(','), env('TOPIC'));
  const v1 = await client.getSchemaMetadata(subject, 1);
  const versions = await client.getAllVersions(subject);
  assert.ok(versions.length >= 2, `the ALTERs registered versions (${versions})`);
  const de = new AvroDeserializer(client, SerdeType.VALUE,
    { subjectNameStrategy: async () => subject });
  const rows = [];
  for (const m of records) {
    assert.equal(m.value[0], 0, 'the magic byte');
    assert.equal(m.value.readUInt32BE(1), v1.id, 'the framing carries version 1\'s id');
    assert.equal(m.headers['tributary.schema_id'].toString(), String(v1.id));
    assert.equal(m.headers['tributary.schema_version'].toString(), '1');
    rows.push(plain(await de.deserialize(env('TOPIC'), m.value)));
  }
  // a restart may send again what a stopped daemon had sent (at least
  // once): each event's first record counts
  const seen = new Set();
  const once = rows.filter((r) => !seen.has(JSON.stringify(r)) && seen.add(JSON.stringify(r)));
  // in order per key (the topic's partitions are read one after another)
  once.sort((a, b) => a.id - b.id);
  assert.deepEqual(once, expect, 'every event, in order, with its source values');
});
