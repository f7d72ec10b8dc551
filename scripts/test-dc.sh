#!/usr/bin/env bash
# test-dc.sh: a real Active Directory domain controller (Samba AD DC) for kubectl-gmsa's tests.
#
# Provisions a throwaway domain (realm GMSA.TEST, NetBIOS GMSATEST, DC dc1.gmsa.test)
# into DIR and runs `samba -M single` on 127.0.0.1 only (LDAP 389, LDAPS 636,
# Kerberos 88, DNS 53 with the domain's SRV records; `dns forwarder = 127.0.0.1`, so
# nothing is forwarded off loopback). Its TLS certificate
# comes from a CA made here, with SANs dc1.gmsa.test and 127.0.0.1 only: on
# purpose NOT `localhost`, so ldaps://localhost is a hostname-mismatch case that
# still reaches 127.0.0.1. Test principals made at provisioning time:
#   Administrator (domain admin), alice (member of group WebHosts),
#   bob (member of no group), all with random passwords kept in DIR.
#
#   scripts/test-dc.sh install          install what is missing (Samba 4.22 from
#                                       bookworm-backports when available, else 4.17),
#                                       and the Kerberos build dependencies
#   scripts/test-dc.sh install-build-deps  only what building needs (scripts/lib/deps.sh)
#   scripts/test-dc.sh ensure [DIR]     provision once and start unless running;
#                                       prints the env file's path on stdout
#   scripts/test-dc.sh start [DIR]      same as ensure
#   scripts/test-dc.sh stop [--clean] [DIR]  stop; --clean also removes DIR
#   scripts/test-dc.sh env [DIR]        print the env file (`export GMSA_TEST_DC_...` lines)
#
# DIR defaults to ${GMSA_TEST_DC_DIR:-${TMPDIR:-/tmp}/kubectl-gmsa-test-dc}.
# Set GMSA_TEST_DC_SAMBA=bookworm to skip backports and use Debian 12's Samba.
# Samba's ports are fixed, so one DC per machine runs at a time.
# Only stdout of `ensure`/`start` (the env file path) and of `env` is data;
# all progress and diagnostics go to stderr.
set -euo pipefail

BACKPORTS_LIST=/etc/apt/sources.list.d/kubectl-gmsa-backports.sources
REALM=GMSA.TEST
DNS_DOMAIN=gmsa.test
NETBIOS=GMSATEST
HOST=dc1
FQDN=$HOST.$DNS_DOMAIN
BASE_DN=DC=gmsa,DC=test
READY_TIMEOUT=90

LOG_TAG=test-dc
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "${BASH_SOURCE[0]%/*}/lib/common.sh"

usage() {
    sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2
    exit 2
}

# ---------------------------------------------------------------- install ---

# shellcheck source-path=SCRIPTDIR source=lib/apt.sh
source "${BASH_SOURCE[0]%/*}/lib/apt.sh"
# shellcheck source-path=SCRIPTDIR source=lib/deps.sh
source "${BASH_SOURCE[0]%/*}/lib/deps.sh"

# Adds a bookworm-backports copy of the machine's bookworm entry (Debian's
# archive only). Returns 1 when backports cannot be used.
ensure_backports() {
    add_apt_source "$BACKPORTS_LIST" deb bookworm-backports
    apt_update
    local policy
    policy=$(apt-cache policy samba-ad-dc 2>/dev/null || true)
    [[ $policy == *bookworm-backports* ]] || {
        log "samba-ad-dc is not available from bookworm-backports"
        return 1
    }
}

