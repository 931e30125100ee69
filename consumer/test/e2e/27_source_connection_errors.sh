#!/usr/bin/env bash
# 27_source_connection_errors.sh: `tributary run` says why it cannot connect
# to the source database, and tells errors it should retry from those it
# should not (issue 9 #6).
#
# Before, every failed connection of the pipeline lock read "another
# consumer runs pipeline ...; waiting as standby" and was retried every
# second forever, a wrong password included.  Now:
#   - a wrong password (28P01), a role that does not exist (28000) or a
#     database that does not exist (3D000): exit 2 at once, with libpq's
#     message and the SQLSTATE, and no password in the output;
#   - a server that is not there (connection refused): the real error is
#     logged at every try, the tries back off (reconnect_backoff_ms), and
#     the pipeline starts streaming as soon as the server is up.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

RIGHT='r1ght-Pa55word' WRONG='wr0ng-Pa55word'
build_consumer
pgc_start
pgc_as sed -i "1i host all all 127.0.0.1/32 scram-sha-256" "$PGC_DIR/data/pg_hba.conf"
pgc_psql -d postgres -c "CREATE ROLE bob LOGIN REPLICATION PASSWORD '$RIGHT'" \
    -c "CREATE TABLE public.t (id int PRIMARY KEY)" -c "GRANT SELECT ON public.t TO bob" \
    -c "SELECT pg_reload_conf()" >/dev/null

write_config() { # DSN
    cat > "$WORK/p.yaml" <<EOF
pipeline: conn
sources:
  main:
    type: postgres
    dsn: "$1"
    snapshot: never
    reconnect_backoff_ms: {initial: 200, max: 800}
sinks:
  out: {type: file, path: "$WORK/out.jsonl"}
checkpoint: {store: file, path: "$WORK/ck.json"}
http: {enabled: false}
EOF
}

# refused NAME DSN SQLSTATE PATTERN: run exits 2 at once with the reason.
refused() {
    local rc=0 log="$WORK/$1.log"
    write_config "$2"
    timeout 30 "$BIN" run -c "$WORK/p.yaml" > "$log" 2>&1 || rc=$?
    sed 's/^/#   /' "$log"
    expect_eq "$1: run exits 2 without retrying" 2 "$rc"
    expect_grep "$1: the server's reason is logged" "$log" "ERROR .*$4.*\\(SQLSTATE $3\\)"
    expect_grep "$1: with what to do about it" "$log" "not retried: correct the role, password or database"
    expect_no_grep "$1: no standby story" "$log" "standby"
    expect_no_grep "$1: no password in the output" "$log" "$RIGHT|$WRONG"
}

tcp="host=127.0.0.1 port=$PGC_PORT"
refused "wrong password" "$tcp dbname=postgres user=bob password=$WRONG" 28P01 \
    'password authentication failed for user "bob"'
refused "no such role" "host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=nobody password=$WRONG" \
    28000 'role "nobody" does not exist'
refused "no such database" "$tcp dbname=nosuch user=bob password=$RIGHT" 3D000 \
    'database "nosuch" does not exist'

# --- no server yet: retried with backoff, then it starts ------------------
pgc_stop fast
write_config "$tcp dbname=postgres user=bob password=$RIGHT"
start_consumer "$WORK/p.yaml" "$WORK/down.log"
sleep 3
retries=$(grep -c "source main: cannot connect to the source database: .*Connection refused.*; trying again in" "$WORK/down.log" || true)
expect_eq "a refused connection is logged with libpq's reason, at each try (3 or more)" t \
    "$([ "$retries" -ge 3 ] && echo t || echo f)"
expect_eq "the tries back off to the maximum: 200, 400, 800, 800 ms" "200 400 800 800" \
    "$(grep -o 'trying again in [0-9]* ms' "$WORK/down.log" | head -4 | awk '{print $4}' | paste -sd' ')"
expect_no_grep "no standby story while the server is down" "$WORK/down.log" "standby"
expect_eq "still running" t "$(kill -0 "$RUN_PID" 2>/dev/null && echo t || echo f)"
pgc_as "$PGBIN/pg_ctl" -D "$PGC_DIR/data" -l "$PGC_DIR/server.log" -w -t 60 start >/dev/null
for _ in $(seq 1 100); do grep -q "pipeline conn is active" "$WORK/down.log" && break; sleep 0.1; done
expect_grep "once the server is up the pipeline becomes active" "$WORK/down.log" "pipeline conn is active"
wait_slot_active tributary_conn || true
pgc_psql -d postgres -c "INSERT INTO public.t SELECT generate_series(1, 5)" >/dev/null
wait_lines "$WORK/out.jsonl" 5 30 2>/dev/null || true
expect_eq "and streams" 5 "$(grep -c '"op":"c"' "$WORK/out.jsonl" 2>/dev/null || echo 0)"
stop_consumer
expect_eq "SIGTERM exits 0" 0 "$STOP_RC"
expect_no_grep "no password in the output" "$WORK/down.log" "$RIGHT|$WRONG"
e2e_finish
