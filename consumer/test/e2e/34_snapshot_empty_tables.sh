#!/usr/bin/env bash
# 34_snapshot_empty_tables.sh: a snapshot into the Postgres sink creates the
# target of every copied table, also of one no row reaches (an empty source
# table, a sample that selects none), with the columns and types its rows
# would have created; the target tables used to appear only with a table's
# first row, so an empty table was not copied at all.
#
# Part A, `tributary snapshot` into database tgt: public.filled (rows),
# public.empty (its twin, no rows) -> tgt.empty exists, empty, with exactly
# tgt.filled's columns, types and key; public.dropped (empty, a drop rule)
# -> tgt.dropped has the columns the rule leaves; public.routed (empty, a
# route rule, whose shape depends on the rows) -> no table, and one log line
# says why; a second run changes nothing; a sink with create_tables: false
# creates nothing.
# Part B, the copy-and-sanitize example in the tool's format with a sample of
# fraction 0 -> financial_data_sample has accounts and transactions, empty,
# shaped as in financial_data_clean (demo.sh failed at random on this).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
chmod 777 "$WORK"
pgc_psql -q -d postgres >/dev/null <<'SQL'
CREATE EXTENSION tributary;
CREATE TABLE public.filled (id int PRIMARY KEY, name text NOT NULL, amount numeric(10,2),
    at timestamptz, tags text[], doc jsonb);
CREATE TABLE public.empty (LIKE public.filled INCLUDING ALL);
CREATE TABLE public.dropped (LIKE public.filled INCLUDING ALL);
CREATE TABLE public.routed (LIKE public.filled INCLUDING ALL);
INSERT INTO public.filled VALUES (1, 'a', 1.5, '2026-01-01Z', '{x}', '{"k": 1}'),
    (2, 'b', NULL, NULL, NULL, NULL);
CREATE DATABASE tgt;
CREATE DATABASE tgt_nocreate;
SQL

snap_yaml() { # NAME TARGET_DB CREATE_TABLES
    cat <<EOF
pipeline: $1
sources:
  main:
    type: postgres
    dsn: "$(pg_dsn)"
    snapshot: never
    include_tables: [public.filled, public.empty, public.dropped, public.routed]
sinks:
  db:
    type: postgres
    dsn: "$(pg_dsn "$2")"
    create_tables: $3
transforms:
  - {type: redact, tables: [public.empty], fields: [name], with: "null"}
  - {type: drop, tables: [public.dropped], fields: [doc, tags]}
  - {type: route, tables: [public.routed], lua: "return 'public.elsewhere'"}
checkpoint:
  store: catalog
http:
  enabled: false
EOF
}
T() { pgc_psql -d tgt -Atc "$1"; }
# cols TABLE: name:type:notnull of each column, then the primary key
cols() {
    T "SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod) || ':' || attnotnull, ' '
               ORDER BY attnum) FROM pg_attribute
        WHERE attrelid = to_regclass('public.$1') AND attnum > 0 AND NOT attisdropped"
    T "SELECT pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = to_regclass('public.$1') AND contype = 'p'"
}

# ---- Part A ----------------------------------------------------------------
snap_yaml snapa tgt true > "$WORK/a.yaml"
rc=0; "$BIN" snapshot -c "$WORK/a.yaml" > "$WORK/a1.log" 2>&1 || rc=$?
expect_eq "A: tributary snapshot exits 0" 0 "$rc"
expect_eq "A: the rows of public.filled are copied" 2 "$(T 'SELECT count(*) FROM public.filled')"
expect_eq "A: the empty table has a target table, empty" 0 \
    "$(T 'SELECT count(*) FROM public.empty' 2>&1)"
expect_eq "A: ... with the columns, types and key the rows of its twin created" \
    "$(cols filled)" "$(cols empty)"
expect_eq "A: an empty table with a drop rule gets the columns the rule leaves" \
    "id:integer:true name:text:false amount:numeric(10,2):false at:timestamp with time zone:false
PRIMARY KEY (id)" "$(cols dropped)"
expect_eq "A: an empty table whose route rule decides its target gets none" "f|f" \
    "$(T "SELECT to_regclass('public.routed') IS NOT NULL, to_regclass('public.elsewhere') IS NOT NULL" |
       tr -d '\n' | sed 's/^\(.\)\(.\)$/\1|\2/')"
expect_eq "A: ... and one log line says why" 1 \
    "$(grep -c 'table public.routed: no row of it reached the sinks, and a transform rule that selects it (route, flatten, outbox or map) makes its shape depend on the rows: its target table was not created' "$WORK/a1.log" || true)"
