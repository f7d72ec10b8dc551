#!/usr/bin/env bash
# fresh-machine.sh: runs the README's two commands (scripts/quickstart.sh, then scripts/test.sh)
# on a fresh Debian 12 machine made here, so that a missing install step, or a dependency on
# this machine's own state, fails here instead of on a new user's machine.
#
#   scripts/fresh-machine.sh [--only-quickstart] [--quickstart-sample] [--keep]
#
# The machine: a minimal Debian 12 root (`debootstrap --variant=minbase bookworm`; that base
# tree alone is cached, in ~/.cache/kubectl-gmsa/fresh-base.tar, and unpacked afresh on every
# run; nothing the project builds or installs is cached), with this machine's apt sources
# (/etc/apt/sources.list.d/debian.sources) and its apt Acquire settings, a copy of
# /etc/resolv.conf (apt and crates.io need a resolver), a pristine /etc/hosts (localhost
# only), and a /usr/sbin/policy-rc.d that keeps packages from starting their daemons (as
# systemd-less containers do; the scripts start what they need themselves).
# The checkout is copied in as the working tree shows it: the files git tracks or would add
# (`git ls-files --cached --others --exclude-standard`, uncommitted changes included; no .git,
# no target/). Inside, as root, in its own mount and pid namespaces (`unshare`, then
# `chroot`): /proc, /sys and /dev mounted, the host's Rust toolchain (~/.rustup and
# ~/.cargo/bin) mounted read-only, and a fresh, empty CARGO_HOME.
# It prints each command's time, and on failure which command failed and its log's tail.
# On exit (also on Ctrl-C or failure) everything started inside is killed (the pid namespace
# dies with its first process), the mounts go with the mount namespace, and the root is
# removed (--keep keeps it; the logs stay in the printed folder either way).
#
# Samba's ports are fixed (one DC per machine): the DC inside would collide with this
# machine's default test DC, so that one is stopped first (scripts/test-dc.sh stop) and
# started again afterwards if it was running.
#   --only-quickstart    run only scripts/quickstart.sh
#   --quickstart-sample  run the quickstart with GMSA_QUICKSTART_DC=sample (no DC inside;
#                        the host's DC is left alone)
#   --keep               keep the root (in the printed folder) for a look inside
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD

LOG_TAG=fresh-machine
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source scripts/lib/common.sh
# shellcheck source-path=SCRIPTDIR source=lib/apt.sh
source scripts/lib/apt.sh

ONLY_QUICKSTART= SAMPLE= KEEP=
while [[ $# -gt 0 ]]; do
    case $1 in
    --only-quickstart) ONLY_QUICKSTART=1 ;;
    --quickstart-sample) SAMPLE=1 ;;
    --keep) KEEP=1 ;;
    -h | --help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
    shift
done

[[ $EUID -eq 0 ]] || die "needs root (debootstrap, unshare, chroot): run it with sudo"
command -v unshare >/dev/null && command -v chroot >/dev/null || die "needs unshare and chroot (util-linux, coreutils)"
RUSTUP_DIR=${RUSTUP_HOME:-$HOME/.rustup}
CARGO_BIN=${CARGO_HOME:-$HOME/.cargo}/bin
[[ -d $RUSTUP_DIR && -x $CARGO_BIN/cargo ]] || die "no Rust toolchain at $RUSTUP_DIR and $CARGO_BIN (rustup) to mount inside"

CACHE=${GMSA_TEST_CACHE_DIR:-$HOME/.cache/kubectl-gmsa}
BASE_TAR=$CACHE/fresh-base.tar
WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/kubectl-gmsa-fresh.XXXXXX")
ROOT=$WORK/root
LOGS=$WORK/logs
mkdir -p "$ROOT" "$LOGS"
NS_PID=
DC_WAS_RUNNING=

elapsed() { awk -v s="$1" -v e="$(date +%s)" 'BEGIN { printf "%dm%02ds", (e - s) / 60, (e - s) % 60 }'; }

