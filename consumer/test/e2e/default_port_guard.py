#!/usr/bin/env python3
# consumer/test/e2e/default_port_guard.py: hold the daemon's default HTTP
# address, 127.0.0.1:8080, while end-to-end scripts run.
#
# Usage: default_port_guard.py PID [PORT]
#
# (PORT, default 8080, only for e2e 108, which checks the guard itself on a
# free port.)
#
# A daemon whose pipeline has no `http:` section listens on 127.0.0.1:8080.
# In the e2e suite that is a latent flake: it passes alone and fails ("http:
# cannot listen on 127.0.0.1:8080: Address already in use") only when another
# script's daemon, or a second suite, holds the port at the same moment.
# This guard turns it into a failure every time: it binds and listens on the
# port (never accepting) so that every daemon trying the default fails at
# once; lib.sh's e2e_finish then names the cause (expect_no_default_port).
#
# It prints one line and returns; when it holds the port, a child process
# keeps holding it (stdin, stdout and stderr on /dev/null, so that `$(...)`
# returns at once) until process PID (the runner, test/run.sh, or a script
# run by hand, lib.sh's e2e_init) is gone or a zombie, checked each second:
# a runner killed with -9 does not leave the port held, even before its
# parent reaps it.  The line:
#   held GUARD_PID  the guard (GUARD_PID, for the caller to kill at its end)
#                   holds the port
#   busy: REASON; waiter GUARD_PID
#                   it could not (another suite's guard or demo, or a
#                   program of the developer's), so the port is taken and a
#                   daemon on the default still cannot listen.  A waiter
#                   (GUARD_PID) tries again every WAIT_S and holds the port
#                   from the moment the other lets it go, until PID is gone:
#                   a second suite run beside the first stays guarded when
#                   the first ends before it (e2e 108 counts on the port
#                   being held all along).
import os
import socket
import sys
import time

HOST, PORT = "127.0.0.1", 8080
WAIT_S = 0.2                    # a waiter's tries, while the port is taken


def main():
    args = sys.argv[1:]
    if len(args) not in (1, 2) or not all(a.isdigit() for a in args):
        sys.stderr.write("usage: default_port_guard.py PID [PORT]\n")
        return 2
    parent = int(args[0])
    port = int(args[1]) if len(args) == 2 else PORT
    s, err = listen_on(port)
    sys.stdout.flush()
    pid = os.fork()
    if pid:
        if s is not None:
            print("held %d" % pid, flush=True)
        else:
            print("busy: %s:%d: %s; waiter %d" % (HOST, port, err, pid), flush=True)
        return 0
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    while s is None and alive(parent):
        time.sleep(WAIT_S)
        s, err = listen_on(port)
    while alive(parent):
        time.sleep(1)
    return 0


def listen_on(port):
    """A socket listening on HOST:port, or None and the reason."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # SO_REUSEADDR only passes over TIME_WAIT leftovers of an earlier daemon;
    # Linux still refuses it while another socket listens on the port.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((HOST, port))
        s.listen(1)
    except OSError as e:
        s.close()
        return None, e.strerror
    return s, None


def alive(pid):
    """Is process pid still running?  A zombie is not: a runner killed
    with -9 stays one until its own parent reaps it, which one that is
    stopped or hung (or a container's init that reaps nothing) never
    does, and kill(pid, 0) still succeeds on it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    except (OSError, IndexError):
        return True             # no /proc: kill(pid, 0) alone
    return state not in ("Z", "X")


if __name__ == "__main__":
    sys.exit(main())
