# scripts/lib/dockerfile.sh: build a Dockerfile the way `docker build` would,
# without a Docker engine, in bare roots (scripts/lib/fresh-root.sh).
#
# Design: an interpreter for the subset of the Dockerfile language that
# docker/ uses, and nothing more; anything else stops it with the file, line
# and instruction, so a Dockerfile cannot silently do something here that it
# would not do in Docker (or the reverse).
#
#   FROM debian:12 [AS name]     a fresh root (the base is debian:12's
#                                package set: mmdebstrap minbase)
#   FROM <stage> [AS name]       a copy of an earlier stage's root
#   ARG name[=default]           substituted in later instructions, and in
#                                the environment of RUN, as Docker does;
#                                one before the first FROM is seen by FROM
#                                lines, and in a stage by `ARG name` only
#   ENV k=v [k=v...] | ENV k v   unquoted values; $VAR and ${VAR} expanded
#   WORKDIR path                 created if missing; relative to the last
#   USER name                    RUN and the final checks run as that user
#   COPY [--from=stage] [--chown=u[:g]] src... dest
#                                from the build context (a clean export) or
#                                a stage's root; a directory's contents are
#                                copied, as Docker does
#   RUN command                  shell form: /bin/sh -c in the root, with
#                                the stage's environment, WORKDIR and USER
#   ENTRYPOINT, CMD              exec form (JSON strings without escapes)
#                                or shell form; recorded
#   EXPOSE, STOPSIGNAL, LABEL    metadata: nothing to run
#
# Lines are joined at a trailing backslash; comment lines are dropped, also
# inside a continuation, as Docker does.  The context's .dockerignore
# (<Dockerfile>.dockerignore next to the Dockerfile, else .dockerignore) is
# checked, not applied: the context is `git archive HEAD`, which holds no
# build output, so a pattern that matches anything there is reported as an
# error instead of being half-implemented.
#
# Source after fresh-root.sh.  df_build FILE CONTEXT builds every stage and
# sets, for the last one: DF_ROOT, DF_USER, DF_WORKDIR, DF_ENV (NAME=VALUE
# array), DF_ENTRYPOINT and DF_CMD (arrays).  DF_STAGE_ROOTS lists every
# root it made.

# df_fail: report an unsupported or failing instruction and stop.
df_fail() {
    echo "dockerfile: $DF_FILE:$DF_LINENO: $*" >&2
    return 1
}

# df_expand: substitute $NAME and ${NAME} from the stage's ENV and ARGs.
df_expand() {
    local s=$1 out= name val
    while [[ $s =~ ^([^\$]*)\$(\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))(.*)$ ]]; do
        name=${BASH_REMATCH[3]:-${BASH_REMATCH[4]}}
        val=
        df_lookup "$name" && val=$DF_VALUE
        out+=${BASH_REMATCH[1]}$val
        s=${BASH_REMATCH[5]}
    done
    DF_EXPANDED=$out$s
}

