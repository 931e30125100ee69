// test/interop/schema-registry.test.mjs: the official Confluent JavaScript
// client (@confluentinc/schemaregistry, pinned in package-lock.json)
// against tributary's schema registry REST API (docs/SCHEMA_REGISTRY.md,
// section 6), served by a running daemon.  It proves that a Confluent
// client can register, fetch by id, fetch the latest version, look a
// schema up, check compatibility (compatible and not) and set levels, and
// that it sees Confluent's error codes and the bearer token rule, and
// that bad input (an id past bigint, \u0000 in a schema) gets them too.
//
// Environment: SR_URL (required), e.g. http://127.0.0.1:PORT, and
// SR_TOKEN, the daemon's schema_registry token.  The subjects it uses are
// named after the process, so a registry that holds others is fine.
// Run by consumer/test/e2e/43_schema_registry_api.sh, or by hand:
//   SR_URL=... SR_TOKEN=... node --test --test-reporter=tap schema-registry.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestError, SchemaRegistryClient } from '@confluentinc/schemaregistry';

const URL = process.env.SR_URL;
const TOKEN = process.env.SR_TOKEN;
if (!URL || !TOKEN) throw new Error('set SR_URL and SR_TOKEN (see the header of this file)');

const client = new SchemaRegistryClient({
  baseURLs: [URL],
  bearerAuthCredentials: {
    credentialsSource: 'STATIC_TOKEN',
    token: TOKEN,
    logicalCluster: 'tributary',
    identityPoolId: 'none',
  },
  maxRetries: 0,
});
const anonymous = new SchemaRegistryClient({ baseURLs: [URL], maxRetries: 0 });

const SUBJECT = `interop-${process.pid}-value`;
const AVRO_SUBJECT = `interop-${process.pid}-avro-value`;
const v1 = {
  type: 'object',
  properties: { id: { type: 'integer' } },
  required: ['id'],
  additionalProperties: false,
};
const v2 = { ...v1, properties: { ...v1.properties, note: { type: 'string' } } };
const breaking = { ...v1, properties: { ...v1.properties, must: { type: 'string' } }, required: ['id', 'must'] };
const info = (doc) => ({ schemaType: 'JSON', schema: JSON.stringify(doc) });

// The client caches: each test reads what an earlier one wrote, in order.
let id1;

test('register a JSON schema: an id, the same one again', async () => {
  id1 = await client.register(SUBJECT, info(v1));
  assert.equal(typeof id1, 'number');
  assert.ok(id1 > 0);
  const fresh = new SchemaRegistryClient({ baseURLs: [URL], maxRetries: 0,
    bearerAuthCredentials: { credentialsSource: 'STATIC_TOKEN', token: TOKEN,
      logicalCluster: 'tributary', identityPoolId: 'none' } });
  assert.equal(await fresh.register(SUBJECT, info(v1)), id1);
});

test('get by id: the schema and its type', async () => {
  const got = await client.getBySubjectAndId(SUBJECT, id1);
  assert.equal(got.schemaType, 'JSON');
  assert.deepEqual(JSON.parse(got.schema), v1);
});

test('get latest: subject, version 1, the id', async () => {
  const meta = await client.getLatestSchemaMetadata(SUBJECT);
  assert.equal(meta.subject, SUBJECT);
  assert.equal(meta.version, 1);
  assert.equal(meta.id, id1);
  assert.deepEqual(JSON.parse(meta.schema), v1);
});

test('look a schema up: its id', async () => {
  assert.equal(await anonymous.getId(SUBJECT, info(v1)), id1);
});

test('compatibility: an added optional property is compatible', async () => {
  assert.equal(await client.testSubjectCompatibility(SUBJECT, info(v2)), true);
  assert.equal(await client.testCompatibility(SUBJECT, 1, info(v2)), true);
});

test('compatibility: an added required property is not', async () => {
  assert.equal(await client.testSubjectCompatibility(SUBJECT, info(breaking)), false);
  assert.equal(await client.testCompatibility(SUBJECT, 1, info(breaking)), false);
});

test('registering the incompatible schema: RestError 409', async () => {
  await assert.rejects(client.register(SUBJECT, info(breaking)),
    (e) => e instanceof RestError && e.status === 409 && e.errorCode === 409);
});

test('set config: the subject level, then the change registers', async () => {
  assert.equal(await client.updateCompatibility(SUBJECT, 'NONE'), 'NONE');
  assert.equal(await client.getCompatibility(SUBJECT), 'NONE');
  const id2 = await client.register(SUBJECT, info(breaking));
  assert.notEqual(id2, id1);
  assert.deepEqual(await client.getAllVersions(SUBJECT), [1, 2]);
  assert.equal(await client.updateCompatibility(SUBJECT, 'BACKWARD'), 'BACKWARD');
});

test('the default level', async () => {
  assert.equal(await client.getDefaultCompatibility(), 'BACKWARD');
});

test('Avro: register and fetch (no schemaType means AVRO)', async () => {
  const avro = { type: 'record', name: 'pay', fields: [{ name: 'id', type: 'long' }] };
  const id = await client.register(AVRO_SUBJECT, { schemaType: 'AVRO', schema: JSON.stringify(avro) });
  const got = await anonymous.getBySubjectAndId(AVRO_SUBJECT, id);
  assert.deepEqual(JSON.parse(got.schema), avro);
  assert.ok(got.schemaType === undefined || got.schemaType === 'AVRO');
});

test('Confluent error codes reach the client', async () => {
  await assert.rejects(anonymous.getLatestSchemaMetadata(`interop-${process.pid}-none`),
    (e) => e instanceof RestError && e.status === 404 && e.errorCode === 40401);
  await assert.rejects(anonymous.getBySubjectAndId(SUBJECT, 99999999),
    (e) => e instanceof RestError && e.status === 404 && e.errorCode === 40403);
});

test('bad input gets Confluent\'s codes, never a 500', async () => {
  await assert.rejects(anonymous.getSchemaMetadata(SUBJECT, 99),
    (e) => e instanceof RestError && e.status === 404 && e.errorCode === 40402);
  // an id past bigint reached the catalog, which answered 500
  await assert.rejects(anonymous.getBySubjectAndId(SUBJECT, 1e20),
    (e) => e instanceof RestError && e.status === 404 && e.errorCode === 40403);
  await assert.rejects(client.register(`interop-${process.pid}-bad`,
    { schemaType: 'AVRO', schema: '{"type":"record","name":"r"}' }),
  (e) => e instanceof RestError && e.status === 422 && e.errorCode === 42201);
});

test('a schema holding \\u0000 is refused (400), not registered cut short', async () => {
  const subject = `interop-${process.pid}-nul-value`;
  await assert.rejects(client.register(subject,
    { schemaType: 'AVRO', schema: '{"type":"string"}\u0000{"type":"int"}' }),
  (e) => e instanceof RestError && e.status === 400 && e.errorCode === 400);
  await assert.rejects(anonymous.getLatestSchemaMetadata(subject),
    (e) => e instanceof RestError && e.status === 404 && e.errorCode === 40401);
});

test('a write without the token is refused: 401', async () => {
  await assert.rejects(anonymous.register(`interop-${process.pid}-anon`, info(v1)),
    (e) => e instanceof RestError && e.status === 401 && e.errorCode === 40101);
});
