//! Where a credential spec comes from (a file or the document), and the operations on one
//! alone: `lint` and `convert`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::credspec::{self, CredentialSpec, Finding};
use crate::error::{Error, Result};
use crate::names;

/// Where a credential spec comes from: a file, or the JSON document itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct CredspecSource {
    /// Path of a credential spec JSON file; `-` reads standard input. Read exactly once.
    pub credspec_file: Option<PathBuf>,
    /// The credential spec document itself (instead of a file).
    pub credspec: Option<Value>,
}

impl CredspecSource {
    fn describe(&self) -> String {
        match &self.credspec_file {
            Some(p) => credspec::file_label(p),
            None => "given".into(),
        }
    }

    /// Read and lint; errors list every lint error.
    pub fn load(&self) -> Result<(CredentialSpec, Vec<Finding>)> {
        match (&self.credspec_file, &self.credspec) {
            (Some(_), Some(_)) => Err(Error::invalid(
                "give either a credential spec file or a credential spec, not both",
            )),
            (None, None) => {
                Err(Error::invalid("no credential spec given")
                    .with_hint("pass --credspec-file PATH"))
            }
            (Some(path), None) => credspec::load_file(path),
            (None, Some(value)) => {
                // Accept the document as a JSON string too (what a C or PowerShell caller may hold).
                let value = match value {
                    Value::String(text) => credspec::model::parse_value(text)?,
                    v => v.clone(),
                };
                credspec::into_spec(credspec::check_value(&value), &self.describe())
            }
        }
    }
}

// ---------------------------------------------------------------- lint

/// Lint credential spec text (or a file).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct LintRequest {
    pub source: CredspecSource,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LintOutcome {
    pub findings: Vec<Finding>,
    pub errors: usize,
    pub warnings: usize,
}

/// Lint one credential spec. Only unreadable input (no file, not JSON) is an `Err`; rule
/// violations are findings.
pub fn lint(req: &LintRequest) -> Result<LintOutcome> {
    let checked = match (&req.source.credspec_file, &req.source.credspec) {
        (Some(path), None) => credspec::check_file(path)?,
        (None, Some(Value::String(text))) => credspec::check_text(text)?,
        (None, Some(v)) => credspec::check_value(v),
        _ => {
            return Err(Error::invalid(
                "give exactly one of a credential spec file or a credential spec",
            ))
        }
    };
    let errors = checked
        .findings
        .iter()
        .filter(|f| f.severity == credspec::Severity::Error)
        .count();
    Ok(LintOutcome {
        warnings: checked.findings.len() - errors,
        errors,
        findings: checked.findings,
    })
}

// ---------------------------------------------------------------- convert

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct ConvertRequest {
    pub source: CredspecSource,
    /// Resource name; default derived from the account (lower case, `_` to `-`).
    pub credspec_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvertOutcome {
    pub resource: Value,
    pub findings: Vec<Finding>,
}

/// The `GMSACredentialSpec` resource for a credential spec (no cluster involved).
pub fn convert(req: &ConvertRequest) -> Result<ConvertOutcome> {
    let (spec, findings) = req.source.load()?;
    let name = resource_name(req.credspec_name.as_deref(), &spec)?;
    Ok(ConvertOutcome {
        resource: credspec::to_resource(&name, &spec, &[]),
        findings,
    })
}

pub(crate) fn resource_name(given: Option<&str>, spec: &CredentialSpec) -> Result<String> {
    let name = match given {
        Some(n) => n.to_owned(),
        None => names::resource_name_from_account(spec.account()),
    };
    names::check_resource_name("credential spec", &name)?;
    Ok(name)
}
