//! The credential spec document as Windows writes it (`New-CredentialSpec`), with its
//! fields in Windows' order, and the reading of such files (BOM, UTF-16, CRLF).

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind};
use crate::names;

/// A credential spec: what a Windows container host needs to run a container as a gMSA.
/// It carries no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialSpec {
    #[serde(rename = "CmsPlugins")]
    pub cms_plugins: Vec<String>,
    #[serde(rename = "DomainJoinConfig")]
    pub domain_join_config: DomainJoinConfig,
    #[serde(rename = "ActiveDirectoryConfig")]
    pub active_directory_config: ActiveDirectoryConfig,
}

/// The domain the gMSA belongs to, and the gMSA the container runs as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainJoinConfig {
    /// SID of the domain (not of the account).
    #[serde(rename = "Sid")]
    pub sid: String,
    /// The gMSA's sAMAccountName without the trailing `$`.
    #[serde(rename = "MachineAccountName")]
    pub machine_account_name: String,
    /// The domain's objectGUID.
    #[serde(rename = "Guid")]
    pub guid: String,
    /// DNS name of the forest root domain.
    #[serde(rename = "DnsTreeName")]
    pub dns_tree_name: String,
    /// DNS name of the domain.
    #[serde(rename = "DnsName")]
    pub dns_name: String,
    /// NetBIOS name of the domain.
    #[serde(rename = "NetBiosName")]
    pub net_bios_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveDirectoryConfig {
    #[serde(rename = "GroupManagedServiceAccounts")]
    pub group_managed_service_accounts: Vec<GroupManagedServiceAccount>,
    /// Present only for hosts that are not domain joined (ccg.exe plug-in).
    #[serde(
        rename = "HostAccountConfig",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub host_account_config: Option<HostAccountConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupManagedServiceAccount {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Scope")]
    pub scope: String,
}

/// How a non-domain-joined host gets the credentials that may read the gMSA password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostAccountConfig {
    #[serde(rename = "PortableCcgVersion")]
    pub portable_ccg_version: String,
    #[serde(rename = "PluginGUID")]
    pub plugin_guid: String,
    #[serde(rename = "PluginInput")]
    pub plugin_input: String,
}

/// The ccg.exe plug-ins we know by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CcgPlugin {
    /// Azure Key Vault (AKS): `ObjectId=<managed identity>;SecretUri=<secret URI>`.
    AzureKeyVault,
    /// AWS (ECS/EKS domainless): `{"credentialArn": "arn:aws:secretsmanager:..."}`.
    Aws,
    /// Rancher's Kubernetes-secret plug-in: `<namespace>:<secret-name>`.
    Rancher,
}

impl CcgPlugin {
    pub const ALL: [CcgPlugin; 3] = [CcgPlugin::AzureKeyVault, CcgPlugin::Aws, CcgPlugin::Rancher];

    /// The plug-in's COM CLSID, in braces, as `PluginGUID` wants it.
    pub fn guid(self) -> &'static str {
        match self {
            CcgPlugin::AzureKeyVault => "{CCC2A336-D7F3-4818-A213-272B7924213E}",
            CcgPlugin::Aws => "{859E1386-BDB4-49E8-85C7-3070B13920E1}",
            CcgPlugin::Rancher => "{E4781092-F116-4B79-B55E-28EB6A224E26}",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CcgPlugin::AzureKeyVault => "azure-key-vault",
            CcgPlugin::Aws => "aws",
            CcgPlugin::Rancher => "rancher",
        }
    }

    /// The known plug-in with this CLSID (braces and case ignored).
    pub fn from_guid(guid: &str) -> Option<CcgPlugin> {
        let g = guid.trim().trim_start_matches('{').trim_end_matches('}');
        CcgPlugin::ALL
            .into_iter()
            .find(|p| p.guid()[1..37].eq_ignore_ascii_case(g))
    }

    pub fn from_name(name: &str) -> Option<CcgPlugin> {
        CcgPlugin::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl CredentialSpec {
    /// The gMSA the container runs as.
    pub fn account(&self) -> &str {
        &self.domain_join_config.machine_account_name
    }

    /// Pretty JSON with Windows' key order and CRLF-free line ends.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a credential spec always serializes")
    }
}

