#!/usr/bin/env bash
# scripts/demo.sh: the main job on embedded defaults, behind `make demo` and
# ./demo (which install the packages and the extension and build the
# consumer first).
#
# Design: nothing outside a temp dir is touched.  The demo starts a
# throwaway PostgreSQL 15 cluster as the unprivileged test user
# (scripts/lib/pgcluster.sh), creates the extension and a small shop schema
# with fake personal data, and runs two tributary consumers on it, each with
# its own slot: a raw pipeline into an embedded Kafka cluster (librdkafka's
# in-process mock) and a JSON Lines file, and a masking pipeline into a
# second file (email hashed, phone partly redacted, name substituted, card
# tokenized, address dropped; keys generated into 0600 files).  It then makes
# live changes (insert, update, delete, truncate), waits until their events
# arrive, prints them as the sinks wrote them (scripts/lib/jsonspan.py slices
# the lines; jq would re-render 129.90 as 129.9), shows the same changes raw
# and masked side by side, turns a card token back with the key, shows
# /status and /metrics, and stops the consumers with SIGTERM (drain,
# checkpoint, exit 0).  Last, it runs the copy-and-sanitize tool's own
# example file (examples/copy-and-sanitize/old-format.yaml) unchanged:
# production's financial_data copied into a sanitized staging database and a
# sample.  An EXIT trap stops the consumers and removes the
# cluster, whatever happens.
#
# Environment: TRIBUTARY, the consumer binary (default consumer/build/).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"

TRIBUTARY=${TRIBUTARY:-$ROOT/consumer/build/tributary}
SPAN=$ROOT/scripts/lib/jsonspan.py
DB=shop
END_MARKER=tributary-demo-finished
pids=()

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

# stop_consumers: SIGTERM drains each consumer; SIGKILL if it has not exited
# after 5 seconds.
stop_consumers() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    pids=()
}

