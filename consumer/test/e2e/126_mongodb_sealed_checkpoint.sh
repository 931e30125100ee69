#!/usr/bin/env bash
# 126_mongodb_sealed_checkpoint.sh: checkpoint.encryption_key seals the
# positions the checkpoint store keeps, so that a masked _id cannot be read
# back from it -- AGAINST THE PROJECT'S WIRE-PROTOCOL TEST DOUBLE for
# MongoDB (test/mongo/, mongo_double).  A real resume token encodes the
# event's documentKey; the double's encodes only its place in the oplog,
# so the checks look for the token itself and for the snapshot's progress
# (whose `after` is the last copied _id) as the clear bytes.
#
#  A  no key (the control): a rule masks the compound _id's email; the
#     checkpoint file keeps the snapshot's last _ids and the resume token
#     in clear, and the daemon and
#     `check --offline` warn that the masked _id stays readable there.
#  B  the same with a key: every version of the checkpoint file seen while
#     a snapshot (one row per chunk) and the stream run is sealed and holds
#     neither the emails (as text or hex) nor a token; no warning.
#  C  kill -9 at random points under load, file store sealed: every change
#     once, in order; the restarts resumed by the stored (sealed) token.
#  D  catalog store sealed: the row's position holds no token, a kill -9 +
#     restart resumes by it; `check` with a wrong key or none reports the
#     row unreadable (as run would find it), with the right key reads it;
#     a pause state row that does not open stops run (not retried).
#  E  a wrong key, or none, for C's sealed file: run stops with an error
#     naming the pipeline and the store (and no key material), does not
#     start over, and leaves the file as it was.  The file sink's sidecar,
#     sealed too (e2e 110), is named first; moved aside, the store is.
#
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mongo_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mongo_lib.sh"
mongo_init --verbose -- crm crm2 load cat
pgc_psql -d postgres -c "CREATE EXTENSION tributary" >/dev/null

KEY=5e1f0a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7
OTHER=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
export TRIB_E2E_CKPT_KEY=$KEY

# pipeline NAME SCOPE-YAML SINKS-YAML CHECKPOINT-YAML [EXTRA]: $WORK/NAME.yaml.
pipeline() {
    {
        echo "pipeline: $1"
        mongo_source_yaml "$2"
        printf 'sinks:\n%s\ncheckpoint:\n%s\nhttp:\n  enabled: false\n%s\n' "$3" "$4" "${5:-}"
    } >"$WORK/$1.yaml"
}
SEALED='  encryption_key: "${TRIB_E2E_CKPT_KEY}"'
MASK='transforms:
  - {type: redact, fields: [_id.email]}'

# seed DB: three users with a compound _id holding an email.
seed() {
    drive <<CMDS
$1 {"insert": "users", "documents": [{"_id": {"email": "ann@corp.example", "n": 1}, "v": 1}, {"_id": {"email": "bob@corp.example", "n": 2}, "v": 2}, {"_id": {"email": "cy@corp.example", "n": 3}, "v": 3}]}
CMDS
}

# watch FILE OUT: in the background (WATCH_PID), append every new version
# of FILE to OUT, until killed.
watch() {
    ( last=""
      while :; do
          cur=$(cat "$1" 2>/dev/null || true)
          [ -n "$cur" ] && [ "$cur" != "$last" ] && { echo "$cur" >>"$2"; last=$cur; }
          sleep 0.02
      done ) &
    WATCH_PID=$!
}

# run_phase NAME DB: seed DB, run NAME's pipeline while watching its
# checkpoint file, one insert in the stream, stop.
run_phase() {
    seed "$2"
    : >"$WORK/$1.seen"
    watch "$WORK/$1.ckpt" "$WORK/$1.seen"
    start_consumer "$WORK/$1.yaml" "$WORK/$1.log"
    wait_lines "$WORK/$1.jsonl" 3 20 || true
    wait_log "$WORK/$1.log" "change stream open on $2.users" 10 || true
    echo "$2 {\"insert\": \"users\", \"documents\": [{\"_id\": {\"email\": \"dee@corp.example\", \"n\": 4}, \"v\": 4}]}" | drive
    wait_lines "$WORK/$1.jsonl" 4 15 || true
    sleep 0.5	# the stream event's checkpoint
    stop_consumer
    kill "$WATCH_PID" 2>/dev/null; wait "$WATCH_PID" 2>/dev/null || true
}

