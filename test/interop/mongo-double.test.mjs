// test/interop/mongo-double.test.mjs: the official MongoDB Node.js driver
// against a MongoDB server, asserting what MongoDB documents and what the
// driver specifications make the driver do.  It keeps test/mongo's
// mongo_double (a TEST DOUBLE) honest: the same file runs unchanged
// against a real replica set (test/mongo/run-against-real-mongod.sh).
//
// Environment: MONGO_URI (required), e.g.
// mongodb://127.0.0.1:PORT/?replicaSet=rs0; MONGO_DOUBLE=1 also runs the
// checks that need the double's own doubleSetOplogSize command.  The
// server must accept configureFailPoint (a real mongod needs
// --setParameter enableTestCommands=1).
//
// Run: node --test --test-reporter=tap mongo-double.test.mjs
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoBulkWriteError, MongoClient, MongoServerError, Timestamp } from 'mongodb';

const URI = process.env.MONGO_URI;
const DOUBLE = process.env.MONGO_DOUBLE === '1';
if (!URI) throw new Error('set MONGO_URI (see the header of this file)');

const DB = `interop_${process.pid}_${Date.now()}`;
const AWAIT = { maxAwaitTimeMS: 100 };
let client;
const started = [];
const succeeded = [];
const failed = [];
let topologyTypes = new Set();
let awaitedHeartbeats = 0;

before(async () => {
  client = new MongoClient(URI, {
    monitorCommands: true,
    serverSelectionTimeoutMS: 5000,
    heartbeatFrequencyMS: 500,
    appName: 'tributary-interop',
  });
  client.on('commandStarted', (e) => started.push(e));
  client.on('commandSucceeded', (e) => succeeded.push(e));
  client.on('commandFailed', (e) => failed.push(e));
  client.on('topologyDescriptionChanged', (e) => topologyTypes.add(e.newDescription.type));
  client.on('serverHeartbeatSucceeded', (e) => { if (e.awaited) awaitedHeartbeats++; });
  await client.connect();
});

after(async () => {
  await failpointOff();
  await client.db(DB).dropDatabase().catch(() => {});
  await client.db(`${DB}_other`).dropDatabase().catch(() => {});
  await client.close();
});

const db = () => client.db(DB);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function failpoint(data, times = 1) {
  await client.db('admin').command({ configureFailPoint: 'failCommand', mode: { times }, data });
}

async function failpointOff() {
  await client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' }).catch(() => {});
}

async function afterCheckout(errorCode) {
  await client.db('admin').command({ configureFailPoint: 'failGetMoreAfterCursorCheckout',
    mode: errorCode ? { times: 1 } : 'off', ...(errorCode ? { data: { errorCode } } : {}) });
}

// fresh: an empty collection of its own for one test.
async function fresh(name, options = {}) {
  await db().collection(name).drop().catch(() => {});
  return db().createCollection(name, options);
}

// open: a change stream whose cursor exists on the server (watch is lazy).
async function open(target, pipeline = [], options = {}) {
  const cs = target.watch(pipeline, { ...AWAIT, ...options });
  assert.equal(await cs.tryNext(), null, 'a new change stream starts empty');
  return cs;
}

// collect: n events within ms, in order.
async function collect(cs, n, ms = 10000) {
  const out = [];
  const deadline = Date.now() + ms;
  while (out.length < n && Date.now() < deadline) {
    const ev = await cs.tryNext();
    if (ev) out.push(ev);
  }
  assert.equal(out.length, n, `expected ${n} change events, got ${out.length}: ` +
    JSON.stringify(out.map((e) => e.operationType)));
  return out;
}

// nothingMore: the stream has no further event for a while.
async function nothingMore(cs, ms = 400) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ev = await cs.tryNext();
    assert.equal(ev, null, `unexpected event ${JSON.stringify(ev)}`);
  }
}

// serverError: the MongoServerError fn rejects with.
async function serverError(fn) {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof MongoServerError, `expected a MongoServerError, got ${e}`);
    return e;
  }
  assert.fail('expected a server error, got none');
}

