//! Printers: kubectl-style summaries, `-o yaml|json` object lists, tables, certificate
//! lines, and errors.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use gmsa::cluster::DryRun;
use gmsa::credspec::{Finding, Severity};
use gmsa::ops::{Action, ApplyOutcome, CertificateSummary, ObjectOutcome};
use serde_json::{json, Value};

use crate::args::{ObjectFormat, WriteArgs};

/// A failed write to stdout, as an operation error.
pub fn io(e: std::io::Error) -> gmsa::Error {
    gmsa::Error::new(
        gmsa::ErrorKind::Internal,
        format!("failed to write output: {e}"),
    )
}

/// `-o json` of any outcome: pretty JSON and a newline.
pub fn json<T: serde::Serialize + ?Sized>(out: &mut dyn Write, v: &T) -> Result<(), gmsa::Error> {
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(v).expect("outcomes serialize")
    )
    .map_err(io)
}

/// Colour only on a terminal, and never with NO_COLOR.
pub fn colour(stream_is_terminal: bool) -> bool {
    stream_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn paint(on: bool, code: &str, text: &str) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// Print findings, one a line, to stderr (warnings of a write) or stdout (lint).
pub fn findings(
    out: &mut dyn Write,
    source: &str,
    findings: &[Finding],
    is_terminal: bool,
) -> std::io::Result<()> {
    let c = colour(is_terminal);
    for f in findings {
        let sev = match f.severity {
            Severity::Error => paint(c, "31", "error"),
            Severity::Warning => paint(c, "33", "warning"),
        };
        writeln!(out, "{source}: {sev}: {}: {}", f.path, f.message)?;
    }
    Ok(())
}

fn group_kind(o: &ObjectOutcome) -> String {
    let group = o.api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    if group.is_empty() {
        o.kind.to_lowercase()
    } else {
        format!("{}.{group}", o.kind.to_lowercase())
    }
}

/// kubectl's summary lines: `clusterrole.rbac.authorization.k8s.io/x created (server dry run)`.
pub fn summary(out: &mut dyn Write, outcome: &ApplyOutcome) -> std::io::Result<()> {
    let suffix = match outcome.dry_run {
        DryRun::None => "",
        DryRun::Client => " (dry run)",
        DryRun::Server => " (server dry run)",
    };
    for o in &outcome.objects {
        let ns = o
            .namespace
            .as_deref()
            .map(|n| format!(" -n {n}"))
            .unwrap_or_default();
        let reason = o
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        writeln!(
            out,
            "{}/{}{ns} {}{suffix}{reason}",
            group_kind(o),
            o.name,
            o.action.as_str()
        )?;
    }
    Ok(())
}

/// Objects as a kubectl `v1 List`, in YAML or JSON (`get -o yaml|json`, and what every
/// write command prints through [`written`]). One shape for one object or many, so a
/// script reads `.items` always and `kubectl apply -f` takes it as it is.
pub fn list(out: &mut dyn Write, items: Vec<Value>, format: ObjectFormat) -> std::io::Result<()> {
    value(out, &list_value(items), format)
}

/// A `v1 List` of these objects.
pub fn list_value(items: Vec<Value>) -> Value {
    json!({ "apiVersion": "v1", "kind": "List", "metadata": {}, "items": items })
}

pub fn value(out: &mut dyn Write, v: &Value, format: ObjectFormat) -> std::io::Result<()> {
    match format {
        ObjectFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(v).expect("serializes")
        ),
        ObjectFormat::Yaml => write!(out, "{}", serde_yaml::to_string(v).expect("serializes")),
    }
}

/// The objects a write touched, as shown with `-o`: each as applied (Secrets redacted),
/// cleaned of server bookkeeping (managedFields). An object deleted (or that a dry run
/// would delete) has no body left: it is shown by its apiVersion, kind and name. What was
/// left alone (not found, or skipped as not ours) is not in it.
pub fn written_objects(objects: &[ObjectOutcome]) -> Vec<Value> {
    objects
        .iter()
        .filter(|o| !matches!(o.action, Action::Absent | Action::Skipped))
        .map(|o| match &o.object {
            Some(v) => {
                let mut v = v.clone();
                gmsa::outcome::strip_managed_fields(&mut v);
                v
            }
            None => {
                let mut metadata = json!({ "name": o.name });
                if let Some(ns) = &o.namespace {
                    metadata["namespace"] = json!(ns);
                }
                json!({ "apiVersion": o.api_version, "kind": o.kind, "metadata": metadata })
            }
        })
        .collect()
}

