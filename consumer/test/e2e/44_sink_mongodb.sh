#!/usr/bin/env bash
# 44_sink_mongodb.sh: the MongoDB sink (sink/mongodb/) streams PostgreSQL
# changes into MongoDB exactly once in effect -- AGAINST THE PROJECT'S
# WIRE-PROTOCOL TEST DOUBLE (test/mongo/, mongo_double), not a real
# mongod: none can be installed here.  libmongoc talks to the double as to
# a one-member replica set (transactions, sessions, bulk writes).  With
# MONGO_URI set it runs against that real replica set instead
# (test/mongo/run-against-real-mongod.sh), the double's log unread.
#
# Two sinks of one pipeline write the same changes into two databases:
# `tx` stores its position in the same multi-document transaction as each
# batch (the default), `plain` (transactions: false) after each batch's
# ordered bulk writes, idempotent on replay.  Four tables: varied types
# (numeric with 30 digits, bigint beyond int32, float, bool, jsonb objects
# and arrays, bytea, timestamptz with microseconds, timestamp, date, int
# and text arrays, uuid, NULLs), a composite key (_id a subdocument), a
# table of another schema and one with a TOASTed column.  Inserts, updates
# (also of the key: a key move; and one whose event leaves the TOASTed
# value out: $set keeps it), deletes and a truncate; every document is compared with its
# source row by mongo_compare.py (types included).  Then kill -9 of the
# daemon again and again while a writer changes the tables: the final
# collections equal the source, and the stored positions, sampled after
# every kill, never move backwards; no daemon ends by itself between two
# kills (lib.sh kill_consumer, kill_loop_note, kill_loop_exits).
#
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

build_consumer
build_tool mongo_dump
DUMP=$TOOL
# shellcheck source=mongo_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mongo_lib.sh"
# A transaction that a kill -9 orphaned holds its documents (WriteConflict
# for the next daemon's transactions, which libmongoc retries) until the
# server aborts it after transactionLifetimeLimitSeconds: 2 s here, 60 by
# default.  With MONGO_URI (test/mongo/run-against-real-mongod.sh) the
# real server gets the same 2 s at run time, and the target databases are
# dropped first.
mongo_start --verbose --setParameter transactionLifetimeLimitSeconds=2
mongo_fresh tgt tgt2
on_double || echo 'admin {"setParameter": 1, "transactionLifetimeLimitSeconds": 2}' | drive

pgc_start
chmod 777 "$WORK"
pgc_psql -d postgres -c "CREATE EXTENSION tributary" -c "CREATE SCHEMA s2" \
    -c "CREATE TABLE public.typed (id int PRIMARY KEY, n numeric(40,10), big bigint, f float8,
          ok boolean, j jsonb, bin bytea, ts timestamptz, tsn timestamp, d date, ia int[],
          ta text[], u uuid, t text)" \
    -c "CREATE TABLE public.pair (a int, b text, v text, PRIMARY KEY (a, b))" \
    -c "CREATE TABLE s2.items (id bigint PRIMARY KEY, qty int, note text)" \
    -c "CREATE TABLE public.toasty (id int PRIMARY KEY, n int, big text)" >/dev/null

write_pipeline mongo <<YAML
sinks:
  tx:
    type: mongodb
    uri: "$URI"
    database: tgt
    batch_size: 40
    batch_ms: 50
  plain:
    type: mongodb
    uri: "$URI"
    database: tgt2
    collection: "\${table}_of_\${schema}"
    transactions: false
    batch_size: 40
    batch_ms: 50
YAML

rc=0; "$BIN" check -c "$WORK/p.yaml" > "$WORK/report" 2>&1 || rc=$?
expect_eq "check reaches the double for both sinks" "2" "$(grep -c '  reachable: database tgt' "$WORK/report" || true)"

TYPES_typed="id=integer;n=numeric(40,10);big=bigint;f=double precision;ok=boolean;j=jsonb;bin=bytea;ts=timestamp with time zone;tsn=timestamp without time zone;d=date;ia=integer[];ta=text[];u=uuid;t=text"
TYPES_pair="a=integer;b=text;v=text"
TYPES_items="id=bigint;qty=integer;note=text"
TYPES_toasty="id=integer;n=integer;big=text"

