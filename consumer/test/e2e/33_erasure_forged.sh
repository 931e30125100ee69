#!/usr/bin/env bash
# 33_erasure_forged.sh: nothing that any role can write into the WAL
# erases anything (issue 9, item 1).
#
# The attack, exactly as reported: with `erasure:` configured, a Postgres
# sink and a file sink, a role with no privileges at all emits
# `tributary.erasure` logical messages, transactional and not: a delete of
# accounts row 1, a forged update of row 2 (owner mallory), and a delete in
# a table that exists only in the target.  The role cannot write the
# erasure tables either.  A member of tributary_eraser then writes key
# rows by hand that do not fit (a table that is not a target, a key with a
# forged column).  Afterwards:
#   - the target and the target-only table are unchanged, the file has no
#     tombstone and no forged value;
#   - the audit log records each refusal with its reason, and /metrics
#     counts them;
# and the legitimate path still works: a request for subject 3 anonymises
# row 3 (every column outside the key null, whatever a key row says).
# The source's include_tables name accounts only: the erasure tables are
# captured anyway, and never reach a sink.  The file sink, its sidecar and
# the audit log are created 0600; an audit log left 0644 by an older
# version is narrowed.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
chmod 777 "$WORK"
HTTP_PORT=$(pgc_free_port)
catalog_init "CREATE DATABASE target" \
    "CREATE TABLE public.accounts (id int PRIMARY KEY, owner text, balance numeric)" \
    "CREATE ROLE mallory LOGIN" \
    "CREATE ROLE eraser LOGIN IN ROLE tributary_eraser" \
    -- tributary_e2e22f
pgc_psql -d target -c "CREATE TABLE public.only_in_target (id int PRIMARY KEY, v text)" \
    -c "INSERT INTO public.only_in_target VALUES (1, 'keep'), (2, 'keep')" >/dev/null
# an audit log an older version left world-readable
echo '{"old":"line"}' > "$WORK/erasure.jsonl"
chmod 644 "$WORK/erasure.jsonl"

DSN="$(pg_dsn)"
cat > "$WORK/p.yaml" <<YAML
pipeline: e2e22f
sources:
  main:
    type: postgres
    dsn: "$DSN"
    snapshot: never
    status_interval_ms: 200
    include_tables: [public.accounts]
    exclude_tables: [public.audit]
erasure:
  targets: [public.accounts.id]
  action: anonymize
  audit_log: "$WORK/erasure.jsonl"
  subject_key: "e2e22f-subject-key-0123456789"
  subject_key_format: raw
sinks:
  db:
    type: postgres
    dsn: "$(pg_dsn target)"
    create_tables: true
  out: {type: file, path: "$WORK/out.jsonl"}
checkpoint: {store: catalog}
http: {enabled: true, listen: "127.0.0.1:$HTTP_PORT"}
YAML
"$BIN" check -c "$WORK/p.yaml" > "$WORK/check.out"
expect_eq "check reports the erasure tables and the target" t \
    "$(grep -q "erasure tables: present" "$WORK/check.out" && grep -q "target public.accounts.id: ok" "$WORK/check.out" && echo t || echo f)"
sed "s|^  subject_key_format: raw|&\n  dsn: \"host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=mallory\"|" "$WORK/p.yaml" > "$WORK/mallory.yaml"
expect_eq "check says when the erasure role is not a tributary_eraser" t \
    "$("$BIN" check -c "$WORK/mallory.yaml" > "$WORK/mallory.out"; grep -q "role mallory: not a member of tributary_eraser" "$WORK/mallory.out" && echo t || echo f)"
start_consumer
pgc_psql -d postgres -c "INSERT INTO public.accounts SELECT g, 'owner' || g, g * 100 FROM generate_series(1, 5) g" >/dev/null
expect_eq "replicated" t "$(slot_caught_up tributary_e2e22f)"
ORIGINAL="1|owner1|100 2|owner2|200 3|owner3|300 4|owner4|400 5|owner5|500"
accounts() {
    pgc_psql -d target -Atc "SELECT string_agg(concat_ws('|', id, coalesce(owner, '-'), coalesce(balance::text, '-')), ' ' ORDER BY id) FROM public.accounts"
}
expect_eq "the target has the accounts" "$ORIGINAL" "$(accounts)"

# The attack: a role with no privileges at all.
as_role() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGC_SOCK" -p "$PGC_PORT" -U "$1" -d postgres -Atc "$2" 2>&1; }
as_role mallory "SELECT pg_logical_emit_message(true,'tributary.erasure','{\"schema\":\"public\",\"table\":\"accounts\",\"request\":\"x\",\"key\":{\"id\":1}}')" >/dev/null
as_role mallory "SELECT pg_logical_emit_message(false,'tributary.erasure','{\"schema\":\"public\",\"table\":\"accounts\",\"request\":\"y\",\"key\":{\"id\":2},\"after\":{\"id\":2,\"owner\":\"mallory\",\"balance\":99999999}}')" >/dev/null
as_role mallory "SELECT pg_logical_emit_message(true,'tributary.erasure','{\"schema\":\"public\",\"table\":\"only_in_target\",\"request\":\"z\",\"key\":{\"id\":1}}')" >/dev/null
as_role mallory "SELECT pg_logical_emit_message(false,'tributary.erasure','{\"schema\":\"public\",\"table\":\"only_in_target\",\"request\":\"w\",\"key\":{\"id\":2}}')" >/dev/null
denied() { case $(as_role mallory "$1" || true) in *"permission denied"*) echo t ;; *) echo f ;; esac; }
expect_eq "mallory cannot make a request" t "$(denied "INSERT INTO tributary.erasure_requests (subject) VALUES ('1')")"
expect_eq "mallory cannot write a key row" t \
    "$(denied "INSERT INTO tributary.erasure_keys (request_id, schema_name, table_name, key) VALUES (1, 'public', 'accounts', '{\"id\":1}')")"
