#!/usr/bin/env bash
# 109_cli_bad_input_no_hang.sh: every subcommand given a file that is not a
# regular file, stray arguments or a server that never answers fails in
# bounded time with exit 2 (1 for the unanswered server) and a message that
# names the file, the argument or the cause.
#
# What used to go wrong: a FIFO as `-c FILE` blocked `check`, `run` and
# `snapshot` forever in the copy-and-sanitize probe's fopen() before the
# loader (which refuses a FIFO) was reached; so did a FIFO as ctl's
# --token-file or a --key-file, and `check` on a FIFO as checkpoint.path.
# `check -c F --ofline` ignored the typo and connected; `check -c A -c B`
# checked A; `help` listed half the commands and no `COMMAND --help`
# worked; `schema accept` waited forever on a catalog that accepts the
# connection and never answers, and printed a config error without its
# newline; ctl printed --url's password (http://user:PASSWORD@host) in its
# errors, and lineage --dsn the second half of a password with a space;
# `config-doc > FILE` on a full disk exited 0.
# No database is needed.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

mkfifo "$WORK/fifo"
cat > "$WORK/ok.yaml" <<EOF
pipeline: shop
sources:
  main:
    type: postgres
    dsn: "host=127.0.0.1 port=1 dbname=shop"
sinks:
  out: {type: stdout}
http:
  enabled: false
EOF

# run_rc NAME SECONDS ARGS...: run the daemon (stdin closed) under a
# timeout; $rc and $WORK/out hold the result (124: it hung).
run_rc() {
    local secs=$1; shift
    rc=0; timeout "$secs" "$BIN" "$@" < /dev/null > "$WORK/out" 2>&1 || rc=$?
}

# --- a FIFO, a device or a directory as the configuration --------------
for cmd in "check --offline" "check" "run" "snapshot" "schema accept s 1" "ctl status" \
    "lineage upstream x"; do
    # shellcheck disable=SC2086
    run_rc 10 $cmd -c "$WORK/fifo"
    expect_eq "$cmd -c FIFO: exit 2, no hang" 2 "$rc"
    expect_grep "$cmd -c FIFO: says it is not a regular file" "$WORK/out" \
        "$WORK/fifo: not a regular file"
done
for path in /dev/zero "$WORK"; do
    run_rc 10 check --offline -c "$path"
    expect_eq "check -c $path: exit 2" 2 "$rc"
    expect_grep "check -c $path: not a regular file" "$WORK/out" "$path: not a regular file"
done

# --- a FIFO as a token, key or secret file ------------------------------
run_rc 10 ctl status --url http://127.0.0.1:1 --token-file "$WORK/fifo"
expect_eq "ctl --token-file FIFO: exit 2, no hang" 2 "$rc"
expect_grep "ctl --token-file FIFO: names the file" "$WORK/out" \
    "token file $WORK/fifo: not a regular file"
rc=0; echo 12345 | timeout 10 "$BIN" hash --key-file "$WORK/fifo" > "$WORK/out" 2>&1 || rc=$?
expect_eq "hash --key-file FIFO: exit 2, no hang" 2 "$rc"
expect_grep "hash --key-file FIFO: names the file" "$WORK/out" \
    "key file $WORK/fifo: not a regular file"
sed "s|dsn: .*|dsn_file: \"$WORK/fifo\"|" "$WORK/ok.yaml" > "$WORK/dsnfifo.yaml"
run_rc 10 check --offline -c "$WORK/dsnfifo.yaml"
expect_eq "dsn_file FIFO: exit 2, no hang" 2 "$rc"
expect_grep "dsn_file FIFO: file, line, key" "$WORK/out" \
    "dsnfifo.yaml:5:15: sources.main.dsn_file: $WORK/fifo: not a regular file"

{ cat "$WORK/ok.yaml"; printf 'checkpoint: {store: file, path: "%s"}\n' "$WORK/fifo"; } \
    > "$WORK/ckfifo.yaml"
run_rc 20 check -c "$WORK/ckfifo.yaml"
expect_eq "checkpoint.path FIFO: check exits 2, no hang" 2 "$rc"
expect_grep "checkpoint.path FIFO: says what it is" "$WORK/out" \
    "checkpoint.path: \"$WORK/fifo\" exists and is not a regular file \(a FIFO\)"

# --- stray and repeated arguments ---------------------------------------
run_rc 10 check -c "$WORK/ok.yaml" --ofline
expect_eq "check -c F --ofline: exit 2 (no connecting)" 2 "$rc"
expect_grep "check -c F --ofline: names the argument" "$WORK/out" \
    'tributary check: unexpected argument "--ofline"'
