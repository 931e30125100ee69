# schema_lib.sh: helpers of the schema e2e scripts (49_schema_migrate, 55_schema_quarantine) (sourced after
# lib.sh; not executable, so test/run.sh does not run it).  They expect
# SUBJECT (the table's subject) and WORK.

# orders_start COLUMNS SLOT: build, start a cluster with the extension,
# public.orders (id int PRIMARY KEY, COLUMNS), the slots witness and SLOT,
# and the mock Kafka cluster; SUBJECT is the table's subject.
orders_start() {
    build_consumer
    pgc_start
    pgc_psql -d postgres -c "CREATE EXTENSION tributary" \
        -c "CREATE TABLE public.orders (id int PRIMARY KEY, $1)" \
        -c "SELECT 'w' FROM pg_create_logical_replication_slot('witness', 'tributary')" \
        -c "SELECT 's' FROM pg_create_logical_replication_slot('$2', 'tributary')" >/dev/null
    SUBJECT=main.public.orders
    mock_start 1
}

# writer: one row per transaction into public.orders, about 20 a second,
# naming only the key so that it survives every ALTER, until $WORK/stop.
writer() {
    local n=1
    while [ ! -e "$WORK/stop" ]; do
        pgc_psql -d postgres -c "INSERT INTO public.orders (id) VALUES ($n)" >/dev/null
        n=$((n + 1))
        sleep 0.05
    done
}

# versions: how many versions $SUBJECT has.
versions() { q postgres "SELECT count(*) FROM tributary.schema_versions WHERE subject = '$SUBJECT'"; }

# wait_version N [SECONDS]: until $SUBJECT has N versions (20 s).
wait_version() {
    for _ in $(seq 1 $((${2:-20} * 10))); do [ "$(versions)" -ge "$1" ] && return 0; sleep 0.1; done
    return 1
}

# wait_exit: EXIT_RC = the daemon's exit status once it stops by itself
# (20 s).  Not in a subshell: only the shell that started it can wait.
wait_exit() {
    EXIT_RC=0
    for _ in $(seq 1 200); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
    wait "$RUN_PID" || EXIT_RC=$?
    RUN_PID=
}

# kafka_sink_yaml PREFIX: a `k` member of sinks: writing to the mock
# cluster ($BOOT), transactional, with the schema headers on.
kafka_sink_yaml() {
    printf '  k:\n    type: kafka\n    bootstrap_servers: "%s"\n    topic_prefix: %s\n' "$BOOT" "$1"
    printf '    transactional: true\n    schema_headers: true\n'
}

# migration_yaml STEPS: the schemas section with a migration of $SUBJECT
# pinned to version 1 with STEPS (YAML flow maps, one a line, indented by
# the caller), then the catalog checkpoint and no HTTP listener.
migration_yaml() {
    printf 'schemas:\n  enabled: true\n  migrations:\n    - subject: %s\n' "$SUBJECT"
    printf '      target: 1\n      steps:\n%s\n' "$1"
    printf 'checkpoint:\n  store: catalog\nhttp:\n  enabled: false\n'
}
