//! The directory layer, for each credential spec: everything `check-account` checks for its
//! gMSA, the spec's DomainJoinConfig against Active Directory (saying when a wrong Sid is the
//! gMSA's own), encryption types, the ccg plug-in's account when named, the DCs' SRV records
//! over UDP and TCP, and the DC's ports reachable from here.

use std::time::Duration;

use ldap3::Scope;

use super::report::{Check, Layer};
use super::scope::CredspecObject;
use crate::credspec::CredentialSpec;
use crate::directory::codec::{filetime_to_unix, sid_to_string};
use crate::directory::domain::{self, DomainFacts, UAC_ACCOUNTDISABLE};
use crate::directory::{dns, Directory, DirectoryTarget};
use crate::error::Result;
use crate::ops::{check_account, CheckAccountRequest, CheckStatus};
use crate::progress::Silent;

const D: Layer = Layer::Directory;
/// Ports a Windows host needs to reach a DC for gMSA (DNS, Kerberos, LDAP) and ports that
/// are only needed for some paths (LDAPS; SMB for `nltest /sc_verify` and Group Policy).
const REQUIRED_PORTS: [(u16, &str); 3] = [(53, "DNS"), (88, "Kerberos"), (389, "LDAP")];
const OTHER_PORTS: [(u16, &str); 2] = [(636, "LDAPS"), (445, "SMB")];

/// Every directory check of one credential spec.
pub async fn checks(
    target: &DirectoryTarget,
    c: &CredspecObject,
    plugin_account: Option<&str>,
) -> Vec<Check> {
    let Some(spec) = c.spec.as_ref() else {
        return vec![Check::skipped(
            D,
            "directory",
            &format!("credspec/{}", c.name),
            "the spec's contents do not parse; see credspec-lint",
        )];
    };
    let mut target = target.clone();
    if target.server.is_none() && target.domain.is_none() {
        target.domain = Some(spec.domain_join_config.dns_name.clone());
    }
    let account = spec.account().to_owned();
    let req = CheckAccountRequest {
        directory: target.clone(),
        account: account.clone(),
    };
    let (acct, facts, srv, ports) = tokio::join!(
        check_account(&req, &Silent),
        spec_against_ad(&target, spec, &c.name, plugin_account),
        srv_records(
            &spec.domain_join_config.dns_name,
            target.dns_server.as_deref()
        ),
        dc_ports(&target),
    );
    let subject = format!("gmsa/{account}");
    let mut out = vec![];
    match acct {
        Ok(o) => out.extend(o.checks.into_iter().map(|k| Check {
            layer: D,
            check: k.check,
            subject: subject.clone(),
            status: match k.status {
                CheckStatus::Pass => super::Verdict::Pass,
                CheckStatus::Warn => super::Verdict::Warn,
                CheckStatus::Fail => super::Verdict::Fail,
            },
            message: k.message,
            fix: k.fix,
        })),
        Err(e) => out.push(Check::fail(
            D,
            "directory-reachable",
            &subject,
            format!("could not check the gMSA: {e}"),
            e.hint
                .clone()
                .unwrap_or_else(|| "check --server, --user and the password".into()),
        )),
    }
    match facts {
        Ok(v) => out.extend(v),
        Err(e) => out.push(Check::fail(
            D,
            "domain-join-config",
            &format!("credspec/{}", c.name),
            format!("could not read the domain: {e}"),
            e.hint.clone().unwrap_or_default(),
        )),
    }
    out.extend(srv);
    out.extend(ports);
    out
}

