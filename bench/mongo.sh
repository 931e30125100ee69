#!/usr/bin/env bash
# bench/mongo.sh: the MongoDB source's rate, change events through the
# MongoDB wire-protocol TEST DOUBLE (test/mongo/mongo_double) into Kafka
# (`make bench-mongo`).
#
# EVENTS (default 1,000,000) inserts are loaded into the double first
# (test/mongo/build/mongo_drive, 1,000 documents per insert command, W1's
# shape: name, email, amount, active, meta), each its own change event
# (non-transactional writes), with an oplog big enough to keep them all.
# Each round then times `tributary run` with a mongodb source that starts
# at the cluster time before the load (start_at_operation_time) and a
# Kafka sink (librdkafka's mock cluster in its own process, as in
# bench/e2e.sh; idempotent producer, acks=all), from start until the file
# checkpoint covers the last event (every event acknowledged by Kafka).
# Then SINK_ROUNDS (default 1) rounds send the same events into the
# MongoDB sink (another database of the double) and count the copy.
# Reported: events/s and the daemon's CPU (user + system, all threads,
# from /proc) per event, beside the CPU per event of the PostgreSQL path
# as recorded in docs/BENCHMARKS.md by bench/e2e.sh (W1, W2).  These
# figures measure our side only: the double is not a MongoDB server, and
# its own CPU is reported apart.  Results replace the bench-mongo section
# of docs/BENCHMARKS.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"
EVENTS=${EVENTS:-1000000}
ROUNDS=${ROUNDS:-3}
DOC=${BENCH_DOC:-$ROOT/docs/BENCHMARKS.md}
BIN=${TRIBUTARY:-$ROOT/consumer/build/tributary}
TOOLS=$ROOT/consumer/build/tools
MONGO=$ROOT/test/mongo/build
CLK_TCK=$(getconf CLK_TCK)

