//! The in-container checks of `doctor --exec`: the commands Microsoft's troubleshooting page
//! has users run in a Windows container (`nltest /parentdomain`, `nltest /sc_verify`,
//! `klist get krbtgt`, an SRV lookup, `whoami`), and the reading of their output: every known
//! outcome mapped to its cause and fix. Pure; tested on outputs from the public documentation
//! and issue reports, since no Windows node runs here.

use super::report::Verdict;

/// One command to run in the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The check's identifier.
    pub check: &'static str,
    pub command: Vec<String>,
}

/// The commands, for the spec's domain.
pub fn probes(domain: &str) -> Vec<Probe> {
    let p = |check, c: &[&str]| Probe {
        check,
        command: c.iter().map(|s| s.to_string()).collect(),
    };
    vec![
        p("parent-domain", &["nltest", "/parentdomain"]),
        p(
            "secure-channel",
            &["nltest", &format!("/sc_verify:{domain}")],
        ),
        p("kerberos-ticket", &["klist", "get", "krbtgt"]),
        p(
            "srv-lookup",
            &[
                "nslookup",
                "-type=SRV",
                &format!("_ldap._tcp.dc._msdcs.{domain}"),
            ],
        ),
        p("identity", &["whoami"]),
    ]
}

/// What one probe's output means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub status: Verdict,
    pub message: String,
    pub fix: Option<String>,
}

fn reading(status: Verdict, message: impl Into<String>, fix: Option<&str>) -> Reading {
    Reading {
        status,
        message: message.into(),
        fix: fix.map(str::to_owned),
    }
}

/// The first `Status = <code> 0x<hex> <NAME>` of nltest's output that is not success, else
/// the last success; `None` when there is none.
pub fn nltest_status(out: &str) -> Option<(u32, String)> {
    let mut found = vec![];
    for line in out.lines() {
        let mut rest = line;
        while let Some(i) = rest.find("Status = ") {
            rest = &rest[i + 9..];
            let mut words = rest.split_whitespace();
            let code = words.next().and_then(|c| c.parse::<u32>().ok());
            let _hex = words.next();
            let name = words.next().unwrap_or_default().to_owned();
            if let Some(c) = code {
                found.push((c, name));
            }
        }
    }
    found
        .iter()
        .find(|(c, _)| *c != 0)
        .or(found.last())
        .cloned()
}

/// The cause and fix of an nltest status code (the troubleshooting page's cases).
pub fn nltest_cause(code: u32, name: &str, domain: &str) -> Reading {
    let dns_fix = "check the pod's DNS (doctor's dns and srv-records checks); the domain's SRV records must resolve inside the container";
    match code {
        0 => reading(Verdict::Pass, format!("{name}: the container has a working secure channel to a DC of {domain}"), None),
        1722 => reading(Verdict::Fail, format!("{code} {name}: the container cannot reach a domain controller (RPC server unavailable): a firewall between the node and the DC, or DNS names an unreachable DC"), Some("open TCP 135, 389, 445, 88, 53 and 49152-65535 from the Windows nodes to the DCs; check the dc-ports and dns checks")),
        1311 => reading(Verdict::Fail, format!("{code} {name}: no logon server answered: the container does not find a DC of {domain} through DNS"), Some(dns_fix)),
        1355 => reading(Verdict::Fail, format!("{code} {name}: the container does not know the domain {domain}: no credential spec in effect, or its DnsName is wrong"), Some("check the workload's inlined-contents check and the spec's DnsName (doctor credspec/<name> --server <dc>)")),
        1786 => reading(Verdict::Fail, format!("{code} {name}: the container has no domain identity: the credential spec was not applied to it"), Some("check the workload's inlined-contents and service-account-may-use checks; re-create the pod")),
        1787 => reading(Verdict::Fail, format!("{code} {name}: the DC has no account for the identity the container presents: the spec names a gMSA that does not exist here, or the host could not retrieve its password"), Some("doctor credspec/<name> --server <dc>: check exists, allowed-principals and, for ccg plug-ins, plugin-account")),
        1244 => reading(Verdict::Fail, format!("{code} {name}: not authenticated: the process does not act as the gMSA"), Some("run the app as Network Service or Local System (runAsUserName), and check the credential spec was applied")),
        5 => reading(Verdict::Warn, format!("{code} {name}: nltest needs an administrator in the container"), Some("exec as ContainerAdministrator (the default user of Windows images)")),
        _ => reading(Verdict::Fail, format!("{code} {name}"), Some("look the code up with `net helpmsg <code>`; doctor's directory checks cover the usual causes")),
    }
}

