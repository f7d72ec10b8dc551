//! Waiting on the cluster: a Deployment's rollout, with a diagnosis (conditions, pods'
//! waiting reasons, warning events) when it does not finish in time.

use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, ListParams};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::client::Cluster;
use super::error::classify;
use super::object::{get, ObjectRef};
use super::webhook::{self as manifests, Names};
use crate::error::{Error, ErrorKind, Result};
use crate::progress::Reporter;

/// Ready replicas of the webhook's Deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readiness {
    pub ready: u32,
    pub wanted: u32,
}

fn u32_at(v: &Value, ptr: &str) -> u32 {
    v.pointer(ptr).and_then(Value::as_u64).unwrap_or(0) as u32
}

/// Is the rollout done: the newest generation observed, every replica updated and ready?
pub fn rollout_done(d: &Value) -> (bool, Readiness) {
    let wanted = d
        .pointer("/spec/replicas")
        .and_then(Value::as_u64)
        .unwrap_or(1) as u32;
    let ready = u32_at(d, "/status/readyReplicas");
    let updated = u32_at(d, "/status/updatedReplicas");
    let total = u32_at(d, "/status/replicas");
    let observed = d
        .pointer("/status/observedGeneration")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let generation = d
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let done = observed >= generation && updated >= wanted && total <= updated && ready >= wanted;
    (done, Readiness { ready, wanted })
}

/// Wait until the Deployment's rollout is done, reporting progress; on timeout, say why.
pub async fn wait_ready(
    cluster: &Cluster,
    names: &Names,
    timeout: Duration,
    reporter: &dyn Reporter,
) -> Result<Readiness> {
    let r = names.deployment();
    let started = Instant::now();
    let message = format!(
        "waiting for deployment/{} in namespace {} to be ready",
        names.name, names.namespace
    );
    reporter.step(&message);
    loop {
        let d = get(&cluster.client, &r).await?.ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("failed to wait: {} does not exist", r.display()),
            )
        })?;
        let (done, readiness) = rollout_done(&d);
        reporter.waiting(&message, readiness.ready.into(), readiness.wanted.into());
        if done {
            return Ok(readiness);
        }
        if started.elapsed() >= timeout {
            let why = diagnose(cluster, names, &d).await;
            return Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "failed to wait for the webhook: {} of {} replicas of deployment/{} in namespace {} ready after {}s\n{}",
                    readiness.ready,
                    readiness.wanted,
                    names.name,
                    names.namespace,
                    timeout.as_secs(),
                    why.join("\n")
                ),
            )
            .with_hint(format!(
                "the objects were written; see `kubectl -n {} describe deployment {}`, then re-run with a longer --timeout or --no-wait",
                names.namespace, names.name
            )));
        }
        let left = timeout.saturating_sub(started.elapsed());
        tokio::time::sleep(left.min(Duration::from_secs(1))).await;
    }
}

/// Why a Deployment is not ready: its conditions, its pods' waiting reasons, warning events.
async fn diagnose(cluster: &Cluster, names: &Names, d: &Value) -> Vec<String> {
    let mut why = vec![];
    for c in d
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if c["status"] != "True" {
            why.push(format!(
                "  deployment condition {}={}: {} {}",
                c["type"].as_str().unwrap_or("?"),
                c["status"].as_str().unwrap_or("?"),
                c["reason"].as_str().unwrap_or(""),
                c["message"].as_str().unwrap_or("")
            ));
        }
    }
    let selector = format!(
        "{}={},{}=gmsa-webhook",
        manifests::INSTANCE_LABEL,
        names.name,
        manifests::APP_LABEL
    );
    let pods: Api<DynamicObject> = ObjectRef {
        api_version: "v1".into(),
        kind: "Pod".into(),
        plural: "pods".into(),
        namespace: Some(names.namespace.clone()),
        name: String::new(),
    }
    .api(&cluster.client);
    let mut pod_names = vec![];
    match pods
        .list(&ListParams::default().labels(&selector).limit(50))
        .await
    {
        Ok(list) => {
            for p in list.items {
                let v = serde_json::to_value(&p).unwrap_or_default();
                let pod = v["metadata"]["name"].as_str().unwrap_or("?").to_owned();
                let statuses = v
                    .pointer("/status/containerStatuses")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let mut said = false;
                for s in &statuses {
                    if let Some(w) = s.pointer("/state/waiting") {
                        why.push(format!(
                            "  pod/{pod}: container {} waiting: {} {}",
                            s["name"].as_str().unwrap_or("?"),
                            w["reason"].as_str().unwrap_or(""),
                            w["message"].as_str().unwrap_or("")
                        ));
                        said = true;
                    }
                }
                for c in v
                    .pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if c["status"] == "False" && c["message"].is_string() {
                        why.push(format!(
                            "  pod/{pod}: {} {}",
                            c["reason"].as_str().unwrap_or(""),
                            c["message"].as_str().unwrap_or("")
                        ));
                        said = true;
                    }
                }
                if !said {
                    why.push(format!(
                        "  pod/{pod}: {}",
                        v.pointer("/status/phase")
                            .and_then(Value::as_str)
                            .unwrap_or("Pending")
                    ));
                }
                pod_names.push(pod);
            }
        }
        Err(e) => why.push(format!("  (could not list pods: {})", classify(e).message)),
    }
    let events: Api<DynamicObject> = ObjectRef {
        api_version: "v1".into(),
        kind: "Event".into(),
        plural: "events".into(),
        namespace: Some(names.namespace.clone()),
        name: String::new(),
    }
    .api(&cluster.client);
    if let Ok(list) = events.list(&ListParams::default().limit(500)).await {
        let mut lines = vec![];
        for e in list.items {
            let v = serde_json::to_value(&e).unwrap_or_default();
            let obj = v["involvedObject"]["name"].as_str().unwrap_or("");
            let ours = obj.starts_with(&names.name) || pod_names.iter().any(|p| p == obj);
            if v["type"] == "Warning" && ours {
                lines.push(format!(
                    "  event {} {}/{}: {}",
                    v["reason"].as_str().unwrap_or(""),
                    v["involvedObject"]["kind"]
                        .as_str()
                        .unwrap_or("")
                        .to_lowercase(),
                    obj,
                    v["message"].as_str().unwrap_or("").trim()
                ));
            }
        }
        let skip = lines.len().saturating_sub(10);
        why.extend(lines.into_iter().skip(skip));
    }
    if pod_names.is_empty() {
        why.push("  no pods exist for it: is the cluster's controller manager running, and may the namespace create pods (quota, admission)?".into());
    }
    why
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rollout_needs_every_replica_updated_and_ready() {
        let d = |status: Value| json!({ "metadata": { "generation": 2 }, "spec": { "replicas": 2 }, "status": status });
        assert!(!rollout_done(&d(json!({}))).0);
        assert!(!rollout_done(&d(json!({ "observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2 }))).0);
        assert!(!rollout_done(&d(json!({ "observedGeneration": 2, "replicas": 3, "updatedReplicas": 2, "readyReplicas": 2 }))).0);
        let (done, r) = rollout_done(&d(
            json!({ "observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2 }),
        ));
        assert!(done);
        assert_eq!(
            r,
            Readiness {
                ready: 2,
                wanted: 2
            }
        );
    }
}
