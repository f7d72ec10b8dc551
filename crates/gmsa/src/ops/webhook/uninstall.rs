//! `uninstall-webhook`: delete what install-webhook made, webhook configurations first.

use serde::{Deserialize, Serialize};

use super::status::credspec_names;
use crate::cluster::apply::delete_all;
use crate::cluster::error::forbidden_read;
use crate::cluster::version::server_version_warm;
use crate::cluster::webhook::{is_instance, Names};
use crate::cluster::{self, crd, DryRun, Target};
use crate::error::{Error, ErrorKind, Result};
use crate::outcome::ObjectOutcome;
use crate::progress::Reporter;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
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
    let deleted = delete_all(&cluster, to_delete, req.dry_run != DryRun::None, reporter).await?;
    outcomes.splice(0..0, deleted);
    Ok(UninstallWebhookOutcome {
        dry_run: req.dry_run,
        objects: outcomes,
    })
}
