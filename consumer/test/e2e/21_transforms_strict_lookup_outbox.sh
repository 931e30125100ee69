#!/usr/bin/env bash
# 21_transforms_strict_lookup_outbox.sh: strict mode, lookup enrichment
# and the outbox router through `tributary run` into a JSON Lines file.
#
#   - strict: a column added mid-stream (ALTER TABLE ... ADD COLUMN ssn)
#     reaches the output as null, with a warning naming it, and its values
#     appear nowhere (output or log);
#   - lookup: each order carries its customer's tier, fetched with a bound
#     parameter from the source database (cached);
#   - outbox: each insert into the outbox table becomes one record on
#     outbox.event.<aggregatetype>, keyed by the aggregate id, whose value is
#     the payload; the outbox table's deletes produce nothing.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
chmod 777 "$WORK"
catalog_init "CREATE TABLE public.customers (id int PRIMARY KEY, email text, tier int)" \
    "CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int, amount numeric(10,2))" \
    "CREATE TABLE public.payments (id int PRIMARY KEY, card text)" \
    "CREATE TABLE public.outbox (id text PRIMARY KEY, aggregatetype text, aggregateid text,
            type text, payload jsonb)" \
    "INSERT INTO public.customers SELECT g, 'c' || g || '@mail.example', g % 3 FROM generate_series(1, 20) g" \
    -- tributary_e2e21

DSN="$(pg_dsn)"
cat > "$WORK/p.yaml" <<YAML
pipeline: e2e21
sources:
  main: {type: postgres, dsn: "$DSN", snapshot: never, status_interval_ms: 200}
strict: true
dead_letter: refused
transforms:
  - {type: allow, tables: [customers], fields: [id, tier]}
  - {type: hash, tables: [customers], fields: [email], key: "0123456789abcdef-e2e21", key_format: raw, context: email}
  - {type: allow, tables: [orders], fields: [id, customer_id, amount]}
  - type: lookup
    tables: [orders]
    dsn: "$DSN"
    query: "SELECT tier FROM public.customers WHERE id = \$1"
    params: [customer_id]
    into: customer
  - {type: outbox, tables: [outbox]}
  - {type: tokenize, tables: [payments], fields: [card], key: "\${TRIB_E2E21_FF1}", key_format: hex}
  - {type: allow, tables: [payments], fields: [id]}
sinks:
  out: {type: file, path: "$WORK/out.jsonl"}
  refused: {type: file, path: "$WORK/refused.jsonl"}
checkpoint: {store: file, path: "$WORK/ckpt.json"}
http: {enabled: false}
YAML
export TRIB_E2E21_FF1=2b7e151628aed2a6abf7158809cf4f3c
"$BIN" check -c "$WORK/p.yaml" >/dev/null
start_consumer

pgc_psql -d postgres -c "INSERT INTO public.orders SELECT 100 + g, g, g * 1.5 FROM generate_series(1, 20) g" \
    -c "ALTER TABLE public.customers ADD COLUMN ssn text" \
    -c "INSERT INTO public.customers VALUES (21, 'c21@mail.example', 2, '078-05-1120')" \
    -c "UPDATE public.customers SET ssn = '219-09-9999' WHERE id = 5" \
    -c "INSERT INTO public.orders VALUES (121, 21, 9.99)" \
    -c "INSERT INTO public.payments SELECT g, '4000 1234 5678 ' || lpad((g * 37)::text, 4, '0') FROM generate_series(1, 10) g" \
    -c "BEGIN; INSERT INTO public.outbox VALUES ('e1', 'order', '101', 'OrderCreated', '{\"total\": 1.50}');
        INSERT INTO public.outbox VALUES ('e2', 'customer', '5', 'CustomerMoved', '{\"city\": \"Oslo\"}');
        DELETE FROM public.outbox; COMMIT;" >/dev/null
expect_eq "the slot was confirmed to the end" t "$(slot_caught_up tributary_e2e21)"
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"