const ids = (events) => events.map((e) => e.documentKey?._id);
const keys = (doc) => Object.keys(doc).sort();
const changeStreamStage = (e) => e.command.pipeline[0].$changeStream;

test('the handshake finds a replica-set primary and the driver streams awaitable hellos', async () => {
  const hello = await client.db('admin').command({ hello: 1 });
  assert.equal(hello.isWritablePrimary, true);
  assert.equal(typeof hello.setName, 'string');
  assert.ok(hello.hosts.includes(hello.primary), 'the primary is among the hosts');
  assert.ok(hello.maxWireVersion >= 17, `maxWireVersion ${hello.maxWireVersion} (6.0 is 17)`);
  assert.equal(typeof hello.logicalSessionTimeoutMinutes, 'number');
  assert.ok(hello.topologyVersion?.processId, 'topologyVersion');
  assert.ok(topologyTypes.has('ReplicaSetWithPrimary'), [...topologyTypes].join());
  const deadline = Date.now() + 5000;
  while (awaitedHeartbeats === 0 && Date.now() < deadline) await sleep(100);
  assert.ok(awaitedHeartbeats > 0, 'the monitor received a streamed (awaited) hello');
});

test('insert, find, update operators, replace, upsert and delete behave as documented', async () => {
  const c = await fresh('crud');
  await c.insertMany([{ _id: 1, n: 5, tag: 'a' }, { _id: 2, n: 1, tag: 'b' }, { _id: 3, n: 9, tag: 'a' }]);
  assert.deepEqual(await c.find({ tag: 'a' }).sort({ n: -1 }).toArray(),
    [{ _id: 3, n: 9, tag: 'a' }, { _id: 1, n: 5, tag: 'a' }]);
  assert.deepEqual(await c.find({ n: { $gt: 1 } }, { projection: { tag: 0 } }).sort({ _id: 1 }).limit(1).toArray(),
    [{ _id: 1, n: 5 }]);
  const u = await c.updateOne({ _id: 1 }, { $set: { 'sub.x': 1 }, $unset: { tag: '' }, $inc: { n: 2 } });
  assert.equal(u.matchedCount, 1);
  assert.equal(u.modifiedCount, 1);
  assert.deepEqual(await c.findOne({ _id: 1 }), { _id: 1, n: 7, sub: { x: 1 } });
  const noop = await c.updateOne({ _id: 1 }, { $set: { n: 7 } });
  assert.equal(noop.modifiedCount, 0, 'setting the same value modifies nothing');
  const r = await c.replaceOne({ _id: 2 }, { fresh: true });
  assert.equal(r.modifiedCount, 1);
  assert.deepEqual(await c.findOne({ _id: 2 }), { _id: 2, fresh: true });
  const up = await c.updateOne({ _id: 4 }, { $set: { made: 'by upsert' } }, { upsert: true });
  assert.equal(up.upsertedId, 4);
  assert.deepEqual(await c.findOne({ _id: 4 }), { _id: 4, made: 'by upsert' });
  const many = await c.updateMany({}, { $inc: { v: 1 } });
  assert.equal(many.modifiedCount, 4);
  const after = await c.findOneAndUpdate({ _id: 3 }, { $set: { n: 10 } }, { returnDocument: 'after' });
  assert.equal(after.n, 10);
  assert.equal((await c.deleteOne({ _id: 3 })).deletedCount, 1);
  assert.equal(await c.countDocuments({}), 3);
  assert.equal((await c.deleteMany({})).deletedCount, 3);
  const dup = await serverError(async () => {
    await c.insertOne({ _id: 1 });
    await c.insertOne({ _id: 1 });
  });
  assert.equal(dup.code, 11000, 'a duplicate _id is DuplicateKey');
  assert.deepEqual(dup.keyValue, { _id: 1 }, 'the error names the key');
});

