# mysql_snapshot_lib.sh: helpers of the MySQL snapshot and multi-source
# scripts (51, 56-59, 85, 90; 80 uses count_from),
# sourced after lib.sh (which sources mariadb.sh).
# shellcheck shell=bash

# mysql_snapshot_servers: the head the MariaDB snapshot scripts share:
# the consumer and tools/mysql_cat ($CAT, the binlog witness) built,
# PostgreSQL (it holds the pipeline lock, lock_dsn) and MariaDB started.
mysql_snapshot_servers() {
    build_consumer
    build_tool mysql_cat
    CAT=$TOOL
    pgc_start
    mdb_start
}

# mysql_snapshot_pipeline NAME SERVER_ID WORKERS CHUNK_ROWS [TABLES]:
# $WORK/p.yaml, pipeline NAME: the MariaDB source `db` (root, heartbeat
# every 200 ms, WORKERS snapshot workers, chunks of CHUNK_ROWS rows,
# snapshot_tables [TABLES] when given, the pipeline lock in PostgreSQL)
# into the file sink $WORK/out.jsonl, checkpoint $WORK/checkpoint.json.
mysql_snapshot_pipeline() {
    {
        printf 'pipeline: %s\nsources:\n' "$1"
        mysql_yaml "$2" "" db
        printf '    heartbeat_ms: 200\n    snapshot_workers: %s\n    snapshot_chunk_rows: %s\n' \
            "$3" "$4"
        if [ -n "${5:-}" ]; then printf '    snapshot_tables: [%s]\n' "$5"; fi
        printf '    lock_dsn: "%s"\n' "$(pg_dsn)"
        archive_yaml "$WORK/out.jsonl" "$WORK/checkpoint.json"
    } >"$WORK/p.yaml"
}

# acked TABLE: rows of TABLE the checkpoint $WORK/checkpoint.json says
# every sink acknowledged.
acked() {
    jq -r --arg t "$1" '.position.snapshot.tables[]? | select(.table == $t) | .rows' \
        "$WORK/checkpoint.json" 2>/dev/null || echo 0
}

# wait_acked TABLE: up to 60 s until the checkpoint holds a row of TABLE;
# $n is then how many.
wait_acked() {
    local i
    for i in $(seq 1 1200); do
        n=$(acked "$1"); [ "${n:-0}" -gt 0 ] && return 0
        sleep 0.05
    done
}

# count_from OUT: the "N passed, N failed" line of a comparison, added to
# the totals (a comparison that did not finish is one failure).
count_from() {
    local line
    line=$(tail -n 1 "$1")
    if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
    else
        fail "the comparison finished" "$line"
    fi
}

# snapshot_check OUT LOG SERVER_ID SERVER_ROWS [--resumed]: the binlog
# from the first snapshot position LOG names, decoded by mysql_cat ($CAT)
# as the witness (with the schema history file $WITNESS_HISTORY when set),
# and mysql_snapshot_check.py's checks of OUT against it and the server's
# rows, counted.
snapshot_check() {
    local out=$1 log=$2 sid=$3 rows=$4 sfile spos
    shift 4
    read -r sfile spos < <(sed -nE 's/.*consistent snapshot at binlog ([^:]+):([0-9]+) .*/\1 \2/p' \
        "$log" | head -1)
    "$CAT" --port "$MDB_PORT" --server-id "$sid" --file "$sfile" --pos "$spos" --stop-at-end \
        ${WITNESS_HISTORY:+--schema-history "$WITNESS_HISTORY"} >"$out.witness" 2>"$out.witness.log"
    python3 "$ROOT/consumer/test/e2e/mysql_snapshot_check.py" "$out" "$out.witness" "$rows" "$@" \
        | tee "$out.cmp" || true
    count_from "$out.cmp"
}

# pg_witness CHANGES IDS: the changes of the PostgreSQL witness slot
# `witness` (peeked, not consumed) as "postgresql commit table key op"
# lines, and their ids COMMIT_LSN:SEQ (Kafka's id header).
pg_witness() {
    local q="FROM (SELECT data::json AS d FROM pg_logical_slot_peek_changes('witness', NULL, NULL,
          'include-transaction', 'off')) x
        WHERE d->>'kind' IN ('insert','update','delete') AND d->>'schema' = 'public'"
    pgc_psql -d postgres -At -c "SELECT d->>'commit_lsn', d->>'seq', d->>'table',
            coalesce(d->'new'->>'id', d->'old'->>'id'), d->>'kind' $q" |
        awk -F'|' '{ split($1, l, "/"); ops["insert"]="c"; ops["update"]="u"; ops["delete"]="d";
                     printf "postgresql %.0f %s %s %s\n", strtonum("0x" l[1]) * 4294967296 + strtonum("0x" l[2]), $3, $4, ops[$5] }' \
        >"$1"
    pgc_psql -d postgres -At -c "SELECT (d->>'commit_lsn') || ':' || (d->>'seq') $q" >"$2"
}

# my_witness FILE POS SERVER_ID CHANGES IDS: the binlog from FILE:POS to
# its end, decoded by mysql_cat ($CAT), as "mysql commit table key op"
# lines, and their ids in the LSN form (Kafka's id header).
my_witness() {
    "$CAT" --port "$MDB_PORT" --server-id "$3" --file "$1" --pos "$2" --stop-at-end \
        >"$4.jsonl" 2>"$4.log"
    jq -r 'select(.kind == "event") | "mysql \(.commit_lsn) \(.table) \(.key.id) \(.op)"' \
        "$4.jsonl" >"$4"
    jq -r 'select(.kind == "event") | "\(.commit_lsn) \(.seq)"' "$4.jsonl" |
        awk '{ printf "%X/%X:%s\n", int($1 / 4294967296), $1 % 4294967296, $2 }' >"$5"
}
