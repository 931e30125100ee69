#!/usr/bin/env bash
# 07_sink_postgres.sh: the PostgreSQL sink applies changes to a real target
# database exactly once.
#
# Part A feeds synthetic events (tools/pgsink_apply --events) to the
# sink: create_tables from a relation, values of many types (numeric with 30
# digits, jsonb, arrays, bytea, timestamptz, BC dates, text with quotes and
# unicode), an update with unchanged TOAST columns, a key move, delete,
# truncate, a new column (ALTER), small batches, a crash in the middle of a
# batch, replays with and without the stored position, and SQL injection
# attempts in identifiers, values and type names.
#
# Part B streams real changes: the tributary output plugin, the Postgres
# source (source_pg.c) and the sink, from database src to database dst of
# the same throwaway cluster; every table of dst must equal src row for
# row, also after a kill in the middle and after replaying the whole slot.
#
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

export PG_CONFIG
build_tool pgsink_apply
pgc_start "max_prepared_transactions = 5"
for db in src dst dst_ref dst_row dst_inj; do pgc_psql -c "CREATE DATABASE $db"; done

# ---------------------------------------------------------------- part A
REL1='"rel":{"version":1,"columns":[{"name":"id","type":"bigint","pk":true},{"name":"n","type":"numeric(40,10)"},{"name":"j","type":"jsonb"},{"name":"arr","type":"text[]"},{"name":"iarr","type":"integer[]"},{"name":"b","type":"bytea"},{"name":"ts","type":"timestamp with time zone"},{"name":"s","type":"text"},{"name":"d","type":"date"}]}'
REL2='"rel":{"version":1,"columns":[{"name":"k","type":"text","pk":true},{"name":"v","type":"integer"}]}'
REL1B='"rel":{"version":2,"columns":[{"name":"id","type":"bigint","pk":true},{"name":"n","type":"numeric(40,10)"},{"name":"j","type":"jsonb"},{"name":"arr","type":"text[]"},{"name":"iarr","type":"integer[]"},{"name":"b","type":"bytea"},{"name":"ts","type":"timestamp with time zone"},{"name":"s","type":"text"},{"name":"d","type":"date"},{"name":"extra","type":"character varying(20)"}]}'
cat >"$WORK/a.jsonl" <<EOF
{"id":"0/1000:0","op":"c","schema":"public","table":"typed","after":{"id":1,"n":123456789012345678901234567890.1234567891,"j":{"a":[1,2.50,{"b":"x"}],"q":"it's"},"arr":["a","b\"c",null,"NULL","x,y"],"iarr":[[1,2],[3,4]],"b":"AAEC/w==","ts":"2024-06-01T10:00:00.123456Z","s":"O'Brien \"quoted\" ünïcødé ☃ 😀","d":"-0043-03-15"},$REL1}
{"id":"0/1000:1","op":"c","schema":"public","table":"typed","after":{"id":2,"n":-0.0000000001,"j":[],"arr":[],"iarr":null,"b":"","ts":"infinity","s":"","d":"+10000-01-01"},$REL1}
{"id":"0/1000:2","op":"c","schema":"public","table":"typed","after":{"id":3,"n":3,"j":null,"arr":["three"],"iarr":[3],"b":null,"ts":"1999-12-31T23:59:59.5Z","s":"three","d":"2024-02-29"},$REL1}
{"id":"0/1000:3","op":"r","schema":"public","table":"kv","after":{"k":"a","v":1},$REL2}
{"id":"0/1000:4","op":"c","schema":"public","table":"kv","after":{"k":"b","v":2},$REL2}
{"id":"0/2000:0","op":"u","schema":"public","table":"typed","before":null,"after":{"id":1,"n":2.5},"unchanged":["j","s"],$REL1}
{"id":"0/2000:1","op":"d","schema":"public","table":"typed","before":{"id":2},"key":{"id":2},$REL1}
{"id":"0/2000:2","op":"u","schema":"public","table":"typed","before":{"id":3},"after":{"id":30,"n":30,"iarr":[30]},"unchanged":["s"],$REL1}
{"id":"0/3000:0","op":"t","extra":{"relations":[{"schema":"public","table":"kv"},{"schema":"public","table":"not_in_target"}],"cascade":false,"restart_identity":false}}
{"id":"0/3000:1","op":"c","schema":"public","table":"kv","after":{"k":"c","v":3},$REL2}
{"id":"0/3800:0","op":"m","extra":{"transactional":true,"prefix":"app","encoding":"utf8","content":"hi"}}
{"id":"0/4000:0","op":"c","schema":"public","table":"typed","after":{"id":4,"n":4,"extra":"new column"},$REL1B}
EOF

