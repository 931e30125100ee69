#!/usr/bin/env bash
# bench/lua.sh: cost of a Lua filter per event (consumer/src/transform/lua/lua_expr.c),
# the figure behind the transform rules' target of at most 1 us per event.
# `make bench-lua` runs it.
#
#   bench/lua.sh [EVENTS] [EXPRESSION]
#
# It builds consumer/build/tools/bench_lua and runs it: per event, bind the
# event, read the fields the expression touches from its row image (a
# realistic 10-column order row), evaluate; best of 5 rounds of EVENTS
# (default 1000000) events.  The default expression is the typical filter
# `after.amount > 100 and op ~= 'd'`.  No database is involved.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
make -s -C "$top/consumer" build/tools/bench_lua >/dev/null
exec "$top/consumer/build/tools/bench_lua" "$@"
