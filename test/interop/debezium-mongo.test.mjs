// test/interop/debezium-mongo.test.mjs: records that tributary wrote to
// Kafka with `format: debezium` for a MongoDB source (docs/FORMAT.md,
// "Debezium mode", "MongoDB"), read with a real Kafka client (kafkajs) and
// decoded as a consumer of Debezium's MongoDB connector does: the key's
// `id` and the `after`/`before` strings parsed with the bson package's
// EJSON.parse (legacy mode: Debezium's `after` is the Java driver's STRICT
// Extended JSON, with dates as {"$date": <ms>}), then checked against the
// documents the server holds, read with the official MongoDB driver
// (int64 kept as Long, regexes as BSONRegExp), types included.
//
// What JSON itself cannot carry is compared as a consumer sees it: an
// int32 and a double are both JSON numbers in STRICT mode, so the two are
// compared by value (the driver's default promotion makes both numbers
// on the server's side too); an int64 is {"$numberLong": ...} and is
// compared as a Long.
//
// Environment (consumer/test/e2e/95_mongodb_debezium.sh sets it):
//   KAFKA_BOOTSTRAP  the brokers tributary wrote to (the Kafka mock)
//   TOPIC            the collection's topic
//   MONGO_URI, DB, COLL  the server and the collection
//   PREFIX           the sink's topic_prefix (Debezium's topic.prefix)
//   SCHEMAS          1: schemas.enable (records are {schema, payload})
//   OPS              the ops the topic must hold, e.g. "r,c,u,d"
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EJSON } from 'bson';
import { MongoClient } from 'mongodb';
import { readAll } from './kafka-read.mjs';

const env = (k) => {
  if (!process.env[k]) throw new Error(`set ${k} (see the header of this file)`);
  return process.env[k];
};
const BOOT = env('KAFKA_BOOTSTRAP').split(',');
const TOPIC = env('TOPIC');
const DB = env('DB');
const COLL = env('COLL');
const PREFIX = env('PREFIX');
const SCHEMAS = process.env.SCHEMAS === '1';
const OPS = env('OPS').split(',');

// Debezium's STRICT text: dates are {"$date": <ms>}, which only legacy
// mode reads; $numberLong, $numberDecimal, $binary/$type, $regex/$options
// are read in every mode.
const parseStrict = (s) => EJSON.parse(s, { relaxed: false, legacy: true });
const canon = (v) => EJSON.stringify(v, { relaxed: false });
const relaxed = (v) => EJSON.stringify(v, { relaxed: true });

let client;
let records = [];

