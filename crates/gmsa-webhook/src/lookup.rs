//! What the webhook asks the API server: may a service account `use` a credential spec
//! (the core's LocalSubjectAccessReview), the spec's contents to inline, and (for the 1.20
//! `EphemeralContainers` shape, which carries no pod spec) the pod's service account.

use std::collections::BTreeMap;
use std::future::Future;

use gmsa::admission::{self, Answer};
use k8s_openapi::api::core::v1::Pod;
use kube::{Api, Client};

/// The questions the review asks of a cluster (a trait so that the dispatch logic can be
/// unit-tested without one).
pub trait Lookups: Sync {
    /// The access review and the contents for one credential spec name.
    fn answer(
        &self,
        namespace: &str,
        service_account: &str,
        name: &str,
    ) -> impl Future<Output = Answer> + Send;

    /// The service account of an existing pod.
    fn pod_service_account(
        &self,
        namespace: &str,
        pod: &str,
    ) -> impl Future<Output = Result<String, String>> + Send;
}

/// Every name's answer, asked concurrently.
pub async fn answers<L: Lookups>(
    l: &L,
    namespace: &str,
    service_account: &str,
    names: &[&str],
) -> BTreeMap<String, Answer> {
    let asked = names.iter().map(|n| async move {
        (
            (*n).to_owned(),
            l.answer(namespace, service_account, n).await,
        )
    });
    futures::future::join_all(asked).await.into_iter().collect()
}

/// The real cluster.
#[derive(Clone)]
pub struct Cluster {
    pub client: Client,
}

impl Lookups for Cluster {
    async fn answer(&self, namespace: &str, service_account: &str, name: &str) -> Answer {
        let review =
            gmsa::cluster::access::use_review(&self.client, namespace, service_account, name);
        let contents = contents(&self.client, name);
        let (review, contents) = futures::join!(review, contents);
        let (authorized, reason) = match review {
            Ok((allowed, reason)) => (Ok(allowed), reason),
            Err(e) => (Err(e.message), String::new()),
        };
        Answer {
            authorized,
            reason,
            contents,
        }
    }

    async fn pod_service_account(&self, namespace: &str, pod: &str) -> Result<String, String> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        match api.get_opt(pod).await {
            Ok(Some(p)) => Ok(service_account_of(
                p.spec.and_then(|s| s.service_account_name).as_deref(),
            )),
            Ok(None) => Err(format!("pod {namespace}/{pod} does not exist")),
            Err(e) => Err(format!("unable to read pod {namespace}/{pod}: {e}")),
        }
    }
}

/// A pod without `serviceAccountName` runs as `default` (the API server's ServiceAccount
/// admission plugin sets it before any webhook sees the pod, where it is enabled).
pub fn service_account_of(name: Option<&str>) -> String {
    match name {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => "default".into(),
    }
}

async fn contents(client: &Client, name: &str) -> Result<String, admission::Denial> {
    let api = gmsa::cluster::objects::credspecs_api(client);
    match api.get_opt(name).await {
        Ok(Some(obj)) => {
            let v = serde_json::to_value(&obj)
                .map_err(|e| admission::unreadable(name, &e.to_string()))?;
            admission::inline_contents(name, &v).map_err(admission::rules::no_contents)
        }
        Ok(None) => Err(admission::not_found(name)),
        Err(e) => Err(admission::unreadable(
            name,
            &gmsa::cluster::classify(e).message,
        )),
    }
}