# True if anything is mounted at or under DIR in this (the host's) mount namespace.
mounted_under() {
    awk -v r="$1" '$5 == r || index($5, r "/") == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $NS_PID ]] && kill -0 "$NS_PID" 2>/dev/null; then
        log "stopping everything started inside (pid namespace of $NS_PID)"
        # unshare ignores SIGINT and SIGTERM while it waits; killed, it takes the namespace's
        # first process with it (--kill-child), and the kernel then kills all the rest.
        kill -KILL "$NS_PID" 2>/dev/null || true
        wait "$NS_PID" 2>/dev/null || true
    fi
    if mounted_under "$WORK"; then
        log "error: something is still mounted under $WORK; not removing anything there"
        rc=1
    elif [[ -z $KEEP ]]; then
        rm -rf "$ROOT" "$WORK/base"
    else
        log "kept the root: $ROOT"
    fi
    if [[ -n $DC_WAS_RUNNING ]]; then
        log "starting this machine's test DC again (scripts/test-dc.sh ensure)"
        scripts/test-dc.sh ensure >/dev/null || log "warning: could not start this machine's test DC again"
    fi
    log "logs: $LOGS"
    exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------- the root ---

# The mirror of the machine's bookworm entry (deb.debian.org when there is none).
mirror() {
    local m
    m=$(awk -v RS= '/(^|\n)Suites:([^\n]*[ \t])?bookworm([ \t]|\n|$)/ {
            if (match($0, /(^|\n)URIs:[ \t]*[^ \t\n]+/)) { s = substr($0, RSTART, RLENGTH); sub(/^\n?URIs:[ \t]*/, "", s); print s; exit } }' \
        /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    printf '%s\n' "${m:-http://deb.debian.org/debian}"
}

make_base() {
    [[ -s $BASE_TAR ]] && return 0
    ensure_pkgs debootstrap
    local tmp=$WORK/base start
    start=$(date +%s)
    log "debootstrap --variant=minbase bookworm (once; cached in $BASE_TAR)"
    mkdir -p "$tmp" "$CACHE"
    # In a mount namespace of its own: debootstrap mounts /proc in the tree and may leave it.
    if ! unshare --mount --propagation private debootstrap --variant=minbase bookworm "$tmp" "$(mirror)" \
        >"$LOGS/debootstrap.log" 2>&1; then
        tail -n 30 "$LOGS/debootstrap.log" >&2
        die "debootstrap failed (log: $LOGS/debootstrap.log)"
    fi
    mounted_under "$tmp" && die "something is still mounted under $tmp"
    tar -C "$tmp" --one-file-system --numeric-owner -cf "$BASE_TAR.tmp" .
    mv -f "$BASE_TAR.tmp" "$BASE_TAR"
    rm -rf "$tmp"
    log "base tree made in $(elapsed "$start")"
}

# The CA certificates this machine trusts beyond Debian's ca-certificates (a TLS-inspecting
# proxy's, say), put where update-ca-certificates picks them up in the root: like
# resolv.conf, part of the network, not of the machine. They take effect only once the
# project's scripts install ca-certificates, so a missing install step still fails.
host_extra_cas() {
    local bundle=/etc/ssl/certs/ca-certificates.crt
    [[ -r $bundle ]] || return 0
    mkdir -p "$ROOT/usr/local/share/ca-certificates"
    python3 - "$bundle" "$ROOT/usr/local/share/ca-certificates" <<'PYEOF'
import glob, os, re, sys
pem = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)
norm = lambda c: "".join(c.split())
known = set()
for f in glob.glob("/usr/share/ca-certificates/**/*.crt", recursive=True):
    known.update(norm(c) for c in pem.findall(open(f, errors="replace").read()))
extra = [c for c in pem.findall(open(sys.argv[1]).read()) if norm(c) not in known]
for i, c in enumerate(extra):
    open(os.path.join(sys.argv[2], "host-network-%d.crt" % i), "w").write(c + "\n")
print(len(extra))
PYEOF
}

make_root() {
    tar -C "$ROOT" --numeric-owner -xf "$BASE_TAR"
    # apt: this machine's sources and Acquire settings (mirror, proxy, validity checks).
    rm -f "$ROOT/etc/apt/sources.list"
    [[ -r /etc/apt/sources.list.d/debian.sources ]] && cp /etc/apt/sources.list.d/debian.sources "$ROOT/etc/apt/sources.list.d/"
    [[ -s $ROOT/etc/apt/sources.list.d/debian.sources ]] ||
        printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$(mirror)" \
            >"$ROOT/etc/apt/sources.list.d/debian.sources"
    apt-config dump | grep -E '^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy|Retries) ' \
        >"$ROOT/etc/apt/apt.conf.d/00host-acquire" || true
    cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
    log "CA certificates this machine trusts beyond Debian's, copied in: $(host_extra_cas)"
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
    printf '#!/bin/sh\n# Packages do not start daemons in this root.\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
    chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
    mkdir -p "$ROOT/root/.rustup" "$ROOT/opt/rust/bin" "$ROOT/root/.cargo" "$ROOT/src/kubectl-gmsa"
    # The checkout as the working tree shows it (tracked or addable files that exist).
    (cd "$SRC" && git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [[ -e $f || -L $f ]] && printf '%s\0' "$f"; done |
        tar --null -T - -cf -) | tar -C "$ROOT/src/kubectl-gmsa" -xf -
}

