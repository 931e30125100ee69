# lineage_lib.sh: helpers of the lineage e2e scripts (47, 54, 76, 77),
# sourced after lib.sh and pgc_start.

# ol_fake_start: start the fake OpenLineage endpoint
# (fixtures/fake_openlineage.py): it fails while $WORK/fail exists and
# keeps what it accepted in $WORK/received.jsonl.  Sets OLPORT.
ol_fake_start() {
    python3 "$(dirname "${BASH_SOURCE[0]}")/fixtures/fake_openlineage.py" \
        "$WORK/fail" "$WORK/received.jsonl" "$WORK/ol.port" &
    FAKE_PID=$!
    E2E_PIDS+=" FAKE_PID"
    for _ in $(seq 1 50); do [ -s "$WORK/ol.port" ] && break; sleep 0.1; done
    OLPORT=$(cat "$WORK/ol.port")
}

# events_of: every event of every run (oldest run first), as
# "runId eventType eventTime", one per line.
events_of() {
    q postgres "SELECT e->'run'->>'runId' || ' ' || (e->>'eventType') || ' ' || (e->>'eventTime')
                  FROM tributary.lineage_runs AS r
                 CROSS JOIN LATERAL tributary.openlineage_events(r.run_id) WITH ORDINALITY AS x(e, n)
                 ORDER BY r.started_at, x.n"
}

# lines_of FILE: the same from a JSON Lines file of events, in its order.
lines_of() {
    python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l); print(e["run"]["runId"], e["eventType"], e["eventTime"])' "$1"
}

count() { [ -f "$1" ] && wc -l < "$1" || echo 0; }

# wait_until SQL [SECONDS]: until SQL returns t (20 s).
wait_until() {
    for _ in $(seq 1 $((${2:-20} * 10))); do [ "$(q postgres "$1")" = t ] && return 0; sleep 0.1; done
    return 1
}

# job_edges JOB: every current edge of the job ("job:ns/name"), one line
# each ("kind from -> to rule type/subtype[ masked]"), sorted.
job_edges() {
    q postgres "SELECT kind || ' ' || from_asset || ' -> ' || to_asset || ' ' || coalesce(rule, '-')
                       || ' ' || transformation_type || '/' || transformation_subtype
                       || CASE WHEN masking THEN ' masked' ELSE '' END
                  FROM tributary.lineage_edge_list WHERE job = '$1' AND current" | LC_ALL=C sort
}
