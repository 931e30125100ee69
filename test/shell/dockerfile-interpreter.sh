#!/usr/bin/env bash
# test/shell/dockerfile-interpreter.sh: scripts/lib/dockerfile.sh, the
# Dockerfile interpreter of `make check-fresh`, without roots or root.
#
# Design: fr_new and fr_run (scripts/lib/fresh-root.sh) are replaced by
# stubs: a "root" is a plain directory, and fr_run records the user, working
# directory, environment and command of each RUN instead of running it.  The
# cases build small Dockerfiles and check what the interpreter did: lines
# joined at backslashes with comment lines dropped, ARG and ENV expansion,
# WORKDIR, USER, COPY from the context and from a stage, the exec form of
# ENTRYPOINT/CMD, and the errors (with file:line) for what it does not
# implement.
#
# The last line is `N passed, N failed`; one case counts once.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FR_WORK=$(mktemp -d "${TMPDIR:-/tmp}/df-test.XXXXXX")
trap 'rm -rf "$FR_WORK"' EXIT
FR_PATH=/usr/bin:/bin
# shellcheck source=scripts/lib/dockerfile.sh
source "$ROOT/scripts/lib/dockerfile.sh"
# shellcheck source=test/shell/lib.sh
source "$ROOT/test/shell/lib.sh"
RUNLOG=$FR_WORK/runs

# Stubs of scripts/lib/fresh-root.sh.
fr_new() {
    mkdir -p "$FR_WORK/roots/$1/etc" && echo "$FR_WORK/roots/$1"
}
fr_seed_apt() { :; }
fr_run() {
    local root=$1 user=root dir=/ envs=()
    shift
    while [ "$1" != -- ]; do
        case "$1" in
            -u) user=$2; shift 2 ;;
            -C) dir=$2; shift 2 ;;
            -e) envs+=("$2"); shift 2 ;;
            *) shift ;;
        esac
    done
    shift
    printf 'root=%s user=%s dir=%s env=%s cmd=%s\n' "${root##*/}" "$user" "$dir" \
        "$(IFS='|'; echo "${envs[*]}")" "$*" >> "$RUNLOG"
    [[ "$*" != *fail-here* ]]
}

CTX=$FR_WORK/context
mkdir -p "$CTX/scripts" "$CTX/data/fake"
echo deps > "$CTX/scripts/install-deps"
echo names > "$CTX/data/fake/first_names.txt"

# build: interpret the Dockerfile given on stdin; sets OUT and RC.
build() {
    local file=$FR_WORK/$1.Dockerfile
    cat > "$file"
    : > "$RUNLOG"
    rm -rf "$FR_WORK/roots"
    OUT=$( (df_build "$file" "$CTX" && declare -p DF_USER DF_WORKDIR DF_ENTRYPOINT DF_CMD DF_ENV) 2>&1)
    RC=$?
}

# check: NAME then conditions as strings to grep for in OUT (+) or the RUN
# log (@), or to find absent from OUT (-); `rc=N` checks the exit status.
check() {
    local name=$1 c why=()
    shift
    for c in "$@"; do
        case "$c" in
            rc=*) [ "$RC" = "${c#rc=}" ] || why+=("exit status: expected ${c#rc=}, got $RC") ;;
            +*) grep -qF -- "${c#+}" <<< "$OUT" || why+=("output lacks: ${c#+}") ;;
            -*) grep -qF -- "${c#-}" <<< "$OUT" && why+=("output should not have: ${c#-}") ;;
            @*) grep -qF -- "${c#@}" "$RUNLOG" || why+=("no RUN like: ${c#@}") ;;
            file:*) [ -e "$FR_WORK/roots/${c#file:}" ] || why+=("missing file ${c#file:}") ;;
        esac
    done
    if [ ${#why[@]} -eq 0 ]; then
        report "$name"
    else
        report "$name" "${why[@]}" "$(sed 's/^/  | /' <<< "$OUT")" "$(sed 's/^/  @ /' "$RUNLOG")"
    fi
}

build t1 <<'EOF'
# a comment
ARG FLAVOUR=plain
FROM debian:12 AS build
COPY . /src/app
WORKDIR /src/app
ENV PREFIX=/usr/local \
    PATH=/opt/bin:$PATH
RUN make \
    # a comment inside the continuation
    && make install ${FLAVOUR}

FROM debian:12
COPY scripts/install-deps /tmp/
COPY --from=build /src/app/data /usr/share/app
USER app
WORKDIR lib
ENTRYPOINT ["/usr/local/bin/app", "--flag"]
CMD ["run", "-c", "/etc/app.yaml"]
EOF
check "a two-stage build: joined lines, ENV, WORKDIR, COPY, USER, exec form" rc=0 \
    "@root=t1-stage1 user=root dir=/src/app env=PATH=/opt/bin:/usr/bin:/bin|PREFIX=/usr/local cmd=/bin/sh -c make     && make install \${FLAVOUR}" \
    file:t1-stage1/src/app/scripts/install-deps file:t1-stage2/tmp/install-deps \
    file:t1-stage2/usr/share/app/fake/first_names.txt \
    '+DF_USER="app"' '+DF_WORKDIR="/lib"' \
    '+declare -a DF_ENTRYPOINT=([0]="/usr/local/bin/app" [1]="--flag")' \
    '+declare -a DF_CMD=([0]="run" [1]="-c" [2]="/etc/app.yaml")'

build t2 <<'EOF'
FROM debian:12
ARG LEVEL=3
ENV A=one B=${A}-two LEVEL_IS=$LEVEL
RUN echo ok
EOF
check "ENV values expand against the environment before the instruction; ARG reaches RUN" rc=0 \
    "@env=LEVEL=3|PATH=/usr/bin:/bin|A=one|B=-two|LEVEL_IS=3"

build t3 <<'EOF'
FROM debian:12
RUN true
HEALTHCHECK CMD true
EOF
check "an instruction it does not implement: file:line and a failure" rc=1 \
    "+t3.Dockerfile:3: HEALTHCHECK is not supported by this interpreter"

build t4 <<'EOF'
FROM alpine:3
EOF
check "a base image other than debian:12: refused" rc=1 "+FROM alpine:3: only debian:12"

build t5 <<'EOF'
FROM debian:12
RUN echo fail-here
RUN echo never
EOF
check "a failing RUN stops the build" rc=1 "+t5.Dockerfile:2: RUN failed" "-never"

build t6 <<'EOF'
FROM debian:12
COPY missing.txt /tmp/
EOF
check "COPY of a file the context lacks: refused" rc=1 \
    "+COPY missing.txt: not found in the build context"

build t7 <<'EOF'
FROM debian:12
ENV GREETING="hello world"
EOF
check "ENV with quotes: refused, not half-parsed" rc=1 "+ENV with quotes is not supported"

echo "x" > "$CTX/stray.o"
printf '.git\n**/*.o\n' > "$FR_WORK/t8.Dockerfile.dockerignore"
build t8 <<'EOF'
FROM debian:12
EOF
check "a .dockerignore pattern that matches the context: reported, not ignored" rc=1 \
    "+'**/*.o' matches files of the export (stray.o)"
rm -f "$CTX/stray.o"

summary
