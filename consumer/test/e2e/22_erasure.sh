#!/usr/bin/env bash
# 22_erasure.sh: erasure requests (the right to be forgotten) through
# `tributary run`, into a Postgres sink and a JSON Lines file.
#
# Customers and their orders are replicated (emails pseudonymised); then
# an erasure request names customer 3 (still in the source) and another
# names customer 4 (already deleted in the source, with the orders left
# behind by a lax application).  The consumer is killed (-9) right after
# the first request and restarted.  At the end:
#   - the target holds no row of either subject, and every other row;
#   - the file holds a tombstone (null value) for each of the subjects'
#     keys, with the keys as the rules made them;
#   - the audit log records both requests with the rows found.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
# shellcheck source=../../../scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"
BIN=${TRIBUTARY:-$ROOT/consumer/build/tributary}
WORK=$(mktemp -d)
RUN_PID=
cleanup() {
    [ -n "$RUN_PID" ] && kill -9 "$RUN_PID" 2>/dev/null || true
    pgc_cleanup
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
passed=0 failed=0
# shellcheck source=lib.sh
source "$ROOT/consumer/test/e2e/lib.sh"
check() { expect_eq "$@"; }

make -s -C "$ROOT/consumer" build >/dev/null
pgc_start
chmod 777 "$WORK"
pgc_psql -d postgres -c "CREATE EXTENSION tributary" -c "CREATE DATABASE target" \
    -c "SELECT 1" \
    -c "CREATE TABLE public.customers (id int PRIMARY KEY, email text)" \
    -c "CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int, total numeric(8,2))" \
    -c "CREATE TABLE public.erasure_requests (id serial PRIMARY KEY, customer_id int, asked_at timestamptz DEFAULT now())" \
    -c "SELECT 's' FROM pg_create_logical_replication_slot('tributary_e2e22', 'tributary')" >/dev/null

DSN="host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=postgres"
cat > "$WORK/p.yaml" <<YAML
pipeline: e2e22
sources:
  main: {type: postgres, dsn: "$DSN", snapshot: never, status_interval_ms: 200}
transforms:
  - {type: hash, tables: [customers], fields: [email], key: "e2e22-key-0123456789", key_format: raw}
  - {type: route, tables: [customers], lua: "return 'routed.customers_copy'"}
erasure:
  table: public.erasure_requests
  subject: customer_id
  targets: [public.customers.id, public.orders.customer_id]
  audit_log: "$WORK/erasure.jsonl"
sinks:
  db:
    type: postgres
    dsn: "host=$PGC_SOCK port=$PGC_PORT dbname=target user=postgres"
    create_tables: true
  out: {type: file, path: "$WORK/out.jsonl"}
  routed:
    type: postgres
    dsn: "host=$PGC_SOCK port=$PGC_PORT dbname=target user=postgres"
    create_tables: true
    table_from_route: true
checkpoint: {store: catalog}
http: {enabled: false}
YAML
pgc_psql -d target -c "CREATE SCHEMA routed" >/dev/null
"$BIN" check -c "$WORK/p.yaml" >/dev/null
start() { "$BIN" run -c "$WORK/p.yaml" >>"$WORK/run.log" 2>&1 & RUN_PID=$!; }
start
pgc_psql -d postgres -c "INSERT INTO public.customers SELECT g, 'p' || g || '@mail.example' FROM generate_series(1, 6) g" \
    -c "INSERT INTO public.orders SELECT 100 + g * 10 + k, g, g + k FROM generate_series(1, 6) g, generate_series(1, 3) k" \
    -c "DELETE FROM public.customers WHERE id = 4" >/dev/null
check "replicated" t "$(slot_caught_up tributary_e2e22)"

pgc_psql -d postgres -c "INSERT INTO public.erasure_requests (customer_id) VALUES (3)" >/dev/null
sleep 0.3
kill -9 "$RUN_PID"; wait "$RUN_PID" 2>/dev/null || true
start
pgc_psql -d postgres -c "INSERT INTO public.erasure_requests (customer_id) VALUES (4)" >/dev/null
# the erasure messages are a transaction of their own: wait for the sink
for _ in $(seq 1 100); do
    n=$(pgc_psql -d target -Atc "SELECT count(*) FROM public.orders WHERE customer_id IN (3, 4)" 2>/dev/null || echo x)
    [ "$n" = 0 ] && break
    sleep 0.1
done
check "caught up" t "$(slot_caught_up tributary_e2e22)"
stop_consumer
check "SIGTERM drains and exits 0" 0 "$STOP_RC"

check "the target keeps every other customer" "1 2 5 6" \
    "$(pgc_psql -d target -Atc "SELECT string_agg(id::text, ' ' ORDER BY id) FROM public.customers")"
check "a route rule named the table of the sink with table_from_route" "1 2 5 6" \
    "$(pgc_psql -d target -Atc "SELECT string_agg(id::text, ' ' ORDER BY id) FROM routed.customers_copy")"
check "and no order of either subject" "1 2 5 6" \
    "$(pgc_psql -d target -Atc "SELECT string_agg(DISTINCT customer_id::text, ' ') FROM public.orders")"
check "the other orders are all there" 12 "$(pgc_psql -d target -Atc "SELECT count(*) FROM public.orders")"
# tombstones: value null, for customer 3 and every order of 3 and 4 (and 4's key)
tomb=$(grep -c '"value":null' "$WORK/out.jsonl" || true)
check "a tombstone for each of the 8 erased keys (customers 3, 4; their 6 orders)" t "$([ "$tomb" -ge 8 ] && echo t || echo f)"
for k in '{"id":3}' '{"id":4}' '{"id":131}' '{"id":133}' '{"id":141}' '{"id":143}'; do
    check "tombstone for $k" t "$(grep -F "\"key\":$k" "$WORK/out.jsonl" | grep -q '"value":null' && echo t || echo f)"
done
check "the audit log records both requests (a repeat after the kill is allowed)" "3 4" \
    "$(grep -o -E '"subject":"[0-9]+"' "$WORK/erasure.jsonl" | grep -o -E '[0-9]+' | sort -u | paste -sd' ')"
check "with the rows found for customer 4 (none left in customers, 3 orders)" t \
    "$(grep '"subject":"4"' "$WORK/erasure.jsonl" | grep -q '"target":"public.customers.id","rows":0},{"target":"public.orders.customer_id","rows":3}' && echo t || echo f)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
