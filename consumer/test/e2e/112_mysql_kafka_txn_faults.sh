#!/usr/bin/env bash
# 112_mysql_kafka_txn_faults.sh: a transactional Kafka sink holds every row
# of a MariaDB snapshot exactly once, then every change of the stream once,
# after kill -9 at random moments of the copy, kill -9 in the middle of
# large binlog transactions, and a MariaDB restart in the middle of one
# (docs/SNAPSHOT.md, Positions: Kafka; docs/MYSQL.md).
#
# MySQL snapshots run the copy loop PostgreSQL's do (core/snapshot_feed.c):
# the sink commits the rows with the progress that counts them (sink.h
# snapshot_mark), and a restart resumes from the sink's progress when it is
# past the checkpoint store's.  e2e 118 proves it for PostgreSQL; this is
# the same proof for a real MariaDB 10.11.
#
# Phase A: two tables (an int key, a varchar+int key; 200,000 rows),
# `transactional: true`, two workers, chunks of 2,000; a writer updates and
# inserts rows from the moment the snapshot's consistent point is logged;
# the daemon is killed (-9) once right after the sink's first commit, then
# every 1 to 3 s until the copy is done (the daemon at a twentieth of its
# pace meanwhile, SIGSTOP/SIGCONT, so that the copy spans several kills).
# Phase B: once the copy is done, large transactions (25,000 rows each)
# follow; the daemon is killed twice while it streams them, and
# the MariaDB server is restarted while the daemon reads one; then it
# stops with SIGTERM.  Kafka is librdkafka's mock cluster in a process of
# its own (64 partitions a topic, so that it keeps every record).
#
# The mock shows the records of aborted Kafka transactions to
# read_committed readers too (kafka_txn_check.py), so the committed log is
# rebuilt as in e2e 118: after each kill (the daemon dead) the data
# topics' ends and the newest checkpoint record are noted; the records a
# run wrote are committed up to that checkpoint's position (a run writes
# in id order and commits a prefix), all of them for the last run.
#
# Checks on the committed log: every row that existed at the snapshot's
# consistent point has exactly one op r record and no key has two (a
# resumed copy reads under a new snapshot, so a row the writer inserted
# may be copied too, once); every change of the binlog from the consistent
# point (the witness, decoded by tools/mysql_cat) is there exactly once,
# and nothing else is; the mock kept every record.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mysql_snapshot_lib.sh
source "$ROOT/consumer/test/e2e/mysql_snapshot_lib.sh"
e2e_init
build_consumer
build_tool mysql_cat
CAT=$TOOL
mdb_start

N1=150000 N2=50000
mdb_sql <<SQL
CREATE DATABASE shop;
USE shop;
CREATE TABLE t1 (id INT PRIMARY KEY, v VARCHAR(40));
CREATE TABLE t2 (k VARCHAR(8), n INT, v VARCHAR(40), PRIMARY KEY (k, n));
INSERT INTO t1 SELECT seq, CONCAT('a', seq) FROM seq_1_to_$N1;
INSERT INTO t2 SELECT CONCAT('K', seq % 5), seq, CONCAT('b', seq) FROM seq_1_to_$N2;
SQL

mock_start 1
mock_ctl create __tributary_checkpoints 1
for t in t1 t2; do mock_ctl create "e2e.shop.$t" 64; done

cat >"$WORK/p.yaml" <<YAML
pipeline: e112
sources:
$(mysql_yaml 11201 "" db)
    heartbeat_ms: 200
    snapshot_workers: 2
    snapshot_chunk_rows: 2000
    reconnect_backoff_ms: {initial: 100, max: 1000}
sinks:
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: e2e
    transactional: true
checkpoint: {store: file, path: "$WORK/p.ckpt"}
http: {enabled: false}
YAML
"$BIN" check -c "$WORK/p.yaml" >/dev/null

