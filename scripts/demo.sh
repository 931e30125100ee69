#!/usr/bin/env bash
# scripts/demo.sh: the main job on embedded defaults, behind `make demo`
# (which installs the extension and builds the consumer first).
#
# Design: nothing outside a temp dir is touched.  The demo starts a
# throwaway PostgreSQL 15 cluster as the unprivileged test user
# (scripts/lib/pgcluster.sh), creates the extension and a small shop schema
# with fake personal data, and runs the tributary consumer with a pipeline
# into an embedded Kafka cluster (librdkafka's in-process mock) and a JSON
# Lines file.  It then makes live changes (insert, update, delete,
# truncate), waits until their events arrive, prints them with jq, shows
# /status and /metrics, and stops the consumer with SIGTERM (drain,
# checkpoint, exit 0).  An EXIT trap stops the consumer and removes the
# cluster, whatever happens.
#
# Environment: TRIBUTARY, the consumer binary (default consumer/build/).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"

TRIBUTARY=${TRIBUTARY:-$ROOT/consumer/build/tributary}
DB=shop
END_MARKER=tributary-demo-finished
recv_pid=

# Bold headers and cyan statements on a terminal; plain text in a log.
if [ -t 1 ]; then
    BOLD=$'\033[1m' CYAN=$'\033[36m' PLAIN=$'\033[0m'
else
    BOLD='' CYAN='' PLAIN=''
fi

# section: a numbered header between the parts of the demo.
section() {
    printf '\n%s== %s ==%s\n' "$BOLD" "$1" "$PLAIN"
}

