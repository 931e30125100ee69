#!/usr/bin/env bash
# 29_sink_postgres_cases.sh: the cases that used to stop the Postgres sink
# (issue 9, items 2, 4 and 6), each with its defined behaviour, against a
# real cluster:
#
#   A  a source type the target lacks (an enum created only in the
#      source): a clear error naming the column, the type and the ways out,
#      the same on a restart, never a crash; `unknown_types: text` creates
#      the column as text.
#   B  the target's errors without row values: a check constraint, a
#      rejected input value, a trigger's RAISE; with --log-row-values they
#      are shown.
#   C  real changes through the output plugin and the source: a table
#      without a primary key under REPLICA IDENTITY FULL (duplicate rows,
#      NULLs, json, a TOAST value) equals the source; one under DEFAULT is
#      append-only, its updates and deletes counted; a key with REPLICA
#      IDENTITY NOTHING keeps the deleted row, the delete counted;
#      composite and array-of-composite columns (quotes, commas,
#      parentheses, backslashes, NULL fields, nested, bytea, BC dates)
#      equal the source; JSON null in json/jsonb columns (NOT NULL or
#      nullable, domains, jsonb[] elements, and the old image of a keyless
#      table) stays JSON null while SQL NULL stays NULL.  Replaying
#      the slot changes nothing (the position is stored with the rows).
#   D  `tributary check` flags each case in advance.
#   E  `tributary run`: the skipped deletes in /metrics, and a sink error
#      in the log without the row's values.
#
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

export PG_CONFIG
build_consumer
build_tool pgsink_apply
pgc_start
chmod 777 "$WORK"
for db in src dst_a dst_b tgt; do pgc_psql -c "CREATE DATABASE $db" >/dev/null; done

# ------------------------------------------------ A: a type the target lacks
cat >"$WORK/a.jsonl" <<'EOF'
{"id":"0/1000:0","op":"c","schema":"public","table":"moody","after":{"id":1,"m":"happy","ms":["sad","ok"]},"rel":{"version":1,"columns":[{"name":"id","type":"bigint","pk":true},{"name":"m","type":"mood"},{"name":"ms","type":"mood[]"}]}}
EOF
for attempt in first restart; do
    rc=0; apply dst_a --create-tables --events "$WORK/a.jsonl" >"$WORK/a.out" 2>"$WORK/a.err" || rc=$?
    expect_eq "A1 an unknown type stops the sink with an error, not a crash ($attempt)" 1 "$rc"
    expect_match "A1 the error names the column and the type ($attempt)" \
        'column "m" has type "mood", which does not exist in the target database' "$(cat "$WORK/a.err")"
    expect_match "A1 ... and the ways out ($attempt)" \
        'create the type there.*unknown_types: text.*drop. transform rule' "$(cat "$WORK/a.err")"
    expect_no_sanitizer "A1 no sanitizer or allocator report ($attempt)" "$WORK/a.err"
done
out=$(apply dst_a --create-tables --unknown-types-text --events "$WORK/a.jsonl" 2>"$WORK/a2.err") || true
expect_eq "A2 unknown_types text: applied" "position 0/1000:0" "$(head -1 <<<"$out")"
expect_eq "A2 ... the columns created as text and text[]" "m text|ms text[]" \
    "$(q dst_a "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), '|' ORDER BY attnum)
                FROM pg_attribute WHERE attrelid = 'moody'::regclass AND attnum > 1")"
expect_eq "A2 ... holding the values' text" "happy|{sad,ok}" "$(q dst_a "SELECT m || '|' || ms::text FROM moody")"
expect_match "A2 ... with a warning" 'type "mood" does not exist.*created as text' "$(cat "$WORK/a2.err")"

