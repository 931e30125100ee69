#!/usr/bin/env bash
# 60_mongodb_resume_token.sh: the MongoDB source restarts by the resume
# token stored with its position -- AGAINST THE PROJECT'S WIRE-PROTOCOL
# TEST DOUBLE (test/mongo/, mongo_double), not a real mongod.
#
# The double runs with --verbose, which logs the start option of every
# change stream it opens ("change stream start: resumeAfter {...}"): that
# log is where the tests see what the daemon resumed from.
#
#  A  file checkpoint store, a null sink (the checkpoint speaks for it)
#     and a file sink (its own stored position): kill -9 at random points
#     while a writer drives inserts, updates, deletes and transactions.
#     Every change is in the output exactly once, in order, and each
#     restart opened the stream with resumeAfter the token stored with
#     the position it resumed from (the older of the checkpoint's and the
#     file sink's).
#  B  catalog checkpoint store (tributary.checkpoint_save's `position`),
#     null sink: the restart resumes after the token the catalog holds.
#  C  an invalidate (the watched collection dropped), kill -9 after it is
#     stored, restart: startAfter the invalidate's stored token; the
#     re-created collection's changes arrive, each once.
#
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mongo_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mongo_lib.sh"
# the cluster (pgc_start) also holds B's catalog
mongo_init --verbose -- load cat inv
pgc_psql -d postgres -c "CREATE EXTENSION tributary" >/dev/null

# pipeline NAME SCOPE-YAML SINKS-YAML CHECKPOINT-YAML: $WORK/NAME.yaml.
pipeline() {
    {
        echo "pipeline: $1"
        mongo_source_yaml "$2"
        cat <<YAML
sinks:
$3
checkpoint:
$4
http:
  enabled: false
YAML
    } >"$WORK/$1.yaml"
}

# ---------------------------------------------------------------- A: kill -9 under load
pipeline a "    database: load" "  nothing:
    type: \"null\"
  out:
    type: file
    path: \"$WORK/a.jsonl\"" "  store: file
  path: \"$WORK/a.ckpt\""
start_consumer "$WORK/a.yaml" "$WORK/a.log"
wait_log "$WORK/a.log" "change stream open on load" 10 || true
echo 'load {"insert": "items", "documents": [{"_id": 0, "v": 0}]}' | drive
wait_lines "$WORK/a.jsonl" 1 10 || true
for _ in $(seq 1 50); do [ -s "$WORK/a.ckpt" ] && break; sleep 0.1; done
KILLS=0; restart_counts_reset
load_writer
while kill -0 "$WRITER_PID" 2>/dev/null; do
    sleep "0.$(( RANDOM % 9 + 2 ))"
    restart "$WORK/a.yaml" "$WORK/a.log" "$WORK/a.ckpt" "$WORK/a.jsonl.pos"
    KILLS=$((KILLS + 1))
done
wait "$WRITER_PID" || true
echo 'load {"insert": "items", "documents": [{"_id": 999, "v": 0}]}' | drive
for _ in $(seq 1 150); do grep -q '"_id" : 999' "$WORK/a.jsonl" && break; sleep 0.1; done
stop_consumer
echo "# $KILLS kills: $MATCHED resumed after the stored token, $NO_TOKEN stored none, $WRONG other"
load_check "A: after kill -9, every change exactly once, in order" "$WORK/a.jsonl"
if on_double; then
    expect_match "A: at least 3 restarts resumed with resumeAfter the stored token" \
        "^([3-9]|[1-9][0-9]+)$" "$MATCHED"
    expect_eq "A: no restart opened the stream any other way while a token was stored" "0" "$WRONG"
fi
expect_grep "A: the checkpoint file holds the token" "$WORK/a.ckpt" \
    '"position":\{"token":\{ *"_data" *: *"[0-9A-Fa-f]+" *\}'
expect_grep "A: the log says the restart is by the stored token" "$WORK/a.log" \
    "resuming after cluster time [0-9.]+( \(inside its transaction\))?, by its stored resume token"

# ---------------------------------------------------------------- B: catalog store
pipeline b "    database: cat" "  nothing:
    type: \"null\"" "  store: catalog
  dsn: \"$(pg_dsn)\""
start_consumer "$WORK/b.yaml" "$WORK/b.log"
wait_log "$WORK/b.log" "change stream open on cat" 10 || true
drive <<'CMDS'
cat {"insert": "c", "documents": [{"_id": 1}]}
cat {"insert": "c", "documents": [{"_id": 2}]}
CMDS
ctok=""
for _ in $(seq 1 50); do
    ctok=$(q postgres "SELECT position->'token'->>'_data' FROM tributary.checkpoint_get('b', 'shop')")
    [ -n "$ctok" ] && break
    sleep 0.1
done
sleep 0.5	# the second insert's checkpoint too
ctok=$(q postgres "SELECT position->'token'->>'_data' FROM tributary.checkpoint_get('b', 'shop')")
kill_restart "$WORK/b.yaml" "$WORK/b.log"
stop_consumer
expect_match "B: the catalog's position holds a token" "^[0-9A-Fa-f]+$" "$ctok"
on_double && expect_eq "B: the restart resumed after the catalog's token" "resumeAfter $ctok" "$GOT"

# ---------------------------------------------------------------- C: invalidate, kill -9, startAfter
pipeline c "    database: inv
    collection: things" "  out:
    type: file
    path: \"$WORK/c.jsonl\"" "  store: file
  path: \"$WORK/c.ckpt\""
start_consumer "$WORK/c.yaml" "$WORK/c.log"
wait_log "$WORK/c.log" "change stream open on inv.things" 10 || true
drive <<'CMDS'
inv {"insert": "things", "documents": [{"_id": 1}]}
inv {"drop": "things"}
CMDS
wait_lines "$WORK/c.jsonl" 3 10 || true
sleep 1	# the invalidate's position stored
itok=$(python3 -c 'import json,sys; print(json.loads(json.load(open(sys.argv[1]))["opaque"])["token"]["_data"])' \
    "$WORK/c.jsonl.pos" 2>/dev/null || echo none)
kill_restart "$WORK/c.yaml" "$WORK/c.log"
on_double && expect_eq "C: the restart after an invalidate opened startAfter its stored token" \
    "startAfter $itok" "$GOT"
drive <<'CMDS'
inv {"insert": "things", "documents": [{"_id": 2}]}
inv {"insert": "things", "documents": [{"_id": 3}]}
CMDS
wait_lines "$WORK/c.jsonl" 5 10 || true
stop_consumer
got=$(ops_of "$WORK/c.jsonl")
expect_eq "C: insert, drop, invalidate, then the re-created collection's inserts once" \
    "c 1|mongodb.drop|mongodb.invalidate|c 2|c 3" "$got"

expect_no_sanitizer "no sanitizer report from the consumer" "$WORK"/*.log
e2e_finish
