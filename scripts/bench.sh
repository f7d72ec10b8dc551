#!/usr/bin/env bash
# bench.sh: measures kubectl-gmsa against kubectl on the same local API server, in one run,
# and prints a table of medians, ratios and peak memory (also written to docs/benchmarks.md).
#   add-credspec   vs  kubectl apply --server-side of the same three objects (create + re-apply)
#   remove-credspec vs kubectl delete of the same objects
#   kubectl gmsa --help start-up
# Usage: scripts/bench.sh [RUNS]   (default 20 runs per figure; needs hyperfine, installed if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-20}

log() { printf 'bench: %s\n' "$*" >&2; }
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

# The CRD, applied with kubectl from the project's own manifest (rendered by a test helper).
if ! kubectl get crd gmsacredentialspecs.windows.k8s.io >/dev/null 2>&1; then
    # Only the CRD: the rendered install also holds webhook configurations (failurePolicy Fail).
    "$BIN" install-webhook --dry-run=client -o json 2>/dev/null |
        python3 -c 'import json,sys; print(json.dumps([o for o in json.load(sys.stdin)["items"] if o["kind"] == "CustomResourceDefinition"][0]))' |
        kubectl apply --server-side -f - >/dev/null 2>&1 || true
fi
kubectl get crd gmsacredentialspecs.windows.k8s.io >/dev/null || { log "the GMSACredentialSpec CRD is missing"; exit 1; }
kubectl create namespace bench --dry-run=client -o yaml | kubectl apply -f - >/dev/null

SPEC=examples/credspecs/webapp01-domain-joined.json
ADD=("$BIN" add-credspec --credspec-file "$SPEC" --credspec-name bench-gmsa --cluster-role-name bench-gmsa-user --service-account app -n bench)
KADD=("$BIN" add-credspec --credspec-file "$SPEC" --credspec-name bench-kubectl --cluster-role-name bench-kubectl-user --service-account app -n bench --dry-run=client -o yaml)
"${KADD[@]}" > "$WORK/objects.yaml"
REMOVE_GMSA="$BIN remove-credspec --credspec-name bench-gmsa --cluster-role-name bench-gmsa-user --service-account app -n bench"
REMOVE_KUBECTL="kubectl delete -f $WORK/objects.yaml --ignore-not-found --wait=false"
q() { printf '%q ' "$@"; }

hf() { # name, json, commands...
    local json=$1; shift
    hyperfine --style none --runs "$RUNS" --warmup 2 --export-json "$json" "$@" >/dev/null 2>&1
}
log "create: add-credspec vs kubectl apply ($RUNS runs each)"
hf "$WORK/create.json" \
    --prepare "$REMOVE_GMSA >/dev/null 2>&1 || true; $REMOVE_KUBECTL >/dev/null 2>&1 || true" \
    -n "kubectl gmsa add-credspec (create)" "$(q "${ADD[@]}")" \
    -n "kubectl apply --server-side (create)" "kubectl apply --server-side -f $WORK/objects.yaml"
log "re-apply (nothing changes)"
hf "$WORK/reapply.json" \
    -n "kubectl gmsa add-credspec (unchanged)" "$(q "${ADD[@]}")" \
    -n "kubectl apply --server-side (unchanged)" "kubectl apply --server-side -f $WORK/objects.yaml"
log "remove: remove-credspec vs kubectl delete"
hf "$WORK/remove.json" \
    --prepare "$(q "${ADD[@]}") >/dev/null; kubectl apply --server-side -f $WORK/objects.yaml >/dev/null" \
    -n "kubectl gmsa remove-credspec" "$REMOVE_GMSA" \
    -n "kubectl delete" "$REMOVE_KUBECTL"
log "start-up"
hf "$WORK/help.json" -n "kubectl gmsa --help" "$BIN --help" -n "kubectl --help" "kubectl --help"

# Peak memory (max RSS, median of 5) of the write commands.
peak() { local i; for i in 1 2 3 4 5; do /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; done | sort -n | sed -n 3p; }
"${ADD[@]}" >/dev/null
MEM_GMSA=$(peak "${ADD[@]}")
MEM_KUBECTL=$(peak kubectl apply --server-side -f "$WORK/objects.yaml")
$REMOVE_GMSA >/dev/null 2>&1 || true
$REMOVE_KUBECTL >/dev/null 2>&1 || true

