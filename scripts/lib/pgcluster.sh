# scripts/lib/pgcluster.sh: throwaway PostgreSQL 15 clusters for tests, the
# demo and the benchmarks.
#
# Design: initdb, postgres and pg_regress refuse to run as root, and CI runs
# as root.  Every server therefore runs as an unprivileged user (TRIB_TEST_USER,
# created on demand) inside a private temp dir that holds the data directory,
# the Unix socket and the log.  Each cluster listens on a free TCP port on
# 127.0.0.1 only.  The caller registers pgc_cleanup in an EXIT trap, so the
# server is stopped and the dir removed even when a test fails half way.
#
# Source this file; it defines shell functions and sets no options.
#
#   pgc_init             ensure the test user, PGBIN; no server yet
#   pgc_start [conf...]  start a cluster; extra lines go to postgresql.conf
#                        sets PGC_DIR PGC_PORT PGC_SOCK PGC_PID
#   pgc_psql args...     psql as the cluster's superuser, ON_ERROR_STOP on
#   pgc_as cmd...        run any command as the test user
#   pgc_stop [mode]      stop the server (fast by default)
#   pgc_cleanup          stop (immediate) and remove the dir; idempotent;
#                        releases all this shell's ports: at the end only

: "${PG_CONFIG:=/usr/lib/postgresql/15/bin/pg_config}"
PGBIN=$("$PG_CONFIG" --bindir)
TRIB_TEST_USER=${TRIB_TEST_USER:-tribtest}

# The plugins every test and benchmark cluster may load.  PostgreSQL 15.19
# and later refuse an output plugin that is not listed here.
PGC_PLUGINS="pgoutput, test_decoding, wal2json, tributary"

# pgc_as: run a command as the unprivileged test user (or as ourselves when
# we are not root).
pgc_as() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$TRIB_TEST_USER" -- "$@"
    else
        "$@"
    fi
}

# pgc_init: make sure the unprivileged user exists.
pgc_init() {
    if [ "$(id -u)" = 0 ] && ! id "$TRIB_TEST_USER" >/dev/null 2>&1; then
        useradd --system --user-group --no-create-home \
            --home-dir /nonexistent --shell /usr/sbin/nologin "$TRIB_TEST_USER"
    fi
}

# pgc_mktemp: a temp dir owned by the test user; prints its path.
pgc_mktemp() {
    local d
    d=$(mktemp -d "${TMPDIR:-/tmp}/trib.XXXXXX")
    chmod 755 "$d"
    [ "$(id -u)" = 0 ] && chown "$TRIB_TEST_USER" "$d"
    echo "$d"
}

# pgc_free_port: print a TCP port on 127.0.0.1 that nothing listens on,
# and reserve it for this test run.
#
# Ports come from below the kernel's ephemeral range
# (/proc/sys/net/ipv4/ip_local_port_range), which the kernel hands to
# sockets bound to port 0 (the embedded Kafka's brokers) and to outgoing
# connections: a server restarted on its port (e2e 03, 16) could otherwise
# find it taken in the moment it was down.  PGC_PORT_RANGE="LO HI" sets
# the range instead (test/shell/port-locks.sh).  Other test runs on the
# machine choose from the same range, so each chosen port is reserved with
# a lock file in PGC_PORT_LOCKS holding the PID of the test's shell ($$,
# also in a subshell); a lock whose process is gone is stale and taken
# over.  The claim of a port (create its lock file, or read a stale one's
# owner and write ours) is one step for all shells: it runs under flock(1)
# on PGC_PORT_LOCKS/.claim.  Without it two shells could both find a lock
# stale (or one found the other's lock file created but still empty) and
# both write theirs: the same port twice.  pgc_release_ports drops the
# locks (see there for when).
PGC_PORT_LOCKS=${PGC_PORT_LOCKS:-${TMPDIR:-/tmp}/tributary-test-ports}
pgc_free_port() {
    local p i lo hi owner fd rc=1
    if [ -n "${PGC_PORT_RANGE:-}" ]; then
        read -r lo hi <<<"$PGC_PORT_RANGE"
    else
        read -r lo _ < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
        hi=$(( lo > 15000 ? lo - 1 : 60999 ))
        [ "$hi" = 60999 ] && lo=20000 || lo=10000
    fi
    mkdir -p "$PGC_PORT_LOCKS" 2>/dev/null && chmod 1777 "$PGC_PORT_LOCKS" 2>/dev/null
    # the claim lock; readable is enough for flock, and made by the first
    # user, others can only read it
    : >> "$PGC_PORT_LOCKS/.claim" 2>/dev/null
    chmod 644 "$PGC_PORT_LOCKS/.claim" 2>/dev/null
    exec {fd}<"$PGC_PORT_LOCKS/.claim" || {
        echo "pgcluster: cannot open $PGC_PORT_LOCKS/.claim" >&2; return 1; }
    for i in $(seq 1 400); do
        p=$(( lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1) ))
        ss -Htln "sport = :$p" 2>/dev/null | grep . >/dev/null && continue
        flock -x "$fd" || break
        if ( set -o noclobber; echo "$$" > "$PGC_PORT_LOCKS/$p" ) 2>/dev/null; then
            rc=0
        else
            owner=$(cat "$PGC_PORT_LOCKS/$p" 2>/dev/null)
            if ! { [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null; }; then
                echo "$$" > "$PGC_PORT_LOCKS/$p" 2>/dev/null && rc=0   # stale: take it over
            fi
        fi
        flock -u "$fd"
        [ "$rc" = 0 ] && break
    done
    exec {fd}<&-
    if [ "$rc" = 0 ]; then echo "$p"; return 0; fi
    echo "pgcluster: no free port found" >&2
    return 1
}

