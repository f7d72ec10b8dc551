//! The ccg.exe plug-in of a credential spec for hosts that are not domain joined: is the
//! `PluginGUID` a known plug-in, and, for the plug-in that reads a Kubernetes Secret, where
//! that Secret is and which keys it must hold. Pure.

use crate::credspec::{CcgPlugin, HostAccountConfig};

/// Keys the Rancher plug-in reads (the domain as `domainName`, or `domain` as the AksHci
/// cmdlets and `kubectl gmsa create-secret` write it).
pub const SECRET_KEYS: [&str; 2] = ["username", "password"];
pub const SECRET_DOMAIN_KEYS: [&str; 2] = ["domainName", "domain"];

/// What the plug-in settings say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginVerdict {
    /// No HostAccountConfig: the hosts are domain joined.
    DomainJoined,
    /// A known plug-in; `secret` is the Kubernetes Secret it reads, if any.
    Known {
        plugin: CcgPlugin,
        secret: Option<(String, String)>,
    },
    /// A GUID that is no plug-in we know.
    Unknown { guid: String },
}

/// Classify a spec's `HostAccountConfig`.
pub fn classify(hac: Option<&HostAccountConfig>) -> PluginVerdict {
    let Some(h) = hac else {
        return PluginVerdict::DomainJoined;
    };
    match CcgPlugin::from_guid(&h.plugin_guid) {
        None => PluginVerdict::Unknown {
            guid: h.plugin_guid.clone(),
        },
        Some(CcgPlugin::Rancher) => PluginVerdict::Known {
            plugin: CcgPlugin::Rancher,
            secret: h
                .plugin_input
                .split_once(':')
                .map(|(ns, n)| (ns.trim().to_owned(), n.trim().to_owned())),
        },
        Some(p) => PluginVerdict::Known {
            plugin: p,
            secret: None,
        },
    }
}

/// The readable name of a plug-in.
pub fn title(p: CcgPlugin) -> &'static str {
    match p {
        CcgPlugin::AzureKeyVault => "Azure Key Vault",
        CcgPlugin::Aws => "AWS Secrets Manager",
        CcgPlugin::Rancher => "Rancher (Kubernetes Secret)",
    }
}

/// The known plug-ins, for a fix line.
pub fn known_list() -> String {
    CcgPlugin::ALL
        .iter()
        .map(|p| format!("{} {}", title(*p), p.guid()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The keys a plug-in Secret lacks (its key names only; values are never read).
pub fn missing_keys(keys: &[String]) -> Vec<String> {
    let has = |k: &str| keys.iter().any(|x| x == k);
    let mut missing: Vec<String> = SECRET_KEYS
        .iter()
        .filter(|k| !has(k))
        .map(|k| k.to_string())
        .collect();
    if !SECRET_DOMAIN_KEYS.iter().any(|k| has(k)) {
        missing.push("domainName (or domain)".into());
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hac(guid: &str, input: &str) -> HostAccountConfig {
        HostAccountConfig {
            portable_ccg_version: "1".into(),
            plugin_guid: guid.into(),
            plugin_input: input.into(),
        }
    }

    #[test]
    fn known_and_unknown_plugins() {
        assert_eq!(classify(None), PluginVerdict::DomainJoined);
        assert_eq!(
            classify(Some(&hac(
                "{e4781092-f116-4b79-b55e-28eb6a224e26}",
                "gmsa:ccg-user"
            ))),
            PluginVerdict::Known {
                plugin: CcgPlugin::Rancher,
                secret: Some(("gmsa".into(), "ccg-user".into()))
            }
        );
        assert_eq!(
            classify(Some(&hac(
                "{CCC2A336-D7F3-4818-A213-272B7924213E}",
                "ObjectId=1;SecretUri=https://v/s"
            ))),
            PluginVerdict::Known {
                plugin: CcgPlugin::AzureKeyVault,
                secret: None
            }
        );
        assert_eq!(
            classify(Some(&hac("{859E1386-BDB4-49E8-85C7-3070B13920E1}", "{}"))),
            PluginVerdict::Known {
                plugin: CcgPlugin::Aws,
                secret: None
            }
        );
        let unknown = "{11111111-2222-3333-4444-555555555555}";
        assert_eq!(
            classify(Some(&hac(unknown, "x"))),
            PluginVerdict::Unknown {
                guid: unknown.into()
            }
        );
        assert!(known_list().contains("{CCC2A336-D7F3-4818-A213-272B7924213E}"));
    }

    #[test]
    fn secret_keys_by_name_only() {
        let k = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(missing_keys(&k(&["username", "password", "domainName"])).is_empty());
        assert!(missing_keys(&k(&["username", "password", "domain"])).is_empty());
        assert_eq!(
            missing_keys(&k(&["username"])),
            vec!["password".to_string(), "domainName (or domain)".to_string()]
        );
    }
}