/// An object read from the cluster, as `get -o yaml|json` prints it: without what the
/// server sets (managedFields, uid, resourceVersion, creationTimestamp, generation), so
/// that `kubectl apply -f` creates it again where it is gone and updates it where it is not.
pub fn exported(mut v: Value) -> Value {
    gmsa::outcome::strip_managed_fields(&mut v);
    if let Some(Value::Object(m)) = v.get_mut("metadata") {
        for key in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "generation",
            "selfLink",
        ] {
            m.remove(key);
        }
    }
    v
}

/// The wizard's preview: one object alone, several as a `List`.
pub fn objects(
    out: &mut dyn Write,
    objects: Vec<Value>,
    format: ObjectFormat,
) -> std::io::Result<()> {
    if objects.len() == 1 {
        value(out, &objects.into_iter().next().expect("one"), format)
    } else {
        list(out, objects, format)
    }
}

/// The bodies of an outcome's objects (deleted ones have none), managedFields stripped.
pub fn outcome_objects(outcome: &ApplyOutcome) -> Vec<Value> {
    outcome
        .objects
        .iter()
        .filter_map(|o| o.object.clone())
        .map(|mut v| {
            gmsa::outcome::strip_managed_fields(&mut v);
            v
        })
        .collect()
}

/// `-o yaml|json` of every write command (add-credspec, remove-credspec, bind-role,
/// unbind-role, create-secret, install-webhook, uninstall-webhook, rotate-certs, attach):
/// a `v1 List` of the objects written, as `kubectl apply -o json` prints several objects.
pub fn written(
    out: &mut dyn Write,
    objects: &[ObjectOutcome],
    format: ObjectFormat,
) -> Result<(), gmsa::Error> {
    list(out, written_objects(objects), format).map_err(io)
}

/// The outcome of a write: the objects with `-o`, else the summary.
pub fn outcome(
    out: &mut dyn Write,
    o: &ApplyOutcome,
    w: &WriteArgs,
) -> Result<ExitCode, gmsa::Error> {
    match w.output {
        Some(format) => written(out, &o.objects, format)?,
        None => summary(out, o).map_err(io)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The webhook's serving certificate, one line.
pub fn certificate_line(out: &mut dyn Write, c: &CertificateSummary) -> std::io::Result<()> {
    let what = match (c.issued, c.new_ca) {
        (true, true) => "issued (new CA)",
        (true, false) => "issued",
        _ => "kept",
    };
    writeln!(
        out,
        "certificate {what}: expires {} ({} days)",
        c.not_after, c.days_left
    )
}

/// Print an error and its hint on stderr.
pub fn error(e: &gmsa::Error) {
    let c = colour(std::io::stderr().is_terminal());
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{} {}", paint(c, "31", "error:"), e.message);
    if let Some(h) = &e.hint {
        let _ = writeln!(err, "{} {h}", paint(c, "36", "hint:"));
    }
}

/// A simple left-aligned table.
pub fn table(out: &mut dyn Write, header: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, cell) in r.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}   ", w = widths[i]));
            }
        }
        s
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for r in rows {
        writeln!(out, "{}", line(r.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(kind: &str, name: &str, object: Option<Value>) -> ObjectOutcome {
        ObjectOutcome {
            api_version: "v1".into(),
            kind: kind.into(),
            name: name.into(),
            namespace: Some("shop".into()),
            action: Action::Created,
            reason: None,
            object,
        }
    }

    #[test]
    fn one_object_written_is_still_a_list_without_managed_fields() {
        let secret = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": { "name": "s", "namespace": "shop", "managedFields": [{ "manager": "x" }] },
            "data": { "password": "REDACTED" }
        });
        let mut out = vec![];
        written(
            &mut out,
            &[outcome("Secret", "s", Some(secret))],
            ObjectFormat::Json,
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["kind"], "List");
        assert_eq!(v["apiVersion"], "v1");
        assert_eq!(v["items"].as_array().unwrap().len(), 1);
        assert_eq!(v["items"][0]["metadata"]["name"], "s");
        assert!(v["items"][0]["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn a_deleted_object_is_listed_by_kind_and_name() {
        let mut gone = outcome("ConfigMap", "gone", None);
        gone.action = Action::Deleted;
        let mut absent = outcome("ConfigMap", "never-there", None);
        absent.action = Action::Absent;
        let items = written_objects(&[gone, absent]);
        assert_eq!(
            items,
            [
                json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "gone", "namespace": "shop" } })
            ]
        );
    }

    #[test]
    fn exported_objects_lose_what_the_server_sets() {
        let v = exported(json!({
            "kind": "ClusterRole",
            "metadata": { "name": "r", "uid": "u", "resourceVersion": "7", "generation": 1,
                          "creationTimestamp": "t", "managedFields": [], "labels": { "a": "b" } },
            "rules": []
        }));
        assert_eq!(
            v["metadata"],
            json!({ "name": "r", "labels": { "a": "b" } })
        );
        assert_eq!(v["rules"], json!([]));
    }
}