out=$(apply dst --create-tables --stats --events "$WORK/a.jsonl")
expect_eq "A1 all events applied, position stored" "position 0/4000:0" "$(head -1 <<<"$out")"
expect_eq "A1 created tables from the relations" "2" "$(stat_of "$out" created)"
expect_eq "A1 column types from the relation" \
    "id bigint|n numeric(40,10)|j jsonb|arr text[]|iarr integer[]|b bytea|ts timestamp with time zone|s text|d date|extra character varying(20)" \
    "$(q dst "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), '|' ORDER BY attnum)
              FROM pg_attribute WHERE attrelid = 'typed'::regclass AND attnum > 0 AND NOT attisdropped")"
expect_eq "A1 primary key from the relation" "typed_pkey (id)" \
    "$(q dst "SELECT conname || ' (' || (SELECT string_agg(attname, ',') FROM pg_attribute WHERE attrelid = conrelid AND attnum = ANY(conkey)) || ')'
              FROM pg_constraint WHERE conrelid = 'typed'::regclass AND contype = 'p'")"
# the values as inserted: only the inserts, into a fresh database
head -3 "$WORK/a.jsonl" >"$WORK/a1.jsonl"
apply dst_ref --create-tables --events "$WORK/a1.jsonl" >/dev/null
expect_eq "A2 values of every type" \
    "123456789012345678901234567890.1234567891|true|{a,\"b\\\"c\",NULL,\"NULL\",\"x,y\"}|{{1,2},{3,4}}|\\x000102ff|2024-06-01 10:00:00.123456+00|O'Brien \"quoted\" ünïcødé ☃ 😀|0044-03-15 BC" \
    "$(q dst_ref "SET timezone = 'UTC'; SELECT n || '|' || (j = '{\"a\":[1,2.50,{\"b\":\"x\"}],\"q\":\"it''s\"}'::jsonb) || '|' || arr::text || '|' || iarr::text
                 || '|' || b::text || '|' || ts::text || '|' || s || '|' || d::text FROM typed WHERE id = 1")"
expect_eq "A2 empty values, infinity, year 10000" "-0.0000000001|[]|{}||\\x|infinity||10000-01-01" \
    "$(q dst_ref "SET timezone = 'UTC'; SELECT n || '|' || j::text || '|' || arr::text || '|' || coalesce(iarr::text, '') || '|' || b::text
                  || '|' || ts::text || '|' || s || '|' || d::text FROM typed WHERE id = 2")"
expect_eq "A3 unchanged TOAST columns keep their values" \
    "2.5000000000|true|O'Brien \"quoted\" ünïcødé ☃ 😀|{a,\"b\\\"c\",NULL,\"NULL\",\"x,y\"}" \
    "$(q dst "SELECT n || '|' || (j ? 'q') || '|' || s || '|' || arr::text FROM typed WHERE id = 1")"
expect_eq "A4 delete by key" "0" "$(q dst "SELECT count(*) FROM typed WHERE id = 2")"
expect_eq "A5 key move keeps untouched columns" "0|30.0000000000|three|{three}|{30}" \
    "$(q dst "SELECT (SELECT count(*) FROM typed WHERE id = 3) || '|' || n || '|' || s || '|' || arr::text || '|' || iarr::text FROM typed WHERE id = 30")"