orders=$(grep -c '"topic":"e2e21.public.orders"' "$WORK/out.jsonl" || true)
expect_eq "21 orders out" 21 "$orders"
# each order's customer.tier equals its customer's tier in the source
bad=0
while read -r line; do
    id=$(sed -E 's/.*"after":\{"id":([0-9]+).*/\1/' <<<"$line")
    cid=$(sed -E 's/.*"customer_id":([0-9]+).*/\1/' <<<"$line")
    tier=$(sed -E 's/.*"customer":\{"tier":([0-9]+)\}.*/\1/' <<<"$line")
    want=$(pgc_psql -d postgres -Atc "SELECT tier FROM public.customers WHERE id = $cid")
    [ "$tier" = "$want" ] || { bad=$((bad + 1)); echo "# order $id: tier [$tier], want [$want]"; }
done < <(grep '"topic":"e2e21.public.orders"' "$WORK/out.jsonl")
expect_eq "every order carries its customer's tier from the lookup" 0 "$bad"
expect_eq "the new column reaches the output as null" 2 "$(grep -c '"ssn":null' "$WORK/out.jsonl" || true)"
expect_eq "its values appear nowhere" 0 "$(cat "$WORK/out.jsonl" "$WORK/run.log" | grep -c -E '078-05-1120|219-09-9999' || true)"
expect_eq "a warning names the undecided column" 1 "$(grep -c 'strict: column ssn of public.customers has no rule' "$WORK/run.log" || true)"
expect_eq "no email leaves in clear" 0 "$(grep -c '@mail.example' "$WORK/out.jsonl" || true)"
expect_eq "outbox: one record per insert, on the aggregate's topic" \
    '"topic":"outbox.event.order","key":"101","value":{"total":1.50}|"topic":"outbox.event.customer","key":"5","value":{"city":"Oslo"}' \
    "$(grep -o '"topic":"outbox[^}]*}' "$WORK/out.jsonl" | paste -sd'|')"
grep '"topic":"e2e21.public.payments"' "$WORK/out.jsonl" | sed -E 's/.*"card":"([^"]*)".*/\1/' > "$WORK/tokens"
expect_eq "tokenized cards keep their layout, and no card leaves in clear" "10 0" \
    "$(grep -c -E '^[0-9]{4} [0-9]{4} [0-9]{4} [0-9]{4}$' "$WORK/tokens") $(grep -c '4000 1234 5678' "$WORK/out.jsonl" || true)"
expect_eq "tributary detokenize turns the tokens back into the cards" \
    "$(pgc_psql -d postgres -Atc "SELECT card FROM public.payments ORDER BY id")" \
    "$("$BIN" detokenize --key-env TRIB_E2E21_FF1 --key-format hex --alphabet digits --tweak card < "$WORK/tokens")"
"$BIN" check -c "$WORK/p.yaml" > "$WORK/check.out" 2>&1 || true
expect_eq "tributary check lists the column without a rule" 1 \
    "$(grep -c 'strict: no rule decides about 1 column(s): ssn' "$WORK/check.out" || true)"
expect_eq "and says every other table is covered" 3 "$(grep -c 'strict: every column has a rule' "$WORK/check.out" || true)"
# a rule on a column that does not exist is a configuration error
sed 's/fields: \[email\], key/fields: [emial], key/' "$WORK/p.yaml" > "$WORK/typo.yaml"
rc=0; "$BIN" check -c "$WORK/typo.yaml" > "$WORK/typo.out" 2>&1 || rc=$?
expect_eq "check rejects a rule on a column that does not exist (exit 2)" 2 "$rc"
expect_eq "naming the file, line and column" 1 \
    "$(grep -c -E "typo.yaml:[0-9]+:[0-9]+: transforms\[1\].fields: no captured table the rule selects has a column \"emial\"" "$WORK/typo.out" || true)"
expect_eq "nothing was refused" 0 "$(cat "$WORK/refused.jsonl" 2>/dev/null | wc -l)"
e2e_finish
