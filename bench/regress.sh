#!/usr/bin/env bash
# bench/regress.sh: the no-regression check of a change, in one run.
#
#   bench/regress.sh REV [w1] [w2]        (make bench-regress BASE=REV)
#
# Builds the consumer of commit REV in a throwaway git worktree, then runs
# bench/e2e.sh's W1 and W2 with BASE_TRIBUTARY set: every round runs this
# tree's `tributary run`, REV's and the peer (wal2json + kcat), rotated, on
# copies of the same template slot.  Comparing against figures written down
# on another day compares machine states as much as code (the peer alone
# moved 2x between two days here); a base binary in the same rounds does
# not.  The result replaces the bench-regress section of docs/BENCHMARKS.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REV=${1:?usage: bench/regress.sh REV [w1] [w2]}
shift
WORKLOADS=${*:-w1 w2}
for w in $WORKLOADS; do
    case $w in w1|w2) ;; *) echo "bench-regress: unknown workload $w (w1 w2)" >&2; exit 2;; esac
done
SHA=$(git -C "$ROOT" rev-parse --verify --quiet "$REV^{commit}") ||
    { echo "bench-regress: $REV is not a commit of this repository" >&2; exit 2; }
TREE=$(mktemp -d /tmp/tributary-base.XXXXXX)
cleanup() { git -C "$ROOT" worktree remove --force "$TREE" >/dev/null 2>&1 || rm -rf "$TREE"; }
trap cleanup EXIT
git -C "$ROOT" worktree add --detach "$TREE" "$SHA" >/dev/null 2>&1
echo "[bench-regress] building the consumer of ${SHA:0:12}" >&2
make -s -C "$TREE/consumer" build >/dev/null
make -s -C "$ROOT/consumer" build >/dev/null
BASE_TRIBUTARY="$TREE/consumer/build/tributary" BASE_REV="${SHA:0:12}" \
    bash "$ROOT/bench/e2e.sh" $WORKLOADS
