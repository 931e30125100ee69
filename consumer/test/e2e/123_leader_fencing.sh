#!/usr/bin/env bash
# 123_leader_fencing.sh: two consumers of one pipeline (the usual active
# and standby) never both write, when the active one loses its lock
# without dying.  Each phase checks the file sink, which shows both a
# duplicate and a line lost to two writers of one file.
#
# PostgreSQL source (fenced by its slot), file sink, catalog checkpoint:
#   - readiness: the standby answers /health/ready 503, the leader 200;
#   - a freeze: the leader is SIGSTOPped while rows are committed, its
#     lock session is ended (pg_terminate_backend), the standby takes the
#     lock over; then the old leader is SIGCONTed with a socket full of
#     changes: it must notice the loss before any of them reaches its
#     sink (it used to write them, and the new leader wrote them again),
#     start again only after the 2.5 s yield, and wait as a standby;
#   - under a steady writer, the leader's lock session is ended six times
#     at random moments: the other takes over each time without a gap or
#     a repeat (the new leader used to open the sinks at once, the slot
#     being a fence, while the old one still flushed or closed a batch
#     into the same file: lines both repeated and lost; so did a consumer
#     built again after losing the lock, finding it free just after the
#     other had lost it in turn).
# MySQL source (its own GET_LOCK, not fenced): the same freeze, with KILL
# of the lock connection.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
E2E_PIDS+=" A_PID B_PID"
A_PID= B_PID=

build_consumer
pgc_start
mdb_start
chmod 777 "$WORK"
catalog_init "CREATE TABLE t (id int PRIMARY KEY, v text)" -- tributary_ha123
mdb_sql -e "CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(40))"
binlog_now

{
    echo "pipeline: ha123"
    source_yaml
    printf 'sinks:\n  out: {type: file, path: "%s", rotate_bytes: 0}\n' "$WORK/pg.jsonl"
    printf 'checkpoint: {store: catalog}\nhttp: {listen: "127.0.0.1:0"}\n'
} >"$WORK/pg.yaml"
cat >"$WORK/my.yaml" <<YAML
pipeline: my123
sources:
$(mysql_yaml 12323 start)
    snapshot: never
    heartbeat_ms: 200
    reconnect_backoff_ms: {initial: 100, max: 1000}
$(archive_yaml "$WORK/my.jsonl" "$WORK/my.checkpoint.json")
YAML

# start NAME KIND: a consumer of KIND's pipeline (pg, my) logging to
# KIND.NAME.log; its pid in NAME_PID (A_PID, B_PID).
start() {
    "$BIN" run -c "$WORK/$2.yaml" >>"$WORK/$2.$1.log" 2>&1 &
    printf -v "${1^}_PID" '%s' "$!"
}
stop() {
    local v="${1^}_PID"
    kill -TERM "${!v}" 2>/dev/null || true
    wait "${!v}" 2>/dev/null || true
    printf -v "$v" '%s' ""
}
ready() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$(http_port "$1")/health/ready"; }
# pg_load FROM TO / my_load FROM TO: one committed insert per row, a few ms apart.
pg_load() {
    pgc_psql -q >/dev/null <<SQL
DO \$\$ BEGIN
  FOR i IN $1..$2 LOOP INSERT INTO t VALUES (i, 'v'); COMMIT; PERFORM pg_sleep(0.002); END LOOP;
END \$\$;
SQL
}
my_load() {
    mdb_sql shop --delimiter='//' -e "BEGIN NOT ATOMIC
        FOR i IN $1 .. $2 DO INSERT INTO t VALUES (i, 'v'); DO SLEEP(0.002); END FOR; END //"
}
pg_unlock() {
    pgc_psql -At -c "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted" >/dev/null
}
my_unlock() {
    local id
    id=$(mdb_sql -N -e "SELECT IS_USED_LOCK('tributary.pipeline:my123')")
    [ "$id" = NULL ] || mdb_sql -e "KILL $id" 2>/dev/null || true
}
# yields KIND: after its loss the thawed leader a starts again only after
# the 2.5 s yield (LEADER_YIELD_MS: the standby tries first) and then
# waits as a standby; "t t" when both are in its log.
yields() {
    wait_log "$WORK/$1.a.log" "waiting as standby" 15 || true
    echo "$(grep -q 'starting it again in 2500 ms' "$WORK/$1.a.log" && echo t || echo f)" \
        "$(grep -q 'waiting as standby' "$WORK/$1.a.log" && echo t || echo f)"
}
# once FILE N: "N N 0": lines, distinct ids (1..N) and repeated ids.
once() {
    local ids
    ids=$(sed -nE 's/.*"key":\{"id":([0-9]+)\}.*/\1/p' "$1")
    echo "$(wc -l <"$1") $(sort -un <<<"$ids" | awk -v n="$2" '$1 >= 1 && $1 <= n' | wc -l) $(sort -n <<<"$ids" | uniq -d | wc -l)"
}
# freeze KIND N: rows 1..N/2 streamed by a; a frozen, rows N/2+1..N
# committed, a's lock ended, b takes over; a thawed 5 s later; then wait
# until the sink has N lines.
freeze() {
    local half=$(($2 / 2))
    "$1_load" 1 "$half"
    wait_lines "$WORK/$1.jsonl" "$half" 30 || true
    kill -STOP "$A_PID"
    "$1_load" $((half + 1)) "$2"
    "$1_unlock"
    wait_log "$WORK/$1.b.log" "is active" 15 || true
    sleep 5
    kill -CONT "$A_PID"
    wait_log "$WORK/$1.a.log" "lost the pipeline lock" 15 || true
    wait_lines "$WORK/$1.jsonl" "$2" 30 || true
    sleep 1
}

