//! `new-credspec`: read the domain and the gMSA from the directory and write the credential
//! spec that `New-CredentialSpec` would.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::credspec::{
    self, ActiveDirectoryConfig, CcgPlugin, CredentialSpec, DomainJoinConfig, Finding,
    GroupManagedServiceAccount, HostAccountConfig,
};
use crate::directory::domain::{self, DomainFacts};
use crate::directory::{ConnectionStats, Directory, DirectoryTarget};
use crate::error::{Error, Result};
use crate::names::{self, strip_account};
use crate::progress::Reporter;

/// The ccg.exe plug-in of a credential spec for hosts that are not domain joined.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct PluginRequest {
    pub ccg_plugin: Option<CcgPlugin>,
    pub plugin_guid: Option<String>,
    pub plugin_input: Option<String>,
}

impl PluginRequest {
    fn host_account_config(&self) -> Result<HostAccountConfig> {
        credspec::host_account_config(
            self.ccg_plugin,
            self.plugin_guid.as_deref(),
            self.plugin_input.as_deref(),
            None,
        )
    }

    fn is_set(&self) -> bool {
        self.ccg_plugin.is_some() || self.plugin_guid.is_some() || self.plugin_input.is_some()
    }
}

/// `new-credspec`: read the domain and the gMSA from the directory and write the
/// credential spec that `New-CredentialSpec` would.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[serde(deny_unknown_fields)]
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

#[cfg(test)]
mod tests {
    use super::*;

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