# ------------------------------------------------------------------ inside ---

# The script the namespace's first process runs: mounts, then the commands in the chroot.
inside_script() {
    cat <<'EOF'
set -euo pipefail
root=$1 rustup=$2 cargo_bin=$3
shift 3
# The root as a mount point of its own (its /proc comes along), as in a container: inside,
# `/` is then a mount, so the tests' own `unshare --mount` can make it private.
mount --rbind "$root" "$root"
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
ro_bind() { mount --bind "$1" "$2" && mount -o remount,bind,ro "$2"; }
ro_bind "$rustup" "$root/root/.rustup"
ro_bind "$cargo_bin" "$root/opt/rust/bin"
exec chroot "$root" /usr/bin/env -i HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM=dumb NO_COLOR=1 \
    PATH=/opt/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    RUSTUP_HOME=/root/.rustup CARGO_HOME=/root/.cargo RUSTUP_AUTO_INSTALL=0 \
    "$@"
EOF
}

# Runs COMMAND (a bash command line) in /src/kubectl-gmsa inside the root, its output in
# LOG. Returns its exit code.
run_inside() { # NAME COMMAND
    local name=$1 cmd=$2 rc=0
    unshare --mount --pid --fork --kill-child=KILL --mount-proc="$ROOT/proc" --propagation private \
        bash -c "$(inside_script)" inside "$ROOT" "$RUSTUP_DIR" "$CARGO_BIN" \
        bash -c "cd /src/kubectl-gmsa && $cmd" </dev/null >"$LOGS/$name.log" 2>&1 &
    NS_PID=$!
    wait "$NS_PID" || rc=$?
    NS_PID=
    return "$rc"
}

STEPS=()
step() { # NAME COMMAND
    local name=$1 cmd=$2 start
    start=$(date +%s)
    log "running: $cmd (log: $LOGS/$name.log)"
    if run_inside "$name" "$cmd"; then
        STEPS+=("$name: ok in $(elapsed "$start")")
        log "$name: ok in $(elapsed "$start")"
    else
        local rc=$?
        STEPS+=("$name: FAILED (exit $rc) after $(elapsed "$start")")
        log "FAILED: \`$cmd\` on the fresh machine (exit $rc, after $(elapsed "$start")); the end of its log ($LOGS/$name.log):"
        tail -n 60 "$LOGS/$name.log" | sed 's/^/    | /' >&2
        summary
        exit 1
    fi
}

summary() {
    local s
    log "summary:"
    for s in "${STEPS[@]}"; do log "  $s"; done
}

TOTAL_START=$(date +%s)
START=$(date +%s)
make_base
make_root
STEPS+=("root: ready in $(elapsed "$START") (base tree $( [[ -s $BASE_TAR ]] && du -h "$BASE_TAR" | cut -f1))")
log "fresh root ready in $(elapsed "$START"): $ROOT"

DC_DIR=${GMSA_TEST_DC_DIR:-${TMPDIR:-/tmp}/kubectl-gmsa-test-dc}
if [[ -z $SAMPLE && -f $DC_DIR/samba.pid ]] && pid_alive "$(<"$DC_DIR/samba.pid")"; then
    log "stopping this machine's test DC in $DC_DIR (scripts/test-dc.sh stop): Samba's ports are fixed, and the fresh machine runs its own"
    scripts/test-dc.sh stop
    DC_WAS_RUNNING=1
fi

qs=scripts/quickstart.sh
[[ -n $SAMPLE ]] && qs="GMSA_QUICKSTART_DC=sample $qs"
step quickstart "$qs"
[[ -n $ONLY_QUICKSTART ]] || step test "scripts/test.sh"
STEPS+=("total: $(elapsed "$TOTAL_START")")
summary
log "passed on a fresh Debian 12 machine"
