#!/usr/bin/env bash
# scripts/valgrind-plugin.sh: run the tributary output plugin under valgrind
# inside a real walsender (`make valgrind-plugin`).
#
# Design: a throwaway cluster (scripts/lib/pgcluster.sh) is started with the
# postmaster under valgrind --trace-children=yes, so every backend, the
# walsender included, runs on valgrind's synthetic CPU.  A workload that
# touches every code path of the plugin (all change kinds, TOAST, every value
# kind, JSON null lists, messages, streaming with subtransaction aborts,
# two-phase, filters, resume-after, publish-via-root (a partition's own
# replica identity), batching, DDL records
# from the extension's event triggers) is decoded through pg_recvlogical;
# the schema registry's C functions (libtribsr, linked into tributary.so)
# run in the same server, on valid and invalid schemas.
# Debian's PostgreSQL is not built with USE_VALGRIND, so the server itself
# reports a few known false positives (uninitialised padding written to WAL
# files and sockets); the verdict therefore counts the valgrind errors whose
# stack passes through tributary.so, and fails on any of them.
#
# Output: the valgrind error summary and, as the last line,
# `valgrind: N passed, N failed` (one check per error class).  Slow: a few
# minutes.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"
command -v valgrind >/dev/null || { echo "valgrind-plugin: valgrind is not installed (scripts/install-deps)" >&2; exit 2; }

pgc_init
PGC_DIR=$(pgc_mktemp)
PGC_SOCK=$PGC_DIR
PGC_PORT=$(pgc_free_port)
trap 'pgc_as "$PGBIN/pg_ctl" -D "$PGC_DIR/data" -m immediate stop >/dev/null 2>&1 || true; [ "${KEEP_TMP:-0}" = 1 ] || rm -rf "$PGC_DIR"' EXIT

pgc_as "$PGBIN/initdb" -D "$PGC_DIR/data" -U postgres -A trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
cat <<EOF | pgc_as tee -a "$PGC_DIR/data/postgresql.conf" >/dev/null
listen_addresses = ''
port = $PGC_PORT
unix_socket_directories = '$PGC_SOCK'
wal_level = logical
max_replication_slots = 10
max_wal_senders = 10
max_prepared_transactions = 5
logical_decoding_work_mem = 64kB
output_plugin_libraries = '$PGC_PLUGINS'
autovacuum = off
fsync = off
EOF

VGLOG=$PGC_DIR/valgrind.%p.log
pgc_as valgrind --quiet --trace-children=yes --track-origins=yes \
    --leak-check=no --error-limit=no --num-callers=30 \
    --log-file="$VGLOG" "$PGBIN/postgres" -D "$PGC_DIR/data" \
    >"$PGC_DIR/server.log" 2>&1 &
for _ in $(seq 1 240); do
    "$PGBIN/pg_isready" -q -h "$PGC_SOCK" -p "$PGC_PORT" && break
    sleep 1
done
"$PGBIN/pg_isready" -q -h "$PGC_SOCK" -p "$PGC_PORT" || { echo "valgrind-plugin: server did not start" >&2; cat "$PGC_DIR/server.log" >&2; exit 1; }
export PGHOST=$PGC_SOCK PGPORT=$PGC_PORT PGUSER=postgres

psql() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
recv() { pgc_as "$PGBIN/pg_recvlogical" -d postgres -S "$1" --start -E "$2" -f - --no-loop "${@:3}"; }

psql <<'SQL'
CREATE EXTENSION tributary;
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TYPE addr AS (street text, zip int);
CREATE TABLE v (id int PRIMARY KEY, i2 int2, i8 int8, f4 float4, f8 float8, n numeric, m money,
    b bool, t text, vc varchar(5), j json, jb jsonb, by bytea, d date, tm time, tz timetz,
    ts timestamp, tstz timestamptz, iv interval, u uuid, e mood, a addr, arr int[][], tarr text[],
    r int4range, big text);
