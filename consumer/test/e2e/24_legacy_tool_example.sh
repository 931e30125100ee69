#!/usr/bin/env bash
# 24_legacy_tool_example.sh: the copy-and-sanitize tool's documented
# example (fixtures/seed.yaml, byte for byte the file of issue 18) checked
# and run unchanged against Postgres databases named as in it.
#
# Two servers, A and B, each with a database financial_data_clean holding
# the same 120 customers.  The file's source_db and dest_db are the same
# bare name, so:
#   - with the servers of --source-uri A and --dest-uri B the step copies
#     A's customers into B, sanitized, and leaves A as it was;
#   - with no URI at all (libpq's defaults: PGHOST/PGPORT of A) it rewrites
#     A's customers in place;
#   - both give the same usernames (keyed, deterministic), only usernames
#     change, every one of them, and they look like user names.
# Also: check says what is missing without a key; MongoDB URIs are refused
# without showing the URI, and so are the URI flags with a native file; a
# password in a URI never reaches the output or the log; in place refuses a
# strategy on a primary key column and a table without a primary key before
# writing anything; refresh is "not supported yet", naming the step.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
SEED=$ROOT/consumer/test/e2e/fixtures/seed.yaml

build_consumer
chmod 777 "$WORK"
export TRIBUTARY_STATE_DIR=$WORK/state
unset TRIBUTARY_KEY TRIBUTARY_KEY_FILE TRIBUTARY_SOURCE_URI TRIBUTARY_DEST_URI

setup_server() {
    on "$PGC_SOCK" "$PGC_PORT" -d postgres -c "CREATE DATABASE financial_data_clean" >/dev/null
    on "$PGC_SOCK" "$PGC_PORT" -d financial_data_clean \
        -c "CREATE TABLE customers (id int PRIMARY KEY, username text, email text, balance numeric(10,2))" \
        -c "INSERT INTO customers SELECT g, 'orig_user_' || g, 'person' || g || '@corp.example', 100 + g
            FROM generate_series(1, 120) g" >/dev/null
}
start_server A; setup_server
start_server B; setup_server
A_URI="postgresql://postgres@127.0.0.1:$A_PORT/postgres"
B_URI="postgresql://postgres@127.0.0.1:$B_PORT/postgres"
# libpq's defaults point at A (the server the tool's user has in PG*)
export PGHOST=$A_SOCK PGPORT=$A_PORT PGUSER=postgres
dump() { on "$1" "$2" -d financial_data_clean -Atc "SELECT id, username, email, balance FROM customers ORDER BY id"; }
dump "$A_SOCK" "$A_PORT" > "$WORK/orig"

# --- check --------------------------------------------------------------------
rc=0; "$BIN" check --offline -c "$SEED" > "$WORK/c0.out" 2>&1 || rc=$?
expect_eq "check without a key: exit 2" 2 "$rc"
expect_eq "check without a key says which key is missing and where keys come from" 1 \
    "$(grep -c 'seed.yaml:9:9: pipelines\[0\].collections.customers.username: strategy substitute needs a key, and none is set (accepted: the environment variable TRIBUTARY_KEY' "$WORK/c0.out")"
KEY=$(openssl rand -hex 32)
export TRIBUTARY_KEY=$KEY
rc=0; "$BIN" check --offline -c "$SEED" > "$WORK/c1.out" 2>&1 || rc=$?
expect_eq "check --offline of the tool's example: exit 0" 0 "$rc"
expect_eq "check lists the step, in place on financial_data_clean" \
    "1. sanitize_clean (sanitize_obfuscate, order 2)|from: dbname='financial_data_clean'|in place: the same database, rows rewritten by primary key" \
    "$(sed -n '2,4p' "$WORK/c1.out" | sed 's/^ *//' | paste -sd'|')"
