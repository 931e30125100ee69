#!/usr/bin/env bash
# 52_debezium_format.sh: `format: debezium` on the Kafka sink, end to end:
# a torture table of the types in the Debezium PostgreSQL connector's
# type-mapping tables goes through a real cluster, `tributary run` and the
# Kafka mock (tools/kafka_mock_server, read back with tools/kafka_dump),
# and every value in Kafka is decoded back (precise decimals from base64
# two's complement with the column's scale, VariableScaleDecimal,
# MicroTimestamp, Timestamp, MicroTime, Time, Date, MicroDuration, Bits,
# Point, bytea, json/jsonb/hstore strings) and compared with what
# PostgreSQL itself computes for the same rows (SQL is the oracle: the
# unscaled value as numeric text, extract(epoch ...), date arithmetic).
# Also: keys are converted too, source carries ts_us/ts_ns (the commit
# time's microseconds, as a witness slot sees them), source.sequence is
# ["<previous transaction's commit LSN>","<the change's LSN>"], the
# transaction topic frames each transaction, heartbeats are written, and
# `tributary check` names the accepted words of a bad option value.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
pgc_psql -q -d postgres >/dev/null <<'SQL'
CREATE EXTENSION tributary;
CREATE EXTENSION hstore;
CREATE TABLE public.torture (
    id numeric(6,0) PRIMARY KEY,
    n numeric(20,5), nu numeric, m money,
    d date, t time, t3 time(3), ts timestamp, ts3 timestamp(3), tz timestamptz,
    ttz timetz, iv interval, b bytea, j json, jb jsonb, u uuid, h hstore,
    bt bit(10), bo boolean, pt point, arr numeric(10,2)[], i8 bigint, txt text,
    tz3 timestamptz(3));
SELECT 's' FROM pg_create_logical_replication_slot('tributary_e2e', 'tributary');
SELECT 's' FROM pg_create_logical_replication_slot('witness', 'tributary');
SQL

# witness_changes: the witness slot's changes (JSON, one a line) into
# $WORK/witness; debezium_witness.py checks the records against them.
witness_changes() {
    pgc_psql -d postgres -At -c "SELECT data FROM pg_logical_slot_peek_changes('witness', NULL, NULL)" \
        > "$WORK/witness"
}
WITNESS_CHECK=$(dirname "${BASH_SOURCE[0]}")/debezium_witness.py

mock_start 1
write_pipeline e2e <<EOF
sinks:
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: dbz
    format: debezium
    transaction_metadata: true
    heartbeat.interval.ms: 200
EOF
start_consumer

pgc_psql -q -d postgres >/dev/null <<'SQL'
SET TimeZone = 'Asia/Kolkata';
INSERT INTO public.torture VALUES
 (1, 123456789012345.12345, 12.50, 12.34, '2024-02-29', '12:34:56.789012', '12:34:56.789',
  '2024-06-01 10:00:00.123456', '2024-06-01 10:00:00.123', '2024-06-01 10:00:00.5+02',
  '12:00:00+05:30', '1 year 2 months 3 days 04:05:06.5', '\x0001ff', '{"a": [1, 2]}',
  '{"b": {"c": null}, "a": 1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'a=>1, "b c"=>NULL',
  B'1000000001', true, '(1.5,-2)', '{1.28,-1.29,NULL}', 9223372036854775807, 'plain',
  '2024-06-01 10:00:00.5+02'),
 (2, -99999999999999.99999, -0.000123, -5.00, '1969-12-31', '00:00:00', '23:59:59.999',
  '1969-12-31 23:59:59.999999', '1900-01-01 00:00:00.001', '1970-01-01 00:00:00+00',
  '23:30:00.25-01:00', '-1 year -2 months +3 days -00:00:00.5', '\x', 'null', '[]',
  '00000000-0000-0000-0000-000000000000', '', B'0000000000', false, '(0,0)', '{}', -1, '',
  '1970-01-01 00:00:00+00'),
 (3, 0, 1e-20, 0, '0044-03-15 BC', '24:00:00', '00:00:00.001', '0001-01-01 00:00:00',
  '2262-04-11 23:47:16.854', '2038-01-19 03:14:08+00', '00:00:00+00', '0 seconds', '\xdeadbeef',
  '"s"', '"\u00e9\n"', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '"k\"q"=>"v,w"', B'1111111111',
  NULL, '(1e300,-1e-300)', NULL, 0, NULL, '2262-04-11 23:47:16.854+00');
