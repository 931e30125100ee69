#!/usr/bin/env bash
# scripts/demo.sh: a short guided tour of the tributary output plugin,
# behind `make demo` (which installs the extension first).
#
# Design: nothing outside a temp dir is touched.  The demo starts a
# throwaway PostgreSQL 15 cluster as the unprivileged test user
# (scripts/lib/pgcluster.sh), creates the extension and a small shop schema
# with fake personal data, creates a logical slot, and runs pg_recvlogical in
# the background, the way a consumer would stream changes.  It then makes
# live changes (insert, update, delete, truncate, a logical message), waits
# until their records arrive, and prints them prettified with jq.  An EXIT
# trap stops pg_recvlogical and removes the cluster, whatever happens.
#
# The consumer daemon comes later; until then pg_recvlogical stands in.
#
# Environment: DEMO_PLUGIN (default tributary) decodes with another plugin,
# e.g. test_decoding, whose plain-text lines are printed as they are.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"

PLUGIN=${DEMO_PLUGIN:-tributary}
SLOT=demo
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

# cleanup: stop pg_recvlogical (it exits on SIGINT after a last feedback
# message; SIGKILL if it has not after 5 seconds), then the cluster.
cleanup() {
    if [ -n "$recv_pid" ] && kill -0 "$recv_pid" 2>/dev/null; then
        kill -INT "$recv_pid" 2>/dev/null || true
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

# The streaming client runs as the test user.  setpriv execs the command
# itself (runuser would stay in between as its parent), so $! is the
# client's pid and SIGINT reaches it.
as_test_user=()
if [ "$(id -u)" = 0 ]; then
    as_test_user=(setpriv "--reuid=$TRIB_TEST_USER" "--regid=$TRIB_TEST_USER"
                  --init-groups --)
fi

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
            echo "demo: pg_recvlogical exited early" >&2
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

section "4. A logical replication slot and a streaming client"
run_sql "SELECT pg_create_logical_replication_slot('$SLOT', '$PLUGIN')"
out=$PGC_DIR/demo.out
"${as_test_user[@]}" "$PGBIN/pg_recvlogical" -h "$PGC_SOCK" -p "$PGC_PORT" -U postgres \
    -d "$DB" -S "$SLOT" -P "$PLUGIN" --start -s 1 -F 1 -f "$out" \
    2>"$PGC_DIR/pg_recvlogical.log" &
recv_pid=$!
echo "  pg_recvlogical -S $SLOT --start -f - (pid $recv_pid)"

section "5. Live changes"
run_sql "INSERT INTO customers (full_name, email, phone, birth_date, address) VALUES ('Samuel Okafor', 'samuel.okafor@example.com', '+234 1 555 0199', '1990-02-17', '8 Marina Road, Lagos Island, Lagos')"
run_sql "INSERT INTO orders (customer_id, total, card_last4) VALUES (4, 249.99, '7310')"
run_sql "UPDATE customers SET email = 'maria.g@example.com', phone = '+1-202-555-0178' WHERE id = 1"
run_sql "UPDATE orders SET status = 'shipped' WHERE customer_id = 1"
run_sql "DELETE FROM orders WHERE id = 2"
run_sql "TRUNCATE orders"
run_sql "SELECT pg_logical_emit_message(true, 'shop.audit', 'nightly export done')"
run_sql "SELECT pg_logical_emit_message(true, 'demo', '$END_MARKER')"

wait_for_output "$out"

section "6. What the plugin sent"
if [ ! -s "$out" ]; then
    echo "demo: pg_recvlogical wrote nothing; its log:" >&2
    cat "$PGC_DIR/pg_recvlogical.log" >&2
    exit 1
fi
# One record per line.  Changes and messages are printed in full, begin and
# commit on one line each, a relation record with one "name type" string per
# column; lines that are not JSON (other plugins) as they are.
jq -R -r '
    . as $line
    | (try fromjson catch null) as $r
    | if ($r | type) != "object" then $line
      elif $r.kind == "begin" or $r.kind == "commit" then $r | tojson
      elif $r.kind == "relation" and ($r.columns | type) == "array" then
          $r | .columns |= map("\(.name) \(.type)" + (if .pk then " (pk)" else "" end))
      else $r
      end' "$out"

section "7. Cleaning up"
echo "  $(grep -c . "$out") lines decoded; stopping pg_recvlogical and the cluster"