# ------------------------------------------------ B: errors without row values
pgc_psql -d dst_b -q >/dev/null <<'SQL'
CREATE TABLE acct (id int PRIMARY KEY, owner text, bal numeric CHECK (bal < 1000));
CREATE TABLE nums (id int PRIMARY KEY, n int);
CREATE TABLE guarded (id int PRIMARY KEY, owner text);
CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'owner % refused', NEW.owner USING DETAIL = 'row ' || NEW::text; END$$;
CREATE TRIGGER refuse BEFORE INSERT ON guarded FOR EACH ROW EXECUTE FUNCTION refuse();
SQL
cat >"$WORK/b1.jsonl" <<'EOF'
{"id":"0/2000:0","op":"c","schema":"public","table":"acct","after":{"id":1,"owner":"TOPSECRET-OWNER","bal":987654}}
EOF
cat >"$WORK/b2.jsonl" <<'EOF'
{"id":"0/2000:0","op":"c","schema":"public","table":"nums","after":{"id":1,"n":"SECRET-INPUT-77"}}
EOF
cat >"$WORK/b3.jsonl" <<'EOF'
{"id":"0/2000:0","op":"c","schema":"public","table":"guarded","after":{"id":1,"owner":"TRIGGER-SECRET"}}
EOF
rc=0; apply dst_b --events "$WORK/b1.jsonl" >/dev/null 2>"$WORK/b1.err" || rc=$?
expect_eq "B1 a check violation fails the sink" 1 "$rc"
expect_match "B1 the error names the constraint and the table" \
    'SQLSTATE 23514: ERROR:  new row for relation "acct" violates check constraint "acct_bal_check" DETAIL:  Failing row contains \(\*\*\*\)' \
    "$(cat "$WORK/b1.err")"
expect_absent "B1 the row's values are not in it" "TOPSECRET-OWNER" "$WORK/b1.err"
expect_absent "B1 ... nor the number" "987654" "$WORK/b1.err"
apply dst_b --events "$WORK/b2.jsonl" >/dev/null 2>"$WORK/b2.err" || true
expect_match "B2 a rejected input value: the type is named" 'invalid input syntax for type integer: "\*\*\*"' \
    "$(cat "$WORK/b2.err")"
expect_absent "B2 ... the value is not" "SECRET-INPUT-77" "$WORK/b2.err"
apply dst_b --events "$WORK/b3.jsonl" >/dev/null 2>"$WORK/b3.err" || true
expect_match "B3 a trigger's RAISE: its message is withheld" 'P0001: ERROR:  \(message withheld' "$(cat "$WORK/b3.err")"
expect_absent "B3 ... and the value with it" "TRIGGER-SECRET" "$WORK/b3.err"
apply dst_b --log-row-values --events "$WORK/b1.jsonl" >/dev/null 2>"$WORK/b4.err" || true
expect_match "B4 --log-row-values shows the server's text" 'Failing row contains \(1, TOPSECRET-OWNER, 987654\)' \
    "$(cat "$WORK/b4.err")"

# ------------------------------------------------ C: real changes
# Each case streams its own source database (its own slot) into its own
# target, so that one case cannot hide another.
TYPES="CREATE TYPE inner_t AS (b bytea, d date, j jsonb, s text, ts timestamptz);
       CREATE TYPE outer_t AS (i inner_t, arr inner_t[], n numeric, t text);
       CREATE DOMAIN outer_d AS outer_t;"
for c in keyless nothing comp json; do
    pgc_psql -c "CREATE DATABASE src_$c" -c "CREATE DATABASE dst_$c" >/dev/null
done
pgc_psql -d dst_comp -q -c "$TYPES" >/dev/null
pgc_psql -d dst_json -q -c "CREATE DOMAIN jdom AS json" >/dev/null
pgc_psql -d src_keyless -q >/dev/null <<'SQL'
CREATE TABLE nf (a int, b text, j json, big text);
ALTER TABLE nf REPLICA IDENTITY FULL;
ALTER TABLE nf ALTER big SET STORAGE EXTERNAL;
CREATE TABLE ap (a int, b text);
SELECT 'x' FROM pg_create_logical_replication_slot('s_keyless', 'tributary');
SELECT 'x' FROM pg_copy_logical_replication_slot('s_keyless', 'w_keyless');
INSERT INTO nf VALUES (1, 'dup', '{"x": 1}', repeat('z', 5000)), (1, 'dup', '{"x": 1}', repeat('z', 5000)),
                      (2, NULL, NULL, NULL), (3, 'c', '[ 1,  2 ]', NULL), (NULL, NULL, NULL, NULL), (NULL, NULL, NULL, NULL);
