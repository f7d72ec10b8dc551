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
#
# DIST (default dist/) sets the output folder. Only the host target can be built on a
# machine without cross toolchains; the release workflow builds the others.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIST=${DIST:-$ROOT/dist}
BASE_URL=https://github.com/kubectl-gmsa/kubectl-gmsa/releases/download
HOMEPAGE=https://github.com/kubectl-gmsa/kubectl-gmsa

log() { printf 'package: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

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
    local flags=(-p kubectl-gmsa --quiet)
    [[ $profile == release ]] && flags+=(--release)
    local outdir=$ROOT/target/$profile
    if [[ $target != "$(host_triple)" ]]; then
        flags+=(--target "$target")
        outdir=$ROOT/target/$target/$profile
    fi
    log "building kubectl-gmsa $VERSION for $target ($profile)"
    cargo build "${flags[@]}"
    local exe=kubectl-gmsa
    [[ $os == windows ]] && exe=kubectl-gmsa.exe
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
    local flags=(-p gmsa-ffi --quiet)
    [[ $profile == release ]] && flags+=(--release)
    log "building the native library ($profile)"
    cargo build "${flags[@]}"
    local lib
    case $(uname -s) in Darwin) lib=libgmsa_ffi.dylib ;; Linux) lib=libgmsa_ffi.so ;; *) lib=gmsa_ffi.dll ;; esac
    local stage rid
    stage=$(mktemp -d)
    rid=$(rid_of_host)
    cp -r "$ROOT/powershell/KubeGmsa" "$stage/KubeGmsa"
    rm -rf "$stage/KubeGmsa/bin"
    mkdir -p "$stage/KubeGmsa/bin/$rid"
    cp "$ROOT/target/$profile/$lib" "$stage/KubeGmsa/bin/$rid/$lib"
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
    version) echo "$VERSION" ;;
    *) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2 ;;
esac
