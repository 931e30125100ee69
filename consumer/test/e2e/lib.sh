# consumer/test/e2e/lib.sh: the harness every end-to-end script uses.
#
# A script starts with
#
#     set -euo pipefail
#     # shellcheck source=lib.sh
#     source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#     e2e_init
#
# (or e2e_setup: e2e_init, build_consumer, pgc_start, for the daemon and
# one PostgreSQL cluster; mongo_init in mongo_lib.sh for MongoDB) and ends
# with `e2e_finish`, which fails the script when one of its daemons tried
# the default HTTP port 127.0.0.1:8080 (expect_no_default_port), prints the
# `N passed, N failed` line test/run.sh counts and sets the exit status.  Sourcing sets ROOT (the top
# of the repository), BIN (the daemon: $TRIBUTARY, or build/tributary),
# TOOLS (the built tools/: $TRIB_TOOLS, or build/tools) and sources
# scripts/lib/pgcluster.sh and scripts/lib/mariadb.sh.  e2e_init makes
# WORK (a temp dir, kept when KEEP_WORK is set) and an EXIT trap that
# kills every process a script started (the pids in the variables named
# in E2E_PIDS), stops every cluster and MariaDB server (mdb_start) and
# removes WORK; a script that failed has its logs kept first
# (e2e_keep_logs: E2E_KEEP_DIR, default /tmp/tributary-e2e-kept).  While
# a script runs, 127.0.0.1:8080 is held (e2e_guard_default_port): a daemon
# needs `http: {enabled: false}` or `listen: "127.0.0.1:0"`.
#
# What the scripts share, by concern:
#   checks         expect_eq, expect_match, expect_absent, expect_grep,
#                  expect_no_grep, expect_no_sanitizer, expect_ids_once
#   builds         build_consumer, build_tool
#   set-up         e2e_init, e2e_setup, catalog_init, e2e_keep_logs,
#                  e2e_guard_default_port, expect_no_default_port
#   clusters       pg_dsn, tcp_dsn, start_server, cleanup_servers, on
#   configuration  source_yaml, write_pipeline
#   the daemon     start_consumer, stop_consumer, kill_consumer,
#                  kill_while_writing, kill_loop_note, kill_loop_exits,
#                  ckpt_kill, ckpt_start, kill_while_writing_ckpt, http_port
#   the sink driver apply, stat_of, q, table_digest
#   slots          witness_ids, ids_of, slot_caught_up, slot_confirmed,
#                  wait_slot_active, wait_lines, wait_log
#   Kafka          mock_start, mock_ctl, mock_query
#   Node.js        interop_test

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
# shellcheck source=../../../scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"
# shellcheck source=../../../scripts/lib/mariadb.sh
source "$ROOT/scripts/lib/mariadb.sh"
BIN=${TRIBUTARY:-$ROOT/consumer/build/tributary}
TOOLS=${TRIB_TOOLS:-$ROOT/consumer/build/tools}
passed=0 failed=0
# The variables holding the pids the EXIT trap kills; a script that keeps
# a pid elsewhere adds the variable's name (E2E_PIDS+=" OTHER_PID").
E2E_PIDS="RUN_PID WRITER_PID MOCK_PID TOOL_PID"
RUN_PID= WRITER_PID= MOCK_PID= TOOL_PID=
SERVER_DIRS=()

# ---------------------------------------------------------------- set-up

# e2e_init: make WORK and register the cleanup; hold the default HTTP
# port (e2e_guard_default_port).
e2e_init() {
    WORK=$(mktemp -d)
    trap e2e_cleanup EXIT
    e2e_guard_default_port
}

# The default HTTP port.  A daemon whose pipeline has no `http:` section
# listens on 127.0.0.1:8080, and a second daemon doing so at the same time
# (another script: test/run.sh runs two; a second suite) fails to start:
# a flake once in fifty runs.  So while the scripts run, the port is held
# (test/e2e/default_port_guard.py: by test/run.sh for the whole suite, or
# here for a script run by hand), and every such daemon fails at once;
# e2e_finish then names the cause (expect_no_default_port), which also
# catches a daemon that did get the port (the guard skipped).  A script's
# daemon says `http: {enabled: false}`, or `listen: "127.0.0.1:0"` and
# reads its port with http_port.
DEFAULT_PORT_RE='cannot listen on 127\.0\.0\.1:8080|serving /health, /metrics and /status on [^ ]* port 8080([^0-9]|$)'

