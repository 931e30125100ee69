#!/usr/bin/env bash
# 99_multi_source_stall.sh: one pipeline, a PostgreSQL source and a
# MariaDB source (real servers) into a file sink; the MariaDB server
# stalls (SIGSTOP), then dies (kill -9), each time in the middle of a
# transaction the daemon is reading.  Issue 13: "a stalled or down source
# leaves the others flowing".
#
# The merge takes a source's transaction whole before polling another
# (pipeline/merge.h); a source silent inside its transaction for
# STALL_MS gives up the floor (trib_merge_suspend), and the rest of its
# transaction follows as a later group once it is back.
#
# How the transaction is cut mid-way, every time: the daemon is frozen
# (SIGSTOP) while MariaDB commits a one-transaction insert of about 30 MB
# of binlog, far more than the loopback socket buffers hold, so the
# server's binlog sender blocks part-way; then the server is frozen or
# killed, and the daemon thawed: it reads what the sockets held and then
# hears nothing more of that transaction.  Checks: the transaction was
# indeed cut (some but not all of its rows arrived); a PostgreSQL change
# made then arrives anyway; once MariaDB is back (SIGCONT; a restart
# after the kill) the rest of the transaction arrives, every row exactly
# once, and so do later changes of both sources.
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
CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, v VARCHAR(400));
SQL

cat >"$WORK/p.yaml" <<YAML
$(multi_source_yaml m99 9901)
    lock_dsn: "$(pg_dsn)"
$(archive_yaml "$WORK/out.jsonl" "$WORK/checkpoint.json")
YAML
"$BIN" check -c "$WORK/p.yaml" --offline >"$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; exit 1; }

# Changes in the file sink of a source (postgresql | mysql), and the keys
# of MariaDB's rows from FIRST to LAST, one line each.
changes() { grep -c "\"connector\":\"$1\"" "$WORK/out.jsonl" 2>/dev/null || true; }
# (read from $WORK/my.ids, which the checks at the end extract once).
my_keys() { awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b' "$WORK/my.ids"; }
# until_changes SOURCE N [TENTHS]: wait until SOURCE has N changes in the
# file sink (at most TENTHS tenths of a second, 600 by default).
until_changes() {
    for _ in $(seq 1 "${3:-600}"); do
        [ "$(changes "$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
# big_tx FROM: MariaDB commits ROWS rows from key FROM in one transaction
# while the daemon is frozen; about 30 MB of binlog.
ROWS=150000
big_tx() {
    freeze_consumer
    mdb_sql shop -e "INSERT INTO orders SELECT seq, REPEAT('x', 190) FROM seq_$1_to_$(($1 + ROWS - 1))"
    sleep 0.5                   # the binlog sender fills the sockets
}

start_consumer
wait_slot_active m99 || { echo "the pipeline did not start streaming"; cat "$WORK/run.log"; exit 1; }
pgc_psql -d postgres -q -c "INSERT INTO items VALUES (1, 'first')"
mdb_sql shop -e "INSERT INTO orders VALUES (1, 'first')"
until_changes postgresql 1 && until_changes mysql 1 ||
    { echo "the first changes did not arrive"; cat "$WORK/run.log"; exit 1; }

# ---- phase A: MariaDB stalls (SIGSTOP) inside a transaction ----------------
big_tx 1000001
kill -STOP "$MDB_PID"
thaw_consumer
until_changes mysql 2 ||
    { echo "nothing of the big transaction arrived"; cat "$WORK/run.log"; exit 1; }
pgc_psql -d postgres -q -c "INSERT INTO items VALUES (2, 'while mariadb is stalled')"
until_changes postgresql 2 300 || true
cut=$(changes mysql)
expect_eq "phase A: with MariaDB stalled inside a transaction, PostgreSQL's change arrives" 2 \
    "$(changes postgresql)"
expect_eq "phase A: the transaction was cut by the stall (some but not all of its rows arrived)" t \
    "$([ "$cut" -gt 1 ] && [ "$cut" -lt $((ROWS + 1)) ] && echo t || echo f)"
expect_grep "phase A: the daemon said the source gave up the floor" "$WORK/run.log" \
    "source shopdb: nothing for [0-9]+ ms inside a transaction"
kill -CONT "$MDB_PID"
until_changes mysql $((ROWS + 1)) || true

# ---- phase B: MariaDB dies (kill -9) inside a transaction, and restarts -----
big_tx 2000001
mdb_stop kill
thaw_consumer
until_changes mysql $((ROWS + 2)) ||
    { echo "nothing of the second big transaction arrived"; cat "$WORK/run.log"; exit 1; }
pgc_psql -d postgres -q -c "INSERT INTO items VALUES (3, 'while mariadb is down')"
until_changes postgresql 3 300 || true
cut=$(($(changes mysql) - ROWS - 1))
expect_eq "phase B: with MariaDB down inside a transaction, PostgreSQL's change arrives" 3 \
    "$(changes postgresql)"
expect_eq "phase B: the transaction was cut by the crash" t \
    "$([ "$cut" -ge 1 ] && [ "$cut" -lt "$ROWS" ] && echo t || echo f)"
mdb_launch
until_changes mysql $((2 * ROWS + 1)) || true
mdb_sql shop -e "INSERT INTO orders VALUES (3, 'after the restart')"
pgc_psql -d postgres -q -c "INSERT INTO items VALUES (4, 'the end')"
until_changes mysql $((2 * ROWS + 2)) || true
until_changes postgresql 4 || true
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"
jq -r 'select(.value.source.connector == "mysql") | .key.id' "$WORK/out.jsonl" >"$WORK/my.ids"
expect_eq "phase A: once MariaDB resumed, every row of the transaction, once" "$ROWS $ROWS" \
    "$(my_keys 1000001 $((1000000 + ROWS)) | wc -l) $(my_keys 1000001 $((1000000 + ROWS)) | sort -u | wc -l)"
expect_eq "phase B: after the restart, every row of the transaction, once" "$ROWS $ROWS" \
    "$(my_keys 2000001 $((2000000 + ROWS)) | wc -l) $(my_keys 2000001 $((2000000 + ROWS)) | sort -u | wc -l)"
expect_eq "every change of both sources, each once" "4 1 2 3 4 | $((2 * ROWS + 2)) 1 3" \
    "$(changes postgresql) $(jq -r 'select(.value.source.connector == "postgresql") | .key.id' "$WORK/out.jsonl" | sort -n | paste -sd' ') | $(changes mysql) $(my_keys 1 999 | sort -n | paste -sd' ')"
expect_grep "the MariaDB source reconnected after the crash" "$WORK/run.log" \
    "source shopdb: binlog stream lost"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
