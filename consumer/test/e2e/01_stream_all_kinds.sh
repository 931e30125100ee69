#!/usr/bin/env bash
# 01_stream_all_kinds.sh: the PostgreSQL source delivers every kind of
# change (insert, update, delete, truncate, transactional and
# non-transactional messages, TOAST, a streamed transaction with a rolled
# back savepoint) exactly once, with the same event ids as a witness slot
# decoded through the SQL functions, and row images byte for byte.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

build_tool
pgc_start "max_prepared_transactions = 5" "logical_decoding_work_mem = 64kB"
DSN=$(tcp_dsn)

pgc_psql -q >/dev/null <<'SQL'
CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12,2), doc jsonb, big text);
ALTER TABLE orders ALTER big SET STORAGE EXTERNAL;
CREATE TABLE full_t (a int, b text);
ALTER TABLE full_t REPLICA IDENTITY FULL;
CREATE TABLE comp (k1 int, k2 text, v float8, PRIMARY KEY (k2, k1));
SELECT pg_create_logical_replication_slot('s1', 'tributary');
SELECT pg_copy_logical_replication_slot('s1', 'witness');
SQL


"$TOOL" --dsn "$DSN" --slot s1 -o stream --output "$WORK/out.jsonl" \
    --checkpoint "$WORK/ck.json" --status-ms 200 2>"$WORK/tool.log" &
TOOL_PID=$!

pgc_psql -q >/dev/null <<'SQL'
INSERT INTO orders VALUES (1, 12.50, '{"n": 123456789012345678901234567890, "f": 2.50}', repeat('x', 5000));
UPDATE orders SET amount = 13.00 WHERE id = 1;
UPDATE orders SET id = 2 WHERE id = 1;
DELETE FROM orders WHERE id = 2;
BEGIN; INSERT INTO full_t VALUES (1, 'a'), (2, NULL); UPDATE full_t SET b = 'z' WHERE a = 1; DELETE FROM full_t WHERE a = 2; COMMIT;
INSERT INTO comp VALUES (7, 'k', 0.1);
SELECT pg_logical_emit_message(true, 'app.audit', 'user logged in');
SELECT pg_logical_emit_message(false, 'app.bin', '\x000102ff'::bytea);
TRUNCATE full_t;
BEGIN;
INSERT INTO full_t SELECT g, repeat('y', 100) FROM generate_series(1, 2000) g;
SAVEPOINT sp;
INSERT INTO full_t SELECT g, 'q' FROM generate_series(1, 1500) g;
ROLLBACK TO sp;
INSERT INTO full_t VALUES (99999, 'last');
COMMIT;
INSERT INTO comp VALUES (8, 'end', 1);
SQL

witness_ids witness | sort >"$WORK/witness.ids"
expected=$(wc -l <"$WORK/witness.ids")
wait_lines "$WORK/out.jsonl" "$expected" 30 || true
sleep 0.5
ids_of "$WORK/out.jsonl" | sort >"$WORK/out.ids"

expect_eq "witness holds the changes" "2014" "$expected"
expect_ids_once "every change delivered once (count)" "no change delivered twice"
expect_eq "insert image byte for byte" "1" \
    "$(grep -c '"after":{"id":1,"amount":12.50,"doc":{"f": 2.50, "n": 123456789012345678901234567890},"big":"xxx' "$WORK/out.jsonl")"
expect_eq "update with changed key: before, key from new image, unchanged TOAST" "1" \
    "$(grep -c '"op":"u","schema":"public","table":"orders","key":{"id":2},"before":{"id":1},"after":{"id":2,"amount":13.00,"doc":{[^}]*}},"unchanged":\["big"\]' "$WORK/out.jsonl")"
expect_eq "delete key from old image" "1" \
    "$(grep -c '"op":"d","schema":"public","table":"orders","key":{"id":2},"before":{"id":2},"after":null' "$WORK/out.jsonl")"
expect_eq "composite key in the relation record's key order" "1" \
    "$(grep -c '"key":{"k1":7,"k2":"k"}' "$WORK/out.jsonl")"
expect_eq "replica identity full has no key, whole old row" "1" \
    "$(grep -c '"op":"u","schema":"public","table":"full_t","key":null,"before":{"a":1,"b":"a"},"after":{"a":1,"b":"z"}' "$WORK/out.jsonl")"
expect_eq "messages: transactional and base64 non-transactional" "2" \
    "$(grep -c -e '"extra":{"transactional":true,"prefix":"app.audit","encoding":"utf8","content":"user logged in"}' \
        -e '"extra":{"transactional":false,"prefix":"app.bin","encoding":"base64","content":"AAEC/w=="}' "$WORK/out.jsonl")"
expect_eq "truncate lists its relations" "1" \
    "$(grep -c '"op":"t".*"extra":{"relations":\[{"schema":"public","table":"full_t"}\],"cascade":false' "$WORK/out.jsonl")"
expect_eq "streamed transaction: kept rows only, last one marked" "2001 1" \
    "$(grep -c '"table":"full_t","key":null,"before":null,"after":{"a":[0-9]*,"b":"\(y*\|last\)"}' "$WORK/out.jsonl") $(grep -c '"after":{"a":99999,"b":"last"}.*"last":true,"end_lsn":"[0-9A-F]*/[0-9A-F]*"' "$WORK/out.jsonl")"
expect_eq "one last_in_tx event per transaction with changes" "11" "$(grep -c '"last":true' "$WORK/out.jsonl")"

sleep 0.5
last_commit=$(pgc_psql -At -c "SELECT max((data::json->>'end_lsn')::pg_lsn) FROM pg_logical_slot_peek_changes('witness', NULL, NULL)")
confirmed=$(pgc_psql -At -c "SELECT confirmed_flush_lsn >= '$last_commit' FROM pg_replication_slots WHERE slot_name = 's1'")
expect_eq "slot confirmed up to the last commit" "t" "$confirmed"

kill "$TOOL_PID"; wait "$TOOL_PID" 2>/dev/null || true; TOOL_PID=
expect_eq "clean exit leaves no error in the log" "" "$(grep -i 'error\|fail' "$WORK/tool.log" | head -2)"
expect_no_sanitizer "no sanitizer report from the tool" "$WORK"/*.log
e2e_finish