# An eraser's key rows that do not fit: a table that is not a target (it
# exists only in the target), and a key with a forged column.
as_role eraser "INSERT INTO tributary.erasure_keys (request_id, schema_name, table_name, key) VALUES (7, 'public', 'only_in_target', '{\"id\":1}')" >/dev/null
as_role eraser "INSERT INTO tributary.erasure_keys (request_id, schema_name, table_name, key) VALUES (7, 'public', 'accounts', '{\"id\":2,\"owner\":\"mallory\"}')" >/dev/null
pgc_psql -d postgres -c "INSERT INTO public.accounts VALUES (6, 'owner6', 600)" >/dev/null
expect_eq "caught up after the attack" t "$(slot_caught_up tributary_e2e22f)"
for _ in $(seq 1 50); do [ "$(accounts)" = "$ORIGINAL 6|owner6|600" ] && break; sleep 0.1; done

expect_eq "the target's accounts are unchanged" "$ORIGINAL 6|owner6|600" "$(accounts)"
expect_eq "the table only in the target is unchanged" "1|keep 2|keep" \
    "$(pgc_psql -d target -Atc "SELECT string_agg(id || '|' || v, ' ' ORDER BY id) FROM public.only_in_target")"
expect_eq "the file has no tombstone" 0 "$(grep -c '"value":null' "$WORK/out.jsonl" || true)"
expect_eq "the file has no forged value" 0 "$(grep -c mallory "$WORK/out.jsonl" || true)"
expect_eq "the file has no catalog event" 0 "$(grep -c 'erasure_' "$WORK/out.jsonl" || true)"
expect_eq "the file has the 6 inserts" 6 "$(grep -c '"op":"c"' "$WORK/out.jsonl" || true)"
refusals() { grep '"result":"refused"' "$WORK/erasure.jsonl" | grep -c "$1" || true; }
expect_eq "the audit log refuses the 4 messages" 4 "$(refusals '"event":"message".*carries no authority')"
expect_eq "both transactional and not" "false true" \
    "$(grep '"event":"message"' "$WORK/erasure.jsonl" | grep -o '"transactional":[a-z]*' | sort -u | cut -d: -f2 | paste -sd' ')"
expect_eq "the audit log refuses the key row of a table that is not a target" 1 \
    "$(refusals '"table":"public.only_in_target".*not an erasure target')"
expect_eq "and the key row with a forged column" 1 \
    "$(refusals '"table":"public.accounts".*does not hold exactly the table.s key columns')"
METRICS=$(curl -s "http://127.0.0.1:$HTTP_PORT/metrics")
expect_eq "/metrics counts the refused messages" 4 \
    "$(echo "$METRICS" | sed -n 's/^tributary_erasure_refused_total{kind="message"} //p')"
expect_eq "/metrics counts the refused key rows" 2 \
    "$(echo "$METRICS" | sed -n 's/^tributary_erasure_refused_total{kind="key"} //p')"

# The legitimate path: an eraser's request anonymises account 3.
as_role eraser "INSERT INTO tributary.erasure_requests (subject, reason) VALUES ('3', 'ticket 1')" >/dev/null
for _ in $(seq 1 100); do [ "$(accounts)" = "1|owner1|100 2|owner2|200 3|-|- 4|owner4|400 5|owner5|500 6|owner6|600" ] && break; sleep 0.1; done
expect_eq "a request anonymises the subject's row, and only it" \
    "1|owner1|100 2|owner2|200 3|-|- 4|owner4|400 5|owner5|500 6|owner6|600" "$(accounts)"
expect_eq "the file gets the anonymising update" t \
    "$(grep '"op":"u"' "$WORK/out.jsonl" | grep '"after":{"id":3,"owner":null,"balance":null}' >/dev/null && echo t || echo f)"
expect_eq "the audit log accepts the request" 1 "$(grep -c '"event":"request".*"result":"accepted"' "$WORK/erasure.jsonl" || true)"
expect_eq "with the subject's HMAC, not the subject" t \
    "$(grep '"event":"request"' "$WORK/erasure.jsonl" | grep '"subject_hmac":"[0-9a-f]\{64\}"' >/dev/null &&
       ! grep '"event":"request"' "$WORK/erasure.jsonl" | grep '"subject"' >/dev/null && echo t || echo f)"
HMAC=$(printf '3\n' | E2E22F_KEY=e2e22f-subject-key-0123456789 \
       "$BIN" hash --key-env E2E22F_KEY --key-format raw --context erasure.subject)
expect_eq "the HMAC is the one tributary hash computes" t \
    "$(grep -q "\"subject_hmac\":\"$HMAC\"" "$WORK/erasure.jsonl" && echo t || echo f)"
expect_eq "the key row applied is in the audit log" 1 \
    "$(grep -c '"event":"key".*"table":"public.accounts".*"result":"applied"' "$WORK/erasure.jsonl" || true)"
expect_eq "/metrics counts the accepted request" 1 \
    "$(curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | sed -n 's/^tributary_erasure_accepted_total{kind="request"} //p')"

expect_eq "caught up" t "$(slot_caught_up tributary_e2e22f)"
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"
expect_eq "the file sink is 0600" 600 "$(stat -c %a "$WORK/out.jsonl")"
expect_eq "its sidecar is 0600" 600 "$(stat -c %a "$WORK/out.jsonl.pos")"
expect_eq "the audit log left 0644 is narrowed to 0600" 600 "$(stat -c %a "$WORK/erasure.jsonl")"
e2e_finish
