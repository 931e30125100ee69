#!/usr/bin/env bash
# 108_default_http_port_guarded.sh: while e2e scripts run, a daemon left on
# the default HTTP address fails every time, and says why.
#
# A pipeline without an `http:` section listens on 127.0.0.1:8080; two such
# daemons at once (two scripts, two suites) made one fail now and then.  So
# test/run.sh (or e2e_init, for a script run by hand) holds that port with
# default_port_guard.py, and e2e_finish fails a script whose daemon tried it
# (expect_no_default_port, lib.sh).  Here:
#   1. a pipeline without `http:` fails to start at once, naming
#      127.0.0.1:8080: the default is the loopback address (never every
#      interface), checked without binding it;
#   2. expect_no_default_port finds that log and fails, naming the fix;
#   3. the guard itself: on a free port it holds it while its parent lives
#      and lets it go when the parent is gone; on a taken port (8080, now)
#      it says busy and leaves a waiter, which holds the port from the
#      moment the other lets it go; a parent killed and left a zombie
#      counts as gone.
# No server is needed: the listener starts before any source is opened.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
build_consumer
GUARD=$ROOT/consumer/test/e2e/default_port_guard.py

# ---- 1: no http section: the default address, refused at once
cat > "$WORK/p.yaml" <<YAML
pipeline: portguard
sources:
  main:
    type: postgres
    dsn: "host=127.0.0.1 port=1 dbname=postgres user=postgres"
    snapshot: never
sinks:
  nothing:
    type: "null"
checkpoint:
  store: file
  path: "$WORK/p.ckpt"
YAML
"$BIN" check --offline -c "$WORK/p.yaml" >/dev/null
rc=0; timeout 30 "$BIN" run -c "$WORK/p.yaml" >"$WORK/default.log" 2>&1 || rc=$?
expect_eq "a daemon on the default port cannot start: exit 1" 1 "$rc"
expect_grep "it names the default address, loopback: 127.0.0.1:8080" "$WORK/default.log" \
    "http: cannot listen on 127\.0\.0\.1:8080: Address already in use"

# ---- 2: the script's check finds it
expect_eq "default_port_logs names that log" "$WORK/default.log" "$(default_port_logs)"
out=$(expect_no_default_port; echo "failed=$failed")
expect_match "expect_no_default_port fails, naming the fix" \
    "not ok - no daemon on the default HTTP port 127\.0\.0\.1:8080: .*http: \{enabled: false\}.*default\.log" \
    "$(echo "$out" | head -1)"
expect_eq "and counts one failure" "failed=$((failed + 1))" "$(echo "$out" | tail -1)"
# (this script's own check, in e2e_finish, must not see it)
rm "$WORK/default.log"

# ---- 3: the guard
line=$(python3 "$GUARD" $$)
expect_match "the guard on a taken port (8080, held now) says busy, and leaves a waiter" \
    "^busy: 127\.0\.0\.1:8080: .*; waiter [0-9]+$" "$line"
kill "${line##*; waiter }" 2>/dev/null || true
PORT=$(pgc_free_port)
listening() { [ -n "$(ss -Htln "sport = :$PORT")" ] && echo yes || echo no; }
bash -c 'echo "$(python3 "$1" $$ "$2")" >"$3"; sleep 3' _ "$GUARD" "$PORT" "$WORK/guard.out" &
TOOL_PID=$!
wait_log "$WORK/guard.out" . 10 || true
expect_match "on a free port it holds it" "^held [0-9]+$" "$(cat "$WORK/guard.out")"
expect_eq "it listens while its parent lives" yes "$(listening)"
wait "$TOOL_PID"; TOOL_PID=
for _ in $(seq 1 30); do [ "$(listening)" = no ] && break; sleep 0.1; done
expect_eq "and lets the port go once its parent is gone" no "$(listening)"
# a taken port: the waiter holds it from the moment the other lets it go
# (a second suite beside a first that ends sooner stays guarded)
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
print("up", flush=True); time.sleep(60)' "$PORT" >"$WORK/holder.out" &
HOLDER_PID=$!; E2E_PIDS+=" HOLDER_PID"
wait_log "$WORK/holder.out" up 10 || true
bash -c 'echo "$(python3 "$1" $$ "$2")" >"$3"; sleep 4' _ "$GUARD" "$PORT" "$WORK/waiter.out" &
TOOL_PID=$!
wait_log "$WORK/waiter.out" . 10 || true
expect_match "on a taken port it says busy and leaves a waiter" \
    "^busy: 127\.0\.0\.1:$PORT: .*; waiter [0-9]+$" "$(cat "$WORK/waiter.out")"
kill "$HOLDER_PID"; wait "$HOLDER_PID" 2>/dev/null || true; HOLDER_PID=
for _ in $(seq 1 30); do [ "$(listening)" = yes ] && break; sleep 0.1; done
expect_eq "the waiter holds the port once the other lets it go" yes "$(listening)"
wait "$TOOL_PID"; TOOL_PID=
for _ in $(seq 1 30); do [ "$(listening)" = no ] && break; sleep 0.1; done
expect_eq "and lets it go once its parent is gone" no "$(listening)"
# a parent killed and not reaped (a zombie: kill(pid, 0) still succeeds
# on it) is gone too; the holder of the zombie reaps it only at its end
python3 - "$GUARD" "$PORT" "$WORK/zombie.out" <<'PY' &
import os, subprocess, sys, time
child = os.fork()
if child == 0:
    time.sleep(0.3)
    os._exit(0)
line = subprocess.run([sys.executable, sys.argv[1], str(child), sys.argv[2]],
                      capture_output=True, text=True).stdout.strip()
open(sys.argv[3], "w").write(line + "\n")
time.sleep(6)                   # the child is a zombie all along
os.waitpid(child, 0)
PY
TOOL_PID=$!
wait_log "$WORK/zombie.out" . 10 || true
expect_match "the guard for a parent that will be a zombie holds the port" "^held [0-9]+$" \
    "$(cat "$WORK/zombie.out")"
for _ in $(seq 1 40); do [ "$(listening)" = no ] && break; sleep 0.1; done
expect_eq "and lets it go while that parent is a zombie, not reaped yet" no "$(listening)"
kill "$TOOL_PID" 2>/dev/null || true
wait "$TOOL_PID" 2>/dev/null || true
TOOL_PID=

e2e_finish
