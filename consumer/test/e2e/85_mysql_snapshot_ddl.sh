#!/usr/bin/env bash
# 85_mysql_snapshot_ddl.sh: ALTER TABLE while the MySQL/MariaDB source's
# initial snapshot copies (issue 13, "DDL during a snapshot"), against a
# real MariaDB 10.11, one snapshot worker, small chunks.
#
# Tables in copy order (largest first): `first` (copied when the ALTERs
# run), `mid` (being copied), `later` (not copied yet).  While `mid` is
# being copied: ALTERs on `first` (ADD COLUMN) and `mid` (MODIFY) are
# started in the background, and `later` gets a row and an update, DROP
# COLUMN, a row, an update and a delete.  The snapshot's transaction holds
# the metadata locks of the tables it read, so the first two ALTERs wait
# until it ends; `later` is altered at once, and the snapshot's read of it
# is refused (ER_TABLE_DEF_CHANGED, 1412, or, its column gone, 1054).
# Checks: the ALTER of `first` waited for the snapshot's metadata lock;
# the copy does not fail: `later` is copied under a new consistent
# snapshot of its own (logged), every row of every table once, `first`
# and `mid` in the consistent point's shape, `later` in its new one; the
# stream then delivers every change after the copy's position exactly once
# (the witness is the binlog, decoded by tools/mysql_cat), the changes of
# `later` before its DROP COLUMN in the old shape (the two rows inserted
# between the two positions are also in the copy); the rebuilt rows equal
# the server's on their common columns; the checkpoint ends at the
# stream's last transaction, whole, with no copy progress left.  Then the
# way out docs/MYSQL.md gives when the retries run out (checkpoint and the
# file sink's position removed, a new snapshot): every table copied in its
# new shape; streamed inserts of `later` before and after an ADD COLUMN
# carry the columns of their binlog position; the stream delivers every
# change after the new snapshot's position exactly once and the rebuilt
# rows equal the server's.  (schemas: registry versions are not checked
# here.)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mysql_snapshot_lib.sh
source "$ROOT/consumer/test/e2e/mysql_snapshot_lib.sh"
e2e_init
E2E_PIDS+=" ALTER_PID"
ALTER_PID=

mysql_snapshot_servers
mysql_snapshot_pipeline k85 8585 1 500 "shop.first, shop.mid, shop.later, shop.typed, shop.marker"

mdb_sql <<SQL
CREATE DATABASE shop;
USE shop;
CREATE TABLE first (id INT PRIMARY KEY, v VARCHAR(40));
CREATE TABLE mid (id INT PRIMARY KEY, v VARCHAR(40), n INT);
CREATE TABLE later (id INT PRIMARY KEY, v VARCHAR(40), n INT);
CREATE TABLE typed (id INT PRIMARY KEY, n INT);
CREATE TABLE marker (id INT PRIMARY KEY);
INSERT INTO first SELECT seq, CONCAT('f', seq) FROM seq_1_to_20000;
INSERT INTO mid SELECT seq, CONCAT('m', seq), seq FROM seq_1_to_300000;
INSERT INTO later SELECT seq, CONCAT('l', seq), seq FROM seq_1_to_2000;
INSERT INTO typed SELECT seq, seq FROM seq_1_to_1000;
SQL

# wait_marker N: up to 120 s for the stream's insert N into marker.
wait_marker() {
    for _ in $(seq 1 1200); do
        jq -e --argjson id "$1" 'select(.value.source.table == "marker" and .key.id == $id)' \
            "$WORK/out.jsonl" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
}

start_consumer
# The daemon is held mid-copy of mid (SIGSTOP) while the ALTERs start: a
# fast machine copies all of mid in well under a second, before a script
# could start them.  Its snapshot transaction, and the metadata locks it
# holds, stay open on the server meanwhile.
wait_copying "$WORK/out.jsonl" mid || true
freeze_consumer
echo "# ALTERs start with $(acked mid) rows of mid acknowledged, the daemon held mid-copy"
mdb_sql shop -e "INSERT INTO later VALUES (900001, 'before', 1);
    UPDATE later SET v = 'u-before' WHERE id = 5;
    UPDATE typed SET n = n + 1 WHERE id = 3;"
# the witness keeps up (its schema history learns the shapes before the
# ALTERs below), as the binlog's reader must
read -r p1file p1pos < <(sed -nE 's/.*consistent snapshot at binlog ([^:]+):([0-9]+) .*/\1 \2/p' \
    "$WORK/run.log" | head -1)
WITNESS_HISTORY=$WORK/witness.history
"$CAT" --port "$MDB_PORT" --server-id 8587 --file "$p1file" --pos "$p1pos" --stop-at-end \
    --schema-history "$WITNESS_HISTORY" >/dev/null 2>"$WORK/witness0.log"