before(async () => {
  client = new MongoClient(env('MONGO_URI'), { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  for (const m of await readAll(BOOT, TOPIC)) {
    if (m.value === null) continue; // a delete's tombstone
    records.push({ key: JSON.parse(m.key.toString()), value: JSON.parse(m.value.toString()) });
  }
});

after(async () => {
  await client?.close();
});

const payload = (part) => (SCHEMAS ? part.payload : part);

test('records have the shape of Debezium MongoDB records', () => {
  assert.ok(records.length > 0, 'the topic has records');
  for (const { key, value } of records) {
    if (SCHEMAS) {
      assert.equal(value.schema.name, `${PREFIX}.${DB}.${COLL}.Envelope`);
      assert.equal(key.schema.name, `${PREFIX}.${DB}.${COLL}.Key`);
      assert.deepEqual(key.schema.fields, [{ type: 'string', optional: false, field: 'id' }]);
      const f = Object.fromEntries(value.schema.fields.map((x) => [x.field, x]));
      assert.equal(f.after.name, 'io.debezium.data.Json');
      assert.equal(f.before.name, 'io.debezium.data.Json');
      assert.equal(f.source.name, 'io.debezium.connector.mongo.Source');
      assert.equal(f.updateDescription.name,
        'io.debezium.connector.mongodb.changestream.updatedescription');
      // every payload member has a field of the schema, in order
      assert.deepEqual(Object.keys(value.payload), value.schema.fields.map((x) => x.field));
    }
    const v = payload(value);
    const k = payload(key);
    assert.deepEqual(Object.keys(k), ['id']);
    assert.equal(typeof k.id, 'string');
    assert.ok(['r', 'c', 'u', 'd'].includes(v.op), v.op);
    assert.equal(v.source.connector, 'mongodb');
    assert.equal(v.source.db, DB);
    assert.equal(v.source.collection, COLL);
    assert.equal(typeof v.source.ord, 'number');
    assert.ok(v.after === null || typeof v.after === 'string');
    assert.ok(v.before === null || typeof v.before === 'string');
    assert.ok('updateDescription' in v);
    if (v.op !== 'u') assert.equal(v.updateDescription, null);
    if (v.op === 'd') assert.equal(v.after, null);
  }
  const ops = new Set(records.map((r) => payload(r.value).op));
  for (const op of OPS) assert.ok(ops.has(op), `an op ${op} record`);
});

test("the key's id is the document's _id (relaxed Extended JSON)", () => {
  let n = 0;
  for (const { key, value } of records) {
    const v = payload(value);
    if (v.after === null) continue;
    assert.equal(canon(parseStrict(payload(key).id)), canon(parseStrict(v.after)._id));
    n++;
  }
  assert.ok(n > 0);
});

test('folded by key, the records equal the documents in the server, types included', async () => {
  const state = new Map();
  for (const { key, value } of records) {
    const v = payload(value);
    const id = canon(parseStrict(payload(key).id));
    if (v.op === 'd') state.delete(id);
    else if (v.after !== null) state.set(id, parseStrict(v.after));
  }
  const docs = await client.db(DB).collection(COLL)
    .find({}, { promoteLongs: false, bsonRegExp: true }).toArray();
  assert.equal(state.size, docs.length, 'as many documents as the server holds');
  for (const doc of docs) {
    const id = canon(doc._id);
    assert.ok(state.has(id), `a record of _id ${id}`);
    assert.equal(canon(state.get(id)), canon(doc), `document ${id}`);
  }
});

test('updates carry updateDescription as Debezium writes it', () => {
  const ups = records.map((r) => payload(r.value)).filter((v) => v.op === 'u');
  assert.ok(ups.length > 0, 'an update');
  let removed = 0;
  for (const v of ups) {
    const ud = v.updateDescription;
    if (ud === null) continue; // a replace: the change stream has none
    assert.deepEqual(Object.keys(ud), ['removedFields', 'updatedFields', 'truncatedArrays']);
    if (ud.updatedFields === null) continue; // a replace
    const fields = EJSON.parse(ud.updatedFields, { relaxed: false, legacy: true });
    const doc = parseStrict(v.after);
    for (const [name, val] of Object.entries(fields)) {
      if (name.includes('.')) continue; // a dotted path: inside the document
      assert.equal(relaxed(val), relaxed(doc[name]), `updatedFields.${name}`);
    }
    for (const name of ud.removedFields ?? []) {
      assert.ok(!(name in doc), `removed ${name} is not in after`);
      removed++;
    }
  }
  assert.ok(removed > 0, 'an update removed a field');
});

test('an int64 42 and an int32 42 are told apart', () => {
  // l42 is an int64 and n42 an int32 in every document that has them
  // (95_mongodb_debezium.sh): STRICT text keeps the difference that
  // relaxed Extended JSON loses, so EJSON.parse (legacy mode, as above)
  // gives a Long for the one and a plain number for the other.
  let n = 0;
  for (const { value } of records) {
    const v = payload(value);
    if (v.after === null) continue;
    const doc = parseStrict(v.after);
    if (!('l42' in doc)) continue;
    assert.equal(doc.l42?._bsontype, 'Long', `l42 of ${v.after.slice(0, 60)}`);
    assert.equal(doc.l42.toString(), '42');
    assert.equal(typeof doc.n42, 'number', `n42 of ${v.after.slice(0, 60)}`);
    assert.equal(doc.n42, 42);
    n++;
  }
  assert.ok(n > 0, 'a document with l42 and n42');
});
