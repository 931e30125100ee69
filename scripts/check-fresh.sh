#!/usr/bin/env bash
# scripts/check-fresh.sh: `make check-fresh`.  The README's two commands,
# and the Docker images, from nothing: a bare Debian 12 root.
#
# Design: this machine has every package installed, so `make check` here
# cannot tell whether a new user's machine gets what it needs.  This script
# builds a minimal Debian 12 root (mmdebstrap, minbase: what the debian:12
# image holds) from the package archive as apt here reaches it
# (scripts/lib/fresh-root.sh), copies `git archive HEAD` into /root/tributary
# and runs the two commands of the README's "Two commands" block, exactly
# as written there, one after the other, in that root with nothing
# installed before them.  Then each docker/*.Dockerfile is built the way
# `docker build` would build it, in more bare roots
# (scripts/lib/dockerfile.sh), and the images are started: the consumer's
# runtime stage must run `tributary --version` with only the runtime
# libraries installed (no compiler, no PostgreSQL server, no valgrind), and
# the PostgreSQL image must start its server and create the extension.
#
# Everything runs in PID and mount namespaces of its own, so nothing is left
# running or mounted when it ends; an EXIT trap also stops the command in
# progress and removes the work dir when it is interrupted.  apt's download
# cache of the first root seeds the Docker stages (hard links, as a caching
# proxy would serve the same files); every package is still installed by
# each root's own apt.  mmdebstrap is installed on this machine when
# missing (it is not in scripts/install-deps: only this check needs it).
#
# Needs root, the package archive and minutes; not part of `make check`.
# The last line is `N passed, N failed`: ./check's counts plus one per step
# of this script (./demo, each image built, each image check).
#
# Usage: scripts/check-fresh.sh [--no-docker | --docker-only] [--keep]
#   --keep   keep the work dir (the roots) for inspection
# CHECK_FRESH_BASE=FILE reuses a base.tar that an earlier run kept.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/fresh-root.sh
source "$ROOT/scripts/lib/fresh-root.sh"
# shellcheck source=scripts/lib/dockerfile.sh
source "$ROOT/scripts/lib/dockerfile.sh"

COUNT_RE='^([0-9]+) passed, ([0-9]+) failed$'
REPO_DIR=/root/tributary

readme=1
docker=1
keep=0
for arg in "$@"; do
    case "$arg" in
        --no-docker) docker=0 ;;
        --docker-only) readme=0 ;;
        --keep) keep=1 ;;
        *) echo "usage: scripts/check-fresh.sh [--no-docker | --docker-only] [--keep]" >&2; exit 2 ;;
    esac
done

say() { echo "check-fresh: $*"; }
banner() { printf '\n==== %s ====\n' "$1"; }

total_passed=0
total_failed=0
summary=()
figures=()
BG_PID=

# record: one line of the summary; adds to the totals.
record() {
    local name=$1 passed=$2 failed=$3 note=${4:-}
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
    summary+=("$(printf '  %-50s %5d passed, %4d failed  %s' "$name" "$passed" "$failed" "$note")")
}

# step: record a single check from its exit status.
step() {
    local name=$1 rc=$2 note=${3:-}
    if [ "$rc" -eq 0 ]; then record "$name" 1 0 "$note"; else record "$name" 0 1 "$note"; fi
}

# in_background: run a command as a background child and wait for it, so
# that a signal reaches the traps at once; cleanup stops it.
in_background() {
    local rc=0
    "$@" &
    BG_PID=$!
    wait "$BG_PID" || rc=$?
    BG_PID=
    return "$rc"
}

# cleanup: stop the command in progress (its namespaces die with it), then
# unmount and remove the work dir.
cleanup() {
    local rc=$?
    if [ -n "$BG_PID" ]; then
        pkill -TERM -P "$BG_PID" 2>/dev/null || true
        kill -TERM "$BG_PID" 2>/dev/null || true
        wait "$BG_PID" 2>/dev/null || true
    fi
    if [ "$keep" = 1 ]; then
        say "kept $FR_WORK"
    elif [ -n "${FR_WORK:-}" ]; then
        fr_cleanup
    fi
    return "$rc"
}