# df_lookup: the value of NAME in the stage's ENV, else its ARGs; false if
# neither has it.
df_lookup() {
    local kv
    for kv in "${DF_ENV[@]}" "${DF_ARGS[@]}"; do
        if [ "${kv%%=*}" = "$1" ]; then
            DF_VALUE=${kv#*=}
            return 0
        fi
    done
    return 1
}

# df_set: set NAME=VALUE in the array named by $1 (DF_ENV or DF_ARGS).
df_set() {
    local -n arr=$1
    local i
    for i in "${!arr[@]}"; do
        if [ "${arr[$i]%%=*}" = "${2%%=*}" ]; then
            arr[$i]=$2
            return
        fi
    done
    arr+=("$2")
}

# df_json_array: parse ["a", "b"] (strings without escapes) into DF_ARRAY.
df_json_array() {
    local s=$1
    DF_ARRAY=()
    [[ $s =~ ^\[(.*)\]$ ]] || return 1
    s=${BASH_REMATCH[1]}
    [[ $s == *\\* ]] && return 1
    while [[ $s =~ ^[[:space:]]*\"([^\"]*)\"[[:space:]]*(,(.*))?$ ]]; do
        DF_ARRAY+=("${BASH_REMATCH[1]}")
        s=${BASH_REMATCH[3]}
        [ -n "${BASH_REMATCH[2]}" ] || { s=; break; }
    done
    [[ -z ${s//[[:space:]]/} ]]
}

# df_check_ignore: fail when an ignore pattern matches a file of the context.
df_check_ignore() {
    local ctx=$1 file=$2 pat matches
    [ -f "$file" ] || return 0
    while IFS= read -r pat || [ -n "$pat" ]; do
        [[ $pat =~ ^[[:space:]]*(#|$) ]] && continue
        if [[ $pat == !* ]]; then
            echo "dockerfile: $file: '$pat': exceptions are not supported" >&2
            return 1
        fi
        matches=$(cd "$ctx" && shopt -s globstar dotglob && compgen -G "$pat" | sed -n 1,3p)
        if [ -n "$matches" ]; then
            echo "dockerfile: $file: '$pat' matches files of the export" \
                "($(echo "$matches" | paste -sd' ')), which this interpreter would not leave out" >&2
            return 1
        fi
    done < "$file"
}

# df_from: start a stage.
df_from() {
    local words name=
    read -ra words <<< "$1"
    # FROM sees only the ARGs declared before the first FROM.
    DF_ENV=() DF_ARGS=("${DF_GLOBAL_ARGS[@]}")
    df_expand "${words[0]}"
    local image=$DF_EXPANDED
    if [ ${#words[@]} -eq 3 ] && [ "${words[1],,}" = as ]; then
        name=${words[2]}
    elif [ ${#words[@]} -ne 1 ]; then
        df_fail "FROM $1: only 'FROM image [AS name]'"; return 1
    fi
    DF_STAGE_N=$((DF_STAGE_N + 1))
    if [ -n "${DF_STAGE_ROOT[$image]:-}" ]; then
        DF_ROOT=$FR_WORK/roots/$DF_TAG-stage$DF_STAGE_N
        cp -a "${DF_STAGE_ROOT[$image]}" "$DF_ROOT"
        eval "DF_ENV=(${DF_STAGE_ENV[$image]})"
        DF_USER=${DF_STAGE_USER[$image]} DF_WORKDIR=${DF_STAGE_WORKDIR[$image]}
    elif [ "$image" = debian:12 ] || [ "$image" = debian:bookworm ]; then
        DF_ROOT=$(fr_new "$DF_TAG-stage$DF_STAGE_N") || return 1
        [ -z "${DF_SEED:-}" ] || fr_seed_apt "$DF_SEED" "$DF_ROOT"
        DF_ENV=("PATH=$FR_PATH")
        DF_USER=root DF_WORKDIR=/
    else
        df_fail "FROM $image: only debian:12 and earlier stages"; return 1
    fi
    DF_STAGE_ROOTS+=("$DF_ROOT")
    DF_ARGS=()
    DF_ENTRYPOINT=() DF_CMD=()
    DF_NAME=${name:-$DF_STAGE_N}
    echo "  stage $DF_NAME: $image in $DF_ROOT"
}

# df_end_stage: remember the stage for FROM and COPY --from.
df_end_stage() {
    [ -n "${DF_NAME:-}" ] || return 0
    local key
    for key in "$DF_NAME" "$((DF_STAGE_N - 1))"; do
        DF_STAGE_ROOT[$key]=$DF_ROOT
        DF_STAGE_ENV[$key]=$(printf '%q ' "${DF_ENV[@]}")
        DF_STAGE_USER[$key]=$DF_USER
        DF_STAGE_WORKDIR[$key]=$DF_WORKDIR
    done
}

# df_copy: COPY [--from=stage] [--chown=u[:g]] src... dest
df_copy() {
    local words=() from= chown= srcbase=$DF_CONTEXT dest src path i n
    read -ra words <<< "$1"
    while [[ ${words[0]:-} == --* ]]; do
        case "${words[0]}" in
            --from=*) from=${words[0]#--from=} ;;
            --chown=*) df_expand "${words[0]#--chown=}"; chown=$DF_EXPANDED ;;
            *) df_fail "COPY ${words[0]}: not supported"; return 1 ;;
        esac
        words=("${words[@]:1}")
    done
    n=${#words[@]}
    [ "$n" -ge 2 ] || { df_fail "COPY needs a source and a destination"; return 1; }
    if [ -n "$from" ]; then
        srcbase=${DF_STAGE_ROOT[$from]:-}
        [ -n "$srcbase" ] || { df_fail "COPY --from=$from: no such stage"; return 1; }
    fi
    df_expand "${words[$((n - 1))]}"
    dest=$DF_EXPANDED
    [[ $dest == /* ]] || dest=${DF_WORKDIR%/}/$dest
    for ((i = 0; i < n - 1; i++)); do
        df_expand "${words[$i]}"
        src=$DF_EXPANDED
        [[ $src == *[\*\?\[]* ]] && { df_fail "COPY $src: wildcards are not supported"; return 1; }
        path=$srcbase/${src#/}
        if [ -d "$path" ]; then
            mkdir -p "$DF_ROOT$dest"
            cp -a "$path/." "$DF_ROOT$dest/"
        elif [ -e "$path" ]; then
            if [[ $dest == */ ]] || [ "$n" -gt 2 ] || [ -d "$DF_ROOT$dest" ]; then
                mkdir -p "$DF_ROOT$dest"
                cp -a "$path" "$DF_ROOT$dest/"
            else
                mkdir -p "$(dirname "$DF_ROOT$dest")"
                cp -a "$path" "$DF_ROOT$dest"
            fi
        else
            df_fail "COPY $src: not found in ${from:+stage $from}${from:-the build context}"; return 1
        fi
    done
    [ -z "$chown" ] || fr_run "$DF_ROOT" -- chown -R "$chown" "$dest" ||
        { df_fail "COPY --chown=$chown failed"; return 1; }
}

# df_env: ENV k=v [k=v...] or ENV k v; values are expanded against the
# environment before this instruction.
df_env() {
    local words=() w before=("${DF_ENV[@]}") after=()
    [[ $1 == *[\"\']* ]] && { df_fail "ENV with quotes is not supported"; return 1; }
    read -ra words <<< "$1"
    if [[ ${words[0]} != *=* ]]; then
        words=("${words[0]}=${words[*]:1}")
    fi
    for w in "${words[@]}"; do
        [[ $w == *=* ]] || { df_fail "ENV $w: expected NAME=VALUE"; return 1; }
        DF_ENV=("${before[@]}")
        df_expand "${w#*=}"
        after+=("${w%%=*}=$DF_EXPANDED")
    done
    DF_ENV=("${before[@]}")
    for w in "${after[@]}"; do
        df_set DF_ENV "$w"
    done
}

# df_run: RUN in shell form, in the stage's root.
df_run() {
    [[ $1 == \[* ]] && { df_fail "RUN in exec form is not supported"; return 1; }
    local envs=() kv
    for kv in "${DF_ARGS[@]}" "${DF_ENV[@]}"; do
        envs+=(-e "$kv")
    done
    local started=$SECONDS
    fr_run "$DF_ROOT" -u "$DF_USER" -C "$DF_WORKDIR" "${envs[@]}" -- /bin/sh -c "$1" ||
        { df_fail "RUN failed (exit status $?) after $((SECONDS - started)) s"; return 1; }
    echo "  (RUN took $((SECONDS - started)) s)"
}

# df_instruction: one logical line.
df_instruction() {
    local line=$1 kw rest
    kw=${line%%[[:space:]]*}
    rest=${line#"$kw"}
    rest=${rest#"${rest%%[![:space:]]*}"}
    kw=${kw^^}
    echo "  $DF_FILE:$DF_LINENO: $kw ${rest:0:100}$([ ${#rest} -gt 100 ] && echo ...)"
    if [ "$kw" != FROM ] && [ "$kw" != ARG ] && [ -z "${DF_ROOT:-}" ]; then
        df_fail "$kw before FROM"; return 1
    fi
    case "$kw" in
        FROM) df_end_stage; df_from "$rest" ;;
        ARG)
            [[ $rest =~ ^[A-Za-z_][A-Za-z0-9_]*(=[^[:space:]]*)?$ ]] ||
                { df_fail "ARG $rest: expected NAME[=default]"; return 1; }
            if [ -z "${DF_ROOT:-}" ]; then
                [[ $rest == *=* ]] || rest="$rest="
                df_set DF_GLOBAL_ARGS "$rest"
            elif [[ $rest == *=* ]]; then
                df_expand "${rest#*=}"
                df_set DF_ARGS "${rest%%=*}=$DF_EXPANDED"
            else
                # ARG NAME in a stage takes the global ARG's default.
                local kv val=
                for kv in "${DF_GLOBAL_ARGS[@]}"; do
                    [ "${kv%%=*}" = "$rest" ] && val=${kv#*=}
                done
                df_set DF_ARGS "$rest=$val"
            fi ;;
        ENV) df_env "$rest" ;;
        WORKDIR)
            df_expand "$rest"
            [[ $DF_EXPANDED == /* ]] && DF_WORKDIR=$DF_EXPANDED || DF_WORKDIR=${DF_WORKDIR%/}/$DF_EXPANDED
            mkdir -p "$DF_ROOT$DF_WORKDIR" ;;
        USER) df_expand "$rest"; DF_USER=$DF_EXPANDED ;;
        COPY) df_copy "$rest" ;;
        RUN) df_run "$rest" ;;
        ENTRYPOINT|CMD)
            if [[ $rest == \[* ]]; then
                df_json_array "$rest" || { df_fail "$kw: a JSON array of plain strings"; return 1; }
            else
                DF_ARRAY=(/bin/sh -c "$rest")
            fi
            if [ "$kw" = CMD ]; then DF_CMD=("${DF_ARRAY[@]}"); else DF_ENTRYPOINT=("${DF_ARRAY[@]}"); fi ;;
        EXPOSE|STOPSIGNAL|LABEL) ;;
        *) df_fail "$kw is not supported by this interpreter"; return 1 ;;
    esac
}

# df_build: every instruction of FILE, with CONTEXT as the build context.
# DF_TAG names the roots; DF_SEED (optional) is a root whose apt cache seeds
# each new debian:12 stage.
df_build() {
    DF_FILE=$1 DF_CONTEXT=$2
    DF_TAG=${DF_TAG:-$(basename "$DF_FILE" .Dockerfile)}
    DF_ROOT= DF_NAME= DF_STAGE_N=0 DF_USER=root DF_WORKDIR=/ DF_LINENO=0
    DF_ENV=() DF_ARGS=() DF_GLOBAL_ARGS=() DF_ENTRYPOINT=() DF_CMD=() DF_STAGE_ROOTS=()
    declare -gA DF_STAGE_ROOT=() DF_STAGE_ENV=() DF_STAGE_USER=() DF_STAGE_WORKDIR=()
    local ignore=${DF_FILE}.dockerignore
    [ -f "$ignore" ] || ignore=$DF_CONTEXT/.dockerignore
    df_check_ignore "$DF_CONTEXT" "$ignore" || return 1
    local raw cur= n=0 start=0
    while IFS= read -r raw || [ -n "$raw" ]; do
        n=$((n + 1))
        [[ $raw =~ ^[[:space:]]*# ]] && continue
        [[ $raw =~ ^[[:space:]]*$ ]] && continue
        [ -n "$cur" ] || start=$n
        if [[ $raw =~ ^(.*)\\[[:space:]]*$ ]]; then
            cur+=${BASH_REMATCH[1]}
            continue
        fi
        cur+=$raw
        DF_LINENO=$start
        df_instruction "${cur#"${cur%%[![:space:]]*}"}" || return 1
        cur=
    done < "$DF_FILE"
    [ -z "$cur" ] || { DF_LINENO=$start; df_fail "the file ends inside a continuation"; return 1; }
    df_end_stage
}