# cleanup: stop the consumer (SIGTERM drains it; SIGKILL if it has not
# exited after 5 seconds), then the cluster.
cleanup() {
    if [ -n "$recv_pid" ] && kill -0 "$recv_pid" 2>/dev/null; then
        kill -TERM "$recv_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$recv_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$recv_pid" 2>/dev/null || true
        wait "$recv_pid" 2>/dev/null || true
    fi
    pgc_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run_sql: show a statement, then run it in the demo database.
run_sql() {
    printf '  %s%s%s\n' "$CYAN" "$1" "$PLAIN"
    pgc_psql -d "$DB" -c "$1" >/dev/null
}

# wait_for_output: wait until the end marker has been decoded, or until the
# output has stopped growing for 3 seconds, at most 30 seconds in all.
wait_for_output() {
    local out=$1 size last=-1 still=0
    for _ in $(seq 1 300); do
        if grep -q "$END_MARKER" "$out" 2>/dev/null; then
            return 0
        fi
        size=$(stat -c %s "$out" 2>/dev/null || echo 0)
        if [ "$size" -gt 0 ] && [ "$size" -eq "$last" ]; then
            still=$((still + 1))
            [ "$still" -ge 30 ] && return 0
        else
            still=0
        fi
        last=$size
        if ! kill -0 "$recv_pid" 2>/dev/null; then
            echo "demo: the consumer exited early" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "demo: no complete output after 30 seconds; showing what arrived" >&2
}

section "1. A throwaway PostgreSQL 15 cluster"
pgc_start
echo "  running as user $TRIB_TEST_USER in $PGC_DIR, port $PGC_PORT"
echo "  $("$PGBIN/postgres" --version)"
echo "  output_plugin_libraries = '$(pgc_psql -d postgres -At -c 'SHOW output_plugin_libraries')'"

section "2. The tributary extension"
pgc_psql -d postgres -c "CREATE DATABASE $DB" >/dev/null
run_sql "CREATE EXTENSION tributary"
echo "  version $(pgc_psql -d "$DB" -At -c 'SELECT tributary.version()')"

section "3. A sample shop with (fake) personal data"
pgc_psql -d "$DB" <<'SQL'
CREATE TABLE customers (
    id         serial PRIMARY KEY,
    full_name  text NOT NULL,
    email      text NOT NULL UNIQUE,
    phone      text,
    birth_date date,
    address    text
);
CREATE TABLE orders (
    id          serial PRIMARY KEY,
    customer_id int NOT NULL REFERENCES customers,
    placed_at   timestamptz NOT NULL DEFAULT now(),
    total       numeric(10, 2) NOT NULL,
    card_last4  char(4),
    status      text NOT NULL DEFAULT 'new'
);
INSERT INTO customers (full_name, email, phone, birth_date, address) VALUES
    ('Maria Gonzalez', 'maria.gonzalez@example.com', '+1-202-555-0143',
     '1986-04-12', '1427 Maple Avenue, Springfield, IL 62704'),
    ('Oliver Bennett', 'o.bennett@example.org', '+44 20 7946 0321',
     '1979-11-03', '22 Wharf Road, London N1 7GR'),
    ('Aiko Tanaka', 'aiko.tanaka@example.net', '+81 3-5555-0188',
     '1993-07-28', '3-14-2 Jingumae, Shibuya-ku, Tokyo');
INSERT INTO orders (customer_id, total, card_last4) VALUES
    (1, 129.90, '4242'), (2, 18.50, '1881'), (3, 74.00, '0005');
SQL
pgc_psql -d "$DB" -c 'SELECT id, full_name, email, phone FROM customers ORDER BY id'
pgc_psql -d "$DB" -c 'SELECT id, customer_id, total, card_last4, status FROM orders ORDER BY id'

section "4. The tributary consumer: Postgres -> embedded Kafka + a JSON Lines file"
cat > "$PGC_DIR/pipeline.yaml" <<EOF
pipeline: shop
sources:
  main:
    type: postgres
    dsn: "host=$PGC_SOCK port=$PGC_PORT dbname=$DB user=postgres"
    include_tables: ["public.*"]
    snapshot: never
    heartbeat_interval_ms: 1000
sinks:
  events:
    type: kafka
    bootstrap_servers: embedded
    topic_prefix: shop
  archive:
    type: file
    path: "$PGC_DIR/shop.jsonl"
checkpoint:
  store: catalog
http:
  listen: "127.0.0.1:0"
EOF
sed 's/^/  /' "$PGC_DIR/pipeline.yaml"
"$TRIBUTARY" check -c "$PGC_DIR/pipeline.yaml" | sed 's/^/  /'
"$TRIBUTARY" run -c "$PGC_DIR/pipeline.yaml" 2>"$PGC_DIR/tributary.log" &
recv_pid=$!
for _ in $(seq 1 100); do
    grep -q "streaming from slot" "$PGC_DIR/tributary.log" && break
    sleep 0.1
done
echo "  tributary run (pid $recv_pid):"
sed 's/^/    /' "$PGC_DIR/tributary.log"
out=$PGC_DIR/shop.jsonl

section "5. Live changes"
run_sql "INSERT INTO customers (full_name, email, phone, birth_date, address) VALUES ('Samuel Okafor', 'samuel.okafor@example.com', '+234 1 555 0199', '1990-02-17', '8 Marina Road, Lagos Island, Lagos')"
run_sql "INSERT INTO orders (customer_id, total, card_last4) VALUES (4, 249.99, '7310')"
run_sql "UPDATE customers SET email = 'maria.g@example.com', phone = '+1-202-555-0178' WHERE id = 1"
run_sql "UPDATE orders SET status = 'shipped' WHERE customer_id = 1"
run_sql "DELETE FROM orders WHERE id = 2"
run_sql "TRUNCATE orders"
run_sql "SELECT pg_logical_emit_message(true, 'demo', '$END_MARKER')"

wait_for_output "$out"

section "6. The events, as Kafka and the file sink received them (Debezium envelope)"
if [ ! -s "$out" ]; then
    echo "demo: the file sink wrote nothing; the consumer's log:" >&2
    cat "$PGC_DIR/tributary.log" >&2
    exit 1
fi
jq -c '{topic, key, op: .value.op, before: .value.before, after: .value.after}' "$out"
echo
echo "  One record in full:"
head -1 "$out" | jq . | sed 's/^/    /'
port=$(grep -o 'port [0-9]*' "$PGC_DIR/tributary.log" | head -1 | cut -d' ' -f2)
if [ -n "$port" ]; then
    echo
    echo "  GET http://127.0.0.1:$port/status"
    curl -s "http://127.0.0.1:$port/status" | jq -c . | sed 's/^/    /'
    echo "  GET http://127.0.0.1:$port/metrics (excerpt)"
    curl -s "http://127.0.0.1:$port/metrics" | grep -E '^tributary_(source_events|sink_events|checkpoint_lsn)' | sed 's/^/    /'
fi

section "7. Cleaning up"
echo "  $(grep -c . "$out") events delivered; SIGTERM drains the consumer, then the cluster stops"
kill -TERM "$recv_pid"
wait "$recv_pid" || true
recv_pid=
tail -2 "$PGC_DIR/tributary.log" | sed 's/^/    /'
