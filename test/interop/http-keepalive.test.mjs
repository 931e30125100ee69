// test/interop/http-keepalive.test.mjs: Node's own HTTP client with a
// keep-alive agent (what http.globalAgent is from Node 19 on, and so what
// axios, and the Confluent client, use there; Debian 12's Node 18 keeps
// the global agent's sockets closed, so the test makes its own agent and
// runs the same on both) against the daemon's HTTP server, across idle
// gaps around the time
// the server closes an idle connection (pipeline/http.h,
// TRIB_HTTP_IDLE_TIMEOUT_S).
//
// Every answer, the server's own endpoints' and a route hook's (the schema
// registry API), carries "Keep-Alive: timeout=N" (lib/mhd_reply.h), N at
// least 2, so that the agent drops an idle socket N - 1 s after its last
// answer, before the server closes it.  The registry API keeps its
// connections open (the built-in endpoints answer with Connection: close,
// see pipeline/http.c), and requests to it after idle gaps from just under
// to just over 3 s (the server's old idle timeout, which clients raced:
// "socket hang up" when a request went out on a connection the server was
// closing) all succeed, some on a reused connection.
//
// Environment: SR_URL (required), the daemon's HTTP base URL with
// schema_registry on (open reads).  Run by
// consumer/test/e2e/43_schema_registry_api.sh, or by hand:
//   SR_URL=... node --test --test-reporter=tap http-keepalive.test.mjs
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

const URL_ = process.env.SR_URL;
if (!URL_) throw new Error('set SR_URL (see the header of this file)');

const agent = new http.Agent({ keepAlive: true });
after(() => agent.destroy());

// GET path with the keep-alive agent: { status, headers, reused }.
function get(path) {
  return new Promise((resolve, reject) => {
    const req = http.get(new URL(path, URL_), { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
                                    reused: req.reusedSocket }));
    });
    req.on('error', reject);
  });
}

for (const path of ['/health', '/subjects']) {
  test(`${path} announces the idle timeout with Keep-Alive: timeout=N, N >= 2`, async () => {
    const r = await get(path);
    assert.equal(r.status, 200);
    const m = /^timeout=(\d+)$/.exec(r.headers['keep-alive'] ?? '');
    assert.ok(m, `expected "Keep-Alive: timeout=N", got ${JSON.stringify(r.headers['keep-alive'])}`);
    assert.ok(Number(m[1]) >= 2, `timeout=${m[1]} is too short for a client to reuse`);
  });
}

test('the registry API keeps the connection open (no Connection: close)', async () => {
  const r = await get('/subjects');
  assert.notEqual(r.headers.connection, 'close');
});

test('requests after idle gaps of 2.9 to 3.1 s never fail, some on a reused connection', async () => {
  const gaps = [];
  for (let ms = 2900; ms <= 3100; ms += 25) gaps.push(ms);
  let reused = 0;
  await get('/subjects');
  for (const ms of gaps) {
    await sleep(ms);
    let r;
    try {
      r = await get('/subjects');
    } catch (e) {
      assert.fail(`the request after an idle gap of ${ms} ms failed: ${e.message}`);
    }
    assert.equal(r.status, 200, `after ${ms} ms`);
    if (r.reused) reused++;
  }
  // Gaps under the agent's hold time (N - 1 s) reuse the connection; a
  // client that never reused would not test the race at all.
  assert.ok(reused >= 1, `${reused} of ${gaps.length} requests reused a connection`);
});
