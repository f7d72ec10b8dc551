#!/usr/bin/env bash
# test.sh: the project's whole test suite, against real systems. Installs what is missing,
# starts a throwaway kube-apiserver + etcd on 127.0.0.1 (scripts/test-cluster.sh), builds the
# workspace, runs every test with cargo-nextest (cargo test when nextest is absent), then runs
# scripts/quickstart.sh (the README's "run it" command) against a cluster of its own, twice
# (the second run must change nothing), and stops both clusters again. Fails when the tests
# or the quickstart fail. Usage: scripts/test.sh [extra nextest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

LOG_TAG=test
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source scripts/lib/common.sh
# shellcheck source-path=SCRIPTDIR source=lib/apt.sh
source scripts/lib/apt.sh
# shellcheck source-path=SCRIPTDIR source=lib/deps.sh
source scripts/lib/deps.sh

# What building and the tests need (scripts/lib/deps.sh), the API server, and the Samba AD DC
# for the directory tests.
install_build_deps
install_test_deps
scripts/test-cluster.sh install
scripts/test-dc.sh install
# actionlint for the workflow test (tests/e2e/workflows.rs).
GMSA_ACTIONLINT=$(ensure_actionlint)
export GMSA_ACTIONLINT
# Mono for the PowerShell module's interop suite (crates/gmsa-ffi/tests/mono.rs).
# shellcheck source=scripts/lib/mono.sh
source scripts/lib/mono.sh
install_mono
# A cluster of this run's own, stopped on exit, unless the caller chose one.
if [[ -z "${GMSA_TEST_CLUSTER_DIR:-}" ]]; then
    GMSA_TEST_CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-gmsa-test.XXXXXX")/cluster
    export GMSA_TEST_CLUSTER_DIR
    trap 'scripts/test-cluster.sh stop --clean "$GMSA_TEST_CLUSTER_DIR" >/dev/null 2>&1 || true; rmdir "${GMSA_TEST_CLUSTER_DIR%/cluster}" 2>/dev/null || true' EXIT
fi
scripts/test-cluster.sh ensure >/dev/null
log "test cluster: $GMSA_TEST_CLUSTER_DIR"

log "building"
cargo build --workspace --all-targets --quiet
tests_rc=0
if command -v cargo-nextest >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@" || tests_rc=$?
else
    cargo test --workspace --no-fail-fast "$@" || tests_rc=$?
fi

# The quickstart, as a new user runs it, on a throwaway cluster of its own (stopped after).
log "quickstart"
qs_base=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-gmsa-quickstart.XXXXXX")
qs_rc=0
qs_run() { # NAME: one quickstart run, its output kept in the temp dir
    GMSA_TEST_CLUSTER_DIR=$qs_base/cluster scripts/quickstart.sh >"$qs_base/$1.log" 2>&1
}
if qs_run first && qs_run again; then
    # Re-running must change nothing.
    if grep -E ' (created|configured)$' "$qs_base/again.log"; then
        log "quickstart: the second run changed objects (above)"
        qs_rc=1
    fi
else
    qs_rc=1
fi
if [[ $qs_rc -ne 0 ]]; then
    cat "$qs_base"/*.log >&2
    log "quickstart FAILED"
else
    log "quickstart: ok (twice; the second run changed nothing)"
fi
scripts/test-cluster.sh stop --clean "$qs_base/cluster" >/dev/null 2>&1 || true
rm -rf "$qs_base"

if [[ $tests_rc -ne 0 ]]; then
    log "tests FAILED (exit $tests_rc)"
    exit "$tests_rc"
fi
exit "$qs_rc"
