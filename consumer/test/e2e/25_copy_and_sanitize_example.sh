#!/usr/bin/env bash
# 25_copy_and_sanitize_example.sh: examples/copy-and-sanitize/old-format.yaml,
# a file in the tool's format as its users write it, run unchanged between
# two servers: prod (A, database financial_data) and staging (B, databases
# financial_data_clean and financial_data_sample, empty), connected through
# TRIBUTARY_SOURCE_URI / TRIBUTARY_DEST_URI, keyed with TRIBUTARY_KEY.
#
# Checks: the three steps run in order (a copy A -> B, in place on B, a copy
# B -> B); prod is untouched; in financial_data_clean every sanitized value
# differs from its original and has the form its field_type promises (safe
# e-mail domains, 555-01xx phones, ISO dates of birth, IBANs whose mod-97
# check holds, redacted SSNs of the same length, 16-hex tax ids, balances
# within 5%), everything else is as in prod; financial_data_sample holds
# about 20% of the accounts with all their transactions and nothing else;
# a second run gives the same databases byte for byte; the key is in no log.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
EXAMPLE=$ROOT/examples/copy-and-sanitize/old-format.yaml

build_consumer
chmod 777 "$WORK"

start_server A
on "$A_SOCK" "$A_PORT" -d postgres -c "CREATE DATABASE financial_data" >/dev/null
on "$A_SOCK" "$A_PORT" -d financial_data >/dev/null <<'SQL'
CREATE TABLE customers (id int PRIMARY KEY, username text, full_name text, email text, phone text,
    address text, date_of_birth date, ssn text, tax_id text);
INSERT INTO customers SELECT g, 'real_user_' || g, 'Real Person ' || g, 'real' || g || '@corp.example',
    '+47 4' || lpad(g::text, 7, '0'), g || ' Real Street, Oslo', date '1960-01-01' + g * 37,
    lpad((100000000 + g)::text, 9, '0'), 'TAX-' || g FROM generate_series(1, 200) g;
CREATE TABLE accounts (id int PRIMARY KEY, customer_id int, iban text, balance numeric(12,2));
INSERT INTO accounts SELECT g, (g % 200) + 1, 'NO93' || lpad((86011117940 + g)::text, 11, '0'),
    1000 + g * 3.5 FROM generate_series(1, 300) g;
CREATE TABLE transactions (id int PRIMARY KEY, account_id int, amount numeric(10,2), booked_at timestamptz);
INSERT INTO transactions SELECT g, (g % 300) + 1, g / 7.0, timestamptz '2026-01-01 00:00Z' + g * interval '1 hour'
    FROM generate_series(1, 1500) g;
SQL
start_server B
on "$B_SOCK" "$B_PORT" -d postgres -c "CREATE DATABASE financial_data_clean" \
    -c "CREATE DATABASE financial_data_sample" >/dev/null
unset PGHOST PGPORT PGUSER TRIBUTARY_KEY_FILE
export TRIBUTARY_SOURCE_URI="postgresql://postgres@127.0.0.1:$A_PORT/postgres"
export TRIBUTARY_DEST_URI="postgresql://postgres@127.0.0.1:$B_PORT/postgres"
export TRIBUTARY_KEY=$(openssl rand -hex 32)
export TRIBUTARY_STATE_DIR=$WORK/state

A() { on "$A_SOCK" "$A_PORT" -d financial_data -Atc "$1"; }
C() { on "$B_SOCK" "$B_PORT" -d financial_data_clean -Atc "$1"; }
S() { on "$B_SOCK" "$B_PORT" -d financial_data_sample -Atc "$1"; }
ALL="SELECT * FROM customers ORDER BY id; SELECT * FROM accounts ORDER BY id;
     SELECT * FROM transactions ORDER BY id"
A "$ALL" > "$WORK/prod.before"

rc=0; "$BIN" check -c "$EXAMPLE" > "$WORK/check.out" 2>&1 || rc=$?
expect_eq "check of the example: exit 0, the first and last steps can run" "0 2" \
    "$rc $(grep -c 'can run' "$WORK/check.out")"
expect_eq "... the in-place step's tables are not there until copy_raw made them" 1 \
    "$(grep -c 'step sanitize_clean: collection public.customers: there is no such table in the database (yet: an earlier step may create it)' "$WORK/check.out" || true)"
rc=0; "$BIN" run -c "$EXAMPLE" > "$WORK/run1.log" 2>&1 || rc=$?
expect_eq "the example runs unchanged: exit 0" 0 "$rc"
expect_eq "its steps ran in order, each as the databases say" \
    "copy_raw (copy, a copy into another database)|sanitize_clean (sanitize_obfuscate, in place)|minimize_sample (minimize, a copy into another database)" \
    "$(grep -o 'step [0-9] of 3: .*' "$WORK/run1.log" | sed 's/^step [0-9] of 3: //' | paste -sd'|')"
expect_eq "prod is untouched" "" "$(A "$ALL" | diff "$WORK/prod.before" - | head -2)"

# --- financial_data_clean ----------------------------------------------------------
A "SELECT * FROM customers ORDER BY id" > "$WORK/c.prod"
C "SELECT * FROM customers ORDER BY id" > "$WORK/c.clean"
expect_eq "every customer copied" 200 "$(wc -l < "$WORK/c.clean")"
for col in 2:username 3:full_name 4:email 5:phone 6:address 7:date_of_birth 8:ssn 9:tax_id; do
    n=${col%%:*}
    expect_eq "every $(echo "${col#*:}") changed" 0 \
        "$(paste -d'|' <(cut -d'|' -f"$n" "$WORK/c.prod") <(cut -d'|' -f"$n" "$WORK/c.clean") |
           awk -F'|' '$1 == $2' | wc -l)"
