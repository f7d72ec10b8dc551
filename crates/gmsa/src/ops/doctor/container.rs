//! The node/container layer with `--exec`: in each running Windows pod of a workload, run the
//! probes of `incontainer` through the API server's exec (as `kubectl exec` does) and read
//! their output. Pods that are not running, not on a Windows node, or refuse exec are
//! reported as such. Untested against a real Windows container (none runs here).

use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, AttachParams};
use tokio::io::AsyncReadExt;

use super::incontainer::{interpret, probes};
use super::report::{Check, Layer, Verdict};
use super::scope::{Found, Workload, WorkloadKind};
use crate::admission::settings_of;
use crate::cluster::{self, Cluster};

const N: Layer = Layer::Node;
/// At most this many pods of one workload are probed.
const MAX_PODS: usize = 3;

/// The in-container checks of one workload's pods.
pub async fn checks(cluster: &Cluster, w: &Workload, found: &Found) -> Vec<Check> {
    let subject = w.subject();
    let pods = match pods(cluster, w).await {
        Ok(p) => p,
        Err(e) => {
            return vec![Check::skipped(
                N,
                "in-container",
                &subject,
                format!("could not list the pods: {e}"),
            )]
        }
    };
    if pods.is_empty() {
        return vec![Check::skipped(
            N,
            "in-container",
            &subject,
            "no pods to run the checks in",
        )];
    }
    let mut out = vec![];
    for pod in pods.iter().take(MAX_PODS) {
        out.extend(pod_checks(cluster, pod, found).await);
    }
    out
}

async fn pods(cluster: &Cluster, w: &Workload) -> crate::error::Result<Vec<Pod>> {
    if w.kind == WorkloadKind::Pod {
        let api: Api<Pod> = Api::namespaced(cluster.client.clone(), &w.namespace);
        return api
            .get_opt(&w.name)
            .await
            .map(|p| p.into_iter().collect())
            .map_err(|e| cluster::classify(e).context("read the pod"));
    }
    w.selected_pods(cluster).await
}

/// One pod: running, on a Windows node, then every probe.
pub async fn pod_checks(cluster: &Cluster, pod: &Pod, found: &Found) -> Vec<Check> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let subject = format!("pod/{ns}/{name}");
    let phase = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Unknown".into());
    if phase != "Running" {
        return vec![Check::skipped(
            N,
            "in-container",
            &subject,
            format!("the pod is {phase}, not Running: nothing to exec into"),
        )];
    }
    let Some(spec) = pod.spec.as_ref() else {
        return vec![];
    };
    let node = spec.node_name.clone().unwrap_or_default();
    let nodes: Api<Node> = Api::all(cluster.client.clone());
    let os = match nodes.get_opt(&node).await {
        Ok(Some(n)) => n
            .metadata
            .labels
            .unwrap_or_default()
            .get("kubernetes.io/os")
            .cloned()
            .unwrap_or_default(),
        Ok(None) => String::new(),
        Err(e) => {
            return vec![Check::skipped(
                N,
                "in-container",
                &subject,
                format!("could not read node/{node}: {}", cluster::classify(e)),
            )]
        }
    };
    if os != "windows" {
        return vec![Check::fail(
            N,
            "windows-node",
            &subject,
            format!("the pod runs on node/{node}, whose kubernetes.io/os is {:?}: gMSA works only on Windows nodes", os),
            "add the Windows node selector (kubectl gmsa attach adds it) and re-create the pod",
        )];
    }
    let Some(cs) = settings_of(spec)
        .into_iter()
        .find_map(|s| s.name)
        .and_then(|n| found.credspec(&n).cloned())
    else {
        return vec![Check::skipped(
            N,
            "in-container",
            &subject,
            "the pod names no existing credential spec",
        )];
    };
    let Some(cspec) = cs.spec.as_ref() else {
        return vec![];
    };
    let domain = cspec.domain_join_config.dns_name.clone();
    let account = cspec.account().to_owned();
    let container = spec
        .containers
        .first()
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), &ns);
    let mut out = vec![];
    for p in probes(&domain) {
        match run(&api, &name, &container, &p.command).await {
            Err(e) => {
                out.push(Check::fail(
                    N,
                    p.check,
                    &subject,
                    format!("exec of `{}` failed: {e}", p.command.join(" ")),
                    "the doctor needs create on pods/exec and a kubelet the API server can reach (kubectl exec must work)",
                ));
                // The next probes would fail the same way.
                break;
            }
            Ok(text) => {
                let r = interpret(p.check, &text, &domain, &account);
                let mut c = Check::new(
                    N,
                    p.check,
                    &subject,
                    r.status,
                    format!("`{}`: {}", p.command.join(" "), r.message),
                );
                if r.status == Verdict::Warn || r.status == Verdict::Fail {
                    c.fix = r.fix;
                }
                out.push(c);
            }
        }
    }
    out
}

/// Run a command in a container; stdout and stderr together, as the troubleshooting page shows them.
async fn run(
    api: &Api<Pod>,
    pod: &str,
    container: &str,
    command: &[String],
) -> Result<String, String> {
    let ap = AttachParams::default()
        .container(container)
        .stdout(true)
        .stderr(true)
        .stdin(false);
    let fut = async {
        let mut p = api
            .exec(pod, command.to_vec(), &ap)
            .await
            .map_err(|e| cluster::classify(e).message)?;
        let mut text = String::new();
        if let Some(mut o) = p.stdout() {
            let mut b = String::new();
            let _ = o.read_to_string(&mut b).await;
            text.push_str(&b);
        }
        if let Some(mut e) = p.stderr() {
            let mut b = String::new();
            let _ = e.read_to_string(&mut b).await;
            text.push_str(&b);
        }
        let _ = p.join().await;
        Ok(text)
    };
    tokio::time::timeout(Duration::from_secs(60), fut)
        .await
        .map_err(|_| "no answer in 60 s".to_owned())?
}
