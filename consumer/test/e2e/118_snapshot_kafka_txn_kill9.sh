#!/usr/bin/env bash
# 118_snapshot_kafka_txn_kill9.sh: a transactional Kafka sink holds every
# row of a PostgreSQL snapshot exactly once, then the stream, after kill -9
# at random moments of the copy (docs/SNAPSHOT.md, Positions: Kafka).
#
# The sink commits a snapshot's rows with the progress that counts them in
# its checkpoint record (sink.h snapshot_mark, kafka_checkpoint.c), and a
# restart resumes the copy from there when it is past the checkpoint
# store's (pipeline_host.c host_load).  Before, a kill between a Kafka
# commit and the store's save (about a second of rows) had the restart
# send those rows again: committed twice.
#
# Three tables (an int key, a text+int key, a bigint key; 250,000 rows,
# read slowly: a row security policy sleeps 10 ms per 100 rows, two
# workers, chunks of 2,000: the engine is often idle, and the sink commits then), `snapshot: initial`, `transactional: true`;
# a writer updates and inserts rows from the moment the slot exists; the
# daemon is killed (-9) every 1 to 3 s while it copies, then twice while
# it streams, and stopped with SIGTERM once the writer is done.  Kafka is
# librdkafka's mock cluster in a process of its own (32 partitions a
# topic, so that it keeps every record), read back by offsets.
#
# The mock shows the records of aborted Kafka transactions to
# read_committed readers too (see kafka_txn_check.py), so the committed
# log is rebuilt: after each kill (the daemon dead) the data topics' ends
# and the newest checkpoint record are noted; the records a run wrote
# (between two such ends) are committed up to that checkpoint's position
# (a run writes in id order and commits a prefix), all of them for the
# last run (stopped cleanly).
#
# Checks on the committed log: every row that existed before the copy has
# exactly one op r record, no key has two; every change the witness slot
# saw (created before the pipeline's, written to only after it) is there
# exactly once, and nothing else is; the mock kept every record; each
# restart during the copy resumed it.  On main before the change: rows
# committed twice after most kills.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
build_consumer
pgc_start

N1=120000 N2=80000 N3=50000
pgc_psql -q -d postgres >/dev/null <<SQL
CREATE TABLE public.t1 (id int PRIMARY KEY, v text);
CREATE TABLE public.t2 (k text, n int, v text, PRIMARY KEY (k, n));
CREATE TABLE public.t3 (id bigint PRIMARY KEY, v text);
INSERT INTO public.t1 SELECT g, 'a' || g FROM generate_series(1, $N1) g;
INSERT INTO public.t2 SELECT 'K' || (g % 5), g, 'b' || g FROM generate_series(1, $N2) g;
INSERT INTO public.t3 SELECT g * 3, 'c' || g FROM generate_series(1, $N3) g;
CREATE ROLE trib LOGIN REPLICATION;
GRANT SELECT ON public.t1, public.t2, public.t3 TO trib;
CREATE FUNCTION public.slowly(n bigint) RETURNS bool LANGUAGE plpgsql AS
  'BEGIN IF n % 100 = 0 THEN PERFORM pg_sleep(0.01); END IF; RETURN true; END';
CREATE POLICY slowly ON public.t1 FOR SELECT USING (public.slowly(id));
CREATE POLICY slowly ON public.t2 FOR SELECT USING (public.slowly(n));
CREATE POLICY slowly ON public.t3 FOR SELECT USING (public.slowly(id / 3));
ALTER TABLE public.t1 ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.t2 ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.t3 ENABLE ROW LEVEL SECURITY;
SELECT 'w' FROM pg_create_logical_replication_slot('witness', 'tributary');
SQL

mock_start 1
mock_ctl create __tributary_checkpoints 1
for t in t1 t2 t3; do mock_ctl create "e2e.public.$t" 32; done

cat >"$WORK/p.yaml" <<YAML
pipeline: e2e
sources:
  main:
    type: postgres
    dsn: "host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=trib"
    slot: tributary_e2e
    snapshot: initial
    snapshot_workers: 2
    snapshot_chunk_rows: 2000
    heartbeat_interval_ms: 500
    status_interval_ms: 200
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
    "$TOOLS/kafka_dump" "$BOOT" e2e.public. | cut -f2-4 |
        awk -F'\t' '{ k = $1 "\t" $2; if (!(k in m) || $3 + 0 > m[k]) m[k] = $3 + 0 }
                    END { for (k in m) print k "\t" m[k] + 1 }' >"$WORK/ends.$1"
    "$TOOLS/kafka_dump" "$BOOT" __tributary_checkpoints >"$WORK/ck.$1"
    # the sink ahead of the checkpoint store during the copy: a commit
    # that the store's progress does not count yet
    cp "$WORK/p.ckpt" "$WORK/store.$1" 2>/dev/null || : >"$WORK/store.$1"
    if [ -s "$WORK/ck.$1" ] && [ "$(jq -r '.position.snapshot.state // "none"' "$WORK/store.$1")" = running ] &&
        [ "$(tail -1 "$WORK/ck.$1" | cut -f1 | sed 's/.*://')" -gt "$(jq -r '.seq' "$WORK/store.$1")" ]; then
        AHEAD=$((AHEAD + 1))
    fi
}
AHEAD=0

# The writer: from the moment the slot exists (its changes are then the
# stream's, all of them), 40 transactions that update rows of each table
# and insert new ones, 0.25 s apart.
start_consumer
for _ in $(seq 1 200); do
    [ "$(pgc_psql -d postgres -Atc "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'tributary_e2e'")" = 1 ] && break
    sleep 0.05
