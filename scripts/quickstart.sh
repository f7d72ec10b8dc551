#!/usr/bin/env bash
# quickstart.sh: the main job, end to end, on this machine. Starts a local Kubernetes API
# server (scripts/test-cluster.sh) and, where Samba is (or can be) installed, the local test domain
# controller (scripts/test-dc.sh); installs the gMSA webhook's objects without waiting (the
# local server has no nodes to run it); generates the credential spec of gMSA QuickWebApp01
# from the DC (creating the gMSA the first time), or loads the sample file when there is no
# DC; adds it for service account `app` in namespace `shop`; and shows `status`, `get` and
# the access check. Then it says how to point the same commands at your own cluster.
# Every step is idempotent: re-running it changes nothing; if a step fails, fix and re-run.
# Before building, it installs what it builds and runs with (Debian 12, as root or with sudo),
# through the same helpers as the tests (scripts/lib/deps.sh), and says what it installs.
# The API server keeps running in $GMSA_TEST_CLUSTER_DIR (default /tmp/kubectl-gmsa-quickstart).
# GMSA_QUICKSTART_DC=sample skips the domain controller and uses the sample file.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -t 2 && -z ${NO_COLOR:-} ]]; then
    say() { printf '\n\033[1m%s\033[0m\n' "$*" >&2; }
else
    say() { printf '\n== %s\n' "$*" >&2; }
fi
note() { printf '%s\n' "$*" >&2; }
STEP="starting"
trap 'note "quickstart: failed while ${STEP}; nothing is left half-made (every step is an idempotent apply): fix the cause and run it again"' ERR

LOG_TAG=quickstart
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source scripts/lib/common.sh
# shellcheck source-path=SCRIPTDIR source=lib/apt.sh
source scripts/lib/apt.sh
# shellcheck source-path=SCRIPTDIR source=lib/deps.sh
source scripts/lib/deps.sh

command -v cargo >/dev/null || die "cargo is not on PATH: install Rust first (https://rustup.rs), then run this again"

# The domain controller: the local test DC where Samba is (or can be) installed, else the sample.
USE_DC=1
if [[ ${GMSA_QUICKSTART_DC:-} == sample ]]; then
    USE_DC=
elif ! can_install_pkgs && ! { PATH=$PATH:/usr/sbin:/sbin command -v samba >/dev/null 2>&1 && command -v samba-tool >/dev/null 2>&1; }; then
    USE_DC=
fi

say "0. Install what building and running need (what is missing only)"
note "- build: ${BUILD_PKGS[*]} (Debian packages)"
note "- the local API server: etcd-server, and kube-apiserver built once from Debian's kubernetes source package (cached in ~/.cache/kubectl-gmsa)"
if [[ -n $USE_DC ]]; then
    note "- the local test domain controller: Samba 4.22 (bookworm-backports; else Debian 12's), ldap-utils, krb5-user, bind9-dnsutils"
fi
STEP="installing the build dependencies"
install_build_deps
STEP="installing the API server"
scripts/test-cluster.sh install
if [[ -n $USE_DC ]]; then
    STEP="installing Samba"
    if ! scripts/test-dc.sh install; then
        note "quickstart: Samba could not be installed (see above); using the sample credential spec instead"
        USE_DC=
    fi
fi

export GMSA_TEST_CLUSTER_DIR=${GMSA_TEST_CLUSTER_DIR:-${TMPDIR:-/tmp}/kubectl-gmsa-quickstart}
STEP="starting the API server"
KUBECONFIG=$(scripts/test-cluster.sh ensure)
export KUBECONFIG
STEP="building kubectl-gmsa"
# The same build as the tests make (scripts/test.sh), so that nothing is rebuilt after them.
log "building kubectl-gmsa (the first build takes several minutes)"
cargo build --quiet --workspace --bins
BIN=$PWD/target/debug/kubectl-gmsa
run() { printf '$ kubectl gmsa %s\n' "$*" >&2; "$BIN" "$@"; }
WORK=$GMSA_TEST_CLUSTER_DIR/quickstart
mkdir -p "$WORK"
chmod 0700 "$WORK"

# Namespace and service account, by server-side apply over the API (no kubectl needed).
apply_core() { # PATH BODY
    local env
    env=$(scripts/test-cluster.sh env)
    local server ca token
    server=$(sed -n 's/^export GMSA_TEST_SERVER=//p' <<<"$env")
    ca=$(sed -n 's/^export GMSA_TEST_CA=//p' <<<"$env")
    token=$(sed -n 's/^export GMSA_TEST_TOKEN_ADMIN=//p' <<<"$env")
    # The token goes in a header file, not on a command line.
    (umask 077 && printf 'Authorization: Bearer %s\n' "$token" >"$WORK/auth.header")
    curl -sS --fail --cacert "$ca" -H @"$WORK/auth.header" -X PATCH \
        -H 'Content-Type: application/apply-patch+yaml' \
        "$server$1?fieldManager=quickstart&force=true" --data-binary "$2" >/dev/null
    rm -f "$WORK/auth.header"
}

