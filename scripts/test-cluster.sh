#!/usr/bin/env bash
# test-cluster.sh: a real Kubernetes API server for kubectl-gmsa's tests.
#
# Runs etcd and kube-apiserver (no kubelet, no controllers) on 127.0.0.1 only,
# with static bearer tokens (admin in system:masters; alice, bob and carol with
# no RBAC at all), RBAC authorization, webhook admission, the pods/ephemeralcontainers
# subresource (feature gate EphemeralContainers, alpha in 1.20: it adds that subresource
# and nothing else), and Services on the loopback range 127.0.100.0/24 (the
# `kubernetes` Service is 127.0.100.1).
#
#   scripts/test-cluster.sh install             install/build what is missing
#   scripts/test-cluster.sh ensure [DIR]        start unless running; prints the
#                                               admin kubeconfig path on stdout
#   scripts/test-cluster.sh start [DIR]         same as ensure
#   scripts/test-cluster.sh stop [--clean] [DIR]  stop; --clean also removes DIR
#   scripts/test-cluster.sh env [DIR]           print `export GMSA_TEST_...` lines
#
# DIR defaults to ${GMSA_TEST_CLUSTER_DIR:-${TMPDIR:-/tmp}/kubectl-gmsa-test-cluster}.
#
# Binaries: $TEST_ASSET_KUBE_APISERVER / $TEST_ASSET_ETCD, or $KUBEBUILDER_ASSETS/
# {kube-apiserver,etcd} (envtest) when set. Otherwise etcd comes from Debian's
# etcd-server and kube-apiserver is built once from Debian's `kubernetes`
# source package (1.20.2) and cached in ~/.cache/kubectl-gmsa/bin/.
# Only stdout of `ensure`/`start` (the kubeconfig path) and of `env` is data;
# all progress and diagnostics go to stderr.
set -euo pipefail

CACHE_DIR=${GMSA_TEST_CACHE_DIR:-$HOME/.cache/kubectl-gmsa}
CACHED_APISERVER=$CACHE_DIR/bin/kube-apiserver
DEB_SRC_LIST=/etc/apt/sources.list.d/kubectl-gmsa-deb-src.sources
SERVICE_CIDR=127.0.100.0/24
USERS=(admin alice bob carol)
READY_TIMEOUT=60

LOG_TAG=test-cluster
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "${BASH_SOURCE[0]%/*}/lib/common.sh"

usage() {
    sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2
    exit "${1:-2}"
}

# ---------------------------------------------------------------- install ---

# shellcheck source-path=SCRIPTDIR source=lib/apt.sh
source "${BASH_SOURCE[0]%/*}/lib/apt.sh"
# Makes `apt-get source kubernetes` possible: adds a deb-src copy of the
# machine's bookworm entry (Debian's archive only) when no deb-src exists.
ensure_deb_src() {
    if apt-cache showsrc kubernetes 2>/dev/null | grep -q '^Package: kubernetes$'; then
        return 0
    fi
    add_apt_source "$DEB_SRC_LIST" deb-src bookworm
    apt_update
    apt-cache showsrc kubernetes 2>/dev/null | grep -q '^Package: kubernetes$' \
        || die "source package kubernetes still not available after adding $DEB_SRC_LIST"
}

