// test/interop/debezium-decode.test.mjs: records that tributary wrote to
// Kafka with `format: debezium` and `schemas.enable: true` (docs/FORMAT.md,
// "Debezium mode"), read with a real Kafka client (kafkajs, pinned in
// package-lock.json) and decoded the way a Debezium consumer does it: each
// field by the Connect schema that travels with the record (the logical
// type's name and parameters), never by the column's name.  `precise`
// decimals are base64 of the unscaled big-endian two's complement with the
// scale from the schema (org.apache.kafka.connect.data.Decimal, and
// io.debezium.data.VariableScaleDecimal with its own scale); Date is epoch
// days, Time/MicroTime millis/micros of the day, Timestamp/MicroTimestamp
// epoch millis/micros, MicroDuration micros; Bits little-endian bytes;
// Point {x, y, wkb}.  Every decoded value is turned back into PostgreSQL's
// text form of the source value and compared with what PostgreSQL returns
// for the same rows.
//
// Environment (consumer/test/e2e/52_debezium_format.sh sets it):
//   KAFKA_BOOTSTRAP  the brokers tributary wrote to (librdkafka's mock cluster)
//   TOPIC            the table's topic (schemas.enable: true)
//   EXPECT           a JSON file: [one object per row, ordered by id, with
//                    PostgreSQL's text of each column (see 52)]
//
// Node.js 18's JSON.parse has no access to a number's source text, so a
// bigint beyond 2^53 would lose digits: int64 fields are read from the
// record's text (the payload's last `"name":digits` member) instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readAll as readTopic } from './kafka-read.mjs';

const env = (k) => {
  if (!process.env[k]) throw new Error(`set ${k} (see the header of this file)`);
  return process.env[k];
};
const BOOT = env('KAFKA_BOOTSTRAP').split(',');
const expected = JSON.parse(readFileSync(env('EXPECT'), 'utf8'));

const readAll = (topic) => readTopic(BOOT, topic);

// ---------------------------------------------------------------- decoders

// Kafka Connect's Decimal: BigInteger.toByteArray() of the unscaled value.
function unscaled(b64) {
  const buf = Buffer.from(b64, 'base64');
  if (buf.length === 0) return 0n;
  let v = BigInt(`0x${buf.toString('hex')}`);
  if (buf[0] & 0x80) v -= 1n << BigInt(8 * buf.length);
  return v;
}