# e2e_guard_default_port: unless test/run.sh holds it already
# (E2E_DEFAULT_PORT_GUARD), hold 127.0.0.1:8080 until the script ends
# (GUARD_PID, killed by e2e_cleanup).  When something else has the port,
# say so and go on: a daemon on the default still cannot listen then.
GUARD_PID=
e2e_guard_default_port() {
    local line
    [ -z "${E2E_DEFAULT_PORT_GUARD:-}" ] || return 0
    line=$(python3 "$ROOT/consumer/test/e2e/default_port_guard.py" $$ 2>&1) || true
    case $line in
        "held "*) GUARD_PID=${line#held }; E2E_PIDS+=" GUARD_PID" ;;
        "busy: "*"; waiter "*)
            GUARD_PID=${line##*; waiter }; E2E_PIDS+=" GUARD_PID"
            echo "# note: the default HTTP port is taken; guarded from when it is free ($line)" ;;
        *) echo "# note: the default HTTP port is not guarded ($line)" ;;
    esac
    export E2E_DEFAULT_PORT_GUARD=$line
}

# default_port_logs: the files under WORK (three levels down) in which a
# daemon tried the default HTTP port (DEFAULT_PORT_RE), one per line.
default_port_logs() {
    [ -n "${WORK:-}" ] && [ -d "$WORK" ] || return 0
    find "$WORK" -maxdepth 3 -type f -size -64M -print0 2>/dev/null |
        xargs -0r grep -lIE -- "$DEFAULT_PORT_RE" 2>/dev/null || true
}

# expect_no_default_port: a failed check when a daemon of the script tried
# 127.0.0.1:8080, naming the logs and the fix; nothing counted otherwise.
E2E_PORT_CHECKED=
expect_no_default_port() {
    local found
    [ -z "$E2E_PORT_CHECKED" ] || return 0
    E2E_PORT_CHECKED=1
    found=$(default_port_logs)
    [ -z "$found" ] && return 0
    fail "no daemon on the default HTTP port 127.0.0.1:8080" \
        "a daemon had no http section (give it http: {enabled: false}, or listen: \"127.0.0.1:0\" and http_port); in: ${found//$'\n'/ }"
    printf '%s\n' "$found" | xargs -d '\n' grep -hE -- "$DEFAULT_PORT_RE" | head -3 | sed 's/^/#   /'
}

# e2e_setup: e2e_init, build the daemon (build_consumer), start a cluster
# (pgc_start).
e2e_setup() {
    e2e_init
    build_consumer
    pgc_start
}

