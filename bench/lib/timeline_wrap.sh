#!/usr/bin/env bash
# bench/lib/timeline_wrap.sh: a stand-in for the tributary binary that
# bench/e2e.sh runs, to record one round's timeline (docs/BENCHMARKS.md,
# "W1: the round's timeline").  Use:
#
#   TL_OUT=DIR ROWS=200000 ROUNDS=1 BENCH_DOC=/tmp/scratch.md \
#     TRIBUTARY=bench/lib/timeline_wrap.sh bench/e2e.sh w1
#   python3 bench/lib/timeline.py DIR w1t1 SECONDS   (the round's seconds)
#
# Called as `run -c CONFIG`, it turns the config's log level to debug (the
# daemon's timeline lines: first record, first produce, every sink
# acknowledged, checkpoint handed and saved, status updates that move the
# flush position), notes the wall time of the start, runs the daemon
# (TL_BIN, default this tree's build) with its log in DIR/NAME.log and
# samples its CPU and its walsender's every 10 ms into DIR/NAME.cpu
# (cpu_sampler.py).  It changes nothing the bench times but the log level.
cfg=$3
dir=$(dirname "$cfg")
name=$(basename "$cfg" .yaml)
out=${TL_OUT:?TL_OUT: the directory for the timeline files}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$out"
sed -i 's/^  level: warn/  level: debug/' "$cfg"
pm=$(head -1 "$dir/data/postmaster.pid")
echo "start $(date +%s.%N)" > "$out/$name.start"
"${TL_BIN:-$here/../../consumer/build/tributary}" "$@" 2> "$out/$name.log" &
child=$!
python3 "$here/cpu_sampler.py" "$child" "$pm" "$out/$name.cpu" &
trap 'kill -TERM $child' TERM
wait $child
wait $child