MOCK_PID= DOUBLE_PID=
cleanup() {
    [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null
    [ -n "$DOUBLE_PID" ] && kill "$DOUBLE_PID" 2>/dev/null
    pgc_cleanup
}
trap cleanup EXIT
log() { echo "[bench-mongo $(date +%T)] $*" >&2; }
now() { date +%s.%N; }
proc_cpu() { awk -v t="$CLK_TCK" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat" 2>/dev/null || echo 0; }
proc_kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# optime REPLY-LINE: a reply's operationTime as "T.I"
optime() { python3 -c 'import json,sys; t=json.loads(sys.stdin.read())["operationTime"]["$timestamp"]; print("%d.%d" % (t["t"], t["i"]))'; }

make -s -C "$ROOT/consumer" build >/dev/null
make -s -C "$ROOT/consumer" "$TOOLS/kafka_mock_server" >/dev/null
make -s -C "$ROOT/test/mongo" >/dev/null
pgc_start								# the pipeline lock (lock_dsn)
WORK=$PGC_DIR

# the oplog keeps the loaded events and every sink round's writes (one
# oplog, as on a server: a stream that falls off it fails with 136)
"$MONGO/mongo_double" --port-file "$WORK/mongo.port" \
    --oplog-size $((EVENTS * (2 + ${SINK_ROUNDS:-1}) + 100000)) \
    2>"$WORK/mongo.log" &
DOUBLE_PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/mongo.port" ] && break; sleep 0.1; done
URI="mongodb://127.0.0.1:$(cat "$WORK/mongo.port")/?replicaSet=rs0"

log "loading $EVENTS change events into the test double"
START=$(echo 'bench {"ping": 1}' | "$MONGO/mongo_drive" "$URI" | optime)
python3 - "$EVENTS" <<'PY' | "$MONGO/mongo_drive" "$URI" | tail -1 >"$WORK/last.reply"
import json, sys
n = int(sys.argv[1])
for a in range(0, n, 1000):
    docs = [{"_id": i, "name": "name%d" % i, "email": "user%d@example.com" % i,
             "amount": i * 1.5, "active": i % 2 == 0, "meta": {"k": i}}
            for i in range(a + 1, min(a + 1000, n) + 1)]
    print("bench " + json.dumps({"insert": "events", "documents": docs, "ordered": True}))
PY
END=$(optime <"$WORK/last.reply")
END_NUM=$(python3 -c 'import sys; t, i = sys.argv[1].split("."); print((int(t) << 32) | int(i))' "$END")
log "loaded: cluster times after $START up to $END"

"$TOOLS/kafka_mock_server" 1 >"$WORK/mock.out" 2>/dev/null &
MOCK_PID=$!
for _ in $(seq 1 50); do [ -s "$WORK/mock.out" ] && break; sleep 0.1; done
BOOT=$(head -1 "$WORK/mock.out")

# covered CKPT: does the checkpoint file cover the last event?
covered() {
    python3 - "$1" "$END_NUM" <<'PY'
import json, sys
try:
    c = json.load(open(sys.argv[1]))
    hi, lo = c["commit_lsn"].split("/")
    sys.exit(0 if (int(hi, 16) << 32 | int(lo, 16)) >= int(sys.argv[2]) else 1)
except Exception:
    sys.exit(1)
PY
}

# sink_yaml KIND R: the sink of a round: kafka, or mongodb (into database
# copyR of the same double).
sink_yaml() {
    if [ "$1" = kafka ]; then
        printf '  k:\n    type: kafka\n    bootstrap_servers: "%s"\n    topic_prefix: m%s\n' "$BOOT" "$2"
    else
        printf '  copy:\n    type: mongodb\n    uri: "%s"\n    database: copy%s\n    collection: "${table}"\n' "$URI" "$2"
    fi
}

# run_round R [KIND]: prints "seconds cpu_s peak_rss_kib double_cpu_s"
run_round() {
    local r=$1 kind=${2:-kafka} cfg=$WORK/m$1.yaml t0 t1 pid cpu hwm d0 d1
    cat >"$cfg" <<EOF
pipeline: m$r
sources:
  bench:
    type: mongodb
    uri: "$URI"
    database: bench
    start_at_operation_time: "$START"
    full_document: default
    lock_dsn: "host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=postgres"
sinks:
$(sink_yaml "$kind" "$r")
checkpoint:
  store: file
  path: $WORK/m$r.ckpt
http:
  enabled: false
log:
  level: warn
EOF
    d0=$(proc_cpu "$DOUBLE_PID")
    t0=$(now)
    "$BIN" run -c "$cfg" 2>"$WORK/m$r.log" &
    pid=$!
    until covered "$WORK/m$r.ckpt"; do
        kill -0 "$pid" 2>/dev/null || { cat "$WORK/m$r.log" >&2; exit 1; }
        sleep 0.05
    done
    t1=$(now)
    cpu=$(proc_cpu "$pid"); hwm=$(proc_kib "$pid" VmHWM); d1=$(proc_cpu "$DOUBLE_PID")
    kill -TERM "$pid"; wait "$pid" || true
    echo "$(echo "$t1 - $t0" | bc) $cpu $hwm $(echo "$d1 - $d0" | bc)"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
secs=() cpus=() rss=() dcpu=()
for r in $(seq 1 "$ROUNDS"); do
    read -r s c h d < <(run_round "$r")
    secs+=("$s"); cpus+=("$c"); rss+=("$h"); dcpu+=("$d")
    log "round $r: $s s, daemon CPU $c s, peak RSS $h KiB, the double's CPU $d s"
done
# The MongoDB sink: the same events, source and sink in one daemon, into
# another database of the double (SINK_ROUNDS rounds, default 1).
ssecs=() scpus=() sdcpu=()
for r in $(seq $((ROUNDS + 1)) $((ROUNDS + ${SINK_ROUNDS:-1}))); do
    read -r s c h d < <(run_round "$r" mongodb)
    n=$(echo "copy$r {\"count\": \"events\"}" | "$MONGO/mongo_drive" "$URI" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["n"])')
    [ "$n" = "$EVENTS" ] || { log "the copy holds $n documents, not $EVENTS"; exit 1; }
    ssecs+=("$s"); scpus+=("$c"); sdcpu+=("$d")
    log "sink round $r: $s s, daemon CPU $c s, the double's CPU $d s, $n documents"
done
sms=$(median "${ssecs[@]}"); smc=$(median "${scpus[@]}"); smd=$(median "${sdcpu[@]}")
srate=$(echo "$EVENTS / $sms" | bc)
sus_ev=$(echo "scale=2; $smc * 1000000 / $EVENTS" | bc)

ms=$(median "${secs[@]}"); mc=$(median "${cpus[@]}"); md=$(median "${dcpu[@]}")
rate=$(echo "$EVENTS / $ms" | bc)
us_ev=$(echo "scale=2; $mc * 1000000 / $EVENTS" | bc)
maxrss=$(printf '%s\n' "${rss[@]}" | sort -g | tail -1)

# The PostgreSQL path's CPU per event, as bench/e2e.sh last recorded it.
pg_line() {
    python3 - "$DOC" "$1" "$2" <<'PY'
import re, sys
doc, name, events = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = open(doc).read()
a, b = s.find("<!-- %s:start -->" % name), s.find("<!-- %s:end -->" % name)
sec = s[a:b] if a >= 0 and b > a else ""
m = re.search(r"Consumer CPU time[^:]*median: ([0-9.]+) s", sec)
w = re.search(r"Measured ([0-9-]+ [0-9:]+ UTC)", sec)
if m:
    print("%.2f us/event (%s s for %d events, measured %s)" % (
        float(m.group(1)) * 1e6 / events, m.group(1), events, w.group(1) if w else "?"))
else:
    print("not recorded")
PY
}
pg_w1=$(pg_line bench-e2e-w1 1000000)
pg_w2=$(pg_line bench-e2e-w2 100000)

section=$(cat <<EOF
<!-- bench-mongo:start -->
## MongoDB source: change streams to Kafka (\`make bench-mongo\`)

Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/mongo.sh\`. Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, load average before the run $LOAD_BEFORE, at its end $(cut -d' ' -f1-3 /proc/loadavg). $EVENTS inserts (W1's row shape as documents, one change event each) loaded into the MongoDB wire-protocol **test double** (\`test/mongo\`), then $ROUNDS round(s) of \`tributary run\`: a mongodb source on the database from the cluster time before the load (\`start_at_operation_time\`, \`full_document: default\`) into a Kafka sink (librdkafka's mock cluster in its own process; idempotent producer, acks=all), timed until the file checkpoint covers the last event.

**These figures measure our side only**: the double is an in-memory stand-in, not a MongoDB server; a real \`mongod\` serves change events at its own rate. The double's own CPU is shown apart.

| events | median s | events/s | daemon CPU, median | daemon CPU per event | all rounds (s) |
|---:|---:|---:|---:|---:|---|
| $EVENTS | $ms | $rate | $mc s | $us_ev us | ${secs[*]} |

- Daemon peak RSS (VmHWM, highest round): $((maxrss / 1024)) MiB; the test double's CPU over a round, median: $md s.
- **The MongoDB sink**, the same events from the same source into another database of the double (\`type: mongodb\`, its defaults: batches of 1,000 in a transaction with the position), ${#ssecs[@]} round(s), every document counted in the copy after: **$srate documents/s** (median $sms s; all rounds: ${ssecs[*]}); daemon CPU $smc s ($sus_ev us per document, source and sink together); the double's CPU $smd s (it applies the writes: a real server's rate differs).
- The PostgreSQL path's daemon CPU per event, as recorded above by \`bench/e2e.sh\` (not re-run here: it installs the extension): W1 (one transaction of 1,000,000 rows) $pg_w1; W2 (100,000 single-row transactions) $pg_w2. A MongoDB change event outside a transaction is a transaction of its own, so W2 is the closer shape.
<!-- bench-mongo:end -->
EOF
)
python3 "$ROOT/bench/lib/doc_section.py" "$DOC" bench-mongo <<<"$section"
echo "$section"
