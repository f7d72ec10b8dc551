#!/usr/bin/env bash
# package.sh: builds the release archives krew installs, their checksums, the rendered krew
# manifest, and the PowerShell module zip. The version comes from one place: the workspace's
# Cargo.toml ([workspace.package] version).
#
#   scripts/package.sh archive [--target TRIPLE] [--profile release|debug]
#        build kubectl-gmsa for TRIPLE (default: this host) and write
#        dist/kubectl-gmsa_v<version>_<os>_<arch>.{tar.gz|zip} and its .sha256
#   scripts/package.sh manifest [--host-only] [--base-url URL]
#        render krew/gmsa.yaml.tmpl into dist/gmsa.yaml from the archives in dist/
#        (every platform of krew/platforms.tsv; --host-only: those whose archive exists)
#   scripts/package.sh module [--profile release|debug]
#        dist/KubeGmsa_v<version>.zip: the PowerShell module with the native library of
#        this host in bin/<rid>/
#   scripts/package.sh host [--profile release|debug]
#        archive + manifest --host-only + module, for this host (what the tests use)
#   scripts/package.sh native --target TRIPLE --rid RID [--profile release|debug]
#        build the C-ABI library for TRIPLE into dist/native/RID/ (the release workflow)
#   scripts/package.sh glibc FILE...
#        print the highest GLIBC_ symbol version each ELF file needs; fail above 2.28
#
# Release builds for a Linux glibc target (*-linux-gnu) are made with `cargo zigbuild`
# against glibc 2.28 ($GMSA_GLIBC_MAX), so that they load on RHEL 8, Debian 11, Ubuntu 20.04
# and Amazon Linux 2, and are checked with `glibc` right after. zig (pip package ziglang) and
# cargo-zigbuild are installed when missing (scripts/lib/deps.sh). Debug builds (the tests')
# use plain cargo and this host's glibc.
#
# DIST (default dist/) sets the output folder. Only the host target can be built on a
# machine without cross toolchains; the release workflow builds the others.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIST=${DIST:-$ROOT/dist}
BASE_URL=https://github.com/kubectl-gmsa/kubectl-gmsa/releases/download
HOMEPAGE=https://github.com/kubectl-gmsa/kubectl-gmsa

LOG_TAG=package
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/apt.sh
source "$ROOT/scripts/lib/apt.sh"
# shellcheck source-path=SCRIPTDIR source=lib/deps.sh
source "$ROOT/scripts/lib/deps.sh"
GLIBC_MAX=${GMSA_GLIBC_MAX:-2.28}

version() {
    awk '/^\[workspace.package\]/ {p=1; next} /^\[/ {p=0} p && /^version *=/ {gsub(/[" ]/, "", $0); split($0, a, "="); print a[2]; exit}' "$ROOT/Cargo.toml"
}
VERSION=$(version)
[[ -n "$VERSION" ]] || die "no version in Cargo.toml [workspace.package]"

host_triple() { rustc -vV | awk '/^host:/ {print $2}'; }

# os arch ext for a target triple, from krew/platforms.tsv
platform_of() {
    awk -v t="$1" -F'\t' '!/^#/ && $3 == t {print $1, $2, $4}' "$ROOT/krew/platforms.tsv"
}

archive_name() { # os arch ext
    echo "kubectl-gmsa_v${VERSION}_$1_$2.$3"
}

sha256_of() { sha256sum "$1" | awk '{print $1}'; }

# Builds CRATE for TARGET in PROFILE; sets OUTDIR to the folder holding the result. Release
# builds for *-linux-gnu go through cargo zigbuild against glibc $GLIBC_MAX.
build_crate() { # CRATE TARGET PROFILE
    local crate=$1 target=$2 profile=$3 flags=(-p "$1" --quiet)
    [[ $profile == release ]] && flags+=(--release)
    OUTDIR=$ROOT/target/$profile
    if [[ $target == *-linux-gnu && $profile == release ]]; then
        ensure_zigbuild
        log "building $crate $VERSION for $target against glibc $GLIBC_MAX (cargo zigbuild, $profile)"
        cargo zigbuild "${flags[@]}" --target "$target.$GLIBC_MAX"
        OUTDIR=$ROOT/target/$target/$profile
        return
    fi
    if [[ $target != "$(host_triple)" ]]; then
        flags+=(--target "$target")
        OUTDIR=$ROOT/target/$target/$profile
    fi
    log "building $crate $VERSION for $target ($profile)"
    cargo build "${flags[@]}"
}