( mdb_sql shop -e "ALTER TABLE first ADD COLUMN extra INT NOT NULL DEFAULT 7;
    INSERT INTO first VALUES (900001, 'after', 8);
    ALTER TABLE mid MODIFY v VARCHAR(80) NOT NULL DEFAULT 'd';
    UPDATE mid SET v = 'u-after' WHERE id = 7;" ) &
ALTER_PID=$!
mdb_sql shop -e "ALTER TABLE later DROP COLUMN n;
    INSERT INTO later VALUES (900002, 'after');
    UPDATE later SET v = 'u-after' WHERE id = 6;
    DELETE FROM later WHERE id = 8;
    ALTER TABLE typed MODIFY n VARCHAR(20);
    UPDATE typed SET n = 'x' WHERE id = 4;"
waiting=0
for _ in $(seq 1 40); do
    waiting=$(mdb_sql -N -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST
        WHERE STATE = 'Waiting for table metadata lock' AND INFO LIKE 'ALTER TABLE first%'")
    [ "$waiting" = 1 ] && break
    sleep 0.05
done
echo "# the ALTER of first waits for the snapshot's metadata lock: $waiting"
thaw_consumer
if ! wait_log "$WORK/run.log" 'streaming from binlog' 120; then
    fail "the copy finished and the stream started" "see below"
    sed 's/^/#   /' "$WORK/run.log"
fi
wait "$ALTER_PID"; ALTER_PID=
mdb_sql shop -e "INSERT INTO marker VALUES (1)"
wait_marker 1
stop_consumer
mv "$WORK/out.jsonl" "$WORK/out1.jsonl"

# ---- the first run: a table altered before its copy is copied anyway
expect_eq "the ALTER of the copied table waited for the snapshot's metadata lock" 1 "$waiting"
grep -E 'ERROR|WARN' "$WORK/run.log" | sed 's/^/# /'
expect_eq "the daemon stopped cleanly" 0 "$STOP_RC"
expect_no_grep "the copy did not fail" "$WORK/run.log" "ERROR"
for t in later typed; do
    expect_grep "the altered table $t was copied under a new snapshot of its own" "$WORK/run.log" \
        "table shop.$t was altered after the snapshot's consistent point: copying it under a new consistent snapshot \\(binlog [^ ]*:[0-9]*, attempt 1 of 3\\)"
done
# copied TABLE FILE COLUMN: "rows distinct-ids rows-with-COLUMN" of
# TABLE's op r
copied() {
    jq -r --arg t "$1" --arg c "$3" 'select(.value.op == "r" and .value.source.table == $t)
        | "\(.key.id) \(.value.after | has($c))"' "$2" |
        awk '{ n++; ids[$1] = 1; if ($2 == "true") x++ } END { printf "%d %d %d\n", n, length(ids), x }'
}
expect_eq "first was copied whole, once, in the shape of the consistent point" \
    "20000 20000 0" "$(copied first "$WORK/out1.jsonl" extra)"
expect_eq "mid was copied whole, once" "300000 300000 300000" "$(copied mid "$WORK/out1.jsonl" n)"
expect_eq "later was copied once, in its new shape (2000 + 2 inserted - 1 deleted rows, no n)" \
    "2001 2001 0" "$(copied later "$WORK/out1.jsonl" n)"
# shape1 TABLE ID OP: the columns of TABLE's streamed change OP of ID
shape1() {
    jq -r --arg t "$1" --argjson id "$2" --arg op "$3" 'select(.value.op == $op
        and .value.source.table == $t and .key.id == $id) | .value.after | keys_unsorted | join(",")' \
        "$WORK/out1.jsonl" | paste -sd' '
}
expect_eq "the streamed insert of later before its DROP COLUMN has the old shape" "id,v,n" \
    "$(shape1 later 900001 c)"
expect_eq "and so has the update before it" "id,v,n" "$(shape1 later 5 u)"
expect_eq "the streamed insert of later after the DROP COLUMN has the new shape" "id,v" \
    "$(shape1 later 900002 c)"
expect_eq "the rows inserted between the two positions are copied and streamed (append-only view)" \
    "900001 900002" \
    "$(jq -r 'select(.value.source.table == "later" and .key.id > 900000) | "\(.key.id) \(.value.op)"' \
        "$WORK/out1.jsonl" | sort -u | awk '{ ops[$1] = ops[$1] $2 } END { for (k in ops) if (ops[k] ~ /r/ && ops[k] ~ /c/) print k }' |
        sort | paste -sd' ')"
expect_eq "typed was copied once, in its new type (n a string)" "1000 1000 string" \
    "$(jq -r 'select(.value.op == "r" and .value.source.table == "typed")
        | "\(.key.id) \(.value.after.n | type)"' "$WORK/out1.jsonl" |
        awk '{ n++; ids[$1] = 1; t[$2] = 1 } END { printf "%d %d", n, length(ids); for (k in t) printf " %s", k; print "" }')"
