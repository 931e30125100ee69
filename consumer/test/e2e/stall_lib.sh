# stall_lib.sh: helpers of the scripts where one source's server stalls
# while the pipeline's other source must flow (99, 100, 102, 103); sourced
# after lib.sh (and mysql_snapshot_lib.sh for the servers and YAML of a
# PostgreSQL + MariaDB pipeline), with the file sink writing
# $WORK/out.jsonl (archive_yaml) unless the script lists its rows with an
# ids function of its own (STALL_IDS).  Not a test itself (not executable).
# shellcheck shell=bash

# now_ms: the wall clock in ms.
now_ms() { date +%s%3N; }

# ids CONNECTOR: the rows of CONNECTOR (postgresql | mysql) in the file
# sink as TABLE:KEY, sorted, joined by " ".
ids() {
    [ -f "$WORK/out.jsonl" ] || return 0
    jq -r "select(.value.source.connector == \"$1\" and .key.id != null) | \"\(.value.source.table):\(.key.id)\"" \
        "$WORK/out.jsonl" | sort | paste -sd' '
}

# until_id SIDE ROW [SECONDS]: wait until the sink holds that row (at most
# SECONDS, 30 by default): ROW is one of the words the function named by
# STALL_IDS (ids above by default: SIDE a connector, ROW its TABLE:KEY)
# prints for SIDE.
until_id() {
    local end=$(( $(now_ms) + ${3:-30} * 1000 ))
    while [ "$(now_ms)" -lt "$end" ]; do
        [[ " $("${STALL_IDS:-ids}" "$1") " == *" $2 "* ]] && return 0
        sleep 0.1
    done
    return 1
}

# insert_wait CONNECTOR TABLE:KEY COMMAND...: run COMMAND (which writes
# that row), then wait for the row (at most 15 s); ELAPSED the ms it took.
insert_wait() {
    local t0
    t0=$(now_ms)
    "${@:3}"
    until_id "$1" "$2" 15 || true
    ELAPSED=$(( $(now_ms) - t0 ))
}

# expect_within NAME MS [SECONDS]: MS (a time taken) is under SECONDS
# (5 by default) times 1000.
expect_within() {
    local s=${3:-5}
    if [[ $2 =~ ^[0-9]+$ ]] && (( $2 < s * 1000 )); then
        pass "$1 within $s s (took $2 ms)"
    else
        fail "$1 within $s s" "expected under $(( s * 1000 )) ms, got [$2]"
    fi
}

# stop_while_frozen PID WHAT [SECONDS]: SIGTERM the consumer while the
# server process PID is frozen (SIGSTOP), then thaw it (SIGCONT); checks
# that the consumer exits 0 ("SIGTERM WHAT exits 0") within SECONDS (5 by
# default).
stop_while_frozen() {
    local t0 took
    t0=$(now_ms)
    stop_consumer
    took=$(( $(now_ms) - t0 ))
    kill -CONT "$1"
    expect_eq "SIGTERM $2 exits 0" 0 "$STOP_RC"
    expect_within "..." "$took" "${3:-5}"
}

# multi_source_servers: the two servers of a PostgreSQL + MariaDB pipeline
# (mysql_snapshot_servers), PostgreSQL's public.items, MariaDB's database
# shop with the tables whose CREATE statements come on stdin, and the
# binlog position to start from (binlog_now).
multi_source_servers() {
    mysql_snapshot_servers
    pgc_psql -d postgres -q -c "CREATE TABLE public.items (id int PRIMARY KEY, v text)"
    { echo "CREATE DATABASE shop;"; cat; } | mdb_sql
    binlog_now
}

# multi_source_yaml PIPELINE SERVER_ID [PG_KEYS]: the start of such a
# pipeline's config: its name, the PostgreSQL source pgdb (slot PIPELINE,
# no snapshot, then the lines PG_KEYS) and the MariaDB source (mysql_yaml
# SERVER_ID, from the binlog position now) with a 200 ms heartbeat and a
# quick reconnect.  The script adds its own keys to the MariaDB source
# after it.
multi_source_yaml() {
    cat <<YAML
pipeline: $1
sources:
  pgdb:
    type: postgres
    dsn: "$(pg_dsn)"
    slot: $1
    snapshot: never
    status_interval_ms: 200${3:+
$3}
$(mysql_yaml "$2" start)
    heartbeat_ms: 200
    reconnect_backoff_ms: {initial: 100, max: 500}
YAML
}
