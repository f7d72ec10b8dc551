//! What operations report: the action taken on each object, the outcome of a write, dry-run
//! modes, and the redaction of secrets and server bookkeeping in what is shown. The bottom
//! layer: the cluster machinery, the operations and every door build on it (an outcome is
//! made from an object reference in `cluster::object`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::credspec::Finding;

/// Server-side dry run, client-side (no request at all), or the real thing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DryRun {
    #[default]
    None,
    Client,
    Server,
}

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Created,
    Configured,
    Unchanged,
    Deleted,
    /// Nothing to delete: it did not exist.
    Absent,
    /// Left alone (for example: exists but is not ours).
    Skipped,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Configured => "configured",
            Action::Unchanged => "unchanged",
            Action::Deleted => "deleted",
            Action::Absent => "not found",
            Action::Skipped => "skipped",
        }
    }
}

/// One object an operation touched, with what it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectOutcome {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub action: Action,
    /// Why, when it was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The object as applied (secrets redacted); absent for deletions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Value>,
}

/// The outcome of an operation that writes objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplyOutcome {
    pub dry_run: DryRun,
    pub objects: Vec<ObjectOutcome>,
    /// Lint findings (warnings) of the credential spec involved, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

/// Replace every value of a Secret's `data` and `stringData` with a placeholder.
pub fn redact(mut v: Value) -> Value {
    if v["kind"] == "Secret" {
        for key in ["data", "stringData"] {
            if let Some(Value::Object(m)) = v.get_mut(key) {
                for val in m.values_mut() {
                    *val = Value::String("REDACTED".into());
                }
            }
        }
    }
    v
}

/// Drop the server's bookkeeping (`metadata.managedFields`) from an object before showing it.
pub fn strip_managed_fields(v: &mut Value) {
    if let Some(Value::Object(m)) = v.get_mut("metadata") {
        m.remove("managedFields");
    }
}
