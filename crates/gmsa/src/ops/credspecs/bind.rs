//! `bind-role` / `unbind-role`: let more service accounts use a credential spec, or fewer.

use futures::future::try_join_all;
use serde::{Deserialize, Serialize};

use crate::cluster::apply::{apply_all, delete_all, ApplyOptions};
use crate::cluster::client::{connect_for, namespace_for};
use crate::cluster::objects::{self, service_accounts};
use crate::cluster::{self, is_ours, DryRun, ObjectRef, Target};
use crate::error::{Error, ErrorKind, Result};
use crate::outcome::{Action, ApplyOutcome, ObjectOutcome};
use crate::progress::Reporter;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BindRoleRequest {
    pub target: Target,
    /// The cluster role that may `use` the credential spec (as made by add-credspec).
    pub cluster_role_name: String,
    /// `name` (in `namespace`) or `namespace:name`; default `default`.
    pub service_accounts: Vec<String>,
    pub namespace: Option<String>,
    pub overwrite: bool,
    pub dry_run: DryRun,
}

/// Let more service accounts use a credential spec: RoleBindings to its cluster role.
pub async fn bind_role(req: &BindRoleRequest, reporter: &dyn Reporter) -> Result<ApplyOutcome> {
    objects::check_rbac_name("cluster role", &req.cluster_role_name)?;
    let cluster = connect_for(&req.target, req.dry_run).await?;
    let namespace = namespace_for(&req.target, req.namespace.as_deref(), cluster.as_ref()).await?;
    let sas = service_accounts(&req.service_accounts, &namespace)?;
    let credspec_name = match &cluster {
        Some(c) => {
            let role = cluster::get(
                &c.client,
                &objects::cluster_role_ref(&req.cluster_role_name),
            )
            .await?
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("cluster role {} does not exist", req.cluster_role_name),
                )
                .with_hint(
                    "create it with `kubectl gmsa add-credspec ... --cluster-role-name NAME`",
                )
            })?;
            role["metadata"]["annotations"][cluster::CREDSPEC_ANNOTATION]
                .as_str()
                .or_else(|| role["rules"][0]["resourceNames"][0].as_str())
                .unwrap_or_default()
                .to_owned()
        }
        None => String::new(),
    };
    let objs = sas
        .iter()
        .map(|sa| {
            (
                objects::role_binding_ref(&req.cluster_role_name, sa),
                objects::role_binding(&req.cluster_role_name, &credspec_name, sa),
            )
        })
        .collect();
    let opts = ApplyOptions {
        overwrite: req.overwrite,
        dry_run: req.dry_run,
    };
    let objects = apply_all(cluster.as_ref(), objs, &opts, async { Ok(()) }, reporter).await?;
    Ok(ApplyOutcome {
        dry_run: req.dry_run,
        objects,
        findings: vec![],
    })
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UnbindRoleRequest {
    pub target: Target,
    pub cluster_role_name: String,
    pub service_accounts: Vec<String>,
    pub namespace: Option<String>,
    pub dry_run: DryRun,
}

/// Revoke: delete our RoleBindings of the cluster role to these service accounts.
pub async fn unbind_role(req: &UnbindRoleRequest, reporter: &dyn Reporter) -> Result<ApplyOutcome> {
    objects::check_rbac_name("cluster role", &req.cluster_role_name)?;
    if req.dry_run == DryRun::Client {
        return Err(Error::invalid(
            "--dry-run=client is not available for removals; use --dry-run=server",
        ));
    }
    let cluster = cluster::connect(&req.target).await?;
    let namespace = namespace_for(&req.target, req.namespace.as_deref(), Some(&cluster)).await?;
    let sas = service_accounts(&req.service_accounts, &namespace)?;
    let refs: Vec<ObjectRef> = sas
        .iter()
        .map(|sa| objects::role_binding_ref(&req.cluster_role_name, sa))
        .collect();
    let found = try_join_all(refs.iter().map(|r| cluster::get(&cluster.client, r))).await?;
    let mut to_delete = vec![];
    let mut others = vec![];
    for (r, obj) in refs.into_iter().zip(found) {
        match obj {
            None => others.push(ObjectOutcome::new(&r, Action::Absent, None)),
            Some(o) if !is_ours(&o) => others.push(ObjectOutcome::skipped(
                &r,
                "not managed by kubectl-gmsa; left in place",
            )),
            Some(_) => to_delete.push(r),
        }
    }
    let mut objects =
        delete_all(&cluster, to_delete, req.dry_run == DryRun::Server, reporter).await?;
    objects.extend(others);
    Ok(ApplyOutcome {
        dry_run: req.dry_run,
        objects,
        findings: vec![],
    })
}