rc=0; "$BIN" check -c "$SEED" > "$WORK/c2.out" 2>&1 || rc=$?
expect_eq "check (connected) on libpq's defaults: exit 0, can run in place" "0 1" \
    "$rc $(grep -c 'step sanitize_clean: can run (in place)' "$WORK/c2.out")"
rc=0; "$BIN" check -c "$SEED" --source-uri "$A_URI" --dest-uri "$B_URI" > "$WORK/c3.out" 2>&1 || rc=$?
expect_eq "check (connected) with --source-uri A --dest-uri B: a copy" "0 1" \
    "$rc $(grep -c 'step sanitize_clean: can run (a copy into another database)' "$WORK/c3.out")"

# --- MongoDB and passwords --------------------------------------------------------
rc=0; TRIBUTARY_SOURCE_URI="mongodb://admin:MongoPw123@mongo.internal:27017/x" \
    "$BIN" check --offline -c "$SEED" > "$WORK/m1.out" 2>&1 || rc=$?
expect_eq "a mongodb:// TRIBUTARY_SOURCE_URI is refused: exit 2" 2 "$rc"
expect_eq "... with a clear message naming the variable" 1 \
    "$(grep -c 'TRIBUTARY_SOURCE_URI: a MongoDB URI: MongoDB databases are not supported by this version' "$WORK/m1.out")"
rc=0; "$BIN" check --offline -c "$SEED" --dest-uri "mongodb+srv://admin:MongoPw123@cluster0.example.net/x" \
    > "$WORK/m2.out" 2>&1 || rc=$?
expect_eq "a mongodb+srv:// --dest-uri is refused: exit 2, naming the flag" "2 1" \
    "$rc $(grep -c '^[^ ]*seed.yaml: --dest-uri: a MongoDB URI: MongoDB databases are not supported' "$WORK/m2.out")"
expect_eq "the MongoDB password is never shown" 0 "$(cat "$WORK"/m*.out | grep -c MongoPw123 || true)"
PW_URI="postgresql://postgres:Sup3rSecretPw@127.0.0.1:$A_PORT/postgres"
rc=0; "$BIN" check -c "$SEED" --source-uri "$PW_URI" > "$WORK/p1.out" 2>&1 || rc=$?
expect_eq "check with a password in the URI: exit 0, the password shown as ***" "0 1" \
    "$rc $(grep "from: " "$WORK/p1.out" | grep "password='\*\*\*'" | grep "port='$A_PORT'" |
           grep -c "dbname='financial_data_clean'")"

rc=0; "$BIN" check --offline -c "$ROOT/examples/pipeline.yaml" --source-uri "$A_URI" > "$WORK/n.out" 2>&1 || rc=$?
expect_eq "--source-uri with a native file: exit 2, saying what the flags are for" "2 1" \
    "$rc $(grep -c 'pipeline.yaml: --source-uri, --dest-uri and --key-file are for copy-and-sanitize files' "$WORK/n.out")"

# --- a copy: A -> B, A untouched -----------------------------------------------------
rc=0; "$BIN" run -c "$SEED" --source-uri "$PW_URI" --dest-uri "$B_URI" > "$WORK/run1.log" 2>&1 || rc=$?
expect_eq "run with --source-uri A --dest-uri B: exit 0" 0 "$rc"
expect_eq "... as a copy into another database" 1 \
    "$(grep -c 'step 1 of 1: sanitize_clean (sanitize_obfuscate, a copy into another database)' "$WORK/run1.log")"
expect_eq "A is untouched by the copy" "" "$(dump "$A_SOCK" "$A_PORT" | diff "$WORK/orig" - | head -2)"
dump "$B_SOCK" "$B_PORT" > "$WORK/b"