# A large cluster: 5,000 credential specs, 5,000 cluster roles and 5,000 role bindings of
# ours (created once per bench cluster), then `get` pages through all of them.
LARGE=5000
have=$(kubectl get gmsacredentialspecs -l bench=large -o name 2>/dev/null | wc -l)
if [[ $have -lt $LARGE ]]; then
    log "creating $LARGE credential specs, cluster roles and role bindings (once)"
    python3 - "$LARGE" "$SPEC" > "$WORK/large.json" <<'PY'
import json, sys
n, spec = int(sys.argv[1]), json.load(open(sys.argv[2]))
items = []
ours = {"app.kubernetes.io/managed-by": "kubectl-gmsa", "bench": "large"}
for i in range(n):
    name = f"large-{i:05d}"
    items.append({"apiVersion": "windows.k8s.io/v1", "kind": "GMSACredentialSpec", "metadata": {"name": name, "labels": ours}, "credspec": spec})
    items.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name + "-user", "labels": ours},
                  "rules": [{"apiGroups": ["windows.k8s.io"], "resources": ["gmsacredentialspecs"], "verbs": ["use"], "resourceNames": [name]}]})
    items.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": name + "-user-app", "namespace": "bench", "labels": ours},
                  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name + "-user"},
                  "subjects": [{"kind": "ServiceAccount", "name": "app", "namespace": "bench"}]})
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
PY
    kubectl create -f "$WORK/large.json" >/dev/null 2>&1 || kubectl apply --server-side -f "$WORK/large.json" >/dev/null
fi
log "get over $LARGE credential specs"
hyperfine --style none --runs 5 --warmup 1 --export-json "$WORK/large-get.json" -n "kubectl gmsa get ($LARGE specs)" "$BIN get" -n "kubectl get gmsacredentialspecs ($LARGE)" "kubectl get gmsacredentialspecs" >/dev/null 2>&1
MEM_GET=$(peak "$BIN" get)
MEM_KGET=$(peak kubectl get gmsacredentialspecs)

python3 - "$WORK" "$MEM_GMSA" "$MEM_KUBECTL" "$RUNS" "$MEM_GET" "$MEM_KGET" > "$WORK/table.md" <<'PY'
import json, sys, statistics
work, mem_g, mem_k, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = []
for f in ["create", "reapply", "remove", "help", "large-get"]:
    res = json.load(open(f"{work}/{f}.json"))["results"]
    ours, theirs = res[0], res[1]
    mo, mt = statistics.median(ours["times"]) * 1000, statistics.median(theirs["times"]) * 1000
    rows.append((ours["command"], mo, theirs["command"], mt, mo / mt))
print(f"| kubectl-gmsa | median ms | kubectl | median ms | ratio |")
print(f"|---|---:|---|---:|---:|")
for a, ma, b, mb, r in rows:
    print(f"| {a} | {ma:.1f} | {b} | {mb:.1f} | {r:.2f} |")
print()
print(f"Peak memory (max RSS, median of 5): kubectl gmsa add-credspec {mem_g/1024:.1f} MiB, "
      f"kubectl apply --server-side {mem_k/1024:.1f} MiB, ratio {mem_g/mem_k:.2f}.")
mem_get, mem_kget = int(sys.argv[5]), int(sys.argv[6])
print(f"Peak memory of get over 5,000 credential specs: kubectl gmsa get {mem_get/1024:.1f} MiB, kubectl get {mem_kget/1024:.1f} MiB.")
print(f"\n{runs} runs per command after 2 warm-ups; hyperfine; same local kube-apiserver 1.20 in one run.")
PY
cat "$WORK/table.md"
mkdir -p docs
{
    echo "# Benchmarks"
    echo
    echo "Produced by \`scripts/bench.sh\` on $(date -u +%Y-%m-%d): $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(kubectl version --client 2>/dev/null | head -1)."
    echo "Target: kubectl-gmsa's write commands take at most a quarter of kubectl's wall time and memory (ratio <= 0.25)."
    echo
    cat "$WORK/table.md"
} > docs/benchmarks.md
log "written to docs/benchmarks.md"
