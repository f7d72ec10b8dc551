#!/usr/bin/env bash
# bench-dc.sh: times `kubectl gmsa new-credspec` against the local test DC (connect, bind,
# queries) and counts its LDAP round trips; compares with ldapsearch reading the same facts
# (rootDSE, the domain object, the crossRefs, the account: four ldapsearch processes).
# Usage: scripts/bench-dc.sh [RUNS]   (default 20; needs hyperfine, installed if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-20}

log() { printf 'bench-dc: %s\n' "$*" >&2; }
command -v hyperfine >/dev/null || { log "installing hyperfine"; apt-get -o DPkg::Lock::Timeout=900 install -y -q hyperfine >/dev/null; }

ENV_FILE=$(scripts/test-dc.sh ensure)
# shellcheck disable=SC1090
source "$ENV_FILE"
log "building release binary"
cargo build --release --quiet -p kubectl-gmsa
BIN=$PWD/target/release/kubectl-gmsa
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

ACCOUNT=BenchGmsa
if ! ldbsearch -H "$GMSA_TEST_DC_SAM_LDB" "(sAMAccountName=$ACCOUNT\$)" dn 2>/dev/null | grep -q '^dn:'; then
    GMSA_LDAP_PASSWORD=$GMSA_TEST_DC_ADMIN_PASSWORD "$BIN" create-account "$ACCOUNT" --allowed-principal WebHosts \
        --server "$GMSA_TEST_DC_LDAPS_URL" --ca-file "$GMSA_TEST_DC_CA" --user "$GMSA_TEST_DC_ADMIN_USER" >/dev/null
fi
export GMSA_LDAP_PASSWORD=$GMSA_TEST_DC_ALICE_PASSWORD
export KRB5_CONFIG=$GMSA_TEST_DC_KRB5_CONFIG KRB5CCNAME=FILE:$WORK/ccache
printf '%s\n' "$GMSA_TEST_DC_ALICE_PASSWORD" | kinit "alice@$GMSA_TEST_DC_REALM" >/dev/null

SIMPLE="$BIN new-credspec --account $ACCOUNT --server $GMSA_TEST_DC_LDAPS_URL --ca-file $GMSA_TEST_DC_CA --user $GMSA_TEST_DC_ALICE_USER"
KERBEROS="$BIN new-credspec --account $ACCOUNT --server $GMSA_TEST_DC_LDAP_URL"
# ldapsearch over LDAPS with the same simple bind; -y reads the password from a file.
printf '%s' "$GMSA_TEST_DC_ALICE_PASSWORD" >"$WORK/pw"
LS="env LDAPTLS_CACERT=$GMSA_TEST_DC_CA LDAPCONF=/dev/null ldapsearch -LLL -x -H $GMSA_TEST_DC_LDAPS_URL -D $GMSA_TEST_DC_ALICE_USER -y $WORK/pw"
BASE=$GMSA_TEST_DC_BASE_DN
LDAPSEARCH="$LS -b '' -s base defaultNamingContext configurationNamingContext rootDomainNamingContext >/dev/null && \
$LS -b '$BASE' -s base objectSid objectGUID >/dev/null && \
$LS -b 'CN=Partitions,CN=Configuration,$BASE' -s one '(nETBIOSName=*)' nCName dnsRoot nETBIOSName >/dev/null && \
$LS -b '$BASE' '(sAMAccountName=$ACCOUNT\$)' objectClass sAMAccountName >/dev/null"

log "round trips"
$SIMPLE --stats 2>&1 >/dev/null | sed 's/^/  simple bind over LDAPS: /'
$KERBEROS --stats 2>&1 >/dev/null | sed 's/^/  Kerberos, sealed ldap: /'

log "timing ($RUNS runs each)"
hyperfine --style basic --warmup 2 --runs "$RUNS" -N \
    -n "new-credspec (simple bind, LDAPS)" "$SIMPLE" \
    -n "new-credspec (Kerberos, sealed ldap://)" "$KERBEROS" 2>/dev/null
hyperfine --style basic --warmup 2 --runs "$RUNS" \
    -n "4 x ldapsearch (simple bind, LDAPS)" "$LDAPSEARCH" 2>/dev/null
