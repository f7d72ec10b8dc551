//! `uninstall-webhook`: delete what install-webhook made, webhook configurations first.

use serde::{Deserialize, Serialize};

use super::status::credspec_names;
use crate::cluster::apply::delete_all;
use crate::cluster::error::forbidden_read;
use crate::cluster::object::ObjectRef;
use crate::cluster::version::server_version_warm;
use crate::cluster::webhook::{is_instance, owner_namespace, Names};
use crate::cluster::{self, crd, DryRun, Target};
use crate::error::{Error, ErrorKind, Result};
use crate::outcome::{Action, ObjectOutcome};
use crate::progress::Reporter;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct UninstallWebhookRequest {
    pub target: Target,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// Also delete the CRD (and with it every credential spec).
    pub purge: bool,
    /// With `purge`: even when credential specs exist.
    pub force: bool,
    pub dry_run: DryRun,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UninstallWebhookOutcome {
    pub dry_run: DryRun,
    pub objects: Vec<ObjectOutcome>,
}

/// Delete what `install-webhook` made (found by our labels), webhook configurations first;
/// the namespace only if the install made it; the CRD only with `purge`.
pub async fn uninstall_webhook(
    req: &UninstallWebhookRequest,
    reporter: &dyn Reporter,
) -> Result<UninstallWebhookOutcome> {
    let names = Names::checked(req.name.as_deref(), req.namespace.as_deref())?;
    if req.force && !req.purge {
        return Err(Error::invalid("--force only makes sense with --purge"));
    }
    let cluster = cluster::connect(&req.target).await?;
    let version = server_version_warm(&cluster, 16).await?;
    let mut refs = names.removable(version.pdb_api_version());
    refs.push(names.namespace_ref());
    if req.purge {
        refs.push(crd::object_ref());
    }
    reporter.step("reading the webhook's objects");
    let client = &cluster.client;
    let existing = futures::future::try_join_all(refs.iter().map(|r| async move {
        match cluster::get(client, r).await {
            // cert-manager's kinds are absent on most clusters.
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            other => other,
        }
    }))
    .await
    .map_err(forbidden_read)?;

    refuse_elsewhere(req, &names, &refs, &existing)?;

    let mut to_delete = vec![];
    let mut outcomes = vec![];
    for (r, obj) in refs.iter().zip(&existing) {
        let Some(obj) = obj else { continue };
        let ours = if r.kind == "CustomResourceDefinition" {
            cluster::is_ours(obj)
        } else {
            is_instance(obj, &names.name)
        };
        if !ours {
            let why = if r.kind == "Namespace" {
                "not created by install-webhook"
            } else {
                "not made by kubectl-gmsa for this webhook"
            };
            outcomes.push(ObjectOutcome::skipped(r, why));
        } else if obj["metadata"]["deletionTimestamp"].is_string() && r.kind == "Namespace" {
            outcomes.push(ObjectOutcome::skipped(r, "already being deleted"));
        } else {
            to_delete.push(r.clone());
        }
    }
    if req.purge
        && to_delete
            .iter()
            .any(|r| r.kind == "CustomResourceDefinition")
        && !req.force
    {
        let specs = credspec_names(&cluster).await?;
        if !specs.is_empty() {
            let shown: Vec<&str> = specs.iter().take(10).map(String::as_str).collect();
            return Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "{} credential spec(s) exist ({}{}); --purge would delete them with the CRD, so nothing was changed",
                    specs.len(),
                    shown.join(", "),
                    if specs.len() > shown.len() { ", ..." } else { "" }
                ),
            )
            .with_hint("remove them first (kubectl gmsa remove-credspec), or pass --force to delete them too"));
        }
    }
    let deleted = if req.dry_run == DryRun::Client {
        // As kubectl's client dry run: what was read is what would go; no write request.
        to_delete
            .iter()
            .map(|r| ObjectOutcome::new(r, Action::Deleted, None))
            .collect()
    } else {
        delete_all(&cluster, to_delete, req.dry_run == DryRun::Server, reporter).await?
    };
    outcomes.splice(0..0, deleted);
    Ok(UninstallWebhookOutcome {
        dry_run: req.dry_run,
        objects: outcomes,
    })
}

/// Refuse, changing nothing, when this install's cluster-wide objects (webhook configurations,
/// ClusterRole, ClusterRoleBinding) belong to an install in another namespace: deleting them
/// would switch the gMSA checks off for the whole cluster. Objects written before owners were
/// recorded are judged by where they point (the Service, the ServiceAccount).
fn refuse_elsewhere(
    req: &UninstallWebhookRequest,
    names: &Names,
    refs: &[ObjectRef],
    existing: &[Option<serde_json::Value>],
) -> Result<()> {
    let owners: Vec<(String, String)> = refs
        .iter()
        .zip(existing)
        .filter(|(r, _)| r.namespace.is_none() && r.kind != "Namespace")
        .filter_map(|(r, o)| {
            let o = o.as_ref()?;
            if !is_instance(o, &names.name) {
                return None;
            }
            let ns = owner_namespace(o)?;
            (ns != names.namespace).then(|| (r.display(), ns))
        })
        .collect();
    let Some((_, ns)) = owners.first() else {
        return Ok(());
    };
    let assumed = if req.namespace.is_none() {
        format!(
            " (no -n was given, so namespace {} was assumed)",
            names.namespace
        )
    } else {
        String::new()
    };
    let lines: Vec<String> = owners
        .iter()
        .map(|(d, ns)| format!("  {d} belongs to the install in namespace {ns}"))
        .collect();
    Err(Error::new(
        ErrorKind::Conflict,
        format!(
            "webhook {} lives in namespace {ns}, not {}{assumed}; nothing was changed:\n{}",
            names.name,
            names.namespace,
            lines.join("\n")
        ),
    )
    .with_hint(format!(
        "to uninstall it, run `kubectl gmsa uninstall-webhook --name {} -n {ns}`",
        names.name
    )))
}
