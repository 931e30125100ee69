#!/usr/bin/env bash
# 17_check_connected.sh: `tributary check -c` against a real PostgreSQL and
# a mock Kafka cluster.  It validates the file, then reports what the
# pipeline would capture: the tables the include/exclude filters match
# (columns, primary key, replica identity), the slot (missing, then
# present with its plugin and position), the extension, the checkpoint,
# and for each sink whether it is reachable (Kafka metadata, a Postgres
# target with one table present and one to be created, a file directory).
# Unreachable systems are reported and the exit code stays 0 for a valid
# file; --offline connects nowhere; an invalid file exits 2, and so do
# Kafka properties librdkafka refuses (a misspelt name, a bad value),
# named at their key with librdkafka's message by `check --offline`,
# `check` and `run` alike.  The dsn's password, and a secret property's
# value, never appear in the output.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
catalog_init "CREATE DATABASE target" \
    "CREATE TABLE public.orders (id int PRIMARY KEY, customer text, amount numeric(12,2))" \
    "CREATE TABLE public.order_lines (order_id int, line int, sku text)" \
    "ALTER TABLE public.order_lines REPLICA IDENTITY FULL" \
    "CREATE TABLE public.order_notes (note text)" \
    "CREATE TABLE public.order_archive (id int PRIMARY KEY)" \
    "CREATE SCHEMA other" \
    "CREATE TABLE other.t (id int PRIMARY KEY)"
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
expect_eq "a valid file with an unreachable sink exits 0" 0 "$rc"
expect_grep "the file is valid" "$WORK/report" ": OK \(pipeline shop"
expect_grep "the source is reachable" "$WORK/report" "^  database: connected to database postgres"
expect_grep "wal_level is reported" "$WORK/report" "wal_level: logical"
expect_grep "the extension is reported installed" "$WORK/report" "extension tributary: installed"
expect_grep "a missing slot is reported, to be created" "$WORK/report" "slot tributary_shop: does not exist; .run. creates it"
expect_grep "three tables are captured" "$WORK/report" "tables captured: 3 "
expect_grep "public.orders with its key" "$WORK/report" "^    public\.orders: primary key \(id\), replica identity default"
expect_grep "its columns and types" "$WORK/report" "columns: id integer, customer text, amount numeric\(12,2\)"
expect_grep "public.order_lines with replica identity full" "$WORK/report" "^    public\.order_lines: primary key none, replica identity full"
expect_grep "a keyless table gets a note" "$WORK/report" "no primary key and replica identity default"
expect_eq "the excluded table is not listed" f "$(grep -q 'order_archive' "$WORK/report" && echo t || echo f)"
expect_eq "a table outside include_tables is not listed" f "$(grep -q 'other\.t' "$WORK/report" && echo t || echo f)"
expect_grep "no checkpoint yet" "$WORK/report" "no checkpoint for pipeline shop yet"
expect_grep "the Kafka sink is reachable" "$WORK/report" "brokers $BOOT: reachable, 1 broker"
expect_grep "the unreachable Kafka sink is reported" "$WORK/report" "brokers 127\.0\.0\.1:1: not reachable"
expect_grep "the Postgres sink's missing table, to be created" "$WORK/report" "public\.order_lines: missing; .run. creates it"
expect_grep "the Postgres sink's table count" "$WORK/report" "target tables in schema public: 1 exist, 2 missing"
expect_grep "the file sink's directory" "$WORK/report" "changes\.jsonl: does not exist yet; directory .* is writable"
expect_grep "the problems are counted" "$WORK/report" "^1 problem\(s\) found"
expect_eq "the password is never shown" 0 "$(grep -c -- "$SECRET" "$WORK/report" || true)"

# The slot, once it exists.
pgc_psql -d postgres -c "SELECT 's' FROM pg_create_logical_replication_slot('tributary_shop', 'tributary')" \
    -c "INSERT INTO public.orders VALUES (1, 'a', 1)" >/dev/null
