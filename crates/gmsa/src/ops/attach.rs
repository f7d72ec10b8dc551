//! `attach`: make a workload run as a gMSA. Sets
//! `securityContext.windowsOptions.gmsaCredentialSpecName` on its pod template (pod level,
//! or one container), adds the Windows node selector unless told not to, checks that its
//! service account may use the credential spec (and binds it with `bind`), and warns about a
//! fixed hostname on several replicas. One server-side apply of only those fields, with our
//! field manager; a re-run changes nothing.

use k8s_openapi::api::rbac::v1::ClusterRole;
use kube::api::{Api, ListParams};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::doctor::{workload::selects_windows, Subject, WorkloadKind};
use crate::cluster::apply::{apply_all, ApplyOptions};
use crate::cluster::client::{connect_for, namespace_for};
use crate::cluster::objects::default_cluster_role;
use crate::cluster::{self, access, objects, DryRun, ObjectRef, Target, CREDSPEC_ANNOTATION};
use crate::error::{Error, ErrorKind, Result};
use crate::outcome::{Action, ObjectOutcome};
use crate::progress::Reporter;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttachRequest {
    pub target: Target,
    /// `kind/name`: deployment, statefulset, daemonset, job or cronjob.
    pub workload: String,
    pub namespace: Option<String>,
    /// The GMSACredentialSpec to use.
    pub credspec_name: String,
    /// Set it on this container only (default: the pod level, which every container inherits).
    pub container: Option<String>,
    /// Leave the node selector alone (the pods may land on Linux nodes).
    pub no_windows_selector: bool,
    /// Let the service account use the credential spec (a RoleBinding to the spec's role,
    /// made by add-credspec, or a new `<credspec>-gmsa-user` ClusterRole).
    pub bind: bool,
    /// Take the fields over from another field manager.
    pub overwrite: bool,
    pub dry_run: DryRun,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachOutcome {
    pub dry_run: DryRun,
    /// The workload, with `created`/`configured`/`unchanged` and the apply configuration as
    /// `object` (what a GitOps repository would carry).
    pub workload: ObjectOutcome,
    /// The role and binding written with `bind`.
    pub objects: Vec<ObjectOutcome>,
    /// May the service account use the credential spec (after `bind`)? `None` on a client dry run.
    pub service_account_may_use: Option<bool>,
    pub warnings: Vec<String>,
}

/// The apply configuration: only the fields attach owns.
pub fn apply_configuration(
    kind: WorkloadKind,
    api_version: &str,
    name: &str,
    namespace: &str,
    credspec: &str,
    container: Option<&str>,
    windows_selector: bool,
) -> Value {
    let options = json!({ "windowsOptions": { "gmsaCredentialSpecName": credspec } });
    let mut spec = json!({});
    match container {
        Some(c) => spec["containers"] = json!([{ "name": c, "securityContext": options }]),
        None => spec["securityContext"] = options,
    }
    if windows_selector {
        spec["nodeSelector"] = json!({ "kubernetes.io/os": "windows" });
    }
    let mut obj = json!({ "apiVersion": api_version, "kind": kind.kind(), "metadata": { "name": name, "namespace": namespace } });
    let template = json!({ "spec": spec });
    match kind {
        WorkloadKind::CronJob => {
            obj["spec"] = json!({ "jobTemplate": { "spec": { "template": template } } })
        }
        _ => obj["spec"] = json!({ "template": template }),
    }
    obj
}

/// Apply the gMSA settings to a workload.
pub async fn attach(req: &AttachRequest, reporter: &dyn Reporter) -> Result<AttachOutcome> {
    let (kind, name) = match Subject::parse(Some(&req.workload))? {
        Subject::Workload { kind: WorkloadKind::Pod, .. } => {
            return Err(Error::invalid("a pod's gMSA settings cannot change after it is created")
                .with_hint("attach its controller (deployment/NAME, statefulset/NAME, ...), or set the field in the pod's manifest and create it again"))
        }
        Subject::Workload { kind, name } => (kind, name),
        _ => return Err(Error::invalid(format!("\"{}\" is not a workload", req.workload)).with_hint("write deployment/NAME, statefulset/NAME, daemonset/NAME, job/NAME or cronjob/NAME")),
    };
    crate::names::check_resource_name("credential spec", &req.credspec_name)?;
    if let Some(c) = &req.container {
        crate::names::check_label(c)
            .map_err(|m| Error::invalid(format!("invalid container name: {m}")))?;
    }
    let cluster = connect_for(&req.target, req.dry_run).await?;
    let namespace = namespace_for(&req.target, req.namespace.as_deref(), cluster.as_ref()).await?;
    let mut warnings = vec![];
    let Some(cluster) = cluster else {
        // Client-side dry run: the apply configuration alone, nothing asked of the server.
        let patch = apply_configuration(
            kind,
            kind.api_versions()[0],
            &name,
            &namespace,
            &req.credspec_name,
            req.container.as_deref(),
            !req.no_windows_selector,
        );
        return Ok(AttachOutcome {
            dry_run: req.dry_run,
            workload: outcome(kind, kind.api_versions()[0], &name, &namespace, Action::Configured, patch),
            objects: vec![],
            service_account_may_use: None,
            warnings: vec!["client dry run: the workload, the credential spec and the service account were not checked".into()],
        });
    };
    reporter.step(&format!("reading {}/{name}", kind.word()));
    let spec_ref = objects::credspec_ref(&req.credspec_name);
    let (w, spec_obj) = tokio::join!(
        super::doctor::get_workload(&cluster, kind, &namespace, &name),
        cluster::get(&cluster.client, &spec_ref)
    );
    let w = w?;
    if spec_obj?.is_none() {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!(
                "credential spec {} does not exist; nothing was changed",
                req.credspec_name
            ),
        )
        .with_hint(format!(
            "add it first: kubectl gmsa add-credspec --credspec-file <file> --credspec-name {}",
            req.credspec_name
        )));
    }
    let pod_spec = w.template.spec.clone().unwrap_or_default();
    if let Some(c) = &req.container {
        if !pod_spec.containers.iter().any(|x| &x.name == c) {
            let names: Vec<&str> = pod_spec
                .containers
                .iter()
                .map(|x| x.name.as_str())
                .collect();
            return Err(Error::invalid(format!(
                "{}/{name} has no container {c}; it has {}",
                kind.word(),
                names.join(", ")
            )));
        }
    }
    if pod_spec.hostname.as_deref().is_some_and(|h| !h.is_empty())
        && w.replicas().is_none_or(|r| r > 1)
    {
        warnings.push(format!(
            "every replica of {}/{name} gets the hostname {}: containers with the same name on one gMSA break each other's domain sessions; remove the template's hostname",
            kind.word(),
            pod_spec.hostname.clone().unwrap_or_default()
        ));
    }
    let windows_selector = !req.no_windows_selector && !selects_windows(&pod_spec);
    if req.no_windows_selector && !selects_windows(&pod_spec) {
        warnings.push("no Windows node selector: the pods may be scheduled on Linux nodes, where gMSA does nothing".into());
    }
    let patch = apply_configuration(
        kind,
        &w.api_version,
        &name,
        &namespace,
        &req.credspec_name,
        req.container.as_deref(),
        windows_selector,
    );

    // The service account, and with --bind its RoleBinding.
    let sa = w.service_account();
    let mut may_use = access::may_use(&cluster.client, &namespace, &sa, &req.credspec_name).await?;
    let mut written = vec![];
    if !may_use && req.bind {
        reporter.step("binding the service account");
        let role = role_for(&cluster, &req.credspec_name).await?;
        let sa_ref = objects::ServiceAccountRef {
            namespace: namespace.clone(),
            name: sa.clone(),
        };
        let mut objs = vec![];
        if role.1 {
            objs.push((
                objects::cluster_role_ref(&role.0),
                objects::cluster_role(&role.0, &req.credspec_name),
            ));
        }
        objs.push((
            objects::role_binding_ref(&role.0, &sa_ref),
            objects::role_binding(&role.0, &req.credspec_name, &sa_ref),
        ));
        let opts = ApplyOptions {
            overwrite: false,
            dry_run: req.dry_run,
        };
        written = apply_all(Some(&cluster), objs, &opts, async { Ok(()) }, reporter).await?;
        may_use = req.dry_run != DryRun::None
            || access::may_use(&cluster.client, &namespace, &sa, &req.credspec_name).await?;
    } else if !may_use {
        warnings.push(format!(
            "serviceaccount {namespace}/{sa} may not use credspec/{}: the webhook will refuse the pods; re-run with --bind, or kubectl gmsa bind-role --cluster-role-name <role> --service-account {namespace}:{sa}",
            req.credspec_name
        ));
    }

    // Unchanged when the template already says everything the patch says.
    let r = ObjectRef {
        api_version: w.api_version.clone(),
        kind: kind.kind().to_owned(),
        plural: kind.plural().to_owned(),
        name: name.clone(),
        namespace: Some(namespace.clone()),
    };
    let action = if cluster::differences(&w.object, &patch)
        .iter()
        .all(|d| d.starts_with("$.apiVersion"))
        && cluster::differences(&w.object["spec"], &patch["spec"]).is_empty()
    {
        Action::Unchanged
    } else {
        reporter.step(&format!("applying {}/{name}", kind.word()));
        cluster::apply(
            &cluster.client,
            &r,
            &patch,
            req.dry_run == DryRun::Server,
            req.overwrite,
        )
        .await?;
        Action::Configured
    };
    Ok(AttachOutcome {
        dry_run: req.dry_run,
        workload: outcome(kind, &w.api_version, &name, &namespace, action, patch),
        objects: written,
        service_account_may_use: Some(may_use),
        warnings,
    })
}

