//! Directory operations over LDAP: `new-credspec` (what `New-CredentialSpec` does, from
//! any OS), `check-account` (the Active Directory half of the gMSA troubleshooting guide)
//! and `create-account` (what `New-ADServiceAccount` does for a gMSA).

use std::time::{SystemTime, UNIX_EPOCH};

use ldap3::Scope;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::credspec::{
    self, ActiveDirectoryConfig, CcgPlugin, CredentialSpec, DomainJoinConfig, Finding,
    GroupManagedServiceAccount, HostAccountConfig,
};
use crate::directory::codec::{self, dn_value};
use crate::directory::domain::{
    self, Account, DomainFacts, PasswordAccess, UAC_ACCOUNTDISABLE, UAC_TRUSTED_FOR_DELEGATION,
    UAC_WORKSTATION_TRUST_ACCOUNT,
};
use crate::directory::{ConnectionStats, Directory, DirectoryTarget};
use crate::error::{Error, ErrorKind, Result};
use crate::names;
use crate::progress::Reporter;

// ---------------------------------------------------------------- new-credspec

/// The ccg.exe plug-in of a credential spec for hosts that are not domain joined.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PluginRequest {
    pub ccg_plugin: Option<CcgPlugin>,
    pub plugin_guid: Option<String>,
    pub plugin_input: Option<String>,
}

impl PluginRequest {
    fn host_account_config(&self) -> Result<HostAccountConfig> {
        let guid = match (&self.plugin_guid, self.ccg_plugin) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "give either --ccg-plugin or --plugin-guid, not both",
                ))
            }
            (Some(g), None) => {
                names::parse_guid(g)
                    .map_err(|m| Error::invalid(format!("invalid --plugin-guid: {m}")))?;
                format!(
                    "{{{}}}",
                    g.trim_start_matches('{')
                        .trim_end_matches('}')
                        .to_uppercase()
                )
            }
            (None, Some(p)) => p.guid().to_owned(),
            (None, None) => {
                return Err(Error::invalid(
                    "--plugin-input needs --ccg-plugin or --plugin-guid",
                ))
            }
        };
        let input = self.plugin_input.clone().filter(|i| !i.is_empty()).ok_or_else(|| {
            Error::invalid("the ccg plug-in needs --plugin-input").with_hint(
                "Azure Key Vault: \"ObjectId=<id>;SecretUri=<uri>\"; AWS: '{\"credentialArn\": \"arn:...\"}'; Rancher: <namespace>:<secret>",
            )
        })?;
        Ok(HostAccountConfig {
            portable_ccg_version: "1".into(),
            plugin_guid: guid,
            plugin_input: input,
        })
    }

    fn is_set(&self) -> bool {
        self.ccg_plugin.is_some() || self.plugin_guid.is_some() || self.plugin_input.is_some()
    }
}

/// `new-credspec`: read the domain and the gMSA from the directory and write the
/// credential spec that `New-CredentialSpec` would.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NewCredspecRequest {
    pub directory: DirectoryTarget,
    /// The gMSA (a trailing `$` is stripped).
    pub account: String,
    /// More gMSAs the container may use: `NAME` or `NAME@DOMAIN` (a domain of the forest).
    pub additional_accounts: Vec<String>,
    /// For hosts that are not domain joined.
    pub plugin: PluginRequest,
    /// Also render the `GMSACredentialSpec` resource with this name.
    pub credspec_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCredspecOutcome {
    pub credspec: CredentialSpec,
    /// `<netbios>_<account>.json` in lower case, as New-CredentialSpec names it.
    pub default_file_name: String,
    /// The resource, when a `credspec_name` was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Value>,
    pub domain: DomainFacts,
    pub findings: Vec<Finding>,
    pub stats: ConnectionStats,
}

fn strip_account(name: &str) -> Result<String> {
    let n = name.trim().trim_end_matches('$').to_owned();
    names::check_account_name(&n)
        .map_err(|m| Error::invalid(format!("invalid account name: {m}")))?;
    Ok(n)
}

