#!/usr/bin/env bash
# 90_snapshot_error_restart.sh: a MySQL/MariaDB snapshot that fails with
# an error keeps its progress in the checkpoint, and a plain restart
# resumes the copy.  Against a real MariaDB 10.11, one snapshot worker,
# small chunks.
#
# Tables in copy order (largest first): `big` (being copied when the
# error is caused), `small` (not yet copied).  While `big` is copied,
# `small` is dropped (DROP TABLE), so the copy fails when it reads
# `small`.  (An ALTER TABLE did it until the copy learnt to retry an
# altered table under a new snapshot, e2e 85.)  Checks: the
# checkpoint still holds the snapshot's progress (counting every row of
# `big` the sink has) and not a bare position (the bug: `"position":null`
# and the copy's last event id, which a restart took for a finished
# snapshot and streamed from an invalid binlog offset, MariaDB error
# 1236, or from a wrong one, skipping the rest of the copy).  Then
# `small` is created again (without its old column n) and a plain
# restart with nothing removed: no 1236, the rest of `big` is copied (no
# row twice), `small` is copied (in its current shape, under the
# restart's own snapshot), streaming starts, and every row of both
# tables arrived exactly once.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mysql_snapshot_lib.sh
source "$ROOT/consumer/test/e2e/mysql_snapshot_lib.sh"
e2e_init

mysql_snapshot_servers
mysql_snapshot_pipeline k90 9090 1 500 "shop.big, shop.small, shop.marker"

mdb_sql <<SQL
CREATE DATABASE shop;
USE shop;
CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(40));
CREATE TABLE small (id INT PRIMARY KEY, v VARCHAR(40), n INT);
CREATE TABLE marker (id INT PRIMARY KEY);
INSERT INTO big SELECT seq, CONCAT('b', seq) FROM seq_1_to_400000;
INSERT INTO small SELECT seq, CONCAT('s', seq), seq FROM seq_1_to_2000;
SQL

# copied TABLE: "rows distinct-ids" of TABLE's op r in the sink's file
copied() {
    jq -r --arg t "$1" 'select(.value.op == "r" and .value.source.table == $t) | .key.id' \
        "$WORK/out.jsonl" | awk '{ n++; ids[$1] = 1 } END { printf "%d %d\n", n, length(ids) }'
}

start_consumer
# held mid-copy of big while small is dropped (a fast machine copies all
# of big in well under a second)
wait_copying "$WORK/out.jsonl" big || true
freeze_consumer
echo "# the DROP runs with $(acked big) rows of big acknowledged, the daemon held mid-copy"
mdb_sql shop -e "DROP TABLE small"
thaw_consumer
wait_exit 120; RC1=$EXIT_RC

# ---- the failed copy: its progress stays in the checkpoint
grep ERROR "$WORK/run.log" | sed 's/^/# /'
expect_eq "the daemon failed" 1 "$(( RC1 != 0 ))"
expect_grep "the error names the dropped table" "$WORK/run.log" "snapshot of shop.small"
echo "# checkpoint: $(head -c 400 "$WORK/checkpoint.json")"
expect_eq "the checkpoint holds the snapshot's progress, still running" "running" \
    "$(jq -r '.position.snapshot.state // "none"' "$WORK/checkpoint.json")"
read -r n ids < <(copied big)
echo "# $n rows of big delivered before the failure"
expect_eq "big's delivered rows: each once" "$n" "$ids"
expect_eq "the progress counts every row of big the sink has, no more, no less" "$n" \
    "$(jq -r '.position.snapshot.tables[] | select(.table == "big") | .rows' "$WORK/checkpoint.json")"
expect_eq "no row of small was copied" "0 0" "$(copied small)"

# ---- a plain restart (nothing removed) resumes the copy
mdb_sql shop -e "CREATE TABLE small (id INT PRIMARY KEY, v VARCHAR(40));
    INSERT INTO small SELECT seq, CONCAT('s', seq) FROM seq_1_to_2000;
    INSERT INTO small VALUES (900001, 'after')"
start_consumer "$WORK/p.yaml" "$WORK/run2.log"
if ! wait_log "$WORK/run2.log" 'streaming from binlog' 120; then
    fail "the restart resumed the copy and streams" "see below"
    sed 's/^/#   /' "$WORK/run2.log"
fi
mdb_sql shop -e "INSERT INTO marker VALUES (1)"
for _ in $(seq 1 600); do
    grep -q '"table":"marker"' "$WORK/out.jsonl" 2>/dev/null && break
    sleep 0.1
done
stop_consumer
expect_eq "the restarted daemon stopped cleanly" 0 "$STOP_RC"
expect_no_grep "the restart did not stream from a bogus binlog offset (1236)" "$WORK/run2.log" "1236"
expect_no_grep "the restart did not fail" "$WORK/run2.log" "ERROR"
expect_eq "big copied whole, each row once over both runs" "400000 400000" "$(copied big)"
expect_eq "small was copied once, in its current shape, with the row inserted since" \
    "2001 2001 0" \
    "$(jq -r 'select(.value.op == "r" and .value.source.table == "small")
        | "\(.key.id) \(.value.after | has("n"))"' "$WORK/out.jsonl" |
        awk '{ n++; ids[$1] = 1; if ($2 == "true") x++ } END { printf "%d %d %d\n", n, length(ids), x }')"
expect_eq "the stream delivered the marker once" 1 \
    "$(jq -r 'select(.value.op == "c" and .value.source.table == "marker") | .key.id' \
        "$WORK/out.jsonl" | wc -l)"
expect_no_sanitizer "no sanitizer report" "$WORK/run.log" "$WORK/run2.log"

e2e_finish