# compare TAG: every collection of both databases against its table.
compare() {
    local tag=$1 db coll tbl keys types out
    for db in tgt tgt2; do
        for tbl in public.typed:id public.pair:a,b s2.items:id public.toasty:id; do
            keys=${tbl#*:}; tbl=${tbl%%:*}
            if [ $db = tgt ]; then coll=${tbl/./_}; else coll=${tbl#*.}_of_${tbl%%.*}; fi
            types=TYPES_${tbl#*.}
            pgc_psql -d postgres -Atc "SET timezone = 'UTC'; SELECT row_to_json(x) FROM $tbl x" \
                > "$WORK/rows" 2>/dev/null
            "$DUMP" "$URI" $db "$coll" > "$WORK/docs"
            out=$(python3 "$ROOT/consumer/test/e2e/mongo_compare.py" "${!types}" "$WORK/rows" \
                "$WORK/docs" "$keys" 2>&1) || true
            expect_match "$tag: $db.$coll equals $tbl ($out)" "^equal [0-9]+" "$out"
        done
    done
}

# stored_position DB: "commit_lsn seq" of the stored position, as numbers.
stored_position() {
    "$DUMP" "$URI" "$1" tributary_positions | python3 -c '
import json, sys
for l in sys.stdin:
    d = json.loads(l)
    hi, lo = d["commit_lsn"].split("/")
    print((int(hi, 16) << 32) + int(lo, 16), d["seq"]["$numberLong"])'
}

start_consumer
wait_slot_active tributary_mongo || true
pgc_psql -d postgres >/dev/null <<'SQL'
INSERT INTO public.typed VALUES
 (1, 123456789012345678901234567890.1234567891, 9000000000, 1.5, true,
  '{"a": [1, 2.5, {"b": "x"}], "q": "it''s", "n": null}', '\x000102ff',
  '2024-06-01 10:00:00.123456+00', '1999-12-31 23:59:59.5', '2024-02-29',
  '{1,2,3}', '{"a","b\"c",NULL}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'O''Brien ☃'),
 (2, -0.0000000001, -5, -2.25e10, false, '[1, "two", false]', '', '1970-01-01 00:00:00+00',
  '2000-01-01 00:00:00', '1969-07-20', '{}', '{}', NULL, ''),
 (3, 3, 3, 0, NULL, 'null', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO public.pair VALUES (1, 'x', 'one'), (1, 'y', 'two'), (2, 'x', 'three');
INSERT INTO s2.items SELECT g, g * 10, 'n' || g FROM generate_series(1, 30) g;
UPDATE public.typed SET n = 2.5, j = '{"changed": true}', ts = now() WHERE id = 1;
UPDATE public.typed SET id = 30 WHERE id = 3;
UPDATE public.pair SET b = 'z' WHERE a = 1 AND b = 'y';
DELETE FROM public.typed WHERE id = 2;
DELETE FROM s2.items WHERE id % 3 = 0;
UPDATE s2.items SET qty = qty + 1 WHERE id % 2 = 0;
-- 12.8 kB stored out of line: the update's event lists big as unchanged,
-- so the sink must $set n and keep big
INSERT INTO public.toasty SELECT 1, 1, string_agg(md5(g::text), '') FROM generate_series(1, 400) g;
UPDATE public.toasty SET n = 2 WHERE id = 1;
SQL
expect_eq "the slot is confirmed to the end" t "$(slot_caught_up tributary_mongo)"
compare "A"
on_double && expect_grep "batches went through transactions" "$WORK/mongo.log" "commitTransaction"
# Batching: the 67 changes above (134 for the two sinks) reach the server
# as ordered bulk writes, one per run of one collection and operation kind
# in a batch: fewer write commands than half the changes (one each without
# it; 28 on a quiet machine, batch_ms may cut more batches under load).
if on_double; then
    writes=$(grep -cE "connection [0-9]+: (insert|update|delete)$" "$WORK/mongo.log" || true)
    echo "# $writes write commands for 134 changes"
    expect_match "the changes went as bulk writes (fewer than 67 write commands for 134 changes)" \
        "^([1-9]|[1-5][0-9]|6[0-6])$" "$writes"
fi

pgc_psql -d postgres -c "TRUNCATE s2.items" -c "INSERT INTO s2.items VALUES (100, 1, 'after truncate')" >/dev/null
expect_eq "the slot is confirmed after the truncate" t "$(slot_caught_up tributary_mongo)"
compare "B truncate"

# ---------------------------------------------------------------- kill -9 under load
cat > "$WORK/writer.sql" <<'SQL'
INSERT INTO s2.items SELECT g, 0, 'w' FROM generate_series(:i * 20 + 1000, :i * 20 + 1019) g;
UPDATE s2.items SET qty = qty + 1, note = 'u' || :i WHERE id % 7 = :i % 7;
INSERT INTO public.typed (id, n, big, j, ts, ia) VALUES (:i + 100, :i * 1.25, :i, jsonb_build_object('i', :i), now(), ARRAY[:i]);
UPDATE public.typed SET n = n + 1, ta = ARRAY['k' || :i] WHERE id = :i + 99;
DELETE FROM s2.items WHERE id = :i * 20 + 1005;
INSERT INTO public.pair VALUES (:i + 10, 'k', 'v');
DELETE FROM public.pair WHERE a = :i + 9;
SQL
(for i in $(seq 1 120); do
    pgc_psql -d postgres -v i="$i" -f "$WORK/writer.sql" >/dev/null
    sleep 0.03
done) &
WRITER_PID=$!
KILLS=0 SELF_EXITS=0 backwards=0
declare -A last
while kill -0 "$WRITER_PID" 2>/dev/null; do
    sleep "0.$(( RANDOM % 6 + 3 ))"
    kill_consumer
    kill_loop_note
    for db in tgt tgt2; do
        p=$(stored_position $db | tr ' ' '.')
        if [ -n "${last[$db]:-}" ] && python3 -c "import sys; a=sys.argv[1].split('.'); b=sys.argv[2].split('.'); sys.exit(0 if (int(b[0]),int(b[1])) < (int(a[0]),int(a[1])) else 1)" "${last[$db]}" "$p"; then
            backwards=$((backwards + 1)); echo "# $db: position went from ${last[$db]} to $p"
        fi
        last[$db]=$p
    done
    start_consumer
done
wait "$WRITER_PID" || true
WRITER_PID=
kill_loop_exits
expect_eq "killed -9 several times under load" t "$([ "$KILLS" -ge 3 ] && echo t || echo f)"
expect_eq "the slot is confirmed to the end after $KILLS kills" t "$(slot_caught_up tributary_mongo)"
stop_consumer
expect_eq "SIGTERM exits 0" 0 "$STOP_RC"
expect_eq "the stored positions never moved backwards" 0 "$backwards"
compare "C after $KILLS kill -9"
pos_tx=$(stored_position tgt) pos_plain=$(stored_position tgt2)
expect_eq "both sinks stored the same final position" "$pos_tx" "$pos_plain"

# A restart replays nothing twice: the stored position skips what is done.
start_consumer
pgc_psql -d postgres -c "UPDATE s2.items SET note = 'last' WHERE id = 100" >/dev/null
expect_eq "the slot is confirmed after a restart" t "$(slot_caught_up tributary_mongo)"
stop_consumer
compare "D restart"
if grep -q "ERROR" "$WORK/run.log"; then echo "# errors logged:"; grep "ERROR" "$WORK/run.log" | cut -c1-200 | sort | uniq -c | head -5 || true; fi
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
on_double && echo "# $KILLS kills; the double's log: $(grep -c commitTransaction "$WORK/mongo.log") commits, $(grep -c "open longer than transactionLifetimeLimitSeconds" "$WORK/mongo.log" || true) orphaned transactions aborted"
e2e_finish
