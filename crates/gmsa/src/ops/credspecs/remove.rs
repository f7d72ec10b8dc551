//! `remove-credspec`: the resource, its ClusterRoles (named, or found by their
//! `kubectl-gmsa/credspec` annotation) and our bindings to them.

use futures::future::try_join_all;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cluster::apply::delete_waves;
use crate::cluster::client::namespace_for;
use crate::cluster::object::{list_all, ours_selector};
use crate::cluster::objects::{self, service_accounts};
use crate::cluster::{self, is_ours, Cluster, DryRun, ObjectRef, Target, CREDSPEC_ANNOTATION};
use crate::error::{Error, ErrorKind, Result};
use crate::names;
use crate::outcome::{ApplyOutcome, ObjectOutcome};
use crate::progress::Reporter;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct RemoveCredspecRequest {
    pub target: Target,
    pub credspec_name: String,
    /// The ClusterRole add-credspec made. Default: every ClusterRole of ours annotated
    /// `kubectl-gmsa/credspec: <credspec-name>`, and `<credspec-name>-gmsa-user`.
    pub cluster_role_name: Option<String>,
    /// Service accounts whose bindings to remove; bindings of ours to the cluster role in
    /// other namespaces are found and removed as well.
    pub service_accounts: Vec<String>,
    pub namespace: Option<String>,
    pub dry_run: DryRun,
}

/// Remove what `add-credspec` made (objects labelled as ours) and nothing else. Without
/// `cluster_role_name`, the roles are found by their `kubectl-gmsa/credspec` annotation (and
/// the default name); an object whose annotation names another credential spec stays.
pub async fn remove_credspec(
    req: &RemoveCredspecRequest,
    reporter: &dyn Reporter,
) -> Result<ApplyOutcome> {
    names::check_resource_name("credential spec", &req.credspec_name)?;
    if let Some(role) = &req.cluster_role_name {
        objects::check_rbac_name("cluster role", role)?;
    }
    if req.dry_run == DryRun::Client {
        return Err(Error::invalid(
            "--dry-run=client is not available for removals; use --dry-run=server",
        ));
    }
    let cluster = cluster::connect(&req.target).await?;
    let namespace = namespace_for(&req.target, req.namespace.as_deref(), Some(&cluster)).await?;
    let sas = service_accounts(&req.service_accounts, &namespace)?;

    reporter.step("finding the objects add-credspec made");
    let roles = match &req.cluster_role_name {
        Some(role) => vec![role.clone()],
        None => {
            let mut roles = vec![objects::default_cluster_role(&req.credspec_name)];
            for r in our_roles_for(&cluster, &req.credspec_name).await? {
                if !roles.contains(&r) {
                    roles.push(r);
                }
            }
            roles
        }
    };
    // The objects add-credspec names, read while our other bindings of the roles are listed.
    let mut candidates: Vec<ObjectRef> = vec![];
    for role in &roles {
        candidates.extend(sas.iter().map(|sa| objects::role_binding_ref(role, sa)));
        candidates.push(objects::cluster_role_ref(role));
    }
    candidates.push(objects::credspec_ref(&req.credspec_name));
    let (listed, found) = tokio::join!(
        try_join_all(roles.iter().map(|role| our_bindings_to(&cluster, role))),
        try_join_all(candidates.iter().map(|r| cluster::get(&cluster.client, r)))
    );
    let mut found = found?;
    let mut more: Vec<ObjectRef> = vec![];
    for b in listed?.into_iter().flatten() {
        if !candidates.contains(&b) && !more.contains(&b) {
            more.push(b);
        }
    }
    found.extend(try_join_all(more.iter().map(|r| cluster::get(&cluster.client, r))).await?);
    candidates.extend(more);
    let mut to_delete = vec![];
    let mut skipped = vec![];
    for (r, obj) in candidates.into_iter().zip(found) {
        let Some(o) = obj else { continue };
        match verdict(&r, &o, &req.credspec_name, &roles) {
            Ok(()) => to_delete.push(r),
            Err(reason) => skipped.push(ObjectOutcome::skipped(&r, &reason)),
        }
    }
    if to_delete.is_empty() && skipped.is_empty() {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!(
                "nothing to remove: no credential spec {} or cluster role {} made by kubectl-gmsa",
                req.credspec_name,
                roles.join(", ")
            ),
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

/// Whether `remove-credspec` of `credspec` may delete this object: ours, not made for another
/// credential spec, and (a RoleBinding) binding one of `roles`. `Err`: why it stays.
fn verdict(r: &ObjectRef, o: &Value, credspec: &str, roles: &[String]) -> Result<(), String> {
    if !is_ours(o) {
        return Err("not managed by kubectl-gmsa; left in place".into());
    }
    if let Some(other) = o["metadata"]["annotations"][CREDSPEC_ANNOTATION]
        .as_str()
        .filter(|c| *c != credspec)
    {
        return Err(format!(
            "made for credential spec {other}, not {credspec}; left in place"
        ));
    }
    if r.kind == "RoleBinding" {
        let bound = o["roleRef"]["name"].as_str().unwrap_or_default();
        if !roles.iter().any(|role| role == bound) {
            return Err("binds another role; left in place".into());
        }
    }
    Ok(())
}

/// Our ClusterRoles annotated as made for `credspec`. Empty when listing is not allowed.
pub(super) async fn our_roles_for(cluster: &Cluster, credspec: &str) -> Result<Vec<String>> {
    let mut out = vec![];
    let selector = ours_selector();
    let result = list_all(
        cluster,
        objects::RBAC,
        "ClusterRole",
        "clusterroles",
        Some(&selector),
        None,
        |r: &Value| {
            if r["metadata"]["annotations"][CREDSPEC_ANNOTATION].as_str() == Some(credspec) {
                if let Some(name) = r["metadata"]["name"].as_str() {
                    out.push(name.to_owned());
                }
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