# ---- PostgreSQL: readiness, the freeze -------------------------------------
start a pg
wait_slot_active tributary_ha123
start b pg
wait_log "$WORK/pg.b.log" "waiting as standby" 10 || true
wait_log "$WORK/pg.b.log" "serving /health" 10 || true
expect_eq "readiness: the leader is ready, the standby is not" "200 503" \
    "$(ready "$WORK/pg.a.log") $(ready "$WORK/pg.b.log")"
freeze pg 400
expect_grep "the thawed leader notices the loss" "$WORK/pg.a.log" \
    "lost the pipeline lock; stopping without writing more"
expect_eq "the thawed leader yields 2.5 s, then waits as a standby" "t t" "$(yields pg)"
expect_eq "the freeze: every row once in the file sink (lines, ids, repeats)" "400 400 0" \
    "$(once "$WORK/pg.jsonl" 400)"
expect_eq "readiness after the takeover: the new leader is ready" "200" "$(ready "$WORK/pg.b.log")"

# ---- PostgreSQL: the lock ended six times under a writer -------------------
pg_load 401 6000 &
WRITER_PID=$!
for _ in 1 2 3 4 5 6; do sleep "2.$((RANDOM % 10))"; pg_unlock; done
wait "$WRITER_PID"; WRITER_PID=
wait_lines "$WORK/pg.jsonl" 6000 60 || true
sleep 1
expect_eq "six takeovers under a writer: every row once (lines, ids, repeats)" "6000 6000 0" \
    "$(once "$WORK/pg.jsonl" 6000)"
stop a; stop b

# ---- MySQL (GET_LOCK): the freeze ------------------------------------------
start a my
wait_log "$WORK/my.a.log" "is active" 10 || true
start b my
wait_log "$WORK/my.b.log" "waiting as standby" 10 || true
freeze my 400
expect_grep "MySQL: the thawed leader notices the loss" "$WORK/my.a.log" \
    "lost the pipeline lock; stopping without writing more"
expect_eq "MySQL: the thawed leader yields 2.5 s, then waits as a standby" "t t" "$(yields my)"
expect_eq "MySQL freeze: every row once in the file sink (lines, ids, repeats)" "400 400 0" \
    "$(once "$WORK/my.jsonl" 400)"
stop a; stop b

expect_no_sanitizer "no sanitizer report from the consumers" "$WORK"/*.log
e2e_finish