// An unscaled value at a scale as PostgreSQL writes numeric: "-0.000123".
function decimalText(v, scale) {
  const neg = v < 0n;
  let digits = (neg ? -v : v).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return (neg ? '-' : '') + digits;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

// micros of the day as PostgreSQL's time text ("12:34:56.789012", "24:00:00")
function timeText(us) {
  const sec = us / 1000000n;
  const frac = us % 1000000n;
  let s = `${pad(sec / 3600n)}:${pad((sec / 60n) % 60n)}:${pad(sec % 60n)}`;
  if (frac !== 0n) s += `.${pad(frac, 6)}`.replace(/0+$/, '');
  return s;
}

// epoch days as PostgreSQL's ISO date text ("2024-02-29", "0044-03-15 BC")
function dateText(days) {
  const d = new Date(Number(days) * 86400000);
  const y = d.getUTCFullYear();
  const ymd = `${pad(y > 0 ? y : 1 - y, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  return y > 0 ? ymd : `${ymd} BC`;
}

// epoch micros as PostgreSQL's timestamp text ("1969-12-31 23:59:59.999999")
function timestampText(us) {
  const day = 86400000000n;
  let days = us / day;
  let rest = us % day;
  if (rest < 0n) { rest += day; days -= 1n; }
  return `${dateText(days)} ${timeText(rest)}`;
}

// io.debezium.data.Bits: little-endian bytes of a bit(length)
function bitsText(b64, length) {
  const buf = Buffer.from(b64, 'base64');
  let s = '';
  for (let i = 0; i < length; i++) {
    const bit = length - 1 - i;
    s += (buf[bit >> 3] >> (bit & 7)) & 1 ? '1' : '0';
  }
  return s;
}

// One value by its Connect schema, into PostgreSQL's text of the source.
function decode(schema, v, raw) {
  if (v === null) return null;
  // integers from their text: micros since 0001-01-01 exceed 2^53
  const int = () => BigInt(raw ?? v);
  switch (schema.name) {
    case 'org.apache.kafka.connect.data.Decimal':
      return decimalText(unscaled(v), Number(schema.parameters.scale));
    case 'io.debezium.data.VariableScaleDecimal':
      return decimalText(unscaled(v.value), v.scale);
    case 'io.debezium.time.Date':
      return dateText(int());
    case 'io.debezium.time.Time':
      return timeText(int() * 1000n);
    case 'io.debezium.time.MicroTime':
      return timeText(int());
    case 'io.debezium.time.Timestamp':
      return timestampText(int() * 1000n);
    case 'io.debezium.time.MicroTimestamp':
      return timestampText(int());
    case 'io.debezium.time.ZonedTimestamp':
      // ISO 8601 in UTC: PostgreSQL's text of the instant at UTC
      assert.match(v, /Z$/);
      return v.replace('T', ' ').replace(/Z$/, '').replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
    case 'io.debezium.time.ZonedTime':
      // the time of day at UTC: PostgreSQL's time text of it
      assert.match(v, /Z$/);
      return v.replace(/Z$/, '').replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
    case 'io.debezium.time.MicroDuration':
      return int().toString();
    case 'io.debezium.data.Bits':
      return bitsText(v, Number(schema.parameters.length));
    case 'io.debezium.data.geometry.Point': {
      const wkb = Buffer.from(v.wkb, 'base64');
      assert.equal(wkb.readDoubleLE(5), v.x, 'wkb x');
      assert.equal(wkb.readDoubleLE(13), v.y, 'wkb y');
      return [v.x, v.y];
    }
    case 'io.debezium.data.Json':
      return v;
    default:
      break;
  }
  if (schema.type === 'array') return `{${v.map((x) => decode(schema.items, x, null) ?? 'NULL').join(',')}}`;
  if (schema.type === 'bytes') return Buffer.from(v, 'base64').toString('hex');
  if (schema.type === 'int64') return int().toString();
  return v;
}

// The text of member `name`'s number in the record (its last occurrence:
// the payload's after image follows before).
function rawNumber(text, name) {
  const all = [...text.matchAll(new RegExp(`"${name}":(-?[0-9]+)`, 'g'))];
  return all.length ? all[all.length - 1][1] : null;
}

// ---------------------------------------------------------------- the test

let records;

test('kafkajs reads the Debezium topic tributary wrote', async () => {
  records = await readAll(env('TOPIC'));
  assert.ok(records.length >= expected.length, `${records.length} records`);
});

test('every record carries the Connect schema of its table', () => {
  for (const m of records) {
    const value = JSON.parse(m.value.toString());
    assert.equal(value.schema.type, 'struct');
    assert.match(value.schema.name, /\.Envelope$/);
    const after = value.schema.fields.find((f) => f.field === 'after');
    assert.match(after.name, /\.Value$/);
    const key = JSON.parse(m.key.toString());
    assert.match(key.schema.name, /\.Key$/);
  }
});

test('every value decodes by its schema to what PostgreSQL returns', () => {
  // the last record of each row
  const last = new Map();
  for (const m of records) last.set(m.key.toString(), m);
  const rows = [];
  for (const m of last.values()) {
    const text = m.value.toString();
    const { schema, payload } = JSON.parse(text);
    const fields = schema.fields.find((f) => f.field === 'after').fields;
    const row = {};
    for (const f of fields) row[f.field] = decode(f, payload.after[f.field], rawNumber(text, f.field));
    rows.push(row);
  }
  rows.sort((a, b) => Number(a.id) - Number(b.id));
  assert.equal(rows.length, expected.length);
  let compared = 0;
  const diffs = [];
  for (let i = 0; i < rows.length; i++) {
    for (const [col, want] of Object.entries(expected[i])) {
      let got = rows[i][col];
      let exp = want;
      // hstore compares as JSON; json too (Debezium mode writes json
      // compactly, its original spacing is not in the row image:
      // docs/FORMAT.md, "Debezium mode"); jsonb is compared as text
      if (col === 'h' && got !== null) got = JSON.parse(got);
      if (col === 'j' && got !== null) { got = JSON.parse(got); exp = JSON.parse(want); }
      try {
        assert.deepEqual(got, exp);
      } catch {
        diffs.push(`row ${expected[i].id} column ${col}: got ${JSON.stringify(got)}, PostgreSQL ${JSON.stringify(exp)}`);
      }
      compared++;
    }
  }
  assert.deepEqual(diffs, []);
  assert.ok(compared >= 3 * 23, `${compared} values compared`);
});