test('a retryable write retried after a labelled writeConcernError is applied once', async () => {
  const c = await fresh('retry');
  await c.insertOne({ _id: 'counter', n: 0 });
  const wce = { errorLabels: ['RetryableWriteError'],
    writeConcernError: { code: 91, errmsg: 'Replication is being shut down' } };
  await failpoint({ failCommands: ['insert'], ...wce });
  await c.insertOne({ _id: 3 });
  await failpoint({ failCommands: ['update'], ...wce });
  await c.updateOne({ _id: 'counter' }, { $inc: { n: 1 } });
  const sent = started.filter((e) => ['insert', 'update'].includes(e.commandName) &&
    e.command[e.commandName] === 'retry').slice(-4);
  assert.equal(sent.length, 4, 'each write was sent twice');
  assert.equal(String(sent[0].command.txnNumber), String(sent[1].command.txnNumber),
    'the retry repeats the txnNumber');
  assert.equal(await c.countDocuments({ _id: 3 }), 1);
  assert.deepEqual(await c.findOne({ _id: 'counter' }), { _id: 'counter', n: 1 },
    'the server answered the retry without applying the write again');
});

test('failCommand blockConnection delays the command, which then succeeds', async () => {
  const c = await fresh('block');
  await c.insertOne({ _id: 1 });
  await failpoint({ failCommands: ['find'], blockConnection: true, blockTimeMS: 300,
    appName: 'tributary-interop' });
  const t0 = Date.now();
  assert.deepEqual(await c.findOne({ _id: 1 }), { _id: 1 });
  assert.ok(Date.now() - t0 >= 290, `took ${Date.now() - t0} ms`);
});

test('an ordered bulkWrite stops at its first error, an unordered one goes on', async () => {
  const c = await fresh('bulk');
  const ops = [{ insertOne: { document: { _id: 1 } } }, { insertOne: { document: { _id: 1 } } },
    { insertOne: { document: { _id: 2 } } }];
  let e = await serverError(() => c.bulkWrite(ops, { ordered: true }));
  assert.ok(e instanceof MongoBulkWriteError);
  assert.equal(e.result.insertedCount, 1);
  assert.equal(e.writeErrors[0]?.index ?? e.writeErrors.index, 1);
  assert.equal(await c.countDocuments(), 1);
  await c.deleteMany({});
  e = await serverError(() => c.bulkWrite(ops, { ordered: false }));
  assert.equal(e.result.insertedCount, 2);
  assert.equal(await c.countDocuments(), 2);
  const mixed = await c.bulkWrite([
    { insertOne: { document: { _id: 3, v: 1 } } },
    { updateOne: { filter: { _id: 3 }, update: { $set: { v: 2 } } } },
    { replaceOne: { filter: { _id: 1 }, replacement: { v: 'r' } } },
    { updateOne: { filter: { _id: 9 }, update: { $set: { v: 9 } }, upsert: true } },
    { deleteOne: { filter: { _id: 2 } } },
  ]);
  assert.equal(mixed.insertedCount, 1);
  assert.equal(mixed.matchedCount, 2);
  assert.equal(mixed.modifiedCount, 2);
  assert.equal(mixed.upsertedCount, 1);
  assert.equal(mixed.deletedCount, 1);
  assert.deepEqual(await c.find().sort({ _id: 1 }).toArray(),
    [{ _id: 1, v: 'r' }, { _id: 3, v: 2 }, { _id: 9, v: 9 }]);
});

test('a committed transaction reaches a change stream whole, with lsid, txnNumber and one cluster time', async () => {
  const c = await fresh('txn');
  await c.insertOne({ _id: 0, n: 0 });
  const cs = await open(c);
  const session = client.startSession();
  try {
    await session.withTransaction(async () => {
      await c.insertOne({ _id: 1 }, { session });
      await c.insertOne({ _id: 2 }, { session });
      await c.updateOne({ _id: 0 }, { $inc: { n: 1 } }, { session });
    });
    const evs = await collect(cs, 3);
    assert.deepEqual(evs.map((e) => e.operationType), ['insert', 'insert', 'update']);
    assert.deepEqual(ids(evs), [1, 2, 0]);
    for (const ev of evs) {
      assert.ok(ev.lsid?.id?.buffer, 'lsid.id');
      assert.equal(Buffer.compare(ev.lsid.id.buffer, session.id.id.buffer), 0, 'the session\'s lsid');
      assert.ok(ev.lsid.uid, 'lsid.uid');
      assert.equal(String(ev.txnNumber), String(evs[0].txnNumber));
      assert.ok(ev.clusterTime.equals(evs[0].clusterTime), 'one cluster time');
    }
    assert.deepEqual(keys(evs[0]), ['_id', 'clusterTime', 'documentKey', 'fullDocument', 'lsid', 'ns',
      'operationType', 'txnNumber', 'wallTime']);
  } finally {
    await session.endSession();
    await cs.close();
  }
});

