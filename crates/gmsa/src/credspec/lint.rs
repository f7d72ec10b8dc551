//! The credential spec rules (primer, section 2, and Microsoft's troubleshooting guide):
//! every problem at once, each with its JSON path, as an error or a warning.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::model::CcgPlugin;
use crate::names;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One problem found in a credential spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    /// JSON path of the offending value, such as `$.DomainJoinConfig.Sid`.
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}: {}: {}", self.path, self.message)
    }
}

pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

struct Linter {
    findings: Vec<Finding>,
}

impl Linter {
    fn push(&mut self, severity: Severity, path: &str, message: impl Into<String>) {
        self.findings.push(Finding {
            severity,
            path: path.to_owned(),
            message: message.into(),
        });
    }
    fn error(&mut self, path: &str, message: impl Into<String>) {
        self.push(Severity::Error, path, message)
    }
    fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.push(Severity::Warning, path, message)
    }

    /// Warn about keys the GMSACredentialSpec CRD's schema does not list (the API server
    /// prunes them) and report keys that differ from a known one only by case.
    fn unknown_keys(&mut self, path: &str, obj: &Map<String, Value>, known: &[&str]) {
        for key in obj.keys() {
            if known.contains(&key.as_str()) {
                continue;
            }
            let p = format!("{path}.{key}");
            match known.iter().find(|k| k.eq_ignore_ascii_case(key)) {
                Some(k) => self.error(
                    &p,
                    format!("unknown key; did you mean \"{k}\"? (keys are case-sensitive in the cluster)"),
                ),
                None => self.warn(
                    &p,
                    "unknown key; the GMSACredentialSpec resource drops it (the CRD prunes unknown fields)",
                ),
            }
        }
    }

    fn object<'v>(
        &mut self,
        parent: &'v Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<&'v Map<String, Value>> {
        let p = format!("{path}.{key}");
        match parent.get(key) {
            None => {
                self.error(&p, "required object is missing");
                None
            }
            Some(Value::Object(o)) => Some(o),
            Some(other) => {
                self.error(&p, format!("must be an object, found {}", kind_of(other)));
                None
            }
        }
    }

    fn string<'v>(
        &mut self,
        parent: &'v Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<&'v str> {
        let p = format!("{path}.{key}");
        match parent.get(key) {
            None => {
                self.error(&p, "required string is missing");
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                self.error(&p, "must not be empty");
                None
            }
            Some(Value::String(s)) => {
                if s.trim() != s {
                    self.error(&p, "has leading or trailing white space");
                }
                Some(s)
            }
            Some(other) => {
                self.error(&p, format!("must be a string, found {}", kind_of(other)));
                None
            }
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Check a parsed credential spec against every rule. The order of findings follows the
/// document.
pub fn lint(value: &Value) -> Vec<Finding> {
    let mut l = Linter { findings: vec![] };
    let Some(root) = value.as_object() else {
        l.error(
            "$",
            format!(
                "a credential spec must be a JSON object, found {}",
                kind_of(value)
            ),
        );
        return l.findings;
    };
    l.unknown_keys(
        "$",
        root,
        &["CmsPlugins", "DomainJoinConfig", "ActiveDirectoryConfig"],
    );

    // CmsPlugins
    match root.get("CmsPlugins") {
        None => l.error(
            "$.CmsPlugins",
            "required array is missing; it must be [\"ActiveDirectory\"]",
        ),
        Some(Value::Array(items)) => {
            let mut has_ad = false;
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) if s == "ActiveDirectory" => has_ad = true,
                    Value::String(s) if s.eq_ignore_ascii_case("ActiveDirectory") => {
                        l.error(
                            &format!("$.CmsPlugins[{i}]"),
                            format!("\"{s}\" must be spelled \"ActiveDirectory\""),
                        );
                        has_ad = true;
                    }
                    Value::String(_) => {}
                    other => l.error(
                        &format!("$.CmsPlugins[{i}]"),
                        format!("must be a string, found {}", kind_of(other)),
                    ),
                }
            }
            if !has_ad {
                l.error("$.CmsPlugins", "must contain \"ActiveDirectory\"");
            }
        }
        Some(other) => l.error(
            "$.CmsPlugins",
            format!("must be an array, found {}", kind_of(other)),
        ),
    }

    // DomainJoinConfig
    let mut account = None;
    let mut dns_name = None;
    let mut netbios = None;
    if let Some(djc) = l.object(root, "$", "DomainJoinConfig") {
        let p = "$.DomainJoinConfig";
        l.unknown_keys(
            p,
            djc,
            &[
                "Sid",
                "MachineAccountName",
                "Guid",
                "DnsTreeName",
                "DnsName",
                "NetBiosName",
            ],
        );
        if let Some(sid) = l.string(djc, p, "Sid") {
            if let Err(m) = names::check_domain_sid(sid) {
                l.error("$.DomainJoinConfig.Sid", m);
            }
        }
        if let Some(name) = l.string(djc, p, "MachineAccountName") {
            account_name_rules(&mut l, "$.DomainJoinConfig.MachineAccountName", name);
            account = Some(name);
        }
        if let Some(guid) = l.string(djc, p, "Guid") {
            match names::parse_guid(guid) {
                Err(m) => l.error("$.DomainJoinConfig.Guid", m),
                Ok(g) => {
                    if guid.starts_with('{') {
                        l.warn(
                            "$.DomainJoinConfig.Guid",
                            "Windows writes the domain GUID without braces",
                        );
                    }
                    if g == [0u8; 16] {
                        l.error(
                            "$.DomainJoinConfig.Guid",
                            "the nil GUID is not a domain's objectGUID",
                        );
                    }
                }
            }
        }
        if let Some(tree) = l.string(djc, p, "DnsTreeName") {
            if let Err(m) = names::check_dns_domain(tree) {
                l.error("$.DomainJoinConfig.DnsTreeName", m);
            }
        }
        if let Some(dns) = l.string(djc, p, "DnsName") {
            match names::check_dns_domain(dns) {
                Err(m) => l.error("$.DomainJoinConfig.DnsName", m),
                Ok(()) => dns_name = Some(dns),
            }
        }
        if let Some(nb) = l.string(djc, p, "NetBiosName") {
            match names::check_netbios(nb) {
                Err(m) => l.error("$.DomainJoinConfig.NetBiosName", m),
                Ok(()) => netbios = Some(nb),
            }
        }
    }

    // ActiveDirectoryConfig
    if let Some(adc) = l.object(root, "$", "ActiveDirectoryConfig") {
        let p = "$.ActiveDirectoryConfig";
        l.unknown_keys(
            p,
            adc,
            &["GroupManagedServiceAccounts", "HostAccountConfig"],
        );
        let gp = "$.ActiveDirectoryConfig.GroupManagedServiceAccounts";
        match adc.get("GroupManagedServiceAccounts") {
            None => l.error(
                gp,
                "required array is missing; it lists the gMSA with its DNS and NetBIOS scopes",
            ),
            Some(Value::Array(items)) if items.is_empty() => {
                l.error(gp, "must list at least the gMSA")
            }
            Some(Value::Array(items)) => {
                let mut entries: Vec<(String, String)> = vec![];
                for (i, item) in items.iter().enumerate() {
                    let ip = format!("{gp}[{i}]");
                    let Some(obj) = item.as_object() else {
                        l.error(
                            &ip,
                            format!(
                                "must be an object with Name and Scope, found {}",
                                kind_of(item)
                            ),
                        );
                        continue;
                    };
                    l.unknown_keys(&ip, obj, &["Name", "Scope"]);
                    let name = l.string(obj, &ip, "Name");
                    if let Some(n) = name {
                        account_name_rules(&mut l, &format!("{ip}.Name"), n);
                    }
                    let scope = l.string(obj, &ip, "Scope");
                    if let (Some(n), Some(s)) = (name, scope) {
                        let key = (n.to_ascii_lowercase(), s.to_ascii_lowercase());
                        if entries.contains(&key) {
                            l.warn(&ip, format!("duplicate entry for {n} in scope {s}"));
                        }
                        entries.push(key);
                    }
                }
                if let Some(acc) = account {
                    let acc_l = acc.trim_end_matches('$').to_ascii_lowercase();
                    let scopes: Vec<&str> = entries
                        .iter()
                        .filter(|(n, _)| n.trim_end_matches('$') == acc_l)
                        .map(|(_, s)| s.as_str())
                        .collect();
                    if scopes.is_empty() {
                        l.warn(gp, format!("no entry names the gMSA {acc} from DomainJoinConfig.MachineAccountName"));
                    } else {
                        if let Some(dns) = dns_name {
                            if !scopes.contains(&dns.to_ascii_lowercase().as_str()) {
                                l.warn(gp, format!("no entry for {acc} scoped to the DNS name {dns} (New-CredentialSpec writes one)"));
                            }
                        }
                        if let Some(nb) = netbios {
                            if !scopes.contains(&nb.to_ascii_lowercase().as_str()) {
                                l.warn(gp, format!("no entry for {acc} scoped to the NetBIOS name {nb} (New-CredentialSpec writes one)"));
                            }
                        }
                    }
                }
            }
            Some(other) => l.error(gp, format!("must be an array, found {}", kind_of(other))),
        }
        match adc.get("HostAccountConfig") {
            None => {}
            Some(Value::Object(hac)) => host_account_rules(&mut l, hac),
            Some(other) => l.error(
                "$.ActiveDirectoryConfig.HostAccountConfig",
                format!("must be an object, found {}", kind_of(other)),
            ),
        }
    }
    l.findings
}

