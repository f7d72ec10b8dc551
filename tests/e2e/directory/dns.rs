//! Finding the domain controller through DNS: `--domain` alone follows the SRV records
//! (asked of the DC's own DNS server, or of the tests' DNS server that truncates over UDP),
//! refuses a DNS server that is not an address, and needs nothing from /etc/hosts or the
//! machine's resolver; the wizard's `--dns-server` is asked too.

use super::*;

/// A gMSA of the test's own, and its credential spec read as bob from the DC the flags name
/// (what `--domain` must find too).
fn gmsa_and_its_spec(prefix: &str) -> (String, gmsa_tests::Run) {
    let name = unique_account(prefix);
    samba_gmsa(&name);
    let by_server = on_dc(&["new-credspec", "--account", &name], Some(dc().bob()));
    by_server.ok();
    (name, by_server)
}

/// `--domain` alone: the DC comes from the SRV records `_ldap._tcp.dc._msdcs.<domain>`
/// (asked of the DC's own DNS server on 127.0.0.1), and TLS and Kerberos use its name.
#[test]
fn domain_alone_finds_the_dc_through_dns_srv_records() {
    let d = dc();
    let (name, by_server) = gmsa_and_its_spec("sr");
    let domain = d.var("GMSA_TEST_DC_DNS_DOMAIN");
    // Simple bind: StartTLS to dc1.gmsa.test, verified against the certificate's DNS name.
    let r = gmsa_dc(
        &[
            "new-credspec",
            "--account",
            &name,
            "--domain",
            domain,
            "--ca-file",
            d.ca(),
        ],
        Some(d.bob()),
    );
    r.ok();
    assert_eq!(r.stdout, by_server.stdout);
    // Kerberos: ldap/dc1.gmsa.test from the SRV target.
    let (_keep, cache) = gmsa_tests::dc::kinit(d.bob());
    let r = gmsa_tests::dc::gmsa_krb(
        &["new-credspec", "--account", &name, "--domain", domain],
        &cache,
    );
    r.ok();
    assert_eq!(r.stdout, by_server.stdout);
    // A domain with no DC: not found, and it says where it looked.
    let r = gmsa_dc(
        &[
            "new-credspec",
            "--account",
            &name,
            "--domain",
            "nodc.gmsa.test",
        ],
        Some(d.bob()),
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    r.stderr_has("_ldap._tcp.dc._msdcs.nodc.gmsa.test");
}

/// A domain with many DCs: its SRV answer does not fit in UDP, so the DNS server sends it
/// truncated (TC bit) and it must be asked again over TCP. `--dns-server` (our own server on
/// loopback) wins over `$GMSA_DNS_SERVER`, and every DC's address comes from that server: the
/// best DC has no A record there, so it is passed over (never looked up elsewhere), and the
/// next one, dc1 at 127.0.0.1, is the real Samba DC.
#[test]
fn srv_answers_truncated_over_udp_are_asked_again_over_tcp() {
    use gmsa_tests::dns::{Srv, TestDns, Zone, TYPE_A, TYPE_SRV};
    let d = dc();
    let (name, by_server) = gmsa_and_its_spec("tc");
    let domain = d.var("GMSA_TEST_DC_DNS_DOMAIN");
    let host = d.var("GMSA_TEST_DC_HOSTNAME").to_lowercase();
    let owner = format!("_ldap._tcp.dc._msdcs.{domain}");
    let gone = format!("gone.{domain}");
    let srv = |priority, weight, target: &str| Srv {
        owner: owner.clone(),
        priority,
        weight,
        port: 389,
        target: target.to_owned(),
    };
    let dns = TestDns::start(Zone {
        srv: vec![
            srv(10, 100, &format!("far.{domain}")),
            srv(0, 50, &host),
            srv(0, 100, &gone),
        ],
        a: vec![
            (host.clone(), std::net::Ipv4Addr::LOCALHOST),
            // Never reached: a worse priority than dc1.
            (
                format!("far.{domain}"),
                std::net::Ipv4Addr::new(127, 0, 0, 9),
            ),
        ],
        truncate_srv_over_udp: true,
        glue: false,
    });
    let at = dns.addr.to_string();
    let r = gmsa_dc(
        &[
            "new-credspec",
            "--account",
            &name,
            "--domain",
            domain,
            "--ca-file",
            d.ca(),
            "--dns-server",
            &at,
        ],
        Some(d.bob()),
    );
    r.ok();
    assert_eq!(r.stdout, by_server.stdout);
    let asked = dns.asked();
    let srv_over = |tcp: bool| {
        asked
            .iter()
            .filter(|q| q.qtype == TYPE_SRV && q.name == owner && q.tcp == tcp)
            .collect::<Vec<_>>()
    };
    assert!(
        srv_over(false).iter().all(|q| q.truncated) && !srv_over(false).is_empty(),
        "the SRV question over UDP got a truncated answer: {asked:?}"
    );
    assert!(
        srv_over(true).iter().any(|q| !q.truncated),
        "the SRV question was asked again over TCP: {asked:?}"
    );
    for target in [&host, &gone] {
        assert!(
            asked.iter().any(|q| q.qtype == TYPE_A && &q.name == target),
            "the address of {target} was asked of our DNS server: {asked:?}"
        );
    }

    // Only gone.<domain>, with no address at that server: a clear error naming it.
    let dns = TestDns::start(Zone {
        srv: vec![srv(0, 100, &gone)],
        truncate_srv_over_udp: true,
        ..Default::default()
    });
    let r = gmsa_dc(
        &[
            "new-credspec",
            "--account",
            &name,
            "--domain",
            domain,
            "--dns-server",
            &dns.addr.to_string(),
        ],
        Some(d.bob()),
    );
    r.fails();
    r.stderr_has(&format!("{gone}: no A or AAAA record"));
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

/// `--dns-server` that is not an IP address: refused before anything is asked.
#[test]
fn a_dns_server_that_is_not_an_ip_address_is_refused() {
    let d = dc();
    for bad in ["dc1.gmsa.test", "127.0.0.1:0"] {
        let r = gmsa_dc(
            &[
                "new-credspec",
                "--account",
                "whatever",
                "--domain",
                d.var("GMSA_TEST_DC_DNS_DOMAIN"),
                "--dns-server",
                bad,
            ],
            Some(d.bob()),
        );
        r.fails();
        r.stderr_has(&format!("invalid DNS server \"{bad}\""));
        r.stderr_has("IP:PORT");
    }
}

/// The SRV test with nothing about the test domain in /etc/hosts or the machine's resolver:
/// in a mount namespace whose /etc/hosts has only localhost and whose resolv.conf names a
/// loopback address where nothing answers, the DC's SRV record and its A record both come
/// from the DC's own DNS server ($GMSA_DNS_SERVER), for a simple bind and for Kerberos.
#[test]
fn domain_alone_needs_nothing_from_etc_hosts_or_the_machines_resolver() {
    let d = dc();
    let (name, by_server) = gmsa_and_its_spec("ph");
    let domain = d.var("GMSA_TEST_DC_DNS_DOMAIN");
    let host = d.var("GMSA_TEST_DC_HOSTNAME").to_lowercase();
    let run = |cmd: &mut std::process::Command| {
        let o = cmd
            .env("NO_COLOR", "1")
            .env("GMSA_DNS_SERVER", d.var("GMSA_TEST_DC_DNS_SERVER"))
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run unshare");
        gmsa_tests::Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    };
    // The namespace really knows nothing of the DC's name.
    let (_dir, mut cmd) = gmsa_tests::dns::with_pristine_resolver(std::path::Path::new("getent"));
    let r = run(cmd.args(["hosts", &host]));
    assert_ne!(r.code, 0, "{host} resolves without our DNS: {}", r.stdout);

    let (_dir, mut cmd) = gmsa_tests::dns::with_pristine_resolver(&gmsa_tests::bin());
    cmd.args(["new-credspec", "--account", &name, "--domain", domain])
        .args(["--ca-file", d.ca(), "--user", d.bob().user])
        .env("GMSA_LDAP_PASSWORD", d.bob().password);
    let r = run(&mut cmd);
    r.ok();
    assert_eq!(r.stdout, by_server.stdout);

    let (_keep, cache) = gmsa_tests::dc::kinit(d.bob());
    let (_dir, mut cmd) = gmsa_tests::dns::with_pristine_resolver(&gmsa_tests::bin());
    cmd.args(["new-credspec", "--account", &name, "--domain", domain])
        .env_remove("GMSA_LDAP_PASSWORD")
        .env("KRB5_CONFIG", d.var("GMSA_TEST_DC_KRB5_CONFIG"))
        .env("KRB5CCNAME", &cache);
    let r = run(&mut cmd);
    r.ok();
    assert_eq!(r.stdout, by_server.stdout);
}

/// The wizard's `--dns-server` (its directory flags are new-credspec's): the DCs of
/// `--domain` come from the DNS server it names (ours, on loopback, which wins over
/// `$GMSA_DNS_SERVER`), and the printed equivalent commands carry the flag.
#[test]
fn the_wizard_asks_the_dns_server_it_is_given() {
    use gmsa_tests::dns::{Srv, TestDns, Zone, TYPE_SRV};
    let (_rt, ns) = gmsa_tests::wizard::namespace_with_app();
    let d = dc();
    let (name, _) = gmsa_and_its_spec("wd");
    let domain = d.var("GMSA_TEST_DC_DNS_DOMAIN");
    let host = d.var("GMSA_TEST_DC_HOSTNAME").to_lowercase();
    let owner = format!("_ldap._tcp.dc._msdcs.{domain}");
    let dns = TestDns::start(Zone {
        srv: vec![Srv {
            owner: owner.clone(),
            priority: 0,
            weight: 100,
            port: 389,
            target: host.clone(),
        }],
        a: vec![(host, std::net::Ipv4Addr::LOCALHOST)],
        ..Default::default()
    });
    let at = dns.addr.to_string();
    let credspec = gmsa_tests::unique("wd");
    let kubeconfig = gmsa_tests::cluster().kubeconfig.display().to_string();
    let r = gmsa_dc(
        &[
            "--kubeconfig",
            &kubeconfig,
            "wizard",
            "--yes",
            "-n",
            &ns,
            "--service-account",
            "app",
            "--account",
            &name,
            "--domain",
            domain,
            "--dns-server",
            &at,
            "--ca-file",
            d.ca(),
            "--credspec-name",
            &credspec,
        ],
        Some(d.bob()),
    );
    r.ok();
    r.stdout_has(&format!("--dns-server {at}"));
    r.stdout_has(&format!(
        "gmsacredentialspec.windows.k8s.io/{credspec} created"
    ));
    assert!(
        dns.asked()
            .iter()
            .any(|q| q.qtype == TYPE_SRV && q.name == owner),
        "the wizard asked our DNS server for {owner}: {:?}",
        dns.asked()
    );
}