expect_eq "A6 truncate, then the insert after it" "c=3" "$(q dst "SELECT string_agg(k || '=' || v, ',') FROM kv")"
expect_eq "A7 new column added (ALTER) and filled" "new column|4.0000000000" \
    "$(q dst "SELECT extra || '|' || n FROM typed WHERE id = 4")"
before=$(table_digest dst typed)/$(table_digest dst kv)
out=$(apply dst --create-tables --stats --events "$WORK/a.jsonl")
expect_eq "A8 replay: every event skipped by the stored position" "12 0 0" \
    "$(stat_of "$out" skipped) $(stat_of "$out" batches) $(stat_of "$out" statements)"
expect_eq "A8 replay: target unchanged" "$before" "$(table_digest dst typed)/$(table_digest dst kv)"
pgc_psql -d dst -c "DELETE FROM tributary_sink.positions" >/dev/null
apply dst --create-tables --events "$WORK/a.jsonl" >/dev/null
expect_eq "A9 replay without the position: operations are idempotent" "$before" "$(table_digest dst typed)/$(table_digest dst kv)"

# modes: one statement per row, no pipeline, tiny batches: same result
apply dst_row --create-tables --mode row --no-pipeline --batch-size 1 --events "$WORK/a.jsonl" >/dev/null
expect_eq "A10 row mode without pipeline gives the same tables" "$before" "$(table_digest dst_row typed)/$(table_digest dst_row kv)"

# many rows in small batches, a crash in the middle, then a rerun
python3 - "$WORK/many.jsonl" <<'PY'
import json, sys
rel = {"version": 1, "columns": [{"name": "id", "type": "integer", "pk": True},
                                 {"name": "v", "type": "text"}, {"name": "n", "type": "numeric"}]}
with open(sys.argv[1], "w") as f:
    lsn = 0x10000
    for i in range(1, 601):
        ev = {"id": "0/%X:%d" % (lsn, i % 7), "op": "c", "schema": "public", "table": "many",
              "after": {"id": i, "v": "v%d" % i, "n": i * 1.5}, "rel": rel}
        if i % 7 == 6:
            lsn += 0x100
        if i % 5 == 0:
            ev["op"] = "u"; ev["after"] = {"id": i // 2, "v": "updated %d" % i}
        if i % 11 == 0:
            ev["op"] = "d"; ev["before"] = {"id": i - 3}; ev.pop("after")
        f.write(json.dumps(ev) + "\n")
PY
apply dst_ref --create-tables --batch-size 1000 --events "$WORK/many.jsonl" >/dev/null
ref=$(table_digest dst_ref many)
set +e
apply dst --create-tables --batch-size 50 --crash-after 333 --events "$WORK/many.jsonl" >/dev/null 2>&1
rc=$?
set -e
expect_eq "A11 the driver crashed in the middle of a batch" "9" "$rc"
mid=$(q dst "SELECT count(*) FROM many")
expect_match "A11 some batches were committed before the crash" "^[1-9][0-9]*$" "$mid"
out=$(apply dst --create-tables --batch-size 50 --stats --events "$WORK/many.jsonl")
expect_match "A11 the rerun skipped what was stored" "^[1-9][0-9]*$" "$(stat_of "$out" skipped)"
expect_eq "A11 after the rerun the table equals a clean run" "$ref" "$(table_digest dst many)"
apply dst_row --create-tables --batch-size 37 --max-rows 5 --events "$WORK/many.jsonl" >/dev/null
expect_eq "A12 small batches and statements give the same table" "$ref" "$(table_digest dst_row many)"

# SQL injection in identifiers, values and type names
EVIL_T='x\"; DROP TABLE typed; --'
cat >"$WORK/inj.jsonl" <<EOF
{"id":"0/5000:0","op":"c","schema":"we ird\"schema","table":"$EVIL_T","after":{"id":1,"a\"b":"'); DROP TABLE typed; --","c') ; DROP TABLE typed; --":"\$\$; DROP TABLE typed; \$\$"},"rel":{"version":1,"columns":[{"name":"id","type":"integer","pk":true},{"name":"a\"b","type":"text"},{"name":"c') ; DROP TABLE typed; --","type":"text"}]}}
{"id":"0/5000:1","op":"c","schema":"public","table":"typetrick","after":{"id":1,"c2":"kept"},"rel":{"version":1,"columns":[{"name":"id","type":"integer --","pk":true},{"name":"c2","type":"text"}]}}
EOF
pgc_psql -d dst_inj -c "CREATE TABLE typed (id int)"
apply dst_inj --create-tables --events "$WORK/inj.jsonl" >/dev/null
expect_eq "A13 identifiers with quotes are names, not SQL" "we ird\"schema.x\"; DROP TABLE typed; --" \
    "$(q dst_inj "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname LIKE 'x%' AND c.relkind = 'r'")"
expect_eq "A13 values with quotes are values, not SQL" "'); DROP TABLE typed; --|\$\$; DROP TABLE typed; \$\$" \
    "$(q dst_inj "SELECT \"a\"\"b\" || '|' || \"c') ; DROP TABLE typed; --\" FROM \"we ird\"\"schema\".\"x\"\"; DROP TABLE typed; --\"")"
