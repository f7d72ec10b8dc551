//! `install-webhook`: install or upgrade the webhook (re-run is upgrade).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::tls_plan::{plan_tls, CertificateSummary, Renew, DAY, RENEW_WITHIN_DAYS};
use crate::cluster::apply::{apply_all, ApplyOptions};
use crate::cluster::client::connect_for;
use crate::cluster::error::forbidden_read;
use crate::cluster::object::get_many;
use crate::cluster::version::{server_version_warm, ServerVersion};
use crate::cluster::wait::{wait_ready, Readiness};
use crate::cluster::webhook::{
    self as manifests, is_instance, FailurePolicy, Names, TlsSource, WebhookSettings,
};
use crate::cluster::{self, Cluster, DryRun, Target};
use crate::error::{Error, ErrorKind, Result};
use crate::outcome::ObjectOutcome;
use crate::progress::Reporter;

/// Install or upgrade the webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstallWebhookRequest {
    pub target: Target,
    /// Name of the webhook (Service, Deployment, configurations); default `gmsa-webhook`.
    pub name: Option<String>,
    /// Namespace of the webhook; default `gmsa-webhook`.
    pub namespace: Option<String>,
    /// Default: the upstream image this release was tested with.
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
        .unwrap_or_else(|| manifests::DEFAULT_IMAGE.to_owned());
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
    if let (Some(c), false) = (&cluster, req.overwrite) {
        let existing =
            futures::future::try_join_all(objects.iter().map(|(r, _)| cluster::get(&c.client, r)))
                .await
                .map_err(forbidden_read)?;
        let theirs: Vec<String> = objects
            .iter()
            .zip(&existing)
            .filter(|((r, _), e)| {
                r.kind != "CustomResourceDefinition"
                    && e.as_ref().is_some_and(|o| !is_instance(o, &names.name))
            })
            .map(|((r, _), _)| {
                format!(
                    "  {} exists and was not made by `kubectl gmsa install-webhook --name {}`",
                    r.display(),
                    names.name
                )
            })
            .collect();
        if !theirs.is_empty() {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "objects of the same names exist; nothing was changed:\n{}",
                    theirs.join("\n")
                ),
            )
            .with_hint(
                "choose another --name or --namespace, or pass --overwrite to take them over",
            ));
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

    let ready = match (&cluster, req.wait && req.dry_run == DryRun::None) {
        (Some(c), true) => {
            Some(wait_ready(c, &names, Duration::from_secs(req.timeout_secs), reporter).await?)
        }
        _ => None,
    };
    Ok(InstallWebhookOutcome {
        dry_run: req.dry_run,
        name: names.name,
        namespace: names.namespace,
        server_version: version.to_string(),
        match_conditions: version.has_match_conditions(),
        objects: outcomes,
        certificate,
        ready,
    })
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
