//! `install-webhook`: install or upgrade the webhook (re-run is upgrade).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::enforce;

use super::tls_plan::{plan_tls, CertificateSummary, Renew, DAY, RENEW_WITHIN_DAYS};
use crate::cluster::apply::{apply_all, ApplyOptions};
use crate::cluster::client::connect_for;
use crate::cluster::error::forbidden_read;
use crate::cluster::object::{get_many, ObjectRef};
use crate::cluster::version::{server_version_warm, ServerVersion};
use crate::cluster::wait::{wait_ready, Readiness};
use crate::cluster::webhook::{
    self as manifests, is_instance, owner_namespace, FailurePolicy, Names, TlsSource,
    WebhookServer, WebhookSettings,
};
use crate::cluster::{self, Cluster, DryRun, Target};
use crate::error::{Error, ErrorKind, Result};
use crate::outcome::ObjectOutcome;
use crate::progress::Reporter;

/// Install or upgrade the webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct InstallWebhookRequest {
    pub target: Target,
    /// Name of the webhook (Service, Deployment, configurations); default `gmsa-webhook`.
    pub name: Option<String>,
    /// Namespace of the webhook; default `gmsa-webhook`.
    pub namespace: Option<String>,
    /// Which webhook server to run: upstream's (default) or ours (`gmsa-webhook`).
    pub webhook: WebhookServer,
    /// Default: the chosen server's image for this release.
    pub image: Option<String>,
    pub replicas: u32,
    pub tolerate_control_plane: bool,
    /// `KEY=VALUE` entries added to the Linux node selector.
    pub node_selector: Vec<String>,
    pub failure_policy: FailurePolicy,
    /// Days the serving certificate is valid.
    pub cert_validity_days: u64,
    /// Let cert-manager issue the certificates.
    pub cert_manager: bool,
    /// Wait for the Deployment to be ready.
    pub wait: bool,
    pub timeout_secs: u64,
    pub dry_run: DryRun,
    /// Take over objects of the same names that kubectl-gmsa did not make.
    pub overwrite: bool,
    /// Client-side dry run only: the server version to render for (default: the newest).
    pub kube_version: Option<String>,
}

