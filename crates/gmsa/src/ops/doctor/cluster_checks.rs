//! The cluster layer: the CRD and the webhook (read through `status`), each credential
//! spec (lint, its ccg plug-in, the Secret that plug-in reads, by key names only), and the
//! Windows nodes' builds.

use k8s_openapi::api::core::v1::{Node, Secret};
use kube::api::{Api, ListParams};

use super::plugins::{self, PluginVerdict};
use super::report::{Check, Layer};
use super::scope::CredspecObject;
use crate::cluster::{self, Cluster, Target};
use crate::credspec::{self, Severity};
use crate::ops::{status, StatusRequest, RENEW_WITHIN_DAYS};
use crate::progress::Silent;

const C: Layer = Layer::Cluster;

/// The CRD and the webhook, from `status` (its own connection, so it runs beside the rest).
pub async fn webhook(
    target: Target,
    name: Option<String>,
    namespace: Option<String>,
) -> Vec<Check> {
    let req = StatusRequest {
        target,
        name,
        namespace,
    };
    let s = match status(&req, &Silent).await {
        Ok(s) => s,
        Err(e) => {
            return vec![Check::fail(
                C,
                "webhook-status",
                "webhook",
                format!("could not read the webhook's objects: {e}"),
                e.hint
                    .clone()
                    .unwrap_or_else(|| "kubectl gmsa status".into()),
            )]
        }
    };
    let subject = format!("webhook/{}/{}", s.namespace, s.name);
    let install = format!(
        "kubectl gmsa install-webhook --name {} --namespace {}",
        s.name, s.namespace
    );
    let mut out = vec![];
    out.push(if !s.crd.present {
        Check::fail(
            C,
            "crd-served",
            credspec::CRD_NAME,
            "the CRD does not exist",
            install.clone(),
        )
    } else if !s.crd.served_versions.iter().any(|v| v == credspec::VERSION) {
        Check::fail(
            C,
            "crd-served",
            credspec::CRD_NAME,
            format!(
                "the CRD serves {:?}, not {}",
                s.crd.served_versions,
                credspec::VERSION
            ),
            install.clone(),
        )
    } else {
        Check::pass(
            C,
            "crd-served",
            credspec::CRD_NAME,
            format!("served versions: {}", s.crd.served_versions.join(", ")),
        )
    });
    out.push(if !s.deployment.present {
        Check::fail(
            C,
            "webhook-installed",
            &subject,
            format!(
                "deployment/{} does not exist in namespace {}",
                s.name, s.namespace
            ),
            install.clone(),
        )
    } else if s.deployment.wanted == 0 || s.deployment.ready < s.deployment.wanted {
        Check::fail(
            C,
            "webhook-ready",
            &subject,
            format!(
                "{} of {} replicas ready",
                s.deployment.ready, s.deployment.wanted
            ),
            format!(
                "kubectl get pods -n {} ; kubectl describe deployment/{} -n {}",
                s.namespace, s.name, s.namespace
            ),
        )
    } else {
        Check::pass(
            C,
            "webhook-ready",
            &subject,
            format!(
                "{} of {} replicas ready",
                s.deployment.ready, s.deployment.wanted
            ),
        )
    });
    for w in &s.webhooks {
        let sub = format!("{}/{}", w.kind.to_ascii_lowercase(), w.name);
        if !w.present {
            out.push(Check::fail(
                C,
                "webhook-configuration",
                &sub,
                "does not exist: pods are not checked or filled in",
                install.clone(),
            ));
            continue;
        }
        out.push(Check::pass(
            C,
            "webhook-configuration",
            &sub,
            format!(
                "present, failurePolicy {}",
                w.failure_policy.as_deref().unwrap_or("Fail")
            ),
        ));
        if w.ca_bundle_verifies {
            out.push(Check::pass(
                C,
                "ca-bundle",
                &sub,
                format!(
                    "the CA bundle verifies the serving certificate for {}",
                    s.certificate.server_name
                ),
            ));
        } else if s.certificate.present {
            let why = s
                .problems
                .iter()
                .find(|p| p.contains(&w.name))
                .cloned()
                .unwrap_or_else(|| "the CA bundle does not verify the serving certificate".into());
            out.push(Check::fail(
                C,
                "ca-bundle",
                &sub,
                why,
                format!("kubectl gmsa rotate-certs --name {} --namespace {} (or re-run install-webhook)", s.name, s.namespace),
            ));
        }
    }
    out.push(match (s.certificate.present, s.certificate.days_left) {
        (false, _) | (true, None) => Check::fail(
            C,
            "certificate",
            &subject,
            format!("no usable serving certificate in secret/{}-tls", s.name),
            install,
        ),
        (true, Some(d)) if d <= 0 => Check::fail(
            C,
            "certificate",
            &subject,
            "the serving certificate has expired",
            format!(
                "kubectl gmsa rotate-certs --name {} --namespace {}",
                s.name, s.namespace
            ),
        ),
        (true, Some(d)) if d <= RENEW_WITHIN_DAYS => Check::warn(
            C,
            "certificate",
            &subject,
            format!("the serving certificate expires in {d} days"),
            format!(
                "kubectl gmsa rotate-certs --name {} --namespace {}",
                s.name, s.namespace
            ),
        ),
        (true, Some(d)) => Check::pass(C, "certificate", &subject, format!("expires in {d} days")),
    });
    out
}

