//! What the doctor examines: the `object` argument parsed (`deployment/web`,
//! `credspec/webapp01`, or nothing), and the credential specs and workloads it leads to,
//! read from the cluster. Workloads are read as plain JSON so that every kind (CronJob's
//! batch/v1beta1 on older servers included) yields its pod template the same way.

use std::collections::BTreeSet;

use futures::future::join_all;
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::ApiResource;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::admission::{settings_of, Setting};
use crate::cluster::{self, objects, Cluster};
use crate::credspec::{self, CredentialSpec};
use crate::error::{Error, ErrorKind, Result};

/// The kinds of workload the doctor and `attach` understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkloadKind {
    Pod,
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
}

impl WorkloadKind {
    pub const ALL: [WorkloadKind; 6] = [
        WorkloadKind::Pod,
        WorkloadKind::Deployment,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
        WorkloadKind::Job,
        WorkloadKind::CronJob,
    ];

    /// kubectl's names and short names.
    pub fn parse(s: &str) -> Option<WorkloadKind> {
        let s = s.to_ascii_lowercase();
        let s = s.split('.').next().unwrap_or_default();
        Some(match s {
            "pod" | "pods" | "po" => WorkloadKind::Pod,
            "deployment" | "deployments" | "deploy" => WorkloadKind::Deployment,
            "statefulset" | "statefulsets" | "sts" => WorkloadKind::StatefulSet,
            "daemonset" | "daemonsets" | "ds" => WorkloadKind::DaemonSet,
            "job" | "jobs" => WorkloadKind::Job,
            "cronjob" | "cronjobs" | "cj" => WorkloadKind::CronJob,
            _ => return None,
        })
    }

    /// The lower-case word kubectl prints (`deployment`).
    pub fn word(self) -> &'static str {
        match self {
            WorkloadKind::Pod => "pod",
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
            WorkloadKind::DaemonSet => "daemonset",
            WorkloadKind::Job => "job",
            WorkloadKind::CronJob => "cronjob",
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            WorkloadKind::Pod => "Pod",
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::Job => "Job",
            WorkloadKind::CronJob => "CronJob",
        }
    }

    /// API versions to try, newest first (CronJob is batch/v1beta1 before Kubernetes 1.21).
    pub fn api_versions(self) -> &'static [&'static str] {
        match self {
            WorkloadKind::Pod => &["v1"],
            WorkloadKind::Deployment | WorkloadKind::StatefulSet | WorkloadKind::DaemonSet => {
                &["apps/v1"]
            }
            WorkloadKind::Job => &["batch/v1"],
            WorkloadKind::CronJob => &["batch/v1", "batch/v1beta1"],
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            WorkloadKind::Pod => "pods",
            WorkloadKind::Deployment => "deployments",
            WorkloadKind::StatefulSet => "statefulsets",
            WorkloadKind::DaemonSet => "daemonsets",
            WorkloadKind::Job => "jobs",
            WorkloadKind::CronJob => "cronjobs",
        }
    }

    /// JSON pointer of the pod template (a Pod is its own template).
    pub fn template_pointer(self) -> &'static str {
        match self {
            WorkloadKind::Pod => "",
            WorkloadKind::CronJob => "/spec/jobTemplate/spec/template",
            _ => "/spec/template",
        }
    }

    pub fn resource(self, api_version: &str) -> ApiResource {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        ApiResource {
            group: group.to_owned(),
            version: version.to_owned(),
            api_version: api_version.to_owned(),
            kind: self.kind().to_owned(),
            plural: self.plural().to_owned(),
        }
    }
}

/// What the user asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Everything,
    Workload { kind: WorkloadKind, name: String },
    Credspec(String),
}