impl Default for InstallWebhookRequest {
    fn default() -> Self {
        InstallWebhookRequest {
            target: Target::default(),
            name: None,
            namespace: None,
            webhook: WebhookServer::Upstream,
            image: None,
            replicas: 2,
            tolerate_control_plane: false,
            node_selector: vec![],
            failure_policy: FailurePolicy::Fail,
            cert_validity_days: 365,
            cert_manager: false,
            wait: true,
            timeout_secs: 300,
            dry_run: DryRun::None,
            overwrite: false,
            kube_version: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstallWebhookOutcome {
    pub dry_run: DryRun,
    pub name: String,
    pub namespace: String,
    /// The server version the manifests were made for.
    pub server_version: String,
    /// Whether the webhooks only see pods that use gMSA (`matchConditions`, 1.28+).
    pub match_conditions: bool,
    pub objects: Vec<ObjectOutcome>,
    /// Absent with cert-manager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateSummary>,
    /// Absent without a wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<Readiness>,
    /// The failure policy the webhook configurations have now: `Ignore` until the webhook
    /// answers, when `Fail` was asked for.
    pub failure_policy: FailurePolicy,
    /// Set when the configurations stay at `Ignore` for now: why, and what to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_to_enforce: Option<String>,
}

/// Install the webhook, or bring an install up to the request (re-run is upgrade).
pub async fn install_webhook(
    req: &InstallWebhookRequest,
    reporter: &dyn Reporter,
) -> Result<InstallWebhookOutcome> {
    // Validate everything before the first request.
    let names = Names::checked(req.name.as_deref(), req.namespace.as_deref())?;
    let image = req
        .image
        .clone()
        .unwrap_or_else(|| req.webhook.default_image().to_owned());
    manifests::check_image(&image)?;
    if req.replicas == 0 {
        return Err(Error::invalid("--replicas must be at least 1")
            .with_hint("use --failure-policy Ignore if the webhook may be absent"));
    }
    let node_selector = manifests::parse_node_selector(&req.node_selector)?;
    if req.cert_validity_days == 0 || req.cert_validity_days > 3650 {
        return Err(Error::invalid(format!(
            "invalid certificate validity of {} days: it must be 1 to 3650 days",
            req.cert_validity_days
        )));
    }
    if req.cert_validity_days as i64 <= RENEW_WITHIN_DAYS && !req.cert_manager {
        return Err(Error::invalid(format!(
            "a certificate valid for {} days would be renewed on every run (renewal starts {RENEW_WITHIN_DAYS} days before expiry)",
            req.cert_validity_days
        ))
        .with_hint(format!("use --cert-validity of more than {RENEW_WITHIN_DAYS} days")));
    }
    let kube_version = match &req.kube_version {
        Some(v) => Some(ServerVersion::parse(v).ok_or_else(|| {
            Error::invalid(format!(
                "invalid Kubernetes version \"{v}\": expected MAJOR.MINOR such as 1.28"
            ))
        })?),
        None => None,
    };
    if kube_version.is_some() && req.dry_run != DryRun::Client {
        return Err(Error::invalid(
            "--kube-version is only for --dry-run=client; otherwise the server's version is used",
        ));
    }

    let cluster = connect_for(&req.target, req.dry_run).await?;
    let version = match &cluster {
        Some(c) => {
            reporter.step("reading the server version");
            server_version_warm(c, 28).await?
        }
        None => kube_version.unwrap_or(ServerVersion::NEWEST),
    };

    reporter.step("reading the current install");
    let (ns_obj, ca_secret, tls_secret) = match &cluster {
        Some(c) => {
            let refs = [
                names.namespace_ref(),
                names.ca_secret_ref(),
                names.tls_secret_ref(),
            ];
            let mut got = get_many(c, &refs)
                .await
                .map_err(forbidden_read)?
                .into_iter();
            (
                got.next().flatten(),
                got.next().flatten(),
                got.next().flatten(),
            )
        }
        None => (None, None, None),
    };
    if ns_obj
        .as_ref()
        .is_some_and(|n| n["metadata"]["deletionTimestamp"].is_string())
    {
        return Err(Error::new(
            ErrorKind::Conflict,
            format!(
                "namespace {} is being deleted; nothing was changed",
                names.namespace
            ),
        )
        .with_hint("wait until it is gone, or install into another --namespace"));
    }
    let manage_namespace = ns_obj.as_ref().is_none_or(|n| is_instance(n, &names.name));

    let validity = Duration::from_secs(req.cert_validity_days * DAY);
    let (tls, certificate) = if req.cert_manager {
        if let Some(c) = &cluster {
            require_cert_manager(c).await?;
        }
        (
            TlsSource::CertManager {
                duration_hours: req.cert_validity_days * 24,
            },
            None,
        )
    } else {
        reporter.step("preparing the certificates");
        let (tls, summary) = plan_tls(
            &names,
            ca_secret.as_ref(),
            tls_secret.as_ref(),
            validity,
            Renew::default(),
        )?;
        (tls, Some(summary))
    };

    let settings = WebhookSettings {
        name: names.name.clone(),
        namespace: names.namespace.clone(),
        image,
        server: req.webhook,
        replicas: req.replicas,
        tolerate_control_plane: req.tolerate_control_plane,
        node_selector,
        failure_policy: req.failure_policy,
        manage_namespace,
        server_version: version,
        tls,
    };
    let objects = manifests::manifests(&settings);

    // Objects of our names that another tool (or another install) made: refuse unless told.
    let existing = match &cluster {
        Some(c) => {
            futures::future::try_join_all(objects.iter().map(|(r, _)| cluster::get(&c.client, r)))
                .await
                .map_err(forbidden_read)?
        }
        None => vec![None; objects.len()],
    };
    if cluster.is_some() && !req.overwrite {
        refuse_others(&names, &objects, &existing)?;
    }
    let find = |kind: &str| {
        objects
            .iter()
            .zip(&existing)
            .find(|((r, _), _)| r.kind == kind)
            .and_then(|(_, e)| e.as_ref())
    };

    // A first install cannot block pods: start at Ignore unless Fail is known to work.
    let start_ignoring = req.failure_policy == FailurePolicy::Fail
        && cluster.is_some()
        && req.dry_run == DryRun::None
        && !enforce::enforce_now(
            &names,
            version.has_match_conditions(),
            find("Deployment"),
            find("ValidatingWebhookConfiguration"),
        );
    let mut objects = objects;
    let enforced: Vec<(ObjectRef, Value)> = objects
        .iter()
        .filter(|(r, _)| r.kind.ends_with("WebhookConfiguration"))
        .cloned()
        .collect();
    if start_ignoring {
        for (r, v) in objects.iter_mut() {
            if r.kind.ends_with("WebhookConfiguration") {
                enforce::set_policy(v, FailurePolicy::Ignore);
            }
        }
    }

    // Ours may differ (that is an upgrade): apply over them.
    let opts = ApplyOptions {
        overwrite: true,
        dry_run: req.dry_run,
    };
    let outcomes = if req.dry_run == DryRun::Server && ns_obj.is_none() {
        // The server cannot check objects in a namespace that a dry run does not create:
        // it checks the rest, and those are rendered only, with a reason.
        let (inside, outside): (Vec<_>, Vec<_>) = objects
            .into_iter()
            .partition(|(r, _)| r.namespace.as_deref() == Some(names.namespace.as_str()));
        let mut outcomes =
            apply_all(cluster.as_ref(), outside, &opts, async { Ok(()) }, reporter).await?;
        let rendered = apply_all(None, inside, &opts, async { Ok(()) }, reporter).await?;
        let at = outcomes
            .iter()
            .position(|o| o.kind == "Namespace")
            .map(|i| i + 1)
            .unwrap_or(0);
        let reason = format!(
            "not checked by the server: namespace {} does not exist yet",
            names.namespace
        );
        outcomes.splice(
            at..at,
            rendered.into_iter().map(|o| ObjectOutcome {
                reason: Some(reason.clone()),
                ..o
            }),
        );
        outcomes
    } else {
        apply_all(cluster.as_ref(), objects, &opts, async { Ok(()) }, reporter).await?
    };

    let mut failure_policy = if start_ignoring {
        FailurePolicy::Ignore
    } else {
        req.failure_policy
    };
    let mut waiting_to_enforce = None;
    let mut outcomes = outcomes;
    let ready = match (&cluster, req.wait && req.dry_run == DryRun::None) {
        (Some(c), true) => {
            let timeout = Duration::from_secs(req.timeout_secs);
            let deadline = Instant::now() + timeout;
            let ready = match wait_ready(c, &names, timeout, reporter).await {
                Ok(r) => r,
                Err(e) if start_ignoring && e.kind == ErrorKind::Timeout => {
                    return Err(enforce::timed_out_ignoring(e, &names))
                }
                Err(e) => return Err(e),
            };
            if start_ignoring {
                if enforce::wait_answers(c, &names, deadline, reporter).await? {
                    reporter.step("the webhook answers: switching the webhook configurations to failurePolicy Fail");
                    let opts = ApplyOptions {
                        overwrite: true,
                        dry_run: DryRun::None,
                    };
                    let switched =
                        apply_all(Some(c), enforced, &opts, async { Ok(()) }, reporter).await?;
                    for s in switched {
                        if let Some(o) = outcomes
                            .iter_mut()
                            .find(|o| o.kind == s.kind && o.name == s.name)
                        {
                            o.object = s.object;
                        }
                    }
                    failure_policy = FailurePolicy::Fail;
                } else {
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "failed to wait for the webhook: deployment/{} in namespace {} is ready but the API server could not reach the webhook within {}s\n{}",
                            names.name,
                            names.namespace,
                            req.timeout_secs,
                            enforce::still_ignoring(&names)
                        ),
                    )
                    .with_hint(format!(
                        "check the Service and its endpoints (`kubectl -n {} get endpoints {}`) and the pods' logs, then re-run install-webhook",
                        names.namespace, names.name
                    )));
                }
            }
            Some(ready)
        }
        _ => None,
    };
    if failure_policy != req.failure_policy && req.dry_run == DryRun::None {
        waiting_to_enforce = Some(enforce::still_ignoring(&names));
    }
    Ok(InstallWebhookOutcome {
        dry_run: req.dry_run,
        name: names.name,
        namespace: names.namespace,
        server_version: version.to_string(),
        match_conditions: version.has_match_conditions(),
        objects: outcomes,
        certificate,
        ready,
        failure_policy,
        waiting_to_enforce,
    })
}

