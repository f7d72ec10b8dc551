//! Printers: kubectl-style summaries, `-o yaml|json` object lists, tables, certificate
//! lines, and errors.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use gmsa::cluster::DryRun;
use gmsa::credspec::{Finding, Severity};
use gmsa::ops::{ApplyOutcome, CertificateSummary, ObjectOutcome};
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

/// Objects as a kubectl `List`, in YAML or JSON.
pub fn objects(
    out: &mut dyn Write,
    objects: Vec<Value>,
    format: ObjectFormat,
) -> std::io::Result<()> {
    let list = if objects.len() == 1 {
        objects.into_iter().next().expect("one")
    } else {
        json!({ "apiVersion": "v1", "kind": "List", "metadata": {}, "items": objects })
    };
    value(out, &list, format)
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

/// The objects of an outcome, cleaned of server bookkeeping (managedFields).
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

/// The outcome of a write: the objects with `-o`, else the summary.
pub fn outcome(
    out: &mut dyn Write,
    o: &ApplyOutcome,
    w: &WriteArgs,
) -> Result<ExitCode, gmsa::Error> {
    match w.output {
        Some(format) => objects(out, outcome_objects(o), format).map_err(io)?,
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