SCOPE_USERS="    database: %s
    collection: users
    snapshot: initial
    snapshot_chunk_rows: 1"

# ---------------------------------------------------------------- A: no key
# shellcheck disable=SC2059
pipeline u "$(printf "$SCOPE_USERS" crm)" "  out:
    type: file
    path: \"$WORK/u.jsonl\"" "  store: file
  path: \"$WORK/u.ckpt\"" "$MASK"
"$BIN" check -c "$WORK/u.yaml" --offline >"$WORK/u.check" 2>&1 || true
run_phase u crm
expect_eq "A: four users written" "4" "$(wc -l <"$WORK/u.jsonl")"
expect_absent "A: the output has no email" "@corp.example" "$WORK/u.jsonl"
expect_grep "A: the unsealed checkpoint showed the snapshot's last _ids (masked in the output) in clear" \
    "$WORK/u.seen" '"after":"\{ \\"v\\" : \{ \\"email\\" : \\"(ann|bob|cy)@corp.example'
expect_grep "A: the unsealed checkpoint holds the clear token" "$WORK/u.ckpt" '"_data" *: *"[0-9A-Fa-f]+"'
expect_grep "A: run warns that the masked _id stays readable in the store" "$WORK/u.log" \
    "WARN .*rule transforms\[0\] \(redact\) masks _id.email of source shop, whose stored positions \(resume tokens\) hold the clear _id"
expect_grep "A: check --offline warns too" "$WORK/u.check" \
    "^warning: rule transforms\[0\] \(redact\) masks _id.email of source shop"

# ---------------------------------------------------------------- B: sealed
# shellcheck disable=SC2059
pipeline s "$(printf "$SCOPE_USERS" crm2)" "  out:
    type: file
    path: \"$WORK/s.jsonl\"" "  store: file
  path: \"$WORK/s.ckpt\"
$SEALED" "$MASK"
"$BIN" check -c "$WORK/s.yaml" --offline >"$WORK/s.check" 2>&1 || true
run_phase s crm2
expect_eq "B: four users written" "4" "$(wc -l <"$WORK/s.jsonl")"
expect_absent "B: the output has no email" "@corp.example" "$WORK/s.jsonl"
echo "# B: $(wc -l <"$WORK/s.seen") versions of the checkpoint file seen"
# the snapshot's per-chunk saves come milliseconds apart and a 20 ms poll
# may see only the last of them; two versions are always seen: the
# snapshot's last (kept while the stream opens) and the stream event's
# (kept 0.5 s), so "every version" below covers both phases
expect_match "B: several versions of the checkpoint file were seen" "^([2-9]|[1-9][0-9]+)$" \
    "$(wc -l <"$WORK/s.seen")"
expect_eq "B: every version is sealed" "$(wc -l <"$WORK/s.seen")" \
    "$(grep -c '"position":{"tributary_sealed":1,"alg":"AES-256-GCM","data":"' "$WORK/s.seen")"
expect_absent "B: no version holds an email" "corp.example" "$WORK/s.seen"
expect_absent "B: no version holds a token" "_data" "$WORK/s.seen"
expect_absent "B: no version holds a snapshot's progress in clear" '"ranges"' "$WORK/s.seen"
for e in ann bob cy dee; do
    hex=$(printf '%s@corp.example' "$e" | od -An -tx1 | tr -d ' \n')
    expect_eq "B: no version holds ${e}'s email as hex" "0" "$(grep -ci "$hex" "$WORK/s.seen" || true)"
done
expect_absent "B: no warning about the store" "hold the clear _id" "$WORK/s.log"
expect_absent "B: check --offline has no warning" "^warning:" "$WORK/s.check"
expect_absent "B: the key is not in the log" "$KEY" "$WORK/s.log"

# ---------------------------------------------------------------- C: kill -9 under load
pipeline k "    database: load" "  nothing:
    type: \"null\"
  out:
    type: file
    path: \"$WORK/k.jsonl\"" "  store: file
  path: \"$WORK/k.ckpt\"
