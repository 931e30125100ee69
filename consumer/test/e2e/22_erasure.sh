#!/usr/bin/env bash
# 22_erasure.sh: erasure requests (the right to be forgotten) through
# `tributary run`, into a Postgres sink and a JSON Lines file.
#
# Customers and their orders are replicated (emails pseudonymised); then a
# member of tributary_eraser inserts erasure requests into
# tributary.erasure_requests: one names customer 3 (still in the source),
# another customer 4 (already deleted in the source, with the orders left
# behind by a lax application), a third customer 6.  The consumer is killed
# (-9) right after the first request and restarted, and killed again
# while it handles the third.  At the end:
#   - the target holds no row of any subject, and every other row;
#   - the file holds a tombstone (null value) for each of the subjects'
#     keys, with the keys as the rules made them, and no catalog row;
#   - the audit log records every request with the rows found, under the
#     subject's HMAC, never the subject.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
chmod 777 "$WORK"
catalog_init "CREATE DATABASE target" \
    "SELECT 1" \
    "CREATE TABLE public.customers (id int PRIMARY KEY, email text)" \
    "CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int, total numeric(8,2))" \
    "CREATE ROLE eraser LOGIN IN ROLE tributary_eraser" \
    -- tributary_e2e22

DSN="$(pg_dsn)"
cat > "$WORK/p.yaml" <<YAML
pipeline: e2e22
sources:
  main: {type: postgres, dsn: "$DSN", snapshot: never, status_interval_ms: 200}
transforms:
  - {type: hash, tables: [customers], fields: [email], key: "e2e22-key-0123456789", key_format: raw}
  - {type: route, tables: [customers], lua: "return 'routed.customers_copy'"}
erasure:
  targets: [public.customers.id, public.orders.customer_id]
  audit_log: "$WORK/erasure.jsonl"
  subject_key: "e2e22-subject-key-0123456789"
  subject_key_format: raw
sinks:
  db:
    type: postgres
    dsn: "$(pg_dsn target)"
    create_tables: true
  out: {type: file, path: "$WORK/out.jsonl"}
  routed:
    type: postgres
    dsn: "$(pg_dsn target)"
    create_tables: true
    table_from_route: true
checkpoint: {store: catalog}
http: {enabled: false}
YAML
pgc_psql -d target -c "CREATE SCHEMA routed" >/dev/null
"$BIN" check -c "$WORK/p.yaml" >/dev/null
start_consumer
pgc_psql -d postgres -c "INSERT INTO public.customers SELECT g, 'p' || g || '@mail.example' FROM generate_series(1, 6) g" \
    -c "INSERT INTO public.orders SELECT 100 + g * 10 + k, g, g + k FROM generate_series(1, 6) g, generate_series(1, 3) k" \
    -c "DELETE FROM public.customers WHERE id = 4" >/dev/null
expect_eq "replicated" t "$(slot_caught_up tributary_e2e22)"

request() {
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGC_SOCK" -p "$PGC_PORT" -U eraser -d postgres \
        -c "INSERT INTO tributary.erasure_requests (subject) VALUES ('$1')" >/dev/null
}
request 3
sleep 0.3
kill_consumer
start_consumer
request 4
request 6
sleep 0.$(( RANDOM % 3 + 1 ))
kill_consumer
start_consumer
# the key rows are a transaction of their own: wait for the sink
for _ in $(seq 1 100); do
    n=$(pgc_psql -d target -Atc "SELECT count(*) FROM public.orders WHERE customer_id IN (3, 4, 6)" 2>/dev/null || echo x)
    [ "$n" = 0 ] && break
    sleep 0.1
done
expect_eq "caught up" t "$(slot_caught_up tributary_e2e22)"
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"

expect_eq "the target keeps every other customer" "1 2 5" \
    "$(pgc_psql -d target -Atc "SELECT string_agg(id::text, ' ' ORDER BY id) FROM public.customers")"
expect_eq "a route rule named the table of the sink with table_from_route" "1 2 5" \
    "$(pgc_psql -d target -Atc "SELECT string_agg(id::text, ' ' ORDER BY id) FROM routed.customers_copy")"
expect_eq "and no order of any subject" "1 2 5" \
    "$(pgc_psql -d target -Atc "SELECT string_agg(DISTINCT customer_id::text, ' ') FROM public.orders")"
expect_eq "the other orders are all there" 9 "$(pgc_psql -d target -Atc "SELECT count(*) FROM public.orders")"
# tombstones: value null, for customers 3, 4, 6 and every order of theirs
tomb=$(grep -c '"value":null' "$WORK/out.jsonl" || true)
expect_eq "a tombstone for each of the 12 erased keys (customers 3, 4, 6; their 9 orders)" t "$([ "$tomb" -ge 12 ] && echo t || echo f)"
for k in '{"id":3}' '{"id":4}' '{"id":6}' '{"id":131}' '{"id":133}' '{"id":141}' '{"id":143}' '{"id":161}' '{"id":163}'; do
    expect_eq "tombstone for $k" t "$(grep -F "\"key\":$k" "$WORK/out.jsonl" | grep '"value":null' >/dev/null && echo t || echo f)"
done
expect_eq "no catalog row reached the file" 0 "$(grep -c -E 'erasure_(requests|keys)|"subject"' "$WORK/out.jsonl" || true)"
hmac() { printf '%s\n' "$1" | K=e2e22-subject-key-0123456789 "$BIN" hash --key-env K --key-format raw --context erasure.subject; }
H3=$(hmac 3) H4=$(hmac 4) H6=$(hmac 6)
expect_eq "the audit log records every request (a repeat after a kill is allowed)" "$(printf '%s\n' "$H3" "$H4" "$H6" | sort | paste -sd' ')" \
    "$(grep '"event":"request"' "$WORK/erasure.jsonl" | grep -o -E '"subject_hmac":"[0-9a-f]+"' | cut -d'"' -f4 | sort -u | paste -sd' ')"
expect_eq "and never a subject" 0 "$(grep -c '"subject"' "$WORK/erasure.jsonl" || true)"
expect_eq "with the rows found for customer 4 (none left in customers, 3 orders)" t \
    "$(grep "\"subject_hmac\":\"$H4\"" "$WORK/erasure.jsonl" | grep '"target":"public.customers.id","rows":0},{"target":"public.orders.customer_id","rows":3}' >/dev/null && echo t || echo f)"
expect_eq "the audit log is 0600" 600 "$(stat -c %a "$WORK/erasure.jsonl")"
e2e_finish
