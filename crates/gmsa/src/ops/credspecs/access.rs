//! `check-access`: may these service accounts use this credential spec?

use futures::future::try_join_all;
use serde::{Deserialize, Serialize};

use crate::cluster::access;
use crate::cluster::client::namespace_for;
use crate::cluster::objects::service_accounts;
use crate::cluster::{self, Target};
use crate::error::Result;
use crate::names;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
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
}

/// Ask, as the webhook does (LocalSubjectAccessReview), whether each service account may
/// `use` the credential spec.
pub async fn check_access(req: &CheckAccessRequest) -> Result<CheckAccessOutcome> {
    names::check_resource_name("credential spec", &req.credspec_name)?;
    let cluster = cluster::connect(&req.target).await?;
    let namespace = namespace_for(&req.target, req.namespace.as_deref(), Some(&cluster)).await?;
    let sas = service_accounts(&req.service_accounts, &namespace)?;
    let answers =
        try_join_all(sas.iter().map(|sa| {
            access::may_use(&cluster.client, &sa.namespace, &sa.name, &req.credspec_name)
        }))
        .await?;
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
    })
}
