#!/usr/bin/env bash
# kind-e2e.sh: kubectl-gmsa against a real, modern cluster made with kind (anyone with
# Docker, kind and kubectl can run it; the CI workflow runs it for Kubernetes 1.30 and the
# newest release). It installs the gMSA webhook for real with `kubectl gmsa install-webhook`
# (and waits for its pods to run), adds a credential spec for one service account, then
# creates pods with gMSA settings through the API server: one that may use the credential
# spec is admitted and mutated (the credential spec's JSON filled in), one whose service
# account may not is refused, one naming a credential spec that does not exist is refused.
# The pods never start (no Windows nodes): admission is what is tested. Exits non-zero on
# the first failure; deletes the cluster it made.
#
# Usage: scripts/kind-e2e.sh [NODE_IMAGE]      e.g. kindest/node:v1.30.13; default kind's own
# Env:   KIND_CLUSTER=<name>  use an existing kind cluster (not deleted afterwards)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'kind-e2e: %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

for tool in docker kind kubectl cargo; do
    command -v "$tool" >/dev/null || die "$tool is not installed (needed: docker, kind, kubectl, cargo)"
done

image=${1:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-gmsa-kind.XXXXXX")
export KUBECONFIG=$work/kubeconfig
if [[ -n "${KIND_CLUSTER:-}" ]]; then
    cluster=$KIND_CLUSTER
    kind get kubeconfig --name "$cluster" >"$KUBECONFIG"
    trap 'rm -rf "$work"' EXIT
else
    cluster=gmsa-e2e-$$
    trap 'kind delete cluster --name "$cluster" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
    log "creating kind cluster $cluster ${image:+($image)}"
    kind create cluster --name "$cluster" ${image:+--image "$image"} --kubeconfig "$KUBECONFIG" --wait 180s >&2
fi
log "server version: $(kubectl version -o json | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -n1)"

log "building kubectl-gmsa"
cargo build --quiet -p kubectl-gmsa
gmsa=$PWD/target/debug/kubectl-gmsa

log "install-webhook (waits for the pods)"
"$gmsa" install-webhook --failure-policy Fail --tolerate-control-plane --timeout 300s >&2 \
    || die "install-webhook"
"$gmsa" status >&2 || die "status says the webhook is not healthy"
running=$(kubectl get pods -n gmsa-webhook -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | grep -c '^Running$' || true)
[[ $running -ge 1 ]] || die "no webhook pod is Running"
log "webhook pods running: $running"

ns=gmsa-e2e
kubectl create namespace "$ns" >/dev/null
kubectl create serviceaccount app -n "$ns" >/dev/null
kubectl create serviceaccount other -n "$ns" >/dev/null
"$gmsa" add-credspec --credspec-file examples/credspecs/webapp01-domain-joined.json \
    --credspec-name webapp01 --cluster-role-name webapp01-user --service-account app -n "$ns" >&2 \
    || die "add-credspec"

pod() { # NAME SERVICE_ACCOUNT CREDSPEC: a Windows pod asking for a gMSA
    cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: $ns}
spec:
  serviceAccountName: $2
  nodeSelector: {kubernetes.io/os: windows}
  securityContext:
    windowsOptions: {gmsaCredentialSpecName: $3}
  containers:
    - name: app
      image: mcr.microsoft.com/windows/servercore:ltsc2022
EOF
}

log "a pod whose service account may use the credential spec: admitted and mutated"
pod allowed app webapp01 | kubectl apply -f - >&2 || die "the allowed pod was refused"
spec=$(kubectl get pod allowed -n "$ns" -o jsonpath='{.spec.securityContext.windowsOptions.gmsaCredentialSpec}')
[[ $spec == *WebApp01* ]] || die "the webhook did not fill in the credential spec (got: ${spec:-nothing})"

log "a pod whose service account may not: refused"
if out=$(pod refused other webapp01 | kubectl apply -f - 2>&1); then
    die "a pod with an unauthorized service account was admitted"
fi
grep -qi 'denied\|not authorized' <<<"$out" || die "refused, but not by the webhook: $out"

log "a pod naming a credential spec that does not exist: refused"
if out=$(pod missing app no-such-credspec | kubectl apply -f - 2>&1); then
    die "a pod naming a missing credential spec was admitted"
fi
grep -qi 'denied\|not found\|does not exist' <<<"$out" || die "refused, but not by the webhook: $out"

"$gmsa" uninstall-webhook >&2 || die "uninstall-webhook"
log "ok"
