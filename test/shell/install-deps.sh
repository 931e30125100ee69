#!/usr/bin/env bash
# test/shell/install-deps.sh: scripts/install-deps against stub dpkg-query,
# dpkg, apt-get and id programs put first on PATH.
#
# Design: the stubs keep the state of a pretend Debian system in a temp dir.
# Every package dpkg-query is asked about is installed at DEFAULT_VERSION
# unless its name is in state/missing or it has a line in state/versions.
# The apt-get stub logs each call in state/apt.log; `install` "installs" the
# named packages at $STUB_APT_VERSION, and STUB_APT_FAIL=update|install makes
# that step fail.  id -u prints $STUB_UID.  dpkg only answers
# --compare-versions (through the real dpkg, a pure computation).  So each
# case runs the real script end to end without touching the machine, and
# checks its exit status, what it printed, and what it asked apt-get to do.
#
# Usage: test/shell/install-deps.sh  (INSTALL_DEPS=path tests another copy)
# The last line is `N passed, N failed`; one case counts once.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
INSTALL_DEPS=${INSTALL_DEPS:-$ROOT/scripts/install-deps}
DEFAULT_VERSION=15.20-0+deb12u1
OLD_PG=15.18-0+deb12u1
REAL_DPKG=$(command -v dpkg)
# shellcheck source=test/shell/lib.sh
source "$ROOT/test/shell/lib.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/install-deps-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
STUBS=$WORK/bin
mkdir -p "$STUBS"

