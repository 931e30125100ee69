#!/usr/bin/env bash
# 83_schema_check_keys.sh: `tributary check` of key subjects.  With
# `schemas.keys: true` (which the Kafka sink's key_format json_sr and avro
# need) the schema stage registers each table's key schema under
# "<subject>-key"; check must check that subject against the table's
# current key as it checks the value subject, with the same messages:
#   1. the daemon registers value and key version 1;
#   2. check: both subjects compatible, exit 0;
#   3. the primary key gains a column (note, already NOT NULL, so the row's
#      shape is unchanged): check names the key subject as incompatible,
#      with the violation, and counts it as a problem under
#      on_incompatible: fail, while the value subject stays compatible;
#   4. without schemas.keys check says nothing of key subjects.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=schema_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/schema_lib.sh"
e2e_init

orders_start "note text NOT NULL" tributary_keyk
KEY_SUBJECT=$SUBJECT-key

{
    echo "pipeline: keyk"
    source_yaml
    cat <<EOF
sinks:
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: keyk
    key_format: json_sr
    value_format: json_sr
schemas:
  enabled: true
  keys: true
  on_incompatible: fail
checkpoint:
  store: catalog
http:
  enabled: false
EOF
} >"$WORK/p.yaml"

# key_versions: how many versions the key subject has.
key_versions() { q postgres "SELECT count(*) FROM tributary.schema_versions WHERE subject = '$KEY_SUBJECT'"; }

# ---- 1: the daemon registers both subjects
start_consumer
pgc_psql -d postgres -c "INSERT INTO public.orders VALUES (1, 'one')" >/dev/null
expect_eq "the value subject has version 1" 0 "$(wait_version 1 60; echo $?)"
for _ in $(seq 1 200); do [ "$(key_versions)" -ge 1 ] && break; sleep 0.1; done
expect_eq "the key subject has version 1" 1 "$(key_versions)"
stop_consumer
expect_eq "the daemon exits 0" 0 "$STOP_RC"

# ---- 2: nothing changed: both compatible
rc=0
"$BIN" check -c "$WORK/p.yaml" > "$WORK/check1.out" 2>&1 || rc=$?
expect_eq "check exits 0" 0 "$rc"
expect_grep "check: no problem" "$WORK/check1.out" "^0 problem\(s\) found"
expect_grep "check: the value subject is compatible" "$WORK/check1.out" \
    "subject $SUBJECT: the table's current shape is compatible"
expect_grep "check: the key subject is compatible" "$WORK/check1.out" \
    "subject $KEY_SUBJECT: the table's current shape is compatible"

# ---- 3: the key gains a column; the row's shape does not change
pgc_psql -d postgres -c "ALTER TABLE public.orders DROP CONSTRAINT orders_pkey, ADD PRIMARY KEY (id, note)" >/dev/null
rc=0
"$BIN" check -c "$WORK/p.yaml" > "$WORK/check2.out" 2>&1 || rc=$?
expect_eq "check exits 0 (the configuration is valid)" 0 "$rc"
expect_grep "check: the key counts as a problem, since run would stop on it" "$WORK/check2.out" \
    "^1 problem\(s\) found \(the configuration itself is valid\)"
expect_grep "check: the key subject is incompatible, named, with what run does" "$WORK/check2.out" \
    "subject $KEY_SUBJECT: the table's current shape is incompatible \([0-9]+ violation\(s\)\); under on_incompatible: fail"
expect_grep "check: the violation, with the version and the path" "$WORK/check2.out" \
    "against version 1: [A-Z_]+ at #/[a-z/]*: "
expect_grep "check: the value subject is still compatible" "$WORK/check2.out" \
    "subject $SUBJECT: the table's current shape is compatible"

# ---- 4: without schemas.keys, no key subject
sed -e '/keys: true/d' -e '/key_format: json_sr/d' "$WORK/p.yaml" > "$WORK/nokeys.yaml"
"$BIN" check -c "$WORK/nokeys.yaml" > "$WORK/check3.out" 2>&1 || true
expect_grep "check without keys: the value subject" "$WORK/check3.out" \
    "subject $SUBJECT: the table's current shape is compatible"
expect_no_grep "check without keys: no key subject" "$WORK/check3.out" "$KEY_SUBJECT"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
