//! `status`: what is installed and whether it works: the CRD, the Deployment, the webhook
//! configurations, the certificate, and how many credential specs the cluster holds.

use kube::api::ListParams;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::tls_plan::{rfc3339, secret_text, RENEW_WITHIN_DAYS};
use crate::cluster::object::{get_many, list_all, DEFAULT_CHUNK_SIZE};
use crate::cluster::tls::{self};
use crate::cluster::version::server_version_warm;
use crate::cluster::wait::rollout_done;
use crate::cluster::webhook::{Names, CERT_MANAGER_INJECT};
use crate::cluster::{self, crd, Cluster, Target};
use crate::credspec;
use crate::error::Result;
use crate::progress::Reporter;

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
    let names = Names::checked(req.name.as_deref(), req.namespace.as_deref())?;
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
pub(crate) async fn credspec_names(cluster: &Cluster) -> Result<Vec<String>> {
    let mut out = vec![];
    list_all(
        cluster,
        &format!("{}/{}", credspec::GROUP, credspec::VERSION),
        credspec::KIND,
        credspec::PLURAL,
        None,
        Some(DEFAULT_CHUNK_SIZE),
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