impl Subject {
    pub fn parse(object: Option<&str>) -> Result<Subject> {
        let Some(o) = object.map(str::trim).filter(|o| !o.is_empty()) else {
            return Ok(Subject::Everything);
        };
        let bad = || {
            Error::invalid(format!("cannot tell what \"{o}\" names"))
                .with_hint("write KIND/NAME: pod/NAME, deployment/NAME, statefulset/NAME, daemonset/NAME, job/NAME, cronjob/NAME, or credspec/NAME")
        };
        let (kind, name) = o.split_once('/').ok_or_else(bad)?;
        crate::names::check_subdomain(name)
            .map_err(|m| Error::invalid(format!("invalid name \"{name}\": {m}")))?;
        let k = kind.to_ascii_lowercase();
        if matches!(
            k.as_str(),
            "credspec" | "credspecs" | "gmsacredentialspec" | "gmsacredentialspecs" | "gmsa"
        ) || k.starts_with("gmsacredentialspec.")
        {
            return Ok(Subject::Credspec(name.to_owned()));
        }
        let kind = WorkloadKind::parse(kind).ok_or_else(bad)?;
        Ok(Subject::Workload {
            kind,
            name: name.to_owned(),
        })
    }
}

/// A credential spec resource as read from the cluster.
#[derive(Debug, Clone)]
pub struct CredspecObject {
    pub name: String,
    pub resource: Value,
    /// The typed spec, when its contents parse.
    pub spec: Option<CredentialSpec>,
}

/// A workload and its pod template.
#[derive(Debug, Clone)]
pub struct Workload {
    pub kind: WorkloadKind,
    pub api_version: String,
    pub namespace: String,
    pub name: String,
    pub object: Value,
    pub template: PodTemplateSpec,
    pub settings: Vec<Setting>,
}

impl Workload {
    /// The pods its `spec.selector.matchLabels` selects in its namespace (none without
    /// labels). A Pod's own pod is not looked up here: each caller reads it as it needs.
    pub async fn selected_pods(&self, cluster: &Cluster) -> Result<Vec<Pod>> {
        let labels = self.object["spec"]["selector"]["matchLabels"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        if labels.is_empty() {
            return Ok(vec![]);
        }
        let sel = labels
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(",");
        let api: Api<Pod> = Api::namespaced(cluster.client.clone(), &self.namespace);
        api.list(&ListParams::default().labels(&sel))
            .await
            .map(|l| l.items)
            .map_err(|e| cluster::classify(e).context("list pods"))
    }

    /// `deployment/shop/web`.
    pub fn subject(&self) -> String {
        format!("{}/{}/{}", self.kind.word(), self.namespace, self.name)
    }

    /// How many pods run this template at once: replicas, parallelism, or "many" (None) for
    /// a DaemonSet.
    pub fn replicas(&self) -> Option<i64> {
        match self.kind {
            WorkloadKind::Pod | WorkloadKind::CronJob => Some(1),
            WorkloadKind::DaemonSet => None,
            WorkloadKind::Job => Some(self.object["spec"]["parallelism"].as_i64().unwrap_or(1)),
            _ => Some(self.object["spec"]["replicas"].as_i64().unwrap_or(1)),
        }
    }

    /// The service account the pods run as.
    pub fn service_account(&self) -> String {
        self.template
            .spec
            .as_ref()
            .and_then(|s| s.service_account_name.clone().or(s.service_account.clone()))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".to_owned())
    }

    /// Read a workload object's template; `None` when it has none (a bad object).
    pub fn from_object(kind: WorkloadKind, api_version: &str, object: Value) -> Option<Workload> {
        let t = if kind == WorkloadKind::Pod {
            serde_json::json!({ "metadata": object["metadata"], "spec": object["spec"] })
        } else {
            object.pointer(kind.template_pointer())?.clone()
        };
        let template: PodTemplateSpec = serde_json::from_value(t).ok()?;
        let settings = template.spec.as_ref().map(settings_of).unwrap_or_default();
        Some(Workload {
            kind,
            api_version: api_version.to_owned(),
            namespace: object["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_owned(),
            name: object["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            template,
            settings,
            object,
        })
    }
}

/// What a doctor run found to examine.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub credspecs: Vec<CredspecObject>,
    /// Names workloads ask for that no resource has.
    pub missing_credspecs: Vec<String>,
    pub workloads: Vec<Workload>,
    /// The namespace a named workload was looked for in.
    pub namespace: Option<String>,
}

impl Found {
    pub fn credspec(&self, name: &str) -> Option<&CredspecObject> {
        self.credspecs.iter().find(|c| c.name == name)
    }

    pub fn describe(&self, subject: &Subject) -> String {
        let what = match subject {
            Subject::Everything => {
                "the webhook, every credential spec and every workload that names one".to_owned()
            }
            Subject::Workload { kind, name } => format!(
                "{}/{name} in namespace {}",
                kind.word(),
                self.namespace.as_deref().unwrap_or("default")
            ),
            Subject::Credspec(n) => format!("credential spec {n} and the workloads that name it"),
        };
        format!(
            "{what} ({} credential spec(s), {} workload(s))",
            self.credspecs.len(),
            self.workloads.len()
        )
    }
}

fn credspec_object(resource: Value) -> CredspecObject {
    let name = resource["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let spec = resource
        .get("credspec")
        .and_then(|c| serde_json::from_value::<CredentialSpec>(c.clone()).ok());
    CredspecObject {
        name,
        resource,
        spec,
    }
}

fn to_value(o: DynamicObject) -> Value {
    serde_json::to_value(o).unwrap_or(Value::Null)
}

/// Get one workload, trying each API version of its kind.
pub async fn get_workload(
    cluster: &Cluster,
    kind: WorkloadKind,
    namespace: &str,
    name: &str,
) -> Result<Workload> {
    let mut last = None;
    for v in kind.api_versions() {
        let api: Api<DynamicObject> =
            Api::namespaced_with(cluster.client.clone(), namespace, &kind.resource(v));
        match api.get_opt(name).await {
            Ok(Some(o)) => {
                return Workload::from_object(kind, v, to_value(o)).ok_or_else(|| {
                    Error::new(
                        ErrorKind::Internal,
                        format!("{}/{name} has no pod template", kind.word()),
                    )
                })
            }
            Ok(None) => last = None,
            Err(e) => last = Some(cluster::classify(e)),
        }
    }
    Err(last
        .unwrap_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!(
                    "{}/{name} does not exist in namespace {namespace}",
                    kind.word()
                ),
            )
            .with_hint(format!(
                "check the name and the namespace: kubectl get {} -n {namespace}",
                kind.plural()
            ))
        })
        .context(format!("read {}/{name}", kind.word())))
}