# write_stubs: the four fake programs.
write_stubs() {
    cat > "$STUBS/dpkg-query" <<'EOF'
#!/usr/bin/env bash
# stub dpkg-query -W -f=FORMAT pkg...: fills ${Package}, ${db:Status-Abbrev}
# and ${Version} from the state; exits 1 when a package is unknown, as the
# real one does.
[ "${STUB_DPKG_QUERY_FAIL:-0}" = 1 ] && { echo "dpkg-query: error: database is locked" >&2; exit 2; }
[ "$1" = -W ] || { echo "stub dpkg-query: unexpected $*" >&2; exit 2; }
fmt=${2#-f=}
shift 2
rc=0
for p in "$@"; do
    if grep -qxF "$p" "$STUB_STATE/missing"; then
        echo "dpkg-query: no packages found matching $p" >&2
        rc=1
        continue
    fi
    v=$(awk -v p="$p" '$1 == p { v = $2 } END { print v }' "$STUB_STATE/versions")
    [ -n "$v" ] || v=$STUB_DEFAULT_VERSION
    line=${fmt//'${Package}'/$p}
    line=${line//'${db:Status-Abbrev}'/ii }
    line=${line//'${Version}'/$v}
    printf '%b' "$line"
done
exit "$rc"
EOF
    cat > "$STUBS/dpkg" <<EOF
#!/usr/bin/env bash
# stub dpkg: only --compare-versions, answered by the real dpkg.
[ "\$1" = --compare-versions ] && exec "$REAL_DPKG" "\$@"
echo "stub dpkg: unexpected \$*" >&2
exit 2
EOF
    cat > "$STUBS/apt-get" <<'EOF'
#!/usr/bin/env bash
# stub apt-get: logs the call; update and install succeed unless
# STUB_APT_FAIL names them; install marks its packages installed.
echo "apt-get $*" >> "$STUB_STATE/apt.log"
cmd=
for a in "$@"; do
    case "$a" in -*) ;; *) cmd=$a; break ;; esac
done
if [ "${STUB_APT_FAIL:-}" = "$cmd" ]; then
    echo "E: stub apt-get: $cmd failed" >&2
    exit 100
fi
if [ "$cmd" = install ]; then
    seen=0
    for a in "$@"; do
        [ "$seen" = 1 ] || { [ "$a" = install ] && seen=1; continue; }
        case "$a" in -*) continue ;; esac
        grep -vxF "$a" "$STUB_STATE/missing" > "$STUB_STATE/missing.new"
        mv "$STUB_STATE/missing.new" "$STUB_STATE/missing"
        echo "$a ${STUB_APT_VERSION:-$STUB_DEFAULT_VERSION}" >> "$STUB_STATE/versions"
    done
fi
exit 0
EOF
    cat > "$STUBS/id" <<'EOF'
#!/usr/bin/env bash
# stub id: only -u.
[ "$1" = -u ] && { echo "${STUB_UID:-0}"; exit 0; }
echo "stub id: unexpected $*" >&2
exit 2
EOF
    chmod +x "$STUBS"/*
}

# new_state: a fresh pretend system; arguments are missing package names.
new_state() {
    STATE=$WORK/state.$RANDOM$RANDOM
    mkdir -p "$STATE"
    printf '%s\n' "$@" > "$STATE/missing"
    : > "$STATE/versions"
    : > "$STATE/apt.log"
}

# run_deps: run install-deps with the stubs first on PATH; sets OUT, RC.
run_deps() {
    OUT=$(env PATH="$STUBS:$PATH" STUB_STATE="$STATE" \
        STUB_DEFAULT_VERSION="$DEFAULT_VERSION" bash "$INSTALL_DEPS" "$@" 2>&1)
    RC=$?
}

# Assertions inside one case: each failure is recorded in WHY.
expect_rc() {
    [ "$RC" = "$1" ] || WHY+=("exit status: expected $1, got $RC")
}
expect_out() {
    local s
    for s in "$@"; do
        grep -qF -- "$s" <<< "$OUT" || WHY+=("output lacks: $s")
    done
}
expect_no_out() {
    grep -qF -- "$1" <<< "$OUT" && WHY+=("output should not contain: $1")
}
expect_apt() {
    grep -qF -- "$1" "$STATE/apt.log" || WHY+=("apt-get was not called as: $1 (calls: $(paste -sd'|' "$STATE/apt.log"))")
}
expect_no_apt() {
    [ ! -s "$STATE/apt.log" ] || WHY+=("apt-get should not run; it ran: $(paste -sd'|' "$STATE/apt.log")")
}

# case_begin / case_end: one named case; it passes when nothing was recorded.
case_begin() {
    NAME=$1
    WHY=()
    unset STUB_UID STUB_APT_FAIL STUB_APT_VERSION STUB_DPKG_QUERY_FAIL
}
case_end() {
    if [ ${#WHY[@]} -eq 0 ]; then
        report "$NAME"
    else
        report "$NAME" "${WHY[@]}" "output was:" "$(sed 's/^/  | /' <<< "$OUT")"
    fi
}

write_stubs

case_begin "everything present: says so, installs nothing, exit 0"
new_state
run_deps
expect_rc 0
expect_out "install-deps: all " " packages present" "postgresql-15 $DEFAULT_VERSION (need 15.19 or later)"
expect_no_apt
case_end

case_begin "some packages missing: names them, installs exactly them, exit 0"
new_state kcat make
run_deps
expect_rc 0
expect_out "missing (2): make kcat" "step 1/3: apt-get update" \
    "step 2/3: apt-get install" "install-deps: installed 2 package(s)"
expect_apt "apt-get update"
expect_apt "install -y -q --no-install-recommends make kcat"
case_end

case_begin "a versioned package missing: named and installed, not a silent exit"
new_state postgresql-server-dev-15
run_deps
expect_rc 0
expect_out "missing (1): postgresql-server-dev-15" "install-deps: installed 1 package(s)"
expect_apt "--no-install-recommends postgresql-server-dev-15"
case_end

case_begin "a versioned package outdated: version shown, the PostgreSQL set upgraded together"
new_state
echo "postgresql-15 $OLD_PG" > "$STATE/versions"
run_deps
expect_rc 0
expect_out "outdated (1): postgresql-15 $OLD_PG (need 15.19 or later)" \
    "install-deps: installed 3 package(s)"
expect_apt "--no-install-recommends postgresql-15 postgresql-server-dev-15 postgresql-client-15"
case_end

case_begin "still outdated after apt-get install: says where a newer one comes from, exit 1"
new_state
echo "postgresql-15 $OLD_PG" > "$STATE/versions"
export STUB_APT_VERSION=$OLD_PG
run_deps
expect_rc 1
expect_out "step 3/3 failed" "postgresql-15 is $OLD_PG after apt-get install; need 15.19 or later" \
    "bookworm-security"
case_end

case_begin "apt-get update failing: names the step and the command to run by hand, exit 1"
new_state kcat
export STUB_APT_FAIL=update
run_deps
expect_rc 1
expect_out "step 1/3 failed: apt-get update exited with status 100" \
    "to fix by hand, as root" "apt-get install -y --no-install-recommends kcat"
expect_apt "apt-get update"
grep -q " install " "$STATE/apt.log" && WHY+=("apt-get install ran after a failed update")
case_end

case_begin "apt-get install failing: names the step and the command to run by hand, exit 1"
new_state jq kcat
export STUB_APT_FAIL=install
run_deps
expect_rc 1
expect_out "step 2/3 failed: apt-get install exited with status 100" \
    "to fix by hand, as root" "apt-get install -y --no-install-recommends jq kcat"
case_end

case_begin "not root with packages missing: says how (sudo), runs no apt-get, exit 1"
new_state kcat
export STUB_UID=1000
run_deps
expect_rc 1
expect_out "missing (1): kcat" "installing needs root" "sudo " \
    "apt-get install -y --no-install-recommends kcat"
expect_no_apt
case_end

case_begin "not root with everything present: nothing to do, exit 0"
new_state
export STUB_UID=1000
run_deps
expect_rc 0
expect_out "packages present"
expect_no_apt
case_end

case_begin "--check with packages missing: the report, no apt-get, exit 1"
new_state postgresql-15 kcat
echo "postgresql-client-15 $OLD_PG" > "$STATE/versions"
run_deps --check
expect_rc 1
expect_out "missing (2): postgresql-15 kcat" \
    "outdated (1): postgresql-client-15 $OLD_PG (need 15.19 or later)" \
    "--check: nothing installed"
expect_no_apt
case_end

case_begin "--check with everything present: the report, exit 0"
new_state
run_deps --check
expect_rc 0
expect_out "packages present"
expect_no_apt
case_end

case_begin "--runtime: only the daemon's shared libraries, no PostgreSQL version check"
new_state librdkafka1 postgresql-15
run_deps --runtime
expect_rc 0
expect_out "missing (1): librdkafka1" "install-deps: installed 1 package(s)"
expect_no_out "postgresql-15"
expect_apt "--no-install-recommends librdkafka1"
case_end

case_begin "dpkg-query failing: says it cannot tell what is installed, exit 1"
new_state
export STUB_DPKG_QUERY_FAIL=1
run_deps
expect_rc 1
expect_out "dpkg-query failed (exit status 2)" "database is locked"
expect_no_apt
case_end

case_begin "an unknown option: usage, exit 2"
new_state
run_deps --frobnicate
expect_rc 2
expect_out "usage:"
expect_no_apt
case_end

summary
