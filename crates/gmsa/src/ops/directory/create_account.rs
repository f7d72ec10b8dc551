//! `create-account`: what `New-ADServiceAccount` does for a gMSA (and optionally its group);
//! nothing is written when a name is unknown or taken, and a failed gMSA removes its group.

use ldap3::Scope;
use serde::{Deserialize, Serialize};

use crate::directory::codec::{self, dn_value};
use crate::directory::domain::{self, UAC_WORKSTATION_TRUST_ACCOUNT};
use crate::directory::ldif::{b64, dns_of_dn, ldif_attrs, sddl, to_ldif, LdapAdd};
use crate::directory::{ConnectionStats, Directory, DirectoryTarget};
use crate::error::{Error, ErrorKind, Result};
use crate::names::{self, strip_account};
use crate::progress::Reporter;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[serde(deny_unknown_fields)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateAccountOutcome {
    pub dry_run: bool,
    pub account_dn: String,
    pub changes: Vec<LdapAdd>,
    /// The changes as LDIF.
    pub ldif: String,
    pub stats: ConnectionStats,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_never_shown_by_debug() {
        let t = DirectoryTarget {
            user: Some("u".into()),
            password: Some("s3cret-debug".into()),
            ..Default::default()
        };
        let req = CreateAccountRequest {
            directory: t.clone(),
            ..Default::default()
        };
        let shown = format!("{t:?} {req:?}");
        assert!(!shown.contains("s3cret-debug"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
