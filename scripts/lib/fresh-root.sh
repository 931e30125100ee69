# scripts/lib/fresh-root.sh: bare Debian 12 roots for scripts/check-fresh.sh.
#
# Design: one minimal root (mmdebstrap --variant=minbase: the Essential
# packages, Priority required and apt, as in the debian:12 image) is built
# once into $FR_WORK/base.tar, from the package archive as apt on this
# machine reaches it: its sources (/etc/apt/sources.list and
# sources.list.d), the apt.conf.d files that set Acquire:: options (proxies,
# mirrors, validity checks) and that no package owns, and its keyrings.
# Every root is a fresh extraction of that tarball plus what a machine or
# container engine provides: /etc/resolv.conf and /etc/hosts from the host,
# the certificate authorities this machine's administrator added
# (/usr/local/share/ca-certificates: a TLS-inspecting egress proxy's CA, as
# a company machine has it; ca-certificates adds them to the store when
# install-deps installs it, and npm reaches its registry through them),
# and a policy-rc.d that keeps package scripts from starting services (the
# roots share the host's network, where port 5432 may be taken).
#
# Commands run in a root through fr_run: in new PID and mount namespaces
# (unshare --kill-child), with /proc, a tmpfs /dev/shm and, on request, a
# tmpfs /tmp mounted inside them.  So nothing a root runs can outlive its
# command or see the host's processes, and its mounts disappear with it
# even when check-fresh is killed.  fr_cleanup removes $FR_WORK after
# unmounting whatever is left under it (mmdebstrap's own mounts, if it was
# interrupted).
#
# Source this file after setting FR_WORK (an empty private dir).
#
#   fr_base                   build $FR_WORK/base.tar (needs mmdebstrap)
#   fr_new NAME               a new root $FR_WORK/roots/NAME; prints its path
#   fr_run ROOT [opts] -- CMD run CMD in ROOT; opts: -u USER, -C DIR,
#                             -e NAME=VALUE (repeatable), -t (tmpfs /tmp),
#                             -i FILE (standard input; default /dev/null)
#   fr_seed_apt FROM TO       hard-link the .deb files apt downloaded in root
#                             FROM into root TO's apt cache
#   fr_cleanup                unmount and remove everything under $FR_WORK

FR_SUITE=bookworm
FR_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# fr_apt_sources: the host's enabled apt source files, one per line.
fr_apt_sources() {
    local f
    if [ -f /etc/apt/sources.list ] && grep -qE '^[[:space:]]*deb' /etc/apt/sources.list; then
        echo /etc/apt/sources.list
    fi
    for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && echo "$f"
    done
    return 0
}

# fr_apt_confs: the host's apt settings for reaching the archive: apt.conf,
# and the apt.conf.d files no package owns that set Acquire:: options.
fr_apt_confs() {
    local f
    [ -f /etc/apt/apt.conf ] && echo /etc/apt/apt.conf
    for f in /etc/apt/apt.conf.d/*; do
        [ -f "$f" ] || continue
        dpkg -S "$f" >/dev/null 2>&1 && continue
        grep -qi 'Acquire' "$f" && echo "$f"
    done
    return 0
}

# fr_keyrings: key files apt on the host trusts: trusted.gpg.d, keyrings/,
# and every Signed-By file the sources name.
fr_keyrings() {
    local f
    for f in /etc/apt/trusted.gpg /etc/apt/trusted.gpg.d/* /etc/apt/keyrings/*; do
        [ -f "$f" ] && echo "$f"
    done
    fr_apt_sources | xargs -r grep -hoiE '(signed-by[:=])[[:space:]]*[^][:space:]]+' |
        sed -E 's/^[^:=]*[:=][[:space:]]*//' | sort -u | while read -r f; do
        [ -f "$f" ] && echo "$f"
    done
    return 0
}

