#!/usr/bin/env bash
# 17_check_connected.sh: `tributary check -c` against a real PostgreSQL and
# a mock Kafka cluster.  It validates the file, then reports what the
# pipeline would capture: the tables the include/exclude filters match
# (columns, primary key, replica identity), the slot (missing, then
# present with its plugin and position), the extension, the checkpoint,
# and for each sink whether it is reachable (Kafka metadata, a Postgres
# target with one table present and one to be created, a file directory).
# Unreachable systems are reported and the exit code stays 0 for a valid
# file; --offline connects nowhere; an invalid file exits 2.  The dsn's
# password never appears in the output.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
# shellcheck source=../../../scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"
BIN=${TRIBUTARY:-$ROOT/consumer/build/tributary}
TOOLS=${TRIB_TOOLS:-$ROOT/consumer/build/tools}
WORK=$(mktemp -d)
MOCK_PID=
cleanup() {
    [ -n "$MOCK_PID" ] && kill -9 "$MOCK_PID" 2>/dev/null || true
    pgc_cleanup
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
passed=0 failed=0
# shellcheck source=lib.sh
source "$ROOT/consumer/test/e2e/lib.sh"
check() { expect_eq "$@"; }
# has NAME PATTERN: the report has a line matching PATTERN (grep -E).
has() { check "$1" t "$(grep -q -E -- "$2" "$WORK/report" && echo t || echo f)"; }

make -s -C "$ROOT/consumer" build >/dev/null
pgc_start
pgc_psql -d postgres -c "CREATE EXTENSION tributary" -c "CREATE DATABASE target" \
    -c "CREATE TABLE public.orders (id int PRIMARY KEY, customer text, amount numeric(12,2))" \
    -c "CREATE TABLE public.order_lines (order_id int, line int, sku text)" \
    -c "ALTER TABLE public.order_lines REPLICA IDENTITY FULL" \
    -c "CREATE TABLE public.order_notes (note text)" \
    -c "CREATE TABLE public.order_archive (id int PRIMARY KEY)" \
    -c "CREATE SCHEMA other" -c "CREATE TABLE other.t (id int PRIMARY KEY)" >/dev/null
pgc_psql -d target -c "CREATE TABLE public.orders (id int PRIMARY KEY, customer text, amount numeric(12,2))" >/dev/null
mock_start 1
chmod 777 "$WORK"
SECRET='s3cr3t-Pa55'

write_config() { # SOURCE_PORT
    cat > "$WORK/p.yaml" <<YAML
pipeline: shop
sources:
  main:
    type: postgres
    dsn: "host=$PGC_SOCK port=$1 dbname=postgres user=postgres password=$SECRET"
    include_tables: ["public.ord*"]
    exclude_tables: ["public.order_archive"]
sinks:
  events:
    type: kafka
    bootstrap_servers: "$BOOT"
  nowhere:
    type: kafka
    bootstrap_servers: "127.0.0.1:1"
  copy:
    type: postgres
    dsn: "host=$PGC_SOCK port=$PGC_PORT dbname=target user=postgres password=$SECRET"
  archive:
    type: file
    path: "$WORK/files/changes.jsonl"
checkpoint:
  store: catalog
http:
  enabled: false
YAML
}

write_config "$PGC_PORT"
mkdir -p "$WORK/files"
rc=0; "$BIN" check -c "$WORK/p.yaml" > "$WORK/report" 2>&1 || rc=$?
cat "$WORK/report" | sed 's/^/#   /'
check "a valid file with an unreachable sink exits 0" 0 "$rc"
has "the file is valid" ": OK \(pipeline shop"
has "the source is reachable" "^  database: connected to database postgres"
has "wal_level is reported" "wal_level: logical"
has "the extension is reported installed" "extension tributary: installed"
has "a missing slot is reported, to be created" "slot tributary_shop: does not exist; .run. creates it"
has "three tables are captured" "tables captured: 3 "
has "public.orders with its key" "^    public\.orders: primary key \(id\), replica identity default"
has "its columns and types" "columns: id integer, customer text, amount numeric\(12,2\)"
has "public.order_lines with replica identity full" "^    public\.order_lines: primary key none, replica identity full"
has "a keyless table gets a note" "no primary key and replica identity default"
check "the excluded table is not listed" f "$(grep -q 'order_archive' "$WORK/report" && echo t || echo f)"
check "a table outside include_tables is not listed" f "$(grep -q 'other\.t' "$WORK/report" && echo t || echo f)"
has "no checkpoint yet" "no checkpoint for pipeline shop yet"
has "the Kafka sink is reachable" "brokers $BOOT: reachable, 1 broker"
has "the unreachable Kafka sink is reported" "brokers 127\.0\.0\.1:1: not reachable"
has "the Postgres sink's missing table, to be created" "public\.order_lines: missing; .run. creates it"
has "the Postgres sink's table count" "target tables in schema public: 1 exist, 2 missing"
has "the file sink's directory" "changes\.jsonl: does not exist yet; directory .* is writable"
has "the problems are counted" "^1 problem\(s\) found"
check "the password is never shown" 0 "$(grep -c -- "$SECRET" "$WORK/report" || true)"

# The slot, once it exists.
pgc_psql -d postgres -c "SELECT 's' FROM pg_create_logical_replication_slot('tributary_shop', 'tributary')" \
    -c "INSERT INTO public.orders VALUES (1, 'a', 1)" >/dev/null
"$BIN" check -c "$WORK/p.yaml" > "$WORK/report" 2>&1 || true
has "an existing slot with plugin and position" "slot tributary_shop: exists, logical slot of plugin tributary in database postgres, not in use, confirmed up to [0-9A-F]+/[0-9A-F]+, [0-9]+ bytes behind"

# The source unreachable: said clearly, still exit 0.
write_config 1
rc=0; "$BIN" check -c "$WORK/p.yaml" > "$WORK/report" 2>&1 || rc=$?
check "an unreachable source still exits 0 for a valid file" 0 "$rc"
has "the source is reported not reachable" "^  database: not reachable: "
has "the target tables are unknown" "target tables: unknown \(the source is not reachable\)"
check "the password is never shown (errors)" 0 "$(grep -c -- "$SECRET" "$WORK/report" || true)"

# --offline: validation only.
rc=0; "$BIN" check -c "$WORK/p.yaml" --offline > "$WORK/report" 2>&1 || rc=$?
check "--offline exits 0" 0 "$rc"
check "--offline prints only the validation" 1 "$(wc -l < "$WORK/report")"

# An invalid file: exit 2, nothing reported.
printf 'pipeline: shop\nsinks: {}\n' > "$WORK/bad.yaml"
rc=0; "$BIN" check -c "$WORK/bad.yaml" > "$WORK/report" 2>&1 || rc=$?
check "an invalid file exits 2" 2 "$rc"
check "and connects nowhere" f "$(grep -q 'connected\|reachable' "$WORK/report" && echo t || echo f)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