expect_eq "A13 the target's other tables survive" "1" "$(q dst_inj "SELECT count(*) FROM pg_class WHERE relname = 'typed'")"
expect_eq "A13 a type name with a comment is not spliced" "id integer|c2 text|pk" \
    "$(q dst_inj "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), '|' ORDER BY attnum) || '|' ||
                  (SELECT CASE WHEN count(*) = 1 THEN 'pk' ELSE 'no pk' END FROM pg_constraint WHERE conrelid = 'typetrick'::regclass AND contype = 'p')
                  FROM pg_attribute WHERE attrelid = 'typetrick'::regclass AND attnum > 0")"
cat >"$WORK/inj2.jsonl" <<'EOF'
{"id":"0/6000:0","op":"c","schema":"public","table":"evil","after":{"id":1},"rel":{"version":1,"columns":[{"name":"id","type":"int); DROP TABLE kv; --","pk":true}]}}
EOF
set +e
err=$(apply dst --create-tables --sink inj --events "$WORK/inj2.jsonl" 2>&1)
rc=$?
set -e
expect_eq "A13 a type name with SQL is refused" "1" "$rc"
expect_match "A13 ... with a message naming the type" "type|syntax" "$err"
expect_eq "A13 ... and nothing was dropped" "1" "$(q dst "SELECT count(*) FROM kv")"
set +e
err=$(apply dst --sink inj --events "$WORK/inj2.jsonl" 2>&1)
rc=$?
set -e
expect_match "A14 without create_tables a missing table is an error" "does not exist.*create_tables is off" "$err"

# ---------------------------------------------------------------- part B
SRC="host=127.0.0.1 port=$PGC_PORT user=postgres dbname=src"
pgc_psql -d src -q >/dev/null <<'SQL'
CREATE TABLE items (id bigint PRIMARY KEY, price numeric(40,10), doc jsonb, tags text[], raw bytea,
                    at timestamptz, note text, big text, born date);
ALTER TABLE items ALTER big SET STORAGE EXTERNAL;
CREATE TABLE pairs (a int, b text, v float8, PRIMARY KEY (b, a));
CREATE TABLE gone (id int PRIMARY KEY);
SELECT pg_create_logical_replication_slot('s1', 'tributary');
SELECT pg_copy_logical_replication_slot('s1', 'witness');
INSERT INTO items VALUES (1, 12345678901234567890.1234567891, '{"k":[1,{"x":null}],"s":"it''s"}',
    '{a,"b c","d\"e",NULL}', '\x00ff10', '2024-02-29 12:00:00+01', 'O''Brien ☃ 😀', repeat('x', 10000), '0044-03-15 BC');
INSERT INTO items SELECT g, g * 1.5, jsonb_build_object('g', g), ARRAY['t' || g], NULL, '2000-01-01'::timestamptz + g * interval '1 hour',
    'n' || g, NULL, NULL FROM generate_series(2, 3000) g;
