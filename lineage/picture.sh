#!/usr/bin/env bash
# lineage/picture.sh: draws docs/img/lineage-demo.svg, the README's picture
# of the demo's two pipelines (`make -C lineage picture`).
#
# Design: the demo's set-up (scripts/demo.sh) with the lineage stage on.
# A throwaway PostgreSQL 15 cluster (scripts/lib/pgcluster.sh) gets the
# extension and the demo's shop tables; the raw pipeline `shop` (embedded
# Kafka and a file) and the masking pipeline `shop-masked` (the demo's
# rules, keys made now) run until one change per table has recorded their
# graphs; then `tributary lineage dot --all | dot -Tsvg` draws every job.
# The file sinks live in /tmp/tributary-demo (made and removed here) so
# that their dataset names do not change from one drawing to the next;
# the Postgres namespace carries the cluster's port, which does.  Needs
# Graphviz's `dot` (Debian: apt-get install graphviz) and the extension
# installed (make install-pg_ext).
#
# Environment: TRIBUTARY, the consumer binary (default consumer/build/);
# OUT, the picture (default docs/img/lineage-demo.svg); DOT_OUT, when set,
# where to keep the DOT source too.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"
TRIBUTARY=${TRIBUTARY:-$ROOT/consumer/build/tributary}
OUT=${OUT:-$ROOT/docs/img/lineage-demo.svg}
SINKS=/tmp/tributary-demo
pids=()

command -v dot >/dev/null || { echo "picture.sh: Graphviz's dot is missing (apt-get install graphviz)" >&2; exit 2; }
[ ! -e "$SINKS" ] || { echo "picture.sh: $SINKS exists; remove it first" >&2; exit 2; }

cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$SINKS"
    pgc_cleanup
}
trap cleanup EXIT

pgc_start
mkdir -m 700 "$SINKS"
pgc_psql -d postgres -c "CREATE DATABASE shop" >/dev/null
pgc_psql -d shop -q <<'SQL'
CREATE EXTENSION tributary;
CREATE TABLE customers (id serial PRIMARY KEY, full_name text NOT NULL, email text NOT NULL,
                        phone text, birth_date date, address text);
CREATE TABLE orders (id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers,
                     placed_at timestamptz NOT NULL DEFAULT now(), total numeric(10, 2) NOT NULL,
                     card_number text, status text NOT NULL DEFAULT 'new');
SQL
DSN="host=$PGC_SOCK port=$PGC_PORT dbname=shop user=postgres"
for k in hash fake token; do
    (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$SINKS/$k.key")
done

head_yaml() {
    cat <<YAML
pipeline: $1
sources:
  main: {type: postgres, dsn: "$DSN", include_tables: ["public.*"], snapshot: never}
checkpoint:
  store: catalog
lineage:
  enabled: true
http:
  enabled: false
YAML
}
{
    head_yaml shop
    cat <<YAML
sinks:
  events: {type: kafka, bootstrap_servers: embedded, topic_prefix: shop}
  archive: {type: file, path: "$SINKS/raw.jsonl"}
YAML
} > "$SINKS/raw.yaml"
{
    head_yaml shop-masked
    cat <<YAML
transforms:
  - {type: hash, tables: [public.customers], fields: [email], context: email, length: 32,
     key_file: "$SINKS/hash.key"}
  - {type: partial, tables: [public.customers], fields: [phone], keep_last: 4}
  - {type: substitute, tables: [public.customers], fields: [full_name], kind: full_name,
     key_file: "$SINKS/fake.key"}
  - {type: drop, tables: [public.customers], fields: [address]}
  - {type: tokenize, tables: [public.orders], fields: [card_number], tweak: card,
     key_file: "$SINKS/token.key"}
sinks:
  masked: {type: file, path: "$SINKS/masked.jsonl"}
YAML
} > "$SINKS/masked.yaml"

for p in raw masked; do
    "$TRIBUTARY" run -c "$SINKS/$p.yaml" 2>"$SINKS/$p.log" &
    pids+=("$!")
    for _ in $(seq 1 100); do grep -q "streaming from slot" "$SINKS/$p.log" && break; sleep 0.1; done
done
pgc_psql -d shop -q \
    -c "INSERT INTO customers (full_name, email, phone, birth_date, address)
        VALUES ('Maria Gonzalez', 'maria.gonzalez@example.com', '+1-202-555-0143', '1986-04-12', '1427 Maple Avenue')" \
    -c "INSERT INTO orders (customer_id, total, card_number) VALUES (1, 129.90, '4242 4242 4242 4242')"
# both jobs have read both tables once their graphs are recorded
for _ in $(seq 1 300); do
    [ "$(pgc_psql -d shop -At -c "SELECT count(*) FROM tributary.lineage_edge_list WHERE kind = 'read' AND current")" = 4 ] && break
    sleep 0.1
done
"$TRIBUTARY" lineage dot --all --dsn "$DSN" > "$SINKS/all.dot"
dot -Tsvg "$SINKS/all.dot" > "$OUT"
[ -z "${DOT_OUT:-}" ] || cp "$SINKS/all.dot" "$DOT_OUT"
echo "picture.sh: wrote $OUT ($(grep -c -- '->' "$SINKS/all.dot") edges)"
