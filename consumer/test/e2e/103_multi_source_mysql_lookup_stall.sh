#!/usr/bin/env bash
# 103_multi_source_mysql_lookup_stall.sh: one pipeline, a PostgreSQL
# source and a MariaDB source (real servers) into a file sink; MariaDB
# stalls (SIGSTOP) just when a table's first rows need its shape from
# information_schema.  Issue 13: "a stalled or down source leaves the
# others flowing".
#
# The lookup runs on a thread of its own (source/mysql/mysql_lookup.h);
# the event that needs it waits, and the pipeline's loop goes on.  How the
# stall meets the lookup, every time: the tables exist before the
# stream's start position (so no CREATE TABLE in the binlog describes
# them), and TRIBUTARY_TEST_MYSQL_LOOKUP_DELAY_MS=2000 makes each lookup
# wait 2 s before it asks the server; the server is frozen 0.7 s after the
# first insert into such a table.  Checks:
#   1. with the lookup hanging on the frozen server, PostgreSQL's changes
#      arrive within 5 s, twice;
#   2. once MariaDB is thawed (SIGCONT) the lookup's answer comes, and the
#      table's rows arrive;
#   3. SIGTERM while a lookup hangs on the frozen server exits 0 within
#      5 s;
#   4. after a restart, every change of both sources, exactly once.
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mysql_snapshot_lib.sh
source "$ROOT/consumer/test/e2e/mysql_snapshot_lib.sh"
# shellcheck source=stall_lib.sh
source "$ROOT/consumer/test/e2e/stall_lib.sh"
e2e_init
trap '[ -n "${MDB_PID:-}" ] && kill -CONT "$MDB_PID" 2>/dev/null; e2e_cleanup' EXIT

multi_source_servers <<'SQL'
CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, v VARCHAR(40));
CREATE TABLE shop.fresh (id BIGINT PRIMARY KEY, v VARCHAR(40));
CREATE TABLE shop.later (id BIGINT PRIMARY KEY, v VARCHAR(40));
SQL

cat >"$WORK/p.yaml" <<YAML
$(multi_source_yaml m103 10301)
    lock_dsn: "$(pg_dsn)"
$(archive_yaml "$WORK/out.jsonl" "$WORK/checkpoint.json")
YAML
"$BIN" check -c "$WORK/p.yaml" --offline >"$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; exit 1; }
export TRIBUTARY_TEST_MYSQL_LOOKUP_DELAY_MS=2000

# pg_insert_wait ID: PostgreSQL inserts row ID, and it is waited for
# (insert_wait).
pg_insert_wait() {
    insert_wait postgresql "items:$1" pgc_psql -d postgres -q -c "INSERT INTO items VALUES ($1, 'row $1')"
}
# stall_at_lookup TABLE ID: insert row ID into TABLE (its first: its
# lookup waits 2 s), and freeze MariaDB 0.7 s later; T_INSERT when.
stall_at_lookup() {
    T_INSERT=$(now_ms)
    mdb_sql shop -e "INSERT INTO $1 VALUES ($2, 'row $2')"
    sleep 0.7
    kill -STOP "$MDB_PID"
}
# after_lookup_began: wait until the lookup (2 s after the insert) asked.
after_lookup_began() { while [ $(( $(now_ms) - T_INSERT )) -lt 2500 ]; do sleep 0.1; done; }

start_consumer
wait_slot_active m103 || { echo "the pipeline did not start streaming"; cat "$WORK/run.log"; exit 1; }
pgc_psql -d postgres -q -c "INSERT INTO items VALUES (1, 'first')"
mdb_sql shop -e "INSERT INTO orders VALUES (1, 'first')"
until_id postgresql items:1 && until_id mysql orders:1 ||
    { echo "the first changes did not arrive"; cat "$WORK/run.log"; exit 1; }

# ---- 1: MariaDB frozen while a new table's lookup asks it
stall_at_lookup fresh 1
after_lookup_began
pg_insert_wait 2
expect_within "with the lookup hanging on the frozen MariaDB, PostgreSQL's change arrives" "$ELAPSED"
sleep 3
pg_insert_wait 3
expect_within "... and again 3 s later" "$ELAPSED"
expect_eq "the new table's row waits for its lookup" "orders:1" "$(ids mysql)"

# ---- 2: thawed: the lookup's answer comes, the rows arrive
kill -CONT "$MDB_PID"
mdb_sql shop -e "INSERT INTO fresh VALUES (2, 'after the thaw'); INSERT INTO orders VALUES (2, 'after')"
until_id mysql fresh:2 40 && until_id mysql orders:2 || true
expect_eq "after the thaw, MariaDB's rows arrive, each once" "fresh:1 fresh:2 orders:1 orders:2" \
    "$(ids mysql)"

# ---- 3: SIGTERM while a lookup hangs on the frozen server
stall_at_lookup later 1
after_lookup_began
stop_while_frozen "$MDB_PID" "while the lookup hangs"

# ---- 4: a restart: everything once
pgc_psql -d postgres -q -c "INSERT INTO items VALUES (4, 'after the restart')"
mdb_sql shop -e "INSERT INTO later VALUES (2, 'after the restart')"
start_consumer
until_id postgresql items:4 30 && until_id mysql later:2 30 || true
stop_consumer
expect_eq "every PostgreSQL change once" "items:1 items:2 items:3 items:4" "$(ids postgresql)"
expect_eq "every MariaDB change once" "fresh:1 fresh:2 later:1 later:2 orders:1 orders:2" \
    "$(ids mysql)"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