/// `new-credspec`: one connection, rootDSE + bind + three searches.
pub async fn new_credspec(
    req: &NewCredspecRequest,
    reporter: &dyn Reporter,
) -> Result<NewCredspecOutcome> {
    // Validate everything before the network.
    let account = strip_account(&req.account)?;
    let mut additional = vec![];
    for a in &req.additional_accounts {
        let (name, dom) = match a.split_once('@') {
            Some((n, d)) => (n, Some(d.to_owned())),
            None => (a.as_str(), None),
        };
        if let Some(d) = &dom {
            names::check_dns_domain(d)
                .map_err(|m| Error::invalid(format!("invalid --additional-account {a}: {m}")))?;
        }
        additional.push((strip_account(name)?, dom));
    }
    let host_account = if req.plugin.is_set() {
        Some(req.plugin.host_account_config()?)
    } else {
        None
    };
    if let Some(n) = &req.credspec_name {
        names::check_resource_name("credential spec", n)?;
    }

    reporter.step(&format!(
        "connecting to {}",
        req.directory.server_url()?.url()
    ));
    let mut dir = Directory::connect(&req.directory).await?;
    reporter.step("reading the domain");
    let facts = domain::domain_facts(&mut dir).await?;
    check_domain_matches(&req.directory, &facts, &dir.server)?;

    // The gMSA and the additional ones of this domain, in one search.
    reporter.step("looking up the account");
    let local: Vec<&str> = std::iter::once(account.as_str())
        .chain(
            additional
                .iter()
                .filter(|(_, d)| {
                    d.as_ref()
                        .is_none_or(|d| d.eq_ignore_ascii_case(&facts.dns_name))
                })
                .map(|(n, _)| n.as_str()),
        )
        .collect();
    let found = domain::find_accounts(&mut dir, &facts.dn, &local).await?;
    let main = domain::the_gmsa(&found, &account, &dir.server)?
        .sam_account_name
        .trim_end_matches('$')
        .to_owned();
    let mut gmsas = vec![
        GroupManagedServiceAccount {
            name: main.clone(),
            scope: facts.dns_name.clone(),
        },
        GroupManagedServiceAccount {
            name: main.clone(),
            scope: facts.netbios_name.clone(),
        },
    ];
    for (name, dom) in &additional {
        let (dns, netbios, name) = match dom {
            Some(d) if !d.eq_ignore_ascii_case(&facts.dns_name) => {
                // Another domain of the forest: its gMSA cannot be read here; its names come from the crossRefs.
                let nb = facts.netbios_of(d).ok_or_else(|| {
                    Error::invalid(format!(
                        "--additional-account {name}@{d}: {d} is not a domain of this forest ({})",
                        facts.forest_dns_name
                    ))
                })?;
                (
                    d.trim_end_matches('.').to_owned(),
                    nb.to_owned(),
                    name.clone(),
                )
            }
            _ => {
                let acc = domain::the_gmsa(&found, name, &dir.server)?;
                (
                    facts.dns_name.clone(),
                    facts.netbios_name.clone(),
                    acc.sam_account_name.trim_end_matches('$').to_owned(),
                )
            }
        };
        gmsas.push(GroupManagedServiceAccount {
            name: name.clone(),
            scope: dns,
        });
        gmsas.push(GroupManagedServiceAccount {
            name,
            scope: netbios,
        });
    }
    let stats = dir.close().await;

    let spec = CredentialSpec {
        cms_plugins: vec!["ActiveDirectory".into()],
        domain_join_config: DomainJoinConfig {
            sid: facts.sid.clone(),
            machine_account_name: main.clone(),
            guid: facts.guid.clone(),
            dns_tree_name: facts.forest_dns_name.clone(),
            dns_name: facts.dns_name.clone(),
            net_bios_name: facts.netbios_name.clone(),
        },
        active_directory_config: ActiveDirectoryConfig {
            group_managed_service_accounts: gmsas,
            host_account_config: host_account,
        },
    };
    let findings =
        credspec::lint(&serde_json::to_value(&spec).expect("a credential spec serializes"));
    let resource = req
        .credspec_name
        .as_deref()
        .map(|n| credspec::to_resource(n, &spec, &[]));
    Ok(NewCredspecOutcome {
        default_file_name: format!("{}_{}.json", facts.netbios_name, main).to_lowercase(),
        credspec: spec,
        resource,
        domain: facts,
        findings,
        stats,
    })
}