expect_eq "A: no such line for the tables that got a target" 0 \
    "$(grep -c -e 'table public.empty: no row' -e 'table public.dropped: no row' -e 'table public.filled: no row' "$WORK/a1.log" || true)"

T "SELECT * FROM public.filled ORDER BY id" > "$WORK/a1.rows"
rc=0; "$BIN" snapshot -c "$WORK/a.yaml" > "$WORK/a2.log" 2>&1 || rc=$?
expect_eq "A: a second snapshot exits 0 and keeps the tables as they were" "0|0|0" \
    "$rc|$(T 'SELECT count(*) FROM public.empty')|$(T 'SELECT count(*) FROM public.dropped')"
expect_eq "A: ... the copied rows unchanged" "" "$(T 'SELECT * FROM public.filled ORDER BY id' | diff "$WORK/a1.rows" -)"

snap_yaml snapn tgt_nocreate false > "$WORK/n.yaml"
pgc_psql -q -d tgt_nocreate -c "CREATE TABLE public.filled (id int PRIMARY KEY, name text NOT NULL,
    amount numeric(10,2), at timestamptz, tags text[], doc jsonb)"
rc=0; "$BIN" snapshot -c "$WORK/n.yaml" > "$WORK/n.log" 2>&1 || rc=$?
expect_eq "A: with create_tables: false the snapshot exits 0 and creates no table" "0|filled" \
    "$rc|$(pgc_psql -d tgt_nocreate -Atc "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class
        WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'")"

# ---- Part B ----------------------------------------------------------------
pgc_psql -q -d postgres -c "CREATE DATABASE financial_data" -c "CREATE DATABASE financial_data_clean" \
    -c "CREATE DATABASE financial_data_sample" >/dev/null
pgc_psql -q -d financial_data >/dev/null <<'SQL'
CREATE TABLE customers (id int PRIMARY KEY, username text, full_name text, email text, phone text,
    address text, date_of_birth date, ssn text, tax_id text);
INSERT INTO customers VALUES (1, 'u', 'F', 'e@x.example', '+47 1', 'Street 1', '1970-01-01', '123456789', 'T-1');
CREATE TABLE accounts (id int PRIMARY KEY, customer_id int, iban text, balance numeric(12,2));
INSERT INTO accounts VALUES (1, 1, 'NO9386011117947', 1000);
CREATE TABLE transactions (id int PRIMARY KEY, account_id int, amount numeric(10,2), booked_at timestamptz);
INSERT INTO transactions VALUES (1, 1, 5, '2026-01-01Z');
SQL
sed 's/fraction: 0\.2/fraction: 0/' "$ROOT/examples/copy-and-sanitize/old-format.yaml" > "$WORK/legacy.yaml"
expect_eq "B: the example's two samples now select nothing" 2 "$(grep -c 'fraction: 0$' "$WORK/legacy.yaml")"
unset PGHOST PGPORT PGUSER TRIBUTARY_KEY_FILE TRIBUTARY_DEST_URI
export TRIBUTARY_SOURCE_URI="postgresql://postgres@127.0.0.1:$PGC_PORT/postgres"
export TRIBUTARY_KEY=$(openssl rand -hex 32)
export TRIBUTARY_STATE_DIR=$WORK/state
rc=0; "$BIN" run -c "$WORK/legacy.yaml" > "$WORK/b.log" 2>&1 || rc=$?
expect_eq "B: the example with an empty sample runs: exit 0" 0 "$rc"
S() { pgc_psql -d financial_data_sample -Atc "$1" 2>&1; }
expect_eq "B: financial_data_sample has accounts and transactions, both empty" "0|0" \
    "$(S 'SELECT count(*) FROM accounts')|$(S 'SELECT count(*) FROM transactions')"
shape() { # DB TABLE
    pgc_psql -d "$1" -Atc "SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ' '
        ORDER BY attnum) FROM pg_attribute WHERE attrelid = to_regclass('public.$2') AND attnum > 0
        AND NOT attisdropped"
}
expect_eq "B: ... shaped as in financial_data_clean" \
    "$(shape financial_data_clean accounts)/$(shape financial_data_clean transactions)" \
    "$(shape financial_data_sample accounts)/$(shape financial_data_sample transactions)"
expect_eq "B: customers is not part of the sample step" "f" \
    "$(S "SELECT to_regclass('public.customers') IS NOT NULL")"

e2e_finish
