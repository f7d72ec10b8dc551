#!/usr/bin/env bash
# bench-webhook.sh: `kubectl gmsa install-webhook --no-wait` against `kubectl apply
# --server-side` of the same rendered manifests, on the same local API server in one run.
# Prints the medians and the ratio (target: at most 0.25), for a fresh install and for a
# re-run that changes nothing. Usage: scripts/bench-webhook.sh [RUNS] (default 10).
# Both sides install into namespaces made beforehand (the test API server never finishes
# deleting a namespace), and kubectl's copy leaves out the shared CRD and the namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}

log() { printf 'bench-webhook: %s\n' "$*" >&2; }
command -v hyperfine >/dev/null || { log "installing hyperfine"; apt-get -o DPkg::Lock::Timeout=900 install -y -q hyperfine >/dev/null; }

scripts/test-cluster.sh install
export GMSA_TEST_CLUSTER_DIR=${GMSA_TEST_CLUSTER_DIR:-${TMPDIR:-/tmp}/kubectl-gmsa-bench-cluster}
KUBECONFIG=$(scripts/test-cluster.sh ensure)
export KUBECONFIG
log "building release binary"
cargo build --release --quiet -p kubectl-gmsa
BIN=$PWD/target/release/kubectl-gmsa
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

for ns in bench-wh-gmsa bench-wh-kubectl; do
    kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
done
# The shared CRD, once, so neither side pays for creating it.
"$BIN" install-webhook --name bench-wh-crd -n bench-wh-gmsa --failure-policy Ignore --no-wait >/dev/null
"$BIN" uninstall-webhook --name bench-wh-crd -n bench-wh-gmsa >/dev/null

VERSION=$(kubectl version -o json 2>/dev/null | python3 -c 'import json,sys; v=json.load(sys.stdin)["serverVersion"]; print(v["major"]+"."+v["minor"].rstrip("+"))')
"$BIN" install-webhook --name bench-k -n bench-wh-kubectl --failure-policy Ignore \
    --dry-run=client -o json --kube-version "$VERSION" |
    python3 -c '
import json, sys
doc = json.load(sys.stdin)
doc["items"] = [o for o in doc["items"] if o["kind"] not in ("CustomResourceDefinition", "Namespace")]
json.dump(doc, sys.stdout)' >"$WORK/manifests.json"

OURS="$BIN install-webhook --name bench-g -n bench-wh-gmsa --failure-policy Ignore --no-wait"
THEIRS="kubectl apply --server-side -f $WORK/manifests.json"
CLEAN="$BIN uninstall-webhook --name bench-g -n bench-wh-gmsa >/dev/null 2>&1; kubectl delete -f $WORK/manifests.json --ignore-not-found --wait=false >/dev/null 2>&1; true"

hf() { # json, hyperfine arguments...
    local json=$1; shift
    hyperfine --style none --runs "$RUNS" --warmup 1 --export-json "$json" "$@" >/dev/null 2>&1
}
log "fresh install ($RUNS runs each)"
hf "$WORK/create.json" --prepare "$CLEAN" \
    -n "kubectl gmsa install-webhook --no-wait (create)" "$OURS" \
    -n "kubectl apply --server-side (create)" "$THEIRS"
log "re-run, nothing changes"
$OURS >/dev/null 2>&1
$THEIRS >/dev/null 2>&1
hf "$WORK/rerun.json" \
    -n "kubectl gmsa install-webhook --no-wait (unchanged)" "$OURS" \
    -n "kubectl apply --server-side (unchanged)" "$THEIRS"
bash -c "$CLEAN"

python3 - "$WORK" "$RUNS" <<'PY'
import json, statistics, sys
work, runs = sys.argv[1], sys.argv[2]
print("| kubectl-gmsa | median ms | kubectl | median ms | ratio |")
print("|---|---:|---|---:|---:|")
for f in ["create", "rerun"]:
    ours, theirs = json.load(open(f"{work}/{f}.json"))["results"]
    mo, mt = statistics.median(ours["times"]) * 1000, statistics.median(theirs["times"]) * 1000
    print(f"| {ours['command']} | {mo:.1f} | {theirs['command']} | {mt:.1f} | {mo / mt:.2f} |")
print(f"\n{runs} runs per command after 1 warm-up; hyperfine; same local kube-apiserver in one run. Target ratio <= 0.25.")
PY