test('an error inside a transaction is labelled TransientTransactionError and withTransaction retries the transaction', async () => {
  const c = await fresh('transient');
  const session = client.startSession();
  try {
    await failpoint({ failCommands: ['insert'], errorCode: 91 });
    const mark = failed.length;
    let attempts = 0;
    await session.withTransaction(async () => {
      attempts++;
      await c.insertOne({ _id: 1 }, { session });
    });
    assert.equal(attempts, 2, 'the transaction ran again');
    const f = failed.slice(mark).find((e) => e.commandName === 'insert');
    assert.ok(f?.failure.hasErrorLabel('TransientTransactionError'), 'labelled by the server');
    assert.equal(await c.countDocuments(), 1);
  } finally {
    await failpointOff();
    await session.endSession();
  }
});

test('an aborted transaction leaves no data and no change event', async () => {
  const c = await fresh('abort');
  const cs = await open(c);
  const session = client.startSession();
  try {
    session.startTransaction();
    await c.insertOne({ _id: 'gone' }, { session });
    await session.abortTransaction();
    await c.insertOne({ _id: 'marker' });
    const [ev] = await collect(cs, 1);
    assert.equal(ev.documentKey._id, 'marker');
    assert.equal(await c.countDocuments({ _id: 'gone' }), 0);
  } finally {
    await session.endSession();
    await cs.close();
  }
});

test('reads see committed data only: another session\'s open transaction stays invisible until it commits', async () => {
  const c = await fresh('isolation');
  await c.insertOne({ _id: 1, v: 'committed' });
  const session = client.startSession();
  try {
    session.startTransaction();
    await c.insertOne({ _id: 2 }, { session });
    await c.updateOne({ _id: 1 }, { $set: { v: 'pending' } }, { session });
    assert.deepEqual(await c.find({}, { session }).sort({ _id: 1 }).toArray(),
      [{ _id: 1, v: 'pending' }, { _id: 2 }], 'the transaction sees its own writes');
    assert.deepEqual(await c.find().toArray(), [{ _id: 1, v: 'committed' }], 'others do not');
    assert.equal(await c.findOne({ _id: 2 }), null);
    await session.commitTransaction();
    assert.deepEqual(await c.find().sort({ _id: 1 }).toArray(), [{ _id: 1, v: 'pending' }, { _id: 2 }]);
  } finally {
    await session.endSession();
  }
});

test('a snapshot read at a cluster time sees the data as it was then', async () => {
  const c = await fresh('snapshot');
  const cs = await open(c);
  await c.insertMany([{ _id: 1, v: 1 }, { _id: 2, v: 2 }]);
  const [, second] = await collect(cs, 2);
  await cs.close();
  await c.updateOne({ _id: 1 }, { $set: { v: 10 } });
  await c.deleteOne({ _id: 2 });
  await c.insertOne({ _id: 3, v: 3 });
  const at = second.clusterTime;
  const r = await db().command({ find: 'snapshot', filter: {}, sort: { _id: 1 },
    readConcern: { level: 'snapshot', atClusterTime: at } });
  assert.deepEqual(r.cursor.firstBatch, [{ _id: 1, v: 1 }, { _id: 2, v: 2 }]);
  assert.ok(r.cursor.atClusterTime.equals(at), 'the cursor reports its atClusterTime');
  const session = client.startSession({ snapshot: true });
  try {
    const first = await c.find({}, { session }).sort({ _id: 1 }).toArray();
    await c.insertOne({ _id: 4 });
    assert.deepEqual(await c.find({}, { session }).sort({ _id: 1 }).toArray(), first,
      'a snapshot session reads at one cluster time');
  } finally {
    await session.endSession();
  }
  const e = await serverError(() => db().command({ find: 'snapshot', filter: {},
    readConcern: { level: 'snapshot', atClusterTime: new Timestamp({ t: 1, i: 0 }) } }));
  assert.equal(e.codeName, 'SnapshotTooOld');
});