/// Every workload of one kind (in a namespace, or all) whose template sets gMSA fields.
/// Pods made by a controller and Jobs made by a CronJob are left to their owner.
async fn workloads_of(
    cluster: &Cluster,
    kind: WorkloadKind,
    namespace: Option<&str>,
) -> Result<Vec<Workload>> {
    let mut last = None;
    for v in kind.api_versions() {
        let ar = kind.resource(v);
        let api: Api<DynamicObject> = match namespace {
            Some(ns) => Api::namespaced_with(cluster.client.clone(), ns, &ar),
            None => Api::all_with(cluster.client.clone(), &ar),
        };
        match api.list(&ListParams::default()).await {
            Ok(list) => {
                return Ok(list
                    .items
                    .into_iter()
                    .map(to_value)
                    .filter(|o| {
                        !(matches!(kind, WorkloadKind::Pod | WorkloadKind::Job)
                            && o["metadata"]["ownerReferences"]
                                .as_array()
                                .is_some_and(|a| a.iter().any(|r| r["controller"] == true)))
                    })
                    .filter_map(|o| Workload::from_object(kind, v, o))
                    .filter(|w| !w.settings.is_empty())
                    .collect())
            }
            Err(e) => last = Some(cluster::classify(e)),
        }
    }
    Err(last
        .expect("every kind has an API version")
        .context(format!("list {}", kind.plural())))
}