UPDATE nf SET b = 'one' WHERE ctid = (SELECT ctid FROM nf WHERE a = 1 LIMIT 1);
UPDATE nf SET a = 20 WHERE a = 2;
UPDATE nf SET j = '{"y": [true]}' WHERE a = 3;
DELETE FROM nf WHERE ctid = (SELECT ctid FROM nf WHERE a IS NULL LIMIT 1);
DELETE FROM nf WHERE a = 20;
INSERT INTO ap VALUES (1, 'a'), (2, 'b');
UPDATE ap SET b = 'bb' WHERE a = 2;
DELETE FROM ap WHERE a = 1;
SQL
pgc_psql -d src_nothing -q >/dev/null <<'SQL'
CREATE TABLE rn (id int PRIMARY KEY, v text);
ALTER TABLE rn REPLICA IDENTITY NOTHING;
SELECT 'x' FROM pg_create_logical_replication_slot('s_nothing', 'tributary');
INSERT INTO rn VALUES (1, 'x'), (2, 'y');
UPDATE rn SET v = 'yy' WHERE id = 2;
DELETE FROM rn WHERE id = 1;
INSERT INTO rn VALUES (3, 'after the delete');
SQL
pgc_psql -d src_comp -q >/dev/null <<SQL
$TYPES
CREATE TABLE comp (id int PRIMARY KEY, o outer_t, oa outer_t[], od outer_d, ia inner_t[][]);
SELECT 'x' FROM pg_create_logical_replication_slot('s_comp', 'tributary');
SELECT 'x' FROM pg_copy_logical_replication_slot('s_comp', 'w_comp');
INSERT INTO comp VALUES
  (1, ROW(ROW('\x00ff27', '0044-03-15 BC', '{"a":[1,"q\"x"]}', E'q"uo,t(e)\\\\ end', '2024-06-01 10:00:00+00'),
          ARRAY[ROW(NULL, NULL, NULL, ')(', NULL)::inner_t, NULL, ROW('\x', '10000-01-01', '[]', '', 'infinity')::inner_t],
          1.50, 'x,y "z" (w)'),
      ARRAY[NULL, ROW(NULL, NULL, NULL, NULL)::outer_t, ROW(ROW(NULL, NULL, NULL, 'NULL', NULL), '{}', -0.0, '\\')::outer_t],
      ROW(NULL, NULL, 7, 'domain')::outer_t,
      ARRAY[[ROW('\x01', '2020-02-29', '[null]', 'a', NULL)::inner_t, NULL], [NULL, ROW(NULL, NULL, NULL, 'b,"c"', NULL)::inner_t]]),
  (2, NULL, NULL, NULL, NULL);
UPDATE comp SET o = ROW(NULL, NULL, 3, E'back\\\\slash "and" quotes')::outer_t WHERE id = 2;
SQL
pgc_psql -d src_json -q >/dev/null <<'SQL'
CREATE DOMAIN jdom AS json;
CREATE TABLE js (id int PRIMARY KEY, must jsonb NOT NULL, may jsonb, mj jdom, arr jsonb[]);
CREATE TABLE jk (a int, j jsonb, jj json);
ALTER TABLE jk REPLICA IDENTITY FULL;
SELECT 'x' FROM pg_create_logical_replication_slot('s_json', 'tributary');
INSERT INTO js VALUES (1, 'null', '{"k": null}', NULL, NULL), (2, '[null]', NULL, NULL, NULL),
    (3, '{}', 'null', 'null', '{"null",NULL,"\"s\"","{\"a\": null}",true}'),
    (4, '{}', NULL, NULL, '{{NULL,"null"},{1,"null"}}');
UPDATE js SET may = 'null', mj = 'null' WHERE id = 2;
UPDATE js SET may = '{}' WHERE id = 3;
INSERT INTO jk VALUES (1, 'null', NULL), (1, NULL, 'null'), (2, 'null', 'null'), (3, NULL, NULL);
UPDATE jk SET a = 10 WHERE a = 1 AND j IS NOT NULL;
UPDATE jk SET a = 11 WHERE a = 1 AND jj IS NOT NULL;
DELETE FROM jk WHERE a = 2;
SQL
# stream CASE [SLOT]: apply src_CASE's slot (s_CASE) to dst_CASE; sets out.
stream() {
    out=$(apply "dst_$1" --create-tables --stats --idle-ms 2500 --slot "${2:-s_$1}" \
        --source-dsn "host=127.0.0.1 port=$PGC_PORT user=postgres dbname=src_$1" 2>"$WORK/c_$1.err") || true
}
# tuples DB TABLE: the rows as text, in text order, |-separated.
tuples() { q "$1" "SELECT string_agg(t::text, '|' ORDER BY t::text) FROM $2 t" 2>&1 || true; }

stream keyless
expect_match "C1 keyless tables: the stream was applied to its end" "^position [0-9A-F]+/[0-9A-F]+:[0-9]+" "$out"
expect_eq "C1 replica identity full: the target equals the source (duplicates, NULLs, json, TOAST)" \
    "$(table_digest src_keyless nf)" "$(table_digest dst_keyless nf 2>&1 || true)"