test('updateLookup gives the current document, pre-images the one before, updateDescription the change', async () => {
  const c = await fresh('images', { changeStreamPreAndPostImages: { enabled: true } });
  const cs = await open(c, [], { fullDocument: 'updateLookup', fullDocumentBeforeChange: 'required' });
  try {
    await c.insertOne({ _id: 1, a: 1, keep: 'k', nested: { x: 1, y: 1 }, arr: [1, 2, 3], gone: true });
    await c.updateOne({ _id: 1 }, { $set: { a: 2, 'nested.x': 5 }, $unset: { gone: '' }, $pop: { arr: 1 } });
    await c.replaceOne({ _id: 1 }, { replaced: true });
    await c.deleteOne({ _id: 1 });
    const [ins, upd, rep, del] = await collect(cs, 4);
    assert.equal(ins.operationType, 'insert');
    assert.deepEqual(keys(ins), ['_id', 'clusterTime', 'documentKey', 'fullDocument', 'ns', 'operationType',
      'wallTime']);
    assert.deepEqual(ins.ns, { db: DB, coll: 'images' });
    assert.ok(ins.wallTime instanceof Date, 'wallTime is a date (6.0+)');
    assert.equal(upd.operationType, 'update');
    assert.deepEqual(upd.updateDescription.updatedFields, { a: 2, 'nested.x': 5,
      ...(upd.updateDescription.truncatedArrays.length ? {} : { arr: [1, 2] }) });
    assert.deepEqual(upd.updateDescription.removedFields, ['gone']);
    if (upd.updateDescription.truncatedArrays.length)
      assert.deepEqual(upd.updateDescription.truncatedArrays, [{ field: 'arr', newSize: 2 }]);
    assert.equal(upd.fullDocument, null, 'updateLookup runs after the later delete: null');
    assert.deepEqual(upd.fullDocumentBeforeChange,
      { _id: 1, a: 1, keep: 'k', nested: { x: 1, y: 1 }, arr: [1, 2, 3], gone: true });
    assert.equal(rep.operationType, 'replace');
    assert.deepEqual(rep.fullDocument, { _id: 1, replaced: true });
    assert.deepEqual(rep.fullDocumentBeforeChange,
      { _id: 1, a: 2, keep: 'k', nested: { x: 5, y: 1 }, arr: [1, 2] });
    assert.equal(del.operationType, 'delete');
    assert.equal(del.fullDocument, undefined, 'a delete has no fullDocument');
    assert.deepEqual(del.fullDocumentBeforeChange, { _id: 1, replaced: true });
    assert.deepEqual(del.documentKey, { _id: 1 });
  } finally {
    await cs.close();
  }
});

test('updateLookup returns the document as it is when the event is read', async () => {
  const c = await fresh('lookup');
  const cs = await open(c, [], { fullDocument: 'updateLookup' });
  try {
    await c.insertOne({ _id: 1, v: 0 });
    await c.updateOne({ _id: 1 }, { $set: { v: 1 } });
    await c.updateOne({ _id: 1 }, { $set: { v: 2 } });
    const [, first, second] = await collect(cs, 3);
    assert.deepEqual(first.updateDescription.updatedFields, { v: 1 });
    assert.deepEqual(first.fullDocument, { _id: 1, v: 2 }, 'the current version, not the post-image');
    assert.deepEqual(second.fullDocument, { _id: 1, v: 2 });
  } finally {
    await cs.close();
  }
});