/// Read what the subject leads to.
pub async fn resolve(
    cluster: &Cluster,
    subject: &Subject,
    namespace: Option<&str>,
) -> Result<Found> {
    let specs_api = objects::credspecs_api(&cluster.client);
    let mut found = Found::default();
    let workloads = match subject {
        Subject::Workload { kind, name } => {
            let ns = namespace.unwrap_or(&cluster.default_namespace).to_owned();
            let w = get_workload(cluster, *kind, &ns, name).await?;
            found.namespace = Some(ns);
            vec![w]
        }
        _ => {
            let lists = join_all(
                WorkloadKind::ALL
                    .iter()
                    .map(|k| workloads_of(cluster, *k, namespace)),
            )
            .await;
            let mut all = vec![];
            // A kind the identity may not list is left out rather than stopping the run.
            for mut l in lists.into_iter().flatten() {
                all.append(&mut l);
            }
            all
        }
    };
    let wanted: BTreeSet<String> = match subject {
        Subject::Credspec(n) => [n.clone()].into(),
        _ => workloads
            .iter()
            .flat_map(|w| w.settings.iter().filter_map(|s| s.name.clone()))
            .collect(),
    };
    found.workloads = match subject {
        Subject::Credspec(n) => workloads
            .into_iter()
            .filter(|w| {
                w.settings
                    .iter()
                    .any(|s| s.name.as_deref() == Some(n.as_str()))
            })
            .collect(),
        _ => workloads,
    };
    match subject {
        Subject::Everything => {
            let list = specs_api.list(&ListParams::default()).await.map_err(|e| {
                let e = cluster::classify(e);
                if e.kind == ErrorKind::NotFound {
                    Error::new(
                        ErrorKind::NotFound,
                        format!("the CRD {} is not installed", credspec::CRD_NAME),
                    )
                    .with_hint("kubectl gmsa install-webhook (installs the CRD and the webhook)")
                } else {
                    e.context("list credential specs")
                }
            });
            match list {
                Ok(list) => {
                    found.credspecs = list
                        .items
                        .into_iter()
                        .map(|o| credspec_object(to_value(o)))
                        .collect()
                }
                // No CRD: the webhook checks say so; there is nothing else to list.
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            for n in &wanted {
                if found.credspec(n).is_none() {
                    found.missing_credspecs.push(n.clone());
                }
            }
        }
        _ => {
            let got = join_all(wanted.iter().map(|n| specs_api.get_opt(n))).await;
            for (n, r) in wanted.iter().zip(got) {
                match r {
                    Ok(Some(o)) => found.credspecs.push(credspec_object(to_value(o))),
                    Ok(None) => found.missing_credspecs.push(n.clone()),
                    Err(e) => {
                        let e = cluster::classify(e);
                        if e.kind == ErrorKind::NotFound {
                            found.missing_credspecs.push(n.clone());
                        } else {
                            return Err(e.context(format!("read credential spec {n}")));
                        }
                    }
                }
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_in_kubectl_words() {
        assert_eq!(Subject::parse(None).unwrap(), Subject::Everything);
        assert_eq!(
            Subject::parse(Some("deploy/web")).unwrap(),
            Subject::Workload {
                kind: WorkloadKind::Deployment,
                name: "web".into()
            }
        );
        assert_eq!(
            Subject::parse(Some("cronjobs.batch/nightly")).unwrap(),
            Subject::Workload {
                kind: WorkloadKind::CronJob,
                name: "nightly".into()
            }
        );
        assert_eq!(
            Subject::parse(Some("credspec/webapp01")).unwrap(),
            Subject::Credspec("webapp01".into())
        );
        for bad in ["web", "service/web", "deployment/Web_1", "pod/"] {
            let e = Subject::parse(Some(bad)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn templates_of_every_kind() {
        let spec = serde_json::json!({
            "containers": [{ "name": "app", "image": "x" }],
            "securityContext": { "windowsOptions": { "gmsaCredentialSpecName": "webapp01" } }
        });
        let meta = serde_json::json!({ "name": "w", "namespace": "shop" });
        for kind in WorkloadKind::ALL {
            let template = serde_json::json!({ "metadata": {}, "spec": spec });
            let obj = match kind {
                WorkloadKind::Pod => serde_json::json!({ "metadata": meta, "spec": spec }),
                WorkloadKind::CronJob => {
                    serde_json::json!({ "metadata": meta, "spec": { "jobTemplate": { "spec": { "template": template } } } })
                }
                _ => {
                    serde_json::json!({ "metadata": meta, "spec": { "replicas": 3, "template": template } })
                }
            };
            let w = Workload::from_object(kind, "v1", obj).unwrap();
            assert_eq!(w.settings.len(), 1, "{kind:?}");
            assert_eq!(w.settings[0].name.as_deref(), Some("webapp01"));
            assert_eq!(w.service_account(), "default");
            assert_eq!(w.subject(), format!("{}/shop/w", kind.word()));
        }
    }
}