/// Refuse objects of our names that another tool made, and cluster-wide objects that another
/// install (another namespace) owns.
fn refuse_others(
    names: &Names,
    objects: &[(ObjectRef, Value)],
    existing: &[Option<Value>],
) -> Result<()> {
    let mut theirs = vec![];
    let mut elsewhere: Vec<(String, String)> = vec![];
    for ((r, _), e) in objects.iter().zip(existing) {
        let Some(o) = e else { continue };
        if r.kind == "CustomResourceDefinition" {
            continue;
        }
        if !is_instance(o, &names.name) {
            theirs.push(format!(
                "  {} exists and was not made by `kubectl gmsa install-webhook --name {}`",
                r.display(),
                names.name
            ));
        } else if r.namespace.is_none() {
            if let Some(ns) = owner_namespace(o).filter(|ns| *ns != names.namespace) {
                elsewhere.push((r.display(), ns));
            }
        }
    }
    if let Some((_, ns)) = elsewhere.first() {
        let lines: Vec<String> = elsewhere
            .iter()
            .map(|(d, ns)| format!("  {d} belongs to the install in namespace {ns}"))
            .collect();
        return Err(Error::new(
            ErrorKind::Conflict,
            format!(
                "webhook {} is already installed in namespace {ns}; its cluster-wide objects are not taken over, so nothing was changed:\n{}",
                names.name,
                lines.join("\n")
            ),
        )
        .with_hint(format!(
            "to run a second webhook choose another --name; to move it to namespace {}, run `kubectl gmsa uninstall-webhook --name {} -n {ns}` first (or pass --overwrite to take the objects over)",
            names.namespace, names.name
        )));
    }
    if !theirs.is_empty() {
        return Err(Error::new(
            ErrorKind::Conflict,
            format!(
                "objects of the same names exist; nothing was changed:\n{}",
                theirs.join("\n")
            ),
        )
        .with_hint("choose another --name or --namespace, or pass --overwrite to take them over"));
    }
    Ok(())
}

