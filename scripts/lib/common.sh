# common.sh: helpers every script shares (sourced): log/die, directory resolution, process
# checks and stopping a process with a grace period. The caller sets LOG_TAG first.
# shellcheck shell=bash

log() { printf '%s: %s\n' "${LOG_TAG:-${0##*/}}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Prints the absolute path of DIR (or DEFAULT when DIR is empty), creating it.
resolve_dir() { # DIR DEFAULT
    local dir=${1:-$2}
    mkdir -p "$dir"
    (cd "$dir" && pwd)
}

# True if PID is a live process (not a zombie).
pid_alive() {
    local pid=$1 state
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ $state != Z && $state != X ]]
}

# True if PID is live and its working directory is DIR.
pid_runs_in() { # PID DIR
    pid_alive "$1" && [[ $(readlink "/proc/$1/cwd" 2>/dev/null) == "$2" ]]
}

# True if PID is live and its command line mentions DIR/.
pid_mentions() { # PID DIR
    pid_alive "$1" && tr '\0' '\n' 2>/dev/null <"/proc/$1/cmdline" | grep -qF -- "$2/"
}

# Stops PID: SIGTERM, then SIGKILL after GRACE seconds. OWNS is a check (pid_runs_in or
# pid_mentions) called as `OWNS PID DIR`, so that a recycled pid is never signalled.
stop_with_grace() { # NAME PID GRACE OWNS DIR
    local name=$1 pid=$2 grace=$3 owns=$4 dir=$5 i
    "$owns" "$pid" "$dir" || return 0
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
        "$owns" "$pid" "$dir" || return 0
        sleep 0.1
    done
    log "$name did not exit in $grace s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        "$owns" "$pid" "$dir" || return 0
        sleep 0.1
    done
}

# True if a socket other than a TIME_WAIT one (state 06, which does not stop a listener
# from binding) has local TCP port $1.
port_in_use() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v h="$hex" 'FNR > 1 { n = split($2, a, ":"); if (a[n] == h && $4 != "06") found = 1 }
        END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
