#!/usr/bin/env bash
# 23_legacy_pipeline.sh: a copy-and-sanitize file (the Python tool's
# `pipelines:` format) run unchanged by `tributary run`.
#
# Three steps, given out of order in the file: copy reference data (order
# 1), sanitize customers (order 2: hash_salt, substitute, redact, perturb),
# minimize orders (order 3, depends_on the customers step: sample 50% by
# customer).  Checks: the steps ran in DAG order; the target equals what the
# strategies must produce (the hash recomputed with pgcrypto; substitutes
# and noise deterministic, so a second run of the same file gives the same
# target byte for byte); no original email, name or phone reaches the target;
# every sampled order's customer exists in the target.  The substitute,
# perturb and sample strategies name no key: they use the run's default key
# from --key-file.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
chmod 777 "$WORK"
pgc_psql -d postgres -c "CREATE EXTENSION pgcrypto" -c "CREATE DATABASE staging" \
    -c "CREATE TABLE public.countries (code text PRIMARY KEY, name text)" \
    -c "INSERT INTO public.countries VALUES ('NO', 'Norway'), ('FR', 'France'), ('JP', 'Japan')" \
    -c "CREATE TABLE public.customers (id int PRIMARY KEY, name text, email text, phone text, balance numeric(10,2))" \
    -c "INSERT INTO public.customers SELECT g, 'Real Person ' || g, 'real' || g || '@corp.example',
            '+47 2' || lpad(g::text, 7, '0'), 1000 + g FROM generate_series(1, 200) g" \
    -c "CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int, total numeric(10,2))" \
    -c "INSERT INTO public.orders SELECT 1000 + g, (g % 200) + 1, g FROM generate_series(1, 600) g" >/dev/null

SRC="$(pg_dsn)"
DST="$(pg_dsn staging)"
export LEGACY_SALT=legacy-salt-0123456789
openssl rand -hex 32 > "$WORK/default.key"
KEYARGS=(--key-file "$WORK/default.key")
cat > "$WORK/sanitize.yaml" <<YAML
pipelines:
  - step: minimize_orders
    type: minimize
    order: 3
    depends_on: [sanitize_customers]
    source_db: "$SRC"
    dest_db: "$DST"
    collections:
      orders:
        customer_id: {strategy: sample, params: {fraction: 0.5}}
  - step: sanitize_customers
    type: sanitize_obfuscate
    order: 2
    source_db: "$SRC"
    dest_db: "$DST"
    collections:
      customers:
        email: {strategy: hash_salt, params: {salt_env: LEGACY_SALT}}
        name: {strategy: substitute, params: {kind: full_name}}
        phone: {strategy: redact, params: {mask_char: "#"}}
        balance: {strategy: perturb, params: {percent: 5}}
  - step: copy_reference
    type: copy
    order: 1
    source_db: "$SRC"
    dest_db: "$DST"
    collections:
      countries: {}
YAML
out=$("$BIN" check -c "$WORK/sanitize.yaml" "${KEYARGS[@]}")
expect_eq "check shows the DAG order" "1. copy_reference 2. sanitize_customers 3. minimize_orders" \
    "$(grep -o -E '[0-9]\. [a-z_]+' <<<"$out" | paste -sd' ')"
rc=0; "$BIN" run -c "$WORK/sanitize.yaml" "${KEYARGS[@]}" > "$WORK/run1.log" 2>&1 || rc=$?
expect_eq "the file runs unchanged, exit 0" 0 "$rc"
expect_eq "the steps ran in order" "copy_reference sanitize_customers minimize_orders" \
    "$(grep -o -E 'step [0-9] of 3: [a-z_]+' "$WORK/run1.log" | awk '{print $5}' | paste -sd' ')"
expect_eq "reference data copied as is" "FR|France JP|Japan NO|Norway" \
    "$(pgc_psql -d staging -Atc "SELECT code || '|' || name FROM public.countries ORDER BY name" | paste -sd' ')"
expect_eq "every customer copied" 200 "$(pgc_psql -d staging -Atc "SELECT count(*) FROM public.customers")"
# compare the hashes: compute the expected ones in the source, the actual in staging
pgc_psql -d postgres -Atc "SELECT id, encode(hmac(convert_to('tributary.hash.v1', 'UTF8') || '\\x00'::bytea
        || decode(lpad(to_hex(5), 8, '0'), 'hex') || convert_to('email', 'UTF8') || convert_to(email, 'UTF8'),
        convert_to('$LEGACY_SALT', 'UTF8'), 'sha256'), 'hex') FROM public.customers ORDER BY id" > "$WORK/want.h"
pgc_psql -d staging -Atc "SELECT id, email FROM public.customers ORDER BY id" > "$WORK/got.h"
expect_eq "hash_salt emails equal HMAC-SHA256 recomputed in SQL" "" "$(diff "$WORK/want.h" "$WORK/got.h" | head -2)"
expect_eq "no original name, email or phone in the target" 0 \
    "$(pgc_psql -d staging -Atc "SELECT * FROM public.customers" | grep -c -E 'Real Person|@corp.example|\+47 2' || true)"
expect_eq "phones are masked, keeping their length" 200 \
    "$(pgc_psql -d staging -Atc "SELECT count(*) FROM public.customers WHERE phone ~ '^#{12}$'")"
expect_eq "balances moved by at most 5%" 0 \
    "$(pgc_psql -d staging -Atc "SELECT count(*) FROM public.customers WHERE abs(balance - (1000 + id)) > 0.05 * (1000 + id)")"
n=$(pgc_psql -d staging -Atc "SELECT count(*) FROM public.orders")
expect_eq "the sample keeps about half of the orders" t "$([ "$n" -gt 200 ] && [ "$n" -lt 400 ] && echo t || echo f)"
expect_eq "a customer's orders are all kept or all dropped" 0 \
    "$(pgc_psql -d staging -Atc "SELECT count(*) FROM (SELECT customer_id FROM public.orders GROUP BY 1 HAVING count(*) <> 3) x")"
expect_eq "every sampled order's customer exists" 0 \
    "$(pgc_psql -d staging -Atc "SELECT count(*) FROM public.orders o LEFT JOIN public.customers c ON c.id = o.customer_id WHERE c.id IS NULL")"
dump() { pgc_psql -d staging -Atc "SELECT * FROM public.customers ORDER BY id; SELECT * FROM public.orders ORDER BY id"; }
dump > "$WORK/first"
pgc_psql -d staging -c "TRUNCATE public.customers, public.orders" >/dev/null
rc=0; "$BIN" run -c "$WORK/sanitize.yaml" "${KEYARGS[@]}" > "$WORK/run2.log" 2>&1 || rc=$?
expect_eq "a second run of the same file" 0 "$rc"
dump > "$WORK/second"
expect_eq "gives the same target (deterministic substitutes, noise, hashes, sample)" "" \
    "$(diff "$WORK/first" "$WORK/second" | head -2)"
expect_eq "the salt and the key are not in any log" 0 \
    "$(cat "$WORK"/run*.log | grep -c -e "$LEGACY_SALT" -e "$(cat "$WORK/default.key")" || true)"
e2e_finish
