#!/usr/bin/env bash
# 125_masking_leaks.sh: ways a masked field's clear text escaped the
# masking rules, each through the real daemon -- AGAINST THE PROJECT'S
# WIRE-PROTOCOL TEST DOUBLE for MongoDB (test/mongo/, mongo_double).
#
#  A  a compound _id ({"_id": {"email": ...}}): a rule on _id.email masks
#     it in `after` and in the key (the Kafka key, the sinks' documentKey),
#     which used to keep it in clear text.
#  B  a dead-lettered update (dead_letter_images: none): the record keeps
#     no updateDescription, whose updatedFields used to carry a field the
#     later rules would have masked, and its reason names the field
#     (it used to read freed memory: the updatedFields tree).
#
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mongo_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mongo_lib.sh"
mongo_init --verbose -- crm

cat >"$WORK/m.yaml" <<YAML
pipeline: m
$(mongo_source_yaml "    database: crm
    collection: users
    full_document: whenAvailable")
sinks:
  out:
    type: file
    path: "$WORK/m.jsonl"
  dlq:
    type: file
    path: "$WORK/dlq.jsonl"
$(ckpt_yaml "$WORK/m.ckpt")
dead_letter: dlq
transforms:
  - {type: redact, fields: [_id.email]}
  - {type: partial, fields: [card], keep_last: 4}
  - {type: redact, fields: [ssn]}
YAML
start_consumer "$WORK/m.yaml" "$WORK/m.log"
wait_log "$WORK/m.log" "change stream open on crm.users" 10 || true
drive <<'CMDS'
crm {"insert": "users", "documents": [{"_id": {"email": "ann@corp.example", "n": 1}, "ssn": "078-05-1120", "card": "4111111111111234"}]}
crm {"update": "users", "updates": [{"q": {"_id": {"email": "ann@corp.example", "n": 1}}, "u": {"$set": {"ssn": "219-09-9999", "card": {"pan": "5500000000000004"}}}}]}
crm {"insert": "users", "documents": [{"_id": {"email": "bob@corp.example", "n": 2}, "ssn": "111-22-3333"}]}
CMDS
wait_lines "$WORK/m.jsonl" 2 15 || true
wait_lines "$WORK/dlq.jsonl" 1 15 || true
stop_consumer

# ---------------------------------------------------------------- A: the key
expect_eq "A: both inserts written" "2" "$(wc -l <"$WORK/m.jsonl")"
for pii in ann@corp.example bob@corp.example 078-05-1120 111-22-3333; do
    expect_absent "A: no original $pii anywhere in the output" "$pii" "$WORK/m.jsonl"
done
keys=$(python3 - "$WORK/m.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    print(json.dumps(json.loads(l)["key"], sort_keys=True))
PY
)
echo "$keys" | sed 's/^/# key: /'
expect_match "A: the key's _id.email is masked, its other members kept" \
    '^\{"_id": \{"email": "\*{16}", "n": 1\}\}$' "$(sed -n 1p <<<"$keys")"

# ---------------------------------------------------------------- B: dead letter
expect_eq "B: the update went to the dead-letter sink" "1" "$(wc -l <"$WORK/dlq.jsonl")"
sed 's/^/# dead letter: /' "$WORK/dlq.jsonl"
expect_grep "B: with its reason, naming the field" "$WORK/dlq.jsonl" \
    '"error":"[^"]*\(partial rule transforms\[1\], field card\)"'
for pii in 219-09-9999 5500000000000004 ann@corp.example; do
    expect_absent "B: no original $pii in the dead-letter record" "$pii" "$WORK/dlq.jsonl"
done
expect_absent "B: no updateDescription in the dead-letter record" "updateDescription" \
    "$WORK/dlq.jsonl"

expect_no_sanitizer "no sanitizer report from the consumer" "$WORK"/*.log
e2e_finish