/// The spec's DomainJoinConfig field by field against AD, encryption types, and the plug-in
/// account, over one connection.
async fn spec_against_ad(
    target: &DirectoryTarget,
    spec: &CredentialSpec,
    name: &str,
    plugin_account: Option<&str>,
) -> Result<Vec<Check>> {
    let mut dir = Directory::connect(target).await?;
    let facts = domain::domain_facts(&mut dir).await?;
    let account = spec.account();
    let found = domain::find_accounts(&mut dir, &facts.dn, &[account]).await?;
    let gmsa = domain::the_gmsa(&found, account, &dir.server).ok().cloned();
    let mut out = domain_join_checks(spec, &facts, gmsa.as_ref().map(|g| g.sid.as_str()), name);
    if let Some(g) = &gmsa {
        let own = dir
            .search(
                &g.dn,
                Scope::Base,
                "(objectClass=*)",
                &["msDS-SupportedEncryptionTypes"],
            )
            .await?;
        let gmsa_types = own
            .first()
            .and_then(|e| e.int("msDS-SupportedEncryptionTypes"));
        let dc = dir
            .search(
                &facts.dn,
                Scope::Subtree,
                &format!(
                    "(&(objectClass=computer)(dNSHostName={}))",
                    crate::directory::codec::filter_str(&dir.root.dns_host_name)
                ),
                &["msDS-SupportedEncryptionTypes"],
            )
            .await?;
        let dc_types = dc
            .first()
            .and_then(|e| e.int("msDS-SupportedEncryptionTypes"));
        out.push(encryption_check(
            &format!("gmsa/{account}"),
            gmsa_types,
            dc_types,
        ));
        match plugin_account {
            Some(user) => out.push(plugin_account_check(&mut dir, &facts, user, &g.allowed_sids, account).await?),
            None if spec.active_directory_config.host_account_config.is_some() => out.push(Check::skipped(
                D,
                "plugin-account",
                &format!("gmsa/{account}"),
                "the ccg plug-in's domain user was not named: pass --plugin-account <user> to check it may read the password (the doctor never reads the plug-in Secret's values)",
            )),
            None => {}
        }
    }
    let _ = dir.close().await;
    Ok(out)
}

/// DomainJoinConfig against the domain's facts; `gmsa_sid` names the copy mistake of
/// putting the gMSA's own SID in `Sid`.
pub fn domain_join_checks(
    spec: &CredentialSpec,
    f: &DomainFacts,
    gmsa_sid: Option<&str>,
    name: &str,
) -> Vec<Check> {
    let d = &spec.domain_join_config;
    let subject = format!("credspec/{name}");
    let regenerate = format!("kubectl gmsa new-credspec --account {} --server <dc> -o resource | kubectl apply -f - (or set DomainJoinConfig.", d.machine_account_name);
    let field = |id: &str, key: &str, have: &str, want: &str, case_insensitive: bool| {
        let same = if case_insensitive {
            have.eq_ignore_ascii_case(want)
        } else {
            have == want
        };
        if same {
            Check::pass(
                D,
                id,
                &subject,
                format!("DomainJoinConfig.{key} {have} matches the domain"),
            )
        } else {
            Check::fail(
                D,
                id,
                &subject,
                format!("DomainJoinConfig.{key} is {have}, the domain's is {want}"),
                format!("{regenerate}{key} to {want})"),
            )
        }
    };
    let mut out = vec![];
    out.push(if d.sid == f.sid {
        Check::pass(D, "domain-sid", &subject, format!("DomainJoinConfig.Sid {} is the domain's", d.sid))
    } else if gmsa_sid == Some(d.sid.as_str()) {
        Check::fail(
            D,
            "domain-sid",
            &subject,
            format!("DomainJoinConfig.Sid {} is the gMSA's own SID, not the domain's {} (a common copy mistake)", d.sid, f.sid),
            format!("{regenerate}Sid to {})", f.sid),
        )
    } else {
        Check::fail(D, "domain-sid", &subject, format!("DomainJoinConfig.Sid is {}, the domain's is {}", d.sid, f.sid), format!("{regenerate}Sid to {})", f.sid))
    });
    out.push(field(
        "domain-guid",
        "Guid",
        &d.guid.trim_matches(['{', '}']).to_ascii_lowercase(),
        &f.guid,
        true,
    ));
    out.push(field("dns-name", "DnsName", &d.dns_name, &f.dns_name, true));
    out.push(field(
        "dns-tree-name",
        "DnsTreeName",
        &d.dns_tree_name,
        &f.forest_dns_name,
        true,
    ));
    out.push(field(
        "netbios-name",
        "NetBiosName",
        &d.net_bios_name,
        &f.netbios_name,
        true,
    ));
    out
}

