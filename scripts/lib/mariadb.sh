# scripts/lib/mariadb.sh: throwaway MariaDB 10.11 servers for the tests of
# the MySQL/MariaDB binlog source (consumer/src/source/mysql/).
#
# Design: the same rules as scripts/lib/pgcluster.sh, whose unprivileged
# user, temp dir and free-port helpers this file reuses (pgc_as, pgc_init,
# pgc_mktemp, pgc_free_port).  mariadbd refuses to run as root, and tests
# run as root, so every server runs as TRIB_TEST_USER inside a private temp
# dir holding the data directory, the binlogs, the socket, the config and
# the error log, and listens on a free TCP port on 127.0.0.1 only.  The
# caller registers mdb_cleanup in an EXIT trap, so the server is killed and
# the dir removed even when a test fails half way.
#
# Nothing here reads or touches a system MariaDB: the server reads only its
# own config (--defaults-file, so /etc/mysql is never read), the clients
# run with --no-defaults against the server's own socket, and Debian's
# `mariadb` service (which apt may start on port 3306) is never used.
#
# Binlog settings are what the binlog source needs (docs/MYSQL.md):
# log-bin, binlog_format=ROW, binlog_row_image=FULL,
# binlog_row_metadata=FULL, server_id=1, gtid_domain_id=0, CRC32 checksums.
# Extra arguments to mdb_start are config lines appended after these, so a
# test can override any of them (binlog_row_metadata=MINIMAL).
#
# Source this file; it defines shell functions and sets no options.
#
#   mdb_start [conf...]  initialise and start a server; extra lines go to
#                        its [mariadbd] section; sets MDB_DIR MDB_PORT
#                        MDB_SOCK MDB_PID
#   mdb_sql args...      the mariadb client as root over the socket, with
#                        --batch; SQL on stdin or with -e
#   mdb_stop [mode]      stop the server: clean shutdown (default), or
#                        `kill` (SIGKILL, a crash)
#   mdb_restart          start the stopped server again, same dir and port
#   mdb_cleanup          kill the server and remove the dir; idempotent

# shellcheck source=pgcluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/pgcluster.sh"

MDB_SERVER=${MDB_SERVER:-/usr/sbin/mariadbd}
MDB_INSTALL_DB=${MDB_INSTALL_DB:-mariadb-install-db}
MDB_CLIENT=${MDB_CLIENT:-mariadb}
MDB_ADMIN=${MDB_ADMIN:-mariadb-admin}

# mdb_config EXTRA...: print the server's config file.
mdb_config() {
    local line
    echo "[mariadbd]"
    echo "datadir = $MDB_DIR/data"
    echo "socket = $MDB_SOCK"
    echo "port = $MDB_PORT"
    echo "bind-address = 127.0.0.1"
    echo "pid-file = $MDB_DIR/mariadbd.pid"
    echo "log-error = $MDB_DIR/error.log"
    echo "tmpdir = $MDB_DIR/tmp"
    echo "skip-name-resolve"
    echo "character-set-server = utf8mb4"
    echo "collation-server = utf8mb4_general_ci"
    echo "log-bin = $MDB_DIR/binlog/mariadb-bin"
    echo "server_id = 1"
    echo "gtid_domain_id = 0"
    echo "binlog_format = ROW"
    echo "binlog_row_image = FULL"
    echo "binlog_row_metadata = FULL"
    echo "binlog_checksum = CRC32"
    # Small and fast: a test server holds little and need not survive a
    # power cut.
    echo "innodb_buffer_pool_size = 64M"
    echo "innodb_log_file_size = 48M"
    echo "innodb_flush_log_at_trx_commit = 2"
    echo "sync_binlog = 0"
    echo "performance_schema = OFF"
    for line in "$@"; do echo "$line"; done
}