# note_kill N: after kill N (the daemon dead), the data topics' records so
# far and the checkpoint topic, for the committed log (see above).
note_kill() {
    "$TOOLS/kafka_dump" "$BOOT" e2e.shop. | cut -f2-4 |
        awk -F'\t' '{ k = $1 "\t" $2; if (!(k in m) || $3 + 0 > m[k]) m[k] = $3 + 0 }
                    END { for (k in m) print k "\t" m[k] + 1 }' >"$WORK/ends.$1"
    "$TOOLS/kafka_dump" "$BOOT" __tributary_checkpoints >"$WORK/ck.$1"
    # the sink ahead of the checkpoint store during the copy: a commit
    # that the store's progress does not count yet
    if [ -s "$WORK/ck.$1" ] && ahead_of_store "$(tail -n 1 "$WORK/ck.$1" | cut -f1)"; then
        AHEAD=$((AHEAD + 1))
    fi
}
AHEAD=0
# ahead_of_store ID: the checkpoint record ID (the copy's L:n) counts more
# rows of the copy than the checkpoint store, which is still copying
ahead_of_store() {
    [ "$(jq -r '.position.snapshot.state // "none"' "$WORK/p.ckpt" 2>/dev/null)" = running ] &&
        [ "${1##*:}" -gt "$(jq -r '.seq' "$WORK/p.ckpt")" ]
}
# sink_ahead: ahead_of_store for the newest checkpoint record
sink_ahead() { ahead_of_store "$(ck_newest)"; }

# copied: the copy is over (a run that resumes after it streams at once)
copied() { grep -qE 'copy complete|streaming from binlog .*where the snapshot ends' "$WORK/run.log"; }
# ck_newest: the id of the newest checkpoint record the sink wrote
ck_newest() { "$TOOLS/kafka_dump" "$BOOT" __tributary_checkpoints | tail -n 1 | cut -f1; }
# paced_step: 200 ms with the daemon at a twentieth of its pace (SIGCONT
# 10 ms, then SIGSTOP); paced_sleep S: S seconds of that.  Both leave it
# stopped, so that the checks after them do not let it run at full pace.
paced_step() { thaw_consumer; sleep 0.01; freeze_consumer; sleep 0.19; }
paced_sleep() {
    local i
    for i in $(seq 1 $(( $1 * 5 ))); do paced_step; done
}

# ---------------------------------------------------------------- phase A

start_consumer
wait_log "$WORK/run.log" "consistent snapshot at binlog" 60 || fail "A: the snapshot began" "see run.log"
# the writer: from the consistent point on, 40 transactions that update
# rows of each table and insert new ones, 0.25 s apart
(
    for t in $(seq 1 40); do
        mdb_sql shop -e "BEGIN;
            UPDATE t1 SET v = 'u$t' WHERE id IN ($t * 997 % $N1 + 1, $t * 1999 % $N1 + 1);
            UPDATE t2 SET v = 'u$t' WHERE n = $t * 1013 % $N2 + 1;
            INSERT INTO t1 VALUES ($N1 + $t, 'n$t');
            INSERT INTO t2 VALUES ('W', $t, 'n$t');
            COMMIT;"
        sleep 0.25
    done
) &
WRITER_PID=$!

KILLS=0 SELF_EXITS=0 COPY_KILLS=0
# the first kill as soon as the sink has committed rows of the copy (its
# first checkpoint record), while the checkpoint store may hold nothing yet
for _ in $(seq 1 1200); do
    freeze_consumer
    "$TOOLS/kafka_dump" "$BOOT" __tributary_checkpoints >"$WORK/ck.first" 2>/dev/null || true
    [ -s "$WORK/ck.first" ] && break
    thaw_consumer; sleep 0.03
done
echo "# A: first kill after the sink's first commit; the checkpoint store saved by then:" \
    "$([ -s "$WORK/p.ckpt" ] && echo yes || echo no)"
kill_consumer
kill_loop_note
COPY_KILLS=1
note_kill 1
start_consumer
# then kills during the copy, 1 to 3 s apart (the daemon at a twentieth of
# its pace, so that the copy spans several), each at a moment the sink has
# committed rows the checkpoint store does not count yet when one comes
# within 3 s, until it completes
while ! copied && [ "$COPY_KILLS" -lt 25 ]; do
    paced_sleep "$(( RANDOM % 3 + 1 ))"
    for _ in $(seq 1 15); do
        sink_ahead && break
        paced_step
    done
    if copied; then thaw_consumer; break; fi
    kill_consumer
    kill_loop_note
    COPY_KILLS=$((COPY_KILLS + 1))
    note_kill "$COPY_KILLS"
    start_consumer