/// Decode a credential spec file's bytes to text: UTF-8 with or without BOM, or UTF-16
/// (LE or BE) with BOM, as Windows PowerShell 5.1's `Out-File` writes by default.
pub fn decode_text(bytes: &[u8]) -> Result<String, Error> {
    fn utf16(bytes: &[u8], be: bool) -> Result<String, Error> {
        if !bytes.len().is_multiple_of(2) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "the file starts with a UTF-16 byte order mark but has an odd number of bytes",
            ));
        }
        let units = bytes.chunks_exact(2).map(|c| {
            if be {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from_le_bytes([c[0], c[1]])
            }
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|_| Error::new(ErrorKind::InvalidInput, "the file is not valid UTF-16"))
    }
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => {
            std::str::from_utf8(rest).map(str::to_owned).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "the file is not valid UTF-8 (at byte {})",
                        e.valid_up_to() + 3
                    ),
                )
            })
        }
        [0xFF, 0xFE, rest @ ..] => utf16(rest, false),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, true),
        _ => std::str::from_utf8(bytes).map(str::to_owned).map_err(|e| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("the file is not valid UTF-8 (at byte {})", e.valid_up_to()),
            )
        }),
    }
}

/// Parse credential spec text into a JSON value (no rules applied yet: see `lint`).
pub fn parse_value(text: &str) -> Result<serde_json::Value, Error> {
    serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
        Error::new(
            ErrorKind::InvalidInput,
            format!(
                "the credential spec is not valid JSON: {} at line {}, column {}",
                strip_serde_position(&e.to_string()),
                e.line(),
                e.column()
            ),
        )
    })
}

fn strip_serde_position(message: &str) -> &str {
    match message.find(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

/// The `HostAccountConfig` of a ccg.exe plug-in (hosts that are not domain joined): a known
/// plug-in or any plug-in's CLSID, and its input. `secret_input` is what the Rancher plug-in
/// reads when no input is given (`<namespace>:<secret>`); with it, no plug-in at all means
/// Rancher. The one copy of these rules: `add-credspec`, `new-credspec` and the wizard use it.
pub fn host_account_config(
    plugin: Option<CcgPlugin>,
    guid: Option<&str>,
    input: Option<&str>,
    secret_input: Option<String>,
) -> Result<HostAccountConfig, Error> {
    let (guid, plugin) = match (guid, plugin) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "give either a ccg plug-in (--ccg-plugin) or a plug-in GUID (--plugin-guid), not both",
            ))
        }
        (Some(g), None) => {
            names::parse_guid(g)
                .map_err(|m| Error::invalid(format!("invalid plug-in GUID (--plugin-guid): {m}")))?;
            let g = g
                .trim_start_matches('{')
                .trim_end_matches('}')
                .to_uppercase();
            (format!("{{{g}}}"), CcgPlugin::from_guid(&g))
        }
        (None, Some(p)) => (p.guid().to_owned(), Some(p)),
        (None, None) if secret_input.is_some() => {
            (CcgPlugin::Rancher.guid().to_owned(), Some(CcgPlugin::Rancher))
        }
        (None, None) => {
            return Err(Error::invalid(
                "a plug-in input (--plugin-input) needs a ccg plug-in (--ccg-plugin) or a plug-in GUID (--plugin-guid)",
            ))
        }
    };
    let input = match (input.filter(|i| !i.is_empty()), plugin, secret_input) {
        (Some(i), _, _) => i.to_owned(),
        (None, Some(CcgPlugin::Rancher), Some(s)) => s,
        _ => {
            return Err(Error::invalid("this ccg plug-in needs its input (--plugin-input)").with_hint(
                "Azure Key Vault: \"ObjectId=<id>;SecretUri=<uri>\"; AWS: '{\"credentialArn\": \"arn:...\"}'; Rancher: <namespace>:<secret>",
            ))
        }
    };
    Ok(HostAccountConfig {
        portable_ccg_version: "1".into(),
        plugin_guid: guid,
        plugin_input: input,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_bom_and_utf16() {
        assert_eq!(decode_text(b"\xEF\xBB\xBF{}").unwrap(), "{}");
        assert_eq!(decode_text(b"\xFF\xFE{\x00}\x00").unwrap(), "{}");
        assert_eq!(decode_text(b"\xFE\xFF\x00{\x00}").unwrap(), "{}");
        assert!(decode_text(b"\xFF\xFE{").is_err());
        assert!(decode_text(b"{\xC3}").is_err());
    }

    #[test]
    fn known_plugins_by_guid_and_name() {
        assert_eq!(
            CcgPlugin::from_guid("ccc2a336-d7f3-4818-a213-272b7924213e"),
            Some(CcgPlugin::AzureKeyVault)
        );
        assert_eq!(CcgPlugin::from_name("rancher"), Some(CcgPlugin::Rancher));
        assert_eq!(
            CcgPlugin::from_guid("{00000000-0000-0000-0000-000000000000}"),
            None
        );
    }

    #[test]
    fn invalid_json_reports_position_once() {
        let e = parse_value("{\r\n  \"CmsPlugins\": [,\r\n}").unwrap_err();
        let m = e.to_string();
        assert!(m.contains("line 2"), "{m}");
        assert_eq!(m.matches("line").count(), 1, "{m}");
    }
}