/// One credential spec: its contents lint clean, its plug-in is known, and the Secret the
/// plug-in reads exists with the keys it needs (names only; values are never read).
pub async fn credspec(cluster: &Cluster, c: &CredspecObject) -> Vec<Check> {
    let subject = format!("credspec/{}", c.name);
    let mut out = vec![];
    let findings = credspec::lint(&c.resource["credspec"]);
    let errors: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}: {}", f.path, f.message))
        .collect();
    let warnings: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .map(|f| format!("{}: {}", f.path, f.message))
        .collect();
    let relint = format!("kubectl get gmsacredentialspec {} -o jsonpath='{{.credspec}}' > spec.json && kubectl gmsa lint spec.json", c.name);
    out.push(if !errors.is_empty() {
        Check::fail(C, "credspec-lint", &subject, errors.join("; "), format!("correct the fields named, then kubectl gmsa add-credspec --credspec-file <fixed.json> --credspec-name {} --overwrite", c.name))
    } else if !warnings.is_empty() {
        Check::warn(C, "credspec-lint", &subject, warnings.join("; "), relint)
    } else {
        Check::pass(C, "credspec-lint", &subject, format!("lints clean; gMSA {}", c.spec.as_ref().map(|s| s.account()).unwrap_or("?")))
    });
    let hac = c
        .spec
        .as_ref()
        .and_then(|s| s.active_directory_config.host_account_config.as_ref());
    match plugins::classify(hac) {
        PluginVerdict::DomainJoined => out.push(Check::pass(C, "ccg-plugin", &subject, "no HostAccountConfig: for domain-joined Windows nodes")),
        PluginVerdict::Unknown { guid } => out.push(Check::fail(
            C,
            "ccg-plugin",
            &subject,
            format!("PluginGUID {guid} is not a known ccg.exe plug-in; ccg.exe fails to load it and the container gets no identity"),
            format!("set ActiveDirectoryConfig.HostAccountConfig.PluginGUID to the plug-in installed on the nodes: {}", plugins::known_list()),
        )),
        PluginVerdict::Known { plugin, secret } => {
            out.push(Check::pass(C, "ccg-plugin", &subject, format!("{} plug-in {}", plugins::title(plugin), plugin.guid())));
            match secret {
                None => out.push(Check::skipped(C, "plugin-secret", &subject, format!("the {} plug-in keeps its secret outside the cluster: not checked", plugins::title(plugin)))),
                Some((ns, name)) => out.push(plugin_secret(cluster, &subject, &ns, &name).await),
            }
        }
    }
    out
}