# The highest GLIBC_ symbol version FILE needs (empty when none).
glibc_of() {
    objdump -T "$1" 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' | sort -uV | tail -n 1
}

cmd_glibc() {
    [[ $# -gt 0 ]] || die "usage: scripts/package.sh glibc FILE..."
    command -v objdump >/dev/null || die "objdump is missing (Debian package binutils)"
    local f v bad=0
    for f in "$@"; do
        [[ -f $f ]] || die "no such file: $f"
        v=$(glibc_of "$f")
        if [[ -z $v ]]; then
            log "$f: needs no GLIBC_ symbol version"
        elif [[ $(printf '%s\n%s\n' "$v" "$GLIBC_MAX" | sort -V | tail -n 1) != "$GLIBC_MAX" ]]; then
            log "$f: highest GLIBC_ symbol version $v, above $GLIBC_MAX: it will not load on RHEL 8, Debian 11 or Ubuntu 20.04"
            bad=1
        else
            log "$f: highest GLIBC_ symbol version $v (at most $GLIBC_MAX)"
        fi
    done
    [[ $bad -eq 0 ]] || die "built against a glibc newer than $GLIBC_MAX"
}

# Checks FILE's glibc when it is a release build for a Linux glibc target.
check_release_glibc() { # FILE TARGET PROFILE
    [[ $2 == *-linux-gnu && $3 == release ]] || return 0
    cmd_glibc "$1"
}

cmd_archive() {
    local target profile=release
    target=$(host_triple)
    while [[ $# -gt 0 ]]; do
        case $1 in
            --target) target=$2; shift 2 ;;
            --profile) profile=$2; shift 2 ;;
            *) die "unknown option $1" ;;
        esac
    done
    read -r os arch ext < <(platform_of "$target") || die "target $target is not in krew/platforms.tsv"
    build_crate kubectl-gmsa "$target" "$profile"
    local outdir=$OUTDIR
    local exe=kubectl-gmsa
    [[ $os == windows ]] && exe=kubectl-gmsa.exe
    [[ -f $outdir/$exe ]] || die "the build left no $outdir/$exe"
    check_release_glibc "$outdir/$exe" "$target" "$profile"
    local stage
    stage=$(mktemp -d)
    cp "$outdir/$exe" "$stage/$exe"
    cp "$ROOT/LICENSE" "$stage/LICENSE"
    mkdir -p "$DIST"
    local name
    name=$(archive_name "$os" "$arch" "$ext")
    rm -f "$DIST/$name"
    if [[ $ext == zip ]]; then
        (cd "$stage" && python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED); [z.write(f) for f in sys.argv[2:]]' "$DIST/$name" "$exe" LICENSE)
    else
        # Reproducible: fixed order, owner and time.
        tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -czf "$DIST/$name" "$exe" LICENSE
    fi
    rm -rf "$stage"
    sha256_of "$DIST/$name" > "$DIST/$name.sha256"
    log "wrote $DIST/$name"
    echo "$DIST/$name"
}

cmd_manifest() {
    local host_only=false
    while [[ $# -gt 0 ]]; do
        case $1 in
            --host-only) host_only=true; shift ;;
            --base-url) BASE_URL=$2; shift 2 ;;
            *) die "unknown option $1" ;;
        esac
    done
    local platforms="" os arch target ext name exe
    while IFS=$'\t' read -r os arch target ext; do
        [[ $os == \#* || -z $os ]] && continue
        name=$(archive_name "$os" "$arch" "$ext")
        if [[ ! -f "$DIST/$name" ]]; then
            $host_only && continue
            die "missing $DIST/$name (build it with: scripts/package.sh archive --target $target)"
        fi
        exe=kubectl-gmsa
        [[ $os == windows ]] && exe=kubectl-gmsa.exe
        platforms+="  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $BASE_URL/v$VERSION/$name
    sha256: $(sha256_of "$DIST/$name")
    bin: $exe
    files:
      - from: $exe
        to: .
      - from: LICENSE
        to: .
"
    done < "$ROOT/krew/platforms.tsv"
    [[ -n $platforms ]] || die "no archives in $DIST; run: scripts/package.sh archive"
    mkdir -p "$DIST"
    python3 - "$ROOT/krew/gmsa.yaml.tmpl" "$DIST/gmsa.yaml" "$VERSION" "$HOMEPAGE" "$platforms" <<'PY'
import sys
tmpl, out, version, homepage, platforms = sys.argv[1:6]
text = open(tmpl).read()
# Drop the template's own header comment; the rendered manifest says where it came from.
lines = text.splitlines(keepends=True)
while lines and lines[0].startswith("#"):
    lines.pop(0)
text = "".join(lines)
text = text.replace("@VERSION@", version).replace("@HOMEPAGE@", homepage).replace("@PLATFORMS@\n", platforms)
open(out, "w").write("# Rendered by scripts/package.sh from krew/gmsa.yaml.tmpl.\n" + text)
PY
    log "wrote $DIST/gmsa.yaml"
    echo "$DIST/gmsa.yaml"
}

rid_of_host() {
    local os arch
    case $(uname -s) in Linux) os=linux ;; Darwin) os=osx ;; *) os=win ;; esac
    case $(uname -m) in x86_64|amd64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
    echo "$os-$arch"
}