/// The gMSA's msDS-SupportedEncryptionTypes against the DC's (bits: 0x4 RC4, 0x8 AES128,
/// 0x10 AES256; DES 0x1/0x2). Unset means the domain's defaults.
pub fn encryption_check(subject: &str, gmsa: Option<i64>, dc: Option<i64>) -> Check {
    let names = |t: i64| {
        let mut v = vec![];
        for (bit, n) in [
            (0x1, "DES-CBC-CRC"),
            (0x2, "DES-CBC-MD5"),
            (0x4, "RC4"),
            (0x8, "AES128"),
            (0x10, "AES256"),
        ] {
            if t & bit != 0 {
                v.push(n);
            }
        }
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(", ")
        }
    };
    let Some(g) = gmsa.filter(|g| *g != 0) else {
        return Check::pass(
            D,
            "encryption-types",
            subject,
            "msDS-SupportedEncryptionTypes not set: the domain's defaults apply",
        );
    };
    let dc = dc.filter(|d| *d != 0).unwrap_or(0x1C);
    let fix = "Set-ADServiceAccount <gMSA> -KerberosEncryptionType AES128,AES256";
    if g & dc & 0x1F == 0 {
        Check::fail(
            D,
            "encryption-types",
            subject,
            format!(
                "the gMSA allows {} and the DC {}: no common Kerberos encryption type",
                names(g),
                names(dc)
            ),
            fix,
        )
    } else if g & 0x18 == 0 {
        Check::warn(
            D,
            "encryption-types",
            subject,
            format!(
                "the gMSA allows only {}; current Windows hosts want AES",
                names(g)
            ),
            fix,
        )
    } else {
        Check::pass(
            D,
            "encryption-types",
            subject,
            format!("the gMSA allows {} (the DC {})", names(g), names(dc)),
        )
    }
}