ACCOUNT=QuickWebApp01
SAMPLE=examples/credspecs/webapp01-domain-joined.json
DC_ENV=
STEP="starting the test domain controller"
if [[ ${GMSA_QUICKSTART_DC:-} == sample ]]; then
    note "quickstart: GMSA_QUICKSTART_DC=sample: using the sample credential spec $SAMPLE"
elif [[ -z $USE_DC ]]; then
    note "quickstart: Samba cannot be installed here (scripts/test-dc.sh install needs Debian's apt as root), so there is no domain controller to ask: using the sample credential spec $SAMPLE"
elif DC_ENV=$(scripts/test-dc.sh ensure); then
    :
else
    DC_ENV=
    note "quickstart: the test domain controller did not start (see above); using the sample credential spec instead"
fi

say "1. Install the webhook's CRD, RBAC, TLS and configurations (no wait: no nodes here)"
STEP="installing the webhook"
run install-webhook --no-wait

if [[ -n $DC_ENV ]]; then
    # shellcheck disable=SC1090
    source "$DC_ENV"
    # new-credspec reads the bind password from here (never from the command line).
    export GMSA_LDAP_PASSWORD=$GMSA_TEST_DC_ADMIN_PASSWORD
    # Any DNS question (SRV records of the domain) goes to the test DC on loopback.
    export GMSA_DNS_SERVER=$GMSA_TEST_DC_DNS_SERVER
    DC=(--server "$GMSA_TEST_DC_LDAPS_URL" --ca-file "$GMSA_TEST_DC_CA" --user "$GMSA_TEST_DC_ADMIN_USER")
    SPEC=$WORK/${GMSA_TEST_DC_NETBIOS,,}_${ACCOUNT,,}.json
    say "2. The credential spec of gMSA $ACCOUNT, from the domain controller $GMSA_TEST_DC_LDAPS_URL (domain $GMSA_TEST_DC_DNS_DOMAIN)"
    STEP="creating the gMSA in the test domain"
    # check-account -o json says whether it exists (its exit code says whether all checks pass).
    found=$("$BIN" check-account "$ACCOUNT" "${DC[@]}" -o json || true)
    if [[ -z $found ]]; then
        note "quickstart: cannot ask the domain controller about $ACCOUNT (see above)"
        false
    elif tr -d ' \n' <<<"$found" | grep -q '"check":"exists","status":"fail"'; then
        run create-account "$ACCOUNT" --allowed-principal "$GMSA_TEST_DC_GROUP" "${DC[@]}"
    else
        note "gMSA $ACCOUNT exists (made by an earlier run)"
    fi
    STEP="checking the gMSA"
    run check-account "$ACCOUNT" "${DC[@]}" || note "(a failed check above is worth fixing before pods use the gMSA)"
    STEP="generating the credential spec"
    # Written next to the final name, then moved: a failed run leaves no half-written file.
    run new-credspec --account "$ACCOUNT" "${DC[@]}" --file "$SPEC.tmp"
    mv "$SPEC.tmp" "$SPEC"
    NAME=${ACCOUNT,,}
else
    SPEC=$SAMPLE
    NAME=webapp01
    say "2. The credential spec: the sample $SPEC (no domain controller here)"
fi
STEP="linting the credential spec"
run lint "$SPEC"

say "3. A namespace and a service account for the application"
STEP="creating namespace shop and service account app"
apply_core /api/v1/namespaces/shop '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop"}}'
apply_core /api/v1/namespaces/shop/serviceaccounts/app \
    '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"app","namespace":"shop"},"automountServiceAccountToken":false}'
note "namespace shop, serviceaccount app (what \`kubectl create namespace shop; kubectl create serviceaccount app -n shop\` makes)"

say "4. Add the credential spec and let shop:app use it"
STEP="adding the credential spec"
run add-credspec --credspec-file "$SPEC" --credspec-name "$NAME" \
    --cluster-role-name "$NAME-user" --service-account app -n shop

say "5. What the cluster holds"
STEP="showing the result"
run get -o wide
run check-access "$NAME" --service-account app -n shop
run status || note "(unhealthy is expected here: the local API server has no nodes to run the webhook pods)"

say "Done. The local API server keeps running (KUBECONFIG=$KUBECONFIG)."
cat >&2 <<MSG
Stop it with: scripts/test-cluster.sh stop $GMSA_TEST_CLUSTER_DIR
Run this again at any time: every step is an idempotent apply.

On your own cluster, the same commands with your kubeconfig context (and your DC):
  kubectl gmsa install-webhook --context my-cluster
  kubectl gmsa new-credspec --account WebApp01 --server ldaps://dc1.contoso.com --user admin@contoso.com \\
      --file webapp01.json              # the password: \$GMSA_LDAP_PASSWORD or a hidden prompt
  kubectl gmsa add-credspec --context my-cluster --credspec-file webapp01.json \\
      --credspec-name webapp01 --cluster-role-name webapp01-user --service-account app -n shop
or let the wizard ask for each of them and print these lines:
  kubectl gmsa wizard --context my-cluster
and in the pod spec:
  spec:
    serviceAccountName: app
    securityContext:
      windowsOptions:
        gmsaCredentialSpecName: webapp01
MSG