/// Read one probe's output.
pub fn interpret(check: &str, out: &str, domain: &str, account: &str) -> Reading {
    let lower = out.to_ascii_lowercase();
    if lower.contains("is not recognized as an internal or external command")
        || lower.contains("executable file not found")
    {
        return reading(
            Verdict::Skipped,
            format!("{check}: the command is not in this image"),
            None,
        );
    }
    if lower.contains("not authenticated") && !lower.contains("nerr_success") {
        return nltest_cause(1244, "ERROR_NOT_AUTHENTICATED", domain);
    }
    match check {
        "parent-domain" => {
            if let Some((code, name)) = nltest_status(out).filter(|(c, _)| *c != 0) {
                return nltest_cause(code, &name, domain);
            }
            let first = out
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or_default();
            let parent = first
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .trim_end_matches('.');
            if parent.eq_ignore_ascii_case(domain) {
                reading(Verdict::Pass, format!("parent domain {parent}"), None)
            } else if parent.is_empty() {
                reading(
                    Verdict::Fail,
                    "nltest printed no parent domain",
                    Some("check the credential spec was applied (inlined-contents)"),
                )
            } else {
                reading(Verdict::Fail, format!("parent domain {parent}, the spec says {domain}"), Some("the spec's DnsName must be the gMSA's domain: regenerate it with kubectl gmsa new-credspec"))
            }
        }
        "secure-channel" => match nltest_status(out) {
            Some((code, name)) => nltest_cause(code, &name, domain),
            None => reading(
                Verdict::Fail,
                format!("no status in nltest's output: {}", first_line(out)),
                None,
            ),
        },
        "kerberos-ticket" => {
            if lower.contains("a ticket to krbtgt has been retrieved successfully")
                || lower.contains("server: krbtgt/")
            {
                let client = out
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("#0>").map(str::trim))
                    .or_else(|| {
                        out.lines()
                            .find_map(|l| l.trim().strip_prefix("Client:").map(str::trim))
                    })
                    .unwrap_or_default();
                let client = client.trim_start_matches("Client:").trim();
                let want = format!("{}$", account.to_ascii_lowercase());
                if client.is_empty() || client.to_ascii_lowercase().starts_with(&want) {
                    reading(
                        Verdict::Pass,
                        format!(
                            "a ticket to krbtgt was retrieved{}",
                            if client.is_empty() {
                                String::new()
                            } else {
                                format!(" for {client}")
                            }
                        ),
                        None,
                    )
                } else {
                    reading(Verdict::Fail, format!("a ticket was retrieved for {client}, not for {account}$"), Some("the container runs as another account: check the credential spec the pod carries"))
                }
            } else if lower.contains("0xc000018b") {
                reading(Verdict::Fail, format!("0xc000018b STATUS_NO_TRUST_SAM_ACCOUNT: the DC has no account for the container's identity ({})", first_line(out)), Some("the spec names a gMSA missing from the domain, or the host may not retrieve its password: doctor credspec/<name> --server <dc>"))
            } else if lower.contains("0x51f") || lower.contains("1311") {
                nltest_cause(1311, "ERROR_NO_LOGON_SERVERS", domain)
            } else {
                reading(
                    Verdict::Fail,
                    format!("no ticket to krbtgt: {}", first_line(out)),
                    Some("the container is not authenticated to the domain; see secure-channel"),
                )
            }
        }
        "srv-lookup" => {
            let records = out
                .lines()
                .filter(|l| l.contains("svr hostname") || l.contains("service ="))
                .count();
            if records > 0 {
                reading(
                    Verdict::Pass,
                    format!("{records} SRV record(s) for the domain's DCs"),
                    None,
                )
            } else {
                reading(Verdict::Fail, format!("the container's DNS does not resolve _ldap._tcp.dc._msdcs.{domain}: {}", first_line(out)), Some("give the pods a DNS server that knows the domain (a CoreDNS forward zone, or dnsConfig)"))
            }
        }
        "identity" => {
            let who = first_line(out).to_ascii_lowercase();
            if who == "nt authority\\system" || who == "nt authority\\network service" {
                reading(
                    Verdict::Pass,
                    format!("runs as {who}: acts as the gMSA on the network"),
                    None,
                )
            } else if who.is_empty() {
                reading(Verdict::Fail, "whoami printed nothing", None)
            } else {
                reading(Verdict::Warn, format!("commands run as {who}; only services running as Local System or Network Service act as the gMSA"), Some("run the app's service or IIS app pool as Network Service (or set runAsUserName)"))
            }
        }
        _ => reading(Verdict::Skipped, format!("unknown probe {check}"), None),
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Outputs as printed in Microsoft's "Troubleshoot gMSAs for Windows containers" and
    // "Run a container with a gMSA" pages, and in public issue reports (kubernetes-sigs/
    // windows-gmsa, microsoft/Windows-Containers); account and domain names as there.
    const SC_VERIFY_OK: &str = "Flags: b0 HAS_IP  HAS_TIMESERV\r\nTrusted DC Name \\\\dc10.contoso.com\r\nTrusted DC Connection Status Status = 0 0x0 NERR_Success\r\nTrust Verification Status = 0 0x0 NERR_Success\r\nThe command completed successfully\r\n";
    const SC_VERIFY_1722: &str =
        "I_NetLogonControl failed: Status = 1722 0x6ba RPC_S_SERVER_UNAVAILABLE\r\n";
    const SC_VERIFY_1311: &str = "Flags: 0\r\nTrusted DC Name\r\nTrusted DC Connection Status Status = 1311 0x51f ERROR_NO_LOGON_SERVERS\r\nTrust Verification Status = 1311 0x51f ERROR_NO_LOGON_SERVERS\r\nThe command completed successfully\r\n";
    const SC_VERIFY_1787: &str = "Flags: 0\r\nTrusted DC Name\r\nTrusted DC Connection Status Status = 1787 0x6fb ERROR_NO_TRUST_SAM_ACCOUNT\r\nTrust Verification Status = 1787 0x6fb ERROR_NO_TRUST_SAM_ACCOUNT\r\nThe command completed successfully\r\n";
    const PARENT_OK: &str = "contoso.com. (1)\r\nThe command completed successfully\r\n";
    const PARENT_FAIL: &str =
        "Getting parent domain failed: Status = 1722 0x6ba RPC_S_SERVER_UNAVAILABLE\r\n";
    const KLIST_OK: &str = "\r\nCurrent LogonId is 0:0xaa79ef8\r\nA ticket to krbtgt has been retrieved successfully.\r\n\r\nCached Tickets: (2)\r\n\r\n#0>     Client: webapp01$ @ CONTOSO.COM\r\n        Server: krbtgt/webapp01 @ CONTOSO.COM\r\n        KerbTicket Encryption Type: AES-256-CTS-HMAC-SHA1-96\r\n";
    const KLIST_SAM: &str = "\r\nCurrent LogonId is 0:0x3e7\r\nError calling API LsaCallAuthenticationPackage (GetTicket substatus): 0x6fb\r\n\r\nklist failed with 0xc000018b/-1073741429: The SAM database on the Windows Server does not have a computer account for this workstation trust relationship.\r\n";
    const NSLOOKUP_OK: &str = "Server:  UnKnown\r\nAddress:  10.0.0.10\r\n\r\n_ldap._tcp.dc._msdcs.contoso.com        SRV service location:\r\n          priority       = 0\r\n          weight         = 100\r\n          port           = 389\r\n          svr hostname   = dc10.contoso.com\r\n";
    const NSLOOKUP_FAIL: &str = "Server:  UnKnown\r\nAddress:  10.0.0.10\r\n\r\n*** UnKnown can't find _ldap._tcp.dc._msdcs.contoso.com: Non-existent domain\r\n";

    #[test]
    fn nltest_outcomes() {
        assert_eq!(
            nltest_status(SC_VERIFY_OK),
            Some((0, "NERR_Success".into()))
        );
        let ok = interpret("secure-channel", SC_VERIFY_OK, "contoso.com", "webapp01");
        assert_eq!(ok.status, Verdict::Pass);
        for (out, code) in [
            (SC_VERIFY_1722, "1722"),
            (SC_VERIFY_1311, "1311"),
            (SC_VERIFY_1787, "1787"),
        ] {
            let r = interpret("secure-channel", out, "contoso.com", "webapp01");
            assert_eq!(r.status, Verdict::Fail, "{out}");
            assert!(r.message.starts_with(code), "{}", r.message);
            assert!(r.fix.is_some());
        }
        assert!(
            interpret("secure-channel", SC_VERIFY_1311, "contoso.com", "w")
                .message
                .contains("DNS")
        );
        assert!(
            interpret("secure-channel", SC_VERIFY_1787, "contoso.com", "w")
                .fix
                .unwrap()
                .contains("allowed-principals")
        );
        let not_auth = interpret(
            "secure-channel",
            "The user has not been authenticated. (not authenticated)",
            "contoso.com",
            "w",
        );
        assert!(
            not_auth.message.contains("not authenticated"),
            "{}",
            not_auth.message
        );
    }

    #[test]
    fn parent_domain_klist_srv_and_identity() {
        assert_eq!(
            interpret("parent-domain", PARENT_OK, "contoso.com", "webapp01").status,
            Verdict::Pass
        );
        assert_eq!(
            interpret("parent-domain", PARENT_OK, "fabrikam.com", "webapp01").status,
            Verdict::Fail
        );
        assert!(interpret("parent-domain", PARENT_FAIL, "contoso.com", "w")
            .message
            .starts_with("1722"));
        let k = interpret("kerberos-ticket", KLIST_OK, "contoso.com", "webapp01");
        assert_eq!(k.status, Verdict::Pass, "{k:?}");
        assert!(k.message.contains("webapp01$"));
        assert_eq!(
            interpret("kerberos-ticket", KLIST_OK, "contoso.com", "other").status,
            Verdict::Fail
        );
        let sam = interpret("kerberos-ticket", KLIST_SAM, "contoso.com", "webapp01");
        assert!(sam.message.contains("0xc000018b"), "{}", sam.message);
        assert_eq!(
            interpret("srv-lookup", NSLOOKUP_OK, "contoso.com", "w").status,
            Verdict::Pass
        );
        assert_eq!(
            interpret("srv-lookup", NSLOOKUP_FAIL, "contoso.com", "w").status,
            Verdict::Fail
        );
        assert_eq!(
            interpret("identity", "nt authority\\network service\r\n", "c", "w").status,
            Verdict::Pass
        );
        assert_eq!(
            interpret("identity", "user manager\\containeruser\r\n", "c", "w").status,
            Verdict::Warn
        );
        assert_eq!(
            interpret(
                "identity",
                "'whoami' is not recognized as an internal or external command,",
                "c",
                "w"
            )
            .status,
            Verdict::Skipped
        );
        assert_eq!(
            probes("contoso.com")[1].command,
            vec!["nltest", "/sc_verify:contoso.com"]
        );
    }
}
