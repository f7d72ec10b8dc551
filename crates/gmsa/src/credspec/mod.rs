//! Credential specs: the document (model), its rules (lint), and the `GMSACredentialSpec`
//! resource that carries it into a cluster.

pub mod lint;
pub mod model;

use std::path::Path;

use serde_json::Value;

pub use lint::{has_errors, lint, Finding, Severity};
pub use model::{
    host_account_config, ActiveDirectoryConfig, CcgPlugin, CredentialSpec, DomainJoinConfig,
    GroupManagedServiceAccount, HostAccountConfig,
};

use crate::error::{Error, Result};

pub const GROUP: &str = "windows.k8s.io";
pub const VERSION: &str = "v1";
pub const KIND: &str = "GMSACredentialSpec";
pub const PLURAL: &str = "gmsacredentialspecs";
pub const CRD_NAME: &str = "gmsacredentialspecs.windows.k8s.io";

/// A credential spec as read from somewhere, with its findings.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The typed spec; `None` when the document has errors.
    pub spec: Option<CredentialSpec>,
    pub findings: Vec<Finding>,
}

/// Parse and lint credential spec text (a file's contents).
pub fn check_text(text: &str) -> Result<Checked> {
    let value = model::parse_value(text)?;
    Ok(check_value(&value))
}

/// Lint a JSON value and, when it has no errors, type it.
pub fn check_value(value: &Value) -> Checked {
    let findings = lint(value);
    let spec = if has_errors(&findings) {
        None
    } else {
        serde_json::from_value::<CredentialSpec>(value.clone()).ok()
    };
    Checked { spec, findings }
}

/// The path that means standard input (kubectl's `-f -`).
pub const STDIN_PATH: &str = "-";

/// How messages name a credential spec file: its path, or "standard input" for `-`.
pub fn file_label(path: &Path) -> String {
    if path.as_os_str() == STDIN_PATH {
        "standard input".into()
    } else {
        path.display().to_string()
    }
}

/// Read and lint a credential spec file (UTF-8 with or without BOM, UTF-16 with BOM). `-`
/// is standard input. The file is opened and read exactly once, so a pipe (`/dev/stdin`,
/// a shell's `<(...)`) works like a file.
pub fn check_file(path: &Path) -> Result<Checked> {
    let label = file_label(path);
    let read = if path.as_os_str() == STDIN_PATH {
        let mut bytes = vec![];
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes).map(|_| bytes)
    } else {
        std::fs::read(path)
    };
    let bytes = read.map_err(|e| {
        Error::invalid(format!(
            "failed to read credential spec file {label}: {}",
            io_reason(&e)
        ))
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(
            Error::invalid(format!("the credential spec file {label} is empty")).with_hint(
                "give a credential spec JSON file, or pipe one in with `-`: \
                 kubectl gmsa new-credspec ... | kubectl gmsa add-credspec --credspec-file -",
            ),
        );
    }
    let text = model::decode_text(&bytes)
        .map_err(|e| e.context(format_args!("read credential spec file {label}")))?;
    check_text(&text).map_err(|e| e.context(format_args!("read credential spec file {label}")))
}

/// Read a credential spec file (once) and insist that it has no lint errors.
pub fn load_file(path: &Path) -> Result<(CredentialSpec, Vec<Finding>)> {
    let checked = check_file(path)?;
    into_spec(checked, &file_label(path))
}

/// Turn lint results into a spec, or an error that lists every lint error.
pub fn into_spec(checked: Checked, source: &str) -> Result<(CredentialSpec, Vec<Finding>)> {
    match checked.spec {
        Some(spec) => Ok((spec, checked.findings)),
        None => {
            let errors: Vec<String> = checked
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| format!("  {}: {}", f.path, f.message))
                .collect();
            Err(Error::invalid(format!(
                "the credential spec {source} has {} error{}:\n{}",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" },
                errors.join("\n")
            ))
            .with_hint(format!(
                "run `kubectl gmsa lint {}` for every finding, fix the file and try again",
                if source == "standard input" {
                    STDIN_PATH
                } else {
                    source
                }
            )))
        }
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// The `windows.k8s.io/v1` `GMSACredentialSpec` resource for a spec, as the upstream
/// `GenerateCredentialSpecResource.ps1` writes it (plus any labels given).
pub fn to_resource(name: &str, spec: &CredentialSpec, labels: &[(&str, &str)]) -> Value {
    let mut metadata = serde_json::Map::new();
    metadata.insert("name".into(), Value::String(name.to_owned()));
    if !labels.is_empty() {
        let l: serde_json::Map<String, Value> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
            .collect();
        metadata.insert("labels".into(), Value::Object(l));
    }
    serde_json::json!({
        "apiVersion": format!("{GROUP}/{VERSION}"),
        "kind": KIND,
        "metadata": metadata,
        "credspec": spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    const SPEC: &str = include_str!("../../../../examples/credspecs/webapp01-domain-joined.json");

    #[test]
    fn crlf_bom_and_key_order_do_not_matter() {
        let crlf = format!("\u{feff}{}", SPEC.replace('\n', "\r\n"));
        let a = check_text(&crlf).unwrap().spec.unwrap();
        let v: Value = serde_json::from_str(SPEC).unwrap();
        // Re-order the top-level keys.
        let mut reordered = serde_json::Map::new();
        for k in ["ActiveDirectoryConfig", "DomainJoinConfig", "CmsPlugins"] {
            reordered.insert(k.into(), v[k].clone());
        }
        let b = check_value(&Value::Object(reordered)).spec.unwrap();
        assert_eq!(a, b);
        assert_eq!(a.account(), "webapp01");
    }

    #[test]
    fn resource_matches_generate_credential_spec_resource() {
        let spec = check_text(SPEC).unwrap().spec.unwrap();
        let r = to_resource("webapp01", &spec, &[]);
        assert_eq!(r["apiVersion"], "windows.k8s.io/v1");
        assert_eq!(r["kind"], "GMSACredentialSpec");
        assert_eq!(r["metadata"], serde_json::json!({"name": "webapp01"}));
        let original: Value = serde_json::from_str(SPEC).unwrap();
        assert_eq!(r["credspec"], original);
        // Windows' key order survives.
        let keys: Vec<&String> = r["credspec"]["DomainJoinConfig"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(
            keys,
            [
                "Sid",
                "MachineAccountName",
                "Guid",
                "DnsTreeName",
                "DnsName",
                "NetBiosName"
            ]
        );
    }

    #[test]
    fn errors_list_every_problem() {
        let bad = SPEC
            .replace(
                "webapp01\",\n        \"Guid",
                "webapp01$\",\n        \"Guid",
            )
            .replace("S-1-5-21-702590844", "S-1-5-32-702590844");
        let e = into_spec(check_text(&bad).unwrap(), "x.json").unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(e.message.contains("2 errors"), "{}", e.message);
        assert!(e.message.contains("$.DomainJoinConfig.Sid"));
        assert!(e.message.contains("$.DomainJoinConfig.MachineAccountName"));
    }

    #[test]
    fn missing_file_says_so() {
        let e = check_file(Path::new("/nonexistent/webapp01.json")).unwrap_err();
        assert!(e.message.contains("no such file"), "{}", e.message);
        assert!(e.message.contains("/nonexistent/webapp01.json"));
    }
}