/// The deployments, stateful sets and daemon sets of a namespace, as `kind/name` (what the
/// wizard offers to attach a credential spec to). Kinds the identity may not list are left out.
pub async fn attachable_workloads(
    cluster: &cluster::Cluster,
    namespace: &str,
) -> Result<Vec<String>> {
    let kinds = [
        WorkloadKind::Deployment,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
    ];
    let lists = futures::future::join_all(kinds.iter().map(|&kind| async move {
        let api: Api<kube::api::DynamicObject> = Api::namespaced_with(
            cluster.client.clone(),
            namespace,
            &kind.resource(kind.api_versions()[0]),
        );
        (kind, api.list(&ListParams::default()).await)
    }))
    .await;
    let mut found = vec![];
    for (kind, list) in lists {
        if let Ok(list) = list {
            let mut names: Vec<String> = list
                .items
                .into_iter()
                .filter_map(|o| o.metadata.name)
                .map(|n| format!("{}/{n}", kind.word()))
                .collect();
            names.sort();
            found.extend(names);
        }
    }
    Ok(found)
}

fn outcome(
    kind: WorkloadKind,
    api_version: &str,
    name: &str,
    namespace: &str,
    action: Action,
    patch: Value,
) -> ObjectOutcome {
    ObjectOutcome {
        api_version: api_version.to_owned(),
        kind: kind.kind().to_owned(),
        name: name.to_owned(),
        namespace: Some(namespace.to_owned()),
        action,
        reason: None,
        object: Some(patch),
    }
}