# pgc_release_ports: drop every port reservation of this shell: the
# ports of all its servers and those it took for other uses (HTTP
# listeners, MariaDB).  So it is for the end of a script only: pgc_cleanup
# calls it, and the first pgc_cleanup of a script with several servers
# (e2e lib.sh cleanup_servers, then pgc_cleanup) releases the ports of the
# servers still running too, which is harmless because it runs from the
# EXIT trap, when they are all about to stop.  A script that stops one
# server and goes on must not call pgc_cleanup for it (pgc_stop does not
# release): another run could take the port of a server it restarts.
pgc_release_ports() {
    local f
    for f in "$PGC_PORT_LOCKS"/*; do
        [ -f "$f" ] && [ "$(cat "$f" 2>/dev/null)" = "$$" ] && rm -f "$f"
    done
    return 0
}

# pgc_start: initdb and start a cluster with logical decoding enabled.
# Extra arguments are appended to postgresql.conf, one line each.
pgc_start() {
    pgc_init
    PGC_DIR=$(pgc_mktemp)
    PGC_SOCK=$PGC_DIR
    PGC_PORT=$(pgc_free_port) || return 1
    pgc_as "$PGBIN/initdb" -D "$PGC_DIR/data" -U postgres -A trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$PGC_DIR/initdb.log" 2>&1 || {
        cat "$PGC_DIR/initdb.log" >&2; return 1; }
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $PGC_PORT"
        echo "unix_socket_directories = '$PGC_SOCK'"
        echo "wal_level = logical"
        echo "max_replication_slots = 20"
        echo "max_wal_senders = 20"
        echo "output_plugin_libraries = '$PGC_PLUGINS'"
        echo "fsync = off"
        for line in "$@"; do echo "$line"; done
    } | pgc_as tee -a "$PGC_DIR/data/postgresql.conf" >/dev/null
    pgc_as "$PGBIN/pg_ctl" -D "$PGC_DIR/data" -l "$PGC_DIR/server.log" \
        -w -t 60 start >/dev/null || { cat "$PGC_DIR/server.log" >&2; return 1; }
    PGC_PID=$(head -1 "$PGC_DIR/data/postmaster.pid")
    export PGHOST=$PGC_SOCK PGPORT=$PGC_PORT PGUSER=postgres
}

# pgc_psql: psql against the cluster, stopping at the first error.
pgc_psql() {
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGC_SOCK" -p "$PGC_PORT" \
        -U postgres "$@"
}

# pgc_stop: stop the server; mode is fast (default) or immediate.
pgc_stop() {
    [ -n "${PGC_DIR:-}" ] && [ -f "$PGC_DIR/data/postmaster.pid" ] || return 0
    pgc_as "$PGBIN/pg_ctl" -D "$PGC_DIR/data" -m "${1:-fast}" -w stop >/dev/null 2>&1 || true
}

# pgc_cleanup: stop the server and remove everything; safe to call twice.
# It also releases all of this shell's port reservations
# (pgc_release_ports): call it at the end of a script, not for one server
# of several.
pgc_cleanup() {
    pgc_release_ports
    [ -n "${PGC_DIR:-}" ] || return 0
    pgc_stop immediate
    rm -rf "$PGC_DIR"
    PGC_DIR=
}