test('pre-images follow collMod; whenAvailable is null without them and required fails', async () => {
  const c = await fresh('collmod');
  await c.insertOne({ _id: 1, v: 0 });
  let cs = await open(c, [], { fullDocumentBeforeChange: 'whenAvailable', fullDocument: 'whenAvailable' });
  try {
    await c.updateOne({ _id: 1 }, { $set: { v: 1 } });
    await db().command({ collMod: 'collmod', changeStreamPreAndPostImages: { enabled: true } });
    await c.updateOne({ _id: 1 }, { $set: { v: 2 } });
    const [off, on] = await collect(cs, 2);
    assert.equal(off.fullDocumentBeforeChange, null);
    assert.equal(off.fullDocument, null, 'no post-image without pre- and post-images');
    assert.deepEqual(on.fullDocumentBeforeChange, { _id: 1, v: 1 });
    assert.deepEqual(on.fullDocument, { _id: 1, v: 2 }, 'whenAvailable: the post-image');
  } finally {
    await cs.close();
  }
  await db().command({ collMod: 'collmod', changeStreamPreAndPostImages: { enabled: false } });
  cs = await open(c, [], { fullDocumentBeforeChange: 'required' });
  try {
    await c.updateOne({ _id: 1 }, { $set: { v: 3 } });
    const e = await serverError(() => collect(cs, 1));
    assert.equal(e.codeName, 'NoMatchingDocument');
  } finally {
    await cs.close();
  }
});

test('after failCommand closes the getMore connection the driver resumes from its last token, losing and repeating nothing', async () => {
  const c = await fresh('resume');
  const cs = await open(c);
  try {
    await c.insertOne({ _id: 1 });
    await collect(cs, 1);
    const cached = cs.resumeToken; // the event's token or a later postBatchResumeToken
    await failpoint({ failCommands: ['getMore'], closeConnection: true });
    const mark = started.length;
    await c.insertMany([{ _id: 2 }, { _id: 3 }]);
    assert.deepEqual(ids(await collect(cs, 2)), [2, 3]);
    await nothingMore(cs);
    const resumed = started.slice(mark).filter((e) => e.commandName === 'aggregate');
    assert.equal(resumed.length, 1, 'one resume');
    assert.deepEqual(changeStreamStage(resumed[0]).resumeAfter, cached,
      'resumed with resumeAfter the cached resume token');
  } finally {
    await failpointOff();
    await cs.close();
  }
});

test('a getMore failing after cursor checkout with a resumable code is labelled ResumableChangeStreamError and resumed', async () => {
  const c = await fresh('label');
  const cs = await open(c);
  try {
    await afterCheckout(91);
    const mark = failed.length;
    await c.insertOne({ _id: 1 });
    assert.deepEqual(ids(await collect(cs, 1)), [1]);
    const f = failed.slice(mark).find((e) => e.commandName === 'getMore');
    assert.ok(f, 'the getMore failed once');
    assert.equal(f.failure.code, 91);
    assert.ok(f.failure.hasErrorLabel('ResumableChangeStreamError'), 'the server labelled it');
  } finally {
    await afterCheckout(0);
    await cs.close();
  }
});

test('the label decides: failCommand with ResumableChangeStreamError resumes on code 50, without it code 6 is not resumed', async () => {
  const c = await fresh('labels');
  let cs = await open(c);
  try {
    await failpoint({ failCommands: ['getMore'], errorCode: 50, errorLabels: ['ResumableChangeStreamError'] });
    await c.insertOne({ _id: 1 });
    assert.deepEqual(ids(await collect(cs, 1)), [1]);
  } finally {
    await failpointOff();
    await cs.close();
  }
  cs = await open(c);
  try {
    await failpoint({ failCommands: ['getMore'], errorCode: 6 });
    await c.insertOne({ _id: 2 });
    const e = await serverError(() => collect(cs, 1));
    assert.equal(e.code, 6, 'failCommand adds no ResumableChangeStreamError label (SERVER-46091)');
  } finally {
    await failpointOff();
    await cs.close();
  }
});

