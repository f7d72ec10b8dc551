# apt.sh: apt helpers shared by test-cluster.sh and test-dc.sh (sourced; the caller defines log and die).
# shellcheck shell=bash

as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "need root (or sudo) for: $*"
    fi
}

# Runs apt-get quietly; on failure shows its output.
apt_get() {
    local out rc=0
    out=$(as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get -o DPkg::Lock::Timeout=900 -q -y "$@" 2>&1) || rc=$?
    if [[ $rc -ne 0 ]]; then
        printf '%s\n' "$out" | tail -n 30 >&2
        die "apt-get $* failed"
    fi
}

APT_UPDATED=
apt_update() {
    [[ -n $APT_UPDATED ]] && return 0
    log "apt-get update"
    apt_get update
    APT_UPDATED=1
}

pkg_installed() {
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