# streamed TABLE ID: the streamed update of ID's n, as JSON
streamed_n() {
    jq -c --arg t "$1" --argjson id "$2" 'select(.value.op == "u" and .value.source.table == $t
        and .key.id == $id) | .value.after.n' "$WORK/out1.jsonl"
}
expect_eq "typed's streamed update before its MODIFY is decoded with the old type" 4 "$(streamed_n typed 3)"
expect_eq "and the one after it with the new type" '"x"' "$(streamed_n typed 4)"
expect_eq "first's insert after its waiting ALTER has the new column" "id,v,extra" \
    "$(shape1 first 900001 c)"
expect_eq "the waiting ALTERs ran once the snapshot ended" "1 80" \
    "$(mdb_sql -N shop -e "SELECT COUNT(*) FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'first' AND COLUMN_NAME = 'extra';
        SELECT CHARACTER_MAXIMUM_LENGTH FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'mid' AND COLUMN_NAME = 'v'" | paste -sd' ')"
echo "# checkpoint: $(head -c 400 "$WORK/checkpoint.json")"
read -r ck_lsn ck_pos < <(jq -r '"\(.commit_lsn) \(.position)"' "$WORK/checkpoint.json")
ck_seq=$(grep -oE '"seq":[0-9]+' "$WORK/checkpoint.json" | cut -d: -f2)	# past a double's precision
expect_eq "the checkpoint: the stream's last transaction (the marker's), whole, no copy left" \
    "$(jq -r 'select(.value.source.table == "marker") | .value.source.sequence | fromjson | .[0]' \
        "$WORK/out1.jsonl") 9223372036854775807 null" \
    "$(( 0x${ck_lsn%/*} * 4294967296 + 0x${ck_lsn#*/} )) $ck_seq $ck_pos"
server_rows() {
    mdb_sql -N shop -e "SELECT JSON_OBJECT('id', id, 'v', v, 'extra', extra) FROM first" | sed 's/^/first /'
    mdb_sql -N shop -e "SELECT JSON_OBJECT('id', id, 'v', v, 'n', n) FROM mid" | sed 's/^/mid /'
    mdb_sql -N shop -e "SELECT JSON_OBJECT('id', id, 'v', v$1) FROM later" | sed 's/^/later /'
}
# (typed is left out: its row 3, last changed before the MODIFY, keeps the
# number 4 where the server now has the text "4", as in any stream across
# a DDL; its changes are in the witness's checks)
server_rows "" >"$WORK/server1.rows"
snapshot_check "$WORK/out1.jsonl" "$WORK/run.log" 8586 "$WORK/server1.rows" --resumed --current-columns
WITNESS_HISTORY=

# ---- the documented way out when the retries run out: a new snapshot
rm -f "$WORK/checkpoint.json" "$WORK/out.jsonl.pos"
start_consumer "$WORK/p.yaml" "$WORK/run2.log"
wait_log "$WORK/run2.log" 'streaming from binlog' 120 ||
    { fail "the new snapshot finished" "see below"; cat "$WORK/run2.log"; }
mdb_sql shop -e "INSERT INTO later VALUES (900003, 'pre');
    ALTER TABLE later ADD COLUMN z INT NULL;
    INSERT INTO later VALUES (900004, 'post', 2);
    UPDATE later SET z = 1 WHERE z IS NULL;
    UPDATE first SET extra = 9 WHERE id = 3;
    DELETE FROM mid WHERE id = 4;
    INSERT INTO marker VALUES (2)"
wait_marker 2
stop_consumer
expect_eq "the daemon stopped cleanly" 0 "$STOP_RC"
expect_eq "first copied again, with its new column" "20001 20001 20001" \
    "$(copied first "$WORK/out.jsonl" extra)"
expect_eq "later copied whole (2001 rows, one deleted), without n" "2001 2001 0" \
    "$(copied later "$WORK/out.jsonl" n)"
# shape TABLE ID: the columns of TABLE's streamed insert of ID
shape() {
    jq -r --arg t "$1" --argjson id "$2" 'select(.value.op == "c" and .value.source.table == $t
        and .key.id == $id) | .value.after | keys_unsorted | join(",")' "$WORK/out.jsonl"
}
expect_eq "a streamed insert before the ALTER has the old columns" "id,v" "$(shape later 900003)"
expect_eq "a streamed insert after the ALTER has the new columns" "id,v,z" "$(shape later 900004)"

server_rows ", 'z', z" >"$WORK/server.rows"
snapshot_check "$WORK/out.jsonl" "$WORK/run2.log" 8586 "$WORK/server.rows"

e2e_finish