UPDATE public.torture SET txt = 'upd' WHERE id = 1;
SQL

wait_dump dbz.public.torture "$WORK/dump" 4
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"
expect_eq "4 records (3 inserts, 1 update)" 4 "$(wc -l < "$WORK/dump")"

# Transaction topic: one BEGIN and one END per committed transaction (the
# insert and the update), the END counting the insert's 3 records.
"$TOOLS/kafka_dump" "$BOOT" dbz.transaction > "$WORK/tx"
expect_eq "2 BEGIN records" 2 "$(grep -c '"status":"BEGIN"' "$WORK/tx")"
expect_eq "2 END records" 2 "$(grep -c '"status":"END"' "$WORK/tx")"
expect_grep "the insert's END counts its 3 records" "$WORK/tx" \
    '"status":"END".*"event_count":3,"data_collections":\[\{"data_collection":"public.torture","event_count":3\}\]'

# Heartbeats: every 200 ms while the consumer ran (a few seconds), keyed
# by the prefix, with the time they were written.
"$TOOLS/kafka_dump" "$BOOT" __debezium-heartbeat.dbz > "$WORK/hb" || true
expect_eq "heartbeats were written" t "$([ "$(wc -l < "$WORK/hb")" -ge 3 ] && echo t || echo f)"
expect_eq "every heartbeat is {serverName: dbz} -> {ts_ms}" 0 \
    "$(awk -F'\t' '$5 != "{\"serverName\":\"dbz\"}" || $6 !~ /^\{"ts_ms":[0-9]{13}\}$/' "$WORK/hb" | wc -l)"

# The oracle: what PostgreSQL computes for each row, in Debezium's units.
pgc_psql -d postgres -At > "$WORK/oracle" <<'SQL'
SELECT json_build_object(
  'id', id::text,
  'n', (n * 100000)::numeric(40,0)::text,
  'nu_scale', scale(nu), 'nu', (nu * 10 ^ scale(nu))::numeric(80,0)::text,
  'm', (m::numeric * 100)::numeric(30,0)::text,
  'd', d - date '1970-01-01',
  't', (extract(epoch FROM t) * 1000000)::bigint,
  't3', (extract(epoch FROM t3) * 1000)::bigint,
  'ts', (extract(epoch FROM ts) * 1000000)::bigint,
  'ts3', floor(extract(epoch FROM ts3) * 1000)::bigint,
  'tz', (extract(epoch FROM tz) * 1000000)::bigint,
  'ttz', to_char(('2000-01-01 ' || ttz::text)::timestamptz AT TIME ZONE 'UTC', 'HH24:MI:SS.US'),
  'iv', ((extract(year FROM iv) * 12 + extract(month FROM iv)) * 2629800000000
         + extract(day FROM iv) * 86400000000
         + (extract(hour FROM iv) * 3600 + extract(minute FROM iv) * 60) * 1000000
         + extract(microseconds FROM iv))::bigint,
  'b', encode(b, 'hex'), 'j', j::text, 'jb', jb::text, 'u', u::text,
  'h', hstore_to_json(h)::text, 'bt', bt::int, 'bo', bo,
  'pt', json_build_array(pt[0], pt[1]),
  'arr', (SELECT json_agg((x * 100)::numeric(30,0)::text ORDER BY o)
          FROM unnest(arr) WITH ORDINALITY AS a(x, o)),
  'i8', i8::text, 'txt', txt)
FROM public.torture ORDER BY id
SQL

# the last record of each key (the update of row 1 replaces its insert)
tac "$WORK/dump" | awk -F'\t' '!seen[$5]++' > "$WORK/last"

# ZonedTimestamp has exactly the column's fraction digits, zeros kept (6
# for timestamptz), as Debezium's PostgreSQL connector writes it (2.2 on,
# DBZ-6163); ZonedTime drops the fraction's trailing zeros (FORMAT.md).
for want in '"tz":"2024-06-01T08:00:00\.500000Z"' '"tz":"1970-01-01T00:00:00\.000000Z"' \
    '"tz":"2038-01-19T03:14:08\.000000Z"' '"tz3":"2024-06-01T08:00:00\.500Z"' \
    '"tz3":"1970-01-01T00:00:00\.000Z"' '"tz3":"2262-04-11T23:47:16\.854Z"' \
    '"ttz":"06:30:00Z"' '"ttz":"00:30:00\.25Z"'; do
    expect_grep "the value is written $want" "$WORK/last" "$want"
done
if python3 "$(dirname "${BASH_SOURCE[0]}")/debezium_compare.py" "$WORK/last" "$WORK/oracle" \
    > "$WORK/cmp" 2>&1; then
    pass "every value decodes to what PostgreSQL returns ($(tail -1 "$WORK/cmp"))"
else
    fail "values differ from PostgreSQL's" "$(head -20 "$WORK/cmp")"
fi

# source.sequence and ts_us against the witness slot (created with the
# consumer's, so it decodes the same transactions): each change's LSN is
# the second member, the commit LSN of the transaction committed before
# the change's own is the first (null when the witness has none before),
# and source.ts_us is the commit time with its microseconds.
witness_changes
if python3 "$WITNESS_CHECK" sequence "$WORK/dump" "$WORK/witness" > "$WORK/seq.out" 2>&1; then
    pass "sequence and ts_us match the witness ($(tail -1 "$WORK/seq.out"))"
else
    fail "sequence/ts_us differ from the witness" "$(head -10 "$WORK/seq.out")"
fi

# After a restart the first transaction's predecessor is what the
# checkpoint knows (docs/FORMAT.md): a clean stop leaves it at the
# update's whole transaction, so the next update's sequence starts with
# the update's commit LSN as the witness has it (heartbeat transactions
# the first run saw after it are not in the checkpoint).
ckpt=$(pgc_psql -d postgres -Atc "SELECT (commit_lsn - '0/0')::bigint || ' ' || seq
    FROM tributary.source_checkpoints WHERE pipeline = 'e2e'")
restart_at=$(pgc_psql -d postgres -Atc "SELECT (pg_current_wal_lsn() - '0/0')::bigint")
start_consumer
pgc_psql -d postgres -c "UPDATE public.torture SET i8 = 7 WHERE id = 2" >/dev/null
wait_dump dbz.public.torture "$WORK/dump3" 5
stop_consumer
expect_eq "after the restart: 5 records" 5 "$(wc -l < "$WORK/dump3")"
witness_changes
python3 "$WITNESS_CHECK" restart "$WORK/dump3" "$WORK/witness" > "$WORK/restart.out" 2>&1 || true
read -r upd_commit seq_first < "$WORK/restart.out"
read -r ck_lsn ck_seq <<< "$ckpt"
expect_eq "the checkpoint is the update's whole transaction" \
    "$upd_commit 9223372036854775807" "$ck_lsn $ck_seq"
# The restarted run's own heartbeat transactions count (docs/FORMAT.md:
# every commit the plugin writes to the slot), so one that committed
# after the restart and before the update is the update's predecessor
# instead, which a slow start-up makes possible: the witness names them.
# One that committed before the restart must not be.
hb_after=$(python3 - "$WORK/witness" "$restart_at" <<'PY'
import json, sys
def lsn(s):
    hi, lo = s.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("kind") == "message" and r.get("prefix") == "tributary.heartbeat" \
            and "commit_lsn" in r and lsn(r["commit_lsn"]) > int(sys.argv[2]):
        print(lsn(r["commit_lsn"]))
PY
)
if [ "$seq_first" = "$ck_lsn" ] || grep -qx "$seq_first" <<< "$hb_after"; then
    pass "after a restart, sequence starts with the checkpoint's commit LSN (or the restarted run's own heartbeat's)"
else
    fail "after a restart, sequence starts with the checkpoint's commit LSN" \
        "expected $ck_lsn or one of [$(echo $hb_after)], got $seq_first (restart at $restart_at)"
fi

# schemas.enable: the same rows again through a second sink with the
# Connect schema part; each field of the Value struct names its logical
# type, and the payload is the record of the first sink.
pgc_psql -d postgres -c "SELECT 's' FROM pg_create_logical_replication_slot('tributary_e2e2', 'tributary')" >/dev/null
sed -e 's/^pipeline: e2e$/pipeline: e2e2/' -e 's/topic_prefix: dbz$/topic_prefix: dbs/' \
    -e 's/^    format: debezium$/    format: debezium\n    schemas.enable: true/' \
    -e 's/tributary_e2e/tributary_e2e2/' "$WORK/p.yaml" > "$WORK/p2.yaml"
grep -q slot "$WORK/p2.yaml" || sed -i 's/^    snapshot: never$/    snapshot: never\n    slot: tributary_e2e2/' "$WORK/p2.yaml"
pgc_psql -d postgres -c "UPDATE public.torture SET txt = 'again'" >/dev/null
"$BIN" check -c "$WORK/p2.yaml" >/dev/null
start_consumer "$WORK/p2.yaml" "$WORK/run2.log"
wait_dump dbs.public.torture "$WORK/dump2" 3
stop_consumer
expect_eq "schemas.enable: 3 records" 3 "$(wc -l < "$WORK/dump2")"
cat > "$WORK/schema.py" <<'PY'
import json, sys
names = {}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    key, value = json.loads(f[4]), json.loads(f[5])
    assert key["schema"]["name"] == "dbs.public.torture.Key", key["schema"]
    assert value["schema"]["name"] == "dbs.public.torture.Envelope"
    after = value["schema"]["fields"][1]
    assert after["field"] == "after" and after["name"] == "dbs.public.torture.Value"
    assert set(x["field"] for x in after["fields"]) == set(value["payload"]["after"])
    for x in after["fields"]:
        names[x["field"]] = x.get("name") or x["type"]
        if x["field"] == "n":
            assert x["parameters"] == {"scale": "5", "connect.decimal.precision": "20"}
print(" ".join("%s=%s" % kv for kv in sorted(names.items())))
PY
if python3 "$WORK/schema.py" "$WORK/dump2" > "$WORK/schema.out" 2>&1; then
    pass "schemas.enable: Key/Value/Envelope structs match the payloads"
else
    fail "schemas.enable: schema part" "$(tail -5 "$WORK/schema.out")"
fi
for want in n=org.apache.kafka.connect.data.Decimal nu=io.debezium.data.VariableScaleDecimal \
    ts=io.debezium.time.MicroTimestamp ts3=io.debezium.time.Timestamp t=io.debezium.time.MicroTime \
    t3=io.debezium.time.Time d=io.debezium.time.Date iv=io.debezium.time.MicroDuration \
    tz=io.debezium.time.ZonedTimestamp tz3=io.debezium.time.ZonedTimestamp \
    ttz=io.debezium.time.ZonedTime u=io.debezium.data.Uuid \
    jb=io.debezium.data.Json bt=io.debezium.data.Bits pt=io.debezium.data.geometry.Point; do
    expect_grep "schema of ${want%%=*} is ${want#*=}" "$WORK/schema.out" "(^| )$want( |\$)"
done

# A real consumer: kafkajs reads the schemas.enable topic and decodes
# every value by its Connect schema (precise decimals from base64 two's
# complement and the schema's scale, the time logical types) back into
# PostgreSQL's text of the source value, compared with what PostgreSQL
# returns for the same rows (test/interop/debezium-decode.test.mjs).
pgc_psql -q -d postgres -At > "$WORK/expect.json" <<'SQL'
SET DateStyle = ISO;
SELECT json_agg(json_build_object(
  'id', id::text, 'n', n::text, 'nu', nu::text, 'm', m::numeric::text,
  'd', d::text, 't', t::text, 't3', t3::text, 'ts', ts::text, 'ts3', ts3::text,
  'tz', (tz AT TIME ZONE 'UTC')::text, 'ttz', (ttz AT TIME ZONE 'UTC')::time::text,
  'tz3', (tz3 AT TIME ZONE 'UTC')::text,
  'iv', ((extract(year FROM iv) * 12 + extract(month FROM iv)) * 2629800000000
         + extract(day FROM iv) * 86400000000
         + (extract(hour FROM iv) * 3600 + extract(minute FROM iv) * 60) * 1000000
         + extract(microseconds FROM iv))::bigint::text,
  'b', encode(b, 'hex'), 'j', j::text, 'jb', jb::text, 'u', u::text,
  'h', hstore_to_json(h), 'bt', bt::text, 'bo', bo,
  'pt', json_build_array(pt[0], pt[1]), 'arr', arr::text, 'i8', i8::text, 'txt', txt)
  ORDER BY id)
FROM public.torture
SQL
interop_test "kafkajs decodes every Debezium value by its schema" debezium-decode.test.mjs 3 \
    KAFKA_BOOTSTRAP="$BOOT" TOPIC=dbs.public.torture EXPECT="$WORK/expect.json"

# a bad option value is refused naming the accepted words
sed -i 's/^    format: debezium$/    format: debezium\n    decimal.handling.mode: exact/' "$WORK/p.yaml"
if "$BIN" check -c "$WORK/p.yaml" > "$WORK/check.out" 2>&1; then
    fail "decimal.handling.mode: exact is refused" "check accepted it"
else
    expect_grep "the error names the key and the accepted values" "$WORK/check.out" \
        'decimal.handling.mode.*precise.*string.*double' 
fi
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
