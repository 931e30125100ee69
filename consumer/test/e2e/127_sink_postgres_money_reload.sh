#!/usr/bin/env bash
# 127_sink_postgres_money_reload.sh: the Postgres sink writes money with
# the decimal point of its own session, also after the target's
# lc_monetary changes under it (tools/pgsink_apply streaming the output
# plugin into a real cluster):
#
#   The sink connects while the cluster's lc_monetary is C.UTF-8 (decimal
#   point '.') and applies a row; then ALTER SYSTEM SET lc_monetary = 'de_DE.UTF-8'
#   and pg_reload_conf() change it for every session that never SET it
#   (decimal point ','), and more rows arrive on the same connection.
#   Money inside a composite is written as money's input text with the
#   decimal point read at connect, so a session that took the reload would
#   read "56.78" as 5678.00.  Every amount (a money column and a money
#   field of a composite, before and after the reload) equals the source's.
#
# Needs a locale whose monetary decimal point is a comma (de_DE, built with
# localedef into WORK as in 117); skipped with a note when it cannot be.
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

export PG_CONFIG
build_consumer
build_tool pgsink_apply
mkdir -p "$WORK/loc"
if ! command -v localedef >/dev/null ||
        ! localedef -i de_DE -f UTF-8 "$WORK/loc/de_DE.UTF-8" >"$WORK/localedef.log" 2>&1; then
    echo "# skipped: no de_DE locale could be built ($(tail -1 "$WORK/localedef.log" 2>/dev/null))"
    e2e_finish
    exit
fi
chmod -R a+rX "$WORK/loc"
LOCPATH=$WORK/loc pgc_start
chmod 777 "$WORK"

pgc_psql -c "CREATE DATABASE src" -c "CREATE DATABASE dst" >/dev/null
for db in src dst; do
    pgc_psql -d "$db" -q -c "CREATE TYPE cm AS (mo money, t text)" \
        -c "CREATE TABLE m (id int PRIMARY KEY, mo money, c cm)" >/dev/null
done
q src "SELECT 'x' FROM pg_create_logical_replication_slot('s', 'tributary')" >/dev/null
expect_eq "the sink connects where money's decimal point is '.' (lc_monetary $(q dst "SHOW lc_monetary"))" \
    "12.34" "$(q dst "SELECT '12.34'::money::numeric")"

q src "INSERT INTO m VALUES (1, 12.34, ROW(12.34, 'a'))" >/dev/null
apply dst --stats --idle-ms 3000 --slot s --source-dsn "$(tcp_dsn src)" \
    >"$WORK/apply.out" 2>"$WORK/apply.err" &
APPLY_PID=$!
# rows: the target's row count.
rows() { q dst "SELECT count(*) FROM m" 2>/dev/null || echo 0; }
for _ in $(seq 1 200); do [ "$(rows)" = 1 ] && break; sleep 0.1; done
expect_eq "the first row is applied on the sink's connection" 1 "$(rows)"

q postgres "ALTER SYSTEM SET lc_monetary = 'de_DE.UTF-8'" >/dev/null
q postgres "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 1 50); do [ "$(q dst "SHOW lc_monetary")" = de_DE.UTF-8 ] && break; sleep 0.1; done
expect_eq "after the reload a session that never SET it has lc_monetary de_DE" \
    "de_DE.UTF-8" "$(q dst "SHOW lc_monetary")"
expect_eq "... and reads money's decimal point as a comma" "1234.00 12.34" \
    "$(q dst "SELECT '12.34'::money::numeric || ' ' || '12,34'::money::numeric")"

q src "INSERT INTO m VALUES (2, 56.78, ROW(56.78, 'b')), (3, -1234567.89, ROW(0.01, 'c'))" >/dev/null
q src "UPDATE m SET c = ROW(99.99, 'a2') WHERE id = 1" >/dev/null
rc=0
wait "$APPLY_PID" || rc=$?
expect_eq "the driver ran to the end on one connection (exit status)" 0 "$rc"

# amounts DB: every row's amounts as numeric text, whatever lc_monetary.
amounts() {
    q "$1" "SELECT string_agg(concat_ws(' ', id, mo::numeric, (c).mo::numeric, (c).t), '|' ORDER BY id) FROM m" 2>&1 || true
}
expect_eq "money and money in a composite after the reload: the source's amounts, not 100x" \
    "1 12.34 99.99 a2|2 56.78 56.78 b|3 -1234567.89 0.01 c" "$(amounts dst)"
expect_eq "... and equal to the source's" "$(amounts src)" "$(amounts dst)"

expect_no_sanitizer "no sanitizer report from the sink's driver" "$WORK"/*.err
e2e_finish