fn account_name_rules(l: &mut Linter, path: &str, name: &str) {
    if let Err(m) = names::check_account_name(name) {
        l.error(path, m);
    }
}

fn host_account_rules(l: &mut Linter, hac: &Map<String, Value>) {
    let p = "$.ActiveDirectoryConfig.HostAccountConfig";
    l.unknown_keys(p, hac, &["PortableCcgVersion", "PluginGUID", "PluginInput"]);
    if let Some(v) = l.string(hac, p, "PortableCcgVersion") {
        if v != "1" {
            l.error(
                &format!("{p}.PortableCcgVersion"),
                format!("must be \"1\", found \"{v}\""),
            );
        }
    }
    let mut plugin = None;
    if let Some(g) = l.string(hac, p, "PluginGUID") {
        let gp = format!("{p}.PluginGUID");
        if !(g.starts_with('{') && g.ends_with('}')) {
            l.error(
                &gp,
                format!(
                    "must be a GUID in braces, such as {}; found \"{g}\"",
                    CcgPlugin::AzureKeyVault.guid()
                ),
            );
        }
        match names::parse_guid(g) {
            Err(m) => l.error(&gp, format!("{m} (the plug-in's COM CLSID)")),
            Ok(_) => plugin = CcgPlugin::from_guid(g),
        }
    }
    if let Some(input) = l.string(hac, p, "PluginInput") {
        let ip = format!("{p}.PluginInput");
        match plugin {
            Some(CcgPlugin::AzureKeyVault) => {
                let has = |k: &str| {
                    input.split(';').any(|kv| {
                        kv.split_once('=').is_some_and(|(a, b)| {
                            a.trim().eq_ignore_ascii_case(k) && !b.trim().is_empty()
                        })
                    })
                };
                if !has("ObjectId") || !has("SecretUri") {
                    l.error(&ip, "the Azure Key Vault plug-in wants \"ObjectId=<managed identity object id>;SecretUri=<key vault secret URI>\"");
                }
            }
            Some(CcgPlugin::Aws) => {
                let ok = serde_json::from_str::<Value>(input)
                    .ok()
                    .and_then(|v| {
                        v.get("credentialArn")
                            .and_then(|a| a.as_str())
                            .map(|a| a.starts_with("arn:"))
                    })
                    .unwrap_or(false);
                if !ok {
                    l.error(&ip, "the AWS plug-in wants a JSON string such as {\"credentialArn\": \"arn:aws:secretsmanager:...\"}");
                }
            }
            Some(CcgPlugin::Rancher) => {
                let ok = input.split_once(':').is_some_and(|(ns, name)| {
                    names::check_label(ns).is_ok() && names::check_subdomain(name).is_ok()
                });
                if !ok {
                    l.error(&ip, "the Rancher plug-in wants \"<namespace>:<secret-name>\" naming a Kubernetes secret");
                }
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        json!({
            "CmsPlugins": ["ActiveDirectory"],
            "DomainJoinConfig": {
                "Sid": "S-1-5-21-702590844-1001920913-2680819671",
                "MachineAccountName": "webapp01",
                "Guid": "56d9b66c-d746-4f87-bd26-26760cfdca2e",
                "DnsTreeName": "contoso.com",
                "DnsName": "contoso.com",
                "NetBiosName": "CONTOSO"
            },
            "ActiveDirectoryConfig": {
                "GroupManagedServiceAccounts": [
                    { "Name": "webapp01", "Scope": "contoso.com" },
                    { "Name": "webapp01", "Scope": "CONTOSO" }
                ]
            }
        })
    }

    fn with(path: &[&str], v: Value) -> Value {
        let mut doc = good();
        let mut cur = &mut doc;
        for p in &path[..path.len() - 1] {
            cur = cur.get_mut(*p).unwrap();
        }
        cur.as_object_mut()
            .unwrap()
            .insert(path[path.len() - 1].into(), v);
        doc
    }

    fn only(findings: &[Finding], sev: Severity, path: &str) {
        assert!(
            findings.iter().any(|f| f.severity == sev && f.path == path),
            "expected a {sev:?} at {path}, got {findings:#?}"
        );
    }

    #[test]
    fn the_primers_example_is_clean() {
        assert_eq!(lint(&good()), vec![]);
    }

    #[test]
    fn the_shipped_examples_are_clean() {
        for f in ["webapp01-domain-joined.json", "webapp01-akv-plugin.json"] {
            let path = format!(
                "{}/../../examples/credspecs/{f}",
                env!("CARGO_MANIFEST_DIR")
            );
            let text = super::super::model::decode_text(&std::fs::read(&path).unwrap()).unwrap();
            let v = super::super::model::parse_value(&text).unwrap();
            assert_eq!(lint(&v), vec![], "{f}");
        }
    }

    #[test]
    fn account_sid_with_rid_is_an_error() {
        let f = lint(&with(
            &["DomainJoinConfig", "Sid"],
            json!("S-1-5-21-702590844-1001920913-2680819671-1105"),
        ));
        only(&f, Severity::Error, "$.DomainJoinConfig.Sid");
        assert!(f[0].message.contains("account"), "{f:?}");
    }

    #[test]
    fn sid_shapes() {
        for bad in [
            "S-1-5-32-544",
            "S-1-5-21-1-2",
            "s-1-5-21-1-2-3x",
            "S-1-5-21-1-2-4294967296",
            "",
        ] {
            let f = lint(&with(&["DomainJoinConfig", "Sid"], json!(bad)));
            only(&f, Severity::Error, "$.DomainJoinConfig.Sid");
        }
    }

    #[test]
    fn machine_account_name_with_dollar_or_domain() {
        for bad in [
            "webapp01$",
            "CONTOSO\\webapp01",
            "webapp01@contoso.com",
            "web app",
        ] {
            let f = lint(&with(
                &["DomainJoinConfig", "MachineAccountName"],
                json!(bad),
            ));
            only(&f, Severity::Error, "$.DomainJoinConfig.MachineAccountName");
        }
    }

    #[test]
    fn guid_must_be_a_guid() {
        let f = lint(&with(
            &["DomainJoinConfig", "Guid"],
            json!("56d9b66c-d746-4f87-bd26"),
        ));
        only(&f, Severity::Error, "$.DomainJoinConfig.Guid");
        let f = lint(&with(
            &["DomainJoinConfig", "Guid"],
            json!("{56d9b66c-d746-4f87-bd26-26760cfdca2e}"),
        ));
        only(&f, Severity::Warning, "$.DomainJoinConfig.Guid");
        assert!(!has_errors(&f));
    }

    #[test]
    fn a_missing_netbios_scope_is_a_warning() {
        let f = lint(&with(
            &["ActiveDirectoryConfig", "GroupManagedServiceAccounts"],
            json!([{ "Name": "webapp01", "Scope": "contoso.com" }]),
        ));
        assert!(!has_errors(&f));
        only(
            &f,
            Severity::Warning,
            "$.ActiveDirectoryConfig.GroupManagedServiceAccounts",
        );
        assert!(f[0].message.contains("NetBIOS"));
    }

    #[test]
    fn cms_plugins_must_contain_active_directory() {
        let f = lint(&with(&["CmsPlugins"], json!([])));
        only(&f, Severity::Error, "$.CmsPlugins");
        let f = lint(&with(&["CmsPlugins"], json!("ActiveDirectory")));
        only(&f, Severity::Error, "$.CmsPlugins");
    }

    #[test]
    fn unknown_keys_are_pruned_warnings_and_case_slips_are_errors() {
        let f = lint(&with(&["DomainJoinConfig", "Extra"], json!("x")));
        only(&f, Severity::Warning, "$.DomainJoinConfig.Extra");
        let mut doc = good();
        let djc = doc["DomainJoinConfig"].as_object_mut().unwrap();
        let sid = djc.remove("Sid").unwrap();
        djc.insert("SID".into(), sid);
        let f = lint(&doc);
        only(&f, Severity::Error, "$.DomainJoinConfig.SID");
        only(&f, Severity::Error, "$.DomainJoinConfig.Sid");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let doc = json!({
            "CmsPlugins": ["Nope"],
            "DomainJoinConfig": { "Sid": 5, "MachineAccountName": "a$", "Guid": "x", "DnsTreeName": "-bad-", "DnsName": "contoso.com", "NetBiosName": "WAY-TOO-LONG-NETBIOS" },
            "ActiveDirectoryConfig": { "GroupManagedServiceAccounts": [ { "Name": "a", "Scope": "contoso.com" } ] }
        });
        let f = lint(&doc);
        for p in [
            "$.CmsPlugins",
            "$.DomainJoinConfig.Sid",
            "$.DomainJoinConfig.MachineAccountName",
            "$.DomainJoinConfig.Guid",
            "$.DomainJoinConfig.DnsTreeName",
            "$.DomainJoinConfig.NetBiosName",
        ] {
            only(&f, Severity::Error, p);
        }
    }

    #[test]
    fn the_troubleshooting_pages_plugin_guid_placeholder_is_reported() {
        let f = lint(&with(
            &["ActiveDirectoryConfig", "HostAccountConfig"],
            json!({
                "PortableCcgVersion": "1",
                "PluginGUID": "{GDMA0342-266A-4D1P-831J-20990E82944F}",
                "PluginInput": "contoso.com:gmsaccg:<ccgCredentials>"
            }),
        ));
        only(
            &f,
            Severity::Error,
            "$.ActiveDirectoryConfig.HostAccountConfig.PluginGUID",
        );
    }

    #[test]
    fn host_account_config_rules() {
        let hac = |v: &str, g: &str, i: &str| {
            lint(&with(
                &["ActiveDirectoryConfig", "HostAccountConfig"],
                json!({ "PortableCcgVersion": v, "PluginGUID": g, "PluginInput": i }),
            ))
        };
        let p = "$.ActiveDirectoryConfig.HostAccountConfig";
        let ok = hac(
            "1",
            "{CCC2A336-D7F3-4818-A213-272B7924213E}",
            "ObjectId=1;SecretUri=https://v/s",
        );
        assert_eq!(ok, vec![]);
        only(
            &hac(
                "2",
                "{CCC2A336-D7F3-4818-A213-272B7924213E}",
                "ObjectId=1;SecretUri=https://v/s",
            ),
            Severity::Error,
            &format!("{p}.PortableCcgVersion"),
        );
        only(
            &hac(
                "1",
                "CCC2A336-D7F3-4818-A213-272B7924213E",
                "ObjectId=1;SecretUri=https://v/s",
            ),
            Severity::Error,
            &format!("{p}.PluginGUID"),
        );
        only(
            &hac("1", "{CCC2A336-D7F3-4818-A213-272B7924213E}", "ObjectId=1"),
            Severity::Error,
            &format!("{p}.PluginInput"),
        );
        only(
            &hac("1", "{859E1386-BDB4-49E8-85C7-3070B13920E1}", "arn:aws:x"),
            Severity::Error,
            &format!("{p}.PluginInput"),
        );
        assert_eq!(
            hac(
                "1",
                "{859E1386-BDB4-49E8-85C7-3070B13920E1}",
                r#"{"credentialArn": "arn:aws:secretsmanager:us-west-2:1:secret:gmsa"}"#
            ),
            vec![]
        );
        only(
            &hac("1", "{E4781092-F116-4B79-B55E-28EB6A224E26}", "just-a-name"),
            Severity::Error,
            &format!("{p}.PluginInput"),
        );
        assert_eq!(
            hac(
                "1",
                "{E4781092-F116-4B79-B55E-28EB6A224E26}",
                "kube-system:gmsa-user"
            ),
            vec![]
        );
        let missing = lint(&with(
            &["ActiveDirectoryConfig", "HostAccountConfig"],
            json!({}),
        ));
        only(&missing, Severity::Error, &format!("{p}.PluginGUID"));
        only(&missing, Severity::Error, &format!("{p}.PluginInput"));
    }

    #[test]
    fn not_an_object() {
        only(&lint(&json!([1])), Severity::Error, "$");
    }
}