# mdb_wait_ready LAUNCHER: wait up to 60 s for the server to answer on its
# socket, then set MDB_PID to mariadbd's own pid (LAUNCHER is the
# background shell that runs it as the test user).
mdb_wait_ready() {
    local i
    for i in $(seq 1 600); do
        if "$MDB_ADMIN" --no-defaults -S "$MDB_SOCK" -u root ping >/dev/null 2>&1 &&
            [ -s "$MDB_DIR/mariadbd.pid" ]; then
            MDB_PID=$(cat "$MDB_DIR/mariadbd.pid")
            return 0
        fi
        if ! kill -0 "$1" 2>/dev/null; then
            echo "mariadb: server exited during start-up; its log:" >&2
            cat "$MDB_DIR/error.log" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "mariadb: server did not answer within 60 s; its log:" >&2
    cat "$MDB_DIR/error.log" >&2
    return 1
}

# mdb_launch: start mariadbd in the background on the existing dir.
mdb_launch() {
    pgc_as "$MDB_SERVER" --defaults-file="$MDB_DIR/my.cnf" >>"$MDB_DIR/stdout.log" 2>&1 &
    mdb_wait_ready $!
}

# mdb_start: initialise a data directory and start a server with the
# binlog settings above; extra arguments are appended config lines.
mdb_start() {
    pgc_init
    MDB_DIR=$(pgc_mktemp)
    MDB_SOCK=$MDB_DIR/mariadbd.sock
    MDB_PORT=$(pgc_free_port) || return 1
    pgc_as mkdir -p "$MDB_DIR/data" "$MDB_DIR/binlog" "$MDB_DIR/tmp"
    mdb_config "$@" | pgc_as tee "$MDB_DIR/my.cnf" >/dev/null
    # auth-root-authentication-method=normal: root@localhost and
    # root@127.0.0.1 with an empty password (unix_socket auth would map the
    # OS user, which differs between root and the test user).
    pgc_as "$MDB_INSTALL_DB" --defaults-file="$MDB_DIR/my.cnf" \
        --auth-root-authentication-method=normal --skip-test-db \
        >"$MDB_DIR/install.log" 2>&1 || {
        cat "$MDB_DIR/install.log" >&2; return 1; }
    mdb_launch
}

# mdb_sql: run the mariadb client as root against the server.
mdb_sql() {
    "$MDB_CLIENT" --no-defaults -S "$MDB_SOCK" -u root --batch \
        --default-character-set=utf8mb4 "$@"
}

# mdb_stop [clean|kill]: stop the server; `kill` is SIGKILL (a crash).
mdb_stop() {
    [ -n "${MDB_PID:-}" ] || return 0
    # runuser stops itself when its child is stopped (SIGSTOP in a test)
    # and a SIGCONT to mariadbd does not wake it: wake it as soon as
    # mariadbd is told to go, since a stopped runuser does not reap it
    # either (the killed server stays a zombie, and the wait below took
    # its whole 60 s), nor exits
    local launcher
    launcher=$(cut -d' ' -f4 "/proc/$MDB_PID/stat" 2>/dev/null) || true
    if [ "${1:-clean}" = kill ]; then
        kill -9 "$MDB_PID" 2>/dev/null || true
    else
        "$MDB_ADMIN" --no-defaults -S "$MDB_SOCK" -u root shutdown >/dev/null 2>&1 ||
            kill -9 "$MDB_PID" 2>/dev/null || true
    fi
    if [ -n "$launcher" ] && [ "$launcher" != 1 ]; then
        kill -CONT "$launcher" 2>/dev/null || true
    fi
    # mariadbd is a grandchild (under runuser), so poll rather than wait;
    # a shutdown that takes over 60 s becomes a kill.
    local i
    for i in $(seq 1 600); do
        kill -0 "$MDB_PID" 2>/dev/null || break
        [ "$i" = 600 ] && kill -9 "$MDB_PID" 2>/dev/null
        sleep 0.1
    done
    MDB_PID=
}

# mdb_restart: start the stopped server again on the same dir and port.
mdb_restart() {
    [ -n "${MDB_DIR:-}" ] || { echo "mariadb: no server to restart" >&2; return 1; }
    mdb_stop
    mdb_launch
}

# mdb_cleanup: kill the server and remove everything; safe to call twice.
mdb_cleanup() {
    [ -n "${MDB_DIR:-}" ] || return 0
    mdb_stop kill
    rm -rf "$MDB_DIR"
    MDB_DIR=
}