$SEALED"
start_consumer "$WORK/k.yaml" "$WORK/k.log"
wait_log "$WORK/k.log" "change stream open on load" 10 || true
echo 'load {"insert": "items", "documents": [{"_id": 0, "v": 0}]}' | drive
wait_lines "$WORK/k.jsonl" 1 10 || true
for _ in $(seq 1 50); do [ -s "$WORK/k.ckpt" ] && break; sleep 0.1; done
KILLS=0; restart_counts_reset
load_writer
while kill -0 "$WRITER_PID" 2>/dev/null; do
    sleep "0.$(( RANDOM % 9 + 2 ))"
    restart "$WORK/k.yaml" "$WORK/k.log" "$WORK/k.ckpt" ""
    KILLS=$((KILLS + 1))
done
wait "$WRITER_PID" || true
echo 'load {"insert": "items", "documents": [{"_id": 999, "v": 0}]}' | drive
for _ in $(seq 1 150); do grep -q '"_id" : 999' "$WORK/k.jsonl" && break; sleep 0.1; done
stop_consumer
echo "# C: $KILLS kills"
load_check "C: after kill -9 with a sealed store, every change exactly once, in order" "$WORK/k.jsonl"
expect_match "C: at least 3 restarts resumed by the stored token" "^([3-9]|[1-9][0-9]+)$" \
    "$(grep -c 'by its stored resume token' "$WORK/k.log" || true)"
expect_grep "C: the checkpoint file is sealed" "$WORK/k.ckpt" '"position":\{"tributary_sealed":1,'
expect_absent "C: and holds no token" "_data" "$WORK/k.ckpt"

# ---------------------------------------------------------------- D: catalog store
pipeline c "    database: cat" "  nothing:
    type: \"null\"" "  store: catalog
  dsn: \"$(pg_dsn)\"
$SEALED"
start_consumer "$WORK/c.yaml" "$WORK/c.log"
wait_log "$WORK/c.log" "change stream open on cat" 10 || true
drive <<'CMDS'
cat {"insert": "c", "documents": [{"_id": {"email": "eve@corp.example"}}]}
CMDS
cpos=""
for _ in $(seq 1 50); do
    cpos=$(q postgres "SELECT position::text FROM tributary.checkpoint_get('c', 'shop')")
    [ -n "$cpos" ] && break
    sleep 0.1
done
n=$(grep -c 'by its stored resume token' "$WORK/c.log" || true)
kill_restart "$WORK/c.yaml" "$WORK/c.log"
wait_log "$WORK/c.log" "change stream open on cat" 10 || true
stop_consumer
expect_match "D: the catalog's position is sealed" '^\{"alg": "AES-256-GCM", "data": "[A-Za-z0-9+/=]+", "tributary_sealed": 1\}$' "$cpos"
expect_eq "D: the restart resumed by the stored token" "$((n + 1))" \
    "$(grep -c 'by its stored resume token' "$WORK/c.log" || true)"
on_double && expect_match "D: the stream opened resumeAfter a token" "^resumeAfter [0-9A-Fa-f]+$" "$GOT"
# check reads the catalog's row as run would: a wrong key or none is a
# problem now, not at the next start; the right key reads it.
TRIB_E2E_CKPT_KEY=$OTHER "$BIN" check -c "$WORK/c.yaml" >"$WORK/c.check.bad" 2>&1 || true
grep -v encryption_key "$WORK/c.yaml" >"$WORK/c0.yaml"
"$BIN" check -c "$WORK/c0.yaml" >"$WORK/c.check.none" 2>&1 || true
"$BIN" check -c "$WORK/c.yaml" >"$WORK/c.check" 2>&1 || true
expect_grep "D: check with a wrong key cannot read the catalog's position" "$WORK/c.check.bad" \
    "source shop: cannot read it: checkpoint of pipeline c, source shop \(catalog table tributary.source_checkpoints\): the stored position cannot be read: it does not open with the key given"
expect_match "D: and counts it as a problem" "^[1-9][0-9]*$" \
    "$(sed -nE 's/^([0-9]+) problem\(s\) found.*/\1/p' "$WORK/c.check.bad")"
