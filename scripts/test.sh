#!/usr/bin/env bash
# test.sh: the project's whole test suite, against real systems. Installs what is missing,
# starts a throwaway kube-apiserver + etcd on 127.0.0.1 (scripts/test-cluster.sh), builds the
# workspace, runs every test with cargo-nextest (cargo test when nextest is absent), and stops
# the cluster again. Usage: scripts/test.sh [extra nextest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'test: %s\n' "$*" >&2; }

scripts/test-cluster.sh install
# Samba AD DC for the directory tests, and the Kerberos build dependencies (libkrb5-dev, libclang-dev).
scripts/test-dc.sh install
# A cluster of this run's own, stopped on exit, unless the caller chose one.
if [[ -z "${GMSA_TEST_CLUSTER_DIR:-}" ]]; then
    GMSA_TEST_CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-gmsa-test.XXXXXX")/cluster
    export GMSA_TEST_CLUSTER_DIR
    trap 'scripts/test-cluster.sh stop --clean "$GMSA_TEST_CLUSTER_DIR" >/dev/null 2>&1 || true' EXIT
fi
scripts/test-cluster.sh ensure >/dev/null
log "test cluster: $GMSA_TEST_CLUSTER_DIR"

log "building"
cargo build --workspace --all-targets --quiet
if command -v cargo-nextest >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
else
    cargo test --workspace --no-fail-fast "$@"
fi
