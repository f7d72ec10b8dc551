//! `remove-credspec`: the resource, its ClusterRole and our bindings to it.

use futures::future::try_join_all;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cluster::apply::delete_waves;
use crate::cluster::client::namespace_for;
use crate::cluster::object::{list_all, ours_selector};
use crate::cluster::objects::{self, service_accounts};
use crate::cluster::{self, is_ours, Cluster, DryRun, ObjectRef, Target};
use crate::error::{Error, ErrorKind, Result};
use crate::names;
use crate::outcome::{ApplyOutcome, ObjectOutcome};
use crate::progress::Reporter;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RemoveCredspecRequest {
    pub target: Target,
    pub credspec_name: String,
    /// Default `<credspec-name>-gmsa-user`.
    pub cluster_role_name: Option<String>,
    /// Service accounts whose bindings to remove; bindings of ours to the cluster role in
    /// other namespaces are found and removed as well.
    pub service_accounts: Vec<String>,
    pub namespace: Option<String>,
    pub dry_run: DryRun,
}

/// Remove what `add-credspec` made (objects labelled as ours) and nothing else.
pub async fn remove_credspec(
    req: &RemoveCredspecRequest,
    reporter: &dyn Reporter,
) -> Result<ApplyOutcome> {
    names::check_resource_name("credential spec", &req.credspec_name)?;
    let role = req
        .cluster_role_name
        .clone()
        .unwrap_or_else(|| objects::default_cluster_role(&req.credspec_name));
    objects::check_rbac_name("cluster role", &role)?;
    if req.dry_run == DryRun::Client {
        return Err(Error::invalid(
            "--dry-run=client is not available for removals; use --dry-run=server",
        ));
    }
    let cluster = cluster::connect(&req.target).await?;
    let namespace = namespace_for(&req.target, req.namespace.as_deref(), Some(&cluster)).await?;
    let sas = service_accounts(&req.service_accounts, &namespace)?;

    reporter.step("finding the objects add-credspec made");
    // The objects add-credspec names, read while our other bindings of the role are listed.
    let mut candidates: Vec<ObjectRef> = sas
        .iter()
        .map(|sa| objects::role_binding_ref(&role, sa))
        .collect();
    candidates.push(objects::cluster_role_ref(&role));
    candidates.push(objects::credspec_ref(&req.credspec_name));
    let (listed, found) = tokio::join!(
        our_bindings_to(&cluster, &role),
        try_join_all(candidates.iter().map(|r| cluster::get(&cluster.client, r)))
    );
    let mut found = found?;
    let more: Vec<ObjectRef> = listed?
        .into_iter()
        .filter(|b| !candidates.contains(b))
        .collect();
    found.extend(try_join_all(more.iter().map(|r| cluster::get(&cluster.client, r))).await?);
    candidates.extend(more);
    let mut to_delete = vec![];
    let mut skipped = vec![];
    for (r, obj) in candidates.into_iter().zip(found) {
        match obj {
            None => {}
            Some(o) if !is_ours(&o) => skipped.push(ObjectOutcome::skipped(
                &r,
                "not managed by kubectl-gmsa; left in place",
            )),
            Some(o)
                if r.kind == "RoleBinding"
                    && o["roleRef"]["name"].as_str() != Some(role.as_str()) =>
            {
                skipped.push(ObjectOutcome::skipped(
                    &r,
                    "binds another role; left in place",
                ))
            }
            Some(_) => to_delete.push(r),
        }
    }
    if to_delete.is_empty() && skipped.is_empty() {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("nothing to remove: no credential spec {} or cluster role {role} made by kubectl-gmsa", req.credspec_name),
        )
        .with_hint("`kubectl gmsa get` lists the credential specs"));
    }
    // All at once: each object is only ours, and a re-run removes whatever a failure left.
    let mut objects = delete_waves(
        &cluster,
        vec![to_delete],
        req.dry_run == DryRun::Server,
        reporter,
    )
    .await?;
    objects.extend(skipped);
    Ok(ApplyOutcome {
        dry_run: req.dry_run,
        objects,
        findings: vec![],
    })
}

/// Our RoleBindings (any namespace) that bind `role`. Empty when listing is not allowed.
async fn our_bindings_to(cluster: &Cluster, role: &str) -> Result<Vec<ObjectRef>> {
    let mut out = vec![];
    let selector = match objects::role_label_value(role) {
        Some(v) => format!("{},{}={v}", ours_selector(), objects::CLUSTER_ROLE_LABEL),
        None => ours_selector(),
    };
    let result = list_all(
        cluster,
        objects::RBAC,
        "RoleBinding",
        "rolebindings",
        Some(&selector),
        None,
        |b: &Value| {
            if b["roleRef"]["kind"] == "ClusterRole" && b["roleRef"]["name"].as_str() == Some(role)
            {
                out.push(ObjectRef::of(b, "rolebindings"));
            }
        },
    )
    .await;
    match result {
        Ok(()) => Ok(out),
        Err(e) if e.kind == ErrorKind::Forbidden => Ok(vec![]),
        Err(e) => Err(e),
    }
}