# catalog_init [SQL...] [-- SLOT...]: in database postgres of the current
# cluster, CREATE EXTENSION tributary, then each SQL, then a logical slot
# of the tributary plugin named SLOT for each SLOT; all in one psql.
catalog_init() {
    local a=(-c "CREATE EXTENSION tributary") s
    while [ $# -gt 0 ] && [ "$1" != -- ]; do a+=(-c "$1"); shift; done
    [ $# -gt 0 ] && shift
    for s in "$@"; do
        a+=(-c "SELECT 's' FROM pg_create_logical_replication_slot('$s', 'tributary')")
    done
    pgc_psql -d postgres "${a[@]}" >/dev/null
}

# e2e_keep_logs: copy the logs of a failed script, so that a flake that
# does not come again can still be read: every *.log under WORK (the
# daemon's run.log and the like, two levels down) and each cluster's
# server.log, into E2E_KEEP_DIR (default ${TMPDIR:-/tmp}/tributary-e2e-kept)
# /SCRIPT.TIME.PID/; says where on stdout.  Once per script; nothing when
# KEEP_WORK keeps WORK anyway.
E2E_KEPT=
e2e_keep_logs() {
    local dir f d n=0
    [ -z "$E2E_KEPT" ] && [ -z "${KEEP_WORK:-}" ] && [ -n "${WORK:-}" ] || return 0
    dir=${E2E_KEEP_DIR:-${TMPDIR:-/tmp}/tributary-e2e-kept}/$(basename "$0" .sh).$(date -u +%Y%m%dT%H%M%S).$$
    E2E_KEPT=$dir
    mkdir -p "$dir" || return 0
    while IFS= read -r f; do
        cp -- "$f" "$dir/$(printf '%s' "${f#"$WORK"/}" | tr / _)" && n=$((n + 1))
    done < <(find "$WORK" -maxdepth 2 -type f -name '*.log' 2>/dev/null)
    for d in "${SERVER_DIRS[@]}" "${PGC_DIR:-}"; do
        [ -n "$d" ] && [ -f "$d/server.log" ] &&
            cp -- "$d/server.log" "$dir/server.$(basename "$d").log" && n=$((n + 1))
    done
    echo "# failed: $n log(s) kept in $dir"
}

# e2e_cleanup: kill the script's processes, stop its clusters, remove WORK
# (after e2e_keep_logs when the script failed or ended early).
e2e_cleanup() {
    local rc=$? v
    if [ "$rc" -ne 0 ]; then
        expect_no_default_port
        e2e_keep_logs
    fi
    # kill and reap, quietly: a background job that dies by a signal and
    # is left for bash to notice makes it print "line N: PID Killed ..."
    # at its next fork, after the summary line, and test/run.sh then
    # takes that message as the last line and counts the script as one test
    for v in $E2E_PIDS; do
        [ -n "${!v:-}" ] && { kill -9 "${!v}" && wait "${!v}"; } 2>/dev/null || true
        drop_mongoc_shm "${!v:-}"
    done
    cleanup_servers
    mdb_cleanup
    pgc_cleanup
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}

# e2e_finish: the summary line, after expect_no_default_port; fails when a
# check failed (after e2e_keep_logs, whose note must come before that line: test/run.sh reads
# the last one).
e2e_finish() {
    expect_no_default_port
    [ "$failed" -eq 0 ] || e2e_keep_logs
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# locked CMD...: run CMD holding the checkout's build lock.  test/run.sh
# runs several scripts at once, and two makes (or two npm ci) writing the
# same files would corrupt them; the lock is the checkout's top directory.
locked() { flock "$ROOT" "$@"; }

# build_consumer: build the daemon and the tools (build/).
build_consumer() {
    locked make -s -C "$ROOT/consumer" build >/dev/null
}

# build_tool [NAME]: TOOL=the path of consumer/tools/NAME.c (default
# pgsource_cat) as the Makefile built it in TRIB_BUILD_DIR (build/, or
# build/asan/ under check-asan, with the same sanitizers as the daemon).
build_tool() {
    local name=${1:-pgsource_cat} dir=${TRIB_BUILD_DIR:-$ROOT/consumer/build}
    TOOL=$dir/tools/$name
    if [ ! -x "$TOOL" ]; then
        locked make -s -C "$ROOT/consumer" "$TOOL" BUILD="$dir" >&2 || {
            echo "e2e: could not build $TOOL" >&2; exit 1; }
    fi
}

# ---------------------------------------------------------------- checks

# pass NAME / fail NAME WHY: count one check and print its TAP line.
pass() { echo "ok - $1"; passed=$((passed + 1)); }
fail() { echo "not ok - $1: $2"; failed=$((failed + 1)); }

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected [$2], got [$3]"; fi
}

# expect_match NAME REGEX ACTUAL: ACTUAL matches the extended REGEX.
expect_match() {
    if [[ $3 =~ $2 ]]; then pass "$1"; else fail "$1" "expected to match [$2], got [$3]"; fi
}

# expect_absent NAME TEXT FILE: FILE does not contain TEXT (a fixed
# string); on failure FILE is shown.
expect_absent() {
    if grep -qF -- "$2" "$3"; then
        fail "$1" "[$2] found in $3:"; sed 's/^/#   /' "$3"
    else pass "$1"; fi
}

# expect_grep NAME FILE PATTERN / expect_no_grep NAME FILE PATTERN: FILE
# has (has no) line matching the extended PATTERN.
expect_grep() {
    expect_eq "$1" t "$(grep -q -E -- "$3" "$2" && echo t || echo f)"
}
expect_no_grep() {
    expect_eq "$1" f "$(grep -q -E -- "$3" "$2" && echo t || echo f)"
}

# The lines of a sanitizer report (ASan, LSan, UBSan) or of glibc's heap
# checks.  A sanitizer build (make check-asan) writes them into the logs.
SANITIZER_RE='Sanitizer|runtime error|double free'

# expect_no_sanitizer NAME FILE...: no report in any FILE (a FILE that does
# not exist counts as empty); on failure the first lines are shown.
expect_no_sanitizer() {
    local name=$1 found
    shift
    found=$(cat -- "$@" 2>/dev/null | grep -E "$SANITIZER_RE" || true)
    expect_eq "$name" 0 "$(printf '%s' "$found" | grep -c . || true)"
    [ -z "$found" ] || printf '%s\n' "$found" | head -5 | sed 's/^/#   /'
}

# expect_ids_once COUNT_NAME [TWICE_NAME]: $WORK/out.ids (the sorted ids a
# tool delivered) holds every id of $WORK/witness.ids (the sorted ids of
# the witness slot) once: the same count, no id twice, the same ids.
expect_ids_once() {
    expect_eq "$1" "$(wc -l <"$WORK/witness.ids")" "$(wc -l <"$WORK/out.ids")"
    expect_eq "${2:-no change twice}" "" "$(uniq -d "$WORK/out.ids" | head -3 | tr '\n' ' ')"
    expect_eq "ids equal the witness's" "" \
        "$(comm -3 "$WORK/witness.ids" "$WORK/out.ids" | head -3 | tr '\n' ' ')"
}

# ---------------------------------------------------------------- clusters

# pg_dsn [DB] / tcp_dsn [DB]: the DSN of database DB (default postgres) of
# the current cluster, over its Unix socket / over TCP.
pg_dsn() { echo "host=$PGC_SOCK port=$PGC_PORT dbname=${1:-postgres} user=postgres"; }
tcp_dsn() { echo "host=127.0.0.1 port=$PGC_PORT user=postgres dbname=${1:-postgres}"; }

# Scripts with more than one server (24, 25).  start_server NAME starts a
# cluster and sets NAME_SOCK and NAME_PORT; cleanup_servers stops every one
# of them; on SOCK PORT ARGS... runs psql against one.
start_server() {
    pgc_start
    SERVER_DIRS+=("$PGC_DIR")
    printf -v "${1}_SOCK" '%s' "$PGC_SOCK"
    printf -v "${1}_PORT" '%s' "$PGC_PORT"
}
cleanup_servers() {
    local d
    for d in "${SERVER_DIRS[@]}"; do PGC_DIR=$d; pgc_cleanup; done
}
on() {
    local s=$1 p=$2
    shift 2
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$s" -p "$p" -U postgres "$@"
}

# ---------------------------------------------------------------- config

# source_yaml: the `sources:` block of a pipeline that streams the current
# cluster's postgres database from its slot, without a snapshot, with a
# heartbeat every 500 ms, feedback every 200 ms and quick reconnects.
source_yaml() {
    cat <<EOF
sources:
  main:
    type: postgres
    dsn: "$(pg_dsn)"
    snapshot: never
    heartbeat_interval_ms: 500
    status_interval_ms: 200
    reconnect_backoff_ms: {initial: 100, max: 1000}
EOF
}

# mysql_yaml ID [start] [NAME]: the first lines of the source NAME (shopdb),
# the MariaDB server of scripts/lib/mariadb.sh (root on loopback, port
# $MDB_PORT) read as server_id ID; with `start`, from the binlog position
# $FILE $POS (binlog_now).
mysql_yaml() {
    printf '  %s:\n    type: mysql\n    host: 127.0.0.1\n    port: %s\n    user: root\n    server_id: %s\n' \
        "${3:-shopdb}" "$MDB_PORT" "$1"
    if [ "${2:-}" = start ]; then printf '    start_file: %s\n    start_pos: %s\n' "$FILE" "$POS"; fi
}
# binlog_now: FILE and POS, the MariaDB server's binlog position now.
binlog_now() { read -r FILE POS < <(mdb_sql -N -e "SHOW MASTER STATUS" | awk '{print $1, $2}'); }

# archive_yaml FILE CKPT: the end of a pipeline file: the file sink archive
# writing FILE (not rotated), the file checkpoint CKPT, no HTTP listener.
archive_yaml() {
    printf 'sinks:\n  archive: {type: file, path: "%s", rotate_bytes: 0}\n' "$1"
    printf 'checkpoint: {store: file, path: "%s"}\nhttp: {enabled: false}\n' "$2"
}
# ckpt_yaml PATH: the end of a pipeline file: the file checkpoint PATH and
# no HTTP listener.
ckpt_yaml() { printf 'checkpoint:\n  store: file\n  path: "%s"\nhttp:\n  enabled: false\n' "$1"; }
# tail_yaml [schemas]: with `schemas`, the schemas section (this cluster's
# registry; a change that is not compatible is only warned of); then
# ckpt_yaml $WORK/p.ckpt.
tail_yaml() {
    [ "${1:-}" = schemas ] &&
        printf 'schemas:\n  enabled: true\n  dsn: "%s"\n  on_incompatible: warn\n' "$(pg_dsn)"
    ckpt_yaml "$WORK/p.ckpt"
}

# write_pipeline NAME: $WORK/p.yaml for pipeline NAME: source_yaml, then
# what stdin holds (sinks, transforms), the catalog checkpoint store and no
# HTTP listener; `tributary check` must accept it.
write_pipeline() {
    {
        echo "pipeline: $1"
        source_yaml
        cat
        printf 'checkpoint:\n  store: catalog\nhttp:\n  enabled: false\n'
    } >"$WORK/p.yaml"
    "$BIN" check -c "$WORK/p.yaml" >/dev/null
}

# ---------------------------------------------------------------- the daemon

# start_consumer [CONFIG [LOG]]: `tributary run` in the background, from
# CONFIG (default $WORK/p.yaml), appending its output to LOG (default
# $WORK/run.log); sets RUN_PID.
start_consumer() {
    "$BIN" run -c "${1:-$WORK/p.yaml}" >>"${2:-$WORK/run.log}" 2>&1 &
    RUN_PID=$!
}

# sigterm_caught PID: true when the process has a SIGTERM handler
# installed (bit 15 of SigCgt in /proc/PID/status).
sigterm_caught() {
    local m
    m=$(awk '$1 == "SigCgt:" {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
    [ -n "$m" ] && [ $(( 0x$m & 0x4000 )) != 0 ]
}

# stop_consumer: SIGTERM the consumer and wait; sets STOP_RC to its exit
# status.  Not in a subshell: only the shell that started it can wait.
# A consumer started a moment ago may not have reached main() yet (under
# ASan that takes a while), and a signal before its handler is installed
# kills it; so it waits (up to 10 s) until the handler is there.
stop_consumer() {
    local i
    STOP_RC=0
    for i in $(seq 1 100); do
        sigterm_caught "$RUN_PID" || ! kill -0 "$RUN_PID" 2>/dev/null && break
        sleep 0.1
    done
    kill -TERM "$RUN_PID"
    wait "$RUN_PID" || STOP_RC=$?
    RUN_PID=
}

# drop_mongoc_shm PID: remove the shared-memory counters segment libmongoc
# creates for every process that loads it (/dev/shm/mongoc-PID, removed at
# a clean exit only).  A kill -9 leaves it, and a later process that gets
# the same PID (pid_max is 32768 here) then prints "Falling back to malloc
# for counters" on stderr, which breaks tests that read that stream.
drop_mongoc_shm() {
    [ -n "${1:-}" ] && rm -f "/dev/shm/mongoc-$1"
    return 0
}

# wait_exit [SECONDS]: wait up to SECONDS (default 120) for the consumer
# to exit by itself; sets EXIT_RC to its exit status, or, when it still
# runs then, kills it (kill -9) and sets EXIT_RC to 124, so a script that
# expects an exit fails instead of hanging.
wait_exit() {
    local i
    for i in $(seq 1 $(( ${1:-120} * 10 ))); do
        kill -0 "$RUN_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$RUN_PID" 2>/dev/null; then
        echo "# the consumer still ran after ${1:-120} s: killed"
        kill_consumer
        EXIT_RC=124
        return 0
    fi
    EXIT_RC=0
    wait "$RUN_PID" || EXIT_RC=$?
    RUN_PID=
}

# freeze_consumer / thaw_consumer: SIGSTOP / SIGCONT the consumer, to hold
# it at a point of its work (a snapshot mid-copy, with its transaction and
# metadata locks open on the server) while a script changes the server:
# a slow consumer, made deterministic.
freeze_consumer() { kill -STOP "$RUN_PID"; }
thaw_consumer() { kill -CONT "$RUN_PID"; }

# paced_until TEST...: run the consumer at a quarter of its pace (SIGCONT
# 50 ms, SIGSTOP 150 ms) until the command TEST... succeeds, at most 240
# s; leaves it stopped (thaw_consumer or kill_consumer next).  For a window
# a fast machine would otherwise pass in less than one checkpoint save.
paced_until() {
    local i
    freeze_consumer
    for i in $(seq 1 1200); do
        "$@" && return 0
        thaw_consumer; sleep 0.05; freeze_consumer; sleep 0.15
    done
    return 1
}

# wait_copying FILE TABLE [SECONDS]: up to SECONDS (default 60) until the
# end of the sink's FILE holds a row of TABLE (its "table" member), read
# from the last 64 KiB only, so a poll stays cheap on a large file.
wait_copying() {
    local i
    for i in $(seq 1 $(( ${3:-60} * 20 ))); do
        tail -c 65536 "$1" 2>/dev/null | grep "\"table\":\"$2\"" >/dev/null && return 0
        sleep 0.05
    done
    echo "# wait_copying: no row of $2 in $1 after ${3:-60} s"
    return 1
}

# kill_consumer: kill -9 the consumer (if it still runs) and reap it;
# KILL_RC is its exit status: 137 when the kill ended it, another when it
# had ended by itself before the kill came (an error exit, a crash).
kill_consumer() {
    KILL_RC=0
    kill -9 "$RUN_PID" 2>/dev/null || true
    wait "$RUN_PID" 2>/dev/null || KILL_RC=$?
    drop_mongoc_shm "$RUN_PID"
    RUN_PID=
}

# kill_while_writing [CONFIG [LOG]]: while $WRITER_PID runs, kill -9 the
# consumer at random points (0.2 to 1 s apart) and start it again with
# start_consumer CONFIG LOG; sets KILLS (the kills that ended a running
# daemon), and writes the number of restarts so far into $WORK/restarts
# (what mongo_lib.sh writer_gate waits for).  Ends with the check of
# kill_loop_exits.
kill_while_writing() {
    local starts=0
    KILLS=0 SELF_EXITS=0
    while kill -0 "$WRITER_PID" 2>/dev/null; do
        sleep "0.$(( RANDOM % 9 + 2 ))"
        kill_consumer
        kill_loop_note
        start_consumer "$@"
        # the restarts so far, for a writer that paces itself by them
        # (mongo_lib.sh writer_gate)
        starts=$((starts + 1))
        echo "$starts" >"$WORK/restarts.new" && mv "$WORK/restarts.new" "$WORK/restarts"
    done
    wait "$WRITER_PID" || true
    WRITER_PID=
    kill_loop_exits
}

# kill_loop_note: after kill_consumer in a kill loop, count the kill
# (KILLS) or, when the daemon had ended by itself before it (KILL_RC is
# not 137), count that (SELF_EXITS) and name its status.  The restart that
# follows would otherwise hide an error exit or a crash under load.
# kill_loop_exits: the check that no daemon ended by itself.
kill_loop_note() {
    if [ "$KILL_RC" = 137 ]; then
        KILLS=$((KILLS + 1))
    else
        SELF_EXITS=$((SELF_EXITS + 1))
        echo "# the daemon had exited by itself (status $KILL_RC) before kill $((KILLS + 1))"
    fi
}
kill_loop_exits() {
    expect_eq "no daemon exited by itself between the kills" 0 "$SELF_EXITS"
}

# ckpt_kill NAME: kill_consumer, then (the daemon dead) save the newest
# records of __tributary_checkpoints as $WORK/NAME.ck.N, N counting these
# kills; ckpt_start NAME [CONFIG [LOG]]: start_consumer, noting "N PID" in
# $WORK/NAME.runs after the Nth kill (not for the first start).  What
# kafka_txn_check.py once reads.
ckpt_kill() {
    CKPT_N=$(( ${CKPT_N:-0} + 1 ))
    kill_consumer
    "$TOOLS/kafka_dump" "$BOOT" __tributary_checkpoints > "$WORK/$1.ck.$CKPT_N"
}
ckpt_start() {
    local name=$1
    shift
    start_consumer "$@"
    : >> "$WORK/$name.runs"
    [ "${CKPT_N:-0}" = 0 ] || echo "$CKPT_N $RUN_PID" >> "$WORK/$name.runs"
}

# kill_while_writing_ckpt NAME [CONFIG [LOG]]: kill_while_writing with
# ckpt_kill and ckpt_start; sets KILLS; the same check at the end.
kill_while_writing_ckpt() {
    local name=$1
    shift
    KILLS=0 SELF_EXITS=0
    while kill -0 "$WRITER_PID" 2>/dev/null; do
        sleep "0.$(( RANDOM % 9 + 2 ))"
        ckpt_kill "$name"
        kill_loop_note
        ckpt_start "$name" "$@"
    done
    wait "$WRITER_PID" || true
    WRITER_PID=
    kill_loop_exits
}

# http_port [LOG]: the port of the HTTP endpoint (/health, /metrics,
# /status) the daemon last announced in LOG (default $WORK/run.log);
# empty while it has announced none.
http_port() {
    sed -n 's/.*serving \/health, \/metrics and \/status on [0-9.]* port \([0-9]*\).*/\1/p' \
        "${1:-$WORK/run.log}" | tail -1
}

# ---------------------------------------------------------------- slots and output

# ids_of FILE: the event ids of the tool's output, one per line.
ids_of() { sed -E 's/^\{"id":"([^"]+)".*/\1/' "$1"; }

# witness_ids SLOT: the ids of every change a copy of the slot decodes.
witness_ids() {
    pgc_psql -At -c "SELECT (d->>'commit_lsn') || ':' || (d->>'seq')
        FROM (SELECT data::json AS d FROM pg_logical_slot_peek_changes('$1', NULL, NULL,
              'include-transaction', 'off')) x
        WHERE d->>'kind' IN ('insert','update','delete','truncate','message')
          AND coalesce(d->>'prefix', '') <> 'tributary.heartbeat'
          AND coalesce(d->>'schema', '') <> 'tributary'"
}

# wait_lines FILE N SECONDS: wait until FILE has N lines.
wait_lines() {
    local i
    for i in $(seq 1 $(($3 * 10))); do
        [ "$(wc -l 2>/dev/null <"$1" || echo 0)" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

# wait_log FILE TEXT SECONDS: wait until FILE has a line matching TEXT.
wait_log() {
    local i
    for i in $(seq 1 $(($3 * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

# slot_caught_up SLOT: wait up to SLOT_WAIT_S seconds (default 120; the
# scripts run two at a time, and under check-asan a million-row
# transaction takes its time) for SLOT to be confirmed at the current end
# of WAL; prints t or f.  It returns as soon as the slot is there.
slot_caught_up() {
    local end c=f deadline=$((SECONDS + ${SLOT_WAIT_S:-120}))
    end=$(pgc_psql -d postgres -Atc "SELECT pg_current_wal_lsn()")
    while [ "$SECONDS" -lt "$deadline" ]; do
        c=$(pgc_psql -d postgres -Atc "SELECT confirmed_flush_lsn >= '$end' FROM pg_replication_slots WHERE slot_name = '$1'")
        [ "$c" = t ] && break
        sleep 0.1
    done
    echo "$c"
}

# wait_slot_active SLOT: wait up to 10 s for a walsender to stream from SLOT
# (the consumer created it and started streaming).
wait_slot_active() {
    for _ in $(seq 1 100); do
        [ "$(pgc_psql -d postgres -Atc "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$1' AND active")" = 1 ] && return 0
        sleep 0.1
    done
    return 1
}

# slot_confirmed SLOT: the slot's confirmed_flush_lsn.
slot_confirmed() {
    pgc_psql -d postgres -Atc "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '$1'"
}

# ---------------------------------------------------------------- the Postgres sink's driver

# The scripts that drive the Postgres sink through tools/pgsink_apply (07,
# 29), after build_tool pgsink_apply.

# apply DB ARGS...: run the driver against database DB; prints its output.
apply() {
    local db=$1
    shift
    "$TOOL" --dsn "$(tcp_dsn "$db")" "$@"
}

# stat_of OUTPUT KEY: a value from the driver's stats line.
stat_of() { sed -nE "s/^stats .*\\b$2=([0-9]+).*/\\1/p" <<<"$1"; }

# q DB SQL: one query's rows, unaligned, in database DB.
q() { pgc_psql -d "$1" -At -c "$2"; }

# table_digest DB TABLE: "rows:md5" of a table's rows as text, in text order.
table_digest() {
    q "$1" "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM $2 t"
}

# ---------------------------------------------------------------- Node.js

# interop_test NAME FILE MIN [VAR=VALUE...]: run test/interop/FILE (a
# node:test file of official client libraries) with the variables given;
# `npm ci` first when a dependency pinned in test/interop is missing.
# Passes when its TAP counts show no failure and at least MIN passes.
interop_test() {
    local name=$1 file=$2 min=$3 dir=$ROOT/test/interop np nf
    shift 3
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        fail "node and npm are installed" "run scripts/install-deps"; return 0
    fi
    # shellcheck disable=SC2016 # $1 is bash -c's
    if ! locked bash -c 'cd "$1" && { npm ls --depth=0 >/dev/null 2>&1 ||
            { echo "# npm ci in test/interop (the pinned clients)";
              npm ci --no-audit --no-fund; }; }' _ "$dir" >"$WORK/npm.log" 2>&1; then
        fail "npm ci installs the pinned clients" "$(tail -n 20 "$WORK/npm.log")"; return 0
    fi
    grep '^# npm ci' "$WORK/npm.log" || true
    env "$@" node --test --test-reporter=tap "$dir/$file" > "$WORK/node.log" 2>&1 || true
    sed 's/^/#   /' "$WORK/node.log"
    np=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$WORK/node.log" | tail -n 1)
    nf=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$WORK/node.log" | tail -n 1)
    if [ -z "$np" ] || [ -z "$nf" ]; then
        fail "$name ran" "no TAP counts; see above"
    else
        expect_eq "$name all pass ($np)" 0 "$nf"
        expect_eq "and there are at least $min" t "$([ "$np" -ge "$min" ] && echo t || echo f)"
    fi
}

# ---------------------------------------------------------------- Kafka

# mock_start [BROKERS]: start tools/kafka_mock_server in the background;
# sets MOCK_PID, BOOT (bootstrap servers) and MOCK_CTL (its control port,
# see the tool's header for the commands).
mock_start() {
    "$TOOLS/kafka_mock_server" "${1:-1}" > "$WORK/mock.out" 2>"$WORK/mock.err" &
    MOCK_PID=$!
    for _ in $(seq 1 50); do [ -f "$WORK/mock.out" ] && [ "$(wc -l < "$WORK/mock.out")" -ge 2 ] && break; sleep 0.1; done
    BOOT=$(sed -n 1p "$WORK/mock.out")
    MOCK_CTL=$(sed -n 2p "$WORK/mock.out" | sed 's/.*://')
    [ -n "$BOOT" ] && [ -n "$MOCK_CTL" ]
}

# mock_query COMMAND...: send one command to the mock's control port, wait
# for its reply and print what follows "ok "; fails (returns 1, reply on
# stderr) unless the reply is ok.
mock_query() {
    local reply
    exec 9<>"/dev/tcp/127.0.0.1/$MOCK_CTL"
    echo "$*" >&9
    read -r reply <&9 || reply="error: no reply"
    exec 9>&-
    case $reply in ok*) echo "${reply#ok }"; return 0 ;; esac
    echo "mock $*: $reply" >&2
    return 1
}

# mock_ctl COMMAND...: mock_query without the output.
mock_ctl() { mock_query "$@" >/dev/null; }

# wait_dump TOPIC FILE N: tools/kafka_dump TOPIC (from the mock at $BOOT)
# into FILE until it has N lines, up to 20 s.
wait_dump() {
    for _ in $(seq 1 100); do
        "$TOOLS/kafka_dump" "$BOOT" "$1" > "$2" 2>/dev/null || true
        [ "$(wc -l < "$2")" -ge "$3" ] && break
        sleep 0.2
    done
}
