//! `check-account`: the Active Directory half of the gMSA troubleshooting guide, a finding
//! per check with what to do about each failure.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::directory::domain::{
    self, Account, PasswordAccess, UAC_ACCOUNTDISABLE, UAC_TRUSTED_FOR_DELEGATION,
    UAC_WORKSTATION_TRUST_ACCOUNT,
};
use crate::directory::{ConnectionStats, Directory, DirectoryTarget};
use crate::error::Result;
use crate::names::strip_account;
use crate::progress::Reporter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
        }
    }
}

/// One finding of `check-account`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountCheck {
    /// A stable identifier: exists, unique-name, enabled, spn, dns-host-name, delegation,
    /// allowed-principals, kds-root-key, password-readable.
    pub check: String,
    pub status: CheckStatus,
    pub message: String,
    /// What to do about a warning or failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn finding(
    check: &str,
    status: CheckStatus,
    message: impl Into<String>,
    fix: Option<String>,
) -> AccountCheck {
    AccountCheck {
        check: check.into(),
        status,
        message: message.into(),
        fix,
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct CheckAccountRequest {
    pub directory: DirectoryTarget,
    pub account: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckAccountOutcome {
    pub account: String,
    pub server: String,
    /// The identity the server sees for this connection, readable: `CONTOSO\\Administrator`
    /// or a DN (the LDAP "who am I" answer without its `u:`/`dn:` prefix); empty when the
    /// server did not say.
    pub bound_as: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dn: Option<String>,
    /// `(SID, sAMAccountName or the SID when unknown)` of each principal allowed to
    /// retrieve the password.
    pub allowed_principals: Vec<(String, String)>,
    pub checks: Vec<AccountCheck>,
    /// No check failed.
    pub passed: bool,
    pub stats: ConnectionStats,
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `check-account`: every finding, pass/warn/fail, with its fix. Failed checks are in the
/// outcome, not an error; errors are for what stopped the checks (connection, bind).
pub async fn check_account(
    req: &CheckAccountRequest,
    reporter: &dyn Reporter,
) -> Result<CheckAccountOutcome> {
    let account = strip_account(&req.account)?;
    reporter.step(&format!(
        "connecting to {}",
        req.directory.server_url()?.url()
    ));
    let mut dir = Directory::connect(&req.directory).await?;
    let domain_dn = dir.root.default_naming_context.clone();
    let bound_as = readable_authz_id(&dir.who_am_i().await.unwrap_or_default());
    let who = if bound_as.is_empty() {
        "the bound identity".to_owned()
    } else {
        bound_as.clone()
    };
    reporter.step("looking up the account");
    let found = domain::find_accounts(&mut dir, &domain_dn, &[account.as_str()]).await?;
    let mut checks = vec![];
    let mut allowed = vec![];
    let mut dn = None;
    let want = format!("{account}$");

    match domain::the_gmsa(&found, &account, &dir.server) {
        Err(e) => {
            checks.push(finding(
                "exists",
                CheckStatus::Fail,
                e.message.clone(),
                Some(format!("create it: kubectl gmsa create-account {account} --allowed-principal <group of container hosts>")),
            ));
        }
        Ok(g) => {
            let g: Account = g.clone();
            dn = Some(g.dn.clone());
            checks.push(finding(
                "exists",
                CheckStatus::Pass,
                format!("{} is a gMSA ({})", g.sam_account_name, g.dn),
                None,
            ));

            let others: Vec<&Account> = found
                .iter()
                .filter(|a| {
                    a.dn != g.dn
                        && (a.sam_account_name.eq_ignore_ascii_case(&account)
                            || a.sam_account_name.eq_ignore_ascii_case(&want))
                })
                .collect();
            if others.is_empty() {
                checks.push(finding(
                    "unique-name",
                    CheckStatus::Pass,
                    format!("no other object is named {account} or {want}"),
                    None,
                ));
            } else {
                let list: Vec<String> = others
                    .iter()
                    .map(|a| format!("{} ({})", a.dn, a.sam_account_name))
                    .collect();
                checks.push(finding(
                    "unique-name",
                    CheckStatus::Fail,
                    format!("other objects carry the gMSA's name: {}", list.join(", ")),
                    Some("rename or delete the other object: only one object in the domain may be named NAME or NAME$".into()),
                ));
            }

            let uac = g.user_account_control.unwrap_or(0);
            if uac & UAC_ACCOUNTDISABLE != 0 {
                checks.push(finding(
                    "enabled",
                    CheckStatus::Fail,
                    format!("the gMSA is disabled (userAccountControl {uac}); a disabled gMSA gets no Kerberos tickets"),
                    Some(format!("enable it: Set-ADServiceAccount {account} -Enabled $true (or clear bit 0x2 of userAccountControl)")),
                ));
            } else {
                checks.push(finding(
                    "enabled",
                    CheckStatus::Pass,
                    "the gMSA is enabled",
                    None,
                ));
            }

            let host_spns: Vec<&String> = g
                .service_principal_names
                .iter()
                .filter(|s| s.to_ascii_lowercase().starts_with("host/"))
                .collect();
            if host_spns.is_empty() {
                checks.push(finding(
                    "spn",
                    CheckStatus::Fail,
                    "the gMSA has no host/ service principal name",
                    Some(format!("add one: Set-ADServiceAccount {account} -ServicePrincipalNames @{{Add='host/{account}'}}")),
                ));
            } else {
                let list: Vec<&str> = host_spns.iter().map(|s| s.as_str()).collect();
                checks.push(finding(
                    "spn",
                    CheckStatus::Pass,
                    format!("host/ SPNs: {}", list.join(", ")),
                    None,
                ));
            }

            match &g.dns_host_name {
                Some(h) if !h.is_empty() => checks.push(finding(
                    "dns-host-name",
                    CheckStatus::Pass,
                    format!("dNSHostName is {h}"),
                    None,
                )),
                _ => checks.push(finding(
                    "dns-host-name",
                    CheckStatus::Fail,
                    "the gMSA has no dNSHostName",
                    Some(format!(
                        "set it: Set-ADServiceAccount {account} -DNSHostName {}.<domain>",
                        account.to_lowercase()
                    )),
                )),
            }

            let delegation = uac & UAC_TRUSTED_FOR_DELEGATION != 0;
            let wks = uac & UAC_WORKSTATION_TRUST_ACCOUNT != 0;
            let fix_wks = Some(
                "set bit 0x1000 (WORKSTATION_TRUST_ACCOUNT) of userAccountControl again".to_owned(),
            );
            match (delegation, wks) {
                (true, false) => checks.push(finding(
                    "delegation",
                    CheckStatus::Fail,
                    format!("unconstrained delegation is on but WORKSTATION_TRUST_ACCOUNT (0x1000) is missing from userAccountControl {uac}"),
                    fix_wks,
                )),
                (false, false) => checks.push(finding(
                    "delegation",
                    CheckStatus::Warn,
                    format!("userAccountControl {uac} lacks WORKSTATION_TRUST_ACCOUNT (0x1000), which gMSAs normally have"),
                    fix_wks,
                )),
                (true, true) => checks.push(finding("delegation", CheckStatus::Pass, "unconstrained delegation is on and WORKSTATION_TRUST_ACCOUNT is set", None)),
                (false, true) => checks.push(finding("delegation", CheckStatus::Pass, "WORKSTATION_TRUST_ACCOUNT is set", None)),
            }

            allowed = domain::names_of_sids(&mut dir, &domain_dn, &g.allowed_sids).await?;
            if allowed.is_empty() {
                let why = if g.has_membership {
                    "msDS-GroupMSAMembership allows no one"
                } else {
                    "msDS-GroupMSAMembership is not set"
                };
                checks.push(finding(
                    "allowed-principals",
                    CheckStatus::Fail,
                    format!("no principal may retrieve the password ({why})"),
                    Some(format!("allow the container hosts' group: Set-ADServiceAccount {account} -PrincipalsAllowedToRetrieveManagedPassword <group>")),
                ));
            } else {
                let sids: Vec<String> = allowed.iter().map(|(s, _)| s.clone()).collect();
                let empty = domain::empty_groups(&mut dir, &domain_dn, &sids).await?;
                checks.push(allowed_finding(&account, &allowed, &empty));
            }

            if !dir.encrypted {
                checks.push(finding(
                    "password-readable",
                    CheckStatus::Warn,
                    "not checked: the connection is not encrypted",
                    Some("use ldaps:// or Kerberos".into()),
                ));
            } else {
                reporter.step("asking for the managed password");
                let access = domain::password_access(&mut dir, &g.dn).await?;
                checks.push(password_finding(&access, &who, allowed.is_empty()));
            }
        }
    }

    reporter.step("reading the KDS root keys");
    let (container, keys) = domain::kds_root_keys(&mut dir).await?;
    let password_read = checks
        .iter()
        .any(|c| c.check == "password-readable" && c.status == CheckStatus::Pass);
    checks.push(kds_finding(
        container,
        &keys,
        now_unix(),
        password_read,
        &who,
    ));

    let server = dir.server.clone();
    let stats = dir.close().await;
    let passed = checks.iter().all(|c| c.status != CheckStatus::Fail);
    Ok(CheckAccountOutcome {
        account,
        server,
        bound_as,
        dn,
        allowed_principals: allowed,
        checks,
        passed,
        stats,
    })
}

/// The LDAP "who am I" answer (RFC 4532) made readable: `u:CONTOSO\\Administrator` is
/// `CONTOSO\\Administrator`, `dn:CN=...` is the DN as it is.
pub fn readable_authz_id(authz_id: &str) -> String {
    let s = authz_id.trim();
    s.strip_prefix("u:")
        .or_else(|| s.strip_prefix("dn:"))
        .unwrap_or(s)
        .trim()
        .to_owned()
}

/// The allowed-principals finding when some principals are allowed: a warning for each
/// allowed group without members, since nobody gets the password through it.
fn allowed_finding(
    account: &str,
    allowed: &[(String, String)],
    empty_groups: &[String],
) -> AccountCheck {
    let list: Vec<&str> = allowed.iter().map(|(_, n)| n.as_str()).collect();
    if empty_groups.is_empty() {
        return finding(
            "allowed-principals",
            CheckStatus::Pass,
            format!("may retrieve the password: {}", list.join(", ")),
            None,
        );
    }
    let groups = empty_groups.join(", ");
    let (what, has, whom) = if empty_groups.len() == 1 {
        ("group", "has", "it")
    } else {
        ("groups", "have", "them")
    };
    let message = if empty_groups.len() == allowed.len() {
        format!("nobody can retrieve the password: only {what} {groups} may, and {has} no members")
    } else {
        format!(
            "may retrieve the password: {}; but {what} {groups} {has} no members, so nobody gets it through {whom}",
            list.join(", ")
        )
    };
    let first = &empty_groups[0];
    finding(
        "allowed-principals",
        CheckStatus::Warn,
        message,
        Some(format!(
            "add the container hosts' computer accounts: Add-ADGroupMember {first} -Members <host>$ (then restart the hosts or klist purge -li 0x3e7); or allow a host directly: Set-ADServiceAccount {account} -PrincipalsAllowedToRetrieveManagedPassword <host>$"
        )),
    )
}

/// The password-readable finding. A search the DC refused outright (Samba on a gMSA with no
/// membership at all) is the same warning as a withheld attribute, with the DC's words.
fn password_finding(access: &PasswordAccess, who: &str, no_one_allowed: bool) -> AccountCheck {
    let fix = if no_one_allowed {
        "allow the container hosts first (see allowed-principals), then bind as one of them"
    } else {
        "bind as a container host (or a member of an allowed group) to test what a host gets"
    };
    match access {
        PasswordAccess::Readable => finding(
            "password-readable",
            CheckStatus::Pass,
            format!("{who} can retrieve the managed password (value not shown)"),
            None,
        ),
        PasswordAccess::Withheld => finding(
            "password-readable",
            CheckStatus::Warn,
            format!("{who} cannot retrieve the managed password: it is not among the allowed principals, or this domain controller does not serve msDS-ManagedPassword"),
            Some(fix.into()),
        ),
        PasswordAccess::Refused(reason) => finding(
            "password-readable",
            CheckStatus::Warn,
            format!("{who} cannot retrieve the managed password: the domain controller refused to show it ({reason})"),
            Some(fix.into()),
        ),
    }
}

/// The KDS root key finding: usable keys pass; keys not yet usable fail; a password the
/// DC computed proves a usable key; an empty but visible container is a warning (non-admins
/// usually cannot list keys); no container fails.
fn kds_finding(
    container: bool,
    keys: &[domain::KdsRootKey],
    now: i64,
    password_read: bool,
    who: &str,
) -> AccountCheck {
    let usable = keys
        .iter()
        .filter(|k| k.use_start_unix.is_some_and(|t| t <= now))
        .count();
    let kds_fix = "create one: Add-KdsRootKey -EffectiveImmediately (usable after 10 hours; in a single-DC lab back-date it with -EffectiveTime ((Get-Date).AddHours(-10)); Samba: samba-tool domain kds root-key create)";
    if usable > 0 {
        finding(
            "kds-root-key",
            CheckStatus::Pass,
            format!("{usable} usable KDS root key(s)"),
            None,
        )
    } else if let Some(first) = keys.iter().filter_map(|k| k.use_start_unix).min() {
        finding(
            "kds-root-key",
            CheckStatus::Fail,
            format!(
                "no KDS root key is usable yet; the first becomes usable in {} minutes",
                (first - now).max(0) / 60 + 1
            ),
            Some("wait until then, or back-date a key in a lab".into()),
        )
    } else if password_read {
        finding(
            "kds-root-key",
            CheckStatus::Pass,
            format!("a usable KDS root key exists (the domain controller computed the password; {who} may not list the keys)"),
            None,
        )
    } else if container {
        finding(
            "kds-root-key",
            CheckStatus::Warn,
            format!("no KDS root key visible to {who} (only administrators may usually list them)"),
            Some(format!(
                "check as a domain admin; if there is none, {kds_fix}"
            )),
        )
    } else {
        finding(
            "kds-root-key",
            CheckStatus::Fail,
            format!(
                "no KDS root key: the Master Root Keys container is absent (or hidden from {who})"
            ),
            Some(kds_fix.into()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_identity_is_shown_without_its_authz_prefix() {
        assert_eq!(
            readable_authz_id("u:CONTOSO\\Administrator"),
            "CONTOSO\\Administrator"
        );
        assert_eq!(
            readable_authz_id("dn:CN=alice,CN=Users,DC=gmsa,DC=test"),
            "CN=alice,CN=Users,DC=gmsa,DC=test"
        );
        assert_eq!(readable_authz_id(""), "");
        assert_eq!(readable_authz_id("alice"), "alice");
    }

    #[test]
    fn an_allowed_group_without_members_is_a_warning_with_the_fix() {
        let allowed = vec![("S-1-5-21-1-2-3-1105".to_owned(), "WebHosts".to_owned())];
        let ok = allowed_finding("WebApp01", &allowed, &[]);
        assert_eq!(ok.status, CheckStatus::Pass);
        let empty = allowed_finding("WebApp01", &allowed, &["WebHosts".to_owned()]);
        assert_eq!(empty.status, CheckStatus::Warn);
        assert!(
            empty.message.starts_with("nobody can retrieve"),
            "{}",
            empty.message
        );
        assert!(empty
            .fix
            .unwrap()
            .contains("Add-ADGroupMember WebHosts -Members <host>$"));
        let mut two = allowed.clone();
        two.push(("S-1-5-21-1-2-3-1106".into(), "HOST1$".into()));
        let some = allowed_finding("WebApp01", &two, &["WebHosts".to_owned()]);
        assert_eq!(some.status, CheckStatus::Warn);
        assert!(
            some.message.contains("HOST1$") && some.message.contains("WebHosts has no members")
        );
    }

    #[test]
    fn password_findings_for_each_answer_of_the_dc() {
        let ok = password_finding(&PasswordAccess::Readable, "u", false);
        assert_eq!((ok.status, ok.fix), (CheckStatus::Pass, None));
        let left_out = password_finding(&PasswordAccess::Withheld, "u", false);
        assert_eq!(left_out.status, CheckStatus::Warn);
        assert!(left_out.fix.unwrap().contains("bind as a container host"));
        // Samba 4.22 on a gMSA with no msDS-GroupMSAMembership fails the search itself.
        let refused = password_finding(
            &PasswordAccess::Refused("no right to view attribute".into()),
            "u",
            true,
        );
        assert_eq!(refused.status, CheckStatus::Warn);
        assert!(
            refused.message.contains("no right to view attribute"),
            "{}",
            refused.message
        );
        assert!(refused.fix.unwrap().contains("allowed-principals"));
    }

    #[test]
    fn kds_root_key_findings() {
        let key = |t: i64| domain::KdsRootKey {
            dn: "CN=k".into(),
            use_start_unix: Some(t),
        };
        let now = 1_000_000;
        assert_eq!(
            kds_finding(true, &[key(now - 1)], now, false, "u").status,
            CheckStatus::Pass
        );
        let future = kds_finding(true, &[key(now + 600)], now, false, "u");
        assert_eq!(future.status, CheckStatus::Fail);
        assert!(
            future.message.contains("in 11 minutes"),
            "{}",
            future.message
        );
        assert_eq!(
            kds_finding(true, &[], now, true, "u").status,
            CheckStatus::Pass
        );
        assert_eq!(
            kds_finding(true, &[], now, false, "u").status,
            CheckStatus::Warn
        );
        let missing = kds_finding(false, &[], now, false, "u");
        assert_eq!(missing.status, CheckStatus::Fail);
        assert!(missing.fix.unwrap().contains("Add-KdsRootKey"));
    }
}