# --- in place: A, from libpq's defaults -------------------------------------------
rc=0; "$BIN" run -c "$SEED" > "$WORK/run2.log" 2>&1 || rc=$?
expect_eq "run of the unchanged file on libpq's defaults: exit 0" 0 "$rc"
expect_eq "... in place" 1 "$(grep -c 'step 1 of 1: sanitize_clean (sanitize_obfuscate, in place)' "$WORK/run2.log")"
dump "$A_SOCK" "$A_PORT" > "$WORK/a"
expect_eq "A still has its 120 customers" 120 "$(wc -l < "$WORK/a")"
expect_eq "no original username is left in A" 0 "$(grep -c orig_user_ "$WORK/a" || true)"
expect_eq "every username changed" 0 \
    "$(paste -d'|' "$WORK/orig" "$WORK/a" | awk -F'|' '$2 == $6' | wc -l)"
expect_eq "nothing but the username changed (ids, emails, balances)" "" \
    "$(diff <(cut -d'|' -f1,3,4 "$WORK/orig") <(cut -d'|' -f1,3,4 "$WORK/a") | head -2)"
expect_eq "the usernames look like user names" 0 "$(cut -d'|' -f2 "$WORK/a" | grep -vcE '^[a-z0-9._]+$' || true)"
expect_eq "distinct originals get distinct usernames" t \
    "$([ "$(cut -d'|' -f2 "$WORK/a" | sort -u | wc -l)" -ge 115 ] && echo t || echo f)"
expect_eq "in place on A equals the copy into B (keyed and deterministic)" "" "$(diff "$WORK/a" "$WORK/b" | head -2)"
expect_eq "the key and the password are in no log" 0 \
    "$(cat "$WORK"/run*.log "$WORK"/c*.out "$WORK"/p*.out | grep -c -e "$KEY" -e Sup3rSecretPw || true)"

# --- what in place refuses, before writing ---------------------------------------------
sed 's/^        username:$/        id:/' "$SEED" > "$WORK/pk.yaml"
rc=0; "$BIN" run -c "$WORK/pk.yaml" > "$WORK/pk.log" 2>&1 || rc=$?
expect_eq "in place, a strategy on the primary key is refused: exit 1" 1 "$rc"
expect_eq "... naming the field and why" 1 \
    "$(grep -c 'pk.yaml:9:9: pipelines\[0\].collections.customers.id: strategy substitute on primary key column id: in place, the row would be written under a new key' "$WORK/pk.log")"
expect_eq "... and nothing was written" "" "$(dump "$A_SOCK" "$A_PORT" | diff "$WORK/a" - | head -2)"
on "$A_SOCK" "$A_PORT" -d financial_data_clean -c "CREATE TABLE nokey (username text)" \
    -c "INSERT INTO nokey VALUES ('orig_user_x')" >/dev/null
sed 's/^      customers:$/      nokey:/' "$SEED" > "$WORK/nokey.yaml"
rc=0; "$BIN" check -c "$WORK/nokey.yaml" > "$WORK/nokey.out" 2>&1 || rc=$?
expect_eq "check: a table without a primary key cannot be rewritten in place (exit 2)" "2 1" \
    "$rc $(grep -c '^  [^ ]*nokey.yaml: step sanitize_clean: table public.nokey has no primary key: rewriting it in place' "$WORK/nokey.out")"
rc=0; "$BIN" run -c "$WORK/nokey.yaml" > "$WORK/nokey.log" 2>&1 || rc=$?
expect_eq "run refuses it too, and the row is unchanged" "1 orig_user_x" \
    "$rc $(on "$A_SOCK" "$A_PORT" -d financial_data_clean -Atc "SELECT username FROM nokey")"

# --- refresh -----------------------------------------------------------------------------
sed 's/^    type: sanitize_obfuscate$/    type: refresh/' "$SEED" > "$WORK/refresh.yaml"
rc=0; "$BIN" check --offline -c "$WORK/refresh.yaml" > "$WORK/r.out" 2>&1 || rc=$?
expect_eq "a refresh stage: exit 2, not supported yet, naming the stage" "2 1" \
    "$rc $(grep -c 'refresh.yaml:3:11: pipelines\[0\]: step sanitize_clean: type refresh is not supported yet' "$WORK/r.out")"
e2e_finish
