#!/usr/bin/env bash
# quickstart.sh: the main job, end to end, on this machine. Starts a local Kubernetes API
# server (scripts/test-cluster.sh), installs the gMSA webhook's objects without waiting (the
# local server has no nodes to run it), adds the sample credential spec for service account
# `app` in namespace `shop`, and shows what the cluster now holds and who may use it.
# Then it says how to point the same commands at your own cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n\033[1m%s\033[0m\n' "$*" >&2; }

scripts/test-cluster.sh install
export GMSA_TEST_CLUSTER_DIR=${GMSA_TEST_CLUSTER_DIR:-${TMPDIR:-/tmp}/kubectl-gmsa-quickstart}
KUBECONFIG=$(scripts/test-cluster.sh ensure)
export KUBECONFIG
cargo build --quiet -p kubectl-gmsa
BIN=$PWD/target/debug/kubectl-gmsa
SPEC=examples/credspecs/webapp01-domain-joined.json
run() { printf '$ kubectl gmsa %s\n' "$*" >&2; "$BIN" "$@"; }

say "1. Is the credential spec right?"
run lint "$SPEC"

say "2. Install the webhook's CRD, RBAC, TLS and configurations (no wait: no nodes here)"
run install-webhook --no-wait

say "3. A namespace and a service account for the application"
kubectl create namespace shop --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl create serviceaccount app -n shop --dry-run=client -o yaml | kubectl apply -f - >/dev/null
echo "namespace shop, serviceaccount app" >&2

say "4. Add the credential spec and let shop:app use it"
run add-credspec --credspec-file "$SPEC" --credspec-name webapp01 \
    --cluster-role-name webapp01-user --service-account app -n shop

say "5. What the cluster holds"
run get -o wide
run check-access webapp01 --service-account app -n shop
run status || true

say "Done. The local API server keeps running (KUBECONFIG=$KUBECONFIG);"
cat >&2 <<MSG
stop it with: scripts/test-cluster.sh stop $GMSA_TEST_CLUSTER_DIR

On your own cluster, the same commands with your kubeconfig context:
  kubectl gmsa install-webhook --context my-cluster
  kubectl gmsa add-credspec --context my-cluster --credspec-file webapp01.json \\
      --credspec-name webapp01 --cluster-role-name webapp01-user --service-account app -n shop
and in the pod spec:
  spec:
    serviceAccountName: app
    securityContext:
      windowsOptions:
        gmsaCredentialSpecName: webapp01
MSG