# fr_base: the minimal Debian 12 root as a tarball, from the archive as apt
# here is configured to reach it.
fr_base() {
    local args=() f sources=()
    command -v mmdebstrap >/dev/null 2>&1 || {
        echo "fresh-root: mmdebstrap is missing (apt-get install mmdebstrap)" >&2
        return 1
    }
    while read -r f; do sources+=("$f"); done < <(fr_apt_sources)
    while read -r f; do args+=("--aptopt=$f"); done < <(fr_apt_confs)
    [ ${#sources[@]} -gt 0 ] || { echo "fresh-root: no apt sources on this machine" >&2; return 1; }
    echo "fresh-root: mmdebstrap --variant=minbase $FR_SUITE, sources: ${sources[*]}"
    [ ${#args[@]} -eq 0 ] || echo "fresh-root: apt settings: ${args[*]#--aptopt=}"
    # mmdebstrap's temp dir (and its mounts, if it is interrupted) stay
    # under FR_WORK, where fr_cleanup finds them.
    TMPDIR=$FR_WORK mmdebstrap --variant=minbase --mode=root --format=tar \
        "${args[@]}" "$FR_SUITE" "$FR_WORK/base.tar" "${sources[@]}" \
        >"$FR_WORK/mmdebstrap.log" 2>&1 || {
        tail -n 30 "$FR_WORK/mmdebstrap.log" >&2
        echo "fresh-root: mmdebstrap failed; its log: $FR_WORK/mmdebstrap.log" >&2
        return 1
    }
}

# fr_new: extract a new root; prints its path.
fr_new() {
    local root f
    [ -n "${FR_WORK:-}" ] && [ -f "$FR_WORK/base.tar" ] ||
        { echo "fresh-root: no base root (FR_WORK unset or fr_base not run)" >&2; return 1; }
    root=$FR_WORK/roots/$1
    mkdir -p "$root" &&
        tar -C "$root" --numeric-owner -xpf "$FR_WORK/base.tar" &&
        cp -L /etc/resolv.conf "$root/etc/resolv.conf" &&
        cp -L /etc/hosts "$root/etc/hosts" &&
        printf '#!/bin/sh\n# fresh-root: no service starts in this root\nexit 101\n' \
            > "$root/usr/sbin/policy-rc.d" &&
        chmod 755 "$root/usr/sbin/policy-rc.d" || return 1
    if [ -d /usr/local/share/ca-certificates ]; then
        mkdir -p "$root/usr/local/share/ca-certificates" &&
            cp -rL /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/" || return 1
    fi
    while read -r f; do
        [ -e "$root$f" ] || install -D -m 644 "$f" "$root$f" || return 1
    done < <(fr_keyrings)
    echo "$root"
}

# fr_seed_apt: apt's download cache of root TO gets hard links to the .deb
# files root FROM downloaded, as a caching proxy would serve them.
fr_seed_apt() {
    local from=$1/var/cache/apt/archives to=$2/var/cache/apt/archives
    compgen -G "$from/*.deb" >/dev/null || return 0
    mkdir -p "$to"
    cp -l "$from"/*.deb "$to"/ 2>/dev/null || cp "$from"/*.deb "$to"/
}

# fr_run: run a command in a root (see the header for the options).
fr_run() {
    local root=$1 user=root dir=/ tmpfs_tmp=0 input=/dev/null envs=()
    shift
    while [ $# -gt 0 ]; do
        case "$1" in
            -u) user=$2; shift 2 ;;
            -C) dir=$2; shift 2 ;;
            -e) envs+=("$2"); shift 2 ;;
            -t) tmpfs_tmp=1; shift ;;
            -i) input=$2; shift 2 ;;
            --) shift; break ;;
            *) echo "fr_run: unknown option $1" >&2; return 2 ;;
        esac
    done
    [ -d "$root/proc" ] && [ "${root#"$FR_WORK"/}" != "$root" ] ||
        { echo "fr_run: $root is not a root under $FR_WORK" >&2; return 2; }
    local as=()
    [ "$user" = root ] || as=(runuser -u "$user" --)
    # PID 1 of the namespace is the bash below: it mounts, runs chroot as a
    # child (not exec: it must stay to reap orphans such as postmasters),
    # and passes the exit status on.
    unshare --pid --fork --kill-child --mount --propagation private -- \
        bash -c '
            root=$1 tmp=$2; shift 2
            mount -t proc proc "$root/proc" || exit 125
            mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm" || exit 125
            if [ "$tmp" = 1 ]; then
                mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp" || exit 125
            fi
            chroot "$root" "$@"
            rc=$?
            exit "$rc"
        ' fr_run "$root" "$tmpfs_tmp" \
        /usr/bin/env -i PATH="$FR_PATH" HOME=/root TERM="${TERM:-dumb}" "${envs[@]}" \
        /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$dir" "${as[@]}" "$@" <"$input"
}

# fr_procs: the processes whose root directory is one of our roots.
fr_procs() {
    local p r
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        [ "${r#"$FR_WORK"/}" != "$r" ] && echo "${p#/proc/}"
    done
    return 0
}

# fr_cleanup: make sure nothing runs in a root any more (their namespaces
# are being torn down; SIGKILL what is left, by pid), unmount what is
# mounted under FR_WORK (deepest first), then remove it without crossing
# into another file system.
fr_cleanup() {
    [ -n "${FR_WORK:-}" ] && [ -d "$FR_WORK" ] || return 0
    local m pids
    for _ in $(seq 1 50); do
        pids=$(fr_procs)
        [ -n "$pids" ] || break
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
        sleep 0.2
    done
    awk -v w="$FR_WORK" '$5 == w || index($5, w "/") == 1 { print $5 }' /proc/self/mountinfo |
        sort -r | while read -r m; do
        umount -l "$m" 2>/dev/null || true
    done
    rm -rf --one-file-system "$FR_WORK"
}