/// The cluster role that may use the credential spec: one of ours annotated with it, else
/// any granting `use` on exactly it, else a new `<credspec>-gmsa-user` (`true`: to create).
async fn role_for(cluster: &cluster::Cluster, credspec: &str) -> Result<(String, bool)> {
    let api: Api<ClusterRole> = Api::all(cluster.client.clone());
    let roles = api
        .list(&ListParams::default())
        .await
        .map_err(|e| cluster::classify(e).context("list cluster roles"))?;
    let grants = |r: &ClusterRole| {
        r.rules.iter().flatten().any(|rule| {
            rule.verbs.iter().any(|v| v == "use")
                && rule
                    .resources
                    .iter()
                    .flatten()
                    .any(|x| x == crate::credspec::PLURAL)
                && rule.resource_names.iter().flatten().any(|n| n == credspec)
        })
    };
    let ours = roles.items.iter().find(|r| {
        r.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(CREDSPEC_ANNOTATION))
            .is_some_and(|c| c == credspec)
            && grants(r)
    });
    if let Some(r) = ours.or_else(|| roles.items.iter().find(|r| grants(r))) {
        return Ok((r.metadata.name.clone().unwrap_or_default(), false));
    }
    Ok((default_cluster_role(credspec), true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_configuration_holds_only_the_gmsa_fields() {
        let p = apply_configuration(
            WorkloadKind::Deployment,
            "apps/v1",
            "web",
            "shop",
            "webapp01",
            None,
            true,
        );
        assert_eq!(
            p["spec"]["template"]["spec"]["securityContext"]["windowsOptions"]
                ["gmsaCredentialSpecName"],
            "webapp01"
        );
        assert_eq!(
            p["spec"]["template"]["spec"]["nodeSelector"]["kubernetes.io/os"],
            "windows"
        );
        assert_eq!(p["spec"]["template"]["spec"].as_object().unwrap().len(), 2);
        let c = apply_configuration(
            WorkloadKind::CronJob,
            "batch/v1",
            "n",
            "shop",
            "w",
            Some("app"),
            false,
        );
        let s = &c["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        assert_eq!(s["containers"][0]["name"], "app");
        assert_eq!(
            s["containers"][0]["securityContext"]["windowsOptions"]["gmsaCredentialSpecName"],
            "w"
        );
        assert!(s.get("nodeSelector").is_none());
    }
}