"$BIN" check -c "$WORK/p.yaml" > "$WORK/report" 2>&1 || true
expect_grep "an existing slot with plugin and position" "$WORK/report" "slot tributary_shop: exists, logical slot of plugin tributary in database postgres, not in use, confirmed up to [0-9A-F]+/[0-9A-F]+, [0-9]+ bytes behind"

# The source unreachable: said clearly, still exit 0.
write_config 1
rc=0; "$BIN" check -c "$WORK/p.yaml" > "$WORK/report" 2>&1 || rc=$?
expect_eq "an unreachable source still exits 0 for a valid file" 0 "$rc"
expect_grep "the source is reported not reachable" "$WORK/report" "^  database: not reachable: "
expect_grep "the target tables are unknown" "$WORK/report" "target tables: unknown \(the source is not reachable\)"
expect_eq "the password is never shown (errors)" 0 "$(grep -c -- "$SECRET" "$WORK/report" || true)"

# --offline: validation only.
rc=0; "$BIN" check -c "$WORK/p.yaml" --offline > "$WORK/report" 2>&1 || rc=$?
expect_eq "--offline exits 0" 0 "$rc"
expect_eq "--offline prints only the validation" 1 "$(wc -l < "$WORK/report")"

# An invalid file: exit 2, nothing reported.
printf 'pipeline: shop\nsinks: {}\n' > "$WORK/bad.yaml"
rc=0; "$BIN" check -c "$WORK/bad.yaml" > "$WORK/report" 2>&1 || rc=$?
expect_eq "an invalid file exits 2" 2 "$rc"
expect_eq "and connects nowhere" f "$(grep -q 'connected\|reachable' "$WORK/report" && echo t || echo f)"
# Kafka properties librdkafka refuses: the same lines from check --offline,
# check and run, each at its key, exit 2; a secret's value never shown
# (compression.type quotes its value, which is also sasl.password's).
cat > "$WORK/props.yaml" <<YAML
pipeline: shop
sources:
  main:
    type: postgres
    dsn: "host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=postgres"
sinks:
  events:
    type: kafka
    bootstrap_servers: "$BOOT"
    properties:
      sasl.pasword: x
      acks: maybe
      sasl.password: "$SECRET"
      compression.type: "$SECRET"
http:
  enabled: false
YAML
for how in "check --offline" check run; do
    rc=0
    # $how is the command and its flag: split on purpose
    # shellcheck disable=SC2086
    "$BIN" $how -c "$WORK/props.yaml" > "$WORK/report.${how// /_}" 2>&1 || rc=$?
    expect_eq "$how: refused properties exit 2" 2 "$rc"
done
sed "s/^/#   /" "$WORK/report.check_--offline"
expect_grep "a misspelt property at its key" "$WORK/report.check_--offline" \
    "props\.yaml:11:7: sinks\.events\.properties\.sasl\.pasword: rejected by librdkafka: No such configuration property"
expect_grep "a bad value at its key" "$WORK/report.check_--offline" \
    "props\.yaml:12:7: sinks\.events\.properties\.acks: rejected by librdkafka: Invalid value"
expect_grep "librdkafka's quote of a secret value is masked" "$WORK/report.check_--offline" \
    "props\.yaml:14:7: sinks\.events\.properties\.compression\.type: rejected by librdkafka: Invalid value \"\*\*\*\""
expect_eq "check --offline: three problems" 3 "$(wc -l < "$WORK/report.check_--offline")"
expect_eq "check says the same" "$(cat "$WORK/report.check_--offline")" "$(cat "$WORK/report.check")"
expect_eq "run says the same" "$(cat "$WORK/report.check_--offline")" "$(cat "$WORK/report.run")"
expect_eq "check does not call the file valid" f \
    "$(grep -q 'configuration itself is valid' "$WORK/report.check" && echo t || echo f)"
expect_eq "the secret property's value is never shown" 0 \
    "$(cat "$WORK/report".check* "$WORK/report.run" | grep -c -- "$SECRET" || true)"
e2e_finish