INSERT INTO pairs SELECT g, 'b' || (g % 7), g / 3.0 FROM generate_series(1, 500) g;
INSERT INTO gone SELECT generate_series(1, 50);
BEGIN;
UPDATE items SET note = 'changed' WHERE id = 1;
UPDATE items SET id = 5000 WHERE id = 2;
DELETE FROM items WHERE id BETWEEN 10 AND 20;
UPDATE pairs SET v = -v WHERE a % 3 = 0;
DELETE FROM pairs WHERE a > 490;
COMMIT;
TRUNCATE gone;
INSERT INTO gone VALUES (7);
SQL
out=$(apply dst --create-tables --stats --sink stream --source-dsn "$SRC" --slot s1 --idle-ms 2500)
expect_match "B1 the stream was applied" "^position [0-9A-F]+/[0-9A-F]+:[0-9]+" "$out"
for t in items pairs gone; do
    expect_eq "B1 $t equals the source" "$(table_digest src $t)" "$(table_digest dst $t)"
done
expect_eq "B1 the TOAST value survived the update that did not touch it" "10000|changed" \
    "$(q dst "SELECT length(big) || '|' || note FROM items WHERE id = 1")"

# a big transaction, a kill in the middle, a restart
pgc_psql -d src -q -c "UPDATE items SET price = price + 1, tags = tags || 'u'::text WHERE id % 2 = 0;
                       INSERT INTO pairs SELECT g, 'new', g FROM generate_series(1000, 3000) g;"
set +e
apply dst --create-tables --batch-size 200 --crash-after 1700 --sink stream --source-dsn "$SRC" --slot s1 --idle-ms 2500 >/dev/null 2>&1
rc=$?
set -e
expect_eq "B2 the driver was killed in the middle of the transaction" "9" "$rc"
expect_match "B2 part of it was committed" "^[1-9]" "$(q dst "SELECT count(*) FROM items WHERE 'u' = ANY(tags)")"
apply dst --create-tables --batch-size 200 --sink stream --source-dsn "$SRC" --slot s1 --idle-ms 2500 >/dev/null
for t in items pairs gone; do
    expect_eq "B2 $t equals the source after the restart" "$(table_digest src $t)" "$(table_digest dst $t)"
done

# replay everything from the witness slot: the position skips it all
out=$(apply dst --create-tables --stats --sink stream --source-dsn "$SRC" --slot witness --idle-ms 2500)
expect_eq "B3 replaying the whole slot applies nothing" "0 0" "$(stat_of "$out" batches) $(stat_of "$out" statements)"
for t in items pairs gone; do
    expect_eq "B3 $t unchanged by the replay" "$(table_digest src $t)" "$(table_digest dst $t)"
done

# the target connection dies while the sink is running: reconnect, retry
"$TOOL" --dsn "host=127.0.0.1 port=$PGC_PORT user=postgres dbname=dst application_name=trib_e2e_sink" \
    --create-tables --stats --batch-ms 50 --sink stream --source-dsn "$SRC" --slot s1 --idle-ms 6000 \
    >"$WORK/b4.out" 2>"$WORK/b4.err" &
b4=$!
pgc_psql -d src -q -c "INSERT INTO pairs SELECT g, 'reconn', g FROM generate_series(1, 100) g"
for i in $(seq 1 100); do
    [ "$(q dst "SELECT count(*) FROM pairs WHERE b = 'reconn'")" = 100 ] && break
    sleep 0.1
done
killed=$(q dst "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'trib_e2e_sink'")
pgc_psql -d src -q -c "INSERT INTO pairs SELECT g, 'reconn', g FROM generate_series(101, 300) g; UPDATE items SET note = 'reconn' WHERE id < 100"
wait "$b4" || true
expect_eq "B4 the sink's connection was terminated" "1" "$killed"
expect_match "B4 the sink reconnected and retried" "reconnects=[1-9]" "$(cat "$WORK/b4.out")"
for t in items pairs; do
    expect_eq "B4 $t equals the source after the reconnect" "$(table_digest src $t)" "$(table_digest dst $t)"
done

e2e_finish