cmd_module() {
    local profile=release
    while [[ $# -gt 0 ]]; do
        case $1 in
            --profile) profile=$2; shift 2 ;;
            *) die "unknown option $1" ;;
        esac
    done
    [[ -d "$ROOT/powershell/KubeGmsa" ]] || die "powershell/KubeGmsa does not exist yet"
    [[ -f "$ROOT/crates/gmsa-ffi/Cargo.toml" ]] || die "crates/gmsa-ffi does not exist yet"
    local target lib
    target=$(host_triple)
    build_crate gmsa-ffi "$target" "$profile"
    lib=$(library_file "$target")
    [[ -f $OUTDIR/$lib ]] || die "the build left no $OUTDIR/$lib"
    check_release_glibc "$OUTDIR/$lib" "$target" "$profile"
    local stage rid
    stage=$(mktemp -d)
    rid=$(rid_of_host)
    cp -r "$ROOT/powershell/KubeGmsa" "$stage/KubeGmsa"
    rm -rf "$stage/KubeGmsa/bin"
    mkdir -p "$stage/KubeGmsa/bin/$rid"
    cp "$OUTDIR/$lib" "$stage/KubeGmsa/bin/$rid/$lib"
    cp "$ROOT/LICENSE" "$stage/KubeGmsa/LICENSE"
    mkdir -p "$DIST"
    local name=KubeGmsa_v$VERSION.zip
    rm -f "$DIST/$name"
    (cd "$stage" && python3 -c 'import os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED)
for d, _, fs in sorted(os.walk("KubeGmsa")):
    for f in sorted(fs):
        z.write(os.path.join(d, f))' "$DIST/$name")
    rm -rf "$stage"
    sha256_of "$DIST/$name" > "$DIST/$name.sha256"
    log "wrote $DIST/$name"
    echo "$DIST/$name"
}

# The C-ABI library's file name for a target triple.
library_file() {
    case $1 in
    *-apple-*) echo libgmsa_ffi.dylib ;;
    *-windows-*) echo gmsa_ffi.dll ;;
    *) echo libgmsa_ffi.so ;;
    esac
}

cmd_native() {
    local target='' rid='' profile=release
    while [[ $# -gt 0 ]]; do
        case $1 in
            --target) target=$2; shift 2 ;;
            --rid) rid=$2; shift 2 ;;
            --profile) profile=$2; shift 2 ;;
            *) die "unknown option $1" ;;
        esac
    done
    [[ -n $target && -n $rid ]] || die "usage: scripts/package.sh native --target TRIPLE --rid RID"
    build_crate gmsa-ffi "$target" "$profile"
    local lib
    lib=$(library_file "$target")
    [[ -f $OUTDIR/$lib ]] || die "the build left no $OUTDIR/$lib: refusing to ship an empty native/$rid"
    check_release_glibc "$OUTDIR/$lib" "$target" "$profile"
    mkdir -p "$DIST/native/$rid"
    cp "$OUTDIR/$lib" "$DIST/native/$rid/$lib"
    log "wrote $DIST/native/$rid/$lib"
    echo "$DIST/native/$rid/$lib"
}

cmd_host() {
    cmd_archive "$@"
    cmd_manifest --host-only
    if [[ -f "$ROOT/crates/gmsa-ffi/Cargo.toml" && -d "$ROOT/powershell/KubeGmsa" ]]; then
        cmd_module "$@"
    fi
}

case ${1:-} in
    archive) shift; cmd_archive "$@" ;;
    manifest) shift; cmd_manifest "$@" ;;
    module) shift; cmd_module "$@" ;;
    host) shift; cmd_host "$@" ;;
    native) shift; cmd_native "$@" ;;
    glibc) shift; cmd_glibc "$@" ;;
    version) echo "$VERSION" ;;
    *) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2 ;;
esac