async fn plugin_secret(cluster: &Cluster, subject: &str, ns: &str, name: &str) -> Check {
    let create = format!("kubectl gmsa create-secret {name} -n {ns} --domain <domain> --username <user allowed to read the gMSA password>");
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), ns);
    match api.get_opt(name).await {
        Ok(None) => Check::fail(
            C,
            "plugin-secret",
            subject,
            format!("secret/{name} does not exist in namespace {ns} (PluginInput {ns}:{name})"),
            create,
        ),
        Err(e) => Check::fail(
            C,
            "plugin-secret",
            subject,
            format!(
                "could not read secret/{name} in namespace {ns}: {}",
                cluster::classify(e)
            ),
            "run the doctor with an identity that may get that Secret",
        ),
        Ok(Some(s)) => {
            let mut keys: Vec<String> = s.data.unwrap_or_default().into_keys().collect();
            keys.extend(s.string_data.unwrap_or_default().into_keys());
            let missing = plugins::missing_keys(&keys);
            if missing.is_empty() {
                Check::pass(
                    C,
                    "plugin-secret",
                    subject,
                    format!(
                        "secret/{name} in namespace {ns} has keys {} (values not read)",
                        keys.join(", ")
                    ),
                )
            } else {
                Check::fail(
                    C,
                    "plugin-secret",
                    subject,
                    format!(
                        "secret/{name} in namespace {ns} lacks {}",
                        missing.join(", ")
                    ),
                    format!("{create} --overwrite"),
                )
            }
        }
    }
}

/// Windows nodes whose build needs a fix: Windows Server 2019 with containerd before build
/// 17763.1817 cannot run gMSA containers.
pub async fn nodes(cluster: &Cluster) -> Vec<Check> {
    let api: Api<Node> = Api::all(cluster.client.clone());
    let list = match api
        .list(&ListParams::default().labels("kubernetes.io/os=windows"))
        .await
    {
        Ok(l) => l,
        Err(e) => {
            return vec![Check::skipped(
                Layer::Node,
                "node-build",
                "nodes",
                format!("could not list nodes: {}", cluster::classify(e)),
            )]
        }
    };
    if list.items.is_empty() {
        return vec![Check::skipped(
            Layer::Node,
            "node-build",
            "nodes",
            "no Windows nodes (label kubernetes.io/os=windows) in the cluster",
        )];
    }
    list.items
        .iter()
        .map(|n| {
            let name = n.metadata.name.clone().unwrap_or_default();
            let info = n.status.as_ref().and_then(|s| s.node_info.as_ref());
            let kernel = info.map(|i| i.kernel_version.as_str()).unwrap_or_default();
            let runtime = info
                .map(|i| i.container_runtime_version.as_str())
                .unwrap_or_default();
            node_build(&name, kernel, runtime)
        })
        .collect()
}

/// The node-build check of one node, from `nodeInfo.kernelVersion` (`10.0.17763.1817`) and
/// `containerRuntimeVersion` (`containerd://1.6.6`).
pub fn node_build(node: &str, kernel: &str, runtime: &str) -> Check {
    let subject = format!("node/{node}");
    let parts: Vec<u32> = kernel
        .split(['.', '-', ' '])
        .filter_map(|p| p.parse().ok())
        .collect();
    let (build, revision) = (parts.get(2).copied(), parts.get(3).copied());
    let containerd = runtime.starts_with("containerd");
    match (build, revision) {
        (Some(17763), Some(r)) if containerd && r < 1817 => Check::fail(
            Layer::Node,
            "node-build",
            &subject,
            format!("Windows Server 2019 build 17763.{r} with {runtime}: gMSA needs 17763.1817 or later with containerd"),
            "install the Windows cumulative update of February 2021 (KB4601383) or later on the node, or replace the node with a current image",
        ),
        (Some(b), r) => Check::pass(Layer::Node, "node-build", &subject, format!("Windows build {b}.{} with {runtime}", r.map(|r| r.to_string()).unwrap_or_else(|| "?".into()))),
        _ => Check::skipped(Layer::Node, "node-build", &subject, format!("unknown kernel version {kernel:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::doctor::Verdict;

    #[test]
    fn windows_server_2019_with_containerd_needs_1817() {
        let old = node_build("win-1", "10.0.17763.1697", "containerd://1.6.6");
        assert_eq!(old.status, Verdict::Fail);
        assert!(old.fix.unwrap().contains("KB4601383"));
        assert_eq!(
            node_build("win-1", "10.0.17763.1817", "containerd://1.6.6").status,
            Verdict::Pass
        );
        // Docker (dockershim) was not affected, nor Windows Server 2022.
        assert_eq!(
            node_build("win-1", "10.0.17763.1697", "docker://20.10.9").status,
            Verdict::Pass
        );
        assert_eq!(
            node_build("win-2", "10.0.20348.587", "containerd://1.6.6").status,
            Verdict::Pass
        );
        assert_eq!(node_build("x", "", "").status, Verdict::Skipped);
    }
}
