#!/usr/bin/env bash
# 20_transforms_pipeline.sh: a strict PII pipeline through `tributary run`, from
# PostgreSQL into a Postgres sink, a JSON Lines file and a dead-letter file,
# with the consumer killed (-9) while a writer commits.
#
# The rules pseudonymise (hash, substitute), mask (partial, redact), minimise (drop a
# nested key, sample 50% of customers and the orders of exactly those
# customers), rename, and test quality (orders over 1000 go to the
# dead-letter sink).  Every expectation is computed independently in SQL
# with pgcrypto from the source rows:
#   - the target tables equal the transformed source, row for row, once;
#   - the sample is exactly the customers whose HMAC decides "keep", and
#     every target order joins a target customer, on the id and on the
#     pseudonymised email;
#   - no original email, phone or card number appears in the target, the
#     file sink, the dead-letter file or the consumer's log;
#   - the dead-letter file holds each refused order once, with a reason and
#     no row data.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

KEY=e2e-secret-key-0123456789
export TRIB_TEST_MASK_KEY=$KEY

build_consumer
pgc_start
chmod 777 "$WORK"
pgc_psql -d postgres -c "CREATE EXTENSION tributary" -c "CREATE EXTENSION pgcrypto" \
    -c "CREATE DATABASE target" \
    -c "CREATE TABLE public.customers (id int PRIMARY KEY, name text, email text, phone text,
            card text, notes jsonb)" \
    -c "CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int, buyer_email text,
            amount numeric(12,2), status text)" \
    -c "SELECT 's' FROM pg_create_logical_replication_slot('tributary_e2e20', 'tributary')" >/dev/null

write_pipeline e2e20 <<EOF
strict: true
transforms:
  - {type: sample, name: half_customers, tables: [public.customers], percent: 50}
  - {type: sample, name: their_orders, tables: [public.orders], percent: 50, by: customer_id}
  - {type: quality, name: sane_amount, tables: [public.orders], fields: [amount], check: range, min: 0, max: 1000}
  - {type: hash, tables: [public.customers], fields: [email], key: "\${TRIB_TEST_MASK_KEY}", key_format: raw, context: email}
  - {type: hash, tables: [public.orders], fields: [buyer_email], key: "\${TRIB_TEST_MASK_KEY}", key_format: raw, context: email}
  - {type: partial, fields: [card], keep_last: 4}
  - {type: redact, fields: [phone, notes.contact.phone], mask_char: "#"}
  - {type: drop, fields: [notes.internal]}
  - {type: substitute, tables: [public.customers], fields: [name], kind: full_name, key: "\${TRIB_TEST_MASK_KEY}", key_format: raw}
  - {type: allow, tables: [public.customers], fields: [id, notes]}
  - {type: allow, tables: [public.orders], fields: [id, customer_id, amount, status]}
  - {type: rename, tables: [public.customers], renames: {name: full_name}}
dead_letter: refused
sinks:
  db:
    type: postgres
    dsn: "$(pg_dsn target)"
    create_tables: true
    batch_size: 50
  archive:
    type: file
    path: "$WORK/out.jsonl"
  refused:
    type: file
    path: "$WORK/refused.jsonl"
EOF

# 40 transactions: customers with PII, their orders (every 7th over the
# limit), updates and deletes.
writer() {
    local t
    for t in $(seq 1 40); do
        pgc_psql -d postgres -c "BEGIN;
            INSERT INTO public.customers SELECT g, 'Name ' || g, 'person' || g || '@mail.example',
                   '+1-555-' || lpad(g::text, 4, '0'), '4000-0000-' || lpad(g::text, 4, '0') || '-' || lpad((g * 7 % 10000)::text, 4, '0'),
                   jsonb_build_object('contact', jsonb_build_object('phone', '+1-555-' || lpad(g::text, 4, '0')),
                                      'internal', 'secret note ' || g, 'tier', g % 3)
              FROM generate_series($t * 10, $t * 10 + 9) g;
            INSERT INTO public.orders SELECT 100000 + g * 3 + k, g, 'person' || g || '@mail.example',
                   CASE WHEN (g * 3 + k) % 7 = 0 THEN 5000 ELSE (g * 3 + k) % 900 END, 'open'
              FROM generate_series($t * 10, $t * 10 + 9) g, generate_series(0, 2) k;
            UPDATE public.customers SET phone = phone || '9' WHERE id = $t * 10 + 3;
            UPDATE public.orders SET status = 'paid' WHERE customer_id = $t * 10 + 4;
            DELETE FROM public.orders WHERE id = 100000 + ($t * 10 + 5) * 3;
            COMMIT;" >/dev/null
        sleep 0.05
    done
}
writer &
WRITER_PID=$!
start_consumer
kill_while_writing
expect_eq "the slot was confirmed to the end after $KILLS kill(s)" t "$(slot_caught_up tributary_e2e20)"
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"

# ---- the expected result, computed in SQL ------------------------------------
pgc_psql -d postgres -c "
CREATE FUNCTION pg_temp.h(ctx text, v text) RETURNS text LANGUAGE sql AS \$\$
  SELECT encode(hmac(convert_to('tributary.hash.v1', 'UTF8') || '\\x00'::bytea
                     || decode(lpad(to_hex(octet_length(ctx)), 8, '0'), 'hex')
                     || convert_to(ctx, 'UTF8') || convert_to(v, 'UTF8'),
                     convert_to('$KEY', 'UTF8'), 'sha256'), 'hex') \$\$;
