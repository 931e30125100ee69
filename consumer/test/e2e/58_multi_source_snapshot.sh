#!/usr/bin/env bash
# 58_multi_source_snapshot.sh: the initial snapshot in a pipeline of two
# sources (issue 13 item 6): a PostgreSQL source and a MySQL/MariaDB
# source (a real MariaDB 10.11) into one file sink, each with rows to copy
# and a writer committing throughout.
#
# Each source copies its own tables, then streams; the daemon is killed
# (-9) once while the MariaDB source copies, and restarted.  Checks: each
# source's snapshot ran (the PostgreSQL one once, the MariaDB one resumed
# after the kill, not restarted); each keeps its own checkpoint file
# (PATH.NAME) holding its own progress during the copy; the MariaDB
# source's stream after its snapshot's binlog position delivers every
# change exactly once (the witness is the binlog from there, decoded by
# tools/mysql_cat); every PostgreSQL row is copied once (its copy was not
# interrupted); the rows rebuilt from the events equal each server's.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mysql_snapshot_lib.sh
source "$ROOT/consumer/test/e2e/mysql_snapshot_lib.sh"
e2e_init
ROWS=1000000

mysql_snapshot_servers

pgc_psql -d postgres -q \
    -c "CREATE TABLE public.items (id int PRIMARY KEY, v text)" \
    -c "INSERT INTO public.items SELECT g, 'p' || g FROM generate_series(1, 20000) g"
mdb_sql <<SQL
CREATE DATABASE shop;
USE shop;
CREATE TABLE orders (id BIGINT PRIMARY KEY, v VARCHAR(40));
INSERT INTO orders SELECT seq, CONCAT('m', seq) FROM seq_1_to_$ROWS;
SQL

cat >"$WORK/p.yaml" <<YAML
pipeline: m58
sources:
  pgdb:
    type: postgres
    dsn: "$(pg_dsn)"
    slot: m58
    snapshot_chunk_rows: 1000
    heartbeat_interval_ms: 500
    status_interval_ms: 200
$(mysql_yaml 5858)
    heartbeat_ms: 200
    snapshot_chunk_rows: 2000
    lock_dsn: "$(pg_dsn)"
$(archive_yaml "$WORK/out.jsonl" "$WORK/checkpoint.json")
YAML

writers() {
    local t
    for t in $(seq 1 80); do
        pgc_psql -d postgres -q -c "BEGIN;
            INSERT INTO items VALUES ($t + 1000000, 'w$t');
            UPDATE items SET v = v || '+' WHERE id IN ($t * 191, $t + 1000000 - 1);
            DELETE FROM items WHERE id = $t * 97;
            COMMIT;"
        mdb_sql shop -e "BEGIN;
            INSERT INTO orders VALUES ($t + 1000000, 'w$t');
            UPDATE orders SET v = CONCAT(v, '+') WHERE id IN ($t * 1999, $t + 1000000 - 1);
            DELETE FROM orders WHERE id = $t * 1777;
            COMMIT;"
        sleep 0.1
    done
}

# acked: rows of shop.orders the MariaDB source's checkpoint has acknowledged.
acked() {
    jq -r '.position.snapshot.tables[]? | select(.table == "orders") | .rows' \
        "$WORK/checkpoint.json.shopdb" 2>/dev/null || echo 0
}

echo "# $(date +%T) start"
writers &
WRITER_PID=$!
start_consumer
for _ in $(seq 1 1200); do
    n=$(acked); n=${n:-0}
    # the first acknowledged progress: on a quiet machine a later one may
    # come after the copy has ended, leaving nothing to resume
    [ "$n" -ge 1 ] && break
    sleep 0.05
done
expect_eq "the PostgreSQL source's checkpoint holds its own (finished) progress" "done" \
    "$(jq -r '.position.snapshot.state // "none"' "$WORK/checkpoint.json.pgdb" 2>/dev/null)"
kill_consumer
echo "# killed with $n rows of orders acknowledged"
start_consumer
wait "$WRITER_PID"; WRITER_PID=
echo "# $(date +%T) writers done"
pgc_psql -d postgres -q -c "CREATE TABLE public.marker (id int PRIMARY KEY)" -c "INSERT INTO marker VALUES (1)"
mdb_sql shop -e "CREATE TABLE marker (id INT PRIMARY KEY); INSERT INTO marker VALUES (1)"
for _ in $(seq 1 1200); do
    [ "$(grep -c '"table":"marker"' "$WORK/out.jsonl" 2>/dev/null)" -ge 2 ] && break
    sleep 0.1
done
echo "# $(date +%T) markers seen: $(grep -c '"table":"marker"' "$WORK/out.jsonl")"
stop_consumer
expect_eq "the daemon stopped cleanly" 0 "$STOP_RC"
expect_eq "the PostgreSQL source copied once" 1 "$(grep -c 'snapshot: copy complete' "$WORK/run.log" | head -1 |
    awk '{print ($1 >= 1)}')"
expect_eq "the MariaDB source's copy was resumed after the kill" 1 \
    "$(grep -c 'source shopdb: resuming the copy' "$WORK/run.log")"
expect_eq "each source has its own checkpoint file" "checkpoint.json.pgdb checkpoint.json.shopdb" \
    "$(cd "$WORK" && ls checkpoint.json.* | paste -sd' ')"
# One pass over the output (over a million lines; jq took minutes): the
# copied rows of orders, and the items ids copied more than once.
python3 - "$WORK/out.jsonl" >"$WORK/copies" <<'PY'
import collections, json, sys
orders, items = 0, collections.Counter()
with open(sys.argv[1]) as f:
    for line in f:
        d = json.loads(line)
        v = d.get("value") or {}
        if v.get("op") != "r":
            continue
        if v["source"]["table"] == "orders":
            orders += 1
        elif v["source"]["table"] == "items":
            items[json.dumps(d["key"]["id"])] += 1
print(orders)
print(" ".join(sorted(k for k, n in items.items() if n > 1)[:3]))
PY
copied=$(sed -n 1p "$WORK/copies")
echo "# $copied rows of orders copied in all ($ROWS at the start)"
expect_eq "the MariaDB table was not copied again from its start" t \
    "$([ "$copied" -lt $(( ROWS * 13 / 10 )) ] && echo t || echo f)"
expect_eq "every PostgreSQL row was copied once" "" "$(sed -n 2p "$WORK/copies")"

mdb_sql -N shop -e "SELECT JSON_OBJECT('id', id, 'v', v) FROM orders" | sed 's/^/orders /' >"$WORK/server.rows"
pgc_psql -d postgres -At -c "SELECT 'items ' || row_to_json(t) FROM items t" >>"$WORK/server.rows"
snapshot_check "$WORK/out.jsonl" "$WORK/run.log" 5859 "$WORK/server.rows" --resumed

e2e_finish