/// The plug-in's domain user: exists, enabled, not locked out or expired, and allowed to
/// read the gMSA's password (directly or through a group, from tokenGroups).
async fn plugin_account_check(
    dir: &mut Directory,
    f: &DomainFacts,
    user: &str,
    allowed: &[String],
    gmsa: &str,
) -> Result<Check> {
    let subject = format!("user/{user}");
    let sam = user
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or(user)
        .split('@')
        .next()
        .unwrap_or(user);
    let entries = dir
        .search(
            &f.dn,
            Scope::Subtree,
            &format!(
                "(sAMAccountName={})",
                crate::directory::codec::filter_str(sam)
            ),
            &[
                "userAccountControl",
                "lockoutTime",
                "accountExpires",
                "objectSid",
            ],
        )
        .await?;
    let Some(e) = entries.first() else {
        return Ok(Check::fail(
            D,
            "plugin-account",
            &subject,
            format!("no account named {sam} in the domain"),
            "name the user the plug-in Secret holds, or create it",
        ));
    };
    let dn = e.dn().to_owned();
    let uac = e.int("userAccountControl").unwrap_or(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let expires = e
        .int("accountExpires")
        .filter(|t| *t != 0 && *t != i64::MAX)
        .map(filetime_to_unix);
    if uac & UAC_ACCOUNTDISABLE != 0 {
        return Ok(Check::fail(
            D,
            "plugin-account",
            &subject,
            format!("{sam} is disabled"),
            format!("Enable-ADAccount {sam}"),
        ));
    }
    if e.int("lockoutTime").is_some_and(|t| t > 0) {
        return Ok(Check::fail(
            D,
            "plugin-account",
            &subject,
            format!("{sam} is locked out"),
            format!("Unlock-ADAccount {sam}"),
        ));
    }
    if expires.is_some_and(|t| t <= now) {
        return Ok(Check::fail(
            D,
            "plugin-account",
            &subject,
            format!("{sam} has expired"),
            format!("Set-ADAccountExpiration {sam} -DateTime <later>"),
        ));
    }
    let mut sids: Vec<String> = e
        .bin("objectSid")
        .and_then(|b| sid_to_string(&b).ok())
        .into_iter()
        .collect();
    let groups = dir
        .search(&dn, Scope::Base, "(objectClass=*)", &["tokenGroups"])
        .await?;
    for g in groups.iter().flat_map(|g| g.bins("tokenGroups")) {
        if let Ok(s) = sid_to_string(&g) {
            sids.push(s);
        }
    }
    Ok(if sids.iter().any(|s| allowed.contains(s)) {
        Check::pass(D, "plugin-account", &subject, format!("{sam} is enabled and may retrieve the password of {gmsa} (directly or through a group)"))
    } else {
        Check::fail(
            D,
            "plugin-account",
            &subject,
            format!("{sam} may not retrieve the password of {gmsa}: neither it nor its groups are in msDS-GroupMSAMembership"),
            format!("Set-ADServiceAccount {gmsa} -PrincipalsAllowedToRetrieveManagedPassword <group containing {sam}> (or add {sam} to an allowed group)"),
        )
    })
}

/// `_ldap._tcp.dc._msdcs.<domain>` over UDP and over TCP.
async fn srv_records(domain: &str, dns_server: Option<&str>) -> Vec<Check> {
    let subject = format!("dns/{domain}");
    let name = format!("_ldap._tcp.dc._msdcs.{domain}");
    let fix = format!("publish the DCs' SRV records in the DNS the nodes and pods use (dcdiag /test:dns), or forward {domain} to the DCs");
    let udp = match dns::find_dcs(domain, dns_server, Duration::from_secs(3)).await {
        Ok(r) => Check::pass(
            D,
            "srv-records-udp",
            &subject,
            format!(
                "{name} over UDP: {}",
                r.iter()
                    .map(|s| format!("{}:{}", s.target, s.port))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Err(e) => Check::fail(
            D,
            "srv-records-udp",
            &subject,
            e.message.clone(),
            fix.clone(),
        ),
    };
    let tcp = match dns::count_dcs_over_tcp(domain, dns_server, Duration::from_secs(3))
        .await
        .map_err(|e| e.message)
    {
        Ok(0) => Check::fail(
            D,
            "srv-records-tcp",
            &subject,
            format!("{name} over TCP: no SRV records"),
            fix,
        ),
        Ok(n) => Check::pass(
            D,
            "srv-records-tcp",
            &subject,
            format!("{name} over TCP: {n} record(s)"),
        ),
        Err(m) => Check::fail(
            D,
            "srv-records-tcp",
            &subject,
            format!("{name} over TCP: {m}"),
            format!("allow DNS over TCP (port 53) to the DNS server; {fix}"),
        ),
    };
    vec![udp, tcp]
}

/// TCP connects from here to the DC's ports.
async fn dc_ports(target: &DirectoryTarget) -> Vec<Check> {
    let host = match target.server_url() {
        Ok(u) => u.host,
        Err(e) => return vec![Check::skipped(D, "dc-ports", "dc", e.message)],
    };
    let subject = format!("dc/{host}");
    let all: Vec<(u16, &str)> = REQUIRED_PORTS
        .iter()
        .chain(OTHER_PORTS.iter())
        .copied()
        .collect();
    let results = futures::future::join_all(all.iter().map(|(p, _)| {
        let h = host.clone();
        async move {
            tokio::time::timeout(
                Duration::from_secs(2),
                tokio::net::TcpStream::connect((h.as_str(), *p)),
            )
            .await
            .is_ok_and(|r| r.is_ok())
        }
    }))
    .await;
    let open: Vec<String> = all
        .iter()
        .zip(&results)
        .filter(|(_, ok)| **ok)
        .map(|((p, n), _)| format!("{p} ({n})"))
        .collect();
    let closed_required: Vec<String> = REQUIRED_PORTS
        .iter()
        .zip(&results)
        .filter(|(_, ok)| !**ok)
        .map(|((p, n), _)| format!("{p} ({n})"))
        .collect();
    let closed_other: Vec<String> = OTHER_PORTS
        .iter()
        .zip(&results[REQUIRED_PORTS.len()..])
        .filter(|(_, ok)| !**ok)
        .map(|((p, n), _)| format!("{p} ({n})"))
        .collect();
    let fix = format!(
        "open TCP {} from the Windows nodes to {host} (and UDP 53, 88; RPC 135 and 49152-65535)",
        closed_required
            .iter()
            .chain(&closed_other)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );
    let check = if !closed_required.is_empty() {
        Check::fail(
            D,
            "dc-ports",
            &subject,
            format!(
                "not reachable from here: {}; reachable: {}",
                closed_required.join(", "),
                open.join(", ")
            ),
            fix,
        )
    } else if !closed_other.is_empty() {
        Check::warn(D, "dc-ports", &subject, format!("reachable from here: {}; not reachable: {} (needed for nltest /sc_verify and Group Policy, not for the gMSA itself)", open.join(", "), closed_other.join(", ")), fix)
    } else {
        Check::pass(
            D,
            "dc-ports",
            &subject,
            format!("reachable from here: {}", open.join(", ")),
        )
    };
    vec![check]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::doctor::Verdict;

    #[test]
    fn encryption_types() {
        assert_eq!(
            encryption_check("s", None, Some(0x1C)).status,
            Verdict::Pass
        );
        assert_eq!(
            encryption_check("s", Some(0x18), Some(0x1C)).status,
            Verdict::Pass
        );
        assert_eq!(
            encryption_check("s", Some(0x4), Some(0x1C)).status,
            Verdict::Warn
        );
        assert_eq!(
            encryption_check("s", Some(0x3), Some(0x18)).status,
            Verdict::Fail
        );
    }

    fn spec(sid: &str) -> CredentialSpec {
        serde_json::from_value(serde_json::json!({
            "CmsPlugins": ["ActiveDirectory"],
            "DomainJoinConfig": { "Sid": sid, "MachineAccountName": "webapp01", "Guid": "56d9b66c-d746-4f87-bd26-26760cfdca2e", "DnsTreeName": "contoso.com", "DnsName": "contoso.com", "NetBiosName": "CONTOSO" },
            "ActiveDirectoryConfig": { "GroupManagedServiceAccounts": [{ "Name": "webapp01", "Scope": "contoso.com" }] }
        }))
        .unwrap()
    }

    #[test]
    fn a_wrong_sid_that_is_the_gmsas_own_is_named() {
        let f = DomainFacts {
            dn: "DC=contoso,DC=com".into(),
            sid: "S-1-5-21-1-2-3".into(),
            guid: "56d9b66c-d746-4f87-bd26-26760cfdca2e".into(),
            dns_name: "contoso.com".into(),
            netbios_name: "CONTOSO".into(),
            forest_dns_name: "contoso.com".into(),
            forest_domains: vec![],
        };
        let ok = domain_join_checks(
            &spec("S-1-5-21-1-2-3"),
            &f,
            Some("S-1-5-21-1-2-3-1105"),
            "w",
        );
        assert!(ok.iter().all(|c| c.status == Verdict::Pass), "{ok:#?}");
        let own = domain_join_checks(
            &spec("S-1-5-21-1-2-3-1105"),
            &f,
            Some("S-1-5-21-1-2-3-1105"),
            "w",
        );
        assert_eq!(own[0].status, Verdict::Fail);
        assert!(
            own[0].message.contains("the gMSA's own SID"),
            "{}",
            own[0].message
        );
        assert!(own[0]
            .fix
            .as_ref()
            .unwrap()
            .contains("Sid to S-1-5-21-1-2-3"));
        let other = domain_join_checks(
            &spec("S-1-5-21-9-9-9"),
            &f,
            Some("S-1-5-21-1-2-3-1105"),
            "w",
        );
        assert!(!other[0].message.contains("own SID"));
    }
}