# cleanup: stop the consumers, then the cluster.
cleanup() {
    stop_consumers
    pgc_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run_sql: show a statement, then run it in the demo database.
run_sql() {
    printf '  %s%s%s\n' "$CYAN" "$1" "$PLAIN"
    pgc_psql -d "$DB" -c "$1" >/dev/null
}

# wait_for_output: wait until the end marker has been decoded into the
# file, or until it has stopped growing for 10 seconds, at most 60 seconds
# in all; pid is the consumer that writes it.  (On a busy machine a
# pipeline can pause for seconds between its first lines and the live
# changes: a shorter stillness once showed a masked file without them.)
wait_for_output() {
    local out=$1 pid=$2 size last=-1 still=0
    for _ in $(seq 1 600); do
        if grep -q "$END_MARKER" "$out" 2>/dev/null; then
            return 0
        fi
        size=$(stat -c %s "$out" 2>/dev/null || echo 0)
        if [ "$size" -gt 0 ] && [ "$size" -eq "$last" ]; then
            still=$((still + 1))
            [ "$still" -ge 100 ] && return 0
        else
            still=0
        fi
        last=$size
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "demo: the consumer writing $out exited early" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "demo: no complete output in $out after 60 seconds; showing what arrived" >&2
}

# start_consumer: show and check the pipeline file NAME.yaml, start
# `tributary run` on it in the background (log in NAME.log) and wait until
# it streams; its pid is added to pids.
start_consumer() {
    local name=$1 log=$PGC_DIR/$1.log pid
    sed 's/^/  /' "$PGC_DIR/$name.yaml"
    "$TRIBUTARY" check -c "$PGC_DIR/$name.yaml" | sed 's/^/  /'
    "$TRIBUTARY" run -c "$PGC_DIR/$name.yaml" 2>"$log" &
    pid=$!
    pids+=("$pid")
    # Changes made before its slot exists never reach it (snapshot:
    # never), so the demo goes on only once it streams.  Creating a slot
    # waits for the transactions running then; on a loaded machine that
    # took more than 10 s once, and the masked side missed the first inserts.
    for _ in $(seq 1 600); do
        grep -q "streaming from slot" "$log" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "  tributary run -c $name.yaml (pid $pid):"
    sed 's/^/    /' "$log"
    if ! grep -q "streaming from slot" "$log"; then
        echo "demo: the $name pipeline is not streaming after 60 seconds" >&2
        exit 1
    fi
}

# new_key: 32 random bytes, in hex, in a file only its owner can read.
new_key() {
    (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$1")
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
    card_number text,
    status      text NOT NULL DEFAULT 'new'
);
INSERT INTO customers (full_name, email, phone, birth_date, address) VALUES
    ('Maria Gonzalez', 'maria.gonzalez@example.com', '+1-202-555-0143',
     '1986-04-12', '1427 Maple Avenue, Springfield, IL 62704'),
    ('Oliver Bennett', 'o.bennett@example.org', '+44 20 7946 0321',
     '1979-11-03', '22 Wharf Road, London N1 7GR'),
    ('Aiko Tanaka', 'aiko.tanaka@example.net', '+81 3-5555-0188',
     '1993-07-28', '3-14-2 Jingumae, Shibuya-ku, Tokyo');
-- the card networks' published test numbers
INSERT INTO orders (customer_id, total, card_number) VALUES
    (1, 129.90, '4242 4242 4242 4242'), (2, 18.50, '5555 5555 5555 4444'),
    (3, 74.00, '3782 822463 10005');
SQL
pgc_psql -d "$DB" -c 'SELECT id, full_name, email, phone FROM customers ORDER BY id'
pgc_psql -d "$DB" -c 'SELECT id, customer_id, total, card_number, status FROM orders ORDER BY id'

section "4. Two pipelines on the same database, each with its own slot"
source_yaml="sources:
  main:
    type: postgres
    dsn: \"host=$PGC_SOCK port=$PGC_PORT dbname=$DB user=postgres\"
    include_tables: [\"public.*\"]
    snapshot: never
    heartbeat_interval_ms: 1000"

echo "  raw: Postgres -> embedded Kafka + a JSON Lines file"
cat > "$PGC_DIR/raw.yaml" <<YAML
pipeline: shop
$source_yaml
sinks:
  events:
    type: kafka
    bootstrap_servers: embedded
    topic_prefix: shop
  archive:
    type: file
    path: "$PGC_DIR/raw.jsonl"
checkpoint:
  store: catalog
http:
  listen: "127.0.0.1:0"
YAML
start_consumer raw

echo
echo "  masked: the same source through transform rules into a second file."
echo "  Its keys are 32 random bytes made now, in files only their owner reads:"
mkdir -m 700 "$PGC_DIR/keys"
for k in hash fake token; do
    new_key "$PGC_DIR/keys/$k.key"
done
ls -l "$PGC_DIR/keys" | tail -n +2 | sed 's/^/    /'
cat > "$PGC_DIR/masked.yaml" <<YAML
pipeline: shop-masked
$source_yaml
transforms:
  - {type: hash, tables: [public.customers], fields: [email], context: email, length: 32,
     key_file: "$PGC_DIR/keys/hash.key"}
  - {type: partial, tables: [public.customers], fields: [phone], keep_last: 4}
  - {type: substitute, tables: [public.customers], fields: [full_name], kind: full_name,
     key_file: "$PGC_DIR/keys/fake.key"}
  - {type: drop, tables: [public.customers], fields: [address]}
  - {type: tokenize, tables: [public.orders], fields: [card_number], tweak: card,
     key_file: "$PGC_DIR/keys/token.key"}
sinks:
  masked:
    type: file
    path: "$PGC_DIR/masked.jsonl"
checkpoint:
  store: catalog
http:
  enabled: false
YAML
start_consumer masked

section "5. Live changes"
run_sql "INSERT INTO customers (full_name, email, phone, birth_date, address) VALUES ('Samuel Okafor', 'samuel.okafor@example.com', '+234 1 555 0199', '1990-02-17', '8 Marina Road, Lagos Island, Lagos')"
run_sql "INSERT INTO orders (customer_id, total, card_number) VALUES (4, 249.99, '4000 0566 5566 5556')"
run_sql "UPDATE customers SET email = 'maria.g@example.com', phone = '+1-202-555-0178' WHERE id = 1"
run_sql "UPDATE orders SET status = 'shipped' WHERE customer_id = 1"
run_sql "DELETE FROM orders WHERE id = 2"
run_sql "TRUNCATE orders"
run_sql "SELECT pg_logical_emit_message(true, 'demo', '$END_MARKER')"

raw=$PGC_DIR/raw.jsonl
masked=$PGC_DIR/masked.jsonl
wait_for_output "$raw" "${pids[0]}"
wait_for_output "$masked" "${pids[1]}"
for f in raw masked; do
    if [ ! -s "$PGC_DIR/$f.jsonl" ]; then
        echo "demo: the $f pipeline's file sink wrote nothing; its log:" >&2
        cat "$PGC_DIR/$f.log" >&2
        exit 1
    fi
done

section "6. The events, as Kafka and the file sink received them (Debezium envelope)"
echo "  topic, key, op, before and after of each line of raw.jsonl, byte for byte:"
python3 "$SPAN" pick "$raw" topic key value.op value.before value.after | sed 's/^/  /'
echo
echo "  The fourth line of raw.jsonl in full, as written:"
sed -n 4p "$raw" | sed 's/^/    /'

section "7. The same changes, raw and masked"
python3 "$SPAN" sidebyside "$raw" "$masked"
echo
echo "  The second line of masked.jsonl in full, as written:"
sed -n 2p "$masked" | sed 's/^/    /'
token=$(python3 "$SPAN" strings "$masked" value.after.card_number | sed -n 1p)
echo
echo "  Whoever holds the token key can turn a token back (tributary detokenize):"
printf '    %s -> ' "$token"
printf '%s\n' "$token" | "$TRIBUTARY" detokenize --key-file "$PGC_DIR/keys/token.key" \
    --alphabet digits --tweak card

port=$(grep -o 'port [0-9]*' "$PGC_DIR/raw.log" | head -n 1 | cut -d' ' -f2)
if [ -n "$port" ]; then
    section "8. Monitoring (the raw pipeline)"
    echo "  GET http://127.0.0.1:$port/status"
    curl -s "http://127.0.0.1:$port/status" | sed 's/^/    /'
    echo
    echo "  GET http://127.0.0.1:$port/metrics (excerpt)"
    curl -s "http://127.0.0.1:$port/metrics" |
        grep -E '^tributary_(source_events|sink_events|checkpoint_lsn)' | sed 's/^/    /'
fi

section "9. Stopping the pipelines"
echo "  $(grep -c . "$raw") events in each file; SIGTERM drains the consumers"
stop_consumers
for f in raw masked; do
    tail -n 2 "$PGC_DIR/$f.log" | sed 's/^/    /'
done

section "10. Production into staging, sanitized: a copy-and-sanitize tool's file, unchanged"
example=$ROOT/examples/copy-and-sanitize/old-format.yaml
echo "  $example, as the Python tool's users write it (first stages):"
sed -n '/^pipelines:/,/^      accounts:/p' "$example" | sed '$d' | sed 's/^/    /'
echo "  ..."
pgc_psql -d postgres -c "CREATE DATABASE financial_data" \
    -c "CREATE DATABASE financial_data_clean" -c "CREATE DATABASE financial_data_sample" >/dev/null
pgc_psql -d financial_data >/dev/null <<'SQL'
CREATE TABLE customers (id int PRIMARY KEY, username text, full_name text, email text,
    phone text, address text, date_of_birth date, ssn text, tax_id text);
INSERT INTO customers VALUES
    (1, 'mgonzalez', 'Maria Gonzalez', 'maria.gonzalez@example.com', '+1-202-555-0143',
     '1427 Maple Avenue, Springfield, IL 62704', '1986-04-12', '078051120', 'TX-88-1021'),
    (2, 'obennett', 'Oliver Bennett', 'o.bennett@example.org', '+44 20 7946 0321',
     '22 Wharf Road, London N1 7GR', '1979-11-03', '219099999', 'TX-17-5530'),
    (3, 'atanaka', 'Aiko Tanaka', 'aiko.tanaka@example.net', '+81 3-5555-0188',
     '3-14-2 Jingumae, Shibuya-ku, Tokyo', '1993-07-28', '457555462', 'TX-40-0077');
CREATE TABLE accounts (id int PRIMARY KEY, customer_id int, iban text, balance numeric(12,2));
INSERT INTO accounts SELECT g, (g % 3) + 1, 'DE' || lpad((89370400440532013000 + g)::text, 20, '0'),
    1000 + g * 3.5 FROM generate_series(1, 10) g;
CREATE TABLE transactions (id int PRIMARY KEY, account_id int, amount numeric(10,2),
    booked_at timestamptz);
INSERT INTO transactions SELECT g, (g % 10) + 1, g / 7.0,
    timestamptz '2026-01-01 00:00Z' + g * interval '1 hour' FROM generate_series(1, 50) g;
SQL
echo "  One server for both sides here; the key is 32 random bytes made now:"
printf '    %sexport TRIBUTARY_SOURCE_URI=postgresql://postgres@127.0.0.1:%s/postgres%s\n' \
    "$CYAN" "$PGC_PORT" "$PLAIN"
printf '    %sexport TRIBUTARY_KEY=$(cat keys/copy.key)%s\n' "$CYAN" "$PLAIN"
printf '    %stributary run -c examples/copy-and-sanitize/old-format.yaml%s\n' "$CYAN" "$PLAIN"
new_key "$PGC_DIR/keys/copy.key"
(
    unset TRIBUTARY_DEST_URI PGHOST PGPORT PGUSER TRIBUTARY_KEY_FILE
    export TRIBUTARY_SOURCE_URI="postgresql://postgres@127.0.0.1:$PGC_PORT/postgres"
    TRIBUTARY_KEY=$(cat "$PGC_DIR/keys/copy.key")
    export TRIBUTARY_KEY
    export TRIBUTARY_STATE_DIR=$PGC_DIR/copy-state
    "$TRIBUTARY" run -c "$example"
) > "$PGC_DIR/copy.log" 2>&1 || { cat "$PGC_DIR/copy.log" >&2; exit 1; }
grep -o 'step [0-9] of 3: .*' "$PGC_DIR/copy.log" | sed 's/^/    /'
echo "  financial_data (production):"
pgc_psql -d financial_data -c 'SELECT id, username, full_name, email, ssn, tax_id FROM customers ORDER BY id'
echo "  financial_data_clean (staging, sanitized):"
pgc_psql -d financial_data_clean -c 'SELECT id, username, full_name, email, ssn, tax_id FROM customers ORDER BY id'
echo "  financial_data_sample: $(pgc_psql -d financial_data_sample -At -c 'SELECT count(*) FROM accounts') of 10 accounts,"\
" $(pgc_psql -d financial_data_sample -At -c 'SELECT count(*) FROM transactions') of 50 transactions (theirs)"

section "11. Cleaning up"
echo "  the cluster stops and its directory is removed"