test('a non-resumable error (ElectionInProgress, 216) reaches the application', async () => {
  const c = await fresh('fatal');
  const cs = await open(c);
  try {
    await failpoint({ failCommands: ['getMore'], errorCode: 216 });
    await c.insertOne({ _id: 1 });
    const e = await serverError(() => collect(cs, 1));
    assert.equal(e.code, 216);
    assert.equal(e.hasErrorLabel('ResumableChangeStreamError'), false);
  } finally {
    await failpointOff();
    await cs.close();
  }
});

test('resumeAfter a stored token yields exactly the later events', async () => {
  const c = await fresh('stored');
  let cs = await open(c);
  await c.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
  const evs = await collect(cs, 3);
  await cs.close();
  const token = JSON.parse(JSON.stringify(evs[0]._id)); // as a checkpoint would store it
  cs = c.watch([], { ...AWAIT, resumeAfter: token });
  try {
    assert.deepEqual(ids(await collect(cs, 2)), [2, 3]);
    await nothingMore(cs);
  } finally {
    await cs.close();
  }
});

test('while its collection is quiet the resume token follows postBatchResumeToken, and resuming from it skips nothing', async () => {
  const c = await fresh('pbrt');
  const elsewhere = await fresh('pbrt_other');
  let cs = await open(c);
  const before = cs.resumeToken;
  assert.ok(before?._data, 'the first empty batch already gives a token');
  await elsewhere.insertOne({ _id: 'not watched' });
  const deadline = Date.now() + 5000;
  while (cs.resumeToken._data === before._data && Date.now() < deadline)
    assert.equal(await cs.tryNext(), null, 'no event for a write elsewhere');
  const last = succeeded.filter((e) => e.commandName === 'getMore').at(-1);
  assert.deepEqual(cs.resumeToken, last.reply.cursor.postBatchResumeToken,
    'resumeToken is the postBatchResumeToken of the last empty batch');
  assert.ok(cs.resumeToken._data > before._data, 'the token moved past the write elsewhere');
  const token = cs.resumeToken;
  await cs.close();
  await c.insertOne({ _id: 'after' });
  cs = c.watch([], { ...AWAIT, resumeAfter: token });
  try {
    assert.deepEqual(ids(await collect(cs, 1)), ['after']);
  } finally {
    await cs.close();
  }
});

test('dropping a watched collection gives drop then invalidate; startAfter the invalidate goes on, resumeAfter it fails', async () => {
  const c = await fresh('dropme');
  let cs = await open(c);
  let inval;
  try {
    await c.insertOne({ _id: 1 });
    await c.drop();
    const evs = await collect(cs, 3);
    assert.deepEqual(evs.map((e) => e.operationType), ['insert', 'drop', 'invalidate']);
    assert.deepEqual(evs[1].ns, { db: DB, coll: 'dropme' });
    inval = evs[2];
    assert.deepEqual(keys(inval), ['_id', 'clusterTime', 'operationType', 'wallTime']);
  } finally {
    await cs.close();
  }
  await c.insertOne({ _id: 'reborn' });
  cs = c.watch([], { ...AWAIT, startAfter: inval._id });
  try {
    assert.deepEqual(ids(await collect(cs, 1)), ['reborn']);
  } finally {
    await cs.close();
  }
  cs = c.watch([], { ...AWAIT, resumeAfter: inval._id });
  try {
    const e = await serverError(() => cs.tryNext());
    assert.equal(e.code, 260);
    assert.equal(e.codeName, 'InvalidResumeToken');
  } finally {
    await cs.close();
  }
});

test('a stream started with startAfter resumes with startAfter until its first event', async () => {
  const c = await fresh('sa');
  let cs = await open(c);
  await c.drop();
  const [, inval] = await collect(cs, 2);
  await cs.close();
  cs = c.watch([], { ...AWAIT, startAfter: inval._id });
  try {
    assert.equal(await cs.tryNext(), null);
    await failpoint({ failCommands: ['getMore'], closeConnection: true });
    const mark = started.length;
    await c.insertOne({ _id: 1 });
    assert.deepEqual(ids(await collect(cs, 1)), [1]);
    const resumed = started.slice(mark).filter((e) => e.commandName === 'aggregate');
    assert.equal(resumed.length, 1);
    assert.ok(changeStreamStage(resumed[0]).startAfter, 'startAfter on resume');
    assert.equal(changeStreamStage(resumed[0]).resumeAfter, undefined);
  } finally {
    await failpointOff();
    await cs.close();
  }
});