async fn require_cert_manager(c: &Cluster) -> Result<()> {
    match c.client.list_api_group_resources("cert-manager.io/v1").await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Err(Error::new(
            ErrorKind::NotFound,
            format!("failed to find cert-manager: the cluster at {} does not serve cert-manager.io/v1; nothing was changed", c.server),
        )
        .with_hint("install cert-manager first, or leave out --cert-manager to let kubectl-gmsa make the certificates")),
        Err(e) => Err(cluster::classify(e).context("check for cert-manager")),
    }
}

#[cfg(test)]
mod tests {
    //! The owner record on the manifests install-webhook writes, and how older objects are read.
    use super::*;
    use crate::cluster::webhook::{
        ServerVersion, DEFAULT_IMAGE, OWNER_ANNOTATION, REQUESTED_POLICY_ANNOTATION,
    };
    use serde_json::json;

    fn settings() -> WebhookSettings {
        WebhookSettings {
            name: "gmsa-webhook".into(),
            namespace: "gmsa-system".into(),
            image: DEFAULT_IMAGE.into(),
            replicas: 2,
            tolerate_control_plane: false,
            node_selector: Default::default(),
            failure_policy: FailurePolicy::Ignore,
            manage_namespace: true,
            server_version: ServerVersion::NEWEST,
            server: WebhookServer::Upstream,
            tls: TlsSource::CertManager {
                duration_hours: 8760,
            },
        }
    }

    fn find<'a>(objs: &'a [(ObjectRef, Value)], kind: &str) -> &'a Value {
        &objs.iter().find(|(r, _)| r.kind == kind).unwrap().1
    }

    #[test]
    fn cluster_wide_objects_record_their_owner_and_old_ones_are_read_by_what_they_point_at() {
        let objs = manifests::manifests(&settings());
        for (r, v) in &objs {
            let cluster_wide = r.namespace.is_none()
                && !matches!(r.kind.as_str(), "Namespace" | "CustomResourceDefinition");
            assert_eq!(
                v["metadata"]["annotations"][OWNER_ANNOTATION].as_str(),
                cluster_wide.then_some("gmsa-system/gmsa-webhook"),
                "{}",
                r.display()
            );
            if cluster_wide {
                assert_eq!(owner_namespace(v).as_deref(), Some("gmsa-system"));
            }
        }
        let v = find(&objs, "ValidatingWebhookConfiguration");
        assert_eq!(
            v["metadata"]["annotations"][REQUESTED_POLICY_ANNOTATION],
            "Ignore"
        );
        // Written before owners were recorded: where they point.
        let mut old = find(&objs, "MutatingWebhookConfiguration").clone();
        old["metadata"]["annotations"] = json!({});
        assert_eq!(owner_namespace(&old).as_deref(), Some("gmsa-system"));
        let mut old = find(&objs, "ClusterRoleBinding").clone();
        old["metadata"]["annotations"] = json!({});
        assert_eq!(owner_namespace(&old).as_deref(), Some("gmsa-system"));
        let mut old = find(&objs, "ClusterRole").clone();
        old["metadata"]["annotations"] = json!({});
        assert_eq!(owner_namespace(&old), None);
    }
}