CREATE FUNCTION pg_temp.keep(v text) RETURNS boolean LANGUAGE sql AS \$\$
  SELECT substr(encode(hmac(decode('00000006', 'hex') || convert_to('sample', 'UTF8')
                            || convert_to(v, 'UTF8'),
                            convert_to('tributary-sample-v1', 'UTF8'), 'sha256'), 'hex'), 1, 1) < '8' \$\$;
CREATE TABLE public.want_customers AS
  SELECT id, pg_temp.h('email', email) AS email, repeat('#', length(phone)) AS phone,
         repeat('*', length(card) - 4) || right(card, 4) AS card,
         jsonb_set(notes #- '{internal}', '{contact,phone}',
                   to_jsonb(repeat('#', length(notes->'contact'->>'phone')))) AS notes,
         name AS source_name
    FROM public.customers WHERE pg_temp.keep(id::text);
CREATE TABLE public.want_orders AS
  SELECT id, customer_id, pg_temp.h('email', buyer_email) AS buyer_email, amount, status
    FROM public.orders WHERE pg_temp.keep(customer_id::text) AND amount BETWEEN 0 AND 1000;
CREATE TABLE public.want_refused AS
  -- every insert over the limit, and the update of those of customers t*10+4
  SELECT count(*) + count(*) FILTER (WHERE g % 10 = 4) AS n
    FROM generate_series(10, 409) g, generate_series(0, 2) k
   WHERE (g * 3 + k) % 7 = 0 AND pg_temp.keep(g::text);" >/dev/null

cq="SELECT id, email, phone, card, notes FROM public.%s ORDER BY id"
oq="SELECT id, customer_id, buyer_email, amount, status FROM public.%s ORDER BY id"
pgc_psql -d postgres -Atc "$(printf "$cq" want_customers)" > "$WORK/want.c"
pgc_psql -d target -Atc "$(printf "$cq" customers)" > "$WORK/got.c" || true
pgc_psql -d postgres -Atc "$(printf "$oq" want_orders)" > "$WORK/want.o"
pgc_psql -d target -Atc "$(printf "$oq" orders)" > "$WORK/got.o" || true
n=$(wc -l < "$WORK/want.c")
expect_eq "the sample keeps about half of 400 customers" t "$([ "$n" -gt 150 ] && [ "$n" -lt 250 ] && echo t || echo f)"
expect_eq "target customers = transformed, sampled source, row for row" "" "$(diff "$WORK/want.c" "$WORK/got.c" | head -3)"
expect_eq "target orders = transformed, sampled, quality-checked source" "" "$(diff "$WORK/want.o" "$WORK/got.o" | head -3)"
expect_eq "names are substituted: none equals the source's, each is a realistic full name" 0 \
    "$(pgc_psql -d target -Atc "SELECT count(*) FROM public.customers WHERE full_name LIKE 'Name %' OR full_name !~ '^[[:alpha:]'' .-]+ [[:alpha:]'' .-]+$'")"
expect_eq "substitutes spread over the dictionary (no fake name shared by more than 3 customers)" 0 \
    "$(pgc_psql -d target -Atc "SELECT count(*) FROM (SELECT full_name FROM public.customers GROUP BY 1 HAVING count(*) > 3) x")"
expect_eq "every target order joins its customer, by id and by pseudonym" 0 \
    "$(pgc_psql -d target -Atc "SELECT count(*) FROM public.orders o LEFT JOIN public.customers c
        ON c.id = o.customer_id AND c.email = o.buyer_email WHERE c.id IS NULL")"
expect_eq "the dropped nested key is not in the target schema's data" 0 \
    "$(pgc_psql -d target -Atc "SELECT count(*) FROM public.customers WHERE notes ? 'internal'")"
expect_eq "the renamed column exists in the created table" 1 \
    "$(pgc_psql -d target -Atc "SELECT count(*) FROM information_schema.columns
        WHERE table_name = 'customers' AND column_name = 'full_name'")"

# ---- dead letters ---------------------------------------------------------------
pgc_psql -d postgres -Atc "SELECT n FROM public.want_refused" > "$WORK/want.r"
expect_eq "each refused change is in the dead-letter file once" "$(cat "$WORK/want.r")" \
    "$(grep -c '"error":"quality rule sane_amount: field amount is out of range"' "$WORK/refused.jsonl" || true)"
expect_eq "dead-letter records carry no row data" 0 \
    "$(grep -c -E '"(before|after)":\{' "$WORK/refused.jsonl" || true)"
expect_eq "the dead-letter file holds nothing else" 0 "$(grep -vc '"error":' "$WORK/refused.jsonl" || true)"

# ---- the leak test ---------------------------------------------------------------
pgc_psql -d target -Atc "SELECT * FROM public.customers; SELECT * FROM public.orders" > "$WORK/target.dump"
leaks=0
for f in "$WORK/target.dump" "$WORK/out.jsonl" "$WORK/refused.jsonl" "$WORK/run.log"; do
    c=$(grep -c -E 'Name [0-9]+|person[0-9]+@mail|555-[0-9]{4}|4000-0000|secret note' "$f" || true)
    [ "$c" = 0 ] || echo "# leak in $f: $(grep -o -m3 -E 'Name [0-9]+|person[0-9]+@mail|555-[0-9]{4}|4000-0000|secret note' "$f" | head -3 | tr '\n' ' ')"
    leaks=$((leaks + c))
done
expect_eq "no original name, email, phone, card or internal note in any output or log (strict pipeline)" 0 "$leaks"
expect_eq "the key is not in the log" 0 "$(grep -c "$KEY" "$WORK/run.log" || true)"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
echo "# $KILLS kills"
e2e_finish