# readme_commands: the lines of the first code block under "## Two commands".
readme_commands() {
    awk '/^## Two commands/ { sect = 1; next }
         sect && /^## / { exit }
         sect && /^```/ { if (inblock) exit; inblock = 1; next }
         inblock && NF { print }' "$FR_WORK/context/README.md"
}

# time_of_install: what install-deps reported for its install, from a log.
time_of_install() {
    grep -oE 'install-deps: installed [0-9]+ package\(s\) in [0-9]+ s' "$1" | tail -n 1 || true
}

# run_readme: the README's commands in a new root, each timed.
run_readme() {
    local cmds=() cmd root log started rc line i=0 install
    mapfile -t cmds < <(readme_commands)
    if [ ${#cmds[@]} -ne 2 ]; then
        say "README.md's \"Two commands\" block has ${#cmds[@]} command(s), not 2"
        record "README commands found" 0 1
        return
    fi
    root=$(fr_new fresh)
    FRESH_ROOT=$root
    mkdir -p "$root$REPO_DIR"
    tar -C "$root$REPO_DIR" -xf "$FR_WORK/tree.tar"
    say "bare root $root: $(fr_run "$root" -- dpkg-query -W -f='.\n' | wc -l) packages," \
        "no make ($(fr_run "$root" -- sh -c 'command -v make || echo absent'))," \
        "no compiler ($(fr_run "$root" -- sh -c 'command -v cc || echo absent'))," \
        "no PostgreSQL ($(fr_run "$root" -- sh -c 'ls /usr/lib/postgresql 2>/dev/null || echo absent'))"
    for cmd in "${cmds[@]}"; do
        i=$((i + 1))
        log=$FR_WORK/readme-$i.log
        banner "README command $i in the bare root: cd $REPO_DIR && $cmd"
        started=$SECONDS
        rc=0
        in_background fr_run "$root" -t -C "$REPO_DIR" -- bash -c "$cmd" \
            > >(tee "$log") 2>&1 || rc=$?
        sleep 1   # let tee finish the log
        local took=$((SECONDS - started)) label=${cmd%%#*}
        label=${label%"${label##*[![:space:]]}"}
        install=$(time_of_install "$log")
        [ -z "$install" ] || figures+=("$label: $install")
        figures+=("$label: $took s in all, exit status $rc")
        line=$(grep -E "$COUNT_RE" "$log" | tail -n 1 || true)
        if [[ $line =~ $COUNT_RE ]]; then
            local p=${BASH_REMATCH[1]} q=${BASH_REMATCH[2]}
            [ "$rc" -ne 0 ] && [ "$q" -eq 0 ] && q=1
            record "$label (its tests)" "$p" "$q" "$took s"
        else
            step "$label" "$rc" "$took s"
        fi
    done
}

# image_starts: the image's program (ENTRYPOINT, else CMD) answers --version
# as the image's user with the image's environment.
image_starts() {
    local name=$1 prog envs=() kv out rc=0
    prog=${DF_ENTRYPOINT[0]:-${DF_CMD[0]:-}}
    for kv in "${DF_ENV[@]}"; do envs+=(-e "$kv"); done
    out=$(fr_run "$DF_ROOT" -u "$DF_USER" -C "$DF_WORKDIR" "${envs[@]}" -- "$prog" --version 2>&1) || rc=$?
    echo "  $prog --version (as $DF_USER): $out"
    step "$name: ${prog##*/} --version" "$rc" "$out"
}

# check_consumer_image: the runtime stage holds the binary, its libraries
# and data files, and nothing to build with.
check_consumer_image() {
    local name=$1 bin=${DF_ENTRYPOINT[0]} bad missing size base rc
    image_starts "$name"
    bad=$(fr_run "$DF_ROOT" -- dpkg-query -W -f='${Package}\n' |
        grep -E '^(gcc(-[0-9]+)?|g\+\+.*|clang.*|cpp(-[0-9]+)?|make|valgrind|postgresql-[0-9]+|build-essential)$|-dev$' || true)
    echo "  build tools or servers in the runtime stage: ${bad:-none}"
    rc=0; [ -z "$bad" ] || rc=1
    step "$name: no compiler, server, valgrind" "$rc" "${bad//$'\n'/ }"
    missing=$(fr_run "$DF_ROOT" -- ldd "$bin" | grep 'not found' || true)
    echo "  libraries ldd cannot find: ${missing:-none}"
    rc=0; [ -z "$missing" ] || rc=1
    step "$name: ldd finds every library" "$rc"
    rc=0
    diff -r "$FR_WORK/context/data/fake" "$DF_ROOT/usr/local/share/tributary/fake" \
        -x '*.py' >/dev/null || rc=$?
    echo "  substitute dictionaries in /usr/local/share/tributary/fake: $([ "$rc" = 0 ] && echo same as data/fake || echo DIFFERENT)"
    step "$name: data/fake installed" "$rc"
    rc=0
    [ -s "$DF_ROOT/etc/ssl/certs/ca-certificates.crt" ] || rc=1
    echo "  CA store /etc/ssl/certs/ca-certificates.crt: $([ "$rc" = 0 ] && echo present || echo MISSING)"
    step "$name: CA certificates for TLS" "$rc"
    size=$(du -sx --block-size=1M "$DF_ROOT" | cut -f1)
    base=$(du -sx --block-size=1M "$FRESH_BASE" | cut -f1)
    figures+=("$name: runtime stage root $size MiB (du -sx; the bare root alone is $base MiB)")
    echo "  runtime stage root: $size MiB; $(fr_run "$DF_ROOT" -- dpkg-query -W -f='.\n' | wc -l) packages"
}

# check_postgres_image: the server starts from the image's data directory
# and the extension can be created.
check_postgres_image() {
    local name=$1 envs=() kv out rc=0
    image_starts "$name"
    for kv in "${DF_ENV[@]}"; do envs+=(-e "$kv"); done
    out=$(fr_run "$DF_ROOT" -u "$DF_USER" "${envs[@]}" -- sh -c '
        pg_ctl -D "$PGDATA" -w -l /tmp/pg.log \
            -o "-c listen_addresses= -k /tmp" start >/dev/null || { cat /tmp/pg.log; exit 1; }
        psql -h /tmp -X -At -v ON_ERROR_STOP=1 -d postgres \
            -c "CREATE EXTENSION tributary" \
            -c "SELECT extversion FROM pg_extension WHERE extname = '"'"'tributary'"'"'" \
            -c "SHOW output_plugin_libraries"
        rc=$?
        pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
        exit $rc' 2>&1) || rc=$?
    echo "  server from \$PGDATA, CREATE EXTENSION tributary: ${out//$'\n'/; }"
    step "$name: server starts, extension created" "$rc" "${out//$'\n'/; }"
}

# build_image: one Dockerfile, then its checks; its roots are removed after.
build_image() {
    local file=$1 name rc=0 started=$SECONDS
    name=$(basename "$file")
    banner "docker build -f docker/$name . (interpreted in bare roots)"
    DF_TAG=${name%.Dockerfile} DF_SEED=${FRESH_ROOT:-}
    in_background bash -c '
        source "$1/scripts/lib/fresh-root.sh"
        source "$1/scripts/lib/dockerfile.sh"
        DF_TAG=$2 DF_SEED=$3
        df_build "$4" "$5" || exit 1
        declare -p DF_ROOT DF_USER DF_WORKDIR DF_ENV DF_ENTRYPOINT DF_CMD DF_STAGE_ROOTS > "$6"
    ' build "$ROOT" "$DF_TAG" "$DF_SEED" "$file" "$FR_WORK/context" "$FR_WORK/$DF_TAG.vars" || rc=$?
    local label=docker/${name%.Dockerfile}
    step "$label: builds" "$rc" "$((SECONDS - started)) s"
    figures+=("docker/$name: built in $((SECONDS - started)) s")
    [ "$rc" -eq 0 ] || return 0
    # shellcheck disable=SC1090
    source "$FR_WORK/$DF_TAG.vars"
    case "$name" in
        consumer.Dockerfile) check_consumer_image "$label" ;;
        postgres.Dockerfile) check_postgres_image "$label" ;;
        *) image_starts "$label" ;;
    esac
    [ "$keep" = 1 ] || rm -rf --one-file-system "${DF_STAGE_ROOTS[@]}"
}

[ "$(id -u)" = 0 ] || { echo "check-fresh: needs root (it mounts and chroots)" >&2; exit 2; }
if ! command -v mmdebstrap >/dev/null 2>&1; then
    say "installing mmdebstrap on this machine, which builds the roots"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap ||
        { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends mmdebstrap; }
fi

FR_WORK=$(mktemp -d /var/tmp/tributary-fresh.XXXXXX)
export FR_WORK
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
say "work dir $FR_WORK"
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ]; then
    say "note: uncommitted changes are not checked (the export is git archive HEAD)"
fi
git -C "$ROOT" archive --format=tar HEAD > "$FR_WORK/tree.tar"
mkdir -p "$FR_WORK/context"
tar -C "$FR_WORK/context" -xf "$FR_WORK/tree.tar"
say "exported $(git -C "$ROOT" rev-parse --short HEAD) ($(tar -tf "$FR_WORK/tree.tar" | wc -l) entries)"

banner "a bare Debian 12 root"
started=$SECONDS
if [ -n "${CHECK_FRESH_BASE:-}" ]; then
    say "reusing the bare root $CHECK_FRESH_BASE (CHECK_FRESH_BASE)"
    cp "$CHECK_FRESH_BASE" "$FR_WORK/base.tar"
else
    in_background fr_base || { say "no bare root: see above"; exit 1; }
fi
FRESH_BASE=$(fr_new base)
figures+=("bare root: built in $((SECONDS - started)) s, $(du -sx --block-size=1M "$FRESH_BASE" | cut -f1) MiB")
say "built in $((SECONDS - started)) s"

[ "$readme" = 0 ] || run_readme
if [ "$docker" = 1 ]; then
    for f in "$ROOT"/docker/*.Dockerfile; do
        build_image "$f"
    done
fi

banner "check-fresh summary"
printf '%s\n' "${summary[@]}"
echo
printf '  %s\n' "${figures[@]}"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ] && [ "$total_passed" -gt 0 ]