test('startAtOperationTime includes the events from that cluster time on', async () => {
  const c = await fresh('sat');
  let cs = await open(c);
  await c.insertMany([{ _id: 1 }, { _id: 2 }]);
  const [, second] = await collect(cs, 2);
  await cs.close();
  cs = c.watch([], { ...AWAIT, startAtOperationTime: second.clusterTime });
  try {
    assert.deepEqual(ids(await collect(cs, 1)), [2]);
    await nothingMore(cs);
  } finally {
    await cs.close();
  }
});

test('a start point older than the oplog fails with ChangeStreamHistoryLost (286)', async () => {
  const c = await fresh('lost');
  const cs = c.watch([], { ...AWAIT, startAtOperationTime: new Timestamp({ t: 1, i: 0 }) });
  try {
    const e = await serverError(() => cs.tryNext());
    assert.equal(e.code, 286);
    assert.equal(e.codeName, 'ChangeStreamHistoryLost');
  } finally {
    await cs.close();
  }
});

test('a resume token that fell out of the bounded oplog fails with 286 (double only)', { skip: !DOUBLE }, async () => {
  const c = await fresh('evicted');
  const admin = client.db('admin');
  let cs = await open(c);
  await c.insertOne({ _id: 0 });
  const [ev] = await collect(cs, 1);
  await cs.close();
  await admin.command({ doubleSetOplogSize: 5 });
  try {
    for (let i = 1; i <= 10; i++) await c.insertOne({ _id: i });
    cs = c.watch([], { ...AWAIT, resumeAfter: ev._id });
    const e = await serverError(() => cs.tryNext());
    assert.equal(e.code, 286);
    await cs.close();
  } finally {
    await admin.command({ doubleSetOplogSize: 100000 });
  }
});

test('database and deployment streams see rename and dropDatabase; $match filters events', async () => {
  const other = client.db(`${DB}_other`);
  await other.dropDatabase().catch(() => {});
  await other.createCollection('a');
  const dbStream = await open(other, [{ $match: { operationType: { $in: ['insert', 'rename', 'dropDatabase', 'invalidate'] } } }]);
  const all = await open(client);
  try {
    await other.collection('a').insertOne({ _id: 1 });
    await other.admin().command({ renameCollection: `${DB}_other.a`, to: `${DB}_other.b` });
    await other.dropDatabase();
    const evs = await collect(dbStream, 4);
    assert.deepEqual(evs.map((e) => e.operationType), ['insert', 'rename', 'dropDatabase', 'invalidate']);
    assert.deepEqual(evs[1].ns, { db: `${DB}_other`, coll: 'a' });
    assert.deepEqual(evs[1].to, { db: `${DB}_other`, coll: 'b' });
    assert.deepEqual(evs[2].ns, { db: `${DB}_other` });
    const seen = await collect(all, 4);
    assert.deepEqual(seen.map((e) => e.operationType), ['insert', 'rename', 'drop', 'dropDatabase'],
      'the deployment stream sees every event and is not invalidated');
  } finally {
    await dbStream.close();
    await all.close();
  }
});

test('pipeline errors: an unknown stage is 40324, a $project removing _id is 280', async () => {
  const c = await fresh('pipe');
  let cs = c.watch([{ $unsupported: 'foo' }], AWAIT);
  let e = await serverError(() => cs.tryNext());
  assert.equal(e.code, 40324);
  await cs.close();
  cs = await open(c, [{ $project: { _id: 0 } }]);
  await c.insertOne({ z: 3 });
  e = await serverError(() => collect(cs, 1));
  assert.equal(e.code, 280);
  await cs.close();
});