# Builds kube-apiserver from Debian's source package the way debian/rules does,
# with reflect2 1.0.2 (the vendored 1.0.1 crashes when built with Go >= 1.18).
build_apiserver() {
    ensure_deb_src
    ensure_pkgs golang-go rsync jq dpkg-dev make golang-github-modern-go-reflect2-dev
    local build=$CACHE_DIR/build tree reflect2=/usr/share/gocode/src/github.com/modern-go/reflect2
    rm -rf "$build"
    mkdir -p "$build/home"
    log "fetching source package kubernetes"
    (cd "$build" && apt-get -q source kubernetes >"$build/source.log" 2>&1) || {
        tail -n 30 "$build/source.log" >&2
        die "apt-get source kubernetes failed"
    }
    tree=$(find "$build" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | head -n 1)
    [[ -n $tree && -f $tree/Makefile ]] || die "no kubernetes source tree in $build"
    local version
    version=$(cd "$tree" && dpkg-parsechangelog -S Version)
    version=${version#*:}         # 1.20.5+really1.20.2-1.1+deb12u1 -> 1.20.2
    version=${version##*really}
    version=${version%%-*}
    version=${version%%+*}

    [[ -d $reflect2 ]] || die "$reflect2 missing (golang-github-modern-go-reflect2-dev)"
    rm -rf "$tree/vendor/github.com/modern-go/reflect2"
    cp -rL "$reflect2" "$tree/vendor/github.com/modern-go/reflect2"
    rm -f "$tree/vendor/github.com/modern-go/reflect2/go.mod" "$tree/vendor/github.com/modern-go/reflect2/go.sum"

    mkdir -p "$build/.go/src/k8s.io"
    ln -s "$tree" "$build/.go/src/k8s.io/kubernetes"

    # The tarball comes from `git archive`: hack/lib/version.sh already knows
    # its tag and commit, so /version reports the real upstream version.
    log "building kube-apiserver $version (5 minutes on an idle 2-CPU machine, longer when busy; log: $build/build.log)"
    if ! (cd "$build/.go/src/k8s.io/kubernetes" &&
        env HOME="$build/home" GOPATH="$build/.go" GOCACHE="$build/home/.cache/go-build" \
            GOPROXY=off CGO_ENABLED=0 PATH="/usr/lib/go/bin:$PATH" \
            make WHAT=cmd/kube-apiserver) >"$build/build.log" 2>&1; then
        tail -n 40 "$build/build.log" >&2
        die "building kube-apiserver failed (log: $build/build.log)"
    fi
    local out=$tree/_output/bin/kube-apiserver
    [[ -x $out ]] || out=$(find "$tree/_output" -type f -name kube-apiserver -perm -u+x | head -n 1)
    [[ -n $out && -x $out ]] || die "build produced no kube-apiserver binary"
    mkdir -p "$(dirname "$CACHED_APISERVER")"
    install -m 0755 "$out" "$CACHED_APISERVER.tmp"
    mv -f "$CACHED_APISERVER.tmp" "$CACHED_APISERVER"
    rm -rf "$build"
    log "kube-apiserver cached at $CACHED_APISERVER"
}

# Sets APISERVER_BIN and ETCD_BIN, honouring the envtest variables.
resolve_bins() {
    APISERVER_BIN=${TEST_ASSET_KUBE_APISERVER:-}
    ETCD_BIN=${TEST_ASSET_ETCD:-}
    if [[ -n ${KUBEBUILDER_ASSETS:-} ]]; then
        : "${APISERVER_BIN:=$KUBEBUILDER_ASSETS/kube-apiserver}"
        : "${ETCD_BIN:=$KUBEBUILDER_ASSETS/etcd}"
    fi
    EXTERNAL_APISERVER=${APISERVER_BIN:+1}
    EXTERNAL_ETCD=${ETCD_BIN:+1}
    : "${APISERVER_BIN:=$CACHED_APISERVER}"
    : "${ETCD_BIN:=/usr/bin/etcd}"
}

cmd_install() {
    resolve_bins
    local tools=() t
    for t in openssl curl flock setsid; do
        command -v "$t" >/dev/null || tools+=("$t")
    done
    if [[ ${#tools[@]} -gt 0 ]]; then
        # flock and setsid come with util-linux.
        ensure_pkgs openssl curl util-linux
    fi
    if [[ -n $EXTERNAL_ETCD ]]; then
        [[ -x $ETCD_BIN ]] || die "etcd binary $ETCD_BIN (from TEST_ASSET_ETCD/KUBEBUILDER_ASSETS) is not executable"
    else
        ensure_pkgs etcd-server
    fi
    if [[ -n $EXTERNAL_APISERVER ]]; then
        [[ -x $APISERVER_BIN ]] || die "kube-apiserver binary $APISERVER_BIN (from TEST_ASSET_KUBE_APISERVER/KUBEBUILDER_ASSETS) is not executable"
    elif [[ ! -x $CACHED_APISERVER ]]; then
        mkdir -p "$CACHE_DIR"
        # One build at a time, also across concurrent `ensure` calls.
        exec 8>"$CACHE_DIR/install.lock"
        flock 8
        [[ -x $CACHED_APISERVER ]] || build_apiserver
        exec 8>&-
    fi
}

# ---------------------------------------------------------------- cluster ---

cluster_dir() { resolve_dir "${1:-}" "${GMSA_TEST_CLUSTER_DIR:-${TMPDIR:-/tmp}/kubectl-gmsa-test-cluster}"; }

# Is the process of a pid file still running (whatever it runs yet)?
alive() {
    local f=$1/$2.pid
    [[ -f $f ]] && pid_alive "$(<"$f")"
}
# The pid of NAME in DIR, if it runs there (its command line mentions DIR).
pid_of() {
    local f=$1/$2.pid pid
    [[ -f $f ]] || return 1
    pid=$(<"$f")
    pid_mentions "$pid" "$1" || return 1
    printf '%s\n' "$pid"
}

# Stops NAME of DIR: SIGTERM, then SIGKILL after GRACE seconds.
stop_one() { # DIR NAME GRACE
    local pid
    if pid=$(pid_of "$1" "$2"); then
        stop_with_grace "$2" "$pid" "$3" pid_mentions "$1"
    fi
    rm -f "$1/$2.pid"
}

stop_processes() {
    # kube-apiserver exits in about a second, but hangs when etcd is gone.
    stop_one "$1" kube-apiserver 5
    stop_one "$1" etcd 15
}

load_state() {
    APISERVER_PORT='' ETCD_PORT='' ETCD_PEER_PORT=''
    if [[ -f $1/ports ]]; then
        # shellcheck disable=SC1091
        source "$1/ports"
    fi
}

token_of() {
    awk -F, -v u="$2" '$2 == u { print $1; exit }' "$1/tokens.csv"
}

# kube-apiserver writes certs/apiserver.crt on first start: its serving
# certificate (SANs 127.0.0.1, 127.0.100.1, kubernetes.default.svc, ...)
# followed by the self-signed CA that issued it. ca.crt holds just that CA.
ca_file() {
    if [[ -s $1/ca.crt ]]; then
        printf '%s\n' "$1/ca.crt"
    else
        printf '%s\n' "$1/certs/apiserver.crt"
    fi
}

extract_ca() {
    local dir=$1
    awk '/-----BEGIN CERTIFICATE-----/ { pem = "" } { pem = pem $0 "\n" }
         /-----END CERTIFICATE-----/ { last = pem } END { printf "%s", last }' \
        "$dir/certs/apiserver.crt" >"$dir/ca.crt.tmp"
    [[ -s $dir/ca.crt.tmp ]] || die "no certificate in $dir/certs/apiserver.crt"
    mv -f "$dir/ca.crt.tmp" "$dir/ca.crt"
}

# True if the cluster recorded in DIR runs and answers /readyz. A running
# cluster that is merely slow (busy machine) gets 30 s before it is restarted.
cluster_ready() {
    local dir=$1 deadline=$((SECONDS + 30))
    load_state "$dir"
    [[ -n $APISERVER_PORT && -f $dir/kubeconfig && -f $dir/tokens.csv ]] || return 1
    while ((SECONDS < deadline)); do
        pid_of "$dir" etcd >/dev/null && pid_of "$dir" kube-apiserver >/dev/null || return 1
        readyz "$dir" && return 0
        log "cluster in $dir runs but is not ready; waiting"
        sleep 1
    done
    log "cluster in $dir did not become ready; restarting it"
    return 1
}

readyz() {
    local dir=$1 ca
    ca=$(ca_file "$dir")
    [[ -f $ca ]] || return 1
    [[ $(curl -s --max-time 5 --cacert "$ca" \
        -H "Authorization: Bearer $(token_of "$dir" admin)" \
        "https://127.0.0.1:$APISERVER_PORT/readyz" 2>/dev/null) == ok ]]
}

# A port that nothing uses, below the kernel's ephemeral range, not in $@.
free_port() {
    local p i
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 12000))
        [[ " $* " == *" $p "* ]] && continue
        port_in_use "$p" || { printf '%s\n' "$p"; return 0; }
    done
    die "no free port found"
}

# Keeps the ports of an earlier run (so kubeconfigs stay valid) when free.
choose_ports() {
    local dir=$1
    load_state "$dir"
    if [[ -z $ETCD_PORT ]] || port_in_use "$ETCD_PORT"; then ETCD_PORT=$(free_port "$APISERVER_PORT" "$ETCD_PEER_PORT"); fi
    if [[ -z $ETCD_PEER_PORT ]] || port_in_use "$ETCD_PEER_PORT"; then ETCD_PEER_PORT=$(free_port "$APISERVER_PORT" "$ETCD_PORT"); fi
    if [[ -z $APISERVER_PORT ]] || port_in_use "$APISERVER_PORT"; then APISERVER_PORT=$(free_port "$ETCD_PORT" "$ETCD_PEER_PORT"); fi
    save_ports "$dir"
}

save_ports() {
    printf 'ETCD_PORT=%s\nETCD_PEER_PORT=%s\nAPISERVER_PORT=%s\n' \
        "$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" >"$1/ports.tmp"
    mv -f "$1/ports.tmp" "$1/ports"
}

# Creates the per-DIR secrets once: bearer tokens and the service-account key.
init_files() {
    local dir=$1 u groups
    mkdir -p "$dir/certs" "$dir/etcd"
    chmod 0700 "$dir" "$dir/etcd"
    if [[ ! -s $dir/tokens.csv ]]; then
        (
            umask 077
            for u in "${USERS[@]}"; do
                groups=
                [[ $u == admin ]] && groups=system:masters
                printf '%s,%s,%s,"%s"\n' "$(openssl rand -hex 32)" "$u" "$u" "$groups"
            done >"$dir/tokens.csv.tmp"
        )
        mv -f "$dir/tokens.csv.tmp" "$dir/tokens.csv"
    fi
    if [[ ! -s $dir/sa.key ]]; then
        (
            umask 077
            # PKCS#1 ("RSA PRIVATE KEY"), which every kube-apiserver reads.
            openssl genrsa -traditional -out "$dir/sa.key.tmp" 2048 2>/dev/null ||
                openssl genrsa -out "$dir/sa.key.tmp" 2048 2>/dev/null
        )
        mv -f "$dir/sa.key.tmp" "$dir/sa.key"
    fi
}

# Starts "$@" in its own session, detached from the caller's stdio and locks.
# (Not being a process group leader, setsid execs in place: $! is the server.)
spawn() {
    local dir=$1 name=$2
    shift 2
    if [[ -s $dir/$name.log ]]; then mv -f "$dir/$name.log" "$dir/$name.log.prev"; fi
    setsid "$@" </dev/null >"$dir/$name.log" 2>&1 8>&- 9>&- &
    printf '%s\n' "$!" >"$dir/$name.pid"
}

start_etcd() {
    local dir=$1 i
    spawn "$dir" etcd "$ETCD_BIN" \
        --name=default \
        --data-dir="$dir/etcd" \
        --listen-client-urls="http://127.0.0.1:$ETCD_PORT" \
        --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
        --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-cluster="default=http://127.0.0.1:$ETCD_PEER_PORT" \
        --logger=zap --log-outputs=stderr
    for ((i = 0; i < 300; i++)); do
        # Alive? (Not pid_of: between fork and exec the child's command line is not yet etcd's.)
        alive "$dir" etcd || break
        if curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null | grep -q '"health":"true"'; then
            return 0
        fi
        sleep 0.1
    done
    tail -n 30 "$dir/etcd.log" >&2
    return 1
}

start_apiserver() {
    local dir=$1 i
    spawn "$dir" kube-apiserver "$APISERVER_BIN" \
        --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
        --bind-address=127.0.0.1 \
        --advertise-address=127.0.0.1 \
        --secure-port="$APISERVER_PORT" \
        --cert-dir="$dir/certs" \
        --token-auth-file="$dir/tokens.csv" \
        --authorization-mode=RBAC \
        --service-account-key-file="$dir/sa.key" \
        --service-account-signing-key-file="$dir/sa.key" \
        --service-account-issuer=https://kubernetes.default.svc \
        --service-cluster-ip-range="$SERVICE_CIDR" \
        --enable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook \
        --disable-admission-plugins=ServiceAccount \
        --feature-gates=EphemeralContainers=true \
        --allow-privileged=true
    for ((i = 0; i < READY_TIMEOUT * 4; i++)); do
        if ! alive "$dir" kube-apiserver; then
            log "kube-apiserver exited"
            return 1
        fi
        readyz "$dir" && return 0
        sleep 0.25
    done
    log "kube-apiserver not ready after ${READY_TIMEOUT}s"
    return 1
}

write_kubeconfig() {
    local dir=$1 u tmp=$1/kubeconfig.tmp
    (
        umask 077
        {
            printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: gmsa-test\n  cluster:\n'
            printf '    server: https://127.0.0.1:%s\n    certificate-authority: %s\n' "$APISERVER_PORT" "$(ca_file "$dir")"
            printf 'contexts:\n'
            for u in "${USERS[@]}"; do
                printf -- '- name: %s\n  context:\n    cluster: gmsa-test\n    user: %s\n    namespace: default\n' "$u" "$u"
            done
            printf 'current-context: admin\nusers:\n'
            for u in "${USERS[@]}"; do
                printf -- '- name: %s\n  user:\n    token: %s\n' "$u" "$(token_of "$dir" "$u")"
            done
            printf 'preferences: {}\n'
        } >"$tmp"
    )
    mv -f "$tmp" "$dir/kubeconfig"
}

cmd_ensure() {
    local dir _ started
    dir=$(cluster_dir "${1:-}")
    chmod 0700 "$dir"
    exec 9>"$dir/lock"
    flock 9
    if cluster_ready "$dir"; then
        printf '%s\n' "$dir/kubeconfig"
        return 0
    fi
    stop_processes "$dir" # leftovers of a crashed or half-started cluster
    rm -f "$dir/ca.crt"   # re-extracted below, in case certs/ was replaced
    cmd_install
    init_files "$dir"
    started=$(date +%s.%N)
    for _ in 1 2 3; do # retried when a chosen port got taken meanwhile
        choose_ports "$dir"
        log "starting etcd on 127.0.0.1:$ETCD_PORT"
        if ! start_etcd "$dir"; then
            stop_processes "$dir"
            grep -q 'address already in use' "$dir/etcd.log" && { ETCD_PORT='' ETCD_PEER_PORT=''; save_ports "$dir"; continue; }
            die "etcd did not start (log: $dir/etcd.log)"
        fi
        log "starting kube-apiserver on https://127.0.0.1:$APISERVER_PORT"
        if ! start_apiserver "$dir"; then
            tail -n 40 "$dir/kube-apiserver.log" >&2
            stop_processes "$dir"
            grep -q 'address already in use' "$dir/kube-apiserver.log" && { APISERVER_PORT=''; save_ports "$dir"; continue; }
            die "kube-apiserver did not start (log: $dir/kube-apiserver.log)"
        fi
        extract_ca "$dir"
        write_kubeconfig "$dir"
        log "ready in $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s: KUBECONFIG=$dir/kubeconfig"
        printf '%s\n' "$dir/kubeconfig"
        return 0
    done
    die "could not find free ports"
}

cmd_stop() {
    local clean='' dir_arg='' dir
    while [[ $# -gt 0 ]]; do
        case $1 in
        --clean) clean=1 ;;
        -*) die "unknown option $1" ;;
        *) dir_arg=$1 ;;
        esac
        shift
    done
    dir=${dir_arg:-${GMSA_TEST_CLUSTER_DIR:-${TMPDIR:-/tmp}/kubectl-gmsa-test-cluster}}
    [[ -d $dir ]] || return 0
    dir=$(cd "$dir" && pwd)
    exec 9>"$dir/lock"
    flock 9
    stop_processes "$dir"
    if [[ -n $clean ]]; then
        log "removing $dir"
        rm -rf "$dir"
    fi
}

cmd_env() {
    local dir=${1:-${GMSA_TEST_CLUSTER_DIR:-${TMPDIR:-/tmp}/kubectl-gmsa-test-cluster}} u
    [[ -d $dir ]] || die "no cluster in $dir; run: $0 ensure"
    dir=$(cd "$dir" && pwd)
    load_state "$dir"
    [[ -n $APISERVER_PORT && -f $dir/tokens.csv ]] || die "no cluster in $dir; run: $0 ensure"
    pid_of "$dir" kube-apiserver >/dev/null || log "warning: the cluster in $dir is not running; run: $0 ensure"
    printf 'export GMSA_TEST_CLUSTER_DIR=%q\n' "$dir"
    printf 'export GMSA_TEST_KUBECONFIG=%q\n' "$dir/kubeconfig"
    printf 'export GMSA_TEST_SERVER=%q\n' "https://127.0.0.1:$APISERVER_PORT"
    printf 'export GMSA_TEST_CA=%q\n' "$(ca_file "$dir")"
    for u in "${USERS[@]}"; do
        printf 'export GMSA_TEST_TOKEN_%s=%q\n' "${u^^}" "$(token_of "$dir" "$u")"
    done
    printf 'export GMSA_TEST_ETCD=%q\n' "http://127.0.0.1:$ETCD_PORT"
}

main() {
    [[ $# -ge 1 ]] || usage
    local cmd=$1
    shift
    case $cmd in
    install) [[ $# -eq 0 ]] || usage; cmd_install ;;
    ensure | start) [[ $# -le 1 ]] || usage; cmd_ensure "$@" ;;
    stop) cmd_stop "$@" ;;
    env) [[ $# -le 1 ]] || usage; cmd_env "$@" ;;
    -h | --help | help) usage 0 ;;
    *) usage ;;
    esac
}

main "$@"
exit
