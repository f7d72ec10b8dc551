//! Webhook operations: `install-webhook` (CRD, RBAC, TLS, Deployment, Service, webhook
//! configurations; re-run is upgrade), `status`, `rotate-certs` and `uninstall-webhook`.
//! Manifests are in `cluster::webhook`, certificates in `cluster::tls`.

use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{apply_all, connect_for, delete_all, require, ApplyOptions, ObjectOutcome};
use crate::cluster::access::Permission;
use crate::cluster::tls::{self, KeyedCert};
use crate::cluster::webhook::{
    self as manifests, is_instance, FailurePolicy, Names, ServerVersion, TlsSource, WebhookServer,
    WebhookSettings, CERT_MANAGER_INJECT, CERT_SERIAL_ANNOTATION,
};
use crate::cluster::{self, crd, Cluster, DryRun, ObjectRef, Target, MANAGER};
use crate::credspec;
use crate::error::{Error, ErrorKind, Result};
use crate::names;
use crate::progress::Reporter;

/// A certificate is renewed when it expires within this many days.
pub const RENEW_WITHIN_DAYS: i64 = 30;
const CA_VALIDITY: Duration = Duration::from_secs(10 * 365 * 86_400);
const DAY: u64 = 86_400;

// ---------------------------------------------------------------- shared bits

fn names_of(name: Option<&str>, namespace: Option<&str>) -> Result<Names> {
    let name = name.unwrap_or(manifests::DEFAULT_NAME);
    let namespace = namespace.unwrap_or(manifests::DEFAULT_NAMESPACE);
    manifests::check_name(name)?;
    names::check_namespace(namespace)?;
    Ok(Names::new(name, namespace))
}

/// The API server's version, from `/version`.
pub async fn server_version(cluster: &Cluster) -> Result<ServerVersion> {
    let info = cluster.client.apiserver_version().await.map_err(|e| {
        cluster::classify(e).context(format_args!(
            "read the version of the API server at {}",
            cluster.server
        ))
    })?;
    ServerVersion::from_info(&info.major, &info.minor, &info.git_version).ok_or_else(|| {
        Error::new(
            ErrorKind::Internal,
            format!(
                "failed to understand the API server's version \"{}\"",
                info.git_version
            ),
        )
    })
}

/// The server version, with the connections for the parallel reads and checks that follow.
/// Over HTTP/2 (what API servers offer over TLS) one connection carries them all. Over
/// HTTP/1.1 `connections` connections are opened at once: a new connection costs a round
/// trip more than a reused one, so opening them together costs that once instead of once per
/// wave of parallel requests.
async fn server_version_warm(cluster: &Cluster, connections: usize) -> Result<ServerVersion> {
    if cluster::speaks_http2(cluster).await {
        return server_version(cluster).await;
    }
    let warm =
        futures::future::join_all((1..connections).map(|_| cluster.client.apiserver_version()));
    let (version, _) = futures::join!(server_version(cluster), warm);
    version
}

/// A JSON merge patch with our field manager.
async fn merge_patch(cluster: &Cluster, r: &ObjectRef, patch: &Value) -> Result<()> {
    let pp = PatchParams {
        field_manager: Some(MANAGER.into()),
        ..Default::default()
    };
    r.api(&cluster.client)
        .patch(&r.name, &pp, &Patch::Merge(patch))
        .await
        .map_err(|e| cluster::classify(e).context(format_args!("update {}", r.display())))?;
    Ok(())
}

/// Read several objects at once; `None` for each that does not exist.
async fn get_many(cluster: &Cluster, refs: &[ObjectRef]) -> Result<Vec<Option<Value>>> {
    futures::future::try_join_all(refs.iter().map(|r| cluster::get(&cluster.client, r))).await
}

fn forbidden_read(e: Error) -> Error {
    if e.kind == ErrorKind::Forbidden {
        Error::new(
            ErrorKind::Forbidden,
            format!("{}; nothing was changed", e.message),
        )
        .with_hint(
            "ask a cluster administrator for these permissions, or use a --context with them",
        )
    } else {
        e
    }
}