expect_absent "D: no key material in check's output" "$OTHER" "$WORK/c.check.bad"
expect_grep "D: check without a key says to set it" "$WORK/c.check.none" \
    "source shop: cannot read it: .*it is sealed and no key was given \(set checkpoint.encryption_key\)"
expect_grep "D: check with the right key reads it" "$WORK/c.check" "source shop: commit "
expect_absent "D: and finds nothing unreadable" "cannot read" "$WORK/c.check"
# a pause state row that does not open (as with a wrong key): run stops,
# as for a position, instead of retrying a catalog error forever
q postgres "SELECT tributary.checkpoint_save('c', '~paused', NULL, 0, '{\"tributary_sealed\": 1, \"alg\": \"AES-256-GCM\", \"data\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}')" >/dev/null
start_consumer "$WORK/c.yaml" "$WORK/cp.log"
run_exits
expect_match "D: an unreadable pause row stops run with an error" "^[1-9][0-9]*$" "$RUN_RC"
expect_grep "D: ... naming the pause row and the store" "$WORK/cp.log" \
    "checkpoint of pipeline c, source ~paused \(catalog table tributary.source_checkpoints\): the stored position cannot be read: it does not open with the key given"
expect_eq "D: ... tried once, not again and again" "1" "$(grep -c 'the stored position cannot be read' "$WORK/cp.log" || true)"
q postgres "DELETE FROM tributary.source_checkpoints WHERE pipeline = 'c' AND source = '~paused'" >/dev/null

# ---------------------------------------------------------------- E: wrong key, no key
# The file sink's sidecar is sealed with the same key (e2e 110) and the
# sinks open before the checkpoint is loaded: its error comes first.  With
# the sidecar moved aside, the checkpoint store's own error shows.
before=$(md5sum <"$WORK/k.ckpt")
side=$(md5sum <"$WORK/k.jsonl.pos")
TRIB_E2E_CKPT_KEY=$OTHER start_consumer "$WORK/k.yaml" "$WORK/es.log"
run_exits
expect_match "E: a wrong key stops run with an error" "^[1-9][0-9]*$" "$RUN_RC"
expect_grep "E: the file sink's sealed sidecar is named first" "$WORK/es.log" \
    "pipeline k, sink out \(file $WORK/k.jsonl.pos\): the stored position cannot be read: it does not open with the key given"
expect_eq "E: the sidecar is as it was" "$side" "$(md5sum <"$WORK/k.jsonl.pos")"
mv "$WORK/k.jsonl.pos" "$WORK/k.jsonl.pos.aside"
TRIB_E2E_CKPT_KEY=$OTHER start_consumer "$WORK/k.yaml" "$WORK/e.log"
run_exits
expect_match "E: a wrong key stops run with an error (no sidecar)" "^[1-9][0-9]*$" "$RUN_RC"
expect_grep "E: naming the pipeline, the source and the store" "$WORK/e.log" \
    "checkpoint of pipeline k, source shop \(file $WORK/k.ckpt\): the stored position cannot be read: it does not open with the key given"
expect_absent "E: no key material in the log" "$OTHER" "$WORK/e.log"
expect_absent "E: no key material in the log (the right one)" "$KEY" "$WORK/e.log"
expect_absent "E: it did not start the stream over" "change stream open" "$WORK/e.log"
expect_eq "E: the checkpoint file is as it was" "$before" "$(md5sum <"$WORK/k.ckpt")"
grep -v encryption_key "$WORK/k.yaml" >"$WORK/k0.yaml"
start_consumer "$WORK/k0.yaml" "$WORK/e0.log"
run_exits
expect_match "E: no key stops run with an error" "^[1-9][0-9]*$" "$RUN_RC"
expect_grep "E: saying to set the key" "$WORK/e0.log" \
    "checkpoint of pipeline k, source shop \(file $WORK/k.ckpt\): the stored position cannot be read: it is sealed and no key was given \(set checkpoint.encryption_key\)"
expect_eq "E: the checkpoint file is still as it was" "$before" "$(md5sum <"$WORK/k.ckpt")"

expect_no_sanitizer "no sanitizer report from the consumer" "$WORK"/*.log
e2e_finish
