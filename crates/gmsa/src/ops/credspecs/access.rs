//! `check-access`: may these service accounts use this credential spec?

use futures::future::try_join_all;
use serde::{Deserialize, Serialize};

use crate::cluster::access;
use crate::cluster::client::namespace_for;
use crate::cluster::objects::{self, service_accounts};
use crate::cluster::{self, Cluster, Target};
use crate::error::{Error, ErrorKind, Result};
use crate::names;

use super::remove::our_roles_for;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct CheckAccessRequest {
    pub target: Target,
    pub credspec_name: String,
    pub service_accounts: Vec<String>,
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessAnswer {
    pub service_account: String,
    pub allowed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckAccessOutcome {
    pub credspec_name: String,
    pub answers: Vec<AccessAnswer>,
    /// When an answer is no: the ClusterRole kubectl-gmsa made for this credential spec (a
    /// RoleBinding to it, `bind-role`, grants use), if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_role: Option<String>,
}

/// Ask, as the webhook does (LocalSubjectAccessReview), whether each service account may
/// `use` the credential spec. A credential spec that does not exist is an error (not found),
/// not a "no".
pub async fn check_access(req: &CheckAccessRequest) -> Result<CheckAccessOutcome> {
    names::check_resource_name("credential spec", &req.credspec_name)?;
    let cluster = cluster::connect(&req.target).await?;
    let namespace = namespace_for(&req.target, req.namespace.as_deref(), Some(&cluster)).await?;
    let sas = service_accounts(&req.service_accounts, &namespace)?;
    let spec_ref = objects::credspec_ref(&req.credspec_name);
    let exists = cluster::get(&cluster.client, &spec_ref);
    let answers =
        try_join_all(sas.iter().map(|sa| {
            access::may_use(&cluster.client, &sa.namespace, &sa.name, &req.credspec_name)
        }));
    let (exists, answers) = tokio::join!(exists, answers);
    match exists {
        Ok(Some(_)) => {}
        Ok(None) => return Err(Error::new(
            ErrorKind::NotFound,
            format!("gMSA credential spec {} does not exist", req.credspec_name),
        )
        .with_hint(
            "`kubectl gmsa get` lists the credential specs; `kubectl gmsa add-credspec` adds one",
        )),
        // Who may only ask the access question still gets its answer.
        Err(e) if e.kind == ErrorKind::Forbidden => {}
        Err(e) => return Err(e),
    }
    let answers = answers?;
    let cluster_role = if answers.iter().all(|a| *a) {
        None
    } else {
        role_for(&cluster, &req.credspec_name).await
    };
    Ok(CheckAccessOutcome {
        credspec_name: req.credspec_name.clone(),
        answers: sas
            .iter()
            .zip(answers)
            .map(|(sa, allowed)| AccessAnswer {
                service_account: sa.to_string(),
                allowed,
            })
            .collect(),
        cluster_role,
    })
}

/// The ClusterRole of ours made for `credspec` (by its annotation), else the default name
/// when that exists; `None` when there is none or roles may not be read.
async fn role_for(cluster: &Cluster, credspec: &str) -> Option<String> {
    if let Ok(Some(annotated)) = our_roles_for(cluster, credspec)
        .await
        .map(|r| r.into_iter().next())
    {
        return Some(annotated);
    }
    let default = objects::default_cluster_role(credspec);
    match cluster::get(&cluster.client, &objects::cluster_role_ref(&default)).await {
        Ok(Some(_)) => Some(default),
        _ => None,
    }
}
