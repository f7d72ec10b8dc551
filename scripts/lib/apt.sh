# apt.sh: apt helpers shared by the scripts (sourced after common.sh): running apt-get as
# root, installing what is missing, and adding a Debian archive source derived from the
# machine's own bookworm entry.
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

# True where packages can be installed: Debian's apt, and root or sudo.
can_install_pkgs() {
    command -v apt-get >/dev/null && command -v dpkg-query >/dev/null &&
        { [[ $EUID -eq 0 ]] || command -v sudo >/dev/null; }
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

# Installs those of PKG... that are missing (no recommends), saying which.
ensure_pkgs() {
    local p missing=()
    for p in "$@"; do
        pkg_installed "$p" || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    apt_update
    log "installing ${missing[*]}"
    apt_get install --no-install-recommends "${missing[@]}"
}

# Writes FILE, a deb822 apt source of TYPE (deb or deb-src) for SUITE: a copy of the
# machine's first bookworm entry of Debian's archive (its mirror and key), or
# deb.debian.org when there is none. Leaves an existing FILE alone.
add_apt_source() { # FILE TYPE SUITE
    local file=$1 type=$2 suite=$3 src=/etc/apt/sources.list.d/debian.sources entry=
    [[ -f $file ]] && return 0
    if [[ -r $src ]]; then
        entry=$(awk -v RS= -v type="$type" -v suite="$suite" '
            $0 ~ /(^|\n)Types:[^\n]*deb([ \t]|\n|$)/ && $0 ~ /(^|\n)Suites:([^\n]*[ \t])?bookworm([ \t]|\n|$)/ {
                n = split($0, l, "\n")
                for (i = 1; i <= n; i++) {
                    if (l[i] ~ /^Types:/) l[i] = "Types: " type
                    else if (l[i] ~ /^Suites:/) l[i] = "Suites: " suite
                    print l[i]
                }
                exit
            }' "$src")
    fi
    if [[ -z $entry ]]; then
        entry="Types: $type"$'\nURIs: http://deb.debian.org/debian\n'"Suites: $suite"$'\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg'
    fi
    log "adding apt source $file"
    printf '%s\n' "$entry" | as_root tee "$file" >/dev/null
    APT_UPDATED=
}
