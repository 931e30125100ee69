# consumer/test/e2e/lib.sh: helpers shared by the end-to-end scripts,
# sourced after scripts/lib/pgcluster.sh.  Expects ROOT, WORK and
# the counters `passed` and `failed` to be set by the script.

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
    if [ "$2" = "$3" ]; then echo "ok - $1"; passed=$((passed + 1))
    else echo "not ok - $1: expected [$2], got [$3]"; failed=$((failed + 1)); fi
}

# build_tool [NAME]: TOOL=the path of consumer/tools/NAME.c (default
# pgsource_cat) as the Makefile built it in TRIB_BUILD_DIR (build/, or
# build/asan/ under check-asan, with the same sanitizers as the daemon).
build_tool() {
    local name=${1:-pgsource_cat} dir=${TRIB_BUILD_DIR:-$ROOT/consumer/build}
    TOOL=$dir/tools/$name
    if [ ! -x "$TOOL" ]; then
        make -s -C "$ROOT/consumer" "$TOOL" BUILD="$dir" >&2 || {
            echo "e2e: could not build $TOOL" >&2; exit 1; }
    fi
}

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
        [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

# The pipeline scripts (10, 11) run `tributary run` through their own
# start() function, which sets RUN_PID.

# kill_while_writing: while $WRITER_PID runs, kill -9 the consumer at
# random points (0.2 to 1 s apart) and start it again; sets KILLS.
kill_while_writing() {
    KILLS=0
    while kill -0 "$WRITER_PID" 2>/dev/null; do
        sleep "0.$(( RANDOM % 9 + 2 ))"
        kill -9 "$RUN_PID" 2>/dev/null && KILLS=$((KILLS + 1))
        wait "$RUN_PID" 2>/dev/null || true
        start
    done
    wait "$WRITER_PID" || true
    WRITER_PID=
}

# slot_caught_up SLOT: wait up to 30 s for SLOT to be confirmed at the
# current end of WAL; prints t or f.
slot_caught_up() {
    local end c=f
    end=$(pgc_psql -d postgres -Atc "SELECT pg_current_wal_lsn()")
    for _ in $(seq 1 300); do
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

# stop_consumer: SIGTERM the consumer and wait; sets STOP_RC to its exit
# status.  Not in a subshell: only the shell that started it can wait.
stop_consumer() {
    STOP_RC=0
    kill -TERM "$RUN_PID"
    wait "$RUN_PID" || STOP_RC=$?
    RUN_PID=
}

# mock_start [BROKERS]: start tools/kafka_mock_server in the background;
# sets MOCK_PID, BOOT (bootstrap servers) and MOCK_CTL (its control port,
# see the tool's header for the commands).  Needs TOOLS and WORK.
mock_start() {
    "$TOOLS/kafka_mock_server" "${1:-1}" > "$WORK/mock.out" 2>"$WORK/mock.err" &
    MOCK_PID=$!
    for _ in $(seq 1 50); do [ "$(wc -l < "$WORK/mock.out")" -ge 2 ] && break; sleep 0.1; done
    BOOT=$(sed -n 1p "$WORK/mock.out")
    MOCK_CTL=$(sed -n 2p "$WORK/mock.out" | sed 's/.*://')
    [ -n "$BOOT" ] && [ -n "$MOCK_CTL" ]
}

# mock_ctl COMMAND...: send one command to the mock's control port and
# wait for its reply; fails (returns 1, reply on stderr) unless it is ok.
mock_ctl() {
    local reply
    exec 9<>"/dev/tcp/127.0.0.1/$MOCK_CTL"
    echo "$*" >&9
    read -r reply <&9 || reply="error: no reply"
    exec 9>&-
    case $reply in ok*) return 0 ;; esac
    echo "mock_ctl $*: $reply" >&2
    return 1
}

# slot_confirmed SLOT: the slot's confirmed_flush_lsn.
slot_confirmed() {
    pgc_psql -d postgres -Atc "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '$1'"
}

# mock_query COMMAND...: like mock_ctl, and prints what follows "ok ".
mock_query() {
    local reply
    exec 9<>"/dev/tcp/127.0.0.1/$MOCK_CTL"
    echo "$*" >&9
    read -r reply <&9 || reply="error: no reply"
    exec 9>&-
    case $reply in ok*) echo "${reply#ok }"; return 0 ;; esac
    echo "mock_query $*: $reply" >&2
    return 1
}

# Scripts with more than one server (24, 25).  start_server NAME starts a
# cluster and sets NAME_SOCK and NAME_PORT; cleanup_servers stops every one
# of them; on SOCK PORT ARGS... runs psql against one.
SERVER_DIRS=()
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