ALTER TABLE v ALTER COLUMN big SET STORAGE EXTERNAL;
CREATE TABLE full_ri (id int, v text); ALTER TABLE full_ri REPLICA IDENTITY FULL;
CREATE TABLE jn (id int, j json, jb jsonb, ja jsonb[]); ALTER TABLE jn REPLICA IDENTITY FULL;
CREATE TABLE p (id int, k text, note text, PRIMARY KEY (id, k)) PARTITION BY LIST (k);
CREATE TABLE p1 PARTITION OF p FOR VALUES IN ('a');
-- a partition in another column order, at DEFAULT under a FULL root
CREATE TABLE p2 (note text, k text NOT NULL, id int NOT NULL, PRIMARY KEY (id, k));
ALTER TABLE p ATTACH PARTITION p2 FOR VALUES IN ('b');
ALTER TABLE p REPLICA IDENTITY FULL;
SELECT pg_create_logical_replication_slot('vg', 'tributary', false, true);
SQL
psql <<'SQL'
INSERT INTO v VALUES (1, 1, 2, 1.5, 'NaN', 123.456, 9.99, true, E'a"\n', 'x', '{"a":1}', '{"b":[1,2]}',
  '\x00ff', '2024-01-01', '12:00', '12:00+02', '2024-01-01 00:00', 'infinity', '1 day 2 hours',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'happy', ROW('s', 1), '{{1,2},{3,4}}', '{a,NULL}', '[1,5)',
  repeat('z', 200000));