done
for _ in $(seq 1 3000); do copied && break; sleep 0.1; done
copied || fail "A: the copy completed" "see run.log"
wait "$WRITER_PID" || true
WRITER_PID=
echo "# A: $COPY_KILLS kill(s) during the copy;" \
    "$(grep -c 'resuming the copy' "$WORK/run.log" || true) resumed copies," \
    "$(grep -c 'committed the progress of the copy' "$WORK/run.log" || true) from the sink's progress"
echo "# A: $AHEAD kill(s) with the sink's last commit past the checkpoint store's progress"
expect_eq "A: a kill landed in the copy with the sink ahead of the checkpoint store" t \
    "$([ "$AHEAD" -ge 1 ] && echo t || echo f)"
expect_eq "A: kills landed in the copy, and restarts resumed it" t \
    "$([ "$COPY_KILLS" -ge 2 ] && [ "$(grep -c 'resuming the copy' "$WORK/run.log")" -ge 1 ] && echo t || echo f)"

# ---------------------------------------------------------------- phase B

# big_txn I: one large transaction: 15,000 updates of t1, 10,000 inserts
# into t2
big_txn() {
    mdb_sql shop -e "BEGIN;
        UPDATE t1 SET v = CONCAT('L$1.', id) WHERE id <= 15000;
        INSERT INTO t2 SELECT 'L$1', seq, 'big' FROM seq_1_to_10000;
        COMMIT;"
}
# mid_txn BEFORE: a newer checkpoint record than BEFORE, inside a
# transaction (a change of it, not its last: the sink committed part of a
# large transaction)
mid_txn() {
    local id
    id=$(ck_newest)
    [ -n "$id" ] && [ "$id" != "$1" ] && [ "${id##*:}" -gt 0 ] && [ "${id##*:}" -lt 24000 ]
}
# in_big_txn I: transaction I written with the daemon at a quarter of its
# pace until the sink has committed part of it (at most 100 steps);
# leaves the daemon stopped
in_big_txn() {
    local before
    before=$(ck_newest)
    freeze_consumer
    big_txn "$1"
    for _ in $(seq 1 100); do
        mid_txn "$before" && return 0
        thaw_consumer; sleep 0.05; freeze_consumer; sleep 0.15
    done
    echo "# B: transaction $1 not seen half committed"
}
NK=$COPY_KILLS
for i in 1 2; do
    in_big_txn "$i"
    kill_consumer
    kill_loop_note
    NK=$((NK + 1))
    note_kill "$NK"
    start_consumer
done
# a MariaDB restart while the daemon reads a large transaction.  The
# restart ends the GET_LOCK connection too, so the daemon stops writing
# (its open Kafka transaction aborted) and waits as standby until the
# server is back: for the committed log that is a run's end like a kill,
# noted while the server is down (the daemon cannot write then).
in_big_txn 3
lost=$(grep -c 'lost the pipeline lock' "$WORK/run.log" || true)
mdb_stop
thaw_consumer
for _ in $(seq 1 300); do
    [ "$(grep -c 'lost the pipeline lock' "$WORK/run.log" || true)" -gt "$lost" ] && break
    sleep 0.1
done
sleep 1
NK=$((NK + 1))
note_kill "$NK"
mdb_launch
big_txn 4
mdb_sql shop -e "INSERT INTO t1 VALUES (999999, 'marker')"
for _ in $(seq 1 150); do
    "$TOOLS/kafka_dump" "$BOOT" e2e.shop.t1 >"$WORK/t1.dump" || true
    grep -q '"id":999999' "$WORK/t1.dump" && break
    sleep 2
done
expect_grep "B: the marker after the last large transaction arrived" "$WORK/t1.dump" '"id":999999'
rm -f "$WORK/t1.dump"
kill_loop_exits
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"
# the restart drops the GET_LOCK connection too: the daemon goes back to
# standby and takes the lock again once the server is back
expect_grep "B: the MariaDB restart cost the daemon its lock, and it took it again" \
    "$WORK/run.log" 'lost the pipeline lock'
mid=$(grep -cE 'resuming after binlog .*, change ([1-9]|[1-9][0-9]{1,3}|1[0-9]{4}|2[0-3][0-9]{3}) of that transaction' \
    "$WORK/run.log" || true)