done
expect_eq "no original value of a sanitized column is left" 0 \
    "$(grep -c -e real_user_ -e 'Real Person' -e '@corp.example' -e '+47 4' -e 'Real Street' -e TAX- "$WORK/c.clean" || true)"
expect_eq "ids unchanged" "" "$(diff <(cut -d'|' -f1 "$WORK/c.prod") <(cut -d'|' -f1 "$WORK/c.clean"))"
expect_eq "user_name, name, safe_email, phone_number, address, date_of_birth, ssn, tax_id have their forms" 0 \
    "$(C "SELECT count(*) FROM customers WHERE username !~ '^[a-z0-9._]+$'
          OR full_name !~ '^[^ ]+( [^ ]+)+$' OR email !~ '^[a-z0-9._]+@example\.(com|net|org)$'
          OR phone !~ '^\+1 [2-9][0-9]{2}-555-01[0-9]{2}$' OR address !~ '^[0-9]+ .+, .+ [0-9]{5}$'
          OR date_of_birth NOT BETWEEN '1935-01-01' AND '2007-12-31'
          OR ssn !~ '^X{9}$' OR tax_id !~ '^[0-9a-f]{16}$'")"
# Fakes are drawn from finite word lists under a random key, so two of the 200
# usernames may share a fake: 181 of 2,000 simulated keys gave a shared
# fake, none more than two pairs. More than two shared would mean the draw
# is not spread over the lists.
expect_eq "distinct originals, distinct fakes (at most 2 of 200 shared)" "t t" \
    "$(C "SELECT count(DISTINCT username) >= 198, count(DISTINCT email) >= 198 FROM customers" | tr '|' ' ')"
expect_eq "every IBAN is new, with valid check digits" 0 \
    "$(C "CREATE FUNCTION pg_temp.ok(t text) RETURNS bool LANGUAGE sql AS \$\$
            SELECT (SELECT string_agg(CASE WHEN c ~ '[A-Z]' THEN (ascii(c) - 55)::text ELSE c END, ''
                    ORDER BY i) FROM unnest(string_to_array(substr(t, 5) || substr(t, 1, 4), NULL))
                    WITH ORDINALITY x(c, i))::numeric % 97 = 1 \$\$;
          SELECT count(*) FROM accounts WHERE NOT pg_temp.ok(iban) OR iban LIKE 'NO93860111%'" | tail -1)"
paste -d'|' <(A "SELECT id, balance FROM accounts ORDER BY id") <(C "SELECT id, balance FROM accounts ORDER BY id") \
    > "$WORK/bal"
expect_eq "balances moved by at most 5%, ids kept" 0 \
    "$(awk -F'|' '$1 != $3 || ($4 - $2) > 0.05 * $2 + 0.01 || ($2 - $4) > 0.05 * $2 + 0.01' "$WORK/bal" | wc -l)"
expect_eq "some balances moved" t "$([ "$(awk -F'|' '$2 != $4' "$WORK/bal" | wc -l)" -gt 250 ] && echo t || echo f)"
expect_eq "transactions copied as they are" "" \
    "$(diff <(A "SELECT * FROM transactions ORDER BY id") <(C "SELECT * FROM transactions ORDER BY id") | head -2)"

# --- financial_data_sample --------------------------------------------------------------
n=$(S "SELECT count(*) FROM accounts")
expect_eq "the sample keeps about 20% of the accounts ($n of 300)" t \
    "$([ "$n" -ge 30 ] && [ "$n" -le 90 ] && echo t || echo f)"
S "SELECT id FROM accounts ORDER BY id" > "$WORK/s.ids"
expect_eq "the sample's transactions are exactly those of its accounts" "" \
    "$(diff <(C "SELECT id FROM transactions WHERE account_id IN ($(paste -sd, "$WORK/s.ids")) ORDER BY id") \
            <(S "SELECT id FROM transactions ORDER BY id") | head -2)"
expect_eq "the sampled accounts are the sanitized ones" "" \
    "$(diff <(C "SELECT * FROM accounts WHERE id IN ($(paste -sd, "$WORK/s.ids")) ORDER BY id") \
            <(S "SELECT * FROM accounts ORDER BY id") | head -2)"

# --- again: the same databases -----------------------------------------------------------
C "$ALL" > "$WORK/clean.1"; S "SELECT * FROM accounts ORDER BY id; SELECT * FROM transactions ORDER BY id" > "$WORK/sample.1"
rc=0; "$BIN" run -c "$EXAMPLE" > "$WORK/run2.log" 2>&1 || rc=$?
expect_eq "a second run: exit 0" 0 "$rc"
expect_eq "gives financial_data_clean byte for byte again (keyed, deterministic)" "" \
    "$(C "$ALL" | diff "$WORK/clean.1" - | head -2)"
expect_eq "and the same sample" "" \
    "$(S "SELECT * FROM accounts ORDER BY id; SELECT * FROM transactions ORDER BY id" | diff "$WORK/sample.1" - | head -2)"
expect_eq "the key is in no log" 0 "$(cat "$WORK"/run*.log "$WORK/check.out" | grep -c "$TRIBUTARY_KEY" || true)"
e2e_finish