UPDATE v SET t = 'changed' WHERE id = 1;
UPDATE v SET id = 2 WHERE id = 1;
DELETE FROM v;
INSERT INTO full_ri VALUES (1, 'a'); UPDATE full_ri SET v = 'b'; DELETE FROM full_ri;
INSERT INTO jn VALUES (1, ' null ', 'null', '{{"null",NULL},{"{}","null"}}'), (2, NULL, '[null]', '{}');
UPDATE jn SET jb = '{}' WHERE id = 1; DELETE FROM jn;
INSERT INTO p VALUES (1, 'a', NULL), (2, 'b', 'n');
DELETE FROM p WHERE k = 'b';
TRUNCATE full_ri, p;
SELECT pg_logical_emit_message(true, 'p', '\x0001'::bytea);
SELECT pg_logical_emit_message(false, 'q', 'text');
BEGIN;
INSERT INTO v (id, t) SELECT g, repeat('s', 100) FROM generate_series(10, 1500) g;
SAVEPOINT s; INSERT INTO v (id) SELECT generate_series(5000, 5500); ROLLBACK TO s;
COMMIT;
BEGIN; INSERT INTO v (id) VALUES (9000); PREPARE TRANSACTION 'g1';
COMMIT PREPARED 'g1';
ALTER TABLE v ADD COLUMN extra int DEFAULT 3;
INSERT INTO v (id) VALUES (9001);
BEGIN; INSERT INTO v (id) VALUES (9002); ALTER TABLE v DROP COLUMN extra; INSERT INTO v (id) VALUES (9003); COMMIT;
-- a schema renamed between and inside transactions (relcache.c's pg_namespace callback)
CREATE SCHEMA vgs; CREATE TABLE vgs.r (id int PRIMARY KEY); INSERT INTO vgs.r VALUES (1);
ALTER SCHEMA vgs RENAME TO vgs2; INSERT INTO vgs2.r VALUES (2);
BEGIN; INSERT INTO vgs2.r VALUES (3); ALTER SCHEMA vgs2 RENAME TO vgs3; INSERT INTO vgs3.r VALUES (4); COMMIT;
SELECT * FROM tributary.register_schema('vg', '{"type":"object","properties":{"a":{"type":"integer"}}}');
SELECT * FROM tributary.register_schema('vg', '{"type":"object","properties":{"a":{"type":"number"}}}');
SELECT count(*) FROM tributary.check_compatibility('vg', '{"type":"string"}', 'FULL_TRANSITIVE');
SELECT * FROM tributary.register_schema('vga',
  '{"type":"record","name":"r","fields":[{"name":"a","type":"int"},{"name":"e","type":{"type":"enum","name":"E","symbols":["X"]}}]}', 'AVRO');
SELECT count(*) FROM tributary.check_compatibility('vga', '{"type":"record","name":"r","fields":[{"name":"a","type":"string"}]}', 'FULL');
DO $$
BEGIN
  PERFORM tributary.register_schema('vgbad', '{"type":"record","name":"r"}', 'AVRO');
EXCEPTION WHEN invalid_parameter_value THEN NULL;
END $$;
SQL
END=$(psql -Atc 'SELECT pg_current_wal_lsn()')
psql -c "SELECT pg_copy_logical_replication_slot('vg', 'vg2')" >/dev/null
psql -c "SELECT pg_copy_logical_replication_slot('vg', 'vg3')" >/dev/null

recv vg "$END" >"$PGC_DIR/vg.out"
records=$(wc -l <"$PGC_DIR/vg.out")
jnulls=$(grep -c '\["ja",0,3\]' "$PGC_DIR/vg.out" || true)
# the changes to vgs.r after each rename carry the schema's new name, also
# the one after the rename inside a transaction (vgs3)
renamed=$(grep -c -e '"schema":"vgs2","table":"r","new":{"id":[23]}' \
    -e '"schema":"vgs3","table":"r","new":{"id":4}' "$PGC_DIR/vg.out" || true)
recv vg2 "$END" -o stream -o two-phase -o publish-via-root -o batch-bytes=0 \
    -o include-tables='public.*' -o exclude-tables='public.full_ri' -o bytea-encoding=hex \
    -o include-ddl >"$PGC_DIR/vg2.out"
streamed=$(wc -l <"$PGC_DIR/vg2.out")
# publish-via-root: the old key of p2's own replica identity, not the root's
rootkey=$(grep -c '"table":"p","old":{"id":2,"k":"b"}}' "$PGC_DIR/vg2.out" || true)
ddl=$(grep -c '^{"kind":"ddl"' "$PGC_DIR/vg2.out" || true)
ddl_default=$(grep -c '^{"kind":"ddl"' "$PGC_DIR/vg.out" || true)
resumed=$(recv vg3 "$END" -o resume-after=0/1 -o skip-empty-xacts -o actions=insert,message -o message-prefixes='p*' | wc -l)
echo "valgrind-plugin: decoded $records, $streamed (stream/two-phase/filters/include-ddl), $resumed (resume/filters) records, $jnulls listing JSON null array elements, $renamed naming a renamed schema, $rootkey partition key via the root, $ddl ddl records ($ddl_default without include-ddl)"

pgc_as "$PGBIN/pg_ctl" -D "$PGC_DIR/data" -m fast -w -t 300 stop >/dev/null || true

# Count errors by whether tributary.so is on their stack.
passed=0 failed=0
ours=0 theirs=0
for f in "$PGC_DIR"/valgrind.*.log; do
    [ -s "$f" ] || continue
    o=$(awk 'BEGIN{RS="==[0-9]+== \n"} /tributary\.so/ && /(Invalid|uninitialised|Uninitialised|Mismatched|overlap|free)/ {n++} END{print n+0}' "$f")
    a=$(grep -c '^==[0-9]*== [A-Z]' "$f" || true)
    ours=$((ours + o)); theirs=$((theirs + a))
    if [ "$o" -gt 0 ]; then
        echo "valgrind-plugin: errors in tributary.so, $f:" >&2
        cat "$f" >&2
    fi
done
echo "valgrind-plugin: $ours error(s) with tributary.so on the stack; $theirs valgrind report line(s) in all"
if [ "$records" -gt 0 ] && [ "$streamed" -gt 0 ] && [ "$jnulls" -eq 3 ] &&
   [ "$ddl" -gt 0 ] && [ "$ddl_default" -eq 0 ] && [ "$renamed" -eq 3 ] &&
   [ "$rootkey" -eq 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
if [ "$ours" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
echo "valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
