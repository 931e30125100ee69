#!/usr/bin/env bash
# test/shell/include-graph.sh: scripts/include-graph, the include layering
# check of consumer/src (`make -C consumer check-includes`), fails on what it
# must refuse and passes a clean tree.
#
# Design: small fake trees in a temp dir, each a few empty C files whose
# only content is their #include lines: a clean tree; one with a cycle
# between two modules (through their .c files, as in the real tree); one
# with an upward include (lib -> core), a child including its parent
# (sink/kafka -> sink), sibling sources, a pipeline reaching into a
# source's folder, a folder the table does not know, and a header name two
# folders hold.  Each case checks the exit status and the exact lines.
#
# The last line is `N passed, N failed`; one case counts once.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GRAPH=$ROOT/scripts/include-graph
WORK=$(mktemp -d "${TMPDIR:-/tmp}/include-graph-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=test/shell/lib.sh
source "$ROOT/test/shell/lib.sh"

# tree NAME FILE=INCLUDES...: a tree in $WORK/NAME; each FILE (a path in
# the tree) holds one #include line per comma-separated header name.
tree() {
    local dir=$WORK/$1 spec file incs h hs
    shift
    for spec in "$@"; do
        file=${spec%%=*}
        incs=${spec#*=}
        mkdir -p "$(dirname "$dir/$file")"
        : >"$dir/$file"
        [ "$spec" = "$file" ] && continue
        IFS=, read -r -a hs <<<"$incs"
        for h in "${hs[@]}"; do printf '#include "%s"\n' "$h" >>"$dir/$file"; done
    done
}

# run NAME: run the check on tree NAME; sets out and rc.
run() {
    rc=0
    out=$(cd "$WORK" && python3 "$GRAPH" "$1" 2>&1) || rc=$?
}

# expect_line NAME LINE: the last run printed LINE, exactly.
expect_line() {
    if grep -qxF -- "$2" <<<"$out"; then report "$1"
    else report "$1" "expected the line: $2" "output:" "$out"; fi
}

# expect_rc NAME RC: the last run exited with RC.
expect_rc() {
    if [ "$rc" = "$2" ]; then report "$1"
    else report "$1" "expected exit $2, got $rc" "output:" "$out"; fi
}

# A clean tree: every room of the table, includes that point down, a
# parent using its child, a module's .c including its own .h and _int.h.
tree clean \
    lib/strbuf.h lib/strbuf.c=strbuf.h \
    core/event.h=strbuf.h core/event.c=event.h,strbuf.h \
    config/config.h=event.h config/config.c=config.h,config_int.h config/config_int.h=config.h \
    source/pg/pgrecord.h=event.h source/pg/pgrecord.c=pgrecord.h,config.h \
    transform/mask/mask.h=strbuf.h transform/mask/mask.c=mask.h \
    transform/rules.h=event.h transform/rules.c=rules.h,mask.h \
    sink/envelope.h=event.h sink/envelope.c=envelope.h,sink_file.h \
    sink/file/sink_file.h=event.h sink/file/sink_file.c=sink_file.h,config.h \
    pipeline/pipeline.h=event.h pipeline/pipeline.c=pipeline.h,rules.h,envelope.h,sink_file.h,mask.h \
    cli/main.c=pipeline.h,pgrecord.h,strbuf.h
run clean
expect_rc "a clean tree passes" 0
expect_line "and says what it read" \
    "include-graph: 20 files, 31 includes, 0 cycle(s), 0 layering violation(s), 0 other problem(s)"

# A cycle between two modules of one folder, through their .c files, and a
# clean third module that includes both.
tree cycle \
    core/position.h core/position.c=position.h,eventid.h \
    core/eventid.h core/eventid.c=eventid.h,position.h \
    core/event.c=position.h,eventid.h
run cycle
expect_rc "a cycle between modules fails" 1
expect_line "the cycle is named" "include cycle among 2 modules: core/eventid, core/position"
expect_line "with the include that leaves the first module" \
    "    cycle/core/eventid.c:2: includes core/position.h"
expect_line "and the one that closes the cycle" \
    "    cycle/core/position.c:2: includes core/eventid.h"
expect_line "and counted" \
    "include-graph: 5 files, 6 includes, 1 cycle(s), 0 layering violation(s), 0 other problem(s)"

# A cycle through a private header (X_int.h belongs to module X).
tree cycle_int \
    transform/lua/lua_expr.h transform/lua/lua_expr.c=lua_int.h \
    transform/lua/lua.c=lua_int.h transform/lua/lua_int.h=lua_expr.h
run cycle_int
expect_rc "a cycle through an X_int.h fails" 1
expect_line "X_int.h is part of module X" \
    "include cycle among 2 modules: transform/lua/lua, transform/lua/lua_expr"

# Includes the table refuses.
tree layers \
    lib/strbuf.h lib/strbuf.c=strbuf.h,event.h \
    core/event.h \
    sink/envelope.h sink/kafka/kafka.c=envelope.h \
    source/pg/pg.h source/mysql/my.c=pg.h \
    pipeline/pipeline.c=pg.h,envelope.h \
    weird/w.c=strbuf.h
run layers
expect_rc "includes the table refuses fail" 1
expect_line "an upward include is named" \
    "layers/lib/strbuf.c:2: includes core/event.h (lib -> core not allowed)"
expect_line "a child may not include its parent" \
    "layers/sink/kafka/kafka.c:1: includes sink/envelope.h (sink/kafka -> sink not allowed)"
expect_line "a source may not include another source" \
    "layers/source/mysql/my.c:1: includes source/pg/pg.h (source/mysql -> source/pg not allowed)"
expect_line "the pipeline may not include a source's folder" \
    "layers/pipeline/pipeline.c:1: includes source/pg/pg.h (pipeline -> source/pg not allowed)"
expect_line "a folder without a row in the table is refused" \
    "layers/weird: folder weird has no row in the LAYERS table of $GRAPH"
expect_line "the pipeline may include the sinks' room (no line for it)" \
    "include-graph: 9 files, 7 includes, 0 cycle(s), 4 layering violation(s), 1 other problem(s)"

# Two folders hold a header of the same name: which one the compiler takes
# depends on the -I order.
tree ambiguous \
    lib/util.h core/util.h cli/main.c=util.h
run ambiguous
expect_rc "a header name two folders hold fails" 1
expect_line "the include and both headers are named" \
    "ambiguous/cli/main.c:1: includes util.h, which names 2 headers (core/util.h, lib/util.h)"

# Usage errors.
rc=0; out=$(python3 "$GRAPH" 2>&1) || rc=$?
expect_rc "no SRC_DIR: exit 2" 2
rc=0; out=$(python3 "$GRAPH" "$WORK/nonesuch" 2>&1) || rc=$?
expect_rc "a SRC_DIR that does not exist: exit 2" 2

summary