run_rc 10 run -c "$WORK/ok.yaml" extra
expect_eq "run -c F extra: exit 2" 2 "$rc"
run_rc 10 check --offline -c "$WORK/ok.yaml" -c "$WORK/fifo"
expect_eq "check -c A -c B: exit 2" 2 "$rc"
expect_grep "check -c A -c B: says -c is given twice" "$WORK/out" "-c FILE given twice"
run_rc 10 check -c
expect_grep "check -c (no FILE): says FILE is missing" "$WORK/out" "-c needs a FILE"
run_rc 10 config-doc extra
expect_eq "config-doc extra: exit 2" 2 "$rc"
run_rc 10 --version extra
expect_eq "--version extra: exit 2" 2 "$rc"
run_rc 10 ctl status --url
expect_eq "ctl status --url (no value): exit 2" 2 "$rc"
expect_grep "ctl status --url: says the value is missing" "$WORK/out" "--url needs a value"
run_rc 10 ctl
expect_grep "ctl (no command): no empty quotes" "$WORK/out" "^tributary ctl: missing command \("
run_rc 20 ctl status --url "http://admin:UrlSecret9@127.0.0.1:1"
expect_eq "ctl --url with a password, nothing listening: exit 1" 1 "$rc"
expect_grep "ctl --url with a password: the URL is shown" "$WORK/out" "GET http://\*\*\*@127.0.0.1:1/status"
expect_absent "ctl --url with a password: the password is not" "UrlSecret9" "$WORK/out"

run_rc 10 lineage upstream x --dsn "host=127.0.0.1 port=1 password=Hunter2 SecondHalf9"
expect_eq "lineage --dsn that libpq cannot parse: exit 2" 2 "$rc"
expect_grep "lineage --dsn: says what is wrong" "$WORK/out" 'missing "=" after "\*\*\*"'
expect_absent "lineage --dsn: no piece of the password" "SecondHalf9" "$WORK/out"

# --- help knows every command -------------------------------------------
run_rc 10 help bogus
expect_eq "help bogus: exit 2" 2 "$rc"
expect_grep "help bogus: lists every command" "$WORK/out" \
    "accepted: run, check, snapshot, ctl, schema, lineage, config-doc, tokenize, detokenize, hash, encrypt, decrypt"
for cmd in run check snapshot ctl schema lineage config-doc tokenize detokenize hash encrypt decrypt; do
    run_rc 10 help "$cmd"
    expect_eq "help $cmd: exit 0" 0 "$rc"
    cp "$WORK/out" "$WORK/help.out"
    run_rc 10 "$cmd" --help
    expect_eq "$cmd --help: exit 0 with the text of help $cmd" "0 t" \
        "$rc $(cmp -s "$WORK/out" "$WORK/help.out" && echo t || echo f)"
done
run_rc 10 check -c "$WORK/ok.yaml" --help
expect_eq "check -c F --help: the help, no check" "0 f" \
    "$rc $(grep -q 'OK (pipeline' "$WORK/out" && echo t || echo f)"

# --- output that cannot be written is an error, not exit 0 --------------
if [ -w /dev/full ]; then
    rc=0; "$BIN" config-doc > /dev/full 2> "$WORK/out" || rc=$?
    expect_eq "config-doc > /dev/full: exit 1" 1 "$rc"
    expect_grep "config-doc > /dev/full: says so" "$WORK/out" "cannot write the output: No space"
    rc=0; "$BIN" check --offline -c "$WORK/ok.yaml" > /dev/full 2> "$WORK/out" || rc=$?
    expect_eq "check > /dev/full: exit 1" 1 "$rc"
fi

# --- schema accept: a config error ends its line; a silent catalog ------
printf 'pipeline: shop\n' > "$WORK/bad.yaml"
run_rc 10 schema accept s 1 -c "$WORK/bad.yaml"
expect_eq "schema accept, bad config: exit 2" 2 "$rc"
expect_eq "schema accept, bad config: the message ends with a newline" 0a \
    "$(tail -c 1 "$WORK/out" | od -An -tx1 | tr -d ' ')"
python3 - "$WORK/port" <<'EOF' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
time.sleep(60)
EOF
SILENT_PID=$!
E2E_PIDS+=" SILENT_PID"
for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
sed "s|port=1|port=$(cat "$WORK/port")|" "$WORK/ok.yaml" > "$WORK/silent.yaml"
t0=$(date +%s)
run_rc 40 schema accept s 1 -c "$WORK/silent.yaml"
expect_eq "schema accept, silent catalog: exit 1, not a hang" 1 "$rc"
expect_eq "schema accept, silent catalog: within 20 s" t \
    "$([ $(($(date +%s) - t0)) -le 20 ] && echo t || echo f)"
expect_grep "schema accept, silent catalog: says it timed out" "$WORK/out" "timeout expired"

e2e_finish