expect_eq "C1 ... created without a key" "0" \
    "$(q dst_keyless "SELECT count(*) FROM pg_index WHERE indrelid = 'nf'::regclass" 2>&1 || true)"
expect_eq "C2 replica identity default: inserts appended, the update and delete not applied" \
    "(1,a)|(2,b)" "$(tuples dst_keyless ap)"
expect_eq "C2 ... and counted" "2" "$(stat_of "$out" no_old_row)"
before="$(table_digest dst_keyless nf 2>&1 || true)/$(tuples dst_keyless ap)"
stream keyless w_keyless
expect_eq "C3 replaying the whole slot applies nothing" "0 0" "$(stat_of "$out" batches) $(stat_of "$out" statements)"
expect_eq "C3 ... and changes nothing" "$before" "$(table_digest dst_keyless nf 2>&1 || true)/$(tuples dst_keyless ap)"

stream nothing
expect_eq "C4 replica identity nothing: the update applied, the delete not, the pipeline moved on" \
    "(1,x)|(2,yy)|(3,\"after the delete\")" "$(tuples dst_nothing rn)"
expect_eq "C4 ... the delete counted" "1" "$(stat_of "$out" no_key)"
expect_match "C4 ... with a warning naming the table" '"public"."rn": skipped 1 delete' "$(cat "$WORK/c_nothing.err")"

stream comp
expect_eq "C5 composite, nested, array and domain columns equal the source" \
    "$(table_digest src_comp comp)" "$(table_digest dst_comp comp 2>&1 || true)"
expect_eq "C5 ... with their types" "o outer_t|oa outer_t[]|od outer_d|ia inner_t[]" \
    "$(q dst_comp "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), '|' ORDER BY attnum)
                   FROM pg_attribute WHERE attrelid = 'comp'::regclass AND attnum > 1" 2>&1 || true)"
expect_eq "C5 ... bytea and a BC date inside a composite" '\x00ff27|0044-03-15 BC' \
    "$(q dst_comp "SELECT ((o).i).b::text || '|' || ((o).i).d::text FROM comp WHERE id = 1" 2>&1 || true)"
before=$(table_digest dst_comp comp 2>&1 || true)
stream comp w_comp
expect_eq "C5 replaying the slot changes nothing" "$before" "$(table_digest dst_comp comp 2>&1 || true)"

stream json
expect_eq "C6 a jsonb NOT NULL JSON null stays JSON null" "f|null|{\"k\": null}" \
    "$(q dst_json "SELECT CASE WHEN must IS NULL THEN 't' ELSE 'f' END || '|' || must::text || '|' || may::text
                   FROM js WHERE id = 1" 2>&1 || true)"
expect_eq "C6 ... and the table equals the source" "$(table_digest src_json js)" "$(table_digest dst_json js 2>&1 || true)"
expect_eq "C6 nullable json, jsonb and domain columns: JSON null stays JSON null, NULL stays NULL" \
    "2|null|null 3|{}|null 4|NULL|NULL" \
    "$(q dst_json "SELECT string_agg(id || '|' || coalesce(may::text, 'NULL') || '|' || coalesce(mj::text, 'NULL'), ' '
                   ORDER BY id) FROM js WHERE id > 1" 2>&1 || true)"
expect_eq "C6 jsonb[] elements: JSON null, NULL, strings and objects as in the source" \
    '{"null",NULL,"\"s\"","{\"a\": null}",true}|{{NULL,"null"},{1,"null"}}' \
    "$(q dst_json "SELECT string_agg(arr::text, '|' ORDER BY id) FROM js WHERE id > 2" 2>&1 || true)"
expect_eq "C6 keyless table: updates and deletes find the row by an old image with JSON null" \
    "$(tuples src_json jk)" "$(tuples dst_json jk)"

# ------------------------------------------------ D: check, in advance
pgc_psql -d src -q >/dev/null <<SQL
$TYPES
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE moody (id int PRIMARY KEY, m mood);
CREATE TABLE nf (a int, b text);
ALTER TABLE nf REPLICA IDENTITY FULL;
CREATE TABLE ap (a int, b text);
CREATE TABLE rn (id int PRIMARY KEY, v text);
ALTER TABLE rn REPLICA IDENTITY NOTHING;
CREATE TABLE comp (id int PRIMARY KEY, o outer_t, oa outer_t[], od outer_d, ia inner_t[][]);
SQL
cat >"$WORK/p.yaml" <<EOF
pipeline: cases
sources:
  main:
    type: postgres
    dsn: "$(pg_dsn src)"
    snapshot: never
    heartbeat_interval_ms: 500
    status_interval_ms: 200
