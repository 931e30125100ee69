#!/usr/bin/env bash
# 87_reload_sources.sh: a reload that adds a source to a pipeline of
# several sources, then one that removes a source (issue 16, item 1;
# docs/OPERATIONS.md "Reloading the configuration": `sources`, a member
# added or removed: applied).
#
# Three databases of one cluster, each with a table public.items written
# by its own writer (one row per transaction, ids 1, 2, ...) and a slot
# for the pipeline made before any write, plus a witness slot beside it.
# The pipeline starts with the sources `one` and `two`; POST
# /api/v1/reload adds `three` (its slot was made at the start, so every
# change of db3 is due); SIGHUP then removes `two`.  Checks, by database:
# one and three: every change of the witness once in the file sink, and
# nothing else; two: no change twice, and the changes the sink has are
# exactly the first K of the writer's (nothing skipped before the removal),
# K at least what db2 had committed before the first reload.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
# shellcheck source=control_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/control_lib.sh"

build_consumer
pgc_start
for db in db1 db2 db3; do
    pgc_psql -d postgres -q -c "CREATE DATABASE $db"
    pgc_psql -d "$db" -q -c "CREATE EXTENSION tributary" \
        -c "CREATE TABLE public.items (id int PRIMARY KEY, v text)" \
        -c "SELECT 's' FROM pg_create_logical_replication_slot('r87_$db', 'tributary')" \
        -c "SELECT 'w' FROM pg_create_logical_replication_slot('w87_$db', 'tributary')" >/dev/null
done

# config SOURCE...: $WORK/p.yaml with these sources (one, two, three:
# databases db1, db2, db3), written at once (a rename).
config() {
    {
        echo "pipeline: r87"
        echo "sources:"
        for s in "$@"; do
            case $s in one) db=db1 ;; two) db=db2 ;; three) db=db3 ;; esac
            cat <<EOF
  $s:
    type: postgres
    dsn: "$(pg_dsn "$db")"
    slot: r87_$db
    snapshot: never
    heartbeat_interval_ms: 500
    status_interval_ms: 200
EOF
        done
        cat <<EOF
sinks:
  archive: {type: file, path: "$WORK/out.jsonl"}
$(control_yaml "$WORK/ckpt")
EOF
    } > "$WORK/p.yaml.new"
    mv "$WORK/p.yaml.new" "$WORK/p.yaml"
}
# in_sink DB: the ids of DB's rows in the file sink, one per line, in order.
in_sink() {
    jq -r --arg db "$1" 'select(.value != null and .value.source.db == $db) | .value.after.id' \
        "$WORK/out.jsonl"
}
committed() { pgc_psql -d "$1" -Atc "SELECT count(*) FROM public.items"; }

# writers: one per database, a row per transaction every 0.05 s until
# $WORK/stop exists
for db in db1 db2 db3; do
    (
        i=0
        while [ ! -e "$WORK/stop" ]; do
            i=$((i + 1))
            pgc_psql -d "$db" -q -c "INSERT INTO public.items VALUES ($i, '$db')"
            sleep 0.05
        done
    ) &
    eval "WRITER_$db=\$!"
done

config one two
"$BIN" check -c "$WORK/p.yaml" >/dev/null
serve
wait_streaming r87 1 || fail "the pipeline streams" "not in 30 s"
sleep 2

# add the source three
before_add=$(committed db2)
config one two three
call_tok POST /api/v1/reload
expect_eq "the reload adding a source is accepted" "200 accepted" "$CODE $(jq -r .result "$WORK/body")"
wait_streaming r87 2 || fail "the pipeline streams again after adding a source" "not in 30 s"
sleep 2
expect_eq "/status lists three sources" "one three two" \
    "$(curl -s "http://127.0.0.1:$PORT/status" | jq -r '[.sources[].name] | sort | join(" ")')"

# remove the source two
config one three
kill -HUP "$RUN_PID"
wait_streaming r87 3 || fail "the pipeline streams again after removing a source" "not in 30 s"
sleep 2
touch "$WORK/stop"
wait "$WRITER_db1" "$WRITER_db2" "$WRITER_db3"
expect_eq "db1's slot caught up" t "$(slot_caught_up r87_db1)"
expect_eq "db3's slot caught up" t "$(slot_caught_up r87_db3)"
stop_consumer
expect_eq "SIGTERM exits 0" 0 "$STOP_RC"
expect_eq "the two reloads audited as accepted" 2 \
    "$(grep -c 'audit.*config reload of .* accepted' "$WORK/run.log")"

for db in db1 db3; do
    pgc_psql -d "$db" -At -c "SELECT (data::json->'new'->>'id')
        FROM pg_logical_slot_peek_changes('w87_$db', NULL, NULL) WHERE data::json->>'kind' = 'insert'" \
        > "$WORK/w.$db"
    sort -n "$WORK/w.$db" > "$WORK/w.$db.sorted"
    in_sink "$db" | sort -n > "$WORK/s.$db"
    expect_eq "$db: every change once in the sink ($(wc -l < "$WORK/w.$db.sorted") changes)" "" \
        "$(diff "$WORK/w.$db.sorted" "$WORK/s.$db" | head -3 | tr '\n' ' ')"
done
in_sink db2 > "$WORK/s.db2"
k=$(wc -l < "$WORK/s.db2")
expect_eq "db2: no change twice" "" "$(sort -n "$WORK/s.db2" | uniq -d | head -3 | tr '\n' ' ')"
expect_eq "db2: the sink has exactly its first $k changes" "" \
    "$(diff <(sort -n "$WORK/s.db2") <(seq 1 "$k") | head -3 | tr '\n' ' ')"
expect_eq "db2: everything committed before the first reload arrived ($before_add <= $k)" t \
    "$([ "$k" -ge "$before_add" ] && echo t || echo f)"
expect_eq "db2: its changes after the removal did not (K $k < $(committed db2))" t \
    "$([ "$k" -lt "$(committed db2)" ] && echo t || echo f)"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