samba_minor() {
    local v
    v=$(dpkg-query -W -f='${Version}' samba-ad-dc 2>/dev/null) || return 1
    v=${v#*:}
    printf '%s\n' "$v" | awk -F. '{ print $1 * 100 + $2 }'
}

cmd_install() {
    local tools=() t
    for t in openssl flock setsid; do
        command -v "$t" >/dev/null || tools+=("$t")
    done
    if [[ ${#tools[@]} -gt 0 ]]; then
        if ! pkg_installed openssl || ! pkg_installed util-linux; then
            apt_update
            apt_get install --no-install-recommends openssl util-linux
        fi
    fi
    local samba_pkgs=(samba-ad-dc samba-ad-provision samba python3-samba ldb-tools winbind samba-common-bin samba-dsdb-modules)
    local base_pkgs=(ldap-utils krb5-user libgssapi3-heimdal bind9-dnsutils)
    local minor
    minor=$(samba_minor || true)
    if [[ -z $minor ]] || { [[ $minor -lt 422 ]] && [[ ${GMSA_TEST_DC_SAMBA:-} != bookworm ]]; } || ! pkg_installed samba-ad-provision; then
        if [[ ${GMSA_TEST_DC_SAMBA:-} != bookworm ]] && ensure_backports; then
            log "installing Samba from bookworm-backports (takes a minute)"
            apt_get install --no-install-recommends -t bookworm-backports "${samba_pkgs[@]}"
        else
            apt_update
            log "installing Samba from bookworm"
            apt_get install --no-install-recommends "${samba_pkgs[@]}"
        fi
    fi
    local missing=() p
    for p in "${base_pkgs[@]}"; do pkg_installed "$p" || missing+=("$p"); done
    if [[ ${#missing[@]} -gt 0 ]]; then
        apt_update
        apt_get install --no-install-recommends "${missing[@]}"
    fi
    install_build_deps
    # Debian's packages start a system-wide Samba; this machine's DC is ours.
    if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
        as_root systemctl disable --now samba-ad-dc smbd nmbd winbind >/dev/null 2>&1 || true
    fi
}

# -------------------------------------------------------------------- DC ---

default_dir() { printf '%s\n' "${GMSA_TEST_DC_DIR:-${TMPDIR:-/tmp}/kubectl-gmsa-test-dc}"; }

# (Samba rewrites its command line, so the working directory, set by start_samba, is what
# identifies our DC: pid_runs_in.)
samba_pid() {
    local f=$1/samba.pid pid
    [[ -f $f ]] || return 1
    pid=$(<"$f")
    pid_runs_in "$pid" "$1" || return 1
    printf '%s\n' "$pid"
}

stop_samba() {
    local dir=$1 pid
    if pid=$(samba_pid "$dir"); then
        stop_with_grace samba "$pid" 30 pid_runs_in "$dir"
    fi
    rm -f "$dir/samba.pid"
}

# A UTF-16LE, quoted, base64 unicodePwd value for an LDIF.
unicode_pwd() {
    printf '"%s"' "$1" | iconv -f UTF-8 -t UTF-16LE | base64 -w0
}

# A random password that meets AD's complexity rules.
new_password() { printf 'Gm-%s-9x' "$(openssl rand -hex 16)"; }

make_certs() {
    local dir=$1 tls=$1/tls
    [[ -s $tls/ca.crt && -s $tls/server.crt && -s $tls/server.key ]] && return 0
    mkdir -p "$tls"
    (
        umask 077
        cd "$tls"
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
            -subj "/CN=kubectl-gmsa test CA" -keyout ca.key -out ca.crt \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=$FQDN" \
            -keyout server.key -out server.csr 2>/dev/null
        printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s,IP:127.0.0.1\n' "$FQDN" >server.ext
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
            -days 3650 -sha256 -extfile server.ext -out server.crt 2>/dev/null
        rm -f server.csr server.ext ca.srl
        # A CA that signed nothing here: tests use it for "untrusted certificate".
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
            -subj "/CN=kubectl-gmsa other CA" -keyout other-ca.key -out other-ca.crt 2>/dev/null
        rm -f other-ca.key
    )
    chmod 0644 "$tls/ca.crt" "$tls/server.crt" "$tls/other-ca.crt"
}

write_krb5_conf() {
    local dir=$1
    cat >"$dir/krb5.conf.tmp" <<EOF
[libdefaults]
    default_realm = $REALM
    dns_lookup_realm = false
    dns_lookup_kdc = false
    rdns = false
    dns_canonicalize_hostname = false
    ignore_acceptor_hostname = true

[realms]
    $REALM = {
        kdc = 127.0.0.1
        admin_server = 127.0.0.1
    }

[domain_realm]
    .$DNS_DOMAIN = $REALM
    $DNS_DOMAIN = $REALM
EOF
    mv -f "$dir/krb5.conf.tmp" "$dir/krb5.conf"
}

provision() {
    local dir=$1 minor fl=()
    minor=$(samba_minor) || die "Samba is not installed; run: $0 install"
    rm -rf "$dir/samba" "$dir/provisioned" "$dir/passwords" "$dir/dc.env"
    make_certs "$dir"
    if [[ $minor -ge 419 ]]; then
        fl=(--function-level=2016 --option="ad dc functional level = 2016")
    fi
    log "provisioning $REALM into $dir/samba (Samba $(dpkg-query -W -f='${Version}' samba-ad-dc))"
    mkdir -p "$dir/samba"
    if ! samba-tool domain provision --targetdir="$dir/samba" \
        --realm="$REALM" --domain="$NETBIOS" --server-role=dc \
        --dns-backend=SAMBA_INTERNAL --host-name="$HOST" --host-ip=127.0.0.1 \
        "${fl[@]}" \
        --option="interfaces = 127.0.0.1/8" \
        --option="bind interfaces only = yes" \
        --option="disable netbios = yes" \
        --option="dns forwarder = 127.0.0.1" \
        --option="server services = rpc, ldap, cldap, kdc, dns" \
        --option="ldap server require strong auth = allow_sasl_over_tls" \
        --option="tls enabled = yes" \
        --option="tls keyfile = $dir/tls/server.key" \
        --option="tls certfile = $dir/tls/server.crt" \
        --option="tls cafile = $dir/tls/ca.crt" \
        --option="log file = $dir/samba.log" \
        --option="pid directory = $dir/samba/run" \
        >"$dir/provision.log" 2>&1; then
        tail -n 30 "$dir/provision.log" >&2
        die "provisioning failed (log: $dir/provision.log)"
    fi
    # The generated admin password is in that log: drop the log's password line.
    sed -i '/[Pp]assword/d' "$dir/provision.log"
    write_krb5_conf "$dir"

    # Principals for the tests, written straight into sam.ldb (no secret on argv).
    local sam=$dir/samba/private/sam.ldb admin_pw alice_pw bob_pw
    admin_pw=$(new_password) alice_pw=$(new_password) bob_pw=$(new_password)
    ldbmodify -H "$sam" >/dev/null <<EOF
dn: CN=Administrator,CN=Users,$BASE_DN
changetype: modify
replace: unicodePwd
unicodePwd:: $(unicode_pwd "$admin_pw")
EOF
    ldbadd -H "$sam" >/dev/null <<EOF
dn: CN=alice,CN=Users,$BASE_DN
objectClass: user
sAMAccountName: alice
userPrincipalName: alice@$DNS_DOMAIN
userAccountControl: 66048
unicodePwd:: $(unicode_pwd "$alice_pw")

dn: CN=bob,CN=Users,$BASE_DN
objectClass: user
sAMAccountName: bob
userPrincipalName: bob@$DNS_DOMAIN
userAccountControl: 66048
unicodePwd:: $(unicode_pwd "$bob_pw")

dn: CN=WebHosts,CN=Users,$BASE_DN
objectClass: group
sAMAccountName: WebHosts
member: CN=alice,CN=Users,$BASE_DN
EOF
    (
        umask 077
        printf 'ADMIN_PASSWORD=%q\nALICE_PASSWORD=%q\nBOB_PASSWORD=%q\n' "$admin_pw" "$alice_pw" "$bob_pw" >"$dir/passwords"
    )
    touch "$dir/provisioned"
}

# True when LDAPS on 127.0.0.1 answers rootDSE with our CA.
ldaps_ready() {
    local dir=$1
    local out
    out=$(LDAPTLS_CACERT=$dir/tls/ca.crt LDAPTLS_REQCERT=demand LDAPCONF=/dev/null \
        timeout 5 ldapsearch -LLL -x -H ldaps://127.0.0.1 -b '' -s base defaultNamingContext 2>/dev/null) || return 1
    [[ $out == *"defaultNamingContext: $BASE_DN"* ]]
}

# True when the KDC issues a ticket for Administrator.
kdc_ready() {
    local dir=$1 cc
    cc=$(mktemp)
    # shellcheck disable=SC1091
    (source "$dir/passwords" && printf '%s\n' "$ADMIN_PASSWORD" |
        KRB5_CONFIG=$dir/krb5.conf KRB5CCNAME=FILE:$cc timeout 10 kinit "Administrator@$REALM" >/dev/null 2>&1)
    local rc=$?
    rm -f "$cc"
    return $rc
}

# Starts samba and waits until LDAPS answers. Returns 1 when samba exits first (START_FAILURE
# says which) or after READY_TIMEOUT seconds.
start_samba() {
    local dir=$1 pid deadline=$((SECONDS + READY_TIMEOUT))
    : >"$dir/samba.out"
    (cd "$dir" && exec setsid samba -s "$dir/samba/etc/smb.conf" -M single --foreground --no-process-group \
        </dev/null >>"$dir/samba.out" 2>&1 8>&- 9>&-) &
    pid=$!
    printf '%s\n' "$pid" >"$dir/samba.pid"
    # Alive? (Not samba_pid: until the subshell has run `cd`, the child's working
    # directory is still ours, and on a busy machine the first check comes before that.)
    while pid_alive "$pid"; do
        if ldaps_ready "$dir"; then
            return 0
        fi
        if ((SECONDS >= deadline)); then
            START_FAILURE="samba did not become ready within ${READY_TIMEOUT}s"
            return 1
        fi
        sleep 0.25
    done
    START_FAILURE="samba exited before it became ready"
    return 1
}

# Prints the answers of the DC's DNS server on 127.0.0.1 to a query for NAME of TYPE.
dns_query() { # NAME TYPE
    dig +short +time=2 +tries=1 @127.0.0.1 "$1" "$2" 2>/dev/null
}

# True when the DC's DNS server answers with the records the tests need: the A record of
# dc1.gmsa.test (127.0.0.1) and the SRV records that point at it (LDAP and Kerberos).
dns_records_ok() {
    local a srv
    a=$(dns_query "$FQDN" A) && [[ $a == 127.0.0.1 ]] || return 1
    for srv in _ldap._tcp _kerberos._tcp _ldap._tcp.dc._msdcs; do
        [[ $(dns_query "$srv.$DNS_DOMAIN" SRV) == *" $FQDN." ]] || return 1
    done
}

# Writes the DC's own A record (dc1.gmsa.test -> 127.0.0.1) into the domain's DNS zone in
# sam.ldb, unless it is there. Provisioning does not add it for a loopback address, and the
# dnsupdate service that normally adds it is not run here; `samba-tool dns add` goes through
# the DNS RPC server, which this DC (Samba 4.22, `server services = rpc, ...`, one process)
# was measured not to serve at all ("transport-connection attempt was refused", for minutes).
# Written as the system session with Samba's own Python (no password involved).
add_a_record() {
    local dir=$1
    /usr/bin/python3 - "$dir/samba/etc/smb.conf" "$dir/samba/private/sam.ldb" "$HOST" "$DNS_DOMAIN" "$BASE_DN" <<'PYEOF'
import sys
import ldb
from samba.auth import system_session
from samba.dnsserver import ARecord
from samba.ndr import ndr_pack
from samba.param import LoadParm
from samba.samdb import SamDB

conf, sam, host, domain, base = sys.argv[1:]
lp = LoadParm()
lp.load(conf)
db = SamDB(url=sam, session_info=system_session(), lp=lp)
dn = "DC=%s,DC=%s,CN=MicrosoftDNS,DC=DomainDnsZones,%s" % (host, domain, base)
try:
    db.search(base=dn, scope=ldb.SCOPE_BASE, attrs=["dn"])
    sys.exit(0)
except ldb.LdbError as e:
    if e.args[0] != ldb.ERR_NO_SUCH_OBJECT:
        raise
msg = ldb.Message(ldb.Dn(db, dn))
msg["objectClass"] = ["top", "dnsNode"]
msg["dnsRecord"] = ldb.MessageElement([ndr_pack(ARecord("127.0.0.1"))], ldb.FLAG_MOD_ADD, "dnsRecord")
db.add(msg)
print("added")
PYEOF
}

# Makes sure the DNS server on 127.0.0.1 answers with the DC's records (its A record and the
# SRV records pointing at it), adding the A record when missing. On a first start the DNS
# server may answer a moment after LDAP: wait up to DNS_TIMEOUT seconds, then fail loudly.
DNS_TIMEOUT=60
ensure_dns_records() {
    local dir=$1 deadline=$((SECONDS + DNS_TIMEOUT)) out
    command -v dig >/dev/null || ensure_pkgs bind9-dnsutils
    dns_records_ok && return 0
    if ! out=$(add_a_record "$dir" 2>&1); then
        printf '%s\n' "$out" | tail -n 10 >&2
        log "writing the A record of $FQDN into $dir/samba/private/sam.ldb failed"
        return 1
    fi
    [[ $out == added ]] && log "added the A record of $FQDN (127.0.0.1)"
    until dns_records_ok; do
        if ((SECONDS >= deadline)); then
            log "DNS on 127.0.0.1 does not answer with the DC's records within ${DNS_TIMEOUT}s:"
            log "  $FQDN A: $(dns_query "$FQDN" A | tr '\n' ' ')"
            log "  _ldap._tcp.$DNS_DOMAIN SRV: $(dns_query "_ldap._tcp.$DNS_DOMAIN" SRV | tr '\n' ' ')"
            log "  _kerberos._tcp.$DNS_DOMAIN SRV: $(dns_query "_kerberos._tcp.$DNS_DOMAIN" SRV | tr '\n' ' ')"
            return 1
        fi
        sleep 0.5
    done
}

# One `export KEY='value'` line (single quotes, so that DNs keep their commas as is).
kv() { printf "export %s='%s'\n" "$1" "${2//\'/\'\\\'\'}"; }

write_env() {
    local dir=$1 version
    version=$(samba --version 2>/dev/null | awk '{print $2}')
    # shellcheck disable=SC1091
    source "$dir/passwords"
    (
        umask 077
        {
            kv GMSA_TEST_DC_DIR "$dir"
            kv GMSA_TEST_DC_SAMBA_VERSION "$version"
            kv GMSA_TEST_DC_LDAPS_URL "ldaps://127.0.0.1"
            kv GMSA_TEST_DC_LDAP_URL "ldap://127.0.0.1"
            kv GMSA_TEST_DC_HOSTNAME "$FQDN"
            kv GMSA_TEST_DC_CA "$dir/tls/ca.crt"
            kv GMSA_TEST_DC_OTHER_CA "$dir/tls/other-ca.crt"
            kv GMSA_TEST_DC_REALM "$REALM"
            kv GMSA_TEST_DC_DNS_DOMAIN "$DNS_DOMAIN"
            kv GMSA_TEST_DC_NETBIOS "$NETBIOS"
            kv GMSA_TEST_DC_BASE_DN "$BASE_DN"
            kv GMSA_TEST_DC_SAM_LDB "$dir/samba/private/sam.ldb"
            kv GMSA_TEST_DC_SMB_CONF "$dir/samba/etc/smb.conf"
            kv GMSA_TEST_DC_KRB5_CONFIG "$dir/krb5.conf"
            kv GMSA_TEST_DC_ADMIN_USER "Administrator@$DNS_DOMAIN"
            kv GMSA_TEST_DC_ADMIN_PASSWORD "$ADMIN_PASSWORD"
            kv GMSA_TEST_DC_ALICE_USER "alice@$DNS_DOMAIN"
            kv GMSA_TEST_DC_ALICE_PASSWORD "$ALICE_PASSWORD"
            kv GMSA_TEST_DC_BOB_USER "bob@$DNS_DOMAIN"
            kv GMSA_TEST_DC_BOB_PASSWORD "$BOB_PASSWORD"
            kv GMSA_TEST_DC_GROUP "WebHosts"
            kv GMSA_TEST_DC_DNS_SERVER "127.0.0.1"
        } >"$dir/dc.env.tmp"
    )
    mv -f "$dir/dc.env.tmp" "$dir/dc.env"
}

cmd_ensure() {
    local dir started
    dir=$(resolve_dir "${1:-}" "$(default_dir)")
    chmod 0700 "$dir"
    exec 9>"$dir/lock"
    flock 9
    if samba_pid "$dir" >/dev/null && [[ -f $dir/dc.env ]]; then
        # Running: wait out a slow answer (a busy machine) rather than restart a DC that
        # other test processes are using.
        local i
        for ((i = 0; i < 6; i++)); do
            if ldaps_ready "$dir"; then
                # A DC started by an older version of this script may lack the A record.
                ensure_dns_records "$dir" || die "the DC's DNS records are missing (above)"
                printf '%s\n' "$dir/dc.env"
                return 0
            fi
            samba_pid "$dir" >/dev/null || break
            sleep 1
        done
        log "the DC in $dir does not answer; restarting it"
    fi
    stop_samba "$dir" # leftovers of a crashed or half-started DC
    cmd_install
    for p in 389 636 88 53; do
        port_in_use "$p" && die "port $p is in use on this machine (another DC?); stop it first (scripts/test-dc.sh stop [DIR])"
    done
    started=$(date +%s.%N)
    [[ -f $dir/provisioned ]] || provision "$dir"
    # DCs provisioned by an older version of this script ran no DNS server.
    sed -i 's/^\(\s*server services = rpc, ldap, cldap, kdc\)$/\1, dns/' "$dir/samba/etc/smb.conf"
    log "starting samba on 127.0.0.1 (ldap 389, ldaps 636, kerberos 88, dns 53)"
    if ! start_samba "$dir"; then
        tail -n 40 "$dir/samba.out" >&2
        stop_samba "$dir"
        die "$START_FAILURE (log: $dir/samba.out)"
    fi
    if [[ ! -f $dir/spn-updated ]]; then
        # The DC's ldap/<fqdn> SPNs; normally added by the dnsupdate service.
        samba_spnupdate -s "$dir/samba/etc/smb.conf" >"$dir/spnupdate.log" 2>&1 ||
            log "warning: samba_spnupdate failed (log: $dir/spnupdate.log)"
        touch "$dir/spn-updated"
    fi
    if ! ensure_dns_records "$dir"; then
        stop_samba "$dir"
        die "the DC's DNS records are missing (above); the DC is stopped: run $0 ensure again, or stop --clean to re-provision"
    fi
    write_env "$dir"
    log "ready in $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s: $dir/dc.env"
    printf '%s\n' "$dir/dc.env"
}

cmd_stop() {
    local clean='' dir_arg='' dir
    while [[ $# -gt 0 ]]; do
        case $1 in
        --clean) clean=1 ;;
        -*) die "unknown option $1" ;;
        *) dir_arg=$1 ;;
        esac
        shift
    done
    dir=${dir_arg:-$(default_dir)}
    [[ -d $dir ]] || return 0
    dir=$(cd "$dir" && pwd)
    exec 9>"$dir/lock"
    flock 9
    stop_samba "$dir"
    if [[ -n $clean ]]; then
        log "removing $dir"
        rm -rf "$dir"
    fi
}

cmd_env() {
    local dir=${1:-$(default_dir)}
    [[ -f $dir/dc.env ]] || die "no DC in $dir; run: $0 ensure"
    dir=$(cd "$dir" && pwd)
    samba_pid "$dir" >/dev/null || log "warning: the DC in $dir is not running; run: $0 ensure"
    cat "$dir/dc.env"
}

main() {
    [[ $# -ge 1 ]] || usage
    local cmd=$1
    shift
    case $cmd in
    install) [[ $# -eq 0 ]] || usage; cmd_install ;;
    install-build-deps) [[ $# -eq 0 ]] || usage; install_build_deps ;;
    ensure | start) [[ $# -le 1 ]] || usage; cmd_ensure "$@" ;;
    stop) cmd_stop "$@" ;;
    env) [[ $# -le 1 ]] || usage; cmd_env "$@" ;;
    -h | --help | help) usage ;;
    *) usage ;;
    esac
}

main "$@"