fn check_domain_matches(target: &DirectoryTarget, facts: &DomainFacts, server: &str) -> Result<()> {
    if let Some(d) = &target.domain {
        let d = d.trim_end_matches('.');
        if !d.eq_ignore_ascii_case(&facts.dns_name) && !d.eq_ignore_ascii_case(&facts.netbios_name)
        {
            return Err(Error::invalid(format!(
                "{server} serves the domain {}, not {d}",
                facts.dns_name
            ))
            .with_hint(format!(
                "pass --server with a domain controller of {d}, or drop --domain"
            )));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- check-account

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
pub struct CheckAccountRequest {
    pub directory: DirectoryTarget,
    pub account: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckAccountOutcome {
    pub account: String,
    pub server: String,
    /// The identity the server sees for this connection.
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
    let bound_as = dir.who_am_i().await.unwrap_or_default();
    let who = if bound_as.is_empty() {
        "the bound identity".to_owned()
    } else {
        bound_as.trim_start_matches("u:").to_owned()
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
                let list: Vec<&str> = allowed.iter().map(|(_, n)| n.as_str()).collect();
                checks.push(finding(
                    "allowed-principals",
                    CheckStatus::Pass,
                    format!("may retrieve the password: {}", list.join(", ")),
                    None,
                ));
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

// ---------------------------------------------------------------- create-account

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateAccountRequest {
    pub directory: DirectoryTarget,
    /// The gMSA's name (sAMAccountName without `$`, at most 15 characters).
    pub account: String,
    /// dNSHostName (default `<account>.<domain>` in lower case).
    pub dns_host_name: Option<String>,
    /// SPNs (default `host/<account>` and `host/<dns-host-name>`).
    pub service_principal_names: Vec<String>,
    /// Users, groups or computers allowed to retrieve the password.
    pub allowed_principals: Vec<String>,
    /// Also create this global security group (allowed to retrieve the password).
    pub create_group: Option<String>,
    /// Members of the new group (container hosts: computer accounts, or users).
    pub members: Vec<String>,
    /// Container of the gMSA (default `CN=Managed Service Accounts,<domain>`).
    pub container: Option<String>,
    /// Only say what would be written.
    pub dry_run: bool,
}

/// One LDAP add, as LDIF would show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LdapAdd {
    pub dn: String,
    /// Attribute, values (binary values base64 with a `::` in the LDIF).
    pub attributes: Vec<(String, Vec<String>)>,
    /// A readable form of a binary value (the SDDL of the security descriptor).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateAccountOutcome {
    pub dry_run: bool,
    pub account_dn: String,
    pub changes: Vec<LdapAdd>,
    /// The changes as LDIF.
    pub ldif: String,
    pub stats: ConnectionStats,
}

/// A DN's domain part as a DNS name (`DC=contoso,DC=com` -> `contoso.com`).
fn dns_of_dn(dn: &str) -> String {
    dn.split(',')
        .filter_map(|p| p.trim().split_once('='))
        .filter(|(k, _)| k.eq_ignore_ascii_case("DC"))
        .map(|(_, v)| v)
        .collect::<Vec<_>>()
        .join(".")
}

fn sddl(sids: &[String]) -> String {
    let aces: String = sids
        .iter()
        .map(|s| format!("(A;;0x{:x};;;{s})", codec::GMSA_MEMBERSHIP_MASK))
        .collect();
    format!("O:{}D:{aces}", codec::BUILTIN_ADMINISTRATORS)
}

fn b64(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn to_ldif(changes: &[LdapAdd]) -> String {
    let mut s = String::new();
    for c in changes {
        for comment in &c.comments {
            s.push_str(&format!("# {comment}\n"));
        }
        s.push_str(&format!("dn: {}\nchangetype: add\n", c.dn));
        for (k, vs) in &c.attributes {
            for v in vs {
                s.push_str(&format!("{k}: {v}\n"));
            }
        }
        s.push('\n');
    }
    s
}

/// `create-account`: validate, look up names, then add the group (if asked) and the gMSA.
/// Nothing is written when any name is unknown or taken; a gMSA that fails after its group
/// was created removes that group again.
pub async fn create_account(
    req: &CreateAccountRequest,
    reporter: &dyn Reporter,
) -> Result<CreateAccountOutcome> {
    let account = strip_account(&req.account)?;
    if let Some(g) = &req.create_group {
        if g.trim().is_empty()
            || g.len() > 64
            || g.chars().any(|c| "\"/\\[]:;|=,+*?<>@".contains(c))
        {
            return Err(Error::invalid(format!(
                "invalid --create-group name \"{g}\""
            )));
        }
    } else if !req.members.is_empty() {
        return Err(Error::invalid("--member needs --create-group"));
    }
    if req.allowed_principals.is_empty() && req.create_group.is_none() {
        return Err(Error::invalid("nobody would be allowed to retrieve the gMSA's password")
            .with_hint("pass --allowed-principal <group of container hosts>, or --create-group NAME --member <host>"));
    }
    if let Some(h) = &req.dns_host_name {
        names::check_dns_domain(h)
            .map_err(|m| Error::invalid(format!("invalid --dns-host-name: {m}")))?;
    }

    reporter.step(&format!(
        "connecting to {}",
        req.directory.server_url()?.url()
    ));
    let mut dir = Directory::connect(&req.directory).await?;
    let domain_dn = dir.root.default_naming_context.clone();
    let domain_dns = dns_of_dn(&domain_dn);
    if let Some(d) = &req.directory.domain {
        if !d.trim_end_matches('.').eq_ignore_ascii_case(&domain_dns) {
            return Err(Error::invalid(format!(
                "{} serves the domain {domain_dns}, not {d}",
                dir.server
            )));
        }
    }

    reporter.step("checking that the names are free");
    let mut names_to_check = vec![account.as_str()];
    if let Some(g) = &req.create_group {
        names_to_check.push(g.as_str());
    }
    let existing = domain::find_accounts(&mut dir, &domain_dn, &names_to_check).await?;
    let taken: Vec<String> = existing
        .iter()
        .filter(|a| {
            names_to_check.iter().any(|n| {
                a.sam_account_name.eq_ignore_ascii_case(n)
                    || a.sam_account_name.eq_ignore_ascii_case(&format!("{n}$"))
            })
        })
        .map(|a| format!("{} ({})", a.sam_account_name, a.dn))
        .collect();
    if !taken.is_empty() {
        return Err(Error::new(
            ErrorKind::Conflict,
            format!(
                "the name is taken; nothing was written: {}",
                taken.join(", ")
            ),
        )
        .with_hint(
            "choose another name, or check the existing account with `kubectl gmsa check-account`",
        ));
    }

    reporter.step("resolving principals");
    let allowed = domain::principals_by_name(&mut dir, &domain_dn, &req.allowed_principals).await?;
    let members = domain::principals_by_name(&mut dir, &domain_dn, &req.members).await?;

    let dns_host_name = req
        .dns_host_name
        .clone()
        .unwrap_or_else(|| format!("{}.{domain_dns}", account.to_lowercase()));
    let spns = if req.service_principal_names.is_empty() {
        vec![format!("host/{account}"), format!("host/{dns_host_name}")]
    } else {
        req.service_principal_names.clone()
    };
    let container = req
        .container
        .clone()
        .unwrap_or_else(|| format!("CN=Managed Service Accounts,{domain_dn}"));
    let account_dn = format!("CN={},{container}", dn_value(&account));
    let group_dn = req
        .create_group
        .as_ref()
        .map(|g| format!("CN={},CN=Users,{domain_dn}", dn_value(g)));

    let group_add = req.create_group.as_ref().map(|g| {
        let mut attributes = vec![
            ("objectClass".to_owned(), vec!["group".to_owned()]),
            ("sAMAccountName".to_owned(), vec![g.clone()]),
            // A global security group.
            ("groupType".to_owned(), vec!["-2147483646".to_owned()]),
        ];
        if !members.is_empty() {
            attributes.push((
                "member".to_owned(),
                members.iter().map(|m| m.dn.clone()).collect(),
            ));
        }
        LdapAdd {
            dn: group_dn.clone().expect("set with create_group"),
            attributes,
            comments: vec![],
        }
    });

    let gmsa_add = |sids: &[String]| -> Result<(LdapAdd, Vec<u8>)> {
        let sd = codec::gmsa_membership_sd(sids).map_err(|m| Error::new(ErrorKind::Internal, m))?;
        let add = LdapAdd {
            dn: account_dn.clone(),
            attributes: vec![
                ("objectClass".into(), vec![domain::GMSA_CLASS.into()]),
                ("sAMAccountName".into(), vec![format!("{account}$")]),
                ("dNSHostName".into(), vec![dns_host_name.clone()]),
                ("servicePrincipalName".into(), spns.clone()),
                // Enabled, and a workstation trust account as Windows makes gMSAs.
                (
                    "userAccountControl".into(),
                    vec![UAC_WORKSTATION_TRUST_ACCOUNT.to_string()],
                ),
                ("msDS-ManagedPasswordInterval".into(), vec!["30".into()]),
                ("msDS-GroupMSAMembership:".into(), vec![b64(&sd)]),
            ],
            comments: vec![format!("msDS-GroupMSAMembership: {}", sddl(sids))],
        };
        Ok((add, sd))
    };

    let mut sids: Vec<String> = allowed.iter().map(|p| p.sid.clone()).collect();
    if req.dry_run {
        let mut changes = vec![];
        if let Some(g) = group_add {
            sids.push(format!(
                "<SID of {}>",
                req.create_group.as_deref().unwrap_or_default()
            ));
            changes.push(g);
        }
        // The SD cannot hold a placeholder: show the SDDL only.
        let real: Vec<String> = sids
            .iter()
            .filter(|s| s.starts_with("S-"))
            .cloned()
            .collect();
        let (mut add, _) = gmsa_add(&real)?;
        add.comments = vec![format!("msDS-GroupMSAMembership: {}", sddl(&sids))];
        changes.push(add);
        let stats = dir.close().await;
        return Ok(CreateAccountOutcome {
            dry_run: true,
            account_dn,
            ldif: to_ldif(&changes),
            changes,
            stats,
        });
    }

    let mut changes = vec![];
    if let Some(g) = group_add {
        reporter.step(&format!("creating group {}", g.dn));
        dir.add(&g.dn, ldif_attrs(&g))
            .await
            .map_err(|e| e.context(format_args!("create group {}", g.dn)))?;
        // From here on, a failure deletes the group again.
        let sid = match new_group_sid(&mut dir, &g.dn).await {
            Ok(sid) => sid,
            Err(mut e) => {
                let rolled = roll_back_group(&mut dir, &req.directory, &g.dn).await;
                e.message.push_str(&format!("\n{rolled}"));
                return Err(e);
            }
        };
        sids.push(sid);
        changes.push(g);
    }
    let (add, _sd) = gmsa_add(&sids)?;
    reporter.step(&format!("creating gMSA {account_dn}"));
    // One add carries every attribute: the directory makes the account whole or not at all.
    if let Err(e) = dir.add(&add.dn, ldif_attrs(&add)).await {
        let mut e = e.context(format_args!("create gMSA {account_dn}"));
        if matches!(e.kind, ErrorKind::Timeout | ErrorKind::Unreachable) {
            e.message.push_str(&format!(
                "\nthe add may or may not have reached the directory: check with `kubectl gmsa check-account {account}` before running this again"
            ));
        }
        if let Some(g) = &group_dn {
            let rolled = roll_back_group(&mut dir, &req.directory, g).await;
            e.message.push_str(&format!("\n{rolled}"));
        }
        return Err(e);
    }
    changes.push(add);
    let stats = dir.close().await;
    Ok(CreateAccountOutcome {
        dry_run: false,
        account_dn,
        ldif: to_ldif(&changes),
        changes,
        stats,
    })
}

/// The objectSid of a group this run just created.
async fn new_group_sid(dir: &mut Directory, dn: &str) -> Result<String> {
    let created = dir
        .search(dn, Scope::Base, "(objectClass=group)", &["objectSid"])
        .await
        .map_err(|e| e.context("read the new group's SID"))?;
    created
        .first()
        .and_then(|e| e.bin("objectSid"))
        .and_then(|b| codec::sid_to_string(&b).ok())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Internal,
                format!("the new group {dn} has no objectSid"),
            )
        })
}

/// Delete the group this run created, after a later step failed: on the same connection,
/// else on a new one (the first may be what failed). Says what was done.
async fn roll_back_group(dir: &mut Directory, target: &DirectoryTarget, dn: &str) -> String {
    let mut result = dir.delete(dn).await;
    if result.is_err() {
        result = match Directory::connect(target).await {
            Ok(mut fresh) => {
                let r = fresh.delete(dn).await;
                fresh.close().await;
                r
            }
            Err(e) => Err(e),
        };
    }
    match result {
        Ok(()) => format!("rolled back: deleted group {dn}"),
        Err(e) => format!(
            "rollback incomplete: could not delete group {dn} ({}); delete it before running this again",
            e.message
        ),
    }
}

/// The attributes of an `LdapAdd` as bytes for the wire (`name:` marks base64 values).
fn ldif_attrs(a: &LdapAdd) -> Vec<(String, Vec<Vec<u8>>)> {
    use base64::Engine;
    a.attributes
        .iter()
        .map(|(k, vs)| match k.strip_suffix(':') {
            Some(k) => (
                k.to_owned(),
                vs.iter()
                    .map(|v| {
                        base64::engine::general_purpose::STANDARD
                            .decode(v)
                            .expect("we encoded it")
                    })
                    .collect(),
            ),
            None => (
                k.clone(),
                vs.iter().map(|v| v.as_bytes().to_vec()).collect(),
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_name_of_a_dn() {
        assert_eq!(dns_of_dn("DC=contoso,DC=com"), "contoso.com");
        assert_eq!(dns_of_dn("CN=x,DC=a, dc=b"), "a.b");
    }

    #[test]
    fn ldif_shows_base64_and_sddl() {
        let sd = codec::gmsa_membership_sd(&["S-1-5-21-1-2-3-1000".into()]).unwrap();
        let add = LdapAdd {
            dn: "CN=a,DC=x".into(),
            attributes: vec![
                ("sAMAccountName".into(), vec!["a$".into()]),
                ("msDS-GroupMSAMembership:".into(), vec![b64(&sd)]),
            ],
            comments: vec![format!(
                "msDS-GroupMSAMembership: {}",
                sddl(&["S-1-5-21-1-2-3-1000".into()])
            )],
        };
        let l = to_ldif(std::slice::from_ref(&add));
        assert!(
            l.contains(
                "# msDS-GroupMSAMembership: O:S-1-5-32-544D:(A;;0xf01ff;;;S-1-5-21-1-2-3-1000)"
            ),
            "{l}"
        );
        assert!(l.contains("msDS-GroupMSAMembership:: AQAEgBQ"), "{l}");
        let wire = ldif_attrs(&add);
        assert_eq!(wire[1].0, "msDS-GroupMSAMembership");
        assert_eq!(wire[1].1[0], sd);
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

    #[test]
    fn plugin_settings() {
        let p = PluginRequest {
            ccg_plugin: Some(CcgPlugin::AzureKeyVault),
            plugin_guid: None,
            plugin_input: Some("ObjectId=1;SecretUri=x".into()),
        };
        assert_eq!(
            p.host_account_config().unwrap().plugin_guid,
            "{CCC2A336-D7F3-4818-A213-272B7924213E}"
        );
        let p = PluginRequest {
            ccg_plugin: None,
            plugin_guid: Some("e4781092-f116-4b79-b55e-28eb6a224e26".into()),
            plugin_input: Some("ns:s".into()),
        };
        assert_eq!(
            p.host_account_config().unwrap().plugin_guid,
            "{E4781092-F116-4B79-B55E-28EB6A224E26}"
        );
        let p = PluginRequest {
            ccg_plugin: Some(CcgPlugin::Aws),
            plugin_guid: None,
            plugin_input: None,
        };
        assert!(p.host_account_config().is_err());
        assert!(strip_account("WebApp01$").is_ok());
        assert!(strip_account("contoso\\WebApp01").is_err());
    }
}