done
(
    for t in $(seq 1 40); do
        pgc_psql -d postgres -q -c "BEGIN;
            UPDATE public.t1 SET v = 'u$t' WHERE id IN ($t * 997 % $N1 + 1, $t * 1999 % $N1 + 1);
            UPDATE public.t2 SET v = 'u$t' WHERE n = $t * 1013 % $N2 + 1;
            UPDATE public.t3 SET v = 'u$t' WHERE id = ($t * 1031 % $N3 + 1) * 3;
            INSERT INTO public.t1 VALUES ($N1 + $t, 'n$t');
            INSERT INTO public.t3 VALUES (($N3 + $t) * 3, 'n$t');
            COMMIT;" >/dev/null
        sleep 0.25
    done
) &
WRITER_PID=$!

# kills during the copy, 1 to 3 s apart, until it completes
KILLS=0 SELF_EXITS=0 COPY_KILLS=0
while ! grep -q "copy complete" "$WORK/run.log" && [ "$COPY_KILLS" -lt 40 ]; do
    sleep "$(( RANDOM % 2 + 1 )).$(( RANDOM % 10 ))"
    grep -q "copy complete" "$WORK/run.log" && break
    kill_consumer
    kill_loop_note
    COPY_KILLS=$((COPY_KILLS + 1))
    note_kill "$COPY_KILLS"
    start_consumer
done
wait_log "$WORK/run.log" "copy complete" 300 || fail "the copy completed" "see run.log"
# two kills while it streams
NK=$COPY_KILLS
for _ in 1 2; do
    sleep 1
    kill_consumer
    kill_loop_note
    NK=$((NK + 1))
    note_kill "$NK"
    start_consumer
done
wait "$WRITER_PID" || true
WRITER_PID=
kill_loop_exits
expect_eq "the slot was confirmed to the end after $KILLS kill(s)" t "$(slot_caught_up tributary_e2e)"
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"
echo "# $COPY_KILLS kill(s) during the copy, $((NK - COPY_KILLS)) while streaming;" \
    "$(grep -c 'resuming the copy' "$WORK/run.log" || true) resumed copies," \
    "$(grep -c 'committed the progress of the copy' "$WORK/run.log" || true) from the sink's progress"
echo "# $AHEAD kill(s) with the sink's last commit past the checkpoint store's progress"
expect_eq "a kill landed in the copy with the sink ahead of the checkpoint store" t \
    "$([ "$AHEAD" -ge 1 ] && echo t || echo f)"

"$TOOLS/kafka_dump" "$BOOT" e2e.public. >"$WORK/dump"
pgc_psql -d postgres -At -c "SELECT (d->>'commit_lsn') || ':' || (d->>'seq')
    FROM (SELECT data::json AS d FROM pg_logical_slot_peek_changes('witness', NULL, NULL)) x
    WHERE d->>'kind' IN ('insert','update','delete') AND d->>'schema' = 'public'" | sort >"$WORK/witness"

python3 - "$WORK" "$NK" "$N1" "$N2" "$N3" >"$WORK/check.out" 2>&1 <<'PY' || true
import collections, json, sys

work, nk = sys.argv[1], int(sys.argv[2])
n1, n2, n3 = (int(a) for a in sys.argv[3:6])


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

kept, rows, stream = True, collections.Counter(), collections.Counter()
first = {}
for line in open(work + "/dump"):
    f = line.rstrip("\n").split("\t")
    if len(f) < 6 or f[5] == "-":
        continue
    tp, off = (f[1], f[2]), int(f[3])
    first.setdefault(tp, off)
    run = next((k for k in range(nk) if off < ends[k].get(tp, 0)), None)
    if run is not None and (cks[run] is None or pos(f[0]) > cks[run]):
        continue            # written by a killed run after its last commit
    v = json.loads(f[5])
    if v["op"] == "r":
        rows[(v["source"]["table"], f[4])] += 1
    else:
        stream[f[0]] += 1
kept = all(o == 0 for o in first.values())
print("kept", "t" if kept else "f")
twice = sum(1 for c in rows.values() if c > 1)
print("twice", twice, sum(c - 1 for c in rows.values() if c > 1))
want = [("t1", json.dumps({"id": i}, separators=(",", ":"))) for i in range(1, n1 + 1)]
want += [("t2", json.dumps({"k": "K%d" % (i % 5), "n": i}, separators=(",", ":")))
         for i in range(1, n2 + 1)]
want += [("t3", json.dumps({"id": i * 3}, separators=(",", ":"))) for i in range(1, n3 + 1)]
print("missing", sum(1 for w in want if rows[w] == 0))
print("example", next((w for w in want if rows[w] != 1), "-"))
wit = [l.strip() for l in open(work + "/witness") if l.strip()]
print("changes", len(wit))
print("stream_missing", sum(1 for w in wit if stream[w] == 0))
print("stream_twice", sum(1 for w in wit if stream[w] > 1))
print("stream_extra", sum(1 for s in stream if s not in set(wit)))
PY
cat "$WORK/check.out" | sed 's/^/# /'
val() { sed -n "s/^$1 //p" "$WORK/check.out"; }
expect_eq "the mock kept every record (32 partitions a topic)" t "$(val kept)"
expect_eq "no snapshot row committed twice (keys twice, extra records)" "0 0" "$(val twice)"
expect_eq "every row of the copy committed" 0 "$(val missing)"
expect_eq "the witness saw the writer's changes" t "$([ "$(val changes)" -ge 200 ] && echo t || echo f)"
expect_eq "every streamed change committed" 0 "$(val stream_missing)"
expect_eq "no streamed change committed twice" 0 "$(val stream_twice)"
expect_eq "no committed change the witness did not see" 0 "$(val stream_extra)"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
