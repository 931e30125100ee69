// bench/lib/http_load.mjs: a small closed-loop HTTP load generator for the
// benchmarks (no load tool is installed on the project's machines): CONNS
// keep-alive connections each send GET URL again as soon as the previous
// answer is read, for SECONDS; prints one JSON line {requests, seconds,
// per_second, non_200}.  Node.js standard library only.
//
//   node bench/lib/http_load.mjs URL [SECONDS=10] [CONNS=16]
import http from 'node:http';

const [url, seconds = '10', conns = '16'] = process.argv.slice(2);
if (!url) {
  console.error('usage: http_load.mjs URL [SECONDS] [CONNS]');
  process.exit(2);
}
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(conns) });
const end = Date.now() + Number(seconds) * 1000;
let requests = 0;
let non200 = 0;

// One connection's loop: request, drain, repeat until the end.
function loop(resolve) {
  if (Date.now() >= end) return resolve();
  http.get(url, { agent }, (res) => {
    if (res.statusCode !== 200) non200++;
    res.resume();
    res.on('end', () => { requests++; loop(resolve); });
  }).on('error', (e) => { console.error(e.message); non200++; setTimeout(() => loop(resolve), 10); });
}

const t0 = process.hrtime.bigint();
await Promise.all(Array.from({ length: Number(conns) }, () => new Promise(loop)));
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
agent.destroy();
console.log(JSON.stringify({ requests, seconds: secs, per_second: Math.round(requests / secs), non_200: non200 }));