fn secret_text(secret: Option<&Value>, key: &str) -> Option<String> {
    let v = secret?.get("data")?.get(key)?.clone();
    let bytes: k8s_openapi::ByteString = serde_json::from_value(v).ok()?;
    String::from_utf8(bytes.0).ok()
}

/// A certificate's facts, for outcomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateSummary {
    pub serial: String,
    /// RFC 3339.
    pub not_after: String,
    pub days_left: i64,
    /// Issued by this run (false: the existing one was kept).
    pub issued: bool,
    /// A new CA was made by this run.
    pub new_ca: bool,
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// What to renew regardless of expiry.
#[derive(Debug, Clone, Copy, Default)]
struct Renew {
    serving: bool,
    ca: bool,
}

/// Decide the TLS material: keep the CA and the serving certificate in the Secrets when they
/// are sound and far from expiry, otherwise make new ones. A new CA joins the old one in the
/// CA bundle so that pods still serving the old certificate stay trusted during the roll.
fn plan_tls(
    names: &Names,
    ca_secret: Option<&Value>,
    tls_secret: Option<&Value>,
    validity: Duration,
    renew: Renew,
) -> Result<(TlsSource, CertificateSummary)> {
    let now = tls::now();
    let internal = |m: String| Error::new(ErrorKind::Internal, m);
    let old_ca = match (
        secret_text(ca_secret, "tls.crt"),
        secret_text(ca_secret, "tls.key"),
    ) {
        (Some(cert_pem), Some(key_pem)) => Some(KeyedCert { cert_pem, key_pem }),
        _ => None,
    };
    let old_ca_info = old_ca.as_ref().and_then(|c| tls::inspect(&c.cert_pem).ok());
    let ca_usable = match (&old_ca, &old_ca_info) {
        (Some(ca), Some(info)) => {
            info.is_ca && tls::key_matches(ca) && info.days_left(now) > RENEW_WITHIN_DAYS
        }
        _ => false,
    };
    let (ca, ca_bundle, new_ca) = if ca_usable && !renew.ca {
        let ca = old_ca.expect("usable");
        let bundle = secret_text(ca_secret, "ca-bundle.crt")
            .filter(|b| {
                tls::certs_of(b).is_ok() && tls::bundle(&[b, &ca.cert_pem]) == tls::bundle(&[b])
            })
            .unwrap_or_else(|| tls::bundle(&[&ca.cert_pem]));
        (ca, bundle, false)
    } else {
        let ca = tls::generate_ca(&format!("{}-ca", names.name), CA_VALIDITY).map_err(internal)?;
        // Keep trusting the old CA (if still valid) until the pods serve the new certificate.
        let keep_old = old_ca_info.as_ref().is_some_and(|i| i.not_after > now);
        let bundle = match (&old_ca, keep_old) {
            (Some(old), true) => tls::bundle(&[&ca.cert_pem, &old.cert_pem]),
            _ => tls::bundle(&[&ca.cert_pem]),
        };
        (ca, bundle, true)
    };
    let server_name = names.server_name();
    let old_serving = match (
        secret_text(tls_secret, "tls.crt"),
        secret_text(tls_secret, "tls.key"),
    ) {
        (Some(cert_pem), Some(key_pem)) => Some(KeyedCert { cert_pem, key_pem }),
        _ => None,
    };
    let keep_serving = !renew.serving
        && !new_ca
        && old_serving.as_ref().is_some_and(|s| {
            tls::key_matches(s)
                && tls::verify(&ca.cert_pem, &s.cert_pem, &server_name, now).is_ok()
                && tls::inspect(&s.cert_pem).is_ok_and(|i| i.days_left(now) > RENEW_WITHIN_DAYS)
        });
    let (serving, issued) = if keep_serving {
        (old_serving.expect("kept"), false)
    } else {
        let dns = tls::service_dns_names(&names.name, &names.namespace);
        (
            tls::issue_serving(&ca, &dns, validity).map_err(internal)?,
            true,
        )
    };
    let info = tls::inspect(&serving.cert_pem).map_err(internal)?;
    let summary = CertificateSummary {
        serial: info.serial.clone(),
        not_after: rfc3339(info.not_after),
        days_left: info.days_left(now),
        issued,
        new_ca,
    };
    Ok((
        TlsSource::Generated {
            ca,
            ca_bundle,
            serving,
        },
        summary,
    ))
}

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
fn rollout_done(d: &Value) -> (bool, Readiness) {
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
async fn wait_ready(
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
        let d = cluster::get(&cluster.client, &r).await?.ok_or_else(|| {
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
        Err(e) => why.push(format!(
            "  (could not list pods: {})",
            cluster::classify(e).message
        )),
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

// ---------------------------------------------------------------- install-webhook

/// Install or upgrade the webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
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
}

/// Install the webhook, or bring an install up to the request (re-run is upgrade).
pub async fn install_webhook(
    req: &InstallWebhookRequest,
    reporter: &dyn Reporter,
) -> Result<InstallWebhookOutcome> {
    // Validate everything before the first request.
    let names = names_of(req.name.as_deref(), req.namespace.as_deref())?;
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

// ---------------------------------------------------------------- status

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatusRequest {
    pub target: Target,
    pub name: Option<String>,
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrdStatus {
    pub present: bool,
    pub served_versions: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentStatus {
    pub present: bool,
    /// Which webhook server it runs (`upstream` or `kubectl-gmsa`).
    pub webhook: Option<WebhookServer>,
    pub image: Option<String>,
    pub ready: u32,
    pub wanted: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookConfigStatus {
    pub kind: String,
    pub name: String,
    pub present: bool,
    pub failure_policy: Option<String>,
    pub match_conditions: bool,
    /// Does its CA bundle verify the serving certificate in the Secret?
    pub ca_bundle_verifies: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateStatus {
    pub present: bool,
    /// The name the API server checks: `<name>.<namespace>.svc`.
    pub server_name: String,
    pub serial: Option<String>,
    pub not_after: Option<String>,
    pub days_left: Option<i64>,
    pub cert_manager: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusOutcome {
    pub name: String,
    pub namespace: String,
    pub server_version: String,
    pub healthy: bool,
    /// What makes it unhealthy.
    pub problems: Vec<String>,
    /// Worth knowing, not unhealthy (a certificate close to expiry).
    pub warnings: Vec<String>,
    pub crd: CrdStatus,
    pub deployment: DeploymentStatus,
    pub webhooks: Vec<WebhookConfigStatus>,
    pub certificate: CertificateStatus,
    /// `None` when the CRD is absent or they may not be listed.
    pub credential_specs: Option<usize>,
}

/// Is the webhook installed and healthy? Never writes.
pub async fn status(req: &StatusRequest, reporter: &dyn Reporter) -> Result<StatusOutcome> {
    let names = names_of(req.name.as_deref(), req.namespace.as_deref())?;
    let cluster = cluster::connect(&req.target).await?;
    reporter.step("reading the server version");
    let version = server_version_warm(&cluster, 6).await?;
    reporter.step("reading the webhook's objects");
    let refs = [
        crd::object_ref(),
        names.deployment(),
        names.mutating(),
        names.validating(),
        names.tls_secret_ref(),
    ];
    let [crd_obj, deploy, mutating, validating, secret]: [Option<Value>; 5] =
        get_many(&cluster, &refs)
            .await?
            .try_into()
            .expect("five answers");
    let mut problems = vec![];
    let mut warnings = vec![];

    let crd_status = match &crd_obj {
        Some(o) => CrdStatus {
            present: true,
            served_versions: o["spec"]["versions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|v| v["served"] == true)
                .filter_map(|v| v["name"].as_str().map(str::to_owned))
                .collect(),
        },
        None => CrdStatus::default(),
    };
    if !crd_status.present {
        problems.push(format!("the CRD {} does not exist", credspec::CRD_NAME));
    } else if !crd_status
        .served_versions
        .iter()
        .any(|v| v == credspec::VERSION)
    {
        problems.push(format!(
            "the CRD {} does not serve {}",
            credspec::CRD_NAME,
            credspec::VERSION
        ));
    }

    let deployment = match &deploy {
        Some(d) => {
            let (done, r) = rollout_done(d);
            if !done {
                problems.push(format!(
                    "deployment/{} has {} of {} replicas ready",
                    names.name, r.ready, r.wanted
                ));
            }
            DeploymentStatus {
                present: true,
                webhook: Some(
                    d["metadata"]["annotations"][manifests::SERVER_ANNOTATION]
                        .as_str()
                        .and_then(WebhookServer::from_name)
                        .unwrap_or_default(),
                ),
                image: d
                    .pointer("/spec/template/spec/containers/0/image")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                ready: r.ready,
                wanted: r.wanted,
            }
        }
        None => {
            problems.push(format!(
                "deployment/{} does not exist in namespace {}",
                names.name, names.namespace
            ));
            DeploymentStatus::default()
        }
    };

    let now = tls::now();
    let serving = secret_text(secret.as_ref(), "tls.crt");
    let info = serving.as_deref().map(tls::inspect);
    let cert_manager = mutating
        .as_ref()
        .is_some_and(|m| m["metadata"]["annotations"][CERT_MANAGER_INJECT].is_string());
    let mut certificate = CertificateStatus {
        server_name: names.server_name(),
        cert_manager,
        ..Default::default()
    };
    match &info {
        None => problems.push(format!(
            "secret/{} in namespace {} holds no certificate",
            names.tls_secret(),
            names.namespace
        )),
        Some(Err(e)) => problems.push(format!(
            "the certificate in secret/{} is unusable: {e}",
            names.tls_secret()
        )),
        Some(Ok(i)) => {
            certificate.present = true;
            certificate.serial = Some(i.serial.clone());
            certificate.not_after = Some(rfc3339(i.not_after));
            let days = i.days_left(now);
            certificate.days_left = Some(days);
            if i.not_after <= now {
                problems.push(format!(
                    "the webhook's certificate expired on {}",
                    rfc3339(i.not_after)
                ));
            } else if days <= RENEW_WITHIN_DAYS {
                warnings.push(format!(
                    "the webhook's certificate expires in {days} days; run `kubectl gmsa rotate-certs` (or re-run install-webhook)"
                ));
            }
        }
    }

    let mut webhooks = vec![];
    for (r, obj) in [
        (names.mutating(), &mutating),
        (names.validating(), &validating),
    ] {
        let mut s = WebhookConfigStatus {
            kind: r.kind.clone(),
            name: r.name.clone(),
            ..Default::default()
        };
        match obj {
            None => problems.push(format!("{} does not exist", r.display())),
            Some(o) => {
                s.present = true;
                let hook = &o["webhooks"][0];
                s.failure_policy = hook["failurePolicy"].as_str().map(str::to_owned);
                s.match_conditions = hook["matchConditions"]
                    .as_array()
                    .is_some_and(|a| !a.is_empty());
                let bundle: Option<String> = serde_json::from_value::<k8s_openapi::ByteString>(
                    hook["clientConfig"]["caBundle"].clone(),
                )
                .ok()
                .and_then(|b| String::from_utf8(b.0).ok());
                match (&bundle, &serving) {
                    (None, _) => problems.push(format!("{} has no CA bundle", r.display())),
                    (Some(_), None) => {}
                    (Some(b), Some(cert)) => {
                        match tls::verify(b, cert, &names.server_name(), now) {
                            Ok(()) => s.ca_bundle_verifies = true,
                            // An expired certificate is already reported once above.
                            Err(e) if e.contains("expired") => {}
                            Err(e) => problems.push(format!(
                                "{}: {e} for {}",
                                r.display(),
                                names.server_name()
                            )),
                        }
                    }
                }
            }
        }
        webhooks.push(s);
    }

    let credential_specs = if crd_status.present {
        reporter.step("counting credential specs");
        count_credspecs(&cluster).await.ok()
    } else {
        None
    };

    Ok(StatusOutcome {
        name: names.name,
        namespace: names.namespace,
        server_version: version.to_string(),
        healthy: problems.is_empty(),
        problems,
        warnings,
        crd: crd_status,
        deployment,
        webhooks,
        certificate,
        credential_specs,
    })
}

/// The names of every credential spec in the cluster (paged).
async fn credspec_names(cluster: &Cluster) -> Result<Vec<String>> {
    let mut out = vec![];
    super::credspecs::list_all(
        cluster,
        &format!("{}/{}", credspec::GROUP, credspec::VERSION),
        credspec::KIND,
        credspec::PLURAL,
        None,
        Some(super::credspecs::DEFAULT_CHUNK_SIZE),
        |o| {
            out.push(
                o["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        },
    )
    .await?;
    Ok(out)
}

/// How many credential specs the cluster holds: one page of one name, and the server's
/// `remainingItemCount` (an etcd count, so 5,000 specs cost what 1 does). Servers that do not
/// report the count (it is optional) are paged through instead.
async fn count_credspecs(cluster: &Cluster) -> Result<usize> {
    let page = crate::cluster::objects::credspecs_api(&cluster.client)
        // A full page, not list_metadata: 1.20 leaves remainingItemCount out of metadata lists.
        .list(&ListParams::default().limit(1))
        .await
        .map_err(|e| cluster::classify(e).context("count credential specs"))?;
    let more = page
        .metadata
        .continue_
        .as_deref()
        .is_some_and(|c| !c.is_empty());
    match page.metadata.remaining_item_count {
        Some(rest) if rest >= 0 => Ok(page.items.len() + rest as usize),
        _ if !more => Ok(page.items.len()),
        _ => credspec_names(cluster).await.map(|n| n.len()),
    }
}

// ---------------------------------------------------------------- uninstall-webhook

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UninstallWebhookRequest {
    pub target: Target,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// Also delete the CRD (and with it every credential spec).
    pub purge: bool,
    /// With `purge`: even when credential specs exist.
    pub force: bool,
    pub dry_run: DryRun,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UninstallWebhookOutcome {
    pub dry_run: DryRun,
    pub objects: Vec<ObjectOutcome>,
}

fn skipped(r: &ObjectRef, reason: &str) -> ObjectOutcome {
    ObjectOutcome {
        api_version: r.api_version.clone(),
        kind: r.kind.clone(),
        name: r.name.clone(),
        namespace: r.namespace.clone(),
        action: super::Action::Skipped,
        reason: Some(reason.into()),
        object: None,
    }
}

/// Delete what `install-webhook` made (found by our labels), webhook configurations first;
/// the namespace only if the install made it; the CRD only with `purge`.
pub async fn uninstall_webhook(
    req: &UninstallWebhookRequest,
    reporter: &dyn Reporter,
) -> Result<UninstallWebhookOutcome> {
    let names = names_of(req.name.as_deref(), req.namespace.as_deref())?;
    if req.force && !req.purge {
        return Err(Error::invalid("--force only makes sense with --purge"));
    }
    let cluster = cluster::connect(&req.target).await?;
    let version = server_version_warm(&cluster, 16).await?;
    let mut refs = names.removable(version.pdb_api_version());
    refs.push(names.namespace_ref());
    if req.purge {
        refs.push(crd::object_ref());
    }
    reporter.step("reading the webhook's objects");
    let client = &cluster.client;
    let existing = futures::future::try_join_all(refs.iter().map(|r| async move {
        match cluster::get(client, r).await {
            // cert-manager's kinds are absent on most clusters.
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            other => other,
        }
    }))
    .await
    .map_err(forbidden_read)?;

    let mut to_delete = vec![];
    let mut outcomes = vec![];
    for (r, obj) in refs.iter().zip(&existing) {
        let Some(obj) = obj else { continue };
        let ours = if r.kind == "CustomResourceDefinition" {
            cluster::is_ours(obj)
        } else {
            is_instance(obj, &names.name)
        };
        if !ours {
            let why = if r.kind == "Namespace" {
                "not created by install-webhook"
            } else {
                "not made by kubectl-gmsa for this webhook"
            };
            outcomes.push(skipped(r, why));
        } else if obj["metadata"]["deletionTimestamp"].is_string() && r.kind == "Namespace" {
            outcomes.push(skipped(r, "already being deleted"));
        } else {
            to_delete.push(r.clone());
        }
    }
    if req.purge
        && to_delete
            .iter()
            .any(|r| r.kind == "CustomResourceDefinition")
        && !req.force
    {
        let specs = credspec_names(&cluster).await?;
        if !specs.is_empty() {
            let shown: Vec<&str> = specs.iter().take(10).map(String::as_str).collect();
            return Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "{} credential spec(s) exist ({}{}); --purge would delete them with the CRD, so nothing was changed",
                    specs.len(),
                    shown.join(", "),
                    if specs.len() > shown.len() { ", ..." } else { "" }
                ),
            )
            .with_hint("remove them first (kubectl gmsa remove-credspec), or pass --force to delete them too"));
        }
    }
    let deleted = delete_all(&cluster, to_delete, req.dry_run != DryRun::None, reporter).await?;
    outcomes.splice(0..0, deleted);
    Ok(UninstallWebhookOutcome {
        dry_run: req.dry_run,
        objects: outcomes,
    })
}

// ---------------------------------------------------------------- rotate-certs

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RotateCertsRequest {
    pub target: Target,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// Make a new CA too (the CA bundle holds old and new until the pods serve the new one).
    pub new_ca: bool,
    pub cert_validity_days: u64,
    pub wait: bool,
    pub timeout_secs: u64,
}

impl Default for RotateCertsRequest {
    fn default() -> Self {
        RotateCertsRequest {
            target: Target::default(),
            name: None,
            namespace: None,
            new_ca: false,
            cert_validity_days: 365,
            wait: true,
            timeout_secs: 300,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RotateCertsOutcome {
    pub objects: Vec<ObjectOutcome>,
    pub certificate: CertificateSummary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<Readiness>,
    /// With a new CA: whether the old CA was dropped from the bundle (only after a wait).
    pub old_ca_dropped: bool,
}

/// Set the CA bundle of every webhook in a configuration.
async fn set_ca_bundle(
    cluster: &Cluster,
    r: &ObjectRef,
    current: &Value,
    bundle: &str,
) -> Result<()> {
    let mut hooks = current["webhooks"].clone();
    for h in hooks.as_array_mut().into_iter().flatten() {
        h["clientConfig"]["caBundle"] =
            serde_json::to_value(k8s_openapi::ByteString(bundle.as_bytes().to_vec()))
                .expect("serializes");
    }
    let patch = json!({ "metadata": { "resourceVersion": current["metadata"]["resourceVersion"] }, "webhooks": hooks });
    merge_patch(cluster, r, &patch).await
}

/// New serving certificate (and with `new_ca` a new CA), then restart the Deployment.
pub async fn rotate_certs(
    req: &RotateCertsRequest,
    reporter: &dyn Reporter,
) -> Result<RotateCertsOutcome> {
    let names = names_of(req.name.as_deref(), req.namespace.as_deref())?;
    if req.cert_validity_days as i64 <= RENEW_WITHIN_DAYS || req.cert_validity_days > 3650 {
        return Err(Error::invalid(format!(
            "invalid certificate validity of {} days: it must be {} to 3650 days",
            req.cert_validity_days,
            RENEW_WITHIN_DAYS + 1
        )));
    }
    let cluster = cluster::connect(&req.target).await?;
    reporter.step("reading the webhook's objects");
    let c = &cluster.client;
    let refs = [
        names.ca_secret_ref(),
        names.tls_secret_ref(),
        names.deployment(),
        names.mutating(),
        names.validating(),
    ];
    let [ca_secret, tls_secret, deploy, mutating, validating]: [Option<Value>; 5] =
        get_many(&cluster, &refs)
            .await
            .map_err(forbidden_read)?
            .try_into()
            .expect("five answers");
    let (Some(deploy), Some(mutating), Some(validating)) = (deploy, mutating, validating) else {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!(
                "failed to rotate certificates: no webhook named {} is installed in namespace {}",
                names.name, names.namespace
            ),
        )
        .with_hint(
            "install it with `kubectl gmsa install-webhook` (with the same --name and --namespace)",
        ));
    };
    if mutating["metadata"]["annotations"][CERT_MANAGER_INJECT].is_string() {
        return Err(Error::invalid(
            "failed to rotate certificates: cert-manager manages this webhook's certificates",
        )
        .with_hint(format!(
            "ask cert-manager to renew certificate/{} in namespace {}",
            names.name, names.namespace
        )));
    }
    if ![&deploy, &mutating, &validating]
        .iter()
        .all(|o| is_instance(o, &names.name))
    {
        return Err(Error::new(
            ErrorKind::Conflict,
            "failed to rotate certificates: the webhook's objects were not made by kubectl-gmsa",
        ));
    }
    let perms = vec![
        Permission::new(
            "patch",
            "apps",
            "deployments",
            Some(&names.namespace),
            Some(&names.name),
        ),
        Permission::new(
            "patch",
            "admissionregistration.k8s.io",
            "mutatingwebhookconfigurations",
            None,
            Some(&names.name),
        ),
        Permission::new(
            "patch",
            "admissionregistration.k8s.io",
            "validatingwebhookconfigurations",
            None,
            Some(&names.name),
        ),
    ];
    reporter.step("checking permissions");
    require(&cluster, &perms).await?;

    let validity = Duration::from_secs(req.cert_validity_days * DAY);
    let (tls, certificate) = plan_tls(
        &names,
        ca_secret.as_ref(),
        tls_secret.as_ref(),
        validity,
        Renew {
            serving: true,
            ca: req.new_ca,
        },
    )?;
    let TlsSource::Generated {
        ca,
        ca_bundle,
        serving,
    } = tls
    else {
        unreachable!("plan_tls makes certificates")
    };

    // 1. Trust the new CA before anything serves a certificate from it.
    if req.new_ca {
        reporter.step("adding the new CA to the webhook configurations");
        set_ca_bundle(&cluster, &names.mutating(), &mutating, &ca_bundle).await?;
        set_ca_bundle(&cluster, &names.validating(), &validating, &ca_bundle).await?;
    }
    // 2. The new certificate.
    let opts = ApplyOptions {
        overwrite: true,
        dry_run: DryRun::None,
    };
    let mut objects = apply_all(
        Some(&cluster),
        manifests::tls_secrets(&names, &ca, &ca_bundle, &serving),
        &opts,
        async { Ok(()) },
        reporter,
    )
    .await?;
    // 3. Restart the pods so they load it.
    reporter.step(&format!("restarting deployment/{}", names.name));
    let patch = json!({ "spec": { "template": { "metadata": { "annotations": { CERT_SERIAL_ANNOTATION: certificate.serial } } } } });
    merge_patch(&cluster, &names.deployment(), &patch).await?;
    objects.push(ObjectOutcome {
        action: super::Action::Configured,
        reason: Some("restarted".into()),
        ..skipped(&names.deployment(), "")
    });

    let mut ready = None;
    let mut old_ca_dropped = false;
    if req.wait {
        ready = Some(
            wait_ready(
                &cluster,
                &names,
                Duration::from_secs(req.timeout_secs),
                reporter,
            )
            .await?,
        );
        // 4. Every pod serves the new certificate: stop trusting the old CA.
        let only_new = tls::bundle(&[&ca.cert_pem]);
        if only_new != ca_bundle {
            reporter.step("dropping the old CA from the webhook configurations");
            for r in [names.mutating(), names.validating()] {
                let current = cluster::get(c, &r).await?.unwrap_or_default();
                set_ca_bundle(&cluster, &r, &current, &only_new).await?;
            }
            apply_all(
                Some(&cluster),
                manifests::tls_secrets(&names, &ca, &only_new, &serving),
                &opts,
                async { Ok(()) },
                reporter,
            )
            .await?;
            old_ca_dropped = true;
        }
    }
    Ok(RotateCertsOutcome {
        objects,
        certificate,
        ready,
        old_ca_dropped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret_with(pairs: &[(&str, &str)]) -> Value {
        let data: serde_json::Map<String, Value> = pairs
            .iter()
            .map(|(k, v)| {
                (
                    (*k).to_owned(),
                    serde_json::to_value(k8s_openapi::ByteString(v.as_bytes().to_vec())).unwrap(),
                )
            })
            .collect();
        json!({ "data": data })
    }

    #[test]
    fn tls_is_kept_until_close_to_expiry() {
        let names = Names::new("w", "n");
        let year = Duration::from_secs(365 * DAY);
        let (first, s1) = plan_tls(&names, None, None, year, Renew::default()).unwrap();
        assert!(s1.issued && s1.new_ca);
        let TlsSource::Generated {
            ca,
            ca_bundle,
            serving,
        } = first
        else {
            unreachable!()
        };
        let ca_s = secret_with(&[
            ("tls.crt", &ca.cert_pem),
            ("tls.key", &ca.key_pem),
            ("ca-bundle.crt", &ca_bundle),
        ]);
        let tls_s = secret_with(&[
            ("tls.crt", &serving.cert_pem),
            ("tls.key", &serving.key_pem),
        ]);
        let (again, s2) =
            plan_tls(&names, Some(&ca_s), Some(&tls_s), year, Renew::default()).unwrap();
        assert!(!s2.issued && !s2.new_ca);
        assert_eq!(
            again,
            TlsSource::Generated {
                ca: ca.clone(),
                ca_bundle: ca_bundle.clone(),
                serving: serving.clone()
            }
        );

        // A serving certificate 20 days from expiry is renewed by the same CA.
        let short = tls::issue_serving(
            &ca,
            &tls::service_dns_names("w", "n"),
            Duration::from_secs(20 * DAY),
        )
        .unwrap();
        let short_s = secret_with(&[("tls.crt", &short.cert_pem), ("tls.key", &short.key_pem)]);
        let (_, s3) =
            plan_tls(&names, Some(&ca_s), Some(&short_s), year, Renew::default()).unwrap();
        assert!(s3.issued && !s3.new_ca);

        // A new CA keeps the old one in the bundle; the new certificate verifies with it.
        let (rotated, s4) = plan_tls(
            &names,
            Some(&ca_s),
            Some(&tls_s),
            year,
            Renew {
                serving: true,
                ca: true,
            },
        )
        .unwrap();
        assert!(s4.issued && s4.new_ca);
        let TlsSource::Generated {
            ca: new_ca,
            ca_bundle: both,
            serving: new_serving,
        } = rotated
        else {
            unreachable!()
        };
        assert_ne!(new_ca, ca);
        assert_eq!(tls::certs_of(&both).unwrap().len(), 2);
        tls::verify(&both, &new_serving.cert_pem, "w.n.svc", tls::now()).unwrap();
        tls::verify(&both, &serving.cert_pem, "w.n.svc", tls::now()).unwrap();
    }

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