sinks:
  copy:
    type: postgres
    dsn: "$(pg_dsn tgt)"
    batch_ms: 20
checkpoint:
  store: file
  path: $WORK/ckpt.json
http:
  listen: "127.0.0.1:0"
log:
  file: $WORK/run.log
EOF
"$BIN" check -c "$WORK/p.yaml" >"$WORK/report" 2>&1 || true
report=$(cat "$WORK/report")
expect_match "D1 a type the target lacks is a problem, with the ways out" \
    'moody:.*column m: type mood does not exist in the target; .run. would stop: create the type there, set .unknown_types: text., or drop' \
    "$(tr '\n' ' ' <<<"$report")"
expect_match "D2 keyless under replica identity full: keyed on the old row" \
    'nf:[^:]*no primary key, replica identity full: updates and deletes change one row' "$(tr '\n' ' ' <<<"$report")"
expect_match "D3 keyless otherwise: append-only, a warning" \
    'ap:[^:]*warning: no primary key and replica identity default: inserts are appended' "$(tr '\n' ' ' <<<"$report")"
expect_match "D4 replica identity nothing: deletes skipped, a warning" \
    'rn:[^:]*warning: replica identity nothing: deletes carry no key' "$(tr '\n' ' ' <<<"$report")"
expect_match "D5 composite columns are named" 'composite columns o, oa, od, ia: built in the target' "$report"
expect_match "D6 the problems are counted (comp's types and mood are missing in tgt)" '^[1-9][0-9]* problem' \
    "$(tail -1 <<<"$report")"

# ------------------------------------------------ E: tributary run
pgc_psql -d src -q -c "DROP TABLE moody, comp, nf, ap" >/dev/null
pgc_psql -d tgt -q -c "CREATE TABLE rn (id int PRIMARY KEY, v text CHECK (v <> 'RUN-SECRET-VALUE'))" >/dev/null
start_consumer "$WORK/p.yaml" "$WORK/run.out"
port=
for _ in $(seq 1 100); do
    port=$(sed -nE 's/.*serving .* on 127\.0\.0\.1 port ([0-9]+).*/\1/p' "$WORK/run.log" 2>/dev/null || true)
    [ -n "$port" ] && [ "$(q src "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'tributary_cases'")" = 1 ] && break
    sleep 0.1
done
pgc_psql -d src -q -c "INSERT INTO rn VALUES (10, 'a'), (11, 'b'); DELETE FROM rn WHERE id = 10" >/dev/null
metric=
for _ in $(seq 1 100); do
    metric=$(curl -s "http://127.0.0.1:$port/metrics" | grep '^tributary_sink_skipped_changes_total{sink="copy",reason="no_key"}' || true)
    [ "${metric##* }" = 1 ] && break
    sleep 0.1
done
expect_eq "E1 the skipped delete is in /metrics" 'tributary_sink_skipped_changes_total{sink="copy",reason="no_key"} 1' "$metric"
expect_eq "E1 ... and the pipeline moved on" "(10,a)|(11,b)" "$(q tgt "SELECT string_agg(t::text, '|' ORDER BY t::text) FROM rn t")"
pgc_psql -d src -q -c "INSERT INTO rn VALUES (12, 'RUN-SECRET-VALUE')" >/dev/null
rc=0
for _ in $(seq 1 150); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$RUN_PID" 2>/dev/null; then kill -9 "$RUN_PID"; rc=timeout; fi
wait "$RUN_PID" 2>/dev/null || { [ "$rc" = timeout ] || rc=$?; }
RUN_PID=
expect_match "E2 the refused row stops the run with an error" '^[1-9]' "$rc"
expect_match "E2 the log names the constraint" 'rn_v_check' "$(cat "$WORK/run.log" "$WORK/run.out")"
expect_absent "E2 the log holds no row value" "RUN-SECRET-VALUE" "$WORK/run.log"
expect_absent "E2 ... nor does standard error" "RUN-SECRET-VALUE" "$WORK/run.out"

expect_no_sanitizer "no sanitizer report from the sink's driver or the consumer" "$WORK"/*.err "$WORK/run.out"

e2e_finish