echo "# B: $mid restart(s) resumed inside a large transaction"
expect_eq "B: a kill or the server restart landed inside a large transaction" t \
    "$([ "$mid" -ge 1 ] && echo t || echo f)"

# ---------------------------------------------------------------- checks

"$TOOLS/kafka_dump" "$BOOT" e2e.shop. >"$WORK/dump"
read -r sfile spos < <(sed -nE 's/.*consistent snapshot at binlog ([^:]+):([0-9]+) .*/\1 \2/p' \
    "$WORK/run.log" | head -1)
my_witness "$sfile" "$spos" 11202 "$WORK/witness.changes" "$WORK/witness"

python3 - "$WORK" "$NK" "$N1" "$N2" >"$WORK/check.out" 2>&1 <<'PY' || true
import collections, json, sys

work, nk = sys.argv[1], int(sys.argv[2])
n1, n2 = (int(a) for a in sys.argv[3:5])


def pos(eid):
    at, _, seq = eid.partition(":")
    hi, lo = at.split("/")
    return (int(hi, 16) << 32 | int(lo, 16), int(seq) if seq else 2**63 - 1)


def newest(path):
    lines = [l for l in open(path) if l.strip()]
    return pos(lines[-1].split("\t")[0]) if lines else None


ends, cks = [], []
for k in range(1, nk + 1):
    e = {}
    for line in open("%s/ends.%d" % (work, k)):
        t, p, end = line.rstrip("\n").split("\t")
        e[(t, p)] = int(end)
    ends.append(e)
    cks.append(newest("%s/ck.%d" % (work, k)))

rows, stream, first = collections.Counter(), collections.Counter(), {}
aborted = 0
for line in open(work + "/dump"):
    f = line.rstrip("\n").split("\t")
    if len(f) < 6 or f[5] == "-":
        continue
    tp, off = (f[1], f[2]), int(f[3])
    first.setdefault(tp, off)
    run = next((k for k in range(nk) if off < ends[k].get(tp, 0)), None)
    if run is not None and (cks[run] is None or pos(f[0]) > cks[run]):
        aborted += 1
        continue            # written by a killed run after its last commit
    v = json.loads(f[5])
    if v["op"] == "r":
        rows[(v["source"]["table"], f[4])] += 1
    else:
        stream[f[0]] += 1
print("kept", "t" if all(o == 0 for o in first.values()) else "f")
print("uncommitted", aborted)
print("twice", sum(1 for c in rows.values() if c > 1), sum(c - 1 for c in rows.values() if c > 1))
want = [("t1", json.dumps({"id": i}, separators=(",", ":"))) for i in range(1, n1 + 1)]
want += [("t2", json.dumps({"k": "K%d" % (i % 5), "n": i}, separators=(",", ":")))
         for i in range(1, n2 + 1)]
print("missing", sum(1 for w in want if rows[w] == 0))
print("example", next((w for w in want if rows[w] != 1), "-"))
wit = [l.strip() for l in open(work + "/witness") if l.strip()]
wset = set(wit)
print("changes", len(wit))
print("stream_missing", sum(1 for w in wit if stream[w] == 0))
print("stream_twice", sum(1 for w in wit if stream[w] > 1))
print("stream_extra", sum(1 for s in stream if s not in wset))
print("stream_example", next((w for w in wit if stream[w] != 1), "-"))
PY
sed 's/^/# /' "$WORK/check.out"
val() { sed -n "s/^$1 //p" "$WORK/check.out"; }
expect_eq "the mock kept every record (64 partitions a topic)" t "$(val kept)"
expect_eq "no snapshot row committed twice (keys twice, extra records)" "0 0" "$(val twice)"
expect_eq "every row of the copy committed" 0 "$(val missing)"
expect_eq "the witness saw the writer's and the large transactions' changes" t \
    "$([ "$(val changes)" -ge 100000 ] && echo t || echo f)"
expect_eq "every streamed change committed" 0 "$(val stream_missing)"
expect_eq "no streamed change committed twice" 0 "$(val stream_twice)"
expect_eq "no committed change the witness did not see" 0 "$(val stream_extra)"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
