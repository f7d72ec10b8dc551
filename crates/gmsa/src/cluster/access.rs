//! Access checks: `SelfSubjectAccessReview` (may I do this write?) before any write, and
//! `LocalSubjectAccessReview` (may this service account `use` that credential spec?),
//! the same question the webhook asks.

use k8s_openapi::api::authorization::v1::{
    LocalSubjectAccessReview, ResourceAttributes, SelfSubjectAccessReview,
    SelfSubjectAccessReviewSpec, SubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};
use kube::Client;
use serde::{Deserialize, Serialize};

use crate::credspec::{GROUP, PLURAL};
use crate::error::Result;

/// One permission to check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl Permission {
    pub fn new(
        verb: &str,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Self {
        Permission {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            namespace: namespace.map(Into::into),
            name: name.map(Into::into),
        }
    }

    /// "create clusterroles.rbac.authorization.k8s.io/webapp01-user in namespace x".
    pub fn describe(&self) -> String {
        let res = if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        };
        let mut s = format!("{} {res}", self.verb);
        if let Some(n) = &self.name {
            s.push_str(&format!("/{n}"));
        }
        if let Some(ns) = &self.namespace {
            s.push_str(&format!(" in namespace {ns}"));
        }
        s
    }

    fn attributes(&self) -> ResourceAttributes {
        ResourceAttributes {
            verb: Some(self.verb.clone()),
            group: Some(self.group.clone()),
            resource: Some(self.resource.clone()),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            ..Default::default()
        }
    }
}

/// May the identity in use do this?
pub async fn may_i(client: &Client, p: &Permission) -> Result<bool> {
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(p.attributes()),
            ..Default::default()
        },
        ..Default::default()
    };
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let answer = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| {
            crate::cluster::classify(e).context("check permissions (SelfSubjectAccessReview)")
        })?;
    Ok(answer.status.is_some_and(|s| s.allowed))
}

/// May `namespace/service_account` `use` the credential spec `name`? Asked exactly as the
/// webhook asks it.
pub async fn may_use(
    client: &Client,
    namespace: &str,
    service_account: &str,
    credspec: &str,
) -> Result<bool> {
    Ok(use_review(client, namespace, service_account, credspec)
        .await?
        .0)
}

/// `may_use` with the authorizer's reason (often empty): allowed only when the review
/// says allowed and not denied.
pub async fn use_review(
    client: &Client,
    namespace: &str,
    service_account: &str,
    credspec: &str,
) -> Result<(bool, String)> {
    let user = format!("system:serviceaccount:{namespace}:{service_account}");
    let review = LocalSubjectAccessReview {
        metadata: kube::api::ObjectMeta {
            namespace: Some(namespace.to_owned()),
            ..Default::default()
        },
        spec: SubjectAccessReviewSpec {
            user: Some(user),
            groups: Some(vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".into(),
            ]),
            resource_attributes: Some(ResourceAttributes {
                verb: Some("use".into()),
                group: Some(GROUP.into()),
                resource: Some(PLURAL.into()),
                namespace: Some(namespace.to_owned()),
                name: Some(credspec.to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let api: Api<LocalSubjectAccessReview> = Api::namespaced(client.clone(), namespace);
    let answer = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| {
            crate::cluster::classify(e).context("check access (LocalSubjectAccessReview)")
        })?;
    Ok(answer.status.map_or((false, String::new()), |s| {
        (
            s.allowed && !s.denied.unwrap_or(false),
            s.reason.unwrap_or_default(),
        )
    }))
}
