#!/usr/bin/env bash
# 128_file_sink_disk_full.sh: a file sink and a file checkpoint store on a
# small tmpfs (2 MiB) that fills up while a writer commits, with the
# daemon killed (-9) at random points between, across size rotations;
# then the file system remounted read-only under the running daemon; then
# a second pipeline pointed at the same file.
#
# The file sink promises each change once across crashes (sink_file.h,
# "Exactly-once"): a write that fails with ENOSPC leaves a partial line the
# next start cuts off, and nothing after the last flush is acked.  So after
# the room comes back and the daemon catches up, the file holds every
# change once.  A second daemon on the same path (another pipeline, which
# the pipeline lock does not stop) is refused before it writes anything:
# the sidecar names its pipeline.
#
# Mounting needs root; without it the script says so and checks only the
# kill -9 part (on the ordinary disk).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
chmod 777 "$WORK"
DISK=$WORK/disk
mkdir -p "$DISK"
MOUNTED=
if mount -t tmpfs -o size=2m tmpfs "$DISK" 2>/dev/null; then
    MOUNTED=1
    # unmounted (with the read-only bind mount over it, if left) before
    # e2e_cleanup removes WORK; e2e_cleanup sees the script's status
    fs_cleanup() {
        local rc=$?
        set +e
        umount -l "$DISK" 2>/dev/null && umount -l "$DISK" 2>/dev/null
        (exit "$rc")
        e2e_cleanup
    }
    trap fs_cleanup EXIT
else
    echo "# cannot mount a tmpfs here: the full-disk part is not tested"
fi
catalog_init "CREATE TABLE public.t (id int PRIMARY KEY, pad text)" -- witness tributary_fs128

pipeline() {
    {
        echo "pipeline: $1"
        source_yaml
        printf 'sinks:\n  out: {type: file, path: "%s", rotate_bytes: 60000}\n' "$DISK/out.jsonl"
        ckpt_yaml "$DISK/$1.ckpt"
    } >"$WORK/$1.yaml"
}
pipeline fs128
"$BIN" check -c "$WORK/fs128.yaml" >/dev/null

# 60 transactions of 10 rows of about 1 KB each: about 1.2 MB of lines
writer() {
    local t
    for t in $(seq 1 60); do
        pgc_psql -d postgres -c "INSERT INTO public.t SELECT g, repeat(md5(g::text), 30)
            FROM generate_series($t * 100, $t * 100 + 9) g" >/dev/null
        sleep 0.05
    done
}

if [ -n "$MOUNTED" ]; then
    # leave about 400 KB: the disk fills about a third of the way through
    dd if=/dev/zero of="$DISK/filler" bs=1k count=1640 status=none 2>/dev/null || true
fi
writer &
WRITER_PID=$!
start_consumer "$WORK/fs128.yaml"
KILLS=0 FULL=0
while kill -0 "$WRITER_PID" 2>/dev/null; do
    sleep "0.$(( RANDOM % 9 + 2 ))"
    kill_consumer
    [ "$KILL_RC" = 137 ] && KILLS=$((KILLS + 1))
    start_consumer "$WORK/fs128.yaml"
done
wait "$WRITER_PID" || true
WRITER_PID=
if [ -n "$MOUNTED" ]; then
    # full: the daemon fails (and exits, or retries) without a hang
    for _ in $(seq 1 100); do
        grep -q "No space left on device" "$WORK/run.log" && break
        sleep 0.1
    done
    expect_grep "the full disk is reported" "$WORK/run.log" "No space left on device"
    kill_consumer
    rm -f "$DISK/filler"
    start_consumer "$WORK/fs128.yaml"
fi
expect_eq "the slot was confirmed to the end after $KILLS kill(s)" t "$(slot_caught_up tributary_fs128)"
# read-only underneath the running daemon (a read-only bind mount over the
# directory: a remount of the tmpfs itself is refused while files are open
# for writing): it fails at its next flush, then resumes
if [ -n "$MOUNTED" ] && ! { mount --bind "$DISK" "$DISK" && mount -o remount,ro,bind "$DISK"; } 2>/dev/null; then
    echo "# cannot put a read-only bind mount over the directory: not tested"
elif [ -n "$MOUNTED" ]; then
    pgc_psql -d postgres -c "INSERT INTO public.t SELECT g, 'ro' FROM generate_series(8000, 8009) g" >/dev/null
    wait_exit 30
    expect_grep "a read-only file system is reported" "$WORK/run.log" "Read-only file system"
    umount "$DISK"
    start_consumer "$WORK/fs128.yaml"
    expect_eq "the slot was confirmed to the end after it" t "$(slot_caught_up tributary_fs128)"
fi

# another pipeline, same file: refused before it writes anything
pipeline other
"$BIN" run -c "$WORK/other.yaml" >"$WORK/other.log" 2>&1 &
OTHER_PID=$!
E2E_PIDS+=" OTHER_PID"
# rows committed while it would run: a second writer would append them too
sleep 2
pgc_psql -d postgres -c "INSERT INTO public.t SELECT g, 'late' FROM generate_series(9000, 9004) g" >/dev/null
for _ in $(seq 1 50); do kill -0 "$OTHER_PID" 2>/dev/null || break; sleep 0.1; done
kill -9 "$OTHER_PID" 2>/dev/null || true
wait "$OTHER_PID" 2>/dev/null || true
OTHER_PID=
expect_grep "another pipeline on the path is refused" "$WORK/other.log" "belongs to pipeline \"fs128\""
expect_eq "the slot was confirmed to the end again" t "$(slot_caught_up tributary_fs128)"
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"

changes=$(pgc_psql -d postgres -Atc "SELECT count(*) FROM pg_logical_slot_peek_changes('witness', NULL, NULL)
    WHERE data::json->>'kind' = 'insert' AND data::json->>'table' = 't'")
for f in $(ls "$DISK"/out.jsonl.* 2>/dev/null | grep -E '\.[0-9]+$' | sort -t. -k3 -n -r) "$DISK/out.jsonl"; do
    cat "$f"
done > "$WORK/lines"
expect_eq "the file sink holds every change" "$changes" "$(grep -c '"value":{' "$WORK/lines")"
expect_eq "every line is whole JSON" "" "$(python3 -c '
import json, sys
for n, l in enumerate(open(sys.argv[1]), 1):
    try: json.loads(l)
    except Exception: print(n); break' "$WORK/lines")"
grep -o '"after":{"id":[0-9]*' "$WORK/lines" | sort | uniq -d > "$WORK/dups"
expect_eq "and none twice" 0 "$(wc -l < "$WORK/dups")"
expect_eq "the file sink rotated" t "$([ -e "$DISK/out.jsonl.1" ] && echo t || echo f)"
echo "# $changes changes, $KILLS kills${MOUNTED:+, the disk filled}"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
